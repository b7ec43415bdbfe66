"""Pure reader tables over a wide frame: totals per bucket, the KPIs, the top groups.

The chart card (:func:`metrics_toolkit.charts.kpi_summary`), the panel and the weekly report
(:func:`metrics_toolkit.report.weekly_kpis`) all read their numbers through this module, so
they agree:

- :func:`bucket_totals`: one row per bucket, a breakdown's groups combined by
  :func:`~metrics_toolkit.frames.combine_groups` (the one exact combine: counts summed, the ACU
  average re-weighted by sessions, NA for a bucket where a group's row failed *or is missing*,
  as in ``FetchError.frame``);
- :func:`kpis_of`: the KPIs of summed counts (:data:`KPIS`, labelled once): sessions, the
  merged-PR rate, ACUs in total and per session, the playbook share; every rate and average a
  ratio of sums, never a mean of ratios;
- :func:`kpi_table`: the last finished bucket against the one before it, each value flagged
  when it may still change (:func:`is_provisional`, :data:`SETTLING_KPIS`);
- :func:`top_groups`: the top N groups of a breakdown and the rest as "other".

No matplotlib here: tables in, tables out. Reading a frame (its checks, numbers, calendar and
when it was read, :func:`is_provisional`) is in ``_frame.py``; every name is exported here.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .._constants import DEFAULT_SETTLE_PERIOD
from .._vocabulary import (
    ACUS_TOTAL,
    AVERAGE,
    BUCKET_END,
    MERGE_RATE,
    MERGED,
    MERGED_SIZE_FIELD,
    ORIGIN_FIELD,
    OTHER_LABEL,
    PLAYBOOK,
    PLAYBOOK_SHARE,
    ROW_FLAGS,
    SEARCH,
    SESSIONS,
    SIZE_FIELD,
)
from ..errors import InvalidParameterError
from ..frames import combine_groups, count_columns, group_column
from ..labels import MISSING, rate_text
from ..params import check_duration, check_positive_int
from ._frame import (
    WIDE_FRAME,
    check_wide_frame,
    floats,
    frame_frequency,
    frame_now,
    frame_tz,
    is_provisional,
    ratio,
)

__all__ = [
    "CARD_KPIS",
    "KPIS",
    "KPI_LABELS",
    "RATE_KPIS",
    "SETTLING_KPIS",
    "Kpi",
    "bucket_totals",
    "check_wide_frame",
    "floats",
    "frame_frequency",
    "frame_now",
    "frame_tz",
    "is_provisional",
    "kpi_table",
    "kpi_text",
    "kpis_of",
    "ratio",
    "top_groups",
]

BREAKDOWN_FRAME = "expected a breakdown frame (with a group column)"

# -- the KPIs, said once ---------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    """How a KPI is named and written."""

    label: str
    """What a reader sees: ``"Merged-PR rate"``."""
    style: Literal["count", "rate", "average"]
    """How its values are written: a whole number ``"1,059"``; a fraction 0-1 in percent
    ``"41.3%"`` (changes in percentage points); a number with two decimals ``"7.24"``."""
    settles: bool = False
    """Whether a window's value still moves for the settle period after the window ended (PRs
    merge later, long sessions keep using ACUs), so that a recent value is provisional."""


#: Every KPI, in the order tables list them: sessions, merged-PR rate, ACUs, playbook share.
KPIS: dict[str, Kpi] = {
    SESSIONS: Kpi("Sessions created", "count"),
    MERGE_RATE: Kpi("Merged-PR rate", "rate", settles=True),
    ACUS_TOTAL: Kpi("ACUs total", "count", settles=True),
    AVERAGE: Kpi("ACUs per session", "average", settles=True),
    PLAYBOOK_SHARE: Kpi("Playbook share", "rate"),
}
#: Each KPI's label.
KPI_LABELS: dict[str, str] = {metric: kpi.label for metric, kpi in KPIS.items()}
#: The KPIs that are fractions 0-1 (shown in percent, changes in percentage points).
RATE_KPIS = tuple(metric for metric, kpi in KPIS.items() if kpi.style == "rate")
#: The KPIs whose recent values are provisional (:attr:`Kpi.settles`).
SETTLING_KPIS = tuple(metric for metric, kpi in KPIS.items() if kpi.settles)
#: The KPIs of the chart card (:func:`kpi_table`), in order.
CARD_KPIS = (SESSIONS, MERGE_RATE, ACUS_TOTAL, AVERAGE)
#: Counts summed over groups even when a frame holds them as floats.
ADDITIVE = (SESSIONS, MERGED, PLAYBOOK, SEARCH)
#: Fields whose ``<field>.<key>`` counts are summed; a key an answer lacks counts 0 there.
NESTED = (ORIGIN_FIELD, SIZE_FIELD, MERGED_SIZE_FIELD)


def kpi_text(metric: str, value: float) -> str:
    """A KPI's value as a reader sees it: ``"1,059"``, ``"41.3%"``, ``"7.24"``; ``"–"`` for NaN.

    Examples
    --------
    >>> kpi_text("merged_pr_rate", 0.4134), kpi_text("acus_total", 7672.4)
    ('41.3%', '7,672')
    """
    if math.isnan(value):
        return MISSING
    style = KPIS[metric].style if metric in KPIS else "count"
    if style == "rate":
        return rate_text(value)
    if style == "average":
        return f"{value:,.2f}"
    return f"{value:,.0f}"


# -- totals and KPIs -------------------------------------------------------------------------


def bucket_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket: the frame's counts summed over its groups, and ``acus_total``.

    The groups are combined by :func:`~metrics_toolkit.frames.combine_groups`: a bucket where
    a group's row failed or is missing is ``failed`` and its sums are NaN (the bucket is not
    comparable), never a smaller number.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame, with or without groups.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bucket_start`` (sorted); columns ``bucket_end``, ``partial``,
        ``clipped``, ``failed`` (bool), then every count (float64; a nested count an answer
        did not carry, such as an origin the server added later, is 0 there) and
        ``acus_total`` (float64; NaN for a bucket without sessions, as in a fetched frame
        and after :func:`~metrics_toolkit.frames.rollup`: an average over no session has no
        weight, so there is no total; a group without sessions adds nothing to the others).

    Raises
    ------
    InvalidParameterError
        When ``frame`` is not indexed by a tz-aware ``bucket_start``.
    """
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise InvalidParameterError("frame", WIDE_FRAME)
    combined = combine_groups(frame).sort_index(kind="stable")
    table = pd.DataFrame(index=combined.index)
    table[BUCKET_END] = combined[BUCKET_END]
    for flag in ROW_FLAGS:
        table[flag] = combined[flag].astype(bool) if flag in combined.columns else False
    failed = table["failed"].to_numpy(dtype=bool)
    counts = count_columns(combined)
    counts += [c for c in combined.columns if c in ADDITIVE and c not in counts]
    for column in counts:
        values = floats(combined[column])
        if column.startswith(tuple(f"{name}." for name in NESTED)):
            values = values.where(failed | values.notna(), 0.0)
        table[column] = values
    if ACUS_TOTAL in combined.columns and SESSIONS in table.columns:
        acus = floats(combined[ACUS_TOTAL])  # no session: an average without weight
        table[ACUS_TOTAL] = acus.mask(table[SESSIONS] == 0)
    table.attrs = dict(frame.attrs)
    return table


