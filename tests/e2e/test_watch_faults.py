"""Watch streams against faults of the network and of the cluster's kinds, credentials and permissions: a silent
stall is noticed within its bound and resumed without a relist, a TLS failure is fatal at once, a deleted CRD
empties its query, and what the server refuses is named exactly (field selector, refused verb)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from kates_cli import Client
from kates_cli.core.accumulator import Query
from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.certs import LocalPKI
from tests.controlplane.launcher import RESTRICTED_CONTEXT, ControlPlane
from tests.faultproxy import FaultProxy

from .conftest import Runner, create, ensure_crd, schemaless_crd
from .watchlog import figures_of, server_state

pytestmark = pytest.mark.e2e

STALL = 3.0  # the bound these tests set (the default, 30 s, would make the suite slow; the mechanism is the same)
MARGIN = 1.5  # scheduling on a busy 2-core machine, the 0.2 s first backoff, a reconnect's TLS handshake


class Proc:
    """A background kates process, stdout and stderr in files (read them at any time without blocking)."""

    def __init__(self, args: list[str], kubeconfig: Path, cache: Path, tmp: Path, name: str, **env: str):
        self.out, self.err = tmp / f"{name}.out", tmp / f"{name}.err"
        full_env = dict(os.environ, KUBECONFIG=str(kubeconfig), KATES_CACHE_DIR=str(cache), NO_COLOR="1", **env)
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kates_cli", *args], env=full_env, stdout=out, stderr=err
            )

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def last_snapshot(self) -> dict[str, Any]:
        """The newest snapshot kates has finished writing: a read racing a write can see a line's first part only."""
        complete = self.stdout().rpartition("\n")[0]
        return json.loads(complete.splitlines()[-1]) if complete else {}

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(30)


def names(objs: list[dict[str, Any]]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


# -- a silent stall ----------------------------------------------------------------------------------------------


def test_a_silent_stall_is_noticed_within_the_bound_and_resumed_without_a_relist(
    cluster: ControlPlane, ns: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KATES_CACHE_DIR", str(tmp_path / "cache"))
    notices: list[tuple[float, str]] = []
    with FaultProxy(cluster.port) as proxy:
        kc = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        with (
            Client(str(kc)) as client,
            client.watch(
                Query("cms", "cm", ns), stall_timeout=STALL, notice=lambda t: notices.append((time.monotonic(), t))
            ) as acc,
        ):
            snap: dict[str, list[dict[str, Any]]] = {}
            assert acc.wait(30) and acc.update(snap)
            stream = acc.streams[0]
            # a quiet watch outlives several bounds without a word: the server ends each one before the deadline
            wait_for(lambda: stream.rv and stream.lists == 1, 10, "the steady watch")
            quiet_until = time.monotonic() + 2 * STALL
            wait_for(lambda: time.monotonic() > quiet_until, 3 * STALL, "two quiet bounds")
            assert notices == [] and stream.stalls == 0, notices

            proxy.stall()
            stalled = time.monotonic()
            create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "during-stall"}})
            wait_for(lambda: notices, STALL + 2 * MARGIN, "the stall to be noticed")
            noticed = notices[0][0] - stalled
            proxy.resume()

            def arrived() -> bool:
                return acc.wait(0.1) and acc.update(snap) and "during-stall" in names(snap["cms"])

            wait_for(arrived, 10, "the change made during the stall")
            seen = time.monotonic() - stalled
            assert noticed <= STALL + MARGIN, noticed
            assert seen <= STALL + 2 * MARGIN, seen
            assert stream.lists == 1 and stream.relists == 0, (stream.lists, stream.relists)  # resumed, not relisted
            text = notices[0][1]
            assert text.startswith(f"kates: watch of query cms (configmaps) stalled: nothing received for {STALL:g}s")
            assert "resuming from resourceVersion" in text and len(notices) == 1, notices
    figures.record(
        "fault matrix",
        "proxy stall (library, 3s bound)",
        lost=0,
        duplicated=len(names(snap["cms"])) - len(set(names(snap["cms"]))),
        stale=0,
        relists=stream.relists,
        noticed_s=round(noticed, 2),
        change_seen_s=round(seen, 2),
    )


