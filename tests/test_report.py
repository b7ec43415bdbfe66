"""The weekly report: pure helpers on inline frames, parameter checks, and full renders to HTML."""

from __future__ import annotations

import json
import math
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import report
from metrics_toolkit.frames import Row
from metrics_toolkit.periods import fetch_consumption
from metrics_toolkit.report import render
from metrics_toolkit.report.family import FAMILY_KPI_LABELS

NOW = "2026-11-25T03:00:00Z"
#: Weeks 2026-W42 .. 2026-W47 (Mondays 12 Oct .. 16 Nov 2026), all complete at NOW.
WEEKS = ("2026-W42", "2026-W43", "2026-W44", "2026-W45", "2026-W46", "2026-W47")
SIZES = ("xs", "s", "m", "l", "xl")
#: Charts the report draws: trend (total, by org), origin mix, size mix, merge rate (total,
#: by size), ACUs; active users; PR outcomes; ACUs by product, by organization, the billing
#: cycle; sessions by category and subcategory; one more (sessions by playbook) when playbooks
#: are chosen.
REPORT_CHARTS = 14
#: The sections of the metrics family and the charts each holds at least (enterprise scope).
FAMILY_SECTIONS = {"Adoption": 1, "Outcomes": 1, "Cost": 3, "Use": 2}
FAKE_TOKEN = "cog_report_test_token_must_not_leak_0123456789"


# -- inline frames --------------------------------------------------------------------------


def payload(
    created: int,
    merged: int,
    *,
    avg: float = 2.0,
    playbook: int = 0,
    origins: dict[str, int] | None = None,
    sizes: dict[str, int] | None = None,
    merged_sizes: dict[str, int] | None = None,
) -> dict[str, Any]:
    """An answer whose origins and sizes add up: by default all webapp, all XS."""
    return {
        "sessions_created_count": created,
        "sessions_created_by_origin": origins if origins is not None else {"webapp": created},
        "sessions_created_by_size": sizes if sizes is not None else {"xs": created},
        "sessions_created_with_playbook_count": playbook,
        "sessions_created_with_search_count": 0,
        "sessions_with_merged_prs_count": merged,
        "sessions_with_merged_prs_by_size": (
            merged_sizes if merged_sizes is not None else {"xs": merged}
        ),
        "avg_acus_per_session": avg,
    }


def weekly_frame(
    *bodies: dict[str, Any] | None, tz: str = "UTC", group: str | None = None, now: str = NOW
) -> pd.DataFrame:
    """A weekly wide frame ending with 2026-W47, one body per week (None: a failed call)."""
    first = WEEKS[-len(bodies)]
    start = report.week_bounds(first, tz)[0]
    end = report.week_bounds("2026-W47", tz)[1]
    buckets = mt.time_buckets(start, end, "week", tz=tz, now=now)
    rows = [
        Row(
            bucket,
            group,
            None if body is None else mt.SessionMetrics.model_validate(body),
            None if body is not None else "ServerError: HTTP 500",
        )
        for bucket, body in zip(buckets, bodies, strict=True)
    ]
    frame = mt.wide_frame(rows, group_by=None if group is None else "org")
    frame.attrs.update({"freq": "week", "tz": tz, "now": pd.Timestamp(now)})
    return frame


def org_frame(groups: dict[str, list[dict[str, Any]]]) -> pd.DataFrame:
    """A weekly breakdown frame by org: ``{name: [body per week]}``, ids ``org-<name>``."""
    parts = []
    for name, bodies in groups.items():
        part = weekly_frame(*bodies, group=f"org-{name.lower()}")
        part.insert(1, "org_name", name)
        parts.append(part)
    frame = pd.concat(parts).sort_index(kind="stable")
    frame.attrs.update({"freq": "week", "tz": "UTC", "group_by": "org", "now": pd.Timestamp(NOW)})
    return frame


# -- ISO weeks ------------------------------------------------------------------------------


def test_parse_week_accepts_iso_weeks() -> None:
    assert report.parse_week("2026-W47") == (2026, 47)
    assert report.parse_week("2026-W53") == (2026, 53)  # 2026 has 53 ISO weeks
    assert report.parse_week("2020-W01") == (2020, 1)


@pytest.mark.parametrize(
    "week", ["2026-47", "2026-W7", "2026W47", "2026-w47", "2026-W00", "2025-W53", "", 202647]
)
def test_parse_week_refuses_other_forms_naming_week(week: Any) -> None:
    with pytest.raises(mt.InvalidParameterError) as caught:
        report.parse_week(week)
    assert caught.value.parameter == "week"
    assert "2026-W47" in str(caught.value) or "weeks 01 to" in str(caught.value)


def test_week_bounds_in_a_time_zone_match_the_week_buckets() -> None:
    start, end = report.week_bounds("2026-W47", "Europe/Berlin")
    assert start == pd.Timestamp("2026-11-16 00:00", tz="Europe/Berlin")
    assert end == pd.Timestamp("2026-11-23 00:00", tz="Europe/Berlin")
    (bucket,) = mt.time_buckets(start, end, "week", tz="Europe/Berlin")
    assert (bucket.start, bucket.end, bucket.clipped) == (start, end, False)
    utc_start, _ = report.week_bounds("2026-W47", "UTC")
    assert (start - utc_start) == pd.Timedelta(hours=-1)


def test_week_bounds_across_dst_changes() -> None:
    spring = report.week_bounds("2026-W13", "Europe/Berlin")  # clocks forward on 29 March
    autumn = report.week_bounds("2026-W43", "Europe/Berlin")  # clocks back on 25 October
    assert spring[1] - spring[0] == pd.Timedelta(hours=167)
    assert autumn[1] - autumn[0] == pd.Timedelta(hours=169)


def test_week_of_shift_week_and_year_boundaries() -> None:
    assert report.week_of("2026-11-22 23:30", "UTC") == "2026-W47"
    assert report.week_of("2026-11-22 23:30Z", "Europe/Berlin") == "2026-W48"
    assert report.week_of("2027-01-01", "UTC") == "2026-W53"
    assert report.shift_week("2027-W01", -1) == "2026-W53"
    assert report.shift_week("2026-W47", 2) == "2026-W49"
    assert report.shift_week("2026-W47", 0) == "2026-W47"


def test_last_complete_week() -> None:
    assert report.last_complete_week("2026-11-25 03:00Z", "UTC") == "2026-W47"
    assert report.last_complete_week("2026-11-23 00:00Z", "UTC") == "2026-W47"  # just ended
    assert report.last_complete_week("2026-11-22 23:59:59Z", "UTC") == "2026-W46"
    # 23:30 UTC on Sunday is already Monday in Berlin: W47 is complete there, not in UTC
    assert report.last_complete_week("2026-11-22 23:30Z", "Europe/Berlin") == "2026-W47"


