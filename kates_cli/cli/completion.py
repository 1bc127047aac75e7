"""Shell completion: the bash, zsh and fish scripts (generated, committed under completions/, installed by the wheel
under share/, printed by `kates completion SHELL`), the kubectl plugin's `kubectl_complete-kates`, and the values
completed: kinds, names, namespaces, contexts, output formats and manifest files.

Invariants:
- Completion never prints a traceback and never blocks for long: cluster lookups use a short timeout
  (completionnames.COMPLETION_TIMEOUT) and any failure completes nothing.
- Kinds come from the on-disk discovery cache when there is one (no network); names and namespaces from the cluster,
  all of them, through a short-lived cache (cli/completionnames.py: one small Table request, kept TTL_SECONDS);
  contexts from the kubeconfig files alone.
- The names after `get KIND` are answered for bash, zsh and fish without building this command tree
  (cli/fastcomplete.py), with the same lines; this module answers everything else, through click.
- Every protocol (bash, zsh, fish, the kubectl plugin) sees the command line as `main` does. The words are read as
  the fast path reads them (fastcomplete.completion_args): bash's, which bash cuts at "=", ":" and "@"
  (`--namespace`, `=`, `foo`), are joined back into the arguments the command gets, and bash is offered only the
  text after the last of those characters. Then `rewrite` hands click what argv.normalize makes of them (`-n=NS`,
  `-nNS`, groups such as `-wnNS`, global options in front, `--long=VALUE`), so `-n NS` anywhere chooses the
  namespace whose names are completed, and the value of an option is completed as normalize reads it (`-n=<TAB>`,
  `-n<VALUE><TAB>`, `--namespace=<TAB>`; `get -n <TAB>` offers namespaces, not kinds, completed by the root command).
- Names come from the namespaces the command reads (`object_names`): a `get` reads each -n namespace (`-n a,b`
  offers a's and b's names, as `get` looks a name up in each), another command the last one; -n's value completes
  one namespace of a list at a time (`-n a,<TAB>` offers `a,b`). The client is made from the global options as
  state.from_options makes it (completionnames.client_for).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click
import typer
from click.shell_completion import BashComplete, CompletionItem, FishComplete, ShellComplete, ZshComplete

from ..errors import UsageError
from .app import COMPLETE_VAR

if TYPE_CHECKING:
    from .argv import Spec

SHELLS = {"bash": "kates.bash", "zsh": "_kates", "fish": "kates.fish"}
MANIFEST_EXTENSIONS = ("json", "yaml", "yml")  # what -f reads, in the order kubectl's completion lists them
PATH_ITEM = "path"  # a completion item naming a file, or a directory (ending in "/"); the scripts treat it as one


# -- the scripts ----------------------------------------------------------------------------------------------------


def _insert(template: str, before: str, text: str) -> str:
    if before not in template:  # a click upgrade changed its script: fail loudly rather than drop path completion
        raise RuntimeError(f"click's completion script changed; cannot find {before.strip()!r}")
    return template.replace(before, text + before, 1)


class _Bash(BashComplete):
    # -o filenames: a directory gets its "/" and no space after it, special characters are quoted. COMP_LINE: which
    # of the words bash cut at "=", ":" or "@" touch, to join them back (fastcomplete.bash_words)
    source_template = _insert(
        _insert(
            BashComplete.source_template,
            "        elif [[ $type == 'plain' ]]; then\n",
            "        elif [[ $type == 'path' ]]; then\n"
            "            compopt -o filenames\n"
            '            COMPREPLY+=("$value")\n',
        ),
        " %(complete_var)s=bash_complete $1)",
        ' COMP_LINE="$COMP_LINE"',
    )

    def source(self) -> str:  # without click's check of the local bash version: the script is the same for all
        return ShellComplete.source(self)


class _Zsh(ZshComplete):
    source_template = _insert(
        ZshComplete.source_template,
        '        elif [[ "$type" == "dir" ]]; then\n',
        '        elif [[ "$type" == "path" ]]; then\n'
        '            if [[ "$key" == */ ]]; then\n'
        "                compadd -U -S '' -- \"$key\"\n"
        "            else\n"
        '                compadd -U -- "$key"\n'
        "            fi\n",
    )


class _Fish(FishComplete):
    source_template = _insert(
        FishComplete.source_template,
        '        else if test $metadata[1] = "plain";\n',
        '        else if test $metadata[1] = "path";\n            string join "," $metadata[2..-1];\n',
    )


_CLASSES: dict[str, type[ShellComplete]] = {"bash": _Bash, "zsh": _Zsh, "fish": _Fish}


def _command() -> Any:
    from .root import app

    return typer.main.get_command(app)


def script(shell: str) -> str:
    """The completion script for `shell`, for our command tree."""
    return _CLASSES[shell](_command(), {}, "kates", COMPLETE_VAR).source()


def register(app: typer.Typer) -> None:
    app.command("completion")(completion)


def completion(
    args: list[str] = typer.Argument(None, metavar="SHELL", autocompletion=lambda: sorted(SHELLS)),
) -> None:
    """Print the shell completion script for bash, zsh or fish.

    Load it into the current shell with `source <(kates completion bash)` (or zsh), or `kates completion fish |
    source`. pip installs the same scripts where bash-completion, zsh and fish look for them, under the install
    prefix: share/bash-completion/completions/kates, share/zsh/site-functions/_kates and
    share/fish/vendor_completions.d/kates.fish.
    """
    if not args:
        raise UsageError("Shell not specified.", hint="see 'kates completion --help'")
    if len(args) > 1:
        raise UsageError("Too many arguments. Expected only the shell type.", hint="see 'kates completion --help'")
    if args[0] not in SHELLS:
        raise UsageError(f'Unsupported shell type "{args[0]}".', hint="see 'kates completion --help'")
    sys.stdout.write(script(args[0]))


# -- the requests ---------------------------------------------------------------------------------------------------


PROBE = "\0"  # stands for the word being completed while argv.normalize reads the line: no shell passes a NUL


def rewrite(args: list[str], incomplete: str, root: click.Command | None = None) -> tuple[list[str], str, str]:
    """A completion request (the complete words after the program's name, and the word being completed) as click
    must see it: the words as `main` passes them to click (argv.normalize: `-n=NS`, `-nNS`, option groups, global
    options first, `--long=VALUE`); the value of an option completed as the value of its long spelling, a global
    option's by the root command, after the other global options only. Returns the words, the word, and a prefix for
    every value offered: the part of the word before the value when the word holds the option too (`--context=`,
    `-n=`, `-n`), which the shells replace whole."""
    from .argv import find_command, normalize, option_table

    root = root if root is not None else _command()
    words = list(args)
    if not isinstance(root, click.Group):
        return words, incomplete, ""
    # normalize reads the line with PROBE for the word: PROBE ends up in the value of the option the word holds
    # (`--namespace=fo`, `-nfo`, `-wn=fo`), or of the option before it (`-n <TAB>`), or stands alone (an argument)
    in_word = incomplete.startswith("-") and incomplete != "-"
    line = [*words, incomplete + PROBE if in_word else PROBE]
    try:
        tokens = normalize(line, root)
    except UsageError:  # `--watch=maybe`: no option's value
        tokens = []
    ctx = click.Context(root, info_name="kates")
    at = find_command(line, root, ctx)
    sub = root.get_command(ctx, line[at]) if at is not None else None
    table = {**option_table(root, is_global=True), **(option_table(sub) if sub is not None else {})}
    found = next((i for i, token in enumerate(tokens) if PROBE in token), None)
    value = _value_of(tokens[found], table) if found is not None else None
    if found is not None and value is not None:
        spelling, typed = value
        prefix = incomplete[: len(incomplete) - len(typed)] if in_word else ""
        if not in_word or prefix.endswith("=") or typed:  # else `-n` or `-wn`: an option's name, which click offers
            del tokens[found]
            if table[spelling][0].is_global:
                return [*_leading_globals(tokens, table), spelling], typed if in_word else incomplete, prefix
            return [*tokens, spelling], typed if in_word else incomplete, prefix
    try:
        return normalize(words, root), incomplete, ""
    except UsageError:  # a line `main` refuses: click reads the words as they are
        return words, incomplete, ""


def _value_of(token: str, table: dict[str, tuple[Spec, bool]]) -> tuple[str, str] | None:
    """(the option's spelling, its value without PROBE) when argv.normalize made `token` an option's value."""
    if not token.endswith(PROBE):
        return None
    name, eq, value = token.partition("=")
    spec = table.get(name)
    if eq and spec is not None and spec[0].takes_value and name == spec[0].long:
        return name, value[: -len(PROBE)]
    spec = table.get(token[:2])
    if spec is not None and spec[0].takes_value and spec[0].long is None and token[:2] == spec[0].short:
        return token[:2], token[2 : -len(PROBE)]
    return None


def _leading_globals(tokens: list[str], table: dict[str, tuple[Spec, bool]]) -> list[str]:
    """The global options argv.normalize put in front of everything else."""
    front = []
    for token in tokens:
        spec = table.get(token.partition("=")[0])
        if spec is None or not spec[0].is_global:
            break
        front.append(token)
    return front


def _completions(comp: ShellComplete, args: list[str], incomplete: str) -> tuple[list[CompletionItem], str]:
    try:
        args, incomplete, prefix = rewrite(args, incomplete, comp.cli)
        return comp.get_completions(args, incomplete), prefix
    except Exception:  # completion must never show a traceback
        return [], ""


def run_shell_completion(instruction: str) -> int:
    """Answer a shell's request: `_KATES_COMPLETE=<shell>_complete` (or `<shell>_source`), as click's protocol; the
    words read as the fast path reads them (fastcomplete.completion_args: bash's joined back into arguments)."""
    from .fastcomplete import completion_args, offered

    shell, _, action = instruction.partition("_")
    cls = _CLASSES.get(shell)
    if cls is None or action not in ("source", "complete"):
        return 1
    comp = cls(_command(), {}, "kates", COMPLETE_VAR)
    if action == "source":
        sys.stdout.write(comp.source())
        return 0
    try:
        args, incomplete, cut = completion_args(shell, os.environ)
    except (KeyError, ValueError, IndexError):  # not called by our script
        return 1
    items, prefix = _completions(comp, args, incomplete)
    lines = []
    for item in items:
        for value in offered([prefix + item.value], cut):
            lines.append(comp.format_completion(CompletionItem(value, type=item.type, help=item.help)))
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def kubectl_complete(argv: list[str] | None = None) -> int:
    """`kubectl_complete-kates ARGS... INCOMPLETE` (kubectl 1.26+ runs it for `kubectl kates <TAB>`; `__complete`
    first is accepted too): cobra's protocol, one candidate per line, then the directive. Manifest files are left to
    the shell, filtered by extension as kubectl's own -f (`json`, `yaml`, `yml`, then `:8`); otherwise `:4`, no file
    completion. The words come whole (cobra's scripts join `--namespace=foo` back); the value of `-n=fo` or
    `--namespace=fo` is offered without its `-n=`, which cobra's scripts put back, as for cobra's own flags."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("__complete", "__completeNoDesc"):
        args = args[1:]
    incomplete = args.pop() if args else ""
    items, prefix = _completions(ShellComplete(_command(), {}, "kates", COMPLETE_VAR), args, incomplete)
    if prefix.endswith("="):
        prefix = ""
    if any(i.type == PATH_ITEM for i in items):
        sys.stdout.write("".join(f"{ext}\n" for ext in MANIFEST_EXTENSIONS) + ":8\n")
        return 0
    for item in items:
        value = prefix + item.value
        sys.stdout.write(f"{value}\t{item.help}\n" if item.help else f"{value}\n")
    sys.stdout.write(":4\n")
    return 0


def kubectl_complete_main() -> None:
    sys.exit(kubectl_complete())


# -- dynamic values ------------------------------------------------------------------------------------------------


def _client(ctx: Any) -> tuple[Any, list[str]]:
    """The client for the root command's options, and the namespaces a `get` reads (completionnames.client_for)."""
    from .completionnames import client_for

    root = ctx.find_root()
    params = root.params if root is not None else {}
    return client_for(params.get("kubeconfig"), params.get("context"), params.get("namespace"))


def kinds(ctx: Any, incomplete: str) -> list[str]:
    """Resource kinds: plural names and short names, from cached discovery."""
    try:
        from .info import preferred

        client, _ = _client(ctx)
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
    """Names of `kind` objects (every one, however many) in the namespaces the command reads: a `get` each of its
    -n namespaces (`-n a,b`: a's and b's, as it looks a name up in each), any other command the last one; from a
    short-lived cache or one request that carries little more than the names (cli/completionnames.py)."""
    try:
        from .completionnames import matching

        client, several = _client(ctx)
        return matching(client, kind, incomplete, several if ctx.command.name == "get" else ())
    except Exception:
        return []


def namespaces(ctx: typer.Context, args: list[str], incomplete: str) -> list[str]:
    """Namespaces; after a comma, the next one of a list (`-n a,<TAB>` offers `a,b`), as -n takes lists."""
    head, comma, last = incomplete.rpartition(",")
    return [head + comma + n for n in object_names(ctx, "namespaces", last)]


def contexts(ctx: typer.Context, incomplete: str) -> list[str]:
    """The kubeconfig's contexts (of --kubeconfig when given before), without reading anything they name."""
    try:
        from ..core.config import context_names

        root = ctx.find_root()
        return [n for n in context_names(root.params.get("kubeconfig")) if n.startswith(incomplete)]
    except Exception:
        return []


def formats(*names: str) -> Callable[[str], list[str]]:
    """A completer for an -o option offering these formats (spelled as kubectl offers them: `jsonpath`, not
    `jsonpath=`)."""

    def complete(incomplete: str) -> list[str]:
        return [n for n in names if n.startswith(incomplete)]

    return complete


class ManifestFiles(click.types.StringParamType):
    """The type of the -f options: a string (a file, a directory or -) whose completion is `manifest_files`. (Typer's
    `autocompletion` offers plain words only; a file name needs the shell's file handling.)"""

    name = "filename"

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
        return manifest_files(incomplete)


MANIFEST_FILES = ManifestFiles()


def manifest_files(incomplete: str) -> list[CompletionItem]:
    """Files that -f reads (.json, .yaml, .yml) and directories, under the directory typed so far; hidden entries
    only when the word starts with a dot."""
    head, tail = os.path.split(incomplete)
    try:
        entries = sorted(os.scandir(os.path.expanduser(head) or "."), key=lambda e: e.name)
    except OSError:
        return []
    items = []
    for entry in entries:
        if not entry.name.startswith(tail) or (entry.name.startswith(".") and not tail.startswith(".")):
            continue
        path = os.path.join(head, entry.name)
        try:
            if entry.is_dir():
                items.append(CompletionItem(path + "/", type=PATH_ITEM))
            elif entry.name.endswith(tuple(f".{ext}" for ext in MANIFEST_EXTENSIONS)):
                items.append(CompletionItem(path, type=PATH_ITEM))
        except OSError:
            continue
    return items


def enabled() -> str | None:
    """The completion instruction when the shell asked for completion, else None."""
    return os.environ.get(COMPLETE_VAR)
