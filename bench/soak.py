"""The soak run of issue 11 (section 5, Load): a real `kates watch` with three queries (the ConfigMaps of three
namespaces) over N objects in total, under a patch storm of R merge patches per second for T seconds.

What is shown, and how:

- **Memory**: the VmRSS of kates (the watch process and its descendants, except the hook's process tree) is sampled
  every 5 s (the short test samples every second), with its high-water mark VmHWM. RSS saw-tooths with the hook
  runs (a snapshot is a few MB of bytes while it is handed over), so a sample lands on a peak or a floor by chance;
  the criterion therefore holds peaks and floors to the same bound, each measured so that chance does not decide.
  The first third is warm-up (allocators grow to their working size while the first snapshots are built). The
  curve is *flat* when (1) the peak, VmHWM at the end, is at most 10 % above VmHWM at the end of the second third
  (the warm-up plateau of the peaks: every peak is counted, sampled or not), and (2) the floor, the lowest sample of
  the last third, is at most 10 % above the median of the second third (a slow leak raises the floor first; the
  second third's lowest sample would be a matter of luck, since `kates watch` trims the C heap after each snapshot
  it drops and a sample just after a trim dips by ~10 %). The curve is printed.
- **Every hook run's snapshot is consistent**: the hook (`HOOK`, below) reads its stdin and keeps, between runs, the
  (resourceVersion, data.seq) of every object it saw last; it appends one line per run with what changed since the
  previous run, the objects seen twice, and those whose resourceVersion went back. Afterwards every object state
  of every run is replayed and checked against the states the server had: the one listed before the watch
  started, or one the storm's writer got back from a patch (each patch writes a unique `data.seq`, and the server
  answers with the resourceVersion it gave that state).
- **The final snapshot equals the server's**: once the storm is over, the server is listed as admin (without
  kates), and the test waits for a hook run whose snapshot has the same names and resourceVersions.

The objects are bench/fixtures.py's ConfigMaps (about 1 KB), created with `ControlPlane.bulk`. `python -m bench.soak
--objects 20000 --minutes 10 --rate 100` (the `nox -s soak` session) starts its own control plane with
tests.controlplane.launcher; tests/e2e/test_soak.py runs a short version on the shared one.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import ssl
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from . import fixtures
from .harness import BenchError, Child, proc_status_kb, wait_until

HOOK = '''"""The soak hook: notes what changed in the snapshot since its previous run (see bench/soak.py)."""
import hashlib, json, os, sys, time
data = sys.stdin.buffer.read()
snapshot = json.loads(data)
state_path = os.environ["SOAK_STATE"]
try:
    with open(state_path) as fh:
        previous = json.load(fh)
except FileNotFoundError:
    previous = {}
current, dupes, back = {}, [], []
for query, objects in snapshot.items():
    for o in objects:
        m = o["metadata"]
        key = m["namespace"] + "/" + m["name"]
        if key in current:
            dupes.append(key)
        state = [int(m["resourceVersion"]), (o.get("data") or {}).get("seq")]
        current[key] = state
        old = previous.get(key)
        if old is not None and state[0] < old[0]:
            back.append([key, old[0], state[0]])
changed = {k: v for k, v in current.items() if previous.get(k) != v}
removed = [k for k in previous if k not in current]
line = {"run": int(os.environ.get("KATES_RUN", "-1")), "t": time.time(), "objects": len(current),
        "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "dupes": dupes, "back": back,
        "changed": changed, "removed": removed}
with open(state_path + ".tmp", "w") as fh:
    json.dump(current, fh)
os.replace(state_path + ".tmp", state_path)
with open(os.environ["SOAK_LOG"], "a") as fh:
    fh.write(json.dumps(line) + "\\n")
'''


@dataclass
class Soak:
    """The size of one soak run."""

    objects: int = 20_000
    seconds: float = 600.0
    rate: float = 100.0  # patches per second
    sample_every: float = 5.0
    namespaces: tuple[str, str, str] = ("soak-a", "soak-b", "soak-c")
    writers: int = 4  # kept-alive connections the storm is spread over


@dataclass
class Result:
    objects: int
    seconds: float
    updates: int
    hook_runs: int
    rss: list[tuple[float, float]]  # (seconds since the watch started, MiB)
    plateau_mb: float  # VmHWM at the end of the second third
    last_third_max_mb: float  # VmHWM at the end
    floor_mb: float  # the median sample of the second third (see `run`: trim dips)
    last_third_min_mb: float
    inconsistent: list[str]
    final_diff: list[str]
    late_patches: int  # patches sent later than 1 s after they were due (the writer fell behind)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def rss_start_mb(self) -> float:
        return self.rss[0][1] if self.rss else 0.0

    @property
    def rss_end_mb(self) -> float:
        return self.rss[-1][1] if self.rss else 0.0

    @property
    def flat(self) -> bool:
        return self.last_third_max_mb <= 1.10 * self.plateau_mb and self.last_third_min_mb <= 1.10 * self.floor_mb

    def figures(self) -> dict[str, Any]:
        return dict(
            objects=self.objects,
            seconds=round(self.seconds),
            updates=self.updates,
            updates_per_s=round(self.updates / self.seconds, 1) if self.seconds else 0.0,
            hook_runs=self.hook_runs,
            rss_start_mb=round(self.rss_start_mb, 1),
            rss_peak_at_2_3_mb=round(self.plateau_mb, 1),
            rss_peak_end_mb=round(self.last_third_max_mb, 1),
            rss_floor_mb=round(self.floor_mb, 1),
            rss_last_third_min_mb=round(self.last_third_min_mb, 1),
            rss_end_mb=round(self.rss_end_mb, 1),
            inconsistent=len(self.inconsistent),
            final_diff=len(self.final_diff),
        )

    def curve(self) -> str:
        """The RSS curve, one line per sample, with a bar."""
        top = max((mb for _, mb in self.rss), default=1.0)
        return "\n".join(f"{t:7.0f} s {mb:8.1f} MiB {'#' * round(50 * mb / top)}" for t, mb in self.rss)


# -- processes ---------------------------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                out += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def kates_rss_mb(pid: int, hook_marker: str, field: str = "VmRSS") -> float:
    """VmRSS (or another /proc status field in kB, e.g. VmHWM) of `pid` and its descendants, leaving out every process
    tree whose command line names the hook."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        if p != pid and hook_marker in _cmdline(p):
            continue
        try:
            total += proc_status_kb(p, field)
        except (OSError, BenchError):
            continue  # gone, or a zombie
        todo += _children(p)
    return total / 1024.0


