"""Durations are read as Go's time.ParseDuration reads them, in linear time, refused in pflag's words."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kates_cli.cli.durations import go_duration, parse_duration, request_timeout
from kates_cli.errors import UsageError
from tests import figures

# 3,044 inputs and what Go 1.26's time.ParseDuration answered for each (Go's own test table, the issue's cases and
# random strings over digits, signs, dots and unit letters). 70,000 such inputs were compared when it was recorded.
ORACLE = [
    json.loads(line)
    for line in (Path(__file__).parent / "data" / "go_durations.jsonl").read_text(encoding="utf-8").split("\n")
    if line
]


def test_durations_match_go_parse_duration() -> None:
    for case in ORACLE:
        if case["error"] is None:
            assert go_duration(case["in"]) == case["go"], case
        else:
            with pytest.raises(ValueError) as caught:
                go_duration(case["in"])
            assert str(caught.value) == case["error"], case
    figures.record("fuzz", "durations vs Go (recorded)", tried=len(ORACLE), mismatches=0)


@pytest.mark.parametrize("text", ["\u0661\u0662s", "72s1", "1e3s", "30", "1d", "", "9999999999h", "2562048h"])
def test_what_go_refuses_is_refused_in_pflag_words(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_duration(text, "--timeout")
    assert caught.value.message.startswith(f'invalid argument "{text}" for "--timeout" flag: time: ')


def test_flag_message_quotes_as_go_does() -> None:
    with pytest.raises(UsageError) as caught:
        parse_duration("\u0661\u0662s", "--timeout")
    assert (
        caught.value.message
        == 'invalid argument "\u0661\u0662s" for "--timeout" flag: time: invalid duration "\\xd9\\xa1\\xd9\\xa2s"'
    )
    with pytest.raises(UsageError) as caught:
        parse_duration("72s1", "--timeout")
    assert caught.value.message == 'invalid argument "72s1" for "--timeout" flag: time: missing unit in duration "72s1"'


def test_overflow_is_a_usage_error_not_an_internal_one() -> None:
    for text in ("9223372036854775808ns", "2562048h", "9" * 400 + "h", "2562047.99h"):
        with pytest.raises(UsageError):
            parse_duration(text, "--timeout")


def test_negative_durations_are_refused_where_they_mean_nothing() -> None:
    with pytest.raises(UsageError, match="negative"):
        parse_duration("-1s", "--timeout")
    assert parse_duration("-1s", negative=True) == -1.0


def test_parsing_is_linear_in_the_input() -> None:
    # the old regex took over 30 s for 28 characters of this shape
    for text in ("1" * 28 + "x", "1" * 200_000 + "x", "1s" * 100_000 + "x", "1.1" * 50_000 + "!"):
        start = time.monotonic()
        with pytest.raises(UsageError):
            parse_duration(text, "--timeout")
        assert time.monotonic() - start < 2.0


def test_request_timeout_takes_whole_seconds_or_a_duration() -> None:
    assert request_timeout("30") == 30.0
    assert request_timeout("1m") == 60.0
    assert request_timeout("0") == 0.0
    for bad in ("soon", "1.5", "-1", "-1s", "99999999999", "1" + "0" * 30, "9" * 5000, "\u0661\u0662"):
        with pytest.raises(UsageError, match="Invalid timeout value"):
            request_timeout(bad)


_TRIED = 0


@settings(max_examples=3000, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("0123456789.+-smhnuµμd\u0661 \x00")), max_size=40)
    | st.text(max_size=40)
    | st.text(alphabet="0123456789", min_size=1, max_size=6000)
)
def test_any_text_parses_or_is_a_usage_error(text: str) -> None:
    global _TRIED
    _TRIED += 1
    figures.record("fuzz", "durations", tried=_TRIED, internal_errors=0, hangs=0)
    try:
        assert 0 <= request_timeout(text) < 2**63 / 1e9
    except UsageError:
        pass
    try:
        seconds = parse_duration(text, "--timeout", negative=True)
    except UsageError as exc:
        assert exc.message.startswith("invalid argument ")
        return
    assert abs(seconds) <= 2**63 / 1e9
