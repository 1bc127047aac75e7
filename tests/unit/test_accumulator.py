"""The Accumulator and QueryState: bootstrap barrier, coalescing, deterministic bytes, deltas, read/write coherence.

Pure logic: no cluster, no network. Watch streams are simulated by calling replace/event/bookmark directly.
"""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.core.accumulator import Accumulator, Delta, Entry, Query, QueryState, make_entry
from kates_cli.errors import Forbidden, KatesError, UsageError

KubeObject = dict[str, Any]


# -- helpers ---------------------------------------------------------------------------------------------------


def cm(
    name: str,
    rv: str | int,
    ns: str = "default",
    uid: str | None = None,
    labels: dict[str, str] | None = None,
    **extra: Any,
) -> KubeObject:
    """A ConfigMap as the API server returns it."""
    meta: dict[str, Any] = {"name": name, "namespace": ns, "uid": uid or f"uid-{ns}-{name}"}
    if rv != "":
        meta["resourceVersion"] = str(rv)
    if labels is not None:
        meta["labels"] = labels
    obj: KubeObject = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta}
    obj.update(extra)
    return obj


def ent(name: str, rv: str | int, **kw: Any) -> Entry:
    return make_entry(cm(name, rv, **kw))


def new_state(
    name: str = "q",
    namespace: str | None = None,
    labels: str | None = None,
    fields: str | None = None,
    resource: str = "configmaps",
    kind: str = "ConfigMap",
) -> QueryState:
    return QueryState(Query(name, kind, namespace, labels, fields), "", resource, "v1", kind)


def visible(state: QueryState) -> dict[tuple[str, str], str]:
    """(namespace, name) -> resourceVersion of what the query currently shows."""
    return {k: e.rv for k, e in state.view().items()}


def names(objs: list[KubeObject]) -> list[str]:
    return [o["metadata"]["name"] for o in objs]


def synced_acc(*states: QueryState) -> Accumulator:
    """An accumulator whose queries all bootstrapped empty at rv 10, with the first snapshot consumed."""
    acc = Accumulator(list(states))
    for s in states:
        acc.replace(s.query.name, [], "10")
    assert acc.update({}) is True
    return acc


# -- bootstrap barrier -----------------------------------------------------------------------------------------


def test_no_notify_before_all_queries_synced() -> None:
    acc = Accumulator([new_state("pods"), new_state("svcs")])
    assert acc.wait(0) is False
    acc.replace("pods", [ent("a", 5)], "10")
    acc.event("pods", "ADDED", ent("b", 11))
    assert acc.synced is False
    assert acc.wait(0) is False
    snap: dict[str, list[KubeObject]] = {}
    assert acc.update(snap) is False
    assert snap == {}
    assert acc.status() == {"pods": {"synced": True, "count": 2}, "svcs": {"synced": False, "count": 0}}

    acc.replace("svcs", [], "12")
    assert acc.synced is True
    assert acc.wait(0) is True
    assert acc.update(snap) is True
    assert {q: names(objs) for q, objs in snap.items()} == {"pods": ["a", "b"], "svcs": []}


def test_empty_initial_lists_count_and_first_update_is_true() -> None:
    acc = Accumulator([new_state("a"), new_state("b")])
    acc.replace("a", [], "3")
    assert acc.wait(0) is False
    acc.replace("b", [], "4")
    assert acc.wait(0) is True
    snap: dict[str, list[KubeObject]] = {}
    changed, deltas = acc.update_with_deltas(snap)
    assert (changed, deltas) == (True, [])
    assert snap == {"a": [], "b": []}
    assert acc.wait(0) is False
    assert acc.update(snap) is False


def test_first_update_reports_initial_objects_as_adds() -> None:
    acc = Accumulator([new_state("q")])
    acc.replace("q", [ent("b", 4), ent("a", 3)], "5")
    changed, deltas = acc.update_with_deltas({})
    assert changed is True
    assert [(d.type, d.name) for d in deltas] == [("add", "a"), ("add", "b")]


def test_duplicate_query_names_raise_usage_error() -> None:
    with pytest.raises(UsageError, match="duplicate query name: dup") as info:
        Accumulator([new_state("dup"), new_state("ok"), new_state("dup", namespace="x")])
    assert info.value.hint == "give each query its own NAME="


# -- coalescing ------------------------------------------------------------------------------------------------


def test_many_events_coalesce_into_one_notification_with_newest_state() -> None:
    s = new_state("q")
    acc = synced_acc(s)
    for rv in range(11, 31):
        acc.event("q", "ADDED" if rv == 11 else "MODIFIED", ent("a", rv, data={"n": str(rv)}))
    acc.event("q", "ADDED", ent("b", 31))
    assert acc.wait(0) is True
    snap: dict[str, list[KubeObject]] = {}
    changed, deltas = acc.update_with_deltas(snap)
    assert changed is True
    assert [(o["metadata"]["name"], o["metadata"]["resourceVersion"], o.get("data")) for o in snap["q"]] == [
        ("a", "30", {"n": "30"}),
        ("b", "31", None),
    ]
    assert [(d.type, d.name) for d in deltas] == [("add", "a"), ("add", "b")]
    # one notification only: nothing is left pending
    assert acc.wait(0) is False
    assert acc.update(snap) is False


def test_identical_relist_raises_no_notification() -> None:
    s = new_state("q")
    acc = Accumulator([s])
    acc.replace("q", [ent("a", 3), ent("b", 4)], "5")
    assert acc.update({}) is True
    acc.replace("q", [ent("b", 4), ent("a", 3)], "50")
    assert acc.wait(0) is False
    snap: dict[str, list[KubeObject]] = {}
    assert acc.update_with_deltas(snap) == (False, [])
    assert snap == {}
    assert s.progress == "50"


def test_relist_with_changes_notifies_and_diffs() -> None:
    acc = Accumulator([new_state("q")])
    acc.replace("q", [ent("a", 3), ent("b", 4)], "5")
    acc.update({})
    acc.replace("q", [ent("b", 9), ent("c", 8)], "10")
    assert acc.wait(0) is True
    snap: dict[str, list[KubeObject]] = {}
    changed, deltas = acc.update_with_deltas(snap)
    assert changed is True
    assert names(snap["q"]) == ["b", "c"]
    assert [(d.type, d.name) for d in deltas] == [("delete", "a"), ("update", "b"), ("add", "c")]


