"""Reading a weekly wide frame: its columns, its time zone, and its totals per week (pure).

The KPIs, rankings and "what changed" all start here. :func:`weekly_totals` sums a frame's
additive columns over its groups, one row per bucket, and :func:`totals_and_week` finds the
report's week among those rows and checks that it is that week and complete (not partial,
clipped or failed). Every rate built on the totals is a ratio of sums, never a mean of ratios.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..errors import InvalidParameterError
from ..frames import group_column
from .weeks import moment_label, week_bounds

__all__ = [
    "ACUS",
    "AVERAGE",
    "FLAGS",
    "MERGED",
    "MERGED_SIZE_FIELD",
    "MIN_SESSIONS",
    "ORIGIN_FIELD",
    "PLAYBOOK",
    "SESSIONS",
    "SIZE_FIELD",
    "breakdown_column",
    "comparable",
    "floats",
    "frame_tz",
    "group_column",
    "is_complete",
    "ratio",
    "totals_and_week",
    "weekly_totals",
]

#: A rate over fewer sessions than this is flagged, left out of rankings and of "what changed".
MIN_SESSIONS = 30

SESSIONS = "sessions_created_count"
MERGED = "sessions_with_merged_prs_count"
PLAYBOOK = "sessions_created_with_playbook_count"
ACUS = "acus_total"
AVERAGE = "avg_acus_per_session"
ORIGIN_FIELD = "sessions_created_by_origin"
SIZE_FIELD = "sessions_created_by_size"
MERGED_SIZE_FIELD = "sessions_with_merged_prs_by_size"
FLAGS = ("partial", "clipped", "failed")

WIDE_FRAME = "expected a wide frame indexed by a tz-aware bucket_start"
BREAKDOWN_FRAME = "expected a breakdown frame (by='org', ...)"


def breakdown_column(frame: pd.DataFrame, parameter: str) -> str:
    """The group id column of a breakdown frame; refuse a frame without groups.

    Raises
    ------
    InvalidParameterError
        Naming ``parameter``, when ``frame`` is not a breakdown frame.
    """
    group = group_column(frame)
    if group is None:
        raise InvalidParameterError(parameter, BREAKDOWN_FRAME)
    return group


def floats(values: pd.Series) -> pd.Series:
    """A column as float64 with NaN for NA."""
    return pd.to_numeric(values, errors="coerce").astype("Float64").astype("float64")


def frame_tz(frame: pd.DataFrame) -> str:
    """The time zone of a wide frame's calendar (its ``attrs`` or its index)."""
    zone = frame.attrs.get("tz")
    if zone:
        return str(zone)
    index = frame.index
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return str(index.tz)
    raise InvalidParameterError("frame", WIDE_FRAME)


def weekly_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket: the additive columns summed over groups, ``acus_total`` included.

    Flags are combined with "any"; a failed bucket's sums are NaN. A nested count missing from
    an answer (an origin the server added later) counts as 0 there.
    """
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise InvalidParameterError("frame", WIDE_FRAME)
    table = pd.DataFrame(index=frame.index)
    for flag in FLAGS:
        table[flag] = frame[flag].astype(bool) if flag in frame.columns else False
    table["bucket_end"] = frame["bucket_end"]
    additive = [
        c
        for c in frame.columns
        if c in (SESSIONS, MERGED, PLAYBOOK)
        or c.startswith((ORIGIN_FIELD + ".", SIZE_FIELD + ".", MERGED_SIZE_FIELD + "."))
    ]
    for column in additive:
        values = floats(frame[column])
        # a count an answer did not carry (an origin the server added later) is 0 in it
        table[column] = values.fillna(0.0) if "." in column else values
    if AVERAGE in frame.columns and SESSIONS in frame.columns:
        table[ACUS] = floats(frame[AVERAGE]).fillna(0.0) * floats(frame[SESSIONS])
    grouped = table.groupby(level=0, sort=True)
    sums = grouped[[c for c in table.columns if c not in (*FLAGS, "bucket_end")]].sum(min_count=1)
    result = pd.concat(
        [grouped["bucket_end"].first(), grouped[list(FLAGS)].any(), sums], axis=1
    ).sort_index()
    result.loc[result["failed"], sums.columns] = np.nan
    return result


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN when the denominator is not above 0."""
    if not denominator > 0 or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def is_complete(row: pd.Series) -> bool:
    """Whether a bucket is neither partial, clipped nor failed."""
    return not any(bool(row[flag]) for flag in FLAGS)


def _week_position(totals: pd.DataFrame, week: str, tz: str) -> tuple[int, pd.Timestamp]:
    """The position of the week's bucket in ``totals``, checked to be that week, complete."""
    start, end = week_bounds(week, tz)
    matches = np.flatnonzero(totals.index == start)
    if not len(matches):
        raise InvalidParameterError(
            "week", f"{week} ({moment_label(start)} in {tz}) is not a bucket of the frame"
        )
    position = int(matches[0])
    row = totals.iloc[position]
    if row["bucket_end"] != end and not row["clipped"]:
        raise InvalidParameterError(
            "frame",
            f"the bucket at {moment_label(start)} is not the week {week}: fetch freq='week'",
        )
    if not is_complete(row):
        state = [flag for flag in FLAGS if bool(row[flag])]
        raise InvalidParameterError(
            "week", f"{week} is {' and '.join(state)} in the frame; its numbers are not complete"
        )
    return position, start


def totals_and_week(frame: pd.DataFrame, week: str) -> tuple[pd.DataFrame, int, pd.Timestamp]:
    """:func:`weekly_totals` of ``frame``, and the position and start of ``week`` among them.

    Raises
    ------
    InvalidParameterError
        When ``frame`` is not a wide frame indexed by a tz-aware ``bucket_start``, or ``week``
        (in the frame's time zone) is not one of its buckets, not a week, or not complete.
    """
    tz = frame_tz(frame)
    totals = weekly_totals(frame)
    position, start = _week_position(totals, week, tz)
    return totals, position, start


def comparable(totals: pd.DataFrame, first: int, stop: int, start: pd.Timestamp) -> bool:
    """Whether rows ``first:stop`` are complete and end, without a gap, at ``start``."""
    if first < 0:
        return False
    rows = totals.iloc[first:stop]
    adjacent = (rows.index[1:] == pd.DatetimeIndex(rows["bucket_end"].iloc[:-1])).all()
    return bool(
        adjacent
        and rows["bucket_end"].iloc[-1] == start
        and all(is_complete(row) for _, row in rows.iterrows())
    )
