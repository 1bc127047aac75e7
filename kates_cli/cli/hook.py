"""Running a watch hook: one process at a time, the snapshot on stdin, its own process group.

Invariants:
- The hook is executed directly (argv), never through a shell, in a new session so that signals reach the whole
  group it starts; its stdout and stderr are kates's own (they pass through).
- `run()` returns only when the hook's process group leader has exited: a hook never outlives its run, whether it
  finishes, times out (SIGTERM then, after the grace period, SIGKILL) or kates is being stopped. A run that hit
  the timeout is `timed_out` whatever its exit status (a hook that exits 0 on SIGTERM did not finish its work).
- A hook that cannot be executed (a bad interpreter line, a file no longer executable) is a failed run with an
  `error` naming the cause, never an exception: the watch goes on and retries it.
- A hook never outlives kates either: each run's process group is announced to a `Reaper`, which SIGKILLs it if
  kates dies (even by SIGKILL) and removes the watch's private directory: reaper.sh, or reaper.py where the watch
  fences (below).
- Fencing (`kates watch --leader-elect`): a hook never outlives its watcher's leadership. `HookRunner.fence` ends
  the running hook when leadership ends (SIGTERM, then SIGKILL by the kill deadline) and refuses every run until
  `unfence`; `Reaper.fence` gives the reaper the same kill deadline after each renewal, so the hook is killed on
  time even when kates itself is frozen and cannot act. A run's result says `fenced` when fencing ended it.
- The end of a hook is seen the moment it happens where the system has process file descriptors (Linux 5.3+,
  `os.pidfd_open`): the run waits on the hook's pidfd, not in `Popen.wait(timeout)`'s sleep loop, whose sleeps
  double up to 50 ms (a 20 ms hook was seen to end about 10 ms late, a 100 ms one up to 50 ms late).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time

from ..core.records import record
from ..errors import UsageError

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import IO


def check_runnable(hook: str) -> str:
    """The path that would run for `hook`, or a UsageError saying why it cannot run."""
    if os.sep in hook:
        if not os.path.exists(hook):
            raise UsageError(f'cannot run hook "{hook}": no such file')
        if os.path.isdir(hook) or not os.access(hook, os.X_OK):
            raise UsageError(f'cannot run hook "{hook}": not an executable file', hint=f"chmod +x {hook}")
        path = os.path.abspath(hook)
    else:
        found = which(hook)
        if found is None:
            raise UsageError(f'cannot run hook "{hook}": not found on PATH')
        path = found
    bad = bad_interpreter(path)
    if bad is not None:
        raise UsageError(f'cannot run hook "{hook}": {bad}')
    return path


def which(name: str) -> str | None:
    """shutil.which's answer for a name without a directory, on POSIX: the first PATH entry (the system's default
    path when PATH is unset, none when it is empty; an empty entry is the current directory) holding an executable
    file of that name. Here because importing shutil also imports bz2 and lzma, a millisecond of every watch's start
    (bench B2)."""
    search = os.environ.get("PATH")
    if search is None:
        try:
            search = os.confstr("CS_PATH") or ""
        except (AttributeError, ValueError):
            search = os.defpath
    if not search:
        return None
    seen: set[str] = set()
    for directory in search.split(os.pathsep):
        if directory in seen:
            continue
        seen.add(directory)
        path = os.path.join(directory, name)
        if os.path.exists(path) and os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None


def interpreter(path: str) -> str | None:
    """The interpreter a `#!` line names (as the kernel reads it: up to the first blank), or None."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(256)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    words = head[2:].split(b"\n", 1)[0].split()
    return os.fsdecode(words[0]) if words else None


def bad_interpreter(path: str) -> str | None:
    """'bad interpreter X: why' when the `#!` line of `path` names something that cannot run, else None."""
    interp = interpreter(path)
    if interp is None:
        return None
    if not os.path.exists(interp):
        return f"bad interpreter {interp}: No such file or directory"
    if os.path.isdir(interp) or not os.access(interp, os.X_OK):
        return f"bad interpreter {interp}: Permission denied"
    return None


