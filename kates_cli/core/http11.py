"""HTTP/1.1 on one connection, as core/transport.py speaks it to an API server: what it used of http.client, without
http.client's import of the email package (http.client parses headers with email.parser: about 9 ms of every
command's start on a 2-core machine, an eighth of `kates get ns default`; bench B0).

Invariants:
- One request at a time on a connection, its response read before the next is sent (no pipelining). `sock` is None
  before `connect` and after `close`.
- A response's body is framed as RFC 9112 section 6.3 says: none for HEAD, 1xx, 204 and 304; chunked when the last
  transfer coding (of every Transfer-Encoding field) is chunked; until the server closes the connection when
  another coding is last; else Content-Length; else until the server closes. Interim 1xx responses before the
  final one are skipped. A Content-Length is never allocated up front beyond READ_AT_ONCE: a longer body is read in
  steps, so a length the server only claims ends as IncompleteRead, not as a MemoryError.
- `read1` returns decoded body bytes from at most one read of the socket (the chunked framing is taken off in bulk,
  core/chunked.py), b"" only at the end of the body; `read` returns the rest of the body whole.
- `isclosed()` is True once the body has been read to its end, or the response closed. The connection may carry
  another request only then, and only when neither side said `Connection: close`, the response was HTTP/1.1 (or
  1.0 with keep-alive) and its body was delimited by length or chunks: otherwise `getresponse` closes the
  connection's socket (the response keeps reading from its own file of it, as http.client's does, and keeps the
  socket as its `sock` until its body ends, so that another thread can still shut it down).
- Failures are http.client's: the connection closed before any byte of a status line raises RemoteDisconnected (a
  ConnectionResetError); a body cut short, IncompleteRead; a malformed status line, header or chunk framing, or
  more than MAX_HEADERS headers or a line over MAX_LINE bytes, a HTTPException; a URL with spaces or control
  characters, InvalidURL (a HTTPException) before anything is sent; a header name or value with a line break,
  ValueError before anything is sent. Socket and TLS errors propagate as they are.
- Through a proxy (`set_tunnel`), `connect` opens a CONNECT tunnel to the API server and TLS (when there is a
  context) runs inside it, verifying the API server's name; a proxy's refusal is an OSError naming its status.
"""

from __future__ import annotations

import re
import socket

from .chunked import Dechunker

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from io import BufferedIOBase as BinaryIO
    from typing import Any

__all__ = [
    "Connection",
    "HTTPException",
    "Headers",
    "IncompleteRead",
    "InvalidURL",
    "RemoteDisconnected",
    "Response",
]

MAX_LINE = 65536  # a status, header or trailer line (http.client's _MAXLINE)
MAX_HEADERS = 100  # header lines of one response (http.client's _MAXHEADERS)
READ_AT_ONCE = 16 << 20  # a body framed by Content-Length up to this long is read in one call, a longer one in steps
_BAD_URL = re.compile(r"[\x00-\x20\x7f]")  # what http.client refuses in a request target
_BAD_HEADER = re.compile(r"\n(?![ \t])|\r(?![ \t\n])")  # a line break that is not a folded continuation
_NO_BODY_EXPECTED = ("PATCH", "POST", "PUT")  # methods sent with Content-Length: 0 when they carry no body


class HTTPException(Exception):
    """A response that does not parse as HTTP/1.1, or a request that cannot be sent as such."""


class RemoteDisconnected(ConnectionResetError, HTTPException):
    """The server closed the connection without answering (http.client's: a ConnectionResetError)."""


class IncompleteRead(HTTPException):
    """The body ended before its length or its last chunk."""

    def __init__(self, partial: bytes = b"", expected: int | None = None) -> None:
        self.partial = partial
        self.expected = expected
        more = f", {expected} more expected" if expected is not None else ""
        super().__init__(f"IncompleteRead({len(partial)} bytes read{more})")


class InvalidURL(HTTPException):
    """A request target with spaces or control characters."""


