"""The reaper's fence (cli/reaper.py, `Reaper.fence`): a hook's process group is SIGKILLed once the last "until"
deadline passes, even while kates is frozen by SIGSTOP; a newer "until" postpones it, "until -" clears it, and a
group announced after the deadline is killed at once (issue 12, fencing)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kates_cli.cli import rundir
from kates_cli.cli.hook import Reaper
from tests import figures
from tests.conftest import wait_for

ROOT = Path(__file__).resolve().parents[2]


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return None


def group_alive(pgid: int) -> bool:
    """Any process of group `pgid` that is not a zombie (a killed group's leader stays a zombie until its parent,
    perhaps frozen, reaps it)."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[2]) == pgid and fields[0] != "Z":
                return True
    return False


def members(pgid: int) -> int:
    return sum(
        1
        for e in os.listdir("/proc")
        if e.isdigit() and (f := _stat(int(e))) is not None and int(f[2]) == pgid and f[0] != "Z"
    )


def hook_group() -> subprocess.Popen[bytes]:
    """A hook's group as kates starts one: a shell in its own session with a `sleep` child."""
    proc = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300; wait"], start_new_session=True)
    wait_for(lambda: members(proc.pid) == 3, 10, "the hook's shell and its two sleeps")
    return proc


def end(group: subprocess.Popen[bytes]) -> None:
    """Kill the whole group (its sleeps too), then reap its leader."""
    try:
        os.killpg(group.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    group.wait()


@pytest.fixture
def reaper(tmp_path: Path) -> Iterator[Reaper]:
    r = Reaper(rundir.RunDir(str(tmp_path)).path, fencing=True)
    assert r.proc is not None
    yield r
    r.close()


def died_at(pgid: int, timeout: float) -> float:
    """The monotonic time at which group `pgid` was first seen dead (polled every 10 ms)."""
    wait_for(lambda: not group_alive(pgid), timeout, f"group {pgid} killed", interval=0.01)
    return time.monotonic()


PARENT = """
import os, sys, subprocess, time
from kates_cli.cli.hook import Reaper
reaper = Reaper(sys.argv[1], fencing=True)
hook = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300; wait"], start_new_session=True)
reaper.started(hook.pid)
until = time.monotonic() + float(sys.argv[2])
reaper.fence(until)
print(hook.pid, until, reaper.proc.pid, flush=True)
time.sleep(600)
"""


def test_the_reaper_kills_the_hook_of_a_frozen_kates_at_the_deadline_not_before(tmp_path: Path) -> None:
    d = rundir.RunDir(str(tmp_path))
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, d.path, "1.5"],
        stdout=subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    try:
        assert parent.stdout is not None
        pgid_s, until_s, reaper_pid = parent.stdout.readline().split()
        pgid, until = int(pgid_s), float(until_s)
        wait_for(lambda: members(pgid) == 3, 10, "the hook's shell and its two sleeps")
        os.kill(parent.pid, signal.SIGSTOP)  # kates frozen: it can neither renew nor kill
        wait_for(lambda: (_stat(parent.pid) or ["?"])[0] == "T", 5, "the parent stopped")
        assert time.monotonic() < until, "the set-up took longer than the fence deadline"
        wait_for(lambda: time.monotonic() >= until - 0.1, 5, "just before the deadline", interval=0.01)
        alive = group_alive(pgid)
        if time.monotonic() < until:  # the look was wholly before the deadline (else, on a busy machine: no verdict)
            assert alive, "the hook was killed before the deadline"
        dead = died_at(pgid, 10)
        assert until <= dead <= until + 1.0, f"killed {dead - until:+.3f}s after the deadline"
        figures.record("fencing", "reaper: hook group killed after the deadline, kates frozen", seconds=dead - until)
        assert (_stat(parent.pid) or ["?"])[0] == "T"  # still frozen: the reaper did it alone
        assert _stat(int(reaper_pid)) is not None  # and the reaper lives on, waiting for kates
    finally:
        parent.kill()  # SIGKILL works on a stopped process
        parent.wait()
    wait_for(lambda: not os.path.exists(d.path), 10, "the reaper removing the directory after kates died")


def test_a_newer_until_postpones_the_kill_and_until_dash_clears_it(reaper: Reaper) -> None:
    group = hook_group()
    try:
        reaper.started(group.pid)
        first = time.monotonic() + 0.6
        reaper.fence(first)
        wait_for(lambda: time.monotonic() >= first - 0.3, 5, "close to the first deadline", interval=0.01)
        later = time.monotonic() + 0.9  # a renewal in time
        reaper.fence(later)
        dead = died_at(group.pid, 10)
        assert dead >= later, f"killed {later - dead:.3f}s before the newer deadline"
        group.wait(5)
        assert group.returncode == -signal.SIGKILL

        cleared = hook_group()
        try:
            deadline = time.monotonic() + 0.3
            reaper.fence(deadline)  # a deadline in the future: the next group is not killed on arrival...
            reaper.started(cleared.pid)
            reaper.fence(None)  # ...and cleared before it comes
            wait_for(lambda: time.monotonic() > deadline + 0.5, 5, "well past the cleared deadline")
            reaper.close()  # the reaper has read every line once it exits
            assert cleared.poll() is None and group_alive(cleared.pid)
        finally:
            end(cleared)
    finally:
        end(group)


def test_a_group_announced_after_the_deadline_is_killed_at_once_until_a_newer_until(reaper: Reaper) -> None:
    reaper.fence(time.monotonic() - 1.0)  # expired: a frozen leader that wakes up must not start a hook unfenced
    late = hook_group()
    try:
        announced = time.monotonic()
        reaper.started(late.pid)
        dead = died_at(late.pid, 5)
        assert dead - announced < 1.0
        late.wait(5)
        assert late.returncode == -signal.SIGKILL
        reaper.ended(late.pid)
    finally:
        end(late)
    # leadership regained: a deadline in the future, and new runs work normally
    reaper.fence(time.monotonic() + 60)
    fresh = hook_group()
    try:
        reaper.started(fresh.pid)
        reaper.close()  # every line read and acted on
        assert fresh.poll() is None and group_alive(fresh.pid)
    finally:
        end(fresh)


def test_bad_until_lines_are_ignored(tmp_path: Path) -> None:
    from kates_cli.cli import reaper as reaper_module

    state = reaper_module._State()
    for line in (b"until", b"until x", b"until nan", b"until inf", b"until 1e999", b"untilt 5"):
        assert state.line(line)
        assert state.until is None, line
    assert state.line(b"until 12.5") and state.until == 12.5
    assert state.line(b"until -") and state.until is None
    assert not state.line(b"exit")
