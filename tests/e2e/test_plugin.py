"""kates as a kubectl plugin, and shell completion, with the real kubectl and the real cluster."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create, kubectl_path
from .test_get import masked

BIN = Path(sys.executable).parent


def plugin_env(cluster: ControlPlane, cache_dir: Path) -> dict[str, str]:
    return dict(
        os.environ,
        KUBECONFIG=str(cluster.kubeconfig),
        KATES_CACHE_DIR=str(cache_dir),
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )


def test_kubectl_finds_the_plugin_and_runs_it(cluster: ControlPlane, cache_dir: Path, kates: Runner, ns: str) -> None:
    env = plugin_env(cluster, cache_dir)
    listed = subprocess.run([kubectl_path(), "plugin", "list"], capture_output=True, text=True, env=env)
    assert str(BIN / "kubectl-kates") in listed.stdout, listed
    via_kubectl = subprocess.run(
        [kubectl_path(), "kates", "get", "ns", "default", "kube-system"], capture_output=True, text=True, env=env
    )
    direct = kates("get", "ns", "default", "kube-system")
    assert via_kubectl.returncode == direct.code == 0
    assert masked(via_kubectl.stdout) == masked(direct.out)  # same table (ages may tick by a second)
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "plugged"}})
    # kubectl passes no --namespace to plugins: kates reads its own flags, after the plugin name, in any position
    out = subprocess.run(
        [kubectl_path(), "kates", "get", "cm", "plugged", "-n", ns, "-o", "name"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.returncode == 0 and out.stdout == "configmap/plugged\n", out
    out = subprocess.run(
        [kubectl_path(), "kates", "-n", ns, "get", "cm", "plugged", "-o", "name"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert out.stdout == "configmap/plugged\n", out
    missing = subprocess.run(
        [kubectl_path(), "kates", "get", "cm", "nope", "-n", ns], capture_output=True, text=True, env=env
    )
    assert missing.returncode == 4 and missing.stderr == 'error: configmaps "nope" not found\n'


def complete(env: dict[str, str], words: str) -> tuple[list[str], float, subprocess.CompletedProcess[str]]:
    parts = words.split(" ")
    started = time.monotonic()
    proc = subprocess.run(
        [str(BIN / "kates")],
        capture_output=True,
        text=True,
        env=dict(env, _KATES_COMPLETE="bash_complete", COMP_WORDS=words, COMP_CWORD=str(len(parts) - 1)),
    )
    took = time.monotonic() - started
    return [line.split(",", 1)[1] for line in proc.stdout.splitlines() if "," in line], took, proc


def test_dynamic_completion_of_kinds_names_and_namespaces(
    cluster: ControlPlane, cache_dir: Path, kates: Runner, ns: str
) -> None:
    env = plugin_env(cluster, cache_dir)
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "complete-me"}})
    assert kates("get", "ns", "default").code == 0  # warm the discovery cache
    kinds, took, _ = complete(env, "kates get config")
    assert kinds == ["configmaps"], kinds
    print(f"\none completion call (kinds, cached discovery): {took * 1000:.0f} ms")
    assert "deploy" in complete(env, "kates get de")[0]
    names, took, _ = complete(env, f"kates get cm -n {ns} comp")
    assert names == ["complete-me"]
    print(f"one completion call (object names from the cluster): {took * 1000:.0f} ms")
    assert ns in complete(env, f"kates get ns {ns[:10]}")[0]
    assert ns in complete(env, f"kates -n {ns[:10]}")[0]
    cobra = subprocess.run(
        [str(BIN / "kubectl_complete-kates"), "__complete", "get", "cm", "-n", ns, ""],
        capture_output=True,
        text=True,
        env=env,
    )
    assert cobra.stdout.splitlines()[-1] == ":4" and "complete-me" in cobra.stdout.splitlines(), cobra


def test_completion_without_a_cluster_completes_nothing_quietly(tmp_path: Path) -> None:
    env = dict(os.environ, KUBECONFIG=str(tmp_path / "missing"), KATES_CACHE_DIR=str(tmp_path))
    values, took, proc = complete(env, "kates get cm ")
    assert proc.returncode == 0 and values == [] and proc.stderr == "", proc
    assert took < 5
