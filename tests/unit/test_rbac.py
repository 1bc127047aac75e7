"""kates_cli.cli.rbac: the plan from resolved kinds to documents, and the --writes grammar (no cluster)."""

from __future__ import annotations

import pytest

from kates_cli.cli.rbac import DEFAULT_WRITES, Plan, parse_writes
from kates_cli.core.mapping import ResourceRef
from kates_cli.errors import UsageError

CM = ResourceRef("", "v1", "configmaps", "ConfigMap", True)
DEPLOY = ResourceRef("apps", "v1", "deployments", "Deployment", True, subresources=("status", "scale"))
NODES = ResourceRef("", "v1", "nodes", "Node", False)


def kinds(plan: Plan) -> list[tuple[str, str, str]]:
    return [(d["kind"], d["metadata"]["name"], d["metadata"].get("namespace", "")) for d in plan.documents()]


def test_one_role_per_namespace_home_first_and_a_cluster_role_only_for_cluster_wide_reads() -> None:
    plan = Plan("sa", "home")
    plan.read(CM, "zeta")
    plan.read(CM, "alpha")
    plan.read(DEPLOY, "home")
    assert kinds(plan) == [
        ("ServiceAccount", "sa", "home"),
        ("Role", "sa", "home"),
        ("RoleBinding", "sa", "home"),
        ("Role", "sa", "alpha"),
        ("RoleBinding", "sa", "alpha"),
        ("Role", "sa", "zeta"),
        ("RoleBinding", "sa", "zeta"),
    ]
    plan.read(CM, None)  # all namespaces
    plan.read(NODES, "home")  # cluster-scoped: the namespace does not apply
    docs = plan.documents()
    assert kinds(plan)[1:3] == [("ClusterRole", "home:sa", ""), ("ClusterRoleBinding", "home:sa", "")]
    assert [r["resources"] for r in docs[1]["rules"]] == [["configmaps"], ["nodes"]]
    assert docs[2]["subjects"] == [{"kind": "ServiceAccount", "name": "sa", "namespace": "home"}]
    assert docs[2]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "home:sa"}


def test_reads_writes_and_the_lease_merge_into_ordered_rules() -> None:
    plan = Plan("sa", "ns")
    plan.read(DEPLOY, "ns")
    plan.write(DEPLOY, ("delete", "update-status"), "ns")
    plan.write(CM, ("patch", "create"), "ns")
    plan.lease("lock", "ns")
    role = plan.documents()[1]
    assert role["rules"] == [
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch", "delete"]},
        {"apiGroups": ["apps"], "resources": ["deployments/status"], "verbs": ["get", "update"]},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "create", "patch"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": ["lock"],
            "verbs": ["get", "watch", "update"],
        },
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
    ]


def test_writes_grammar() -> None:
    assert parse_writes("cm") == ("cm", DEFAULT_WRITES)
    assert parse_writes("deployments.apps:update-status,patch") == ("deployments.apps", ("update-status", "patch"))
    for bad, why in [(":create", "no KIND"), ("cm:", "an empty verb"), ("cm:get", 'unknown verb "get"')]:
        with pytest.raises(UsageError, match=why):
            parse_writes(bad)


def test_lease_in_another_namespace_gets_its_own_role_bound_to_the_home_service_account() -> None:
    plan = Plan("sa", "home")
    plan.read(CM, None)
    plan.write(CM, ("create",), None)  # -A: writes everywhere too
    plan.lease("lock", "leases")
    docs = plan.documents()
    assert kinds(plan) == [
        ("ServiceAccount", "sa", "home"),
        ("ClusterRole", "home:sa", ""),
        ("ClusterRoleBinding", "home:sa", ""),
        ("Role", "sa", "leases"),
        ("RoleBinding", "sa", "leases"),
    ]
    assert docs[1]["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch", "create"]}
    ]
    assert [r["resources"] for r in docs[3]["rules"]] == [["leases"], ["leases"]]
    assert docs[4]["subjects"] == [{"kind": "ServiceAccount", "name": "sa", "namespace": "home"}]
