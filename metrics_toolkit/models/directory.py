"""The directory lists (organizations, users, service users, playbooks) and the page of a
cursor-paginated list."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from ._base import APIModel

__all__ = [
    "DirectoryModel",
    "Organization",
    "OrganizationPage",
    "Page",
    "Playbook",
    "PlaybookPage",
    "Role",
    "RoleAssignment",
    "ServiceUser",
    "ServiceUserPage",
    "User",
    "UserPage",
]

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
    role_assignments: list[RoleAssignment] = Field(default_factory=list)
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
    role_assignments: list[RoleAssignment] = Field(default_factory=list)
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
