"""One call per bucket (and per group): concurrency, progress and failures, into a wide frame.

The client answers one call at a time (store, retries, the shared rate gate); this module
decides which calls to make, takes what the store holds in one lookup, runs the rest on a
thread pool and puts the answers back in bucket order. It knows the client only as a
:class:`MetricsSource`, so it never imports it.
"""

from __future__ import annotations

import concurrent.futures
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

import pandas as pd

from ._constants import DEFAULT_WORKERS, MAX_WORKERS, PROGRESS_MIN_CALLS
from ._endpoints import SESSION_METRICS, Answer, Endpoint
from ._vocabulary import BREAKDOWNS, ERROR, KIND_OF_FILTER, KINDS, ROW_FLAGS
from .buckets import Bucket, FreqLike, time_buckets
from .directory import Directory, directory_if_readable, looks_like_id
from .errors import (
    AuthenticationError,
    FetchError,
    FutureBucketsWarning,
    InvalidParameterError,
    MetricsError,
    PartialFetchWarning,
    PermissionDeniedError,
)
from .frames import Row, wide_frame
from .models import APIModel
from .params import (
    TimeLike,
    check_ids,
    check_names,
    check_playbook_id,
    check_positive_int,
    filter_params,
)

__all__ = [
    "BREAKDOWNS",
    "DEFAULT_WORKERS",
    "BucketFailure",
    "Call",
    "FetchStats",
    "MetricsSource",
    "PartialFetchWarning",
    "fetch_series",
    "plan_calls",
]

ON_ERROR = ("raise", "mark")
#: The groups and filters a series takes, in its signature's order; the kind each filter
#: names; the filters that take one id.
GIVEN = ("ids", "user_ids", "service_user_ids", "org_ids", "playbook_id")
SINGLE = {kind.filter_param for kind in KINDS.values() if kind.single}
#: The token's errors (401, 403): the first stops the whole series, whatever ``on_error``.
STOPPING_ERRORS = (AuthenticationError, PermissionDeniedError)


class _Stopped(Exception):
    """A call not started because the fetch was interrupted."""


ModelT = TypeVar("ModelT", bound=APIModel)


