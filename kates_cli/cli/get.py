"""`kates get`: tables from the server's Table, or the objects as JSON, YAML or names.

Pages of a list are printed as they arrive (kubectl waits for the last one), in the blocks kubectl 1.37's printer
writes (render.PagedTable), on a terminal as in a pipe: tables are plain text, so a cell is never broken and a long
line overflows as kubectl's does (the header is bold where colour is allowed).

Memory stays flat however long the list: each page is asked for while the one before is printed
(core/readahead.py, one page ahead), and -o json and -o yaml turn each page into the List's text as it arrives, in
a spool written out at the end (cli/listout.py), so at most two pages of objects are held. Sorting (--sort-by),
KYAML, JSONPath, custom columns and Go templates need every object at once and still hold them.

A failing kind does not stop the others: every failure is reported on stderr after what could be printed, and the
exit code is the failures' if they agree, else 1 (kubectl prints what it can too, and exits 1).

A list that fails after its first page (the server gone, a later page refused) is never passed off as whole. Tables
and `-o name` have printed its first rows as they came: the error says how many, and the last one. JSON, YAML,
JSONPath and custom columns print nothing at all (kubectl prints the partial List, which a script piping it into jq
cannot tell from a whole one): the error says the list was cut short. Either way the exit code is the failure's.

Several namespaces (`-n a,b`, or -n repeated): one list (or watch) per namespace, in namespace order, so that the
output is in kubectl's -A order (namespace, then name) with its NAMESPACE column, restricted to those namespaces.
A named object is looked for in each of them: every one found prints, and it is NotFound only when no namespace
has it (the error names them all). Inside a hook, such a get reads from the API server.

Inside a `kates watch` hook, reads are answered by the watcher from the run's snapshot plus its own writes
(cli/hookreads.py states the rules); --live, --watch and --subresource read from the API server.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any

import typer

from ..errors import ApiError, ExitCode, KatesError, NotFound, ResourceTypeNotFound, UsageError
from . import completion, render
from .state import State

if TYPE_CHECKING:  # the core is imported when a command runs, not for --help
    from ..core.client import Client
    from ..core.mapping import ResourceRef
    from .hookreads import HookReads

OUTPUTS = (
    "wide",
    "json",
    "yaml",
    "kyaml",
    "name",
    "jsonpath=",
    "jsonpath-as-json=",
    "custom-columns=",
    "custom-columns-file=",
    "go-template=",
    "go-template-file=",
    "template=",
)
TEMPLATE_FORMATS = ("go-template", "go-template-file", "template", "templatefile")


@dataclass
class Output:
    """A parsed -o value: `format` is table, wide, json, yaml, kyaml, name, jsonpath, jsonpath-as-json,
    custom-columns or go-template (whose `columns[0][1]` is a `gotemplate.GoTemplate`)."""

    format: str
    template: str = ""
    columns: list[tuple[str, Any]] = field(default_factory=list)

    @property
    def objects(self) -> bool:
        return self.format not in ("table", "wide")


def parse_output(text: str | None, template_flag: str | None = None, allow_missing_keys: bool = True) -> Output:
    """`template_flag` is --template: the template of `-o go-template` (or jsonpath) given without `=`; alone it
    means go-template, as in kubectl."""
    if template_flag and not text:
        text = "go-template"
    if text is None or text == "":
        return Output("table")
    if text in ("wide", "json", "yaml", "kyaml", "name"):
        return Output(text)
    name, eq, template = text.partition("=")
    if not eq and template_flag and name in (*TEMPLATE_FORMATS, "jsonpath", "jsonpath-file", "jsonpath-as-json"):
        eq, template = "=", template_flag
    if eq and name in TEMPLATE_FORMATS:
        from .gotemplate import GoTemplate

        if name.endswith("file"):
            try:
                with open(template, encoding="utf-8") as fh:
                    template = fh.read()
            except OSError as exc:
                raise UsageError(f"cannot read {template}: {exc.strerror}") from exc
        if not template:
            raise UsageError("template format specified but no template given")
        return Output("go-template", template, [("", GoTemplate(template, allow_missing_keys=allow_missing_keys))])
    if eq and name in ("jsonpath", "jsonpath-as-json", "jsonpath-file"):
        from .jsonpath import JSONPath

        if name == "jsonpath-file":
            try:
                with open(template, encoding="utf-8") as fh:
                    template = fh.read()
            except OSError as exc:
                raise UsageError(f"cannot read {template}: {exc.strerror}") from exc
            name = "jsonpath"
        if not template:
            raise UsageError("template format specified but no template given")
        return Output(name, template, [("", JSONPath(template, allow_missing_keys=allow_missing_keys))])
    if eq and name in ("custom-columns", "custom-columns-file"):
        from .jsonpath import parse_custom_columns, parse_custom_columns_file

        cols = parse_custom_columns(template) if name == "custom-columns" else parse_custom_columns_file(template)
        return Output("custom-columns", template, cols)
    raise UsageError(
        f'unable to match a printer suitable for the output format "{text}"',
        hint="allowed formats are: " + ", ".join(OUTPUTS),
    )


DEFAULT_CHUNK_SIZE = 500  # kubectl's --chunk-size default


@dataclass
class Target:
    kind: str
    names: list[str] = field(default_factory=list)
    category_ok: bool = True  # may name a category (`all`); kubectl expands none in TYPE/NAME form


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
                targets.append(Target(kind, [name], category_ok=False))
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
    # kubectl turns `a,b NAME` into `a/NAME b/NAME` before expanding categories, so only a lone kind may be one
    category_ok = len(kinds) == 1 or len(args) == 1
    return [Target(kind, list(args[1:]), category_ok=category_ok) for kind in kinds]


def resolve_targets(client: Client, targets: list[Target]) -> list[tuple[ResourceRef, list[str]]]:
    """Resolve every target before anything is fetched (an unknown kind prints nothing), expanding categories.
    Without names, a resource asked for twice (`cm,configmaps`, `svc,all`) is listed once, where first asked; with
    names, consecutive targets of one resource join (one table, as kubectl prints `get cm,configmaps NAME`)."""
    refs: list[tuple[ResourceRef, list[str]]] = []
    for t in targets:
        found = client.resolve_many(t.kind) if t.category_ok else [client.resolve(t.kind)]
        if t.names and len(found) > 1:
            raise UsageError("you must specify only one resource")
        for ref in found:
            if t.names and refs and refs[-1][0] == ref:
                refs[-1] = (refs[-1][0], refs[-1][1] + t.names)
            else:
                refs.append((ref, t.names))
    if any(names for _, names in refs):
        return refs
    unique: dict[ResourceRef, list[str]] = {}
    for ref, names in refs:
        unique.setdefault(ref, names)
    return list(unique.items())


# what -o <TAB> offers, in kubectl's order and spelling (the template follows "=")
GET_FORMATS = (
    "json",
    "yaml",
    "kyaml",
    "name",
    "jsonpath",
    "jsonpath-as-json",
    "jsonpath-file",
    "custom-columns",
    "custom-columns-file",
    "go-template",
    "go-template-file",
    "template",
    "templatefile",
    "wide",
)


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
    output: str | None = typer.Option(
        None,
        "--output",
        "-o",
        help="wide, json, yaml, kyaml, name, jsonpath=TEMPLATE, jsonpath-as-json=TEMPLATE, jsonpath-file=PATH, "
        "custom-columns=SPEC, custom-columns-file=PATH, go-template=TEMPLATE (or template=TEMPLATE: Go's "
        "text/template, as kubectl runs it), go-template-file=PATH or templatefile=PATH.",
        autocompletion=completion.formats(*GET_FORMATS),
    ),
    template: str | None = typer.Option(
        None,
        "--template",
        help="The template of -o go-template or -o jsonpath (given without =TEMPLATE); alone it means -o go-template.",
    ),
    allow_missing_template_keys: bool = typer.Option(
        True,
        "--allow-missing-template-keys/--no-allow-missing-template-keys",
        help="A key missing from an object prints <no value> (go-template) or nothing (jsonpath); "
        "=false makes it an error, as in kubectl.",
    ),
    no_headers: bool = typer.Option(False, "--no-headers", help="Print no header line."),
    show_kind: bool = typer.Option(False, "--show-kind", help="Prefix names with their kind, even for one kind."),
    show_labels: bool = typer.Option(False, "--show-labels", help="Add a LABELS column."),
    label_columns: list[str] = typer.Option(
        None, "--label-columns", "-L", help="Add a column for each of these label keys (comma-separated, repeatable)."
    ),
    sort_by: str | None = typer.Option(None, "--sort-by", help="Sort by this JSONPath, e.g. .metadata.name."),
    chunk_size: int = typer.Option(DEFAULT_CHUNK_SIZE, "--chunk-size", help="List in pages of this many objects."),
    ignore_not_found: bool = typer.Option(
        False, "--ignore-not-found", help="A missing named object is not an error; nothing found prints nothing."
    ),
    subresource: str | None = typer.Option(
        None, "--subresource", help="Get this subresource (status) of named objects."
    ),
    show_managed_fields: bool = typer.Option(
        False, "--show-managed-fields", help="Keep metadata.managedFields in -o json/yaml (kubectl hides them)."
    ),
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
    if raw:  # kubectl's rawhttp.RawGet
        from .getraw import check, get_raw

        get_raw(state, check(raw, args or [], bool(watch or watch_only or selector), output))
        return
    if output_watch_events and not (watch or watch_only):  # as kubectl: a flag that would do nothing is refused
        raise UsageError("--output-watch-events option can only be used with --watch or --watch-only")
    if stall_timeout is not None and not (watch or watch_only):
        raise UsageError("--stall-timeout option can only be used with --watch or --watch-only")
    out_fmt = parse_output(output, template, allow_missing_template_keys)
    if filenames:
        if args:
            raise UsageError(
                "when paths, URLs, or stdin is provided as input, you may not specify resource arguments as well"
            )
        from .getfile import manifest_targets

        client, refs = manifest_targets(state, filenames, recursive)
    else:
        targets = parse_targets(args or [])
        from .hookreads import hook_client

        # inside a hook whose watcher answers the reads: no connection to the API server unless one is needed
        plain = subresource or watch or watch_only
        client = (None if plain else hook_client(state, live)) or state.client()
        refs = resolve_targets(client, targets)
    if selector and any(names for _, names in refs):
        raise UsageError("name cannot be provided when a selector is specified")
    if subresource and not all(names for _, names in refs):
        raise UsageError("--subresource needs the names of the objects to get")
    opts: dict[str, Any] = {
        "all_namespaces": all_namespaces,
        "label_selector": selector,
        "field_selector": field_selector,
        "chunk_size": chunk_size,
    }
    several = sorted(set(state.namespaces)) if state.namespace_explicit and not all_namespaces else []
    if len(several) > 1:  # one list or watch per namespace (module docstring)
        opts["namespaces"] = several
    view: dict[str, Any] = {
        "no_headers": no_headers,
        "show_kind": show_kind,
        "show_labels": show_labels,
        "label_columns": [key for keys in label_columns or [] for key in keys.split(",") if key],  # -L a,b -L c
    }
    if watch or watch_only:
        from .durations import parse_stall_timeout
        from .getwatch import watch_objects

        opts["stall_timeout"] = parse_stall_timeout(stall_timeout or "30s")
        view["show_kind"] = show_kind or len(refs) > 1
        watch_objects(
            state,
            client,
            refs,
            out_fmt,
            opts,
            view,
            list_first=not watch_only,
            events=output_watch_events,
            show_managed_fields=show_managed_fields,
        )
        return
    from .hookreads import HookReads

    reads = None if subresource or "namespaces" in opts else HookReads.of(client, live)
    errors: list[KatesError] = []
    sort_key = None
    if sort_by:
        from .jsonpath import sort_key as make_sort_key

        sort_key = make_sort_key(sort_by)
    try:
        if out_fmt.objects:
            _print_objects(
                state,
                client,
                refs,
                out_fmt,
                opts,
                errors,
                ignore_not_found,
                subresource,
                sort_key,
                no_headers,
                show_managed_fields,
                reads,
            )
        else:
            _print_tables(
                state,
                client,
                refs,
                out_fmt.format == "wide",
                opts,
                errors,
                ignore_not_found,
                subresource,
                sort_key,
                reads,
                **view,
            )
    except KatesError as exc:  # one that stops everything (an unreachable server) comes after those collected
        errors.append(exc)
    _raise_collected(state, errors)


class ListCutShort(KatesError):
    """A list that failed after its first page; the exit code is the failure's."""

    def __init__(self, ref: ResourceRef, read: int, last: str | None, cause: KatesError, *, printed: bool) -> None:
        noun = ref.resource if read != 1 else (ref.singular or ref.kind.lower())
        if printed:
            hint = f"the list is incomplete: the {read} {noun} printed above (the last: {last}) are all that was read"
        else:
            hint = f"none of the {read} {noun} read before the failure was printed: a partial list would look whole"
        super().__init__(f"listing {ref.resource} failed after {read} {noun}: {cause.message}", hint=hint)
        self.exit_code = cause.exit_code
        self.cause = cause


