"""The company's calendar and the numpy helpers the synthetic logs are drawn with.

Time units, the demo's first day, the working week, the Christmas-to-New-Year holiday, the
growth of activity and the hour-of-day profile of people's work, plus the draws every log
shares (one generator per day, expected counts per hour, weighted categories). Pure: numpy in,
numpy out. All timestamps are Unix seconds, UTC.

Every level here is a function of the date alone, never of the moment the logs are built, so
a day holds the same events whatever "now" is: `day_generator` gives each day its own stream
of random numbers, keyed by the seed and the day.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Final, TypeVar

import numpy as np
import numpy.typing as npt

__all__ = [
    "day_generator",
    "day_numbers",
    "draw_categories",
    "frozen",
    "growth",
    "hourly_intensity",
    "weekdays_and_holidays",
    "year_fraction",
]

SECONDS_PER_HOUR: Final = 3600
SECONDS_PER_DAY: Final = 86400
SECONDS_PER_YEAR: Final = 365 * SECONDS_PER_DAY

FIRST_DAY: Final = date(2025, 12, 1)
"""The demo enterprise's first day with Devin, UTC (a Monday, the 1st): nothing happened before."""
FIRST_DAY_START: Final = int(datetime(2025, 12, 1, tzinfo=timezone.utc).timestamp())
"""00:00 UTC on `FIRST_DAY`, Unix seconds: no session or search of the demo is older."""

YEARLY_GROWTH: Final = 2.2
"""Activity one year after `FIRST_DAY` divided by activity on it (and the same for each year
of growth)."""
YEARS_OF_GROWTH: Final = 2.0
"""Years after `FIRST_DAY` during which activity grows; it keeps its level afterwards."""
HOLIDAY_FACTOR: Final = 0.3
"""Activity from 24 December to 1 January, relative to an ordinary day."""
DAILY_NOISE: Final = 0.12
"""Sigma of the lognormal factor that makes a day busier or quieter than its rhythm says."""
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


def day_numbers(start: int, end: int) -> IntArray:
    """The days touched by the half-open window [`start`, `end`), Unix seconds (`start` < `end`).

    Returns
    -------
    int64 array
        Days since 1970-01-01, UTC, from the day of `start` to the day of `end - 1`.
    """
    return np.arange(start // SECONDS_PER_DAY, (end - 1) // SECONDS_PER_DAY + 1, dtype=np.int64)


def day_generator(seed: int, stream: int, day_number: int) -> np.random.Generator:
    """The random numbers of one day of one log: a function of (`seed`, `stream`, day) alone.

    Parameters
    ----------
    seed : int
        Seed of the enterprise (>= 0).
    stream : int
        Which log draws (>= 0): each log has its own stream, so none changes another.
    day_number : int
        Days since 1970-01-01, UTC (>= 0).

    Examples
    --------
    >>> a = day_generator(1, 1, 20423).random()
    >>> a == day_generator(1, 1, 20423).random() != day_generator(1, 1, 20424).random()
    True
    """
    return np.random.default_rng([seed, stream, day_number])


def growth(timestamps: IntArray | FloatArray) -> FloatArray:
    """Activity at each time relative to activity one year after `FIRST_DAY` (which is 1).

    It grows `YEARLY_GROWTH` times a year from `FIRST_DAY` for `YEARS_OF_GROWTH` years, then
    stays; before `FIRST_DAY` it is the level of that day (nothing happens there anyway).
    """
    years = np.clip((timestamps - FIRST_DAY_START) / SECONDS_PER_YEAR, 0.0, YEARS_OF_GROWTH)
    level: FloatArray = YEARLY_GROWTH ** (years - 1.0)
    return level


def year_fraction(timestamps: IntArray | FloatArray) -> FloatArray:
    """How far each time is into the demo's first year: 0 on `FIRST_DAY`, 1 a year later and on."""
    fraction: FloatArray = np.clip((timestamps - FIRST_DAY_START) / SECONDS_PER_YEAR, 0.0, 1.0)
    return fraction


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


def hourly_intensity(
    day_number: IntArray,
    per_day: float,
    hourly_profile: tuple[float, ...],
    weekend_factor: float,
) -> FloatArray:
    """Expected events in each hour of each day, before the day's own noise.

    Parameters
    ----------
    day_number : int64 array
        Days since 1970-01-01, UTC.
    per_day : float
        Expected events on an ordinary working day one year after `FIRST_DAY` (>= 0); other
        days follow `growth`.
    hourly_profile : tuple of 24 floats
        Relative activity per hour of the day, UTC (normalised here).
    weekend_factor : float
        Activity on Saturdays and Sundays relative to a working day (>= 0).

    Returns
    -------
    float64 array of shape (days, 24)
        Expected events per hour, row `i` for `day_number[i]`, column `h` for hour `h` UTC.
    """
    weekday, holiday = weekdays_and_holidays(day_number)
    profile = np.asarray(hourly_profile) / np.sum(hourly_profile)
    hour_starts = day_number[:, None] * SECONDS_PER_DAY + np.arange(24) * SECONDS_PER_HOUR
    day_factor = np.where(weekday >= 5, weekend_factor, 1.0) * np.where(
        holiday, HOLIDAY_FACTOR, 1.0
    )
    intensity: FloatArray = per_day * growth(hour_starts) * day_factor[:, None] * profile
    return intensity


def draw_categories(uniform: FloatArray, weights: FloatArray) -> IntArray:
    """One category per row of `weights` (n, k), from one uniform number in [0, 1) per row.

    Rows summing to 0 get k.
    """
    cumulative = np.cumsum(weights, axis=1)
    threshold = uniform * cumulative[:, -1]
    categories: IntArray = np.sum(threshold[:, None] >= cumulative, axis=1).astype(np.int64)
    return categories


def frozen(array: ArrayT) -> ArrayT:
    """`array`, made read-only in place."""
    array.flags.writeable = False
    return array