def test_check_complete_week_refuses_the_running_and_future_weeks() -> None:
    assert report.check_complete_week("2026-W47", "UTC", NOW) == "2026-W47"
    with pytest.raises(mt.InvalidParameterError) as caught:
        report.check_complete_week("2026-W48", "UTC", NOW)
    assert caught.value.parameter == "week"
    message = str(caught.value)
    assert "still running" in message and "2026-W47" in message and "not complete" in message
    with pytest.raises(mt.InvalidParameterError, match="in the future"):
        report.check_complete_week("2027-W05", "UTC", NOW)


def test_week_title() -> None:
    assert (
        report.week_title("2026-W47", "Europe/Berlin")
        == "Weekly report — 2026-W47 (16–22 Nov 2026, Europe/Berlin)"
    )
    assert (
        report.week_title("2026-W49", "UTC")
        == "Weekly report — 2026-W49 (30 Nov – 6 Dec 2026, UTC)"
    )
    assert (
        report.week_title("2026-W01", "UTC")
        == "Weekly report — 2026-W01 (29 Dec 2025 – 4 Jan 2026, UTC)"
    )


# -- KPIs -----------------------------------------------------------------------------------


def test_weekly_kpis_compare_with_last_week_and_the_four_week_ratio_of_sums() -> None:
    frame = weekly_frame(
        payload(100, 90, avg=1.0, playbook=10),  # W42: outside the baseline
        payload(100, 10, avg=1.0, playbook=10),  # W43
        payload(300, 150, avg=2.0, playbook=30),  # W44
        payload(100, 10, avg=1.0, playbook=10),  # W45
        payload(100, 10, avg=4.0, playbook=50),  # W46
        payload(200, 100, avg=3.0, playbook=40),  # W47: the report's week
    )
    kpis = report.weekly_kpis(frame, "2026-W47")
    assert list(kpis.index) == list(report.KPI_LABELS)
    assert kpis.attrs["week"] == "2026-W47"
    row = kpis.loc["sessions_created_count"]
    assert (row["this_week"], row["previous_week"], row["four_week_average"]) == (200, 100, 150)
    assert row["change_pct"] == pytest.approx(100.0)
    assert row["change_vs_average_pct"] == pytest.approx(100 / 3)
    rate = kpis.loc["merged_pr_rate"]
    assert rate["this_week"] == pytest.approx(0.5)
    assert rate["previous_week"] == pytest.approx(0.1)
    # ratio of sums over W43..W46: 180 / 600 = 0.3, not the mean of the rates (0.2)
    assert rate["four_week_average"] == pytest.approx(0.3)
    assert rate["change"] == pytest.approx(0.4)
    acus = kpis.loc["acus_total"]
    assert acus["this_week"] == pytest.approx(600.0)
    assert acus["four_week_average"] == pytest.approx((100 + 600 + 100 + 400) / 4)
    average = kpis.loc["avg_acus_per_session"]
    assert average["four_week_average"] == pytest.approx(1200 / 600)  # weighted, not 2.0 mean
    assert kpis.loc["playbook_share", "four_week_average"] == pytest.approx(100 / 600)


def test_weekly_kpis_leave_comparisons_nan_when_a_week_is_missing_or_failed() -> None:
    frame = weekly_frame(payload(10, 5), None, payload(20, 10))
    kpis = report.weekly_kpis(frame, "2026-W47")
    assert kpis.loc["sessions_created_count", "this_week"] == 20
    assert math.isnan(kpis.loc["sessions_created_count", "previous_week"])
    assert kpis["four_week_average"].isna().all()


def test_weekly_kpis_compare_only_adjacent_weeks() -> None:
    frame = weekly_frame(*[payload(10, 5)] * 6)
    gap = frame.drop(index=frame.index[-2])  # no W46: W45 is not "the week before"
    kpis = report.weekly_kpis(gap, "2026-W47")
    assert kpis["previous_week"].isna().all() and kpis["four_week_average"].isna().all()
    assert report.what_changed(gap, "2026-W47")[0].startswith("No comparison")


def test_weekly_kpis_need_week_buckets() -> None:
    start, end = report.week_bounds("2026-W47")
    buckets = mt.time_buckets(start, end, "day", now=NOW)
    body = mt.SessionMetrics.model_validate(payload(10, 5))
    daily = mt.wide_frame([Row(bucket, None, body) for bucket in buckets])
    with pytest.raises(mt.InvalidParameterError, match="freq='week'"):
        report.weekly_kpis(daily, "2026-W47")


def test_weekly_kpis_refuse_a_partial_week() -> None:
    frame = weekly_frame(payload(10, 5), payload(20, 10), now="2026-11-20T00:00:00Z")
    with pytest.raises(mt.InvalidParameterError, match="partial"):
        report.weekly_kpis(frame, "2026-W47")
    with pytest.raises(mt.InvalidParameterError, match="not a bucket"):
        report.weekly_kpis(frame, "2026-W30")


def test_weekly_kpis_sum_a_breakdown_over_its_groups() -> None:
    frame = org_frame(
        {
            "A": [payload(10, 1, avg=1.0), payload(30, 3, avg=1.0)],
            "B": [payload(10, 9, avg=3.0), payload(10, 9, avg=5.0)],
        }
    )
    kpis = report.weekly_kpis(frame, "2026-W47")
    assert kpis.loc["sessions_created_count", "this_week"] == 40
    assert kpis.loc["merged_pr_rate", "this_week"] == pytest.approx(12 / 40)
    assert kpis.loc["avg_acus_per_session", "this_week"] == pytest.approx((30 + 50) / 40)


def test_format_kpis() -> None:
    frame = weekly_frame(*[payload(100, 40, avg=2.0, playbook=20)] * 5, payload(120, 54))
    table = report.format_kpis(report.weekly_kpis(frame, "2026-W47"))
    assert list(table.index) == list(report.KPI_LABELS.values())
    assert list(table.columns) == [
        "2026-W47",
        "Previous week",
        "Change",
        "4-week average",
        "Change vs average",
    ]
    assert table.loc["Sessions created", "2026-W47"] == "120"
    assert table.loc["Sessions created", "Change"] == "▲ +20.0%"  # no space before %
    # W47 ended 2 days before NOW: its merged-PR rate is provisional, its count is not
    assert table.loc["Merged-PR rate", "2026-W47"] == "45.0%†"
    assert table.loc["Merged-PR rate", "Change"] == "▲ +5.0 pp†"
    assert table.loc["Playbook share", "Change"] == "▼ −20.0 pp"


# -- groups ---------------------------------------------------------------------------------


def test_wilson_interval() -> None:
    low, high = report.wilson_interval(2, 2)
    assert low[0] == pytest.approx(0.3424, abs=1e-4) and high[0] == 1.0
    low, high = report.wilson_interval([50, 0], [100, 0])
    assert low[0] == pytest.approx(0.4038, abs=1e-4) and high[0] == pytest.approx(0.5962, abs=1e-4)
    assert math.isnan(low[1]) and math.isnan(high[1])


