"""When a watch runs its hook: the debounce and its bound. Pure: times in, times out.

Invariants:
- With a debounce, a run waits until `quiet` seconds pass without a change, but never longer than `max_wait`
  after the first change it is waiting for: steady changes closer together than the debounce still run the hook
  at least once every `max_wait` (plus the time a run takes).
- Without a debounce (quiet == 0) a run is due at once.
"""

from __future__ import annotations

from ..core.records import record

MAX_WAIT_FACTOR = 4  # --debounce-max defaults to this many debounces


@record(frozen=True)
class Debounce:
    """When a hook run is due after changes: `quiet` seconds after the last, at most `max_wait` after the first."""

    quiet: float = 0.0
    max_wait: float = 0.0

    @classmethod
    def of(cls, quiet: float, max_wait: float | None) -> Debounce:
        return cls(quiet, max_wait if max_wait is not None else MAX_WAIT_FACTOR * quiet)

    def due(self, first_change: float, last_change: float) -> float:
        """When the run is due, given when the first and the latest pending change were seen."""
        if self.quiet <= 0:
            return first_change
        return min(last_change + self.quiet, first_change + max(self.max_wait, self.quiet))
