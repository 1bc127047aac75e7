"""kubectl's List of several objects in -o json or -o yaml, written a page at a time so that memory stays flat.

kubectl wraps the objects of `get` in `{"apiVersion": "v1", "items": [...], "kind": "List", "metadata":
{"resourceVersion": ""}}` (render.as_list). Holding every object of a long list to print that one document made
`kates get` grow with the list (about 10 KB per 1 KB ConfigMap). Here each page's items are turned into their text
as the page arrives and the page is dropped.

Invariants:
- The bytes are exactly those of `render.to_json(render.as_list(items))` (or `render.to_yaml`), for any split of
  the items into pages, empty pages included (tests/unit/test_listout.py compares them).
- Nothing reaches the output before `finish`: the text goes to a spool (an unlinked temporary file, kept in memory
  only while it is small), so a list that fails after its first page is never printed in part (cli/get.py), and the
  memory held is one page's objects and text, whatever the list's length.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from typing import IO, Any

from . import render

SPOOL_IN_MEMORY = 1 << 20  # a spool smaller than this never touches the disk
_COPY_CHUNK = 1 << 20

_JSON_HEAD = '{\n    "apiVersion": "v1",\n    "items": ['
_JSON_TAIL = '    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n'
_JSON_EMPTY = _JSON_HEAD + "],\n" + _JSON_TAIL[len("    ],\n") :]
_YAML_HEAD = "apiVersion: v1\nitems:\n"
_YAML_TAIL = 'kind: List\nmetadata:\n  resourceVersion: ""\n'
_YAML_EMPTY = 'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n'
_LINE = re.compile(r"(?m)^")


class ListWriter:
    """The List of every item `add`ed, in order, in `fmt` ("json" or "yaml"); `finish` writes it out."""

    def __init__(self, fmt: str) -> None:
        if fmt not in ("json", "yaml"):
            raise ValueError(fmt)
        self.fmt = fmt
        self.count = 0
        self._spool: IO[str] = tempfile.SpooledTemporaryFile(SPOOL_IN_MEMORY, mode="w+", encoding="utf-8")

    def add(self, items: Sequence[dict[str, Any]]) -> None:
        """Append one page's items (rendered now: the caller may drop them)."""
        if not items:
            return
        if self.fmt == "json":
            text = _json_items(items)
            self._spool.write(text if not self.count else ",\n" + text)
        else:
            from .yamlout import Printer

            # a printer per page: its memos of strings and key orders would otherwise grow with the list
            self._spool.write(Printer().dump(items))
        self.count += len(items)

    def finish(self, out: IO[str]) -> None:
        """Write the whole List to `out`, and drop the spool."""
        try:
            if not self.count:
                out.write(_JSON_EMPTY if self.fmt == "json" else _YAML_EMPTY)
                return
            out.write(_JSON_HEAD + "\n" if self.fmt == "json" else _YAML_HEAD)
            self._spool.seek(0)
            shutil.copyfileobj(self._spool, out, _COPY_CHUNK)
            out.write("\n" + _JSON_TAIL if self.fmt == "json" else _YAML_TAIL)
        finally:
            self.close()

    def close(self) -> None:
        self._spool.close()


def _json_items(items: Sequence[dict[str, Any]]) -> str:
    """The items as they stand inside the List's `items` array: each line indented two levels (8 spaces) deeper
    than render.to_json writes the object alone; no newline after the last."""
    text = render.to_json(list(items))  # "[\n    {\n        ...\n    }\n]\n": the items already one level in
    inner = text[2:-3]
    return _LINE.sub("    ", inner)
