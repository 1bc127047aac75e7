"""`python -m bench.run [--size N] [--rounds R] [--smoke] [--only B1,B2] [--json PATH]`: the whole suite.

Starts its own local control plane (etcd + kube-apiserver on loopback, no controller manager), creates the
fixtures untimed, runs each selected benchmark for kates and each peer alternating over R rounds, prints one table
and writes the results as JSON (default `bench/results.json`). `--smoke` is a tiny run (N=100, one round) that
finishes in about a minute: ratios are printed, targets are not enforced. Correctness checks (B4's final snapshot)
are enforced always: a failure makes the exit status 1.
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
from pathlib import Path
from typing import Any

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


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=None, help="N: ConfigMaps of the main namespace (default 1000)")
    p.add_argument("--rounds", type=int, default=None, help="alternating rounds per benchmark (default 3)")
    p.add_argument("--smoke", action="store_true", help="tiny sizes, one round, targets not enforced")
    p.add_argument("--only", default="", help="comma-separated benchmark ids, e.g. B1,B2")
    p.add_argument("--json", default=str(HERE / "results.json"), help="where to write the results")
    args = p.parse_args(argv)
    args.size = args.size or (100 if args.smoke else 1000)
    args.rounds = args.rounds or (1 if args.smoke else 3)
    only = [x.strip().upper() for x in args.only.split(",") if x.strip()]
    unknown = [x for x in only if x not in BENCHMARKS]
    if unknown:
        p.error(f"unknown benchmark id(s): {', '.join(unknown)} (known: {', '.join(BENCHMARKS)})")
    args.selected = [b for b in BENCHMARKS if b in only] if only else list(BENCHMARKS)
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
    rows: list[Row] = []
    errors: dict[str, str] = {}
    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="kates-bench-") as tmp, ControlPlane(controller_manager=False) as cp:
        ctx = Context(
            cp=cp,
            sizes=Sizes(args.size, args.smoke),
            rounds=args.rounds,
            tmp=Path(tmp),
            env=child_env(cp.kubeconfig, Path(tmp)),
            kates=find_kates(),
            kubectl=find_kubectl(),
        )
        ctx.log(f"control plane up in {cp.startup_seconds:.1f}s; N={args.size}, {args.rounds} round(s)")
        for bid in args.selected:
            t0 = time.monotonic()
            ctx.log(f"{bid} ...")
            try:
                module = importlib.import_module(f"bench.{BENCHMARKS[bid]}")
                rows += module.run(ctx)
            except Exception as exc:  # one broken benchmark must not hide the others
                errors[bid] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
                rows.append(Row(bid, f"FAILED: {type(exc).__name__}: {str(exc)[:200]}", "", None))
            timings[bid] = time.monotonic() - t0
            ctx.log(f"{bid} done in {timings[bid]:.1f}s")
        meta: dict[str, Any] = {
            "size": args.size,
            "rounds": args.rounds,
            "smoke": args.smoke,
            "selected": args.selected,
            "seconds": time.monotonic() - started,
            "benchmark_seconds": timings,
            "control_plane_startup_seconds": cp.startup_seconds,
            "cpus": os.cpu_count(),
            "loadavg_at_start": load_at_start,
            "loadavg_at_end": os.getloadavg(),
            "versions": versions(ctx),
            "revision": git_revision(),
            "errors": errors,
            "correctness_failures": ctx.failures,
        }
        close_spawner()
    meta["seconds"] = time.monotonic() - started
    print(table(rows, args.smoke))
    print(f"\n{len(args.selected)} benchmark(s), N={args.size}, {args.rounds} round(s), {meta['seconds']:.0f}s wall")
    write_json(Path(args.json), meta, rows)
    print(f"results: {args.json}")
    for failure in ctx.failures:
        print(f"correctness failure: {failure}", file=sys.stderr)
    for bid, err in errors.items():
        print(f"{bid} failed: {err}", file=sys.stderr)
    return 1 if ctx.failures or errors else 0


if __name__ == "__main__":
    sys.exit(main())
