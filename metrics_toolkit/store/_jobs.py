"""One family's work in a sync: its plan (checked before any request, leaving out what the
store holds settled) and its answers, stamped with the store's columns, batch by batch.

A sync holds at most :data:`~metrics_toolkit._constants.STORE_BATCH_CALLS` answers at a time.
:func:`plan_job` and :func:`stamped_batches` are also what the dlt source yields from.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._calls import STOPPING_ERRORS, Call, MetricsSource, answer_all
from .._constants import DEFAULT_SETTLE_PERIOD, STORE_BATCH_CALLS
from .._plan import SeriesPlan, plan_series
from .._vocabulary import (
    ACUS,
    BILLING_DAY,
    BILLING_DAY_START,
    BUCKET_END,
    BUCKET_START,
    ERROR,
    ID_FIELDS,
)
from ..buckets import bucket_floor
from ..errors import MetricsError
from ..fetch import series_endpoint
from ..frequencies import parse_freq
from ..periods import fetch_consumption
from ._families import CONSUMPTION, Family
from ._tables import FETCHED_AT, POSITION, SETTLED

__all__ = ["Job", "plan_job", "stamped_batches"]

_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class Job:
    """One family's work: its plan and, per group, the buckets to ask."""

    family: Family
    table: str
    by: str | None
    plan: SeriesPlan | None  # None for consumption (one call per group)
    groups: list[str | None]
    wanted: list[np.ndarray[Any, np.dtype[np.bool_]]]  # per group: bucket asked?
    starts: np.ndarray[Any, np.dtype[np.int64]]  # the bucket starts, Unix seconds
    settle: dt.timedelta = DEFAULT_SETTLE_PERIOD  # how long after its end a bucket may change

    @property
    def calls(self) -> int:
        """Calls to make (consumption: one per group with a day to ask)."""
        if self.plan is None:
            return sum(bool(mask.any()) for mask in self.wanted)
        return int(sum(int(mask.sum()) for mask in self.wanted))

    @property
    def planned(self) -> int:
        """Calls a sync from scratch would make."""
        if self.plan is None:
            return len(self.groups)
        return len(self.groups) * len(self.starts)


def _period_after(stamp: pd.Timestamp, grain: str, tz: str) -> pd.Timestamp:
    """The start of the period after the one that contains ``stamp`` (day, week, month)."""
    floor = bucket_floor(stamp, grain, tz)
    length = parse_freq(grain).nominal_length
    return bucket_floor(floor + length * 1.5, grain, tz)


def _billing_floor(stamp: pd.Timestamp) -> pd.Timestamp:
    """The start of the billing day (08:00 UTC) that contains ``stamp``."""
    offset = pd.Timedelta(seconds=BILLING_DAY_START)
    return (stamp.tz_convert("UTC") - offset).floor("D") + offset


def plan_job(
    client: MetricsSource,
    family: Family,
    start: pd.Timestamp,
    *,
    tz: str,
    by: str | None,
    directory: Any,
    now: pd.Timestamp,
    settled: dict[str | None, np.ndarray[Any, np.dtype[np.int64]]],
    extra_groups: Sequence[str] = (),
    settle: dt.timedelta = DEFAULT_SETTLE_PERIOD,
) -> Job:
    """Plan one family from ``start`` to now (checked before any request), leaving out the
    buckets ``settled`` holds per group (Unix seconds of their starts).

    ``start`` is floored to the family's grain (a week or month of active users, a billing
    day); ``directory`` lists the groups of ``by`` (None without a breakdown);
    ``extra_groups`` are asked too though the directory no longer lists them (a deleted
    user's unsettled days); ``settle`` is how long after its end a bucket may still change.
    """
    table = family.table(by)
    plan: SeriesPlan | None = None
    listed = [] if by is None else list(directory.ids(by))
    known = set(listed)
    extra = [group for group in extra_groups if group not in known]
    if family.metric == CONSUMPTION:
        first = _billing_floor(start)
        count = int((now - first) / pd.Timedelta(seconds=BILLING_DAY)) + 1
        starts = np.int64(first.timestamp()) + np.arange(count, dtype=np.int64) * BILLING_DAY
        groups: list[str | None] = [None] if by is None else [*listed, *extra]
    else:
        plan = plan_series(
            client,
            [series_endpoint(family.metric)],
            bucket_floor(start, family.grain, tz),
            _period_after(now, family.grain, tz),
            family.grain,
            tz=tz,
            by=by,
            wanted={} if not extra else {"ids": [*listed, *extra]},
            directory=directory,
            allow_unknown_ids=bool(extra),
        )
        starts = np.array([int(b.start.timestamp()) for b in plan.buckets], dtype=np.int64)
        groups = [None] if plan.groups is None else list(plan.groups)
    wanted = [~np.isin(starts, settled.get(g, _EMPTY)) for g in groups]
    if family.metric == CONSUMPTION:  # one call from the first day not settled on
        wanted = [np.cumsum(mask) > 0 for mask in wanted]
    return Job(family, table, by, plan, groups, wanted, starts, settle)


