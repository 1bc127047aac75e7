"""Whether a write whose answer never came may have been applied, and how kates says so.

Invariants:
- core/transport.py decides: a request that never left whole (connection refused, no such host, a TLS handshake
  refused, a send that failed) cannot have been acted on and is a plain `Unreachable`; a write sent whole whose
  answer was lost (the connection dropped or timed out) is `Uncertain`, and is never repeated unless repeating it
  is harmless (core/transport.py `_repeatable`).
- For an `Uncertain` write kates never guesses: it says `the request may have been applied; the connection was
  lost before the answer`, naming the object.
"""

from __future__ import annotations

from ..errors import KatesError, Uncertain

LOST_ANSWER = "the request may have been applied; the connection was lost before the answer"


def maybe_applied(exc: KatesError) -> bool:
    """True when the failed request may nonetheless have been applied by the server."""
    return isinstance(exc, Uncertain)


def lost_answer(what: str) -> str:
    """The error line's text for a write to `what` (e.g. `configmaps "x"`) whose answer was lost."""
    return f"{what}: {LOST_ANSWER}"
