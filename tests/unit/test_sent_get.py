"""A GET sent before its answer is wanted (core/transport.py `SentGet`), and a chunked list that asks for each page's
successor before it hands the page on (core/client.py `_page_bodies`), against a loopback HTTP server speaking raw
bytes: the request leaves at once, its answer is what `Transport.request` would give, a failure before the whole
answer is read is asked again, a refusal is not, and a list left early drops the request it had sent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import orjson
import pytest

from kates_cli.core.client import Client
from kates_cli.core.config import ConnectionSettings
from kates_cli.core.mapping import ResourceRef
from kates_cli.core.transport import Transport
from kates_cli.errors import Gone, Unreachable
from tests.conftest import wait_for

CM = ResourceRef("", "v1", "configmaps", "ConfigMap", True)
# how the server answers one request: (its request line, the socket) -> the bytes to send, or None to close unanswered
Answer = Callable[[str, socket.socket], bytes | None]


def ok(body: bytes, status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


class Server:
    """A loopback HTTP/1.1 server: records each request line as it arrives, answers with `answer`, keeps a
    connection open for the next request, and counts connections that the client closed."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.lines: list[str] = []
        self.closed_by_client = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        data = b""
        with sock:
            while True:
                while b"\r\n\r\n" not in data:
                    try:
                        more = sock.recv(65536)
                    except ConnectionResetError:  # closed with our answer unread: a reset, not an end
                        more = b""
                    if not more:
                        self.closed_by_client += 1
                        return
                    data += more
                head, _, data = data.partition(b"\r\n\r\n")
                line = head.split(b"\r\n")[0].decode()
                self.lines.append(line)
                reply = self.answer(line, sock)
                if reply is None:
                    return
                sock.sendall(reply)

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(), and stops listening
        except OSError:
            pass
        self.listener.close()


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], tuple[Server, Transport]]]:
    servers: list[Server] = []

    def start(answer: Answer) -> tuple[Server, Transport]:
        server = Server(answer)
        servers.append(server)
        settings = ConnectionSettings(server=f"http://127.0.0.1:{server.port}", context="c", namespace="default")
        return server, Transport(settings, timeout=10)

    yield start
    for server in servers:
        server.close()


def test_the_request_leaves_when_made_and_its_answer_is_read_when_asked(serve) -> None:  # type: ignore[no-untyped-def]
    server, transport = serve(lambda line, sock: ok(b'{"page": 2}'))
    sent = transport.send_get("/api/v1/configmaps", params={"limit": 2, "continue": "abc"})
    wait_for(lambda: server.lines, 10, "the request at the server before its answer is asked for")
    assert server.lines == ["GET /api/v1/configmaps?limit=2&continue=abc HTTP/1.1"]
    assert sent.result() == b'{"page": 2}'
    # the connection went back to the pool: the next request uses it
    assert transport.request("GET", "/version") == b'{"page": 2}'
    assert server.closed_by_client == 0 and len(server.lines) == 2


def test_a_request_whose_connection_drops_unanswered_is_asked_again(serve) -> None:  # type: ignore[no-untyped-def]
    def answer(line: str, sock: socket.socket) -> bytes | None:
        return None if len(server.lines) == 1 else ok(b"{}")

    server, transport = serve(answer)
    assert transport.send_get("/x").result() == b"{}"
    assert server.lines == ["GET /x HTTP/1.1"] * 2


def test_a_body_cut_short_is_asked_again(serve) -> None:  # type: ignore[no-untyped-def]
    def answer(line: str, sock: socket.socket) -> bytes | None:
        if len(server.lines) == 1:
            sock.sendall(ok(b'{"items": [1, 2, 3]}')[:-5])
            return None
        return ok(b'{"items": []}')

    server, transport = serve(answer)
    assert transport.send_get("/x").result() == b'{"items": []}'
    assert len(server.lines) == 2


def test_a_refusal_is_the_servers_error_and_is_not_asked_again(serve) -> None:  # type: ignore[no-untyped-def]
    status = orjson.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "reason": "Expired",
            "code": 410,
            "message": "The provided continue parameter is too old",
        }
    )
    server, transport = serve(lambda line, sock: ok(status, "410 Gone"))
    with pytest.raises(Gone) as info:
        transport.send_get("/x", params={"continue": "old"}).result()
    assert info.value.message == "The provided continue parameter is too old"
    assert len(server.lines) == 1


def test_a_request_that_cannot_be_sent_fails_as_a_request_does(serve) -> None:  # type: ignore[no-untyped-def]
    server, transport = serve(lambda line, sock: ok(b"{}"))
    server.close()  # nothing listens any more: every connection is refused
    sent = transport.send_get("/x")
    with pytest.raises(Unreachable, match="connection refused"):
        sent.result()


def test_a_sent_request_never_asked_for_is_dropped_with_its_connection(serve) -> None:  # type: ignore[no-untyped-def]
    server, transport = serve(lambda line, sock: ok(b"{}"))
    sent = transport.send_get("/x")
    wait_for(lambda: server.lines, 10, "the request at the server")
    sent.close()
    wait_for(lambda: server.closed_by_client == 1, 10, "the client to close the connection")
    sent.close()  # twice: nothing more


def pages(limit: int, count: int) -> Answer:
    """A list of `count` pages: page k's continue token is "k"."""

    def answer(line: str, sock: socket.socket) -> bytes | None:
        k = int(line.split("continue=")[1].split(" ")[0].split("&")[0]) if "continue=" in line else 0
        token = f',"continue":"{k + 1}"' if k + 1 < count else ""
        items = ",".join(f'{{"metadata":{{"name":"cm-{k}-{i}"}}}}' for i in range(limit))
        head = f'{{"kind":"ConfigMapList","apiVersion":"v1","metadata":{{"resourceVersion":"7"{token}}}'
        body = f'{head},"items":[{items}]}}'
        return ok(body.encode())

    return answer


