"""core/chunked.py: HTTP chunked transfer coding decoded in bulk, with framing split anywhere across reads."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kates_cli.core.chunked import MAX_SIZE_LINE, Dechunker


def encode(chunks: list[bytes], ext: bool = False) -> bytes:
    out = b""
    for c in chunks:
        out += f"{len(c):x}{';name=value' if ext else ''}\r\n".encode() + c + b"\r\n"
    return out + b"0\r\nX-Trailer: yes\r\n\r\n"


def decode(wire: bytes, cuts: list[int]) -> tuple[bytes, bool]:
    d = Dechunker()
    out, last = b"", 0
    for cut in [*sorted(cuts), len(wire)]:
        out += d.feed(wire[last:cut])
        last = cut
    return out, d.done


def test_many_events_in_one_read_come_out_at_once() -> None:
    events = [b'{"type":"MODIFIED","object":{"n":%d}}\n' % i for i in range(100)]
    d = Dechunker()
    assert d.feed(encode(events)) == b"".join(events)
    assert d.done


@given(
    st.lists(st.binary(min_size=1, max_size=40), max_size=8),
    st.lists(st.integers(min_value=0, max_value=400), max_size=12),
    st.booleans(),
)
def test_framing_split_anywhere_gives_the_body(chunks: list[bytes], cuts: list[int], ext: bool) -> None:
    wire = encode(chunks, ext)
    body, done = decode(wire, [c for c in cuts if c <= len(wire)])
    assert body == b"".join(chunks)
    assert done


def test_nothing_after_the_last_chunk() -> None:
    d = Dechunker()
    assert d.feed(b"3\r\nabc\r\n0\r\n\r\n") == b"abc"
    assert d.done and d.feed(b"5\r\nhello\r\n") == b""


def test_a_body_cut_short_is_not_done() -> None:
    d = Dechunker()
    assert d.feed(b"5\r\nhel") == b"hel"
    assert not d.done


@pytest.mark.parametrize(
    "wire",
    [b"zz\r\nabc\r\n", b"-3\r\nabc\r\n", b"0x3\r\nabc\r\n", b"\r\n", b"3\r\nabcXY", b"1_0\r\n"],
)
def test_malformed_framing_is_an_error(wire: bytes) -> None:
    with pytest.raises(ValueError):
        Dechunker().feed(wire)


def test_an_endless_size_line_is_an_error() -> None:
    d = Dechunker()
    d.feed(b"1" * MAX_SIZE_LINE)
    with pytest.raises(ValueError):
        d.feed(b"1" * 10)


@given(st.lists(st.binary(min_size=1, max_size=40).map(lambda b: b.replace(b"Q", b"\r\n")), min_size=1, max_size=8))
def test_reads_of_whole_chunks_give_their_data(chunks: list[bytes]) -> None:
    """A read that ends on a chunk's CRLF (the fast way), whatever the data holds (CRLFs included), one read per
    chunk or all at once, and the last chunk after them."""
    wire = [f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks]
    d = Dechunker()
    assert d.feed(b"".join(wire)) == b"".join(chunks) and not d.done
    d = Dechunker()
    assert b"".join(d.feed(w) for w in wire) == b"".join(chunks)
    assert d.feed(b"0\r\n\r\n") == b"" and d.done


@pytest.mark.parametrize(
    "wire",
    [
        b"0x3\r\nabc\r\n",
        b"+3\r\nabc\r\n",
        b"1_0\r\n" + b"a" * 16 + b"\r\n",
        b"3\r\nabcd\r\n",
    ],
)
def test_malformed_whole_chunks_are_an_error(wire: bytes) -> None:
    """What int() takes but a chunk size is not, in a read that ends on a CRLF: the general way says what is wrong."""
    with pytest.raises(ValueError):
        Dechunker().feed(wire)


def test_a_size_line_past_the_limit_is_an_error_even_whole() -> None:
    with pytest.raises(ValueError, match="too long"):
        Dechunker().feed(b"3;" + b"x" * MAX_SIZE_LINE + b"\r\nabc\r\n")


def _feed_within(data: bytes, seconds: float) -> tuple[bool, list[BaseException | bytes]]:
    """Feed `data` to a new Dechunker in a thread: (whether it was done within `seconds`, what it returned or
    raised). A decoder that loops fails the caller's assertion instead of hanging the suite."""
    import threading

    outcome: list[BaseException | bytes] = []

    def feed() -> None:
        try:
            outcome.append(Dechunker().feed(data))
        except ValueError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=feed, daemon=True)
    worker.start()
    worker.join(seconds)
    return not worker.is_alive(), outcome


def test_a_negative_size_is_an_error_not_a_loop() -> None:
    """int() takes "-6": a size pointing back at the CRLF before it must not send the decoder round in circles (a
    thread, so that a regression fails here instead of hanging the suite)."""
    done, outcome = _feed_within(b"3\r\nabc\r\n-6\r\n", 10)
    assert done, "the decoder loops on a negative chunk size"
    assert len(outcome) == 1 and isinstance(outcome[0], ValueError)


def test_a_malformed_size_after_many_chunks_is_found_in_one_pass() -> None:
    """20,000 one-byte chunks then a size the fast loop cannot take ("+1"): the general loop reads on from there
    alone. Rescanning the fast loop at every chunk took two minutes on a 140 KB read (a thread: a regression fails
    here rather than holding the suite)."""
    done, outcome = _feed_within(b"1\r\na\r\n" * 20_000 + b"+1\r\na\r\n", 10)
    assert done, "the decoder rescans the chunks before a malformed size"
    assert len(outcome) == 1 and isinstance(outcome[0], ValueError) and "hexadecimal" in str(outcome[0])
