"""The metrics of the demo enterprise as pure methods, as of the simulator's clock.

`DemoQueries` holds a `DemoEnterprise` and a clock, ``now``, and answers every metric of the
family the way the API's endpoints do (the same JSON objects), without any request: the
sessions, searches, PRs, usage, active users (per window and per UTC day, week or month),
sessions by category, daily ACU consumption and billing cycles. `metrics_toolkit.demo.DemoAPI`
serves them over its routes.

Everything is computed as of ``now``: what was created at or after it does not exist yet,
merges and closes after it are not visible yet, a session's ACUs are the part it had consumed
by then. Every timestamp is Unix seconds, UTC; every window is half-open, [time_after,
time_before).

A window before the history (`DemoEnterprise.start`) counts 0 for that part, as a real account
would; an answer cannot say so, so `note_window_before_history` logs it on the
``metrics_toolkit.demo`` logger: a warning for the first such window, then one line at INFO
level per window.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Final

from metrics_toolkit.demo.activity import (
    DEFAULT_MIN_SEARCHES,
    DEFAULT_MIN_SESSIONS,
    ActivityAggregator,
    Period,
)
from metrics_toolkit.demo.aggregations import MetricsAggregator
from metrics_toolkit.demo.consumption import ConsumptionAggregator, Entity, billing_cycles
from metrics_toolkit.demo.enterprise import DemoEnterprise
from metrics_toolkit.demo.family import FamilyAggregator
from metrics_toolkit.demo.protocol import JsonObject

__all__ = ["DemoQueries"]

LOGGER_NAME: Final = "metrics_toolkit.demo"
"""The logger that says when a window asked for begins before the enterprise's history."""

logger = logging.getLogger(LOGGER_NAME)


