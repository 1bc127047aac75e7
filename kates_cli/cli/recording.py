"""The recording of a watch (`kates watch --record FILE`) and its reading back (`kates replay FILE`).

The format, version 1 (JSON Lines, UTF-8, one line per hook run or printed snapshot, after one header line):

    {"kates_recording":1}
    {"run":N,"time":"RFC3339","failures":F,"context":"...","namespace":"...","code":C,"result":"success",
     "snapshot_sha256":"HEX","snapshot_bytes":L,"snapshot":{...},"deltas":[...]}

- `run` is KATES_RUN of the run (the printed snapshots' count without --exec), `failures` its KATES_FAILURES,
  `time` when it started (UTC), `code` the hook's exit status (null without --exec; 128+N for a signal N),
  `result` what kates made of it: success, failure, timeout (hit --hook-timeout, whatever its code) or fenced
  (null without --exec).
- `snapshot` is the hook's stdin and `deltas` the content of its KATES_DELTAS file, each embedded as the very bytes
  the hook got (both are compact JSON, which never holds a newline). `snapshot_bytes` is the length of the stdin
  and `snapshot_sha256` its hex SHA-256 (KATES_SNAPSHOT_SHA256).

Invariants:
- Byte identity: a line is written as `{...fixed fields...,"snapshot":` + stdin + `,"deltas":` + deltas + `}`, and
  read back by slicing, never by re-encoding: `snapshot_bytes` bytes after the first `,"snapshot":` (which cannot
  occur earlier: the fields before it are kates's own, and inside a JSON string every `"` is escaped), checked
  against `snapshot_sha256`; the deltas are what is left between `,"deltas":` and the closing brace. So a replay
  feeds the hook exactly the bytes the recorded run got.
- Written safely: the file is opened for appending (created mode 0600: snapshots may hold Secrets), the header is
  written only into an empty file (a non-empty file must already be a recording of this version), and each line is
  one append, flushed to the kernel when written; a line that could not be written whole is cut off again, so each
  run's line is complete or absent. A line a crash cut (kates killed while writing it: the file does not end with
  a newline) is cut off when the file is opened again for recording, so the next line is never glued to it.
- Read strictly: a missing file, another version, or any line that is not a complete, consistent record is a
  UsageError naming the file and line, found before any run. The one exception is a last line without its newline
  (the crash above, not yet repaired): it is left out, and `read`'s `cut` is told its number.
- Read whatever the depth: only the fixed fields are decoded (and the deltas, by core/deepjson.py); the snapshot
  is checked by its SHA-256, so objects nested past orjson's 1,024 levels (which the watch serves) replay too.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import BinaryIO

import orjson

from ..core import deepjson
from ..core.records import record
from ..errors import KatesError, UsageError

VERSION = 1
FORMAT = (  # the man pages' words for the format (version 1)
    'JSON Lines. The first line is {"kates_recording":1}, the format version; an existing file given to --record '
    "must be a recording of that version. Then one line per hook run (or printed snapshot), written after the run: "
    '{"run", "time", "failures", "context", "namespace", "code", "result", "snapshot_sha256", "snapshot_bytes", '
    '"snapshot", "deltas"}. run, failures, context and namespace are the run\'s KATES_RUN, KATES_FAILURES, '
    "KATES_CONTEXT and KATES_NAMESPACE; time when it started (RFC 3339, UTC); code the hook's exit status (128+N "
    "for a signal N); result success, failure, timeout (the run hit --hook-timeout, whatever its code) or fenced; "
    "code and result are null for a printed snapshot. snapshot is the hook's stdin and deltas its KATES_DELTAS "
    "file, embedded byte for byte; snapshot_bytes is the stdin's length and snapshot_sha256 its hex SHA-256, so "
    'the exact bytes are the snapshot_bytes bytes after the line\'s first ,"snapshot": and nothing is re-encoded. '
    "The file is created mode 0600; each line is one append, complete or absent."
)
HEADER = orjson.dumps({"kates_recording": VERSION}) + b"\n"
_SNAPSHOT = b',"snapshot":'
_DELTAS = b',"deltas":'


def sha256(data: bytes) -> str:
    """KATES_SNAPSHOT_SHA256: the hex SHA-256 of the exact stdin bytes."""
    return hashlib.sha256(data).hexdigest()


@record(frozen=True)
class Record:
    """One recorded run: what its hook got, byte for byte, and how it ended."""

    run: int
    time: str
    failures: int
    context: str
    namespace: str
    code: int | None
    snapshot: bytes
    deltas: bytes
    result: str | None = None  # success, failure, timeout, fenced; None for a printed snapshot

    def encode(self) -> bytes:
        head = orjson.dumps(
            {
                "run": self.run,
                "time": self.time,
                "failures": self.failures,
                "context": self.context,
                "namespace": self.namespace,
                "code": self.code,
                "result": self.result,
                "snapshot_sha256": sha256(self.snapshot),
                "snapshot_bytes": len(self.snapshot),
            }
        )
        return head[:-1] + _SNAPSHOT + self.snapshot + _DELTAS + self.deltas + b"}\n"


def now() -> str:
    """The current time, RFC 3339 in UTC with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Recorder:
    """Appends one line per run to a recording (the module's invariants). Opened before the watch bootstraps, so
    a file that cannot be written is an error before anything runs."""

    def __init__(self, path: str):
        self.path = path
        try:
            self.fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise UsageError(f'cannot write recording "{path}": {exc.strerror or exc}') from None
        try:
            size = os.fstat(self.fd).st_size
            if size == 0:
                self._append(HEADER)
            else:
                with open(path, "rb") as fh:
                    first = fh.readline()
                    _check_header(path, first)
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":  # a line a crash cut: cut it off, so the next is not glued to it
                        os.ftruncate(self.fd, _after_last_newline(fh, size))
        except BaseException:
            os.close(self.fd)
            raise

    def write(self, record: Record) -> None:
        self._append(record.encode())

    def _append(self, line: bytes) -> None:
        size = os.fstat(self.fd).st_size
        view = memoryview(line)
        try:
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as exc:
            try:
                os.ftruncate(self.fd, size)  # complete or absent
            except OSError:
                pass
            raise KatesError(f'cannot write recording "{self.path}": {exc.strerror or exc}') from None

    def close(self) -> None:
        os.close(self.fd)


