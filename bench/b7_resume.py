"""B7: watch drop and resume: objects re-fetched and relists, kates against a naive watch, in two disruptions.

Both watchers run at the same time, through the same disruptions, on the N ConfigMaps of `bench-storm`, talking to
the API server through a loopback proxy (bench/proxy.py): kates (peers/kates_resume.py, `Client().watch(Query(...))`,
relists/reconnects from `acc.streams[0]`, and every object delivered again) and the naive client
(peers/naive_resume.py: list, `watch.Watch().stream`, and on an error list again). After each disruption this
process patches a few marker ConfigMaps; a watcher has caught up when it has seen every marker.

1. connection drop: the proxy resets every open connection while kube-apiserver keeps running, so the version each
   watcher resumes from is still in the watch cache. This is where the target applies: no full relist.
2. apiserver restart (`ControlPlane.restart_apiserver()`, which returns once /readyz answers): the new server's
   watch cache starts at etcd's current revision, and it answers a resume from an older version with 410 Gone
   ("too old resource version"), so a relist is the server's demand, not a client's choice. Reported, no target.
"""

from __future__ import annotations

import json
import time
from typing import Any

from . import fixtures
from .harness import Child, Context, median
from .proxy import CuttingProxy
from .report import Row

MARKERS = 3
PHASES = ("drop", "restart")


def run(ctx: Context) -> list[Row]:
    fixtures.ensure(ctx, "storm")
    ns = fixtures.STORM
    names = [f"cm-{i:05d}" for i in range(MARKERS)]
    proxy = CuttingProxy(ctx.cp.port)
    env = dict(ctx.env, KUBECONFIG=str(proxy.kubeconfig(ctx.cp.kubeconfig, ctx.tmp / "proxied.kubeconfig")))
    # per phase and watcher: the counts of that phase alone (the children report running totals)
    results: dict[str, dict[str, list[dict[str, Any]]]] = {p: {"kates": [], "naive": []} for p in PHASES}
    restarts: list[float] = []
    try:
        for rnd in range(ctx.rounds):
            tokens = {p: f"{p}-{rnd}-{time.time_ns()}" for p in PHASES}
            arg = ",".join(tokens[p] for p in PHASES)
            children = {
                "kates": Child(ctx.peer("kates_resume.py", ns, arg, *names), env),
                "naive": Child(ctx.peer("naive_resume.py", ns, arg, *names), env),
            }
            try:
                for child in children.values():
                    child.wait_line("ready", 120)
                before: dict[str, dict[str, Any]] = {name: {} for name in children}
                for phase in PHASES:
                    if phase == "drop":
                        time.sleep(0.5)  # both watches open
                        proxy.cut()
                        disrupted = time.monotonic()
                    else:
                        t0 = time.monotonic()
                        ctx.cp.restart_apiserver()
                        disrupted = time.monotonic()
                        restarts.append(disrupted - t0)
                    ctx.cp.bulk(
                        "PATCH",
                        [
                            (f"/api/v1/namespaces/{ns}/configmaps/{n}", {"data": {"marker": tokens[phase]}})
                            for n in names
                        ],
                        content_type="application/merge-patch+json",
                    )
                    for name, child in children.items():
                        at, line = child.wait_line(f"phase {tokens[phase]}", 200)
                        total = json.loads(line)
                        if total.get("caught_up") is False:  # a peer that never saw the markers measured nothing
                            raise RuntimeError(f"B7: {name} did not see the markers of phase {phase} within 180 s")
                        part = {k: v - before[name].get(k, 0) for k, v in total.items() if isinstance(v, (int, float))}
                        part["caught_up"] = total["caught_up"]
                        part["catch_up_seconds"] = at - disrupted
                        before[name] = total
                        results[phase][name].append(part)
                for child in children.values():
                    child.finish(30)
            finally:
                for child in children.values():
                    child.kill()
    finally:
        proxy.close()

    def fig(phase: str, name: str, key: str) -> list[float]:
        return [float(r[key]) for r in results[phase][name]]

    n = ctx.sizes.size
    rows = []
    for phase in PHASES:
        what = f"watch of {n} CMs, {'connection cut, server up' if phase == 'drop' else 'apiserver restart'}"
        restart_relists = fig(phase, "kates", "relists")
        rows += [
            Row(
                "B7",
                f"{what}: objects re-fetched",
                "objects",
                median(fig(phase, "kates", "refetched")),
                "naive (relists on error)",
                median(fig(phase, "naive", "refetched")),
                ratio_kind="",
                target="0 (no full relist)" if phase == "drop" else "n/a: server answers 410",
                check="kates==0" if phase == "drop" else "",
                samples={"kates": fig(phase, "kates", "refetched"), "peer": fig(phase, "naive", "refetched")},
                note=""
                if phase == "drop"
                else (
                    "the restarted server's watch cache starts at etcd's current revision and answers kates's resume "
                    "with 410 Gone, so kates relists"
                    if any(restart_relists)
                    else "kates resumed without a relist"
                )
                + f"; kube-apiserver restart took {median(restarts):.1f} s (median)",
                details={"kates": results[phase]["kates"], "naive": results[phase]["naive"]}
                | ({"restart_seconds": restarts} if phase == "restart" else {}),
            ),
            Row(
                "B7",
                f"{what}: relists",
                "relists",
                median(fig(phase, "kates", "relists")),
                "naive (relists on error)",
                median(fig(phase, "naive", "relists")),
                ratio_kind="",
                target="0" if phase == "drop" else "-",
                check="kates==0" if phase == "drop" else "",
                samples={"kates": fig(phase, "kates", "relists"), "peer": fig(phase, "naive", "relists")},
            ),
            Row(
                "B7",
                f"{what}: seconds to catch up",
                "s",
                median(fig(phase, "kates", "catch_up_seconds")),
                "naive (relists on error)",
                median(fig(phase, "naive", "catch_up_seconds")),
                samples={
                    "kates": fig(phase, "kates", "catch_up_seconds"),
                    "peer": fig(phase, "naive", "catch_up_seconds"),
                },
                note="from the cut" if phase == "drop" else "from /readyz answering after the restart",
            ),
        ]
    return rows
