"""`kates logs` through the real kube-apiserver's pods/log, served by kwok on a fake node (tier-2 control plane)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane, cri_log_line, cri_timestamp

from .conftest import KATES, Runner, _env, create
from .follow import Follow

pytestmark = pytest.mark.timeout(600)


def running_pods(cp: ControlPlane, ns: str, count: int) -> list[str]:
    def ready() -> list[str] | None:
        code, body = cp.request("GET", f"/api/v1/namespaces/{ns}/pods?labelSelector=app%3Dweb")
        pods = (
            [
                p
                for p in body.get("items", [])
                if p.get("status", {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")
            ]
            if code == 200
            else []
        )
        return sorted(p["metadata"]["name"] for p in pods) if len(pods) == count else None

    return wait_for(ready, 90, f"{count} running pods")


def deployment(cp: ControlPlane, ns: str, replicas: int) -> None:
    labels = {"app": "web"}
    create(
        cp,
        f"/apis/apps/v1/namespaces/{ns}/deployments",
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "labels": labels},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "c1", "image": "x"}, {"name": "c2", "image": "y"}]},
                },
            },
        },
    )


@pytest.fixture
def web(tier2_cluster: ControlPlane, tier2_ns: str) -> tuple[str, list[str], dict[str, list[str]]]:
    """3 pods x 2 containers, each log file holding 4 lines with interleaved timestamps.
    Returns (namespace, pods, expected lines in timestamp order keyed by 'pod/container')."""
    cp, ns = tier2_cluster, tier2_ns
    deployment(cp, ns, 3)
    pods = running_pods(cp, ns, 3)
    base = datetime.now(UTC) - timedelta(minutes=30)
    expected: dict[str, list[str]] = {}
    step = 0
    for i in range(4):
        for pod in pods:
            for c in ("c1", "c2"):
                at = base + timedelta(milliseconds=10 * step)
                step += 1
                msg = f"line {i} of {pod}/{c}"
                cp.append_log(ns, pod, c, msg, at=at)
                expected.setdefault(f"{pod}/{c}", []).append(f"{cri_timestamp(at)} {msg}")
    return ns, pods, expected


def test_every_line_of_every_container_once_in_timestamp_order(
    web: tuple[str, list[str], dict[str, list[str]]], tier2_kates: Runner
) -> None:
    ns, pods, expected = web
    out = tier2_kates("logs", "deploy/web", "-n", ns)
    assert out.code == 0, out
    lines = out.out.splitlines()
    want = sorted(
        (ts_msg.split(" ", 1)[0], f"{src} {ts_msg.split(' ', 1)[1]}")
        for src, msgs in expected.items()
        for ts_msg in msgs
    )
    assert lines == [text for _, text in want]  # exactly once each, with its prefix, in timestamp order
    assert len(lines) == 24
    narrowed = tier2_kates("logs", "deploy/web", "-n", ns, "-c", "^c2$").out.splitlines()
    assert len(narrowed) == 12 and all(line.split(" ", 1)[0].endswith("/c2") for line in narrowed)
    by_regex = tier2_kates("logs", pods[0], "-n", ns, "--exclude-container", "c1").out.splitlines()
    assert by_regex == [f"{pods[0]}/c2 {m.split(' ', 1)[1]}" for m in expected[f"{pods[0]}/c2"]]
    selected = tier2_kates("logs", "-l", "app=web", "-n", ns, "--include", "line [02]", "-o", "raw").out.splitlines()
    assert len(selected) == 12 and all(line.startswith(("line 0", "line 2")) for line in selected)


def test_json_output_is_strict_json_lines(
    web: tuple[str, list[str], dict[str, list[str]]], tier2_kates: Runner
) -> None:
    ns, pods, expected = web
    out = tier2_kates("logs", "deploy/web", "-n", ns, "-o", "json", env={"FORCE_COLOR": "1"})
    records = [json.loads(line) for line in out.out.splitlines()]
    assert len(records) == 24 and "\x1b" not in out.out
    for r in records:
        assert set(r) == {"namespace", "pod", "container", "timestamp", "message"}
        assert r["namespace"] == ns and r["pod"] in pods and r["container"] in ("c1", "c2")
        assert f"{r['timestamp']} {r['message']}" in expected[f"{r['pod']}/{r['container']}"]


def test_since_tail_and_timestamps_match_kubectl(
    tier2_cluster: ControlPlane, web: tuple[str, list[str], Any], tier2_kates: Runner, tier2_kubectl: Runner
) -> None:
    ns, pods, _ = web
    pod = pods[0]
    tier2_cluster.append_log(ns, pod, "c1", "fresh one", "fresh two")  # now; the fixture's lines are 30 min old
    for args in (
        ["--tail", "2"],
        ["--tail", "0"],
        ["--since", "10m"],
        ["--since", "1h"],
        ["--timestamps"],
        ["--timestamps", "--tail", "3"],
        ["--since-time", cri_timestamp(datetime.now(UTC) - timedelta(minutes=5))],
    ):
        mine = tier2_kates("logs", pod, "-n", ns, "-c", "c1", "-o", "raw", *args)
        theirs = tier2_kubectl("logs", pod, "-n", ns, "-c", "c1", *args)
        assert mine.code == theirs.code == 0, (args, mine, theirs)
        assert mine.out == theirs.out, (args, mine.out, theirs.out)
    assert tier2_kates("logs", pod, "-n", ns, "-c", "c1", "-o", "raw", "--since", "10m").out == "fresh one\nfresh two\n"


def test_follow_picks_up_new_pods_and_reports_deleted_ones(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    deployment(cp, ns, 2)
    pods = running_pods(cp, ns, 2)
    for pod in pods:
        cp.append_log(ns, pod, "c1", f"hello from {pod}")
        cp.append_log(ns, pod, "c2", f"c2 of {pod}")
    f = Follow(cp.kubeconfig, cache_dir, ["deploy/web", "-n", ns, "-f", "-c", "c1"])
    try:
        wait_for(lambda: {f"{p}/c1 hello from {p}" for p in pods} <= set(f.out), 30, "the existing lines")
        cp.append_log(ns, pods[0], "c1", "appended while following")
        wait_for(lambda: f"{pods[0]}/c1 appended while following" in f.out, 30, "a line appended after start")
        code, body = cp.request(
            "PATCH",
            f"/apis/apps/v1/namespaces/{ns}/deployments/web",
            {"spec": {"replicas": 3}},
            content_type="application/merge-patch+json",
        )
        assert code == 200, body
        new = next(p for p in running_pods(cp, ns, 3) if p not in pods)
        cp.append_log(ns, new, "c1", f"hello from the new {new}")
        wait_for(lambda: f"{new}/c1 hello from the new {new}" in f.out, 60, "the new pod's line")
        assert f"+ {new}/c1" in f.err
        cp.request("DELETE", f"/api/v1/namespaces/{ns}/pods/{pods[1]}")
        wait_for(lambda: f"- {pods[1]}/c1" in f.err, 60, "the deleted pod's end marker")
        assert f.proc.poll() is None, "kates logs -f exited"
        assert len(f.out) == len(set(f.out)), "a line was printed twice"
    finally:
        f.proc.send_signal(signal.SIGTERM)
        f.proc.wait(30)
    assert f.proc.returncode == ExitCode.INTERRUPTED


def test_a_dropped_stream_resumes_without_repeating_or_losing_lines(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    deployment(cp, ns, 1)
    (pod,) = running_pods(cp, ns, 1)
    cp.append_log(ns, pod, "c1", "before 1", "before 2")
    cp.append_log(ns, pod, "c2", "other container")
    f = Follow(cp.kubeconfig, cache_dir, [pod, "-n", ns, "-f", "-c", "c1", "-o", "raw"])
    try:
        wait_for(lambda: f.out == ["before 1", "before 2"], 30, "the first lines")
        cp.restart_apiserver()  # every stream through the API server drops
        cp.append_log(ns, pod, "c1", "after 1", "after 2")
        wait_for(lambda: f.out[-2:] == ["after 1", "after 2"], 60, "the lines written after the restart")
        assert f.out == ["before 1", "before 2", "after 1", "after 2"], f.out
        assert f.proc.poll() is None
    finally:
        f.proc.send_signal(signal.SIGTERM)
        f.proc.wait(30)


def test_client_pod_logs_yields_log_events(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kates_cli import Client

    cp, ns = tier2_cluster, tier2_ns
    deployment(cp, ns, 1)
    (pod,) = running_pods(cp, ns, 1)
    lines = cp.append_log(ns, pod, "c1", "one", "two") + cp.append_log(ns, pod, "c2", "three")
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    with Client(str(cp.kubeconfig)) as client:
        events = list(client.pod_logs(pod, ns))
    text = [(e.container, e.output) for e in events if not e.closed]
    assert text == [("c1", "one"), ("c1", "two"), ("c2", "three")]
    assert [e.timestamp for e in events if not e.closed] == [line.split(" ", 1)[0] for line in lines]
    assert sorted(e.container for e in events if e.closed) == ["c1", "c2"]
    assert all(e.error is None and e.namespace == ns and e.pod == pod for e in events)


# -- nothing to read is a failure (issue 10) --------------------------------------------------------------------


def pending_pod(cp: ControlPlane, ns: str, name: str = "pend") -> None:
    """A pod no scheduler places (tier 1 has none): it exists with containers a, b and init container i."""
    create(
        cp,
        f"/api/v1/namespaces/{ns}/pods",
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "pend"}},
            "spec": {
                "containers": [{"name": "a", "image": "img-a"}, {"name": "b", "image": "img-b"}],
                "initContainers": [{"name": "i", "image": "img-i"}],
            },
        },
    )


def test_a_missing_pod_is_not_found(cluster: ControlPlane, ns: str, kates: Runner) -> None:
    for target in ("nosuch", "pod/nosuch"):
        out = kates("logs", target, "-n", ns)
        assert (out.code, out.out, out.err) == (
            ExitCode.NOT_FOUND,
            "",
            f'error: pods "nosuch" not found in namespace "{ns}"\n',
        )
    out = kates("logs", "^nosuch-[0-9]+$", "-n", ns)
    assert (out.code, out.err) == (ExitCode.NOT_FOUND, f'error: no pod matches "^nosuch-[0-9]+$" in namespace "{ns}"\n')


def test_a_selector_that_matches_nothing_says_so_and_succeeds_as_kubectl_does(ns: str, kates: Runner) -> None:
    out = kates("logs", "-l", "app=nosuch", "-n", ns)
    assert (out.code, out.out, out.err) == (0, "", f"No resources found in {ns} namespace.\n")


def test_a_container_no_selected_pod_has_is_not_found(cluster: ControlPlane, ns: str, kates: Runner) -> None:
    pending_pod(cluster, ns)
    out = kates("logs", "pend", "-c", "zz", "-n", ns)
    assert (out.code, out.out) == (ExitCode.NOT_FOUND, "")
    assert out.err == "error: container zz is not valid for pod pend out of: a, b, i (init)\n"
    excluded = kates("logs", "-l", "app=pend", "--exclude-container", ".", "-n", ns)
    assert (excluded.code, excluded.err) == (
        ExitCode.NOT_FOUND,
        'error: --exclude-container "." excludes every container of pod pend\n',
    )
    followed = kates("logs", "pend", "-c", "zz", "-n", ns, "-f", timeout=30)  # no later pod of it will have one
    assert (followed.code, followed.err) == (ExitCode.NOT_FOUND, out.err)
    assert kates("logs", "pend", "-c", "a", "-n", ns).code == 0  # an unscheduled pod's log is empty, as kubectl's


def test_every_missing_target_is_reported_and_the_others_still_read(
    cluster: ControlPlane, ns: str, kates: Runner
) -> None:
    pending_pod(cluster, ns)
    out = kates("logs", "pend", "nosuch", "other.*", "-n", ns)
    assert out.code == ExitCode.NOT_FOUND, out
    assert out.err.splitlines() == [
        f'error: pods "nosuch" not found in namespace "{ns}"',
        f'error: no pod matches "other.*" in namespace "{ns}"',
        "error: 2 of the requested logs could not be read",
    ]


def test_a_pattern_that_filters_out_every_pod_of_a_target_names_the_pattern_only(
    cluster: ControlPlane, ns: str, kates: Runner
) -> None:
    pending_pod(cluster, ns)
    create(
        cluster,
        f"/api/v1/namespaces/{ns}/services",
        {"metadata": {"name": "pend"}, "spec": {"selector": {"app": "pend"}, "ports": [{"port": 80}]}},
    )
    out = kates("logs", "svc/pend", "^zz", "-n", ns)  # the service has a pod: the pattern picks none of it
    assert (out.code, out.out, out.err) == (
        ExitCode.NOT_FOUND,
        "",
        f'error: no pod matches "^zz" in namespace "{ns}"\n',
    )


@pytest.mark.parametrize(
    ("args", "note"),
    [
        (["nosuch"], 'pods "nosuch" not found in namespace "{ns}" yet: waiting (Ctrl-C to stop)'),
        (["-l", "app=nosuch"], "No resources found in {ns} namespace. Waiting for pods (Ctrl-C to stop)"),
    ],
)
def test_follow_waits_for_pods_that_do_not_exist_yet(
    cluster: ControlPlane, ns: str, cache_dir: Path, args: list[str], note: str
) -> None:
    f = Follow(cluster.kubeconfig, cache_dir, [*args, "-n", ns, "-f"])
    try:
        wait_for(lambda: f.err == [note.format(ns=ns)], 30, "the note")
        assert f.proc.poll() is None
    finally:
        f.proc.send_signal(signal.SIGTERM)
        f.proc.wait(30)
    assert f.proc.returncode == ExitCode.INTERRUPTED


def test_streams_that_fail_are_reported_and_fail_the_command(
    tier2_cluster: ControlPlane, tier2_ns: str, tier2_kates: Runner, tier2_kubectl: Runner
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    deployment(cp, ns, 2)
    readable, silent = running_pods(cp, ns, 2)
    cp.append_log(ns, readable, "c1", "hello")
    cp.append_log(ns, readable, "c2", "world")  # `silent` has no log files: kwok answers 400 "no logs found"
    none = tier2_kates("logs", silent, "-n", ns)
    theirs = tier2_kubectl("logs", silent, "-c", "c1", "-n", ns)
    assert theirs.code == 1 and "no logs found" in theirs.err, theirs
    assert (none.code, none.out) == (ExitCode.ERROR, ""), none
    assert none.err.splitlines() == [
        f'error: {silent}/c1: no logs found for container "c1" in pod "{ns}/{silent}"',
        f'error: {silent}/c2: no logs found for container "c2" in pod "{ns}/{silent}"',
        "error: 2 of the requested logs could not be read",
    ]
    one = tier2_kates("logs", silent, "-c", "c1", "-n", ns)
    assert (one.code, one.err) == (ExitCode.ERROR, none.err.splitlines(keepends=True)[0])
    some = tier2_kates("logs", "deploy/web", "-n", ns, "-o", "raw")
    assert some.code == ExitCode.ERROR and some.out == "hello\nworld\n", some  # what could be read is printed
    assert some.err.splitlines()[-1] == "error: 2 of the requested logs could not be read"
    # --ignore-errors: each failed stream said, none failing the command, as kubectl's
    ignored = tier2_kates("logs", "deploy/web", "-n", ns, "-o", "raw", "--ignore-errors")
    assert (ignored.code, ignored.out) == (0, "hello\nworld\n"), ignored
    assert ignored.err.splitlines() == none.err.splitlines()[:2], ignored
    theirs = tier2_kubectl("logs", silent, "-c", "c1", "-n", ns, "--ignore-errors")
    mine = tier2_kates("logs", silent, "-c", "c1", "-n", ns, "--ignore-errors")
    assert theirs.code == mine.code == 0, (theirs, mine)


def test_c_takes_an_init_containers_name_as_kubectl_does(
    cluster: ControlPlane, ns: str, kates: Runner, kubectl: Runner
) -> None:
    """`-c i` of the pod's init container, without --init-containers: kates said it was no container of the pod."""
    pending_pod(cluster, ns)
    mine, theirs = (run("logs", "pend", "-c", "i", "-n", ns) for run in (kates, kubectl))
    assert (mine.code, mine.out, mine.err) == (theirs.code, theirs.out, theirs.err) == (0, "", ""), (mine, theirs)


