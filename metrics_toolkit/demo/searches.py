"""The synthetic enterprise's search log: every Ask Devin query its people made.

Only people search (service users never do). On a working day a person searches or not, with a
chance that grows over the year like the rest of the company's activity and depends on how
keen a searcher that person is; some people never search at all. A person who searches on a
day makes a few searches (one plus a Poisson number), at the hours people work. Searching does
not depend on creating sessions: on many days people search without starting a session, and
the other way round.

The log draws from its own generator (`SEARCH_STREAM`), so adding it changed none of the
other numbers of the demo. Pure: numpy arrays, no I/O. Timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from metrics_toolkit.demo.directory import User
from metrics_toolkit.demo.rhythm import (
    HOLIDAY_FACTOR,
    HUMAN_HOURLY_PROFILE,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    SECONDS_PER_YEAR,
    YEARLY_GROWTH,
    IntArray,
    SmallIntArray,
    frozen,
    weekdays_and_holidays,
)

__all__ = ["SearchLog", "make_searches"]

SEARCH_STREAM: Final = 2
"""The search log draws from ``numpy.random.default_rng([seed, SEARCH_STREAM])``.

Streams 0 and 1 of the same seed draw the directory and the session log.
"""
NEVER_SEARCHING_SHARE: Final = 0.15
"""Share of people who never search (0..1)."""
SEARCHING_DAY_SHARE_AT_END: Final = 0.35
"""Chance that a person of average keenness searches on an ordinary working day at `end`."""
SEARCH_KEENNESS_SPREAD: Final = 0.7
"""Sigma of the lognormal keenness of each person (its mean over people is 1)."""
MEAN_SEARCHES_PER_SEARCHING_DAY: Final = 3.0
"""Mean searches of a person on a day they search (at least 1)."""
SEARCH_WEEKEND_FACTOR: Final = 0.05
"""Chance of searching on a Saturday or Sunday, relative to a working day."""


@dataclass(frozen=True, eq=False)
class SearchLog:
    """Every search (Ask Devin query) of the enterprise, sorted by `created_at`.

    Attributes
    ----------
    created_at : int64 array
        When the search was made, Unix seconds, UTC, non-decreasing.
    user_index : int32 array
        The person who searched: an index into `DemoEnterprise.users`.
    org_index : int32 array
        That person's organization: an index into `DemoEnterprise.organizations`.
    """

    created_at: IntArray
    user_index: SmallIntArray
    org_index: SmallIntArray

    def __len__(self) -> int:
        return int(self.created_at.shape[0])


def make_searches(
    rng: np.random.Generator, users: tuple[User, ...], start: int, end: int
) -> SearchLog:
    """Draw every search made in the half-open window [`start`, `end`), Unix seconds.

    Parameters
    ----------
    rng : numpy.random.Generator
        The search log's own generator: the log is a deterministic function of its state.
    users : tuple of User
        The people who search; each search carries its person's organization.
    start, end : int
        The window, Unix seconds, UTC.

    Returns
    -------
    SearchLog
        Read-only arrays, sorted by `created_at`.

    Examples
    --------
    >>> from metrics_toolkit.demo.directory import User
    >>> people = (User("user-1", "Ada", "ada@example.com", 0, ()),)
    >>> log = make_searches(np.random.default_rng(0), people, 0, 30 * SECONDS_PER_DAY)
    >>> bool((log.user_index == 0).all() and (log.created_at < 30 * SECONDS_PER_DAY).all())
    True
    """
    n_users = len(users)
    day_number = np.arange(
        start // SECONDS_PER_DAY, (end - 1) // SECONDS_PER_DAY + 1, dtype=np.int64
    )
    day_start = day_number * SECONDS_PER_DAY
    weekday, holiday = weekdays_and_holidays(day_number)
    day_factor = (
        YEARLY_GROWTH ** ((day_start + SECONDS_PER_DAY // 2 - end) / SECONDS_PER_YEAR)
        * np.where(weekday >= 5, SEARCH_WEEKEND_FACTOR, 1.0)
        * np.where(holiday, HOLIDAY_FACTOR, 1.0)
    )
    keenness = rng.lognormal(0.0, SEARCH_KEENNESS_SPREAD, size=n_users)
    keenness = keenness / keenness.mean() if n_users else keenness
    keenness[rng.random(n_users) < NEVER_SEARCHING_SHARE] = 0.0
    chance = np.clip(SEARCHING_DAY_SHARE_AT_END * keenness[:, None] * day_factor[None, :], 0, 1)
    searching = rng.random(chance.shape) < chance
    extra = rng.poisson(MEAN_SEARCHES_PER_SEARCHING_DAY - 1.0, size=chance.shape)
    counts = np.where(searching, 1 + extra, 0).ravel()

    # One row per search: its person, its day, then an hour of the working profile.
    cell = np.repeat(np.arange(counts.shape[0]), counts)
    user_index = cell // day_number.shape[0]
    profile = np.asarray(HUMAN_HOURLY_PROFILE) / np.sum(HUMAN_HOURLY_PROFILE)
    hour = rng.choice(24, size=cell.shape[0], p=profile)
    second = rng.integers(0, SECONDS_PER_HOUR, size=cell.shape[0])
    created_at = day_start[cell % day_number.shape[0]] + hour * SECONDS_PER_HOUR + second
    inside = (created_at >= start) & (created_at < end)
    order = np.argsort(created_at[inside], kind="stable")
    user_index = user_index[inside][order]
    user_org = np.array([user.org_index for user in users], dtype=np.int32)
    return SearchLog(
        created_at=frozen(created_at[inside][order].astype(np.int64)),
        user_index=frozen(user_index.astype(np.int32)),
        org_index=frozen(user_org[user_index]),
    )
