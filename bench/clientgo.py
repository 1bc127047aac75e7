"""The client-go peer (bench/peers/clientgo: go.mod, go.sum, main.go), built from the Go module cache through the
module proxy as the control plane is (tests/controlplane/build.py), and cached.

Invariants:
- The cache key is a hash of main.go, go.mod and go.sum, the Go version and the build flags: the binary is rebuilt
  exactly when one of them changes, and never otherwise.
- A cached binary is complete or absent: it is built under a temporary name and renamed into place, under a lock
  file, so concurrent runs build it once.
- No Go toolchain is an error (BenchError), never a silently missing peer.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .harness import PEERS, BenchError

SOURCE = PEERS / "clientgo"
FLAGS = ["-trimpath", "-ldflags=-s -w"]


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise BenchError("the Go toolchain ('go') is not on PATH; it is needed to build the client-go peer")
    return go


def binary_path() -> Path:
    from tests.controlplane.build import cache_root

    go = _go()
    version = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()
    h = hashlib.sha256(version.encode() + repr(FLAGS).encode())
    for name in ("main.go", "go.mod", "go.sum"):
        h.update((SOURCE / name).read_bytes())
    return cache_root() / "bench" / f"clientgo-{h.hexdigest()[:12]}"


def ensure_built(log: bool = True) -> tuple[Path, float]:
    """The client-go peer's binary, and the seconds spent building it now (0.0 when it was cached)."""
    exe = binary_path()
    if exe.exists():
        return exe, 0.0
    exe.parent.mkdir(parents=True, exist_ok=True)
    with open(exe.parent / ".clientgo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if exe.exists():
            return exe, 0.0
        started = time.monotonic()
        if log:
            print("[bench] building the client-go peer from Go modules ...", file=sys.stderr, flush=True)
        tmp = exe.with_name(exe.name + f".tmp{os.getpid()}")
        env = dict(os.environ, CGO_ENABLED="0")
        proc = subprocess.run(
            [_go(), "build", *FLAGS, "-o", str(tmp), "."], cwd=SOURCE, env=env, capture_output=True, text=True
        )
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise BenchError(f"go build of the client-go peer failed:\n{proc.stderr[-4000:]}")
        tmp.rename(exe)
        return exe, time.monotonic() - started
