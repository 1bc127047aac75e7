"""`kates get -w -o custom-columns=...` prints every column under one header, as kubectl does (it printed the first
column's values alone, without a header)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import create


def test_watch_with_custom_columns_prints_every_column_under_one_header(
    cluster: ControlPlane, ns: str, cache_dir: Path
) -> None:
    for i in range(2):
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": f"cm-{i}"}, "data": {"a": str(i)}})
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig), KATES_CACHE_DIR=str(cache_dir), NO_COLOR="1")
    argv = [sys.executable, "-m", "kates_cli", "get", "cm", "-n", ns, "-w"]
    proc = subprocess.Popen(
        [*argv, "-o", "custom-columns=NAME:.metadata.name,A:.data.a,MISSING:.data.zz"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    assert proc.stdout is not None
    threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True).start()
    try:
        wait_for(lambda: len(lines) >= 4, 30, "the header and the three ConfigMaps")
        code, body = cluster.request(
            "PATCH",
            f"/api/v1/namespaces/{ns}/configmaps/cm-0",
            {"data": {"a": "changed"}},
            content_type="application/merge-patch+json",
        )
        assert code == 200, body
        wait_for(lambda: len(lines) >= 5, 30, "the patched ConfigMap's row")
    finally:
        proc.send_signal(signal.SIGTERM)  # not SIGINT: a backgrounded run (CI) starts us with SIGINT ignored
        _, err = proc.communicate(timeout=30)
    # each row is written as it comes, aligned with the widest cells seen so far (as kates's watched tables are)
    assert lines == [
        "NAME   A     MISSING\n",
        "cm-0   0     <none>\n",
        "cm-1   1     <none>\n",
        "kube-root-ca.crt   <none>   <none>\n",
        "cm-0               changed   <none>\n",
    ], (lines, err)
