"""`kates logs`: the logs of many pods and containers as one stream, stern-class.

Invariants:
- Which pods: a name regex, TYPE/NAME (deploy, sts, ds, job, rs, svc: the pods their selector picks), -l and
  --field-selector, in one or more namespaces (-n repeatable) or all (-A).
- With --follow, pods that appear later (or containers that restart) are picked up. A stream is announced on stderr
  as `+ pod/container` when it really streams (its first request answered), and `- pod/container` when it ends
  (its pod gone, or a failure, reported as an error). kates keeps running until interrupted. Streams over
  --max-log-requests wait for a turn, and how many wait is said on stderr (`kates: waiting: N streams over
  --max-log-requests=M`). Outages, stalls and their ends are `kates: pod/container: ...` notes on stderr.
- `-o json` is strict JSON lines and never carries colour codes.
- Nothing read is never a success: without --follow, a pod regex or TYPE/NAME that selects no pod, a -c that
  selects no container of the selected pods, and every stream that fails are failures, each reported on stderr; the
  logs that could be read are still printed and the exit code is the failures' (NOT_FOUND for what does not exist).
  Only a bare selection (-l, --field-selector, or no target) that matches no pod is a success, "No resources
  found" on stderr, as kubectl says it. With --follow, a target without pods yet is announced and waited for.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
import typer

from ..core.logs import LogObserver
from ..core.records import record
from ..errors import ExitCode, KatesError, NotFound, PartialFailure, UsageError
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
POD_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")  # a DNS subdomain: a name, not a pattern


@record(frozen=True)
class PodPattern:
    """A pod-name regex from the command line; `text` as the user gave it, `name` when it reads as a plain name."""

    regex: re.Pattern[str]
    text: str
    name: bool


@record(frozen=True)
class Selection:
    """A label selector to list pods with; `owner` ("deployments.apps \"web\"") when a TYPE/NAME gave it."""

    selector: str | None
    owner: str | None = None


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


_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def parse_since_time(text: str) -> str:
    """`text` if it is RFC 3339 as Go's time.Parse takes it (kubectl's ParseRFC3339): a zone is required, and a date
    alone or a space for the T is refused (Python's fromisoformat takes both, and the server then answered 400)."""
    found = _RFC3339.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        zone = "+00:00" if found.group(3) == "Z" else found.group(3)
        datetime.fromisoformat(found.group(1) + zone)  # the values: month 13, hour 25
    except ValueError as exc:
        raise UsageError(f'invalid --since-time "{text}"', hint="use RFC 3339, e.g. 2024-01-02T15:04:05Z") from exc
    return text


def _since_seconds(since: str | None) -> int | None:
    """--since as kubectl sends it: rounded to the nearest second (at least 1), and 0 meaning no limit."""
    from .app import parse_duration

    seconds = parse_duration(since, "--since") if since else 0.0
    return max(1, int(seconds + 0.5)) if seconds > 0 else None


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
    max_log_requests: int = typer.Option(
        50,
        "--max-log-requests",
        help="At most this many streams at once; with -f the others wait, and streams take turns of 5s.",
    ),
    previous: bool = typer.Option(
        False, "--previous", "-p", help="The previous (terminated) instance of each container, as kubectl's."
    ),
    all_containers: bool = typer.Option(
        False,
        "--all-containers",
        help="Every container of each pod, its init and ephemeral containers too, as kubectl's (without it, kates "
        "reads every regular container).",
    ),
    limit_bytes: int | None = typer.Option(
        None, "--limit-bytes", help="At most this many bytes of each container's log (the last line cut there)."
    ),
    prefix: bool = typer.Option(
        False, "--prefix", help="Prefix each line with [pod/NAME/CONTAINER], as kubectl's --prefix (any -o but json)."
    ),
    pod_running_timeout: str = typer.Option(
        "20s",
        "--pod-running-timeout",
        metavar="DURATION",
        help="Without -f: how long a TYPE/NAME that has no pods yet (a Job just made) waits for one, as kubectl's.",
    ),
    ignore_errors: bool = typer.Option(
        False,
        "--ignore-errors",
        help="A stream that fails is said on stderr and fails nothing: the exit code is that of the rest, as "
        "kubectl's (a pod or container that does not exist still fails).",
    ),
    stall_timeout: str = typer.Option(
        "30s",
        "--stall-timeout",
        metavar="DURATION",
        help="With -f: a stream that stalls (no bytes, no close) is noticed, said and reconnected within this long "
        "(at least 2s). An idle stream is reconnected every half of it, invisibly.",
    ),
) -> None:
    """Print the logs of many pods and containers as one stream.

    Lines from all streams come out in timestamp order; with --follow they are held for 250 ms and released in
    order, so they stay nearly ordered. A dropped stream resumes from its last timestamp without repeating a line.

    Nothing read is a failure: a pod name, regex or TYPE/NAME that selects no pod, or a -c that no selected pod
    has, exits 4 (not found); a stream the server refuses is reported and exits with its error's code, after the
    logs that could be read. A -l that matches no pod prints "No resources found" and exits 0, as kubectl does.
    With --follow, a target without pods yet is announced and waited for.

    With --follow, a stream that drops (the API server or the kubelet restarts, the network fails) is retried for as
    long as its pod exists, and resumes where it stopped: no line lost or repeated. An outage is said on stderr, and
    its end. A stream that stalls without closing is noticed within --stall-timeout (30s). Streams over
    --max-log-requests wait, said on stderr, and take turns; `+ pod/container` marks a stream once it streams.
    """
    from ..core.logs import LogMux, LogOptions
    from .durations import parse_duration, parse_stall_timeout

    state: State = ctx.obj
    if output not in ("default", "raw", "json"):
        raise UsageError(f'invalid output "{output}"', hint="use default, raw or json")
    if since and since_time:
        raise UsageError("at most one of --since and --since-time may be given")
    if all_containers and container:
        raise UsageError("--all-containers=true should not be specified with container name")  # kubectl's words
    # a terminated instance's log never grows: with -p, -f ends at its end, as the kubelet ends kubectl's stream
    follow = follow and not previous
    if limit_bytes is not None and limit_bytes <= 0:
        raise UsageError(f"--limit-bytes must be greater than 0, not {limit_bytes}")
    if tail < -1:
        raise UsageError("--tail must be greater than or equal to -1")  # kubectl's words (it meant "all")
    if prefix and output == "json":
        raise UsageError("--prefix cannot be combined with -o json (each object names its pod and container)")
    stall = parse_stall_timeout(stall_timeout)
    pod_wait = parse_duration(pod_running_timeout, "--pod-running-timeout", negative=True)
    if pod_wait <= 0:
        raise UsageError("--pod-running-timeout must be higher than zero")  # kubectl's words
    container_re = _regex(container, "--container")
    exclude_container_re = _regex(exclude_container, "--exclude-container")
    includes = [_regex(p, "--include") for p in include or []]
    excludes = [_regex(p, "--exclude") for p in exclude or []]
    opts = LogOptions(
        follow=follow,
        since_seconds=_since_seconds(since),
        since_time=parse_since_time(since_time) if since_time else None,
        tail_lines=tail if tail >= 0 else None,
        previous=previous,
        limit_bytes=limit_bytes,
    )
    client = state.client()
    namespaces: list[str | None] = [None] if all_namespaces else list(state.namespaces or [client.namespace])
    patterns, selections = _targets(client, targets or [], namespaces, selector)
    printer = Printer(
        state, output, timestamps, includes, excludes, multi_ns=all_namespaces or len(namespaces) > 1, follow=follow
    )
    printer.kubectl_prefix = prefix
    mux = LogMux(client, opts, max_requests=max_log_requests, stall_timeout=stall, observer=printer)
    chooser = Chooser(
        mux, patterns, container_re, exclude_container_re, init_containers or all_containers, printer, follow
    )
    chooser.ephemeral = all_containers
    empty: list[Selection] = []
    for sel in selections:
        listed = 0  # pods the selection picks, before the name patterns: a TYPE/NAME "has no pods" only without any
        for ns in namespaces:
            for page in client.list_pages(
                "pods", ns, all_namespaces=ns is None, label_selector=sel.selector, field_selector=field_selector
            ):
                for pod in page.get("items") or []:
                    listed += 1
                    chooser.consider(pod)
        if not listed:
            empty.append(sel)
    if not follow and pod_wait > 0:  # a TYPE/NAME without pods yet (a Job just made): wait for one, as kubectl's
        empty = [
            sel
            for sel in empty
            if sel.owner is None or not _await_pods(client, chooser, sel, namespaces, field_selector, pod_wait)
        ]
    chooser.counting = False
    missing, invalid = _problems(chooser, patterns, empty, container, exclude_container, namespaces)
    failures = Failures(printer, follow, ignore_errors)
    if follow:
        if invalid:  # the pods that exist have no such container, and their replacements will not have one either
            mux.stop()
            raise invalid
        for problem in missing:  # pods that appear later are followed: wait for them
            printer.note(f"{problem.message} yet: waiting (Ctrl-C to stop)")
        if chooser.pods == 0 and not missing:
            printer.note(f"No resources found{_in_namespaces(namespaces) or '.'} Waiting for pods (Ctrl-C to stop)")
        threading.Thread(
            target=chooser.follow_pods,
            args=(client, namespaces, [s.selector for s in selections], field_selector),
            daemon=True,
        ).start()
    else:
        for problem in [*missing, *([invalid] if invalid else [])]:
            failures.add(problem.message, problem.exit_code)
        if chooser.pods == 0 and not missing:  # kubectl's words, as `get` prints them
            printer.note(f"No resources found{_in_namespaces(namespaces)}")
        mux.finish_adding()
    try:
        for event in mux.events():
            printer.emit(event)
            if event.closed and event.error is not None:
                message = f"{event.pod}/{event.container}: {event.error.message}"
                failures.add(message, event.error.exit_code, stream=True)
    finally:
        mux.stop()
        chooser.stop.set()
        printer.idle()
    failures.raise_if_any()