class DemoQueries:
    """Every metric of a `DemoEnterprise`, as of a clock.

    Parameters
    ----------
    enterprise : DemoEnterprise
        The data to answer from; never modified.
    now : datetime, optional
        Timezone-aware clock. Default: `enterprise.end`. Can be moved with `set_now` or by
        assigning `now`.
    """

    def __init__(self, enterprise: DemoEnterprise, *, now: datetime | None = None) -> None:
        self.enterprise = enterprise
        self.now_timestamp = enterprise.end
        if now is not None:
            self.set_now(now)
        self._said_history_start = False
        self._aggregator = MetricsAggregator(enterprise)
        self._family = FamilyAggregator(self._aggregator)
        self._activity = ActivityAggregator(self._aggregator)
        self._consumption = ConsumptionAggregator(self._aggregator)

    @property
    def now(self) -> datetime:
        """The clock, timezone-aware UTC."""
        return datetime.fromtimestamp(self.now_timestamp, tz=timezone.utc)

    @now.setter
    def now(self, value: datetime) -> None:
        self.set_now(value)

    def set_now(self, now: datetime | int) -> None:
        """Move the clock to `now` (timezone-aware datetime or Unix seconds)."""
        if isinstance(now, datetime):
            if now.tzinfo is None or now.utcoffset() is None:
                raise ValueError("now must be timezone-aware (for example tzinfo=UTC)")
            self.now_timestamp = int(now.timestamp() // 1)
        else:
            self.now_timestamp = int(now)

    @property
    def aggregator(self) -> MetricsAggregator:
        """The session and search indexes (and the id lookups) every metric is built on."""
        return self._aggregator

    # -- sessions and searches -----------------------------------------------------------------

    def session_metrics(
        self,
        time_after: int,
        time_before: int,
        *,
        user_ids: Iterable[str] | None = None,
        service_user_ids: Iterable[str] | None = None,
        org_ids: Iterable[str] | None = None,
        playbook_id: str | None = None,
    ) -> JsonObject:
        """Aggregate the sessions created in [time_after, time_before), as of `now`.

        Parameters
        ----------
        time_after, time_before : int
            Half-open window [time_after, time_before), Unix seconds, UTC. Sessions created at
            or after `now` do not exist yet.
        user_ids, service_user_ids, org_ids : iterable of str, optional
            Keep sessions created by any of these users / service users, or in any of these
            organizations. None means no filter; an empty list matches nothing; unknown ids
            match nothing. Different filters combine with AND.
        playbook_id : str, optional
            Keep sessions started with this playbook.

        Returns
        -------
        dict
            A ``SessionMetricsResponse``: the eight documented fields, every origin and size
            present. ``avg_acus_per_session`` counts the ACUs consumed by `now` and is 0.0 for
            an empty window.
        """
        return self._aggregator.session_metrics(
            self.now_timestamp,
            time_after,
            time_before,
            user_ids=user_ids,
            service_user_ids=service_user_ids,
            org_ids=org_ids,
            playbook_id=playbook_id,
        )

    def search_metrics(
        self, time_after: int, time_before: int, *, org_ids: Iterable[str] | None = None
    ) -> JsonObject:
        """Count the searches (Ask Devin queries) made in [time_after, time_before), as of `now`.

        Parameters
        ----------
        time_after, time_before : int
            Half-open window [time_after, time_before), Unix seconds, UTC. Searches made at or
            after `now` have not happened yet. An empty or inverted window counts 0.
        org_ids : iterable of str, optional
            Keep searches made by people of any of these organizations. None means no filter;
            an empty list and unknown ids match nothing.

        Returns
        -------
        dict
            A ``SearchMetricsResponse``: ``{"searches_created_count": n}``, n >= 0. Counts
            add up over disjoint windows and over organizations.

        Examples
        --------
        >>> from metrics_toolkit.demo import generate_enterprise
        >>> api = DemoQueries(generate_enterprise(days=7))
        >>> week = api.search_metrics(api.enterprise.start, api.enterprise.end)
        >>> week == {"searches_created_count": len(api.enterprise.searches)}
        True
        """
        return self._aggregator.search_metrics(
            self.now_timestamp, time_after, time_before, org_ids=org_ids
        )

    # -- the rest of the family ----------------------------------------------------------------

    def pr_metrics(
        self,
        time_after: int,
        time_before: int,
        *,
        user_ids: Iterable[str] | None = None,
        service_user_ids: Iterable[str] | None = None,
        org_ids: Iterable[str] | None = None,
        playbook_id: str | None = None,
    ) -> JsonObject:
        """The ``PrMetricsResponse`` of the PRs created (or taken over) in the window.

        Takes the filters of `session_metrics`, applied to the session behind each PR. States
        are those at `now`: ``prs_created_count = prs_opened_count + prs_merged_count +
        prs_closed_count`` (and the same for the ``prs_taken_over_*`` counts).
        """
        return self._family.pr_metrics(
            self.now_timestamp,
            time_after,
            time_before,
            user_ids=user_ids,
            service_user_ids=service_user_ids,
            org_ids=org_ids,
            playbook_id=playbook_id,
        )

    def usage_metrics(
        self, time_after: int, time_before: int, *, org_ids: Iterable[str] | None = None
    ) -> JsonObject:
        """The ``UsageMetrics`` of the window: the counts of the sessions, searches and PRs
        endpoints for the same window (and organizations), side by side."""
        return self._family.usage_metrics(
            self.now_timestamp, time_after, time_before, org_ids=org_ids
        )

    def active_users(
        self,
        time_after: int,
        time_before: int,
        *,
        org_ids: Iterable[str] | None = None,
        min_sessions: int = DEFAULT_MIN_SESSIONS,
        min_searches: int = DEFAULT_MIN_SEARCHES,
    ) -> JsonObject:
        """Distinct active people of the window: one ``ActiveUserMetricsResponse``.

        Parameters
        ----------
        time_after, time_before : int
            Half-open window, Unix seconds, UTC; echoed as ``start_time`` and ``end_time``.
        org_ids : iterable of str, optional
            Keep people of these organizations. None: everyone.
        min_sessions, min_searches : int
            A person is active with at least `min_sessions` sessions OR at least
            `min_searches` searches (>= 0; 0 turns that criterion off). Service users are not
            people.
        """
        return self._activity.active_users(
            self.now_timestamp,
            time_after,
            time_before,
            org_ids=org_ids,
            min_sessions=min_sessions,
            min_searches=min_searches,
        )

    def active_users_by_period(
        self,
        time_after: int,
        time_before: int,
        period: Period,
        *,
        org_ids: Iterable[str] | None = None,
        min_sessions: int = DEFAULT_MIN_SESSIONS,
        min_searches: int = DEFAULT_MIN_SEARCHES,
    ) -> list[JsonObject]:
        """Distinct active people of each UTC `period` of the window (DAU, WAU, MAU).

        `period` is ``"day"``, ``"week"`` (from Monday 00:00 UTC) or ``"month"``; the first and
        last periods are clipped to the window, each ``end_time`` is the next ``start_time``.
        Other parameters as in `active_users`.

        Raises
        ------
        ValueError
            If the window holds more than `metrics_toolkit.demo.activity.MAX_PERIODS` periods.
        """
        return self._activity.active_users_by_period(
            self.now_timestamp,
            time_after,
            time_before,
            period,
            org_ids=org_ids,
            min_sessions=min_sessions,
            min_searches=min_searches,
        )

    def sessions_by_category(
        self, time_after: int, time_before: int, *, org_ids: Iterable[str] | None = None
    ) -> JsonObject:
        """Sessions created in the window and their ACUs by `now`, by category and subcategory
        (``{"categories": [...]}``, see `metrics_toolkit.demo.categories`)."""
        return self._family.sessions_by_category(
            self.now_timestamp, time_after, time_before, org_ids=org_ids
        )

    def daily_consumption(
        self, time_after: int, time_before: int, *, entity: Entity | None = None
    ) -> JsonObject:
        """The ``ConsumptionResponse`` of the billing days (08:00 to 08:00 UTC) the window
        overlaps, as of `now`: the whole account (every product) or one `entity`, a
        ``(kind, position)`` pair, its ``devin`` ACUs alone. See
        `metrics_toolkit.demo.consumption`."""
        return self._consumption.daily(self.now_timestamp, time_after, time_before, entity)

    def billing_cycles(self) -> list[JsonObject]:
        """Every billing cycle begun before `now`, oldest first (``{"after", "before"}``, Unix
        seconds; the current one last, its ``before`` still ahead)."""
        return billing_cycles(self.now_timestamp)

    # -- saying what a window before the history holds -----------------------------------------

    def note_window_before_history(self, time_after: int, time_before: int) -> None:
        """Log a window that begins before the history: the API answers 0 for that part."""
        start = self.enterprise.start
        if time_after >= min(start, time_before):
            return
        where = "lies wholly before" if time_before <= start else "begins before"
        level = logging.INFO if self._said_history_start else logging.WARNING
        self._said_history_start = True
        logger.log(
            level,
            "the window [%s, %s) UTC %s the demo enterprise's history, which begins on "
            "%s UTC: nothing before that exists, so it counts 0 there",
            _moment(time_after),
            _moment(time_before),
            where,
            _moment(start),
        )


def _moment(timestamp: int) -> str:
    """`timestamp` (Unix seconds) as ``YYYY-MM-DD HH:MM`` UTC, or the number when out of range."""
    try:
        return f"{datetime.fromtimestamp(timestamp, tz=timezone.utc):%Y-%m-%d %H:%M}"
    except (OverflowError, OSError, ValueError):
        return str(timestamp)
