"""Dependencies in the Accumulator, as pure logic: reference counts, sharing, limits, errors, batches, deltas.

Streams are fakes (a DependencySource whose streams the test feeds by hand): what is tested here is the registry's
bookkeeping and the accumulator's locking, never what an API server decides (tests/e2e/test_dependencies.py does).
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from kates_cli.core.accumulator import Accumulator, Entry, Query, QueryState, make_entry
from kates_cli.core.deltas import Change, NetChanges
from kates_cli.core.dependencies import DependencyLimit, DependencySink, DependencySource
from kates_cli.core.mapping import ResourceRef
from kates_cli.core.selection import Selection
from kates_cli.errors import Forbidden, KatesError, Unreachable, UsageError
from tests.conftest import wait_for

SECRETS = ResourceRef("", "v1", "secrets", "Secret", True)
NODES = ResourceRef("", "v1", "nodes", "Node", False)
CMS = ResourceRef("", "v1", "configmaps", "ConfigMap", True)


def secret(name: str, rv: int, ns: str = "app", **labels: str) -> Entry:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": f"uid-{name}", "resourceVersion": str(rv)}
    if labels:
        meta["labels"] = labels
    return make_entry({"apiVersion": "v1", "kind": "Secret", "metadata": meta})


class FakeStream:
    def __init__(self, state: QueryState, ref: ResourceRef, sink: DependencySink):
        self.state, self.ref, self.sink = state, ref, sink
        self.stopped = threading.Event()

    def stop(self) -> None:
        self.stopped.set()

    def bootstrap(self, *entries: Entry) -> None:
        self.sink.replace(self.state.id, list(entries), str(max([int(e.rv) for e in entries], default=1)))


class Fake:
    """A DependencySource whose streams bootstrap with `objects` at once (auto), or when the test says so."""

    def __init__(self, auto: bool = True, objects: tuple[Entry, ...] = ()):
        self.auto, self.objects = auto, objects
        self.streams: list[FakeStream] = []
        self.notices: list[str] = []
        self.lock = threading.Lock()

    def start(self, state: QueryState, ref: ResourceRef, sink: DependencySink) -> FakeStream:
        stream = FakeStream(state, ref, sink)
        with self.lock:
            self.streams.append(stream)
        if self.auto:  # from another thread, as a real stream delivers
            threading.Thread(target=stream.bootstrap, args=self.objects, daemon=True).start()
        return stream

    def source(self) -> DependencySource:
        refs = {"secrets": SECRETS, "nodes": NODES, "cm": CMS, "configmaps": CMS}
        return DependencySource(
            resolve=lambda kind: refs[kind],
            ref_for=lambda group, resource: refs[resource],
            start=self.start,
            notice=self.notices.append,
            namespace="app",
        )


def accumulator(fake: Fake, max_dependencies: int | None = None) -> Accumulator:
    acc = Accumulator([QueryState(Query("cms", "cm", "app"), "", "configmaps", "v1", "ConfigMap")])
    acc.max_dependencies = max_dependencies
    acc.source = fake.source()
    acc.replace("cms", [], "1")
    assert acc.update_with_deltas({})[0]  # the bootstrap's take
    return acc


DB = Selection("", "secrets", "app", "db")


def test_identical_depends_from_many_threads_at_once_start_one_stream() -> None:
    fake = Fake(auto=False)
    acc = accumulator(fake)
    n = 8
    barrier = threading.Barrier(n)
    got: list[Any] = [None] * n

    def read(i: int) -> None:
        barrier.wait()
        got[i] = acc.depend(DB, holder=f"h{i % 4}")  # four holders, two threads each

    threads = [threading.Thread(target=read, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    dep = wait_for(lambda: acc._registry.get(DB), what="the dependency registered")
    wait_for(lambda: dep.waiting == n, what="every reader waiting for the one bootstrap")
    assert len(fake.streams) == 1
    fake.streams[0].bootstrap(secret("db", 5))
    for t in threads:
        t.join(10)
    assert all(g is dep for g in got)
    assert len(fake.streams) == 1
    assert acc.dependencies() == {DB: 4}  # one reference per holder


def test_depends_on_different_selections_from_many_threads_each_get_their_own() -> None:
    fake = Fake()
    acc = accumulator(fake)
    sels = [Selection("", "secrets", "app", f"s{i % 5}") for i in range(20)]
    deps: list[Any] = [None] * len(sels)

    def read(i: int) -> None:
        deps[i] = acc.depend(sels[i], holder=f"h{i}")

    threads = [threading.Thread(target=read, args=(i,)) for i in range(len(sels))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(fake.streams) == 5
    assert acc.dependencies() == {s: 4 for s in sels[:5]}
    assert all(deps[i] is deps[i % 5] for i in range(len(sels)))


def test_the_first_bootstrap_raises_no_change_and_later_changes_are_dependency_deltas() -> None:
    fake = Fake(objects=(secret("db", 5),))
    acc = accumulator(fake)
    generation = acc.generation
    dep = acc.depend(DB)
    assert acc.generation == generation and not acc.wait(0)
    assert list(acc.view_of(dep)) == [("app", "db")]
    fake.streams[0].sink.event(dep.id, "MODIFIED", secret("db", 6))
    acc.replace("cms", [make_entry({"metadata": {"name": "c", "namespace": "app", "resourceVersion": "7"}})], "7")
    assert acc.wait(0)
    changed, deltas = acc.update_with_deltas({})
    assert changed
    assert [(d.type, d.query, d.name) for d in deltas] == [("add", "cms", "c"), ("update", "dependency", "db")]
    assert list(acc.taken_views) == ["cms", dep.id]


def test_two_dependencies_holding_one_object_stay_two_net_changes() -> None:
    fake = Fake(objects=(secret("db", 5),))
    acc = accumulator(fake)
    one = acc.depend(DB)
    every = acc.depend(Selection("", "secrets", "app"))
    for dep, stream in zip((one, every), fake.streams, strict=True):
        stream.sink.event(dep.id, "MODIFIED", secret("db", 6))
    net = NetChanges(["cms"])
    net.add(acc.snapshot_changes()[2])
    assert [(d.type, d.query, d.name) for d in net.deltas()] == [("update", "dependency", "db")] * 2


def test_release_keeps_what_is_kept_and_stops_what_nobody_holds() -> None:
    fake = Fake()
    acc = accumulator(fake)
    other = Selection("", "secrets", "app", "other")
    acc.depend(DB, holder="a")
    acc.depend(DB, holder="b")
    acc.depend(other, holder="a")
    assert acc.release("a", keep=[Selection("", "secrets", "app", field_selector="metadata.name=other")]) == []
    assert acc.dependencies() == {DB: 1, other: 1}
    assert acc.release("b") == [DB]
    assert fake.streams[0].stopped.is_set() and not fake.streams[1].stopped.is_set()
    assert acc.release("a") == [other]
    assert fake.streams[1].stopped.is_set()
    assert acc.dependencies() == {} and len(acc.streams) == 0


def test_a_released_streams_late_events_never_reach_a_dependency_registered_again() -> None:
    fake = Fake(objects=(secret("db", 5),))
    acc = accumulator(fake)
    first = acc.depend(DB)
    acc.release("default")
    again = acc.depend(DB)
    assert again is not first
    fake.streams[0].sink.event(first.id, "MODIFIED", secret("db", 9))  # the old stream, a moment too late
    fake.streams[0].sink.fail(Forbidden("late"))
    assert acc.view_of(again)[("app", "db")].rv == "5"
    assert acc.dependencies() == {DB: 1} and not fake.notices


def test_max_dependencies_refuses_a_new_distinct_one_and_registers_nothing() -> None:
    fake = Fake()
    acc = accumulator(fake, max_dependencies=1)
    acc.depend(DB, holder="a")
    assert acc.depend(Selection("", "secrets", "app", field_selector="metadata.name=db"), holder="b")  # shared
    with pytest.raises(DependencyLimit) as info:
        acc.depend(Selection("", "secrets", "app", "other"))
    assert "secrets app/other" in info.value.message and "the bound of 1 dependency is reached" in info.value.message
    assert acc.dependencies() == {DB: 2} and len(fake.streams) == 1
    acc.release("a")
    acc.release("b")
    acc.depend(Selection("", "secrets", "app", "other"))  # room again


def test_a_failure_before_bootstrap_reaches_every_waiter_and_registers_nothing() -> None:
    fake = Fake(auto=False)
    acc = accumulator(fake)
    errors: list[BaseException] = []

    def read() -> None:
        try:
            acc.depend(DB)
        except KatesError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    dep = wait_for(lambda: acc._registry.get(DB), what="registered")
    wait_for(lambda: dep.waiting == 3, what="three waiters")
    fake.streams[0].sink.fail(Forbidden("cannot watch secrets (dependency secrets app/db): forbidden"))
    for t in threads:
        t.join(10)
    assert [type(e) for e in errors] == [Forbidden] * 3
    assert acc.dependencies() == {} and acc._registry.get(DB) is None and fake.streams[0].stopped.is_set()
    fake.auto = True
    assert acc.depend(DB)  # a later read registers it again
    assert len(fake.streams) == 2


def test_a_timeout_registers_nothing_and_stops_the_stream() -> None:
    fake = Fake(auto=False)
    acc = accumulator(fake)
    with pytest.raises(Unreachable, match=r"did not start within 0\.2s"):
        acc.depend(DB, timeout=0.2)
    assert acc._registry.get(DB) is None and fake.streams[0].stopped.is_set()


def test_a_fatal_error_after_bootstrap_drops_it_for_every_holder_and_says_so_once() -> None:
    fake = Fake(objects=(secret("db", 5),))
    acc = accumulator(fake)
    dep = acc.depend(DB, holder="a")
    acc.depend(DB, holder="b")
    fake.streams[0].sink.fail(Forbidden("secrets is forbidden"))
    fake.streams[0].sink.fail(Forbidden("secrets is forbidden"))
    assert fake.notices == ["kates: dependency secrets app/db dropped: secrets is forbidden"]
    assert acc.dependencies() == {} and acc.find(DB) is None
    assert acc.error is None  # the watch goes on
    assert not acc.wait(0)  # nothing it saw was undelivered: no change
    assert acc.depend(DB) is not dep


def test_find_prefers_queries_then_dependencies_and_only_bootstrapped_ones() -> None:
    fake = Fake(objects=(secret("db", 5),))
    acc = accumulator(fake)
    assert acc.find(DB) is None
    dep = acc.depend(Selection("", "secrets", "app"))  # every secret in app covers app/db
    found = acc.find(DB)
    assert found is not None and found[0] == dep.id and found[1] is dep.state
    cm = acc.find(Selection("", "configmaps", "app", "x"))
    assert cm is not None and cm[0] == "cms"


def test_writes_overlay_dependencies_as_they_overlay_queries() -> None:
    fake = Fake(objects=(secret("db", 5),))
    acc = accumulator(fake)
    dep = acc.depend(DB)
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "app", "uid": "uid-db"}}
    obj["metadata"]["resourceVersion"] = "8"
    acc.record_write("update", "", "secrets", obj)
    assert acc.view_of(dep)[("app", "db")].rv == "8"
    assert acc.wait(0)
    assert [(d.type, d.query) for d in acc.update_with_deltas({})[1]] == [("update", "dependency")]


def test_a_cluster_scoped_dependency_drops_the_namespace() -> None:
    fake = Fake()
    acc = accumulator(fake)
    dep = acc.depend(Selection("", "nodes", "app", "n1"))
    assert dep.selection == Selection("", "nodes", None, "n1") and dep.state.query.namespace is None


def test_batches_release_what_they_did_not_read_and_a_failed_batch_releases_nothing() -> None:
    fake = Fake(objects=(secret("db", 5), secret("other", 6)))
    acc = accumulator(fake)
    with acc.batch("r"):
        assert acc.get("secrets", "db") is not None
        assert [o["metadata"]["name"] for o in acc.list("secrets", "app", field_selector="metadata.name=other")] == [
            "other"
        ]
    assert acc.dependencies() == {DB: 1, Selection("", "secrets", "app", "other"): 1}
    with pytest.raises(RuntimeError), acc.batch("r"):
        acc.get("secrets", "db")
        raise RuntimeError("the reconciler failed")
    assert len(acc.dependencies()) == 2  # a failed batch releases nothing
    with acc.batch("r"):
        assert acc.get("secrets", "db", namespace="app") is not None
    assert acc.dependencies() == {DB: 1}
    assert fake.streams[1].stopped.is_set() and not fake.streams[0].stopped.is_set()


def test_reads_answer_from_queries_without_a_dependency_and_return_copies() -> None:
    fake = Fake()
    acc = accumulator(fake)
    acc.replace("cms", [make_entry({"metadata": {"name": "c", "namespace": "app", "resourceVersion": "7"}})], "7")
    got = acc.get("cm", "c")
    assert got is not None and got["metadata"]["name"] == "c"
    got["metadata"]["name"] = "mutated"
    assert acc.get("cm", "c") is not None and acc.list("cm", "app")[0]["metadata"]["name"] == "c"
    assert acc.get("cm", "absent") is None
    assert acc.dependencies() == {} and fake.streams == []


def test_a_reader_covered_by_anothers_wider_dependency_takes_a_reference_on_it() -> None:
    fake = Fake(objects=(secret("db", 5),))
    acc = accumulator(fake)
    every = Selection("", "secrets", "app")
    acc.depend(every, holder="a")
    with acc.batch("b"):
        assert acc.get("secrets", "db") is not None
    assert acc.dependencies() == {every: 2} and len(fake.streams) == 1


def test_the_query_name_dependency_is_reserved() -> None:
    from kates_cli.cli.queries import parse_query

    with pytest.raises(UsageError, match='"dependency" is reserved'):
        parse_query("dependency=secrets", "default")
    with pytest.raises(UsageError, match='"dependency" is reserved'):
        Accumulator([QueryState(Query("dependency", "secrets"))])


def test_close_stops_every_dependency_and_refuses_new_ones() -> None:
    fake = Fake()
    acc = accumulator(fake)
    acc.depend(DB)
    acc.close()
    assert fake.streams[0].stopped.is_set()
    with pytest.raises(KatesError, match="closed"):
        acc.depend(DB)


def test_changes_of_states_sharing_a_query_name_are_told_apart() -> None:
    a = Change("dependency", "v1", "Secret", ("app", "db"), None, ("1", "u"), "dependency:a")
    b = Change("dependency", "v1", "Secret", ("app", "db"), None, ("1", "u"), "dependency:b")
    net = NetChanges(["q"])
    net.add([a, b])
    assert len(net.deltas()) == 2


def test_a_list_by_a_field_only_the_server_evaluates_is_answered_with_its_own_watchs_view() -> None:
    fake = Fake(objects=(secret("db", 5), secret("other", 6)))  # what the server sent for type=Opaque
    acc = accumulator(fake)
    got = acc.list("secrets", "app", field_selector="type=Opaque")
    assert [o["metadata"]["name"] for o in got] == ["db", "other"]  # not evaluated again locally
    assert fake.streams[0].state.query.field_selector == "type=Opaque"
    sel = Selection("", "secrets", "app", field_selector="type=Opaque")
    assert acc.dependencies() == {sel: 1}
    assert acc.find(sel) is None  # `covers` rules: a view answers only what it can evaluate
    acc.list("secrets", "app", field_selector="type=Opaque")
    assert len(fake.streams) == 1  # the second read is answered by the same dependency
