"""Read/write coherence across processes: a watching process serves a Unix socket, and every kates client whose
environment names it (KATES_WRITE_SOCKET, set only for a hook's children) reports each write there.

Invariants:
- A report is one JSON line: {"verb", "group", "resource", "object"}; the server answers "ok" once the write is
  recorded in the accumulator, so when a hook's `kates create` exits, the next snapshot already holds its write.
- Reporting never fails a write: if the socket is gone or slow (over REPORT_TIMEOUT), the write still succeeds and
  the watch delivers it later.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from typing import Any

import orjson

ENV_VAR = "KATES_WRITE_SOCKET"
REPORT_TIMEOUT = 2.0

Recorder = Callable[[str, str, str, dict[str, Any]], None]


def report(path: str, verb: str, group: str, resource: str, obj: dict[str, Any]) -> bool:
    """Tell the watching process about one write; True if it acknowledged."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(REPORT_TIMEOUT)
            sock.connect(path)
            sock.sendall(orjson.dumps({"verb": verb, "group": group, "resource": resource, "object": obj}) + b"\n")
            return sock.recv(16).startswith(b"ok")
    except OSError:
        return False


class WriteServer:
    """Accepts write reports on a Unix socket in a private directory and hands them to `record`."""

    def __init__(self, directory: str, record: Recorder):
        self.path = os.path.join(directory, "writes.sock")
        self.record = record
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.bind(self.path)
        os.chmod(self.path, 0o600)
        self._sock.listen(16)
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
            conn.settimeout(REPORT_TIMEOUT)
            data = b""
            try:
                while not data.endswith(b"\n"):
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                msg = orjson.loads(data)
                self.record(str(msg["verb"]), str(msg["group"]), str(msg["resource"]), msg["object"])
                conn.sendall(b"ok\n")
            except (OSError, ValueError, KeyError, TypeError):
                return

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
