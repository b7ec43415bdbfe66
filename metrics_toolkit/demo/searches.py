"""The synthetic enterprise's search log: every Ask Devin query its people made.

Only people search (service users never do). On a working day a person searches or not, with a
chance that grows over the year like the rest of the company's activity and depends on how
keen a searcher that person is; some people never search at all. A person who searches on a
day makes a few searches (one plus a Poisson number), at the hours people work. Searching does
not depend on creating sessions: on many days people search without starting a session, and
the other way round.

The log draws from its own stream (`SEARCH_STREAM`), so adding it changed none of the other
numbers of the demo, and each day from its own generator, so a day's searches are the same
whatever "now" is. Pure: numpy arrays, no I/O. Timestamps are Unix seconds, UTC.
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
    FloatArray,
    IntArray,
    SmallIntArray,
    day_generator,
    day_numbers,
    frozen,
    growth,
    weekdays_and_holidays,
)

__all__ = ["SearchLog", "make_searches"]

SEARCH_STREAM: Final = 2
"""The search log draws from ``numpy.random.default_rng([seed, SEARCH_STREAM])`` (how keen each
person is) and from ``day_generator(seed, SEARCH_STREAM, day)`` (each day's searches).

Streams 0 and 1 of the same seed draw the directory and the session log.
"""
NEVER_SEARCHING_SHARE: Final = 0.15
"""Share of people who never search (0..1)."""
SEARCHING_DAY_SHARE_A_YEAR_IN: Final = 0.35
"""Chance that a person of average keenness searches on an ordinary working day one year after
the demo's first day (other days follow its growth)."""
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


def make_searches(seed: int, users: tuple[User, ...], start: int, end: int) -> SearchLog:
    """Draw every search made in the half-open window [`start`, `end`), Unix seconds.

    Each day's searches are a function of `seed` and that day's date alone (they draw from
    ``day_generator(seed, SEARCH_STREAM, day)``; how keen each person is was drawn once, from
    ``numpy.random.default_rng([seed, SEARCH_STREAM])``): `start` and `end` only cut the log.

    Parameters
    ----------
    seed : int
        Seed of the enterprise (>= 0).
    users : tuple of User
        The people who search; each search carries its person's organization.
    start, end : int
        The window, Unix seconds, UTC (`start` < `end`).

    Returns
    -------
    SearchLog
        Read-only arrays, sorted by `created_at`.

    Examples
    --------
    >>> from metrics_toolkit.demo.directory import User
    >>> from metrics_toolkit.demo.rhythm import FIRST_DAY_START
    >>> people = (User("user-1", "Ada", "ada@example.com", 0, ()),)
    >>> end = FIRST_DAY_START + 30 * SECONDS_PER_DAY
    >>> log = make_searches(0, people, FIRST_DAY_START, end)
    >>> bool((log.user_index == 0).all() and (log.created_at < end).all())
    True
    """
    n_users = len(users)
    base = np.random.default_rng([seed, SEARCH_STREAM])
    keenness = base.lognormal(0.0, SEARCH_KEENNESS_SPREAD, size=n_users)
    keenness = keenness / keenness.mean() if n_users else keenness
    keenness[base.random(n_users) < NEVER_SEARCHING_SHARE] = 0.0

    day_number = day_numbers(start, end)
    day_start = day_number * SECONDS_PER_DAY
    weekday, holiday = weekdays_and_holidays(day_number)
    day_factor = (
        growth(day_start + SECONDS_PER_DAY // 2)
        * np.where(weekday >= 5, SEARCH_WEEKEND_FACTOR, 1.0)
        * np.where(holiday, HOLIDAY_FACTOR, 1.0)
    )
    chance = np.clip(SEARCHING_DAY_SHARE_A_YEAR_IN * keenness[None, :] * day_factor[:, None], 0, 1)
    drawn = [
        _draw_day(day_generator(seed, SEARCH_STREAM, int(day)), chance[i])
        for i, day in enumerate(day_number)
    ]
    counts = np.stack([day_counts for day_counts, _ in drawn]).ravel()
    uniform = np.concatenate([day_uniform for _, day_uniform in drawn])

    # One row per search, day by day and person by person: an hour of the working profile,
    # then a second in that hour.
    user_index = np.tile(np.arange(n_users), day_number.shape[0]).repeat(counts)
    searched_on = np.repeat(day_start, n_users).repeat(counts)
    profile = np.cumsum(HUMAN_HOURLY_PROFILE) / np.sum(HUMAN_HOURLY_PROFILE)
    hour = np.minimum(np.searchsorted(profile, uniform[:, 0], side="right"), 23)
    second = (uniform[:, 1] * SECONDS_PER_HOUR).astype(np.int64)
    created_at = searched_on + hour * SECONDS_PER_HOUR + second
    inside = np.flatnonzero((created_at >= start) & (created_at < end))
    rows = inside[np.argsort(created_at[inside], kind="stable")]
    user_org = np.array([user.org_index for user in users], dtype=np.int32)
    return SearchLog(
        created_at=frozen(created_at[rows].astype(np.int64)),
        user_index=frozen(user_index[rows].astype(np.int32)),
        org_index=frozen(user_org[user_index[rows]]),
    )


def _draw_day(rng: np.random.Generator, chance: FloatArray) -> tuple[IntArray, FloatArray]:
    """One day's draws: searches per person (`chance` of searching each), two uniforms each."""
    searching = rng.random(chance.shape[0]) < chance
    extra = rng.poisson(MEAN_SEARCHES_PER_SEARCHING_DAY - 1.0, size=chance.shape[0])
    counts = np.where(searching, 1 + extra, 0).astype(np.int64)
    return counts, rng.random((int(counts.sum()), 2))
