"""Split a time range into half-open, calendar-aligned buckets (pure, no I/O).

One API call covers one bucket ``[start, end)``: ``time_after = start`` and ``time_before = end``
in Unix seconds (UTC). Adjacent buckets share their boundary, so they neither overlap nor leave
a gap, and their union is exactly the requested range.

Frequencies
-----------
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
``"hour"``, ``"h"``     the fixed length of one hour (below)
``"6h"``, timedelta     a fixed length: a positive whole number of seconds, given as a
                        string (``"30min"``, ``"6h"``, ``"1h30min"``, ``"2D"``), a
                        :class:`datetime.timedelta`, a :class:`pandas.Timedelta` or a pandas
                        fixed offset such as ``pd.offsets.Hour(6)``
======================  =======================================================================

Word spellings are case-insensitive (``"Week-Sunday"``); pandas' short aliases are spelt as pandas
spells them (``"W-SUN"``, ``"MS"``). Calendar frequencies take no multiple (``"2W"`` is refused).

Alignment
---------
- **Calendar buckets** start at local midnight of their first day in ``tz`` (a Monday for
  ``week``, the 1st for ``month``, 1 January, April, July or October for ``quarter``). When that
  midnight occurs twice (the clock is set back over it) the bucket starts at the first one; when
  it does not exist (the clock jumps over it, as in America/Santiago) the bucket starts at the
  first instant after the jump. A day the zone skips entirely (Pacific/Apia, 30 December 2011)
  has no bucket.
- **Fixed lengths that divide a day** (``"1h"``, ``"6h"``, ``"15min"``, ``"1D"``) are aligned to
  the wall clock in ``tz``: a boundary is every instant at which the local clock shows a multiple
  of the length since midnight (``"6h"``: 00:00, 06:00, 12:00, 18:00), both times when the clock
  shows it twice, and the first instant after a jump that skips one. So a bucket next to a DST
  change can be shorter or longer than the length (Berlin ``"6h"``: 5 hours on the spring day,
  7 on the autumn day); every other bucket has exactly the length. ``"1D"`` (24 h) gives the
  same buckets as ``"day"``, except where a midnight occurs twice: it then starts at both.
- **Other fixed lengths** (``"7h"``, ``"2D"``, ``"7D"``, ``timedelta(weeks=8)``) are counted
  from an ``origin``: the boundaries are ``origin + k * length`` for every integer ``k``, whatever
  ``tz`` is, so every bucket has exactly the length. :func:`time_buckets` takes ``origin=start``
  unless told otherwise (``"7D"`` from a Wednesday gives Wednesday-to-Wednesday buckets, like
  :func:`pandas.date_range`); :func:`bucket_floor` has no range, so it needs ``origin`` for them.
- The requested ``start`` and ``end`` are floored to whole seconds. When one of them is not a
  boundary, the bucket it cuts is shorter than its calendar bucket and is marked ``clipped``.
- A bucket is ``partial`` when its end is after ``now``: its numbers are not complete yet.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import InvalidParameterError
from .params import TimeLike, check_positive_int, check_timezone, to_timestamp

__all__ = [
    "ACCEPTED_FREQS",
    "MAX_BUCKETS",
    "Bucket",
    "FreqLike",
    "Frequency",
    "bucket_floor",
    "bucket_floor_index",
    "parse_freq",
    "time_buckets",
]

#: The most buckets :func:`time_buckets` returns by default (about 274 years of days).
MAX_BUCKETS = 100_000

#: What ``freq`` accepts, for error messages.
ACCEPTED_FREQS = (
    "'day' ('D'); 'week' ('W': ISO weeks starting Monday); 'week-<weekday>' such as "
    "'week-sunday' (weeks starting that day); pandas' 'W-MON'..'W-SUN' (weeks ENDING that day); "
    "'month' ('M', 'MS', 'ME'); 'quarter' ('Q', 'QS', 'QE'); 'year' ('Y', 'YS', 'YE'); "
    "'hour' ('h'); or a fixed length of whole seconds: a string such as '30min', '6h', "
    "'1h30min' or '2D', a datetime.timedelta, a pandas.Timedelta or a pandas fixed offset"
)

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

#: How far around a range the wall-clock times are searched for boundaries: more than the
#: largest jump a zone's UTC offset ever made (Pacific/Apia and Pacific/Kwajalein: 24 hours).
WALL_MARGIN_SECONDS = 2 * SECONDS_PER_DAY

UNIX_EPOCH = pd.Timestamp(0, unit="s", tz="UTC")
ONE_SECOND = pd.Timedelta(seconds=1)
NAIVE_EPOCH = dt.datetime(1970, 1, 1)

#: Anything :func:`parse_freq` accepts.
FreqLike: TypeAlias = "str | dt.timedelta | pd.Timedelta | pd.offsets.BaseOffset | Frequency"

_Seconds: TypeAlias = npt.NDArray[np.int64]


# --------------------------------------------------------------------------------------------
# Frequencies
# --------------------------------------------------------------------------------------------


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
                    f"{original!r}: unknown unit {unit!r} in a fixed length (use d, h, min or "
                    "s; 'm' is refused as ambiguous; calendar units such as weeks and months "
                    f"take no multiple). Accepted: {ACCEPTED_FREQS}",
                )
            seconds += int(number) * _FIXED_UNITS[unit.lower()]
        if seconds < 1:
            raise InvalidParameterError("freq", f"{original!r} is not a positive length")
        return Frequency(FIXED_LABEL, seconds=seconds)
    raise InvalidParameterError(
        "freq", f"{original!r} is not a bucket frequency. Accepted: {ACCEPTED_FREQS}"
    )


def _fixed(length: pd.Timedelta, original: object) -> Frequency:
    if pd.isna(length) or length <= pd.Timedelta(0) or length % ONE_SECOND != pd.Timedelta(0):
        raise InvalidParameterError(
            "freq", f"a fixed length must be a positive whole number of seconds; got {original!r}"
        )
    return Frequency(FIXED_LABEL, seconds=int(length // ONE_SECOND))


# --------------------------------------------------------------------------------------------
# Buckets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    """One half-open time window ``[start, end)``, the span of one API call.

    Attributes
    ----------
    start, end : pandas.Timestamp
        Tz-aware, whole seconds, ``start < end``.
    clipped : bool
        The calendar bucket was cut by the requested start or end, so this one is shorter.
    partial : bool
        ``end`` is after "now": the window is still open and its numbers are incomplete.

    Examples
    --------
    >>> bucket = time_buckets("2024-01-01", "2024-01-02", "day", now="2030-01-01")[0]
    >>> bucket.time_after, bucket.time_before, bucket.duration
    (1704067200, 1704153600, Timedelta('1 days 00:00:00'))
    """

    start: pd.Timestamp
    end: pd.Timestamp
    clipped: bool = False
    partial: bool = False

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, pd.Timestamp) or value.tzinfo is None:
                raise InvalidParameterError(name, f"must be a tz-aware pandas.Timestamp; {value!r}")
        if not self.start < self.end:
            raise InvalidParameterError(
                "start", f"start ({self.start}) must be before end ({self.end})"
            )

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"

    @property
    def time_after(self) -> int:
        """``start`` in Unix epoch seconds (UTC): the API's ``time_after``, inclusive."""
        return _epoch_seconds(self.start)

    @property
    def time_before(self) -> int:
        """``end`` in Unix epoch seconds (UTC): the API's ``time_before``, exclusive."""
        return _epoch_seconds(self.end)

    @property
    def duration(self) -> pd.Timedelta:
        """``end - start``; a Berlin day across a DST change lasts 23 or 25 hours."""
        duration: pd.Timedelta = pd.Timedelta(self.end - self.start)
        return duration


