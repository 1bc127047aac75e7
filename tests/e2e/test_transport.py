"""The transport against the real API server: the exec credential plugin runs once per command (as kubectl runs
it), and responses come gzip-compressed and are decompressed as they stream."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import yaml

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
