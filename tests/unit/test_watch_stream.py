"""The watch stream's retry decisions, with a scripted transport (pure logic: what it asks the server for, and what
it does with each failure). The behaviour against a real server is in tests/e2e/test_watch_faults.py."""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from kates_cli.core import watch
from kates_cli.core.accumulator import Accumulator, Query, QueryState
from kates_cli.core.mapping import ResourceRef
from kates_cli.core.watch import BATCH_WINDOW, DEFAULT_STALL_TIMEOUT, Stream, server_timeout_for
from kates_cli.errors import ApiError, Forbidden, NotFound, Unreachable, UsageError, from_status
from tests.conftest import wait_for

REF = ResourceRef("", "v1", "configmaps", "ConfigMap", True)


def event(etype: str, name: str, rv: int, **annotations: str) -> bytes:
    meta: dict[str, Any] = {"name": name, "namespace": "default", "uid": f"u-{name}", "resourceVersion": str(rv)}
    if annotations:
        meta["annotations"] = annotations
    return orjson.dumps({"type": etype, "object": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}})


INITIAL = [event("ADDED", "a", 5), event("BOOKMARK", "", 6, **{"k8s.io/initial-events-end": "true"})]


def timed_out() -> Unreachable:
    try:
        raise TimeoutError("timed out")
    except TimeoutError as exc:
        err = Unreachable("unable to connect to the server https://x:1: timed out")
        err.__cause__ = exc
        return err


def tls_failure() -> Unreachable:
    err = Unreachable("unable to connect to the server https://x:1: certificate verify failed")
    err.__cause__ = ssl.SSLCertVerificationError(1, "certificate verify failed")
    return err


