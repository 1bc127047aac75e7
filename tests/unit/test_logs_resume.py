"""The resume logic of a followed log stream (core/logs.py), fed scripted connections: which lines are delivered
across reconnects, what is said, and when the stream ends. The server's own behaviour (status codes, server text,
idle streams) is pinned down against the real control plane in tests/e2e/test_logs_faults.py."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from kates_cli.core import logs
from kates_cli.core.logs import Cursor, LogObserver, LogOptions, LogSource, StreamControl, pod_log_stream
from kates_cli.errors import ApiError, ExitCode, Forbidden, KatesError, NotFound, Unreachable, from_status

T1 = "2026-01-01T00:00:01.000000000Z"
T2 = "2026-01-01T00:00:01.500000000Z"
T3 = "2026-01-01T00:00:02.000000000Z"
SRC = LogSource("ns", "pod", "c")


def test_lines_sharing_the_last_timestamp_are_skipped_by_count() -> None:
    cursor = Cursor({"tailLines": 10})
    assert cursor.params() == {"tailLines": 10}
    assert [cursor.admit(ts) for ts in (T1, T2, T2)] == [True, True, True]
    assert cursor.params() == {"sinceTime": T2}
    # the replay: from the start of the second, two lines at T2 already delivered, then a third written later
    assert [cursor.admit(ts) for ts in (T1, T2, T2, T2, T3)] == [False, False, False, True, True]
    assert cursor.params() == {"sinceTime": T3}
    assert [cursor.admit(ts) for ts in (T3, T3)] == [False, True]


def test_within_a_connection_a_line_stamped_earlier_than_the_one_before_is_delivered() -> None:
    """A node clock stepped back, or stdout and stderr stamped a moment apart: every line is the container's, and
    kubectl prints them all (only a reconnect's replay is dropped)."""
    cursor = Cursor({})
    cursor.params()
    assert [cursor.admit(ts) for ts in (T2, T1, T3, T1)] == [True, True, True, True]
    assert cursor.params() == {"sinceTime": T3}  # the newest delivered
    # the replay: every line from T3's second on, in the log's order (T1s are before it), then the new ones
    assert [cursor.admit(ts) for ts in (T3, T3, T2)] == [False, True, True]


def test_a_replay_of_lines_stamped_out_of_order_repeats_none() -> None:
    """Delivered A at :02.5, then B at :02.3 (stamped apart): a reconnect from :02.5 is answered from :02 on, A then
    B again; both are dropped, and the next line is new whatever its stamp."""
    a, b, c = "2026-01-01T00:00:02.500000000Z", "2026-01-01T00:00:02.300000000Z", "2026-01-01T00:00:02.100000000Z"
    cursor = Cursor({})
    cursor.params()
    assert [cursor.admit(ts) for ts in (a, b)] == [True, True]
    assert cursor.params() == {"sinceTime": a}
    assert [cursor.admit(ts) for ts in (a, b, c)] == [False, False, True]


def test_until_a_line_is_delivered_relative_options_become_fixed_times() -> None:
    date = "Thu, 01 Jan 2026 00:00:10 GMT"
    since = Cursor({"sinceSeconds": 5, "tailLines": 3})
    since.answered(date)
    assert since.params() == {"sinceTime": "2026-01-01T00:00:05Z", "tailLines": 3}
    none = Cursor({"tailLines": 0})
    none.answered(date)
    assert none.params() == {"sinceTime": "2026-01-01T00:00:10Z"}  # --tail 0: what is written from now on
    kept = Cursor({"sinceTime": T1})
    kept.answered(None)
    assert kept.params() == {"sinceTime": T1}


# -- the stream, over scripted connections ------------------------------------------------------------------


@dataclass
class Conn:
    """One scripted answer to a request: raise `error`, or answer 200 with `lines` and then end as `end` says
    (None: a clean end; an exception: raised by the read)."""

    lines: list[bytes] = field(default_factory=list)
    error: KatesError | None = None
    end: BaseException | None = None


class FakeResponse:
    def __init__(self, conn: Conn):
        self.conn = conn
        self.headers = {"Date": "Thu, 01 Jan 2026 00:00:10 GMT"}

    def line_batches(self, *, keep_cr: bool = False) -> Iterator[list[bytes]]:
        assert keep_cr  # a log's CR is its own (kubectl prints it)
        for line in self.conn.lines:  # a read per line: each is handed over as it comes
            yield [line]
        if self.conn.end is not None:
            raise self.conn.end

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class FakeTransport:
    def __init__(self, script: list[Conn], control: StreamControl):
        self.script = script
        self.control = control
        self.params: list[dict[str, Any]] = []

    def open(self, method: str, path: str, *, params: dict[str, Any], **kw: Any) -> FakeResponse:
        self.params.append({k: v for k, v in params.items() if k in ("sinceTime", "tailLines", "sinceSeconds")})
        if not self.script:
            self.control.end()  # the script is over: kates stops
            raise Unreachable("stopped")
        conn = self.script.pop(0)
        if conn.error is not None:
            raise conn.error
        return FakeResponse(conn)


class FakeClient:
    def __init__(self, script: list[Conn], control: StreamControl, running: bool = True):
        self.transport = FakeTransport(script, control)
        self.running = running

    def get(self, kind: str, name: str, namespace: str) -> dict[str, Any]:
        state = {"running": {}} if self.running else {"terminated": {}}
        return {"metadata": {}, "status": {"containerStatuses": [{"name": "c", "state": state}]}}


class Notes(LogObserver):
    def __init__(self) -> None:
        self.said: list[str] = []

    def started(self, src: LogSource) -> None:
        self.said.append("+")

    def trouble(self, src: LogSource, text: str) -> None:
        self.said.append(text)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs.Backoff, "take", lambda self: 0.0)


