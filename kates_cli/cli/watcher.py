"""The watch loop behind `kates watch`: bootstrap every query, then run a hook (or print) on each coalesced snapshot.

Invariants:
- Nothing runs before every query has bootstrapped. Never two hook runs at once; changes during a run coalesce into
  one next run with the newest snapshot.
- A failing hook is retried with capped exponential backoff while changes keep coalescing; `--max-failures`
  consecutive failures end kates with HOOK_FAILED. A run fails when it exits non-zero, when it hits
  `--hook-timeout` (whatever its exit status) and when it cannot be executed (a bad interpreter line).
- KATES_DELTAS holds the net change since the last successful run (deltas.NetChanges): a failed run's deltas are
  carried into the next run, never repeated or lost. KATES_SNAPSHOT_SHA256 is the SHA-256 of the run's exact stdin.
- With `--debounce`, a run waits for quiet but never longer than `--debounce-max` (schedule.Debounce).
- With `--resync`, a run also starts when nothing has changed for the period since the last run (or print) ended,
  on the current snapshot, with the net change since the last successful run as its deltas (empty: a resync runs
  only after a success; a failed run's retries keep their backoff). It goes through the same loop, so it coalesces
  with changes and never overlaps a run.
- With `--record`, every run that started (and every print) appends its line once it has ended, holding the stdin
  and the deltas file's bytes exactly as given (cli/recording.py).
- The private directory (rundir.RunDir: the socket, the deltas files) and the hook's process group never outlive
  kates: removed on exit, by the reaper after a SIGKILL, and stale directories of dead watchers at start-up.
- The hook's writes through `kates` reach this process over a private Unix socket before the command returns, so
  they are in the very next snapshot.
- A run's reads through `kates get` are answered over the same socket from that run's RunView, taken right after
  the take whose snapshot the run gets (snapshot isolation plus read-your-writes; cli/runreads.py). A read no query
  covers becomes a dependency of the hook; after a successful run the dependencies it did not read are released,
  after a failed or fenced one nothing is (query-batch semantics). `--max-dependencies` bounds them.
- With `--leader-elect` (cli/leadership.py, core/leader.py) every replica bootstraps and keeps its snapshot current;
  only while leading does it take changes and run the hook (or print). Each term starts with a run at once on the
  snapshot held (no relist), whether or not anything changed. A run whose leadership ended is fenced, neither a
  success nor a failure: its deltas are carried into the next term's first run. The Lease is released only after
  the hook has ended.
- Memory: the last snapshot is not held while waiting, and once a large one (TRIM_AFTER) is dropped the C heap is
  trimmed (core/heap.py), so a watch under churn keeps a flat RSS (bench B6's churn check).
- The cyclic garbage collector stays paused (cli/collector.py) until the first take's snapshot and deltas are made.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time

from ..core import heap
from ..errors import ExitCode, KatesError
from . import collector
from .state import State

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B2)
if TYPE_CHECKING:
    from typing import Any

    from ..core.accumulator import Accumulator, Query
    from ..core.leader import Leader
    from ..core.readview import RunView
    from .events import StreamFacts
    from .hook import RunResult
    from .leadership import LeaseOptions
    from .metrics import Metrics
    from .probes import Probes, ProbeServer
    from .recording import Recorder
    from .rundir import RunDir
    from .runreads import RunReads
    from .schedule import Debounce

TRIM_AFTER = 1 << 20  # a snapshot this large, once freed, is followed by a heap trim (core/heap.py)
DIGEST_IN_THREAD = 1 << 20  # a snapshot this large is hashed in a thread while its deltas are made (`_Digest`)


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
        debounce: Debounce,
        hook_timeout: float | None,
        backoff_cap: float,
        grace: float,
        bootstrap_timeout: float | None,
        stall_timeout: float = 30.0,
        metrics_addr: tuple[str, int] | None = None,
        log_format: str = "text",
        lease: LeaseOptions | None = None,
        max_dependencies: int | None = 100,
        recorder: Recorder | None = None,
        resync: float | None = None,
    ):
        from .events import Events, JsonLog, TextLog
        from .hook import HookRunner
        from .policy import FailurePolicy

        self.state = state
        self.queries = queries
        self.argv = argv
        self.once = once
        self.max_failures = max_failures
        self.output_deltas = output_deltas
        self.wait_for_kinds = wait_for_kinds
        self.debounce = debounce
        self.bootstrap_timeout = bootstrap_timeout
        self.stall_timeout = stall_timeout
        self.runner = HookRunner(argv, timeout=hook_timeout, grace=grace) if argv else None
        self.policy = FailurePolicy(max_failures, backoff_cap)
        self.events = Events((JsonLog if log_format == "json" else TextLog)(state.env.stderr))
        self.metrics_addr = metrics_addr
        self.log_format = log_format
        self.stop_signal: int | None = None
        self.runs = 0
        self.status = StatusLine(state.env.stderr_tty and log_format == "text", state.env.stderr)
        if log_format == "json":
            from ..core import server_warnings
            from .events import ServerWarnings

            server_warnings.set_handler(ServerWarnings(self.events))
        self.lease = lease
        self.max_dependencies = max_dependencies
        self.leader: Leader | None = None
        self.reaper: Any = None
        self.reads: RunReads | None = None  # the socket's reads and writes, per run (cli/runreads.py)
        self._term = 0  # the leader's term whose first run has started
        self.recorder = recorder  # --record: one line per run or printed snapshot (cli/recording.py)
        self.resync = resync  # --resync: run when nothing has changed for this long since the last run ended
        self._last_run = time.monotonic()  # when the last run (or print) ended: the resync period counts from here
        self._pause = collector.Pause(active=False)  # `run` pauses the cyclic collector until its first take

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
        if not self.once:  # one snapshot, then the end: nothing for the heap to keep
            heap.tune()  # before any thread starts: they then share one heap (core/heap.py)
        observer, probes = self._telemetry()  # binds --metrics-addr: a busy port ends kates before anything else
        previous = {s: signal.signal(s, self._on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
        client = self.state.client()
        gate = None
        if os.environ.get("KATES_TEST_HOLD_WATCH"):
            from ..core.watch import file_gate

            gate = file_gate(os.environ["KATES_TEST_HOLD_WATCH"])
        server = None
        tmp = reaper = None
        pause = self._pause = collector.pause()  # until the first take (cli/collector.py)
        try:
            acc = client.watch(
                *self.queries,
                wait_for_kinds=self.wait_for_kinds,
                gate=gate,
                stall_timeout=self.stall_timeout,
                notice=self.events.notice,
                observer=observer,
            )
        except BaseException:
            pause.end(freeze=False)  # the watch never began: nothing of it to freeze
            if probes is not None:
                probes.close()
            for s, h in previous.items():
                signal.signal(s, h)
            raise
        try:
            if probes is not None:
                probes.attach(acc)
            if self.runner is not None:
                from ..core.coherence import WriteServer, cluster_id
                from .hook import Reaper
                from .rundir import RunDir, remove_stale
                from .runreads import RunReads

                remove_stale()
                tmp = RunDir()
                reaper = self.reaper = self.runner.reaper = Reaper(tmp.path, fencing=self.lease is not None)
                stderr = self.state.env.stderr
                debug = (lambda line: stderr.write(f"debug: {line}\n")) if self.state.debug else None
                acc.max_dependencies = self.max_dependencies
                reads = self.reads = RunReads(acc, self.events)
                server = WriteServer(
                    tmp.path,
                    reads.record,
                    reader=reads.read,
                    cluster=cluster_id(client.settings),
                    debug=debug,
                    permit=self._permit_until if self.lease is not None else None,
                    lease=self.lease.where if self.lease is not None else None,
                )
            started = time.monotonic()
            if not self._bootstrap(acc):
                return int(ExitCode.INTERRUPTED)
            counts = {name: s["count"] for name, s in acc.status().items()}
            self.events.emit("bootstrap.done", None, seconds=time.monotonic() - started, objects=counts)
            if self.lease is not None:
                self._stand()  # only a replica with a complete snapshot stands for election
            return self._loop(acc, tmp, server.path if server else None)
        finally:
            pause.end(freeze=False)  # a no-op after the first take, which ended it
            self.status.stop()
            if self.leader is not None:  # the hook has ended (a run never outlives _loop): now let go
                self.leader.stop()
                if self.leader.release():
                    assert self.lease is not None
                    self.events.emit(
                        "leader.released",
                        f"released lease {self.lease.where}",
                        lease=self.lease.where,
                        identity=self.lease.identity,
                    )
                self.leader.client.close()
            acc.close()
            if probes is not None:
                probes.close()
            if server is not None:
                server.close()
            if tmp is not None:
                tmp.cleanup()
            if reaper is not None:
                reaper.close()
            for s, h in previous.items():
                signal.signal(s, h)

    def _telemetry(self) -> tuple[StreamFacts | None, Served | None]:
        """With --metrics-addr: the metrics sink and the bound HTTP endpoint; with it or a JSON log: the streams'
        observer (lists, restarts, watch events). None and None otherwise: nothing is counted."""
        from .events import StreamFacts

        served = None
        if self.metrics_addr is not None:
            from .metrics import Metrics
            from .probes import Probes, ProbeServer

            metrics = Metrics(q.name for q in self.queries)
            probes = Probes()
            served = Served(metrics, probes, ProbeServer(self.metrics_addr, probes, metrics.render))
            self.events.add(metrics, first=True)
            self.events.emit("metrics.listening", None, address=served.server.address)
            return StreamFacts(self.events, metrics.count_event), served
        if self.log_format == "json":
            return StreamFacts(self.events), None
        return None, served

    # -- leadership (cli/leadership.py, core/leader.py) ------------------------------------------------------

    def _permit_until(self) -> float | None:
        """The write permits' deadline (coherence.WriteServer asks it): renewed_at + renew deadline while leading."""
        return self.leader.permit_until() if self.leader is not None else None

    def _stand(self) -> None:
        """Start the Lease candidate; a forbidden Lease fails here, before any run."""
        from ..core.client import Client
        from ..core.leader import Leader

        lease = self.lease
        assert lease is not None
        timing = lease.timing
        if self.runner is not None:
            self.runner.fence(time.monotonic())  # no run before the first term (each gain unfences)
        # each request bounded so that at least two attempts fit in the renew deadline
        client = Client(
            settings=self.state.client().settings,
            request_timeout=max(timing.retry_period, timing.renew_deadline / 2),
        )
        leader = Leader(
            client,
            lease.namespace,
            lease.name,
            lease.identity,
            timing,
            on_gained=self._gained,
            on_renewed=self._renewed,
            on_lost=self._lost,
            notice=self.events.notice,
        )
        try:
            leader.start()
        except KatesError:
            client.close()
            raise
        self.leader = leader
        if not leader.leading():
            self.events.emit(
                "leader.waiting",
                f"waiting to lead lease {lease.where} as {lease.identity}",
                lease=lease.where,
                identity=lease.identity,
            )

    def _gained(self) -> None:
        """A term begins (the leader's thread, after `_renewed` gave the reaper this term's kill deadline)."""
        assert self.lease is not None
        if self.runner is not None:
            self.runner.unfence()
        self.events.emit(
            "leader.gained",
            f"leading lease {self.lease.where} as {self.lease.identity}",
            lease=self.lease.where,
            identity=self.lease.identity,
        )

    def _renewed(self, kill_at: float) -> None:
        """After each successful acquire or renewal (the leader's thread): the reaper's deadline moves on."""
        if self.reaper is not None:  # SIGKILL by kill_at even if kates is frozen and cannot do it itself
            self.reaper.fence(kill_at)

    def _lost(self, reason: str) -> None:
        """Leadership ended (the leader's thread): fence the runner (its hook, if one runs, gets SIGTERM now and
        SIGKILL by kill_at; no run starts until the next term), say so."""
        assert self.lease is not None and self.leader is not None
        if self.runner is not None:
            self.runner.fence(self.leader.kill_at())
        observed = self.leader.election.observed
        why = {
            "renew deadline": f"not renewed within the renew deadline ({self.lease.timing.renew_deadline:g}s)",
            "taken": f"taken by {observed.holder or 'nobody'}" if observed is not None else "taken",
            "stopped": "kates is stopping",
        }
        self.events.emit(
            "leader.lost",
            f"no longer leading lease {self.lease.where}: {why.get(reason, reason)}",
            lease=self.lease.where,
            identity=self.lease.identity,
            reason=reason,
        )

    def _leading(self) -> bool:
        """Whether this replica may run now (always, without --leader-elect); a fatal Lease error is raised."""
        if self.leader is None:
            return True
        if self.leader.error is not None:
            raise self.leader.error
        return self.leader.leading()

    def _follow(self, acc: Accumulator) -> None:
        """Hot standby: the streams keep the snapshot current; wait a moment for leadership (or a stream error)."""
        assert self.leader is not None
        acc.wait(0)  # raises a stream's fatal error, as the leader's loop would
        self.leader.wait_leading(0.1)

    def _bootstrap(self, acc: Accumulator) -> bool:
        started = time.monotonic()
        warned = False
        while self.stop_signal is None:
            if acc.wait(0.1):
                return True
            self._pause.check()
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
                self.events.emit(
                    "bootstrap.slow", f"still waiting for queries to bootstrap: {', '.join(pending)}", pending=pending
                )
        return False

    def _quiet(self, acc: Accumulator) -> None:
        """Wait as the debounce says: for quiet, but no longer than its bound."""
        first = last = time.monotonic()
        generation = acc.generation
        while self.stop_signal is None:
            now = time.monotonic()
            if acc.generation != generation:
                generation, last = acc.generation, now
            due = self.debounce.due(first, last)
            if now >= due:
                return
            self._pause.check()  # the first run's debounce may be long (--debounce-max)
            self._sleep(min(0.05, due - now))

    def _loop(self, acc: Accumulator, tmp: RunDir | None, socket_path: str | None) -> int:
        from ..core.deltas import NetChanges
        from .policy import HookFailed, why

        retry = False
        net = NetChanges(q.name for q in self.queries)  # since the last successful run (or print)
        out = self.state.env.stdout
        data = b""
        while self.stop_signal is None:
            self._pause.check()  # a replica that only follows gets its collector back after the limit
            large = len(data) >= TRIM_AFTER
            data = b""  # the last snapshot (as large as all the objects' bytes) is not held while waiting
            if large:  # what it and its take freed goes back to the system, not kept by malloc (core/heap.py)
                heap.trim()
            if not self._leading():
                self._follow(acc)  # changes stay in the accumulator: the next term takes them all at once
                continue
            first = self.leader is not None and self.leader.gains != self._term  # a new term runs at once
            resync = False
            if retry or first:  # no wait for changes: a stream's fatal error is raised here, the hook failing or not
                acc.wait(0)
            if not retry and not first:
                if not acc.wait(0.1):
                    resync = self._resync_due()
                    if not resync:
                        continue
                else:
                    self._quiet(acc)
                if not self._leading():
                    continue
            if self.stop_signal is not None:  # it came while waiting: no new run (nor print) once asked to stop
                break
            changed, data, new = acc.snapshot_changes()
            view = self.reads.view() if self.reads is not None else None  # what this run's reads see
            net.add(new)
            if not changed and not retry and not first and not resync and not self._resync_due():
                continue  # (a change the snapshot does not show, as one a projection drops, delays no resync)
            if self.leader is not None:
                self._term = self.leader.gains
            digest = _Digest(data) if self.runner is not None else None  # hashed while the deltas are made
            deltas = net.deltas_json()  # (their JSON, how many)
            self._pause.end()  # the cold sync's allocations are done: cycles are collected again
            if self.runner is None:
                line = deltas[0] if self.output_deltas else data
                net.commit()
                began = self._began()
                out.buffer.write(line + b"\n") if hasattr(out, "buffer") else out.write(line.decode() + "\n")
                out.flush()
                self._record(self.runs, began, data, deltas, None, None)
                self.runs += 1
                self._last_run = time.monotonic()
                if self.once:
                    return 0
                continue
            assert tmp is not None
            if self.runner.fenced:  # leadership ended since the check above: the next term's first run takes these
                continue
            assert view is not None
            assert digest is not None
            result = self._run(data, deltas, tmp, socket_path, view, digest)
            self._last_run = time.monotonic()
            if result.stopped or self.stop_signal is not None:
                break
            if result.fenced:
                retry = False  # neither success nor failure: the deltas wait for the next term's first run
                continue
            if self.once:
                if result.error or result.timed_out:
                    raise HookFailed(f"hook failed ({why(result, self.runner.timeout)})")
                return result.code
            if self.reads is not None:  # query-batch semantics: a successful run releases what it did not read
                self.reads.finish(view, result.ok and not result.fenced)
            if result.ok:  # a run that hit --hook-timeout failed, whatever its exit status
                self.policy.succeeded()
                net.commit()
                retry = False
                self.status.show(f"runs: {self.runs}, last {result.seconds:.2f}s, ok")
                continue
            reason = why(result, self.runner.timeout)
            delay = self.policy.failed(reason)
            failures = self.policy.failures
            self.events.emit(
                "run.backoff",
                f"hook failed ({reason}), {failures} in a row; retrying in {delay:.1f}s",
                run=self.runs - 1,
                failures=failures,
                delay=delay,
            )
            retry = True
            self._sleep(delay)
        return int(ExitCode.INTERRUPTED)

    def _run(
        self,
        data: bytes,
        deltas: tuple[bytes, int],
        tmp: RunDir,
        socket_path: str | None,
        view: RunView,
        digest: _Digest,
    ) -> RunResult:
        """One hook run on `data` (whose SHA-256 `digest` holds), its deltas in a private file, its reads answered
        from `view`; emits run.started and run.ended."""
        assert self.runner is not None
        self.status.stop()  # the hook owns the terminal while it runs
        deltas_file = f"deltas-{self.runs}.json"
        try:
            written = tmp.write(deltas_file, deltas[0])
        except OSError as exc:  # a full tmpfs, no descriptors left, the directory gone: this run fails, kates goes on
            from .hook import RunResult

            tmp.remove(deltas_file)
            why = f"cannot write the deltas file: {exc.strerror or exc}"
            self.events.emit(  # a failure that could not run: counted as one (no run.started: nothing started)
                "run.ended", None, run=self.runs, seconds=0.0, code=1, result="failure", stopped=False, error=why,
                started=False,
            )  # fmt: skip
            self.runs += 1  # its number is spent, as a run's that could not be executed (run.backoff names it)
            return RunResult(1, 0.0, error=why, started=False)
        env = self._env(written, socket_path)
        env["KATES_SNAPSHOT_SHA256"] = digest.hexdigest()  # of the very bytes on its stdin
        run = self.runs
        began = self._began()
        announced = False

        def announce() -> None:  # once the hook's process exists: a run the runner refuses is never announced
            nonlocal announced
            announced = True
            self.events.emit("run.started", None, run=run, deltas=deltas[1], snapshot_bytes=len(data))

        if self.reads is not None:
            self.reads.begin(view, run)
        try:
            result = self.runner.run(data, env, on_start=announce)
        finally:
            if self.reads is not None:
                self.reads.end()
            tmp.remove(deltas_file)
        if not result.started:  # refused (leadership just ended, or kates is stopping): never ran, never counted
            return result
        if not announced:  # it could not be executed: a run that failed at once
            announce()
        outcome = (
            "fenced" if result.fenced else "success" if result.ok else "timeout" if result.timed_out else "failure"
        )
        self.runs += 1
        self.events.emit(
            "run.ended",
            None,
            run=run,
            seconds=result.seconds,
            code=result.code,
            result=outcome,
            stopped=result.stopped,
            error=result.error,
            started=result.started,
        )
        self._record(run, began, data, deltas, result.code, outcome)
        return result

    def _env(self, deltas_path: str, socket_path: str | None) -> dict[str, str]:
        from ..core.coherence import ENV_VAR

        settings = self.state.client().settings
        env = dict(os.environ)
        env.update(
            KATES_DELTAS=deltas_path,
            KATES_RUN=str(self.runs),
            KATES_FAILURES=str(self.policy.failures),
            KATES_CONTEXT=settings.context,
            KATES_NAMESPACE=settings.namespace,
        )
        if settings.kubeconfig_paths:
            env["KUBECONFIG"] = os.pathsep.join(settings.kubeconfig_paths)
        if socket_path:
            env[ENV_VAR] = socket_path
        from ..core.coherence import FENCE_ENV

        if self.lease is not None:  # writes inside the hook ask this process for a permit first
            env[FENCE_ENV] = "1"
        else:  # one inherited from an outer leader's hook would ask this watcher, which grants none
            env.pop(FENCE_ENV, None)
        env.pop("KATES_TEST_HOLD_WATCH", None)
        return env

    # -- --record and --resync ------------------------------------------------------------------------------

    def _began(self) -> str:
        """A run's start time for its recorded line ("" when not recording: the recording module, with its
        dataclass to make, is imported only for --record)."""
        if self.recorder is None:
            return ""
        from .recording import now

        return now()

    def _record(
        self, run: int, began: str, data: bytes, deltas: tuple[bytes, int], code: int | None, result: str | None
    ) -> None:
        """--record: the run's line, with the stdin and the deltas file's bytes exactly as the hook got them."""
        if self.recorder is None:
            return
        from ..errors import KatesError
        from .recording import Record

        settings = self.state.client().settings
        try:
            self.recorder.write(
                Record(
                    run=run,
                    time=began,
                    failures=self.policy.failures,  # not yet counted for this run: its KATES_FAILURES
                    context=settings.context,
                    namespace=settings.namespace,
                    code=code,
                    result=result,
                    snapshot=data,
                    deltas=deltas[0],  # the deltas file's bytes
                )
            )
        except KatesError as exc:  # a full disk: the reconciler goes on, without its recording from now on
            self.recorder = None
            self.events.notice(f"{exc.message}: recording stopped (the runs go on)")

    def _resync_due(self) -> bool:
        """--resync: nothing has changed for the resync period since the last run (or print) ended."""
        return self.resync is not None and time.monotonic() >= self._last_run + self.resync


class Served:
    """The metrics, probes and their HTTP server of one watch (--metrics-addr)."""

    def __init__(self, metrics: Metrics, probes: Probes, server: ProbeServer) -> None:
        self.metrics, self.probes, self.server = metrics, probes, server

    def attach(self, acc: Accumulator) -> None:
        self.metrics.acc = self.probes.acc = acc

    def close(self) -> None:
        self.server.close()


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


class _Digest:
    """The SHA-256 of a snapshot's bytes. A large one is hashed in a thread (hashlib lets go of the GIL while it
    hashes), started before the deltas are made and written, so the two overlap; `hexdigest` waits for it."""

    def __init__(self, data: bytes) -> None:
        self._value = ""
        self._thread: threading.Thread | None = None
        if len(data) < DIGEST_IN_THREAD:
            self._value = hashlib.sha256(data).hexdigest()
            return
        self._thread = threading.Thread(target=self._hash, args=(data,), name="kates-digest", daemon=True)
        self._thread.start()

    def _hash(self, data: bytes) -> None:
        self._value = hashlib.sha256(data).hexdigest()

    def hexdigest(self) -> str:
        if self._thread is not None:
            self._thread.join()
        return self._value
