"""Which HTTP proxy a connection to the API server goes through, as client-go decides it: the cluster's `proxy-url`,
else the environment (Go's `http.ProxyFromEnvironment`: HTTPS_PROXY or HTTP_PROXY by the server's scheme, and
NO_PROXY), and how to speak to it.

Invariants:
- `proxy_for` is Go's golang.org/x/net/http/httpproxy rules: the upper-case variable wins over the lower-case one;
  a request to "localhost" or a loopback address never goes through a proxy; NO_PROXY is a comma-separated list of
  "*" (nothing is proxied), IP addresses, CIDR ranges and host names, each optionally with ":port"; a name matches
  itself and its subdomains ("example.com" matches "a.example.com"), ".example.com" and "*.example.com" only the
  subdomains; case does not matter.
- `Proxy.parse` takes what Go's transport can dial as an HTTP proxy: "http://host[:port]", or "host[:port]" (Go
  reads it as http), default port 80. kates tunnels through HTTP proxies only (CONNECT): an "https://" or "socks5://"
  proxy is a ValueError naming the scheme, never a connection made in the clear to a proxy that expects TLS or SOCKS.
  User information in the URL becomes the CONNECT request's `Proxy-Authorization: Basic` header (percent-decoded),
  as Go sends it.
- `Proxy.shown` and `redacted` give the URL without its password: what any message may print.
- Imports only the standard library's lightweight modules (a command's start; bench B0).
"""

from __future__ import annotations

import ipaddress
from base64 import b64encode
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

from .records import record

PROXY_SCHEMES = ("http",)


@record(frozen=True)
class Proxy:
    host: str
    port: int
    authorization: str | None  # the Proxy-Authorization header's value, from the URL's user information
    shown: str  # the URL, its password replaced by "xxxxx"

    @classmethod
    def parse(cls, url: str) -> Proxy:
        """The proxy at `url`; a ValueError saying what is wrong with it, without the URL (`redacted` gives that)."""
        parts = urlsplit(url if "://" in url else f"http://{url}")
        scheme = parts.scheme.lower()
        if scheme not in PROXY_SCHEMES:
            if scheme in ("https", "socks5", "socks5h"):
                raise ValueError(f"kates reaches API servers through HTTP proxies only (CONNECT), not {scheme}")
            raise ValueError(f'unsupported scheme "{scheme}", must be http')
        try:
            port = parts.port
        except ValueError:  # (urlsplit's words would quote what it took for the port: perhaps a password's start)
            raise ValueError(
                "no valid port (a password with an unencoded '#', '/' or '?' ends the host part there)"
            ) from None
        if not parts.hostname:
            raise ValueError("no host")
        auth = None
        if parts.username is not None:
            user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            auth = "Basic " + b64encode(user_pass.encode("utf-8")).decode("ascii")
        return cls(parts.hostname, port or 80, auth, redacted(url))


def redacted(url: str) -> str:
    """`url` with the password of its user information replaced by "xxxxx" (as Go's url.Redacted), found by position:
    a password with an unencoded "#", "/" or "?" defeats urlsplit, and must not be shown either."""
    start = url.find("://") + 3 if "://" in url else 0
    at = url.rfind("@")
    colon = url.find(":", start, at) if at > start else -1
    if colon < 0:
        return url
    return url[: colon + 1] + "xxxxx" + url[at:]


def proxy_for(scheme: str, host: str, port: int, env: Mapping[str, str]) -> str | None:
    """The proxy URL the environment names for a request to `scheme`://`host`:`port`, or None (see the module)."""
    names = ("HTTPS_PROXY", "https_proxy") if scheme == "https" else ("HTTP_PROXY", "http_proxy")
    url = next((env[name] for name in names if env.get(name)), "")
    if not url:
        return None
    host = host.lower().strip("[]")
    if host == "localhost":
        return None
    ip = _ip(host)
    if ip is not None and ip.is_loopback:
        return None
    no_proxy = env.get("NO_PROXY") or env.get("no_proxy") or ""
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if entry and _excludes(entry, host, ip, str(port)):
            return None
    return url


def _excludes(entry: str, host: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, port: str) -> bool:
    """Whether one NO_PROXY entry exempts `host` (its address `ip`, if it is one) on `port`."""
    if entry == "*":
        return True
    if "/" in entry:  # a CIDR range
        try:
            return ip is not None and ip in ipaddress.ip_network(entry, strict=False)
        except ValueError:
            return False
    name, want_port = entry, ""
    if entry.startswith("["):  # [v6]:port
        name, _, rest = entry[1:].partition("]")
        want_port = rest[1:] if rest.startswith(":") else ""
    elif entry.count(":") == 1:  # host:port (a bare IPv6 address has more colons)
        name, want_port = entry.split(":")
    if want_port and want_port != port:
        return False
    entry_ip = _ip(name)
    if entry_ip is not None:
        return ip is not None and ip == entry_ip
    if not name:
        return False
    if name.startswith("*."):
        name = name[1:]
    if name.startswith("."):  # subdomains only
        return host.endswith(name)
    return host == name or host.endswith("." + name)


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None