def _raise_collected(state: State, errors: list[KatesError]) -> None:
    """Report every failure; the last one is raised, with the failures' exit code if they agree, else 1."""
    for err in errors[:-1]:
        state.env.stderr.write(f"error: {err.message}\n")
    if errors:
        last = errors[-1]
        if len({err.exit_code for err in errors}) > 1:
            last.exit_code = ExitCode.ERROR
        raise last


def _namespaces(ref: ResourceRef, opts: dict[str, Any]) -> list[str | None]:
    """The namespaces to read `ref` in, one request each: [None] means the client's own (or none: cluster-scoped)."""
    several: list[str] = opts.get("namespaces") or []
    return list(several) if ref.namespaced and several and not opts["all_namespaces"] else [None]


def _list_pages(source: Any, ref: ResourceRef, opts: dict[str, Any], **extra: Any) -> Iterator[dict[str, Any]]:
    """A list's pages: those of each namespace in turn when several are asked for (kubectl's -A order). From the
    API server, each page is asked for while the one before is printed (core/readahead.py)."""
    from ..core.client import Client
    from ..core.readahead import read_ahead

    rest = {key: value for key, value in opts.items() if key != "namespaces"}
    for ns in _namespaces(ref, opts):
        if ns is None:
            pages = source.list_pages(ref, **rest, **extra)
        else:
            pages = source.list_pages(ref, ns, **rest, **extra)
        yield from read_ahead(pages) if isinstance(source, Client) else pages


