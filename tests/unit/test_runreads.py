"""cli/runreads.py: which run's view answers the socket's reads, reads that become dependencies, and query-batch
release (pure logic, over a fake accumulator)."""

from __future__ import annotations

from typing import Any

import pytest

from kates_cli.cli.runreads import HOLDER, NO_RUN, RunReads
from kates_cli.core.accumulator import Query, QueryState, make_entry
from kates_cli.core.coherence import NotServed
from kates_cli.core.dependencies import Dependency, DependencyLimit
from kates_cli.core.readview import RunView
from kates_cli.core.selection import Selection

DB = Selection("", "secrets", "app", name="db")


def secret(name: str, rv: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": "app", "name": name, "resourceVersion": rv}}


class FakeAcc:
    """What RunReads asks of an Accumulator."""

    def __init__(self) -> None:
        self.held: dict[Selection, int] = {}
        self.depended: list[tuple[Selection, str]] = []
        self.released: list[tuple[str, list[Selection]]] = []
        self.writes: list[tuple[str, str, str, dict[str, Any]]] = []
        self.refuse: Exception | None = None
        self.taken_views: dict[str, Any] = {}

    def depend(self, sel: Selection, *, holder: str, timeout: float | None) -> Dependency:
        if self.refuse is not None:
            raise self.refuse
        self.depended.append((sel, holder))
        state = QueryState(Query("dependency", "secret", "app", None, sel.watch_field_selector), "", "secrets")
        state.dependency = True
        self.held[sel.normal()] = 1
        return Dependency(sel.normal(), f"dependency:{sel.describe()}", state)

    def view_of(self, dep: Dependency) -> dict[Any, Any]:
        return {("app", "db"): make_entry(secret("db", "7"))}

    def dependencies(self) -> dict[Selection, int]:
        return dict(self.held)

    def release(self, holder: str, keep: Any = ()) -> list[Selection]:
        keep = list(keep)
        self.released.append((holder, keep))
        gone = [s for s in self.held if s not in keep]
        for s in gone:
            del self.held[s]
        return gone

    def record_write(self, verb: str, group: str, resource: str, obj: dict[str, Any]) -> None:
        self.writes.append((verb, group, resource, obj))


class Events:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, dict[str, Any]]] = []

    def emit(self, name: str, message: str | None = None, **fields: Any) -> None:
        self.emitted.append((name, fields))


def test_between_runs_no_view_answers() -> None:
    reads = RunReads(FakeAcc())  # type: ignore[arg-type]
    with pytest.raises(NotServed, match=NO_RUN):
        reads.read(DB)


def test_a_read_no_view_covers_becomes_a_dependency_once_and_a_successful_run_keeps_what_it_read() -> None:
    acc, events = FakeAcc(), Events()
    reads = RunReads(acc, events)  # type: ignore[arg-type]
    view = RunView({})
    reads.begin(view, 0)
    assert reads.read(DB) == [make_entry(secret("db", "7")).raw]
    assert reads.read(Selection("", "secrets", "app", field_selector="metadata.name=db")) == [
        make_entry(secret("db", "7")).raw
    ]
    assert acc.depended == [(DB, HOLDER)]  # the second spelling was answered from the run's view
    assert [name for name, _ in events.emitted] == ["dependency.added"]
    reads.end()
    reads.finish(view, ok=True)
    assert acc.released == [(HOLDER, [DB])] and acc.held == {DB: 1}
    assert [name for name, _ in events.emitted] == ["dependency.added"]  # kept: nothing released


def test_a_failed_run_releases_nothing_and_a_successful_one_releases_what_it_did_not_read() -> None:
    acc, events = FakeAcc(), Events()
    reads = RunReads(acc, events)  # type: ignore[arg-type]
    first = RunView({})
    reads.begin(first, 0)
    reads.read(DB)
    reads.end()
    reads.finish(first, ok=True)
    quiet = RunView({})  # a run that reads nothing
    reads.begin(quiet, 1)
    reads.end()
    reads.finish(quiet, ok=False)
    assert acc.held == {DB: 1} and len(acc.released) == 1
    reads.finish(quiet, ok=True)
    assert acc.held == {} and acc.released[-1] == (HOLDER, [])
    assert events.emitted[-1] == ("dependency.released", {"dependency": DB.describe(), "count": 0})


def test_a_refused_dependency_fails_the_read_and_adds_nothing() -> None:
    acc, events = FakeAcc(), Events()
    acc.refuse = DependencyLimit("cannot watch secrets app/db: the bound of 1 dependency is reached")
    reads = RunReads(acc, events)  # type: ignore[arg-type]
    view = RunView({})
    reads.begin(view, 0)
    with pytest.raises(DependencyLimit):
        reads.read(DB)
    assert view.read_selections() == [] and events.emitted == []


def test_writes_reach_the_accumulator_and_the_running_view() -> None:
    acc = FakeAcc()
    reads = RunReads(acc)  # type: ignore[arg-type]
    state = QueryState(Query("s", "secret", "app"), "", "secrets")
    view = RunView({"s": (state, {})})
    reads.record("create", "", "secrets", secret("db", "9"))  # between runs: the accumulator only
    reads.begin(view, 0)
    reads.record("update", "", "secrets", secret("db", "10"))
    assert len(acc.writes) == 2
    answer = view.answer(DB)
    assert answer is not None and [e.rv for e in answer.entries] == ["10"]
