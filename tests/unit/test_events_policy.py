"""The watch's event fan-out and its failure policy: pure pieces, no cluster."""

from __future__ import annotations

import io

import pytest

from kates_cli.cli.events import Event, Events, TextLog
from kates_cli.cli.hook import RunResult
from kates_cli.cli.policy import FailurePolicy, HookFailed, why


def test_text_log_writes_only_events_with_a_message() -> None:
    out = io.StringIO()
    seen: list[Event] = []
    events = Events(TextLog(out), seen.append)
    events.emit("run.started", None, run=0)
    events.emit("run.backoff", "hook failed (exit 1), 1 in a row; retrying in 1.0s", failures=1)
    events.notice("kates: watch of query cm stalled")
    assert out.getvalue() == (
        "kates: hook failed (exit 1), 1 in a row; retrying in 1.0s\nkates: watch of query cm stalled\n"
    )
    assert [e.name for e in seen] == ["run.started", "run.backoff", "stream.notice"]
    assert seen[1].fields == {"failures": 1} and seen[0].time > 0


def test_failure_policy_counts_resets_and_ends_at_the_bound() -> None:
    policy = FailurePolicy(max_failures=3, backoff_cap=30)
    first = policy.failed("exit 1")
    assert policy.failures == 1 and first > 0
    policy.succeeded()
    assert policy.failures == 0
    policy.failed("exit 1")
    policy.failed("exit 1")
    with pytest.raises(HookFailed, match=r"^hook failed 3 times in a row \(last: exit 2\)$"):
        policy.failed("exit 2")


def test_why_names_the_cause_of_a_failed_run() -> None:
    assert why(RunResult(3, 0.1), None) == "exit 3"
    assert why(RunResult(143, 5.0, timed_out=True), 5) == "timed out after 5s, exit 143"
    assert why(RunResult(127, 0.0, error="/h: Exec format error"), None) == "/h: Exec format error"


@pytest.mark.parametrize("cap", [0.2, 1.0, 30.0])
def test_no_retry_waits_longer_than_max_backoff_jitter_included(cap: float) -> None:
    """The first wait was 1 s whatever --max-backoff said, and the jitter came on top of the cap (0.2 s gave 0.24)."""
    policy = FailurePolicy(max_failures=0, backoff_cap=cap)
    delays = [policy.failed("exit 1") for _ in range(40)]
    assert all(0 < d <= cap for d in delays), delays
    assert delays[0] <= 1.2  # the first wait is about a second, when the cap allows it
    assert max(delays[-5:]) >= cap * 0.8  # it grows to the cap