def kpis_of(sums: Mapping[str, Any] | pd.Series, buckets: int = 1) -> dict[str, float]:
    """The KPIs (:data:`KPIS`) of counts summed over ``buckets`` buckets.

    Parameters
    ----------
    sums : mapping or pandas.Series
        Summed counts by column name (a row of :func:`bucket_totals`, or several summed);
        a missing column is NaN.
    buckets : int, default 1
        How many buckets the sums cover: counts and ACUs are per bucket (their mean),
        rates and ACUs per session are ratios of the sums.

    Returns
    -------
    dict
        metric -> float; NaN where a sum is missing or the sessions are 0 (no rate).

    Examples
    --------
    >>> kpis_of({"sessions_created_count": 40, "sessions_with_merged_prs_count": 12,
    ...          "acus_total": 100.0, "sessions_created_with_playbook_count": 4})
    ... # doctest: +NORMALIZE_WHITESPACE
    {'sessions_created_count': 40.0, 'merged_pr_rate': 0.3, 'acus_total': 100.0,
     'avg_acus_per_session': 2.5, 'playbook_share': 0.1}
    """

    def total(column: str) -> float:
        value = sums.get(column, math.nan)
        return math.nan if pd.isna(value) else float(value)

    sessions, acus = total(SESSIONS), total(ACUS_TOTAL)
    return {
        SESSIONS: sessions / buckets,
        MERGE_RATE: ratio(total(MERGED), sessions),
        ACUS_TOTAL: acus / buckets,
        AVERAGE: ratio(acus, sessions),
        PLAYBOOK_SHARE: ratio(total(PLAYBOOK), sessions),
    }


