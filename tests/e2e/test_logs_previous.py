"""`kates logs --previous` on containers that really restarted, against the real kubectl on the tier-2 control plane.

A restart is the kubelet's, as far as the API and the log files show it: `ControlPlane.restart_container` drives the
`pod-container-restart` kwok Stage (restartCount + 1, lastState.terminated) and turns the container's log into its
previous instance's log. kwok, unlike a kubelet, does not look at the pod's status to answer `previous=true`: it
serves the previous log file if there is one, and fails with a 400 of its own if there is none (a kubelet's 400 says
`previous terminated container "C" in pod "P" not found`); both clients see the same answer here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import Result, Runner, create

pytestmark = pytest.mark.timeout(300)


def running_pod(cp: ControlPlane, ns: str, name: str, containers: tuple[str, ...]) -> dict[str, Any]:
    """Create a bare pod and wait until kwok has it Running with every container's status."""
    create(
        cp,
        f"/api/v1/namespaces/{ns}/pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name},
            "spec": {"containers": [{"name": c, "image": f"example.invalid/{c}:1"} for c in containers]},
        },
    )

    def running() -> dict[str, Any] | None:
        code, pod = cp.request("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
        ok = (
            code == 200
            and pod["status"].get("phase") == "Running"
            and len(pod["status"].get("containerStatuses") or []) == len(containers)
        )
        return pod if ok else None

    pod = wait_for(running, 60, f"pod {name} Running")
    assert pod is not None
    return pod


def blocks(out: str) -> list[str]:
    """kubectl's --prefix output cut into its per-container blocks (runs of lines with one `[pod/P/C]` prefix).
    kubectl prints the blocks of several containers in Go map order (random), each block in its log's order."""
    runs: list[list[str]] = []
    for line in out.splitlines(keepends=True):
        prefix = line.split("] ", 1)[0]
        if runs and runs[-1][0].split("] ", 1)[0] == prefix:
            runs[-1].append(line)
        else:
            runs.append([line])
    return ["".join(run) for run in runs]


def test_previous_of_a_restarted_container_is_its_last_instance_byte_for_byte_as_kubectl(
    tier2_cluster: ControlPlane, tier2_ns: str, tier2_kates: Runner, tier2_kubectl: Runner
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    running_pod(cp, ns, "solo", ("app",))
    base = datetime.now(UTC) - timedelta(minutes=10)
    cp.append_log(ns, "solo", "app", "first instance: one", "first instance: ünïcode\ttab", at=base)
    cp.append_log(ns, "solo", "app", "first instance: to stderr", at=base + timedelta(seconds=1), stream="stderr")

    def same(kates_args: list[str], kubectl_args: list[str]) -> Result:
        got, want = tier2_kates("logs", *kates_args, "-n", ns), tier2_kubectl("logs", *kubectl_args, "-n", ns)
        assert (got.code, got.out, got.err) == (want.code, want.out, want.err), (got, want)
        return got

    # never restarted: no previous instance, and both clients fail on kwok's answer
    got = tier2_kates("logs", "-p", "solo", "-o", "raw", "-n", ns)
    want = tier2_kubectl("logs", "-p", "solo", "-n", ns)
    assert want.code == 1 and want.out == "" and want.err.startswith("Error from server (BadRequest): "), want
    server_says = want.err.removeprefix("Error from server (BadRequest): ").rstrip("\n")
    assert "app.previous.log" in server_says, want  # kwok's words: it has no previous log file to open
    assert (got.code, got.out, got.err) == (ExitCode.ERROR, "", f"error: solo/app: {server_says}\n"), got

    status = cp.restart_container(ns, "solo", "app")
    assert status["restartCount"] == 1 and status["lastState"]["terminated"]["exitCode"] == 1, status
    assert status["ready"] and "running" in status["state"], status
    shown = tier2_kubectl("get", "pod", "solo", "-n", ns, "-o", "jsonpath={.status.containerStatuses[0].restartCount}")
    assert (shown.code, shown.out) == (0, "1"), shown
    cp.append_log(ns, "solo", "app", "second instance", at=base + timedelta(minutes=5))

    # the previous instance: kubectl's bytes on stdout (stderr lines too: the kubelet merges the streams), nothing
    # on stderr, exit 0
    assert same(["-p", "solo", "-o", "raw"], ["-p", "solo"]).out == (
        "first instance: one\nfirst instance: ünïcode\ttab\nfirst instance: to stderr\n"
    )
    same(["--previous", "solo", "-c", "app", "-o", "raw"], ["--previous", "solo", "-c", "app"])
    same(["-p", "solo", "-o", "raw", "--timestamps"], ["-p", "solo", "--timestamps"])
    same(["-p", "solo", "-o", "raw", "--tail", "1"], ["-p", "solo", "--tail", "1"])
    same(["-p", "solo", "--prefix"], ["-p", "solo", "--prefix"])
    # and without -p, the new instance only
    assert same(["solo", "-o", "raw"], ["solo"]).out == "second instance\n"
    # kates's own format names the container
    own = tier2_kates("logs", "-p", "solo", "-n", ns)
    assert (own.code, own.err) == (0, "") and own.out.splitlines()[0] == "solo/app first instance: one", own

    # a second restart: the previous instance is now the second one, as a kubelet keeps only the last
    cp.restart_container(ns, "solo", "app")
    assert same(["-p", "solo", "-o", "raw"], ["-p", "solo"]).out == "second instance\n"


def test_previous_while_multiplexing_matches_kubectl_and_a_container_never_restarted_fails_as_kubectl(
    tier2_cluster: ControlPlane, tier2_ns: str, tier2_kates: Runner, tier2_kubectl: Runner
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    before = running_pod(cp, ns, "duo", ("c1", "c2"))
    base = datetime.now(UTC) - timedelta(minutes=10)
    for i, c in enumerate(("c1", "c2")):  # c1's lines all come before c2's
        at = base + timedelta(seconds=10 * i)
        cp.append_log(ns, "duo", c, f"{c} before the restart", f"{c} still before", at=at)
    cp.restart_container(ns, "duo", "c1")
    code, after = cp.request("GET", f"/api/v1/namespaces/{ns}/pods/duo")
    assert code == 200, after
    # the restart is c1's alone: c2's status, the pod's phase and conditions are as they were
    c2 = [[st for st in pod["status"]["containerStatuses"] if st["name"] == "c2"] for pod in (before, after)]
    assert c2[0] == c2[1] and c2[1][0]["restartCount"] == 0, after
    assert after["status"]["conditions"] == before["status"]["conditions"], after
    assert after["status"]["phase"] == "Running", after
    cp.append_log(ns, "duo", "c1", "c1 after the restart", at=base + timedelta(minutes=5))

    # c2 never restarted: kates prints what it could read (c1's previous instance) and fails on c2 as kubectl does
    got = tier2_kates("logs", "-p", "duo", "--prefix", "-n", ns)
    want = tier2_kubectl("logs", "-p", "duo", "--all-containers", "--prefix", "-n", ns)
    assert want.code == 1 and want.err.startswith("Error from server (BadRequest): "), want
    server_says = want.err.removeprefix("Error from server (BadRequest): ").rstrip("\n")
    assert "c2.previous.log" in server_says, want
    c1_block = "[pod/duo/c1] c1 before the restart\n[pod/duo/c1] c1 still before\n"
    assert want.out in ("", c1_block), want  # kubectl stops at the first failure, in Go map order
    assert (got.code, got.out, got.err) == (ExitCode.ERROR, c1_block, f"error: duo/c2: {server_says}\n"), got

    cp.restart_container(ns, "duo", "c2")
    got = tier2_kates("logs", "-p", "duo", "--prefix", "-n", ns)
    want = tier2_kubectl("logs", "-p", "duo", "--all-containers", "--prefix", "-n", ns)
    assert (want.code, want.err) == (0, ""), want
    # byte for byte, but for the order of kubectl's blocks (Go map order): kates's are in timestamp order
    assert sorted(blocks(want.out)) == blocks(got.out), (got, want)
    assert (got.code, got.err) == (0, ""), got
    assert got.out == c1_block + "[pod/duo/c2] c2 before the restart\n[pod/duo/c2] c2 still before\n"
    # one container of the multiplexed pod
    got = tier2_kates("logs", "-p", "duo", "-c", "c2", "-o", "raw", "-n", ns)
    want = tier2_kubectl("logs", "-p", "duo", "-c", "c2", "-n", ns)
    assert (
        (got.code, got.out, got.err)
        == (want.code, want.out, want.err)
        == (0, "c2 before the restart\nc2 still before\n", "")
    ), (got, want)
