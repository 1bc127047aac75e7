"""The watch's metrics, probes and JSON log as pure pieces: a scripted event stream in, metric values and log lines
out (no cluster). The same things against the real control plane are in tests/e2e/test_metrics.py."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from types import SimpleNamespace
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kates_cli.cli.app import main
from kates_cli.cli.events import Event, Events, JsonLog, ServerWarnings, StreamFacts, TextLog
from kates_cli.cli.metrics import METRICS, Metrics
from kates_cli.cli.probes import Probes, ProbeServer, parse_addr
from kates_cli.core.accumulator import Accumulator, Query, QueryState, make_entry
from kates_cli.errors import KatesError, UsageError


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the registry as exposed, parsed by prometheus_client's own parser."""
    out = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return samples(metrics)[(name, tuple(sorted(labels.items())))]


def cm(name: str, rv: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "ns", "uid": f"u-{name}", "resourceVersion": str(rv)},
    }


def accumulator() -> Accumulator:
    return Accumulator([QueryState(Query("cms", "cm", "ns"), "", "configmaps", "v1", "ConfigMap")])


# -- the metrics sink ---------------------------------------------------------------------------------------------


def test_a_scripted_event_stream_gives_exactly_its_counts() -> None:
    metrics = Metrics(["cms", "pods"])
    events = Events(metrics)
    facts = StreamFacts(events, metrics.count_event)
    events.emit("bootstrap.done", None, seconds=1.5, objects={"cms": 2, "pods": 0})
    facts.listed("cms")
    facts.listed("pods")
    facts.listed("cms")  # a relist
    for reason in ("410", "stall", "stall", "error", "closed"):
        facts.restarted("cms", reason)
    for etype in ("ADDED", "ADDED", "MODIFIED", "DELETED", "BOOKMARK"):
        facts.event("cms", etype)
    for run, (result, seconds) in enumerate([("success", 0.02), ("failure", 0.3), ("failure", 0.4), ("timeout", 5)]):
        events.emit("run.started", None, run=run, deltas=1, snapshot_bytes=10)
        events.emit("run.ended", None, run=run, seconds=seconds, code=0, result=result, stopped=False, error=None)
        if result != "success":
            events.emit("run.backoff", "hook failed", run=run, failures=run, delay=1.0)
    assert value(metrics, "kates_hook_consecutive_failures") == 3
    events.emit("run.ended", None, run=4, seconds=0.1, code=0, result="success", stopped=False, error=None)

    assert value(metrics, "kates_bootstrap_duration_seconds") == 1.5
    assert value(metrics, "kates_watch_lists_total", query="cms") == 2
    assert value(metrics, "kates_watch_lists_total", query="pods") == 1
    restarts = {
        r: value(metrics, "kates_watch_restarts_total", query="cms", reason=r)
        for r in ("410", "404", "stall", "error", "closed")
    }
    assert restarts == {"410": 1, "404": 0, "stall": 2, "error": 1, "closed": 1}
    assert value(metrics, "kates_watch_restarts_total", query="pods", reason="error") == 0  # present at 0
    events_by_type = {
        t: value(metrics, "kates_watch_events_total", query="cms", type=t)
        for t in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK")
    }
    assert events_by_type == {"ADDED": 2, "MODIFIED": 1, "DELETED": 1, "BOOKMARK": 1}
    assert value(metrics, "kates_watch_events_total", query="pods", type="ADDED") == 0
    runs = {r: value(metrics, "kates_hook_runs_total", result=r) for r in ("success", "failure", "timeout")}
    assert runs == {"success": 2, "failure": 2, "timeout": 1}
    assert value(metrics, "kates_hook_run_duration_seconds_count") == 5
    assert value(metrics, "kates_hook_run_duration_seconds_sum") == pytest.approx(5.82)
    assert value(metrics, "kates_hook_run_duration_seconds_bucket", le="0.25") == 2
    assert value(metrics, "kates_hook_consecutive_failures") == 0  # the success reset it
    assert not any(name.endswith("_created") for name, _ in samples(metrics))


def test_every_documented_metric_is_exposed_and_nothing_else() -> None:
    metrics = Metrics(["cms"])
    metrics.acc = accumulator()
    families = {f.name: f.type for f in text_string_to_metric_families(metrics.render().decode())}
    # the parser names a counter's family without its _total suffix
    documented = {name.removesuffix("_total") if kind == "counter" else name: kind for name, kind, _ in METRICS}
    assert families == documented
    assert all(name.startswith("kates_") for name in families)


