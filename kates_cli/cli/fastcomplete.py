"""The fast path of shell completion: the names of a `kates get KIND <TAB>`, answered without building the click
command; and the words of every shell's request, as both paths read them.

A shell asks at every TAB, and building the typer/click command tree to resolve the completion context costs more
than looking the names up (cli/completionnames.py keeps them a few seconds). `answer` reads the commonest request,
names of objects of one kind after `get`, by the same rules as argv.normalize and cli/completion.py's `rewrite`, and
prints what the full path prints. Anything else returns None, and cli/completion.py answers through click.

Invariants:
- Both paths read a request's words here (`completion_args`), so they read the same words: for zsh and fish as
  click's `<shell>_complete` protocol reads them; for bash, joined back into the arguments the command would get.
  Bash cuts a word at each character of COMP_WORDBREAKS: `--namespace=foo` arrives as `--namespace`, `=`, `foo`,
  `-n=foo` as `-n`, `=`, `foo`, `kubernetes-admin@kind` and `system:x` in three words too (`--namespace=<TAB>`
  completes the word `=`). A word made of `=`, `:` and `@` alone is joined to the words it touches (`bash_words`):
  COMP_LINE, which the committed script passes, tells whether they touch, so `--namespace= foo` stays two
  arguments and `-n =x` gives -n the value `=x`, as the command would read them; without COMP_LINE (a script from
  before it) they are taken to touch, an empty word excepted.
- Bash replaces only the text after the last of those characters: `cut`, the part of the word being completed up to
  it (`--namespace=` of `--namespace=fo`), is taken off the front of every value either path offers bash (a value
  not starting with it is not offered).
- A request `answer` accepts prints what the full path prints for it (the same lines, in the same order, through the
  same lookup: completionnames.client_for and completionnames.matching), for bash, zsh and fish (click's
  `<shell>_complete` protocol). The e2e tests of completion run on both paths (tests/e2e/test_completion.py).
- `answer` accepts only: the word `get`, then a kind and names (no word starting with "-"), and the global options
  -n/--namespace, --context and --kubeconfig with their values, anywhere, in argv.normalize's spellings (`-n NS`,
  `-nNS`, `-n=NS`, `-n=` meaning the namespace "=", `--namespace NS`, `--namespace=NS`; -n's values are lists,
  `-n a,b`); the word being completed is a name: it does not start with "-" and a kind was given before it (a word
  equal to it does not count, as in completion.kinds_then_names). Anything else (another command, another option,
  an option still waiting for its value, a value starting with "-") means the full path.
- Names of a `get` come from every namespace it reads (-n a,b: a's and b's, as `get` looks a name up in each), the
  full path's choice too (completion.object_names).
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


def completion_args(shell: str, environ: os._Environ[str] | dict[str, str]) -> tuple[list[str], str, str]:
    """The complete words after the program's name, the word being completed, and the part of that word the shell
    keeps (`cut`, bash's only): as click's `<Shell>Complete.get_completion_args` reads them from the environment its
    scripts set, bash's words joined back into arguments (`bash_words`). Raises KeyError, ValueError or IndexError
    when the variables are missing or malformed."""
    if shell == "bash":
        return bash_words(environ["COMP_WORDS"], int(environ["COMP_CWORD"]), environ.get("COMP_LINE"))
    cwords = split_arg_string(environ["COMP_WORDS"])
    if shell == "fish":
        incomplete = environ["COMP_CWORD"]
        if incomplete:
            incomplete = split_arg_string(incomplete)[0]
        args = cwords[1:]
        if incomplete and args and args[-1] == incomplete:
            args.pop()
        return args, incomplete, ""
    cword = int(environ["COMP_CWORD"])
    args = cwords[1:cword]
    incomplete = cwords[cword] if cword < len(cwords) else ""
    return args, incomplete, ""


BREAKS = frozenset("=:@")  # the characters of bash's COMP_WORDBREAKS that stand inside an argument


def _breaks(word: str) -> bool:
    return bool(word) and all(c in BREAKS for c in word)


def _touching(raw: list[str], line: str) -> list[bool] | None:
    """For each of bash's words as typed (`raw`: COMP_WORDS), whether it touches the word before it in COMP_LINE;
    None when the words are not found in the line, in order."""
    touching: list[bool] = []
    at = 0
    for word in raw:
        start = at
        while start < len(line) and line[start] in " \t\n":
            start += 1
        if not line.startswith(word, start):
            return None
        touching.append(bool(touching) and start == at)
        at = start + len(word)
    return touching


def bash_words(comp_words: str, cword: int, line: str | None = None) -> tuple[list[str], str, str]:
    """Bash's request (COMP_WORDS as the script passes it, one word a line; COMP_CWORD; COMP_LINE when the script
    passes it) as the arguments before the word being completed, that word, and `cut` (see the module's invariants).
    `--namespace`, `=`, `foo` -> `--namespace=foo`."""
    cwords = split_arg_string(comp_words)
    words = [*cwords[:cword], cwords[cword] if cword < len(cwords) else ""]
    if cword < 1:
        return cwords[1:cword], words[-1], ""
    raw = comp_words.split("\n")
    aligned = len(raw) == len(cwords) or (len(raw) == len(cwords) + 1 and raw[-1] == "")
    touching = _touching(raw[: cword + 1], line) if line is not None and aligned else None
    joined: list[str] = []
    for i in range(1, len(words)):
        word, before = words[i], words[i - 1]
        glue = (
            i >= 2
            and word != ""
            and (_breaks(word) or _breaks(before))
            and (touching is None or i >= len(touching) or touching[i])
        )
        if glue:
            joined[-1] += word
        else:
            joined.append(word)
    incomplete = joined.pop()
    typed = "" if _breaks(words[-1]) else words[-1]  # readline replaces the text after the last break
    return joined, incomplete, incomplete[: len(incomplete) - len(typed)]


def offered(values: list[str], cut: str) -> list[str]:
    """The values as the shell gets them: with `cut` taken off the front (bash), those not starting with it dropped."""
    if not cut:
        return values
    return [v[len(cut) :] for v in values if v.startswith(cut)]


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
                if i >= len(args) or args[i].startswith("-"):
                    return None
                value, i = args[i], i + 1
        elif arg == "-n":
            if i >= len(args) or args[i].startswith("-"):
                return None
            name, value, i = "-n", args[i], i + 1
        elif arg.startswith("-n="):
            name, value = "-n", arg[3:] or "="  # pflag: `-n=` alone is the value "=" (argv.normalize)
        elif arg.startswith("-n") and not arg.startswith("--"):
            name, value = "-n", arg[2:]  # `-nNS`
        else:
            return None
        options[_VALUES[name]].append(value)
    given = [w for w in words if w != incomplete]
    if not command or not given:
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
        args, incomplete, cut = completion_args(shell, environ)
    except (KeyError, ValueError, IndexError):
        return None
    request = parse(args, incomplete)
    if request is None:
        return None
    sys.stdout.write(format_names(shell, offered(lookup(request), cut)))
    return 0


def lookup(request: NamesRequest) -> list[str]:
    """The names `completion.object_names` offers for the request (nothing when anything fails)."""
    try:
        from .completionnames import client_for, matching

        client, several = client_for(request.kubeconfig, request.context, request.namespace)
        try:
            return matching(client, request.kind, request.incomplete, several)
        finally:
            client.close()
    except Exception:  # completion must never show a traceback
        return []
