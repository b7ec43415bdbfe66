"""An in-process simulator of the Devin v3 API over a `DemoEnterprise`.

`DemoAPI.handle` takes a request (method, path, query string, headers) and returns a
`DemoResponse`; it opens no socket. It serves:

- ``GET /v3/enterprise/metrics/sessions`` (permission ``ViewAccountMetrics``), aggregated with
  numpy over the session log (`DemoAPI.session_metrics`);
- the directory lists ``GET /v3/enterprise/organizations``, ``/v3/enterprise/members/users``,
  ``/v3/enterprise/members/service-users`` and ``/v3/enterprise/playbooks``, with cursor
  pagination.

Errors have the shapes FastAPI gives them: 401/403/404/405 as ``{"detail": "..."}``, 422 as
``{"detail": [{"type", "loc", "msg", "input", ...}]}`` with pydantic v2's types and messages,
collected in the order the parameters are declared.

Time: every timestamp is Unix seconds, UTC. The simulator has a clock, `DemoAPI.now`: sessions
created at or after it do not exist yet, merges after it are not visible yet, and a session's
ACUs are the part it had consumed by then.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Annotated, Any, Final
from urllib.parse import parse_qsl

import numpy as np
import numpy.typing as npt
from pydantic import Field, TypeAdapter, ValidationError

from metrics_toolkit.demo.enterprise import (
    NO_INDEX,
    ORIGINS,
    SIZES,
    DemoEnterprise,
    Organization,
    Playbook,
    RoleAssignment,
    ServiceUser,
    User,
)

SESSION_METRICS_PATH: Final = "/v3/enterprise/metrics/sessions"
ORGANIZATIONS_PATH: Final = "/v3/enterprise/organizations"
USERS_PATH: Final = "/v3/enterprise/members/users"
SERVICE_USERS_PATH: Final = "/v3/enterprise/members/service-users"
PLAYBOOKS_PATH: Final = "/v3/enterprise/playbooks"

VIEW_ACCOUNT_METRICS: Final = "ViewAccountMetrics"
VIEW_ORGANIZATIONS: Final = "ViewOrganizations"
VIEW_ACCOUNT_MEMBERSHIP: Final = "ViewAccountMembership"
VIEW_PLAYBOOKS: Final = "ViewPlaybooks"
ALL_PERMISSIONS: Final = frozenset(
    {VIEW_ACCOUNT_METRICS, VIEW_ORGANIZATIONS, VIEW_ACCOUNT_MEMBERSHIP, VIEW_PLAYBOOKS}
)

DEMO_API_KEY: Final = "cog_demo_key"
"""Token with every permission."""
DEMO_KEY_WITHOUT_PERMISSIONS: Final = "cog_demo_no_permissions"
"""Token that authenticates but holds no permission (every endpoint answers 403)."""
DEFAULT_TOKENS: Final[Mapping[str, frozenset[str]]] = {
    DEMO_API_KEY: ALL_PERMISSIONS,
    DEMO_KEY_WITHOUT_PERMISSIONS: frozenset(),
}

DEFAULT_PAGE_SIZE: Final = 100
MAX_PAGE_SIZE: Final = 200
CURSOR_PREFIX: Final = "demo-cursor:"
JSON_CONTENT_TYPE: Final = "application/json"
_INT64_MIN: Final = int(np.iinfo(np.int64).min)
_INT64_MAX: Final = int(np.iinfo(np.int64).max)

_CODE_SHAPE: Final = (len(SIZES), len(ORIGINS), 2, 2, 2)
_N_CODES: Final = len(SIZES) * len(ORIGINS) * 2 * 2 * 2
_INTEGER: Final = TypeAdapter(int)
_PAGE_SIZE: Final = TypeAdapter(Annotated[int, Field(ge=1, le=MAX_PAGE_SIZE)])
_BOOLEAN: Final = TypeAdapter(bool)

Query = dict[str, list[str]]
JsonObject = dict[str, Any]


@dataclass(frozen=True)
class DemoResponse:
    """An HTTP response of the simulator: status code, headers, body (JSON, UTF-8)."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def json(self) -> Any:
        """The body, decoded from JSON."""
        return json.loads(self.body)


class _RequestError(Exception):
    """Ends the handling of a request with this response."""

    def __init__(self, response: DemoResponse) -> None:
        super().__init__(response.status)
        self.response = response


