"""The weekly report: ISO weeks, KPIs, rankings and "what changed", rendered to one HTML file.

:func:`render_weekly_report` executes the report notebook shipped in the package
(``metrics_toolkit/notebooks/weekly_report.ipynb``) in a fresh kernel with papermill, then exports
it with nbconvert as a single self-contained HTML file: no code, charts as embedded PNG images,
nothing loaded from the internet when it is opened.

The notebook's cells stay short because the work is here, in functions that can be tested:

- weeks: :func:`parse_week`, :func:`week_bounds`, :func:`week_of`, :func:`shift_week`,
  :func:`last_complete_week`, :func:`check_complete_week`, :func:`week_title`;
- numbers (pure, DataFrames in and out): :func:`weekly_kpis`, :func:`group_ranking`,
  :func:`top_and_bottom`, :func:`what_changed`, :func:`wilson_interval`,
  :func:`size_adjusted_rate`, and :func:`format_kpis` / :func:`format_ranking` for display;
- I/O through the client: :func:`connect` (the demo unless ``DEVIN_API_KEY`` is set),
  :func:`banner` and :func:`load_weekly_report`.

Every rate and average is a ratio of sums (merged / created, ACUs / sessions) over the weeks or
groups it covers, never a mean of ratios. A week is reported only when it is complete: it ended
before "now" in the report's time zone.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from .buckets import bucket_floor
from .client import ENV_API_KEY, MetricsClient
from .errors import InsecureTransportError, InvalidParameterError, MetricsError
from .frames import GROUP_COLUMNS
from .params import check_ids, check_positive_int, check_timezone, to_timestamp

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from .directory import Directory

__all__ = [
    "BASELINE_WEEKS",
    "DEFAULT_WEEKS",
    "KPI_LABELS",
    "MAX_WEEKS",
    "MIN_SESSIONS",
    "REPORT_NOTEBOOK",
    "HTMLBlock",
    "ReportExecutionError",
    "WeeklyReport",
    "banner",
    "changes_html",
    "check_complete_week",
    "connect",
    "format_kpis",
    "format_ranking",
    "group_ranking",
    "is_demo",
    "last_complete_week",
    "load_weekly_report",
    "parse_week",
    "render_weekly_report",
    "shift_week",
    "size_adjusted_rate",
    "style_table",
    "top_and_bottom",
    "week_bounds",
    "week_of",
    "week_title",
    "weekly_kpis",
    "what_changed",
    "wilson_interval",
]

#: Weeks of history in the report's charts by default, and the most accepted.
DEFAULT_WEEKS = 12
MAX_WEEKS = 104
#: Weeks before the report's week that make its "4-week average".
BASELINE_WEEKS = 4
#: A rate over fewer sessions than this is flagged, left out of rankings and of "what changed".
MIN_SESSIONS = 30
#: A move is listed in "what changed" when it is at least this many standard errors.
NOTEWORTHY_Z = 2.0
#: ACU totals and averages have no standard error here: listed from this relative change.
NOTEWORTHY_ACU_CHANGE = 0.10
#: Most sentences in "what changed".
MAX_CHANGES = 6
#: Groups at each end of a ranking.
RANKING_ENDS = 3
#: z of the two-sided 95 % Wilson interval.
Z_95 = 1.959963984540054

#: The report notebook shipped in the package, and the kernel it runs in.
REPORT_NOTEBOOK = Path(__file__).parent / "notebooks" / "weekly_report.ipynb"
KERNEL_NAME = "python3"
#: Where reports go by default, under the current directory.
DEFAULT_REPORT_DIR = "reports"
#: Seconds a kernel may take to start, and a report cell to run.
KERNEL_START_TIMEOUT = 120
CELL_TIMEOUT = 600
#: The kernel's own log (not the notebook's output): only what stops it.
KERNEL_LOG_LEVEL = "CRITICAL"

#: The KPIs of the weekly table, in order, with their labels.
KPI_LABELS: dict[str, str] = {
    "sessions_created_count": "Sessions created",
    "merged_pr_rate": "Merged-PR rate",
    "acus_total": "ACUs total",
    "avg_acus_per_session": "ACUs per session",
    "playbook_share": "Playbook share",
}
RATE_KPIS = ("merged_pr_rate", "playbook_share")

SESSIONS = "sessions_created_count"
MERGED = "sessions_with_merged_prs_count"
PLAYBOOK = "sessions_created_with_playbook_count"
ACUS = "acus_total"
AVERAGE = "avg_acus_per_session"
ORIGIN_FIELD = "sessions_created_by_origin"
SIZE_FIELD = "sessions_created_by_size"
MERGED_SIZE_FIELD = "sessions_with_merged_prs_by_size"
FLAGS = ("partial", "clipped", "failed")

#: Origins as a sentence names them ("Slack sessions rose ...").
ORIGIN_LABELS = {
    "api": "API",
    "automation": "Automation",
    "code_scan": "Code-scan",
    "desktop": "Desktop",
    "jira": "Jira",
    "linear": "Linear",
    "slack": "Slack",
    "teams": "Teams",
    "webapp": "Web-app",
}
GROUP_NOUNS = {"org": "Organization", "playbook": "Playbook", "user": "User"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

WEEK_PATTERN = re.compile(r"(\d{4})-W(\d{2})")
WEEK_FORM = "an ISO week such as '2026-W47' (year, '-W', two-digit week 01-53)"
MINUS = "\u2212"


class ReportExecutionError(MetricsError):
    """The report notebook failed while it ran; the message names the cell's error."""


# ============================================================================================
# ISO weeks
# ============================================================================================


def parse_week(week: Any) -> tuple[int, int]:
    """The ISO year and week number of ``"YYYY-Www"``.

    Parameters
    ----------
    week : str
        An ISO 8601 week such as ``"2026-W47"``; week 53 only in years that have one.

    Returns
    -------
    tuple of int
        ``(year, week)``.

    Raises
    ------
    InvalidParameterError
        Naming ``week``, for anything else (``"2026-47"``, ``"2026-W7"``, ``"2025-W53"``).

    Examples
    --------
    >>> parse_week("2026-W47")
    (2026, 47)
    """
    if not isinstance(week, str):
        raise InvalidParameterError("week", f"got {type(week).__name__}; expected {WEEK_FORM}")
    match = WEEK_PATTERN.fullmatch(week.strip())
    if match is None:
        raise InvalidParameterError("week", f"{week!r} is not {WEEK_FORM}")
    year, number = int(match.group(1)), int(match.group(2))
    weeks_in_year = dt.date(year, 12, 28).isocalendar()[1]
    if not 1 <= number <= weeks_in_year or year < 1:
        raise InvalidParameterError(
            "week", f"{week!r}: ISO year {year} has weeks 01 to {weeks_in_year}"
        )
    return year, number


def _monday(week: str) -> dt.date:
    year, number = parse_week(week)
    return dt.date.fromisocalendar(year, number, 1)


def _label(day: dt.date) -> str:
    year, number, _ = day.isocalendar()
    return f"{year}-W{number:02d}"


def week_bounds(week: str, tz: str = "UTC") -> tuple[pd.Timestamp, pd.Timestamp]:
    """The half-open span ``[start, end)`` of an ISO week in a time zone.

    Parameters
    ----------
    week : str
        ``"YYYY-Www"``.
    tz : str, default "UTC"
        IANA time zone whose calendar the week follows.

    Returns
    -------
    tuple of pandas.Timestamp
        Monday 00:00 and the next Monday 00:00 in ``tz`` (tz-aware), aligned exactly as the
        ``"week"`` buckets of :func:`~metrics_toolkit.time_buckets` are (a week with a DST
        change lasts 167 or 169 hours).

    Examples
    --------
    >>> week_bounds("2026-W47", "Europe/Berlin")[0]
    Timestamp('2026-11-16 00:00:00+0100', tz='Europe/Berlin')
    """
    zone = check_timezone(tz)
    thursday = _monday(week) + dt.timedelta(days=3)
    start = bucket_floor(f"{thursday.isoformat()} 12:00", "week", zone)
    end = bucket_floor(f"{(thursday + dt.timedelta(days=7)).isoformat()} 12:00", "week", zone)
    return start, end


