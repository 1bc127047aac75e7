"""HTTP to the API server: raw bytes in, raw bytes out.

Invariants:
- This is the only module that imports the `kubernetes` package, and only lazily: to turn a typed model object
  into a plain dict at the edge (`to_plain`). Requests go through core/http11.py (HTTP/1.1 over the standard
  library's sockets and ssl), so a command that never converts a model never pays for importing `kubernetes`.
- Every failure leaves as a `KatesError`: HTTP errors through `errors.from_status` with the server's Status,
  network and TLS failures as `Unreachable`, credential problems and what the kubeconfig says that cannot be sent
  (a tls-server-name or server host ssl refuses, a header value that is no header) as `ConfigError`.
- Responses are asked for gzip (`Accept-Encoding: gzip`, as client-go asks unless the cluster sets
  disable-compression) and a gzip body is inflated as it is read, chunk by chunk: `read`, `lines` and `chunks` only
  ever return the decoded bytes, and a gzip stream that ends early or is corrupt is an `Unreachable` error.
- Connections are pooled and reused; a pooled connection is used by one request at a time, so the transport
  is safe to share between threads. A pooled connection the server has closed is noticed before use and dropped.
- A GET may be sent before its answer is wanted (`send_get`: a list's next page). Its answer is then what `request`
  would give, errors included (a timeout, a refusal, a failed send are raised as `request` raises them), except
  that an answer cut short mid-body is asked for once more: the server may have given up on a reader that came late.
- A request is sent again only when that cannot act twice (client-go repeats only GETs): once, on a fresh
  connection, when a reused connection failed before the request left whole (the server never saw it); or when the
  connection died after it was sent and the request is repeatable (GET, HEAD, PUT, merge/strategic/apply patch).
  Any other write sent whole whose answer was lost (POST, DELETE, JSON patch, a timed-out write) raises `Uncertain`
  ("the request may have been applied"), as does a repeated conditional write answered 409 (it may conflict with
  itself).
- TLS verification is never off unless the kubeconfig says insecure-skip-tls-verify (and then has no CA: config
  refuses both); a failed verification is `TLSVerifyError` (an `Unreachable`, exit 6) naming the failure, so callers
  can tell it from a transient network error.
- The client key never touches a filesystem on Linux: ssl loads it from a memfd through /proc/self/fd. Elsewhere it
  goes through a file in a 0700 directory named after the pid, removed at once; a kates killed in between leaves
  that directory, which the next kates removes.
- Credentials are read lazily and refreshed when they can change: token files are re-read when their mtime
  changes; the exec plugin runs once per process and again only when its credential has expired or met a 401
  (`credentials.ExecAuthenticator`). A rotated exec client certificate gets a new TLS context, and pooled
  connections made with the old one are closed, as client-go closes them.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from urllib.parse import quote, urlencode, urlsplit

import orjson

from ..errors import ConfigError, KatesError, TLSVerifyError, Uncertain, Unreachable, from_status
from . import deepjson, http11, server_warnings
from .config import ConnectionSettings, ExecCredential, read_token
from .credentials import exec_authenticator
from .tlsbio import TLSSocket

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any

    from .proxy import Proxy

JSON = "application/json"
# line_batches: the most one read takes in (a storm's window of events, B3's 60-90 KB, in one read); under glibc's
# mmap threshold (128 KiB, core/heap.py's 256): a larger buffer asked of read1 is an mmap, mremap and munmap per read
STREAM_READ = 120 * 1024
Params = Mapping[str, str | int | bool | None]
_UNSAFE_IN_PATH = re.compile(r"[^\x21-\x7e]")


def to_plain(obj: Any) -> Any:
    """A dict for a dict; a `kubernetes` model object converted to its JSON-shaped dict."""
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "openapi_types") and hasattr(obj, "attribute_map"):
        from kubernetes.client import ApiClient  # lazy: only typed input pays for the import

        return ApiClient().sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
    raise TypeError(f"expected a dict or a kubernetes model object, got {type(obj).__name__}")


def build_url(path: str, params: Params | None = None) -> str:
    """Path plus a query string; None values are dropped, booleans become true/false. A character of the path that
    cannot go into a request line as it is (a space, a control character, anything not ASCII: `get --raw`'s path is
    the user's) is percent-encoded as its UTF-8 bytes, as Go's url.URL writes a path; `%` and the rest of ASCII
    stay as they are."""
    if not path.isascii() or _UNSAFE_IN_PATH.search(path):
        path = _UNSAFE_IN_PATH.sub(lambda m: quote(m.group().encode("utf-8", "surrogateescape"), safe=""), path)
    if not params:
        return path
    items = [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items() if v is not None]
    return f"{path}?{urlencode(items, quote_via=quote)}" if items else path


class Response:
    """A streaming response: read it whole with `read()` or line by line with `lines()`; always `close()` it."""

    def __init__(self, transport: Transport, conn: http11.Connection, resp: http11.Response):
        self._transport = transport
        self._conn = conn
        self.raw = resp
        self.status = resp.status
        self.headers = resp.headers
        gzipped = (resp.getheader("Content-Encoding") or "").strip().lower() == "gzip"
        self._gunzip = _gunzip() if gzipped else None
        self._partial = False  # the decoder is inside a gzip member (the body may not end here)
        self._inflated = False  # the body has ended: nothing more will come

    def read(self, head: Callable[[bytes], bool] | None = None) -> bytes:
        """The whole body, decoded. With `head`, the body's decoded start is shown to `head` after each read until
        it returns True (it has what it wanted from there), and the rest is then read at once."""
        parts: list[bytes] = []
        try:
            while head is not None:
                part = self._read1(65536)
                if not part:
                    return b"".join(parts)
                parts.append(part)
                if head(b"".join(parts) if len(parts) > 1 else part):
                    break
            data = self.raw.read()
        except (OSError, http11.HTTPException) as exc:
            raise self._transport.unreachable(exc) from exc
        parts.append(data if self._gunzip is None else self._inflate(data) + self._inflate(b""))
        return b"".join(parts) if len(parts) > 1 else parts[0]

    def _read1(self, size: int) -> bytes:
        """What has arrived (at most `size` bytes on the wire), decoded; b"" at the end of the body."""
        if self._gunzip is None:
            return self.raw.read1(size)
        while not self._inflated:
            out = self._inflate(self.raw.read1(size))
            if out:
                return out
        return b""

    def _inflate(self, data: bytes) -> bytes:
        """Feed gzip bytes to the decoder; b"" means the body has ended, which must be between two members.
        A body may hold several gzip members one after another: kube-apiserver compresses each watch event (and
        each flush of a log stream) as a member of its own, so that it can be read at once."""
        assert self._gunzip is not None
        if not data:
            if self._partial:
                raise Unreachable("the server's gzip response ended early")
            self._inflated = True
            return b""
        out: list[bytes] = []
        try:
            while data:
                out.append(self._gunzip.decompress(data))
                self._partial = not self._gunzip.eof
                if self._partial:
                    break
                data, self._gunzip = self._gunzip.unused_data, _gunzip()
        except zlib.error as exc:
            raise Unreachable(f"invalid gzip response from the server: {exc}") from exc
        return b"".join(out)

    def lines(self, *, keep_cr: bool = False) -> Iterator[bytes]:
        """Yield each newline-terminated line (without the newline). Ends when the server closes the stream."""
        for batch in self.line_batches(keep_cr=keep_cr):
            yield from batch

    def line_batches(
        self, window: float = 0.0, pause: Callable[[float], object] | None = None, *, keep_cr: bool = False
    ) -> Iterator[list[bytes]]:
        """Yield, for each read, the lines it completed (never an empty list; a line without its newline at the end
        of the body comes last). Ends when the server closes the stream. A line's trailing carriage returns are
        dropped (a CRLF line is a line), unless `keep_cr`: a log's bytes are its own (kubectl prints a CRLF line's
        CR).

        Reads whatever has arrived (up to STREAM_READ) and splits it in bulk, so a consumer can handle a burst at once:
        a readline per line cost a chunk-header parse per line, which was half of a watch's CPU. A chunked body is
        decoded in bulk (core/http11.py, core/chunked.py): a watch sends one chunk per event, and http.client's
        chunk-by-chunk decoding was most of what was left. A line is yielded as soon as its newline arrives, so
        streams stay live.

        With a `window` (seconds), a stream under a storm is read at most once per window: a read that starts within
        `window` of the previous one, which took in all that had arrived (it did not fill its STREAM_READ: a full read
        may have more behind it) and ended on a whole line, first waits
        (`pause`, time.sleep by default: a caller passes its stop event's wait to be stopped at once) until the
        window is over, so that the events arriving meanwhile are taken in by one read (and one wake-up of the
        reader, and one hand-off of the caller's). A line then waits at most `window` longer; the first line after
        a quiet spell, the rest of a line already begun, and every read after a full one (or after the body's first,
        which may be only what the head's read left buffered) are not delayed, so a backlog is read in full reads
        without a pause. (A read of more than a fixed share of 64 KiB used to count as full: a
        storm that brought about that much per window, 35 ConfigMaps of B3, was read twice per window, the second
        read a few events.) Only where a read returns everything that has arrived (the
        dechunked path, on a core/tlsbio.py TLSSocket or a plain socket); elsewhere `window` is ignored."""
        pending = b""
        read: Callable[[int], bytes] = self._read1
        # a chunked body off a TLSSocket or a plain socket: a read takes in all that has arrived (an SSLSocket's
        # takes one record; a gzip member may end anywhere)
        drains = self._gunzip is None and self.raw.chunked and not isinstance(self._conn.sock, ssl.SSLSocket)
        if not drains:
            window = 0.0  # a read that returns one record, or one chunk, would be one event per window
        started, filled = -window, True
        try:
            while True:
                if window:
                    now = time.monotonic()
                    if not filled and not pending and now - started < window:  # a storm of small reads
                        (pause or time.sleep)(window - (now - started))  # let the next events queue up
                        now = time.monotonic()
                    started = now
                data = read(STREAM_READ)
                filled = self.raw.filled
                if not data:
                    if pending:
                        yield [pending if keep_cr else pending.rstrip(b"\r")]
                    return
                data = pending + data if pending else data
                parts = data.split(b"\n")
                pending = parts.pop()
                if parts:
                    yield [line.rstrip(b"\r") for line in parts] if b"\r" in data and not keep_cr else parts
        except (OSError, ValueError, http11.HTTPException) as exc:
            raise self._transport.unreachable(exc) from exc

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        try:
            while True:
                data = self._read1(size)
                if not data:
                    return
                yield data
        except (OSError, http11.HTTPException) as exc:
            raise self._transport.unreachable(exc) from exc

    def abort(self) -> None:
        """Unblock a reader in another thread (used to stop a watch). A response the connection let go of (it
        said `Connection: close`, or its body ends where the connection does) holds the socket itself."""
        sock = self._conn.sock
        if sock is None:
            sock = self.raw.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self, reuse: bool = False) -> None:
        if reuse and self.raw.isclosed() and not self.raw.will_close:
            self._transport.release(self._conn)
        else:
            self.raw.close()
            self._conn.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Transport:
    """A pool of HTTP(S) connections to one API server, with its credentials."""

    def __init__(self, settings: ConnectionSettings, timeout: float | None = None):
        self.settings = settings
        self.timeout = timeout
        try:
            url = urlsplit(settings.server)
            port = url.port
        except ValueError as exc:  # a bad port; config.load refuses those, settings made by hand may not
            raise ConfigError(f'invalid server URL "{settings.server}": {exc}') from exc
        if url.scheme not in ("https", "http") or not url.hostname:
            raise ConfigError(f'invalid server URL "{settings.server}" in the kubeconfig')
        for what, name in (("server URL", url.hostname), ("tls-server-name", settings.tls_server_name)):
            if name is not None and not _host_name(name):
                shown = settings.server if what == "server URL" else name
                raise ConfigError(
                    f'invalid {what} "{shown}" in the kubeconfig: a host name of empty or overlong labels'
                )
        self.scheme = url.scheme
        self.host = url.hostname
        self.port = port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")
        self.proxy = _proxy(settings, self.scheme, self.host, self.port)
        self._pool: list[http11.Connection] = []
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None
        self._ssl_lock = threading.Lock()  # a context is made (CA and client certificate loaded) once, not per thread
        self._ssl_cert: tuple[bytes, bytes] | None = None  # the client certificate self._ssl presents
        self._exec = exec_authenticator(settings.exec_config, settings.server) if settings.exec_config else None
        self._token_cache: tuple[float, str | None] | None = None

    # -- connections -----------------------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        cert = self._client_cert(self._exec.get() if self._exec is not None else None)
        with self._ssl_lock:  # threads connecting at once (a watch's queries) share the one context
            return self._context_for(cert)

    def _context_for(self, cert: tuple[bytes, bytes] | None) -> ssl.SSLContext:
        if self._ssl is not None and cert == self._ssl_cert:
            return self._ssl
        s = self.settings
        if s.insecure:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif s.ca_data:
            # only the cluster's CA: loading the system store as well costs ~15 ms per command
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            try:
                ctx.load_verify_locations(cadata=s.ca_data.decode("ascii"))
            except (ssl.SSLError, UnicodeDecodeError, ValueError) as exc:
                raise ConfigError(
                    "unable to load root certificates: unable to parse bytes as PEM block",
                    hint=f"check certificate-authority(-data) of the cluster of context {s.context or '(in-cluster)'}",
                ) from exc
        else:
            ctx = ssl.create_default_context()
        if cert:
            _load_cert_chain(ctx, cert[0], cert[1])
        self._ssl, self._ssl_cert = ctx, cert
        return ctx

    def _connect(self, timeout: float | None) -> http11.Connection:
        proxy = self.proxy
        host, port = (proxy.host, proxy.port) if proxy else (self.host, self.port)
        ctx = None
        if self.scheme == "https":
            # tls-server-name, else the host dialled (the API server's, also through a proxy's tunnel); one context
            # per connection (_context asks an exec plugin's cache each time)
            ctx = _ServerNameContext(self._context(), self.settings.tls_server_name)
        conn = http11.Connection(host, port, timeout=timeout, context=ctx, dial=_create_connection)
        if proxy:
            conn.set_tunnel(self.host, self.port, proxy.authorization)
        return conn

    def _acquire(self, timeout: float | None) -> tuple[http11.Connection, bool]:
        """A pooled connection that still looks open (reused=True), else a new one. A pooled connection with
        something to read has been closed by the server (an idle timeout): drop it before sending on it, as Go's
        transport notices it in its read loop and urllib3 in `is_connection_dropped`, so that a write rarely meets
        a dead connection after it was sent."""
        while True:
            with self._lock:
                conn = self._pool.pop() if self._pool else None
            if conn is None:
                return self._connect(timeout), False
            if conn.sock is None or _dropped(conn.sock):
                conn.close()
                continue
            conn.sock.settimeout(timeout)
            conn.timeout = timeout
            return conn, True

    def release(self, conn: http11.Connection) -> None:
        """Pool a connection that has answered; one made with a TLS context since replaced (an exec plugin's
        rotated client certificate) is closed instead, as those pooled then were."""
        stale = isinstance(conn.context, _ServerNameContext) and conn.context._ctx is not self._ssl
        with self._lock:
            if not stale and len(self._pool) < 8:
                self._pool.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()

    # -- credentials -----------------------------------------------------------------------------------------

    def _client_cert(self, cred: ExecCredential | None) -> tuple[bytes, bytes] | None:
        """The exec plugin's client certificate if it gave one, else the kubeconfig's."""
        if cred is not None and cred.client_cert_data and cred.client_key_data:
            return cred.client_cert_data, cred.client_key_data
        s = self.settings
        return (s.client_cert_data, s.client_key_data) if s.client_cert_data and s.client_key_data else None

    def _exec_credential(self) -> ExecCredential | None:
        """The exec plugin's current credential (None without a plugin). If the plugin has rotated the client
        certificate, no pooled connection keeps presenting the old one."""
        if self._exec is None:
            return None
        cred = self._exec.get()
        if self._ssl is not None and self._client_cert(cred) != self._ssl_cert:
            self._ssl = None
            self.close()
        return cred

    def _bearer(self, cred: ExecCredential | None) -> str | None:
        s = self.settings
        if cred is not None and cred.token:
            return cred.token
        if s.token_file:  # re-read when it changes; with a token too, the token stands in while it cannot be read
            try:
                mtime = os.stat(s.token_file).st_mtime
            except OSError as exc:
                if s.token:
                    return s.token
                raise ConfigError(f"cannot read token file {s.token_file}: {exc.strerror}") from exc
            if self._token_cache is None or self._token_cache[0] != mtime:
                self._token_cache = (mtime, read_token(s))
            return self._token_cache[1]
        return s.token

    # -- requests --------------------------------------------------------------------------------------------

    def unreachable(self, exc: BaseException) -> KatesError:
        if isinstance(exc, KatesError):
            return exc
        where = f"{self.scheme}://{self.host}:{self.port}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            return TLSVerifyError(
                f"unable to connect to the server {where}: TLS verification failed: {exc.verify_message or exc}",
                hint="check the cluster's certificate-authority and server name in the kubeconfig",
            )
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return Unreachable(f"unable to connect to the server {where}: timed out")
        if isinstance(exc, ConnectionRefusedError):
            return Unreachable(
                f"unable to connect to the server {where}: connection refused",
                hint="is the API server running, and is this the right host and port?",
            )
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return Unreachable(f"unable to connect to the server {where}: {reason}")

    def unsendable(self, exc: ValueError) -> ConfigError:
        """What ssl, the idna codec or the request's head refused before anything was sent: a host name with an
        empty label, a tls-server-name that begins with a dot, a credential that cannot be a header."""
        where = f"{self.scheme}://{self.host}:{self.port}"
        return ConfigError(
            f"cannot send a request to the server {where}: {exc}",
            hint="check the cluster's server and tls-server-name, and the user's credentials, in the kubeconfig",
        )

    def uncertain(self, method: str, path: str, exc: BaseException | None) -> Uncertain:
        """A write sent whole whose answer was lost: it may have been applied."""
        if isinstance(exc, KatesError):
            reason = f" ({exc.message})"
        else:
            reason = "" if exc is None else f" ({getattr(exc, 'strerror', None) or str(exc) or type(exc).__name__})"
        return Uncertain(
            f"the request may have been applied: the connection was lost before the answer{reason}",
            method=method,
            path=path,
            hint="check the object's current state before repeating the request",
        )

    def open(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: bytes | None = None,
        content_type: str = JSON,
        accept: str = JSON,
        timeout: float | None = -1.0,
        before_send: Callable[[], None] | None = None,
    ) -> Response:
        """Send one request and return the open response, raising the matching KatesError for HTTP >= 400.
        `before_send` is called as the last thing before each attempt's request leaves (after its connection is
        made); what it raises stops the request unsent (a fenced write: core/coherence.py `Permits`)."""
        timeout = self.timeout if timeout == -1.0 else timeout
        url = self.prefix + build_url(path, params)
        repeated = False  # the first attempt was sent whole and lost its answer
        for attempt in (0, 1):
            headers, cred = self._headers(accept, content_type if body is not None else None)
            conn, reused = self._acquire(timeout)
            sent = False
            try:
                try:
                    if before_send is not None:
                        try:
                            _last_check(conn, before_send)
                        except KatesError as exc:
                            if repeated:  # the first attempt was sent whole: it may have been applied
                                raise self.uncertain(method, path, exc) from exc
                            raise
                    conn.request(method, url, body=body, headers=headers)
                except (OSError, http11.HTTPException):  # (first: ssl's certificate failure is a ValueError too)
                    # The server may answer before it has read the whole body, and close: an oversize request's 413
                    # is waiting to be read (Go's transport reads it too). Without one, the send's error stands.
                    early = _early_answer(conn) if body is not None else None
                    if early is None:
                        raise
                    early.will_close = True  # the server may still take the rest of the body for the next request
                    resp = early
                except ValueError as exc:  # refused before anything was sent (UnicodeError included)
                    conn.close()
                    raise self.unsendable(exc) from exc
                else:
                    sent = True
                    resp = conn.getresponse()
            except (OSError, http11.HTTPException) as exc:
                conn.close()
                if repeated and method not in ("GET", "HEAD"):
                    raise self.uncertain(method, path, exc) from exc  # the first attempt's fate is unknown
                if not sent:
                    # The request never left whole, so the server cannot have acted on it. A kept-alive connection
                    # the server had closed fails here on send: retry once on a fresh one, whatever the method.
                    if reused and attempt == 0:
                        continue
                    raise self.unreachable(exc) from exc
                if _lost_connection(exc) and attempt == 0 and _repeatable(method, content_type):
                    repeated = True  # sent whole, no answer: repeat only what is safe to do twice
                    continue
                if method in ("GET", "HEAD"):
                    raise self.unreachable(exc) from exc
                raise self.uncertain(method, path, exc) from exc
            response = Response(self, conn, resp)
            server_warnings.handle(resp.headers.get_all("Warning"))  # errors carry warnings too, as in client-go
            if resp.status < 400:
                return response
            try:
                raw = response.read()
            except BaseException:
                response.close()
                raise
            response.close(reuse=True)
            if repeated and resp.status == 409 and method not in ("GET", "HEAD"):
                # a conditional write repeated after its answer was lost: the conflict may be with itself
                raise self.uncertain(method, path, None)
            if resp.status == 401 and attempt == 0 and self._exec is not None and cred is not None:
                self._exec.refresh(cred)  # runs the plugin unless another request already has
                continue
            raise _refusal(resp.status, raw)
        raise AssertionError("unreachable")

    def _headers(self, accept: str, content_type: str | None) -> tuple[dict[str, str], ExecCredential | None]:
        """A request's headers (credentials included), and the exec plugin's credential they carry, if any."""
        headers = {"Accept": accept, "User-Agent": "kates/0.1"}
        if not self.settings.disable_compression:
            headers["Accept-Encoding"] = "gzip"
        if content_type is not None:
            headers["Content-Type"] = content_type
        cred = self._exec_credential()
        token = self._bearer(cred)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers, cred

    def send_get(self, path: str, *, params: Params | None = None, accept: str = JSON) -> SentGet:
        """Send a GET now and read its answer later (`SentGet.result`): the server works on it meanwhile."""
        return SentGet(self, path, params, accept)

    def request(self, method: str, path: str, *, head: Callable[[bytes], bool] | None = None, **kwargs: Any) -> bytes:
        """Send one request and return the whole body (`head`: Response.read's)."""
        response = self.open(method, path, **kwargs)
        try:
            data = response.read(head)
        except Unreachable as exc:
            response.close()
            if method in ("GET", "HEAD"):
                raise
            raise self.uncertain(method, path, exc) from exc  # answered, then cut: the client cannot tell how
        except BaseException:
            response.close()
            raise
        response.close(reuse=True)
        return data

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        return deepjson.loads(self.request(method, path, **kwargs))


class SentGet:
    """A GET sent when it was made and answered when asked (`result`): a chunked list asks for its next page before
    it hands on the page it has, so the API server reads and encodes that page while the client uses this one.

    `result()` is what `Transport.request("GET", ...)` would return or raise, with one difference: an answer cut
    short after it began (the connection reset or closed mid-body, a body shorter than announced) is asked for
    once more, by `Transport.request` with its own retries, since the server may have given up on a reader that
    came late. As with `request`, a connection dropped before the answer is asked again, and a timeout, a refusal
    (HTTP >= 400) or an invalid body is raised, never repeated; a 401 from an exec plugin's credential goes to
    `request`, which refreshes the credential once. What sending met (a connection refused, a credential the
    plugin could not give) is raised by `result()` as met, without trying again. `close()` drops an answer never
    asked for, with its connection. `result(head)` shows the body's start to `head` as Response.read does (again
    from the start if asked again)."""

    def __init__(self, transport: Transport, path: str, params: Params | None, accept: str):
        self._transport = transport
        self._path, self._params, self._accept = path, params, accept
        self._conn: http11.Connection | None = None
        self._failed: KatesError | None = None  # what sending met, raised by result()
        conn, reused = None, False
        try:
            headers, _ = transport._headers(accept, None)
            conn, reused = transport._acquire(transport.timeout)
            conn.request("GET", transport.prefix + build_url(path, params), headers=headers)
        except KatesError as exc:  # a credential the plugin could not give, a CA that does not load
            self._failed = exc
        except (OSError, http11.HTTPException) as exc:  # (before ValueError: ssl's certificate failure is both)
            if not reused:  # a reused connection the server had closed is asked again on a fresh one, as `open` does
                self._failed = transport.unreachable(exc)
        except ValueError as exc:  # refused before anything was sent (Transport.unsendable)
            self._failed = transport.unsendable(exc)
        except BaseException:
            if conn is not None:
                conn.close()
            raise
        else:
            self._conn = conn
            return
        if conn is not None:
            conn.close()

    def result(self, head: Callable[[bytes], bool] | None = None) -> bytes:
        if self._failed is not None:
            raise self._failed
        conn, self._conn = self._conn, None
        if conn is not None:
            data = self._answer(conn, head)
            if data is not None:
                return data
        return self._transport.request("GET", self._path, params=self._params, accept=self._accept, head=head)

    def _answer(self, conn: http11.Connection, head: Callable[[bytes], bool] | None) -> bytes | None:
        """The body; None when it is to be asked again (lost, cut short, or a 401 for `request`'s exec refresh).
        `conn` goes back to the pool or is closed, whatever happens."""
        try:
            raw = conn.getresponse()
        except (OSError, http11.HTTPException) as exc:
            conn.close()
            if _lost_connection(exc):
                return None
            raise self._transport.unreachable(exc) from exc
        except BaseException:
            conn.close()
            raise
        response = Response(self._transport, conn, raw)
        server_warnings.handle(raw.headers.get_all("Warning"))  # as soon as they come, as `open` does
        try:
            data = response.read(head if raw.status < 400 else None)
        except Unreachable as exc:
            response.close()
            if isinstance(exc.__cause__, (ConnectionError, http11.HTTPException)):
                return None  # cut short (not timed out, not invalid): the server may have given up on a late reader
            raise
        except BaseException:
            response.close()
            raise
        response.close(reuse=True)
        if raw.status < 400:
            return data
        if raw.status == 401 and self._transport._exec is not None:
            return None
        raise _refusal(raw.status, data)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()


def _refusal(status: int, raw: bytes) -> KatesError:
    """The error for an HTTP status >= 400 and its body (a Status, or text)."""
    try:
        parsed = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        parsed = None
    text = raw.decode(errors="replace").strip()
    return from_status(status, parsed, fallback=text.splitlines()[0] if text else "")


_REPEATABLE_PATCHES = frozenset(
    ("application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml")
)


def _repeatable(method: str, content_type: str) -> bool:
    """Whether a request sent whole but unanswered may be sent again. Reads may. A PUT replaces the whole object,
    so a repeat leaves the same state, and one carrying a resourceVersion conflicts with itself (reported as
    uncertain, see `open`). Merge, strategic-merge and apply patches set fields to values and give the same object
    applied twice. POST (a create, or a generateName create that would make a second object), DELETE (a repeat
    answers 404) and JSON patch (`add` to a list appends twice, `test` fails) may not. client-go retries only GET."""
    if method in ("GET", "HEAD", "PUT"):
        return True
    return method == "PATCH" and content_type.split(";")[0].strip() in _REPEATABLE_PATCHES


def _lost_connection(exc: BaseException) -> bool:
    """The connection died under an unanswered request (not a timeout: a slow server may still be at work)."""
    return isinstance(exc, (http11.RemoteDisconnected, ConnectionResetError, BrokenPipeError))


def _last_check(conn: http11.Connection, check: Callable[[], None]) -> None:
    """Connect (a failure here is a send that never left), then run `check`; the connection is closed if `check`
    refuses, as nothing was sent on it."""
    if conn.sock is None:
        conn.connect()
    try:
        check()
    except BaseException:
        conn.close()
        raise


def _early_answer(conn: http11.Connection) -> http11.Response | None:
    """The answer a server gave before reading a whole request body, if there is one to read."""
    try:
        return conn.getresponse()
    except (OSError, http11.HTTPException):
        return None


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive socket is readable only when the server has closed it (or sent something unasked)."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _gunzip() -> Any:
    return zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: a gzip header and trailer around the deflate data


def _load_cert_chain(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """Give the context the client certificate and key. ssl loads them only from a path, so on Linux they go into
    an in-memory file (memfd: no name on any filesystem, gone with its last descriptor, so even a SIGKILL leaves
    nothing behind) opened through /proc/self/fd. A key encrypted with a passphrase is refused (ssl would ask for it
    on the terminal, and a hook's kates would wait there; client-go cannot read such a key either)."""
    try:
        with _key_file(cert + b"\n" + key) as path:
            ctx.load_cert_chain(path, password=_no_passphrase)
    except ssl.SSLError as exc:
        raise ConfigError(f"invalid client certificate or key: {exc.reason or exc}") from exc


def _no_passphrase() -> bytes:
    raise ConfigError("the client key is encrypted with a passphrase, which kates cannot ask for")


@contextlib.contextmanager
def _key_file(data: bytes) -> Iterator[str]:
    """A path holding `data` for as long as the block runs, without a plaintext copy on disk where possible."""
    fd = _memfd(data)
    if fd is not None:
        try:
            yield f"/proc/self/fd/{fd}"
        finally:
            os.close(fd)
        return
    # No memfd (not Linux, or /proc not mounted): a file in a private directory, deleted as soon as ssl has read
    # it. A SIGKILL in that window would leave the key behind, so the directory is named after our pid and the
    # next kates removes those of dead processes (`_remove_stale_key_dirs`).
    import shutil  # lazily, as below: only where there is no memfd (start-up stays short)
    import tempfile

    _remove_stale_key_dirs()
    directory = tempfile.mkdtemp(prefix=f"{KEY_DIR_PREFIX}{os.getuid()}-{os.getpid()}-")  # mode 0700
    path = os.path.join(directory, "client.pem")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        yield path
    finally:
        shutil.rmtree(directory, ignore_errors=True)


KEY_DIR_PREFIX = "kates-key-"


def _memfd(data: bytes) -> int | None:
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        fd: int = memfd_create("kates-client-key", getattr(os, "MFD_CLOEXEC", 1))
    except OSError:
        return None
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    return fd


def _remove_stale_key_dirs() -> None:
    """Remove the key directories of kates processes that died without removing theirs (SIGKILL)."""
    import shutil
    import tempfile

    prefix = f"{KEY_DIR_PREFIX}{os.getuid()}-"
    tmp = tempfile.gettempdir()
    try:
        names = os.listdir(tmp)
    except OSError:
        return
    for name in names:
        pid = name[len(prefix) :].split("-")[0]
        if not name.startswith(prefix) or not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # alive (or another user's pid we may not signal): keep
        except ProcessLookupError:
            shutil.rmtree(os.path.join(tmp, name), ignore_errors=True)
        except OSError:
            continue


class _ServerNameContext:
    """Wraps an SSLContext so that TLS verifies `server_name` (tls-server-name) instead of the dialled host when it is
    set, and names the host to ssl as `_plain_host` spells it."""

    def __init__(self, ctx: ssl.SSLContext, server_name: str | None):
        self._ctx = ctx
        self._name = server_name

    def wrap_socket(self, sock: socket.socket, server_hostname: str | None = None, **kw: Any) -> TLSSocket:
        """TLS as core/tlsbio.py runs it (http11.Connection.connect calls this)."""
        name = self._name or server_hostname
        return TLSSocket(self._ctx, sock, _plain_host(name) if name else name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)


def _plain_host(host: str) -> str | bytes:
    """`host` as its ASCII bytes where the idna codec would encode it to exactly those (an IP address, or a name of
    ASCII labels of 1 to 63 characters), else `host`. socket's getaddrinfo and ssl encode a str host with the idna
    codec, whose first use imports encodings.idna, stringprep and unicodedata and compiles a Unicode regular
    expression: milliseconds of a one-shot command. Given bytes, they skip it, with the same name in the end."""
    if not host.isascii():
        return host
    labels = host.split(".")
    if any(not 0 < len(label) < 64 for label in labels[:-1]) or len(labels[-1]) >= 64:
        return host  # the codec's error, as before
    return host.encode("ascii")


_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


def _proxy(settings: ConnectionSettings, scheme: str, host: str, port: int) -> Proxy | None:
    """The cluster's proxy-url, else the environment's proxy for this server (core/proxy.py); None: direct."""
    if not settings.proxy_url and not any(os.environ.get(name) for name in _PROXY_VARIABLES):
        return None
    from .proxy import Proxy, proxy_for, redacted  # lazily: only where a proxy is named

    url = settings.proxy_url or proxy_for(scheme, host, port, os.environ)
    if not url:
        return None
    try:
        return Proxy.parse(url)
    except ValueError as exc:
        where = "proxy-url" if settings.proxy_url else "proxy (HTTPS_PROXY or HTTP_PROXY in the environment)"
        raise ConfigError(f'invalid {where} "{redacted(url)}": {exc}') from None


def _host_name(host: str) -> bool:
    """Whether ssl and getaddrinfo can take `host` (their idna codec refuses an empty label but a final one, and a
    label over 63 characters: "a..b", ".example.com"); an IPv6 address passes."""
    if host.isascii():
        return isinstance(_plain_host(host), bytes) or ":" in host
    try:
        host.encode("idna")
    except UnicodeError:
        return False
    return True


def _create_connection(address: tuple[str, int], *args: Any) -> socket.socket:
    """socket.create_connection with the host as `_plain_host` spells it (http11.Connection's `dial`)."""
    host: Any = _plain_host(address[0])  # getaddrinfo takes bytes (typeshed says str only)
    return socket.create_connection((host, address[1]), *args)
