"""Pod logs: one stream per container (`pod_log_stream`) and a multiplexer that merges many of them (`LogMux`).

Invariants:
- Lines are always requested with timestamps=true, so every line the container wrote carries the kubelet's
  RFC 3339 timestamp (nine fractional digits, UTC, so timestamps compare as strings). It orders the merged output
  and lets a stream resume with sinceTime: of a reconnect's answer, lines before the newest delivered timestamp are
  dropped, and of the lines at that timestamp (several may share one) as many as were already delivered are
  skipped; once past them, every line is delivered. No line is lost or repeated across a reconnect, and within a
  connection every line is delivered, one stamped earlier than the line before it too (a node clock stepped back).
- A line without a timestamp is not the container's: it is server text (kwok and the kubelet write an error such as
  "context cancelled" into a stream they end, after the 200 status is sent). It is never delivered as a line; it
  makes the stream count as dropped, with that text as the reason.
- A followed stream is retried for as long as its pod exists, with capped backoff (0.5 s doubling to 5 s): after a
  drop, a server or kubelet outage (5xx, 429, unreachable), a stall, or server text. It ends only when it is ended
  (`StreamControl.end`: kates stops, or the pod is gone), when the log endpoint answers 404 (the pod is gone), when
  it is refused (401, 403), when another 4xx meets a container that no longer runs, or when the stream ends cleanly
  and the container no longer runs (a kubelet ends a follow when the container exits).
- Stalls. A followed stream may be quiet for hours, and neither kube-apiserver nor the kubelet sends anything on an
  idle log stream, so silence alone cannot tell a quiet container from a dead connection. Each read therefore has a
  timeout of half the stall bound (`stall_timeout`, default 30 s): when it expires the stream is reconnected at
  once, from its last timestamp, and if the new request is answered this is invisible (no line lost or repeated,
  nothing said). If the new request gets no answer within the other half either, the stream has stalled: that is
  said (`LogObserver.trouble`, naming pod and container) within `stall_timeout` of the last byte, and it keeps
  retrying. The cost is one request per idle stream every `stall_timeout / 2`, answered by the kubelet with the
  lines of the last delivered second (dropped as duplicates).
- What else is said: the first failed reconnect of an outage (once, with the server's reason) and the end of the
  outage ("resumed"). A drop that the next request repairs says nothing.
- A line's bytes that are not UTF-8 are kept (decoded with surrogateescape): printers that write bytes (`-o raw`,
  the default) give them back unchanged, as kubectl does; JSON shows them as U+FFFD.
- `previous` asks for the previous (terminated) instance's log, as kubectl's --previous (the CLI never follows it).
  `limit_bytes` is counted here, per container and across its reconnects, on the lines as printed without kates's
  timestamps (each with its newline), since the server's limitBytes would count the timestamps kates asks for: the
  line that crosses the limit is cut there (a `partial` event, its bytes up to the limit) and the stream ends.
- Every stream ends with exactly one event whose `closed` is True (with `error` set when it failed). A stream calls
  `LogObserver.started` once, when its first request is answered, before its first line.
- The multiplexer never runs more than `max_requests` streams at once (core/logslots.py). Without follow the others
  queue (streams end by themselves). With follow, streams take turns of `turn` seconds while some wait: a stream
  whose turn is over disconnects, goes to the back of the queue and resumes from its last timestamp when its turn
  comes again. `LogObserver.waiting` is told how many wait whenever that settles at a new number.
- Without follow, the merged output is in timestamp order across streams, and each stream's lines keep their order
  (a line stamped earlier than the one before it stays after it, as kubectl prints it). A stream hands its lines
  over a read at a time (`log_batches`). When every stream runs at once (no more streams than `max_requests`), the
  merge streams: a line is released once every unfinished stream has a line waiting, and a stream hands over at
  most `CREDIT` reads ahead of the merge (then its reads wait), so memory stays bounded whatever the logs' size and
  the first lines come out at once. With more streams than that, the ones waiting for a turn start only when
  others end, so the lines are held until every stream has ended, then merged. With follow, lines are held for
  `window` seconds and released in timestamp order, so streams interleave nearly in order (a stream that waited
  for its turn delivers its lines late).
"""

from __future__ import annotations

