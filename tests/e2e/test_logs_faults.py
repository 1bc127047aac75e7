"""`kates logs -f` under faults, against the tier-2 control plane (pods/log served by kwok through kube-apiserver):
kwok killed and restarted, kwok stopping with server text in the stream, a connection that stalls (tests/faultproxy),
an idle stream, and more streams than --max-log-requests. Each shows, line by line, that nothing is lost or repeated.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane, cri_log_line
from tests.faultproxy import FaultProxy

from .follow import Follow
from .test_logs import deployment, running_pods

pytestmark = pytest.mark.timeout(300)


def write(cp: ControlPlane, ns: str, pod: str, container: str, *messages: str, at: datetime | None = None) -> None:
    """Append lines to a container's log file directly (also while kwok is down: no request to anything)."""
    path = cp.log_file(ns, pod, container, wait=False)
    with open(path, "a") as f:
        f.write("".join(cri_log_line(m, at) for m in messages))


def ensure_kwok(cp: ControlPlane) -> None:
    """Start kwok again if a failed test left it down: the other tier-2 tests need it."""
    proc = cp.procs.get("kwok")
    if proc is None or proc.poll() is not None:
        cp.restart_kwok()


def one_pod(cp: ControlPlane, ns: str) -> str:
    deployment(cp, ns, 1)
    (pod,) = running_pods(cp, ns, 1)
    return pod


def tally(printed: list[str], expected: list[str]) -> tuple[int, int]:
    """(lost, duplicated) lines of `printed` against `expected` (lines are unique)."""
    return len(set(expected) - set(printed)), len(printed) - len(set(printed))


def test_kwok_restarted_under_logs_f_loses_and_repeats_nothing(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path
) -> None:
    """Fault matrix: kwok (the kubelet) killed for 8s, far longer than the old give-up, then restarted."""
    cp, ns = tier2_cluster, tier2_ns
    pod = one_pod(cp, ns)
    same = datetime.now(UTC)
    cp.append_log(ns, pod, "c1", "before 1", "before 2", at=same)  # two lines sharing one timestamp
    f = Follow(cp.kubeconfig, cache_dir, [pod, "-n", ns, "-f", "-c", "c1", "-o", "raw"])
    try:
        wait_for(lambda: f.out == ["before 1", "before 2"], 30, "the first lines")
        killed = time.monotonic()
        cp.kill("kwok")
        write(cp, ns, pod, "c1", "during 1", at=same)  # a third line with the last delivered timestamp
        write(cp, ns, pod, "c1", "during 2", "during 3")
        time.sleep(max(0.0, killed + 8 - time.monotonic()))  # hold the fault: the old code gave up after ~5s
        assert f.proc.poll() is None and f.out == ["before 1", "before 2"], (f.out, f.err)
        cp.restart_kwok()  # kwok is already dead: this starts it again, and returns once it serves
        back = time.monotonic()
        wait_for(lambda: "during 3" in f.out, 30, "the lines written during the outage")
        seconds_to_resume = f.seen["during 3"] - back
        cp.append_log(ns, pod, "c1", "after 1", "after 2")
        wait_for(lambda: "after 2" in f.out, 30, "the lines written after the restart")
        expected = ["before 1", "before 2", "during 1", "during 2", "during 3", "after 1", "after 2"]
        lost, duplicated = tally(f.out, expected)
        figures.record(
            "fault matrix",
            "kwok restarted under logs -f",
            lost=lost,
            duplicated=duplicated,
            outage_seconds=round(back - killed, 1),
            seconds_to_resume=round(seconds_to_resume, 2),
        )
        assert f.out == expected, (f.out, f.err)
        said = [e for e in f.err if e.startswith(f"kates: {pod}/c1: ")]
        assert len(said) == 2 and said[0].startswith(f"kates: {pod}/c1: log stream interrupted ("), f.err
        assert said[0].endswith("; reconnecting") and said[1] == f"kates: {pod}/c1: log stream resumed", f.err
        assert f"- {pod}/c1" not in f.err and not any(e.startswith("error:") for e in f.err), f.err
        assert f.proc.poll() is None
    finally:
        code = f.stop()
        ensure_kwok(cp)
    assert code == ExitCode.INTERRUPTED


def test_server_text_in_a_stream_is_never_printed_as_a_line(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path
) -> None:
    """A kubelet (and kwok) that fails in the middle of a follow writes its error into the stream, after the 200
    status was sent: "context cancelled" when it stops (kwok does so on SIGTERM, but only when it wins a race),
    "failed to read log file ..." when the file it follows cannot be read any more (here: replaced by a directory,
    which fails every time). Such text is not the container's: never a line, and the stream resumes."""
    cp, ns = tier2_cluster, tier2_ns
    pod = one_pod(cp, ns)
    cp.append_log(ns, pod, "c1", "before")
    path = cp.log_file(ns, pod, "c1")
    f = Follow(cp.kubeconfig, cache_dir, [pod, "-n", ns, "-f", "-c", "c1", "-o", "raw"])
    try:
        wait_for(lambda: f.out == ["before"], 30, "the first line")
        saved = path.read_text()
        path.unlink()
        path.mkdir()  # kwok follows the file: it reads the new "file", fails, and says why in the stream
        note = f"kates: {pod}/c1: log stream interrupted (failed to read log file "
        wait_for(
            lambda: any(e.startswith(note) for e in f.err) or any("failed to read" in o for o in f.out),
            30,
            "the failure seen: a failed reconnect said on stderr (or, wrongly, the text printed)",
        )
        path.rmdir()
        path.write_text(saved + cri_log_line("after"))
        wait_for(lambda: "after" in f.out, 30, "the line written after the repair")
        assert f.out == ["before", "after"], (f.out, f.err)
        assert any(e.startswith(note) for e in f.err), f.err
        assert f"kates: {pod}/c1: log stream resumed" in f.err, f.err
    finally:
        f.stop()


