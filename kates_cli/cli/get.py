"""`kates get`: tables from the server's Table, or the objects as JSON, YAML or names.

Pages of a list are printed as they arrive (kubectl waits for the last one), in the blocks kubectl 1.37's printer
writes (render.PagedTable), on a terminal as in a pipe: tables are plain text, so a cell is never broken and a long
line overflows as kubectl's does (the header is bold where colour is allowed).

Memory stays flat however long the list: each page is read while the one before is printed (core/readahead.py, one
page ahead), its request sent as soon as the page before began to arrive (core/client.py `_page_bodies`: the API
server encodes it meanwhile), and -o json and -o yaml turn each page into the List's text as it arrives, in
a spool written out at the end (cli/listout.py), so at most two pages of objects are held. Sorting (--sort-by),
KYAML, JSONPath, custom columns and Go templates need every object at once and still hold them.

The page size (`page_size`): an explicit --chunk-size is the `limit` of every list request, exactly as kubectl sends
it (0: one unpaged request). Without it a table is listed in kubectl's pages of 500 (DEFAULT_CHUNK_SIZE), since
kubectl's table blocks, and so the bytes, depend on where pages end; every other output prints the same bytes for any
split and is listed in pages of OBJECT_CHUNK_SIZE (1,000). The API server spends about 10-15 ms on each request beyond
its objects (measured on the bench control plane, 1.37, 50k ConfigMaps of 1.6 KB: pages of 500 took 1.7-2.2 s to
list, of 5,000 0.8-1.1 s, one unpaged request 0.8-1.0 s), and the list is a chain of requests, so fewer pages are
less waiting. The cost is memory: a page held ahead and a page being written, each as dicts and as text, about
12 KB per object of page (peak RSS of `get cm -o json`: about 44 MiB at 500, 55 MiB at 1,000, 81 MiB at 2,000, the
same at 10k and 50k objects). 1,000 keeps it flat and under a quarter of kubectl's at 10k objects (about 240 MiB);
larger pages also cost more client CPU (bigger buffers, more page faults), which ate their gain at 2,000 and 5,000.

Flags kubectl refuses together are refused before anything is read, in kubectl's words: --show-labels with an -o
other than wide, -L with custom columns, --output-watch-events without a watch (and --sort-by with one is a
warning); so is a name of a namespaced kind with -A, once the kinds are known.

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

import gc
import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import field

from ..core.hookenv import ENV_VAR
from ..core.records import record
from ..errors import ApiError, ExitCode, KatesError, NotFound, OutputError, ResourceTypeNotFound, UsageError
from . import render
from .state import State

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:  # the core is imported when a command runs, not for --help
    from typing import IO, Any

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
    "jsonpath-file=",
    "custom-columns=",
    "custom-columns-file=",
    "go-template=",
    "go-template-file=",
    "template=",
    "templatefile=",
)
TEMPLATE_FORMATS = ("go-template", "go-template-file", "template", "templatefile")
JSONPATH_FORMATS = ("jsonpath", "jsonpath-file", "jsonpath-as-json")
COLUMNS_FORMATS = ("custom-columns", "custom-columns-file")
CASELESS_FORMATS = ("json", "yaml", "kyaml", "name")  # kubectl lowercases these (`-o JSON`), and no other


@record
class Output:
    """A parsed -o value: `format` is table, wide, json, yaml, kyaml, name, jsonpath, jsonpath-as-json,
    custom-columns or go-template (whose `columns[0][1]` is a `gotemplate.GoTemplate`)."""

    format: str
    template: str = ""
    columns: list[tuple[str, Any]] = field(default_factory=list)
    from_file: bool = False  # custom-columns-file, whose header kubectl prints even with --no-headers

    @property
    def objects(self) -> bool:
        return self.format not in ("table", "wide")


def parse_output(text: str | None, template_flag: str | None = None, allow_missing_keys: bool = True) -> Output:
    """`template_flag` is --template: the template of `-o go-template` (or jsonpath, or the spec of custom-columns)
    given without `=`; alone it means go-template, as in kubectl. With it, a format given with `=` matches no
    printer (kubectl's printers take the template from one place only)."""
    if template_flag and not text:
        text = "go-template"
    if text is None or text == "":
        return Output("table")
    if text == "wide" or text.lower() in CASELESS_FORMATS:
        return Output(text.lower())
    name, eq, template = text.partition("=")
    if eq and template_flag:
        raise _no_printer(text)
    if not eq and name in (*TEMPLATE_FORMATS, *JSONPATH_FORMATS, *COLUMNS_FORMATS):
        eq, template = "=", template_flag or ""  # without --template: kubectl's "no template given" below
    if eq and name in TEMPLATE_FORMATS:
        from .gotemplate import GoTemplate

        if not template:
            raise UsageError("template format specified but no template given")
        if name.endswith("file"):
            template = _read_template(template)  # an empty file is an empty template, as in kubectl
        return Output("go-template", template, [("", GoTemplate(template, allow_missing_keys=allow_missing_keys))])
    if eq and name in JSONPATH_FORMATS:
        from .jsonpath import JSONPath

        if not template:
            raise UsageError("template format specified but no template given")
        if name == "jsonpath-file":  # the file's bytes as kubectl reads them: no newline translation, non-UTF-8 kept
            template = _read_template(template, raw=True)
            name = "jsonpath"
        return Output(name, template, [("", JSONPath(template, allow_missing_keys=allow_missing_keys))])
    if eq and name in COLUMNS_FORMATS:
        from .customcolumns import parse_file, parse_spec

        if not template:
            raise UsageError("custom-columns format specified but no custom columns given")
        cols = parse_spec(template) if name == "custom-columns" else parse_file(template)
        return Output("custom-columns", template, list(cols), from_file=name == "custom-columns-file")
    raise _no_printer(text)


def _no_printer(text: str) -> UsageError:
    return UsageError(
        f'unable to match a printer suitable for the output format "{text}"',
        hint="allowed formats are: " + ", ".join(OUTPUTS),
    )


def check_printer_flags(output: str | None, show_labels: bool, label_columns: list[str] | None) -> None:
    """kubectl's refusals of --show-labels and -L with a printer that has no such column (checked before anything
    is fetched, and named as -o spelled it)."""
    if show_labels and output and output != "wide":
        raise UsageError(f"--show-labels option cannot be used with {output} printer")
    if any(label_columns or ()) and output and output.startswith("custom-columns"):
        raise UsageError(f"--label-columns option cannot be used with {output} printer")


def _read_template(path: str, raw: bool = False) -> str:
    """A template file's text; one it cannot read is an error in kubectl's words (Go's lower-case error text). `raw`
    reads it as kubectl reads a JSONPath file: no newline translation, bytes that are not UTF-8 kept (surrogates)."""
    try:
        with open(
            path, encoding="utf-8", errors="surrogateescape" if raw else "strict", newline="" if raw else None
        ) as fh:
            return fh.read()
    except OSError as exc:
        op = "read" if isinstance(exc, IsADirectoryError) else "open"
        raise UsageError(f"error reading --template {path}, {op} {path}: {(exc.strerror or str(exc)).lower()}") from exc
    except UnicodeDecodeError as exc:
        raise UsageError(f"error reading --template {path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


DEFAULT_CHUNK_SIZE = 500  # kubectl's --chunk-size default: the page of a table (below)
OBJECT_CHUNK_SIZE = 1000  # the page of every other output, when --chunk-size is not given (module docstring)


def page_size(chunk_size: int | None, out_fmt: Output) -> int:
    """The `limit` of each list request: --chunk-size when given, exactly (kubectl's meaning: 0 lists unpaged).
    Without it, a table is listed in kubectl's pages of 500, since its blocks (and so its bytes) depend on where
    the pages end (render.PagedTable); every other output prints the same bytes for any split, so it is listed in
    pages of OBJECT_CHUNK_SIZE: fewer round trips (the module docstring)."""
    if chunk_size is not None:
        return chunk_size
    return OBJECT_CHUNK_SIZE if out_fmt.objects else DEFAULT_CHUNK_SIZE


@record
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
    if any(not name for name in args[1:]):  # `kates delete deploy "$NAME"` with NAME unset: never the collection
        raise UsageError("resource name may not be empty")
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


def run(
    state: State,
    args: list[str] | None,
    *,
    all_namespaces: bool = False,
    selector: str | None = None,
    field_selector: str | None = None,
    output: str | None = None,
    template: str | None = None,
    allow_missing_template_keys: bool = True,
    no_headers: bool = False,
    show_kind: bool = False,
    show_labels: bool = False,
    label_columns: list[str] | None = None,
    sort_by: str | None = None,
    chunk_size: int | None = None,
    ignore_not_found: bool = False,
    subresource: str | None = None,
    show_managed_fields: bool = False,
    watch: bool = False,
    watch_only: bool = False,
    filenames: list[str] | None = None,
    recursive: bool = False,
    output_watch_events: bool = False,
    stall_timeout: str | None = None,
    live: bool = False,
    raw: str | None = None,
) -> None:
    """`kates get` with its options as values (the command's help is in cli/getcommand.py, which parses them with
    click; cli/fastget.py parses the commonest command lines without it)."""
    if raw:  # kubectl's rawhttp.RawGet
        from .getraw import check, get_raw

        get_raw(state, check(raw, args or [], bool(watch or watch_only or selector), output))
        return
    if sort_by and (watch or watch_only):  # kubectl's words, before anything else is looked at
        state.env.stderr.write(
            "warning: --watch requested, --sort-by will be ignored for watch events received\n"
            if watch
            else "warning: --watch-only requested, --sort-by will be ignored\n"
        )
    check_printer_flags(output, show_labels, label_columns)
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
        from .manifests import one_file

        client, refs = manifest_targets(state, filenames, recursive)
        one_item = one_file(filenames, recursive)  # kubectl: only one file implies one item (stdin never does)
    else:
        one_item = True  # one name of one kind is one item
        targets = parse_targets(args or [])
        # inside a hook whose watcher answers the reads: no connection to the API server unless one is needed
        answered = None
        if os.environ.get(ENV_VAR) and not (subresource or watch or watch_only):
            from .hookreads import hook_client

            answered = hook_client(state, live)
        client = answered or state.client()
        refs = resolve_targets(client, targets)
        if all_namespaces and any(names and ref.namespaced for ref, names in refs):
            raise UsageError("a resource cannot be retrieved by name across all namespaces")
    if selector and any(names for _, names in refs):
        raise UsageError("name cannot be provided when a selector is specified")
    if subresource and not all(names for _, names in refs):
        raise UsageError("--subresource needs the names of the objects to get")
    opts: dict[str, Any] = {
        "all_namespaces": all_namespaces,
        "label_selector": selector,
        "field_selector": field_selector,
        "chunk_size": page_size(chunk_size, out_fmt),
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
            ignore_not_found=ignore_not_found,
        )
        return
    reads = None
    if os.environ.get(ENV_VAR) and not subresource and "namespaces" not in opts:  # a hook: the watcher may answer
        from .hookreads import HookReads

        reads = HookReads.of(client, live)
    errors: list[KatesError] = []
    # A one-shot read holds pages of JSON dicts, which have no cycles and are freed by reference counting; the cyclic
    # collector's passes over them cost about 10% of a 10k-object `get -o json` (measured). It is paused until the
    # output is written, and left as it was.
    collecting = gc.isenabled()
    gc.disable()
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
                sort_by or None,
                no_headers,
                show_managed_fields,
                reads,
                one_item,
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
                sort_by or None,
                reads,
                **view,
            )
    except KatesError as exc:  # one that stops everything (an unreachable server) comes after those collected
        errors.append(exc)
    finally:
        if collecting:
            gc.enable()
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


def namespaces_of(ref: ResourceRef, opts: dict[str, Any]) -> list[str | None]:
    """The namespaces to read `ref` in, one request each: [None] means the client's own (or none: cluster-scoped)."""
    several: list[str] = opts.get("namespaces") or []
    return list(several) if ref.namespaced and several and not opts["all_namespaces"] else [None]


def _list_pages(source: Any, ref: ResourceRef, opts: dict[str, Any], **extra: Any) -> Iterator[dict[str, Any]]:
    """A list's pages: those of each namespace in turn when several are asked for (kubectl's -A order). From the
    API server, each page's bytes are asked for while the one before is parsed and printed (Client.list_pages's
    `ahead`)."""
    from ..core.client import Client

    rest = {key: value for key, value in opts.items() if key != "namespaces"}
    if isinstance(source, Client):
        rest["ahead"] = True
    for ns in namespaces_of(ref, opts):
        if ns is None:
            yield from source.list_pages(ref, **rest, **extra)
        else:
            yield from source.list_pages(ref, ns, **rest, **extra)


def named_objects(
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
    sort_by: str | None,
    no_headers: bool,
    show_managed_fields: bool = False,
    reads: HookReads | None = None,
    one_item: bool = True,
) -> None:
    """The objects in the -o format: one object named alone (`one_item`: not from stdin or several files) prints
    bare, anything else as a List."""
    out = state.env.stdout
    fmt = out_fmt.format
    stream_names = fmt == "name" and not sort_by
    single = one_item and len(refs) == 1 and len(refs[0][1]) == 1
    objects: list[dict[str, Any]] = []
    if fmt in ("json", "yaml") and not sort_by and not single:
        from .listout import ListWriter

        # a List rendered page by page into a spool: one page held at a time, nothing printed before the end
        spooled: ListWriter | None = ListWriter(fmt)
    else:
        spooled = None
    try:
        for ref, names in refs:
            if names:
                fetch = reads.get if reads is not None else lambda r, n, ns=None: client.get(r, n, ns, subresource)
                found = named_objects(ref, names, fetch, errors, ignore_not_found, namespaces_of(ref, opts))
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
            except OutputError:
                raise  # the output failed, not the list: said as it is (cli/app.py), never as a list cut short
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
    if sort_by and not single:  # kubectl sorts the List it prints (of one object too), never a single object
        from .jsonpath.gosort import sort_list

        objects = sort_list(objects, sort_by)
    if fmt == "name":
        for obj in objects:
            out.write(f"{client.ref_for(obj).kind_group}/{obj['metadata']['name']}\n")
        return
    if fmt == "custom-columns":  # the header alone for an empty list; the rows before a failing one (kubectl's)
        from .customcolumns import custom_columns

        text, error = custom_columns(out_fmt.columns, objects, no_headers and not out_fmt.from_file)
        out.write(text)
        if error is not None:
            raise error
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
    sort_by: str | None,
    reads: HookReads | None,
    *,
    no_headers: bool,
    show_kind: bool,
    show_labels: bool,
    label_columns: list[str],
) -> None:
    """One aligned table per kind, as kubectl's printer makes them: a blank line between kinds (unless headerless),
    names prefixed with their kind when more than one kind answered (a failed kind, or one whose named objects are
    all missing, does not count), and "No resources found" only when nothing printed and nothing failed (naming the
    namespace only when every kind asked for is namespaced, as kubectl does)."""
    out = state.env.stdout
    answers = [
        (ref, _table_pages(client, ref, names, opts, errors, ignore_not_found, subresource, sort_by, reads))
        for ref, names in refs
    ]
    if sort_by and "namespaces" not in opts:  # every page is read already when sorting
        listed = [(ref, list(pages) if pages is not None else None) for ref, pages in answers]
        _sort_tables(refs, listed, sort_by)
        answers = list(listed)
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
        except OutputError:
            raise  # the output failed, not the list (cli/app.py says so)
        except KatesError as exc:  # a later page failed: what printed stays (flushed below), and the error says so
            cut = ListCutShort(ref, read, last, exc, printed=True)
            if not isinstance(exc, ApiError):
                raise cut from exc  # the server is gone: stop (the rows held are written first, below)
            errors.append(cut)
        finally:
            _write(out, table.flush())
    if not printed_any and not errors and not ignore_not_found:
        if all(ref.namespaced for ref, _ in refs) and not opts["all_namespaces"]:
            named = opts.get("namespaces") or [state.namespace or client.namespace]
            plural = "s" if len(named) > 1 else ""
            state.env.stderr.write(f"No resources found in {', '.join(named)} namespace{plural}.\n")
        else:
            state.env.stderr.write("No resources found\n")


