"""The fast path of `kates get`: the commonest command lines, parsed without building the click command.

Start-up is most of a small `kates get`: importing typer and click and building the command tree costs more than the
request itself. `parse` reads the command lines people type most (a plain `get` printing a table, names, JSON or
YAML) by kubectl's flag grammar (pflag, as cli/argv.py rewrites it for click), and `run` hands what it read to
`get.run`, the same function the click command calls, with the same `State` (`state.from_options`). Anything else
returns None from `parse`, and cli/app.py takes the full path.

Invariants:
- A command line `parse` accepts gives the same values to `get.run` as the full path would: the same stdout, stderr
  and exit code. The parity tests of `get` run on both paths (tests/e2e/conftest.py, `get_path`).
- `parse` accepts only what it knows (cli/fastargs.py's grammar): the word `get`, then kinds and names, and these
  options, anywhere (global ones included): -n/--namespace, --context, --kubeconfig, -A/--all-namespaces,
  -l/--selector, --field-selector, and -o/--output with json, yaml, name or wide. Anything else means the full path.
- Never the fast path: with KATES_NO_FASTPATH=1 (the tests' switch), inside a `kates watch` hook (its reads are
  answered by the watcher: cli/hookreads.py) and when a kuberc may apply (cli/app.py decides that, before `parse`).
- Importing this module imports nothing outside the standard library's `os`; `run` imports only what `get` needs.
- `run` collects cyclic garbage less often (GC_THRESHOLD): a one-shot `get` creates few cycles, and start-up is
  mostly allocations that live as long as the process.
"""

from __future__ import annotations

import os

from .fastargs import scan  # imports nothing

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start
if TYPE_CHECKING:
    from typing import Any

DISABLE_ENV = "KATES_NO_FASTPATH"
RUN_ENV = "KATES_RUN"  # set for a hook run, recorded or replayed, beside core/hookenv's variables
OUTPUTS = frozenset({"json", "yaml", "name", "wide"})
GC_THRESHOLD = 20_000  # allocations between collections of the youngest generation (CPython's default: 700)

# option spelling -> the key its value is stored under; every one takes a value
_VALUES = {
    "-n": "namespace",
    "--namespace": "namespace",
    "--context": "context",
    "--kubeconfig": "kubeconfig",
    "-l": "selector",
    "--selector": "selector",
    "--field-selector": "field_selector",
    "-o": "output",
    "--output": "output",
}
_FLAGS = {"-A": "all_namespaces", "--all-namespaces": "all_namespaces"}
_LISTS = frozenset({"namespace"})


class FastGet:
    """A `kates get` command line as `parse` read it."""

    __slots__ = ("all_namespaces", "args", "context", "field_selector", "kubeconfig", "namespace", "output", "selector")

    def __init__(self) -> None:
        self.args: list[str] = []
        self.namespace: list[str] = []
        self.context: str | None = None
        self.kubeconfig: str | None = None
        self.selector: str | None = None
        self.field_selector: str | None = None
        self.output: str | None = None
        self.all_namespaces = False

    def __repr__(self) -> str:
        return f"FastGet({', '.join(f'{k}={getattr(self, k)!r}' for k in self.__slots__)})"


def enabled(environ: os._Environ[str] | dict[str, str] = os.environ) -> bool:
    """Whether the fast path may be taken at all in this environment."""
    if environ.get(DISABLE_ENV, "") not in ("", "0"):
        return False
    from ..core.hookenv import in_hook  # imports nothing

    return not (in_hook(environ) or environ.get(RUN_ENV))


def parse(argv: list[str]) -> FastGet | None:
    """`argv` (without the program name) as a plain `get`, or None when the full path must read it."""
    scanned = scan(argv, "get", _VALUES, _FLAGS, lists=_LISTS)
    if scanned is None:
        return None
    found, args = scanned
    if found.get("output", "json") not in OUTPUTS or "" in args:  # an empty name: the full path refuses it
        return None
    out = FastGet()
    out.args = args
    for key, value in found.items():
        setattr(out, key, value)
    return out


def run(fast: FastGet) -> int:
    """Run a parsed `get` as the click command would (cli/getcommand.py), through `fastargs.run` (the State, and
    interruptions as click ends them)."""
    import gc

    # A one-shot command allocates mostly what it keeps (modules, classes) or frees by reference counting (pages of
    # JSON dicts, which hold no cycles): collecting every 700 allocations only rescans the imports, several
    # milliseconds of a start-up this path exists to shorten.
    gc.set_threshold(GC_THRESHOLD, 10, 10)
    from . import fastargs
    from .get import run as get

    def command(state: Any) -> int:
        get(
            state,
            fast.args,
            all_namespaces=fast.all_namespaces,
            selector=fast.selector,
            field_selector=fast.field_selector,
            output=fast.output,
        )
        return 0

    return fastargs.run(fast.kubeconfig, fast.context, fast.namespace, command)
