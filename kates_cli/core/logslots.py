"""Fair turns for log streams over a concurrency limit (`kates logs --max-log-requests`).

Invariants:
- At most `limit` streams hold a slot at once; the others wait in a queue, served first come, first served.
- With `turn` set (followed streams, which need never end), a holder whose turn has lasted `turn` seconds while
  others wait is *due*: `due()` names it, and it gives way with `requeue()`, which puts it at the back of the queue
  and hands its slot to the first waiter in one step, so every stream gets its turn and the number waiting does
  not flicker. A stream that gives way keeps its place in its log (see core/logs.py): it resumes where it stopped.
- Without `turn`, a holder keeps its slot until `release()`: streams that end by themselves just queue.
- A waiter gives up when its own stop event is set (`wake()` makes waiters look at once); it is then no longer
  queued, and holds nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Hashable


class Slots:
    def __init__(self, limit: int, turn: float | None = None, clock: Callable[[], float] = time.monotonic):
        self.limit = max(1, limit)
        self.turn = turn
        self._clock = clock
        self._cond = threading.Condition()
        self._queue: deque[Hashable] = deque()
        self._holders: dict[Hashable, float] = {}  # holder -> when its current turn began

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._queue)

    def holds(self, who: Hashable) -> bool:
        with self._cond:
            return who in self._holders

    def acquire(self, who: Hashable, stop: threading.Event) -> bool:
        """Wait for a slot (at the back of the queue); False if `stop` is set first."""
        with self._cond:
            if who in self._holders:
                return True
            if who not in self._queue:
                self._queue.append(who)
            self._grant()
            while who not in self._holders:
                if stop.is_set():
                    self._queue.remove(who)
                    return False
                self._cond.wait(1.0)  # wake() and every grant notify; the timeout is only a safety net
            return True

    def release(self, who: Hashable) -> None:
        """`who` is done for good (its stream ended): free its slot, or leave the queue."""
        with self._cond:
            self._holders.pop(who, None)
            if who in self._queue:
                self._queue.remove(who)
            self._grant()

    def requeue(self, who: Hashable) -> None:
        """`who`'s turn is over: to the back of the queue, its slot to the first waiter (maybe itself)."""
        with self._cond:
            if self._holders.pop(who, None) is not None:
                self._queue.append(who)
            self._grant()

    def due(self) -> list[Hashable]:
        """The holders whose turn is over (oldest turn first): at most one per waiter, none if no one waits."""
        if self.turn is None:
            return []
        with self._cond:
            if not self._queue:
                return []
            now = self._clock()
            over = sorted((began, i) for i, began in enumerate(self._holders.values()) if now - began >= self.turn)
            holders = list(self._holders)
            return [holders[i] for _, i in over[: len(self._queue)]]

    def wake(self) -> None:
        """Make every waiter look at its stop event now."""
        with self._cond:
            self._cond.notify_all()

    def _grant(self) -> None:
        granted = False
        while self._queue and len(self._holders) < self.limit:
            self._holders[self._queue.popleft()] = self._clock()
            granted = True
        if granted:
            self._cond.notify_all()
