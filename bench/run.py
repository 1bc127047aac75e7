"""`python -m bench.run [--size N] [--rounds R] [--smoke] [--only B1,B2] [--json PATH]`: the whole suite;
`python -m bench.run --scale [--scale-sizes 1000,10000,50000] [--churn-seconds S]`: the scale run.

Starts its own local control plane (etcd + kube-apiserver on loopback, no controller manager), creates the
fixtures untimed, runs each selected benchmark for kates and each peer alternating over R rounds, prints one table
and writes the results as JSON (default `bench/results.json`). `--smoke` is a tiny run (N=100, one round) that
finishes in about a minute: ratios are printed, targets are not enforced. Correctness checks (B4's final snapshot)
are enforced always: a failure makes the exit status 1.

`--scale` runs B1, B2 and B6 at each size (the fixtures grow from one size to the next; three rounds per size unless
`--rounds`, so that each figure is a median of three: with two, the median is the mean and one slow round of a noisy
machine moves it; other benchmarks named in `--only` run once, at the smallest size), prints the default table's
rows at every size and then the cost per object at each size for kates and each peer with kates's ratios
(bench/scale.py), and writes `bench/results-scale.json`. B6's churn check runs at the largest size only, for 10
minutes unless `--churn-seconds`. The client-go peer (bench/clientgo.py) is built, or found in the cache, before the
first benchmark that needs it (B2, B3, B6); its build time goes into the results.

A full run (no `--smoke`, no `--only`) or `--results-md PATH` also writes the Markdown summary (bench/results_md.py):
the latest default and scale results side by side, the machine and the date.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import clientgo, results_md, scale
from .harness import HERE, REPO, Context, Sizes, child_env, close_spawner, find_kates, find_kubectl
from .report import Row, table, write_json

BENCHMARKS = {
    "B0": "b0_startup",
    "B1": "b1_get",
    "B2": "b2_sync",
    "B3": "b3_intake",
    "B4": "b4_coalesce",
    "B5": "b5_handoff",
    "B6": "b6_memory",
    "B7": "b7_resume",
}
SCALE_BENCHMARKS = ["B1", "B2", "B6"]
CLIENTGO_BENCHMARKS = {"B2", "B3", "B6"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=None, help="N: ConfigMaps of the main namespace (default 1000)")
    p.add_argument(
        "--rounds", type=int, default=None, help="alternating rounds per benchmark (default 3; 1 with --smoke)"
    )
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one round, targets not enforced")
    p.add_argument("--only", default="", help="comma-separated benchmark ids, e.g. B1,B2")
    p.add_argument(
        "--json",
        default=None,
        help="where to write the results (default bench/results.json, bench/results-scale.json for --scale)",
    )
    p.add_argument(
        "--scale",
        action="store_true",
        help="B1, B2 and B6 at each of --scale-sizes, with the cost per "
        "object at each size; B6's churn check (--churn-seconds, default 600) at the largest size",
    )
    p.add_argument(
        "--scale-sizes",
        default="",
        help="comma-separated N for --scale (default 1000,10000,50000; 100,200 with --smoke)",
    )
    p.add_argument(
        "--churn-seconds",
        type=float,
        default=None,
        help="B6's churn window (default 30; 600 for --scale; 4 for --smoke)",
    )
    p.add_argument(
        "--results-md",
        default=None,
        help="write the Markdown summary here (a full run, no --smoke or "
        "--only, writes bench/RESULTS.md); it holds the latest default and scale results",
    )
    p.add_argument("--note", default="", help="a line for the Markdown summary, e.g. that the machine was shared")
    args = p.parse_args(argv)
    args.rounds = args.rounds or (1 if args.smoke else 3)
    only = [x.strip().upper() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in only if x not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark id(s): {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    default = SCALE_BENCHMARKS if args.scale else list(BENCHMARKS)
    args.selected = [b for b in BENCHMARKS if b in only] if only else default
    if args.scale:
        try:
            sizes = [int(x) for x in args.scale_sizes.split(",") if x.strip()]
        except ValueError:
            p.error(f"--scale-sizes: not a list of integers: {args.scale_sizes!r}")
        if any(n < 1 for n in sizes):
            p.error("--scale-sizes: every size must be at least 1")
        args.sizes = sorted(set(sizes)) or ([100, 200] if args.smoke else [1000, 10000, 50000])
        if args.churn_seconds is None and not args.smoke:
            args.churn_seconds = 600.0
    else:
        args.sizes = [args.size or (100 if args.smoke else 1000)]
    args.size = args.sizes[-1]
    if args.json is None:
        args.json = str(HERE / ("results-scale.json" if args.scale else "results.json"))
    if args.results_md is None and not args.smoke and not only:
        args.results_md = str(HERE / "RESULTS.md")
    return args


def versions(ctx: Context) -> dict[str, str]:
    def out(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, env=ctx.env, timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    import kubernetes

    return {
        "python": platform.python_version(),
        "kates": out([*ctx.kates, "version", "--client"]),
        "kubectl": (out([ctx.kubectl, "version", "--client"]).splitlines() or [""])[0],
        "kubernetes_client": kubernetes.__version__,
        "server": (out([ctx.kubectl, "version"]).splitlines() or [""])[-1],
    }


def git_revision() -> str:
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, cwd=REPO, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    head = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "kates_cli")
    return f"{head}{' (kates_cli modified)' if dirty else ''}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.controlplane.launcher import ControlPlane

    started = time.monotonic()
    load_at_start = os.getloadavg()
    speed_at_start = machine_speed()
    rows: list[Row] = []
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    size_seconds: dict[int, float] = {}
    build_seconds = None
    with tempfile.TemporaryDirectory(prefix="kates-bench-") as tmp, ControlPlane(controller_manager=False) as cp:
        ctx = Context(
            cp=cp,
            sizes=Sizes(args.sizes[0], args.smoke, args.churn_seconds),
            rounds=args.rounds,
            tmp=Path(tmp),
            env=child_env(cp.kubeconfig, Path(tmp)),
            kates=find_kates(),
            kubectl=find_kubectl(),
            scale={} if args.scale else None,
        )
        ctx.log(f"control plane up in {cp.startup_seconds:.1f}s; N={args.sizes}, {args.rounds} round(s)")
        if CLIENTGO_BENCHMARKS & set(args.selected):
            t0 = time.monotonic()
            try:
                exe, build_seconds = clientgo.ensure_built()
                ctx.clientgo = str(exe)
                how = f"built in {build_seconds:.0f}s" if build_seconds else "cached"
                ctx.log(f"client-go peer: {exe} ({how})")
            except Exception as exc:  # the benchmarks that need it fail one by one, with this reason
                errors["client-go build"] = f"{type(exc).__name__}: {exc}"
                ctx.clientgo = "/nonexistent/clientgo-build-failed"
            timings["client-go build"] = time.monotonic() - t0
        for n in args.sizes:
            ctx.sizes = Sizes(n, args.smoke, args.churn_seconds, churn_now=n == args.sizes[-1])
            t_size = time.monotonic()
            for bid in args.selected:
                if args.scale and bid not in SCALE_BENCHMARKS and n != args.sizes[0]:
                    continue  # a scale run runs the others once, at the smallest size
                t0 = time.monotonic()
                ctx.log(f"{bid} (N={n}) ...")
                try:
                    module = importlib.import_module(f"bench.{BENCHMARKS[bid]}")
                    rows += module.run(ctx)
                except Exception as exc:  # one broken benchmark must not hide the others
                    key = f"{bid} N={n}" if args.scale else bid
                    errors[key] = f"{type(exc).__name__}: {exc}"
                    traceback.print_exc()
                    rows.append(Row(bid, f"FAILED: {type(exc).__name__}: {str(exc)[:200]}", "", None))
                timings[f"{bid} N={n}" if args.scale else bid] = time.monotonic() - t0
                ctx.log(f"{bid} (N={n}) done in {time.monotonic() - t0:.1f}s")
            size_seconds[n] = time.monotonic() - t_size
        meta: dict[str, Any] = {
            "size": args.size,
            "sizes": args.sizes,
            "scale": args.scale,
            "rounds": args.rounds,
            "smoke": args.smoke,
            "selected": args.selected,
            "churn_seconds": Sizes(args.size, args.smoke, args.churn_seconds).churn_seconds,
            "seconds": time.monotonic() - started,
            "benchmark_seconds": timings,
            "size_seconds": size_seconds,
            "clientgo_build_seconds": build_seconds,
            "control_plane_startup_seconds": cp.startup_seconds,
            "machine": machine(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "note": args.note,
            "cpus": os.cpu_count(),
            "loadavg_at_start": load_at_start,
            "loadavg_at_end": os.getloadavg(),
            "speed_at_start": speed_at_start,
            "speed_at_end": machine_speed(),
            "versions": versions(ctx),
            "revision": git_revision(),
            "errors": errors,
            "correctness_failures": ctx.failures,
        }
        if ctx.scale is not None:
            meta["per_size"] = scale.to_json(ctx.scale)
        close_spawner()
    meta["seconds"] = time.monotonic() - started
    print(table(rows, args.smoke))
    if ctx.scale is not None:
        print()
        print(scale.text(ctx.scale, args.sizes))
        print("seconds per size: " + ", ".join(f"N={n:,}: {t:.0f}s" for n, t in size_seconds.items()))
    sizes = ",".join(map(str, args.sizes))
    print(f"\n{len(args.selected)} benchmark(s), N={sizes}, {args.rounds} round(s), {meta['seconds']:.0f}s wall")
    write_json(Path(args.json), meta, rows)
    print(f"results: {args.json}")
    if args.results_md:
        results_md.write(Path(args.results_md), meta, rows)
        print(f"summary: {args.results_md}")
    for failure in ctx.failures:
        print(f"correctness failure: {failure}", file=sys.stderr)
    for bid, err in errors.items():
        print(f"{bid} failed: {err}", file=sys.stderr)
    return 1 if ctx.failures or errors else 0


SPEED_LOOP = 1_000_000  # additions in machine_speed's loop


def machine_speed(clock: Callable[[], float] = time.perf_counter) -> float:
    """Seconds a fixed pure-Python loop (SPEED_LOOP additions) takes in this process, the best of 5: the speed the
    machine gives at that moment. On this shared host it has varied about threefold within an hour, with no load of
    ours and no steal time shown; the load average misses it. Smaller is faster."""

    def loop() -> float:
        t0 = clock()
        total = 0
        for i in range(SPEED_LOOP):
            total += i
        return clock() - t0

    return min(loop() for _ in range(5))


def machine() -> dict[str, Any]:
    """Where the run ran: cores, memory, Python, kernel."""
    mem_kb = 0
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = int(next(line for line in fh if line.startswith("MemTotal:")).split()[1])
    except (OSError, StopIteration, ValueError):
        pass
    cpu_model = ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu_model = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kb / 2**20, 1),
        "python": platform.python_version(),
        "kernel": f"{platform.system()} {platform.release()}",
    }


if __name__ == "__main__":
    sys.exit(main())
