"""Pure: answers -> DataFrames, derived metrics, exact rollups (no I/O).

Naming scheme of the wide frame (one row per bucket, or per group and bucket):

- index ``bucket_start`` (tz-aware, in the series' time zone); columns ``bucket_end``,
  ``partial`` (the bucket reaches past "now": numbers incomplete), ``clipped`` (cut by the
  requested range), ``failed`` (no answer: every metric is NA, never 0);
- the group column when there is a breakdown: ``org_id``, ``user_id``, ``service_user_id`` or
  ``playbook_id`` (and ``<kind>_name`` when labelled from the directory);
- every scalar field of the answer under its API name (``sessions_created_count``, ...);
- every nested count as ``<field>.<key>``, pandas' ``json_normalize`` convention
  (``sessions_created_by_origin.slack``, ``sessions_with_merged_prs_by_size.xl``); an origin,
  size or metric the server adds arrives as a column of the same form;
- ``avg_acus_per_session`` exactly as the server sent it (0.0 for a window with no session;
  rolled-up buckets with no session get NaN);
- derived: ``acus_total`` (average x sessions), ``merged_pr_rate`` and ``merged_pr_rate.<size>``,
  ``playbook_share``, ``search_share``: ratios of sums, NaN where the denominator is 0.

Counts are nullable integers (``Int64``) so that a failed bucket is NA, not a fake 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel

from .buckets import Bucket, time_buckets
from .errors import InvalidParameterError
from .models import ID_FIELDS, SIZES, SessionMetrics
from .params import to_timestamp

__all__ = [
    "AVERAGE_COLUMN",
    "GROUP_COLUMNS",
    "Row",
    "add_derived",
    "combine_groups",
    "count_columns",
    "long_frame",
    "rollup",
    "wide_frame",
]

#: The group column for each breakdown: the id field the API gives that kind.
GROUP_COLUMNS = ID_FIELDS
#: The one non-additive metric of the answer: combined weighted by sessions.
AVERAGE_COLUMN = "avg_acus_per_session"
SESSIONS_COLUMN = "sessions_created_count"
MERGED_COLUMN = "sessions_with_merged_prs_count"
SIZE_FIELD = "sessions_created_by_size"
MERGED_SIZE_FIELD = "sessions_with_merged_prs_by_size"
#: Columns that describe the row rather than measure it.
ROW_COLUMNS = ("bucket_end", "partial", "clipped", "failed", "error")
#: Derived columns, recomputed from sums after every rollup.
DERIVED_PREFIXES = ("acus_total", "merged_pr_rate", "playbook_share", "search_share")


@dataclass(frozen=True)
class Row:
    """One (group, bucket) of a series: its answer, or the error that replaced it."""

    bucket: Bucket
    group: str | None
    metrics: SessionMetrics | None
    error: str | None = None


def flatten(metrics: SessionMetrics) -> dict[str, Any]:
    """One answer as a flat dict under the naming scheme (unknown fields included)."""
    flat: dict[str, Any] = {}
    for name, value in metrics.model_dump().items():
        if isinstance(value, dict):
            for key, count in value.items():
                flat[f"{name}.{key}"] = count
        else:
            flat[name] = value
    return flat


def _known_columns() -> tuple[str, ...]:
    """The columns every answer fills, in the spec's order (nested counts as ``field.key``)."""
    columns: list[str] = []
    for name, field in SessionMetrics.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            columns += [f"{name}.{key}" for key in nested.model_fields]
        else:
            columns.append(name)
    return tuple(columns)


#: The metric columns of every wide frame, present even when every bucket failed.
KNOWN_COLUMNS = _known_columns()
INT64_BOUNDS = (-(2**63), 2**63 - 1)


def wide_frame(rows: Sequence[Row], *, group_by: str | None = None) -> pd.DataFrame:
    """The wide frame of a series: one row per (group, bucket), in the order given.

    Parameters
    ----------
    rows : sequence of Row
        The answers, failed ones with ``metrics=None``.
    group_by : {"org", "user", "service_user", "playbook"}, optional
        The breakdown, which names the group column.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bucket_start``; see the module docstring for the columns.
    """
    count = len(rows)
    values: dict[str, list[Any]] = {name: [None] * count for name in KNOWN_COLUMNS}
    for position, row in enumerate(rows):
        if row.metrics is None:
            continue
        for name, value in flatten(row.metrics).items():
            column = values.get(name)
            if column is None:
                column = values[name] = [None] * count
            column[position] = value
    failed = np.fromiter((row.metrics is None for row in rows), dtype=bool, count=count)
    data: dict[str, Any] = {}
    if group_by is not None:
        data[GROUP_COLUMNS[group_by]] = [row.group for row in rows]
    data["bucket_end"] = pd.DatetimeIndex([row.bucket.end for row in rows])
    data["partial"] = np.fromiter((row.bucket.partial for row in rows), dtype=bool, count=count)
    data["clipped"] = np.fromiter((row.bucket.clipped for row in rows), dtype=bool, count=count)
    data["failed"] = failed
    known = [name for name in values if name in SessionMetrics.model_fields]
    nested = [name for name in values if "." in name]
    unknown = [name for name in values if name not in known and "." not in name]
    for name in known + nested + unknown:
        data[name] = _column(name, values[name])
    if failed.any():
        data["error"] = [row.error for row in rows]
    index = pd.DatetimeIndex([row.bucket.start for row in rows], name="bucket_start")
    return add_derived(pd.DataFrame(data, index=index))


