"""kates_cli.core.transport.Response: a gzip body is inflated as it streams, whole or line by line, and a gzip
stream that ends early or is corrupt is an error, never silently short output. The HTTP bytes are made here and
parsed by core/http11.py, as they would be off a socket."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

from kates_cli.core import http11
from kates_cli.core.config import ConnectionSettings
from kates_cli.core.transport import Response, Transport
from kates_cli.errors import Unreachable


def response(body: bytes, *, gzipped: bool, pieces: int = 7) -> Response:
    """An HTTP/1.1 response carrying `body` (gzip-compressed if asked) in `pieces` chunks."""
    wire = gzip.compress(body) if gzipped else body
    step = max(1, len(wire) // pieces)
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in (wire[i : i + step] for i in range(0, len(wire), step)))
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
    head += b"Content-Encoding: gzip\r\n" if gzipped else b""
    return _wrap(head + b"\r\n" + chunks + b"0\r\n\r\n")


class _Trickle(io.BytesIO):
    """A socket's file where bytes arrive a little at a time: a read returns at most 512 of them."""

    def read1(self, size: int = -1) -> bytes:
        return super().read1(512 if size < 0 else min(size, 512))


def _wrap(raw: bytes) -> Response:
    resp = http11.Response(_Trickle(raw), "GET")  # type: ignore[arg-type]
    transport = Transport(ConnectionSettings(server="https://127.0.0.1:1", context="c", namespace="default"))
    return Response(transport, http11.Connection("127.0.0.1", 1), resp)


BODY = b"".join(b'{"type":"ADDED","object":{"n":%d,"pad":"%s"}}\n' % (i, b"x" * (i % 300)) for i in range(3000))


@pytest.mark.parametrize("gzipped", [True, False])
def test_read_lines_and_chunks_give_the_decoded_bytes(gzipped: bool) -> None:
    assert response(BODY, gzipped=gzipped).read() == BODY
    assert list(response(BODY, gzipped=gzipped).lines()) == BODY.splitlines()
    assert b"".join(response(BODY, gzipped=gzipped).chunks(1000)) == BODY


def test_lines_of_a_gzip_stream_come_as_its_pieces_arrive() -> None:
    """Inflating chunk by chunk: the first lines are out before the last piece is read."""
    resp = response(BODY, gzipped=True, pieces=50)
    lines = resp.lines()
    assert next(lines) == BODY.splitlines()[0]
    assert not resp.raw.isclosed()  # most of the body is still unread


def test_a_body_of_many_gzip_members_is_read_whole() -> None:
    """kube-apiserver compresses each watch event as a gzip member of its own (and a member may be split across
    chunks, or several share one): every member is inflated, not only the first."""
    lines = BODY.splitlines(keepends=True)[:200]
    wire = b"".join(gzip.compress(line) for line in lines)
    for step in (len(wire), 7, 1000):
        pieces = [wire[i : i + step] for i in range(0, len(wire), step)]
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces)
        raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n" + chunks + b"0\r\n\r\n"
        assert list(_wrap(raw).lines()) == [line.rstrip(b"\n") for line in lines]
        assert _wrap(raw).read() == b"".join(lines)
    truncated = wire[:-3]
    raw = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(truncated), truncated)
    with pytest.raises(Unreachable, match="gzip response ended early"):
        list(_wrap(raw).lines())


def test_a_gzip_stream_that_ends_early_is_an_error() -> None:
    wire = gzip.compress(BODY)[:-100]
    raw = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(wire), wire)
    with pytest.raises(Unreachable, match="gzip response ended early"):
        _wrap(raw).read()
    with pytest.raises(Unreachable, match="gzip response ended early"):
        list(_wrap(raw).lines())


def test_a_corrupt_gzip_stream_is_an_error() -> None:
    wire = bytearray(gzip.compress(BODY))
    wire[20:40] = b"\xff" * 20
    raw = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(wire), bytes(wire))
    with pytest.raises(Unreachable, match="invalid gzip response"):
        _wrap(raw).read()


def test_an_identity_body_is_passed_through_untouched() -> None:
    fake_gzip = zlib.compress(b"not gzip")  # no Content-Encoding: these bytes are the body, whatever they look like
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(fake_gzip), fake_gzip)
    assert _wrap(raw).read() == fake_gzip


@pytest.mark.parametrize("gzipped", [True, False])
def test_a_lines_carriage_returns_go_unless_kept(gzipped: bool) -> None:
    """A CRLF line is a line; a log keeps its CR (kubectl prints a log's bytes as they are)."""
    body = b"crlf\r\nmid\rdle\nplain\nlast\r"
    assert list(response(body, gzipped=gzipped).lines()) == [b"crlf", b"mid\rdle", b"plain", b"last"]
    assert list(response(body, gzipped=gzipped).lines(keep_cr=True)) == [b"crlf\r", b"mid\rdle", b"plain", b"last\r"]
