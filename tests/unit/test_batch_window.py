"""Response.line_batches' window (core/transport.py): under a storm of small reads a stream reads at most once per
window; the first read after a quiet spell, a read after a large one, and streams whose reads do not bring everything
that arrived (an SSLSocket, gzip) are never delayed. Time is a fake clock: each read advances it by the time its bytes
took to arrive, and every sleep is recorded, so the assertions hold on any machine."""

from __future__ import annotations

import gzip
import io
import itertools
import socket
import ssl
from typing import Any

import pytest

from kates_cli.core import http11
from kates_cli.core import transport as transport_module
from kates_cli.core.config import ConnectionSettings
from kates_cli.core.transport import STREAM_READ, Response, Transport

WINDOW = 0.05


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


class Arrivals:
    """A response body's file on the fake clock: each piece arrives at its time (seconds after the clock's start);
    read1 returns what has arrived, up to the size asked (the rest stays for the next read), or blocks (advancing
    the clock) until the next piece does."""

    def __init__(self, clock: Clock, pieces: list[tuple[float, bytes]]):
        self.clock = clock
        self.pieces = [(clock.now + at, data) for at, data in pieces]
        self.read_at: list[float] = []

    def read1(self, size: int) -> bytes:
        self.read_at.append(self.clock.now)
        if not self.pieces:
            return b""
        self.clock.now = max(self.clock.now, self.pieces[0][0])
        arrived = [data for at, data in self.pieces if at <= self.clock.now]
        del self.pieces[: len(arrived)]
        data = b"".join(arrived)
        if len(data) > size:
            self.pieces.insert(0, (self.clock.now, data[size:]))
        return data[:size]

    def close(self) -> None:
        pass


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def stream(
    clock: Clock, pieces: list[tuple[float, bytes]], *, gzipped: bool = False, sock: Any = None, timed: bool = True
) -> Response:
    """A chunked response of `pieces` (time of arrival, chunk); timed=False: the whole body at once, read through
    the response's own file (as the paths without a window read it)."""
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
    head += b"Content-Encoding: gzip\r\n\r\n" if gzipped else b"\r\n"
    wire = head if timed else head + b"".join(data for _, data in pieces) + b"0\r\n\r\n"

    raw = http11.Response(io.BytesIO(wire), "GET")  # type: ignore[arg-type]
    if timed:
        last = pieces[-1][0] if pieces else 0.0
        raw.fp = Arrivals(clock, [*pieces, (last + 1.0, b"0\r\n\r\n")])  # type: ignore[assignment]
    arrivals = raw.fp  # the response lets go of its file at the end of the body; the tests look at its reads after
    transport = Transport(ConnectionSettings(server="https://127.0.0.1:1", context="c", namespace="default"))
    conn = http11.Connection("127.0.0.1", 1)
    conn.sock = sock
    response = Response(transport, conn, raw)
    response.arrivals = arrivals  # type: ignore[attr-defined]
    return response


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(transport_module, "time", fake)
    return fake


def event(n: int, size: int = 100) -> bytes:
    return b'{"n":%d,"pad":"%s"}\n' % (n, b"x" * size)


def test_a_storm_of_small_reads_is_read_once_per_window(clock: Clock) -> None:
    """A quiet spell, then an event every millisecond for 0.2 s."""
    resp = stream(clock, [(10.0 + i * 0.001, chunk(event(i))) for i in range(200)])
    lines = [line for batch in resp.line_batches(WINDOW) for line in batch]
    assert lines == [event(i).rstrip(b"\n") for i in range(200)]
    reads = resp.arrivals.read_at[:-1]  # type: ignore[attr-defined]  # the last one reads the end of the body
    start = 100.0
    # the first event is read as it arrives, and the read after it starts at once (its predecessor waited 10 s)
    assert reads[:2] == [start, start + 10.0]
    # then the storm: one read per window, each taking in the events of the window before
    assert all(b - a == pytest.approx(WINDOW) for a, b in itertools.pairwise(reads[1:]))
    assert len(reads) <= 2 + 0.2 / WINDOW + 1
    assert clock.sleeps and all(0 < nap <= WINDOW for nap in clock.sleeps)


def test_without_a_window_nothing_waits(clock: Clock) -> None:
    resp = stream(clock, [(i * 0.001, chunk(event(i))) for i in range(50)])
    assert sum(len(batch) for batch in resp.line_batches()) == 50
    assert clock.sleeps == []
    assert len(resp.arrivals.read_at) == 51  # type: ignore[attr-defined]  # one read per event, and the end


def lines_ending_at(offsets: list[int], total: int) -> bytes:
    """Event lines of about 500 bytes, `total` bytes in all, a line ending exactly at each offset."""
    out, n = b"", 1
    for stop in [*offsets, total]:
        while stop - len(out) > 1100:
            out += event(n, 500)
            n += 1
        out += event(n, stop - len(out) - len(event(n, 0)))  # the one line that ends at `stop`
        n += 1
        assert len(out) == stop
    return out


