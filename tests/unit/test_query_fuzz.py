"""Fuzzed `-q` queries and label/field selectors (issue 11, section 3): for every input, parse_query and the selector
parsers return or raise UsageError (never anything else), queries built from the grammar parse back to what was
written, and an invalid query exits 2 through the CLI with one line on stderr before anything is sent. Counts tried
per class go to the "fuzz" figures table."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.cli.app import main
from kates_cli.cli.queries import parse_query, split_query
from kates_cli.core.selectors import FieldSelector, LabelSelector
from kates_cli.errors import ExitCode, UsageError
from tests import figures

QUERY_CHARS = "abcxyz019=!(),'\" \t.*-_/:;%\\éß\x00"
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Tally:
    def __init__(self) -> None:
        self.tried = self.accepted = self.rejected = 0

    def outcome(self, fn: Any, *args: Any) -> Any:
        """Call fn; count it; a UsageError is a rejection, anything else but a result fails the test."""
        self.tried += 1
        try:
            result = fn(*args)
        except UsageError as exc:
            self.rejected += 1
            assert "\n" not in exc.message and exc.exit_code == ExitCode.USAGE
            return None
        self.accepted += 1
        return result

    def record(self, row: str) -> None:
        figures.record("fuzz", row, tried=self.tried, accepted=self.accepted, rejected=self.rejected, internal_errors=0)


# -- random text -----------------------------------------------------------------------------------------------


def test_random_queries_parse_or_are_usage_errors() -> None:
    tally = Tally()

    @FUZZ
    @given(st.text(alphabet=QUERY_CHARS, max_size=40) | st.text(max_size=30))
    def check(text: str) -> None:
        query = tally.outcome(parse_query, text, "default")
        if query is not None:
            assert query.name and query.kind
            LabelSelector(query.label_selector).matches({"a": "1"})
            FieldSelector(query.field_selector).matches({"metadata": {"name": "x"}})

    check()
    assert tally.rejected > 0 and tally.accepted > 0
    tally.record("-q queries, random text")


def test_random_selectors_parse_or_are_usage_errors() -> None:
    labels, fields = Tally(), Tally()
    values = st.dictionaries(st.sampled_from(["a", "b", "env", "x/y"]), st.sampled_from(["", "1", "a", "b"]))

    @FUZZ
    @given(st.text(alphabet="abenv01=!(),. \t/-_x", max_size=30) | st.text(max_size=20), values)
    def check(text: str, objlabels: dict[str, str]) -> None:
        sel = labels.outcome(LabelSelector, text)
        if sel is not None:
            assert isinstance(sel.matches(objlabels), bool)
        fsel = fields.outcome(FieldSelector, text)
        if fsel is not None:
            assert isinstance(fsel.matches({"metadata": {"name": "a", "labels": objlabels}, "spec": None}), bool)

    check()
    labels.record("label selectors, random text")
    fields.record("field selectors, random text")


# -- the grammar -----------------------------------------------------------------------------------------------

WORD = st.builds(str.__add__, st.sampled_from("abcxyz"), st.text(alphabet="abcxyz019", max_size=5))
SPACE = st.sampled_from(["", " ", "  "])


@st.composite
def label_term(draw: st.DrawFn) -> str:
    key, value = draw(WORD), draw(WORD)
    kind = draw(st.sampled_from(["eq", "eqeq", "ne", "exists", "not", "in", "notin"]))
    if kind in ("in", "notin"):
        vals = draw(st.lists(WORD, min_size=1, max_size=3))
        sep = "," + draw(SPACE)
        return f"{key} {kind}{draw(SPACE)}({sep.join(vals)})"
    return {"eq": f"{key}={value}", "eqeq": f"{key}=={value}", "ne": f"{key}!={value}", "exists": key}.get(
        kind, f"!{key}"
    )


@st.composite
def query_text(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    name, kind = draw(WORD), draw(st.sampled_from(["cm", "deploy", "pods.v1", "widgets.example.com"]))
    want: dict[str, Any] = {"name": name, "kind": kind, "namespace": "default", "labels": None, "fields": None}
    words = [f"{name}={kind}"]
    if draw(st.booleans()):
        want["namespace"] = draw(WORD)
        words.append(f"ns={want['namespace']}")
    if draw(st.booleans()):
        terms = draw(st.lists(label_term(), min_size=1, max_size=4))
        text = ("," + draw(SPACE)).join(terms)
        want["labels"] = text
        words.append(f"l='{text}'" if draw(st.booleans()) else f"l={text}")
    if draw(st.booleans()):
        want["fields"] = f"metadata.name!={draw(WORD)}"
        words.append(f"f={want['fields']}")
    head, rest = words[0], words[1:]
    return " ".join([head, *draw(st.permutations(rest))]), want


def test_queries_built_from_the_grammar_parse_back() -> None:
    tried = 0

    @FUZZ
    @given(query_text())
    def check(case: tuple[str, dict[str, Any]]) -> None:
        nonlocal tried
        tried += 1
        text, want = case
        q = parse_query(text, "default")
        assert (q.name, q.kind, q.namespace) == (want["name"], want["kind"], want["namespace"]), text
        if want["labels"] is None:
            assert q.label_selector is None
        else:  # the same requirements, whatever spaces the words were split at
            assert LabelSelector(q.label_selector).reqs == LabelSelector(want["labels"]).reqs, (text, q)
        assert q.field_selector == want["fields"]

    check()
    figures.record("fuzz", "-q queries, from the grammar (set-based selectors)", tried=tried, internal_errors=0)


def test_split_query_keeps_quoted_and_parenthesised_spaces() -> None:
    assert split_query("a=cm  l='x in (a, b)' f=\"y=1\"") == ["a=cm", "l=x in (a, b)", "f=y=1"]
    assert split_query("cm l=env in (a, b)") == ["cm", "l=env", "in", "(a, b)"]
    assert split_query("cm l=''") == ["cm", "l="]
    with pytest.raises(ValueError, match="unclosed ' quote"):
        split_query("cm l='x")


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("cm l=env in (a,b)", "env in (a,b)"),
        ("cm l=env notin (a, b),!debug", "env notin (a, b),!debug"),
        ("cm l=!key", "!key"),
        ("cm l=key notin (x) ns=prod", "key notin (x)"),
        ("cm l='tier notin (db, cache),!canary'", "tier notin (db, cache),!canary"),
        ("cm l=a=1, b=2", "a=1, b=2"),
    ],
)
def test_set_based_label_selectors_in_a_query(text: str, labels: str) -> None:
    assert parse_query(text, "default").label_selector == labels


@pytest.mark.parametrize("text", ["cm l=env in", "cm l=env in (a", "cm l='x", "cm l=env in (a,b) q=1", "cm in (a)"])
def test_broken_set_based_queries_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError):
        parse_query(text, "default")


# -- through the CLI: exit 2, one line, nothing sent -----------------------------------------------------------


@pytest.fixture
def listener(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """A kubeconfig whose server is a local socket that counts the connections made to it (and answers none)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    accepted = [0]

    def accept() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            accepted[0] += 1
            conn.close()

    threading.Thread(target=accept, daemon=True).start()
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": f"https://127.0.0.1:{sock.getsockname()[1]}"}}],
        "users": [{"name": "u", "user": {"token": "fuzz-token"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.setenv("KATES_CACHE_DIR", str(tmp_path / "cache"))
    yield accepted
    sock.close()


def test_invalid_queries_exit_2_before_anything_is_sent(
    listener: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    tried = 0

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.text(alphabet=QUERY_CHARS.replace("\x00", ""), max_size=30))
    def check(text: str) -> None:
        nonlocal tried
        try:
            parse_query(text, "default")
            return  # valid: it would be sent
        except UsageError:
            pass
        tried += 1
        capsys.readouterr()
        assert main(["watch", "-q", text, "--once"]) == ExitCode.USAGE
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err and len(err.splitlines()) <= 2, err
        assert listener[0] == 0, text

    check()
    assert tried > 20
    figures.record("fuzz", "-q queries through kates watch (invalid)", tried=tried, internal_errors=0, sent=0)
