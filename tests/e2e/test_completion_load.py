"""Completion of names on a big namespace: every one of 5,000 ConfigMaps, quickly (cli/completionnames.py).

Each figure is the best of three runs of a new kates process answering bash's completion protocol (the fast path,
cli/fastcomplete.py; the full path, through click, once for comparison). The names of
5,000 ConfigMaps are set against those of a namespace holding one (the same process, client and requests: on a
loaded 2-core machine these alone vary by tenths of a second), and against kubectl's own completion, which lists
the whole objects. The bounds are loose (a second and a half for what takes tens of milliseconds on a quiet
machine, half of kubectl's time for what takes a tenth of it), so that a busy machine never fails the test, but a
lookup of the whole objects, page after page, as kubectl does, would.
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

    small, offered = _best(3, lambda: shell_protocol(uncached, "bash", "kates get cm -n default "))
    assert offered == ["kube-root-ca.crt"], offered

    lookup, offered = _best(3, lambda: shell_protocol(uncached, "bash", f"kates get cm -n {big} cm-49"))
    assert offered == [f"cm-{i:04d}" for i in range(4900, 5000)], offered  # the last names too: no page limit
    every, everything = _best(1, lambda: shell_protocol(uncached, "bash", f"kates get cm -n {big} "))
    assert everything == [f"cm-{i:04d}" for i in range(N)] + ["kube-root-ca.crt"]
    # the full path (click, cli/completion.py) offers the very same names; the fast one (cli/fastcomplete.py) answered
    full = dict(uncached, KATES_NO_FASTPATH="1")
    every_full, everything_full = _best(1, lambda: shell_protocol(full, "bash", f"kates get cm -n {big} "))
    assert everything_full == everything

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
        one_configmap=round(small, 3),
        server_lookup=round(lookup, 3),
        all_names=round(every, 3),
        cached=round(hit, 3),
        for_the_5000=round(lookup - small, 3),
        all_names_full_path=round(every_full, 3),
        kubectl=round(theirs, 3),
    )
    # the 5,000 names cost tens of milliseconds over one name; whole objects, page by page, cost seconds
    assert lookup - small < 1.5, (lookup, small)
    assert lookup < 0.5 * theirs, (lookup, theirs)  # kubectl lists the whole objects
    assert hit - small < 1.0, (hit, small)