def test_leadership_is_a_gauge_and_each_change_of_it_a_transition() -> None:
    metrics = Metrics(["cms"])
    events = Events(metrics)
    assert value(metrics, "kates_leader") == 0
    events.emit("leader.gained", "leading lease ns/l as a")
    assert value(metrics, "kates_leader") == 1
    events.emit("leader.lost", "lost lease ns/l: taken", reason="taken")
    events.emit("leader.released", None)  # already 0: no transition
    events.emit("leader.gained", "leading lease ns/l as a")
    events.emit("leader.released", None)
    assert value(metrics, "kates_leader") == 0
    assert value(metrics, "kates_leader_transitions_total") == 4


def test_coalesced_changes_and_staleness_come_from_the_run_that_carries_them() -> None:
    acc = accumulator()
    metrics = Metrics(["cms"])
    metrics.acc = acc
    events = Events(metrics)
    acc.replace("cms", [make_entry(cm("a", 1))], "1")
    acc.snapshot_changes()
    events.emit("run.started", None)  # the bootstrap's run: the baseline, nothing observed
    assert value(metrics, "kates_changes_total") == 0 and value(metrics, "kates_staleness_seconds_count") == 0
    for rv, name in ((2, "b"), (3, "c"), (4, "d")):  # three changes while a run goes: one next run carries them
        acc.event("cms", "ADDED", make_entry(cm(name, rv)))
    acc.snapshot_changes()
    events.emit("run.started", None)
    events.emit("run.started", None)  # a retry: carries nothing new
    acc.event("cms", "MODIFIED", make_entry(cm("a", 5)))
    acc.snapshot_changes()
    events.emit("run.started", None)
    assert value(metrics, "kates_changes_total") == 4
    assert value(metrics, "kates_changes_coalesced_total") == 2
    assert value(metrics, "kates_staleness_seconds_count") == 2
    assert 0 <= value(metrics, "kates_staleness_seconds_sum") < 5


def test_sizes_are_read_from_the_accumulator_at_scrape_time() -> None:
    acc = accumulator()
    metrics = Metrics(["cms"])
    assert ("kates_objects", (("query", "cms"),)) not in samples(metrics)  # nothing before the watch exists
    metrics.acc = acc
    acc.replace("cms", [make_entry(cm("a", 1)), make_entry(cm("b", 2))], "2")
    _, data, _ = acc.snapshot_changes()
    assert value(metrics, "kates_objects", query="cms") == 2
    assert value(metrics, "kates_snapshot_bytes", query="cms") == len(data) - len(b'{"cms":}')
    assert value(metrics, "kates_overlay_entries", query="cms") == 0
    acc.record_write("create", "", "configmaps", cm("c", 9))  # a hook's write, not yet seen by the watch
    assert value(metrics, "kates_overlay_entries", query="cms") == 1
    assert value(metrics, "kates_objects", query="cms") == 3
    acc.event("cms", "ADDED", make_entry(cm("c", 9)))  # the watch confirms it: the overlay entry retires
    assert value(metrics, "kates_overlay_entries", query="cms") == 0


# -- the JSON log -------------------------------------------------------------------------------------------------


def test_the_json_log_writes_every_event_as_one_object_per_line() -> None:
    out = io.StringIO()
    events = Events(JsonLog(out))
    events.emit("bootstrap.done", None, seconds=0.25, objects={"cms": 3})
    events.emit("run.started", None, run=0, deltas=3, snapshot_bytes=120)
    events.emit("run.ended", None, run=0, seconds=0.5, code=3, result="failure", stopped=False, error=None)
    events.emit("run.backoff", "hook failed (exit 3), 1 in a row; retrying in 1.0s", run=0, failures=1, delay=1.0)
    events.notice("kates: watch of query cms (configmaps) stalled: nothing received for 2s; reconnecting")
    events.emit("stream.restarted", None, query="cms", reason="stall")
    events.emit("leader.lost", "lost the lease", reason="taken", msg="a field that would clash", level="x")
    lines = out.getvalue().splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 7
    assert all(list(r)[:4] == ["time", "level", "event", "msg"] for r in records)
    assert all(r["time"].endswith("Z") and r["time"][4] == "-" and r["time"][10] == "T" for r in records)
    assert [r["level"] for r in records] == ["info", "info", "warning", "warning", "warning", "warning", "warning"]
    assert records[0]["msg"] == "bootstrapped in 0.25s: cms 3" and records[0]["objects"] == {"cms": 3}
    assert records[1] == {**records[1], "event": "run.started", "msg": "run 0 started: 3 deltas, 120 bytes", "run": 0}
    assert records[2]["msg"] == "run 0 ended: failure, exit 3, 0.50s" and records[2]["code"] == 3
    assert records[3]["msg"].startswith("hook failed (exit 3)") and records[3]["failures"] == 1
    assert records[4]["event"] == "stream.notice" and records[4]["msg"].startswith("watch of query cms")
    assert records[5]["msg"] == "watch of query cms restarted (stall)" and records[5]["reason"] == "stall"
    assert records[6]["msg"] == "lost the lease" and records[6]["level"] == "warning"  # the base keys win