def _column(name: str, values: list[Any]) -> Any:
    """One metric column: nullable Int64 for counts, float64 for the average, else as sent."""
    mask = np.fromiter((value is None for value in values), dtype=bool, count=len(values))
    if name == AVERAGE_COLUMN:
        return np.array([np.nan if value is None else value for value in values], dtype=float)
    present = [value for value in values if value is not None]
    if all(type(value) is int for value in present):
        if present and not INT64_BOUNDS[0] <= min(present) <= max(present) <= INT64_BOUNDS[1]:
            return pd.array(values, dtype=object)  # beyond 64 bits: kept exact, never rounded
        integers = np.array([0 if value is None else value for value in values], dtype=np.int64)
        return pd.arrays.IntegerArray(integers, mask)
    if all(type(value) in (int, float) for value in present):
        floats = np.array([0.0 if value is None else value for value in values], dtype=float)
        return pd.arrays.FloatingArray(floats, mask)
    return pd.array(values, dtype=object)


def _order_columns(frame: pd.DataFrame, group_by: str | None) -> pd.DataFrame:
    head = [c for c in ("bucket_end", "partial", "clipped", "failed") if c in frame.columns]
    if group_by is not None:
        head.insert(0, GROUP_COLUMNS[group_by])
    tail = ["error"] if "error" in frame.columns else []
    known = [f for f in SessionMetrics.model_fields if f in frame.columns]
    nested = [c for c in frame.columns if "." in c]
    rest = [c for c in frame.columns if c not in {*head, *tail, *known, *nested}]
    return frame[head + known + nested + rest + tail]


def count_columns(frame: pd.DataFrame) -> list[str]:
    """The additive columns: every integer count, nested or not, known or not.

    An unknown field with fractions (a median, a ratio) is not additive: it is left out.
    """
    skip = {*ROW_COLUMNS, AVERAGE_COLUMN, *GROUP_COLUMNS.values()}
    return [
        column
        for column in frame.columns
        if column not in skip
        and not column.endswith("_name")
        and not column.startswith(DERIVED_PREFIXES)
        and pd.api.types.is_integer_dtype(frame[column])
    ]


def group_column(frame: pd.DataFrame) -> str | None:
    """The group id column of a breakdown frame (``org_id``, ...); None for a total frame."""
    return next((c for c in GROUP_COLUMNS.values() if c in frame.columns), None)


