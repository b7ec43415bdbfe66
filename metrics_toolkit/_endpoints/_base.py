"""What a declaration is: :class:`Endpoint`, its field rules, the :class:`Metric` that pairs
the two scopes of one metric, and :class:`Answer`."""

from __future__ import annotations

import functools
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import quote

from .._vocabulary import ENTERPRISE, ORGANIZATION
from ..errors import InvalidParameterError
from ..models import APIModel

__all__ = ["Answer", "Endpoint", "FieldRule", "Metric", "Rule"]

ModelT = TypeVar("ModelT", bound=APIModel)

#: Values a path segment may not take: they would move the path up or nowhere.
_DOT_SEGMENTS = frozenset({".", ".."})


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
        The path below the base URL, starting with ``/``. It may hold placeholders
        (``{org_id}``, ``{user_id}``, ``{service_user_id}``, ``{session_id}``): each is filled
        from the call's parameter of that name, quoted, and leaves the query.
    model : type
        The pydantic model of its 200 body.
    permission : str
        The permission the English docs name for it (a 403 keeps it as ``permission``).
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
        How the fields that are not plain counts combine (see the package docstring).
    noun : str, default "answers"
        What its answers are called in progress bars and messages (``"session metrics"``).
    window_required : bool, default True
        For a windowed endpoint, whether the window must be sent. When it may be left out the
        server answers for the current billing cycle (the v2 API's documented default).
    options : tuple of str, default ()
        Its other query parameters (``min_sessions``, ``first``, ``after``, ...).
    combinable : bool, default True
        Whether answers of adjacent windows combine field by field. False for answers of lists
        (consumption's billing days, categories, DAU): such an endpoint is never split.
    permissions : tuple of str, default ()
        Every permission that may be the one a 403 means, with its level
        (``"ViewOrgMetrics (organization level)"``): the editions of the docs disagree, and a
        403 names them all. Default: ``permission`` at the endpoint's scope.
    """

    path: str
    model: type[ModelT]
    permission: str
    scope: Literal["enterprise", "organization"] = "enterprise"
    windowed: bool = False
    filters: tuple[str, ...] = ()
    fields: Mapping[str, FieldRule] = field(default_factory=dict)
    noun: str = "answers"
    window_required: bool = True
    options: tuple[str, ...] = ()
    combinable: bool = True
    permissions: tuple[str, ...] = ()

    @property
    def splittable(self) -> bool:
        """Whether adjacent windows' answers combine exactly into the answer of their union."""
        return (
            self.windowed
            and self.combinable
            and all(r.rule is not Rule.DISTINCT for r in self.fields.values())
        )

    @property
    def window(self) -> Literal["required", "optional", "none"]:
        """Whether ``time_after``/``time_before`` must be sent, may be, or are not taken."""
        if not self.windowed:
            return "none"
        return "required" if self.window_required else "optional"

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The parameters its path takes, in order: ``("org_id", "user_id")``."""
        return _placeholders(self.path)

    @property
    def query_parameters(self) -> tuple[str, ...]:
        """Every query parameter it takes: the window, then filters and options."""
        window = ("time_after", "time_before") if self.windowed else ()
        return (*window, *self.filters, *self.options)

    @property
    def candidates(self) -> tuple[str, ...]:
        """Every permission a 403 names, with its level."""
        return self.permissions or (f"{self.permission} ({self.scope} level)",)

    def fill(self, params: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
        """The path with its placeholders filled from ``params``, and the rest of ``params``
        (the query).

        Each value is one id string, quoted whole (a ``/`` cannot add a segment).

        Raises
        ------
        InvalidParameterError
            When a placeholder's parameter is missing, not a string, empty, ``.`` or ``..``.
        """
        names = self.placeholders
        if not names:
            return self.path, params
        query = dict(params)
        values = {}
        for name in names:
            value = query.pop(name, None)
            if not isinstance(value, str) or not value.strip() or value in _DOT_SEGMENTS:
                raise InvalidParameterError(
                    name, f"got {value!r}; {self.path} needs one id string for it"
                )
            values[name] = quote(value, safe="")
        return self.path.format(**values), query


@functools.lru_cache(maxsize=256)
def _placeholders(path: str) -> tuple[str, ...]:
    """The ``{name}`` placeholders of a path, in order."""
    return tuple(name for _, name, _, _ in string.Formatter().parse(path) if name)


@dataclass(frozen=True)
class Metric:
    """One metric at both scopes: the endpoint an enterprise client calls and the one a client
    scoped to an organization calls (None where the metric does not exist at that scope).

    Examples
    --------
    >>> from metrics_toolkit._endpoints import METRICS
    >>> METRICS["sessions"].at("organization").path
    '/v3/organizations/{org_id}/metrics/sessions'
    >>> METRICS["cycles"].organization is None
    True
    """

    name: str
    """What the client calls it: ``"sessions"``, ``"dau"``, ``"consumption"``."""
    enterprise: Endpoint[Any] | None
    """The endpoint for an enterprise-scoped client."""
    organization: Endpoint[Any] | None
    """The endpoint for a client scoped to one organization (its path takes ``{org_id}``)."""

    def at(self, scope: str) -> Endpoint[Any] | None:
        """The endpoint at ``scope`` (``"enterprise"`` or ``"organization"``), or None."""
        if scope == ENTERPRISE:
            return self.enterprise
        if scope == ORGANIZATION:
            return self.organization
        raise ValueError(f"no scope {scope!r}; expected {ENTERPRISE!r} or {ORGANIZATION!r}")


@dataclass(frozen=True)
class Answer(Generic[ModelT]):
    """A parsed 200 answer and how it was obtained."""

    data: ModelT
    """The payload."""
    from_cache: bool
    """Whether it came from the answer store (no request sent)."""
    attempts: int
    """Requests sent for it (0 when from the store)."""
