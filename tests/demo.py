"""`nox -s demo`: kates's main job on the local control plane, start to finish.

It builds (or reuses) and starts the control plane, creates Services and Deployments, runs
`kates watch -q svc -q deploy -q summary=... --exec examples/reconcile.sh`, changes things while it runs (a burst
that the watch coalesces), shows the reconciler's runs and the ConfigMap it keeps, then stops everything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.controlplane.launcher import ControlPlane

ROOT = Path(__file__).resolve().parents[1]
NS = "demo"


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def main() -> int:
    bindir = str(Path(sys.executable).parent)
    with ControlPlane() as cp:
        env = dict(os.environ, KUBECONFIG=str(cp.kubeconfig), PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}")
        env.pop("NO_COLOR", None)
        env.pop("KUBERC", None)
        env["KUBECTL_KUBERC"] = "false"  # the demo's output is kates's own, whatever the user's kuberc says

        def kates(*args: str, quiet: bool = False) -> str:
            if not quiet:
                print(f"$ kates {' '.join(args)}", flush=True)
            proc = subprocess.run(["kates", *args], env=env, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise SystemExit(f"demo: kates {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
            if not quiet:
                print(proc.stdout, end="", flush=True)
            return proc.stdout

        say(f"control plane ready in {cp.startup_seconds:.1f}s at {cp.server}")
        subprocess.run(
            ["kates", "create", "-f", "-"],
            input=f"apiVersion: v1\nkind: Namespace\nmetadata: {{name: {NS}}}\n",
            env=env,
            text=True,
            check=True,
            capture_output=True,
        )
        kates("create", "-n", NS, "-f", str(ROOT / "examples" / "demo-app.yaml"))

        say("starting the reconciler: it runs once everything is listed, then on every change")
        argv = [
            "kates",
            "watch",
            "-n",
            NS,
            "-q",
            "svc",
            "-q",
            "deploy",
            "-q",
            "summary=cm f=metadata.name=kates-summary",
            "--exec",
            str(ROOT / "examples" / "reconcile.sh"),
        ]
        print("$ " + " ".join([*argv[:-1], "examples/reconcile.sh"]), flush=True)
        watch = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
        runs: list[str] = []

        def tee() -> None:  # show the reconciler's lines, and count its runs
            assert watch.stderr is not None
            for line in watch.stderr:
                print(f"  | {line}", end="", flush=True)
                if line.startswith("reconcile run "):
                    runs.append(line)

        threading.Thread(target=tee, daemon=True).start()
        try:
            wait_summary(kates, "api,web", "api=1,web=2")

            say("a burst of 30 changes in a moment (Python API): the watch coalesces them into a few runs")
            before = len(runs)
            from kates_cli import Client

            with Client(str(cp.kubeconfig)) as client:
                for i in range(30):
                    client.patch("deploy", "web", {"spec": {"replicas": i % 5 + 1}}, namespace=NS)
                client.patch("deploy", "web", {"spec": {"replicas": 3}}, namespace=NS)
            wait_summary(kates, "api,web", "api=1,web=3")
            print(f"31 changes -> {len(runs) - before} reconciler runs", flush=True)

            say("a new Service, and a Deployment deleted")
            subprocess.run(
                ["kates", "create", "-n", NS, "-f", "-"],
                env=env,
                text=True,
                check=True,
                input="apiVersion: v1\nkind: Service\nmetadata: {name: cache}\nspec: {ports: [{port: 6379}]}\n",
            )
            kates("delete", "-n", NS, "deploy", "api")
            wait_summary(kates, "api,cache,web", "web=3")
        finally:
            say("stopping the watch (SIGTERM): it stops the hook cleanly and exits 130")
            watch.send_signal(signal.SIGTERM)
            code = watch.wait(30)
            print(f"kates watch exited with {code} after {len(runs)} reconciler runs", flush=True)
        kates("get", "cm", "kates-summary", "-n", NS, "-o", "jsonpath={.data}")
        print(flush=True)
        say("done; stopping the control plane")
    return 0


def wait_summary(kates: object, services: str, deployments: str, timeout: float = 60) -> None:
    """Wait until the reconciler's ConfigMap says what the cluster holds."""
    deadline = time.monotonic() + timeout
    want = f"{deployments}|{services}"
    got = ""
    while time.monotonic() < deadline:
        try:
            got = kates(
                "get",
                "cm",
                "kates-summary",
                "-n",
                NS,
                "-o",  # type: ignore[operator]
                "jsonpath={.data.deployments}|{.data.services}",
                "--ignore-not-found",
                quiet=True,
            )
        except SystemExit:
            got = ""
        if got == want:
            print(f"summary: deployments={deployments} services={services}", flush=True)
            return
        time.sleep(0.2)
    raise SystemExit(f"demo: the summary never became {want!r} (last: {got!r})")


if __name__ == "__main__":
    sys.exit(main())
