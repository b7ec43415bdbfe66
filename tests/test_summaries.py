"""The reader tables (top groups, KPIs) and the one combine under them, on inline frames."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import charts, report, summaries
from metrics_toolkit.frames import Row, combine_groups
from metrics_toolkit.report.totals import weekly_totals

NOW = "2026-11-25T03:00:00Z"
#: Weeks 2026-W45 .. 2026-W47 (Mondays 2, 9 and 16 Nov 2026), all complete at NOW.
WEEKS = ("2026-W45", "2026-W46", "2026-W47")


def body(created: int, merged: int, avg: float = 2.0) -> dict[str, Any]:
    return {
        "sessions_created_count": created,
        "sessions_created_by_origin": {"webapp": created},
        "sessions_created_by_size": {"xs": created},
        "sessions_created_with_playbook_count": created // 4,
        "sessions_created_with_search_count": 0,
        "sessions_with_merged_prs_count": merged,
        "sessions_with_merged_prs_by_size": {"xs": merged},
        "avg_acus_per_session": avg,
    }


def by_org(groups: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    """A weekly breakdown frame over WEEKS: ``{org id: [answer per week]}``."""
    start = report.week_bounds(WEEKS[0])[0]
    end = report.week_bounds(WEEKS[-1])[1]
    buckets = mt.time_buckets(start, end, "week", tz="UTC", now=NOW)
    rows = [
        Row(bucket, org, mt.SessionMetrics.model_validate(answer))
        for org, answers in groups.items()
        for bucket, answer in zip(buckets, answers, strict=True)
    ]
    frame = mt.wide_frame(rows, group_by="org").sort_index(kind="stable")
    frame.attrs.update({"freq": "week", "tz": "UTC", "group_by": "org"})
    return frame


def without(frame: pd.DataFrame, org: str, week: str) -> pd.DataFrame:
    """``frame`` less one org's row in one week, as ``FetchError.frame`` gives it."""
    start = report.week_bounds(week)[0]
    kept = frame[~((frame.index == start) & (frame["org_id"] == org))]
    kept.attrs = dict(frame.attrs)
    return kept


ORGS = {
    "org-a": [body(100, 50), body(110, 55), body(120, 60)],
    "org-b": [body(300, 90), body(310, 93), body(320, 96)],
}


# -- one combine: a week missing a group's row is not a week -------------------------------------


def test_a_week_missing_one_groups_row_is_na_in_every_total() -> None:
    frame = without(by_org(ORGS), "org-b", "2026-W47")
    w47 = report.week_bounds("2026-W47")[0]
    assert pd.isna(combine_groups(frame).loc[w47, "sessions_created_count"])
    totals = weekly_totals(frame)
    assert math.isnan(totals.loc[w47, "sessions_created_count"])  # not org-a's 120 alone
    assert bool(totals.loc[w47, "failed"])
    table = charts.kpi_table(frame)  # not a silent fall-back to W46
    assert table.attrs["bucket_start"] == w47
    assert table["current"].isna().all() and table["previous"].isna().all()
    assert summaries.kpi_table(frame).equals(table)


def test_a_week_before_missing_one_groups_row_is_not_compared() -> None:
    frame = without(by_org(ORGS), "org-b", "2026-W46")
    kpis = report.weekly_kpis(frame, "2026-W47")
    assert kpis.loc["sessions_created_count", "this_week"] == 440
    assert kpis["previous_week"].isna().all()  # not org-a's 110 alone
    assert report.what_changed(frame, "2026-W47")[0].startswith("No comparison")
    table = charts.kpi_table(frame)
    assert table.loc["sessions_created_count", "current"] == 440
    assert table["previous"].isna().all()


def test_totals_are_the_sums_and_the_acus_re_weighted() -> None:
    frame = by_org({"org-a": [body(10, 1, 1.0)] * 3, "org-b": [body(30, 3, 3.0)] * 3})
    totals = weekly_totals(frame)
    assert list(totals["sessions_created_count"]) == [40.0] * 3
    np.testing.assert_allclose(totals["acus_total"], [100.0] * 3)
    kpis = summaries.kpis_of(totals.iloc[-1])
    assert kpis["avg_acus_per_session"] == pytest.approx(100 / 40)
    assert kpis["merged_pr_rate"] == pytest.approx(4 / 40)


# -- the KPIs and their labels, said once ------------------------------------------------------


def test_the_chart_card_and_the_report_share_the_kpi_labels() -> None:
    assert {m: report.KPI_LABELS[m] for m in charts.KPI_METRICS} == charts.KPI_METRICS
    assert report.KPI_LABELS["avg_acus_per_session"] == "ACUs per session"
    assert charts.kpi_table is summaries.kpi_table
    assert charts.top_groups is summaries.top_groups


