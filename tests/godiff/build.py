"""Builds a small Go program under tests/godiff/ from the Go module cache (through the module proxy, as the control
plane's build fetches its modules) and caches the binary by the hash of its main.go, go.mod and go.sum: only the
first run after a change pays for the build."""

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
    """The binary built from tests/godiff/NAME/ (building it first if no cached one matches its sources)."""
    go = shutil.which("go")
    if go is None:  # never a silent skip: the control plane needs the same toolchain
        pytest.fail(f"the Go toolchain ('go') is not on PATH; it is needed to build tests/godiff/{name}")
    source = HERE / name
    h = hashlib.sha256()
    for file in ("main.go", "go.mod", "go.sum"):
        h.update((source / file).read_bytes())
    exe = cache_root() / "godiff" / f"{name}go-{h.hexdigest()[:12]}"
    if not exe.exists():
        exe.parent.mkdir(parents=True, exist_ok=True)
        tmp = exe.with_suffix(f".tmp{os.getpid()}")
        env = {**os.environ, "CGO_ENABLED": "0"}
        proc = subprocess.run([go, "build", "-o", str(tmp), "."], cwd=source, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr[-4000:]
        tmp.rename(exe)
    return exe
