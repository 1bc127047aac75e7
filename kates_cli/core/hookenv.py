"""The environment variables that tell a kates process it runs as a `kates watch` or `kates replay` hook, readable
without importing the coherence protocol (core/coherence.py, which re-exports them): a plain command outside a hook
checks them and never imports the socket protocol.

Invariants:
- Importing this module imports nothing.
- `in_hook(environ)` is false exactly when none of the variables is set to a non-empty value: then core/coherence.py
  has nothing to do for this process (no write report, no permit, no replay refusal, no hook reads).
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing nothing is the point
if TYPE_CHECKING:
    from collections.abc import Mapping

ENV_VAR = "KATES_WRITE_SOCKET"
FENCE_ENV = "KATES_FENCED_WRITES"
REPLAY_ENV = "KATES_REPLAY"  # set by `kates replay` for its hook (without --allow-writes): writes are refused
HOOK_VARS = (ENV_VAR, FENCE_ENV, REPLAY_ENV)


def in_hook(environ: Mapping[str, str]) -> bool:
    """Whether any hook variable is set (non-empty) in `environ`."""
    return any(environ.get(var) for var in HOOK_VARS)
