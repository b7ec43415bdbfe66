"""Shared fixtures. Tests never reach the network: only servers they start on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from metrics_toolkit import MetricsClient
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, DemoEnterprise, DemoServer
from metrics_toolkit.demo import generate_enterprise as _generate

#: The demo's fixed "now" in tests: a Wednesday, 03:00 UTC.
NOW = dt.datetime(2026, 11, 25, 3, tzinfo=dt.timezone.utc)

_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo

#: Read before any fixture clears the environment: only the opt-in live tests use them.
LIVE_API = os.environ.get("METRICS_TOOLKIT_LIVE_API") == "1"
LIVE_KEY = os.environ.get("DEVIN_API_KEY")
LIVE_BASE_URL = os.environ.get("DEVIN_API_BASE_URL")


def _is_local(host: Any) -> bool:
    if not isinstance(host, str):
        return True
    if host in ("localhost", "") or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection or name lookup that is not loopback (the opt-in live tests aside)."""
    if request.node.get_closest_marker("live"):
        return

    def connect(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and not _is_local(address[0]):
            raise RuntimeError(f"a test tried to reach {address[0]}: tests stay on loopback")
        return _real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_local(host if not isinstance(host, bytes) else host.decode()):
            raise socket.gaierror(f"a test tried to resolve {host!r}: tests stay on loopback")
        return _real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real token or base URL leaks in; the default cache lives in the test's tmp dir."""
    monkeypatch.delenv("DEVIN_API_KEY", raising=False)
    monkeypatch.delenv("DEVIN_API_BASE_URL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))


@pytest.fixture(scope="session")
def enterprise() -> DemoEnterprise:
    return _generate(end=NOW)


@pytest.fixture
def demo_api(enterprise: DemoEnterprise) -> DemoAPI:
    return DemoAPI(enterprise, now=NOW)


@pytest.fixture
def demo_client(demo_api: DemoAPI) -> Iterator[MetricsClient]:
    with MetricsClient.demo(api=demo_api, backoff=0.0) as client:
        yield client


@pytest.fixture
def server(demo_api: DemoAPI) -> Iterator[DemoServer]:
    with DemoServer(demo_api) as running:
        yield running


@pytest.fixture
def http_client(server: DemoServer, tmp_path: Path) -> Iterator[MetricsClient]:
    with MetricsClient(
        DEMO_API_KEY, base_url=server.url, cache_dir=tmp_path / "cache", now=NOW, backoff=0.0
    ) as client:
        yield client
