"""The rest of the Go kates library in Python, against the real control plane: upsert, owner references (and the
garbage collector acting on them), wait_for, invalidate_cache, server_resources and server_preferred_resources."""

from __future__ import annotations

import copy
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kates_cli import Client, by_name, has_owner_reference, merge_update, set_owner_references
from kates_cli.errors import Conflict, NotFound, ResourceTypeNotFound
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import WIDGET_CRD, Runner, create, ensure_crd, schemaless_crd

CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
MERGE = "application/merge-patch+json"


@pytest.fixture
def client(cluster: ControlPlane, cache_dir: Path, monkeypatch: pytest.MonkeyPatch, ns: str) -> Iterator[Client]:
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    with Client(str(cluster.kubeconfig), namespace=ns) as c:
        yield c


def widget(name: str, labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    meta = {"name": name, "labels": labels}
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": meta, "spec": spec}


def server_get(cluster: ControlPlane, path: str) -> dict[str, Any]:
    code, body = cluster.request("GET", path)
    assert code == 200, body
    assert isinstance(body, dict)
    return body


# -- upsert --------------------------------------------------------------------------------------------------------


def test_upsert_creates_then_merges_the_source_into_the_stored_object(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    path = f"/apis/example.com/v1/namespaces/{ns}/widgets/w"
    created = client.upsert(widget("w", {"a": "1"}, color="red", size=1))
    assert server_get(cluster, path)["spec"] == {"color": "red", "size": 1}
    # someone else labels and annotates it
    code, _ = cluster.request(
        "PATCH", path, {"metadata": {"labels": {"b": "2"}, "annotations": {"note": "x"}}}, content_type=MERGE
    )
    assert code == 200
    updated = client.upsert(widget("w", {"a": "2"}, color="blue"))
    stored = server_get(cluster, path)
    assert stored["metadata"]["uid"] == created["metadata"]["uid"]
    assert stored["metadata"]["labels"] == {"a": "2", "b": "2"}  # merged, the source winning its own key
    assert stored["metadata"]["annotations"] == {"note": "x"}
    assert stored["spec"] == {"color": "blue"}  # replaced, not merged
    assert updated["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]


def test_upsert_with_a_stale_resource_version_rereads_and_merges(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    path = f"/apis/example.com/v1/namespaces/{ns}/widgets/w"
    first = client.create(widget("w", {"a": "1"}, color="red"))
    cluster.request("PATCH", path, {"metadata": {"labels": {"b": "2"}}}, content_type=MERGE)  # first is now stale
    stale = copy.deepcopy(first)
    with pytest.raises(Conflict):
        client.upsert(stale, widget("w", {"c": "3"}, color="green"), conflict_retries=0)
    result = client.upsert(stale, widget("w", {"c": "3"}, color="green"))
    assert result["metadata"]["labels"] == {"a": "1", "b": "2", "c": "3"}
    assert result["spec"] == {"color": "green"}
    assert server_get(cluster, path)["metadata"]["resourceVersion"] == result["metadata"]["resourceVersion"]


def test_upsert_that_loses_a_create_race_updates_instead(cluster: ControlPlane, client: Client, ns: str) -> None:
    """Go fails here (AlreadyExists); kates updates the object the other creator made."""
    path = f"/api/v1/namespaces/{ns}/configmaps"
    real_get = client.get

    def get_then_someone_creates(*args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return real_get(*args, **kwargs)
        except NotFound:
            create(cluster, path, {"metadata": {"name": "race", "labels": {"other": "y"}}, "data": {"x": "other"}})
            raise

    client.get = get_then_someone_creates  # type: ignore[method-assign]
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "race", "labels": {"me": "y"}}}
    result = client.upsert({**cm, "data": {"x": "mine"}})
    stored = server_get(cluster, f"{path}/race")
    assert stored["metadata"]["labels"] == {"me": "y", "other": "y"}
    assert stored["data"] == {"x": "mine"}  # a ConfigMap's data is content too (Go would keep the old data)
    assert result["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]


# -- owner references ------------------------------------------------------------------------------------------------


def test_owner_references_are_accepted_and_collected_with_the_owner(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    owner = client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner"}})
    children = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"child-{i}"}} for i in range(2)]
    set_owner_references(owner, *children)
    made = [client.create(c) for c in children]
    assert all(has_owner_reference(owner, m) for m in made)
    assert not has_owner_reference(made[0], owner)
    listed = by_name(client.list("cm", ns)["items"])
    assert {"owner", "child-0", "child-1"} <= set(listed)
    assert listed["child-1"]["metadata"]["ownerReferences"][0]["uid"] == owner["metadata"]["uid"]
    client.delete("cm", "owner", ns)
    wait_for(
        lambda: not {"child-0", "child-1"} & set(by_name(client.list("cm", ns)["items"])),
        60,
        "the garbage collector to delete the owned ConfigMaps",
    )


def test_merge_update_result_is_a_valid_update(client: Client, ns: str) -> None:
    stored = client.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s"},
                            "spec": {"ports": [{"port": 80}]}})  # fmt: skip
    merge_update(stored, {"metadata": {"labels": {"x": "1"}}, "spec": {"ports": [{"port": 81}]}})
    result = client.update(stored)
    assert result["spec"]["ports"][0]["port"] == 81 and result["metadata"]["labels"] == {"x": "1"}
    assert result["spec"]["clusterIP"]  # the server keeps the allocated IP


