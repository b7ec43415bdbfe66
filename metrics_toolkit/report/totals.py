"""Reading a weekly wide frame: its columns, its time zone, and its totals per week (pure).

The KPIs, rankings and "what changed" all start here. :func:`weekly_totals` sums a frame's
additive columns over its groups, one row per bucket, and :func:`totals_and_week` finds the
report's week among those rows and checks that it is that week and complete (not partial,
clipped or failed). Every rate built on the totals is a ratio of sums, never a mean of ratios.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .._constants import MIN_SESSIONS
from .._vocabulary import (
    ACUS_TOTAL,
    AVERAGE,
    MERGED,
    MERGED_SIZE_FIELD,
    ORIGIN_FIELD,
    PLAYBOOK,
    ROW_FLAGS,
    SESSIONS,
    SIZE_FIELD,
)
from ..errors import InvalidParameterError
from ..frames import group_column
from ..labels import moment_label
from ..summaries import bucket_totals, floats, frame_tz, ratio
from .weeks import week_bounds

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

#: The ACUs of a bucket (average x sessions): the report's short name for ``acus_total``.
ACUS = ACUS_TOTAL
#: A bucket's flags: partial, clipped, failed.
FLAGS = ROW_FLAGS

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


def weekly_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket: the counts summed over groups, ``acus_total`` included.

    :func:`~metrics_toolkit.summaries.bucket_totals`, the totals the chart card reads too:
    flags are combined with "any", and a bucket where a group's row failed or is missing is
    ``failed`` with NaN sums (it is not comparable), never a smaller number. A nested count
    missing from an answer (an origin the server added later) counts as 0 there.

    Raises
    ------
    InvalidParameterError
        When ``frame`` is not indexed by a tz-aware ``bucket_start``.
    """
    return bucket_totals(frame)


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
