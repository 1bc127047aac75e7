"""Discovery's edges end to end: a kind deleted behind a stale cache, `get -f` refusals, `version -o json|yaml`."""

from __future__ import annotations

import json
from typing import Any

import yaml

from kates_cli import __version__
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import AGGREGATED, Runner, ensure_crd, schemaless_crd

GROUP = "stale.disco.example.com"


def _crd(plural: str, kind: str) -> dict[str, Any]:
    return schemaless_crd(GROUP, plural, kind, shortNames=[plural[:3]])


def _delete_crd(cluster: ControlPlane, plural: str, ns: str) -> None:
    """Delete a CRD and wait until the server neither serves nor lists it (kates's disk cache still does)."""
    code, body = cluster.request("DELETE", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.{GROUP}")
    assert code in (200, 202), body

    def gone() -> bool:
        code, _ = cluster.request("GET", f"/apis/{GROUP}/v1/namespaces/{ns}/{plural}")
        _, doc = cluster.request("GET", "/apis", accept=AGGREGATED)
        listed = any(
            r.get("resource") == plural
            for g in doc.get("items", [])
            if (g.get("metadata") or {}).get("name") == GROUP
            for v in g.get("versions", [])
            for r in v.get("resources", [])
        )
        return code == 404 and not listed

    wait_for(gone, 60, f"CRD {plural}.{GROUP} to be gone")


def test_get_of_a_deleted_crd_answers_as_an_unknown_kind(cluster: ControlPlane, ns: str, kates: Runner) -> None:
    ensure_crd(cluster, _crd("relics", "Relic"))
    ensure_crd(cluster, _crd("shards", "Shard"))
    for kind in ("relics", "shards"):  # both now in kates's discovery cache
        found = kates("get", kind, "-n", ns)
        assert (found.code, found.out, found.err) == (0, "", f"No resources found in {ns} namespace.\n")

    # the group is still served (shards): the server answers a Status without details
    _delete_crd(cluster, "relics", ns)
    gone = kates("get", "relics", "-n", ns)
    assert (gone.code, gone.out) == (2, ""), gone
    assert gone.err == 'error: the server doesn\'t have a resource type "relics"\n'

    # the whole group is gone: the server answers `404 page not found`; a named get and a short name alike
    _delete_crd(cluster, "shards", ns)
    for args in (("sha", "x"), ("shards", "x", "--ignore-not-found"), ("shards", "-o", "name")):
        gone = kates("get", *args, "-n", ns)
        assert (gone.code, gone.out) == (2, ""), (args, gone)
        assert gone.err == f'error: the server doesn\'t have a resource type "{args[0]}"\n', args


def test_writes_to_a_deleted_crd_answer_as_an_unknown_kind(
    cluster: ControlPlane, ns: str, kates: Runner, tmp_path: Any
) -> None:
    """A create -f (and a delete -f) of a kind deleted behind kates's disk cache said the server's bare `404 page
    not found` (exit 4); now, as a get does, discovery is refetched and the kind named as unknown (exit 2)."""
    ensure_crd(cluster, _crd("gizmos", "Gizmo"))
    assert kates("get", "gizmos", "-n", ns).code == 0  # in kates's discovery cache
    _delete_crd(cluster, "gizmos", ns)
    manifest = tmp_path / "g.yaml"
    manifest.write_text(f"apiVersion: {GROUP}/v1\nkind: Gizmo\nmetadata: {{name: g1, namespace: {ns}}}\n")
    no_kind = f'no matches for kind "Gizmo" in version "{GROUP}/v1"'
    for verb in ("create", "delete"):
        gone = kates(verb, "-f", str(manifest))
        assert (gone.code, gone.out) == (2, ""), (verb, gone)
        assert no_kind in gone.err.splitlines()[0] and "404" not in gone.err, (verb, gone)


def test_a_missing_object_of_a_served_kind_is_still_not_found(ns: str, kates: Runner) -> None:
    missing = kates("get", "cm", "nope", "-n", ns)
    assert (missing.code, missing.out) == (4, "")
    assert 'configmaps "nope" not found' in missing.err


def test_get_f_refuses_urls_and_names_nothing_twice(ns: str, kates: Runner, tmp_path: Any) -> None:
    url = kates("get", "-f", "https://example.invalid/m.yaml", "-n", ns)
    assert (url.code, url.out) == (2, "")
    assert url.err.startswith('error: cannot read "https://example.invalid/m.yaml": kates does not fetch manifests')
    manifest = tmp_path / "m.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: elsewhere}\n")
    other = kates("get", "-f", str(manifest), "-n", ns)
    assert (other.code, other.out) == (2, "")
    assert 'the namespace from the provided object "elsewhere" does not match the namespace' in other.err
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: a-}\n")
    unnamed = kates("get", "-f", str(manifest), "-n", ns)
    assert (unnamed.code, unnamed.out) == (2, "")
    assert "resource name may not be empty" in unnamed.err


