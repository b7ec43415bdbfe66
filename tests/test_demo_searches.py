"""The demo's search log and the simulator's ``GET /v3/enterprise/metrics/searches``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jsonschema
import numpy as np
import pytest
import yaml

from metrics_toolkit.demo import (
    DEMO_API_KEY,
    DEMO_KEY_WITHOUT_PERMISSIONS,
    DemoAPI,
    DemoEnterprise,
    DemoResponse,
    generate_enterprise,
)

from .conftest import NOW
from .test_demo_simulator import BAD_WINDOWS

SEARCHES = "/v3/enterprise/metrics/searches"
DAY = 86400
SPEC = Path(__file__).parent / "data" / "session-metrics.openapi.yaml"


@pytest.fixture
def api(enterprise: DemoEnterprise) -> DemoAPI:
    return DemoAPI(enterprise, now=NOW)


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    return dict(yaml.safe_load(SPEC.read_text(encoding="utf-8"))["components"])


def validator(components: Mapping[str, Any], name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": components}
    return jsonschema.Draft202012Validator(schema)


def request(
    api: DemoAPI,
    params: Mapping[str, Any] | Sequence[tuple[str, Any]] = (),
    *,
    token: str | None = DEMO_API_KEY,
    method: str = "GET",
) -> DemoResponse:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return api.handle(method, SEARCHES, urlencode(params, doseq=True), headers)


def searches(api: DemoAPI, **params: Any) -> int:
    """``searches_created_count`` over HTTP, checking the answer's shape on the way."""
    response = request(api, params)
    assert response.status == 200, response.body
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["searches_created_count"]
    count = body["searches_created_count"]
    assert isinstance(count, int) and count >= 0
    return int(count)


def brute_force(
    enterprise: DemoEnterprise,
    now: int,
    time_after: int,
    time_before: int,
    org_ids: Sequence[str] | None = None,
) -> int:
    """The count, the slow and obvious way over the whole log."""
    log = enterprise.searches
    keep = (log.created_at >= time_after) & (log.created_at < min(time_before, now))
    if org_ids is not None:
        wanted = [i for i, o in enumerate(enterprise.organizations) if o.org_id in org_ids]
        keep &= np.isin(log.org_index, wanted)
    return int(keep.sum())


# -- the search log --------------------------------------------------------------------------


def test_the_log_is_sorted_read_only_and_inside_the_window(enterprise: DemoEnterprise) -> None:
    log = enterprise.searches
    assert len(log) > 10_000
    assert np.all(np.diff(log.created_at) >= 0)
    assert log.created_at[0] >= enterprise.start and log.created_at[-1] < enterprise.end
    assert (log.created_at.dtype, log.user_index.dtype, log.org_index.dtype) == (
        np.int64,
        np.int32,
        np.int32,
    )
    for column in (log.created_at, log.user_index, log.org_index):
        assert not column.flags.writeable


def test_every_search_is_a_persons_and_carries_that_persons_org(
    enterprise: DemoEnterprise,
) -> None:
    log = enterprise.searches
    assert log.user_index.min() >= 0 and log.user_index.max() < len(enterprise.users)
    user_org = np.array([user.org_index for user in enterprise.users])
    assert np.array_equal(log.org_index, user_org[log.user_index])


