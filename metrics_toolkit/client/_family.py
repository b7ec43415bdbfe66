"""The typed methods of the rest of the metrics family (PRs, usage, active users, categories,
consumption, billing cycles), and the names a call may take, over the generic path."""

from __future__ import annotations

from typing import Any

from .._endpoints import (
    ACTIVE_USERS,
    CONSUMPTION,
    CYCLES,
    DAILY_ACTIVE_USERS,
    ENTITY_METRICS,
    MONTHLY_ACTIVE_USERS,
    ORG_CONSUMPTION,
    ORG_USAGE,
    PR_METRICS,
    SESSIONS_BY_CATEGORY,
    USAGE_METRICS,
    WEEKLY_ACTIVE_USERS,
    Endpoint,
)
from .._vocabulary import (
    ACTIVE_THRESHOLD,
)
from ..errors import InvalidParameterError
from ..models import (
    ActiveUserMetrics,
    ActiveUserSeries,
    Consumption,
    ConsumptionCycle,
    PrMetrics,
    SessionsByCategory,
    UsageMetrics,
)
from ..params import TimeLike, check_positive_int, window_params
from ._names import NamedClient

__all__ = ["FamilyClient"]

#: The consumption of one user, service user or session, by the parameter naming it.
_ENTITY_CONSUMPTION = {
    "user_id": ENTITY_METRICS["user_consumption"],
    "service_user_id": ENTITY_METRICS["service_user_consumption"],
    "session_id": ENTITY_METRICS["session_consumption"],
}


