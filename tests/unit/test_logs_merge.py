"""The merge of many log streams without --follow (core/logs.py `LogMux.events`), over scripted streams: the order
of the merged lines, the bound on what a stream reads ahead of the merge, and the first lines coming out before the
streams end. What a stream reads from the server is tested in test_logs_resume.py and tests/e2e/test_logs*.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kates_cli.core import logs
from kates_cli.core.logs import LogEvent, LogMux, LogOptions, LogSource, StreamControl
from kates_cli.errors import KatesError
from tests.conftest import wait_for


def ts(second: int, frac: int = 0) -> str:
    return f"2026-01-01T00:00:{second:02d}.{frac:09d}Z"


class Script:
    """Each source's lines as (timestamp, text); `gate[src]` (when set) is waited on before that stream's end, and
    `read[src]` counts the lines each stream has produced so far."""

    def __init__(self, lines: dict[str, list[tuple[str, str]]], errors: dict[str, KatesError] | None = None):
        self.lines = lines
        self.errors = errors or {}
        self.gate: dict[str, threading.Event] = {}
        self.read: dict[str, int] = dict.fromkeys(lines, 0)
        self.batch = 1

    def stream(
        self, client: Any, src: LogSource, opts: LogOptions, control: StreamControl, **kw: Any
    ) -> Iterator[list[LogEvent]]:
        """As core/logs.py `log_batches`: a list per read, here `self.batch` lines (the last one with the close)."""
        batch: list[LogEvent] = []
        for stamp, text in self.lines[src.pod]:
            self.read[src.pod] += 1
            batch.append(LogEvent(src.namespace, src.pod, src.container, stamp, text))
            if len(batch) == self.batch:
                yield batch
                batch = []
        gate = self.gate.get(src.pod)
        if gate is not None:
            gate.wait(30)
        yield [
            *batch,
            LogEvent(src.namespace, src.pod, src.container, "", "", closed=True, error=self.errors.get(src.pod)),
        ]


def mux_of(script: Script, monkeypatch: pytest.MonkeyPatch, max_requests: int = 50) -> LogMux:
    monkeypatch.setattr(logs, "log_batches", script.stream)
    mux = LogMux(None, LogOptions(), max_requests=max_requests)  # type: ignore[arg-type]
    for pod in script.lines:
        mux.add(LogSource("ns", pod, "c"))
    mux.finish_adding()
    return mux


def take(events: Iterator[LogEvent], count: int, within: float = 5.0) -> list[str]:
    """The next `count` lines' texts, which must come within `within` seconds (the streams are still open)."""
    got: list[str] = []
    taker = threading.Thread(target=lambda: got.extend(next(events).output for _ in range(count)), daemon=True)
    taker.start()
    taker.join(within)
    assert len(got) == count, f"only {got} within {within}s"
    return got


def texts(events: list[LogEvent]) -> list[str]:
    return [e.output if not e.closed else f"closed {e.pod}" for e in events]


@pytest.mark.parametrize("max_requests", [50, 1], ids=["streamed", "more-streams-than-run-at-once"])
def test_lines_merge_in_timestamp_order_each_stream_in_its_own_order_and_ties_in_the_order_added(
    monkeypatch: pytest.MonkeyPatch, max_requests: int
) -> None:
    script = Script(
        {
            "a": [(ts(1), "a1"), (ts(3), "a3"), (ts(2), "a2-stamped-earlier"), (ts(5), "a5")],
            "b": [(ts(2), "b2"), (ts(3), "b3"), (ts(4), "b4")],
            "c": [],
        },
        errors={"c": KatesError("refused")},
    )
    events = list(mux_of(script, monkeypatch, max_requests).events())
    lines = texts([e for e in events if not e.closed])
    # a line stamped earlier than the one before it stays after it, as kubectl prints one stream
    assert lines == ["a1", "b2", "a3", "a2-stamped-earlier", "b3", "b4", "a5"]
    closing = [e for e in events if e.closed]
    assert sorted(e.pod for e in closing) == ["a", "b", "c"] and events[-3:] == closing  # the closings come last
    assert [str(e.error) for e in closing if e.error] == ["refused"]


def test_the_first_lines_come_out_before_any_stream_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    script = Script({"a": [(ts(1), "a1"), (ts(4), "a4")], "b": [(ts(2), "b2"), (ts(3), "b3")]})
    script.gate = {"a": threading.Event(), "b": threading.Event()}
    events = iter(mux_of(script, monkeypatch).events())
    # every stream has a line waiting: the oldest lines are released while both streams are still open
    assert take(events, 3) == ["a1", "b2", "b3"]
    script.gate["b"].set()  # b ends: a's last line is the oldest of what remains
    assert take(events, 1) == ["a4"]
    script.gate["a"].set()
    assert texts(list(events)) == ["closed b", "closed a"]


def test_a_stream_reads_no_more_than_its_credit_ahead_of_the_merge(monkeypatch: pytest.MonkeyPatch) -> None:
    """A long log and a quiet one: while the quiet stream has nothing, the long one reads only CREDIT lines ahead,
    so kates's memory stays bounded by the streams' count, not the logs' size."""
    monkeypatch.setattr(logs, "CREDIT", 8)  # reads of one line each, here
    script = Script({"long": [(ts(2, i), f"l{i}") for i in range(100)], "quiet": [(ts(1), "q1")]})
    quiet_started = threading.Event()
    script.gate = {"quiet": threading.Event()}
    original = script.stream

    def stream(client: Any, src: LogSource, *a: Any, **kw: Any) -> Iterator[list[LogEvent]]:
        if src.pod == "quiet":
            quiet_started.wait(10)
        yield from original(client, src, *a, **kw)

    script.stream = stream  # type: ignore[method-assign]
    events = iter(mux_of(script, monkeypatch).events())
    # the long stream reads ahead until its credit is spent, then waits for the merge
    wait_for(lambda: script.read["long"] >= 9, 30, "the long stream to spend its credit")
    threading.Event().wait(0.2)  # (a stream that read on would show it here)
    assert script.read["long"] == 9  # 8 handed over, the 9th read and waiting for credit
    quiet_started.set()
    assert take(events, 1) == ["q1"]
    script.gate["quiet"].set()
    rest = texts(list(events))
    assert rest == [f"l{i}" for i in range(100)] + ["closed quiet", "closed long"]


def test_stopping_the_merge_ends_streams_waiting_for_credit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "CREDIT", 2)
    script = Script({"long": [(ts(2, i), f"l{i}") for i in range(50)], "quiet": []})
    script.gate = {"quiet": threading.Event()}
    mux = mux_of(script, monkeypatch)
    events = iter(mux.events())
    threading.Timer(0.2, mux.stop).start()
    assert texts(list(events)) == []  # the quiet stream never had a line: nothing could be released
    assert script.read["long"] <= 3
    script.gate["quiet"].set()
