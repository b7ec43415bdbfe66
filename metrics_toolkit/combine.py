"""Pure, exact arithmetic, said once: answers and rows combined over windows and groups.

Everything that adds numbers up lives here and nowhere else: the answers of adjacent windows
(:func:`combine_answers`, which reads an endpoint's field rules), fine buckets into coarse ones
(:func:`rollup`), the groups of a breakdown into totals (:func:`combine_groups`), and the derived
columns (:func:`add_derived`: ratios of sums). The rules:

- counts are summed; when a part is missing or failed the combined count is NA, never a
  smaller number;
- a mean is re-weighted by its weight, the field its rule names (``avg_acus_per_session`` by
  ``sessions_created_count``);
- rates are ratios of sums, NaN where the denominator is 0 or missing;
- a distinct count (active users) is never summed and never rolled up: :func:`rollup` and
  :func:`combine_groups` refuse a frame that holds one (asking active users once per coarse
  bucket, or for the union of the groups, is exact);
- a state (``prs_opened_count``, ``prs_taken_over_opened_count``: of the PRs created in a window,
  those still open now) adds up over creation windows and over groups, as the PRs it counts
  do: the PRs created in a month that are open now are the sum of those of its weeks. So
  ``prs_created_count = prs_opened_count + prs_merged_count + prs_closed_count`` holds in every
  combined row, as in every answer. (It is "open now" for every part, never "open at the end
  of the window".)
- any other unknown field with fractions is never summed.

Which rule a column follows is read from the endpoint its frame names (``frame.attrs
["endpoint"]``, see :mod:`metrics_toolkit._rules`); a frame that names none follows the
session metrics'. ACUs per billing day (floats declared as sums) add up like counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from . import _vocabulary as words
from ._endpoints import SESSION_METRICS, Endpoint, Rule
from ._rules import billing_buckets, mean_columns, refuse_distinct, sum_columns
from ._vocabulary import (
    ACUS_TOTAL,
    AVERAGE,
    BILLING_CALENDAR,
    DERIVED_PREFIXES,
    ID_FIELDS,
    MERGE_RATE,
    MERGED,
    MERGED_SIZE_FIELD,
    ROW_COLUMNS,
    SESSIONS,
    SIZE_FIELD,
    SIZES,
)
from .buckets import Bucket, time_buckets
from .errors import InvalidParameterError
from .models import APIModel, SessionMetrics
from .params import to_timestamp

__all__ = [
    "add_derived",
    "combine_answers",
    "combine_groups",
    "combine_metrics",
    "count_columns",
    "group_column",
    "rollup",
    "rollup_into",
]

ModelT = TypeVar("ModelT", bound=APIModel)


def combine_answers(endpoint: Endpoint[ModelT], parts: Sequence[ModelT]) -> ModelT:
    """One answer for adjacent windows from the answers for each (pure, exact).

    Each field combines as the endpoint declares (see :mod:`metrics_toolkit._endpoints`):
    counts (integers, nested ones too, unknown ones too) are summed; a mean is re-weighted by
    its weight (0.0 when the weight sums to 0, as the API sends); a state (PRs of the window
    still open now) adds up, as the PRs of the windows do (see the module docstring). A field
    that is not an integer and has no rule (a median, a label) cannot be combined: it is kept
    when every part agrees, else it is None. A field that some window did not send is None (a
    nested count is left out): never a smaller total.

    Parameters
    ----------
    endpoint : Endpoint
        The endpoint the answers come from; it must be splittable (no distinct count).
    parts : sequence
        Answers for disjoint windows with the same filters, in time order; at least one.

    Raises
    ------
    ValueError
        With no part, or for an endpoint whose answers cannot be combined.
    """
    if not parts:
        raise ValueError("combining needs at least one answer")
    if not endpoint.splittable:
        raise ValueError(f"answers of {endpoint.path} hold distinct counts: ask for the union")
    dumped = [part.model_dump() for part in parts]
    combined: dict[str, Any] = {}
    for key in dict.fromkeys(k for d in dumped for k in d):
        if any(key not in d for d in dumped):
            combined[key] = None  # not sent for every window: no total, not a smaller one
            continue
        values = [d[key] for d in dumped]
        rule = endpoint.fields.get(key)
        if rule is not None and rule.rule is Rule.MEAN and rule.weight is not None:
            weights = [d[rule.weight] for d in dumped]
            total = sum(weights)
            weighted = sum(v * w for v, w in zip(values, weights, strict=True))
            combined[key] = weighted / total if total else 0.0
        elif all(isinstance(v, dict) for v in values):
            combined[key] = _combine_nested(values)
        else:
            combined[key] = _combine_values(values)
    return endpoint.model.model_validate(combined)


def _combine_values(values: list[Any]) -> Any:
    """Integers summed; anything else kept when every part agrees, else None."""
    if all(type(v) is int for v in values):
        return sum(values)
    return values[0] if all(v == values[0] for v in values) else None


def _combine_nested(values: list[dict[str, Any]]) -> dict[str, Any]:
    """Nested counts key by key; a key missing from a part, or not combinable, is left out
    (its column is then NA rather than a smaller number)."""
    combined = {}
    for name in dict.fromkeys(k for value in values for k in value):
        if all(name in value for value in values):
            total = _combine_values([value[name] for value in values])
            if total is not None:
                combined[name] = total
    return combined


def combine_metrics(parts: Sequence[SessionMetrics]) -> SessionMetrics:
    """:func:`combine_answers` for session metrics: counts summed, the ACU average re-weighted.

    Parameters
    ----------
    parts : sequence of SessionMetrics
        Answers for disjoint windows with the same filters; at least one.

    Examples
    --------
    >>> from metrics_toolkit.models import SessionMetrics
    >>> def answer(sessions, average):
    ...     return SessionMetrics.model_validate({
    ...         "sessions_created_count": sessions, "avg_acus_per_session": average,
    ...         "sessions_created_by_origin": {}, "sessions_created_by_size": {},
    ...         "sessions_created_with_playbook_count": 0,
    ...         "sessions_created_with_search_count": 0, "sessions_with_merged_prs_count": 0,
    ...         "sessions_with_merged_prs_by_size": {}})
    >>> combined = combine_metrics([answer(1, 4.0), answer(3, 2.0)])
    >>> combined.sessions_created_count, combined.avg_acus_per_session
    (4, 2.5)
    """
    return combine_answers(SESSION_METRICS, parts)


def count_columns(frame: pd.DataFrame) -> list[str]:
    """The additive columns: every integer count, nested or not, known or not.

    An unknown field with fractions (a median, a ratio) is not additive: it is left out.
    """
    skip = {*ROW_COLUMNS, AVERAGE, *ID_FIELDS.values()}
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
    return next((c for c in ID_FIELDS.values() if c in frame.columns), None)


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

    ``acus_total`` = ``avg_acus_per_session`` x its weight, the field the endpoint's rule names
    (``sessions_created_count``; NaN without a session: the average then has no weight); the
    rates are ratios of sums:
    ``merged_pr_rate`` = merged / created, per size from the two by-size counts,
    ``playbook_share`` and ``search_share`` over created. NaN where the denominator is 0 (a
    window with no session has no rate) or missing (a failed bucket).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame; it is not modified.

    Returns
    -------
    pandas.DataFrame
        A copy with the derived columns (float64; rates between 0 and 1) at the end.
    """
    if SESSIONS not in frame.columns:
        return frame.copy()
    derived: dict[str, Any] = {}
    sessions = frame[SESSIONS]
    means = mean_columns(frame)
    if AVERAGE in means:  # no weight: a mean without weight, so no total (NaN)
        weight = _floats(frame[means[AVERAGE]])
        with np.errstate(over="ignore", invalid="ignore"):  # absurd values: inf, no warning
            derived[ACUS_TOTAL] = np.where(weight != 0, _floats(frame[AVERAGE]) * weight, np.nan)
    if MERGED in frame.columns:
        derived[MERGE_RATE] = _ratio(frame[MERGED], sessions)
    sizes = [c.split(".", 1)[1] for c in frame.columns if c.startswith(SIZE_FIELD + ".")]
    for size in sorted(sizes, key=_size_order):
        merged = f"{MERGED_SIZE_FIELD}.{size}"
        if merged in frame.columns:
            derived[f"{MERGE_RATE}.{size}"] = _ratio(frame[merged], frame[f"{SIZE_FIELD}.{size}"])
    for share, column in (
        (words.PLAYBOOK_SHARE, words.PLAYBOOK),
        (words.SEARCH_SHARE, words.SEARCH),
    ):
        if column in frame.columns:
            derived[share] = _ratio(frame[column], sessions)
    kept = frame.drop(columns=again) if (again := [c for c in derived if c in frame]) else frame
    return pd.concat([kept, pd.DataFrame(derived, index=frame.index)], axis=1)


