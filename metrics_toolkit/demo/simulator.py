"""An in-process simulator of the Devin v3 API over a `DemoEnterprise`.

`DemoAPI.handle` takes a request (method, path, query string, headers) and returns a
`DemoResponse`; it opens no socket. It serves:

- ``GET /v3/enterprise/metrics/sessions`` (permission ``ViewAccountMetrics``), aggregated with
  numpy over the session log (`DemoAPI.session_metrics`);
- ``GET /v3/enterprise/metrics/searches`` (permission ``ViewAccountMetrics``), the searches
  (Ask Devin queries) made in a window, counted over the search log (`DemoAPI.search_metrics`);
- the directory lists ``GET /v3/enterprise/organizations``, ``/v3/enterprise/members/users``,
  ``/v3/enterprise/members/service-users`` and ``/v3/enterprise/playbooks``, with cursor
  pagination (`metrics_toolkit.demo.pages`).

Errors have the shapes FastAPI gives them: 401/403/404/405 as ``{"detail": "..."}``, 422 as
``{"detail": [{"type", "loc", "msg", "input", ...}]}`` with pydantic v2's types and messages,
collected in the order the parameters are declared (`metrics_toolkit.demo.protocol`).

Time: every timestamp is Unix seconds, UTC. The simulator has a clock, `DemoAPI.now`: sessions
and searches created at or after it do not exist yet, merges after it are not visible yet, and
a session's ACUs are the part it had consumed by then (`metrics_toolkit.demo.aggregations`);
playbooks created after it are not listed yet.

History: the enterprise's history begins at `DemoEnterprise.start` (the demo's first day,
`metrics_toolkit.demo.FIRST_DAY`, 00:00 UTC, unless a shorter history was built). As a real
account would, the API answers a window before it with 0 sessions and 0 searches (and
``avg_acus_per_session`` 0.0) for the part before it; an answer cannot say so, so the
simulator logs it on the ``metrics_toolkit.demo`` logger: a warning for the first such window,
then one line at INFO level per window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Final

from metrics_toolkit.demo.aggregations import MetricsAggregator
from metrics_toolkit.demo.enterprise import DemoEnterprise
from metrics_toolkit.demo.pages import (
    CURSOR_PREFIX,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    encode_cursor,
    list_organizations,
    list_playbooks,
    list_service_users,
    list_users,
)
from metrics_toolkit.demo.protocol import (
    JSON_CONTENT_TYPE,
    DemoResponse,
    JsonObject,
    Query,
    RequestError,
    error,
    header,
    id_list,
    json_response,
    last,
    parse_query,
    time_window,
)

SESSION_METRICS_PATH: Final = "/v3/enterprise/metrics/sessions"
SEARCH_METRICS_PATH: Final = "/v3/enterprise/metrics/searches"
ORGANIZATIONS_PATH: Final = "/v3/enterprise/organizations"
USERS_PATH: Final = "/v3/enterprise/members/users"
SERVICE_USERS_PATH: Final = "/v3/enterprise/members/service-users"
PLAYBOOKS_PATH: Final = "/v3/enterprise/playbooks"

VIEW_ACCOUNT_METRICS: Final = "ViewAccountMetrics"
VIEW_ORGANIZATIONS: Final = "ViewOrganizations"
VIEW_ACCOUNT_MEMBERSHIP: Final = "ViewAccountMembership"
VIEW_PLAYBOOKS: Final = "ViewPlaybooks"
ALL_PERMISSIONS: Final = frozenset(
    {VIEW_ACCOUNT_METRICS, VIEW_ORGANIZATIONS, VIEW_ACCOUNT_MEMBERSHIP, VIEW_PLAYBOOKS}
)

DEMO_API_KEY: Final = "cog_demo_key"
"""Token with every permission."""
DEMO_KEY_WITHOUT_PERMISSIONS: Final = "cog_demo_no_permissions"
"""Token that authenticates but holds no permission (every endpoint answers 403)."""
DEFAULT_TOKENS: Final[Mapping[str, frozenset[str]]] = {
    DEMO_API_KEY: ALL_PERMISSIONS,
    DEMO_KEY_WITHOUT_PERMISSIONS: frozenset(),
}
LOGGER_NAME: Final = "metrics_toolkit.demo"
"""The logger that says when a window asked for begins before the enterprise's history."""

logger = logging.getLogger(LOGGER_NAME)


@dataclass(frozen=True)
class _Route:
    permission: str
    handler: Callable[[Query], JsonObject]


