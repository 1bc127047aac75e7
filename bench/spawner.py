"""A small, long-lived process that starts every measured child, so that the child's peak RSS is its own.

Linux carries the memory high-water mark of a process's image *before* exec into its `ru_maxrss` (exec_mmap keeps
the old mm's hiwater_rss). A child forked (or vforked) straight from the benchmark process, itself a Python process
of about 40 MB, would so report at least 40 MB, whatever it used. Children forked from this process (Python
without site, so about 10 MB) report their own peak, with a floor far below anything measured here.

It also does the timing: per job it forks and execs the child, drains its stdout (timing the first byte, counting
the bytes, keeping them in a file when asked), reaps it with wait4 and answers with wall time, CPU-seconds (user +
system, including descendants the child waited for), ru_maxrss and the exit code.

Protocol (stdin/stdout, one JSON object per line): job {"argv", "env", "cwd", "stdin", "stdout_null", "keep",
"out", "err", "timeout"} -> result {"code", "wall", "cpu", "maxrss_kb", "ttfb", "out_bytes", "timed_out"}.
Runs as `python -I -S spawner.py`: standard library only.
"""

import json
import os
import signal
import sys
import time

_child = 0


def _on_alarm(signum, frame):  # the job overstayed its timeout
    if _child:
        try:
            os.kill(_child, signal.SIGKILL)
        except ProcessLookupError:
            pass


def run(job):
    global _child
    stdin_fd = os.open(job.get("stdin") or os.devnull, os.O_RDONLY)
    err_fd = os.open(job["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    if job.get("stdout_null"):
        read_fd, out_fd = None, os.open(os.devnull, os.O_WRONLY)
    else:
        read_fd, out_fd = os.pipe()
    keep = open(job["out"], "wb") if job.get("keep") else None
    argv, env = job["argv"], job["env"]
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: only async-signal-safe-ish work until exec
        try:
            os.dup2(stdin_fd, 0)
            os.dup2(out_fd, 1)
            os.dup2(err_fd, 2)
            os.closerange(3, 4096)
            if job.get("cwd"):
                os.chdir(job["cwd"])
            os.execvpe(argv[0], argv, env)
        finally:
            os._exit(127)
    _child = pid
    os.close(stdin_fd)
    os.close(err_fd)
    os.close(out_fd)
    signal.setitimer(signal.ITIMER_REAL, float(job.get("timeout") or 300))
    first = None
    total = 0
    try:
        if read_fd is not None:
            while True:
                data = os.read(read_fd, 1 << 20)  # blocks; a timed-out child is killed, which ends the stream
                if not data:
                    break
                if first is None:
                    first = time.monotonic() - started
                total += len(data)
                if keep is not None:
                    keep.write(data)
            os.close(read_fd)
        _, status, usage = os.wait4(pid, 0)
        wall = time.monotonic() - started
    finally:
        remaining = signal.setitimer(signal.ITIMER_REAL, 0)[0]
        _child = 0
        if keep is not None:
            keep.close()
    return {
        "code": os.waitstatus_to_exitcode(status),
        "wall": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,
        "ttfb": first,
        "out_bytes": total,
        "timed_out": remaining == 0.0,
    }


def main():
    signal.signal(signal.SIGALRM, _on_alarm)
    out = sys.stdout.buffer
    for line in sys.stdin.buffer:
        if not line.strip():
            continue
        try:
            result = run(json.loads(line))
        except Exception as exc:  # report, keep serving
            result = {"error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(result).encode() + b"\n")
        out.flush()


if __name__ == "__main__":
    main()
