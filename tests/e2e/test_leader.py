"""`kates watch --leader-elect` against the real control plane: one Lease, several replicas, exactly one running
hooks (and `kubectl get lease` naming it); failover on SIGKILL onto a warm follower (no list request, by the API
server's own counts and kates's metrics); release on SIGTERM and a takeover at once; a frozen leader's hook killed
by its reaper before the next leader starts, and what it left behind refused with FENCED after SIGCONT; a leader cut
off from the API server stopping at its renew deadline; `--once` runs in turn; what `kates rbac --lease` grants is
enough; the flag checks. Short durations (3s / 2s / 500ms) keep it fast.

Each hook run appends `start ID T ADDS`, `tick ID T` every 0.1 s and `end ID T` (wall-clock seconds, one machine)
to one shared file opened with O_APPEND, so the runs of all replicas can be laid side by side."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import RESTRICTED_CONTEXT, RESTRICTED_NAMESPACE, ControlPlane
from tests.faultproxy import FaultProxy

from . import serviceaccounts as sa
from .conftest import Runner

LEASE_DURATION, RENEW_DEADLINE, RETRY_PERIOD = 3.0, 2.0, 0.5
TIMING = ["--lease-duration", "3s", "--renew-deadline", "2s", "--retry-period", "500ms"]
# where a frozen kates's hook must be killed by its reaper alone: a margin of one whole second between the kill
# deadline (last renewal + 4s - 1s) and the earliest takeover (+4s), for a loaded machine
WIDE = ["--lease-duration", "4s", "--renew-deadline", "2s", "--retry-period", "1s"]

HOOK = """#!/bin/sh
adds=$(grep -o '"type":"add"' "$KATES_DELTAS" | wc -l)
echo "start $ID $(date +%s.%N) $adds" >> "$LOG"
if [ -n "$PROBE" ]; then  # something the hook leaves behind, out of its process group: it writes later
  setsid sh -c 'while [ ! -e "$PROBE/go" ]; do sleep 0.05; done
    $KATES create -f "$PROBE/cm.json" > "$PROBE/out" 2>&1; echo $? > "$PROBE/code"' < /dev/null > /dev/null 2>&1 &
fi
i=0
while [ "$i" -lt "${TICKS:-0}" ]; do
  echo "tick $ID $(date +%s.%N)" >> "$LOG"
  sleep 0.1
  i=$((i + 1))
