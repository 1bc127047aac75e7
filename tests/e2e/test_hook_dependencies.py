"""Reads by a `kates watch` hook that no query covers become dependencies (issue 13, section 2), against the real
control plane: a change to the Secret a hook reads starts a run within 2 s and that run reads the new value; no
other Secret's change starts one; a successful run that no longer reads it releases it; two spellings of one read
share one watch; a forbidden kind and --max-dependencies fail the read with a clear error."""

from __future__ import annotations

import base64
import json
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from . import serviceaccounts as sa
from .conftest import Runner, create
from .test_metrics import Proc, scrape

pytestmark = pytest.mark.e2e

KATES = f"{sys.executable} -m kates_cli"

HOOK = r"""#!/bin/sh
run=$KATES_RUN
cat > /dev/null
cp "$KATES_DELTAS" "$OUT/deltas-$run.json"
if [ -e "$OUT/read" ]; then
  v=$($KATES get secret db -n $NS -o jsonpath='{.data.v}' 2>> "$OUT/err")
  n=$($KATES get secret --field-selector metadata.name=db -n $NS -o name 2>> "$OUT/err")
  echo "$run $v $n" >> "$OUT/values"
fi
touch "$OUT/ran-$run"
if [ -e "$OUT/fail" ]; then rm "$OUT/fail"; exit 1; fi
"""


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def hook(tmp: Path, text: str) -> Path:
    path = tmp / "hook.sh"
    path.write_text(text)
    path.chmod(0o755)
    return path


def dependencies(port: int) -> float:
    return scrape(port)[("kates_dependencies", ())]


def deltas(tmp: Path, run: int) -> list[tuple[str, str, str]]:
    return [(d["query"], d["kind"], d["name"]) for d in json.loads((tmp / f"deltas-{run}.json").read_text())]


def patch(cluster: ControlPlane, path: str, body: dict[str, Any]) -> None:
    code, resp = cluster.request("PATCH", path, body, content_type="application/merge-patch+json")
    assert code == 200, resp


def server_watches(cluster: ControlPlane, resource: str) -> float:
    """The API server's own count of open WATCH requests on `resource` in a namespace or of one object by name
    (apiserver_longrunning_requests, scope "namespace" or "resource"; the controllers' watches are cluster-wide)."""
    code, text = cluster.request("GET", "/metrics", accept="text/plain")
    assert code == 200, text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (sample.name, labels.get("verb"), labels.get("resource")) == (
                "apiserver_longrunning_requests",
                "WATCH",
                resource,
            ) and labels.get("scope") in ("namespace", "resource"):
                total += sample.value
    return total


def ended(w: Proc, run: int) -> str | None:
    return next((r["result"] for r in w.records() if r["event"] == "run.ended" and r.get("run") == run), None)


def started_at(w: Proc, run: int) -> float | None:
    for r in w.records():
        if r["event"] == "run.started" and r.get("run") == run:
            return datetime.fromisoformat(r["time"].replace("Z", "+00:00")).timestamp()
    return None


