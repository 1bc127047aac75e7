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
"""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import struct
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from ..errors import KatesError

if TYPE_CHECKING:
    from .config import ConnectionSettings

ENV_VAR = "KATES_WRITE_SOCKET"
REPORT_TIMEOUT = 2.0
READ_DEADLINE = 5.0
MAX_MESSAGE = 4 * 1024 * 1024

Recorder = Callable[[str, str, str, dict[str, Any]], None]


def cluster_id(settings: ConnectionSettings) -> str:
    """Who a connection talks to: a digest of the server URL and the CA it trusts (not of the credentials: the
    watcher and its hook may log in as different users of one cluster)."""
    digest = hashlib.sha256(settings.server.encode() + b"\0" + (settings.ca_data or b""))
    return digest.hexdigest()[:32]


def report(path: str, cluster: str, verb: str, group: str, resource: str, obj: dict[str, Any]) -> bool:
    """Tell the watching process about one write to `cluster` (a `cluster_id`); True if it acknowledged."""
    message = {"cluster": cluster, "verb": verb, "group": group, "resource": resource, "object": obj}
    deadline = time.monotonic() + REPORT_TIMEOUT
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(REPORT_TIMEOUT)
            while True:
                try:
                    sock.connect(path)
                    break
                except BlockingIOError:
                    # a Unix socket's full backlog answers EAGAIN at once (many writers at the same moment): wait
                    # for the watcher to accept, within the report's deadline, rather than lose the report
                    if time.monotonic() > deadline:
                        return False
                    time.sleep(0.005)
            sock.sendall(orjson.dumps(message) + b"\n")
            return sock.recv(16).startswith(b"ok")
    except OSError:
        return False


class Refused(Exception):
    """A report the server will not record; the message is sent back as `error: ...`."""


class WriteServer:
    """Accepts write reports on a Unix socket in a private directory and hands those for `cluster` to `record`."""

    def __init__(
        self, directory: str, record: Recorder, *, cluster: str, debug: Callable[[str], object] | None = None
    ) -> None:
        mode = os.stat(directory).st_mode
        if stat.S_IMODE(mode) & 0o077 or os.stat(directory).st_uid != os.getuid():
            raise KatesError(f"the write socket's directory {directory} is not private (mode 0700, ours)")
        self.path = os.path.join(directory, "writes.sock")
        self.record = record
        self.cluster = cluster
        self.debug = debug
        self.refused = 0
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
                verb, group, resource, obj = self._parse(_read_line(conn))
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

    def _parse(self, data: bytes) -> tuple[str, str, str, dict[str, Any]]:
        try:
            msg = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise Refused(f"not JSON: {exc}") from None
        if not isinstance(msg, dict):
            raise Refused("not a JSON object")
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
