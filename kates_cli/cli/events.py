"""What `kates watch` tells the world about itself: one `emit` per thing that happened, fanned out to sinks (the
stderr log, and whatever else is attached: metrics, a JSON log).

Invariants:
- Every line kates writes about its own work (bootstrap, runs, failures, stream trouble, leadership) is an event;
  the hook's own output never is (it passes through untouched).
- An event has a stable dotted `name` (the contract for sinks), a human `message` or None (None: for sinks that
  count, not for the log), and plain JSON-able `fields`.
- Sinks run in the emitting thread, one event at a time (a lock), so log lines are whole whatever thread emits.
- `TextLog` writes exactly `kates: MESSAGE` for each event with a message: the text log kates has always had.

Leadership (--leader-elect), fields `lease` (NS/NAME) and `identity` on each: `leader.waiting` (standing, not
leading), `leader.gained`, `leader.lost` (`reason`: "renew deadline" | "taken" | "stopped"), `leader.released`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any


@dataclass(frozen=True)
class Event:
    name: str  # e.g. "run.ended"; see the names emitted in cli/watch.py
    message: str | None  # the log line's text, without the "kates: " prefix; None for count-only events
    fields: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0  # wall clock, seconds since the epoch


Sink = Callable[[Event], None]


class Events:
    """The fan-out: `emit` builds one Event and hands it to every sink in order."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks: list[Sink] = list(sinks)
        self._lock = threading.Lock()

    def add(self, sink: Sink) -> None:
        self.sinks.append(sink)

    def emit(self, name: str, message: str | None = None, **fields: Any) -> None:
        event = Event(name, message, fields, time.time())
        with self._lock:
            for sink in self.sinks:
                sink(event)

    def notice(self, text: str) -> None:
        """A core stream's notice (a stall, a kind gone, a retried error): one log line, already worded."""
        self.emit("stream.notice", text.removeprefix("kates: "))


class TextLog:
    """The plain stderr log: `kates: MESSAGE` per event that has a message."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __call__(self, event: Event) -> None:
        if event.message is None:
            return
        self.stream.write(f"kates: {event.message}\n")
        self.stream.flush()
