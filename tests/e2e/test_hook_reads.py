"""Reads inside a `kates watch` hook against the real control plane (issue 13, section 1): `kates get` answers from
the snapshot the run received (its very bytes) while the server and the watch have moved on, and the run's own
writes right after it makes them; --live and KATES_LIVE_READS read the API server; tables say when they show the
server's newer state; a watcher that is gone sends reads to the API server with one line on stderr."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from kates_cli.core import coherence
from kates_cli.core.config import load
from kates_cli.core.selection import Selection
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import Runner, create
from .test_metrics import Proc, scrape

pytestmark = pytest.mark.e2e

KATES = f"{sys.executable} -m kates_cli"

HOOK = r"""#!/bin/sh
run=$KATES_RUN
cat > "$OUT/.snap" && mv "$OUT/.snap" "$OUT/snap-$run.json"
echo "$KATES_WRITE_SOCKET" > "$OUT/socket"
wait_file() { n=0; while [ ! -e "$OUT/$1" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done; }
[ "$run" = 0 ] || exit 0
wait_file go
K="$KATES get cm cfg -n $NS"
$K -o json --show-managed-fields > "$OUT/json" 2>> "$OUT/err"
$K -o yaml --show-managed-fields > "$OUT/yaml" 2>> "$OUT/err"
$K -o name > "$OUT/name" 2>> "$OUT/err"
$K -o jsonpath='{.data.v}' > "$OUT/jsonpath" 2>> "$OUT/err"
$K -o custom-columns=NAME:.metadata.name,V:.data.v > "$OUT/columns" 2>> "$OUT/err"
$KATES get cm --field-selector metadata.name=cfg -n $NS -o jsonpath='{.items[0].data.v}' > "$OUT/fieldsel" 2>>"$OUT/err"
$KATES get cm -n $NS -o name > "$OUT/list" 2>> "$OUT/err"
$K > "$OUT/table" 2> "$OUT/table.err"
$KATES get cm other -n $NS > "$OUT/table-other" 2> "$OUT/table-other.err"
$KATES get cm -n $NS --field-selector metadata.name=other -o wide > "$OUT/table-list" 2> "$OUT/table-list.err"
$KATES get cm nope -n $NS > "$OUT/nope" 2> "$OUT/nope.err"; echo $? > "$OUT/nope.code"
$K --live -o jsonpath='{.data.v}' > "$OUT/live" 2>> "$OUT/err"
KATES_LIVE_READS=1 $K -o jsonpath='{.data.v}' > "$OUT/live-env" 2>> "$OUT/err"
$KATES patch cm cfg -n $NS -p '{"data":{"v":"3"}}' > /dev/null 2>> "$OUT/err"
$KATES delete cm other -n $NS > /dev/null 2>> "$OUT/err"
touch "$OUT/wrote"
wait_file go2
$K -o jsonpath='{.data.v}' > "$OUT/own" 2>> "$OUT/err"
$KATES get cm other -n $NS -o name > "$OUT/own-deleted" 2> "$OUT/own-deleted.err"
$K --live -o jsonpath='{.data.v}' > "$OUT/own-live" 2>> "$OUT/err"
touch "$OUT/done"
"""


def hook(tmp: Path, text: str) -> Path:
    path = tmp / "hook.sh"
    path.write_text(text)
    path.chmod(0o755)
    return path


def events(port: int, query: str, kind: str) -> float:
    return scrape(port).get(("kates_watch_events_total", (("query", query), ("type", kind))), 0.0)


def read(tmp: Path, name: str) -> str:
    return (tmp / name).read_text()


def test_a_hooks_get_answers_from_its_snapshot_and_its_own_writes(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    cms = f"/api/v1/namespaces/{ns}/configmaps"
    create(cluster, cms, {"metadata": {"name": "cfg"}, "data": {"v": "1"}})
    create(cluster, cms, {"metadata": {"name": "other"}, "data": {"v": "x"}})
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook(tmp_path, HOOK))]
    args += ["--metrics-addr", "127.0.0.1:0", "--log-format", "json"]
    w = Proc(args, cluster.kubeconfig, tmp_path / "cache", tmp_path, OUT=str(tmp_path), NS=ns, KATES=KATES)
    watches.append(w)
    port = w.port()
    wait_for(lambda: (tmp_path / "snap-0.json").exists() and (tmp_path / "socket").exists(), 60, "the first run")
    data = (tmp_path / "snap-0.json").read_bytes()
    snap = {o["metadata"]["name"]: o for o in json.loads(data)["cms"]}
    path = read(tmp_path, "socket").strip()
    me = coherence.cluster_id(load(str(cluster.kubeconfig), env={}, home="/nonexistent"))
    by_name = Selection("", "configmaps", ns, "cfg")

    # the server and the watch move on; the run's reads do not
    code, _ = cluster.request("PATCH", f"{cms}/cfg", {"data": {"v": "2"}}, content_type="application/merge-patch+json")
    assert code == 200
    wait_for(lambda: events(port, "cms", "MODIFIED") >= 1, 30, "the watch to deliver the change")
    [raw] = coherence.read(path, me, by_name)
    assert raw in data  # the very bytes of the stdin snapshot
    assert json.loads(raw) == snap["cfg"]
    (tmp_path / "go").touch()

    wait_for(lambda: (tmp_path / "wrote").exists(), 60, "the hook's reads and writes")
    code, _ = cluster.request("PATCH", f"{cms}/cfg", {"data": {"v": "4"}}, content_type="application/merge-patch+json")
    assert code == 200
    wait_for(lambda: events(port, "cms", "MODIFIED") >= 3, 30, "the watch to deliver the hook's write and ours")
    (tmp_path / "go2").touch()
    wait_for(lambda: (tmp_path / "done").exists(), 60, "the hook's last reads")
    assert w.proc.poll() is None, read(tmp_path, "kates.err")

    assert read(tmp_path, "err") == ""
    assert json.loads(read(tmp_path, "json")) == snap["cfg"]
    assert yaml.safe_load(read(tmp_path, "yaml")) == snap["cfg"]
    assert read(tmp_path, "name") == "configmap/cfg\n"
    assert read(tmp_path, "jsonpath") == "1"
    assert read(tmp_path, "columns").split() == ["NAME", "V", "cfg", "1"]
    assert read(tmp_path, "fieldsel") == "1"
    assert read(tmp_path, "list").split() == ["configmap/cfg", "configmap/kube-root-ca.crt", "configmap/other"]
    # the table of cfg is the server's (rendered only for what it holds now): said so; other's is the snapshot's
    assert read(tmp_path, "table").split()[:3] == ["NAME", "DATA", "AGE"]
    assert "newer state" in read(tmp_path, "table.err") and len(read(tmp_path, "table.err").splitlines()) == 1
    assert read(tmp_path, "table-other").split()[:4] == ["NAME", "DATA", "AGE", "other"]
    assert read(tmp_path, "table-other.err") == ""
    assert read(tmp_path, "table-list").split()[:4] == ["NAME", "DATA", "AGE", "other"]
    assert read(tmp_path, "table-list.err") == ""
    assert read(tmp_path, "nope.code").strip() == "4"
    assert read(tmp_path, "nope.err") == 'error: configmaps "nope" not found\n'
    assert read(tmp_path, "live") == read(tmp_path, "live-env") == "2"
    # read-your-writes: the run's own patch and delete, though the server has moved on again
    assert read(tmp_path, "own") == "3"
    assert read(tmp_path, "own-deleted") == ""
    assert read(tmp_path, "own-deleted.err") == 'error: configmaps "other" not found\n'
    assert read(tmp_path, "own-live") == "4"
    # between runs no snapshot answers: the client reads the API server
    wait_for(lambda: (tmp_path / "snap-1.json").exists(), 30, "the next run")
    wait_for(lambda: _not_served(path, me, by_name) == "no hook run is in progress", 30, "the run to end")
    assert w.stop() == 130


def _not_served(path: str, cluster: str, sel: Selection) -> str | None:
    try:
        coherence.read(path, cluster, sel)
    except coherence.NotServed as exc:
        return exc.why
    return None


GONE_HOOK = r"""#!/bin/sh
cat > /dev/null
[ "$KATES_RUN" = 0 ] || exit 0
export KATES_WRITE_SOCKET="$OUT/no-such.sock"
$KATES get cm cfg cfg -n $NS -o custom-columns=V:.data.v > "$OUT/out" 2> "$OUT/err"
echo $? > "$OUT/code"
"""


def test_a_read_the_watcher_cannot_answer_goes_to_the_api_server_and_says_so_once(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any], kates: Runner
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "cfg"}, "data": {"v": "1"}})
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook(tmp_path, GONE_HOOK))]
    w = Proc(args, cluster.kubeconfig, tmp_path / "cache", tmp_path, OUT=str(tmp_path), NS=ns, KATES=KATES)
    watches.append(w)
    wait_for(lambda: (tmp_path / "code").exists(), 60, "the hook's read")
    assert read(tmp_path, "code").strip() == "0"
    assert read(tmp_path, "out").split() == ["V", "1", "1"]
    err = read(tmp_path, "err").splitlines()
    assert len(err) == 1 and err[0].startswith("Warning: the hook's watcher did not answer"), err
    assert "read from the API server" in err[0]
    assert w.stop() == 130


TIMING_HOOK = """#!{python}
import json, os, subprocess, sys, time
sys.stdin.read()
if os.environ["KATES_RUN"] != "0":
    sys.exit(0)
out = os.environ["OUT"]
cmd = [sys.executable, "-m", "kates_cli", "get", "cm", "cfg", "-n", os.environ["NS"], "-o", "name"]
times = {{"watcher": [], "live": []}}
for i in range(2 * {rounds}):
    mode = "watcher" if i % 2 == 0 else "live"
    started = time.monotonic()
    done = subprocess.run(cmd + (["--live"] if mode == "live" else []), capture_output=True, text=True)
    times[mode].append(time.monotonic() - started)
    assert done.returncode == 0 and done.stdout == "configmap/cfg\\n" and not done.stderr, done
with open(os.path.join(out, ".times"), "w") as f:
    json.dump(times, f)
os.rename(os.path.join(out, ".times"), os.path.join(out, "times.json"))
"""


def test_a_read_answered_by_the_watcher_is_faster_than_one_from_the_api_server(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": "cfg"}, "data": {"v": "1"}})
    rounds = 20
    text = TIMING_HOOK.format(python=sys.executable, rounds=rounds)
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook(tmp_path, text))]
    w = Proc(args, cluster.kubeconfig, tmp_path / "cache", tmp_path, OUT=str(tmp_path), NS=ns)
    watches.append(w)
    wait_for(lambda: (tmp_path / "times.json").exists() or w.proc.poll() is not None, 120, "the timed reads")
    times = json.loads(read(tmp_path, "times.json"))
    median = {mode: sorted(values)[len(values) // 2] for mode, values in times.items()}
    mean = {mode: sum(values) / len(values) for mode, values in times.items()}
    figures.record(
        "hook reads",
        f"kates get cm NAME -o name inside a hook, {rounds} runs each",
        watcher_median_ms=round(median["watcher"] * 1000, 1),
        live_median_ms=round(median["live"] * 1000, 1),
        watcher_mean_ms=round(mean["watcher"] * 1000, 1),
        live_mean_ms=round(mean["live"] * 1000, 1),
    )
    assert median["watcher"] < median["live"], median
    assert w.stop() == 130


HELD_HOOK = r"""#!/bin/sh
run=$KATES_RUN
cat > "$OUT/.snap" && mv "$OUT/.snap" "$OUT/snap-$run.json"
[ "$run" = 0 ] || exit 0
n=0; while [ ! -e "$OUT/go" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done
$KATES get cm cfg -n $NS -o json --show-managed-fields > "$OUT/json" 2>> "$OUT/err"
$KATES patch cm cfg -n $NS -p '{"data":{"v":"3"}}' > /dev/null 2>> "$OUT/err"
$KATES get cm cfg -n $NS -o jsonpath='{.data.v}' > "$OUT/own" 2>> "$OUT/err"
touch "$OUT/done"
"""


def test_with_the_watch_held_a_hook_reads_its_snapshot_and_its_own_write(
    cluster: ControlPlane, ns: str, tmp_path: Path, watches: list[Any]
) -> None:
    cms = f"/api/v1/namespaces/{ns}/configmaps"
    create(cluster, cms, {"metadata": {"name": "cfg"}, "data": {"v": "1"}})
    hold = tmp_path / "hold"
    args = ["-q", f"cms=cm ns={ns}", "--exec", str(hook(tmp_path, HELD_HOOK))]
    env = {"OUT": str(tmp_path), "NS": ns, "KATES": KATES, "KATES_TEST_HOLD_WATCH": str(hold)}
    w = Proc(args, cluster.kubeconfig, tmp_path / "cache", tmp_path, **env)
    watches.append(w)
    wait_for(lambda: (tmp_path / "snap-0.json").exists(), 60, "the first run")
    hold.touch()  # the watch delivers nothing more: what the hook reads cannot come from it
    code, _ = cluster.request("PATCH", f"{cms}/cfg", {"data": {"v": "2"}}, content_type="application/merge-patch+json")
    assert code == 200
    (tmp_path / "go").touch()
    wait_for(lambda: (tmp_path / "done").exists(), 60, "the hook's reads")
    snap = {o["metadata"]["name"]: o for o in json.loads(read(tmp_path, "snap-0.json"))["cms"]}
    assert read(tmp_path, "err") == ""
    assert json.loads(read(tmp_path, "json")) == snap["cfg"]  # the server holds v=2 by now
    assert read(tmp_path, "own") == "3"  # the run's own write, known only from its report
    hold.unlink()
    assert w.stop() == 130
