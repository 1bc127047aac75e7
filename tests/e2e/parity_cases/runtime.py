"""Parity rows of the runtime area (issue 10): `logs` when there is nothing to read. kubectl exits 1 where kates
exits NOT_FOUND (4); both say what is missing in the same words. These need no running pod (tier 1)."""

from __future__ import annotations

from tests.controlplane.launcher import ControlPlane
from tests.e2e.parity import Case


def pending_pod(cluster: ControlPlane, ns: str) -> None:
    """A pod that is never scheduled (tier 1 has no scheduler): its spec names its containers."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "pend", "labels": {"app": "pend"}},
        "spec": {
            "containers": [{"name": "a", "image": "img-a"}, {"name": "b", "image": "img-b"}],
            "initContainers": [{"name": "i", "image": "img-i"}],
        },
    }
    code, body = cluster.request("POST", f"/api/v1/namespaces/{ns}/pods", pod)
    assert code == 201, body


CASES = [
    Case("runtime-logs-missing-pod", ("logs", "nosuch", "-n", "{ns}"), stderr_words=('pods "nosuch" not found',)),
    Case("runtime-logs-missing-pod-typed", ("logs", "pod/nosuch", "-n", "{ns}"), stderr_words=('"nosuch" not found',)),
    Case(
        "runtime-logs-missing-deployment",
        ("logs", "deploy/nosuch", "-n", "{ns}"),
        stderr_words=('deployments.apps "nosuch" not found',),
    ),
    Case(
        "runtime-logs-container-not-valid",
        ("logs", "pend", "-c", "zz", "-n", "{ns}"),
        setup=pending_pod,
        stderr_words=("container zz is not valid for pod pend out of: a, b, i (init)",),
    ),
    Case("runtime-logs-unscheduled-pod-is-empty", ("logs", "pend", "-c", "a", "-n", "{ns}"), setup=pending_pod),
    Case(
        "runtime-logs-selector-matches-nothing",
        ("logs", "-l", "app=nosuch", "-n", "{ns}"),
        stderr_words=("No resources found in",),
    ),
]
