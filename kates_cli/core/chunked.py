"""HTTP/1.1 chunked transfer coding, decoded in bulk from whatever the socket returned.

A watch answers with one chunk per event, flushed as it happens. http.client decodes that chunk by chunk, with a
readline for each chunk's size and a read for its data, several Python calls per event: at a few thousand events a
second that was most of a watch's CPU. `Dechunker.feed` takes all the bytes one read returned (many events when
they queue up) and returns their payload in one piece.

Invariants:
- `feed(data)` returns the payload bytes that `data` completes, in order; framing split anywhere across reads (a size
  line, a chunk's data, the CRLF after it) is carried to the next call. Concatenating every result gives exactly
  the body.
- `done` is True once the last chunk (size 0) has arrived; nothing is returned after it, and `rest` holds the bytes
  that came after the last chunk's size line in the same feed (the start of the trailer section, for the caller to
  read past).
- Malformed framing (a size that is not hexadecimal, a chunk not followed by CRLF, a size line longer than
  MAX_SIZE_LINE) raises ValueError; the caller treats it as a broken connection.
- Pure: no I/O.

At each size line, the whole chunks from there on are decoded by a loop that does nothing else (`_whole_chunks`:
half the time per chunk of the general loop, measured in one process): a watch's events, and every chunk of a
streaming list but the one a read cuts. Whatever it does not take (a chunk cut by the read, extensions, the last
chunk, a malformed size) goes the general way, which says what is wrong.
"""

from __future__ import annotations

__all__ = ["MAX_SIZE_LINE", "Dechunker"]

MAX_SIZE_LINE = 4096  # a chunk-size line with its extensions; http.client allows 65536 for any line
_HEX = b"0123456789abcdefABCDEF"


class Dechunker:
    """One chunked body, decoded as it arrives (see the module's invariants)."""

    __slots__ = ("_carry", "_crlf", "_left", "done", "rest")

    def __init__(self) -> None:
        self._carry = b""  # an incomplete size line, or part of the CRLF after a chunk's data
        self._left = 0  # bytes of the current chunk's data still to come
        self._crlf = 0  # bytes of the CRLF after the current chunk's data still to come (2, 1 or 0)
        self.done = False
        self.rest = b""  # after `done`: what followed the last chunk's size line

    def feed(self, data: bytes) -> bytes:
        if self.done:
            return b""
        buf = self._carry + data if self._carry else data
        self._carry = b""
        out: list[bytes] = []
        pos, end = 0, len(buf)
        fast = True
        while pos < end:
            if self._left:
                take = min(self._left, end - pos)
                out.append(buf[pos : pos + take])
                pos += take
                self._left -= take
                if self._left:
                    break
                self._crlf = 2
            if self._crlf:
                have = min(self._crlf, end - pos)
                if buf[pos : pos + have] != b"\r\n"[2 - self._crlf : 2 - self._crlf + have]:
                    raise ValueError("a chunk's data is not followed by CRLF")
                pos += have
                self._crlf -= have
                continue
            if fast:
                at = _whole_chunks(buf, pos, out)  # as many whole chunks as there are from here, at once
                if at is None:  # a malformed size ahead: the general loop alone from here (never a rescan per chunk)
                    fast = False
                elif at != pos:
                    pos = at
                    continue
            # a size line is a few bytes: the search is bounded (bytes.find of two bytes costs with the length of
            # what it may search, 1.8 us per chunk in a 48 KB read, against 0.3 within 64 bytes)
            eol = buf.find(b"\r\n", pos, pos + 64)
            if eol < 0:
                eol = buf.find(b"\r\n", pos, pos + MAX_SIZE_LINE + 2)
            if eol < 0:
                if end - pos > MAX_SIZE_LINE:
                    raise ValueError("a chunk-size line is too long")
                self._carry = buf[pos:]
                break
            size_text = buf[pos:eol].split(b";", 1)[0].strip(b" \t")
            if not size_text or size_text.lstrip(_HEX):
                raise ValueError(f"a chunk size that is not hexadecimal: {size_text[:20]!r}")
            size = int(size_text, 16)
            pos = eol + 2
            if size == 0:
                self.done = True
                self.rest = buf[pos:]
                break
            self._left = size
        return out[0] if len(out) == 1 else b"".join(out)


def _whole_chunks(buf: bytes, pos: int, out: list[bytes]) -> int | None:
    """Append to `out` the data of the whole chunks in `buf` from `pos` (at a size line) on, up to the first that is
    not whole, is the last or has extensions; return where they end (`pos` when there are none: the general loop
    then reads that chunk). None, with nothing appended, when one of their size lines holds anything but hex
    digits: the general loop reads them all, and says which is wrong."""
    mark = len(out)
    sizes: list[bytes] = []
    find = buf.find
    end = len(buf)
    while pos < end:
        eol = find(b"\r\n", pos, pos + 18)  # a size line of at most 16 hex digits, without extensions
        if eol < 0:
            break
        text = buf[pos:eol]
        try:
            size = int(text, 16)  # which also takes "0x", "_", a sign and spaces: the digits are checked below
        except ValueError:
            break
        start = eol + 2
        stop = start + size
        # the last chunk, a negative size (int takes "-6": the loop must always move on), or a chunk the read cut
        if size <= 0 or buf[stop : stop + 2] != b"\r\n":
            break
        sizes.append(text)
        out.append(buf[start:stop])
        pos = stop + 2
    if sizes and b"".join(sizes).lstrip(_HEX):  # a size line with anything but hex digits: none of them taken
        del out[mark:]
        return None
    return pos