def test_the_text_log_is_unchanged_by_the_new_events() -> None:
    out = io.StringIO()
    events = Events(TextLog(out))
    facts = StreamFacts(events)
    facts.listed("cms")
    facts.restarted("cms", "closed")
    facts.event("cms", "ADDED")  # no counter: nothing
    events.emit("metrics.listening", None, address="127.0.0.1:9090")
    assert out.getvalue() == ""


def test_the_final_error_line_is_json_with_log_format_json(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["watch", "--log-format", "json", "-q", "cm", "--metrics-addr", "nohost"])
    err = capsys.readouterr().err
    assert code == 2
    record = json.loads(err)
    assert record["level"] == "error" and record["event"] == "error"
    assert record["msg"] == 'invalid --metrics-addr "nohost": no port'
    assert record["hint"].startswith("expected HOST:PORT")
    code = main(["watch", "-q", "cm", "--metrics-addr", "nohost"])  # text again in the next invocation
    assert code == 2 and capsys.readouterr().err.startswith('error: invalid --metrics-addr "nohost": no port\n')
    assert main(["watch", "--log-format", "yaml", "-q", "cm"]) == 2
    assert capsys.readouterr().err.startswith('error: invalid --log-format "yaml"\nhint: expected text or json')

    # a usage error click finds, before kates has read --log-format: JSON too (it was `error:` text)
    for argv in (
        ["watch", "--log-format", "json", "-q", "pods", "--max-failures", "abc"],
        ["watch", "--log-format=json", "-q", "pods", "--bogus"],
    ):
        assert main(argv) == 2
        record = json.loads(capsys.readouterr().err)
        assert record["level"] == "error" and record["event"] == "error" and record["msg"], argv


# -- probes and the address ---------------------------------------------------------------------------------------


def test_readiness_waits_for_every_query() -> None:
    probes = Probes()
    assert probes.ready() == (False, "not bootstrapped: starting")
    acc = Accumulator([QueryState(Query("a", "cm")), QueryState(Query("b", "secret"))])
    probes.acc = acc
    assert probes.ready() == (False, "not bootstrapped: a, b")
    acc.replace("a", [], "1")
    assert probes.ready() == (False, "not bootstrapped: b")
    acc.replace("b", [], "1")  # an empty list counts
    assert probes.ready() == (True, "ok")


def test_health_fails_while_a_stream_has_been_silent_past_its_bound() -> None:
    probes = Probes()
    assert probes.healthy() == (True, "ok")  # before the streams exist
    acc = accumulator()
    quiet = SimpleNamespace(name="cms", title="query cms", heard=100.0, stall_timeout=2.0)
    acc.streams = [quiet, SimpleNamespace(name="pods", title="query pods", heard=101.0, stall_timeout=30.0)]
    probes.acc = acc
    assert probes.healthy(now=102.0) == (True, "ok")  # exactly at the bound: not past it
    ok, why = probes.healthy(now=102.5)
    assert not ok and why == "query cms: nothing from the server for 2.5s (stall bound 2s)"
    quiet.heard = 102.4  # the server answered again
    assert probes.healthy(now=102.5) == (True, "ok")


