"""B6: memory held by a watch, per byte of the objects it holds.

kates: a running `kates watch` of the three kinds of B2 in `bench-main` (hook: `cat >/dev/null`); once the first hook
run is done and the process has settled, its VmRSS (/proc/PID/status). kubectl: `kubectl get cm,secrets,svc -n NS
-o json`, its peak RSS (ru_maxrss). Both also on the empty namespace `bench-empty`, so the figure is the *marginal*
memory: (RSS with the objects - RSS without them) / raw JSON bytes of the objects (compact, as served). At the
default N the objects are a few MB while an interpreter alone is tens of MB, so whole-process RSS / bytes would
measure start-up, not the watch; whole-process figures are reported beside it.

client-go: peers/clientgo `hold` (three shared informers on the same namespace), its VmRSS once synced and settled,
with and without the objects, as kates's.

Growth: BENCHMARKS.md asks for none over 10 minutes of churn, too long for the default run. Here the ConfigMaps are
patched continuously (30 s by default, 4 s in --smoke, 10 minutes in a scale run, where it runs only at the largest
size; `--churn-seconds`) under the running watch, once, in the last round; the first quarter warms up allocators,
and the figure is the growth of the lowest VmRSS sample (between hook runs) of the second half over the second
quarter's. A median would land on either level by chance, as the snapshot a run holds is far larger than the 1 MiB
bound; the highest sample depends on how far into a run's snapshot it landed (both are in the details).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

from . import fixtures
from .harness import Child, Context, median, rotate, run_measured, wait_until
from .report import Row

KINDS = ("cm", "secrets", "svc")


def hook_script(ctx: Context) -> Path:
    path = ctx.tmp / "b6-hook.sh"
    if not path.exists():
        path.write_text('#!/bin/sh\ncat >/dev/null\necho run >>"$B6_LOG"\n')
        path.chmod(0o755)
    return path


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def start_watch(ctx: Context, ns: str, tag: str) -> tuple[Child, Path]:
    log = ctx.tmp / f"b6-{tag}.log"
    log.unlink(missing_ok=True)
    argv = [*ctx.kates, "watch", *[a for k in KINDS for a in ("-q", f"{k} ns={ns}")], "--exec", str(hook_script(ctx))]
    child = Child(argv, dict(ctx.env, B6_LOG=str(log)), stdout_null=True)
    wait_until(lambda: runs(log) >= 1, 600, f"the first hook run of kates watch ({ns})")
    return child, log


def settled_rss(child: Child) -> float:
    time.sleep(1.0)
    return child.rss_mb()


def churn(ctx: Context, child: Child, seconds: float) -> dict[str, float]:
    """Patch the main ConfigMaps in batches for `seconds`; VmRSS at the start, the middle and the end."""
    n = ctx.sizes.size
    samples: list[tuple[float, float]] = []
    start = time.monotonic()
    k = 0
    mid_rss = None
    samples.append((0.0, child.rss_mb()))
    while time.monotonic() - start < seconds:
        batch = [
            (f"/api/v1/namespaces/{fixtures.MAIN}/configmaps/cm-{(k + i) % n:05d}", {"data": {"churn": f"{k + i:08d}"}})
            for i in range(min(n, 200))
        ]
        k += len(batch)
        ctx.cp.bulk("PATCH", batch, content_type="application/merge-patch+json")
        elapsed = time.monotonic() - start
        samples.append((elapsed, child.rss_mb()))
        if mid_rss is None and elapsed >= seconds / 2:
            mid_rss = child.rss_mb()
    time.sleep(2.0)  # let the last hook runs finish
    end_rss = child.rss_mb()
    samples.append((time.monotonic() - start, end_rss))
    quarter = [r for t, r in samples if seconds / 4 <= t < seconds / 2] or [samples[0][1]]
    second_half = [r for t, r in samples if t >= seconds / 2]
    return {
        "patches": float(k),
        "seconds": time.monotonic() - start,
        "start_rss_mb": samples[0][1],
        "mid_rss_mb": mid_rss if mid_rss is not None else samples[0][1],
        "end_rss_mb": end_rss,
        "peak_rss_mb": child.rss_mb("VmHWM"),
        # RSS saw-tooths with every hook run: each snapshot is as large as all the objects' bytes (47 MiB at
        # N=20,000), its own mapping, gone after the run. A sample lands in a run or between runs by chance, so a
        # median (or a quartile) of each window jumps between the two levels, and its highest sample depends on how
        # far into a run's snapshot it landed (a 20k run: +6.0 MiB and +2.7 MiB with the same VmHWM). What a leak or
        # fragmentation raises is the memory held between runs: the figure is the growth of the lowest sample.
        "floor_growth_mb": min(second_half) - min(quarter),
        "ceiling_growth_mb": max(second_half) - max(quarter),
        "median_growth_mb": _median(second_half) - _median(quarter),  # the figure before 2026-12-05
        "growth_mb": min(second_half) - min(quarter),
        "samples": float(len(samples)),
    }


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[len(ordered) // 2]


def run(ctx: Context) -> list[Row]:
    fixtures.ensure(ctx, "main")
    fixtures.ensure(ctx, "empty")
    objects = [o for r in ("configmaps", "secrets", "services") for o in fixtures.items(ctx, fixtures.MAIN, r)]
    raw = fixtures.raw_json_bytes(objects)
    raw_mb = raw / 2**20
    kubectl = [ctx.kubectl, "get", ",".join(KINDS), "-o", "json", "-n"]
    tools = ("kates", "kubectl", "client-go")
    rss: dict[str, dict[str, list[float]]] = {t: {"full": [], "empty": []} for t in tools}
    growth: dict[str, float] = {}
    for rnd in range(ctx.rounds):
        for tool in rotate(list(tools), rnd):
            for ns, key in ((fixtures.EMPTY, "empty"), (fixtures.MAIN, "full")):
                if tool == "kubectl":
                    rss[tool][key].append(
                        run_measured([*kubectl, ns], ctx.env, timeout=900).check("B6 kubectl").maxrss_mb
                    )
                    continue
                if tool == "client-go":
                    child = Child([ctx.clientgo, "hold", ns], ctx.env)
                    try:
                        child.wait_line("synced", 600)
                        rss[tool][key].append(settled_rss(child))
                    finally:
                        child.finish(timeout=30, stop=signal.SIGTERM)
                    continue
                child, _ = start_watch(ctx, ns, f"{key}-{rnd}")
                try:
                    rss[tool][key].append(settled_rss(child))
                    if key == "full" and rnd == ctx.rounds - 1 and ctx.sizes.churn_now:
                        growth = churn(ctx, child, ctx.sizes.churn_seconds)
                finally:
                    child.finish(timeout=30, stop=signal.SIGTERM)
    for tool in tools:
        ctx.record("B6", tool, ctx.sizes.size, rss=median(rss[tool]["full"]))
        ctx.record("B6", tool, 0, rss=median(rss[tool]["empty"]))

    def marginal(tool: str) -> list[float]:
        return [(f - e) / raw_mb for f, e in zip(rss[tool]["full"], rss[tool]["empty"], strict=True)]

    what = f"watch of {len(objects)} objects ({raw_mb:.1f} MiB JSON)"
    rows = [
        Row(
            "B6",
            f"{what}: marginal RSS / JSON bytes",
            "x",
            median(marginal("kates")),
            "kubectl get -o json",
            median(marginal("kubectl")),
            target="kates <= 2.0x",
            check="kates<=2.0",
            samples={"kates": marginal("kates"), "peer": marginal("kubectl")},
            note="marginal: RSS with the objects minus RSS of the same command on an empty namespace; "
            "kates: VmRSS of the running watch after sync, kubectl: peak RSS",
            details={"raw_json_bytes": raw, "rss_mb": rss},
        ),
        Row(
            "B6",
            f"{what}: marginal RSS / JSON bytes",
            "x",
            median(marginal("kates")),
            "client-go informer",
            median(marginal("client-go")),
            target="<= 1.0x",
            check="ratio<=1.0",
            samples={"kates": marginal("kates"), "peer": marginal("client-go")},
            note="client-go: VmRSS of three synced shared informers (typed objects), settled 1 s",
        ),
        Row(
            "B6",
            f"{what}: whole-process RSS",
            "MiB",
            median(rss["kates"]["full"]),
            "kubectl get -o json",
            median(rss["kubectl"]["full"]),
            samples={"kates": rss["kates"]["full"], "peer": rss["kubectl"]["full"]},
        ),
        Row(
            "B6",
            f"{what}: RSS growth, {ctx.sizes.churn_seconds:g} s churn, lowest RSS 2nd half - 2nd quarter",
            "MiB",
            growth.get("growth_mb"),
            "",
            None,
            ratio_kind="",
            target="no growth (<= 1 MiB)",
            check="kates<=1.0",
            note=f"{growth.get('patches', 0):.0f} patches in {growth.get('seconds', 0):.0f} s; the growth of the "
            "lowest sample (RSS between hook runs); of the highest (during one) "
            f"{growth.get('ceiling_growth_mb', 0):+.1f} MiB, of the median {growth.get('median_growth_mb', 0):+.1f} MiB"
            + ("" if ctx.sizes.churn_seconds >= 600 else "; a short window, not the 10 minutes of BENCHMARKS.md"),
            details=growth,
        ),
    ]
    return rows if ctx.sizes.churn_now else rows[:-1]
