"""Active users (one distinct count, or one per UTC day, week or month) and sessions by
category.

Active users are distinct counts: a week's count is not the sum of its days, and a union of
organizations is not the sum of theirs. Each must be asked for as it is wanted.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import model_validator

from ._base import APIModel, MetricsAnswer, _utc_window

__all__ = [
    "ActiveUserMetrics",
    "ActiveUserSeries",
    "CategoryMetrics",
    "SessionsByCategory",
    "SubcategoryMetrics",
]

#: An ``end_time`` whose seconds read 59 is the period's last second (``...23:59:59``), not
#: the next period's start.
_INCLUSIVE_END_SECOND = 59


class ActiveUserMetrics(MetricsAnswer):
    """Distinct active users of one period: a user is active with at least ``min_sessions``
    sessions created OR at least ``min_searches`` searches in it. Service users are not users.

    The period is ``[start_time, end_time)`` in Unix seconds, UTC. Some editions of the docs
    describe the last second as the end (``Sunday 23:59:59``): an ``end_time`` whose seconds
    read 59 is taken as inclusive, and :attr:`period` and :attr:`window` end one second later.

    Examples
    --------
    >>> week = ActiveUserMetrics.model_validate(
    ...     {"active_users": 41, "start_time": 1795392000, "end_time": 1795996799})
    >>> week.period, week.window_text()
    ((1795392000, 1795996800), '[2026-11-23, 2026-11-30) UTC')
    """

    active_users: int
    """Distinct users active in the period. Never summed over periods or groups."""
    start_time: int
    """The period's start, Unix seconds."""
    end_time: int
    """The period's end, Unix seconds: the next period's start, or (in some editions) its
    last second."""

    @property
    def period(self) -> tuple[int, int]:
        """The half-open period ``[start, end)`` in Unix seconds, an inclusive ``end_time``
        moved to the next second."""
        end = self.end_time
        if end % 60 == _INCLUSIVE_END_SECOND:
            end += 1
        return self.start_time, end

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime] | None:
        """The window asked for, when the call noted it; else the answer's own :attr:`period`,
        as tz-aware UTC datetimes."""
        return _utc_window(self._window or self.period)


class ActiveUserSeries(APIModel):
    """Active users per UTC day, Monday-start UTC week or UTC month: the bare JSON array the
    ``dau``, ``wau`` and ``mau`` endpoints answer, ascending, periods not overlapping.

    The counts are distinct per period: the days of a week do not add up to the week. Whether
    the first and last periods are clipped to the asked window, and whether periods without
    active users are listed, the docs do not say (the demo clips them, and lists them with 0).

    Examples
    --------
    >>> series = ActiveUserSeries.model_validate_json(
    ...     '[{"active_users": 3, "start_time": 0, "end_time": 86400}]')
    >>> [period.active_users for period in series.periods]
    [3]
    """

    periods: list[ActiveUserMetrics]
    """One entry per period, oldest first."""

    @model_validator(mode="before")
    @classmethod
    def _from_bare_list(cls, data: Any) -> Any:
        """The wire form is a bare list; a dump (``{"periods": [...]}``) is read back too."""
        return {"periods": data} if isinstance(data, list) else data


class SubcategoryMetrics(APIModel):
    """Sessions and ACUs of one subcategory of a category."""

    subcategory_id: str | None = None
    """The subcategory's id; None for sessions of the category with no subcategory."""
    display_name: str
    """Its name, for people."""
    sessions_count: int
    """Sessions created in the window in it."""
    acus: float
    """ACUs (Agent Compute Units) those sessions used."""


class CategoryMetrics(APIModel):
    """Sessions and ACUs of one category, split by subcategory (the subcategories add up to
    the category)."""

    category: str
    """The category's name (the API publishes no fixed list)."""
    sessions_count: int
    """Sessions created in the window in it."""
    acus: float
    """ACUs (Agent Compute Units) those sessions used."""
    subcategories: list[SubcategoryMetrics]
    """Its subcategories."""


class SessionsByCategory(MetricsAnswer):
    """Sessions and ACUs of one half-open window ``[time_after, time_before)``, by category
    of work (bug fix, feature, ...) and subcategory. Exists at enterprise scope only."""

    categories: list[CategoryMetrics]
    """One entry per category."""
