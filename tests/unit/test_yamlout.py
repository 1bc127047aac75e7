"""The YAML emitter against kubectl's bytes.

Expected bytes come from kubectl 1.37 on the local control plane: the table in data/kubectl-yaml-cases.json was
recorded by data/record_yaml_cases.py (the server's JSON of a Widget's spec, and kubectl's YAML from `spec:` on);
the inline cases below were copied from the same recording or from `kubectl get cm -o yaml`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kates_cli.cli.render import to_yaml
from kates_cli.cli.yamlout import dump
from kates_cli.cli.yamlresolve import key_less, number_text, plain_is_string, sorted_keys

RECORDED = json.loads((Path(__file__).parent / "data" / "kubectl-yaml-cases.json").read_text())


@pytest.mark.parametrize("case", RECORDED, ids=[c["id"] for c in RECORDED])
def test_spec_prints_as_kubectl_printed_it(case: dict[str, Any]) -> None:
    assert dump({"spec": case["spec"]}) == case["kubectl"]


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("y", 'k: "y"\n'),
        ("n", 'k: "n"\n'),
        ("Y", 'k: "Y"\n'),
        ("yes", 'k: "yes"\n'),
        ("on", 'k: "on"\n'),
        ("0o17", 'k: "0o17"\n'),
        ("1e3", 'k: "1e3"\n'),
        ("0x1F", 'k: "0x1F"\n'),
        ("~", 'k: "~"\n'),
        ("null", 'k: "null"\n'),
        ("1_000", 'k: "1_000"\n'),
        (".inf", 'k: ".inf"\n'),
        ("2001-12-14", 'k: "2001-12-14"\n'),
        ("1:20", 'k: "1:20"\n'),
        ("", 'k: ""\n'),
        ("yEs", "k: yEs\n"),  # not one of YAML 1.1's spellings: plain
        ("2001-02-30", "k: 2001-02-30\n"),  # not a date to go-yaml: plain
        ("- a", "k: '- a'\n"),
        ("a: b", "k: 'a: b'\n"),
        ("a #b", "k: 'a #b'\n"),
        (" a", "k: ' a'\n"),
        ("it's", "k: it's\n"),
        ("'a", "k: '''a'\n"),
        ("a\tb", 'k: "a\\tb"\n'),
        ("a\r\nb", 'k: "a\\r\\nb"\n'),
        ("😀", 'k: "\\U0001F600"\n'),
        ("é", "k: é\n"),
        ("a\x00b", 'k: "a\\0b"\n'),
        ("a\nb", "k: |-\n  a\nb\n".replace("\nb", "\n  b")),
        ("a\n", "k: |\n  a\n"),
        ("a\n\n", "k: |+\n  a\n\n"),
        (" a\nb", "k: |2-\n   a\n  b\n"),
        ("a \nb", 'k: "a \\nb"\n'),  # a space before a line break rules out a block
    ],
)
def test_awkward_strings_are_quoted_as_kubectl_quotes_them(value: str, line: str) -> None:
    assert dump({"k": value}) == line


def test_awkward_keys_are_quoted_and_ordered_as_kubectl_does() -> None:
    data = {"y": "1", "on": "2", "1e3": "3", "a10": "4", "a2": "5", "B": "6", "a": "7", "_x": "8", "-": "9"}
    assert dump({"data": data}) == (
        "data:\n"
        "  '-': \"9\"\n"
        '  _x: "8"\n'
        '  "1e3": "3"\n'
        '  B: "6"\n'
        '  a: "7"\n'
        '  a2: "5"\n'
        '  a10: "4"\n'
        '  "on": "2"\n'
        '  "y": "1"\n'
    )


def test_long_values_fold_at_column_80_wherever_they_start() -> None:
    words = " ".join(["word"] * 30)
    assert dump({"x": words}) == (
        "x: word word word word word word word word word word word word word word word word\n"
        "  word word word word word word word word word word word word word word\n"
    )
    # the same string deeper down folds elsewhere (the unfolded text is remembered, never reused past column 80)
    assert dump({"a": {"b": {"c": words}}, "x": words}).splitlines()[2] == (
        "    c: word word word word word word word word word word word word word word word"
    )


def test_containers_empty_nested_and_sequences_under_keys() -> None:
    doc = {"b": {"c": ["x", {"d": [], "e": {}}, ["y", ["z"]]]}, "a": [{"k": "v", "l": ["m"]}]}
    assert dump(doc) == ('a:\n- k: v\n  l:\n  - m\nb:\n  c:\n  - x\n  - d: []\n    e: {}\n  - - "y"\n    - - z\n')
    assert dump({}) == "{}\n"
    assert dump([]) == "[]\n"


def test_long_and_multiline_keys_are_complex_keys() -> None:
    assert dump({"k" * 129: 1, "m\nn": "v"}) == f"? {'k' * 129}\n: 1\n? |-\n  m\n  n\n: v\n"


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (1.5, "1.5"),
        (100.0, "100"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1234567.5, "1.2345675e+06"),
        (1e20, "1e+20"),
        (1e21, "1e+21"),
        (9223372036854775807, "9223372036854775807"),
        (12345678901234567890, "12345678901234567000"),
        (18446744073709551615, "1.8446744073709552e+19"),
    ],
)
def test_numbers_print_as_after_kubectls_json_round_trip(number: float, text: str) -> None:
    assert number_text(number) == text


@pytest.mark.parametrize(
    "text",
    ["y", "NO", "off", "~", "Null", "", "0b101", "0b-1", "-0b11", "017", "08", "+1", ".5", "._5e3", "-.INF", "1:20",
     "2001-1-2", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43", "9223372036854775808", "1e308"],
)  # fmt: skip
def test_texts_go_yaml_would_not_read_back_as_strings(text: str) -> None:
    if text == "._5e3":
        assert plain_is_string(text)  # Go's ParseFloat wants a digit before an underscore
        return
    assert not plain_is_string(text)


@pytest.mark.parametrize("text", ["yEs", "0x", "1e999", "2001-02-30", "2001-12-14T25:00:00Z", "<<", "a1", "+"])
def test_texts_that_stay_plain(text: str) -> None:
    assert plain_is_string(text)


def test_key_order_is_go_yamls_including_its_cycles() -> None:
    assert sorted_keys(["b", "a10", "a2", "-x", "_y", "A"]) == ["-x", "_y", "A", "a2", "a10", "b"]
    # go-yaml's order is not transitive here, so kubectl's own output varies between runs
    assert key_less("a1b", "a2") and key_less("a2", "a10") and key_less("a10", "a1b")


def test_kubectls_lossy_characters_are_escaped_and_read_back() -> None:
    doc = {"nel": "a\x85b", "del": "a\x7fb", "c1": "a\x9bb", "nonchar": "a\ufffeb"}
    text = dump(doc)
    assert text == 'c1: "a\\x9Bb"\ndel: "a\\x7Fb"\nnel: "a\\Nb"\nnonchar: "a\\uFFFEb"\n'
    assert yaml.safe_load(text) == doc


def test_deep_nesting_does_not_recurse() -> None:
    doc: Any = "x"
    for _ in range(5000):
        doc = {"k": [doc]}
    text = dump(doc)
    assert text.count("\n") == 5001  # "k:", then "- k:" one level deeper per line
    assert text.endswith(" " * 9998 + "- x\n")


def test_render_to_yaml_is_the_emitter() -> None:
    assert to_yaml({"a": "y"}) == 'a: "y"\n'
