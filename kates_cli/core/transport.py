"""HTTP to the API server: raw bytes in, raw bytes out.

Invariants:
- This is the only module that imports the `kubernetes` package, and only lazily: to turn a typed model object
  into a plain dict at the edge (`to_plain`). Requests go through the standard library's `http.client`, so a command
  that never converts a model never pays for importing `kubernetes`.
- Every failure leaves as a `KatesError`: HTTP errors through `errors.from_status` with the server's Status,
  network and TLS failures as `Unreachable`, credential problems as `ConfigError`.
- Responses are asked for gzip (`Accept-Encoding: gzip`, as client-go asks unless the cluster sets
  disable-compression) and a gzip body is inflated as it is read, chunk by chunk: `read`, `lines` and `chunks` only
  ever return the decoded bytes, and a gzip stream that ends early or is corrupt is an `Unreachable` error.
- Connections are pooled and reused; a pooled connection is used by one request at a time, so the transport
  is safe to share between threads.
- Credentials are read lazily and refreshed when they can change: token files are re-read when their mtime
  changes; the exec plugin runs once per process and again only when its credential has expired or met a 401
  (`credentials.ExecAuthenticator`). A rotated exec client certificate gets a new TLS context, and pooled
  connections made with the old one are closed, as client-go closes them.
"""

from __future__ import annotations

import http.client
import os
import socket
import ssl
import tempfile
import threading
import zlib
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import orjson

from ..errors import ConfigError, KatesError, Unreachable, from_status
from . import deepjson, server_warnings
from .config import ConnectionSettings, ExecCredential, read_token
from .credentials import exec_authenticator

JSON = "application/json"
Params = Mapping[str, str | int | bool | None]


def to_plain(obj: Any) -> Any:
    """A dict for a dict; a `kubernetes` model object converted to its JSON-shaped dict."""
    if isinstance(obj, dict):
        return obj
    if hasattr(obj, "openapi_types") and hasattr(obj, "attribute_map"):
        from kubernetes.client import ApiClient  # lazy: only typed input pays for the import

        return ApiClient().sanitize_for_serialization(obj)  # type: ignore[no-untyped-call]
    raise TypeError(f"expected a dict or a kubernetes model object, got {type(obj).__name__}")


def build_url(path: str, params: Params | None = None) -> str:
    """Path plus a query string; None values are dropped, booleans become true/false."""
    if not params:
        return path
    items = [(k, str(v).lower() if isinstance(v, bool) else str(v)) for k, v in params.items() if v is not None]
    return f"{path}?{urlencode(items, quote_via=quote)}" if items else path


