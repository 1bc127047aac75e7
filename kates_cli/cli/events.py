"""What `kates watch` tells the world about itself: one `emit` per thing that happened, fanned out to sinks (the
stderr log, and whatever else is attached: metrics, a JSON log).

Invariants:
- Every line kates writes about its own work (bootstrap, runs, failures, stream trouble, leadership) is an event;
  the hook's own output never is (it passes through untouched).
- An event has a stable dotted `name` (the contract for sinks), a human `message` or None (None: for sinks that
  count, not for the log), and plain JSON-able `fields`.
- Sinks run in the emitting thread, one event at a time (a lock), so log lines are whole whatever thread emits.
- `TextLog` writes exactly `kates: MESSAGE` for each event with a message: the text log kates has always had.
- `JsonLog` (`--log-format json`) writes every event, count-only ones included, as one JSON object per line:
  `{"time": RFC3339 UTC, "level": "info"|"warning"|"error", "event": NAME, "msg": TEXT, **fields}` (the first four
  keys always win over a field of the same name); events without a message get one made from their fields.
- `StreamFacts` is the core streams' observer (core/watch.py StreamObserver): each list and restart becomes an
  event (`stream.listed`, `stream.restarted` with its reason); watch events, too many for the fan-out, go straight
  to a counter when one is given.

- `Events.add(sink, first=True)` puts a sink before the others: the metrics sink goes first, so that a log line is
  only ever written after the metrics count its event.

Names emitted: bootstrap.done, bootstrap.slow, run.started, run.ended, run.backoff, stream.notice, stream.listed,
stream.restarted, metrics.listening, server.warning (JSON log only: the API server's `Warning` headers), and (with
--leader-elect) leader.waiting (standing, not leading), leader.gained, leader.lost (`reason`: "renew deadline" |
"taken" | "stopped"), leader.released; each leader event has the fields `lease` (NS/NAME) and `identity`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import field
from datetime import UTC, datetime

import orjson

from ..core.records import record

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import IO, Any


@record(frozen=True)
class Event:
    """One thing that happened in a watch: a log line, a count, or both, with its fields and time."""

    name: str  # e.g. "run.ended"; see the names emitted in cli/watcher.py
    message: str | None  # the log line's text, without the "kates: " prefix; None for count-only events
    fields: dict[str, Any] = field(default_factory=dict)
    time: float = 0.0  # wall clock, seconds since the epoch


Sink = Callable[[Event], None]


class Events:
    """The fan-out: `emit` builds one Event and hands it to every sink in order."""

    def __init__(self, *sinks: Sink) -> None:
        self.sinks: list[Sink] = list(sinks)
        self._lock = threading.Lock()

    def add(self, sink: Sink, *, first: bool = False) -> None:
        if first:
            self.sinks.insert(0, sink)
        else:
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


WARNINGS = {"run.backoff", "stream.notice", "bootstrap.slow", "leader.lost", "server.warning"}


def level_of(event: Event) -> str:
    if event.name in WARNINGS:
        return "warning"
    if event.name == "run.ended" and event.fields.get("result") != "success":
        return "warning"
    if event.name == "stream.restarted" and event.fields.get("reason") != "closed":
        return "warning"
    return "info"


def describe(event: Event) -> str:
    """A message for an event that has none (the text log shows none: its sinks only count it)."""
    f = event.fields
    if event.name == "bootstrap.done":
        counts = ", ".join(f"{q} {n}" for q, n in (f.get("objects") or {}).items())
        return f"bootstrapped in {f.get('seconds', 0):.2f}s: {counts}"
    if event.name == "run.started":
        return f"run {f.get('run')} started: {f.get('deltas')} deltas, {f.get('snapshot_bytes')} bytes"
    if event.name == "run.ended":
        why = f": {f['error']}" if f.get("error") else ""
        return f"run {f.get('run')} ended: {f.get('result')}, exit {f.get('code')}, {f.get('seconds', 0):.2f}s{why}"
    if event.name == "stream.restarted":
        return f"watch of query {f.get('query')} restarted ({f.get('reason')})"
    if event.name == "stream.listed":
        return f"query {f.get('query')}: listing"
    if event.name == "metrics.listening":
        return f"serving /metrics, /healthz and /readyz on {f.get('address')}"
    return event.name


def rfc3339(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def json_line(t: float, level: str, name: str, msg: str, fields: dict[str, Any]) -> str:
    """One log line: a JSON object and a newline. Fields that JSON cannot hold are written as strings."""
    record = {"time": rfc3339(t), "level": level, "event": name, "msg": msg}
    record.update((k, v) for k, v in fields.items() if k not in record)
    return orjson.dumps(record, default=str).decode() + "\n"


class JsonLog:
    """The JSON stderr log (`--log-format json`): every event, one object per line."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def __call__(self, event: Event) -> None:
        msg = event.message if event.message is not None else describe(event)
        self.stream.write(json_line(event.time, level_of(event), event.name, msg, event.fields))
        self.stream.flush()


class StreamFacts:
    """A core StreamObserver: lists and restarts become events; watch events go to `count` (if given)."""

    def __init__(self, events: Events, count: Callable[[str, str], None] | None = None) -> None:
        self.events = events
        self.count = count

    def listed(self, query: str) -> None:
        self.events.emit("stream.listed", None, query=query)

    def event(self, query: str, event_type: str) -> None:
        if self.count is not None:
            self.count(query, event_type)

    def restarted(self, query: str, reason: str) -> None:
        self.events.emit("stream.restarted", None, query=query, reason=reason)


class ServerWarnings:
    """A core.server_warnings handler for the JSON log: each distinct warning text once, as a `server.warning`
    event (the text log keeps kubectl's `Warning: TEXT` lines)."""

    def __init__(self, events: Events) -> None:
        self.events = events
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, code: int, agent: str, text: str) -> None:
        with self._lock:
            if text in self._seen:
                return
            self._seen.add(text)
        self.events.emit("server.warning", f"Warning: {text}", code=code, agent=agent)
