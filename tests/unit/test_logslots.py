"""Fair turns over --max-log-requests (core/logslots.py), with a fake clock."""

from __future__ import annotations

import threading

from kates_cli.core.logslots import Slots
from tests.conftest import wait_for


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_at_most_limit_hold_and_the_rest_queue_first_come_first_served() -> None:
    slots = Slots(2)
    stop = threading.Event()
    assert slots.acquire("a", stop) and slots.acquire("b", stop)
    got: list[str] = []

    def wait(who: str) -> None:
        if slots.acquire(who, stop):
            got.append(who)

    for count, who in enumerate(("c", "d"), 1):
        threading.Thread(target=wait, args=(who,), daemon=True).start()
        wait_for(lambda n=count: slots.waiting == n, 5, f"{who} queued")
    assert got == [] and slots.waiting == 2
    slots.release("a")
    wait_for(lambda: got == ["c"], 5, "c's turn")
    slots.release("b")
    wait_for(lambda: got == ["c", "d"], 5, "d's turn")
    assert slots.waiting == 0


def test_a_waiter_whose_stop_is_set_leaves_the_queue() -> None:
    slots = Slots(1)
    assert slots.acquire("a", threading.Event())
    stop = threading.Event()
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.append(slots.acquire("b", stop)), daemon=True)
    t.start()
    wait_for(lambda: slots.waiting == 1, 5, "b queued")
    stop.set()
    slots.wake()
    t.join(5)
    assert result == [False] and slots.waiting == 0 and not slots.holds("b")


def test_without_a_turn_nobody_is_due_however_long_they_hold() -> None:
    clock = Clock()
    slots = Slots(1, None, clock)
    assert slots.acquire("a", threading.Event())
    threading.Thread(target=slots.acquire, args=("b", threading.Event()), daemon=True).start()
    wait_for(lambda: slots.waiting == 1, 5, "b queued")
    clock.now = 1e6
    assert slots.due() == []


def test_streams_take_turns_so_every_one_streams() -> None:
    """3 slots, 7 streams, turns of 5s: each due holder gives way to a waiter; after enough turns all have held."""
    clock = Clock()
    slots = Slots(3, 5.0, clock)
    never = threading.Event()
    names = [f"s{i}" for i in range(7)]
    held: set[str] = set()
    for name in names[:3]:
        assert slots.acquire(name, never)
        held.add(name)
    for name in names[3:]:  # queued in order, without blocking this thread: a waiter's place is its arrival
        threading.Thread(target=slots.acquire, args=(name, never), daemon=True).start()
        wait_for(lambda n=name: slots.waiting == names.index(n) - 2, 5, f"{name} queued")
    assert slots.due() == []  # nobody's turn is over yet
    for _ in range(3):
        clock.now += 5.0
        due = slots.due()
        assert len(due) == 3  # at most one per waiter; 4 wait
        for who in due:
            slots.requeue(who)
            assert slots.waiting == 4  # handed over in one step: the count never flickers
        wait_for(lambda: sum(slots.holds(n) for n in names) == 3, 5, "three holders")
        held |= {n for n in names if slots.holds(n)}
    assert held == set(names)


def test_due_is_at_most_one_per_waiter_oldest_turn_first() -> None:
    clock = Clock()
    slots = Slots(3, 5.0, clock)
    never = threading.Event()
    for name, at in (("a", 0.0), ("b", 1.0), ("c", 2.0)):
        clock.now = at
        assert slots.acquire(name, never)
    threading.Thread(target=slots.acquire, args=("w", never), daemon=True).start()
    wait_for(lambda: slots.waiting == 1, 5, "w queued")
    clock.now = 10.0
    assert slots.due() == ["a"]
    slots.requeue("a")
    wait_for(lambda: slots.holds("w"), 5, "w's turn")
    assert slots.due() == ["b"]  # a waits now, and b's turn is the oldest


def test_requeue_with_nobody_waiting_keeps_the_slot() -> None:
    slots = Slots(1, 5.0)
    assert slots.acquire("a", threading.Event())
    slots.requeue("a")
    assert slots.holds("a") and slots.waiting == 0
