"""Parsing the API server's Warning headers as client-go does, and kubectl's deduplicating writer."""

from __future__ import annotations

import io

import pytest

from kates_cli.core import server_warnings
from kates_cli.core.server_warnings import ServerWarning, WarningWriter, parse_header, parse_headers


def test_one_warning_as_the_api_server_sends_it() -> None:
    assert parse_header('299 - "unknown field \\"foo\\""') == [ServerWarning(299, "-", 'unknown field "foo"')]


def test_several_warnings_in_one_header_with_and_without_dates() -> None:
    header = '299 - "a", 299 agent "b" "Wed, 21 Oct 2015 07:28:00 GMT", 199 x "c"'
    assert parse_header(header) == [ServerWarning(299, "-", "a"), ServerWarning(299, "agent", "b"),
                                    ServerWarning(199, "x", "c")]  # fmt: skip


@pytest.mark.parametrize(
    "header",
    [
        '299 - "unterminated',
        "299 -",
        '29 - "short code"',
        "299 - unquoted",
        '299 - "trailing" x',
        '299 - "d" "date',
        "",
    ],
)
def test_a_malformed_warning_is_dropped_and_ends_the_parse_of_its_header(header: str) -> None:
    assert parse_header(header) == []


def test_parse_stops_at_the_first_malformed_warning_but_keeps_the_ones_before() -> None:
    assert parse_headers(['299 - "first", garbage', '299 - "second"']) == [
        ServerWarning(299, "-", "first"),
        ServerWarning(299, "-", "second"),
    ]


def test_rfc2047_encoded_text_is_decoded_and_control_characters_refused() -> None:
    assert parse_header('299 - "=?utf-8?q?caf=C3=A9?="')[0].text == "café"
    assert parse_header('299 - "bell\x07"') == []


def test_writer_prints_each_distinct_warning_once_in_kubectl_form() -> None:
    out = io.StringIO()
    writer = WarningWriter(lambda: out)
    for text in ("a is deprecated", "b", "a is deprecated"):
        writer(299, "-", text)
    assert out.getvalue() == "Warning: a is deprecated\nWarning: b\n" and writer.count == 2
    WarningWriter(lambda: out, color=True)(299, "-", "c")
    assert out.getvalue().endswith("\x1b[33;1mWarning:\x1b[0m c\n")


def test_handle_passes_only_299_with_text_to_the_installed_handler() -> None:
    seen: list[str] = []
    server_warnings.set_handler(lambda code, agent, text: seen.append(text))
    try:
        server_warnings.handle(['299 - "kept"', '199 - "other code"', '299 - ""'])
        server_warnings.handle(None)
    finally:
        server_warnings.set_handler(None)
    assert seen == ["kept"]