def _named(
    refs: ResourceRef,
    names: list[str],
    fetch: Any,
    errors: list[KatesError],
    ignore_not_found: bool,
    namespaces: list[str | None] | None = None,
) -> list[Any]:
    """The named objects found; with several namespaces, each name is looked for in each, in namespace order, and
    is NotFound (one error naming them all) only when none has it."""
    found = []
    several: list[str | None] = [ns for ns in namespaces or [] if ns is not None]
    for name in names:
        missing = 0
        for ns in several or [None]:
            try:
                found.append(fetch(refs, name, ns) if ns is not None else fetch(refs, name))
            except ResourceTypeNotFound:
                raise  # the kind is gone (a deleted CRD), not the object: --ignore-not-found does not cover it
            except NotFound as exc:
                missing += 1
                if not several and not ignore_not_found:
                    errors.append(exc)
            except ApiError as exc:  # the server answered for this name: go on with the others, as kubectl does
                errors.append(exc)
        if several and missing == len(several) and not ignore_not_found:
            where = ", ".join(f'"{ns}"' for ns in several)
            errors.append(
                NotFound(f'{refs.group_resource} "{name}" not found in namespaces {where}', code=404, reason="NotFound")
            )
    return found


def _print_objects(
    state: State,
    client: Client,
    refs: list[tuple[ResourceRef, list[str]]],
    out_fmt: Output,
    opts: dict[str, Any],
    errors: list[KatesError],
    ignore_not_found: bool,
    subresource: str | None,
    sort_key: Any,
    no_headers: bool,
    show_managed_fields: bool = False,
    reads: HookReads | None = None,
) -> None:
    out = state.env.stdout
    fmt = out_fmt.format
    stream_names = fmt == "name" and sort_key is None
    single = len(refs) == 1 and len(refs[0][1]) == 1
    objects: list[dict[str, Any]] = []
    if fmt in ("json", "yaml") and sort_key is None and not single:
        from .listout import ListWriter

        # a List rendered page by page into a spool: one page held at a time, nothing printed before the end
        spooled: ListWriter | None = ListWriter(fmt)
    else:
        spooled = None
    try:
        for ref, names in refs:
            if names:
                fetch = reads.get if reads is not None else lambda r, n, ns=None: client.get(r, n, ns, subresource)
                found = _named(ref, names, fetch, errors, ignore_not_found, _namespaces(ref, opts))
                if spooled is not None:
                    spooled.add(_shown(found, show_managed_fields))
                else:
                    objects += found
                continue
            read, last = 0, None
            try:
                for page in _list_pages(reads or client, ref, opts):
                    items = page.get("items") or []
                    if stream_names:  # names stream page by page
                        out.write("".join(f"{ref.kind_group}/{i['metadata']['name']}\n" for i in items))
                        out.flush()
                    elif spooled is not None:
                        spooled.add(_shown(items, show_managed_fields))
                    else:
                        objects += items
                    read += len(items)
                    last = items[-1]["metadata"]["name"] if items else last
            except KatesError as exc:
                if read:  # a later page failed: never print a partial list as if it were whole
                    raise ListCutShort(ref, read, last, exc, printed=stream_names) from exc
                if not isinstance(exc, ApiError):
                    raise
                errors.append(exc)  # this kind failed; the others still print
    except BaseException:
        if spooled is not None:
            spooled.close()
        raise
    if spooled is not None:
        if not spooled.count and ignore_not_found:
            spooled.close()
            return
        spooled.finish(out)
        return
    if not objects and (single or ignore_not_found):
        return  # kubectl prints nothing, not even an empty List or a header: the error (or its absence) says it all
    if sort_key is not None:
        objects.sort(key=sort_key)
    if fmt == "name":
        for obj in objects:
            out.write(f"{client.ref_for(obj).kind_group}/{obj['metadata']['name']}\n")
        return
    if fmt == "custom-columns":
        rows = [] if no_headers else [[h for h, _ in out_fmt.columns]]
        from .jsonpath import column_cell

        rows += [[column_cell(path, obj) for _, path in out_fmt.columns] for obj in objects]
        out.write(render.PlainTable().format(rows))  # the header alone for an empty list, as kubectl prints it
        return
    if fmt in ("json", "yaml", "kyaml"):
        _shown(objects, show_managed_fields)
    doc: Any = objects[0] if single and len(objects) == 1 else render.as_list(objects)
    if fmt == "json":
        out.write(render.to_json(doc))
    elif fmt == "yaml":
        out.write(render.to_yaml(doc))
    elif fmt == "kyaml":
        out.write(render.to_kyaml(doc))
    elif fmt == "jsonpath":
        out.write(out_fmt.columns[0][1].render(doc))
    elif fmt == "jsonpath-as-json":
        out.write(out_fmt.columns[0][1].render_json(doc))
    elif fmt == "go-template":
        out_fmt.columns[0][1].write(out, doc)


