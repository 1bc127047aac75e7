"""kubectl's List of several objects in -o json or -o yaml, written a page at a time so that memory stays flat.

kubectl wraps the objects of `get` in `{"apiVersion": "v1", "items": [...], "kind": "List", "metadata":
{"resourceVersion": ""}}` (render.as_list). Holding every object of a long list to print that one document made
`kates get` grow with the list (about 10 KB per 1 KB ConfigMap). Here each page's items are turned into their text
as the page arrives and the page is dropped.

Invariants:
- The bytes are exactly those of `render.to_json(render.as_list(items))` (or `render.to_yaml`), for any split of
  the items into pages, empty pages included (tests/unit/test_listout.py compares them).
- Nothing reaches the output before `finish`: the text goes to a spool (`Spool`: memory while it is small, then an
  unlinked temporary file), so a list that fails after its first page is never printed in part (cli/get.py), and the
  memory held is one page's objects and text, whatever the list's length.
- The spool holds UTF-8 bytes, written to the output's binary buffer when it has one (a real stdout: no decoding
  and encoding again), else decoded; a spool on disk goes to a real stdout by sendfile where the kernel takes it.
  A page's text goes to the spool as a view of the rendered bytes, not a copy.
"""

from __future__ import annotations

import codecs
import errno
import io
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence

from ..errors import OutputError
from . import render

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of a list's start (bench B1)
if TYPE_CHECKING:
    from typing import IO, Any

SPOOL_IN_MEMORY = 1 << 20  # a spool smaller than this never touches the disk
SPOOL_HINT = "a list is kept in a temporary file until it is whole (in $TMPDIR): give that directory room"
_COPY_CHUNK = 1 << 20
_O_TMPFILE = getattr(os, "O_TMPFILE", 0)  # Linux's; 0 elsewhere
# sendfile's refusals of an output it cannot write to (man 2 sendfile), where a write would do
_NO_SENDFILE = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSOCK, errno.ESPIPE})

_JSON_HEAD = b'{\n    "apiVersion": "v1",\n    "items": [\n'
_JSON_TAIL = b'\n    ],\n    "kind": "List",\n    "metadata": {\n        "resourceVersion": ""\n    }\n}\n'
_JSON_EMPTY = b'{\n    "apiVersion": "v1",\n    "items": [],\n' + _JSON_TAIL[len(b"\n    ],\n") :]
_YAML_HEAD = b"apiVersion: v1\nitems:\n"
_YAML_TAIL = b'kind: List\nmetadata:\n  resourceVersion: ""\n'
_YAML_EMPTY = b'apiVersion: v1\nitems: []\nkind: List\nmetadata:\n  resourceVersion: ""\n'


