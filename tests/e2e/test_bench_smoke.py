"""The benchmark suite's smoke run: `python -m bench.run --smoke --scale --scale-sizes 50,100 --only B0,...,B7` starts
its own control plane, runs every benchmark (B0-B7) end to end at tiny sizes, and reports numeric figures for kates
and its peers, the client-go peer included (built from the Go module cache on first use, then cached). Being a tiny
scale run as well (one run, one control plane), it also runs B1, B2 and B6 at a second size and prints their cost per
object at both, so the scale code path cannot rot, and writes the Markdown summary to a scratch file.

Targets are not enforced in a smoke run, but B4's correctness check is: the last hook run's snapshot equals the
server's state (no lost, extra or stale object) and every write was seen, or the run exits 1.
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
SIZES = [50, 100]


def numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Smoke:
    def __init__(self, proc: subprocess.CompletedProcess[str], data: dict[str, Any], md: str) -> None:
        self.stdout, self.meta, self.rows, self.md = proc.stdout, data["meta"], data["rows"], md


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Smoke:
    tmp = tmp_path_factory.mktemp("bench")
    out, md = tmp / "results.json", tmp / "RESULTS.md"
    argv = ["--smoke", "--scale", "--scale-sizes", ",".join(map(str, SIZES)), "--only", ",".join(IDS)]
    argv += ["--churn-seconds", "2", "--json", str(out), "--results-md", str(md)]
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", *argv], cwd=REPO, capture_output=True, text=True, timeout=540
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    result = Smoke(proc, json.loads(out.read_text()), md.read_text())
    build = result.meta["clientgo_build_seconds"]
    figures.record("bench smoke", "B0-B7 + scale", seconds=round(time.monotonic() - started, 1), clientgo_build=build)
    return result


@pytest.mark.timeout(600)
def test_bench_smoke_reports_every_benchmark(smoke: Smoke) -> None:
    meta, rows = smoke.meta, smoke.rows
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
        assert f"\n{bid} " in smoke.stdout
    correctness = [r for r in rows if r["id"] == "B4" and r["correctness"]]
    assert len(correctness) == 1
    assert correctness[0]["kates"] == 0 and correctness[0]["met"] is True, correctness[0]
    rounds = next(r for r in rows if r["id"] == "B4" and r["details"].get("rounds"))["details"]["rounds"]
    assert all(r["caught_up"] and not r["lost"] and not r["stale"] and r["unseen_writes"] == 0 for r in rounds)


@pytest.mark.timeout(600)
def test_bench_smoke_compares_kates_with_client_go(smoke: Smoke) -> None:
    """client-go runs in B2 (informer and plain list), B3 (informer intake) and B6 (informer memory), each a row with
    a numeric figure and a ratio; its informer says how it listed (a streaming watch-list, or chunked lists)."""
    rows = smoke.rows
    clientgo = {(r["id"], r["unit"]): r for r in rows if r["peer"] == "client-go informer"}  # the largest size's
    for key in [("B2", "CPU-s"), ("B2", "s"), ("B2", "MiB"), ("B3", "ev/CPU-s"), ("B6", "x")]:
        row = clientgo[key]
        assert numeric(row["kates"]) and numeric(row["peer_value"]) and row["peer_value"] > 0, row
        assert numeric(row["ratio"]), row
    assert any(r["peer"] == "client-go list" and numeric(r["peer_value"]) for r in rows if r["id"] == "B2")
    listed = clientgo["B2", "CPU-s"]["details"]["requests"]["client-go informer"]
    assert listed.get("watchlist", 0) + listed.get("chunked_list", 0) >= 3, listed
    b3 = clientgo["B3", "ev/CPU-s"]["details"]["client-go"][0]
    assert b3["complete"] and b3["objects"] == SIZES[0], b3


@pytest.mark.timeout(600)
def test_bench_smoke_scale_prints_cost_per_object_at_each_size(smoke: Smoke) -> None:
    meta, rows = smoke.meta, smoke.rows
    assert meta["scale"] and meta["sizes"] == SIZES
    assert sorted(int(n) for n in meta["size_seconds"]) == SIZES
    per_size = {(i["id"], i["tool"], i["figure"]): i["values"] for i in meta["per_size"]}
    for bid, tools in TOOLS.items():
        for tool in tools:
            for fig in ("rss",) if bid == "B6" else ("wall", "cpu", "rss"):
                values = per_size[bid, tool, fig]
                assert sorted(int(n) for n in values) == [0, *SIZES], (bid, tool, fig, values)
                assert all(numeric(v) and v > 0 for v in values.values()), (bid, tool, fig, values)
    # B1, B2 and B6 at each size, the others once; B6's churn check only at the largest size
    for n in SIZES:
        assert any(r["id"] == "B1" and f"N={n}:" in r["what"] for r in rows), n
    assert len([r for r in rows if r["id"] == "B6" and "churn" in r["what"]]) == 1
    assert len([r for r in rows if r["id"] == "B3" and r["peer"] == "client-go informer"]) == 1
    table = smoke.stdout[smoke.stdout.index("scale: cost per object") :]
    assert f"N={SIZES[0]}" in table and f"N={SIZES[1]}" in table and "growth" in table
    for bid, tools in TOOLS.items():
        for tool in tools[1:]:
            assert f"\n{bid}  " in table and f"kates/{tool}" in table, (bid, tool)
    md = smoke.md
    assert "## Scale run" in md and "### Cost per object" in md and f"| N={SIZES[1]} |" in md
    assert "## Default run" in md and "not run yet" in md
    assert f"{meta['machine']['cpus']} cores" in md and meta["date"] in md
