"""kates_cli.core.config: kubeconfig discovery, merging, context resolution, in-cluster and exec plugins."""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from kates_cli.core import config
from kates_cli.core.config import ConnectionSettings, load, merged_config, read_token, run_exec_plugin
from kates_cli.errors import ConfigError, ExitCode

CA_PEM = b"-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n"


def kubeconfig(
    clusters: dict[str, dict[str, Any]] | None = None,
    users: dict[str, dict[str, Any]] | None = None,
    contexts: dict[str, dict[str, Any]] | None = None,
    current: str | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": n, "cluster": c} for n, c in (clusters or {}).items()],
        "users": [{"name": n, "user": u} for n, u in (users or {}).items()],
        "contexts": [{"name": n, "context": c} for n, c in (contexts or {}).items()],
        "preferences": {},
    }
    if current is not None:
        doc["current-context"] = current
    return doc


def write(path: Path, doc: dict[str, Any] | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return str(path)


def simple(server: str = "https://one:6443", **ctx: Any) -> dict[str, Any]:
    """One cluster, one token user, one context `one`, which is current."""
    return kubeconfig(
        clusters={"c1": {"server": server}},
        users={"u1": {"token": "tok-1"}},
        contexts={"one": {"cluster": "c1", "user": "u1", **ctx}},
        current="one",
    )


def load_only(path: str, **kwargs: Any) -> ConnectionSettings:
    """Load one explicit file, with an environment that cannot leak the developer's own config or cluster."""
    return load(path, env={}, home="/nonexistent", **kwargs)


# --- merging -------------------------------------------------------------------------------------------------------


@pytest.fixture
def two_files(tmp_path: Path) -> tuple[str, str]:
    first = write(
        tmp_path / "a" / "config",
        kubeconfig(
            clusters={"shared": {"server": "https://first:6443"}},
            users={"shared-user": {"token": "first-token"}},
            contexts={"shared-ctx": {"cluster": "shared", "user": "shared-user", "namespace": "from-first"}},
            current="",
        ),
    )
    second = write(
        tmp_path / "b" / "config",
        kubeconfig(
            clusters={"shared": {"server": "https://second:6443"}, "only-second": {"server": "https://only2:6443"}},
            users={"shared-user": {"token": "second-token"}, "user2": {"token": "token-2"}},
            contexts={
                "shared-ctx": {"cluster": "only-second", "user": "user2", "namespace": "from-second"},
                "ctx2": {"cluster": "only-second", "user": "user2"},
            },
            current="shared-ctx",
        ),
    )
    return first, second


def test_merge_first_file_wins_for_each_duplicated_name(two_files: tuple[str, str]) -> None:
    merged = merged_config(two_files)
    clusters = {e["name"]: e["cluster"] for e in merged["clusters"]}
    users = {e["name"]: e["user"] for e in merged["users"]}
    contexts = {e["name"]: e["context"] for e in merged["contexts"]}
    assert clusters == {"shared": {"server": "https://first:6443"}, "only-second": {"server": "https://only2:6443"}}
    assert users == {"shared-user": {"token": "first-token"}, "user2": {"token": "token-2"}}
    assert contexts["shared-ctx"] == {"cluster": "shared", "user": "shared-user", "namespace": "from-first"}
    assert "preferences" not in merged


def test_merge_takes_current_context_from_first_non_empty(two_files: tuple[str, str]) -> None:
    assert merged_config(two_files)["current-context"] == "shared-ctx"
    s = load(env={"KUBECONFIG": os.pathsep.join(two_files)}, home="/nonexistent")
    assert (s.context, s.server, s.token, s.namespace) == (
        "shared-ctx",
        "https://first:6443",
        "first-token",
        "from-first",
    )
    assert s.kubeconfig_paths == two_files


def test_entries_only_in_second_file_are_usable(two_files: tuple[str, str]) -> None:
    s = load(context="ctx2", env={"KUBECONFIG": os.pathsep.join(two_files)}, home="/nonexistent")
    assert (s.context, s.server, s.token, s.namespace) == ("ctx2", "https://only2:6443", "token-2", "default")


def test_current_context_of_first_file_wins_when_both_set(tmp_path: Path) -> None:
    a = write(tmp_path / "a", {**simple(), "current-context": "one"})
    b = write(tmp_path / "b", {**simple(), "current-context": "other"})
    assert merged_config([a, b])["current-context"] == "one"


def test_duplicate_name_inside_one_file_is_invalid(tmp_path: Path) -> None:
    doc = simple()
    doc["clusters"].append({"name": "c1", "cluster": {"server": "https://dup"}})
    path = write(tmp_path / "config", doc)
    with pytest.raises(ConfigError, match='duplicate cluster name "c1"') as err:
        merged_config([path])
    assert err.value.message.startswith(f"{path}: invalid kubeconfig:")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.sampled_from("abcdef"), unique=True, max_size=4), min_size=1, max_size=4))
