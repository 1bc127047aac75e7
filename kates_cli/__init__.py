"""kates: a kubectl-like client with a coherent, coalescing multi-kind watch.

The Python API is re-exported here and imported lazily, so `import kates_cli` stays cheap:

    from kates_cli import Client
    with Client() as client:
        for svc in client.list("svc")["items"]:
            print(svc["metadata"]["name"])
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Client", "ResourceRef", "__version__"]

if TYPE_CHECKING:
    from .core.client import Client
    from .core.mapping import ResourceRef


def __getattr__(name: str) -> Any:
    if name == "Client":
        from .core.client import Client

        return Client
    if name == "ResourceRef":
        from .core.mapping import ResourceRef

        return ResourceRef
    if name in ("errors", "ExitCode"):
        from . import errors

        return errors if name == "errors" else errors.ExitCode
    raise AttributeError(name)
