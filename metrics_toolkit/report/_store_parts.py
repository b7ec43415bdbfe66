"""Reading a store for :class:`~metrics_toolkit.report.source.StoreSource`: its groups as a
directory, the range it holds, and active users of a bucket cut by the range."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from .._vocabulary import ACTIVE_USERS, BUCKET_END, BUCKET_START, ID_FIELDS, KINDS
from ..buckets import bucket_floor
from ..directory import Directory
from ..errors import InvalidParameterError
from ..models import Organization, Playbook, ServiceUser, User
from ..params import to_timestamp
from ..store import Store

__all__ = [
    "check_range",
    "cut_active_users",
    "held_ranges",
    "store_directory",
    "whole_range",
]

#: More than one bucket of each grain and less than two: from a bucket's start, the next
#: bucket's start is the floor of this much later.
_STEP = {
    "day": pd.Timedelta(hours=36),
    "week": pd.Timedelta(days=7, hours=12),
    "month": pd.Timedelta(days=31, hours=12),
}


def store_directory(store: Store, tables: Sequence[str]) -> Directory:
    """The groups a store keeps by breakdown (its ``*_by_<kind>`` tables), with their names,
    in the order they were synced: a directory without the API."""
    entries: dict[str, list[tuple[str, str]]] = {}
    for kind in KINDS:
        kept = [t for t in tables if t.endswith(f"_by_{kind}")]
        if not kept:
            entries[kind] = []
            continue
        table = f"sessions_by_{kind}" if f"sessions_by_{kind}" in kept else kept[0]
        id_field, name = ID_FIELDS[kind], KINDS[kind].name_column
        columns = set(store.sql(f'SELECT * FROM "{table}" LIMIT 0').columns)
        label = name if name in columns else id_field
        rows = store.sql(
            f'SELECT "{id_field}" AS id, any_value("{label}") AS name, '
            f'min(group_position) AS position FROM "{table}" GROUP BY 1 ORDER BY 3, 1'
        )
        entries[kind] = [(str(i), str(n)) for i, n in zip(rows["id"], rows["name"], strict=True)]
    return Directory(
        organizations=[
            Organization(org_id=i, name=n, created_at=0, updated_at=0) for i, n in entries["org"]
        ],
        users=[User(user_id=i, name=n) for i, n in entries["user"]],
        service_users=[ServiceUser(service_user_id=i, name=n) for i, n in entries["service_user"]],
        playbooks=[Playbook(playbook_id=i, title=n) for i, n in entries["playbook"]],
    )


def held_ranges(store: Store, tables: Sequence[str]) -> dict[str, tuple[Any, Any]]:
    """Each table's first bucket start and last bucket end (NaT for an empty table), in one
    query."""
    parts = [
        f"SELECT '{table}' AS name, min({BUCKET_START}) AS first, max({BUCKET_END}) AS last "
        f'FROM "{table}"'
        for table in tables
    ]
    held = store.sql(" UNION ALL ".join(parts))
    return {
        str(name): (first, last)
        for name, first, last in zip(held["name"], held["first"], held["last"], strict=True)
    }


def check_range(
    held: tuple[Any, Any],
    table: str,
    span: tuple[Any, Any],
    zone: str,
    now: pd.Timestamp,
    sync: str,
) -> None:
    """Refuse a range the store does not hold (``held``: its table's first bucket start and
    last bucket end): before its first row, or after its last one while before its now."""
    start, end = span
    first, last = held
    if pd.isna(first):
        raise InvalidParameterError("store", f"the {table!r} table is empty: fill it with {sync}")
    asked = to_timestamp(start, "start", zone).tz_convert(zone)
    first = pd.Timestamp(first).tz_convert(zone)
    if asked < first:
        day = asked.date().isoformat()
        raise InvalidParameterError(
            "start",
            f"the store keeps {table!r} from {first.isoformat()} on, not from "
            f"{asked.isoformat()}: fill the days before with "
            f"{sync.replace(', start', f', {day!r}')}",
        )
    until = min(to_timestamp(end, "end", zone), now)
    if pd.Timestamp(last) < until:
        raise InvalidParameterError(
            "end",
            f"the store's {table!r} ends at {pd.Timestamp(last).isoformat()}, before "
            f"{until.isoformat()}: bring it up to date with {sync}, or read it as of its "
            "last sync (mt.Store(path, now=...))",
        )


def cut_active_users(
    frame: pd.DataFrame, start: Any, end: Any, zone: str, now: pd.Timestamp
) -> pd.DataFrame:
    """Active users of a bucket cut by the range: the store keeps whole buckets only, so
    the cut one is moved to the range's edges and ``clipped``, with NA users (a distinct
    count of part of a bucket cannot be read from it), as a fetch would cut it."""
    first, last = to_timestamp(start, "start", zone), to_timestamp(end, "end", zone)
    early, late = frame.index < first, (frame[BUCKET_END] > last).to_numpy()
    if not (early.any() or late.any()):
        return frame
    result = frame.copy()
    index = result.index.where(~early, first.tz_convert(zone))
    result.index = index.astype(frame.index.dtype).rename(frame.index.name)
    result[BUCKET_END] = result[BUCKET_END].where(~late, last.tz_convert(zone))
    for column, moved, edge in (("start_time", early, first), ("end_time", late, last)):
        if column in result.columns:  # the answer's own window, in epoch seconds
            seconds = result[column].where(~moved, int(edge.timestamp()))
            result[column] = seconds.astype(frame[column].dtype)
    result["partial"] = result[BUCKET_END] > now
    result["clipped"] = result["clipped"].astype(bool) | early | late
    result[ACTIVE_USERS] = result[ACTIVE_USERS].mask(early | late)
    result.attrs = dict(frame.attrs)
    return result


def whole_range(start: Any, end: Any, grain: str, zone: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The range widened to whole buckets of ``grain`` (day, week or month) of ``zone``: the
    store keeps distinct counts of whole buckets only."""
    first = bucket_floor(to_timestamp(start, "start", zone), grain, zone)
    last = to_timestamp(end, "end", zone)
    floor = bucket_floor(last, grain, zone)
    if floor != last:
        last = bucket_floor(floor + _STEP[grain], grain, zone)
    return first, last