def _shown(objects: list[dict[str, Any]], show_managed_fields: bool) -> list[dict[str, Any]]:
    """The objects as -o json|yaml prints them: without metadata.managedFields (kubectl hides them) unless asked."""
    if not show_managed_fields:
        for obj in objects:
            (obj.get("metadata") or {}).pop("managedFields", None)
    return objects


def _print_tables(
    state: State,
    client: Client,
    refs: list[tuple[ResourceRef, list[str]]],
    wide: bool,
    opts: dict[str, Any],
    errors: list[KatesError],
    ignore_not_found: bool,
    subresource: str | None,
    sort_key: Any,
    reads: HookReads | None,
    *,
    no_headers: bool,
    show_kind: bool,
    show_labels: bool,
    label_columns: list[str],
) -> None:
    """One aligned table per kind, as kubectl's printer makes them: a blank line between kinds (unless headerless),
    names prefixed with their kind when more than one kind answered (a failed kind, or one whose named objects are
    all missing, does not count), and "No resources found" only when nothing printed and nothing failed."""
    out = state.env.stdout
    answers = [
        (ref, _table_pages(client, ref, names, opts, errors, ignore_not_found, subresource, sort_key, reads))
        for ref, names in refs
    ]
    with_kind = show_kind or len({ref.kind_group for ref, pages in answers if pages is not None}) > 1
    printed_any = False
    for ref, pages in answers:
        if pages is None:
            continue
        view = render.TableView(
            wide=wide,
            with_namespace=(opts["all_namespaces"] or "namespaces" in opts) and ref.namespaced,
            kind_prefix=ref.kind_group if with_kind else None,
            show_labels=show_labels,
            label_columns=label_columns,
        )
        table = render.PagedTable(bold_header=state.env.stdout_tty)
        header_due = not no_headers
        read, last = 0, None
        try:
            for page in pages:
                rows = view.rows(page)
                if not rows:
                    continue
                if header_due and printed_any:
                    out.write("\n")
                _write(out, table.page(rows, view.widest(page), view.headers(page) if header_due else None))
                header_due = False
                printed_any = True
                read += len(rows)
                last = _row_name(page["rows"][-1]) or last
        except KatesError as exc:  # a later page failed: what printed stays (flushed below), and the error says so
            cut = ListCutShort(ref, read, last, exc, printed=True)
            if not isinstance(exc, ApiError):
                raise cut from exc  # the server is gone: stop (the rows held are written first, below)
            errors.append(cut)
        finally:
            _write(out, table.flush())
    if not printed_any and not errors and not ignore_not_found:
        ref = refs[0][0]
        if ref.namespaced and not opts["all_namespaces"]:
            named = opts.get("namespaces") or [state.namespace or client.namespace]
            plural = "s" if len(named) > 1 else ""
            state.env.stderr.write(f"No resources found in {', '.join(named)} namespace{plural}.\n")
        else:
            state.env.stderr.write("No resources found\n")