def simpson_groups() -> dict[str, list[dict[str, Any]]]:
    """A merges more often than B in each size, less often overall (mostly XL vs mostly XS)."""
    a = payload(
        100,
        37,
        sizes={"xs": 10, "xl": 90},
        merged_sizes={"xs": 10, "xl": 27},  # 100 % and 30 %
        origins={"slack": 100},
    )
    b = payload(
        100,
        72,
        sizes={"xs": 90, "xl": 10},
        merged_sizes={"xs": 72, "xl": 0},  # 80 % and 0 %
        origins={"slack": 100},
    )
    tiny = payload(2, 2, sizes={"xs": 2}, merged_sizes={"xs": 2})
    return {"A": [a, a], "B": [b, b], "Tiny": [tiny, tiny]}


def test_group_ranking_flags_small_denominators_and_adjusts_for_size() -> None:
    ranking = report.group_ranking(org_frame(simpson_groups()), "2026-W47")
    assert list(ranking["name"]) == ["B", "A", "Tiny"]
    assert ranking.index.name == "org_id"
    assert list(ranking["rank"].astype("object")) == [1, 2, pd.NA]
    assert list(ranking["few_sessions"]) == [False, False, True]
    assert ranking.loc["org-tiny", "merged_pr_rate"] == 1.0
    assert ranking.loc["org-tiny", "rate_low"] < 0.5
    # the common mix over all three groups: 102 XS, 100 XL
    mix = {"xs": 102 / 202, "xl": 100 / 202}
    assert ranking.loc["org-a", "size_adjusted_rate"] == pytest.approx(
        mix["xs"] * 1.0 + mix["xl"] * 0.3
    )
    assert ranking.loc["org-b", "size_adjusted_rate"] == pytest.approx(mix["xs"] * 0.8)
    assert ranking.loc["org-a", "adjusted_rank"] == 1
    assert ranking.loc["org-b", "adjusted_rank"] == 2
    assert ranking.loc["org-a", "change"] == pytest.approx(0.0)


def test_size_adjusted_rate_is_nan_without_sessions_in_a_weighted_size() -> None:
    created = pd.DataFrame({"xs": [10.0, 0.0], "xl": [10.0, 10.0]}, index=["a", "b"])
    merged = pd.DataFrame({"xs": [5.0, 0.0], "xl": [1.0, 2.0]}, index=["a", "b"])
    adjusted = report.size_adjusted_rate(created, merged, pd.Series({"xs": 0.5, "xl": 0.5}))
    assert adjusted["a"] == pytest.approx(0.3)
    assert math.isnan(adjusted["b"])
    only_xl = report.size_adjusted_rate(created, merged, pd.Series({"xs": 0.0, "xl": 1.0}))
    assert only_xl["b"] == pytest.approx(0.2)


def test_top_and_bottom_keeps_the_ends_then_the_flagged_groups() -> None:
    groups = {f"G{i:02d}": [payload(100, i), payload(100, i)] for i in range(10)}
    groups["Small"] = [payload(5, 5), payload(5, 5)]
    ranking = report.group_ranking(org_frame(groups), "2026-W47")
    ends = report.top_and_bottom(ranking, 3)
    assert list(ends["name"]) == ["G09", "G08", "G07", "G02", "G01", "G00", "Small"]
    table = report.format_ranking(ends)
    assert list(table.columns) == [
        "#",
        "Organization",
        "Sessions",
        "Merged-PR rate",
        "95% range",
        "Size-adjusted",
        "vs previous week",
        "Note",
    ]
    assert table["#"].tolist()[:3] == ["1", "2", "3"]
    assert table.iloc[-1]["Note"].startswith("fewer than 30 sessions")
    assert report.top_and_bottom(ranking.iloc[:4], 3)["name"].tolist() == [
        "G09",
        "G08",
        "G07",
        "G06",
    ]


# -- what changed ---------------------------------------------------------------------------


def test_what_changed_names_the_largest_moves_in_plain_sentences() -> None:
    base = {"slack": 212, "webapp": 500, "jira": 4}
    after = {"slack": 270, "webapp": 500, "jira": 9}
    before_week = payload(716, 358, origins=base, sizes={"xs": 716}, merged_sizes={"xs": 358})
    this_week = payload(779, 390, origins=after, sizes={"xs": 779}, merged_sizes={"xs": 390})
    frame = weekly_frame(before_week, this_week)
    sentences = report.what_changed(frame, "2026-W47")
    # the total (+9 %) is within noise; Jira more than doubled, but on too few sessions
    assert sentences == ["Slack sessions rose 27% (212 → 270)."]


def test_what_changed_covers_rates_acus_and_groups() -> None:
    frame = weekly_frame(
        payload(1000, 500, avg=2.0, playbook=100), payload(1000, 300, avg=3.0, playbook=100)
    )
    groups = org_frame(
        {"Platform": [payload(400, 200), payload(200, 100)], "Data": [payload(20, 2)] * 2}
    )
    sentences = report.what_changed(frame, "2026-W47", groups=[groups], provisional=True)
    assert "The merged-PR rate fell 20.0 points (50.0%† → 30.0%†)." in sentences
    assert "ACUs per session rose 50% (2.00† → 3.00†)." in sentences
    assert "ACUs in total rose 50% (2,000† → 3,000†)." in sentences
    assert "Sessions in Platform fell 50% (400 → 200)." in sentences
    assert not any("Data" in sentence for sentence in sentences)
    assert len(sentences) == 4
    assert len(report.what_changed(frame, "2026-W47", groups=groups, limit=2)) == 2


def test_what_changed_without_a_move_or_a_comparison() -> None:
    steady = weekly_frame(payload(500, 250), payload(505, 252))
    assert report.what_changed(steady, "2026-W47") == [
        "Nothing moved enough to list against 2026-W46 (listed: counts and rates that moved "
        "by 2 standard errors or more, ACUs by 10% or more)."
    ]
    failed_before = weekly_frame(None, payload(500, 250))
    assert report.what_changed(failed_before, "2026-W47") == [
        "No comparison: the week before 2026-W47 is missing or incomplete."
    ]


def test_what_changed_reports_a_new_origin_from_zero() -> None:
    frame = weekly_frame(
        payload(500, 250, origins={"webapp": 500}),
        payload(560, 280, origins={"webapp": 500, "github": 60}),
    )
    assert "Github sessions rose from 0 to 60." in report.what_changed(frame, "2026-W47")


# -- provisional values, in one voice --------------------------------------------------------

#: 2026-W47 ends on Monday 23 Nov 2026 00:00 UTC; W46 a week earlier.
W47_END = pd.Timestamp("2026-11-23", tz="UTC")
#: KPIs whose value of a recent week still moves (merged PRs and ACUs arrive late).
SETTLING = ["merged_pr_rate", "acus_total", "avg_acus_per_session"]
MERGED = "sessions_with_merged_prs_count"


def days_after_w47(days: int) -> pd.Timestamp:
    return W47_END + pd.Timedelta(days=days)


