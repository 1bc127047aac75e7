"""A query over several namespaces (`ns=a,b`): one stream per namespace into one QueryState (core/accumulator.py)."""

from __future__ import annotations

from kates_cli.core.accumulator import Accumulator, KubeObject, namespaces_of
from kates_cli.core.selection import Selection, covers
from tests.unit.test_accumulator import cm, ent, new_state, visible


def test_namespaces_are_sorted_and_deduplicated() -> None:
    assert namespaces_of(new_state(namespace="b,a,b").query) == ["a", "b"]
    assert namespaces_of(new_state(namespace="a").query) == ["a"]
    assert namespaces_of(new_state(namespace=None).query) is None


def test_synced_only_once_every_namespace_listed_and_a_relist_replaces_its_own_namespace_only() -> None:
    s = new_state(namespace="a,b")
    s.replace([ent("x", 5, ns="a")], "5", "a")
    assert not s.synced
    s.replace([ent("y", 6, ns="b")], "6", "b")
    assert s.synced
    assert visible(s) == {("a", "x"): "5", ("b", "y"): "6"}
    s.replace([ent("z", 9, ns="b")], "9", "b")  # b relists: a's objects stay
    assert visible(s) == {("a", "x"): "5", ("b", "z"): "9"}
    assert [o["metadata"]["name"] for o in s.objects()] == ["x", "z"]  # (namespace, name) order


def test_an_object_of_a_third_namespace_is_out_of_scope() -> None:
    s = new_state(namespace="a,b")
    s.replace([], "5", "a")
    s.replace([], "5", "b")
    assert s.record_write("create", cm("w", 7, ns="c")) is False
    assert s.record_write("create", cm("w", 7, ns="b")) is True
    assert visible(s) == {("b", "w"): "7"}


def test_an_overlay_is_retired_by_its_own_namespaces_progress_only() -> None:
    s = new_state(namespace="a,b")
    s.replace([], "5", "a")
    s.replace([], "5", "b")
    s.record_write("create", cm("mine", 9, ns="b"))
    s.apply("ADDED", ent("other", 12, ns="a"))  # a's stream is past 9; b's is not: the overlay stays
    s.bookmark("11", "a")
    assert set(s.overlay) == {("b", "mine")}
    assert visible(s) == {("a", "other"): "12", ("b", "mine"): "9"}
    s.bookmark("9", "b")
    assert s.overlay == {}


def test_a_late_event_is_judged_by_its_own_namespaces_progress() -> None:
    s = new_state(namespace="a,b")
    s.replace([], "20", "a")
    s.replace([], "5", "b")
    assert s.apply("ADDED", ent("late", 10, ns="b")) is True  # b has delivered only up to 5
    assert s.apply("ADDED", ent("old", 10, ns="a")) is False  # a is past 10 already: a replay


def test_the_accumulator_takes_the_namespace_from_each_feed() -> None:
    s = new_state("q", namespace="a,b")
    acc = Accumulator([s])
    acc.replace("q", [ent("x", 5, ns="a")], "5", "a")
    assert not acc.wait(0)  # the bootstrap barrier: b has not listed
    acc.replace("q", [], "5", "b")
    snap: dict[str, list[KubeObject]] = {}
    assert acc.update(snap) and [o["metadata"]["namespace"] for o in snap["q"]] == ["a"]


def test_covers_a_read_in_one_of_its_namespaces_never_across_all() -> None:
    s = new_state(namespace="a,b")
    assert covers(s, Selection("", "configmaps", "a", None))
    assert covers(s, Selection("", "configmaps", "b", "x"))
    assert not covers(s, Selection("", "configmaps", "c", None))
    assert not covers(s, Selection("", "configmaps", None, None))
