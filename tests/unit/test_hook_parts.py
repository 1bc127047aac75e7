"""The small parts of a watch's hook runs: the debounce and its bound, the private directory (modes, stale
directories of dead watchers), the reaper, a bad interpreter line."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from kates_cli.cli import rundir
from kates_cli.cli.hook import HookRunner, Reaper, bad_interpreter, check_runnable
from kates_cli.cli.schedule import Debounce
from kates_cli.errors import UsageError
from tests.conftest import wait_for

# -- the debounce ----------------------------------------------------------------------------------------------------


def test_debounce_waits_for_quiet_but_no_longer_than_its_bound() -> None:
    d = Debounce.of(0.5, None)
    assert d.max_wait == 2.0  # four debounces by default
    assert d.due(first_change=10.0, last_change=10.0) == 10.5
    assert d.due(first_change=10.0, last_change=11.2) == 11.7
    # a change every 0.3 s: quiet never comes, the bound does
    assert d.due(first_change=10.0, last_change=11.8) == 12.0
    assert d.due(first_change=10.0, last_change=30.0) == 12.0
    assert Debounce.of(0.5, 3.0).due(10.0, 12.9) == 13.0
    assert Debounce().due(10.0, 10.0) == 10.0  # no debounce: at once


# -- the private directory -------------------------------------------------------------------------------------------


def test_files_are_0600_in_a_0700_directory_and_removed(tmp_path: Path) -> None:
    d = rundir.RunDir(str(tmp_path))
    assert stat.S_IMODE(os.stat(d.path).st_mode) == 0o700
    assert Path(d.path).name.startswith(f"kates-watch-{os.getpid()}-{rundir.start_time(os.getpid())}-")
    path = d.write("deltas-0.json", b"[]")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and Path(path).read_bytes() == b"[]"
    with pytest.raises(FileExistsError):  # never through an existing file (or a planted link)
        d.write("deltas-0.json", b"[]")
    d.remove("deltas-0.json")
    assert not os.path.exists(path)
    d.cleanup()
    assert not os.path.exists(d.path)


def test_only_directories_of_dead_watchers_are_removed(tmp_path: Path) -> None:
    """Without a lock file (an older kates's), the name decides, once the directory is a minute old."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    me = os.getpid()
    gone = [f"kates-watch-{dead.pid}-0-abc", f"kates-watch-{me}-1-reused"]
    kept = [f"kates-watch-{me}-{rundir.start_time(me)}-live", "kates-watch-x", "other"]
    for name in gone + kept:
        (tmp_path / name).mkdir()
        os.utime(tmp_path / name, (time.time() - 120, time.time() - 120))
    (tmp_path / f"kates-watch-{dead.pid}-0-young").mkdir()  # a moment old: its lock may be on its way
    kept.append(f"kates-watch-{dead.pid}-0-young")
    (tmp_path / f"kates-watch-{dead.pid}-0-file").write_text("")  # not a directory: left alone
    kept.append(f"kates-watch-{dead.pid}-0-file")
    removed = rundir._remove_stale_in(str(tmp_path))
    assert sorted(Path(p).name for p in removed) == sorted(gone)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)


