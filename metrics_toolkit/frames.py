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
- derived: ``acus_total`` (average x sessions; NaN for a bucket with no session, fetched or
  rolled up, as the average then has no weight), ``merged_pr_rate`` and
  ``merged_pr_rate.<size>``, ``playbook_share``, ``search_share``: ratios of sums, NaN where
  the denominator is 0.

Counts are nullable integers (``Int64``) so that a failed bucket is NA, not a fake 0.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, PlainSerializer, WrapSerializer

from ._vocabulary import (
    AVERAGE,
    BUCKET_START,
    DERIVED_PREFIXES,
    ERROR,
    ID_FIELDS,
    ROW_COLUMNS,
    ROW_FLAGS,
)
from .buckets import Bucket
from .combine import add_derived, combine_groups, count_columns, group_column, rollup
from .models import APIModel, SessionMetrics

__all__ = [
    "AVERAGE_COLUMN",
    "DERIVED_PREFIXES",
    "GROUP_COLUMNS",
    "KNOWN_COLUMNS",
    "ROW_COLUMNS",
    "Row",
    "add_derived",
    "combine_groups",
    "count_columns",
    "flatten",
    "group_column",
    "known_columns",
    "long_frame",
    "rollup",
    "wide_frame",
]

#: The group column for each breakdown: the id field the API gives that kind.
GROUP_COLUMNS = ID_FIELDS
#: The one non-additive metric of the answer: combined weighted by sessions.
AVERAGE_COLUMN = AVERAGE


@dataclass(frozen=True)
class Row:
    """One (group, bucket) of a series: its answer, or the error that replaced it."""

    bucket: Bucket
    group: str | None
    metrics: APIModel | None
    error: str | None = None


def flatten(metrics: APIModel) -> dict[str, Any]:
    """One answer as a flat dict under the naming scheme (unknown fields included)."""
    flat: dict[str, Any] = {}
    for name, value in metrics.model_dump().items():
        if isinstance(value, dict):
            for key, count in value.items():
                flat[f"{name}.{key}"] = count
        else:
            flat[name] = value
    return flat


@functools.cache
def known_columns(model: type[APIModel] = SessionMetrics) -> tuple[str, ...]:
    """The columns every answer of ``model`` fills, in the spec's order (nested counts as
    ``field.key``)."""
    columns: list[str] = []
    for name, field in model.model_fields.items():
        nested = field.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            columns += [f"{name}.{key}" for key in nested.model_fields]
        else:
            columns.append(name)
    return tuple(columns)


#: The metric columns of every wide frame, present even when every bucket failed.
KNOWN_COLUMNS = known_columns(SessionMetrics)
INT64_BOUNDS = (-(2**63), 2**63 - 1)
#: Values ``model_dump`` returns as they are held.
PLAIN_TYPES = frozenset({int, float, str, bool, type(None)})


def wide_frame(
    rows: Sequence[Row],
    *,
    group_by: str | None = None,
    model: type[APIModel] = SessionMetrics,
) -> pd.DataFrame:
    """The wide frame of a series: one row per (group, bucket), in the order given.

    Parameters
    ----------
    rows : sequence of Row
        The answers, failed ones with ``metrics=None``.
    group_by : {"org", "user", "service_user", "playbook"}, optional
        The breakdown, which names the group column.
    model : type, default SessionMetrics
        The model of the answers: its fields are columns even when every bucket failed.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bucket_start``; see the module docstring for the columns.
    """
    count = len(rows)
    values: dict[str, list[Any]] = {name: [None] * count for name in known_columns(model)}
    values.update(_metric_columns([row.metrics for row in rows]))
    failed = np.fromiter((row.metrics is None for row in rows), dtype=bool, count=count)
    data: dict[str, Any] = {}
    if group_by is not None:
        data[GROUP_COLUMNS[group_by]] = [row.group for row in rows]
    data[ROW_COLUMNS[0]] = pd.DatetimeIndex([row.bucket.end for row in rows])
    partial, clipped, failed_flag = ROW_FLAGS
    data[partial] = np.fromiter((row.bucket.partial for row in rows), dtype=bool, count=count)
    data[clipped] = np.fromiter((row.bucket.clipped for row in rows), dtype=bool, count=count)
    data[failed_flag] = failed
    known = [name for name in values if name in model.model_fields]
    nested = [name for name in values if "." in name]
    unknown = [name for name in values if name not in known and "." not in name]
    for name in known + nested + unknown:
        data[name] = _column(name, values[name])
    if failed.any():
        data[ERROR] = [row.error for row in rows]
    index = pd.DatetimeIndex([row.bucket.start for row in rows], name=BUCKET_START)
    return add_derived(pd.DataFrame(data, index=index))