# -- the server, as admin --------------------------------------------------------------------------------------


def server_state(cp: Any, namespaces: tuple[str, ...]) -> dict[str, tuple[int, str | None]]:
    """Every ConfigMap of the namespaces, listed as admin: "ns/name" -> (resourceVersion, data.seq)."""
    out: dict[str, tuple[int, str | None]] = {}
    for ns in namespaces:
        for o in fixtures.items(SimpleNamespace(cp=cp), ns, "configmaps"):  # type: ignore[arg-type]
            m = o["metadata"]
            out[f"{ns}/{m['name']}"] = (int(m["resourceVersion"]), (o.get("data") or {}).get("seq"))
    return out


def create_objects(cp: Any, cfg: Soak, log: Any = print) -> list[str]:
    """The namespaces and N ConfigMaps (each with `data.seq` "-1"), split evenly; returns the "ns/name" keys."""
    ctx = SimpleNamespace(cp=cp)
    keys: list[str] = []
    per = [cfg.objects // 3 + (1 if j < cfg.objects % 3 else 0) for j in range(3)]
    started = time.monotonic()
    for ns, count in zip(cfg.namespaces, per, strict=True):
        fixtures.namespace(ctx, ns)  # type: ignore[arg-type]
        fixtures.create(ctx, ns, "configmaps", [fixtures.configmap(i, seq="-1") for i in range(count)])  # type: ignore[arg-type]
        keys += [f"{ns}/cm-{i:05d}" for i in range(count)]
    log(f"[soak] created {len(keys)} ConfigMaps in {', '.join(cfg.namespaces)} in {time.monotonic() - started:.1f} s")
    return keys


class Storm:
    """Merge patches at a steady rate, spread over a few kept-alive admin connections; every patch writes a unique
    `data.seq` and the resourceVersion the server answers with is kept: (key, seq) -> resourceVersion."""

    def __init__(self, cp: Any, keys: list[str], cfg: Soak):
        self.cp, self.keys, self.cfg = cp, keys, cfg
        self.states: dict[str, dict[str, int]] = {}  # key -> {seq: resourceVersion}
        self.sent = 0
        self.late = 0
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _conn(self) -> http.client.HTTPSConnection:
        tls = ssl.create_default_context(cafile=str(self.cp.pki.ca_cert))
        tls.load_cert_chain(str(self.cp.admin[0]), str(self.cp.admin[1]))
        return http.client.HTTPSConnection("127.0.0.1", self.cp.port, context=tls, timeout=30)

    def _worker(self, w: int, t0: float) -> None:
        n, every = self.cfg.writers, 1.0 / self.cfg.rate
        conn = self._conn()
        k = w
        try:
            while not self._stop.is_set():
                due = t0 + k * every
                now = time.monotonic()
                if due > now:
                    if self._stop.wait(due - now):
                        break
                elif now - due > 1.0:
                    with self._lock:
                        self.late += 1
                key = self.keys[(k * 7919) % len(self.keys)]
                ns, name = key.split("/")
                seq = str(k)
                body = json.dumps({"data": {"seq": seq}}).encode()
                try:
                    conn.request(
                        "PATCH",
                        f"/api/v1/namespaces/{ns}/configmaps/{name}",
                        body=body,
                        headers={"Content-Type": "application/merge-patch+json"},
                    )
                    resp = conn.getresponse()
                    raw = resp.read()
                except (OSError, http.client.HTTPException) as exc:
                    self.errors.append(f"PATCH {key}: {exc}")
                    conn.close()
                    conn = self._conn()
                    k += n
                    continue
                if resp.status != 200:
                    self.errors.append(f"PATCH {key} -> {resp.status}: {raw[:200]!r}")
                else:
                    rv = int(json.loads(raw)["metadata"]["resourceVersion"])
                    with self._lock:
                        self.states.setdefault(key, {})[seq] = rv
                        self.sent += 1
                k += n
        finally:
            conn.close()

    def start(self) -> None:
        t0 = time.monotonic()
        for w in range(self.cfg.writers):
            thread = threading.Thread(target=self._worker, args=(w, t0), daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)


# -- checking the hook's log -----------------------------------------------------------------------------------


def read_runs(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def check_runs(
    runs: list[dict[str, Any]], initial: dict[str, tuple[int, str | None]], storm: Storm
) -> tuple[list[str], dict[str, list[int]]]:
    """Replay every run's snapshot from the hook's log; every object state must be one the server had. Returns the
    inconsistencies found, and the final snapshot (key -> [resourceVersion, ...])."""
    bad: list[str] = []
    snapshot: dict[str, list[Any]] = {}
    for run in runs:
        for key in run["dupes"]:
            bad.append(f"run {run['run']}: {key} twice in one snapshot")
        for key, old, new in run["back"]:
            bad.append(f"run {run['run']}: {key} went back from resourceVersion {old} to {new}")
        for key in run["removed"]:
            snapshot.pop(key, None)
        for key, (rv, seq) in run["changed"].items():
            snapshot[key] = [rv, seq]
            first = initial.get(key)
            if first is not None and first == (rv, seq):
                continue
            if storm.states.get(key, {}).get(seq) != rv:
                bad.append(f"run {run['run']}: {key} at resourceVersion {rv} with seq {seq}: never a server state")
    return bad, snapshot


def run(cp: Any, cfg: Soak, kates: list[str], env: dict[str, str], tmp: Path, log: Any = print) -> Result:
    """One soak run against the control plane `cp` (objects must not exist yet). `kates` is the command that runs
    kates, `env` its environment (KUBECONFIG of `cp`)."""
    keys = create_objects(cp, cfg, log)
    # the controller manager's kube-root-ca.crt is in every namespace; wait for it so that it is in `initial`
    if getattr(cp, "with_controller_manager", False):
        for ns in cfg.namespaces:
            wait_until(
                lambda ns=ns: cp.request("GET", f"/api/v1/namespaces/{ns}/configmaps/kube-root-ca.crt")[0] == 200,
                60,
                f"kube-root-ca.crt in {ns}",
            )
    initial = server_state(cp, cfg.namespaces)
    hook = tmp / "soak_hook.py"
    hook.write_text(HOOK)
    hook_log, state = tmp / "soak-hook.log", tmp / "soak-state.json"
    hook_log.unlink(missing_ok=True)
    state.unlink(missing_ok=True)
    queries = [a for j, ns in enumerate(cfg.namespaces) for a in ("-q", f"q{j}=cm ns={ns}")]
    argv = [*kates, "watch", *queries, "--exec", sys.executable, "--", str(hook)]
    child = Child(argv, dict(env, SOAK_LOG=str(hook_log), SOAK_STATE=str(state)), stdout_null=True)
    rss: list[tuple[float, float]] = []
    hwm: list[tuple[float, float]] = []
    storm = Storm(cp, keys, cfg)
    try:
        wait_until(lambda: read_runs(hook_log), 300, "the first hook run (bootstrap)")
        started = time.monotonic()
        log(f"[soak] watch synced in {started - child.started:.1f} s; storm of {cfg.rate:g}/s for {cfg.seconds:g} s")
        storm.start()
        next_sample = started
        while True:
            now = time.monotonic()
            if now >= next_sample:
                rss.append((now - started, kates_rss_mb(child.pid, str(hook))))
                hwm.append((now - started, kates_rss_mb(child.pid, str(hook), "VmHWM")))
                next_sample += cfg.sample_every
            if now - started >= cfg.seconds:
                break
            if child.proc.poll() is not None:
                raise BenchError(f"kates watch exited {child.proc.returncode} mid-storm{child.stderr_tail()}")
            time.sleep(min(0.5, max(0.0, next_sample - time.monotonic())))
        storm.stop()
        rss.append((time.monotonic() - started, kates_rss_mb(child.pid, str(hook))))
        hwm.append((rss[-1][0], kates_rss_mb(child.pid, str(hook), "VmHWM")))
        server = server_state(cp, cfg.namespaces)
        want = {k: v[0] for k, v in server.items()}

        def caught_up() -> bool:
            _, snap = check_runs(read_runs(hook_log), initial, storm)
            return {k: v[0] for k, v in snap.items()} == want

        try:
            wait_until(caught_up, 120, "a hook run with the server's state", interval=1.0)
        except BenchError:
            pass  # reported as final_diff below
    finally:
        storm.stop()
        code = child.finish(timeout=30, stop=signal.SIGTERM)
    runs = read_runs(hook_log)
    bad, final = check_runs(runs, initial, storm)
    final_rv = {k: v[0] for k, v in final.items()}
    diff = sorted(
        [f"{k}: missing from the final snapshot" for k in set(want) - set(final_rv)]
        + [f"{k}: not on the server" for k in set(final_rv) - set(want)]
        + [
            f"{k}: resourceVersion {final_rv[k]}, server {want[k]}"
            for k in set(want) & set(final_rv)
            if want[k] != final_rv[k]
        ]
    )
    third = cfg.seconds / 3
    # RSS saw-tooths with the hook runs (each snapshot is a few MB of bytes while it is handed over), so peaks are
    # compared with peaks (VmHWM). The last third's lowest sample is compared with the second third's median, not its
    # lowest: `kates watch` trims the C heap after each snapshot it drops (core/heap.py), and a sample that lands
    # just after a trim is a dip of ~10 %, caught or not by luck (one such dip alone failed a CI run)
    second = [mb for t, mb in rss if third <= t < 2 * third] or [mb for _, mb in rss]
    last = [mb for t, mb in rss if t >= 2 * third] or [mb for _, mb in rss]
    peak_at_two_thirds = max([mb for t, mb in hwm if t < 2 * third] or [0.0])
    return Result(
        objects=len(keys),
        seconds=cfg.seconds,
        updates=storm.sent,
        hook_runs=len(runs),
        rss=rss,
        plateau_mb=peak_at_two_thirds,
        last_third_max_mb=hwm[-1][1] if hwm else 0.0,
        floor_mb=statistics.median(second),
        last_third_min_mb=min(last),
        inconsistent=bad,
        final_diff=diff,
        late_patches=storm.late,
        details={"storm_errors": storm.errors[:10], "exit_code": code, "stderr": child.stderr_tail()},
    )


def table(row: str, result: Result) -> str:
    """The figures as the "load" table of tests/figures.py prints them."""
    figures = result.figures()
    return "\n".join(
        [
            "## load",
            "| row | " + " | ".join(figures) + " |",
            "|---|" + "---|" * len(figures),
            f"| {row} | " + " | ".join(str(v) for v in figures.values()) + " |",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nox -s soak --", description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=20_000, help="ConfigMaps in total, over three namespaces")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long the patch storm lasts")
    parser.add_argument("--rate", type=float, default=100.0, help="patches per second")
    args = parser.parse_args(argv)
    from tests.controlplane.launcher import ControlPlane

    from .harness import child_env, find_kates

    cfg = Soak(objects=args.objects, seconds=args.minutes * 60, rate=args.rate)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kates-soak-") as scratch, ControlPlane() as cp:
        tmp = Path(scratch)
        print(f"[soak] control plane up in {cp.startup_seconds:.1f} s", flush=True)
        result = run(cp, cfg, find_kates(), child_env(cp.kubeconfig, tmp), tmp)
    print("\nRSS of kates (watch process and children, hook excluded), every 5 s:")
    print(result.curve())
    print(
        f"\nflat: peak (VmHWM) at the end {result.last_third_max_mb:.1f} MiB <= 1.10 x the peak at the end of the"
        f" second third {result.plateau_mb:.1f} MiB = {1.1 * result.plateau_mb:.1f} MiB:"
        f" {'yes' if result.last_third_max_mb <= 1.1 * result.plateau_mb else 'NO'}; floors: the last third's min"
        f" {result.last_third_min_mb:.1f} MiB <= 1.10 x the second third's median {result.floor_mb:.1f} MiB ="
        f" {1.1 * result.floor_mb:.1f} MiB: {'yes' if result.last_third_min_mb <= 1.1 * result.floor_mb else 'NO'}"
    )
    print(f"patches sent late (> 1 s behind schedule): {result.late_patches}")
    for line in (result.inconsistent + result.final_diff + result.details["storm_errors"])[:20]:
        print(f"  {line}")
    print("\n" + table(f"soak {args.minutes:g} min", result))
    ok = result.flat and not result.inconsistent and not result.final_diff and not result.details["storm_errors"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
