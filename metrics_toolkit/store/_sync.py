"""Keeping the store up to date: every family's calls planned and checked before any request,
the ones the store holds settled left out, the others answered and written batch by batch.

A sync holds at most :data:`~metrics_toolkit._constants.STORE_BATCH_CALLS` answers at a time:
each batch is written in its own transaction as soon as it is answered, so memory does not
grow with the history, and a sync that is stopped keeps what it wrote (the next one goes on
from there). Each answer is written once: to the store, with ``refresh`` (the store, not the
HTTP cache, decides what is asked again).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._calls import STOPPING_ERRORS, Call, MetricsSource, answer_all
from .._constants import (
    DEFAULT_SETTLE_PERIOD,
    DEFAULT_WORKERS,
    MAX_WORKERS,
    PROGRESS_MIN_CALLS,
    STORE_BATCH_CALLS,
)
from .._plan import SeriesPlan, plan_series
from .._vocabulary import BILLING_DAY, BILLING_DAY_START, BUCKET_END, ID_FIELDS
from ..buckets import bucket_floor
from ..errors import InvalidParameterError, MetricsError, PartialFetchWarning
from ..fetch import series_endpoint
from ..frequencies import parse_freq
from ..params import check_positive_int, check_timezone, to_timestamp
from ..periods import fetch_consumption
from ._families import CONSUMPTION, Family, families
from ._tables import FETCHED_AT, POSITION, SETTLED, connect, merge, meta, settled_keys, store_zone

if TYPE_CHECKING:
    from ..client import MetricsClient

__all__ = ["Breakdown", "Job", "SyncSummary", "plan_job", "stamped_batches", "sync"]

Breakdown = Literal["org", "user", "service_user", "playbook"]
_EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class SyncSummary:
    """What one :func:`sync` did.

    Attributes
    ----------
    calls : int
        Calls made to the API (>= 0): one per day (week, month) and group not settled in the
        store, one per group for consumption.
    from_store : int
        Calls not made because the store holds them settled (>= 0).
    failed : int
        Calls that still failed after their retries (>= 0); their rows are marked ``failed``
        (consumption: not written) and asked again by the next sync.
    rows : int
        Rows written (replaced or added) across the tables, >= 0.
    days : dict of str to int
        Buckets (days, weeks, months, billing days) asked per table, >= 0 each.
    """

    calls: int = 0
    from_store: int = 0
    failed: int = 0
    rows: int = 0
    days: dict[str, int] = field(default_factory=dict)

    def line(self) -> str:
        """One line, e.g. ``52 call(s), 1,040 from the store, 0 failed, 52 row(s) written``."""
        return (
            f"{self.calls:,} call(s), {self.from_store:,} from the store, {self.failed:,} "
            f"failed, {self.rows:,} row(s) written"
        )


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

    @property
    def calls(self) -> int:
        if self.plan is None:
            return sum(bool(mask.any()) for mask in self.wanted)
        return int(sum(int(mask.sum()) for mask in self.wanted))

    @property
    def planned(self) -> int:
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
) -> Job:
    """Plan one family from ``start`` to now (checked before any request), leaving out the
    buckets ``settled`` holds per group (Unix seconds of their starts).

    ``start`` is floored to the family's grain (a week or month of active users, a billing
    day); ``directory`` lists the groups of ``by`` (None without a breakdown).
    """
    table = family.table(by)
    plan: SeriesPlan | None = None
    if family.metric == CONSUMPTION:
        first = _billing_floor(start)
        count = int((now - first) / pd.Timedelta(seconds=BILLING_DAY)) + 1
        starts = np.int64(first.timestamp()) + np.arange(count, dtype=np.int64) * BILLING_DAY
        groups: list[str | None] = [None] if by is None else list(directory.ids(by))
    else:
        plan = plan_series(
            client,
            [series_endpoint(family.metric)],
            bucket_floor(start, family.grain, tz),
            _period_after(now, family.grain, tz),
            family.grain,
            tz=tz,
            by=by,
            wanted={},
            directory=directory,
            allow_unknown_ids=False,
        )
        starts = np.array([int(b.start.timestamp()) for b in plan.buckets], dtype=np.int64)
        groups = [None] if plan.groups is None else list(plan.groups)
    wanted = [~np.isin(starts, settled.get(g, _EMPTY)) for g in groups]
    if family.metric == CONSUMPTION:  # one call from the first day not settled on
        wanted = [np.cumsum(mask) > 0 for mask in wanted]
    return Job(family, table, by, plan, groups, wanted, starts)


def _stamped(
    frame: pd.DataFrame, job: Job, now: pd.Timestamp
) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame with the store's columns, and the frame's own dtypes."""
    dtypes = {str(k): str(v) for k, v in frame.dtypes.items()}
    group = next((c for c in ID_FIELDS.values() if c in frame.columns), None)
    place = {g: i for i, g in enumerate(job.groups)}
    positions = 0 if group is None else frame[group].map(place).to_numpy(dtype=np.int64)
    ended = frame[BUCKET_END] <= now - DEFAULT_SETTLE_PERIOD
    if "categories" in frame.columns:  # a list of categories, kept as JSON text
        frame = frame.assign(categories=frame["categories"].map(_json))
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
        yield from _consumption_batches(client, job, now=now, advance=advance)
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
    client: Any, job: Job, *, now: pd.Timestamp, advance: Callable[[int, int], None]
) -> Iterator[pd.DataFrame]:
    for group, mask in zip(job.groups, job.wanted, strict=True):
        if not mask.any():
            continue
        after = pd.Timestamp(int(job.starts[int(np.argmax(mask))]), unit="s", tz="UTC")
        try:
            frame = fetch_consumption(
                client,
                after,
                now,
                by=job.by,
                ids=None if group is None else [group],
                refresh=True,
            )
        except STOPPING_ERRORS:
            raise
        except MetricsError:
            advance(1, 1)
            continue
        advance(1, 0)
        yield frame


