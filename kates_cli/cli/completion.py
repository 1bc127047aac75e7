"""Shell completion: bash, zsh and fish scripts (generated, committed under completions/), the kubectl plugin's
`kubectl_complete-kates`, and dynamic completion of kinds, names and namespaces.

Invariants:
- Completion never prints a traceback and never blocks for long: cluster lookups use a short timeout
  (COMPLETION_TIMEOUT) and any failure completes nothing.
- Kinds come from the on-disk discovery cache when there is one (no network); names and namespaces from the cluster.
"""

from __future__ import annotations

import os
import shlex
import sys
from typing import Any

import typer

COMPLETE_VAR = "_KATES_COMPLETE"
COMPLETION_TIMEOUT = 2.0
SHELLS = {"bash": "kates.bash", "zsh": "_kates", "fish": "kates.fish"}


def _command() -> Any:
    from .app import app

    return typer.main.get_command(app)


def script(shell: str) -> str:
    """The completion script for `shell`, as click generates it for our command tree."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    assert cls is not None
    return str(cls(_command(), {}, "kates", COMPLETE_VAR).source())


def hoisted_words(words: list[str], cword: int) -> tuple[list[str], int]:
    """Move global options before the subcommand in a completion request, as `main` does for a real run; a global
    option whose value is being completed stays last."""
    from .app import GLOBAL_OPTIONS, hoist_globals

    args, incomplete = words[1:cword], words[cword] if cword < len(words) else ""
    tail: list[str] = []
    if args and GLOBAL_OPTIONS.get(args[-1]):
        tail = [args.pop()]
    args = hoist_globals(args) + tail
    return [words[0] if words else "kates", *args, incomplete], len(args) + 1


def run_shell_completion(instruction: str) -> int:
    """Answer a shell's completion request (the `_KATES_COMPLETE=<shell>_complete` protocol)."""
    from click.shell_completion import shell_complete, split_arg_string

    if "COMP_WORDS" in os.environ and "COMP_CWORD" in os.environ:
        try:
            words, cword = hoisted_words(split_arg_string(os.environ["COMP_WORDS"]), int(os.environ["COMP_CWORD"]))
            os.environ["COMP_WORDS"] = shlex.join(words)
            os.environ["COMP_CWORD"] = str(cword)
        except ValueError:
            pass
    return int(shell_complete(_command(), {}, "kates", COMPLETE_VAR, instruction))


def kubectl_complete(argv: list[str] | None = None) -> int:
    """`kubectl_complete-kates __complete ARGS... INCOMPLETE`: cobra's protocol, one candidate per line, then
    `:4` (no file completion). kubectl 1.26+ runs it for `kubectl kates <TAB>`."""
    from click.shell_completion import ShellComplete

    from .app import hoist_globals

    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("__complete", "__completeNoDesc"):
        args = args[1:]
    incomplete = args.pop() if args else ""
    try:
        items = ShellComplete(_command(), {}, "kates", COMPLETE_VAR).get_completions(hoist_globals(args), incomplete)
        for item in items:
            sys.stdout.write(f"{item.value}\t{item.help}\n" if item.help else f"{item.value}\n")
    except Exception:  # completion must never show a traceback
        pass
    sys.stdout.write(":4\n")
    return 0


def kubectl_complete_main() -> None:
    sys.exit(kubectl_complete())


# -- dynamic values ------------------------------------------------------------------------------------------------


def _client(ctx: Any) -> Any:
    from ..core.client import Client

    root = ctx.find_root()
    params = root.params if root is not None else {}
    ns = params.get("namespace") or None
    return Client(params.get("kubeconfig"), params.get("context"), ns[-1] if ns else None, COMPLETION_TIMEOUT)


def kinds(ctx: Any, incomplete: str) -> list[str]:
    """Resource kinds: plural names and short names, from cached discovery."""
    try:
        from .info import preferred

        client = _client(ctx)
        cached = client.discovery._read_cache()  # no network when a cache exists, however old
        from ..core.mapping import parse_discovery

        refs = parse_discovery(*cached) if cached else client.discovery.refresh()
        names = set()
        for ref in preferred(refs):
            if "list" in ref.verbs:
                names.add(ref.resource)
                names.update(ref.short_names)
        return sorted(n for n in names if n.startswith(incomplete))
    except Exception:
        return []


def kinds_then_names(ctx: typer.Context, args: list[str], incomplete: str) -> list[str]:
    """First argument: a kind; later arguments: names of objects of that kind."""
    given = [a for a in (ctx.params.get("args") or ctx.params.get("targets") or []) if a != incomplete]
    if not given:
        if "/" in incomplete:
            kind = incomplete.split("/", 1)[0]
            return [f"{kind}/{n}" for n in object_names(ctx, kind, incomplete.split("/", 1)[1])]
        return kinds(ctx, incomplete)
    return object_names(ctx, given[0].split(",")[0], incomplete)


def object_names(ctx: Any, kind: str, incomplete: str) -> list[str]:
    try:
        client = _client(ctx)
        ref = client.resolve(kind)
        names = []
        for page in client.list_pages(ref, chunk_size=500):
            names += [i["metadata"]["name"] for i in page.get("items") or []]
            break
        return sorted(n for n in names if n.startswith(incomplete))
    except Exception:
        return []


def namespaces(ctx: typer.Context, args: list[str], incomplete: str) -> list[str]:
    return object_names(ctx, "namespaces", incomplete)


def enabled() -> str | None:
    """The completion instruction when the shell asked for completion, else None."""
    return os.environ.get(COMPLETE_VAR)
