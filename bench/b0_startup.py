"""B0: start-up. Wall time of `kates --help`, and of `kates get ns default` (one object, table output), each a new
process, beside kubectl doing the same; and the completion of object names on a big namespace (`kates get cm <TAB>`
on COMPLETION_N ConfigMaps, bash's protocol as its script calls kates) beside kubectl's own `__complete get cm ''`.

"Cold" is measured two ways: a new process with the discovery caches already on disk (each tool's own: kates's
`$KATES_CACHE_DIR`, kubectl's `$KUBECACHEDIR`), and a new process with both caches empty (discovery fetched).
One untimed warm-up run of each command comes first, so the interpreter's and kubectl's files are in the page cache.

Completion is measured with no cached names (`KATES_COMPLETION_TTL=0`: one Table request of every name) and with the
names cached by the run before (a second TAB within the TTL); the discovery caches are warm in both, as in a shell
used before. Every completion must offer all COMPLETION_N names, in order (a correctness check).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .fixtures import configmap, items
from .harness import Context, Measured, median, rotate, run_measured
from .report import Row

COMPLETE_NS = "bench-complete"
COMPLETION_N = 5000  # names to complete (200 in --smoke)


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

    rows_completion = _completion(ctx, reps)

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
    return rows + rows_completion


def _completion(ctx: Context, reps: int) -> list[Row]:
    n = 200 if ctx.sizes.smoke else COMPLETION_N
    if ctx.fixtures.get(COMPLETE_NS) != n:  # untimed: ConfigMaps of about 1 KB, as B1's
        code, body = ctx.cp.request("POST", "/api/v1/namespaces", {"metadata": {"name": COMPLETE_NS}})
        if code not in (201, 409):
            raise RuntimeError(f"creating namespace {COMPLETE_NS} -> {code}: {body}")
        start = ctx.fixtures.get(COMPLETE_NS, 0)
        ctx.cp.bulk("POST", [(f"/api/v1/namespaces/{COMPLETE_NS}/configmaps", configmap(i)) for i in range(start, n)])
        ctx.fixtures[COMPLETE_NS] = n
    # every ConfigMap of the namespace, in name order (kube-root-ca.crt too where a controller manager runs)
    expected = sorted(item["metadata"]["name"] for item in items(ctx, COMPLETE_NS, "configmaps"))
    if len(expected) < n:
        raise RuntimeError(f"{COMPLETE_NS} holds {len(expected)} ConfigMaps, not {n}")
    words = f"kates get cm -n {COMPLETE_NS} "
    shell = dict(ctx.env, _KATES_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD="5")
    envs = {"cold": dict(shell, KATES_COMPLETION_TTL="0"), "warm": dict(shell, KATES_COMPLETION_TTL="600")}
    kubectl_argv = [ctx.kubectl, "__complete", "get", "cm", "-n", COMPLETE_NS, ""]

    def offered(m: Measured, tool: str) -> None:
        lines = m.out.decode().splitlines()
        names = [line.split(",", 1)[1] for line in lines] if tool == "kates" else lines[:-1]  # kubectl: then :4
        if names != expected:
            ctx.failures.append(f"B0 completion: {tool} offered {len(names)} names, not the {len(expected)} expected")

    run_measured(ctx.kates, envs["warm"], keep_output=True).check("kates completion warm-up")  # fills the cache
    run_measured(kubectl_argv, ctx.env).check("kubectl completion warm-up")
    samples: dict[str, list[Measured]] = {"cold": [], "warm": [], "kubectl": []}
    for rnd in range(ctx.rounds):
        for _ in range(reps):
            for tool in rotate(["kates", "kubectl"], rnd):
                if tool == "kubectl":
                    m = run_measured(kubectl_argv, ctx.env, keep_output=True).check("kubectl __complete")
                    offered(m, "kubectl")
                    samples["kubectl"].append(m)
                    continue
                for key in ("cold", "warm"):
                    m = run_measured(ctx.kates, envs[key], keep_output=True).check(f"kates completion, {key}")
                    offered(m, "kates")
                    samples[key].append(m)
    theirs = [m.wall for m in samples["kubectl"]]
    return [
        Row(
            "B0",
            f"completion of {n} ConfigMap names, new process, {label}: wall",
            "s",
            median([m.wall for m in samples[key]]),
            "kubectl __complete",
            median(theirs),
            target="kates <= 0.3 s",
            check="kates<=0.3",
            samples={"kates": [m.wall for m in samples[key]], "peer": theirs},
            details={"cpu": {"kates": [m.cpu for m in samples[key]], "kubectl": [m.cpu for m in samples["kubectl"]]}},
        )
        for key, label in (("cold", "no cached names"), ("warm", "names cached"))
    ]
