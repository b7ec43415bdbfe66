"""Bucket frequencies: parse what ``freq`` accepts into a :class:`Frequency` (pure, no I/O).

A frequency is a calendar unit (days, weeks, months, quarters, years in a time zone) or a fixed
length in whole seconds. :mod:`metrics_toolkit.buckets` turns one into half-open buckets and
documents how their boundaries are aligned. The last section reads the wall clock of a time
zone (local seconds to Unix seconds and back, across DST gaps and folds), which calendar units
and wall-clock-aligned lengths follow.

Spellings
---------
======================  =======================================================================
spelling                buckets
======================  =======================================================================
``"day"``, ``"D"``      calendar days in ``tz`` (23 or 25 hours across a DST change)
``"week"``, ``"W"``     ISO weeks: Monday 00:00 to Monday 00:00 in ``tz``
``"week-sunday"``       weeks *starting* on the named day (``week-monday`` ... ``week-sunday``;
                        three-letter forms such as ``week-sun`` too)
``"W-SUN"`` ...         pandas' anchored weeks, which name the day a week *ends* on:
                        ``W-SUN`` = ``week`` (Monday start), ``W-SAT`` = ``week-sunday``
``"month"``, ``"M"``    calendar months (``MS`` and ``ME`` too: either way the bucket is
                        the whole month, labelled by its start)
``"quarter"``, ``"Q"``  calendar quarters from January, April, July, October (``QS``, ``QE``)
``"year"``, ``"Y"``     calendar years (``YS``, ``YE``)
``"hour"``, ``"h"``     the fixed length of one hour
``"6h"``, timedelta     a fixed length: a positive whole number of seconds, given as a
                        string (``"30min"``, ``"6h"``, ``"1h30min"``, ``"2D"``), a
                        :class:`datetime.timedelta`, a :class:`pandas.Timedelta` or a pandas
                        fixed offset such as ``pd.offsets.Hour(6)``
======================  =======================================================================

Word spellings are case-insensitive (``"Week-Sunday"``); pandas' short aliases are spelt as pandas
spells them (``"W-SUN"``, ``"MS"``). Calendar frequencies take no multiple (``"2W"`` is refused).
Fixed strings combine whole numbers of ``D`` / ``day(s)``, ``h`` / ``hour(s)``, ``min`` /
``minute(s)`` and ``s`` / ``second(s)``; a bare ``m`` is refused (minute or month?).

Examples
--------
>>> parse_freq("W-SAT") == parse_freq("week-sunday")
True
>>> parse_freq("1h30min").seconds
5400
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import zoneinfo
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import InvalidParameterError

__all__ = [
    "ACCEPTED_FREQS",
    "FreqLike",
    "Frequency",
    "gap_end",
    "localize_walls",
    "parse_freq",
    "wall_seconds",
]

#: What ``freq`` accepts, in short, for error messages (the module documentation has them all).
ACCEPTED_FREQS = (
    "'day', 'week', 'week-sunday', 'month', 'quarter', 'year', 'hour', pandas aliases such as "
    "'W-SUN' or 'MS', or a fixed length such as '6h' (all: help(metrics_toolkit.frequencies))"
)

#: Seconds in a day of 24 hours (a fixed length; a calendar day can last 23 or 25 hours).
SECONDS_PER_DAY = 86_400

#: The day names, Monday first (``datetime.date.weekday()`` order).
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

#: The labels of :class:`Frequency`: calendar units, then fixed lengths.
CALENDAR_LABELS = ("day", "week", "month", "quarter", "year")
FIXED_LABEL = "fixed"

#: Months per bucket of the month-based calendar units.
MONTHS_PER_BUCKET = {"month": 1, "quarter": 3, "year": 12}

#: Typical length of a calendar bucket in seconds, to estimate bucket counts and order units.
NOMINAL_SECONDS = {
    "day": SECONDS_PER_DAY,
    "week": 7 * SECONDS_PER_DAY,
    "month": 2_629_746,  # 365.2425 days / 12
    "quarter": 3 * 2_629_746,
    "year": 12 * 2_629_746,
}

#: Unix time zero, and one second, for turning timestamps into whole Unix seconds.
UNIX_EPOCH = pd.Timestamp(0, unit="s", tz="UTC")
ONE_SECOND = pd.Timedelta(seconds=1)
#: Local wall times are counted in seconds since this naive instant (1970-01-01 00:00 local).
NAIVE_EPOCH = dt.datetime(1970, 1, 1)
# Zones whose clock is UTC all the time (the IANA names of UTC and GMT): a wall time there is
# one instant, read as it is, with no time zone machinery.
_UTC_ZONES = frozenset(
    f"{area}{name}"
    for area in ("", "Etc/")
    for name in ("UTC", "UCT", "Universal", "Zulu", "GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich")
)

#: Anything :func:`parse_freq` accepts.
FreqLike: TypeAlias = "str | dt.timedelta | pd.Timedelta | pd.offsets.BaseOffset | Frequency"

_Seconds: TypeAlias = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Frequency:
    """A parsed bucket frequency: a calendar unit or a fixed length.

    Build one with :func:`parse_freq`; ``str(freq)`` gives a spelling that parses back to it.

    Attributes
    ----------
    label : str
        ``"day"``, ``"week"``, ``"month"``, ``"quarter"``, ``"year"`` or ``"fixed"``.
    week_start : int
        For ``"week"``: the day weeks start on, 0 = Monday (ISO) to 6 = Sunday. 0 otherwise.
    seconds : int or None
        For ``"fixed"``: the length in seconds, at least 1. None for calendar units.

    Examples
    --------
    >>> parse_freq("W-SAT")
    Frequency(label='week', week_start=6, seconds=None)
    >>> str(parse_freq("W-SAT")), str(parse_freq(pd.Timedelta(minutes=90)))
    ('week-sunday', '90min')
    """

    label: str
    week_start: int = 0
    seconds: int | None = None

    def __post_init__(self) -> None:
        if self.label in CALENDAR_LABELS:
            if self.seconds is not None:
                raise InvalidParameterError("freq", f"a {self.label!r} frequency has no seconds")
            if not 0 <= self.week_start <= 6 or (self.label != "week" and self.week_start):
                raise InvalidParameterError(
                    "freq",
                    f"week_start must be 0 (Monday) to 6 (Sunday), for weeks only; "
                    f"got {self.week_start!r} for {self.label!r}",
                )
        elif self.label == FIXED_LABEL:
            if isinstance(self.seconds, bool) or not isinstance(self.seconds, int):
                raise InvalidParameterError("freq", "a fixed frequency needs int seconds")
            if self.seconds < 1 or self.week_start:
                raise InvalidParameterError(
                    "freq",
                    f"a fixed length must be at least 1 second, with week_start 0; "
                    f"got seconds={self.seconds!r}, week_start={self.week_start!r}",
                )
        else:
            raise InvalidParameterError(
                "freq", f"label {self.label!r} is not one of {(*CALENDAR_LABELS, FIXED_LABEL)}"
            )

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The canonical spelling: ``"week"``, ``"week-sunday"``, ``"month"``, ``"6h"``, ..."""
        if self.seconds is not None:
            for unit_seconds, unit in ((SECONDS_PER_DAY, "D"), (3600, "h"), (60, "min")):
                if self.seconds % unit_seconds == 0:
                    return f"{self.seconds // unit_seconds}{unit}"
            return f"{self.seconds}s"
        if self.label == "week" and self.week_start:
            return f"week-{WEEKDAYS[self.week_start]}"
        return self.label

    @property
    def is_fixed(self) -> bool:
        """True for a fixed length, False for a calendar unit."""
        return self.seconds is not None

    @property
    def is_wall_clock_aligned(self) -> bool:
        """True for calendar units and for fixed lengths that divide a day (aligned in ``tz``).

        False for fixed lengths counted from an ``origin`` (``"7h"``, ``"2D"``).
        """
        return self.seconds is None or SECONDS_PER_DAY % self.seconds == 0

    @property
    def length(self) -> pd.Timedelta | None:
        """The fixed length, or None for a calendar unit."""
        return None if self.seconds is None else pd.Timedelta(seconds=self.seconds)

    @property
    def nominal_length(self) -> pd.Timedelta:
        """The typical length of a bucket (a month: 30.44 days), e.g. to choose date labels."""
        nominal: pd.Timedelta = pd.Timedelta(seconds=self._nominal_seconds)
        return nominal

    @property
    def _nominal_seconds(self) -> int:
        return self.seconds if self.seconds is not None else NOMINAL_SECONDS[self.label]

    def fits_in(self, coarse: FreqLike) -> bool:
        """Whether every bucket of this frequency lies inside one bucket of ``coarse``.

        True when each boundary of ``coarse`` is also a boundary of this frequency in every
        time zone (and for the same ``origin``), so fine buckets can be rolled up into coarse
        ones exactly.

        Parameters
        ----------
        coarse : str, timedelta, pandas.Timedelta, pandas offset or Frequency
            The coarser frequency.

        Returns
        -------
        bool

        Examples
        --------
        >>> parse_freq("day").fits_in("month"), parse_freq("week").fits_in("month")
        (True, False)
        >>> parse_freq("6h").fits_in("day"), parse_freq("7h").fits_in("day")
        (True, False)
        """
        other = parse_freq(coarse)
        if self.seconds is not None:
            if other.seconds is None:
                return self.is_wall_clock_aligned
            return (
                other.seconds % self.seconds == 0
                and self.is_wall_clock_aligned == other.is_wall_clock_aligned
            )
        if other.seconds is not None:
            return False
        if self.label == "day":
            return True
        if self.label == "week":
            return other.label == "week" and other.week_start == self.week_start
        if other.label not in MONTHS_PER_BUCKET:
            return False
        return MONTHS_PER_BUCKET[other.label] % MONTHS_PER_BUCKET[self.label] == 0