def test_watch_and_get_w_say_a_stall_on_stderr_and_carry_on(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any], kates: Runner
) -> None:
    cache = tmp_path / "cache"
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\ncat >> "$OUT/snapshots.jsonl"\necho >> "$OUT/snapshots.jsonl"\n')
    hook.chmod(0o755)
    with FaultProxy(cluster.port) as proxy:
        kc = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        stall = ["--stall-timeout", f"{STALL:g}s"]
        w = Proc(
            ["watch", "-q", f"cms=cm ns={ns}", *stall, "--exec", str(hook)], kc, cache, tmp_path, "w", OUT=str(tmp_path)
        )
        g = Proc(["get", "cm", "-n", ns, "-w", "-o", "name", *stall], kc, cache, tmp_path, "g")
        watches += [w, g]
        snapshots = tmp_path / "snapshots.jsonl"
        wait_for(lambda: snapshots.exists() and "kube-root-ca.crt" in g.stdout(), 30, "both to bootstrap")
        proxy.stall()
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "during-stall"}})
        wait_for(lambda: "stalled" in w.stderr() and "stalled" in g.stderr(), STALL + 10, "both to notice the stall")
        proxy.resume()
        wait_for(
            lambda: (
                "during-stall" in snapshots.read_text().rpartition("\n")[0] and "configmap/during-stall" in g.stdout()
            ),
            15,
            "the change made during the stall",
        )
        assert w.stop() == ExitCode.INTERRUPTED and g.stop() == ExitCode.INTERRUPTED
    for p, query in ((w, "cms"), (g, "configmap")):
        lines = [line for line in p.stderr().splitlines() if "stalled" in line]
        assert len(lines) == 1 and lines[0].startswith(f"kates: watch of query {query} "), p.stderr()
    snaps = [json.loads(line)["cms"] for line in snapshots.read_text().splitlines() if line.strip()]
    assert sorted(names(snaps[-1])) == ["during-stall", "kube-root-ca.crt"]
    figs = figures_of(snaps, server_state(cluster, ns))
    figures.record("fault matrix", f"TCP proxy stall, kates watch (--stall-timeout {STALL:g}s)", **figs)
    assert figs["lost"] == figs["duplicated"] == figs["stale"] == 0, figs
    out = kates("watch", "-q", "cm", "--stall-timeout", "1s", "--once")
    assert out.code == ExitCode.USAGE and out.err.startswith('error: invalid --stall-timeout "1s"'), out
    out = kates("get", "cm", "--stall-timeout", "5s")
    assert out.code == ExitCode.USAGE and "--stall-timeout option can only be used with --watch" in out.err, out


# -- TLS -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["another-ca", "wrong-server-name"])
def test_a_tls_verification_failure_in_bootstrap_fails_at_once(
    cluster: ControlPlane, kates: Runner, tmp_path: Path, fault: str
) -> None:
    assert kates("get", "cm", "-n", "default", "-o", "name").code == 0  # discovery cached: the watch is the first call
    cfg = yaml.safe_load(cluster.kubeconfig.read_text())
    entry = cfg["clusters"][0]["cluster"]
    if fault == "another-ca":
        other = LocalPKI(tmp_path / "other-pki")
        entry["certificate-authority-data"] = base64.b64encode(other.ca_cert.read_bytes()).decode()
    else:
        entry["tls-server-name"] = "not-the-apiserver.example.com"
    bad = tmp_path / "kubeconfig"
    bad.write_text(yaml.safe_dump(cfg))
    started = time.monotonic()
    try:
        out = kates("watch", "-q", "cm", "--once", env={"KUBECONFIG": str(bad)}, timeout=30)
    except subprocess.TimeoutExpired:
        pytest.fail("kates watch kept retrying a TLS verification failure")
    assert out.code == ExitCode.UNREACHABLE, out
    assert out.err.startswith(f"error: unable to connect to the server {cluster.server}: "), out
    assert "certificate" in out.err or "hostname" in out.err.lower() or "mismatch" in out.err, out
    assert "still waiting" not in out.err and time.monotonic() - started < 15


# -- a watched kind goes away ------------------------------------------------------------------------------------


def test_a_deleted_crd_empties_its_query_then_fails_or_is_waited_for(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any], cache_dir: Path
) -> None:
    crd = schemaless_crd("gone.example.org", "relics", "Relic")
    crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/relics.gone.example.org"
    ensure_crd(cluster, crd)
    try:
        create(
            cluster,
            f"/apis/gone.example.org/v1/namespaces/{ns}/relics",
            {"apiVersion": "gone.example.org/v1", "kind": "Relic", "metadata": {"name": "r1"}},
        )
        q = ["-q", f"r=relics.gone.example.org ns={ns}", "-q", f"cms=cm ns={ns}"]
        fail = Proc(["watch", *q], cluster.kubeconfig, cache_dir, tmp_path, "fail")
        wait = Proc(["watch", "--wait-for-kinds", *q], cluster.kubeconfig, cache_dir, tmp_path, "wait")
        watches += [fail, wait]
        wait_for(lambda: '"r1"' in fail.stdout() and '"r1"' in wait.stdout(), 30, "both to bootstrap")
        assert cluster.request("DELETE", crd_path)[0] == 200
        assert fail.proc.wait(60) == ExitCode.NOT_FOUND, fail.stderr()
        err = fail.stderr().splitlines()
        assert err[0] == ("error: query r: the server no longer serves relics.gone.example.org (404 page not found)"), (
            err
        )
        assert err[1:] == ["hint: with --wait-for-kinds kates waits for a kind to come back"], err
        last = fail.last_snapshot()
        assert last["r"] == [] and "kube-root-ca.crt" in names(last["cms"])  # the objects went first, then kates
        wait_for(lambda: "waiting for it to come back" in wait.stderr(), 30, "the waiting watch to say so")
        assert wait.proc.poll() is None
        assert wait.last_snapshot()["r"] == []
        wait_for(lambda: cluster.request("GET", crd_path)[0] == 404, 30, "the CRD to be gone")
        ensure_crd(cluster, crd)
        create(
            cluster,
            f"/apis/gone.example.org/v1/namespaces/{ns}/relics",
            {"apiVersion": "gone.example.org/v1", "kind": "Relic", "metadata": {"name": "r2"}},
        )
        wait_for(lambda: names(wait.last_snapshot().get("r", [])) == ["r2"], 60, "the kind to come back")
        assert wait.stop() == ExitCode.INTERRUPTED
        assert wait.stderr().count("no longer serves") == 1, wait.stderr()
    finally:
        cluster.request("DELETE", crd_path)


