"""ACU consumption of the synthetic enterprise, per billing day and product, and its cycles.

Billing days run from 08:00 UTC to 08:00 UTC (midnight PST, all year: `BILLING_DAY_OFFSET`);
a day is named by its start, Unix seconds. Products (`PRODUCTS`):

- ``devin``: the sessions' ACUs, each session's spread evenly over its run (from
  ``created_at`` to ``acus_done_at``), as the sessions endpoint counts them: a day holds the
  part of each run that falls in it. The only product tied to an organization, a person, a
  service user and a session.
- ``cascade``, ``terminal``, ``review``: other products, used by the enterprise as a whole and
  tied to no organization. Each billing day's amounts are a function of the seed and that day
  alone (``day_generator(seed, CONSUMPTION_STREAM, day)``), spread evenly over the day;
  ``review`` begins `REVIEW_LAUNCH_FRACTION` into the first year.

Everything is as of a clock `now`: a day holds what was consumed before `now` (and after the
history's start). The whole account's rows hold every product; the rows of one organization,
person, service user or session hold their ``devin`` ACUs and 0.0 for the others, so the
organizations' totals add up to the account's ``devin`` ACUs, not to its ``total_acus``.

Billing cycles are months, from the demo's first day at 08:00 UTC (the 1st of each month at
08:00 UTC). Timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from metrics_toolkit.demo.aggregations import MetricsAggregator
from metrics_toolkit.demo.protocol import JsonObject
from metrics_toolkit.demo.rhythm import (
    DAILY_NOISE,
    FIRST_DAY_START,
    HOLIDAY_FACTOR,
    SECONDS_PER_DAY,
    SECONDS_PER_HOUR,
    SECONDS_PER_YEAR,
    FloatArray,
    IntArray,
    day_generator,
    growth,
    weekdays_and_holidays,
)

__all__ = [
    "ConsumptionAggregator",
    "billing_cycles",
    "billing_day_number",
    "billing_day_start",
    "cycle_start",
    "other_products",
]

CONSUMPTION_STREAM: Final = 4
"""The other products draw from ``day_generator(seed, CONSUMPTION_STREAM, billing day)``.

Streams 0 to 3 of the same seed draw the directory, the sessions, the searches and the
sessions' PRs and categories."""
BILLING_DAY_OFFSET: Final = 8 * SECONDS_PER_HOUR
"""A billing day starts this many seconds after 00:00 UTC (midnight PST)."""
PRODUCTS: Final = ("devin", "cascade", "terminal", "review")
"""The products of ``acus_by_product``; ``devin`` comes from the sessions."""
OTHER_PRODUCT_ACUS_PER_WORKDAY_A_YEAR_IN: Final = (120.0, 30.0, 45.0)
"""ACUs of cascade, terminal and review on an ordinary working day a year after the first day
(other days follow the growth of the company's activity)."""
OTHER_PRODUCT_WEEKEND_FACTOR: Final = 0.1
"""Use of the other products on Saturdays and Sundays relative to a working day."""
REVIEW_LAUNCH_FRACTION: Final = 0.5
"""``review`` is used from this far into the demo's first year (0..1); 0.0 before."""
CYCLE_OFFSET: Final = BILLING_DAY_OFFSET
"""A billing cycle starts on the 1st of a month, this many seconds after 00:00 UTC."""


def billing_day_number(timestamp: int) -> int:
    """The billing day holding `timestamp` (Unix seconds), as days since the 1970-01-01 one."""
    return (timestamp - BILLING_DAY_OFFSET) // SECONDS_PER_DAY


def billing_day_start(day_number: int) -> int:
    """The start of billing day `day_number`, Unix seconds (08:00 UTC of that date)."""
    return day_number * SECONDS_PER_DAY + BILLING_DAY_OFFSET


def cycle_start(timestamp: int) -> int:
    """The start of the billing cycle holding `timestamp`: the last 1st of a month, 08:00 UTC,
    at or before it (Unix seconds)."""
    month = np.datetime64(timestamp - CYCLE_OFFSET, "s").astype("datetime64[M]")
    return int(month.astype("datetime64[s]").astype(np.int64)) + CYCLE_OFFSET


