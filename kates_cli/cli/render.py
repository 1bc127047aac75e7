"""Pure rendering of plain dicts: kubectl-style aligned tables, server-side Table rows, JSON, YAML and names.

Invariants:
- Nothing here talks to the API server or reads global state; every function maps values to text.
- Plain tables are written through kubectl's tabwriter (cli/tabwriter.py: minimum width 6, padding 3, last column
  unpadded, a tab or vertical tab in a cell ends it), and remember column widths across chunks so that streamed pages
  line up as kubectl's watch output does. A Table cell is cut at its first line break and ESC shows as `^[`.
- JSON output has no depth limit: what orjson refuses (past 255 levels, integers past 64 bits) is written by a
  non-recursive writer with the same bytes.
- JSON output is Go's encoding/json text, as kubectl's: `<`, `>`, `&`, U+2028 and U+2029 escaped, floats in Go's
  notation (core/gojson.py); text without those costs only gojson's scans, never a walk of the objects.
- `PagedTable` writes a list's pages in the blocks kubectl 1.37 writes them (every 100 rows of a page), so a
  streamed table has kubectl's bytes whatever the page size.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from .tabwriter import TabWriter

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any

Row = list[str]

_MIN_WIDTH = 6
_PADDING = 3
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class PlainTable:
    """kubectl's tabwriter (cli/tabwriter.py): feed rows in chunks; each chunk is formatted with the widest cells seen
    so far. A tab or vertical tab inside a cell ends that cell for tabwriter too (the rest moves into the next
    column, and the column blocks break around that row, as kubectl's do). Tables use a minimum column width of 6."""

    def __init__(self, min_width: int = _MIN_WIDTH) -> None:
        self.writer = TabWriter(min_width, _PADDING)
        self.widths = self.writer.max_widths  # RememberWidths: what every later chunk is aligned to
        self.min_width = min_width

    def widen(self, column: int, cell_width: int) -> None:
        """Make `column` at least as wide as a cell of `cell_width` characters would (as kubectl pads the header
        cell, or a headerless table's first row, to the page's widest cell)."""
        while len(self.widths) <= column:
            self.widths.append(self.min_width)
        self.widths[column] = max(self.widths[column], cell_width + _PADDING)

    def format(self, rows: Sequence[Row]) -> str:
        text = self.writer.write("".join("\t".join(row) + "\n" for row in rows))
        return text + self.writer.flush()


FLUSH_ROWS = 100  # kubectl 1.37's table printer flushes its tabwriter every 100 rows of a page (flushInterval)


class PagedTable:
    """One kind's table fed page by page, written as kubectl 1.37 writes it: rows are held and let out every
    `FLUSH_ROWS` rows of a page (and at the end), each block aligned with every width seen so far; and before a page's
    rows, the columns widen to the page's widest cells, since kubectl pads the header (or the page's first row) to
    them. Pages shorter than `FLUSH_ROWS` are therefore held until a later flush, as kubectl holds them."""

    def __init__(self, bold_header: bool = False) -> None:
        self.plain = PlainTable()
        self.pending: list[Row] = []
        self.bold_header = bold_header  # for a terminal that allows colour
        self._header_held = False

    def page(self, rows: Sequence[Row], widest: Sequence[int], header: Row | None = None) -> str:
        """Add a page's rows (after `header`, if it is to be printed); return the text to write now."""
        for i, width in enumerate(widest[:-1]):  # the last column is never padded
            self.plain.widen(i, max(width, len(header[i]) if header else 0))
        if header is not None:  # on the first page with rows, so it opens the next block
            self.pending.append(header)
            self._header_held = True
        out = []
        for i, row in enumerate(rows, 1):
            self.pending.append(row)
            if i % FLUSH_ROWS == 0:
                out.append(self.flush())
        return "".join(out)

    def flush(self) -> str:
        """The rows held, aligned; empty when none are."""
        if not self.pending:
            return ""
        text = self.plain.format(self.pending)
        if self._header_held and self.bold_header:
            text = bold_first_line(text)
        self.pending = []
        self._header_held = False
        return text


def cell_text(value: Any, whole: bool = False) -> str:
    """A Table cell as kubectl prints it (Go's fmt.Sprint of the decoded value: `1.2345675e+06`, `[a <nil>]`,
    `map[k:v]`), cut at the first line break and ESC shown as `^[`, unless `whole`. A null cell (a CRD printer
    column whose jsonPath finds nothing) is empty: `<none>` in built-in tables is the server's text."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value
    elif isinstance(value, int) and not isinstance(value, bool) and _INT64_MIN <= value <= _INT64_MAX:
        text = str(value)
    else:  # floats, booleans, lists and maps: Go's %v (an integer past int64 is a float64 to Kubernetes)
        from .jsonpath.gofmt import _sprint

        text = _sprint(value)
    if whole:
        return text
    for i, ch in enumerate(text):
        if ch in "\f\n\r":
            text = text[:i] + "..."
            break
    return text.replace("\x1b", "^[")  # kubectl's terminal escaper


def bold_first_line(text: str) -> str:
    """`text` with its first line (a table's header) in bold, for a terminal that allows colour."""
    head, sep, rest = text.partition("\n")
    return f"\x1b[1m{head}\x1b[0m{sep}{rest}"


def format_labels(labels: dict[str, str] | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


class TableView:
    """How to turn server-side Table pages into rows: which columns, and kubectl's decorations."""

    def __init__(
        self,
        *,
        wide: bool = False,
        with_namespace: bool = False,
        kind_prefix: str | None = None,
        show_labels: bool = False,
        label_columns: Sequence[str] = (),
    ):
        self.wide = wide
        self.with_namespace = with_namespace
        self.kind_prefix = kind_prefix
        self.show_labels = show_labels
        self.label_columns = list(label_columns)

    def _visible(self, table: dict[str, Any]) -> list[int]:
        cols = table.get("columnDefinitions") or []
        return [i for i, c in enumerate(cols) if self.wide or not c.get("priority")]

    def headers(self, table: dict[str, Any]) -> Row:
        cols = table.get("columnDefinitions") or []
        names = [str(cols[i].get("name", "")).upper() for i in self._visible(table)]
        if self.with_namespace:
            names.insert(0, "NAMESPACE")
        names += [label.rsplit("/", 1)[-1].upper() for label in self.label_columns]
        if self.show_labels:
            names.append("LABELS")
        return names

    def widest(self, table: dict[str, Any]) -> list[int]:
        """Each column's widest cell in this page, as kubectl 1.37 measures it before printing the page: in bytes,
        of the text before a multi-line cell is cut."""
        rows = self.rows(table, whole=True)
        return [max(len(cell.encode()) for cell in column) for column in zip(*rows, strict=True)] if rows else []

    def rows(self, table: dict[str, Any], whole: bool = False) -> list[Row]:
        visible = self._visible(table)
        out: list[Row] = []
        for row in table.get("rows") or []:
            cells = row.get("cells") or []
            meta = (row.get("object") or {}).get("metadata") or {}
            texts = [cell_text(cells[i], whole) if i < len(cells) else "" for i in visible]
            if self.kind_prefix and texts:
                texts[0] = f"{self.kind_prefix}/{texts[0]}"
            if self.with_namespace:
                texts.insert(0, str(meta.get("namespace", "")))
            labels = meta.get("labels") or {}
            texts += [str(labels.get(label, "")) for label in self.label_columns]
            if self.show_labels:
                texts.append(format_labels(labels))
            out.append(texts)
        return out


def to_json(obj: Any) -> str:
    """kubectl's JSON: 4-space indent, sorted keys, UTF-8 kept but for Go's escapes, Go's floats."""
    return json_bytes(obj).decode() + "\n"


def json_bytes(obj: Any, depth: int = 0) -> bytes:
    """to_json's text as UTF-8, without the final newline, every line `depth` levels (4 spaces each) further in."""
    text, cut = json_parts(obj, depth)
    return text[cut : len(text) - cut] if cut else text


def json_parts(obj: Any, depth: int = 0) -> tuple[bytes, int]:
    """json_bytes's text as `(data, cut)`: the text is `data[cut:len(data) - cut]`. A caller that only writes the
    text out cuts it through a memoryview, without the copy a slice makes (a page of a list is megabytes).
    The bytes are Go's (core/gojson.py): where orjson's text may hold a float Go writes otherwise, the object is
    written again with Go's floats, and Go's escapes are made where the text holds a character Go escapes."""
    from ..core import gojson

    data, cut = _orjson_parts(obj, depth)
    if gojson.floats_may_differ(data):
        go = gojson.go_floats(obj)
        if go is not obj:
            data, cut = _orjson_parts(go, depth)
    return gojson.escaped(data), cut


def _orjson_parts(obj: Any, depth: int) -> tuple[bytes, int]:
    """json_parts's text as orjson writes it. orjson writes 2-space indents about 3x faster than the json module;
    they are made 4 by doubling every two spaces where no string holds two in a row, else by `_four_spaces`. One
    level further in, the object is written as the one item of a list, whose first and last lines are the cut."""
    import orjson

    wrap = depth == 1
    try:
        data = orjson.dumps(
            [obj] if wrap else obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
        )
    except orjson.JSONEncodeError as exc:
        # orjson stops at 255 levels (the API server takes far deeper objects) and at integers past 64 bits (a
        # local manifest may hold one): the slower writer below has neither limit
        if "Recursion limit" not in str(exc) and "64-bit" not in str(exc):
            raise
        from ..core.deepjson import dumps_indented

        data = dumps_indented(obj)
        if not depth:
            return data, 0
        pad = b"    " * depth
        return pad + data.replace(b"\n", b"\n" + pad), 0
    if depth <= 1 and _no_double_space(orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)):
        # every two spaces are indentation: doubling each pair, one pass in C, doubles every line's indent (about
        # 2x faster than `_four_spaces`, which splits the text into lines)
        text = data.replace(b"  ", b"    ")
    else:
        text = _four_spaces(data, 0 if wrap else depth)
    return text, 2 if wrap else 0  # the list's "[\n" and "\n]"


def _no_double_space(compact: bytes) -> bool:
    """Whether no string in this compact JSON holds two spaces in a row (compact JSON has no space outside its
    strings). A single byte is looked for first: memchr, about 10x faster than the search for two, settles the
    common case of strings without any space."""
    return b" " not in compact or b"  " not in compact


def _four_spaces(data: bytes, depth: int) -> bytes:
    """orjson's 2-space indented JSON with 4-space indents, `depth` levels further in. Every line break in JSON text
    is structural (strings hold theirs escaped), so the text splits (in C) into runs of a line break and its
    indentation, and the runs between them; each run is swapped for its new width by a dict lookup, also in C. A
    regular expression's per-line callback cost about 3x more."""
    parts = _LINE_BREAKS.split(data)
    wider = {run: b"\n" + b" " * (2 * len(run) - 2 + 4 * depth) for run in set(parts[1::2])}
    text = b"".join(map(wider.get, parts, parts))  # a text part is never a key: keys begin with the line break
    return b"    " * depth + text if depth else text


_LINE_BREAKS = re.compile(rb"(\n *)")


def to_yaml(obj: Any) -> str:
    """kubectl's YAML, byte for byte (see yamlout): block style, go-yaml's key order and quoting, so that every
    YAML reader reads back the same values."""
    from .yamlout import dump

    return dump(obj)


def to_kyaml(obj: Any) -> str:
    """kubectl's KYAML, byte for byte (see kyamlout): one `---` document per object."""
    from .kyamlout import dump

    return dump(obj)


def document(output: str | None, doc: Any) -> str:
    """`doc` as -o json, yaml or kyaml prints it (YAML when no format is named)."""
    if output == "json":
        return to_json(doc)
    return to_kyaml(doc) if output == "kyaml" else to_yaml(doc)


def hide_managed_fields(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The objects without metadata.managedFields, as kubectl prints a write's returned objects (copies where they
    had some)."""
    out = []
    for obj in objs:
        meta = obj.get("metadata")
        if isinstance(meta, dict) and "managedFields" in meta:
            obj = {**obj, "metadata": {k: v for k, v in meta.items() if k != "managedFields"}}
        out.append(obj)
    return out


def watch_event(event: str, obj: dict[str, Any]) -> dict[str, Any]:
    """A watch event as Go's encoding/json writes metav1.WatchEvent: `type` before `object` (struct order)."""
    from .kyamlout import Ordered

    return Ordered(type=event, object=obj)


def as_list(items: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """kubectl's wrapper for several objects in -o json|yaml."""
    return {"apiVersion": "v1", "items": list(items), "kind": "List", "metadata": {"resourceVersion": ""}}