class FakeResponse:
    """Each item of `lines` is one line, read alone, or a list of lines that one read brought together."""

    def __init__(self, lines: list[bytes | list[bytes]], then: BaseException | None) -> None:
        self._lines, self._then = lines, then
        self.windows: list[float] = []  # each line_batches call's window

    def lines(self) -> Iterator[bytes]:
        for batch in self.line_batches():
            yield from batch

    def line_batches(self, window: float = 0.0, pause: Any = None) -> Iterator[list[bytes]]:
        self.windows.append(window)
        for item in self._lines:
            yield item if isinstance(item, list) else [item]
        if self._then is not None:
            raise self._then

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class FakeTransport:
    """Answers each `open` from a script: (lines, then-raise) or an exception; records every request's params."""

    def __init__(self, script: list[tuple[list[bytes], BaseException | None] | BaseException]) -> None:
        self.script = script
        self.calls: list[dict[str, Any]] = []
        self.responses: list[FakeResponse] = []
        self.done = threading.Event()

    def open(self, method: str, path: str, *, params: dict[str, Any], timeout: float) -> FakeResponse:
        self.calls.append({**params, "_timeout": timeout})
        if not self.script:
            self.done.set()
            threading.Event().wait(5)  # a quiet watch, until the test stops the stream
            raise Unreachable("closed")
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        self.responses.append(FakeResponse(*step))
        return self.responses[-1]

    def request_json(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("no plain list expected: streaming lists are scripted")


class FakeDiscovery:
    def __init__(self, ref: ResourceRef | None) -> None:
        self.ref = ref

    def refresh(self) -> None:
        pass

    def resolve(self, kind: str) -> ResourceRef:
        if self.ref is None:
            from kates_cli.errors import ResourceTypeNotFound

            raise ResourceTypeNotFound(f'the server doesn\'t have a resource type "{kind}"')
        return self.ref


def run(
    script: list[Any],
    *,
    wait_for_kind: bool = False,
    stall: float = 3.0,
    observer: Any = None,
    waits: list[float] | None = None,
) -> tuple[Stream, Accumulator, list[str]]:
    """A stream over `script`, started, its backoff a millisecond; `waits` gets each backoff it takes."""
    state = QueryState(Query("cms", "cm", "default"), "", "configmaps", "v1", "ConfigMap")
    acc = Accumulator([state])
    notices: list[str] = []
    transport = FakeTransport(script)
    stream = Stream(
        transport,  # type: ignore[arg-type]
        FakeDiscovery(REF),  # type: ignore[arg-type]
        acc,
        state,
        REF,
        stall_timeout=stall,
        wait_for_kind=wait_for_kind,
        notice=notices.append,
        observer=observer,
    )
    stream.backoff.first = stream.backoff.next = 0.001
    if waits is not None:
        take = stream.backoff.take
        stream.backoff.take = lambda: waits.append(take()) or waits[-1]  # type: ignore[method-assign]
    stream.start()
    return stream, acc, notices


def finish(stream: Stream) -> list[dict[str, Any]]:
    """Stop the stream once its script has run out (or it failed); the requests it made."""
    transport = stream.transport
    assert isinstance(transport, FakeTransport)
    wait_for(lambda: transport.done.is_set() or stream.acc.error is not None, 5, "the script to run out")  # type: ignore[attr-defined]
    stream.stop()
    return transport.calls


def test_the_default_bound_and_the_server_timeout_below_it() -> None:
    assert DEFAULT_STALL_TIMEOUT == 30.0
    assert server_timeout_for(30.0) == 27 and server_timeout_for(3.0) == 2 and server_timeout_for(2.0) == 1


def test_a_stall_is_told_once_and_resumed_from_the_last_resource_version() -> None:
    stream, _, notices = run(
        [
            (INITIAL, None),  # the streaming list, closed by the stream at its end
            ([event("MODIFIED", "a", 7)], timed_out()),  # a watch that goes silent after one event
            timed_out(),  # the reconnect stalls as well (the network is still dead): not told again
            ([event("BOOKMARK", "", 9)], None),  # and then the network is back
        ]
    )
    calls = finish(stream)
    assert [c.get("sendInitialEvents") for c in calls] == ["true", None, None, None, None]
    assert [c.get("resourceVersion") for c in calls[1:]] == ["6", "7", "7", "9"]  # resumed, never relisted
    assert calls[0]["timeoutSeconds"] >= 1800 and all(c["timeoutSeconds"] == 2 for c in calls[1:])
    assert all(c["_timeout"] == 3.0 for c in calls)
    assert stream.lists == 1 and stream.relists == 0 and stream.stalls == 1
    assert notices == [
        "kates: watch of query cms (configmaps) stalled: nothing received for 3s; reconnecting, resuming from "
        "resourceVersion 7"
    ]


def test_a_tls_failure_before_bootstrap_is_fatal_and_after_it_is_retried() -> None:
    stream, acc, _ = run([tls_failure()])
    with pytest.raises(Unreachable, match="certificate verify failed"):
        acc.wait(5)
    assert len(finish(stream)) == 1  # not retried
    stream, acc, notices = run([(INITIAL, None), tls_failure(), tls_failure(), ([], None)])
    calls = finish(stream)
    assert len(calls) == 5 and acc.error is None  # after bootstrap: may be a server mid-rotation, retried ...
    assert notices == [  # ... and said once
        "kates: watch of query cms (configmaps): unable to connect to the server https://x:1: certificate verify "
        "failed; retrying"
    ]


def test_a_kind_no_longer_served_empties_the_query_then_fails_or_waits() -> None:
    gone = from_status(404, None, fallback="404 page not found")
    stream, acc, notices = run([(INITIAL, None), gone])
    snaps: list[list[dict[str, Any]]] = []
    with pytest.raises(NotFound, match="query cms: the server no longer serves configmaps"):
        while acc.wait(5):
            snap: dict[str, list[dict[str, Any]]] = {}
            if acc.update(snap):
                snaps.append(snap["cms"])
    assert snaps[-1] == []  # the objects went (a snapshot without them) before the error
    finish(stream)
    stream, acc, notices = run([(INITIAL, None), gone, (INITIAL[1:], None)], wait_for_kind=True)
    calls = finish(stream)
    assert [c.get("sendInitialEvents") for c in calls] == ["true", None, "true", None]  # bootstrapped again
    assert acc.error is None and stream.lists == 3
    assert notices == ["kates: query cms: the server no longer serves configmaps; waiting for it to come back"]


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            from_status(403, {"message": 'cm is forbidden: User "u" cannot watch resource "configmaps"'}),
            Forbidden,
            "cannot watch configmaps (query cms): ",
        ),
        (from_status(400, {"message": "field label not supported: x"}), UsageError, "unable to find configmaps"),
    ],
)
def test_refusals_are_named(error: ApiError, kind: type[Exception], message: str) -> None:
    stream, acc, _ = run([(INITIAL, None), error])  # refused after bootstrap (a 400 before it means no streaming)
    with pytest.raises(kind, match=message.replace("(", r"\(").replace(")", r"\)")):
        while acc.wait(5):
            acc.update({})
    finish(stream)


class Observed:
    def __init__(self) -> None:
        self.facts: list[tuple[str, ...]] = []

    def listed(self, query: str) -> None:
        self.facts.append(("listed", query))

    def event(self, query: str, event_type: str) -> None:
        self.facts.append(("event", query, event_type))

    def restarted(self, query: str, reason: str) -> None:
        self.facts.append(("restarted", query, reason))