def week_of(when: Any, tz: str = "UTC") -> str:
    """The ISO week (``"YYYY-Www"``) that contains a point in time, in a time zone's calendar.

    Parameters
    ----------
    when : datetime, date, str, pandas.Timestamp or int
        As :func:`~metrics_toolkit.params.to_timestamp` accepts (naive values read in ``tz``).
    tz : str, default "UTC"
    """
    zone = check_timezone(tz)
    start = bucket_floor(to_timestamp(when, "when", zone), "week", zone)
    return _label(start.date())


def shift_week(week: str, weeks: int) -> str:
    """The ISO week ``weeks`` weeks after ``week`` (before it when negative).

    Examples
    --------
    >>> shift_week("2027-W01", -1)
    '2026-W53'
    """
    return _label(_monday(week) + dt.timedelta(weeks=int(weeks)))


def last_complete_week(now: Any, tz: str = "UTC") -> str:
    """The last ISO week that ended at or before ``now`` in ``tz``.

    Parameters
    ----------
    now : datetime, pandas.Timestamp, str or int
        "Now" (naive values read in ``tz``).
    tz : str, default "UTC"

    Examples
    --------
    >>> last_complete_week("2026-11-25 03:00", "UTC")
    '2026-W47'
    >>> last_complete_week("2026-11-23 00:00", "UTC")
    '2026-W47'
    """
    zone = check_timezone(tz)
    current_start = bucket_floor(to_timestamp(now, "now", zone), "week", zone)
    return week_of(current_start - pd.Timedelta(seconds=1), zone)


def check_complete_week(week: str, tz: str, now: Any) -> str:
    """Return ``week`` when it ended at or before ``now``; refuse a week still running.

    Raises
    ------
    InvalidParameterError
        Naming ``week``, when it ends after ``now``: its numbers are not complete. The message
        names the last complete week.
    """
    zone = check_timezone(tz)
    parse_week(week)
    end = week_bounds(week, zone)[1]
    moment = to_timestamp(now, "now", zone)
    if end > moment:
        state = "still running" if week_bounds(week, zone)[0] <= moment else "in the future"
        raise InvalidParameterError(
            "week",
            f"{week} is {state} in {zone} (it ends {_moment(end)}), so its numbers are not "
            f"complete; the last complete week is {last_complete_week(moment, zone)}",
        )
    return week


def week_title(week: str, tz: str = "UTC") -> str:
    """``"Weekly report — 2026-W47 (16–22 Nov 2026, Europe/Berlin)"``."""
    start, end = week_bounds(week, tz)
    return f"Weekly report — {week} ({_day_span(start, end)}, {check_timezone(tz)})"


def _day_span(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """The days of ``[start, end)``, inclusive: ``16–22 Nov 2026``, ``30 Nov – 6 Dec 2026``."""
    first = start.date()
    last = (end - pd.Timedelta(seconds=1)).date()
    if first.year != last.year:
        return f"{_day(first)} {first.year} – {_day(last)} {last.year}"
    if first.month != last.month:
        return f"{_day(first)} – {_day(last)} {last.year}"
    return f"{first.day}–{_day(last)} {last.year}"


def _day(day: dt.date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def _moment(stamp: pd.Timestamp) -> str:
    """``"Mon 23 Nov 2026 00:00"``."""
    return f"{WEEKDAYS[stamp.weekday()]} {_day(stamp.date())} {stamp.year} {stamp:%H:%M}"


# ============================================================================================
# Weekly totals and KPIs (pure)
# ============================================================================================


def _group_column(frame: pd.DataFrame) -> str | None:
    return next((c for c in GROUP_COLUMNS.values() if c in frame.columns), None)


def _floats(values: pd.Series) -> pd.Series:
    """A column as float64 with NaN for NA."""
    return pd.to_numeric(values, errors="coerce").astype("Float64").astype("float64")


def _frame_tz(frame: pd.DataFrame) -> str:
    zone = frame.attrs.get("tz")
    if zone:
        return str(zone)
    index = frame.index
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return str(index.tz)
    raise InvalidParameterError("frame", "expected a wide frame indexed by a tz-aware bucket_start")


def _totals(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket: the additive columns summed over groups, ``acus_total`` included.

    Flags are combined with "any"; a failed bucket's sums are NaN. A nested count missing from
    an answer (an origin the server added later) counts as 0 there.
    """
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise InvalidParameterError(
            "frame", "expected a wide frame indexed by a tz-aware bucket_start"
        )
    table = pd.DataFrame(index=frame.index)
    for flag in FLAGS:
        table[flag] = frame[flag].astype(bool) if flag in frame.columns else False
    table["bucket_end"] = frame["bucket_end"]
    additive = [
        c
        for c in frame.columns
        if c in (SESSIONS, MERGED, PLAYBOOK)
        or c.startswith((ORIGIN_FIELD + ".", SIZE_FIELD + ".", MERGED_SIZE_FIELD + "."))
    ]
    for column in additive:
        values = _floats(frame[column])
        # a count an answer did not carry (an origin the server added later) is 0 in it
        table[column] = values.fillna(0.0) if "." in column else values
    if AVERAGE in frame.columns and SESSIONS in frame.columns:
        table[ACUS] = _floats(frame[AVERAGE]).fillna(0.0) * _floats(frame[SESSIONS])
    grouped = table.groupby(level=0, sort=True)
    sums = grouped[[c for c in table.columns if c not in (*FLAGS, "bucket_end")]].sum(min_count=1)
    result = pd.concat(
        [grouped["bucket_end"].first(), grouped[list(FLAGS)].any(), sums], axis=1
    ).sort_index()
    result.loc[result["failed"], sums.columns] = np.nan
    return result


def _ratio(numerator: float, denominator: float) -> float:
    if not denominator > 0 or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def _kpis_of(sums: pd.Series, weeks: int = 1) -> dict[str, float]:
    """The KPIs of summed counts over ``weeks`` weeks (counts and ACUs per week)."""
    sessions = float(sums.get(SESSIONS, math.nan))
    acus = float(sums.get(ACUS, math.nan))
    return {
        SESSIONS: sessions / weeks,
        "merged_pr_rate": _ratio(float(sums.get(MERGED, math.nan)), sessions),
        ACUS: acus / weeks,
        AVERAGE: _ratio(acus, sessions),
        "playbook_share": _ratio(float(sums.get(PLAYBOOK, math.nan)), sessions),
    }


def _complete(row: pd.Series) -> bool:
    return not any(bool(row[flag]) for flag in FLAGS)


def _week_position(totals: pd.DataFrame, week: str, tz: str) -> tuple[int, pd.Timestamp]:
    """The position of the week's bucket in ``totals``, checked to be that week, complete."""
    start, end = week_bounds(week, tz)
    matches = np.flatnonzero(totals.index == start)
    if not len(matches):
        raise InvalidParameterError(
            "week", f"{week} ({_moment(start)} in {tz}) is not a bucket of the frame"
        )
    position = int(matches[0])
    row = totals.iloc[position]
    if row["bucket_end"] != end and not row["clipped"]:
        raise InvalidParameterError(
            "frame", f"the bucket at {_moment(start)} is not the week {week}: fetch freq='week'"
        )
    if not _complete(row):
        state = [flag for flag in FLAGS if bool(row[flag])]
        raise InvalidParameterError(
            "week", f"{week} is {' and '.join(state)} in the frame; its numbers are not complete"
        )
    return position, start


def _comparable(totals: pd.DataFrame, first: int, stop: int, start: pd.Timestamp) -> bool:
    """Whether rows ``first:stop`` are complete and end, without a gap, at ``start``."""
    if first < 0:
        return False
    rows = totals.iloc[first:stop]
    adjacent = (rows.index[1:] == pd.DatetimeIndex(rows["bucket_end"].iloc[:-1])).all()
    return bool(
        adjacent
        and rows["bucket_end"].iloc[-1] == start
        and all(_complete(row) for _, row in rows.iterrows())
    )


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
    tz = _frame_tz(frame)
    totals = _totals(frame)
    position, start = _week_position(totals, week, tz)
    current = _kpis_of(totals.iloc[position])
    nan = dict.fromkeys(KPI_LABELS, math.nan)
    previous = nan
    if _comparable(totals, position - 1, position, start):
        previous = _kpis_of(totals.iloc[position - 1])
    average = nan
    if _comparable(totals, position - BASELINE_WEEKS, position, start):
        before = totals.iloc[position - BASELINE_WEEKS : position]
        sums = before.drop(columns=["bucket_end", *FLAGS]).sum(min_count=1)
        average = _kpis_of(sums, weeks=BASELINE_WEEKS)
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


# ============================================================================================
# Groups: rankings with small denominators flagged (pure)
# ============================================================================================


def wilson_interval(
    successes: Any, trials: Any, *, z: float = Z_95
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """The Wilson score interval of a proportion ``successes / trials``.

    Unlike ``rate ± z·se`` it stays inside [0, 1] and is honest for small ``trials``:
    2 merged PRs out of 2 sessions gives about 34 % to 100 %, not "100 %".

    Parameters
    ----------
    successes, trials : array-like of numbers
        Counts, ``0 <= successes <= trials``; NaN where ``trials`` is 0 or missing.
    z : float, default 1.96
        Standard normal quantile: 1.96 for a two-sided 95 % interval.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper bounds, fractions 0-1 (float64).

    Examples
    --------
    >>> low, high = wilson_interval(2, 2)
    >>> round(float(low), 3), float(high)
    (0.342, 1.0)
    """
    k = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(successes)), errors="coerce"), float)
    n = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(trials)), errors="coerce"), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = k / n
        denominator = 1 + z**2 / n
        centre = (rate + z**2 / (2 * n)) / denominator
        spread = z * np.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2)) / denominator
    valid = n > 0
    low = np.where(valid, np.clip(centre - spread, 0.0, 1.0), np.nan)
    high = np.where(valid, np.clip(centre + spread, 0.0, 1.0), np.nan)
    return low.astype(np.float64), high.astype(np.float64)