# --------------------------------------------------------------------------------------------
# Spellings
# --------------------------------------------------------------------------------------------


def _weekday_names() -> dict[str, int]:
    names = {name: index for index, name in enumerate(WEEKDAYS)}
    names.update({name[:3]: index for index, name in enumerate(WEEKDAYS)})
    return names


_WEEKDAY_INDEX = _weekday_names()

#: pandas' short aliases, spelt as pandas spells them.
_PANDAS_ALIASES: dict[str, Frequency] = {
    "D": Frequency("day"),
    "W": Frequency("week"),
    **{
        # pandas' "W-SUN" is the week ending Sunday, so it starts on the next day, Monday.
        f"W-{name[:3].upper()}": Frequency("week", week_start=(index + 1) % 7)
        for index, name in enumerate(WEEKDAYS)
    },
    **dict.fromkeys(("M", "MS", "ME"), Frequency("month")),
    **dict.fromkeys(
        (
            "Q", "QS", "QE",
            *(f"QS-{month}" for month in ("JAN", "APR", "JUL", "OCT")),
            *(f"{prefix}-{end}" for prefix in ("Q", "QE") for end in ("MAR", "JUN", "SEP", "DEC")),
        ),
        Frequency("quarter"),
    ),
    **dict.fromkeys(
        ("Y", "YS", "YE", "YS-JAN", "Y-DEC", "YE-DEC", "A", "AS", "AS-JAN", "A-DEC"),
        Frequency("year"),
    ),
    "h": Frequency(FIXED_LABEL, seconds=3600),
}  # fmt: skip

