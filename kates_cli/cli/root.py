"""The root click command (built with Typer): the command tree, loaded lazily, and the global options.

Invariants:
- Importing this module imports typer and click but no command's module: a subcommand is built from its module
  (app.COMMANDS) on first use, so `kates get` does not import the code of logs, watch or the write commands.
- The global options become the command's `State` through `state.from_options`, as cli/fastget.py builds it.
- Importing this module does not import the `kubernetes` package or build a client.
"""

from __future__ import annotations

import importlib
from typing import Any

import click
import typer
from typer.core import TyperGroup

from . import completion, durations
from .app import COMMANDS
from .state import from_options


class LazyGroup(TyperGroup):
    """The root group: subcommands are built from their module on first use, so `kates get` does not import the
    code of logs, watch or the write commands."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loaded: dict[str, click.Command] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None:
            return None
        if cmd_name not in self._loaded:
            sub = typer.Typer(
                add_completion=False, rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]}
            )
            importlib.import_module(f".{module}", __package__).register(sub)
            built = typer.main.get_command(sub)
            found = built.commands if isinstance(built, click.Group) else {cmd_name: built}
            self._loaded.update(found)
        return self._loaded.get(cmd_name)


app = typer.Typer(
    cls=LazyGroup,
    name="kates",
    help="A kubectl-like client with a coherent, coalescing multi-kind watch.\n\n"
    "Global options may appear anywhere on the command line, as with kubectl.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    kubeconfig: str | None = typer.Option(None, "--kubeconfig", help="Path to the kubeconfig file to use."),
    context: str | None = typer.Option(
        None,
        "--context",
        help="The kubeconfig context to use. Default: $KATES_CONTEXT, else the current one.",
        autocompletion=completion.contexts,
    ),
    namespace: list[str] = typer.Option(
        None,
        "--namespace",
        "-n",
        help="The namespace to use. get, get -w and logs take several (-n a,b or -n a -n b; other commands use the "
        "last). Default: $KATES_NAMESPACE, else the context's.",
        autocompletion=completion.namespaces,
    ),
    request_timeout: str | None = typer.Option(
        None, "--request-timeout", help="How long to wait for one request, e.g. 30s or 1m; 0 means no limit."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks (never with local variables)."),
    kuberc: str | None = typer.Option(
        None,
        "--kuberc",
        help="Path to the kuberc file to use for preferences (aliases, defaults, credential plugin policy). "
        "Default: $KUBERC, else ~/.kube/kuberc. KUBECTL_KUBERC=false or KUBERC=off turns kuberc off.",
    ),
) -> None:
    del kuberc  # read before click parses (kuberc.apply)
    timeout = durations.request_timeout(request_timeout) if request_timeout else None
    ctx.obj = from_options(kubeconfig, context, namespace, timeout, debug)
    ctx.call_on_close(ctx.obj.close)