class Headers:
    """A response's header fields, names compared without case, in the order received."""

    __slots__ = ("_fields",)

    def __init__(self, fields: list[tuple[str, str]]) -> None:
        self._fields = fields

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first field of that name's value, else `default`."""
        name = name.lower()
        for key, value in self._fields:
            if key.lower() == name:
                return value
        return default

    def get_all(self, name: str) -> list[str] | None:
        """Every value of that name, in order; None when there is none (email.message's get_all)."""
        name = name.lower()
        found = [value for key, value in self._fields if key.lower() == name]
        return found or None


class Response:
    """One response: status line and headers read, body read on demand (see the module's invariants)."""

    def __init__(self, fp: BinaryIO, method: str) -> None:
        self.fp: BinaryIO | None = fp
        self.status, self.reason, self.version = _status_line(fp)
        while 100 <= self.status < 200:  # interim answers (100 Continue): their headers, then the real answer
            _read_fields(fp)
            self.status, self.reason, self.version = _status_line(fp)
        self.headers = Headers(_read_fields(fp))
        # every field of a name counts, as one list (RFC 9110 section 5.3): "Transfer-Encoding: gzip" and then
        # "Transfer-Encoding: chunked" are chunked
        codings = [c.strip().lower() for c in (self.getheader("Transfer-Encoding") or "").split(",") if c.strip()]
        self.chunked = bool(codings) and codings[-1] == "chunked"
        self.length: int | None = None  # body bytes still to come, where the length frames it
        tokens = {t.strip().lower() for t in (self.getheader("Connection") or "").split(",")}
        keep = "keep-alive" in tokens or self.version == 11
        self.will_close = "close" in tokens or not keep
        self.sock: Any = None  # the socket, kept here when the connection let go of it for this response (`abort`)
        if method == "HEAD" or self.status in (204, 304):
            self.length = 0
        elif not self.chunked:
            # a transfer coding other than chunked last: the body ends where the connection does, whatever
            # Content-Length says (RFC 9112 section 6.3)
            self.length = None if codings else _content_length(self.headers)
            if self.length is None:
                self.will_close = True  # the body ends where the connection does
        self._dechunker = Dechunker() if self.chunked and self.length is None else None
        # whether read1's last read of the file filled the size asked: then more may be waiting behind it (a read
        # that did not fill it took in all that had arrived, where the file's read1 returns that: a TLSSocket's).
        # The first read of the body counts as filled: it may be only what reading the head left in the file's
        # buffer (a buffered file's read1 returns that without reading the socket).
        self.filled = False
        self._first_read = True
        if self.length == 0:
            self._done()

    def getheader(self, name: str, default: str | None = None) -> str | None:
        """Every value of that name joined by ", " (http.client's getheader), else `default`."""
        found = self.headers.get_all(name)
        return ", ".join(found) if found else default

    def isclosed(self) -> bool:
        return self.fp is None

    def read(self) -> bytes:
        """The rest of the body."""
        if self.fp is None:
            return b""
        if self.length is not None and self._dechunker is None:
            if self.length <= READ_AT_ONCE:
                data = self.fp.read(self.length)
            else:  # in steps: a length the server only claims (10**20 bytes) is never allocated up front
                steps: list[bytes] = []
                left = self.length
                while left:
                    step = self.fp.read(min(left, READ_AT_ONCE))
                    if not step:
                        break
                    steps.append(step)
                    left -= len(step)
                data = b"".join(steps)
            if len(data) < self.length:
                self._fail()
                raise IncompleteRead(data, self.length - len(data))
            self._done()
            return data
        parts: list[bytes] = []
        while True:
            try:
                part = self.read1(65536)
            except IncompleteRead as exc:
                raise IncompleteRead(b"".join(parts) + exc.partial) from None
            if not part:
                return b"".join(parts)
            parts.append(part)

    def read1(self, size: int) -> bytes:
        """Body bytes from at most one read of the socket (more reads only to cross chunk framing); b"" at the end."""
        fp = self.fp
        if fp is None:
            return b""
        dechunker = self._dechunker
        if dechunker is not None:
            if dechunker.done:  # the last chunk came with data, returned before the trailer section was read
                self._trailer(dechunker.rest)
                return b""
            while True:
                data = fp.read1(size)
                self.filled = len(data) >= size or self._first_read
                self._first_read = False
                if not data:
                    self._fail()
                    raise IncompleteRead()  # cut before the last chunk
                try:
                    out = dechunker.feed(data)
                except ValueError as exc:
                    self._fail()
                    raise HTTPException(f"invalid chunked body: {exc}") from None
                if dechunker.done and (not out or _trailer_ends(dechunker.rest)):
                    self._trailer(dechunker.rest)  # never waits with data in hand: read later if it must
                if out or self.fp is None:
                    return out
        if self.length is None:  # until the server closes
            data = fp.read1(size)
            if not data:
                self._done()
            return data
        data = fp.read1(min(size, self.length))
        if not data:
            self._fail()
            raise IncompleteRead(b"", self.length)
        self.length -= len(data)
        if not self.length:
            self._done()
        return data

    def _trailer(self, rest: bytes) -> None:
        """Read past the trailer section after the last chunk (its fields are dropped, as http.client drops them).
        A server that closes instead of ending it has still sent the whole body (http.client takes that too); the
        connection is not used again."""
        assert self.fp is not None
        buf = rest
        for _ in range(MAX_HEADERS + 1):
            end = buf.find(b"\n")
            while end < 0:
                if len(buf) > MAX_LINE:
                    self._fail()
                    raise HTTPException("a trailer line is too long")
                more = self.fp.read1(MAX_LINE)
                if not more:
                    self._fail()
                    return
                buf += more
                end = buf.find(b"\n")
            line, buf = buf[:end], buf[end + 1 :]
            if not line.rstrip(b"\r"):
                if buf:  # bytes after the body that nobody asked for: the connection cannot be trusted again
                    self.will_close = True
                self._done()
                return
        self._fail()
        raise HTTPException(f"more than {MAX_HEADERS} trailer fields")

    def _done(self) -> None:
        fp, self.fp = self.fp, None
        self.sock = None
        if fp is not None:
            fp.close()

    def _fail(self) -> None:
        """The body is over, cut or broken: the connection may hold anything, so it is not used again."""
        self.will_close = True
        self._done()

    def close(self) -> None:
        self._done()


