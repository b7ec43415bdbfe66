"""The declarations: every endpoint of the metrics family at both scopes, the directory lists,
and how a call is sent at a client's scope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import _vocabulary as words
from ..errors import ScopeError
from ..models import (
    ActiveUserMetrics,
    ActiveUserSeries,
    APIModel,
    Consumption,
    ConsumptionCyclePage,
    OrganizationPage,
    PlaybookPage,
    PrMetrics,
    SearchMetrics,
    ServiceUserPage,
    SessionMetrics,
    SessionsByCategory,
    UsageMetrics,
    UserPage,
)
from ._base import Endpoint, FieldRule, Metric, Rule

__all__ = [
    "ACTIVE_USERS",
    "CONSUMPTION",
    "CYCLES",
    "DAILY_ACTIVE_USERS",
    "ENDPOINTS",
    "ENTITY_METRICS",
    "METRICS",
    "MONTHLY_ACTIVE_USERS",
    "ORGANIZATIONS",
    "ORG_CONSUMPTION",
    "ORG_USAGE",
    "PLAYBOOKS",
    "PR_METRICS",
    "SEARCH_METRICS",
    "SERVICE_USERS",
    "SERVICE_USER_CONSUMPTION",
    "SESSIONS_BY_CATEGORY",
    "SESSION_CONSUMPTION",
    "SESSION_METRICS",
    "USAGE_METRICS",
    "USERS",
    "USER_CONSUMPTION",
    "WEEKLY_ACTIVE_USERS",
    "scoped",
]

#: The permission the enterprise metrics endpoints need (a 403 names it).
VIEW_ACCOUNT_METRICS = words.VIEW_ACCOUNT_METRICS
#: Every candidate of the organization metrics paths: the English docs name ViewAccountMetrics
#: at organization level, the other editions ViewOrgMetrics; an enterprise token calls them too.
ORGANIZATION_METRICS = (
    f"{words.VIEW_ACCOUNT_METRICS} (enterprise or organization level)",
    f"{words.VIEW_ORG_METRICS} (organization level)",
)
#: Every candidate of the enterprise consumption paths (English docs: ManageBilling; the other
#: editions: ViewAccountConsumption).
ENTERPRISE_CONSUMPTION = (
    f"{words.MANAGE_BILLING} (enterprise level)",
    f"{words.VIEW_ACCOUNT_CONSUMPTION} (enterprise level)",
)
#: Every candidate of the organization consumption paths.
ORGANIZATION_CONSUMPTION = (
    f"{words.MANAGE_BILLING} (enterprise or organization level)",
    f"{words.VIEW_ACCOUNT_CONSUMPTION} (enterprise level)",
    f"{words.VIEW_ORG_CONSUMPTION} (organization level)",
)

ORG_IDS = words.KINDS["org"].filter_param
#: The filters of the sessions and PRs endpoints (users, service users: the session's creator).
SESSION_FILTERS = tuple(kind.filter_param for kind in words.KINDS.values())
#: The thresholds of the active-users endpoints (a user is active with either).
ACTIVE_OPTIONS = ("min_sessions", "min_searches")
#: The cursor pagination of a list.
PAGE_OPTIONS = ("first", "after")

ENTERPRISE_METRICS_PATH = "/v3/enterprise/metrics/"
ORGANIZATION_METRICS_PATH = "/v3/organizations/{org_id}/metrics/"
ENTERPRISE_CONSUMPTION_PATH = "/v3/enterprise/consumption/daily"
ORGANIZATION_CONSUMPTION_PATH = "/v3/organizations/{org_id}/consumption/daily"


def _metric(
    name: str,
    tail: str,
    model: type[APIModel],
    noun: str,
    *,
    filters: tuple[str, ...] = (),
    fields: Mapping[str, FieldRule] | None = None,
    enterprise_only: bool = False,
    **options: Any,
) -> Metric:
    """A metric of ``/v3/enterprise/metrics/<tail>`` and (unless ``enterprise_only``) its
    organization twin ``/v3/organizations/{org_id}/metrics/<tail>``, which takes no
    ``org_ids``."""
    common = {"windowed": True, "fields": fields or {}, "noun": noun, **options}
    enterprise = Endpoint(
        ENTERPRISE_METRICS_PATH + tail, model, VIEW_ACCOUNT_METRICS, filters=filters, **common
    )
    organization = Endpoint(
        ORGANIZATION_METRICS_PATH + tail,
        model,
        VIEW_ACCOUNT_METRICS,
        scope="organization",
        filters=tuple(name for name in filters if name != ORG_IDS),
        permissions=ORGANIZATION_METRICS,
        **common,
    )
    return Metric(name, enterprise, None if enterprise_only else organization)


def _consumption(name: str, enterprise_tail: str | None, organization_tail: str | None) -> Metric:
    """Daily consumption below ``/v3/enterprise/consumption/daily`` and
    ``/v3/organizations/{org_id}/consumption/daily`` (None: not at that scope)."""
    common: dict[str, Any] = {
        "windowed": True,
        "window_required": False,
        "combinable": False,  # a window is snapped to billing days: windows would overlap
        "noun": "consumption",
    }
    return Metric(
        name,
        None
        if enterprise_tail is None
        else Endpoint(
            ENTERPRISE_CONSUMPTION_PATH + enterprise_tail,
            Consumption,
            words.MANAGE_BILLING,
            permissions=ENTERPRISE_CONSUMPTION,
            **common,
        ),
        None
        if organization_tail is None
        else Endpoint(
            ORGANIZATION_CONSUMPTION_PATH + organization_tail,
            Consumption,
            words.MANAGE_BILLING,
            scope="organization",
            permissions=ORGANIZATION_CONSUMPTION,
            **common,
        ),
    )


_STATES = {
    words.PRS_OPENED: FieldRule(Rule.STATE),
    words.PRS_TAKEN_OVER_OPENED: FieldRule(Rule.STATE),
}
_ACTIVE: dict[str, Any] = {"filters": (ORG_IDS,), "options": ACTIVE_OPTIONS}
_USAGE: dict[str, Any] = {"window_required": False}

#: Every metric of the family by name, each at both scopes where it exists there.
METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        _metric(
            "sessions",
            "sessions",
            SessionMetrics,
            "session metrics",
            filters=SESSION_FILTERS,
            fields={words.AVERAGE: FieldRule(Rule.MEAN, weight=words.SESSIONS)},
        ),
        _metric("prs", "prs", PrMetrics, "PR metrics", filters=SESSION_FILTERS, fields=_STATES),
        _metric("usage", "usage", UsageMetrics, "usage metrics", **_USAGE),
        _metric("searches", "searches", SearchMetrics, "search metrics", filters=(ORG_IDS,)),
        _metric(
            "active_users",
            "active-users",
            ActiveUserMetrics,
            "active users",
            fields={words.ACTIVE_USERS: FieldRule(Rule.DISTINCT)},
            **_ACTIVE,
        ),
        _metric("dau", "dau", ActiveUserSeries, "daily active users", combinable=False, **_ACTIVE),
        _metric("wau", "wau", ActiveUserSeries, "weekly active users", combinable=False, **_ACTIVE),
        _metric(
            "mau", "mau", ActiveUserSeries, "monthly active users", combinable=False, **_ACTIVE
        ),
        _metric(
            "categories",
            "sessions-by-category",
            SessionsByCategory,
            "sessions by category",
            filters=(ORG_IDS,),
            combinable=False,
            enterprise_only=True,
        ),
        _consumption("consumption", "", ""),
        Metric(
            "cycles",
            Endpoint(
                "/v3/enterprise/consumption/cycles",
                ConsumptionCyclePage,
                words.MANAGE_BILLING,
                options=PAGE_OPTIONS,
                noun="billing cycles",
                permissions=ENTERPRISE_CONSUMPTION,
            ),
            None,
        ),
    )
}

#: The same metrics for one organization, user, service user or session (the id in the path).
#: ``org_usage`` is an organization's usage with an enterprise token; an organization-scoped
#: client asks its own organization's usage instead.
ENTITY_METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric(
            "org_usage",
            Endpoint(
                "/v3/enterprise/organizations/{org_id}/metrics/usage",
                UsageMetrics,
                VIEW_ACCOUNT_METRICS,
                windowed=True,
                window_required=False,
                noun="usage metrics",
            ),
            METRICS["usage"].organization,
        ),
        _consumption("org_consumption", "/organizations/{org_id}", ""),
        _consumption("user_consumption", "/users/{user_id}", "/users/{user_id}"),
        _consumption(
            "service_user_consumption",
            "/service-users/{service_user_id}",
            "/service-users/{service_user_id}",
        ),
        _consumption("session_consumption", "/sessions/{session_id}", "/sessions/{session_id}"),
    )
}


def _enterprise(metrics: Mapping[str, Metric], name: str) -> Endpoint[Any]:
    endpoint = metrics[name].enterprise
    assert endpoint is not None
    return endpoint


SESSION_METRICS: Endpoint[SessionMetrics] = _enterprise(METRICS, "sessions")
PR_METRICS: Endpoint[PrMetrics] = _enterprise(METRICS, "prs")
USAGE_METRICS: Endpoint[UsageMetrics] = _enterprise(METRICS, "usage")
SEARCH_METRICS: Endpoint[SearchMetrics] = _enterprise(METRICS, "searches")
ACTIVE_USERS: Endpoint[ActiveUserMetrics] = _enterprise(METRICS, "active_users")
DAILY_ACTIVE_USERS: Endpoint[ActiveUserSeries] = _enterprise(METRICS, "dau")
WEEKLY_ACTIVE_USERS: Endpoint[ActiveUserSeries] = _enterprise(METRICS, "wau")
MONTHLY_ACTIVE_USERS: Endpoint[ActiveUserSeries] = _enterprise(METRICS, "mau")
SESSIONS_BY_CATEGORY: Endpoint[SessionsByCategory] = _enterprise(METRICS, "categories")
CONSUMPTION: Endpoint[Consumption] = _enterprise(METRICS, "consumption")
CYCLES: Endpoint[ConsumptionCyclePage] = _enterprise(METRICS, "cycles")
ORG_USAGE: Endpoint[UsageMetrics] = _enterprise(ENTITY_METRICS, "org_usage")
ORG_CONSUMPTION: Endpoint[Consumption] = _enterprise(ENTITY_METRICS, "org_consumption")
USER_CONSUMPTION: Endpoint[Consumption] = _enterprise(ENTITY_METRICS, "user_consumption")
SERVICE_USER_CONSUMPTION: Endpoint[Consumption] = _enterprise(
    ENTITY_METRICS, "service_user_consumption"
)
SESSION_CONSUMPTION: Endpoint[Consumption] = _enterprise(ENTITY_METRICS, "session_consumption")

ORGANIZATIONS = Endpoint(
    "/v3/enterprise/organizations",
    OrganizationPage,
    "ViewOrganizations",
    options=PAGE_OPTIONS,
    noun="the organizations list",
)
USERS = Endpoint(
    "/v3/enterprise/members/users",
    UserPage,
    "ViewAccountMembership",
    options=(*PAGE_OPTIONS, "email"),
    noun="the users list",
)
SERVICE_USERS = Endpoint(
    "/v3/enterprise/members/service-users",
    ServiceUserPage,
    "ViewAccountMembership",
    options=(*PAGE_OPTIONS, "include_inactive"),
    noun="the service users list",
)
PLAYBOOKS = Endpoint(
    "/v3/enterprise/playbooks",
    PlaybookPage,
    "ViewPlaybooks",
    options=PAGE_OPTIONS,
    noun="the playbooks list",
)

#: Every declared endpoint, by a short name: a metric's enterprise endpoint by the metric's
#: name, its organization endpoint as ``organization.<name>``, and the directory lists.
ENDPOINTS: dict[str, Endpoint[Any]] = {}


def _declared() -> dict[str, Endpoint[Any]]:
    """Every endpoint once, by a short name (a twin shared by two metrics under the first)."""
    named: dict[str, Endpoint[Any]] = {}
    for prefix, scope in (("", words.ENTERPRISE), ("organization.", words.ORGANIZATION)):
        for metric in (*METRICS.values(), *ENTITY_METRICS.values()):
            endpoint = metric.at(scope)
            if endpoint is not None and endpoint not in named.values():
                named[prefix + metric.name] = endpoint
    lists = (ORGANIZATIONS, USERS, SERVICE_USERS, PLAYBOOKS)
    named.update(zip(("organizations", "users", "service_users", "playbooks"), lists, strict=True))
    return named


ENDPOINTS.update(_declared())

#: The organization twin of each enterprise endpoint (None: enterprise scope only).
_TWINS: dict[str, Endpoint[Any] | None] = {
    endpoint.path: metric.organization
    for metric in (*METRICS.values(), *ENTITY_METRICS.values())
    if (endpoint := metric.enterprise) is not None
}


def scoped(
    endpoint: Endpoint[Any], params: Mapping[str, Any], org_id: str | None
) -> tuple[Endpoint[Any], Mapping[str, Any]]:
    """The endpoint and parameters a client sends for a call, at its scope.

    An enterprise client (``org_id`` None) sends the call as it is. A client scoped to
    organization ``org_id`` sends a call for an enterprise endpoint to the same metric's
    organization path, its ``org_id`` filled in, and an organization path with its own
    ``org_id``.

    Parameters
    ----------
    endpoint : Endpoint
        The declaration called.
    params : mapping
        The call's parameters (a placeholder's value among them).
    org_id : str, optional
        The organization the client is scoped to; None for enterprise scope.

    Raises
    ------
    ScopeError
        Before any request, at organization scope: for what exists only at enterprise scope
        (billing cycles, sessions by category, the directory lists, one organization's
        consumption), an ``org_ids`` filter, or another organization's ``org_id``.
    """
    if org_id is None:
        return endpoint, params
    scope = f"this client is scoped to organization {org_id}"
    given = params.get("org_id")
    if given is not None and given != org_id:
        raise ScopeError("org_id", f"{given!r} is another organization; {scope}")
    if endpoint.scope == words.ORGANIZATION:
        return endpoint, {**params, "org_id": org_id}
    twin = _TWINS.get(endpoint.path)
    if twin is None:
        raise ScopeError(
            "org_id", f"{endpoint.path} ({endpoint.noun}) exists only at enterprise scope; {scope}"
        )
    for name, value in params.items():
        taken = name in twin.query_parameters or name in twin.placeholders
        if value is not None and not taken:
            what = "a filter by organization" if name == ORG_IDS else f"{name!r}"
            raise ScopeError(name, f"{what} exists only at enterprise scope; {scope}")
    return twin, {**params, "org_id": org_id}
