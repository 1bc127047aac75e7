"""`kates replay FILE --exec HOOK`: runs a hook on a recording of `kates watch --record`, without a cluster.

Invariants:
- The whole recording is read and checked before the first run (cli/recording.py): a bad file runs nothing.
- One run per recorded line, in order, never two at once, through the watch's own HookRunner and private directory
  (cli/hook.py, cli/rundir.py): stdin is the recorded snapshot byte for byte, KATES_DELTAS a private file holding
  the recorded deltas byte for byte, KATES_RUN, KATES_FAILURES, KATES_CONTEXT and KATES_NAMESPACE as recorded,
  KATES_SNAPSHOT_SHA256 the stdin's digest. No kubeconfig is read; KATES_WRITE_SOCKET and KATES_FENCED_WRITES
  inherited from an outer watch are removed (no watcher serves this hook).
- Unless --allow-writes, the hook's environment has KATES_REPLAY=1: kates inside it refuses every write
  (core/coherence.py REPLAY_ENV) with exit status 10.
- The first failed run (non-zero exit, a hook that cannot be executed: 127, or a run that hit --hook-timeout: 9
  whatever its status) ends the replay with its exit status;
  with --keep-going every line runs and the first failure's status is the replay's. SIGINT and SIGTERM reach the
  running hook, and the replay then ends with 130.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING

import click
import typer

from ..errors import ExitCode, UsageError
from .state import State

if TYPE_CHECKING:
    from .recording import Record


PROTOCOL = (
    "As kates watch's. Each run gets the recorded snapshot on stdin, byte for byte; KATES_DELTAS names a private "
    "file with the recorded deltas, byte for byte; KATES_RUN, KATES_FAILURES, KATES_CONTEXT and KATES_NAMESPACE are "
    "the recorded run's; KATES_SNAPSHOT_SHA256 is the hex SHA-256 of stdin; KUBECONFIG and everything else are the "
    "replay's own environment. KATES_REPLAY=1 is set unless --allow-writes: kates inside the hook then sends no "
    "write (create, update, update-status, patch, delete; a server dry run is allowed) and exits with status 10. "
    "No kubeconfig is needed."
)

STATUS = (
    "0 when every run succeeded; otherwise the exit status of the first failed run (127 for a hook that cannot be "
    "executed, 128+N for a signal N, 9 for a run that hit --hook-timeout); 2 for a recording that cannot be read, "
    "is of another version or has a bad line (nothing runs then); 130 on SIGINT or SIGTERM."
)


def register(app: typer.Typer) -> None:
    app.command("replay", epilog=f"HOOK PROTOCOL: {PROTOCOL}\n\nEXIT STATUS: {STATUS}")(replay)


def replay(
    ctx: typer.Context,
    file: str = typer.Argument(
        ..., metavar="FILE", click_type=click.Path(), help="A recording made by kates watch --record FILE."
    ),
    hook_args: list[str] = typer.Argument(None, metavar="[-- HOOK_ARGS...]"),
    exec_: str | None = typer.Option(None, "--exec", help="Run this program on each recorded run (no shell)."),
    keep_going: bool = typer.Option(
        False, "--keep-going", help="Run every line even after a failure; exit with the first failure's status."
    ),
    allow_writes: bool = typer.Option(
        False, "--allow-writes", help="Let kates inside the hook write to a cluster (refused by default)."
    ),
    hook_timeout: str | None = typer.Option(
        None, "--hook-timeout", help="A run longer than this fails (exit 9, whatever its status), e.g. 5m."
    ),
    grace_period: str = typer.Option(
        "10s", "--grace-period", help="On stop or timeout, wait this long before SIGKILL."
    ),
) -> None:
    """Run a hook on each run recorded by kates watch --record, in order, with no cluster.

    The hook gets what the recorded run's hook got: the same stdin, deltas and environment (see HOOK PROTOCOL).
    The replay stops at the first failed run and exits with its status (for CI), unless --keep-going.
    """
    from .app import parse_duration
    from .recording import read

    state: State = ctx.obj
    timeout = parse_duration(hook_timeout, "--hook-timeout") if hook_timeout else None
    grace = parse_duration(grace_period, "--grace-period")
    if not exec_:
        raise UsageError("--exec HOOK is required", hint="kates replay FILE --exec HOOK")
    from .hook import check_runnable

    argv = [check_runnable(exec_), *(hook_args or [])]

    def cut(number: int) -> None:
        state.env.stderr.write(f'kates: "{file}" line {number}: cut by a crash while it was written: left out\n')

    records = read(file, cut)  # every line checked before the first run
    raise typer.Exit(Replay(state, argv, allow_writes, timeout, grace).run(records, keep_going))


class Replay:
    def __init__(
        self, state: State, argv: list[str], allow_writes: bool, timeout: float | None = None, grace: float = 10.0
    ):
        from .hook import HookRunner

        self.state = state
        self.runner = HookRunner(argv, timeout=timeout, grace=grace)
        self.allow_writes = allow_writes
        self.stop_signal: int | None = None

    def _on_signal(self, signum: int, frame: object) -> None:
        self.stop_signal = signum
        self.runner.signal_stop(signum)

    def run(self, records: list[Record], keep_going: bool) -> int:
        from .hook import Reaper
        from .rundir import RunDir, remove_stale

        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        remove_stale()
        tmp = RunDir()
        reaper = self.runner.reaper = Reaper(tmp.path, fencing=False)  # a replay never leads
        first_failure = 0
        try:
            for n, record in enumerate(records):
                if self.stop_signal is not None:
                    break
                name = f"deltas-{n}.json"
                try:
                    result = self.runner.run(record.snapshot, self._env(record, tmp.write(name, record.deltas)))
                finally:
                    tmp.remove(name)
                if result.stopped or self.stop_signal is not None:
                    break
                if result.ok:
                    continue
                from .policy import why

                self.state.env.stderr.write(
                    f"replay: run {record.run} (line {n + 2}) failed ({why(result, self.runner.timeout)})\n"
                )
                # a run that hit --hook-timeout failed even if it then exited 0
                first_failure = first_failure or (int(ExitCode.HOOK_FAILED) if result.timed_out else result.code)
                if not keep_going:
                    break
        finally:
            tmp.cleanup()
            reaper.close()
            for s, h in previous.items():
                signal.signal(s, h)
        if self.stop_signal is not None:
            return int(ExitCode.INTERRUPTED)
        return first_failure

    def _env(self, record: Record, deltas_path: str) -> dict[str, str]:
        from ..core.coherence import ENV_VAR, FENCE_ENV, REPLAY_ENV
        from .recording import sha256

        env = dict(os.environ)
        env.update(
            KATES_DELTAS=deltas_path,
            KATES_RUN=str(record.run),
            KATES_FAILURES=str(record.failures),
            KATES_CONTEXT=record.context,
            KATES_NAMESPACE=record.namespace,
            KATES_SNAPSHOT_SHA256=sha256(record.snapshot),
        )
        for name in (ENV_VAR, FENCE_ENV, REPLAY_ENV, "KATES_TEST_HOLD_WATCH"):
            env.pop(name, None)
        if not self.allow_writes:
            env[REPLAY_ENV] = "1"
        return env
