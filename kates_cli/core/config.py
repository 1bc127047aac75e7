"""Kubernetes connection settings, loaded the way kubectl (client-go clientcmd) loads them.

Invariants:
- Pure: reads files and parses YAML (the plain block YAML kubectl writes without importing PyYAML:
  core/simpleyaml.py; anything else with PyYAML's safe loader), never touches the network. Only `run_exec_plugin`
  starts a process, and only a plugin the process's credential plugin policy allows (core/pluginpolicy.py, a
  kuberc's; it refuses before).
- Source order: explicit `kubeconfig` (exactly one file, must exist) > `KUBECONFIG` (os.pathsep list; empty
  entries and missing files skipped; when it names any path, ~/.kube/config is not consulted, as in client-go)
  > ~/.kube/config > in-cluster service account (KUBERNETES_SERVICE_HOST/PORT set and a token in the service
  account directory: DEFAULT_SA_DIR, or $KATES_SERVICEACCOUNT_DIR when set). Files that exist but define nothing
  also fall back to in-cluster when it is possible (client-go does the same).
- First file wins on merge: a cluster/user/context name is taken whole from the first file defining it (no
  field-level merge); current-context comes from the first file setting a non-empty one; preferences and
  extensions are ignored. A name repeated inside one file is an error.
- Relative paths inside an entry (certificate-authority, client-certificate, client-key, tokenFile, and an
  exec.command containing a path separator) are resolved against the directory of the file that named them.
- Settings are fully resolved at load: file references are read into bytes, base64 data is decoded, the server
  has no trailing slash. `*-data` wins over the matching file reference (client-go: "data will override"). Only the
  token file is read later, on each use (`read_token`), because tokens rotate; with both, `tokenFile`'s token is
  used while the file can be read, `token` otherwise (client-go's bearer round tripper). An exec plugin stanza is
  dropped when the user also has a token, a token file or a client certificate: client-go's exec authenticator
  steps aside for those, and the plugin never runs.
- Every problem raises `ConfigError` naming the offending file, context, cluster, user or command; no other
  exception leaves `load` (fuzzed: tests/unit/test_fuzz_kubeconfig.py).
- Credentials are used as written or refused, never dropped into anonymous requests: a client certificate without
  its key (or the reverse), an auth-provider, username/password, impersonation (as, as-uid, as-groups,
  as-user-extra: requests would go as the base identity) and an empty token or token file are errors, as is
  insecure-skip-tls-verify together with a CA (kubectl's message). The server URL, proxy URL and exec stanza are
  checked for the shape client-go decodes.
- No error or chained exception quotes a kubeconfig's lines or an exec plugin's output: either may hold a secret.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from kates_cli.core import simpleyaml
from kates_cli.errors import ConfigError

from .records import record

TYPE_CHECKING = False  # not typing's: importing typing costs milliseconds of every start (bench B0)
if TYPE_CHECKING:
    from typing import Any

_LOADER: Any = None  # PyYAML's loader class for what core/simpleyaml.py does not read (None: libyaml's, if built)

DEFAULT_SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Where the in-cluster service account is read from instead of DEFAULT_SA_DIR: an override for tests and for pods
# that mount the token elsewhere (client-go has no such knob; kubectl cannot be pointed elsewhere at all).
SA_DIR_ENV = "KATES_SERVICEACCOUNT_DIR"
EXEC_TIMEOUT = 60.0
NO_CONFIG_HINT = "set KUBECONFIG, pass --kubeconfig, or create ~/.kube/config"
_SECTIONS = (("clusters", "cluster"), ("users", "user"), ("contexts", "context"))
_PATH_KEYS = {"cluster": ("certificate-authority",), "user": ("client-certificate", "client-key", "tokenFile")}


@record(frozen=True)
class ConnectionSettings:
    """Everything needed to reach one API server; optional fields default to "not set"."""

    server: str  # e.g. "https://127.0.0.1:6443", no trailing slash
    context: str  # context name used; "" for in-cluster
    namespace: str  # --namespace > context namespace > "default" (in-cluster: SA namespace file)
    ca_data: bytes | None = None  # PEM
    insecure: bool = False
    tls_server_name: str | None = None
    client_cert_data: bytes | None = None  # PEM
    client_key_data: bytes | None = None  # PEM
    token: str | None = None  # static bearer token
    token_file: str | None = None  # re-read on each use (tokens rotate)
    exec_config: dict[str, Any] | None = None  # the user's exec stanza, command path resolved
    proxy_url: str | None = None
    disable_compression: bool = False  # the cluster's disable-compression: do not ask for gzip responses
    kubeconfig_paths: tuple[str, ...] = ()  # absolute paths of the files loaded; () in-cluster
    in_cluster: bool = False


@record(frozen=True)
class ExecCredential:
    """What an exec plugin answered: a token or a client certificate, and when it expires."""

    token: str | None
    client_cert_data: bytes | None
    client_key_data: bytes | None
    expires_at: float | None  # epoch seconds


def load(
    kubeconfig: str | None = None,
    context: str | None = None,
    namespace: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    home: str | None = None,
    sa_dir: str | None = None,
) -> ConnectionSettings:
    """Resolve the connection settings from kubeconfig files or, failing those, the in-cluster service account
    (`sa_dir`, else `$KATES_SERVICEACCOUNT_DIR`, else DEFAULT_SA_DIR)."""
    env = os.environ if env is None else env
    sa_dir = sa_dir or env.get(SA_DIR_ENV) or DEFAULT_SA_DIR
    paths = _config_paths(kubeconfig, env, home)
    cfg = merged_config(paths)
    service = bool(env.get("KUBERNETES_SERVICE_HOST") and env.get("KUBERNETES_SERVICE_PORT"))
    if not any(cfg[section] for section, _ in _SECTIONS) and not cfg["current-context"]:
        if service and os.path.isfile(os.path.join(sa_dir, "token")):
            return _in_cluster(context, namespace, env, sa_dir)
        if not paths:
            raise ConfigError("no kubeconfig found", hint=NO_CONFIG_HINT)
    return _from_kubeconfig(cfg, tuple(paths), context, namespace)


def merged_config(paths: Sequence[str]) -> dict[str, Any]:
    """Merge kubeconfig files client-go style; returns a kubeconfig-shaped dict with relative paths resolved."""
    merged: dict[str, dict[str, dict[str, Any]]] = {section: {} for section, _ in _SECTIONS}
    current = ""
    for given in paths:
        path = os.path.abspath(given)
        doc = _parse_file(path)
        for section, kind in _SECTIONS:
            items = doc.get(section) or []
            if not isinstance(items, list):
                raise _invalid(path, f"{section} must be a list")
            seen: set[str] = set()
            for item in items:
                name = item.get("name") if isinstance(item, dict) else None
                if not isinstance(name, str) or not name:
                    raise _invalid(path, f"every entry in {section} needs a name")
                if name in seen:
                    raise _invalid(path, f'duplicate {kind} name "{name}"')
                seen.add(name)
                body = item.get(kind) or {}
                if not isinstance(body, dict):
                    raise _invalid(path, f'{kind} "{name}" must be a mapping')
                if name not in merged[section]:
                    merged[section][name] = _resolve_entry(kind, body, os.path.dirname(path))
        named = doc.get("current-context")
        if named is not None and not isinstance(named, str):
            raise _invalid(path, "current-context must be a string")
        current = current or named or ""
    out: dict[str, Any] = {"apiVersion": "v1", "kind": "Config", "current-context": current}
    for section, kind in _SECTIONS:
        out[section] = [{"name": name, kind: body} for name, body in merged[section].items()]
    return out


def context_names(kubeconfig: str | None = None, *, env: Mapping[str, str] | None = None) -> list[str]:
    """The names of the contexts in the kubeconfig files `load` would read, sorted (for completing --context).
    Reads only the context lists, so an entry naming a missing certificate does not hide the others."""
    names: set[str] = set()
    for path in _config_paths(kubeconfig, os.environ if env is None else env, None):
        items = _parse_file(path).get("contexts")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"]:
                names.add(item["name"])
    return sorted(names)


def read_token(settings: ConnectionSettings) -> str | None:
    """The token file's current stripped content, else the static token (None when there is neither): with both,
    the static token stands in while the file cannot be read or is empty (client-go's bearer round tripper)."""
    if not settings.token_file:
        return settings.token
    try:
        token = _read_bytes(settings.token_file, "token file").decode("utf-8", errors="replace").strip()
        if not token:  # client-go's cachingTokenSource refuses it too
            raise ConfigError(f'read empty token from file "{settings.token_file}"')
    except ConfigError:
        if settings.token:
            return settings.token
        raise
    return token


def run_exec_plugin(exec_config: dict[str, Any], *, cluster_server: str, interactive: bool = False) -> ExecCredential:
    """Run a client-go credential plugin and parse the ExecCredential it prints."""
    command = exec_config.get("command")
    install_hint = exec_config.get("installHint")
    hint = install_hint.strip() if isinstance(install_hint, str) and install_hint.strip() else None

    def fail(reason: str) -> ConfigError:
        return ConfigError(f'exec plugin "{command}" {reason}', hint=hint)

    if not isinstance(command, str) or not command:
        raise ConfigError("exec plugin has no command", hint=hint)
    check_exec(exec_config, f'exec plugin "{command}"')
    from kates_cli.core import pluginpolicy  # a kubeconfig without an exec plugin never needs it

    pluginpolicy.check(command)  # the kuberc's credentialPluginPolicy: a refused plugin never runs
    args = [str(arg) for arg in exec_config.get("args") or []]
    api_version = exec_config.get("apiVersion")
    if not isinstance(api_version, str) or not api_version:
        raise fail("has no apiVersion")
    mode = exec_config.get("interactiveMode") or "IfAvailable"
    if mode == "Never":
        interactive = False
    elif mode == "Always" and not interactive:
        raise fail("needs an interactive terminal (interactiveMode: Always)")
    child_env = dict(os.environ)
    for item in exec_config.get("env") or []:
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str) or not name:
            raise fail("has an env entry without a name")
        child_env[name] = str(item.get("value") or "")
    spec: dict[str, Any] = {"interactive": interactive}
    if exec_config.get("provideClusterInfo"):
        spec["cluster"] = {"server": cluster_server}
    child_env["KUBERNETES_EXEC_INFO"] = json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "spec": spec})
    import subprocess  # lazily: start-up (only an exec credential plugin runs one)

    stdin = None if interactive else subprocess.DEVNULL  # stderr is inherited: plugins prompt and explain there
    try:
        proc = subprocess.run(  # an interactive plugin may wait for the user (a browser login): no time limit
            [command, *args],
            env=child_env,
            stdin=stdin,
            stdout=subprocess.PIPE,
            timeout=None if interactive else EXEC_TIMEOUT,
        )
    except FileNotFoundError as e:
        raise fail("was not found (is it installed and on PATH?)") from e
    except subprocess.TimeoutExpired as e:
        raise fail(f"timed out after {EXEC_TIMEOUT:g}s") from e
    except (OSError, ValueError) as e:  # ValueError: what no process can be given (check_exec refuses it first)
        raise fail(f"could not be run: {getattr(e, 'strerror', None) or e}") from e
    if proc.returncode != 0:
        raise fail(f"exited with code {proc.returncode}")
    return _parse_exec_output(proc.stdout, api_version, fail)


