"""Write permits (core/coherence.py): the watcher's socket grants `ok UNTIL` or refuses `error: fenced: WHY`; a
fenced client reuses a valid permit, asks again when it has expired, fails closed when the watcher does not answer,
and checks the permit as the last thing before a request leaves (the transport's `before_send`) (issue 12)."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kates_cli.core import coherence
from kates_cli.core.client import Client
from kates_cli.core.coherence import Permits, WriteServer, request_permit
from kates_cli.core.config import ConnectionSettings
from kates_cli.core.transport import Transport
from kates_cli.errors import ExitCode, Fenced
from tests.conftest import wait_for

CLUSTER = coherence.cluster_id(ConnectionSettings("https://127.0.0.1:6443", "c", "default", ca_data=b"CA"))


class Lease:
    """The permit callable a watcher would give: a deadline while leading, None when not."""

    def __init__(self) -> None:
        self.until: float | None = None
        self.calls = 0

    def __call__(self) -> float | None:
        self.calls += 1
        return self.until


@pytest.fixture
def directory(tmp_path: Path) -> str:
    d = tmp_path / "sock"
    d.mkdir(mode=0o700)
    return str(d)


@pytest.fixture
def lease(directory: str) -> Iterator[tuple[WriteServer, Lease]]:
    held = Lease()
    server = WriteServer(directory, lambda *a: None, cluster=CLUSTER, permit=held, lease="kube-system/kates")
    yield server, held
    server.close()


def test_a_leading_watcher_grants_its_deadline_and_a_lost_lease_is_refused(lease: tuple[WriteServer, Lease]) -> None:
    server, held = lease
    held.until = time.monotonic() + 5
    assert request_permit(server.path, CLUSTER) == held.until  # exact: the float goes through repr
    held.until = None
    with pytest.raises(Fenced) as info:
        request_permit(server.path, CLUSTER)
    assert info.value.message == "write fenced: this hook's watcher does not hold lease kube-system/kates"
    assert info.value.exit_code == ExitCode.FENCED == 10
    assert (server.permits, server.fenced) == (1, 1)
    # any cluster: leadership is what is fenced
    held.until = time.monotonic() + 5
    assert request_permit(server.path, "another-cluster") == held.until


def test_a_watcher_without_leader_election_grants_no_permit(directory: str) -> None:
    server = WriteServer(directory, lambda *a: None, cluster=CLUSTER)
    try:
        with pytest.raises(Fenced, match="grants no write permits"):
            request_permit(server.path, CLUSTER)
    finally:
        server.close()


def test_a_failing_permit_callable_refuses(directory: str) -> None:
    def broken() -> float | None:
        raise RuntimeError("boom")

    server = WriteServer(directory, lambda *a: None, cluster=CLUSTER, permit=broken)
    try:
        with pytest.raises(Fenced, match="could not decide"):
            request_permit(server.path, CLUSTER)
    finally:
        server.close()


def test_a_watcher_that_does_not_answer_refuses_within_the_timeout(directory: str) -> None:
    path = str(Path(directory) / "frozen.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as frozen:  # accepts (the kernel's backlog), never answers
        frozen.bind(path)
        frozen.listen(8)
        started = time.monotonic()
        with pytest.raises(Fenced) as info:
            request_permit(path, CLUSTER, timeout=0.3)
        assert 0.3 <= time.monotonic() - started < 1.0
    assert info.value.message == "write fenced: the watcher did not answer (stopped or gone): no answer within 0.3s"
    with pytest.raises(Fenced, match=r"did not answer \(stopped or gone\): No such file or directory"):
        request_permit(str(Path(directory) / "gone.sock"), CLUSTER)


def test_permits_are_reused_while_valid_and_asked_again_once_expired(lease: tuple[WriteServer, Lease]) -> None:
    server, held = lease
    now = [100.0]
    permits = Permits(server.path, CLUSTER, clock=lambda: now[0])
    held.until = 101.0
    permits.check()
    now[0] = 100.9
    permits.check()
    assert (permits.asked, held.calls) == (1, 1)
    now[0] = 101.0  # expired (a permit is valid strictly before its deadline): ask again
    held.until = 102.0
    permits.check()
    assert (permits.asked, held.calls) == (2, 2)
    now[0] = 103.0
    held.until = None  # the lease is gone by now
    with pytest.raises(Fenced, match="does not hold lease"):
        permits.check()


def test_a_permit_that_expires_between_grant_and_send_refuses(lease: tuple[WriteServer, Lease]) -> None:
    server, held = lease
    ticks = iter([100.5])  # nothing held: asked; granted until 100.2; checked at 100.5, just before sending
    permits = Permits(server.path, CLUSTER, clock=lambda: next(ticks))
    held.until = 100.2
    with pytest.raises(Fenced) as info:
        permits.check()
    assert info.value.message == "write fenced: the permit expired before the request was sent"
    assert permits.until is None


def test_fenced_writes_without_a_socket_fail_closed() -> None:
    with pytest.raises(Fenced, match="KATES_FENCED_WRITES is set but KATES_WRITE_SOCKET is not"):
        Permits(None, CLUSTER).check()
    assert coherence.fenced_writes({"KATES_FENCED_WRITES": "1"})
    assert coherence.fenced_writes({"KATES_FENCED_WRITES": "yes"})  # anything set: fail closed
    assert not coherence.fenced_writes({"KATES_FENCED_WRITES": "0"})
    assert not coherence.fenced_writes({"KATES_FENCED_WRITES": ""}) and not coherence.fenced_writes({})


# -- the gate in the transport and the client ------------------------------------------------------------------------


class Counting(http.server.BaseHTTPRequestHandler):
    requests: list[str] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        Counting.requests.append(f"{self.command} {self.path}")
        body = b'{"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    Counting.requests = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_a_refused_check_sends_nothing_and_runs_after_the_connection_is_made(api: str) -> None:
    transport = Transport(ConnectionSettings(api, "c", "default"))
    seen: list[bool] = []

    def refuse() -> None:
        raise Fenced("write fenced: test")

    with pytest.raises(Fenced):
        transport.request_json("POST", "/api/v1/namespaces/n/configmaps", body=b"{}", before_send=refuse)
    assert Counting.requests == []
    transport.request_json("GET", "/version")  # a pooled connection, now reused
    transport.request_json("POST", "/api/v1/namespaces/n/configmaps", body=b"{}", before_send=lambda: seen.append(True))
    assert seen == [True] and Counting.requests == ["GET /version", "POST /api/v1/namespaces/n/configmaps"]
    transport.close()


def test_the_client_gates_every_write_but_not_reads_or_dry_runs(
    api: str, directory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kates_cli.core.mapping import ResourceRef

    held = Lease()
    server = WriteServer(directory, lambda *a: None, cluster=CLUSTER, permit=held)
    monkeypatch.setenv(coherence.ENV_VAR, server.path)
    monkeypatch.setenv(coherence.FENCE_ENV, "1")
    try:
        client = Client(settings=ConnectionSettings(api, "c", "n"))
        assert client.permits is not None
        ref = ResourceRef(group="", version="v1", resource="configmaps", kind="ConfigMap", namespaced=True)
        client.discovery.by_kind = lambda api_version, kind: ref  # type: ignore[method-assign]
        client.resolve = lambda kind: ref  # type: ignore[method-assign]
        cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "n"}}
        writes = [
            lambda: client.create(cm),
            lambda: client.update(cm),
            lambda: client.patch(ref, "x", {"data": {}}, namespace="n"),
            lambda: client.delete(ref, "x", "n"),
        ]
        for write in writes:  # lease lost: nothing sent
            with pytest.raises(Fenced):
                write()
        assert Counting.requests == []
        client.create(cm, dry_run=True)  # a server dry run changes nothing: no permit asked
        client.delete(ref, "x", "n", dry_run=True)
        client.get(ref, "x", "n")
        assert held.calls == 4 and len(Counting.requests) == 3
        held.until = time.monotonic() + 60  # leading: granted once, reused
        for write in writes:
            write()
        assert held.calls == 5 and len(Counting.requests) == 7
        client.close()
    finally:
        server.close()


def test_a_fenced_repeat_of_a_write_whose_answer_was_lost_is_uncertain_not_fenced() -> None:
    """A PUT sent whole whose connection dropped is repeated; if its permit is refused for the repeat, the first
    attempt may still have been applied: the error says so (Uncertain), not merely fenced."""
    from kates_cli.errors import Uncertain

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    got: list[bytes] = []

    def drop() -> None:  # read each request whole, then close without an answer
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            data = b""
            while b"\r\n\r\n{}" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                data += chunk
            got.append(data)
            conn.close()

    threading.Thread(target=drop, daemon=True).start()
    checks: list[int] = []

    def check() -> None:
        checks.append(1)
        if len(checks) > 1:
            raise Fenced("write fenced: test")

    transport = Transport(ConnectionSettings(f"http://127.0.0.1:{listener.getsockname()[1]}", "c", "default"))
    try:
        with pytest.raises(Uncertain, match=r"may have been applied.*\(write fenced: test\)"):
            transport.request_json("PUT", "/api/v1/namespaces/n/configmaps/x", body=b"{}", before_send=check)
        wait_for(lambda: len(got) == 2, 5, "the repeat's connection closed")
        # the repeat's connection was made (the check comes last), then closed with nothing sent on it
        assert len(checks) == 2 and got[0].startswith(b"PUT ") and got[1] == b""
    finally:
        transport.close()
        listener.close()


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (b"ok nan\n", "the watcher refused a permit: ok nan"),
        (b"ok soon\n", "the watcher refused a permit: ok soon"),
        (b"error: busy\n", "the watcher refused a permit: error: busy"),
        (b"", "the watcher did not answer (stopped or gone): the connection closed without an answer"),
    ],
)
def test_an_answer_not_understood_refuses(directory: str, answer: bytes, words: str) -> None:
    path = str(Path(directory) / "odd.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as odd:
        odd.bind(path)
        odd.listen(1)

        def serve() -> None:
            conn, _ = odd.accept()
            with conn:
                conn.recv(4096)
                conn.sendall(answer)

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        with pytest.raises(Fenced) as info:
            request_permit(path, CLUSTER, timeout=5)
        t.join(5)
    assert info.value.message == f"write fenced: {words}"
