"""Which rule each column of a frame follows when rows are combined, read from the endpoint
the frame says it holds (``frame.attrs["endpoint"]``, a name of
:data:`~metrics_toolkit._endpoints.METRICS`, or ``"consumption"`` / ``"overview"``), and the
billing-day calendar of consumption frames (pure, no I/O).

A frame that names no endpoint follows the session metrics' rules, as before frames knew
their endpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from . import _vocabulary as words
from ._endpoints import METRICS, SESSION_METRICS, FieldRule, Rule
from .buckets import Bucket, time_buckets
from .errors import InvalidParameterError

__all__ = [
    "ENDPOINT_ATTR",
    "FRAME_FIELDS",
    "billing_buckets",
    "distinct_columns",
    "frame_fields",
    "mean_columns",
    "refuse_distinct",
    "sum_columns",
]

#: Where a frame names the endpoint (or table) its columns come from.
ENDPOINT_ATTR = "endpoint"
_SUM = FieldRule(Rule.SUM)

#: The rules of the frames that are not one endpoint's answers: ACUs per billing day add up
#: (floats: they are summed too), the common table's columns follow their endpoints, and the
#: native DAU/WAU/MAU lists hold distinct counts.
FRAME_FIELDS: dict[str, Mapping[str, FieldRule]] = {
    "consumption": {words.ACUS: _SUM, words.ACUS_BY_PRODUCT: _SUM},
    "overview": {words.ACUS: _SUM, words.ACTIVE_USERS: FieldRule(Rule.DISTINCT)},
    **{name: {words.ACTIVE_USERS: FieldRule(Rule.DISTINCT)} for name in ("dau", "wau", "mau")},
}


def frame_fields(frame: pd.DataFrame) -> Mapping[str, FieldRule]:
    """The field rules of the endpoint a frame names (the session metrics' when it names none).

    Raises
    ------
    InvalidParameterError
        When the frame names an endpoint that is not declared.
    """
    name = frame.attrs.get(ENDPOINT_ATTR)
    if name is None:
        return SESSION_METRICS.fields
    if name in FRAME_FIELDS:
        return FRAME_FIELDS[name]
    metric = METRICS.get(name)
    endpoint = None if metric is None else (metric.enterprise or metric.organization)
    if endpoint is None:
        known = ", ".join(sorted({*METRICS, *FRAME_FIELDS}))
        raise InvalidParameterError("frame", f"attrs['endpoint'] is {name!r}; expected {known}")
    return endpoint.fields


def _rule(column: str, fields: Mapping[str, FieldRule]) -> FieldRule | None:
    """The rule of a column (``field`` or ``field.key``: the field's)."""
    return fields.get(column.partition(".")[0])


def distinct_columns(frame: pd.DataFrame) -> list[str]:
    """The frame's columns that hold distinct counts (never summed)."""
    fields = frame_fields(frame)
    return [c for c in frame.columns if (r := _rule(str(c), fields)) and r.rule is Rule.DISTINCT]


def sum_columns(frame: pd.DataFrame) -> list[str]:
    """Numeric columns declared ``SUM`` (float ACUs, say), which add up like integer counts."""
    fields = frame_fields(frame)
    return [
        str(c)
        for c in frame.columns
        if (r := _rule(str(c), fields)) is not None
        and r.rule is Rule.SUM
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]


def mean_columns(frame: pd.DataFrame) -> dict[str, str]:
    """``{mean column: its weight column}`` for the means the frame holds with their weight."""
    fields = frame_fields(frame)
    return {
        name: rule.weight
        for name, rule in fields.items()
        if rule.rule is Rule.MEAN
        and rule.weight is not None
        and name in frame.columns
        and rule.weight in frame.columns
    }


def refuse_distinct(frame: pd.DataFrame, over: str) -> None:
    """Raise when the frame holds a distinct count, which combining rows would sum.

    Parameters
    ----------
    frame : pandas.DataFrame
    over : {"buckets", "groups"}
        What would be combined: coarser buckets (a rollup) or the groups of a breakdown.

    Raises
    ------
    InvalidParameterError
        Naming the column, and saying what to fetch instead (it is exact).
    """
    columns = distinct_columns(frame)
    if not columns:
        return
    if over == "buckets":
        instead = (
            "fetch the coarser buckets instead: fetch_series(..., metric='active_users', "
            "freq=<coarser>, tz=...) asks one distinct count per bucket, exactly"
        )
    else:
        instead = (
            "fetch the union instead: fetch_series(..., metric='active_users') without by=, "
            "with the groups as a filter (org_ids=[...]), asks one distinct count per bucket"
        )
    raise InvalidParameterError(
        "frame",
        f"column {columns[0]!r} is a distinct count (a user active in two {over} counts once "
        f"in their union): it is never summed; {instead}",
    )


def billing_buckets(start: pd.Timestamp, end: pd.Timestamp, freq: Any, now: Any) -> list[Bucket]:
    """Coarse buckets of billing days: the UTC calendar's ``freq`` buckets, each moved to
    start at 08:00 UTC, so a billing day belongs to the week or month its start falls in.

    A billing week runs Monday 08:00 UTC to Monday 08:00 UTC, a billing month from the 1st at
    08:00 UTC; their days nest exactly.

    Parameters
    ----------
    start, end : pandas.Timestamp
        The first billing day's start and the last one's end (08:00 UTC, tz-aware).
    freq : str
        A calendar frequency (``"week"``, ``"month"``, ...).
    now : TimeLike
        For the ``partial`` flags.
    """
    shift = pd.Timedelta(seconds=words.BILLING_DAY_START)
    calendar = time_buckets(start - shift, end - shift, freq, tz="UTC", now=now - shift)
    return [
        Bucket(b.start + shift, b.end + shift, clipped=b.clipped, partial=b.partial)
        for b in calendar
    ]
