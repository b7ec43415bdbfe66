"""Where the weekly report and the panel read their frames: the API, or a local history store.

Both read through one small interface, a *source*: :class:`ApiSource` asks the API through a
:class:`~metrics_toolkit.MetricsClient` (the fetchers, unchanged); :class:`StoreSource` reads a
store kept by :func:`~metrics_toolkit.sync` (:class:`~metrics_toolkit.Store`) and makes no
request at all. :func:`open_source` picks one.

A store keeps totals and each breakdown on its own, so reading one keeps the rules of every
other part of the package:

- a filter by organizations (or users, service users, a playbook) on an additive family is the
  store's rows of those groups combined with :func:`~metrics_toolkit.combine_groups`, the one
  combine; it needs the store synced with that breakdown (``by="org"``);
- active users are distinct counts: those of one organization are its own row, those of
  several cannot be combined (a person active in two counts once), so they are refused; a
  store keeps whole buckets of them, so a bucket cut by the range is ``clipped`` with NA
  users (a fetch counts the cut part);
- sessions by category are kept per day: a coarser bucket adds up its days' categories and
  subcategories (sessions and ACUs add up), and is NA when a day is failed or missing;
- a store keeps no billing cycles (:meth:`StoreSource.billing_cycles` is None);
- a frame the store lacks (a table not synced, days before its first or after its last sync)
  is refused with the :func:`~metrics_toolkit.sync` call that fills it.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .._constants import DEFAULT_SETTLE_PERIOD
from .._rules import ENDPOINT_ATTR
from .._vocabulary import BUCKET_END, ID_FIELDS, KIND_OF_FILTER, KINDS
from ..buckets import time_buckets
from ..combine import combine_groups
from ..directory import Directory
from ..errors import InvalidParameterError
from ..fetch import fetch_series
from ..frequencies import parse_freq
from ..periods import NATIVE_FREQS, fetch_active_user_periods, fetch_consumption
from ..store import Store
from ..store._families import ACTIVE_USERS, CONSUMPTION, family_of
from ..tables import category_frame, tidy_categories
from ._categories import category_buckets
from ._store_parts import (
    check_range,
    cut_active_users,
    held_ranges,
    store_directory,
    whole_range,
)

if TYPE_CHECKING:
    from ..client import MetricsClient

__all__ = ["ApiSource", "StoreSource", "open_source", "store_banner"]

_UTC = "UTC"
_DAY = "day"
_CATEGORIES = "categories"
#: The filters a frame takes, by the kind of group each names.
_FILTERS = tuple(KIND_OF_FILTER)


class ApiSource:
    """Frames fetched from the API through a client: the fetchers, as they are.

    Parameters
    ----------
    client : MetricsClient
    """

    def __init__(self, client: MetricsClient) -> None:
        self.client = client

    def __repr__(self) -> str:
        return f"ApiSource({self.client!r})"

    @property
    def org_id(self) -> str | None:
        """The organization the client is scoped to (None: enterprise scope)."""
        return self.client.org_id

    @property
    def settle_period(self) -> dt.timedelta:
        """How long after a bucket ends its numbers may still change."""
        return self.client.cache_policy.settle_period

    def now(self) -> pd.Timestamp:
        """The client's now (UTC)."""
        return self.client.now()

    def directory(self) -> Directory:
        """The enterprise's directory (four list calls, cached by the client)."""
        return self.client.directory()

    def billing_cycles(self) -> list[Any] | None:
        """The billing cycles the server lists."""
        return list(self.client.billing_cycles())

    def series(self, start: Any, end: Any, freq: Any = "week", **options: Any) -> pd.DataFrame:
        """:func:`~metrics_toolkit.fetch_series` with the client (same parameters)."""
        return fetch_series(self.client, start, end, freq, **options)

    def consumption(
        self, start: Any, end: Any, *, by: str | None = None, ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """:func:`~metrics_toolkit.fetch_consumption`: ACUs per billing day (08:00 UTC)."""
        return fetch_consumption(self.client, start, end, by=by, ids=ids)

    def categories(self, start: Any, end: Any, freq: Any = "week", **options: Any) -> pd.DataFrame:
        """:func:`~metrics_toolkit.category_frame`: sessions and ACUs by category, tidy."""
        return category_frame(self.client, start, end, freq, **options)

    def active_user_periods(
        self, start: Any, end: Any, freq: str, *, org_ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Distinct active users per UTC day or month, from the native lists
        (:func:`~metrics_toolkit.periods.fetch_active_user_periods`)."""
        wanted = None if org_ids is None else list(org_ids)
        return fetch_active_user_periods(self.client, start, end, freq, org_ids=wanted)


class StoreSource:
    """Frames read from a local history store: the same frames, and no request.

    Parameters
    ----------
    store : Store
        A store kept by :func:`~metrics_toolkit.sync`; its frames are judged against its
        :meth:`~metrics_toolkit.Store.now`.

    Examples
    --------
    >>> source = StoreSource(Store("history.duckdb"))  # doctest: +SKIP
    >>> weekly = source.series("2026-10-05", "2026-11-16", org_ids=["Data"])  # doctest: +SKIP
    """

    org_id: str | None = None
    """A store is read at enterprise scope."""
    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD
    """How long after a bucket ends its numbers may still change."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._tables: list[str] | None = None
        self._cached: dict[str, Any] = {}  # what a store read once keeps: zone, groups, ranges

    def __repr__(self) -> str:
        return f"StoreSource({self.store!r})"

    @classmethod
    def at_last_sync(cls, path: str | Path) -> StoreSource:
        """The store at ``path`` read as of its last sync: its frames are judged against the
        latest time an answer was kept (so a report of it is the report of that moment).

        Raises
        ------
        InvalidParameterError
            Naming ``store``, when no file is there or it holds no metrics yet.
        """
        if not Path(path).is_file():
            raise InvalidParameterError("store", f"no store at {str(path)!r}: sync one first")
        moment = Store(path).last_sync()
        if moment is None:
            raise InvalidParameterError("store", f"the store {str(path)!r} is empty: sync it")
        return cls(Store(path, now=moment))

    def now(self) -> pd.Timestamp:
        """The store's now (UTC)."""
        return self.store.now()

    @property
    def tz(self) -> str | None:
        """The zone of the store's days."""
        if "tz" not in self._cached:
            self._cached["tz"] = self.store.tz
        return self._cached["tz"]  # type: ignore[no-any-return]

    def billing_cycles(self) -> None:
        """None: a store keeps no billing cycles."""
        return None

    def directory(self) -> Directory:
        """The groups the store keeps by breakdown, with their names: a directory without the
        API (organizations, users, service users and playbooks of its ``*_by_<kind>``
        tables, in the order they were synced)."""
        if "directory" not in self._cached:
            self._cached["directory"] = store_directory(self.store, self._known())
        return self._cached["directory"]  # type: ignore[no-any-return]

    def series(
        self,
        start: Any,
        end: Any,
        freq: Any = "week",
        *,
        metric: str = "sessions",
        tz: str = _UTC,
        by: str | None = None,
        ids: Sequence[str] | None = None,
        **options: Any,
    ) -> pd.DataFrame:
        """The frame :func:`~metrics_toolkit.fetch_series` gives, read from the store.

        Parameters
        ----------
        start, end, freq, tz, by, ids
            As :func:`~metrics_toolkit.fetch_series` takes them; ``tz`` must be the store's
            zone.
        metric : str, default "sessions"
            A family the store keeps (sessions, prs, searches, usage, active_users,
            categories).
        **options
            One filter at most (``org_ids``, ``user_ids``, ``service_user_ids`` or
            ``playbook_id``), read from the store's breakdown by that kind; what only a fetch
            uses (``workers``, ``progress``, ``on_progress``, ``on_error``, ``directory``,
            ...) is ignored.

        Raises
        ------
        InvalidParameterError
            A filter with a breakdown of another kind, two filters, active users of several
            groups combined, or a frame the store lacks (with the sync that fills it).
        """
        wanted = {name: options[name] for name in _FILTERS if options.get(name) is not None}
        if len(wanted) > 1:
            first, second = sorted(wanted)[:2]
            raise InvalidParameterError(
                second,
                f"a store keeps each breakdown on its own: {first} and {second} cannot both "
                "be read from it; fetch this from the API",
            )
        if not wanted:
            return self._frame(start, end, freq, tz=tz, metric=metric, by=by, ids=ids)
        name, value = next(iter(wanted.items()))
        kind = KIND_OF_FILTER[name]
        values = [value] if isinstance(value, str) else list(value)
        if by is not None:
            if by != kind:
                raise InvalidParameterError(
                    name,
                    f"a store keeps each breakdown on its own: by={by!r} filtered by {name} "
                    "cannot be read from it; fetch this from the API",
                )
            groups = values if ids is None else [i for i in ids if i in values]
            return self._frame(start, end, freq, tz=tz, metric=metric, by=by, ids=groups)
        if metric == ACTIVE_USERS and len(values) > 1:
            raise InvalidParameterError(
                name,
                f"active users are distinct counts: those of {len(values)} groups cannot be "
                "combined from the store's rows (a person active in two counts once); ask "
                "for one, or fetch them from the API",
            )
        groups_frame = self._frame(start, end, freq, tz=tz, metric=metric, by=kind, ids=values)
        return _totals(groups_frame, kind)

    def consumption(
        self, start: Any, end: Any, *, by: str | None = None, ids: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """ACUs per billing day (08:00 UTC), as :func:`~metrics_toolkit.fetch_consumption`
        gives them."""
        return self._frame(start, end, _DAY, tz=None, metric=CONSUMPTION, by=by, ids=ids)

    def categories(
        self,
        start: Any,
        end: Any,
        freq: Any = "week",
        *,
        tz: str = _UTC,
        org_ids: Sequence[str] | None = None,
        **options: Any,
    ) -> pd.DataFrame:
        """Sessions and ACUs by category per bucket, as :func:`~metrics_toolkit.category_frame`
        gives them: the store's days tidied and added up per bucket (of the organizations
        ``org_ids`` when given); a bucket with a failed or missing day is one failed row."""
        now = self.now()
        buckets = time_buckets(start, end, freq, tz=tz, now=now)
        buckets = [bucket for bucket in buckets if bucket.start < now]
        if not buckets:
            raise InvalidParameterError("start", "every bucket starts at or after now")
        first, last = buckets[0].start, buckets[-1].end
        by = None if org_ids is None else "org"
        ids = None if org_ids is None else list(org_ids)
        wide = self._frame(first, last, _DAY, tz=tz, metric=_CATEGORIES, by=by, ids=ids)
        if by is None:
            pieces = [tidy_categories(wide)]
        else:
            groups = wide.groupby(ID_FIELDS[by], sort=False)
            pieces = [tidy_categories(part) for _, part in groups]
        return category_buckets(pieces, buckets, tz, now, wide.attrs, freq)

    def active_user_periods(
        self, start: Any, end: Any, freq: str, *, org_ids: Sequence[str] | None = None
    ) -> pd.DataFrame | None:
        """Distinct active users per UTC day or month, in the columns and ``attrs`` of
        :func:`~metrics_toolkit.periods.fetch_active_user_periods`, from the store's
        ``active_users`` and ``active_users_month`` tables: None when the store's days are
        not UTC days (the native lists' calendar). A month cut by ``start`` or ``end`` is
        ``clipped`` with NA users: the store keeps whole months only."""
        if self.tz != _UTC:
            return None
        scope: dict[str, Any] = {} if org_ids is None else {"org_ids": list(org_ids)}
        frame = self.series(start, end, freq, metric=ACTIVE_USERS, tz=_UTC, **scope)
        result = frame[[BUCKET_END, "partial", "clipped", "failed", ACTIVE_USERS]].copy()
        attrs = {k: v for k, v in frame.attrs.items() if k != "cut_after_now"}
        result.attrs = {**attrs, ENDPOINT_ATTR: NATIVE_FREQS[freq]}
        return result

    # -- reading ------------------------------------------------------------------------------

    def _known(self) -> list[str]:
        if self._tables is None:
            self._tables = self.store.tables()
        return self._tables

    def _frame(
        self,
        start: Any,
        end: Any,
        freq: Any,
        *,
        tz: str | None,
        metric: str,
        by: str | None,
        ids: Sequence[str] | None,
    ) -> pd.DataFrame:
        """``Store.frame``, after checking the store holds the table and the range."""
        grain = _DAY if metric == CONSUMPTION else _grain(freq)
        table = family_of(metric, grain).table(by)
        sync = self._sync_call(by)
        if table not in self._known():
            raise InvalidParameterError(
                "store",
                f"the store {str(self.store.path)!r} has no {table!r} table: fill it with {sync}",
            )
        zone, now = tz or self.tz or _UTC, self.now()
        if "held" not in self._cached:
            self._cached["held"] = held_ranges(self.store, self._known())
        check_range(self._cached["held"][table], table, (start, end), zone, now, sync)
        whole = whole_range(start, end, grain, zone) if metric == ACTIVE_USERS else (start, end)
        breakdown: Any = by  # a kind of KINDS, as the store names it
        frame = self.store.frame(
            whole[0], whole[1], freq, tz=tz, metric=metric, by=breakdown, ids=ids
        )
        if metric == ACTIVE_USERS:  # whole buckets read, then cut as a fetch cuts them
            frame = cut_active_users(frame, start, end, zone, now)
            if "cut_after_now" in frame.attrs:
                buckets = time_buckets(start, end, freq, tz=zone, now=now)
                frame.attrs["cut_after_now"] = tuple(b for b in buckets if b.start >= now)
        if by is not None and KINDS[by].name_column in frame.columns:  # the group's name
            columns = [c for c in frame.columns if c != KINDS[by].name_column]  # after its id
            columns.insert(columns.index(ID_FIELDS[by]) + 1, KINDS[by].name_column)
            frame = frame[columns]
        if ids is not None and by is not None:
            kept = set(frame[ID_FIELDS[by]])
            name = KINDS[by].name_column
            if name in frame.columns:
                kept |= set(frame[name])
            missing = [i for i in ids if i not in kept]
            if missing:
                raise InvalidParameterError(
                    "ids",
                    f"the store keeps no rows of {', '.join(map(repr, missing))} in "
                    f"{table!r} for this range: fill them with {sync}",
                )
        return frame

    def _sync_call(self, by: str | None) -> str:
        breakdown = "" if by is None else f", by={by!r}"
        return f"mt.sync(client, {str(self.store.path)!r}, start{breakdown})"


# -- helpers --------------------------------------------------------------------------------------


def open_source(client: MetricsClient | None = None, store: Any = None) -> ApiSource | StoreSource:
    """The source of a report or panel: the store when one is given (a
    :class:`~metrics_toolkit.Store`, read as it is, or a path, read as of its last sync),
    else the client's API.

    Raises
    ------
    InvalidParameterError
        Naming ``client``, when neither is given.
    """
    if isinstance(store, StoreSource | ApiSource):
        return store
    if isinstance(store, Store):
        return StoreSource(store)
    if isinstance(store, str | Path):
        return StoreSource.at_last_sync(store)
    if store is not None:
        raise InvalidParameterError("store", f"got {store!r}; expected a Store or a path")
    if client is None:
        raise InvalidParameterError("client", "give a client, or a store (store=mt.Store(path))")
    return ApiSource(client)


def store_banner(source: StoreSource) -> tuple[str, str]:
    """Where a store's numbers come from, as (markup, text): its file and the time it is
    read as of."""
    path, moment = str(source.store.path), source.now().strftime("%Y-%m-%d %H:%M UTC")
    demo = source.store.is_demo
    lead = "Synthetic demo data, from" if demo else "Data from"
    text = f"{lead} the local history store {path}, as of {moment} (no API call)."
    markup = (
        f"{'<strong>Synthetic demo data</strong>, from' if demo else 'Data from'} the local "
        f"history store <code>{html.escape(path)}</code>, as of {html.escape(moment)} (no API "
        "call)."
    )
    return markup, text


def _grain(freq: Any) -> str:
    """The name of a frequency (``"week"``), which picks the grain of active users."""
    return str(parse_freq(freq).name)


def _totals(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The groups of a breakdown frame as one filtered frame: the one combine for additive
    families, the one group's own row for a distinct count."""
    group, name = ID_FIELDS[kind], KINDS[kind].name_column
    if frame.attrs.get(ENDPOINT_ATTR) == ACTIVE_USERS:
        result = frame.drop(columns=[c for c in (group, name) if c in frame.columns])
        result.attrs = {**frame.attrs, "group_by": None}
        return result
    if frame.attrs.get(ENDPOINT_ATTR) == _CATEGORIES:
        return frame  # added up by StoreSource.categories
    result = combine_groups(frame)
    result.attrs = {**frame.attrs, "group_by": None}
    return result
