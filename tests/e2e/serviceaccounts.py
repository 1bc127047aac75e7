"""Service accounts for end-to-end tests: RBAC from `kates rbac` applied as admin, a token from the TokenRequest API,
and a kubeconfig that uses it. Set-up that is not under test goes through `cluster.request`, never through kates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner, create


def service_account(cluster: ControlPlane, namespace: str, name: str) -> None:
    """A bare ServiceAccount, with no bindings."""
    create(cluster, f"/api/v1/namespaces/{namespace}/serviceaccounts", {"metadata": {"name": name}})


def token(cluster: ControlPlane, namespace: str, name: str) -> str:
    """A bound token for the ServiceAccount (TokenRequest, as the kubelet asks for a pod's), valid for an hour."""
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}
    code, resp = cluster.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", body)
    assert code == 201, resp
    return str(resp["status"]["token"])


def kubeconfig(cluster: ControlPlane, bearer: str, namespace: str, path: Path) -> Path:
    """A kubeconfig for the local control plane that authenticates with `bearer` only."""
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "local", "cluster": {"server": cluster.server, "certificate-authority": str(cluster.pki.ca_cert)}}
        ],
        "users": [{"name": "sa", "user": {"token": bearer}}],
        "contexts": [{"name": "sa", "context": {"cluster": "local", "user": "sa", "namespace": namespace}}],
        "current-context": "sa",
    }
    path.write_text(yaml.safe_dump(doc))
    path.chmod(0o600)
    return path


def apply_rbac(kates: Runner, *args: str) -> list[dict[str, Any]]:
    """Run `kates rbac ARGS`, create what it prints with `kates create -f -` (as admin), return the documents."""
    out = kates("rbac", *args)
    assert out.code == 0, out
    docs = [d for d in yaml.safe_load_all(out.out) if d]
    created = kates("create", "-f", "-", input=out.out)
    assert created.code == 0, created
    return docs