def kpi_table(
    frame: pd.DataFrame,
    *,
    now: Any = None,
    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD,
) -> pd.DataFrame:
    """The last finished bucket's KPIs against the bucket before it, provisional ones flagged.

    The last finished bucket is the last that is neither partial nor clipped. When it failed,
    or a group's row is missing from it, its KPIs are NaN (not the bucket before: the frame
    has no number for its latest finished bucket). The bucket before is compared only when it
    is complete too. A breakdown frame is summed over its groups first
    (:func:`bucket_totals`); the merged-PR rate and the ACUs per session are ratios of sums
    (merged / created, ACUs / sessions), never means of ratios.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame.
    now : pandas.Timestamp, datetime or str, optional
        When the data was read; default ``frame.attrs["now"]`` (set by every fetch), else the
        current time (:func:`frame_now`).
    settle_period : datetime.timedelta, default 14 days
        How long after its end a bucket's numbers keep changing (the client's
        ``cache_policy.settle_period``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``metric`` (:data:`CARD_KPIS`), columns ``label``, ``current`` and
        ``previous`` (float64; the rate as a fraction 0-1), ``change`` (``current -
        previous``, so percentage points / 100 for the rate), ``change_pct`` (``change /
        previous`` in percent; NaN when ``previous`` is 0 or NaN), ``current_provisional`` and
        ``previous_provisional`` (bool: a value of :data:`SETTLING_KPIS` whose bucket
        :func:`is_provisional`; a change is as provisional as its two values). ``attrs`` holds
        ``bucket_start``, ``bucket_end``, ``previous_start`` (Timestamps, or None when there
        is no such bucket), ``failed`` (whether the current bucket has no numbers), ``freq``,
        ``tz``, ``now`` and ``settle_period``.

    Raises
    ------
    InvalidParameterError
        When ``frame`` is not a non-empty wide frame.

    Examples
    --------
    >>> import metrics_toolkit as mt
    >>> weekly = mt.MetricsClient.demo(now="2026-11-25").session_metrics_frame(
    ...     "2026-09-07", "2026-11-23", progress=False)
    >>> table = kpi_table(weekly)
    >>> bool(table.loc["sessions_created_count", "current"] > 0)
    True
    """
    check_wide_frame(frame)
    read_at = frame_now(frame, now)
    settle_period = check_duration(settle_period, "settle_period")
    totals = bucket_totals(frame)
    unsettled = (totals["partial"] | totals["clipped"]).to_numpy(dtype=bool)
    failed = totals["failed"].to_numpy(dtype=bool)
    finished = np.flatnonzero(~unsettled)
    position = int(finished[-1]) if len(finished) else None
    nan = dict.fromkeys(CARD_KPIS, math.nan)
    current, previous = nan, nan
    before: int | None = None  # the position of the bucket compared with
    if position is not None and not failed[position]:
        current = kpis_of(totals.iloc[position])
        if position >= 1 and not (unsettled[position - 1] or failed[position - 1]):
            before = position - 1
            previous = kpis_of(totals.iloc[before])
    result = pd.DataFrame(
        {
            "label": pd.Series({metric: KPI_LABELS[metric] for metric in CARD_KPIS}),
            "current": pd.Series({metric: current[metric] for metric in CARD_KPIS}),
            "previous": pd.Series({metric: previous[metric] for metric in CARD_KPIS}),
        }
    )
    result.index.name = "metric"
    result["change"] = result["current"] - result["previous"]
    denominator = result["previous"].where(result["previous"] != 0)
    result["change_pct"] = result["change"] / denominator * 100
    index = pd.DatetimeIndex(totals.index)
    settling = result.index.isin(SETTLING_KPIS)
    for value, at in (("current", position), ("previous", before)):
        end = None if at is None else totals[BUCKET_END].iloc[at]
        recent = end is not None and is_provisional(end, read_at, settle_period)
        result[f"{value}_provisional"] = settling & recent & result[value].notna()
    result.attrs = {
        "bucket_start": None if position is None else index[position],
        "bucket_end": None if position is None else totals[BUCKET_END].iloc[position],
        "previous_start": None if before is None else index[before],
        "failed": position is not None and bool(failed[position]),
        "freq": frame_frequency(totals).name,
        "tz": frame_tz(totals),
        "now": read_at,
        "settle_period": settle_period,
    }
    return result