def time_buckets(
    start: TimeLike,
    end: TimeLike,
    freq: FreqLike,
    tz: str = "UTC",
    *,
    now: TimeLike | None = None,
    origin: TimeLike | None = None,
    max_buckets: int = MAX_BUCKETS,
) -> list[Bucket]:
    """Split the half-open range ``[start, end)`` into ordered, calendar-aligned buckets.

    Parameters
    ----------
    start, end : datetime, date, str, pandas.Timestamp or int
        The range, half-open ``[start, end)``, as :func:`~metrics_toolkit.params.to_timestamp`
        accepts (an int is Unix seconds, UTC; naive values are read in ``tz``). Both are
        floored to whole seconds.
    freq : str, datetime.timedelta, pandas.Timedelta, pandas offset or Frequency
        The bucket frequency: ``"day"``, ``"week"``, ``"week-sunday"``, ``"month"``,
        ``"quarter"``, ``"year"``, a fixed length such as ``"6h"``, ... (see the module
        documentation for every spelling and the alignment rules).
    tz : str, default "UTC"
        IANA time zone whose calendar the boundaries follow; the buckets' timestamps are in it.
    now : same types as ``start``, optional
        The current time, for ``partial``. Default: the system clock (UTC).
    origin : same types as ``start``, optional
        For fixed lengths that do not divide a day only (``"7h"``, ``"7D"``): the boundaries
        are ``origin + k * length``. Default: ``start``. Ignored for other frequencies.
    max_buckets : int, default MAX_BUCKETS
        Refuse ranges that need more buckets than this.

    Returns
    -------
    list of Bucket
        Ordered and non-empty; the first starts at ``start``, each next one starts where the
        previous one ends, and the last ends at ``end``. Only the first and the last can be
        ``clipped``; a bucket is ``partial`` exactly when its ``end > now``.

    Raises
    ------
    InvalidParameterError
        ``start`` / ``end`` / ``now`` / ``origin`` unreadable, or ``start >= end`` (after
        flooring to seconds); an unknown ``freq``; an unknown ``tz``; more than
        ``max_buckets`` buckets.

    Examples
    --------
    >>> buckets = time_buckets("2024-03-27", "2024-04-03", "day", tz="Europe/Berlin",
    ...                        now="2030-01-01")
    >>> [b.duration.total_seconds() / 3600 for b in buckets]
    [24.0, 24.0, 24.0, 24.0, 23.0, 24.0, 24.0]
    >>> [(str(b.start.date()), b.clipped) for b in time_buckets(
    ...     "2024-01-10", "2024-02-15", "month", now="2030-01-01")]
    [('2024-01-10', True), ('2024-02-01', True)]
    """
    zone = check_timezone(tz)
    frequency = parse_freq(freq)
    limit = check_positive_int(max_buckets, "max_buckets")
    start_s = _epoch_seconds(to_timestamp(start, "start", zone))
    end_s = _epoch_seconds(to_timestamp(end, "end", zone))
    now_stamp = pd.Timestamp.now(tz="UTC") if now is None else to_timestamp(now, "now", zone)
    origin_s = start_s if origin is None else _epoch_seconds(to_timestamp(origin, "origin", zone))
    if start_s >= end_s:
        raise InvalidParameterError(
            "start",
            f"start ({_stamp(start_s, zone)}) must be before end ({_stamp(end_s, zone)}): "
            "the range is half-open [start, end), in whole seconds",
        )
    estimate = (end_s - start_s) // frequency._nominal_seconds
    if estimate > 2 * limit:
        _too_many(estimate, frequency, limit)
    bounds = _boundaries(start_s, end_s, frequency, zone, origin_s)
    interior = bounds[(bounds > start_s) & (bounds < end_s)]
    if len(interior) + 1 > limit:
        _too_many(len(interior) + 1, frequency, limit)
    edge_index = pd.to_datetime(
        np.concatenate(([start_s], interior, [end_s])), unit="s", utc=True
    ).tz_convert(zone)
    partial = (edge_index[1:] > now_stamp).tolist()
    edges = edge_index.tolist()  # boxing all at once is far quicker than one by one
    clipped_first = not _contains(bounds, start_s)
    clipped_last = not _contains(bounds, end_s)
    last = len(edges) - 2
    return [
        Bucket(
            start=edges[index],
            end=edges[index + 1],
            clipped=(index == 0 and clipped_first) or (index == last and clipped_last),
            partial=partial[index],
        )
        for index in range(last + 1)
    ]


