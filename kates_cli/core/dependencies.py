"""Dependencies: objects watched because a reader read them, not because a query asked for them.

The model is stolostron's kubernetes-dependency-watches: a reader (a *holder*: the hook's runs, a Python
reconciler's batch) reads through the watch; a read that no query covers becomes a dependency, watched by its own
stream; identical dependencies share one stream; a holder releases, at the end of its batch, what it no longer reads,
and a stream nothing references any more stops.

Invariants:
- A dependency is identified by its `Selection.normal()`: the one spelling of a read. Two identical reads (by any
  holders) share one Dependency, one QueryState and one stream, so one API watch.
- References are per holder: a holder holds a dependency at most once (`depend` twice is still one reference), and
  a dependency's reference count is the number of holders holding it. It lives while it has a holder, or a caller
  still waiting for its bootstrap; the moment it has neither, it leaves the registry and its stream is stopped.
- `max_dependencies` bounds the distinct dependencies the registry holds (bootstrapped or starting): a new one past
  the bound is refused with DependencyLimit, and nothing is registered; an already held one is always shared.
- A dependency is registered before its stream bootstraps (so that concurrent identical reads wait for the one
  stream) but is *live* (readable, counted by `dependencies()`, covering reads in `find`) only after its bootstrap.
  A dependency whose stream fails before its bootstrap leaves the registry, and every caller waiting for it gets the
  error; nothing of it stays.
- This module keeps the books only (no lock of its own, no I/O): the Accumulator calls it under its lock, and
  starts and stops the streams it names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import field

from ..errors import KatesError
from .records import record
from .selection import Selection

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import Any, Protocol

    from .accumulator import Entry, QueryState
    from .mapping import Discovery, ResourceRef
else:
    Protocol = object  # the protocols below are the type checker's; at run time they are plain classes

__all__ = ["Dependency", "DependencyLimit", "DependencySource", "Registry", "resource_ref"]

DEPENDENCY_QUERY = "dependency"  # the query name dependency changes carry in deltas; reserved for them


class DependencyLimit(KatesError):
    """A new distinct dependency would pass the bound (`--max-dependencies`, `Accumulator.max_dependencies`)."""


class DependencyStream(Protocol):
    """What the registry needs of a running stream (watch.Stream is one)."""

    def stop(self) -> None: ...


class DependencySink(Protocol):
    """Where a dependency's stream delivers (watch.Sink's shape, keyed by the state's id)."""

    def replace(self, query: str, entries: list[Entry], rv: str) -> None: ...
    def event(self, query: str, event_type: str, entry: Entry) -> None: ...
    def bookmark(self, query: str, rv: str) -> None: ...
    def fail(self, error: KatesError) -> None: ...


@record
class DependencySource:
    """What an Accumulator needs to start dependencies at run time; `Client.watch` gives one.

    `resolve(kind)` resolves a kind string as `get` does; `ref_for(group, resource)` the ref of a resource named by
    group and plural; `start(state, ref, sink)` starts a stream for the state (its bootstrap included) and returns
    it at once (it is called under the accumulator's lock: no I/O); `notice(line)` says something once (a
    dependency dropped after a fatal error); `namespace` is the client's namespace (a `get` without one reads
    there)."""

    resolve: Callable[[str], ResourceRef]
    ref_for: Callable[[str, str], ResourceRef]
    start: Callable[[QueryState, ResourceRef, DependencySink], DependencyStream]
    notice: Callable[[str], None] | None = None
    namespace: str = "default"


def resource_ref(discovery: Discovery, group: str, resource: str) -> ResourceRef:
    """The preferred version of (group, resource) in discovery, refetching once on a miss (a CRD created a moment
    ago); ResourceTypeNotFound naming `resource.group` when the server does not serve it."""
    for attempt in (0, 1):
        refs = discovery.refs() if attempt == 0 else discovery.refresh()
        for ref in refs:
            if ref.group == group and ref.resource == resource:
                return ref
    shown = f"{resource}.{group}" if group else resource
    from .mapping import type_not_found

    raise type_not_found(shown)


@record(eq=False)
class Dependency:
    """One watched selection. `id` keys its state in the accumulator (`taken_views`, deltas' bookkeeping); its
    state's query is named "dependency"."""

    selection: Selection
    id: str
    state: QueryState
    holders: set[str] = field(default_factory=set)
    waiting: int = 0  # callers of `depend` blocked until its bootstrap
    bootstrapped: bool = False
    error: KatesError | None = None  # its stream failed before its bootstrap
    stream: Any = None  # the DependencyStream, once started

    @property
    def references(self) -> int:
        return len(self.holders)


def dependency_id(sel: Selection) -> str:
    return f"{DEPENDENCY_QUERY}:{sel.describe()}"


class Registry:
    """The dependencies of one accumulator and who holds them. Not locked: the Accumulator serialises every call."""

    def __init__(self, max_dependencies: int | None = None) -> None:
        self.max_dependencies = max_dependencies
        self._deps: dict[Selection, Dependency] = {}  # insertion order: the order `find` tries them in

    def __iter__(self) -> Iterator[Dependency]:
        return iter(list(self._deps.values()))

    def __len__(self) -> int:
        return len(self._deps)

    def get(self, sel: Selection) -> Dependency | None:
        return self._deps.get(sel)

    def live(self, dep: Dependency) -> bool:
        """Whether `dep` is the registered dependency for its selection (not one dropped or released since)."""
        return self._deps.get(dep.selection) is dep

    def add(self, dep: Dependency) -> None:
        """Register a new distinct dependency; DependencyLimit past the bound (nothing registered then)."""
        bound = self.max_dependencies
        if bound is not None and len(self._deps) >= bound:
            raise DependencyLimit(
                f"cannot watch {dep.selection.describe()}: the bound of {bound} "
                f"{'dependency' if bound == 1 else 'dependencies'} is reached",
                hint="raise --max-dependencies, or read fewer distinct objects per run",
            )
        self._deps[dep.selection] = dep

    def remove(self, dep: Dependency) -> bool:
        """Take `dep` out of the registry (True if it was in)."""
        if self.live(dep):
            del self._deps[dep.selection]
            return True
        return False

    def unused(self, dep: Dependency) -> bool:
        return not dep.holders and dep.waiting == 0

    def release(self, holder: str, keep: Iterable[Selection] = ()) -> list[Dependency]:
        """Drop `holder`'s references except to `keep`; remove and return the dependencies nothing holds any more
        (their streams are the caller's to stop)."""
        kept = {sel.normal() for sel in keep}
        gone: list[Dependency] = []
        for dep in list(self._deps.values()):
            if holder in dep.holders and dep.selection not in kept:
                dep.holders.discard(holder)
                if self.unused(dep):
                    self.remove(dep)
                    gone.append(dep)
        return gone

    def counts(self) -> dict[Selection, int]:
        """Live (bootstrapped) dependencies and their reference counts."""
        return {d.selection: d.references for d in self._deps.values() if d.bootstrapped and d.holders}

    def held_by(self, holder: str) -> list[Selection]:
        return [d.selection for d in self._deps.values() if holder in d.holders]

    def clear(self) -> list[Dependency]:
        deps = list(self._deps.values())
        self._deps.clear()
        return deps
