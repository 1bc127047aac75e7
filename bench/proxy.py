"""A loopback TCP proxy in front of kube-apiserver, for B7: it can cut every open connection at once (with a TCP
reset, as a dying load balancer or NAT would), while the API server, and so its watch cache, keeps running. TLS
passes through untouched (the serving certificate is for 127.0.0.1, whatever the port).
"""

from __future__ import annotations

import socket
import struct
import threading
from pathlib import Path

import yaml


class CuttingProxy:
    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._cut: set[socket.socket] = set()
        self._closed = False
        self.cuts = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def kubeconfig(self, original: Path, target: Path) -> Path:
        """A copy of `original` whose clusters point at this proxy."""
        cfg = yaml.safe_load(original.read_text())
        for cluster in cfg["clusters"]:
            cluster["cluster"]["server"] = f"https://127.0.0.1:{self.port}"
        target.write_text(yaml.safe_dump(cfg))
        target.chmod(0o600)
        return target

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:  # the API server is down: the client sees a reset, as it would without the proxy
                _reset(client)
                continue
            with self._lock:
                self._open.update((client, server))
            done = threading.Semaphore(0)
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b, done), daemon=True).start()
            threading.Thread(target=self._reap, args=(client, server, done), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, done: threading.Semaphore) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            if src not in self._cut:
                dst.shutdown(socket.SHUT_WR)  # a clean end passes through as a clean end
        except OSError:
            pass
        finally:
            done.release()

    def _reap(self, client: socket.socket, server: socket.socket, done: threading.Semaphore) -> None:
        done.acquire()
        done.acquire()
        with self._lock:
            self._open.discard(client)
            self._open.discard(server)
            self._cut.discard(client)
            self._cut.discard(server)
        client.close()  # after a cut, SO_LINGER 0 makes this close send a reset
        server.close()

    def cut(self) -> int:
        """Reset every open connection; returns how many sockets were cut. (Closing a socket that another thread
        is reading does not release it: the readers are woken with shutdown(SHUT_RD), which sends nothing, and the
        reaper's close then sends the reset.)"""
        with self._lock:
            socks = list(self._open)
            self._cut.update(socks)
        for s in socks:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.shutdown(socket.SHUT_RD)
            except OSError:
                pass
        self.cuts += 1
        return len(socks)

    def close(self) -> None:
        self._closed = True
        self.listener.close()
        self.cut()


def _reset(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass
