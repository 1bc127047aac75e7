"""One resilient list+watch stream per query, feeding an Accumulator.

Invariants:
- Bootstrap uses a streaming list (sendInitialEvents=true, resourceVersionMatch=NotOlderThan, bookmarks, ended by
  the bookmark annotated k8s.io/initial-events-end) where the server allows it, else a chunked list; either way the
  query's state is replaced once, atomically, with the complete initial set.
- After bootstrap the stream resumes from the last resourceVersion it delivered (events and bookmarks) whenever the
  connection ends: normally (server timeout), by error, or by the client-side idle timeout that catches a silently
  dead connection. It never exits on its own while the accumulator is open.
- 410 Gone (or an ERROR event with code 410) relists; the accumulator turns the difference into deltas.
- Transient failures (unreachable, 429, 5xx) retry with capped exponential backoff. Errors that retrying cannot fix
  (forbidden, unknown resource, bad selector) are fatal: reported once to the accumulator, naming kind and verb.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

from ..errors import ApiError, Forbidden, Gone, KatesError, ResourceTypeNotFound, Unreachable, from_status
from . import deepjson
from .accumulator import Entry, QueryState, make_entry
from .mapping import Discovery, ResourceRef
from .transport import Response, Transport

INITIAL_EVENTS_END = "k8s.io/initial-events-end"
_OBJECT_PREFIX = b',"object":'


def raw_object(line: bytes) -> bytes | None:
    """The object's bytes inside a watch event line `{"type":"X","object":{...}}`, without re-encoding."""
    if not line.startswith(b'{"type":"'):
        return None
    i = line.find(_OBJECT_PREFIX)
    if i < 0 or not line.endswith(b"}}"):
        return None
    return line[i + len(_OBJECT_PREFIX) : -1]


class Sink(Protocol):
    """Where a stream delivers: the Accumulator, or anything else that wants the same events (get --watch)."""

    def replace(self, query: str, entries: list[Entry], rv: str) -> None: ...
    def event(self, query: str, event_type: str, entry: Entry) -> None: ...
    def bookmark(self, query: str, rv: str) -> None: ...
    def fail(self, error: KatesError) -> None: ...


