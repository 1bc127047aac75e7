"""Long logs without --follow are streamed, not held: `kates logs` of a pod whose two containers wrote 150,000 lines
each, stamped in turn, prints every line once in timestamp order (the two streams merged line by line) with a peak
RSS that does not grow with the logs, and its first line comes out long before its last.

kates held every line of every stream until all had ended, then sorted them: about 100 MB more for these logs, and
nothing printed until the end. The merge now releases a line once every unfinished stream has one waiting, and each
stream hands over at most a few reads ahead of it (core/logs.py `LogMux._merged`).
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


def _running_pod(cp: ControlPlane, ns: str, name: str, containers: list[str]) -> None:
    spec = {"containers": [{"name": c, "image": "x"} for c in containers]}
    create(cp, f"/api/v1/namespaces/{ns}/pods", {"metadata": {"name": name}, "spec": spec})

    def running() -> bool:
        code, pod = cp.request("GET", f"/api/v1/namespaces/{ns}/pods/{name}")
        return code == 200 and (pod.get("status") or {}).get("phase") == "Running"

    wait_for(running, 90, f"pod {name} to run")


def test_long_logs_are_merged_and_streamed_in_flat_memory(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path, spawner: None
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    base = datetime.now(UTC) - timedelta(hours=1)
    expected: list[bytes] = []
    for name, count in (("short", 10), ("long", LINES)):
        _running_pod(cp, ns, name, ["a", "b"])
        for turn, container in enumerate(("a", "b")):
            path = cp.log_file(ns, name, container)
            with path.open("w") as f:
                for i in range(count // 2):
                    line = f"line {i:07d} of {container} {'x' * 80}"
                    f.write(f"{cri_timestamp(base + timedelta(microseconds=2 * i + turn))} stdout F {line}\n")
                    if name == "long":
                        expected.append(f"{2 * i + turn:08d}".encode() + line.encode())
    want = b"".join(e[8:] + b"\n" for e in sorted(expected))  # both containers' lines in timestamp order
    env = _env(cp, cache_dir, None)
    _, short = _measure([*KATES, "logs", "short", "-n", ns, "-o", "raw"], env)
    mine, long = _measure([*KATES, "logs", "long", "-n", ns, "-o", "raw"], env)
    theirs, kubectl_rss = _measure([kubectl_path(), "logs", "long", "-n", ns, "--all-containers"], env)
    assert mine.out == want  # every line once, the two streams merged in timestamp order
    assert sorted(theirs.out.splitlines()) == sorted(
        want.splitlines()
    )  # kubectl's lines (one container, then the other)
    figures.record(
        "load",
        f"logs of two containers, {LINES} lines ({len(mine.out) / 2**20:.0f} MiB), no --follow",
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