@dataclass(frozen=True)
class _Route:
    permission: str
    handler: Callable[[Query], JsonObject]


class DemoAPI:
    """The Devin v3 API over a synthetic enterprise, in process.

    Parameters
    ----------
    enterprise : DemoEnterprise
        The data to serve.
    now : datetime, optional
        Timezone-aware clock of the simulator. Default: `enterprise.end`. Can be moved later
        with `set_now` or by assigning `now`.
    tokens : Mapping[str, frozenset[str]], optional
        Bearer token -> the permissions it holds. Default: `DEFAULT_TOKENS`.

    Examples
    --------
    >>> from metrics_toolkit.demo import generate_enterprise
    >>> api = DemoAPI(generate_enterprise(days=30))
    >>> response = api.handle(
    ...     "GET",
    ...     "/v3/enterprise/metrics/sessions",
    ...     f"time_after={api.enterprise.start}&time_before={api.enterprise.end}",
    ...     {"Authorization": f"Bearer {DEMO_API_KEY}"},
    ... )
    >>> response.status
    200
    """

    def __init__(
        self,
        enterprise: DemoEnterprise,
        *,
        now: datetime | None = None,
        tokens: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self.enterprise = enterprise
        self.now_timestamp = enterprise.end
        if now is not None:
            self.set_now(now)
        self.tokens: dict[str, frozenset[str]] = dict(DEFAULT_TOKENS if tokens is None else tokens)
        self._user_positions = {user.user_id: i for i, user in enumerate(enterprise.users)}
        self._service_user_positions = {
            su.service_user_id: i for i, su in enumerate(enterprise.service_users)
        }
        self._org_positions = {o.org_id: i for i, o in enumerate(enterprise.organizations)}
        self._playbook_positions = {p.playbook_id: i for i, p in enumerate(enterprise.playbooks)}
        log = enterprise.sessions
        self._acus_per_second = log.acus / (log.acus_done_at - log.created_at)
        self._longest_session = int(np.max(log.acus_done_at - log.created_at, initial=0))
        # One code per session for what is fixed at creation: size, origin, playbook, search.
        self._creation_code = (
            (log.size_code.astype(np.intp) * len(ORIGINS) + log.origin_code) * 2
            + (log.playbook_index != NO_INDEX)
        ) * 2 + log.used_search
        self._routes: dict[str, _Route] = {
            SESSION_METRICS_PATH: _Route(VIEW_ACCOUNT_METRICS, self._get_session_metrics),
            ORGANIZATIONS_PATH: _Route(VIEW_ORGANIZATIONS, self._list_organizations),
            USERS_PATH: _Route(VIEW_ACCOUNT_MEMBERSHIP, self._list_users),
            SERVICE_USERS_PATH: _Route(VIEW_ACCOUNT_MEMBERSHIP, self._list_service_users),
            PLAYBOOKS_PATH: _Route(VIEW_PLAYBOOKS, self._list_playbooks),
        }

    @property
    def now(self) -> datetime:
        """The simulator's clock, timezone-aware UTC."""
        return datetime.fromtimestamp(self.now_timestamp, tz=timezone.utc)

    @now.setter
    def now(self, value: datetime) -> None:
        self.set_now(value)

    def set_now(self, now: datetime | int) -> None:
        """Move the clock to `now` (timezone-aware datetime or Unix seconds)."""
        if isinstance(now, datetime):
            if now.tzinfo is None or now.utcoffset() is None:
                raise ValueError("now must be timezone-aware (for example tzinfo=UTC)")
            self.now_timestamp = int(now.timestamp() // 1)
        else:
            self.now_timestamp = int(now)

    # -- the sessions endpoint -------------------------------------------------------------

    def session_metrics(
        self,
        time_after: int,
        time_before: int,
        *,
        user_ids: Iterable[str] | None = None,
        service_user_ids: Iterable[str] | None = None,
        org_ids: Iterable[str] | None = None,
        playbook_id: str | None = None,
    ) -> JsonObject:
        """Aggregate the sessions created in [time_after, time_before), as of `now`.

        Parameters
        ----------
        time_after, time_before : int
            Half-open window [time_after, time_before), Unix seconds, UTC. Sessions created at
            or after `now` do not exist yet.
        user_ids, service_user_ids, org_ids : iterable of str, optional
            Keep sessions created by any of these users / service users, or in any of these
            organizations. None means no filter; an empty list matches nothing; unknown ids
            match nothing. Different filters combine with AND.
        playbook_id : str, optional
            Keep sessions started with this playbook.

        Returns
        -------
        dict
            A ``SessionMetricsResponse``: the eight documented fields, every origin and size
            present. ``avg_acus_per_session`` counts the ACUs consumed by `now` and is 0.0 for
            an empty window.
        """
        log = self.enterprise.sessions
        now = self.now_timestamp
        low = int(np.searchsorted(log.created_at, _clip_int64(time_after), side="left"))
        high = int(np.searchsorted(log.created_at, _clip_int64(min(time_before, now)), "left"))
        window = slice(low, max(low, high))
        mask = self._filter_mask(window, user_ids, service_user_ids, org_ids, playbook_id)
        codes = self._creation_code[window] * 2 + (log.merged_at[window] <= now)
        if mask is not None:
            codes = codes[mask]
        # histogram[size, origin, with_playbook, with_search, merged]: every count at once.
        histogram = np.bincount(codes, minlength=_N_CODES).reshape(_CODE_SHAPE)
        created_count = int(codes.shape[0])
        acus = self._consumed_acus(window, mask) if created_count else 0.0
        return {
            "sessions_created_count": created_count,
            "sessions_created_by_size": _counts(SIZES, histogram.sum(axis=(1, 2, 3, 4))),
            "sessions_created_by_origin": _counts(ORIGINS, histogram.sum(axis=(0, 2, 3, 4))),
            "sessions_created_with_playbook_count": int(histogram[:, :, 1].sum()),
            "sessions_created_with_search_count": int(histogram[:, :, :, 1].sum()),
            "sessions_with_merged_prs_count": int(histogram[..., 1].sum()),
            "sessions_with_merged_prs_by_size": _counts(
                SIZES, histogram[..., 1].sum(axis=(1, 2, 3))
            ),
            "avg_acus_per_session": acus / created_count if created_count else 0.0,
        }

    def _consumed_acus(self, window: slice, mask: npt.NDArray[np.bool_] | None) -> float:
        """ACUs consumed by `now` by the sessions of `window` (and `mask`).

        Sessions created more than the longest session duration before `now` have finished:
        they count in full. Only the ones after consume linearly up to `acus_done_at`.
        """
        log = self.enterprise.sessions
        now = self.now_timestamp
        settled = int(np.searchsorted(log.created_at, now - self._longest_session, "left"))
        split = min(max(settled, window.start), window.stop)
        finished = log.acus[window.start : split]
        running = slice(split, window.stop)
        consumed = np.minimum(
            log.acus[running], (now - log.created_at[running]) * self._acus_per_second[running]
        )
        if mask is None:
            return float(finished.sum() + consumed.sum())
        cut = split - window.start
        return float(finished[mask[:cut]].sum() + consumed[mask[cut:]].sum())

    def _filter_mask(
        self,
        window: slice,
        user_ids: Iterable[str] | None,
        service_user_ids: Iterable[str] | None,
        org_ids: Iterable[str] | None,
        playbook_id: str | None,
    ) -> npt.NDArray[np.bool_] | None:
        log = self.enterprise.sessions
        mask: npt.NDArray[np.bool_] | None = None
        filters = (
            (user_ids, log.user_index, self._user_positions),
            (service_user_ids, log.service_user_index, self._service_user_positions),
            (org_ids, log.org_index, self._org_positions),
            (
                None if playbook_id is None else [playbook_id],
                log.playbook_index,
                self._playbook_positions,
            ),
        )
        for ids, values, positions in filters:
            if ids is None:
                continue
            # A lookup table over the entity indices; its last slot stands for NO_INDEX (-1).
            wanted = np.zeros(len(positions) + 1, dtype=np.bool_)
            wanted[[positions[i] for i in ids if i in positions]] = True
            matches = wanted[values[window]]
            mask = matches if mask is None else mask & matches
        return mask

    # -- request handling ------------------------------------------------------------------

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> DemoResponse:
        """Answer one HTTP request.

        Parameters
        ----------
        method : str
            HTTP method; only GET is served (405 otherwise).
        path : str
            Request path, without the query string.
        query : str
            Raw query string (``a=1&b=2``), percent-encoded.
        headers : Mapping[str, str]
            Request headers (names case-insensitive); ``Authorization: Bearer <token>``.

        Returns
        -------
        DemoResponse
        """
        route = self._routes.get(path)
        if route is None:
            return _error(HTTPStatus.NOT_FOUND, "Not Found")
        if method.upper() != "GET":
            return _error(HTTPStatus.METHOD_NOT_ALLOWED, "Method Not Allowed", {"Allow": "GET"})
        try:
            self._authorize(headers, route.permission, path)
            return _json_response(HTTPStatus.OK, route.handler(_parse_query(query)))
        except _RequestError as error:
            return error.response

    def _authorize(self, headers: Mapping[str, str], permission: str, path: str) -> None:
        authorization = _header(headers, "authorization")
        challenge = {"WWW-Authenticate": "Bearer"}
        if authorization is None:
            raise _RequestError(_error(HTTPStatus.UNAUTHORIZED, "Not authenticated", challenge))
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            detail = "Invalid authentication credentials: expected 'Authorization: Bearer cog_...'"
            raise _RequestError(_error(HTTPStatus.UNAUTHORIZED, detail, challenge))
        permissions = self.tokens.get(token)
        if permissions is None:
            detail = "Invalid API key: the bearer token is unknown, expired or revoked"
            raise _RequestError(_error(HTTPStatus.UNAUTHORIZED, detail, challenge))
        if permission not in permissions:
            detail = (
                f"Missing permission {permission}: GET {path} needs a service user "
                f"with the {permission} permission at enterprise level"
            )
            raise _RequestError(_error(HTTPStatus.FORBIDDEN, detail))

    def _get_session_metrics(self, query: Query) -> JsonObject:
        errors: list[JsonObject] = []
        user_ids = _id_list(query, "user_ids")
        service_user_ids = _id_list(query, "service_user_ids")
        time_before = _required_integer(query, "time_before", errors)
        time_after = _required_integer(query, "time_after", errors)
        org_ids = _id_list(query, "org_ids")
        playbook_id = _last(query, "playbook_id")
        if errors or time_after is None or time_before is None:
            raise _RequestError(_validation_error(errors))
        return self.session_metrics(
            time_after,
            time_before,
            user_ids=user_ids,
            service_user_ids=service_user_ids,
            org_ids=org_ids,
            playbook_id=playbook_id,
        )

    # -- directory endpoints ---------------------------------------------------------------

    def _list_organizations(self, query: Query) -> JsonObject:
        after, first = _page_parameters(query)
        items = [_organization_item(o) for o in self.enterprise.organizations]
        return _page(items, "org_id", after, first)

    def _list_users(self, query: Query) -> JsonObject:
        after, first = _page_parameters(query)
        email = _last(query, "email")
        users = [u for u in self.enterprise.users if email is None or u.email == email]
        return _page([_user_item(u) for u in users], "user_id", after, first)

    def _list_service_users(self, query: Query) -> JsonObject:
        errors: list[JsonObject] = []
        after, first = _page_parameters(query, errors)
        include_inactive = _optional_value(query, "include_inactive", _BOOLEAN, False, errors)
        if errors:
            raise _RequestError(_validation_error(errors))
        items = [
            _service_user_item(su)
            for su in self.enterprise.service_users
            if include_inactive or su.is_active(self.now_timestamp)
        ]
        return _page(items, "service_user_id", after, first)

    def _list_playbooks(self, query: Query) -> JsonObject:
        after, first = _page_parameters(query)
        items = [_playbook_item(p) for p in self.enterprise.playbooks]
        return _page(items, "playbook_id", after, first)


# -- query parsing -------------------------------------------------------------------------


def _parse_query(query: str) -> Query:
    parsed: Query = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        parsed.setdefault(name, []).append(value)
    return parsed


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _last(query: Query, name: str) -> str | None:
    """A scalar parameter: like FastAPI, the last value wins when a key is repeated."""
    values = query.get(name)
    return None if not values else values[-1]


def _id_list(query: Query, name: str) -> list[str] | None:
    """A list parameter, as repeated keys (``a=1&a=2``), comma-joined (``a=1,2``) or both."""
    values = query.get(name)
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _pydantic_errors(error: ValidationError, name: str) -> list[JsonObject]:
    return [{**item, "loc": ["query", name]} for item in error.errors(include_url=False)]


def _required_integer(query: Query, name: str, errors: list[JsonObject]) -> int | None:
    value = _last(query, name)
    if value is None:
        errors.append(
            {"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None}
        )
        return None
    try:
        return _INTEGER.validate_python(value)
    except ValidationError as error:
        errors.extend(_pydantic_errors(error, name))
        return None


def _optional_value(
    query: Query, name: str, adapter: TypeAdapter[Any], default: Any, errors: list[JsonObject]
) -> Any:
    value = _last(query, name)
    if value is None:
        return default
    try:
        return adapter.validate_python(value)
    except ValidationError as error:
        errors.extend(_pydantic_errors(error, name))
        return default


def _page_parameters(
    query: Query, errors: list[JsonObject] | None = None
) -> tuple[str | None, int]:
    """`after` and `first` (default 100, 1..200).

    Validation errors go to `errors` when given (the caller raises them with its own);
    otherwise they are raised at once as a 422.
    """
    collected: list[JsonObject] = [] if errors is None else errors
    after = _last(query, "after")
    first: int = _optional_value(query, "first", _PAGE_SIZE, DEFAULT_PAGE_SIZE, collected)
    if errors is None and collected:
        raise _RequestError(_validation_error(collected))
    return after, first


# -- responses -----------------------------------------------------------------------------


def _json_response(
    status: HTTPStatus, content: Any, headers: Mapping[str, str] | None = None
) -> DemoResponse:
    body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return DemoResponse(
        status=int(status),
        headers={"Content-Type": JSON_CONTENT_TYPE, **(headers or {})},
        body=body.encode("utf-8"),
    )


def _error(
    status: HTTPStatus, detail: str, headers: Mapping[str, str] | None = None
) -> DemoResponse:
    return _json_response(status, {"detail": detail}, headers)


def _validation_error(errors: Sequence[JsonObject]) -> DemoResponse:
    return _json_response(HTTPStatus.UNPROCESSABLE_ENTITY, {"detail": list(errors)})


def _clip_int64(value: int) -> int:
    return min(max(value, _INT64_MIN), _INT64_MAX)


def _counts(names: Sequence[str], counts: npt.NDArray[np.intp]) -> dict[str, int]:
    return {name: int(count) for name, count in zip(names, counts, strict=False)}


def encode_cursor(item_id: str) -> str:
    """The opaque cursor pointing just after the item `item_id`."""
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{item_id}".encode()).decode("ascii")


def _decode_cursor(cursor: str) -> str:
    invalid = _RequestError(
        _error(
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


def _page(items: list[JsonObject], id_field: str, after: str | None, first: int) -> JsonObject:
    """One page of `items` after the cursor `after`: the paginated envelope."""
    start = 0
    if after is not None:
        after_id = _decode_cursor(after)
        ids = [item[id_field] for item in items]
        if after_id not in ids:
            raise _RequestError(
                _error(
                    HTTPStatus.BAD_REQUEST,
                    f"Invalid cursor {after!r}: it points to no item of this list",
                )
            )
        start = ids.index(after_id) + 1
    page = items[start : start + first]
    has_next_page = start + first < len(items)
    return {
        "items": page,
        "has_next_page": has_next_page,
        "end_cursor": encode_cursor(page[-1][id_field]) if has_next_page else None,
        "total": len(items),
    }


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


def _service_user_item(service_user: ServiceUser) -> JsonObject:
    return {
        "service_user_id": service_user.service_user_id,
        "name": service_user.name,
        "expires_at": service_user.expires_at,
        "deleted_at": service_user.deleted_at,
        "role_assignments": _role_assignments(service_user.role_assignments),
    }


def _playbook_item(playbook: Playbook) -> JsonObject:
    return {
        "playbook_id": playbook.playbook_id,
        "title": playbook.title,
        "body": playbook.body,
        "macro": playbook.macro,
        "created_by": playbook.created_by,
        "updated_by": playbook.created_by,
        "created_at": playbook.created_at,
        "updated_at": playbook.updated_at,
        "access_type": "enterprise" if playbook.org_id is None else "org",
        "org_id": playbook.org_id,
        "structured_output_schema": None,
    }
