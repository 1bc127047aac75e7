"""Builds the control-plane binaries from the pinned Go modules and caches them.

Invariants:
- The cache key is a hash of every go.mod/go.sum here plus the Go version and build flags, so binaries are rebuilt
  exactly when a pin changes, and never otherwise.
- A cache entry is complete or absent: binaries are built into a temporary directory that is renamed into place.
- Concurrent builders (parallel test sessions) serialise on a lock file; the loser finds the finished entry.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
K8S_VERSION = "v1.37.2"

# (go module directory, package path, binary name)
TARGETS: list[tuple[str, str, str]] = [
    ("etcd", "go.etcd.io/etcd/server/v3", "etcd"),
    ("k8s", "k8s.io/kubernetes/cmd/kube-apiserver", "kube-apiserver"),
    ("k8s", "k8s.io/kubernetes/cmd/kube-controller-manager", "kube-controller-manager"),
    ("k8s", "k8s.io/kubernetes/cmd/kube-scheduler", "kube-scheduler"),
    ("kwok", "sigs.k8s.io/kwok/cmd/kwok", "kwok"),
]

_MAJOR, _MINOR = K8S_VERSION.lstrip("v").split(".")[:2]
LDFLAGS = " ".join(
    [
        "-s",
        "-w",
        f"-X k8s.io/component-base/version.gitVersion={K8S_VERSION}",
        f"-X k8s.io/component-base/version.gitMajor={_MAJOR}",
        f"-X k8s.io/component-base/version.gitMinor={_MINOR}",
        "-X k8s.io/component-base/version.gitTreeState=clean",
    ]
)


def cache_root() -> Path:
    """`$KATES_CACHE_DIR`, else `$XDG_CACHE_HOME/kates`, else `~/.cache/kates`."""
    if os.environ.get("KATES_CACHE_DIR"):
        return Path(os.environ["KATES_CACHE_DIR"])
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "kates"


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        raise RuntimeError("the Go toolchain ('go') is not on PATH; it is needed to build the test control plane")
    return go


def pin_key() -> str:
    h = hashlib.sha256(repr(TARGETS).encode())
    for sub in sorted({t[0] for t in TARGETS}):
        for name in ("go.mod", "go.sum"):
            h.update((HERE / sub / name).read_bytes())
    h.update(LDFLAGS.encode())
    version = subprocess.run([_go(), "env", "GOVERSION"], capture_output=True, text=True, check=True).stdout.strip()
    h.update(version.encode())
    return f"{K8S_VERSION}-{h.hexdigest()[:12]}"


def bin_dir() -> Path:
    return cache_root() / "controlplane" / pin_key() / "bin"


def ensure_binaries(log: bool = True) -> Path:
    """Return the directory holding every control-plane binary, building it first if needed."""
    target = bin_dir()
    if all((target / t[2]).exists() for t in TARGETS):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if all((target / t[2]).exists() for t in TARGETS):
            return target
        started = time.monotonic()
        tmp = Path(tempfile.mkdtemp(prefix="bin.", dir=target.parent))
        tmp.chmod(0o755)
        env = dict(os.environ, CGO_ENABLED="0")
        for sub in sorted({t[0] for t in TARGETS}):
            pkgs = [t[1] for t in TARGETS if t[0] == sub]
            if log:
                print(
                    f"building {', '.join(t[2] for t in TARGETS if t[0] == sub)} from Go modules ...", file=sys.stderr
                )
            cmd = [_go(), "build", "-trimpath", f"-ldflags={LDFLAGS}", "-o", str(tmp) + "/", *pkgs]
            proc = subprocess.run(cmd, cwd=HERE / sub, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                shutil.rmtree(tmp, ignore_errors=True)
                raise RuntimeError(f"go build failed in {HERE / sub}:\n{proc.stderr[-4000:]}")
        # go build names a binary after its module path without the major-version suffix: server/v3 -> "server"
        if (tmp / "server").exists():
            (tmp / "server").rename(tmp / "etcd")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
        if log:
            print(f"built control plane in {time.monotonic() - started:.0f}s -> {target}", file=sys.stderr)
    return target


if __name__ == "__main__":
    print(ensure_binaries())
