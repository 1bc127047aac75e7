"""Record and replay, and resync (issue 14, sections 2 and 3), against the shared control plane: a session of 5
runs recorded by `kates watch --record` is replayed by `kates replay` with another hook and no kubeconfig at all:
5 runs, the same stdin bytes, the same deltas bytes, the same KATES_* environment. A replay hook's writes are
refused (exit 10, nothing sent) unless --allow-writes. `--resync 2s` runs the hook every 2 s with no change, never
two runs at once, and a change restarts the period."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kates_cli.cli import recording
from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, Runner, create
from .test_watch import Watch, write_hook

pytestmark = pytest.mark.e2e

# The watch's hook: what it got, per run (runs.log is written last, so a line there means the files are complete).
WATCH_HOOK = """#!/bin/sh
n=$KATES_RUN
cat > "$OUT/stdin-$n"
cp "$KATES_DELTAS" "$OUT/deltas-$n"
env | grep -E '^KATES_(RUN|FAILURES|CONTEXT|NAMESPACE)=' | sort > "$OUT/env-$n"
echo "$n" >> "$OUT/runs.log"
"""

# Another hook for the replay (Python, not sh): its stdin, its deltas file and its whole environment, per run.
REPLAY_HOOK = f"""#!{sys.executable}
import json, os, sys
out = os.environ["OUT"]
k = len([n for n in os.listdir(out) if n.startswith("replay-stdin-")])
data = sys.stdin.buffer.read()
with open(os.environ["KATES_DELTAS"], "rb") as fh:
    deltas = fh.read()
