"""The routes of the simulator: every path it serves, who may call it, and how it reads a query.

Paths are those of the API (`ROUTES`), at enterprise scope (``/v3/enterprise/...``) and at
organization scope (``/v3/organizations/{org_id}/...``); a path segment in braces matches one
segment of the request's path. Each route names the permissions that open it (any one of
them) and a handler that reads the query string the way FastAPI would (422s list every bad
parameter in the order the endpoint declares them) and answers from a `DemoQueries`.

A token is enterprise-scoped or scoped to one organization (`Grant`). An organization-scoped
token gets 403 on every ``/v3/enterprise/...`` path and on another organization's paths; an
enterprise token may call every organization's paths. Permissions: ``ViewAccountMetrics`` for
the enterprise's metrics, ``ViewOrgMetrics`` (or ``ViewAccountMetrics``) for an
organization's, ``ManageBilling`` for consumption at both scopes, and the directory's own.

Time windows: Unix seconds, half-open [time_after, time_before). Where the API makes them
optional (usage, consumption) an omitted ``time_after`` is the start of the current billing
cycle and an omitted ``time_before`` is now (v2's documented default: the current cycle).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated, Any, Final
from urllib.parse import unquote

from pydantic import Field, TypeAdapter

from metrics_toolkit.demo.activity import (
    DEFAULT_MIN_SEARCHES,
    DEFAULT_MIN_SESSIONS,
    Period,
)
from metrics_toolkit.demo.consumption import Entity, EntityKind, cycle_start
from metrics_toolkit.demo.pages import (
    list_organizations,
    list_playbooks,
    list_service_users,
    list_users,
    page,
    page_parameters,
)
from metrics_toolkit.demo.protocol import (
    JsonObject,
    ListFormat,
    Query,
    RequestError,
    error,
    id_list,
    last,
    optional_value,
    required_integer,
    validation_error,
)
from metrics_toolkit.demo.queries import DemoQueries

__all__ = ["Call", "Grant", "Route", "authorize", "match"]

VIEW_ACCOUNT_METRICS: Final = "ViewAccountMetrics"
VIEW_ORG_METRICS: Final = "ViewOrgMetrics"
MANAGE_BILLING: Final = "ManageBilling"
VIEW_ORGANIZATIONS: Final = "ViewOrganizations"
VIEW_ACCOUNT_MEMBERSHIP: Final = "ViewAccountMembership"
VIEW_PLAYBOOKS: Final = "ViewPlaybooks"

ENTERPRISE_PREFIX: Final = "/v3/enterprise"
ORGANIZATION_PREFIX: Final = "/v3/organizations/{org_id}"
_INTEGER: Final = TypeAdapter(int)
_THRESHOLD: Final = TypeAdapter(Annotated[int, Field(ge=0)])


@dataclass(frozen=True)
class Grant:
    """What a token may do: its permissions, and the organization it is scoped to (None: the
    whole enterprise)."""

    permissions: frozenset[str]
    org_id: str | None = None


@dataclass(frozen=True)
class Call:
    """One request to a route: the query string, the path's parameters, the list format."""

    queries: DemoQueries
    query: Query
    path: dict[str, str]
    list_format: ListFormat = "any"

    def ids(self, name: str) -> list[str] | None:
        """The list parameter `name`, read in this call's list format."""
        return id_list(self.query, name, self.list_format)


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Route:
    """A path template, the permissions that open it (any one of them) and its handler."""

    template: str
    permissions: tuple[str, ...]
    handler: Handler

    @property
    def organization_scoped(self) -> bool:
        """Whether the path is one organization's (``/v3/organizations/{org_id}/...``)."""
        return self.template.startswith(ORGANIZATION_PREFIX)


