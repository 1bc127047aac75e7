"""cli/app.py's `_WholeWrites`: stdout's writes, whole; a reader that went away is a broken pipe, also on a socket;
output that cannot be written (a full disk, a file past its size limit) is one line on stderr and exit 1."""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys

import pytest

from kates_cli.cli import app
from kates_cli.errors import OutputError


def test_every_byte_is_written_across_short_writes(monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]) -> None:
    written: list[bytes] = []

    def short(fd: int, data: memoryview) -> int:
        written.append(bytes(data[:3]))
        return min(3, len(data))

    monkeypatch.setattr(app.os, "write", short)
    assert app._WholeWrites(1).write(b"abcdefgh") == 8
    assert b"".join(written) == b"abcdefgh"


def test_a_reset_socket_is_a_broken_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    """stdout as a socket whose reader sent a reset (ECONNRESET) ends as a pipe whose reader left (exit 141), not as
    an internal error."""

    def reset(fd: int, data: memoryview) -> int:
        raise ConnectionResetError(errno.ECONNRESET, os.strerror(errno.ECONNRESET))

    monkeypatch.setattr(app.os, "write", reset)
    with pytest.raises(BrokenPipeError):
        app._WholeWrites(1).write(b"x")


def test_a_full_disk_is_an_output_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(fd: int, data: memoryview) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(app.os, "write", full)
    with pytest.raises(OutputError, match=r"^cannot write the output: No space left on device$"):
        app._WholeWrites(1).write(b"x")


def kates(*args: str, stdout: str, limit: int | None = None) -> subprocess.CompletedProcess[str]:
    """kates as a process, its stdout opened on `stdout`, with RLIMIT_FSIZE at `limit` bytes when given (a write
    past it fails with EFBIG: Python ignores SIGXFSZ)."""

    def fsize() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = dict(os.environ, KUBECONFIG="/nonexistent", KUBECTL_KUBERC="false")
    with open(stdout, "wb") as out:
        return subprocess.run(
            [sys.executable, "-m", "kates_cli", *args],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            preexec_fn=fsize,
            timeout=60,
        )


def test_stdout_on_a_full_device_says_so_in_one_line_and_exits_1() -> None:
    """/dev/full answers every write with ENOSPC. Before, the final flush swallowed it: exit 0, the output lost."""
    proc = kates("version", "--client", stdout="/dev/full")
    assert (proc.returncode, proc.stderr) == (1, "error: cannot write the output: No space left on device\n")


def test_a_file_past_its_size_limit_says_so_and_exits_1(tmp_path: os.PathLike[str]) -> None:
    """Output that fails in the middle (EFBIG past RLIMIT_FSIZE) is one line too, never a traceback."""
    out = os.path.join(tmp_path, "out")
    proc = kates("completion", "bash", stdout=out, limit=100)
    assert (proc.returncode, proc.stderr) == (1, "error: cannot write the output: File too large\n"), proc
    assert os.path.getsize(out) <= 100
