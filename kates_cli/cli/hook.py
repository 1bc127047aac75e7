"""Running a watch hook: one process at a time, the snapshot on stdin, its own process group.

Invariants:
- The hook is executed directly (argv), never through a shell, in a new session so that signals reach the whole
  group it starts; its stdout and stderr are kates's own (they pass through).
- `run()` returns only when the hook's process group leader has exited: a hook never outlives its run, whether it
  finishes, times out (SIGTERM then, after the grace period, SIGKILL) or kates is being stopped.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from ..errors import UsageError


def check_runnable(hook: str) -> str:
    """The path that would run for `hook`, or a UsageError saying why it cannot run."""
    if os.sep in hook:
        if not os.path.exists(hook):
            raise UsageError(f'cannot run hook "{hook}": no such file')
        if os.path.isdir(hook) or not os.access(hook, os.X_OK):
            raise UsageError(f'cannot run hook "{hook}": not an executable file', hint=f"chmod +x {hook}")
        return os.path.abspath(hook)
    found = shutil.which(hook)
    if found is None:
        raise UsageError(f'cannot run hook "{hook}": not found on PATH')
    return found


@dataclass
class RunResult:
    code: int  # exit code, or 128 + signal number
    seconds: float
    timed_out: bool = False
    stopped: bool = False  # ended because kates was asked to stop


class HookRunner:
    def __init__(self, argv: list[str], *, timeout: float | None = None, grace: float = 10.0):
        self.argv = argv
        self.timeout = timeout
        self.grace = grace
        self.proc: subprocess.Popen[bytes] | None = None
        self.stop_signal: int | None = None
        self._lock = threading.Lock()

    def signal_stop(self, signum: int) -> None:
        """Forward a stop request to the running hook's process group (safe to call from a signal handler)."""
        self.stop_signal = signum
        proc = self.proc
        if proc is not None and proc.poll() is None:
            _killpg(proc.pid, signum)

    def run(self, stdin: bytes, env: dict[str, str]) -> RunResult:
        started = time.monotonic()
        proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, env=env, start_new_session=True)
        self.proc = proc
        # One blocking write from a helper thread: far fewer syscalls than communicate()'s 4 KiB polling, and the
        # main thread stays free to enforce the timeout and to react to signals.
        writer = threading.Thread(target=_feed, args=(proc, stdin), daemon=True)
        writer.start()
        deadline = started + self.timeout if self.timeout else None
        kill_at: float | None = None
        timed_out = False
        try:
            while True:
                try:
                    proc.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    pass
                now = time.monotonic()
                if deadline is not None and now > deadline and kill_at is None:
                    timed_out = True
                    _killpg(proc.pid, signal.SIGTERM)
                    kill_at = now + self.grace
                if self.stop_signal is not None and kill_at is None:
                    kill_at = now + self.grace
                if kill_at is not None and now > kill_at:
                    _killpg(proc.pid, signal.SIGKILL)
        finally:
            self.proc = None
        _killpg(proc.pid, signal.SIGKILL)  # anything the hook left behind in its group
        writer.join(5)
        code = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        return RunResult(code, time.monotonic() - started, timed_out, self.stop_signal is not None)


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
