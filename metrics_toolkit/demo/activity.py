"""Active users of the synthetic enterprise: one distinct count per window or per UTC period.

A person is active in a window when they created at least `min_sessions` sessions OR made at
least `min_searches` searches in it (the documented OR rule). A threshold of 0 turns its
criterion off (the API leaves 0 undocumented; "at least 0" would make everyone active), so with
both at 0 nobody is active. Service users are not people: their sessions make nobody active.
Only what happened before `now` counts.

These are distinct counts: a week's count is not the sum of its days' (the same person is
active on several days), so DAU <= WAU of the same week <= the sum of its DAU, and a window's
count is at least the count of each of its days (with the default thresholds of 1).

Periods (`PERIODS`) are UTC days, UTC weeks from Monday 00:00 and UTC months. The periods of a
window are those it overlaps, the first and the last clipped to it: each item gives its
``start_time`` and its ``end_time``, the next period's start (exclusive), as Unix seconds.
Periods without anyone active are listed with 0. Timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

import numpy as np

from metrics_toolkit.demo.aggregations import MetricsAggregator, created_window, lookup_mask
from metrics_toolkit.demo.protocol import JsonObject, clip_int64
from metrics_toolkit.demo.rhythm import SECONDS_PER_DAY, BoolArray, IntArray, SmallIntArray

__all__ = ["ActivityAggregator", "period_bounds"]

Period = Literal["day", "week", "month"]
PERIODS: Final[tuple[Period, ...]] = ("day", "week", "month")
DEFAULT_MIN_SESSIONS: Final = 1
"""Sessions that make a person active when no ``min_sessions`` is given."""
DEFAULT_MIN_SEARCHES: Final = 1
"""Searches that make a person active when no ``min_searches`` is given."""
MAX_PERIODS: Final = 3700
"""Most periods one answer lists (ten years of days); a longer window is refused."""
_FIRST_MONDAY: Final = 4
"""Days from 1970-01-01 (a Thursday) to the first Monday, 1970-01-05."""
_SAFE_BOUND: Final = 2**61
"""Window bounds are clipped to +-this many seconds before computing periods (no overflow)."""


def period_bounds(period: Period, time_after: int, time_before: int) -> IntArray:
    """The bounds of the `period`s overlapping [time_after, time_before), clipped to it.

    Parameters
    ----------
    period : {"day", "week", "month"}
        UTC days, UTC weeks from Monday 00:00, or UTC months.
    time_after, time_before : int
        The half-open window, Unix seconds.

    Returns
    -------
    int64 array
        ``[time_after, start of the 2nd period, ..., time_before]``: period `i` is
        [bounds[i], bounds[i + 1]). Empty when the window is empty.

    Raises
    ------
    ValueError
        If the window holds more than `MAX_PERIODS` periods.

    Examples
    --------
    >>> period_bounds("day", 86400 + 3600, 3 * 86400).tolist()
    [90000, 172800, 259200]
    """
    low = min(max(time_after, -_SAFE_BOUND), _SAFE_BOUND)
    high = min(max(time_before, -_SAFE_BOUND), _SAFE_BOUND)
    if low >= high:
        return np.zeros(0, dtype=np.int64)
    if period == "month":
        first, last = np.array([low, high - 1], dtype="datetime64[s]").astype("datetime64[M]")
        count = int((last - first).astype(np.int64)) + 1
        _check_count(period, count)
        months = np.arange(first + 1, last + 1, dtype="datetime64[M]")
        inner = months.astype("datetime64[s]").astype(np.int64)
    else:
        length = SECONDS_PER_DAY * (1 if period == "day" else 7)
        shift = 0 if period == "day" else _FIRST_MONDAY * SECONDS_PER_DAY
        first_index = (low - shift) // length
        last_index = (high - 1 - shift) // length
        _check_count(period, last_index - first_index + 1)
        inner = np.arange(first_index + 1, last_index + 1, dtype=np.int64) * length + shift
    return np.concatenate([[low], inner, [high]]).astype(np.int64)


def _check_count(period: Period, count: int) -> None:
    if count > MAX_PERIODS:
        raise ValueError(
            f"the window holds {count} {period}s; at most {MAX_PERIODS} can be asked at once"
        )


class ActivityAggregator:
    """Active users of `sessions.enterprise` (people only), for any `now`.

    Parameters
    ----------
    sessions : MetricsAggregator
        The session metrics of the same enterprise (its id lookups are reused).
    """

    def __init__(self, sessions: MetricsAggregator) -> None:
        self.sessions = sessions
        self.enterprise = sessions.enterprise
        self._user_org = np.array([user.org_index for user in self.enterprise.users], np.intp)

    def active_users(
        self,
        now: int,
        time_after: int,
        time_before: int,
        *,
        org_ids: Iterable[str] | None = None,
        min_sessions: int = DEFAULT_MIN_SESSIONS,
        min_searches: int = DEFAULT_MIN_SEARCHES,
    ) -> JsonObject:
        """The ``ActiveUserMetricsResponse`` of [time_after, time_before), as of `now`.

        ``start_time`` and ``end_time`` echo the window; ``active_users`` (>= 0) counts the
        distinct people of `org_ids` (None: everyone) active in it.
        """
        bounds = np.array([clip_int64(time_after), clip_int64(time_before)], dtype=np.int64)
        counts = (
            self._counts(now, bounds, org_ids, min_sessions, min_searches)
            if time_after < time_before
            else [0]
        )
        return {"active_users": counts[0], "start_time": time_after, "end_time": time_before}

    def active_users_by_period(
        self,
        now: int,
        time_after: int,
        time_before: int,
        period: Period,
        *,
        org_ids: Iterable[str] | None = None,
        min_sessions: int = DEFAULT_MIN_SESSIONS,
        min_searches: int = DEFAULT_MIN_SEARCHES,
    ) -> list[JsonObject]:
        """One ``ActiveUserMetricsResponse`` per `period` of [time_after, time_before).

        Ascending, not overlapping, the first and last clipped to the window; see
        `period_bounds` (which raises `ValueError` for a window of too many periods).
        """
        bounds = period_bounds(period, time_after, time_before)
        if bounds.shape[0] == 0:
            return []
        counts = self._counts(now, bounds, org_ids, min_sessions, min_searches)
        starts, ends = bounds[:-1].tolist(), bounds[1:].tolist()
        return [
            {"active_users": count, "start_time": start, "end_time": end}
            for count, start, end in zip(counts, starts, ends, strict=True)
        ]

    def _counts(
        self,
        now: int,
        bounds: IntArray,
        org_ids: Iterable[str] | None,
        min_sessions: int,
        min_searches: int,
    ) -> list[int]:
        """Active people in each period [bounds[i], bounds[i + 1])."""
        n_periods = bounds.shape[0] - 1
        active = np.zeros((n_periods, len(self.enterprise.users)), dtype=np.bool_)
        log = self.enterprise.sessions
        searches = self.enterprise.searches
        for threshold, created_at, user_index in (
            (min_sessions, log.created_at, log.user_index),
            (min_searches, searches.created_at, searches.user_index),
        ):
            if threshold > 0:
                active |= self._per_period(now, bounds, created_at, user_index) >= threshold
        if org_ids is not None:
            active &= lookup_mask(org_ids, self.sessions.org_positions)[self._user_org]
        counts: list[int] = active.sum(axis=1).tolist()
        return counts

    def _per_period(
        self, now: int, bounds: IntArray, created_at: IntArray, user_index: SmallIntArray
    ) -> IntArray:
        """Events per (period, person) of a log sorted by `created_at`; -1 people left out."""
        window = created_window(created_at, now, int(bounds[0]), int(bounds[-1]))
        people = user_index[window].astype(np.intp)
        period = np.searchsorted(bounds, created_at[window], side="right") - 1
        by_person: BoolArray = people >= 0
        n_users = len(self.enterprise.users)
        codes = period[by_person] * n_users + people[by_person]
        counts: IntArray = np.bincount(codes, minlength=(bounds.shape[0] - 1) * n_users).reshape(
            -1, n_users
        )
        return counts
