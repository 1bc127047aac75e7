"""cli/listout.py: a List written page by page has exactly the bytes of the whole List rendered at once."""

from __future__ import annotations

import io
from typing import Any

import pytest

from kates_cli.cli import listout
from kates_cli.cli.render import as_list, to_json, to_yaml


def _objects(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n):
        out.append(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"cm-{i}", "labels": {"app": "x", "n": str(i)}, "annotations": {}},
                "data": {
                    "a": "plain",
                    "multi": "line one\nline two\n",
                    "long": "word " * 30,
                    "yes": "on",
                    "quote": 'it\'s "here"',
                    "unicode": "ü ✓ \u2028",
                },
                "list": [1, 2.5, True, None, [], {}, [{"x": [1]}]],
            }
        )
    return out


def _deep(levels: int) -> dict[str, Any]:
    obj: dict[str, Any] = {"leaf": 1}
    for _ in range(levels):
        obj = {"n": obj}
    return {"apiVersion": "v1", "kind": "Deep", "metadata": {"name": "deep"}, "spec": obj}


def _streamed(fmt: str, pages: list[list[dict[str, Any]]], spool: int | None = None) -> str:
    writer = listout.ListWriter(fmt)
    if spool is not None:  # force the spool onto disk
        writer._spool = listout.Spool(spool)
    for page in pages:
        writer.add(page)
    out = io.StringIO()
    writer.finish(out)
    text = out.getvalue()
    again = listout.ListWriter(fmt)  # and to a binary stream (a real stdout), which gets the bytes
    for page in pages:
        again.add(page)
    binary = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    again.finish(binary)
    assert binary.buffer.getvalue().decode() == text  # type: ignore[attr-defined]
    return text


SPLITS = {
    "none": [],
    "one page": [[0, 1, 2, 3, 4]],
    "one object": [[0]],
    "pages": [[0, 1], [2, 3], [4]],
    "empty pages between": [[], [0], [], [1, 2, 3], [], [4], []],
    "single objects": [[0], [1], [2], [3], [4]],
}


@pytest.mark.parametrize("fmt", ["json", "yaml"])
@pytest.mark.parametrize("split", list(SPLITS))
def test_a_list_written_page_by_page_has_the_bytes_of_the_whole_list(fmt: str, split: str) -> None:
    objs = _objects(5)
    pages = [[objs[i] for i in page] for page in SPLITS[split]]
    whole = [o for page in pages for o in page]
    render = to_json if fmt == "json" else to_yaml
    assert _streamed(fmt, pages) == render(as_list(whole))
    assert _streamed(fmt, pages, spool=10) == render(as_list(whole))  # the spool on disk: the same bytes


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_objects_deeper_than_orjson_allows_stream_with_the_same_bytes(fmt: str) -> None:
    objs = [_deep(300), *_objects(2)]
    render = to_json if fmt == "json" else to_yaml
    assert _streamed(fmt, [objs[:1], objs[1:]]) == render(as_list(objs))


def test_any_objects_split_anyhow_stream_with_the_bytes_of_the_whole_list() -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.unit.test_printers_fuzz import json_values

    objects = st.lists(st.dictionaries(st.text(max_size=5), json_values, max_size=4), max_size=6)

    @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(objects, st.lists(st.integers(0, 3), max_size=6), st.sampled_from(["json", "yaml"]))
    def check(objs: list[dict[str, Any]], sizes: list[int], fmt: str) -> None:
        pages, rest = [], list(objs)
        for size in sizes:
            pages.append(rest[:size])
            rest = rest[size:]
        pages.append(rest)
        render = to_json if fmt == "json" else to_yaml
        assert _streamed(fmt, pages) == render(as_list(objs))

    check()


