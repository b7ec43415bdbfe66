"""The directory list endpoints of the simulator, with cursor pagination.

``GET /v3/enterprise/organizations``, ``/v3/enterprise/members/users`` (filter ``email``),
``/v3/enterprise/members/service-users`` (``include_inactive``, default false) and
``/v3/enterprise/playbooks``. Each takes ``first`` (1..200, default 100) and ``after`` (the
``end_cursor`` of the previous page) and answers ``{"items", "has_next_page", "end_cursor",
"total"}``; ``end_cursor`` is null on the last page. Timestamps are Unix seconds, UTC.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from http import HTTPStatus
from typing import Annotated, Final

from pydantic import Field, TypeAdapter

from metrics_toolkit.demo.directory import (
    Organization,
    Playbook,
    RoleAssignment,
    ServiceUser,
    User,
)
from metrics_toolkit.demo.enterprise import DemoEnterprise
from metrics_toolkit.demo.protocol import (
    JsonObject,
    Query,
    RequestError,
    error,
    last,
    optional_value,
    validation_error,
)

__all__ = [
    "encode_cursor",
    "list_organizations",
    "list_playbooks",
    "list_service_users",
    "list_users",
    "page",
    "page_parameters",
]

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 200
CURSOR_PREFIX: Final = "demo-cursor:"
_PAGE_SIZE: Final = TypeAdapter(Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)])
_BOOLEAN: Final = TypeAdapter(bool)


# -- the four lists --------------------------------------------------------------------------


def list_organizations(enterprise: DemoEnterprise, query: Query) -> JsonObject:
    """One page of the organizations."""
    after, first = page_parameters(query)
    items = [_organization_item(o) for o in enterprise.organizations]
    return page(items, "org_id", after, first)


def list_users(enterprise: DemoEnterprise, query: Query) -> JsonObject:
    """One page of the people, or of the one whose email is exactly ``email``."""
    after, first = page_parameters(query)
    email = last(query, "email")
    users = [u for u in enterprise.users if email is None or u.email == email]
    return page([_user_item(u) for u in users], "user_id", after, first)


def list_service_users(enterprise: DemoEnterprise, now: int, query: Query) -> JsonObject:
    """One page of the service users active at `now` (Unix seconds), or of all of them.

    A deletion still ahead of `now` is not shown (``deleted_at`` null).
    """
    errors: list[JsonObject] = []
    after, first = page_parameters(query, errors)
    include_inactive = optional_value(query, "include_inactive", _BOOLEAN, False, errors)
    if errors:
        raise RequestError(validation_error(errors))
    items = [
        _service_user_item(su, now)
        for su in enterprise.service_users
        if include_inactive or su.is_active(now)
    ]
    return page(items, "service_user_id", after, first)


def list_playbooks(enterprise: DemoEnterprise, now: int, query: Query) -> JsonObject:
    """One page of the playbooks created before `now` (Unix seconds), as they were then.

    An update still ahead of `now` is not shown (``updated_at`` is the creation).
    """
    after, first = page_parameters(query)
    items = [_playbook_item(p, now) for p in enterprise.playbooks if p.created_at < now]
    return page(items, "playbook_id", after, first)


# -- pagination ------------------------------------------------------------------------------


def page_parameters(query: Query, errors: list[JsonObject] | None = None) -> tuple[str | None, int]:
    """`after` and `first` (default 100, 1..200).

    Validation errors go to `errors` when given (the caller raises them with its own);
    otherwise they are raised at once as a 422.
    """
    collected: list[JsonObject] = [] if errors is None else errors
    after = last(query, "after")
    first: int = optional_value(query, "first", _PAGE_SIZE, DEFAULT_PAGE_SIZE, collected)
    if errors is None and collected:
        raise RequestError(validation_error(collected))
    return after, first


def encode_cursor(item_id: str) -> str:
    """The opaque cursor pointing just after the item `item_id`."""
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{item_id}".encode()).decode("ascii")


def _decode_cursor(cursor: str) -> str:
    invalid = RequestError(
        error(
            HTTPStatus.BAD_REQUEST,
            f"Invalid cursor {cursor!r}: pass the end_cursor of the previous page as 'after'",
        )
    )
    try:
        decoded = base64.urlsafe_b64decode(cursor.encode("ascii")).decode("utf-8")
    except (binascii.Error, UnicodeError, ValueError):
        raise invalid from None
    if not decoded.startswith(CURSOR_PREFIX):
        raise invalid
    return decoded.removeprefix(CURSOR_PREFIX)


def page(items: list[JsonObject], id_field: str, after: str | None, first: int) -> JsonObject:
    """One page of `items` after the cursor `after`: the paginated envelope."""
    start = 0
    if after is not None:
        after_id = _decode_cursor(after)
        ids = [item[id_field] for item in items]
        if after_id not in ids:
            raise RequestError(
                error(
                    HTTPStatus.BAD_REQUEST,
                    f"Invalid cursor {after!r}: it points to no item of this list",
                )
            )
        start = ids.index(after_id) + 1
    chosen = items[start : start + first]
    has_next_page = start + first < len(items)
    return {
        "items": chosen,
        "has_next_page": has_next_page,
        "end_cursor": encode_cursor(chosen[-1][id_field]) if has_next_page else None,
        "total": len(items),
    }


# -- items -----------------------------------------------------------------------------------


def _role_assignments(assignments: Iterable[RoleAssignment]) -> list[JsonObject]:
    return [
        {
            "org_id": assignment.org_id,
            "role": {
                "role_id": assignment.role.role_id,
                "role_name": assignment.role.role_name,
                "role_type": assignment.role.role_type,
            },
        }
        for assignment in assignments
    ]


def _organization_item(organization: Organization) -> JsonObject:
    return {
        "org_id": organization.org_id,
        "name": organization.name,
        "created_at": organization.created_at,
        "updated_at": organization.updated_at,
        "max_session_acu_limit": organization.max_session_acu_limit,
        "max_cycle_acu_limit": organization.max_cycle_acu_limit,
    }


def _user_item(user: User) -> JsonObject:
    return {
        "user_id": user.user_id,
        "email": user.email,
        "name": user.name,
        "role_assignments": _role_assignments(user.role_assignments),
    }


def _service_user_item(service_user: ServiceUser, now: int) -> JsonObject:
    deleted_at = service_user.deleted_at
    return {
        "service_user_id": service_user.service_user_id,
        "name": service_user.name,
        "expires_at": service_user.expires_at,
        "deleted_at": deleted_at if deleted_at is not None and deleted_at <= now else None,
        "role_assignments": _role_assignments(service_user.role_assignments),
    }


def _playbook_item(playbook: Playbook, now: int) -> JsonObject:
    return {
        "playbook_id": playbook.playbook_id,
        "title": playbook.title,
        "body": playbook.body,
        "macro": playbook.macro,
        "created_by": playbook.created_by,
        "updated_by": playbook.created_by,
        "created_at": playbook.created_at,
        "updated_at": playbook.updated_at if playbook.updated_at <= now else playbook.created_at,
        "access_type": "enterprise" if playbook.org_id is None else "org",
        "org_id": playbook.org_id,
        "structured_output_schema": None,
    }
