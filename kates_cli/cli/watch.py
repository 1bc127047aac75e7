"""`kates watch`: bootstrap every query, then run a hook (or print) on each coalesced snapshot.

Invariants:
- Nothing runs before every query has bootstrapped. Never two hook runs at once; changes during a run coalesce into
  one next run with the newest snapshot.
- A failing hook is retried with capped exponential backoff while changes keep coalescing; `--max-failures`
  consecutive failures end kates with HOOK_FAILED.
- The hook's writes through `kates` reach this process over a private Unix socket before the command returns, so
  they are in the very next snapshot.
"""

from __future__ import annotations

import os
import re
import signal
import tempfile
import time
from typing import TYPE_CHECKING, Any

import orjson
import typer

from ..errors import ExitCode, KatesError, UsageError
from .state import State

if TYPE_CHECKING:
    from ..core.accumulator import Accumulator, Delta, Query

QUERY_FORM = "[NAME=]KIND [ns=NAMESPACE|ns=*] [l=LABEL_SELECTOR] [f=FIELD_SELECTOR]"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class HookFailed(KatesError):
    exit_code = ExitCode.HOOK_FAILED


def parse_query(text: str, default_namespace: str | None) -> Query:
    """One -q value -> Query. `default_namespace=None` means all namespaces."""
    from ..core.accumulator import Query

    def bad(why: str) -> UsageError:
        return UsageError(f'invalid query "{text}": {why}', hint=f"expected {QUERY_FORM}, e.g. -q 'web=deploy ns=prod'")

    tokens = text.split()
    if not tokens:
        raise bad("it is empty")
    head, rest = tokens[0], tokens[1:]
    name, sep, kind = head.partition("=")
    if not sep:
        name, kind = head, head
    if not kind or "=" in kind:
        raise bad("no KIND")
    if not _NAME.match(name):
        name = re.sub(r"[^A-Za-z0-9_-]", "_", name) if not sep else name
        if not _NAME.match(name):
            raise bad(f'"{name}" is not a valid query name (letters, digits, _ and -)')
    namespace = default_namespace
    labels = fields = None
    for token in rest:
        key, eq, value = token.partition("=")
        if not eq or not value:
            raise bad(f'"{token}" is not KEY=VALUE')
        if key in ("ns", "namespace"):
            namespace = None if value in ("*", "all") else value
        elif key in ("l", "labels", "selector"):
            labels = value
        elif key in ("f", "fields", "field-selector"):
            fields = value
        else:
            raise bad(f'unknown key "{key}"')
    from ..core.selectors import FieldSelector, LabelSelector

    LabelSelector(labels)  # fail now, with a usage error, rather than in the stream
    FieldSelector(fields)
    return Query(name, kind, namespace, labels, fields)