def test_merge_property_every_name_comes_from_the_first_file_defining_it(files: list[list[str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = [
            write(Path(tmp) / f"f{i}", kubeconfig(clusters={n: {"server": f"https://{n}-{i}"} for n in names}))
            for i, names in enumerate(files)
        ]
        merged = {e["name"]: e["cluster"]["server"] for e in merged_config(paths)["clusters"]}
    expected: dict[str, str] = {}
    for i, names in enumerate(files):
        for n in names:
            expected.setdefault(n, f"https://{n}-{i}")
    assert merged == expected


# --- where the files come from -------------------------------------------------------------------------------------


def test_kubeconfig_env_skips_missing_and_empty_entries(tmp_path: Path) -> None:
    real = write(tmp_path / "real", simple())
    env = {"KUBECONFIG": os.pathsep.join([str(tmp_path / "missing"), "", real, real])}
    s = load(env=env, home="/nonexistent")
    assert s.kubeconfig_paths == (real,)
    assert s.server == "https://one:6443"


def test_kubeconfig_env_beats_home_and_explicit_beats_env(tmp_path: Path) -> None:
    home_cfg = write(tmp_path / "home" / ".kube" / "config", simple("https://home:1"))
    env_cfg = write(tmp_path / "env", simple("https://env:2"))
    explicit = write(tmp_path / "explicit", simple("https://explicit:3"))
    home = str(tmp_path / "home")
    assert load(env={}, home=home).server == "https://home:1"
    assert load(env={"HOME": home}).kubeconfig_paths == (home_cfg,)
    assert load(env={"KUBECONFIG": env_cfg}, home=home).server == "https://env:2"
    assert load(explicit, env={"KUBECONFIG": env_cfg}, home=home).server == "https://explicit:3"


def test_explicit_missing_kubeconfig_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError) as err:
        load(missing, env={}, home="/nonexistent")
    assert missing in err.value.message
    assert err.value.exit_code == ExitCode.CONFIG


def test_nothing_found_anywhere(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load(env={}, home=str(tmp_path), sa_dir=str(tmp_path / "no-sa"))
    assert err.value.message == "no kubeconfig found"
    assert err.value.hint == "set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config"


# --- contexts and namespaces ---------------------------------------------------------------------------------------


def test_context_argument_selects_another_context(tmp_path: Path) -> None:
    doc = simple()
    doc["clusters"].append({"name": "c2", "cluster": {"server": "https://two:6443/"}})
    doc["contexts"].append({"name": "two", "context": {"cluster": "c2", "namespace": "ns-two"}})
    path = write(tmp_path / "config", doc)
    s = load_only(path, context="two")
    assert (s.context, s.server, s.namespace) == ("two", "https://two:6443", "ns-two")
    assert (s.token, s.token_file, s.exec_config, s.client_cert_data) == (None, None, None, None)  # no user: anonymous
    assert load_only(path).context == "one"


@pytest.mark.parametrize(
    ("arg", "ctx_ns", "expected"),
    [
        ("from-arg", "from-ctx", "from-arg"),
        (None, "from-ctx", "from-ctx"),
        (None, None, "default"),
        ("", None, "default"),
    ],
)
def test_namespace_precedence(tmp_path: Path, arg: str | None, ctx_ns: str | None, expected: str) -> None:
    path = write(tmp_path / "config", simple(**({"namespace": ctx_ns} if ctx_ns else {})))
    assert load_only(path, namespace=arg).namespace == expected


def test_unknown_context_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "config", simple())
    with pytest.raises(ConfigError) as err:
        load_only(path, context="prod")
    assert err.value.message == 'context "prod" does not exist'
    assert err.value.hint == "known contexts: one"


def test_no_context_set(tmp_path: Path) -> None:
    path = write(tmp_path / "config", {**simple(), "current-context": ""})
    with pytest.raises(ConfigError) as err:
        load_only(path)
    assert err.value.message == "no context is set"
    assert err.value.hint is not None and "--context" in err.value.hint


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"cluster": "ghost", "user": "u1"}, 'cluster "ghost" (used by context "one") does not exist'),
        ({"cluster": "c1", "user": "ghost"}, 'user "ghost" (used by context "one") does not exist'),
        ({"user": "u1"}, 'context "one" names no cluster'),
    ],
)
def test_context_pointing_at_missing_entries(tmp_path: Path, context: dict[str, str], message: str) -> None:
    doc = simple()
    doc["contexts"][0]["context"] = context
    with pytest.raises(ConfigError) as err:
        load_only(write(tmp_path / "config", doc))
    assert err.value.message == message


