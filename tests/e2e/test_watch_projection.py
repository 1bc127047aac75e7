"""Projections (`jq=` in a query, issue 14 section 1) against the real control plane: with a filter reading only
`.spec`, 20 status updates of a Deployment (PUT to its status subresource) start no run and one spec change starts
exactly one; stdin holds the projections and KATES_SNAPSHOT_SHA256 is its digest; `kates get` inside the hook still
answers the whole object; a filter failing on an object ends the watch with one error naming it."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create
from .test_metrics import Proc, scrape

pytestmark = pytest.mark.e2e

KATES = f"{sys.executable} -m kates_cli"

HOOK = r"""#!/bin/sh
run=$KATES_RUN
cat > "$OUT/snap-$run.json"
cp "$KATES_DELTAS" "$OUT/deltas-$run.json"
echo "$KATES_SNAPSHOT_SHA256" > "$OUT/sha-$run"
$KATES get deploy web -n "$NS" -o json > "$OUT/read-$run.json" 2>> "$OUT/err"
echo "run $run" >> "$OUT/runs.log"
"""

SPEC = "{name: .metadata.name, replicas: .spec.replicas}"


def deployment(name: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "x"}]}},
        },
    }


def put_status(cluster: ControlPlane, path: str, message: str) -> None:
    """One update-status: GET the Deployment, set a condition in its status, PUT it to the status subresource
    (again on a conflict with the deployment controller's own status updates)."""
    for _ in range(20):
        code, obj = cluster.request("GET", path)
        assert code == 200, obj
        conditions = [c for c in obj.get("status", {}).get("conditions", []) if c["type"] != "KatesTest"]
        conditions.append({"type": "KatesTest", "status": "True", "reason": "Test", "message": message})
        obj.setdefault("status", {})["conditions"] = conditions
        code, answer = cluster.request("PUT", path + "/status", obj)
        if code == 200:
            return
        assert code == 409, answer
    raise AssertionError("update-status kept conflicting")


def runs(tmp: Path) -> list[str]:
    path = tmp / "runs.log"
    return path.read_text().splitlines() if path.exists() else []


def read_json(tmp: Path, name: str) -> Any:
    return json.loads((tmp / name).read_text())


def deltas(tmp: Path, run: int) -> list[tuple[str, str, str]]:
    return [(d["type"], d["query"], d["name"]) for d in read_json(tmp, f"deltas-{run}.json")]


def counter(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, lab), v in samples.items() if n == name and labels.items() <= dict(lab).items())


def test_status_updates_start_no_run_and_a_spec_change_starts_exactly_one(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path
) -> None:
    path = f"/apis/apps/v1/namespaces/{ns}/deployments/web"
    create(cluster, f"/apis/apps/v1/namespaces/{ns}/deployments", deployment("web"))
    hook = tmp_path / "hook.sh"
    hook.write_text(HOOK)
    hook.chmod(0o755)
    queries = ["-q", f"web=deploy ns={ns} jq={SPEC}", "-q", f"mark=cm ns={ns} l=marker=1"]
    args = [*queries, "--exec", str(hook), "--metrics-addr", "127.0.0.1:0", "--log-format", "json"]
    proc = Proc(args, cluster.kubeconfig, cache_dir, tmp_path, OUT=str(tmp_path), NS=ns, KATES=KATES)
    try:
        port = proc.port()

        def ended(count: int) -> bool:  # `count` runs have ended (the hook process too, not only its last line)
            assert proc.proc.poll() is None, proc.err.read_text()
            return counter(scrape(port), "kates_hook_runs_total") >= count

        def events() -> float:
            return counter(scrape(port), "kates_watch_events_total", query="web")

        wait_for(lambda: ended(1), 30, "the bootstrap run")
        before = events()
        for i in range(20):
            put_status(cluster, path, f"status update {i}")
        wait_for(lambda: events() >= before + 20, 30, "the watch to deliver the 20 status updates")
        # the watch delivered them before the marker exists: a run they started would come before the marker's
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "m1", "labels": {"marker": "1"}}})
        wait_for(lambda: ended(2), 30, "the marker's run")
        assert runs(tmp_path) == ["run 0", "run 1"], "a status update started a run"
        assert deltas(tmp_path, 1) == [("add", "mark", "m1")]
        assert read_json(tmp_path, "snap-1.json")["web"] == [{"name": "web", "replicas": 1}]

        code, answer = cluster.request(
            "PATCH", path, {"spec": {"replicas": 2}}, content_type="application/merge-patch+json"
        )
        assert code == 200, answer
        wait_for(lambda: ended(3), 30, "the spec change's run")
        assert deltas(tmp_path, 2) == [("update", "web", "web")]
        snap = read_json(tmp_path, "snap-2.json")
        assert snap["web"] == [{"name": "web", "replicas": 2}]  # the projection, not the Deployment
        assert [o["metadata"]["name"] for o in snap["mark"]] == ["m1"]  # an unprojected query: whole objects

        # the deployment controller answers the spec change with status updates of its own: still no run
        def observed() -> bool:
            obj = cluster.request("GET", path)[1]
            return bool(obj["status"].get("observedGeneration") == obj["metadata"]["generation"])

        wait_for(observed, 30, "the deployment controller to observe the spec change")
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "m2", "labels": {"marker": "1"}}})
        wait_for(lambda: ended(4), 30, "the second marker's run")
        assert runs(tmp_path) == ["run 0", "run 1", "run 2", "run 3"]
        assert deltas(tmp_path, 3) == [("add", "mark", "m2")]
        status_events = events() - before
        for run in range(4):  # KATES_SNAPSHOT_SHA256 is the digest of the very stdin bytes
            data = (tmp_path / f"snap-{run}.json").read_bytes()
            assert (tmp_path / f"sha-{run}").read_text().strip() == hashlib.sha256(data).hexdigest()
        # a read inside the hook answers the whole object (from the run's view), spec and status
        read = read_json(tmp_path, "read-2.json")
        assert read["kind"] == "Deployment" and read["spec"]["replicas"] == 2
        assert any(c["type"] == "KatesTest" for c in read["status"]["conditions"])
        assert not (tmp_path / "err").read_text().strip()
    finally:
        if proc.proc.poll() is None:
            proc.proc.terminate()
        code = proc.proc.wait(30)
    assert code == ExitCode.INTERRUPTED, proc.err.read_text()
    figures.record(
        "projections",
        "jq= on .spec: status updates vs runs",
        status_updates=20,
        watch_events_web=int(status_events),
        runs_from_status=0,
        runs_from_spec_change=1,
    )