def test_bookmarks_alone_notify_nothing() -> None:
    s = new_state("q")
    acc = Accumulator([s])
    acc.replace("q", [ent("a", 3)], "5")
    acc.update({})
    for rv in ("6", "7", "100"):
        acc.bookmark("q", rv)
    assert acc.wait(0) is False
    assert acc.update({}) is False
    assert s.progress == "100"


def test_bookmark_older_than_progress_does_not_move_it_back() -> None:
    s = new_state("q")
    s.replace([], "20")
    assert s.bookmark("7") is False
    assert s.progress == "20"


def test_changes_that_cancel_out_between_updates_report_nothing() -> None:
    acc = synced_acc(new_state("q"))
    acc.event("q", "ADDED", ent("tmp", 11))
    acc.event("q", "DELETED", ent("tmp", 12))
    assert acc.wait(0) is True  # a change *may* be pending
    snap: dict[str, list[KubeObject]] = {"untouched": []}
    assert acc.update_with_deltas(snap) == (False, [])
    assert snap == {"untouched": []}
    assert acc.wait(0) is False


# -- deterministic order ---------------------------------------------------------------------------------------


def test_objects_are_ordered_by_namespace_then_name() -> None:
    s = new_state("q")
    s.replace([], "1")
    for i, (ns, name) in enumerate([("b", "a"), ("a", "z"), ("b", "0"), ("a", "b"), ("", "m")]):
        s.apply("ADDED", ent(name, 10 + i, ns=ns))
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in s.objects()] == [
        ("", "m"),
        ("a", "b"),
        ("a", "z"),
        ("b", "0"),
        ("b", "a"),
    ]
    assert orjson.loads(s.json_bytes()) == s.objects()


def test_same_state_in_different_event_orders_serialises_identically() -> None:
    final = [ent("d", 9), ent("c", 6, ns="x"), ent("a", 7, data={"k": "v"})]
    one, two = new_state("q"), new_state("q")
    one.replace(final, "9")  # a relist, in the server's (arbitrary) order
    two.replace([], "1")
    for t, e in [
        ("ADDED", ent("a", 2)),
        ("ADDED", ent("b", 3)),
        ("ADDED", ent("c", 6, ns="x")),
        ("MODIFIED", ent("a", 7, data={"k": "v"})),
        ("DELETED", ent("b", 8)),
        ("ADDED", ent("d", 9)),
    ]:
        two.apply(t, e)
    assert list(one.watched) != list(two.watched)  # really reached in different orders
    assert one.json_bytes() == two.json_bytes()
    assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in orjson.loads(one.json_bytes())] == [
        ("default", "a"),
        ("default", "d"),
        ("x", "c"),
    ]

    acc1, acc2 = Accumulator([one]), Accumulator([two])
    ok1, bytes1, _ = acc1.snapshot_json()
    ok2, bytes2, _ = acc2.snapshot_json()
    assert (ok1, ok2) == (True, True)
    assert bytes1 == bytes2
    assert orjson.loads(bytes1) == {"q": one.objects()}


def test_json_bytes_are_canonical_whatever_the_encoding_received() -> None:
    s = new_state("q")
    raw = b'{"metadata":{"namespace":"default","name":"a","resourceVersion":"3"},"data":{"k":"<&>\\u003c"}}'
    s.replace([make_entry(orjson.loads(raw))], "3")
    assert s.json_bytes() == (
        b'[{"data":{"k":"\\u003c\\u0026\\u003e\\u003c"},"metadata":{"name":"a","namespace":"default","resourceVersion":"3"}}]'
    )


def test_json_bytes_are_rebuilt_after_a_change() -> None:
    s = new_state("q")
    s.replace([ent("a", 3)], "3")
    first = s.json_bytes()
    s.apply("ADDED", ent("b", 4))
    assert first != s.json_bytes()
    assert names(orjson.loads(s.json_bytes())) == ["a", "b"]
    s.record_write("delete", cm("a", 5))
    assert names(orjson.loads(s.json_bytes())) == ["b"]


def test_snapshot_json_lists_every_query_in_order() -> None:
    acc = Accumulator([new_state("first"), new_state("second")])
    acc.replace("first", [ent("a", 3)], "4")
    acc.replace("second", [], "4")
    changed, data, deltas = acc.snapshot_json()
    assert changed is True
    assert data.startswith(b'{"first":[')
    assert orjson.loads(data) == {"first": [cm("a", 3)], "second": []}
    assert deltas == [Delta("add", "first", "v1", "ConfigMap", "default", "a")]
    changed, data2, deltas = acc.snapshot_json()
    assert (changed, data2, deltas) == (False, data, [])


# -- deltas ----------------------------------------------------------------------------------------------------


def test_deltas_report_add_update_delete_with_metadata() -> None:
    s = QueryState(Query("deploys", "deploy", "prod"), "apps", "deployments", "apps/v1", "Deployment")
    acc = Accumulator([s])
    acc.replace("deploys", [ent("old", 3, ns="prod"), ent("web", 4, ns="prod")], "5")
    acc.update({})
    acc.event("deploys", "ADDED", ent("api", 6, ns="prod"))
    acc.event("deploys", "MODIFIED", ent("web", 7, ns="prod"))
    acc.event("deploys", "DELETED", ent("old", 8, ns="prod"))
    changed, deltas = acc.update_with_deltas({})
    assert changed is True
    assert [d.to_dict() for d in deltas] == [
        {"type": t, "query": "deploys", "apiVersion": "apps/v1", "kind": "Deployment", "namespace": "prod", "name": n}
        for t, n in [("add", "api"), ("delete", "old"), ("update", "web")]
    ]
    assert acc.update_with_deltas({}) == (False, [])


def test_add_then_delete_between_updates_yields_no_delta() -> None:
    acc = synced_acc(new_state("q"))
    acc.event("q", "ADDED", ent("a", 11))
    acc.event("q", "ADDED", ent("b", 12))
    acc.event("q", "DELETED", ent("a", 13))
    changed, deltas = acc.update_with_deltas({})
    assert changed is True
    assert deltas == [Delta("add", "q", "v1", "ConfigMap", "default", "b")]


