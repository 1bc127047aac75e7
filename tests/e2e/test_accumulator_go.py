"""The Accumulator's `update_with_deltas` and `filtered_update` against Go kates's `UpdateWithDeltas` and
`FilteredUpdate`, through `Client.watch` on the real control plane.

Where kates deliberately reports something else than Go, the test says so: kates's deltas are the net change since
the consumer's last update (Go keeps only the last event's type per object), and `filtered_update` reports a change
only when the filtered view changed (Go reports any change)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kates_cli import Accumulator, Client, Query
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import create

MERGE = "application/merge-patch+json"


@pytest.fixture
def client(cluster: ControlPlane, cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Client]:
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    with Client(str(cluster.kubeconfig)) as c:
        yield c


class Server:
    """Writes as admin, without kates (so no write is overlaid: only the watch tells the accumulator)."""

    def __init__(self, cluster: ControlPlane, ns: str):
        self.cluster, self.ns = cluster, ns
        self.path = f"/api/v1/namespaces/{ns}/configmaps"

    def create(self, name: str, **data: str) -> dict[str, Any]:
        return create(self.cluster, self.path, {"metadata": {"name": name, "labels": {"t": "1"}}, "data": data})

    def patch(self, name: str, **data: str) -> dict[str, Any]:
        code, body = self.cluster.request("PATCH", f"{self.path}/{name}", {"data": data}, content_type=MERGE)
        assert code == 200, body
        return body  # type: ignore[no-any-return]

    def delete(self, name: str) -> None:
        code, body = self.cluster.request("DELETE", f"{self.path}/{name}")
        assert code == 200, body


def arrived(acc: Accumulator, ns: str, present: dict[str, dict[str, Any]], absent: tuple[str, ...] = ()) -> None:
    """Wait until the watch has delivered each of `present` at its resourceVersion (and uid) and none of `absent`,
    without taking the changes: the next update sees them all at once, coalesced."""
    state = acc.states["cms"]

    def done() -> bool:
        for name, obj in present.items():
            entry = state.watched.get((ns, name))
            meta = obj["metadata"]
            if entry is None or (entry.rv, entry.uid) != (meta["resourceVersion"], meta["uid"]):
                return False
        return all((ns, name) not in state.watched for name in absent)

    wait_for(done, 30, "the watch to deliver the writes")


def changes(deltas: list[Any]) -> list[tuple[str, str]]:
    return [(d.type, d.name) for d in deltas]


def test_update_with_deltas_reports_what_changed_since_the_last_update(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    server = Server(cluster, ns)
    for name in ("a", "b", "r"):
        server.create(name, v="1")
    with client.watch(Query("cms", "cm", ns, label_selector="t=1")) as acc:
        assert acc.wait(10)
        snap: dict[str, list[dict[str, Any]]] = {}
        changed, deltas = acc.update_with_deltas(snap)
        # Go: the bootstrap is an update whose deltas add every object already there
        assert changed and changes(deltas) == [("add", "a"), ("add", "b"), ("add", "r")]
        assert deltas[0].to_dict() == {
            "type": "add", "query": "cms", "apiVersion": "v1", "kind": "ConfigMap", "namespace": ns, "name": "a"
        }  # fmt: skip
        assert [o["metadata"]["name"] for o in snap["cms"]] == ["a", "b", "r"]
        assert acc.update_with_deltas(snap) == (False, [])  # nothing new: nothing reported
        server.patch("a", v="2")
        a = server.patch("a", v="3")  # two updates between two takes: one delta (as in Go)
        server.delete("b")
        server.create("c", v="1")
        c = server.patch("c", v="2")  # created then changed: kates says add (Go says update: its last event's)
        server.create("d", v="1")
        server.delete("d")  # created and deleted again: kates says nothing (Go says delete)
        server.delete("r")
        replaced = server.create("r", v="2")  # a new uid: kates says delete then add (Go says add only)
        arrived(acc, ns, {"a": a, "c": c, "r": replaced}, absent=("b", "d"))
        changed, deltas = acc.update_with_deltas(snap)
        assert changed
        assert changes(deltas) == [("update", "a"), ("delete", "b"), ("add", "c"), ("delete", "r"), ("add", "r")]
        assert {o["metadata"]["name"]: o["data"]["v"] for o in snap["cms"]} == {"a": "3", "c": "2", "r": "2"}


def test_filtered_update_asks_the_predicate_only_about_changed_objects(
    cluster: ControlPlane, client: Client, ns: str
) -> None:
    server = Server(cluster, ns)
    server.create("a", keep="yes")
    server.create("b", keep="no")
    server.create("c", keep="no")
    asked: list[str] = []

    def keep(obj: dict[str, Any]) -> bool:
        asked.append(obj["metadata"]["name"])
        return bool(obj["data"]["keep"] == "yes")

    def names(snap: dict[str, list[dict[str, Any]]]) -> list[str]:
        return [o["metadata"]["name"] for o in snap["cms"]]

    with client.watch(Query("cms", "cm", ns, label_selector="t=1")) as acc:
        assert acc.wait(10)
        snap: dict[str, list[dict[str, Any]]] = {}
        assert acc.filtered_update(snap, keep) and names(snap) == ["a"]
        assert sorted(asked) == ["a", "b", "c"]
        asked.clear()
        arrived(acc, ns, {"b": server.patch("b", keep="yes")})
        assert acc.filtered_update(snap, keep) and names(snap) == ["a", "b"]
        assert asked == ["b"]  # as in Go: only the changed object is asked about
        asked.clear()
        arrived(acc, ns, {"a": server.patch("a", keep="no")})
        assert acc.filtered_update(snap, keep) and names(snap) == ["b"]
        assert asked == ["a"]
        asked.clear()
        server.delete("b")
        arrived(acc, ns, {}, absent=("b",))
        assert acc.filtered_update(snap, keep) and names(snap) == []
        assert asked == []  # as in Go: a deletion asks nothing
        # An excluded object changes and stays excluded: the filtered view is the same, so kates reports no change
        # and leaves the snapshot alone (Go reports a change and refills it with the same objects).
        arrived(acc, ns, {"c": server.patch("c", extra="1")})
        snap = {"cms": [{"sentinel": True}]}
        assert not acc.filtered_update(snap, keep)
        assert asked == ["c"] and snap == {"cms": [{"sentinel": True}]}
        # update() ignores the predicate (in Go, objects a FilteredUpdate excluded stay excluded from Update)
        arrived(acc, ns, {"d": server.create("d", keep="no")})
        full: dict[str, list[dict[str, Any]]] = {}
        assert acc.update(full) and names(full) == ["a", "c", "d"]