def billing_cycles(now: int) -> list[JsonObject]:
    """Every billing cycle begun before `now`, oldest first: ``{"after", "before"}``.

    The first begins on the demo's first day at 08:00 UTC; each lasts a month; ``before`` is
    the next cycle's start (exclusive), in the future for the current cycle, listed last.
    """
    first = FIRST_DAY_START + CYCLE_OFFSET
    if now <= first:
        return []
    months = np.arange(
        np.datetime64(first - CYCLE_OFFSET, "s").astype("datetime64[M]"),
        np.datetime64(now - 1 - CYCLE_OFFSET, "s").astype("datetime64[M]") + 2,
        dtype="datetime64[M]",
    )
    starts = (months.astype("datetime64[s]").astype(np.int64) + CYCLE_OFFSET).tolist()
    return [{"after": a, "before": b} for a, b in itertools.pairwise(starts)]


def other_products(seed: int, day_numbers: IntArray) -> FloatArray:
    """Whole-day ACUs of cascade, terminal and review on each billing day.

    Parameters
    ----------
    seed : int
        Seed of the enterprise (>= 0).
    day_numbers : int64 array
        Billing days (see `billing_day_number`).

    Returns
    -------
    float64 array of shape (days, 3)
        ACUs (>= 0) each product consumes over the whole day; a function of `seed` and the
        day alone.
    """
    weekday, holiday = weekdays_and_holidays(day_numbers)
    middle = day_numbers * SECONDS_PER_DAY + BILLING_DAY_OFFSET + SECONDS_PER_DAY // 2
    level = (
        growth(middle)
        * np.where(weekday >= 5, OTHER_PRODUCT_WEEKEND_FACTOR, 1.0)
        * np.where(holiday, HOLIDAY_FACTOR, 1.0)
    )
    noise = np.array(
        [
            day_generator(seed, CONSUMPTION_STREAM, int(day)).lognormal(0.0, DAILY_NOISE, 3)
            for day in day_numbers
        ]
    ).reshape(-1, 3)
    per_workday = np.array(OTHER_PRODUCT_ACUS_PER_WORKDAY_A_YEAR_IN)
    amounts: FloatArray = level[:, None] * per_workday * noise
    review_launch = FIRST_DAY_START + REVIEW_LAUNCH_FRACTION * SECONDS_PER_YEAR
    amounts[middle < review_launch, 2] = 0.0
    return amounts


EntityKind = Literal["org", "user", "service_user", "session"]
Entity = tuple[EntityKind, int]
"""One organization, person, service user or session, by kind and position (in the
enterprise's tuples, or in the session log for a session)."""


class ConsumptionAggregator:
    """Daily consumption of `sessions.enterprise`, for any `now` and any scope.

    Each session's run is cut into pieces, one per billing day it touches (at most three:
    a session runs two days at most); the pieces are indexed once, on first use.

    Parameters
    ----------
    sessions : MetricsAggregator
        The session metrics of the same enterprise (its ACU rates are reused).
    """

    def __init__(self, sessions: MetricsAggregator) -> None:
        self.sessions = sessions
        self.enterprise = sessions.enterprise

    @cached_property
    def _pieces(self) -> _Pieces:
        return _Pieces.build(self.sessions)

    @cached_property
    def _history_days(self) -> tuple[int, FloatArray]:
        """The first billing day of the history, and the other products' whole-day ACUs on
        each day from it to the one holding the history's end."""
        first = billing_day_number(self.enterprise.start)
        days = np.arange(first, billing_day_number(self.enterprise.end - 1) + 1, dtype=np.int64)
        return first, other_products(self.enterprise.seed, days)

    def daily(
        self, now: int, time_after: int, time_before: int, entity: Entity | None = None
    ) -> JsonObject:
        """The ``ConsumptionResponse`` of the billing days overlapping [time_after, time_before).

        Parameters
        ----------
        now : int
            The clock: only ACUs consumed before it count; days starting at or after it are
            not listed (Unix seconds).
        time_after, time_before : int
            The window, Unix seconds; it stands for every billing day it overlaps (days are
            not cut). Days before the history's first one are not listed.
        entity : (kind, position), optional
            One organization, person, service user or session: its ``devin`` ACUs alone.
            Default: the whole account, every product.

        Returns
        -------
        dict
            ``{"total_acus", "consumption_by_date": [{"date", "acus", "acus_by_product"}]}``
            with one row per day, oldest first, days without use included; a row's ``acus``
            is the sum of its products, ``total_acus`` the sum of the rows' ``acus``.
        """
        first = max(billing_day_number(time_after), billing_day_number(self.enterprise.start))
        last = min(billing_day_number(time_before - 1), billing_day_number(now - 1))
        if time_after >= time_before or first > last:
            return {"total_acus": 0.0, "consumption_by_date": []}
        days = np.arange(first, last + 1, dtype=np.int64)
        devin = self._pieces.devin(now, first, last, entity)
        others = self._others(now, days) if entity is None else np.zeros((days.shape[0], 3))
        rows = []
        for day, devin_acus, (cascade, terminal, review) in zip(
            days.tolist(), devin.tolist(), others.tolist(), strict=True
        ):
            products = {"devin": devin_acus, "cascade": cascade, "terminal": terminal}
            products["review"] = review
            acus = devin_acus + cascade + terminal + review
            rows.append({"date": billing_day_start(day), "acus": acus, "acus_by_product": products})
        return {"total_acus": sum(row["acus"] for row in rows), "consumption_by_date": rows}

    def _others(self, now: int, days: IntArray) -> FloatArray:
        """The other products' ACUs on `days`, the part consumed in [history start, now)."""
        starts = days * SECONDS_PER_DAY + BILLING_DAY_OFFSET
        begin = np.maximum(starts, self.enterprise.start)
        end = np.minimum(starts + SECONDS_PER_DAY, now)
        share = np.clip(end - begin, 0, SECONDS_PER_DAY) / SECONDS_PER_DAY
        first, known = self._history_days
        offset = days - first
        if offset[-1] < known.shape[0]:
            whole_days = known[offset]
        else:  # the clock was moved past the history's end
            whole_days = other_products(self.enterprise.seed, days)
        consumed: FloatArray = whole_days * share[:, None]
        return consumed


