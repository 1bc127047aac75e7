"""kyamlout's rules that the e2e comparison with kubectl reaches only through objects the API server accepts."""

from __future__ import annotations

import pytest

from kates_cli.cli.getraw import generic_message
from kates_cli.cli.kyamlout import Ordered, dump, needs_quotes, number_text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e-7, "1.5e-7"),
        (0.000001, "0.000001"),
        (-2.5e-10, "-2.5e-10"),
        (1 / 3, "0.3333333333333333"),
        (9223372036854775807, "9223372036854775807"),
        (9223372036854775808, "9223372036854776000"),
        (18446744073709551615, "18446744073709552000"),
        (10**25, "1e+25"),
        (-0.0, "-0"),
        (123.45, "123.45"),
    ],
)
def test_numbers_are_go_json_text(value: float, text: str) -> None:
    assert number_text(value) == text


@pytest.mark.parametrize(
    ("key", "quoted"),
    [
        ("a", False),
        ("a-b.c/d", False),
        ("-a", True),
        ("a.", True),
        ("_a_", False),
        ("日本", False),
        ("yes", True),
        ("Off", True),
        ("T", True),
        ("0x10", True),
        ("1_000", True),
        ("1e400", False),  # ParseFloat's range error is no match
        ("0x1p-2", True),
        ("infinity", True),
        ("-nan", True),  # the `-` alone makes it quoted
        ("nan", True),
        ("2024-01-02", True),
        ("2024-02-30", False),
        ("", True),
        ("a b", True),
    ],
)
def test_keys_are_quoted_as_kyaml_does(key: str, quoted: bool) -> None:
    assert needs_quotes(key) is quoted


def test_documents_layout() -> None:
    assert dump({}) == "---\n{}\n"
    assert dump([{"a": [1, "x"]}, []]) == '---\n[{\n  a: [\n    1,\n    "x",\n  ],\n}, []]\n'
    assert dump({"s": "a\nb"}) == '---\n{\n  s: "\\\n     a\\n\\\n     b\\\n    ",\n}\n'
    assert (
        dump(Ordered(type="ADDED", object={"b": 1, "a": 2}))
        == '---\n{\n  type: "ADDED",\n  object: {\n    a: 2,\n    b: 1,\n  },\n}\n'
    )


def test_deep_nesting_needs_no_recursion() -> None:
    node: object = "x"
    for _ in range(5000):
        node = {"k": [node]}
    assert dump(node).count("k: [") == 5000


def test_raw_errors_use_client_gos_generic_words() -> None:
    assert generic_message(404, "404 page not found") == "the server could not find the requested resource"
    assert generic_message(403, "no") == "no"
    assert (
        generic_message(500, 'a "b"')
        == 'an error on the server ("a \\"b\\"") has prevented the request from succeeding'
    )
    assert (
        generic_message(418, "") == "the server responded with the status code 418 but did not return more information"
    )
