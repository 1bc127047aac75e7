"""What a read inside a hook run sees: the snapshot the run received on stdin, plus the run's own writes.

This is snapshot isolation for a hook run, plus read-your-writes. `kates watch` takes one `RunView` per run, right
after the take whose snapshot the run gets (`Accumulator.taken_views`); the watcher's socket answers the run's reads
from it (core/coherence.py).

Invariants:
- A RunView never sees the watch move on: each view it holds is the dict the take saw (the accumulator never
  mutates a view dict once built), and dependencies added during the run (`add`) are frozen as they were then.
- The run's own writes (each write report that arrives while the run lasts) overlay every view of the written
  resource whose namespace holds the object, by the accumulator's scope rules: an upsert inside the view's scope
  replaces the object; a delete, or a write that moves the object out of the scope, masks it; a create outside the
  scope changes nothing. Of two writes to one object the newer resourceVersion wins (reports from several
  processes may arrive out of order), and a write never replaces a newer object of the snapshot.
- `answer(sel)` is answered by the first view that covers the read (`selection.covers`; queries in query order,
  then dependencies), or else by the dependency of exactly that selection (a field selector the server evaluates);
  the answer is `selection.select` of it. Each object's bytes are exactly those of the stdin snapshot (`Entry.raw`,
  canonical JSON), or the canonical bytes of the write's answer; a projected query's (`jq=`) stdin held the
  filter's results, and its reads answer the whole objects they were taken from. None when nothing answers: the
  read is the watcher's to register as a dependency (or to send to the API server).
- The dependencies the run read (answers from them, and those `add`ed) are its batch: `read_selections()` is what
  a successful run keeps; every other dependency is released after it.
- Thread-safe: the socket answers each connection on its own thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from .accumulator import Entry, Key, KubeObject, QueryState, key_of, make_entry
from .records import record
from .selection import Selection, covers, select
from .selectors import compare_rv

__all__ = ["DEPENDENCY", "Answer", "RunView", "selection_of"]

DEPENDENCY = "dependency"  # the query name of every dependency state (reserved for queries)


def selection_of(state: QueryState) -> Selection:
    """The read a dependency state watches, rebuilt from its query (a name became `metadata.name=N`); the watcher
    passes the registry's own selections to RunView, this is the fallback."""
    q = state.query
    return Selection(state.group, state.resource, q.namespace, None, q.label_selector, q.field_selector).normal()


@record(frozen=True)
class Answer:
    """The entries that answer a read, and the id of the view that answered (a query's name, or a dependency's)."""

    source: str
    entries: list[Entry]
    dependency: bool


class RunView:
    """One hook run's views (see the module's invariants)."""

    def __init__(
        self,
        views: Mapping[str, tuple[QueryState, Mapping[Key, Entry]]],
        selections: Mapping[str, Selection] | None = None,
    ) -> None:
        """`views` as `Accumulator.taken_views`; `selections`: each dependency's selection by its state's id."""
        self._lock = threading.Lock()
        self._views: dict[str, tuple[QueryState, Mapping[Key, Entry]]] = dict(views)
        self._selections = {
            vid: (selections or {}).get(vid) or selection_of(state)
            for vid, (state, _) in self._views.items()
            if self._is_dependency(state)
        }
        self._writes: dict[str, dict[Key, tuple[str, Entry | None]]] = {}
        self._read: dict[str, Selection] = {}

    @staticmethod
    def _is_dependency(state: QueryState) -> bool:
        return bool(getattr(state, "dependency", False)) or state.query.name == DEPENDENCY

    def add(
        self, view_id: str, state: QueryState, view: Mapping[Key, Entry], selection: Selection | None = None
    ) -> None:
        """A dependency registered during the run: from now on it answers this run's reads, frozen as `view` is.
        It counts as read by the run."""
        with self._lock:
            self._views.setdefault(view_id, (state, dict(view)))
            if self._is_dependency(state):
                self._selections.setdefault(view_id, selection or selection_of(state))
                self._read[view_id] = self._selections[view_id]

    def answer(self, sel: Selection) -> Answer | None:
        """The objects the run sees for `sel` (snapshot plus own writes), or None when no view answers it."""
        sel = sel.normal()
        with self._lock:
            found = next((vid for vid, (state, _) in self._views.items() if covers(state, sel)), None)
            if found is None:
                found = next(
                    (vid for vid, (state, _) in self._views.items() if self._selections.get(vid) == sel),
                    None,
                )
            if found is None:
                return None
            state, view = self._views[found]
            writes = self._writes.get(found)
            if writes:
                merged = dict(view)
                for key, (_, entry) in writes.items():
                    if entry is None:
                        merged.pop(key, None)
                    else:
                        merged[key] = entry
                view = merged
            dependency = self._is_dependency(state)
            if dependency:
                self._read[found] = self._selections[found]
            return Answer(found, select(view, sel), dependency)

    def record_write(self, verb: str, group: str, resource: str, obj: KubeObject) -> None:
        """One of the run's own writes (a write report): overlay it where it belongs (the module's rules)."""
        key = key_of(obj)
        meta = obj.get("metadata") or {}
        rv = str(meta.get("resourceVersion") or "")
        with self._lock:
            for vid, (state, view) in self._views.items():
                if (state.group, state.resource) != (group, resource) or not state.in_namespace(obj):
                    continue
                writes = self._writes.setdefault(vid, {})
                pending = writes.get(key)
                if pending is not None and compare_rv(pending[0], rv) == 1:
                    continue  # a newer write to this object already arrived
                shown = view.get(key)
                if shown is not None and compare_rv(shown.rv, rv) == 1:
                    continue  # the snapshot already holds a newer version
                if verb == "delete" or not state.in_scope(obj):
                    if verb == "create" and key not in view and pending is None:
                        continue  # created outside the scope: nothing to move out
                    writes[key] = (rv, None)
                else:
                    writes[key] = (rv, make_entry(obj))

    def read_selections(self) -> list[Selection]:
        """The dependencies this run read (what a successful run keeps)."""
        with self._lock:
            return list(self._read.values())

    def read_ids(self) -> list[str]:
        with self._lock:
            return list(self._read)
