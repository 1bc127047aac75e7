"""Pod logs: one stream per container (`pod_log_stream`) and a multiplexer that merges many of them.

Invariants:
- Lines are always requested with timestamps=true, so every line carries the kubelet's RFC 3339 timestamp; it orders
  the merged output and lets a dropped stream resume with sinceTime without repeating or losing a line (lines at the
  resume timestamp that were already delivered are skipped by count).
- Every stream ends with exactly one event whose `closed` is True (with `error` set when it failed).
- The multiplexer never runs more than `max_requests` streams at once; the others wait their turn, none is dropped.
- Without follow, the merged output is in timestamp order across all streams. With follow, lines are held for
  `window` seconds and released in timestamp order, so streams interleave nearly in order.
"""

from __future__ import annotations

import heapq
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import KatesError, NotFound, Unreachable

if TYPE_CHECKING:
    from .client import Client

DEFAULT_WINDOW = 0.25  # seconds of reordering with --follow


@dataclass(frozen=True)
class LogEvent:
    namespace: str
    pod: str
    container: str
    timestamp: str  # RFC 3339 with nanoseconds, as the kubelet writes it ("" on a closing event)
    output: str  # the line, without timestamp or newline
    closed: bool = False
    error: KatesError | None = None


@dataclass(frozen=True)
class LogSource:
    namespace: str
    pod: str
    container: str


@dataclass
class LogOptions:
    follow: bool = False
    since_seconds: int | None = None
    since_time: str | None = None
    tail_lines: int | None = None


def split_timestamp(line: str) -> tuple[str, str]:
    ts, sep, rest = line.partition(" ")
    if sep and len(ts) >= 20 and ts[4:5] == "-" and ts[10:11] == "T":
        return ts, rest
    return "", line


class StreamControl:
    """Lets another thread end one stream at once: set `stop` and abort the response being read."""

    def __init__(self, parent: threading.Event | None = None) -> None:
        self.stop = threading.Event()
        self.parent = parent
        self.response: Any = None

    def stopped(self) -> bool:
        return self.stop.is_set() or (self.parent is not None and self.parent.is_set())

    def end(self) -> None:
        self.stop.set()
        resp = self.response
        if resp is not None:
            resp.abort()


def pod_log_stream(
    client: Client, src: LogSource, opts: LogOptions, control: StreamControl | None = None, resume_attempts: int = 5
) -> Iterator[LogEvent]:
    """Yield one container's log lines; with follow, resume from the last timestamp if the stream drops while the
    pod still exists. Ends with a closed event."""
    control = control or StreamControl()
    last_ts = ""
    seen_at_last = 0  # lines already delivered whose timestamp equals last_ts
    attempts = 0
    first = True
    while True:
        params: dict[str, str | int | bool | None] = {"container": src.container, "timestamps": True}
        if opts.follow:
            params["follow"] = True
        if last_ts:
            params["sinceTime"] = last_ts
        elif first:
            params["sinceSeconds"] = opts.since_seconds
            params["sinceTime"] = opts.since_time
            params["tailLines"] = opts.tail_lines
        first = False
        skip = seen_at_last
        try:
            resp = client.transport.open(
                "GET",
                f"/api/v1/namespaces/{src.namespace}/pods/{src.pod}/log",
                params=params,
                accept="*/*",
                timeout=None if opts.follow else 60,
            )
        except KatesError as exc:
            # A container that has just started may not have logs to serve yet: with follow, try again a few times.
            if opts.follow and attempts < resume_attempts and not isinstance(exc, NotFound):
                if not control.stopped():
                    attempts += 1
                    first = not last_ts  # nothing read yet: ask again with the initial since/tail
                    time.sleep(min(2.0, 0.2 * 2**attempts))
                    continue
            yield LogEvent(src.namespace, src.pod, src.container, "", "", closed=True, error=exc)
            return
        control.response = resp
        try:
            for raw in resp.lines():
                if control.stopped():
                    break
                line = raw.decode("utf-8", errors="replace")
                ts, text = split_timestamp(line)
                if ts and last_ts:
                    if ts < last_ts:
                        continue
                    if ts == last_ts and skip > 0:
                        skip -= 1
                        continue
                if ts == last_ts:
                    seen_at_last += 1
                elif ts:
                    last_ts, seen_at_last = ts, 1
                attempts = 0
                yield LogEvent(src.namespace, src.pod, src.container, ts, text)
        except Unreachable as exc:
            if control.stopped():  # ended on purpose (pod gone, or kates stopping): not an error
                yield LogEvent(src.namespace, src.pod, src.container, "", "", closed=True)
                return
            if opts.follow and attempts < resume_attempts:
                attempts += 1
                time.sleep(min(2.0, 0.2 * 2**attempts))
                continue
            yield LogEvent(src.namespace, src.pod, src.container, "", "", closed=True, error=exc)
            return
        finally:
            control.response = None
            resp.close()
        if opts.follow and not control.stopped() and _still_running(client, src) and attempts < resume_attempts:
            attempts += 1  # the server ended a follow while the container still runs: resume from last_ts
            time.sleep(0.2 * attempts)
            continue
        yield LogEvent(src.namespace, src.pod, src.container, "", "", closed=True)
        return