# -- discovery: wait_for, invalidate_cache, server resources -------------------------------------------------------


def test_wait_for_returns_once_the_kind_is_served(cluster: ControlPlane, client: Client) -> None:
    group = f"w{uuid.uuid4().hex[:8]}.example.com"
    crd = schemaless_crd(group, "sprockets", "Sprocket")
    missing = r'resource type "sprockets" in group "[a-z0-9.]+": still not served after 0.3s'
    with pytest.raises(ResourceTypeNotFound, match=missing):
        client.wait_for(f"sprockets.{group}", timeout=0.3)
    timer = threading.Timer(0.5, lambda: cluster.request("POST", CRDS, crd))
    timer.start()
    try:
        ref = client.wait_for(f"sprockets.{group}", timeout=60)
    finally:
        timer.join()
        cluster.request("DELETE", f"{CRDS}/sprockets.{group}")
    assert (ref.group, ref.resource, ref.kind, ref.namespaced) == (group, "sprockets", "Sprocket", True)


def test_invalidate_cache_forgets_a_deleted_kind(cluster: ControlPlane, client: Client) -> None:
    group = f"i{uuid.uuid4().hex[:8]}.example.com"
    ensure_crd(cluster, schemaless_crd(group, "cogs", "Cog"))
    assert client.resolve(f"cogs.{group}").kind == "Cog"
    assert client.discovery.cache_file.exists()
    cluster.request("DELETE", f"{CRDS}/cogs.{group}")
    wait_for(lambda: cluster.request("GET", f"/apis/{group}/v1")[0] == 404, 60, "the CRD to be gone")
    assert client.resolve(f"cogs.{group}").kind == "Cog"  # still known from the cache
    client.invalidate_cache()
    assert not client.discovery.cache_file.exists()
    with pytest.raises(ResourceTypeNotFound, match=f'"cogs" in group "{group}"'):
        client.resolve(f"cogs.{group}")


def _legacy_resources(cluster: ControlPlane) -> list[dict[str, Any]]:
    """What Go kates's ServerResources returns, built from the non-aggregated discovery endpoints."""
    out = []
    paths = [f"/api/{v}" for v in server_get(cluster, "/api")["versions"]]
    for group in server_get(cluster, "/apis")["groups"]:
        paths += [f"/apis/{v['groupVersion']}" for v in group["versions"]]
    for path in paths:
        body = server_get(cluster, path)
        group, _, version = body["groupVersion"].rpartition("/")
        for r in body["resources"]:
            out.append({**r, "group": r.get("group") or group, "version": r.get("version") or version})
    return out


def _essence(r: dict[str, Any]) -> tuple[Any, ...]:
    """The fields both kinds of discovery agree on (legacy discovery gives subresources no singularName)."""
    return (r["group"], r["version"], r["name"], r["kind"], r["namespaced"], tuple(sorted(r["verbs"])),
            tuple(r.get("shortNames") or ()), tuple(r.get("categories") or ()))  # fmt: skip


def test_server_resources_match_the_legacy_discovery_documents(cluster: ControlPlane, client: Client) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    ours = client.server_resources()
    assert sorted(map(_essence, ours)) == sorted(map(_essence, _legacy_resources(cluster)))
    scale = next(r for r in ours if r["name"] == "deployments/scale")
    assert (scale["group"], scale["version"], scale["kind"]) == ("autoscaling", "v1", "Scale")
    assert any(r["name"] == "widgets" and r["group"] == "example.com" for r in ours)


def test_server_preferred_resources_are_what_kubectl_api_resources_lists(
    cluster: ControlPlane, client: Client, kubectl: Runner
) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    preferred = client.server_preferred_resources()
    listed = kubectl("api-resources", "-o", "name")
    assert listed.code == 0, listed
    ours = {f"{r['name']}.{r['group']}" if r["group"] else r["name"] for r in preferred}
    assert ours == set(listed.out.split())
    groups = {g["name"]: g["preferredVersion"]["version"] for g in server_get(cluster, "/apis")["groups"]}
    assert [r["version"] for r in preferred if r["name"] == "horizontalpodautoscalers"] == [groups["autoscaling"]]
