"""No bearer token, client key, exec-credential output or Secret data in any error, --debug output or traceback
(issue 11, section 4): a set of failing and --debug invocations, their stdout and stderr searched for the real
secrets of the test kubeconfig."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.controlplane.launcher import RESTRICTED_CONTEXT, RESTRICTED_TOKEN, ControlPlane
from tests.e2e.conftest import Result, Runner

pytestmark = pytest.mark.e2e

EXEC_TOKEN = "exec-token-4f1d2c9b7a"
SECRET_VALUE = "s3cr3t-value-8e7d6c"

PLUGIN = """\
import json, os, sys
mode, token = sys.argv[1], os.environ["PLUGIN_TOKEN"]
status = {"token": token}
v1 = "client.authentication.k8s.io/v1"
if mode == "bad-json":
    print('{"kind": "ExecCredential", "status": {"token": "%s"' % token)
elif mode == "bad-expiry":
    status["expirationTimestamp"] = token + "-not-a-time"
    print(json.dumps({"apiVersion": v1, "kind": "ExecCredential", "status": status}))
elif mode == "wrong-version":
    print(json.dumps({"apiVersion": v1 + "beta1", "kind": "ExecCredential", "status": status}))
elif mode == "fails":
    print(json.dumps({"status": status}))
    sys.exit(3)
else:
    print(json.dumps({"apiVersion": v1, "kind": "ExecCredential", "status": status}))
"""


def secrets(cluster: ControlPlane) -> dict[str, str]:
    """Every secret a leak could show, in every form it could take."""
    pem = cluster.admin[1].read_bytes().decode()
    found = {
        "restricted token": RESTRICTED_TOKEN,
        "admin key (PEM)": pem.strip(),
        "admin key (client-key-data)": base64.b64encode(pem.encode()).decode()[:48],
        "exec token": EXEC_TOKEN,
        "secret value": SECRET_VALUE,
        "secret value (base64)": base64.b64encode(SECRET_VALUE.encode()).decode(),
    }
    for i, line in enumerate(pem.splitlines()):
        if not line.startswith("-----") and len(line) >= 16:
            found[f"admin key line {i}"] = line
    return found


def kubeconfig(cluster: ControlPlane, dest: Path, edit: Any) -> str:
    cfg = yaml.safe_load(cluster.kubeconfig.read_text())
    edit(cfg)
    dest.write_text(yaml.safe_dump(cfg))
    return str(dest)


def exec_user(tmp_path: Path, mode: str) -> dict[str, Any]:
    plugin = tmp_path / "plugin.py"
    plugin.write_text(PLUGIN)
    return {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(plugin), mode],
            "interactiveMode": "Never",
            "env": [{"name": "PLUGIN_TOKEN", "value": EXEC_TOKEN}],
        }
    }


def test_no_secret_in_errors_debug_output_or_tracebacks(
    cluster: ControlPlane, ns: str, kates: Runner, tmp_path: Path
) -> None:
    def users(cfg: dict[str, Any]) -> dict[str, Any]:
        return {u["name"]: u["user"] for u in cfg["users"]}

    def closed_port(cfg: dict[str, Any]) -> None:
        cfg["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"

    def wrong_key(cfg: dict[str, Any]) -> None:  # the admin key with another certificate: a mismatch
        for user in cfg["users"]:
            if "client-key-data" in user["user"]:
                user["user"]["client-certificate-data"] = base64.b64encode(cluster.pki.ca_cert.read_bytes()).decode()

    def exec_as(mode: str) -> Any:
        def edit(cfg: dict[str, Any]) -> None:
            cfg["users"].append({"name": "exec", "user": exec_user(tmp_path, mode)})
            cfg["contexts"].append({"name": "exec", "context": {"cluster": cfg["clusters"][0]["name"], "user": "exec"}})
            cfg["current-context"] = "exec"

        return edit

    def yaml_error_near_token(cfg: dict[str, Any]) -> None:
        users(cfg)[RESTRICTED_CONTEXT]["token"] = RESTRICTED_TOKEN

    down = kubeconfig(cluster, tmp_path / "down", closed_port)
    mismatched = kubeconfig(cluster, tmp_path / "mismatched", wrong_key)
    broken = tmp_path / "broken"  # the whole kubeconfig, keys and tokens in it, then a syntax error
    broken.write_text(Path(kubeconfig(cluster, tmp_path / "whole", yaml_error_near_token)).read_text() + "\n  : [\n")
    plain = tmp_path / "plain"  # the token user's kubeconfig: a syntax error on the token's own line
    plain.write_text(f"users:\n- name: u\n  user:\n    token: {RESTRICTED_TOKEN} [unclosed\n    x: {{\n")
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "Not_A_Valid_Name", "namespace": ns},
        "stringData": {"password": SECRET_VALUE},
    }
    bad_data = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "bad-data", "namespace": ns},
        "data": {"password": SECRET_VALUE + "!!"},  # not base64: the server says where, not what
    }
    (tmp_path / "s1.yaml").write_text(yaml.safe_dump(secret))
    (tmp_path / "s2.yaml").write_text(yaml.safe_dump(bad_data))
    s3 = f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s3}}\nstringData:\n  a: {SECRET_VALUE}: x\n"  # a YAML error
    (tmp_path / "s3.yaml").write_text(s3)
    (tmp_path / "s4.yaml").write_text(yaml.safe_dump({**secret, "metadata": {"name": "ok", "namespace": ns}}))
    invocations: list[tuple[list[str], dict[str, str]]] = [
        (["--debug", "--context", RESTRICTED_CONTEXT, "get", "secrets", "-n", "kube-system"], {}),
        (["--debug", "--context", RESTRICTED_CONTEXT, "get", "ns"], {"KUBECONFIG": down}),
        (["--debug", "get", "ns"], {"KUBECONFIG": down}),
        (["--debug", "get", "ns"], {"KUBECONFIG": mismatched}),
        (["--debug", "get", "ns"], {"KUBECONFIG": str(broken)}),
        (["--debug", "get", "ns"], {"KUBECONFIG": str(plain)}),
        (["--debug", "create", "-f", str(tmp_path / "s1.yaml")], {}),
        (["--debug", "create", "-f", str(tmp_path / "s2.yaml")], {}),
        (["--debug", "create", "-f", str(tmp_path / "s3.yaml"), "-n", ns], {}),
        (["--debug", "create", "-f", str(tmp_path / "s4.yaml")], {"KUBECONFIG": down}),
        (["--debug", "patch", "secret", "nope", "-n", ns, "-p", f'{{"data":{{"x":"{SECRET_VALUE}"}}}}'], {}),
        (["--debug", "--context", RESTRICTED_CONTEXT, "create", "-f", str(tmp_path / "s4.yaml")], {}),
    ]
    for mode in ("bad-json", "bad-expiry", "wrong-version", "fails", "ok"):
        cfg = kubeconfig(cluster, tmp_path / f"exec-{mode}", exec_as(mode))
        invocations.append((["--debug", "get", "secrets", "-n", "kube-system"], {"KUBECONFIG": cfg}))
    results: list[tuple[list[str], Result]] = []
    for args, env in invocations:
        r = kates(*args, env=env)
        assert r.code != 0, (args, r)
        results.append((args, r))
    leaks = [
        (what, args, r)
        for args, r in results
        for what, value in secrets(cluster).items()
        if value in r.out or value in r.err
    ]
    assert leaks == [], [(what, args, r.err[-600:]) for what, args, r in leaks]
    assert any("Traceback" in r.err for _, r in results), "no --debug traceback was searched"
