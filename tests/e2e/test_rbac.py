"""`kates rbac`: the YAML it prints, applied for a fresh ServiceAccount, is exactly enough for the watch it describes,
and a ServiceAccount without it is refused at once, with the kind and the verb named."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e import serviceaccounts as sa
from tests.e2e.conftest import KATES, WIDGET_CRD, Result, Runner, create, ensure_crd, kubectl_path


def _kinds(docs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace", "")) for d in docs]


def _as(kubeconfig: Path) -> dict[str, str]:
    return {"KUBECONFIG": str(kubeconfig)}


def test_rbac_yaml_lets_a_fresh_service_account_watch_and_nothing_more(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "seen"}, "data": {"a": "1"}})
    docs = sa.apply_rbac(
        kates,
        "-n",
        ns,
        "--service-account",
        "watcher",
        "-q",
        "cm",
        "-q",
        "svc",
        "--lease",
        "lock",
        "--writes",
        "cm:create",
    )
    assert _kinds(docs) == [
        ("ServiceAccount", "watcher", ns),
        ("Role", "watcher", ns),
        ("RoleBinding", "watcher", ns),
    ]
    assert docs[1]["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch", "create"]},
        {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resourceNames": ["lock"],
            "resources": ["leases"],
            "verbs": ["get", "watch", "update"],
        },
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    ]
    kc = sa.kubeconfig(cluster, sa.token(cluster, ns, "watcher"), ns, tmp_path / "kc")
    # the RBAC authorizer learns of a new binding through its informer: wait until it applies
    wait_for(lambda: kates("get", "cm", "seen", env=_as(kc)).code == 0, 30, "the RoleBinding to apply")

    watched = kates("watch", "-q", "cm", "-q", "svc", "--once", env=_as(kc))
    assert watched.code == 0, watched
    snapshot = json.loads(watched.out)
    assert [o["metadata"]["name"] for o in snapshot["cm"]] == ["kube-root-ca.crt", "seen"]
    assert snapshot["svc"] == []
    got = kates("get", "cm", "-o", "name", env=_as(kc))
    assert (got.code, got.out) == (0, "configmap/kube-root-ca.crt\nconfigmap/seen\n"), got
    # the granted writes and the lease work; anything else is refused
    made = kates(
        "create",
        "-f",
        "-",
        env=_as(kc),
        input='{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "made"}}',
    )
    assert made.code == 0, made
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "lock"}, "spec": {}}
    assert kates("create", "-f", "-", env=_as(kc), input=json.dumps(lease)).code == 0
    lease["spec"] = {"holderIdentity": "me"}
    assert kates("update", "-f", "-", "--retry-on-conflict", env=_as(kc), input=json.dumps(lease)).code == 0
    other = kates("get", "lease", "other", env=_as(kc))
    assert other.code == ExitCode.FORBIDDEN, other
    deleted = kates("delete", "cm", "made", env=_as(kc))
    assert deleted.code == ExitCode.FORBIDDEN, deleted
    secrets = kates("watch", "-q", "secrets", "--once", env=_as(kc))
    assert secrets.code == ExitCode.FORBIDDEN, secrets


def test_watch_without_the_rbac_fails_at_once_naming_the_kind_and_verb(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    sa.service_account(cluster, ns, "nobody")
    kc = sa.kubeconfig(cluster, sa.token(cluster, ns, "nobody"), ns, tmp_path / "kc")
    started = time.monotonic()
    out = kates("watch", "-q", "cm", "--once", env=_as(kc), timeout=30)
    seconds = time.monotonic() - started
    assert out.code == ExitCode.FORBIDDEN, out
    assert out.err.startswith(
        f'error: cannot watch configmaps (query cm): configmaps is forbidden: User "system:serviceaccount:{ns}:nobody" '
        f'cannot watch resource "configmaps" in API group "" in the namespace "{ns}"\n'
        "hint: kates watch needs the watch verb on every queried kind"
    ), out
    assert out.out == ""
    assert seconds < 10, f"refused after {seconds:.1f}s: no retrying a 403"


def test_all_namespace_query_is_granted_by_a_cluster_role(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    name = f"{ns}:wide"
    try:
        docs = sa.apply_rbac(kates, "-n", ns, "--service-account", "wide", "-q", "cm ns=*", "-q", "ns")
        assert _kinds(docs) == [
            ("ServiceAccount", "wide", ns),
            ("ClusterRole", name, ""),
            ("ClusterRoleBinding", name, ""),
        ]
        assert [r["resources"] for r in docs[1]["rules"]] == [["configmaps"], ["namespaces"]]
        kc = sa.kubeconfig(cluster, sa.token(cluster, ns, "wide"), ns, tmp_path / "kc")
        wait_for(
            lambda: kates("get", "ns", "kube-system", env=_as(kc)).code == 0, 30, "the ClusterRoleBinding to apply"
        )
        out = kates("watch", "-q", "cm ns=*", "--once", env=_as(kc))
        assert out.code == 0, out
        namespaces = {o["metadata"]["namespace"] for o in json.loads(out.out)["cm"]}
        assert {ns, "kube-system", "default"} <= namespaces
    finally:
        cluster.request("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}")
        cluster.request("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}")


def test_crd_query_is_granted_by_its_real_group_and_plural(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    ensure_crd(cluster, WIDGET_CRD)
    create(
        cluster,
        f"/apis/example.com/v1/namespaces/{ns}/widgets",
        {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}},
    )
    docs = sa.apply_rbac(kates, "-n", ns, "--service-account", "crd", "-q", "wd", "--writes", "widget:update-status")
    assert docs[1]["rules"] == [
        {"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["example.com"], "resources": ["widgets/status"], "verbs": ["get", "update"]},
    ]
    kc = sa.kubeconfig(cluster, sa.token(cluster, ns, "crd"), ns, tmp_path / "kc")
    wait_for(lambda: kates("get", "wd", "w1", env=_as(kc)).code == 0, 30, "the RoleBinding to apply")
    out = kates("watch", "-q", "wd", "--once", env=_as(kc))
    assert out.code == 0, out
    assert [o["metadata"]["name"] for o in json.loads(out.out)["wd"]] == ["w1"]
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w1"}, "status": {"ok": True}}
    status = kates("update-status", "-f", "-", "--retry-on-conflict", env=_as(kc), input=json.dumps(widget))
    assert status.code == 0, status


def test_bad_rbac_arguments_are_usage_errors(kates: Runner) -> None:
    cases = [
        (("rbac",), "error: at least one -q/--query is required"),
        (("rbac", "-q", "cm bogus=1"), 'error: invalid query "cm bogus=1": unknown key "bogus"'),
        (("rbac", "-q", "nosuchkind"), 'error: the server doesn\'t have a resource type "nosuchkind"'),
        (("rbac", "-q", "cm", "--writes", "cm:frob"), 'error: invalid --writes "cm:frob": unknown verb "frob"'),
        (
            ("rbac", "-q", "cm", "--writes", "cm:update-status"),
            'error: invalid --writes "cm": configmaps has no status',
        ),
        (("rbac", "-q", "cm", "--service-account", "Bad_Name"), 'error: invalid --service-account "Bad_Name"'),
        (("rbac", "-q", "cm", "--lease-namespace", "x"), "error: --lease-namespace needs --lease"),
    ]
    for args, message in cases:
        out = kates(*args)
        assert (out.code, out.out) == (ExitCode.USAGE, ""), (args, out)
        assert out.err.startswith(message), (args, out)


def test_a_delete_allowed_without_watch_is_not_failed_by_its_wait(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    """A Role that may get and delete one ConfigMap (resourceNames), not list or watch: the delete succeeds, and the
    wait for it, which it may not make, does not turn it into exit 5 (kubectl ignores a forbidden wait too)."""
    for name in ("doomed", "doomed2"):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}, "data": {"a": "1"}})
    sa.service_account(cluster, ns, "deleter")
    rule = {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["doomed", "doomed2"]}
    create(
        cluster,
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
        {"metadata": {"name": "deleter"}, "rules": [{**rule, "verbs": ["get", "delete"]}]},
    )
    create(
        cluster,
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
        {
            "metadata": {"name": "deleter"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deleter"},
            "subjects": [{"kind": "ServiceAccount", "name": "deleter", "namespace": ns}],
        },
    )
    config = sa.kubeconfig(cluster, sa.token(cluster, ns, "deleter"), ns, tmp_path / "deleter.kubeconfig")
    wait_for(
        lambda: kates("--kubeconfig", str(config), "get", "cm", "doomed", "-o", "name").code == 0, 30, "the binding"
    )
    for run, name in ((kates, "doomed"), (kubectl, "doomed2")):
        result = run("--kubeconfig", str(config), "delete", "cm", name)
        assert result.code == 0 and result.out == f'configmap "{name}" deleted from {ns} namespace\n', result
    code, _ = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps/doomed")
    assert code == 404


def _named_role(
    cluster: ControlPlane, ns: str, name: str, names: list[str], verbs: list[str], tmp_path: Path, kates: Runner
) -> Path:
    """A ServiceAccount `name` whose Role allows `verbs` on these ConfigMaps only (resourceNames); its kubeconfig."""
    sa.service_account(cluster, ns, name)
    rule = {"apiGroups": [""], "resources": ["configmaps"], "resourceNames": names, "verbs": verbs}
    create(
        cluster,
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
        {"metadata": {"name": name}, "rules": [rule]},
    )
    create(
        cluster,
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
        {
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}],
        },
    )
    config = sa.kubeconfig(cluster, sa.token(cluster, ns, name), ns, tmp_path / f"{name}.kubeconfig")
    wait_for(
        lambda: kates("--kubeconfig", str(config), "get", "cm", names[0], "-o", "name").code == 0, 30, "the binding"
    )
    return config


def test_deleting_several_objects_waits_for_each_under_resource_names(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path, cache_dir: Path
) -> None:
    """A Role with resourceNames may watch each object (a metadata.name field selector) but not list the kind: the
    wait of a delete of several objects follows each, as kubectl's does, instead of dropping the wait (its list of
    the kind was forbidden); the delete waits for the finalizer, then exits 0. Both kubectl and kates."""
    from .test_wait import Background, watchers

    base = f"/api/v1/namespaces/{ns}/configmaps"
    held = ["k1", "k2", "q1", "q2"]
    for first, second in (("k1", "k2"), ("q1", "q2")):
        create(cluster, base, {"metadata": {"name": first, "finalizers": ["kates.test/hold"]}})
        create(cluster, base, {"metadata": {"name": second}})
    config = _named_role(cluster, ns, "rn", held, ["get", "list", "watch", "delete"], tmp_path, kates)

    def delete(argv: list[str], first: str, second: str) -> Result:
        before = watchers(cluster, "configmaps")
        run = Background(cluster, cache_dir, [*argv, "--kubeconfig", str(config), "delete", "cm", first, second])

        def waiting() -> bool:  # the delete is made, and the wait follows the object its finalizer holds
            deleting = cluster.request("GET", f"{base}/{first}")[1].get("metadata", {}).get("deletionTimestamp")
            return deleting is not None and watchers(cluster, "configmaps") > before

        wait_for(lambda: run.proc.poll() is not None or waiting(), 30, "the deletion and the wait's watch")
        assert run.proc.poll() is None, run.result()  # still waiting: the finalizer holds the object
        code, body = cluster.request(
            "PATCH", f"{base}/{first}", {"metadata": {"finalizers": None}}, content_type="application/merge-patch+json"
        )
        assert code == 200, body
        return run.result()

    results = [delete([kubectl_path()], "k1", "k2"), delete(KATES, "q1", "q2")]
    for result, (first, second) in zip(results, (("k1", "k2"), ("q1", "q2")), strict=True):
        want = f'configmap "{first}" deleted from {ns} namespace\nconfigmap "{second}" deleted from {ns} namespace\n'
        assert (result.code, result.out, result.err) == (0, want, ""), result


def test_deleting_several_objects_it_may_not_watch_does_not_fail_or_hang(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    """get and delete only: neither the kind's watch nor each object's is allowed; the deletions stand, exit 0."""
    base = f"/api/v1/namespaces/{ns}/configmaps"
    for name in ("d1", "d2"):
        create(cluster, base, {"metadata": {"name": name}})
    config = _named_role(cluster, ns, "nowatch", ["d1", "d2"], ["get", "delete"], tmp_path, kates)
    result = kates("--kubeconfig", str(config), "delete", "cm", "d1", "d2", "--timeout=30s", timeout=60)
    want = f'configmap "d1" deleted from {ns} namespace\nconfigmap "d2" deleted from {ns} namespace\n'
    assert (result.code, result.out, result.err) == (0, want, ""), result


def test_waiting_on_many_objects_under_resource_names(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    """Past 10 names kates follows the kind in the namespace; a Role with resourceNames forbids that list: kates
    follows each object instead (and lists each, with --timeout=0), as kubectl reads each."""
    names = [f"n{i}" for i in range(12)]
    for name in names:
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}, "data": {"x": "1"}})
    config = _named_role(cluster, ns, "many", names, ["get", "list", "watch"], tmp_path, kates)
    met = "".join(f"configmap/{name} condition met\n" for name in names)
    for timeout in ("30s", "0"):
        args = ["--kubeconfig", str(config), "wait", "cm", *names, "--for=jsonpath={.data.x}=1", f"--timeout={timeout}"]
        theirs, ours = kubectl(*args), kates(*args)
        assert (theirs.code, theirs.out, theirs.err) == (0, met, ""), theirs
        assert (ours.code, ours.out, ours.err) == (0, met, ""), (timeout, ours)
