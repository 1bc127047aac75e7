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
        watch = subprocess.Popen(argv, env=env)
        try:
            wait_summary(kates, "api,web", "api=1,web=2")

            say("a burst of 30 changes while the reconciler works: they coalesce into a few runs")
            for i in range(30):
                kates("patch", "-n", NS, "deploy", "web", "-p", f'{{"spec":{{"replicas":{i % 5 + 1}}}}}', quiet=True)
            kates("patch", "-n", NS, "deploy", "web", "-p", '{"spec":{"replicas":3}}')
            wait_summary(kates, "api,web", "api=1,web=3")

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
            print(f"kates watch exited with {code}", flush=True)
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
