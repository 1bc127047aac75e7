"""core/simpleyaml.py reads the plain block YAML of kubeconfig files exactly as PyYAML's safe loader does, or not at
all: every answer is UNSUPPORTED or equal (type and value) to PyYAML's, and never a document where PyYAML raises."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.core.simpleyaml import UNSUPPORTED, parse

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

KUBECTL_WRITES = """\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJVekNC
    server: https://127.0.0.1:6443
  name: kind-kind
- cluster:
    insecure-skip-tls-verify: true
    proxy-url: socks5://localhost:1080
    server: https://example.com/prefix
  name: other
contexts:
- context:
    cluster: kind-kind
    namespace: team-a
    user: kind-kind
  name: kind-kind
current-context: kind-kind
kind: Config
preferences: {}
users:
- name: kind-kind
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0t
- name: exec-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - eu-west-1
      - token
      command: aws
      env: null
      interactiveMode: IfAvailable
      provideClusterInfo: false
"""


READ: list[bool] = []  # whether each generated text was read (not left to PyYAML): the fuzzing must read some


def same(text: str) -> None:
    """`parse(text)` is UNSUPPORTED or PyYAML's document, with the same types throughout."""
    got = parse(text)
    READ.append(got is not UNSUPPORTED)
    if got is UNSUPPORTED:
        return
    try:
        want = yaml.load(text, Loader=LOADER)
    except yaml.YAMLError:
        raise AssertionError(f"read a document PyYAML refuses: {text!r} -> {got!r}") from None
    assert typed(got) == typed(want), text


def typed(doc: Any) -> Any:
    """`doc` with each scalar paired with its type (True == 1 in Python; here they differ)."""
    if isinstance(doc, dict):
        return {typed(k): typed(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [typed(v) for v in doc]
    return (type(doc).__name__, doc)


def test_what_kubectl_writes_is_read_without_pyyaml() -> None:
    got = parse(KUBECTL_WRITES)
    assert got is not UNSUPPORTED
    assert typed(got) == typed(yaml.load(KUBECTL_WRITES, Loader=LOADER))
    assert got["clusters"][1]["cluster"]["insecure-skip-tls-verify"] is True
    assert got["users"][1]["user"]["exec"]["args"] == ["--region", "eu-west-1", "token"]


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n",  # a number
        "a: &x b\nc: *x\n",  # an anchor and an alias
        "a: !!str b\n",  # a tag
        "a: |\n  text\n",  # a block scalar
        "a: [b, c]\n",  # a flow sequence
        "a: b # comment\n",  # a comment after a value
        "a: b\n  c\n",  # a multi-line plain scalar
        "---\na: b\n",  # a document marker
        "a:\tb\n",  # a tab
        'a: "b\\n"\n',  # an escape
        "a: 2001-12-14\n",  # a date
        "a: b: c\n",  # PyYAML's error: mapping values are not allowed here
        "a: b\n- c\n",  # PyYAML's error: a sequence item after a mapping
        "a\n",  # a scalar document
        "\u00e9: b\n",  # not ASCII
        "a: b\r\n",  # a carriage return
        "yes: b\n",  # a key that is a bool
    ],
)
def test_anything_else_is_left_to_pyyaml(text: str) -> None:
    assert parse(text) is UNSUPPORTED
    same(text)


@pytest.mark.parametrize(
    ("text", "doc"),
    [
        ("", None),
        ("# only a comment\n\n", None),
        ("a:\n", {"a": None}),
        ("a: ~\nb: Null\nc: ''\n", {"a": None, "b": None, "c": ""}),
        ("a: on\nb: Off\nc: YES\nd: no\n", {"a": True, "b": False, "c": True, "d": False}),
        ("a: 'it''s'\nb: \"x y\"\n", {"a": "it's", "b": "x y"}),
        ("a:\n- - x\n  - y\n- z\n", {"a": [["x", "y"], "z"]}),
        ("a:\n  - b: c\n    d: []\n  -\n  - e\n", {"a": [{"b": "c", "d": []}, None, "e"]}),
        ("a: b\na: c\n", {"a": "c"}),  # a repeated key: the last one, as PyYAML
        ("  a: b\n  c: d\n", {"a": "b", "c": "d"}),  # an indented document
    ],
)
def test_the_plain_part_of_yaml_is_read_as_pyyaml_reads_it(text: str, doc: Any) -> None:
    assert typed(parse(text)) == typed(doc)
    same(text)


