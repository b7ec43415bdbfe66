"""The week's KPIs against the week before and the 4-week average (pure).

:func:`weekly_kpis` is the report's "Key numbers" table before formatting: sessions created,
the merged-PR rate, ACUs in total and per session, and the playbook share. Counts and ACUs are
per week; rates and ACUs per session are ratios of sums over the weeks they cover.
"""

from __future__ import annotations

import math

import pandas as pd

from ..summaries import KPI_LABELS, RATE_KPIS, kpis_of
from .totals import FLAGS, comparable, frame_tz, totals_and_week

__all__ = ["BASELINE_WEEKS", "KPI_LABELS", "RATE_KPIS", "weekly_kpis"]

#: Weeks before the report's week that make its "4-week average".
BASELINE_WEEKS = 4


def weekly_kpis(frame: pd.DataFrame, week: str) -> pd.DataFrame:
    """The week's KPIs against the week before and against the average of the 4 before it.

    Parameters
    ----------
    frame : pandas.DataFrame
        A weekly wide frame (``freq="week"``) that holds ``week`` and, for the comparisons,
        the weeks before it. A breakdown frame is summed over its groups first.
    week : str
        The report's ISO week, ``"YYYY-Www"``, in the frame's time zone.

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
        ``attrs`` holds ``week``, ``week_start``, ``week_end`` and ``tz``.

    Raises
    ------
    InvalidParameterError
        When ``week`` is not a complete bucket of the frame.
    """
    tz = frame_tz(frame)
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
    table.attrs = {
        "week": week,
        "week_start": start,
        "week_end": totals["bucket_end"].iloc[position],
        "tz": tz,
    }
    return table


def _relative(change: pd.Series, base: pd.Series) -> pd.Series:
    return (change / base.where(base != 0)) * 100
