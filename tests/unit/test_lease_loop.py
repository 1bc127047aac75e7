"""The Lease loop (core/leader.py) on a fake client: resourceVersion on every write, 409 as a lost race, refusals
named, the renew deadline enforced while a request hangs, a taken Lease noticed, release. The API server's own
behaviour (409s, 403s, the Lease's fields as kubectl shows them) is shown end to end in tests/e2e/test_leader.py."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest

from kates_cli.core.leader import Leader
from kates_cli.core.lease import Timing
from kates_cli.errors import Conflict, Forbidden, NotFound
from tests.conftest import wait_for
from tests.unit.test_lease import Clock


class FakeClient:
    """One namespace's Leases, with resourceVersions; `hang` blocks every request until set; `refuse` raises."""

    def __init__(self) -> None:
        self.leases: dict[str, dict[str, Any]] = {}
        self.version = 0
        self.writes: list[tuple[str, str | None]] = []  # (verb, resourceVersion sent)
        self.hang = threading.Event()
        self.hang.set()
        self.refuse: dict[str, Exception] = {}

    def _enter(self, verb: str) -> None:
        self.hang.wait(30)
        if verb in self.refuse:
            raise self.refuse[verb]

    def _store(self, body: dict[str, Any]) -> dict[str, Any]:
        self.version += 1
        obj = copy.deepcopy(body)
        obj["metadata"]["resourceVersion"] = str(self.version)
        self.leases[obj["metadata"]["name"]] = obj
        return copy.deepcopy(obj)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        self._enter("get")
        if name not in self.leases:
            raise NotFound(f'leases.coordination.k8s.io "{name}" not found', code=404)
        return copy.deepcopy(self.leases[name])

    def create(self, body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        self._enter("create")
        self.writes.append(("create", None))
        if body["metadata"]["name"] in self.leases:
            raise Conflict("already exists", code=409)
        return self._store(body)

    def update(self, body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        self._enter("update")
        rv = body["metadata"].get("resourceVersion")
        self.writes.append(("update", rv))
        if body["metadata"]["name"] not in self.leases:
            raise NotFound(f'leases.coordination.k8s.io "{body["metadata"]["name"]}" not found', code=404)
        if self.leases[body["metadata"]["name"]]["metadata"]["resourceVersion"] != rv:
            raise Conflict("the object has been modified", code=409)
        return self._store(body)

    def delete(self, name: str) -> None:
        del self.leases[name]

    def steal(self, name: str, holder: str) -> None:
        obj = copy.deepcopy(self.leases[name])
        obj["spec"]["holderIdentity"] = holder
        self._store(obj)


TIMING = Timing(15.0, 10.0, 2.0)


def leader(client: FakeClient, clock: Clock, who: str = "me", **callbacks: Any) -> Leader:
    return Leader(
        client,  # type: ignore[arg-type]
        "ns",
        "l",
        who,
        TIMING,
        monotonic=clock,
        wall=clock.wall_now,
        watch_releases=False,  # a wake-up on the real API server only (tests/e2e/test_leader.py)
        **callbacks,
    )


def test_every_update_carries_the_version_last_seen_and_a_409_is_a_lost_race() -> None:
    client, clock = FakeClient(), Clock()
    other = leader(client, clock, "other")
    other._attempt()
    me = leader(client, clock)
    me._attempt()
    assert other.leading() and not me.leading()
    clock.advance(15)  # a full lease duration without a change: we try to take it...
    real_get = client.get

    def get_then_race(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        got = real_get(kind, name, namespace)
        client.steal("l", "late")  # ...but another candidate writes between our read and our write
        return got

    client.get = get_then_race  # type: ignore[method-assign]
    me._attempt()
    assert not me.leading() and me.error is None
    assert client.writes[-1] == ("update", "1")  # the version we read, refused
    assert client.leases["l"]["spec"]["holderIdentity"] == "late"
    assert all(rv is not None for verb, rv in client.writes if verb == "update")


def test_a_refused_read_at_the_start_names_leases_and_the_verb() -> None:
    client, clock = FakeClient(), Clock()
    client.refuse["get"] = Forbidden(
        'leases.coordination.k8s.io "l" is forbidden: User "u" cannot get resource "leases" in API group '
        '"coordination.k8s.io" in the namespace "ns"',
        code=403,
    )
    with pytest.raises(Forbidden) as info:
        leader(client, clock).start()
    assert info.value.message.startswith('cannot get leases (lease ns/l): leases.coordination.k8s.io "l" is forbid')
    assert info.value.hint == (
        "kates watch --leader-elect needs get, create and update on leases.coordination.k8s.io in ns"
    )


def test_a_refused_create_names_the_verb_in_flight() -> None:
    client, clock = FakeClient(), Clock()
    client.refuse["create"] = Forbidden("forbidden", code=403)
    with pytest.raises(Forbidden, match=r"^cannot create leases \(lease ns/l\): forbidden$"):
        leader(client, clock).start()


def test_leadership_ends_at_the_renew_deadline_even_while_a_renewal_hangs() -> None:
    client, clock = FakeClient(), Clock()
    lost: list[tuple[str, float]] = []
    me = leader(client, clock, on_lost=lambda why: lost.append((why, clock())))
    me.start()
    try:
        assert me.leading()
        deadline = me.renewed_at + TIMING.renew_deadline
        client.hang.clear()  # every request from now on hangs
        clock.advance(9.9)
        assert me.leading() and not lost
        clock.advance(0.1)
        wait_for(lambda: lost, 5, "the watchdog")
        assert lost == [("renew deadline", deadline)] and not me.leading() and me.permit_until() is None
    finally:
        client.hang.set()
        me.stop()


def test_a_taken_lease_ends_leadership_and_the_loser_stands_again() -> None:
    client, clock = FakeClient(), Clock()
    events: list[str] = []
    me = leader(client, clock, on_gained=lambda: events.append("gained"), on_lost=events.append)
    me._attempt()
    client.steal("l", "thief")
    clock.advance(2)
    me._attempt()  # the fast path meets a 409, the read shows the thief
    assert events == ["gained", "taken"] and not me.leading()
    clock.advance(14)
    me._attempt()
    assert not me.leading()  # the thief's change was seen 14 s ago: not yet expired
    clock.advance(1)
    me._attempt()
    assert me.leading() and events == ["gained", "taken", "gained"] and me.gains == 2
    assert client.leases["l"]["spec"]["leaseTransitions"] == 1  # thief's steal kept 0; our return: +1


def test_each_term_sets_the_kill_deadline_before_it_is_announced() -> None:
    client, clock = FakeClient(), Clock()
    seen: list[str] = []
    me = leader(client, clock, on_renewed=lambda kill_at: seen.append(f"renewed {kill_at}"))
    me.on_gained = lambda: seen.append("gained")
    me._attempt()
    clock.advance(2)
    me._attempt()
    assert seen == ["renewed 1013.0", "gained", "renewed 1015.0"]


def test_release_writes_an_empty_holder_and_keeps_transitions() -> None:
    client, clock = FakeClient(), Clock()
    me = leader(client, clock)
    me.start()
    me.stop()
    assert me.release()
    spec = client.leases["l"]["spec"]
    assert spec["holderIdentity"] == "" and spec["leaseDurationSeconds"] == 1 and spec["leaseTransitions"] == 0
    other = leader(client, clock, "other")
    other._attempt()
    assert other.leading()  # at once
    assert not me.release()  # no longer ours: nothing written


def test_a_deleted_lease_ends_the_term_and_is_created_again() -> None:
    client, clock = FakeClient(), Clock()
    events: list[str] = []
    me = leader(client, clock, on_gained=lambda: events.append("gained"), on_lost=events.append)
    me._attempt()
    client.delete("l")
    clock.advance(2)
    me._attempt()  # the fast path's update meets a 404: read, see no Lease, create it again
    assert events == ["gained", "taken", "gained"] and me.leading() and me.error is None
    assert client.leases["l"]["spec"]["holderIdentity"] == "me"


def test_an_answer_that_is_no_lease_is_retried_and_said_once() -> None:
    """A proxy's HTML page (not JSON) or JSON of another shape: the election thread died of it, silently, and the
    replica never stood again."""
    client, clock = FakeClient(), Clock()
    said: list[str] = []
    me = leader(client, clock, notice=said.append)
    client.refuse["get"] = ValueError("unexpected character: line 1 column 1 (char 0)")
    me._attempt()
    me._attempt()
    assert me.error is None and not me.leading()
    assert said == [
        "leader election on lease ns/l: an answer that is not a Lease (ValueError: unexpected character: line 1 "
        "column 1 (char 0)); retrying"
    ]
    del client.refuse["get"]
    me._attempt()
    assert me.leading() and me.error is None


def test_a_bug_in_an_attempt_ends_the_election_visibly() -> None:
    client, clock = FakeClient(), Clock()
    me = leader(client, clock)
    me.start()
    try:
        client.refuse["update"] = client.refuse["get"] = KeyError("a bug")
        clock.advance(2)
        with me._wake:
            me._poked = True
            me._wake.notify_all()
        wait_for(lambda: me.error is not None, 5, "the error")
        assert me.error is not None and "KeyError" in me.error.message and not me.leading()
    finally:
        me.stop()


def test_a_candidate_stopping_never_acquires_what_release_wrote() -> None:
    """stop() waits 10 s for the loop; a renewal in flight past that met 409, read the released (empty) Lease and
    acquired it again, after `release`: the process exited holding the Lease."""
    client, clock = FakeClient(), Clock()
    me = leader(client, clock)
    me._attempt()
    real_get = client.get

    def get_while_stopping(kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        client.get = real_get  # type: ignore[method-assign]
        me._stopped.set()
        assert me.release()  # the main thread's release, while this attempt's read is in flight
        return real_get(kind, name, namespace)

    client.get = get_while_stopping  # type: ignore[method-assign]
    client.steal("l", "me")  # a new version: the fast renewal meets 409 and reads
    clock.advance(2)
    me._attempt()
    assert client.leases["l"]["spec"]["holderIdentity"] == ""  # still released


def test_release_meeting_an_answer_that_is_no_lease_says_so_and_returns() -> None:
    client, clock = FakeClient(), Clock()
    said: list[str] = []
    me = leader(client, clock, notice=said.append)
    me._attempt()
    client.refuse["get"] = ValueError("unexpected character")
    assert me.release() is False
    assert said == ["could not release lease ns/l: an answer that is not a Lease (unexpected character)"]


def test_the_lease_watch_waits_when_the_server_ends_it_at_once_and_empty() -> None:
    """A proxy that ends every watch at once: the wake-up watch asked again in a tight loop, on every replica."""

    class Empty:
        def lines(self) -> Any:
            return iter(())

        def close(self) -> None:
            pass

        def abort(self) -> None:
            pass

    opens: list[float] = []

    class Transport:
        def open(self, *args: Any, **kwargs: Any) -> Empty:
            opens.append(0.0)
            return Empty()

    client, clock = FakeClient(), Clock()
    client.transport = Transport()  # type: ignore[attr-defined]
    me = leader(client, clock)
    thread = threading.Thread(target=me._watch_lease, daemon=True)
    thread.start()
    wait_for(lambda: opens, 5, "the first watch")
    threading.Event().wait(0.3)
    assert len(opens) == 1  # then it waits a retry period (2 s), not a round trip
    me.stop()
    thread.join(5)


def test_an_acquiring_write_answered_after_stop_is_released_at_once() -> None:
    """stop() waits 10 s for the loop; a create in flight past that (the Lease was absent, so `release` found nothing
    to release) landed, fired on_gained after the shutdown began, and the process exited holding a full term."""
    client, clock = FakeClient(), Clock()
    events: list[str] = []
    me = leader(client, clock, on_gained=lambda: events.append("gained"), on_lost=events.append)
    real_create = client.create

    def create_while_stopping(body: dict[str, Any], namespace: str | None = None) -> dict[str, Any]:
        me._stopped.set()  # stop() and its release came and went while this request was on the wire
        return real_create(body, namespace)

    client.create = create_while_stopping  # type: ignore[method-assign]
    me._attempt()
    assert events == [] and not me.leading()
    spec = client.leases["l"]["spec"]
    assert spec["holderIdentity"] == "" and spec["leaseDurationSeconds"] == 1  # given back at once