def match(routes: tuple[Route, ...], path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving `path` (no query string) and the values of its path parameters."""
    segments = path.split("/")
    for route in routes:
        pattern = route.template.split("/")
        if len(pattern) != len(segments):
            continue
        values: dict[str, str] = {}
        for expected, actual in zip(pattern, segments, strict=True):
            if expected.startswith("{") and expected.endswith("}") and actual:
                values[expected[1:-1]] = unquote(actual)
            elif expected != actual:
                break
        else:
            return route, values
    return None


def authorize(grant: Grant, route: Route, path: str, values: dict[str, str]) -> None:
    """Refuse (403) a token outside its organization, or without any of the route's permissions.

    Raises
    ------
    RequestError
        A 403 naming the scope, or the permissions the route needs.
    """
    if grant.org_id is not None and (
        not route.organization_scoped or values.get("org_id") != grant.org_id
    ):
        detail = (
            f"Out of scope: this API key belongs to organization {grant.org_id}, and GET "
            f"{path} is outside it (an organization key only reaches "
            f"/v3/organizations/{grant.org_id}/...)"
        )
        raise RequestError(error(HTTPStatus.FORBIDDEN, detail))
    if grant.permissions.isdisjoint(route.permissions):
        needed, *others = route.permissions
        alternatives = f" (or {' or '.join(others)})" if others else ""
        level = "organization" if route.organization_scoped else "enterprise"
        detail = (
            f"Missing permission {needed}: GET {path} needs a service user with the {needed}"
            f"{alternatives} permission at {level} level"
        )
        raise RequestError(error(HTTPStatus.FORBIDDEN, detail))


# -- reading the query -------------------------------------------------------------------------


def _raise_if(errors: list[JsonObject]) -> None:
    if errors:
        raise RequestError(validation_error(errors))


def _required_window(call: Call, errors: list[JsonObject]) -> tuple[int, int]:
    """``time_before`` then ``time_after``, both required (errors collected in that order)."""
    time_before = required_integer(call.query, "time_before", errors)
    time_after = required_integer(call.query, "time_after", errors)
    return (time_after or 0), (time_before or 0)


def _optional_window(call: Call, errors: list[JsonObject]) -> tuple[int, int]:
    """``time_before`` then ``time_after``, optional: the current billing cycle up to now."""
    now = call.queries.now_timestamp
    time_before = optional_value(call.query, "time_before", _INTEGER, now, errors)
    time_after = optional_value(call.query, "time_after", _INTEGER, cycle_start(now), errors)
    return int(time_after), int(time_before)


def _window(call: Call) -> tuple[int, int]:
    errors: list[JsonObject] = []
    window = _required_window(call, errors)
    _raise_if(errors)
    call.queries.note_window_before_history(*window)
    return window


def _organization(call: Call) -> str:
    """The path's organization; 404 when the enterprise has none with that id."""
    org_id = call.path["org_id"]
    if org_id not in call.queries.aggregator.org_positions:
        raise RequestError(error(HTTPStatus.NOT_FOUND, f"Organization {org_id!r} not found"))
    return org_id


def _org_ids(call: Call) -> list[str] | None:
    """The organizations a metric covers: the path's, or the ``org_ids`` filter (None: all)."""
    return [_organization(call)] if "org_id" in call.path else call.ids("org_ids")


# -- the handlers ------------------------------------------------------------------------------


def _session_filters(call: Call) -> dict[str, Any]:
    """The filters sessions and PRs take: creators, organizations and a playbook."""
    return {
        "user_ids": call.ids("user_ids"),
        "service_user_ids": call.ids("service_user_ids"),
        "org_ids": _org_ids(call),
        "playbook_id": last(call.query, "playbook_id"),
    }


def _sessions(call: Call) -> JsonObject:
    return call.queries.session_metrics(*_window(call), **_session_filters(call))


def _prs(call: Call) -> JsonObject:
    return call.queries.pr_metrics(*_window(call), **_session_filters(call))


def _searches(call: Call) -> JsonObject:
    time_after, time_before = _window(call)
    return call.queries.search_metrics(time_after, time_before, org_ids=_org_ids(call))


def _usage(call: Call) -> JsonObject:
    errors: list[JsonObject] = []
    time_after, time_before = _optional_window(call, errors)
    _raise_if(errors)
    call.queries.note_window_before_history(time_after, time_before)
    org_ids = [_organization(call)] if "org_id" in call.path else None
    return call.queries.usage_metrics(time_after, time_before, org_ids=org_ids)


def _categories(call: Call) -> JsonObject:
    time_after, time_before = _window(call)
    return call.queries.sessions_by_category(time_after, time_before, org_ids=_org_ids(call))


def _active_users(period: Period | None) -> Handler:
    def handler(call: Call) -> Any:
        errors: list[JsonObject] = []
        time_after, time_before = _required_window(call, errors)
        org_ids = None if "org_id" in call.path else call.ids("org_ids")
        min_sessions = optional_value(
            call.query, "min_sessions", _THRESHOLD, DEFAULT_MIN_SESSIONS, errors
        )
        min_searches = optional_value(
            call.query, "min_searches", _THRESHOLD, DEFAULT_MIN_SEARCHES, errors
        )
        _raise_if(errors)
        call.queries.note_window_before_history(time_after, time_before)
        if "org_id" in call.path:
            org_ids = [_organization(call)]
        thresholds = {"min_sessions": min_sessions, "min_searches": min_searches}
        if period is None:
            return call.queries.active_users(time_after, time_before, org_ids=org_ids, **thresholds)
        try:
            return call.queries.active_users_by_period(
                time_after, time_before, period, org_ids=org_ids, **thresholds
            )
        except ValueError as too_many:
            raise RequestError(validation_error([_value_error(call, too_many)])) from None

    return handler


def _value_error(call: Call, problem: ValueError) -> JsonObject:
    """Pydantic's shape for a failed check of ``time_before``."""
    return {
        "type": "value_error",
        "loc": ["query", "time_before"],
        "msg": f"Value error, {problem}",
        "input": last(call.query, "time_before"),
        "ctx": {"error": str(problem)},
    }


def _consumption(kind: EntityKind | None) -> Handler:
    def handler(call: Call) -> JsonObject:
        errors: list[JsonObject] = []
        time_after, time_before = _optional_window(call, errors)
        _raise_if(errors)
        call.queries.note_window_before_history(time_after, time_before)
        return call.queries.daily_consumption(time_after, time_before, entity=_entity(call, kind))

    return handler


def _entity(call: Call, kind: EntityKind | None) -> Entity | None:
    """Whose consumption the path asks for; 404 for an id unknown (in the organization)."""
    org_id = _organization(call) if "org_id" in call.path else None
    if kind is None:
        return None if org_id is None else ("org", call.queries.aggregator.org_positions[org_id])
    aggregator = call.queries.aggregator
    enterprise = call.queries.enterprise
    identifier = call.path[f"{kind}_id"]
    position: int | None
    if kind == "user":
        position = aggregator.user_positions.get(identifier)
        org_index = None if position is None else enterprise.users[position].org_index
    elif kind == "service_user":
        position = aggregator.service_user_positions.get(identifier)
        org_index = None if position is None else enterprise.service_users[position].org_index
    else:
        position = enterprise.sessions.position_of(identifier)
        org_index = None if position is None else int(enterprise.sessions.org_index[position])
    in_scope = org_id is None or org_index == aggregator.org_positions[org_id]
    if position is None or not in_scope:
        where = "" if org_id is None else f" in organization {org_id}"
        name = kind.replace("_", " ").capitalize()
        raise RequestError(error(HTTPStatus.NOT_FOUND, f"{name} {identifier!r} not found{where}"))
    return kind, position


def _cycles(call: Call) -> JsonObject:
    after, first = page_parameters(call.query)
    items = [{**cycle, "id": str(cycle["after"])} for cycle in call.queries.billing_cycles()]
    listed = page(items, "id", after, first)
    listed["items"] = [{"after": c["after"], "before": c["before"]} for c in listed["items"]]
    return listed


def _directory(lister: Callable[[DemoQueries, Query], JsonObject]) -> Handler:
    return lambda call: lister(call.queries, call.query)


def _routes() -> tuple[Route, ...]:
    ent, org = ENTERPRISE_PREFIX, ORGANIZATION_PREFIX
    metrics = (VIEW_ACCOUNT_METRICS,)
    org_metrics = (VIEW_ORG_METRICS, VIEW_ACCOUNT_METRICS)
    billing = (MANAGE_BILLING,)
    per_entity: tuple[tuple[str, EntityKind], ...] = (
        ("users/{user_id}", "user"),
        ("service-users/{service_user_id}", "service_user"),
        ("sessions/{session_id}", "session"),
    )
    periods: tuple[tuple[str, Period | None], ...] = (
        ("active-users", None),
        ("dau", "day"),
        ("wau", "week"),
        ("mau", "month"),
    )
    routes = [
        Route(f"{ent}/metrics/sessions", metrics, _sessions),
        Route(f"{ent}/metrics/prs", metrics, _prs),
        Route(f"{ent}/metrics/usage", metrics, _usage),
        Route(f"{ent}/metrics/searches", metrics, _searches),
        *(Route(f"{ent}/metrics/{name}", metrics, _active_users(p)) for name, p in periods),
        Route(f"{ent}/metrics/sessions-by-category", metrics, _categories),
        Route(f"{ent}/organizations/{{org_id}}/metrics/usage", metrics, _usage),
        Route(f"{org}/metrics/sessions", org_metrics, _sessions),
        Route(f"{org}/metrics/prs", org_metrics, _prs),
        Route(f"{org}/metrics/usage", org_metrics, _usage),
        Route(f"{org}/metrics/searches", org_metrics, _searches),
        *(Route(f"{org}/metrics/{name}", org_metrics, _active_users(p)) for name, p in periods),
        Route(f"{ent}/consumption/cycles", billing, _cycles),
        Route(f"{ent}/consumption/daily", billing, _consumption(None)),
        Route(f"{ent}/consumption/daily/organizations/{{org_id}}", billing, _consumption(None)),
        *(Route(f"{ent}/consumption/daily/{p}", billing, _consumption(k)) for p, k in per_entity),
        Route(f"{org}/consumption/daily", billing, _consumption(None)),
        *(Route(f"{org}/consumption/daily/{p}", billing, _consumption(k)) for p, k in per_entity),
        Route(f"{ent}/organizations", (VIEW_ORGANIZATIONS,), _directory(_organizations)),
        Route(f"{ent}/members/users", (VIEW_ACCOUNT_MEMBERSHIP,), _directory(_users)),
        Route(f"{ent}/members/service-users", (VIEW_ACCOUNT_MEMBERSHIP,), _directory(_robots)),
        Route(f"{ent}/playbooks", (VIEW_PLAYBOOKS,), _directory(_playbooks)),
    ]
    return tuple(routes)


def _organizations(queries: DemoQueries, query: Query) -> JsonObject:
    return list_organizations(queries.enterprise, query)


def _users(queries: DemoQueries, query: Query) -> JsonObject:
    return list_users(queries.enterprise, query)


def _robots(queries: DemoQueries, query: Query) -> JsonObject:
    return list_service_users(queries.enterprise, queries.now_timestamp, query)


def _playbooks(queries: DemoQueries, query: Query) -> JsonObject:
    return list_playbooks(queries.enterprise, queries.now_timestamp, query)


ROUTES: Final = _routes()
"""Every route the simulator serves."""
