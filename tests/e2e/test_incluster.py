"""In-cluster configuration, run for real: no kubeconfig anywhere, KUBERNETES_SERVICE_HOST/PORT pointing at the local
API server (its serving certificate holds 127.0.0.1), and a service-account directory (token, ca.crt, namespace)
laid out as the kubelet lays it out, found through KATES_SERVICEACCOUNT_DIR (the one knob a test needs: the real
/var/run/secrets/kubernetes.io/serviceaccount cannot be written here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kates_cli.core import config
from kates_cli.core.client import Client
from kates_cli.errors import Forbidden
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e import serviceaccounts as sa
from tests.e2e.conftest import KATES, Result, Runner, create


def project(sa_dir: Path, generation: int, token: str, namespace: str, ca: bytes) -> None:
    """Write the service-account files as the kubelet's projected volume does: the files in a fresh timestamped
    directory, `..data` swapped to it atomically, `token` a symlink through `..data`. Each generation's files get
    their own mtime (kates notices a rotated token by the file's mtime)."""
    data = sa_dir / f"..gen{generation}"
    data.mkdir()
    (data / "token").write_text(token)
    (data / "namespace").write_text(namespace)
    (data / "ca.crt").write_bytes(ca)
    mtime = 1_700_000_000 + generation * 60
    os.utime(data / "token", (mtime, mtime))
    link = sa_dir / f"..data-{generation}"
    link.symlink_to(data.name)
    link.replace(sa_dir / "..data")
    for name in ("token", "namespace", "ca.crt"):
        if not (sa_dir / name).is_symlink():
            (sa_dir / name).symlink_to(f"..data/{name}")


@pytest.fixture
def in_cluster(cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path) -> dict[str, str]:
    """The environment of a pod whose ServiceAccount `reader` may read and create ConfigMaps in `ns` (RBAC from
    `kates rbac`): no KUBECONFIG, an empty HOME, the service host and port, the service-account directory."""
    sa.apply_rbac(kates, "-n", ns, "--service-account", "reader", "-q", "cm", "--writes", "cm:create")
    sa_dir = tmp_path / "serviceaccount"
    sa_dir.mkdir()
    project(sa_dir, 1, sa.token(cluster, ns, "reader"), ns, cluster.pki.ca_cert.read_bytes())
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBE", "KATES_"))}
    env.update(
        HOME=str(home),
        KUBERNETES_SERVICE_HOST="127.0.0.1",
        KUBERNETES_SERVICE_PORT=str(cluster.port),
        KATES_SERVICEACCOUNT_DIR=str(sa_dir),
        KATES_CACHE_DIR=str(tmp_path / "cache"),
        NO_COLOR="1",
    )
    return env


def run(env: dict[str, str], *args: str) -> Result:
    proc = subprocess.run([*KATES, *args], capture_output=True, text=True, env=env, timeout=60)
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_get_and_watch_in_cluster_use_the_pods_service_account(
    cluster: ControlPlane, in_cluster: dict[str, str], ns: str, tmp_path: Path
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "seen"}})
    # the binding reaches the RBAC authorizer through its informer: wait until it applies
    wait_for(lambda: run(in_cluster, "get", "cm", "seen").code == 0, 30, "the RoleBinding to apply")
    got = run(in_cluster, "get", "cm", "-o", "name")  # no -n: the namespace file's namespace
    assert (got.code, got.out, got.err) == (0, "configmap/kube-root-ca.crt\nconfigmap/seen\n", ""), got
    # a hook's kates inherits the in-cluster configuration too, and its write is in the same cluster
    hook = tmp_path / "hook.sh"
    hook.write_text(
        textwrap.dedent(f"""\
        #!/bin/sh
        set -eu
        test -z "${{KUBECONFIG:-}}"
        snapshot=$(cat)
        echo '{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "from-hook"}}}}' \\
            | {sys.executable} -m kates_cli create -f -
        printf '%s' "$snapshot" > {tmp_path / "snapshot.json"}
        """)
    )
    hook.chmod(0o755)
    watched = run(in_cluster, "watch", "-q", "cm", "--once", "--exec", str(hook))
    assert watched.code == 0, watched
    assert watched.out == "configmap/from-hook created\n", watched
    snapshot = json.loads((tmp_path / "snapshot.json").read_text())
    assert [o["metadata"]["name"] for o in snapshot["cm"]] == ["kube-root-ca.crt", "seen"]
    code, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps/from-hook")
    assert code == 200, body
    # without the service host, or without a token, there is no configuration at all
    no_host = {k: v for k, v in in_cluster.items() if k != "KUBERNETES_SERVICE_HOST"}
    missing = run(no_host, "get", "cm")
    assert (missing.code, missing.err.splitlines()[0]) == (3, "error: no kubeconfig found"), missing


def test_in_cluster_token_is_read_again_when_the_kubelet_rotates_it(
    cluster: ControlPlane, in_cluster: dict[str, str], ns: str, tmp_path: Path
) -> None:
    sa_dir = Path(in_cluster["KATES_SERVICEACCOUNT_DIR"])
    reader = (sa_dir / "token").read_text()
    sa.service_account(cluster, ns, "nobody")
    settings = config.load(env=in_cluster, home=in_cluster["HOME"])
    assert (settings.in_cluster, settings.server, settings.namespace) == (True, cluster.server, ns)
    with Client(settings=settings) as client:
        wait_for(lambda: _can_list(client), 30, "the RoleBinding to apply")
        # one process, three tokens in turn: each request carries the file's current token
        ca = cluster.pki.ca_cert.read_bytes()
        project(sa_dir, 2, sa.token(cluster, ns, "nobody"), ns, ca)
        with pytest.raises(Forbidden) as refused:
            client.list("configmaps")
        assert f'User "system:serviceaccount:{ns}:nobody" cannot list resource "configmaps"' in refused.value.message
        project(sa_dir, 3, reader, ns, ca)
        assert "kube-root-ca.crt" in [o["metadata"]["name"] for o in client.list("configmaps")["items"]]


def _can_list(client: Client) -> bool:
    try:
        client.list("configmaps")
        return True
    except Forbidden:
        return False
