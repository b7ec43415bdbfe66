"""Pydantic models of the API's payloads.

Field names are exactly the API's. Every model keeps fields it does not know (``extra="allow"``):
a new origin, a new size or a new metric from the server is kept and reaches the DataFrame as a
column, never dropped and never an error. Counts are strict integers: a body that sends ``"3"``
or ``true`` for a count breaks the schema and is reported, not silently coerced.

Each field is documented by the docstring below it, for readers, IDEs and ``help()``. They are
not copied into pydantic's field descriptions (``use_attribute_docstrings``): that reads and
tokenises this file's source in every process, 80 ms of ``import metrics_toolkit``, for
descriptions nothing here uses.

A metrics answer (:class:`MetricsAnswer`) is short in a notebook: ``repr`` names its window and
its numbers in one line, and Jupyter shows it as a small table of its fields.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from ._vocabulary import ID_FIELDS, ORIGINS, SIZES, origin_label, size_label

__all__ = [
    "ID_FIELDS",
    "ORIGINS",
    "SIZES",
    "APIModel",
    "DirectoryModel",
    "HTTPValidationError",
    "MetricsAnswer",
    "Organization",
    "OrganizationPage",
    "Page",
    "Playbook",
    "PlaybookPage",
    "Role",
    "RoleAssignment",
    "SearchMetrics",
    "ServiceUser",
    "ServiceUserPage",
    "SessionCountsByOrigin",
    "SessionCountsBySize",
    "SessionMetrics",
    "User",
    "UserPage",
    "ValidationErrorItem",
]


class APIModel(BaseModel):
    """Base of every payload model: unknown fields kept, counts strict, instances frozen."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)


class SessionCountsByOrigin(APIModel):
    """Sessions created, counted by where they were started. Unknown origins are kept."""

    __pydantic_extra__: dict[str, int] = Field(init=False)  # type: ignore[assignment]

    api: int = 0
    """Sessions started through the API."""
    automation: int = 0
    """Sessions started by automations (scheduled sessions are counted here)."""
    code_scan: int = 0
    """Sessions started by a code scan."""
    desktop: int = 0
    """Sessions started from the desktop app."""
    jira: int = 0
    """Sessions started from Jira."""
    linear: int = 0
    """Sessions started from Linear."""
    slack: int = 0
    """Sessions started from Slack."""
    teams: int = 0
    """Sessions started from Microsoft Teams."""
    webapp: int = 0
    """Sessions started in the Devin web app."""


class SessionCountsBySize(APIModel):
    """Sessions counted by size, XS to XL (a composite of ACUs and user messages)."""

    __pydantic_extra__: dict[str, int] = Field(init=False)  # type: ignore[assignment]

    xs: int = 0
    """Extra-small sessions."""
    s: int = 0
    """Small sessions."""
    m: int = 0
    """Medium sessions."""
    l: int = 0  # noqa: E741 - the API's field name
    """Large sessions (flagged as unhealthy in Devin's insights)."""
    xl: int = 0
    """Extra-large sessions (flagged as unhealthy in Devin's insights)."""


#: How the entries of each kind of nested counts are named in a table people read.
_ENTRY_LABELS: dict[type[BaseModel], Callable[[str], str]] = {
    SessionCountsByOrigin: origin_label,
    SessionCountsBySize: size_label,
}


