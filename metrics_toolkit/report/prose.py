"""The report's sentences that depend on the data, written from the numbers (pure).

Nothing here is fixed prose about the account: which size merges most and least often
(:func:`size_sentence`), which weeks' rates are still provisional (:func:`provisional_weeks`,
:func:`merge_rate_sentence`), whose rank the size adjustment moves most
(:func:`ranking_sentence`) and which later weeks the report leaves out
(:func:`later_weeks_sentence`) are read from the frames, so the sentences say what these data
say and nothing else.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from .._constants import DEFAULT_SETTLE_PERIOD, MIN_SESSIONS
from .._vocabulary import MERGED_SIZE_FIELD, SIZE_FIELD, SIZES, size_label
from ..labels import duration_text, partial_note, rate_text
from ..params import to_timestamp
from ..summaries import frame_now, frame_tz, is_provisional
from .totals import FLAGS, weekly_totals
from .weeks import shift_week, week_bounds, week_of

__all__ = [
    "later_weeks_sentence",
    "merge_rate_sentence",
    "provisional_weeks",
    "ranking_sentence",
    "size_rates",
    "size_sentence",
]


def _complete(totals: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``totals`` that are neither partial, clipped nor failed."""
    return totals[~totals[list(FLAGS)].any(axis=1)]


def size_rates(frame: pd.DataFrame, *, min_sessions: int = MIN_SESSIONS) -> pd.DataFrame:
    """Sessions, merged sessions and the merged-PR rate per size, over the frame's complete
    weeks (a breakdown frame is summed over its groups).

    Returns
    -------
    pandas.DataFrame
        Indexed by size key (documented sizes smallest first, then any the server added, by
        name), columns ``sessions``, ``merged`` (float64), ``merged_pr_rate`` (a ratio of
        sums, fraction 0-1; NaN below ``min_sessions`` sessions) and ``weeks`` (int: the
        complete weeks summed, the same in every row).
    """
    totals = _complete(weekly_totals(frame))
    keys = [c.removeprefix(f"{SIZE_FIELD}.") for c in totals.columns if c.startswith(SIZE_FIELD)]
    keys = [k for k in keys if f"{MERGED_SIZE_FIELD}.{k}" in totals.columns]
    order = [k for k in SIZES if k in keys] + sorted(k for k in keys if k not in SIZES)
    sessions = pd.Series(
        {k: float(totals[f"{SIZE_FIELD}.{k}"].sum()) for k in order}, dtype="float64"
    )
    merged = pd.Series(
        {k: float(totals[f"{MERGED_SIZE_FIELD}.{k}"].sum()) for k in order}, dtype="float64"
    )
    enough = sessions >= max(min_sessions, 1)
    table = pd.DataFrame({"sessions": sessions, "merged": merged})
    table["merged_pr_rate"] = (merged / sessions.where(enough)).astype("float64")
    table["weeks"] = len(totals)
    return table


def size_sentence(frame: pd.DataFrame, *, min_sessions: int = MIN_SESSIONS) -> str:
    """Which session size got a merged PR most often and which least, from the numbers.

    Over the frame's complete weeks (:func:`size_rates`); sizes with some sessions but fewer
    than ``min_sessions`` are named as left out. When the rates fall (or rise) with every step
    up in size, the sentence says so.

    Examples
    --------
    >>> size_sentence(weekly)  # doctest: +SKIP
    'Over the 12 weeks shown, XS sessions got a merged PR most often (63.2%) and XL sessions
    least often (20.1%): the larger the session, the less often.'
    """
    table = size_rates(frame, min_sessions=min_sessions)
    weeks = int(table["weeks"].iloc[0]) if len(table) else 0
    rates = {str(k): float(v) for k, v in table["merged_pr_rate"].items() if pd.notna(v)}
    over = f"Over the {weeks} complete week{'s' * (weeks != 1)} shown"
    left_out = [
        size_label(str(key))
        for key, sessions in table["sessions"].items()
        if str(key) not in rates and sessions > 0
    ]
    tail = f" Left out, with fewer than {min_sessions} sessions: {', '.join(left_out)}."
    tail = tail if left_out and rates else ""
    if not rates:
        return f"{over}, no size has {min_sessions} sessions or more: too few to compare."
    if len(rates) == 1:
        ((key, rate),) = rates.items()
        return (
            f"{over}, only {size_label(key)} sessions number {min_sessions} or more; "
            f"{rate_text(rate)} of them got a merged PR.{tail}"
        )
    best, worst = max(rates, key=rates.__getitem__), min(rates, key=rates.__getitem__)
    if rates[best] == rates[worst]:
        return f"{over}, every size got a merged PR equally often ({rate_text(rates[best])}).{tail}"
    return (
        f"{over}, {size_label(best)} sessions got a merged PR most often "
        f"({rate_text(rates[best])}) and {size_label(worst)} sessions least often "
        f"({rate_text(rates[worst])}){_size_trend(rates)}.{tail}"
    )


