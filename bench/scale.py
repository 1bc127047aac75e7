"""The scale table: the cost per object of B1, B2 and B6 at each size of a scale run, for kates and each peer, with
kates's ratio to each peer, so that growth with N is visible.

The cost per object at N is `(figure at N - figure on the empty namespace) / objects at N`: the empty namespace's
run (measured once per scale run, same tools) is start-up plus an empty list or watch, which no object pays for.
Objects: B1 lists N ConfigMaps; B2 and B6 hold N ConfigMaps + N/2 Secrets + N/10 Services. Figures: wall and client
CPU in microseconds per object, and RSS (peak RSS for the runs to completion, settled VmRSS for the watches of B6)
in KiB per object.

Growth is the cost per object at the largest size over that at the smallest; it is flagged (GROWS) when the cost
rises at every step and by more than GROWTH_LIMIT overall. A linear cost stays near 1.0x; the smallest size is the
noisiest (its per-object figure is a difference of two small numbers).

`figures` is what `Context.scale` holds, (benchmark, tool, figure) -> {N: value} with N=0 the empty baseline; in the
JSON results it is a list of {"id", "tool", "figure", "values": {N: value}}.
"""

from __future__ import annotations

import itertools
from typing import Any

from .harness import Sizes
from .report import grid, markdown

GROWTH_LIMIT = 1.3
TOOLS = {
    "B1": ["kates", "kubectl", "naive", "raw"],
    "B2": ["kates", "kubectl", "naive", "client-go informer", "client-go list"],
    "B6": ["kates", "kubectl", "client-go"],
}
WHAT = {
    "B1": "get cm -o json",
    "B2": "watch cold sync of 3 kinds to the hook",
    "B6": "watch of 3 kinds, RSS once synced",
}
UNITS = {"wall": ("wall", "µs/obj", 1e6), "cpu": ("CPU", "µs/obj", 1e6), "rss": ("RSS", "KiB/obj", 1024.0)}

Figures = dict[tuple[str, str, str], dict[int, float]]


def objects(bid: str, n: int) -> int:
    s = Sizes(n, False)
    return n if bid == "B1" else n + s.secrets + s.services


def to_json(figs: Figures) -> list[dict[str, Any]]:
    return [
        {"id": b, "tool": t, "figure": f, "values": {str(n): v for n, v in sorted(vals.items())}}
        for (b, t, f), vals in sorted(figs.items())
    ]


def from_json(items: list[dict[str, Any]]) -> Figures:
    return {(i["id"], i["tool"], i["figure"]): {int(n): float(v) for n, v in i["values"].items()} for i in items}


def per_object(figs: Figures, bid: str, tool: str, figure: str, sizes: list[int]) -> list[float | None]:
    values = figs.get((bid, tool, figure), {})
    base = values.get(0)
    scale = UNITS[figure][2]
    out: list[float | None] = []
    for n in sizes:
        if n not in values or base is None or n == 0:
            out.append(None)
        else:
            out.append((values[n] - base) * scale / objects(bid, n))
    return out


def growth(costs: list[float | None]) -> tuple[float | None, bool]:
    """(last / first, whether it grows: rising at every step and by more than GROWTH_LIMIT)."""
    known = [c for c in costs if c is not None]
    if len(known) < 2 or known[0] <= 0:
        return None, False
    ratio = known[-1] / known[0]
    rising = all(b > a for a, b in itertools.pairwise(known))
    return ratio, rising and ratio > GROWTH_LIMIT


def _num(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"


def cells(figs: Figures, sizes: list[int]) -> tuple[list[str], list[list[str]], list[str]]:
    """The table's head, its rows and the flagged growths."""
    head = ["id", "figure", "tool", *[f"N={n:,}" for n in sizes], "growth"]
    body: list[list[str]] = []
    flagged: list[str] = []
    for bid, tools in TOOLS.items():
        for figure in ("wall", "cpu", "rss"):
            name, unit, _ = UNITS[figure]
            if not any((bid, t, figure) in figs for t in tools):
                continue
            costs = {t: per_object(figs, bid, t, figure, sizes) for t in tools if (bid, t, figure) in figs}
            for tool, cs in costs.items():
                g, grows = growth(cs)
                mark = "n/a" if g is None else f"{g:.2f}x" + (" GROWS" if grows else "")
                if grows:
                    flagged.append(f"{bid} {name} per object, {tool}: {mark}")
                body.append([bid, f"{name} {unit}", tool, *[_num(c) for c in cs], mark])
            for tool, cs in costs.items():
                if tool == "kates":
                    continue
                ratios = [
                    None if k is None or p is None or p <= 0 else k / p for k, p in zip(costs["kates"], cs, strict=True)
                ]
                body.append(
                    [bid, f"{name} ratio", f"kates/{tool}", *["n/a" if r is None else f"{r:.2f}x" for r in ratios], ""]
                )
    return head, body, flagged


def legend(sizes: list[int]) -> list[str]:
    objs = ", ".join(f"B1 {objects('B1', n):,} / B2,B6 {objects('B2', n):,}" for n in sizes)
    return [
        "cost per object = (figure at N - figure on the empty namespace) / objects at N; "
        f"objects: {objs}; growth = cost at the largest N / cost at the smallest "
        f"(GROWS: rising at every size and > {GROWTH_LIMIT}x); ratio = kates / peer (lower is better)",
        *[f"{b}: {w}" for b, w in WHAT.items()],
    ]


def text(figs: Figures, sizes: list[int]) -> str:
    head, body, flagged = cells(figs, sizes)
    lines = ["scale: cost per object", *grid(head, body), "", *legend(sizes)]
    lines += [f"GROWS: {f}" for f in flagged] or ["no cost per object grows with N"]
    return "\n".join(lines)


def md(figs: Figures, sizes: list[int]) -> str:
    head, body, flagged = cells(figs, sizes)
    lines = [*markdown(head, body), "", *[f"- {line}" for line in legend(sizes)]]
    lines += [f"- **GROWS**: {f}" for f in flagged] or ["- no cost per object grows with N"]
    return "\n".join(lines)