def test_delete_and_recreate_between_updates_is_a_delete_and_an_add() -> None:
    acc = Accumulator([new_state("q")])
    acc.replace("q", [ent("a", 3, uid="one")], "3")
    acc.update({})
    acc.event("q", "DELETED", ent("a", 4, uid="one"))
    acc.event("q", "ADDED", ent("a", 5, uid="two"))
    snap: dict[str, list[KubeObject]] = {}
    changed, deltas = acc.update_with_deltas(snap)
    assert changed is True
    assert [(d.type, d.name) for d in deltas] == [("delete", "a"), ("add", "a")]
    assert snap["q"][0]["metadata"]["uid"] == "two"


def test_deltas_of_several_queries_carry_their_query_name() -> None:
    acc = synced_acc(new_state("one"), new_state("two", namespace="default"))
    acc.event("one", "ADDED", ent("a", 11))
    acc.event("two", "ADDED", ent("b", 12))
    _, deltas = acc.update_with_deltas({})
    assert [(d.query, d.name, d.type) for d in deltas] == [("one", "a", "add"), ("two", "b", "add")]


# -- replays ---------------------------------------------------------------------------------------------------


def test_older_modified_after_newer_is_ignored() -> None:
    s = new_state("q")
    s.replace([ent("a", 3)], "3")
    assert s.apply("MODIFIED", ent("a", 7, data={"v": "new"})) is True
    assert s.apply("MODIFIED", ent("a", 5, data={"v": "old"})) is False
    assert s.view()[("default", "a")].obj["data"] == {"v": "new"}
    assert visible(s) == {("default", "a"): "7"}


def test_older_deleted_after_newer_modified_is_ignored() -> None:
    s = new_state("q")
    s.replace([ent("a", 3)], "3")
    s.apply("MODIFIED", ent("a", 9))
    assert s.apply("DELETED", ent("a", 4)) is False
    assert visible(s) == {("default", "a"): "9"}


def test_duplicate_event_changes_nothing() -> None:
    acc = synced_acc(new_state("q"))
    acc.event("q", "ADDED", ent("a", 11))
    acc.update({})
    acc.event("q", "ADDED", ent("a", 11))
    assert acc.wait(0) is False
    assert acc.update({}) is False


def test_replayed_event_does_not_resurrect_a_deleted_object() -> None:
    s = new_state("q")
    s.replace([], "3")
    s.apply("ADDED", ent("a", 5))
    s.apply("DELETED", ent("a", 6))
    assert s.apply("ADDED", ent("a", 5)) is False
    assert visible(s) == {}
    assert s.progress == "6"


# -- read/write coherence --------------------------------------------------------------------------------------


def test_local_create_is_visible_before_the_watch_delivers_it() -> None:
    s = new_state("q")
    acc = synced_acc(s)
    acc.record_write("create", "", "configmaps", cm("a", 15, data={"v": "1"}))
    assert acc.wait(0) is True
    snap: dict[str, list[KubeObject]] = {}
    changed, deltas = acc.update_with_deltas(snap)
    assert changed is True
    assert snap == {"q": [cm("a", 15, data={"v": "1"})]}
    assert [(d.type, d.name) for d in deltas] == [("add", "a")]
    assert set(s.overlay) == {("default", "a")}
    # the watch catches up: the overlay retires, the view is unchanged, so no notification
    acc.event("q", "ADDED", ent("a", 15, data={"v": "1"}))
    assert s.overlay == {}
    assert acc.wait(0) is False
    assert visible(s) == {("default", "a"): "15"}


def test_local_update_is_not_rolled_back_by_a_late_older_event() -> None:
    s = new_state("q")
    s.replace([ent("a", 5, data={"v": "5"})], "5")
    assert s.record_write("update", cm("a", 8, data={"v": "mine"})) is True
    assert visible(s) == {("default", "a"): "8"}
    # someone else's change at rv 7, delivered after our write at rv 8
    assert s.apply("MODIFIED", ent("a", 7, data={"v": "theirs"})) is False
    assert s.view()[("default", "a")].obj["data"] == {"v": "mine"}
    assert set(s.overlay) == {("default", "a")}
    assert s.apply("MODIFIED", ent("a", 8, data={"v": "mine"})) is False
    assert s.overlay == {}
    assert visible(s) == {("default", "a"): "8"}


@pytest.mark.parametrize("verb", ["update", "update_status", "patch"])
def test_every_update_verb_is_overlaid(verb: str) -> None:
    s = new_state("q")
    s.replace([ent("a", 5)], "5")
    assert s.record_write(verb, cm("a", 6, status={"phase": "Ready"})) is True
    assert s.objects() == [cm("a", 6, status={"phase": "Ready"})]


def test_local_delete_is_not_rolled_back_by_a_late_modified() -> None:
    s = new_state("q")
    s.replace([ent("a", 5)], "5")
    assert s.record_write("delete", cm("a", 9)) is True
    assert visible(s) == {}
    assert s.apply("MODIFIED", ent("a", 7)) is False
    assert visible(s) == {}
    assert set(s.overlay) == {("default", "a")}
    s.apply("DELETED", ent("a", 9))
    assert s.overlay == {}
    assert visible(s) == {}


def test_overlay_retires_when_a_bookmark_reaches_the_write() -> None:
    s = new_state("q")
    s.replace([ent("a", 5, data={"v": "watched"})], "5")
    s.record_write("update", cm("a", 9, data={"v": "mine"}))
    assert s.bookmark("8") is False
    assert set(s.overlay) == {("default", "a")}
    assert s.objects()[0]["data"] == {"v": "mine"}
    # progress reaches the write: the overlay retires (the view falls back to what the watch holds)
    assert s.bookmark("9") is True
    assert s.overlay == {}
    assert s.objects()[0]["data"] == {"v": "watched"}


def test_overlay_retires_when_an_event_for_another_object_passes_the_write() -> None:
    s = new_state("q")
    s.replace([], "5")
    s.record_write("create", cm("a", 6))
    s.apply("ADDED", ent("b", 7))
    assert s.overlay == {}


