"""Reads over the watcher's socket (core/coherence.py): answered with the reader's exact bytes, sent to the API
server (`live`) when not the watcher's to answer, failed with the reader's error, and refused when malformed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from kates_cli.core import coherence
from kates_cli.core.coherence import NotServed, ReadFailed, WriteServer
from kates_cli.core.selection import Selection
from kates_cli.errors import ExitCode, Forbidden, KatesError
from tests.unit.test_write_socket import CLUSTER, Recorded, send

RAW = [b'{"metadata":{"name":"a","namespace":"ns"},"s":"\\n<x>"}', b'{"metadata":{"name":"b","namespace":"ns"}}']


class Reader:
    def __init__(self) -> None:
        self.asked: list[Selection] = []
        self.raise_: Exception | None = None

    def __call__(self, sel: Selection) -> list[bytes]:
        self.asked.append(sel)
        if self.raise_ is not None:
            raise self.raise_
        return RAW if sel.name is None else RAW[:1]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[WriteServer, Reader]]:
    directory = tmp_path / "sock"
    directory.mkdir(mode=0o700)
    reader = Reader()
    server = WriteServer(str(directory), Recorded(), cluster=CLUSTER, reader=reader)
    yield server, reader
    server.close()


def test_a_read_is_answered_with_the_readers_exact_bytes(served: tuple[WriteServer, Reader]) -> None:
    server, reader = served
    sel = Selection("", "secrets", "ns", label_selector="a=b")
    assert coherence.read(server.path, CLUSTER, sel) == RAW
    assert coherence.read(server.path, CLUSTER, Selection("", "secrets", "ns", name="a")) == RAW[:1]
    assert reader.asked[0] == sel and server.reads == 2


def test_a_read_of_another_cluster_goes_to_the_api_server_quietly(served: tuple[WriteServer, Reader]) -> None:
    server, reader = served
    with pytest.raises(NotServed) as caught:
        coherence.read(server.path, "another", Selection("", "secrets", "ns"))
    assert caught.value.quiet and not reader.asked


def test_a_read_between_runs_goes_to_the_api_server_and_says_why(served: tuple[WriteServer, Reader]) -> None:
    server, reader = served
    reader.raise_ = NotServed("no hook run is in progress")
    with pytest.raises(NotServed, match="no hook run is in progress") as caught:
        coherence.read(server.path, CLUSTER, Selection("", "secrets", "ns"))
    assert not caught.value.quiet


def test_a_failed_read_keeps_its_message_and_exit_code(served: tuple[WriteServer, Reader]) -> None:
    server, reader = served
    reader.raise_ = Forbidden('secrets is forbidden: cannot "watch" secrets', hint="ask for the verb")
    with pytest.raises(ReadFailed) as caught:
        coherence.read(server.path, CLUSTER, Selection("", "secrets", "ns"))
    assert caught.value.exit_code == ExitCode.FORBIDDEN and caught.value.hint == "ask for the verb"
    assert 'cannot "watch" secrets' in caught.value.message


def test_a_readers_defect_is_refused_and_the_server_goes_on(served: tuple[WriteServer, Reader]) -> None:
    server, reader = served
    reader.raise_ = RuntimeError("boom")
    with pytest.raises(NotServed, match="did not understand"):
        coherence.read(server.path, CLUSTER, Selection("", "secrets", "ns"))
    reader.raise_ = None
    assert coherence.read(server.path, CLUSTER, Selection("", "secrets", "ns")) == RAW


@pytest.mark.parametrize(
    "read",
    [5, {"group": "", "resource": ""}, {"group": 1, "resource": "x"}, {"group": "", "resource": "x", "name": 3}],
)
def test_malformed_reads_are_refused(served: tuple[WriteServer, Reader], read: object) -> None:
    server, reader = served
    answer = send(server.path, orjson.dumps({"cluster": CLUSTER, "read": read}) + b"\n")
    assert answer.startswith(b"error: ") and not reader.asked


def test_a_watcher_without_a_reader_sends_reads_to_the_api_server(tmp_path: Path) -> None:
    directory = tmp_path / "sock"
    directory.mkdir(mode=0o700)
    server = WriteServer(str(directory), Recorded(), cluster=CLUSTER)
    try:
        with pytest.raises(NotServed, match="answers no reads"):
            coherence.read(server.path, CLUSTER, Selection("", "secrets", "ns"))
    finally:
        server.close()


def test_a_socket_that_is_gone_is_not_served(tmp_path: Path) -> None:
    with pytest.raises(NotServed, match="gone"):
        coherence.read(str(tmp_path / "none.sock"), CLUSTER, Selection("", "secrets", "ns"))


def test_read_failed_is_a_kates_error() -> None:
    assert issubclass(ReadFailed, KatesError)
