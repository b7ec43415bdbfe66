"""Sessions by category of coarser buckets, added up from the days a store keeps (pure).

Categories and subcategories add up over days and over organizations (sessions and ACUs are
counts and sums), so a week's categories are the sum of its days'. A bucket with a day that
failed or is missing (of any organization) is one failed row with NA values, never a smaller
number. The rows of a bucket come in the order the answers list them: the days' orders merged.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .._rules import ENDPOINT_ATTR
from .._vocabulary import ACUS, BUCKET_END
from ..buckets import Bucket, time_buckets

__all__ = ["category_buckets"]

_KEYS = ["category", "subcategory"]
_FLAGS = ("partial", "clipped", "failed")
Pair = tuple[str, str]


def category_buckets(
    pieces: Sequence[pd.DataFrame],
    buckets: Sequence[Bucket],
    zone: str,
    now: pd.Timestamp,
    attrs: Mapping[Any, Any],
    freq: Any,
) -> pd.DataFrame:
    """Tidy daily categories (one frame per organization, as
    :func:`~metrics_toolkit.tables.tidy_categories` gives them) added up per bucket.

    Parameters
    ----------
    pieces : sequence of pandas.DataFrame
        The tidy days of each group (one frame for the totals).
    buckets : sequence of Bucket
        The coarser buckets, in ``zone``, none starting at or after ``now``.
    zone : str
        The store's zone, whose days make up the buckets.
    now : pandas.Timestamp
        The days that start at or after it are not expected.
    attrs, freq
        The ``attrs`` of the daily frame, and the buckets' frequency.

    Returns
    -------
    pandas.DataFrame
        :func:`~metrics_toolkit.category_frame`'s columns and dtypes.
    """
    order = _merged_order(pieces)
    daily = pd.concat(pieces, ignore_index=True)
    parts = []
    for bucket in buckets:
        days = daily[(daily["bucket_start"] >= bucket.start) & (daily["bucket_start"] < bucket.end)]
        expected = sum(d.start < now for d in time_buckets(bucket.start, bucket.end, "day", zone))
        complete = all(_whole(piece, bucket, expected) for piece in pieces)
        head = {
            "bucket_start": bucket.start,
            BUCKET_END: bucket.end,
            "partial": bucket.partial,
            "clipped": bucket.clipped,
            "failed": not complete,
        }
        if not complete:
            parts.append(pd.DataFrame([{**head, "category": None, "subcategory": None}]))
            continue
        part = days.groupby(_KEYS, sort=False, dropna=False)[["sessions_count", ACUS]].sum()
        part = part.reset_index()
        subs = part["subcategory"].astype(object).where(part["subcategory"].notna(), "")
        keys = list(zip(part["category"].astype(str), subs.astype(str), strict=True))
        part = part.iloc[sorted(range(len(part)), key=lambda i: order[keys[i]])]
        for column, value in reversed(head.items()):
            part.insert(0, column, value)
        parts.append(part)
    columns = ["bucket_start", BUCKET_END, *_FLAGS, *_KEYS, "sessions_count", ACUS]
    frame = pd.concat(parts, ignore_index=True).reindex(columns=columns)
    for column in ("bucket_start", BUCKET_END):
        frame[column] = pd.DatetimeIndex(frame[column]).astype(daily[column].dtype)
    for flag in _FLAGS:
        frame[flag] = frame[flag].astype(bool)
    frame["sessions_count"] = frame["sessions_count"].astype("Int64")
    frame[ACUS] = frame[ACUS].astype(float)
    frame.attrs = {**attrs, "freq": freq, "group_by": None, ENDPOINT_ATTR: "categories"}
    return frame


def _whole(piece: pd.DataFrame, bucket: Bucket, expected: int) -> bool:
    """Whether a group holds every day of the bucket, none failed."""
    days = piece[(piece["bucket_start"] >= bucket.start) & (piece["bucket_start"] < bucket.end)]
    return not days["failed"].astype(bool).any() and days["bucket_start"].nunique() == expected


def _merged_order(pieces: Sequence[pd.DataFrame]) -> dict[Pair, int]:
    """The (category, subcategory) pairs in an order that keeps every answer's: each day of
    each group lists some of them in order; the pairs are sorted so that every pair a day
    lists right after another comes after it (ties by first appearance)."""
    first: dict[Pair, int] = {}
    after: dict[Pair, set[Pair]] = {}
    for piece in pieces:
        listed = piece[piece["category"].notna()]
        for _, day in listed.groupby("bucket_start", sort=True):
            subs = day["subcategory"].astype(object).where(day["subcategory"].notna(), "")
            pairs = list(zip(day["category"].astype(str), subs.astype(str), strict=True))
            for pair in pairs:
                first.setdefault(pair, len(first))
                after.setdefault(pair, set())
            for before, later in itertools.pairwise(pairs):
                after[before].add(later)
    waiting = {pair: 0 for pair in first}
    for followers in after.values():
        for follower in followers:
            waiting[follower] += 1
    ready = [(first[pair], pair) for pair, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: dict[Pair, int] = {}
    while ready:
        _, pair = heapq.heappop(ready)
        order[pair] = len(order)
        for later in after[pair]:
            waiting[later] -= 1
            if waiting[later] == 0:
                heapq.heappush(ready, (first[later], later))
    for pair in sorted(first, key=first.__getitem__):  # orders that disagree: first seen
        order.setdefault(pair, len(order))
    return order