def bucket_floor(
    stamp: TimeLike, freq: FreqLike, tz: str = "UTC", *, origin: TimeLike | None = None
) -> pd.Timestamp:
    """The start of the (unclipped) bucket that contains a point in time.

    A rollup groups fine buckets by the ``bucket_floor`` of their start in the coarse
    frequency. For every boundary ``b`` that ``time_buckets(start, end, freq, tz)`` makes,
    ``bucket_floor(b, freq, tz, origin=start) == b``.

    Parameters
    ----------
    stamp : datetime, date, str, pandas.Timestamp or int
        The point in time, as :func:`~metrics_toolkit.params.to_timestamp` accepts (naive
        values are read in ``tz``); floored to whole seconds.
    freq : str, datetime.timedelta, pandas.Timedelta, pandas offset or Frequency
        As :func:`time_buckets` accepts.
    tz : str, default "UTC"
        IANA time zone of the calendar.
    origin : same types as ``stamp``, optional
        Required for fixed lengths that do not divide a day (``"7h"``, ``"7D"``), whose
        boundaries are ``origin + k * length``; pass the ``start`` given to
        :func:`time_buckets`. Ignored for other frequencies.

    Returns
    -------
    pandas.Timestamp
        Tz-aware in ``tz``, at most ``stamp``.

    Raises
    ------
    InvalidParameterError
        For an unreadable ``stamp`` or ``origin``, an unknown ``freq`` or ``tz``, a missing
        ``origin``.

    Examples
    --------
    >>> bucket_floor("2024-03-31 12:00", "week", "Europe/Berlin")
    Timestamp('2024-03-25 00:00:00+0100', tz='Europe/Berlin')
    >>> bucket_floor("2024-03-31 12:00", "week-sunday", "Europe/Berlin")
    Timestamp('2024-03-31 00:00:00+0100', tz='Europe/Berlin')
    """
    zone = check_timezone(tz)
    frequency = parse_freq(freq)
    seconds = _epoch_seconds(to_timestamp(stamp, "stamp", zone))
    origin_s = _origin_seconds(origin, frequency, zone)
    floored = _floor_seconds(np.array([seconds], dtype=np.int64), frequency, zone, origin_s)
    return _stamp(int(floored[0]), zone)


