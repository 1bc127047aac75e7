"""The page size of `kates get`'s lists (issue 16, B1): the requests the API server sees, counted by a forwarder in
front of it (`PageGate` in mode "pass" records each request's path and query).

An explicit --chunk-size is honoured exactly, as kubectl honours it (0: one request, no limit). Without it a table
is listed in kubectl's pages of 500, since its blocks depend on where the pages end, and every other output in
pages of get.OBJECT_CHUNK_SIZE, which prints the same bytes in fewer round trips: the fast path and the click path
alike.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kates_cli.cli.get import DEFAULT_CHUNK_SIZE, OBJECT_CHUNK_SIZE
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import KATES, Runner, _env
from tests.e2e.test_get_midlist import PageGate

N = 1200  # with kube-root-ca.crt: 1,201 ConfigMaps, so 2 pages of 1,000 and 3 of 500


@pytest.fixture
def gate(cluster: ControlPlane, ns: str) -> Iterator[PageGate]:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    cluster.bulk("POST", [(path, {"metadata": {"name": f"cm-{i:04d}"}}) for i in range(N)])
    g = PageGate(cluster, "pass")
    yield g
    g.close()


def lists(gate: PageGate, ns: str, with_watches: bool = False) -> list[Any]:
    """The list requests on the namespace's ConfigMaps since the last call: (limit, whether a continuation), and
    with `with_watches` every request, each with whether it is a watch."""
    out: list[Any] = []
    for path in gate.paths:
        url = urlsplit(path)
        if url.path == f"/api/v1/namespaces/{ns}/configmaps":
            query = parse_qs(url.query)
            row = ((query.get("limit") or [None])[0], "continue" in query)
            out.append((*row, query.get("watch") in (["1"], ["true"])) if with_watches else row)
    gate.paths.clear()
    return out


def pages_of(size: int, total: int = N + 1) -> list[tuple[str | None, bool]]:
    count = -(-total // size)
    return [(str(size), i > 0) for i in range(count)]


def test_get_pages_by_output_and_honours_chunk_size_exactly(
    kates: Runner, kubectl: Runner, gate: PageGate, ns: str, tmp_path: Path
) -> None:
    assert OBJECT_CHUNK_SIZE > DEFAULT_CHUNK_SIZE == 500
    kc = str(gate.kubeconfig(tmp_path / "kubeconfig"))
    want_json = kubectl("get", "cm", "-n", ns, "-o", "json").out
    for env in ({"KUBECONFIG": kc}, {"KUBECONFIG": kc, "KATES_NO_FASTPATH": "1"}):  # the fast path, the click path
        r = kates("get", "cm", "-n", ns, "-o", "json", env=env)
        assert r.code == 0 and r.err == "", r
        assert r.out == want_json  # kubectl's bytes, whatever the page size
        assert lists(gate, ns) == pages_of(OBJECT_CHUNK_SIZE), env

        r = kates("get", "cm", "-n", ns, "-o", "name", env=env)
        assert r.code == 0 and len(r.out.splitlines()) == N + 1, r
        assert lists(gate, ns) == pages_of(OBJECT_CHUNK_SIZE), env

        r = kates("get", "cm", "-n", ns, env=env)  # a table: kubectl's pages, so its blocks (tests/e2e/parity_cases)
        assert r.code == 0 and len(r.out.splitlines()) == N + 2, r
        assert lists(gate, ns) == pages_of(DEFAULT_CHUNK_SIZE), env

    env = {"KUBECONFIG": kc}
    for size in ("500", "300", "3000"):  # given: exactly that, for every output
        r = kates("get", "cm", "-n", ns, "-o", "json", "--chunk-size", size, env=env)
        assert r.code == 0 and r.out == want_json, (size, r)
        assert lists(gate, ns) == pages_of(int(size)), size

    r = kates("get", "cm", "-n", ns, "--chunk-size", "700", env=env)
    assert r.code == 0 and len(r.out.splitlines()) == N + 2, r
    assert lists(gate, ns) == pages_of(700)

    for flags in (["-o", "json"], []):  # 0: one request, no limit (kubectl's unpaged list)
        r = kates("get", "cm", "-n", ns, *flags, "--chunk-size", "0", env=env)
        assert r.code == 0 and len(r.out.splitlines()) > N, r
        assert lists(gate, ns) == [(None, False)], flags


def test_get_watch_lists_first_in_the_same_pages(
    cluster: ControlPlane, cache_dir: Path, gate: PageGate, ns: str, tmp_path: Path
) -> None:
    """`get -w`'s first list takes --chunk-size as `get` does (kubectl's builder pages the watch's list too), and
    without it the page size of its output."""
    kc = str(gate.kubeconfig(tmp_path / "kubeconfig"))
    for extra, want in ((["--chunk-size", "300"], pages_of(300)), ([], pages_of(OBJECT_CHUNK_SIZE))):
        argv = [*KATES, "get", "cm", "-n", ns, "-w", "-o", "name", *extra]
        env = _env(cluster, cache_dir, {"KUBECONFIG": kc}, argv)
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            names = [proc.stdout.readline() for _ in range(N + 1)]  # the first list, whole
            assert all(name.startswith("configmap/") for name in names), names[-3:]
        finally:
            proc.kill()
            proc.communicate(timeout=30)
        listed = [(limit, more) for limit, more, watching in lists(gate, ns, with_watches=True) if not watching]
        assert listed == want, extra
