"""The Accumulator: several watch streams merged into one coherent, coalesced snapshot.

Invariants (the promises of the Go kates, without its defects):
- Bootstrap barrier: nothing is delivered until every query has finished its initial list; an empty list counts.
- Coalescing: at most one notification is pending. `update()` always fills in the newest state; a slow consumer
  never sees a backlog. A relist or resync that changes nothing visible raises no notification.
- Deterministic bytes: each query's objects are ordered by (namespace, name), and each object's bytes are its
  canonical encoding (`canonical_json`: sorted keys, Go's escaping) whichever path delivered it, so equal states
  serialise to equal bytes. Each object's JSON bytes are kept beside it and a query's bytes are rebuilt only when
  it changed.
- Read/write coherence: a write made through the client is overlaid on the query views it belongs to (same
  resource, namespace, label and field selectors) until the *watch* has delivered that resourceVersion or a newer
  one: an overlay is retired by the stream's progress, never by its own presence, so a late or replayed watch event
  cannot roll it back. Deletes mask by namespace/name and by UID. Overlays are per query and per accumulator.
- Writes outside every query's scope are not recorded; a write that moves an object out of a query's scope masks it
  there. Memory stays bounded: every overlay entry is retired once the stream's progress passes it.
- resourceVersions are compared only under KEP-5504 rules (selectors.compare_rv); an incomparable version never
  wins a comparison, and its overlay retires when the watch delivers that exact version.
- Accounting, for metrics (read, never acted on): `generation` counts visible changes; each take of the changes
  records `taken_generation` (the generation it took) and `taken_since` (the monotonic time the oldest change it
  took reached the accumulator, None when it took none); `sizes()` gives each query's objects, the bytes of its
  part of the last JSON snapshot, and its pending overlay entries.
- Every take of the changes (snapshot_changes, update_with_deltas, filtered_update) also sets `taken_views`: each
  query's (state, view) at that take, in query order. A view dict is never mutated once built (QueryState.view()
  builds a new one whenever anything may have changed), so a taken view stays exactly what that take saw.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from ..errors import KatesError, UsageError
from . import deepjson
from .deltas import Change, Delta, Version, deltas_of, diff
from .selectors import FieldSelector, LabelSelector, parse_rv

__all__ = ["Accumulator", "Change", "Delta", "Entry", "KubeObject", "Query", "QueryState", "make_entry"]

KubeObject = dict[str, Any]
Key = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class Query:
    """One thing to watch. `namespace=None` means all namespaces; `kind` is resolved as `get` resolves it."""

    name: str
    kind: str
    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None


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


@dataclass
class Overlay:
    """A local write not yet confirmed by the watch: an object (upsert) or None (a delete mask)."""

    entry: Entry | None
    rv: str
    uid: str


def key_of(obj: KubeObject) -> Key:
    meta = obj.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


_GO_ESCAPES = (
    (b"<", b"\\u003c"),
    (b">", b"\\u003e"),
    (b"&", b"\\u0026"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def canonical_json(obj: KubeObject) -> bytes:
    """The one encoding of an object's bytes, whatever path it came by (a watch event, a list page, a write's
    answer, a hook's report): keys sorted at every level, as kubectl -o json prints them, and `<`, `>`, `&`, U+2028
    and U+2029 escaped as Go's encoding/json escapes them (the API server's own bytes). Equal objects, equal bytes."""
    raw = deepjson.dumps(obj, sort_keys=True)
    for char, escaped in _GO_ESCAPES:
        if char in raw:  # only inside strings: none of these is JSON syntax
            raw = raw.replace(char, escaped)
    return raw


def make_entry(obj: KubeObject) -> Entry:
    """An Entry for `obj`, its bytes canonical (`canonical_json`). The dict itself is not kept."""
    meta = obj.get("metadata") or {}
    return Entry(
        canonical_json(obj),
        str(meta.get("resourceVersion") or ""),
        (str(meta.get("namespace") or ""), str(meta.get("name") or "")),
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
        self.delivered: dict[Key, Version] = {}
        self.snapshot_bytes = 0  # the length of this query's part of the last JSON snapshot taken
        self._bytes: bytes | None = None
        self._view: dict[Key, Entry] | None = None  # cached view; dropped whenever anything visible may change
        self._retired = False  # set by _advance: retiring an overlay changed the view

    # -- scope -----------------------------------------------------------------------------------------------

    def in_scope(self, obj: KubeObject) -> bool:
        meta = obj.get("metadata") or {}
        if self.query.namespace is not None and (meta.get("namespace") or "") != self.query.namespace:
            return False
        return self.labels.matches(meta.get("labels")) and self.fields.matches(obj)

    def in_namespace(self, obj: KubeObject) -> bool:
        ns = (obj.get("metadata") or {}).get("namespace") or ""
        return self.query.namespace is None or ns == self.query.namespace

    # -- the watch side (each returns whether the visible view may have changed) ------------------------------

    def replace(self, entries: list[Entry], rv: str) -> bool:
        """An initial list or a relist: the authoritative state at `rv`."""
        before = self._signature()
        self.watched = {e.key: e for e in entries}
        self._advance(rv)
        self.synced = True
        return self._signature() != before

    def apply(self, event_type: str, entry: Entry) -> bool:
        key = entry.key
        current = self.watched.get(key)
        if (current is not None and _newer(current.rv, entry.rv)) or _newer(self.progress, entry.rv):
            return False  # a replay of an older version (even of a since-deleted object): never roll back
        before = self._visible(key)
        if event_type == "DELETED":
            self.watched.pop(key, None)
        else:
            self.watched[key] = entry
        self._advance(entry.rv)
        return self._visible(key) != before or self._retired

    def bookmark(self, rv: str) -> bool:
        self._advance(rv)
        return self._retired

    def _advance(self, rv: str) -> None:
        if rv and (not self.progress or _newer(rv, self.progress)):
            self.progress = rv
        self._retired = False
        for key in [k for k, o in self.overlay.items() if self._confirmed(k, o)]:
            before = self._visible(key)
            del self.overlay[key]
            self._retired = self._retired or self._visible(key) != before
        self._bytes = self._view = None

    def _confirmed(self, key: Key, o: Overlay) -> bool:
        if o.rv and parse_rv(o.rv) is not None and _at_least(self.progress, o.rv):
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
        if rv and parse_rv(rv) is not None and _at_least(self.progress, rv):
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
        self._bytes = self._view = None
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

    def objects(self) -> list[KubeObject]:
        view = self.view()
        return [view[k].obj for k in sorted(view)]

    def json_bytes(self) -> bytes:
        if self._bytes is None:
            view = self.view()
            self._bytes = b"[" + b",".join(view[k].raw for k in sorted(view)) + b"]"
        return self._bytes

    def take_changes(self) -> list[Change]:
        """The changes since the consumer's last take; afterwards the current view counts as delivered."""
        now = {k: (e.rv, e.uid) for k, e in self.view().items()}
        changes = diff(self.query.name, self.api_version, self.kind, self.delivered, now)
        self.delivered = now
        return changes

    def take_deltas(self) -> list[Delta]:
        return deltas_of(self.take_changes())