def _parse_exec_output(stdout: bytes, api_version: str, fail: Callable[[str], ConfigError]) -> ExecCredential:
    try:
        doc = json.loads(stdout)
    except ValueError as e:
        raise fail(f"printed invalid JSON: {e}") from e
    if not isinstance(doc, dict) or doc.get("kind") != "ExecCredential":
        raise fail("did not print an ExecCredential")
    if doc.get("apiVersion") and doc["apiVersion"] != api_version:
        raise fail(f"returned apiVersion {doc['apiVersion']}, expected {api_version}")
    status = doc.get("status")
    if not isinstance(status, dict):
        raise fail("printed an ExecCredential without status")
    token, cert, key, expiry = (
        status.get(k) for k in ("token", "clientCertificateData", "clientKeyData", "expirationTimestamp")
    )
    if not all(v is None or isinstance(v, str) for v in (token, cert, key, expiry)):
        raise fail("printed an ExecCredential with non-string status fields")
    if bool(cert) != bool(key):
        raise fail("must return both clientCertificateData and clientKeyData, or neither")
    if not token and not cert:
        raise fail("returned no credentials")
    expires_at = None
    if expiry:
        try:
            when = datetime.fromisoformat(expiry)
        except ValueError:
            # the value is not echoed: it is the plugin's output, which may carry the credential
            raise fail("returned an expirationTimestamp that is not an RFC 3339 time") from None
        expires_at = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
    return ExecCredential(token or None, cert.encode() if cert else None, key.encode() if key else None, expires_at)