import heapq
import queue
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import field
from datetime import datetime, timedelta

from ..errors import ApiError, Forbidden, KatesError, NotFound, Unreachable
from .logslots import Slots
from .records import record

TYPE_CHECKING = False  # not typing's: annotations only
if TYPE_CHECKING:
    from typing import Any

    from .client import Client

DEFAULT_WINDOW = 0.25  # seconds of reordering with --follow
DEFAULT_STALL_TIMEOUT = 30.0  # a silent stall is said within this long
DEFAULT_TURN = 5.0  # seconds a followed stream streams before giving way to one that waits
BACKOFF_FIRST, BACKOFF_CAP = 0.5, 5.0
CREDIT = 4  # without follow: reads (of up to 120 KiB) a stream hands over ahead of the merge


@record(frozen=True)
class LogEvent:
    namespace: str
    pod: str
    container: str
    timestamp: str  # RFC 3339 with nanoseconds, as the kubelet writes it ("" on a closing event)
    output: str  # the line, without timestamp or newline
    closed: bool = False
    error: KatesError | None = None
    partial: bool = False  # the line was cut by --limit-bytes: printed without its newline, as kubectl does


@record(frozen=True)
class LogSource:
    namespace: str
    pod: str
    container: str

    def __str__(self) -> str:
        return f"{self.pod}/{self.container}"


@record
class LogOptions:
    follow: bool = False
    since_seconds: int | None = None
    since_time: str | None = None
    tail_lines: int | None = None
    previous: bool = False  # the previous (terminated) instance's log, as kubectl's --previous; never followed
    limit_bytes: int | None = None  # at most this many bytes of each container's log (lines as printed, with "\n")


class LogObserver:
    """What a multiplexer tells about its streams besides their lines; the methods are called from stream threads.
    This one ignores everything: subclass it to show what matters."""

    def started(self, src: LogSource) -> None:
        """`src`'s first request was answered: it really streams now (once per stream)."""

    def trouble(self, src: LogSource, text: str) -> None:
        """Something about `src`'s stream worth a line on stderr: an outage, a stall, the end of one."""

    def waiting(self, count: int, limit: int) -> None:
        """`count` streams wait for a turn because of the limit of `limit` at once (0: none any more)."""

    def idle(self) -> None:
        """Without follow: the merge has released every line it can and waits for more (called from the thread
        that reads `LogMux.events`): the moment to flush what was written."""


def split_timestamp(line: str) -> tuple[str, str]:
    ts, sep, rest = line.partition(" ")
    if sep and len(ts) >= 20 and ts[4:5] == "-" and ts[10:11] == "T":
        return ts, rest
    return "", line