#: Word spellings, matched case-insensitively.
_WORD_ALIASES: dict[str, Frequency] = {
    "day": Frequency("day"),
    "daily": Frequency("day"),
    "week": Frequency("week"),
    "weekly": Frequency("week"),
    "month": Frequency("month"),
    "monthly": Frequency("month"),
    "quarter": Frequency("quarter"),
    "quarterly": Frequency("quarter"),
    "year": Frequency("year"),
    "yearly": Frequency("year"),
    "annual": Frequency("year"),
    "hour": Frequency(FIXED_LABEL, seconds=3600),
    "hourly": Frequency(FIXED_LABEL, seconds=3600),
    **{
        f"week-{name}": Frequency("week", week_start=index)
        for name, index in _WEEKDAY_INDEX.items()
    },
}

#: Units of fixed-length strings, lower case. "m" is left out: minute or month?
_FIXED_UNITS: dict[str, int] = {
    **dict.fromkeys(("d", "day", "days"), SECONDS_PER_DAY),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
}
_FIXED_STRING = re.compile(r"\s*(?:\d+\s*[A-Za-z]+\s*)+")
_FIXED_PART = re.compile(r"(\d+)\s*([A-Za-z]+)")


def parse_freq(freq: FreqLike) -> Frequency:
    """Parse a bucket frequency.

    Parameters
    ----------
    freq : str, datetime.timedelta, pandas.Timedelta, pandas offset or Frequency
        See the module documentation for the spellings (:data:`ACCEPTED_FREQS`). Fixed
        lengths must be a positive whole number of seconds.

    Returns
    -------
    Frequency

    Raises
    ------
    InvalidParameterError
        Naming ``freq`` and listing what is accepted.

    Examples
    --------
    >>> parse_freq("week-sunday") == parse_freq("W-SAT")
    True
    >>> parse_freq("W-SUN").name, parse_freq("MS").name, parse_freq("6h").seconds
    ('week', 'month', 21600)
    """
    if isinstance(freq, Frequency):
        return freq
    if isinstance(freq, dt.timedelta):  # pandas.Timedelta too
        return _fixed(pd.Timedelta(freq), freq)
    if isinstance(freq, pd.offsets.BaseOffset):
        if isinstance(freq, pd.offsets.Tick):
            return _fixed(pd.Timedelta(freq), freq)
        return _parse_string(freq.freqstr, freq)
    if isinstance(freq, str):
        return _parse_string(freq, freq)
    raise InvalidParameterError(
        "freq", f"got {type(freq).__name__} {freq!r}; accepted: {ACCEPTED_FREQS}"
    )