def test_cluster_without_server(tmp_path: Path) -> None:
    doc = simple()
    doc["clusters"][0]["cluster"] = {"insecure-skip-tls-verify": True}
    with pytest.raises(ConfigError, match='cluster "c1" has no server'):
        load_only(write(tmp_path / "config", doc))


def test_cluster_tls_and_proxy_fields(tmp_path: Path) -> None:
    doc = simple()
    doc["clusters"][0]["cluster"] = {
        "server": "https://10.0.0.1:6443/",
        "insecure-skip-tls-verify": True,
        "tls-server-name": "kubernetes.default",
        "proxy-url": "http://proxy:3128",
    }
    s = load_only(write(tmp_path / "config", doc))
    assert (s.server, s.insecure, s.tls_server_name, s.proxy_url) == (
        "https://10.0.0.1:6443",
        True,
        "kubernetes.default",
        "http://proxy:3128",
    )
    assert (s.ca_data, s.in_cluster) == (None, False)


# --- file references and data ---------------------------------------------------------------------------------------


def test_relative_paths_resolve_against_the_file_that_defined_them(tmp_path: Path) -> None:
    (tmp_path / "a" / "certs").mkdir(parents=True)
    (tmp_path / "a" / "certs" / "ca.pem").write_bytes(CA_PEM)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "client.crt").write_bytes(b"CLIENT CERT")
    (tmp_path / "b" / "client.key").write_bytes(b"CLIENT KEY")
    first = write(
        tmp_path / "a" / "config",
        kubeconfig(clusters={"c": {"server": "https://a", "certificate-authority": "certs/ca.pem"}}, current="ctx"),
    )
    second = write(
        tmp_path / "b" / "config",
        kubeconfig(
            users={"u": {"client-certificate": "client.crt", "client-key": "./client.key"}},
            contexts={"ctx": {"cluster": "c", "user": "u"}},
        ),
    )
    merged = merged_config([first, second])
    assert merged["clusters"][0]["cluster"]["certificate-authority"] == str(tmp_path / "a" / "certs" / "ca.pem")
    assert merged["users"][0]["user"]["client-key"] == str(tmp_path / "b" / "client.key")
    s = load(env={"KUBECONFIG": os.pathsep.join([first, second])}, home="/nonexistent")
    assert (s.ca_data, s.client_cert_data, s.client_key_data) == (CA_PEM, b"CLIENT CERT", b"CLIENT KEY")


def test_certificate_authority_data_is_decoded_and_beats_the_file(tmp_path: Path) -> None:
    doc = simple()
    doc["clusters"][0]["cluster"].update(
        {"certificate-authority-data": base64.b64encode(CA_PEM).decode(), "certificate-authority": "missing.pem"}
    )
    doc["users"][0]["user"] = {
        "client-certificate-data": base64.b64encode(b"CERT").decode(),
        "client-key-data": base64.b64encode(b"KEY").decode(),
    }
    s = load_only(write(tmp_path / "config", doc))
    assert (s.ca_data, s.client_cert_data, s.client_key_data) == (CA_PEM, b"CERT", b"KEY")


def test_bad_base64_is_a_config_error(tmp_path: Path) -> None:
    doc = simple()
    doc["clusters"][0]["cluster"]["certificate-authority-data"] = "not base64!!"
    with pytest.raises(ConfigError, match='cluster "c1": certificate-authority-data is not valid base64'):
        load_only(write(tmp_path / "config", doc))


def test_unreadable_file_reference_names_the_path(tmp_path: Path) -> None:
    doc = simple()
    doc["clusters"][0]["cluster"]["certificate-authority"] = "gone.pem"
    with pytest.raises(ConfigError) as err:
        load_only(write(tmp_path / "config", doc))
    assert str(tmp_path / "gone.pem") in err.value.message


