"""core/tlsbio.py: TLS over memory BIOs, against a real TLS server (Python's ssl, in a thread) on loopback.

Every request of the e2e suite goes through `TLSSocket` to the real API server (http.client, client certificates,
tokens, watches, a server restarted under a watch); these tests hold the edges: a burst of records in one read,
verification failures as an SSLSocket raises them, the end of the stream, timeouts and a shutdown from another thread.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest

from kates_cli.core.tlsbio import TLSSocket
from tests.controlplane.certs import LocalPKI


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> LocalPKI:
    return LocalPKI(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def server_ctx(pki: LocalPKI) -> ssl.SSLContext:
    cert, key = pki.issue("server", "localhost", server=True)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def client_ctx(pki: LocalPKI) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(pki.ca_cert))


class Counting:
    """A plain socket that counts the reads asked of the kernel."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.reads = 0

    def recv(self, size: int) -> bytes:
        self.reads += 1
        return self.sock.recv(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@pytest.fixture
def serve(server_ctx: ssl.SSLContext) -> Iterator[Callable[[Callable[[ssl.SSLSocket], None]], Counting]]:
    """serve(handler): a loopback TLS server running `handler` on its one connection; returns the client's plain
    socket, connected (wrapped in Counting)."""
    threads: list[threading.Thread] = []
    listeners: list[socket.socket] = []

    def start(handler: Callable[[ssl.SSLSocket], None]) -> Counting:
        listener = socket.create_server(("127.0.0.1", 0))
        listeners.append(listener)

        def run() -> None:
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    handler(tls)
            except (OSError, ssl.SSLError):
                pass  # a client that refused the server's certificate
            finally:
                conn.close()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        threads.append(thread)
        return Counting(socket.create_connection(listener.getsockname(), timeout=10))

    yield start
    for thread in threads:
        thread.join(10)
    for listener in listeners:
        listener.close()


def tls(ctx: ssl.SSLContext, plain: Counting, name: bytes = b"localhost") -> TLSSocket:
    return TLSSocket(ctx, cast(socket.socket, plain), name)


def test_a_burst_of_records_is_taken_in_by_one_read(pki: LocalPKI, serve: Any) -> None:
    """200 records sent one by one (an SSLSocket reads each with two system calls) arrive in one read of the
    kernel, and one recv_into returns them all."""
    sent = threading.Event()

    def handler(conn: ssl.SSLSocket) -> None:
        assert conn.recv(5) == b"hello"
        for i in range(200):
            conn.sendall(b"event %03d\n" % i)
        sent.set()
        conn.recv(1)  # until the client closes

    plain = serve(handler)
    client = tls(client_ctx(pki), plain)
    assert client.version() in ("TLSv1.2", "TLSv1.3")
    client.sendall(b"hello")
    assert sent.wait(10)
    want = b"".join(b"event %03d\n" % i for i in range(200))
    got = b""
    deadline = time.monotonic() + 10
    while len(got) < len(want) and time.monotonic() < deadline:  # loopback may hand over the bytes in pieces
        buffer = bytearray(65536)
        n = client.recv_into(buffer)
        got += bytes(buffer[:n])
    assert got == want
    assert plain.reads <= 8  # the handshake's, the session tickets', and a few for 200 records (an SSLSocket: 400)
    client.close()


def test_makefile_read1_returns_everything_that_arrived(pki: LocalPKI, serve: Any) -> None:
    def handler(conn: ssl.SSLSocket) -> None:
        for i in range(50):
            conn.sendall(b"line %02d\n" % i)
        conn.recv(1)

    plain = serve(handler)
    client = tls(client_ctx(pki), plain)
    stream = client.makefile("rb")
    got = b""
    while len(got) < 400:
        got += stream.read1(65536)
    assert got == b"".join(b"line %02d\n" % i for i in range(50))
    stream.close()
    assert client.fileno() != -1  # closing the file leaves the connection to its owner
    client.close()


def test_a_large_write_arrives_whole(pki: LocalPKI, serve: Any) -> None:
    payload = bytes(range(256)) * 8192  # 2 MiB, many records
    received = bytearray()

    def handler(conn: ssl.SSLSocket) -> None:
        while len(received) < len(payload):
            data = conn.recv(65536)
            if not data:
                break
            received.extend(data)
        conn.sendall(b"ok")

    plain = serve(handler)
    client = tls(client_ctx(pki), plain)
    client.sendall(payload)
    assert client.recv(16) == b"ok"
    assert bytes(received) == payload
    client.close()


def test_an_unknown_authority_fails_as_an_sslsocket_fails(pki: LocalPKI, serve: Any, tmp_path: Path) -> None:
    other = client_ctx(LocalPKI(tmp_path / "other"))
    plain = serve(lambda conn: None)
    with pytest.raises(ssl.SSLCertVerificationError) as ours:
        tls(other, plain)
    assert plain.fileno() == -1  # closed, as wrap_socket closes it
    reference = serve(lambda conn: None)
    with pytest.raises(ssl.SSLCertVerificationError) as theirs:
        other.wrap_socket(cast(socket.socket, reference.sock), server_hostname="localhost")
    assert ours.value.verify_message == theirs.value.verify_message
    assert ours.value.verify_code == theirs.value.verify_code


def test_a_wrong_server_name_fails_verification(pki: LocalPKI, serve: Any) -> None:
    plain = serve(lambda conn: None)
    with pytest.raises(ssl.SSLCertVerificationError, match="ostname mismatch"):
        tls(client_ctx(pki), plain, b"elsewhere.example")


@pytest.mark.parametrize("close_notify", [True, False], ids=["close-notify", "ragged"])
def test_the_end_of_the_stream_reads_as_nothing(pki: LocalPKI, serve: Any, close_notify: bool) -> None:
    def handler(conn: ssl.SSLSocket) -> None:
        conn.sendall(b"last words")
        if close_notify:
            conn.unwrap()
        else:
            conn.shutdown(socket.SHUT_RDWR)  # no close_notify

    plain = serve(handler)
    client = tls(client_ctx(pki), plain)
    stream = client.makefile("rb")
    assert stream.read() == b"last words"
    assert client.recv(10) == b""
    client.close()


def test_a_silent_server_times_out(pki: LocalPKI, serve: Any) -> None:
    done = threading.Event()
    plain = serve(lambda conn: done.wait(10))
    client = tls(client_ctx(pki), plain)
    client.settimeout(0.2)
    assert client.gettimeout() == 0.2
    with pytest.raises(TimeoutError):
        client.recv(10)
    done.set()
    client.close()


def test_a_shutdown_from_another_thread_ends_a_blocked_read(pki: LocalPKI, serve: Any) -> None:
    """How a watch is stopped (core/transport.py's Response.abort): the reader ends at once, with the end of the
    stream or an OSError, never a hang."""
    done = threading.Event()

    def handler(conn: ssl.SSLSocket) -> None:
        conn.sendall(b"ready")
        done.wait(10)

    plain = serve(handler)
    client = tls(client_ctx(pki), plain)
    assert client.recv(10) == b"ready"  # the session tickets before it are read too: nothing else is unread
    result: list[object] = []

    def read() -> None:
        try:
            result.append(client.recv(10))
        except OSError as exc:
            result.append(exc)

    reader = threading.Thread(target=read)
    reads = plain.reads
    reader.start()
    deadline = time.monotonic() + 10
    while plain.reads == reads and time.monotonic() < deadline:  # the reader has asked the kernel
        time.sleep(0.001)
    client.shutdown(socket.SHUT_RDWR)
    reader.join(10)
    assert not reader.is_alive()
    assert result == [b""] or isinstance(result[0], OSError), result
    done.set()
    client.close()


def test_only_reading_files_are_made(pki: LocalPKI, serve: Any) -> None:
    plain = serve(lambda conn: None)
    client = tls(client_ctx(pki), plain)
    with pytest.raises(ValueError):
        client.makefile("wb")
    client.close()


def test_a_connection_closed_before_its_body_is_read_still_reads_it(pki: LocalPKI, serve: Any) -> None:
    """http.client closes the connection of a `Connection: close` response as soon as it has read the headers, and
    reads the body from the file it made before: the socket closes when that file does, as a socket's would."""
    body = b"x" * 100_000

    def handler(conn: ssl.SSLSocket) -> None:
        conn.sendall(body[:10])
        time.sleep(0.05)  # the rest comes after the client has closed its connection object
        conn.sendall(body[10:])

    plain = serve(handler)
    client = tls(client_ctx(pki), plain)
    stream = client.makefile("rb")
    client.close()
    assert plain.fileno() != -1  # a file is still open on it
    got = b""
    while len(got) < len(body):
        piece = stream.read1(65536)
        assert piece, "the body was cut short"
        got += piece
    assert got == body
    stream.close()
    assert plain.fileno() == -1


def test_a_backlog_is_read_in_full_reads(pki: LocalPKI, serve: Any) -> None:
    """Bytes waiting in the kernel are taken in before a read returns: a read never stops at what one receive brought
    while more has arrived (a watch's window would otherwise pause on every leftover)."""
    import fcntl
    import termios

    sent = threading.Event()

    def handler(conn: ssl.SSLSocket) -> None:
        for _ in range(50):
            conn.sendall(b"y" * 4000)
        sent.set()
        conn.recv(1)

    plain = serve(handler)
    client = tls(client_ctx(pki), plain)
    assert sent.wait(10)
    deadline = time.monotonic() + 10
    waiting = bytearray(4)
    while time.monotonic() < deadline:  # until the kernel holds more than one read's worth (it holds about 128 KB)
        fcntl.ioctl(plain.fileno(), termios.FIONREAD, waiting)
        if int.from_bytes(waiting, "little") >= 100_000:
            break
        time.sleep(0.01)
    buffer = bytearray(65536)
    assert client.recv_into(buffer) == 65536  # one receive brings at most BLOCK bytes of records, less payload
    client.close()


def test_a_refused_certificate_is_told_to_the_server(pki: LocalPKI, tmp_path: Path, server_ctx: ssl.SSLContext) -> None:
    """The alert goes out before the socket closes, as an SSLSocket sends it: the server logs why."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[BaseException] = []

    def run() -> None:
        conn, _ = listener.accept()
        try:
            server_ctx.wrap_socket(conn, server_side=True).recv(1)
        except (OSError, ssl.SSLError) as exc:
            seen.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    plain = Counting(socket.create_connection(listener.getsockname(), timeout=10))
    with pytest.raises(ssl.SSLCertVerificationError):
        tls(client_ctx(LocalPKI(tmp_path / "other")), plain)
    thread.join(10)
    listener.close()
    assert seen and "ALERT" in str(seen[0]), seen  # not an unexpected EOF: the reason reached the server


def test_a_server_name_ssl_refuses_closes_the_socket(pki: LocalPKI, serve: Any) -> None:
    plain = serve(lambda conn: None)
    with pytest.raises(ValueError):
        tls(client_ctx(pki), plain, b".leading-dot")
    assert plain.fileno() == -1


def test_threads_connecting_at_once_share_one_context(pki: LocalPKI, monkeypatch: pytest.MonkeyPatch) -> None:
    """A watch's queries connect at once: the CA and the client certificate are loaded once, into one context (each
    thread made its own before, 3 loads of the certificate chain for a watch of 3 kinds)."""
    import threading
    import time

    from kates_cli.core import transport as transport_module
    from kates_cli.core.config import ConnectionSettings

    cert, key = pki.issue("client", "kates-client")
    settings = ConnectionSettings(
        server="https://127.0.0.1:1",
        context="c",
        namespace="default",
        ca_data=pki.ca_cert.read_bytes(),
        client_cert_data=cert.read_bytes(),
        client_key_data=key.read_bytes(),
    )
    loads: list[str] = []
    real = transport_module._load_cert_chain

    def slow_load(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
        loads.append(threading.current_thread().name)
        time.sleep(0.05)  # long enough for every thread to arrive while the first loads
        real(ctx, cert, key)

    monkeypatch.setattr(transport_module, "_load_cert_chain", slow_load)
    transport = transport_module.Transport(settings)
    start = threading.Barrier(3)
    made: list[ssl.SSLContext] = []

    def connect() -> None:
        start.wait()
        made.append(transport._context())

    threads = [threading.Thread(target=connect) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(made) == 3 and made[0] is made[1] is made[2]
    assert len(loads) == 1
