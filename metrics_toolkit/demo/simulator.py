"""An in-process simulator of the Devin v3 API over a `DemoEnterprise`.

`DemoAPI.handle` takes a request (method, path, query string, headers) and returns a
`DemoResponse`; it opens no socket. It serves the whole metrics family at both scopes (the
routes of `metrics_toolkit.demo.routes`):

- ``/v3/enterprise/metrics/{sessions,prs,usage,searches,active-users,dau,wau,mau,
  sessions-by-category}`` and ``/v3/enterprise/organizations/{org_id}/metrics/usage``
  (permission ``ViewAccountMetrics``);
- ``/v3/organizations/{org_id}/metrics/{sessions,prs,usage,searches,active-users,dau,wau,mau}``
  (``ViewOrgMetrics`` or ``ViewAccountMetrics``);
- ``/v3/enterprise/consumption/cycles``, ``/v3/enterprise/consumption/daily`` and
  ``.../daily/{organizations,users,service-users,sessions}/{id}``, and
  ``/v3/organizations/{org_id}/consumption/daily`` and
  ``.../daily/{users,service-users,sessions}/{id}`` (``ManageBilling``);
- the directory lists ``GET /v3/enterprise/organizations``, ``/v3/enterprise/members/users``,
  ``/v3/enterprise/members/service-users`` and ``/v3/enterprise/playbooks``, with cursor
  pagination (`metrics_toolkit.demo.pages`).

The answers are those of `DemoQueries` (the metrics as pure methods, as of the clock ``now``).
Errors have the shapes FastAPI gives them: 401/403/404/405 as ``{"detail": "..."}``, 422 as
``{"detail": [{"type", "loc", "msg", "input", ...}]}`` with pydantic v2's types and messages,
collected in the order the parameters are declared (`metrics_toolkit.demo.protocol`). A
request is authenticated (401), then its token's scope and permissions are checked (403), then
its parameters (422), then the ids in its path (404).

Tokens: `DEMO_API_KEY` holds every permission at enterprise level; `DEMO_ORG_API_KEY` is scoped
to the first organization (``ViewOrgMetrics`` and ``ManageBilling`` there): it gets 403 on
every ``/v3/enterprise/...`` path and on the other organizations' paths.

List parameters (``org_ids``, ``user_ids``, ``service_user_ids``) are read as repeated keys
and comma-joined values alike, unless a strict `ListFormat` is set (``list_format``).

Time: every timestamp is Unix seconds, UTC. The simulator has a clock, `DemoAPI.now`: sessions
and searches created at or after it do not exist yet, merges and closes after it are not
visible yet, and a session's ACUs are the part it had consumed by then; playbooks created after
it are not listed yet.

History: the enterprise's history begins at `DemoEnterprise.start` (the demo's first day,
`metrics_toolkit.demo.FIRST_DAY`, 00:00 UTC, unless a shorter history was built). As a real
account would, the API answers a window before it with 0 for the part before it; an answer
cannot say so, so the simulator logs it on the ``metrics_toolkit.demo`` logger: a warning for
the first such window, then one line at INFO level per window.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from http import HTTPStatus
from typing import Final

from metrics_toolkit.demo.enterprise import DemoEnterprise
from metrics_toolkit.demo.pages import (
    CURSOR_PREFIX,
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    encode_cursor,
)
from metrics_toolkit.demo.protocol import (
    JSON_CONTENT_TYPE,
    LIST_FORMATS,
    DemoResponse,
    JsonObject,
    ListFormat,
    Query,
    RequestError,
    error,
    header,
    json_response,
    parse_query,
)
from metrics_toolkit.demo.queries import LOGGER_NAME, DemoQueries
from metrics_toolkit.demo.routes import (
    MANAGE_BILLING,
    ROUTES,
    VIEW_ACCOUNT_MEMBERSHIP,
    VIEW_ACCOUNT_METRICS,
    VIEW_ORG_METRICS,
    VIEW_ORGANIZATIONS,
    VIEW_PLAYBOOKS,
    Call,
    Grant,
    authorize,
    match,
)

SESSION_METRICS_PATH: Final = "/v3/enterprise/metrics/sessions"
SEARCH_METRICS_PATH: Final = "/v3/enterprise/metrics/searches"
ORGANIZATIONS_PATH: Final = "/v3/enterprise/organizations"
USERS_PATH: Final = "/v3/enterprise/members/users"
SERVICE_USERS_PATH: Final = "/v3/enterprise/members/service-users"
PLAYBOOKS_PATH: Final = "/v3/enterprise/playbooks"

ALL_PERMISSIONS: Final = frozenset(
    {
        VIEW_ACCOUNT_METRICS,
        VIEW_ORGANIZATIONS,
        VIEW_ACCOUNT_MEMBERSHIP,
        VIEW_PLAYBOOKS,
        MANAGE_BILLING,
    }
)
"""Every permission an enterprise-scoped token can hold."""
ORG_PERMISSIONS: Final = frozenset({VIEW_ORG_METRICS, MANAGE_BILLING})
"""The permissions of `DEMO_ORG_API_KEY`, at the level of its organization."""

DEMO_API_KEY: Final = "cog_demo_key"
"""Token with every permission, enterprise-scoped."""
DEMO_KEY_WITHOUT_PERMISSIONS: Final = "cog_demo_no_permissions"
"""Token that authenticates but holds no permission (every endpoint answers 403)."""
DEMO_ORG_API_KEY: Final = "cog_demo_org_key"
"""Token scoped to the enterprise's first organization, with `ORG_PERMISSIONS` there."""
DEFAULT_TOKENS: Final[Mapping[str, frozenset[str]]] = {
    DEMO_API_KEY: ALL_PERMISSIONS,
    DEMO_KEY_WITHOUT_PERMISSIONS: frozenset(),
}


