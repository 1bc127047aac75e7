"""Leader election as a pure state machine (core/lease.py): a fake Lease store with resourceVersions, fake clocks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kates_cli.core.lease import Election, Record, Timing, Wait, Write, micro_time

TIMING = Timing(15.0, 10.0, 2.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.wall = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)

    def __call__(self) -> float:
        return self.now

    def wall_now(self) -> datetime:
        return self.wall

    def advance(self, seconds: float) -> None:
        self.now += seconds
        self.wall += timedelta(seconds=seconds)


class Conflict(Exception):
    pass


@dataclass
class Store:
    """One Lease with an optimistic-concurrency resourceVersion, as the API server keeps it."""

    lease: dict[str, Any] | None = None
    version: int = 0
    history: list[tuple[float, Record]] = field(default_factory=list)

    def get(self) -> dict[str, Any] | None:
        return None if self.lease is None else {**self.lease, "metadata": dict(self.lease["metadata"])}

    def write(self, write: Write, version: str | None, at: float) -> dict[str, Any]:
        if write.create:
            if self.lease is not None:
                raise Conflict("already exists")
        elif self.lease is None or self.lease["metadata"]["resourceVersion"] != version:
            raise Conflict("409")
        self.version += 1
        self.lease = {"metadata": {"name": "l", "resourceVersion": str(self.version)}, "spec": write.record.spec()}
        self.history.append((at, write.record))
        return self.get()  # type: ignore[return-value]


def candidate(name: str, clock: Clock, timing: Timing = TIMING) -> Election:
    return Election(name, timing, clock, clock.wall_now)


def attempt(e: Election, store: Store, clock: Clock) -> bool:
    """One tryAcquireOrRenew, all at one instant: read, decide, write. Whether it wrote."""
    e.observe(store.get())
    plan = e.decide()
    if isinstance(plan, Wait):
        return False
    sent = clock()
    try:
        answer = store.write(plan, e.observed_version, sent)
    except Conflict:
        return False
    e.succeeded(plan, sent, answer)
    return True


def test_first_candidate_creates_the_lease_as_client_go_writes_it() -> None:
    clock, store = Clock(), Store()
    a = candidate("a", clock)
    assert attempt(a, store, clock) and a.leading()
    assert store.lease is not None
    assert store.lease["spec"] == {
        "holderIdentity": "a",
        "leaseDurationSeconds": 15,
        "acquireTime": "2026-01-02T03:04:05.678901Z",
        "renewTime": "2026-01-02T03:04:05.678901Z",
        "leaseTransitions": 0,
    }


def test_renewal_keeps_acquire_time_and_transitions_and_moves_renew_time() -> None:
    clock, store = Clock(), Store()
    a = candidate("a", clock)
    attempt(a, store, clock)
    clock.advance(2)
    fast = a.fast_renewal()
    assert fast is not None and not fast.acquiring
    store.write(fast, a.observed_version, clock())
    assert store.lease is not None
    spec = store.lease["spec"]
    assert spec["acquireTime"] == "2026-01-02T03:04:05.678901Z"
    assert spec["renewTime"] == "2026-01-02T03:04:07.678901Z"
    assert spec["leaseTransitions"] == 0


def test_takeover_only_after_lease_duration_without_an_observed_change() -> None:
    clock, store = Clock(), Store()
    a, b = candidate("a", clock), candidate("b", clock)
    attempt(a, store, clock)
    clock.advance(100)  # a's renewTime is old by the wall clock: that must not matter, b has not watched it age
    b.observe(store.get())  # b's first sight: the clock starts now
    clock.advance(14.999)
    plan = b.decide()
    assert isinstance(plan, Wait) and plan.holder == "a" and plan.expires_in == pytest.approx(0.001)
    clock.advance(0.001)
    assert attempt(b, store, clock) and b.leading()
    assert store.lease is not None and store.lease["spec"]["leaseTransitions"] == 1
    assert store.lease["spec"]["acquireTime"] == store.lease["spec"]["renewTime"]


def test_a_change_of_the_lease_restarts_the_expiry_clock() -> None:
    clock, store = Clock(), Store()
    a, b = candidate("a", clock), candidate("b", clock)
    attempt(a, store, clock)
    b.observe(store.get())
    clock.advance(10)
    attempt(a, store, clock)  # a renews
    clock.advance(6)  # 16 s since b first saw the Lease, but only 6 since it changed
    assert not attempt(b, store, clock)
    clock.advance(9)
    assert not attempt(b, store, clock)
    clock.advance(6)
    assert attempt(b, store, clock)


def test_remote_timestamps_are_never_compared() -> None:
    """A wall clock far in the past or future changes only what is written, never a decision."""
    clock, store = Clock(), Store()
    a, b = candidate("a", clock), candidate("b", clock)
    attempt(a, store, clock)
    b.observe(store.get())
    clock.wall = datetime(1999, 1, 1, tzinfo=UTC)
    clock.advance(5)
    assert isinstance(b.decide(), Wait)
    clock.wall = datetime(2099, 1, 1, tzinfo=UTC)
    assert isinstance(b.decide(), Wait)


def test_release_lets_another_candidate_acquire_at_once() -> None:
    clock, store = Clock(), Store()
    a, b = candidate("a", clock), candidate("b", clock)
    attempt(a, store, clock)
    attempt(a, store, clock)
    b.observe(store.get())
    a.observe(store.get())
    release = a.release()
    assert release is not None
    a.released(release, store.write(release, a.observed_version, clock()))
    assert not a.leading()
    assert store.lease is not None
    spec = store.lease["spec"]
    assert spec["holderIdentity"] == "" and spec["leaseDurationSeconds"] == 1 and spec["leaseTransitions"] == 0
    assert attempt(b, store, clock) and b.leading()  # no waiting at all
    assert store.lease["spec"]["leaseTransitions"] == 1


def test_release_of_a_lease_held_by_another_writes_nothing() -> None:
    clock, store = Clock(), Store()
    a, b = candidate("a", clock), candidate("b", clock)
    attempt(a, store, clock)
    clock.advance(16)
    b.observe(store.get())
    clock.advance(16)
    attempt(b, store, clock)
    assert a.observe(store.get()) == "taken"
    assert a.release() is None and not a.leading()


def test_leadership_ends_at_the_renew_deadline_without_renewal() -> None:
    clock, store = Clock(), Store()
    a = candidate("a", clock)
    sent = clock()
    attempt(a, store, clock)
    assert a.permit_until() == sent + 10
    assert a.kill_at() == sent + 15 - 2
    clock.advance(9.999)
    assert a.leading()
    clock.advance(0.001)
    assert not a.leading() and a.permit_until() is None and a.fast_renewal() is None


def test_renewed_at_is_the_time_before_sending() -> None:
    clock, store = Clock(), Store()
    a = candidate("a", clock)
    a.observe(store.get())
    plan = a.decide()
    assert isinstance(plan, Write) and plan.create
    sent = clock()
    answer = store.write(plan, None, sent)
    clock.advance(3)  # a slow answer
    assert a.succeeded(plan, sent, answer)
    assert a.renewed_at == sent and a.permit_until() == sent + 10


def test_same_identity_takes_its_lease_back_at_once() -> None:
    """client-go's rule (IsLeader by the record's holder): a restarted process keeps its identity and its Lease."""
    clock, store = Clock(), Store()
    attempt(candidate("a", clock), store, clock)
    again = candidate("a", clock)
    assert attempt(again, store, clock)
    assert store.lease is not None and store.lease["spec"]["leaseTransitions"] == 0


def test_lease_seconds_round_up() -> None:
    assert Timing(3.0, 2.0, 0.5).lease_seconds == 3
    assert Timing(2.5, 2.0, 0.5).lease_seconds == 3
    assert Timing(0.9, 0.7, 0.5).lease_seconds == 1


@pytest.mark.parametrize(
    ("timing", "message"),
    [
        (Timing(10, 10, 2), "--lease-duration must be greater than --renew-deadline"),
        (Timing(15, 2.4, 2), "--renew-deadline must be greater than --retry-period x 1.2 (client-go's jitter)"),
        (Timing(0, 10, 2), "--lease-duration must be greater than zero"),
        (Timing(15, 0, 2), "--renew-deadline must be greater than zero"),
        (Timing(15, 10, 0), "--retry-period must be greater than zero"),
        (Timing(15, 10, 2), None),
        (Timing(3, 2, 0.5), None),
    ],
)
def test_timing_is_checked_with_client_go_rules(timing: Timing, message: str | None) -> None:
    assert timing.problem() == message


def test_micro_time_is_go_microtime() -> None:
    assert micro_time(datetime(2006, 1, 2, 15, 4, 5, tzinfo=UTC)) == "2006-01-02T15:04:05.000000Z"


# -- two or three candidates, any interleaving ------------------------------------------------------------------


@dataclass
class Pending:
    """A write on its way: sent at `sent`, applied by the store at some later step, answered at a later one."""

    write: Write
    version: str | None
    sent: float
    answer: dict[str, Any] | None = None
    applied: bool = False
    failed: bool = False


OPS = ["advance", "advance", "attempt", "attempt", "read", "fast", "apply", "answer", "release"]
STEP = st.tuples(
    st.sampled_from(OPS),
    st.integers(0, 2),
    st.sampled_from([0.1, 0.5, 1.0, 2.0, 3.0]) | st.floats(0.0, 6.0),
)
# advance: the clock moves by the float; attempt: read, decide, write, answer at one instant; read: read, decide,
# send a write (or wait); fast: send a fast-path renewal; apply: the server applies the write in flight; answer:
# its answer arrives (or its loss, when it was not applied); release: client-go's release at one instant


def _write_now(e: Election, write: Write, store: Store, clock: Clock) -> bool:
    try:
        answer = store.write(write, e.observed_version, clock())
    except Conflict:
        return False
    e.succeeded(write, clock(), answer)
    return True


@settings(max_examples=1000, deadline=None)
@given(
    steps=st.lists(STEP, max_size=80),
    timing=st.sampled_from([TIMING, Timing(3, 2, 0.5), Timing(1.5, 1.2, 0.9)]),
)
def test_two_candidates_never_both_believe_they_lead(steps: list[tuple[str, int, float]], timing: Timing) -> None:
    clock, store = Clock(), Store()
    names = ["a", "b", "c"]
    elections = [candidate(n, clock, timing) for n in names]
    pending: list[Pending | None] = [None, None, None]
    for op, arg, dt in steps:
        if op == "advance":
            clock.advance(dt)
        else:
            e, p = elections[arg], pending[arg]
            if op == "attempt" and p is None:
                fast = e.fast_renewal()
                if fast is None or not _write_now(e, fast, store, clock):
                    attempt(e, store, clock)
            elif op == "read" and p is None:
                e.observe(store.get())
                plan = e.decide()
                if isinstance(plan, Write):
                    pending[arg] = Pending(plan, e.observed_version, clock())
            elif op == "fast" and p is None:
                fast = e.fast_renewal()
                if fast is not None:
                    pending[arg] = Pending(fast, e.observed_version, clock())
            elif op == "release" and p is None:
                rel = e.release()
                if rel is not None:
                    try:
                        e.released(rel, store.write(rel, e.observed_version, clock()))
                    except Conflict:
                        e.lose()
            elif op == "apply" and p is not None and not p.applied:
                p.applied = True
                try:
                    p.answer = store.write(p.write, p.version, clock())
                except Conflict:
                    p.failed = True
            elif op == "answer" and p is not None:
                if p.applied and not p.failed:
                    e.succeeded(p.write, p.sent, p.answer)
                pending[arg] = None
        now = clock()
        # leading(t) only falls as t grows while nothing happens, so checking at each step covers every instant
        leaders = [e.identity for e in elections if e.leading(now)]
        assert len(leaders) <= 1, (leaders, now, store.history)
        for e in elections:
            if e.leading(now):
                assert store.lease is not None and store.lease["spec"]["holderIdentity"] == e.identity


VALID = st.builds(
    Timing,
    lease_duration=st.floats(1.0, 60.0),
    renew_deadline=st.floats(0.1, 59.0),
    retry_period=st.floats(0.05, 20.0),
).filter(lambda t: t.problem() is None)


@settings(max_examples=500, deadline=None)
@given(
    timing=VALID,
    in_flight=st.floats(0.0, 30.0),  # from sending the leader's write to the server applying it
    answered=st.floats(0.0, 30.0),  # from applying it to the leader getting the answer
    seen_after=st.floats(0.0, 30.0),  # from applying it to the other candidate's read
    late=st.floats(-2.0, 3.0),  # the other's next attempt, relative to the Lease's expiry by its clock
)
def test_the_leaders_deadlines_come_before_anyone_else_can_acquire(
    timing: Timing, in_flight: float, answered: float, seen_after: float, late: float
) -> None:
    """The timeline of FENCING-API.md: permits end and the hook is killed before another candidate can acquire,
    however long the leader's write was in flight, its answer late, and the other candidate's read late."""
    clock, store = Clock(), Store()
    a, b = candidate("a", clock, timing), candidate("b", clock, timing)
    a.observe(store.get())
    plan = a.decide()
    assert isinstance(plan, Write)
    sent = clock()
    clock.advance(in_flight)
    applied = clock()
    answer = store.write(plan, None, applied)
    events = sorted([(answered, "answer"), (seen_after, "seen")])
    for at, what in events:
        clock.advance(applied + at - clock())
        if what == "answer":
            a.succeeded(plan, sent, answer)
        else:
            b.observe(store.get())
    if not a.held:
        return
    clock.advance(max(0.0, applied + seen_after + timing.lease_seconds + late - clock()))
    if attempt(b, store, clock):
        acquired = clock()
        assert a.permit_until(acquired) is None and not a.leading(acquired)
        assert a.kill_at() <= acquired - timing.retry_period
        assert acquired >= sent + timing.lease_duration


def test_a_lease_deleted_while_another_holds_it_is_taken_only_once_that_record_expires() -> None:
    """`kubectl delete lease` while a leads: b, which saw a's record, waits for it to expire by b's clock (it took
    the Lease at once, while a still believed it led for up to the renew deadline); a itself re-creates it at once."""
    clock, store = Clock(), Store()
    a, b = candidate("a", clock), candidate("b", clock)
    attempt(a, store, clock)
    b.observe(store.get())
    clock.advance(1)
    store.lease = None  # deleted
    assert not attempt(b, store, clock)
    plan = b.decide()
    assert isinstance(plan, Wait) and plan.holder == "a" and plan.expires_in == pytest.approx(14)
    clock.advance(13.9)
    assert not attempt(b, store, clock)
    clock.advance(0.1)  # 15 s since b saw a's record: expired, and the Lease is created anew
    assert attempt(b, store, clock) and b.leading()
    assert store.history[-1][1].holder == "b"


def test_the_holder_recreates_its_deleted_lease_at_once() -> None:
    clock, store = Clock(), Store()
    a = candidate("a", clock)
    attempt(a, store, clock)
    store.lease = None
    assert a.observe(store.get()) == "taken"  # a stops believing it leads at once (its hooks are fenced)
    plan = a.decide()
    assert isinstance(plan, Write) and plan.create
    clock.advance(0.5)
    assert attempt(a, store, clock) and a.leading()


def test_a_write_of_the_lease_that_keeps_its_record_does_not_restart_the_expiry_clock() -> None:
    """client-go compares the record: a controller that labels or annotates the Lease every 10 s must not keep a
    dead leader's Lease alive forever."""
    clock, store = Clock(), Store()
    a, b = candidate("a", clock), candidate("b", clock)
    attempt(a, store, clock)
    b.observe(store.get())
    for _ in range(3):
        clock.advance(5)
        assert store.lease is not None
        store.version += 1  # an annotation written: a new resourceVersion, the same record
        store.lease["metadata"]["resourceVersion"] = str(store.version)
        if clock() < 1015:
            assert not attempt(b, store, clock)
    assert attempt(b, store, clock) and b.leading()  # 15 s after b saw a's record


@pytest.mark.parametrize(("timing", "end"), [(Timing(15, 10, 2), 10.0), (Timing(15, 14, 2), 13.0)])
def test_a_term_never_outlives_the_kill_deadline(timing: Timing, end: float) -> None:
    """15/14/2 passes client-go's checks, but its renew deadline (14 s) comes after kill_at (13 s): the reaper would
    SIGKILL a hook, without SIGTERM or grace, while kates still led and granted permits."""
    assert timing.problem() is None
    assert timing.permit_until(100.0) == 100.0 + end <= timing.kill_at(100.0)
