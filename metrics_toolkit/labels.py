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
and_join               ``"Platform, Growth and Data"``
arrow, signed          ``"▲"``, ``"+1,234"``, ``"−3.1 pp"``, ``"−8.2%"``, ``"±0"``
change_label           ``"▲ +3.1 pp"``, ``"▼ −96 (−8.2%)"``
rate_text              ``"41.3%"``
rate_range             ``"34.2%–100.0%"`` (an interval of a fraction 0-1)
points_text            ``"▲ +3.1 pp"`` (a change of a fraction 0-1, in percentage points)
percent_text           ``"18%"``, ``"4.5%"`` (a relative change in a sentence)
provisional_value      ``"45.0%†"``: a value that will still change
provisional_note       the footnote that explains :data:`PROVISIONAL_MARK`
partial_note           ``"current week (W49) partial: data until Wed 2 Dec 03:00"``
=====================  ==================================================================

Numbers have one form everywhere people read them (report, panel, chart cards): a fall is
written with the minus sign :data:`MINUS` (U+2212, as wide as the plus sign), a percentage
has no space before ``%`` (``"−8.2%"``, :data:`PERCENT`), percentage points have one
(``"−2.9 pp"``, :data:`POINTS`), and thousands are separated by commas (``"1,234"``).

A span joins days of one month with an unspaced en dash (``"16–22 Nov 2026"``) and anything
wider with a spaced one (``"30 Nov – 6 Dec 2026"``). Spans are of half-open ``[start, end)``
intervals: the last day named is the one holding ``end`` minus one second.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from .buckets import SECONDS_PER_DAY

if TYPE_CHECKING:
    from .buckets import Frequency