def test_a_deleted_crd_ends_the_watch_while_the_hook_keeps_failing(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any], cache_dir: Path
) -> None:
    """The stream's error was raised only by the wait for changes, which a retry skips: with a hook that kept failing
    kates retried forever on a query whose kind was gone, and never said so."""
    crd = schemaless_crd("failing.example.org", "omens", "Omen")
    crd_path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/omens.failing.example.org"
    ensure_crd(cluster, crd)
    hook = tmp_path / "hook.sh"
    hook.write_text('#!/bin/sh\ncat > /dev/null\necho run >> "$OUT/runs.log"\nexit 1\n')
    hook.chmod(0o755)
    try:
        q = ["-q", f"o=omens.failing.example.org ns={ns}", "--exec", str(hook), "--max-backoff", "1s"]
        w = Proc(["watch", *q], cluster.kubeconfig, cache_dir, tmp_path, "w", OUT=str(tmp_path))
        watches.append(w)
        wait_for(lambda: (tmp_path / "runs.log").exists(), 30, "the first (failing) run")
        assert cluster.request("DELETE", crd_path)[0] == 200
        assert w.proc.wait(60) == ExitCode.NOT_FOUND, w.stderr()
        assert "error: query o: the server no longer serves omens.failing.example.org" in w.stderr(), w.stderr()
    finally:
        cluster.request("DELETE", crd_path)


# -- what the server refuses -------------------------------------------------------------------------------------


def test_a_field_selector_the_server_rejects_is_a_usage_error(kates: Runner, ns: str) -> None:
    for args in (
        ["watch", "-q", f"cm ns={ns} f=spec.nothing=x", "--once"],
        ["get", "cm", "-n", ns, "--field-selector", "spec.nothing=x"],
        ["get", "cm", "-n", ns, "-w", "--field-selector", "spec.nothing=x"],
    ):
        out = kates(*args, timeout=30)
        assert out.code == ExitCode.USAGE, (args, out)
        assert out.err.startswith(
            'error: unable to find configmaps that match label selector "", field selector "spec.nothing=x": '
        ), (args, out)


def test_forbidden_names_exactly_the_verb_the_server_refused(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    rbac = f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}"
    for name, resource, verbs in (("list-only", "services", ["list"]), ("watch-only", "secrets", ["watch"])):
        create(
            cluster,
            f"{rbac}/roles",
            {"metadata": {"name": name}, "rules": [{"apiGroups": [""], "resources": [resource], "verbs": verbs}]},
        )
        create(
            cluster,
            f"{rbac}/rolebindings",
            {
                "metadata": {"name": name},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "kates-restricted"}],
            },
        )
    restricted = ("--context", RESTRICTED_CONTEXT, "watch", "--once")
    wait_for(lambda: kates(*restricted, "-q", f"secrets ns={ns}").code == 0, 30, "the bindings to apply")
    out = kates(*restricted, "-q", f"services ns={ns}")
    assert out.code == ExitCode.FORBIDDEN, out
    assert out.err.startswith("error: cannot watch services (query services): services is forbidden: User "), out
    assert "list and watch" not in out.err.splitlines()[0]


def test_set_based_label_selectors_in_queries(cluster: ControlPlane, kates: Runner, ns: str) -> None:
    for name, labels in (("a", {"env": "a"}), ("b", {"env": "b", "debug": "1"}), ("c", {"env": "c"}), ("n", {})):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name, "labels": labels}})
    out = kates(
        "watch",
        "-q", f"inab=cm ns={ns} l=env in (a,b)",
        "-q", f"nodebug=cm ns={ns} l=env,!debug",
        "-q", f"notc=cm ns={ns} l='env notin (c), env'",
        "-q", f"spaced=cm ns={ns} l=env notin (a, b) f=metadata.name!=n",
        "--once",
    )  # fmt: skip
    assert out.code == 0, out
    snap = json.loads(out.out)
    assert {q: names(v) for q, v in snap.items()} == {
        "inab": ["a", "b"],
        "nodebug": ["a", "c"],
        "notc": ["a", "b"],
        "spaced": ["c", "kube-root-ca.crt"],  # notin matches objects without the label, as on the server
    }
