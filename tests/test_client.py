"""MetricsClient against the demo: parameter forms, bad input, every error class, retries."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import requests
from requests.adapters import BaseAdapter

import metrics_toolkit as mt
from metrics_toolkit.client import SESSION_METRICS
from metrics_toolkit.demo import (
    DEFAULT_SEED,
    DEMO_API_KEY,
    DEMO_KEY_WITHOUT_PERMISSIONS,
    FIRST_DAY,
    DemoAPI,
    DemoServer,
    FaultPlan,
)

from .conftest import NOW

WEEK_START = dt.datetime(2026, 11, 16, tzinfo=dt.timezone.utc)
WEEK_END = dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc)
WEEK_AFTER = int(WEEK_START.timestamp())
WEEK_BEFORE = int(WEEK_END.timestamp())


def sent_query(server: DemoServer, index: int = -1) -> dict[str, list[str]]:
    return parse_qs(urlsplit(server.requests[index]).query)


# -- parameter forms ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("after", "before"),
    [
        (WEEK_START, WEEK_END),
        (WEEK_START.replace(tzinfo=None), WEEK_END.replace(tzinfo=None)),  # naive = UTC
        (dt.date(2026, 11, 16), dt.date(2026, 11, 23)),
        ("2026-11-16", "2026-11-23T00:00:00Z"),
        ("2026-11-16T01:00:00+01:00", "2026-11-23T00:00:00+00:00"),
        (
            pd.Timestamp("2026-11-16", tz="UTC"),
            pd.Timestamp("2026-11-23 01:00", tz="Europe/Berlin"),
        ),
        (WEEK_AFTER, WEEK_BEFORE),
    ],
)
def test_every_time_form_sends_the_same_epoch_seconds(
    http_client: mt.MetricsClient, server: DemoServer, after: Any, before: Any
) -> None:
    http_client.session_metrics(after, before, refresh=True)
    query = sent_query(server)
    assert query["time_after"] == [str(WEEK_AFTER)]
    assert query["time_before"] == [str(WEEK_BEFORE)]


def test_lists_go_on_the_wire_as_repeated_keys(
    http_client: mt.MetricsClient, server: DemoServer, demo_api: DemoAPI
) -> None:
    orgs = [org.org_id for org in demo_api.enterprise.organizations[:2]]
    users = [user.user_id for user in demo_api.enterprise.users[:3]]
    http_client.session_metrics(
        WEEK_START,
        WEEK_END,
        org_ids=orgs,
        user_ids=users,
        playbook_id="playbook-x",
        allow_unknown_ids=True,  # a made-up playbook
    )
    query = sent_query(server)
    assert query["org_ids"] == sorted(orgs)
    assert query["user_ids"] == sorted(users)
    assert query["playbook_id"] == ["playbook-x"]
    assert "," not in server.requests[-1].split("?", 1)[1]


BAD_INPUTS = [
    ({"time_after": WEEK_AFTER * 1000}, "time_after", "milliseconds"),
    ({"time_before": WEEK_BEFORE * 1000}, "time_before", "milliseconds"),
    ({"time_after": WEEK_BEFORE, "time_before": WEEK_AFTER}, "time_before", "later than"),
    ({"time_after": WEEK_AFTER, "time_before": WEEK_AFTER}, "time_before", "later than"),
    ({"time_after": "next tuesday"}, "time_after", "ISO 8601"),
    ({"time_after": 1.5}, "time_after", "float"),
    ({"time_after": -5}, "time_after", "negative"),
    ({"time_after": True}, "time_after", "bool"),
    ({"org_ids": []}, "org_ids", "empty list"),
    ({"user_ids": ["user-1", 7]}, "user_ids", "non-empty string"),
    ({"service_user_ids": [""]}, "service_user_ids", "non-empty string"),
    ({"org_ids": {"a": 1}}, "org_ids", "list of id strings"),
    ({"playbook_id": ["a", "b"]}, "playbook_id", "one playbook id"),
]


@pytest.mark.parametrize(("change", "parameter", "words"), BAD_INPUTS)
def test_bad_input_is_refused_before_any_request(
    http_client: mt.MetricsClient,
    server: DemoServer,
    change: dict[str, Any],
    parameter: str,
    words: str,
) -> None:
    kwargs: dict[str, Any] = {"time_after": WEEK_AFTER, "time_before": WEEK_BEFORE, **change}
    with pytest.raises(mt.InvalidParameterError) as caught:
        http_client.session_metrics(**kwargs)
    assert isinstance(caught.value, ValueError)
    assert caught.value.parameter == parameter
    assert str(caught.value).startswith(f"{parameter}: ")
    assert words in str(caught.value)
    assert server.request_count == 0


@pytest.mark.parametrize(
    ("settings", "parameter"),
    [
        ({"timeout": 0}, "timeout"),
        ({"timeout": "10"}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"backoff": -0.5}, "backoff"),
        ({"max_requests_per_second": 0}, "max_requests_per_second"),
        ({"base_url": "api.devin.ai"}, "base_url"),
        ({"base_url": "ftp://api.devin.ai"}, "base_url"),
        ({"now": "yesterday-ish"}, "now"),
    ],
)
def test_bad_settings_are_refused(settings: dict[str, Any], parameter: str) -> None:
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.MetricsClient(DEMO_API_KEY, **{"cache": False, **settings})
    assert caught.value.parameter == parameter


def test_environment_is_the_fallback(monkeypatch: pytest.MonkeyPatch, server: DemoServer) -> None:
    monkeypatch.setenv("DEVIN_API_KEY", DEMO_API_KEY)
    monkeypatch.setenv("DEVIN_API_BASE_URL", server.url)
    client = mt.MetricsClient(cache=False)
    assert client.base_url == server.url
    assert client.session_metrics(WEEK_START, WEEK_END).sessions_created_count > 0
    explicit = mt.MetricsClient("cog_other", base_url="https://example.invalid", cache=False)
    assert explicit.base_url == "https://example.invalid"


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert mt.MetricsClient(cache=False).base_url == "https://api.devin.ai"


# -- answers --------------------------------------------------------------------------------------


def test_same_numbers_in_process_and_over_http(
    demo_client: mt.MetricsClient, http_client: mt.MetricsClient, demo_api: DemoAPI
) -> None:
    org = demo_api.enterprise.organizations[0].org_id
    for kwargs in ({}, {"org_ids": [org]}, {"user_ids": [demo_api.enterprise.users[5].user_id]}):
        local = demo_client.session_metrics(WEEK_START, WEEK_END, **kwargs)
        remote = http_client.session_metrics(WEEK_START, WEEK_END, **kwargs)
        assert local == remote
        assert local.model_dump() == demo_api.session_metrics(WEEK_AFTER, WEEK_BEFORE, **kwargs)


def test_unknown_fields_are_kept(demo_api: DemoAPI, tmp_path: Any) -> None:
    plan = FaultPlan(seed=1, schema_drift=1.0, drift_kinds=("unknown_origin",))
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False)
        origin = client.session_metrics(WEEK_START, WEEK_END).sessions_created_by_origin
    assert origin.model_extra and "github" in origin.model_extra
    plan = FaultPlan(seed=1, schema_drift=1.0, drift_kinds=("unknown_metric",))
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False)
        metrics = client.session_metrics(WEEK_START, WEEK_END)
    assert metrics.model_extra == {
        "sessions_created_with_knowledge_count": pytest.approx(
            metrics.model_extra["sessions_created_with_knowledge_count"]
        )
    }


def test_a_missing_optional_count_defaults_to_zero(demo_api: DemoAPI) -> None:
    plan = FaultPlan(seed=1, schema_drift=1.0, drift_kinds=("missing_size",))
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False)
        metrics = client.session_metrics(WEEK_START, WEEK_END)
    assert metrics.sessions_created_by_size.xl == 0


# -- every error class, from real answers of the demo server ----------------------------------


def test_401_without_a_token(server: DemoServer) -> None:
    client = mt.MetricsClient(base_url=server.url, cache=False)
    with pytest.raises(mt.AuthenticationError) as caught:
        client.session_metrics(WEEK_START, WEEK_END)
    assert caught.value.status_code == 401
    assert "DEVIN_API_KEY" in str(caught.value)


def test_401_for_an_unknown_token_warns_about_its_shape(server: DemoServer) -> None:
    with pytest.warns(mt.TokenFormatWarning, match="cog_"):
        client = mt.MetricsClient("not-a-cog-token", base_url=server.url, cache=False)
    with pytest.raises(mt.AuthenticationError) as caught:
        client.session_metrics(WEEK_START, WEEK_END)
    assert "not-a-cog-token" not in str(caught.value)


def test_403_names_the_permission(server: DemoServer) -> None:
    client = mt.MetricsClient(DEMO_KEY_WITHOUT_PERMISSIONS, base_url=server.url, cache=False)
    with pytest.raises(mt.PermissionDeniedError) as caught:
        client.session_metrics(WEEK_START, WEEK_END)
    assert caught.value.permission == "ViewAccountMetrics"
    assert "ViewAccountMetrics" in str(caught.value)
    with pytest.raises(mt.PermissionDeniedError, match="ViewOrganizations"):
        client.organizations()


def test_404_for_a_wrong_base_url(server: DemoServer) -> None:
    client = mt.MetricsClient(DEMO_API_KEY, base_url=server.url + "/v9", cache=False)
    with pytest.raises(mt.NotFoundError, match="DEVIN_API_BASE_URL"):
        client.session_metrics(WEEK_START, WEEK_END)


def test_422_renders_the_servers_detail(http_client: mt.MetricsClient) -> None:
    with pytest.raises(mt.RequestValidationError) as caught:
        http_client.request(SESSION_METRICS, {"time_after": "soon"})
    message = str(caught.value)
    assert "query.time_before: Field required" in message
    assert "query.time_after: Input should be a valid integer" in message
    assert [e["type"] for e in caught.value.errors] == ["missing", "int_parsing"]


def test_429_carries_retry_after(demo_api: DemoAPI) -> None:
    plan = FaultPlan(seed=3, rate_limit=1.0, retry_after="7")
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False, max_retries=0)
        with pytest.raises(mt.RateLimitError) as caught:
            client.session_metrics(WEEK_START, WEEK_END)
    assert caught.value.retry_after == 7.0
    assert caught.value.status_code == 429


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_is_a_server_error_after_the_retries(demo_api: DemoAPI, status: int) -> None:
    plan = FaultPlan(seed=3, server_error=1.0, server_error_statuses=(status,))
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(
            DEMO_API_KEY, base_url=server.url, cache=False, max_retries=2, backoff=0.0
        )
        with pytest.raises(mt.ServerError) as caught:
            client.session_metrics(WEEK_START, WEEK_END)
        assert server.request_count == 3
    assert caught.value.status_code == status


def test_connection_refused_is_a_connection_error(server: DemoServer) -> None:
    url = server.url
    server.stop()
    client = mt.MetricsClient(DEMO_API_KEY, base_url=url, cache=False, max_retries=1, backoff=0)
    with pytest.raises(mt.APIConnectionError) as caught:
        client.session_metrics(WEEK_START, WEEK_END)
    assert url in caught.value.url


def test_a_dropped_connection_is_a_connection_error(demo_api: DemoAPI) -> None:
    plan = FaultPlan(seed=3, drop_connection=1.0)
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(
            DEMO_API_KEY, base_url=server.url, cache=False, max_retries=0, backoff=0
        )
        with pytest.raises(mt.APIConnectionError):
            client.session_metrics(WEEK_START, WEEK_END)


def test_a_slow_answer_is_a_timeout(demo_api: DemoAPI) -> None:
    plan = FaultPlan(seed=3, slow=1.0, slow_seconds=1.0)
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(
            DEMO_API_KEY, base_url=server.url, cache=False, max_retries=0, timeout=0.2
        )
        with pytest.raises(mt.APITimeoutError, match=r"0\.2 s"):
            client.session_metrics(WEEK_START, WEEK_END)


def test_an_html_page_is_a_response_validation_error(demo_api: DemoAPI) -> None:
    plan = FaultPlan(seed=3, html=1.0, html_statuses=(200,))
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(
            DEMO_API_KEY, base_url=server.url, cache=False, max_retries=1, backoff=0
        )
        with pytest.raises(mt.ResponseValidationError) as caught:
            client.session_metrics(WEEK_START, WEEK_END)
        assert server.request_count == 2  # a broken body is asked again
    assert caught.value.status_code == 200
    assert "not valid JSON" in str(caught.value)
    assert "<html" in caught.value.body_excerpt.lower()


class _FixedBody(BaseAdapter):
    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body
        self.sent = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent += 1
        response = requests.Response()
        response.status_code = 200
        response._content = self.body
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def test_a_body_breaking_the_schema_is_reported_not_retried() -> None:
    adapter = _FixedBody(b'{"sessions_created_count": "3"}')
    client = mt.MetricsClient(
        DEMO_API_KEY, base_url="https://fixture.invalid", cache=False, transport=adapter
    )
    with pytest.raises(mt.ResponseValidationError) as caught:
        client.session_metrics(WEEK_START, WEEK_END)
    message = str(caught.value)
    assert "sessions_created_count: Input should be a valid integer" in message
    assert "sessions_created_by_origin: Field required" in message
    assert adapter.sent == 1


def test_every_error_is_a_metrics_error() -> None:
    for name in mt.__all__:
        thing = getattr(mt, name)
        if isinstance(thing, type) and issubclass(thing, Exception) and name.endswith("Error"):
            assert issubclass(thing, mt.MetricsError), name


# -- retries --------------------------------------------------------------------------------------


def test_transient_faults_are_retried_until_success(demo_api: DemoAPI) -> None:
    plan = FaultPlan(
        seed=11,
        rate_limit=0.15,
        server_error=0.15,
        drop_connection=0.1,
        truncated_json=0.1,
        retry_after="0",
    )
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(
            DEMO_API_KEY, base_url=server.url, cache=False, max_retries=12, backoff=0.001
        )
        expected = demo_api.session_metrics(WEEK_AFTER, WEEK_BEFORE)
        for _ in range(10):
            assert client.session_metrics(WEEK_START, WEEK_END).model_dump() == expected
        assert server.request_count > 10


def first_only(kind: str, **settings: Any) -> FaultPlan:
    """A plan whose first request gets the fault ``kind`` and the next few none."""
    for seed in range(10_000):
        plan = FaultPlan(seed=seed, **{kind: 0.5}, **settings)
        if plan.decide(0) is not None and all(plan.decide(n) is None for n in range(1, 4)):
            return plan
    raise AssertionError("no such seed")


def test_retry_after_is_honoured(demo_api: DemoAPI) -> None:
    plan = first_only("rate_limit", retry_after="1")
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False)
        started = time.monotonic()
        metrics = client.session_metrics(WEEK_START, WEEK_END)
        assert time.monotonic() - started >= 1.0
        assert server.request_count == 2
    assert metrics.sessions_created_count > 0


def test_429_without_retry_after_backs_off_and_succeeds(demo_api: DemoAPI) -> None:
    plan = first_only("rate_limit_without_retry_after")
    with DemoServer(demo_api, faults=plan) as server:
        client = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False, backoff=0.2)
        started = time.monotonic()
        client.session_metrics(WEEK_START, WEEK_END)
        assert time.monotonic() - started >= 0.1  # at least half the first backoff
        assert server.request_count == 2


def test_request_rate_cap(server: DemoServer) -> None:
    client = mt.MetricsClient(
        DEMO_API_KEY, base_url=server.url, cache=False, max_requests_per_second=20
    )
    started = time.monotonic()
    for _ in range(5):
        client.session_metrics(WEEK_START, WEEK_END)
    assert time.monotonic() - started >= 4 / 20 - 0.01


# -- the token ------------------------------------------------------------------------------------


def test_the_token_is_not_in_repr_or_errors(server: DemoServer) -> None:
    secret = "cog_this_is_secret_123"
    client = mt.MetricsClient(secret, base_url=server.url, cache=False)
    assert secret not in repr(client) and secret not in str(client)
    with pytest.raises(mt.AuthenticationError) as caught:
        client.session_metrics(WEEK_START, WEEK_END)
    assert secret not in str(caught.value) and secret not in repr(caught.value.__dict__)


def test_plain_http_to_another_host_is_refused() -> None:
    with pytest.raises(mt.InsecureTransportError, match="allow_insecure_http"):
        mt.MetricsClient(DEMO_API_KEY, base_url="http://api.example.com", cache=False)
    mt.MetricsClient(
        DEMO_API_KEY, base_url="http://api.example.com", cache=False, allow_insecure_http=True
    )
    mt.MetricsClient(DEMO_API_KEY, base_url="http://127.0.0.1:8765", cache=False)
    mt.MetricsClient(DEMO_API_KEY, base_url="http://localhost:8765", cache=False)
    mt.MetricsClient(DEMO_API_KEY, base_url="http://[::1]:8765", cache=False)
    mt.MetricsClient(base_url="http://api.example.com", cache=False)  # no token, nothing to leak


def test_tls_verification_is_on(
    monkeypatch: pytest.MonkeyPatch, http_client: mt.MetricsClient
) -> None:
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert mt.MetricsClient(DEMO_API_KEY, cache=False)._path.transport.verify is True


def test_the_demo_client_needs_no_key_and_no_network() -> None:
    client = mt.MetricsClient.demo(now=NOW)
    assert client.is_demo and client.has_api_key
    metrics = client.session_metrics(WEEK_START, WEEK_END)
    assert metrics.sessions_created_count > 0
    assert "memory" in repr(client)


def test_a_demo_client_says_it_is_the_demo_in_its_repr() -> None:
    client = mt.MetricsClient.demo(now=NOW, seed=7)
    assert (
        repr(client)
        == str(client)
        == "MetricsClient(demo, seed=7, now='2026-11-25T03:00Z', cache='memory')"
    )
    assert DEMO_API_KEY not in repr(client) and "api_key" not in repr(client)
    assert f"seed={DEFAULT_SEED}," in repr(mt.MetricsClient.demo(now=NOW, cache=False))
    live = mt.MetricsClient(DEMO_API_KEY, base_url="https://api.example.com", cache=False)
    assert repr(live) == (
        "MetricsClient(base_url='https://api.example.com', api_key=<set>, cache='off')"
    )


@pytest.mark.parametrize("now", ["2025-06-01", FIRST_DAY, dt.datetime(2025, 11, 30, 23, 59)])
def test_a_demo_before_its_first_day_is_refused_naming_it(now: Any) -> None:
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.MetricsClient.demo(now=now)
    assert caught.value.parameter == "now"
    first = f"{FIRST_DAY:%A} {FIRST_DAY.day} {FIRST_DAY:%B %Y}"
    assert first == "Monday 1 December 2025"
    assert f"is not after the demo's first day, {first} (00:00 UTC)" in str(caught.value)
    start = dt.datetime.combine(FIRST_DAY, dt.time(0, 0, 1), tzinfo=dt.timezone.utc)
    assert mt.MetricsClient.demo(now=start).now() == pd.Timestamp(start)  # one second of history


def test_a_long_window_is_split_and_combined_exactly(demo_api: DemoAPI, server: DemoServer) -> None:
    whole = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False)
    split = mt.MetricsClient(
        DEMO_API_KEY, base_url=server.url, cache=False, max_window=dt.timedelta(days=30)
    )
    expected = whole.session_metrics("2026-01-01", "2026-11-01")
    before = server.request_count
    combined = split.session_metrics("2026-01-01", "2026-11-01")
    assert server.request_count - before == 11  # 304 days in 30-day windows
    assert combined.model_dump(exclude={"avg_acus_per_session"}) == expected.model_dump(
        exclude={"avg_acus_per_session"}
    )
    assert combined.avg_acus_per_session == pytest.approx(expected.avg_acus_per_session)
    with pytest.raises(mt.InvalidParameterError, match="max_window"):
        mt.MetricsClient(DEMO_API_KEY, cache=False, max_window=dt.timedelta(0))


def test_errors_survive_copy_and_pickle() -> None:
    import copy
    import pickle

    error = mt.RateLimitError("slow down", status_code=429, url="https://x/y", retry_after=3.0)
    for clone in (copy.deepcopy(error), pickle.loads(pickle.dumps(error))):
        assert type(clone) is mt.RateLimitError
        assert clone.retry_after == 3.0 and str(clone) == str(error)


def test_proxy_and_ca_bundle_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp.example:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    client = mt.MetricsClient(DEMO_API_KEY, cache=False)
    assert client._path.transport.proxies["https"] == "http://proxy.corp.example:3128"
    assert client._path.transport.verify == str(bundle)  # still verifying, against that bundle
    monkeypatch.setenv("NO_PROXY", "api.devin.ai")
    assert "https" not in mt.MetricsClient(DEMO_API_KEY, cache=False)._path.transport.proxies
