"""Series of the whole metrics family: every windowed one-total endpoint per bucket at either
scope, field rules obeyed when rows combine (distinct counts refused, states adding up with
their PRs, means re-weighted by the weight their rule names), native DAU/WAU/MAU lists,
consumption in billing days, sessions by category as a tidy frame, and the one table of the
common question through one worker pool.

Against the demo enterprise: in-process, and over HTTP from a server the tests start on
127.0.0.1 with the organization's own key.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import _vocabulary as words
from metrics_toolkit._calls import Call, answer_all
from metrics_toolkit._endpoints import METRICS, PR_METRICS, SEARCH_METRICS, SESSION_METRICS
from metrics_toolkit.buckets import time_buckets
from metrics_toolkit.combine import combine_answers, combine_groups, rollup
from metrics_toolkit.demo import DEMO_ORG_API_KEY, DemoAPI, DemoServer
from metrics_toolkit.errors import InvalidParameterError, ScopeError
from metrics_toolkit.fetch import fetch_series
from metrics_toolkit.models import PrMetrics

from .conftest import NOW

START, END = "2026-10-05", "2026-11-02"  # four settled Monday weeks before NOW
PR_STATES = (words.PRS_OPENED, words.PRS_MERGED, "prs_closed_count")


def quiet(function: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


@pytest.fixture
def org_id(demo_api: DemoAPI) -> str:
    return str(demo_api.enterprise.organizations[0].org_id)


@pytest.fixture
def org_client(server: DemoServer, org_id: str) -> Iterator[mt.MetricsClient]:
    with mt.MetricsClient(
        DEMO_ORG_API_KEY, base_url=server.url, org_id=org_id, cache=False, backoff=0.0
    ) as client:
        yield client


# -- 1. a series of every windowed one-total endpoint ---------------------------------------


@pytest.mark.parametrize(
    ("metric", "method", "field"),
    [
        ("prs", "pr_metrics", words.PRS_CREATED),
        ("usage", "usage_metrics", "sessions_count"),
        ("searches", "search_metrics", words.SEARCHES),
        ("active_users", "active_users", words.ACTIVE_USERS),
    ],
)
def test_each_bucket_is_the_typed_answer_of_its_window(
    demo_client: mt.MetricsClient, metric: str, method: str, field: str
) -> None:
    frame = fetch_series(demo_client, START, END, "week", tz="Europe/Berlin", metric=metric)
    assert frame.attrs["endpoint"] == metric
    assert str(frame.index.tz) == "Europe/Berlin" and len(frame) == 4
    for start, row in frame.iterrows():
        answer = getattr(demo_client, method)(start, row["bucket_end"])
        assert row[field] == getattr(answer, field)


def test_by_name_or_by_declaration_is_the_same_series(demo_client: mt.MetricsClient) -> None:
    by_name = fetch_series(demo_client, START, END, "week", metric="prs")
    by_declaration = fetch_series(demo_client, START, END, "week", endpoint=PR_METRICS)
    pd.testing.assert_frame_equal(by_name, by_declaration)
    with pytest.raises(InvalidParameterError, match="fetch_active_user_periods"):
        fetch_series(demo_client, START, END, "week", metric="dau")
    with pytest.raises(InvalidParameterError, match="not both"):
        fetch_series(demo_client, START, END, metric="prs", endpoint=SEARCH_METRICS)


def test_usage_by_org_asks_each_organizations_usage(demo_client: mt.MetricsClient) -> None:
    frame = fetch_series(demo_client, START, END, "week", metric="usage", by="org")
    assert frame.attrs["endpoint"] == "usage"
    org = frame["org_id"].iloc[0]
    first = frame[frame["org_id"] == org].iloc[0]
    answer = demo_client.usage_metrics(frame.index[0], first["bucket_end"], org_id=org)
    assert first["sessions_count"] == answer.sessions_count
    totals = fetch_series(demo_client, START, END, "week", metric="usage")
    summed = frame.groupby(level=0)["sessions_count"].sum()
    assert summed.tolist() == totals["sessions_count"].tolist()  # organizations add up


def test_an_organization_client_asks_its_own_paths(
    org_client: mt.MetricsClient, demo_api: DemoAPI, org_id: str
) -> None:
    enterprise = mt.MetricsClient.demo(api=demo_api)
    for metric in ("sessions", "prs", "searches", "active_users", "usage"):
        mine = fetch_series(org_client, START, END, "week", metric=metric)
        if metric == "usage":  # usage takes no filter: the organization's own path
            theirs = fetch_series(enterprise, START, END, "week", metric=metric, by="org")
            theirs = theirs[theirs["org_id"] == org_id].drop(columns=["org_id", "org_name"])
        else:
            theirs = fetch_series(enterprise, START, END, "week", metric=metric, org_ids=[org_id])
        columns = [c for c in mine.columns if c in theirs.columns]
        pd.testing.assert_frame_equal(mine[columns], theirs[columns], check_like=True)


def test_what_an_organization_cannot_serve_is_refused_before_any_request(
    org_client: mt.MetricsClient,
) -> None:
    asked: list[Any] = []
    org_client.request = lambda *a, **k: asked.append(a)  # type: ignore[method-assign]
    for kwargs, parameter in (
        ({"metric": "categories"}, "org_id"),
        ({"metric": "prs", "by": "org"}, "by"),
        ({"metric": "searches", "org_ids": ["org-x"]}, "org_ids"),
        ({"metric": "prs", "by": "user"}, "ids"),  # no directory to list the users
        ({"metric": "prs", "user_ids": ["Ada Lovelace"]}, "user_ids"),  # a name
    ):
        with pytest.raises(ScopeError) as caught:
            fetch_series(org_client, START, END, "week", **kwargs)
        assert caught.value.parameter == parameter, kwargs
        assert "scope" in str(caught.value)
    assert asked == []


def test_an_organization_breaks_down_by_user_ids_without_the_directory(
    org_client: mt.MetricsClient, demo_api: DemoAPI, org_id: str
) -> None:
    users = [u.user_id for u in demo_api.enterprise.users[:2]]
    frame = fetch_series(org_client, START, END, "week", metric="prs", by="user", ids=users)
    assert sorted(frame["user_id"].unique()) == sorted(users)
    enterprise = mt.MetricsClient.demo(api=demo_api)
    one = enterprise.pr_metrics(START, "2026-10-12", user_ids=[users[0]], org_ids=[org_id])
    row = frame[frame["user_id"] == users[0]].iloc[0]
    assert row[words.PRS_CREATED] == one.prs_created_count


def test_buckets_after_now_are_cut_and_the_open_one_is_partial(
    demo_client: mt.MetricsClient,
) -> None:
    with pytest.warns(mt.FutureBucketsWarning):
        frame = fetch_series(demo_client, "2026-11-16", "2026-12-14", "week", metric="searches")
    assert len(frame) == 2 and frame["partial"].tolist() == [False, True]
    assert len(frame.attrs["cut_after_now"]) == 2


# -- 2. field rules obeyed when rows combine ------------------------------------------------


def pr(created: int, opened: int, merged: int) -> PrMetrics:
    closed = created - opened - merged
    return PrMetrics.model_validate(
        {
            "prs_created_count": created,
            "prs_opened_count": opened,
            "prs_merged_count": merged,
            "prs_closed_count": closed,
        }
    )


def test_states_add_up_over_windows_so_created_is_open_merged_closed() -> None:
    combined = combine_answers(PR_METRICS, [pr(10, 4, 5), pr(6, 1, 3)])
    assert combined.prs_opened_count == 5
    assert combined.prs_created_count == sum(getattr(combined, name) for name in PR_STATES)


def test_rollup_and_group_totals_of_prs_keep_the_identity(demo_client: mt.MetricsClient) -> None:
    days = fetch_series(demo_client, START, END, "day", metric="prs", by="org")
    for frame in (rollup(days, "week"), combine_groups(days), rollup(combine_groups(days), None)):
        created = frame[words.PRS_CREATED]
        assert (created == sum(frame[name] for name in PR_STATES)).all()
    weeks = fetch_series(demo_client, START, END, "week", metric="prs")
    rolled = combine_groups(rollup(days, "week"))
    for name in (words.PRS_CREATED, *PR_STATES):
        assert rolled[name].tolist() == weeks[name].tolist()


def test_distinct_counts_are_never_rolled_up_nor_summed_over_groups(
    demo_client: mt.MetricsClient,
) -> None:
    days = fetch_series(demo_client, START, END, "day", metric="active_users")
    with pytest.raises(InvalidParameterError, match=r"'active_users'.*coarser buckets"):
        rollup(days, "week")
    by_org = fetch_series(demo_client, START, END, "week", metric="active_users", by="org")
    with pytest.raises(InvalidParameterError, match=r"'active_users'.*union"):
        combine_groups(by_org)
    # what the message advises is exact: one distinct count per Berlin week
    weeks = fetch_series(demo_client, START, END, "week", tz="Europe/Berlin", metric="active_users")
    for start, row in weeks.iterrows():
        asked = demo_client.active_users(start, row["bucket_end"]).active_users
        assert row[words.ACTIVE_USERS] == asked
    assert (weeks[words.ACTIVE_USERS].to_numpy() < days[words.ACTIVE_USERS].sum()).all()


def test_a_mean_is_reweighted_by_the_weight_its_rule_names(
    demo_client: mt.MetricsClient,
) -> None:
    days = fetch_series(demo_client, START, END, "day")
    weeks = fetch_series(demo_client, START, END, "week")
    rolled = rollup(days, "week")
    assert np.allclose(rolled[words.AVERAGE], weeks[words.AVERAGE])
    assert np.allclose(rolled[words.ACUS_TOTAL], weeks[words.ACUS_TOTAL])


def test_a_frame_without_its_endpoint_keeps_the_sessions_rules(
    demo_client: mt.MetricsClient,
) -> None:
    days = fetch_series(demo_client, START, END, "day")
    bare = days.copy()
    bare.attrs = {}
    pd.testing.assert_frame_equal(
        rollup(bare, "week").drop(columns=[]), rollup(days, "week"), check_like=True
    )


# -- the one worker pool for several endpoints ----------------------------------------------


def test_one_pool_answers_calls_of_several_endpoints(demo_client: mt.MetricsClient) -> None:
    buckets = time_buckets(START, END, "week", now=NOW)
    calls = [
        Call(b, None, {"time_after": b.time_after, "time_before": b.time_before}, endpoint)
        for endpoint in (SESSION_METRICS, PR_METRICS, METRICS["searches"].enterprise)
        for b in buckets
    ]
    rows, stats = answer_all(demo_client, SESSION_METRICS, calls, 4, False, None, False)
    assert stats.calls == len(calls) == len(rows) and stats.failed == 0
    kinds = [type(row.metrics).__name__ for row in rows]
    assert kinds == ["SessionMetrics"] * 4 + ["PrMetrics"] * 4 + ["SearchMetrics"] * 4
    again, cached = answer_all(demo_client, SESSION_METRICS, calls, 4, False, None, False)
    assert [row.metrics for row in again] == [row.metrics for row in rows]
    assert cached.from_cache == len(calls)  # one store lookup per endpoint


# -- 3. native DAU/WAU/MAU lists ------------------------------------------------------------


@pytest.mark.parametrize("freq", ["day", "week", "month"])
def test_native_lists_are_the_distinct_counts_of_their_utc_buckets(
    demo_client: mt.MetricsClient, freq: str
) -> None:
    asked: list[Any] = []
    real = demo_client.request

    def count(*args: Any, **kwargs: Any) -> Any:
        asked.append(args[0].path)
        return real(*args, **kwargs)

    demo_client.request = count  # type: ignore[method-assign]
    frame = mt.fetch_active_user_periods(demo_client, "2026-09-01", "2026-11-20", freq)
    assert len(asked) <= 2  # one list (and the directory at most)
    demo_client.request = real  # type: ignore[method-assign]
    assert str(frame.index.tz) == "UTC" and frame.attrs["endpoint"] in ("dau", "wau", "mau")
    assert not frame["failed"].any()
    for start, row in frame.iterrows():
        asked_once = demo_client.active_users(start, row["bucket_end"]).active_users
        assert row[words.ACTIVE_USERS] == asked_once
    assert frame["partial"].tolist() == [end > NOW for end in frame["bucket_end"]]
    assert frame["clipped"].iloc[-1] == (freq != "day")
    with pytest.raises(InvalidParameterError, match="distinct"):
        rollup(frame, "month" if freq != "month" else None)


def test_a_berlin_week_of_native_lists_is_refused_pointing_to_the_exact_way(
    demo_client: mt.MetricsClient,
) -> None:
    with pytest.raises(InvalidParameterError, match=r"fetch_series\(.*active_users"):
        mt.fetch_active_user_periods(demo_client, START, END, "week", tz="Europe/Berlin")
    with pytest.raises(InvalidParameterError, match="freq"):
        mt.fetch_active_user_periods(demo_client, START, END, "quarter")


# -- 4. consumption in billing days ----------------------------------------------------------


def test_consumption_is_a_frame_of_billing_days_that_rolls_up_by_billing_day(
    demo_client: mt.MetricsClient,
) -> None:
    frame = mt.fetch_consumption(demo_client, "2026-10-05 08:00", "2026-11-02 08:00")
    assert frame.attrs["calendar"] == "billing days (08:00 UTC)"
    assert len(frame) == 28 and (frame.index.hour == 8).all()
    assert str(frame.index.tz) == "UTC"
    products = [c for c in frame.columns if c.startswith("acus_by_product.")]
    assert {"acus_by_product.devin", "acus_by_product.cascade"} <= set(products)
    assert np.allclose(frame[products].fillna(0).sum(axis=1), frame["acus"])
    answer = demo_client.consumption("2026-10-05 08:00", "2026-11-02 08:00")
    assert frame["acus"].sum() == pytest.approx(answer.total_acus)
    weeks = rollup(frame, "week")
    assert [t.isoformat() for t in weeks.index[:2]] == [
        "2026-10-05T08:00:00+00:00",
        "2026-10-12T08:00:00+00:00",
    ]  # Monday 08:00 UTC: each billing day in the week its start falls in
    assert len(weeks) == 4 and weeks["acus"].sum() == pytest.approx(frame["acus"].sum())
    first_week = demo_client.consumption("2026-10-05 08:00", "2026-10-12 08:00")
    assert weeks["acus"].iloc[0] == pytest.approx(first_week.total_acus)
    assert weeks["acus_by_product.devin"].notna().all()
    with pytest.raises(InvalidParameterError, match="billing days"):
        rollup(frame, "week", tz="Europe/Berlin")
    with pytest.raises(InvalidParameterError, match="billing days"):
        mt.fetch_consumption(demo_client, START, END, tz="America/Los_Angeles")


def test_consumption_rolls_up_to_billing_cycles_and_months(
    demo_client: mt.MetricsClient,
) -> None:
    cycles = demo_client.billing_cycles()
    frame = mt.fetch_consumption(demo_client, cycles[-3].after, cycles[-2].before)
    by_cycle = rollup(frame, "cycle", cycles=cycles)
    assert len(by_cycle) == 2 and not by_cycle["clipped"].any()
    for (start, row), cycle in zip(by_cycle.iterrows(), cycles[-3:-1], strict=True):
        assert start.timestamp() == cycle.after
        whole = demo_client.consumption(cycle.after, cycle.before).total_acus
        assert row["acus"] == pytest.approx(whole)
    months = rollup(frame, "month")
    assert (months.index.day == 1).all() and (months.index.hour == 8).all()


def test_the_current_cycle_rolls_up_to_its_days_so_far_clipped_not_failed(
    demo_client: mt.MetricsClient,
) -> None:
    cycles = demo_client.billing_cycles()
    frame = mt.fetch_consumption(demo_client, cycles[-2].after, demo_client.now())
    by_cycle = rollup(frame, "cycle", cycles=cycles)
    current = by_cycle.iloc[-1]
    assert len(by_cycle) == 2 and not by_cycle["failed"].any()
    assert bool(current["clipped"]) and bool(current["partial"])
    assert current["bucket_end"] == frame["bucket_end"].max()  # as far as the days go
    days = frame[frame.index >= by_cycle.index[-1]]
    assert current["acus"] == pytest.approx(days["acus"].sum()) and current["acus"] > 0


def test_consumption_per_organization_holds_only_devin(
    demo_client: mt.MetricsClient, org_id: str
) -> None:
    frame = mt.fetch_consumption(demo_client, START, END, by="org", ids=[org_id])
    assert set(frame["org_id"]) == {org_id}
    assert np.allclose(frame["acus"], frame["acus_by_product.devin"])
    total = mt.fetch_consumption(demo_client, START, END)
    assert frame["acus"].sum() < total["acus"].sum()
    assert rollup(frame, "week")["org_id"].tolist() == [org_id] * 5


# -- 5. sessions by category, tidy ----------------------------------------------------------


def test_categories_are_a_tidy_frame_adding_up_to_each_bucket(
    demo_client: mt.MetricsClient,
) -> None:
    frame = mt.category_frame(demo_client, START, END, "week", tz="Europe/Berlin")
    assert {"category", "subcategory", "sessions_count", "acus"} <= set(frame.columns)
    per_bucket = frame.groupby("bucket_start")["sessions_count"].sum()
    sessions = fetch_series(demo_client, START, END, "week", tz="Europe/Berlin")
    assert per_bucket.tolist() == sessions[words.SESSIONS].tolist()
    first = frame[frame["bucket_start"] == frame["bucket_start"].iloc[0]]
    answer = demo_client.sessions_by_category(
        first["bucket_start"].iloc[0], first["bucket_end"].iloc[0]
    )
    for category in answer.categories:
        rows = first[first["category"] == category.category]
        assert rows["sessions_count"].sum() == category.sessions_count
        assert rows["acus"].sum() == pytest.approx(category.acus)


def test_categories_at_organization_scope_are_refused(org_client: mt.MetricsClient) -> None:
    with pytest.raises(ScopeError, match="enterprise scope"):
        mt.category_frame(org_client, START, END)


# -- 6. the one table of the common question ------------------------------------------------


@pytest.mark.parametrize("by", [None, "org"])
def test_the_overview_equals_each_endpoints_series_and_keeps_its_identities(
    demo_client: mt.MetricsClient, by: str | None
) -> None:
    table = mt.overview(demo_client, START, END, "week", tz="Europe/Berlin", by=by)
    single = {
        metric: fetch_series(
            demo_client, START, END, "week", tz="Europe/Berlin", metric=metric, by=by
        )
        for metric in ("sessions", "prs", "searches", "active_users")
    }
    assert table.index.equals(single["sessions"].index)
    assert table[words.SESSIONS].tolist() == single["sessions"][words.SESSIONS].tolist()
    assert table[words.PRS_CREATED].tolist() == single["prs"][words.PRS_CREATED].tolist()
    assert table[words.PRS_MERGED].tolist() == single["prs"][words.PRS_MERGED].tolist()
    assert table[words.SEARCHES].tolist() == single["searches"][words.SEARCHES].tolist()
    assert table[words.ACTIVE_USERS].tolist() == single["active_users"][words.ACTIVE_USERS].tolist()
    assert np.allclose(table["acus"], single["sessions"][words.ACUS_TOTAL], equal_nan=True)
    rate = table[words.PRS_MERGED] / table[words.PRS_CREATED]
    assert np.allclose(table["pr_merge_rate"], rate.astype(float), equal_nan=True)
    per_user = table[words.SEARCHES] / table[words.ACTIVE_USERS]
    assert np.allclose(table["searches_per_active_user"], per_user.astype(float), equal_nan=True)
    assert (table[words.PRS_MERGED] <= table[words.PRS_CREATED]).all()
    if by == "org":  # usage per organization: sessions, searches and PRs agree
        usage = fetch_series(
            demo_client, START, END, "week", tz="Europe/Berlin", metric="usage", by="org"
        )
        assert table[words.SESSIONS].tolist() == usage["sessions_count"].tolist()
        assert table[words.SEARCHES].tolist() == usage["searches_count"].tolist()
        with pytest.raises(InvalidParameterError, match="active_users"):
            combine_groups(table)
    with pytest.raises(InvalidParameterError, match="active_users"):
        rollup(table, "month")
    stats = table.attrs["fetch_stats"]
    assert stats.calls == 4 * len(table) and table.attrs["endpoint"] == "overview"


def test_the_overview_at_organization_scope(org_client: mt.MetricsClient) -> None:
    table = mt.overview(org_client, START, END, "week")
    sessions = fetch_series(org_client, START, END, "week")
    assert table[words.SESSIONS].tolist() == sessions[words.SESSIONS].tolist()
    with pytest.raises(ScopeError):
        mt.overview(org_client, START, END, "week", by="org")
