"""Client-side label and field selectors, and KEP-5504 resourceVersion comparison."""

from __future__ import annotations

from typing import Any

import pytest

from kates_cli.core.selectors import FieldSelector, LabelSelector, compare_rv, parse_rv
from kates_cli.errors import UsageError

# -- label selectors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app=web", {"app": "db"}, False),
        ("app=web", {}, False),
        ("app=web", None, False),
        ("app==web", {"app": "web", "tier": "x"}, True),
        ("app==web", {"app": "webx"}, False),
        ("app!=web", {"app": "db"}, True),
        ("app!=web", {}, True),
        ("app!=web", {"app": "web"}, False),
        ("app=", {"app": ""}, True),
        ("app=", {"app": "web"}, False),
        ("app=", {}, False),
        ("env in (prod, staging)", {"env": "staging"}, True),
        ("env in (prod, staging)", {"env": "dev"}, False),
        ("env in (prod, staging)", {}, False),
        ("env in (prod)", {"env": "prod"}, True),
        ("env notin (prod,staging)", {"env": "dev"}, True),
        ("env notin (prod,staging)", {}, True),
        ("env notin (prod,staging)", {"env": "prod"}, False),
        ("app", {"app": ""}, True),
        ("app", {"other": "x"}, False),
        ("!app", {"other": "x"}, True),
        ("!app", {"app": "web"}, False),
        ("! app", {}, True),
        ("app.kubernetes.io/name=kates", {"app.kubernetes.io/name": "kates"}, True),
        ("app.kubernetes.io/name=kates", {"name": "kates"}, False),
        ("  app  =  web  ,  tier  ", {"app": "web", "tier": "be"}, True),
        ("app=Web", {"app": "web"}, False),  # values are case-sensitive
        ("App=web", {"app": "web"}, False),  # so are keys
    ],
)
def test_label_selector_operators(selector: str, labels: dict[str, str] | None, expected: bool) -> None:
    assert LabelSelector(selector).matches(labels) is expected


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"app": "web", "env": "prod", "tier": "fe"}, True),
        ({"app": "web", "env": "staging", "tier": "fe"}, True),
        ({"app": "web", "env": "dev", "tier": "fe"}, False),  # env not in the set
        ({"app": "web", "env": "prod"}, False),  # tier missing
        ({"app": "web", "env": "prod", "tier": "fe", "debug": "1"}, False),  # !debug
        ({"app": "web", "env": "prod", "tier": "fe", "zone": "b"}, False),  # zone notin (b, c)
        ({"app": "api", "env": "prod", "tier": "fe"}, False),
    ],
)
def test_label_selector_combines_requirements_with_commas_inside_parentheses(
    labels: dict[str, str], expected: bool
) -> None:
    sel = LabelSelector("app=web,env in (prod,staging),tier,!debug,zone notin (b, c)")
    assert [(r.key, r.op, r.values) for r in sel.reqs] == [
        ("app", "=", ("web",)),
        ("env", "in", ("prod", "staging")),
        ("tier", "exists", ()),
        ("debug", "!exists", ()),
        ("zone", "notin", ("b", "c")),
    ]
    assert sel.matches(labels) is expected


def test_equality_operators_are_normalised() -> None:
    assert [(r.op, r.values) for r in LabelSelector("a=1,b==2,c!=3").reqs] == [
        ("=", ("1",)),
        ("=", ("2",)),
        ("!=", ("3",)),
    ]


@pytest.mark.parametrize("selector", [None, "", "   ", ","])
def test_empty_label_selector_matches_everything(selector: str | None) -> None:
    sel = LabelSelector(selector)
    assert sel.reqs == []
    assert sel.matches({}) is True
    assert sel.matches({"any": "thing"}) is True
    assert sel.matches(None) is True