def _size_order(size: str) -> tuple[int, str]:
    return (SIZES.index(size) if size in SIZES else len(SIZES), size)


def rollup(
    frame: pd.DataFrame,
    freq: Any,
    *,
    tz: str | None = None,
    now: Any = None,
    cycles: Sequence[Any] | None = None,
) -> pd.DataFrame:
    """Combine fine buckets into coarser ones without fetching again.

    A frame holding a distinct count (active users) is refused: fetch the coarser buckets.
    A frame in billing days (``frame.attrs["calendar"] == "billing days (08:00 UTC)"``,
    consumption) rolls up by billing day: a billing day belongs to the UTC week or month its
    start falls in, so a week runs Monday 08:00 UTC to Monday 08:00 UTC and a month from the
    1st at 08:00 UTC (never relabelled as calendar days of another zone); ``freq="cycle"``
    rolls up to the billing ``cycles`` given.

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
        None combines the whole frame into one row (per group); ``"cycle"`` (billing days
        only) the billing ``cycles``.
    tz : str, optional
        The calendar to align to; default the frame's index time zone. A frame in billing
        days takes only UTC.
    now : TimeLike, optional
        "Now" for the partial flag; default: a coarse bucket is partial when any of its fine
        buckets is.
    cycles : sequence of ConsumptionCycle, optional
        With ``freq="cycle"``: the billing cycles (``client.billing_cycles()``; anything with
        ``after`` and ``before`` in Unix seconds).

    Raises
    ------
    InvalidParameterError
        When fine buckets straddle coarse boundaries, the frame is not a wide frame, it holds
        a distinct count, or a frame in billing days is asked in another zone.
    """
    if (
        not isinstance(frame, pd.DataFrame)
        or not isinstance(frame.index, pd.DatetimeIndex)
        or frame.index.tz is None
    ):
        raise InvalidParameterError(
            "frame", "expected a wide frame indexed by a tz-aware bucket_start"
        )
    refuse_distinct(frame, "buckets")
    if frame.empty:
        return frame.copy()
    zone = tz or str(frame.index.tz)
    start = frame.index.min()
    end = frame["bucket_end"].max()
    asof = end if now is None else to_timestamp(now, "now")
    billing = frame.attrs.get("calendar") == BILLING_CALENDAR
    if billing and zone != "UTC":
        raise InvalidParameterError(
            "tz",
            f"got {zone!r}; the frame is in billing days (08:00 UTC to 08:00 UTC), which are "
            "not calendar days of any other zone: roll up in UTC",
        )
    if freq is None:
        coarse = [Bucket(start, end, partial=now is not None and end > asof)]
    elif billing and isinstance(freq, str) and freq == "cycle":
        coarse = _cycle_buckets(cycles, start, end, asof)
    elif billing:
        coarse = billing_buckets(start, end, freq, asof)
    else:
        coarse = time_buckets(start, end, freq, tz=zone, now=asof)
    return rollup_into(frame, coarse, freq=freq, now=now)


