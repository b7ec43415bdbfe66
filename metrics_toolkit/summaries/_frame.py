"""Reading a wide frame: checks, numbers, its calendar and when its data was read (pure).

Part of :mod:`metrics_toolkit.summaries`, which exports every name here.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd

from .._constants import DEFAULT_SETTLE_PERIOD
from .._vocabulary import BUCKET_END, ROW_FLAGS
from ..buckets import SECONDS_PER_DAY, Frequency, parse_freq
from ..cache import CachePolicy
from ..errors import InvalidParameterError
from ..params import check_duration, to_timestamp

__all__ = [
    "CALENDAR_LENGTHS",
    "WIDE_FRAME",
    "check_wide_frame",
    "floats",
    "frame_frequency",
    "frame_now",
    "frame_tz",
    "is_provisional",
    "ratio",
]

WIDE_FRAME = "expected a wide frame indexed by a tz-aware bucket_start"

# -- reading a frame -------------------------------------------------------------------------


def check_wide_frame(frame: pd.DataFrame) -> None:
    """Refuse anything but a non-empty wide frame (tz-aware index, ``bucket_end`` and flags).

    Raises
    ------
    InvalidParameterError
        Naming ``frame``.
    """
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise InvalidParameterError("frame", WIDE_FRAME)
    missing = [c for c in (BUCKET_END, *ROW_FLAGS) if c not in frame.columns]
    if missing:
        raise InvalidParameterError("frame", f"expected a wide frame; missing {missing}")
    if frame.empty:
        raise InvalidParameterError("frame", "the frame has no bucket")


def floats(values: Any) -> pd.Series:
    """A column as float64 with NaN for NA (and for anything that is not a number)."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(series, errors="coerce").astype("Float64").astype("float64")


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN when the denominator is not above 0.

    Examples
    --------
    >>> ratio(3, 4), ratio(3, 0)
    (0.75, nan)
    """
    if not denominator > 0 or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def frame_tz(frame: pd.DataFrame) -> str:
    """The time zone of a wide frame's calendar: ``attrs["tz"]``, else its index's.

    Raises
    ------
    InvalidParameterError
        Naming ``frame``, when it has neither.
    """
    zone = frame.attrs.get("tz")
    if zone:
        return str(zone)
    index = frame.index
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return str(index.tz)
    raise InvalidParameterError("frame", WIDE_FRAME)


def frame_now(frame: pd.DataFrame, now: Any = None) -> pd.Timestamp:
    """When a frame's data was read, tz-aware: ``now`` when given (any point in time
    :func:`~metrics_toolkit.params.to_timestamp` takes), else ``attrs["now"]`` (set by every
    fetch), else the current time."""
    value = frame.attrs.get("now") if now is None else now
    return pd.Timestamp.now(tz="UTC") if value is None else to_timestamp(value, "now")


def is_provisional(end: Any, now: Any, settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD) -> bool:
    """Whether a window ending at ``end`` (excluded) may still change at ``now``.

    The answer store's rule (:meth:`~metrics_toolkit.CachePolicy.expire_after`): merged PRs
    and ACUs arrive after a window closed, so a window that ended less than ``settle_period``
    before ``now``, or has not ended, is provisional; an older one is settled.

    Parameters
    ----------
    end : pandas.Timestamp, datetime or str
        The window's end (excluded); naive times read as UTC.
    now : pandas.Timestamp, datetime or str
        When the data was read.
    settle_period : datetime.timedelta, default 14 days
        How long after its end a window keeps changing, 0 or more.

    Examples
    --------
    >>> is_provisional("2026-11-23", "2026-11-26"), is_provisional("2026-11-23", "2026-12-13")
    (True, False)
    """
    policy = CachePolicy(settle_period=check_duration(settle_period, "settle_period"))
    end_seconds = int(to_timestamp(end, "end").timestamp())
    now_seconds = int(to_timestamp(now, "now").timestamp())
    return policy.expire_after(end_seconds, now_seconds) != math.inf  # kept for good: settled


#: Bucket lengths, in days, that name a calendar frequency (DST and month lengths included).
CALENDAR_LENGTHS = (
    ("day", 0.95, 1.05),
    ("week", 6.9, 7.1),
    ("month", 27.9, 31.1),
    ("quarter", 88.9, 92.1),
    ("year", 364.9, 366.1),
)


def frame_frequency(frame: pd.DataFrame) -> Frequency:
    """``attrs["freq"]`` parsed, else inferred from the median length of unclipped buckets.

    Returns
    -------
    Frequency
        A calendar frequency when the median length is a day, week, month, quarter or year
        (within DST and month-length slack), else a fixed one of that many seconds (at
        least 1).
    """
    freq = frame.attrs.get("freq")
    if freq is not None:
        try:
            return parse_freq(freq)
        except InvalidParameterError:
            pass
    lengths = pd.DatetimeIndex(frame[BUCKET_END]) - pd.DatetimeIndex(frame.index)
    whole = lengths[~frame["clipped"].to_numpy(dtype=bool)]
    seconds = float((whole if len(whole) else lengths).median().total_seconds())
    days = seconds / SECONDS_PER_DAY
    for label, low, high in CALENDAR_LENGTHS:
        if low <= days <= high:
            return Frequency(label)
    return Frequency("fixed", seconds=max(1, round(seconds)))
