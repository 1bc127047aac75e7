"""kates: a kubectl-like client with a coherent, coalescing multi-kind watch.

The Python API is re-exported here and imported lazily, so `import kates_cli` stays cheap:

    from kates_cli import Client
    with Client() as client:
        for svc in client.list("svc")["items"]:
            print(svc["metadata"]["name"])
"""

import _signal  # type: ignore[import-not-found]  # not signal: that imports enum, milliseconds at every start
import os as _os
import sys as _sys

# Run as the kates program, a Ctrl-C or SIGTERM from here until cli.app.main() takes over ends the process quietly
# with status 130: this is the first code of kates that runs, so start-up (imports included) never shows a
# KeyboardInterrupt traceback. Imported as a library, kates changes no signal handler. Before any other import, as
# each import widens the window: so no `from __future__ import annotations` here, which imports __future__ and searched
# the path for it while a signal could land in this module's first line (a CI run saw that traceback once). _signal is
# built in; os and sys are loaded before any program's first line.
_PROGRAMS = ("kates", "kubectl-kates", "kubectl_complete-kates")


_json_log = False  # `kates watch --log-format json`: the line is a JSON object (cli/app.py sets this)


def _exit_interrupted(signum: int, frame: object) -> None:
    """A signal handler: say so in one line and exit 130 at once, whatever was running."""
    line = b"error: interrupted\n"
    if _json_log:
        import time as _time  # loaded already: a builtin module

        now = _time.time()
        stamp = _time.strftime("%Y-%m-%dT%H:%M:%S", _time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        line = ('{"time":"' + stamp + '","level":"error","event":"error","msg":"interrupted"}\n').encode()
    try:
        _os.write(2, line)
    except OSError:
        pass
    _os._exit(130)


def _is_program() -> bool:
    argv: list[str] = getattr(_sys, "orig_argv", None) or []
    run_as_module = f"-m{__name__}" in argv or any(argv[i : i + 2] == ["-m", __name__] for i in range(len(argv)))
    name = _os.path.basename(_sys.argv[0] if getattr(_sys, "argv", None) else "")
    return run_as_module or name.removesuffix(".exe") in _PROGRAMS


if _is_program():
    if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:
        _signal.signal(_signal.SIGINT, _exit_interrupted)
    if _signal.getsignal(_signal.SIGTERM) == _signal.SIG_DFL:
        _signal.signal(_signal.SIGTERM, _exit_interrupted)

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds at every start

__version__ = "0.1.0"

__all__ = [
    "Accumulator",
    "Client",
    "Delta",
    "Dependency",
    "DependencyLimit",
    "InvalidObject",
    "LogEvent",
    "LogMux",
    "Query",
    "ResourceRef",
    "Selection",
    "Validator",
    "__version__",
    "by_name",
    "has_owner_reference",
    "merge_update",
    "owner_reference",
    "set_owner_references",
]

if TYPE_CHECKING:
    from typing import Any

    from .core.accumulator import Accumulator, Delta, Query
    from .core.client import Client
    from .core.dependencies import Dependency, DependencyLimit
    from .core.logs import LogEvent, LogMux
    from .core.mapping import ResourceRef
    from .core.objects import by_name, has_owner_reference, merge_update, owner_reference, set_owner_references
    from .core.selection import Selection
    from .core.validation import InvalidObject, Validator

_HOMES = {
    "Client": "client",
    "ResourceRef": "mapping",
    "Accumulator": "accumulator",
    "Delta": "accumulator",
    "Query": "accumulator",
    "Selection": "selection",
    "Dependency": "dependencies",
    "DependencyLimit": "dependencies",
    "LogEvent": "logs",
    "LogMux": "logs",
    "merge_update": "objects",
    "set_owner_references": "objects",
    "has_owner_reference": "objects",
    "owner_reference": "objects",
    "by_name": "objects",
    "Validator": "validation",
    "InvalidObject": "validation",
}


def __getattr__(name: str) -> "Any":
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(f".core.{_HOMES[name]}", __name__), name)
    if name in ("errors", "ExitCode"):
        from . import errors

        return errors if name == "errors" else errors.ExitCode
    raise AttributeError(name)
