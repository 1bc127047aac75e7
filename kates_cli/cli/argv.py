"""kubectl's flag grammar (spf13/pflag) in front of click: one pass over argv that rewrites it into spellings click
parses to the same values pflag would, so no command needs to know.

Invariants:
- A short option that takes a value accepts `-nNS`, `-n=NS` and `-n NS` (pflag: `-n=` is the value "=", the `=`
  is only a separator when a value follows it); boolean shorthands group (`-Aw`), and a group may end in one option
  that takes a value (`-wnNS`) or in `=VALUE` for its last letter (`-wA=false`).
- A boolean flag takes `--flag=VALUE` and `-f=VALUE` in every spelling of Go's strconv.ParseBool (1 t T TRUE true
  True, 0 f F FALSE false False); any other value is a UsageError worded as pflag words it. `--flag VALUE` does not
  give the flag a value (VALUE is an argument), as in pflag. The last occurrence of a flag wins.
- Global options (the root command's) are moved in front of the subcommand, so they may appear anywhere.
- Everything after `--`, and after the first argument of a command that does not intersperse options (`watch`),
  passes unchanged; so do unknown options, for click to report.
- An option with a default for its bare form (pflag's NoOptDefVal, a command's `NO_OPT_DEFAULTS`, such as
  `--validate` meaning strict) never takes the next argument as its value; only `--name=VALUE` gives another.
- Values are passed as `--long=VALUE` (or `-xVALUE` for an option with no long name): an option's value is never
  taken for an option by a later step.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from ..core.records import record
from ..errors import UsageError

TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
HELP = ("-h", "--help")


def parse_bool(value: str, flag: str) -> bool:
    """Go's strconv.ParseBool, failing with pflag's message for `flag` (e.g. `-A, --all-namespaces`)."""
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise UsageError(
        f'invalid argument "{value}" for "{flag}" flag: strconv.ParseBool: parsing "{value}": invalid syntax'
    )


@record(frozen=True)
class Spec:
    """One option of one command, as the rewriter needs it."""

    key: str  # the click parameter's name: tokens emitted for it are replaced when a later `=false` unsets it
    takes_value: bool
    is_global: bool
    long: str | None = None  # the spelling emitted for a value, or for `true`
    short: str | None = None
    negative: str | None = None  # `--no-x` of a `--x/--no-x` pair: the spelling emitted for `false`
    boolean: bool = False
    no_opt_default: str | None = None  # pflag's NoOptDefVal: the value of a bare `--name`, which takes no argument

    @property
    def display(self) -> str:
        """The name pflag puts in its messages: `-A, --all-namespaces` or `--wait`."""
        if self.short and self.long:
            return f"{self.short}, {self.long}"
        return self.long or self.short or self.key


def option_table(command: click.Command, *, is_global: bool = False) -> dict[str, tuple[Spec, bool]]:
    """Every spelling of every option of `command` -> (its Spec, whether that spelling means true)."""
    table: dict[str, tuple[Spec, bool]] = {}
    no_opt_defaults: dict[str, str] = getattr(command, "NO_OPT_DEFAULTS", {})
    for param in command.params:
        if not isinstance(param, click.Option) or param.nargs != 1 or param.count:
            continue
        longs = [o for o in param.opts if o.startswith("--")]
        shorts = [o for o in param.opts if not o.startswith("--")]
        boolean = bool(param.is_bool_flag)
        spec = Spec(
            key=param.name or param.opts[0],
            takes_value=not param.is_flag,
            is_global=is_global,
            long=longs[0] if longs else None,
            short=shorts[0] if shorts else None,
            negative=param.secondary_opts[0] if boolean and param.secondary_opts else None,
            boolean=boolean,
            no_opt_default=no_opt_defaults.get(longs[0]) if longs else None,
        )
        if param.is_flag and not boolean:
            continue  # a flag with a flag_value of its own: click's spelling only
        for opt in param.opts:
            table[opt] = (spec, True)
        for opt in param.secondary_opts if boolean else ():
            table[opt] = (spec, False)
    return table


class _Out:
    """The rewritten command line: global options, then the subcommand, then the rest in order."""

    def __init__(self) -> None:
        self.front: list[tuple[str | None, str]] = []
        self.command: list[str] = []
        self.rest: list[tuple[str | None, str]] = []

    def add(self, token: str, spec: Spec | None = None) -> None:
        (self.front if spec is not None and spec.is_global else self.rest).append((spec.key if spec else None, token))

    def value(self, spec: Spec, value: str) -> None:
        if spec.long:
            self.add(f"{spec.long}={value}", spec)
        elif value:
            self.add(f"{spec.short}{value}", spec)
        else:
            self.add(str(spec.short), spec)
            self.add(value, spec)

    def flag(self, spec: Spec, value: bool) -> None:
        if value:
            self.add(str(spec.long or spec.short), spec)
            return
        # false: drop the flag's earlier occurrences (the last one wins), then say --no-x where there is one
        for tokens in (self.front, self.rest):
            tokens[:] = [(key, tok) for key, tok in tokens if key != spec.key]
        if spec.negative:
            self.add(spec.negative, spec)

    def tokens(self) -> list[str]:
        return [tok for _, tok in self.front] + self.command + [tok for _, tok in self.rest]


def find_command(args: Sequence[str], root: click.Group, ctx: click.Context) -> int | None:
    """The index of the subcommand's name in `args`, found as cobra finds it (stripFlags): options are skipped, and
    `--name` or a lone `-x` that is not a known boolean is taken to be followed by its value."""
    table = option_table(root, is_global=True)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            return None
        if not arg.startswith("-") or arg == "-":
            return i - 1 if root.get_command(ctx, arg) is not None else None
        found = table.get(arg)
        if "=" not in arg and (arg.startswith("--") or len(arg) == 2) and (found is None or found[0].takes_value):
            i += 1
    return None


def normalize(argv: Sequence[str], root: click.Group, prog: str = "kates") -> list[str]:
    """Rewrite `argv` (without the program name) for `root` and its subcommands; see the module's invariants.
    Options of the subcommand may come before its name, as kubectl allows (`kates -o name get ns`).
    Raises UsageError, with kubectl's hint, for a boolean flag given a value ParseBool refuses."""
    ctx = click.Context(root, info_name=prog)
    args = list(argv)
    at = find_command(args, root, ctx)
    table = option_table(root, is_global=True)
    sub = root.get_command(ctx, args[at]) if at is not None else None
    if sub is not None:
        table = {**table, **option_table(sub)}
    interspersed = sub is None or sub.context_settings.get("allow_interspersed_args", sub.allow_interspersed_args)
    out = _Out()
    i = 0
    try:
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                out.rest += [(None, a) for a in args[i - 1 :]]
                break
            if i - 1 == at:
                out.command.append(arg)
            elif arg in HELP or not arg.startswith("-") or arg == "-":
                out.add(arg)
                if not interspersed and not arg.startswith("-"):
                    out.rest += [(None, a) for a in args[i:]]
                    break
            elif arg.startswith("--"):
                i = _long(arg, args, i, table, out)
            else:
                i = _short_group(arg[1:], args, i, table, out)
    except UsageError as exc:
        exc.hint = f"see '{prog} {args[at]} --help'" if at is not None else f"see '{prog} --help'"
        raise
    return out.tokens()


