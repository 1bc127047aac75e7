"""B0: start-up. Wall time of `kates --help`, and of `kates get ns default` (one object, table output), each a new
process, beside kubectl doing the same.

"Cold" is measured two ways: a new process with the discovery caches already on disk (each tool's own: kates's
`$KATES_CACHE_DIR`, kubectl's `$KUBECACHEDIR`), and a new process with both caches empty (discovery fetched).
One untimed warm-up run of each command comes first, so the interpreter's and kubectl's files are in the page cache.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .harness import Context, Measured, median, rotate, run_measured
from .report import Row


def run(ctx: Context) -> list[Row]:
    reps = 1 if ctx.sizes.smoke else 5
    commands = {
        "help": ([*ctx.kates, "--help"], [ctx.kubectl, "--help"]),
        "get": ([*ctx.kates, "get", "ns", "default"], [ctx.kubectl, "get", "ns", "default"]),
    }
    for kates_argv, kubectl_argv in commands.values():  # warm-up, untimed
        run_measured(kates_argv, ctx.env).check("kates warm-up")
        run_measured(kubectl_argv, ctx.env).check("kubectl warm-up")
    samples: dict[str, dict[str, list[Measured]]] = {k: {"kates": [], "kubectl": []} for k in ("help", "get", "cold")}
    for rnd in range(ctx.rounds):
        for _ in range(reps):
            for tool in rotate(["kates", "kubectl"], rnd):
                for key, (kates_argv, kubectl_argv) in commands.items():
                    argv = kates_argv if tool == "kates" else kubectl_argv
                    samples[key][tool].append(run_measured(argv, ctx.env).check(f"{tool} {key}"))
                with tempfile.TemporaryDirectory(dir=ctx.tmp) as empty:
                    env = dict(ctx.env, KATES_CACHE_DIR=str(Path(empty) / "k"), KUBECACHEDIR=str(Path(empty) / "c"))
                    argv = commands["get"][0] if tool == "kates" else commands["get"][1]
                    samples["cold"][tool].append(run_measured(argv, env).check(f"{tool} get, empty caches"))

    def wall(key: str, tool: str) -> list[float]:
        return [m.wall for m in samples[key][tool]]

    def cpu(key: str, tool: str) -> list[float]:
        return [m.cpu for m in samples[key][tool]]

    rows = [
        Row(
            "B0",
            "kates --help, new process: wall",
            "s",
            median(wall("help", "kates")),
            "kubectl --help",
            median(wall("help", "kubectl")),
            target="kates < 0.15 s",
            check="kates<=0.15",
            samples={"kates": wall("help", "kates"), "peer": wall("help", "kubectl")},
        ),
        Row(
            "B0",
            "get ns default (1 object), new process, discovery cached: wall",
            "s",
            median(wall("get", "kates")),
            "kubectl",
            median(wall("get", "kubectl")),
            target="<= 1.5x",
            check="ratio<=1.5",
            samples={"kates": wall("get", "kates"), "peer": wall("get", "kubectl")},
            details={"cpu": {"kates": cpu("get", "kates"), "kubectl": cpu("get", "kubectl")}},
        ),
        Row(
            "B0",
            "get ns default, new process, empty discovery caches: wall",
            "s",
            median(wall("cold", "kates")),
            "kubectl",
            median(wall("cold", "kubectl")),
            target="<= 1.5x",
            check="ratio<=1.5",
            samples={"kates": wall("cold", "kates"), "peer": wall("cold", "kubectl")},
            details={"cpu": {"kates": cpu("cold", "kates"), "kubectl": cpu("cold", "kubectl")}},
        ),
    ]
    return rows
