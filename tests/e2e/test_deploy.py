"""deploy/: the manifests pass the API server's dry run with the exact command the README shows, the committed RBAC
is exactly what the README's `kates rbac` line prints, and the Deployment runs the watch that RBAC was made for."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import wait_for
from tests.controlplane.launcher import ControlPlane
from tests.e2e import serviceaccounts as sa
from tests.e2e.conftest import KATES, Runner, _env, create

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"


def readme_command(prefix: str) -> list[str]:
    """The README's shell line starting with `prefix` (backslash continuations joined, comment and redirection
    dropped), as argv."""
    text = (REPO / "README.md").read_text().replace("\\\n", " ")
    found = [line.strip() for line in text.splitlines() if line.strip().startswith(prefix)]
    assert len(found) == 1, f"the README should show one `{prefix}...` line, found {found}"
    words = shlex.split(found[0], comments=True)
    return words[: words.index(">")] if ">" in words else words


def documents(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text()) if d]


def option_values(args: list[str], flag: str) -> list[str]:
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]


def test_committed_rbac_is_what_the_documented_kates_rbac_prints(kates: Runner) -> None:
    argv = readme_command("kates rbac ")
    assert argv[-1] != "deploy/rbac.yaml"
    out = kates(*argv[1:])
    assert out.code == 0, out
    assert out.out == (DEPLOY / "rbac.yaml").read_text(), "regenerate deploy/rbac.yaml with the README's command"


def test_deployment_runs_the_watch_its_rbac_was_made_for() -> None:
    rbac_argv = readme_command("kates rbac ")
    (deployment,) = documents("deployment.yaml")
    (service,) = documents("service.yaml")
    (hook,) = documents("hook.yaml")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    args = container["args"]
    assert deployment["spec"]["replicas"] == 3
    assert args[:2] == ["watch", "--leader-elect"]
    assert option_values(args, "-q") == option_values(rbac_argv, "-q")
    assert option_values(args, "--lease") == option_values(rbac_argv, "--lease") == ["kates-reconcile"]
    assert pod["serviceAccountName"] == option_values(rbac_argv, "--service-account")[0]
    assert {deployment["metadata"]["namespace"], service["metadata"]["namespace"], hook["metadata"]["namespace"]} == {
        option_values(rbac_argv, "-n")[0]
    }
    # POD_NAME from the downward API (the identity); probes and the Service on the metrics port
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert option_values(args, "--metrics-addr") == [":9090"]
    assert container["ports"] == [{"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert service["metadata"]["annotations"]["prometheus.io/port"] == "9090"
    # the hook: examples/reconcile.sh verbatim, mounted executable where --exec looks
    assert option_values(args, "--exec") == ["/hooks/reconcile.sh"]
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/hooks"]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["configMap"] == {"name": hook["metadata"]["name"], "defaultMode": 0o755}
    assert hook["data"] == {"reconcile.sh": (REPO / "examples" / "reconcile.sh").read_text()}


def test_containerfile_installs_this_repository_as_a_non_root_user(tmp_path: Path) -> None:
    """No image can be built here (no container runtime): check what can be checked without one. The files the
    Containerfile copies are enough for `pip install /src` (built offline, as pip builds it in the image), and the
    image's user is the one the pod runs as."""
    text = (DEPLOY / "Containerfile").read_text()
    assert re.search(r"^FROM \S*python:3\.\d+-slim$", text, re.M), text
    assert re.search(r"^RUN pip install --no-cache-dir /src ", text, re.M)
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert 'ENTRYPOINT ["kates"]' in text
    (deployment,) = documents("deployment.yaml")
    security = deployment["spec"]["template"]["spec"]["securityContext"]
    assert (security["runAsNonRoot"], security["runAsUser"], security["runAsGroup"]) == (True, 10001, 10001)
    src = tmp_path / "src"
    src.mkdir()
    for line in re.findall(r"^COPY (.+)$", text, re.M):
        *sources, dest = line.split()
        for source in sources:
            target = tmp_path / dest.lstrip("/") / (source if dest.endswith("/") else "")
            copy = shutil.copytree if (REPO / source).is_dir() else shutil.copy
            copy(REPO / source, target)
    out = tmp_path / "wheel"
    pip = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(out)]
    built = subprocess.run([*pip, str(src)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, built
    (wheel,) = out.glob("kates-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"kates_cli/cli/rbac.py", "kates_cli/cli/watch.py"} <= names
    assert any(n.endswith("share/man/man1/kates-rbac.1") for n in names)


def test_deploy_directory_passes_a_server_side_dry_run(cluster: ControlPlane, cache_dir: Path) -> None:
    argv = readme_command("kates create --dry-run=server")
    assert argv == ["kates", "create", "--dry-run=server", "-f", "deploy/"]
    code, body = cluster.request("POST", "/api/v1/namespaces", {"metadata": {"name": "kates"}})
    assert code == 201, body
    try:
        proc = subprocess.run(
            [*KATES, *argv[1:]],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=_env(cluster, cache_dir, None),
            timeout=60,
        )
        assert (proc.returncode, proc.stderr) == (0, ""), proc
        assert proc.stdout.splitlines() == [
            "deployment.apps/kates-reconcile created (server dry run)",
            "configmap/kates-reconcile-hook created (server dry run)",
            "serviceaccount/kates-reconcile created (server dry run)",
            "role.rbac.authorization.k8s.io/kates-reconcile created (server dry run)",
            "rolebinding.rbac.authorization.k8s.io/kates-reconcile created (server dry run)",
            "service/kates-reconcile-metrics created (server dry run)",
        ]
        assert cluster.request("GET", "/apis/apps/v1/namespaces/kates/deployments/kates-reconcile")[0] == 404
    finally:
        cluster.request("DELETE", "/api/v1/namespaces/kates")


def test_documented_rbac_is_enough_for_the_deployments_watch_and_hook(
    cluster: ControlPlane, kates: Runner, ns: str, tmp_path: Path
) -> None:
    """The README's `kates rbac` line (in a fresh namespace instead of `kates`), applied: the Deployment's own
    `kates watch` arguments, run once with the ServiceAccount's token, run the real hook, whose create and update of
    the summary ConfigMap are allowed."""
    assert shutil.which("jq"), "examples/reconcile.sh needs jq"
    argv = readme_command("kates rbac ")
    argv[argv.index("-n") + 1] = ns
    sa.apply_rbac(kates, *argv[2:])
    kc = sa.kubeconfig(cluster, sa.token(cluster, ns, "kates-reconcile"), ns, tmp_path / "kc")
    env = {"KUBECONFIG": str(kc), "KATES": f"{sys.executable} -m kates_cli"}
    wait_for(lambda: kates("get", "deploy", env=env).code == 0, 30, "the RoleBinding to apply")
    (deployment,) = documents("deployment.yaml")
    args = list(deployment["spec"]["template"]["spec"]["containers"][0]["args"])
    del args[args.index("--metrics-addr") : args.index("--metrics-addr") + 2]  # not what this test is about
    if "--leader-elect" not in kates("watch", "--help").out:  # on a branch without leader election and logs yet
        for flag, takes_value in (("--leader-elect", False), ("--lease", True), ("--log-format", True)):
            i = args.index(flag)
            del args[i : i + 1 + takes_value]
    args[args.index("/hooks/reconcile.sh")] = str(REPO / "examples" / "reconcile.sh")
    args.insert(1, "--once")

    first = kates(*args, env=env)
    assert first.code == 0, first
    assert "reconcile run 0: wrote the summary (services: ; deployments: )" in first.err, first
    create(
        cluster, f"/api/v1/namespaces/{ns}/services", {"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}
    )
    second = kates(*args, env=env)  # the summary exists now: the hook updates it
    assert second.code == 0, second
    assert "reconcile run 0: wrote the summary (services: web; deployments: )" in second.err, second
    code, summary = cluster.request("GET", f"/api/v1/namespaces/{ns}/configmaps/kates-summary")
    assert (code, summary["data"]) == (200, {"deployments": "", "services": "web"}), json.dumps(summary)