def test_retirement_that_changes_the_view_notifies() -> None:
    s = new_state("q")
    acc = Accumulator([s])
    acc.replace("q", [ent("a", 5, data={"v": "watched"})], "5")
    acc.record_write("update", "", "configmaps", cm("a", 9, data={"v": "mine"}))
    acc.update({})
    acc.bookmark("q", "10")
    assert acc.wait(0) is True
    snap: dict[str, list[KubeObject]] = {}
    assert acc.update(snap) is True
    assert snap["q"][0]["data"] == {"v": "watched"}


def test_delete_masks_by_namespace_and_name_without_uid() -> None:
    s = new_state("q")
    s.replace([ent("a", 5, uid="u1"), ent("b", 5, uid="u2")], "5")
    # a delete answered by a Status: the client knows only namespace and name
    assert s.record_write("delete", {"metadata": {"name": "a", "namespace": "default"}}) is True
    assert visible(s) == {("default", "b"): "5"}
    assert s.overlay[("default", "a")].entry is None
    s.apply("DELETED", ent("a", 6, uid="u1"))
    assert s.overlay == {}
    assert visible(s) == {("default", "b"): "5"}


def test_status_only_delete_mask_retires_when_a_relist_shows_a_new_incarnation() -> None:
    s = new_state("q")
    s.replace([ent("a", 5, uid="old")], "5")
    s.record_write("delete", {"metadata": {"name": "a", "namespace": "default", "uid": "old"}})
    assert visible(s) == {}
    s.replace([ent("a", 9, uid="new")], "9")  # DELETED old + ADDED new, compacted into a relist
    assert s.overlay == {}
    assert visible(s) == {("default", "a"): "9"}


def test_delete_mask_does_not_hide_a_new_incarnation() -> None:
    s = new_state("q")
    s.replace([ent("a", 5, uid="old")], "5")
    s.record_write("delete", cm("a", 6, uid="old"))
    assert visible(s) == {}
    s.apply("DELETED", ent("a", 6, uid="old"))
    s.apply("ADDED", ent("a", 8, uid="new"))
    assert visible(s) == {("default", "a"): "8"}
    assert s.view()[("default", "a")].uid == "new"
    assert s.overlay == {}


def test_delete_mask_yields_to_newer_incarnation_even_before_retiring() -> None:
    s = new_state("q")
    s.replace([ent("a", 5, uid="old")], "5")
    s.record_write("delete", cm("a", 6, uid="old"))
    # the view rule alone (no retirement yet): a newer watched object with another uid is shown
    s.watched[("default", "a")] = ent("a", 8, uid="new")
    assert visible(s) == {("default", "a"): "8"}


def test_delete_mask_of_an_unseen_local_create_survives_unrelated_progress() -> None:
    """Create then delete locally before the watch saw either; an older event for another object arrives first."""
    s = new_state("q")
    s.replace([ent("other", 2)], "3")
    s.record_write("create", cm("a", 5))
    s.record_write("delete", cm("a", 6))
    assert visible(s) == {("default", "other"): "2"}
    s.apply("MODIFIED", ent("other", 4))  # someone else's write at rv 4, before ours
    assert visible(s) == {("default", "other"): "4"}
    s.apply("ADDED", ent("a", 5))  # the late event of our own create must not resurrect it
    assert visible(s) == {("default", "other"): "4"}
    s.apply("DELETED", ent("a", 6))
    assert visible(s) == {("default", "other"): "4"}
    assert s.overlay == {}


def test_delete_mask_holds_while_the_watch_replays_an_older_incarnation() -> None:
    """The watch still shows incarnation A; someone replaced it by B; we delete B. Neither A nor B may reappear."""
    s = new_state("q")
    s.replace([ent("a", 3, uid="A")], "3")
    s.record_write("delete", cm("a", 6, uid="B"))
    assert visible(s) == {}
    s.apply("DELETED", ent("a", 4, uid="A"))
    assert visible(s) == {}
    s.apply("ADDED", ent("a", 5, uid="B"))
    assert visible(s) == {}
    s.apply("DELETED", ent("a", 6, uid="B"))
    assert visible(s) == {}
    assert s.overlay == {}


def test_replayed_event_after_confirmed_local_delete_does_not_resurrect() -> None:
    s = new_state("q")
    s.replace([ent("a", 2)], "3")
    s.record_write("delete", cm("a", 5))
    s.apply("DELETED", ent("a", 5))
    assert s.overlay == {}
    assert s.apply("MODIFIED", ent("a", 2)) is False
    assert visible(s) == {}


def test_write_in_another_namespace_never_appears() -> None:
    s = new_state("q", namespace="prod")
    s.replace([], "5")
    assert s.record_write("create", cm("a", 6, ns="dev")) is False
    assert s.record_write("delete", cm("b", 7, ns="dev")) is False
    assert s.overlay == {}
    assert s.objects() == []


def test_write_not_matching_label_selector_never_appears() -> None:
    s = new_state("q", labels="app=web")
    s.replace([], "5")
    assert s.record_write("create", cm("a", 6, labels={"app": "db"})) is False
    assert s.record_write("create", cm("b", 7)) is False
    assert s.objects() == []
    assert s.overlay == {}
    assert s.record_write("create", cm("c", 8, labels={"app": "web"})) is True
    assert names(s.objects()) == ["c"]


def test_write_is_scoped_by_an_existence_label_selector() -> None:
    s = new_state("q", labels="app,!debug")
    s.replace([], "5")
    assert s.record_write("create", cm("a", 6, labels={"app": "web"})) is True
    assert s.record_write("create", cm("b", 7, labels={"app": "web", "debug": "1"})) is False
    assert s.record_write("create", cm("c", 8, labels={"other": "x"})) is False
    assert names(s.objects()) == ["a"]


def test_write_not_matching_field_selector_never_appears() -> None:
    s = new_state("q", fields="status.phase=Running")
    s.replace([], "5")
    assert s.record_write("create", cm("a", 6, status={"phase": "Pending"})) is False
    assert s.objects() == []
    assert s.record_write("update_status", cm("b", 7, status={"phase": "Running"})) is True
    assert names(s.objects()) == ["b"]