class MetricsAnswer(APIModel):
    """Base of the metrics answers: totals over one half-open window, short in a notebook.

    The window ``[time_after, time_before)`` an answer covers is kept beside its fields, not as
    one: a client call notes it, and ``repr`` and the table a notebook shows
    (``_repr_html_``) name it. ``model_dump``, JSON and equality ignore it, and an answer
    built from a payload (``model_validate``) or combined from others has none.

    ``repr`` shows the window and each number, and for nested counts only how many there are:
    ``client.search_metrics("2026-11-23", "2026-11-30")`` shows as
    ``SearchMetrics(window=[2026-11-23, 2026-11-30) UTC, searches_created_count=593)``. The
    HTML table shows every field, counts with thousands separators, averages with two decimals
    and nested counts by their labels (``Web app 282 · Slack 325``).

    Examples
    --------
    >>> answer = SearchMetrics.model_validate({"searches_created_count": 1234})
    >>> answer, answer.window
    (SearchMetrics(searches_created_count=1234), None)
    >>> print(answer._repr_html_())  # doctest: +NORMALIZE_WHITESPACE
    <table class="mt-answer"><caption>SearchMetrics</caption><tr><th
    style="text-align:left">searches_created_count</th><td
    style="text-align:right">1,234</td></tr></table>
    """

    _window: tuple[int, int] | None = PrivateAttr(default=None)

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime] | None:
        """The half-open window ``[start, end)`` answered, as tz-aware UTC datetimes; None when
        unknown (built from a payload, or combined from several answers)."""
        if self._window is None:
            return None
        start, end = self._window
        return (
            dt.datetime.fromtimestamp(start, dt.timezone.utc),
            dt.datetime.fromtimestamp(end, dt.timezone.utc),
        )

    def _note_window(self, params: Mapping[str, Any]) -> None:
        """Keep the window of the query ``params`` this answers: its ``time_after`` and
        ``time_before`` in Unix seconds; anything else leaves the window unknown."""
        after, before = params.get("time_after"), params.get("time_before")
        if type(after) is int and type(before) is int:
            self._window = (after, before)

    def window_text(self) -> str | None:
        """The window for reading: ``"[2026-11-23, 2026-11-30) UTC"``, with the time of day
        when a bound is not at midnight (``"[2026-11-23 06:00, 2026-11-23 12:00) UTC"``); None
        when unknown."""
        window = self.window
        if window is None:
            return None
        if any(bound.second for bound in window):
            shape = "%Y-%m-%d %H:%M:%S"
        elif any(bound.hour or bound.minute for bound in window):
            shape = "%Y-%m-%d %H:%M"
        else:
            shape = "%Y-%m-%d"
        start, end = (bound.strftime(shape) for bound in window)
        return f"[{start}, {end}) UTC"

    def _items(self) -> Iterator[tuple[str, Any]]:
        """Every field, the documented ones first, then those the server added."""
        for name in type(self).model_fields:
            yield name, getattr(self, name)
        yield from (self.model_extra or {}).items()

    def __eq__(self, other: object) -> bool:
        # the same numbers are the same answer, whatever window was noted beside them
        if isinstance(other, MetricsAnswer) and type(other) is type(self):
            return self.__dict__ == other.__dict__ and (self.model_extra or {}) == (
                other.model_extra or {}
            )
        return super().__eq__(other)

    def __repr__(self) -> str:
        window = self.window_text()
        parts = [] if window is None else [f"window={window}"]
        parts += [f"{name}={_short(value)}" for name, value in self._items()]
        return f"{type(self).__name__}({', '.join(parts)})"

    __str__ = __repr__

    def _repr_html_(self) -> str:
        caption = html.escape(type(self).__name__)
        window = self.window_text()
        if window is not None:
            caption += f" &middot; {html.escape(window)}"
        rows = "".join(
            f'<tr><th style="text-align:left">{html.escape(name)}</th>'
            f'<td style="text-align:{"left" if isinstance(value, BaseModel) else "right"}">'
            f"{html.escape(_cell(value))}</td></tr>"
            for name, value in self._items()
        )
        return f'<table class="mt-answer"><caption>{caption}</caption>{rows}</table>'


def _short(value: Any) -> str:
    """A field's value in a one-line repr: numbers as they are (floats to 3 decimals), nested
    counts by how many there are."""
    if isinstance(value, BaseModel):
        return f"<{len(value.model_dump())} counts>"
    if isinstance(value, (dict, list)):
        return f"<{len(value)} entries>"
    if isinstance(value, float):
        return repr(round(value, 3))
    return repr(value)


def _cell(value: Any) -> str:
    """A field's value in a table people read: ``1,069``, ``6.75``, ``Web app 219 · Slack 300``."""
    if isinstance(value, BaseModel):
        label = _ENTRY_LABELS.get(type(value), str)
        counts = value.model_dump().items()
        return " · ".join(f"{label(key)} {_cell(count)}" for key, count in counts)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


class SessionMetrics(MetricsAnswer):
    """Totals over one half-open window ``[time_after, time_before)`` for the given filters."""

    sessions_created_count: int
    """Sessions created in the window."""
    sessions_created_by_origin: SessionCountsByOrigin
    """Sessions created in the window, by origin."""
    sessions_created_by_size: SessionCountsBySize
    """Sessions created in the window, by size."""
    sessions_created_with_playbook_count: int
    """Sessions created in the window with a playbook."""
    sessions_created_with_search_count: int
    """Sessions created in the window that used search."""
    sessions_with_merged_prs_count: int
    """Sessions created in the window whose PR has been merged (so far: this still grows)."""
    sessions_with_merged_prs_by_size: SessionCountsBySize
    """Sessions created in the window with a merged PR, by size."""
    avg_acus_per_session: float
    """Mean ACUs (Agent Compute Units) per session created in the window; 0 when none."""


