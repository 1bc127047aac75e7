"""core/http11.py against a peer speaking raw bytes over a real socket pair: framing (length, chunks with trailers,
until close, no body), reuse of a connection only where the framing allows, http.client's errors for cut and
malformed answers, refusals before anything is sent, and a CONNECT tunnel through a proxy."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from kates_cli.core import http11

Script = Callable[["Peer", socket.socket], None]


def read_request(peer: socket.socket) -> bytes:
    """One request's head and body (by its Content-Length), as the peer received it."""
    data = b""
    while b"\r\n\r\n" not in data:
        more = peer.recv(65536)
        if not more:
            return data
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        body += peer.recv(65536)
    return head + b"\r\n\r\n" + body


class Peer:
    """The far end of a connection: runs `script` on its socket in a thread."""

    def __init__(self, script: Script) -> None:
        self.near, self.far = socket.socketpair()
        self.requests: list[bytes] = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script: Script) -> None:
        try:
            script(self, self.far)
        except BaseException as exc:  # reported by join()
            self.error = exc
        finally:
            self.far.close()

    def dial(self, address: tuple[str, int], *args: object) -> socket.socket:
        return self.near

    def connection(self, **kw: object) -> http11.Connection:
        return http11.Connection("api.example", 6443, dial=self.dial, timeout=10, **kw)  # type: ignore[arg-type]

    def join(self) -> None:
        self.near.close()  # the client is done with the connection (if it did not close it)
        self.thread.join(10)
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error


@pytest.fixture
def peers() -> Iterator[list[Peer]]:
    made: list[Peer] = []
    yield made
    for peer in made:
        peer.near.close()
        peer.thread.join(10)


def answering(peers: list[Peer], *answers: bytes | list[bytes]) -> Peer:
    """A peer that reads a request before sending each answer (a list: its pieces, sent apart), then closes."""

    def script(peer: Peer, sock: socket.socket) -> None:
        for answer in answers:
            peer.requests.append(read_request(sock))
            for piece in answer if isinstance(answer, list) else [answer]:
                sock.sendall(piece)
        sock.shutdown(socket.SHUT_WR)
        while sock.recv(65536):
            pass

    made = Peer(script)
    peers.append(made)
    return made


def asked(peers: list[Peer], answer: bytes) -> tuple[Peer, http11.Connection]:
    """A peer that will send `answer`, and a connection to it that has sent it `GET /`."""
    peer = answering(peers, answer)
    conn = peer.connection()
    conn.request("GET", "/")
    return peer, conn


OK_HELLO = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Seen: a\r\nx-seen: b\r\n\r\nhello"


def test_a_length_framed_answer_and_the_connection_carries_the_next_request(peers: list[Peer]) -> None:
    peer = answering(peers, OK_HELLO, b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok")
    conn = peer.connection()
    conn.request("POST", "/api/v1/x?a=b", body=b'{"a":1}', headers={"Accept": "application/json"})
    resp = conn.getresponse()
    assert (resp.status, resp.reason, resp.read(), resp.isclosed()) == (200, "OK", b"hello", True)
    assert resp.headers.get("x-SEEN") == "a" and resp.headers.get_all("X-Seen") == ["a", "b"]
    assert resp.getheader("x-seen") == "a, b" and resp.headers.get_all("Warning") is None
    assert conn.sock is not None  # kept for the next request
    conn.request("GET", "/api", headers={})
    second = conn.getresponse()
    assert (second.status, second.read()) == (201, b"ok")
    conn.close()
    peer.join()
    first = peer.requests[0].split(b"\r\n")
    assert first[:4] == [b"POST /api/v1/x?a=b HTTP/1.1", b"Host: api.example:6443", b"Accept: application/json",
                         b"Content-Length: 7"]  # fmt: skip
    assert peer.requests[0].endswith(b'\r\n\r\n{"a":1}')
    assert peer.requests[1].startswith(b"GET /api HTTP/1.1\r\nHost: api.example:6443\r\n\r\n")


@pytest.mark.parametrize("split", [False, True])
def test_a_chunked_answer_with_trailers_is_read_whole_and_the_connection_reused(peers: list[Peer], split: bool) -> None:
    body = b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"
    pieces = [body[:-2], body[-2:]] if split else [body]  # the end of the trailers in a later read
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    peer = answering(peers, [head + pieces[0], *pieces[1:]], OK_HELLO)
    conn = peer.connection()
    conn.request("GET", "/w")
    resp = conn.getresponse()
    assert resp.chunked and resp.read() == b"hello world" and resp.isclosed()
    conn.request("GET", "/again")
    assert conn.getresponse().read() == b"hello"
    conn.close()
    peer.join()


def test_chunks_that_arrived_together_come_out_of_one_read(peers: list[Peer]) -> None:
    events = [b'{"n":%d}\n' % i for i in range(50)]
    wire = b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events)
    peer = answering(peers, [b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + wire, b"0\r\n\r\n"])
    conn = peer.connection()
    conn.request("GET", "/watch")
    resp = conn.getresponse()
    assert resp.read1(65536) == b"".join(events)
    assert resp.read1(65536) == b"" and resp.isclosed()
    peer.join()