@dataclass(frozen=True)
class _Pieces:
    """Each session's run cut by billing day, sorted by day, with groupings per entity."""

    day: IntArray
    start: IntArray
    end: IntArray
    rate: FloatArray
    groups: dict[str, tuple[IntArray, IntArray]]
    """Entity kind -> (piece positions grouped by entity then by day, offsets per entity)."""

    @classmethod
    def build(cls, sessions: MetricsAggregator) -> _Pieces:
        log = sessions.enterprise.sessions
        first = (log.created_at - BILLING_DAY_OFFSET) // SECONDS_PER_DAY
        last = (log.acus_done_at - 1 - BILLING_DAY_OFFSET) // SECONDS_PER_DAY
        spans = (last - first + 1).astype(np.intp)
        session = np.repeat(np.arange(len(log)), spans)
        within = np.arange(session.shape[0]) - np.repeat(np.cumsum(spans) - spans, spans)
        day = first[session] + within
        day_start = day * SECONDS_PER_DAY + BILLING_DAY_OFFSET
        start = np.maximum(log.created_at[session], day_start)
        end = np.minimum(log.acus_done_at[session], day_start + SECONDS_PER_DAY)
        order = np.argsort(day, kind="stable")
        session = session[order]
        keys: dict[str, tuple[npt.NDArray[np.integer[Any]], int]] = {
            "org": (log.org_index[session], len(sessions.enterprise.organizations)),
            "user": (log.user_index[session], len(sessions.enterprise.users)),
            "service_user": (
                log.service_user_index[session],
                len(sessions.enterprise.service_users),
            ),
            "session": (session, len(log)),
        }
        groups = {}
        for kind, (key, count) in keys.items():
            grouped = np.argsort(key, kind="stable")
            offsets = np.searchsorted(key[grouped], np.arange(count + 1), side="left")
            groups[kind] = (grouped, offsets)
        return cls(
            day=day[order],
            start=start[order],
            end=end[order],
            rate=sessions.acus_per_second[session],
            groups=groups,
        )

    def devin(self, now: int, first: int, last: int, entity: Entity | None) -> FloatArray:
        """Devin ACUs consumed before `now` on billing days `first`..`last` by `entity` (None:
        every session), one number per day."""
        chosen: slice | IntArray
        if entity is None:
            low, high = np.searchsorted(self.day, [first, last + 1], side="left")
            chosen = slice(int(low), int(high))
        else:
            kind, position = entity
            grouped, offsets = self.groups[kind]
            rows = grouped[offsets[position] : offsets[position + 1]]
            low, high = np.searchsorted(self.day[rows], [first, last + 1], side="left")
            chosen = rows[low:high]
        consumed = np.clip(np.minimum(self.end[chosen], now) - self.start[chosen], 0, None)
        by_day = np.bincount(
            self.day[chosen] - first,
            weights=consumed * self.rate[chosen],
            minlength=last - first + 1,
        )
        return by_day.astype(np.float64)
