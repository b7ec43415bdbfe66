"""The transport's pure parts: the query as sent, and the proxies read from the environment."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from metrics_toolkit._transport import environment_proxies, with_query

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
