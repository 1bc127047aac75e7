"""Read/write coherence across processes: a watching process serves a Unix socket, and every kates client whose
environment names it (KATES_WRITE_SOCKET, set only for a hook's children) reports each write there.

Invariants:
- A report is one JSON line: {"cluster", "verb", "group", "resource", "object"}; the server answers "ok" once the
  write is recorded in the accumulator, so when a hook's `kates create` exits, the next snapshot already holds its
  write. Anything else is answered with one "error: ..." line and recorded nowhere.
- Only writes to the watched cluster are recorded: `cluster` is `cluster_id` of the writer's connection (a digest
  of its server URL and CA), and must equal the watcher's. A hook that writes to another context or kubeconfig
  changes another cluster, which must not appear in this one's snapshot. The accumulator then overlays a write
  only on the queries whose resource and namespace hold it (`Accumulator.record_write`).
- The socket is for this user alone: it lives in a 0700 directory (refused otherwise), is itself 0600, and on
  Linux a peer whose SO_PEERCRED uid differs from ours is refused before anything is read.
- A message is bounded (MAX_MESSAGE bytes: an object is at most ~1.5 MiB in etcd) and read within READ_DEADLINE
  seconds in all; a larger or slower one is refused without being read further. A bad message never disturbs the
  watcher: no traceback, at most a line on stderr under --debug (`debug`).
- Reporting never fails a write: if the socket is gone, slow (over REPORT_TIMEOUT) or refuses the report, the
  write still succeeds and the watch delivers it later.

Write permits (fencing, `kates watch --leader-elect`):
- A watcher that leads gives its hook's environment FENCE_ENV=1 (KATES_FENCED_WRITES) besides ENV_VAR. A client
  that sees it (`Permits`) sends no write without a permit: before each write request it asks the socket
  (`{"cluster": ID, "permit": true}`), reusing a permit while it is valid, and immediately before the request
  leaves (after the connection to the API server is made) checks `time.monotonic() < until`; otherwise it raises
  `Fenced` (exit code FENCED) and sends nothing. Failing closed: a watcher that does not answer within
  PERMIT_TIMEOUT (stopped, frozen, gone), a missing socket, an answer not understood, all refuse the write.
- The server answers `ok UNTIL` (UNTIL the float `time.monotonic()` deadline its `permit()` callable returned; one
  clock for every process on the machine) or `error: fenced: WHY` when it returned None, or when the server has
  no `permit` at all (a watch without --leader-elect grants none). A permit is granted whatever the cluster the
  hook writes to: leadership is what is fenced, and a stale leader must not act anywhere.
- A server dry run (`--dry-run=server`, `dryRun=All`) changes nothing, so it needs no permit and is never fenced.
- What fencing bounds is when a write *leaves* kates. A request already sent may still be applied by the server
  later (a slow network); the margin between a permit's end (the renew deadline) and another candidate's earliest
  acquisition (the lease duration) is what covers that time in flight.
- Without FENCE_ENV nothing of this applies: reporting never blocks a write.
- Replays (`kates replay`, cli/replay.py): its hook's environment has REPLAY_ENV=1 (KATES_REPLAY) unless
  --allow-writes; a client that sees it refuses every write that changes something with `Fenced` before making
  the request (core/client.py `_gate`). A server dry run is still allowed.

Reads (issue 13: a hook's `kates get` sees the hook's snapshot):
- A read is one JSON line `{"cluster": ID, "read": {"group", "resource", "namespace", "name", "label_selector",
  "field_selector"}}` (a `selection.Selection`), under the same bounds, deadline and peer check as a report. The
  server answers exactly one of: `ok N` and then N lines, each one object's canonical bytes exactly as the run's
  stdin snapshot holds them (`Entry.raw`: canonical JSON never contains a newline); `live: WHY` when it is not the
  watcher's to answer (another cluster than the watched one, no hook run in progress, a watcher that serves no
  reads): the client reads from the API server; `fail {"message", "hint", "exit_code"}` when the read itself
  failed (a dependency the server forbids, too many dependencies): the client fails with that error; or
  `error: ...` for a message it cannot parse, as for reports.
- A read is answered with what the watcher watches under its own credentials (the cluster check compares servers,
  not users, as for reports), to processes of this user only (the peer check).
- What answers a read is the server's `reader` (cli/watcher.py: the current run's RunView, core/readview.py); this
  module only carries it. A reader's `KatesError` becomes the `fail` line, `NotServed` the `live` line, and any
  other exception an `error: ...` line: the watcher is never disturbed by a read.
- The client (`read`) never waits longer than READ_TIMEOUT for the answer (a read that registers a dependency waits
  for its list); a socket that is gone, silent or answering nonsense raises `NotServed`, and the client reads from
  the API server instead.
"""

