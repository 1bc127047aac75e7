"""`kates get --watch`: list, then print every change of one or several kinds until interrupted.

Invariants:
- Each kind is followed by a core watch stream, so a dropped connection, a server timeout or an API server restart
  resumes (or relists) instead of ending the command; a relist prints only what differs from what was shown.
- Output lines from several streams never interleave mid-line (one lock around printing).
- Several namespaces (-n a,b): one stream per namespace and kind, all printing through the kind's one printer (one
  table); a stream's relist only compares against what was shown from its own namespace.
- A silent connection is noticed within `--stall-timeout` (30 s), said on stderr and resumed, as in `kates watch`.
- Every format but the server's tables is written as kubectl's watch writes it: through kubectl's tabwriter (one per
  kind, widths remembered), flushed once after the first list and after each later object, so a tab in a template's
  text aligns and a custom-columns table prints its header once, the first list's rows aligned together.
- Named objects are read before anything is watched, as kubectl reads them: the first that fails is the error, with
  nothing printed (a missing one with --ignore-not-found ends the command at once, exit 0). Several names of one kind
  are printed (not with --watch-only), then refused with kubectl's words: it cannot watch them.
- With --output-watch-events every format but -o name and the tables prints the event `{type, object}` (JSON, YAML
  and KYAML write it; custom columns, JSONPath and Go templates read it: `.type`, `.object.metadata.name`), as
  kubectl's printers are handed a metav1.WatchEvent. JSON is Go's (core/gojson.py), the compact line kubectl writes.
- A printer failing on an object is kubectl's `unable to output the provided object: ...` (in the first list nothing
  held by the tabwriter is printed, as in kubectl). Deliberately not kubectl's: a failure on a later event ends the
  watch with that error and the usage exit code (kubectl ends it with exit 0 and no word), and custom columns that do
  not parse are refused before listing (kubectl, on an empty list, waits for the first event and then exits 0).
"""

from __future__ import annotations

import functools
import io
import threading
from typing import TYPE_CHECKING, Any

from ..errors import KatesError, NotFound, UsageError
from . import render
from .state import State

if TYPE_CHECKING:
    from ..core.accumulator import Entry
    from ..core.client import Client
    from ..core.mapping import ResourceRef
    from .get import Output

Key = tuple[str, str]


class DocSeparator:
    """kubectl's YAML printer writes `---` between documents, not before the first; shared by every kind."""

    def __init__(self) -> None:
        self.count = 0

    def next(self) -> str:
        self.count += 1
        return "---\n" if self.count > 1 else ""


def _event_cell(event: str) -> str:
    """kubectl pads the event types to the width of MODIFIED, so its EVENT column is wider than its words."""
    return event.ljust(len("MODIFIED"))


def _unprintable(exc: UsageError) -> UsageError:
    """kubectl's words for a printer failing on an object under -w."""
    return UsageError(f"unable to output the provided object: {exc.message}", hint=exc.hint)


def _parse_columns(out_fmt: Output) -> None:
    """Custom columns are parsed before anything is listed: a template that does not parse is kubectl's error for the
    first object (kubectl finds it there, printing nothing; on an empty list, only at the first event, when it exits
    0 without a word: kates says it at once)."""
    if out_fmt.format == "custom-columns":
        for _, path in out_fmt.columns:
            try:
                path.parse()
            except UsageError as exc:
                raise _unprintable(exc) from None


