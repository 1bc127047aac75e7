"""B3: steady watch intake under a patch storm: watch events taken in per client CPU-second.

A child watches the N ConfigMaps of `bench-storm` (kates: peers/kates_intake.py, `Client().watch(Query(...))`;
naive: peers/naive_intake.py, `watch.Watch().stream(...)` with typed models; client-go: peers/clientgo `intake`, a
shared informer counting its update notifications) and says "ready" once synced with its
watch open; then this process patches every ConfigMap twice (merge patches, 2N events) through `ControlPlane.bulk`.
The child counts the events delivered to it and reports its own CPU-seconds (rusage) from "ready" to the last
event, so start-up and the initial list are left out. The storm writer runs in this process, not in the child.
"""

from __future__ import annotations

import json
import time

from . import fixtures
from .harness import BenchError, Child, Context, median, rotate
from .report import Row


def storm(ctx: Context, tag: str) -> float:
    """Patch every storm ConfigMap twice with values never used before; returns the seconds it took."""
    n = ctx.sizes.size
    patches = [
        (f"/api/v1/namespaces/{fixtures.STORM}/configmaps/cm-{i:05d}", {"data": {"seq": f"{tag}-{rep}"}})
        for rep in range(2)
        for i in range(n)
    ]
    started = time.monotonic()
    ctx.cp.bulk("PATCH", patches, content_type="application/merge-patch+json")
    return time.monotonic() - started


def run(ctx: Context) -> list[Row]:
    fixtures.ensure(ctx, "storm")
    expected = ctx.sizes.storm_patches
    results: dict[str, list[dict[str, float]]] = {"kates": [], "naive": [], "client-go": []}
    args = (fixtures.STORM, str(expected), "120")
    argvs = {
        "kates": ctx.peer("kates_intake.py", *args),
        "naive": ctx.peer("naive_intake.py", *args),
        "client-go": [ctx.clientgo, "intake", *args],
    }
    for rnd in range(ctx.rounds):
        for name in rotate(list(argvs), rnd):
            child = Child(argvs[name], ctx.env)
            try:
                child.wait_line("ready", 120)
                storm_seconds = storm(ctx, f"{name}-{rnd}")
                storm_end = time.monotonic()
                at, line = child.wait_line("done", 150)
                child.finish(30)
            finally:
                child.kill()
            result = json.loads(line)
            if not result["complete"]:
                raise BenchError(f"B3 {name} took in {result['events']} of {expected} events")
            result.update(
                storm_seconds=storm_seconds,
                lag_after_storm=max(0.0, at - storm_end),
                process_cpu=child.cpu,
                events_per_cpu_second=result["events"] / result["cpu"] if result["cpu"] > 0 else 0.0,
            )
            results[name].append(result)

    def fig(name: str, key: str) -> list[float]:
        return [float(r[key]) for r in results[name]]

    what = f"watch intake of {expected} patch events"
    return [
        Row(
            "B3",
            f"{what}: events per client CPU-s",
            "ev/CPU-s",
            median(fig("kates", "events_per_cpu_second")),
            "naive",
            median(fig("naive", "events_per_cpu_second")),
            target=">= 5x",
            check="ratio>=5",
            samples={"kates": fig("kates", "events_per_cpu_second"), "peer": fig("naive", "events_per_cpu_second")},
            details={"kates": results["kates"], "naive": results["naive"]},
            note="CPU-s from the watcher's own rusage, from synced to the last event; the storm writer (this process, "
            f"median {median(fig('kates', 'storm_seconds')):.1f} s) and the API server share the machine; kates reads "
            "a storm once per 50 ms window (core/watch.py BATCH_WINDOW), so its events arrive up to 50 ms later, "
            "the peers read each event as it comes",
        ),
        Row(
            "B3",
            f"{what}: events per client CPU-s",
            "ev/CPU-s",
            median(fig("kates", "events_per_cpu_second")),
            "client-go informer",
            median(fig("client-go", "events_per_cpu_second")),
            target=">= 1.0x",
            check="ratio>=1.0",
            samples={
                "kates": fig("kates", "events_per_cpu_second"),
                "peer": fig("client-go", "events_per_cpu_second"),
            },
            details={"client-go": results["client-go"]},
        ),
        Row(
            "B3",
            f"{what}: client CPU-s for the storm",
            "CPU-s",
            median(fig("kates", "cpu")),
            "naive",
            median(fig("naive", "cpu")),
            ratio_kind="peer/kates",
            samples={"kates": fig("kates", "cpu"), "peer": fig("naive", "cpu")},
        ),
    ]