def run(script: list[Conn], *, follow: bool = True, running: bool = True) -> tuple[list[str], list[Any], Any, Notes]:
    control = StreamControl()
    client = FakeClient(script, control, running)
    notes = Notes()
    events = list(pod_log_stream(client, SRC, LogOptions(follow=follow), control, observer=notes))  # type: ignore[arg-type]
    assert events[-1].closed and all(not e.closed for e in events[:-1])
    return [e.output for e in events[:-1]], client.transport.params, events[-1], notes


def line(ts: str, text: str) -> bytes:
    return f"{ts} {text}".encode()


def outage(code: int = 500) -> Conn:
    return Conn(error=from_status(code, {"message": f"kubelet down ({code})"}))


def test_a_followed_stream_retries_through_an_outage_and_resumes_without_loss_or_repeat() -> None:
    dropped = Unreachable("unable to connect to the server: IncompleteRead")
    out, params, last, notes = run(
        [
            Conn([line(T1, "a"), line(T2, "b"), line(T2, "c")], end=dropped),
            *[outage(500) for _ in range(20)],  # far longer than the old code's five attempts
            outage(503),
            outage(429),
            Conn(error=Unreachable("connection refused")),
            Conn([line(T1, "a"), line(T2, "b"), line(T2, "c"), line(T2, "d"), line(T3, "e")]),
        ]
    )
    assert out == ["a", "b", "c", "d", "e"]
    assert params[0] == {} and all(p == {"sinceTime": T2} for p in params[1:-1])
    assert notes.said == ["+", "log stream interrupted (kubelet down (500)); reconnecting", "log stream resumed"]
    assert last.error is None


def test_server_text_is_never_a_line_and_counts_as_a_drop() -> None:
    out, params, _, notes = run(
        [
            Conn([line(T1, "a"), b"context cancelled"]),  # kwok's words when it stops, then a clean end
            Conn([line(T1, "a"), line(T3, "b")]),
        ]
    )
    assert out == ["a", "b"]
    assert params[1] == {"sinceTime": T1}
    assert notes.said == ["+"]  # the next request repaired it: nothing to say


def test_without_follow_server_text_is_the_stream_error() -> None:
    out, _, last, _ = run([Conn([line(T1, "a"), b"context cancelled"])], follow=False)
    assert out == ["a"]
    assert last.error is not None and last.error.message == "the server ended the log stream: context cancelled"


def test_a_read_timeout_reconnects_at_once_and_says_nothing_if_answered() -> None:
    idle = Unreachable("unable to connect to the server: timed out")
    idle.__cause__ = TimeoutError("timed out")
    out, params, _, notes = run(
        [
            Conn([line(T1, "a")], end=idle),
            Conn([line(T1, "a")], end=idle),
            Conn([line(T1, "a"), line(T3, "b")]),
        ]
    )
    assert out == ["a", "b"] and notes.said == ["+"]
    assert params[1:] == [{"sinceTime": T1}, {"sinceTime": T1}, {"sinceTime": T3}]


def test_a_read_timeout_then_no_answer_is_a_stall_said_once() -> None:
    def timeout() -> Unreachable:
        exc = Unreachable("unable to connect to the server: timed out")
        exc.__cause__ = TimeoutError("timed out")
        return exc

    out, _, _, notes = run(
        [
            Conn([line(T1, "a")], end=timeout()),
            Conn(error=timeout()),
            Conn(error=timeout()),
            Conn([line(T3, "b")]),
        ]
    )
    assert out == ["a", "b"]
    assert notes.said == [
        "+",
        "no answer from the server for 30s: log stream stalled; reconnecting",
        "log stream resumed",
    ]


@pytest.mark.parametrize(
    ("error", "reported"),
    [(NotFound("pods not found", code=404), False), (Forbidden("forbidden", code=403), True)],
)
def test_the_pod_gone_ends_the_stream_quietly_and_a_refusal_with_its_error(error: ApiError, reported: bool) -> None:
    out, _, last, _ = run([Conn([line(T1, "a")]), Conn(error=error)])
    assert out == ["a"]
    assert (last.error is error) is reported


def test_a_clean_end_of_a_container_that_stopped_ends_the_stream() -> None:
    out, params, last, _ = run([Conn([line(T1, "a")])], running=False)
    assert (out, len(params), last.error) == (["a"], 1, None)


def test_a_client_error_for_a_container_that_stopped_ends_with_the_error() -> None:
    refused = from_status(400, {"message": 'container "c" in pod "pod" is terminated'})
    out, _, last, _ = run([Conn(error=refused)], running=False)
    assert out == [] and last.error is refused


@pytest.mark.parametrize("value", ["1s", "0", "500ms"])
def test_a_stall_timeout_under_two_seconds_is_a_usage_error(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kates_cli.cli.app import main

    assert main(["logs", "web", "-f", "--stall-timeout", value]) == ExitCode.USAGE  # before any cluster is needed
    assert capsys.readouterr().err == f'error: invalid --stall-timeout "{value}": must be at least 2s\n'