def _floats(series: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    return series.to_numpy(dtype=float, na_value=np.nan)


def _ratio(numerator: pd.Series, denominator: pd.Series) -> np.ndarray[Any, np.dtype[np.float64]]:
    """numerator / denominator as float64, NaN where the denominator is 0 or missing."""
    num, den = _floats(numerator), _floats(denominator)
    result = np.full(len(num), np.nan)
    np.divide(num, den, out=result, where=den > 0)
    return result


def add_derived(frame: pd.DataFrame) -> pd.DataFrame:
    """Add (or recompute) the derived columns from the additive ones.

    ``acus_total`` = ``avg_acus_per_session`` x ``sessions_created_count``; the rates are
    ratios of sums: ``merged_pr_rate`` = merged / created, per size from the two by-size
    counts, ``playbook_share`` and ``search_share`` over created. NaN where the denominator
    is 0 (a window with no session has no rate) or missing (a failed bucket).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame; it is not modified.

    Returns
    -------
    pandas.DataFrame
        A copy with the derived columns (float64; rates between 0 and 1) at the end.
    """
    if SESSIONS_COLUMN not in frame.columns:
        return frame.copy()
    derived: dict[str, Any] = {}
    sessions = frame[SESSIONS_COLUMN]
    if AVERAGE_COLUMN in frame.columns:
        with np.errstate(over="ignore"):  # absurd values become inf, not a warning
            derived["acus_total"] = _floats(frame[AVERAGE_COLUMN]) * _floats(sessions)
    if MERGED_COLUMN in frame.columns:
        derived["merged_pr_rate"] = _ratio(frame[MERGED_COLUMN], sessions)
    sizes = [c.split(".", 1)[1] for c in frame.columns if c.startswith(SIZE_FIELD + ".")]
    for size in sorted(sizes, key=_size_order):
        merged = f"{MERGED_SIZE_FIELD}.{size}"
        if merged in frame.columns:
            derived[f"merged_pr_rate.{size}"] = _ratio(frame[merged], frame[f"{SIZE_FIELD}.{size}"])
    for share, column in (
        ("playbook_share", "sessions_created_with_playbook_count"),
        ("search_share", "sessions_created_with_search_count"),
    ):
        if column in frame.columns:
            derived[share] = _ratio(frame[column], sessions)
    kept = frame.drop(columns=[c for c in derived if c in frame.columns])
    return pd.concat([kept, pd.DataFrame(derived, index=frame.index)], axis=1)


def _size_order(size: str) -> tuple[int, str]:
    return (SIZES.index(size) if size in SIZES else len(SIZES), size)


def long_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The tidy form of a wide frame: one row per bucket, group, metric and category.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame (from :func:`wide_frame`, a fetch or :func:`rollup`).

    Returns
    -------
    pandas.DataFrame
        Columns ``bucket_start``, ``bucket_end``, ``partial``, the group column if any,
        ``metric`` (the API's field name, or a derived name), ``category`` (the origin or size;
        ``"all"`` for a scalar metric) and ``value`` (float64; NaN for a failed bucket).
    """
    ids = ["bucket_start", "bucket_end", "partial"]
    ids += [c for c in frame.columns if c in GROUP_COLUMNS.values() or c.endswith("_name")]
    values = [
        c
        for c in frame.columns
        if c not in ids
        and c not in ROW_COLUMNS
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    table = frame.reset_index()
    melted = table.melt(id_vars=ids, value_vars=values, var_name="column", value_name="value")
    # split each column name once (a few dozen), not once per row (hundreds of thousands)
    parts = {column: column.partition(".") for column in values}
    melted["metric"] = melted["column"].map({c: head for c, (head, _, _) in parts.items()})
    melted["category"] = melted["column"].map(
        {c: tail if dot else "all" for c, (_, dot, tail) in parts.items()}
    )
    melted["value"] = pd.to_numeric(melted["value"]).astype("float64")
    return melted[[*ids, "metric", "category", "value"]]


def rollup(
    frame: pd.DataFrame,
    freq: Any,
    *,
    tz: str | None = None,
    now: Any = None,
) -> pd.DataFrame:
    """Combine fine buckets into coarser ones without fetching again.

    Counts are summed (a coarse bucket with a failed fine bucket is NA, not a smaller
    number); ``avg_acus_per_session`` is re-weighted by sessions; rates are recomputed as
    ratios of sums. A fine bucket must fall inside one coarse bucket: weeks do not nest in
    months, so weekly rows cannot be rolled up into months (fetch days instead).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame (from :func:`wide_frame` or a fetch).
    freq : str, timedelta, pandas offset or None
        The coarser frequency, as :func:`~metrics_toolkit.buckets.time_buckets` accepts;
        None combines the whole frame into one row (per group).
    tz : str, optional
        The calendar to align to; default the frame's index time zone.
    now : TimeLike, optional
        "Now" for the partial flag; default: a coarse bucket is partial when any of its fine
        buckets is.

    Raises
    ------
    InvalidParameterError
        When fine buckets straddle coarse boundaries, or the frame is not a wide frame.
    """
    if (
        not isinstance(frame, pd.DataFrame)
        or not isinstance(frame.index, pd.DatetimeIndex)
        or frame.index.tz is None
    ):
        raise InvalidParameterError(
            "frame", "expected a wide frame indexed by a tz-aware bucket_start"
        )
    if frame.empty:
        return frame.copy()
    zone = tz or str(frame.index.tz)
    start = frame.index.min()
    end = frame["bucket_end"].max()
    if freq is None:
        coarse = [Bucket(start, end, partial=now is not None and end > to_timestamp(now, "now"))]
    else:
        coarse = time_buckets(start, end, freq, tz=zone, now=now if now is not None else end)
    coarse_starts = pd.DatetimeIndex([b.start for b in coarse])
    position = coarse_starts.searchsorted(frame.index, side="right") - 1
    coarse_ends = pd.DatetimeIndex([b.end for b in coarse])
    if (pd.DatetimeIndex(frame["bucket_end"]) > coarse_ends[position]).any():
        raise InvalidParameterError(
            "freq",
            f"the frame's buckets do not nest in {freq!r} buckets (e.g. weeks in months); "
            "fetch a finer frequency such as 'day' and roll that up",
        )
    group = group_column(frame)
    table = frame.reset_index(drop=True)
    table["_coarse"] = position
    table["_seconds"] = (pd.DatetimeIndex(frame["bucket_end"]) - frame.index).total_seconds()
    spans = np.array([bucket.duration.total_seconds() for bucket in coarse])

    def incomplete(grouped: Any) -> Any:
        # fine buckets that do not cover their coarse bucket exactly (one is missing, say from
        # FetchError.frame): no total, rather than a smaller number
        positions = grouped.size().index.get_level_values("_coarse")
        return grouped["_seconds"].sum().to_numpy() != spans[positions]

    keys = ["_coarse"] if group is None else [group, "_coarse"]
    result = _combine(table, keys, incomplete)
    result = result.reset_index()
    buckets = [coarse[i] for i in result["_coarse"]]
    result["bucket_start"] = pd.DatetimeIndex([b.start for b in buckets])
    result["bucket_end"] = pd.DatetimeIndex([b.end for b in buckets])
    result["clipped"] = [b.clipped for b in buckets]
    if now is not None:
        result["partial"] = [b.partial for b in buckets]
    result = result.drop(columns="_coarse").set_index("bucket_start")
    result = _order_columns(result, _group_by(group))
    result = add_derived(result)
    result.attrs = dict(frame.attrs)
    result.attrs["freq"] = freq
    return result


def combine_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """The totals of a breakdown frame: one row per bucket, its groups combined.

    Counts are summed (NA when a group's row failed or is missing), the ACU average is
    re-weighted by sessions and the rates are recomputed as ratios of sums. A frame without
    groups is returned as it is.
    """
    group = group_column(frame)
    if group is None:
        return frame.copy()
    names = [c for c in frame.columns if c.endswith("_name")]
    table = frame.drop(columns=[group, *names]).reset_index()
    groups = frame[group].nunique()

    def incomplete(grouped: Any) -> Any:
        return grouped.size().to_numpy() != groups

    result = _combine(table, ["bucket_start"], incomplete).sort_index(kind="stable")
    result = add_derived(_order_columns(result, None))
    result.attrs = dict(frame.attrs)
    return result


def _combine(table: pd.DataFrame, keys: list[str], incomplete: Any) -> pd.DataFrame:
    """Rows of a wide table that share ``keys`` as one: counts summed, NA when any row failed
    or ``incomplete(grouped)`` says rows are missing; the ACU average re-weighted by sessions;
    ``partial``/``clipped`` when any row is; fields that cannot be added up are NaN.
    Helper columns start with ``_`` and are left out."""
    counts = [column for column in count_columns(table) if not column.startswith("_")]
    if AVERAGE_COLUMN in table.columns:
        sessions = _floats(table[SESSIONS_COLUMN])
        table = table.assign(_acus=np.nan_to_num(_floats(table[AVERAGE_COLUMN])) * sessions)
        table.loc[table["failed"].to_numpy(), "_acus"] = np.nan
    grouped = table.groupby(keys, sort=False, dropna=False)
    failed = grouped["failed"].any() | incomplete(grouped)
    sums = grouped[counts].sum(min_count=1)
    sums[failed.to_numpy()] = pd.NA
    result = sums.astype({c: table[c].dtype for c in counts})
    result.insert(0, "bucket_end", grouped["bucket_end"].max())
    result.insert(1, "partial", grouped["partial"].any())
    result.insert(2, "clipped", grouped["clipped"].any())
    result.insert(3, "failed", failed)
    for label in (c for c in table.columns if c.endswith("_name")):
        result[label] = grouped[label].first()
    if AVERAGE_COLUMN in table.columns:
        result[AVERAGE_COLUMN] = _ratio(grouped["_acus"].sum(min_count=1), result[SESSIONS_COLUMN])
    for column in _non_additive(table, counts):
        result[column] = np.nan
    return result


def _group_by(column: str | None) -> str | None:
    for kind, group in GROUP_COLUMNS.items():
        if group == column:
            return kind
    return None


def _non_additive(frame: pd.DataFrame, counts: list[str]) -> list[str]:
    """Unknown numeric fields with fractions: kept as columns when rows are combined, but NaN."""
    return [
        column
        for column in frame.columns
        if column not in counts
        and column not in (*ROW_COLUMNS, AVERAGE_COLUMN)
        and not column.startswith("_")
        and not column.startswith(DERIVED_PREFIXES)
        and pd.api.types.is_numeric_dtype(frame[column])
        and not pd.api.types.is_bool_dtype(frame[column])
    ]