class Response:
    """A streaming response: read it whole with `read()` or line by line with `lines()`; always `close()` it."""

    def __init__(self, transport: Transport, conn: http.client.HTTPConnection, resp: http.client.HTTPResponse):
        self._transport = transport
        self._conn = conn
        self.raw = resp
        self.status = resp.status
        self.headers = resp.headers
        gzipped = (resp.getheader("Content-Encoding") or "").strip().lower() == "gzip"
        self._gunzip = _gunzip() if gzipped else None
        self._partial = False  # the decoder is inside a gzip member (the body may not end here)
        self._inflated = False  # the body has ended: nothing more will come

    def read(self) -> bytes:
        try:
            data = self.raw.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._transport.unreachable(exc) from exc
        return data if self._gunzip is None else self._inflate(data) + self._inflate(b"")

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

    def lines(self) -> Iterator[bytes]:
        """Yield each newline-terminated line (without the newline). Ends when the server closes the stream.

        Reads whatever has arrived (read1, up to 64 KiB) and splits it in bulk: http.client's readline costs a
        chunk-header parse per line, which was half of a watch's CPU. A line is yielded as soon as its newline
        arrives, so streams stay live."""
        pending = b""
        try:
            while True:
                data = self._read1(65536)
                if not data:
                    if pending:
                        yield pending.rstrip(b"\r")
                    return
                parts = (pending + data).split(b"\n")
                pending = parts.pop()
                for line in parts:
                    yield line.rstrip(b"\r")
        except (OSError, http.client.HTTPException) as exc:
            raise self._transport.unreachable(exc) from exc

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        try:
            while True:
                data = self._read1(size)
                if not data:
                    return
                yield data
        except (OSError, http.client.HTTPException) as exc:
            raise self._transport.unreachable(exc) from exc

    def abort(self) -> None:
        """Unblock a reader in another thread (used to stop a watch)."""
        sock = self._conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self, reuse: bool = False) -> None:
        if reuse and self.raw.isclosed():
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
        url = urlsplit(settings.server)
        if url.scheme not in ("https", "http") or not url.hostname:
            raise ConfigError(f'invalid server URL "{settings.server}" in the kubeconfig')
        self.scheme = url.scheme
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.prefix = url.path.rstrip("/")
        self._pool: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self._ssl: ssl.SSLContext | None = None
        self._ssl_cert: tuple[bytes, bytes] | None = None  # the client certificate self._ssl presents
        self._exec = exec_authenticator(settings.exec_config, settings.server) if settings.exec_config else None
        self._token_cache: tuple[float, str | None] | None = None

    # -- connections -----------------------------------------------------------------------------------------

    def _context(self) -> ssl.SSLContext:
        cert = self._client_cert(self._exec.get() if self._exec is not None else None)
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
            ctx.load_verify_locations(cadata=s.ca_data.decode())
        else:
            ctx = ssl.create_default_context()
        if cert:
            _load_cert_chain(ctx, cert[0], cert[1])
        self._ssl, self._ssl_cert = ctx, cert
        return ctx

    def _connect(self, timeout: float | None) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection
        proxy = urlsplit(self.settings.proxy_url) if self.settings.proxy_url else None
        host, port = (proxy.hostname or "", proxy.port or 3128) if proxy else (self.host, self.port)
        if self.scheme == "https":
            conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=self._context())
            if self.settings.tls_server_name:
                server_name = self.settings.tls_server_name
                ctx = self._context()
                conn._context = _ServerNameContext(ctx, server_name)  # type: ignore[attr-defined]
        else:
            conn = http.client.HTTPConnection(host, port, timeout=timeout)
        if proxy:
            conn.set_tunnel(self.host, self.port)
        return conn

    def _acquire(self, timeout: float | None) -> http.client.HTTPConnection:
        with self._lock:
            if self._pool:
                conn = self._pool.pop()
                if conn.sock is not None:
                    conn.sock.settimeout(timeout)
                conn.timeout = timeout
                return conn
        return self._connect(timeout)

    def release(self, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            if len(self._pool) < 8:
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
        if s.token:
            return s.token
        if s.token_file:
            try:
                mtime = os.stat(s.token_file).st_mtime
            except OSError as exc:
                raise ConfigError(f"cannot read token file {s.token_file}: {exc.strerror}") from exc
            if self._token_cache is None or self._token_cache[0] != mtime:
                self._token_cache = (mtime, read_token(s))
            return self._token_cache[1]
        return None

    # -- requests --------------------------------------------------------------------------------------------

    def unreachable(self, exc: BaseException) -> KatesError:
        if isinstance(exc, KatesError):
            return exc
        where = f"{self.scheme}://{self.host}:{self.port}"
        if isinstance(exc, ssl.SSLCertVerificationError):
            return Unreachable(f"unable to connect to the server {where}: {exc.verify_message or exc}")
        if isinstance(exc, (socket.timeout, TimeoutError)):
            return Unreachable(f"unable to connect to the server {where}: timed out")
        if isinstance(exc, ConnectionRefusedError):
            return Unreachable(
                f"unable to connect to the server {where}: connection refused",
                hint="is the API server running, and is this the right host and port?",
            )
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return Unreachable(f"unable to connect to the server {where}: {reason}")

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
    ) -> Response:
        """Send one request and return the open response, raising the matching KatesError for HTTP >= 400."""
        timeout = self.timeout if timeout == -1.0 else timeout
        url = self.prefix + build_url(path, params)
        for attempt in (0, 1):
            headers = {"Accept": accept, "User-Agent": "kates/0.1"}
            if not self.settings.disable_compression:
                headers["Accept-Encoding"] = "gzip"
            if body is not None:
                headers["Content-Type"] = content_type
            cred = self._exec_credential()
            token = self._bearer(cred)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            conn = self._acquire(timeout)
            try:
                conn.request(method, url, body=body, headers=headers)
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as exc:
                conn.close()
                if attempt == 0:  # a pooled keep-alive connection the server had closed: retry once, fresh
                    continue
                raise self.unreachable(exc) from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise self.unreachable(exc) from exc
            response = Response(self, conn, resp)
            server_warnings.handle(resp.headers.get_all("Warning"))  # errors carry warnings too, as in client-go
            if resp.status < 400:
                return response
            raw = response.read()
            response.close(reuse=True)
            if resp.status == 401 and attempt == 0 and self._exec is not None and cred is not None:
                self._exec.refresh(cred)  # runs the plugin unless another request already has
                continue
            try:
                status = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                status = None
            text = raw.decode(errors="replace").strip()
            raise from_status(resp.status, status, fallback=text.splitlines()[0] if text else "")
        raise AssertionError("unreachable")

    def request(self, method: str, path: str, **kwargs: Any) -> bytes:
        """Send one request and return the whole body."""
        response = self.open(method, path, **kwargs)
        try:
            data = response.read()
        except BaseException:
            response.close()
            raise
        response.close(reuse=True)
        return data

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        return deepjson.loads(self.request(method, path, **kwargs))


def _gunzip() -> Any:
    return zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: a gzip header and trailer around the deflate data


def _load_cert_chain(ctx: ssl.SSLContext, cert: bytes, key: bytes) -> None:
    """ssl only loads client certificates from files: write them to a private directory, load, delete at once."""
    with tempfile.TemporaryDirectory(prefix="kates-") as tmp:
        cert_path, key_path = os.path.join(tmp, "client.crt"), os.path.join(tmp, "client.key")
        for path, data in ((cert_path, cert), (key_path, key)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
        try:
            ctx.load_cert_chain(cert_path, key_path)
        except ssl.SSLError as exc:
            raise ConfigError(f"invalid client certificate or key: {exc.reason or exc}") from exc


class _ServerNameContext:
    """Wraps an SSLContext so that TLS verifies `server_name` instead of the dialled host (tls-server-name)."""

    def __init__(self, ctx: ssl.SSLContext, server_name: str):
        self._ctx = ctx
        self._name = server_name

    def wrap_socket(self, sock: socket.socket, server_hostname: str | None = None, **kw: Any) -> ssl.SSLSocket:
        return self._ctx.wrap_socket(sock, server_hostname=self._name, **kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)
