"""server_resources / server_preferred_resources over a discovery document recorded from the 1.37 API server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kates_cli.core.apiresources import server_preferred_resources, server_resources

DATA = Path(__file__).parent / "data" / "discovery-v1.37.json"


@pytest.fixture(scope="module")
def docs() -> tuple[dict[str, Any], dict[str, Any]]:
    doc = json.loads(DATA.read_text())
    return doc["api"], doc["apis"]


def test_every_version_and_subresource_with_group_and_version_filled(docs: Any) -> None:
    resources = server_resources(*docs)
    deployments = [r for r in resources if r["name"].split("/")[0] == "deployments"]
    assert deployments == [
        {
            "name": "deployments",
            "singularName": "deployment",
            "namespaced": True,
            "group": "apps",
            "version": "v1",
            "kind": "Deployment",
            "verbs": ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
            "shortNames": ["deploy"],
            "categories": ["all"],
        },
        {  # a subresource returns what its responseKind says: another group's kind
            "name": "deployments/scale",
            "singularName": "deployment",
            "namespaced": True,
            "group": "autoscaling",
            "version": "v1",
            "kind": "Scale",
            "verbs": ["get", "patch", "update"],
        },
        {
            "name": "deployments/status",
            "singularName": "deployment",
            "namespaced": True,
            "group": "apps",
            "version": "v1",
            "kind": "Deployment",
            "verbs": ["get", "patch", "update"],
        },
    ]
    hpas = [(r["group"], r["version"]) for r in resources if r["name"] == "horizontalpodautoscalers"]
    assert hpas == [("autoscaling", "v2"), ("autoscaling", "v1")]
    assert resources[0]["group"] == "" and resources[0]["version"] == "v1"  # the core group comes first


def test_preferred_is_one_per_group_resource_without_subresources(docs: Any) -> None:
    preferred = server_preferred_resources(*docs)
    keys = [(r["group"], r["name"]) for r in preferred]
    assert len(keys) == len(set(keys))
    assert not [r for r in preferred if "/" in r["name"]]
    assert [r["version"] for r in preferred if r["name"] == "horizontalpodautoscalers"] == ["v2"]
    every = {(r["group"], r["name"]) for r in server_resources(*docs) if "/" not in r["name"]}
    assert set(keys) == every


def test_a_resource_only_in_a_later_version_is_kept_from_it() -> None:
    groups = {
        "items": [
            {
                "metadata": {"name": "g.io"},
                "versions": [
                    {"version": "v2", "resources": [{"resource": "as", "responseKind": {"kind": "A"}}]},
                    {
                        "version": "v1",
                        "resources": [
                            {"resource": "as", "responseKind": {"kind": "A"}},
                            {"resource": "bs", "responseKind": {"kind": "B"}},
                        ],
                    },
                    {"version": "v0", "freshness": "Stale", "resources": [{"resource": "cs"}]},
                ],
            }
        ]
    }
    preferred = server_preferred_resources({}, groups)
    assert [(r["version"], r["name"]) for r in preferred] == [("v2", "as"), ("v1", "bs")]
    assert [r["name"] for r in server_resources({}, groups)] == ["as", "as", "bs"]  # Stale versions left out