def test_update_moving_object_out_of_label_scope_hides_it() -> None:
    s = new_state("q", labels="app=web")
    s.replace([ent("a", 5, labels={"app": "web"}), ent("b", 5, labels={"app": "web"})], "5")
    assert s.record_write("patch", cm("a", 6, labels={"app": "db"})) is True
    assert names(s.objects()) == ["b"]
    # the server tells a selector watch that the object left its scope with a DELETED at the write's rv
    s.apply("DELETED", ent("a", 6, labels={"app": "db"}))
    assert s.overlay == {}
    assert names(s.objects()) == ["b"]


def test_update_moving_object_out_of_field_scope_hides_it() -> None:
    s = new_state("q", fields="metadata.name!=hidden,status.phase=Running")
    s.replace([ent("a", 5, status={"phase": "Running"})], "5")
    assert s.record_write("update_status", cm("a", 6, status={"phase": "Failed"})) is True
    assert s.objects() == []


def test_update_moving_unseen_object_out_of_scope_masks_the_lagging_event() -> None:
    """Someone labels `a` into scope (rv 5); we label it out (rv 6) before the watch delivered rv 5."""
    s = new_state("q", labels="app=web")
    s.replace([], "4")
    s.record_write("update", cm("a", 6, labels={"app": "db"}))
    s.apply("ADDED", ent("a", 5, labels={"app": "web"}))
    assert s.objects() == []
    s.apply("DELETED", ent("a", 6, labels={"app": "db"}))
    assert s.objects() == []
    assert s.overlay == {}


def test_update_moving_object_into_scope_shows_it() -> None:
    s = new_state("q", labels="app=web")
    s.replace([], "4")
    assert s.record_write("update", cm("a", 6, labels={"app": "web"})) is True
    assert names(s.objects()) == ["a"]


def test_writes_for_another_resource_are_ignored() -> None:
    s = new_state("q")
    acc = synced_acc(s)
    acc.record_write("create", "apps", "configmaps", cm("a", 11))
    acc.record_write("create", "", "secrets", cm("b", 12))
    assert acc.wait(0) is False
    assert s.overlay == {}
    assert s.objects() == []
    acc.record_write("create", "", "configmaps", cm("c", 13))
    assert acc.wait(0) is True
    assert names(s.objects()) == ["c"]


@pytest.mark.parametrize("rv", ["9", "10"])
def test_write_the_watch_already_passed_is_not_recorded(rv: str) -> None:
    s = new_state("q")
    s.replace([ent("a", 10, data={"v": "watched"})], "10")
    assert s.record_write("update", cm("a", rv, data={"v": "stale"})) is False
    assert s.overlay == {}
    assert s.objects()[0]["data"] == {"v": "watched"}


def test_write_before_bootstrap_is_overlaid_then_retired_by_the_list() -> None:
    s = new_state("q")
    acc = Accumulator([s])
    acc.record_write("create", "", "configmaps", cm("a", 4))
    assert acc.wait(0) is False  # still not synced
    acc.replace("q", [ent("a", 4)], "7")
    assert s.overlay == {}
    snap: dict[str, list[KubeObject]] = {}
    assert acc.update(snap) is True
    assert names(snap["q"]) == ["a"]


def test_incomparable_overlay_never_wins_and_retires_on_its_exact_version() -> None:
    s = new_state("q")
    s.replace([ent("a", 5, data={"v": "watched"})], "5")
    assert s.record_write("update", cm("a", "x7", data={"v": "mine"})) is True
    assert s.objects()[0]["data"] == {"v": "mine"}
    s.bookmark("1000")  # an incomparable version is never passed by progress
    assert set(s.overlay) == {("default", "a")}
    s.apply("MODIFIED", ent("a", "x7", data={"v": "mine"}))
    assert s.overlay == {}
    assert s.objects()[0]["data"] == {"v": "mine"}


def test_write_without_resource_version_is_overlaid() -> None:
    s = new_state("q")
    s.replace([], "5")
    assert s.record_write("create", cm("a", "")) is True
    assert names(s.objects()) == ["a"]


# -- per query, per accumulator --------------------------------------------------------------------------------


def test_write_appears_only_in_the_query_whose_namespace_matches() -> None:
    qa, qb = new_state("in-a", namespace="a"), new_state("in-b", namespace="b")
    acc = synced_acc(qa, qb)
    acc.record_write("create", "", "configmaps", cm("x", 11, ns="a"))
    snap: dict[str, list[KubeObject]] = {}
    changed, deltas = acc.update_with_deltas(snap)
    assert changed is True
    assert {q: names(objs) for q, objs in snap.items()} == {"in-a": ["x"], "in-b": []}
    assert deltas == [Delta("add", "in-a", "v1", "ConfigMap", "a", "x")]
    assert qb.overlay == {}


def test_retiring_in_one_query_does_not_retire_in_the_other() -> None:
    everywhere, only_a = new_state("all"), new_state("only-a", namespace="a")
    acc = synced_acc(everywhere, only_a)
    acc.record_write("create", "", "configmaps", cm("x", 11, ns="a"))
    acc.bookmark("all", "11")
    assert everywhere.overlay == {}
    assert set(only_a.overlay) == {("a", "x")}
    assert names(only_a.objects()) == ["x"]


def test_overlays_are_per_accumulator() -> None:
    one, two = new_state("q"), new_state("q")
    acc1, acc2 = synced_acc(one), synced_acc(two)
    acc1.record_write("create", "", "configmaps", cm("x", 11))
    assert acc2.wait(0) is False
    assert two.objects() == []
    assert names(one.objects()) == ["x"]


# -- filtered_update -------------------------------------------------------------------------------------------


def _ready(obj: KubeObject) -> bool:
    return bool((obj.get("status") or {}).get("ready"))


def test_filtered_update_keeps_only_matching_objects() -> None:
    acc = Accumulator([new_state("q")])
    acc.replace("q", [ent("a", 3, status={"ready": True}), ent("b", 4), ent("c", 5, status={"ready": True})], "5")
    snap: dict[str, list[KubeObject]] = {}
    assert acc.filtered_update(snap, _ready) is True
    assert {q: names(objs) for q, objs in snap.items()} == {"q": ["a", "c"]}


