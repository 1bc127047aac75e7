"""One resilient list+watch stream per query (or dependency), feeding an Accumulator.

Invariants:
- A stream delivers to its sink under its state's `id` (a query's name, or a dependency's "dependency:..." id, as
  many dependencies share the query name "dependency"); the observer counts by the query name; messages name the
  state by its `title` ("query web", "dependency secrets app/db").
- Bootstrap uses a streaming list (sendInitialEvents=true, resourceVersionMatch=NotOlderThan, bookmarks, ended by
  the bookmark annotated k8s.io/initial-events-end) where the server allows it, else a chunked list; either way the
  query's state is replaced once, atomically, with the complete initial set.
- After bootstrap the stream resumes from the last resourceVersion it delivered (events and bookmarks) whenever the
  connection ends: normally (server timeout), by error, or by the stall deadline. It never exits on its own while
  the accumulator is open, except for the fatal errors below.
- A silent stall is noticed within `stall_timeout` (30 s by default): each watch asks the server for
  `timeoutSeconds` a little below it (`server_timeout_for`), so a healthy idle watch ends cleanly (with a bookmark
  just before) before the client's read deadline of `stall_timeout` since the last byte can fire. When it fires the
  stream says so once through `notice` (naming the query), reconnects and resumes from the last resourceVersion: a
  stall costs no relist. The initial streaming list is the exception on the server side (a long `timeoutSeconds`,
  so that a large initial set is never cut off); the client deadline still applies to it, and the stream closes it
  at the initial-events-end bookmark and goes on with ordinary watches.
- The events one read brought (`Response.line_batches`) are delivered together, in order, through the sink's
  `event_batch` where it has one (the Accumulator: one lock, at most one wake-up), else one by one; events that
  came before an ERROR or BOOKMARK line of the same read are delivered before it is handled, and those before a
  line that fails to decode before the failure.
- Under a storm of events (reads less than BATCH_WINDOW apart, each bringing little), a watch after the initial set
  reads at most once per BATCH_WINDOW (50 ms), so each read takes in every event that arrived meanwhile: an event
  is delivered at most 50 ms later than it could be, and the stream's CPU per event falls about threefold (bench
  B3). The first event after a quiet spell is not delayed, nor is the initial set, the rest of an event already
  begun, or a read after a large one; stopping the stream ends a wait at once. This holds for every stream:
  `kates watch`, `get -w`, `wait` and the library's `Client.watch`.
- 410 Gone (or an ERROR event with code 410) relists; the accumulator turns the difference into deltas.
- A kind that stops being served (404 on its collection: a deleted CRD) empties the query (its objects are reported
  deleted); with `wait_for_kind` the stream then waits for the kind to come back and bootstraps it again, else it
  fails with NotFound naming the query and the kind. A dependency's stream never waits for a kind, and a 404 before
  its bootstrap fails it without delivering an empty set (its reader gets the error, not an empty answer).
- Transient failures (unreachable, 429, 5xx) retry with capped exponential backoff, and so does a watch that the
  server ends within SHORT_WATCH of its request without a line (client-go's "very short watch"): a server or proxy
  that ends every watch at once is not asked again in a tight loop. Errors that retrying cannot fix
  (forbidden, bad selector, a TLS verification failure before the query has bootstrapped) are fatal: reported once
  to the accumulator, naming the query, the kind and the verb the server refused. A TLS failure after bootstrap
  (a server certificate mid-rotation) is retried, and said once through `notice`.
- `heard` is the monotonic time the stream last heard from the server (a byte of a response, or an error answer,
  or discovery while waiting for a kind), so a stream silent past `stall_timeout` is visible from outside
  (`kates watch`'s /healthz). A healthy idle watch is never silent that long: the server ends it at 90% of the bound
  and the reconnect's answer is heard.
- An optional `StreamObserver` is told, in the stream's thread, of each initial-set request (`listed`: bootstrap,
  relist, a kind back), each event after the initial set (`event`, BOOKMARK included), and each time the
  connection ends and is reopened (`restarted` with a reason: "410", "404", "stall", "error", "closed"; the initial
  streaming list closed at its end bookmark is no restart). Without one nothing is counted and nothing is called.
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Callable

from orjson import loads as _orjson_loads

from ..errors import (
    ApiError,
    Forbidden,
    Gone,
    KatesError,
    NotFound,
    ResourceTypeNotFound,
    Unreachable,
    from_status,
)
from . import deepjson
from .accumulator import Entry, QueryState, make_entry
from .mapping import Discovery, ResourceRef
from .transport import Response, Transport

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import Any, Protocol
else:
    Protocol = object  # the protocols below are the type checker's; at run time they are plain classes

INITIAL_EVENTS_END = "k8s.io/initial-events-end"
DEFAULT_STALL_TIMEOUT = 30.0
MIN_STALL_TIMEOUT = 2.0  # the server's timeoutSeconds is whole seconds, at least 1, and must end before the deadline
INITIAL_SERVER_TIMEOUT = 1800  # the initial streaming list: long enough for any initial set to arrive
LIST_CHUNK_SIZE = 500  # the page of a plain list (a server without streaming lists, or a relist)
SHORT_WATCH = 1.0  # seconds: a watch that ends sooner, with nothing read, waits a backoff before the next
BATCH_WINDOW = 0.05  # under a storm, a watch reads at most this often (seconds; Response.line_batches' window)
_REFUSED_VERB = re.compile(r'cannot (\w+) resource "')


def server_timeout_for(stall_timeout: float) -> int:
    """The `timeoutSeconds` to ask for, so that a healthy idle watch ends before the client's stall deadline: 90%
    of it, whole seconds, at least 1 (30 s -> 27 s; the server sends a bookmark about 2 s before it ends a watch)."""
    return max(1, int(stall_timeout * 0.9))


class Sink(Protocol):
    """Where a stream delivers: the Accumulator, or anything else that wants the same events (get --watch)."""

    def replace(self, query: str, entries: list[Entry], rv: str) -> None: ...
    def event(self, query: str, event_type: str, entry: Entry) -> None: ...
    def bookmark(self, query: str, rv: str) -> None: ...
    def fail(self, error: KatesError) -> None: ...


class StreamObserver(Protocol):
    """Per-stream facts, for metrics and logs. Called in the stream's thread: quick, and never raising."""

    def listed(self, query: str) -> None: ...
    def event(self, query: str, event_type: str) -> None: ...
    def restarted(self, query: str, reason: str) -> None: ...


