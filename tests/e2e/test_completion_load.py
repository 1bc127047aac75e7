"""Completion of names on a big namespace: every one of 5,000 ConfigMaps, quickly (cli/completionnames.py).

Each figure is the best of three runs of a new kates process answering bash's completion protocol, set against the
start-up of the same process answering a request that needs no cluster (`kates get -o <TAB>`): on a loaded 2-core
machine start-up alone varies by tenths of a second, while the lookup's own cost is what this test holds down. The
bounds are loose (a second for a lookup that takes tens of milliseconds), so that a busy machine never fails it, but
a lookup of the whole objects, page after page, as kubectl does, would.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tests import figures
from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, kubectl_path
from .test_completion import shell_protocol
from .test_plugin import plugin_env

N = 5000
T = TypeVar("T")


@pytest.fixture
def big(cluster: ControlPlane, ns: str) -> str:
    """`ns` holding N ConfigMaps of about 1 KB, cm-0000 to cm-4999."""
    cluster.bulk(
        "POST",
        [
            (f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"cm-{i:04d}"}, "data": {"k": "x" * 1000}})
            for i in range(N)
        ],
    )
    return ns


def _best(runs: int, call: Callable[[], T]) -> tuple[float, T]:
    """The shortest wall time of `runs` calls of `call`, and the last call's result."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - started)
    return best, result


def test_names_of_5000_configmaps_complete_in_a_fraction_of_a_second(
    cluster: ControlPlane, cache_dir: Path, kates: Runner, big: str
) -> None:
    assert kates("get", "ns", "default").code == 0  # the discovery cache is warm, as in a shell used before
    env = plugin_env(cluster, cache_dir)
    uncached = dict(env, KATES_COMPLETION_TTL="0")
    cached = dict(env, KATES_COMPLETION_TTL="600")  # a slow machine must not see the names expire between runs

    start_up, formats = _best(3, lambda: shell_protocol(env, "bash", "kates get -o js"))
    assert formats == ["json", "jsonpath", "jsonpath-as-json", "jsonpath-file"], formats

    lookup, offered = _best(3, lambda: shell_protocol(uncached, "bash", f"kates get cm -n {big} cm-49"))
    assert offered == [f"cm-{i:04d}" for i in range(4900, 5000)], offered  # the last names too: no page limit
    every, everything = _best(1, lambda: shell_protocol(uncached, "bash", f"kates get cm -n {big} "))
    assert everything == [f"cm-{i:04d}" for i in range(N)] + ["kube-root-ca.crt"]

    shell_protocol(cached, "bash", f"kates get cm -n {big} ")  # fills the cache
    hit, offered = _best(3, lambda: shell_protocol(cached, "bash", f"kates get cm -n {big} cm-49"))
    assert offered == [f"cm-{i:04d}" for i in range(4900, 5000)], offered

    theirs, listed = _best(
        1,
        lambda: subprocess.run(
            [kubectl_path(), "__complete", "get", "configmaps", "-n", big, "cm-49"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        ),
    )
    assert "cm-4999" in listed.stdout, listed

    figures.record(
        "load",
        f"completion of names, {N} ConfigMaps (wall s, best of 3; kubectl once)",
        start_up=round(start_up, 3),
        server_lookup=round(lookup, 3),
        all_names=round(every, 3),
        cached=round(hit, 3),
        lookup_beyond_start_up=round(lookup - start_up, 3),
        kubectl=round(theirs, 3),
    )
    assert lookup - start_up < 1.0, (lookup, start_up)  # the lookup itself: tens of ms; whole objects take seconds
    assert hit - start_up < 0.5, (hit, start_up)
