"""Frames in the API's own calendars: active users per UTC day, week or month from the native
DAU/WAU/MAU lists, and ACU consumption per billing day (08:00 UTC to 08:00 UTC).

Neither calendar is relabelled as another: the native lists serve UTC days, Monday-start UTC
weeks and UTC months only (active users of a Berlin week are exact by asking
``fetch_series(..., metric="active_users", tz="Europe/Berlin")``, one distinct count per
bucket); consumption stays in billing days and rolls up by billing day
(:func:`~metrics_toolkit.frames.rollup`: a billing day belongs to the week or month its start
falls in, so a billing week is Monday 08:00 UTC to Monday 08:00 UTC).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import _vocabulary as words
from ._rules import ENDPOINT_ATTR
from ._vocabulary import ACTIVE_THRESHOLD, BILLING_CALENDAR, BUCKET_START, ID_FIELDS
from .buckets import time_buckets
from .errors import InvalidParameterError
from .frames import flatten
from .params import TimeLike, check_names, to_timestamp

if TYPE_CHECKING:
    from .client import MetricsClient

__all__ = ["CONSUMPTION_BY", "NATIVE_FREQS", "fetch_active_user_periods", "fetch_consumption"]

#: The native lists by the calendar they serve (all UTC): ``freq`` -> the metric.
NATIVE_FREQS = {"day": "dau", "week": "wau", "month": "mau"}
#: The entities whose consumption a frame breaks down by: ``by`` -> the typed method's param.
CONSUMPTION_BY = {kind: ID_FIELDS[kind] for kind in ("org", "user", "service_user")}
_UTC = "UTC"


def fetch_active_user_periods(
    client: MetricsClient,
    start: TimeLike,
    end: TimeLike,
    freq: str = "week",
    *,
    tz: str = _UTC,
    org_ids: Sequence[str] | None = None,
    min_sessions: int = ACTIVE_THRESHOLD,
    min_searches: int = ACTIVE_THRESHOLD,
    refresh: bool = False,
) -> pd.DataFrame:
    """Distinct active users per UTC day, Monday-start UTC week or UTC month, from the native
    DAU, WAU or MAU list: one call for the whole range.

    Parameters
    ----------
    client : MetricsClient
    start, end : TimeLike
        The range, half-open; naive values are UTC. A bucket cut by it is ``clipped``; the
        buckets that start at or after the client's now are not asked for.
    freq : {"day", "week", "month"}, default "week"
        The list: DAU, WAU (Monday 00:00 UTC to Monday 00:00 UTC) or MAU.
    tz : {"UTC"}
        Only UTC: the lists' calendars are UTC. For another zone's calendar ask
        ``fetch_series(client, start, end, freq, tz=..., metric="active_users")``, which is
        exact (one distinct count per bucket).
    org_ids : sequence of str, optional
        Users active in any of these organizations (ids or names; enterprise scope only).
    min_sessions, min_searches : int, default 1
        The activity thresholds (>= 0; 0 turns one off).
    refresh : bool, default False
        Ask the server even for a stored answer.

    Returns
    -------
    pandas.DataFrame
        One row per bucket: index ``bucket_start`` (tz-aware UTC), ``bucket_end``,
        ``partial``, ``clipped``, ``failed`` (no period in the answer: NA), ``active_users``
        (Int64, never summed: rollup refuses it). ``attrs``: ``freq``, ``tz``, ``endpoint``
        (``"dau"``, ``"wau"`` or ``"mau"``), ``now``.

    Raises
    ------
    InvalidParameterError
        Before any request, for another ``tz`` or ``freq``, or a range wholly after now.
    """
    if tz != _UTC:
        raise InvalidParameterError(
            "tz",
            f"got {tz!r}; the DAU/WAU/MAU lists are UTC days, Monday weeks and months only. "
            f"Active users per {tz} bucket are exact with fetch_series(client, start, end, "
            f"freq, tz={tz!r}, metric='active_users')",
        )
    if freq not in NATIVE_FREQS:
        raise InvalidParameterError(
            "freq", f"got {freq!r}; the native lists serve {', '.join(map(repr, NATIVE_FREQS))}"
        )
    now = client.now()
    buckets = [b for b in time_buckets(start, end, freq, tz=_UTC, now=now) if b.start < now]
    if not buckets:
        raise InvalidParameterError("start", f"the range starts after now ({now.isoformat()})")
    method = {
        "day": client.daily_active_users,
        "week": client.weekly_active_users,
        "month": client.monthly_active_users,
    }[freq]
    periods = method(
        buckets[0].start,
        buckets[-1].end,
        org_ids=None if org_ids is None else check_names(org_ids, "org_ids"),
        min_sessions=min_sessions,
        min_searches=min_searches,
        refresh=refresh,
    )
    counts = {period.period[0]: period.active_users for period in periods}
    values = [counts.get(b.time_after) for b in buckets]
    frame = pd.DataFrame(
        {
            words.BUCKET_END: pd.DatetimeIndex([b.end for b in buckets]),
            "partial": [b.partial for b in buckets],
            "clipped": [b.clipped for b in buckets],
            "failed": [value is None for value in values],
            words.ACTIVE_USERS: pd.array(values, dtype="Int64"),
        },
        index=pd.DatetimeIndex([b.start for b in buckets], name=BUCKET_START),
    )
    frame.attrs.update({"freq": freq, "tz": _UTC, ENDPOINT_ATTR: NATIVE_FREQS[freq], "now": now})
    return frame


def fetch_consumption(
    client: MetricsClient,
    start: TimeLike,
    end: TimeLike,
    *,
    tz: str = _UTC,
    by: str | None = None,
    ids: Sequence[str] | None = None,
    refresh: bool = False,
) -> pd.DataFrame:
    """ACUs per billing day (08:00 UTC to 08:00 UTC), by product, of the whole scope or of
    each organization, user or service user: one call per entity.

    Parameters
    ----------
    client : MetricsClient
    start, end : TimeLike
        The range; naive values are UTC. The server answers every billing day it overlaps: a
        day cut by the range is ``clipped`` (its ACUs are the whole day's).
    tz : {"UTC"}
        Only UTC: billing days are not calendar days of any zone, and are never relabelled as
        such. Roll the frame up by billing day with :func:`~metrics_toolkit.frames.rollup`.
    by : {"org", "user", "service_user"}, optional
        One frame of each entity's days, with its id column. An organization's days hold only
        Devin's ACUs, so organizations do not add up to the account.
    ids : sequence of str
        The ids (or names) to break down by; required with ``by``.
    refresh : bool, default False
        Ask the server even for stored answers.

    Returns
    -------
    pandas.DataFrame
        One row per billing day (and entity): index ``bucket_start`` (tz-aware UTC, 08:00),
        ``bucket_end`` (24 hours later), ``partial`` (ends after now), ``clipped``,
        ``failed``, ``acus`` (float, ACUs) and ``acus_by_product.<product>`` (float; NaN where
        not sent). ``attrs["calendar"]`` is ``"billing days (08:00 UTC)"``, ``attrs
        ["endpoint"]`` ``"consumption"``.

    Raises
    ------
    InvalidParameterError
        Before any request, for another ``tz``, an unknown ``by``, or ``by`` without ids.
    """
    if tz != _UTC:
        raise InvalidParameterError(
            "tz",
            f"got {tz!r}; consumption comes in billing days (08:00 UTC to 08:00 UTC), which "
            f"are not calendar days of {tz}: the frame stays in UTC billing days",
        )
    if by is not None and by not in CONSUMPTION_BY:
        raise InvalidParameterError(
            "by", f"got {by!r}; expected None or one of {', '.join(map(repr, CONSUMPTION_BY))}"
        )
    groups: list[str | None] = [None]
    if by is not None:
        groups = list(check_names(ids, "ids") or [])
        if not groups:
            raise InvalidParameterError("ids", f"by={by!r} needs the ids to break down by")
    after, before = to_timestamp(start, "start", _UTC), to_timestamp(end, "end", _UTC)
    now = client.now()
    parts = []
    for group in groups:
        entity: dict[str, Any] = {} if by is None else {CONSUMPTION_BY[by]: group}
        answer = client.consumption(after, before, refresh=refresh, **entity)
        parts.append(_days(answer.consumption_by_date, after, before, now, by, group))
    frame = pd.concat(parts) if len(parts) > 1 else parts[0]
    frame.index.name = BUCKET_START
    frame.attrs.update(
        {
            "freq": "billing day",
            "tz": _UTC,
            "calendar": BILLING_CALENDAR,
            ENDPOINT_ATTR: "consumption",
            "group_by": by,
            "now": now,
        }
    )
    return frame


def _days(
    days: Sequence[Any],
    after: pd.Timestamp,
    before: pd.Timestamp,
    now: pd.Timestamp,
    by: str | None,
    group: str | None,
) -> pd.DataFrame:
    """One entity's billing days as rows."""
    starts = pd.DatetimeIndex(pd.to_datetime([d.date for d in days], unit="s", utc=True))
    ends = starts + pd.Timedelta(seconds=words.BILLING_DAY)
    data: dict[str, Any] = {}
    if by is not None:
        data[ID_FIELDS[by]] = [group] * len(days)
    data[words.BUCKET_END] = ends
    data["partial"] = np.asarray(ends > now, dtype=bool)
    data["clipped"] = np.asarray((starts < after) | (ends > before), dtype=bool)
    data["failed"] = np.zeros(len(days), dtype=bool)
    rows = [flatten(day) for day in days]
    columns = dict.fromkeys(k for row in rows for k in row if k != "date")
    for column in columns:
        data[column] = np.array([row.get(column) for row in rows], dtype=float)
    frame = pd.DataFrame(data, index=starts)
    return frame