def _write(out: IO[str], text: str) -> None:
    if text:
        out.write(text)
        out.flush()


def _table_pages(
    client: Client,
    ref: ResourceRef,
    names: list[str],
    opts: dict[str, Any],
    errors: list[KatesError],
    ignore_not_found: bool,
    subresource: str | None,
    sort_key: Any,
    reads: HookReads | None = None,
) -> Iterable[dict[str, Any]] | None:
    """One kind's Table pages, the first already fetched, or None when the kind failed (the error is collected) or
    none of its named objects exists. Named objects are joined into one page, so that they align as one table.
    Inside a hook (`reads`), the rows are still the server's, checked against the objects the run sees (a warning
    when they differ, cli/hookreads.py)."""
    try:
        if reads is not None:
            answered, hooked = _hook_table(client, ref, names, opts, errors, ignore_not_found, sort_key, reads)
            if answered:
                return hooked
        if names:
            found = _named(
                ref,
                names,
                lambda r, n, ns=None: client.get_table(r, n, ns, subresource),
                errors,
                ignore_not_found,
                _namespaces(ref, opts),
            )
            if not found:
                return None
            pages: Iterable[dict[str, Any]] = [_joined(found)]
            if sort_key is not None:
                pages = [_sorted_table(list(pages), sort_key)]
        else:
            listing = _list_pages(client, ref, opts, table=True, include_object=sort_key is not None)
            first = next(listing, None)
            pages = itertools.chain([first], listing) if first is not None else []
            if sort_key is not None:  # sorting needs every row first
                read: list[dict[str, Any]] = [first] if first is not None else []
                try:
                    read += listing
                except KatesError as exc:
                    rows = [row for page in read for row in page.get("rows") or []]
                    raise ListCutShort(ref, len(rows), None, exc, printed=False) from exc
                pages = [_sorted_table(read, sort_key)]
    except ListCutShort as exc:
        if not isinstance(exc.cause, ApiError):
            raise
        errors.append(exc)
        return None
    except ApiError as exc:
        errors.append(exc)
        return None
    return pages


