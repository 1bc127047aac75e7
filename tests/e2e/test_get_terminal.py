"""`kates get` on a terminal (a pty): rows stream page by page, a cell is never broken at the terminal's width, and
the header is bold only where colour is allowed.

The streaming test makes the order observable without timing luck: kates talks to the API server through a proxy
that holds every request for a later page (one with `continue=`) until the test has seen the first rows on the pty.
"""

from __future__ import annotations

import fcntl
import http.client
import os
import ssl
import struct
import subprocess
import termios
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, create
from .parity import masked

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that went away mid-request (a killed kates) is not the test's concern


class PageHoldingProxy:
    """A loopback HTTPS proxy in front of kube-apiserver (it serves the API server's own certificate and forwards as
    the admin user) that holds every request for a later page of a list until `release()`."""

    def __init__(self, cluster: ControlPlane, hold_seconds: float = 120):
        self.cluster = cluster
        self.hold_seconds = hold_seconds
        self.released = threading.Event()
        self.holding = threading.Event()  # a later-page request is waiting
        self.served: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                proxy.forward(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(str(cluster.serving[0]), str(cluster.serving[1]))
        self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.upstream = ssl.create_default_context(cafile=str(cluster.pki.ca_cert))
        self.upstream.load_cert_chain(str(cluster.admin[0]), str(cluster.admin[1]))
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def forward(self, req: BaseHTTPRequestHandler) -> None:
        if "continue=" in req.path:
            self.holding.set()
            self.released.wait(self.hold_seconds)
        conn = http.client.HTTPSConnection("127.0.0.1", self.cluster.port, context=self.upstream, timeout=60)
        headers = {k: v for k, v in req.headers.items() if k.lower() not in HOP_BY_HOP | {"authorization"}}
        conn.request(req.command, req.path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        self.served.append(req.path)
        req.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in HOP_BY_HOP:
                req.send_header(k, v)
        req.send_header("Content-Length", str(len(body)))
        req.end_headers()
        req.wfile.write(body)

    def kubeconfig(self, target: Path) -> Path:
        cfg = yaml.safe_load(self.cluster.kubeconfig.read_text())
        for cluster in cfg["clusters"]:
            cluster["cluster"]["server"] = f"https://127.0.0.1:{self.port}"
        target.write_text(yaml.safe_dump(cfg))
        target.chmod(0o600)
        return target

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class OnPty:
    """kates running with its stdout on a pseudo-terminal of `cols` columns; everything it shows is in `.data`."""

    def __init__(self, args: list[str], env: dict[str, str], stderr: Path, cols: int = 80):
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        self.master = master
        self._data = bytearray()
        self._lock = threading.Lock()
        with open(stderr, "wb") as err:
            self.proc = subprocess.Popen(
                [*KATES, *args], stdin=subprocess.DEVNULL, stdout=slave, stderr=err, env=env, close_fds=True
            )
        os.close(slave)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            with self._lock:
                self._data += chunk

    @property
    def data(self) -> bytes:
        with self._lock:
            return bytes(self._data)

    def wait(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(timeout)
        os.close(self.master)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def terminal_env(kubeconfig: Path, cache_dir: Path, colour: bool) -> dict[str, str]:
    env = dict(os.environ, KUBECONFIG=str(kubeconfig), KATES_CACHE_DIR=str(cache_dir), TERM="xterm")
    for var in ("NO_COLOR", "KATES_NAMESPACE", "KATES_CONTEXT", "KATES_WRITE_SOCKET", "COLUMNS", "LINES"):
        env.pop(var, None)
    if not colour:
        env["NO_COLOR"] = "1"
    return env


def lines(data: bytes) -> list[str]:
    return data.decode().replace("\r\n", "\n").splitlines()


@pytest.fixture
def proxy(cluster: ControlPlane) -> Iterator[PageHoldingProxy]:
    p = PageHoldingProxy(cluster)
    yield p
    p.close()


def test_rows_reach_a_terminal_before_the_last_page_is_served(
    cluster: ControlPlane, ns: str, proxy: PageHoldingProxy, cache_dir: Path, tmp_path: Path
) -> None:
    count = 3000
    cluster.bulk(
        "POST",
        [(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"stream-{i:04d}"}}) for i in range(count)],
    )
    env = terminal_env(proxy.kubeconfig(tmp_path / "kubeconfig"), cache_dir, colour=True)
    term = OnPty(["get", "cm", "-n", ns, "--chunk-size", "500"], env, tmp_path / "stderr")
    try:
        # the first page's rows are on the terminal while kates's request for the next page is held at the proxy
        wait_for(
            lambda: b"stream-0498" in term.data and proxy.holding.is_set(),
            60,
            "the first rows on the terminal while the second page is held",
        )
        shown = lines(term.data)
        assert not proxy.released.is_set() and not any("continue=" in p for p in proxy.served)
        assert shown[0].startswith("\x1b[1mNAME") and "DATA" in shown[0], shown[:2]
        assert shown[1].split()[:2] == ["kube-root-ca.crt", "1"], shown[:3]
        assert "stream-0499" not in term.data.decode()
        proxy.released.set()
        code = term.wait()
    finally:
        proxy.released.set()
        term.kill()
    shown = lines(term.data)
    assert code == 0, (tmp_path / "stderr").read_text()
    assert [line.split()[0] for line in shown[1:]] == ["kube-root-ca.crt"] + [f"stream-{i:04d}" for i in range(count)]
    assert sum(1 for p in proxy.served if "continue=" in p) == 6  # 3,001 objects in pages of 500


def test_a_long_cell_is_not_broken_at_80_columns(
    cluster: ControlPlane, ns: str, cache_dir: Path, tmp_path: Path
) -> None:
    name = "a-configmap-name-long-enough-that-its-row-runs-past-eighty-columns-on-a-terminal"
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}, "data": {"k": "v"}})
    for colour in (True, False):
        term = OnPty(["get", "cm", "-n", ns], terminal_env(cluster.kubeconfig, cache_dir, colour), tmp_path / "err")
        try:
            code = term.wait()
        finally:
            term.kill()
        shown = lines(term.data)
        assert code == 0, (tmp_path / "err").read_text()
        # kubectl's layout: one line per object, the line overflows the terminal, the cell stays whole
        assert len(shown) == 3, shown
        row = next(line for line in shown if line.startswith(name))
        assert row.split()[:2] == [name, "1"] and len(row) > 80, shown
        assert shown[0].startswith("\x1b[1mNAME ") if colour else shown[0].startswith("NAME "), shown[0]
        assert ("\x1b" in term.data.decode()) == colour  # NO_COLOR: not one escape sequence
    piped = subprocess.run(
        [*KATES, "get", "cm", "-n", ns],
        capture_output=True,
        text=True,
        env=terminal_env(cluster.kubeconfig, cache_dir, colour=False),
        check=True,
    )
    # without colour, the terminal shows the piped bytes (ages may tick between the two runs)
    assert masked(term.data.decode().replace("\r\n", "\n")) == masked(piped.stdout)