def test_the_token_file_wins_over_the_static_token_while_it_can_be_read(tmp_path: Path) -> None:
    """client-go's bearer round tripper: the file's last readable token, the static one standing in."""
    doc = simple()
    doc["users"][0]["user"] = {"token": "static", "tokenFile": "rotating"}
    s = load_only(write(tmp_path / "config", doc))  # the file need not exist: the static token stands in
    assert (s.token, s.token_file, read_token(s)) == ("static", str(tmp_path / "rotating"), "static")
    (tmp_path / "rotating").write_text("from-the-file\n")
    assert read_token(s) == "from-the-file"
    (tmp_path / "rotating").write_text("  \n")  # empty: the static token again
    assert read_token(s) == "static"


def test_read_token_rereads_the_token_file_after_rotation(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("first-token\n")
    doc = simple()
    doc["users"][0]["user"] = {"tokenFile": "token"}
    s = load_only(write(tmp_path / "config", doc))
    assert (s.token, s.token_file) == (None, str(tmp_path / "token"))
    assert read_token(s) == "first-token"
    (tmp_path / "token").write_text("  rotated-token \n")
    assert read_token(s) == "rotated-token"
    (tmp_path / "token").unlink()
    with pytest.raises(ConfigError, match="token file"):
        read_token(s)


def test_missing_token_file_fails_at_load(tmp_path: Path) -> None:
    doc = simple()
    doc["users"][0]["user"] = {"tokenFile": "absent"}
    with pytest.raises(ConfigError) as err:
        load_only(write(tmp_path / "config", doc))
    assert str(tmp_path / "absent") in err.value.message


# --- malformed files -----------------------------------------------------------------------------------------------


def test_malformed_yaml_names_the_file(tmp_path: Path) -> None:
    path = write(tmp_path / "config", "clusters: [\n  - name: a\n    cluster: {server: x\n")
    with pytest.raises(ConfigError) as err:
        load_only(path)
    assert err.value.message.startswith(f"{path}: invalid kubeconfig: ")
    assert "\n" not in err.value.message
    assert "line" in err.value.message


def test_top_level_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path / "config", "- just\n- a list\n")
    with pytest.raises(ConfigError) as err:
        load_only(path)
    assert err.value.message == f"{path}: invalid kubeconfig: the top level is a list, not a mapping"


# --- in-cluster ----------------------------------------------------------------------------------------------------


@pytest.fixture
def sa_dir(tmp_path: Path) -> Path:
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token\n")
    (sa / "ca.crt").write_bytes(CA_PEM)
    (sa / "namespace").write_text("team-a\n")
    return sa


IN_CLUSTER_ENV = {"KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"}


def test_in_cluster_from_service_account_with_ipv6_host(tmp_path: Path, sa_dir: Path) -> None:
    s = load(env=IN_CLUSTER_ENV, home=str(tmp_path), sa_dir=str(sa_dir))
    assert s == ConnectionSettings(
        server="https://[fd00::1]:443",
        context="",
        namespace="team-a",
        ca_data=CA_PEM,
        token_file=str(sa_dir / "token"),
        in_cluster=True,
    )
    assert read_token(s) == "sa-token"
    assert load(namespace="mine", env=IN_CLUSTER_ENV, home=str(tmp_path), sa_dir=str(sa_dir)).namespace == "mine"
    downward = {**IN_CLUSTER_ENV, "POD_NAMESPACE": "from-downward-api"}  # client-go reads it before the file
    assert load(env=downward, home=str(tmp_path), sa_dir=str(sa_dir)).namespace == "from-downward-api"
    assert load(namespace="mine", env=downward, home=str(tmp_path), sa_dir=str(sa_dir)).namespace == "mine"


def test_in_cluster_ipv4_and_default_namespace(tmp_path: Path, sa_dir: Path) -> None:
    (sa_dir / "namespace").unlink()
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    s = load(env=env, home=str(tmp_path), sa_dir=str(sa_dir))
    assert (s.server, s.namespace, s.kubeconfig_paths) == ("https://10.96.0.1:443", "default", ())


def test_kubeconfig_beats_in_cluster_but_an_empty_one_does_not(tmp_path: Path, sa_dir: Path) -> None:
    home = tmp_path / "home"
    write(home / ".kube" / "config", simple())
    assert load(env=IN_CLUSTER_ENV, home=str(home), sa_dir=str(sa_dir)).in_cluster is False
    write(home / ".kube" / "config", "")
    assert load(env=IN_CLUSTER_ENV, home=str(home), sa_dir=str(sa_dir)).in_cluster is True


