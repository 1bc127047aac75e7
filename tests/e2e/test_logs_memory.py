"""A long log without --follow is streamed, not held: `kates logs` of a 300,000-line container prints kubectl's bytes
with a peak RSS that does not grow with the log, and its first line comes out long before its last.

kates held every line of every stream until all had ended, then sorted them: about 100 MB more for this log, and
nothing printed until the end. The merge now releases a line once every unfinished stream has one waiting, and each
stream reads at most a few hundred lines ahead of it (core/logs.py `LogMux._merged`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.harness import Measured, close_spawner, run_measured
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane, cri_timestamp
from tests.e2e.conftest import KATES, _env, create, kubectl_path

pytestmark = pytest.mark.timeout(600)
LINES = 300_000


@pytest.fixture(scope="module")
def spawner() -> Iterator[None]:
    yield
    close_spawner()


def _running_pod(cp: ControlPlane, ns: str, name: str) -> None:
    create(
        cp,
        f"/api/v1/namespaces/{ns}/pods",
        {"metadata": {"name": name}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
    )

    def running() -> bool:
        code, pod = cp.request("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
        return code == 200 and (pod.get("status") or {}).get("phase") == "Running"

    wait_for(running, 90, f"pod {name} to run")


def test_a_long_log_is_streamed_in_flat_memory_with_kubectls_bytes(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path, spawner: None
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    base = datetime.now(UTC) - timedelta(hours=1)
    for name, count in (("short", 10), ("long", LINES)):
        _running_pod(cp, ns, name)
        path = cp.log_file(ns, name, "c")
        with path.open("w") as f:
            for i in range(count):
                f.write(f"{cri_timestamp(base + timedelta(microseconds=i))} stdout F line {i:07d} {'x' * 80}\n")
    env = _env(cp, cache_dir, None)
    _, short = _measure([*KATES, "logs", "short", "-n", ns, "-o", "raw"], env)
    mine, long = _measure([*KATES, "logs", "long", "-n", ns, "-o", "raw"], env)
    theirs, kubectl_rss = _measure([kubectl_path(), "logs", "long", "-n", ns], env)
    assert mine.out == theirs.out and mine.out.count(b"\n") == LINES  # kubectl's bytes, every line once, in order
    figures.record(
        "load",
        f"logs of one container, {LINES} lines ({len(mine.out) / 2**20:.0f} MiB), no --follow",
        peak_rss_mib=round(long, 1),
        one_object=round(short, 1),
        seconds=round(mine.wall, 2),
        kubectl=round(theirs.wall, 2),
        kubectl_rss_mib=round(kubectl_rss, 1),
        first_byte_s=round(mine.ttfb or 0, 2),
    )
    assert long - short < 20, f"peak RSS {long:.0f} MiB for {LINES} lines, {short:.0f} MiB for 10"
    assert mine.ttfb is not None and mine.ttfb < mine.wall / 2, (mine.ttfb, mine.wall)  # streamed, not held


def _measure(argv: list[str], env: dict[str, str]) -> tuple[Measured, float]:
    m = run_measured(argv, env, keep_output=True).check(" ".join(argv[-5:]))
    return m, m.maxrss_mb
