"""core/selection.py: which watched view answers a read, and what it answers (pure logic)."""

from __future__ import annotations

import pytest

from kates_cli.core.accumulator import Query, QueryState, make_entry
from kates_cli.core.selection import Selection, covers, select


def state(namespace=None, labels=None, fields=None, group="", resource="secrets"):
    s = QueryState(Query("q", "secret", namespace, labels, fields), group, resource, "v1", "Secret")
    return s


def obj(ns, name, **labels):
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"namespace": ns, "name": name, "labels": labels}}


def view(*objs):
    return {(o["metadata"]["namespace"], o["metadata"]["name"]): make_entry(o) for o in objs}


def test_normal_turns_a_lone_name_field_selector_into_a_read_by_name():
    a = Selection("", "secrets", "app", field_selector="metadata.name=db").normal()
    b = Selection("", "secrets", "app", name="db").normal()
    assert a == b and a.name == "db" and a.field_selector is None
    assert Selection("", "secrets", "app", field_selector="metadata.name==db").normal() == b
    kept = Selection("", "secrets", "app", label_selector="x", field_selector="metadata.name=db").normal()
    assert kept.name is None and kept.field_selector == "metadata.name=db"
    assert Selection("", "secrets", "app", label_selector="", field_selector="").normal().label_selector is None


def test_watch_field_selector_of_a_name():
    assert Selection("", "secrets", "app", name="db").watch_field_selector == "metadata.name=db"
    assert Selection("", "secrets", "app").watch_field_selector is None


@pytest.mark.parametrize(
    ("query", "sel", "expected"),
    [
        (state(), Selection("", "secrets", "app", name="db"), True),
        (state("app"), Selection("", "secrets", "app", name="db"), True),
        (state("other"), Selection("", "secrets", "app", name="db"), False),
        (state("app"), Selection("", "secrets", None), False),  # all namespaces from one namespace's view
        (state(), Selection("", "secrets", None, label_selector="a=b"), True),
        (state(labels="a=b"), Selection("", "secrets", "app", name="db"), False),  # it may exist outside the scope
        (state(labels="a=b"), Selection("", "secrets", "app", label_selector="a=b"), True),
        (state(labels="a=b"), Selection("", "secrets", "app", label_selector="a=b,c"), False),
        (state(fields="metadata.name=db"), Selection("", "secrets", "app", name="db"), True),
        (state(fields="metadata.name=db"), Selection("", "secrets", "app", name="web"), False),
        (state(), Selection("", "secrets", "app", field_selector="type=Opaque"), False),  # the server's field
        (state(), Selection("", "secrets", "app", field_selector="metadata.namespace!=x"), True),
        (state(group="apps"), Selection("", "secrets", "app", name="db"), False),
        (state(resource="configmaps"), Selection("", "secrets", "app", name="db"), False),
    ],
)
def test_covers(query, sel, expected):
    assert covers(query, sel) is expected


def test_covers_nothing_before_the_kind_is_resolved():
    assert not covers(state(resource=""), Selection("", "", "app", name="db"))


def test_select_by_name_list_and_selectors():
    v = view(obj("app", "web", tier="front"), obj("app", "db", tier="back"), obj("other", "db", tier="back"))
    names = lambda entries: [e.key for e in entries]  # noqa: E731
    assert names(select(v, Selection("", "secrets", "app", name="db"))) == [("app", "db")]
    assert names(select(v, Selection("", "secrets", "app", name="nope"))) == []
    assert names(select(v, Selection("", "secrets", "app"))) == [("app", "db"), ("app", "web")]
    assert names(select(v, Selection("", "secrets", None, label_selector="tier=back"))) == [
        ("app", "db"),
        ("other", "db"),
    ]
    assert names(select(v, Selection("", "secrets", None, field_selector="metadata.namespace=other"))) == [
        ("other", "db")
    ]
    assert names(select(v, Selection("", "secrets", None, name="db"))) == [("app", "db"), ("other", "db")]


def test_describe():
    assert Selection("", "secrets", "app", name="db").describe() == "secrets app/db"
    assert Selection("apps", "deployments", "app", label_selector="a=b").describe() == "deployments.apps in app (l=a=b)"
    assert Selection("", "nodes").describe() == "nodes"