def test_filtered_update_is_false_when_only_filtered_out_objects_changed() -> None:
    acc = Accumulator([new_state("q")])
    acc.replace("q", [ent("a", 3, status={"ready": True}), ent("b", 4)], "5")
    snap: dict[str, list[KubeObject]] = {}
    assert acc.filtered_update(snap, _ready) is True
    acc.event("q", "MODIFIED", ent("b", 6, data={"changed": "yes"}))
    acc.event("q", "ADDED", ent("c", 7))
    assert acc.wait(0) is True
    assert acc.filtered_update(snap, _ready) is False
    assert {q: names(objs) for q, objs in snap.items()} == {"q": ["a"]}
    # a change the predicate keeps is reported
    acc.event("q", "MODIFIED", ent("c", 8, status={"ready": True}))
    assert acc.filtered_update(snap, _ready) is True
    assert names(snap["q"]) == ["a", "c"]


def test_filtered_update_is_true_when_a_kept_object_changes() -> None:
    acc = Accumulator([new_state("q")])
    acc.replace("q", [ent("a", 3, status={"ready": True})], "5")
    snap: dict[str, list[KubeObject]] = {}
    acc.filtered_update(snap, _ready)
    acc.event("q", "MODIFIED", ent("a", 6, status={"ready": True}, data={"v": "2"}))
    assert acc.filtered_update(snap, _ready) is True
    assert snap["q"][0]["metadata"]["resourceVersion"] == "6"


def test_filtered_update_calls_the_predicate_only_for_changed_objects() -> None:
    acc = Accumulator([new_state("q")])
    acc.replace("q", [ent("a", 3), ent("b", 4)], "5")
    seen: list[str] = []

    def pred(obj: KubeObject) -> bool:
        seen.append(obj["metadata"]["name"])
        return True

    acc.filtered_update({}, pred)
    assert seen == ["a", "b"]
    seen.clear()
    acc.event("q", "MODIFIED", ent("b", 6))
    assert acc.filtered_update({}, pred) is True
    assert seen == ["b"]


def test_filtered_update_before_sync_is_false() -> None:
    acc = Accumulator([new_state("q"), new_state("r")])
    acc.replace("q", [ent("a", 3)], "5")
    snap: dict[str, list[KubeObject]] = {}
    assert acc.filtered_update(snap, lambda o: True) is False
    assert snap == {}


# -- wait, fail, close -----------------------------------------------------------------------------------------


def test_wait_raises_the_error_passed_to_fail() -> None:
    acc = synced_acc(new_state("q"))
    err = Forbidden("cannot list and watch configmaps (query q): forbidden", code=403)
    acc.fail(err)
    acc.fail(KatesError("a later error is not the one reported"))
    with pytest.raises(Forbidden) as info:
        acc.wait(0)
    assert info.value is err
    with pytest.raises(Forbidden):
        acc.wait(None)  # does not block once failed


def test_fail_wakes_a_blocked_waiter() -> None:
    acc = Accumulator([new_state("q")])
    errors: list[BaseException] = []
    started = threading.Event()

    def waiter() -> None:
        started.set()
        try:
            acc.wait(30)
        except KatesError as exc:
            errors.append(exc)

    t = threading.Thread(target=waiter)
    t.start()
    started.wait(5)
    acc.fail(KatesError("stream died"))
    t.join(5)
    assert not t.is_alive()
    assert [str(e) for e in errors] == ["stream died"]


def test_close_makes_wait_return_false() -> None:
    acc = Accumulator([new_state("q")])
    calls: list[str] = []
    acc.on_close(lambda: calls.append("stop"))
    acc.replace("q", [ent("a", 3)], "3")
    assert acc.wait(0) is True
    acc.close()
    acc.close()
    assert acc.closed is True
    assert acc.wait(0) is False
    assert acc.wait(None) is False  # does not block once closed
    assert calls == ["stop"]


def test_context_manager_closes() -> None:
    with Accumulator([new_state("q")]) as acc:
        assert acc.closed is False
    assert acc.closed is True
    assert acc.wait(None) is False


def test_wait_wakes_when_another_thread_syncs() -> None:
    acc = Accumulator([new_state("q")])
    t = threading.Timer(0.05, lambda: acc.replace("q", [ent("a", 3)], "3"))
    t.start()
    try:
        assert acc.wait(10) is True
    finally:
        t.join()
    snap: dict[str, list[KubeObject]] = {}
    assert acc.update(snap) is True
    assert names(snap["q"]) == ["a"]


def test_snapshots_yields_each_new_snapshot_until_quiet() -> None:
    acc = Accumulator([new_state("q")])
    acc.replace("q", [ent("a", 3)], "3")
    assert [{q: names(o) for q, o in snap.items()} for snap in acc.snapshots(timeout=0)] == [{"q": ["a"]}]
    acc.event("q", "ADDED", ent("b", 4))
    assert [{q: names(o) for q, o in snap.items()} for snap in acc.snapshots(timeout=0)] == [{"q": ["a", "b"]}]


# -- property: a random cluster history, delivered late, replayed, and written to locally ------------------------

NAMES = ("a", "b", "c")
NAMESPACES = ("ns1", "ns2")
KEYS = [(ns, n) for ns in NAMESPACES for n in NAMES]
QUERIES = [
    Query("q", "ConfigMap"),
    Query("q", "ConfigMap", namespace="ns1"),
    Query("q", "ConfigMap", label_selector="tier=x"),
    Query("q", "ConfigMap", namespace="ns1", label_selector="tier in (x)"),
    Query("q", "ConfigMap", label_selector="tier,tier notin (y),!gone"),  # every object has a tier
]
ACTIONS = (
    "server",
    "local",
    "local",
    "deliver",
    "deliver",
    "deliver",
    "replay",
    "bookmark",
    "relist",
    "consume",
)


def _summary(obj: KubeObject | None) -> tuple[str, str, str, str] | None:
    if obj is None:
        return None
    meta = obj["metadata"]
    return (meta["resourceVersion"], meta["uid"], (meta.get("labels") or {}).get("tier", ""), obj["data"]["v"])