def _stamped(
    frame: pd.DataFrame, job: Job, now: pd.Timestamp
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame with the store's columns, and the frame's own dtypes."""
    dtypes = {str(k): str(v) for k, v in frame.dtypes.items()}
    group = next((c for c in ID_FIELDS.values() if c in frame.columns), None)
    place = {g: i for i, g in enumerate(job.groups)}
    positions = 0 if group is None else frame[group].map(place).to_numpy(dtype=np.int64)
    ended = frame[BUCKET_END] <= now - job.settle
    if "categories" in frame.columns:  # a list of categories, kept as JSON text
        texts = [_json(value) for value in frame["categories"]]
        frame = frame.assign(categories=pd.array(texts, dtype="string"))
        dtypes["categories"] = "object"
    frame = frame.assign(
        **{FETCHED_AT: now, POSITION: positions, SETTLED: ~frame["failed"] & ended}
    )
    return frame, dtypes


def _json(value: Any) -> str | None:
    return None if not isinstance(value, list) else json.dumps(value)


def stamped_batches(
    client: MetricsSource,
    job: Job,
    *,
    now: pd.Timestamp,
    workers: int,
    advance: Callable[[int, int], None],
) -> Iterator[tuple[pd.DataFrame, dict[str, str]]]:
    """The rows of a job's calls with the store's columns (``fetched_at``, ``settled``,
    ``group_position``; categories as JSON text), and the wide frame's own dtypes: one frame
    per batch of at most :data:`~metrics_toolkit._constants.STORE_BATCH_CALLS` answers
    (consumption: one per group). ``advance(calls, failed)`` is called after each batch."""
    for frame in _batches(client, job, now=now, workers=workers, advance=advance):
        yield _stamped(frame, job, now)


def _batches(
    client: MetricsSource,
    job: Job,
    *,
    now: pd.Timestamp,
    workers: int,
    advance: Callable[[int, int], None],
) -> Iterator[pd.DataFrame]:
    if job.plan is None:
        yield from _consumption_batches(client, job, now=now, workers=workers, advance=advance)
        return
    batch_calls = STORE_BATCH_CALLS
    pending: list[Call] = []
    for group, mask in zip(job.groups, job.wanted, strict=True):
        if not mask.any():
            continue
        calls = job.plan.calls(0, None if group is None else [group])
        pending.extend(call for call, asked in zip(calls, mask, strict=True) if asked)
        while len(pending) >= batch_calls:
            yield _answered(client, job, pending[:batch_calls], now, workers, advance)
            del pending[:batch_calls]
    if pending:
        yield _answered(client, job, pending, now, workers, advance)


def _answered(
    client: MetricsSource,
    job: Job,
    calls: Sequence[Call],
    now: pd.Timestamp,
    workers: int,
    advance: Callable[[int, int], None],
) -> pd.DataFrame:
    assert job.plan is not None
    rows, stats = answer_all(client, job.plan.endpoints[0], calls, workers, False, None, True)
    advance(len(calls), stats.failed)
    return job.plan.frame(0, rows)


def _consumption_batches(
    client: Any,
    job: Job,
    *,
    now: pd.Timestamp,
    workers: int,
    advance: Callable[[int, int], None],
) -> Iterator[pd.DataFrame]:
    """Each group's billing days from its first not settled on: one call per group, ``workers``
    at a time, yielded in the groups' order; a failed call as its days marked failed."""
    asked = [
        (group, pd.Timestamp(int(job.starts[int(np.argmax(mask))]), unit="s", tz="UTC"))
        for group, mask in zip(job.groups, job.wanted, strict=True)
        if mask.any()
    ]

    def one(group: str | None, after: pd.Timestamp) -> pd.DataFrame | MetricsError:
        try:
            ids = None if group is None else [group]
            return fetch_consumption(client, after, now, by=job.by, ids=ids, refresh=True)
        except STOPPING_ERRORS:
            raise
        except MetricsError as error:
            return error

    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(asked))))
    try:
        answers = pool.map(one, *zip(*asked, strict=True)) if asked else iter(())
        for (group, after), answer in zip(asked, answers, strict=True):
            if isinstance(answer, MetricsError):
                advance(1, 1)
                yield _failed_days(job, group, after, now, answer)
            else:
                advance(1, 0)
                yield answer
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _failed_days(
    job: Job, group: str | None, after: pd.Timestamp, now: pd.Timestamp, error: MetricsError
) -> pd.DataFrame:
    """The billing days a failed consumption call asked, marked failed with NA ACUs (never a
    silent gap; a day the store holds with numbers keeps them)."""
    starts = pd.DatetimeIndex(
        pd.to_datetime(job.starts[job.starts >= int(after.timestamp())], unit="s", utc=True),
        name=BUCKET_START,
    )
    ends = starts + pd.Timedelta(seconds=BILLING_DAY)
    data: dict[str, Any] = {} if job.by is None else {ID_FIELDS[job.by]: group}
    data.update({BUCKET_END: ends, "partial": ends > now, "clipped": False, "failed": True})
    data.update({ACUS: np.nan, ERROR: f"{type(error).__name__}: {error}"})
    return pd.DataFrame(data, index=starts)
