"""The continue token of a real API server's pages, read without parsing them (core/listpage.py): for a typed
list (ListMeta first), a custom resource's list (keys sorted, metadata last) and a server-side Table, the token read
from the bytes is the parsed page's, and it is read there (never UNKNOWN): otherwise `kates get` would quietly parse
every page twice, once in the thread that fetches the next one."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from kates_cli.core.client import TABLE_ACCEPT, Client
from kates_cli.core.listpage import UNKNOWN, continue_token
from tests.controlplane.launcher import ControlPlane

from .conftest import WIDGET_CRD, ensure_crd

N = 7  # with kube-root-ca.crt: 8 ConfigMaps, so 3 pages of 3


def pages(client: Client, path: str, accept: str = "application/json") -> list[bytes]:
    """Every page of the list at `path`, 3 items a page, each as the server's bytes (following the parsed token)."""
    out: list[bytes] = []
    cont = None
    while True:
        body = client.transport.request("GET", path, params={"limit": 3, "continue": cont}, accept=accept)
        out.append(body)
        cont = orjson.loads(body)["metadata"].get("continue")
        if not cont:
            return out


@pytest.mark.parametrize("shape", ["typed", "custom", "table"])
def test_every_page_token_is_read_from_the_bytes(cluster: ControlPlane, ns: str, shape: str) -> None:
    if shape == "custom":
        ensure_crd(cluster, WIDGET_CRD)
        path = f"/apis/example.com/v1/namespaces/{ns}/widgets"
        objects: list[dict[str, Any]] = [
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": f"w-{i}"}} for i in range(N + 1)
        ]
    else:
        path = f"/api/v1/namespaces/{ns}/configmaps"
        objects = [{"metadata": {"name": f"cm-{i}"}} for i in range(N)]
    cluster.bulk("POST", [(path, o) for o in objects])
    with Client(kubeconfig=str(cluster.kubeconfig)) as client:
        bodies = pages(client, path, TABLE_ACCEPT if shape == "table" else "application/json")
    assert len(bodies) == 3
    for body in bodies:
        token = continue_token(body)
        assert token is not UNKNOWN, body[:300]
        assert token == (orjson.loads(body)["metadata"].get("continue") or None)
    assert continue_token(bodies[-1]) is None
