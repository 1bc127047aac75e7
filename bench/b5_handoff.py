"""B5: hook hand-off. Milliseconds per run to hand a snapshot of N ConfigMaps (10k at the default size; no cluster
needed) to `cat` writing to /dev/null, one object changed before every run (as a watch would):

- kates: an Accumulator built from `QueryState.replace` with `make_entry` objects; per run `acc.event` of the
  changed object, `Accumulator.snapshot_json()` and `kates_cli.cli.hook.HookRunner(['cat']).run(data, env)`;
- naive: the same objects as a dict of lists; per run the change in place, `json.dumps(snapshot)` and
  `subprocess.run(['cat'], input=...)`.

Each side runs in a worker process of its own (`python -m bench.b5_handoff --worker MODE ...`, stdout /dev/null,
which `cat` inherits), alternating over the rounds; the worker times every run and reports the median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from .harness import REPO, BenchError, Context, median, rotate, run_measured
from .report import Row


def cm_object(i: int, rv: int) -> dict[str, Any]:
    """A ConfigMap as the server returns it (about 1.3 KB): the fixture plus server-set metadata."""
    from .fixtures import configmap

    obj = configmap(i)
    obj["metadata"].update(
        namespace="bench",
        uid=f"00000000-0000-0000-0000-{i:012d}",
        resourceVersion=str(rv),
        creationTimestamp="2026-01-01T00:00:00Z",
        managedFields=[
            {
                "manager": "bench",
                "operation": "Update",
                "apiVersion": "v1",
                "time": "2026-01-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:data": {f"f:{k}": {} for k in obj["data"]}},
            }
        ],
    )
    return obj


def worker(mode: str, objects: int, runs: int) -> dict[str, Any]:
    base = [cm_object(i, 1000 + i) for i in range(objects)]
    rv = 1000 + objects
    times: list[float] = []
    if mode == "kates":
        from kates_cli.cli.hook import HookRunner
        from kates_cli.core.accumulator import Accumulator, Query, QueryState, make_entry

        acc = Accumulator([QueryState(Query("cms", "cm", "bench"))])
        acc.replace("cms", [make_entry(o) for o in base], str(rv))
        runner = HookRunner(["cat"])
        env = dict(os.environ)
        for k in range(runs):
            rv += 1
            changed = cm_object(k % objects, rv)
            changed["data"]["seq"] = str(k)
            acc.event("cms", "MODIFIED", make_entry(changed))
            t0 = time.perf_counter()
            ok, data, _ = acc.snapshot_json()
            result = runner.run(data, env)
            times.append(time.perf_counter() - t0)
            if not ok or result.code != 0:
                raise BenchError(f"kates hand-off run {k}: changed={ok}, hook exit {result.code}")
    else:
        snapshot = {"cms": base}
        for k in range(runs):
            rv += 1
            changed = cm_object(k % objects, rv)
            changed["data"]["seq"] = str(k)
            base[k % objects] = changed
            t0 = time.perf_counter()
            data = json.dumps(snapshot).encode()
            code = subprocess.run(["cat"], input=data, stdout=subprocess.DEVNULL).returncode
            times.append(time.perf_counter() - t0)
            if code != 0:
                raise BenchError(f"naive hand-off run {k}: hook exit {code}")
    return {"ms_per_run": statistics.median(times) * 1000, "times": times, "bytes": len(data)}


def run(ctx: Context) -> list[Row]:
    n, runs = ctx.sizes.handoff_objects, ctx.sizes.handoff_runs
    results: dict[str, list[dict[str, Any]]] = {"kates": [], "naive": []}
    for rnd in range(ctx.rounds):
        for mode in rotate(["kates", "naive"], rnd):
            out = ctx.tmp / f"b5-{mode}-{rnd}.json"
            argv = [ctx.python, "-m", "bench.b5_handoff", "--worker", mode, str(n), str(runs), str(out)]
            run_measured(argv, ctx.env, cwd=REPO, timeout=300, stdout_null=True).check(f"B5 {mode} worker")
            results[mode].append(json.loads(out.read_text()))
    k = [r["ms_per_run"] for r in results["kates"]]
    p = [r["ms_per_run"] for r in results["naive"]]
    return [
        Row(
            "B5",
            f"hand-off of {n} objects ({results['kates'][0]['bytes'] / 1e6:.1f} MB) to cat >/dev/null: per run",
            "ms",
            median(k),
            "json.dumps + subprocess.run",
            median(p),
            target="<= 0.5x",
            check="ratio<=0.5",
            samples={"kates": k, "peer": p},
        )
    ]


def _main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--worker", choices=["kates", "naive"], required=True)
    p.add_argument("objects", type=int)
    p.add_argument("runs", type=int)
    p.add_argument("out")
    a = p.parse_args()
    result = worker(a.worker, a.objects, a.runs)
    with open(a.out, "w") as fh:
        json.dump(result, fh)
    sys.stdout.flush()


if __name__ == "__main__":
    _main()
