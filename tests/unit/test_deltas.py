"""Deltas: net change since the last commit, one per object, a changed UID as delete + add; and canonical bytes
whatever path an object came by (watch event, list page, a write's answer, a hook's report)."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from kates_cli.core.accumulator import Accumulator, Query, QueryState, canonical_json, make_entry
from kates_cli.core.deltas import Change, Delta, NetChanges, diff

KubeObject = dict[str, Any]


def ch(before: tuple[str, str] | None, after: tuple[str, str] | None, name: str = "a", query: str = "q") -> Change:
    return Change(query, "v1", "ConfigMap", ("ns", name), before, after)


def types(net: NetChanges) -> list[tuple[str, str]]:
    deltas = net.deltas()
    # the watcher's bytes (KATES_DELTAS, --output-deltas, --record) are these deltas' JSON, however they are made
    assert net.deltas_json() == (orjson.dumps([d.to_dict() for d in deltas]), len(deltas))
    return [(d.type, d.name) for d in deltas]


def test_net_change_rules() -> None:
    cases: list[tuple[list[Change], list[tuple[str, str]]]] = [
        ([ch(None, ("1", "u")), ch(("1", "u"), ("2", "u"))], [("add", "a")]),  # add then update = add
        ([ch(None, ("1", "u")), ch(("1", "u"), None)], []),  # add then delete = nothing
        ([ch(("1", "u"), ("2", "u")), ch(("2", "u"), None)], [("delete", "a")]),  # update then delete = delete
        ([ch(("1", "u"), None), ch(None, ("3", "u"))], [("update", "a")]),  # delete, add with the same uid
        ([ch(("1", "u"), None), ch(None, ("3", "v"))], [("delete", "a"), ("add", "a")]),  # with another uid
        ([ch(("1", "u"), ("2", "u")), ch(("2", "u"), ("3", "u"))], [("update", "a")]),  # update twice: once
        ([ch(("1", "u"), ("2", "v"))], [("delete", "a"), ("add", "a")]),  # one step, uid changed
    ]
    for changes, expected in cases:
        net = NetChanges(["q"])
        net.add(changes)
        assert types(net) == expected, changes


def test_changes_fold_until_commit_and_then_start_afresh() -> None:
    net = NetChanges(["q"])
    net.add([ch(None, ("1", "u"))])
    assert types(net) == [("add", "a")]
    net.add([ch(("1", "u"), ("2", "u"))])  # a failed run: the add is carried, not repeated
    assert types(net) == [("add", "a")]
    net.commit()
    assert types(net) == []
    net.add([ch(("2", "u"), ("3", "u"))])
    assert types(net) == [("update", "a")]


def test_deltas_are_ordered_by_query_then_namespace_and_name() -> None:
    net = NetChanges(["second", "first"])
    net.add([ch(None, ("1", "u"), "b", "first"), ch(None, ("1", "u"), "z", "second")])
    net.add([ch(("1", "x"), ("2", "y"), "a", "first"), ch(None, ("1", "u"), "a", "second")])
    assert [(d.query, d.type, d.name) for d in net.deltas()] == [
        ("second", "add", "a"),
        ("second", "add", "z"),
        ("first", "delete", "a"),
        ("first", "add", "a"),
        ("first", "add", "b"),
    ]
    assert net.deltas()[0] == Delta("add", "second", "v1", "ConfigMap", "ns", "a")


# -- canonical bytes -----------------------------------------------------------------------------------------------

_text = st.text(alphabet=st.sampled_from(list("ab<>&'\"\\/ é\u2028\u2029\x00\x1f\U0001f600")), max_size=8)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
)
_json = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_text, inner, max_size=4)),
    max_leaves=12,
)


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    return value


def _go_encoding(value: Any) -> bytes:
    """As the API server sends it: Go's encoding/json escapes <, >, &, U+2028 and U+2029."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    for char, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, esc)
    return text.encode()


