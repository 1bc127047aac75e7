"""Reaching the API server through an HTTP proxy named by the environment (HTTPS_PROXY, NO_PROXY), as kubectl does
(Go's http.ProxyFromEnvironment), with the proxy's credentials from the URL. The server is named "kubernetes", a
name of its serving certificate that does not resolve here: only the proxy (a CONNECT proxy in this test, which
sends "kubernetes" to the local control plane) can reach it, so a run that succeeds went through the proxy."""

from __future__ import annotations

import base64
import socket
import threading
from pathlib import Path

import yaml

from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner

AUTH = "Basic " + base64.b64encode(b"us@er:pa:ss").decode()


class ConnectProxy:
    """A CONNECT proxy on loopback that asks for AUTH and sends the host "kubernetes" to 127.0.0.1; it notes each
    CONNECT's target and Proxy-Authorization."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.seen: list[tuple[str, str]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client:
            head = b""
            while b"\r\n\r\n" not in head:
                more = client.recv(4096)
                if not more:
                    return
                head += more
            lines = head.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
            target = lines[0].split(" ")[1]
            fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
            self.seen.append((target, fields.get("proxy-authorization", "")))
            if fields.get("proxy-authorization") != AUTH:
                client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                return
            host, _, port = target.rpartition(":")
            try:
                upstream = socket.create_connection(("127.0.0.1" if host == "kubernetes" else host, int(port)), 10)
            except OSError:
                client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                return
            with upstream:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pump = threading.Thread(target=_pipe, args=(upstream, client), daemon=True)
                pump.start()
                _pipe(client, upstream)
                pump.join(10)

    def close(self) -> None:
        self.listener.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def test_the_environments_proxy_as_kubectl_uses_it(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    cfg = yaml.safe_load(cluster.kubeconfig.read_text())
    for entry in cfg["clusters"]:
        entry["cluster"]["server"] = entry["cluster"]["server"].replace("127.0.0.1", "kubernetes")
    path = tmp_path / "proxied.kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    server_port = cluster.server.rsplit(":", 1)[1]
    proxy = ConnectProxy()
    try:
        url = f"http://us%40er:pa%3Ass@127.0.0.1:{proxy.port}"
        args = ("--kubeconfig", str(path), "get", "ns", "default", "-o", "name")
        for run in (kubectl, kates):
            result = run(*args, env={"HTTPS_PROXY": url})
            assert result.code == 0 and result.out == "namespace/default\n", result
        assert proxy.seen and set(proxy.seen) == {(f"kubernetes:{server_port}", AUTH)}
        # NO_PROXY names the server: both go direct, where "kubernetes" does not resolve
        seen = len(proxy.seen)
        for run in (kubectl, kates):
            result = run(*args, env={"HTTPS_PROXY": url, "NO_PROXY": "other.example,kubernetes"})
            assert result.code != 0, result
        assert len(proxy.seen) == seen
        # credentials the proxy refuses: its 407, said in one line
        wrong = kates(*args, env={"HTTPS_PROXY": f"http://someone:else@127.0.0.1:{proxy.port}"})
        assert wrong.code == 6 and "407 Proxy Authentication Required" in wrong.err and "else" not in wrong.err, wrong
        assert len(wrong.err.strip().splitlines()) <= 2
    finally:
        proxy.close()
