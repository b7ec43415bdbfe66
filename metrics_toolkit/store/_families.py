"""What the store keeps: one table per metric family and grain, and the breakdowns each takes.

Additive families (sessions, PRs, searches, usage, sessions by category) are kept per day of
the store's zone and rolled up when read. Active users are distinct counts, never summed: they
are asked and kept per day, per week and per month of the store's zone, each its own table.
Consumption stays in billing days (08:00 UTC to 08:00 UTC), whatever the store's zone.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from .._endpoints import METRICS
from .._vocabulary import ACTIVE_USERS, BREAKDOWNS, KINDS
from ..errors import InvalidParameterError, ScopeError
from ..fetch import series_endpoint
from ..periods import CONSUMPTION_BY

__all__ = [
    "ACTIVE_USERS",
    "BILLING_DAY",
    "CONSUMPTION",
    "FAMILIES",
    "METRIC_NAMES",
    "Family",
    "families",
    "families_for",
    "family_of",
]

BILLING_DAY = "billing day"
CONSUMPTION = "consumption"


@dataclass(frozen=True)
class Family:
    """One table of the store (per breakdown).

    Attributes
    ----------
    metric : str
        The metric, as ``fetch_series(metric=...)`` names it, or ``"consumption"``.
    grain : {"day", "week", "month", "billing day"}
        What one row covers: a day, week or month of the store's zone, or a billing day.
    """

    metric: str
    grain: str

    @property
    def name(self) -> str:
        """The table's name without a breakdown: the metric, with its grain when it is not
        the day (``"active_users_week"``)."""
        return self.metric if self.grain in ("day", BILLING_DAY) else f"{self.metric}_{self.grain}"

    def table(self, by: str | None) -> str:
        """The table of this family and breakdown (``"sessions_by_user"``)."""
        return self.name if by is None else f"{self.name}_by_{by}"

    def at_organization(self) -> bool:
        """Whether a client scoped to one organization can keep it (categories: no)."""
        return METRICS[self.metric].organization is not None

    def takes(self, by: str | None) -> bool:
        """Whether this family can be kept by ``by`` (None: always)."""
        if by is None:
            return True
        if self.metric == CONSUMPTION:
            return by in CONSUMPTION_BY
        if self.metric == "usage":
            return by == KINDS["org"].name  # each organization's own usage
        return BREAKDOWNS[by] in series_endpoint(self.metric).filters


#: Every family, in the order a sync keeps them.
FAMILIES: tuple[Family, ...] = (
    Family("sessions", "day"),
    Family("prs", "day"),
    Family("searches", "day"),
    Family("usage", "day"),
    Family("categories", "day"),
    Family(ACTIVE_USERS, "day"),
    Family(ACTIVE_USERS, "week"),
    Family(ACTIVE_USERS, "month"),
    Family(CONSUMPTION, BILLING_DAY),
)
#: The names ``metrics=`` takes (active users stand for their three grains).
METRIC_NAMES: tuple[str, ...] = tuple(dict.fromkeys(family.metric for family in FAMILIES))


def families(
    metrics: Sequence[str] | None,
    by: str | None,
    *,
    enterprise: bool = True,
    parameter: str = "metrics",
) -> list[Family]:
    """The families a sync keeps: those of ``metrics`` (default: every one that can be kept
    by ``by`` at the client's scope).

    Raises
    ------
    InvalidParameterError
        For an unknown name (with the closest, naming ``parameter``), none, an unknown ``by``,
        or a family named that cannot be kept by ``by`` or at an organization's scope.
    """
    if by is not None and by not in BREAKDOWNS:
        raise InvalidParameterError(
            "by", f"got {by!r}; expected None or one of {', '.join(map(repr, BREAKDOWNS))}"
        )
    if metrics is None:
        return [f for f in FAMILIES if f.takes(by) and (enterprise or f.at_organization())]
    if isinstance(metrics, str):
        metrics = [metrics]
    if not metrics:
        raise InvalidParameterError(
            parameter, f"got none; expected some of {', '.join(map(repr, METRIC_NAMES))}"
        )
    for name in metrics:
        if name not in METRIC_NAMES:
            close = difflib.get_close_matches(str(name), METRIC_NAMES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InvalidParameterError(
                parameter,
                f"got {name!r}; expected one of {', '.join(map(repr, METRIC_NAMES))}{hint}",
            )
    chosen = [family for family in FAMILIES if family.metric in metrics]
    for family in chosen:
        if not family.takes(by):
            raise InvalidParameterError(
                "by", f"{family.metric} cannot be kept by {by!r}; leave it out of metrics"
            )
        if not enterprise and not family.at_organization():
            raise ScopeError(
                parameter,
                f"{family.metric} exists only at enterprise scope; this client is scoped to "
                "one organization",
            )
    return chosen


def families_for(client: object, metrics: Sequence[str] | None, by: str | None) -> list[Family]:
    """:func:`families` at the client's scope (``client.org_id``), where a breakdown, whose
    groups come from the directory, exists only at enterprise scope.

    Raises
    ------
    InvalidParameterError, ScopeError
        As :func:`families`; and ``by`` from a client scoped to one organization.
    """
    org_id = getattr(client, "org_id", None)
    chosen = families(metrics, by, enterprise=org_id is None)
    if by is not None and org_id is not None:
        raise ScopeError(
            "by",
            "a breakdown lists its groups from the directory, which exists only at enterprise "
            f"scope; this client is scoped to organization {org_id}",
        )
    return chosen


def family_of(metric: str, freq: str) -> Family:
    """The family that holds ``metric``: its own grain for active users (``freq`` day, week
    or month), else its only one.

    Raises
    ------
    InvalidParameterError
        For an unknown metric, or active users at a grain the store does not keep.
    """
    if metric not in METRIC_NAMES:
        families([metric], None, parameter="metric")  # raises, with the closest name
    if metric != ACTIVE_USERS:
        return next(family for family in FAMILIES if family.metric == metric)
    for family in FAMILIES:
        if family.metric == metric and family.grain == freq:
            return family
    grains = [family.grain for family in FAMILIES if family.metric == metric]
    raise InvalidParameterError(
        "freq",
        f"got {freq!r}; active users are distinct counts, never summed: the store keeps them "
        f"per {', '.join(grains)} only",
    )