@settings(max_examples=300, deadline=None)
@given(data=_json, extra=st.dictionaries(_text, _json, max_size=3), seed=st.integers(0, 2**32))
def test_equal_states_give_equal_bytes_whether_watched_or_written(data: Any, extra: dict[str, Any], seed: int) -> None:
    obj: KubeObject = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "a", "namespace": "default", "resourceVersion": "20", "uid": "u1", **extra},
        "data": data,
    }
    rng = random.Random(seed)
    # the watch path: the server's bytes (Go escaping, its key order), parsed by kates
    watched = orjson.loads(_go_encoding(_shuffled(obj, rng)))
    # the write path: the object as a write's answer or a hook's report carries it (Python's escaping, another order)
    written = orjson.loads(json.dumps(_shuffled(obj, rng), ensure_ascii=True).encode())

    via_watch = QueryState(Query("q", "cm"), "", "configmaps", "v1", "ConfigMap")
    via_watch.replace([], "10")
    via_watch.apply("ADDED", make_entry(watched))
    via_write = QueryState(Query("q", "cm"), "", "configmaps", "v1", "ConfigMap")
    via_write.replace([], "10")
    assert via_write.record_write("create", written)
    assert via_watch.json_bytes() == via_write.json_bytes()
    assert canonical_json(watched) == canonical_json(written)
    assert orjson.loads(via_watch.json_bytes()) == [orjson.loads(orjson.dumps(obj))]


def test_a_write_then_its_watch_event_leave_the_snapshot_bytes_unchanged() -> None:
    obj: KubeObject = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"name": "a", "namespace": "default", "resourceVersion": "11", "uid": "u1"},
        "data": {"html": "<b>&amp;</b>"},
    }
    acc = Accumulator([QueryState(Query("q", "cm"), "", "configmaps", "v1", "ConfigMap")])
    acc.replace("q", [], "10")
    acc.snapshot_json()
    acc.record_write("create", "", "configmaps", json.loads(json.dumps(obj)))  # the hook's report
    _, after_write, _ = acc.snapshot_json()
    acc.event("q", "ADDED", make_entry(orjson.loads(_go_encoding(obj))))  # the watch delivers the same state
    changed, after_watch, deltas = acc.snapshot_json()
    assert (changed, deltas) == (False, [])
    assert after_watch == after_write
    assert b"\\u003cb\\u003e\\u0026amp;\\u003c/b\\u003e" in after_write


def test_deltas_made_by_the_fast_path_are_the_librarys_frozen_dataclass() -> None:
    """`Delta` is public: kates's own (made without the frozen __init__) equal, hash, freeze and serialise as one
    made by hand."""
    import dataclasses

    import orjson
    import pytest

    made = ch(None, ("1", "u")).deltas()[0]
    by_hand = Delta("add", "q", "v1", "ConfigMap", "ns", "a")
    assert made == by_hand and hash(made) == hash(by_hand) and made != tuple(dataclasses.astuple(by_hand))
    assert dataclasses.asdict(made) == dataclasses.asdict(by_hand)
    assert orjson.loads(orjson.dumps(made))["api_version"] == "v1"
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "b"  # type: ignore[misc]


_version = st.none() | st.tuples(st.sampled_from(["1", "2", "3"]), st.sampled_from(["u", "v", ""]))


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.lists(
            st.tuples(
                st.sampled_from(["q1", "q2", "dependency"]), st.sampled_from(["a", "b", "c"]), _version, _version
            ),
            max_size=6,
        ),
        max_size=4,
    )
)
def test_the_deltas_json_is_the_deltas_whatever_the_changes(takes: list[list[Any]]) -> None:
    net = NetChanges(["q2", "q1"])
    for take in takes:
        net.add(
            [
                Change(q, "v1", "ConfigMap", ("ns", name), b, a, "dep-x" if q == "dependency" else "")
                for q, name, b, a in take
            ]
        )
        types(net)  # asserts deltas_json against deltas


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.dictionaries(st.tuples(st.sampled_from(["", "ns"]), st.sampled_from("abcd")), _version.filter(bool)),
    st.dictionaries(st.tuples(st.sampled_from(["", "ns"]), st.sampled_from("abcd")), _version.filter(bool)),
)
def test_diff_is_every_key_whose_version_differs_in_key_order(before: dict[Any, Any], after: dict[Any, Any]) -> None:
    expected = [
        Change("q", "v1", "ConfigMap", k, before.get(k), after.get(k), "src")
        for k in sorted(set(before) | set(after))
        if before.get(k) != after.get(k)
    ]
    got = diff("q", "v1", "ConfigMap", before, after, "src")
    assert got == expected and all(type(c) is Change and c.origin == "src" for c in got)
