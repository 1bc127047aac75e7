"""`kates get` as a click command: its options, help and completion. The work is `get.run`'s; the commonest command
lines never reach this module (cli/fastget.py parses them without building the click command)."""

from __future__ import annotations

import typer

from . import completion, printflags
from .get import DEFAULT_CHUNK_SIZE, GET_FORMATS, OBJECT_CHUNK_SIZE, run
from .state import State


def register(app: typer.Typer) -> None:
    app.command("get")(get)


def get(
    ctx: typer.Context,
    args: list[str] = typer.Argument(
        None, autocompletion=completion.kinds_then_names, metavar="KIND[,KIND...] [NAME...] | TYPE/NAME..."
    ),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="List across all namespaces."),
    selector: str | None = typer.Option(None, "--selector", "-l", help="Label selector, e.g. app=web,tier!=db."),
    field_selector: str | None = typer.Option(
        None, "--field-selector", help="Field selector, e.g. status.phase=Running."
    ),
    output: str | None = printflags.output(
        "wide, json, yaml, kyaml, name, jsonpath=TEMPLATE, jsonpath-as-json=TEMPLATE, jsonpath-file=PATH, "
        "custom-columns=SPEC, custom-columns-file=PATH, go-template=TEMPLATE (or template=TEMPLATE: Go's "
        "text/template, as kubectl runs it), go-template-file=PATH or templatefile=PATH.",
        GET_FORMATS,
    ),
    template: str | None = printflags.template(),
    allow_missing_template_keys: bool = printflags.allow_missing_template_keys(),
    no_headers: bool = typer.Option(False, "--no-headers", help="Print no header line."),
    show_kind: bool = typer.Option(False, "--show-kind", help="Prefix names with their kind, even for one kind."),
    show_labels: bool = typer.Option(False, "--show-labels", help="Add a LABELS column."),
    label_columns: list[str] = typer.Option(
        None, "--label-columns", "-L", help="Add a column for each of these label keys (comma-separated, repeatable)."
    ),
    sort_by: str | None = typer.Option(None, "--sort-by", help="Sort by this JSONPath, e.g. .metadata.name."),
    chunk_size: int | None = typer.Option(
        None,
        "--chunk-size",
        help=f"List in pages of this many objects; 0 lists in one request. Default: {DEFAULT_CHUNK_SIZE} for tables "
        f"(kubectl's), {OBJECT_CHUNK_SIZE} for other outputs (the same bytes in fewer requests).",
        show_default=False,
    ),
    ignore_not_found: bool = typer.Option(
        False, "--ignore-not-found", help="A missing named object is not an error; nothing found prints nothing."
    ),
    subresource: str | None = typer.Option(
        None, "--subresource", help="Get this subresource (status) of named objects."
    ),
    show_managed_fields: bool = printflags.show_managed_fields(),
    watch: bool = typer.Option(False, "--watch", "-w", help="After listing, watch for changes (several kinds too)."),
    watch_only: bool = typer.Option(False, "--watch-only", help="Watch for changes without listing first."),
    filenames: list[str] = typer.Option(
        None,
        "--filename",
        "-f",
        help="Get the objects named in these manifests (file, directory or -).",
        click_type=completion.MANIFEST_FILES,
    ),
    recursive: bool = typer.Option(False, "--recursive", "-R", help="With -f DIR: read its subdirectories too."),
    output_watch_events: bool = typer.Option(
        False,
        "--output-watch-events",
        help="With --watch or --watch-only: show the event type (ADDED, MODIFIED, DELETED); a usage error without.",
    ),
    stall_timeout: str | None = typer.Option(
        None,
        "--stall-timeout",
        help="With --watch or --watch-only: a watch connection silent this long (default 30s) is noticed on stderr "
        "and resumed.",
    ),
    live: bool = typer.Option(
        False,
        "--live",
        help="Inside a kates watch hook: read from the API server, not from the hook's snapshot (as "
        "KATES_LIVE_READS=1 does for a whole hook).",
    ),
    raw: str | None = typer.Option(
        None, "--raw", help="GET this URI path from the API server and print the answer's body as it is."
    ),
) -> None:
    """Display one or many objects.

    KIND is anything kubectl accepts: a short name (svc), plural, singular, Kind, kind.group or kind.version.group,
    CRDs included. Several kinds are separated by commas; a category (all, or a CRD's categories) stands for every
    kind in it. -f gets the objects that manifests name. Tables come from the server, so every kind gets
    kubectl's columns. Pages of a long list print as they arrive (kubectl waits for the last page).
    With --watch, kates keeps watching through dropped connections and API server restarts; kubectl exits.

    Inside a kates watch hook, get reads the hook's snapshot: what the run received on stdin, plus its own writes
    (snapshot isolation, and read-your-writes), answered by the watcher; a read no query covers becomes a
    dependency of the watch. Tables are the server's: printed as they come when they show exactly the snapshot's
    objects, else with a warning that they show the server's newer state. --live, KATES_LIVE_READS=1, --watch and
    --subresource read from the API server; so does a read the watcher cannot answer (said once on stderr).
    """
    state: State = ctx.obj
    run(
        state,
        args,
        all_namespaces=all_namespaces,
        selector=selector,
        field_selector=field_selector,
        output=output,
        template=template,
        allow_missing_template_keys=allow_missing_template_keys,
        no_headers=no_headers,
        show_kind=show_kind,
        show_labels=show_labels,
        label_columns=label_columns,
        sort_by=sort_by,
        chunk_size=chunk_size,
        ignore_not_found=ignore_not_found,
        subresource=subresource,
        show_managed_fields=show_managed_fields,
        watch=watch,
        watch_only=watch_only,
        filenames=filenames,
        recursive=recursive,
        output_watch_events=output_watch_events,
        stall_timeout=stall_timeout,
        live=live,
        raw=raw,
    )