def test_get_f_fetches_each_object_from_its_own_namespace(
    cluster: ControlPlane, ns: str, kates: Runner, tmp_path: Any
) -> None:
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: kube-root-ca.crt, namespace: {ns}}}\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kube-root-ca.crt, namespace: default}\n---\n"
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: default}\n"
    )
    got = kates(
        "get",
        "-f",
        str(manifest),
        "-o",
        "jsonpath={range .items[*]}{.kind}/{.metadata.namespace}/{.metadata.name} {end}",
    )
    assert got.code == 0, got
    assert got.out == f"ConfigMap/{ns}/kube-root-ca.crt ConfigMap/default/kube-root-ca.crt Namespace//default "


def test_version_json_and_yaml_hold_kates_and_the_servers_versions(kates: Runner, kubectl: Runner) -> None:
    mine, theirs = kates("version", "-o", "json"), kubectl("version", "-o", "json")
    assert mine.code == theirs.code == 0, (mine, theirs)
    doc = json.loads(mine.out)
    assert list(doc) == ["clientVersion", "serverVersion"]
    assert doc["clientVersion"]["gitVersion"] == f"v{__version__}"
    assert list(doc["clientVersion"]) == ["major", "minor", "gitVersion", "platform"]
    # the server's part is kubectl's, byte for byte (2-space indent, the server's key order, last in both)
    assert mine.out.split('"serverVersion": ', 1)[1] == theirs.out.split('"serverVersion": ', 1)[1]

    mine, theirs = kates("version", "-o", "yaml"), kubectl("version", "-o", "yaml")
    assert mine.code == theirs.code == 0, (mine, theirs)
    assert mine.out.endswith("\n\n") and theirs.out.endswith("\n\n")  # kubectl's Println after the document
    assert yaml.safe_load(mine.out)["serverVersion"] == yaml.safe_load(theirs.out)["serverVersion"]
    assert yaml.safe_load(mine.out)["clientVersion"]["gitVersion"] == f"v{__version__}"


def test_version_client_json_asks_no_server(kates: Runner, tmp_path: Any) -> None:
    got = kates("version", "--client", "-o", "json", env={"KUBECONFIG": str(tmp_path / "none")})
    assert got.code == 0, got
    assert list(json.loads(got.out)) == ["clientVersion"]


def test_a_crd_short_name_never_hides_a_built_in_as_in_kubectl(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner
) -> None:
    """A CRD whose short names are `secret` and `cm`: `kates get secret` (and `delete secret foo`) read the CRD's kind.
    kubectl never expands a name that is some resource's own plural or singular."""
    group = "shadow.disco.example.com"
    ensure_crd(cluster, schemaless_crd(group, "shadows", "Shadow", shortNames=["secret", "shd"]))
    cluster.request(
        "POST", f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "real"}, "stringData": {"a": "b"}}
    )
    for args in (
        ["get", "secret", "-o", "name"],
        ["get", "shd", "-o", "name"],
        ["get", "shadows.shadow", "-o", "name"],
    ):
        wait_for(lambda args=args: kubectl(*args, "-n", ns).code == 0, 30, "kubectl to see the kind")
        mine, theirs = kates(*args, "-n", ns), kubectl(*args, "-n", ns)
        assert (mine.code, mine.out) == (theirs.code, theirs.out), (args, mine, theirs)
    assert kates("get", "secret", "-o", "name", "-n", ns).out == "secret/real\n"
    # an unknown type named with a group: kubectl's words
    mine, theirs = kates("get", "nothing.example.com"), kubectl("get", "nothing.example.com")
    assert (
        mine.err == theirs.err == 'error: the server doesn\'t have a resource type "nothing" in group "example.com"\n'
    )
