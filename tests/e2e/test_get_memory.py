"""A long `kates get -o json|yaml` holds a page or two, not the list (issue 16, B1): its peak RSS does not grow with
the list's length, and it still prints kubectl's bytes.

1,500 ConfigMaps of about 8 KB (12 MB of JSON) listed in pages of 100: holding them all, as kates did, costs
about 60 MB more than listing one object (the objects, then the List's text, twice); a page at a time costs a few MB.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.harness import close_spawner, run_measured
from tests import figures
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import KATES, _env, kubectl_path

N = 1500
VALUE = "0123456789abcdef" * 64  # 1 KB


def _configmap(i: int) -> dict[str, Any]:
    return {"metadata": {"name": f"cm-{i:05d}"}, "data": {f"key-{k}": f"{i}-{k}-{VALUE}" for k in range(8)}}


def _run(argv: list[str], env: dict[str, str]) -> tuple[bytes, float]:
    """Stdout and peak RSS (MiB) of the child, its own: started by the benchmarks' spawner (bench/spawner.py), since
    a child forked from this large process would inherit its high-water mark."""
    m = run_measured(argv, env, keep_output=True).check(" ".join(argv[-6:]))
    return m.out, m.maxrss_mb


@pytest.fixture(scope="module")
def spawner() -> Iterator[None]:
    yield
    close_spawner()


def test_a_long_list_is_printed_in_flat_memory_with_kubectls_bytes(
    cluster: ControlPlane, ns: str, cache_dir: Path, spawner: None
) -> None:
    cluster.bulk("POST", [(f"/api/v1/namespaces/{ns}/configmaps", _configmap(i)) for i in range(N)])
    env = _env(cluster, cache_dir, None)
    for fmt in ("json", "yaml"):
        get = [*KATES, "get", "cm", "-n", ns, "-o", fmt, "--chunk-size", "100"]
        _, small = _run([*get, "--field-selector", "metadata.name=cm-00000"], env)  # the same command, one object
        out, big = _run(get, env)
        want, _ = _run([kubectl_path(), "get", "cm", "-n", ns, "-o", fmt, "--chunk-size", "100"], env)
        assert out == want, fmt  # kubectl's List, byte for byte (15 pages, the spool past its in-memory size)
        assert len(out) > 12_000_000, fmt
        figures.record(
            "load", f"get -o {fmt} of {N} x 8 KB ConfigMaps", peak_rss_mib=round(big, 1), one_object=round(small, 1)
        )
        assert big - small < 20, f"-o {fmt}: peak RSS {big:.0f} MiB for {N} objects, {small:.0f} MiB for one"