def test_set_operator_without_space_before_parenthesis_is_accepted() -> None:
    # the API server's lexer ends an identifier at "(", so "env in(prod)" is valid there
    assert LabelSelector("env in(prod,dev)").matches({"env": "dev"}) is True
    assert LabelSelector("env notin(prod)").matches({"env": "prod"}) is False


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("env in ()", {"env": ""}, True),  # the server reads "()" as the set {""}
        ("env in ()", {"env": "x"}, False),
        ("env in (x,)", {"env": ""}, True),  # and a trailing comma as one more empty value
        ("env notin (x,)", {"env": ""}, False),
    ],
)
def test_empty_members_of_a_value_set_are_empty_strings(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert LabelSelector(selector).matches(labels) is expected


@pytest.mark.parametrize(
    "selector",
    [
        "app=web=x",
        "!app=web",
        "!app in (a)",
        "env in (prod",
        "env in prod",
        "env in (a b)",
        "env in (a!)",
        "app=we b",
        "=web",
        "app=web)",
        "(app)",
        "app!",
        "app>",
        "app=web,env=(x)",
        "a b",
    ],
)
def test_malformed_label_selector_raises_usage_error_at_construction(selector: str) -> None:
    with pytest.raises(UsageError, match="invalid label selector") as info:
        LabelSelector(selector)
    assert selector in info.value.message


# -- field selectors -------------------------------------------------------------------------------------------

POD: dict[str, Any] = {
    "metadata": {"name": "web-1", "namespace": "prod"},
    "spec": {"nodeName": "n1", "hostNetwork": False, "priority": 0},
    "status": {"phase": "Running", "ready": True},
}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("metadata.name=web-1", True),
        ("metadata.name==web-1", True),
        ("metadata.name=web-2", False),
        ("metadata.name!=web-2", True),
        ("metadata.name!=web-1", False),
        ("metadata.namespace=prod,status.phase=Running", True),
        ("metadata.namespace=prod,status.phase!=Running", False),
        ("status.phase=Pending", False),
        ("status.ready=true", True),  # booleans compare as the server prints them
        ("status.ready=True", False),
        ("spec.hostNetwork=false", True),
        ("spec.hostNetwork!=false", False),
        ("spec.priority=0", True),
        ("spec.nodeName=", False),
        ("spec.schedulerName=", True),  # a missing field is the empty string
        ("spec.schedulerName!=default", True),
        ("status.phase.deeper=x", False),  # a path through a non-object is missing
        ("  metadata.name  =  web-1  ", True),
        ("metadata.name=Web-1", False),
    ],
)
def test_field_selector_on_dotted_paths(selector: str, expected: bool) -> None:
    assert FieldSelector(selector).matches(POD) is expected


@pytest.mark.parametrize("selector", [None, "", " , "])
def test_empty_field_selector_matches_everything(selector: str | None) -> None:
    sel = FieldSelector(selector)
    assert sel.reqs == []
    assert sel.matches({}) is True
    assert sel.matches(POD) is True


def test_field_selector_value_may_contain_operator_characters() -> None:
    sel = FieldSelector("metadata.name=a=b")
    assert [(r.key, r.op, r.values) for r in sel.reqs] == [("metadata.name", "=", ("a=b",))]
    assert sel.matches({"metadata": {"name": "a=b"}}) is True


@pytest.mark.parametrize("selector", ["metadata.name", "=web", "metadata name=web", "status.phase~Running", "!x"])
def test_malformed_field_selector_raises_usage_error_at_construction(selector: str) -> None:
    with pytest.raises(UsageError, match="invalid field selector") as info:
        FieldSelector(selector)
    assert selector in info.value.message


# -- resourceVersions (KEP-5504) -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rv", "expected"),
    [
        ("1", 1),
        ("10", 10),
        ("123456789012345678901234567890", 123456789012345678901234567890),
        ("0", None),
        ("01", None),
        ("00", None),
        ("", None),
        ("abc", None),
        ("12a", None),
        ("-1", None),
        ("+1", None),
        (" 1", None),
        ("1 ", None),
        ("1.0", None),
        ("\u0661\u0662", None),  # Arabic-Indic digits: str.isdigit() but not a decimal resourceVersion
        ("\u00b2", None),  # superscript two
        (None, None),
        (10, None),
    ],
)
def test_parse_rv_accepts_only_canonical_decimals(rv: object, expected: int | None) -> None:
    assert parse_rv(rv) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("10", "9", 1),
        ("9", "10", -1),
        ("10", "10", 0),
        ("100", "99", 1),  # numeric, not lexicographic
        ("2", "11", -1),
        ("0", "1", None),
        ("1", "0", None),
        ("01", "1", None),
        ("1", "01", None),
        ("", "1", None),
        ("abc", "abc", None),  # equal but incomparable
        ("abc", "1", None),
        (None, "1", None),
    ],
)
def test_compare_rv(a: object, b: object, expected: int | None) -> None:
    assert compare_rv(a, b) == expected
