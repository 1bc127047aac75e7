"""The watcher's side of reads inside a hook: which run's view answers the socket's reads, the run's own writes, and
(issue 13, section 2) the dependencies the runs read.

Invariants:
- While a run lasts, its RunView (core/readview.py, taken right after the run's take) answers every read of the
  watched cluster; between runs no view does, and a read is answered `live` (the client asks the API server: a
  background process left by an earlier run has no snapshot to read).
- Every write report goes to the accumulator first, then to the current run's view: when the writer's command
  returns, both its next snapshot and its own later reads hold the write.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..core.coherence import NotServed

if TYPE_CHECKING:
    from ..core.accumulator import Accumulator
    from ..core.readview import RunView
    from ..core.selection import Selection

NO_RUN = "no hook run is in progress"


class RunReads:
    """The socket's `record` and `reader` for one watch (see the module's invariants)."""

    def __init__(self, acc: Accumulator) -> None:
        self.acc = acc
        self._lock = threading.Lock()
        self._view: RunView | None = None

    def begin(self, view: RunView) -> None:
        with self._lock:
            self._view = view

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
            raise NotServed("no query of the watch covers it")
        return [entry.raw for entry in answer.entries]