def test_a_full_read_is_followed_at_once(clock: Clock) -> None:
    """A read that fills STREAM_READ may have more behind it: the next read starts at once, and a backlog is read in
    full reads without a pause, even where a full read ends on a whole line. A read short of that took in all that
    had arrived, however large: it is followed by a pause (35 events of 1.8 KB per window, B3's storm, were read
    twice per window when 16 KiB counted as full)."""
    total = 2 * STREAM_READ + 50_000
    header = len(b"%x\r\n" % total)
    big = lines_ending_at([STREAM_READ - header, 2 * STREAM_READ - header], total)  # each full read ends on a line
    # the body's first read (never followed by a pause: see the test below), then one of a small event
    pieces = [(0.0, chunk(event(7777))), (0.02, chunk(event(0))), (0.03, chunk(big)), (0.06, chunk(event(99999)))]
    resp = stream(clock, pieces)
    assert sum(len(batch) for batch in resp.line_batches(WINDOW)) == big.count(b"\n") + 3
    reads = resp.arrivals.read_at  # type: ignore[attr-defined]
    assert reads[:2] == [100.0, 100.0]
    assert reads[2] == pytest.approx(100.0 + WINDOW)  # a small read 20 ms after the previous began: a nap
    assert reads[3] == reads[2] and reads[4] == reads[2]  # the two full reads: the next at once, no nap between
    assert reads[5] == pytest.approx(reads[4] + WINDOW)  # the backlog's rest did not fill a read: then a nap

    clock.sleeps.clear()
    storm = b"".join(event(i, 1800) for i in range(60))  # 109 KB: large, but everything that had arrived
    assert STREAM_READ * 0.85 < len(storm) < STREAM_READ
    resp = stream(clock, [(0.01, chunk(event(0))), (0.02, chunk(storm)), (0.03, chunk(event(1)))])
    assert sum(len(batch) for batch in resp.line_batches(WINDOW)) == 62
    reads = resp.arrivals.read_at  # type: ignore[attr-defined]
    assert reads[2] == pytest.approx(reads[1] + WINDOW)  # after the storm's read: a nap, not a read at once


def test_the_rest_of_a_line_already_begun_is_not_held_back(clock: Clock) -> None:
    """One large event after a quiet spell, arriving in three pieces a millisecond apart (records of a few KB): it is
    read as it comes, with no pause inside it."""
    line = event(1, 6000)
    pieces = [(10.0, chunk(line[:2000])), (10.001, chunk(line[2000:4000])), (10.002, chunk(line[4000:]))]
    resp = stream(clock, pieces)
    batches = resp.line_batches(WINDOW)
    assert next(batches) == [line.rstrip(b"\n")]
    assert clock.now == pytest.approx(100.0 + 10.002)
    assert clock.sleeps == []


def test_a_pause_is_the_callers_own_wait(clock: Clock) -> None:
    """A stream passes its stop event's wait, so that stopping it ends a pause at once."""
    waits: list[float] = []
    resp = stream(clock, [(i * 0.001, chunk(event(i))) for i in range(5)])
    assert sum(len(batch) for batch in resp.line_batches(WINDOW, waits.append)) == 5
    assert waits and clock.sleeps == []


def test_an_sslsocket_or_a_gzip_stream_is_never_held_back(clock: Clock) -> None:
    """There a read returns one record or one gzip chunk, not everything that arrived: a window would be one event
    per window."""
    sslsock = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).wrap_socket(
        socket.socket(), server_hostname="x", do_handshake_on_connect=False
    )
    try:
        resp = stream(clock, [(i * 0.001, chunk(event(i))) for i in range(20)], sock=sslsock, timed=False)
        assert sum(len(batch) for batch in resp.line_batches(WINDOW)) == 20
    finally:
        sslsock.close()
    body = b"".join(event(i) for i in range(20))
    resp = stream(clock, [(0.001, chunk(gzip.compress(body)))], gzipped=True, timed=False)
    assert sum(len(batch) for batch in resp.line_batches(WINDOW)) == 20
    assert clock.sleeps == []


class ArrivingRaw(io.RawIOBase):
    """A socket's bytes on the fake clock, under a buffered file as a real connection's: readinto returns what has
    arrived (up to the buffer), or waits (advancing the clock) for the next piece."""

    def __init__(self, clock: Clock, pieces: list[tuple[float, bytes]]):
        self.clock = clock
        self.pieces = [(clock.now + at, data) for at, data in pieces]
        self.read_at: list[float] = []

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self.read_at.append(self.clock.now)
        if not self.pieces:
            return 0
        self.clock.now = max(self.clock.now, self.pieces[0][0])
        arrived = b"".join(data for at, data in self.pieces if at <= self.clock.now)
        self.pieces = [(at, data) for at, data in self.pieces if at > self.clock.now]
        if len(arrived) > len(buffer):
            self.pieces.insert(0, (self.clock.now, arrived[len(buffer) :]))
            arrived = arrived[: len(buffer)]
        buffer[: len(arrived)] = arrived
        return len(arrived)


def test_what_the_head_left_in_the_buffer_is_not_taken_for_all_that_arrived(clock: Clock) -> None:
    """The head and the first events arrive in one read of the socket; the buffered file returns those events on the
    body's first read without reading the socket, so that read tells nothing of what waits behind it: a resumed
    watch's backlog (here 300 events already there) is read at once, not after a pause."""
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    first = b"".join(chunk(event(i)) for i in range(3))
    backlog = b"".join(chunk(event(i)) for i in range(3, 303))
    raw = ArrivingRaw(clock, [(0.0, head + first), (0.001, backlog), (5.0, b"0\r\n\r\n")])
    fp = io.BufferedReader(raw, 8192)
    response = http11.Response(fp, "GET")  # type: ignore[arg-type]
    transport = Transport(ConnectionSettings(server="https://127.0.0.1:1", context="c", namespace="default"))
    conn = http11.Connection("127.0.0.1", 1)
    resp = Response(transport, conn, response)
    batches = resp.line_batches(WINDOW)
    assert len(next(batches)) == 3  # from the buffer: the socket not read
    assert len(next(batches)) == 300  # the backlog: read at once
    assert clock.sleeps == [] and clock.now == pytest.approx(100.001)