class DemoAPI(DemoQueries):
    """The Devin v3 API over a synthetic enterprise, in process.

    The metrics themselves are the methods of `DemoQueries` (`session_metrics`,
    `pr_metrics`, `active_users`, `daily_consumption`, ...); `handle` serves them over HTTP's
    vocabulary.

    Parameters
    ----------
    enterprise : DemoEnterprise
        The data to serve.
    now : datetime, optional
        Timezone-aware clock of the simulator. Default: `enterprise.end`. Can be moved later
        with `set_now` or by assigning `now`.
    tokens : Mapping[str, frozenset[str]], optional
        Enterprise-scoped bearer token -> the permissions it holds. Default: `DEFAULT_TOKENS`.
    org_tokens : Mapping[str, tuple[str, frozenset[str]]], optional
        Organization-scoped bearer token -> (its organization's id, the permissions it holds
        there). Default: `DEMO_ORG_API_KEY` for the first organization, with
        `ORG_PERMISSIONS`.
    list_format : {"any", "repeat", "comma"}
        How list parameters are read (see `metrics_toolkit.demo.protocol.ListFormat`):
        both ways (default), repeated keys only, or one comma-joined value only.

    Raises
    ------
    ValueError
        If `now` is naive or `list_format` is not one of the three.

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
        org_tokens: Mapping[str, tuple[str, frozenset[str]]] | None = None,
        list_format: ListFormat = "any",
    ) -> None:
        super().__init__(enterprise, now=now)
        self.tokens: dict[str, frozenset[str]] = dict(DEFAULT_TOKENS if tokens is None else tokens)
        if org_tokens is None:
            org_tokens = {DEMO_ORG_API_KEY: (enterprise.organizations[0].org_id, ORG_PERMISSIONS)}
        self.org_tokens: dict[str, tuple[str, frozenset[str]]] = dict(org_tokens)
        self.list_format: ListFormat = check_list_format(list_format)

    def handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        *,
        list_format: ListFormat | None = None,
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
        list_format : {"any", "repeat", "comma"}, optional
            How to read list parameters for this request. Default: `list_format`.

        Returns
        -------
        DemoResponse
        """
        found = match(ROUTES, path)
        if found is None:
            return error(HTTPStatus.NOT_FOUND, "Not Found")
        if method.upper() != "GET":
            return error(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed", {"Allow": "GET"})
        route, values = found
        try:
            authorize(self._grant(headers), route, path, values)
            call = Call(self, parse_query(query), values, list_format or self.list_format)
            return json_response(HTTPStatus.OK, route.handler(call))
        except RequestError as request_error:
            return request_error.response

    def _grant(self, headers: Mapping[str, str]) -> Grant:
        """The grant of the request's bearer token; 401 when there is none or it is unknown."""
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
        if permissions is not None:
            return Grant(permissions)
        if token in self.org_tokens:
            org_id, org_permissions = self.org_tokens[token]
            return Grant(org_permissions, org_id)
        detail = "Invalid API key: the bearer token is unknown, expired or revoked"
        raise RequestError(error(HTTPStatus.UNAUTHORIZED, detail, challenge))


def check_list_format(list_format: str) -> ListFormat:
    """`list_format` if it is one of `LIST_FORMATS`; raises `ValueError` otherwise."""
    for known in LIST_FORMATS:
        if list_format == known:
            return known
    raise ValueError(f"list_format must be one of {', '.join(LIST_FORMATS)}, got {list_format!r}")


__all__ = [
    "ALL_PERMISSIONS",
    "CURSOR_PREFIX",
    "DEFAULT_PAGE_SIZE",
    "DEFAULT_TOKENS",
    "DEMO_API_KEY",
    "DEMO_KEY_WITHOUT_PERMISSIONS",
    "DEMO_ORG_API_KEY",
    "JSON_CONTENT_TYPE",
    "LOGGER_NAME",
    "MANAGE_BILLING",
    "MAX_PAGE_SIZE",
    "ORGANIZATIONS_PATH",
    "ORG_PERMISSIONS",
    "PLAYBOOKS_PATH",
    "SEARCH_METRICS_PATH",
    "SERVICE_USERS_PATH",
    "SESSION_METRICS_PATH",
    "USERS_PATH",
    "VIEW_ACCOUNT_MEMBERSHIP",
    "VIEW_ACCOUNT_METRICS",
    "VIEW_ORGANIZATIONS",
    "VIEW_ORG_METRICS",
    "VIEW_PLAYBOOKS",
    "DemoAPI",
    "DemoQueries",
    "DemoResponse",
    "JsonObject",
    "ListFormat",
    "Query",
    "check_list_format",
    "encode_cursor",
]