def _cycle_buckets(
    cycles: Sequence[Any] | None, start: pd.Timestamp, end: pd.Timestamp, now: pd.Timestamp
) -> list[Bucket]:
    """The cycles overlapping ``[start, end)``, cut to it as calendar buckets are (clipped)."""
    if not cycles:
        raise InvalidParameterError("cycles", "freq='cycle' needs the billing cycles: cycles=")
    buckets = []
    for cycle in cycles:
        low = pd.Timestamp(int(cycle.after), unit="s", tz="UTC")
        high = pd.Timestamp(int(cycle.before), unit="s", tz="UTC")
        if low < end and high > start:
            clipped = low < start or high > end
            buckets.append(Bucket(max(low, start), min(high, end), clipped, partial=high > now))
    if not buckets or buckets[0].start > start or buckets[-1].end < end:
        raise InvalidParameterError("cycles", "the cycles given do not cover the frame's days")
    return buckets


def rollup_into(
    frame: pd.DataFrame, coarse: Sequence[Bucket], *, freq: Any = None, now: Any = None
) -> pd.DataFrame:
    """Combine a wide frame's buckets into the ``coarse`` buckets given (see :func:`rollup`).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame, tz-aware ``bucket_start`` index, no distinct count.
    coarse : sequence of Bucket
        Adjacent buckets covering the frame's, each fine bucket inside one.
    freq : optional
        Written to ``attrs["freq"]`` of the result.
    now : TimeLike, optional
        When given, the coarse buckets' own ``partial`` flags are kept; else a coarse bucket
        is partial when any of its fine buckets is.

    Raises
    ------
    InvalidParameterError
        When fine buckets straddle coarse boundaries, or the frame holds a distinct count.
    """
    refuse_distinct(frame, "buckets")
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
    result = _combine(table, keys, incomplete, frame)
    result = result.reset_index()
    buckets = [coarse[i] for i in result["_coarse"]]
    result["bucket_start"] = pd.DatetimeIndex([b.start for b in buckets])
    result["bucket_end"] = pd.DatetimeIndex([b.end for b in buckets])
    result["clipped"] = [b.clipped for b in buckets]
    if now is not None:
        result["partial"] = [b.partial for b in buckets]
    result = result.drop(columns="_coarse").set_index("bucket_start")
    result = _order_columns(result, _group_by(group))
    result.attrs = dict(frame.attrs)
    result = add_derived(result)
    result.attrs = dict(frame.attrs)
    result.attrs["freq"] = freq
    return result