def test_a_failing_output_and_a_failing_spool_are_told_apart() -> None:
    """stdout's own failure comes out as it is (in a kates process it is already an OutputError, cli/app.py); only a
    failure to read the spool back is the spool's error."""
    import errno

    from kates_cli.errors import OutputError

    class Full(io.BytesIO):
        def write(self, data: object) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    writer = listout.ListWriter("json")
    writer.add([{"a": 1}])
    with pytest.raises(OSError) as raised:
        writer.finish(io.TextIOWrapper(Full()))
    assert not isinstance(raised.value, OutputError)

    class Unreadable(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            raise OSError(errno.EIO, "Input/output error")

    writer = listout.ListWriter("json")
    writer.add([{"a": 1}])
    writer._spool = Unreadable()
    with pytest.raises(OutputError, match="cannot spool the list: Input/output error"):
        writer.finish(io.TextIOWrapper(io.BytesIO()))


def _big_pages() -> tuple[list[list[dict[str, Any]]], str]:
    """Pages of a list past SPOOL_IN_MEMORY (its spool on disk: the sendfile path), and the whole list's text."""
    objs = _objects(2400)
    text = to_json(as_list(objs))
    assert len(text) > 2 * listout.SPOOL_IN_MEMORY
    return [objs[:1000], objs[1000:2000], objs[2000:]], text


def _finish_to_fd(pages: list[list[dict[str, Any]]], fd: int) -> None:
    writer = listout.ListWriter("json")
    for page in pages:
        writer.add(page)
    out = io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8")
    writer.finish(out)
    out.flush()


@pytest.mark.parametrize("target", ["pipe", "file", "appending file"])
def test_a_spool_on_disk_reaches_a_real_output_whole(target: str, tmp_path: Any, monkeypatch: Any) -> None:
    """A pipe and a file take the spool by sendfile; a file opened for appending (which sendfile refuses on Linux)
    gets it by plain writes. Either way the bytes are the whole list's, once."""
    import os
    import threading

    calls: list[int] = []
    real = os.sendfile

    def counting(out: int, src: int, offset: int | None, count: int) -> int:
        calls.append(count)
        return real(out, src, offset, count)

    monkeypatch.setattr(os, "sendfile", counting)
    pages, want = _big_pages()
    if target == "pipe":
        read_fd, write_fd = os.pipe()
        got: list[bytes] = []
        reader = threading.Thread(target=lambda: got.append(b"".join(iter(lambda: os.read(read_fd, 1 << 16), b""))))
        reader.start()
        try:
            _finish_to_fd(pages, write_fd)
        finally:
            os.close(write_fd)
            reader.join(30)
            os.close(read_fd)
        assert got[0].decode() == want
    else:
        path = tmp_path / "out.json"
        path.write_bytes(b"before\n")
        fd = os.open(path, os.O_WRONLY | (os.O_APPEND if target == "appending file" else 0))
        if target == "file":
            os.lseek(fd, 0, os.SEEK_END)
        try:
            _finish_to_fd(pages, fd)
        finally:
            os.close(fd)
        assert path.read_bytes().decode() == "before\n" + want
    assert calls, "the sendfile path was not taken"


def test_sendfile_failing_midway_is_the_outputs_failure(monkeypatch: Any) -> None:
    """Past the first byte sent, a sendfile failure is stdout's error as a write's would be (never a second copy of
    what was sent); a refusal before the first byte falls back to writes (the appending file above)."""
    import errno
    import os

    state = {"sent": 0}

    def failing(out: int, src: int, offset: int | None, count: int) -> int:
        if state["sent"]:
            raise OSError(errno.EINVAL, "Invalid argument")
        state["sent"] = 4096
        return 4096

    monkeypatch.setattr(os, "sendfile", failing)
    pages, _ = _big_pages()
    read_fd, write_fd = os.pipe()
    try:
        with pytest.raises(OSError, match="Invalid argument"):
            _finish_to_fd(pages, write_fd)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_a_closed_pipe_is_a_broken_pipe_on_the_sendfile_path() -> None:
    import os

    pages, _ = _big_pages()
    read_fd, write_fd = os.pipe()
    os.close(read_fd)
    try:
        with pytest.raises(BrokenPipeError):
            _finish_to_fd(pages, write_fd)
    finally:
        os.close(write_fd)


@pytest.mark.parametrize("tmpfile", [True, False])
def test_a_spool_rolls_over_to_an_unnamed_file_in_the_temp_directory(
    tmpfile: bool, tmp_path: Any, monkeypatch: Any
) -> None:
    """Past its limit the spool's bytes move to a file in $TMPDIR that has no name (O_TMPFILE, else tempfile's
    TemporaryFile), at the same position; the directory is empty throughout and after."""
    import os
    import tempfile

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr(tempfile, "tempdir", None)
    if not tmpfile:
        monkeypatch.setattr(listout, "_O_TMPFILE", 0)
    spool = listout.Spool(10)
    assert spool.write(b"0123456789") == 10 and not spool.rolled
    with pytest.raises(OSError):  # io.UnsupportedOperation: no file descriptor while in memory
        spool.fileno()
    assert spool.write(memoryview(b"abc")) == 3 and spool.rolled
    fd = spool.fileno()
    assert os.path.dirname(os.readlink(f"/proc/self/fd/{fd}")) == str(tmp_path)
    assert os.listdir(tmp_path) == []
    spool.write(b"!")
    assert spool.seek(0) == 0 and spool.read(-1) == b"0123456789abc!"
    assert os.fstat(fd).st_size == 14
    spool.close()
    assert os.listdir(tmp_path) == []


def test_a_spool_that_cannot_roll_over_is_the_spools_error(tmp_path: Any, monkeypatch: Any) -> None:
    import tempfile

    from kates_cli.errors import OutputError

    monkeypatch.setenv("TMPDIR", str(tmp_path / "gone"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    writer = listout.ListWriter("json")
    writer._spool = listout.Spool(10)
    with pytest.raises(OutputError, match="cannot spool the list"):
        writer.add([{"a": "x" * 20}])


def test_a_spool_that_fails_its_last_write_is_the_spools_error() -> None:
    """On disk the spool is buffered: the last page's bytes are written out by the seek that starts the copy, and
    a full disk there is the spool's one-line error too, not a traceback."""
    import errno

    from kates_cli.errors import OutputError

    class FullAtFlush(io.BytesIO):
        def seek(self, offset: int, whence: int = 0) -> int:
            raise OSError(errno.EFBIG, "File too large")

    writer = listout.ListWriter("json")
    writer.add([{"a": 1}])
    writer._spool = FullAtFlush()  # type: ignore[assignment]
    with pytest.raises(OutputError, match="cannot spool the list: File too large"):
        writer.finish(io.TextIOWrapper(io.BytesIO()))
