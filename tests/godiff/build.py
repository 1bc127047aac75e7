"""Builds a differential test's Go program (tests/godiff/NAME: main.go, go.mod, go.sum) from the Go module cache, as
the control plane is built (tests/controlplane/build.py), and caches the binary.

Invariants:
- The cache key is a hash of the program's main.go, go.mod and go.sum, so a changed program or pin rebuilds it and
  nothing else does.
- A cached binary is complete or absent: it is built under a name of its own and renamed into place.
- A missing Go toolchain fails the test, never skips it: the control plane needs the same toolchain.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.controlplane.build import cache_root

HERE = Path(__file__).resolve().parent


def go_program(name: str) -> Path:
    """The built binary of tests/godiff/NAME, building it first if its sources changed."""
    src = HERE / name
    go = shutil.which("go")
    if go is None:
        pytest.fail(f"the Go toolchain ('go') is not on PATH; it is needed to build tests/godiff/{name}")
    h = hashlib.sha256()
    for part in ("main.go", "go.mod", "go.sum"):
        h.update((src / part).read_bytes())
    exe = cache_root() / "godiff" / f"{name}go-{h.hexdigest()[:12]}"
    if not exe.exists():
        exe.parent.mkdir(parents=True, exist_ok=True)
        tmp = exe.with_name(f"{exe.name}.{os.getpid()}.tmp")
        env = {**os.environ, "CGO_ENABLED": "0"}  # the module proxy as the control plane's build uses it
        proc = subprocess.run([go, "build", "-o", str(tmp), "."], cwd=src, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-4000:]
        tmp.rename(exe)
    return exe
