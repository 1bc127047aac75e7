"""The Prometheus metrics of `kates watch --metrics-addr`: an events sink (cli/events.py) that counts what the watch
emits, a counter for watch events, and a collector that reads the accumulator's sizes at scrape time.

Invariants:
- Imported only when --metrics-addr is given (prometheus_client costs import time `kates --help` must not pay).
- One private CollectorRegistry per watch, never the global one; no `_created` series.
- Every series a test or a dashboard may ask for exists from the start at 0: runs per result, and per query its
  lists, its restarts per reason and its events per type.
- The sink only counts: it never raises into the emitting thread for an event it does not know, and it acts on
  events by name (the contract in cli/events.py), so a new event is ignored until a metric wants it.
- Staleness and coalescing are read from the accumulator on `run.started`, which the watch loop emits in the thread
  that took the changes, right after taking them (Accumulator.taken_generation / taken_since): the first run (the
  bootstrap's) is the baseline, and a retry that carries no new change observes nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

import prometheus_client
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .events import Event

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from ..core.accumulator import Accumulator

RESULTS = ("success", "failure", "timeout", "fenced")
EVENT_TYPES = ("ADDED", "MODIFIED", "DELETED", "BOOKMARK")
RESTART_REASONS = ("410", "404", "stall", "error", "closed")
RUN_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
STALENESS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)

# (name as exposed, type, help): the table README.md and `kates watch --help` document
METRICS = (
    (
        "kates_hook_runs_total",
        "counter",
        "hook runs ended, by result: success, failure (non-zero exit or could not run), timeout (hit --hook-timeout), "
        "fenced (ended because leadership ended)",
    ),
    ("kates_hook_run_duration_seconds", "histogram", "how long each hook run took"),
    ("kates_hook_consecutive_failures", "gauge", "failed runs in a row (0 after a success)"),
    ("kates_objects", "gauge", "objects in each query's current view"),
    ("kates_snapshot_bytes", "gauge", "bytes of each query's part of the last snapshot"),
    ("kates_overlay_entries", "gauge", "each query's local writes not yet confirmed by its watch"),
    ("kates_dependencies", "gauge", "dependencies watched now (reads by the hook that no query covers)"),
    (
        "kates_watch_events_total",
        "counter",
        "watch events received after the initial set, by query and type (ADDED, MODIFIED, DELETED, BOOKMARK)",
    ),
    (
        "kates_watch_restarts_total",
        "counter",
        "watch connections ended and reopened, by query and reason: 410 "
        "(too old: relist), 404 (kind no longer served), stall (silent past --stall-timeout), error, closed (ended "
        "by the server)",
    ),
    (
        "kates_watch_lists_total",
        "counter",
        "initial-set requests (a streaming list or a list) per query: the "
        "bootstrap, each relist, a kind that came back",
    ),
    ("kates_bootstrap_duration_seconds", "gauge", "from the start of the watch to every query bootstrapped"),
    ("kates_changes_total", "counter", "visible snapshot changes handed to hook runs after the first run"),
    (
        "kates_changes_coalesced_total",
        "counter",
        "of those, changes that shared a run with an earlier change "
        "(kates_changes_total minus this = runs that carried changes)",
    ),
    (
        "kates_staleness_seconds",
        "histogram",
        "from the oldest change a run carries reaching kates to the start of that run",
    ),
    ("kates_leader", "gauge", "1 while this replica leads (--leader-elect), else 0"),
    ("kates_leader_transitions_total", "counter", "changes of kates_leader (gained or lost)"),
)
HELP = {name: text for name, _, text in METRICS}


def _help(name: str) -> str:
    return HELP[name][0].upper() + HELP[name][1:] + "."


class Metrics:
    """The registry and the events sink (`events.add(metrics)`); `count_event` counts one watch event."""

    def __init__(self, queries: Iterable[str]) -> None:
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = r = CollectorRegistry()
        self.acc: Accumulator | None = None
        queries = list(queries)
        self.runs = Counter("kates_hook_runs", _help("kates_hook_runs_total"), ["result"], registry=r)
        self.run_seconds = Histogram(
            "kates_hook_run_duration_seconds", _help("kates_hook_run_duration_seconds"), buckets=RUN_BUCKETS, registry=r
        )
        self.failures = Gauge("kates_hook_consecutive_failures", _help("kates_hook_consecutive_failures"), registry=r)
        self.events = Counter("kates_watch_events", _help("kates_watch_events_total"), ["query", "type"], registry=r)
        self.restarts = Counter(
            "kates_watch_restarts", _help("kates_watch_restarts_total"), ["query", "reason"], registry=r
        )
        self.lists = Counter("kates_watch_lists", _help("kates_watch_lists_total"), ["query"], registry=r)
        self.bootstrap = Gauge(
            "kates_bootstrap_duration_seconds", _help("kates_bootstrap_duration_seconds"), registry=r
        )
        self.changes = Counter("kates_changes", _help("kates_changes_total"), registry=r)
        self.coalesced = Counter("kates_changes_coalesced", _help("kates_changes_coalesced_total"), registry=r)
        self.staleness = Histogram(
            "kates_staleness_seconds", _help("kates_staleness_seconds"), buckets=STALENESS_BUCKETS, registry=r
        )
        self.leader = Gauge("kates_leader", _help("kates_leader"), registry=r)
        self.transitions = Counter("kates_leader_transitions", _help("kates_leader_transitions_total"), registry=r)
        r.register(_Sizes(self))
        for result in RESULTS:
            self.runs.labels(result)
        self._event_children = {}
        for q in queries:
            self.lists.labels(q)
            for reason in RESTART_REASONS:
                self.restarts.labels(q, reason)
            for etype in EVENT_TYPES:
                self._event_children[(q, etype)] = self.events.labels(q, etype)
        self._lock = threading.Lock()
        self._taken: int | None = None  # the accumulator generation the previous run carried
        self._leading = 0

    def count_event(self, query: str, event_type: str) -> None:
        child = self._event_children.get((query, event_type))
        if child is None:
            child = self._event_children[(query, event_type)] = self.events.labels(query, event_type)
        child.inc()

    def __call__(self, event: Event) -> None:
        f = event.fields
        name = event.name
        if name == "run.started":
            self._run_started()
        elif name == "run.ended":
            self.runs.labels(str(f.get("result"))).inc()
            self.run_seconds.observe(float(f.get("seconds") or 0.0))
            if f.get("result") == "success":
                self.failures.set(0)
        elif name == "run.backoff":
            self.failures.set(float(f.get("failures") or 0))
        elif name == "bootstrap.done":
            self.bootstrap.set(float(f.get("seconds") or 0.0))
        elif name == "stream.listed":
            self.lists.labels(str(f.get("query"))).inc()
        elif name == "stream.restarted":
            self.restarts.labels(str(f.get("query")), str(f.get("reason"))).inc()
        elif name == "leader.gained":
            self._lead(1)
        elif name in ("leader.lost", "leader.released"):
            self._lead(0)

    def _lead(self, value: int) -> None:
        with self._lock:
            if self._leading != value:  # a transition is a change of the gauge, however it is told
                self._leading = value
                self.leader.set(value)
                self.transitions.inc()

    def _run_started(self) -> None:
        acc = self.acc
        if acc is None:
            return
        now = time.monotonic()
        taken, since = acc.taken_generation, acc.taken_since
        previous, self._taken = self._taken, taken
        if previous is None or taken <= previous:
            return  # the first run (the bootstrap's) is the baseline; a retry carries nothing new
        new = taken - previous
        self.changes.inc(new)
        self.coalesced.inc(new - 1)
        if since is not None:
            self.staleness.observe(max(0.0, now - since))

    def render(self) -> bytes:
        return prometheus_client.generate_latest(self.registry)


class _Sizes(Collector):
    """kates_objects, kates_snapshot_bytes and kates_overlay_entries per query, and kates_dependencies, read from the
    accumulator."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterable[Metric]:
        objects = GaugeMetricFamily("kates_objects", _help("kates_objects"), labels=["query"])
        size = GaugeMetricFamily("kates_snapshot_bytes", _help("kates_snapshot_bytes"), labels=["query"])
        overlay = GaugeMetricFamily("kates_overlay_entries", _help("kates_overlay_entries"), labels=["query"])
        dependencies = GaugeMetricFamily("kates_dependencies", _help("kates_dependencies"))
        acc = self.metrics.acc
        if acc is not None:
            for query, (count, nbytes, pending) in acc.sizes().items():
                objects.add_metric([query], count)
                size.add_metric([query], nbytes)
                overlay.add_metric([query], pending)
            dependencies.add_metric([], len(acc.dependencies()))
        return [objects, size, overlay, dependencies]
