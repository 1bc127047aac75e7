"""The fault-matrix harness: a `kates watch` whose hook appends every snapshot it is given to a file, and the
figures a row quotes, computed from those snapshots and the server's state.

- lost: objects the server holds that the final snapshot lacks, plus objects it shows that the server no longer has
  (or shows at another resourceVersion);
- duplicated: the most times one object appears more than once within a snapshot, over all snapshots;
- stale: objects shown at an older resourceVersion than an earlier snapshot showed (a rollback), over all snapshots;
- hook_runs: snapshots the hook was given.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.controlplane.launcher import ControlPlane

APPEND_HOOK = (
    '#!/bin/sh\n# one snapshot per line\ntr -d "\\n" >> "$OUT/snapshots.jsonl"\necho >> "$OUT/snapshots.jsonl"\n'
)


class HookedWatch:
    """`kates watch -q cms=cm ns=NS --exec <append hook>` in the background, through `kubeconfig`."""

    def __init__(
        self, tmp: Path, kubeconfig: Path, cache: Path, ns: str, *extra: str, env: dict[str, str] | None = None
    ) -> None:
        self.tmp = tmp
        hook = tmp / "append.sh"
        hook.write_text(APPEND_HOOK)
        hook.chmod(0o755)
        self.log = tmp / "snapshots.jsonl"
        self.err_path = tmp / "watch.err"
        full_env = dict(os.environ, KUBECONFIG=str(kubeconfig), KATES_CACHE_DIR=str(cache), OUT=str(tmp), NO_COLOR="1")
        full_env.update(env or {})
        with self.err_path.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kates_cli", "watch", "-q", f"cms=cm ns={ns}", "--exec", str(hook), *extra],
                env=full_env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def snapshots(self) -> list[list[dict[str, Any]]]:
        if not self.log.exists():
            return []
        text = self.log.read_text()  # a run may be writing its line (in chunks): only whole lines count
        return [json.loads(line)["cms"] for line in text[: text.rfind("\n") + 1].splitlines() if line.strip()]

    def last(self) -> dict[str, str] | None:
        snaps = self.snapshots()
        return names_rvs(snaps[-1]) if snaps else None

    def stderr(self) -> str:
        return self.err_path.read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def names_rvs(objs: list[dict[str, Any]]) -> dict[str, str]:
    return {o["metadata"]["name"]: o["metadata"]["resourceVersion"] for o in objs}


def server_state(cluster: ControlPlane, ns: str) -> dict[str, str]:
    code, body = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps")
    assert code == 200, body
    return {i["metadata"]["name"]: i["metadata"]["resourceVersion"] for i in body["items"]}


def figures_of(snapshots: list[list[dict[str, Any]]], server: dict[str, str]) -> dict[str, int]:
    duplicated = stale = 0
    newest: dict[str, int] = {}  # uid -> newest resourceVersion shown so far
    for snap in snapshots:
        names = [o["metadata"]["name"] for o in snap]
        duplicated = max(duplicated, len(names) - len(set(names)))
        for o in snap:
            uid, rv = o["metadata"]["uid"], int(o["metadata"]["resourceVersion"])
            if rv < newest.get(uid, 0):
                stale += 1
            newest[uid] = max(rv, newest.get(uid, 0))
    final = names_rvs(snapshots[-1]) if snapshots else {}
    lost = len(set(server) - set(final)) + sum(1 for n, rv in final.items() if server.get(n) != rv)
    return {"lost": lost, "duplicated": duplicated, "stale": stale, "hook_runs": len(snapshots)}