def size_adjusted_rate(
    created_by_size: pd.DataFrame, merged_by_size: pd.DataFrame, weights: pd.Series
) -> pd.Series:
    """Each row's merged-PR rate if it had the sizes mix ``weights`` (direct standardisation).

    ``sum over sizes of weight[size] * merged[size] / created[size]``: the rate a group would
    have with a common mix of session sizes, so that a group running mostly large sessions
    (which merge less everywhere) is not ranked low for its mix alone.

    Parameters
    ----------
    created_by_size, merged_by_size : pandas.DataFrame
        One row per group, one column per size (the same columns in both).
    weights : pandas.Series
        The common mix: a share per size (index = the columns), summing to 1.

    Returns
    -------
    pandas.Series
        float64 fractions; NaN for a row with no session in a size whose weight is above 0
        (its rate in that size is unknown).
    """
    created = created_by_size.astype("float64")
    merged = merged_by_size[created.columns].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = merged / created.where(created > 0)
    weight = weights.reindex(created.columns).fillna(0.0).astype("float64")
    used = weight[weight > 0].index
    adjusted = (rates[used] * weight[used]).sum(axis=1, min_count=1)
    return adjusted.where(rates[used].notna().all(axis=1)).astype("float64")


def group_ranking(
    frame: pd.DataFrame, week: str, *, min_sessions: int = MIN_SESSIONS
) -> pd.DataFrame:
    """The groups of a breakdown frame in ``week``, ranked by merged-PR rate.

    Parameters
    ----------
    frame : pandas.DataFrame
        A weekly breakdown frame (an ``org_id``, ``playbook_id``, ``user_id`` or
        ``service_user_id`` column, and ``<kind>_name`` when labelled).
    week : str
        The ISO week, ``"YYYY-Www"``, in the frame's time zone.
    min_sessions : int, default 30
        A group with fewer sessions in the week is flagged ``few_sessions`` and not ranked:
        its rate moves by several points with each session.

    Returns
    -------
    pandas.DataFrame
        Indexed by group id, highest rate first and the flagged groups last. Columns
        ``name``, ``sessions``, ``merged``, ``merged_pr_rate`` (fraction), ``rate_low`` /
        ``rate_high`` (95 % Wilson interval), ``size_adjusted_rate`` (the rate with the
        week's size mix over all the frame's groups, see :func:`size_adjusted_rate`),
        ``previous_rate`` (the week before, NaN when not comparable), ``change``
        (fraction; percentage points / 100; NaN when either week has too few sessions),
        ``few_sessions``, ``rank`` and
        ``adjusted_rank`` (1 = highest; NA when flagged). ``attrs`` holds ``kind``.
    """
    group = _group_column(frame)
    if group is None:
        raise InvalidParameterError("frame", "expected a breakdown frame (by='org', ...)")
    check_positive_int(min_sessions, "min_sessions", minimum=0)
    tz = _frame_tz(frame)
    start, _ = week_bounds(week, tz)
    previous_start, _ = week_bounds(shift_week(week, -1), tz)
    kind = group.removesuffix("_id")
    name_column = f"{kind}_name"
    this = frame[frame.index == start].set_index(group)
    if this.empty:
        raise InvalidParameterError("week", f"{week} is not a bucket of the frame")
    if any(this[flag].any() for flag in FLAGS if flag in this.columns):
        raise InvalidParameterError("week", f"{week} is not complete in the frame")
    before = frame[frame.index == previous_start].set_index(group)
    before = before[~before[list(FLAGS)].any(axis=1)]
    sessions = _floats(this[SESSIONS])
    merged = _floats(this[MERGED])
    table = pd.DataFrame(index=this.index)
    table["name"] = this[name_column] if name_column in this.columns else this.index
    table["sessions"] = sessions
    table["merged"] = merged
    with np.errstate(divide="ignore", invalid="ignore"):
        table["merged_pr_rate"] = (merged / sessions).where(sessions > 0)
    table["rate_low"], table["rate_high"] = wilson_interval(merged, sessions)
    sizes = [
        column.removeprefix(SIZE_FIELD + ".")
        for column in this.columns
        if column.startswith(SIZE_FIELD + ".")
    ]
    sizes = [size for size in sizes if f"{MERGED_SIZE_FIELD}.{size}" in this.columns]
    created = pd.DataFrame({s: _floats(this[f"{SIZE_FIELD}.{s}"]) for s in sizes})
    merged_sizes = pd.DataFrame({s: _floats(this[f"{MERGED_SIZE_FIELD}.{s}"]) for s in sizes})
    mix = created.sum()
    weights = mix / mix.sum() if mix.sum() > 0 else mix
    table["size_adjusted_rate"] = size_adjusted_rate(created, merged_sizes, weights)
    prior_sessions = _floats(before[SESSIONS]).reindex(table.index)
    prior_merged = _floats(before[MERGED]).reindex(table.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        prior = (prior_merged / prior_sessions).where(prior_sessions >= max(min_sessions, 1))
    table["previous_rate"] = prior
    table["few_sessions"] = ~(sessions >= max(min_sessions, 1))
    change = table["merged_pr_rate"] - table["previous_rate"]
    table["change"] = change.where(~table["few_sessions"])
    ranked = ~table["few_sessions"]
    table["rank"] = (
        table["merged_pr_rate"].where(ranked).rank(ascending=False, method="min").astype("Int64")
    )
    table["adjusted_rank"] = (
        table["size_adjusted_rate"]
        .where(ranked)
        .rank(ascending=False, method="min")
        .astype("Int64")
    )
    order = table.assign(_flag=table["few_sessions"], _rate=-table["merged_pr_rate"].fillna(-1))
    table = table.loc[order.sort_values(["_flag", "_rate", "name"], kind="stable").index]
    table.index.name = group
    table.attrs = {"kind": kind, "week": week, "min_sessions": min_sessions}
    return table


def top_and_bottom(ranking: pd.DataFrame, n: int = RANKING_ENDS) -> pd.DataFrame:
    """The ``n`` highest and ``n`` lowest ranked groups, then the flagged ones.

    Every ranked group when there are at most ``2 n`` of them. Flagged groups (too few
    sessions to rank) follow, so that a 100 % over 2 sessions is seen for what it is.
    """
    n = check_positive_int(n, "n")
    ranked = ranking[~ranking["few_sessions"]]
    flagged = ranking[ranking["few_sessions"]]
    if len(ranked) > 2 * n:
        ranked = pd.concat([ranked.head(n), ranked.tail(n)])
    result = pd.concat([ranked, flagged])
    result.attrs = dict(ranking.attrs)
    return result


# ============================================================================================
# What changed (pure)
# ============================================================================================


@dataclass(frozen=True)
class _Move:
    """One candidate sentence of "what changed" and how far it is beyond noise."""

    score: float
    sentence: str


def _count_move(subject: str, before: float, after: float, min_sessions: int) -> _Move | None:
    """Counts: z = (after - before) / sqrt(after + before) (two Poisson counts)."""
    if math.isnan(before) or math.isnan(after) or max(before, after) < min_sessions:
        return None
    if after == before:
        return None
    score = abs(after - before) / math.sqrt(after + before)
    verb = "rose" if after > before else "fell"
    if before == 0:
        return _Move(score, f"{subject} {verb} from 0 to {after:,.0f}.")
    change = _percent(abs(after - before) / before * 100)
    return _Move(score, f"{subject} {verb} {change} ({before:,.0f} → {after:,.0f}).")


def _rate_move(
    subject: str,
    counts: tuple[float, float, float, float],
    min_sessions: int,
    suffix: str = "",
) -> _Move | None:
    """Rates: the two-proportion z with the pooled rate; both weeks need ``min_sessions``."""
    hits_before, total_before, hits_after, total_after = counts
    if any(math.isnan(v) for v in counts) or min(total_before, total_after) < max(min_sessions, 1):
        return None
    before = hits_before / total_before
    after = hits_after / total_after
    pooled = (hits_before + hits_after) / (total_before + total_after)
    error = math.sqrt(pooled * (1 - pooled) * (1 / total_before + 1 / total_after))
    if after == before or error == 0:
        return None
    points = abs(after - before) * 100
    verb = "rose" if after > before else "fell"
    sentence = f"{subject} {verb} {points:.1f} points ({before:.1%} → {after:.1%}){suffix}."
    return _Move(abs(after - before) / error, sentence)


def _amount_move(subject: str, before: float, after: float, decimals: int) -> _Move | None:
    """ACUs: listed from a relative change of :data:`NOTEWORTHY_ACU_CHANGE`."""
    if math.isnan(before) or math.isnan(after) or before <= 0:
        return None
    relative = (after - before) / before
    if abs(relative) < NOTEWORTHY_ACU_CHANGE:
        return None
    score = NOTEWORTHY_Z * abs(relative) / NOTEWORTHY_ACU_CHANGE
    verb = "rose" if after > before else "fell"
    return _Move(
        score,
        f"{subject} {verb} {_percent(abs(relative) * 100)} "
        f"({before:,.{decimals}f} → {after:,.{decimals}f}).",
    )


def _percent(value: float) -> str:
    return f"{value:.0f}%" if value >= 9.5 else f"{value:.1f}%"


def _category_label(field_name: str, key: str) -> str:
    if field_name == ORIGIN_FIELD:
        return ORIGIN_LABELS.get(key, key.replace("_", " ").capitalize())
    return f"Size {key.upper()}"


def what_changed(
    frame: pd.DataFrame,
    week: str,
    *,
    groups: pd.DataFrame | Sequence[pd.DataFrame] | None = None,
    limit: int = MAX_CHANGES,
    min_sessions: int = MIN_SESSIONS,
    provisional: bool = False,
) -> list[str]:
    """The largest moves of ``week`` against the week before, as plain sentences.

    Candidates: sessions created (in total, per origin, per size and per group), the
    merged-PR rate and the playbook share (in total and the merged-PR rate per group), ACUs
    in total and per session. A count's move is measured in standard errors,
    ``(after - before) / sqrt(after + before)``; a rate's with the two-proportion z. Moves of
    at least 2 are listed, largest first; ACUs (no standard error available here) from a
    10 % change. Counts below ``min_sessions`` in both weeks, and rates over fewer sessions
    in either week, are left out: their moves are noise.

    Parameters
    ----------
    frame : pandas.DataFrame
        A weekly wide frame holding ``week`` and the week before (a breakdown frame is
        summed over its groups).
    week : str
        The ISO week, in the frame's time zone.
    groups : pandas.DataFrame or list of them, optional
        Weekly breakdown frames (by org, by playbook) for per-group sentences.
    limit : int, default 6
        Most sentences returned.
    min_sessions : int, default 30
    provisional : bool, default False
        Mark merged-PR rate sentences as provisional (the weeks ended recently: PRs of their
        sessions are still being merged, the younger week more so).

    Returns
    -------
    list of str
        For example ``"Slack sessions rose 18% (212 → 250)."``; one sentence saying nothing
        moved beyond noise when no move qualifies, or that there is no comparison.

    Examples
    --------
    >>> what_changed(weekly, "2026-W47")  # doctest: +SKIP
    ['Web-app sessions fell 31% (327 → 226).', 'Sessions created fell 13% (1,220 → 1,059).']
    """
    limit = check_positive_int(limit, "limit")
    min_sessions = check_positive_int(min_sessions, "min_sessions", minimum=0)
    tz = _frame_tz(frame)
    totals = _totals(frame)
    position, start = _week_position(totals, week, tz)
    if not _comparable(totals, position - 1, position, start):
        return [f"No comparison: the week before {week} is missing or incomplete."]
    before, after = totals.iloc[position - 1], totals.iloc[position]
    suffix = " (provisional: PRs are still being merged)" if provisional else ""
    moves: list[_Move | None] = [
        _count_move("Sessions created", before[SESSIONS], after[SESSIONS], min_sessions)
    ]
    for field_name in (ORIGIN_FIELD, SIZE_FIELD):
        for column in [c for c in totals.columns if c.startswith(field_name + ".")]:
            key = column.removeprefix(field_name + ".")
            subject = f"{_category_label(field_name, key)} sessions"
            moves.append(_count_move(subject, before[column], after[column], min_sessions))
    moves.append(
        _rate_move(
            "The merged-PR rate",
            (before[MERGED], before[SESSIONS], after[MERGED], after[SESSIONS]),
            min_sessions,
            suffix,
        )
    )
    if PLAYBOOK in totals.columns:
        moves.append(
            _rate_move(
                "The playbook share",
                (before[PLAYBOOK], before[SESSIONS], after[PLAYBOOK], after[SESSIONS]),
                min_sessions,
            )
        )
    moves.append(_amount_move("ACUs in total", before[ACUS], after[ACUS], 0))
    moves.append(
        _amount_move(
            "ACUs per session",
            _ratio(before[ACUS], before[SESSIONS]),
            _ratio(after[ACUS], after[SESSIONS]),
            2,
        )
    )
    breakdowns = [] if groups is None else [groups] if isinstance(groups, pd.DataFrame) else groups
    for breakdown in breakdowns:
        moves.extend(_group_moves(breakdown, week, min_sessions, suffix))
    found = sorted(
        (m for m in moves if m is not None and m.score >= NOTEWORTHY_Z),
        key=lambda move: -move.score,
    )
    if not found:
        return [f"Nothing moved beyond ordinary week-to-week noise against {shift_week(week, -1)}."]
    return [move.sentence for move in found[:limit]]


def _group_moves(
    groups: pd.DataFrame, week: str, min_sessions: int, suffix: str
) -> list[_Move | None]:
    group = _group_column(groups)
    if group is None:
        raise InvalidParameterError("groups", "expected a breakdown frame (by='org', ...)")
    tz = _frame_tz(groups)
    kind = group.removesuffix("_id")
    start, _ = week_bounds(week, tz)
    previous_start, _ = week_bounds(shift_week(week, -1), tz)
    moves: list[_Move | None] = []
    for group_id, rows in groups.groupby(group, sort=False):
        this = rows[rows.index == start]
        prior = rows[rows.index == previous_start]
        if len(this) != 1 or len(prior) != 1:
            continue
        after, before = this.iloc[0], prior.iloc[0]
        if not (_complete(after) and _complete(before)):
            continue
        name = str(after.get(f"{kind}_name", group_id))
        subject = (
            f"Sessions with the playbook “{name}”" if kind == "playbook" else f"Sessions in {name}"
        )
        moves.append(
            _count_move(subject, float(before[SESSIONS]), float(after[SESSIONS]), min_sessions)
        )
        counts = (
            float(before[MERGED]),
            float(before[SESSIONS]),
            float(after[MERGED]),
            float(after[SESSIONS]),
        )
        rate_subject = (
            f"The merged-PR rate with “{name}”"
            if kind == "playbook"
            else f"The merged-PR rate in {name}"
        )
        moves.append(_rate_move(rate_subject, counts, min_sessions, suffix))
    return moves


# ============================================================================================
# Display (pure)
# ============================================================================================


@dataclass(frozen=True, repr=False)
class HTMLBlock:
    """A piece of HTML that a notebook displays as such (and prints as its text)."""

    html: str
    """The markup."""
    text: str = ""
    """The same as plain text; default the markup without its tags."""

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.text or html.unescape(re.sub(r"<[^>]+>", "", self.html))

    __repr__ = __str__


def _signed(value: float, unit: str = "", decimals: int = 0) -> str:
    arrow = "▲" if value > 0 else "▼" if value < 0 else "="
    number = f"{abs(value):,.{decimals}f}"
    sign = "+" if value > 0 else MINUS if value < 0 else "±"
    return f"{arrow} {sign}{number}{unit}"


def _format_value(metric: str, value: float) -> str:
    if math.isnan(value):
        return "–"
    if metric in RATE_KPIS:
        return f"{value:.1%}"
    if metric == AVERAGE:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _format_change(metric: str, change: float, percent: float) -> str:
    if math.isnan(change):
        return "–"
    if metric in RATE_KPIS:
        return _signed(change * 100, " pp", 1)
    if math.isnan(percent):
        return _signed(change, "", 2 if metric == AVERAGE else 0)
    return _signed(percent, " %", 1)


def format_kpis(kpis: pd.DataFrame) -> pd.DataFrame:
    """:func:`weekly_kpis` as text for display: values, and changes with arrows.

    Counts and ACUs change in percent, rates in percentage points (``pp``).

    Returns
    -------
    pandas.DataFrame
        Indexed by the KPI labels; columns the week, ``Previous week``, ``Change``,
        ``4-week average`` and ``Change vs average`` (all str).
    """
    rows = {}
    for metric, row in kpis.iterrows():
        name = str(metric)
        rows[str(row["label"])] = {
            str(kpis.attrs.get("week", "This week")): _format_value(name, row["this_week"]),
            "Previous week": _format_value(name, row["previous_week"]),
            "Change": _format_change(name, row["change"], row["change_pct"]),
            "4-week average": _format_value(name, row["four_week_average"]),
            "Change vs average": _format_change(
                name, row["change_vs_average"], row["change_vs_average_pct"]
            ),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    return table


def format_ranking(ranking: pd.DataFrame) -> pd.DataFrame:
    """A ranking (:func:`group_ranking` or :func:`top_and_bottom`) as text for display."""
    kind = str(ranking.attrs.get("kind", "group"))
    minimum = int(ranking.attrs.get("min_sessions", MIN_SESSIONS))
    records = []
    for _, row in ranking.iterrows():
        few = bool(row["few_sessions"])
        rate = float(row["merged_pr_rate"])
        low, high = float(row["rate_low"]), float(row["rate_high"])
        change = float(row["change"])
        records.append(
            {
                "#": "" if pd.isna(row["rank"]) else str(row["rank"]),
                GROUP_NOUNS.get(kind, kind.capitalize()): str(row["name"]),
                "Sessions": f"{row['sessions']:,.0f}",
                "Merged-PR rate": "–" if math.isnan(rate) else f"{rate:.1%}",
                "95% range": "–" if math.isnan(low) else f"{low:.0%}–{high:.0%}",
                "Size-adjusted": (
                    "–"
                    if math.isnan(float(row["size_adjusted_rate"]))
                    else f"{row['size_adjusted_rate']:.1%}"
                    + ("" if pd.isna(row["adjusted_rank"]) else f" (#{row['adjusted_rank']})")
                ),
                "vs previous week": "–" if math.isnan(change) else _signed(change * 100, " pp", 1),
                "Note": f"fewer than {minimum} sessions" if few else "",
            }
        )
    return pd.DataFrame.from_records(records)


def style_table(table: pd.DataFrame, *, index: bool = True, left: Sequence[str] = ()) -> Styler:
    """A text table as a compact Styler.

    Parameters
    ----------
    table : pandas.DataFrame
        Text cells, as :func:`format_kpis` and :func:`format_ranking` return them.
    index : bool, default True
        Show the index (the row labels, left-aligned); False hides it.
    left : sequence of str
        Columns of words, left-aligned; the others (numbers) are right-aligned.
    """
    styler = table.style.set_table_attributes('class="report-table"').set_table_styles(
        [
            {"selector": "th", "props": "text-align: right; padding: 4px 10px;"},
            {"selector": "th.row_heading", "props": "text-align: left;"},
            {"selector": "td", "props": "text-align: right; padding: 4px 10px;"},
            {"selector": "th, td", "props": "white-space: nowrap;"},
        ]
    )
    words = [column for column in left if column in table.columns]
    if words:  # per column: more specific than the table-wide rules above
        styler = styler.set_table_styles(
            {column: [{"selector": "th, td", "props": "text-align: left;"}] for column in words},
            overwrite=False,
        )
    if not index:
        styler = styler.hide(axis="index")
    return styler


def changes_html(sentences: Sequence[str]) -> HTMLBlock:
    """The sentences of :func:`what_changed` as an HTML list."""
    items = "".join(f"<li>{html.escape(s)}</li>" for s in sentences)
    return HTMLBlock(f'<ul class="report-changes">{items}</ul>', "\n".join(sentences))


# ============================================================================================
# Connecting, and loading one week's data (I/O through the client)
# ============================================================================================


def connect(
    *,
    demo: bool | None = None,
    base_url: str | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
) -> MetricsClient:
    """A client: the real API when ``DEVIN_API_KEY`` is set, else the synthetic demo.

    Parameters
    ----------
    demo : bool, optional
        True: the demo enterprise, in-process, whatever the environment. False: the real
        API (``DEVIN_API_KEY`` must be set). None (default): the demo unless the key is set.
    base_url : str, optional
        The API's base URL (default ``DEVIN_API_BASE_URL``, then ``https://api.devin.ai``);
        ignored by the demo.
    cache : bool, default True
        Keep answers in the HTTP cache.
    cache_dir : str or pathlib.Path, optional
        Where the cache lives (default the user's cache directory). The demo's cache stays in
        memory: its enterprise is generated anew every hour.

    Raises
    ------
    InvalidParameterError
        ``demo=False`` without ``DEVIN_API_KEY``.
    """
    if demo is not None and not isinstance(demo, bool):
        raise InvalidParameterError("demo", f"got {demo!r}; expected True, False or None")
    has_key = bool(os.environ.get(ENV_API_KEY))
    if demo is None:
        demo = not has_key
    if demo:
        return MetricsClient.demo(cache=cache)
    if not has_key:
        raise InvalidParameterError(
            ENV_API_KEY,
            "is not set: set it to a service-user token (cog_...) for your enterprise's data, "
            "or use the synthetic demo (demo=True, --demo)",
        )
    return MetricsClient(base_url=base_url, cache=cache, cache_dir=cache_dir)


def is_demo(client: MetricsClient) -> bool:
    """Whether the client answers from the synthetic demo enterprise."""
    from .demo import DEMO_BASE_URL

    return client.base_url == DEMO_BASE_URL.rstrip("/")


BANNER_STYLE = "padding: 0.6em 1em; margin: 0.5em 0 1em; border-radius: 4px; border-left: 6px solid"


def banner(client: MetricsClient) -> HTMLBlock:
    """Where the numbers come from, shown at the top of every notebook.

    For the demo a conspicuous warning that the data is synthetic; otherwise a quiet line
    naming the API's host.
    """
    if is_demo(client):
        text = (
            "Synthetic demo data. DEVIN_API_KEY is not set, so every number here comes from a "
            "generated enterprise, not from your account. Set DEVIN_API_KEY to a service-user "
            "token (cog_...) and run again for real data."
        )
        markup = (
            f'<div class="report-banner demo" style="{BANNER_STYLE} #d97706; '
            'background: #fff4e5;"><strong>Synthetic demo data.</strong> '
            "<code>DEVIN_API_KEY</code> is not set, so every number here comes from a generated "
            "enterprise, not from your account. Set <code>DEVIN_API_KEY</code> to a service-user "
            "token (<code>cog_...</code>) and run again for real data.</div>"
        )
        return HTMLBlock(markup, text)
    host = urlsplit(client.base_url).hostname or client.base_url
    text = f"Data from the Devin API at {host}."
    markup = (
        f'<div class="report-banner live" style="{BANNER_STYLE} #2e7d32; '
        f'background: #e6f4ea;">Data from the Devin API at <code>{html.escape(host)}</code>.</div>'
    )
    return HTMLBlock(markup, text)


@dataclass
class WeeklyReport:
    """One week's data and the tables derived from it (see :func:`load_weekly_report`)."""

    week: str
    """The ISO week reported, complete."""
    tz: str
    """The calendar's time zone."""
    now: pd.Timestamp
    """When the data was read (the client's "now")."""
    weeks: int
    """Weeks of history in the charts."""
    weekly: pd.DataFrame
    """The scope's weekly frame, the report's week last (at least 5 weeks)."""
    by_org: pd.DataFrame
    """The same weeks by organization (labelled)."""
    by_playbook: pd.DataFrame | None
    """The same weeks by the chosen playbooks, when any were chosen."""
    scope: str
    """The scope in words: ``"All organizations"``, ``"Platform, Growth"``."""
    demo: bool
    """Whether the numbers are synthetic."""
    settle_period: dt.timedelta = dt.timedelta(days=14)
    """How long after a week ends its numbers keep changing."""
    source: HTMLBlock | None = field(default=None, repr=False)
    """Where the numbers come from (:func:`banner`)."""

    @property
    def title(self) -> str:
        """``"Weekly report — 2026-W47 (16–22 Nov 2026, Europe/Berlin)"``."""
        return week_title(self.week, self.tz)

    @property
    def history(self) -> pd.DataFrame:
        """The last ``weeks`` weeks of :attr:`weekly` (the charts' frame)."""
        return _tail(self.weekly, self.weeks)

    @property
    def org_history(self) -> pd.DataFrame:
        """The last ``weeks`` weeks of :attr:`by_org`."""
        return _tail(self.by_org, self.weeks)

    @property
    def playbook_history(self) -> pd.DataFrame | None:
        """The last ``weeks`` weeks of :attr:`by_playbook`."""
        return None if self.by_playbook is None else _tail(self.by_playbook, self.weeks)

    @property
    def provisional(self) -> bool:
        """Whether the week ended less than the settle period ago (merged PRs still come)."""
        end = week_bounds(self.week, self.tz)[1]
        return bool(self.now - end < pd.Timedelta(self.settle_period))

    def header(self) -> HTMLBlock:
        """The title, the scope and the data's source (the demo banner when synthetic)."""
        start, end = week_bounds(self.week, self.tz)
        now = self.now.tz_convert(self.tz)
        meta = (
            f"{html.escape(self.scope)} · {_moment(start)} to {_moment(end)} ({self.tz}) · "
            f"data as of {_moment(now)}"
        )
        source = self.source or HTMLBlock("")
        markup = (
            f'<h1 class="report-title">{html.escape(self.title)}</h1>'
            f'<p class="report-meta" style="color: #555;">{meta}</p>{source.html}'
        )
        return HTMLBlock(markup, f"{self.title}\n{meta}\n{source}")

    def kpis(self) -> pd.DataFrame:
        """:func:`weekly_kpis` of the scope."""
        return weekly_kpis(self.weekly, self.week)

    def kpi_table(self) -> Styler:
        """The KPI table, formatted for display."""
        return style_table(format_kpis(self.kpis()))

    def changes(self) -> list[str]:
        """:func:`what_changed` of the scope, with per-group sentences."""
        groups = [self.by_org] if self.by_playbook is None else [self.by_org, self.by_playbook]
        return what_changed(self.weekly, self.week, groups=groups, provisional=self.provisional)

    def changes_list(self) -> HTMLBlock:
        """:meth:`changes` as an HTML list."""
        return changes_html(self.changes())

    def _breakdown(self, kind: str) -> pd.DataFrame | None:
        if kind not in ("org", "playbook"):
            raise InvalidParameterError("kind", f"got {kind!r}; expected 'org' or 'playbook'")
        return self.by_org if kind == "org" else self.by_playbook

    def ranking(self, kind: str = "org") -> pd.DataFrame:
        """:func:`group_ranking` of the organizations (``"org"``) or playbooks (``"playbook"``)."""
        frame = self._breakdown(kind)
        if frame is None:
            raise InvalidParameterError("kind", f"no {kind} breakdown in this report")
        return group_ranking(frame, self.week)

    def ranking_table(self, kind: str = "org") -> Styler | HTMLBlock:
        """The top and bottom groups of the week, formatted for display."""
        frame = self._breakdown(kind)
        if frame is None or frame[_group_column(frame) or ""].nunique() < 2:
            noun = "organization" if kind == "org" else "playbook"
            return HTMLBlock(f"<p>Only one {noun} in scope: nothing to rank.</p>")
        table = format_ranking(top_and_bottom(self.ranking(kind)))
        return style_table(table, index=False, left=[table.columns[1], "Note"])

    def notes(self) -> HTMLBlock:
        """How to read the numbers: what is provisional, what is left out."""
        items = [
            "Rates and averages are ratios of sums over the sessions they cover (merged / "
            "created, ACUs / sessions), never averages of weekly or per-group rates.",
            f"The 4-week average covers {shift_week(self.week, -BASELINE_WEEKS)} to "
            f"{shift_week(self.week, -1)}; counts and ACUs are per week.",
            f"Rates over fewer than {MIN_SESSIONS} sessions are not ranked; the 95% range is "
            "the Wilson interval of the rate.",
            "The size-adjusted rate is a group's merged-PR rate per size, weighted by the "
            "week's size mix over all groups shown: it compares groups as if they ran the same "
            "mix of sizes (large sessions merge less often everywhere).",
        ]
        if self.provisional:
            items.append(
                f"Merged-PR rates of weeks that ended less than {self.settle_period.days} days "
                "ago are provisional: PRs of their sessions are still being merged, so the "
                "latest weeks read lower than they will end up."
            )
        current = week_of(self.now, self.tz)
        if current != self.week:
            items.append(
                f"The current week, {current}, is not complete and is not part of this report."
            )
        markup = "".join(f"<li>{html.escape(item)}</li>" for item in items)
        return HTMLBlock(f'<ul class="report-notes">{markup}</ul>', "\n".join(items))


def _tail(frame: pd.DataFrame, weeks: int) -> pd.DataFrame:
    starts = frame.index.unique().sort_values()[-weeks:]
    result = frame[frame.index.isin(starts)]
    result.attrs = dict(frame.attrs)
    return result


def _check_weeks(weeks: Any) -> int:
    weeks = check_positive_int(weeks, "weeks")
    if weeks > MAX_WEEKS:
        raise InvalidParameterError("weeks", f"got {weeks}; expected 1 to {MAX_WEEKS}")
    return weeks


def load_weekly_report(
    client: MetricsClient,
    *,
    week: str | None = None,
    tz: str = "UTC",
    orgs: Sequence[str] | str | None = None,
    playbooks: Sequence[str] | str | None = None,
    weeks: int = DEFAULT_WEEKS,
) -> WeeklyReport:
    """Fetch what the weekly report shows: the scope by week, by organization, by playbook.

    Parameters
    ----------
    client : MetricsClient
    week : str, optional
        The ISO week to report, complete in ``tz``; default the last complete week.
    tz : str, default "UTC"
        IANA time zone of the calendar.
    orgs : list of str, optional
        Organizations (ids or names) the report covers; default all.
    playbooks : list of str, optional
        Playbooks (ids or titles) to rank and chart; default none.
    weeks : int, default 12
        Weeks of history in the charts, 1 to 104 (at least 5 are fetched, for the
        4-week average).

    Raises
    ------
    InvalidParameterError
        For a malformed parameter, an unknown name, or a week that is not complete.
    """
    zone = check_timezone(tz)
    weeks = _check_weeks(weeks)
    org_names = check_ids(orgs, "orgs")
    playbook_names = check_ids(playbooks, "playbooks")
    now = client.now()
    if week is None:
        week = last_complete_week(now, zone)
    check_complete_week(week, zone, now)
    directory = client.directory()
    org_ids = _resolve(directory, "org", org_names)
    playbook_ids = _resolve(directory, "playbook", playbook_names)
    fetched = max(weeks, BASELINE_WEEKS + 1)
    start = week_bounds(shift_week(week, -(fetched - 1)), zone)[0]
    end = week_bounds(week, zone)[1]
    common: dict[str, Any] = {"freq": "week", "tz": zone, "progress": False}
    weekly = client.session_metrics_frame(start, end, org_ids=org_ids, **common)
    by_org = client.session_metrics_frame(
        start,
        end,
        by="org",
        ids=org_ids or directory.ids("org"),
        directory=directory,
        **common,
    )
    by_playbook = None
    if playbook_ids:
        by_playbook = client.session_metrics_frame(
            start,
            end,
            by="playbook",
            ids=playbook_ids,
            org_ids=org_ids,
            directory=directory,
            **common,
        )
    scope = (
        "All organizations"
        if org_ids is None
        else ", ".join(directory.name("org", org_id) for org_id in org_ids)
    )
    return WeeklyReport(
        week=week,
        tz=zone,
        now=now,
        weeks=weeks,
        weekly=weekly,
        by_org=by_org,
        by_playbook=by_playbook,
        scope=scope,
        demo=is_demo(client),
        settle_period=client.cache_policy.settle_period,
        source=banner(client),
    )


def _resolve(directory: Directory, kind: str, values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return list(dict.fromkeys(directory.resolve(kind, values)))


# ============================================================================================
# Rendering: papermill, then nbconvert to one self-contained HTML file
# ============================================================================================

#: The lab template without the scripts it loads from CDNs (require.js, MathJax, mermaid,
#: the widget manager), which the report does not use; Markdown rendered as a document (no
#: input areas), and images with their alternative text.
OFFLINE_TEMPLATE = """{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block markdowncell scoped -%}
<div class="jp-Cell jp-MarkdownCell jp-Notebook-cell">
<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput">
{{ cell.source | markdown2html | strip_files_prefix }}
</div>
</div>
{%- endblock markdowncell -%}
{%- block data_png scoped -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ output.metadata.get('alt', 'Chart') | escape_html }}">
</div>
{%- endblock data_png -%}
{%- block extra_css -%}
<style type="text/css">
  body { max-width: 1100px; margin: 0 auto; }
  .report-table { border-collapse: collapse; margin: 0.5em 0 1em; }
  .report-table th, .report-table td { border-bottom: 1px solid #ddd; }
  .report-changes li, .report-notes li { margin: 0.25em 0; }
</style>
{%- endblock extra_css -%}
"""
TEMPLATE_NAME = "metrics_toolkit_offline.html.j2"
#: Cells with this tag (the notebook's own instructions) are left out of the HTML.
HIDDEN_TAG = "report-hide"
#: What must never appear in a report: a resource fetched from the network when opened.
REMOTE_RESOURCE = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//)|@import|url\(\s*["']?\s*(?:https?:)?//""",
    re.IGNORECASE,
)


def _interpreter_kernels() -> str:
    """The kernelspec directory of this interpreter's environment (``sys.prefix``)."""
    return str(Path(sys.prefix) / "share" / "jupyter" / "kernels")


def _kernel_manager_class(env: Mapping[str, str]) -> type[Any]:
    """A kernel manager that starts the ``python3`` kernel of this interpreter's environment.

    The kernelspec is looked up in ``sys.prefix/share/jupyter/kernels`` only (falling back to
    ipykernel's own, which runs ``sys.executable``), so a ``python3`` kernelspec in the user's
    Jupyter directories cannot send the report to another Python. The kernel gets ``env``,
    and its sockets are encrypted (CurveZMQ) when pyzmq supports it: the kernel holds the token.
    """
    import zmq
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    kernel_dirs = [_interpreter_kernels()]
    kernel_env = dict(env)
    encryption = "auto" if zmq.has("curve") else "disabled"

    class InterpreterKernelManager(AsyncKernelManager):  # type: ignore[misc]
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("kernel_spec_manager", KernelSpecManager(kernel_dirs=kernel_dirs))
            if self.has_trait("transport_encryption"):  # jupyter_client 8.7 and later
                kwargs.setdefault("transport_encryption", encryption)
            super().__init__(**kwargs)

        async def start_kernel(self, **kwargs: Any) -> None:  # type: ignore[override]
            kwargs["env"] = {**kernel_env, **kwargs.get("env", {})}
            await super().start_kernel(**kwargs)

    return InterpreterKernelManager


def _kernel_env(demo: bool) -> dict[str, str]:
    """The kernel's environment: ours, without the token when the demo runs."""
    env = dict(os.environ)
    if demo:
        env.pop(ENV_API_KEY, None)
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"  # charts as PNG outputs
    return env


def _check_out(out: Any, week: str) -> Path:
    if out is None:
        return Path.cwd() / DEFAULT_REPORT_DIR / f"weekly-{week}.html"
    if not isinstance(out, str | os.PathLike) or not str(out).strip():
        raise InvalidParameterError("out", f"got {out!r}; expected a path ending in .html")
    path = Path(out)
    if path.suffix.lower() != ".html":
        raise InvalidParameterError("out", f"{str(out)!r} must end in .html")
    if path.exists() and path.is_dir():
        raise InvalidParameterError("out", f"{str(out)!r} is a directory; name an .html file")
    return path


def _check_base_url(base_url: Any) -> str | None:
    if base_url is None:
        return None
    parts = urlsplit(base_url) if isinstance(base_url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameterError(
            "base_url", f"got {base_url!r}; expected an http(s) URL such as 'https://api.devin.ai'"
        )
    return str(base_url)


def _check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidParameterError(name, f"got {value!r}; expected True or False")
    return value


def _now(demo: bool) -> pd.Timestamp:
    """The wall clock; for the demo, floored to the hour as the demo's "now" is."""
    now = pd.Timestamp.now(tz="UTC")
    return now.floor("h") if demo else now


def render_weekly_report(
    *,
    week: str | None = None,
    tz: str = "UTC",
    orgs: Sequence[str] | None = None,
    playbooks: Sequence[str] | None = None,
    weeks: int = DEFAULT_WEEKS,
    demo: bool = False,
    out: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    """Execute the weekly report notebook and write it as one self-contained HTML file.

    Every parameter is checked before anything runs. The notebook then runs in a fresh
    ``python3`` kernel of this interpreter's environment with the parameters injected by
    papermill; the token, if any, reaches the kernel only through its environment. The
    executed notebook is exported without code or prompts, charts embedded as PNG images and
    no script, style or font loaded from the network, and written readable by its owner only.

    Parameters
    ----------
    week : str, optional
        ISO week ``"YYYY-Www"``, complete in ``tz``. Default: the last complete week.
    tz : str, default "UTC"
        IANA time zone of the calendar.
    orgs : list of str, optional
        Organizations (ids or names) to cover; default all.
    playbooks : list of str, optional
        Playbooks (ids or titles) to rank and chart.
    weeks : int, default 12
        Weeks of history in the charts, 1 to 104.
    demo : bool, default False
        Report on the synthetic demo enterprise (no key needed). Otherwise
        ``DEVIN_API_KEY`` must be set.
    out : path, optional
        The ``.html`` file to write; default ``reports/weekly-<week>.html`` under the
        current directory. Its directory is created.
    base_url : str, optional
        The API's base URL (default ``DEVIN_API_BASE_URL``, then ``https://api.devin.ai``).
    cache : bool, default True
        Use the HTTP cache.
    cache_dir : path, optional
        Where the HTTP cache lives.

    Returns
    -------
    pathlib.Path
        The HTML file written (mode 600).

    Raises
    ------
    InvalidParameterError
        For a malformed parameter, a week not complete yet, an unknown organization or
        playbook name, or no ``DEVIN_API_KEY`` without ``demo``.
    ReportExecutionError
        When a cell of the notebook fails for another reason.
    MetricsError
        A subclass for API errors met while fetching (the report is not written).
    """
    if week is not None:
        parse_week(week)
    zone = check_timezone(tz)
    org_names = check_ids(orgs, "orgs")
    playbook_names = check_ids(playbooks, "playbooks")
    weeks = _check_weeks(weeks)
    demo = _check_flag(demo, "demo")
    cache = _check_flag(cache, "cache")
    base_url = _check_base_url(base_url)
    if cache_dir is not None and not isinstance(cache_dir, str | os.PathLike):
        raise InvalidParameterError("cache_dir", f"got {cache_dir!r}; expected a directory path")
    now = _now(demo)
    if week is None:
        week = last_complete_week(now, zone)
    else:
        week = week.strip()
        check_complete_week(week, zone, now)
    path = _check_out(out, week)
    if not demo and not os.environ.get(ENV_API_KEY):
        raise InvalidParameterError(
            ENV_API_KEY,
            "is not set: set it to a service-user token (cog_...), or pass demo=True (--demo) "
            "for the synthetic demo enterprise",
        )
    parameters = {
        "week": week,
        "tz": zone,
        "orgs": org_names,
        "playbooks": playbook_names,
        "weeks": weeks,
        "demo": demo,
        "base_url": base_url,
        "cache": cache,
        "cache_dir": None if cache_dir is None else str(cache_dir),
    }
    notebook = _execute(parameters, demo=demo)
    body = _export(notebook, week_title(week, zone))
    _refuse_secrets(body)
    _write_private(path, body)
    return path


def _execute(parameters: Mapping[str, Any], *, demo: bool) -> Any:
    """Run the report notebook with papermill; map a failing cell to our errors."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        return papermill.execute_notebook(
            str(REPORT_NOTEBOOK),
            None,
            parameters=dict(parameters),
            kernel_name=KERNEL_NAME,
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            start_timeout=KERNEL_START_TIMEOUT,
            execution_timeout=CELL_TIMEOUT,
            kernel_manager_class=_kernel_manager_class(_kernel_env(demo)),
            # the kernel logs its shutdown interrupt as an error: keep the terminal quiet
            extra_arguments=[f"--IPKernelApp.log_level={KERNEL_LOG_LEVEL}"],
        )
    except PapermillExecutionError as error:
        raise _mapped(str(error.ename), str(error.evalue), int(error.exec_count or 0)) from None


def _mapped(name: str, message: str, cell: int) -> MetricsError:
    """The error a failed report cell stands for: ours when it was one of ours."""
    from . import errors

    if name == "InvalidParameterError":
        parameter, _, detail = message.partition(": ")
        return InvalidParameterError(parameter, detail or message)
    if name == "InsecureTransportError":
        return InsecureTransportError(message)
    known = getattr(errors, name, None)
    if isinstance(known, type) and issubclass(known, MetricsError):
        return ReportExecutionError(f"{name}: {message}")
    return ReportExecutionError(f"the report notebook failed in cell {cell}: {name}: {message}")


def _export(notebook: Any, title: str) -> str:
    """The executed notebook as HTML: no input, no prompts, no stderr, no cell tagged
    ``report-hide``, nothing remote."""
    import jinja2
    from nbconvert import HTMLExporter

    notebook.cells = [
        cell
        for cell in notebook.cells
        if HIDDEN_TAG not in cell.get("metadata", {}).get("tags", [])
    ]
    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = [
                output
                for output in cell.get("outputs", [])
                if not (output.get("output_type") == "stream" and output.get("name") == "stderr")
            ]
    _describe_images(notebook, title)
    notebook.metadata["title"] = title
    notebook.metadata.pop("widgets", None)
    exporter = HTMLExporter(  # type: ignore[no-untyped-call]
        extra_loaders=[jinja2.DictLoader({TEMPLATE_NAME: OFFLINE_TEMPLATE})],
        template_file=TEMPLATE_NAME,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
    # the exporter writes attributes in alphabetical order: put the image's source first
    body = re.sub(r'<img alt="([^"]*)" src="(data:image/[^"]*)"', r'<img src="\2" alt="\1"', body)
    found = REMOTE_RESOURCE.search(body)
    if found:
        raise ReportExecutionError(
            f"the exported report would load {body[found.start() : found.end() + 60]!r} from the "
            "network; refusing to write it"
        )
    return str(body)


def _describe_images(notebook: Any, title: str) -> None:
    """Give each chart an alternative text: the heading of the section it is in."""
    heading = title
    for cell in notebook.cells:
        if cell.get("cell_type") == "markdown":
            found = re.search(r"^#+\s*(.+?)\s*$", cell.get("source", ""), re.M)
            heading = found.group(1) if found else heading
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            found = re.search(r"<h[1-6][^>]*>(.*?)</h[1-6]>", str(data.get("text/html", "")))
            if found:
                heading = html.unescape(re.sub(r"<[^>]+>", "", found.group(1)))
            if "image/png" in data:
                output.setdefault("metadata", {})["alt"] = f"Chart: {heading}"


def _refuse_secrets(body: str) -> None:
    token = os.environ.get(ENV_API_KEY)
    if token and token in body:
        raise ReportExecutionError("the report contains the API token; refusing to write it")


def _write_private(path: Path, body: str) -> None:
    """Write ``body`` to ``path`` atomically, readable and writable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".report-", suffix=".html")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
