"""The API simulator: the metrics contract, the directory lists, errors, schemas, speed."""

from __future__ import annotations

import copy
import json
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
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
    NO_INDEX,
    ORIGINS,
    SIZES,
    DemoAPI,
    DemoEnterprise,
    DemoResponse,
    generate_enterprise,
)

#: A Monday inside the demo's history (it begins on 1 December 2025).
END = datetime(2026, 11, 30, tzinfo=timezone.utc)
DAY = 86400
DATA = Path(__file__).parent / "data"
METRICS = "/v3/enterprise/metrics/sessions"
LISTS = {
    "/v3/enterprise/organizations": ("PaginatedResponse_OrganizationResponse_", "org_id"),
    "/v3/enterprise/members/users": ("PaginatedResponse_User_", "user_id"),
    "/v3/enterprise/members/service-users": ("PaginatedResponse_ServiceUser_", "service_user_id"),
    "/v3/enterprise/playbooks": ("PaginatedResponse_PlaybookResponse_", "playbook_id"),
}
COUNT_FIELDS = (
    "sessions_created_count",
    "sessions_created_with_playbook_count",
    "sessions_created_with_search_count",
    "sessions_with_merged_prs_count",
)
BY_FIELDS = (
    "sessions_created_by_origin",
    "sessions_created_by_size",
    "sessions_with_merged_prs_by_size",
)


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def enterprise() -> DemoEnterprise:
    return generate_enterprise(end=END)


@pytest.fixture
def api(enterprise: DemoEnterprise) -> DemoAPI:
    return DemoAPI(enterprise)


