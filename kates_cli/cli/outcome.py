"""Whether a write whose answer never came may have been applied, and how kates says so.

Invariants:
- A write that failed before its request could reach the server (connection refused, no such host, a TLS
  handshake refused) was not applied: `maybe_applied` is False.
- Any other lost answer (the connection dropped or timed out after the request was sent, or while it was being
  sent) may have been applied: kates never guesses, never repeats the write (core/transport.py retries only reads)
  and says `the request may have been applied; the connection was lost before the answer`.
"""

from __future__ import annotations

import socket
import ssl

from ..errors import Unreachable

LOST_ANSWER = "the request may have been applied; the connection was lost before the answer"

# failures that happen before a single byte of the request can have reached the API server
_NOT_SENT = (ConnectionRefusedError, socket.gaierror, ssl.SSLCertVerificationError)


def maybe_applied(exc: Unreachable) -> bool:
    """True when the failed request may nonetheless have been applied by the server."""
    cause = exc.__cause__
    if cause is None:
        return False  # raised by kates itself (e.g. a bad gzip answer comes after a status, never for writes)
    return not isinstance(cause, _NOT_SENT)


def lost_answer(what: str) -> str:
    """The error line's text for a write to `what` (e.g. `configmaps "x"`) whose answer was lost."""
    return f"{what}: {LOST_ANSWER}"