class Failures:
    """What could not be read. With --follow each is reported at once (kates runs until interrupted); without it
    they are kept for the end, after the logs that could be read: one failure is raised as itself, several are
    each reported and summed up, and the exit code is theirs if they agree (else 1)."""

    def __init__(self, printer: Printer, follow: bool, ignore_streams: bool = False):
        self.printer = printer
        self.follow = follow
        self.ignore_streams = ignore_streams  # --ignore-errors: a failed stream is said, and fails nothing
        self.items: list[tuple[str, ExitCode]] = []
        self.streams: list[tuple[str, ExitCode]] = []  # failed streams, in the order they happened to end

    def add(self, message: str, code: ExitCode, *, stream: bool = False) -> None:
        (self.streams if stream else self.items).append((message, code))
        if self.follow:
            self.printer.error(message)

    def raise_if_any(self) -> None:
        streams, self.streams = sorted(self.streams), []  # streams end in any order: report them by pod and container
        if self.ignore_streams:
            if not self.follow:  # (with --follow each was said when it failed)
                for message, _ in streams:
                    self.printer.error(message)
        else:
            self.items += streams
        if not self.items:
            return
        if len(self.items) == 1 and not self.follow:
            message, code = self.items[0]
            raise PartialFailure(message, {code})
        if not self.follow:
            for message, _ in self.items:
                self.printer.error(message)
        codes = {code for _, code in self.items}
        raise PartialFailure(f"{len(self.items)} of the requested logs could not be read", codes)