def _trailer_ends(rest: bytes) -> bool:
    """Whether the trailer section's end (an empty line) is already in `rest`."""
    return rest[:1] == b"\n" or rest[:2] == b"\r\n" or b"\n\r\n" in rest or b"\n\n" in rest


class Connection:
    """One connection to `host`:`port`, TLS when given an ssl context (anything with http.client's
    `wrap_socket(sock, server_hostname=...)`), made by `dial` (socket.create_connection's signature)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float | None = None,
        context: Any = None,
        dial: Callable[..., socket.socket] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.context = context
        self.sock: Any = None
        self._dial = dial or socket.create_connection
        self._tunnel: tuple[str, int] | None = None
        self._tunnel_auth: str | None = None
        self._method = ""
        self._sending = False  # a request began to go out and its response was not read yet

    def set_tunnel(self, host: str, port: int, authorization: str | None = None) -> None:
        """Reach `host`:`port` through the proxy this connection dials, by CONNECT (with a Proxy-Authorization
        header when given one)."""
        self._tunnel = (host, port)
        self._tunnel_auth = authorization

    def connect(self) -> None:
        sock = self._dial((self.host, self.port), self.timeout)
        try:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client: no Nagle delay
            except OSError:
                pass  # not a TCP socket (a test's socket pair)
            server = self.host
            if self._tunnel is not None:
                server = self._tunnel[0]
                _open_tunnel(sock, *self._tunnel, self._tunnel_auth)
            if self.context is not None:
                sock = self.context.wrap_socket(sock, server_hostname=server)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def request(
        self, method: str, url: str, body: bytes | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        """Send the request line, headers and body (connecting first if need be)."""
        if _BAD_URL.search(url):
            raise InvalidURL(f"URL can't contain control characters or spaces: {url!r}")
        host, port = self._tunnel or (self.host, self.port)
        default = 443 if self.context is not None else 80
        name = f"[{host}]" if ":" in host else host
        lines = [f"{method} {url} HTTP/1.1", f"Host: {name}" if port == default else f"Host: {name}:{port}"]
        for key, value in (headers or {}).items():
            if _BAD_HEADER.search(key) or _BAD_HEADER.search(value) or ":" in key or not key:
                raise ValueError(f"Invalid header {key!r}")
            lines.append(f"{key}: {value}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        elif method in _NO_BODY_EXPECTED:
            lines.append("Content-Length: 0")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if self.sock is None:
            self.connect()
        self._method = method
        self._sending = True  # from here a response may be read, even if the send fails (an early answer)
        if body is not None and len(body) < 65536:
            self.sock.sendall(head + body)  # one write: a small request in one TLS record, one segment
        else:
            self.sock.sendall(head)
            if body is not None:
                self.sock.sendall(body)

    def getresponse(self) -> Response:
        """The response to the request sent (also after its body failed to send: a server may answer early)."""
        if self.sock is None or not self._sending:
            raise HTTPException("no request sent to read a response to")
        self._sending = False
        fp = self.sock.makefile("rb")
        try:
            response = Response(fp, self._method)
        except BaseException:
            fp.close()
            self.close()
            raise
        if response.will_close:
            if not response.isclosed():
                response.sock = self.sock  # to be shut down from another thread (transport's `abort`)
            self.close()  # the response reads on from its own file; the connection is not used again
        return response

    def close(self) -> None:
        sock, self.sock = self.sock, None
        if sock is not None:
            sock.close()


def _open_tunnel(sock: socket.socket, host: str, port: int, authorization: str | None = None) -> None:
    """CONNECT host:port through the proxy at the other end of `sock`; an OSError when it refuses."""
    name = f"[{host}]" if ":" in host else host
    auth = f"Proxy-Authorization: {authorization}\r\n" if authorization else ""
    sock.sendall(f"CONNECT {name}:{port} HTTP/1.1\r\nHost: {name}:{port}\r\n{auth}\r\n".encode("latin-1"))
    fp = sock.makefile("rb")
    try:
        status, reason, _ = _status_line(fp)
        _read_fields(fp)  # nothing follows before the client speaks: TLS starts with the client's hello
    finally:
        fp.close()
    if status != 200:
        raise OSError(f"Tunnel connection failed: {status} {reason}".rstrip())


def _status_line(fp: BinaryIO) -> tuple[int, str, int]:
    line = fp.readline(MAX_LINE + 1)
    if not line:
        raise RemoteDisconnected("Remote end closed connection without response")
    if len(line) > MAX_LINE:
        raise HTTPException("status line too long")
    text = line.decode("latin-1").rstrip("\r\n")
    version, _, rest = text.partition(" ")
    code, _, reason = rest.partition(" ")
    if version not in ("HTTP/1.1", "HTTP/1.0") or len(code) != 3 or not _digits(code) or int(code) < 100:
        raise HTTPException(f"bad status line: {text[:80]!r}")
    return int(code), reason.strip(), 11 if version == "HTTP/1.1" else 10


def _read_fields(fp: BinaryIO) -> list[tuple[str, str]]:
    """Header (or trailer) fields up to the empty line; a folded continuation joins the field before it."""
    fields: list[tuple[str, str]] = []
    for _ in range(MAX_HEADERS + 1):
        line = fp.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise HTTPException("header line too long")
        if not line:
            raise RemoteDisconnected("Remote end closed connection in the middle of the headers")
        if line in (b"\r\n", b"\n"):
            return fields
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and fields:
            key, value = fields[-1]
            fields[-1] = (key, f"{value} {text.strip()}")
            continue
        key, colon, value = text.partition(":")
        if not colon or not key or key != key.strip():
            raise HTTPException(f"bad header line: {text[:80]!r}")
        fields.append((key, value.strip(" \t")))
    raise HTTPException(f"got more than {MAX_HEADERS} headers")


def _content_length(headers: Headers) -> int | None:
    found = headers.get_all("Content-Length")
    if not found:
        return None
    values = {v.strip() for value in found for v in value.split(",")}
    if len(values) != 1 or not _digits(next(iter(values))):
        raise HTTPException(f"bad Content-Length: {', '.join(found)!r}")
    return int(values.pop())


def _digits(text: str) -> bool:
    """ASCII digits only (str.isdigit also takes "²", which int() refuses)."""
    return text.isascii() and text.isdigit()