def test_a_held_lock_keeps_a_directory_whatever_its_name_says(tmp_path: Path) -> None:
    """A watcher in another PID namespace (a container of the same pod sharing /tmp): its pid is absent here, or
    another process's. The pid check removed its live directory, socket included."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    elsewhere = tmp_path / f"kates-watch-{dead.pid}-0-elsewhere"  # a live watcher whose pid means nothing here
    elsewhere.mkdir()
    (elsewhere / rundir.LOCK).write_text("")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl,os,sys,time; fd=os.open(sys.argv[1], os.O_RDONLY); "
         "fcntl.flock(fd, fcntl.LOCK_EX); print('held', flush=True); time.sleep(60)", str(elsewhere / rundir.LOCK)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        me = os.getpid()
        exited = tmp_path / f"kates-watch-{me}-{rundir.start_time(me)}-exited"  # this pid is alive: the lock is free
        exited.mkdir()
        (exited / rundir.LOCK).write_text("")
        young = tmp_path / f"kates-watch-{me}-{rundir.start_time(me)}-young"  # free too, but a moment old: kept
        young.mkdir()
        (young / rundir.LOCK).write_text("")
        os.utime(exited, (time.time() - 120, time.time() - 120))
        removed = rundir._remove_stale_in(str(tmp_path))
        assert [Path(p).name for p in removed] == [exited.name]
        assert elsewhere.is_dir()
    finally:
        holder.kill()
        holder.wait()
    os.utime(elsewhere, (time.time() - 120, time.time() - 120))
    assert [Path(p).name for p in rundir._remove_stale_in(str(tmp_path))] == [elsewhere.name]  # its holder is gone
    assert young.is_dir()


def test_a_watchers_own_directory_is_locked_while_it_lives(tmp_path: Path) -> None:
    d = rundir.RunDir(str(tmp_path))
    assert rundir._remove_stale_in(str(tmp_path)) == [] and os.path.isdir(d.path)
    d.cleanup()
    assert not os.path.exists(d.path)


def test_a_temp_directory_too_long_for_a_socket_falls_back_to_tmp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long = tmp_path / ("x" * 90)
    long.mkdir()
    monkeypatch.setenv("TMPDIR", str(long))
    monkeypatch.setattr("tempfile.tempdir", None)  # what tempfile has cached (pytest asked it) is not the answer
    assert rundir.parent_dir() == "/tmp"
    short = Path(tempfile.mkdtemp(prefix="k", dir="/tmp"))
    try:
        monkeypatch.setenv("TMPDIR", str(short))
        assert rundir.parent_dir() == str(short)
        monkeypatch.setattr("tempfile.tempdir", str(long / "set"))  # set by the program: tempfile's answer, and ours
        assert rundir.temp_dir() == tempfile.gettempdir() == str(long / "set")
    finally:
        short.rmdir()


@pytest.mark.parametrize("setting", ["unset", "writable", "missing", "a file"])
def test_the_temp_directory_is_the_one_tempfile_picks(
    setting: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TMPDIR", "TEMP", "TMP"):
        monkeypatch.delenv(name, raising=False)
    target = tmp_path / "t"
    if setting == "writable":
        target.mkdir()
    elif setting == "a file":
        target.write_text("")
    if setting != "unset":
        monkeypatch.setenv("TMPDIR", str(target))
    monkeypatch.setattr("tempfile.tempdir", None)  # tempfile's cached answer, asked afresh
    assert rundir.temp_dir() == tempfile.gettempdir()


def test_a_directory_is_removed_with_its_files_socket_and_links_but_not_their_targets(tmp_path: Path) -> None:
    d = rundir.RunDir()  # in the temp directory: pytest's is too deep for a socket's path
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "kept").write_text("x")
    d.write("deltas-0.json", b"[]")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(os.path.join(d.path, "writes.sock"))
    os.symlink(outside, os.path.join(d.path, "link"))
    d.cleanup()
    assert not os.path.exists(d.path) and (outside / "kept").read_text() == "x"
    nested = rundir.RunDir(str(tmp_path))  # never made by kates: a directory inside goes to shutil.rmtree
    os.makedirs(os.path.join(nested.path, "a", "b"))
    nested.cleanup()
    assert not os.path.exists(nested.path)


def test_a_link_in_place_of_the_directory_is_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "kept").write_text("x")
    link = tmp_path / "kates-watch-1-0-abc"
    link.symlink_to(victim)
    rundir._remove(str(link))
    assert (victim / "kept").read_text() == "x" and link.is_symlink()


def test_run_directories_get_fresh_names(tmp_path: Path) -> None:
    paths = {rundir.RunDir(str(tmp_path)).path for _ in range(50)}
    assert len(paths) == 50 and all(len(Path(p).name.split("-")) == 5 for p in paths)


# -- the reaper and a hook that cannot be executed -------------------------------------------------------------------


BOTH_REAPERS = pytest.mark.parametrize("fencing", [False, True], ids=["reaper.sh", "reaper.py"])


def _groups(n: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen(["sleep", "300"], start_new_session=True) for _ in range(n)]


@BOTH_REAPERS
def test_the_reaper_kills_announced_groups_and_removes_the_directory_when_kates_dies(
    tmp_path: Path, fencing: bool
) -> None:
    d = rundir.RunDir(str(tmp_path))
    reaper = Reaper(d.path, fencing=fencing)
    group = subprocess.Popen(["sh", "-c", "sleep 300 & sleep 300"], start_new_session=True)
    assert reaper.proc is not None
    assert reaper.proc.args[-2].endswith("reaper.py" if fencing else "reaper.sh")
    reaper.started(group.pid)
    os.kill(reaper.proc.pid, 0)
    # what a SIGKILL of kates does to the reaper: its input ends without "exit"
    assert reaper._stdin is not None
    reaper._stdin.close()
    reaper.proc.wait(10)
    group.wait(10)
    assert group.returncode == -signal.SIGKILL
    assert not os.path.exists(d.path)


@BOTH_REAPERS
def test_a_clean_close_leaves_groups_and_directory_alone(tmp_path: Path, fencing: bool) -> None:
    d = rundir.RunDir(str(tmp_path))
    reaper = Reaper(d.path, fencing=fencing)
    (group,) = _groups(1)
    try:
        reaper.started(group.pid)
        reaper.ended(group.pid)
        reaper.started(group.pid)
        reaper.close()
        assert reaper.proc is not None and reaper.proc.returncode == 0
        # the reaper has exited (close waits for it): any kill it made has landed
        assert group.poll() is None and os.path.exists(d.path)
    finally:
        group.kill()
        group.wait()


@BOTH_REAPERS
def test_at_kates_death_only_the_groups_still_listed_are_killed(tmp_path: Path, fencing: bool) -> None:
    """Announced twice then ended once: no longer listed. Ended: left alone. Junk and "until" lines change nothing.
    Never announced: left alone. A group between two others, ended: the other two are still killed."""
    d = rundir.RunDir(str(tmp_path))
    reaper = Reaper(d.path, fencing=fencing)
    twice, ended, middle, first, last, stranger = groups = _groups(6)
    try:
        assert reaper.proc is not None and reaper._stdin is not None
        for g in (first, twice, twice, middle, ended, last):
            reaper.started(g.pid)
        for g in (twice, ended, middle):
            reaper.ended(g.pid)
        # never "+0" or "+1" here (these reapers kill for real): test_both_reapers_list_exactly_the_same_groups has them
        junk = ["", "+", "-", "+12x", f"-{first.pid}x", "exit now", " * ", "-*", "until -", "garbage"]
        junk += [f"-0{first.pid}", f"-{first.pid} {last.pid}", f"+-{stranger.pid}", f"+0{stranger.pid}"]
        reaper._stdin.write("".join(f"{line}\n" for line in junk).encode())
        reaper._stdin.close()  # kates dies
        reaper.proc.wait(10)
        for g in (first, last):
            assert g.wait(10) == -signal.SIGKILL
        # the reaper has exited, so every kill it made was sent: a SIGTERM now ends only a group it spared
        for g in (twice, ended, middle, stranger):
            g.terminate()
            assert g.wait(10) == -signal.SIGTERM, g.pid
        assert not os.path.exists(d.path)
    finally:
        for g in groups:
            g.kill()
            g.wait()


LINES = [
    *("+2", "+5", "+10", "+2147483647", "+007", "+0", "+1", "+-5", "+5x", "+5 6", "+ 9 ", "+2147483648"),
    *("+9999999999", "+12345678901", "+\u0663", "+", "+0x10", "+3", "+3", "-3", "+4", "-004", "-4 5", "-5", "+5"),
    *(" +6 ", "+7\t", "-", "-x", "until 5", "+8", "-*", "-[0-9]", "-?", "+9\r", "+11\x0b", "exit\r"),
]


def _shell_kills(lines: list[str], directory: str) -> list[int]:
    """The groups reaper.sh would SIGKILL at kates's death after `lines`: its `kill` replaced by a function that
    prints the group (a function is found before a regular builtin), so nothing is signalled."""
    from kates_cli.cli import hook

    script = Path(hook.__file__).with_name("reaper.sh")
    proc = subprocess.run(
        [hook.SHELL, "-c", 'kill() { printf "%s\\n" "$4"; }; s=$1; shift; . "$s"', "sh", str(script), directory],
        input="".join(f"{line}\n" for line in lines).encode(),
        capture_output=True,
        timeout=10,
    )
    assert proc.returncode == 0, proc
    return sorted(-int(g) for g in proc.stdout.decode().split())


def test_both_reapers_list_exactly_the_same_groups(tmp_path: Path) -> None:
    from kates_cli.cli import reaper

    state = reaper._State()
    for line in LINES:
        assert state.line(line.encode())
    assert sorted(state.groups) == [2, 4, 5, 6, 7, 8, 10, 2147483647]
    assert _shell_kills(LINES, str(tmp_path)) == sorted(state.groups)


def test_a_group_is_a_plain_pid_from_2(tmp_path: Path) -> None:
    from kates_cli.cli.reaper import _group

    assert [_group(t) for t in (b"2", b"42", b"4194304", b"2147483647")] == [2, 42, 4194304, 2147483647]
    for bad in (b"", b"0", b"1", b"01", b"007", b"-5", b"+5", b"5 ", b"2147483648", b"12345678901", b"9" * 5000):
        assert _group(bad) is None, bad
    assert _group("\u0663".encode()) is None


def test_the_shell_reaper_runs_in_a_fixed_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """kates's environment does not reach it: a bash /bin/sh would import an exported `kill` function, and
    SHELLOPTS=errexit would end the kill loop at the first group already gone."""
    monkeypatch.setenv("BASH_FUNC_kill%%", "() { :; }")
    monkeypatch.setenv("SHELLOPTS", "errexit")
    monkeypatch.setenv("PATH", "/opt/kates-test/bin")
    reaper = Reaper(rundir.RunDir(str(tmp_path)).path, fencing=False)
    try:
        assert reaper.proc is not None and reaper.proc.args[0] == "/bin/sh"
        with open(f"/proc/{reaper.proc.pid}/environ", "rb") as fh:
            environ = fh.read()
        assert sorted(environ.split(b"\0")[:-1]) == [b"LC_ALL=C", b"PATH=/usr/bin:/bin:/opt/kates-test/bin"]
    finally:
        reaper.close()


@pytest.mark.parametrize("shell", ["missing", "not-a-program"])
def test_without_a_shell_the_python_reaper_does_the_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shell: str
) -> None:
    """No /bin/sh, or one that cannot be executed (Popen's OSError): reaper.py instead."""
    from kates_cli.cli import hook

    sh = tmp_path / shell
    if shell == "not-a-program":
        sh.write_bytes(b"\x7fELF not really\n")
        sh.chmod(0o755)
    monkeypatch.setattr(hook, "SHELL", str(sh))
    d = rundir.RunDir(str(tmp_path))
    reaper = Reaper(d.path, fencing=False)
    (group,) = _groups(1)
    try:
        assert reaper.proc is not None and reaper.proc.args[-2].endswith("reaper.py")
        reaper.started(group.pid)
        assert reaper._stdin is not None
        reaper._stdin.close()
        assert group.wait(10) == -signal.SIGKILL
        assert reaper.proc.wait(10) == 0 and not os.path.exists(d.path)
    finally:
        group.kill()
        group.wait()


def test_only_a_kates_watch_directory_is_removed_by_the_shell_reaper(tmp_path: Path) -> None:
    other = tmp_path / "not-a-watch"
    other.mkdir()
    reaper = Reaper(str(other), fencing=False)
    assert reaper.proc is not None and reaper._stdin is not None
    reaper._stdin.close()
    assert reaper.proc.wait(10) == 0
    assert other.is_dir()


def test_the_shell_reaper_ignores_the_signals_a_terminal_sends(tmp_path: Path) -> None:
    d = rundir.RunDir(str(tmp_path))
    reaper = Reaper(d.path, fencing=False)
    (group,) = _groups(1)
    try:
        assert reaper.proc is not None and reaper._stdin is not None
        reaper.started(group.pid)
        terminal = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE)
        wait_for(lambda: _ignored(reaper.proc.pid) >= set(terminal), 10, "the reaper's traps set")
        for s in terminal:
            os.kill(reaper.proc.pid, s)
        reaper._stdin.close()  # kates dies: a reaper the signals had ended would leave the group alive
        assert group.wait(10) == -signal.SIGKILL
        assert reaper.proc.wait(10) == 0
    finally:
        group.kill()
        group.wait()