@pytest.mark.parametrize(
    ("days", "this_week", "before"),
    [(3, True, True), (13, True, False), (20, False, False)],
    ids=["W47 ended 3 days ago", "W47 13 days, W46 20 days", "W47 ended 20 days ago"],
)
def test_weekly_kpis_flag_values_of_weeks_ended_within_the_settle_period(
    days: int, this_week: bool, before: bool
) -> None:
    frame = weekly_frame(*[payload(100, 40, avg=2.0, playbook=20)] * 5, payload(120, 54))
    kpis = report.weekly_kpis(frame, "2026-W47", now=days_after_w47(days))
    assert kpis.loc[SETTLING, "this_week_provisional"].tolist() == [this_week] * 3
    assert kpis.loc[SETTLING, "previous_week_provisional"].tolist() == [before] * 3
    # the 4-week average's latest week is W46
    assert kpis.loc[SETTLING, "four_week_average_provisional"].tolist() == [before] * 3
    counts = ["sessions_created_count", "playbook_share"]  # fixed once the week ended
    flags = ["this_week_provisional", "previous_week_provisional", "four_week_average_provisional"]
    assert not kpis.loc[counts, flags].to_numpy().any()


def test_the_kpi_table_marks_provisional_cells_and_explains_the_mark() -> None:
    frame = weekly_frame(*[payload(100, 40, avg=2.0, playbook=20)] * 5, payload(120, 54))
    mixed = report.format_kpis(report.weekly_kpis(frame, "2026-W47", now=days_after_w47(13)))
    rate = mixed.loc["Merged-PR rate"]
    assert rate.tolist() == ["45.0%†", "40.0%", "▲ +5.0 pp†", "40.0%", "▲ +5.0 pp†"]
    assert mixed.loc["ACUs total", "Previous week"] == "200"  # W46: settled
    assert "†" not in "".join(mixed.loc["Sessions created"])
    note = mixed.attrs["note"]
    assert note.startswith("† Provisional:") and "14 days" in note
    assert note in report.style_table(mixed).to_html()  # under the table, in its caption
    settled = report.format_kpis(report.weekly_kpis(frame, "2026-W47", now=days_after_w47(20)))
    assert "†" not in "".join(settled.to_numpy().ravel())
    assert settled.attrs["note"] == ""
    assert "<caption" not in report.style_table(settled).to_html()


def test_what_changed_marks_the_provisional_week_by_itself() -> None:
    frame = weekly_frame(payload(1000, 500, avg=2.0), payload(1000, 300, avg=3.0))
    recent = report.what_changed(frame, "2026-W47", now=days_after_w47(13))
    assert "The merged-PR rate fell 20.0 points (50.0% → 30.0%†)." in recent
    assert "ACUs in total rose 50% (2,000 → 3,000†)." in recent
    assert "ACUs per session rose 50% (2.00 → 3.00†)." in recent
    both = report.what_changed(frame, "2026-W47", now=days_after_w47(3))
    assert "The merged-PR rate fell 20.0 points (50.0%† → 30.0%†)." in both
    settled = report.what_changed(frame, "2026-W47", now=days_after_w47(20))
    assert "The merged-PR rate fell 20.0 points (50.0% → 30.0%)." in settled
    assert not any("†" in sentence for sentence in settled)
    listed = report.changes_html(recent, intro="The largest moves.")
    assert str(listed).startswith("The largest moves.\n")
    assert "† Provisional:" in listed._repr_html_()
    assert "Provisional" not in report.changes_html(settled)._repr_html_()


def weekly_report(orgs: dict[str, list[dict[str, Any]]], now: str = NOW) -> report.WeeklyReport:
    """A WeeklyReport of inline frames: the total is the orgs' sum, W42..W47, 2026-W47."""
    by_org = org_frame(orgs)
    total = by_org.groupby(level=0).sum(numeric_only=True)
    weeks = len(next(iter(orgs.values())))
    bodies = [
        payload(int(total.iloc[i]["sessions_created_count"]), int(total.iloc[i][MERGED]))
        for i in range(weeks)
    ]
    weekly = weekly_frame(*bodies, now=now)
    return report.WeeklyReport(
        week="2026-W47",
        tz="UTC",
        now=pd.Timestamp(now),
        weeks=weeks,
        weekly=weekly,
        by_org=by_org,
        by_playbook=None,
        scope="All organizations",
        demo=True,
    )


def test_the_report_says_what_is_provisional_in_one_voice() -> None:
    data = weekly_report({"A": [payload(100, 40)] * 6, "B": [payload(100, 60)] * 6})
    note = mt.labels.provisional_note(data.settle_period)
    assert note in data.kpi_table().to_html()
    assert note in str(data.notes())
    marked = [s for s in data.changes() if "†" in s]
    assert not marked or note in str(data.changes_list())


# -- one number format ------------------------------------------------------------------------


def mixed_number_formats(text: str) -> list[str]:
    """Numbers written otherwise than the report's one format: a space before ``%``, or a
    hyphen-minus as a number's sign (dates such as 2026-W47 are not numbers with a sign)."""
    patterns = [r"\d\s+%", r"(?<![\w.–-])-\d[\d,.]*", r"\+\s+\d", r"[−+]\d[\d,.]*\s+%"]
    return [found for pattern in patterns for found in re.findall(pattern, text)]


def test_tables_and_sentences_write_numbers_one_way() -> None:
    frame = weekly_frame(
        *[payload(1000, 500, avg=2.0, playbook=100)] * 5, payload(800, 300, avg=3.0, playbook=60)
    )
    kpis = report.format_kpis(report.weekly_kpis(frame, "2026-W47"))
    ranking = report.format_ranking(report.group_ranking(org_frame(simpson_groups()), "2026-W47"))
    sentences = report.what_changed(frame, "2026-W47")
    cells = [*kpis.to_numpy().ravel(), *ranking.to_numpy().ravel(), *sentences]
    text = " | ".join(str(cell) for cell in cells)
    assert mixed_number_formats(text) == [], text
    assert "−" in text and "%" in text  # falls are written with U+2212
    assert mixed_number_formats("▼ −8.2 % and -96 (-8.2%)") == ["2 %", "-96", "-8.2", "−8.2 %"]


def test_the_ranking_writes_its_range_as_precisely_as_its_rates() -> None:
    groups = {"A": [payload(200, 100)] * 2, "B": [payload(200, 60)] * 2}
    table = report.format_ranking(report.group_ranking(org_frame(groups), "2026-W47"))
    assert table["Merged-PR rate"].tolist() == ["50.0%", "30.0%"]
    low, high = report.wilson_interval([100, 60], [200, 200])
    assert table["95% range"].tolist() == [
        f"{a:.1%}–{b:.1%}" for a, b in zip(low, high, strict=True)
    ]
    assert table["95% range"].str.fullmatch(r"\d+\.\d%–\d+\.\d%").all()
    assert "Note" not in table.columns  # no group has too few sessions: no empty column


# -- sentences from the data -------------------------------------------------------------------


def sized(merged: dict[str, int], created: dict[str, int] | None = None) -> dict[str, Any]:
    created = created or {"xs": 100, "m": 100, "xl": 100}
    return payload(sum(created.values()), sum(merged.values()), sizes=created, merged_sizes=merged)