__all__ = [
    "MINUS",
    "MISSING",
    "MONTH_NAMES",
    "PERCENT",
    "POINTS",
    "PROVISIONAL_MARK",
    "WEEKDAY_NAMES",
    "and_join",
    "arrow",
    "bucket_label",
    "bucket_unit",
    "change_label",
    "date_span",
    "day_month",
    "duration_text",
    "moment_label",
    "partial_note",
    "percent_text",
    "period",
    "points_text",
    "provisional_note",
    "provisional_value",
    "rate_range",
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
#: The unit of a relative change, written right after the number: ``"−8.2%"``.
PERCENT = "%"
#: The unit of a change of a rate, in percentage points, after a space: ``"−2.9 pp"``.
POINTS = " pp"
#: Follows a value that will still change: its window ended less than the settle period ago
#: (``DEFAULT_SETTLE_PERIOD``), and merged PRs and ACUs of its sessions still arrive.
PROVISIONAL_MARK = "†"


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


def and_join(words: Sequence[str]) -> str:
    """Words as a sentence lists them: ``"A"``, ``"A and B"``, ``"A, B and C"``.

    Examples
    --------
    >>> and_join(["Platform"]), and_join(["Platform", "Growth", "Data"])
    ('Platform', 'Platform, Growth and Data')
    """
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


# -- numbers -------------------------------------------------------------------------------------


def arrow(value: float) -> str:
    """``"▲"`` for a rise, ``"▼"`` for a fall, ``"="`` for no change.

    Examples
    --------
    >>> arrow(3.0), arrow(-0.5), arrow(0.0)
    ('▲', '▼', '=')
    """
    return "▲" if value > 0 else "▼" if value < 0 else "="


def signed(value: float, decimals: int = 0, unit: str = "") -> str:
    """A change with its sign and thousands separators: ``"+1,234"``, ``"−3.1 pp"``, ``"±0"``.

    Parameters
    ----------
    value : float
        The change, finite.
    decimals : int, default 0
        Digits after the point, 0 or more.
    unit : str, default ""
        Appended as given: :data:`PERCENT` (``"−8.2%"``), :data:`POINTS` (``"−3.1 pp"``).

    Examples
    --------
    >>> signed(1234.0), signed(-3.14, 1, POINTS), signed(-8.24, 1, PERCENT), signed(-0.04, 1)
    ('+1,234', '−3.1 pp', '−8.2%', '±0.0')
    """
    rounded = round(value, decimals)
    sign = "+" if rounded > 0 else MINUS if rounded < 0 else "±"
    return f"{sign}{abs(value):,.{decimals}f}{unit}"


def change_label(
    value: float, decimals: int = 0, unit: str = "", *, percent: float = math.nan
) -> str:
    """A change with its arrow, and its relative size when given; :data:`MISSING` for NaN.

    Parameters
    ----------
    value : float
        The change (NaN: no comparison).
    decimals, unit
        As :func:`signed` takes them.
    percent : float, optional
        The same change relative to the value before, in percent (0-100 and beyond); written
        in brackets with one decimal when it is a number.

    Examples
    --------
    >>> change_label(-8.24, 1, PERCENT), change_label(float("nan"))
    ('▼ −8.2%', '–')
    >>> change_label(-96.0, percent=-8.24), change_label(3.1, 1, POINTS)
    ('▼ −96 (−8.2%)', '▲ +3.1 pp')

    A change that rounds to nothing has no direction: ``change_label(-0.04, 1, POINTS)`` is
    ``"= ±0.0 pp"``.
    """
    if math.isnan(value):
        return MISSING
    text = f"{arrow(round(value, decimals))} {signed(value, decimals, unit)}"
    if not math.isnan(percent):
        text += f" ({signed(percent, 1, PERCENT)})"
    return text


def rate_text(rate: float, decimals: int = 1) -> str:
    """A fraction 0-1 in percent: ``"41.3%"``; :data:`MISSING` for NaN.

    Examples
    --------
    >>> rate_text(0.4134), rate_text(0.25, 0)
    ('41.3%', '25%')
    """
    return MISSING if math.isnan(rate) else f"{rate:.{decimals}%}"


def rate_range(low: float, high: float) -> str:
    """An interval of fractions 0-1, as precise as :func:`rate_text`: ``"34.2%–100.0%"``.

    Examples
    --------
    >>> rate_range(0.3424, 1.0), rate_range(float("nan"), float("nan"))
    ('34.2%–100.0%', '–')
    """
    if math.isnan(low) or math.isnan(high):
        return MISSING
    return f"{rate_text(low)}–{rate_text(high)}"


def points_text(change: float) -> str:
    """A change of a fraction 0-1 in percentage points: ``"▲ +3.1 pp"``.

    Examples
    --------
    >>> points_text(-0.2)
    '▼ −20.0 pp'
    """
    return change_label(change * 100, 1, POINTS)


def percent_text(value: float) -> str:
    """A relative change in percent (0-100 and beyond) for a sentence: ``"18%"``, ``"4.5%"``.

    Whole percent from 9.5 up, one decimal below.

    Examples
    --------
    >>> percent_text(18.2), percent_text(4.46)
    ('18%', '4.5%')
    """
    return f"{value:.0f}{PERCENT}" if value >= 9.5 else f"{value:.1f}{PERCENT}"


# -- what is not final yet -----------------------------------------------------------------------


def provisional_value(text: str, provisional: bool = True) -> str:
    """``text`` followed by :data:`PROVISIONAL_MARK` when the value will still change.

    Examples
    --------
    >>> provisional_value("45.0%"), provisional_value("1,069", False)
    ('45.0%†', '1,069')
    """
    return f"{text}{PROVISIONAL_MARK}" if provisional and text != MISSING else text


def duration_text(period: dt.timedelta) -> str:
    """A duration in whole days, or hours below two days: ``"14 days"``, ``"36 hours"``.

    Examples
    --------
    >>> duration_text(dt.timedelta(days=14)), duration_text(dt.timedelta(hours=36))
    ('14 days', '36 hours')
    """
    hours = period.total_seconds() / 3600
    if hours >= 48:
        days = round(hours / 24)
        return f"{days} days"
    whole = round(hours)
    return f"{whole} hour" if whole == 1 else f"{whole} hours"


def provisional_note(settle_period: dt.timedelta, unit: str = "week") -> str:
    """The footnote of :data:`PROVISIONAL_MARK`, said the same under every table and list.

    Parameters
    ----------
    settle_period : datetime.timedelta
        How long after a window ends its numbers may still change (the answer store's
        ``CachePolicy.settle_period``, by default 14 days).
    unit : str, default "week"
        What the windows are, in words (:func:`bucket_unit`).

    Examples
    --------
    >>> provisional_note(dt.timedelta(days=14))  # doctest: +NORMALIZE_WHITESPACE
    '† Provisional: from a week that ended less than 14 days before the data was read; PRs
    of its sessions are still being merged and long sessions still use ACUs, so its merged-PR
    rate and ACUs can still rise.'
    """
    return (
        f"{PROVISIONAL_MARK} Provisional: from a {unit} that ended less than "
        f"{duration_text(settle_period)} before the data was read; PRs of its sessions are "
        "still being merged and long sessions still use ACUs, so its merged-PR rate and ACUs "
        "can still rise."
    )


def partial_note(
    start: pd.Timestamp, end: pd.Timestamp, unit: str, now: pd.Timestamp | None = None
) -> str:
    """A bucket that holds "now", for a chart's note: the current one, and how far it goes.

    Parameters
    ----------
    start, end : pandas.Timestamp
        The bucket ``[start, end)``, in the reader's time zone.
    unit : str
        The bucket in words (:func:`bucket_unit`): a week is named by its ISO week.
    now : pandas.Timestamp, optional
        When the data was read; converted to ``start``'s time zone.

    Returns
    -------
    str
        ``"current week (W49) partial: data until Wed 2 Dec 03:00"``; without ``now``,
        ``"current week (W49) partial"``.

    Examples
    --------
    >>> start = pd.Timestamp("2026-11-30", tz="UTC")
    >>> partial_note(start, start + pd.Timedelta(days=7), "week",
    ...              pd.Timestamp("2026-12-02 03:00", tz="UTC"))
    'current week (W49) partial: data until Wed 2 Dec 03:00'
    >>> partial_note(pd.Timestamp("2026-12-01"), pd.Timestamp("2027-01-01"), "month")
    'current month (Dec 2026) partial'
    """
    name = f"W{start.isocalendar()[1]:02d}" if unit == "week" else period(start, end, unit)
    text = f"current {unit} ({name}) partial"
    if now is None:
        return text
    if now.tzinfo is not None and start.tzinfo is not None:
        now = now.tz_convert(start.tzinfo)
    return f"{text}: data until {moment_label(now, year=False)}"
