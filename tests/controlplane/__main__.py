"""`python -m tests.controlplane [--tier2]`: run the local control plane in the foreground until Ctrl-C
(`nox -s cluster [-- --tier2]`). With --tier2 it also runs kube-scheduler and kwok, so pods run on a fake node."""

from __future__ import annotations

import signal
import sys
import threading

from .launcher import ADMIN_CONTEXT, RESTRICTED_CONTEXT, ControlPlane


def main() -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with ControlPlane(tier2="--tier2" in sys.argv[1:]) as cp:
        print(f"control plane ready in {cp.startup_seconds:.1f}s at {cp.server}", file=sys.stderr)
        print(f"contexts: {ADMIN_CONTEXT} (current), {RESTRICTED_CONTEXT}; logs in {cp.workdir}", file=sys.stderr)
        print(f"export KUBECONFIG={cp.kubeconfig}", flush=True)
        print("press Ctrl-C to stop", file=sys.stderr)
        stop.wait()
        print("stopping ...", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
