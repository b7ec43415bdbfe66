"""Endpoint declarations and the one generic path: the searches endpoint end to end, the field
rules obeyed by the combine, and the vocabulary checked against the models."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import _vocabulary as words
from metrics_toolkit._endpoints import (
    ENDPOINTS,
    SEARCH_METRICS,
    SESSION_METRICS,
    Endpoint,
    FieldRule,
    Rule,
)
from metrics_toolkit.combine import combine_answers
from metrics_toolkit.demo import DemoAPI, DemoServer
from metrics_toolkit.models import APIModel, SessionCountsByOrigin, SessionCountsBySize

START, END = "2026-08-03", "2026-11-02"  # 13 whole weeks, all settled at NOW


def seconds(day: str) -> int:
    return int(pd.Timestamp(day, tz="UTC").timestamp())


# -- the searches endpoint, end to end -----------------------------------------------------------


def test_search_metrics_is_the_simulators_count(demo_client: mt.MetricsClient) -> None:
    org = demo_client.directory().ids("org")[0]
    api: DemoAPI = demo_client._path.transport._adapter.api  # type: ignore[union-attr]
    for org_ids in (None, [org]):
        answer = demo_client.search_metrics(START, END, org_ids=org_ids)
        expected = api.search_metrics(seconds(START), seconds(END), org_ids=org_ids)
        assert answer.searches_created_count == expected["searches_created_count"] > 0


def test_a_series_of_searches_by_org_adds_up_to_the_total(http_client: mt.MetricsClient) -> None:
    total = mt.fetch_series(http_client, START, END, "week", endpoint=SEARCH_METRICS)
    by_org = mt.fetch_series(http_client, START, END, "week", by="org", endpoint=SEARCH_METRICS)
    assert list(total.columns[:4]) == ["bucket_end", "partial", "clipped", "failed"]
    assert total["searches_created_count"].dtype == "Int64" and len(total) == 13
    summed = by_org.groupby(level="bucket_start")["searches_created_count"].sum()
    pd.testing.assert_series_equal(summed, total["searches_created_count"], check_names=False)
    assert "org_name" in by_org.columns  # labelled from the directory, as sessions are
    again = mt.fetch_series(http_client, START, END, "week", endpoint=SEARCH_METRICS)
    assert again.attrs["fetch_stats"].from_cache == 13  # stored like any windowed answer


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"user_ids": ["user-1"]}, "user_ids"),
        ({"playbook_id": "playbook-1"}, "playbook_id"),
        ({"by": "user", "ids": ["user-1"]}, "by"),
    ],
)
def test_a_filter_the_endpoint_does_not_take_is_refused_before_any_request(
    server: DemoServer, http_client: mt.MetricsClient, options: dict[str, Any], parameter: str
) -> None:
    before = server.request_count
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.fetch_series(http_client, START, END, "week", endpoint=SEARCH_METRICS, **options)
    assert caught.value.parameter == parameter
    assert "org_ids" in str(caught.value)  # what it does take
    assert server.request_count == before


def test_search_metrics_refuses_a_filter_it_does_not_take(demo_client: mt.MetricsClient) -> None:
    with pytest.raises(TypeError):
        demo_client.search_metrics(START, END, user_ids=["user-1"])  # type: ignore[call-arg]


def test_a_long_search_window_is_split_and_summed(demo_api: DemoAPI) -> None:
    whole = mt.MetricsClient.demo(api=demo_api, cache=False)
    split = mt.MetricsClient.demo(api=demo_api, cache=False, max_window=dt.timedelta(days=10))
    answer = split.request(
        SEARCH_METRICS, {"time_after": seconds(START), "time_before": seconds(END)}
    )
    assert answer.attempts == 10  # 91 days in windows of 10
    expected = whole.search_metrics(START, END).searches_created_count
    assert answer.data.searches_created_count == expected


# -- field rules ---------------------------------------------------------------------------------


class ActiveUsers(APIModel):
    """A made-up answer holding a distinct count and a state."""

    active_users: int
    open_prs: int


ACTIVE_USERS = Endpoint(
    "/v3/enterprise/metrics/active-users",
    ActiveUsers,
    "ViewAccountMetrics",
    windowed=True,
    fields={"active_users": FieldRule(Rule.DISTINCT), "open_prs": FieldRule(Rule.STATE)},
)


def test_distinct_counts_are_never_summed_and_never_split(demo_api: DemoAPI) -> None:
    parts = [ActiveUsers(active_users=3, open_prs=1), ActiveUsers(active_users=4, open_prs=2)]
    assert not ACTIVE_USERS.splittable
    with pytest.raises(ValueError, match="distinct"):
        combine_answers(ACTIVE_USERS, parts)
    client = mt.MetricsClient.demo(api=demo_api, max_window=dt.timedelta(days=1))
    windows = client._path._windows(ACTIVE_USERS, {"time_after": 0, "time_before": 86_400 * 9})
    assert len(windows) == 1  # asked as one window, whatever max_window says


def test_a_state_adds_up_over_creation_windows_and_a_mean_is_reweighted() -> None:
    state = dataclasses.replace(ACTIVE_USERS, fields={"open_prs": FieldRule(Rule.STATE)})
    combined = combine_answers(
        state, [ActiveUsers(active_users=3, open_prs=5), ActiveUsers(active_users=4, open_prs=2)]
    )
    # counts add up; a state (of the window's PRs, those open now) adds up as its PRs do
    assert (combined.active_users, combined.open_prs) == (7, 7)
    weighted = mt.combine_metrics([session_answer(1, 4.0), session_answer(3, 2.0)])
    assert weighted.avg_acus_per_session == pytest.approx(2.5)
    assert mt.combine_metrics([session_answer(0, 0.0)]).avg_acus_per_session == 0.0


def test_a_mean_rule_needs_its_weight() -> None:
    with pytest.raises(ValueError, match="weight"):
        FieldRule(Rule.MEAN)
    with pytest.raises(ValueError, match="weight"):
        FieldRule(Rule.SUM, weight="x")


def session_answer(sessions: int, average: float) -> mt.SessionMetrics:
    return mt.SessionMetrics.model_validate(
        {
            "sessions_created_count": sessions,
            "avg_acus_per_session": average,
            "sessions_created_by_origin": {},
            "sessions_created_by_size": {},
            "sessions_created_with_playbook_count": 0,
            "sessions_created_with_search_count": 0,
            "sessions_with_merged_prs_count": 0,
            "sessions_with_merged_prs_by_size": {},
        }
    )


# -- declarations against the models -------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_every_declaration_names_fields_its_model_has(name: str) -> None:
    endpoint = ENDPOINTS[name]
    assert endpoint.path.startswith("/v3/") and endpoint.permission
    for field, rule in endpoint.fields.items():
        assert field in endpoint.model.model_fields, field
        if rule.weight is not None:
            assert rule.weight in endpoint.model.model_fields, rule.weight
    assert set(endpoint.filters) <= {kind.filter_param for kind in words.KINDS.values()}


def test_the_vocabulary_is_the_models_words() -> None:
    assert tuple(SessionCountsByOrigin.model_fields) == words.ORIGINS
    assert tuple(SessionCountsBySize.model_fields) == words.SIZES
    fields = mt.SessionMetrics.model_fields
    for column in (
        words.SESSIONS,
        words.ORIGIN_FIELD,
        words.SIZE_FIELD,
        words.PLAYBOOK,
        words.SEARCH,
        words.MERGED,
        words.MERGED_SIZE_FIELD,
        words.AVERAGE,
    ):
        assert column in fields, column
    assert SESSION_METRICS.fields[words.AVERAGE].weight == words.SESSIONS
    assert words.origin_label("webapp") == "Web app" and words.origin_label("new_one") == "New one"
    assert words.size_label("xl") == "XL" and words.size_label("xxl") == "XXL"


def test_what_cannot_be_added_up_is_never_a_smaller_or_summed_number() -> None:
    def with_extras(**extras: Any) -> mt.SessionMetrics:
        return mt.SessionMetrics.model_validate({**session_answer(2, 1.0).model_dump(), **extras})

    combined = mt.combine_metrics(
        [
            with_extras(median_by_size={"xs": 1.5}, new_count=3, sessions_created_by_origin={}),
            with_extras(median_by_size={"xs": 1.5}, sessions_created_by_origin={"cli": 4}),
        ]
    ).model_dump()
    assert combined["median_by_size"] == {"xs": 1.5}  # fractions agree: kept, never summed
    assert combined["new_count"] is None  # sent for one window only: no total
    assert "cli" not in combined["sessions_created_by_origin"]  # likewise, nested
    assert combined["sessions_created_count"] == 4
