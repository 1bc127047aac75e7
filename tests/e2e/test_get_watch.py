"""`kates get --watch` of several kinds, through an API server restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from kates_cli.errors import ExitCode
from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane

from .conftest import create


class Lines:
    """Collects a process's stdout lines in the background."""

    def __init__(self, proc: subprocess.Popen[str]):
        self.lines: list[str] = []
        assert proc.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)

    def events(self) -> list[tuple[str, str, str]]:
        out = []
        for line in list(self.lines):
            ev = json.loads(line)
            out.append((ev["type"], ev["object"]["kind"], ev["object"]["metadata"]["name"]))
        return out


def test_get_watch_of_two_kinds_survives_an_apiserver_restart(private_cluster: ControlPlane, tmp_path: Path) -> None:
    cp = private_cluster
    create(cp, "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "before"}})
    env = dict(os.environ, KUBECONFIG=str(cp.kubeconfig), KATES_CACHE_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kates_cli",
            "get",
            "cm,svc",
            "-n",
            "default",
            "-w",
            "-o",
            "json",
            "--output-watch-events",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = Lines(proc)
    try:
        # the kinds are listed one after the other: wait for both, not for the first alone
        wait_for(
            lambda: {("ADDED", "ConfigMap", "before"), ("ADDED", "Service", "kubernetes")} <= set(lines.events()),
            30,
            "the initial listing of both kinds",
        )
        create(cp, "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "during"}})
        create(
            cp, "/api/v1/namespaces/default/services", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
        )
        wait_for(
            lambda: {("ADDED", "ConfigMap", "during"), ("ADDED", "Service", "web")} <= set(lines.events()),
            30,
            "changes to both kinds",
        )
        cp.restart_apiserver()
        assert proc.poll() is None, "kates exited when the server went away"
        create(cp, "/api/v1/namespaces/default/configmaps", {"metadata": {"name": "after"}})
        cp.request("DELETE", "/api/v1/namespaces/default/services/web")
        wait_for(
            lambda: {("ADDED", "ConfigMap", "after"), ("DELETED", "Service", "web")} <= set(lines.events()),
            60,
            "changes after the restart",
        )
        names = [e for e in lines.events() if e[0] == "ADDED"]
        assert len(names) == len(set(names)), "an object was reported as added twice"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == ExitCode.INTERRUPTED


def test_get_watch_of_a_kind_deleted_meanwhile_ends_with_no_hint_get_cannot_follow(
    cluster: ControlPlane, ns: str, cache_dir: Path
) -> None:
    """The error said `hint: with --wait-for-kinds kates waits for a kind to come back`, an option of watch's."""
    from .conftest import KATES, _env, ensure_crd, schemaless_crd

    group = "gonewatch.example.org"
    crd_path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/husks.{group}"
    ensure_crd(cluster, schemaless_crd(group, "husks", "Husk"))
    try:
        proc = subprocess.Popen(
            [*KATES, "get", f"husks.{group}", "-n", ns, "-w"], env=_env(cluster, cache_dir, None),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        time.sleep(2)  # pacing: the watch is open (the test holds either way)
        assert cluster.request("DELETE", crd_path)[0] == 200
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == ExitCode.NOT_FOUND, err
        assert "no longer serves" in err and "--wait-for-kinds" not in err, err
    finally:
        cluster.request("DELETE", crd_path)
