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
- :func:`kpi_table`: the last finished bucket against the one before it;
- :func:`top_groups`: the top N groups of a breakdown and the rest as "other".

No matplotlib here: tables in, tables out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ._vocabulary import (
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
from .buckets import SECONDS_PER_DAY, Frequency, parse_freq
from .errors import InvalidParameterError
from .frames import combine_groups, count_columns, group_column
from .labels import MISSING, rate_text
from .params import check_positive_int

__all__ = [
    "CARD_KPIS",
    "KPIS",
    "KPI_LABELS",
    "RATE_KPIS",
    "Kpi",
    "bucket_totals",
    "check_wide_frame",
    "floats",
    "frame_frequency",
    "frame_tz",
    "kpi_table",
    "kpi_text",
    "kpis_of",
    "ratio",
    "top_groups",
]

WIDE_FRAME = "expected a wide frame indexed by a tz-aware bucket_start"
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


#: Every KPI, in the order tables list them: sessions, merged-PR rate, ACUs, playbook share.
KPIS: dict[str, Kpi] = {
    SESSIONS: Kpi("Sessions created", "count"),
    MERGE_RATE: Kpi("Merged-PR rate", "rate"),
    ACUS_TOTAL: Kpi("ACUs total", "count"),
    AVERAGE: Kpi("ACUs per session", "average"),
    PLAYBOOK_SHARE: Kpi("Playbook share", "rate"),
}
#: Each KPI's label.
KPI_LABELS: dict[str, str] = {metric: kpi.label for metric, kpi in KPIS.items()}
#: The KPIs that are fractions 0-1 (shown in percent, changes in percentage points).
RATE_KPIS = tuple(metric for metric, kpi in KPIS.items() if kpi.style == "rate")
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


# -- reading a frame -------------------------------------------------------------------------


def check_wide_frame(frame: pd.DataFrame) -> None:
    """Refuse anything but a non-empty wide frame (tz-aware index, ``bucket_end`` and flags).

    Raises
    ------
    InvalidParameterError
        Naming ``frame``.
    """
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise InvalidParameterError("frame", WIDE_FRAME)
    missing = [c for c in (BUCKET_END, *ROW_FLAGS) if c not in frame.columns]
    if missing:
        raise InvalidParameterError("frame", f"expected a wide frame; missing {missing}")
    if frame.empty:
        raise InvalidParameterError("frame", "the frame has no bucket")


def floats(values: Any) -> pd.Series:
    """A column as float64 with NaN for NA (and for anything that is not a number)."""
    series = values if isinstance(values, pd.Series) else pd.Series(values)
    return pd.to_numeric(series, errors="coerce").astype("Float64").astype("float64")


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``; NaN when the denominator is not above 0.

    Examples
    --------
    >>> ratio(3, 4), ratio(3, 0)
    (0.75, nan)
    """
    if not denominator > 0 or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def frame_tz(frame: pd.DataFrame) -> str:
    """The time zone of a wide frame's calendar: ``attrs["tz"]``, else its index's.

    Raises
    ------
    InvalidParameterError
        Naming ``frame``, when it has neither.
    """
    zone = frame.attrs.get("tz")
    if zone:
        return str(zone)
    index = frame.index
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        return str(index.tz)
    raise InvalidParameterError("frame", WIDE_FRAME)


#: Bucket lengths, in days, that name a calendar frequency (DST and month lengths included).
CALENDAR_LENGTHS = (
    ("day", 0.95, 1.05),
    ("week", 6.9, 7.1),
    ("month", 27.9, 31.1),
    ("quarter", 88.9, 92.1),
    ("year", 364.9, 366.1),
)


def frame_frequency(frame: pd.DataFrame) -> Frequency:
    """``attrs["freq"]`` parsed, else inferred from the median length of unclipped buckets.

    Returns
    -------
    Frequency
        A calendar frequency when the median length is a day, week, month, quarter or year
        (within DST and month-length slack), else a fixed one of that many seconds (at
        least 1).
    """
    freq = frame.attrs.get("freq")
    if freq is not None:
        try:
            return parse_freq(freq)
        except InvalidParameterError:
            pass
    lengths = pd.DatetimeIndex(frame[BUCKET_END]) - pd.DatetimeIndex(frame.index)
    whole = lengths[~frame["clipped"].to_numpy(dtype=bool)]
    seconds = float((whole if len(whole) else lengths).median().total_seconds())
    days = seconds / SECONDS_PER_DAY
    for label, low, high in CALENDAR_LENGTHS:
        if low <= days <= high:
            return Frequency(label)
    return Frequency("fixed", seconds=max(1, round(seconds)))


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
        ``acus_total`` (float64; 0 for a bucket without sessions).

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
        acus = floats(combined[ACUS_TOTAL])
        table[ACUS_TOTAL] = acus.where(~(table[SESSIONS] == 0), 0.0)
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


def kpi_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The last finished bucket's KPIs against the bucket before it.

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

    Returns
    -------
    pandas.DataFrame
        Indexed by ``metric`` (:data:`CARD_KPIS`), columns ``label``, ``current`` and
        ``previous`` (float64; the rate as a fraction 0-1), ``change`` (``current -
        previous``, so percentage points / 100 for the rate) and ``change_pct`` (``change /
        previous`` in percent; NaN when ``previous`` is 0 or NaN). ``attrs`` holds
        ``bucket_start``, ``bucket_end``, ``previous_start`` (Timestamps, or None when there
        is no such bucket), ``failed`` (whether the current bucket has no numbers), ``freq``
        and ``tz``.

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
    totals = bucket_totals(frame)
    unsettled = (totals["partial"] | totals["clipped"]).to_numpy(dtype=bool)
    failed = totals["failed"].to_numpy(dtype=bool)
    finished = np.flatnonzero(~unsettled)
    position = int(finished[-1]) if len(finished) else None
    nan = dict.fromkeys(CARD_KPIS, math.nan)
    current, previous = nan, nan
    has_previous = False
    if position is not None and not failed[position]:
        current = kpis_of(totals.iloc[position])
        before = position - 1
        has_previous = before >= 0 and not (unsettled[before] or failed[before])
        if has_previous:
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
    result.attrs = {
        "bucket_start": None if position is None else index[position],
        "bucket_end": None if position is None else totals[BUCKET_END].iloc[position],
        "previous_start": index[position - 1] if has_previous and position is not None else None,
        "failed": position is not None and bool(failed[position]),
        "freq": frame_frequency(totals).name,
        "tz": frame_tz(totals),
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