def _nullable_to_union(schema: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` -> JSON Schema ``type: [T, "null"]``."""
    if isinstance(schema, dict):
        converted = {k: _nullable_to_union(v) for k, v in schema.items() if k != "nullable"}
        if schema.get("nullable") is True and "type" in schema:
            converted["type"] = [schema["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        return converted
    if isinstance(schema, list):
        return [_nullable_to_union(item) for item in schema]
    return schema


def _validator(components: Mapping[str, Any], name: str) -> jsonschema.Draft202012Validator:
    schema = {"$ref": f"#/components/schemas/{name}", "components": components}
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def metrics_components() -> dict[str, Any]:
    spec = yaml.safe_load((DATA / "session-metrics.openapi.yaml").read_text(encoding="utf-8"))
    return dict(spec["components"])


@pytest.fixture(scope="module")
def directory_components() -> dict[str, Any]:
    spec = json.loads((DATA / "directory.openapi.json").read_text(encoding="utf-8"))
    return dict(_nullable_to_union(spec["components"]))


def request(
    api: DemoAPI,
    path: str,
    params: Mapping[str, Any] | Sequence[tuple[str, Any]] = (),
    *,
    token: str | None = DEMO_API_KEY,
    method: str = "GET",
) -> DemoResponse:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return api.handle(method, path, urlencode(params, doseq=True), headers)


def metrics(api: DemoAPI, **params: Any) -> dict[str, Any]:
    response = request(api, METRICS, params)
    assert response.status == 200, response.body
    assert response.headers["Content-Type"] == "application/json"
    result: dict[str, Any] = response.json()
    return result


def brute_force(
    enterprise: DemoEnterprise,
    now: int,
    time_after: int,
    time_before: int,
    *,
    user_ids: Sequence[str] | None = None,
    service_user_ids: Sequence[str] | None = None,
    org_ids: Sequence[str] | None = None,
    playbook_id: str | None = None,
) -> dict[str, Any]:
    """The metrics, computed the slow and obvious way over the whole log."""
    log = enterprise.sessions
    keep = (log.created_at >= time_after) & (log.created_at < min(time_before, now))

    def index_of(items: Sequence[Any], attribute: str, wanted: Sequence[str]) -> list[int]:
        return [i for i, item in enumerate(items) if getattr(item, attribute) in wanted]

    if user_ids is not None:
        keep &= np.isin(log.user_index, index_of(enterprise.users, "user_id", user_ids))
    if service_user_ids is not None:
        chosen = index_of(enterprise.service_users, "service_user_id", service_user_ids)
        keep &= np.isin(log.service_user_index, chosen)
    if org_ids is not None:
        keep &= np.isin(log.org_index, index_of(enterprise.organizations, "org_id", org_ids))
    if playbook_id is not None:
        chosen = index_of(enterprise.playbooks, "playbook_id", [playbook_id])
        keep &= np.isin(log.playbook_index, chosen)
    size = log.size_code[keep]
    merged = log.merged_at[keep] <= now
    elapsed = (now - log.created_at[keep]) / (log.acus_done_at[keep] - log.created_at[keep])
    acus = log.acus[keep] * np.clip(elapsed, 0.0, 1.0)
    count = int(keep.sum())
    return {
        "sessions_created_count": count,
        "sessions_created_by_size": {s: int((size == i).sum()) for i, s in enumerate(SIZES)},
        "sessions_created_by_origin": {
            o: int((log.origin_code[keep] == i).sum()) for i, o in enumerate(ORIGINS)
        },
        "sessions_created_with_playbook_count": int((log.playbook_index[keep] != NO_INDEX).sum()),
        "sessions_created_with_search_count": int(log.used_search[keep].sum()),
        "sessions_with_merged_prs_count": int(merged.sum()),
        "sessions_with_merged_prs_by_size": {
            s: int((size[merged] == i).sum()) for i, s in enumerate(SIZES)
        },
        "avg_acus_per_session": float(acus.sum() / count) if count else 0.0,
    }


def assert_same_metrics(actual: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    assert {k: v for k, v in actual.items() if k != "avg_acus_per_session"} == {
        k: v for k, v in expected.items() if k != "avg_acus_per_session"
    }
    assert actual["avg_acus_per_session"] == pytest.approx(expected["avg_acus_per_session"])


def random_filters(enterprise: DemoEnterprise, rng: np.random.Generator) -> dict[str, Any]:
    """A random combination of filters, each present or not."""
    filters: dict[str, Any] = {}
    if rng.random() < 0.5:
        chosen = rng.choice(len(enterprise.users), size=int(rng.integers(1, 30)), replace=False)
        filters["user_ids"] = [enterprise.users[i].user_id for i in chosen]
    if rng.random() < 0.3:
        chosen = rng.choice(len(enterprise.service_users), size=2, replace=False)
        filters["service_user_ids"] = [enterprise.service_users[i].service_user_id for i in chosen]
    if rng.random() < 0.5:
        chosen = rng.choice(len(enterprise.organizations), size=2, replace=False)
        filters["org_ids"] = [enterprise.organizations[i].org_id for i in chosen]
    if rng.random() < 0.4:
        filters["playbook_id"] = enterprise.playbooks[int(rng.integers(3))].playbook_id
    return filters


def median_seconds(function: Callable[[], object], repeats: int = 200) -> float:
    """Median wall time of `function`, in seconds, over `repeats` calls (after a warm-up)."""
    function()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


# -- the metrics endpoint ------------------------------------------------------------------


def test_whole_log_matches_brute_force(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    result = metrics(api, time_after=enterprise.start, time_before=enterprise.end)
    assert result["sessions_created_count"] == len(enterprise.sessions)
    assert list(result) == [
        "sessions_created_count",
        "sessions_created_by_size",
        "sessions_created_by_origin",
        "sessions_created_with_playbook_count",
        "sessions_created_with_search_count",
        "sessions_with_merged_prs_count",
        "sessions_with_merged_prs_by_size",
        "avg_acus_per_session",
    ]
    assert list(result["sessions_created_by_origin"]) == list(ORIGINS)
    assert list(result["sessions_created_by_size"]) == list(SIZES)
    assert_same_metrics(
        result, brute_force(enterprise, enterprise.end, enterprise.start, enterprise.end)
    )


def test_windows_are_half_open(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    created_at = enterprise.sessions.created_at
    moment = int(created_at[len(created_at) // 2])
    at_moment = int((created_at == moment).sum())
    assert (
        metrics(api, time_after=moment, time_before=moment + 1)["sessions_created_count"]
        == at_moment
    )
    before = metrics(api, time_after=moment - 3600, time_before=moment)["sessions_created_count"]
    assert before == int(((created_at >= moment - 3600) & (created_at < moment)).sum())
    assert metrics(api, time_after=moment, time_before=moment)["sessions_created_count"] == 0


def test_empty_and_inverted_windows_give_zeros(
    api: DemoAPI, metrics_components: dict[str, Any]
) -> None:
    for time_after, time_before in [(0, 1000), (2000, 1000), (-(2**70), -(2**69)), (0, 2**80)]:
        result = metrics(api, time_after=time_after, time_before=time_before)
        _validator(metrics_components, "SessionMetricsResponse").validate(result)
        if time_before <= 1000:
            assert result["sessions_created_count"] == 0
            assert result["avg_acus_per_session"] == 0.0
            assert set(result["sessions_created_by_origin"].values()) == {0}


@pytest.mark.parametrize("seed", range(6))
def test_daily_windows_add_up_to_the_whole_range(
    api: DemoAPI, enterprise: DemoEnterprise, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    filters = random_filters(enterprise, rng)
    first_day = enterprise.end - int(rng.integers(20, 300)) * DAY
    days = [
        metrics(
            api, time_after=first_day + i * DAY, time_before=first_day + (i + 1) * DAY, **filters
        )
        for i in range(30)
    ]
    whole = metrics(api, time_after=first_day, time_before=first_day + 30 * DAY, **filters)
    for name in COUNT_FIELDS:
        assert sum(day[name] for day in days) == whole[name], name
    for name in BY_FIELDS:
        for key in whole[name]:
            assert sum(day[name][key] for day in days) == whole[name][key], (name, key)
    if whole["sessions_created_count"]:
        weighted = sum(d["avg_acus_per_session"] * d["sessions_created_count"] for d in days)
        combined = weighted / whole["sessions_created_count"]
        assert combined == pytest.approx(whole["avg_acus_per_session"], rel=1e-9)


@pytest.mark.parametrize("seed", range(12))
def test_filters_match_brute_force(api: DemoAPI, enterprise: DemoEnterprise, seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    filters = random_filters(enterprise, rng)
    time_after = enterprise.start + int(rng.integers(0, 200)) * DAY
    time_before = time_after + int(rng.integers(1, 160)) * DAY
    result = metrics(api, time_after=time_after, time_before=time_before, **filters)
    expected = brute_force(enterprise, api.now_timestamp, time_after, time_before, **filters)
    assert_same_metrics(result, expected)
    direct = api.session_metrics(time_after, time_before, **filters)
    assert_same_metrics(direct, expected)


def test_lists_match_any_id_and_filters_combine_with_and(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    window = {"time_after": enterprise.start, "time_before": enterprise.end}
    platform, growth = (enterprise.organization_named(n).org_id for n in ("Platform", "Growth"))
    both = metrics(api, **window, org_ids=[platform, growth])["sessions_created_count"]
    one = metrics(api, **window, org_ids=[platform])["sessions_created_count"]
    other = metrics(api, **window, org_ids=[growth])["sessions_created_count"]
    assert both == one + other > 0
    platform_user = next(u for u in enterprise.users if u.org_index == 0)
    in_org = metrics(api, **window, user_ids=[platform_user.user_id], org_ids=[platform])
    not_in_org = metrics(api, **window, user_ids=[platform_user.user_id], org_ids=[growth])
    assert in_org["sessions_created_count"] > 0
    assert not_in_org["sessions_created_count"] == 0
    creators = {
        "user_ids": [platform_user.user_id],
        "service_user_ids": [enterprise.service_users[0].service_user_id],
    }
    assert metrics(api, **window, **creators)["sessions_created_count"] == 0
    unknown = metrics(api, **window, org_ids=["org-000000000000"], playbook_id="playbook-x")
    assert unknown["sessions_created_count"] == 0


def test_repeated_and_comma_joined_lists_are_the_same(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    window = [("time_after", enterprise.start), ("time_before", enterprise.end)]
    org_ids = [o.org_id for o in enterprise.organizations[:3]]
    user_ids = [u.user_id for u in enterprise.users[:40:3]]
    repeated = request(
        api,
        METRICS,
        [*window, *(("org_ids", o) for o in org_ids), *(("user_ids", u) for u in user_ids)],
    )
    joined = request(
        api, METRICS, [*window, ("org_ids", ",".join(org_ids)), ("user_ids", ",".join(user_ids))]
    )
    mixed = request(
        api,
        METRICS,
        [
            *window,
            ("org_ids", org_ids[0]),
            ("org_ids", ",".join(org_ids[1:])),
            ("user_ids", ",".join(user_ids)),
        ],
    )
    assert repeated.status == 200
    assert repeated.body == joined.body == mixed.body


def test_now_hides_the_future_and_moves_forward(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    assert api.now == datetime.fromtimestamp(enterprise.end, tz=timezone.utc)
    recent = {"time_after": enterprise.end - 3 * DAY, "time_before": enterprise.end}
    older = {"time_after": enterprise.end - 60 * DAY, "time_before": enterprise.end - 30 * DAY}
    recent_then, older_then = metrics(api, **recent), metrics(api, **older)
    api.set_now(END + timedelta(days=10))
    recent_later, older_later = metrics(api, **recent), metrics(api, **older)
    assert recent_later["sessions_created_count"] == recent_then["sessions_created_count"]
    assert (
        recent_later["sessions_with_merged_prs_count"]
        > recent_then["sessions_with_merged_prs_count"]
    )
    assert recent_later["avg_acus_per_session"] > recent_then["avg_acus_per_session"]
    assert older_later == older_then
    assert_same_metrics(recent_later, brute_force(enterprise, api.now_timestamp, **recent))
    # Going back in time: sessions created at or after now do not exist yet.
    moment = int(enterprise.sessions.created_at[-100])
    api.now = datetime.fromtimestamp(moment, tz=timezone.utc)
    result = metrics(api, time_after=moment - DAY, time_before=enterprise.end)
    created_at = enterprise.sessions.created_at
    assert result["sessions_created_count"] == int(
        ((created_at >= moment - DAY) & (created_at < moment)).sum()
    )


def test_now_can_be_given_at_construction(enterprise: DemoEnterprise) -> None:
    earlier = END - timedelta(days=100)
    api = DemoAPI(enterprise, now=earlier)
    assert api.now == earlier
    result = metrics(api, time_after=enterprise.start, time_before=enterprise.end)
    expected = brute_force(enterprise, int(earlier.timestamp()), enterprise.start, enterprise.end)
    assert_same_metrics(result, expected)
    with pytest.raises(ValueError, match="timezone-aware"):
        api.set_now(datetime(2025, 1, 1))


def test_responses_validate_against_the_schema(
    api: DemoAPI, enterprise: DemoEnterprise, metrics_components: dict[str, Any]
) -> None:
    validator = _validator(metrics_components, "SessionMetricsResponse")
    rng = np.random.default_rng(7)
    for _ in range(20):
        time_after = enterprise.start + int(rng.integers(0, 360)) * DAY
        result = metrics(
            api,
            time_after=time_after,
            time_before=time_after + 7 * DAY,
            **random_filters(enterprise, rng),
        )
        validator.validate(result)
        assert isinstance(result["avg_acus_per_session"], float)


def test_aggregation_speed_is_reported(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    whole = median_seconds(lambda: api.session_metrics(enterprise.start, enterprise.end))
    platform = enterprise.organizations[0].org_id
    filtered = median_seconds(
        lambda: api.session_metrics(enterprise.start, enterprise.end, org_ids=[platform])
    )
    print(
        f"\nsession_metrics over {len(enterprise.sessions)} sessions: median "
        f"{whole * 1e6:.0f} us unfiltered, {filtered * 1e6:.0f} us with org_ids"
    )


# -- errors --------------------------------------------------------------------------------


def _missing(name: str) -> dict[str, Any]:
    return {"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None}


def _not_an_integer(name: str, value: str) -> dict[str, Any]:
    return {
        "type": "int_parsing",
        "loc": ["query", name],
        "msg": "Input should be a valid integer, unable to parse string as an integer",
        "input": value,
    }


#: Bad windows and the 422 ``detail`` each gets (also from the searches endpoint).
BAD_WINDOWS: list[tuple[dict[str, Any], list[dict[str, Any]]]] = [
    ({"time_after": 0}, [_missing("time_before")]),
    ({}, [_missing("time_before"), _missing("time_after")]),
    ({"time_after": "abc", "time_before": 10}, [_not_an_integer("time_after", "abc")]),
    ({"time_after": "abc"}, [_missing("time_before"), _not_an_integer("time_after", "abc")]),
    (
        {"time_after": "1.5", "time_before": ""},
        [_not_an_integer("time_before", ""), _not_an_integer("time_after", "1.5")],
    ),
    (
        {"time_after": "1e3", "time_before": 5, "org_ids": "x"},
        [_not_an_integer("time_after", "1e3")],
    ),
]


@pytest.mark.parametrize(("params", "detail"), BAD_WINDOWS)
def test_validation_errors_have_fastapis_shape(
    api: DemoAPI,
    metrics_components: dict[str, Any],
    params: dict[str, Any],
    detail: list[dict[str, Any]],
) -> None:
    response = request(api, METRICS, params)
    assert response.status == 422
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"detail": detail}
    _validator(metrics_components, "HTTPValidationError").validate(response.json())


def test_integers_are_parsed_like_pydantic(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    spaced = request(
        api, METRICS, {"time_after": f" {enterprise.start} ", "time_before": enterprise.end}
    )
    assert spaced.status == 200
    last_wins = request(
        api,
        METRICS,
        [("time_after", "abc"), ("time_after", enterprise.start), ("time_before", enterprise.end)],
    )
    assert last_wins.json()["sessions_created_count"] == len(enterprise.sessions)


@pytest.mark.parametrize(
    ("path", "params", "detail"),
    [
        (
            "/v3/enterprise/organizations",
            {"first": 0},
            [
                {
                    "type": "greater_than_equal",
                    "loc": ["query", "first"],
                    "msg": "Input should be greater than or equal to 1",
                    "input": "0",
                    "ctx": {"ge": 1},
                }
            ],
        ),
        (
            "/v3/enterprise/members/users",
            {"first": 201},
            [
                {
                    "type": "less_than_equal",
                    "loc": ["query", "first"],
                    "msg": "Input should be less than or equal to 200",
                    "input": "201",
                    "ctx": {"le": 200},
                }
            ],
        ),
        ("/v3/enterprise/playbooks", {"first": "ten"}, [_not_an_integer("first", "ten")]),
        (
            "/v3/enterprise/members/service-users",
            {"first": -1, "include_inactive": "maybe"},
            [
                {
                    "type": "greater_than_equal",
                    "loc": ["query", "first"],
                    "msg": "Input should be greater than or equal to 1",
                    "input": "-1",
                    "ctx": {"ge": 1},
                },
                {
                    "type": "bool_parsing",
                    "loc": ["query", "include_inactive"],
                    "msg": "Input should be a valid boolean, unable to interpret input",
                    "input": "maybe",
                },
            ],
        ),
    ],
)
def test_directory_validation_errors(
    api: DemoAPI, path: str, params: dict[str, Any], detail: list[dict[str, Any]]
) -> None:
    response = request(api, path, params)
    assert response.status == 422
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    "authorization",
    [None, "cog_demo_key", "Basic cog_demo_key", "Bearer", "Bearer   ", "Bearer cog_unknown"],
)
def test_missing_or_bad_credentials_get_401(api: DemoAPI, authorization: str | None) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    response = api.handle("GET", METRICS, "time_after=0&time_before=1", headers)
    assert response.status == 401
    assert isinstance(response.json()["detail"], str)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_bearer_scheme_is_case_insensitive(api: DemoAPI) -> None:
    response = api.handle(
        "GET", METRICS, "time_after=0&time_before=1", {"AUTHORIZATION": "bearer cog_demo_key"}
    )
    assert response.status == 200


@pytest.mark.parametrize(
    ("path", "permission"),
    [
        (METRICS, "ViewAccountMetrics"),
        ("/v3/enterprise/organizations", "ViewOrganizations"),
        ("/v3/enterprise/members/users", "ViewAccountMembership"),
        ("/v3/enterprise/members/service-users", "ViewAccountMembership"),
        ("/v3/enterprise/playbooks", "ViewPlaybooks"),
    ],
)
def test_known_token_without_permission_gets_403(api: DemoAPI, path: str, permission: str) -> None:
    # Authorization is checked before the parameters, as FastAPI's dependencies do.
    response = request(api, path, {}, token=DEMO_KEY_WITHOUT_PERMISSIONS)
    assert response.status == 403
    assert permission in response.json()["detail"]


def test_custom_tokens(enterprise: DemoEnterprise) -> None:
    api = DemoAPI(enterprise, tokens={"cog_reader": frozenset({"ViewAccountMetrics"})})
    assert (
        request(api, METRICS, {"time_after": 0, "time_before": 1}, token="cog_reader").status == 200
    )
    assert request(api, "/v3/enterprise/playbooks", token="cog_reader").status == 403
    assert request(api, METRICS, {"time_after": 0, "time_before": 1}).status == 401


def test_unknown_path_gets_404_and_other_methods_405(api: DemoAPI) -> None:
    for path in [
        "/",
        "/v3/enterprise/metrics/unknown",
        "/v3beta1/enterprise/metrics/sessions",
        METRICS + "/",
    ]:
        response = request(api, path, token=None)
        assert (response.status, response.json()) == (404, {"detail": "Not Found"})
    for method in ["POST", "PUT", "DELETE", "PATCH", "HEAD"]:
        response = request(api, METRICS, method=method)
        assert (response.status, response.json()) == (405, {"detail": "Method Not Allowed"})
        assert response.headers["Allow"] == "GET"


# -- directory endpoints -------------------------------------------------------------------


def walk_pages(api: DemoAPI, path: str, first: int, **params: Any) -> list[dict[str, Any]]:
    """Every page of a list, following `end_cursor`."""
    pages: list[dict[str, Any]] = []
    after: str | None = None
    while True:
        query = {"first": first, **params, **({} if after is None else {"after": after})}
        response = request(api, path, query)
        assert response.status == 200, response.body
        page = response.json()
        pages.append(page)
        if not page["has_next_page"]:
            assert page["end_cursor"] is None
            return pages
        assert page["end_cursor"] is not None
        assert len(page["items"]) == first
        after = page["end_cursor"]


@pytest.mark.parametrize("path", list(LISTS))
@pytest.mark.parametrize("first", [1, 2, 7, 200])
def test_pagination_walks_every_item_once(
    api: DemoAPI, directory_components: dict[str, Any], path: str, first: int
) -> None:
    schema_name, id_field = LISTS[path]
    validator = _validator(directory_components, schema_name)
    everything = request(
        api,
        path,
        {"first": 200, "include_inactive": "true"} if "service" in path else {"first": 200},
    ).json()
    params = {"include_inactive": "true"} if "service" in path else {}
    pages = walk_pages(api, path, first, **params)
    for page in pages:
        validator.validate(page)
        assert page["total"] == everything["total"]
    ids = [item[id_field] for page in pages for item in page["items"]]
    assert ids == [item[id_field] for item in everything["items"]]
    assert len(set(ids)) == len(ids) == everything["total"]


def test_default_page_size_is_100(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    page = request(api, "/v3/enterprise/members/users").json()
    assert len(page["items"]) == 100
    assert page["has_next_page"] is True
    assert page["total"] == len(enterprise.users)


def test_directory_items_match_the_enterprise(
    api: DemoAPI, enterprise: DemoEnterprise, directory_components: dict[str, Any]
) -> None:
    organizations = request(api, "/v3/enterprise/organizations").json()["items"]
    assert [o["name"] for o in organizations] == [o.name for o in enterprise.organizations]
    playbooks = request(api, "/v3/enterprise/playbooks").json()["items"]
    for item in playbooks:
        assert item["access_type"] == ("enterprise" if item["org_id"] is None else "org")
    # Items carry every required field, nulls included.
    schemas = directory_components["schemas"]
    for path, (page_schema, _) in LISTS.items():
        item_schema = schemas[page_schema]["properties"]["items"]["items"]["$ref"].split("/")[-1]
        required = set(schemas[item_schema]["required"])
        items = request(api, path, {"first": 200, "include_inactive": "true"}).json()["items"]
        assert items
        assert all(required <= set(item) for item in items), path


def test_users_can_be_filtered_by_exact_email(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    user = enterprise.users[42]
    found = request(api, "/v3/enterprise/members/users", {"email": user.email}).json()
    assert [item["user_id"] for item in found["items"]] == [user.user_id]
    assert (found["total"], found["has_next_page"], found["end_cursor"]) == (1, False, None)
    assert (
        request(api, "/v3/enterprise/members/users", {"email": user.email.upper()}).json()["total"]
        == 0
    )


def test_inactive_service_users_are_hidden_by_default(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    path = "/v3/enterprise/members/service-users"
    inactive = next(su for su in enterprise.service_users if su.deleted_at is not None)
    active = request(api, path).json()
    every = request(api, path, {"include_inactive": "true"}).json()
    assert inactive.service_user_id not in {i["service_user_id"] for i in active["items"]}
    assert every["total"] == active["total"] + 1 == len(enterprise.service_users)
    assert request(api, path, {"include_inactive": "false"}).json() == active
    assert inactive.deleted_at is not None
    api.set_now(inactive.deleted_at - 1)
    assert request(api, path).json()["total"] == len(enterprise.service_users)


@pytest.mark.parametrize("after", ["", "not-base64!", "ZGVtbw==", "ZGVtby1jdXJzb3I6bm9ib2R5"])
def test_invalid_cursor_is_a_400(api: DemoAPI, after: str) -> None:
    response = request(api, "/v3/enterprise/organizations", {"after": after})
    assert response.status == 400
    assert "cursor" in response.json()["detail"]


def test_cursor_of_another_list_is_refused(api: DemoAPI) -> None:
    users = request(api, "/v3/enterprise/members/users", {"first": 1}).json()
    response = request(api, "/v3/enterprise/playbooks", {"after": users["end_cursor"]})
    assert response.status == 400


def test_metrics_responses_are_not_mutated_between_calls(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    first = api.session_metrics(enterprise.start, enterprise.end)
    snapshot = copy.deepcopy(first)
    first["sessions_created_by_size"]["xs"] = -1
    assert api.session_metrics(enterprise.start, enterprise.end) == snapshot