@dataclass
class World:
    """The server (an etcd-like global revision counter) and a model of what one query must show."""

    query: Query
    rv: int = 0
    uids: int = 0
    server: dict[tuple[str, str], KubeObject] = field(default_factory=dict)
    pending: list[tuple[str, KubeObject]] = field(default_factory=list)  # this query's undelivered events
    sent: list[tuple[str, KubeObject]] = field(default_factory=list)  # delivered events, for replays
    delivered: dict[tuple[str, str], KubeObject] = field(default_factory=dict)  # the watch's truth so far
    progress: int = 0
    # key -> (rv of our latest write, what it makes the query show, whether a per-step promise holds)
    claims: dict[tuple[str, str], tuple[int, KubeObject | None, bool]] = field(default_factory=dict)
    consumed: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # key -> (rv, uid)

    def in_scope(self, obj: KubeObject | None) -> bool:
        if obj is None:
            return False
        meta = obj["metadata"]
        if self.query.namespace is not None and meta["namespace"] != self.query.namespace:
            return False
        return self.query.label_selector is None or (meta.get("labels") or {}).get("tier") == "x"

    def scoped_server(self) -> dict[tuple[str, str], KubeObject]:
        return {k: o for k, o in self.server.items() if self.in_scope(o)}

    def expected(self, key: tuple[str, str]) -> tuple[bool, KubeObject | None]:
        claim = self.claims.get(key)
        if claim is not None and self.progress < claim[0]:
            return claim[2], claim[1]
        return True, self.delivered.get(key)


def _server_op(data: st.DataObject, w: World, acc: Accumulator, local: bool) -> None:
    key = data.draw(st.sampled_from(KEYS), label="key")
    prev = w.server.get(key)
    if prev is None:
        op = "create"
    else:
        op = data.draw(st.sampled_from(["update", "update", "delete"]), label="op")
    w.rv += data.draw(st.integers(1, 3), label="rv step")  # other resources' writes leave gaps
    tier = data.draw(st.sampled_from(["x", "y"]), label="tier")
    new: KubeObject | None
    if op == "create":
        w.uids += 1
        new = cm(key[1], w.rv, ns=key[0], uid=f"u{w.uids}", labels={"tier": tier}, data={"v": str(w.rv)})
        sent = new
    elif op == "update":
        assert prev is not None
        new = copy.deepcopy(prev)
        new["metadata"]["resourceVersion"] = str(w.rv)
        new["metadata"]["labels"] = {"tier": tier}
        new["data"] = {"v": str(w.rv)}
        sent = new
    else:
        assert prev is not None
        new = None
        sent = copy.deepcopy(prev)  # a delete is reported with the object as last stored, at the delete's rv
        sent["metadata"]["resourceVersion"] = str(w.rv)
    if new is None:
        del w.server[key]
    else:
        w.server[key] = new

    was_in, now_in = w.in_scope(prev), w.in_scope(new)
    if now_in:
        w.pending.append(("MODIFIED" if was_in else "ADDED", copy.deepcopy(sent)))
    elif was_in:
        w.pending.append(("DELETED", copy.deepcopy(sent)))

    if not local:
        return
    state = acc.states["q"]
    if op == "delete":
        status_only = data.draw(st.booleans(), label="delete answered by a Status")
        # a Status answer names the object and its uid (StatusDetails) but carries no resourceVersion
        status = {"metadata": {"name": key[1], "namespace": key[0], "uid": sent["metadata"]["uid"]}}
        written = status if status_only else copy.deepcopy(sent)
        verb = "delete"
    else:
        status_only = False
        written = copy.deepcopy(sent)
        verb = op if op == "create" else data.draw(st.sampled_from(["update", "patch", "update_status"]), label="verb")
    before = copy.deepcopy(state.overlay)
    acc.record_write(verb, "", "configmaps", written)
    if w.query.namespace is not None and key[0] != w.query.namespace:
        assert state.overlay == before  # another namespace: not recorded
        return
    if verb == "delete":
        w.claims[key] = (w.rv, None, not status_only)  # a Status-only delete has no rv: no per-step promise
    elif now_in:
        w.claims[key] = (w.rv, copy.deepcopy(sent), True)
    elif op != "create" or key in state.overlay:
        w.claims[key] = (w.rv, None, True)  # moved out of (or written outside) the query's scope: masked
    else:
        assert state.overlay == before  # created outside the query's scope: not recorded


def _deliver(w: World, acc: Accumulator) -> None:
    etype, obj = w.pending.pop(0)
    acc.event("q", etype, make_entry(copy.deepcopy(obj)))
    w.sent.append((etype, obj))
    key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
    if etype == "DELETED":
        w.delivered.pop(key, None)
    else:
        w.delivered[key] = obj
    w.progress = int(obj["metadata"]["resourceVersion"])


def _check(w: World, acc: Accumulator) -> None:
    state = acc.states["q"]
    view = state.view()
    for key in set(KEYS) | set(view):
        promised, expected = w.expected(key)
        if promised:
            assert _summary(view[key].obj if key in view else None) == _summary(expected), key
    # memory stays bounded: every comparable overlay is ahead of the stream's progress
    for key, o in state.overlay.items():
        if o.rv:
            assert int(o.rv) > w.progress, (key, o.rv, w.progress)
    assert orjson.loads(state.json_bytes()) == state.objects()
    # no lost notification: a view that differs from the last consumed snapshot is always signalled
    if {k: (e.rv, e.uid) for k, e in view.items()} != w.consumed:
        assert acc.wait(0) is True