@pytest.mark.parametrize(
    ("text", "addr"),
    [
        (":9090", ("", 9090)),
        ("127.0.0.1:0", ("127.0.0.1", 0)),
        ("[::1]:80", ("::1", 80)),
        ("localhost:65535", ("localhost", 65535)),
    ],
)
def test_metrics_addresses(text: str, addr: tuple[str, int]) -> None:
    assert parse_addr(text) == addr


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("9090", "no port"),
        ("host:http", '"http" is not a port'),
        (":65536", '"65536" is not a port'),
        ("::1:9090", "an IPv6 address needs brackets"),
        (":\u00b2", '"\u00b2" is not a port'),  # isdigit() but no int(): it was an internal error
        (":\u0669\u0660", '"\u0669\u0660" is not a port'),  # Arabic-Indic digits were taken as a port
        ("no-such-host.invalid:9090", 'cannot resolve "no-such-host'),
    ],
)
def test_bad_metrics_addresses_are_usage_errors(text: str, why: str) -> None:
    with pytest.raises(UsageError, match=f'^invalid --metrics-addr "{text.replace("[", ".")}": ' + why):
        parse_addr(text)


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_the_server_answers_each_path_and_a_port_in_use_is_a_clear_error() -> None:
    probes = Probes()
    metrics = Metrics(["cms"])
    server = ProbeServer(("127.0.0.1", 0), probes, metrics.render)
    try:
        base = f"http://127.0.0.1:{server.port}"
        assert server.address == f"127.0.0.1:{server.port}"
        assert get(base + "/readyz") == (503, "text/plain; charset=utf-8", "not bootstrapped: starting\n")
        assert get(base + "/healthz") == (200, "text/plain; charset=utf-8", "ok\n")
        code, ctype, body = get(base + "/metrics?x=1")
        assert code == 200 and ctype.startswith("text/plain; version=") and "kates_hook_runs_total" in body
        assert get(base + "/nope")[0] == 404
        with pytest.raises(
            KatesError,
            match=rf"^cannot listen on 127.0.0.1:{server.port} \(--metrics-addr\): "
            "address already in use$",
        ):
            ProbeServer(("127.0.0.1", server.port), probes, metrics.render)
    finally:
        server.close()


def test_every_interface_includes_ipv4() -> None:
    server = ProbeServer(("", 0), Probes(), Metrics([]).render)
    try:
        assert get(f"http://127.0.0.1:{server.port}/healthz")[0] == 200
    finally:
        server.close()
    with socket.socket() as s:  # the port is free again: no listener outlives close()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # (the closed connection's TIME_WAIT stays)
        s.bind(("127.0.0.1", server.port))


def test_prometheus_client_is_not_imported_by_help() -> None:
    code = (
        "import sys; from kates_cli.cli.app import main; main(['watch', '--help']); "
        "sys.stdout.flush(); print('prometheus_client' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().endswith("False")


def test_every_metric_is_documented_in_the_help_and_the_readme() -> None:
    from pathlib import Path

    from kates_cli.cli.watch import METRICS_PARAGRAPHS

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for name, _, _ in METRICS:
        assert name in " ".join(METRICS_PARAGRAPHS), name
        assert f"`{name}" in readme, name


def test_server_warnings_are_json_events_each_text_once() -> None:
    out = io.StringIO()
    warned = ServerWarnings(Events(JsonLog(out)))
    warned(299, "-", "v1beta1 is deprecated")
    warned(299, "-", "v1beta1 is deprecated")
    warned(299, "-", "another")
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [(r["event"], r["level"], r["msg"]) for r in records] == [
        ("server.warning", "warning", "Warning: v1beta1 is deprecated"),
        ("server.warning", "warning", "Warning: another"),
    ]


def test_the_metrics_sink_counts_an_event_before_the_log_shows_it() -> None:
    metrics = Metrics(["cms"])
    seen: list[float] = []

    def log(event: Event) -> None:  # a log sink that looks at the metrics when it writes
        seen.append(value(metrics, "kates_hook_runs_total", result="success"))

    events = Events(log)
    events.add(metrics, first=True)
    events.emit("run.ended", None, run=0, seconds=0.1, code=0, result="success", stopped=False, error=None)
    assert seen == [1]


def test_clients_that_reset_or_idle_neither_log_nor_pile_up_threads(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load balancer's TCP check that resets, a scrape that gives up mid-body: socketserver printed a traceback on
    kates's stderr (its JSON log too). Clients that connect and send nothing each held a thread for ever."""
    import struct
    import threading
    import time

    from kates_cli.cli import probes as probes_module

    monkeypatch.setattr(probes_module, "CLIENT_TIMEOUT", 0.5)
    monkeypatch.setattr(probes_module, "MAX_CLIENTS", 4)
    server = ProbeServer(("127.0.0.1", 0), Probes(), lambda: b"x" * 4_000_000)
    linger = struct.pack("ii", 1, 0)  # close with a reset
    try:
        early = socket.create_connection(("127.0.0.1", server.port))
        early.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        early.close()
        scrape = socket.create_connection(("127.0.0.1", server.port))
        scrape.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        scrape.recv(100)
        scrape.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        scrape.close()
        before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(10)]
        time.sleep(0.2)
        assert threading.active_count() <= before + 4  # MAX_CLIENTS at once; the others closed
        deadline = time.monotonic() + 10
        while threading.active_count() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert threading.active_count() <= before  # silent clients time out
        assert get(f"http://127.0.0.1:{server.port}/healthz")[0] == 200
        for sock in idle:
            sock.close()
    finally:
        server.close()
    assert capsys.readouterr().err == ""