def _long(arg: str, args: list[str], i: int, table: dict[str, tuple[Spec, bool]], out: _Out) -> int:
    """pflag's parseLongArg: `--name`, `--name=VALUE`, `--name VALUE`; returns the index of the next argument."""
    name, eq, value = arg.partition("=")
    found = table.get(name)
    if found is None:
        out.add(arg)
        return i
    spec, polarity = found
    if spec.takes_value and not eq and spec.no_opt_default is not None:
        out.value(spec, spec.no_opt_default)
    elif spec.takes_value:
        if not eq and i >= len(args):
            raise UsageError(f"flag needs an argument: {name}")
        if not eq:
            value, i = args[i], i + 1
        out.value(spec, value)
    elif eq:
        out.flag(spec, parse_bool(value, spec.display if polarity else name) == polarity)
    else:
        out.flag(spec, polarity)
    return i


def _short_group(letters: str, args: list[str], i: int, table: dict[str, tuple[Spec, bool]], out: _Out) -> int:
    """pflag's parseShortArg: `letters` is a group of shorthands; returns the index of the next unread argument."""
    group = letters
    while letters:
        found = table.get(f"-{letters[0]}")
        if found is None:
            out.add(f"-{letters}")  # click reports the unknown letter
            return i
        spec, _ = found
        if len(letters) > 2 and letters[1] == "=":
            value, letters = letters[2:], ""
            if spec.takes_value:
                out.value(spec, value)
            else:
                out.flag(spec, parse_bool(value, spec.display))
        elif not spec.takes_value:
            out.flag(spec, True)
            letters = letters[1:]
        elif len(letters) > 1:
            out.value(spec, letters[1:])
            letters = ""
        elif i < len(args):
            out.value(spec, args[i])
            return i + 1
        else:
            raise UsageError(f"flag needs an argument: '{letters[0]}' in -{group}")
    return i
