"""TLS over memory BIOs: one system call brings in everything the server has sent so far.

An `ssl.SSLSocket` reads one TLS record per read, with two system calls (the record's 5-byte header, then its body),
and a watch event is one record: however many events have arrived, a read returns one. `TLSSocket` runs the same
TLS, from the same `ssl.SSLContext` (its verification, certificates and protocol limits), over an `ssl.SSLObject`: it
reads the plain socket in blocks of up to `BLOCK` bytes and decrypts the records from memory, and one read returns
every byte already decrypted or received. That is what lets a watch under a storm read once per window and take in
every event that arrived meanwhile (core/transport.py, `Response.line_batches`). On its own, with events arriving one
at a time, it changed nothing measurable (bench B3, B1 and B2 within noise).

Invariants:
- It offers what core/http11.py and core/transport.py use of a socket: `sendall`, `makefile("rb")`, `recv`,
  `recv_into`, `settimeout`, `gettimeout`, `shutdown`, `close`, `fileno`, `pending`, `getpeercert`, `version` and
  `cipher`; anything else is refused (AttributeError), never silently done in clear text.
- The handshake runs in the constructor, as `SSLContext.wrap_socket` runs it, and fails with the same exceptions
  (`ssl.SSLCertVerificationError` with its `verify_message`, `ssl.SSLError`, `OSError`, `TimeoutError`, and
  `ValueError` for a server name ssl refuses), sending the server its alert and closing the socket.
- `close` closes the socket once every file `makefile` made is closed too, as a socket's does (core/http11.py, as
  http.client, closes the connection of a `Connection: close` response before it reads the body). A large
  `sendall` is encrypted a block at a time, so no buffer grows with what is sent.
- A read blocks only when nothing is decrypted or received yet; it then returns everything available, in TLS's
  memory and in the kernel, up to the size asked (a backlog is read in full reads, never a leftover at a time). The
  end of the stream, with or without the server's close_notify, reads as 0 bytes, as an SSLSocket's does
  (suppress_ragged_eofs).
- The plain socket's timeout bounds every blocking read and write (`TimeoutError`); `shutdown` from another thread
  ends a blocked read with the end of the stream.
- Not safe for concurrent readers or writers (neither is an HTTP connection); `shutdown` and `close` may come from
  any thread.
"""

from __future__ import annotations

import io
import select
import socket
import ssl

__all__ = ["BLOCK", "TLSSocket"]

BLOCK = 64 * 1024  # bytes asked of the kernel per read: a burst of events, or four full records


class TLSSocket:
    """A client TLS connection on `sock` (see the module's invariants)."""

    def __init__(self, ctx: ssl.SSLContext, sock: socket.socket, server_hostname: str | bytes | None):
        self._sock = sock
        self._readers = 0  # files from makefile not closed yet: close() waits for them, as a socket's does
        self._closed = False
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        try:
            # bytes as core/transport.py's _plain_host spells a name: ssl takes them as they are (a str goes
            # through the idna codec)
            self._tls = ctx.wrap_bio(self._incoming, self._outgoing, server_side=False, server_hostname=server_hostname)
            while True:
                try:
                    self._tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    self._send_out()
                    self._receive()
            self._send_out()
        except BaseException:
            try:
                self._send_out()  # the alert saying why (an unknown authority, a wrong name), as an SSLSocket sends it
            except OSError:
                pass
            sock.close()
            raise

    def _send_out(self) -> None:
        if self._outgoing.pending:
            self._sock.sendall(self._outgoing.read())

    def _receive(self) -> None:
        """Block until the server sends something (or ends the stream), and hand it to TLS."""
        data = self._sock.recv(BLOCK)  # a buffer per read, freed after it: a connection holds none while idle
        if data:
            self._incoming.write(data)
        else:
            self._incoming.write_eof()

    def _waiting(self) -> bool:
        """Whether the kernel holds bytes for this connection (or its end), without blocking: a socket with a
        timeout would wait in its own poll before a non-blocking recv."""
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return bool(readable)

    def recv_into(self, buffer: bytearray | memoryview, nbytes: int = 0) -> int:
        view = memoryview(buffer).cast("B")
        want = nbytes or len(view)
        got = 0
        while got < want:
            try:
                n: int = self._tls.read(want - got, view[got:want])  # type: ignore[assignment]  # an int, given a buffer
            except ssl.SSLWantReadError:
                if got and not self._waiting():
                    break  # everything that has arrived; the rest on the next read
                self._send_out()  # anything TLS owes the server first (a key update's answer)
                self._receive()
                continue
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                break  # the end of the stream, with or without close_notify
            if not n:
                break
            got += n
        self._send_out()
        return got

    def recv(self, size: int) -> bytes:
        buffer = bytearray(size)
        return bytes(buffer[: self.recv_into(buffer)])

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data).cast("B")
        while view:
            try:
                sent = self._tls.write(view[:BLOCK])  # a block at a time: the outgoing BIO never grows past one
            except ssl.SSLWantReadError:  # not in TLS 1.2 or 1.3 without renegotiation, but the API allows it
                self._send_out()
                self._receive()
                continue
            view = view[sent:]
            self._send_out()

    def makefile(self, mode: str = "rb", buffering: int | None = None, **_: object) -> io.BufferedIOBase | _Reader:
        if mode not in ("r", "rb"):
            raise ValueError(f"TLSSocket.makefile: mode {mode!r} is not supported")
        self._readers += 1
        raw = _Reader(self)
        if buffering == 0:
            return raw
        return io.BufferedReader(raw, buffering if buffering and buffering > 0 else io.DEFAULT_BUFFER_SIZE)

    def _reader_closed(self) -> None:
        self._readers -= 1
        if self._closed and not self._readers:
            self._sock.close()

    def pending(self) -> int:
        return self._tls.pending()

    def settimeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def gettimeout(self) -> float | None:
        return self._sock.gettimeout()

    def shutdown(self, how: int) -> None:
        self._sock.shutdown(how)

    def close(self) -> None:
        """Close the connection, once every file made by makefile is closed too: core/http11.py (as http.client)
        closes the connection of a response marked `Connection: close` as soon as it has read the headers, and
        reads the body after."""
        self._closed = True
        if not self._readers:
            self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def getpeercert(self, binary_form: bool = False) -> object:
        return self._tls.getpeercert(binary_form)

    def version(self) -> str | None:
        return self._tls.version()

    def cipher(self) -> tuple[str, str, int] | None:
        return self._tls.cipher()


class _Reader(io.RawIOBase):
    """The raw stream under a TLSSocket's makefile. Closing it closes the connection only if the connection was
    closed while it was open."""

    def __init__(self, sock: TLSSocket):
        self._tls_sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        return self._tls_sock.recv_into(buffer)

    def fileno(self) -> int:
        return self._tls_sock.fileno()

    def close(self) -> None:
        if not self.closed:
            super().close()
            self._tls_sock._reader_closed()
