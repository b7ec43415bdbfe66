"""Split a time range into half-open, calendar-aligned buckets (pure, no I/O).

One API call covers one bucket ``[start, end)``: ``time_after = start`` and ``time_before = end``
in Unix seconds (UTC). Adjacent buckets share their boundary, so they neither overlap nor leave
a gap, and their union is exactly the requested range.

The frequency (``freq``) is parsed by :mod:`metrics_toolkit.frequencies`, which lists every
spelling (``"day"``, ``"week"``, ``"W-SAT"``, ``"6h"``, timedeltas, offsets...); re-exported here.

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

import functools
import numbers
from dataclasses import dataclass
from typing import Any, NoReturn, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd

from .errors import InvalidParameterError
from .frequencies import (
    ACCEPTED_FREQS,
    CALENDAR_LABELS,
    FIXED_LABEL,
    MONTHS_PER_BUCKET,
    NAIVE_EPOCH,
    NOMINAL_SECONDS,
    ONE_SECOND,
    SECONDS_PER_DAY,
    UNIX_EPOCH,
    WEEKDAYS,
    FreqLike,
    Frequency,
    localize_walls,
    parse_freq,
    wall_seconds,
)
from .params import TimeLike, check_positive_int, check_timezone, to_timestamp

__all__ = [
    "ACCEPTED_FREQS",
    "CALENDAR_LABELS",
    "FIXED_LABEL",
    "MAX_BUCKETS",
    "MONTHS_PER_BUCKET",
    "NAIVE_EPOCH",
    "NOMINAL_SECONDS",
    "ONE_SECOND",
    "SECONDS_PER_DAY",
    "UNIX_EPOCH",
    "WEEKDAYS",
    "Bucket",
    "FreqLike",
    "Frequency",
    "bucket_floor",
    "bucket_floor_index",
    "fixed_spans",
    "parse_freq",
    "time_buckets",
]

#: The most buckets :func:`time_buckets` returns by default (about 274 years of days).
MAX_BUCKETS = 100_000

#: How far around a range the wall-clock times are searched for boundaries: more than the
#: largest jump a zone's UTC offset ever made (Pacific/Apia and Pacific/Kwajalein: 24 hours).
WALL_MARGIN_SECONDS = 2 * SECONDS_PER_DAY

_Seconds: TypeAlias = npt.NDArray[np.int64]
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}


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
            raise _not_before_end(self.start, self.end)

    def __str__(self) -> str:
        return f"[{self.start.isoformat()}, {self.end.isoformat()})"

    @functools.cached_property
    def time_after(self) -> int:
        """``start`` in Unix epoch seconds (UTC): the API's ``time_after``, inclusive."""
        return _epoch_seconds(self.start)

    @functools.cached_property
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
        ``"quarter"``, ``"year"``, a fixed length such as ``"6h"``, ... (every spelling is in
        :mod:`metrics_toolkit.frequencies`, the alignment rules in the module documentation).
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
        raise _not_before_end(_stamp(start_s, zone), _stamp(end_s, zone))
    estimate = (end_s - start_s) // frequency._nominal_seconds
    if estimate > 2 * limit:
        _too_many(estimate, frequency, limit)
    bounds = _boundaries(start_s, end_s, frequency, zone, origin_s)
    interior = bounds[(bounds > start_s) & (bounds < end_s)]
    if len(interior) + 1 > limit:
        _too_many(len(interior) + 1, frequency, limit)
    seconds = np.concatenate(([start_s], interior, [end_s]))
    edge_index = pd.to_datetime(seconds, unit="s", utc=True).tz_convert(zone)
    edges = edge_index.tolist()  # boxing all at once is far quicker than one by one
    clipped = [False] * (len(edges) - 1)
    clipped[0] |= not _contains(bounds, start_s)
    clipped[-1] |= not _contains(bounds, end_s)
    partial = (edge_index[1:] > now_stamp).tolist()
    unix = seconds.tolist()
    buckets = []  # right by construction (tz-aware, increasing): no checks, Unix seconds kept
    for head, tail, cut, open_, after, before in zip(
        edges, edges[1:], clipped, partial, unix, unix[1:], strict=False
    ):
        bucket = object.__new__(Bucket)
        object.__setattr__(bucket, "__dict__", {"start": head, "end": tail, "clipped": cut,
            "partial": open_, "time_after": after, "time_before": before})  # fmt: skip
        buckets.append(bucket)
    return buckets


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
    freq, tz, origin
        As :func:`bucket_floor` takes them (``origin`` is required for fixed lengths that do
        not divide a day).

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


