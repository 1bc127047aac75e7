"""The fault matrix for `kates watch` (issue 11, section 2): each row runs a watch whose hook keeps every snapshot,
applies one fault, makes changes, and records objects lost, duplicated and stale, and hook runs (tests/e2e/watchlog.py).

Rows that kill the API server share one private control plane (module scope: ~10 s to start once); the network rows
use a fault proxy in front of the shared one. The stall row is in test_watch_faults.py; the 410 and graceful-restart
rows in test_watch.py. The etcd outage row takes about 30 s (20 s down, then kube-apiserver needs a few seconds to be
ready again).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.faultproxy import FaultProxy

from .conftest import create
from .watchlog import HookedWatch, figures_of, server_state

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def matrix_cp() -> Iterator[ControlPlane]:
    """One private control plane for the rows that kill its API server."""
    with ControlPlane(controller_manager=False) as cp:
        yield cp
        cp.kill_apiserver()  # its graceful shutdown takes ~10 s, and nothing here needs it


@pytest.fixture
def watches() -> Iterator[list[HookedWatch]]:
    started: list[HookedWatch] = []
    yield started
    for w in started:
        w.stop()


def fresh_ns(cp: ControlPlane, prefix: str) -> str:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    create(cp, "/api/v1/namespaces", {"metadata": {"name": name}})
    return name


def configmaps(cp: ControlPlane, ns: str, count: int) -> None:
    cp.bulk(
        "POST", [(f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"c{i:04d}"}}) for i in range(count)]
    )


def changes(cp: ControlPlane, ns: str, tag: str) -> None:
    """One create, one update, one delete (as admin, retried while the server comes back)."""
    for method, path, body in (
        ("POST", f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"new-{tag}"}}),
        ("PATCH", f"/api/v1/namespaces/{ns}/configmaps/c0001", {"data": {"tag": tag}}),
        ("DELETE", f"/api/v1/namespaces/{ns}/configmaps/c0002", None),
    ):
        ctype = "application/merge-patch+json" if method == "PATCH" else "application/json"

        def done(m: str = method, p: str = path, b: object = body, c: str = ctype) -> bool:
            return cp.request(m, p, b, content_type=c)[0] in (200, 201, 404)

        wait_for(done, 60, f"{method} {path}")


def converge(w: HookedWatch, cp: ControlPlane, ns: str, timeout: float = 60) -> dict[str, int]:
    expected = server_state(cp, ns)
    wait_for(lambda: w.last() == expected, timeout, f"the final snapshot to equal the server's state ({w.stderr()})")
    return figures_of(w.snapshots(), expected)


def warm_cache(cp: ControlPlane, cache: Path, kubeconfig: Path | None = None) -> None:
    """Discovery cached on disk, so that the watch's own requests are the first ones."""
    env = dict(os.environ, KUBECONFIG=str(kubeconfig or cp.kubeconfig), KATES_CACHE_DIR=str(cache))
    subprocess.run(
        [sys.executable, "-m", "kates_cli", "get", "ns", "default"], env=env, check=True, capture_output=True
    )


def check(row: str, figs: dict[str, int], **extra: float) -> None:
    figures.record("fault matrix", row, **figs, **extra)
    assert figs["lost"] == 0 and figs["duplicated"] == 0 and figs["stale"] == 0, (row, figs)


# -- the API server killed ---------------------------------------------------------------------------------------


def test_apiserver_sigkill_during_bootstrap(
    matrix_cp: ControlPlane, tmp_path: Path, watches: list[HookedWatch]
) -> None:
    cp = matrix_cp
    ns = fresh_ns(cp, "boot")
    configmaps(cp, ns, 500)
    cache = tmp_path / "cache"
    with FaultProxy(cp.port) as proxy:
        kc = proxy.kubeconfig(cp.kubeconfig, tmp_path / "kubeconfig")
        warm_cache(cp, cache, kc)
        proxy.stall()  # the watch's bootstrap request is held in flight ...
        w = HookedWatch(tmp_path, kc, cache, ns)
        watches.append(w)
        wait_for(lambda: proxy.open_connections >= 1, 30, "the bootstrap request in flight")
        started = time.monotonic()
        cp.kill_apiserver()  # ... when the API server dies
        proxy.resume()
        assert w.snapshots() == []
        cp.start_apiserver()
        changes(cp, ns, "boot")
        figs = converge(w, cp, ns)
    first = w.snapshots()[0]
    assert len(first) >= 500  # the first run saw a complete list, never part of one
    check("kube-apiserver SIGKILL during bootstrap", figs, seconds=round(time.monotonic() - started, 1))
    assert w.stop() == 130