def exec_error(path: str, exc: OSError) -> str:
    """One line saying why `path` could not be executed."""
    why = bad_interpreter(path) if isinstance(exc, FileNotFoundError) and os.path.exists(path) else None
    return f"{path}: {why or exc.strerror or exc}"


SHELL = "/bin/sh"  # runs reaper.sh; where it cannot, the Python reaper does the same work (Reaper)


class Reaper:
    """Kills the hook's process group and removes `directory` if kates dies, and with `fencing` at the fence
    deadline even when kates is frozen (see reaper.py); a no-op if it could not be started. Thread-safe: lines are
    written whole. Without `fencing` it is reaper.sh, the same contract less the fence in POSIX sh: about a
    millisecond of CPU to start, where the Python reaper's interpreter costs 8-17 ms of every watch."""

    def __init__(self, directory: str, *, fencing: bool):
        self.fencing = fencing
        self._stdin: IO[bytes] | None = None
        self._lock = threading.Lock()
        self.until: float | None = None  # the fence deadline last given (see fence)
        here = os.path.dirname(os.path.abspath(__file__))
        script = os.path.join(here, "reaper.sh")
        self.proc: subprocess.Popen[bytes] | None = None
        if not fencing and os.access(SHELL, os.X_OK) and os.access(script, os.R_OK):
            # a fixed environment: kates's own could carry exported shell functions (a bash /bin/sh imports
            # BASH_FUNC_kill%%) or SHELLOPTS=errexit; PATH only finds rm (kates's own after the usual places: NixOS)
            path = "/usr/bin:/bin" + (":" + os.environ["PATH"] if os.environ.get("PATH") else "")
            self._start([SHELL, script, directory], {"PATH": path, "LC_ALL": "C"})
        if self.proc is None:  # fencing, or no shell to run reaper.sh with: the Python reaper, isolated by -S -I
            self._start([sys.executable, "-S", "-I", os.path.join(here, "reaper.py"), directory], None)

    def _start(self, argv: list[str], env: dict[str, str] | None) -> None:
        try:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # outlives a kill of kates's own process group too
                env=env,
            )
            self._stdin = self.proc.stdin
        except OSError:
            self.proc = None

    def _say(self, line: str) -> None:
        with self._lock:
            if self._stdin is None:
                return
            try:
                self._stdin.write(line.encode() + b"\n")
                self._stdin.flush()
            except (OSError, ValueError):
                self._stdin = None  # the reaper is gone: runs go on without it

    def started(self, pgid: int) -> None:
        self._say(f"+{pgid}")

    def ended(self, pgid: int) -> None:
        self._say(f"-{pgid}")

    def fence(self, until: float | None) -> None:
        """From now on, SIGKILL every announced hook group once `time.monotonic()` passes `until` without a newer
        call (and any group announced after it at once); None clears the deadline. kates calls it after every
        successful lease renewal with the kill deadline, so a kates frozen by SIGSTOP cannot keep its hook alive
        past it. Only a fencing reaper has a deadline."""
        if not self.fencing:
            raise ValueError("this reaper was started without fencing (Reaper(fencing=True) enforces a deadline)")
        self.until = None if until is None else float(until)
        self._say("until -" if until is None else f"until {float(until)!r}")

    def expired(self) -> bool:
        """The fence deadline has passed: the reaper kills every hook group, and any new one at once."""
        return self.until is not None and time.monotonic() >= self.until

    def close(self) -> None:
        """A clean end: the reaper exits without touching anything."""
        self._say("exit")
        with self._lock:
            if self._stdin is not None:
                try:
                    self._stdin.close()
                except OSError:
                    pass
                self._stdin = None
        if self.proc is not None:
            pidfd = _pidfd(self.proc.pid)
            try:
                if not _ended(self.proc, pidfd, 5):
                    self.proc.kill()
                    self.proc.wait()
            finally:
                if pidfd is not None:
                    os.close(pidfd)