def bucket_floor_index(
    index: Any, freq: FreqLike, tz: str = "UTC", *, origin: TimeLike | None = None
) -> pd.DatetimeIndex:
    """Vectorised :func:`bucket_floor`: the bucket start of every element of an index.

    Parameters
    ----------
    index : pandas.DatetimeIndex or array-like of datetimes
        Tz-aware values are converted to ``tz``; naive ones are read in ``tz`` and must be
        unambiguous and existing there. Floored to whole seconds. NaT stays NaT.
    freq : str, datetime.timedelta, pandas.Timedelta, pandas offset or Frequency
        As :func:`time_buckets` accepts.
    tz : str, default "UTC"
        IANA time zone of the calendar.
    origin : datetime, date, str, pandas.Timestamp or int, optional
        As :func:`bucket_floor` takes it: required for fixed lengths that do not divide a day.

    Returns
    -------
    pandas.DatetimeIndex
        Same length, name and resolution, tz-aware in ``tz``.

    Raises
    ------
    InvalidParameterError
        For values that are not datetimes, naive values that are ambiguous or do not exist
        in ``tz``, an unknown ``freq`` or ``tz``, a missing ``origin``.

    Examples
    --------
    >>> days = pd.date_range("2024-01-30", periods=3, freq="D", tz="UTC")
    >>> bucket_floor_index(days, "month").strftime("%Y-%m-%d").tolist()
    ['2024-01-01', '2024-01-01', '2024-02-01']
    """
    zone = check_timezone(tz)
    frequency = parse_freq(freq)
    origin_s = _origin_seconds(origin, frequency, zone)
    try:
        values = index if isinstance(index, pd.DatetimeIndex) else pd.DatetimeIndex(index)
        if values.tz is None:
            values = values.tz_localize(zone, ambiguous="raise", nonexistent="raise")
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            "index",
            f"expected tz-aware datetimes, or naive ones that exist once in {zone!r} ({exc})",
        ) from exc
    missing = np.asarray(values.isna())
    seconds = np.zeros(len(values), dtype=np.int64)
    seconds[~missing] = np.asarray((values[~missing] - UNIX_EPOCH) // ONE_SECOND, dtype=np.int64)
    floored = _floor_seconds(seconds[~missing], frequency, zone, origin_s)
    result = np.full(len(values), np.datetime64("NaT"), dtype="datetime64[s]")
    result[~missing] = floored.astype("datetime64[s]")
    floors: pd.DatetimeIndex = (
        pd.DatetimeIndex(result, name=values.name)
        .as_unit(values.unit)
        .tz_localize("UTC")
        .tz_convert(zone)
    )
    return floors


# --------------------------------------------------------------------------------------------
# Boundaries (Unix seconds throughout)
# --------------------------------------------------------------------------------------------


def _origin_seconds(origin: TimeLike | None, frequency: Frequency, zone: str) -> int:
    """Unix seconds of ``origin``; required only for lengths counted from it."""
    if frequency.is_wall_clock_aligned:
        return 0
    if origin is None:
        raise InvalidParameterError(
            "origin",
            f"{frequency.name!r} buckets do not divide a day, so they are counted from an "
            "origin: pass the start given to time_buckets (origin=start)",
        )
    return _epoch_seconds(to_timestamp(origin, "origin", zone))


def _floor_seconds(seconds: _Seconds, frequency: Frequency, zone: str, origin: int) -> _Seconds:
    """The largest boundary at or before each value."""
    if len(seconds) == 0:
        return seconds
    if not frequency.is_wall_clock_aligned:
        length = _fixed_seconds(frequency)
        return seconds - (seconds - origin) % length
    bounds = _boundaries(int(seconds.min()), int(seconds.max()), frequency, zone, origin)
    return bounds[np.searchsorted(bounds, seconds, side="right") - 1]


def _boundaries(low: int, high: int, frequency: Frequency, zone: str, origin: int) -> _Seconds:
    """Sorted, unique boundaries: a superset of the floor of ``low`` and all in [low, high].

    ``origin`` counts only for fixed lengths that do not divide a day.
    """
    if not frequency.is_wall_clock_aligned:
        length = _fixed_seconds(frequency)
        first = low - (low - origin) % length
        return np.arange(first, high + 1, length, dtype=np.int64)
    if frequency.seconds is not None:
        return _wall_clock_boundaries(low, high, frequency.seconds, zone)
    return _calendar_boundaries(low, high, frequency, zone)


def _fixed_seconds(frequency: Frequency) -> int:
    assert frequency.seconds is not None
    return frequency.seconds


def _wall_clock_boundaries(low: int, high: int, length: int, zone: str) -> _Seconds:
    """Every instant at which the clock shows a multiple of ``length`` since midnight."""
    margin = -(-WALL_MARGIN_SECONDS // length) * length
    first = _wall_seconds(low, zone)
    walls = np.arange(
        first - first % length - margin, _wall_seconds(high, zone) + margin + 1, length,
        dtype=np.int64,
    )  # fmt: skip
    earliest, latest = _localize_walls(walls, zone)
    return np.unique(np.concatenate((earliest, latest)))


def _calendar_boundaries(low: int, high: int, frequency: Frequency, zone: str) -> _Seconds:
    """The first instant of each calendar bucket's first day (local midnight, or after a jump)."""
    first_day = np.datetime64(_wall_seconds(low, zone) // SECONDS_PER_DAY, "D")
    last_day = np.datetime64(_wall_seconds(high, zone) // SECONDS_PER_DAY, "D")
    if frequency.label == "day":
        days = np.arange(first_day - 1, last_day + 3, dtype="datetime64[D]")
    elif frequency.label == "week":
        weekday = (first_day.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday (3)
        week_start = first_day - (weekday - frequency.week_start) % 7
        days = np.arange(week_start - 7, last_day + 15, 7, dtype="datetime64[D]")
    else:
        step = MONTHS_PER_BUCKET[frequency.label]
        first_month = first_day.astype("datetime64[M]").astype(np.int64)
        last_month = last_day.astype("datetime64[M]").astype(np.int64)
        months = np.arange(first_month - first_month % step - step, last_month + 2 * step + 1, step)
        days = months.astype("datetime64[M]").astype("datetime64[D]")
    walls = days.astype("datetime64[s]").astype(np.int64)
    earliest, _ = _localize_walls(walls, zone)
    # A bucket starts when the clock first reaches its first midnight: never after a later one.
    earliest = np.minimum.accumulate(earliest[::-1])[::-1]
    return np.unique(earliest)


def _localize_walls(walls: _Seconds, zone: str) -> tuple[_Seconds, _Seconds]:
    """The first and the last instant at which the clock in ``zone`` shows each wall time.

    ``walls`` are naive local times in seconds since 1970-01-01 00:00 (local). The two are
    equal unless the clock shows the time twice. A time the clock jumps over maps to the
    first instant after the jump.
    """
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
        earliest[position] = latest[position] = _gap_end(int(walls[position]), zone)
    return earliest, latest


def _gap_end(wall: int, zone: str) -> int:
    """The first instant after the jump of the clock over the wall time ``wall``."""
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


def _wall_seconds(seconds: int, zone: str) -> int:
    """The local wall time of an instant, in seconds since 1970-01-01 00:00 local."""
    local = dt.datetime.fromtimestamp(seconds, zoneinfo.ZoneInfo(zone)).replace(tzinfo=None)
    return (local - NAIVE_EPOCH) // dt.timedelta(seconds=1)


def _epoch_seconds(stamp: pd.Timestamp) -> int:
    """Unix seconds (UTC) of a tz-aware timestamp, floored."""
    return int((stamp - UNIX_EPOCH) // ONE_SECOND)


def _stamp(seconds: int, zone: str) -> pd.Timestamp:
    stamp: pd.Timestamp = pd.Timestamp(seconds, unit="s", tz="UTC").tz_convert(zone)
    return stamp


def _contains(sorted_values: _Seconds, value: int) -> bool:
    position = int(np.searchsorted(sorted_values, value))
    return position < len(sorted_values) and int(sorted_values[position]) == value


def _too_many(count: int, frequency: Frequency, limit: int) -> NoReturn:
    raise InvalidParameterError(
        "freq",
        f"[start, end) needs about {count:,} buckets of {frequency.name!r}, more than "
        f"max_buckets={limit:,}; choose a coarser freq or a shorter range",
    )
