"""What a read asks for (`Selection`), which watched view can answer it (`covers`), and the answer (`select`).

A read inside a hook, and a read from a Python reconciler's Accumulator, is answered from a watched view only when
that view is known to hold *every* object the server would return for it. These are the rules, and the only place
they are written.

Invariants:
- A Selection names one resource (group, resource), a namespace (None: all namespaces, or a cluster-scoped kind),
  and either one object by name or a list narrowed by label and field selectors. `normal()` is the one spelling of
  each distinct read: a list whose field selector is exactly `metadata.name=N` (or `==`) and has no label selector
  is the read of N by name, so both share one dependency.
- `covers(state, sel)` is True only when the state's query is implied by the selection: same group and resource;
  the query watches all namespaces or the selection's namespace among its own (a query over namespaces {a, b}
  covers a read in a or in b, never one across all namespaces); its label selector is empty or equal to the
  selection's (as written); its field selector is empty, equal to the selection's, or `metadata.name=N` for a read
  of N by name. A selection's own field selector must be one the watched view can evaluate exactly: terms on
  `metadata.name` and `metadata.namespace` only (other fields are the server's to interpret, and to refuse).
- `select(view, sel)` returns the view's entries that the server would return for the selection, ordered by
  (namespace, name) as the server orders a list. It never widens: an entry outside the selection is never returned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from .records import record
from .selectors import FieldSelector, LabelSelector

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from .accumulator import Entry, Key, QueryState

__all__ = ["Selection", "covers", "select"]

_BY_NAME = re.compile(r"^\s*metadata\.name\s*==?\s*([^,=!\s][^,]*?)\s*$")
_LOCAL_FIELDS = ("metadata.name", "metadata.namespace")


@record(frozen=True)
class Selection:
    """One read: `name` set for one object, else a list. `namespace=None` is all namespaces (or cluster scope)."""

    group: str
    resource: str
    namespace: str | None = None
    name: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None

    def normal(self) -> Selection:
        """The one spelling of this read (empty selectors are None; `metadata.name=N` alone is a read by name)."""
        labels = self.label_selector or None
        fields = self.field_selector or None
        name = self.name
        if name is None and labels is None and fields is not None:
            m = _BY_NAME.match(fields)
            if m:
                name, fields = m.group(1), None
        return replace(self, name=name, label_selector=labels, field_selector=fields)

    @property
    def watch_field_selector(self) -> str | None:
        """The field selector a watch of exactly this selection sends (a name becomes `metadata.name=N`)."""
        if self.name is None:
            return self.field_selector
        by_name = f"metadata.name={self.name}"
        return f"{by_name},{self.field_selector}" if self.field_selector else by_name

    def describe(self) -> str:
        """For messages: `secrets app/db`, `secrets in app (l=tier=db)`, `nodes`."""
        if self.name is not None:
            where = f"{self.namespace}/{self.name}" if self.namespace else self.name
            what = f"{self.resource}{'.' + self.group if self.group else ''} {where}"
        else:
            what = f"{self.resource}{'.' + self.group if self.group else ''}"
            what += f" in {self.namespace}" if self.namespace else ""
        narrowed = [f"l={self.label_selector}"] if self.label_selector else []
        narrowed += [f"f={self.field_selector}"] if self.field_selector else []
        return what + (f" ({' '.join(narrowed)})" if narrowed else "")


def _local_fields(fields: str | None) -> bool:
    """Whether a field selector can be evaluated exactly on a watched view (metadata.name/namespace terms only)."""
    if not fields:
        return True
    return all(req.key in _LOCAL_FIELDS for req in FieldSelector(fields).reqs)


def covers(state: QueryState, sel: Selection) -> bool:
    """Whether `state`'s view holds every object the server would return for `sel` (see the module's rules)."""
    if (state.group, state.resource) != (sel.group, sel.resource) or not state.resource:
        return False
    query = state.query
    if state.namespaces is not None and sel.namespace not in state.namespaces:
        return False  # a query over namespaces {a, b} covers reads in a or in b, not across all of them
    if (query.label_selector or None) not in (None, sel.label_selector or None):
        return False
    watched_fields = query.field_selector or None
    if watched_fields is not None and watched_fields != (sel.field_selector or None):
        m = _BY_NAME.match(watched_fields)
        if not (m and sel.name is not None and m.group(1) == sel.name):
            return False
    return _local_fields(sel.field_selector)


def select(view: Mapping[Key, Entry], sel: Selection) -> list[Entry]:
    """The entries of `view` the server would return for `sel`, ordered by (namespace, name)."""
    if sel.name is not None:
        keys = (
            [(sel.namespace, sel.name)]
            if sel.namespace is not None
            else sorted(k for k in view if k[1] == sel.name)  # all namespaces: kubectl refuses, a library may ask
        )
    elif sel.namespace is not None:
        keys = sorted(k for k in view if k[0] == sel.namespace)
    else:
        keys = sorted(view)
    labels = LabelSelector(sel.label_selector) if sel.label_selector else None
    fields = FieldSelector(sel.field_selector) if sel.field_selector else None
    out = []
    for key in keys:
        entry = view.get(key)
        if entry is None:
            continue
        if labels is not None and not labels.matches((entry.obj.get("metadata") or {}).get("labels")):
            continue
        if fields is not None and not fields.matches(entry.obj):
            continue
        out.append(entry)
    return out
