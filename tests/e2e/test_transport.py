"""The transport against the real API server: the exec credential plugin runs once per command (as kubectl runs
it), and large responses come gzip-compressed and are inflated as they stream, the output unchanged."""

from __future__ import annotations

import base64
import json
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import yaml

from bench.proxy import CuttingProxy
from kates_cli.core.config import load
from kates_cli.core.transport import Transport
from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import RESTRICTED_NAMESPACE, RESTRICTED_TOKEN, ControlPlane

from .conftest import Runner

COUNTING_PLUGIN = """\
import base64, json, os, sys
count, mode = sys.argv[1], sys.argv[2]
n = (int(open(count).read()) if os.path.exists(count) else 0) + 1
open(count, "w").write(str(n))
if mode == "cert":
    status = {"clientCertificateData": open(sys.argv[3]).read(), "clientKeyData": open(sys.argv[4]).read()}
else:  # "token", or "stale-first": a token the server refuses on the first run only
    status = {"token": "no-such-token" if mode == "stale-first" and n == 1 else sys.argv[3]}
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": status}))
"""


def exec_kubeconfig(cluster: ControlPlane, tmp_path: Path, *args: str) -> tuple[Path, Path]:
    """A kubeconfig whose user is the counting plugin run with `args`; returns it and the count file. Its context's
    namespace is the restricted user's, once the controller manager has published kube-root-ca.crt there."""
    wait_for(
        lambda: (
            cluster.request("GET", f"/api/v1/namespaces/{RESTRICTED_NAMESPACE}/configmaps/kube-root-ca.crt")[0] == 200
        ),
        30,
        "kube-root-ca.crt in the restricted namespace",
    )
    script, count = tmp_path / "plugin.py", tmp_path / f"count-{'-'.join(args[:1])}"
    script.write_text(COUNTING_PLUGIN)
    exec_stanza: dict[str, Any] = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": sys.executable,
        "args": [str(script), str(count), *args],
        "interactiveMode": "Never",
    }
    ca = base64.b64encode(cluster.pki.ca_cert.read_bytes()).decode()
    cfg = tmp_path / f"{args[0]}.kubeconfig"
    cfg.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "k", "cluster": {"server": cluster.server, "certificate-authority-data": ca}}],
                "users": [{"name": "u", "user": {"exec": exec_stanza}}],
                "contexts": [
                    {"name": "c", "context": {"cluster": "k", "user": "u", "namespace": RESTRICTED_NAMESPACE}}
                ],
            }
        )
    )
    return cfg, count


def runs(count: Path) -> int:
    return int(count.read_text()) if count.exists() else 0


def test_the_exec_plugin_runs_once_per_command_as_kubectl_runs_it(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    cfg, count = exec_kubeconfig(cluster, tmp_path, "token", RESTRICTED_TOKEN)
    theirs = kubectl("--kubeconfig", str(cfg), "get", "cm", "-o", "name")
    assert theirs.code == 0 and "configmap/kube-root-ca.crt" in theirs.out, theirs
    assert runs(count) == 1
    count.unlink()
    mine = kates("--kubeconfig", str(cfg), "get", "cm", "-o", "name")
    assert (mine.code, mine.out) == (0, theirs.out), mine
    assert runs(count) == 1  # kates ran it twice: once for the token, once for the TLS context


def test_an_exec_client_certificate_is_fetched_once(cluster: ControlPlane, kates: Runner, tmp_path: Path) -> None:
    cert, key = cluster.admin
    cfg, count = exec_kubeconfig(cluster, tmp_path, "cert", str(cert), str(key))
    out = kates("--kubeconfig", str(cfg), "get", "ns", "default", "-o", "name")
    assert (out.code, out.out) == (0, "namespace/default\n"), out
    assert runs(count) == 1


def test_a_401_runs_the_plugin_again_and_retries(cluster: ControlPlane, kates: Runner, tmp_path: Path) -> None:
    cfg, count = exec_kubeconfig(cluster, tmp_path, "stale-first", RESTRICTED_TOKEN)
    out = kates("--kubeconfig", str(cfg), "get", "cm", "kube-root-ca.crt", "-o", "name")
    assert (out.code, out.out) == (0, "configmap/kube-root-ca.crt\n"), out
    assert runs(count) == 2  # the refused token, then a fresh one; not once more per request after that
    denied = kates("--kubeconfig", str(cfg), "get", "secrets")  # another process runs it once more
    assert denied.code == ExitCode.FORBIDDEN and 'cannot list resource "secrets"' in denied.err, denied
    assert runs(count) == 3


class CountingProxy(CuttingProxy):
    """The loopback TCP proxy of bench/proxy.py, counting the bytes the API server sends: TLS records, what
    crosses the wire."""

    def __init__(self, upstream_port: int):
        self.down = 0
        self._count_lock = threading.Lock()
        super().__init__(upstream_port)

    def _pump(self, src: socket.socket, dst: socket.socket, done: threading.Semaphore) -> None:
        try:
            from_server = src.getpeername() == self.upstream
            while data := src.recv(65536):
                if from_server:
                    with self._count_lock:
                        self.down += len(data)
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            done.release()


def test_a_large_list_comes_gzip_compressed_and_prints_the_same_bytes(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    # 600 ConfigMaps of ~1 KB: the first page of 500 is over kube-apiserver's 128 KiB compression threshold, the
    # last one (100) under it, so one command reads a compressed page and a plain one.
    cluster.bulk(
        "POST",
        [
            (f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"cm-{i:04d}"}, "data": {"v": f"{i} " * 250}})
            for i in range(600)
        ],
    )
    proxy = CountingProxy(cluster.port)
    try:
        gz = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "gzip.kubeconfig")
        cfg = yaml.safe_load(gz.read_text())
        cfg["clusters"][0]["cluster"]["disable-compression"] = True  # client-go's field, which kubectl honours too
        plain = tmp_path / "plain.kubeconfig"
        plain.write_text(yaml.safe_dump(cfg))
        wire: dict[str, int] = {}
        outputs: dict[str, str] = {}
        for name, path in (("gzip", gz), ("plain", plain)):
            assert kates("--kubeconfig", str(path), "get", "cm", "-n", ns, "-o", "name").code == 0  # discovery cached
            proxy.down = 0
            out = kates("--kubeconfig", str(path), "get", "cm", "-n", ns, "-o", "json")
            assert out.code == 0 and out.err == "", out
            wire[name], outputs[name] = proxy.down, out.out
        for path, encoding in ((gz, "gzip"), (plain, None)):  # the server's own word for it
            transport = Transport(load(str(path)))
            resp = transport.open("GET", f"/api/v1/namespaces/{ns}/configmaps", params={"limit": 500})
            try:
                assert resp.headers.get("Content-Encoding") == encoding
                assert len(json.loads(resp.read())["items"]) == 500
            finally:
                resp.close()
                transport.close()
    finally:
        proxy.close()
    theirs = kubectl("get", "cm", "-n", ns, "-o", "json")
    assert outputs["gzip"] == outputs["plain"] == theirs.out  # the bytes printed do not depend on the encoding
    assert len(json.loads(outputs["gzip"])["items"]) == 601  # and kube-root-ca.crt
    assert wire["gzip"] * 3 < wire["plain"], wire  # ~1 KB of repeated text per object: gzip takes most of it away
    assert wire["plain"] > len(outputs["plain"]) * 0.6, wire  # (the plain transfer is the size of the output)