class SearchMetrics(MetricsAnswer):
    """Searches over one half-open window ``[time_after, time_before)`` for the given filters."""

    searches_created_count: int
    """Searches (Ask Devin queries) made in the window."""


class ValidationErrorItem(APIModel):
    """One entry of a 422 body's ``detail`` list (FastAPI's shape)."""

    model_config = ConfigDict(strict=False)

    loc: list[str | int]
    """Where the error is, e.g. ``["query", "time_before"]``."""
    msg: str
    """What is wrong, e.g. ``"Field required"``."""
    type: str
    """The error type, e.g. ``"missing"`` or ``"int_parsing"``."""


class HTTPValidationError(APIModel):
    """The body of a 422 answer."""

    model_config = ConfigDict(strict=False)

    detail: list[ValidationErrorItem] = []
    """Every problem with the request's parameters."""


# -- the directory: organizations, users, service users, playbooks -----------------------------

ItemT = TypeVar("ItemT", bound=BaseModel)


class Page(APIModel, Generic[ItemT]):
    """One page of a cursor-paginated list."""

    model_config = ConfigDict(strict=False)

    items: list[ItemT]
    """The entries of this page."""
    has_next_page: bool = False
    """Whether more entries follow."""
    end_cursor: str | None = None
    """Pass as ``after`` to get the next page; None on the last page."""
    total: int | None = None
    """Total entries over every page, when the server counts them."""


class DirectoryModel(APIModel):
    """Base of directory entries: lax types (timestamps may be null), unknown fields kept."""

    model_config = ConfigDict(strict=False)


class Organization(DirectoryModel):
    """An organization of the enterprise."""

    org_id: str
    """The organization's id."""
    name: str
    """Its display name."""
    created_at: int
    """Creation time, Unix seconds."""
    updated_at: int
    """Last change, Unix seconds."""
    max_session_acu_limit: int | None = None
    """Most ACUs one session may use, if limited."""
    max_cycle_acu_limit: int | None = None
    """Most ACUs per billing cycle, if limited."""


class Role(DirectoryModel):
    """A role granted to a member."""

    role_id: str
    """The role's id."""
    role_name: str
    """Its name."""
    role_type: str
    """``"enterprise"`` or ``"org"``."""


class RoleAssignment(DirectoryModel):
    """A role, enterprise-wide or in one organization."""

    role: Role
    """The role."""
    org_id: str | None = None
    """The organization it applies to; None for enterprise-wide."""


class User(DirectoryModel):
    """A human member of the enterprise."""

    user_id: str
    """The user's id."""
    email: str | None = None
    """Email address, when known."""
    name: str | None = None
    """Display name, when known."""
    role_assignments: list[RoleAssignment] = []
    """Roles held."""


class ServiceUser(DirectoryModel):
    """A service user (a machine identity with a ``cog_`` token)."""

    service_user_id: str
    """The service user's id."""
    name: str
    """Its name."""
    expires_at: int | None = None
    """When its credential expires, Unix seconds; None if never."""
    deleted_at: int | None = None
    """When it was removed, Unix seconds; None if active."""
    role_assignments: list[RoleAssignment] = []
    """Roles held."""


class Playbook(DirectoryModel):
    """A playbook: reusable instructions sessions can start from."""

    playbook_id: str
    """The playbook's id."""
    title: str
    """Its title."""
    body: str = ""
    """Its instructions."""
    macro: str | None = None
    """Its ``!macro`` shortcut, if any."""
    created_by: str = ""
    """Who created it."""
    updated_by: str = ""
    """Who last changed it."""
    created_at: int = 0
    """Creation time, Unix seconds."""
    updated_at: int = 0
    """Last change, Unix seconds."""
    access_type: str = "enterprise"
    """``"enterprise"`` or ``"org"``."""
    org_id: str | None = None
    """Its organization for org-level playbooks."""


#: The pages of each directory list (parametrised here, once).
OrganizationPage = Page[Organization]
UserPage = Page[User]
ServiceUserPage = Page[ServiceUser]
PlaybookPage = Page[Playbook]
