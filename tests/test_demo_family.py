"""The demo serves the whole metrics family, at enterprise and organization scope.

Every answer of every path validates against the compiled schema
(``tests/data/metrics-family.openapi.yaml``, a copy of the shared contract); the identities the
docs imply hold on the demo (PRs created = open + merged + closed, a day's ACUs = the sum of its
products, usage = the other endpoints, organizations add up, DAU <= WAU <= sum of DAU); an
organization-scoped key stays in its organization; the strict list formats read lists as
they say; Cognition's own SDK parses the organization-scoped answers with strict validation.
"""

from __future__ import annotations

import copy
import io
import itertools
import threading
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jsonschema
import numpy as np
import pytest
import requests
import yaml

from metrics_toolkit.demo import (
    DEMO_API_KEY,
    DEMO_ORG_API_KEY,
    DemoAPI,
    DemoEnterprise,
    DemoResponse,
    DemoServer,
    generate_enterprise,
    serve_forever,
)
from metrics_toolkit.demo.activity import MAX_PERIODS
from metrics_toolkit.demo.categories import category_names
from metrics_toolkit.demo.consumption import BILLING_DAY_OFFSET, PRODUCTS
from metrics_toolkit.demo.enterprise import FIRST_DAY_START
from metrics_toolkit.demo.prs import NO_PR
from metrics_toolkit.demo.routes import ROUTES

from .conftest import NOW

SPEC_PATH = Path(__file__).parent / "data" / "metrics-family.openapi.yaml"
DIRECTORY_PATHS = {
    "/v3/enterprise/organizations",
    "/v3/enterprise/members/users",
    "/v3/enterprise/members/service-users",
    "/v3/enterprise/playbooks",
}
DAY = 86400
HOUR = 3600
NOW_TS = int(NOW.timestamp())
TIMEOUT = 10


def _at(moment: str) -> int:
    return int(datetime.fromisoformat(moment).replace(tzinfo=timezone.utc).timestamp())


#: Windows asked of every path: a closed week, the open week around now, a month, a day, a
#: window before the history, one straddling its start, an empty one, a future one.
WINDOWS = {
    "closed week": (_at("2026-11-16"), _at("2026-11-23")),
    "open week": (_at("2026-11-23"), _at("2026-11-30")),
    "month": (_at("2026-10-01"), _at("2026-11-01")),
    "odd hours": (_at("2026-06-03T09:17"), _at("2026-06-05T16:41")),
    "before history": (_at("2025-11-01"), _at("2025-11-20")),
    "straddling": (_at("2025-11-24"), _at("2025-12-08")),
    "empty": (_at("2026-11-16"), _at("2026-11-16")),
    "future": (_at("2026-12-07"), _at("2026-12-14")),
}


# -- fixtures and helpers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def api(enterprise: DemoEnterprise) -> DemoAPI:
    return DemoAPI(enterprise, now=NOW)


