"""Names for ids: the enterprise's organizations, users, service users and playbooks (pure).

A :class:`Directory` is loaded by :meth:`MetricsClient.directory` and answers both ways:
``directory.name("org", "org-1a2b...")`` -> ``"Platform"`` and
``directory.id("user", "alice@corp.com")`` -> ``"user-..."``. It labels breakdown frames
without another call per row; an id it does not know (a deleted user) keeps its id as label.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _vocabulary
from ._vocabulary import ID_FIELDS
from .errors import InvalidParameterError
from .models import Organization, Playbook, ServiceUser, User

__all__ = ["KINDS", "Directory", "looks_like_id"]

#: The kinds of entries, as ``by=`` names them.
KINDS = tuple(_vocabulary.KINDS)


@dataclass(frozen=True)
class Directory:
    """The enterprise's directory, with lookups both ways and a DataFrame view of each list.

    Parameters
    ----------
    organizations, users, service_users, playbooks : sequence
        The lists, as the client's list methods return them.
    """

    organizations: Sequence[Organization] = ()
    users: Sequence[User] = ()
    service_users: Sequence[ServiceUser] = ()
    playbooks: Sequence[Playbook] = ()
    _names: dict[str, dict[str, str]] = field(init=False, repr=False, compare=False)
    _ids: dict[str, dict[str, str]] = field(init=False, repr=False, compare=False)
    _shared: dict[str, dict[str, list[str]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        names: dict[str, dict[str, str]] = {
            "org": {o.org_id: o.name for o in self.organizations},
            "user": {u.user_id: u.name or u.email or u.user_id for u in self.users},
            "service_user": {s.service_user_id: s.name for s in self.service_users},
            "playbook": {p.playbook_id: p.title for p in self.playbooks},
        }
        ids: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
        holders: dict[str, dict[str, list[str]]] = {kind: {} for kind in KINDS}
        for kind, mapping in names.items():
            for entry_id, name in mapping.items():
                ids[kind].setdefault(name.casefold(), entry_id)
                holders[kind].setdefault(name.casefold(), []).append(entry_id)
        for user in self.users:
            if user.email:
                ids["user"][user.email.casefold()] = user.user_id
                holders["user"][user.email.casefold()] = [user.user_id]
        shared = {
            kind: {name: held for name, held in by_name.items() if len(held) > 1}
            for kind, by_name in holders.items()
        }
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_ids", ids)
        object.__setattr__(self, "_shared", shared)

    def ids(self, kind: str) -> list[str]:
        """Every id of a kind, in the directory's order (for a breakdown of all of them)."""
        return list(self._names[_check_kind(kind)])

    def name(self, kind: str, entry_id: str) -> str:
        """The readable name of an id; the id itself when the directory does not know it."""
        return self._names[_check_kind(kind)].get(entry_id, entry_id)

    def id(self, kind: str, name_or_id: str) -> str:
        """The id for a name, an email (users) or an id; case does not matter.

        Raises
        ------
        InvalidParameterError
            When nothing matches, with the closest names.
        """
        kind = _check_kind(kind)
        if not isinstance(name_or_id, str):
            raise InvalidParameterError(
                kind, f"no {kind} named {name_or_id!r}; expected a name, an email or an id string"
            )
        if name_or_id in self._names[kind]:
            return name_or_id
        shared = self._shared[kind].get(name_or_id.casefold())
        if shared:
            raise InvalidParameterError(
                kind,
                f"{name_or_id!r} names {len(shared)} entries ({', '.join(shared)}); "
                "pass the id (or a user's email) instead",
            )
        found = self._ids[kind].get(name_or_id.casefold())
        if found is not None:
            return found
        choices = sorted(self._names[kind].values())
        close = difflib.get_close_matches(str(name_or_id), choices, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise InvalidParameterError(kind, f"no {kind} named {name_or_id!r}{hint}")

    def resolve(
        self, kind: str, names_or_ids: Sequence[str], *, keep_unknown_ids: bool = True
    ) -> list[str]:
        """:meth:`id` for each entry of a list.

        With ``keep_unknown_ids``, a value the directory does not know that looks like an id
        (:func:`looks_like_id`: a deleted user, say) is kept as it is; a name that matches
        nothing is refused either way.
        """
        resolved = []
        for value in names_or_ids:
            try:
                resolved.append(self.id(kind, value))
            except InvalidParameterError:
                if not (keep_unknown_ids and isinstance(value, str) and looks_like_id(value)):
                    raise
                resolved.append(value)
        return resolved

    def names(self, kind: str) -> dict[str, str]:
        """id -> name for every entry of a kind."""
        return dict(self._names[_check_kind(kind)])

    def frame(self, kind: str) -> pd.DataFrame:
        """A DataFrame of one list, one row per entry, indexed by id."""
        kind = _check_kind(kind)
        entries: Sequence[Any] = {
            "org": self.organizations,
            "user": self.users,
            "service_user": self.service_users,
            "playbook": self.playbooks,
        }[kind]
        column = ID_FIELDS[kind]
        records = [entry.model_dump(exclude={"role_assignments"}) for entry in entries]
        table = pd.DataFrame.from_records(records, columns=None if records else [column])
        for stamp in ("created_at", "updated_at", "expires_at", "deleted_at"):
            if stamp in table.columns:
                table[stamp] = pd.to_datetime(table[stamp], unit="s", utc=True)
        return table.set_index(column)

    def label(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Add a ``<kind>_name`` column next to a breakdown frame's id column.

        No call is made; an unknown id is its own label and its row is kept.
        """
        for kind, column in ID_FIELDS.items():
            if column in frame.columns:
                name_column = _vocabulary.KINDS[kind].name_column
                labelled = frame.drop(columns=name_column, errors="ignore")
                names = self._names[kind]
                position = labelled.columns.get_loc(column) + 1
                values = [names.get(v, v) for v in labelled[column]]
                labelled.insert(position, name_column, values)  # type: ignore[arg-type]
                return labelled
        return frame


def looks_like_id(value: str) -> bool:
    """No spaces and no ``@``, with a digit, ``-`` or ``_``: an id, not a mistyped name."""
    return (
        not any(char.isspace() for char in value)
        and "@" not in value
        and any(char.isdigit() or char in "-_" for char in value)
    )


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidParameterError(
            "kind", f"got {kind!r}; expected one of {', '.join(map(repr, KINDS))}"
        )
    return kind