@record
class Cursor:
    """Where a stream is in its log: the newest delivered timestamp, and how many delivered lines a reconnect from
    it will be sent again. The server answers `sinceTime` from the start of its second (it rounds it down), in the
    log's order, with every line stamped at or after that second: the delivered lines among those are the replay's
    first lines, however their stamps are ordered. A line newer than every delivered one ends the replay early (a
    log rotated meanwhile replays less)."""

    origin: dict[str, str | int | None] = field(default_factory=dict)  # the first request's since/tail options
    last_ts: str = ""  # the newest timestamp delivered
    in_second: int = 0  # delivered lines stamped at or after the second of last_ts: what a reconnect replays
    skip: int = 0  # lines the current connection replays and must drop

    def params(self) -> dict[str, str | int | None]:
        """The since/tail options of the next request; starts a new connection's count of replayed lines."""
        if not self.last_ts:
            return dict(self.origin)
        self.skip = self.in_second
        return {"sinceTime": self.last_ts}  # the server rounds it down to the second: the replay is dropped here

    def answered(self, date: str | None) -> None:
        """The first request was answered (its Date header: the server's clock). Until a line is delivered, a
        reconnect must not apply relative options again: --since becomes a fixed time, --tail 0 "from now"."""
        when = _parse_date(date)
        if when is None:
            return
        if self.origin.get("sinceSeconds") is not None:
            since = when - timedelta(seconds=int(self.origin.pop("sinceSeconds") or 0))
            self.origin["sinceTime"] = since.strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.origin.get("tailLines") == 0:
            self.origin = {"sinceTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def admit(self, ts: str) -> bool:
        """True if the line stamped `ts` is new (and count it as delivered); False for a replayed one. Only a
        reconnect's replay is dropped: a line older than the one before it within one connection (a node clock
        stepped back, stdout and stderr stamped a moment apart) is the container's, and delivered."""
        second = self.last_ts[:19]  # "YYYY-MM-DDTHH:MM:SS": a stamp in that second or later compares >= it
        if self.skip > 0:
            if ts < second:  # not part of the replay (the server sends none): delivered long ago
                return False
            if ts <= self.last_ts:  # a delivered line sent again
                self.skip -= 1
                return False
            self.skip = 0  # newer than every delivered line: the replay is over (or was cut short: a rotated log)
        if ts > self.last_ts:
            self.in_second = self.in_second + 1 if ts[:19] == second else 1
            self.last_ts = ts
        elif ts >= second:
            self.in_second += 1
        return True


def _parse_date(text: str | None) -> datetime | None:
    if not text:
        return None
    from email.utils import parsedate_to_datetime  # here: email.utils costs 5 ms of every start (`kates --help`)

    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None


class StreamControl:
    """Lets other threads steer one stream: end it at once, or make it give way to a stream waiting for a turn."""

    def __init__(self, parent: threading.Event | None = None, slots: Slots | None = None) -> None:
        self.stop = threading.Event()
        self.parent = parent
        self.slots = slots
        self.response: Any = None
        self._wake = threading.Event()
        self._give_way = threading.Event()

    def stopped(self) -> bool:
        return self.stop.is_set() or (self.parent is not None and self.parent.is_set())

    def end(self) -> None:
        self.stop.set()
        self._interrupt()
        if self.slots is not None:
            self.slots.wake()

    def give_way(self) -> None:
        """The stream's turn is over: it disconnects and waits for its next turn."""
        self._give_way.set()
        self._interrupt()

    def giving_way(self) -> bool:
        return self._give_way.is_set()

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less if the stream is ended or asked to give way."""
        self._wake.wait(seconds)
        self._wake.clear()

    def take_turn(self) -> bool:
        """Hold a slot (waiting for one if need be); False if the stream was ended first."""
        return self.slots is None or self.slots.acquire(self, self.stop)

    def end_turn(self) -> None:
        self._give_way.clear()
        if self.slots is not None:
            self.slots.requeue(self)

    def release(self) -> None:
        if self.slots is not None:
            self.slots.release(self)

    def _interrupt(self) -> None:
        self._wake.set()
        resp = self.response
        if resp is not None:
            resp.abort()


class Backoff:
    def __init__(self, first: float = BACKOFF_FIRST, cap: float = BACKOFF_CAP):
        self.first, self.cap, self.next = first, cap, first

    def take(self) -> float:
        delay = self.next
        self.next = min(self.cap, self.next * 2)
        import random  # here: only a stream that failed takes a backoff

        return delay * random.uniform(0.9, 1.1)

    def reset(self) -> None:
        self.next = self.first


def _timed_out(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is a socket timeout."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, TimeoutError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _seconds(value: float) -> str:
    return f"{value:g}s"


def pod_log_stream(
    client: Client,
    src: LogSource,
    opts: LogOptions,
    control: StreamControl | None = None,
    *,
    stall_timeout: float = DEFAULT_STALL_TIMEOUT,
    observer: LogObserver | None = None,
) -> Iterator[LogEvent]:
    """Yield one container's log lines; with follow, keep following (see the module's invariants). Ends with a
    closed event."""
    for batch in log_batches(client, src, opts, control, stall_timeout=stall_timeout, observer=observer):
        yield from batch


def log_batches(
    client: Client,
    src: LogSource,
    opts: LogOptions,
    control: StreamControl | None = None,
    *,
    stall_timeout: float = DEFAULT_STALL_TIMEOUT,
    observer: LogObserver | None = None,
) -> Generator[list[LogEvent], None, None]:
    """`pod_log_stream`'s events, a list per read of the connection (never an empty one): what one read brought is
    handed over at once, so a consumer in another thread takes a burst in one hand-off, not a line at a time."""
    control = control or StreamControl()
    observer = observer or LogObserver()
    origin: dict[str, str | int | None] = {
        "sinceSeconds": opts.since_seconds,
        "sinceTime": opts.since_time,
        "tailLines": opts.tail_lines,
    }
    cursor = Cursor({k: v for k, v in origin.items() if v is not None})
    backoff = Backoff()
    started = False
    said = False  # an outage of this stream has been said, and its end not yet
    quiet = False  # the last connection ended by the read timeout: an idle stream, or a stall
    path = f"/api/v1/namespaces/{src.namespace}/pods/{src.pod}/log"
    budget = opts.limit_bytes  # bytes of this container's log still to print (None: no limit)

    def closing(error: KatesError | None = None) -> LogEvent:
        return LogEvent(src.namespace, src.pod, src.container, "", "", closed=True, error=error)

    try:
        while True:
            if control.stopped():
                yield [closing()]
                return
            if control.giving_way():
                control.end_turn()
            if not control.take_turn():
                yield [closing()]
                return
            params: dict[str, str | int | bool | None] = {"container": src.container, "timestamps": True}
            if opts.follow:
                params["follow"] = True
            if opts.previous:
                params["previous"] = True
            params.update(cursor.params())
            try:
                resp = client.transport.open(
                    "GET", path, params=params, accept="*/*", timeout=stall_timeout / 2 if opts.follow else 60
                )
            except KatesError as exc:
                if control.stopped():
                    yield [closing()]
                    return
                if not opts.follow or isinstance(exc, Forbidden):
                    yield [closing(exc)]
                    return
                if isinstance(exc, NotFound):  # the pod is gone: its stream ends as the pod did
                    yield [closing()]
                    return
                if isinstance(exc, ApiError) and 400 <= exc.code < 500 and exc.code not in (408, 429):
                    if not _still_running(client, src):
                        yield [closing(exc)]
                        return
                if not said:
                    said = True
                    if quiet and _timed_out(exc):
                        bound = _seconds(stall_timeout)
                        observer.trouble(
                            src, f"no answer from the server for {bound}: log stream stalled; reconnecting"
                        )
                    elif started:
                        observer.trouble(src, f"log stream interrupted ({exc.message}); reconnecting")
                    else:
                        observer.trouble(src, f"cannot read the log yet ({exc.message}); retrying")
                control.sleep(backoff.take())
                continue
            control.response = resp
            if not started:
                started = True
                cursor.answered(resp.headers.get("Date"))
                observer.started(src)
            if said:
                said = False
                observer.trouble(src, "log stream resumed")
            dropped: KatesError | None = None
            server_text: list[str] = []
            delivered = False
            try:
                if not control.stopped() and not control.giving_way():
                    ns, pod, container = src.namespace, src.pod, src.container
                    # a CRLF line's CR is the log's, as kubectl prints it
                    for raws in resp.line_batches(keep_cr=True):
                        batch: list[LogEvent] = []
                        for raw in raws:
                            line = raw.decode("utf-8", errors="surrogateescape")  # bytes kept: -o raw passes them
                            ts, sep, text = line.partition(" ")  # split_timestamp's test, inline (per line)
                            if not (sep and len(ts) >= 20 and ts[4:5] == "-" and ts[10:11] == "T"):
                                if len(server_text) < 5:
                                    server_text.append(line.strip()[:500])
                                continue
                            if not cursor.admit(ts):
                                continue
                            delivered = True
                            if budget is not None:  # --limit-bytes: counted here, the timestamps being kates's own
                                data = text.encode("utf-8", errors="surrogateescape")
                                size = len(data) + 1
                                if size > budget:
                                    cut = data[:budget].decode("utf-8", errors="surrogateescape")
                                    if cut:
                                        batch.append(LogEvent(ns, pod, container, ts, cut, partial=True))
                                    yield [*batch, closing()]
                                    return
                                budget -= size
                            batch.append(LogEvent(ns, pod, container, ts, text, False, None, False))  # (all: fast)
                        if batch:
                            yield batch
            except Unreachable as exc:
                dropped = exc
            finally:
                control.response = None
                resp.close()
            if control.stopped():
                yield [closing()]
                return
            if control.giving_way():
                continue
            text = "; ".join(t for t in server_text if t)
            if not opts.follow:
                if dropped is None and text:
                    dropped = KatesError(f"the server ended the log stream: {text}")
                yield [closing(dropped)]
                return
            quiet = dropped is not None and _timed_out(dropped)
            if quiet or delivered:
                backoff.reset()
            if quiet:
                continue  # silent for stall_timeout / 2: reconnect at once (an idle stream, or a stall)
            if dropped is None and not text and not _still_running(client, src):
                yield [closing()]  # a clean end: the container has stopped
                return
            control.sleep(backoff.take())  # dropped, or ended while the container runs: resume from last_ts
    finally:
        control.release()


def _still_running(client: Client, src: LogSource) -> bool:
    """Whether the container still runs, as far as can be told: True when the API server cannot answer."""
    try:
        pod = client.get("pods", src.pod, src.namespace)
    except NotFound:
        return False
    except KatesError:
        return True
    # a terminating pod's containers still run (its shutdown, in the grace period): their state says so
    status = pod.get("status") or {}
    for key in ("containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"):
        for found in status.get(key) or []:
            if found.get("name") == src.container:
                return "running" in (found.get("state") or {})
    return False


class LogMux:
    """Runs many pod log streams (at most `max_requests` at once) and merges their events into one iterator."""

    def __init__(
        self,
        client: Client,
        opts: LogOptions,
        *,
        max_requests: int = 50,
        window: float = DEFAULT_WINDOW,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
        turn: float = DEFAULT_TURN,
        observer: LogObserver | None = None,
    ):
        self.client = client
        self.opts = opts
        self.window = window
        self.stall_timeout = stall_timeout
        self.observer = observer or LogObserver()
        self.slots = Slots(max_requests, turn if opts.follow else None)
        self._queue: queue.Queue[list[LogEvent] | None] = queue.Queue()  # a stream's batches (log_batches)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._active = 0
        self._started: set[LogSource] = set()
        self._controls: dict[LogSource, StreamControl] = {}
        self._no_more = threading.Event()
        self._turns: threading.Thread | None = None
        self._order: dict[LogSource, int] = {}  # the order sources were added in: it breaks timestamp ties
        self._credits: dict[LogSource, threading.Semaphore] = {}  # without follow: reads each may hand over ahead

    def add(self, src: LogSource) -> bool:
        """Start following one container (once); False if it was already added."""
        with self._lock:
            if src in self._started:
                return False
            self._started.add(src)
            self._active += 1
            control = self._controls[src] = StreamControl(self._stop, self.slots)
            self._order.setdefault(src, len(self._order))
            credit = None if self.opts.follow else self._credits.setdefault(src, threading.Semaphore(CREDIT))
            if self.opts.follow and self._turns is None:
                self._turns = threading.Thread(target=self._take_turns, daemon=True, name="kates-log-turns")
                self._turns.start()
        threading.Thread(target=self._run, args=(src, control, credit), daemon=True, name=f"kates-log-{src}").start()
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

    def _run(self, src: LogSource, control: StreamControl, credit: threading.Semaphore | None) -> None:
        try:
            stream = log_batches(
                self.client, src, self.opts, control, stall_timeout=self.stall_timeout, observer=self.observer
            )
            for batch in stream:
                if credit is not None and not batch[0].closed:  # lines: without follow, they take a credit
                    while not credit.acquire(timeout=0.5):  # the merge is behind: read no further for now
                        if control.stopped():
                            stream.close()  # kates stops: nobody reads on
                            return
                self._queue.put(batch)
        except Exception as exc:  # a bug must not hang the merge: close the stream with the error
            error = KatesError(f"log stream failed: {type(exc).__name__}: {exc}")
            self._queue.put([LogEvent(src.namespace, src.pod, src.container, "", "", closed=True, error=error)])
        finally:
            control.release()
            with self._lock:
                self._active -= 1
                if self._controls.get(src) is control:
                    del self._controls[src]
            self._queue.put(None)  # wake the consumer to re-check the end condition

    def _take_turns(self) -> None:
        """With follow: ask streams whose turn is over to give way, and say how many wait once that settles."""
        said, seen = 0, 0
        while not self._stop.wait(0.25):
            for control in self.slots.due():
                assert isinstance(control, StreamControl)
                control.give_way()
            waiting = self.slots.waiting
            if waiting == seen and waiting != said:
                said = waiting
                self.observer.waiting(waiting, self.slots.limit)
            seen = waiting

    def _done(self) -> bool:
        with self._lock:
            return self._no_more.is_set() and self._active == 0

    def events(self) -> Iterator[LogEvent]:
        """All events: merged in timestamp order without follow; held `window` seconds and ordered with follow."""
        if not self.opts.follow:
            with self._lock:
                streaming = self._no_more.is_set() and len(self._order) <= self.slots.limit
            yield from self._merged() if streaming else self._collected()
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
                batch = self._queue.get(timeout=self.window / 2 if heap else 0.5)
            except queue.Empty:
                continue
            if batch is None:
                continue
            now = time.monotonic()
            for item in batch:
                if item.closed:
                    while heap:  # a closing marker comes after that stream's lines
                        yield heapq.heappop(heap)[3]
                    yield item
                    continue
                heapq.heappush(heap, (item.timestamp, now, n, item))
                n += 1

    def _collected(self) -> Iterator[LogEvent]:
        """Without follow, more streams than run at once: every line held until all have ended, then merged."""
        lines: dict[LogSource, list[LogEvent]] = {}
        closing: list[LogEvent] = []
        # every stream puts its events before it counts itself done: once done, drain what is queued
        while not (self._done() and self._queue.empty()) and not self._stop.is_set():
            batch = self._queue.get()
            if batch is None:
                continue
            first = batch[0]
            src = LogSource(first.namespace, first.pod, first.container)
            if batch[-1].closed:
                closing.append(batch.pop())
            if batch:
                lines.setdefault(src, []).extend(batch)
                self._credits[src].release()
        ranked = [[(e.timestamp, self._order[src], e) for e in events] for src, events in lines.items()]
        yield from (e for _, _, e in heapq.merge(*ranked, key=lambda t: (t[0], t[1])))
        yield from closing

    def _merged(self) -> Iterator[LogEvent]:
        """Without follow, every stream running at once: the k-way merge of their lines, released as they come.
        A stream's waiting lines are the batches it handed over (a credit each, given back once the batch is out)
        and the position reached in the first of them."""
        batches: dict[LogSource, deque[list[LogEvent]]] = {src: deque() for src in self._order}
        at: dict[LogSource, int] = dict.fromkeys(batches, 0)
        unfinished = set(batches)
        starving = len(unfinished)  # unfinished streams with no line waiting: until none, nothing can be released
        heads: list[tuple[str, int, LogSource]] = []  # (timestamp, rank, source) of each stream's first waiting line
        closing: list[LogEvent] = []
        while not self._stop.is_set():
            while heads and not starving:
                if len(heads) == 1:  # every other stream has ended and been merged: this one's lines as they are
                    src = heads.pop()[2]
                    waiting, credit = batches[src], self._credits[src]
                    yield from waiting[0][at[src] :]
                    waiting.popleft()
                    credit.release()
                    while waiting:
                        yield from waiting.popleft()
                        credit.release()
                    at[src] = 0
                    starving += src in unfinished
                    break
                _, _, src = heapq.heappop(heads)
                waiting, i = batches[src], at[src]
                first = waiting[0]
                line = first[i]
                i += 1
                if i == len(first):
                    waiting.popleft()
                    self._credits[src].release()
                    i = 0
                at[src] = i
                if waiting:
                    heapq.heappush(heads, (waiting[0][i].timestamp, self._order[src], src))
                elif src in unfinished:
                    starving += 1
                yield line
            if not unfinished:
                break
            if self._queue.empty():
                self.observer.idle()
            batch = self._queue.get()
            if batch is None:
                continue
            first_event = batch[0]
            src = LogSource(first_event.namespace, first_event.pod, first_event.container)
            was_starving = src in unfinished and not batches[src]
            if batch[-1].closed:  # after every line of its stream
                closing.append(batch.pop())
                unfinished.discard(src)
            if batch:
                if not batches[src]:
                    heapq.heappush(heads, (batch[0].timestamp, self._order[src], src))
                batches[src].append(batch)
            starving += (src in unfinished and not batches[src]) - was_starving
        yield from closing