def _ignored(pid: int) -> set[int]:
    """The signals process `pid` ignores (its SigIgn mask)."""
    with open(f"/proc/{pid}/status") as fh:
        mask = int(next(line for line in fh if line.startswith("SigIgn:")).split()[1], 16)
    return {n for n in range(1, 65) if mask >> (n - 1) & 1}


def test_a_reaper_without_fencing_refuses_a_deadline(tmp_path: Path) -> None:
    reaper = Reaper(rundir.RunDir(str(tmp_path)).path, fencing=False)
    try:
        with pytest.raises(ValueError, match="without fencing"):
            reaper.fence(time.monotonic() + 5)
        assert reaper.until is None and not reaper.expired()
    finally:
        reaper.close()


def test_a_bad_interpreter_is_named(tmp_path: Path) -> None:
    hook = tmp_path / "x.sh"
    hook.write_text("#! /nonexistent/sh -e\nexit 0\n")
    hook.chmod(0o755)
    assert bad_interpreter(str(hook)) == "bad interpreter /nonexistent/sh: No such file or directory"
    with pytest.raises(UsageError, match="bad interpreter /nonexistent/sh: No such file or directory"):
        check_runnable(str(hook))
    result = HookRunner([str(hook)]).run(b"{}", dict(os.environ))
    assert (result.ok, result.code) == (False, 127)
    assert result.error == f"{hook}: bad interpreter /nonexistent/sh: No such file or directory"
    hook.write_text("#!/bin/sh\nexit 0\n")
    assert check_runnable(str(hook)) == str(hook) and HookRunner([str(hook)]).run(b"{}", dict(os.environ)).ok