def _hook_table(
    client: Client,
    ref: ResourceRef,
    names: list[str],
    opts: dict[str, Any],
    errors: list[KatesError],
    ignore_not_found: bool,
    sort_key: Any,
    reads: HookReads,
) -> tuple[bool, list[dict[str, Any]] | None]:
    """Whether the watcher answered, and the table of what the hook run sees (None: nothing to print)."""

    def fetch(present: list[str]) -> list[dict[str, Any]]:
        if names:
            found = _named(ref, present, lambda r, n: client.get_table(r, n), errors, ignore_not_found)
            return [_joined(found)] if found else []
        return list(client.list_pages(ref, table=True, include_object=sort_key is not None, **opts))

    answer = reads.tables(ref, names, opts, fetch)
    if answer is None:
        return False, None
    pages, missing = answer
    if not ignore_not_found:
        errors.extend(missing)
    pages = [p for p in pages if p.get("rows")] or pages[:1]
    if not pages or (names and not any(p.get("rows") for p in pages)):
        return True, None
    if sort_key is not None:
        pages = [_sorted_table(pages, sort_key)]
    return True, pages


def _row_name(row: dict[str, Any]) -> str | None:
    """The name of a Table row's object (rows carry its metadata, or the whole object)."""
    name = ((row.get("object") or {}).get("metadata") or {}).get("name")
    return name if isinstance(name, str) else None


def _joined(pages: list[dict[str, Any]]) -> dict[str, Any]:
    """Table pages joined into one (the first page's columns)."""
    if not pages:
        return {}
    return {**pages[0], "rows": [row for page in pages for row in page.get("rows") or []]}


def _sorted_table(pages: list[dict[str, Any]], sort_key: Any) -> dict[str, Any]:
    """Join table pages into one, its rows sorted by `sort_key` over each row's full object."""
    table = _joined(pages)
    if table:
        table["rows"].sort(key=lambda row: sort_key(row.get("object") or {}))
    return table