def _parse_string(text: str, original: object) -> Frequency:
    spelling = text.strip()
    if spelling in _PANDAS_ALIASES:
        return _PANDAS_ALIASES[spelling]
    if spelling.lower() in _WORD_ALIASES:
        return _WORD_ALIASES[spelling.lower()]
    if _FIXED_STRING.fullmatch(spelling):
        seconds = 0
        for number, unit in _FIXED_PART.findall(spelling):
            if unit.lower() not in _FIXED_UNITS:
                raise InvalidParameterError(
                    "freq",
                    f"{original!r}: unknown unit {unit!r} in a fixed length (d, h, min or s; "
                    "calendar units take no multiple; 'm' is ambiguous). "
                    f"Accepted: {ACCEPTED_FREQS}",
                )
            seconds += int(number) * _FIXED_UNITS[unit.lower()]
        if seconds < 1:
            raise InvalidParameterError("freq", f"{original!r} is not a positive length")
        return Frequency(FIXED_LABEL, seconds=seconds)
    close = difflib.get_close_matches(spelling.lower(), _WORD_ALIASES, n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else "."
    raise InvalidParameterError(
        "freq", f"{original!r} is not a bucket frequency{hint} Accepted: {ACCEPTED_FREQS}"
    )


def _fixed(length: pd.Timedelta, original: object) -> Frequency:
    if pd.isna(length) or length <= pd.Timedelta(0) or length % ONE_SECOND != pd.Timedelta(0):
        raise InvalidParameterError(
            "freq", f"a fixed length must be a positive whole number of seconds; got {original!r}"
        )
    return Frequency(FIXED_LABEL, seconds=int(length // ONE_SECOND))


# --------------------------------------------------------------------------------------------
# The wall clock of a time zone, which calendar units follow
# --------------------------------------------------------------------------------------------


def localize_walls(walls: _Seconds, zone: str) -> tuple[_Seconds, _Seconds]:
    """The first and the last instant at which the clock in ``zone`` shows each wall time.

    ``walls`` are naive local times in seconds since 1970-01-01 00:00 (local); the two
    results are Unix seconds (UTC), of the same length. They are equal unless the clock shows
    the time twice. A time the clock jumps over maps to the first instant after the jump.
    """
    if zone in _UTC_ZONES:
        return walls.astype(np.int64), walls.astype(np.int64)
    naive = pd.DatetimeIndex(walls.astype("datetime64[s]"))
    count = len(walls)
    # pandas' own nonexistent="shift_forward" is wrong for gaps other than one hour
    # (Australia/Lord_Howe); gaps come back as NaT and are resolved below.
    localized = [
        naive.tz_localize(zone, ambiguous=np.full(count, choice), nonexistent="NaT")
        for choice in (True, False)
    ]
    gaps = np.asarray(localized[0].isna() | localized[1].isna())
    first_choice, second_choice = (
        np.asarray((stamps[~gaps] - UNIX_EPOCH) // ONE_SECOND, dtype=np.int64)
        for stamps in localized
    )
    earliest = np.empty(count, dtype=np.int64)
    latest = np.empty(count, dtype=np.int64)
    earliest[~gaps] = np.minimum(first_choice, second_choice)
    latest[~gaps] = np.maximum(first_choice, second_choice)
    for position in np.flatnonzero(gaps):
        earliest[position] = latest[position] = gap_end(int(walls[position]), zone)
    return earliest, latest


def gap_end(wall: int, zone: str) -> int:
    """The first instant (Unix seconds) after the clock jumps over ``wall`` (local seconds)."""
    info = zoneinfo.ZoneInfo(zone)
    naive = NAIVE_EPOCH + dt.timedelta(seconds=wall)
    # In a gap, fold=0 reads the time with the offset before the jump, fold=1 with the one
    # after; the jump happened between the two readings.
    readings = [int(naive.replace(tzinfo=info, fold=fold).timestamp()) for fold in (0, 1)]
    before, after = min(readings), max(readings)
    offset_after = _utc_offset(after, info)
    while after - before > 1:
        middle = (before + after) // 2
        if _utc_offset(middle, info) == offset_after:
            after = middle
        else:
            before = middle
    return after


def _utc_offset(seconds: int, info: dt.tzinfo) -> dt.timedelta | None:
    return dt.datetime.fromtimestamp(seconds, info).utcoffset()


def wall_seconds(seconds: int, zone: str) -> int:
    """The wall time in ``zone`` at Unix second ``seconds``, in seconds since 1970-01-01 local."""
    local = dt.datetime.fromtimestamp(seconds, zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
    return (local - NAIVE_EPOCH) // dt.timedelta(seconds=1)