class Spool:
    """tempfile.SpooledTemporaryFile's roll-over without tempfile (with shutil and random, 2.7 ms of every list's
    start, bench B1): bytes in memory until more than `limit` are written, then an unnamed temporary file holding
    the same bytes at the same position. Only what ListWriter uses: write, seek, read, fileno
    (io.UnsupportedOperation while in memory) and close."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._file: Any = io.BytesIO()
        self.rolled = False

    def write(self, data: Any) -> int:
        written: int = self._file.write(data)
        if not self.rolled and self._file.tell() > self._limit:
            self._roll_over()
        return written

    def _roll_over(self) -> None:
        disk = _unnamed_file()
        try:
            memory = self._file
            with memory.getbuffer() as view:
                disk.write(view)
            disk.seek(memory.tell())
        except BaseException:
            disk.close()
            raise
        self._file, self.rolled = disk, True
        memory.close()

    def seek(self, offset: int, whence: int = 0) -> int:
        position: int = self._file.seek(offset, whence)
        return position

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._file.read(size)
        return data

    def fileno(self) -> int:
        number: int = self._file.fileno()
        return number

    def close(self) -> None:
        self._file.close()


class ListWriter:
    """The List of every item `add`ed, in order, in `fmt` ("json" or "yaml"); `finish` writes it out."""

    def __init__(self, fmt: str) -> None:
        if fmt not in ("json", "yaml"):
            raise ValueError(fmt)
        self.fmt = fmt
        self.count = 0
        self._size = 0  # bytes in the spool: past SPOOL_IN_MEMORY it is a file on disk
        self._spool = Spool(SPOOL_IN_MEMORY)

    def add(self, items: Sequence[dict[str, Any]]) -> None:
        """Append one page's items (rendered now: the caller may drop them)."""
        if not items:
            return
        try:
            self._add(items)
        except OSError as exc:  # the spool's file system is full, or failing: one line, never a traceback
            raise OutputError(f"cannot spool the list: {exc.strerror or exc}", hint=SPOOL_HINT) from None
        self.count += len(items)

    def _add(self, items: Sequence[dict[str, Any]]) -> None:
        if self.fmt == "json":
            # the items as they stand inside the List's array, two levels in: "    [\n        {...}\n    ]" cut
            text, cut = render.json_parts(list(items), depth=1)
            cut += 6  # and the array's own "    [\n" and "\n    ]"
            if self.count:
                self._size += self._spool.write(b",\n")
            with memoryview(text) as view:  # the cut without a copy of the page's text
                self._size += self._spool.write(view[cut : len(text) - cut])
        else:
            from .yamlout import Printer

            # a printer per page: its memos of strings and key orders would otherwise grow with the list
            self._size += self._spool.write(Printer().dump(items).encode())

    def finish(self, out: IO[str]) -> None:
        """Write the whole List to `out`, and drop the spool."""
        json = self.fmt == "json"
        try:
            if not self.count:
                _write(out, [_JSON_EMPTY if json else _YAML_EMPTY])
                return
            head, tail = (_JSON_HEAD, _JSON_TAIL) if json else (_YAML_HEAD, _YAML_TAIL)
            try:
                self._spool.seek(0)  # on disk, this writes out the last page's buffered bytes: the spool's error
            except OSError as exc:
                raise OutputError(f"cannot spool the list: {exc.strerror or exc}", hint=SPOOL_HINT) from None
            if self._size > SPOOL_IN_MEMORY and self._sent(out, head, tail):
                return
            _write(out, itertools.chain([head], self._chunks(), [tail]))
        finally:
            self.close()

    def _sent(self, out: IO[str], head: bytes, tail: bytes) -> bool:
        """Write `head`, the spool's bytes and `tail` to the output's file descriptor, the spool's by sendfile: the
        kernel copies them from the file's pages (reading them into Python and writing them out copied each byte
        twice more). False, with nothing written, where the output has no file descriptor; where the kernel refuses
        sendfile to it (a terminal, a file opened for appending), the rest is written as `_write` writes it."""
        buffer = getattr(out, "buffer", None)
        if buffer is None:
            return False
        try:
            target = buffer.fileno()
            source = self._spool.fileno()
        except (OSError, ValueError):  # io.UnsupportedOperation is both
            return False
        out.flush()
        buffer.write(head)
        buffer.flush()
        sent = 0
        while sent < self._size:
            try:
                step = os.sendfile(target, source, sent, self._size - sent)
            except OSError as exc:
                if sent or exc.errno not in _NO_SENDFILE:
                    raise
                break
            if not step:  # the spool is shorter than written: never expected; the copy below says what is there
                break
            sent += step
        if sent < self._size:
            self._spool.seek(sent)
            for chunk in self._chunks():
                buffer.write(chunk)
        buffer.write(tail)
        buffer.flush()
        return True

    def _chunks(self) -> Iterator[bytes]:
        """The spool's bytes, a chunk at a time; a failure to read them back is the spool's error (a failure to
        write them is stdout's, raised by `_write` as it is)."""
        while True:
            try:
                chunk = self._spool.read(_COPY_CHUNK)
            except OSError as exc:
                raise OutputError(f"cannot spool the list: {exc.strerror or exc}", hint=SPOOL_HINT) from None
            if not chunk:
                return
            yield chunk

    def close(self) -> None:
        self._spool.close()


def _unnamed_file() -> IO[bytes]:
    """A file in the temp directory (tempfile's) with no name, so nothing is left behind whatever happens to this
    process: opened with O_TMPFILE, as tempfile.TemporaryFile opens one first, and where the kernel or the file
    system refuses that, by tempfile.TemporaryFile itself (which names a file and unlinks it)."""
    flags = _O_TMPFILE
    if flags:
        from .rundir import temp_dir

        try:
            # O_EXCL: the file can never be given a name (linkat), as tempfile opens it
            fd = os.open(temp_dir(), flags | os.O_RDWR | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except OSError:  # EISDIR, EOPNOTSUPP: no O_TMPFILE here; tempfile tells any other failure itself
            pass
        else:
            return open(fd, "w+b")
    import tempfile

    return tempfile.TemporaryFile()


def _write(out: IO[str], parts: Iterable[bytes]) -> None:
    """Write bytes to a text stream, through its buffer when it has one."""
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        out.flush()
        for part in parts:
            buffer.write(part)
        buffer.flush()
        return
    decoder = codecs.getincrementaldecoder("utf-8")()
    for part in parts:
        out.write(decoder.decode(part))
    out.write(decoder.decode(b"", final=True))
