"""Dependencies from Python, against the real control plane: objects watched because they were read (issue 13,
section 2): their changes as deltas named "dependency", shared streams, release, limits and errors."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kates_cli import Client
from kates_cli.core.accumulator import Accumulator, Query
from kates_cli.core.deltas import Delta
from kates_cli.core.selection import Selection
from tests.controlplane.launcher import ControlPlane

from .conftest import create

MERGE = "application/merge-patch+json"


@pytest.fixture
def client(cluster: ControlPlane, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    with Client(str(cluster.kubeconfig)) as c:
        yield c


class Lists:
    """A StreamObserver counting initial-set requests per query name (one per API list+watch a stream opens)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def listed(self, query: str) -> None:
        with self.lock:
            self.counts[query] = self.counts.get(query, 0) + 1

    def event(self, query: str, event_type: str) -> None:
        pass

    def restarted(self, query: str, reason: str) -> None:
        pass


def secret(cluster: ControlPlane, ns: str, name: str, value: str = "v1") -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": name}, "stringData": {"k": value}})


def patch_secret(cluster: ControlPlane, ns: str, name: str, value: str) -> None:
    code, body = cluster.request(
        "PATCH", f"/api/v1/namespaces/{ns}/secrets/{name}", {"stringData": {"k": value}}, MERGE
    )
    assert code == 200, body


def patch_cm(cluster: ControlPlane, ns: str, name: str, value: str) -> None:
    code, body = cluster.request("PATCH", f"/api/v1/namespaces/{ns}/configmaps/{name}", {"data": {"k": value}}, MERGE)
    assert code == 200, body


def bootstrapped(acc: Accumulator) -> None:
    assert acc.wait(30), "no bootstrap"
    acc.update_with_deltas({})


def next_deltas(acc: Accumulator, timeout: float = 10) -> list[Delta]:
    """The deltas of the next change (waiting for it)."""
    assert acc.wait(timeout), "no change"
    changed, deltas = acc.update_with_deltas({})
    assert changed
    return deltas


def shown(deltas: list[Delta]) -> list[tuple[str, str, str, str]]:
    return [(d.type, d.query, d.kind, d.name) for d in deltas]


def test_a_dependency_on_one_secret_raises_its_changes_as_dependency_deltas(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    secret(cluster, ns, "db")
    secret(cluster, ns, "other")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "marker"}})
    with client.watch(Query("cms", "cm", ns)) as acc:
        bootstrapped(acc)
        generation = acc.generation
        dep = acc.depend(Selection("", "secrets", ns, "db"))
        # its first bootstrap is the baseline: it raised no change (generation unchanged once depend returned)
        assert acc.generation == generation
        assert [e.obj["data"]["k"] for e in acc.view_of(dep).values()] == ["djE="]
        assert acc.dependencies() == {Selection("", "secrets", ns, "db"): 1}
        assert dep.id == f"dependency:secrets {ns}/db" and dep.state.query.field_selector == "metadata.name=db"

        patch_secret(cluster, ns, "other", "v2")  # not depended on: no change
        patch_secret(cluster, ns, "db", "v2")
        assert shown(next_deltas(acc)) == [("update", "dependency", "Secret", "db")]
        assert acc.view_of(dep)[(ns, "db")].obj["data"]["k"] == "djI="
        # the take that delivered it saw the dependency's view, after the queries'
        assert list(acc.taken_views) == ["cms", dep.id]
        assert acc.taken_views[dep.id][1][(ns, "db")].obj["data"]["k"] == "djI="
        found = acc.find(Selection("", "secrets", ns, "db"))
        assert found is not None and found[0] == dep.id
        assert acc.find(Selection("", "secrets", ns, "other")) is None  # the dependency covers db only


def test_identical_dependencies_share_one_stream_and_release_stops_it(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    secret(cluster, ns, "db")
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "marker"}})
    lists = Lists()
    with client.watch(Query("cms", "cm", ns), observer=lists) as acc:
        bootstrapped(acc)
        streams = len(acc.streams)
        a = acc.depend(Selection("", "secrets", ns, "db"), holder="a")
        # the same read spelled as a field selector is the same dependency
        b = acc.depend(Selection("", "secrets", ns, field_selector="metadata.name=db"), holder="b")
        assert b is a
        assert acc.depend(Selection("", "secrets", ns, "db"), holder="a") is a  # one reference per holder
        assert lists.counts == {"cms": 1, "dependency": 1}  # one list+watch for both holders
        assert len(acc.streams) == streams + 1
        assert acc.dependencies() == {Selection("", "secrets", ns, "db"): 2}

        assert acc.release("a") == []  # b still holds it
        assert acc.dependencies() == {Selection("", "secrets", ns, "db"): 1}
        assert acc.release("b") == [Selection("", "secrets", ns, "db")]
        assert acc.dependencies() == {}
        assert len(acc.streams) == streams
        a.stream.join(10)
        assert not a.stream._thread.is_alive(), "the released dependency's stream still runs"

        patch_secret(cluster, ns, "db", "v2")  # no stream watches it any more
        patch_cm(cluster, ns, "marker", "1")
        assert shown(next_deltas(acc)) == [("update", "cms", "ConfigMap", "marker")]