def test_the_observer_is_told_each_list_event_and_restart_with_its_reason() -> None:
    observed = Observed()
    stream, _, _ = run(
        [
            (INITIAL, None),  # the streaming list, closed by the stream at its end: no restart
            ([event("MODIFIED", "a", 7), event("BOOKMARK", "", 8)], None),  # the server ends the watch
            timed_out(),  # a stall
            Unreachable("unable to connect to the server https://x:1: connection refused"),
            from_status(410, {"code": 410, "reason": "Expired", "message": "too old resource version"}),
            (INITIAL, None),  # the relist
        ],
        observer=observed,
    )
    finish(stream)
    assert observed.facts == [
        ("listed", "cms"),
        ("event", "cms", "MODIFIED"),
        ("event", "cms", "BOOKMARK"),
        ("restarted", "cms", "closed"),
        ("restarted", "cms", "stall"),
        ("restarted", "cms", "error"),
        ("restarted", "cms", "410"),
        ("listed", "cms"),
    ]


class Recorded:
    """A sink that records what a stream delivers, under which key."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.errors: list[Exception] = []

    def replace(self, query: str, entries: list[Any], rv: str) -> None:
        self.calls.append(("replace", query))

    def event(self, query: str, event_type: str, entry: Any) -> None:
        self.calls.append(("event", query))

    def bookmark(self, query: str, rv: str) -> None:
        self.calls.append(("bookmark", query))

    def fail(self, error: Exception) -> None:
        self.errors.append(error)


def dependency_stream(script: list[Any], sink: Recorded, notices: list[str], observer: Any = None) -> Stream:
    state = QueryState(Query("dependency", "configmaps", "default", None, "metadata.name=a"), "", "configmaps")
    state.id, state.title, state.dependency = "dependency:configmaps default/a", "dependency configmaps default/a", True
    stream = Stream(
        FakeTransport(script),  # type: ignore[arg-type]
        FakeDiscovery(REF),  # type: ignore[arg-type]
        sink,
        state,
        REF,
        stall_timeout=3.0,
        notice=notices.append,
        observer=observer,
    )
    stream.backoff.first = stream.backoff.next = 0.001
    stream.start()
    return stream


def test_a_dependency_stream_delivers_under_its_id_and_names_itself() -> None:
    sink, notices, observed = Recorded(), [], Observed()
    stream = dependency_stream([(INITIAL, None), ([event("MODIFIED", "a", 7)], timed_out())], sink, notices, observed)
    wait_for(lambda: stream.stalls == 1, 5, "the stall")
    stream.stop()
    assert sink.calls[:2] == [
        ("replace", "dependency:configmaps default/a"),
        ("event", "dependency:configmaps default/a"),
    ]
    assert ("listed", "dependency") in observed.facts  # counted by the query name all dependencies share
    assert notices[0].startswith("kates: watch of dependency configmaps default/a (configmaps) stalled")


def test_a_dependency_stream_meeting_a_404_before_its_bootstrap_fails_without_an_empty_set() -> None:
    sink, notices = Recorded(), []
    stream = dependency_stream([from_status(404, None, fallback="404 page not found")], sink, notices)
    wait_for(lambda: sink.errors, 5, "the failure")
    stream.stop()
    assert sink.calls == []  # nothing delivered: its reader gets the error, not an empty answer
    assert isinstance(sink.errors[0], NotFound) and sink.errors[0].hint is None
    assert str(sink.errors[0]).startswith("dependency configmaps default/a: the server no longer serves configmaps")


class Batches(Recorded):
    """A sink that takes a read's events at once, as the Accumulator does."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[tuple[str, str, str]]] = []

    def event_batch(self, query: str, batch: list[tuple[str, Any]]) -> None:
        self.batches.append([(etype, e.key[1], e.rv) for etype, e in batch])


def batch_stream(script: list[Any], sink: Recorded) -> Stream:
    state = QueryState(Query("cms", "cm", "default"), "", "configmaps", "v1", "ConfigMap")
    stream = Stream(FakeTransport(script), FakeDiscovery(REF), sink, state, REF, stall_timeout=3.0)  # type: ignore[arg-type]
    stream.backoff.first = stream.backoff.next = 0.001
    stream.start()
    return stream


