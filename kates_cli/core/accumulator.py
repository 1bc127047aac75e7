"""The Accumulator: several watch streams merged into one coherent, coalesced snapshot.

Invariants (the promises of the Go kates, without its defects):
- Bootstrap barrier: nothing is delivered until every query has finished its initial list; an empty list counts.
- Coalescing: at most one notification is pending. `update()` always fills in the newest state; a slow consumer
  never sees a backlog. A relist or resync that changes nothing visible raises no notification.
- Deterministic bytes: each query's objects are ordered by (namespace, name), and each object's bytes are its
  canonical encoding (`canonical_json`: sorted keys, Go's escaping) whichever path delivered it, so equal states
  serialise to equal bytes. Each object's JSON bytes are kept beside it, exactly (never orjson's larger buffer),
  and the snapshot's bytes are joined from them at each take, once, and not kept after it: the objects' bytes are
  the only copy of the state the accumulator holds between takes.
  An update keeps the key (namespace, name) and uid objects the object already had, so churn (every object
  replaced again and again) holds nothing more than the first state did.
- Projections (`Query.jq`, core/projection.py) apply to queries only, and only to what a take hands out: a
  projected query's part of the snapshot holds the filter's results for each object of its view (objects by
  (namespace, name), each object's results in the filter's order, each result's bytes canonical; an object the
  filter yields nothing for is absent), and its changes are the projection's: an object's version is a digest of
  its results (no uid), so a change the filter does not see (a status-only update under a `.spec` filter) is no
  change, no delta and no run, though it may wake a waiter whose take then finds nothing changed. Everything else
  (the view, overlays, `covers`, reads, `taken_views`, `status()`, `sizes()`' object counts) keeps whole objects.
  The filter runs under the lock, at a take, only on objects whose bytes changed since; when it fails on an object
  the take raises ProjectionError naming the query and the object, before anything is taken.
- Read/write coherence: a write made through the client is overlaid on the query views it belongs to (same
  resource, namespace, label and field selectors) until the *watch* has delivered that resourceVersion or a newer
  one: an overlay is retired by the stream's progress, never by its own presence, so a late or replayed watch event
  cannot roll it back. Deletes mask by namespace/name and by UID. Overlays are per query and per accumulator.
- Several namespaces (`Query.namespace` "a,b", `namespaces_of`): one stream per namespace feeds the one QueryState,
  each told by its namespace (`replace`/`bookmark` with `namespace=`; an event's own key says it). Each namespace
  has its own progress, so an overlay is retired only by the stream of its own namespace; a relist replaces only
  its namespace's objects; the query is synced once every namespace has listed. The view is still one, ordered by
  (namespace, name), as kubectl orders -A.
- Writes outside every query's scope are not recorded; a write that moves an object out of a query's scope masks it
  there. Memory stays bounded: every overlay entry is retired once the stream's progress passes it.
- resourceVersions are compared only under KEP-5504 rules (selectors.compare_rv); an incomparable version never
  wins a comparison, and its overlay retires when the watch delivers that exact version.
- Accounting, for metrics (read, never acted on): `generation` counts visible changes; each take of the changes
  records `taken_generation` (the generation it took) and `taken_since` (the monotonic time the oldest change it
  took reached the accumulator, None when it took none); `sizes()` gives each query's objects, the bytes of its
  part of the last JSON snapshot, and its pending overlay entries.
- Dependencies (core/dependencies.py holds their books): a state watched because it was read (`depend`, `get`,
  `list`), not because a query asked. Its first bootstrap raises no change and counts as delivered; after it, its
  changes are changes like a query's (a notification, deltas after the queries' named "dependency", overlays by
  `record_write`), but it is never part of the snapshot's JSON, `status()` or `sizes()`, and never holds back the
  bootstrap barrier. A dependency's stream feeds it only while it is registered: a released or dropped dependency
  is never fed again, even by a late event of its stopped stream. A fatal error of its stream after its bootstrap
  never ends the watch: said once through the source's `notice`, and the dependency is dropped for every holder.
- `taken_views` is set by every take, under the lock: each query's and each bootstrapped dependency's (state,
  view) at that take, queries first. A view dict is never mutated once handed out (a change builds a new one).
- Reads from the cache (`get`, `list`) answer from a query that covers them, else from a dependency the reader's
  holder then holds (the current `batch`'s, else "default"); each answer is a fresh copy of the objects. A batch
  that ends normally releases its holder's dependencies it did not read; one that raises releases nothing.
- Every method is thread-safe; no I/O is done under the lock (discovery is asked before taking it).
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace as _replace

import orjson

from ..errors import KatesError, Unreachable, UsageError
from . import deepjson, gojson
from .deltas import Change, Delta, Version, deltas_of, diff
from .dependencies import (
    DEPENDENCY_QUERY,
    Dependency,
    DependencySource,
    Registry,
    dependency_id,
)
from .projection import TOLERANT, FilterFailed, Projection, ProjectionError, compile_filter
from .records import record
from .selection import Selection, covers, select
from .selectors import FieldSelector, LabelSelector, parse_rv

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Accumulator", "Change", "Delta", "Entry", "KubeObject", "Query", "QueryState", "make_entry"]

KubeObject = dict[str, "Any"]
Key = tuple[str, str]  # (namespace, name)


@record(frozen=True)
class Query:
    """One thing to watch. `namespace=None` means all namespaces, "a,b" several (sorted, each with its own
    stream); `kind` is resolved as `get` resolves it."""

    name: str
    kind: str
    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    jq: str | None = None  # a jq filter: the snapshot holds its results for each object (core/projection.py)


def namespaces_of(query: Query) -> list[str] | None:
    """The namespaces a query watches, sorted: None for all of them."""
    if query.namespace is None:
        return None
    return sorted({ns for ns in query.namespace.split(",") if ns})


class Entry:
    """One object as the accumulator holds it: its JSON bytes and the few fields the merge needs. The dict is parsed
    from the bytes only when someone asks for it (`obj`), and then kept: a `kates watch --exec` never asks, so it
    holds bytes, not Python objects (about a third of the memory)."""

    __slots__ = ("_obj", "key", "raw", "rv", "uid")

    def __init__(self, raw: bytes, rv: str, key: Key, uid: str, obj: KubeObject | None = None):
        self.raw = raw
        self.rv = rv
        self.key = key
        self.uid = uid
        self._obj = obj

    @property
    def obj(self) -> KubeObject:
        if self._obj is None:
            self._obj = deepjson.loads(self.raw)
        return self._obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and (self.raw, self.rv) == (other.raw, other.rv)

    def __hash__(self) -> int:
        return hash((self.raw, self.rv))

    def __repr__(self) -> str:
        return f"Entry({self.key[0]}/{self.key[1]}@{self.rv})"


@record
class Overlay:
    """A local write not yet confirmed by the watch: an object (upsert) or None (a delete mask)."""

    entry: Entry | None
    rv: str
    uid: str


def key_of(obj: KubeObject) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def canonical_json(obj: KubeObject) -> bytes:
    """The one encoding of an object's bytes, whatever path it came by (a watch event, a list page, a write's
    answer, a hook's report): keys sorted at every level, as kubectl -o json prints them, and `<`, `>`, `&`, U+2028
    and U+2029 escaped as Go's encoding/json escapes them (the API server's own bytes). Equal objects, equal bytes."""
    try:  # orjson's own call: deepjson.dumps's is a Python call per event (bench B3)
        raw = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # past orjson's depth limit: deepjson writes it
        raw = deepjson.dumps(obj, sort_keys=True)
    raw = gojson.escaped(raw)  # rare: cheap scans first, then the exact ones
    # orjson returns its whole write buffer, several times the length for a small object (8 KB of memory for a
    # 1.5 KB ConfigMap): a copy of exactly the bytes is what an Entry keeps, and the buffer is freed at once
    return bytes(memoryview(raw))


def make_entry(obj: KubeObject) -> Entry:
    """An Entry for `obj`, its bytes canonical (`canonical_json`). The dict itself is not kept."""
    meta = obj.get("metadata") or {}
    return Entry(
        canonical_json(obj),
        str(meta.get("resourceVersion") or ""),
        (sys.intern(str(meta.get("namespace") or "")), str(meta.get("name") or "")),  # one string per namespace
        str(meta.get("uid") or ""),
    )


def _newer(a: str, b: str) -> bool:
    """a is strictly newer than b (False when either is incomparable)."""
    x, y = parse_rv(a), parse_rv(b)
    return x is not None and y is not None and x > y


def _at_least(a: str, b: str) -> bool:
    x, y = parse_rv(a), parse_rv(b)
    if x is None or y is None:
        return a == b and a != ""
    return x >= y


class QueryState:
    """One query's watch-delivered objects, its pending local writes, and what its consumer last saw. Not locked:
    the Accumulator serialises every call."""

    def __init__(self, query: Query, group: str = "", resource: str = "", api_version: str = "", kind: str = ""):
        self.query = query
        self.id = query.name  # unique in its accumulator (a dependency's: "dependency:" + its selection)
        self.title = f"query {query.name}"  # for messages
        self.dependency = False
        self.hint: str | None = None  # the hint of a Forbidden error, when not the queries' one
        self.group = group
        self.resource = resource
        self.api_version = api_version
        self.kind = kind
        self.labels = LabelSelector(query.label_selector)
        self.fields = FieldSelector(query.field_selector)
        self.watched: dict[Key, Entry] = {}
        self.overlay: dict[Key, Overlay] = {}
        self.progress = ""  # newest resourceVersion the watch has delivered (events, bookmarks, list)
        self.synced = False
        namespaces = namespaces_of(query)
        self.namespaces = frozenset(namespaces) if namespaces is not None else None
        # several namespaces: each one's progress, and those listed (one stream each; the module docstring)
        self.several = self.namespaces is not None and len(self.namespaces) > 1
        self.progresses: dict[str, str] = {}
        self.listed: set[str] = set()
        self.delivered: dict[Key, Version] = {}
        self.snapshot_bytes = 0  # the length of this query's part of the last JSON snapshot taken
        self._view: dict[Key, Entry] | None = None  # cached view; dropped whenever anything visible may change
        self._retired = False  # set by _advance: retiring an overlay changed the view
        self.projection: Projection | None = None
        if query.jq is not None:
            try:
                self.projection = compile_filter(query.jq)
            except UsageError as exc:
                raise UsageError(f"query {query.name}: {exc.message}") from None
        self._projected: dict[Key, tuple[bytes, bytes, str]] = {}  # key -> (its bytes, its results', their digest)

    # -- scope -----------------------------------------------------------------------------------------------

    def in_scope(self, obj: KubeObject) -> bool:
        meta = obj.get("metadata") or {}
        if self.namespaces is not None and (meta.get("namespace") or "") not in self.namespaces:
            return False
        return self.labels.matches(meta.get("labels")) and self.fields.matches(obj)

    def in_namespace(self, obj: KubeObject) -> bool:
        ns = (obj.get("metadata") or {}).get("namespace") or ""
        return self.namespaces is None or ns in self.namespaces

    def progress_in(self, namespace: str) -> str:
        """The newest resourceVersion delivered for objects of `namespace` (by its own stream, when several)."""
        return self.progresses.get(namespace, "") if self.several else self.progress

    # -- the watch side (each returns whether the visible view may have changed) ------------------------------

    def replace(self, entries: list[Entry], rv: str, namespace: str | None = None) -> bool:
        """An initial list or a relist: the authoritative state at `rv` (of `namespace` alone, when several)."""
        before = self._signature()
        if self.several and namespace is not None:
            self.watched = {k: e for k, e in self.watched.items() if k[0] != namespace}
            self.watched.update((e.key, e) for e in entries)
            self.listed.add(namespace)
        else:
            self.watched = {e.key: e for e in entries}
        self._advance(rv, namespace)
        self.synced = not self.several or frozenset(self.listed) == self.namespaces
        return self._signature() != before

    def apply(self, event_type: str, entry: Entry) -> bool:
        key = entry.key
        current = self.watched.get(key)
        if not self.overlay and not self.several:
            return self._apply_plain(event_type, entry, current)
        return self._apply_general(event_type, entry, current)

    def _apply_general(self, event_type: str, entry: Entry, current: Entry | None) -> bool:
        key = entry.key
        if (current is not None and _newer(current.rv, entry.rv)) or _newer(self.progress_in(key[0]), entry.rv):
            return False  # a replay of an older version (even of a since-deleted object): never roll back
        if current is not None:  # one key and uid per object, however often it changes (the dict keeps its key)
            entry.key = current.key
            if entry.uid == current.uid:
                entry.uid = current.uid
        if not self.overlay:  # the common case: the view is what the watch delivered, and nothing can retire
            if event_type == "DELETED":
                changed = self.watched.pop(key, None) is not None
            else:
                self.watched[key] = entry
                changed = current is None or current.rv != entry.rv or current.raw != entry.raw
            self._advance(entry.rv, key[0])
            return changed
        before = self._visible(key)
        if event_type == "DELETED":
            self.watched.pop(key, None)
        else:
            self.watched[key] = entry
        self._advance(entry.rv, key[0])
        return self._visible(key) != before or self._retired

    def _apply_plain(self, event_type: str, entry: Entry, current: Entry | None) -> bool:
        """`apply` in the common case (no overlay, one progress): the same decisions, each version parsed once."""
        rv = entry.rv
        new, progress = parse_rv(rv), parse_rv(self.progress)
        if new is not None and (
            (progress is not None and progress > new)
            or (current is not None and (old := parse_rv(current.rv)) is not None and old > new)
        ):
            return False  # a replay of an older version (even of a since-deleted object): never roll back
        key = entry.key
        if current is not None:  # one key and uid per object, however often it changes (the dict keeps its key)
            entry.key = key = current.key
            if entry.uid == current.uid:
                entry.uid = current.uid
        if event_type == "DELETED":
            changed = self.watched.pop(key, None) is not None
        else:
            self.watched[key] = entry
            changed = current is None or current.rv != rv or current.raw != entry.raw
        if rv and (not self.progress or (new is not None and progress is not None and new > progress)):
            self.progress = rv  # as _advance: nothing to retire without an overlay
        self._retired = False
        self._view = None
        return changed

    def bookmark(self, rv: str, namespace: str | None = None) -> bool:
        self._advance(rv, namespace)
        return self._retired

    def _advance(self, rv: str, namespace: str | None = None) -> None:
        if self.several and namespace is not None:
            if rv and (not self.progresses.get(namespace) or _newer(rv, self.progresses[namespace])):
                self.progresses[namespace] = rv
            if rv and (not self.progress or _newer(rv, self.progress)):
                self.progress = rv  # the newest of any namespace: for reading only, never to retire an overlay
        elif rv and (not self.progress or _newer(rv, self.progress)):
            self.progress = rv
        self._retired = False
        for key in [k for k, o in self.overlay.items() if self._confirmed(k, o)] if self.overlay else ():
            before = self._visible(key)
            del self.overlay[key]
            self._retired = self._retired or self._visible(key) != before
        self._view = None

    def _confirmed(self, key: Key, o: Overlay) -> bool:
        if o.rv and parse_rv(o.rv) is not None and _at_least(self.progress_in(key[0]), o.rv):
            return True
        current = self.watched.get(key)
        if o.entry is None:  # delete mask
            if parse_rv(o.rv) is not None:
                return False  # a comparable delete retires by progress alone (a late older event must not undo it)
            return current is None or (bool(o.uid) and bool(current.uid) and current.uid != o.uid)
        return current is not None and current.rv == o.rv

    # -- the write side --------------------------------------------------------------------------------------

    def record_write(self, verb: str, obj: KubeObject) -> bool:
        """Overlay one write made through the client. Returns whether the visible view may have changed."""
        if not self.in_namespace(obj):
            return False
        key = key_of(obj)
        meta = obj.get("metadata") or {}
        rv = str(meta.get("resourceVersion") or "")
        uid = str(meta.get("uid") or "")
        if rv and parse_rv(rv) is not None and _at_least(self.progress_in(key[0]), rv):
            return False  # the watch already delivered this write or something newer
        pending = self.overlay.get(key)
        if pending is not None and _newer(pending.rv, rv):
            return False  # reports can arrive out of order (several hook processes): keep the newer write
        before = self._visible(key)
        if verb == "delete" or not self.in_scope(obj):
            if verb == "create" and key not in self.watched and key not in self.overlay:
                return False  # created outside the scope: nothing to move out (an update may, even if not yet seen)
            self.overlay[key] = Overlay(None, rv, uid)
        else:
            self.overlay[key] = Overlay(make_entry(obj), rv, uid)
        self._view = None
        return self._visible(key) != before

    # -- the view --------------------------------------------------------------------------------------------

    def _visible(self, key: Key) -> Entry | None:
        watched = self.watched.get(key)
        o = self.overlay.get(key)
        if o is None:
            return watched
        if o.entry is None:
            if watched is not None and o.uid and watched.uid and watched.uid != o.uid and _newer(watched.rv, o.rv):
                return watched  # a new incarnation created after the delete
            return None
        if watched is not None and _at_least(watched.rv, o.rv) and o.rv:
            return watched
        return o.entry

    def view(self) -> dict[Key, Entry]:
        if self._view is None:
            if not self.overlay:
                self._view = dict(self.watched)
            else:
                out = {}
                for key in set(self.watched) | set(self.overlay):
                    entry = self._visible(key)
                    if entry is not None:
                        out[key] = entry
                self._view = out
        return self._view

    def _signature(self) -> dict[Key, str]:
        return {k: e.rv for k, e in self.view().items()}

    def objects(self) -> list[Any]:
        """The snapshot's part of this query: its objects by (namespace, name), or with a projection the filter's
        results for them (any JSON values)."""
        if self.projection is not None:
            return list(deepjson.loads(self.json_bytes()))
        view = self.view()
        return [view[k].obj for k in sorted(view)]

    def json_bytes(self) -> bytes:
        """This query's part of the snapshot: a JSON array of its objects' bytes (or its projection's results)."""
        parts: list[bytes] = [b"["]
        self.json_parts(parts)
        parts.append(b"]")
        return b"".join(parts)

    def json_parts(self, out: list[bytes]) -> int:
        """Append the bytes of this query's objects (or its projection's results), by (namespace, name) and each
        but the first after a comma, to `out`, for the caller's one join; return their length."""
        if self.projection is not None:
            projected = self.project()
            items = [b for k in sorted(projected) if (b := projected[k][0])]
        else:
            view = self.view()
            items = [view[k].raw for k in sorted(view)]
        size = 0
        for i, raw in enumerate(items):
            if i:
                out.append(b",")
            out.append(raw)
            size += len(raw)
        return size + max(0, len(items) - 1)

    def project(self) -> dict[Key, tuple[bytes, str]]:
        """With a projection: each object of the view -> its results' canonical bytes, joined by commas, and their
        digest (b"" and "": the filter yields nothing). The filter runs only on objects whose bytes changed since
        the last call. Raises ProjectionError naming the object the filter fails on (nothing else is changed)."""
        assert self.projection is not None
        cache, out = self._projected, {}
        for key, entry in self.view().items():
            hit = cache.get(key)
            if hit is not None and hit[0] == entry.raw:
                out[key] = hit
                continue
            try:
                results = self.projection.results(entry.raw)
            except FilterFailed as exc:
                raise ProjectionError(
                    f"{self.title}: the jq filter failed on {self._describe(key)}: {exc}", hint=TOLERANT
                ) from None
            joined = b",".join(canonical_json(r) for r in results)
            out[key] = (entry.raw, joined, hashlib.blake2b(joined, digest_size=16).hexdigest() if joined else "")
        self._projected = out
        return {k: (v[1], v[2]) for k, v in out.items()}

    def _describe(self, key: Key) -> str:
        """kubectl's name of an object, `deployment.apps/web in namespace prod`."""
        kind = self.kind.lower() or self.query.kind
        name = f"{kind}.{self.group}/{key[1]}" if self.group else f"{kind}/{key[1]}"
        return f"{name} in namespace {key[0]}" if key[0] else name

    def versions(self) -> dict[Key, Version]:
        """What a change is a change of: each object's (resourceVersion, uid); with a projection, each object the
        filter yields something for, versioned by its results alone (a digest, no uid): an object is added,
        updated or deleted when its results appear, change or disappear, whatever else changed in it."""
        if self.projection is None:
            return {k: (e.rv, e.uid) for k, e in self.view().items()}
        return {k: (digest, "") for k, (_, digest) in self.project().items() if digest}

    def take_changes(self) -> list[Change]:
        """The changes since the consumer's last take; afterwards the current view counts as delivered."""
        now = self.versions()
        source = self.id if self.id != self.query.name else ""
        changes = diff(self.query.name, self.api_version, self.kind, self.delivered, now, source)
        self.delivered = now
        return changes

    def take_deltas(self) -> list[Delta]:
        return deltas_of(self.take_changes())


class Accumulator:
    """Thread-safe merge of several QueryStates, fed by watch streams and by the client's writes."""

    def __init__(self, states: list[QueryState], *, max_dependencies: int | None = None):
        names = [s.query.name for s in states]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise UsageError(f"duplicate query name: {', '.join(dupes)}", hint="give each query its own NAME=")
        if DEPENDENCY_QUERY in names:
            raise UsageError(f'the query name "{DEPENDENCY_QUERY}" is reserved for dependencies', hint=_RENAME)
        self.states = {s.query.name: s for s in states}  # the queries, in query order (never a dependency)
        self._cond = threading.Condition()
        self._pending = False
        self.generation = 0
        self.taken_generation = 0  # the generation the last take of the changes took
        self.taken_since: float | None = None  # when the oldest change of the last take arrived (monotonic)
        self._since: float | None = None  # when the oldest change not yet taken arrived
        self._first = True
        self._closed = False
        self.error: KatesError | None = None
        self._error_deferred = False
        self._closers: list[Callable[[], None]] = []
        self._pred_cache: dict[tuple[str, Key], tuple[str, bool]] = {}
        self._pred_view: dict[str, list[tuple[tuple[str, Key], str]]] | None = None
        self.streams: list[Any] = []  # the watch streams feeding this accumulator, dependencies' included
        self._registry = Registry(max_dependencies)
        self.source: DependencySource | None = None  # how to start dependencies (Client.watch sets it)
        self.taken_views: dict[str, tuple[QueryState, dict[Key, Entry]]] = {}
        self._dropped: list[Change] = []  # changes of dependencies dropped after a fatal error, not yet taken
        self._batch = threading.local()

    @property
    def max_dependencies(self) -> int | None:
        """The bound on distinct dependencies (None: unbounded)."""
        return self._registry.max_dependencies

    @max_dependencies.setter
    def max_dependencies(self, bound: int | None) -> None:
        with self._cond:
            self._registry.max_dependencies = bound

    # -- fed by streams (all under the lock) -----------------------------------------------------------------

    def _changed(self, changed: bool, count: int = 1) -> None:
        if changed:
            if self._since is None:
                self._since = time.monotonic()
            self._pending = True
            self.generation += count  # counts visible changes: lets a consumer wait for quiet (debounce)
            self._cond.notify_all()

    def replace(self, query: str, entries: list[Entry], rv: str, namespace: str | None = None) -> None:
        with self._cond:
            was_synced = self.synced_locked()
            changed = self.states[query].replace(entries, rv, namespace)
            self._changed(changed or (not was_synced and self.synced_locked()))

    def event(self, query: str, event_type: str, entry: Entry) -> None:
        with self._cond:
            self._changed(self.states[query].apply(event_type, entry))

    def event_batch(self, query: str, batch: builtins.list[tuple[str, Entry]]) -> None:
        """Several events of one stream, in order (what one read brought): one lock, at most one wake-up."""
        with self._cond:
            apply = self.states[query].apply
            self._changed_many([apply(event_type, entry) for event_type, entry in batch])

    def _changed_many(self, changed: builtins.list[bool]) -> None:
        count = changed.count(True)
        self._changed(count > 0, count)

    def bookmark(self, query: str, rv: str, namespace: str | None = None) -> None:
        with self._cond:
            self._changed(self.states[query].bookmark(rv, namespace))

    def fail(self, error: KatesError) -> None:
        with self._cond:
            if self.error is None:
                self.error = error
            self._cond.notify_all()

    def record_write(self, verb: str, group: str, resource: str, obj: KubeObject) -> None:
        """A write made through a client (or reported by a hook's kates): overlay it where it belongs, queries and
        dependencies alike."""
        with self._cond:
            changed = False
            for state in self._all_states():
                if state.group == group and state.resource == resource:
                    changed = state.record_write(verb, obj) or changed
            self._changed(changed)

    def _all_states(self) -> list[QueryState]:
        """Under the lock: the queries' states in query order, then the dependencies' (registered ones)."""
        return [*self.states.values(), *(d.state for d in self._registry)]

    # -- the consumer side -----------------------------------------------------------------------------------

    def synced_locked(self) -> bool:
        return all(s.synced for s in self.states.values())

    @property
    def synced(self) -> bool:
        with self._cond:
            return self.synced_locked()

    def status(self) -> dict[str, dict[str, Any]]:
        """Per query: synced or not, and how many objects it shows."""
        with self._cond:
            return {n: {"synced": s.synced, "count": len(s.view())} for n, s in self.states.items()}

    def sizes(self) -> dict[str, tuple[int, int, int]]:
        """Per query: (objects in its view, bytes of its part of the last JSON snapshot, pending overlay entries)."""
        with self._cond:
            return {n: (len(s.view()), s.snapshot_bytes, len(s.overlay)) for n, s in self.states.items()}

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every query has bootstrapped and a change may be pending; False on timeout or close.
        Raises the first fatal stream error (e.g. Forbidden), once the changes made before it have been taken (a
        deleted CRD's query is delivered empty, then the error)."""
        with self._cond:
            self._cond.wait_for(
                lambda: self.error is not None or self._closed or (self._pending and self.synced_locked()), timeout
            )
            ready = self._pending and self.synced_locked() and not self._closed
            if self.error is not None:
                if ready and not self._error_deferred:  # what changed before the error is delivered first, once
                    self._error_deferred = True
                    return True
                raise self.error
            return ready

    def _take(self) -> tuple[bool, list[Change]]:
        """Under the lock: whether the view changed since the last take, and the changes."""
        if not self.synced_locked():
            return False, []
        for state in self.states.values():
            if state.projection is not None:
                state.project()  # a filter that fails on an object raises here, before anything is taken
        self._pending = False
        self.taken_generation, self.taken_since, self._since = self.generation, self._since, None
        changes = [c for s in self.states.values() for c in s.take_changes()]
        views = {s.id: (s, s.view()) for s in self.states.values()}
        for dep in self._registry:
            if dep.bootstrapped:
                changes += dep.state.take_changes()
                views[dep.id] = (dep.state, dep.state.view())
        changes += self._dropped
        self._dropped = []
        self.taken_views = views
        first, self._first = self._first, False
        return bool(changes) or first, changes

    def update_with_deltas(self, snapshot: dict[str, list[KubeObject]]) -> tuple[bool, list[Delta]]:
        """Fill `snapshot` with the newest objects of every query; return (changed, deltas since last update)."""
        with self._cond:
            changed, changes = self._take()
            if changed:
                for name, state in self.states.items():
                    snapshot[name] = state.objects()
            return changed, deltas_of(changes)

    def update(self, snapshot: dict[str, list[KubeObject]]) -> bool:
        return self.update_with_deltas(snapshot)[0]

    def filtered_update(self, snapshot: dict[str, list[KubeObject]], predicate: Callable[[KubeObject], bool]) -> bool:
        """Like update, keeping only objects for which `predicate` is true; True only if that filtered view
        changed. The predicate sees only objects changed since the previous filtered update."""
        return self.filtered_update_with_deltas(snapshot, predicate)[0]

    def filtered_update_with_deltas(
        self, snapshot: dict[str, list[KubeObject]], predicate: Callable[[KubeObject], bool]
    ) -> tuple[bool, list[Delta]]:
        """Go's FilteredUpdate with its deltas: as `filtered_update`, and the deltas of every change taken, kept
        objects or not (Go reports them all too). Unlike Go, `changed` is False when only objects the predicate
        excludes changed: the filtered snapshot is then left as it was. Whole objects only: a projected query
        (`jq=`) is refused (its filter filters: `select(...)`)."""
        projected = [name for name, state in self.states.items() if state.projection is not None]
        if projected:
            raise UsageError(
                f"filtered_update works on whole objects, and query {projected[0]} is projected (jq=)",
                hint="filter inside the jq filter instead: select(...)",
            )
        with self._cond:
            changed, changes = self._take()
            deltas = deltas_of(changes)
            if not changed:
                return False, deltas
            cache = self._pred_cache
            new_cache: dict[tuple[str, Key], tuple[str, bool]] = {}
            filtered: dict[str, list[KubeObject]] = {}
            for name, state in self.states.items():
                view = state.view()
                keep = []
                for key in sorted(view):
                    entry = view[key]
                    hit = cache.get((name, key))
                    ok = hit[1] if hit is not None and hit[0] == entry.rv else predicate(entry.obj)
                    new_cache[(name, key)] = (entry.rv, ok)
                    if ok:
                        keep.append(entry.obj)
                filtered[name] = keep
            previous = self._pred_view
            signature = {q: [k for k, v in new_cache.items() if k[0] == q and v[1]] for q in self.states}
            sig = {q: [(k, new_cache[k][0]) for k in keys] for q, keys in signature.items()}
            self._pred_cache = new_cache
            self._pred_view = sig
            if previous == sig:
                return False, deltas
            snapshot.clear()
            snapshot.update(filtered)
            return True, deltas

    def snapshot_json(self) -> tuple[bool, bytes, list[Delta]]:
        """The fast path for hooks: (changed, the snapshot as JSON bytes, deltas). Bytes are joined, not re-encoded."""
        changed, data, changes = self.snapshot_changes()
        return changed, data, deltas_of(changes)

    def snapshot_changes(self) -> tuple[bool, bytes, list[Change]]:
        """As snapshot_json, with each object's versions before and after (for `deltas.NetChanges`)."""
        with self._cond:
            changed, changes = self._take()
            parts: list[bytes] = [b"{"]
            for i, (name, state) in enumerate(self.states.items()):
                parts.append((b"," if i else b"") + orjson.dumps(name) + b":[")
                state.snapshot_bytes = state.json_parts(parts) + 2
                parts.append(b"]")
            parts.append(b"}")
            return changed, b"".join(parts), changes  # one join: no copy per query, none kept after the take

    def snapshots(self, timeout: float | None = None) -> Iterator[dict[str, list[KubeObject]]]:
        """Yield each new snapshot until closed (or until `timeout` passes with nothing new)."""
        while self.wait(timeout):
            snap: dict[str, list[KubeObject]] = {}
            if self.update(snap):
                yield snap

    def on_close(self, fn: Callable[[], None]) -> None:
        self._closers.append(fn)

    def close(self) -> None:
        with self._cond:
            if self._closed:
                return
            self._closed = True
            deps = self._registry.clear()
            self._cond.notify_all()
        for fn in self._closers:
            fn()
        for dep in deps:
            _stop(dep)

    # -- dependencies (see core/dependencies.py) -------------------------------------------------------------

    def depend(self, sel: Selection, *, holder: str = "default", timeout: float | None = 30.0) -> Dependency:
        """One reference for (`holder`, `sel`); an identical dependency already held by anyone is shared (one
        stream, one API watch). Blocks until its stream has bootstrapped; that first bootstrap raises no change.
        Raises a KatesError, registering nothing, when the stream fails before its bootstrap (Forbidden naming the
        resource and the verb, a kind not served, a bad selector), when `timeout` passes (Unreachable), or
        (DependencyLimit) when a new distinct dependency would pass `max_dependencies`. Thread-safe."""
        source = self.source
        if source is None:
            raise KatesError("this Accumulator cannot watch dependencies: it was not started by Client.watch")
        sel = sel.normal()
        ref = source.ref_for(sel.group, sel.resource)  # outside the lock: discovery may ask the server
        if not ref.namespaced and sel.namespace is not None:
            sel = _replace(sel, namespace=None)  # as kubectl ignores a namespace given for a cluster-scoped kind
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            if self._closed:
                raise KatesError("the watch is closed")
            dep = self._registry.get(sel)
            if dep is None:
                query = Query(DEPENDENCY_QUERY, ref.group_resource, sel.namespace, sel.label_selector)
                query = _replace(query, field_selector=sel.watch_field_selector)
                state = QueryState(query, ref.group, ref.resource, ref.api_version, ref.kind)
                state.id, state.title, state.dependency = dependency_id(sel), f"dependency {sel.describe()}", True
                state.hint = f"a dependency is watched: it needs the list and watch verbs on {ref.group_resource}"
                dep = Dependency(sel, state.id, state)
                self._registry.add(dep)  # DependencyLimit past the bound: nothing registered
                dep.stream = source.start(state, ref, _DependencyFeed(self, dep))
                self.streams = [*self.streams, dep.stream]
            dep.waiting += 1
            try:
                self._cond.wait_for(
                    lambda: dep.bootstrapped or dep.error is not None or self._closed or not self._registry.live(dep),
                    None if deadline is None else max(0.0, deadline - time.monotonic()),
                )
            finally:
                dep.waiting -= 1
            if dep.bootstrapped and self._registry.live(dep) and not self._closed:
                dep.holders.add(holder)
                return dep
            if dep.error is not None:
                raise dep.error
            if self._closed:
                raise KatesError("the watch is closed")
            if not self._registry.live(dep):  # bootstrapped and dropped at once (a fatal error): said by notice
                raise KatesError(f"the watch of {sel.describe()} ended as it started")
            if self._registry.unused(dep):
                self._forget(dep)
        raise Unreachable(f"the watch of {sel.describe()} did not start within {timeout:g}s")

    def release(self, holder: str, keep: Iterable[Selection] = ()) -> list[Selection]:
        """Drop `holder`'s references except to `keep`; stop the streams nothing references any more; return the
        selections no longer held by anyone."""
        with self._cond:
            gone = self._registry.release(holder, keep)
            for dep in gone:
                self._forget(dep)
        return [d.selection for d in gone]

    def dependencies(self) -> dict[Selection, int]:
        """The live dependencies and their reference counts (holders)."""
        with self._cond:
            return self._registry.counts()

    def find(self, sel: Selection) -> tuple[str, QueryState, dict[Key, Entry]] | None:
        """On the live state, under the lock: the first query (in query order), else the first dependency, whose
        state covers `sel` and has bootstrapped; (its state's id, the state, its current view). None: nothing
        covers it."""
        with self._cond:
            found = self._find(sel.normal())
        return None if found is None else found[:3]

    def _find(
        self, sel: Selection, exact: bool = False
    ) -> tuple[str, QueryState, dict[Key, Entry], Dependency | None] | None:
        """`find`, and the dependency found (None for a query). With `exact`, also a dependency of exactly `sel`
        that `covers` refuses (a field selector only the server evaluates: it did, for that dependency's view)."""
        for state in self.states.values():
            if state.synced and covers(state, sel):
                return state.id, state, state.view(), None
        for dep in self._registry:
            if dep.bootstrapped and ((exact and dep.selection == sel) or covers(dep.state, sel)):
                return dep.id, dep.state, dep.state.view(), dep
        return None

    def view_of(self, dep: Dependency) -> dict[Key, Entry]:
        """A dependency's current view (never mutated afterwards: a change builds a new dict)."""
        with self._cond:
            return dep.state.view()

    # -- reads from the cache (the Python face of dependencies) ----------------------------------------------

    def get(self, kind: str, name: str, namespace: str | None = None) -> KubeObject | None:
        """The object `name` of `kind` from the watched cache (a fresh copy), or None when it does not exist.
        `namespace=None` is the client's namespace for a namespaced kind. A read no query covers becomes a
        dependency of the current batch's holder (`batch`), or of "default" outside a batch: the first read waits
        for its watch to bootstrap, and its changes raise notifications from then on."""
        ref = self._source().resolve(kind)
        ns = (namespace or self._source().namespace) if ref.namespaced else None
        found = self._read(Selection(ref.group, ref.resource, ns, name))
        return deepjson.loads(found[0].raw) if found else None

    def list(
        self,
        kind: str,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> list[KubeObject]:
        """The objects of `kind` the server would list (fresh copies, by namespace and name), from the watched
        cache; `namespace=None` is all namespaces. A read no query covers becomes a dependency, as for `get`."""
        ref = self._source().resolve(kind)
        sel = Selection(ref.group, ref.resource, namespace if ref.namespaced else None, None)
        sel = _replace(sel, label_selector=label_selector, field_selector=field_selector)
        return [deepjson.loads(e.raw) for e in self._read(sel)]

    @contextlib.contextmanager
    def batch(self, holder: str = "default") -> Iterator[Accumulator]:
        """A query batch: reads (`get`, `list`) inside it hold their dependencies as `holder`. At a normal exit the
        holder's dependencies not read inside the batch are released (their streams stop when nobody else holds
        them); when the batch raises, nothing is released. Batches are per thread; one per holder at a time."""
        reads: set[Selection] = set()
        stack: list[tuple[str, set[Selection]]] = self._batch.__dict__.setdefault("stack", [])
        stack.append((holder, reads))
        try:
            yield self
        finally:
            stack.pop()
        self.release(holder, keep=reads)

    def _source(self) -> DependencySource:
        if self.source is None:
            raise KatesError("this Accumulator cannot watch dependencies: it was not started by Client.watch")
        return self.source

    def _read(self, sel: Selection) -> builtins.list[Entry]:
        """Answer `sel` from a query that covers it, else from a dependency the current holder then holds."""
        sel = sel.normal()
        stack: list[tuple[str, set[Selection]]] = self._batch.__dict__.get("stack") or []
        holder, reads = stack[-1] if stack else ("default", None)
        with self._cond:
            found = self._find(sel, exact=True)
        if found is None or found[3] is not None:  # a dependency's: this holder takes its own reference
            wanted = sel if found is None or found[3] is None else found[3].selection
            dep = self.depend(wanted, holder=holder)
            if reads is not None:
                reads.add(dep.selection)
            view = self.view_of(dep)
            if dep.selection == sel:  # its own watch: the server applied the selectors already
                sel = _replace(sel, label_selector=None, field_selector=None)
        else:
            view = found[2]
        return select(view, sel)

    def _forget(self, dep: Dependency) -> None:
        """Under the lock: take `dep` out of the registry and stop its stream."""
        self._registry.remove(dep)
        if dep.stream is not None:
            self.streams = [s for s in self.streams if s is not dep.stream]
            _stop(dep)

    # fed by a dependency's stream (through _DependencyFeed), all under the lock, ignored once it is not live

    def _dep_replace(self, dep: Dependency, entries: builtins.list[Entry], rv: str) -> None:
        with self._cond:
            if not self._registry.live(dep):
                return
            state = dep.state
            if dep.bootstrapped:
                self._changed(state.replace(entries, rv))
                return
            state.replace(entries, rv)  # the first bootstrap counts as delivered: no change, no delta, no run
            state.delivered = {k: (e.rv, e.uid) for k, e in state.view().items()}
            dep.bootstrapped = True
            self._cond.notify_all()

    def _dep_event(self, dep: Dependency, event_type: str, entry: Entry) -> None:
        with self._cond:
            if self._registry.live(dep):
                changed = dep.state.apply(event_type, entry)
                self._changed(changed and dep.bootstrapped)

    def _dep_events(self, dep: Dependency, batch: builtins.list[tuple[str, Entry]]) -> None:
        with self._cond:
            if self._registry.live(dep):
                apply = dep.state.apply
                changed = [apply(event_type, entry) for event_type, entry in batch]
                self._changed_many(changed if dep.bootstrapped else [])

    def _dep_bookmark(self, dep: Dependency, rv: str) -> None:
        with self._cond:
            if self._registry.live(dep):
                changed = dep.state.bookmark(rv)
                self._changed(changed and dep.bootstrapped)

    def _dep_fail(self, dep: Dependency, error: KatesError) -> None:
        """Before its bootstrap: the callers of `depend` get the error. After: said once, and the dependency is
        dropped for every holder (a later read registers it again, and fails clearly then); the watch goes on."""
        with self._cond:
            if not self._registry.live(dep):
                return
            self._forget(dep)
            if not dep.bootstrapped:
                dep.error = error
                self._cond.notify_all()
                return
            dropped = dep.state.take_changes()  # what it saw before it failed (a deleted kind: its objects gone)
            self._dropped += dropped
            self._changed(bool(dropped))
        source = self.source
        if source is not None and source.notice is not None:
            source.notice(f"kates: dependency {dep.selection.describe()} dropped: {error.message}")

    def __enter__(self) -> Accumulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed


_RENAME = 'give the query another NAME= (changes of dependencies are named "dependency" in deltas)'


class NamespaceFeed:
    """The sink of one namespace's stream of a query over several: the accumulator, told the namespace."""

    def __init__(self, acc: Accumulator, namespace: str):
        self.acc, self.namespace = acc, namespace

    def replace(self, query: str, entries: list[Entry], rv: str) -> None:
        self.acc.replace(query, entries, rv, self.namespace)

    def event(self, query: str, event_type: str, entry: Entry) -> None:
        self.acc.event(query, event_type, entry)

    def event_batch(self, query: str, batch: list[tuple[str, Entry]]) -> None:
        self.acc.event_batch(query, batch)

    def bookmark(self, query: str, rv: str) -> None:
        self.acc.bookmark(query, rv, self.namespace)

    def fail(self, error: KatesError) -> None:
        self.acc.fail(error)


class _DependencyFeed:
    """The sink a dependency's stream delivers to: the accumulator, told which Dependency it feeds, so that a
    stream stopped a moment ago can never feed a dependency registered again since for the same selection."""

    def __init__(self, acc: Accumulator, dep: Dependency):
        self.acc, self.dep = acc, dep

    def replace(self, query: str, entries: list[Entry], rv: str) -> None:
        self.acc._dep_replace(self.dep, entries, rv)

    def event(self, query: str, event_type: str, entry: Entry) -> None:
        self.acc._dep_event(self.dep, event_type, entry)

    def event_batch(self, query: str, batch: list[tuple[str, Entry]]) -> None:
        self.acc._dep_events(self.dep, batch)

    def bookmark(self, query: str, rv: str) -> None:
        self.acc._dep_bookmark(self.dep, rv)

    def fail(self, error: KatesError) -> None:
        self.acc._dep_fail(self.dep, error)


def _stop(dep: Dependency) -> None:
    if dep.stream is not None:
        dep.stream.stop()
