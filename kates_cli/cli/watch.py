"""`kates watch`: the command, its flags and its help. The loop itself is cli/watcher.py (its invariants are
there); the `-q` grammar is cli/queries.py.
"""

from __future__ import annotations

from collections.abc import Callable

import click
import typer

from .leadership import HELP as LEADER_HELP
from .queries import QUERY_FORM
from .state import State


def stderr_notice(state: State) -> Callable[[str], None]:
    """A stream's notices (a stall noticed, a kind gone): one line each on stderr, whole lines from any thread."""
    from .events import Events, TextLog

    return Events(TextLog(state.env.stderr)).notice


def register(app: typer.Typer) -> None:
    app.command(
        "watch",
        context_settings={"allow_interspersed_args": False},
        epilog="HOOK PROTOCOL: the hook gets the snapshot on stdin as one JSON object keyed by query name, each "
        "value a list of full objects ordered by namespace then name; for a query with jq=FILTER, the filter's "
        "results for each object instead (none: the object is left out), and a run only when they change; a "
        "filter failing on an object ends the watch with an error naming it. Environment: KATES_SNAPSHOT_SHA256 "
        "(the SHA-256 of the exact stdin bytes), KATES_DELTAS (a file with the "
        "JSON list of changes since the previous run), KATES_RUN (runs before this one), KATES_FAILURES (failed "
        "runs in a row), KUBECONFIG, KATES_CONTEXT, KATES_NAMESPACE, and KATES_WRITE_SOCKET (writes made by kates "
        "inside the hook are reported there and appear in the next snapshot). Deltas are the net change since the "
        "last successful run, one per object (a changed UID is a delete then an add), ordered by query, then "
        "namespace and name. Exit 0 is success; anything else, a run that hit --hook-timeout, or a hook that "
        "cannot be executed is a failure, retried with backoff.\n\n"
        "READS INSIDE THE HOOK: snapshot isolation for a hook run, plus read-your-writes. kates get inside the hook "
        "is answered by the watcher from the snapshot the run received on stdin plus the run's own writes (the "
        "same bytes); tables are the server's, with a warning when they show its newer state. kates get --live, "
        "or KATES_LIVE_READS=1 for the whole hook, reads the API server; so does a read the watcher cannot answer "
        "(said once on stderr), and any read between runs. A read no query covers (one object by name, or a kind "
        "with namespace and selectors) becomes a dependency: answered from the API server the first time, then "
        "watched (a name through a metadata.name field selector); its changes start runs like a query's, with "
        '"query": "dependency" in the deltas. A successful run releases the dependencies it did not read; a failed '
        "one releases nothing. Identical reads share one watch; --max-dependencies bounds them.\n\n"
        + "\n\n".join(METRICS_PARAGRAPHS)
        + "\n\n"
        + LEADER_HELP
        + "\n\n"
        + RESYNC_HELP
        + "\n\n"
        + RECORDING_HELP,
    )(watch)


RESYNC_HELP = (
    "RESYNC: with --resync DURATION the hook also runs when nothing has changed for DURATION since the last run "
    "ended (client-go's resync period), on the current snapshot; its KATES_DELTAS is the empty list [] (nothing "
    "changed since the last successful run). It coalesces with everything else (a change due at the same time "
    "gives one run, with its deltas), every run restarts the period, and runs never overlap. After a failed run the "
    "retries keep their backoff (--max-backoff): a resync never shortens it, and resync runs resume after a "
    "success."
)

RECORDING_HELP = (
    'RECORDING: --record FILE appends to FILE (created mode 0600) a first line {"kates_recording": 1} (the format '
    "version; an existing FILE must be a recording of that version), then one line per run or printed snapshot: "
    '{"run", "time", "failures", "context", "namespace", "code", "result", "snapshot_sha256", "snapshot_bytes", '
    '"snapshot", "deltas"}, where snapshot and deltas are the stdin and the KATES_DELTAS file\'s content embedded '
    "byte for byte, code the hook's exit status and result success, failure, timeout or fenced (both null when "
    "printing). A line is written whole or not at all, after its run. kates replay FILE --exec HOOK runs a hook "
    "on it without a cluster."
)


METRICS_PARAGRAPHS = (
    "--metrics-addr HOST:PORT (:PORT: every interface) serves three paths. /readyz is 200 once every query has "
    "bootstrapped, 503 before. /healthz is 200 while every watch stream has heard from the API server within "
    "--stall-timeout (an idle watch is renewed well within it), 503 naming the silent query otherwise.",
    "/metrics, in Prometheus text: kates_hook_runs_total{result} (result: success, failure, timeout or fenced), "
    "kates_hook_run_duration_seconds (histogram), kates_hook_consecutive_failures, kates_objects{query}, "
    "kates_snapshot_bytes{query}, kates_overlay_entries{query} (local writes not yet seen by the watch), "
    "kates_dependencies (objects watched because the hook read them), "
    "kates_watch_events_total{query,type} (type: ADDED, MODIFIED, DELETED or BOOKMARK), "
    "kates_watch_restarts_total{query,reason} (reason: 410, 404, stall, error or closed), "
    "kates_watch_lists_total{query}, "
    "kates_bootstrap_duration_seconds, kates_changes_total and kates_changes_coalesced_total (changes handed to "
    "runs, and those that shared a run with an earlier one), kates_staleness_seconds (histogram: from a change "
    "reaching kates to the start of the run that carries it), kates_leader and kates_leader_transitions_total.",
    "--log-format json writes every line kates itself writes on stderr, including the final error, as one JSON "
    'object: {"time", "level", "event", "msg", ...fields}; the hook\'s own output passes through untouched.',
)


