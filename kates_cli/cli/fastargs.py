"""The argv scanner of the fast paths (cli/fastget.py, cli/fastwatch.py): a command line read without typer or click.

Invariants:
- `scan` accepts only what its tables name: global and command options anywhere, the command word first among the
  words, then (if the caller allows them) more words. A value option is read in pflag's forms, as cli/argv.py rewrites
  them for click: `--name VALUE`, `--name=VALUE`, `-x VALUE`, `-x=VALUE` and `-xVALUE`; a boolean is only bare.
- Anything else returns None and the caller takes the full path: an unknown option, a boolean given a value
  (`-A=false`), grouped shorthands (`-Ao`), a missing value or one that starts with `-`, `-x=` with nothing after,
  `--`, a lone `-`, a help flag, a word where none is allowed, or no command word.
- Before the command word, no boolean flag (cli/argv.py's `find_command`, as cobra, takes any unknown option there
  to have a value, so `-A get` is not `get -A`), and only the value options whose keys are in `leading` (all of
  them when it is None).
- A key in `lists` collects every value given, in order; any other key keeps the last, as click does.
- Imports nothing when imported; `run` imports what every command needs (warnings, the State).
- `run` is the one way a fast path runs its command: the same State as the root command builds, and an
  interruption ends as it does through click (Typer's main): Ctrl-C with 130 and no word; end of input with a blank
  line, then cli/app.py's `error: interrupted`.
"""

from __future__ import annotations

__all__ = ["run", "scan"]

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start
if TYPE_CHECKING:
    from collections.abc import Callable

    from .state import State


def scan(
    argv: list[str],
    command: str,
    values: dict[str, str],
    flags: dict[str, str],
    lists: frozenset[str] = frozenset(),
    words: bool = True,
    leading: frozenset[str] | None = None,
) -> tuple[dict[str, object], list[str]] | None:
    """`argv` (without the program name) as ({key: value}, the words after `command`), or None (see the module)."""
    found: dict[str, object] = {}
    args: list[str] = []
    seen = False
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if not arg.startswith("-"):
            if seen and words:
                args.append(arg)
            elif not seen and arg == command:
                seen = True
            else:
                return None
            continue
        name, eq, value = arg.partition("=")
        if arg.startswith("--"):
            if name in flags and not eq:
                if not seen:
                    return None
                found[flags[name]] = True
                continue
            key = values.get(name)
            if key is None:
                return None
            if not eq:  # `--name VALUE`
                if i >= len(argv) or argv[i].startswith("-"):
                    return None
                value, i = argv[i], i + 1
        else:
            short = arg[:2]
            if short in flags and len(arg) == 2:
                if not seen:
                    return None
                found[flags[short]] = True
                continue
            key = values.get(short)
            if key is None:
                return None
            if len(arg) == 2:  # `-n VALUE`
                if i >= len(argv) or argv[i].startswith("-"):
                    return None
                value, i = argv[i], i + 1
            elif arg[2] == "=":  # `-n=VALUE`; pflag reads a bare `-n=` as the value "="
                value = arg[3:]
                if not value:
                    return None
            else:  # `-nVALUE`
                value = arg[2:]
        if not seen and leading is not None and key not in leading:
            return None
        if key in lists:
            collected = found.setdefault(key, [])
            assert isinstance(collected, list)
            collected.append(value)
        else:
            found[key] = value
    return (found, args) if seen else None


def run(
    kubeconfig: str | None, context: str | None, namespace: list[str] | None, command: Callable[[State], int]
) -> int:
    """Run `command` with the State of these global options (see the module's invariants), inside cli/app.py's
    error boundary; returns its exit code."""
    from ..errors import ExitCode
    from . import warning
    from .state import from_options

    warning.install()
    state = from_options(kubeconfig, context, namespace)
    try:
        return command(state)
    except KeyboardInterrupt:
        return int(ExitCode.INTERRUPTED)
    except EOFError:
        import sys

        sys.stderr.write("\n")
        raise KeyboardInterrupt from None
    finally:
        state.close()
