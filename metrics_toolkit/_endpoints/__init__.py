"""Every endpoint of the API as a declaration: path, scope, parameters, model, and how each
field combines over windows and groups.

An endpoint is data. One generic path (:meth:`MetricsClient.request
<metrics_toolkit.MetricsClient.request>`: scope -> checks -> window splitting -> answer store
-> transport -> model) serves every declaration, and the exact arithmetic of
:mod:`metrics_toolkit.combine` reads the field rules. Adding an endpoint is a model, a
declaration here and its demo support; no new control flow.

How a field combines (:class:`Rule`):

- ``SUM``: an event count; adds up over disjoint windows and over groups.
- ``MEAN``: a mean; re-weighted by its ``weight`` field (a count of the same answer).
- ``DISTINCT``: a count of distinct things (active users); never summed. A longer window or a
  union of groups must be asked for, so such an endpoint is never split.
- ``STATE``: a state as of now of the things created in the window (of its PRs, those open
  now); it adds up over creation windows and groups, as those things do.

A field the declaration does not name combines as its type says: integers (and nested counts)
add up; anything else is kept when every part agrees and is None otherwise. An endpoint whose
answers are lists (billing days, categories, DAU) is declared not ``combinable``: never split.

The two scopes of one metric are a :class:`Metric`: :data:`METRICS` (sessions, prs, usage,
searches, active_users, dau, wau, mau, categories, consumption, cycles) and
:data:`ENTITY_METRICS` (one organization's usage, and the consumption of one organization,
user, service user or session). A client scoped to an organization sends each call to its
organization's path (:func:`scoped`); what exists only at enterprise scope is refused before
any request.

The parameters of each path are the compiled OpenAPI document's (a test checks each
declaration against it). Time parameters are int Unix seconds, the window half-open
``[time_after, time_before)``; where the window is optional (usage, consumption) and left out,
the server answers for the current billing cycle (the v2 API's documented default).
"""

from __future__ import annotations

from ._base import Answer, Endpoint, FieldRule, Metric, Rule
from ._family import (
    ACTIVE_USERS,
    CONSUMPTION,
    CYCLES,
    DAILY_ACTIVE_USERS,
    ENDPOINTS,
    ENTITY_METRICS,
    METRICS,
    MONTHLY_ACTIVE_USERS,
    ORG_CONSUMPTION,
    ORG_USAGE,
    ORGANIZATIONS,
    PLAYBOOKS,
    PR_METRICS,
    SEARCH_METRICS,
    SERVICE_USER_CONSUMPTION,
    SERVICE_USERS,
    SESSION_CONSUMPTION,
    SESSION_METRICS,
    SESSIONS_BY_CATEGORY,
    USAGE_METRICS,
    USER_CONSUMPTION,
    USERS,
    VIEW_ACCOUNT_METRICS,
    WEEKLY_ACTIVE_USERS,
    scoped,
)

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
    "VIEW_ACCOUNT_METRICS",
    "WEEKLY_ACTIVE_USERS",
    "Answer",
    "Endpoint",
    "FieldRule",
    "Metric",
    "Rule",
    "scoped",
]
