"""merge_update, owner references and by_name: Go kates's manifests.go helpers, on plain dicts."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kates_cli import by_name, has_owner_reference, merge_update, owner_reference, set_owner_references
from kates_cli.errors import UsageError


def stored() -> dict[str, Any]:
    return {
        "apiVersion": "vtest",
        "kind": "Foo",
        "metadata": {
            "name": "foo",
            "namespace": "default",
            "resourceVersion": "1234",
            "uid": "u-1",
            "labels": {"foo": "bar"},
            "annotations": {"moo": "arf"},
            "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "old"}],
        },
        "spec": {"foo": "bar"},
        "status": {"ready": True},
    }


def test_merge_update_as_go_test_merge_update() -> None:
    """Go's TestMergeUpdate: labels and annotations merged, spec replaced; identity and version kept."""
    target = stored()
    source = {
        "apiVersion": "vtest",
        "kind": "Foo",
        "metadata": {"labels": {"foo": "bar", "moo": "arf"}, "annotations": {"foo": "bar", "moo": "arf"}},
        "spec": {"key": "value"},
    }
    assert merge_update(target, source) is target
    meta = target["metadata"]
    assert meta["labels"] == {"foo": "bar", "moo": "arf"}
    assert meta["annotations"] == {"foo": "bar", "moo": "arf"}
    assert target["spec"] == {"key": "value"}
    assert (meta["name"], meta["namespace"], meta["resourceVersion"], meta["uid"]) == ("foo", "default", "1234", "u-1")
    assert target["status"] == {"ready": True}  # status is never the source's
    assert "ownerReferences" not in meta  # the source's (none) replace the target's, as in Go


def test_merge_update_source_wins_a_shared_label_and_is_not_aliased() -> None:
    target = stored()
    source = {"metadata": {"labels": {"foo": "new"}, "ownerReferences": [{"uid": "o"}]}, "spec": {"l": [1]}}
    before = copy.deepcopy(source)
    merge_update(target, source)
    assert target["metadata"]["labels"] == {"foo": "new"}
    assert target["metadata"]["ownerReferences"] == [{"uid": "o"}]
    target["spec"]["l"].append(2)
    target["metadata"]["ownerReferences"].append({"uid": "p"})
    assert source == before


def test_merge_update_without_spec_in_source_removes_it() -> None:
    target = stored()
    merge_update(target, {"metadata": {}})
    assert "spec" not in target
    assert target["metadata"]["labels"] == {"foo": "bar"}


def test_merge_update_replaces_every_content_field_not_only_spec() -> None:
    """Kates differs from Go on purpose: a ConfigMap's data (not in spec) is the source's too."""
    target = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "resourceVersion": "7"},
        "data": {"a": "1", "b": "2"},
        "binaryData": {"x": "AA=="},
    }
    merge_update(target, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "9"}})
    assert target == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "resourceVersion": "7"},
                      "data": {"a": "9"}}  # fmt: skip


def owner() -> dict[str, Any]:
    return {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "uid": "uid-w"}}


def test_set_owner_references_adds_a_controller_ref_once() -> None:
    a = {"metadata": {"name": "a"}}
    b = {"metadata": {"name": "b", "ownerReferences": [{"apiVersion": "v1", "kind": "X", "name": "x", "uid": "u"}]}}
    set_owner_references(owner(), a, b)
    set_owner_references(owner(), a, b)  # a second reconcile adds nothing
    expected = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "name": "w",
        "uid": "uid-w",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert a["metadata"]["ownerReferences"] == [expected]
    assert b["metadata"]["ownerReferences"][1:] == [expected]
    assert has_owner_reference(owner(), a) and has_owner_reference(owner(), b)


def test_has_owner_reference_matches_by_uid_only() -> None:
    obj = {"metadata": {"ownerReferences": [{"apiVersion": "v9", "kind": "Other", "name": "zz", "uid": "uid-w"}]}}
    assert has_owner_reference(owner(), obj)
    assert not has_owner_reference(owner(), {"metadata": {"ownerReferences": [{"name": "w", "uid": "elsewhere"}]}})
    assert not has_owner_reference({"metadata": {"name": "w"}}, obj)  # an owner without uid owns nothing
    assert not has_owner_reference(owner(), {})


def test_owner_without_uid_is_refused() -> None:
    with pytest.raises(UsageError, match="cannot reference an owner without uid"):
        set_owner_references({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}, {})


def test_plain_owner_reference() -> None:
    assert owner_reference(owner(), controller=False)["controller"] is False


def test_by_name_last_of_a_name_wins() -> None:
    one = {"metadata": {"name": "x", "namespace": "a"}}
    two = {"metadata": {"name": "y", "namespace": "a"}}
    three = {"metadata": {"name": "x", "namespace": "b"}}
    got = by_name([one, two, three])
    assert list(got) == ["x", "y"]
    assert got["x"] is three and got["y"] is two
    assert by_name([]) == {}