def _consume(w: World, acc: Accumulator, first: bool = False) -> None:
    snap: dict[str, list[KubeObject]] = {}
    changed, deltas = acc.update_with_deltas(snap)
    state = acc.states["q"]
    now = {k: (e.rv, e.uid) for k, e in state.view().items()}
    assert changed == (first or now != w.consumed)
    assert acc.wait(0) is False
    adds = [(d.namespace, d.name) for d in deltas if d.type == "add"]
    dels = [(d.namespace, d.name) for d in deltas if d.type == "delete"]
    upds = [(d.namespace, d.name) for d in deltas if d.type == "update"]
    replaced = {k for k in set(now) & set(w.consumed) if now[k][1] != w.consumed[k][1]}  # another uid
    assert sorted(adds) == sorted((set(now) - set(w.consumed)) | replaced)
    assert sorted(dels) == sorted((set(w.consumed) - set(now)) | replaced)
    assert sorted(upds) == sorted(
        k for k in set(now) & set(w.consumed) if now[k] != w.consumed[k] and k not in replaced
    )
    if changed:
        assert [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in snap["q"]] == sorted(now)
    w.consumed = now


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), query=st.sampled_from(QUERIES), steps=st.integers(5, 60))
def test_random_history_converges_and_never_rolls_back_local_writes(
    data: st.DataObject, query: Query, steps: int
) -> None:
    """(a) Once every event is delivered and a bookmark reaches the last rv, the view is the server's state and no
    overlay is left. (b) At every step, each key shows exactly our latest local write while the watch has not
    reached its rv (so never a version older than it), and exactly what the watch delivered otherwise; replayed
    older events change nothing. Also: deltas match the views, notifications are never lost, bytes match objects."""
    w = World(query)
    state = QueryState(query, "", "configmaps", "v1", "ConfigMap")
    acc = Accumulator([state])

    for key in data.draw(st.lists(st.sampled_from(KEYS), unique=True, max_size=4), label="initial objects"):
        w.rv += 1
        w.uids += 1
        tier = data.draw(st.sampled_from(["x", "y"]), label="tier")
        w.server[key] = cm(key[1], w.rv, ns=key[0], uid=f"u{w.uids}", labels={"tier": tier}, data={"v": str(w.rv)})
    w.rv += 1
    acc.replace("q", [make_entry(copy.deepcopy(o)) for o in w.scoped_server().values()], str(w.rv))
    w.delivered = copy.deepcopy(w.scoped_server())
    w.progress = w.rv
    assert acc.wait(0) is True
    _consume(w, acc, first=True)

    for _ in range(steps):
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        if action in ("server", "local"):
            _server_op(data, w, acc, local=action == "local")
        elif action == "deliver" and w.pending:
            _deliver(w, acc)
        elif action == "replay" and w.sent:
            etype, obj = data.draw(st.sampled_from(w.sent), label="replayed event")
            acc.event("q", etype, make_entry(copy.deepcopy(obj)))
        elif action == "bookmark":
            # a bookmark may report any rv up to (not including) the next undelivered event
            limit = int(w.pending[0][1]["metadata"]["resourceVersion"]) - 1 if w.pending else w.rv
            rv = data.draw(st.integers(w.progress, max(w.progress, limit)), label="bookmark rv")
            acc.bookmark("q", str(rv))
            w.progress = max(w.progress, rv)
        elif action == "relist":
            acc.replace("q", [make_entry(copy.deepcopy(o)) for o in w.scoped_server().values()], str(w.rv))
            w.pending.clear()
            w.delivered = copy.deepcopy(w.scoped_server())
            w.progress = w.rv
        elif action == "consume":
            _consume(w, acc)
        _check(w, acc)

    while w.pending:
        _deliver(w, acc)
        _check(w, acc)
    acc.bookmark("q", str(w.rv))
    w.progress = w.rv
    _check(w, acc)
    assert {k: _summary(e.obj) for k, e in state.view().items()} == {
        k: _summary(o) for k, o in w.scoped_server().items()
    }
    assert state.overlay == {}
    _consume(w, acc)


def test_an_older_write_report_does_not_replace_a_newer_pending_write() -> None:
    from kates_cli.core.accumulator import Query, QueryState

    state = QueryState(Query("q", "cm", "ns"), "", "configmaps", "v1", "ConfigMap")
    state.replace([], "1")

    def obj(rv: str, value: str) -> dict[str, object]:
        return {"metadata": {"name": "a", "namespace": "ns", "uid": "u", "resourceVersion": rv}, "data": {"v": value}}

    state.record_write("update", obj("9", "new"))
    state.record_write("update", obj("7", "old"))  # reported late, e.g. by another hook process
    assert state.objects() == [obj("9", "new")]


def test_an_object_nested_past_orjsons_limits_gets_canonical_bytes() -> None:
    """A custom object 600 levels deep (the API server serves such) is held like any other: sorted keys, Go's
    escapes, and the bytes read back to the same object."""
    from kates_cli.core import deepjson
    from kates_cli.core.accumulator import canonical_json, make_entry

    deep: dict[str, object] = {"z": "<&>", "a": 1}
    for _ in range(600):
        deep = {"b": deep, "a": [1]}
    obj = {"metadata": {"name": "deep", "namespace": "ns", "resourceVersion": "5"}, "spec": deep}
    entry = make_entry(obj)
    assert entry.raw == canonical_json(obj)
    assert entry.raw.startswith(
        b'{"metadata":{"name":"deep","namespace":"ns","resourceVersion":"5"},"spec":{"a":[1],"b":'
    )
    assert b'"a":1,"z":"\\u003c\\u0026\\u003e"' in entry.raw
    assert deepjson.loads(entry.raw) == obj


def test_filtered_update_with_deltas_reports_every_change_kept_or_not() -> None:
    """Go's FilteredUpdate fills its deltas with every change, whatever the predicate says of the object."""
    acc = Accumulator([new_state("q")])
    acc.replace("q", [ent("a", 3, status={"ready": True}), ent("b", 4)], "5")
    snap: dict[str, list[KubeObject]] = {}
    changed, deltas = acc.filtered_update_with_deltas(snap, _ready)
    assert changed is True and [(d.type, d.name) for d in deltas] == [("add", "a"), ("add", "b")]
    acc.event("q", "MODIFIED", ent("b", 6, data={"changed": "yes"}))
    changed, deltas = acc.filtered_update_with_deltas(snap, _ready)
    assert changed is False and [(d.type, d.name) for d in deltas] == [("update", "b")]
    assert names(snap["q"]) == ["a"]
    acc.event("q", "DELETED", ent("a", 7, status={"ready": True}))
    changed, deltas = acc.filtered_update_with_deltas(snap, _ready)
    assert changed is True and [(d.type, d.name) for d in deltas] == [("delete", "a")]
    assert snap["q"] == []