def test_a_target_without_pods_yet_waits_for_one_to_start(
    tier2_cluster: ControlPlane, tier2_ns: str, tier2_kates: Runner, tier2_kubectl: Runner, cache_dir: Path
) -> None:
    """`kates logs svc/web` (or a Job just made) before its pod exists: kates said at once that it had no pods, where
    kubectl waits --pod-running-timeout (20s) for one. kates waits until one has started: kubectl's request, sent
    at the first pod it sees, fails while the container is being created."""
    cp, ns = tier2_cluster, tier2_ns
    create(cp, f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "web"}, "spec": {"selector": {"app": "w"},
           "ports": [{"port": 80}]}})  # fmt: skip
    log = cp.log_file(ns, "w1", "c", wait=False)  # kwok serves it once the pod runs
    log.write_text(cri_log_line("hello from w1", datetime.now(UTC) - timedelta(minutes=1)))
    env = _env(cp, cache_dir, None)
    logs = subprocess.Popen(
        [*KATES, "logs", "svc/web", "-n", ns, "-o", "raw"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        time.sleep(1)  # pacing: kates has listed no pods and waits (the test holds either way)
        create(cp, f"/api/v1/namespaces/{ns}/pods", {"metadata": {"name": "w1", "labels": {"app": "w"}},
               "spec": {"containers": [{"name": "c", "image": "x"}]}})  # fmt: skip
        out, err = logs.communicate(timeout=60)
    finally:
        if logs.poll() is None:
            logs.kill()
    assert (logs.returncode, out) == (0, "hello from w1\n"), err
    # none within the bound: said as before, after it
    create(cp, f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "empty"},
           "spec": {"selector": {"app": "none"}, "ports": [{"port": 80}]}})  # fmt: skip
    started = time.monotonic()
    out2 = tier2_kates("logs", "svc/empty", "-n", ns, "--pod-running-timeout", "1s")
    assert out2.code == ExitCode.NOT_FOUND and time.monotonic() - started >= 1, out2
    assert out2.err.splitlines()[0].startswith('error: services "empty" has no pods'), out2
    for bad in ("0s", "-1s"):
        mine, theirs = (
            run("logs", "svc/empty", "-n", ns, "--pod-running-timeout", bad) for run in (tier2_kates, tier2_kubectl)
        )
        assert mine.err == theirs.err == "error: --pod-running-timeout must be higher than zero\n", (mine, theirs)
        assert mine.code == ExitCode.USAGE, mine
