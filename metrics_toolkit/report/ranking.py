"""Groups ranked by merged-PR rate, with small denominators flagged (pure).

:func:`group_ranking` ranks the organizations (or playbooks, users) of a breakdown frame in
one week, with each rate's 95 % Wilson interval (:func:`wilson_interval`) and its rate at a
common mix of session sizes (:func:`size_adjusted_rate`), so that a group running mostly large
sessions is not ranked low for its mix alone. Groups with fewer than
:data:`~metrics_toolkit.report.MIN_SESSIONS` sessions are flagged and not ranked.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._constants import MIN_SESSIONS
from .._vocabulary import MERGED, MERGED_SIZE_FIELD, ROW_FLAGS, SESSIONS, SIZE_FIELD
from ..errors import InvalidParameterError
from ..params import check_positive_int
from ..summaries import floats, frame_tz
from .totals import breakdown_column
from .weeks import shift_week, week_bounds

__all__ = [
    "RANKING_ENDS",
    "Z_95",
    "group_ranking",
    "size_adjusted_rate",
    "top_and_bottom",
    "wilson_interval",
]

#: Groups at each end of a ranking.
RANKING_ENDS = 3
#: z of the two-sided 95 % Wilson interval.
Z_95 = 1.959963984540054


def wilson_interval(
    successes: Any, trials: Any, *, z: float = Z_95
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """The Wilson score interval of a proportion ``successes / trials``.

    Unlike ``rate ± z·se`` it stays inside [0, 1] and is honest for small ``trials``:
    2 merged PRs out of 2 sessions gives about 34 % to 100 %, not "100 %".

    Parameters
    ----------
    successes, trials : array-like of numbers
        Counts, ``0 <= successes <= trials``; NaN where ``trials`` is 0 or missing.
    z : float, default 1.96
        Standard normal quantile: 1.96 for a two-sided 95 % interval.

    Returns
    -------
    tuple of numpy.ndarray
        Lower and upper bounds, fractions 0-1 (float64).

    Examples
    --------
    >>> low, high = wilson_interval(2, 2)
    >>> round(float(low[0]), 3), float(high[0])
    (0.342, 1.0)
    """
    k = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(successes)), errors="coerce"), float)
    n = np.asarray(pd.to_numeric(pd.Series(np.atleast_1d(trials)), errors="coerce"), float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = k / n
        denominator = 1 + z**2 / n
        centre = (rate + z**2 / (2 * n)) / denominator
        spread = z * np.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2)) / denominator
    valid = n > 0
    low = np.where(valid, np.clip(centre - spread, 0.0, 1.0), np.nan)
    high = np.where(valid, np.clip(centre + spread, 0.0, 1.0), np.nan)
    return low.astype(np.float64), high.astype(np.float64)


def size_adjusted_rate(
    created_by_size: pd.DataFrame, merged_by_size: pd.DataFrame, weights: pd.Series
) -> pd.Series:
    """Each row's merged-PR rate if it had the sizes mix ``weights`` (direct standardisation).

    ``sum over sizes of weight[size] * merged[size] / created[size]``: the rate a group would
    have with a common mix of session sizes, so that a group running mostly large sessions
    (which merge less everywhere) is not ranked low for its mix alone.

    Parameters
    ----------
    created_by_size, merged_by_size : pandas.DataFrame
        One row per group, one column per size (the same columns in both).
    weights : pandas.Series
        The common mix: a share per size (index = the columns), summing to 1.

    Returns
    -------
    pandas.Series
        float64 fractions; NaN for a row with no session in a size whose weight is above 0
        (its rate in that size is unknown).
    """
    created = created_by_size.astype("float64")
    merged = merged_by_size[created.columns].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = merged / created.where(created > 0)
    weight = weights.reindex(created.columns).fillna(0.0).astype("float64")
    used = weight[weight > 0].index
    adjusted = (rates[used] * weight[used]).sum(axis=1, min_count=1)
    return adjusted.where(rates[used].notna().all(axis=1)).astype("float64")


def group_ranking(
    frame: pd.DataFrame, week: str, *, min_sessions: int = MIN_SESSIONS
) -> pd.DataFrame:
    """The groups of a breakdown frame in ``week``, ranked by merged-PR rate.

    Parameters
    ----------
    frame : pandas.DataFrame
        A weekly breakdown frame (an ``org_id``, ``playbook_id``, ``user_id`` or
        ``service_user_id`` column, and ``<kind>_name`` when labelled).
    week : str
        The ISO week, ``"YYYY-Www"``, in the frame's time zone.
    min_sessions : int, default 30
        A group with fewer sessions in the week is flagged ``few_sessions`` and not ranked:
        its rate moves by several points with each session.

    Returns
    -------
    pandas.DataFrame
        Indexed by group id, highest rate first and the flagged groups last. Columns
        ``name``, ``sessions``, ``merged``, ``merged_pr_rate`` (fraction), ``rate_low`` /
        ``rate_high`` (95 % Wilson interval), ``size_adjusted_rate`` (the rate with the
        week's size mix over all the frame's groups, see :func:`size_adjusted_rate`),
        ``previous_rate`` (the week before, NaN when not comparable), ``change``
        (fraction; percentage points / 100; NaN when either week has too few sessions),
        ``few_sessions``, ``rank`` and
        ``adjusted_rank`` (1 = highest; NA when flagged). ``attrs`` holds ``kind``.
    """
    group = breakdown_column(frame, "frame")
    check_positive_int(min_sessions, "min_sessions", minimum=0)
    tz = frame_tz(frame)
    start, _ = week_bounds(week, tz)
    previous_start, _ = week_bounds(shift_week(week, -1), tz)
    kind = group.removesuffix("_id")
    name_column = f"{kind}_name"
    this = frame[frame.index == start].set_index(group)
    if this.empty:
        raise InvalidParameterError("week", f"{week} is not a bucket of the frame")
    if any(this[flag].any() for flag in ROW_FLAGS if flag in this.columns):
        raise InvalidParameterError("week", f"{week} is not complete in the frame")
    before = frame[frame.index == previous_start].set_index(group)
    before = before[~before[list(ROW_FLAGS)].any(axis=1)]
    sessions = floats(this[SESSIONS])
    merged = floats(this[MERGED])
    table = pd.DataFrame(index=this.index)
    table["name"] = this[name_column] if name_column in this.columns else this.index
    table["sessions"] = sessions
    table["merged"] = merged
    with np.errstate(divide="ignore", invalid="ignore"):
        table["merged_pr_rate"] = (merged / sessions).where(sessions > 0)
    table["rate_low"], table["rate_high"] = wilson_interval(merged, sessions)
    sizes = [
        column.removeprefix(SIZE_FIELD + ".")
        for column in this.columns
        if column.startswith(SIZE_FIELD + ".")
    ]
    sizes = [size for size in sizes if f"{MERGED_SIZE_FIELD}.{size}" in this.columns]
    created = pd.DataFrame({s: floats(this[f"{SIZE_FIELD}.{s}"]) for s in sizes})
    merged_sizes = pd.DataFrame({s: floats(this[f"{MERGED_SIZE_FIELD}.{s}"]) for s in sizes})
    mix = created.sum()
    weights = mix / mix.sum() if mix.sum() > 0 else mix
    table["size_adjusted_rate"] = size_adjusted_rate(created, merged_sizes, weights)
    prior_sessions = floats(before[SESSIONS]).reindex(table.index)
    prior_merged = floats(before[MERGED]).reindex(table.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        prior = (prior_merged / prior_sessions).where(prior_sessions >= max(min_sessions, 1))
    table["previous_rate"] = prior
    table["few_sessions"] = ~(sessions >= max(min_sessions, 1))
    change = table["merged_pr_rate"] - table["previous_rate"]
    table["change"] = change.where(~table["few_sessions"])
    ranked = ~table["few_sessions"]
    table["rank"] = _rank(table["merged_pr_rate"].where(ranked))
    table["adjusted_rank"] = _rank(table["size_adjusted_rate"].where(ranked))
    order = table.assign(_flag=table["few_sessions"], _rate=-table["merged_pr_rate"].fillna(-1))
    table = table.loc[order.sort_values(["_flag", "_rate", "name"], kind="stable").index]
    table.index.name = group
    table.attrs = {"kind": kind, "week": week, "min_sessions": min_sessions}
    return table


def _rank(rates: pd.Series) -> pd.Series:
    """1 for the highest rate (ties share the lower rank); NA where the rate is NaN."""
    return rates.rank(ascending=False, method="min").astype("Int64")


def top_and_bottom(ranking: pd.DataFrame, n: int = RANKING_ENDS) -> pd.DataFrame:
    """The ``n`` highest and ``n`` lowest ranked groups, then the flagged ones.

    Every ranked group when there are at most ``2 n`` of them. Flagged groups (too few
    sessions to rank) follow, so that a 100 % over 2 sessions is seen for what it is.
    """
    n = check_positive_int(n, "n")
    ranked = ranking[~ranking["few_sessions"]]
    flagged = ranking[ranking["few_sessions"]]
    if len(ranked) > 2 * n:
        ranked = pd.concat([ranked.head(n), ranked.tail(n)])
    result = pd.concat([ranked, flagged])
    result.attrs = dict(ranking.attrs)
    return result