class Accumulator:
    """Thread-safe merge of several QueryStates, fed by watch streams and by the client's writes."""

    def __init__(self, states: list[QueryState]):
        names = [s.query.name for s in states]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise UsageError(f"duplicate query name: {', '.join(dupes)}", hint="give each query its own NAME=")
        self.states = {s.query.name: s for s in states}
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
        self.streams: list[Any] = []  # the watch streams feeding this accumulator (for diagnosis and tests)
        self.taken_views: dict[str, tuple[QueryState, dict[Key, Entry]]] = {}  # what the last take saw

    # -- fed by streams (all under the lock) -----------------------------------------------------------------

    def _changed(self, changed: bool) -> None:
        if changed:
            if self._since is None:
                self._since = time.monotonic()
            self._pending = True
            self.generation += 1  # counts visible changes: lets a consumer wait for quiet (debounce)
            self._cond.notify_all()

    def replace(self, query: str, entries: list[Entry], rv: str) -> None:
        with self._cond:
            was_synced = self.synced_locked()
            changed = self.states[query].replace(entries, rv)
            self._changed(changed or (not was_synced and self.synced_locked()))

    def event(self, query: str, event_type: str, entry: Entry) -> None:
        with self._cond:
            self._changed(self.states[query].apply(event_type, entry))

    def bookmark(self, query: str, rv: str) -> None:
        with self._cond:
            self._changed(self.states[query].bookmark(rv))

    def fail(self, error: KatesError) -> None:
        with self._cond:
            if self.error is None:
                self.error = error
            self._cond.notify_all()

    def record_write(self, verb: str, group: str, resource: str, obj: KubeObject) -> None:
        """A write made through a client (or reported by a hook's kates): overlay it where it belongs."""
        with self._cond:
            changed = False
            for state in self.states.values():
                if state.group == group and state.resource == resource:
                    changed = state.record_write(verb, obj) or changed
            self._changed(changed)

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
        self._pending = False
        self.taken_generation, self.taken_since, self._since = self.generation, self._since, None
        changes = [c for s in self.states.values() for c in s.take_changes()]
        self.taken_views = {name: (s, s.view()) for name, s in self.states.items()}
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
        with self._cond:
            changed, _ = self._take()
            if not changed:
                return False
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
                return False
            snapshot.clear()
            snapshot.update(filtered)
            return True

    def snapshot_json(self) -> tuple[bool, bytes, list[Delta]]:
        """The fast path for hooks: (changed, the snapshot as JSON bytes, deltas). Bytes are joined, not re-encoded."""
        changed, data, changes = self.snapshot_changes()
        return changed, data, deltas_of(changes)

    def snapshot_changes(self) -> tuple[bool, bytes, list[Change]]:
        """As snapshot_json, with each object's versions before and after (for `deltas.NetChanges`)."""
        with self._cond:
            changed, changes = self._take()
            parts = []
            for name, state in self.states.items():
                part = state.json_bytes()
                state.snapshot_bytes = len(part)
                parts.append(orjson.dumps(name) + b":" + part)
            return changed, b"{" + b",".join(parts) + b"}", changes

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
            self._cond.notify_all()
        for fn in self._closers:
            fn()

    def __enter__(self) -> Accumulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed
