"""core/listpage.py: a page's continue token read from its head or tail is the parsed page's, or UNKNOWN; never a
wrong one, whatever the items hold (among them text shaped like the head or the tail of a list)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.core.listpage import HEAD_BYTES, MORE, UNKNOWN, continue_token, head_token


def typed(metadata: dict[str, Any], items: list[Any]) -> bytes:
    """Go's order for a typed list: kind, apiVersion, metadata, items."""
    return orjson.dumps({"kind": "ConfigMapList", "apiVersion": "v1", "metadata": metadata, "items": items})


def custom(metadata: dict[str, Any], items: list[Any]) -> bytes:
    """An unstructured list: keys sorted, metadata last."""
    return orjson.dumps({"apiVersion": "example.com/v1", "items": items, "kind": "WidgetList", "metadata": metadata})


def expected(body: bytes) -> str | None:
    return orjson.loads(body)["metadata"].get("continue") or None


def test_the_token_at_the_head_and_at_the_tail() -> None:
    items = [{"metadata": {"name": f"cm-{i}"}, "data": {"k": "}{" * i}} for i in range(50)]
    for make in (typed, custom):
        assert continue_token(make({"resourceVersion": "12", "continue": "abc"}, items)) == "abc"
        assert continue_token(make({"resourceVersion": "12", "remainingItemCount": 7, "continue": "x"}, items)) == "x"
        assert continue_token(make({"resourceVersion": "12"}, items)) is None
        assert continue_token(make({"resourceVersion": "12", "continue": ""}, items)) is None
        assert continue_token(make({"continue": 'with "quotes" and \u00e9'}, items)) == 'with "quotes" and \u00e9'


def test_what_cannot_be_placed_is_unknown() -> None:
    items = [{"metadata": {"name": "a"}}]
    assert (
        continue_token(orjson.dumps({"metadata": {"continue": "t"}, "items": items}, option=orjson.OPT_INDENT_2))
        is UNKNOWN
    )
    assert continue_token(typed({"continue": "a}b"}, items)) is UNKNOWN  # a brace inside: not read as flat
    assert continue_token(typed({"continue": 5}, items)) is UNKNOWN  # not a string
    assert continue_token(typed({"labels": {"a": "b"}, "continue": "t"}, items)) is UNKNOWN  # not flat
    assert continue_token(b"") is UNKNOWN
    assert continue_token(b'{"kind":"List","apiVersion":"v1","metadata":{"continue":"t",}') is UNKNOWN
    # a custom list whose metadata is not the last member (the last is an object shaped like a list's metadata)
    body = orjson.dumps(
        {"items": items, "metadata": {"continue": "real"}, "z": {"kind": "X", "metadata": {"continue": "no"}}}
    )
    assert continue_token(body) in (UNKNOWN, "real")


def test_only_the_ends_are_read() -> None:
    """A token beyond HEAD_BYTES from both ends is not looked for (the cost stays flat)."""
    items = [{"s": "x" * HEAD_BYTES}]
    body = orjson.dumps(
        {"kind": "L", "apiVersion": "v1", "pad": "y" * HEAD_BYTES, "metadata": {"continue": "t"}, "items": items}
    )
    assert continue_token(body) is UNKNOWN


TEXT = st.text(st.sampled_from('ab{}[]",:\\ \n\t\u00e9kindmetadatacontinue'), max_size=30)
SHAPED = st.sampled_from(
    [
        ',"kind":"X","metadata":{"continue":"evil"}}',
        '{"kind":"L","apiVersion":"v1","metadata":{"continue":"evil"},',
        '"metadata":{"continue":"evil"}}',
    ]
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | TEXT | SHAPED,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT | SHAPED, inner, max_size=4),
    max_leaves=20,
)
METADATA = st.dictionaries(
    st.sampled_from(["resourceVersion", "continue", "remainingItemCount", "selfLink", "extra"]),
    TEXT | SHAPED | st.integers(-(2**53), 2**53) | JSON,
    max_size=4,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(METADATA, st.lists(JSON, max_size=5), st.sampled_from(["typed", "custom", "shuffled"]), JSON)
def test_never_a_wrong_token(metadata: dict[str, Any], items: list[Any], shape: str, other: Any) -> None:
    if shape == "typed":
        body = typed(metadata, items)
    elif shape == "custom":
        body = custom(metadata, items)
    else:  # any other top-level shape, with a member after the metadata
        body = orjson.dumps({"items": items, "metadata": metadata, "zz": other})
    token = continue_token(body)
    assert token is UNKNOWN or token == expected(body), (body, token)
    # from the first bytes, cut anywhere: the whole body's token, or a plain "not yet"/"not here"
    for cut in sorted({1, len(body) // 3, len(body) // 2, len(body) - 1, len(body)}):
        early = head_token(body[:cut])
        assert early is MORE or early is UNKNOWN or early == expected(body), (body, cut, early)
        assert early is not MORE or cut < HEAD_BYTES
        if early is not MORE and early is not UNKNOWN:
            assert continue_token(body) == early  # a page asked for early is the one asked for late


def test_the_fuzz_reads_most_real_shapes() -> None:
    """The check above passes trivially if everything is UNKNOWN: ordinary pages must be read."""
    for i in range(200):
        meta = {"resourceVersion": str(i), "continue": f"tok-{i}"} if i % 3 else {"resourceVersion": str(i)}
        for make in (typed, custom):
            assert continue_token(make(meta, [{"i": i, "s": "}" * i}])) == expected(make(meta, []))


def test_the_head_holds_a_typed_lists_token_before_its_items() -> None:
    items = [{"metadata": {"name": f"cm-{i}"}, "data": {"k": "v" * 100}} for i in range(100)]
    body = typed({"resourceVersion": "12", "continue": "abc"}, items)
    start = body.index(b'"items"')
    assert [head_token(body[:cut]) for cut in (0, 10, start - 1)] == [MORE, MORE, MORE]
    assert head_token(body[: start + 1]) == "abc"
    assert head_token(typed({"resourceVersion": "12"}, items)[: start + 100]) is None  # the last page
    # a custom list's metadata is at its tail: the head is never it, and a long start says so
    assert head_token(custom({"continue": "abc"}, items)[:HEAD_BYTES]) is UNKNOWN
    assert head_token(custom({"continue": "abc"}, items)[: HEAD_BYTES - 1]) is MORE
