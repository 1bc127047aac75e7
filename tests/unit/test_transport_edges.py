"""core/transport.py at its edges, against a peer on a real loopback socket: `abort` unblocks a reader of a response
the connection let go of, an early answer to a request whose body was cut is never pooled, what ssl, the idna codec
or the request's head refuse is a ConfigError (never a traceback), and a path that cannot go into a request line
as it is goes percent-encoded, as Go writes it."""

from __future__ import annotations

import dataclasses
import socket
import threading
from collections.abc import Callable, Iterator

import pytest

from kates_cli.core.config import ConnectionSettings
from kates_cli.core.transport import Transport, build_url
from kates_cli.errors import ApiError, ConfigError, Unreachable
from tests.unit.test_http11 import read_request


class Server:
    """A loopback listener whose one connection runs `script`; `stop` releases a script waiting on `release`."""

    def __init__(self, script: Callable[[socket.socket, Server], None]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.release = threading.Event()
        self.requests: list[bytes] = []
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script: Callable[[socket.socket, Server], None]) -> None:
        conn, _ = self.listener.accept()
        with conn:
            script(conn, self)

    def transport(self, **settings: object) -> Transport:
        return Transport(
            ConnectionSettings(server=f"http://127.0.0.1:{self.port}", context="c", namespace="default", **settings)  # type: ignore[arg-type]
        )

    def stop(self) -> None:
        self.release.set()
        self.thread.join(10)
        self.listener.close()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    made: list[Server] = []
    yield made
    for server in made:
        server.stop()


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",  # a server shutting down
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",  # through an HTTP/1.0 hop
    ],
    ids=["connection close", "http 1.0"],
)
def test_abort_unblocks_a_reader_of_a_response_the_connection_let_go_of(servers: list[Server], head: bytes) -> None:
    """Such a response reads from its own file, with the connection's socket gone from the connection: `abort` used
    to find no socket and do nothing, and a stopped watch waited for its read deadline (30 s)."""

    def script(conn: socket.socket, server: Server) -> None:
        server.requests.append(read_request(conn))
        conn.sendall(head + b"b\r\nfirst line\n\r\n")
        server.release.wait(30)  # then silent, the connection open

    server = Server(script)
    servers.append(server)
    resp = server.transport().open("GET", "/watch", timeout=30)
    got: list[list[bytes]] = []
    ended: list[BaseException | None] = []

    def read() -> None:
        try:
            for lines in resp.line_batches():
                got.append(lines)
            ended.append(None)
        except BaseException as exc:  # the cut connection: Unreachable
            ended.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = threading.Event()
    for _ in range(500):  # the first line is in: the reader now blocks on the silent connection
        if got:
            break
        deadline.wait(0.01)
    assert got == [[b"first line"]]
    resp.abort()
    reader.join(5)  # well before the 30 s read deadline
    assert not reader.is_alive()
    assert ended and (ended[0] is None or isinstance(ended[0], Unreachable))
    resp.close()


def test_an_early_answer_to_a_cut_request_body_is_never_pooled(servers: list[Server]) -> None:
    """The server answers 413 after the head and reads no more of the body, keeping the connection open: it still
    expects the rest of that body, so the connection must not carry another request."""

    def script(conn: socket.socket, server: Server) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            data += conn.recv(65536)
        conn.sendall(b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 0\r\n\r\n")
        server.release.wait(30)

    server = Server(script)
    servers.append(server)
    transport = server.transport()
    with pytest.raises(ApiError) as raised:
        transport.open("PUT", "/api/v1/namespaces/default/configmaps/x", body=b"x" * (64 << 20), timeout=1)
    assert raised.value.code == 413
    assert transport._pool == []


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"server": "https://a..b:6443"}, 'invalid server URL "https://a..b:6443" in the kubeconfig'),
        ({"server": "https://\u00e9" + "x" * 70 + ":6443"}, "invalid server URL"),  # idna: a label over 63
        ({"server": "https://k8s:6443", "tls_server_name": ".example.com"}, 'invalid tls-server-name ".example.com"'),
        ({"server": "https://k8s:6443", "tls_server_name": "a." + "b" * 64}, "invalid tls-server-name"),
    ],
)
def test_a_host_name_ssl_and_getaddrinfo_refuse_is_refused_at_once(settings: dict[str, str], says: str) -> None:
    """The idna codec's UnicodeError and ssl's ValueError used to reach the user as an internal error."""
    with pytest.raises(ConfigError, match=says):
        Transport(ConnectionSettings(context="c", namespace="default", **settings))  # type: ignore[arg-type]


@pytest.mark.parametrize("server", ["https://k8s.example.com.:6443", "https://[::1]:6443", "https://\u00e9t\u00e9:1"])
def test_host_names_ssl_takes_are_taken(server: str) -> None:
    Transport(ConnectionSettings(server=server, context="c", namespace="default"))


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"server": "http://127.0.0.1:1", "token": "t\u00f6k\u20acn"}, "codec"),  # not latin-1: no header
        ({"server": "http://127.0.0.1:1", "token": "line\nbreak"}, "Invalid header"),
    ],
    ids=["not latin-1", "line break"],
)
def test_what_cannot_be_sent_is_a_config_error(settings: dict[str, str], says: str) -> None:
    transport = Transport(ConnectionSettings(context="c", namespace="default", **settings))  # type: ignore[arg-type]
    for send in (lambda: transport.request("GET", "/api"), lambda: transport.send_get("/api").result()):
        with pytest.raises(ConfigError, match=says) as raised:
            send()
        assert "kubeconfig" in (raised.value.hint or "")
    assert transport._pool == []


def test_what_ssl_refuses_when_connecting_is_a_config_error(servers: list[Server]) -> None:
    """Past the check at construction (settings changed since), ssl's ValueError still becomes a ConfigError."""

    def script(conn: socket.socket, server: Server) -> None:
        server.release.wait(30)

    server = Server(script)
    servers.append(server)
    settings = ConnectionSettings(server=f"https://127.0.0.1:{server.port}", context="c", namespace="default")
    transport = Transport(settings)
    transport.settings = dataclasses.replace(settings, tls_server_name=".example.com")
    with pytest.raises(ConfigError, match=r"cannot send a request to the server https://127\.0\.0\.1:"):
        transport.request("GET", "/api")


@pytest.mark.parametrize(
    ("path", "url"),
    [
        ("/api/v1/namespaces/default/configmaps", "/api/v1/namespaces/default/configmaps"),
        ("/api/\u65e5\u672c", "/api/%E6%97%A5%E6%9C%AC"),  # UTF-8, as Go's url.URL writes it
        ("/api/\u00e9", "/api/%C3%A9"),  # was sent as the raw latin-1 byte
        ("/api/a b\tc\x7f", "/api/a%20b%09c%7F"),  # was refused as InvalidURL: "unable to connect"
        ("/api/a%2Fb?x=1&y=~", "/api/a%2Fb?x=1&y=~"),  # escapes and the rest of ASCII stay as they are
        ("/api/a\r\nX-Injected: 1", "/api/a%0D%0AX-Injected:%201"),
        ("/api/\udcff", "/api/%FF"),  # a byte of argv that is no UTF-8 (surrogate-escaped): Go writes %FF
    ],
)
def test_a_path_is_percent_encoded_where_it_cannot_go_as_it_is(path: str, url: str) -> None:
    assert build_url(path) == url
    if "?" not in path:
        assert build_url(path, {"limit": 5, "watch": True}) == url + "?limit=5&watch=true"