class FamilyClient(NamedClient):
    """The family's typed methods; see :class:`~metrics_toolkit.MetricsClient`."""

    def pr_metrics(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        user_ids: list[str] | None = None,
        service_user_ids: list[str] | None = None,
        org_ids: list[str] | None = None,
        playbook_id: str | None = None,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> PrMetrics:
        """PRs Devin created in the half-open window ``[time_after, time_before)``, by state
        now: ``prs_created_count = prs_opened_count + prs_merged_count + prs_closed_count``.

        Parameters
        ----------
        time_after, time_before : datetime, date, str, pandas.Timestamp or int
            Window bounds; naive values are UTC, ints are Unix epoch seconds.
        user_ids, service_user_ids, org_ids : list of str, optional
            Keep PRs of sessions created by any of these users or service users, in any of
            these organizations (ids or names; users' emails too); filters combine with AND.
            ``org_ids`` exists only at enterprise scope.
        playbook_id : str, optional
            Keep PRs of sessions created with this playbook (its id or title).
        refresh : bool, default False
            Ask the server even when the store holds an answer.
        allow_unknown_ids : bool, default False
            Send an id the directory does not list instead of refusing it.

        Returns
        -------
        PrMetrics
            ``prs_opened_count`` is a state (open now), and merged and closed grow as PRs
            are merged or closed: a recent window is provisional.
        """
        filters = self._ids(
            allow_unknown_ids,
            user_ids=user_ids,
            service_user_ids=service_user_ids,
            org_ids=org_ids,
            playbook_id=playbook_id,
        )
        params = window_params(time_after, time_before, allowed=PR_METRICS.filters, **filters)
        return self.request(PR_METRICS, params, refresh=refresh).data

    def usage_metrics(
        self,
        time_after: TimeLike | None = None,
        time_before: TimeLike | None = None,
        *,
        org_id: str | None = None,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> UsageMetrics:
        """Sessions, searches, PRs created and merged over ``[time_after, time_before)``, for
        the whole scope, or one organization's (``org_id``, also with an enterprise token).

        Parameters
        ----------
        time_after, time_before : datetime, date, str, pandas.Timestamp or int, optional
            Window bounds (naive values are UTC, ints Unix epoch seconds); both or neither.
            Without a window the server answers for the current billing cycle (the v2 API's
            documented default).
        org_id : str, optional
            One organization (its id or name).
        refresh, allow_unknown_ids : bool, default False
            As for :meth:`pr_metrics`.

        Returns
        -------
        UsageMetrics
            Each count equals the sessions, searches and PRs endpoints' for the same window.
        """
        params = {**_optional_window(time_after, time_before), **_one_ids(org_id=org_id)}
        params = self._named(params, allow_unknown_ids)
        endpoint = USAGE_METRICS if org_id is None else ORG_USAGE
        return self.request(endpoint, params, refresh=refresh).data

    def active_users(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        org_ids: list[str] | None = None,
        min_sessions: int = ACTIVE_THRESHOLD,
        min_searches: int = ACTIVE_THRESHOLD,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> ActiveUserMetrics:
        """Distinct active users of the half-open window ``[time_after, time_before)``: one
        count for the whole window, never the sum of shorter windows' counts.

        Parameters
        ----------
        time_after, time_before : datetime, date, str, pandas.Timestamp or int
            Window bounds; naive values are UTC, ints are Unix epoch seconds.
        org_ids : list of str, optional
            Count users active in any of these organizations (enterprise scope only).
        min_sessions, min_searches : int, default 1
            A user is active with at least ``min_sessions`` sessions created OR at least
            ``min_searches`` searches in the window. Ints >= 0; 0 turns that criterion off
            (an assumption: the docs leave 0 undefined). Service users are not users.
        refresh, allow_unknown_ids : bool, default False
            As for :meth:`pr_metrics`.

        Returns
        -------
        ActiveUserMetrics
        """
        params = self._active_params(
            time_after, time_before, org_ids, min_sessions, min_searches, allow_unknown_ids
        )
        return self.request(ACTIVE_USERS, params, refresh=refresh).data

    def daily_active_users(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        org_ids: list[str] | None = None,
        min_sessions: int = ACTIVE_THRESHOLD,
        min_searches: int = ACTIVE_THRESHOLD,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> list[ActiveUserMetrics]:
        """Distinct active users per UTC day of ``[time_after, time_before)``, oldest first.

        Parameters as for :meth:`active_users`. The days do not add up to a week or month:
        ask :meth:`weekly_active_users`, :meth:`monthly_active_users` or :meth:`active_users`.
        """
        params = self._active_params(
            time_after, time_before, org_ids, min_sessions, min_searches, allow_unknown_ids
        )
        return self._periods(DAILY_ACTIVE_USERS, params, refresh)

    def weekly_active_users(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        org_ids: list[str] | None = None,
        min_sessions: int = ACTIVE_THRESHOLD,
        min_searches: int = ACTIVE_THRESHOLD,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> list[ActiveUserMetrics]:
        """Distinct active users per UTC week (Monday 00:00 to Monday 00:00) of
        ``[time_after, time_before)``, oldest first; parameters as for :meth:`active_users`."""
        params = self._active_params(
            time_after, time_before, org_ids, min_sessions, min_searches, allow_unknown_ids
        )
        return self._periods(WEEKLY_ACTIVE_USERS, params, refresh)

    def monthly_active_users(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        org_ids: list[str] | None = None,
        min_sessions: int = ACTIVE_THRESHOLD,
        min_searches: int = ACTIVE_THRESHOLD,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> list[ActiveUserMetrics]:
        """Distinct active users per UTC calendar month of ``[time_after, time_before)``,
        oldest first; parameters as for :meth:`active_users`."""
        params = self._active_params(
            time_after, time_before, org_ids, min_sessions, min_searches, allow_unknown_ids
        )
        return self._periods(MONTHLY_ACTIVE_USERS, params, refresh)

    def sessions_by_category(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        org_ids: list[str] | None = None,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> SessionsByCategory:
        """Sessions and ACUs of the half-open window ``[time_after, time_before)`` by category
        and subcategory (exists only at enterprise scope).

        Parameters
        ----------
        time_after, time_before : datetime, date, str, pandas.Timestamp or int
            Window bounds; naive values are UTC, ints are Unix epoch seconds.
        org_ids : list of str, optional
            Keep sessions of any of these organizations (ids or names).
        refresh, allow_unknown_ids : bool, default False
            As for :meth:`pr_metrics`.

        Raises
        ------
        ScopeError
            From a client scoped to an organization, before any request.
        """
        filters = self._ids(allow_unknown_ids, org_ids=org_ids)
        allowed = SESSIONS_BY_CATEGORY.filters
        params = window_params(time_after, time_before, allowed=allowed, **filters)
        return self.request(SESSIONS_BY_CATEGORY, params, refresh=refresh).data

    def consumption(
        self,
        time_after: TimeLike | None = None,
        time_before: TimeLike | None = None,
        *,
        org_id: str | None = None,
        user_id: str | None = None,
        service_user_id: str | None = None,
        session_id: str | None = None,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> Consumption:
        """ACUs per billing day (08:00 UTC to 08:00 UTC), by product, of the whole scope or of
        one organization, user, service user or session.

        Parameters
        ----------
        time_after, time_before : datetime, date, str, pandas.Timestamp or int, optional
            Window bounds (naive values are UTC, ints Unix epoch seconds); both or neither.
            The server answers the billing days the window overlaps; without a window, the
            current billing cycle (the v2 API's documented default).
        org_id : str, optional
            One organization (id or name): only Devin's ACUs (the other products are not tied
            to an organization), so organizations do not add up to the account. With one of
            the ids below, that entity within the organization.
        user_id, service_user_id, session_id : str, optional
            One user (id, name or email), service user (id or name) or session (its
            ``devin-...`` id): the Devin ACUs of their sessions. At most one of them.
        refresh, allow_unknown_ids : bool, default False
            As for :meth:`pr_metrics`.

        Returns
        -------
        Consumption
            Its ``window`` is the billing days answered.
        """
        entity = _one_ids(user_id=user_id, service_user_id=service_user_id, session_id=session_id)
        if len(entity) > 1:
            raise InvalidParameterError(
                list(entity)[1], f"give at most one of {', '.join(_ENTITY_CONSUMPTION)}"
            )
        params = {**_optional_window(time_after, time_before), **_one_ids(org_id=org_id)}
        params = self._named({**params, **entity}, allow_unknown_ids)
        endpoint: Endpoint[Consumption] | None
        if entity:  # within an organization: its path (which an enterprise token may call)
            metric = _ENTITY_CONSUMPTION[next(iter(entity))]
            endpoint = metric.enterprise if org_id is None else metric.organization
        else:
            endpoint = CONSUMPTION if org_id is None else ORG_CONSUMPTION
        assert endpoint is not None
        return self.request(endpoint, params, refresh=refresh).data

    def billing_cycles(self, *, refresh: bool = False) -> list[ConsumptionCycle]:
        """Every monthly billing cycle ``[after, before)`` of the enterprise, oldest first, the
        current (unfinished) cycle last; all pages. Exists only at enterprise scope."""
        return self.list_all(CYCLES, {}, refresh=refresh)

    # -- shared -------------------------------------------------------------------------------

    def _active_params(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        org_ids: list[str] | None,
        min_sessions: int,
        min_searches: int,
        allow_unknown_ids: bool,
    ) -> dict[str, Any]:
        """The checked query of an active-users call."""
        filters = self._ids(allow_unknown_ids, org_ids=org_ids)
        params = window_params(time_after, time_before, allowed=ACTIVE_USERS.filters, **filters)
        params["min_sessions"] = check_positive_int(min_sessions, "min_sessions", minimum=0)
        params["min_searches"] = check_positive_int(min_searches, "min_searches", minimum=0)
        return params

    def _periods(
        self, endpoint: Endpoint[ActiveUserSeries], params: dict[str, Any], refresh: bool
    ) -> list[ActiveUserMetrics]:
        """The periods of a DAU, WAU or MAU answer."""
        return list(self.request(endpoint, params, refresh=refresh).data.periods)


def _optional_window(time_after: TimeLike | None, time_before: TimeLike | None) -> dict[str, Any]:
    """The window of an endpoint where it is optional: both bounds, or neither (empty)."""
    if time_after is None and time_before is None:
        return {}
    if time_after is None or time_before is None:
        missing = "time_after" if time_after is None else "time_before"
        raise InvalidParameterError(
            missing, "give both bounds of the window, or neither (the current billing cycle)"
        )
    return window_params(time_after, time_before, allowed=())


def _one_ids(**values: str | None) -> dict[str, str]:
    """The one-id parameters given (ids or names, each filled into a path, quoted whole),
    checked: one non-empty string of printable characters."""
    checked = {}
    for name, value in values.items():
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or not value.isprintable():
            raise InvalidParameterError(
                name, f"got {value!r}; expected one id or name, a non-empty printable string"
            )
        checked[name] = value
    return checked