class KindPrinter:
    """Prints one kind's changes; implements the stream Sink protocol."""

    def __init__(
        self,
        state: State,
        client: Client,
        ref: ResourceRef,
        out_fmt: Output,
        view: dict[str, Any],
        opts: dict[str, Any],
        events: bool,
        lock: threading.Lock,
        failed: threading.Event,
        separator: DocSeparator | None = None,
        show_managed_fields: bool = False,
    ):
        self.state, self.client, self.ref, self.out_fmt = state, client, ref, out_fmt
        self.separator = separator or DocSeparator()
        self.show_managed_fields = show_managed_fields
        self.events = events
        self.lock = lock
        self.failed = failed
        self.error: KatesError | None = None
        self.known: dict[Key, str] = {}  # key -> resourceVersion shown
        self.rows: dict[Key, list[str]] = {}  # key -> last table row shown
        self.table = render.PlainTable()
        self.headers_done = view["no_headers"] and not out_fmt.from_file  # a columns file's header always prints
        self.listing = out_fmt.format not in ("table", "wide")  # the first list's text is flushed as one (kubectl's)
        self.tview = render.TableView(
            wide=out_fmt.format == "wide",
            with_namespace=(opts["all_namespaces"] or "namespaces" in opts) and ref.namespaced,
            kind_prefix=ref.kind_group if view["show_kind"] else None,
            show_labels=view["show_labels"],
            label_columns=view["label_columns"],
        )

    # -- printing --------------------------------------------------------------------------------------------

    def _write_rows(self, rows: list[list[str]], headers: list[str] | None) -> None:
        out = self.state.env.stdout
        chunk = rows
        if not self.headers_done and headers is not None:
            chunk = [headers, *rows]
            self.headers_done = True
        out.write(self.table.format(chunk))
        out.flush()

    def print_table(self, table: dict[str, Any], event: str) -> None:
        rows = self.tview.rows(table)
        headers = self.tview.headers(table)
        if self.events:
            headers = ["EVENT", *headers]
            rows = [[_event_cell(event), *r] for r in rows]
        for row, raw in zip(rows, table.get("rows") or [], strict=False):
            meta = (raw.get("object") or {}).get("metadata") or {}
            key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
            self.known[key] = str(meta.get("resourceVersion") or "")
            self.rows[key] = row[1:] if self.events else row
        if rows:
            self._write_rows(rows, headers)

    def show(self, event: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        fmt = self.out_fmt.format
        if (
            fmt in ("json", "yaml", "kyaml")
            and "managedFields" in meta
            and not (self.show_managed_fields or self.events)
        ):
            # kubectl hides them from objects, though not from --output-watch-events' event wrappers
            obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
        with self.lock:
            if event == "DELETED":
                self.known.pop(key, None)
            else:
                self.known[key] = str(meta.get("resourceVersion") or "")
            if fmt in ("table", "wide"):
                if event == "DELETED":
                    row = self.rows.pop(key, None)
                    if row is not None:
                        self._write_rows([[_event_cell(event), *row] if self.events else row], None)
                    return
                try:
                    table = self.client.get_table(self.ref, key[1], key[0] or None)
                except NotFound:
                    return  # already gone again; its DELETED event follows
                self.print_table(table, event)
                return
            text = io.StringIO()
            try:
                self._render(event, obj, text)
            except UsageError as exc:  # what kubectl's tabwriter let out before it, then kubectl's error
                self._emit(text.getvalue(), flush=False)
                raise _unprintable(exc) from None
            self._emit(text.getvalue(), flush=not self.listing)

    def _render(self, event: str, obj: dict[str, Any], out: io.StringIO) -> None:
        """The text of one object (or event) in the -o format, before kubectl's tabwriter."""
        fmt = self.out_fmt.format
        if fmt == "name":
            name = (obj.get("metadata") or {}).get("name") or ""
            out.write(f"{self.ref.kind_group}/{name}\n")  # kubectl names no event here, even with --output-watch-events
        elif fmt == "yaml":
            out.write(self.separator.next() + render.to_yaml({"type": event, "object": obj} if self.events else obj))
        elif fmt == "kyaml":  # each object its own document, `---` and all
            out.write(render.to_kyaml(render.watch_event(event, obj) if self.events else obj))
        elif fmt == "custom-columns":
            # kubectl's printer: the header before the first row; with --output-watch-events the columns read the
            # event (`.type`, `.object.metadata.name`), as kubectl's do
            from .jsonpath import column_cell

            target = {"type": event, "object": obj} if self.events else obj
            cells = [column_cell(path, target) for _, path in self.out_fmt.columns]
            if not self.headers_done:
                out.write("\t".join(h for h, _ in self.out_fmt.columns) + "\n")
                self.headers_done = True
            out.write("\t".join(cells) + "\n")
        elif fmt in ("jsonpath", "jsonpath-as-json", "go-template"):
            # kubectl adds nothing between objects (`{.x}{"\\n"}` is the user's to write); with
            # --output-watch-events the template reads the event (`.type`, `.object.metadata.name`), as kubectl's does
            template = self.out_fmt.columns[0][1]
            target = {"type": event, "object": obj} if self.events else obj
            if fmt == "jsonpath":
                out.write(template.render(target))
            elif fmt == "jsonpath-as-json":
                out.write(template.render_json(target))
            else:
                template.write(out, target)
        elif self.events:  # kubectl: one compact line per event, a Go struct (type, then object; sorted keys)
            from ..core import gojson
            from ..core.accumulator import canonical_json

            raw = canonical_json(obj)
            if gojson.floats_may_differ(raw):  # Go's floats, as kubectl's json.Marshal writes them
                raw = canonical_json(gojson.go_floats(obj))
            out.write(f'{{"type":"{event}","object":{raw.decode()}}}\n')
        else:
            out.write(render.to_json(obj))

    def _emit(self, text: str, flush: bool) -> None:
        """Write `text` through kubectl's tabwriter, which kubectl's watch writes every format through (a tab in a
        template's text aligns; a line of one cell goes out at once), flushed unless the first list is still being
        printed (kubectl flushes it as one block)."""
        writer = self.table.writer
        if writer.empty and text.endswith("\n") and "\t" not in text and "\v" not in text and "\f" not in text:
            chunk = text  # lines of one cell each: the tabwriter passes them through as they are
        else:
            chunk = writer.write(text) + (writer.flush() if flush else "")
        if chunk:
            self.state.env.stdout.write(chunk)
            self.state.env.stdout.flush()

    def listed(self) -> None:
        """The first list is printed: what the tabwriter holds of it goes out, as one block."""
        with self.lock:
            self.listing = False
            self._emit("", flush=True)

    # -- the Sink protocol -----------------------------------------------------------------------------------

    def replace(self, query: str, entries: list[Entry], rv: str, namespace: str | None = None) -> None:
        """The stream's (re)list: show what differs from what was already shown (in `namespace`, if given: the
        stream of one of several namespaces)."""
        current = {e.key: e for e in entries}
        with self.lock:
            known = {key: rv for key, rv in self.known.items() if namespace is None or key[0] == namespace}
        for key, entry in sorted(current.items()):
            if known.get(key) != entry.rv:
                self.show("ADDED" if key not in known else "MODIFIED", entry.obj)
        for key in sorted(set(known) - set(current)):
            meta = {"name": key[1], "namespace": key[0]} if key[0] else {"name": key[1]}
            self.show("DELETED", {"apiVersion": self.ref.api_version, "kind": self.ref.kind, "metadata": meta})

    def event(self, query: str, event_type: str, entry: Entry) -> None:
        self.show(event_type, entry.obj)

    def bookmark(self, query: str, rv: str) -> None:
        pass

    def fail(self, error: KatesError) -> None:
        self.error = error
        self.failed.set()


def _named_first(
    client: Client,
    refs: list[tuple[ResourceRef, list[str]]],
    out_fmt: Output,
    opts: dict[str, Any],
    several_names: bool,
) -> list[tuple[ResourceRef, list[dict[str, Any]]]] | KatesError:
    """Every named object is read before anything is watched, as kubectl reads them: the first that fails is the
    error, before anything prints. With several names of a kind, what was read is returned to be printed (as Tables
    for a table), since kubectl prints them and then refuses to watch them; otherwise nothing is."""
    from .get import named_objects, namespaces_of

    table = out_fmt.format in ("table", "wide")
    read: list[tuple[ResourceRef, list[dict[str, Any]]]] = []
    for ref, names in refs:
        if not names:
            continue
        errors: list[KatesError] = []

        def fetch(r: ResourceRef, name: str, ns: str | None = None) -> dict[str, Any]:
            if table and several_names:
                return client.get_table(r, name, ns)
            return client.get(r, name, ns)

        found = named_objects(ref, names, fetch, errors, False, namespaces_of(ref, opts))
        if errors:
            return errors[0]
        read.append((ref, found))
    return read if several_names else []


class NamespaceSink:
    """One namespace's stream into a kind's printer shared by several namespaces."""

    def __init__(self, printer: KindPrinter, namespace: str) -> None:
        self.printer, self.namespace = printer, namespace

    def replace(self, query: str, entries: list[Entry], rv: str) -> None:
        self.printer.replace(query, entries, rv, namespace=self.namespace)

    def event(self, query: str, event_type: str, entry: Entry) -> None:
        self.printer.event(query, event_type, entry)

    def bookmark(self, query: str, rv: str) -> None:
        pass

    def fail(self, error: KatesError) -> None:
        self.printer.fail(error)


def watch_objects(
    state: State,
    client: Client,
    refs: list[tuple[ResourceRef, list[str]]],
    out_fmt: Output,
    opts: dict[str, Any],
    view: dict[str, Any],
    *,
    list_first: bool,
    events: bool,
    show_managed_fields: bool = False,
    ignore_not_found: bool = False,
) -> None:
    from ..core.accumulator import Query, QueryState
    from ..core.watch import DEFAULT_STALL_TIMEOUT, Stream
    from .watch import stderr_notice

    _parse_columns(out_fmt)
    lock = threading.Lock()
    failed = threading.Event()
    streams = []
    printers = []
    separator = DocSeparator()
    notice = stderr_notice(state)

    def printer_of(ref: ResourceRef) -> KindPrinter:
        return KindPrinter(
            state, client, ref, out_fmt, view, opts, events, lock, failed, separator, show_managed_fields
        )

    named = _named_first(client, refs, out_fmt, opts, several_names=any(len(names) > 1 for _, names in refs))
    if isinstance(named, KatesError):
        if ignore_not_found and isinstance(named, NotFound):
            return  # kubectl: nothing printed, exit 0
        raise named
    if named:  # several names: kubectl prints them, then cannot watch them
        for ref, found in named:
            printer = printer_of(ref)
            if list_first and out_fmt.format in ("table", "wide"):  # one table, aligned as one (kubectl's)
                with lock:
                    printer.print_table({**found[0], "rows": [r for t in found for r in t.get("rows") or []]}, "ADDED")
            elif list_first:
                for obj in found:
                    printer.show("ADDED", obj)
            printer.listed()
        raise UsageError("you may only watch a single resource or type of resource at a time")
    for ref, names in refs:
        printer = printer_of(ref)
        several: list[str | None] = (
            (opts.get("namespaces") or []) if ref.namespaced and not opts["all_namespaces"] else []
        )
        for one in several or [None]:
            ns = None if opts["all_namespaces"] or not ref.namespaced else (one or state.namespace or client.namespace)
            sink: Any = NamespaceSink(printer, one) if one is not None else printer
            fields = opts["field_selector"]
            if len(names) == 1:  # kubectl watches a single named object by field selector
                fields = ",".join(f for f in (fields, f"metadata.name={names[0]}") if f)
            query = Query(ref.kind_group, ref.group_resource, ns, opts["label_selector"], fields)
            pages = functools.partial(
                client.list_pages,
                ref,
                ns,
                label_selector=query.label_selector,
                field_selector=fields,
                all_namespaces=ns is None and ref.namespaced,
                chunk_size=opts["chunk_size"],  # get.page_size: --chunk-size exactly, else by output
            )
            if list_first and out_fmt.format in ("table", "wide"):
                for page in pages(table=True):
                    with lock:
                        printer.print_table(page, "ADDED")
            elif list_first:
                for page in pages():
                    for item in page.get("items") or []:
                        printer.show("ADDED", item)
            else:
                # --watch-only: what exists now counts as shown; only later changes print
                for page in pages():
                    for item in page.get("items") or []:
                        meta = item["metadata"]
                        printer.known[(meta.get("namespace") or "", meta["name"])] = meta["resourceVersion"]
            state_ = QueryState(query, ref.group, ref.resource, ref.api_version, ref.kind)
            streams.append(
                Stream(
                    client.transport,
                    client.discovery,
                    sink,
                    state_,
                    ref,
                    stall_timeout=opts.get("stall_timeout", DEFAULT_STALL_TIMEOUT),
                    notice=notice,
                )
            )
            streams[-1].kind_gone_hint = None  # (watch's --wait-for-kinds is not get's)
        printer.listed()  # (every namespace's list, for several: one block)
        printers.append(printer)
    for s in streams:
        s.start()
    try:
        failed.wait()
    finally:
        for s in streams:
            s.stop()
    for p in printers:
        if p.error is not None:
            raise p.error