def sync(
    client: MetricsClient,
    db_path: str | Path,
    start: Any,
    *,
    tz: str | None = None,
    metrics: Sequence[str] | None = None,
    by: Breakdown | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: bool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SyncSummary:
    """Bring the store at ``db_path`` up to date: every bucket from ``start`` to now.

    Every family is planned and checked before any request. Buckets (and groups) the store
    holds settled are not asked again; the others (provisional, failed, new, before the
    first kept, a group not yet kept) are asked with ``refresh`` and merged on (bucket,
    group), written batch by batch as they are answered. Running it twice in a row gives the
    same tables; one that is stopped keeps what it wrote, and the next goes on from there.

    Parameters
    ----------
    client : MetricsClient
        Or another :class:`~metrics_toolkit.fetch.MetricsSource`; its ``now()`` is the sync's.
    db_path : str or pathlib.Path
        The DuckDB file, created if missing.
    start : TimeLike
        The first day kept (read in the store's zone). Weeks and months of active users
        start at the week or month that contains it; consumption at its billing day.
    tz : str, optional
        IANA zone of the store's days, fixed when the store is created (default: the
        store's, UTC for a new one); another is refused.
    metrics : sequence of str, optional
        Families to keep, of :data:`~metrics_toolkit.store.METRIC_NAMES`; default: every
        one that can be kept by ``by``.
    by : {"org", "user", "service_user", "playbook"}, optional
        Keep this breakdown, one table per family (``sessions_by_user``).
    workers : int, default 8
        Calls in flight at once, 1 to 32.
    progress : bool, optional
        Show a progress bar (calls done, from the store, failed); default: above 8 calls.
    on_progress : callable, optional
        Called as ``on_progress(done, total)`` after each batch of calls.

    Returns
    -------
    SyncSummary

    Raises
    ------
    InvalidParameterError
        Before any metrics request: ``tz`` is not the store's zone, an unknown family or
        one that cannot be kept by ``by``, an unreadable ``start``.
    AuthenticationError, PermissionDeniedError
        At the first 401 or 403 (what was written stays).
    """
    workers = check_positive_int(workers, "workers")
    if workers > MAX_WORKERS:
        raise InvalidParameterError("workers", f"got {workers}; expected 1 to {MAX_WORKERS}")
    chosen = families(metrics, by)
    now = pd.Timestamp(client.now()).tz_convert("UTC")
    con = connect(db_path)
    summary = SyncSummary()
    try:
        zone = store_zone(con, check_timezone(tz) if tz is not None else _zone_or_utc(con))
        first = to_timestamp(start, "start", zone)
        directory = client.directory() if by is not None else None
        group = None if by is None else ID_FIELDS[by]
        jobs = [
            plan_job(
                client,
                family,
                first,
                tz=zone,
                by=by,
                directory=directory,
                now=now,
                settled=settled_keys(con, family.table(by), group),
            )
            for family in chosen
        ]
        total = sum(job.calls for job in jobs)
        summary.from_store = sum(job.planned for job in jobs) - total
        with client.batch(cache=False), _Progress(total, summary, progress, on_progress) as advance:
            for job in jobs:
                summary.days[job.table] = int(np.any(job.wanted, axis=0).sum()) if job.groups else 0
                batches = stamped_batches(client, job, now=now, workers=workers, advance=advance)
                for rows, dtypes in batches:
                    merge(con, job.table, rows, group, dtypes)
                    summary.rows += len(rows)
    finally:
        con.close()
    if summary.failed:
        warnings.warn(
            f"{summary.failed} of {summary.calls} calls failed; their rows are marked failed "
            "(consumption: not written). Sync again to ask only for those.",
            PartialFetchWarning,
            stacklevel=2,
        )
    return summary


def _zone_or_utc(con: Any) -> str:
    return meta(con, "tz") or "UTC"


class _Progress:
    """Counts calls into the summary and shows them: a bar of calls done, with those taken
    from the store and those failed beside it, and ``on_progress(done, total)``."""

    def __init__(
        self,
        total: int,
        summary: SyncSummary,
        show: bool | None,
        on_progress: Callable[[int, int], None] | None,
    ) -> None:
        self.total, self.summary, self.on_progress = total, summary, on_progress
        self.bar: Any = None
        if show if show is not None else total > PROGRESS_MIN_CALLS:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="sync", unit="call")
            self._postfix()

    def _postfix(self) -> None:
        self.bar.set_postfix_str(
            f"{self.summary.from_store:,} from the store, {self.summary.failed:,} failed"
        )

    def __call__(self, calls: int, failed: int) -> None:
        self.summary.calls += calls
        self.summary.failed += failed
        if self.bar is not None:
            self.bar.update(calls)
            self._postfix()
        if self.on_progress is not None:
            self.on_progress(self.summary.calls, self.total)

    def __enter__(self) -> Callable[[int, int], None]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
