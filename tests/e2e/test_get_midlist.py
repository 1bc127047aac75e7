"""A chunked `kates get` whose list fails between two pages (issue 11, 1b): the API server gone after the first page
(every connection closed without an answer, as when it is killed), or a later page refused by the server.

kubectl 1.37, checked against the same gate: it prints the partial List for `-o json`/`-o yaml` (and the rows read
for a table or `-o name`) and exits 1 with `Unable to connect to the server: EOF`. kates prints nothing for the
formats a script parses whole (JSON, YAML, JSONPath, custom columns), since a partial List looks complete to `jq`,
keeps the rows a table or `-o name` printed as they came, and says in every format that the list was cut short:
how many objects were read, and for streamed formats the last one printed. The exit code is the failure's.

`PageGate` puts the failure exactly between two pages without timing luck: it terminates TLS with a certificate of
the cluster's CA and forwards each request as admin; from the first request carrying a `continue` token on it
closes the connection unanswered (`down`), or forwards that request with its token mangled, so that the real server
refuses it (`refused`). A private control plane is not needed: nothing on the server changes.
"""

from __future__ import annotations

import http.client
import http.server
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner


class PageGate:
    """A TLS-terminating HTTP/1.1 forwarder in front of `cp` that fails every list continuation (see the module),
    or in mode "pass" forwards every request; either way `paths` records each request's path and query."""

    def __init__(self, cp: ControlPlane, mode: str) -> None:
        self.cp = cp
        self.mode = mode
        self.continuations = 0
        self.paths: list[str] = []
        gate = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                path = self.path
                gate.paths.append(path)
                if "continue=" in path and gate.mode != "pass":
                    gate.continuations += 1
                    if gate.mode == "down":
                        self.close_connection = True
                        self.connection.close()
                        return
                    path = path.replace("continue=", "continue=x")
                conn = http.client.HTTPSConnection("127.0.0.1", gate.cp.port, context=gate.cp._ssl(), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("accept", "accept-encoding")}
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                self.send_response(resp.status)
                for k, v in resp.getheaders():
                    if k.lower() in ("content-type", "content-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert = cp.pki.issue("page-gate", "kube-apiserver", server=True)
        tls.load_cert_chain(str(cert[0]), str(cert[1]))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def kubeconfig(self, dest: Path) -> Path:
        config = yaml.safe_load(self.cp.kubeconfig.read_text())
        for cluster in config["clusters"]:
            cluster["cluster"]["server"] = f"https://127.0.0.1:{self.port}"
        dest.write_text(yaml.safe_dump(config))
        return dest

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(params=["down", "refused"])
def gate(request: pytest.FixtureRequest, cluster: ControlPlane, ns: str, tmp_path: Path) -> Iterator[PageGate]:
    cluster.bulk("POST", [(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"cm-{i}"}}) for i in range(5)])
    g = PageGate(cluster, request.param)
    yield g
    g.close()


# (format flags, streamed: rows printed as pages arrive)
FORMATS = {
    "table": ([], True),
    "name": (["-o", "name"], True),
    "json": (["-o", "json"], False),
    "yaml": (["-o", "yaml"], False),
    "jsonpath": (["-o", "jsonpath={.items[*].metadata.name}"], False),
    "custom-columns": (["-o", "custom-columns=N:.metadata.name"], False),
    "sorted table": (["--sort-by", ".metadata.name"], False),
}


def test_a_list_cut_short_between_pages_is_never_printed_as_whole(
    gate: PageGate, kates: Runner, ns: str, tmp_path: Path
) -> None:
    kc = str(gate.kubeconfig(tmp_path / "kubeconfig"))
    # the first page holds the two ConfigMaps that sort first (kube-root-ca.crt is the sixth object, and last)
    first_page = ["cm-0", "cm-1"]
    want_code = 6 if gate.mode == "down" else 1  # unreachable; the server's 400 for the mangled token
    for name, (flags, streamed) in FORMATS.items():
        r = kates("get", "cm", "-n", ns, "--chunk-size", "2", *flags, env={"KUBECONFIG": kc}, timeout=60)
        lines = r.err.splitlines()
        assert r.code == want_code, (name, r)
        assert lines[0].startswith("error: listing configmaps failed after 2 configmaps: "), (name, r)
        reason = "unable to connect to the server" if gate.mode == "down" else "invalid continue token"
        assert reason in lines[0], (name, r)
        if streamed:
            printed = [line.split()[0].removeprefix("configmap/") for line in r.out.splitlines()]
            assert printed == (["NAME"] if name == "table" else []) + first_page, (name, r)
            assert lines[1:] == [
                "hint: the list is incomplete: the 2 configmaps printed above (the last: cm-1) are all that was read"
            ], (name, r)
        else:
            assert r.out == "", (name, r)
            assert lines[1:] == [
                "hint: none of the 2 configmaps read before the failure was printed: a partial list would look whole"
            ], (name, r)
    assert gate.continuations >= len(FORMATS)


def test_a_whole_chunked_list_still_prints_in_every_format(kates: Runner, ns: str, cluster: ControlPlane) -> None:
    cluster.bulk("POST", [(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"cm-{i}"}}) for i in range(5)])
    r = kates("get", "cm", "-n", ns, "--chunk-size", "2", "-o", "json")
    assert r.code == 0 and r.err == "", r
    assert [o["metadata"]["name"] for o in json.loads(r.out)["items"]] == [f"cm-{i}" for i in range(5)] + [
        "kube-root-ca.crt"
    ]
    r = kates("get", "cm", "-n", ns, "--chunk-size", "2", "-o", "name")
    assert r.code == 0 and r.out.split() == [f"configmap/cm-{i}" for i in range(5)] + ["configmap/kube-root-ca.crt"]
