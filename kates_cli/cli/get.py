"""`kates get`: tables from the server's Table, or the objects as JSON, YAML or names.

Pages of a list are printed as they arrive (kubectl waits for the last one), with widths remembered across pages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from ..errors import KatesError, NotFound, UsageError
from . import render
from .state import State

if TYPE_CHECKING:  # the core is imported when a command runs, not for --help
    from ..core.client import Client
    from ..core.mapping import ResourceRef

OUTPUTS = ("wide", "json", "yaml", "name")
DEFAULT_CHUNK_SIZE = 500  # kubectl's --chunk-size default


@dataclass
class Target:
    kind: str
    names: list[str] = field(default_factory=list)


def parse_targets(args: list[str]) -> list[Target]:
    """`KIND[,KIND...] [NAME...]` or `TYPE/NAME...` -> targets, in the order given."""
    if not args:
        raise UsageError(
            "you must specify the type of resource to get",
            hint='use "kates api-resources" for a complete list of supported resources',
        )
    if "/" in args[0]:
        targets: list[Target] = []
        for arg in args:
            kind, sep, name = arg.partition("/")
            if not sep or not kind or not name:
                raise UsageError(
                    f'arguments in resource/name form must have a single resource and name: "{arg}"',
                )
            if targets and targets[-1].kind == kind:
                targets[-1].names.append(name)
            else:
                targets.append(Target(kind, [name]))
        return targets
    if any("/" in a for a in args[1:]):
        raise UsageError(
            "there is no need to specify a resource type as a separate argument when passing arguments in "
            "resource/name form",
            hint=f'use "kates get {args[1]}" instead of "kates get {args[0]} {args[1]}"',
        )
    kinds = [k for k in args[0].split(",") if k]
    if not kinds:
        raise UsageError(f'invalid resource type "{args[0]}"')
    return [Target(kind, list(args[1:])) for kind in kinds]


def register(app: typer.Typer) -> None:
    app.command("get")(get)


def get(
    ctx: typer.Context,
    args: list[str] = typer.Argument(None, metavar="KIND[,KIND...] [NAME...] | TYPE/NAME..."),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="List across all namespaces."),
    selector: str | None = typer.Option(None, "--selector", "-l", help="Label selector, e.g. app=web,tier!=db."),
    field_selector: str | None = typer.Option(
        None, "--field-selector", help="Field selector, e.g. status.phase=Running."
    ),
    output: str | None = typer.Option(None, "--output", "-o", help="wide, json, yaml or name."),
    no_headers: bool = typer.Option(False, "--no-headers", help="Print no header line."),
    show_kind: bool = typer.Option(False, "--show-kind", help="Prefix names with their kind, even for one kind."),
    show_labels: bool = typer.Option(False, "--show-labels", help="Add a LABELS column."),
    label_columns: list[str] = typer.Option(None, "--label-columns", "-L", help="Add a column for this label key."),
    chunk_size: int = typer.Option(DEFAULT_CHUNK_SIZE, "--chunk-size", help="List in pages of this many objects."),
    ignore_not_found: bool = typer.Option(False, "--ignore-not-found", help="A missing named object is not an error."),
) -> None:
    """Display one or many objects.

    KIND is anything kubectl accepts: a short name (svc), plural, singular, Kind, kind.group or kind.version.group,
    CRDs included. Several kinds are separated by commas. Tables come from the server, so every kind gets
    kubectl's columns.
    """
    state: State = ctx.obj
    if output is not None and output not in OUTPUTS:
        raise UsageError(
            f'unable to match a printer suitable for the output format "{output}"',
            hint="allowed formats are: " + ", ".join(OUTPUTS),
        )
    targets = parse_targets(args or [])
    client = state.client()
    refs = [(client.resolve(t.kind), t.names) for t in targets]  # resolve all first: an unknown kind prints nothing
    if selector and any(names for _, names in refs):
        raise UsageError("name cannot be provided when a selector is specified")
    opts: dict[str, Any] = {
        "all_namespaces": all_namespaces,
        "label_selector": selector,
        "field_selector": field_selector,
        "chunk_size": chunk_size,
    }
    errors: list[KatesError] = []
    if output in ("json", "yaml", "name"):
        _print_objects(state, client, refs, output, opts, errors, ignore_not_found)
    else:
        _print_tables(
            state,
            client,
            refs,
            output == "wide",
            opts,
            errors,
            ignore_not_found,
            no_headers=no_headers,
            show_kind=show_kind or len(refs) > 1,
            show_labels=show_labels,
            label_columns=label_columns or [],
        )
    for err in errors[:-1]:
        state.env.stderr.write(f"error: {err.message}\n")
    if errors:
        raise errors[-1]


def _named(
    client: Client, ref: ResourceRef, names: list[str], fetch: Any, errors: list[KatesError], ignore_not_found: bool
) -> list[Any]:
    found = []
    for name in names:
        try:
            found.append(fetch(ref, name))
        except NotFound as exc:
            if not ignore_not_found:
                errors.append(exc)
    return found


def _print_objects(
    state: State,
    client: Client,
    refs: list[tuple[ResourceRef, list[str]]],
    output: str,
    opts: dict[str, Any],
    errors: list[KatesError],
    ignore_not_found: bool,
) -> None:
    out = state.env.stdout
    objects: list[dict[str, Any]] = []
    for ref, names in refs:
        if names:
            objects += _named(client, ref, names, lambda r, n: client.get(r, n), errors, ignore_not_found)
            continue
        for page in client.list_pages(ref, **opts):
            items = page.get("items") or []
            if output == "name":  # names stream page by page
                out.write("".join(f"{ref.kind_group}/{i['metadata']['name']}\n" for i in items))
                out.flush()
            else:
                objects += items
    if output == "name":
        for obj in objects:
            ref = client.ref_for(obj)
            out.write(f"{ref.kind_group}/{obj['metadata']['name']}\n")
        return
    single = len(refs) == 1 and len(refs[0][1]) == 1
    doc: Any = objects[0] if single and len(objects) == 1 else render.as_list(objects)
    if single and not objects:
        return
    out.write(render.to_json(doc) if output == "json" else render.to_yaml(doc))


def _print_tables(
    state: State,
    client: Client,
    refs: list[tuple[ResourceRef, list[str]]],
    wide: bool,
    opts: dict[str, Any],
    errors: list[KatesError],
    ignore_not_found: bool,
    *,
    no_headers: bool,
    show_kind: bool,
    show_labels: bool,
    label_columns: list[str],
) -> None:
    out = state.env.stdout
    rich = state.env.stdout_tty
    printed_any = False
    for ref, names in refs:
        view = render.TableView(
            wide=wide,
            with_namespace=opts["all_namespaces"] and ref.namespaced,
            kind_prefix=ref.kind_group if show_kind else None,
            show_labels=show_labels,
            label_columns=label_columns,
        )
        if names:
            pages = _named(client, ref, names, lambda r, n: client.get_table(r, n), errors, ignore_not_found)
        else:
            pages = client.list_pages(ref, table=True, **opts)  # type: ignore[assignment]
        plain = render.PlainTable()
        headers: list[str] | None = None
        rows_all: list[list[str]] = []
        for page in pages:
            rows = view.rows(page)
            if not rows:
                continue
            chunk = rows
            if headers is None:
                headers = view.headers(page)
                if printed_any:
                    out.write("\n")
                if not no_headers:
                    chunk = [headers, *rows]
            rows_all += rows
            if not rich:
                out.write(plain.format(chunk))
                out.flush()
        if rich and headers is not None:
            _rich_table(state, headers, rows_all, no_headers)
        printed_any = printed_any or bool(rows_all)
    if not printed_any and not errors:
        ref = refs[0][0]
        if ref.namespaced and not opts["all_namespaces"]:
            ns = state.namespace or client.namespace
            state.env.stderr.write(f"No resources found in {ns} namespace.\n")
        else:
            state.env.stderr.write("No resources found\n")


def _rich_table(state: State, headers: list[str], rows: list[list[str]], no_headers: bool) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_header=not no_headers, header_style="bold", pad_edge=False)
    for h in headers:
        table.add_column(h, overflow="fold")
    for row in rows:
        table.add_row(*row)
    Console(file=state.env.stdout).print(table)
