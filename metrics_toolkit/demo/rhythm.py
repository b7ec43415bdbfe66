"""The company's calendar and the numpy helpers the synthetic logs are drawn with.

Time units, the working week, the Christmas-to-New-Year holiday, the yearly growth of activity
and the hour-of-day profile of people's work, plus the draws every log shares (Poisson counts
per hour, creation times inside an hour, weighted categories). Pure: numpy in, numpy out. All
timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = ["creation_times", "draw_categories", "frozen", "hourly_counts", "weekdays_and_holidays"]

SECONDS_PER_HOUR: Final = 3600
SECONDS_PER_DAY: Final = 86400
SECONDS_PER_YEAR: Final = 365 * SECONDS_PER_DAY

YEARLY_GROWTH: Final = 2.2
"""Activity at `end` divided by activity one year earlier."""
HOLIDAY_FACTOR: Final = 0.3
"""Activity from 24 December to 1 January, relative to an ordinary day."""
DAILY_NOISE: Final = 0.12
# Relative activity per hour of the day, UTC (the company works roughly 08:00-19:00 UTC).
HUMAN_HOURLY_PROFILE: Final = (
    0.05, 0.04, 0.03, 0.03, 0.03, 0.05, 0.10, 0.30, 0.70, 1.00, 1.00, 0.95,
    0.70, 0.90, 1.00, 1.00, 0.95, 0.80, 0.55, 0.35, 0.25, 0.15, 0.10, 0.07,
)  # fmt: skip

IntArray = npt.NDArray[np.int64]
SmallIntArray = npt.NDArray[np.int32]
CodeArray = npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ArrayT = TypeVar("ArrayT", bound=np.ndarray[Any, Any])


def weekdays_and_holidays(day_number: IntArray) -> tuple[IntArray, BoolArray]:
    """Weekday (Monday 0 .. Sunday 6) and holiday flag of each day.

    Parameters
    ----------
    day_number : int64 array
        Days since 1970-01-01 (a Thursday), UTC.

    Returns
    -------
    weekday : int64 array
        0 for Monday up to 6 for Sunday.
    holiday : bool array
        True from 24 to 31 December and on 1 January.
    """
    weekday: IntArray = (day_number + 3) % 7
    dates = day_number.astype("datetime64[D]")
    month_start = dates.astype("datetime64[M]")
    month = month_start.astype(np.int64) % 12 + 1
    day_of_month = (dates - month_start).astype(np.int64) + 1
    holiday: BoolArray = ((month == 12) & (day_of_month >= 24)) | (
        (month == 1) & (day_of_month == 1)
    )
    return weekday, holiday


def hourly_counts(
    rng: np.random.Generator,
    hour_starts: IntArray,
    end: int,
    per_day_at_end: float,
    hourly_profile: tuple[float, ...],
    weekend_factor: float,
) -> IntArray:
    """Poisson counts of events per hour, for the company's rhythm.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of the draws (one lognormal per day, then one Poisson per hour).
    hour_starts : int64 array
        Start of each hour, Unix seconds, UTC, multiples of 3600.
    end : int
        End of the generated window, Unix seconds: activity there is `per_day_at_end`.
    per_day_at_end : float
        Expected events on an ordinary working day at `end` (>= 0).
    hourly_profile : tuple of 24 floats
        Relative activity per hour of the day, UTC (normalised here).
    weekend_factor : float
        Activity on Saturdays and Sundays relative to a working day (>= 0).

    Returns
    -------
    int64 array
        Events per hour, aligned with `hour_starts`.
    """
    day_number = hour_starts // SECONDS_PER_DAY
    weekday, holiday = weekdays_and_holidays(day_number)
    profile = np.asarray(hourly_profile) / np.sum(hourly_profile)
    daily_noise = rng.lognormal(0.0, DAILY_NOISE, size=int(day_number.max() - day_number.min()) + 1)
    intensity = (
        per_day_at_end
        * YEARLY_GROWTH ** ((hour_starts - end) / SECONDS_PER_YEAR)
        * np.where(weekday >= 5, weekend_factor, 1.0)
        * np.where(holiday, HOLIDAY_FACTOR, 1.0)
        * daily_noise[day_number - day_number.min()]
        * profile[(hour_starts // SECONDS_PER_HOUR) % 24]
    )
    counts: IntArray = rng.poisson(intensity).astype(np.int64)
    return counts


def creation_times(
    rng: np.random.Generator, hour_starts: IntArray, counts: IntArray, end: int
) -> IntArray:
    """`counts[i]` uniform times in hour `i`, never at or after `end` (Unix seconds)."""
    starts: IntArray = np.repeat(hour_starts, counts)
    widths = np.minimum(SECONDS_PER_HOUR, end - starts)
    offsets: IntArray = (rng.random(starts.shape[0]) * widths).astype(np.int64)
    return starts + offsets


def draw_categories(rng: np.random.Generator, weights: FloatArray) -> IntArray:
    """One category per row of `weights` (n, k); rows summing to 0 get k."""
    cumulative = np.cumsum(weights, axis=1)
    threshold = rng.random(weights.shape[0]) * cumulative[:, -1]
    categories: IntArray = np.sum(threshold[:, None] >= cumulative, axis=1).astype(np.int64)
    return categories


def frozen(array: ArrayT) -> ArrayT:
    """`array`, made read-only in place."""
    array.flags.writeable = False
    return array