done
echo "end $ID $(date +%s.%N)" >> "$LOG"
exit "${EXIT:-0}"
"""


@dataclass
class Line:
    what: str  # start | tick | end
    who: str
    at: float
    adds: int = 0


def read_log(path: Path) -> list[Line]:
    if not path.exists():
        return []
    out = []
    for raw in path.read_text().splitlines():
        parts = raw.split()
        if len(parts) >= 3:
            out.append(Line(parts[0], parts[1], float(parts[2]), int(parts[3]) if len(parts) > 3 else 0))
    return out


def intervals(lines: list[Line]) -> list[tuple[str, float, float]]:
    """Each run as (who, first line, last line): a run cut short by SIGKILL ends at its last tick."""
    open_: dict[str, list[float]] = {}
    done: list[tuple[str, float, float]] = []
    for line in lines:
        if line.what == "start":
            if line.who in open_:
                done.append((line.who, *open_.pop(line.who)))  # type: ignore[arg-type]
            open_[line.who] = [line.at, line.at]
        elif line.who in open_:
            open_[line.who][1] = line.at
            if line.what == "end":
                done.append((line.who, *open_.pop(line.who)))  # type: ignore[arg-type]
    done.extend((who, span[0], span[1]) for who, span in open_.items())
    return done


def overlaps(lines: list[Line]) -> list[tuple[Any, Any]]:
    runs = intervals(lines)
    return [(a, b) for i, a in enumerate(runs) for b in runs[i + 1 :] if a[0] != b[0] and a[1] <= b[2] and b[1] <= a[2]]


class Replica:
    """One `kates watch --leader-elect` in the background, its hook logging to the shared file."""

    def __init__(
        self,
        cluster: ControlPlane,
        cache_dir: Path,
        tmp: Path,
        ns: str,
        who: str,
        lease: str,
        *extra: str,
        ticks: int = 0,
        query: str = "podtemplates",
        env: dict[str, str] | None = None,
        kubeconfig: Path | None = None,
        timing: list[str] = TIMING,
    ) -> None:
        hook = tmp / "hook.sh"
        if not hook.exists():
            hook.write_text(HOOK)
            hook.chmod(0o755)
        self.who = who
        self.err_path = tmp / f"{who}.err"
        full = dict(
            os.environ,
            KUBECONFIG=str(kubeconfig or cluster.kubeconfig),
            KATES_CACHE_DIR=str(cache_dir),
            NO_COLOR="1",
            ID=who,
            LOG=str(tmp / "runs.log"),
            TICKS=str(ticks),
            KATES=f"{sys.executable} -m kates_cli",
            **(env or {}),
        )
        for var in ("KATES_NAMESPACE", "KATES_CONTEXT", "KATES_WRITE_SOCKET", "KATES_FENCED_WRITES", "POD_NAME"):
            full.pop(var, None)
        argv = [sys.executable, "-m", "kates_cli", "watch", "-q", f"{query} ns={ns}", "--stall-timeout", "10m"]
        argv += ["--leader-elect", "--lease", lease, "--lease-namespace", ns, "--identity", who, *timing, *extra]
        with self.err_path.open("w") as err:
            self.proc = subprocess.Popen(
                [*argv, "--exec", str(hook)], env=full, stdout=subprocess.PIPE, stderr=err, text=True
            )

    def stderr(self) -> str:
        return self.err_path.read_text()

    def events(self) -> list[dict[str, Any]]:
        """With --log-format json: kates's own events."""
        return [json.loads(line) for line in self.stderr().splitlines() if line.startswith("{")]

    def metrics(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """With --metrics-addr 127.0.0.1:0 and --log-format json: /metrics, parsed by prometheus-client's parser."""
        from prometheus_client.parser import text_string_to_metric_families

        address = next(e["address"] for e in self.events() if e["event"] == "metrics.listening")
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as resp:
            text = resp.read().decode()
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
        }

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)