def combine_groups(frame: pd.DataFrame) -> pd.DataFrame:
    """The totals of a breakdown frame: one row per bucket, its groups combined.

    Counts are summed (NA when a group's row failed or is missing), a mean is re-weighted by
    its weight and the rates are recomputed as ratios of sums. A frame without groups is
    returned as it is.

    Raises
    ------
    InvalidParameterError
        For a frame holding a distinct count (active users of one group each): the groups'
        union must be asked for (a user active in two organizations counts once).
    """
    group = group_column(frame)
    if group is None:
        return frame.copy()
    refuse_distinct(frame, "groups")
    names = [c for c in frame.columns if c.endswith("_name")]
    table = frame.drop(columns=[group, *names]).reset_index()
    groups = frame[group].nunique()

    def incomplete(grouped: Any) -> Any:
        return grouped.size().to_numpy() != groups

    result = _combine(table, ["bucket_start"], incomplete, frame).sort_index(kind="stable")
    result = _order_columns(result, None)
    result.attrs = dict(frame.attrs)
    result = add_derived(result)
    result.attrs = dict(frame.attrs)
    return result


def _combine(
    table: pd.DataFrame, keys: list[str], incomplete: Any, frame: pd.DataFrame
) -> pd.DataFrame:
    """Rows of a wide table that share ``keys`` as one: counts (and the sums ``frame``'s
    endpoint declares) summed, NA when any row failed or ``incomplete(grouped)`` says rows are
    missing; each mean re-weighted by its weight; ``partial``/``clipped`` when any row is;
    fields that cannot be added up are NaN. Helper columns start with ``_`` and are left out."""
    counts = [column for column in count_columns(table) if not column.startswith("_")]
    counts += [c for c in sum_columns(frame) if c not in counts and c in table.columns]
    means = mean_columns(frame)
    failed_rows = table["failed"].to_numpy()
    for mean, weight in means.items():
        weighted = np.nan_to_num(_floats(table[mean])) * _floats(table[weight])
        weighted[failed_rows] = np.nan
        table = table.assign(**{f"_weighted.{mean}": weighted})
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
    for mean, weight in means.items():
        result[mean] = _ratio(grouped[f"_weighted.{mean}"].sum(min_count=1), result[weight])
    for column in _non_additive(table, [*counts, *means]):
        result[column] = np.nan
    return result


def _group_by(column: str | None) -> str | None:
    for kind, group in ID_FIELDS.items():
        if group == column:
            return kind
    return None


def _non_additive(frame: pd.DataFrame, counts: list[str]) -> list[str]:
    """Unknown numeric fields with fractions: kept as columns when rows are combined, but NaN."""
    return [
        column
        for column in frame.columns
        if column not in counts
        and column not in (*ROW_COLUMNS, AVERAGE)
        and not column.startswith("_")
        and not column.startswith(DERIVED_PREFIXES)
        and pd.api.types.is_numeric_dtype(frame[column])
        and not pd.api.types.is_bool_dtype(frame[column])
    ]


def _order_columns(frame: pd.DataFrame, group_by: str | None) -> pd.DataFrame:
    head = [c for c in ("bucket_end", "partial", "clipped", "failed") if c in frame.columns]
    if group_by is not None:
        head.insert(0, ID_FIELDS[group_by])
    tail = ["error"] if "error" in frame.columns else []
    known = [f for f in SessionMetrics.model_fields if f in frame.columns]
    nested = [c for c in frame.columns if "." in c]
    rest = [c for c in frame.columns if c not in {*head, *tail, *known, *nested}]
    return frame[head + known + nested + rest + tail]
