"""Several namespaces (-n a,b, or -n repeated) for `get`, `get -w` and `logs`: one list or watch per namespace,
merged in kubectl's -A order (namespace, then name); a third namespace's objects never appear."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kates_cli.core.accumulator import Query
from kates_cli.core.client import Client
from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e import serviceaccounts as sa

from .conftest import Runner, create
from .test_get_watch import Lines
from .test_logs import deployment, running_pods

pytestmark = pytest.mark.timeout(300)


def _namespaces(cp: ControlPlane, count: int, wait_root_ca: bool) -> Iterator[list[str]]:
    base = f"mns-{uuid.uuid4().hex[:6]}"
    names = [f"{base}-{i}" for i in range(count)]
    for name in names:
        create(cp, "/api/v1/namespaces", {"metadata": {"name": name}})
    for name in names if wait_root_ca else []:
        wait_for(
            lambda name=name: cp.request("GET", f"/api/v1/namespaces/{name}/configmaps/kube-root-ca.crt")[0] == 200,
            30,
            "kube-root-ca.crt",
        )
    yield names
    for name in names:
        cp.request("DELETE", f"/api/v1/namespaces/{name}")


@pytest.fixture
def three(cluster: ControlPlane) -> Iterator[list[str]]:
    """Three fresh namespaces a, b, c: a and b are asked for, c must never show."""
    yield from _namespaces(cluster, 3, wait_root_ca=True)


def _cm(cp: ControlPlane, ns: str, name: str, side: str) -> None:
    create(cp, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name, "labels": {"side": side}}})


def test_get_lists_each_namespace_in_kubectls_all_namespaces_order(
    cluster: ControlPlane, three: list[str], kates: Runner, kubectl: Runner
) -> None:
    a, b, c = three
    for ns in (b, a):
        for name in ("zeta", "alpha", "shared"):
            _cm(cluster, ns, name, "in")
    _cm(cluster, c, "alpha", "out")
    _cm(cluster, c, "shared", "out")
    _cm(cluster, a, "only-a", "in")

    def same(args: list[str], want_args: list[str]) -> bool:
        got, want = kates(*args), kubectl(*want_args)
        assert got.code == 0 and want.code == 0, (got, want)
        return got.out == want.out  # kubectl's -A table of exactly the two namespaces (AGE may tick: retried)

    # the table (with its NAMESPACE column), by kubectl's -A over the two namespaces' objects only
    sel = ["-l", "side=in"]
    wait_for(lambda: same(["get", "cm", "-n", f"{b},{a}", *sel], ["get", "cm", "-A", *sel]), 10, "the same table")
    wait_for(lambda: same(["get", "cm", "-n", b, "-n", a, *sel], ["get", "cm", "-A", *sel]), 10, "-n repeated")
    # every -o format, -l and --field-selector
    names = kates("get", "cm", "-n", f"{a},{b}", "-o", "name", *sel).out.splitlines()
    in_a = ["configmap/alpha", "configmap/only-a", "configmap/shared", "configmap/zeta"]
    assert names == [*in_a, "configmap/alpha", "configmap/shared", "configmap/zeta"]
    listed = json.loads(kates("get", "cm", "-n", f"{a},{b}", "-o", "json").out)
    keys = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in listed["items"]]
    assert keys == sorted(keys) and {ns for ns, _ in keys} == {a, b}  # kube-root-ca.crt too, never c's
    assert ("c", "alpha") not in keys and all(ns != c for ns, _ in keys)
    want_yaml = kubectl("get", "cm", "-A", "-l", "side=in", "-o", "yaml").out
    assert kates("get", "cm", "-n", f"{a},{b}", "-l", "side=in", "-o", "yaml").out == want_yaml
    fields = kates("get", "cm", "-n", f"{a},{b}", "--field-selector", "metadata.name=alpha", "-o", "name")
    assert fields.out.splitlines() == ["configmap/alpha", "configmap/alpha"]
    path = kates("get", "cm", "-n", f"{a},{b}", "-l", "side=in", "-o", "jsonpath={.items[*].metadata.namespace}")
    assert path.out.split() == [a] * 4 + [b] * 3
    # named objects: looked for in each namespace; found in either is found, in none is NotFound
    both = kates("get", "cm", "shared", "only-a", "-n", f"{a},{b}", "-o", "custom-columns=NS:.metadata.namespace")
    assert both.code == 0 and both.out.split() == ["NS", a, b, a], both
    table = kates("get", "cm", "only-a", "-n", f"{a},{b}")
    assert table.code == 0 and table.out.startswith("NAMESPACE ") and a in table.out and b not in table.out, table
    missing = kates("get", "cm", "alpha", "nowhere", "-n", f"{a},{b}", "-o", "name")
    assert missing.code == ExitCode.NOT_FOUND, missing
    assert missing.out.splitlines() == ["configmap/alpha", "configmap/alpha"]
    assert missing.err == f'error: configmaps "nowhere" not found in namespaces "{a}", "{b}"\n'
    assert kates("get", "cm", "nowhere", "-n", f"{a},{b}", "--ignore-not-found").code == 0
    empty = kates("get", "cm", "-n", f"{a},{b}", "-l", "side=nothing")
    assert empty.code == 0 and empty.out == "" and empty.err == f"No resources found in {a}, {b} namespaces.\n"


def test_get_watch_sees_changes_in_both_namespaces_and_none_in_a_third(
    cluster: ControlPlane, three: list[str], tmp_path: Path
) -> None:
    a, b, c = three
    _cm(cluster, a, "before", "in")
    _cm(cluster, c, "before", "out")
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(tmp_path))
    env.pop("KATES_NAMESPACE", None)
    args = ["get", "cm", "-n", f"{a},{b}", "-w", "-o", "json", "--output-watch-events", "-l", "side"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kates_cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines = Lines(proc)

    def seen() -> set[tuple[str, str, str]]:
        out = set()
        for line in list(lines.lines):
            ev = json.loads(line)
            out.add((ev["type"], ev["object"]["metadata"]["namespace"], ev["object"]["metadata"]["name"]))
        return out

    try:
        wait_for(lambda: ("ADDED", a, "before") in seen(), 30, "the initial list")
        _cm(cluster, c, "during", "out")
        _cm(cluster, a, "during", "in")
        _cm(cluster, b, "during", "in")
        cluster.request("DELETE", f"/api/v1/namespaces/{a}/configmaps/before")
        wait_for(
            lambda: {("ADDED", a, "during"), ("ADDED", b, "during"), ("DELETED", a, "before")} <= seen(),
            30,
            "the changes in both namespaces",
        )
        assert all(ns != c for _, ns, _ in seen()), seen()
    finally:
        proc.terminate()
        proc.wait(30)


def test_logs_reads_each_namespace_and_never_a_third(tier2_cluster: ControlPlane, tier2_kates: Runner) -> None:
    cp = tier2_cluster
    for names in _namespaces(cp, 3, wait_root_ca=False):
        at = datetime.now(UTC) - timedelta(minutes=5)
        pods = {}
        for i, ns in enumerate(names):
            deployment(cp, ns, 1)
            pods[ns] = running_pods(cp, ns, 1)[0]
            for cname in ("c1", "c2"):
                cp.append_log(ns, pods[ns], cname, f"hello from {ns}/{cname}", at=at + timedelta(seconds=i))
        a, b, c = names
        for args in (["-n", f"{a},{b}"], ["-n", a, "-n", b]):
            out = tier2_kates("logs", "-l", "app=web", "-c", "c1", *args, "-o", "raw")
            assert out.code == 0, out
            assert sorted(out.out.splitlines()) == [f"hello from {a}/c1", f"hello from {b}/c1"], out
        prefixed = tier2_kates("logs", "deploy/web", "-n", f"{b},{a}", "-c", "c2")
        assert prefixed.code == 0 and len(prefixed.out.splitlines()) == 2, prefixed
        assert c not in prefixed.out and all(ns in prefixed.out for ns in (a, b)), prefixed


def test_watch_query_over_two_namespaces_sees_both_and_nothing_else(
    cluster: ControlPlane, three: list[str], kates: Runner, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = three
    for ns in (a, b, c):
        _cm(cluster, ns, "first", "in")

    def server(*namespaces: str) -> list[tuple[str, str, str]]:
        out = []
        for ns in namespaces:
            code, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps")
            assert code == 200, body
            out += [(ns, o["metadata"]["name"], o["metadata"]["resourceVersion"]) for o in body["items"]]
        return sorted(out)

    def keys(objs: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        return [(o["metadata"]["namespace"], o["metadata"]["name"], o["metadata"]["resourceVersion"]) for o in objs]

    # the CLI: one query, its objects in (namespace, name) order, from a and b only
    out = kates("watch", "-q", f"c=cm ns={b},{a}", "--once")
    assert out.code == 0, out
    snap = json.loads(out.out)
    assert list(snap) == ["c"] and keys(snap["c"]) == server(a, b), snap
    out = kates("watch", "-n", f"{a},{b}", "-q", "c=cm", "--once")  # -n a,b is the queries' default
    assert out.code == 0 and keys(json.loads(out.out)["c"]) == server(a, b), out
    # the library: one list+watch per namespace feeding the one query; changes in both, none from c
    monkeypatch.setenv("KATES_CACHE_DIR", str(cache_dir))
    with Client(str(cluster.kubeconfig)) as client, client.watch(Query("cms", "cm", f"{a},{b}")) as acc:
        assert len(acc.streams) == 2
        first: dict[str, list[dict[str, Any]]] = {}
        assert acc.wait(30) and acc.update(first)
        assert keys(first["cms"]) == server(a, b)
        _cm(cluster, c, "second", "out")
        _cm(cluster, b, "second", "in")
        made = client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "mine", "namespace": a}})
        cluster.request("DELETE", f"/api/v1/namespaces/{a}/configmaps/first")

        def settled() -> bool:
            snap: dict[str, list[dict[str, Any]]] = {}
            acc.wait(1)
            acc.update(snap)
            if snap:
                assert all(o["metadata"]["namespace"] in (a, b) for o in snap["cms"]), snap
                first.update(snap)
            return keys(first["cms"]) == server(a, b) and not any(s.overlay for s in acc.states.values())

        wait_for(settled, 30, "the changes in both namespaces, and the write's overlay retired")
        assert (a, "mine", made["metadata"]["resourceVersion"]) in keys(first["cms"])
        assert all(ns != c for ns, _, _ in keys(first["cms"]))


def test_rbac_for_a_query_over_two_namespaces_grants_a_role_in_each_and_the_watch_runs(
    cluster: ControlPlane, three: list[str], kates: Runner, tmp_path: Path
) -> None:
    a, b, c = three
    query = f"cm ns={a},{b}"
    docs = sa.apply_rbac(kates, "-n", a, "--service-account", "two", "-q", query)
    roles = sorted((d["metadata"]["namespace"], d["kind"]) for d in docs if d["kind"] in ("Role", "RoleBinding"))
    assert roles == [(a, "Role"), (a, "RoleBinding"), (b, "Role"), (b, "RoleBinding")], docs
    kc = sa.kubeconfig(cluster, sa.token(cluster, a, "two"), a, tmp_path / "kc")
    env = {"KUBECONFIG": str(kc)}
    wait_for(lambda: kates("get", "cm", "-n", f"{a},{b}", env=env).code == 0, 30, "the RoleBindings to apply")
    out = kates("watch", "-q", query, "--once", env=env)
    assert out.code == 0, out
    assert {o["metadata"]["namespace"] for o in json.loads(out.out)["cm"]} == {a, b}
    assert kates("get", "cm", "-n", c, env=env).code == ExitCode.FORBIDDEN  # nothing more than asked
    # -n a,b is the queries' default, as for kates watch (the ServiceAccount lives in the last namespace given)
    same = kates("rbac", "-n", f"{b},{a}", "--service-account", "two", "-q", "cm")
    assert same.code == 0 and same.out == kates("rbac", "-n", a, "--service-account", "two", "-q", query).out, same
