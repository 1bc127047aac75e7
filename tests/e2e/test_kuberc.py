"""kuberc (issue 15 section 3): aliases, defaults and the credential plugin policy, against real kubectl on the same
cluster and the same kuberc file."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any

import yaml

from tests.controlplane.launcher import ControlPlane
from tests.e2e.conftest import Runner, create

PREFERENCE = {"apiVersion": "kubectl.config.k8s.io/v1beta1", "kind": "Preference"}


def write_kuberc(tmp_path: Path, **fields: Any) -> dict[str, str]:
    path = tmp_path / "kuberc"
    path.write_text(yaml.safe_dump({**PREFERENCE, **fields}))
    return {"KUBERC": str(path)}


def cms(cluster: ControlPlane, ns: str, *names: str) -> None:
    for name in names:
        create(cluster, f"/api/v1/namespaces/{ns}/configmaps", {"metadata": {"name": name}, "data": {"k": "v"}})


def both(kates: Runner, kubectl: Runner, *args: str, env: dict[str, str]) -> tuple[Any, Any]:
    return kates(*args, env=env), kubectl(*args, env=env)


def test_alias_with_prepended_and_appended_args_as_kubectl(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    cms(cluster, ns, "one", "two")
    env = write_kuberc(
        tmp_path,
        aliases=[
            {"name": "getcm", "command": "get", "prependArgs": ["configmaps"], "appendArgs": ["-o", "name"]},
            # an alias's options are its defaults: `-o` spelled on the command line wins over them
            {
                "name": "cmjson",
                "command": "get",
                "prependArgs": ["cm"],
                "options": [{"name": "output", "default": "json"}],
            },
        ],
    )
    mine, theirs = both(kates, kubectl, "getcm", "one", "-n", ns, env=env)
    assert mine.code == theirs.code == 0, (mine, theirs)
    assert mine.out == theirs.out == "configmap/one\n"
    mine, theirs = both(kates, kubectl, "-n", ns, "getcm", env=env)  # kubectl takes `ns` for the alias's name
    assert mine.code != 0 and theirs.code != 0, (mine, theirs)
    mine, theirs = both(kates, kubectl, "cmjson", "two", "-n", ns, env=env)
    assert mine.code == theirs.code == 0 and '"name": "two"' in mine.out, (mine, theirs)
    mine, theirs = both(kates, kubectl, "cmjson", "two", "-n", ns, "-o", "name", env=env)
    assert mine.code == theirs.code == 0 and mine.out == theirs.out == "configmap/two\n", (mine, theirs)


def test_default_is_overridden_by_an_explicit_flag_as_kubectl(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    cms(cluster, ns, "one")
    env = write_kuberc(
        tmp_path,
        defaults=[
            {"command": "get", "options": [{"name": "output", "default": "name"}]},
            {"command": "apply", "options": [{"name": "server-side", "default": "true"}]},  # kubectl's, not kates's
        ],
        aliases=[{"name": "cmz", "command": "get", "prependArgs": ["cm"]}],
    )
    mine, theirs = both(kates, kubectl, "get", "cm", "one", "-n", ns, env=env)
    assert mine.code == theirs.code == 0 and mine.out == theirs.out == "configmap/one\n", (mine, theirs)
    assert mine.err == theirs.err == "", (mine, theirs)
    for flag in (["-o", "yaml"], ["-oyaml"], ["--output=yaml"], ["--output", "yaml"]):
        mine, theirs = both(kates, kubectl, "get", "cm", "one", "-n", ns, *flag, env=env)
        assert mine.code == theirs.code == 0 and mine.out.startswith("apiVersion: v1\n"), (flag, mine, theirs)
    # a default for `get` is not one for an alias of get (kubectl: the alias is a command of its own)
    mine, theirs = both(kates, kubectl, "cmz", "-n", ns, env=env)
    names = [[line.split()[0] for line in r.out.splitlines()] for r in (mine, theirs)]  # AGE may differ by a second
    assert mine.code == theirs.code == 0 and names[0] == names[1] == ["NAME", "kube-root-ca.crt", "one"], (mine, theirs)


def test_alias_never_shadows_a_builtin(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    cms(cluster, ns, "one")
    env = write_kuberc(
        tmp_path,
        aliases=[
            {"name": "get", "command": "version"},
            {"name": "version", "command": "get", "prependArgs": ["ns"]},
        ],
    )
    mine, theirs = both(kates, kubectl, "get", "cm", "one", "-n", ns, "-o", "name", env=env)
    assert mine.code == theirs.code == 0 and mine.out == theirs.out == "configmap/one\n", (mine, theirs)
    mine = kates("version", env=env)
    assert mine.code == 0 and mine.out.startswith("Client Version:"), mine


def test_kuberc_flag_and_turning_kuberc_off(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    cms(cluster, ns, "one")
    rc = write_kuberc(tmp_path, defaults=[{"command": "get", "options": [{"name": "output", "default": "name"}]}])
    flag = ["--kuberc", rc["KUBERC"]]
    mine, theirs = both(kates, kubectl, *flag, "get", "cm", "one", "-n", ns, env={})
    assert mine.code == theirs.code == 0 and mine.out == theirs.out == "configmap/one\n", (mine, theirs)
    # --kuberc wins over $KUBERC
    other = tmp_path / "other"
    other.mkdir()
    env = write_kuberc(other, defaults=[{"command": "get", "options": [{"name": "output", "default": "yaml"}]}])
    mine, theirs = both(kates, kubectl, *flag, "get", "cm", "one", "-n", ns, env=env)
    assert mine.out == theirs.out == "configmap/one\n", (mine, theirs)
    off = {**rc, "KUBECTL_KUBERC": "false"}
    mine, theirs = both(kates, kubectl, "get", "cm", "one", "-n", ns, env=off)
    assert mine.code == theirs.code == 0 and mine.out.startswith("NAME") and theirs.out.startswith("NAME")
    mine, theirs = both(kates, kubectl, *flag, "get", "cm", "one", "-n", ns, env={"KUBECTL_KUBERC": "false"})
    assert mine.code != 0 and theirs.code != 0 and "unknown flag: --kuberc" in theirs.err, theirs
    assert mine.err.startswith("error: unknown flag: --kuberc\n"), mine
    # a kuberc named explicitly that cannot be read is an error; kubectl's words
    mine, theirs = both(kates, kubectl, "--kuberc", str(tmp_path / "nope"), "get", "cm", "one", "-n", ns, env={})
    assert mine.code == 3 and theirs.code == 1, (mine, theirs)
    reason = f"kuberc error kuberc: open {tmp_path / 'nope'}: no such file or directory"
    assert mine.err.startswith(f"error: {reason}\n") and reason in theirs.err, (mine, theirs)


def test_broken_default_kuberc_warns_and_goes_on(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, ns: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "kuberc").write_text("kind: Something\napiVersion: v1\n")
    cms(cluster, ns, "one")
    env = {"HOME": str(home), "KUBERC": ""}
    mine, theirs = both(kates, kubectl, "get", "cm", "one", "-n", ns, "-o", "name", env=env)
    assert mine.code == theirs.code == 0 and mine.out == theirs.out == "configmap/one\n", (mine, theirs)
    warning = f"kuberc: no preferences loaded from {home}/.kube/kuberc: no valid preferences found in "
    assert warning in mine.err and warning in theirs.err, (mine, theirs)


def exec_kubeconfig(cluster: ControlPlane, tmp_path: Path) -> tuple[Path, Path]:
    """A kubeconfig whose user is an exec plugin (python running a script in tmp_path); the marker file the plugin
    touches when it runs."""
    from tests.controlplane.launcher import RESTRICTED_NAMESPACE, RESTRICTED_TOKEN

    marker = tmp_path / "ran"
    plugin = tmp_path / "cred.py"
    plugin.write_text(
        f"import json, pathlib\npathlib.Path({str(marker)!r}).touch()\n"
        "print(json.dumps({'apiVersion': 'client.authentication.k8s.io/v1', 'kind': 'ExecCredential',"
        f" 'status': {{'token': '{RESTRICTED_TOKEN}'}}}}))\n"
    )
    ca = base64.b64encode(cluster.pki.ca_cert.read_bytes()).decode()
    exec_ = {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": sys.executable,
        "args": [str(plugin)],
        "interactiveMode": "Never",
    }
    cfg = tmp_path / "exec.kubeconfig"
    cfg.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "c",
                "clusters": [{"name": "k", "cluster": {"server": cluster.server, "certificate-authority-data": ca}}],
                "users": [{"name": "u", "user": {"exec": exec_}}],
                "contexts": [
                    {"name": "c", "context": {"cluster": "k", "user": "u", "namespace": RESTRICTED_NAMESPACE}}
                ],
            }
        )
    )
    return cfg, marker


def test_credential_plugin_policy_refuses_a_plugin_not_on_the_allowlist(
    cluster: ControlPlane, kates: Runner, kubectl: Runner, tmp_path: Path
) -> None:
    cfg, marker = exec_kubeconfig(cluster, tmp_path)
    args = ("--kubeconfig", str(cfg), "get", "cm", "-o", "name")
    refused = write_kuberc(
        tmp_path, credentialPluginPolicy="Allowlist", credentialPluginAllowlist=[{"command": "/bin/true"}]
    )
    for run in (kates, kubectl):
        result = run(*args, env=refused)
        assert result.code != 0, result
        assert f'plugin path "{sys.executable}" is not permitted by the credential plugin allowlist' in result.err, (
            result
        )
        assert not marker.exists(), "the refused plugin ran"
    mine = kates(*args, env=refused)
    assert mine.code == 3 and mine.err.startswith('error: getting credentials: plugin path "'), mine
    denied = write_kuberc(tmp_path, credentialPluginPolicy="DenyAll")
    for run in (kates, kubectl):
        result = run(*args, env=denied)
        assert result.code != 0 and f'plugin "{sys.executable}" not allowed: policy set to "DenyAll"' in result.err
        assert not marker.exists(), "the denied plugin ran"
    # a shell's completion of names asks the server, through the plugin: the policy holds there too
    complete = {
        "KUBECONFIG": str(cfg),
        "_KATES_COMPLETE": "bash_complete",
        "COMP_WORDS": "kates get cm ",
        "COMP_CWORD": "3",
        "KATES_COMPLETION_TTL": "0",  # no cached names: each completion asks the server
    }
    allow_true = [{"command": "/bin/true"}]
    for policy in ({"credentialPluginPolicy": "DenyAll"}, {"credentialPluginPolicy": "Allowlist"},
                   {"credentialPluginPolicy": "Allowlist", "credentialPluginAllowlist": allow_true}):  # fmt: skip
        result = kates(env={**write_kuberc(tmp_path, **policy), **complete})
        assert result.code == 0, result
        assert not marker.exists(), f"completion ran the plugin under {policy}"
    allowed = write_kuberc(
        tmp_path, credentialPluginPolicy="Allowlist", credentialPluginAllowlist=[{"command": sys.executable}]
    )
    result = kates(env={**allowed, **complete})
    assert result.code == 0 and "kube-root-ca.crt" in result.out and marker.exists(), result  # the control
    marker.unlink()
    # a misconfigured policy: kubectl's words, before anything runs
    bad = write_kuberc(tmp_path, credentialPluginPolicy="Allowlist")
    mine, theirs = kates(*args, env=bad), kubectl(*args, env=bad)
    reason = 'credential plugin policy set to "Allowlist", but allowlist is unspecified'
    assert mine.code == 3 and mine.err.startswith(f"error: {reason}\n") and reason in theirs.err, (mine, theirs)
    for entry in (sys.executable, Path(sys.executable).name):
        allowed = write_kuberc(
            tmp_path, credentialPluginPolicy="Allowlist", credentialPluginAllowlist=[{"command": entry}]
        )
        path = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}
        for run in (kates, kubectl):
            result = run(*args, env={**allowed, **path})
            assert result.code == 0 and "configmap/kube-root-ca.crt" in result.out, (entry, result)
    assert marker.exists()
