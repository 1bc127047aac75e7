"""B2: cold sync of a watch of three kinds (N ConfigMaps, N/2 Secrets, N/10 Services in one namespace) until a
hook has the full snapshot, from process start to exit: wall time, client CPU-seconds and peak RSS (the hook,
`cat`, is included for every runner, since each waits for it).

kates: `kates watch -q 'cm ns=NS' -q 'secrets ns=NS' -q 'svc ns=NS' --once --exec cat`.
naive: peers/naive_sync.py (list+watch with typed models, one thread per kind, then `json.dumps` to `cat`).
client-go informer: peers/clientgo `informer-sync` (three shared informers, streaming list when client-go enables
it, then `json.Marshal` of the snapshot to `cat`); client-go list: `list-sync` (three plain List calls).
kubectl: three `kubectl get KIND -n NS -o json` runs, one after the other; their wall and CPU are added up.

The snapshots printed by kates and by the naive and client-go peers are parsed once (untimed warm-up) and checked
for all objects. In a scale run every runner is also measured once on the empty namespace (the baseline of the cost
per object).
"""

from __future__ import annotations

import json
import re

from . import fixtures
from .harness import BenchError, Context, median, rotate, run_measured
from .report import Row

KINDS = ("cm", "secrets", "svc")
SNAPSHOT_RUNNERS = ("kates", "naive", "client-go informer", "client-go list")


def commands(ctx: Context, ns: str) -> dict[str, list[list[str]]]:
    """Each runner's command lines (kubectl: three, run one after the other)."""
    return {
        "kates": [
            [*ctx.kates, "watch", *[a for k in KINDS for a in ("-q", f"{k} ns={ns}")], "--once", "--exec", "cat"]
        ],
        "naive": [ctx.peer("naive_sync.py", ns, "cat")],
        "client-go informer": [[ctx.clientgo, "informer-sync", ns, "cat"]],
        "client-go list": [[ctx.clientgo, "list-sync", ns, "cat"]],
        "kubectl": [[ctx.kubectl, "get", kind, "-n", ns, "-o", "json"] for kind in KINDS],
    }


def measure(ctx: Context, runners: dict[str, list[list[str]]], what: str) -> dict[str, dict[str, list[float]]]:
    """R alternating rounds of every runner: runner -> {"wall", "cpu", "rss"} -> samples."""
    data: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": [], "rss": []} for name in runners}
    for rnd in range(ctx.rounds):
        for name in rotate(list(runners), rnd):
            ms = [run_measured(argv, ctx.env, timeout=900).check(f"B2 {name}{what}") for argv in runners[name]]
            data[name]["wall"].append(sum(m.wall for m in ms))
            data[name]["cpu"].append(sum(m.cpu for m in ms))
            data[name]["rss"].append(max(m.maxrss_mb for m in ms))
    return data


def requests_line(err: str) -> dict[str, int]:
    """How the client-go peer listed: its "clientgo requests {json}" stderr line."""
    found = re.search(r"^clientgo requests (\{.*\})$", err, re.MULTILINE)
    return json.loads(found.group(1)) if found else {}


def run(ctx: Context) -> list[Row]:
    fixtures.ensure(ctx, "main")
    s = ctx.sizes
    ns = fixtures.MAIN
    expected = {"cm": s.size, "secrets": s.secrets, "svc": s.services}
    runners = commands(ctx, ns)
    how_listed: dict[str, dict[str, int]] = {}
    for name in SNAPSHOT_RUNNERS:  # warm-up, untimed, and a check of the snapshot
        m = run_measured(runners[name][0], ctx.env, keep_output=True, timeout=900).check(f"B2 {name}")
        got = {k: len(v) for k, v in json.loads(m.out).items()}
        if got != expected:
            raise BenchError(f"B2 {name} snapshot holds {got}, expected {expected}")
        if name.startswith("client-go"):
            how_listed[name] = requests_line(m.err)
    for argv in runners["kubectl"]:
        run_measured(argv, ctx.env).check("B2 kubectl")
    data = measure(ctx, runners, "")
    if ctx.scale is not None:
        for name, figs in data.items():
            ctx.record("B2", name, s.size, **{k: median(v) for k, v in figs.items()})
        if 0 not in ctx.scale.get(("B2", "kates", "wall"), {}):
            fixtures.ensure(ctx, "empty")
            empty = measure(ctx, commands(ctx, fixtures.EMPTY), " (empty)")
            for name, figs in empty.items():
                ctx.record("B2", name, 0, **{k: median(v) for k, v in figs.items()})
    what = f"watch sync {s.size} CM+{s.secrets} Secret+{s.services} Svc to the hook"

    def row(fig: str, key: str, unit: str, peer: str, **kw: object) -> Row:
        return Row(
            "B2",
            f"{what}: {fig}",
            unit,
            median(data["kates"][key]),
            "3x kubectl get -o json" if peer == "kubectl" else peer,
            median(data[peer][key]),
            samples={"kates": data["kates"][key], "peer": data[peer][key]},
            **kw,  # type: ignore[arg-type]
        )

    informer = "client-go informer"
    listed = ", ".join(f"{k} {v}" for k, v in sorted(how_listed.get(informer, {}).items()))
    return [
        row("wall", "wall", "s", "naive", ratio_kind="peer/kates", target=">= 5x faster", check="ratio>=5"),
        row("wall", "wall", "s", "kubectl", target="<= 1.0x", check="ratio<=1.0"),
        row("wall", "wall", "s", informer),
        row("wall", "wall", "s", "client-go list"),
        row("client CPU-s", "cpu", "CPU-s", "naive", ratio_kind="peer/kates"),
        row("client CPU-s", "cpu", "CPU-s", "kubectl"),
        row(
            "client CPU-s",
            "cpu",
            "CPU-s",
            informer,
            target="<= 1.0x",
            check="ratio<=1.0",
            note=f"client-go's requests: {listed or 'not reported'}",
            details={"requests": how_listed},
        ),
        row("client CPU-s", "cpu", "CPU-s", "client-go list"),
        row("peak RSS", "rss", "MiB", "naive"),
        row("peak RSS", "rss", "MiB", informer),
    ]