def holder(cluster: ControlPlane, ns: str, lease: str) -> str | None:
    code, body = cluster.request("GET", f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/{lease}")
    return str(body["spec"].get("holderIdentity") or "") if code == 200 else None


def requests_on(cluster: ControlPlane, resource: str) -> dict[str, float]:
    """The API server's own count of finished namespaced requests on `resource` by verb (apiserver_request_total),
    and of initial streaming lists ("WATCHLIST", apiserver_watch_list_duration_seconds_count). Namespaced only:
    the controllers' informers (garbage collector, quota) watch all namespaces, scope="cluster"; namespaced
    watches of podtemplates come from the test's own processes only (the namespace controller lists and deletes,
    never watches)."""
    code, text = cluster.request("GET", "/metrics", accept="text/plain")
    assert code == 200
    counts: dict[str, float] = {}
    for line in str(text).splitlines():
        if f'resource="{resource}"' not in line or 'scope="namespace"' not in line:
            continue
        if line.startswith("apiserver_request_total{"):
            verb = re.search(r'verb="(\w+)"', line)
            assert verb is not None
            key = verb.group(1)
        elif line.startswith("apiserver_watch_list_duration_seconds_count{"):
            key = "WATCHLIST"
        else:
            continue
        counts[key] = counts.get(key, 0) + float(line.rsplit(" ", 1)[1])
    return counts


def podtemplate(cluster: ControlPlane, ns: str, name: str) -> None:
    body = {
        "apiVersion": "v1",
        "kind": "PodTemplate",
        "metadata": {"name": name},
        "template": {"spec": {"containers": [{"name": "c", "image": "x"}]}},
    }
    code, answer = cluster.request("POST", f"/api/v1/namespaces/{ns}/podtemplates", body)
    assert code == 201, answer


def starts(tmp: Path) -> list[Line]:
    return [line for line in read_log(tmp / "runs.log") if line.what == "start"]


def test_one_of_three_replicas_runs_hooks_and_a_sigkilled_leader_fails_over_to_a_warm_follower(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Any], kubectl: Runner
) -> None:
    for i in range(3):
        podtemplate(cluster, ns, f"pt-{i}")
    telemetry = ("--metrics-addr", "127.0.0.1:0", "--log-format", "json")
    replicas = {w: Replica(cluster, cache_dir, tmp_path, ns, w, "hooks", *telemetry) for w in ("r0", "r1", "r2")}
    watches.extend(replicas.values())
    wait_for(lambda: starts(tmp_path), 30, "a first hook run")
    leader = wait_for(lambda: holder(cluster, ns, "hooks"), 10, "the Lease")
    assert leader in replicas
    wait_for(
        lambda: all("waiting to lead lease" in replicas[w].stderr() for w in replicas if w != leader),
        20,
        "both followers standing",
    )
    podtemplate(cluster, ns, "pt-3")
    wait_for(lambda: len(starts(tmp_path)) >= 2, 10, "the leader's run on the change")
    assert {line.who for line in starts(tmp_path)} == {leader}
    assert starts(tmp_path)[0].adds == 3
    gained = [e for e in replicas[leader].events() if e["event"] == "leader.gained"]
    assert [(e["msg"], e["lease"], e["identity"]) for e in gained] == [
        (f"leading lease {ns}/hooks as {leader}", f"{ns}/hooks", leader)
    ]
    got = kubectl("get", "lease", "hooks", "-n", ns)
    assert got.code == 0, got
    header, row = got.out.splitlines()
    assert header.split() == ["NAME", "HOLDER", "AGE"] and row.split()[:2] == ["hooks", leader], got.out

    # SIGKILL the leader: a follower takes over on the snapshot it holds, without a list request.
    before = requests_on(cluster, "podtemplates")
    runs_before = len(starts(tmp_path))
    killed_at = time.time()
    replicas[leader].signal(signal.SIGKILL)
    replicas[leader].proc.wait()
    first = wait_for(
        lambda: [s for s in starts(tmp_path)[runs_before:] if s.who != leader],
        LEASE_DURATION + RETRY_PERIOD + 10,
        "a follower's first run",
    )[0]
    failover = first.at - killed_at
    figures.record(
        "failover", "SIGKILL of the leader (3s/2s/500ms)", seconds=round(failover, 2), ratio=failover / LEASE_DURATION
    )
    assert failover <= LEASE_DURATION + RETRY_PERIOD + 2, failover
    assert first.adds == 4  # this replica never ran: every object it holds, as an add
    assert holder(cluster, ns, "hooks") == first.who
    # The dead leader's own watch ends (one WATCH finished); the followers list nothing and restart nothing.
    after = wait_for(
        lambda: (c := requests_on(cluster, "podtemplates")).get("WATCH", 0) >= before.get("WATCH", 0) + 1 and c,
        10,
        "the dead leader's watch to end",
    )
    # Each replica bootstrapped with a streaming list, so a relist would be one too (and end a WATCH). Plain LISTs
    # are not compared: the namespace controller, deleting an earlier test's namespace, lists podtemplates there.
    assert before.get("WATCHLIST", 0) >= 3, before
    assert after.get("WATCHLIST", 0) == before.get("WATCHLIST", 0), (before, after)
    assert after.get("WATCH", 0) == before.get("WATCH", 0) + 1, (before, after)
    others = [w for w in replicas if w != leader]
    assert all(replicas[w].proc.poll() is None for w in others)
    assert not overlaps(read_log(tmp_path / "runs.log"))
    # kates's own metrics agree: one list each (the bootstrap), no stream restart, one leader, one transition.
    for w in others:
        got = replicas[w].metrics()
        assert got[("kates_watch_lists_total", (("query", "podtemplates"),))] == 1
        assert sum(v for (name, _), v in got.items() if name == "kates_watch_restarts_total") == 0
        leads = 1.0 if w == first.who else 0.0
        assert (got[("kates_leader", ())], got[("kates_leader_transitions_total", ())]) == (leads, leads), w