def fixed_spans(after: int, before: int, step: int) -> list[tuple[int, int]]:
    """Split ``[after, before)`` into consecutive windows of at most ``step`` seconds.

    Unlike :func:`time_buckets` this follows no calendar: the windows start at ``after``,
    ``after + step``, ``after + 2 * step``, ... and only the last one can be shorter. It splits
    one call's window for an API that caps how long a window may be.

    Parameters
    ----------
    after, before : int
        The range, half-open ``[after, before)``, in Unix seconds (UTC); ``after < before``.
    step : int
        The longest window, in seconds; at least 1.

    Returns
    -------
    list of tuple of (int, int)
        Half-open ``(after, before)`` windows in Unix seconds, at least one: the first starts
        at ``after``, each next one where the previous one ends, and the last ends at ``before``.

    Raises
    ------
    InvalidParameterError
        For values that are not ints, ``after >= before`` or ``step < 1``.

    Examples
    --------
    >>> fixed_spans(0, 250, 100)
    [(0, 100), (100, 200), (200, 250)]
    """
    for name, value in (("after", after), ("before", before)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise InvalidParameterError(name, f"got {value!r}; expected an int (Unix seconds)")
    length = check_positive_int(step, "step")
    low, high = int(after), int(before)
    if low >= high:
        raise InvalidParameterError(
            "before", f"must be later than after (got after={low}, before={high}, Unix seconds)"
        )
    return [(start, min(start + length, high)) for start in range(low, high, length)]


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
        return seconds - (seconds - origin) % _fixed_seconds(frequency)
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
    first = wall_seconds(low, zone)
    walls = np.arange(
        first - first % length - margin, wall_seconds(high, zone) + margin + 1, length,
        dtype=np.int64,
    )  # fmt: skip
    earliest, latest = localize_walls(walls, zone)
    return np.unique(np.concatenate((earliest, latest)))


def _calendar_boundaries(low: int, high: int, frequency: Frequency, zone: str) -> _Seconds:
    """The first instant of each calendar bucket's first day (local midnight, or after a jump)."""
    first_day = np.datetime64(wall_seconds(low, zone) // SECONDS_PER_DAY, "D")
    last_day = np.datetime64(wall_seconds(high, zone) // SECONDS_PER_DAY, "D")
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
    earliest, _ = localize_walls(walls, zone)
    # A bucket starts when the clock first reaches its first midnight: never after a later one.
    earliest = np.minimum.accumulate(earliest[::-1])[::-1]
    return np.unique(earliest)


def _epoch_seconds(stamp: pd.Timestamp) -> int:
    """Unix seconds (UTC) of a tz-aware timestamp, floored, read in the stamp's own unit."""
    return int(stamp.asm8.view("i8")) // _PER_SECOND[stamp.unit]


def _stamp(seconds: int, zone: str) -> pd.Timestamp:
    return pd.Timestamp(seconds, unit="s", tz="UTC").tz_convert(zone)


def _not_before_end(start: pd.Timestamp, end: pd.Timestamp) -> InvalidParameterError:
    """``start: 2026-11-01 00:00 UTC must be before end (2026-10-01 00:00 UTC): ...``."""
    a, b = (f"{t.strftime('%Y-%m-%d %H:%M' + ':%S' * bool(t.second))} {t.tz}" for t in (start, end))
    message = f"{a} must be before end ({b}): the range is half-open [start, end), in whole seconds"
    return InvalidParameterError("start", message)


def _contains(sorted_values: _Seconds, value: int) -> bool:
    position = int(np.searchsorted(sorted_values, value))
    return position < len(sorted_values) and int(sorted_values[position]) == value


def _too_many(count: int, frequency: Frequency, limit: int) -> NoReturn:
    raise InvalidParameterError(
        "freq",
        f"[start, end) needs about {count:,} buckets of {frequency.name!r}, more than "
        f"max_buckets={limit:,}; choose a coarser freq or a shorter range",
    )