def watch(
    ctx: typer.Context,
    queries: list[str] = typer.Option(
        None, "--query", "-q", help=f"A query: {QUERY_FORM}. Repeatable; NAME defaults to KIND as typed."
    ),
    hook_args: list[str] = typer.Argument(None, metavar="[-- HOOK_ARGS...]"),
    exec_: str | None = typer.Option(None, "--exec", help="Run this program on each snapshot (no shell)."),
    all_namespaces: bool = typer.Option(False, "--all-namespaces", "-A", help="Queries without ns= watch all."),
    once: bool = typer.Option(False, "--once", help="Bootstrap, run the hook (or print) once, exit with its code."),
    debounce: str | None = typer.Option(None, "--debounce", help="Wait for this much quiet before a run, e.g. 500ms."),
    debounce_max: str | None = typer.Option(
        None, "--debounce-max", help="With --debounce: run anyway after this long (default: 4 times the debounce)."
    ),
    hook_timeout: str | None = typer.Option(None, "--hook-timeout", help="A run longer than this fails, e.g. 5m."),
    max_failures: int = typer.Option(
        0, "--max-failures", help="Exit 9 after this many failed runs in a row (0: never)."
    ),
    backoff_cap: str = typer.Option(
        "30s", "--max-backoff", help="Longest wait before retrying a failed hook (at least 100ms)."
    ),
    grace_period: str = typer.Option(
        "10s", "--grace-period", help="On stop or timeout, wait this long before SIGKILL."
    ),
    output_deltas: bool = typer.Option(False, "--output-deltas", help="Without --exec: print deltas, not snapshots."),
    wait_for_kinds: bool = typer.Option(False, "--wait-for-kinds", help="Wait for kinds that do not exist yet (CRDs)."),
    bootstrap_timeout: str | None = typer.Option(None, "--bootstrap-timeout", help="Fail if not synced by then."),
    stall_timeout: str = typer.Option(
        "30s",
        "--stall-timeout",
        help="A watch connection silent this long is noticed (one line on stderr), dropped and resumed from its "
        "last resourceVersion (at least 2s).",
    ),
    metrics_addr: str | None = typer.Option(
        None, "--metrics-addr", help="Serve /metrics, /healthz and /readyz on HOST:PORT (:PORT: every interface)."
    ),
    log_format: str = typer.Option("text", "--log-format", help="kates's own stderr lines: text, or json."),
    leader_elect: bool = typer.Option(
        False, "--leader-elect", help="Run the hook only while holding --lease (see LEADER ELECTION below)."
    ),
    lease: str | None = typer.Option(None, "--lease", help="With --leader-elect: the Lease's name (required)."),
    lease_namespace: str | None = typer.Option(
        None, "--lease-namespace", help="The Lease's namespace (default: the current namespace)."
    ),
    identity: str | None = typer.Option(
        None, "--identity", help="This replica's holder identity (default: $POD_NAME, else hostname_RANDOM)."
    ),
    lease_duration: str | None = typer.Option(
        None, "--lease-duration", help="How long others wait before taking an unrenewed Lease [default: 15s]."
    ),
    renew_deadline: str | None = typer.Option(
        None, "--renew-deadline", help="A leader that cannot renew for this long stops leading [default: 10s]."
    ),
    retry_period: str | None = typer.Option(
        None, "--retry-period", help="How often to renew, or to try to acquire (with jitter) [default: 2s]."
    ),
    max_dependencies: int = typer.Option(
        100,
        "--max-dependencies",
        help="At most this many distinct dependencies (reads by the hook that no query covers, then watched); a "
        "read that would add one more fails (0: none).",
    ),
    record: str | None = typer.Option(
        None,
        "--record",
        metavar="FILE",
        click_type=click.Path(),
        help="Append one JSON line per hook run (or printed snapshot) to FILE: its stdin and deltas exactly as the "
        "hook got them (see RECORDING below; kates replay runs a hook on them).",
    ),
    resync: str | None = typer.Option(
        None,
        "--resync",
        help="Also run when nothing has changed for this long since the last run ended, e.g. 5m (see RESYNC below).",
    ),
) -> None:
    """Watch several kinds as one coherent snapshot, and run a hook whenever it changes.

    Each -q is one query, e.g. -q svc -q 'web=deploy ns=prod l=app=web'; jq=FILTER comes last and takes the
    rest of the query, e.g. -q 'web=deploy jq={name: .metadata.name, replicas: .spec.replicas}'. kates waits until
    every query has listed everything, then runs HOOK with the whole snapshot on stdin; while a run is going, changes
    coalesce into one next run with the newest state. Without --exec each snapshot is printed as one JSON line.
    """
    from .watchrun import run

    raise typer.Exit(
        run(
            ctx.obj,
            queries,
            hook_args,
            exec_=exec_,
            all_namespaces=all_namespaces,
            once=once,
            debounce=debounce,
            debounce_max=debounce_max,
            hook_timeout=hook_timeout,
            max_failures=max_failures,
            backoff_cap=backoff_cap,
            grace_period=grace_period,
            output_deltas=output_deltas,
            wait_for_kinds=wait_for_kinds,
            bootstrap_timeout=bootstrap_timeout,
            stall_timeout=stall_timeout,
            metrics_addr=metrics_addr,
            log_format=log_format,
            leader_elect=leader_elect,
            lease=lease,
            lease_namespace=lease_namespace,
            identity=identity,
            lease_duration=lease_duration,
            renew_deadline=renew_deadline,
            retry_period=retry_period,
            max_dependencies=max_dependencies,
            record=record,
            resync=resync,
        )
    )