from __future__ import annotations

import hashlib
import math
import os
import socket
import stat
import struct
import threading
import time
from collections.abc import Callable, Mapping

import orjson

from ..errors import ExitCode, Fenced, KatesError
from .hookenv import ENV_VAR as ENV_VAR  # the hook's variables, re-exported (core/hookenv.py holds them)
from .hookenv import FENCE_ENV as FENCE_ENV
from .hookenv import REPLAY_ENV as REPLAY_ENV

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import Any

    from .config import ConnectionSettings
    from .selection import Selection
REPORT_TIMEOUT = 2.0
PERMIT_TIMEOUT = REPORT_TIMEOUT
READ_DEADLINE = 5.0
READ_TIMEOUT = 60.0
MAX_MESSAGE = 4 * 1024 * 1024

Recorder = Callable[[str, str, str, dict[str, "Any"]], None]
Permit = Callable[[], "float | None"]
Reader = Callable[["Selection"], "list[bytes]"]


def cluster_id(settings: ConnectionSettings) -> str:
    """Who a connection talks to: a digest of the server URL and the CA it trusts (not of the credentials: the
    watcher and its hook may log in as different users of one cluster)."""
    digest = hashlib.sha256(settings.server.encode() + b"\0" + (settings.ca_data or b""))
    return digest.hexdigest()[:32]


def _connect(path: str, timeout: float) -> socket.socket:
    """A connected socket to the watcher, or OSError (TimeoutError past `timeout`)."""
    deadline = time.monotonic() + timeout
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        while True:
            try:
                sock.connect(path)
                return sock
            except BlockingIOError:
                # a Unix socket's full backlog answers EAGAIN at once (many writers at the same moment): wait for
                # the watcher to accept, within the deadline, rather than give up at once
                if time.monotonic() > deadline:
                    raise TimeoutError("the watcher did not accept the connection") from None
                time.sleep(0.005)
    except BaseException:
        sock.close()
        raise


def report(path: str, cluster: str, verb: str, group: str, resource: str, obj: dict[str, Any]) -> bool:
    """Tell the watching process about one write to `cluster` (a `cluster_id`); True if it acknowledged."""
    message = {"cluster": cluster, "verb": verb, "group": group, "resource": resource, "object": obj}
    try:
        with _connect(path, REPORT_TIMEOUT) as sock:
            sock.sendall(orjson.dumps(message) + b"\n")
            return sock.recv(16).startswith(b"ok")
    except OSError:
        return False


class NotServed(Exception):
    """The watcher does not answer this read (`why`): read from the API server. `quiet` when that is expected
    (a read of another cluster), so nothing needs saying."""

    def __init__(self, why: str, *, quiet: bool = False) -> None:
        super().__init__(why)
        self.why = why
        self.quiet = quiet


