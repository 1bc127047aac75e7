"""B2: cold sync of a watch of three kinds (N ConfigMaps, N/2 Secrets, N/10 Services in one namespace) until a
hook has the full snapshot, from process start to exit: wall time and client CPU-seconds (the hook, `cat`, is
included for both sides, since each waits for it).

kates: `kates watch -q 'cm ns=NS' -q 'secrets ns=NS' -q 'svc ns=NS' --once --exec cat`.
naive: peers/naive_sync.py (list+watch with typed models, one thread per kind, then `json.dumps` to `cat`).
kubectl: three `kubectl get KIND -n NS -o json` runs, one after the other; their wall and CPU are added up.

The snapshots printed by kates and by the naive peer are parsed once (untimed warm-up) and checked for all objects.
"""

from __future__ import annotations

import json

from . import fixtures
from .harness import BenchError, Context, median, rotate, run_measured
from .report import Row

KINDS = ("cm", "secrets", "svc")


def run(ctx: Context) -> list[Row]:
    fixtures.ensure(ctx, "main")
    s = ctx.sizes
    ns = fixtures.MAIN
    expected = {"cm": s.size, "secrets": s.secrets, "svc": s.services}
    kates = [*ctx.kates, "watch", *[a for k in KINDS for a in ("-q", f"{k} ns={ns}")], "--once", "--exec", "cat"]
    naive = ctx.peer("naive_sync.py", ns, "cat")
    kubectl = [[ctx.kubectl, "get", kind, "-n", ns, "-o", "json"] for kind in KINDS]
    for name, argv in (("kates", kates), ("naive", naive)):  # warm-up, untimed, and a check of the snapshot
        m = run_measured(argv, ctx.env, keep_output=True).check(f"B2 {name}")
        got = {k: len(v) for k, v in json.loads(m.out).items()}
        if got != expected:
            raise BenchError(f"B2 {name} snapshot holds {got}, expected {expected}")
    for argv in kubectl:
        run_measured(argv, ctx.env).check("B2 kubectl")
    wall: dict[str, list[float]] = {"kates": [], "naive": [], "kubectl": []}
    cpu: dict[str, list[float]] = {"kates": [], "naive": [], "kubectl": []}
    rss: dict[str, list[float]] = {"kates": [], "naive": [], "kubectl": []}
    for rnd in range(ctx.rounds):
        for name in rotate(["kates", "naive", "kubectl"], rnd):
            if name == "kubectl":
                ms = [run_measured(argv, ctx.env).check("B2 kubectl") for argv in kubectl]
                wall[name].append(sum(m.wall for m in ms))
                cpu[name].append(sum(m.cpu for m in ms))
                rss[name].append(max(m.maxrss_mb for m in ms))
            else:
                m = run_measured(kates if name == "kates" else naive, ctx.env).check(f"B2 {name}")
                wall[name].append(m.wall)
                cpu[name].append(m.cpu)
                rss[name].append(m.maxrss_mb)
    what = f"watch sync {s.size} CM+{s.secrets} Secret+{s.services} Svc to the hook"

    def row(fig: str, data: dict[str, list[float]], unit: str, peer: str, **kw: object) -> Row:
        return Row(
            "B2",
            f"{what}: {fig}",
            unit,
            median(data["kates"]),
            "3x kubectl get -o json" if peer == "kubectl" else peer,
            median(data[peer]),
            samples={"kates": data["kates"], "peer": data[peer]},
            **kw,  # type: ignore[arg-type]
        )

    return [
        row("wall", wall, "s", "naive", ratio_kind="peer/kates", target=">= 5x faster", check="ratio>=5"),
        row("wall", wall, "s", "kubectl", target="<= 1.5x", check="ratio<=1.5"),
        row("client CPU-s", cpu, "CPU-s", "naive", ratio_kind="peer/kates"),
        row("client CPU-s", cpu, "CPU-s", "kubectl"),
        row("peak RSS", rss, "MiB", "naive"),
    ]