class MetricsSource(Protocol):
    """What a series needs of a client (:class:`~metrics_toolkit.MetricsClient` is one)."""

    def now(self) -> pd.Timestamp:
        """The current time, tz-aware."""
        ...

    def directory(self, *, refresh: bool = False) -> Directory:
        """The enterprise's directory (for the ids of a breakdown, and their names)."""
        ...

    def cached_many(
        self, endpoint: Endpoint[ModelT], queries: Sequence[Mapping[str, Any]]
    ) -> list[Answer[ModelT] | None]:
        """The stored answer of each query, or None; never a request."""
        ...

    def request(
        self, endpoint: Endpoint[ModelT], params: Mapping[str, Any], *, refresh: bool = False
    ) -> Answer[ModelT]:
        """One answer; ``refresh`` skips the store (which a series has asked already)."""
        ...

    def batch(self) -> AbstractContextManager[None]:
        """A context in which answers are written to the store together."""
        ...


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
        """One line, e.g. ``52 calls: 40 from cache, 12 fetched, 0 failed in 0.8 s``."""
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
    client: MetricsSource,
    start: TimeLike,
    end: TimeLike,
    freq: FreqLike = "week",
    *,
    tz: str = "UTC",
    by: Literal["org", "user", "service_user", "playbook"] | None = None,
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
    allow_unknown_ids: bool = False,
    endpoint: Endpoint[Any] = SESSION_METRICS,
) -> pd.DataFrame:
    """Metrics per time bucket (and per group), as a wide frame: session metrics by default.

    Parameters
    ----------
    client : MetricsClient
        Or anything else that is a :class:`MetricsSource`.
    start, end : TimeLike
        The range, half-open ``[start, end)``; naive values are read in ``tz``.
    freq : str, timedelta or pandas offset, default "week"
        Bucket frequency (see :func:`~metrics_toolkit.buckets.time_buckets`).
    tz : str, default "UTC"
        IANA time zone whose calendar the buckets follow.
    by : {"org", "user", "service_user", "playbook"}, optional
        Break down by this kind, one call per id per bucket; the frame has its id column and
        a ``<kind>_name`` column.
    ids : sequence of str, optional
        The groups to break down by: ids, names (titles for playbooks) or users' emails.
        Default: the matching filter's when given, else every id of that kind in the directory.
    user_ids, service_user_ids, org_ids : sequence of str, optional
        Keep sessions of any of these ids, names or emails (users); filters combine with AND.
    playbook_id : str, optional
        Keep sessions created with this playbook (its id or title).
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
        Resolves names and checks ids, and labels a breakdown. Default: the client's
        directory, loaded when there are names or ids to check or groups to label. When it
        cannot be read (no permission), a :class:`DirectoryWarning` says so once per client,
        and the values are sent as given.
    allow_unknown_ids : bool, default False
        Send an id the directory does not list (a deleted user still has history) instead of
        refusing it; a value that does not look like an id must still name an entry.
    endpoint : Endpoint, default the sessions metrics
        A windowed endpoint declaration; the filters (and ``by``) must be ones it takes.

    Returns
    -------
    pandas.DataFrame
        The wide frame (see :mod:`metrics_toolkit.frames`); ``frame.attrs`` holds ``freq``,
        ``tz``, ``group_by``, ``now`` (the time partial buckets were judged against),
        ``cut_after_now`` (a tuple of the buckets not asked for as they start at or after
        ``now``; a :class:`FutureBucketsWarning` names them; one that straddles ``now`` is
        kept, ``partial``) and ``fetch_stats`` (a :class:`FetchStats`).

    Raises
    ------
    InvalidParameterError
        Before any metrics request, for a malformed parameter, a name that matches nothing or
        an id the directory does not list (with the closest names or ids).
    AuthenticationError, PermissionDeniedError
        At the first 401 or 403: the calls not yet sent are cancelled, whatever ``on_error``.
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
    if not isinstance(endpoint, Endpoint) or not endpoint.windowed:
        raise InvalidParameterError(
            "endpoint", f"got {endpoint!r}; expected the declaration of a windowed endpoint"
        )
    given = zip(GIVEN, (ids, user_ids, service_user_ids, org_ids, playbook_id), strict=True)
    wanted = {name: _listed(value, name) for name, value in given if value is not None}
    _check_breakdown(by, wanted)
    _check_filters(endpoint, by, [name for name in wanted if name != "ids"])
    now = client.now()
    buckets = time_buckets(start, end, freq, tz=tz, now=now)  # checked before any request
    cut = tuple(bucket for bucket in buckets if bucket.start >= now)
    buckets = buckets[: len(buckets) - len(cut)]
    if directory is None:
        directory = _load_directory(client, by, wanted, allow_unknown_ids)
    for name, values in wanted.items():  # names -> ids; an unlisted id refused unless allowed
        kind = by if name == "ids" else KIND_OF_FILTER[name]
        if directory is not None and kind is not None:
            wanted[name] = directory.resolve_names(
                kind, values, allow_unknown_ids=allow_unknown_ids, parameter=name
            )
    groups = wanted.pop("ids", None)
    filters = filter_params(**{k: v[0] if k in SINGLE else v for k, v in wanted.items()})
    if by is not None and groups is None:  # the matching filter's, else the directory's
        own = filters.pop(BREAKDOWNS[by], None) or (directory.ids(by) if directory else [])
        groups = [own] if isinstance(own, str) else own
        if not groups:
            raise InvalidParameterError("ids", f"by={by!r} needs ids, and the directory has none")
    groups = None if groups is None else check_ids(groups, "ids")
    calls = plan_calls(buckets, by=by, ids=groups, filters=filters)
    rows, stats = _run(client, endpoint, calls, workers, progress, on_progress, refresh)
    frame = wide_frame(rows, group_by=by, model=endpoint.model)
    if by is not None:  # without a directory (no permission), each group is its own label
        frame = (directory or Directory()).label(frame)
    frame.attrs.update({"freq": freq, "tz": tz, "group_by": by, "now": now, "cut_after_now": cut})
    frame.attrs["fetch_stats"] = stats
    if cut:
        warnings.warn(
            f"{len(cut)} bucket(s) from {cut[0].start.isoformat()} on were not asked for: they "
            f"start at or after now ({now.isoformat()}) and have no numbers yet",
            FutureBucketsWarning,
            stacklevel=2,
        )
    if stats.failures:
        if on_error == "raise":
            failed = ROW_FLAGS[2]
            succeeded = frame[~frame[failed]].drop(columns=[ERROR], errors="ignore")
            raise FetchError(stats.failures, succeeded)
        warnings.warn(
            f"{stats.failed} of {stats.calls} calls failed; their rows are marked failed "
            "(metrics NA). Run again to fetch only those.",
            PartialFetchWarning,
            stacklevel=2,
        )
    return frame


def _check_breakdown(by: str | None, wanted: dict[str, list[str]]) -> None:
    if by is None and "ids" in wanted:
        raise InvalidParameterError("ids", "ids are the groups of a breakdown; pass by= too")
    if by is not None and by not in BREAKDOWNS:
        raise InvalidParameterError(
            "by", f"got {by!r}; expected None or one of {', '.join(map(repr, BREAKDOWNS))}"
        )
    if by is not None and "ids" in wanted and BREAKDOWNS[by] in wanted:
        raise InvalidParameterError(
            "ids",
            f"by={by!r} with both ids and {BREAKDOWNS[by]}: a breakdown by {by} takes its "
            f"groups from one of them; pass ids, or {BREAKDOWNS[by]} alone",
        )


def _check_filters(endpoint: Endpoint[Any], by: str | None, filters: Sequence[str]) -> None:
    """Refuse a filter or breakdown the endpoint does not take, before any request."""
    takes = ", ".join(endpoint.filters) or "no filter"
    for name in filters:
        if name not in endpoint.filters:
            raise InvalidParameterError(name, f"{endpoint.path} does not take it; it takes {takes}")
    if by is not None and BREAKDOWNS[by] not in endpoint.filters:
        raise InvalidParameterError(
            "by", f"{endpoint.path} cannot be broken down by {by!r}: it takes {takes}"
        )


def _listed(value: Any, name: str) -> list[str]:
    """A filter's or the groups' names or ids as a list, checked in shape only."""
    if name in SINGLE:
        return [str(check_playbook_id(value, name))]
    return check_names(value, name) or []


def _load_directory(
    client: MetricsSource, by: str | None, wanted: dict[str, list[str]], allow_unknown_ids: bool
) -> Directory | None:
    """The client's directory when a series needs it: for its groups (it must be read), or to
    resolve and check the values given and to label the groups (it may be unreadable)."""
    if by is not None and not {"ids", BREAKDOWNS[by]} & set(wanted):
        return client.directory()
    given = [value for values in wanted.values() for value in values]
    if by is None and (not given or (allow_unknown_ids and all(map(looks_like_id, given)))):
        return None
    return directory_if_readable(client.directory, client)


def _run(
    client: MetricsSource,
    endpoint: Endpoint[Any],
    calls: Sequence[Call],
    workers: int,
    progress: bool | None,
    on_progress: Callable[[int, int], None] | None,
    refresh: bool,
) -> tuple[list[Row], FetchStats]:
    """Answer every call: the stored answers in one lookup, then the others on a thread pool,
    their answers written to the store together."""
    started = time.perf_counter()
    stats = FetchStats(calls=len(calls))
    results: list[Row | None] = [None] * len(calls)
    bar = None
    if progress if progress is not None else len(calls) > PROGRESS_MIN_CALLS:
        from tqdm.auto import tqdm  # notebook-aware; imported only when a bar is shown

        bar = tqdm(total=len(calls), desc=endpoint.noun, unit="call")
    done = 0

    def advance(count: int) -> None:
        nonlocal done
        done += count
        if bar is not None:
            bar.update(count)
        if on_progress is not None and count:
            on_progress(done, len(calls))

    try:
        if not refresh:
            advance(_take_cached(client, endpoint, calls, results, stats))
        with client.batch():
            _fetch_missing(client, endpoint, calls, results, stats, workers, advance)
    finally:
        if bar is not None:
            bar.close()
    stats.failures.sort(key=lambda f: (str(f.group), f.bucket.start))
    stats.seconds = time.perf_counter() - started
    return [row for row in results if row is not None], stats


def _take_cached(
    client: MetricsSource,
    endpoint: Endpoint[Any],
    calls: Sequence[Call],
    results: list[Row | None],
    stats: FetchStats,
) -> int:
    """Fill in the answers the store keeps, in one lookup (no thread, no request)."""
    answers = client.cached_many(endpoint, [call.params for call in calls])
    for index, (call, answer) in enumerate(zip(calls, answers, strict=True)):
        if answer is not None:
            results[index] = Row(call.bucket, call.group, answer.data)
            stats.from_cache += 1
    return stats.from_cache


def _fetch_missing(
    client: MetricsSource,
    endpoint: Endpoint[Any],
    calls: Sequence[Call],
    results: list[Row | None],
    stats: FetchStats,
    workers: int,
    advance: Callable[[int], None],
) -> None:
    """Ask for the calls still without an answer, ``workers`` at a time, in any order."""
    missing = [index for index, row in enumerate(results) if row is None]
    if not missing:
        return
    stop = threading.Event()  # set on Ctrl-C: workers start no new call

    def answer(params: dict[str, Any]) -> Answer[Any]:
        if stop.is_set():
            raise _Stopped
        try:
            return client.request(endpoint, params, refresh=True)
        except BaseException as error:
            # KeyboardInterrupt, SystemExit, a 401 or 403: no worker starts another call
            if not isinstance(error, Exception) or isinstance(error, STOPPING_ERRORS):
                stop.set()
            raise

    executor = concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(missing)))
    try:
        futures = {executor.submit(answer, calls[index].params): index for index in missing}
        for future in concurrent.futures.as_completed(futures):
            index = futures[future]
            call = calls[index]
            try:
                answer_of_call = future.result()
            except _Stopped:
                continue  # the interrupt itself is raised from its own call
            except STOPPING_ERRORS:
                raise  # the token or its permission: every other call would fail the same way
            except MetricsError as error:
                stats.failed += 1
                stats.failures.append(BucketFailure(call.bucket, call.group, error))
                message = f"{type(error).__name__}: {error}"
                results[index] = Row(call.bucket, call.group, None, message)
            else:
                stats.from_cache += answer_of_call.from_cache
                stats.fetched += not answer_of_call.from_cache
                stats.requests += answer_of_call.attempts
                results[index] = Row(call.bucket, call.group, answer_of_call.data)
            advance(1)
    finally:
        stop.set()
        executor.shutdown(wait=True, cancel_futures=True)
