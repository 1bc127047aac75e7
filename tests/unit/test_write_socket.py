"""The watcher's write socket (core/coherence.py) records only well-formed reports about the watched cluster, from
this user, bounded in size and time; anything else gets one error line and changes nothing (issue 11, 1b)."""

from __future__ import annotations

import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from kates_cli.core import coherence
from kates_cli.core.coherence import WriteServer
from kates_cli.core.config import ConnectionSettings
from kates_cli.errors import KatesError

CLUSTER = coherence.cluster_id(ConnectionSettings("https://127.0.0.1:6443", "c", "default", ca_data=b"CA"))
CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "ns"}}


class Recorded:
    def __init__(self) -> None:
        self.writes: list[tuple[str, str, str, dict[str, Any]]] = []
        self.debug: list[str] = []

    def __call__(self, verb: str, group: str, resource: str, obj: dict[str, Any]) -> None:
        self.writes.append((verb, group, resource, obj))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[WriteServer, Recorded]]:
    directory = tmp_path / "sock"
    directory.mkdir(mode=0o700)
    rec = Recorded()
    server = WriteServer(str(directory), rec, cluster=CLUSTER, debug=rec.debug.append)
    yield server, rec
    server.close()


def send(path: str, data: bytes, timeout: float = 10) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before the whole message went: the answer is still there to read
        answer = b""
        try:
            while chunk := sock.recv(4096):
                answer += chunk
        except ConnectionResetError:
            pass
        return answer


def message(**fields: Any) -> bytes:
    base = {"cluster": CLUSTER, "verb": "create", "group": "", "resource": "configmaps", "object": CM}
    return orjson.dumps({**base, **fields}) + b"\n"


def test_a_report_about_the_watched_cluster_is_recorded(served: tuple[WriteServer, Recorded]) -> None:
    server, rec = served
    assert coherence.report(server.path, CLUSTER, "create", "", "configmaps", CM)
    assert rec.writes == [("create", "", "configmaps", CM)]
    assert stat.S_IMODE(os.stat(server.path).st_mode) == 0o600


def test_a_write_to_another_cluster_is_refused(served: tuple[WriteServer, Recorded]) -> None:
    server, rec = served
    other = coherence.cluster_id(ConnectionSettings("https://127.0.0.1:7443", "c", "default", ca_data=b"CA"))
    other_ca = coherence.cluster_id(ConnectionSettings("https://127.0.0.1:6443", "c", "default", ca_data=b"CA2"))
    assert not coherence.report(server.path, other, "create", "", "configmaps", CM)
    assert not coherence.report(server.path, other_ca, "create", "", "configmaps", CM)
    answer = send(server.path, message(cluster=other))
    assert answer == b"error: the write was made to another cluster than the one watched\n"
    assert rec.writes == [] and server.refused == 3


@pytest.mark.parametrize(
    "data",
    [
        b"not json\n",
        b"[1, 2]\n",
        b"{}\n",
        b'{"cluster": 1}\n',
        message(object=5),
        message(object={"metadata": []}),
        message(object={"metadata": {"name": 7}}),
        message(object={"metadata": {"name": "a", "namespace": ["x"]}}),
        message(verb="rm -rf /"),
        message(cluster=None),
        b"\xff\xfe\n",
        b"no newline at all",
    ],
)
def test_a_malformed_report_gets_an_error_and_records_nothing(
    served: tuple[WriteServer, Recorded], data: bytes
) -> None:
    server, rec = served
    answer = send(server.path, data)
    assert answer.startswith(b"error: ") and answer.endswith(b"\n") and answer.count(b"\n") == 1, answer
    assert rec.writes == []
    assert len(rec.debug) == 1 and rec.debug[0].startswith("write socket: refused a report: ")
    assert coherence.report(server.path, CLUSTER, "create", "", "configmaps", CM)  # still serving


def test_an_object_the_accumulator_cannot_hold_is_refused_not_a_traceback(tmp_path: Path) -> None:
    def broken(verb: str, group: str, resource: str, obj: dict[str, Any]) -> None:
        raise AttributeError("'list' object has no attribute 'get'")

    tmp_path.chmod(0o700)
    server = WriteServer(str(tmp_path), broken, cluster=CLUSTER)
    try:
        assert send(server.path, message()) == b"error: the object could not be recorded: AttributeError\n"
    finally:
        server.close()


def test_a_huge_message_is_refused_after_the_bound_without_being_kept(served: tuple[WriteServer, Recorded]) -> None:
    server, rec = served
    sent = 0
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(server.path)
        chunk = b"x" * (1024 * 1024)
        try:
            for _ in range(100):  # 100 MiB, far past the 4 MiB bound
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            answer = sock.recv(4096)
        except ConnectionResetError:
            pass
    assert sent <= coherence.MAX_MESSAGE + 8 * 1024 * 1024, "the server kept reading past its bound"
    assert answer in (b"error: the message is larger than 4 MiB\n", b"")
    assert rec.writes == [] and server.refused == 1


def test_a_slow_message_is_cut_off_at_the_deadline(
    served: tuple[WriteServer, Recorded], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, rec = served
    monkeypatch.setattr(coherence, "READ_DEADLINE", 0.3)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(server.path)
        sock.sendall(message()[:20])  # and then nothing
        assert sock.recv(4096) == b"error: the message did not arrive within 0.3s\n"
    assert rec.writes == []


def test_a_peer_of_another_user_is_refused(
    served: tuple[WriteServer, Recorded], monkeypatch: pytest.MonkeyPatch
) -> None:
    if not hasattr(socket, "SO_PEERCRED"):
        pytest.skip("SO_PEERCRED is Linux-only")
    server, rec = served
    real = os.getuid()
    monkeypatch.setattr(coherence.os, "getuid", lambda: real + 1)  # as if the watcher ran as another user
    answer = send(server.path, message())
    assert answer.startswith(b"error: the peer (pid ") and f"runs as uid {real}".encode() in answer, answer
    assert rec.writes == []


def test_a_directory_others_can_enter_is_refused(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    with pytest.raises(KatesError, match="is not private"):
        WriteServer(str(tmp_path), Recorded(), cluster=CLUSTER)


def test_many_bad_clients_at_once_leave_the_server_serving(served: tuple[WriteServer, Recorded]) -> None:
    server, rec = served
    threads = [threading.Thread(target=send, args=(server.path, b"{bad\n")) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert coherence.report(server.path, CLUSTER, "delete", "", "configmaps", CM)
    assert rec.writes == [("delete", "", "configmaps", CM)]


def test_many_writers_at_the_same_moment_are_all_recorded(served: tuple[WriteServer, Recorded]) -> None:
    """More simultaneous reports than a small listen backlog holds: each connect that meets a full backlog waits
    for its turn (EAGAIN on a Unix socket), so no report is lost."""
    server, rec = served
    results: list[bool] = []
    objs = [{**CM, "metadata": {"name": f"c{i}", "namespace": "ns"}} for i in range(200)]
    threads = [
        threading.Thread(
            target=lambda o=o: results.append(coherence.report(server.path, CLUSTER, "create", "", "configmaps", o))
        )
        for o in objs
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results.count(True) == 200
    assert sorted(w[3]["metadata"]["name"] for w in rec.writes) == sorted(o["metadata"]["name"] for o in objs)