def _sort_tables(
    refs: list[tuple[ResourceRef, list[str]]],
    answers: list[tuple[ResourceRef, list[dict[str, Any]] | None]],
    sort_by: str,
) -> None:
    """kubectl 1.37 sorts the rows of a listed kind's Table, but when the server answered with several Tables (one per
    kind listed, one per object named) its RuntimeSorter sorts those Table objects themselves, by the field read on
    each Table: usually one that no Table has, which fails before anything prints. That failure is kubectl's here
    too; where some Table has the field (`.kind`), the rows keep kates's order (README, "Printers: kubectl's bytes")."""
    from .jsonpath.gosort import sort_list

    named = {id(ref): bool(names) for ref, names in refs}
    tables = [
        page
        for ref, pages in answers
        for page in pages or []
        for _ in (page.get("rows") or [None] if named.get(id(ref)) else [None])
    ]
    if len(tables) > 1:
        sort_list(tables, sort_by)


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
    sort_by: str | None,
    reads: HookReads | None = None,
) -> Iterable[dict[str, Any]] | None:
    """One kind's Table pages, the first already fetched, or None when the kind failed (the error is collected) or
    none of its named objects exists. Named objects are joined into one page, so that they align as one table.
    Inside a hook (`reads`), the rows are still the server's, checked against the objects the run sees (a warning
    when they differ, cli/hookreads.py)."""
    try:
        if reads is not None:
            answered, hooked = _hook_table(client, ref, names, opts, errors, ignore_not_found, sort_by, reads)
            if answered:
                return hooked
        if names:
            found = named_objects(
                ref,
                names,
                lambda r, n, ns=None: client.get_table(r, n, ns, subresource),
                errors,
                ignore_not_found,
                namespaces_of(ref, opts),
            )
            if not found:
                return None
            pages: Iterable[dict[str, Any]] = [_joined(found)]
            if sort_by:
                pages = [_sorted_table(list(pages), sort_by)]
        else:
            listing = _list_pages(client, ref, opts, table=True, include_object=bool(sort_by))
            first = next(listing, None)
            pages = itertools.chain([first], listing) if first is not None else []
            if sort_by:  # sorting needs every row first
                read: list[dict[str, Any]] = [first] if first is not None else []
                try:
                    read += listing
                except KatesError as exc:
                    rows = [row for page in read for row in page.get("rows") or []]
                    raise ListCutShort(ref, len(rows), None, exc, printed=False) from exc
                pages = [_sorted_table(read, sort_by)]
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
    sort_by: str | None,
    reads: HookReads,
) -> tuple[bool, list[dict[str, Any]] | None]:
    """Whether the watcher answered, and the table of what the hook run sees (None: nothing to print)."""

    def fetch(present: list[str]) -> list[dict[str, Any]]:
        if names:
            found = named_objects(ref, present, lambda r, n: client.get_table(r, n), errors, ignore_not_found)
            return [_joined(found)] if found else []
        return list(client.list_pages(ref, table=True, include_object=bool(sort_by), **opts))

    answer = reads.tables(ref, names, opts, fetch)
    if answer is None:
        return False, None
    pages, missing = answer
    if not ignore_not_found:
        errors.extend(missing)
    pages = [p for p in pages if p.get("rows")] or pages[:1]
    if not pages or (names and not any(p.get("rows") for p in pages)):
        return True, None
    if sort_by:
        pages = [_sorted_table(pages, sort_by)]
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


def _sorted_table(pages: list[dict[str, Any]], sort_by: str) -> dict[str, Any]:
    """Join table pages into one, its rows in the order kubectl's --sort-by gives the rows of one Table (over each
    row's full object)."""
    from .jsonpath.gosort import sort_table

    table = _joined(pages)
    if table:
        rows = table["rows"]
        table["rows"] = [rows[i] for i in sort_table([row.get("object") or {} for row in rows], sort_by)]
    return table