PLAIN = ["a", "b-c", "/p", "--v=5", "-x", "x:y", "a#c", "https://h:1/p?q=1", "true", "off", "null", "", "'q''r'"]
ODD = [
    "False",
    "on",
    "~",
    "1",
    "-1",
    "0x1F",
    "1.5",
    ".inf",
    "-",
    "x: y",
    "x:",
    "'q'",
    '"d"',
    "{}",
    "[]",
    "&a",
    "*a",
    "!t",
    "|",
    ">",
    "#c",
    "a #c",
    "?",
    "%",
    "@",
    "`",
    "=",
    "<<",
    "2001-12-14",
    "1:20",
    "y",
    "n",
    "é",
    "\t",
]
# mostly what the reader reads, so that it is tested; the rest now and then
WORDS = st.sampled_from(PLAIN * 8 + ODD)
KEYS = st.sampled_from(PLAIN[:8] * 8 + PLAIN[8:] + ODD)


def documents() -> st.SearchStrategy[Any]:
    scalars = WORDS | st.booleans() | st.none()
    return st.recursive(
        st.dictionaries(KEYS, scalars, max_size=4),
        lambda inner: st.dictionaries(KEYS, inner | scalars, max_size=4) | st.lists(inner | scalars, max_size=4),
        max_leaves=12,
    )


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(documents(), st.integers(1, 4), st.booleans())
def test_dumped_documents_are_read_as_pyyaml_reads_them(doc: Any, indent: int, sort: bool) -> None:
    same(yaml.dump(doc, Dumper=yaml.SafeDumper, indent=max(2, indent), sort_keys=sort, default_flow_style=False))


LINES = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from(["", "- ", "-  "]), WORDS, st.sampled_from(["", ":", ": "]), WORDS),
    max_size=8,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(LINES)
def test_any_arrangement_of_lines_is_read_as_pyyaml_reads_it_or_left_to_it(lines: list[Any]) -> None:
    same("".join(f"{' ' * ind}{dash}{key}{colon}{value}\n" for ind, dash, key, colon, value in lines))


SPACED = st.lists(
    st.tuples(st.integers(0, 6), st.sampled_from(["", "- "]), WORDS, st.sampled_from([" :", " : ", ": "]), WORDS),
    max_size=6,
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
@given(SPACED)
def test_keys_with_a_space_before_the_colon_are_read_as_pyyaml_reads_them_or_left_to_it(lines: list[Any]) -> None:
    same("".join(f"{' ' * ind}{dash}{key}{colon}{value}\n" for ind, dash, key, colon, value in lines))


def test_a_space_before_the_colon_is_left_to_pyyaml() -> None:
    """PyYAML strips it from the key (`current-context : prod` names the key current-context)."""
    for text in ("a : b\n", "a :\n  b: c\n", "- a : b\n", "a:\n  b  : c\n"):
        assert parse(text) is UNSUPPORTED, text
        same(text)


def test_reading_imports_nothing() -> None:
    code = (
        "import sys; before = set(sys.modules); from kates_cli.core import simpleyaml; "
        "simpleyaml.parse('a:\\n- b: c\\n'); print(sorted(set(sys.modules) - before - {'__future__'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['kates_cli', 'kates_cli.core', 'kates_cli.core.simpleyaml']", out


def test_the_fuzzing_reads_many_documents_itself() -> None:
    """Run after the fuzz tests above (pytest keeps the file's order): a fuzz whose texts were all left to PyYAML
    would show nothing about the reader."""
    if len(READ) < 500:
        pytest.skip("run with the fuzz tests")
    assert sum(READ) >= 250, (sum(READ), len(READ))