def test_a_stalled_connection_is_noticed_within_the_bound_and_resumed(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path, tmp_path: Path
) -> None:
    """Fault matrix: every connection to the API server goes silent (no bytes, no close) under `logs -f`."""
    cp, ns = tier2_cluster, tier2_ns
    pod = one_pod(cp, ns)
    cp.append_log(ns, pod, "c1", "before")
    bound = 3.0
    with FaultProxy(cp.port) as proxy:
        kubeconfig = proxy.kubeconfig(cp.kubeconfig, tmp_path / "kubeconfig")
        f = Follow(kubeconfig, cache_dir, [pod, "-n", ns, "-f", "-c", "c1", "-o", "raw", "--stall-timeout", "3s"])
        try:
            wait_for(lambda: f.out == ["before"], 30, "the first line")
            proxy.stall()
            stalled = time.monotonic()
            cp.append_log(ns, pod, "c1", "during 1", "during 2")  # straight to the API server, not through the proxy
            note = f"kates: {pod}/c1: no answer from the server for 3s: log stream stalled; reconnecting"
            wait_for(lambda: note in f.err, 3 * bound, "the stall said on stderr")
            seconds_to_notice = f.seen[note] - stalled
            proxy.resume()
            wait_for(lambda: "during 2" in f.out, 30, "the lines written during the stall")
            cp.append_log(ns, pod, "c1", "after")
            wait_for(lambda: "after" in f.out, 30, "the line written after the stall")
            expected = ["before", "during 1", "during 2", "after"]
            lost, duplicated = tally(f.out, expected)
            figures.record(
                "fault matrix",
                "stalled connection under logs -f (--stall-timeout 3s)",
                lost=lost,
                duplicated=duplicated,
                seconds_to_notice=round(seconds_to_notice, 2),
            )
            assert f.out == expected, (f.out, f.err)
            assert seconds_to_notice <= bound + 2.0, seconds_to_notice  # 2s of slack for busy cores
            assert f"kates: {pod}/c1: log stream resumed" in f.err
        finally:
            f.stop()


def test_an_idle_stream_is_reconnected_invisibly(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path, tmp_path: Path
) -> None:
    """Nobody sends anything on an idle log stream: kates reconnects it every half of --stall-timeout, and that
    costs no line, repeats none and says nothing."""
    cp, ns = tier2_cluster, tier2_ns
    pod = one_pod(cp, ns)
    same = datetime.now(UTC)
    cp.append_log(ns, pod, "c1", "one", "two", at=same)
    with FaultProxy(cp.port) as proxy:  # no faults: it counts the connections
        kubeconfig = proxy.kubeconfig(cp.kubeconfig, tmp_path / "kubeconfig")
        f = Follow(kubeconfig, cache_dir, [pod, "-n", ns, "-f", "-c", "c1", "-o", "raw", "--stall-timeout", "2s"])
        try:
            wait_for(lambda: f.out == ["one", "two"], 30, "the first lines")
            before = proxy.accepted
            wait_for(lambda: proxy.accepted >= before + 3, 15, "three reconnects of the idle stream")
            cp.append_log(ns, pod, "c1", "three", at=same)  # the same timestamp as the last line delivered
            cp.append_log(ns, pod, "c1", "four")
            wait_for(lambda: "four" in f.out, 30, "the lines written after the idle time")
            assert f.out == ["one", "two", "three", "four"], (f.out, f.err)
            assert f.err == [f"+ {pod}/c1"], f.err
        finally:
            f.stop()


def test_streams_over_max_log_requests_take_turns_and_are_marked_when_they_stream(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    deployment(cp, ns, 2)
    pods = running_pods(cp, ns, 2)
    for pod in pods:
        cp.append_log(ns, pod, "c1", f"first of {pod}")
    f = Follow(cp.kubeconfig, cache_dir, ["deploy/web", "-n", ns, "-f", "-c", "c1", "--max-log-requests", "1"])
    try:
        wait_for(lambda: len(f.out) == 2, 30, "both pods' first lines (the second after a turn)")
        for pod in pods:
            cp.append_log(ns, pod, "c1", f"second of {pod}")
        wait_for(lambda: len(f.out) == 4, 30, "both pods' second lines")
        assert sorted(f.out) == sorted(f"{p}/c1 {w} of {p}" for p in pods for w in ("first", "second"))
        markers = [e for e in f.err if e.startswith(("+", "-"))]
        first = f.out[0].split("/")[0]
        other = next(p for p in pods if p != first)
        waiting = "kates: waiting: 1 stream over --max-log-requests=1"
        assert markers == [f"+ {first}/c1", f"+ {other}/c1"], f.err
        # the second stream is marked only once it streams, after it was said to wait
        assert f.err.index(f"+ {first}/c1") < f.err.index(waiting) < f.err.index(f"+ {other}/c1"), f.err
        assert f.proc.poll() is None
    finally:
        f.stop()