def test_a_hook_that_exits_0_on_the_timeouts_sigterm_did_not_succeed(tmp_path: Path) -> None:
    hook = tmp_path / "x.sh"
    hook.write_text("#!/bin/sh\ntrap 'exit 0' TERM\nwhile true; do sleep 0.05; done\n")
    hook.chmod(0o755)
    result = HookRunner([str(hook)], timeout=0.3, grace=5).run(b"", dict(os.environ))
    assert (result.code, result.timed_out, result.ok) == (0, True, False)


def test_the_reaper_runs_without_kates_on_its_path(tmp_path: Path) -> None:
    from kates_cli.cli import reaper

    proc = subprocess.run([sys.executable, "-S", "-I", reaper.__file__, str(tmp_path)], input=b"exit\n", timeout=10)
    assert proc.returncode == 0 and tmp_path.exists()


def test_a_hook_the_kernel_cannot_execute_is_a_failed_run_naming_why(tmp_path: Path) -> None:
    hook = tmp_path / "x"
    hook.write_bytes(b"\x7fELF garbage")
    hook.chmod(0o755)
    result = HookRunner([str(hook)]).run(b"{}", dict(os.environ))
    assert (result.ok, result.error) == (False, f"{hook}: Exec format error")


# -- the end of a hook -----------------------------------------------------------------------------------------------