def test_apiserver_sigkill_during_steady_watch(
    matrix_cp: ControlPlane, tmp_path: Path, watches: list[HookedWatch]
) -> None:
    cp = matrix_cp
    ns = fresh_ns(cp, "steady")
    configmaps(cp, ns, 50)
    w = HookedWatch(tmp_path, cp.kubeconfig, tmp_path / "cache", ns)
    watches.append(w)
    wait_for(lambda: len(w.snapshots()) == 1, 30, "the first run")
    started = time.monotonic()
    cp.kill_apiserver()
    cp.start_apiserver()
    changes(cp, ns, "steady")
    figs = converge(w, cp, ns)
    check("kube-apiserver SIGKILL during steady watch", figs, seconds=round(time.monotonic() - started, 1))
    assert figs["hook_runs"] <= 4, figs  # the bootstrap run, then the three changes (coalesced or not)
    assert w.stop() == 130


def test_etcd_compaction_410_relists_through_kates_watch(
    matrix_cp: ControlPlane, tmp_path: Path, watches: list[HookedWatch]
) -> None:
    cp = matrix_cp
    ns = fresh_ns(cp, "gone")
    configmaps(cp, ns, 20)
    hold = tmp_path / "hold"
    w = HookedWatch(tmp_path, cp.kubeconfig, tmp_path / "cache", ns, env={"KATES_TEST_HOLD_WATCH": str(hold)})
    watches.append(w)
    wait_for(lambda: len(w.snapshots()) == 1, 30, "the first run")
    hold.write_text("")  # the stream holds the next event (and so its resourceVersion) ...
    changes(cp, ns, "held")
    started = time.monotonic()
    cp.kill_apiserver()  # ... across a fresh watch cache ...
    cp.start_apiserver()
    changes(cp, ns, "after")
    cp.compact_etcd()  # ... and a compaction: resuming from the held version is 410 Gone, so kates relists
    hold.unlink()
    figs = converge(w, cp, ns)
    check("etcd compaction (410), kates watch", figs, seconds=round(time.monotonic() - started, 1))
    assert w.stop() == 130


def test_etcd_stopped_for_20s(matrix_cp: ControlPlane, tmp_path: Path, watches: list[HookedWatch]) -> None:
    cp = matrix_cp
    ns = fresh_ns(cp, "etcd")
    configmaps(cp, ns, 50)
    w = HookedWatch(tmp_path, cp.kubeconfig, tmp_path / "cache", ns)
    watches.append(w)
    wait_for(lambda: len(w.snapshots()) == 1, 30, "the first run")
    cp.stop_etcd()
    down = time.monotonic()
    wait_for(lambda: time.monotonic() - down >= 20, 30, "20 s of etcd outage")
    cp.start_etcd()
    back = time.monotonic()
    wait_for(lambda: cp.request("GET", "/readyz")[0] == 200, 180, "kube-apiserver ready again")
    ready = time.monotonic() - back
    changes(cp, ns, "etcd")
    figs = converge(w, cp, ns, 120)
    check("etcd stopped for 20 s", figs, seconds=round(time.monotonic() - down, 1), apiserver_ready_s=round(ready, 1))
    assert w.stop() == 130


# -- the network ---------------------------------------------------------------------------------------------------


def test_proxy_resets_every_connection_while_changes_flow(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[HookedWatch]
) -> None:
    configmaps(cluster, ns, 20)
    with FaultProxy(cluster.port) as proxy:
        kc = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        w = HookedWatch(tmp_path, kc, tmp_path / "cache", ns)
        watches.append(w)
        wait_for(lambda: len(w.snapshots()) == 1, 30, "the first run")
        started = time.monotonic()
        resets = 0
        for i in range(5):
            wait_for(lambda: proxy.open_connections >= 1, 30, "the watch to reconnect")
            changes(cluster, ns, f"r{i}")
            resets += proxy.reset()
        figs = converge(w, cluster, ns)
    check(
        "TCP proxy resets (5 times, while changing)", figs, resets=resets, seconds=round(time.monotonic() - started, 1)
    )
    assert resets >= 5 and w.stop() == 130


def test_proxy_delays_every_byte(cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[HookedWatch]) -> None:
    configmaps(cluster, ns, 200)
    with FaultProxy(cluster.port) as proxy:
        kc = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "kubeconfig")
        warm_cache(cluster, tmp_path / "cache", kc)
        proxy.delay(0.05)  # 50 ms before every chunk, both ways
        started = time.monotonic()
        w = HookedWatch(tmp_path, kc, tmp_path / "cache", ns)
        watches.append(w)
        wait_for(lambda: len(w.snapshots()) >= 1, 60, "the first run")
        bootstrap = time.monotonic() - started
        for i in range(5):
            changes(cluster, ns, f"d{i}")
        figs = converge(w, cluster, ns)
    check("TCP proxy delays every chunk by 50 ms", figs, bootstrap_s=round(bootstrap, 1))
    assert w.stop() == 130
