"""The week's KPIs against the week before and the 4-week average (pure).

:func:`weekly_kpis` is the report's "Key numbers" table before formatting: sessions created,
the merged-PR rate, ACUs in total and per session, and the playbook share. Counts and ACUs are
per week; rates and ACUs per session are ratios of sums over the weeks they cover. A value from
a week that ended less than the settle period before the data was read is flagged provisional
when the KPI still moves then (merged PRs and ACUs arrive late).
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from .._constants import DEFAULT_SETTLE_PERIOD
from ..params import check_duration
from ..summaries import KPI_LABELS, RATE_KPIS, SETTLING_KPIS, frame_now, is_provisional, kpis_of
from .totals import FLAGS, comparable, frame_tz, totals_and_week

__all__ = ["BASELINE_WEEKS", "KPI_LABELS", "RATE_KPIS", "weekly_kpis"]

#: Weeks before the report's week that make its "4-week average".
BASELINE_WEEKS = 4


def weekly_kpis(
    frame: pd.DataFrame,
    week: str,
    *,
    now: Any = None,
    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD,
) -> pd.DataFrame:
    """The week's KPIs against the week before and against the average of the 4 before it.

    Parameters
    ----------
    frame : pandas.DataFrame
        A weekly wide frame (``freq="week"``) that holds ``week`` and, for the comparisons,
        the weeks before it. A breakdown frame is summed over its groups first.
    week : str
        The report's ISO week, ``"YYYY-Www"``, in the frame's time zone.
    now : pandas.Timestamp, datetime or str, optional
        When the data was read; default ``frame.attrs["now"]`` (set by every fetch), else the
        current time.
    settle_period : datetime.timedelta, default 14 days
        How long after a week ends its merged PRs and ACUs keep changing.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``metric`` (the keys of :data:`KPI_LABELS`), columns ``label``,
        ``this_week``, ``previous_week``, ``change`` (``this_week - previous_week``; a fraction
        for the rates, so 0.031 is 3.1 percentage points), ``change_pct`` (relative, percent),
        ``four_week_average``, ``change_vs_average`` and ``change_vs_average_pct``. Counts
        and ACUs are per week; the rates and ACUs per session are ratios of sums over the
        weeks compared (the 4-week merged-PR rate is merged / created over the 4 weeks).
        A comparison is NaN when a week it needs is missing, partial, clipped or failed.
        Then ``this_week_provisional``, ``previous_week_provisional`` and
        ``four_week_average_provisional`` (bool): the value will still change, because the
        KPI is one of :data:`~metrics_toolkit.summaries.SETTLING_KPIS` and a week it covers
        ended less than ``settle_period`` before ``now``; a change is as provisional as the
        values it compares. ``attrs`` holds ``week``, ``week_start``, ``week_end``, ``tz``,
        ``now`` and ``settle_period``.

    Raises
    ------
    InvalidParameterError
        When ``week`` is not a complete bucket of the frame.
    """
    tz = frame_tz(frame)
    read_at = frame_now(frame, now)
    settle_period = check_duration(settle_period, "settle_period")
    totals, position, start = totals_and_week(frame, week)
    current = kpis_of(totals.iloc[position])
    nan = dict.fromkeys(KPI_LABELS, math.nan)
    previous = nan
    if comparable(totals, position - 1, position, start):
        previous = kpis_of(totals.iloc[position - 1])
    average = nan
    if comparable(totals, position - BASELINE_WEEKS, position, start):
        before = totals.iloc[position - BASELINE_WEEKS : position]
        sums = before.drop(columns=["bucket_end", *FLAGS]).sum(min_count=1)
        average = kpis_of(sums, buckets=BASELINE_WEEKS)
    table = pd.DataFrame(
        {
            "label": pd.Series(KPI_LABELS),
            "this_week": pd.Series(current),
            "previous_week": pd.Series(previous),
            "four_week_average": pd.Series(average),
        }
    )
    table.index.name = "metric"
    table["change"] = table["this_week"] - table["previous_week"]
    table["change_pct"] = _relative(table["change"], table["previous_week"])
    table["change_vs_average"] = table["this_week"] - table["four_week_average"]
    table["change_vs_average_pct"] = _relative(
        table["change_vs_average"], table["four_week_average"]
    )
    table = table[
        [
            "label",
            "this_week",
            "previous_week",
            "change",
            "change_pct",
            "four_week_average",
            "change_vs_average",
            "change_vs_average_pct",
        ]
    ]
    # the latest week each value covers (the 4-week average: the week before)
    last_week = {
        "this_week": position,
        "previous_week": position - 1,
        "four_week_average": position - 1,
    }
    settling = table.index.isin(SETTLING_KPIS)
    for column, at in last_week.items():
        recent = at >= 0 and is_provisional(totals["bucket_end"].iloc[at], read_at, settle_period)
        table[f"{column}_provisional"] = settling & recent & table[column].notna()
    table.attrs = {
        "week": week,
        "week_start": start,
        "week_end": totals["bucket_end"].iloc[position],
        "tz": tz,
        "now": read_at,
        "settle_period": settle_period,
    }
    return table


def _relative(change: pd.Series, base: pd.Series) -> pd.Series:
    return (change / base.where(base != 0)) * 100
