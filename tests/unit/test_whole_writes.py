"""cli/app.py's `_WholeWrites`: stdout's writes, whole; a reader that went away is a broken pipe, also on a socket."""

from __future__ import annotations

import errno
import os

import pytest

from kates_cli.cli import app


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
