"""The page size of `kates get`'s lists (issue 16, B1): the requests the API server sees, counted by a forwarder in
front of it (`PageGate` in mode "pass" records each request's path and query).

An explicit --chunk-size is honoured exactly, as kubectl honours it (0: one request, no limit). Without it a table
is listed in kubectl's pages of 500, since its blocks depend on where the pages end, and every other output in
pages of get.OBJECT_CHUNK_SIZE, which prints the same bytes in fewer round trips: the fast path and the click path
alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from kates_cli.cli.get import DEFAULT_CHUNK_SIZE, OBJECT_CHUNK_SIZE
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner
from tests.e2e.test_get_midlist import PageGate

N = 1200  # with kube-root-ca.crt: 1,201 ConfigMaps, so 2 pages of 1,000 and 3 of 500


@pytest.fixture
def gate(cluster: ControlPlane, ns: str) -> Iterator[PageGate]:
    path = f"/api/v1/namespaces/{ns}/configmaps"
    cluster.bulk("POST", [(path, {"metadata": {"name": f"cm-{i:04d}"}}) for i in range(N)])
    g = PageGate(cluster, "pass")
    yield g
    g.close()


def lists(gate: PageGate, ns: str) -> list[tuple[str | None, bool]]:
    """The list requests on the namespace's ConfigMaps since the last call: (limit, whether a continuation)."""
    out = []
    for path in gate.paths:
        url = urlsplit(path)
        if url.path == f"/api/v1/namespaces/{ns}/configmaps":
            query = parse_qs(url.query)
            out.append(((query.get("limit") or [None])[0], "continue" in query))
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
