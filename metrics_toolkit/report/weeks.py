"""ISO weeks in a time zone's calendar: parse, bound, shift and name them.

A week is written ``"YYYY-Www"`` (ISO 8601). Its span is half-open, ``[start, end)``: Monday
00:00 to the next Monday 00:00 in the report's time zone, aligned exactly as the ``"week"``
buckets of :func:`~metrics_toolkit.time_buckets` are. A week is complete once it ended at or
before "now" in that time zone. The days and moments are written by
:mod:`metrics_toolkit.labels` ("16–22 Nov 2026", "Mon 23 Nov 2026 00:00"), as the charts write
them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from ..buckets import bucket_floor
from ..errors import InvalidParameterError
from ..labels import date_span, moment_label
from ..params import check_timezone, to_timestamp

__all__ = [
    "check_complete_week",
    "last_complete_week",
    "moment_label",
    "parse_week",
    "shift_week",
    "week_bounds",
    "week_of",
    "week_title",
]

WEEK_PATTERN = re.compile(r"(\d{4})-W(\d{2})")
WEEK_FORM = "an ISO week such as '2026-W47' (year, '-W', two-digit week 01-53)"


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
    start, end = week_bounds(week, zone)
    moment = to_timestamp(now, "now", zone)
    if end > moment:
        state = "still running" if start <= moment else "in the future"
        raise InvalidParameterError(
            "week",
            f"{week} is {state} in {zone} (it ends {moment_label(end)}), so its numbers are not "
            f"complete; the last complete week is {last_complete_week(moment, zone)}",
        )
    return week


def week_title(week: str, tz: str = "UTC") -> str:
    """``"Weekly report — 2026-W47 (16–22 Nov 2026, Europe/Berlin)"``.

    Examples
    --------
    >>> week_title("2026-W49")
    'Weekly report — 2026-W49 (30 Nov – 6 Dec 2026, UTC)'
    """
    start, end = week_bounds(week, tz)
    return f"Weekly report — {week} ({date_span(start, end)}, {check_timezone(tz)})"
