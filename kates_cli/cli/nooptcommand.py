"""`NoOptCommand`: a typer command whose options may be given bare, as pflag's NoOptDefVal lets kubectl's flags be
(`--validate` means `--validate=strict`, `--cascade` means `--cascade=background`).

Invariants:
- A bare option named in `NO_OPT_DEFAULTS` becomes `OPTION=DEFAULT` before click parses the arguments, and never
  takes the next argument as its value; everything after `--` is left as it is.
- The argv rewriter (cli/argv.py) reads the same `NO_OPT_DEFAULTS`, so global options hoisted around the command do
  not hand it a value either.
"""

from __future__ import annotations

import click
from typer.core import TyperCommand


class NoOptCommand(TyperCommand):
    """A command whose options in `NO_OPT_DEFAULTS` take a value of their own when given bare and take none from the
    next argument (pflag's NoOptDefVal, as kubectl declares them); typer has no optional-value options. The argv
    rewriter (argv.py) reads `NO_OPT_DEFAULTS` too, so it never hands the next argument to such a bare option."""

    NO_OPT_DEFAULTS: dict[str, str] = {}

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        fixed: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--":
                fixed += args[i:]
                break
            default = self.NO_OPT_DEFAULTS.get(arg)
            fixed.append(arg if default is None else f"{arg}={default}")
        return super().parse_args(ctx, fixed)
