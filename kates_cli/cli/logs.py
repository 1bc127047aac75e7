"""`kates logs`: the logs of many pods and containers as one stream, stern-class.

Invariants:
- Which pods: a name regex, TYPE/NAME (deploy, sts, ds, job, rs, svc: the pods their selector picks), -l and
  --field-selector, in one or more namespaces (-n repeatable) or all (-A).
- With --follow, pods that appear later (or containers that restart) are picked up and announced on stderr as
  `+ pod/container`; ended streams as `- pod/container`. kates keeps running until interrupted.
- `-o json` is strict JSON lines and never carries colour codes.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import typer

from ..errors import UsageError
from . import completion
from .state import State

if TYPE_CHECKING:
    from ..core.client import Client
    from ..core.logs import LogEvent, LogMux, LogSource

WORKLOADS = {
    "deploy": "deployments.apps",
    "deployment": "deployments.apps",
    "deployments": "deployments.apps",
    "sts": "statefulsets.apps",
    "statefulset": "statefulsets.apps",
    "statefulsets": "statefulsets.apps",
    "ds": "daemonsets.apps",
    "daemonset": "daemonsets.apps",
    "daemonsets": "daemonsets.apps",
    "rs": "replicasets.apps",
    "replicaset": "replicasets.apps",
    "replicasets": "replicasets.apps",
    "job": "jobs.batch",
    "jobs": "jobs.batch",
    "svc": "services",
    "service": "services",
    "services": "services",
    "po": "pods",
    "pod": "pods",
    "pods": "pods",
}
COLORS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96]


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)


def selector_of(obj: dict[str, Any]) -> str:
    """A workload's (or service's) pod selector as a label-selector string."""
    spec = obj.get("spec") or {}
    sel = spec.get("selector") or {}
    if obj.get("kind") == "Service":
        if not sel:
            raise UsageError(f"service {obj['metadata']['name']} has no selector: it picks no pods")
        return ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for expr in sel.get("matchExpressions") or []:
        key, op, values = expr.get("key"), expr.get("operator"), expr.get("values") or []
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(str(key))
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


def parse_since_time(text: str) -> str:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UsageError(f'invalid --since-time "{text}"', hint="use RFC 3339, e.g. 2024-01-02T15:04:05Z") from exc
    return text


def logs(
    ctx: typer.Context,
    targets: list[str] = typer.Argument(None, metavar="[POD_REGEX | TYPE/NAME ...]"),
    selector: str | None = typer.Option(None, "--selector", "-l", help="Pods matching this label selector."),
    field_selector: str | None = typer.Option(None, "--field-selector", help="Pods matching this field selector."),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Look in every namespace."),
    container: str | None = typer.Option(None, "--container", "-c", help="Containers whose name matches this regex."),
    exclude_container: str | None = typer.Option(None, "--exclude-container", help="Skip containers matching this."),
    init_containers: bool = typer.Option(False, "--init-containers", help="Include init containers."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Stream new lines, and pods that appear later."),
    since: str | None = typer.Option(None, "--since", help="Only lines newer than this, e.g. 10m (kubectl's)."),
    since_time: str | None = typer.Option(None, "--since-time", help="Only lines after this RFC 3339 time."),
    tail: int = typer.Option(-1, "--tail", help="Only the last N lines of each container (-1: all)."),
    timestamps: bool = typer.Option(False, "--timestamps", help="Show each line's timestamp."),
    include: list[str] = typer.Option(None, "--include", "-i", help="Only lines matching this regex (repeatable)."),
    exclude: list[str] = typer.Option(None, "--exclude", "-e", help="Drop lines matching this regex (repeatable)."),
    output: str = typer.Option(
        "default",
        "--output",
        "-o",
        help="default, raw or json.",
        autocompletion=completion.formats("default", "raw", "json"),
    ),
    max_log_requests: int = typer.Option(50, "--max-log-requests", help="At most this many streams at once."),
) -> None:
    """Print the logs of many pods and containers as one stream.

    Lines from all streams come out in timestamp order; with --follow they are held for 250 ms and released in
    order, so they stay nearly ordered. A dropped stream resumes from its last timestamp without repeating a line.
    """
    from ..core.logs import LogMux, LogOptions
    from .app import parse_duration

    state: State = ctx.obj
    if output not in ("default", "raw", "json"):
        raise UsageError(f'invalid output "{output}"', hint="use default, raw or json")
    if since and since_time:
        raise UsageError("at most one of --since and --since-time may be given")
    container_re = _regex(container, "--container")
    exclude_container_re = _regex(exclude_container, "--exclude-container")
    includes = [_regex(p, "--include") for p in include or []]
    excludes = [_regex(p, "--exclude") for p in exclude or []]
    opts = LogOptions(
        follow=follow,
        since_seconds=max(1, int(parse_duration(since))) if since else None,
        since_time=parse_since_time(since_time) if since_time else None,
        tail_lines=tail if tail >= 0 else None,
    )
    client = state.client()
    namespaces: list[str | None] = [None] if all_namespaces else list(state.namespaces or [client.namespace])
    pod_regexes, selectors = _targets(client, targets or [], namespaces, selector)
    mux = LogMux(client, opts, max_requests=max_log_requests)
    printer = Printer(
        state, output, timestamps, includes, excludes, multi_ns=all_namespaces or len(namespaces) > 1, follow=follow
    )
    chooser = Chooser(mux, pod_regexes, container_re, exclude_container_re, init_containers, printer, follow)
    for ns in namespaces:
        for sel in selectors:
            for page in client.list_pages(
                "pods", ns, all_namespaces=ns is None, label_selector=sel, field_selector=field_selector
            ):
                for pod in page.get("items") or []:
                    chooser.consider(pod)
    watcher = None
    if follow:
        watcher = threading.Thread(
            target=chooser.follow_pods, args=(client, namespaces, selectors, field_selector), daemon=True
        )
        watcher.start()
    else:
        mux.finish_adding()
    try:
        for event in mux.events():
            printer.emit(event)
    finally:
        mux.stop()
        chooser.stop.set()


def _regex(pattern: str | None, flag: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f'invalid regular expression for {flag} "{pattern}": {exc}') from exc


def _targets(
    client: Client, targets: list[str], namespaces: list[str | None], selector: str | None
) -> tuple[list[re.Pattern[str]], list[str | None]]:
    """Pod-name regexes and label selectors to list pods with."""
    regexes: list[re.Pattern[str]] = []
    selectors: list[str | None] = []
    for target in targets:
        kind, sep, name = target.partition("/")
        if sep and kind.lower() in WORKLOADS:
            if WORKLOADS[kind.lower()] == "pods":
                regexes.append(re.compile(f"^{re.escape(name)}$"))
                continue
            ns = namespaces[0] if namespaces and namespaces[0] is not None else client.namespace
            obj = client.get(WORKLOADS[kind.lower()], name, ns)
            combined = ",".join(s for s in (selector_of(obj), selector) if s)
            selectors.append(combined)
        elif sep:
            raise UsageError(
                f'cannot show logs of "{target}"', hint="TYPE is one of deploy, sts, ds, rs, job, svc, pod"
            )
        else:
            pattern = _regex(target, "the pod name")
            assert pattern is not None
            regexes.append(pattern)
    if not selectors:
        selectors = [selector]
    return regexes, selectors


class Chooser:
    """Decides which pods and containers to follow, and starts their streams."""

    def __init__(
        self,
        mux: LogMux,
        pod_regexes: list[re.Pattern[str]],
        container_re: re.Pattern[str] | None,
        exclude_container_re: re.Pattern[str] | None,
        init_containers: bool,
        printer: Printer,
        follow: bool,
    ):
        self.mux = mux
        self.pod_regexes = pod_regexes
        self.container_re = container_re
        self.exclude_container_re = exclude_container_re
        self.init_containers = init_containers
        self.printer = printer
        self.follow = follow
        self.stop = threading.Event()
        self.restarts: dict[tuple[str, str, str], int] = {}
        self.sources: set[LogSource] = set()

    def consider(self, pod: dict[str, Any]) -> None:
        from ..core.logs import LogSource

        meta = pod.get("metadata") or {}
        name, ns = meta.get("name", ""), meta.get("namespace", "")
        if self.pod_regexes and not any(r.search(name) for r in self.pod_regexes):
            return
        if meta.get("deletionTimestamp") and self.follow:
            return
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        containers = list(spec.get("containers") or [])
        statuses = list(status.get("containerStatuses") or [])
        if self.init_containers:
            containers = list(spec.get("initContainers") or []) + containers
            statuses += list(status.get("initContainerStatuses") or [])
        by_name = {s.get("name"): s for s in statuses}
        for c in containers:
            cname = c.get("name", "")
            if self.container_re and not self.container_re.search(cname):
                continue
            if self.exclude_container_re and self.exclude_container_re.search(cname):
                continue
            st = by_name.get(cname) or {}
            state = st.get("state") or {}
            if "waiting" in state or not st:
                continue  # no logs yet; a later pod update starts it
            src = LogSource(ns, name, cname)
            count = int(st.get("restartCount") or 0)
            key = (ns, name, cname)
            if key in self.restarts and count > self.restarts[key]:
                self.mux.end(src)  # a restarted container: end the old stream, follow the new instance
                self.mux.forget(src)
            self.restarts[key] = count
            self.sources.add(src)
            if self.mux.add(src) and self.follow:
                self.printer.marker("+", src.namespace, src.pod, src.container)

    def follow_pods(
        self, client: Client, namespaces: list[str | None], selectors: list[str | None], field_selector: str | None
    ) -> None:
        from ..core.accumulator import Query

        queries = [
            Query(f"q{i}", "pods", ns, sel, field_selector)
            for i, (ns, sel) in enumerate((ns, sel) for ns in namespaces for sel in selectors)
        ]
        with client.watch(*queries) as acc:
            while not self.stop.is_set():
                if not acc.wait(0.5):
                    continue
                snap: dict[str, list[dict[str, Any]]] = {}
                acc.update(snap)
                alive = set()
                for pods in snap.values():
                    for pod in pods:
                        meta = pod.get("metadata") or {}
                        if not meta.get("deletionTimestamp"):
                            alive.add((meta.get("namespace", ""), meta.get("name", "")))
                        self.consider(pod)
                for src in [s for s in self.sources if (s.namespace, s.pod) not in alive]:
                    self.sources.discard(src)
                    self.mux.end(src)  # the pod is gone or going: end its streams (some servers never do)


class Printer:
    def __init__(
        self,
        state: State,
        output: str,
        timestamps: bool,
        includes: list[Any],
        excludes: list[Any],
        multi_ns: bool,
        follow: bool = False,
    ):
        self.out = state.env.stdout
        self.err = state.env.stderr
        self.color = state.env.stdout_tty and output == "default"
        self.output = output
        self.timestamps = timestamps
        self.includes = includes
        self.excludes = excludes
        self.multi_ns = multi_ns
        self.follow = follow  # +/- markers announce streams that come and go while following
        self.lock = threading.Lock()

    def _prefix(self, ns: str, pod: str, container: str) -> str:
        text = f"{ns}/{pod}/{container}" if self.multi_ns else f"{pod}/{container}"
        if self.color:
            code = COLORS[sum(map(ord, pod)) % len(COLORS)]
            return f"\x1b[{code}m{text}\x1b[0m"
        return text

    def marker(self, sign: str, ns: str, pod: str, container: str) -> None:
        with self.lock:
            self.err.write(f"{sign} {ns + '/' if self.multi_ns else ''}{pod}/{container}\n")
            self.err.flush()

    def emit(self, event: LogEvent) -> None:
        if event.closed:
            if event.error is not None:
                self.err.write(f"error: {event.pod}/{event.container}: {event.error.message}\n")
            if self.follow:
                self.marker("-", event.namespace, event.pod, event.container)
            return
        text = event.output
        if self.includes and not any(r.search(text) for r in self.includes):
            return
        if any(r.search(text) for r in self.excludes):
            return
        if self.output == "json":
            line = orjson.dumps(
                {
                    "namespace": event.namespace,
                    "pod": event.pod,
                    "container": event.container,
                    "timestamp": event.timestamp,
                    "message": text,
                }
            ).decode()
        else:
            if self.timestamps and event.timestamp:
                text = f"{event.timestamp} {text}"
            line = (
                text if self.output == "raw" else f"{self._prefix(event.namespace, event.pod, event.container)} {text}"
            )
        with self.lock:
            self.out.write(line + "\n")
            self.out.flush()
