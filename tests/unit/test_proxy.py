"""core/proxy.py: the proxy of a connection, as Go's http.ProxyFromEnvironment chooses it (golang.org/x/net's
httpproxy rules, the table below), and what kates can speak to (an HTTP proxy, by CONNECT)."""

from __future__ import annotations

import re

import pytest

from kates_cli.core.config import ConnectionSettings
from kates_cli.core.proxy import Proxy, proxy_for, redacted
from kates_cli.core.transport import Transport
from kates_cli.errors import ConfigError

P = "http://proxy.corp:3128"


@pytest.mark.parametrize(
    ("scheme", "host", "port", "env", "proxied"),
    [
        ("https", "api.example.com", 6443, {"HTTPS_PROXY": P}, True),
        ("https", "api.example.com", 6443, {"https_proxy": P}, True),
        ("https", "api.example.com", 6443, {"HTTP_PROXY": P}, False),  # the server's scheme picks the variable
        ("http", "api.example.com", 80, {"HTTP_PROXY": P}, True),
        ("https", "localhost", 6443, {"HTTPS_PROXY": P}, False),  # never localhost or loopback
        ("https", "127.0.0.1", 6443, {"HTTPS_PROXY": P}, False),
        ("https", "::1", 6443, {"HTTPS_PROXY": P}, False),
        ("https", "api.example.com", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "*"}, False),
        ("https", "api.example.com", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "example.com"}, False),  # subdomain
        ("https", "example.com", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "example.com"}, False),  # itself
        ("https", "example.com", 6443, {"HTTPS_PROXY": P, "NO_PROXY": ".example.com"}, True),  # subdomains only
        ("https", "a.example.com", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "*.example.com"}, False),
        ("https", "notexample.com", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "example.com"}, True),
        ("https", "API.Example.com", 6443, {"HTTPS_PROXY": P, "no_proxy": "a.b, api.EXAMPLE.com"}, False),
        ("https", "api.example.com", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "api.example.com:443"}, True),  # port
        ("https", "api.example.com", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "api.example.com:6443"}, False),
        ("https", "10.0.0.7", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.0/8"}, False),  # CIDR
        ("https", "11.0.0.7", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.0/8"}, True),
        ("https", "10.0.0.7", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "10.0.0.7"}, False),
        ("https", "fd00::7", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "[fd00::7]:6443"}, False),
        ("https", "fd00::7", 6443, {"HTTPS_PROXY": P, "NO_PROXY": "fd00::/16"}, False),
        ("https", "api.example.com", 6443, {"HTTPS_PROXY": P, "NO_PROXY": ", ,"}, True),
    ],
)
def test_the_environments_proxy_as_go_chooses_it(
    scheme: str, host: str, port: int, env: dict[str, str], proxied: bool
) -> None:
    assert proxy_for(scheme, host, port, env) == (P if proxied else None)


def test_the_upper_case_variable_wins() -> None:
    assert proxy_for("https", "h.example", 1, {"HTTPS_PROXY": "http://a", "https_proxy": "http://b"}) == "http://a"


@pytest.mark.parametrize(
    ("url", "host", "port", "auth"),
    [
        ("http://proxy.corp:3128", "proxy.corp", 3128, None),
        ("proxy.corp:3128", "proxy.corp", 3128, None),  # Go reads a URL without a scheme as http
        ("http://proxy.corp", "proxy.corp", 80, None),  # Go's default port for http (kates used 3128)
        ("http://us%40er:p%3Ass@proxy.corp:8080", "proxy.corp", 8080, "Basic dXNAZXI6cDpzcw=="),  # us@er:p:ss
    ],
)
def test_an_http_proxy_and_its_credentials(url: str, host: str, port: int, auth: str | None) -> None:
    proxy = Proxy.parse(url)
    assert (proxy.host, proxy.port, proxy.authorization) == (host, port, auth)
    assert "p%3Ass" not in proxy.shown


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("socks5://proxy:1080", "HTTP proxies only (CONNECT), not socks5"),
        ("https://proxy:443", "HTTP proxies only (CONNECT), not https"),
        ("ftp://proxy", 'unsupported scheme "ftp", must be http'),
        ("http://proxy:abc", "no valid port"),
    ],
)
def test_what_kates_cannot_speak_to_is_refused(url: str, says: str) -> None:
    """A socks5 or https proxy was sent a plain CONNECT: a confusing failure, or the request in the clear."""
    with pytest.raises(ValueError, match=re.escape(says)):
        Proxy.parse(url)


def test_a_password_is_never_shown() -> None:
    assert redacted("http://u:s3cret@p:1") == "http://u:xxxxx@p:1"
    assert redacted("http://p:1") == "http://p:1"
    assert redacted("u:s3cret@p:1") == "u:xxxxx@p:1"
    for odd in ("p#ss", "p/ss", "p?ss"):  # unencoded: urlsplit misreads these URLs
        assert redacted(f"http://user:{odd}@proxy:8080") == "http://user:xxxxx@proxy:8080"
        with pytest.raises(ConfigError) as bad:
            Transport(
                ConnectionSettings(
                    server="https://k.example:6443", context="c", namespace="d", proxy_url=f"http://user:{odd}@p:1"
                )
            )
        assert odd not in bad.value.message
    settings = ConnectionSettings(server="https://k.example:6443", context="c", namespace="d")
    with pytest.raises(ConfigError) as raised:
        Transport(settings.__class__(**{**settings.__dict__, "proxy_url": "socks5://u:s3cret@p:1080"}))
    assert "s3cret" not in raised.value.message and "xxxxx" in raised.value.message


def test_the_environment_proxy_reaches_the_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://u:pw@proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "internal.example")
    proxied = Transport(ConnectionSettings(server="https://k.example:6443", context="c", namespace="d"))
    assert proxied.proxy is not None and (proxied.proxy.host, proxied.proxy.port) == ("proxy.corp", 3128)
    direct = Transport(ConnectionSettings(server="https://api.internal.example:6443", context="c", namespace="d"))
    assert direct.proxy is None
    kubeconfig = Transport(
        ConnectionSettings(
            server="https://api.internal.example:6443", context="c", namespace="d", proxy_url="http://other:8080"
        )
    )  # the cluster's proxy-url wins over the environment, NO_PROXY included (client-go's Proxy)
    assert kubeconfig.proxy is not None and kubeconfig.proxy.host == "other"
    monkeypatch.setenv("HTTPS_PROXY", "socks5://proxy.corp:1080")
    with pytest.raises(ConfigError, match=r"HTTPS_PROXY or HTTP_PROXY in the environment"):
        Transport(ConnectionSettings(server="https://k.example:6443", context="c", namespace="d"))
