"""The watcher's side of reads inside a hook: which run's view answers the socket's reads, the run's own writes, and
(issue 13, section 2) the dependencies the runs read.

Invariants:
- While a run lasts, its RunView (core/readview.py, taken right after the run's take) answers every read of the
  watched cluster; between runs no view does, and a read is answered `live` (the client asks the API server: a
  background process left by an earlier run has no snapshot to read).
- Every write report goes to the accumulator first, then to the current run's view: when the writer's command
  returns, both its next snapshot and its own later reads hold the write.
- A read the run's view does not answer becomes a dependency held by HOLDER (`Accumulator.depend`): answered from
  its first list, and frozen in the run's view from then on. A dependency that cannot be watched (forbidden, a
  kind not served, past --max-dependencies) fails the read with its error, and nothing is registered.
- Query-batch semantics: a run's reads are its batch. After a successful run, the dependencies it did not read are
  released (`finish(ok=True)`); a failed or fenced run releases nothing. `dependency.added` and
  `dependency.released` are emitted once per dependency the hook starts or stops holding.
"""

from __future__ import annotations

import threading

from ..core.coherence import NotServed

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import Any

    from ..core.accumulator import Accumulator
    from ..core.readview import Answer, RunView
    from ..core.selection import Selection
    from .events import Events

NO_RUN = "no hook run is in progress"
HOLDER = "hook"  # the holder of every dependency a hook's reads register
DEPEND_TIMEOUT = 30.0  # a dependency's first list; the client waits longer (coherence.READ_TIMEOUT)


class RunReads:
    """The socket's `record` and `reader` for one watch (see the module's invariants)."""

    def __init__(self, acc: Accumulator, events: Events | None = None) -> None:
        self.acc = acc
        self.events = events
        self._lock = threading.Lock()
        self._depending = threading.Lock()  # one registration at a time: `dependency.added` is told once
        self._view: RunView | None = None
        self._run: int | None = None

    def view(self) -> RunView:
        """A RunView of the take just made (`acc.taken_views`), with the registry's selections."""
        from ..core.dependencies import dependency_id
        from ..core.readview import RunView

        return RunView(self.acc.taken_views, {dependency_id(sel): sel for sel in self.acc.dependencies()})

    def begin(self, view: RunView, run: int | None = None) -> None:
        with self._lock:
            self._view, self._run = view, run

    def finish(self, view: RunView, ok: bool) -> None:
        """After a run: a successful one releases the dependencies it did not read; any other releases nothing."""
        if not ok:
            return
        with self._depending:
            for sel in self.acc.release(HOLDER, keep=view.read_selections()):
                self._emit(
                    "dependency.released", f"no longer watching {sel.describe()}: the last run did not read it", sel
                )

    def end(self) -> RunView | None:
        """The run is over: no more reads from its view (returned, with what it read)."""
        with self._lock:
            view, self._view = self._view, None
        return view

    def record(self, verb: str, group: str, resource: str, obj: dict[str, Any]) -> None:
        self.acc.record_write(verb, group, resource, obj)
        with self._lock:
            view = self._view
        if view is not None:
            view.record_write(verb, group, resource, obj)

    def read(self, sel: Selection) -> list[bytes]:
        with self._lock:
            view = self._view
        if view is None:
            raise NotServed(NO_RUN)
        answer = view.answer(sel)
        if answer is None:
            answer = self._depend(view, sel)
        return [entry.raw for entry in answer.entries]

    def _depend(self, view: RunView, sel: Selection) -> Answer:
        """Register `sel` as a dependency of the hook and answer from its first list (the module's invariants)."""
        with self._depending:
            held = self.acc.dependencies()
            dep = self.acc.depend(sel, holder=HOLDER, timeout=DEPEND_TIMEOUT)  # its KatesError fails the read
            view.add(dep.id, dep.state, self.acc.view_of(dep), dep.selection)
            if dep.selection not in held:
                run = f" (run {self._run})" if self._run is not None else ""
                self._emit(
                    "dependency.added", f"watching {dep.selection.describe()}: read by the hook{run}", dep.selection
                )
        answer = view.answer(sel)
        if answer is None:  # the dependency's own selection always answers; never a silent wrong answer
            raise NotServed(f"the dependency on {sel.describe()} did not answer the read")
        return answer

    def _emit(self, name: str, message: str, sel: Selection) -> None:
        if self.events is not None:
            self.events.emit(name, message, dependency=sel.describe(), count=len(self.acc.dependencies()))
