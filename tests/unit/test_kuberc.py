"""kuberc: the command line rewritten and the plugin policy checked, without a cluster (e2e: against kubectl)."""

from __future__ import annotations

import io
import os
import shutil
import sys
from pathlib import Path

import click
import pytest
import typer

from kates_cli.cli import kuberc
from kates_cli.cli.app import app
from kates_cli.core import pluginpolicy
from kates_cli.errors import ConfigError, UsageError


@pytest.fixture
def root() -> click.Group:
    cmd = typer.main.get_command(app)
    assert isinstance(cmd, click.Group)
    return cmd


@pytest.fixture(autouse=True)
def _clean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for var in ("KUBERC", "KUBECTL_KUBERC"):
        monkeypatch.delenv(var, raising=False)
    yield
    pluginpolicy.set_policy(pluginpolicy.Policy())


def rc(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kuberc"
    path.write_text(text)
    monkeypatch.setenv("KUBERC", str(path))


BETA = "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n"
ALPHA = "apiVersion: kubectl.config.k8s.io/v1alpha1\nkind: Preference\n"


def test_v1alpha1_overrides_and_flags(root: click.Group, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rc(
        tmp_path,
        ALPHA + "overrides:\n- command: get\n  flags:\n  - name: output\n    default: name\n"
        "aliases:\n- name: gn\n  command: get\n  prependArgs: [ns]\n  flags:\n  - name: output\n    default: json\n",
        monkeypatch,
    )
    assert kuberc.apply(["get", "cm"], root) == ["get", "--output=name", "cm"]
    assert kuberc.apply(["gn", "x", "-oyaml"], root) == ["get", "ns", "x", "-oyaml"]
    assert kuberc.apply(["gn", "x"], root) == ["get", "--output=json", "ns", "x"]


def test_shorthand_groups_and_long_forms_count_as_given(
    root: click.Group, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc(
        tmp_path,
        BETA + "defaults:\n- command: get\n  options:\n  - name: all-namespaces\n    default: 'true'\n",
        monkeypatch,
    )
    assert kuberc.apply(["get", "cm"], root) == ["get", "--all-namespaces=true", "cm"]
    for given in (["-A=false"], ["-wA"], ["--all-namespaces=false"], ["--all-namespaces"]):
        assert kuberc.apply(["get", "cm", *given], root) == ["get", "cm", *given]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("aliases:\n- name: get-cm\n  command: get\n", "invalid alias name, can only include alphabetical characters"),
        ("aliases:\n- {name: a, command: get}\n- {name: a, command: get}\n", "duplicate alias name a"),
        (
            "defaults:\n- command: get\n  options:\n  - {name: -o, default: x}\n",
            "flag name -o should be in long form without dashes",
        ),
        ("credentialPluginPolicy: Nope\n", 'unknown plugin policy: "Nope"'),
        (
            "credentialPluginPolicy: Allowlist\ncredentialPluginAllowlist: []\n",
            'credential plugin policy set to "Allowlist", but allowlist is empty; use "DenyAll" policy instead',
        ),
        (
            "credentialPluginPolicy: DenyAll\ncredentialPluginAllowlist: [{command: x}]\n",
            'misconfigured credential plugin allowlist: plugin policy is "DenyAll" but allowlist is non-nil',
        ),
        (
            "credentialPluginPolicy: Allowlist\ncredentialPluginAllowlist: [{}]\n",
            "misconfigured credential plugin allowlist: empty allowlist entry #1",
        ),
        (
            "aliases:\n- {name: x, command: get}\ndefaults:\n- {command: x, options: []}\n",
            "alias x can not be overridden",
        ),
        ("aliases:\n- {name: x, command: nosuch}\n", 'command "nosuch" not found to set alias "x": [nosuch]'),
        (
            "aliases:\n- name: x\n  command: get\n  options: [{name: nosuch, default: a}]\n",
            "invalid alias flag nosuch in alias kates",
        ),
    ],
)
def test_refusals_in_kubectls_words(
    root: click.Group, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str
) -> None:
    rc(tmp_path, BETA + body, monkeypatch)
    with pytest.raises(ConfigError) as exc:
        kuberc.apply(["x", "y"], root)
    assert exc.value.message == message


def test_default_file_problems_warn_explicit_ones_fail(
    root: click.Group, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path(os.environ["HOME"]) / ".kube"
    home.mkdir(parents=True)
    (home / "kuberc").write_text("{{{ not yaml")
    err = io.StringIO()
    assert kuberc.apply(["get", "cm"], root, err=err) == ["get", "cm"]
    assert err.getvalue().startswith(f"kuberc: no preferences loaded from {home / 'kuberc'}: no valid preferences")
    with pytest.raises(ConfigError, match="no valid preferences found in"):
        kuberc.apply(["--kuberc", str(home / "kuberc"), "get", "cm"], root)
    (home / "kuberc").write_text("apiVersion: [kubectl.config.k8s.io/v1beta1]\nkind: Preference\n")  # unhashable
    err = io.StringIO()
    assert kuberc.apply(["get", "cm"], root, err=err) == ["get", "cm"]
    assert "no valid preferences" in err.getvalue()
    (home / "kuberc").write_text(BETA + "bogus: 1\n")
    err = io.StringIO()
    assert kuberc.apply(["get", "cm"], root, err=err) == ["get", "cm"]
    assert 'strict decoding error: unknown field "bogus"' in err.getvalue()
    monkeypatch.setenv("KUBECTL_KUBERC", "false")
    (home / "kuberc").write_text("{{{ not yaml")
    assert kuberc.apply(["get", "cm"], root, err=err) == ["get", "cm"]
    with pytest.raises(UsageError, match="unknown flag: --kuberc"):
        kuberc.apply(["get", "--kuberc=x"], root)


def test_a_kubectl_only_command_is_skipped_an_unknown_one_warned(
    root: click.Group, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rc(
        tmp_path,
        BETA + "defaults:\n- command: apply\n  options: [{name: server-side, default: 'true'}]\n"
        "- command: frobnicate\n  options: []\n",
        monkeypatch,
    )
    err = io.StringIO()
    assert kuberc.apply(["get", "cm"], root, err=err) == ["get", "cm"]
    assert err.getvalue() == 'Warning: command "frobnicate" not found to set kuberc override\n'


def test_policy_checks(tmp_path: Path) -> None:
    allow = pluginpolicy.Policy("Allowlist", (sys.executable,))
    pluginpolicy.check(sys.executable, allow)
    pluginpolicy.check(sys.executable, pluginpolicy.Policy())
    with pytest.raises(ConfigError, match='plugin path "/bin/sh" is not permitted by the credential plugin allowlist'):
        pluginpolicy.check("/bin/sh", allow)
    with pytest.raises(ConfigError, match="cannot be resolved for credential plugin allowlist check"):
        pluginpolicy.check("no-such-plugin-here", allow)
    with pytest.raises(ConfigError, match='plugin "/bin/sh" not allowed: policy set to "DenyAll"'):
        pluginpolicy.check("/bin/sh", pluginpolicy.Policy("DenyAll"))
    sh = shutil.which("sh")
    assert sh is not None
    pluginpolicy.check(sh, pluginpolicy.Policy("Allowlist", ("sh",)))  # the entry, found on PATH, is the same path


@pytest.mark.parametrize(
    ("body", "policy"),
    [
        ("credentialPluginPolicy: DenyAll\n", "DenyAll"),
        ("credentialPluginPolicy: Allowlist\ncredentialPluginAllowlist: [{command: /bin/true}]\n", "Allowlist"),
        ("credentialPluginPolicy: Allowlist\n", "DenyAll"),  # a policy kubectl refuses: no plugin runs
        ("", ""),
    ],
)
def test_a_completion_request_takes_the_plugin_policy_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, policy: str
) -> None:
    """A shell's completion runs no command, but lists names, and may run the user's exec plugin to do so: the
    kuberc's plugin policy holds there too (it used to be skipped: AllowAll)."""
    from kates_cli.core import pluginpolicy

    rc(tmp_path, BETA + body, monkeypatch)
    monkeypatch.setattr(pluginpolicy, "_POLICY", pluginpolicy.Policy())
    monkeypatch.setattr(pluginpolicy, "_LOADER", None)
    pluginpolicy.set_loader(kuberc.plugin_policy)  # as cli/app.py's completion branch sets it
    assert pluginpolicy.current().type == policy
