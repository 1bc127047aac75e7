"""`HookRunner.fence` (cli/hook.py): when leadership ends, the running hook gets SIGTERM at once and SIGKILL by the
kill deadline (or after the grace period, when that is sooner); the run says `fenced`; and no run starts after a
fence until `unfence` (issue 12, fencing)."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from kates_cli.cli.hook import HookRunner, RunResult
from tests import figures
from tests.conftest import wait_for

# traps TERM (notes it, goes on): only SIGKILL ends it
STUBBORN = """#!/bin/sh
trap 'echo term >> "$OUT/signals"' TERM
echo started > "$OUT/started"
while true; do sleep 0.05; done
"""


def stubborn(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    hook = tmp_path / "hook.sh"
    hook.write_text(STUBBORN)
    hook.chmod(0o755)
    return hook, dict(os.environ, OUT=str(tmp_path))


def start(runner: HookRunner, env: dict[str, str], tmp_path: Path) -> tuple[threading.Thread, list[RunResult]]:
    results: list[RunResult] = []
    t = threading.Thread(target=lambda: results.append(runner.run(b"{}", env)), daemon=True)
    t.start()
    wait_for(lambda: (tmp_path / "started").exists(), 10, "the hook started")
    return t, results


def test_fence_sends_sigterm_now_and_sigkill_at_the_kill_deadline(tmp_path: Path) -> None:
    hook, env = stubborn(tmp_path)
    runner = HookRunner([str(hook)], grace=30)
    t, results = start(runner, env, tmp_path)
    kill_at = time.monotonic() + 0.8
    runner.fence(kill_at)
    wait_for(lambda: (tmp_path / "signals").exists(), 5, "the hook's TERM trap")
    running = t.is_alive()
    if time.monotonic() < kill_at:  # (a machine so busy that the trap ran after kill_at gives no verdict here)
        assert running, "killed before the kill deadline"
    t.join(10)
    ended = time.monotonic()
    (result,) = results
    assert result.fenced and result.started and not result.ok and not result.timed_out
    assert result.code == 128 + signal.SIGKILL
    assert kill_at <= ended < kill_at + 1.0, f"SIGKILL {ended - kill_at:+.3f}s after the kill deadline"
    figures.record("fencing", "HookRunner.fence: run ended after kill_at (hook traps TERM)", seconds=ended - kill_at)
    assert (tmp_path / "signals").read_text() == "term\n"


def test_fence_kills_after_the_grace_period_when_that_is_sooner(tmp_path: Path) -> None:
    hook, env = stubborn(tmp_path)
    runner = HookRunner([str(hook)], grace=0.3)
    t, results = start(runner, env, tmp_path)
    fenced = time.monotonic()
    runner.fence(fenced + 60)
    t.join(10)
    assert not t.is_alive() and results[0].fenced and results[0].code == 128 + signal.SIGKILL
    assert 0.3 <= time.monotonic() - fenced < 1.5


def test_a_hook_that_obeys_sigterm_ends_fenced(tmp_path: Path) -> None:
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\necho started > "$OUT/started"\nexec sleep 300\n')
    hook.chmod(0o755)
    runner = HookRunner([str(hook)], grace=30)
    t, results = start(runner, dict(os.environ, OUT=str(tmp_path)), tmp_path)
    runner.fence(time.monotonic() + 30)
    t.join(10)
    assert (results[0].code, results[0].fenced) == (128 + signal.SIGTERM, True)


def test_no_run_starts_after_a_fence_until_unfence(tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\necho x >> {ran}\n")
    hook.chmod(0o755)
    runner = HookRunner([str(hook)])
    runner.fence(time.monotonic() + 10)  # no run going: a no-op for processes, but runs are refused from now on
    assert runner.fenced
    refused = runner.run(b"{}", dict(os.environ))
    assert (refused.started, refused.fenced, refused.ok) == (False, True, False)
    assert not ran.exists()
    runner.unfence()
    result = runner.run(b"{}", dict(os.environ))
    assert result.ok and not result.fenced and ran.read_text() == "x\n"


def test_a_run_racing_a_fence_is_refused_or_fenced_never_left_running(tmp_path: Path) -> None:
    """The watcher's loop starts a run while leadership ends, many times: every run is either refused or killed."""
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\nexec sleep 300\n")
    hook.chmod(0o755)
    runner = HookRunner([str(hook)], grace=0.2)
    for _ in range(20):
        runner.unfence()
        results: list[RunResult] = []
        t = threading.Thread(target=lambda r=results: r.append(runner.run(b"", dict(os.environ))), daemon=True)
        t.start()
        runner.fence(time.monotonic() + 0.2)
        t.join(10)
        assert not t.is_alive(), "a run started after fence() and was left running"
        assert results[0].fenced


