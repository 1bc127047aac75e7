"""`kates logs` flags spelled as kubectl's: --previous/-p, --all-containers, --limit-bytes, --prefix, checked
against the real kubectl on the tier-2 control plane (kwok serves each container's log file and, for --previous,
its `previous` log file: what a restarted container's previous instance wrote)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kates_cli.errors import ExitCode
from tests.controlplane.launcher import ControlPlane, cri_log_line

from .conftest import KATES, Runner, _env, kubectl_path
from .test_logs import deployment, running_pods

pytestmark = pytest.mark.timeout(300)


def test_previous_all_containers_limit_bytes_and_prefix_match_kubectl(
    tier2_cluster: ControlPlane, tier2_ns: str, tier2_kates: Runner, tier2_kubectl: Runner
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    deployment(cp, ns, 1)
    pod = running_pods(cp, ns, 1)[0]
    base = datetime.now(UTC) - timedelta(minutes=10)
    for i, cname in enumerate(("c1", "c2")):  # c1's lines all come before c2's: kubectl's container order too
        at = base + timedelta(seconds=10 * i)
        cp.append_log(ns, pod, cname, f"before the restart {cname} one", f"{cname} two: ünïcode", at=at, previous=True)
        cp.append_log(ns, pod, cname, f"after the restart {cname}", at=at + timedelta(minutes=5))

    def same(kates_args: list[str], kubectl_args: list[str], *, blocks: bool = False) -> str:
        got, want = tier2_kates("logs", *kates_args, "-n", ns), tier2_kubectl("logs", *kubectl_args, "-n", ns)
        assert want.code == 0, want
        if blocks:  # kubectl prints each container's block in Go map order (random): kates's are in time order
            assert got.code == 0 and sorted(got.out.splitlines()) == sorted(want.out.splitlines()), (got, want)
            return got.out
        assert got.code == 0 and got.out == want.out, (got, want)
        return got.out

    assert same([pod, "-c", "c1", "-p", "-o", "raw"], [pod, "-c", "c1", "-p"]) == (
        "before the restart c1 one\nc1 two: ünïcode\n"
    )
    same([pod, "-c", "c1", "--previous", "-o", "raw"], [pod, "-c", "c1", "--previous"])
    same([pod, "-c", "c2", "-o", "raw"], [pod, "-c", "c2"])  # without -p: the current instance
    # multiplexing: every container's previous log, kubectl's --all-containers --prefix lines
    out = same([pod, "-p", "--all-containers", "--prefix"], [pod, "-p", "--all-containers", "--prefix"], blocks=True)
    assert out.splitlines() == [
        f"[pod/{pod}/{c}] {text}" for c in ("c1", "c2") for text in (f"before the restart {c} one", f"{c} two: ünïcode")
    ]  # every line once, in timestamp order (here c1's block, then c2's)
    same(["deploy/web", "-p", "--prefix"], ["deploy/web", "-p", "--all-containers", "--prefix"], blocks=True)
    # --limit-bytes: per container, the last line cut where the limit falls (no newline), as kubectl
    for limit in ("5", "26", "30", "1000"):
        same(
            [pod, "-c", "c1", "-p", "--limit-bytes", limit, "-o", "raw"],
            [pod, "-c", "c1", "-p", "--limit-bytes", limit],
        )
    # refusals: one line, exit 2
    both = tier2_kates("logs", pod, "-n", ns, "--all-containers", "-c", "c1")
    assert both.code == ExitCode.USAGE and both.err.startswith("error: --all-containers=true should not"), both
    followed = tier2_kates("logs", pod, "-n", ns, "-c", "c1", "-p", "-f", "-o", "raw", timeout=60)  # ends
    assert followed.code == 0 and followed.out == "before the restart c1 one\nc1 two: ünïcode\n", followed
    assert tier2_kates("logs", pod, "-n", ns, "--limit-bytes", "0").code == ExitCode.USAGE


def test_raw_output_passes_bytes_through_unchanged_as_kubectl(
    tier2_cluster: ControlPlane, tier2_ns: str, cache_dir: Path
) -> None:
    cp, ns = tier2_cluster, tier2_ns
    deployment(cp, ns, 1)
    pod = running_pods(cp, ns, 1)[0]
    at = datetime.now(UTC) - timedelta(minutes=1)
    odd = b"not utf-8: \xff\xfe, a tab:\t, a CR:\r, NUL:\x00, \xc3 cut, and a CRLF line's CR:\r"
    line = cri_log_line("PLACEHOLDER", at, "stdout").encode().replace(b"PLACEHOLDER", odd)
    with open(cp.log_file(ns, pod, "c1"), "ab") as f:
        f.write(line)

    def run(*argv: str) -> bytes:
        proc = subprocess.run(argv, capture_output=True, env=_env(cp, cache_dir, None), timeout=60)
        assert proc.returncode == 0, proc
        return proc.stdout

    want = run(kubectl_path(), "logs", pod, "-c", "c1", "-n", ns)
    assert want == odd + b"\n"
    assert run(*KATES, "logs", pod, "-c", "c1", "-n", ns, "-o", "raw") == want
    assert run(*KATES, "logs", pod, "-c", "c1", "-n", ns) == b"%s/c1 %s" % (pod.encode(), want)
    for limit in ("12", "40"):  # cut inside the bytes, as the server cuts them
        kubectl_cut = run(kubectl_path(), "logs", pod, "-c", "c1", "-n", ns, "--limit-bytes", limit)
        assert run(*KATES, "logs", pod, "-c", "c1", "-n", ns, "-o", "raw", "--limit-bytes", limit) == kubectl_cut