def test_a_week_without_sessions_has_no_rate_and_no_acus() -> None:
    frame = by_org({"org-a": [body(0, 0, 0.0)] * 3, "org-b": [body(0, 0, 0.0)] * 3})
    totals = weekly_totals(frame)
    assert totals["acus_total"].isna().all()  # no average to weigh: no total, not 0
    assert not totals["failed"].any() and (totals["sessions_created_count"] == 0).all()
    kpis = summaries.kpis_of(totals.iloc[-1])
    assert math.isnan(kpis["merged_pr_rate"]) and math.isnan(kpis["avg_acus_per_session"])
    assert math.isnan(kpis["acus_total"])
    assert math.isnan(summaries.kpi_table(frame).loc["acus_total", "current"])


def test_bucket_totals_give_the_acus_of_a_bucket_without_sessions_as_the_frames_do() -> None:
    """NaN, as a fetched frame and a rollup have it; a group without sessions adds nothing."""
    expected = [15.0, np.nan, 24.0]
    empty_week = [body(10, 1, 1.5), body(0, 0, 0.0), body(12, 2, 2.0)]
    total = by_org({"org-a": empty_week}).drop(columns=["org_id", "org_name"], errors="ignore")
    total.attrs = {"freq": "week", "tz": "UTC"}
    assert math.isnan(total["acus_total"].iloc[1])  # the fetched frame's own value
    np.testing.assert_array_equal(summaries.bucket_totals(total)["acus_total"], expected)
    rolled = mt.rollup(total, "week")
    np.testing.assert_array_equal(rolled["acus_total"], expected)
    np.testing.assert_array_equal(summaries.bucket_totals(rolled)["acus_total"], expected)
    frame = by_org({"org-a": empty_week, "org-b": [body(0, 0, 0.0)] * 3})
    np.testing.assert_array_equal(weekly_totals(frame)["acus_total"], expected)
    mixed = by_org({"org-a": empty_week, "org-b": [body(0, 0, 0.0), body(4, 1, 3.0), body(0, 0)]})
    np.testing.assert_array_equal(weekly_totals(mixed)["acus_total"], [15.0, 12.0, 24.0])


# -- provisional values ----------------------------------------------------------------------

#: 2026-W47, the last week of the frames here, ends on Monday 23 Nov 2026 00:00 UTC.
W47_END = pd.Timestamp("2026-11-23", tz="UTC")
SETTLING = ["merged_pr_rate", "acus_total", "avg_acus_per_session"]


@pytest.mark.parametrize(
    ("days", "current", "previous"),
    [(3, True, True), (13, True, False), (20, False, False)],
    ids=["ended 3 days ago", "13 days, the week before 20", "ended 20 days ago"],
)
def test_the_kpi_table_flags_values_of_buckets_ended_within_the_settle_period(
    days: int, current: bool, previous: bool
) -> None:
    frame = by_org(ORGS)
    frame.attrs["now"] = W47_END + pd.Timedelta(days=days)  # as a fetch records it
    table = summaries.kpi_table(frame)
    assert table.loc[SETTLING, "current_provisional"].tolist() == [current] * 3
    assert table.loc[SETTLING, "previous_provisional"].tolist() == [previous] * 3
    sessions = table.loc["sessions_created_count"]
    assert not sessions["current_provisional"] and not sessions["previous_provisional"]
    explicit = summaries.kpi_table(by_org(ORGS), now=W47_END + pd.Timedelta(days=days))
    assert explicit[["current_provisional", "previous_provisional"]].equals(
        table[["current_provisional", "previous_provisional"]]
    )


def test_a_shorter_settle_period_settles_sooner_and_nothing_is_flagged_without_a_value() -> None:
    frame = by_org(ORGS)
    week = dt.timedelta(days=7)
    table = summaries.kpi_table(frame, now=W47_END + pd.Timedelta(days=8), settle_period=week)
    assert not table["current_provisional"].any()
    failed = without(by_org(ORGS), "org-b", "2026-W47")  # no numbers: nothing to flag
    flags = summaries.kpi_table(failed, now=W47_END + pd.Timedelta(days=3))
    assert not flags[["current_provisional", "previous_provisional"]].to_numpy().any()


def test_provisional_is_the_answer_stores_rule() -> None:
    policy = mt.CachePolicy()
    end = int(W47_END.timestamp())
    for days in (0, 3, 13.9, 14, 20):
        now = W47_END + pd.Timedelta(days=days)
        kept_for_good = policy.expire_after(end, int(now.timestamp())) == math.inf
        assert summaries.is_provisional(W47_END, now) is (not kept_for_good)
    assert summaries.is_provisional(W47_END, W47_END + pd.Timedelta(days=3))
    assert not summaries.is_provisional(W47_END, W47_END + pd.Timedelta(days=20))
    assert summaries.is_provisional(W47_END, W47_END - pd.Timedelta(hours=1))  # not ended yet
    assert tuple(SETTLING) == summaries.SETTLING_KPIS
