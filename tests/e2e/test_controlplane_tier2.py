"""The tier-2 control plane itself: pods of a Deployment run on kwok's fake node, container logs written to files come
back through kube-apiserver's pods/log (checked with the real kubectl), and pods can be deleted.

These tests pin down the ground the `logs` tests of kates stand on, so they use only the launcher and kubectl.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for
from tests.controlplane.launcher import NODE_NAME, ControlPlane, cri_timestamp
from tests.e2e.conftest import Runner, _env, create, kubectl_path

CONTAINERS = ("app", "sidecar")


def deployment(name: str, replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                # kwok pulls and runs nothing: any image name will do
                "spec": {"containers": [{"name": c, "image": f"example.invalid/{c}:1"} for c in CONTAINERS]},
            },
        },
    }


def running_pods(cp: ControlPlane, ns: str, app: str) -> list[dict[str, Any]]:
    code, body = cp.request("GET", f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3D{app}")
    assert code == 200, body
    return [
        p for p in body["items"] if p["status"].get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
    ]


def start_deployment(cp: ControlPlane, ns: str, name: str, replicas: int) -> list[str]:
    """Create a Deployment and wait for all its pods to be Running; returns their names."""
    create(cp, f"/apis/apps/v1/namespaces/{ns}/deployments", deployment(name, replicas))

    def all_running() -> list[str] | None:
        pods = running_pods(cp, ns, name)
        return sorted(p["metadata"]["name"] for p in pods) if len(pods) == replicas else None

    names = wait_for(all_running, 60, f"{replicas} Running pods of deployment {name}")
    assert names is not None
    return names


@pytest.fixture(scope="module")
def web(tier2_cluster: ControlPlane) -> Iterator[tuple[str, list[str]]]:
    """One Deployment of 3 replicas x 2 containers shared by the log tests: (namespace, pod names)."""
    ns = f"tier2-logs-{uuid.uuid4().hex[:6]}"
    create(tier2_cluster, "/api/v1/namespaces", {"metadata": {"name": ns}})
    yield ns, start_deployment(tier2_cluster, ns, "web", 3)
    tier2_cluster.request("DELETE", f"/api/v1/namespaces/{ns}")


def test_deployment_pods_run_on_the_fake_node(
    tier2_cluster: ControlPlane, web: tuple[str, list[str]], tier2_kubectl: Runner
) -> None:
    ns, pods = web
    assert len(pods) == 3
    for pod in pods:
        code, body = tier2_cluster.request("GET", f"/api/v1/namespaces/{ns}/pods/{pod}")
        assert code == 200, body
        assert body["spec"]["nodeName"] == NODE_NAME
        assert body["status"]["phase"] == "Running"
        statuses = {s["name"]: s for s in body["status"]["containerStatuses"]}
        assert set(statuses) == set(CONTAINERS)
        assert all(s["ready"] and "running" in s["state"] for s in statuses.values())
    r = tier2_kubectl("get", "pods", "-n", ns, "--no-headers", "-o", "custom-columns=N:.metadata.name,P:.status.phase")
    assert r.code == 0, r
    assert sorted(r.out.split()) == sorted([*pods, *["Running"] * 3])
    r = tier2_kubectl("get", "deployment", "web", "-n", ns, "-o", "jsonpath={.status.readyReplicas}")
    assert (r.code, r.out) == (0, "3"), r


def test_node_points_kube_apiserver_at_kwok(tier2_cluster: ControlPlane) -> None:
    code, node = tier2_cluster.request("GET", f"/api/v1/nodes/{NODE_NAME}")
    assert code == 200, node
    assert {"type": "InternalIP", "address": "127.0.0.1"} in node["status"]["addresses"]
    assert node["status"]["daemonEndpoints"]["kubeletEndpoint"]["Port"] == tier2_cluster.kubelet_port


def test_each_container_logs_its_own_file(
    tier2_cluster: ControlPlane, web: tuple[str, list[str]], tier2_kubectl: Runner
) -> None:
    ns, pods = web
    for pod in pods:
        for c in CONTAINERS:
            path = tier2_cluster.log_file(ns, pod, c)
            assert path == tier2_cluster.workdir / "logs" / ns / pod / f"{c}.log"
            tier2_cluster.append_log(ns, pod, c, f"hello from {pod}/{c}", f"second line of {c}")
            tier2_cluster.append_log(ns, pod, c, f"an error in {c}", stream="stderr")
    for pod in pods:
        for c in CONTAINERS:
            r = tier2_kubectl("logs", pod, "-c", c, "-n", ns)
            assert r.code == 0, r
            # stdout and stderr lines interleave in file order, as with a real kubelet
            assert r.out == f"hello from {pod}/{c}\nsecond line of {c}\nan error in {c}\n"


def test_tail_timestamps_since_and_limit(
    tier2_cluster: ControlPlane, web: tuple[str, list[str]], tier2_kubectl: Runner
) -> None:
    ns, pods = web
    pod = pods[0]
    r = tier2_kubectl("logs", pod, "-c", "app", "-n", ns)
    assert r.code == 0, r
    before = r.out.splitlines()
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    stamps = [hour_ago + timedelta(seconds=i) for i in range(3)]
    for i, at in enumerate(stamps):
        tier2_cluster.append_log(ns, pod, "app", f"old {i}", at=at)
    recent = datetime.now(UTC)
    tier2_cluster.append_log(ns, pod, "app", "recent 0", "recent 1", at=recent)

    r = tier2_kubectl("logs", pod, "-c", "app", "-n", ns, "--tail=2")
    assert (r.code, r.out) == (0, "recent 0\nrecent 1\n"), r
    r = tier2_kubectl("logs", pod, "-c", "app", "-n", ns, "--tail=3", "--timestamps")
    assert r.code == 0, r
    assert r.out.splitlines() == [
        f"{cri_timestamp(stamps[2])} old 2",
        f"{cri_timestamp(recent)} recent 0",
        f"{cri_timestamp(recent)} recent 1",
    ]
    # timestamps are the file's own, printed RFC 3339 with nine fractional digits
    assert r.out.splitlines()[0].split(" ")[0].endswith("000Z")
    # since filters on each line's own timestamp, not on its place in the file: the `before` lines (if an earlier
    # test wrote some) were written a moment ago, so they pass too
    r = tier2_kubectl("logs", pod, "-c", "app", "-n", ns, "--since=10m")
    assert r.code == 0, r
    assert r.out.splitlines() == [*before, "recent 0", "recent 1"]
    # sinceTime has whole seconds: the first whole second after "old 1" is at or before "old 2"
    since_time = stamps[1].replace(microsecond=0) + timedelta(seconds=1)
    r = tier2_kubectl("logs", pod, "-c", "app", "-n", ns, f"--since-time={since_time.strftime('%Y-%m-%dT%H:%M:%SZ')}")
    assert r.code == 0, r
    assert r.out.splitlines() == [*before, "old 2", "recent 0", "recent 1"]
    full = tier2_kubectl("logs", pod, "-c", "app", "-n", ns).out
    r = tier2_kubectl("logs", pod, "-c", "app", "-n", ns, "--limit-bytes=5")
    assert (r.code, r.out) == (0, full[:5]), r


def test_previous_container_log(tier2_cluster: ControlPlane, web: tuple[str, list[str]], tier2_kubectl: Runner) -> None:
    ns, pods = web
    pod = pods[1]
    tier2_cluster.append_log(ns, pod, "sidecar", "from the previous run", previous=True)
    r = tier2_kubectl("logs", pod, "-c", "sidecar", "-n", ns, "--previous")
    assert (r.code, r.out) == (0, "from the previous run\n"), r


def test_follow_picks_up_appended_lines(
    tier2_cluster: ControlPlane, web: tuple[str, list[str]], cache_dir: Path
) -> None:
    ns, pods = web
    pod = pods[2]
    tier2_cluster.append_log(ns, pod, "app", "before follow")
    proc = subprocess.Popen(
        [kubectl_path(), "logs", "-f", pod, "-c", "app", "-n", ns, "--tail=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tier2_cluster, cache_dir, None),
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()

    def next_line(timeout: float) -> str | None:
        try:
            return lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"kubectl logs -f printed nothing within {timeout:.0f}s") from None

    try:
        assert next_line(30) == "before follow\n"
        for i in range(2):
            tier2_cluster.append_log(ns, pod, "app", f"appended {i}")
            assert next_line(30) == f"appended {i}\n"
        # the stream stays open: a real kubelet would end it when the container stops; kwok's never stop
        assert proc.poll() is None
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_unregistered_pod_has_no_log(tier2_cluster: ControlPlane, tier2_ns: str, tier2_kubectl: Runner) -> None:
    (pod,) = start_deployment(tier2_cluster, tier2_ns, "quiet", 1)
    r = tier2_kubectl("logs", pod, "-c", "app", "-n", tier2_ns)
    assert r.code != 0 and "no logs found" in r.err, r
    tier2_cluster.log_file(tier2_ns, pod, "app")
    # registering one container registers all of the pod's: both are now empty, like silent containers
    for c in CONTAINERS:
        r = tier2_kubectl("logs", pod, "-c", c, "-n", tier2_ns)
        assert (r.code, r.out) == (0, ""), r


def test_deleting_a_pod(tier2_cluster: ControlPlane, tier2_ns: str, tier2_kubectl: Runner) -> None:
    pods = start_deployment(tier2_cluster, tier2_ns, "doomed", 2)
    r = tier2_kubectl("delete", "pod", pods[0], "-n", tier2_ns, "--wait=true", "--timeout=60s")
    assert r.code == 0, r
    assert f'pod "{pods[0]}" deleted' in r.out
    code, _ = tier2_cluster.request("GET", f"/api/v1/namespaces/{tier2_ns}/pods/{pods[0]}")
    assert code == 404
    # the ReplicaSet replaces it, and the replacement runs too
    wait_for(
        lambda: (
            (names := {p["metadata"]["name"] for p in running_pods(tier2_cluster, tier2_ns, "doomed")})
            and len(names) == 2
            and pods[0] not in names
        ),
        60,
        "a Running replacement pod",
    )