class DemoAPI:
    """The Devin v3 API over a synthetic enterprise, in process.

    Parameters
    ----------
    enterprise : DemoEnterprise
        The data to serve.
    now : datetime, optional
        Timezone-aware clock of the simulator. Default: `enterprise.end`. Can be moved later
        with `set_now` or by assigning `now`.
    tokens : Mapping[str, frozenset[str]], optional
        Bearer token -> the permissions it holds. Default: `DEFAULT_TOKENS`.

    Examples
    --------
    >>> from metrics_toolkit.demo import generate_enterprise
    >>> api = DemoAPI(generate_enterprise(days=30))
    >>> response = api.handle(
    ...     "GET",
    ...     "/v3/enterprise/metrics/sessions",
    ...     f"time_after={api.enterprise.start}&time_before={api.enterprise.end}",
    ...     {"Authorization": f"Bearer {DEMO_API_KEY}"},
    ... )
    >>> response.status
    200
    """

    def __init__(
        self,
        enterprise: DemoEnterprise,
        *,
        now: datetime | None = None,
        tokens: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.enterprise = enterprise
        self.now_timestamp = enterprise.end
        if now is not None:
            self.set_now(now)
        self.tokens: dict[str, frozenset[str]] = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self._said_history_start = False
        self._aggregator = MetricsAggregator(enterprise)
        self._routes: dict[str, _Route] = {
            SESSION_METRICS_PATH: _Route(VIEW_ACCOUNT_METRICS, self._get_session_metrics),
            SEARCH_METRICS_PATH: _Route(VIEW_ACCOUNT_METRICS, self._get_search_metrics),
            ORGANIZATIONS_PATH: _Route(
                VIEW_ORGANIZATIONS, lambda query: list_organizations(self.enterprise, query)
            ),
            USERS_PATH: _Route(
                VIEW_ACCOUNT_MEMBERSHIP, lambda query: list_users(self.enterprise, query)
            ),
            SERVICE_USERS_PATH: _Route(
                VIEW_ACCOUNT_MEMBERSHIP,
                lambda query: list_service_users(self.enterprise, self.now_timestamp, query),
            ),
            PLAYBOOKS_PATH: _Route(
                VIEW_PLAYBOOKS,
                lambda query: list_playbooks(self.enterprise, self.now_timestamp, query),
            ),
        }

    @property
    def now(self) -> datetime:
        """The simulator's clock, timezone-aware UTC."""
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

    # -- the metrics, as pure methods --------------------------------------------------------

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
        >>> api = DemoAPI(generate_enterprise(days=7))
        >>> week = api.search_metrics(api.enterprise.start, api.enterprise.end)
        >>> week == {"searches_created_count": len(api.enterprise.searches)}
        True
        """
        return self._aggregator.search_metrics(
            self.now_timestamp, time_after, time_before, org_ids=org_ids
        )

    # -- request handling --------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> DemoResponse:
        """Answer one HTTP request.

        Parameters
        ----------
        method : str
            HTTP method; only GET is served (405 otherwise).
        path : str
            Request path, without the query string.
        query : str
            Raw query string (``a=1&b=2``), percent-encoded.
        headers : Mapping[str, str]
            Request headers (names case-insensitive); ``Authorization: Bearer <token>``.

        Returns
        -------
        DemoResponse
        """
        route = self._routes.get(path)
        if route is None:
            return error(HTTPStatus.NOT_FOUND, "Not Found")
        if method.upper() != "GET":
            return error(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed", {"Allow": "GET"})
        try:
            self._authorize(headers, route.permission, path)
            return json_response(HTTPStatus.OK, route.handler(parse_query(query)))
        except RequestError as request_error:
            return request_error.response

    def _authorize(self, headers: Mapping[str, str], permission: str, path: str) -> None:
        authorization = header(headers, "authorization")
        challenge = {"WWW-Authenticate": "Bearer"}
        if authorization is None:
            raise RequestError(error(HTTPStatus.UNAUTHORIZED, "Not authenticated", challenge))
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            detail = "Invalid authentication credentials: expected 'Authorization: Bearer cog_...'"
            raise RequestError(error(HTTPStatus.UNAUTHORIZED, detail, challenge))
        permissions = self.tokens.get(token)
        if permissions is None:
            detail = "Invalid API key: the bearer token is unknown, expired or revoked"
            raise RequestError(error(HTTPStatus.UNAUTHORIZED, detail, challenge))
        if permission not in permissions:
            detail = (
                f"Missing permission {permission}: GET {path} needs a service user "
                f"with the {permission} permission at enterprise level"
            )
            raise RequestError(error(HTTPStatus.FORBIDDEN, detail))

    def _note_window_before_history(self, time_after: int, time_before: int) -> None:
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

    def _get_session_metrics(self, query: Query) -> JsonObject:
        time_after, time_before = time_window(query)
        self._note_window_before_history(time_after, time_before)
        return self.session_metrics(
            time_after,
            time_before,
            user_ids=id_list(query, "user_ids"),
            service_user_ids=id_list(query, "service_user_ids"),
            org_ids=id_list(query, "org_ids"),
            playbook_id=last(query, "playbook_id"),
        )

    def _get_search_metrics(self, query: Query) -> JsonObject:
        time_after, time_before = time_window(query)
        self._note_window_before_history(time_after, time_before)
        return self.search_metrics(time_after, time_before, org_ids=id_list(query, "org_ids"))


def _moment(timestamp: int) -> str:
    """`timestamp` (Unix seconds) as ``YYYY-MM-DD HH:MM`` UTC, or the number when out of range."""
    try:
        return f"{datetime.fromtimestamp(timestamp, tz=timezone.utc):%Y-%m-%d %H:%M}"
    except (OverflowError, OSError, ValueError):
        return str(timestamp)


__all__ = [
    "ALL_PERMISSIONS",
    "CURSOR_PREFIX",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TOKENS",
    "DEMO_API_KEY",
    "DEMO_KEY_WITHOUT_PERMISSIONS",
    "JSON_CONTENT_TYPE",
    "LOGGER_NAME",
    "MAX_PAGE_SIZE",
    "ORGANIZATIONS_PATH",
    "PLAYBOOKS_PATH",
    "SEARCH_METRICS_PATH",
    "SERVICE_USERS_PATH",
    "SESSION_METRICS_PATH",
    "USERS_PATH",
    "VIEW_ACCOUNT_MEMBERSHIP",
    "VIEW_ACCOUNT_METRICS",
    "VIEW_ORGANIZATIONS",
    "VIEW_PLAYBOOKS",
    "DemoAPI",
    "DemoResponse",
    "JsonObject",
    "Query",
    "encode_cursor",
]
