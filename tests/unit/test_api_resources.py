"""`api-resources` selection, order and documents over a discovery document recorded from the 1.37 API server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kates_cli.cli.info import preferred, resource_list, select, sort_resources, table_rows
from kates_cli.core.mapping import ResourceRef, parse_discovery
from kates_cli.errors import UsageError

DATA = Path(__file__).parent / "data" / "discovery-v1.37.json"


@pytest.fixture(scope="module")
def refs() -> list[ResourceRef]:
    doc = json.loads(DATA.read_text())
    return preferred(parse_discovery(doc["api"], doc["apis"]))


def names(refs: list[ResourceRef]) -> list[str]:
    return [r.group_resource for r in refs]


def test_one_preferred_version_per_resource(refs: list[ResourceRef]) -> None:
    hpas = [r for r in refs if r.resource == "horizontalpodautoscalers"]
    assert [r.api_version for r in hpas] == ["autoscaling/v2"]
    assert len(names(refs)) == len(set(names(refs)))


def test_default_order_is_group_then_name_and_sort_by_is_stable(refs: list[ResourceRef]) -> None:
    by_group = sort_resources(refs, None)
    assert [(r.group, r.resource) for r in by_group] == sorted((r.group, r.resource) for r in refs)
    by_name = sort_resources(refs, "name")
    # events are in core and events.k8s.io: equal names keep discovery order (core first), as Go's sort.Stable
    events = [r.group for r in by_name if r.resource == "events"]
    assert events == ["", "events.k8s.io"]
    assert [r.resource for r in by_name] == sorted(r.resource for r in refs)
    by_kind = sort_resources(refs, "kind")
    assert [(r.kind, r.resource) for r in by_kind] == sorted((r.kind, r.resource) for r in refs)
    with pytest.raises(UsageError, match="--sort-by accepts only name or kind"):
        sort_resources(refs, "group")


def test_filters_need_every_verb_and_category(refs: list[ResourceRef]) -> None:
    all_cat = select(refs, categories=["all"])
    assert "horizontalpodautoscalers.autoscaling" in names(all_cat) and "configmaps" not in names(all_cat)
    assert select(refs, categories=["all", "nope"]) == []
    cluster_watchable = select(refs, verbs=["list", "watch"], namespaced=False)
    assert "namespaces" in names(cluster_watchable) and "componentstatuses" not in names(cluster_watchable)
    assert all(not r.namespaced for r in cluster_watchable)
    create_only = select(refs, verbs=["create"], api_group="")
    assert "bindings" in names(create_only) and all(r.group == "" for r in create_only)
    assert select(refs, verbs=["frob"]) == []


def test_wide_rows_print_verbs_comma_joined_as_kubectl(refs: list[ResourceRef]) -> None:
    rows = table_rows(select(refs, api_group="", verbs=["create"]), wide=True, no_headers=False)
    assert rows[0] == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND", "VERBS", "CATEGORIES"]
    pods = next(row for row in rows if row[0] == "pods")
    assert pods == [
        "pods",
        "po",
        "v1",
        "true",
        "Pod",
        "create,delete,deletecollection,get,list,patch,update,watch",
        "all",
    ]
    assert table_rows([], wide=False, no_headers=True) == []


def test_resource_list_is_kubectls_document(refs: list[ResourceRef]) -> None:
    doc = resource_list(select(refs, api_group="apps", categories=["all"])[:1] + select(refs, verbs=["create"])[:1])
    assert list(doc) == ["kind", "apiVersion", "groupVersion", "resources"]
    daemonsets, bindings = doc["resources"]
    assert list(daemonsets) == [
        "name",
        "singularName",
        "namespaced",
        "group",
        "version",
        "kind",
        "verbs",
        "shortNames",
        "categories",
    ]
    assert daemonsets["shortNames"] == ["ds"] and daemonsets["categories"] == ["all"]
    # the core group, empty short names and categories are left out (Go's omitempty)
    assert list(bindings) == ["name", "singularName", "namespaced", "version", "kind", "verbs"]
    assert resource_list([])["resources"] is None
