"""The demo over HTTP: the in-process transport adapter and the real loopback server."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from metrics_toolkit.demo import (
    DEMO_API_KEY,
    DEMO_BASE_URL,
    DemoAdapter,
    DemoAPI,
    DemoEnterprise,
    DemoServer,
    FaultPlan,
    generate_enterprise,
    serve_forever,
)
from metrics_toolkit.demo.server import FAULT_KINDS, Fault

#: A Monday inside the demo's history (it begins on 1 December 2025).
END = datetime(2026, 11, 30, tzinfo=timezone.utc)
METRICS = "/v3/enterprise/metrics/sessions"
AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}
TIMEOUT = 10.0


@pytest.fixture(scope="module")
def enterprise() -> DemoEnterprise:
    return generate_enterprise(end=END, days=60)


@pytest.fixture(scope="module")
def api(enterprise: DemoEnterprise) -> DemoAPI:
    return DemoAPI(enterprise)


@pytest.fixture(scope="module")
def server(api: DemoAPI) -> Iterator[DemoServer]:
    with DemoServer(api) as running:
        yield running


def window(enterprise: DemoEnterprise) -> dict[str, int]:
    return {"time_after": enterprise.start, "time_before": enterprise.end}


def get_metrics(url: str, enterprise: DemoEnterprise, **kwargs: Any) -> requests.Response:
    return requests.get(
        f"{url}{METRICS}", params=window(enterprise), headers=AUTH, timeout=TIMEOUT, **kwargs
    )


def faulty_server(api: DemoAPI, **plan: Any) -> DemoServer:
    return DemoServer(api, faults=FaultPlan(seed=3, **plan))


QUERIES: list[tuple[str, dict[str, Any]]] = [
    (METRICS, {"time_after": 1_791_158_400, "time_before": 1_795_996_800}),
    (METRICS, {"time_after": 1_791_158_400, "time_before": 1_793_577_600, "org_ids": ["a", "b"]}),
    (METRICS, {"time_after": "abc"}),
    ("/v3/enterprise/organizations", {"first": 2}),
    ("/v3/enterprise/members/users", {"first": 500}),
    ("/v3/enterprise/members/service-users", {"include_inactive": "true"}),
    ("/v3/enterprise/playbooks", {}),
    ("/v3/enterprise/metrics/prs", {}),
]


# -- the in-process adapter ----------------------------------------------------------------


@pytest.fixture
def session(api: DemoAPI) -> Iterator[requests.Session]:
    with requests.Session() as demo_session:
        demo_session.mount(DEMO_BASE_URL, DemoAdapter(api))
        yield demo_session


@pytest.mark.parametrize(("path", "params"), QUERIES)
def test_adapter_answers_like_handle(
    api: DemoAPI, session: requests.Session, path: str, params: dict[str, Any]
) -> None:
    response = session.get(f"{DEMO_BASE_URL}{path}", params=params, headers=AUTH)
    expected = api.handle("GET", path, urlencode(params, doseq=True), AUTH)
    assert response.status_code == expected.status
    assert response.content == expected.body
    assert response.json() == expected.json()
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Length"] == str(len(expected.body))


def test_adapter_builds_a_complete_response(session: requests.Session) -> None:
    url = f"{DEMO_BASE_URL}/v3/enterprise/organizations?first=1"
    response = session.get(url, headers=AUTH)
    assert (response.status_code, response.reason, response.ok) == (200, "OK", True)
    assert response.url == url
    assert response.request is not None and response.request.url == url
    assert response.encoding == "utf-8"
    assert response.json()["has_next_page"] is True
    missing = session.get(f"{DEMO_BASE_URL}/nowhere", headers=AUTH)
    assert (missing.status_code, missing.reason) == (404, "Not Found")
    with pytest.raises(requests.HTTPError):
        missing.raise_for_status()
    streamed = session.get(url, headers=AUTH, stream=True)
    assert b"".join(streamed.iter_content(7)) == response.content
    assert session.post(url, headers=AUTH).status_code == 405


# -- the real server -----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params"), QUERIES)
def test_server_answers_like_handle(
    api: DemoAPI, server: DemoServer, path: str, params: dict[str, Any]
) -> None:
    response = requests.get(f"{server.url}{path}", params=params, headers=AUTH, timeout=TIMEOUT)
    expected = api.handle("GET", path, urlencode(params, doseq=True), AUTH)
    assert response.status_code == expected.status
    assert response.content == expected.body
    assert response.json() == expected.json()


def test_server_counts_and_logs_requests_without_headers(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    with DemoServer(api) as server:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.port > 0
        get_metrics(server.url, enterprise)
        requests.get(f"{server.url}/v3/enterprise/playbooks?first=3", headers=AUTH, timeout=TIMEOUT)
        assert server.request_count == 2
        assert server.requests == (
            f"{METRICS}?{urlencode(window(enterprise))}",
            "/v3/enterprise/playbooks?first=3",
        )
        assert DEMO_API_KEY not in "".join(server.requests)


def test_many_concurrent_clients_are_served(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    with DemoServer(api, latency=0.02) as server:

        def fetch(day: int) -> int:
            start = enterprise.start + day * 86400
            params = {"time_after": start, "time_before": start + 86400}
            url = f"{server.url}{METRICS}"
            return requests.get(url, params=params, headers=AUTH, timeout=TIMEOUT).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(fetch, range(60)))
        assert statuses == [200] * 60
        assert server.request_count == 60


def test_latency_is_added_to_every_request(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    with DemoServer(api, latency=0.25) as server:
        started = time.perf_counter()
        response = get_metrics(server.url, enterprise)
        assert time.perf_counter() - started >= 0.25
        assert response.status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "10.0.0.1", "example.com", ""])
def test_non_loopback_hosts_are_refused(api: DemoAPI, host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        DemoServer(api, host=host)


def test_loopback_names_are_accepted(api: DemoAPI) -> None:
    for host in ["127.0.0.1", "127.0.0.2", "localhost", "::1"]:
        DemoServer(api, host=host)  # constructing does not bind
    with pytest.raises(ValueError, match="latency"):
        DemoServer(api, latency=-1.0)


# -- faults --------------------------------------------------------------------------------


def test_rate_limit_with_and_without_retry_after(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    with faulty_server(api, rate_limit=1.0, retry_after="0") as server:
        response = get_metrics(server.url, enterprise)
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "0"
    with faulty_server(api, rate_limit_without_retry_after=1.0) as server:
        response = get_metrics(server.url, enterprise)
        assert response.status_code == 429
        assert "Retry-After" not in response.headers


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors(api: DemoAPI, enterprise: DemoEnterprise, status: int) -> None:
    with faulty_server(api, server_error=1.0, server_error_statuses=(status,)) as server:
        response = get_metrics(server.url, enterprise)
        assert response.status_code == status
        assert response.text.startswith(str(status))


def test_server_error_statuses_vary_per_request(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    with faulty_server(api, server_error=1.0) as server:
        statuses = {get_metrics(server.url, enterprise).status_code for _ in range(30)}
    assert statuses == {500, 502, 503, 504}


def test_dropped_connection(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    with faulty_server(api, drop_connection=1.0) as server:
        with pytest.raises(requests.ConnectionError):
            get_metrics(server.url, enterprise)
        assert server.request_count == 1


def test_slow_response(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    with faulty_server(api, slow=1.0, slow_seconds=0.3) as server:
        started = time.perf_counter()
        assert get_metrics(server.url, enterprise).status_code == 200
        assert time.perf_counter() - started >= 0.3
        with pytest.raises(requests.Timeout):
            requests.get(f"{server.url}{METRICS}", params=window(enterprise), timeout=0.05)


@pytest.mark.parametrize("status", [200, 502])
def test_html_error_page(api: DemoAPI, enterprise: DemoEnterprise, status: int) -> None:
    with faulty_server(api, html=1.0, html_statuses=(status,)) as server:
        response = get_metrics(server.url, enterprise)
        assert response.status_code == status
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.text.startswith("<!DOCTYPE html>")
        with pytest.raises(requests.JSONDecodeError):
            response.json()


def test_truncated_json(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    with faulty_server(api, truncated_json=1.0) as server:
        response = get_metrics(server.url, enterprise)
        assert response.status_code == 200
        assert response.text.startswith('{"sessions_created_count":')
        with pytest.raises(requests.JSONDecodeError):
            response.json()


def test_incomplete_body(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    with (
        faulty_server(api, incomplete_body=1.0) as server,
        pytest.raises(requests.exceptions.ChunkedEncodingError),
    ):
        get_metrics(server.url, enterprise)


@pytest.mark.parametrize(
    ("drift", "check"),
    [
        ("unknown_origin", lambda body: "github" in body["sessions_created_by_origin"]),
        ("unknown_metric", lambda body: "sessions_created_with_knowledge_count" in body),
        ("missing_size", lambda body: "xl" not in body["sessions_created_by_size"]),
    ],
)
def test_schema_drift(api: DemoAPI, enterprise: DemoEnterprise, drift: str, check: Any) -> None:
    with faulty_server(api, schema_drift=1.0, drift_kinds=(drift,)) as server:
        response = get_metrics(server.url, enterprise)
        assert response.status_code == 200
        body = response.json()
        assert check(body)
        assert body["sessions_created_count"] == len(enterprise.sessions)
        directory = requests.get(
            f"{server.url}/v3/enterprise/organizations", headers=AUTH, timeout=TIMEOUT
        )
        assert (
            directory.json() == api.handle("GET", "/v3/enterprise/organizations", "", AUTH).json()
        )


def test_unknown_origin_keeps_origins_adding_up(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    with faulty_server(api, schema_drift=1.0, drift_kinds=("unknown_origin",)) as server:
        body = get_metrics(server.url, enterprise).json()
    assert body["sessions_created_by_origin"]["github"] > 0
    assert sum(body["sessions_created_by_origin"].values()) == body["sessions_created_count"]


def test_every_kind_is_drawn_and_draws_are_reproducible() -> None:
    plan = FaultPlan.spread(0.9, seed=11)
    decisions = [plan.decide(n) for n in range(2000)]
    assert decisions == [FaultPlan.spread(0.9, seed=11).decide(n) for n in range(2000)]
    assert decisions != [FaultPlan.spread(0.9, seed=12).decide(n) for n in range(2000)]
    kinds = {decision.kind for decision in decisions if decision is not None}
    assert kinds == set(FAULT_KINDS)
    share = sum(decision is not None for decision in decisions) / len(decisions)
    assert 0.85 < share < 0.95


def test_same_seed_gives_the_same_faults_over_http(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    kinds = ("rate_limit", "server_error", "html", "schema_drift")

    def statuses(seed: int) -> list[tuple[int, str]]:
        with DemoServer(api, faults=FaultPlan.spread(0.6, seed=seed, kinds=kinds)) as server:
            responses = [get_metrics(server.url, enterprise) for _ in range(25)]
        return [(r.status_code, r.text) for r in responses]

    first = statuses(5)
    assert statuses(5) == first
    assert statuses(6) != first
    assert len({status for status, _ in first}) > 2


def test_chosen_windows_fail_every_time(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    failing = enterprise.start + 86400
    plan = FaultPlan(failing_time_after=frozenset({failing}))
    with DemoServer(api, faults=plan) as server:
        url = f"{server.url}{METRICS}"
        for _ in range(3):
            params = {"time_after": failing, "time_before": failing + 86400}
            assert (
                requests.get(url, params=params, headers=AUTH, timeout=TIMEOUT).status_code == 500
            )
            params = {"time_after": failing + 86400, "time_before": failing + 2 * 86400}
            assert (
                requests.get(url, params=params, headers=AUTH, timeout=TIMEOUT).status_code == 200
            )


def test_faults_can_be_limited_to_some_paths(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    plan = FaultPlan(server_error=1.0, paths=frozenset({METRICS}))
    assert plan.decide(0, "/v3/enterprise/organizations") is None
    decision = plan.decide(0, METRICS)
    assert isinstance(decision, Fault)
    assert decision.kind == "server_error"
    assert decision.status in (500, 502, 503, 504)
    with DemoServer(api, faults=plan) as server:
        assert get_metrics(server.url, enterprise).status_code >= 500
        directory = requests.get(
            f"{server.url}/v3/enterprise/playbooks", headers=AUTH, timeout=TIMEOUT
        )
        assert directory.status_code == 200


@pytest.mark.parametrize(
    "settings",
    [{"rate_limit": 1.5}, {"slow": -0.1}, {"html": 0.6, "slow": 0.6}, {"drift_kinds": ("x",)}],
)
def test_invalid_plans_are_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        FaultPlan(**settings)


def test_serve_forever_prints_the_url_and_key_and_stops() -> None:
    out = io.StringIO()
    stop = threading.Event()
    thread = threading.Thread(
        target=serve_forever,
        kwargs={"port": 0, "now": END, "days": 14, "seed": 1, "out": out, "stop": stop},
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while "API key" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    printed = out.getvalue()
    assert DEMO_API_KEY in printed
    url = printed.split("serving at ", 1)[1].split()[0]
    response = requests.get(f"{url}/v3/enterprise/organizations", headers=AUTH, timeout=TIMEOUT)
    assert response.status_code == 200
    stop.set()
    thread.join(TIMEOUT)
    assert not thread.is_alive()
