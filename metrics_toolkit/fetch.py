"""One call per bucket (and per group): concurrency, progress and failures, into a wide frame.

The client does the HTTP (retries, the shared rate gate, the cache); this module decides which
calls to make, runs them on a thread pool and puts the answers back in bucket order.
"""

from __future__ import annotations

import concurrent.futures
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd
from tqdm.auto import tqdm

from .buckets import Bucket, time_buckets
from .client import SESSION_METRICS, MetricsClient
from .directory import Directory
from .errors import FetchError, InvalidParameterError, MetricsError, PartialFetchWarning
from .frames import Row, wide_frame
from .params import check_ids, check_positive_int, filter_params

__all__ = [
    "BREAKDOWNS",
    "DEFAULT_WORKERS",
    "BucketFailure",
    "FetchStats",
    "PartialFetchWarning",
    "fetch_series",
    "plan_calls",
]

#: Requests in flight at once.
DEFAULT_WORKERS = 8
#: Most workers accepted (the connection pool holds this many).
MAX_WORKERS = 32
#: A progress bar appears above this many calls.
PROGRESS_MIN_CALLS = 8
#: Breakdown kinds and the filter each id is passed as.
BREAKDOWNS = {
    "org": "org_ids",
    "user": "user_ids",
    "service_user": "service_user_ids",
    "playbook": "playbook_id",
}
ON_ERROR = ("raise", "mark")


@dataclass(frozen=True)
class BucketFailure:
    """A (group, bucket) whose call still failed after its retries."""

    bucket: Bucket
    group: str | None
    error: MetricsError

    def __str__(self) -> str:
        where = f"[{self.bucket.start.isoformat()}, {self.bucket.end.isoformat()})"
        if self.group is not None:
            where += f" {self.group}"
        return f"{where}: {type(self.error).__name__}: {self.error}"


