"""The work of `kates watch` once its command line is read: checks every option, builds the Watcher and runs it.

Both paths that read a `kates watch` command line call `run`: the click command (cli/watch.py, which owns the flags
and their help) and the fast path (cli/fastwatch.py, the commonest lines without typer or click).

Invariants:
- `run`'s defaults are the click command's defaults, so a caller passing only what the user gave gets what click
  would pass (tests/unit/test_fastwatch.py holds the two paths to the same values).
- Every bad option is a UsageError before the first request, and a file named by --record is opened (or refused)
  before the bootstrap.
- Imports neither typer nor click.
"""

from __future__ import annotations

from ..errors import UsageError
from .queries import QUERY_FORM, parse_query
from .state import State

MIN_BACKOFF = 0.1  # seconds: the least --max-backoff


def run(
    state: State,
    queries: list[str] | None,
    hook_args: list[str] | None = None,
    *,
    exec_: str | None = None,
    all_namespaces: bool = False,
    once: bool = False,
    debounce: str | None = None,
    debounce_max: str | None = None,
    hook_timeout: str | None = None,
    max_failures: int = 0,
    backoff_cap: str = "30s",
    grace_period: str = "10s",
    output_deltas: bool = False,
    wait_for_kinds: bool = False,
    bootstrap_timeout: str | None = None,
    stall_timeout: str = "30s",
    metrics_addr: str | None = None,
    log_format: str = "text",
    leader_elect: bool = False,
    lease: str | None = None,
    lease_namespace: str | None = None,
    identity: str | None = None,
    lease_duration: str | None = None,
    renew_deadline: str | None = None,
    retry_period: str | None = None,
    max_dependencies: int = 100,
    record: str | None = None,
    resync: str | None = None,
) -> int:
    """Run the watch; return its exit code (cli/watcher.py's)."""
    from . import durations
    from .app import parse_duration

    if log_format not in ("text", "json"):
        raise UsageError(f'invalid --log-format "{log_format}"', hint="expected text or json")
    if log_format == "json":
        from .app import json_errors

        json_errors()
    addr = None
    if metrics_addr is not None:
        from .probes import parse_addr

        addr = parse_addr(metrics_addr)
    if not queries:
        raise UsageError("at least one -q/--query is required", hint=f"expected {QUERY_FORM}")
    if max_dependencies < 0:
        raise UsageError(f"--max-dependencies must be 0 or more, not {max_dependencies}")
    resync_period = parse_duration(resync, "--resync") if resync is not None else None
    if resync_period is not None and resync_period <= 0:
        raise UsageError(f"--resync must be longer than 0, not {resync}")
    default_ns = None if all_namespaces else (state.namespace or None)
    if not all_namespaces and state.namespace_explicit and len(set(state.namespaces)) > 1:
        default_ns = ",".join(sorted(set(state.namespaces)))  # -n a,b: a query without ns= watches both
    client = state.client()
    if default_ns is None and not all_namespaces:
        default_ns = client.namespace
    parsed = [parse_query(q, default_ns) for q in queries]
    lease_flags = {
        "--lease-duration": lease_duration,
        "--renew-deadline": renew_deadline,
        "--retry-period": retry_period,
    }
    lease_options = None
    if leader_elect or any(v is not None for v in (lease, lease_namespace, identity, *lease_flags.values())):
        from .leadership import parse_options  # only with leader election's flags: its imports cost a watch's start

        lease_options = parse_options(
            leader_elect, lease, lease_namespace, identity, lease_flags, state.namespace or client.namespace
        )
    stall = durations.parse_stall_timeout(stall_timeout)
    argv: list[str] | None = None
    if exec_:
        from .hook import check_runnable

        argv = [check_runnable(exec_), *(hook_args or [])]
    elif hook_args:
        raise UsageError("extra arguments are only allowed as hook arguments, with --exec")
    from .schedule import Debounce

    quiet = parse_duration(debounce, "--debounce") if debounce else 0.0
    bound = parse_duration(debounce_max, "--debounce-max") if debounce_max else None
    if bound is not None and bound < quiet:
        raise UsageError(f"--debounce-max ({debounce_max}) is shorter than --debounce ({debounce})")
    if bound is not None and not quiet:
        raise UsageError("--debounce-max needs --debounce")
    if max_failures < 0:
        raise UsageError(f"--max-failures must be 0 (no limit) or more, not {max_failures}")
    cap = parse_duration(backoff_cap, "--max-backoff")
    if cap < MIN_BACKOFF:  # 0s re-ran a failing hook in a tight loop
        raise UsageError(f"--max-backoff must be at least {MIN_BACKOFF * 1000:g}ms, not {backoff_cap}")
    from .watcher import Watcher

    recorder = None
    if record is not None:
        from .recording import Recorder

        recorder = Recorder(record)  # a file that cannot be written fails here, before the bootstrap
    try:
        code = Watcher(
            state,
            parsed,
            argv,
            once=once,
            max_failures=max_failures,
            output_deltas=output_deltas,
            wait_for_kinds=wait_for_kinds,
            debounce=Debounce.of(quiet, bound),
            hook_timeout=parse_duration(hook_timeout, "--hook-timeout") if hook_timeout else None,
            backoff_cap=cap,
            grace=parse_duration(grace_period, "--grace-period"),
            bootstrap_timeout=parse_duration(bootstrap_timeout, "--bootstrap-timeout") if bootstrap_timeout else None,
            stall_timeout=stall,
            metrics_addr=addr,
            log_format=log_format,
            lease=lease_options,
            max_dependencies=max_dependencies,
            recorder=recorder,
            resync=resync_period,
        ).run()
    finally:
        if recorder is not None:
            recorder.close()
    return code
