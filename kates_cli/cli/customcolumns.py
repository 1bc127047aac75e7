"""kubectl's custom-columns printer (k8s.io/kubectl pkg/cmd/get CustomColumnsPrinter) over a list of objects.

Invariants:
- The text is kubectl's byte for byte: the header line (unless `no_headers`; kubectl prints it for an empty list
  too), then one line per object, each cell as `jsonpath.column_cell` makes it, all written through kubectl's
  tabwriter (cli/tabwriter.py), so a cell holding a line break, `\\v` or `\\f` splits or breaks the alignment as
  kubectl's does.
- A spec is read as kubectl reads it: each column split and relaxed in turn (`parse_spec`, `parse_file`), its
  JSONPath parsed only when printing, after the header, as kubectl's printer parses it.
- A template that fails to parse, or a cell that fails to evaluate, stops the printing there: the header and the
  rows before it are kept (kubectl flushes them before it reports the error), and the error is returned, never
  raised half-way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ..errors import KatesError, UsageError
from .jsonpath import JSONPath, column_cell, relaxed_path
from .tabwriter import TabWriter

Columns = list[tuple[str, "ColumnPath"]]


class ColumnPath(JSONPath):
    """A column's JSONPath template, parsed when first used (kubectl parses it after printing the header)."""

    def __init__(self, template: str) -> None:  # not super().__init__, which parses at once
        self.template = template
        self.allow_missing_keys = True
        self._parsed = False

    def parse(self) -> None:
        """Parse the template: a `UsageError` with client-go's bare message when it is not one."""
        if not self._parsed:
            self._nodes = JSONPath._compile(self.template)._nodes
            self._parsed = True

    def _groups(self, data: Any) -> Any:
        self.parse()
        return super()._groups(data)


def parse_spec(spec: str) -> Columns:
    """`custom-columns=NAME:.metadata.name,RV:{.metadata.resourceVersion}` -> [(header, path)], as kubectl's
    NewCustomColumnsPrinterFromSpec reads it."""
    if not spec:
        raise UsageError("custom-columns format specified but no custom columns given")
    columns: Columns = []
    for part in spec.split(","):
        header, sep, expression = part.partition(":")
        if not sep:
            raise UsageError(f"unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>")
        columns.append((header, ColumnPath(relaxed_path(expression))))
    return columns


_GO_SPACE = "[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+"
_TEMPLATE_FORMAT = "Expected format is one line of space separated headers, one line of space separated column specs."


def parse_file(path: str) -> Columns:
    """`custom-columns-file=PATH`: a line of headers and a line of JSONPath expressions, whitespace-separated (Go's
    bufio.ScanWords); further lines are ignored."""
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        reason = (e.strerror or str(e)).lower()
        raise UsageError(f"error reading template {path}, open {path}: {reason}") from None
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    if text.endswith("\n"):
        lines.pop()
    if not text:
        lines = []
    if not lines:
        raise UsageError(f"invalid template, missing header line. {_TEMPLATE_FORMAT}")
    if len(lines) < 2:
        raise UsageError(f"invalid template, missing spec line. {_TEMPLATE_FORMAT}")
    headers = [w for w in re.split(_GO_SPACE, lines[0]) if w]
    specs = [w for w in re.split(_GO_SPACE, lines[1]) if w]
    if len(headers) != len(specs):
        raise UsageError(f"number of headers ({len(headers)}) and field specifications ({len(specs)}) don't match")
    return [(header, ColumnPath(relaxed_path(spec))) for header, spec in zip(headers, specs, strict=True)]


def custom_columns(columns: Columns, objects: Iterable[Any], no_headers: bool = False) -> tuple[str, KatesError | None]:
    """The text kubectl prints for `objects` under `columns`, and the error that stopped it (None when every row
    printed). `no_headers` is kubectl's --no-headers, which a template file's columns ignore (kubectl's does)."""
    writer = TabWriter()
    out: list[str] = []
    error: KatesError | None = None
    if not no_headers:
        out.append(writer.write("\t".join(header for header, _ in columns) + "\n"))
    try:
        for _, path in columns:
            path.parse()
        for obj in objects:
            out.append(writer.write("\t".join(column_cell(path, obj) for _, path in columns) + "\n"))
    except KatesError as exc:
        error = exc
    out.append(writer.flush())
    return "".join(out), error