# -- groups ----------------------------------------------------------------------------------


def top_groups(frame: pd.DataFrame, *, top: int = 5, column: str = SESSIONS) -> pd.DataFrame:
    """One column per group for the ``top`` groups by total, plus one summing the rest.

    Parameters
    ----------
    frame : pandas.DataFrame
        A breakdown frame (with a group column such as ``org_id``).
    top : int, default 5
        How many groups to keep, 1 or more; ranked by their total of ``column`` over the
        frame (ties by label).
    column : str, default "sessions_created_count"
        An additive count column.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bucket_start``, float64 columns named by the groups' labels (the
        ``<kind>_name`` column when there is one; ``"name (id)"`` when two groups share a
        name), largest first, then ``"other"`` when there are more than ``top`` groups.
        NaN where a group's bucket failed; "other" is NaN where any of its groups failed.
        ``attrs["group_ids"]`` maps each label to its group id ("other" has none).

    Raises
    ------
    InvalidParameterError
        For a frame without a group column, or ``top`` below 1.
    """
    top = check_positive_int(top, "top")
    check_wide_frame(frame)
    group = group_column(frame)
    if group is None:
        raise InvalidParameterError("frame", BREAKDOWN_FRAME)
    values = pd.DataFrame(
        {"bucket_start": frame.index, "group": frame[group].astype(str).to_numpy()}
    )
    values["value"] = floats(frame[column]).to_numpy()
    wide = values.pivot(index="bucket_start", columns="group", values="value").sort_index()
    wide.columns.name = None
    labels = _group_labels(frame, group)
    totals = wide.sum(axis=0, skipna=True)
    ranking = sorted(wide.columns, key=lambda g: (-totals[g], labels[g]))
    kept, rest = ranking[:top], ranking[top:]
    table = wide[kept].copy()
    if rest:
        table[OTHER_LABEL] = wide[rest].sum(axis=1, skipna=False)
    table = table.rename(columns=labels)
    table.attrs["group_ids"] = {labels[g]: g for g in kept}
    return table


def _group_labels(frame: pd.DataFrame, group: str) -> dict[str, str]:
    """id -> the name from the ``<kind>_name`` column (the id when unknown or absent)."""
    name_column = group.removesuffix("_id") + "_name"
    ids = frame[group].astype(str)
    if name_column in frame.columns:
        names = frame[name_column].astype(str).where(frame[name_column].notna(), ids)
        labels = dict(zip(ids, names, strict=True))
    else:
        labels = {group_id: group_id for group_id in ids}
    counts = pd.Series(list(labels.values())).value_counts()
    return {
        group_id: f"{label} ({group_id})" if counts[label] > 1 and label != group_id else label
        for group_id, label in labels.items()
    }
