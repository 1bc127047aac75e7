"""The benchmark suite's smoke runs: `python -m bench.run --smoke` starts its own control plane, runs every benchmark
(B0-B7) end to end at tiny sizes, and reports numeric figures for kates and its peers, the client-go peer included
(built from the Go module cache on first use, then cached). Targets are not enforced in a smoke run, but B4's
correctness check is: the last hook run's snapshot equals the server's state (no lost, extra or stale object) and
every write was seen, or the run exits 1. A second, tiny scale run (two sizes) keeps the scale code path alive: the
cost per object of B1, B2 and B6 at each size, for every tool, and the Markdown summary.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bench.scale import TOOLS
from tests import figures

REPO = Path(__file__).resolve().parents[2]
IDS = [f"B{i}" for i in range(8)]


def numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def bench(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], float]:
    out = tmp_path / "results.json"
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--json", str(out), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
    )
    seconds = time.monotonic() - started
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    return proc, json.loads(out.read_text()), seconds


@pytest.mark.timeout(600)
def test_bench_smoke_reports_every_benchmark(tmp_path: Path) -> None:
    proc, data, seconds = bench(tmp_path)
    meta, rows = data["meta"], data["rows"]
    figures.record(
        "bench smoke", "default (B0-B7)", seconds=round(seconds, 1), clientgo_build=meta["clientgo_build_seconds"]
    )
    assert meta["smoke"] and meta["errors"] == {} and meta["correctness_failures"] == []
    assert sorted({r["id"] for r in rows}) == IDS
    for bid in IDS:
        mine = [r for r in rows if r["id"] == bid]
        for row in mine:
            assert numeric(row["kates"]), row
            if row["peer"]:
                assert numeric(row["peer_value"]), row
        # every benchmark compares kates with a peer measured (or, for B4, counted) in the same run
        assert any(r["peer"] and numeric(r["peer_value"]) for r in mine), mine
    # the table printed what the JSON holds
    for bid in IDS:
        assert f"\n{bid} " in proc.stdout
    correctness = [r for r in rows if r["id"] == "B4" and r["correctness"]]
    assert len(correctness) == 1
    assert correctness[0]["kates"] == 0 and correctness[0]["met"] is True, correctness[0]
    rounds = next(r for r in rows if r["id"] == "B4" and r["details"].get("rounds"))["details"]["rounds"]
    assert all(r["caught_up"] and not r["lost"] and not r["stale"] and r["unseen_writes"] == 0 for r in rounds)
    # client-go runs in B2 (informer and plain list), B3 (informer intake) and B6 (informer memory), each a row with
    # a numeric figure and a ratio; its informer says how it listed (a streaming watch-list, or chunked lists)
    clientgo = {(r["id"], r["unit"]): r for r in rows if r["peer"] == "client-go informer"}
    for key in [("B2", "CPU-s"), ("B2", "s"), ("B2", "MiB"), ("B3", "ev/CPU-s"), ("B6", "x")]:
        row = clientgo[key]
        assert numeric(row["kates"]) and numeric(row["peer_value"]) and row["peer_value"] > 0, row
        assert numeric(row["ratio"]), row
    assert any(r["peer"] == "client-go list" and numeric(r["peer_value"]) for r in rows if r["id"] == "B2")
    listed = clientgo["B2", "CPU-s"]["details"]["requests"]["client-go informer"]
    assert listed.get("watchlist", 0) + listed.get("chunked_list", 0) >= 3, listed
    b3 = clientgo["B3", "ev/CPU-s"]["details"]["client-go"][0]
    assert b3["complete"] and b3["objects"] == meta["size"], b3


@pytest.mark.timeout(600)
def test_bench_smoke_scale_prints_cost_per_object_at_each_size(tmp_path: Path) -> None:
    md = tmp_path / "RESULTS.md"
    sizes = [30, 60]
    proc, data, seconds = bench(
        tmp_path, "--scale", "--scale-sizes", ",".join(map(str, sizes)), "--churn-seconds", "2", "--results-md", str(md)
    )
    meta, rows = data["meta"], data["rows"]
    figures.record("bench smoke", "scale (B1, B2, B6 at 30 and 60)", seconds=round(seconds, 1))
    assert meta["errors"] == {} and meta["scale"] and meta["sizes"] == sizes
    assert sorted(int(n) for n in meta["size_seconds"]) == sizes
    per_size = {(i["id"], i["tool"], i["figure"]): i["values"] for i in meta["per_size"]}
    for bid, tools in TOOLS.items():
        for tool in tools:
            for fig in ("rss",) if bid == "B6" else ("wall", "cpu", "rss"):
                values = per_size[bid, tool, fig]
                assert sorted(int(n) for n in values) == [0, *sizes], (bid, tool, fig, values)
                assert all(numeric(v) and v > 0 for v in values.values()), (bid, tool, fig, values)
    # the default table's rows at each size, and the churn check only at the largest
    for n in sizes:
        assert any(r["id"] == "B1" and f"N={n}:" in r["what"] for r in rows), n
    assert len([r for r in rows if r["id"] == "B6" and "churn" in r["what"]]) == 1
    table = proc.stdout[proc.stdout.index("scale: cost per object") :]
    assert "N=30" in table and "N=60" in table and "growth" in table
    for bid, tools in TOOLS.items():
        for tool in tools[1:]:
            assert f"kates/{tool}" in table, (bid, tool)
    text = md.read_text()
    assert "## Scale run" in text and "### Cost per object" in text and "| N=60 |" in text
    assert "## Default run" in text and "not run yet" in text
    assert f"{meta['machine']['cpus']} cores" in text