def _size_trend(rates: dict[str, float]) -> str:
    """``": the larger the session, the less often"`` when the rates of the documented sizes
    fall with every step up in size (``"more often"``: rise), else ``""``."""
    if any(key not in SIZES for key in rates):  # a size the server added has no known place
        return ""
    steps = np.diff([rates[key] for key in SIZES if key in rates])
    if (steps < 0).all():
        return ": the larger the session, the less often"
    if (steps > 0).all():
        return ": the larger the session, the more often"
    return ""


def provisional_weeks(
    frame: pd.DataFrame,
    *,
    now: Any = None,
    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD,
) -> list[str]:
    """The ISO weeks of the frame's complete rows that ended less than ``settle_period``
    before ``now`` (default ``frame.attrs["now"]``): their merged PRs and ACUs still move.
    """
    read_at = frame_now(frame, now)
    tz = frame_tz(frame)
    totals = _complete(weekly_totals(frame))
    return [
        week_of(start, tz)
        for start, end in zip(totals.index, totals["bucket_end"], strict=True)
        if is_provisional(end, read_at, settle_period)
    ]


def _names(weeks: list[str]) -> str:
    """``"2026-W47"``, ``"2026-W47 and 2026-W48"``, ``"2026-W46 to 2026-W48"``."""
    if len(weeks) <= 2:
        return " and ".join(weeks)
    return f"{weeks[0]} to {weeks[-1]}"


def merge_rate_sentence(
    frame: pd.DataFrame,
    *,
    now: Any = None,
    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD,
) -> str:
    """Which weeks of a merged-PR rate chart are still rising, by name, or that none is.

    Examples
    --------
    >>> merge_rate_sentence(weekly)  # doctest: +SKIP
    'The rates of 2026-W47 and 2026-W48 are provisional: those weeks ended less than 14 days
    before the data was read, and their rates rise as PRs get merged.'
    """
    recent = provisional_weeks(frame, now=now, settle_period=settle_period)
    period = duration_text(settle_period)
    if not recent:
        return (
            f"Every week shown ended {period} or more before the data was read: "
            "its rate has settled."
        )
    plural = len(recent) > 1
    return (
        f"The rate{'s' * plural} of {_names(recent)} "
        f"{'are' if plural else 'is'} provisional: {'those weeks' if plural else 'that week'} "
        f"ended less than {period} before the data was read, and "
        f"{'their rates rise' if plural else 'its rate rises'} as PRs get merged."
    )


def ranking_sentence(ranking: pd.DataFrame) -> str:
    """The group whose rank the size adjustment moves most, or that it moves none.

    Parameters
    ----------
    ranking : pandas.DataFrame
        :func:`~metrics_toolkit.report.group_ranking` (``name``, ``rank``,
        ``adjusted_rank``).

    Examples
    --------
    >>> ranking_sentence(ranking)  # doctest: +SKIP
    'Platform is #5 by its raw rate and #1 size-adjusted: its mix of sizes, more than how it
    does at each size, sets its raw rank.'
    """
    ranked = ranking.dropna(subset=["rank", "adjusted_rank"])
    if ranked.empty:
        return "No group has enough sessions and a rate at every size to compare the ranks."
    gaps = ranked["adjusted_rank"].astype("float64") - ranked["rank"].astype("float64")
    if (gaps == 0).all():
        return "Adjusting for the mix of sizes changes no rank this week."
    # the largest move; of two as large, the group the adjustment lifts (its mix holds it back)
    order = pd.DataFrame({"size": -gaps.abs(), "gap": gaps}).sort_values(["size", "gap"])
    row = ranked.loc[order.index[0]]
    return (
        f"{row['name']} is #{row['rank']} by its raw rate and #{row['adjusted_rank']} "
        "size-adjusted: its mix of sizes, more than how it does at each size, sets its raw rank."
    )


def later_weeks_sentence(week: str, now: Any, tz: str) -> str:
    """What comes after the report's week and is not in it: complete weeks, the current one.

    Examples
    --------
    >>> later_weeks_sentence("2026-W47", "2026-12-02T03:00Z", "UTC")  # doctest: +ELLIPSIS
    'Not in this report: 2026-W48 (complete) and the current week (W49) partial: data until...'
    """
    moment = to_timestamp(now, "now")
    current = week_of(moment, tz)
    start, end = week_bounds(current, tz)
    partial = partial_note(start, end, "week", moment)
    later: list[str] = []
    following = shift_week(week, 1)
    while week_bounds(following, tz)[0] < start:
        later.append(following)
        following = shift_week(following, 1)
    if not later:
        return f"Not in this report: the {partial}."
    return f"Not in this report: {_names(later)} (complete) and the {partial}."
