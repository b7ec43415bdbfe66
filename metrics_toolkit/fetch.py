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
from ._endpoints import ENTITY_METRICS, METRICS, SESSION_METRICS, Endpoint, scoped
from ._rules import ENDPOINT_ATTR
from ._vocabulary import BREAKDOWNS, ERROR, KIND_OF_FILTER, KINDS, ROW_FLAGS
from .buckets import Bucket, FreqLike, time_buckets
from .directory import Directory, directory_if_readable, looks_like_id
from .errors import (
    FetchError,
    FutureBucketsWarning,
    InvalidParameterError,
    PartialFetchWarning,
    ScopeError,
)
from .frames import wide_frame
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
#: The groups and filters a series takes, in its signature's order; the kind each filter
#: names; the filters that take one id.
GIVEN = ("ids", "user_ids", "service_user_ids", "org_ids", "playbook_id")
SINGLE = {kind.filter_param for kind in KINDS.values() if kind.single}
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
#: One organization's usage (enterprise path), asked per organization for ``by="org"``.
ORG_USAGE: Endpoint[Any] = ENTITY_METRICS["org_usage"].enterprise  # type: ignore[assignment]


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


def metric_name(endpoint: Endpoint[Any]) -> str | None:
    """The name of the metric an endpoint serves at either scope (``"prs"``), or None."""
    for metric in (*METRICS.values(), *ENTITY_METRICS.values()):
        if endpoint in (metric.enterprise, metric.organization):
            return "usage" if metric is ENTITY_METRICS["org_usage"] else metric.name
    return None


def plan_calls(
    buckets: Sequence[Bucket],
    *,
    by: str | None = None,
    ids: Sequence[str] | None = None,
    filters: dict[str, Any] | None = None,
    endpoint: Endpoint[Any] | None = None,
    group_param: str | None = None,
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
    endpoint : Endpoint, optional
        The endpoint each call asks (for a fetch of several endpoints at once).
    group_param : str, optional
        The one-id parameter a group is passed as (``"org_id"`` of one organization's usage)
        instead of the breakdown's filter.
    """
    filters = dict(filters or {})
    groups: list[str | None] = [None] if by is None else list(ids or [])
    calls = []
    for group in groups:
        extra = dict(filters)
        if by is not None and group is not None:
            key = group_param or BREAKDOWNS[by]
            extra[key] = group if key in (group_param, "playbook_id") else [group]
        for bucket in buckets:
            params = {"time_after": bucket.time_after, "time_before": bucket.time_before, **extra}
            calls.append(Call(bucket, group, params, endpoint))
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
    wanted = {name: _listed(value, name) for name, value in given if value is not None}
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
    _check_breakdown(by, wanted)
    plans: list[tuple[Endpoint[Any], str | None, str | None]] = []
    org_id = None
    for endpoint in endpoints:
        series = metric_name(endpoint)
        group_param = None
        if series == "usage" and by == KINDS["org"].name:  # each organization's own usage
            endpoint, group_param = ORG_USAGE, ORG_USAGE.placeholders[0]
        else:
            _check_filters(endpoint, by, [name for name in wanted if name != "ids"])
        org_id = _check_scope(client, endpoint, by, wanted, group_param)
        plans.append((endpoint, group_param, series))
    now = client.now()
    buckets = time_buckets(start, end, freq, tz=tz, now=now)  # checked before any request
    cut = tuple(bucket for bucket in buckets if bucket.start >= now)
    buckets = buckets[: len(buckets) - len(cut)]
    if directory is None and org_id is None:
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
    planned = [
        plan_calls(buckets, by=by, ids=groups, filters=filters, endpoint=ep, group_param=param)
        for ep, param, _ in plans
    ]
    calls = [call for each in planned for call in each]
    rows, stats = answer_all(client, plans[0][0], calls, workers, progress, on_progress, refresh)
    frames = []
    offset = 0
    for (endpoint, _, series), each in zip(plans, planned, strict=True):
        frame = wide_frame(rows[offset : offset + len(each)], group_by=by, model=endpoint.model)
        offset += len(each)
        if by is not None:  # without a directory (no permission), each group is its own label
            frame = (directory or Directory()).label(frame)
        frame.attrs.update({"freq": freq, "tz": tz, "group_by": by, ENDPOINT_ATTR: series})
        frame.attrs.update({"now": now, "cut_after_now": cut, "fetch_stats": stats})
        frames.append(frame)
    return frames, stats, now, cut


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


def _check_scope(
    client: MetricsSource,
    endpoint: Endpoint[Any],
    by: str | None,
    wanted: dict[str, list[str]],
    group_param: str | None,
) -> str | None:
    """The organization the client is scoped to (None: enterprise), having refused before any
    request what that scope cannot serve: an enterprise-only endpoint, a filter or breakdown
    by organization, names (read from the enterprise directory), a breakdown without ids."""
    org_id: str | None = getattr(client, "org_id", None)
    if org_id is None:
        return None
    scope = f"this client is scoped to organization {org_id}"
    if by == KINDS["org"].name:
        raise ScopeError(
            "by", f"a breakdown by organization exists only at enterprise scope; {scope}"
        )
    params: dict[str, Any] = {"time_after": 0, "time_before": 1}
    params.update({name: values for name, values in wanted.items() if name != "ids"})
    if by is not None:
        params[group_param or BREAKDOWNS[by]] = wanted.get("ids", ["?"])
    scoped(endpoint, params, org_id)  # raises ScopeError for what exists only at enterprise
    if by is not None and not {"ids", BREAKDOWNS[by]} & set(wanted):
        raise ScopeError(
            "ids",
            f"by={by!r} needs its ids here: the directory that lists them exists only at "
            f"enterprise scope; {scope}",
        )
    for name, values in wanted.items():
        for value in values:
            if not looks_like_id(value):
                raise ScopeError(
                    name,
                    f"{value!r} is a name, and names are read from the directory, which "
                    f"exists only at enterprise scope; {scope}: pass ids",
                )
    return org_id


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