def test_the_events_one_read_brought_are_delivered_at_once() -> None:
    sink = Batches()
    burst = [event("MODIFIED", "a", 7), event("ADDED", "b", 8), event("DELETED", "a", 9)]
    stream = batch_stream([(INITIAL, None), ([burst, event("MODIFIED", "b", 10)], None)], sink)
    wait_for(lambda: len(sink.batches) == 2, 5, "both reads delivered")
    stream.stop()
    assert sink.batches == [
        [("MODIFIED", "a", "7"), ("ADDED", "b", "8"), ("DELETED", "a", "9")],
        [("MODIFIED", "b", "10")],
    ]
    assert ("event", "cms") not in sink.calls  # nothing one by one
    assert stream.rv == "10"


def test_the_initial_set_is_read_at_once_and_later_watches_in_windows() -> None:
    """The storm window (Response.line_batches) never delays the initial set: the streaming list is read without
    one, each later watch with BATCH_WINDOW."""
    sink = Batches()
    stream = batch_stream([(INITIAL, None), ([event("MODIFIED", "a", 7)], None)], sink)
    wait_for(lambda: len(sink.batches) == 1, 5, "the event delivered")
    stream.stop()
    transport = stream.transport
    assert isinstance(transport, FakeTransport)
    assert [r.windows for r in transport.responses] == [[0.0], [BATCH_WINDOW]]
    assert 0 < BATCH_WINDOW <= 0.05


def test_the_events_before_an_error_in_the_same_read_come_first() -> None:
    sink = Batches()
    gone = orjson.dumps({"type": "ERROR", "object": {"kind": "Status", "code": 410, "reason": "Expired"}})
    bookmark = event("BOOKMARK", "", 12)
    script = [(INITIAL, None), ([[event("MODIFIED", "a", 7), bookmark, event("ADDED", "b", 13), gone]], None)]
    stream = batch_stream(script, sink)
    wait_for(lambda: stream.relists == 1, 5, "the relist after 410")
    stream.stop()
    assert sink.batches[:2] == [[("MODIFIED", "a", "7")], [("ADDED", "b", "13")]]
    assert sink.calls[:2] == [("replace", "cms"), ("bookmark", "cms")]


def test_a_batch_counts_each_change_and_wakes_a_waiter_once() -> None:
    """The accumulator's generation counts each visible change of a batch (the debounce watches it)."""
    sink_state = QueryState(Query("cms", "cm", "default"), "", "configmaps", "v1", "ConfigMap")
    acc = Accumulator([sink_state])
    from kates_cli.core.accumulator import make_entry

    def cm(name: str, rv: int) -> Any:
        return make_entry(orjson.loads(event("ADDED", name, rv))["object"])

    acc.replace("cms", [cm("a", 5)], "5")
    before = acc.generation
    notified: list[int] = []
    original = acc._cond.notify_all
    acc._cond.notify_all = lambda: (notified.append(1), original())[1]  # type: ignore[method-assign]
    acc.event_batch("cms", [("MODIFIED", cm("a", 6)), ("ADDED", cm("b", 7)), ("MODIFIED", cm("a", 5))])
    assert acc.generation - before == 2  # the replay of a@5 changes nothing
    assert len(notified) == 1
    snapshot: dict[str, list[Any]] = {}
    assert acc.update(snapshot) and [
        (o["metadata"]["name"], o["metadata"]["resourceVersion"]) for o in snapshot["cms"]
    ] == [
        ("a", "6"),
        ("b", "7"),
    ]


@pytest.mark.parametrize("short", [watch.SHORT_WATCH, 0.0])
def test_a_watch_the_server_ends_at_once_without_a_line_waits_a_backoff(
    monkeypatch: pytest.MonkeyPatch, short: float
) -> None:
    """client-go's "very short watch": ended within SHORT_WATCH with nothing read, the next watch waits (a server or
    proxy that ends every watch at once is not asked in a tight loop); one that brought a line does not, nor does
    the streaming list closed at its end."""
    monkeypatch.setattr(watch, "SHORT_WATCH", short)
    waits: list[float] = []
    script: list[Any] = [(INITIAL, None), ([], None), ([], None), ([event("MODIFIED", "a", 7)], None), ([], None)]
    stream, _, _ = run(script, waits=waits)
    calls = finish(stream)
    assert len(calls) == 6  # each watch was asked again: a short one is backed off, not given up
    assert [c.get("resourceVersion") for c in calls[1:]] == ["6", "6", "6", "7", "7"]
    assert len(waits) == (3 if short else 0)
    if short:  # the backoff doubles over the two empty watches, and the delivery in between resets it
        assert waits[0] < waits[1] > waits[2]
