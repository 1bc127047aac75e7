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
from tests.e2e.conftest import WIDGET_CRD, Runner, create, ensure_crd


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