def test_in_cluster_needs_the_service_env_and_token(tmp_path: Path, sa_dir: Path) -> None:
    with pytest.raises(ConfigError, match="no kubeconfig found"):
        load(env={"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, home=str(tmp_path), sa_dir=str(sa_dir))
    (sa_dir / "token").unlink()
    with pytest.raises(ConfigError, match="no kubeconfig found"):
        load(env=IN_CLUSTER_ENV, home=str(tmp_path), sa_dir=str(sa_dir))


def test_in_cluster_service_account_dir_from_the_environment(tmp_path: Path, sa_dir: Path) -> None:
    env = {**IN_CLUSTER_ENV, "KATES_SERVICEACCOUNT_DIR": str(sa_dir)}
    s = load(env=env, home=str(tmp_path))
    assert (s.in_cluster, s.token_file, s.namespace) == (True, str(sa_dir / "token"), "team-a")
    other = tmp_path / "other"
    other.mkdir()
    (other / "token").write_text("other-token\n")
    assert load(env=env, home=str(tmp_path), sa_dir=str(other)).token_file == str(other / "token")  # argument wins


def test_in_cluster_has_no_named_contexts(tmp_path: Path, sa_dir: Path) -> None:
    with pytest.raises(ConfigError, match='context "prod" does not exist'):
        load(context="prod", env=IN_CLUSTER_ENV, home=str(tmp_path), sa_dir=str(sa_dir))


# --- exec credential plugins ---------------------------------------------------------------------------------------

PLUGIN = """\
import json, os, sys
info = json.loads(os.environ["KUBERNETES_EXEC_INFO"])
status = {
    "token": "exec-token:" + os.environ.get("PLUGIN_GREETING", "") + ":" + sys.stdin.read(),
    "expirationTimestamp": "2030-01-02T03:04:05Z",
}
if "--cert" in sys.argv:
    status = {"clientCertificateData": "CERT PEM", "clientKeyData": "KEY PEM"}
json.dump({"apiVersion": info["apiVersion"], "kind": "ExecCredential", "status": status, "echo": info}, sys.stdout)
"""

FAILING_PLUGIN = "import sys\nsys.stderr.write('login required\\n')\nsys.exit(3)\n"


def exec_stanza(script: Path, *args: str, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "client.authentication.k8s.io/v1",
        "command": sys.executable,
        "args": [str(script), *args],
        "env": [{"name": "PLUGIN_GREETING", "value": "hi"}],
        "interactiveMode": "IfAvailable",
        **extra,
    }


def test_exec_plugin_returns_token_and_expiry(tmp_path: Path) -> None:
    script = tmp_path / "plugin.py"
    script.write_text(PLUGIN)
    cred = run_exec_plugin(exec_stanza(script), cluster_server="https://one:6443")
    assert cred.token == "exec-token:hi:"  # stdin is /dev/null when not interactive
    assert cred.expires_at == datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    assert (cred.client_cert_data, cred.client_key_data) == (None, None)


@pytest.fixture
def stdin_with_data() -> Iterator[None]:
    """Put real bytes on file descriptor 0 for the duration of a test, so stdin inheritance is observable."""
    read_end, write_end = os.pipe()
    os.write(write_end, b"typed-secret")
    os.close(write_end)
    saved = os.dup(0)
    os.dup2(read_end, 0)
    os.close(read_end)
    try:
        yield
    finally:
        os.dup2(saved, 0)
        os.close(saved)


@pytest.mark.usefixtures("stdin_with_data")
@pytest.mark.parametrize(
    ("interactive", "mode", "token"),
    [
        (False, "IfAvailable", "exec-token:hi:"),
        (True, "Never", "exec-token:hi:"),
        (True, "IfAvailable", "exec-token:hi:typed-secret"),
    ],
)
def test_exec_plugin_gets_stdin_only_when_interactive(tmp_path: Path, interactive: bool, mode: str, token: str) -> None:
    script = tmp_path / "plugin.py"
    script.write_text(PLUGIN)
    stanza = exec_stanza(script, interactiveMode=mode)
    assert run_exec_plugin(stanza, cluster_server="https://x", interactive=interactive).token == token


def test_exec_plugin_that_must_be_interactive_fails_without_a_terminal(tmp_path: Path) -> None:
    stanza = exec_stanza(tmp_path / "unused.py", interactiveMode="Always", installHint="run it in a terminal")
    with pytest.raises(ConfigError, match="needs an interactive terminal") as err:
        run_exec_plugin(stanza, cluster_server="https://x")
    assert err.value.hint == "run it in a terminal"


def test_exec_plugin_client_certificate(tmp_path: Path) -> None:
    script = tmp_path / "plugin.py"
    script.write_text(PLUGIN)
    cred = run_exec_plugin(exec_stanza(script, "--cert"), cluster_server="https://one:6443")
    assert (cred.token, cred.client_cert_data, cred.client_key_data, cred.expires_at) == (
        None,
        b"CERT PEM",
        b"KEY PEM",
        None,
    )


def test_exec_info_carries_api_version_interactive_and_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "plugin.py"
    script.write_text(PLUGIN)
    seen: dict[str, Any] = {}
    real_parse = config._parse_exec_output

    def spy(stdout: bytes, api_version: str, fail: Any) -> config.ExecCredential:
        seen.update(json.loads(stdout)["echo"])
        return real_parse(stdout, api_version, fail)

    monkeypatch.setattr(config, "_parse_exec_output", spy)
    run_exec_plugin(exec_stanza(script, provideClusterInfo=True), cluster_server="https://one:6443")
    assert seen == {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "spec": {"interactive": False, "cluster": {"server": "https://one:6443"}},
    }


def test_exec_plugin_failure_uses_install_hint(tmp_path: Path) -> None:
    script = tmp_path / "failing.py"
    script.write_text(FAILING_PLUGIN)
    stanza = exec_stanza(script, installHint="install it with: brew install my-login")
    with pytest.raises(ConfigError) as err:
        run_exec_plugin(stanza, cluster_server="https://one:6443")
    assert err.value.message == f'exec plugin "{sys.executable}" exited with code 3'
    assert err.value.hint == "install it with: brew install my-login"


def test_exec_plugin_missing_command_uses_install_hint(tmp_path: Path) -> None:
    stanza = {"apiVersion": "client.authentication.k8s.io/v1", "command": str(tmp_path / "no-such-plugin")}
    with pytest.raises(ConfigError) as err:
        run_exec_plugin({**stanza, "installHint": "get the plugin"}, cluster_server="https://x")
    assert str(tmp_path / "no-such-plugin") in err.value.message and "not found" in err.value.message
    assert err.value.hint == "get the plugin"


@pytest.mark.parametrize(
    ("stdout", "reason"),
    [
        ("not json", "printed invalid JSON"),
        ('{"kind": "ExecCredential", "status": {}}', "returned no credentials"),
        ('{"kind": "ExecCredential", "status": {"clientCertificateData": "C"}}', "both clientCertificateData"),
        ('{"kind": "Other", "status": {"token": "t"}}', "did not print an ExecCredential"),
    ],
)
def test_exec_plugin_bad_output(tmp_path: Path, stdout: str, reason: str) -> None:
    script = tmp_path / "plugin.py"
    script.write_text(f"print({stdout!r})\n")
    with pytest.raises(ConfigError, match=reason) as err:
        run_exec_plugin(exec_stanza(script), cluster_server="https://x")
    assert err.value.hint is None


def test_exec_command_with_a_relative_path_resolves_against_the_kubeconfig(tmp_path: Path) -> None:
    script = tmp_path / "bin" / "login"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\n{PLUGIN}")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    doc = simple()
    stanza = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "./bin/login", "args": ["--cert"]}
    doc["users"][0]["user"] = {"exec": stanza}
    s = load_only(write(tmp_path / "config", doc))
    assert s.exec_config == {**stanza, "command": str(script)}
    assert (s.token, s.token_file) == (None, None)
    assert run_exec_plugin(s.exec_config, cluster_server=s.server).client_key_data == b"KEY PEM"


def test_exec_command_without_a_separator_is_left_for_path_lookup(tmp_path: Path) -> None:
    doc = simple()
    doc["users"][0]["user"] = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "aws"}}
    s = load_only(write(tmp_path / "config", doc))
    assert s.exec_config is not None and s.exec_config["command"] == "aws"


def test_disable_compression_is_read_from_the_cluster(tmp_path: Path) -> None:
    doc = simple()
    assert load_only(write(tmp_path / "default", doc)).disable_compression is False  # gzip is asked for by default
    doc["clusters"][0]["cluster"]["disable-compression"] = True
    assert load_only(write(tmp_path / "off", doc)).disable_compression is True
    doc["clusters"][0]["cluster"]["disable-compression"] = "yes please"
    with pytest.raises(ConfigError, match="disable-compression must be true or false"):
        load_only(write(tmp_path / "bad", doc))
