"""The API server's `Warning` response headers (deprecated APIs, unknown fields under fieldValidation=Warn, ...).

Invariants:
- Headers are parsed as client-go parses them (RFC 7234 `warn-code warn-agent "warn-text" ["warn-date"]`, several
  per header separated by commas); a malformed warning ends the parse of its header, never the request.
- Only code 299 with a non-empty text is handed on (what client-go's handlers keep).
- Every response of every request goes through `handle()` (the transport calls it), errors included. Where the
  warnings go is one process-wide handler, as client-go's `rest.SetDefaultWarningHandler`: by default the
  `kates_cli` logger at WARNING level; the CLI installs a `WarningWriter` on stderr.
- `WarningWriter` writes `Warning: <text>` lines, each distinct text once per process (kubectl's deduplication),
  and is safe to call from several threads.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from .records import record

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import IO

Handler = Callable[[int, str, str], None]  # (code, agent, text)

YELLOW, RESET = "\x1b[33;1m", "\x1b[0m"


@record(frozen=True)
class ServerWarning:
    """One `Warning` header of the API server's: its code, agent and text."""

    code: int
    agent: str
    text: str


def _quoted(text: str) -> tuple[str, str] | None:
    """The backslash-unescaped content of a leading quoted string, and what follows it; None if unterminated."""
    if not text.startswith('"'):
        return None
    out: list[str] = []
    escaping = False
    for i in range(1, len(text)):
        ch = text[i]
        if ch == "\\" and not escaping:
            escaping = True
            continue
        if ch == '"' and not escaping:
            return "".join(out), text[i + 1 :].strip()
        out.append(ch)
        escaping = False
    return None


def _decode_words(text: str) -> str:
    """Tolerate RFC 2047 encoded words (`=?utf-8?q?...?=`), as client-go does for RFC 2616 era warnings."""
    if "=?" not in text:
        return text
    from email.header import decode_header, make_header

    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError):
        return text


def parse_header(header: str) -> list[ServerWarning]:
    """Every well-formed warning in one header value, stopping at the first malformed one."""
    found: list[ServerWarning] = []
    rest = header.strip()
    while rest:
        parts = rest.split(" ", 2)
        if len(parts) != 3 or len(parts[0]) != 3 or not parts[0].isdigit() or not parts[1]:
            break
        quoted = _quoted(parts[2])
        if quoted is None:
            break
        text, rest = quoted
        text = _decode_words(text)
        if any(ord(c) < 32 or ord(c) == 127 for c in text):
            break
        if rest.startswith('"'):  # an optional warn-date
            end = rest.find('"', 1)
            if end < 0:
                break
            rest = rest[end + 1 :].strip()
        if rest:
            if not rest.startswith(","):
                break  # client-go drops this warning too
            rest = rest[1:].strip()
        found.append(ServerWarning(int(parts[0]), parts[1], text))
    return found


def parse_headers(values: Iterable[str]) -> list[ServerWarning]:
    return [w for value in values for w in parse_header(value)]


def _log(code: int, agent: str, text: str) -> None:
    import logging  # lazily: the CLI never uses this default

    logging.getLogger("kates_cli").warning("Warning: %s", text)


_handler: Handler = _log
_lock = threading.Lock()


def set_handler(handler: Handler | None) -> None:
    """Send every server warning to `handler` from now on (None: the default, the `kates_cli` logger)."""
    global _handler
    with _lock:
        _handler = handler or _log


def handle(values: Iterable[str] | None) -> None:
    """Hand the warnings in these `Warning` header values to the installed handler (code 299, non-empty only)."""
    if not values:
        return
    with _lock:
        handler = _handler
    for w in parse_headers(values):
        if w.code == 299 and w.text:
            handler(w.code, w.agent, w.text)


def client_warning(text: str) -> None:
    """A warning of the client's own (client-go's warning handler gets these too: an ambiguous short name), handed to
    the installed handler as a server's would be."""
    with _lock:
        handler = _handler
    handler(299, "", text)


class WarningWriter:
    """A handler writing `Warning: <text>` lines to a stream, each distinct text once (kubectl's writer).

    `stream` is a callable so that the current sys.stderr is used at write time (tests replace it)."""

    def __init__(self, stream: Callable[[], IO[str]], *, color: bool = False, deduplicate: bool = True):
        self._stream = stream
        self._color = color
        self._seen: set[str] | None = set() if deduplicate else None
        self._lock = threading.Lock()
        self.count = 0

    def __call__(self, code: int, agent: str, text: str) -> None:
        with self._lock:
            if self._seen is not None:
                if text in self._seen:
                    return
                self._seen.add(text)
            self.count += 1
            self.write(text)

    def write(self, text: str) -> None:
        """Write one warning line now (no deduplication): kates's own warnings use the same form."""
        prefix = f"{YELLOW}Warning:{RESET}" if self._color else "Warning:"
        out = self._stream()
        out.write(f"{prefix} {text}\n")
        out.flush()