def _after_last_newline(fh: BinaryIO, size: int) -> int:
    """The offset just after the last newline of the file `fh` (of `size` bytes), read backwards in blocks."""
    end = size
    while end > 0:
        start = max(0, end - 65536)
        fh.seek(start)
        at: int = fh.read(end - start).rfind(b"\n")
        if at >= 0:
            return start + at + 1
        end = start
    return 0


def _check_header(path: str, line: bytes) -> None:
    try:
        header = orjson.loads(line)
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or "kates_recording" not in header:
        raise UsageError(
            f'"{path}" is not a kates recording: its first line is not {{"kates_recording": VERSION}}',
            hint="record one with kates watch --record FILE",
        )
    if header["kates_recording"] != VERSION:
        raise UsageError(
            f'"{path}" is a kates recording of version {orjson.dumps(header["kates_recording"]).decode()}; '
            f"this kates reads version {VERSION}"
        )


def read(path: str, cut: Callable[[int], None] | None = None) -> list[Record]:
    """Every record of the recording at `path`, in order; a UsageError for the first thing wrong with it. A last
    line without its newline (cut by a crash) is left out, and `cut` told its number."""
    try:
        with open(path, "rb") as fh:
            lines = fh.read().split(b"\n")
    except OSError as exc:
        raise UsageError(f'cannot read recording "{path}": {exc.strerror or exc}') from None
    if lines == [b""]:
        raise UsageError(f'"{path}" is empty, not a kates recording', hint="record one with kates watch --record FILE")
    _check_header(path, lines[0])
    if lines[-1] != b"" and len(lines) > 1:  # a line a crash cut
        if cut is not None:
            cut(len(lines))
        lines[-1] = b""
    elif lines[-1] != b"":
        raise UsageError(f'"{path}" line 1: incomplete (no end of line)')
    return [_parse(path, n, line) for n, line in enumerate(lines[1:-1], start=2)]


def _parse(path: str, number: int, line: bytes) -> Record:
    def bad(why: str) -> UsageError:
        return UsageError(f'"{path}" line {number}: {why}')

    start = line.find(_SNAPSHOT)
    try:  # the fixed fields only: they come before the first `,"snapshot":` (module docstring)
        fields = orjson.loads(line[:start] + b"}" if start > 0 else line)
    except orjson.JSONDecodeError as exc:
        raise bad(f"not JSON ({exc})") from None
    if not isinstance(fields, dict):
        raise bad("not a JSON object")
    want = {"run": int, "time": str, "failures": int, "context": str, "namespace": str, "snapshot_sha256": str}
    for key, kind in {**want, "snapshot_bytes": int}.items():
        if not isinstance(fields.get(key), kind) or isinstance(fields.get(key), bool):
            raise bad(f'no {kind.__name__} "{key}"')
    code = fields.get("code")
    if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
        raise bad('"code" is not an integer or null')
    result = fields.get("result")
    if result is not None and not isinstance(result, str):
        raise bad('"result" is not a string or null')
    if start < 0:
        raise bad('no "snapshot" object or "deltas" list')
    start += len(_SNAPSHOT)
    snapshot = line[start : start + fields["snapshot_bytes"]]
    rest = line[start + fields["snapshot_bytes"] :]
    if sha256(snapshot) != fields["snapshot_sha256"]:
        raise bad("the snapshot does not match its snapshot_sha256")
    if not snapshot.startswith(b"{") or not snapshot.endswith(b"}"):
        raise bad('no "snapshot" object or "deltas" list')
    if not rest.startswith(_DELTAS) or not rest.endswith(b"}"):
        raise bad('"deltas" is not where kates writes it')
    deltas = rest[len(_DELTAS) : -1]
    try:
        if not isinstance(deepjson.loads(deltas), list):
            raise ValueError
    except ValueError:  # orjson.JSONDecodeError is one
        raise bad('"deltas" is not where kates writes it') from None
    return Record(
        run=fields["run"],
        time=fields["time"],
        failures=fields["failures"],
        context=fields["context"],
        namespace=fields["namespace"],
        code=code,
        result=result,
        snapshot=snapshot,
        deltas=deltas,
    )
