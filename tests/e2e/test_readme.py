"""Every `console` and `python` block of the README runs against the local cluster, so the README cannot rot.

In a console block, `$ ` lines are commands (run by sh, in a fresh namespace) and the lines after them are the
expected output (stdout and stderr), where `*` matches anything.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.controlplane.launcher import ControlPlane

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"^```(console|python)\n(.*?)^```", re.S | re.M)


def blocks(kind: str) -> list[str]:
    return [body for k, body in BLOCK.findall(README.read_text()) if k == kind]


def commands(block: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def env_for(cluster: ControlPlane, cache_dir: Path, ns: str) -> dict[str, str]:
    bindir = str(Path(sys.executable).parent)
    return dict(
        os.environ,
        KUBECONFIG=str(cluster.kubeconfig),
        KATES_CACHE_DIR=str(cache_dir),
        KATES_NAMESPACE=ns,
        PATH=f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}",
        NO_COLOR="1",
    )


def test_the_readme_has_runnable_blocks() -> None:
    assert len(blocks("console")) >= 2 and len(blocks("python")) >= 2


@pytest.mark.parametrize("index", range(len(blocks("console"))))
def test_readme_console_block(index: int, cluster: ControlPlane, cache_dir: Path, ns: str) -> None:
    for command, expected in commands(blocks("console")[index]):
        proc = subprocess.run(
            ["sh", "-c", command],
            capture_output=True,
            text=True,
            timeout=120,
            env=env_for(cluster, cache_dir, ns),
            cwd=README.parent,
        )
        got = (proc.stdout + proc.stderr).splitlines()
        assert proc.returncode == 0, (command, proc.stderr)
        assert len(got) == len(expected) and all(
            fnmatch.fnmatchcase(g, e) for g, e in zip(got, expected, strict=True)
        ), (
            command,
            got,
            expected,
        )


@pytest.mark.parametrize("index", range(len(blocks("python"))))
def test_readme_python_block(index: int, cluster: ControlPlane, cache_dir: Path, ns: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", blocks("python")[index]],
        capture_output=True,
        text=True,
        timeout=120,
        env=env_for(cluster, cache_dir, ns),
        cwd=README.parent,
    )
    assert proc.returncode == 0, proc.stderr
