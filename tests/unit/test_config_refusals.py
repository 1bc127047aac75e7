"""Credentials and TLS settings kates used to drop or misread quietly: each is a clear CONFIG error naming the
entry (kubectl's words where kubectl has them), never an anonymous request or a traceback (issue 11, 1b)."""

from __future__ import annotations

import base64
import json
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest
import yaml

from kates_cli.core import config
from kates_cli.core.config import ConnectionSettings, load, run_exec_plugin
from kates_cli.core.transport import Transport
from kates_cli.errors import ConfigError, ExitCode

CERT = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n").decode()
KEY = base64.b64encode(b"-----BEGIN EC PRIVATE KEY-----\nx\n-----END EC PRIVATE KEY-----\n").decode()
BASIC = "username/password (basic authentication) is not supported"


def load_with(tmp_path: Path, user: dict[str, Any], cluster: dict[str, Any] | None = None) -> ConnectionSettings:
    doc = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "c",
        "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:6443", **(cluster or {})}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(doc))
    return load(str(path), env={}, home="/nonexistent")


def refused(tmp_path: Path, user: dict[str, Any], cluster: dict[str, Any] | None = None) -> str:
    with pytest.raises(ConfigError) as err:
        load_with(tmp_path, user, cluster)
    assert err.value.exit_code == ExitCode.CONFIG
    return err.value.message


@pytest.mark.parametrize(
    ("user", "message"),
    [
        (
            {"client-certificate-data": CERT},
            'client-key-data or client-key must be specified for user "u" to use the clientCert authentication method',
        ),
        (
            {"client-key-data": KEY},
            'client-certificate-data or client-certificate must be specified for user "u" to use the clientCert '
            "authentication method",
        ),
        ({"auth-provider": {"name": "oidc", "config": {}}}, 'user "u": the auth-provider "oidc" is not supported'),
        ({"username": "admin", "password": "pw"}, f'user "u": {BASIC}'),
        ({"username": "admin"}, f'user "u": {BASIC}'),
        ({"token": ""}, 'user "u": token is empty'),
        ({"token": "t", "as": "bot"}, 'user "u": impersonation (as) is not supported'),
        (
            {"token": "t", "as-uid": "1", "as-groups": ["g"], "as-user-extra": {"k": ["v"]}},
            'user "u": impersonation (as-uid, as-groups, as-user-extra) is not supported',
        ),
    ],
)
def test_dropped_credentials_are_config_errors(tmp_path: Path, user: dict[str, Any], message: str) -> None:
    assert refused(tmp_path, user) == message


def test_a_client_certificate_file_without_its_key_is_refused(tmp_path: Path) -> None:
    (tmp_path / "client.crt").write_text("cert")
    assert "client-key-data or client-key must be specified" in refused(
        tmp_path, {"client-certificate": str(tmp_path / "client.crt")}
    )


def test_an_empty_token_file_is_refused_when_read(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")
    settings = load_with(tmp_path, {"tokenFile": str(tmp_path / "token")})
    with pytest.raises(ConfigError, match="read empty token from file"):
        Transport(settings)._bearer(None)


def test_an_anonymous_user_is_still_allowed(tmp_path: Path) -> None:
    settings = load_with(tmp_path, {})
    assert settings.token is None and settings.client_cert_data is None


def test_insecure_with_a_ca_is_refused_as_kubectl_refuses_it(tmp_path: Path) -> None:
    message = refused(tmp_path, {"token": "t"}, {"insecure-skip-tls-verify": True, "certificate-authority-data": CERT})
    assert message == 'cluster "k": specifying a root certificates file with the insecure flag is not allowed'


@pytest.mark.parametrize(
    ("server", "reason"),
    [
        ("https://127.0.0.1:99999", "port out of range 0-65535"),
        ("https://h:abc", "port could not be cast to integer value as 'abc'"),
        ("https://[::1", "invalid IPv6 URL"),
        ("ftp://h:6443", "it needs https:// (or http://) and a host"),
        ("https://h:0", "port 0"),
    ],
)
def test_a_bad_server_url_is_a_config_error(tmp_path: Path, server: str, reason: str) -> None:
    message = refused(tmp_path, {"token": "t"}, {"server": server})
    assert message == f'cluster "k": invalid server URL "{server}": {reason}'


def test_a_bad_proxy_url_is_a_config_error(tmp_path: Path) -> None:
    assert 'invalid proxy-url "http://p:abc"' in refused(tmp_path, {"token": "t"}, {"proxy-url": "http://p:abc"})


@pytest.mark.parametrize(
    "ca", [b"not a certificate", b"\xff\xfe binary", b"-----BEGIN CERTIFICATE-----\nbm90\n-----END CERTIFICATE-----\n"]
)
def test_ca_data_that_is_not_pem_is_a_config_error(tmp_path: Path, ca: bytes) -> None:
    settings = load_with(tmp_path, {"token": "t"}, {"certificate-authority-data": base64.b64encode(ca).decode()})
    with pytest.raises(ConfigError, match="unable to load root certificates: unable to parse bytes as PEM block"):
        Transport(settings).request("GET", "/version")


def test_ca_data_that_is_not_base64_is_a_config_error(tmp_path: Path) -> None:
    assert "certificate-authority-data is not valid base64" in refused(
        tmp_path, {"token": "t"}, {"certificate-authority-data": "%%%not base64"}
    )


def test_a_kubeconfig_syntax_error_never_quotes_the_line_even_in_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config, "_LOADER", yaml.SafeLoader)  # the pure-Python loader quotes the line in its errors
    path = tmp_path / "config"
    path.write_text("users:\n- name: u\n  user:\n    token: secret-token-123: x\n")
    with pytest.raises(ConfigError) as err:
        load(str(path), env={}, home="/nonexistent")
    shown = "".join(traceback.format_exception(err.value))  # what --debug prints
    assert "mapping values are not allowed here (line 4, column 28)" in err.value.message
    assert "secret-token-123" not in shown