class Backoff:
    def __init__(self, first: float = 0.2, cap: float = 10.0):
        self.first, self.cap, self.next = first, cap, first

    def take(self) -> float:
        delay = self.next
        self.next = min(self.cap, self.next * 2)
        import random  # only once a stream must wait: most never do

        return min(self.cap, delay * random.uniform(0.8, 1.2))  # the cap is the longest wait, jitter included

    def reset(self) -> None:
        self.next = self.first


class Stream:
    """A daemon thread that keeps one query's state in the accumulator up to date."""

    def __init__(
        self,
        transport: Transport,
        discovery: Discovery,
        acc: Sink,
        state: QueryState,
        ref: ResourceRef | None,
        *,
        stall_timeout: float = DEFAULT_STALL_TIMEOUT,
        server_timeout: int | None = None,
        backoff_cap: float = 10.0,
        wait_for_kind: bool = False,
        gate: Callable[[], None] | None = None,
        streaming: bool = True,
        notice: Callable[[str], None] | None = None,
        observer: StreamObserver | None = None,
        namespace: str | None = None,
    ):
        self.transport = transport
        self.namespace = namespace  # the one namespace of a query over several this stream lists and watches
        self.discovery = discovery
        self.acc = acc
        self.state = state
        self.name = state.query.name  # the query's name: what the observer counts by ("dependency" for each one)
        self.key = state.id  # what the sink knows the state by (unique, even where names are shared)
        self.title = state.title  # for messages: "query web", "dependency secrets app/db"
        self.ref = ref
        self.stall_timeout = stall_timeout
        self.server_timeout = server_timeout if server_timeout is not None else server_timeout_for(stall_timeout)
        self.notice = notice
        self.observer = observer
        self.backoff = Backoff(cap=backoff_cap)
        self.wait_for_kind = wait_for_kind
        self.gate = gate
        self.streaming = streaming
        self.rv = ""
        self.relists = 0
        self.reconnects = 0
        self.lists = 0  # complete initial sets delivered (bootstraps, relists, a kind that came back)
        self.stalls = 0  # silent stalls noticed (each told once through `notice`)
        self._stalled = False  # within a stall: told already, not yet healed by a byte from the server
        self.heard = time.monotonic()  # when the server last answered (the stream's start, before it has)
        self._bootstrapped = False
        self._told_tls = False
        self._gone = False  # the kind stopped being served, and has not been bootstrapped since
        self._verb = "list"  # the verb of the request in flight, for the forbidden message
        self._stop = threading.Event()
        self._response: Response | None = None
        self._thread = threading.Thread(target=self._run, name=f"kates-watch-{self.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        resp = self._response
        if resp is not None:
            resp.abort()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    # -- the loop --------------------------------------------------------------------------------------------

    def _run(self) -> None:
        self.heard = time.monotonic()
        try:
            while not self._stop.is_set():
                try:
                    if self.ref is None:
                        self._resolve()
                    elif not self.rv:
                        self._bootstrap()
                    else:
                        self._watch()
                except Gone:
                    self.heard = time.monotonic()
                    self.rv = ""  # too old: relist, and let the accumulator diff
                    self.relists += 1
                    self._restarted("410")
                except ResourceTypeNotFound:
                    raise  # (a NotFound from discovery, not from the collection)
                except NotFound as exc:
                    self.heard = time.monotonic()
                    self._kind_gone(exc)
                except Unreachable as exc:
                    if self._stop.is_set():
                        break  # stop() cut the connection: no failure, no restart
                    if _tls_failure(exc):
                        if not self._bootstrapped:
                            raise  # a certificate that does not verify will not verify on the next try either
                        if not self._told_tls:  # after bootstrap: perhaps a server mid-rotation; retried, said once
                            self._told_tls = True
                            self._say(f"kates: watch of {self.title} ({self._what()}): {exc.message}; retrying")
                    stalled = _timed_out(exc)
                    if stalled:
                        self._stall()
                    self.reconnects += 1
                    self._restarted("stall" if stalled else "error")
                    self._stop.wait(self.backoff.take())
                except ApiError as exc:
                    if not _transient(exc):
                        raise
                    if exc.code:
                        self.heard = time.monotonic()
                    self.reconnects += 1
                    self._restarted("error")
                    self._stop.wait(self.backoff.take())
        except KatesError as exc:
            if not self._stop.is_set():
                self.acc.fail(self._explain(exc))
        except Exception as exc:  # a bug must not leave a zombie watch: surface it
            if not self._stop.is_set():
                self.acc.fail(KatesError(f"watch of {self.state.query.kind} failed: {type(exc).__name__}: {exc}"))

    def _what(self) -> str:
        return self.ref.group_resource if self.ref else self.state.query.kind

    def _explain(self, exc: KatesError) -> KatesError:
        if isinstance(exc, Forbidden):
            m = _REFUSED_VERB.search(exc.message)  # the verb the server names, else the one in flight
            verb = m.group(1) if m else self._verb
            return type(exc)(
                f"cannot {verb} {self._what()} ({self.title}): {exc.message}",
                hint=self.state.hint
                or "kates watch needs the watch verb on every queried kind, and list where the server has no "
                "streaming lists",
                status=exc.status,
            )
        if isinstance(exc, ApiError) and exc.code == 400:
            from .selectors import bad_selector_error

            q = self.state.query
            return bad_selector_error(self._what(), q.label_selector, q.field_selector, exc)
        return exc

    def _say(self, text: str) -> None:
        if self.notice is not None:
            self.notice(text)

    def _stall(self) -> None:
        """A read (or connect) deadline passed: say so once per stall; the caller reconnects from self.rv."""
        if self._stalled:
            return
        self._stalled = True
        self.stalls += 1
        where = f"resuming from resourceVersion {self.rv}" if self.rv else "listing again"
        self._say(
            f"kates: watch of {self.title} ({self._what()}) stalled: nothing received for "
            f"{self.stall_timeout:g}s; reconnecting, {where}"
        )

    def _alive(self) -> None:
        """A byte came from the server: a stall, if any, is over."""
        self._stalled = False
        self.heard = time.monotonic()

    def _restarted(self, reason: str) -> None:
        if self.observer is not None and not self._stop.is_set():
            self.observer.restarted(self.name, reason)

    # the hint of the NotFound a kind no longer served ends a stream with (without `wait_for_kind`): `kates watch`'s
    # option by default; a command without that option gives its own (None: no hint)
    kind_gone_hint: str | None = "with --wait-for-kinds kates waits for a kind to come back"

    def _kind_gone(self, exc: NotFound) -> None:
        """The collection answers 404: the kind is no longer served (a deleted CRD). Its objects are gone with it."""
        what = self._what()
        if self._bootstrapped or not self.state.dependency:  # a dependency never bootstraps on a 404: it fails
            self.acc.replace(self.key, [], self.rv)
            self.lists += 1
        if not self.wait_for_kind:
            raise NotFound(
                f"{self.title}: the server no longer serves {what} ({exc.message})",
                hint=None if self.state.dependency else self.kind_gone_hint,
                code=404,
                status=exc.status,
            )
        self._restarted("404")
        if not self._gone:  # discovery may list the kind a little longer than it is served: say it once
            self._say(f"kates: {self.title}: the server no longer serves {what}; waiting for it to come back")
        self._gone = True
        self.ref = None  # the loop resolves it again, waiting for it to come back
        self.rv = ""
        self._stop.wait(self.backoff.take())

    def _resolve(self) -> None:
        """Wait for a kind that does not exist yet (a CRD that appears later), if asked to."""
        while self.ref is None and not self._stop.is_set():
            try:
                self.discovery.refresh()
                self.heard = time.monotonic()
                self.ref = self.discovery.resolve(self.state.query.kind)
            except ResourceTypeNotFound:
                if not self.wait_for_kind:
                    raise
                self._stop.wait(min(5.0, self.backoff.take()))
                continue
            self.backoff.reset()
            self.state.group, self.state.resource = self.ref.group, self.ref.resource
            self.state.api_version, self.state.kind = self.ref.api_version, self.ref.kind

    def _params(self) -> dict[str, Any]:
        q = self.state.query
        return {"labelSelector": q.label_selector or None, "fieldSelector": q.field_selector or None}

    def _path(self) -> str:
        assert self.ref is not None
        return self.ref.path((self.namespace or self.state.query.namespace) if self.ref.namespaced else None)

    def _bootstrap(self) -> None:
        self._verb = "list"
        if self.streaming:
            self._listed()
            try:
                self._watch(initial=True)
                return
            except ApiError as exc:
                if exc.code not in (400, 422):
                    raise
                self.streaming = False  # the server refuses streaming lists: list + watch instead
        self._listed()
        self._list()

    def _listed(self) -> None:
        if self.observer is not None:
            self.observer.listed(self.name)

    def _list(self) -> None:
        assert self.ref is not None
        entries: list[Entry] = []
        cont: str | None = None
        while True:
            params = {**self._params(), "limit": LIST_CHUNK_SIZE, "continue": cont}
            page = self.transport.request_json("GET", self._path(), params=params, timeout=self.stall_timeout)
            self._alive()
            for item in page.get("items") or ():
                item.setdefault("apiVersion", self.ref.api_version)
                item.setdefault("kind", self.ref.kind)
                entries.append(make_entry(item))
            meta = page.get("metadata") or {}
            cont = meta.get("continue") or None
            if not cont:
                self.rv = str(meta.get("resourceVersion") or "")
                break
        self.acc.replace(self.key, entries, self.rv)
        self.lists += 1
        self._bootstrapped, self._gone = True, False
        self.backoff.reset()

    def _watch(self, initial: bool = False) -> None:
        params: dict[str, Any] = {
            **self._params(),
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": max(self.server_timeout, INITIAL_SERVER_TIMEOUT) if initial else self.server_timeout,
        }
        if initial:
            params.update(sendInitialEvents="true", resourceVersionMatch="NotOlderThan")
        else:
            params["resourceVersion"] = self.rv
        self._verb = "watch"
        opened = time.monotonic()
        resp = self.transport.open("GET", self._path(), params=params, timeout=self.stall_timeout)
        self._alive()
        self._response = resp
        pending: list[Entry] | None = [] if initial else None
        lines_read = 0  # what this watch brought: a watch that ends at once with nothing is backed off
        try:
            if self._stop.is_set():
                return
            for lines in resp.line_batches(0.0 if initial else BATCH_WINDOW, self._stop.wait):
                self._alive()
                lines_read += len(lines)
                batch: list[tuple[str, Entry]] = []  # the events of this read, delivered together
                try:
                    for line in lines:
                        if not line:
                            continue
                        try:  # orjson's own call: deepjson.loads's is a Python call per event (bench B3)
                            event = _orjson_loads(line)
                        except ValueError:  # past orjson's depth limit, or not JSON: deepjson says which
                            event = deepjson.loads(line)
                        etype = event.get("type")
                        obj = event.get("object") or {}
                        if etype != "ERROR" and etype != "BOOKMARK":
                            entry = make_entry(obj)
                            if pending is not None:
                                pending.append(entry)
                            else:
                                batch.append((str(etype), entry))
                            continue
                        if batch:  # what came before, first
                            delivered, batch = self._deliver(batch), []
                            if not delivered:
                                return
                        if etype == "ERROR":
                            raise from_status(int(obj.get("code") or 0), obj)
                        meta = obj.get("metadata") or {}
                        rv = str(meta.get("resourceVersion") or "")
                        annotations = meta.get("annotations") or {}
                        if pending is not None and annotations.get(INITIAL_EVENTS_END) == "true":
                            self.rv = rv
                            self.acc.replace(self.key, pending, rv)
                            self.lists += 1
                            self._bootstrapped, self._gone = True, False
                            self.backoff.reset()
                            return  # this watch asked for a long server timeout: go on with ordinary ones
                        elif pending is None:
                            self.rv = rv or self.rv
                            self.acc.bookmark(self.key, rv)
                            if self.observer is not None:
                                self.observer.event(self.name, "BOOKMARK")
                except BaseException:
                    if batch:  # the events read before a line that failed are delivered before the failure
                        self._deliver(batch)
                    raise
                if batch and not self._deliver(batch):
                    return
        finally:
            self._response = None
            resp.close()
        if pending is not None:  # the stream ended before the initial events did: start the bootstrap again
            self.rv = ""
        self._restarted("closed")  # the server ended the watch (its timeoutSeconds, or it closed): reopened
        if not lines_read and time.monotonic() - opened < SHORT_WATCH:
            # client-go's reflector takes such a watch for an error ("very short watch"): a server or proxy that
            # ends every watch at once would otherwise be asked again in a tight loop
            self._stop.wait(self.backoff.take())

    def _deliver(self, batch: list[tuple[str, Entry]]) -> bool:
        """Hand one read's events to the sink at once (one lock, one wake-up); False when the stream was stopped
        (nothing is delivered then)."""
        if self.gate is not None:
            self.gate()
        if self._stop.is_set():
            return False
        many = getattr(self.acc, "event_batch", None)  # a sink without it (get --watch's) takes them one by one
        if many is not None:
            many(self.key, batch)
        else:
            for etype, entry in batch:
                self.acc.event(self.key, etype, entry)
        if self.observer is not None:
            for etype, _ in batch:
                self.observer.event(self.name, etype)
        for _, entry in reversed(batch):
            if entry.rv:
                self.rv = entry.rv
                break
        self.backoff.reset()
        return True


def _transient(exc: ApiError) -> bool:
    return exc.code == 429 or exc.code >= 500 or exc.code == 0


def _causes(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(out) < 10:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _tls_failure(exc: Unreachable) -> bool:
    """The server's certificate did not verify (unknown CA, wrong name, expired): not transient."""
    return any(isinstance(c, ssl.SSLCertVerificationError) for c in _causes(exc)) or bool(getattr(exc, "tls", False))


def _timed_out(exc: Unreachable) -> bool:
    """A read or connect deadline passed: the connection was silent for the whole stall timeout."""
    return any(isinstance(c, TimeoutError) for c in _causes(exc))


def file_gate(path: str) -> Callable[[], None]:
    """A test-only gate: while `path` exists, watch events are held back (not delivered to the accumulator)."""
    import os

    def gate() -> None:
        while os.path.exists(path):
            time.sleep(0.01)

    return gate
