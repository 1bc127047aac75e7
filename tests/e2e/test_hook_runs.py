"""Hook runs of `kates watch --exec` against the real control plane: timeouts and crashes are failures that are
retried and counted, deltas are the net change since the last successful run, snapshot bytes do not depend on
the path an object came by, --debounce-max bounds the wait, a bad interpreter is a hook failure, and neither the
hook nor the private directory outlives kates. Fault-matrix rows for slow, crashing, hanging and SIGTERM-ignoring
hooks are recorded in tests.figures."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create
from .test_watch import Watch, names_rvs, runs, server_state, write_hook

KATES = f"{sys.executable} -m kates_cli"

# Each run: the snapshot and the deltas kept per run, one line in runs.log.
RECORDING = """#!/bin/sh
cp "$KATES_DELTAS" "$OUT/deltas-$KATES_RUN.json"
cat > "$OUT/.snap" && mv "$OUT/.snap" "$OUT/snap-$KATES_RUN.json"
echo "run $KATES_RUN failures $KATES_FAILURES" >> "$OUT/runs.log"
"""


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A TMPDIR short enough for a Unix socket path inside it (pytest's tmp_path may not be)."""
    path = Path(tempfile.mkdtemp(prefix="kt-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def deltas(tmp_path: Path, run: int) -> list[tuple[str, str]]:
    return [(d["type"], d["name"]) for d in json.loads((tmp_path / f"deltas-{run}.json").read_text())]


def snapshot(tmp_path: Path, run: int) -> dict[str, list[dict[str, Any]]]:
    return json.loads((tmp_path / f"snap-{run}.json").read_text())  # type: ignore[no-any-return]


def faults(snap: list[dict[str, Any]], server: dict[str, str]) -> dict[str, int]:
    """lost / duplicated / stale objects of a snapshot compared with the server's state (name -> rv)."""
    seen = [o["metadata"]["name"] for o in snap]
    rvs = names_rvs(snap)
    return {
        "lost": len(set(server) - set(seen)),
        "duplicated": len(seen) - len(set(seen)),
        "stale": sum(1 for n, rv in rvs.items() if n in server and server[n] != rv) + len(set(seen) - set(server)),
    }


def gone(pid: int) -> bool:
    """No such process, or only its zombie (a container's init may be slow to reap it)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# -- failures: timeout, crash, hang, SIGTERM ignored ---------------------------------------------------------------


def test_a_run_that_hits_the_timeout_fails_even_if_it_exits_0(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    hook = write_hook(
        tmp_path,
        RECORDING + "trap 'exit 0' TERM\nwhile true; do sleep 0.1; done\n",
    )
    out = kates(
        "watch", "-q", f"cms=cm ns={ns}", "--exec", str(hook), "--hook-timeout", "1s", "--grace-period", "5s",
        "--max-failures", "2", env={"OUT": str(tmp_path)}, timeout=40,
    )  # fmt: skip
    assert out.code == ExitCode.HOOK_FAILED, out
    assert runs(tmp_path) == ["run 0 failures 0", "run 1 failures 1"]
    assert "kates: hook failed (timed out after 1s, exit 0), 1 in a row; retrying in" in out.err
    assert out.err.splitlines()[-1] == "error: hook failed 2 times in a row (last: timed out after 1s, exit 0)"
    # the failed run's deltas are carried into the retry, not dropped as if it had succeeded
    assert deltas(tmp_path, 1) == deltas(tmp_path, 0) == [("add", "a"), ("add", "kube-root-ca.crt")]


@pytest.mark.parametrize(
    "behaviour,script,timeout_exit",
    [
        ("hook hang (hits --hook-timeout, killed)", "sleep 300\n", "exit 143"),
        ("SIGTERM-ignoring hook (killed after the grace period)", "trap '' TERM\nsleep 300\n", "exit 137"),
    ],
)
def test_a_hanging_hook_is_killed_counted_and_retried(
    cluster: ControlPlane,
    cache_dir: Path,
    ns: str,
    tmp_path: Path,
    watches: list[Watch],
    behaviour: str,
    script: str,
    timeout_exit: str,
) -> None:
    hook = write_hook(tmp_path, RECORDING + f'if [ "$KATES_RUN" = 0 ]; then\n{script}fi\n')
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook), "--hook-timeout", "1s", "--grace-period", "1s"]
    started = time.monotonic()
    w = Watch(cluster, cache_dir, args, {"OUT": str(tmp_path)})
    watches.append(w)
    wait_for(lambda: len(runs(tmp_path)) >= 2 and (tmp_path / "snap-1.json").exists(), 30, "the retry")
    elapsed = time.monotonic() - started
    assert runs(tmp_path) == ["run 0 failures 0", "run 1 failures 1"]
    assert deltas(tmp_path, 1) == deltas(tmp_path, 0) == [("add", "kube-root-ca.crt")]
    server = server_state(cluster, f"/api/v1/namespaces/{ns}/configmaps")
    counts = faults(snapshot(tmp_path, 1)["cms"], server)
    code, _, err = w.finish()
    assert code == ExitCode.INTERRUPTED, err
    assert f"kates: hook failed (timed out after 1s, {timeout_exit}), 1 in a row" in err
    assert counts == {"lost": 0, "duplicated": 0, "stale": 0}
    figures.record("fault matrix", behaviour, **counts, hook_runs=2, failures_counted=1, seconds=round(elapsed, 1))


# -- deltas ----------------------------------------------------------------------------------------------------------

NET_DELTAS_HOOK = (
    RECORDING
    + """if [ "$KATES_RUN" = 1 ]; then
  $KATES patch cm x -n "$NS" -p '{"data":{"v":"2"}}' >> "$OUT/hook.log" 2>&1
  $KATES delete cm y -n "$NS" >> "$OUT/hook.log" 2>&1
  $KATES create -f "$OUT/y.yaml" >> "$OUT/hook.log" 2>&1
  exit 1
fi
"""
)


def test_deltas_after_a_failed_run_are_the_net_change_and_a_new_uid_is_a_delete_and_an_add(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    y = create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "y"}})
    (tmp_path / "y.yaml").write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: y, namespace: {ns}}}\n")
    hook = write_hook(tmp_path, NET_DELTAS_HOOK)
    env = {"OUT": str(tmp_path), "NS": ns, "KATES": KATES}
    w = Watch(cluster, cache_dir, ["-q", f"cms=cm ns={ns}", "--exec", str(hook)], env)
    watches.append(w)
    wait_for(lambda: runs(tmp_path) == ["run 0 failures 0"], 30, "the first run")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "x"}, "data": {"v": "1"}})
    # run 1 sees x added, then (inside the hook) updates x, deletes and re-creates y, and fails
    wait_for(lambda: (tmp_path / "snap-2.json").exists(), 30, "the retry after the failed run")
    log = (tmp_path / "hook.log").read_text()
    assert deltas(tmp_path, 1) == [("add", "x")], log
    # net since run 0 (the last success): x was added (its update folds in), y was replaced (another uid)
    assert deltas(tmp_path, 2) == [("add", "x"), ("delete", "y"), ("add", "y")], log
    snap = {o["metadata"]["name"]: o for o in snapshot(tmp_path, 2)["cms"]}
    assert snap["x"]["data"] == {"v": "2"} and snap["y"]["metadata"]["uid"] != y["metadata"]["uid"]
    server = server_state(cluster, f"/api/v1/namespaces/{ns}/configmaps")
    counts = faults(snapshot(tmp_path, 2)["cms"], server)
    assert counts == {"lost": 0, "duplicated": 0, "stale": 0}
    assert runs(tmp_path)[:3] == ["run 0 failures 0", "run 1 failures 0", "run 2 failures 1"]
    code, _, err = w.finish()
    assert code == ExitCode.INTERRUPTED and "kates: hook failed (exit 1), 1 in a row" in err, err
    figures.record("fault matrix", "hook crash (exit 1, retried)", **counts, hook_runs=3, failures_counted=1)


# -- snapshot bytes --------------------------------------------------------------------------------------------------

CANONICAL_HOOK = """#!/bin/sh
cat > "$OUT/.snap" && mv "$OUT/.snap" "$OUT/snap-$KATES_RUN.json"
if [ "$KATES_RUN" = 0 ]; then $KATES create -f "$OUT/html.yaml" >> "$OUT/hook.log" 2>&1; fi
"""


def test_snapshot_bytes_after_a_hooks_write_equal_those_the_watch_delivers(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    page = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "page", "namespace": ns, "labels": {"kind": "html"}},
        "data": {"html": "<b>Tom & Jerry</b> > \u2028 é"},
    }
    (tmp_path / "html.yaml").write_text(json.dumps(page))
    hold = tmp_path / "hold"
    hold.write_text("")  # no watch event is delivered after bootstrap while this file exists
    hook = write_hook(tmp_path, CANONICAL_HOOK)
    env = {"OUT": str(tmp_path), "KATES": KATES, "KATES_TEST_HOLD_WATCH": str(hold)}
    args = ["-q", f"cms=cm ns={ns} l=kind=html", "-q", f"trig=secret ns={ns}", "--exec", str(hook)]
    w = Watch(cluster, cache_dir, args, env)
    watches.append(w)
    wait_for(lambda: (tmp_path / "snap-1.json").exists(), 30, "the run after the hook's write")
    written = (tmp_path / "snap-1.json").read_bytes()  # the page as the write's answer carried it
    assert json.loads(written)["cms"][0]["data"]["html"] == "<b>Tom & Jerry</b> > \u2028 é"
    hold.unlink()
    create(cluster, f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "trigger"}})

    def watched() -> bytes | None:
        for path in sorted(tmp_path.glob("snap-*.json")):
            data = path.read_bytes()
            if json.loads(data)["trig"]:
                return data
        return None

    after = wait_for(watched, 30, "a run after the watch delivered the page")  # the page as the watch delivered it
    assert after.split(b',"trig":')[0] == written.split(b',"trig":')[0]
    assert b"\\u003cb\\u003eTom \\u0026 Jerry\\u003c/b\\u003e \\u003e \\u2028 \xc3\xa9" in after
    assert w.finish()[0] == ExitCode.INTERRUPTED


# -- debounce --------------------------------------------------------------------------------------------------------


def test_debounce_max_runs_the_hook_while_changes_never_stop(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    hook = write_hook(tmp_path, RECORDING)
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook), "--debounce", "500ms", "--debounce-max", "2s"]
    w = Watch(cluster, cache_dir, args, {"OUT": str(tmp_path)})
    watches.append(w)
    wait_for(lambda: runs(tmp_path), 30, "the first run")
    started = time.monotonic()
    made = 0
    # a change every 300 ms, closer together than the debounce, until the hook runs (or 20 s: ten times the bound)
    while len(runs(tmp_path)) < 2 and time.monotonic() - started < 20:
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"s{made}"}})
        made += 1
        time.sleep(0.3)  # pacing the load, not synchronisation
    waited = time.monotonic() - started
    assert len(runs(tmp_path)) >= 2, f"no run in {waited:.1f}s of steady changes"
    assert w.finish()[0] == ExitCode.INTERRUPTED
    figures.record("debounce", "--debounce 500ms --debounce-max 2s, a change every 300 ms", changes=made,
                   seconds_to_run=round(waited, 1))  # fmt: skip


def test_a_stop_signal_while_debouncing_starts_no_run(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    """SIGTERM while kates waited out the debounce of a change: the run was started all the same, then signalled, its
    partial work done (and, with --record, recorded as a failure)."""
    hook = write_hook(tmp_path, '#!/bin/sh\necho "run $KATES_RUN" >> "$OUT/runs.log"\ncat > /dev/null\n')
    w = Watch(
        cluster, cache_dir, ["-q", f"cms=cm ns={ns}", "--exec", str(hook), "--debounce", "4s"], {"OUT": str(tmp_path)}
    )
    watches.append(w)
    wait_for(lambda: runs(tmp_path), 30, "the first run")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "during-debounce"}})
    time.sleep(1)  # the change reaches kates (milliseconds), whose debounce holds it for 4 s
    code, _, err = w.finish(signal.SIGTERM)
    assert code == ExitCode.INTERRUPTED, err
    assert runs(tmp_path) == ["run 0"], err


def test_debounce_max_is_checked(kates: Runner) -> None:
    out = kates("watch", "-q", "cm", "--debounce", "2s", "--debounce-max", "1s")
    assert out.code == ExitCode.USAGE and out.err.startswith("error: --debounce-max (1s) is shorter than"), out
    out = kates("watch", "-q", "cm", "--debounce-max", "1s")
    assert out.code == ExitCode.USAGE and out.err.startswith("error: --debounce-max needs --debounce"), out
    out = kates("watch", "-q", "cm", "--max-failures", "-1", "--exec", "true")
    assert out.code == ExitCode.USAGE and out.err.startswith("error: --max-failures must be 0 (no limit) or more"), out
    out = kates("watch", "-q", "cm", "--max-backoff", "0s", "--exec", "true")  # a failing hook re-run in a tight loop
    assert out.code == ExitCode.USAGE and out.err.startswith("error: --max-backoff must be at least 100ms, not 0s"), out


# -- bad interpreter -------------------------------------------------------------------------------------------------


def test_a_bad_interpreter_is_refused_at_start_and_a_hook_failure_later(
    cluster: ControlPlane, kates: Runner, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    bad = tmp_path / "bad.sh"
    bad.write_text("#!/nonexistent/sh\nexit 0\n")
    bad.chmod(0o755)
    out = kates("watch", "-q", "cm", "--exec", str(bad))
    assert out.code == ExitCode.USAGE, out
    assert out.err == f'error: cannot run hook "{bad}": bad interpreter /nonexistent/sh: No such file or directory\n'
    # a hook that breaks itself while the watch runs: each run fails, is retried and counted
    hook = write_hook(tmp_path, RECORDING + f'cp "{bad}" "$OUT/.next" && mv "$OUT/.next" "$0"\n')
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook), "--max-failures", "2"]
    w = Watch(cluster, cache_dir, args, {"OUT": str(tmp_path)})
    watches.append(w)
    wait_for(lambda: runs(tmp_path), 30, "the first run")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    w.proc.wait(30)
    code, _, err = w.finish()
    why = f"{hook}: bad interpreter /nonexistent/sh: No such file or directory"
    assert code == ExitCode.HOOK_FAILED, err
    assert f"kates: hook failed ({why}), 1 in a row; retrying in" in err
    assert err.splitlines()[-1] == f"error: hook failed 2 times in a row (last: {why})"
    assert "Traceback" not in err and "internal error" not in err


# -- nothing outlives kates ------------------------------------------------------------------------------------------

ORPHAN_HOOK = """#!/bin/sh
cat > /dev/null
sleep 300 &
echo "$$ $!" > "$OUT/.pids" && mv "$OUT/.pids" "$OUT/pids"
wait
"""


def test_sigkill_of_kates_kills_the_hooks_group_and_removes_its_directory(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch], short_tmp: Path
) -> None:
    tmp = short_tmp
    hook = write_hook(tmp_path, ORPHAN_HOOK)
    w = Watch(
        cluster, cache_dir, ["-q", f"cm ns={ns}", "--exec", str(hook)], {"OUT": str(tmp_path), "TMPDIR": str(tmp)}
    )
    watches.append(w)
    pids = [int(p) for p in wait_for(lambda: (tmp_path / "pids").exists(), 30, "the hook") and
            (tmp_path / "pids").read_text().split()]  # fmt: skip
    assert not any(gone(p) for p in pids)
    assert [p.name.startswith(f"kates-watch-{w.proc.pid}-") for p in tmp.iterdir()] == [True]
    w.proc.kill()
    w.proc.communicate()
    try:
        wait_for(lambda: all(gone(p) for p in pids), 10, "the hook and its child to die with kates")
    finally:
        for p in pids:
            if not gone(p):
                os.kill(p, signal.SIGKILL)
    wait_for(lambda: not list(tmp.iterdir()), 10, "the private directory to go")


def test_stale_directories_of_dead_watchers_are_removed_at_start(
    kates: Runner, ns: str, tmp_path: Path, short_tmp: Path
) -> None:
    from kates_cli.cli.rundir import start_time

    tmp = short_tmp
    dead = subprocess.Popen(["true"])
    dead.wait()
    me = os.getpid()
    stale = [tmp / f"kates-watch-{dead.pid}-0-abc", tmp / f"kates-watch-{me}-1-reused"]  # gone; pid reused
    live = [tmp / f"kates-watch-{me}-{start_time(me)}-live", tmp / "kates-watch-other"]  # a live watcher's; not ours
    for d in stale + live:  # made by an older kates (no lock file), two minutes ago: their names decide
        d.mkdir(mode=0o700)
        (d / "writes.sock").write_text("")
        os.utime(d, (time.time() - 120, time.time() - 120))
    hook = write_hook(
        tmp_path,
        '#!/bin/sh\ncat > /dev/null\nd=$(dirname "$KATES_DELTAS")\n'
        'stat -c "%a" "$d" "$KATES_DELTAS" "$KATES_WRITE_SOCKET" > "$OUT/modes"\necho "$KATES_DELTAS" > "$OUT/path"\n',
    )
    out = kates(
        "watch", "-q", f"cm ns={ns}", "--exec", str(hook), "--once", env={"OUT": str(tmp_path), "TMPDIR": str(tmp)}
    )
    assert out.code == 0, out
    assert sorted(p.name for p in tmp.iterdir()) == sorted(d.name for d in live)  # and its own is gone
    # snapshot and delta files: 0600 in a 0700 directory (the socket too)
    assert (tmp_path / "modes").read_text().split() == ["700", "600", "600"]


def test_a_deltas_file_that_cannot_be_written_fails_the_run_not_kates(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, short_tmp: Path, watches: list[Watch]
) -> None:
    """A full tmpfs, no descriptors left, or the directory removed under kates (here by the hook itself): the write
    raised out of the loop, `internal error: FileNotFoundError`, exit 1, a half-written file left behind."""
    hook = write_hook(
        tmp_path, '#!/bin/sh\ncat > /dev/null\nrm -rf "$(dirname "$KATES_DELTAS")"\necho run >> "$OUT/runs.log"\n'
    )
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "a"}})
    w = Watch(
        cluster,
        cache_dir,
        ["-q", f"cms=cm ns={ns}", "--exec", str(hook), "--max-failures", "2", "--max-backoff", "100ms"],
        {"TMPDIR": str(short_tmp), "OUT": str(tmp_path)},
    )
    watches.append(w)
    wait_for(lambda: runs(tmp_path), 30, "the first run, which removes the directory")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "b"}})
    wait_for(lambda: w.proc.poll() is not None, 60, "kates to give up after two failed runs")
    code, _, err = w.finish()
    assert code == ExitCode.HOOK_FAILED, err
    assert err.splitlines()[-1] == (
        "error: hook failed 2 times in a row (last: cannot write the deltas file: No such file or directory)"
    ), err


def test_a_deltas_file_is_removed_after_its_run(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    hook = write_hook(tmp_path, RECORDING + 'echo "$KATES_DELTAS" >> "$OUT/paths"\n')
    w = Watch(cluster, cache_dir, ["-q", f"cm ns={ns}", "--exec", str(hook)], {"OUT": str(tmp_path)})
    watches.append(w)
    path = Path(wait_for(lambda: (tmp_path / "paths").exists() and (tmp_path / "paths").read_text().split(), 30)[0])
    wait_for(lambda: not path.exists(), 10, "the deltas file of the finished run to go")
    assert path.parent.exists()  # the watch still runs
    assert w.finish()[0] == ExitCode.INTERRUPTED
    assert not path.parent.exists()


# -- a slow hook under a storm ---------------------------------------------------------------------------------------

STORM_HOOK = """#!/bin/sh
mkdir "$OUT/running" 2>/dev/null || echo overlap >> "$OUT/overlaps"
cat > "$OUT/.snap" && mv "$OUT/.snap" "$OUT/last.json"
echo "run $KATES_RUN" >> "$OUT/runs.log"
sleep 1
rmdir "$OUT/running"
"""


def test_a_slow_hook_under_a_storm_never_overlaps_and_ends_on_the_servers_state(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Watch]
) -> None:
    count, updates = 10, 300
    base = f"/api/v1/namespaces/{ns}/configmaps"
    cluster.bulk("POST", [(base, {"metadata": {"name": f"s{i}"}, "data": {"v": "0"}}) for i in range(count)])
    hook = write_hook(tmp_path, STORM_HOOK)
    w = Watch(cluster, cache_dir, ["-q", f"cms=cm ns={ns}", "--exec", str(hook)], {"OUT": str(tmp_path)})
    watches.append(w)
    wait_for(lambda: runs(tmp_path), 30, "the first run")
    started = time.monotonic()
    cluster.bulk(
        "PATCH",
        [(f"{base}/s{i % count}", {"data": {"v": str(i + 1)}}) for i in range(updates)],
        threads=2,
        content_type="application/merge-patch+json",
    )
    storm = time.monotonic() - started
    server = server_state(cluster, base)

    def final() -> bool:
        try:
            snap = json.loads((tmp_path / "last.json").read_text())
        except (OSError, ValueError):
            return False
        return names_rvs(snap["cms"]) == server and not (tmp_path / "running").exists()

    wait_for(final, 60, "a run with the server's final state")
    elapsed = time.monotonic() - started
    snap = json.loads((tmp_path / "last.json").read_text())
    counts = faults(snap["cms"], server)
    hook_runs = len(runs(tmp_path))
    assert not (tmp_path / "overlaps").exists(), "two runs at once"
    assert counts == {"lost": 0, "duplicated": 0, "stale": 0}
    assert hook_runs <= 2 + elapsed / 1.0 + 1  # one run per second at most: the storm coalesced
    assert w.finish()[0] == ExitCode.INTERRUPTED
    figures.record(
        "fault matrix",
        f"slow hook (1 s per run) under a storm of {updates} updates",
        **counts,
        hook_runs=hook_runs,
        overlapping_runs=0,
        coalescing=f"{updates}:{hook_runs - 1}",
        storm_seconds=round(storm, 1),
        seconds=round(elapsed, 1),
    )
