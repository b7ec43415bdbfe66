"""Tables over several answers: sessions by category as a tidy frame, and the one table of the
common question (sessions, PRs, searches, active users and ACUs side by side per bucket).

The overview's derived rates (ratios of sums, NaN where the denominator is 0 or missing):

- ``pr_merge_rate`` = ``prs_merged_count`` / ``prs_created_count`` (PRs created in the bucket
  that are merged by now; 0 to 1; provisional while PRs are still open);
- ``acus_per_merged_pr`` = ``acus`` / ``prs_merged_count`` (ACUs);
- ``searches_per_active_user`` = ``searches_created_count`` / ``active_users``;
- ``sessions_per_active_user`` = ``sessions_created_count`` / ``active_users``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import _vocabulary as words
from ._constants import DEFAULT_WORKERS
from ._endpoints import METRICS
from ._rules import ENDPOINT_ATTR
from .buckets import FreqLike
from .errors import FetchError, FutureBucketsWarning, PartialFetchWarning
from .fetch import MetricsSource, fetch_frames, fetch_series
from .params import TimeLike, check_names

__all__ = [
    "DERIVED_RATES",
    "OVERVIEW_METRICS",
    "category_frame",
    "overview",
    "tidy_categories",
]

#: The metrics of the overview, in the order of its columns.
OVERVIEW_METRICS = ("sessions", "prs", "searches", "active_users")
#: Each derived rate of the overview: (numerator, denominator).
DERIVED_RATES = {
    "pr_merge_rate": (words.PRS_MERGED, words.PRS_CREATED),
    "acus_per_merged_pr": (words.ACUS, words.PRS_MERGED),
    "searches_per_active_user": (words.SEARCHES, words.ACTIVE_USERS),
    "sessions_per_active_user": (words.SESSIONS, words.ACTIVE_USERS),
}
_COLUMNS = {  # the overview's column: (metric, the column of its frame)
    words.SESSIONS: ("sessions", words.SESSIONS),
    words.PRS_CREATED: ("prs", words.PRS_CREATED),
    words.PRS_MERGED: ("prs", words.PRS_MERGED),
    words.SEARCHES: ("searches", words.SEARCHES),
    words.ACTIVE_USERS: ("active_users", words.ACTIVE_USERS),
    words.ACUS: ("sessions", words.ACUS_TOTAL),
}
_ROW = (words.BUCKET_END, *words.ROW_FLAGS[:2])


def category_frame(
    client: MetricsSource,
    start: TimeLike,
    end: TimeLike,
    freq: FreqLike = "week",
    **options: Any,
) -> pd.DataFrame:
    """Sessions and ACUs by category and subcategory per bucket, as a tidy frame: one call
    per bucket (enterprise scope only).

    Parameters
    ----------
    client, start, end, freq
        As :func:`~metrics_toolkit.fetch_series` takes them.
    **options
        Its other parameters (``tz``, ``org_ids``, ``workers``, ``on_error``, ...).

    Returns
    -------
    pandas.DataFrame
        One row per bucket, category and subcategory: ``bucket_start`` (tz-aware),
        ``bucket_end``, ``partial``, ``clipped``, ``failed``, ``category``, ``subcategory``
        (its display name; NA for a category without subcategories), ``sessions_count``
        (Int64) and ``acus`` (float, ACUs). A failed bucket is one row with NA values. The
        subcategories of a category add up to it; sessions and ACUs add up over buckets.
    """
    wide = fetch_series(client, start, end, freq, metric="categories", **options)
    return tidy_categories(wide)


def tidy_categories(wide: pd.DataFrame) -> pd.DataFrame:
    """The wide frame of sessions by category (``fetch_series(metric="categories")``, one
    list of categories per bucket) as :func:`category_frame`'s tidy frame.

    Parameters
    ----------
    wide : pandas.DataFrame
        One row per bucket with ``bucket_end``, ``partial``, ``clipped``, ``failed`` and
        ``categories`` (the answer's list, or None for a failed bucket).

    Returns
    -------
    pandas.DataFrame
        One row per bucket, category and subcategory, as :func:`category_frame` returns it
        (``sessions_count`` Int64, ``acus`` float in ACUs); ``attrs`` those of ``wide`` with
        ``endpoint`` ``"categories"``.
    """
    rows = []
    for start_at, row in wide.iterrows():
        head = {"bucket_start": start_at, **{c: row[c] for c in (*_ROW, words.ROW_FLAGS[2])}}
        categories = row["categories"] if isinstance(row["categories"], list) else None
        if categories is None:
            rows.append({**head, "category": None, "subcategory": None})
            continue
        for category in categories:
            subs = category["subcategories"] or [
                {"display_name": None, **{k: category[k] for k in ("sessions_count", "acus")}}
            ]
            for sub in subs:
                rows.append(
                    {
                        **head,
                        "category": category["category"],
                        "subcategory": sub["display_name"],
                        "sessions_count": sub["sessions_count"],
                        words.ACUS: sub["acus"],
                    }
                )
    columns = ["bucket_start", *_ROW, words.ROW_FLAGS[2], "category", "subcategory"]
    frame = pd.DataFrame(rows, columns=[*columns, "sessions_count", words.ACUS])
    frame["sessions_count"] = frame["sessions_count"].astype("Int64")
    frame[words.ACUS] = frame[words.ACUS].astype(float)
    frame.attrs = {**wide.attrs, ENDPOINT_ATTR: "categories"}
    return frame


def overview(
    client: MetricsSource,
    start: TimeLike,
    end: TimeLike,
    freq: FreqLike = "week",
    *,
    tz: str = "UTC",
    by: Literal["org"] | None = None,
    ids: Sequence[str] | None = None,
    org_ids: Sequence[str] | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: bool | None = None,
    on_error: Literal["raise", "mark"] = "raise",
    refresh: bool = False,
) -> pd.DataFrame:
    """The common question in one table: per bucket (and organization), sessions, PRs created
    and merged, searches, active users and ACUs side by side, with derived rates.

    Every call of the four endpoints (sessions, PRs, searches, active users: one per bucket
    and group each) goes through one worker pool and the client's one rate gate.

    Parameters
    ----------
    client, start, end, freq, tz, workers, progress, refresh
        As :func:`~metrics_toolkit.fetch_series` takes them; the buckets are ``tz``'s
        calendar buckets.
    by : {"org"}, optional
        One row per organization and bucket (enterprise scope only); ``ids`` the
        organizations (default: every one of the directory).
    ids, org_ids : sequence of str, optional
        The organizations of a breakdown; a filter by organizations (ids or names).
    on_error : {"raise", "mark"}, default "raise"
        As for :func:`~metrics_toolkit.fetch_series`: a row is ``failed`` when any of its
        four calls failed.

    Returns
    -------
    pandas.DataFrame
        Index ``bucket_start`` (tz-aware), ``bucket_end``, ``partial``, ``clipped``,
        ``failed``, the group columns with ``by``, then ``sessions_created_count``,
        ``prs_created_count``, ``prs_merged_count`` (merged by now), ``searches_created_count``,
        ``active_users`` (a distinct count of the bucket: never summed, the table refuses
        rollup) and ``acus``: the ACUs of the sessions created in the bucket, as of now
        (``avg_acus_per_session`` x ``sessions_created_count``), so in the same calendar
        buckets and groups as the other columns. It is not consumption: consumption comes
        in billing days (08:00 UTC) and counts other products too (see
        :func:`~metrics_toolkit.periods.fetch_consumption`). Then :data:`DERIVED_RATES`
        (see the module docstring). ``attrs["endpoint"]`` is ``"overview"``.
    """
    endpoints = [METRICS[name].enterprise for name in OVERVIEW_METRICS]
    wanted: dict[str, list[str]] = {}
    if ids is not None:
        wanted["ids"] = check_names(ids, "ids") or []
    if org_ids is not None:
        wanted["org_ids"] = check_names(org_ids, "org_ids") or []
    frames, stats, now, cut = fetch_frames(
        client,
        [endpoint for endpoint in endpoints if endpoint is not None],
        start,
        end,
        freq,
        tz=tz,
        by=by,
        wanted=wanted,
        workers=workers,
        progress=progress,
        on_progress=None,
        refresh=refresh,
        directory=None,
        allow_unknown_ids=False,
    )
    named = dict(zip(OVERVIEW_METRICS, frames, strict=True))
    first = named["sessions"]
    keys = [c for c in first.columns if c.endswith(("_id", "_name"))]
    table = first[[*keys, *_ROW]].copy()
    table[words.ROW_FLAGS[2]] = np.logical_or.reduce(
        [frame[words.ROW_FLAGS[2]].to_numpy() for frame in frames]
    )
    for column, (metric, source) in _COLUMNS.items():
        table[column] = named[metric][source].to_numpy()
    for rate, (numerator, denominator) in DERIVED_RATES.items():
        num = table[numerator].to_numpy(dtype=float, na_value=np.nan)
        den = table[denominator].to_numpy(dtype=float, na_value=np.nan)
        table[rate] = np.divide(num, den, out=np.full(len(num), np.nan), where=den > 0)
    table.attrs = {**first.attrs, ENDPOINT_ATTR: "overview", "fetch_stats": stats}
    if cut:
        warnings.warn(
            f"{len(cut)} bucket(s) from {cut[0].start.isoformat()} on were not asked for: they "
            f"start at or after now ({now.isoformat()})",
            FutureBucketsWarning,
            stacklevel=2,
        )
    if stats.failures:
        if on_error == "raise":
            raise FetchError(stats.failures, table[~table[words.ROW_FLAGS[2]]])
        warnings.warn(
            f"{stats.failed} of {stats.calls} calls failed; their rows are marked failed",
            PartialFetchWarning,
            stacklevel=2,
        )
    return table
