"""A TCP proxy that misbehaves on demand, for fault tests: stall, reset, or delay every byte.

It sits between kates and kube-apiserver (TLS passes through it untouched: the proxy sees only bytes), so the
faults are those of a network, not of the server.

Invariants:
- `stall()` stops moving bytes in both directions on every connection, open or new, without closing anything: the
  peers see a silent connection, as behind a dead NAT entry. `resume()` moves them again.
- `reset()` closes every open connection with a TCP RST (SO_LINGER 0); new connections are accepted as usual.
- `delay(seconds)` sleeps that long before forwarding each chunk read (both directions); `delay(0)` stops it.
- `refuse(True)` makes new connections fail at once (accepted, then reset), as a server that is down.
- A subclass decides per chunk what passes by overriding `_passes(src, dst, data)` (tests/e2e/test_lost_answers.py
  holds back the answer to one request).
- `close()` stops the listener and every connection; threads are daemons, so a failed test leaves none behind.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

import yaml


class FaultProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port: int = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._conns: list[tuple[socket.socket, socket.socket]] = []
        self._stalled = threading.Event()
        self._delay = 0.0
        self._refuse = False
        self._closed = False
        self.accepted = 0
        threading.Thread(target=self._accept_loop, daemon=True, name="faultproxy-accept").start()

    # -- faults ----------------------------------------------------------------------------------------------

    def stall(self) -> None:
        self._stalled.set()

    def resume(self) -> None:
        self._stalled.clear()

    def delay(self, seconds: float) -> None:
        self._delay = seconds

    def refuse(self, on: bool = True) -> None:
        self._refuse = on

    def reset(self) -> int:
        """RST every open connection; returns how many were reset."""
        with self._lock:
            conns, self._conns = self._conns, []
        for pair in conns:
            for s in pair:
                _rst(s)
        return len(conns)

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._conns)

    def close(self) -> None:
        self._closed = True
        try:
            self._listener.close()
        except OSError:
            pass
        self.reset()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- a kubeconfig that goes through the proxy ------------------------------------------------------------

    def kubeconfig(self, source: Path, dest: Path) -> Path:
        """Copy the kubeconfig `source` to `dest`, every cluster's server pointed at this proxy."""
        cfg: dict[str, Any] = yaml.safe_load(source.read_text())
        for entry in cfg.get("clusters", []):
            entry["cluster"]["server"] = f"https://127.0.0.1:{self.port}"
        dest.write_text(yaml.safe_dump(cfg))
        dest.chmod(0o600)
        return dest

    # -- plumbing --------------------------------------------------------------------------------------------

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refuse:
                _rst(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _rst(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._conns.append((client, upstream))
                self.accepted += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True, name="faultproxy-pump").start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                if self._stalled.is_set():
                    time.sleep(0.05)
                    continue
                ready, _, _ = select.select([src], [], [], 0.1)
                if not ready:
                    continue
                if self._stalled.is_set():
                    continue
                data = src.recv(65536)
                if not data:
                    try:
                        dst.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    return
                if self._delay:
                    time.sleep(self._delay)
                if self._passes(src, dst, data):
                    dst.sendall(data)
        except (OSError, ValueError):
            for s in (src, dst):
                _rst(s)
        finally:
            with self._lock:
                self._conns = [p for p in self._conns if src not in p]

    def _passes(self, src: socket.socket, dst: socket.socket, data: bytes) -> bool:
        """Whether bytes read from `src` go on to `dst`: always, here; a subclass may hold some back."""
        return True


def _rst(s: socket.socket) -> None:
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
