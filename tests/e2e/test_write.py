"""create, update, update-status, patch and delete against the real control plane."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import yaml

from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import WIDGET_CRD, Runner, create, ensure_crd


def cm(name: str, ns: str | None = None, **data: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if ns:
        meta["namespace"] = ns
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data}


def docs(*objs: dict[str, Any]) -> str:
    return "---\n".join(yaml.safe_dump(o) for o in objs)


def names(cluster: ControlPlane, path: str) -> list[str]:
    code, body = cluster.request("GET", path)
    assert code == 200, body
    return sorted(i["metadata"]["name"] for i in body["items"] if i["metadata"]["name"] != "kube-root-ca.crt")


def get_obj(cluster: ControlPlane, path: str) -> dict[str, Any]:
    code, body = cluster.request("GET", path)
    assert code == 200, body
    return body  # type: ignore[no-any-return]


def test_create_from_file_directory_and_stdin_including_a_crd_instance(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "spec": {"color": "red"}}
    (tmp_path / "multi.yaml").write_text(docs(cm("f1", a="1"), widget))
    sub = tmp_path / "dir" / "nested"
    sub.mkdir(parents=True)
    (tmp_path / "dir" / "top.json").write_text(json.dumps(cm("d1")))
    (sub / "list.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [cm("d2"), cm("d3")]}))
    (sub / "ignored.txt").write_text("not a manifest")
    out = kates("create", "-f", str(tmp_path / "multi.yaml"), "-n", ns)
    assert out.code == 0 and out.out == "configmap/f1 created\nwidget.example.com/w1 created\n", out
    flat = kates("create", "-f", str(tmp_path / "dir"), "-n", ns)  # without -R: top level only
    assert flat.out == "configmap/d1 created\n", flat
    rec = kates("create", "-R", "-f", str(tmp_path / "dir"), "-n", ns, "-o", "name")
    assert rec.code == 1 or rec.code == ExitCode.CONFLICT
    assert "configmap/d2\nconfigmap/d3\n" == rec.out and 'configmaps "d1" already exists' in rec.err
    piped = kates("create", "-f", "-", "-n", ns, input=docs(cm("s1"), cm("s2")))
    assert piped.code == 0 and piped.out == "configmap/s1 created\nconfigmap/s2 created\n"
    assert names(cluster, f"/api/v1/namespaces/{ns}/configmaps") == ["d1", "d2", "d3", "f1", "s1", "s2"]
    assert get_obj(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets/w1")["spec"] == {"color": "red"}


def test_broken_document_creates_nothing(cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(docs(cm("good1")) + "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [unclosed\n")
    out = kates("create", "-f", str(path), "-n", ns)
    assert out.code == ExitCode.USAGE and out.out == ""
    assert out.err.startswith(f"error: {path}: document 2 (line 11): invalid YAML"), out
    missing = tmp_path / "missing-name.yaml"
    missing.write_text(docs(cm("good2"), {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}))
    out = kates("create", "-f", str(missing), "-n", ns)
    assert out.code == ExitCode.USAGE and out.err.startswith(
        f"error: {missing}: document 2 (line 7): metadata.name not set"
    )
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text(docs(cm("good3"), {"apiVersion": "nope.io/v1", "kind": "Thing", "metadata": {"name": "t"}}))
    out = kates("create", "-f", str(unknown), "-n", ns)
    assert out.code == ExitCode.USAGE and 'no matches for kind "Thing"' in out.err, out
    assert names(cluster, f"/api/v1/namespaces/{ns}/configmaps") == []  # nothing was sent


def test_one_rejected_object_does_not_stop_the_others(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    bad = cm("Bad_Name")
    out = kates("create", "-f", "-", "-n", ns, input=docs(cm("ok1"), bad, cm("ok2")))
    assert out.code == ExitCode.INVALID, out
    assert out.out == "configmap/ok1 created\nconfigmap/ok2 created\n"
    assert 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' in out.err
    assert out.err.splitlines()[-1] == "error: 1 of 3 objects failed"
    assert names(cluster, f"/api/v1/namespaces/{ns}/configmaps") == ["ok1", "ok2"]


def test_update_status_conflict_and_retry(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    w = create(
        cluster,
        f"/apis/example.com/v1/namespaces/{ns}/widgets",
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"color": "a"}},
    )
    stale = dict(w, spec={"color": "CHANGED"}, status={"phase": "One"})
    out = kates("update-status", "-f", "-", input=json.dumps(stale))
    assert out.code == 0 and out.out == "widget.example.com/w status updated\n", out
    now = get_obj(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets/w")
    assert now["status"] == {"phase": "One"} and now["spec"] == {"color": "a"}  # status only
    stale["status"] = {"phase": "Two"}  # still carries the old resourceVersion
    out = kates("update-status", "-f", "-", input=json.dumps(stale))
    assert out.code == ExitCode.CONFLICT and "the object has been modified" in out.err, out
    out = kates("update-status", "-f", "-", "--retry-on-conflict", input=json.dumps(stale))
    assert out.code == 0, out
    assert get_obj(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets/w")["status"] == {"phase": "Two"}
    plain = kates("update-status", "-f", "-", "-n", ns, input=json.dumps(cm("x")))
    assert plain.code == ExitCode.USAGE and 'resource type "configmaps" has no status subresource' in plain.err
    # a ConfigMap after the widget: refused before the widget's status is written (nothing half-written)
    first = dict(stale, status={"phase": "Three"})
    first["metadata"] = {k: v for k, v in first["metadata"].items() if k != "resourceVersion"}
    both = kates(
        "update-status",
        "-f",
        "-",
        "-n",
        ns,
        input=json.dumps({"kind": "List", "apiVersion": "v1", "items": [first, cm("x")]}),
    )
    assert both.code == ExitCode.USAGE and "document 1" in both.err and "no status subresource" in both.err, both
    assert get_obj(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets/w")["status"] == {"phase": "Two"}


def test_update_replaces_and_requires_existence(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm("u", a="1"))
    out = kates("update", "-f", "-", "-n", ns, input=json.dumps(cm("u", b="2")))
    assert out.code == 0 and out.out == "configmap/u updated\n", out
    assert get_obj(cluster, f"/api/v1/namespaces/{ns}/configmaps/u")["data"] == {"b": "2"}
    out = kates("update", "-f", "-", "-n", ns, input=json.dumps(cm("absent")))
    assert out.code == ExitCode.NOT_FOUND and 'configmaps "absent" not found' in out.err


def test_patch_types_subresource_and_crd_error(cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm("p", a="1"))
    create(
        cluster,
        f"/apis/example.com/v1/namespaces/{ns}/widgets",
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}, "spec": {"size": 1}},
    )
    assert kates("patch", "cm", "p", "-n", ns, "-p", '{"data":{"s":"1"}}').out == "configmap/p patched\n"
    assert kates("patch", "configmap/p", "-n", ns, "--type", "merge", "-p", "data: {m: '2'}").code == 0
    json_patch = tmp_path / "p.json"
    json_patch.write_text('[{"op": "replace", "path": "/data/a", "value": "J"}]')
    assert kates("patch", "cm", "p", "-n", ns, "--type", "json", "--patch-file", str(json_patch)).code == 0
    assert get_obj(cluster, f"/api/v1/namespaces/{ns}/configmaps/p")["data"] == {"a": "J", "s": "1", "m": "2"}
    bad = kates("patch", "cm", "p", "-n", ns, "--type", "json", "-p", '[{"op": "add", "path": "/x"}]')
    assert bad.code == ExitCode.USAGE and "add needs a value" in bad.err
    strategic = kates("patch", "widget", "w", "-n", ns, "--type", "strategic", "-p", '{"spec":{"size":2}}')
    assert strategic.code == ExitCode.USAGE, strategic
    assert strategic.err.startswith(
        "error: application/strategic-merge-patch+json is not supported by example.com/v1, Kind=Widget"
    )
    assert kates("patch", "widget", "w", "-n", ns, "-p", '{"spec":{"size":3}}').code == 0  # CRDs default to merge
    status = kates("patch", "wd", "w", "-n", ns, "--subresource", "status", "-p", '{"status":{"ok":true}}')
    assert status.code == 0, status
    w = get_obj(cluster, f"/apis/example.com/v1/namespaces/{ns}/widgets/w")
    assert w["spec"] == {"size": 3} and w["status"] == {"ok": True}


def test_patch_local_applies_to_a_file_without_a_cluster(kates: Runner, tmp_path: Path) -> None:
    path = tmp_path / "cm.yaml"
    path.write_text(yaml.safe_dump(cm("loc", a="1", b="2")))
    out = kates(
        "patch",
        "--local",
        "-f",
        str(path),
        "--type",
        "json",
        "-p",
        '[{"op":"remove","path":"/data/b"}]',
        "-o",
        "json",
        "--kubeconfig",
        str(tmp_path / "none"),
    )
    assert out.code == 0, out
    assert json.loads(out.out)["data"] == {"a": "1"}


def test_dry_run_server_changes_nothing(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", cm("keep", a="1"))
    out = kates("create", "-f", "-", "-n", ns, "--dry-run=server", input=json.dumps(cm("ghost")))
    assert out.code == 0 and out.out == "configmap/ghost created (server dry run)\n"
    assert kates("patch", "cm", "keep", "-n", ns, "-p", '{"data":{"a":"2"}}', "--dry-run=server").code == 0
    out = kates("delete", "cm", "keep", "-n", ns, "--dry-run=server")
    assert out.code == 0 and out.out == f'configmap "keep" deleted from {ns} namespace (server dry run)\n'
    assert names(cluster, f"/api/v1/namespaces/{ns}/configmaps") == ["keep"]
    assert get_obj(cluster, f"/api/v1/namespaces/{ns}/configmaps/keep")["data"] == {"a": "1"}


def test_delete_by_name_file_selector_and_all(cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path) -> None:
    for i in range(6):
        obj = cm(f"c{i}")
        obj["metadata"]["labels"] = {"group": "even" if i % 2 == 0 else "odd"}
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", obj)
    assert kates("delete", "cm", "c0", "-n", ns).out == f'configmap "c0" deleted from {ns} namespace\n'
    path = tmp_path / "c1.yaml"
    path.write_text(yaml.safe_dump(cm("c1", ns)))
    assert kates("delete", "-f", str(path)).out == f'configmap "c1" deleted from {ns} namespace\n'
    out = kates("delete", "cm", "-l", "group=even", "-n", ns)
    assert out.out == f'configmap "c2" deleted from {ns} namespace\nconfigmap "c4" deleted from {ns} namespace\n', out
    none = kates("delete", "cm", "-l", "group=none", "-n", ns)
    assert none.code == 0 and none.out == "No resources found\n" and none.err == ""
    assert kates("delete", "cm", "-l", "group=none", "-n", ns, "--fail-if-empty").code == ExitCode.NOT_FOUND
    missing = kates("delete", "cm", "ghost", "-n", ns)
    assert missing.code == ExitCode.NOT_FOUND and 'configmaps "ghost" not found' in missing.err
    assert kates("delete", "cm", "ghost", "-n", ns, "--ignore-not-found").code == 0
    out = kates("delete", "cm", "--all", "-n", ns)
    assert out.code == 0 and 'configmap "c3" deleted' in out.out and 'configmap "c5" deleted' in out.out
    assert names(cluster, f"/api/v1/namespaces/{ns}/configmaps") == []


def test_delete_waits_until_the_finalizer_is_removed(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    obj = cm("held")
    obj["metadata"]["finalizers"] = ["example.com/hold"]
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", obj)
    result: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        result["out"] = kates("delete", "cm", "held", "-n", ns, "--timeout", "60s")
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    # the object is marked for deletion but held by its finalizer; kates must still be waiting
    wait_for(
        lambda: get_obj(cluster, f"/api/v1/namespaces/{ns}/configmaps/held")["metadata"].get("deletionTimestamp"),
        30,
        "the deletion to start",
    )
    time.sleep(0.5)  # give a wrong implementation the chance to return early (the assertion below must hold)
    assert thread.is_alive(), result
    removed_at = time.monotonic()
    code, body = cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/held",
        {"metadata": {"finalizers": None}},
        content_type="application/merge-patch+json",
    )
    assert code == 200, body
    thread.join(60)
    assert result["out"].code == 0 and result["out"].out == f'configmap "held" deleted from {ns} namespace\n', result
    assert time.monotonic() - removed_at < 30
    timed = create(cluster, f"/api/v1/namespaces/{ns}/configmaps", obj)
    assert timed
    out = kates("delete", "cm", "held", "-n", ns, "--timeout", "1s")
    assert out.code == ExitCode.ERROR and "timed out waiting for the deletion of held" in out.err
    cluster.request(
        "PATCH",
        f"/api/v1/namespaces/{ns}/configmaps/held",
        {"metadata": {"finalizers": None}},
        content_type="application/merge-patch+json",
    )


def test_output_formats_in_any_case_as_kubectl(kates: Runner, kubectl: Runner, ns: str) -> None:
    """kubectl's printer flags take -o JSON, YAML, NAME in any case; kates's write commands refused them."""
    manifest = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cased"}})
    for fmt in ("NAME", "Name"):
        args = ("create", "-f", "-", "-n", ns, "--dry-run=server", "-o", fmt)
        mine, theirs = kates(*args, input=manifest), kubectl(*args, input=manifest)
        assert (mine.code, mine.out) == (theirs.code, theirs.out) == (0, "configmap/cased\n"), (mine, theirs)
    mine = kates("create", "-f", "-", "-n", ns, "--dry-run=server", "-o", "JSON", input=manifest)
    assert mine.code == 0 and json.loads(mine.out)["metadata"]["name"] == "cased", mine
