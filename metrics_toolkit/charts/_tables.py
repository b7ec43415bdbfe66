"""What a chart draws, as per-bucket tables: the frame's total, each group's, and their sizes.

Every number comes from :mod:`metrics_toolkit.combine`: a bucket's total is
:func:`~metrics_toolkit.combine.combine_groups` of its rows, a group's line is the same function
over that group's rows, and "other" over the rest, so rates are ratios of sums and averages
are re-weighted by sessions, exactly as a fetch of that scope would give them. A rate or share
over fewer than :data:`~metrics_toolkit._constants.MIN_SESSIONS` sessions is flagged
(:func:`too_few`) and drawn hollow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._constants import MIN_SESSIONS
from .._vocabulary import KINDS, SESSIONS, Kind
from ..combine import combine_groups, group_column
from ..summaries import check_wide_frame, floats, top_groups
from ._draw import OTHER_COLOR, Flags, Floats, group_colors

__all__ = [
    "MAX_NAMED_GROUPS",
    "GroupSeries",
    "breakdown_kind",
    "bucket_table",
    "category_columns",
    "column",
    "group_series",
    "scope_text",
    "shares",
    "to_floats",
    "too_few",
]

#: Most groups a combined chart's title names one by one ("Platform and Growth combined").
MAX_NAMED_GROUPS = 3


def bucket_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket, sorted: the frame itself, or its groups combined
    (:func:`~metrics_toolkit.combine.combine_groups`)."""
    check_wide_frame(frame)
    return combine_groups(frame).sort_index(kind="stable")


def to_floats(values: pd.Series) -> Floats:
    """A column as float64 with NaN for NA."""
    return floats(values).to_numpy(dtype=np.float64, copy=True)


def column(table: pd.DataFrame, name: str) -> Floats:
    """``table[name]`` as float64, all NaN when absent (a frame whose every call failed)."""
    if name not in table.columns:
        return np.full(len(table), np.nan)
    return to_floats(table[name])


def too_few(sessions: Floats) -> Flags:
    """Where a rate or share rests on fewer than ``MIN_SESSIONS`` sessions (a count, 0 or more).

    A bucket without sessions (no rate at all) or without an answer (NaN) is not flagged: it is
    a gap, not a point.
    """
    return (sessions > 0) & (sessions < MIN_SESSIONS)


def category_columns(table: pd.DataFrame, field: str, order: Sequence[str]) -> list[str]:
    """``<field>.<category>`` columns: documented ones in ``order``, then added ones by name.

    A category that is zero (or NA) in every bucket is left out.
    """
    prefix = field + "."
    present = [c.removeprefix(prefix) for c in table.columns if c.startswith(prefix)]
    ordered = [c for c in order if c in present] + sorted(c for c in present if c not in order)
    return [
        f"{prefix}{category}"
        for category in ordered
        if np.nansum(to_floats(table[f"{prefix}{category}"])) > 0
    ]


def shares(values: pd.DataFrame) -> pd.DataFrame:
    """Each row divided by its total (NaN for a row whose total is 0 or NA)."""
    totals = values.sum(axis=1, skipna=False)
    return values.div(totals.where(totals > 0), axis=0)


# -- groups ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupSeries:
    """One group's line (or bar) of a breakdown chart, or "other": the rest combined."""

    label: str
    """The group's name (``<kind>_name``), its id when it has none, or ``"other"``."""
    group_id: str | None
    """The group's id; None for "other"."""
    color: str
    """Its colour: :func:`~._draw.group_colors` of every group, or :data:`~._draw.OTHER_COLOR`."""
    table: pd.DataFrame
    """One row per bucket of the chart (``starts``), the group's rows combined exactly; NA
    where the group has no row or a failed one."""


def breakdown_kind(frame: pd.DataFrame) -> Kind | None:
    """The kind of a breakdown frame (by its group column); None for a total frame."""
    group = group_column(frame)
    return next((kind for kind in KINDS.values() if kind.id_field == group), None)


def group_series(frame: pd.DataFrame, top: int, starts: pd.DatetimeIndex) -> list[GroupSeries]:
    """The ``top`` groups by total sessions, then "other" (the rest), each as a per-bucket table.

    Parameters
    ----------
    frame : pandas.DataFrame
        A breakdown frame.
    top : int
        Groups kept on their own, 1 or more; ranked, labelled and split off as
        :func:`~metrics_toolkit.summaries.top_groups` does.
    starts : pandas.DatetimeIndex
        The chart's buckets: every table is indexed by them.

    Returns
    -------
    list of GroupSeries
        Largest first, "other" last when there are more than ``top`` groups. Each table is
        :func:`~metrics_toolkit.combine.combine_groups` of the rows it stands for.
    """
    group = group_column(frame)
    assert group is not None
    ranked = top_groups(frame, top=top, column=SESSIONS)
    ids_by_label: dict[str, str] = ranked.attrs["group_ids"]
    ids = frame[group].astype(str)
    colors = group_colors(ids)
    series = []
    for label in ranked.columns:
        group_id = ids_by_label.get(label)
        if group_id is None:  # "other"
            rows = frame[~ids.isin(list(ids_by_label.values())).to_numpy()]
        else:
            rows = frame[(ids == group_id).to_numpy()]
        table = combine_groups(rows).sort_index(kind="stable").reindex(starts)
        color = OTHER_COLOR if group_id is None else colors[group_id]
        series.append(GroupSeries(str(label), group_id, color, table))
    return series


def scope_text(frame: pd.DataFrame, *, combined: bool) -> str:
    """Whose numbers a chart of ``frame`` shows, for its title ("" for a total frame).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame.
    combined : bool
        Whether the chart adds the groups up (True) or draws each one (False).

    Returns
    -------
    str
        One group: ``' for organization “Platform”'``; several drawn apart: ``" by
        organization"``; several added up: ``", Platform and Growth combined"`` (named up to
        :data:`MAX_NAMED_GROUPS`, else ``", 5 organizations combined"``).
    """
    kind = breakdown_kind(frame)
    if kind is None:
        return ""
    count = int(frame[kind.id_field].nunique())
    if count == 1:  # named by its name column, else its id: there is nothing to rank
        names = frame.get(kind.name_column, frame[kind.id_field]).dropna()
        label = names.iloc[0] if len(names) else frame[kind.id_field].iloc[0]
        return f" for {kind.label} “{label}”"
    if not combined:
        return f" by {kind.label}"
    if count > MAX_NAMED_GROUPS:
        return f", {count} {kind.plural.lower()} combined"
    labels = [str(label) for label in top_groups(frame, top=count).columns]
    return f", {', '.join(labels[:-1])} and {labels[-1]} combined"