def test_people_search_a_few_times_on_working_days(enterprise: DemoEnterprise) -> None:
    log = enterprise.searches
    day = log.created_at // DAY
    weekend = (day + 3) % 7 >= 5
    assert weekend.mean() < 0.05
    _, per_person_day = np.unique(day * len(enterprise.users) + log.user_index, return_counts=True)
    assert 2.0 < per_person_day.mean() < 4.5
    hour = (log.created_at // 3600) % 24
    assert ((hour >= 8) & (hour < 19)).mean() > 0.75
    searchers = np.unique(log.user_index).shape[0]
    assert 0.6 * len(enterprise.users) < searchers < len(enterprise.users)


def test_some_people_search_on_days_they_start_no_session(enterprise: DemoEnterprise) -> None:
    searches_log, sessions = enterprise.searches, enterprise.sessions
    only_searching = 0
    for start in range(enterprise.end - 28 * DAY, enterprise.end, DAY):
        in_day = (searches_log.created_at >= start) & (searches_log.created_at < start + DAY)
        searched = set(searches_log.user_index[in_day].tolist())
        started = (sessions.created_at >= start) & (sessions.created_at < start + DAY)
        only_searching += len(searched - set(sessions.user_index[started].tolist()))
    assert only_searching > 50


def test_the_log_depends_on_the_seed_only() -> None:
    end = NOW - timedelta(days=3)
    first, again = (generate_enterprise(seed=5, end=end, days=30) for _ in range(2))
    other = generate_enterprise(seed=6, end=end, days=30)
    assert np.array_equal(first.searches.created_at, again.searches.created_at)
    assert np.array_equal(first.searches.user_index, again.searches.user_index)
    assert not np.array_equal(first.searches.created_at, other.searches.created_at)


# -- the endpoint ----------------------------------------------------------------------------


def test_the_whole_log_is_counted_and_matches_the_pure_method(
    api: DemoAPI, enterprise: DemoEnterprise, components: dict[str, Any]
) -> None:
    whole = request(api, {"time_after": enterprise.start, "time_before": enterprise.end})
    validator(components, "SearchMetricsResponse").validate(whole.json())
    assert whole.json() == {"searches_created_count": len(enterprise.searches)}
    assert api.search_metrics(enterprise.start, enterprise.end) == whole.json()


@pytest.mark.parametrize("seed", range(8))
def test_adjacent_windows_add_up_to_their_union(
    api: DemoAPI, enterprise: DemoEnterprise, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    low = enterprise.start + int(rng.integers(0, 300 * DAY))
    middle = low + int(rng.integers(0, 30 * DAY))
    high = middle + int(rng.integers(1, 30 * DAY))
    org_ids = None if seed % 2 else [enterprise.organizations[seed % 5].org_id]
    filters = {} if org_ids is None else {"org_ids": org_ids}
    left = searches(api, time_after=low, time_before=middle, **filters)
    right = searches(api, time_after=middle, time_before=high, **filters)
    union = searches(api, time_after=low, time_before=high, **filters)
    assert left + right == union == brute_force(enterprise, api.now_timestamp, low, high, org_ids)


def test_daily_windows_add_up_to_the_month(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    first_day = enterprise.end - 40 * DAY
    days = [
        searches(api, time_after=first_day + i * DAY, time_before=first_day + (i + 1) * DAY)
        for i in range(30)
    ]
    assert sum(days) == searches(api, time_after=first_day, time_before=first_day + 30 * DAY)
    assert min(days) < max(days)  # weekends and working days differ


def test_windows_are_half_open(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    created_at = enterprise.searches.created_at
    moment = int(created_at[len(created_at) // 2])
    assert searches(api, time_after=moment, time_before=moment + 1) == int(
        (created_at == moment).sum()
    )
    assert searches(api, time_after=moment, time_before=moment) == 0
    assert searches(api, time_after=moment + 1, time_before=moment) == 0  # inverted


def test_the_org_filter_partitions_the_total(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    window = {"time_after": enterprise.end - 90 * DAY, "time_before": enterprise.end}
    total = searches(api, **window)
    per_org = [searches(api, **window, org_ids=[o.org_id]) for o in enterprise.organizations]
    assert all(count > 0 for count in per_org)
    assert sum(per_org) == total
    every_org = [o.org_id for o in enterprise.organizations]
    assert searches(api, **window, org_ids=every_org) == total
    two = every_org[:2]
    assert searches(api, **window, org_ids=two) == per_org[0] + per_org[1]
    assert searches(api, **window, org_ids=["org-000000000000"]) == 0
    assert api.search_metrics(window["time_after"], window["time_before"], org_ids=[]) == {
        "searches_created_count": 0
    }


def test_repeated_and_comma_joined_org_ids_are_the_same(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    window = [("time_after", enterprise.start), ("time_before", enterprise.end)]
    org_ids = [o.org_id for o in enterprise.organizations[:3]]
    repeated = request(api, [*window, *(("org_ids", o) for o in org_ids)])
    joined = request(api, [*window, ("org_ids", ",".join(org_ids))])
    assert repeated.status == 200
    assert repeated.body == joined.body


def test_a_window_in_the_future_counts_nothing(api: DemoAPI) -> None:
    now = api.now_timestamp
    assert searches(api, time_after=now, time_before=now + 30 * DAY) == 0
    assert searches(api, time_after=now + DAY, time_before=now + 2 * DAY) == 0


def test_now_hides_the_searches_that_have_not_happened_yet(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    created_at = enterprise.searches.created_at
    moment = int(created_at[-500])
    api.set_now(moment)
    counted = searches(api, time_after=enterprise.start, time_before=enterprise.end)
    assert counted == int((created_at < moment).sum()) < len(created_at)
    api.set_now(enterprise.end)
    assert searches(api, time_after=enterprise.start, time_before=enterprise.end) == len(created_at)


@pytest.mark.parametrize(("params", "detail"), BAD_WINDOWS)
def test_bad_parameters_get_422_like_the_sessions_endpoint(
    api: DemoAPI,
    components: dict[str, Any],
    params: dict[str, Any],
    detail: list[dict[str, Any]],
) -> None:
    response = request(api, params)
    sessions = api.handle(
        "GET",
        "/v3/enterprise/metrics/sessions",
        urlencode(params),
        {"Authorization": f"Bearer {DEMO_API_KEY}"},
    )
    assert response.status == sessions.status == 422
    assert response.json() == sessions.json() == {"detail": detail}
    validator(components, "HTTPValidationError").validate(response.json())


def test_a_token_without_view_account_metrics_gets_403(enterprise: DemoEnterprise) -> None:
    api = DemoAPI(
        enterprise,
        tokens={
            DEMO_KEY_WITHOUT_PERMISSIONS: frozenset(),
            "cog_directory": frozenset({"ViewOrganizations", "ViewAccountMembership"}),
            "cog_metrics": frozenset({"ViewAccountMetrics"}),
        },
    )
    window = {"time_after": enterprise.start, "time_before": enterprise.end}
    for token in (DEMO_KEY_WITHOUT_PERMISSIONS, "cog_directory"):
        # Authorization comes before the parameters, as with FastAPI's dependencies.
        for params in (window, {}):
            response = request(api, params, token=token)
            assert response.status == 403
            assert "ViewAccountMetrics" in response.json()["detail"]
    assert request(api, window, token="cog_metrics").status == 200


def test_no_token_gets_401_and_other_methods_405(api: DemoAPI) -> None:
    response = request(api, {"time_after": 0, "time_before": 1}, token=None)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    for method in ["POST", "PUT", "DELETE", "PATCH", "HEAD"]:
        response = request(api, method=method)
        assert (response.status, response.json()) == (405, {"detail": "Method Not Allowed"})
        assert response.headers["Allow"] == "GET"
