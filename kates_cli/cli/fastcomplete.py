"""The fast path of shell completion: the names of a `kates get KIND <TAB>`, answered without building the click
command.

A shell asks at every TAB, and building the typer/click command tree to resolve the completion context costs more
than looking the names up (cli/completionnames.py keeps them a few seconds). `answer` reads the commonest request,
names of objects of one kind after `get`, by the same rules as click's parser and cli/completion.py's `rewrite`, and
prints what the full path prints. Anything else returns None, and cli/completion.py answers through click.

Invariants:
- A request `answer` accepts prints what the full path prints for it (the same lines, in the same order, through the
  same lookup: completionnames.matching), for bash, zsh and fish (click's `<shell>_complete` protocol). The e2e
  tests of completion run on both paths (tests/e2e/test_completion.py).
- `answer` accepts only: the word `get`, then a kind and names (no word starting with "-"), and the global options
  -n/--namespace, --context and --kubeconfig with their values (`-n NS`, `-nNS`, `--namespace NS`,
  `--namespace=NS`), anywhere; the word being completed is a name: it does not start with "-" and a kind was given
  before it (a word equal to it does not count, as in completion.kinds_then_names). Anything else (another command,
  another option, `=` split off by bash, an option still waiting for its value) means the full path.
- Importing this module imports nothing outside the standard library's `os` and `sys`; it never imports click or typer.
"""

from __future__ import annotations

import os
import sys

_VALUES = {"-n": "namespace", "--namespace": "namespace", "--context": "context", "--kubeconfig": "kubeconfig"}
_SHELLS = ("bash", "zsh", "fish")


def split_arg_string(string: str) -> list[str]:
    """Words as click's `shell_completion.split_arg_string` splits them (shlex, posix, no comments; an incomplete
    quote or escape keeps the partial word)."""
    import shlex

    lex = shlex.shlex(string, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out: list[str] = []
    try:
        out.extend(lex)
    except ValueError:
        out.append(lex.token)
    return out


def completion_args(shell: str, environ: os._Environ[str] | dict[str, str]) -> tuple[list[str], str]:
    """The complete words after the program's name and the word being completed, as click's `<Shell>Complete
    .get_completion_args` reads them from the environment its scripts set. Raises KeyError, ValueError or
    IndexError when the variables are missing or malformed (click's path answers those)."""
    cwords = split_arg_string(environ["COMP_WORDS"])
    if shell == "fish":
        incomplete = environ["COMP_CWORD"]
        if incomplete:
            incomplete = split_arg_string(incomplete)[0]
        args = cwords[1:]
        if incomplete and args and args[-1] == incomplete:
            args.pop()
        return args, incomplete
    cword = int(environ["COMP_CWORD"])
    args = cwords[1:cword]
    incomplete = cwords[cword] if cword < len(cwords) else ""
    return args, incomplete


class NamesRequest:
    """A completion request for names, as `parse` read it."""

    __slots__ = ("context", "incomplete", "kind", "kubeconfig", "namespace")

    def __init__(self, kind: str, incomplete: str) -> None:
        self.kind = kind
        self.incomplete = incomplete
        self.namespace: list[str] = []
        self.context: str | None = None
        self.kubeconfig: str | None = None


def parse(args: list[str], incomplete: str) -> NamesRequest | None:
    """The request for names of a kind after `get`, or None when click must read it."""
    if incomplete.startswith("-"):
        return None
    options: dict[str, list[str]] = {"namespace": [], "context": [], "kubeconfig": []}
    words: list[str] = []
    command = False
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if not arg.startswith("-"):
            if command:
                words.append(arg)
            elif arg == "get":
                command = True
            else:
                return None
            continue
        name, eq, value = arg.partition("=")
        if arg.startswith("--") and name in _VALUES:
            if not eq:
                if i >= len(args) or args[i].startswith("-") or args[i] == "=":
                    return None
                value, i = args[i], i + 1
        elif arg == "-n":
            if i >= len(args) or args[i].startswith("-") or args[i] == "=":
                return None
            name, value, i = "-n", args[i], i + 1
        elif arg.startswith("-n") and not arg.startswith("--") and not arg.startswith("-n="):
            name, value = "-n", arg[2:]  # `-nNS` (completion.rewrite moves it as `-n NS`)
        else:
            return None
        options[_VALUES[name]].append(value)
    given = [w for w in words if w != incomplete]
    if not command or not given or any(w == "=" for w in words):
        return None
    request = NamesRequest(given[0].split(",")[0], incomplete)
    request.namespace = options["namespace"]
    request.context = options["context"][-1] if options["context"] else None
    request.kubeconfig = options["kubeconfig"][-1] if options["kubeconfig"] else None
    return request


def format_names(shell: str, names: list[str]) -> str:
    """The lines click's `<Shell>Complete.format_completion` writes for plain items without help."""
    if shell == "zsh":
        lines = [f"plain\n{name}\n_" for name in names]
    else:
        lines = [f"plain,{name}" for name in names]
    return "\n".join(lines) + "\n"


def answer(instruction: str, environ: os._Environ[str] | dict[str, str] = os.environ) -> int | None:
    """Answer `_KATES_COMPLETE=<shell>_complete` for names after `get` (print them, return 0), or return None when the
    full path (cli/completion.py, through click) must answer."""
    shell, _, action = instruction.partition("_")
    if shell not in _SHELLS or action != "complete":
        return None
    try:
        args, incomplete = completion_args(shell, environ)
    except (KeyError, ValueError, IndexError):
        return None
    request = parse(args, incomplete)
    if request is None:
        return None
    sys.stdout.write(format_names(shell, lookup(request)))
    return 0


def lookup(request: NamesRequest) -> list[str]:
    """The names `completion.object_names` offers for the request (nothing when anything fails)."""
    from .completionnames import COMPLETION_TIMEOUT, matching

    try:
        from ..core.client import Client

        ns = request.namespace
        client = Client(request.kubeconfig, request.context, ns[-1] if ns else None, COMPLETION_TIMEOUT)
        try:
            return matching(client, request.kind, request.incomplete)
        finally:
            client.close()
    except Exception:  # completion must never show a traceback
        return []
