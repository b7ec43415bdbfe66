"""The transport: the query as sent, proxies and CA bundles, redirects, refused connections."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import urlencode

import pytest
import urllib3
from hypothesis import given
from hypothesis import strategies as st

import metrics_toolkit as mt
from metrics_toolkit._wire import environment_proxies, pool_manager, same_origin, with_query

VALUES = st.one_of(
    st.integers(),
    st.booleans(),
    st.text(),
    st.lists(st.one_of(st.text(), st.integers()), max_size=4),
)


@given(st.dictionaries(st.text(min_size=1), VALUES, max_size=5))
def test_the_query_is_what_urlencode_writes(params: dict[str, Any]) -> None:
    expected = f"https://x/y?{urlencode(params, doseq=True)}" if params else "https://x/y"
    assert with_query("https://x/y", params) == expected


def test_proxies_follow_https_proxy_and_no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    assert environment_proxies("https://api.devin.ai") == {}
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    assert environment_proxies("https://api.devin.ai")["https"] == "http://proxy.corp.example:3128"
    monkeypatch.setenv("NO_PROXY", "example.org,.devin.ai")
    assert environment_proxies("https://api.devin.ai") == {}
    assert environment_proxies("https://elsewhere.example")["https"].endswith(":3128")


@pytest.mark.parametrize(
    ("target", "same"),
    [
        ("https://api.devin.ai/v3/x", True),
        ("https://api.devin.ai:443/v3/x", False),  # the port is part of the origin as written
        ("http://api.devin.ai/v3/x", False),  # https -> http: never with the token
        ("https://other.devin.ai/v3/x", False),
    ],
)
def test_the_token_follows_a_redirect_only_to_the_same_origin(target: str, same: bool) -> None:
    assert same_origin(target, "https://api.devin.ai/v3/y") is same


def test_a_refused_connection_is_a_connection_error_not_a_timeout() -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = mt.MetricsClient(
        "cog_test", base_url=f"http://127.0.0.1:{port}", cache=False, max_retries=0
    )
    with pytest.raises(mt.APIConnectionError) as caught:
        client.session_metrics("2026-11-02", "2026-11-09")
    assert not isinstance(caught.value, mt.APITimeoutError)


def test_proxy_credentials_are_sent_and_a_bundle_directory_is_a_directory(tmp_path: Any) -> None:
    proxied = pool_manager(
        "https://api.devin.ai", {"https": "http://alice:s%40cret@proxy.example:3128"}, None, 8
    )
    assert isinstance(proxied, urllib3.ProxyManager)
    expected = urllib3.make_headers(proxy_basic_auth="alice:s@cret")
    assert proxied.proxy_headers["proxy-authorization"] == expected["proxy-authorization"]
    assert "alice" not in str(proxied.proxy)  # the credentials travel in the header only
    directory = pool_manager("https://api.devin.ai", {}, str(tmp_path), 8)
    assert directory.connection_pool_kw["ca_cert_dir"] == str(tmp_path)
    assert directory.connection_pool_kw.get("ca_certs") is None