def _in_namespaces(namespaces: list[str | None]) -> str:
    """kubectl's " in NS namespace." ending (nothing for every namespace)."""
    named = [ns for ns in namespaces if ns is not None]
    if not named:
        return ""
    return f" in {', '.join(named)} namespace{'s' if len(named) > 1 else ''}."


def _in_namespace(namespaces: list[str | None]) -> str:
    """The NotFound message's ' in namespace "NS"' (nothing for every namespace)."""
    named = [f'"{ns}"' for ns in namespaces if ns is not None]
    if not named:
        return ""
    return f" in namespace{'s' if len(named) > 1 else ''} {', '.join(named)}"


def _await_pods(
    client: Client,
    chooser: Chooser,
    sel: Selection,
    namespaces: list[str | None],
    field_selector: str | None,
    seconds: float,
) -> bool:
    """Watch for `seconds` (--pod-running-timeout) for the pods `sel` picks, until one has started (is no longer
    Pending: it has logs to read), and give them to `chooser`; at the deadline, pods still pending are given too
    (their streams fail with the server's reason). True if any came. kubectl's GetFirstPod returns at the first pod
    it sees, pending or not, and its log request then fails while the container is being created."""
    import time

    from ..core.accumulator import Query

    queries = [Query(f"q{i}", "pods", ns, sel.selector, field_selector) for i, ns in enumerate(namespaces)]
    deadline = time.monotonic() + seconds
    pods: list[dict[str, Any]] = []
    with client.watch(*queries) as acc:
        while (left := deadline - time.monotonic()) > 0:
            if not acc.wait(left):
                continue
            snap: dict[str, list[dict[str, Any]]] = {}
            acc.update(snap)
            pods = [pod for found in snap.values() for pod in found]
            if any((pod.get("status") or {}).get("phase", "Pending") != "Pending" for pod in pods):
                break
    for pod in pods:
        chooser.consider(pod)
    return bool(pods)


