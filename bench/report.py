"""The results: one `Row` per figure compared (kates figure, peer, peer figure, ratio, target, met/missed), the
printed table, and `bench/results.json`.

A ratio is `kates/peer` (time, memory: lower is better) or `peer/kates` (a speed-up: higher is better), as the row
says. A target is checked either on the ratio or on the kates figure itself (e.g. `--help` under 0.15 s). A row
whose figure cannot be measured meaningfully on this machine says so (`note`) and carries no invented number.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Row:
    id: str
    what: str
    unit: str
    kates: float | None
    peer: str = ""
    peer_value: float | None = None
    ratio_kind: str = "kates/peer"  # or "peer/kates" (a speed-up), or "" (no ratio)
    target: str = ""  # as printed
    check: str = ""  # how `met` is decided: "ratio<=X", "ratio>=X", "kates<=X", "kates==X", ""
    note: str = ""
    samples: dict[str, list[float]] = field(default_factory=dict)
    correctness: bool = False  # a correctness check: enforced even in --smoke
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.kates is None or self.peer_value is None or not self.ratio_kind:
            return None
        num, den = (self.kates, self.peer_value) if self.ratio_kind == "kates/peer" else (self.peer_value, self.kates)
        if den == 0:
            return math.inf if num else 1.0
        return num / den

    @property
    def met(self) -> bool | None:
        if not self.check:
            return None
        what, op, bound = _parse_check(self.check)
        value = self.ratio if what == "ratio" else self.kates
        if value is None:
            return None
        return value <= bound if op == "<=" else value >= bound if op == ">=" else value == bound

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        d["met"] = self.met
        return d


def _parse_check(check: str) -> tuple[str, str, float]:
    for op in ("<=", ">=", "=="):
        if op in check:
            what, bound = check.split(op)
            return what.strip(), op, float(bound)
    raise ValueError(check)


def fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if math.isinf(value):
        return "inf"
    if unit in ("objects", "runs", "relists", "count"):
        return f"{value:.0f}"
    if unit == "s":
        return f"{value:.3f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "MiB":
        return f"{value:.1f} MiB"
    if unit == "ev/CPU-s":
        return f"{value:,.0f}/CPU-s"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:.3g} {unit}".strip()


def status(row: Row, smoke: bool) -> str:
    met = row.met
    if met is None:
        return "-" if not row.check else "n/a"
    text = "met" if met else "MISSED"
    if smoke and not row.correctness:
        return f"({text.lower()})"
    return text


def ratio_text(row: Row) -> str:
    r = row.ratio
    if r is None:
        return "-"
    if math.isinf(r):
        return "inf"
    return f"{r:.2f}x" + (" faster" if row.ratio_kind == "peer/kates" else "")


def cells(rows: list[Row], smoke: bool) -> tuple[list[str], list[list[str]]]:
    head = ["id", "what", "kates", "peer", "peer figure", "ratio", "target", "status"]
    body = [
        [
            r.id,
            r.what,
            fmt(r.kates, r.unit),
            r.peer or "-",
            fmt(r.peer_value, r.unit) if r.peer else "-",
            ratio_text(r),
            r.target or "-",
            status(r, smoke),
        ]
        for r in rows
    ]
    return head, body


def grid(head: list[str], body: list[list[str]]) -> list[str]:
    """Aligned plain-text columns."""
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=False)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(head, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in body]
    return lines


def markdown(head: list[str], body: list[list[str]]) -> list[str]:
    """A Markdown table."""

    def line(cs: list[str]) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cs) + " |"

    return [line(head), "|" + "---|" * len(head), *[line(b) for b in body]]


def notes(rows: list[Row]) -> list[str]:
    return [f"{r.id} {r.what}: {r.note}" for r in rows if r.note]


def table(rows: list[Row], smoke: bool) -> str:
    lines = grid(*cells(rows, smoke))
    if notes(rows):
        lines += ["", "notes:", *[f"  {n}" for n in notes(rows)]]
    if smoke:
        lines += ["", "smoke run: tiny sizes, one round; targets are shown in parentheses and not enforced."]
    return "\n".join(lines)


def write_json(path: Path, meta: dict[str, Any], rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"meta": meta, "rows": [r.to_dict() for r in rows]}, indent=2, default=str) + "\n")


def read_json(path: Path) -> tuple[dict[str, Any], list[Row]]:
    """A results file written by `write_json`: its meta and its rows."""
    data = json.loads(path.read_text())
    names = set(Row.__dataclass_fields__)
    rows = [Row(**{k: v for k, v in r.items() if k in names}) for r in data["rows"]]
    return data["meta"], rows
