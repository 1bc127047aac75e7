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

__all__ = ["Accumulator", "Client", "Delta", "LogEvent", "LogMux", "Query", "ResourceRef", "__version__"]

if TYPE_CHECKING:
    from .core.accumulator import Accumulator, Delta, Query
    from .core.client import Client
    from .core.logs import LogEvent, LogMux
    from .core.mapping import ResourceRef

_HOMES = {
    "Client": "client",
    "ResourceRef": "mapping",
    "Accumulator": "accumulator",
    "Delta": "accumulator",
    "Query": "accumulator",
    "LogEvent": "logs",
    "LogMux": "logs",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f".core.{_HOMES[name]}", __name__), name)
    if name in ("errors", "ExitCode"):
        from . import errors

        return errors if name == "errors" else errors.ExitCode
    raise AttributeError(name)
