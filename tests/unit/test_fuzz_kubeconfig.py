"""Fuzzed kubeconfigs (issue 11, section 3): malformed files of every kind (wrong types, missing fields, bad base64,
bad URLs, huge values, invalid UTF-8, broken YAML) through the loader and the transport's TLS set-up. Every input
either loads or fails with ConfigError (exit 3): no other exception, so no traceback."""

from __future__ import annotations

import atexit
import base64
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kates_cli.core import config
from kates_cli.core.transport import Transport
from kates_cli.errors import ConfigError, ExitCode, KatesError
from tests import figures
from tests.controlplane.certs import LocalPKI

EXAMPLES = 1500
_PKI_DIR = Path(tempfile.mkdtemp(prefix="kates-fuzz-pki-"))
atexit.register(shutil.rmtree, _PKI_DIR, True)  # made at import, for hypothesis strategies: gone at exit
_PKI = LocalPKI(_PKI_DIR)
_CERT, _KEY = _PKI.issue("fuzz", "fuzz")
CA_PEM, CERT_PEM, KEY_PEM = _PKI.ca_cert.read_bytes(), _CERT.read_bytes(), _KEY.read_bytes()
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
MISSING = object()  # a field left out

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.binary(max_size=12),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
    st.just("A" * 100_000),
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def field(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually plausible, often junk, sometimes missing."""
    return st.one_of(valid, junk, st.just(MISSING))


servers = st.one_of(
    st.sampled_from(
        [
            "https://127.0.0.1:6443",
            "https://127.0.0.1:99999",
            "https://h:abc",
            "https://h:-1",
            "https://[::1",
            "https://[::1]:6443",
            "127.0.0.1:6443",
            "ftp://h",
            "https://",
            "http://h:0/prefix/",
            "https://h:6443/" + "p" * 5000,
            "https://user:pw@h:6443",
            "https://h\x00:6443",
            "https://exa mple:6443",
        ]
    ),
    st.text(max_size=40),
)
pem_data = st.sampled_from(
    [b64(CA_PEM), b64(CERT_PEM), b64(KEY_PEM), b64(b"not pem"), b64(b"\xff\xfe"), "%%%", "YQ=", b64(CA_PEM) + "\n"]
)
paths = st.sampled_from(["/nonexistent/file", "/", str(_PKI.ca_cert), str(_CERT), str(_KEY), "relative/file", ""])

cluster = st.fixed_dictionaries(
    {},
    optional={
        "server": field(servers),
        "certificate-authority-data": field(pem_data),
        "certificate-authority": field(paths),
        "insecure-skip-tls-verify": field(st.booleans()),
        "tls-server-name": field(st.text(max_size=20)),
        "proxy-url": field(st.sampled_from(["http://p:3128", "http://p:abc", "socks5://p", "://", "http://[::1"])),
        "disable-compression": field(st.booleans()),
    },
)
exec_stanza = st.fixed_dictionaries(
    {},
    optional={
        "command": field(st.sampled_from(["/nonexistent/kates-fuzz-plugin", "", "relative/plugin"])),
        "apiVersion": field(st.sampled_from(["client.authentication.k8s.io/v1", ""])),
        "args": field(st.lists(junk, max_size=3)),
        "env": field(st.lists(st.one_of(junk, st.fixed_dictionaries({"name": junk, "value": junk})), max_size=3)),
        "interactiveMode": field(st.sampled_from(["Never", "IfAvailable", "Always", "Sometimes"])),
        "provideClusterInfo": field(st.booleans()),
        "installHint": field(st.text(max_size=10)),
    },
)
user = st.fixed_dictionaries(
    {},
    optional={
        "token": field(st.sampled_from(["tok", "", " "])),
        "tokenFile": field(paths),
        "client-certificate-data": field(pem_data),
        "client-key-data": field(pem_data),
        "client-certificate": field(paths),
        "client-key": field(paths),
        "username": field(st.text(max_size=5)),
        "password": field(st.text(max_size=5)),
        "auth-provider": field(st.fixed_dictionaries({"name": junk})),
        "exec": field(exec_stanza),
    },
)
names = st.one_of(st.sampled_from(["a", "b"]), junk)
context = st.fixed_dictionaries(
    {}, optional={"cluster": field(names), "user": field(names), "namespace": field(st.text(max_size=10))}
)


def entries(kind: str, body: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    entry = st.fixed_dictionaries({}, optional={"name": field(names), kind: field(body)})
    return st.one_of(st.lists(st.one_of(entry, junk), max_size=3), junk)


shapeless = st.fixed_dictionaries(
    {},
    optional={
        "apiVersion": field(st.just("v1")),
        "kind": field(st.just("Config")),
        "current-context": field(names),
        "clusters": field(entries("cluster", cluster)),
        "users": field(entries("user", user)),
        "contexts": field(entries("context", context)),
    },
)


# Mostly a valid kubeconfig with a few fields broken, so that the loader's deeper checks (and the TLS set-up, and
# the exec plugin's stanza) are reached, not only its first ones.
def _valid() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "a",
        "clusters": [
            {"name": "a", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority-data": b64(CA_PEM)}}
        ],
        "users": [{"name": "a", "user": {"client-certificate-data": b64(CERT_PEM), "client-key-data": b64(KEY_PEM)}}],
        "contexts": [{"name": "a", "context": {"cluster": "a", "user": "a", "namespace": "n"}}],
    }


CLUSTER_KEYS = {
    "server": servers,
    "certificate-authority-data": pem_data,
    "certificate-authority": paths,
    "insecure-skip-tls-verify": st.booleans(),
    "tls-server-name": st.text(max_size=20),
    "proxy-url": st.sampled_from(["http://p:3128", "http://p:abc", "socks5://p", "://", "http://[::1"]),
    "disable-compression": st.booleans(),
}
USER_KEYS = {
    "token": st.sampled_from(["tok", "", " "]),
    "tokenFile": paths,
    "client-certificate-data": pem_data,
    "client-key-data": pem_data,
    "client-certificate": paths,
    "client-key": paths,
    "username": st.text(max_size=5),
    "password": st.text(max_size=5),
    "auth-provider": st.fixed_dictionaries({"name": junk}),
    "exec": exec_stanza,
}
EXEC_KEYS = {
    "command": st.sampled_from(["/nonexistent/kates-fuzz-plugin", "", "relative/plugin"]),
    "apiVersion": st.sampled_from(["client.authentication.k8s.io/v1", "", "v9"]),
    "args": st.lists(junk, max_size=3),
    "env": st.lists(st.one_of(junk, st.fixed_dictionaries({"name": junk, "value": junk})), max_size=3),
    "interactiveMode": st.sampled_from(["Never", "IfAvailable", "Always", "Sometimes"]),
    "provideClusterInfo": st.booleans(),
}
CONTEXT_KEYS = {"cluster": names, "user": names, "namespace": st.text(max_size=10)}
TOP_KEYS = {"current-context": names, "clusters": junk, "users": junk, "contexts": junk, "preferences": junk}
TARGETS = {"top": TOP_KEYS, "cluster": CLUSTER_KEYS, "user": USER_KEYS, "exec": EXEC_KEYS, "context": CONTEXT_KEYS}


@st.composite
def broken_valid(draw: st.DrawFn) -> dict[str, Any]:
    doc = _valid()
    where = {
        "top": doc,
        "cluster": doc["clusters"][0]["cluster"],
        "user": doc["users"][0]["user"],
        "context": doc["contexts"][0]["context"],
    }
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(sorted(TARGETS)))
        if target == "exec":
            user = where["user"]
            if not isinstance(user.get("exec"), dict):
                user.clear()
                user["exec"] = {"command": "/nonexistent/kates-fuzz-plugin", "apiVersion": EXEC_API}
            body = user["exec"]
        else:
            body = where[target]
        key = draw(st.one_of(st.sampled_from(sorted(TARGETS[target])), st.text(max_size=8)))
        value = draw(field(TARGETS[target].get(key, junk)))
        if value is MISSING:
            body.pop(key, None)
        else:
            body[key] = value
    return doc


EXEC_API = "client.authentication.k8s.io/v1"
documents = st.one_of(broken_valid(), broken_valid(), broken_valid(), shapeless)


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not MISSING}
    if isinstance(value, list):
        return [_strip(v) for v in value if v is not MISSING]
    return value


raw_files = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=200).map(str.encode),
    st.sampled_from(
        [
            b"\xff\xfe\x00",
            b"clusters: [",
            b"- just\n- a list\n",
            b"a: &a [*a, *a]\n",
            b"a: !!python/object:os.system ls\n",
            b"clusters: {cluster: {server: x}}\n",
            b"%YAML 9.9\n---\n",
            b"key: 'unterminated\n",
            b"users:\n- name: u\n  user:\n    token: t: x\n",
        ]
    ),
)

tried = 0


def attempt(data: bytes) -> None:
    """Load one kubeconfig as kates does and set up its TLS; only ConfigError may come out."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "config")
        with open(path, "wb") as fh:
            fh.write(data)
        try:
            s = config.load(path, env={}, home="/nonexistent")
            t = Transport(s)
            if t.scheme == "https":
                t._context()  # the CA, the client certificate and key, and the exec plugin (never a real one)
            t._bearer(None)
        except ConfigError as exc:
            assert exc.exit_code == ExitCode.CONFIG
        except KatesError as exc:
            raise AssertionError(f"a {type(exc).__name__} (exit {exc.exit_code}) from a kubeconfig: {exc}") from exc
        except Exception as exc:
            raise AssertionError(f"internal error {type(exc).__name__}: {exc}") from exc


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.one_of(documents.map(_strip).map(lambda d: yaml.dump(d, Dumper=DUMPER).encode()), raw_files))
def test_a_malformed_kubeconfig_is_a_config_error_never_a_traceback(data: bytes) -> None:
    global tried
    tried += 1
    attempt(data)


def test_zz_record_the_kubeconfig_fuzz_figure() -> None:
    """Runs after the fuzz test above (file order): records how many inputs it tried, none an internal error."""
    assert tried > 0
    figures.record("fuzz", "kubeconfigs", tried=tried, internal_errors=0)