def test_a_list_asks_for_the_next_page_before_handing_on_this_one(serve) -> None:  # type: ignore[no-untyped-def]
    server, transport = serve(pages(2, 3))
    client = Client(settings=transport.settings)
    client.transport = transport
    got = client.list_pages(CM, "ns", chunk_size=2)
    first = next(got)
    assert [i["metadata"]["name"] for i in first["items"]] == ["cm-0-0", "cm-0-1"]
    # the second page's request is at the server while the first is in the caller's hands
    wait_for(lambda: len(server.lines) == 2, 10, "the second page's request")
    assert server.lines[1] == "GET /api/v1/namespaces/ns/configmaps?limit=2&continue=1 HTTP/1.1"
    rest = [i["metadata"]["name"] for page in got for i in page["items"]]
    assert rest == ["cm-1-0", "cm-1-1", "cm-2-0", "cm-2-1"]
    assert len(server.lines) == 3  # the last page asks for nothing more


def test_a_list_left_early_drops_the_request_it_had_sent(serve) -> None:  # type: ignore[no-untyped-def]
    server, transport = serve(pages(1, 5))
    client = Client(settings=transport.settings)
    client.transport = transport
    got = client.list_pages(CM, "ns", chunk_size=1)
    next(got)
    wait_for(lambda: len(server.lines) == 2, 10, "the second page's request")
    got.close()
    wait_for(lambda: server.closed_by_client == 1, 10, "the sent request's connection closed")
    assert len(server.lines) == 2


def test_the_next_page_is_asked_for_once_the_first_bytes_hold_its_token(serve) -> None:  # type: ignore[no-untyped-def]
    """The server sends page 0's head, then waits: the request for page 1 must arrive before page 0 is whole."""
    whole = threading.Event()

    def answer(line: str, sock: socket.socket) -> bytes | None:
        if "continue=" in line:
            whole.set()  # page 1's request came while page 0's body was still open
            return ok(b'{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}')
        head = b'{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"7","continue":"1"},"items":['
        rest = b'{"metadata":{"name":"a"}}]}'
        sock.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            + f"{len(head):x}\r\n".encode()
            + head
            + b"\r\n"
        )
        if not whole.wait(10):
            return None  # never asked for: page 0 is cut, and the list fails
        return f"{len(rest):x}\r\n".encode() + rest + b"\r\n0\r\n\r\n"

    server, transport = serve(answer)
    client = Client(settings=transport.settings)
    client.transport = transport
    pages = list(client.list_pages(CM, "ns", chunk_size=1))
    assert [[i["metadata"]["name"] for i in p["items"]] for p in pages] == [["a"], []]
    assert server.lines[1] == "GET /api/v1/namespaces/ns/configmaps?limit=1&continue=1 HTTP/1.1"


def test_a_timeout_is_raised_and_not_asked_again(serve) -> None:  # type: ignore[no-untyped-def]
    released = threading.Event()

    def answer(line: str, sock: socket.socket) -> bytes | None:
        released.wait(10)  # never answers within the client's timeout
        return None

    server, transport = serve(answer)
    transport.timeout = 0.3
    try:
        with pytest.raises(Unreachable, match="timed out"):
            transport.send_get("/x").result()
        assert len(server.lines) == 1  # a slow server may still be at work: never asked twice
    finally:
        released.set()


def test_a_401_refreshes_the_exec_credential_once_as_a_request_does(serve) -> None:  # type: ignore[no-untyped-def]
    from kates_cli.core.config import ExecCredential
    from kates_cli.core.credentials import ExecAuthenticator
    from kates_cli.errors import Unauthorized

    runs: list[int] = []

    def plugin(config: object, cluster_server: str, interactive: bool = False) -> ExecCredential:
        runs.append(1)
        return ExecCredential(token=f"t{len(runs)}", client_cert_data=None, client_key_data=None, expires_at=None)

    unauthorized = orjson.dumps({"kind": "Status", "apiVersion": "v1", "code": 401, "message": "Unauthorized"})
    counts = []
    for how in ("request", "send_get"):
        _, transport = serve(lambda line, sock: ok(unauthorized, "401 Unauthorized"))
        transport._exec = ExecAuthenticator({}, "x", run=plugin)
        runs.clear()
        with pytest.raises(Unauthorized):
            if how == "request":
                transport.request("GET", "/x")
            else:
                transport.send_get("/x").result()
        counts.append(len(runs))
    assert counts[0] == counts[1] == 2  # the first credential, and one refresh after the 401


def test_a_connection_made_before_a_certificate_rotation_is_not_pooled() -> None:
    """A connection checked out (a page sent early) while the exec plugin rotated the client certificate must not
    be reused after it answers: the pool then holds only connections presenting the new certificate."""
    import ssl

    from kates_cli.core import http11
    from kates_cli.core.transport import _ServerNameContext

    transport = Transport(ConnectionSettings(server="https://127.0.0.1:1", context="c", namespace="default"))
    old, new = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    transport._ssl = old
    current = http11.Connection("127.0.0.1", 1, context=_ServerNameContext(old, None))  # type: ignore[arg-type]
    transport.release(current)
    assert transport._pool == [current]
    transport._pool.clear()
    transport._ssl = new  # the certificate rotated while `current` was out
    transport.release(current)
    assert transport._pool == []
