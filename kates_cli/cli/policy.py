"""What a hook run's result means for the watch: success resets, failure is counted and retried after a backoff,
too many failures in a row end kates.

Invariants:
- A run fails when it exits non-zero, when it hit `--hook-timeout` (whatever its exit status) and when it could not
  be executed; `why` names which, in one short phrase.
- `failures` counts failed runs in a row; a success resets it and the backoff.
- With `max_failures` > 0, the failure that reaches it raises HookFailed (exit 9) instead of returning a delay.
- Pure: no clock, no I/O; the caller sleeps the delay it is given.
"""

from __future__ import annotations

from ..core.watch import Backoff
from ..errors import ExitCode, KatesError
from .hook import RunResult


class HookFailed(KatesError):
    exit_code = ExitCode.HOOK_FAILED


def why(result: RunResult, timeout: float | None) -> str:
    """Why a run failed, e.g. `exit 3`, `timed out after 5s, exit 143`, or the reason it could not run."""
    if result.error:
        return result.error
    if result.timed_out:
        return f"timed out after {timeout or 0:g}s, exit {result.code}"
    return f"exit {result.code}"


class FailurePolicy:
    def __init__(self, max_failures: int, backoff_cap: float) -> None:
        self.max_failures = max_failures
        self.backoff = Backoff(first=min(1.0, backoff_cap), cap=backoff_cap)  # the first wait is 1 s, or the cap
        self.failures = 0

    def succeeded(self) -> None:
        self.failures = 0
        self.backoff.reset()

    def failed(self, reason: str) -> float:
        """Count one failure; the delay before the retry, or HookFailed when it was one too many."""
        self.failures += 1
        if self.max_failures and self.failures >= self.max_failures:
            raise HookFailed(f"hook failed {self.failures} times in a row (last: {reason})")
        return self.backoff.take()