def test_a_run_the_reaper_kills_at_its_deadline_is_fenced_and_none_starts_after_it(tmp_path: Path) -> None:
    """kates frozen past the kill deadline (here: simply never calling fence): the reaper kills the hook; the run
    says fenced, and no run starts until a renewal gives the reaper a deadline in the future."""
    from kates_cli.cli import rundir
    from kates_cli.cli.hook import Reaper

    hook, env = stubborn(tmp_path)
    reaper = Reaper(rundir.RunDir(str(tmp_path)).path, fencing=True)
    try:
        runner = HookRunner([str(hook)], grace=30, reaper=reaper)
        reaper.fence(time.monotonic() + 30)
        t, results = start(runner, env, tmp_path)
        reaper.fence(time.monotonic() + 0.3)  # the last renewal's deadline; then kates "freezes"
        t.join(10)
        assert not t.is_alive()
        (result,) = results
        assert (result.code, result.fenced, result.started, result.ok) == (128 + signal.SIGKILL, True, True, False)
        assert not (tmp_path / "signals").exists()  # the reaper's kill, not the runner's SIGTERM
        refused = runner.run(b"{}", env)
        assert (refused.started, refused.fenced) == (False, True)
        reaper.fence(time.monotonic() + 30)  # leadership renewed
        (tmp_path / "started").unlink()
        t, results = start(runner, env, tmp_path)
        runner.fence(time.monotonic())
        t.join(10)
        assert results[0].fenced and results[0].started
    finally:
        reaper.close()


def test_a_stop_signal_that_came_before_the_hook_was_known_still_reaches_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kates's SIGTERM handler forwards the signal to `runner.proc`; a signal that lands between the hook's start and
    that assignment found no process (one CI run: the hook was SIGKILLed at the end of the grace period, its TERM trap
    never ran). The run loop forwards what the handler could not."""
    hook = tmp_path / "hook.sh"
    hook.write_text(
        '#!/bin/sh\ntrap \'echo term >> "$OUT/signals"; exit 0\' TERM\necho started > "$OUT/started"\n'
        "while true; do sleep 0.05; done\n"
    )
    hook.chmod(0o755)
    runner = HookRunner([str(hook)], grace=30)
    popen = subprocess.Popen

    def handler_lands_now(*args: Any, **kwargs: Any) -> Any:
        runner.stop_signal = signal.SIGTERM  # what the handler leaves when `runner.proc` is not yet set
        return popen(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", handler_lands_now)
    started = time.monotonic()
    result = runner.run(b"{}", dict(os.environ, OUT=str(tmp_path)))
    assert (tmp_path / "signals").read_text() == "term\n"
    assert result.code == 0 and time.monotonic() - started < 20, result  # TERM, not the grace period's SIGKILL


def test_no_run_starts_once_kates_was_asked_to_stop(tmp_path: Path) -> None:
    """A SIGTERM that came while the watcher waited for changes: the next run was started, then signalled 0.1 s
    later, its partial work done and counted as a failure."""
    runner = HookRunner(["/bin/sh", "-c", f"touch {tmp_path}/ran"])
    runner.signal_stop(signal.SIGTERM)
    result = runner.run(b"{}", dict(os.environ))
    assert (result.started, result.stopped) == (False, True) and not (tmp_path / "ran").exists()


def test_on_start_is_called_only_for_a_run_whose_process_exists(tmp_path: Path) -> None:
    """The watcher announces run.started from it: a run the runner refuses (fenced, or kates stopping) was announced
    and counted in the metrics as a run, and the next real run reused its number."""
    calls: list[str] = []
    runner = HookRunner(["/bin/sh", "-c", "cat > /dev/null"])
    assert runner.run(b"{}", dict(os.environ), on_start=lambda: calls.append("ran")).ok and calls == ["ran"]
    runner.fence(time.monotonic())
    refused = runner.run(b"{}", dict(os.environ), on_start=lambda: calls.append("refused"))
    assert not refused.started and calls == ["ran"]
    missing = HookRunner([str(tmp_path / "nonexistent")])
    failed = missing.run(b"{}", dict(os.environ), on_start=lambda: calls.append("missing"))
    assert failed.started and failed.error and calls == ["ran"]  # could not be executed: the caller announces it