def _problems(
    chooser: Chooser,
    patterns: list[PodPattern],
    empty: list[Selection],
    container: str | None,
    exclude_container: str | None,
    namespaces: list[str | None],
) -> tuple[list[NotFound], NotFound | None]:
    """What the first listing could not find: the targets that select no pod, and (when no container at all was
    chosen) the first pod without a selected container, in kubectl's words."""
    where = _in_namespace(namespaces)
    missing: list[NotFound] = []
    for i, pattern in enumerate(patterns):
        if i not in chooser.matched:
            what = f'pods "{pattern.text}" not found' if pattern.name else f'no pod matches "{pattern.text}"'
            missing.append(NotFound(what + where))
    missing += [NotFound(f"{sel.owner} has no pods{where}") for sel in empty if sel.owner is not None]
    if not chooser.without_containers or chooser.chosen:
        return missing, None
    pod, names = chooser.without_containers[0]
    others = len(chooser.without_containers) - 1
    more = f" (nor for {others} other pod{'s' if others > 1 else ''})" if others else ""
    if container is not None and not chooser.container_named:
        return missing, NotFound(f"container {container} is not valid for pod {pod} out of: {names}{more}")
    return missing, NotFound(f'--exclude-container "{exclude_container}" excludes every container of pod {pod}{more}')


def _regex(pattern: str | None, flag: str) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise UsageError(f'invalid regular expression for {flag} "{pattern}": {exc}') from exc


def _targets(
    client: Client, targets: list[str], namespaces: list[str | None], selector: str | None
) -> tuple[list[PodPattern], list[Selection]]:
    """Pod-name regexes and label selectors to list pods with."""
    patterns: list[PodPattern] = []
    selections: list[Selection] = []
    for target in targets:
        kind, sep, name = target.partition("/")
        if sep and kind.lower() in WORKLOADS:
            if WORKLOADS[kind.lower()] == "pods":
                patterns.append(PodPattern(re.compile(f"^{re.escape(name)}$"), name, True))
                continue
            ns = namespaces[0] if namespaces and namespaces[0] is not None else client.namespace
            obj = client.get(WORKLOADS[kind.lower()], name, ns)
            combined = ",".join(s for s in (selector_of(obj), selector) if s)
            selections.append(Selection(combined, f'{WORKLOADS[kind.lower()]} "{name}"'))
        elif sep:
            raise UsageError(
                f'cannot show logs of "{target}"', hint="TYPE is one of deploy, sts, ds, rs, job, svc, pod"
            )
        else:
            pattern = _regex(target, "the pod name")
            assert pattern is not None
            patterns.append(PodPattern(pattern, target, bool(POD_NAME.match(target))))
    if not selections:
        selections = [Selection(selector)]
    return patterns, selections


def all_container_names(pod: dict[str, Any]) -> str:
    """kubectl's list of a pod's containers: "a, b, e (ephem), i (init)"."""
    spec = pod.get("spec") or {}
    names = [c.get("name", "") for c in spec.get("containers") or []]
    names += [f"{c.get('name', '')} (ephem)" for c in spec.get("ephemeralContainers") or []]
    names += [f"{c.get('name', '')} (init)" for c in spec.get("initContainers") or []]
    return ", ".join(names)


