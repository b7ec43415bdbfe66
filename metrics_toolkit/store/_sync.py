"""Keeping the store up to date: every family's calls planned and checked before any request,
the ones the store holds settled left out, the others answered and written batch by batch.

A sync holds at most :data:`~metrics_toolkit._constants.STORE_BATCH_CALLS` answers at a time:
each batch is written in its own transaction as soon as it is answered, so memory does not
grow with the history, and a sync that is stopped keeps what it wrote (the next one goes on
from there). Each answer is written once: to the store, with ``refresh`` (the store, not the
HTTP cache, decides what is asked again).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from .._constants import (
    DEFAULT_WORKERS,
    MAX_WORKERS,
    PROGRESS_MIN_CALLS,
    STORE_MEMORY_LIMIT,
)
from .._vocabulary import (
    ID_FIELDS,
)
from ..cache import CachePolicy
from ..errors import InvalidParameterError, PartialFetchWarning
from ..params import check_positive_int, check_timezone, to_timestamp
from ._families import families_for
from ._jobs import Job, plan_job, stamped_batches
from ._tables import (
    DEMO_ORIGIN,
    ORIGIN,
    connect,
    merge,
    meta,
    remember,
    reorder_groups,
    run,
    settled_keys,
    store_zone,
    unsettled_groups,
)

if TYPE_CHECKING:
    from ..client import MetricsClient

__all__ = ["Breakdown", "Job", "SyncSummary", "plan_job", "stamped_batches", "sync"]

Breakdown = Literal["org", "user", "service_user", "playbook"]


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
    chosen = families_for(client, metrics, by)
    path = Path(db_path)
    zone = _zone(path, tz)
    first = to_timestamp(start, "start", zone)
    now = pd.Timestamp(client.now()).tz_convert("UTC")
    if first >= now:
        raise InvalidParameterError(
            "start", f"got {first.isoformat()}; the first day kept must be before now"
        )
    settle = getattr(client, "cache_policy", CachePolicy()).settle_period
    directory = client.directory() if by is not None else None
    group = None if by is None else ID_FIELDS[by]
    jobs = []
    with _reading(path) as con:  # every check and plan before the file is written
        for family in chosen:
            table = family.table(by)
            kept = None if con is None else con
            jobs.append(
                plan_job(
                    client,
                    family,
                    first,
                    tz=zone,
                    by=by,
                    directory=directory,
                    now=now,
                    settled={} if kept is None else settled_keys(kept, table, group),
                    extra_groups=[]
                    if kept is None or group is None
                    else unsettled_groups(kept, table, group),
                    settle=settle,
                )
            )
    summary = SyncSummary()
    total = sum(job.calls for job in jobs)
    summary.from_store = sum(job.planned for job in jobs) - total
    con = connect(path)
    try:
        run(con, f"SET memory_limit = '{STORE_MEMORY_LIMIT}'")
        store_zone(con, zone)
        remember(con, ORIGIN, _origin(client))
        with client.batch(cache=False), _Progress(total, summary, progress, on_progress) as advance:
            for job in jobs:
                summary.days[job.table] = int(np.any(job.wanted, axis=0).sum()) if job.groups else 0
                batches = stamped_batches(client, job, now=now, workers=workers, advance=advance)
                for rows, dtypes in batches:
                    merge(con, job.table, rows, group, dtypes)
                    summary.rows += len(rows)
                if group is not None:
                    reorder_groups(con, job.table, group, [str(g) for g in job.groups])
    finally:
        con.close()
    if summary.failed:
        warnings.warn(
            f"{summary.failed} of {summary.calls} calls failed; their rows are marked failed "
            "(metrics NA; a number kept earlier stays). Sync again to ask only for those.",
            PartialFetchWarning,
            stacklevel=2,
        )
    return summary


def _origin(client: Any) -> str:
    """Where the answers come from: ``"demo"``, or the API's host (never the token)."""
    if getattr(client, "is_demo", False):
        return DEMO_ORIGIN
    return urlsplit(str(getattr(client, "base_url", ""))).hostname or "unknown"


def _zone(path: Path, tz: str | None) -> str:
    """The store's zone: ``tz`` (checked) for a new store, the one it was created with for an
    existing one (another ``tz`` refused)."""
    zone = None if tz is None else check_timezone(tz)
    with _reading(path) as con:
        kept = None if con is None else meta(con, "tz")
    if kept is not None and zone is not None and zone != kept:
        raise InvalidParameterError(
            "tz",
            f"this store keeps days in {kept!r}, not {zone!r}: its zone is fixed when it is "
            f"created; use another store for {zone!r} days",
        )
    return kept or zone or "UTC"


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[Any]:
    """A read-only connection to the store at ``path``, or None when there is none yet."""
    if not path.exists():
        yield None
        return
    con = connect(path, read_only=True)
    try:
        yield con
    finally:
        con.close()


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