def test_an_exec_plugins_bad_expiry_is_not_echoed(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin.py"
    status = {"token": "t", "expirationTimestamp": "tok-en-secret"}
    doc = {"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": status}
    plugin.write_text(f"print({json.dumps(json.dumps(doc))})")
    stanza = {"apiVersion": "client.authentication.k8s.io/v1", "command": sys.executable, "args": [str(plugin)]}
    with pytest.raises(ConfigError) as err:
        run_exec_plugin(stanza, cluster_server="https://h")
    assert "tok-en-secret" not in "".join(traceback.format_exception(err.value))
    assert "returned an expirationTimestamp that is not an RFC 3339 time" in err.value.message


@pytest.mark.parametrize(
    ("stanza", "message"),
    [
        ({"args": True}, 'user "u": exec args must be a list of strings'),
        ({"args": ["a", 1]}, 'user "u": exec args must be a list of strings'),
        ({"env": True}, 'user "u": exec env must be a list of {name, value} strings'),
        ({"env": [{"name": "A", "value": 1}]}, 'user "u": exec env must be a list of {name, value} strings'),
        ({"interactiveMode": "Sometimes"}, 'user "u": exec has an invalid interactiveMode "Sometimes"'),
        ({"apiVersion": 1}, 'user "u": exec apiVersion must be a string'),
    ],
)
def test_an_exec_stanza_of_the_wrong_shape_is_refused_at_load(
    tmp_path: Path, stanza: dict[str, Any], message: str
) -> None:
    base = {"command": "/nonexistent/plugin", "apiVersion": "client.authentication.k8s.io/v1"}
    assert refused(tmp_path, {"exec": {**base, **stanza}}) == message


EXEC = {"apiVersion": "client.authentication.k8s.io/v1", "command": "/nonexistent/plugin", "interactiveMode": "Never"}


@pytest.mark.parametrize(
    "user",
    [{"token": "static"}, {"tokenFile": "token"}, {"client-certificate-data": CERT, "client-key-data": KEY}],
    ids=["token", "token file", "client certificate"],
)
def test_an_exec_plugin_steps_aside_for_a_token_or_a_certificate(tmp_path: Path, user: dict[str, Any]) -> None:
    """client-go's exec authenticator: "kubectl get --token (token) pods" means the token; the plugin never runs."""
    (tmp_path / "token").write_text("from-file\n")
    if "tokenFile" in user:
        user = {"tokenFile": str(tmp_path / "token")}
    settings = load_with(tmp_path, {**user, "exec": dict(EXEC)})
    assert settings.exec_config is None
    assert Transport(settings)._bearer(None) == {"token": "static", "tokenFile": "from-file"}.get(next(iter(user)))


@pytest.mark.parametrize(
    ("exec_", "reason"),
    [
        ({**EXEC, 1: "x"}, "exec has a field name that is not a string"),
        ({**EXEC, True: "x"}, "exec has a field name that is not a string"),  # YAML's `on:`
        ({**EXEC, "env": [{"name": "AWS_PROFILE=prod", "value": ""}]}, "an env name with '='"),
        ({**EXEC, "args": ["a\0b"]}, "a NUL character"),
        ({**EXEC, "env": [{"name": "A", "value": "b\0"}]}, "a NUL character"),
    ],
)
def test_an_exec_stanza_no_process_can_be_given_is_refused_at_load(
    tmp_path: Path, exec_: dict[Any, Any], reason: str
) -> None:
    """subprocess refused these with a ValueError, and sorting the stanza's keys raised a TypeError: both reached
    the user as internal errors."""
    assert reason in refused(tmp_path, {"exec": exec_})