class Chooser:
    """Decides which pods and containers to follow, and starts their streams."""

    def __init__(
        self,
        mux: LogMux,
        patterns: list[PodPattern],
        container_re: re.Pattern[str] | None,
        exclude_container_re: re.Pattern[str] | None,
        init_containers: bool,
        printer: Printer,
        follow: bool,
    ):
        self.mux = mux
        self.patterns = patterns
        self.container_re = container_re
        self.exclude_container_re = exclude_container_re
        self.init_containers = init_containers
        self.ephemeral = False  # --all-containers: ephemeral containers too (kubectl's order: init, regular, these)
        self.printer = printer
        self.follow = follow
        self.stop = threading.Event()
        self.restarts: dict[tuple[str, str, str], int] = {}
        self.uids: dict[tuple[str, str], str] = {}  # each pod's uid: a pod made again under its name is new
        self.sources: set[LogSource] = set()
        # what the choice found, for the messages when it found nothing
        # what the first listing found, for the messages when it found nothing (not counted while following)
        self.counting = True
        self.pods = 0  # pods that passed the name patterns
        self.matched: set[int] = set()  # indexes of the patterns that matched a pod
        self.chosen = 0  # containers chosen (streams started, or waited for with --follow)
        self.container_named = False  # some pod has a container that -c matches
        self.without_containers: list[tuple[str, str]] = []  # (pod, kubectl's list of its containers)

    def consider(self, pod: dict[str, Any]) -> None:
        from ..core.logs import LogSource

        meta = pod.get("metadata") or {}
        name, ns = meta.get("name", ""), meta.get("namespace", "")
        if self.patterns:
            hits = {i for i, p in enumerate(self.patterns) if p.regex.search(name)}
            if not hits:
                return
            if self.counting:
                self.matched |= hits
        uid = str(meta.get("uid") or "")
        if self.follow and uid and self.uids.setdefault((ns, name), uid) != uid:
            self.drop_pod(ns, name)  # the same name, another pod (a StatefulSet's, a bare pod run again)
            self.uids[(ns, name)] = uid
        chosen = 0
        spec, status = pod.get("spec") or {}, pod.get("status") or {}
        containers = list(spec.get("containers") or [])
        statuses = list(status.get("containerStatuses") or [])
        if self.init_containers:
            containers = list(spec.get("initContainers") or []) + containers
            statuses += list(status.get("initContainerStatuses") or [])
            if self.ephemeral:
                containers += list(spec.get("ephemeralContainers") or [])
                statuses += list(status.get("ephemeralContainerStatuses") or [])
        elif self.container_re is not None:  # `-c NAME` of an init or ephemeral container, as kubectl takes any name
            pattern = self.container_re.pattern
            containers += [
                c
                for key in ("initContainers", "ephemeralContainers")
                for c in spec.get(key) or []
                if c.get("name") == pattern
            ]
            statuses += list(status.get("initContainerStatuses") or [])
            statuses += list(status.get("ephemeralContainerStatuses") or [])
        by_name = {s.get("name"): s for s in statuses}
        named = False
        for c in containers:
            cname = c.get("name", "")
            if self.container_re and not self.container_re.search(cname):
                continue
            named = True
            if self.exclude_container_re and self.exclude_container_re.search(cname):
                continue
            chosen += 1
            st = by_name.get(cname) or {}
            state = st.get("state") or {}
            crashed = ((st.get("lastState") or {}).get("terminated") or {}).get("containerID")
            if self.follow and (not st or ("waiting" in state and not crashed)):
                continue  # no logs yet; a later pod update starts it (without follow the server says why)
            # (a container waiting after a crash, in CrashLoopBackOff, has its last instance's log: the kubelet
            # serves it, as kubectl logs -f shows it)
            src = LogSource(ns, name, cname)
            count = int(st.get("restartCount") or 0)
            key = (ns, name, cname)
            if key in self.restarts and count > self.restarts[key]:
                self.mux.end(src)  # a restarted container: end the old stream, follow the new instance
                self.mux.forget(src)
            self.restarts[key] = count
            self.sources.add(src)
            self.mux.add(src)  # its + marker comes when it really streams (Printer.started)
        if self.counting:
            self.pods += 1
            self.chosen += chosen
            self.container_named = self.container_named or named
            if not chosen:
                self.without_containers.append((name, all_container_names(pod)))

    def follow_pods(
        self, client: Client, namespaces: list[str | None], selectors: list[str | None], field_selector: str | None
    ) -> None:
        from ..core.accumulator import Query

        queries = [
            Query(f"q{i}", "pods", ns, sel, field_selector)
            for i, (ns, sel) in enumerate((ns, sel) for ns in namespaces for sel in selectors)
        ]
        try:
            self._follow_pods(client, queries)
        except KatesError as exc:  # the streams go on; pods that appear later are not followed: said once
            self.printer.error(f"cannot watch pods ({exc.message}): pods created from now on are not followed")

    def _follow_pods(self, client: Client, queries: list[Any]) -> None:
        # the pod watch has the same stall bound as the log streams (a silent stall would hide new pods)
        with client.watch(*queries, stall_timeout=self.mux.stall_timeout) as acc:
            while not self.stop.is_set():
                if not acc.wait(0.5):
                    continue
                snap: dict[str, list[dict[str, Any]]] = {}
                acc.update(snap)
                alive = set()
                for pods in snap.values():
                    for pod in pods:
                        meta = pod.get("metadata") or {}
                        alive.add((meta.get("namespace", ""), meta.get("name", "")))
                        self.consider(pod)
                # a terminating pod still logs (its shutdown, in its grace period): its streams end when it is gone
                for ns, pod_name in ({(s.namespace, s.pod) for s in self.sources} | self.uids.keys()) - alive:
                    self.drop_pod(ns, pod_name)

    def drop_pod(self, ns: str, name: str) -> None:
        """End the streams of a pod that is gone (some servers never end them), and forget it: a pod made again
        under its name is followed anew."""
        for src in [s for s in self.sources if (s.namespace, s.pod) == (ns, name)]:
            self.sources.discard(src)
            self.mux.end(src)
            self.mux.forget(src)
            self.restarts.pop((ns, name, src.container), None)
        self.uids.pop((ns, name), None)