def test_the_size_sentence_is_read_from_the_numbers() -> None:
    falling = weekly_frame(*[sized({"xs": 80, "m": 50, "xl": 20})] * 3)
    assert report.prose.size_sentence(falling) == (
        "Over the 3 complete weeks shown, XS sessions got a merged PR most often (80.0%) and "
        "XL sessions least often (20.0%): the larger the session, the less often."
    )
    rising = weekly_frame(*[sized({"xs": 20, "m": 50, "xl": 80})] * 3)
    assert report.prose.size_sentence(rising).startswith(
        "Over the 3 complete weeks shown, XL sessions got a merged PR most often (80.0%) and "
        "XS sessions least often (20.0%): the larger the session, the more often."
    )
    few = weekly_frame(*[sized({"xs": 8, "s": 2, "m": 50}, {"xs": 10, "s": 5, "m": 100})] * 2)
    assert report.prose.size_sentence(few) == (
        "Over the 2 complete weeks shown, only M sessions number 30 or more; 50.0% of them got "
        "a merged PR. Left out, with fewer than 30 sessions: XS, S."
    )


def test_the_report_notebook_holds_no_fixed_claim_about_the_data() -> None:
    notebook = nbformat.read(report.REPORT_NOTEBOOK, as_version=4)
    prose = " ".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for claim in ("merge least often", "costly", "still rise", "beyond ordinary"):
        assert claim not in prose


def test_the_ranking_says_whose_rank_the_size_mix_moves() -> None:
    ranking = report.group_ranking(org_frame(simpson_groups()), "2026-W47")
    assert report.prose.ranking_sentence(ranking) == (
        "A is #2 by its raw rate and #1 size-adjusted: its mix of sizes, more than how it does "
        "at each size, sets its raw rank."
    )
    even = report.group_ranking(
        org_frame({"A": [payload(100, 60)] * 2, "B": [payload(100, 40)] * 2}), "2026-W47"
    )
    assert report.prose.ranking_sentence(even) == (
        "Adjusting for the mix of sizes changes no rank this week."
    )


def test_the_report_names_the_current_week_and_the_later_complete_ones() -> None:
    now = "2026-12-02T03:00:00Z"
    assert report.prose.later_weeks_sentence("2026-W47", now, "UTC") == (
        "Not in this report: 2026-W48 (complete) and the current week (W49) partial: "
        "data until Wed 2 Dec 03:00."
    )
    assert report.prose.later_weeks_sentence("2026-W48", now, "Europe/Berlin") == (
        "Not in this report: the current week (W49) partial: data until Wed 2 Dec 04:00."
    )
    assert report.prose.later_weeks_sentence("2026-W44", now, "UTC").startswith(
        "Not in this report: 2026-W45 to 2026-W48 (complete)"
    )
    data = weekly_report({"A": [payload(100, 40)] * 6, "B": [payload(100, 60)] * 6})
    notes = str(data.notes())
    assert "current week (W48) partial: data until Wed 25 Nov 03:00" in notes
    assert "last week" not in notes


def test_the_merge_rate_section_names_its_provisional_weeks() -> None:
    frame = weekly_frame(*[payload(100, 40)] * 4)
    assert report.prose.merge_rate_sentence(frame, now=days_after_w47(5)) == (
        "The rates of 2026-W46 and 2026-W47 are provisional: those weeks ended less than "
        "14 days before the data was read, and their rates rise as PRs get merged."
    )
    assert report.prose.merge_rate_sentence(frame, now=days_after_w47(30)).startswith(
        "Every week shown ended 14 days or more before the data was read"
    )


# -- one section, one title -------------------------------------------------------------------


def test_a_one_organization_report_neither_ranks_nor_repeats_its_trend() -> None:
    data = weekly_report({"Platform": [payload(100, 40)] * 6})
    assert data.group_names("org") == ["Platform"]
    assert data.ranking_intro("org").html == ""  # no explanation of a ranking not shown
    assert str(data.ranking_table("org")) == (
        "Only one organization (Platform) in scope: nothing to rank or compare."
    )
    two = weekly_report({"A": [payload(100, 40)] * 6, "B": [payload(100, 60)] * 6})
    assert str(two.ranking_intro("org")).startswith("Merged-PR rate of the week by organization")


def test_every_chart_of_the_report_gets_its_own_description() -> None:
    def image() -> Any:
        return nbformat.v4.new_output("display_data", {"image/png": "iVBORw0KGgo="})

    def chart_cell(*outputs: Any) -> Any:
        cell = nbformat.v4.new_code_cell("")
        cell.outputs = list(outputs)
        return cell

    heading = nbformat.v4.new_output("display_data", {"text/html": "<h2>Playbooks: “X”</h2>"})
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_markdown_cell("## Sessions created"),
        chart_cell(image()),
        nbformat.v4.new_markdown_cell("## Merged-PR rate\n\nShare of sessions."),
        chart_cell(image()),
        nbformat.v4.new_markdown_cell("### By size"),
        chart_cell(image()),
        nbformat.v4.new_markdown_cell("## Organizations"),
        chart_cell(image(), image()),
        chart_cell(heading, image()),
    ]
    render._describe_images(notebook, "Weekly report — 2026-W47")
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    alts = [o.metadata["alt"] for o in outputs if "image/png" in o.data]
    assert alts == [
        "Chart: Sessions created",
        "Chart: Merged-PR rate",
        "Chart: Merged-PR rate: By size",
        "Chart: Organizations",
        "Chart: Organizations (2)",
        "Chart: Playbooks: “X”",
    ]


# -- connecting -----------------------------------------------------------------------------


def test_connect_uses_the_demo_without_a_key_and_the_api_with_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    demo = report.connect()
    assert report.is_demo(demo)
    assert "Synthetic demo data" in report.banner(demo)._repr_html_()
    with pytest.raises(mt.InvalidParameterError) as caught:
        report.connect(demo=False)
    assert caught.value.parameter == "DEVIN_API_KEY"
    monkeypatch.setenv("DEVIN_API_KEY", FAKE_TOKEN)
    live = report.connect(cache=False)
    assert not report.is_demo(live)
    assert live.base_url == "https://api.devin.ai"
    shown = report.banner(live)._repr_html_()
    assert "api.devin.ai" in shown and "demo" not in shown.lower()
    assert FAKE_TOKEN not in shown
    assert report.is_demo(report.connect(demo=True))


def test_the_demo_banner_advises_what_fits_where_it_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A notebook's demo client: set the key and run again; ``report --demo``: without --demo."""
    monkeypatch.delenv("DEVIN_API_KEY", raising=False)
    in_notebook = report.banner(mt.MetricsClient.demo())
    for shown in (str(in_notebook), in_notebook.html):
        assert "Synthetic demo data" in shown and "--demo" not in shown
    assert str(in_notebook).endswith(
        "For real data, set DEVIN_API_KEY to a service-user token (cog_...) and run again."
    )
    asked_for = report.banner(report.connect(demo=True))  # what `report --demo` runs
    assert str(asked_for).endswith("and run again without --demo.")
    assert "run again without <code>--demo</code>." in asked_for.html
    assert "--demo" not in str(report.banner(report.connect()))  # the demo for want of a key
    monkeypatch.setenv("DEVIN_API_KEY", FAKE_TOKEN)
    with_key = report.banner(mt.MetricsClient.demo())
    assert str(with_key).endswith(
        "For real data, connect with mt.MetricsClient(), which reads DEVIN_API_KEY."
    )
    assert "--demo" not in str(with_key) and FAKE_TOKEN not in with_key.html


