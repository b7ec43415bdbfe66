"""Every endpoint of the API as a declaration: path, scope, parameters, model, and how each
field combines over windows and groups.

An endpoint is data. One generic path (:meth:`MetricsClient.request
<metrics_toolkit.MetricsClient.request>`: checks -> window splitting -> answer store ->
transport -> model) serves every declaration, and the exact arithmetic of
:mod:`metrics_toolkit.combine` reads the field rules. Adding an endpoint is a model, a
declaration here and its demo support; no new control flow.

How a field combines (:class:`Rule`):

- ``SUM``: an event count; adds up over disjoint windows and over groups.
- ``MEAN``: a mean; re-weighted by its ``weight`` field (a count of the same answer).
- ``DISTINCT``: a count of distinct things (active users); never summed. A longer window or a
  union of groups must be asked for, so such an endpoint is never split.
- ``STATE``: a point-in-time state (PRs currently open); the latest window's value.

A field the declaration does not name combines as its type says: integers (and nested counts)
add up; anything else is kept when every part agrees and is None otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Literal, TypeVar

from . import _vocabulary as words
from .models import (
    APIModel,
    OrganizationPage,
    PlaybookPage,
    SearchMetrics,
    ServiceUserPage,
    SessionMetrics,
    UserPage,
)

__all__ = [
    "ENDPOINTS",
    "ORGANIZATIONS",
    "PLAYBOOKS",
    "SEARCH_METRICS",
    "SERVICE_USERS",
    "SESSION_METRICS",
    "USERS",
    "Answer",
    "Endpoint",
    "FieldRule",
    "Rule",
]

ModelT = TypeVar("ModelT", bound=APIModel)

#: The permission the metrics endpoints need (a 403 names it).
VIEW_ACCOUNT_METRICS = "ViewAccountMetrics"


class Rule(Enum):
    """How one field of an answer combines over adjacent windows and over groups."""

    SUM = "sum"
    MEAN = "mean"
    DISTINCT = "distinct"
    STATE = "state"


@dataclass(frozen=True)
class FieldRule:
    """A field's :class:`Rule`, and for a mean the count it is weighted by."""

    rule: Rule
    weight: str | None = None

    def __post_init__(self) -> None:
        if (self.rule is Rule.MEAN) != (self.weight is not None):
            raise ValueError("a MEAN rule needs its weight field, and only a MEAN rule has one")


@dataclass(frozen=True)
class Endpoint(Generic[ModelT]):
    """One GET endpoint of the API, declared.

    Parameters
    ----------
    path : str
        The path below the base URL, starting with ``/``.
    model : type
        The pydantic model of its 200 body.
    permission : str
        The permission a 403 names.
    scope : {"enterprise", "organization"}, default "enterprise"
        Whose data the path answers for.
    windowed : bool, default False
        The answer covers ``[time_after, time_before)`` (int Unix seconds in the query): how
        long it is stored follows :class:`~metrics_toolkit.cache.CachePolicy`, and a window
        longer than the client's ``max_window`` is split when every field can be combined.
        Otherwise (lists) it is kept for the client's ``directory_ttl``.
    filters : tuple of str, default ()
        The filter parameters it takes besides the window (``org_ids``, ...).
    fields : mapping of str to FieldRule, default {}
        How the fields that are not plain counts combine (see the module docstring).
    noun : str, default "answers"
        What its answers are called in progress bars and messages (``"session metrics"``).
    """

    path: str
    model: type[ModelT]
    permission: str
    scope: Literal["enterprise", "organization"] = "enterprise"
    windowed: bool = False
    filters: tuple[str, ...] = ()
    fields: Mapping[str, FieldRule] = field(default_factory=dict)
    noun: str = "answers"

    @property
    def splittable(self) -> bool:
        """Whether adjacent windows' answers combine exactly into the answer of their union."""
        return self.windowed and all(r.rule is not Rule.DISTINCT for r in self.fields.values())


@dataclass(frozen=True)
class Answer(Generic[ModelT]):
    """A parsed 200 answer and how it was obtained."""

    data: ModelT
    """The payload."""
    from_cache: bool
    """Whether it came from the answer store (no request sent)."""
    attempts: int
    """Requests sent for it (0 when from the store)."""


SESSION_FILTERS = tuple(kind.filter_param for kind in words.KINDS.values())

SESSION_METRICS = Endpoint(
    "/v3/enterprise/metrics/sessions",
    SessionMetrics,
    VIEW_ACCOUNT_METRICS,
    windowed=True,
    filters=SESSION_FILTERS,
    fields={words.AVERAGE: FieldRule(Rule.MEAN, weight=words.SESSIONS)},
    noun="session metrics",
)
SEARCH_METRICS = Endpoint(
    "/v3/enterprise/metrics/searches",
    SearchMetrics,
    VIEW_ACCOUNT_METRICS,
    windowed=True,
    filters=(words.KINDS["org"].filter_param,),
    noun="search metrics",
)
ORGANIZATIONS = Endpoint("/v3/enterprise/organizations", OrganizationPage, "ViewOrganizations")
USERS = Endpoint("/v3/enterprise/members/users", UserPage, "ViewAccountMembership")
SERVICE_USERS = Endpoint(
    "/v3/enterprise/members/service-users", ServiceUserPage, "ViewAccountMembership"
)
PLAYBOOKS = Endpoint("/v3/enterprise/playbooks", PlaybookPage, "ViewPlaybooks")

#: Every declared endpoint, by a short name.
ENDPOINTS: dict[str, Endpoint[Any]] = {
    "sessions": SESSION_METRICS,
    "searches": SEARCH_METRICS,
    "organizations": ORGANIZATIONS,
    "users": USERS,
    "service_users": SERVICE_USERS,
    "playbooks": PLAYBOOKS,
}