@record
class RunResult:
    """How one hook run ended."""

    code: int  # exit code, or 128 + signal number
    seconds: float
    timed_out: bool = False
    stopped: bool = False  # ended because kates was asked to stop
    error: str | None = None  # the hook could not be executed: why
    fenced: bool = False  # ended (or never started) because leadership ended: `HookRunner.fence`
    started: bool = True  # False: refused before starting, as the runner was fenced or stopping (`code` is then 0)

    @property
    def ok(self) -> bool:
        return self.code == 0 and not self.timed_out and self.error is None and not self.fenced


class HookRunner:
    """Runs the hook, one run at a time (see the module's invariants).

    Fencing (leader election): `fence(kill_at)` ends the running hook (SIGTERM now, SIGKILL by `kill_at`) and
    fences the runner: every later `run()` is refused without starting a process (a RunResult with
    `started=False, fenced=True`) until `unfence()`, which the watcher calls when it has (re)gained leadership,
    before its next run. A run is refused, too, while the reaper's kill deadline (`Reaper.fence`) has passed, and a
    run the reaper killed at that deadline is `fenced`. `run()` and `fence()` decide under one lock, so a run that
    the watcher's loop starts while leadership ends is either refused or fenced once started: never a hook running
    unfenced after `fence()`. Likewise, once `signal_stop` was called every later `run()` is refused (`started=False,
    stopped=True`): kates is stopping, and a run started then would only be signalled at once."""

    def __init__(
        self, argv: list[str], *, timeout: float | None = None, grace: float = 10.0, reaper: Reaper | None = None
    ):
        self.argv = argv
        self.timeout = timeout
        self.grace = grace
        self.reaper = reaper
        self.proc: subprocess.Popen[bytes] | None = None
        self.stop_signal: int | None = None
        self._forwarded = False  # the stop signal reached the running hook's group
        self._lock = threading.Lock()
        self._fenced = False  # runs are refused until unfence()
        self._fence_kill_at: float | None = None  # the running hook's SIGKILL deadline after fence()
        self._run_fenced = False  # fence() reached the running hook

    @property
    def fenced(self) -> bool:
        return self._fenced

    def signal_stop(self, signum: int) -> None:
        """Forward a stop request to the running hook's process group (safe to call from a signal handler)."""
        self.stop_signal = signum
        proc = self.proc
        if proc is not None and proc.poll() is None:
            _killpg(proc.pid, signum)
            self._forwarded = True

    def fence(self, kill_at: float) -> None:
        """Leadership has ended: SIGTERM the running hook's group now and SIGKILL it at min(kill_at, now + grace)
        (`kill_at` a `time.monotonic()` deadline); its `run()` returns `fenced=True`. Refuse every later run until
        `unfence()`. Thread-safe; not for a signal handler (it takes a lock: use `signal_stop` there)."""
        with self._lock:
            self._fenced = True
            proc = self.proc
            if proc is None or proc.poll() is not None:
                return
            now = time.monotonic()
            deadline = min(kill_at, now + self.grace)
            first = not self._run_fenced
            self._run_fenced = True
            if self._fence_kill_at is None or deadline < self._fence_kill_at:
                self._fence_kill_at = deadline
            if first:
                _killpg(proc.pid, signal.SIGTERM)
            if now >= self._fence_kill_at:
                _killpg(proc.pid, signal.SIGKILL)

    def unfence(self) -> None:
        """Leadership (re)gained: runs may start again."""
        with self._lock:
            self._fenced = False

    def run(self, stdin: bytes, env: dict[str, str], on_start: Callable[[], object] | None = None) -> RunResult:
        """One run of the hook on `stdin`; `on_start` is called once its process exists (not for a refused run, nor
        for one that could not be executed)."""
        started = time.monotonic()
        with self._lock:
            # refused while fenced, and while the reaper's kill deadline has passed (kates woke from a freeze and has
            # not yet seen that its lease is gone: the reaper would kill the hook at once anyway)
            if self._fenced or (self.reaper is not None and self.reaper.expired()):
                return RunResult(0, 0.0, fenced=True, started=False)
            if self.stop_signal is not None:  # kates is stopping: no new run (one already started gets the signal)
                return RunResult(0, 0.0, stopped=True, started=False)
            self._fence_kill_at, self._run_fenced, self._forwarded = None, False, False
            try:
                proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, env=env, start_new_session=True)
            except OSError as exc:  # ENOENT for a bad interpreter, ENOEXEC, EACCES: this run failed, the watch goes on
                return RunResult(127, time.monotonic() - started, error=exec_error(self.argv[0], exc))
            self.proc = proc
        if self.reaper is not None:
            self.reaper.started(proc.pid)
        if on_start is not None:
            try:
                on_start()
            except Exception:  # the hook runs: it is supervised below, whatever the announcement did
                pass
        # One blocking write from a helper thread: far fewer syscalls than communicate()'s 4 KiB polling, and the
        # main thread stays free to enforce the timeout and to react to signals.
        writer = threading.Thread(target=_feed, args=(proc, stdin), daemon=True)
        writer.start()
        deadline = started + self.timeout if self.timeout else None
        kill_at: float | None = None
        timed_out = False
        pidfd = _pidfd(proc.pid)
        try:
            while True:
                now = time.monotonic()
                wait = 0.1
                fence_at = self._fence_kill_at
                if fence_at is not None:
                    wait = min(wait, max(fence_at - now, 0.001))  # the fence's SIGKILL on time, not at the next tick
                if _ended(proc, pidfd, wait):
                    break
                now = time.monotonic()
                if deadline is not None and now > deadline and kill_at is None:
                    timed_out = True
                    _killpg(proc.pid, signal.SIGTERM)
                    kill_at = now + self.grace
                if self.stop_signal is not None and kill_at is None:
                    if not self._forwarded:  # the signal came between Popen and `self.proc`: the hook never got it
                        _killpg(proc.pid, self.stop_signal)
                        self._forwarded = True
                    kill_at = now + self.grace
                fence_at = self._fence_kill_at
                if (kill_at is not None and now > kill_at) or (fence_at is not None and now >= fence_at):
                    _killpg(proc.pid, signal.SIGKILL)
        finally:
            with self._lock:
                self.proc = None
            if pidfd is not None:
                os.close(pidfd)
        _killpg(proc.pid, signal.SIGKILL)  # anything the hook left behind in its group
        if self.reaper is not None:
            self.reaper.ended(proc.pid)
        writer.join(5)
        code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        # killed by the reaper at its deadline (kates frozen or late): fenced too, not a failure of the hook
        reaped = code == 128 + signal.SIGKILL and self.reaper is not None and self.reaper.expired()
        fenced = self._run_fenced or reaped
        return RunResult(
            code, time.monotonic() - started, timed_out and not fenced, self.stop_signal is not None, fenced=fenced
        )


def _pidfd(pid: int) -> int | None:
    """A file descriptor that becomes readable when process `pid` (our unreaped child) ends, or None where the
    system has none (not Linux, or older than 5.3)."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _ended(proc: subprocess.Popen[bytes], pidfd: int | None, timeout: float) -> bool:
    """Wait up to `timeout` seconds for the hook to end; True once it has (and has been reaped)."""
    if pidfd is not None:
        try:
            readable, _, _ = select.select([pidfd], [], [], timeout)
        except (OSError, ValueError):  # not pollable after all: the ordinary wait below
            readable = [pidfd]
        if not readable:
            return proc.poll() is not None
    try:
        proc.wait(timeout=timeout)  # after the pidfd said it ended, this reaps it at once
        return True
    except subprocess.TimeoutExpired:
        return False


def _feed(proc: subprocess.Popen[bytes], data: bytes) -> None:
    assert proc.stdin is not None
    try:
        proc.stdin.write(data)
    except (BrokenPipeError, ValueError, OSError):
        pass  # the hook need not read all of its input
    finally:
        try:
            proc.stdin.close()
        except OSError:
            pass


def _killpg(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass
