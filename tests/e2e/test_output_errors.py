"""Output that cannot be written, on a real list: stdout on /dev/full (every write fails with ENOSPC), and a list
whose spool (a temporary file once past 1 MiB, cli/listout.py) passes the process's file size limit (EFBIG; Python
ignores SIGXFSZ). Each ends with one line on stderr and exit 1, never a traceback, never a partial list."""

from __future__ import annotations

import resource
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.controlplane.launcher import ControlPlane

from .conftest import KATES, _env

N = 400  # ConfigMaps of about 3 KB: a List of more than 1 MiB, so the spool moves to a file


@pytest.fixture
def big_list(cluster: ControlPlane, ns: str) -> str:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    cluster.bulk("POST", [(path, {"metadata": {"name": f"cm-{i:03d}"}, "data": {"v": "x" * 3000}}) for i in range(N)])
    return ns


def run(cluster: ControlPlane, cache_dir: Path, args: list[str], stdout: Path, limit: int | None = None) -> Any:
    def fsize() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    with open(stdout, "wb") as out:
        return subprocess.run(
            [*KATES, *args],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(cluster, cache_dir, None, args),
            preexec_fn=fsize,
            timeout=120,
        )


@pytest.mark.parametrize("output", ["json", "yaml", "name", "wide", "table"])
@pytest.mark.parametrize("pages", ["one page", "pages of 100"])
def test_a_list_on_a_full_device(
    cluster: ControlPlane, cache_dir: Path, big_list: str, output: str, pages: str
) -> None:
    """In pages of 100 the first write fails after a page has been read (names and tables are written page by
    page): it is still the output's error, never `listing ... failed after N` (a list cut short), and said once."""
    args = ["get", "cm", "-n", big_list, *(["-o", output] if output != "table" else [])]
    if pages != "one page":
        args += ["--chunk-size", "100"]
    proc = run(cluster, cache_dir, args, Path("/dev/full"))
    assert (proc.returncode, proc.stderr) == (1, "error: cannot write the output: No space left on device\n")


@pytest.mark.parametrize("pages", ["one page", "pages of 100"])
def test_a_spool_past_the_file_size_limit(
    cluster: ControlPlane, cache_dir: Path, big_list: str, tmp_path: Path, pages: str
) -> None:
    """Nothing reaches stdout before the list is whole, so the write that fails is the spool's (its move to a file
    at 1 MiB, past the 512 KiB limit), and stdout stays empty. In pages of 100 it fails after pages were read: still
    the spool's error with its hint, not a list cut short."""
    out = tmp_path / "out"
    args = ["get", "cm", "-n", big_list, "-o", "json", *(["--chunk-size", "100"] if pages != "one page" else [])]
    proc = run(cluster, cache_dir, args, out, limit=512 * 1024)
    assert proc.returncode == 1, proc
    assert proc.stderr == (
        "error: cannot spool the list: File too large\n"
        "hint: a list is kept in a temporary file until it is whole (in $TMPDIR): give that directory room\n"
    )
    assert out.read_bytes() == b""