def register(app: typer.Typer) -> None:
    app.command(
        "watch",
        context_settings={"allow_interspersed_args": False},
        epilog="HOOK PROTOCOL: the hook gets the snapshot on stdin as one JSON object keyed by query name, each "
        "value a list of full objects ordered by namespace then name. Environment: KATES_DELTAS (a file with the "
        "JSON list of changes since the previous run), KATES_RUN (runs before this one), KATES_FAILURES (failed "
        "runs in a row), KUBECONFIG, KATES_CONTEXT, KATES_NAMESPACE, and KATES_WRITE_SOCKET (writes made by kates "
        "inside the hook are reported there and appear in the next snapshot). Exit 0 is success; anything else "
        "is a failure, retried with backoff.",
    )(watch)


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
    hook_timeout: str | None = typer.Option(None, "--hook-timeout", help="A run longer than this fails, e.g. 5m."),
    max_failures: int = typer.Option(
        0, "--max-failures", help="Exit 9 after this many failed runs in a row (0: never)."
    ),
    backoff_cap: str = typer.Option("30s", "--max-backoff", help="Longest wait before retrying a failed hook."),
    grace_period: str = typer.Option(
        "10s", "--grace-period", help="On stop or timeout, wait this long before SIGKILL."
    ),
    output_deltas: bool = typer.Option(False, "--output-deltas", help="Without --exec: print deltas, not snapshots."),
    wait_for_kinds: bool = typer.Option(False, "--wait-for-kinds", help="Wait for kinds that do not exist yet (CRDs)."),
    bootstrap_timeout: str | None = typer.Option(None, "--bootstrap-timeout", help="Fail if not synced by then."),
) -> None:
    """Watch several kinds as one coherent snapshot, and run a hook whenever it changes.

    Each -q is one query, e.g. -q svc -q 'web=deploy ns=prod l=app=web'. kates waits until every query has
    listed everything, then runs HOOK with the whole snapshot on stdin; while a run is going, changes coalesce into
    one next run with the newest state. Without --exec each snapshot is printed as one JSON line.
    """
    from .app import parse_duration

    state: State = ctx.obj
    if not queries:
        raise UsageError("at least one -q/--query is required", hint=f"expected {QUERY_FORM}")
    default_ns = None if all_namespaces else (state.namespace or None)
    client = state.client()
    if default_ns is None and not all_namespaces:
        default_ns = client.namespace
    parsed = [parse_query(q, default_ns) for q in queries]
    argv: list[str] | None = None
    if exec_:
        from .hook import check_runnable

        argv = [check_runnable(exec_), *(hook_args or [])]
    elif hook_args:
        raise UsageError("extra arguments are only allowed as hook arguments, with --exec")
    code = Watcher(
        state,
        parsed,
        argv,
        once=once,
        max_failures=max_failures,
        output_deltas=output_deltas,
        wait_for_kinds=wait_for_kinds,
        debounce=parse_duration(debounce) if debounce else 0.0,
        hook_timeout=parse_duration(hook_timeout) if hook_timeout else None,
        backoff_cap=parse_duration(backoff_cap),
        grace=parse_duration(grace_period),
        bootstrap_timeout=parse_duration(bootstrap_timeout) if bootstrap_timeout else None,
    ).run()
    raise typer.Exit(code)