def test_sigterm_releases_the_lease_and_a_follower_leads_within_a_retry_period(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    a = Replica(cluster, cache_dir, tmp_path, ns, "a", "term")
    watches.append(a)
    wait_for(lambda: starts(tmp_path), 30, "a's first run")
    b = Replica(cluster, cache_dir, tmp_path, ns, "b", "term")
    watches.append(b)
    wait_for(lambda: "waiting to lead lease" in b.stderr(), 30, "b standing")
    term_at = time.time()
    a.signal(signal.SIGTERM)
    assert a.proc.wait(20) == ExitCode.INTERRUPTED
    assert f"kates: released lease {ns}/term" in a.stderr(), a.stderr()
    wait_for(lambda: holder(cluster, ns, "term") == "b", 10, "b holding the Lease")
    _, lease = cluster.request("GET", f"/apis/coordination.k8s.io/v1/namespaces/{ns}/leases/term")
    acquired = datetime.strptime(lease["spec"]["acquireTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    takeover = acquired.timestamp() - term_at  # b's clock before it sent the acquire; one machine
    figures.record("failover", "SIGTERM of the leader: release, then a follower acquires", seconds=round(takeover, 2))
    assert 0 < takeover <= RETRY_PERIOD + 1, takeover
    assert lease["spec"]["leaseTransitions"] == 1
    wait_for(lambda: [s for s in starts(tmp_path) if s.who == "b"], 10, "b's first run")


def test_what_kates_rbac_grants_is_enough_and_a_release_wakes_the_follower(
    cluster: ControlPlane, kates: Runner, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    sa.apply_rbac(kates, "-n", ns, "--service-account", "elector", "-q", "podtemplates", "--lease", "granted")
    kc = sa.kubeconfig(cluster, sa.token(cluster, ns, "elector"), ns, tmp_path / "kc")
    # the RBAC authorizer learns of a new binding through its informer: wait until it applies
    wait_for(lambda: kates("get", "podtemplates", env={"KUBECONFIG": str(kc)}).code == 0, 30, "the RoleBinding")
    a = Replica(cluster, cache_dir, tmp_path, ns, "a", "granted", kubeconfig=kc)
    watches.append(a)
    wait_for(lambda: starts(tmp_path), 30, "a's first run")
    b = Replica(cluster, cache_dir, tmp_path, ns, "b", "granted", kubeconfig=kc)
    watches.append(b)
    wait_for(lambda: "waiting to lead lease" in b.stderr(), 30, "b standing")
    a.signal(signal.SIGTERM)
    assert a.proc.wait(20) == ExitCode.INTERRUPTED
    wait_for(lambda: [s for s in starts(tmp_path) if s.who == "b"], 10, "b's first run")
    assert f"kates: released lease {ns}/granted" in a.stderr()
    for replica in (a, b):  # the release watch was allowed: no fallback to polling was said
        assert "error" not in replica.stderr() and "cannot watch lease" not in replica.stderr(), replica.stderr()


def test_a_frozen_leaders_hook_never_overlaps_the_next_leaders_and_its_late_write_is_fenced(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    probe = tmp_path / "probe"
    probe.mkdir()
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late", "namespace": ns}}
    (probe / "cm.json").write_text(json.dumps(cm))
    a = Replica(cluster, cache_dir, tmp_path, ns, "a", "frozen", ticks=200, env={"PROBE": str(probe)}, timing=WIDE)
    watches.append(a)
    wait_for(lambda: [line for line in read_log(tmp_path / "runs.log") if line.what == "tick"], 30, "a's hook")
    b = Replica(cluster, cache_dir, tmp_path, ns, "b", "frozen", timing=WIDE)
    watches.append(b)
    wait_for(lambda: "waiting to lead lease" in b.stderr(), 30, "b standing")
    a.signal(signal.SIGSTOP)  # kates only: its reaper and its hook go on
    frozen_at = time.monotonic()
    try:
        wait_for(
            lambda: [s for s in starts(tmp_path) if s.who == "b"] and time.monotonic() - frozen_at > 4.0,
            4.0 + 10,
            "b leading, a frozen for longer than the lease duration",
        )
    finally:
        a.signal(signal.SIGCONT)
    noticed = f"kates: no longer leading lease {ns}/frozen: not renewed within the renew deadline (2s)"
    wait_for(lambda: noticed in a.stderr(), 10, "a noticing")
    assert holder(cluster, ns, "frozen") == "b"
    # What a's hook left behind writes now, after SIGCONT: no permit from a, which no longer leads.
    (probe / "go").touch()
    wait_for(lambda: (probe / "code").exists() and (probe / "code").read_text().strip(), 30, "the late write")
    out = (probe / "out").read_text()
    assert (probe / "code").read_text().strip() == str(int(ExitCode.FENCED)), out
    assert f"write fenced: this hook's watcher does not hold lease {ns}/frozen" in out.splitlines()[0], out
    assert cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps/late")[0] == 404
    podtemplate(cluster, ns, "after")
    wait_for(lambda: len([s for s in starts(tmp_path) if s.who == "b"]) >= 2, 10, "b's run on the change")
    lines = read_log(tmp_path / "runs.log")
    assert not overlaps(lines), intervals(lines)
    assert not [line for line in lines if line.what == "end" and line.who == "a"]  # killed (by its reaper) in time
    assert [s.who for s in starts(tmp_path)].count("a") == 1  # back to standby: a ran no more
    assert a.proc.poll() is None


def test_a_leader_cut_off_from_the_api_server_stops_at_the_renew_deadline_before_anyone_takes_over(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    with FaultProxy(cluster.port) as proxy:
        cut = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        a = Replica(cluster, cache_dir, tmp_path, ns, "a", "cut", ticks=200, kubeconfig=cut)  # a 20 s hook
        watches.append(a)
        wait_for(lambda: [line for line in read_log(tmp_path / "runs.log") if line.what == "tick"], 30, "a's hook")
        b = Replica(cluster, cache_dir, tmp_path, ns, "b", "cut")
        watches.append(b)
        wait_for(lambda: "waiting to lead lease" in b.stderr(), 30, "b standing")
        proxy.stall()  # silent: a's renewals time out, its kates and hook go on
        noticed = f"kates: no longer leading lease {ns}/cut: not renewed within the renew deadline (2s)"
        wait_for(lambda: noticed in a.stderr(), RENEW_DEADLINE + 5, "a stopping")
        first = wait_for(lambda: [s for s in starts(tmp_path) if s.who == "b"], LEASE_DURATION + 5, "b leading")[0]
        a_runs = [run for run in intervals(read_log(tmp_path / "runs.log")) if run[0] == "a"]
        assert len(a_runs) == 1 and a_runs[0][2] < first.at  # fenced before b began
        proxy.resume()
        podtemplate(cluster, ns, "after")
        wait_for(lambda: len([s for s in starts(tmp_path) if s.who == "b"]) >= 2, 10, "b's run on the change")
        assert [s.who for s in starts(tmp_path)].count("a") == 1 and a.proc.poll() is None
        assert holder(cluster, ns, "cut") == "b"


def test_once_with_leader_election_runs_each_replica_once_in_turn(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path
) -> None:
    both = [Replica(cluster, cache_dir, tmp_path, ns, w, "job", "--once", ticks=5) for w in ("x", "y")]
    codes = [r.proc.wait(60) for r in both]
    assert codes == [0, 0], [r.stderr() for r in both]
    lines = read_log(tmp_path / "runs.log")
    assert sorted(s.who for s in lines if s.what == "start") == ["x", "y"]
    assert sorted(s.who for s in lines if s.what == "end") == ["x", "y"]
    assert not overlaps(lines), intervals(lines)
    assert holder(cluster, ns, "job") == ""  # the last one released it too
    third = Replica(cluster, cache_dir, tmp_path, ns, "z", "job", "--once", env={"EXIT": "3"})
    assert third.proc.wait(60) == 3, third.stderr()  # the hook's own code
    assert holder(cluster, ns, "job") == ""


def test_once_with_leader_election_and_no_hook_prints_one_snapshot(
    kates: Runner, cluster: ControlPlane, ns: str
) -> None:
    podtemplate(cluster, ns, "one")
    got = kates("watch", "-q", "podtemplates", "-n", ns, "--once", "--leader-elect", "--lease", "print", *TIMING)
    assert got.code == 0, got
    assert [o["metadata"]["name"] for o in json.loads(got.out)["podtemplates"]] == ["one"]
    assert f"kates: leading lease {ns}/print as " in got.err and f"kates: released lease {ns}/print\n" in got.err
    assert holder(cluster, ns, "print") == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--leader-elect"], "error: --leader-elect needs --lease NAME"),
        (["--lease", "x"], "error: --lease needs --leader-elect"),
        (["--retry-period", "1s"], "error: --retry-period needs --leader-elect"),
        (
            ["--leader-elect", "--lease", "x", "--lease-duration", "10s"],
            "error: --lease-duration must be greater than --renew-deadline "
            "(got --lease-duration 10s, --renew-deadline 10s, --retry-period 2s)",
        ),
        (
            ["--leader-elect", "--lease", "x", "--renew-deadline", "2s"],
            "error: --renew-deadline must be greater than --retry-period x 1.2 (client-go's jitter) "
            "(got --lease-duration 15s, --renew-deadline 2s, --retry-period 2s)",
        ),
        (["--leader-elect", "--lease", "x", "--retry-period", "0s"], "error: --retry-period must be greater than zero"),
        (
            ["--leader-elect", "--lease", "x", "--retry-period", "2"],
            'error: invalid argument "2" for "--retry-period" flag: time: missing unit in duration "2"',
        ),
    ],
)
def test_bad_leader_election_flags_are_usage_errors_before_any_request(
    kates: Runner, tmp_path: Path, args: list[str], message: str
) -> None:
    nowhere = tmp_path / "kubeconfig"  # a server that cannot answer: any request would fail with exit 6
    nowhere.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: k, cluster: {server: 'https://127.0.0.1:9'}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    got = kates("watch", "-q", "cm", *args, env={"KUBECONFIG": str(nowhere)})
    assert got.code == ExitCode.USAGE, got
    assert got.err.splitlines()[0].startswith(message), got.err


def test_a_lease_that_cannot_be_read_fails_at_once_with_forbidden(kates: Runner) -> None:
    got = kates(
        "--context",
        RESTRICTED_CONTEXT,
        "watch",
        "-q",
        f"cm ns={RESTRICTED_NAMESPACE}",
        "--leader-elect",
        "--lease",
        "x",
        "--exec",
        "true",
        timeout=60,
    )
    assert got.code == ExitCode.FORBIDDEN, got
    first = got.err.splitlines()[0]
    assert first.startswith(f"error: cannot get leases (lease {RESTRICTED_NAMESPACE}/x): "), got.err
    assert "leases" in first and "get" in first