def test_a_body_until_close_and_a_connection_close_answer_end_the_connection(peers: list[Peer]) -> None:
    peer, conn = asked(peers, b"HTTP/1.1 200 OK\r\n\r\nuntil the end")
    resp = conn.getresponse()
    assert resp.will_close and conn.sock is None  # the response reads on from its own file
    assert resp.read() == b"until the end"
    peer.join()

    peer, conn = asked(peers, b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbye")
    resp = conn.getresponse()
    assert conn.sock is None and resp.read() == b"bye"
    peer.join()

    peer, conn = asked(peers, b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold")
    resp = conn.getresponse()
    assert resp.will_close and resp.read() == b"old"
    peer.join()


@pytest.mark.parametrize(
    ("method", "answer"),
    [
        ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n"),
        ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
        ("GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"),
    ],
)
def test_answers_without_a_body(peers: list[Peer], method: str, answer: bytes) -> None:
    peer = answering(peers, answer, OK_HELLO)
    conn = peer.connection()
    conn.request(method, "/")
    resp = conn.getresponse()
    assert resp.isclosed() and resp.read() == b""
    conn.request("GET", "/")
    assert conn.getresponse().read() == b"hello"
    conn.close()
    peer.join()


def test_interim_answers_are_skipped(peers: list[Peer]) -> None:
    peer, conn = asked(peers, b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\nX: y\r\n\r\n" + OK_HELLO)
    resp = conn.getresponse()
    assert (resp.status, resp.read()) == (200, b"hello")
    peer.join()


def test_no_answer_is_remote_disconnected(peers: list[Peer]) -> None:
    peer, conn = asked(peers, b"")
    with pytest.raises(http11.RemoteDisconnected) as raised:
        conn.getresponse()
    assert isinstance(raised.value, ConnectionResetError)
    assert conn.sock is None
    peer.join()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
    ],
    ids=["length", "chunks"],
)
def test_a_body_cut_short_is_incomplete(peers: list[Peer], answer: bytes) -> None:
    peer, conn = asked(peers, answer)
    resp = conn.getresponse()
    with pytest.raises(http11.IncompleteRead):
        resp.read()
    peer.join()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/2 200 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"garbage\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n",
        b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000 + b"\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 3, 4\r\n\r\nabc",
    ],
    ids=["version", "code", "garbage", "header", "too many headers", "long line", "two lengths"],
)
def test_a_malformed_answer_is_an_http_exception(peers: list[Peer], answer: bytes) -> None:
    peer, conn = asked(peers, answer)
    with pytest.raises(http11.HTTPException):
        conn.getresponse()
    assert conn.sock is None
    peer.join()