class Backoff:
    def __init__(self, first: float = 0.2, cap: float = 10.0):
        self.first, self.cap, self.next = first, cap, first

    def take(self) -> float:
        delay = self.next
        self.next = min(self.cap, self.next * 2)
        return delay * random.uniform(0.8, 1.2)

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
        idle_timeout: float = 75.0,
        server_timeout: int = 60,
        backoff_cap: float = 10.0,
        wait_for_kind: bool = False,
        gate: Callable[[], None] | None = None,
        streaming: bool = True,
    ):
        self.transport = transport
        self.discovery = discovery
        self.acc = acc
        self.state = state
        self.name = state.query.name
        self.ref = ref
        self.idle_timeout = idle_timeout
        self.server_timeout = server_timeout
        self.backoff = Backoff(cap=backoff_cap)
        self.wait_for_kind = wait_for_kind
        self.gate = gate
        self.streaming = streaming
        self.rv = ""
        self.relists = 0
        self.reconnects = 0
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
        try:
            self._resolve()
            while not self._stop.is_set():
                try:
                    if not self.rv:
                        self._bootstrap()
                    else:
                        self._watch()
                except Gone:
                    self.rv = ""  # too old: relist, and let the accumulator diff
                    self.relists += 1
                except (Unreachable, ApiError) as exc:
                    if isinstance(exc, ApiError) and not _transient(exc):
                        raise
                    self.reconnects += 1
                    self._stop.wait(self.backoff.take())
        except KatesError as exc:
            if not self._stop.is_set():
                self.acc.fail(self._explain(exc))
        except Exception as exc:  # a bug must not leave a zombie watch: surface it
            if not self._stop.is_set():
                self.acc.fail(KatesError(f"watch of {self.state.query.kind} failed: {type(exc).__name__}: {exc}"))

    def _explain(self, exc: KatesError) -> KatesError:
        if isinstance(exc, Forbidden):
            what = self.ref.group_resource if self.ref else self.state.query.kind
            return type(exc)(
                f"cannot list and watch {what} (query {self.name}): {exc.message}",
                hint="kates watch needs the list and watch verbs on every queried kind",
                status=exc.status,
            )
        return exc

    def _resolve(self) -> None:
        """Wait for a kind that does not exist yet (a CRD that appears later), if asked to."""
        while self.ref is None and not self._stop.is_set():
            try:
                self.discovery.refresh()
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
        return self.ref.path(self.state.query.namespace if self.ref.namespaced else None)

    def _bootstrap(self) -> None:
        if self.streaming:
            try:
                self._watch(initial=True)
                return
            except ApiError as exc:
                if exc.code not in (400, 422):
                    raise
                self.streaming = False  # the server refuses streaming lists: list + watch instead
        self._list()

    def _list(self) -> None:
        assert self.ref is not None
        entries: list[Entry] = []
        cont: str | None = None
        while True:
            params = {**self._params(), "limit": 500, "continue": cont}
            page = self.transport.request_json("GET", self._path(), params=params, timeout=self.idle_timeout)
            for item in page.get("items") or ():
                item.setdefault("apiVersion", self.ref.api_version)
                item.setdefault("kind", self.ref.kind)
                entries.append(make_entry(item))
            meta = page.get("metadata") or {}
            cont = meta.get("continue") or None
            if not cont:
                self.rv = str(meta.get("resourceVersion") or "")
                break
        self.acc.replace(self.name, entries, self.rv)
        self.backoff.reset()

    def _watch(self, initial: bool = False) -> None:
        params: dict[str, Any] = {
            **self._params(),
            "watch": "true",
            "allowWatchBookmarks": "true",
            "timeoutSeconds": self.server_timeout,
        }
        if initial:
            params.update(sendInitialEvents="true", resourceVersionMatch="NotOlderThan")
        else:
            params["resourceVersion"] = self.rv
        resp = self.transport.open("GET", self._path(), params=params, timeout=self.idle_timeout)
        self._response = resp
        pending: list[Entry] | None = [] if initial else None
        try:
            if self._stop.is_set():
                return
            for line in resp.lines():
                if not line:
                    continue
                event = deepjson.loads(line)
                etype = event.get("type")
                obj = event.get("object") or {}
                if etype == "ERROR":
                    raise from_status(int(obj.get("code") or 0), obj)
                rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
                if etype == "BOOKMARK":
                    annotations = (obj.get("metadata") or {}).get("annotations") or {}
                    if pending is not None and annotations.get(INITIAL_EVENTS_END) == "true":
                        self.rv = rv
                        self.acc.replace(self.name, pending, rv)
                        pending = None
                        self.backoff.reset()
                    elif pending is None:
                        self.rv = rv or self.rv
                        self.acc.bookmark(self.name, rv)
                    continue
                entry = make_entry(obj, raw_object(line))
                if pending is not None:
                    pending.append(entry)
                    continue
                if self.gate is not None:
                    self.gate()
                if self._stop.is_set():
                    return
                self.acc.event(self.name, str(etype), entry)
                self.rv = entry.rv or self.rv
                self.backoff.reset()
        finally:
            self._response = None
            resp.close()
        if pending is not None:  # the stream ended before the initial events did: start the bootstrap again
            self.rv = ""


def _transient(exc: ApiError) -> bool:
    return exc.code == 429 or exc.code >= 500 or exc.code == 0


def file_gate(path: str) -> Callable[[], None]:
    """A test-only gate: while `path` exists, watch events are held back (not delivered to the accumulator)."""
    import os

    def gate() -> None:
        while os.path.exists(path):
            time.sleep(0.01)

    return gate
