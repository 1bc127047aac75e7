"""The benchmark suite's smoke run: `python -m bench.run --smoke` starts its own control plane, runs every benchmark
(B0-B7) end to end at tiny sizes, and reports numeric figures for kates and its peers. Targets are not enforced in a
smoke run, but B4's correctness check is: the last hook run's snapshot equals the server's state (no lost, extra or
stale object) and every write was seen, or the run exits 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
IDS = [f"B{i}" for i in range(8)]


def numeric(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.mark.timeout(600)
def test_bench_smoke_reports_every_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.run", "--smoke", "--json", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=540,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-4000:]}"
    data = json.loads(out.read_text())
    meta, rows = data["meta"], data["rows"]
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