def test_bad_chunk_framing_is_an_http_exception(peers: list[Peer]) -> None:
    peer, conn = asked(peers, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
    with pytest.raises(http11.HTTPException, match="chunked"):
        conn.getresponse().read()
    peer.join()


def test_a_bad_url_or_header_is_refused_before_anything_is_sent() -> None:
    dialled: list[object] = []

    def dial(*args: object) -> socket.socket:
        dialled.append(args)
        raise AssertionError("dialled")

    conn = http11.Connection("h", 1, dial=dial)
    with pytest.raises(http11.InvalidURL):
        conn.request("GET", "/a b")
    with pytest.raises(http11.InvalidURL):
        conn.request("GET", "/a\r\nX: y")
    with pytest.raises(ValueError, match="Invalid header"):
        conn.request("GET", "/", headers={"Authorization": "Bearer x\r\nX-Injected: 1"})
    assert dialled == []


def test_a_write_without_a_body_says_its_length_is_zero(peers: list[Peer]) -> None:
    peer = answering(peers, OK_HELLO)
    conn = peer.connection()
    conn.request("POST", "/x")
    conn.getresponse().read()
    conn.close()
    peer.join()
    assert b"\r\nContent-Length: 0\r\n" in peer.requests[0]


def test_the_default_port_is_not_in_the_host_header(peers: list[Peer]) -> None:
    peer = answering(peers, OK_HELLO)
    conn = http11.Connection("::1", 80, dial=peer.dial)
    conn.request("GET", "/")
    conn.getresponse().read()
    conn.close()
    peer.join()
    assert peer.requests[0].startswith(b"GET / HTTP/1.1\r\nHost: [::1]\r\n")


@pytest.mark.parametrize("refused", [False, True])
def test_a_connect_tunnel_through_a_proxy(peers: list[Peer], refused: bool) -> None:
    def proxy(peer: Peer, sock: socket.socket) -> None:
        peer.requests.append(read_request(sock))
        if refused:
            sock.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            return
        sock.sendall(b"HTTP/1.1 200 Connection established\r\nVia: proxy\r\n\r\n")
        peer.requests.append(read_request(sock))  # what goes through the tunnel
        sock.sendall(OK_HELLO)

    peer = Peer(proxy)
    peers.append(peer)
    conn = http11.Connection("proxy.example", 3128, dial=peer.dial, timeout=10)
    conn.set_tunnel("api.example", 6443, "Basic dTpw")
    if refused:
        with pytest.raises(OSError, match="Tunnel connection failed: 407 Proxy Authentication Required"):
            conn.request("GET", "/api")
        assert conn.sock is None
    else:
        conn.request("GET", "/api")
        assert conn.getresponse().read() == b"hello"
        conn.close()
    peer.join()
    assert peer.requests[0] == (
        b"CONNECT api.example:6443 HTTP/1.1\r\nHost: api.example:6443\r\nProxy-Authorization: Basic dTpw\r\n\r\n"
    )
    if not refused:
        assert peer.requests[1].startswith(b"GET /api HTTP/1.1\r\nHost: api.example:6443\r\n")


def test_bytes_after_the_last_chunk_make_the_connection_unfit_for_reuse(peers: list[Peer]) -> None:
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nunasked"
    peer, conn = asked(peers, wire)
    resp = conn.getresponse()
    assert not resp.will_close
    assert resp.read() == b"ok" and resp.will_close  # the transport does not pool it (Response.close)
    peer.join()


def test_a_chunked_body_whose_server_closes_instead_of_ending_the_trailers_is_whole(peers: list[Peer]) -> None:
    """http.client takes it (a few servers close after the last chunk); the connection is not used again."""
    peer, conn = asked(peers, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n")
    resp = conn.getresponse()
    assert resp.read() == b"hello" and resp.isclosed() and resp.will_close
    peer.join()


def test_the_last_events_are_not_held_back_until_the_trailers_end(peers: list[Peer]) -> None:
    """The last chunk arrives with data and the end of the trailer section later: the data comes out at once."""
    proceed = threading.Event()
    sent_rest: list[bool] = []

    def script(peer: Peer, sock: socket.socket) -> None:
        read_request(sock)
        sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n")
        proceed.wait(10)
        sent_rest.append(True)
        sock.sendall(b"\r\n")

    peer = Peer(script)
    peers.append(peer)
    conn = peer.connection()
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert resp.read1(65536) == b"hello"
    assert not sent_rest  # returned before the end of the trailers was sent
    proceed.set()
    assert resp.read1(65536) == b"" and resp.isclosed() and not resp.will_close
    peer.join()


@pytest.mark.parametrize(
    "answer",
    [b"HTTP/1.1 \xb200 OK\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: \xb9\r\n\r\nx"],
    ids=["status", "length"],
)
def test_digits_that_are_not_ascii_are_malformed(peers: list[Peer], answer: bytes) -> None:
    peer, conn = asked(peers, answer)
    with pytest.raises(http11.HTTPException):
        conn.getresponse()
    peer.join()


def test_no_response_is_read_for_a_request_never_sent(peers: list[Peer]) -> None:
    """A request refused before sending (a bad URL) on a connection already made: reading an answer fails at once
    instead of waiting for one that will never come."""
    peer = answering(peers)
    conn = peer.connection()
    conn.connect()
    with pytest.raises(http11.InvalidURL):
        conn.request("POST", "/a b", body=b"{}")
    with pytest.raises(http11.HTTPException, match="no request sent"):
        conn.getresponse()
    conn.close()
    peer.join()


def test_a_cut_body_leaves_the_connection_unfit_for_reuse(peers: list[Peer]) -> None:
    peer, conn = asked(peers, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort")
    resp = conn.getresponse()
    with pytest.raises(http11.IncompleteRead):
        resp.read()
    assert resp.isclosed() and resp.will_close
    peer.join()


@pytest.mark.parametrize(
    ("answer", "body", "will_close"),
    [
        # every Transfer-Encoding field counts: the last coding of the two is chunked
        (b"Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", b"abc", False),
        # a coding other than chunked last: until the server closes, whatever Content-Length says
        (b"Transfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcdef", b"abcdef", True),
        # a second Connection field counts too
        (b"Connection: keep-alive\r\nConnection: close\r\nContent-Length: 2\r\n\r\nab", b"ab", True),
    ],
    ids=["two coding fields", "coding and length", "two connection fields"],
)
def test_every_field_of_a_framing_header_counts(
    peers: list[Peer], answer: bytes, body: bytes, will_close: bool
) -> None:
    peer, conn = asked(peers, b"HTTP/1.1 200 OK\r\n" + answer)
    resp = conn.getresponse()
    assert (resp.read(), resp.will_close) == (body, will_close)
    conn.close()
    peer.join()


def test_an_http_1_0_answer_with_keep_alive_leaves_the_connection_open(peers: list[Peer]) -> None:
    peer = answering(peers, b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nold", OK_HELLO)
    conn = peer.connection()
    conn.request("GET", "/")
    resp = conn.getresponse()
    assert (resp.read(), resp.will_close, conn.sock is not None) == (b"old", False, True)
    conn.request("GET", "/")
    assert conn.getresponse().read() == b"hello"
    conn.close()
    peer.join()


@pytest.mark.parametrize("length", [10**20, 10**15, http11.READ_AT_ONCE + 1])
def test_a_length_the_body_does_not_have_is_incomplete_and_never_allocated(peers: list[Peer], length: int) -> None:
    """A Content-Length beyond READ_AT_ONCE is read in steps: 10**20 overflowed a C size and 10**15 bytes were
    allocated up front (MemoryError), where the server sent three bytes and closed."""
    peer, conn = asked(peers, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\nabc" % length)
    resp = conn.getresponse()
    with pytest.raises(http11.IncompleteRead) as raised:
        resp.read()
    assert (raised.value.partial, raised.value.expected) == (b"abc", length - 3)
    assert resp.isclosed() and resp.will_close
    peer.join()


def test_a_long_body_read_in_steps_is_whole(peers: list[Peer], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http11, "READ_AT_ONCE", 1000)
    body = bytes(range(256)) * 20  # 5,120 bytes: six steps
    peer = answering(peers, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body, OK_HELLO)
    conn = peer.connection()
    conn.request("GET", "/")
    assert conn.getresponse().read() == body
    conn.request("GET", "/")  # the framing ended where it should: the connection goes on
    assert conn.getresponse().read() == b"hello"
    conn.close()
    peer.join()


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n\r\nabc",
    ],
    ids=["connection close", "until close"],
)
def test_a_response_the_connection_let_go_of_keeps_its_socket_until_its_body_ends(
    peers: list[Peer], answer: bytes
) -> None:
    peer, conn = asked(peers, answer)
    sock = conn.sock
    resp = conn.getresponse()
    assert conn.sock is None and resp.sock is sock  # another thread may still shut it down (transport's abort)
    assert resp.read() == b"abc"
    assert resp.sock is None
    peer.join()
    peer, conn = asked(peers, OK_HELLO)
    resp = conn.getresponse()
    assert resp.sock is None and conn.sock is not None  # a connection that goes on keeps it
    assert resp.read() == b"hello"
    conn.close()
    peer.join()
