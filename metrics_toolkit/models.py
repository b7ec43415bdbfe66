"""Pydantic models of the API's payloads.

Field names are exactly the API's. Every model keeps fields it does not know (``extra="allow"``):
a new origin, a new size or a new metric from the server is kept and reaches the DataFrame as a
column, never dropped and never an error. Counts are strict integers: a body that sends ``"3"``
or ``true`` for a count breaks the schema and is reported, not silently coerced.

Each field is documented by the docstring below it, for readers, IDEs and ``help()``. They are
not copied into pydantic's field descriptions (``use_attribute_docstrings``): that reads and
tokenises this file's source in every process, 80 ms of ``import metrics_toolkit``, for
descriptions nothing here uses.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ._vocabulary import ID_FIELDS, ORIGINS, SIZES

__all__ = [
    "ID_FIELDS",
    "ORIGINS",
    "SIZES",
    "APIModel",
    "DirectoryModel",
    "HTTPValidationError",
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


class SessionMetrics(APIModel):
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


class SearchMetrics(APIModel):
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
