"""Parity rows that held before issue 10: a smoke row, so the table is never empty."""

from __future__ import annotations

from tests.e2e.parity import Case

CASES = [
    Case("get-ns-default-name", ("get", "ns", "default", "-o", "name")),
    Case("get-missing-cm", ("get", "cm", "no-such", "-n", "{ns}"), stderr_words=('"no-such" not found',)),
]