def test_the_end_of_a_hook_is_awaited_on_its_pidfd_not_in_a_sleep_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Popen.wait(timeout) sleeps in a loop whose sleeps double up to 50 ms, so a hook's end was seen up to 50 ms
    late. On Linux 5.3+ (this machine) the run waits on the hook's pidfd: no sleep at all, so time.sleep may fail."""
    import time

    from kates_cli.cli import hook

    def no_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s")

    proc = subprocess.Popen(["sleep", "0.3"])
    pidfd = hook._pidfd(proc.pid)
    assert pidfd is not None, "no pidfd_open on this machine"
    try:
        monkeypatch.setattr(time, "sleep", no_sleep)
        assert not hook._ended(proc, pidfd, 0.01)  # still running: the wait times out, without a sleep
        assert hook._ended(proc, pidfd, 60)
        assert proc.returncode == 0
    finally:
        os.close(pidfd)
    result = HookRunner(["sh", "-c", "sleep 0.1; exit 3"]).run(b"", dict(os.environ))
    assert result.code == 3


def test_without_a_pidfd_the_end_is_still_awaited() -> None:
    """Where the system has no pidfd (not Linux, or older than 5.3) the ordinary wait serves."""
    from kates_cli.cli import hook

    proc = subprocess.Popen(["sleep", "0.2"])
    assert not hook._ended(proc, None, 0.01)
    assert hook._ended(proc, None, 60)
    assert proc.returncode == 0


def test_which_answers_as_shutil_which(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """hook.which (kept out of shutil for start-up) against shutil.which, on PATHs with a directory of the name, a
    file without the execute bit, an executable, repeated and empty entries (the current directory), no PATH."""
    import shutil

    from kates_cli.cli.hook import which

    plain, execs, dirs, cwd = (tmp_path / n for n in ("plain", "execs", "dirs", "cwd"))
    for d in (plain, execs, dirs, cwd):
        d.mkdir()
    (plain / "tool").write_text("#!/bin/sh\n")
    (execs / "tool").write_text("#!/bin/sh\n")
    (execs / "tool").chmod(0o755)
    (dirs / "tool").mkdir()
    (cwd / "here").write_text("#!/bin/sh\n")
    (cwd / "here").chmod(0o755)
    monkeypatch.chdir(cwd)
    paths = [
        f"{dirs}:{plain}:{execs}",
        f"{plain}:{plain}",
        f":{execs}",
        f"{execs}::{dirs}",
        "",
        str(tmp_path / "missing"),
    ]
    for path in paths:
        monkeypatch.setenv("PATH", path)
        for name in ("tool", "here", "absent", "sh"):
            assert which(name) == shutil.which(name), (path, name)
    monkeypatch.delenv("PATH")
    assert which("sh") == shutil.which("sh")