def test_a_secret_the_hook_reads_is_watched_until_a_run_no_longer_reads_it(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    secrets, cms = f"/api/v1/namespaces/{ns}/secrets", f"/api/v1/namespaces/{ns}/configmaps"
    create(cluster, secrets, {"metadata": {"name": "db"}, "data": {"v": b64("one")}})
    create(cluster, secrets, {"metadata": {"name": "other"}, "data": {"v": b64("x")}})
    create(cluster, cms, {"metadata": {"name": "cfg"}, "data": {"n": "0"}})
    (tmp_path / "read").touch()
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook(tmp_path, HOOK))]
    args += ["--metrics-addr", "127.0.0.1:0", "--log-format", "json"]
    w = Proc(args, cluster.kubeconfig, tmp_path / "cache", tmp_path, OUT=str(tmp_path), NS=ns, KATES=KATES)
    watches.append(w)
    port = w.port()
    wait_for(lambda: (tmp_path / "ran-0").exists(), 60, "the first run")
    assert (tmp_path / "values").read_text() == f"0 {b64('one')} secret/db\n", (tmp_path / "err").read_text()
    # two spellings of one read (by name, by metadata.name field selector): one dependency, one API watch
    assert dependencies(port) == 1
    # (a wait, not a look: a watch of an earlier test's ended process may take a moment to close on the server)
    wait_for(lambda: server_watches(cluster, "secrets") == 1, 10, "exactly one API watch of Secrets")
    added = [r for r in w.records() if r["event"] == "dependency.added"]
    assert [r["dependency"] for r in added] == [f"secrets {ns}/db"], added

    # a change to the Secret read starts a run within 2 s, and that run reads the new value
    patched = time.time()
    patch(cluster, f"{secrets}/db", {"data": {"v": b64("two")}})
    wait_for(lambda: (tmp_path / "ran-1").exists(), 30, "a run after the Secret changed")
    start = started_at(w, 1)
    assert start is not None and start - patched < 2.0, start and start - patched
    assert (tmp_path / "values").read_text().splitlines()[1] == f"1 {b64('two')} secret/db"
    assert deltas(tmp_path, 1) == [("dependency", "Secret", "db")]

    # another Secret's change starts no run: the next run (started by the ConfigMap) carries only the ConfigMap
    patch(cluster, f"{secrets}/other", {"data": {"v": b64("y")}})
    patch(cluster, f"{cms}/cfg", {"data": {"n": "1"}})
    wait_for(lambda: (tmp_path / "ran-2").exists(), 30, "a run after the ConfigMap changed")
    assert deltas(tmp_path, 2) == [("cms", "ConfigMap", "cfg")]

    # a failed run that does not read the Secret releases nothing; the successful retry releases it, and from then
    # on its changes start no run
    (tmp_path / "read").unlink()
    (tmp_path / "fail").touch()
    patch(cluster, f"{cms}/cfg", {"data": {"n": "2"}})
    wait_for(lambda: ended(w, 3) == "failure", 30, "a failed run that reads no Secret")
    assert dependencies(port) == 1
    wait_for(lambda: ended(w, 4) == "success", 30, "its retry, reading no Secret either")
    wait_for(lambda: dependencies(port) == 0, 10, "the dependency released after the successful run")
    wait_for(lambda: server_watches(cluster, "secrets") == 0, 10, "the API watch of the Secret to end")
    released = [r for r in w.records() if r["event"] == "dependency.released"]
    assert [r["dependency"] for r in released] == [f"secrets {ns}/db"], released
    patch(cluster, f"{secrets}/db", {"data": {"v": b64("three")}})
    patch(cluster, f"{cms}/cfg", {"data": {"n": "3"}})
    wait_for(lambda: (tmp_path / "ran-5").exists(), 30, "a run after the ConfigMap changed")
    assert deltas(tmp_path, 5) == [("cms", "ConfigMap", "cfg")]
    assert not (tmp_path / "ran-6").exists()
    assert (tmp_path / "err").read_text() == ""
    assert w.stop() == 130


BOUND_HOOK = r"""#!/bin/sh
cat > /dev/null
[ "$KATES_RUN" = 0 ] || exit 0
$KATES get secret a -n $NS -o name > "$OUT/a" 2> "$OUT/a.err"; echo $? > "$OUT/a.code"
$KATES get secret b -n $NS -o name > "$OUT/b" 2> "$OUT/b.err"; echo $? > "$OUT/b.code"
touch "$OUT/done"
"""


def test_past_max_dependencies_a_read_fails_with_its_bound(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    for name in ("a", "b"):
        create(cluster, f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": name}})
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook(tmp_path, BOUND_HOOK)), "--max-dependencies", "1"]
    w = Proc(args, cluster.kubeconfig, tmp_path / "cache", tmp_path, OUT=str(tmp_path), NS=ns, KATES=KATES)
    watches.append(w)
    wait_for(lambda: (tmp_path / "done").exists(), 60, "the hook's reads")
    assert (tmp_path / "a").read_text() == "secret/a\n" and (tmp_path / "a.code").read_text() == "0\n"
    assert (tmp_path / "b").read_text() == "" and (tmp_path / "b.code").read_text() == "1\n"
    assert (tmp_path / "b.err").read_text() == (
        f"error: cannot watch secrets {ns}/b: the bound of 1 dependency is reached\n"
        "hint: raise --max-dependencies, or read fewer distinct objects per run\n"
    )
    assert w.stop() == 130


FORBIDDEN_HOOK = r"""#!/bin/sh
cat > /dev/null
[ "$KATES_RUN" = 0 ] || exit 0
$KATES get secret db -n $NS -o name > "$OUT/out" 2> "$OUT/err"; echo $? > "$OUT/code"
"""


def test_a_forbidden_dependency_fails_the_read_naming_the_kind_and_verb(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/secrets", {"metadata": {"name": "db"}})
    sa.apply_rbac(kates, "-n", ns, "--service-account", "hooked", "-q", "cm")
    kc = sa.kubeconfig(cluster, sa.token(cluster, ns, "hooked"), ns, tmp_path / "kc")
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook(tmp_path, FORBIDDEN_HOOK))]
    w = Proc(args, kc, tmp_path / "cache", tmp_path, OUT=str(tmp_path), NS=ns, KATES=KATES)
    watches.append(w)
    wait_for(lambda: (tmp_path / "code").exists(), 60, "the hook's read")
    assert (tmp_path / "code").read_text() == "5\n" and (tmp_path / "out").read_text() == ""
    err = (tmp_path / "err").read_text()
    assert err == (
        f'error: cannot watch secrets (dependency secrets {ns}/db): secrets "db" is forbidden: User '
        f'"system:serviceaccount:{ns}:hooked" cannot watch resource "secrets" in API group "" in the namespace "{ns}"\n'
        "hint: a dependency is watched: it needs the list and watch verbs on secrets\n"
    ), err
    assert w.stop() == 130
