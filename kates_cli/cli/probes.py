"""The HTTP endpoint of `kates watch --metrics-addr`: /metrics, /healthz and /readyz.

Invariants:
- The address is checked before anything else (`parse_addr`: HOST:PORT, `:PORT` for every interface as Go's net
  package reads it, `[::1]:PORT` for IPv6; a host that does not resolve is a usage error), and bound before the
  first request to the API server: a port in use ends kates with one `error:` line, before any bootstrap.
- /readyz is 200 once every query has bootstrapped (its complete initial set is in the snapshot), 503 before.
- /healthz is 200 while every watch stream has heard from the API server within its stall bound (--stall-timeout):
  a healthy idle watch is ended by the server at 90% of the bound and reopened, so a stream silent past the bound
  is stuck (a silent connection, an unreachable server, a wedged thread), whether or not the stall machinery has
  noticed it yet. It is 503, naming the query and how long it has been silent, until the stream hears from the
  server again. Before the streams exist (discovery) it is 200.
- Served by daemon threads (ThreadingHTTPServer); a request never blocks the watch, and the server logs nothing
  (stderr belongs to kates's own log and the hook): not an access log, and not the traceback socketserver prints
  when a client resets its connection (a load balancer's TCP check, a scrape that timed out mid-body).
- A connection is served for at most `CLIENT_TIMEOUT` seconds of silence, and at most `MAX_CLIENTS` at once (one
  more is closed at once): clients that connect and send nothing, or never read, cannot pile up threads.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from ..errors import KatesError, UsageError

if TYPE_CHECKING:
    from ..core.accumulator import Accumulator

ADDR_FORM = "HOST:PORT, e.g. :9090 (every interface) or 127.0.0.1:9090"
CLIENT_TIMEOUT = 10.0  # seconds a connection may stay silent (a scraper's default timeout is 10 s)
MAX_CLIENTS = 32  # connections served at once


def parse_addr(text: str) -> tuple[str, int]:
    """`--metrics-addr` -> (host, port); host "" means every interface."""

    def bad(why: str) -> UsageError:
        return UsageError(f'invalid --metrics-addr "{text}": {why}', hint=f"expected {ADDR_FORM}")

    host, sep, port = text.rpartition(":")
    if not sep:
        raise bad("no port")
    if not (port.isascii() and port.isdigit()) or not 0 <= int(port) <= 65535:
        raise bad(f'"{port}" is not a port (0 to 65535)')
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        raise bad("an IPv6 address needs brackets: [ADDRESS]:PORT")
    if host:
        try:
            socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except (socket.gaierror, UnicodeError) as exc:
            raise bad(f'cannot resolve "{host}": {getattr(exc, "strerror", None) or exc}') from None
    return host, int(port)


class Probes:
    """What /readyz and /healthz answer, from the accumulator and its streams (None before they exist)."""

    def __init__(self) -> None:
        self.acc: Accumulator | None = None

    def ready(self) -> tuple[bool, str]:
        acc = self.acc
        if acc is None:
            return False, "not bootstrapped: starting"
        pending = [name for name, s in acc.status().items() if not s["synced"]]
        return (False, f"not bootstrapped: {', '.join(pending)}") if pending else (True, "ok")

    def healthy(self, now: float | None = None) -> tuple[bool, str]:
        acc = self.acc
        if acc is None:
            return True, "ok"
        now = time.monotonic() if now is None else now
        stuck = []
        for stream in acc.streams:
            silent = now - stream.heard
            if silent > stream.stall_timeout:
                stuck.append(
                    f"{stream.title}: nothing from the server for {silent:.1f}s (stall bound {stream.stall_timeout:g}s)"
                )
        return (False, "; ".join(stuck)) if stuck else (True, "ok")


class ProbeServer:
    """Binds at once (errors as KatesError), then serves from a daemon thread until `close()`."""

    def __init__(self, addr: tuple[str, int], probes: Probes, metrics: Callable[[], bytes]) -> None:
        host, port = addr
        self.probes, self.metrics = probes, metrics
        family, bind_host = _family(host, port)
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        handler = _handler(self)

        clients = threading.BoundedSemaphore(MAX_CLIENTS)

        class Server(ThreadingHTTPServer):
            address_family = family
            daemon_threads = True

            def server_bind(self) -> None:
                if family == socket.AF_INET6 and not host:  # every interface: IPv4 too, as Go listens on ":PORT"
                    self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                super().server_bind()

            def process_request(self, request: Any, client_address: Any) -> None:
                if not clients.acquire(blocking=False):  # MAX_CLIENTS are being served: this one is closed
                    self.shutdown_request(request)
                    return
                super().process_request(request, client_address)

            def process_request_thread(self, request: Any, client_address: Any) -> None:
                try:
                    super().process_request_thread(request, client_address)
                finally:
                    clients.release()

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that reset or timed out: nothing for kates's log (socketserver prints a traceback)

        try:
            self.server = Server((bind_host, port), handler)
        except OSError as exc:
            why = "address already in use" if exc.errno == errno.EADDRINUSE else (exc.strerror or str(exc))
            raise KatesError(
                f"cannot listen on {shown} (--metrics-addr): {why}", hint="choose another address with --metrics-addr"
            ) from None
        bound_host, self.port = str(self.server.server_address[0]), int(self.server.server_address[1])
        self.address = f"[{bound_host}]:{self.port}" if family == socket.AF_INET6 else f"{bound_host}:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, name="kates-metrics", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def answer(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of `path`."""
        path = path.split("?", 1)[0]
        if path == "/metrics":
            from prometheus_client import CONTENT_TYPE_LATEST

            return 200, CONTENT_TYPE_LATEST, self.metrics()
        if path in ("/healthz", "/readyz"):
            ok, why = self.probes.healthy() if path == "/healthz" else self.probes.ready()
            return (200 if ok else 503), "text/plain; charset=utf-8", (why + "\n").encode()
        return 404, "text/plain; charset=utf-8", b"not found: try /metrics, /healthz or /readyz\n"


def _family(host: str, port: int) -> tuple[socket.AddressFamily, str]:
    """The address family and the host to bind: for every interface, IPv6 dual-stack where the system has it."""
    if not host:
        return (socket.AF_INET6, "::") if socket.has_dualstack_ipv6() else (socket.AF_INET, "")
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise UsageError(f'invalid --metrics-addr: cannot resolve "{host}": {exc.strerror}') from None
    family, _, _, _, sockaddr = info[0]
    return family, str(sockaddr[0])


def _handler(owner: ProbeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = CLIENT_TIMEOUT  # a silent client's socket times out (the handler then ends quietly)

        def do_GET(self) -> None:
            try:
                status, ctype, body = owner.answer(self.path)
            except Exception as exc:  # a scrape must never take kates down; say what failed to the scraper
                status, ctype, body = 500, "text/plain; charset=utf-8", f"{type(exc).__name__}: {exc}\n".encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # stderr is kates's log and the hook's: no access log there

    return Handler
