"""`kates version` and `kates api-resources`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from .. import __version__
from . import completion
from .render import PlainTable
from .state import State

if TYPE_CHECKING:
    from ..core.mapping import ResourceRef


def register(app: typer.Typer) -> None:
    app.command("version")(version)
    app.command("api-resources")(api_resources)


def version(
    ctx: typer.Context,
    client_only: bool = typer.Option(False, "--client", help="Show the client version only; contact no server."),
) -> None:
    """Print the client and server versions."""
    state: State = ctx.obj
    out = state.env.stdout
    out.write(f"Client Version: v{__version__}\n")
    if client_only:
        return
    server = state.client().server_version()
    out.write(f"Server Version: {server.get('gitVersion', 'unknown')}\n")


def preferred(refs: list[ResourceRef]) -> list[ResourceRef]:
    """One ref per (group, resource): the group's preferred (first-listed) version, sorted as kubectl sorts."""
    seen: set[tuple[str, str]] = set()
    out = []
    for ref in refs:
        key = (ref.group, ref.resource)
        if key not in seen:
            seen.add(key)
            out.append(ref)
    return sorted(out, key=lambda r: (r.group, r.resource))


def api_resources(
    ctx: typer.Context,
    namespaced: str | None = typer.Option(
        None, "--namespaced", help="true: namespaced kinds only; false: cluster-scoped only."
    ),
    api_group: str | None = typer.Option(None, "--api-group", help="Only kinds of this API group ('' for core)."),
    output: str | None = typer.Option(
        None, "--output", "-o", help="wide or name.", autocompletion=completion.formats("wide", "name")
    ),
    no_headers: bool = typer.Option(False, "--no-headers", help="Print no header line."),
) -> None:
    """List the resource types the server knows, as kubectl api-resources does."""
    state: State = ctx.obj
    refs = preferred(state.client().discovery.refresh())
    if namespaced is not None:
        if namespaced.lower() not in ("true", "false"):
            from ..errors import UsageError

            raise UsageError(f'invalid --namespaced value "{namespaced}"', hint="use true or false")
        refs = [r for r in refs if r.namespaced == (namespaced.lower() == "true")]
    if api_group is not None:
        refs = [r for r in refs if r.group == api_group]
    out = state.env.stdout
    if output == "name":
        out.write("".join(f"{r.group_resource}\n" for r in refs))
        return
    if output not in (None, "wide"):
        from ..errors import UsageError

        raise UsageError(
            f'unable to match a printer suitable for the output format "{output}"', hint="use wide or name"
        )
    headers = ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
    if output == "wide":
        headers += ["VERBS", "CATEGORIES"]
    rows = [] if no_headers else [headers]
    for r in refs:
        row = [r.resource, ",".join(r.short_names), r.api_version, "true" if r.namespaced else "false", r.kind]
        if output == "wide":
            row += ["[" + " ".join(r.verbs) + "]", ",".join(r.categories)]
        rows.append(row)
    out.write(PlainTable().format(rows))