def _closed(schema: Any) -> Any:
    """`schema` with ``additionalProperties: false`` wherever it declares properties and says
    nothing of others: the demo sends no field the contract does not name."""
    if isinstance(schema, dict):
        closed = {key: _closed(value) for key, value in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


def validator(
    spec: Mapping[str, Any], schema: Mapping[str, Any], *, closed: bool = True
) -> jsonschema.Validator:
    """A validator of `schema` whose ``#/components/...`` references resolve in `spec`; closed
    (no undeclared field) unless `closed` is False."""
    document = {**copy.deepcopy(dict(schema)), "components": copy.deepcopy(spec["components"])}
    return jsonschema.Draft202012Validator(_closed(document) if closed else document)


def response_schema(spec: Mapping[str, Any], template: str, status: str) -> Mapping[str, Any]:
    content = spec["paths"][template]["get"]["responses"][status]["content"]
    schema: Mapping[str, Any] = content["application/json"]["schema"]
    return schema


def get(
    api: DemoAPI, path: str, params: Mapping[str, Any] | None = None, token: str = DEMO_API_KEY
) -> DemoResponse:
    query = urlencode(params or {}, doseq=True)
    return api.handle("GET", path, query, {"Authorization": f"Bearer {token}"})


def ok(api: DemoAPI, path: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
    response = get(api, path, params, **kw)
    assert response.status == 200, (path, params, response.body)
    return response.json()


def window(time_after: int, time_before: int) -> dict[str, int]:
    return {"time_after": time_after, "time_before": time_before}


def fill(template: str, values: Mapping[str, str]) -> str:
    return template.format(**values)


@pytest.fixture(scope="module")
def ids(enterprise: DemoEnterprise) -> dict[str, str]:
    """Path values inside the first organization (the organization key's): an organization,
    a person, a service user and a recent session of it."""
    log = enterprise.sessions
    recent = np.flatnonzero((log.org_index == 0) & (log.created_at < NOW_TS - 2 * DAY))[-1]
    return {
        "org_id": enterprise.organizations[0].org_id,
        "user_id": next(u.user_id for u in enterprise.users if u.org_index == 0),
        "service_user_id": next(
            su.service_user_id for su in enterprise.service_users if su.org_index == 0
        ),
        "session_id": log.session_id(int(recent)),
    }


def _time_parameters(operation: Mapping[str, Any]) -> str | None:
    """ "required", "optional" or None: how an operation takes ``time_after``/``time_before``."""
    refs = {parameter["$ref"].rsplit("/", 1)[1] for parameter in operation["parameters"]}
    if "TimeAfterRequired" in refs:
        return "required"
    return "optional" if "TimeAfterOptional" in refs else None


#: Fields that hold times (and the page's total), not activity.
_TIMES = {"start_time", "end_time", "date", "after", "before", "total"}


def _has_activity(answer: Any) -> bool:
    """Whether some count or amount of `answer` (not a time) is above 0."""
    if isinstance(answer, dict):
        return any(
            _has_activity(value)
            for key, value in answer.items()
            if key not in _TIMES or isinstance(value, (dict, list))
        )
    if isinstance(answer, list):
        return any(_has_activity(item) for item in answer)
    return isinstance(answer, (int, float)) and not isinstance(answer, bool) and answer > 0


# -- the paths -------------------------------------------------------------------------------


def test_the_demo_serves_exactly_the_paths_of_the_contract(spec: dict[str, Any]) -> None:
    served = {route.template for route in ROUTES}
    assert len(spec["paths"]) == 28
    assert served == set(spec["paths"]) | DIRECTORY_PATHS


def test_every_answer_of_every_path_validates_against_the_schema(
    api: DemoAPI, spec: dict[str, Any], ids: dict[str, str]
) -> None:
    nonzero: set[str] = set()
    checked = 0
    for template, item in spec["paths"].items():
        operation = item["get"]
        check = validator(spec, response_schema(spec, template, "200"))
        path = fill(template, ids)
        tokens = [DEMO_API_KEY]
        if template.startswith("/v3/organizations/"):
            tokens.append(DEMO_ORG_API_KEY)
        how = _time_parameters(operation)
        queries: list[dict[str, Any]] = [window(*w) for w in WINDOWS.values()]
        if how is None:  # the billing cycles: pages
            queries = [{}, {"first": 1}, {"first": 200}]
        elif how == "optional":
            queries += [{}, {"time_after": WINDOWS["month"][0]}, {"time_before": NOW_TS}]
        for token, params in itertools.product(tokens, queries):
            answer = ok(api, path, params, token=token)
            check.validate(answer)
            checked += 1
            if _has_activity(answer):
                nonzero.add(template)
    assert checked > 300
    # every path answered something other than zeros for some window (the cycles hold times)
    assert nonzero == set(spec["paths"]) - {"/v3/enterprise/consumption/cycles"}


def test_a_missing_or_malformed_window_is_a_422_of_the_declared_shape(
    api: DemoAPI, spec: dict[str, Any], ids: dict[str, str]
) -> None:
    for template, item in spec["paths"].items():
        operation = item["get"]
        path = fill(template, ids)
        how = _time_parameters(operation)
        # pydantic v2 adds "input" (and "ctx", "url") to each error: the schema leaves it open
        check = validator(spec, response_schema(spec, template, "422"), closed=False)
        malformed = get(api, path, {"time_after": "abc", "time_before": "1.5"})
        if how is None:
            assert malformed.status == 200  # the cycles take no window
            continue
        assert malformed.status == 422, template
        check.validate(malformed.json())
        assert [(e["loc"], e["type"]) for e in malformed.json()["detail"]] == [
            (["query", "time_before"], "int_parsing"),
            (["query", "time_after"], "int_parsing"),
        ]
        missing = get(api, path)
        if how == "required":
            assert missing.status == 422, template
            check.validate(missing.json())
            assert [e["loc"] for e in missing.json()["detail"]] == [
                ["query", "time_before"],
                ["query", "time_after"],
            ]
        else:
            assert missing.status == 200, template


def test_thresholds_and_pages_are_checked(api: DemoAPI, ids: dict[str, str]) -> None:
    for path in ("/v3/enterprise/metrics/dau", fill("/v3/organizations/{org_id}/metrics/wau", ids)):
        response = get(api, path, {**window(*WINDOWS["month"]), "min_sessions": -1})
        assert response.status == 422
        (problem,) = response.json()["detail"]
        assert (problem["loc"], problem["type"]) == (
            ["query", "min_sessions"],
            "greater_than_equal",
        )
    response = get(api, "/v3/enterprise/metrics/active-users", {"min_searches": "x"})
    assert [e["loc"][-1] for e in response.json()["detail"]] == [
        "time_before",
        "time_after",
        "min_searches",
    ]
    assert get(api, "/v3/enterprise/consumption/cycles", {"first": 0}).status == 422
    assert get(api, "/v3/enterprise/consumption/cycles", {"first": 201}).status == 422
    too_long = get(api, "/v3/enterprise/metrics/dau", window(0, (MAX_PERIODS + 1) * DAY))
    assert too_long.status == 422
    assert too_long.json()["detail"][0]["type"] == "value_error"
    assert get(api, "/v3/enterprise/metrics/mau", window(0, (MAX_PERIODS + 1) * DAY)).status == 200


# -- PRs ---------------------------------------------------------------------------------------


PR_STATES = ("prs_opened_count", "prs_merged_count", "prs_closed_count")
TAKEN_OVER_STATES = (
    "prs_taken_over_opened_count",
    "prs_taken_over_merged_count",
    "prs_taken_over_closed_count",
)


def test_prs_created_are_open_plus_merged_plus_closed_in_every_window(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    filters: list[dict[str, Any]] = [
        {},
        {"org_ids": enterprise.organizations[2].org_id},
        {"user_ids": [u.user_id for u in enterprise.users[:20]]},
        {"service_user_ids": enterprise.service_users[0].service_user_id},
        {"playbook_id": enterprise.playbooks[0].playbook_id},
    ]
    states_seen: set[str] = set()
    for (time_after, time_before), extra in itertools.product(WINDOWS.values(), filters):
        prs = ok(api, "/v3/enterprise/metrics/prs", {**window(time_after, time_before), **extra})
        assert prs["prs_created_count"] == sum(prs[name] for name in PR_STATES)
        assert prs["prs_taken_over_count"] == sum(prs[name] for name in TAKEN_OVER_STATES)
        states_seen.update(name for name in (*PR_STATES, *TAKEN_OVER_STATES) if prs[name])
    assert states_seen == {*PR_STATES, *TAKEN_OVER_STATES}


def test_organizations_prs_add_up_to_the_enterprises(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    for time_after, time_before in (WINDOWS["closed week"], WINDOWS["open week"], WINDOWS["month"]):
        whole = ok(api, "/v3/enterprise/metrics/prs", window(time_after, time_before))
        parts = [
            ok(api, f"/v3/organizations/{o.org_id}/metrics/prs", window(time_after, time_before))
            for o in enterprise.organizations
        ]
        assert whole["prs_created_count"] > 0
        for name, total in whole.items():
            assert sum(part[name] for part in parts) == total, name
        # and over disjoint windows: the days of the week add up to the week (created)
        days = [
            ok(api, "/v3/enterprise/metrics/prs", window(t, min(t + DAY, time_before)))
            for t in range(time_after, time_before, DAY)
        ]
        assert sum(day["prs_created_count"] for day in days) == whole["prs_created_count"]


def test_pr_states_are_those_of_now(enterprise: DemoEnterprise) -> None:
    """A week's PRs: created stays, open ones get merged or closed as now moves on."""
    week = window(*WINDOWS["closed week"])
    answers = []
    for hours in (0, 24, 72, 24 * 10, 24 * 40):
        later = DemoAPI(enterprise, now=NOW + timedelta(hours=hours))
        answers.append(ok(later, "/v3/enterprise/metrics/prs", week))
    assert len({answer["prs_created_count"] for answer in answers}) == 1
    for earlier, later_answer in itertools.pairwise(answers):
        assert later_answer["prs_opened_count"] <= earlier["prs_opened_count"]
        assert later_answer["prs_merged_count"] >= earlier["prs_merged_count"]
        assert later_answer["prs_closed_count"] >= earlier["prs_closed_count"]
    assert answers[-1]["prs_opened_count"] < answers[0]["prs_opened_count"]
    assert answers[-1]["prs_opened_count"] > 0  # some PRs stay open for good


def test_every_merged_session_opened_its_pr_before_the_merge(enterprise: DemoEnterprise) -> None:
    log = enterprise.sessions
    merged = log.merged_at != np.iinfo(np.int64).max
    has_pr = log.pr_at != NO_PR
    assert has_pr[merged].all() and not has_pr.all()
    assert (log.pr_at[has_pr] > log.created_at[has_pr]).all()
    assert (log.pr_at[merged] < log.merged_at[merged]).all()
    closed = log.pr_closed_at != NO_PR
    assert not (closed & merged).any()
    assert (log.pr_at[closed] < log.pr_closed_at[closed]).all()
    assert 0 < log.pr_taken_over.mean() < 0.2
    assert not log.pr_taken_over[~has_pr].any()


# -- usage and categories ----------------------------------------------------------------------


def test_usage_is_what_the_sessions_searches_and_prs_endpoints_say(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    org_id = enterprise.organizations[3].org_id
    scopes = [
        ("/v3/enterprise/metrics", "/v3/enterprise/metrics/usage"),
        (
            f"/v3/organizations/{org_id}/metrics",
            f"/v3/enterprise/organizations/{org_id}/metrics/usage",
        ),
        (f"/v3/organizations/{org_id}/metrics", f"/v3/organizations/{org_id}/metrics/usage"),
    ]
    for (prefix, usage_path), (time_after, time_before) in itertools.product(
        scopes, WINDOWS.values()
    ):
        params = window(time_after, time_before)
        usage = ok(api, usage_path, params)
        sessions = ok(api, f"{prefix}/sessions", params)
        searches = ok(api, f"{prefix}/searches", params)
        prs = ok(api, f"{prefix}/prs", params)
        assert usage == {
            "sessions_count": sessions["sessions_created_count"],
            "searches_count": searches["searches_created_count"],
            "prs_created_count": prs["prs_created_count"],
            "prs_merged_count": prs["prs_merged_count"],
        }
    # without a window: the current billing cycle up to now
    cycle = ok(api, "/v3/enterprise/consumption/cycles")["items"][-1]
    assert cycle["after"] <= NOW_TS < cycle["before"]
    assert ok(api, "/v3/enterprise/metrics/usage") == ok(
        api, "/v3/enterprise/metrics/usage", window(cycle["after"], NOW_TS)
    )


def test_sessions_by_category_add_up(api: DemoAPI, enterprise: DemoEnterprise) -> None:
    for time_after, time_before in (WINDOWS["closed week"], WINDOWS["month"], WINDOWS["open week"]):
        params = window(time_after, time_before)
        for org_ids in (None, [enterprise.organizations[1].org_id]):
            extra = {} if org_ids is None else {"org_ids": org_ids}
            answer = ok(api, "/v3/enterprise/metrics/sessions-by-category", {**params, **extra})
            sessions = ok(api, "/v3/enterprise/metrics/sessions", {**params, **extra})
            categories = answer["categories"]
            assert [c["category"] for c in categories] == [
                name for name in category_names() if name in {c["category"] for c in categories}
            ]
            for category in categories:
                subcategories = category["subcategories"]
                assert category["sessions_count"] == sum(s["sessions_count"] for s in subcategories)
                assert category["acus"] == pytest.approx(sum(s["acus"] for s in subcategories))
                assert subcategories[-1]["subcategory_id"] is None
            count = sessions["sessions_created_count"]
            assert sum(c["sessions_count"] for c in categories) == count > 0
            assert sum(c["acus"] for c in categories) == pytest.approx(
                sessions["avg_acus_per_session"] * count
            )


# -- active users ------------------------------------------------------------------------------


def test_dau_of_a_week_is_at_most_its_wau_which_is_at_most_the_sum_of_its_dau(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    month = window(_at("2026-09-28"), _at("2026-11-23"))  # eight whole weeks
    for extra in ({}, {"org_ids": enterprise.organizations[4].org_id}):
        dau = ok(api, "/v3/enterprise/metrics/dau", {**month, **extra})
        wau = ok(api, "/v3/enterprise/metrics/wau", {**month, **extra})
        assert len(dau) == 56 and len(wau) == 8
        for week_number, week in enumerate(wau):
            days = dau[7 * week_number : 7 * week_number + 7]
            assert (days[0]["start_time"], days[-1]["end_time"]) == (
                week["start_time"],
                week["end_time"],
            )
            counts = [day["active_users"] for day in days]
            assert max(counts) <= week["active_users"] <= sum(counts)
            assert max(counts) < week["active_users"] < sum(counts)  # not trivially
            # the active users of exactly that week are its WAU
            alone = ok(
                api,
                "/v3/enterprise/metrics/active-users",
                {**window(week["start_time"], week["end_time"]), **extra},
            )
            assert alone["active_users"] == week["active_users"]


def test_active_users_of_a_window_are_at_least_its_busiest_day(api: DemoAPI) -> None:
    for time_after, time_before in (WINDOWS["month"], WINDOWS["odd hours"], WINDOWS["open week"]):
        params = window(time_after, time_before)
        whole = ok(api, "/v3/enterprise/metrics/active-users", params)
        days = ok(api, "/v3/enterprise/metrics/dau", params)
        months = ok(api, "/v3/enterprise/metrics/mau", params)
        assert (whole["start_time"], whole["end_time"]) == (time_after, time_before)
        assert whole["active_users"] >= max(day["active_users"] for day in days) > 0
        assert whole["active_users"] >= max(m["active_users"] for m in months)


def test_periods_are_utc_days_monday_weeks_and_months_clipped_to_the_window(
    api: DemoAPI,
) -> None:
    time_after, time_before = _at("2026-06-03T09:17"), _at("2026-08-05T16:41")
    params = window(time_after, time_before)
    for name, is_boundary in (
        ("dau", lambda t: t % DAY == 0),
        ("wau", lambda t: t % DAY == 0 and datetime.fromtimestamp(t, timezone.utc).weekday() == 0),
        ("mau", lambda t: t % DAY == 0 and datetime.fromtimestamp(t, timezone.utc).day == 1),
    ):
        periods = ok(api, f"/v3/enterprise/metrics/{name}", params)
        assert periods[0]["start_time"] == time_after
        assert periods[-1]["end_time"] == time_before
        for first, second in itertools.pairwise(periods):
            assert first["end_time"] == second["start_time"]  # the next period's start
            assert is_boundary(second["start_time"]), (name, second)
    # periods without anyone active are listed, with 0
    before = ok(api, "/v3/enterprise/metrics/dau", window(*WINDOWS["before history"]))
    assert len(before) == 19 and {day["active_users"] for day in before} == {0}
    assert ok(api, "/v3/enterprise/metrics/wau", window(*WINDOWS["empty"])) == []


def test_service_users_are_not_people_and_a_zero_threshold_turns_a_criterion_off(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    time_after, time_before = WINDOWS["closed week"]
    log, searches = enterprise.sessions, enterprise.searches
    in_week = (log.created_at >= time_after) & (log.created_at < time_before)
    searched = (searches.created_at >= time_after) & (searches.created_at < time_before)
    session_people = set(log.user_index[in_week & (log.user_index >= 0)].tolist())
    search_people = set(searches.user_index[searched].tolist())
    assert (log.service_user_index[in_week] >= 0).any()

    def active(**thresholds: int) -> int:
        params = {**window(time_after, time_before), **thresholds}
        answer: int = ok(api, "/v3/enterprise/metrics/active-users", params)["active_users"]
        return answer

    assert active() == len(session_people | search_people)
    assert active(min_searches=0) == len(session_people)
    assert active(min_sessions=0) == len(search_people)
    assert active(min_sessions=0, min_searches=0) == 0
    assert active(min_sessions=5, min_searches=0) < active(min_sessions=2, min_searches=0)


# -- consumption -------------------------------------------------------------------------------


def test_a_days_acus_are_its_products_and_the_total_is_the_days(
    api: DemoAPI, spec: dict[str, Any], ids: dict[str, str]
) -> None:
    consumption = [t for t in spec["paths"] if "/consumption/daily" in t]
    assert len(consumption) == 9
    for template, (time_after, time_before) in itertools.product(consumption, WINDOWS.values()):
        answer = ok(api, fill(template, ids), window(time_after, time_before))
        rows = answer["consumption_by_date"]
        assert answer["total_acus"] == pytest.approx(sum(row["acus"] for row in rows), abs=1e-9)
        for row in rows:
            products = row["acus_by_product"]
            assert list(products) == list(PRODUCTS)
            assert row["acus"] == pytest.approx(sum(products.values()), abs=1e-9)
            if template != "/v3/enterprise/consumption/daily":  # one entity: devin alone
                assert products["cascade"] == products["terminal"] == products["review"] == 0.0


def test_billing_days_are_the_days_the_window_overlaps_up_to_now(api: DemoAPI) -> None:
    for time_after, time_before in WINDOWS.values():
        rows = ok(api, "/v3/enterprise/consumption/daily", window(time_after, time_before))[
            "consumption_by_date"
        ]
        dates = [row["date"] for row in rows]
        assert all(date % DAY == BILLING_DAY_OFFSET for date in dates)
        # every billing day the window overlaps, from the one holding the history's start, up
        # to the one holding now: days that have not begun are not listed
        overlapped = [
            day
            for day in range(FIRST_DAY_START - DAY, NOW_TS + 15 * DAY, DAY)
            for day in [day - day % DAY + BILLING_DAY_OFFSET]
            if time_after < time_before and day < time_before and day + DAY > time_after
            if day + DAY > FIRST_DAY_START and day < NOW_TS
        ]
        assert dates == sorted(set(overlapped)), (time_after, time_before)
        assert (
            dates
            or time_before <= FIRST_DAY_START
            or time_after >= time_before
            or (time_after >= NOW_TS)
        )
    # the day now falls in holds only what was consumed by now
    today = ok(api, "/v3/enterprise/consumption/daily", window(NOW_TS - HOUR, NOW_TS + DAY))
    (row,) = today["consumption_by_date"]
    later = DemoAPI(api.enterprise, now=NOW + timedelta(hours=1))
    (row_later,) = ok(later, "/v3/enterprise/consumption/daily", window(NOW_TS - HOUR, NOW_TS))[
        "consumption_by_date"
    ]
    assert 0 < row["acus"] < row_later["acus"]


def test_organizations_add_up_to_the_accounts_devin_acus_not_to_its_total(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    for time_after, time_before in (WINDOWS["month"], WINDOWS["open week"]):
        params = window(time_after, time_before)
        account = ok(api, "/v3/enterprise/consumption/daily", params)
        devin = sum(row["acus_by_product"]["devin"] for row in account["consumption_by_date"])
        others = account["total_acus"] - devin
        by_org = [
            ok(api, f"/v3/enterprise/consumption/daily/organizations/{o.org_id}", params)
            for o in enterprise.organizations
        ]
        org_scope = [
            ok(api, f"/v3/organizations/{o.org_id}/consumption/daily", params)
            for o in enterprise.organizations
        ]
        assert by_org == org_scope
        assert sum(org["total_acus"] for org in by_org) == pytest.approx(devin, rel=1e-12)
        assert others > 0.01 * account["total_acus"]
        # and people plus service users are every session
        people = [
            ok(api, f"/v3/enterprise/consumption/daily/users/{u.user_id}", params)["total_acus"]
            for u in enterprise.users
        ]
        robots = [
            ok(api, f"/v3/enterprise/consumption/daily/service-users/{s.service_user_id}", params)[
                "total_acus"
            ]
            for s in enterprise.service_users
        ]
        assert sum(people) + sum(robots) == pytest.approx(devin, rel=1e-12)


def test_a_finished_sessions_consumption_is_its_acus(
    api: DemoAPI, enterprise: DemoEnterprise
) -> None:
    log = enterprise.sessions
    positions = np.flatnonzero(log.acus_done_at < NOW_TS)[-200::40]
    for position in positions.tolist():
        path = f"/v3/enterprise/consumption/daily/sessions/{log.session_id(position)}"
        answer = ok(api, path, window(FIRST_DAY_START, NOW_TS))
        assert answer["total_acus"] == pytest.approx(float(log.acus[position]))
        assert sum(1 for row in answer["consumption_by_date"] if row["acus"] > 0) in (1, 2, 3)


def test_billing_cycles_are_months_from_the_first_day_at_0800_utc(api: DemoAPI) -> None:
    answer = ok(api, "/v3/enterprise/consumption/cycles")
    cycles = answer["items"]
    assert answer["has_next_page"] is False and answer["end_cursor"] is None
    assert answer["total"] == len(cycles) == 12
    assert cycles[0]["after"] == _at("2025-12-01T08:00")
    assert cycles[-1]["after"] <= NOW_TS < cycles[-1]["before"]  # the current cycle, last
    for cycle in cycles:
        start = datetime.fromtimestamp(cycle["after"], timezone.utc)
        assert (start.day, start.hour, start.minute) == (1, 8, 0)
    assert all(a["before"] == b["after"] for a, b in itertools.pairwise(cycles))
    walked: list[dict[str, int]] = []
    after: str | None = None
    while True:
        page = ok(
            api,
            "/v3/enterprise/consumption/cycles",
            {"first": 5, **({"after": after} if after else {})},
        )
        walked += page["items"]
        if not page["has_next_page"]:
            break
        after = page["end_cursor"]
    assert walked == cycles


# -- now hides what has not happened yet -----------------------------------------------------


def test_a_later_log_asked_at_an_earlier_now_answers_the_same(
    enterprise: DemoEnterprise, spec: dict[str, Any], ids: dict[str, str]
) -> None:
    longer = generate_enterprise(end=NOW + timedelta(days=3, hours=5))
    earlier, later = DemoAPI(enterprise, now=NOW), DemoAPI(longer, now=NOW)
    for template in spec["paths"]:
        path = fill(template, ids)
        for time_after, time_before in (
            WINDOWS["open week"],
            WINDOWS["closed week"],
            (NOW_TS - 2 * DAY, NOW_TS + 2 * DAY),
        ):
            params = window(time_after, time_before)
            assert ok(later, path, params) == ok(earlier, path, params), template


# -- scope and permissions ---------------------------------------------------------------------


def test_the_organization_key_stays_in_its_organization(
    api: DemoAPI, enterprise: DemoEnterprise, ids: dict[str, str]
) -> None:
    params = window(*WINDOWS["closed week"])
    other = {**ids, "org_id": enterprise.organizations[1].org_id}
    for route in ROUTES:
        own = get(api, fill(route.template, ids), params, token=DEMO_ORG_API_KEY)
        if route.template.startswith("/v3/enterprise"):
            assert own.status == 403, route.template
            assert "organization" in own.json()["detail"]
            continue
        assert own.status == 200, route.template
        elsewhere = get(api, fill(route.template, other), params, token=DEMO_ORG_API_KEY)
        assert elsewhere.status == 403, route.template
        # an enterprise key reaches every organization's paths
        assert get(api, fill(route.template, ids), params).status == 200


def test_permissions_are_named_and_unknown_ids_are_404(
    enterprise: DemoEnterprise, ids: dict[str, str]
) -> None:
    org_id = ids["org_id"]
    api = DemoAPI(
        enterprise,
        now=NOW,
        tokens={"cog_metrics_only": frozenset({"ViewAccountMetrics"})},
        org_tokens={"cog_org_billing_only": (org_id, frozenset({"ManageBilling"}))},
    )
    params = window(*WINDOWS["closed week"])
    refused = get(api, "/v3/enterprise/consumption/daily", params, token="cog_metrics_only")
    assert refused.status == 403 and "ManageBilling" in refused.json()["detail"]
    assert get(api, "/v3/enterprise/metrics/prs", params, token="cog_metrics_only").status == 200
    # an enterprise-level metrics permission opens the organizations' metrics too
    path = f"/v3/organizations/{org_id}/metrics/prs"
    assert get(api, path, params, token="cog_metrics_only").status == 200
    refused = get(api, path, params, token="cog_org_billing_only")
    assert refused.status == 403 and "ViewOrgMetrics" in refused.json()["detail"]
    billing = f"/v3/organizations/{org_id}/consumption/daily"
    assert get(api, billing, params, token="cog_org_billing_only").status == 200
    assert get(api, billing, params, token="cog_nobody").status == 401

    full = DemoAPI(enterprise, now=NOW)
    for path in (
        "/v3/organizations/org-000000000000/metrics/sessions",
        "/v3/enterprise/organizations/org-000000000000/metrics/usage",
        "/v3/enterprise/consumption/daily/users/user-unknown",
        "/v3/enterprise/consumption/daily/sessions/devin-0000000000000000",
        "/v3/enterprise/consumption/daily/sessions/not-a-session",
        # a person, a service user and a session of another organization
        f"/v3/organizations/{enterprise.organizations[1].org_id}/consumption/daily/users/"
        f"{ids['user_id']}",
        f"/v3/organizations/{enterprise.organizations[1].org_id}/consumption/daily/"
        f"service-users/{ids['service_user_id']}",
        f"/v3/organizations/{enterprise.organizations[1].org_id}/consumption/daily/sessions/"
        f"{ids['session_id']}",
    ):
        assert get(full, path, params).status == 404, path


# -- list formats --------------------------------------------------------------------------------


def _count(api: DemoAPI, query: str, **kw: Any) -> int:
    time_after, time_before = WINDOWS["month"]
    path = "/v3/enterprise/metrics/prs"
    full = f"time_after={time_after}&time_before={time_before}&{query}"
    response = api.handle("GET", path, full, {"Authorization": f"Bearer {DEMO_API_KEY}"}, **kw)
    assert response.status == 200
    count: int = response.json()["prs_created_count"]
    return count


def test_strict_list_formats_read_lists_as_they_say(enterprise: DemoEnterprise) -> None:
    a, b = enterprise.organizations[0].org_id, enterprise.organizations[1].org_id
    repeated, joined = f"org_ids={a}&org_ids={b}", f"org_ids={a},{b}"
    default = DemoAPI(enterprise, now=NOW)
    only_a, only_b = _count(default, f"org_ids={a}"), _count(default, f"org_ids={b}")
    assert only_a > 0 and only_b > 0
    assert _count(default, repeated) == _count(default, joined) == only_a + only_b
    strict_repeat = DemoAPI(enterprise, now=NOW, list_format="repeat")
    assert _count(strict_repeat, repeated) == only_a + only_b
    assert _count(strict_repeat, joined) == 0  # "a,b" is one id, which no organization has
    strict_comma = DemoAPI(enterprise, now=NOW, list_format="comma")
    assert _count(strict_comma, joined) == only_a + only_b
    assert _count(strict_comma, repeated) == only_b  # the last key wins, as for a scalar
    # per request, too
    assert _count(default, joined, list_format="repeat") == 0
    with pytest.raises(ValueError, match="list_format"):
        DemoAPI(enterprise, list_format="csv")  # type: ignore[arg-type]


@pytest.mark.parametrize(("list_format", "expected"), [("repeat", "pair"), ("comma", "b")])
def test_a_server_in_a_strict_list_format(
    enterprise: DemoEnterprise, list_format: Any, expected: str
) -> None:
    a, b = enterprise.organizations[0].org_id, enterprise.organizations[1].org_id
    api = DemoAPI(enterprise, now=NOW)
    counts = {
        "pair": _count(api, f"org_ids={a}&org_ids={b}"),
        "b": _count(api, f"org_ids={b}"),
    }
    time_after, time_before = WINDOWS["month"]
    params = {"time_after": time_after, "time_before": time_before, "org_ids": [a, b]}
    with DemoServer(api, list_format=list_format) as server:
        response = requests.get(
            f"{server.url}/v3/enterprise/metrics/prs",
            params=params,
            headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
            timeout=TIMEOUT,
        )
    assert response.json()["prs_created_count"] == counts[expected]
    with pytest.raises(ValueError, match="list_format"):
        DemoServer(api, list_format="csv")  # type: ignore[arg-type]


def test_serve_forever_names_the_organization_key_and_serves_a_strict_format() -> None:
    out, stop = io.StringIO(), threading.Event()
    settings = {"port": 0, "now": NOW, "days": 14, "out": out, "stop": stop}
    thread = threading.Thread(
        target=serve_forever, kwargs={**settings, "list_format": "repeat"}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while "List parameters" not in out.getvalue() and time.monotonic() < deadline:
        time.sleep(0.02)
    printed = out.getvalue()
    assert DEMO_ORG_API_KEY in printed and "repeat format only" in printed
    url = printed.split("serving at ", 1)[1].split()[0]
    org_id = printed.split("/v3/organizations/", 1)[1].split("/")[0]
    params = window(NOW_TS - 7 * DAY, NOW_TS)
    headers = {"Authorization": f"Bearer {DEMO_ORG_API_KEY}"}
    own = requests.get(
        f"{url}/v3/organizations/{org_id}/metrics/prs", params, headers=headers, timeout=TIMEOUT
    )
    everyone = requests.get(
        f"{url}/v3/enterprise/metrics/prs", params, headers=headers, timeout=TIMEOUT
    )
    joined = requests.get(
        f"{url}/v3/enterprise/metrics/prs",
        {**params, "org_ids": f"{org_id},{org_id}"},
        headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
        timeout=TIMEOUT,
    )
    stop.set()
    thread.join(TIMEOUT)
    assert own.status_code == 200 and own.json()["prs_created_count"] > 0
    assert everyone.status_code == 403
    assert joined.json()["prs_created_count"] == 0  # "a,a" is one unknown id
    assert not thread.is_alive()


# -- Cognition's SDK ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def org_server(enterprise: DemoEnterprise) -> Iterator[DemoServer]:
    with DemoServer(DemoAPI(enterprise, now=NOW)) as server:
        yield server


def test_cognitions_sdk_parses_the_organization_answers_strictly(
    org_server: DemoServer, ids: dict[str, str], enterprise: DemoEnterprise
) -> None:
    devin_sdk = pytest.importorskip("devin_sdk")
    import httpx

    org_id = ids["org_id"]
    people = [u.user_id for u in enterprise.users if u.org_index == 0][:3]
    time_after, time_before = WINDOWS["month"]
    span = {"time_after": time_after, "time_before": time_before}
    api: DemoAPI = org_server.api
    with devin_sdk.DevinSDK(
        api_key=DEMO_ORG_API_KEY,
        base_url=org_server.url,
        max_retries=0,
        _strict_response_validation=True,
        http_client=httpx.Client(trust_env=False),
    ) as client:
        metrics = client.organizations.metrics
        daily = client.organizations.consumption.daily
        answers = {
            "sessions": metrics.get_session_metrics(org_id, **span, user_ids=people),
            "prs": metrics.get_pr_metrics(org_id, **span, user_ids=people),
            "usage": metrics.get_usage_metrics(org_id, **span),
            "searches": metrics.get_search_metrics(org_id, **span),
            "active-users": metrics.get_active_users(org_id, **span, min_sessions=2),
            "dau": metrics.get_daily_active_users(org_id, **span),
            "wau": metrics.get_weekly_active_users(org_id, **span),
            "mau": metrics.get_monthly_active_users(org_id, **span),
            "consumption/daily": daily.get(org_id, **span),
            "consumption/daily/users": daily.get_user(ids["user_id"], org_id=org_id, **span),
            "consumption/daily/service-users": daily.get_service_user(
                ids["service_user_id"], org_id=org_id, **span
            ),
            "consumption/daily/sessions": daily.get_session(
                ids["session_id"], org_id=org_id, time_after=FIRST_DAY_START, time_before=NOW_TS
            ),
            "consumption/daily without a window": daily.get(org_id),
        }
    # The SDK sends lists comma-joined; the demo reads them as the three people.
    assert (
        answers["sessions"].sessions_created_count
        == api.session_metrics(time_after, time_before, user_ids=people, org_ids=[org_id])[
            "sessions_created_count"
        ]
        > 0
    )
    assert (
        answers["prs"].prs_created_count
        == api.pr_metrics(time_after, time_before, user_ids=people, org_ids=[org_id])[
            "prs_created_count"
        ]
    )
    assert (
        answers["usage"].sessions_count
        == api.usage_metrics(time_after, time_before, org_ids=[org_id])["sessions_count"]
    )
    assert [m.active_users for m in answers["dau"]] == [
        m["active_users"]
        for m in api.active_users_by_period(time_after, time_before, "day", org_ids=[org_id])
    ]
    assert answers["active-users"].active_users > 0
    assert answers["consumption/daily"].total_acus == pytest.approx(
        api.daily_consumption(time_after, time_before, entity=("org", 0))["total_acus"]
    )
    assert len(answers["consumption/daily"].consumption_by_date) == 32  # 08:00 to 08:00
    assert answers["consumption/daily/sessions"].total_acus > 0
    assert answers["consumption/daily without a window"].consumption_by_date


# -- speed -------------------------------------------------------------------------------------


def test_a_week_is_answered_fast(api: DemoAPI, spec: dict[str, Any], ids: dict[str, str]) -> None:
    """A loose sanity bound (the machine is shared); the measured numbers are printed."""
    params = window(*WINDOWS["closed week"])
    slowest = 0.0
    for template in spec["paths"]:
        path = fill(template, ids)
        ok(api, path, params)  # indexes are built on first use
        started = time.perf_counter()
        for _ in range(100):
            get(api, path, params)
        average = (time.perf_counter() - started) / 100
        slowest = max(slowest, average)
        print(f"{template}: {average * 1e6:.0f} us")
    assert slowest < 0.05


def test_a_clock_past_the_history_still_lists_the_other_products(
    enterprise: DemoEnterprise,
) -> None:
    """Moved three days past the log's end, the account's days go on: no new sessions (their
    ACUs stop with the runs already going), the products tied to no organization go on."""
    later = DemoAPI(enterprise, now=NOW + timedelta(days=3))
    params = window(NOW_TS, NOW_TS + 3 * DAY)
    rows = ok(later, "/v3/enterprise/consumption/daily", params)["consumption_by_date"]
    assert [row["date"] for row in rows] == [
        _at("2026-11-24T08:00") + day * DAY for day in range(4)
    ]
    assert all(row["acus_by_product"]["cascade"] > 0 for row in rows)
    assert rows[0]["acus_by_product"]["devin"] > 0 == rows[-1]["acus_by_product"]["devin"]


def test_no_window_breaks_an_answer(api: DemoAPI, ids: dict[str, str]) -> None:
    """Bounds far outside int64, inverted or equal: a 200 (or a 422 for too many periods)."""
    bounds = (-(10**30), -(2**63), -1, 0, NOW_TS, 2**63 - 1, 2**63, 10**30)
    for route, time_after, time_before in itertools.product(ROUTES, bounds, bounds):
        response = get(api, fill(route.template, ids), window(time_after, time_before))
        too_many = route.template.endswith(("/dau", "/wau", "/mau"))
        assert response.status in ((200, 422) if too_many else (200,)), (
            route.template,
            time_after,
            time_before,
        )
