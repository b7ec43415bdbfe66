"""The client's directory (organizations, users, service users, playbooks), its scope, and
names turned into ids before a call."""

from __future__ import annotations

import time
from typing import Any

from .._base_client import BaseClient
from .._endpoints import ORGANIZATIONS, PLAYBOOKS, SERVICE_USERS, USERS
from .._vocabulary import ENTERPRISE, ID_FIELDS, KIND_OF_FILTER, KINDS, ORGANIZATION
from ..directory import Directory, directory_if_readable, looks_like_id
from ..errors import ScopeError
from ..models import Organization, Playbook, ServiceUser, User
from ..params import check_flag, check_ids, check_names, check_playbook_id, check_text

__all__ = ["NamedClient"]

#: The directory kind each id parameter names: filters (``org_ids``) and one-id paths
#: (``org_id``, ``user_id``, ``service_user_id``); a session id is not in the directory.
_KIND_OF_PARAMETER = {**KIND_OF_FILTER, **{field: kind for kind, field in ID_FIELDS.items()}}


#: The filter that takes one playbook (its id or title), not a list.
PLAYBOOK = KINDS["playbook"].filter_param


class NamedClient(BaseClient):
    """The directory and the scope of a client; see :class:`~metrics_toolkit.MetricsClient`."""

    @property
    def scope(self) -> str:
        """``"organization"`` when the client is scoped to one organization (``org_id``): every
        call goes to that organization's paths; else ``"enterprise"``."""
        return ENTERPRISE if self.org_id is None else ORGANIZATION

    # -- the directory --------------------------------------------------------------------

    def organizations(self, *, refresh: bool = False) -> list[Organization]:
        """Every organization of the enterprise (all pages)."""
        return self.list_all(ORGANIZATIONS, {}, refresh=refresh)

    def users(self, *, email: str | None = None, refresh: bool = False) -> list[User]:
        """Every user of the enterprise (all pages), or the one with this exact ``email``."""
        params = {} if email is None else {"email": check_text(email, "email")}
        return self.list_all(USERS, params, refresh=refresh)

    def service_users(
        self, *, include_inactive: bool = False, refresh: bool = False
    ) -> list[ServiceUser]:
        """The enterprise's service users: active ones, or all with ``include_inactive``."""
        check_flag(include_inactive, "include_inactive")
        params = {"include_inactive": "true"} if include_inactive else {}
        return self.list_all(SERVICE_USERS, params, refresh=refresh)

    def playbooks(self, *, refresh: bool = False) -> list[Playbook]:
        """Every enterprise playbook (all pages)."""
        return self.list_all(PLAYBOOKS, {}, refresh=refresh)

    def directory(self, *, refresh: bool = False) -> Directory:
        """Organizations, users, service users (inactive ones too) and playbooks, with lookups.

        Kept for ``directory_ttl`` (in memory, and in the answer cache when it is on);
        ``refresh=True`` asks the server again.
        """
        with self._directory_lock:
            if self._directory is not None and not refresh:
                loaded_at, directory = self._directory
                if time.monotonic() - loaded_at < self.directory_ttl.total_seconds():
                    return directory
            directory = Directory(
                organizations=self.organizations(refresh=refresh),
                users=self.users(refresh=refresh),
                service_users=self.service_users(include_inactive=True, refresh=refresh),
                playbooks=self.playbooks(refresh=refresh),
            )
            self._directory = (time.monotonic(), directory)
            return directory

    def _ids(self, allow_unknown_ids: bool, **filters: Any) -> dict[str, Any]:
        """The filters given (None left out), names turned into ids by :meth:`_named`.

        A value with white space is a name ("Ben Ali"), looked up in the directory and never
        sent as it is; one with a control character, or a comma and no space (``"u1,u2"``, two
        ids on the wire), is refused before any request."""
        given: dict[str, Any] = {}
        for name, value in filters.items():
            single = name == PLAYBOOK
            shaped = check_playbook_id(value, name) if single else check_names(value, name)
            if shaped is None:
                continue
            items: list[str] = [shaped] if isinstance(shaped, str) else shaped
            for item in items:
                spaced = any(char.isspace() for char in item)
                if not item.isprintable() or ("," in item and not spaced):
                    check_ids([item], name)  # raises, saying why
            given[name] = shaped
        return self._named(given, allow_unknown_ids)

    def _named(self, params: dict[str, Any], allow_unknown_ids: bool) -> dict[str, Any]:
        """``params`` with the names in its filters and one-id parameters turned into ids, as
        a series does: an id the directory does not list is refused unless
        ``allow_unknown_ids``; an unreadable directory is said once (``DirectoryWarning``) and
        the values go as given. At organization scope (no directory) ids go as given."""
        given = {name: value for name, value in params.items() if name in _KIND_OF_PARAMETER}
        values = [
            v for value in given.values() for v in ([value] if isinstance(value, str) else value)
        ]
        if not values or (allow_unknown_ids and all(map(looks_like_id, values))):
            return params
        if self.org_id is not None:  # the directory lists exist only at enterprise scope
            for name, value in given.items():
                for item in [value] if isinstance(value, str) else value:
                    if not looks_like_id(item):
                        raise ScopeError(
                            name,
                            f"{item!r} is a name, and names are read from the directory, "
                            "which exists only at enterprise scope; this client is scoped to "
                            f"organization {self.org_id}: pass ids",
                        )
            return params
        directory = directory_if_readable(self.directory, self)
        if directory is None:
            return params
        for name, value in given.items():
            ids = directory.resolve_names(
                _KIND_OF_PARAMETER[name],
                [value] if isinstance(value, str) else value,
                allow_unknown_ids=allow_unknown_ids,
                parameter=name,
            )
            params[name] = ids[0] if isinstance(value, str) else ids
        return params