def test_html_block_displays_html_and_prints_text() -> None:
    block = report.HTMLBlock("<b>Hi</b> &amp; bye")
    assert block._repr_html_() == "<b>Hi</b> &amp; bye"
    assert str(block) == repr(block) == "Hi & bye"


# -- parameters, before anything runs --------------------------------------------------------


@pytest.fixture
def no_execution(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make running the notebook fail loudly: parameter checks must come first."""

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the notebook ran before the parameters were checked")

    monkeypatch.setattr(render, "_execute", refuse)


@pytest.mark.usefixtures("no_execution")
@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"week": "2026-47"}, "week"),
        ({"week": "2026-W99"}, "week"),
        ({"tz": "Europe/Berln"}, "tz"),
        ({"weeks": 0}, "weeks"),
        ({"weeks": 105}, "weeks"),
        ({"weeks": "12"}, "weeks"),
        ({"out": "report.pdf"}, "out"),
        ({"orgs": []}, "orgs"),
        ({"playbooks": [""]}, "playbooks"),
        ({"demo": "yes"}, "demo"),
        ({"cache": None}, "cache"),
        ({"base_url": "ftp://example.com"}, "base_url"),
    ],
)
def test_render_refuses_bad_parameters_first(options: dict[str, Any], parameter: str) -> None:
    arguments = {"demo": True, **options}
    with pytest.raises(mt.InvalidParameterError) as caught:
        report.render_weekly_report(**arguments)
    assert caught.value.parameter == parameter


@pytest.mark.parametrize("weeks", [0, -3, report.MAX_WEEKS + 1, "12", 2.0, True, None])
def test_every_refusal_of_weeks_states_the_range(weeks: Any) -> None:
    with pytest.raises(mt.InvalidParameterError) as caught:
        report.data.check_weeks(weeks)
    assert caught.value.parameter == "weeks"
    assert (
        str(caught.value) == f"weeks: got {weeks!r}; expected an int from 1 to {report.MAX_WEEKS}"
    )


@pytest.mark.usefixtures("no_execution")
def test_render_refuses_the_current_week_and_a_missing_key() -> None:
    current = report.week_of(pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=5), "UTC")
    with pytest.raises(mt.InvalidParameterError) as caught:
        report.render_weekly_report(week=current, demo=True)
    assert caught.value.parameter == "week"
    assert "not complete" in str(caught.value)
    with pytest.raises(mt.InvalidParameterError) as missing:
        report.render_weekly_report()
    assert missing.value.parameter == "DEVIN_API_KEY"


def test_default_output_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert render._check_out(None, "2026-W47") == tmp_path / "reports" / "weekly-2026-W47.html"
    assert render._check_out("x/r.HTML", "2026-W47") == Path("x/r.HTML")


def test_write_private_makes_the_file_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new" / "report.html"
    path.parent.mkdir()
    path.write_text("old")
    path.chmod(0o644)
    render._write_private(path, "<html></html>")
    assert path.read_text() == "<html></html>"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]


def test_failed_report_cells_map_to_our_errors() -> None:
    error = render._mapped("InvalidParameterError", "org: no org named 'Platfrom'", 3)
    assert isinstance(error, mt.InvalidParameterError) and error.parameter == "org"
    assert "Platfrom" in str(error)
    api = render._mapped("AuthenticationError", "HTTP 401 from https://x/y: bad token", 3)
    assert isinstance(api, report.ReportExecutionError)
    assert "AuthenticationError" in str(api)
    insecure = render._mapped("InsecureTransportError", "refusing to send the token", 2)
    assert isinstance(insecure, mt.InsecureTransportError)
    other = render._mapped("KeyError", "'x'", 7)
    assert isinstance(other, mt.MetricsError) and "cell 7" in str(other)


def test_kernel_manager_uses_this_environments_python(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A python3 kernelspec in the user's Jupyter directory does not redirect the report."""
    elsewhere = tmp_path / "jupyter" / "kernels" / "python3"
    elsewhere.mkdir(parents=True)
    (elsewhere / "kernel.json").write_text(
        json.dumps({"argv": ["/nowhere/bin/python", "-m", "ipykernel_launcher", "-f", "{x}"]})
    )
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    manager = render._kernel_manager_class({})(kernel_name="python3")
    command = manager.kernel_spec.argv[0]
    assert command in ("python", sys.executable)
    assert "/nowhere" not in command


def test_export_hides_code_and_loads_nothing_remote() -> None:
    notebook = nbformat.v4.new_notebook()
    hidden = nbformat.v4.new_markdown_cell("how to run me")
    hidden.metadata["tags"] = ["report-hide"]
    code = nbformat.v4.new_code_cell("secret_code_line = 1")
    code.outputs = [
        nbformat.v4.new_output("display_data", {"text/html": "<p>visible</p>"}),
        nbformat.v4.new_output("stream", name="stderr", text="noise on stderr"),
    ]
    notebook.cells = [hidden, nbformat.v4.new_markdown_cell("## Section"), code]
    body = render._export(notebook, "Weekly report — 2026-W47")
    assert "<p>visible</p>" in body and "Section" in body
    assert "secret_code_line" not in body
    assert "how to run me" not in body and "noise on stderr" not in body
    assert not remote_resources(body)
    code.outputs = [
        nbformat.v4.new_output(
            "display_data", {"text/html": '<script src="https://cdn.example/x.js"></script>'}
        )
    ]
    with pytest.raises(report.ReportExecutionError, match="network"):
        render._export(notebook, "t")


# -- full renders (a real kernel each) --------------------------------------------------------


def remote_resources(body: str) -> list[str]:
    """Everything in a page that a browser would fetch from a network."""
    patterns = [
        r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*""",
        r"""url\(\s*["']?\s*(?:https?:)?//[^)]*\)""",
        r"@import[^;]*;",
    ]
    return [match for pattern in patterns for match in re.findall(pattern, body, re.I)]


def section_charts(body: str) -> dict[str, int]:
    """The embedded charts under each ``<h2>`` of a rendered report, by the heading's text."""
    parts = re.split(r"<h2[^>]*>(.*?)</h2>", body, flags=re.S)
    return {
        report.display.plain_text(parts[i]).strip().rstrip("¶").strip(): parts[i + 1].count(
            '<img src="data:image/png;base64,'
        )
        for i in range(1, len(parts) - 1, 2)
    }


def check_report_html(path: Path, week: str, *, charts: int) -> str:
    body = path.read_text(encoding="utf-8")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    title = re.search(r"<title>(.*?)</title>", body, re.S)
    assert title is not None and week in title.group(1)
    heading = re.search(r"<h1[^>]*>(.*?)</h1>", body, re.S)
    assert heading is not None and f"Weekly report — {week}" in heading.group(1)
    tables = re.findall(r"<table.*?</table>", body, re.S)
    labels = [*report.KPI_LABELS.values(), *FAMILY_KPI_LABELS.values()]
    assert any(all(label in table for label in labels) for table in tables)
    for section, count in section_charts(body).items():
        if section in FAMILY_SECTIONS:
            assert count >= FAMILY_SECTIONS[section], (section, count)
    assert set(FAMILY_SECTIONS) <= set(section_charts(body))
    assert body.count('<img src="data:image/png;base64,') >= charts
    assert remote_resources(body) == []
    assert re.search(r"""<script[^>]*\bsrc\s*=""", body, re.I) is None
    assert re.search(r"""class="[^"]*jp-(?:InputArea|InputPrompt|OutputPrompt)""", body) is None
    assert re.search(r">\s*(?:In|Out)(?:&nbsp;|\s)?\[", body) is None  # no prompts
    assert "Synthetic demo data" in body
    assert "What changed" in body and "Organizations" in body
    assert "Traceback" not in body
    assert 'data-mime-type="application/vnd.jupyter.stderr"' not in body
    alts = re.findall(r'<img src="data:image/png;base64,[^"]*" alt="([^"]*)"', body)
    assert len(alts) == len(set(alts)), alts  # each chart described by its own section
    text = report.display.plain_text(re.sub(r"<(style|script)\b.*?</\1>", "", body, flags=re.S))
    assert mixed_number_formats(text) == []
    assert "last week partial" not in text
    return body


@pytest.mark.notebook
@pytest.mark.slow
def test_render_weekly_report_in_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEVIN_API_KEY", FAKE_TOKEN)  # present, and must reach nothing
    executed: list[Any] = []
    export = render._export

    def capture(notebook: Any, title: str) -> str:
        executed.append(nbformat.writes(notebook))
        return export(notebook, title)

    monkeypatch.setattr(render, "_export", capture)
    week = report.last_complete_week(pd.Timestamp.now(tz="UTC").floor("h"), "Europe/Berlin")
    out = tmp_path / "nested" / "report.html"
    path = report.render_weekly_report(
        week=week,
        tz="Europe/Berlin",
        orgs=["Platform", "Growth", "Data"],
        playbooks=["Fix a flaky test", "Migrate an endpoint to API v3"],
        weeks=8,
        demo=True,
        out=out,
        acu_price=2.25,
    )
    assert path == out
    body = check_report_html(path, week, charts=REPORT_CHARTS + 1)
    assert "2.25 per ACU" in body  # money only at the price given
    assert "Europe/Berlin" in body and "Playbooks" in body and "Migrate an endpoint" in body
    assert "Platform, Growth, Data" in body
    assert FAKE_TOKEN not in body
    (notebook,) = executed
    assert FAKE_TOKEN not in notebook
    assert "Fix a flaky test" in notebook  # the parameters were injected


@pytest.mark.notebook
@pytest.mark.slow
def test_cli_report_writes_the_html(tmp_path: Path) -> None:
    week = report.last_complete_week(pd.Timestamp.now(tz="UTC").floor("h"), "UTC")
    out = tmp_path / "tmp" / "report.html"
    env = {**os.environ, "DEVIN_API_KEY": FAKE_TOKEN}
    result = subprocess.run(
        [*cli(), "report", "--demo", "--week", week, "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert str(out) in result.stdout
    assert FAKE_TOKEN not in result.stdout + result.stderr
    body = check_report_html(out, week, charts=REPORT_CHARTS)
    assert FAKE_TOKEN not in body
    assert "per ACU" not in body  # no price, no money
    assert "All organizations" in body
    assert "and run again without <code>--demo</code>." in body  # the advice of the command


def cli() -> list[str]:
    script = Path(sys.executable).with_name("metrics-toolkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "metrics_toolkit.cli"]


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        (["--week", "2026-47"], "week"),
        (["--week", "current"], "week"),
        (["--weeks", "0"], "weeks"),
        (["--out", "report.txt"], "out"),
        (["--acu-price", "0"], "acu_price"),
    ],
)
def test_cli_report_refuses_bad_input_in_one_line(arguments: list[str], parameter: str) -> None:
    if arguments == ["--week", "current"]:  # (or the next, a few minutes before it starts)
        soon = pd.Timestamp.now(tz="UTC") + pd.Timedelta(minutes=5)
        arguments = ["--week", report.week_of(soon, "UTC")]
    result = subprocess.run(
        [*cli(), "report", "--demo", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "DEVIN_API_KEY"},
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert parameter in lines[0] and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_the_report_notebook_is_shipped_and_linked() -> None:
    assert report.REPORT_NOTEBOOK.is_file()
    link = Path(__file__).parents[1] / "notebooks" / "weekly_report.ipynb"
    assert link.is_symlink() and link.resolve() == report.REPORT_NOTEBOOK.resolve()
    notebook = nbformat.read(report.REPORT_NOTEBOOK, as_version=4)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    names = set(re.findall(r"^(\w+) =", tagged[0].source, re.M))
    assert {"week", "tz", "orgs", "playbooks", "weeks", "demo"} <= names
    assert np.all([c.get("outputs", []) == [] for c in notebook.cells if c.cell_type == "code"])


# -- the metrics family: adoption, outcomes, cost, use ---------------------------------------

FAMILY_NOW = "2026-11-25T10:00:00Z"


@pytest.fixture(scope="module")
def family_report() -> report.WeeklyReport:
    client = mt.MetricsClient.demo(now=FAMILY_NOW)
    return report.load_weekly_report(client, week="2026-W47", tz="Europe/Berlin", weeks=6)


def test_the_kpi_table_adds_active_users_prs_merged_and_acus_consumed(
    family_report: report.WeeklyReport,
) -> None:
    kpis = family_report.kpis()
    assert set(FAMILY_KPI_LABELS) <= set(kpis.index)
    client = mt.MetricsClient.demo(now=FAMILY_NOW)
    start = report.week_bounds("2026-W43", "Europe/Berlin")[0]
    end = report.week_bounds("2026-W47", "Europe/Berlin")[1]
    active = mt.fetch_series(
        client, start, end, "week", tz="Europe/Berlin", metric="active_users", progress=False
    )["active_users"].astype(float)
    row = kpis.loc["active_users"]
    assert row["this_week"] == active.iloc[-1] and row["previous_week"] == active.iloc[-2]
    # distinct counts: the 4-week average is the mean of the weekly counts, never their union
    assert row["four_week_average"] == pytest.approx(active.iloc[:4].mean())
    assert not row["this_week_provisional"]
    merged = kpis.loc["prs_merged_count"]
    assert merged["this_week_provisional"]  # W47 ended 2 days before the data was read
    days = fetch_consumption(client, "2026-11-16T08:00Z", "2026-11-23T08:00Z")
    assert kpis.loc["acus_consumed", "this_week"] == pytest.approx(days["acus"].sum())
    table = report.format_kpis(kpis)
    assert table.loc[FAMILY_KPI_LABELS["prs_merged_count"], "2026-W47"].endswith("†")
    assert not table.loc[FAMILY_KPI_LABELS["active_users"], "2026-W47"].endswith("†")


def test_the_family_sentences_mark_provisional_values_and_add_no_money_without_a_price(
    family_report: report.WeeklyReport,
) -> None:
    family = family_report.family
    assert family is not None
    adoption = family.adoption_text().text
    assert "never added up" in adoption and "Stickiness" in adoption
    assert "of October 2026 (UTC)" in adoption  # the last whole UTC month, not November so far
    outcomes = family.outcomes_text().text
    assert "†" in outcomes and "taken over" in outcomes
    assert "per ACU" not in family.cost_text().text
    assert mixed_number_formats(adoption + outcomes + family.cost_text().text) == []


def test_a_price_per_acu_turns_the_billing_week_into_money() -> None:
    client = mt.MetricsClient.demo(now=FAMILY_NOW)
    data = report.load_weekly_report(client, week="2026-W47", weeks=5, acu_price=2.5)
    assert data.family is not None
    consumed = data.family.kpis().loc["acus_consumed", "this_week"]
    assert f"{consumed * 2.5:,.2f}" in data.family.cost_text().text
    assert "2.50 per ACU" in data.family.cost_text().text


@pytest.mark.parametrize("price", [0, -1.5, math.nan, True, "2"])
def test_a_price_per_acu_must_be_a_number_above_zero(price: Any) -> None:
    with pytest.raises(mt.InvalidParameterError, match="acu_price"):
        report.render_weekly_report(demo=True, acu_price=price)


def test_the_cost_charts_are_in_billing_weeks_up_to_the_reports(
    family_report: report.WeeklyReport,
) -> None:
    family = family_report.family
    assert family is not None
    weeks = family.consumption_weeks()
    assert weeks is not None and len(weeks) == 6
    assert weeks.index[-1] == pd.Timestamp("2026-11-16T08:00Z")
    by_org = family.consumption_weeks(by_org=True)
    assert by_org is not None and by_org.index.max() == weeks.index[-1]


def test_an_organization_report_leaves_out_the_enterprise_only_parts() -> None:
    org_id = mt.MetricsClient.demo(now=FAMILY_NOW).directory().organizations[0].org_id
    client = mt.MetricsClient.demo(now=FAMILY_NOW, org_id=org_id)
    data = report.load_weekly_report(client, week="2026-W47", weeks=5)
    family = data.family
    assert family is not None and not family.enterprise
    assert family.cycles is None and family.categories is None
    assert family.consumption_by_org is None
    assert org_id in data.scope
    assert set(FAMILY_KPI_LABELS) <= set(data.kpis().index)
    assert "enterprise scope" in family.scope_note().text
    with pytest.raises(mt.InvalidParameterError, match="orgs"):
        report.load_weekly_report(client, week="2026-W47", orgs=["Growth"])


@pytest.mark.notebook
@pytest.mark.slow
def test_render_an_organization_report(tmp_path: Path) -> None:
    org_id = mt.MetricsClient.demo().directory().organizations[0].org_id
    week = report.last_complete_week(pd.Timestamp.now(tz="UTC").floor("h"), "UTC")
    path = report.render_weekly_report(
        week=week, demo=True, org_id=org_id, out=tmp_path / "org.html", weeks=6
    )
    body = path.read_text(encoding="utf-8")
    charts = section_charts(body)
    assert charts["Adoption"] >= 1 and charts["Outcomes"] >= 1 and charts["Cost"] == 1
    assert "Use" not in charts  # sessions by category exist only at enterprise scope
    assert body.count("exist only at enterprise scope") == 1  # said once
    assert org_id in body and remote_resources(body) == []
    assert "per ACU" not in body and "Traceback" not in body
    tables = re.findall(r"<table.*?</table>", body, re.S)
    assert any(all(label in table for label in FAMILY_KPI_LABELS.values()) for table in tables)


def test_cli_report_passes_the_price_per_acu(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from metrics_toolkit import cli

    seen: dict[str, Any] = {}

    def fake_render(**options: Any) -> Path:
        seen.update(options)
        return tmp_path / "report.html"

    monkeypatch.setattr(report, "render_weekly_report", fake_render)
    assert cli.main(["report", "--demo", "--acu-price", "2.5"]) == 0
    assert seen["acu_price"] == 2.5
    assert cli.main(["report", "--demo"]) == 0
    assert seen["acu_price"] is None and seen["org_id"] is None
    capsys.readouterr()


def test_cli_report_of_one_organization_by_id_or_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from metrics_toolkit import cli

    seen: dict[str, Any] = {}

    def fake_render(**options: Any) -> Path:
        seen.update(options)
        return tmp_path / "report.html"

    monkeypatch.setattr(report, "render_weekly_report", fake_render)
    platform = mt.MetricsClient.demo().directory().id("org", "Platform")
    assert cli.main(["report", "--demo", "--org-scope", "Platform"]) == 0
    assert seen["org_id"] == platform
    assert cli.main(["report", "--demo", "--org-scope", platform]) == 0
    assert seen["org_id"] == platform
    assert cli.main(["report", "--demo", "--org-scope", "Platfrom"]) == 2
    assert "did you mean" in capsys.readouterr().err


def test_what_changed_ranks_the_family_moves_with_the_others(
    family_report: report.WeeklyReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = family_report.family
    assert family is not None
    moves = dict((sentence.split(" ")[0], (score, sentence)) for score, sentence in family.moves())
    prs = family.prs
    before, after = prs.iloc[-2], prs.iloc[-1]
    created = f"({before['prs_created_count']:,.0f} → {after['prs_created_count']:,.0f})"
    assert created in moves["PRs"][1]
    score = abs(after["prs_created_count"] - before["prs_created_count"]) / math.sqrt(
        after["prs_created_count"] + before["prs_created_count"]
    )
    assert moves["PRs"][0] == pytest.approx(score)
    assert moves["The"][1].count("†") == 2  # both weeks' shares are still settling
    loud = (9.0, "Active users doubled (10 → 20).")
    monkeypatch.setattr(family, "moves", lambda: [loud, (0.5, "Too quiet to list.")])
    changes = family_report.changes()
    assert changes[0] == loud[1] and "Too quiet to list." not in changes


def test_the_notes_say_how_to_read_distinct_counts_billing_weeks_and_money(
    family_report: report.WeeklyReport,
) -> None:
    notes = family_report.notes().text
    assert "never added up" in notes and "Monday 08:00 UTC" in notes
    assert "No amount of money" in notes and "per ACU" not in notes


def test_without_a_cycle_holding_now_the_burn_is_left_out_and_said(
    family_report: report.WeeklyReport, monkeypatch: pytest.MonkeyPatch
) -> None:
    family = family_report.family
    assert family is not None and family.current_cycle is not None
    monkeypatch.setattr(
        family, "cycles", [c for c in family.cycles or [] if c.before <= c.after + 1]
    )
    assert family.current_cycle is None
    assert "left out" in family.burn_text().text