def test_a_filter_failing_on_an_object_ends_the_watch_naming_it(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    good = {"metadata": {"name": "good", "labels": {"t": "1"}}, "data": {"n": "1"}}
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", good)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"apiVersion": "v1", "kind": "ConfigMap", **good, "metadata": {
        "name": "bad", "labels": {"t": "1"}}, "data": {"n": "x"}}))  # fmt: skip
    hook = tmp_path / "hook.sh"  # its first run creates an object the filter fails on, through kates
    hook.write_text(
        '#!/bin/sh\ncat > "$OUT/snap-$KATES_RUN.json"\n'
        '[ "$KATES_RUN" = 0 ] && $KATES create -f "$OUT/bad.json" -n "$NS" > /dev/null\nexit 0\n'
    )
    hook.chmod(0o755)
    query = f"cms=cm ns={ns} l=t=1 jq={{name: .metadata.name, n: (.data.n | tonumber)}}"
    out = kates("watch", "-q", query, "--exec", str(hook), env={"OUT": str(tmp_path), "NS": ns, "KATES": KATES})
    assert out.code == ExitCode.ERROR, out
    assert out.err.splitlines() == [
        f"error: query cms: the jq filter failed on configmap/bad in namespace {ns}: "
        'string ("x") cannot be parsed as a number',
        "hint: the watch ends rather than run the hook without that object; to drop such objects instead, make the "
        "filter tolerant: (...)? or try (...) catch empty",
    ]
    assert read_json(tmp_path, "snap-0.json") == {"cms": [{"name": "good", "n": 1}]}
    assert not (tmp_path / "snap-1.json").exists()  # no run without the object

    # at the bootstrap: no run at all; made tolerant, the object is dropped
    out = kates("watch", "-q", query, "--exec", str(hook), env={"OUT": str(tmp_path / "x"), "NS": ns})
    assert out.code == ExitCode.ERROR and "failed on configmap/bad" in out.err, out
    tolerant = f"cms=cm ns={ns} l=t=1 jq={{name: .metadata.name, n: (.data.n | tonumber)}}?"
    out = kates("watch", "-q", tolerant, "--once")
    assert (out.code, out.out) == (0, '{"cms":[{"n":1,"name":"good"}]}\n'), out  # keys sorted (canonical bytes)

    out = kates("watch", "-q", "web=deploy jq={name: .metadata.name", "--once")
    assert out.code == ExitCode.USAGE, out
    [line, hint] = out.err.splitlines()  # libjq's own words after "syntax error" vary with its version
    assert line.startswith(
        'error: invalid query "web=deploy jq={name: .metadata.name": the jq filter does not compile: syntax error'
    )
    assert hint.startswith("hint: jq=FILTER comes last: it takes the rest of the query")