def _config_paths(kubeconfig: str | None, env: Mapping[str, str], home: str | None) -> list[str]:
    if kubeconfig:
        if not os.path.exists(kubeconfig):
            raise ConfigError(f"kubeconfig {kubeconfig} does not exist", hint="check the --kubeconfig path")
        return [os.path.abspath(kubeconfig)]
    listed = [p for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    if not listed:
        home = home or env.get("HOME")
        listed = [os.path.join(home, ".kube", "config")] if home else []
    found: list[str] = []
    for p in map(os.path.abspath, listed):
        if p not in found and os.path.exists(p):
            found.append(p)
    return found


def _from_kubeconfig(
    cfg: dict[str, Any], paths: tuple[str, ...], context: str | None, namespace: str | None
) -> ConnectionSettings:
    clusters, users, contexts = ({e["name"]: e[kind] for e in cfg[section]} for section, kind in _SECTIONS)
    name = context or cfg["current-context"]
    if not name:
        raise ConfigError("no context is set", hint="pass --context NAME or set current-context in the kubeconfig")
    if name not in contexts:
        known = ", ".join(sorted(contexts)) or "none"
        raise ConfigError(f'context "{name}" does not exist', hint=f"known contexts: {known}")
    ctx = contexts[name]
    where = f'context "{name}"'
    cluster_name, user_name = _str(ctx, "cluster", where), _str(ctx, "user", where)
    if not cluster_name:
        raise ConfigError(f'context "{name}" names no cluster')
    if cluster_name not in clusters:
        raise ConfigError(f'cluster "{cluster_name}" (used by context "{name}") does not exist')
    if user_name and user_name not in users:
        raise ConfigError(f'user "{user_name}" (used by context "{name}") does not exist')
    cluster, user = clusters[cluster_name], users.get(user_name, {})
    cwhere, uwhere = f'cluster "{cluster_name}"', f'user "{user_name}"'
    server = _str(cluster, "server", cwhere).rstrip("/")
    if not server:
        raise ConfigError(f"{cwhere} has no server", hint="set clusters[].cluster.server in the kubeconfig")
    insecure = cluster.get("insecure-skip-tls-verify") or False
    if not isinstance(insecure, bool):
        raise ConfigError(f"{cwhere}: insecure-skip-tls-verify must be true or false")
    disable_compression = cluster.get("disable-compression") or False
    if not isinstance(disable_compression, bool):
        raise ConfigError(f"{cwhere}: disable-compression must be true or false")
    token, token_file = _str(user, "token", uwhere) or None, _str(user, "tokenFile", uwhere) or None
    if token_file and not token:  # with both, the file's token is used while it can be read, else the token
        _read_bytes(token_file, f"tokenFile of {uwhere}")  # (client-go's bearer round tripper)
    exec_config = user.get("exec")  # already a private copy, made by merged_config
    if exec_config is not None:
        check_exec(exec_config, uwhere)
    ca_data = _data_or_file(cluster, "certificate-authority", cwhere)
    if insecure and ca_data:
        raise ConfigError(
            f"{cwhere}: specifying a root certificates file with the insecure flag is not allowed",
            hint="remove certificate-authority(-data) or insecure-skip-tls-verify from the cluster",
        )
    cert, key = _data_or_file(user, "client-certificate", uwhere), _data_or_file(user, "client-key", uwhere)
    _check_credentials(user, uwhere, cert, key, token, exec_config)
    if token or token_file or cert:
        exec_config = None  # client-go's exec authenticator steps aside for a token or a certificate: never run
    server = server if "://" in server else f"https://{server}"
    _check_server(server, cwhere)
    return ConnectionSettings(
        server=server,
        context=name,
        namespace=namespace or _str(ctx, "namespace", where) or "default",
        ca_data=ca_data,
        insecure=insecure,
        tls_server_name=_str(cluster, "tls-server-name", cwhere) or None,
        client_cert_data=cert,
        client_key_data=key,
        token=token,
        token_file=token_file,
        exec_config=exec_config,
        proxy_url=_proxy_url(cluster, cwhere),
        disable_compression=disable_compression,
        kubeconfig_paths=paths,
    )


def check_exec(exec_config: Any, where: str) -> None:
    """The exec stanza has the shape client-go decodes (its ExecConfig), so running it cannot fail on a type."""
    hint = "see users[].user.exec in the kubeconfig"
    if not isinstance(exec_config, dict) or not exec_config.get("command"):
        raise ConfigError(f"{where}: exec needs a command", hint=hint)
    if not all(isinstance(key, str) for key in exec_config):  # YAML's `on:` and `1:` are no field names
        raise ConfigError(f"{where}: exec has a field name that is not a string", hint=hint)
    strings = ("command", "apiVersion", "installHint", "interactiveMode")
    for key in strings:
        if exec_config.get(key) is not None and not isinstance(exec_config[key], str):
            raise ConfigError(f"{where}: exec {key} must be a string", hint=hint)
    args = exec_config.get("args")
    if args is not None and not (isinstance(args, list) and all(isinstance(a, str) for a in args)):
        raise ConfigError(f"{where}: exec args must be a list of strings", hint=hint)
    env = exec_config.get("env")
    valid_env = isinstance(env, list) and all(
        isinstance(e, dict) and isinstance(e.get("name"), str) and isinstance(e.get("value", ""), str) for e in env
    )
    if env is not None and not valid_env:
        raise ConfigError(f"{where}: exec env must be a list of {{name, value}} strings", hint=hint)
    # what no process can be given: a NUL anywhere, a name with "=" (subprocess refuses both with a ValueError)
    texts = [exec_config["command"], *(args or []), *(v for e in env or [] for v in (e["name"], e.get("value") or ""))]
    if any("\0" in text for text in texts) or any("=" in e["name"] for e in env or []):
        raise ConfigError(f"{where}: exec has a NUL character, or an env name with '='", hint=hint)
    mode = exec_config.get("interactiveMode")
    if mode not in (None, "", "Never", "IfAvailable", "Always"):
        raise ConfigError(f'{where}: exec has an invalid interactiveMode "{mode}"', hint=hint)
    if not isinstance(exec_config.get("provideClusterInfo", False), bool):
        raise ConfigError(f"{where}: exec provideClusterInfo must be true or false", hint=hint)


def _check_credentials(
    user: Mapping[str, Any], where: str, cert: bytes | None, key: bytes | None, token: str | None, exec_config: Any
) -> None:
    """Refuse credentials kates would otherwise drop, sending anonymous requests instead (a confusing 403 later)."""
    if cert and not key:
        raise ConfigError(
            f"client-key-data or client-key must be specified for {where} to use the clientCert authentication method"
        )
    if key and not cert:
        raise ConfigError(
            f"client-certificate-data or client-certificate must be specified for {where} to use the clientCert "
            "authentication method"
        )
    provider = user.get("auth-provider")
    if provider is not None:
        name = provider.get("name") if isinstance(provider, dict) else None
        raise ConfigError(
            f'{where}: the auth-provider "{name if isinstance(name, str) else ""}" is not supported',
            hint="client-go removed its auth providers: use the provider's exec credential plugin "
            "(e.g. gke-gcloud-auth-plugin, kubelogin) in users[].user.exec",
        )
    if user.get("username") is not None or user.get("password") is not None:
        raise ConfigError(
            f"{where}: username/password (basic authentication) is not supported",
            hint="kube-apiserver removed basic authentication in 1.19: use a token, a client certificate or an exec "
            "plugin",
        )
    if "token" in user and not token and not user.get("tokenFile") and not cert and not exec_config:
        raise ConfigError(f"{where}: token is empty", hint="set the token, or remove it to connect anonymously")
    impersonation = [k for k in ("as", "as-uid", "as-groups", "as-user-extra") if user.get(k) is not None]
    if impersonation:  # every request, writes too, would go as the base identity
        raise ConfigError(
            f"{where}: impersonation ({', '.join(impersonation)}) is not supported",
            hint="remove it from users[].user in the kubeconfig, or use a user whose own credentials have the rights",
        )


def _check_server(server: str, where: str) -> None:
    """A server URL kates can dial: http(s), a host, and a port in range (client-go fails these at dial time)."""
    try:
        url = urlsplit(server)
        port = url.port
    except ValueError as e:
        reason = str(e)
        raise ConfigError(f'{where}: invalid server URL "{server}": {reason[:1].lower()}{reason[1:]}') from e
    if url.scheme not in ("https", "http") or not url.hostname:
        raise ConfigError(f'{where}: invalid server URL "{server}": it needs https:// (or http://) and a host')
    if port == 0:
        raise ConfigError(f'{where}: invalid server URL "{server}": port 0')


def _proxy_url(cluster: Mapping[str, Any], where: str) -> str | None:
    proxy = _str(cluster, "proxy-url", where)
    if not proxy:
        return None
    from .proxy import Proxy, redacted  # lazily: only a kubeconfig that names a proxy

    try:
        Proxy.parse(proxy)
    except ValueError as e:  # the message never holds the password
        raise ConfigError(f'{where}: invalid proxy-url "{redacted(proxy)}": {e}') from None
    return proxy


def _in_cluster(context: str | None, namespace: str | None, env: Mapping[str, str], sa_dir: str) -> ConnectionSettings:
    if context:
        raise ConfigError(f'context "{context}" does not exist', hint="no kubeconfig was found; " + NO_CONFIG_HINT)
    host, port = env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    token_file = os.path.join(sa_dir, "token")
    _read_bytes(token_file, "service account token")
    ca_path, ns_path = os.path.join(sa_dir, "ca.crt"), os.path.join(sa_dir, "namespace")
    if not namespace:  # the downward API's POD_NAMESPACE first, as client-go's in-cluster config reads it
        namespace = env.get("POD_NAMESPACE") or None
    if not namespace and os.path.exists(ns_path):
        namespace = _read_bytes(ns_path, "service account namespace").decode("utf-8", errors="replace").strip()
    ca_data = _read_bytes(ca_path, "service account CA") if os.path.exists(ca_path) else None
    return ConnectionSettings(
        f"https://{host}:{port}", "", namespace or "default", ca_data, token_file=token_file, in_cluster=True
    )


def _parse_file(path: str) -> dict[str, Any]:
    raw = _read_bytes(path, "kubeconfig")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _invalid(path, "not UTF-8 text") from e
    doc = simpleyaml.parse(text)  # the plain YAML kubectl writes, without importing PyYAML
    if doc is simpleyaml.UNSUPPORTED:
        doc = _parse_yaml(path, text)
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise _invalid(path, f"the top level is a {type(doc).__name__}, not a mapping")
    return doc


def _parse_yaml(path: str, text: str) -> Any:
    import yaml

    # libyaml's loader is ~10x faster than pure Python
    loader = _LOADER or getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        return yaml.load(text, Loader=loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        reason = getattr(e, "problem", None) or " ".join(str(e).split())
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        # not chained: a YAML error's text can quote the offending line, and that line may hold a token or key
        raise _invalid(path, f"{reason}{where}") from None


def _resolve_entry(kind: str, body: dict[str, Any], base_dir: str) -> dict[str, Any]:
    out = copy.deepcopy(body)
    for key in _PATH_KEYS.get(kind, ()):
        if isinstance(out.get(key), str) and out[key]:
            out[key] = os.path.normpath(os.path.join(base_dir, out[key]))  # join keeps absolute paths as they are
    exec_config = out.get("exec") if kind == "user" else None
    if isinstance(exec_config, dict) and isinstance(exec_config.get("command"), str):
        command: str = exec_config["command"]
        if os.sep in command or (os.altsep and os.altsep in command):
            exec_config["command"] = os.path.normpath(os.path.join(base_dir, command))
    return out


def _str(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string")
    return value


def _data_or_file(entry: Mapping[str, Any], key: str, where: str) -> bytes | None:
    data = _str(entry, f"{key}-data", where)
    if data:
        try:
            return base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError) as e:
            raise ConfigError(f"{where}: {key}-data is not valid base64") from e
    path = _str(entry, key, where)
    return _read_bytes(path, f"{key} of {where}") if path else None


def _read_bytes(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(f"cannot read {what} {path}: {e.strerror or e}") from e


def _invalid(path: str, reason: str) -> ConfigError:
    return ConfigError(f"{path}: invalid kubeconfig: {reason}", hint="fix the file, or point --kubeconfig elsewhere")
