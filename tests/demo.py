"""`nox -s demo`: start the local control plane and show kates's main job on it.

Until the watch lands this shows the first commands only; it still builds (or reuses) and starts the cluster.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.controlplane.launcher import ControlPlane


def kates(cp: ControlPlane, *args: str) -> None:
    print(f"$ kates {' '.join(args)}", flush=True)
    env = dict(os.environ, KUBECONFIG=str(cp.kubeconfig))
    subprocess.run([sys.executable, "-m", "kates_cli", *args], env=env, check=True)


def main() -> int:
    with ControlPlane() as cp:
        print(f"control plane ready in {cp.startup_seconds:.1f}s at {cp.server}", flush=True)
        kates(cp, "version")
        kates(cp, "get", "ns")
        kates(cp, "get", "svc,deploy", "-A")
        print("the coherent watch demo (kates watch --exec) is coming soon", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
