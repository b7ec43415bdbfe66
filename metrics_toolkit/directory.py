"""Names for ids: the enterprise's organizations, users, service users and playbooks (pure).

A :class:`Directory` is loaded by :meth:`MetricsClient.directory` and answers both ways:
``directory.name("org", "org-1a2b...")`` -> ``"Platform"`` and
``directory.id("user", "alice@corp.com")`` -> ``"user-..."``. :meth:`Directory.resolve_names`
is the one resolver of names, emails and ids that the series, the command line, the panel and
the report share: an id the directory does not list is refused with the closest entries, unless
the caller says it is meant (a deleted user still has history). It labels breakdown frames
without another call per row; an id it does not know keeps its id as label.
"""

from __future__ import annotations

import contextlib
import difflib
import html
import threading
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import _vocabulary
from ._vocabulary import ID_FIELDS
from .errors import DirectoryWarning, InvalidParameterError, PermissionDeniedError
from .models import Organization, Playbook, ServiceUser, User

__all__ = ["KINDS", "Directory", "directory_if_readable", "looks_like_id"]

#: The kinds of entries, as ``by=`` names them.
KINDS = tuple(_vocabulary.KINDS)
#: Names per kind that the notebook view of a directory shows (the counts cover every entry).
PREVIEW_NAMES = 5
#: How many close names or ids a refusal suggests, and how close (0 to 1) a name or an id must
#: be (ids share their prefix and alphabet, so only a near miss of one is suggested).
SUGGESTIONS, SUGGESTION_CUTOFF, ID_SUGGESTION_CUTOFF = 3, 0.5, 0.8
#: The owners (clients) already told that their directory cannot be read: told once each.
_TOLD_UNREADABLE: weakref.WeakSet[Any] = weakref.WeakSet()
_TOLD_LOCK = threading.Lock()


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
            When nothing matches, with the closest names (see :meth:`resolve_names`).
        """
        return self.resolve_names(kind, [name_or_id])[0]

    def resolve_names(
        self,
        kind: str,
        values: Sequence[str],
        *,
        allow_unknown_ids: bool = False,
        parameter: str | None = None,
    ) -> list[str]:
        """The id of each value: an id the directory lists, a name (a playbook's title) or a
        user's email; case does not matter. Duplicates are dropped, order kept.

        Parameters
        ----------
        kind : {"org", "user", "service_user", "playbook"}
        values : sequence of str
            Names, emails or ids, mixed as they come.
        allow_unknown_ids : bool, default False
            Keep a value the directory does not list when it looks like an id
            (:func:`looks_like_id`: a deleted user's id, say); otherwise it is refused.
        parameter : str, optional
            The name errors give (``"org_ids"``); default ``kind``.

        Returns
        -------
        list of str
            The ids, in the order of their first value.

        Raises
        ------
        InvalidParameterError
            For a value that matches nothing (naming the kind and the closest names or ids),
            or a name two entries share (naming their ids).
        """
        kind = _check_kind(kind)
        resolved: dict[str, None] = {}
        for value in values:
            if not isinstance(value, str):
                raise InvalidParameterError(
                    parameter or kind,
                    f"no {kind} named {value!r}; expected a name, an email or an id string",
                )
            entry_id = self._lookup(kind, value, parameter or kind)
            if entry_id is None:
                if not (allow_unknown_ids and looks_like_id(value)):
                    raise InvalidParameterError(parameter or kind, self._unknown(kind, value))
                entry_id = value
            resolved[entry_id] = None
        return list(resolved)

    def resolve(
        self, kind: str, names_or_ids: Sequence[str], *, keep_unknown_ids: bool = True
    ) -> list[str]:
        """:meth:`resolve_names` with ``allow_unknown_ids=keep_unknown_ids`` (kept for code
        written before it)."""
        return self.resolve_names(kind, names_or_ids, allow_unknown_ids=keep_unknown_ids)

    def _lookup(self, kind: str, value: str, parameter: str) -> str | None:
        """The id a value names; None when it names nothing."""
        if value in self._names[kind]:
            return value
        shared = self._shared[kind].get(value.casefold())
        if shared:
            raise InvalidParameterError(
                parameter,
                f"{value!r} names {len(shared)} entries ({', '.join(shared)}); "
                "pass the id (or a user's email) instead",
            )
        return self._ids[kind].get(value.casefold())

    def _unknown(self, kind: str, value: str) -> str:
        """Why a value is refused, with the closest names (for a name) or ids (for an id)."""
        names = self._names[kind]
        if not looks_like_id(value):
            close = difflib.get_close_matches(
                value, sorted(names.values()), n=SUGGESTIONS, cutoff=SUGGESTION_CUTOFF
            )
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            return f"no {kind} named {value!r}{hint}"
        by_key = {entry_id: entry_id for entry_id in names}
        by_key.update({name: entry_id for entry_id, name in names.items()})
        close = difflib.get_close_matches(
            value, sorted(by_key), n=SUGGESTIONS, cutoff=ID_SUGGESTION_CUTOFF
        )
        suggested = dict.fromkeys(f"{by_key[key]!r} ({names[by_key[key]]})" for key in close)
        hint = f"; did you mean {', '.join(suggested)}?" if close else f" among its {len(names)}."
        return (
            f"the directory lists no {kind} with the id {value!r}{hint} If the id is meant "
            f"(a deleted {kind} keeps its history), pass allow_unknown_ids=True."
        )

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

    def __repr__(self) -> str:
        """One line: how many entries of each kind (the lists themselves can be long)."""
        return f"Directory({', '.join(_count(counted) for counted in self._counted())})"

    def _repr_html_(self) -> str:
        """A small table for notebooks: each kind, its count and its first names."""
        rows = []
        for kind, names in self._counted():
            shown = ", ".join(html.escape(name) for name in names[:PREVIEW_NAMES])
            more = len(names) - PREVIEW_NAMES
            if more > 0:
                shown += f", … ({more} more)"
            label = html.escape(_vocabulary.KINDS[kind].plural)
            rows.append(f"<tr><th>{label}</th><td>{len(names)}</td><td>{shown}</td></tr>")
        head = "<tr><th></th><th>count</th><th>first names</th></tr>"
        return f"<table><caption>Directory</caption>{head}{''.join(rows)}</table>"

    def _counted(self) -> list[tuple[str, list[str]]]:
        """(kind, names in the directory's order) for every kind."""
        return [(kind, list(self._names[kind].values())) for kind in KINDS]


def directory_if_readable(load: Callable[[], Directory], owner: object) -> Directory | None:
    """``load()``, or None when there is no permission to read the directory.

    The first time for each ``owner`` (a client), a :class:`~metrics_toolkit.DirectoryWarning`
    says so: names and ids then go out as given, unchecked, and groups are labelled by id.

    Parameters
    ----------
    load : callable
        Returns the directory (``client.directory``); may raise ``PermissionDeniedError``.
    owner : object
        Who is told once (weakly referenced; an owner that cannot be is told every time).
    """
    try:
        return load()
    except PermissionDeniedError as error:
        with _TOLD_LOCK:
            told = owner in _TOLD_UNREADABLE
            with contextlib.suppress(TypeError):
                _TOLD_UNREADABLE.add(owner)
        if not told:
            warnings.warn(
                f"the directory cannot be read ({error}); names and ids are sent as given, "
                "unchecked, and groups are labelled with their ids",
                DirectoryWarning,
                stacklevel=4,
            )
        return None


def looks_like_id(value: str) -> bool:
    """No spaces and no ``@``, with a digit, ``-`` or ``_``: an id, not a mistyped name."""
    return (
        not any(char.isspace() for char in value)
        and "@" not in value
        and any(char.isdigit() or char in "-_" for char in value)
    )


def _count(counted: tuple[str, list[str]]) -> str:
    """``"5 organizations"``, ``"1 user"``."""
    kind, names = counted
    words = _vocabulary.KINDS[kind]
    return f"{len(names)} {words.label if len(names) == 1 else words.plural.lower()}"


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidParameterError(
            "kind", f"got {kind!r}; expected one of {', '.join(map(repr, KINDS))}"
        )
    return kind
