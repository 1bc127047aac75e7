"""The write socket of a real `kates watch --exec`: a hook's write to another cluster never shows in the watched
cluster's snapshot, and malformed or huge messages are refused without harming the watcher (issue 11, 1b and 4)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import orjson
import pytest

from kates_cli.core.coherence import cluster_id
from kates_cli.core.config import load
from kates_cli.errors import ExitCode
from tests import figures
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e.test_watch import Watch, write_hook
from tests.faultproxy import FaultProxy

pytestmark = pytest.mark.e2e

HOOK = """#!/bin/sh
cat > "$OUT/.snap" && mv "$OUT/.snap" "$OUT/snap-$KATES_RUN.json"
echo "$KATES_WRITE_SOCKET" > "$OUT/socket"
if [ "$KATES_RUN" = 0 ]; then
  $KATES --kubeconfig "$OTHER" create -f "$OUT/phantom.yaml" >> "$OUT/hook.log" 2>&1
  $KATES create -f "$OUT/real.yaml" >> "$OUT/hook.log" 2>&1
fi
"""


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def snapshot_names(path: Path) -> set[str]:
    return {o["metadata"]["name"] for o in orjson.loads(path.read_bytes())["cms"]}


def test_a_hooks_write_to_another_cluster_is_not_in_the_snapshot_and_bad_messages_do_no_harm(
    cluster: ControlPlane, cache_dir: Path, ns: str, tmp_path: Path
) -> None:
    for name in ("phantom", "real"):
        (tmp_path / f"{name}.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {ns}}}\n"
        )
    hold = tmp_path / "hold"
    hold.write_text("")  # the watch delivers nothing after bootstrap while this file exists
    with FaultProxy(cluster.port) as proxy:
        other = proxy.kubeconfig(cluster.kubeconfig, tmp_path / "other.kubeconfig")  # another server URL
        env = {
            "OUT": str(tmp_path),
            "OTHER": str(other),
            "KATES": f"{sys.executable} -m kates_cli",
            "KATES_TEST_HOLD_WATCH": str(hold),
        }
        w = Watch(cluster, cache_dir, ["-q", f"cms=cm ns={ns}", "--exec", str(write_hook(tmp_path, HOOK))], env)
        try:
            wait_for(lambda: (tmp_path / "snap-1.json").exists(), 60, "the run after the hook's writes")
            log = (tmp_path / "hook.log").read_text()
            # the watch is held: what the snapshot shows came from the reports alone
            assert snapshot_names(tmp_path / "snap-1.json") == {"kube-root-ca.crt", "real"}, log
            assert cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps/phantom")[0] == 200

            path = (tmp_path / "socket").read_text().strip()
            before = rss_kib(w.proc.pid)
            for bad in (b"not json\n", b"[]\n", b'{"object": 5}\n', b"\xff\n"):
                assert talk(path, bad).startswith(b"error: "), bad
            talk(path, b"x" * (100 * 1024 * 1024))  # 100 MiB: refused after 4 MiB
            grown = rss_kib(w.proc.pid) - before
            assert grown < 32 * 1024, f"the watcher grew by {grown} KiB reading a huge message"
            figures.record("security", "write socket: 100 MiB message", refused=True, watcher_rss_growth_kib=grown)
            # still serving, and a good report about the watched cluster is still taken
            me = cluster_id(load(str(cluster.kubeconfig), env={}, home="/nonexistent"))
            obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "late", "namespace": ns}}
            good = {"cluster": me, "verb": "create", "group": "", "resource": "configmaps", "object": obj}
            assert talk(path, orjson.dumps(good) + b"\n") == b"ok\n"
            wait_for(lambda: (tmp_path / "snap-2.json").exists(), 30, "a run with the reported write")
            assert "late" in snapshot_names(tmp_path / "snap-2.json")
        finally:
            code, _, err = w.finish()
    assert code == ExitCode.INTERRUPTED, err
    assert "Traceback" not in err and "error" not in err.lower(), err


def talk(path: str, data: bytes) -> bytes:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(path)
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            return sock.recv(4096)
        except ConnectionResetError:
            return b""