open(os.path.join(out, f"replay-deltas-{{k}}"), "wb").write(deltas)
open(os.path.join(out, f"replay-env-{{k}}"), "w").write(json.dumps(dict(os.environ)))
open(os.path.join(out, f"replay-stdin-{{k}}"), "wb").write(data)
sys.exit(int(os.environ.get("FAIL_AT", "-1") == str(k)) * 3)
"""


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def replay(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KATES, "replay", *args], env=env, capture_output=True, text=True, timeout=timeout)


def no_cluster_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No kubeconfig at all: KUBECONFIG names nothing, HOME is empty (no ~/.kube), no in-cluster service account."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "KUBECONFIG": str(tmp_path / "nowhere" / "config"),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
    }
    env.update(extra)
    return env


def test_a_recorded_session_replays_byte_for_byte_without_a_cluster(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    rec = tmp_path / "session.jsonl"
    hook = write_hook(tmp_path, WATCH_HOOK)
    w = Watch(
        cluster, cache_dir, ["-q", f"cms=cm ns={ns}", "--record", str(rec), "--exec", str(hook)], {"OUT": str(out)}
    )
    watches.append(w)
    wait_for(lambda: len(lines(out / "runs.log")) == 1, 30, "the first run")
    for i in range(1, 5):  # one change per run: 5 runs in all
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"c{i}"}, "data": {"i": "é"}})
        wait_for(lambda i=i: len(lines(out / "runs.log")) == i + 1, 30, f"run {i}")
    wait_for(lambda: len(lines(rec)) == 6, 10, "the 5th run's line")  # written once its run has ended
    code, _, err = w.finish()
    assert code == ExitCode.INTERRUPTED, err
    assert lines(out / "runs.log") == ["0", "1", "2", "3", "4"]

    raw = rec.read_bytes().split(b"\n")
    assert raw[0] == b'{"kates_recording":1}' and raw[-1] == b"" and len(raw) == 7
    records = recording.read(str(rec))
    assert [r.run for r in records] == [0, 1, 2, 3, 4]
    assert [(r.code, r.result) for r in records] == [(0, "success")] * 5
    for r in records:  # the recording holds exactly what the watch's hook got
        assert r.snapshot == (out / f"stdin-{r.run}").read_bytes()
        assert r.deltas == (out / f"deltas-{r.run}").read_bytes()
        assert json.loads(raw[r.run + 1])["snapshot"] == json.loads(r.snapshot)  # and it is plain JSON too
    assert [d["name"] for d in json.loads(records[3].deltas)] == ["c3"]

    # replayed by another hook, with no kubeconfig at all
    replay_hook = tmp_path / "replay-hook.py"
    replay_hook.write_text(REPLAY_HOOK)
    replay_hook.chmod(0o755)
    done = replay([str(rec), "--exec", str(replay_hook)], no_cluster_env(tmp_path, OUT=str(out)))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert len(list(out.glob("replay-stdin-*"))) == 5
    for k in range(5):
        stdin = (out / f"replay-stdin-{k}").read_bytes()
        assert stdin == (out / f"stdin-{k}").read_bytes()  # byte-identical to what the watch's hook got
        assert (out / f"replay-deltas-{k}").read_bytes() == (out / f"deltas-{k}").read_bytes()
        env = json.loads((out / f"replay-env-{k}").read_text())
        watched = dict(line.split("=", 1) for line in lines(out / f"env-{k}"))
        assert {n: env[n] for n in watched} == watched  # KATES_RUN, KATES_FAILURES, KATES_CONTEXT, KATES_NAMESPACE
        assert env["KATES_SNAPSHOT_SHA256"] == hashlib.sha256(stdin).hexdigest()
        assert env["KATES_REPLAY"] == "1"
        assert "KATES_WRITE_SOCKET" not in env
        assert not os.path.exists(env["KATES_DELTAS"])  # a private file, removed after its run


def test_a_replay_stops_at_the_first_failure_with_its_code_or_keeps_going(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path
) -> None:
    rec = tmp_path / "session.jsonl"
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        [*KATES, "watch", "--once", "-q", f"cms=cm ns={ns}", "--record", str(rec)],
        env=dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(cache_dir)),
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (line,) = recording.read(str(rec))  # a printed snapshot is recorded too, as the exact line printed
    assert line.snapshot + b"\n" == done.stdout and (line.run, line.code, line.result) == (0, None, None)
    with open(rec, "ab") as fh:  # the same run, three times over: 4 lines
        fh.write(rec.read_bytes().split(b"\n", 1)[1] * 3)
    hook = tmp_path / "replay-hook.py"
    hook.write_text(REPLAY_HOOK)
    hook.chmod(0o755)

    failed = replay([str(rec), "--exec", str(hook)], no_cluster_env(tmp_path, OUT=str(out), FAIL_AT="1"))
    assert failed.returncode == 3, failed.stderr
    assert failed.stderr == "replay: run 0 (line 3) failed (exit 3)\n"
    assert len(list(out.glob("replay-stdin-*"))) == 2  # stopped at the first failure

    for f in out.glob("replay-*"):
        f.unlink()
    kept = replay([str(rec), "--keep-going", "--exec", str(hook)], no_cluster_env(tmp_path, OUT=str(out), FAIL_AT="1"))
    assert kept.returncode == 3, kept.stderr
    assert len(list(out.glob("replay-stdin-*"))) == 4  # all of them, and the first failure's status


WRITING_HOOK = """#!/bin/sh
kates_create() { %s create -f - <<EOF
{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "$1", "namespace": "$NS"}}
EOF
}
kates_create "written-$KATES_RUN"
"""


def test_writes_in_a_replay_are_refused_unless_allowed(
    cluster: ControlPlane, cache_dir: Path, kates: Runner, ns: str, tmp_path: Path
) -> None:
    rec = tmp_path / "session.jsonl"
    recorder = recording.Recorder(str(rec))
    recorder.write(recording.Record(7, recording.now(), 0, "kates-admin", ns, 0, b'{"cms":[]}', b"[]"))
    recorder.close()
    hook = write_hook(tmp_path, WRITING_HOOK % " ".join(KATES))
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(cache_dir), NS=ns)

    refused = replay([str(rec), "--exec", str(hook)], env)
    assert refused.returncode == ExitCode.FENCED, refused.stderr
    assert refused.stderr.splitlines()[0] == (
        "error: creating <stdin>: document 1 (line 1): write refused: the hook runs under kates replay "
        "(KATES_REPLAY is set), which changes no cluster"
    )
    assert refused.stderr.splitlines()[-1] == "replay: run 7 (line 2) failed (exit 10)"
    assert kates("get", "cm", "written-7", "-n", ns).code == ExitCode.NOT_FOUND  # nothing was sent

    allowed = replay([str(rec), "--allow-writes", "--exec", str(hook)], env)
    assert allowed.returncode == 0, allowed.stderr
    assert kates("get", "cm", "written-7", "-n", ns).code == 0


# Each run: its start and end (epoch seconds) and its deltas; a run that finds another one going says so.
TIMING_HOOK = """#!/bin/sh
[ -e "$OUT/running" ] && echo overlap >> "$OUT/overlap.log"
touch "$OUT/running"
start=$(date +%s.%N)
cp "$KATES_DELTAS" "$OUT/deltas-$KATES_RUN"
sleep 0.3
rm "$OUT/running"
echo "$start $(date +%s.%N)" >> "$OUT/runs.log"
"""


def test_resync_runs_the_hook_every_period_without_changes_never_two_at_once(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    hook = write_hook(tmp_path, TIMING_HOOK)
    w = Watch(
        cluster, cache_dir, ["-q", f"cms=cm ns={ns}", "--resync", "2s", "--exec", str(hook)], {"OUT": str(tmp_path)}
    )
    watches.append(w)
    wait_for(lambda: len(lines(tmp_path / "runs.log")) == 3, 30, "two resync runs")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "changed"}})
    wait_for(lambda: len(lines(tmp_path / "runs.log")) == 6, 30, "a change's run and two more resync runs")
    code, _, err = w.finish()
    assert code == ExitCode.INTERRUPTED, err
    times: list[Any] = [tuple(map(float, line.split())) for line in lines(tmp_path / "runs.log")]
    assert not (tmp_path / "overlap.log").exists()
    for (_, end), (start, _) in itertools.pairwise(times):
        assert start >= end  # never two at once
    deltas = [json.loads((tmp_path / f"deltas-{n}").read_text()) for n in range(6)]
    # the change's run is the one whose deltas hold it; every other run after the first is a resync run
    changed = next(n for n, d in enumerate(deltas) if d and n > 0)
    assert [d["name"] for d in deltas[changed]] == ["changed"]
    assert all(d == [] for n, d in enumerate(deltas) if n not in (0, changed))
    # the resync period runs from a run's end to the next run's start: 2 s, within 1 s (the bound); it follows
    # the change's run too (that run restarted the period), and only the change's own run came sooner
    quiet = [times[n + 1][0] - times[n][1] for n in range(5) if n + 1 != changed]
    assert all(1.0 <= q <= 3.0 for q in quiet), quiet
    assert times[changed][0] - times[changed - 1][1] < 1.9  # the change did not wait for the period (2 s)
    periods = [times[n + 1][0] - times[n][0] for n in range(5) if n + 1 != changed]  # start to start, for the figure
    figures.record(
        "resync",
        "--resync 2s, 0.3s hook",
        runs=6,
        min_quiet=min(quiet),
        max_quiet=max(quiet),
        min_start_to_start=min(periods),
        max_start_to_start=max(periods),
    )


BACKOFF_HOOK = """#!/bin/sh
cp "$KATES_DELTAS" "$OUT/deltas-$KATES_RUN"
echo "$(date +%s.%N) $(date +%s.%N)" >> "$OUT/runs.log"
[ "$KATES_RUN" -ge 3 ]
"""


def test_resync_never_shortens_a_failed_runs_backoff_and_resumes_after_a_success(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    hook = write_hook(tmp_path, BACKOFF_HOOK)  # runs 0, 1 and 2 fail; 3 and later succeed
    rec = tmp_path / "rec.jsonl"
    args = ["-q", f"cms=cm ns={ns}", "--resync", "1s", "--record", str(rec), "--exec", str(hook)]
    w = Watch(cluster, cache_dir, args, {"OUT": str(tmp_path)})
    watches.append(w)
    wait_for(lambda: len(lines(tmp_path / "runs.log")) == 5, 30, "three failures, a success and a resync run")
    wait_for(lambda: len(lines(rec)) == 6, 10, "the 5th run's line")
    code, _, err = w.finish()
    assert code == ExitCode.INTERRUPTED, err
    starts = [float(line.split()[0]) for line in lines(tmp_path / "runs.log")]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # the backoff (1 s, then 2 s, then 4 s, each +-20%) is kept although --resync 1s is shorter than the last two
    assert 0.7 <= gaps[0] <= 2.0 and 1.5 <= gaps[1] <= 3.5 and 3.1 <= gaps[2] <= 6.0, gaps
    assert 0.8 <= gaps[3] <= 2.0, gaps  # after the success: a resync run 1 s later
    assert json.loads((tmp_path / "deltas-4").read_text()) == []
    assert json.loads((tmp_path / "deltas-3").read_text()) != []  # the failed runs' deltas, carried until a success
    records = recording.read(str(rec))  # failed runs are recorded too, with what kates made of them
    assert [(r.run, r.failures, r.code, r.result) for r in records] == [
        (0, 0, 1, "failure"),
        (1, 1, 1, "failure"),
        (2, 2, 1, "failure"),
        (3, 3, 0, "success"),
        (4, 0, 0, "success"),
    ]
    assert records[0].deltas == records[3].deltas == (tmp_path / "deltas-3").read_bytes()


def test_changes_a_projection_hides_do_not_hold_off_a_resync(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    """Under `jq=.data`, an annotation changed every few milliseconds changes nothing the hook sees: kates woke for
    each and found nothing new, and never looked whether the resync was due, so it never ran."""
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "busy"}, "data": {"k": "v"}})
    hook = write_hook(tmp_path, '#!/bin/sh\ncat > /dev/null\necho run >> "$OUT/runs.log"\n')
    args = ["-q", f"cms=cm ns={ns} jq=.data", "--resync", "2s", "--exec", str(hook)]
    w = Watch(cluster, cache_dir, args, {"OUT": str(tmp_path)})
    watches.append(w)
    wait_for(lambda: len(lines(tmp_path / "runs.log")) == 1, 30, "the first run")
    path = f"/api/v1/namespaces/{ns}/configmaps/busy"
    patches = 0
    # invisible changes, back to back, for up to 20 s (ten resync periods) or until a resync run
    deadline = time.monotonic() + 20
    while len(lines(tmp_path / "runs.log")) < 2 and time.monotonic() < deadline:
        patch = {"metadata": {"annotations": {"n": str(patches)}}}
        code, _ = cluster.request("PATCH", path, patch, content_type="application/merge-patch+json")
        assert code == 200
        patches += 1
    assert len(lines(tmp_path / "runs.log")) >= 2, f"no resync run in 20 s of {patches} invisible changes"
    code, _, err = w.finish()
    assert code == ExitCode.INTERRUPTED, err


def test_a_recording_that_cannot_be_written_stops_the_recording_not_the_reconciler(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path
) -> None:
    """A full disk under --record: the write's error ended the watch (exit 1) after the run, whose run.ended was never
    said. The file-size limit here lets the header and every deltas file through, not a run's line (which holds the
    snapshot and the deltas)."""
    import resource

    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "big"}, "data": {"k": "x" * 2000}})
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(cache_dir), OUT=str(tmp_path))
    sizes = write_hook(tmp_path, '#!/bin/sh\necho "$(wc -c < "$KATES_DELTAS") $(wc -c)" > "$OUT/sizes"\n')
    measured = subprocess.run([*KATES, "watch", "-q", f"cms=cm ns={ns}", "--once", "--exec", str(sizes)], env=env)
    assert measured.returncode == 0
    deltas_bytes, snapshot_bytes = map(int, (tmp_path / "sizes").read_text().split())
    # a run's line holds the snapshot and the deltas: this limit lets every deltas file through, not that line
    size_limit = deltas_bytes + snapshot_bytes // 2
    hook = write_hook(tmp_path, '#!/bin/sh\ncat > /dev/null\necho run >> "$OUT/runs.log"\n')
    record = tmp_path / "rec.jsonl"

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size_limit, size_limit))

    argv = ["watch", "-q", f"cms=cm ns={ns}", "--record", str(record), "--log-format", "json", "--exec", str(hook)]
    w = subprocess.Popen(
        [*KATES, *argv],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit,
    )  # fmt: skip
    try:
        wait_for(lambda: len(lines(tmp_path / "runs.log")) == 1, 30, "the first run")
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "after"}})
        wait_for(lambda: len(lines(tmp_path / "runs.log")) == 2, 30, "a second run: the reconciler went on")
    finally:
        w.terminate()
        _, err = w.communicate(timeout=30)
    events = [json.loads(line) for line in err.splitlines()]
    assert w.returncode == ExitCode.INTERRUPTED, err
    notices = [e for e in events if e.get("event") == "stream.notice" and "recording stopped" in e.get("msg", "")]
    assert len(notices) == 1, err
    ended = [e for e in events if e.get("event") == "run.ended"]
    assert [e["run"] for e in ended] == [0, 1] and all(e["result"] == "success" for e in ended), err
    assert record.read_bytes() == recording.HEADER  # the line that could not be written whole is absent