def _metric_columns(answers: list[APIModel | None]) -> dict[str, list[Any]]:
    """The answers' flat fields as columns, None where a bucket failed or lacks the field.

    When :func:`_read_columns` can read the answers from their models it does, column by
    column; else each answer is flattened.
    """
    present = [answer for answer in answers if answer is not None]
    columns = _read_columns(present) if present else {}
    if columns is None:
        return _columns([None if answer is None else flatten(answer) for answer in answers])
    if len(present) < len(answers):  # failed buckets: None in every column
        places = [index for index, answer in enumerate(answers) if answer is not None]
        for name, values in columns.items():
            spread: list[Any] = [None] * len(answers)
            for index, value in zip(places, values, strict=True):
                spread[index] = value
            columns[name] = spread
    return columns


def _read_columns(answers: list[APIModel]) -> dict[str, list[Any]] | None:
    """The columns :func:`flatten` gives the answers, read from the models, without a dump;
    None unless the answers are of one model, hold the same fields and no extra one, and each
    field holds numbers, strings and None, or the nested model it declares holding those.

    ``model_dump`` gives a model's fields in the order its ``__dict__`` holds them (which may
    hold other keys, skipped): so are they read here.
    """
    model = type(answers[0])
    layout = _layout(model)
    if layout is None or any(type(a) is not model or a.__pydantic_extra__ for a in answers):
        return None
    held = [answer.__dict__ for answer in answers]
    keys = tuple(held[0])
    if any(tuple(fields) != keys for fields in held):
        return None
    columns: dict[str, list[Any]] = {}
    for name in _held(model, keys):
        values = [fields[name] for fields in held]
        if PLAIN_TYPES.issuperset(map(type, values)):
            columns[name] = values
            continue
        nested = layout[name]
        if nested is None or _layout(nested) is None:
            return None
        if any(type(value) is not layout[name] or value.__pydantic_extra__ for value in values):
            return None
        inner = [value.__dict__ for value in values]
        inner_keys = tuple(inner[0])
        if any(tuple(fields) != inner_keys for fields in inner):
            return None
        for key in _held(nested, inner_keys):
            column = [fields[key] for fields in inner]
            if not PLAIN_TYPES.issuperset(map(type, column)):
                return None
            columns[f"{name}.{key}"] = column
    return columns


@functools.cache
def _held(model: type[BaseModel], keys: tuple[str, ...]) -> tuple[str, ...]:
    """The keys of a ``__dict__`` that are fields of ``model``, in order."""
    return tuple(key for key in keys if key in model.model_fields)


@functools.cache
def _layout(model: type[BaseModel]) -> dict[str, type[BaseModel] | None] | None:
    """The nested model each field of ``model`` declares (None: another type), when
    ``model_dump`` gives every field as it is held: no computed or excluded field and no
    serializer. None otherwise."""
    decorators = model.__pydantic_decorators__
    if model.model_computed_fields or decorators.field_serializers or decorators.model_serializers:
        return None
    layout: dict[str, type[BaseModel] | None] = {}
    for name, field in model.model_fields.items():
        if field.exclude or getattr(field, "exclude_if", None) is not None:
            return None
        if any(isinstance(item, PlainSerializer | WrapSerializer) for item in field.metadata):
            return None
        kind = field.annotation
        layout[name] = kind if isinstance(kind, type) and issubclass(kind, BaseModel) else None
    return layout


def _columns(flats: list[dict[str, Any] | None]) -> dict[str, list[Any]]:
    """The flat answers as columns, None where a bucket failed or lacks the field.

    When every bucket answered with the same fields (the usual case) the rows are transposed
    at once; otherwise each value is placed by name.
    """
    count = len(flats)
    names = tuple(flats[0]) if flats and flats[0] is not None else None
    if names is not None and all(flat is not None and tuple(flat) == names for flat in flats):
        transposed = zip(*(flat.values() for flat in flats if flat is not None), strict=True)
        return {name: list(column) for name, column in zip(names, transposed, strict=True)}
    values: dict[str, list[Any]] = {}
    for position, flat in enumerate(flats):
        for name, value in (flat or {}).items():
            column = values.get(name)
            if column is None:
                column = values[name] = [None] * count
            column[position] = value
    return values


def _column(name: str, values: list[Any]) -> Any:
    """One metric column: nullable Int64 for counts, float64 for the average, else as sent."""
    kinds = set(map(type, values))
    if name != AVERAGE and kinds and kinds <= {int, float}:  # every bucket, numbers only
        try:
            array = np.array(values, dtype=np.int64 if kinds == {int} else float)
        except OverflowError:  # beyond 64 bits: kept exact, never rounded
            return pd.array(values, dtype=object)
        unmasked = np.zeros(len(values), dtype=bool)
        if kinds == {int}:
            return pd.arrays.IntegerArray(array, unmasked)
        return pd.arrays.FloatingArray(array, unmasked)
    mask = np.fromiter((value is None for value in values), dtype=bool, count=len(values))
    if name == AVERAGE:
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