class Watcher:
    def __init__(
        self,
        state: State,
        queries: list[Query],
        argv: list[str] | None,
        *,
        once: bool,
        max_failures: int,
        output_deltas: bool,
        wait_for_kinds: bool,
        debounce: float,
        hook_timeout: float | None,
        backoff_cap: float,
        grace: float,
        bootstrap_timeout: float | None,
    ):
        from ..core.watch import Backoff
        from .hook import HookRunner

        self.state = state
        self.queries = queries
        self.argv = argv
        self.once = once
        self.max_failures = max_failures
        self.output_deltas = output_deltas
        self.wait_for_kinds = wait_for_kinds
        self.debounce = debounce
        self.bootstrap_timeout = bootstrap_timeout
        self.runner = HookRunner(argv, timeout=hook_timeout, grace=grace) if argv else None
        self.backoff = Backoff(first=1.0, cap=backoff_cap)
        self.stop_signal: int | None = None
        self.runs = 0
        self.failures = 0
        self.status = StatusLine(state.env.stderr_tty, state.env.stderr)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stop_signal = signum
        if self.runner is not None:
            self.runner.signal_stop(signum)

    def _sleep(self, seconds: float) -> None:
        """Sleep, but wake at once when kates is asked to stop."""
        end = time.monotonic() + seconds
        while self.stop_signal is None and time.monotonic() < end:
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))

    def run(self) -> int:
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        client = self.state.client()
        gate = None
        if os.environ.get("KATES_TEST_HOLD_WATCH"):
            from ..core.watch import file_gate

            gate = file_gate(os.environ["KATES_TEST_HOLD_WATCH"])
        tmp = tempfile.TemporaryDirectory(prefix="kates-watch-")
        server = None
        acc = client.watch(*self.queries, wait_for_kinds=self.wait_for_kinds, gate=gate)
        try:
            if self.argv is not None:
                from ..core.coherence import WriteServer, cluster_id

                stderr = self.state.env.stderr
                debug = (lambda line: stderr.write(f"debug: {line}\n")) if self.state.debug else None
                server = WriteServer(tmp.name, acc.record_write, cluster=cluster_id(client.settings), debug=debug)
            if not self._bootstrap(acc):
                return int(ExitCode.INTERRUPTED)
            return self._loop(acc, tmp.name, server.path if server else None)
        finally:
            self.status.stop()
            acc.close()
            if server is not None:
                server.close()
            tmp.cleanup()
            for s, h in previous.items():
                signal.signal(s, h)

    def _bootstrap(self, acc: Accumulator) -> bool:
        started = time.monotonic()
        warned = False
        while self.stop_signal is None:
            if acc.wait(0.1):
                return True
            waited = time.monotonic() - started
            status = acc.status()
            self.status.show(
                "bootstrapping: "
                + ", ".join(f"{n} {'synced' if s['synced'] else 'listing'} ({s['count']})" for n, s in status.items())
            )
            pending = [n for n, s in status.items() if not s["synced"]]
            if self.bootstrap_timeout is not None and waited > self.bootstrap_timeout:
                raise KatesError(
                    f"queries not bootstrapped after {waited:.0f}s: {', '.join(pending)}",
                    hint="check that the kinds exist and that the API server is healthy",
                )
            if waited > 10 and not warned:
                warned = True
                self.state.env.stderr.write(f"kates: still waiting for queries to bootstrap: {', '.join(pending)}\n")
        return False

    def _quiet(self, acc: Accumulator) -> None:
        while self.debounce and self.stop_signal is None:
            generation = acc.generation
            self._sleep(self.debounce)
            if acc.generation == generation:
                return

    def _loop(self, acc: Accumulator, tmp: str, socket_path: str | None) -> int:
        retry = False
        deltas: list[Delta] = []
        out = self.state.env.stdout
        while self.stop_signal is None:
            if not retry:
                if not acc.wait(0.1):
                    continue
                self._quiet(acc)
            changed, data, new = acc.snapshot_json()
            deltas += new
            if not changed and not retry:
                continue
            if self.runner is None:
                line = orjson.dumps([d.to_dict() for d in deltas]) if self.output_deltas else data
                deltas = []
                out.buffer.write(line + b"\n") if hasattr(out, "buffer") else out.write(line.decode() + "\n")
                out.flush()
                if self.once:
                    return 0
                continue
            self.status.stop()  # the hook owns the terminal while it runs
            result = self.runner.run(data, self._env(tmp, deltas, socket_path))
            self.runs += 1
            if result.stopped or self.stop_signal is not None:
                break
            if self.once:
                return result.code
            if result.code == 0:
                self.failures = 0
                deltas = []
                retry = False
                self.backoff.reset()
                self.status.show(f"runs: {self.runs}, last {result.seconds:.2f}s, ok")
                continue
            self.failures += 1
            why = "timed out" if result.timed_out else f"exit {result.code}"
            if self.max_failures and self.failures >= self.max_failures:
                raise HookFailed(f"hook failed {self.failures} times in a row (last: {why})")
            delay = self.backoff.take()
            self.state.env.stderr.write(
                f"kates: hook failed ({why}), {self.failures} in a row; retrying in {delay:.1f}s\n"
            )
            self.state.env.stderr.flush()
            retry = True
            self._sleep(delay)
        return int(ExitCode.INTERRUPTED)

    def _env(self, tmp: str, deltas: list[Delta], socket_path: str | None) -> dict[str, str]:
        from ..core.coherence import ENV_VAR

        path = os.path.join(tmp, f"deltas-{self.runs}.json")
        with open(path, "wb") as fh:
            fh.write(orjson.dumps([d.to_dict() for d in deltas]))
        stale = os.path.join(tmp, f"deltas-{self.runs - 1}.json")
        if os.path.exists(stale):
            os.unlink(stale)
        settings = self.state.client().settings
        env = dict(os.environ)
        env.update(
            KATES_DELTAS=path,
            KATES_RUN=str(self.runs),
            KATES_FAILURES=str(self.failures),
            KATES_CONTEXT=settings.context,
            KATES_NAMESPACE=settings.namespace,
        )
        if settings.kubeconfig_paths:
            env["KUBECONFIG"] = os.pathsep.join(settings.kubeconfig_paths)
        if socket_path:
            env[ENV_VAR] = socket_path
        env.pop("KATES_TEST_HOLD_WATCH", None)
        return env


class StatusLine:
    """A one-line status on a terminal's stderr (rich); nothing at all when stderr is not a terminal."""

    def __init__(self, enabled: bool, stream: Any):
        self.enabled = enabled
        self._status: Any = None
        self._stream = stream

    def show(self, text: str) -> None:
        if not self.enabled:
            return
        if self._status is None:
            from rich.console import Console

            self._status = Console(file=self._stream).status(text)
            self._status.start()
        else:
            self._status.update(text)

    def stop(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None