class ReadFailed(KatesError):
    """A read the watcher answered with a failure (e.g. a dependency the server forbids); its exit code is the
    failure's."""

    def __init__(self, message: str, exit_code: ExitCode, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


_SELECTION_FIELDS = ("group", "resource", "namespace", "name", "label_selector", "field_selector")


def read(path: str, cluster: str, sel: Selection, timeout: float | None = None) -> list[bytes]:
    """Ask the watcher at `path` for what the current hook run sees of `sel` on `cluster`: each object's canonical
    bytes, in (namespace, name) order. `NotServed` when the API server must answer instead; `ReadFailed` when the
    read failed."""
    timeout = READ_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    message = {"cluster": cluster, "read": {k: getattr(sel, k) for k in _SELECTION_FIELDS}}
    chunks: list[bytes] = []
    try:
        with _connect(path, timeout) as sock:
            sock.sendall(orjson.dumps(message) + b"\n")
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
    except TimeoutError:
        raise NotServed(f"the watcher did not answer within {timeout:g}s") from None
    except OSError as exc:
        raise NotServed(f"the watcher's socket is gone ({exc.strerror or type(exc).__name__})") from None
    head, _, rest = b"".join(chunks).partition(b"\n")
    line = head.decode(errors="replace")
    if line.startswith("ok "):
        lines = rest.split(b"\n")
        try:
            count = int(line[3:])
        except ValueError:
            count = -1
        if count < 0 or len(lines) != count + 1 or lines[-1] != b"":
            raise NotServed("the watcher's answer was cut short")
        return lines[:-1]
    if line.startswith("live: "):
        why = line[len("live: ") :]
        raise NotServed(why, quiet=why == OTHER_CLUSTER)
    if line.startswith("fail "):
        try:
            failure = orjson.loads(line[len("fail ") :])
            raise ReadFailed(str(failure["message"]), ExitCode(int(failure["exit_code"])), failure.get("hint"))
        except (orjson.JSONDecodeError, KeyError, ValueError, TypeError):
            pass
    raise NotServed(f"the watcher did not understand the read: {line[:200] or 'no answer'}")


OTHER_CLUSTER = "the read is of another cluster than the one watched"
UNANSWERED = "the watcher did not answer (stopped or gone)"
NOT_SENT = "this write was not sent"


def request_permit(path: str, cluster: str, timeout: float | None = None) -> float:
    """Ask the watcher at `path` for a write permit; its `time.monotonic()` deadline, or `Fenced` saying why not
    (the watcher refused, did not answer within `timeout` (PERMIT_TIMEOUT), or answered something else)."""
    timeout = PERMIT_TIMEOUT if timeout is None else timeout
    deadline = time.monotonic() + timeout
    try:
        with _connect(path, timeout) as sock:
            sock.sendall(orjson.dumps({"cluster": cluster, "permit": True}) + b"\n")
            answer = b""
            while b"\n" not in answer and len(answer) < 4096:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                chunk = sock.recv(4096)
                if not chunk:
                    break
                answer += chunk
    except TimeoutError:
        raise _unanswered(f"no answer within {timeout:g}s") from None
    except OSError as exc:
        raise _unanswered(exc.strerror or type(exc).__name__) from None
    line = answer.split(b"\n", 1)[0].decode(errors="replace").strip()
    if line.startswith("ok "):
        try:
            until = float(line[3:])
        except ValueError:
            until = math.nan
        if math.isfinite(until):
            return until
    if line.startswith("error: fenced: "):
        raise Fenced(f"write fenced: {line[len('error: fenced: ') :]}", hint=f"another replica may lead: {NOT_SENT}")
    if not line:
        raise _unanswered("the connection closed without an answer")
    raise Fenced(f"write fenced: the watcher refused a permit: {line[:200]}", hint=NOT_SENT)


def _unanswered(why: str) -> Fenced:
    return Fenced(
        f"write fenced: {UNANSWERED}: {why}",
        hint=f"only a leading `kates watch --leader-elect` grants write permits to its hook: {NOT_SENT}",
    )


def replaying(environ: Mapping[str, str]) -> bool:
    """Whether this process runs inside a `kates replay` hook that may not write: REPLAY_ENV set to anything but
    empty or "0"."""
    return environ.get(REPLAY_ENV, "") not in ("", "0")


def replay_refused() -> Fenced:
    """The error for a write inside a `kates replay` hook (nothing is sent)."""
    return Fenced(
        f"write refused: the hook runs under kates replay ({REPLAY_ENV} is set), which changes no cluster",
        hint=f"kates replay --allow-writes lets the hook write: {NOT_SENT}",
    )


def fenced_writes(environ: Mapping[str, str]) -> bool:
    """Whether writes must hold a permit: FENCE_ENV set to anything but empty or "0" (fail closed)."""
    return environ.get(FENCE_ENV, "") not in ("", "0")


class Permits:
    """A hook's write permits from its watcher (FENCE_ENV). `check()` is called immediately before each write
    request is sent: it reuses a permit while it is valid, asks for one otherwise, and raises `Fenced` unless the
    permit is valid at that moment. Thread-safe."""

    def __init__(self, path: str | None, cluster: str, clock: Callable[[], float] = time.monotonic):
        self.path = path
        self.cluster = cluster
        self.clock = clock
        self.until: float | None = None
        self.asked = 0  # permit requests made (tests: reuse)
        self._lock = threading.Lock()

    def check(self) -> None:
        with self._lock:
            if self.path is None:
                raise Fenced(
                    f"write fenced: {FENCE_ENV} is set but {ENV_VAR} is not: no watcher to ask for a permit",
                    hint=f"unset {FENCE_ENV} outside a `kates watch --leader-elect` hook: {NOT_SENT}",
                )
            until = self.until
            if until is None or self.clock() >= until:
                self.until = None
                self.asked += 1
                until = self.until = request_permit(self.path, self.cluster)
            if self.clock() >= until:
                self.until = None
                raise Fenced(
                    "write fenced: the permit expired before the request was sent",
                    hint=f"the watcher's lease was not renewed in time: {NOT_SENT}",
                )


class Refused(Exception):
    """A report the server will not record; the message is sent back as `error: ...`."""


class WriteServer:
    """Accepts write reports on a Unix socket in a private directory and hands those for `cluster` to `record`.
    With `permit`, it also grants write permits: `permit()` returns the permit's `time.monotonic()` deadline, or
    None when writes are fenced (`lease`, e.g. "NS/NAME", names the lease in the refusal). With `reader`, it answers
    reads (the module's invariants)."""

    def __init__(
        self,
        directory: str,
        record: Recorder,
        *,
        cluster: str,
        debug: Callable[[str], object] | None = None,
        permit: Permit | None = None,
        lease: str | None = None,
        reader: Reader | None = None,
    ) -> None:
        mode = os.stat(directory).st_mode
        if stat.S_IMODE(mode) & 0o077 or os.stat(directory).st_uid != os.getuid():
            raise KatesError(f"the write socket's directory {directory} is not private (mode 0700, ours)")
        self.path = os.path.join(directory, "writes.sock")
        self.record = record
        self.cluster = cluster
        self.debug = debug
        self.permit = permit
        self.lease = lease
        self.reader = reader
        self.reads = 0  # reads answered from the watcher (ok)
        self.refused = 0
        self.permits = 0  # permits granted
        self.fenced = 0  # permits refused
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(self.path)  # inside a 0700 directory: nobody else can reach it before the chmod
        os.chmod(self.path, 0o600)
        self._sock.listen(socket.SOMAXCONN)
        self._closed = False
        self._thread = threading.Thread(target=self._serve, name="kates-write-socket", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                _check_peer(conn)
                msg = self._message(_read_line(conn))
                if msg.get("permit") is True:
                    conn.sendall(self._permit_answer(msg))
                    return
                if "read" in msg:
                    conn.sendall(self._read_answer(msg))
                    return
                verb, group, resource, obj = self._parse(msg)
                try:
                    self.record(verb, group, resource, obj)
                except (ValueError, TypeError, AttributeError, KeyError) as exc:  # an object the watch cannot hold
                    raise Refused(f"the object could not be recorded: {type(exc).__name__}") from None
                conn.sendall(b"ok\n")
            except Refused as exc:
                self.refused += 1
                if self.debug is not None:
                    self.debug(f"write socket: refused a report: {exc}")
                try:
                    conn.sendall(f"error: {exc}\n".encode())
                except OSError:
                    pass
            except OSError:
                return

    @staticmethod
    def _message(data: bytes) -> dict[str, Any]:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise Refused(f"not JSON: {exc}") from None
        if not isinstance(msg, dict):
            raise Refused("not a JSON object")
        return msg

    def _permit_answer(self, msg: dict[str, Any]) -> bytes:
        """`ok UNTIL` or `error: fenced: WHY` (any cluster: see the module's invariants)."""
        if not isinstance(msg.get("cluster"), str):
            raise Refused("cluster must be a string")
        why = None
        if self.permit is None:
            why = "this watcher grants no write permits (it runs without --leader-elect)"
        else:
            try:
                until = self.permit()
            except Exception as exc:  # the watcher's own callable failed: refuse, never grant by accident
                until, why = None, f"the watcher could not decide ({type(exc).__name__})"
            if until is not None:
                self.permits += 1
                return f"ok {float(until)!r}\n".encode()
        self.fenced += 1
        lease = f"lease {self.lease}" if self.lease else "its lease"
        why = why or f"this hook's watcher does not hold {lease}"
        if self.debug is not None:
            self.debug(f"write socket: refused a permit: {why}")
        return f"error: fenced: {why}\n".encode()

    def _read_answer(self, msg: dict[str, Any]) -> bytes:
        """`ok N` and N object lines, `live: WHY`, or `fail {...}` (the module's invariants)."""
        from .selection import Selection

        cluster, spec = msg.get("cluster"), msg.get("read")
        if not isinstance(cluster, str) or not isinstance(spec, dict):
            raise Refused("cluster must be a string and read an object")
        values = {k: spec.get(k) for k in _SELECTION_FIELDS}
        if not (isinstance(values["group"], str) and isinstance(values["resource"], str) and values["resource"]):
            raise Refused("read.group and read.resource must be strings")
        if any(values[k] is not None and not isinstance(values[k], str) for k in _SELECTION_FIELDS[2:]):
            raise Refused("read.namespace, name, label_selector and field_selector must be strings or null")
        if cluster != self.cluster:
            return f"live: {OTHER_CLUSTER}\n".encode()
        if self.reader is None:
            return b"live: this watcher answers no reads\n"
        try:
            found = self.reader(Selection(*(values[k] for k in _SELECTION_FIELDS)))  # type: ignore[arg-type]
        except NotServed as exc:
            return f"live: {exc.why}\n".encode()
        except KatesError as exc:
            failure = {"message": exc.message, "hint": exc.hint, "exit_code": int(exc.exit_code)}
            return b"fail " + orjson.dumps(failure) + b"\n"
        except Exception as exc:  # the reader's own defect: refuse the read, never disturb the watcher
            raise Refused(f"the read could not be answered ({type(exc).__name__})") from None
        self.reads += 1
        return b"".join([f"ok {len(found)}\n".encode(), *(raw + b"\n" for raw in found)])

    def _parse(self, msg: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
        fields = [msg.get(k) for k in ("cluster", "verb", "group", "resource")]
        if not all(isinstance(v, str) for v in fields):
            raise Refused("cluster, verb, group and resource must be strings")
        cluster, verb, group, resource = (str(v) for v in fields)
        obj = msg.get("object")
        meta = obj.get("metadata") if isinstance(obj, dict) else None
        if not isinstance(obj, dict) or not isinstance(meta, dict) or not isinstance(meta.get("name"), str):
            raise Refused("object must be a Kubernetes object with metadata.name")
        if not (len(verb) <= 32 and verb.replace("_", "").isalpha() and verb.islower()):
            raise Refused(f'unknown verb "{verb[:40]}"')
        for key in ("namespace", "resourceVersion", "uid"):
            if meta.get(key) is not None and not isinstance(meta.get(key), str):
                raise Refused(f"metadata.{key} must be a string")
        if cluster != self.cluster:
            raise Refused("the write was made to another cluster than the one watched")
        return verb, group, resource, obj

    def close(self) -> None:
        self._closed = True
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def _check_peer(conn: socket.socket) -> None:
    """Refuse a peer running as another user (Linux SO_PEERCRED; elsewhere the 0700 directory alone guards)."""
    peercred = getattr(socket, "SO_PEERCRED", None)
    if peercred is None:
        return
    pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, peercred, struct.calcsize("3i")))
    if uid != os.getuid():
        raise Refused(f"the peer (pid {pid}) runs as uid {uid}, not as this watcher's user")


def _read_line(conn: socket.socket) -> bytes:
    """One newline-terminated message of at most MAX_MESSAGE bytes, read within READ_DEADLINE seconds."""
    deadline = time.monotonic() + READ_DEADLINE
    parts: list[bytes] = []
    size = 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Refused(f"the message did not arrive within {READ_DEADLINE:g}s")
        conn.settimeout(left)
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            raise Refused(f"the message did not arrive within {READ_DEADLINE:g}s") from None
        if not chunk:
            raise Refused("the message ended without a newline")
        end = chunk.find(b"\n")
        size += len(chunk) if end < 0 else end
        if size > MAX_MESSAGE:
            raise Refused(f"the message is larger than {MAX_MESSAGE // (1024 * 1024)} MiB")
        if end >= 0:
            parts.append(chunk[:end])
            return b"".join(parts)
        parts.append(chunk)
