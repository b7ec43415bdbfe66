"""One call per bucket (and per group): concurrency, progress and failures, into a wide frame.

The client answers one call at a time (store, retries, the shared rate gate); this module
decides which calls to make, takes what the store holds in one lookup, runs the rest on a
thread pool and puts the answers back in bucket order. It knows the client only as a
:class:`MetricsSource`, so it never imports it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import pandas as pd

from ._calls import BucketFailure, Call, FetchStats, MetricsSource, answer_all
from ._constants import DEFAULT_WORKERS, MAX_WORKERS
from ._endpoints import METRICS, SESSION_METRICS, Endpoint
from ._plan import GIVEN, listed, metric_name, plan_calls, plan_series
from ._vocabulary import BREAKDOWNS, ERROR, ROW_FLAGS
from .buckets import Bucket, FreqLike
from .directory import Directory
from .errors import FetchError, FutureBucketsWarning, InvalidParameterError, PartialFetchWarning
from .params import TimeLike, check_positive_int

__all__ = [
    "BREAKDOWNS",
    "DEFAULT_WORKERS",
    "SERIES_METRICS",
    "BucketFailure",
    "Call",
    "FetchStats",
    "MetricsSource",
    "PartialFetchWarning",
    "fetch_frames",
    "fetch_series",
    "metric_name",
    "plan_calls",
    "series_endpoint",
]

ON_ERROR = ("raise", "mark")
#: The metrics a series takes by name (windowed, one answer per window), and where the others
#: are served.
SERIES_METRICS = ("sessions", "prs", "usage", "searches", "active_users", "categories")
ELSEWHERE = {
    "dau": "fetch_active_user_periods(freq='day')",
    "wau": "fetch_active_user_periods(freq='week')",
    "mau": "fetch_active_user_periods(freq='month')",
    "consumption": "fetch_consumption",
    "cycles": "client.billing_cycles()",
}


def series_endpoint(metric: str) -> Endpoint[Any]:
    """The enterprise declaration of a series' metric, by name (``"prs"``).

    Raises
    ------
    InvalidParameterError
        For a name that is not one of :data:`SERIES_METRICS` (saying where the others are).
    """
    if metric in ELSEWHERE:
        raise InvalidParameterError(
            "metric", f"{metric!r} is not a series of one total per bucket: use {ELSEWHERE[metric]}"
        )
    if metric not in SERIES_METRICS:
        raise InvalidParameterError(
            "metric", f"got {metric!r}; expected one of {', '.join(map(repr, SERIES_METRICS))}"
        )
    endpoint = METRICS[metric].enterprise
    assert endpoint is not None
    return endpoint


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
    metric: str | None = None,
) -> pd.DataFrame:
    """Metrics per time bucket (and per group), as a wide frame: session metrics by default,
    or PRs, usage, searches, active users or sessions by category (``metric=``).

    At the client's scope: a client scoped to an organization asks that organization's paths,
    and what exists only at enterprise scope (sessions by category, a breakdown or filter by
    organization) is refused before any request. There, ``by="user"`` (or service user,
    playbook) takes ids only, as given: the directory that resolves names and lists every
    group exists only at enterprise scope.

    Active users are distinct counts: each bucket's is asked as such (exact in any calendar),
    and the frame refuses :func:`~metrics_toolkit.frames.rollup` and
    :func:`~metrics_toolkit.frames.combine_groups`.

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
    metric : str, optional
        The same by name, one of :data:`SERIES_METRICS` (``"sessions"``, ``"prs"``,
        ``"usage"``, ``"searches"``, ``"active_users"``, ``"categories"``); give ``metric``
        or ``endpoint``, not both. Usage takes no filter; ``by="org"`` asks each
        organization's usage.

    Returns
    -------
    pandas.DataFrame
        The wide frame (see :mod:`metrics_toolkit.frames`); ``frame.attrs`` holds ``freq``,
        ``tz``, ``group_by``, ``endpoint`` (the metric's name, which tells
        :func:`~metrics_toolkit.frames.rollup` how each column combines), ``now`` (the time
        partial buckets were judged against),
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
    if metric is not None:
        if endpoint is not SESSION_METRICS:
            raise InvalidParameterError("metric", "give metric= or endpoint=, not both")
        endpoint = series_endpoint(metric)
    if not isinstance(endpoint, Endpoint) or not endpoint.windowed:
        raise InvalidParameterError(
            "endpoint", f"got {endpoint!r}; expected the declaration of a windowed endpoint"
        )
    given = zip(GIVEN, (ids, user_ids, service_user_ids, org_ids, playbook_id), strict=True)
    wanted = {name: listed(value, name) for name, value in given if value is not None}
    frames, stats, now, cut = fetch_frames(
        client,
        [endpoint],
        start,
        end,
        freq,
        tz=tz,
        by=by,
        wanted=wanted,
        workers=workers,
        progress=progress,
        on_progress=on_progress,
        refresh=refresh,
        directory=directory,
        allow_unknown_ids=allow_unknown_ids,
    )
    [frame] = frames
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


def fetch_frames(
    client: MetricsSource,
    endpoints: Sequence[Endpoint[Any]],
    start: TimeLike,
    end: TimeLike,
    freq: FreqLike,
    *,
    tz: str,
    by: str | None,
    wanted: dict[str, list[str]],
    workers: int,
    progress: bool | None,
    on_progress: Callable[[int, int], None] | None,
    refresh: bool,
    directory: Directory | None,
    allow_unknown_ids: bool,
) -> tuple[list[pd.DataFrame], FetchStats, pd.Timestamp, tuple[Bucket, ...]]:
    """The wide frames of several endpoints over the same buckets and groups, their calls
    answered by one worker pool (so through the client's one rate gate).

    Parameters as :func:`fetch_series` takes them (``wanted``: the filters and ``ids`` given,
    by name, each a list). Checks every endpoint, filter and the scope before any request.

    Returns
    -------
    frames : list of pandas.DataFrame
        One per endpoint, in order, with ``attrs`` (not the warnings of :func:`fetch_series`).
    stats : FetchStats
        Of every call.
    now : pandas.Timestamp
    cut : tuple of Bucket
        The buckets not asked for as they start at or after ``now``.
    """
    plan = plan_series(
        client,
        endpoints,
        start,
        end,
        freq,
        tz=tz,
        by=by,
        wanted=wanted,
        directory=directory,
        allow_unknown_ids=allow_unknown_ids,
    )
    planned_calls = [plan.calls(part) for part in range(len(plan.endpoints))]
    calls = [call for part in planned_calls for call in part]
    rows, stats = answer_all(
        client, plan.endpoints[0], calls, workers, progress, on_progress, refresh
    )
    frames = []
    offset = 0
    for part, planned in enumerate(planned_calls):
        frame = plan.frame(part, rows[offset : offset + len(planned)])
        offset += len(planned)
        frame.attrs["fetch_stats"] = stats
        frames.append(frame)
    now, cut = plan.now, plan.cut
    return frames, stats, now, cut
