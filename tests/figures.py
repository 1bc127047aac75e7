"""Figures that tests measure and the closing note quotes: one row per fault, fuzz class or load run.

A test calls `record(table, row, **figures)`; at the end of the session pytest prints every table (see
tests/conftest.py), and when `KATES_FIGURES` names a file, writes them there as JSON too. Rows are kept in the
order they were recorded; recording the same (table, row) again replaces the figures.
"""

from __future__ import annotations

import json
import os
from typing import Any

_ROWS: dict[tuple[str, str], dict[str, Any]] = {}


def record(table: str, row: str, **figures: Any) -> None:
    _ROWS[(table, row)] = figures


def tables() -> dict[str, list[tuple[str, dict[str, Any]]]]:
    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for (table, row), figures in _ROWS.items():
        out.setdefault(table, []).append((row, figures))
    return out


def render() -> list[str]:
    lines: list[str] = []
    for table, rows in tables().items():
        keys: list[str] = []
        for _, figures in rows:
            keys += [k for k in figures if k not in keys]
        lines.append(f"## {table}")
        lines.append("| row | " + " | ".join(keys) + " |")
        lines.append("|---|" + "---|" * len(keys))
        for row, figures in rows:
            lines.append(f"| {row} | " + " | ".join(_cell(figures.get(k, "")) for k in keys) + " |")
        lines.append("")
    return lines


def write_json() -> None:
    path = os.environ.get("KATES_FIGURES")
    if path and _ROWS:
        data = {t: [{"row": r, **f} for r, f in rows] for t, rows in tables().items()}
        with open(path, "w") as f:
            json.dump(data, f, indent=1, sort_keys=False)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
