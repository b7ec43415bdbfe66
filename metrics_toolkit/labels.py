"""Text for people: every date and number label, said once (pure, no matplotlib).

The charts, the panel and the weekly report write dates and numbers with these functions, so
the same week reads the same everywhere. Names are English and independent of the process
locale, so labels, baseline images and reports stay stable.

=====================  ==================================================================
function               example
=====================  ==================================================================
day_month              ``"3 Nov"``
weekday_day_month      ``"Mon 3 Nov"``
date_span              ``"16–22 Nov 2026"``, ``"30 Nov – 6 Dec 2026"``, ``"3 Nov 2026"``
bucket_unit            ``"week"``, ``"hour"``, ``"6h"``
period                 ``"Nov 2026"``, ``"2026 Q4"``, ``"Mon 3 Nov 2026"``, a date span
bucket_label           a tick label: ``"3 Nov"``, ``"Nov 2026"``, ``"06:00\\nMon 3 Nov"``
moment_label           ``"Mon 23 Nov 2026 00:00"`` (``"Mon 23 Nov 00:00"`` without the year)
arrow, signed          ``"▲"``, ``"+1,234"``, ``"−3.1 pp"``, ``"±0"``
change_label           ``"▲ +3.1 pp"``
rate_text              ``"41.3%"``
points_text            ``"▲ +3.1 pp"`` (a change of a fraction 0-1, in percentage points)
percent_text           ``"18%"``, ``"4.5%"`` (a relative change in a sentence)
=====================  ==================================================================

A span joins days of one month with an unspaced en dash (``"16–22 Nov 2026"``) and anything
wider with a spaced one (``"30 Nov – 6 Dec 2026"``). Spans are of half-open ``[start, end)``
intervals: the last day named is the one holding ``end`` minus one second.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

import pandas as pd

from .buckets import SECONDS_PER_DAY

if TYPE_CHECKING:
    from .buckets import Frequency

__all__ = [
    "MINUS",
    "MISSING",
    "MONTH_NAMES",
    "WEEKDAY_NAMES",
    "arrow",
    "bucket_label",
    "bucket_unit",
    "change_label",
    "date_span",
    "day_month",
    "moment_label",
    "percent_text",
    "period",
    "points_text",
    "rate_text",
    "signed",
    "weekday_day_month",
]

#: Weekday names, Monday first.
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: Month names, January first.
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: The minus sign of text meant for reading (U+2212, as wide as the plus sign).
MINUS = "\u2212"
#: A value that is not there (a failed bucket, a comparison that could not be made).
MISSING = "–"


def day_month(day: dt.date) -> str:
    """The day of the month and the month: ``"3 Nov"``.

    Examples
    --------
    >>> day_month(pd.Timestamp("2026-11-03"))
    '3 Nov'
    """
    return f"{day.day} {MONTH_NAMES[day.month - 1]}"


def weekday_day_month(day: dt.date) -> str:
    """The weekday, day and month: ``"Tue 3 Nov"``.

    Examples
    --------
    >>> weekday_day_month(pd.Timestamp("2026-11-03"))
    'Tue 3 Nov'
    """
    return f"{WEEKDAY_NAMES[day.weekday()]} {day_month(day)}"


def date_span(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """The days of the half-open span ``[start, end)``, both ends included in the text.

    Parameters
    ----------
    start, end : pandas.Timestamp
        The span's bounds, in the time zone whose calendar names the days; ``end`` excluded.

    Returns
    -------
    str
        One day ``"3 Nov 2026"``; days of one month ``"16–22 Nov 2026"``; of one year
        ``"30 Nov – 6 Dec 2026"``; across years ``"29 Dec 2025 – 4 Jan 2026"``.

    Examples
    --------
    >>> date_span(pd.Timestamp("2026-11-16"), pd.Timestamp("2026-11-23"))
    '16–22 Nov 2026'
    >>> date_span(pd.Timestamp("2026-11-30"), pd.Timestamp("2026-12-07"))
    '30 Nov – 6 Dec 2026'
    >>> date_span(pd.Timestamp("2025-12-29"), pd.Timestamp("2026-01-05"))
    '29 Dec 2025 – 4 Jan 2026'
    >>> date_span(pd.Timestamp("2026-11-03"), pd.Timestamp("2026-11-04"))
    '3 Nov 2026'
    """
    first = start.date()
    last = (end - pd.Timedelta(seconds=1)).date()
    if first == last:
        return f"{day_month(first)} {first.year}"
    if first.year != last.year:
        return f"{day_month(first)} {first.year} – {day_month(last)} {last.year}"
    if first.month != last.month:
        return f"{day_month(first)} – {day_month(last)} {last.year}"
    return f"{first.day}–{day_month(last)} {last.year}"


def bucket_unit(freq: Frequency) -> str:
    """A bucket in words: ``"day"``, ``"week"``, ``"month"``, ``"hour"``, ``"6h"``.

    Examples
    --------
    >>> from metrics_toolkit.buckets import parse_freq
    >>> bucket_unit(parse_freq("week")), bucket_unit(parse_freq("1h"))
    ('week', 'hour')
    """
    if freq.seconds is None:
        return freq.label
    return "hour" if freq.seconds == 3600 else freq.name


def period(start: pd.Timestamp, end: pd.Timestamp, unit: str) -> str:
    """One bucket ``[start, end)`` in words, by its unit (see :func:`bucket_unit`).

    Returns
    -------
    str
        A month ``"Oct 2026"``, a quarter ``"2026 Q3"``, a year ``"2026"``, a day
        ``"Mon 16 Nov 2026"``, anything else its :func:`date_span`.

    Examples
    --------
    >>> period(pd.Timestamp("2026-11-16"), pd.Timestamp("2026-11-23"), "week")
    '16–22 Nov 2026'
    >>> period(pd.Timestamp("2026-07-01"), pd.Timestamp("2026-10-01"), "quarter")
    '2026 Q3'
    """
    if unit == "month":
        return f"{MONTH_NAMES[start.month - 1]} {start.year}"
    if unit == "quarter":
        return f"{start.year} Q{start.quarter}"
    if unit == "year":
        return str(start.year)
    if unit == "day":
        return f"{weekday_day_month(start)} {start.year}"
    return date_span(start, end)


def bucket_label(stamp: pd.Timestamp, freq: Frequency, previous: pd.Timestamp | None) -> str:
    """A tick label for the bucket starting at ``stamp``; ``previous`` is the last one labelled.

    Returns
    -------
    str
        A day ``"Mon 3 Nov"``, a week ``"3 Nov"`` (with the year when it changes since
        ``previous``), a month ``"Nov 2026"``, a quarter ``"2026 Q4"``, a year ``"2026"``;
        buckets shorter than a day ``"06:00"``, with ``"\\nMon 3 Nov"`` on the first label
        of each day.

    Examples
    --------
    >>> from metrics_toolkit.buckets import parse_freq
    >>> jan = pd.Timestamp("2027-01-04")
    >>> bucket_label(jan, parse_freq("week"), pd.Timestamp("2026-12-28"))
    '4 Jan 2027'
    >>> bucket_label(jan, parse_freq("month"), None)
    'Jan 2027'
    """
    label = freq.label
    if label == "week":
        new_year = previous is not None and previous.year != stamp.year
        return day_month(stamp) + (f" {stamp.year}" if new_year else "")
    if label == "month":
        return f"{MONTH_NAMES[stamp.month - 1]} {stamp.year}"
    if label == "quarter":
        return f"{stamp.year} Q{stamp.quarter}"
    if label == "year":
        return str(stamp.year)
    if freq.seconds is not None and freq.seconds < SECONDS_PER_DAY:
        time = f"{stamp.hour:02d}:{stamp.minute:02d}"
        if previous is None or previous.date() != stamp.date():
            return f"{time}\n{weekday_day_month(stamp)}"
        return time
    return weekday_day_month(stamp)


def moment_label(stamp: pd.Timestamp, *, year: bool = True) -> str:
    """A moment, in the stamp's own time zone: ``"Mon 23 Nov 2026 00:00"``.

    Parameters
    ----------
    stamp : pandas.Timestamp
        The moment; convert it to the reader's time zone first.
    year : bool, default True
        Name the year (False: ``"Mon 23 Nov 00:00"``, for a note next to a dated title).

    Examples
    --------
    >>> moment_label(pd.Timestamp("2026-11-23 00:00"))
    'Mon 23 Nov 2026 00:00'
    >>> moment_label(pd.Timestamp("2026-11-25 04:00"), year=False)
    'Wed 25 Nov 04:00'
    """
    day = f"{weekday_day_month(stamp)} {stamp.year}" if year else weekday_day_month(stamp)
    return f"{day} {stamp.hour:02d}:{stamp.minute:02d}"


# -- numbers -------------------------------------------------------------------------------------


def arrow(value: float) -> str:
    """``"▲"`` for a rise, ``"▼"`` for a fall, ``"="`` for no change."""
    return "▲" if value > 0 else "▼" if value < 0 else "="


def signed(value: float, decimals: int = 0, unit: str = "", *, ascii_minus: bool = False) -> str:
    """A change with its sign and thousands separators: ``"+1,234"``, ``"−3.1 pp"``, ``"±0"``.

    Parameters
    ----------
    value : float
        The change, finite.
    decimals : int, default 0
        Digits after the point, 0 or more.
    unit : str, default ""
        Appended as given (``" pp"``, ``" %"``, ``"%"``).
    ascii_minus : bool, default False
        Write a fall with ``"-"`` and no change with ``"+0"``, as Python's ``"+"`` format
        does (the chart cards), instead of ``"−"`` and ``"±0"``.

    Examples
    --------
    >>> signed(1234.0), signed(-3.14, 1, " pp"), signed(0.0)
    ('+1,234', '−3.1 pp', '±0')
    >>> signed(-161.0, ascii_minus=True)
    '-161'
    """
    if ascii_minus:
        return f"{value:+,.{decimals}f}{unit}"
    sign = "+" if value > 0 else MINUS if value < 0 else "±"
    return f"{sign}{abs(value):,.{decimals}f}{unit}"


def change_label(value: float, decimals: int = 0, unit: str = "") -> str:
    """A change with its arrow: ``"▲ +20.0 %"``, ``"▼ −3.1 pp"``; :data:`MISSING` for NaN.

    Examples
    --------
    >>> change_label(20.0, 1, " %"), change_label(float("nan"))
    ('▲ +20.0 %', '–')
    """
    if math.isnan(value):
        return MISSING
    return f"{arrow(value)} {signed(value, decimals, unit)}"


def rate_text(rate: float, decimals: int = 1) -> str:
    """A fraction 0-1 in percent: ``"41.3%"``; :data:`MISSING` for NaN.

    Examples
    --------
    >>> rate_text(0.4134), rate_text(0.25, 0)
    ('41.3%', '25%')
    """
    return MISSING if math.isnan(rate) else f"{rate:.{decimals}%}"


def points_text(change: float) -> str:
    """A change of a fraction 0-1 in percentage points: ``"▲ +3.1 pp"``.

    Examples
    --------
    >>> points_text(-0.2)
    '▼ −20.0 pp'
    """
    return change_label(change * 100, 1, " pp")


def percent_text(value: float) -> str:
    """A relative change in percent (0-100 and beyond) for a sentence: ``"18%"``, ``"4.5%"``.

    Whole percent from 9.5 up, one decimal below.

    Examples
    --------
    >>> percent_text(18.2), percent_text(4.46)
    ('18%', '4.5%')
    """
    return f"{value:.0f}%" if value >= 9.5 else f"{value:.1f}%"