class Printer(LogObserver):
    """Writes lines to stdout; markers and notes to stderr. As the multiplexer's observer (with --follow), it marks
    a stream `+` when it starts streaming and `-` when a stream that started ends."""

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
        self.streaming: dict[tuple[str, str, str], int] = {}  # streams started and not yet ended, per container
        self.kubectl_prefix = False  # --prefix: kubectl's `[pod/NAME/CONTAINER] ` before each line

    def _prefix(self, ns: str, pod: str, container: str) -> str:
        text = f"{ns}/{pod}/{container}" if self.multi_ns else f"{pod}/{container}"
        if self.color:
            code = COLORS[sum(map(ord, pod)) % len(COLORS)]
            return f"\x1b[{code}m{text}\x1b[0m"
        return text

    def note(self, text: str) -> None:
        with self.lock:
            self.err.write(text + "\n")
            self.err.flush()

    def error(self, message: str) -> None:
        self.note(f"error: {message}")

    def marker(self, sign: str, ns: str, pod: str, container: str) -> None:
        with self.lock:
            self.err.write(f"{sign} {ns + '/' if self.multi_ns else ''}{pod}/{container}\n")
            self.err.flush()

    # -- LogObserver: called from stream threads ----------------------------------------------------------------

    def started(self, src: LogSource) -> None:
        if not self.follow:
            return
        key = (src.namespace, src.pod, src.container)
        with self.lock:
            self.streaming[key] = self.streaming.get(key, 0) + 1
        self.marker("+", *key)

    def trouble(self, src: LogSource, text: str) -> None:
        ns = f"{src.namespace}/" if self.multi_ns else ""
        self.note(f"kates: {ns}{src.pod}/{src.container}: {text}")

    def waiting(self, count: int, limit: int) -> None:
        if count:
            self.note(f"kates: waiting: {count} stream{'s' if count > 1 else ''} over --max-log-requests={limit}")
        else:
            self.note(f"kates: waiting: no more streams over --max-log-requests={limit}")

    def idle(self) -> None:
        with self.lock:
            self.out.flush()

    def emit(self, event: LogEvent) -> None:
        if event.closed:  # a failure is reported by the caller's Failures
            key = (event.namespace, event.pod, event.container)
            with self.lock:
                count = self.streaming.get(key, 0)
                if count:
                    self.streaming[key] = count - 1
            if self.follow and count:
                self.marker("-", *key)
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
                    "message": text.encode("utf-8", "surrogateescape").decode("utf-8", "replace"),
                }
            ).decode()
        else:
            if self.timestamps and event.timestamp:
                text = f"{event.timestamp} {text}"
            if self.kubectl_prefix:
                line = f"[pod/{event.pod}/{event.container}] {text}"
            elif self.output == "raw":
                line = text
            else:
                line = f"{self._prefix(event.namespace, event.pod, event.container)} {text}"
        self._write(line if event.partial else line + "\n")

    def _write(self, line: str) -> None:
        """A line to stdout: its bytes as read (not UTF-8 ones too) where stdout takes bytes, as kubectl's."""
        data = line.encode("utf-8", "surrogateescape")
        binary = getattr(self.out, "buffer", None)
        with self.lock:  # with --follow each line goes out at once; without, when the merge waits (`idle`)
            if binary is not None:
                binary.write(data)
                if self.follow:
                    binary.flush()
            else:
                self.out.write(data.decode("utf-8", "replace"))
                if self.follow:
                    self.out.flush()