def _still_running(client: Client, src: LogSource) -> bool:
    try:
        pod = client.get("pods", src.pod, src.namespace)
    except NotFound:
        return False
    except KatesError:
        return True
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == src.container:
            return "running" in (status.get("state") or {})
    return False


class LogMux:
    """Runs many pod log streams (at most `max_requests` at once) and merges their events into one iterator."""

    def __init__(self, client: Client, opts: LogOptions, *, max_requests: int = 50, window: float = DEFAULT_WINDOW):
        self.client = client
        self.opts = opts
        self.window = window
        self._slots = threading.BoundedSemaphore(max(1, max_requests))
        self._queue: queue.Queue[LogEvent | None] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._active = 0
        self._started: set[LogSource] = set()
        self._controls: dict[LogSource, StreamControl] = {}
        self._no_more = threading.Event()

    def add(self, src: LogSource) -> bool:
        """Start following one container (once); False if it was already added."""
        with self._lock:
            if src in self._started:
                return False
            self._started.add(src)
            self._active += 1
            control = self._controls[src] = StreamControl(self._stop)
        threading.Thread(
            target=self._run, args=(src, control), daemon=True, name=f"kates-log-{src.pod}/{src.container}"
        ).start()
        return True

    def forget(self, src: LogSource) -> None:
        """Allow `src` to be added again (a restarted container gets a new stream)."""
        with self._lock:
            self._started.discard(src)

    def finish_adding(self) -> None:
        """No more sources will be added: the iterator ends when the current streams have ended."""
        self._no_more.set()
        self._queue.put(None)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            controls = list(self._controls.values())
        for control in controls:
            control.end()
        self._queue.put(None)

    def end(self, src: LogSource) -> None:
        """End `src`'s stream now (its pod is gone); it still closes with its closed event."""
        with self._lock:
            control = self._controls.get(src)
        if control is not None:
            control.end()

    def _run(self, src: LogSource, control: StreamControl) -> None:
        try:
            with self._slots:
                for event in pod_log_stream(self.client, src, self.opts, control):
                    self._queue.put(event)
        except Exception as exc:  # a bug must not hang the merge: close the stream with the error
            error = KatesError(f"log stream failed: {type(exc).__name__}: {exc}")
            self._queue.put(LogEvent(src.namespace, src.pod, src.container, "", "", closed=True, error=error))
        finally:
            with self._lock:
                self._active -= 1
            self._queue.put(None)  # wake the consumer to re-check the end condition

    def _done(self) -> bool:
        with self._lock:
            return self._no_more.is_set() and self._active == 0

    def events(self) -> Iterator[LogEvent]:
        """All events: in timestamp order without follow; held `window` seconds and ordered with follow."""
        if not self.opts.follow:
            collected: list[tuple[str, int, LogEvent]] = []
            closing: list[LogEvent] = []
            n = 0
            # every stream puts its events before it counts itself done: once done, drain what is queued
            while not (self._done() and self._queue.empty()) and not self._stop.is_set():
                item = self._queue.get()
                if item is None:
                    continue
                if item.closed:
                    closing.append(item)
                else:
                    collected.append((item.timestamp, n, item))
                    n += 1
            collected.sort(key=lambda t: (t[0], t[1]))
            yield from (e for _, _, e in collected)
            yield from closing
            return
        heap: list[tuple[str, float, int, LogEvent]] = []
        n = 0
        while not self._stop.is_set():
            now = time.monotonic()
            while heap and (heap[0][1] <= now - self.window):
                yield heapq.heappop(heap)[3]
            if self._done() and self._queue.empty():
                while heap:
                    yield heapq.heappop(heap)[3]
                return
            try:
                item = self._queue.get(timeout=self.window / 2 if heap else 0.5)
            except queue.Empty:
                continue
            if item is None:
                continue
            if item.closed:
                while heap:  # a closing marker comes after that stream's lines
                    yield heapq.heappop(heap)[3]
                yield item
                continue
            heapq.heappush(heap, (item.timestamp, time.monotonic(), n, item))
            n += 1