@dataclass
class FetchStats:
    """What a fetch did, for status lines."""

    calls: int = 0
    """(group, bucket) calls planned."""
    from_cache: int = 0
    """Answered from the cache, no request sent."""
    fetched: int = 0
    """Answered by the server."""
    failed: int = 0
    """Still failing after retries."""
    requests: int = 0
    """HTTP requests sent, retries included."""
    seconds: float = 0.0
    """Wall time of the fetch."""
    failures: list[BucketFailure] = field(default_factory=list)

    def summary(self) -> str:
        """One line, e.g. ``52 buckets: 40 from cache, 12 fetched, 0 failed in 0.8 s``."""
        return (
            f"{self.calls} calls: {self.from_cache} from cache, {self.fetched} fetched, "
            f"{self.failed} failed in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class Call:
    """One planned call: a bucket, its group, and the query parameters."""

    bucket: Bucket
    group: str | None
    params: dict[str, Any]


def plan_calls(
    buckets: Sequence[Bucket],
    *,
    by: str | None = None,
    ids: Sequence[str] | None = None,
    filters: dict[str, Any] | None = None,
) -> list[Call]:
    """The calls of a series, groups outer and buckets inner (pure).

    Parameters
    ----------
    buckets : sequence of Bucket
    by : {"org", "user", "service_user", "playbook"}, optional
        Break down by this kind: one call per id per bucket, the id passed as that filter
        (and combined with AND with the other filters).
    ids : sequence of str, optional
        The ids to break down by; required with ``by``.
    filters : dict, optional
        Checked filters from :func:`~metrics_toolkit.params.filter_params`.
    """
    filters = dict(filters or {})
    groups: list[str | None] = [None] if by is None else list(ids or [])
    calls = []
    for group in groups:
        extra = dict(filters)
        if by is not None and group is not None:
            key = BREAKDOWNS[by]
            extra[key] = group if key == "playbook_id" else [group]
        for bucket in buckets:
            params = {"time_after": bucket.time_after, "time_before": bucket.time_before, **extra}
            calls.append(Call(bucket, group, params))
    return calls


def fetch_series(
    client: MetricsClient,
    start: Any,
    end: Any,
    freq: Any = "week",
    *,
    tz: str = "UTC",
    by: str | None = None,
    ids: Sequence[str] | None = None,
    user_ids: Sequence[str] | None = None,
    service_user_ids: Sequence[str] | None = None,
    org_ids: Sequence[str] | None = None,
    playbook_id: str | None = None,
    workers: int = DEFAULT_WORKERS,
    progress: bool | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    on_error: Literal["raise", "mark"] = "raise",
    refresh: bool = False,
    directory: Directory | None = None,
) -> pd.DataFrame:
    """Session metrics per time bucket (and per group), as a wide frame.

    Parameters
    ----------
    client : MetricsClient
    start, end : TimeLike
        The range, half-open ``[start, end)``; naive values are read in ``tz``.
    freq : str, timedelta or pandas offset, default "week"
        Bucket frequency (see :func:`~metrics_toolkit.buckets.time_buckets`).
    tz : str, default "UTC"
        IANA time zone whose calendar the buckets follow.
    by : {"org", "user", "service_user", "playbook"}, optional
        Break down by this kind, one call per id per bucket.
    ids : sequence of str, optional
        The ids to break down by. Default: the ids of the matching filter when given, else
        every id of that kind in ``directory`` (loaded from the client when not given).
    user_ids, service_user_ids, org_ids, playbook_id
        Filters, as :meth:`MetricsClient.session_metrics` takes them.
    workers : int, default 8
        Calls in flight at once, 1 to 32.
    progress : bool, optional
        Show a progress bar (notebook-aware); default: when there are more than 8 calls.
    on_progress : callable, optional
        Called as ``on_progress(done, total)`` after each call (e.g. by a widget).
    on_error : {"raise", "mark"}, default "raise"
        ``"raise"``: when calls still fail after retries, raise :class:`FetchError` naming
        each, with the frame of the others on ``.frame``. ``"mark"``: return every row, the
        failed ones marked ``failed`` with NA metrics and an ``error``, and warn.
    refresh : bool, default False
        Ask the server even for answers in the cache.
    directory : Directory, optional
        Names for the ids; adds a ``<kind>_name`` column to a breakdown.

    Returns
    -------
    pandas.DataFrame
        The wide frame (see :mod:`metrics_toolkit.frames`); ``frame.attrs`` holds ``freq``,
        ``tz``, ``group_by``, ``now`` (the time partial buckets were judged against) and
        ``fetch_stats`` (a :class:`FetchStats`).

    Raises
    ------
    InvalidParameterError
        Before any request, for a malformed parameter.
    FetchError
        With ``on_error="raise"``, when some calls still failed.
    """
    workers = check_positive_int(workers, "workers")
    if workers > MAX_WORKERS:
        raise InvalidParameterError("workers", f"got {workers}; expected 1 to {MAX_WORKERS}")
    if on_error not in ON_ERROR:
        raise InvalidParameterError("on_error", f"got {on_error!r}; expected one of {ON_ERROR}")
    if on_progress is not None and not callable(on_progress):
        raise InvalidParameterError(
            "on_progress", f"got {on_progress!r}; expected a callable on_progress(done, total)"
        )
    if directory is not None and not isinstance(directory, Directory):
        raise InvalidParameterError(
            "directory", f"got {type(directory).__name__}; expected a Directory or None"
        )
    filters = filter_params(
        user_ids=user_ids,
        service_user_ids=service_user_ids,
        org_ids=org_ids,
        playbook_id=playbook_id,
    )
    _check_breakdown(by, ids)
    if by is not None and ids is not None and BREAKDOWNS[by] in filters:
        raise InvalidParameterError(
            "ids",
            f"by={by!r} with both ids and {BREAKDOWNS[by]}: a breakdown by {by} takes its "
            f"groups from one of them; pass ids, or {BREAKDOWNS[by]} alone",
        )
    now = client.now()
    buckets = time_buckets(start, end, freq, tz=tz, now=now)  # checked before any request
    if by is not None and ids is None and BREAKDOWNS[by] not in filters and directory is None:
        directory = client.directory()
    group_ids = _group_ids(by, ids, filters, directory)
    if by is not None and BREAKDOWNS[by] in filters and ids is None:
        del filters[BREAKDOWNS[by]]
    calls = plan_calls(buckets, by=by, ids=group_ids, filters=filters)
    rows, stats = _run(client, calls, workers, progress, on_progress, refresh)
    frame = wide_frame(rows, group_by=by)
    if by is not None and directory is not None:
        frame = directory.label(frame)
    frame.attrs.update({"freq": freq, "tz": tz, "group_by": by, "now": now, "fetch_stats": stats})
    if stats.failures:
        if on_error == "raise":
            succeeded = frame[~frame["failed"]].drop(columns=["error"], errors="ignore")
            raise FetchError(stats.failures, succeeded)
        warnings.warn(
            f"{stats.failed} of {stats.calls} calls failed; their rows are marked failed "
            "(metrics NA). Run again to fetch only those.",
            PartialFetchWarning,
            stacklevel=2,
        )
    return frame


def _check_breakdown(by: str | None, ids: Sequence[str] | None) -> None:
    if by is None and ids is not None:
        raise InvalidParameterError("ids", "ids are the groups of a breakdown; pass by= too")
    if by is not None and by not in BREAKDOWNS:
        raise InvalidParameterError(
            "by", f"got {by!r}; expected None or one of {', '.join(map(repr, BREAKDOWNS))}"
        )


def _group_ids(
    by: str | None,
    ids: Sequence[str] | None,
    filters: dict[str, Any],
    directory: Directory | None,
) -> list[str] | None:
    """The groups of a breakdown: ``ids``, else the matching filter's, else the directory's."""
    if by is None:
        return None
    if ids is not None:
        return check_ids(ids, "ids")
    own = filters.get(BREAKDOWNS[by])
    if own is not None:
        return [own] if isinstance(own, str) else list(own)
    if directory is None:
        raise InvalidParameterError("ids", f"by={by!r} needs the ids to break down by")
    known = directory.ids(by)
    if not known:
        raise InvalidParameterError("ids", f"by={by!r} needs ids, and the directory has none")
    return known


def _run(
    client: MetricsClient,
    calls: Sequence[Call],
    workers: int,
    progress: bool | None,
    on_progress: Callable[[int, int], None] | None,
    refresh: bool,
) -> tuple[list[Row], FetchStats]:
    """Answer every call: kept answers first, then the others on a thread pool."""
    started = time.perf_counter()
    stats = FetchStats(calls=len(calls))
    results: list[Row | None] = [None] * len(calls)
    show = progress if progress is not None else len(calls) > PROGRESS_MIN_CALLS
    bar = tqdm(total=len(calls), desc="session metrics", unit="call", disable=not show)

    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        bar.update(count)
        if on_progress is not None and count:
            on_progress(done, len(calls))

    try:
        if not refresh:
            advance(_take_cached(client, calls, results, stats))
        _fetch_missing(client, calls, results, stats, workers, refresh, advance)
    finally:
        bar.close()
    stats.failures.sort(key=lambda f: (str(f.group), f.bucket.start))
    stats.seconds = time.perf_counter() - started
    return [row for row in results if row is not None], stats


def _take_cached(
    client: MetricsClient, calls: Sequence[Call], results: list[Row | None], stats: FetchStats
) -> int:
    """Fill in the answers the cache keeps (no thread, no request); returns how many."""
    for index, call in enumerate(calls):
        answer = client.cached(SESSION_METRICS, call.params)
        if answer is not None:
            results[index] = Row(call.bucket, call.group, answer.data)
            stats.from_cache += 1
    return stats.from_cache


def _fetch_missing(
    client: MetricsClient,
    calls: Sequence[Call],
    results: list[Row | None],
    stats: FetchStats,
    workers: int,
    refresh: bool,
    advance: Callable[[int], None],
) -> None:
    """Ask for the calls still without an answer, ``workers`` at a time, in any order."""
    executor = concurrent.futures.ThreadPoolExecutor(max_workers=workers)
    try:
        futures = {
            executor.submit(client.request, SESSION_METRICS, call.params, refresh=refresh): index
            for index, call in enumerate(calls)
            if results[index] is None
        }
        for future in concurrent.futures.as_completed(futures):
            index = futures[future]
            call = calls[index]
            try:
                answer = future.result()
            except MetricsError as error:
                stats.failed += 1
                stats.failures.append(BucketFailure(call.bucket, call.group, error))
                message = f"{type(error).__name__}: {error}"
                results[index] = Row(call.bucket, call.group, None, message)
            else:
                stats.from_cache += answer.from_cache
                stats.fetched += not answer.from_cache
                stats.requests += answer.attempts
                results[index] = Row(call.bucket, call.group, answer.data)
            advance(1)
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
