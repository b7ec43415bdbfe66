"""Planning a series: the checks made before any request, the buckets, the groups and the
calls, and the wide frame of a plan's answers.

:func:`~metrics_toolkit.fetch.fetch_series` plans, answers every call and frames the answers
at once; :func:`~metrics_toolkit.store.sync` plans the same way, keeps only the calls its
store lacks and frames their answers batch by batch as they arrive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._calls import Call, MetricsSource
from ._endpoints import ENTITY_METRICS, METRICS, Endpoint, scoped
from ._rules import ENDPOINT_ATTR
from ._vocabulary import BREAKDOWNS, KIND_OF_FILTER, KINDS
from .buckets import Bucket, FreqLike, time_buckets
from .directory import Directory, directory_if_readable, looks_like_id
from .errors import InvalidParameterError, ScopeError
from .frames import Row, wide_frame
from .params import TimeLike, check_ids, check_names, check_playbook_id, filter_params

__all__ = ["GIVEN", "SINGLE", "SeriesPlan", "listed", "metric_name", "plan_calls", "plan_series"]

#: The groups and filters a series takes, in its signature's order; the kind each filter
#: names; the filters that take one id.
GIVEN = ("ids", "user_ids", "service_user_ids", "org_ids", "playbook_id")
SINGLE = {kind.filter_param for kind in KINDS.values() if kind.single}
#: One organization's usage (enterprise path), asked per organization for ``by="org"``.
ORG_USAGE: Endpoint[Any] = ENTITY_METRICS["org_usage"].enterprise  # type: ignore[assignment]


@dataclass(frozen=True)
class SeriesPlan:
    """The calls of a series of one or more endpoints over the same buckets and groups.

    Attributes
    ----------
    endpoints : list of Endpoint
        The endpoint each part asks (one organization's usage for usage by organization).
    group_params : list of str or None
        The one-id parameter each part passes a group as, instead of the breakdown's filter.
    names : list of str or None
        Each part's metric name (``frame.attrs["endpoint"]``).
    buckets : list of Bucket
        The buckets asked (those at or after ``now`` cut).
    filters : dict
        The checked filters every call passes.
    groups : list of str or None
        The breakdown's ids in the series' order (None without a breakdown).
    by : str or None
    directory : Directory or None
        Labels the groups of a breakdown.
    freq, tz, now, cut
        As the frames' ``attrs`` hold them (``cut``: buckets not asked, at or after ``now``).
    """

    endpoints: list[Endpoint[Any]]
    group_params: list[str | None]
    names: list[str | None]
    buckets: list[Bucket]
    filters: dict[str, Any]
    groups: list[str] | None
    by: str | None
    directory: Directory | None
    freq: FreqLike
    tz: str
    now: pd.Timestamp
    cut: tuple[Bucket, ...]

    def calls(self, part: int, groups: Sequence[str] | None = None) -> list[Call]:
        """Part ``part``'s calls, groups outer and buckets inner: of every group, or of
        ``groups`` (some of the plan's)."""
        return plan_calls(
            self.buckets,
            by=self.by,
            ids=self.groups if groups is None else list(groups),
            filters=self.filters,
            endpoint=self.endpoints[part],
            group_param=self.group_params[part],
        )

    def frame(self, part: int, rows: Sequence[Row]) -> pd.DataFrame:
        """The wide frame of part ``part``'s answers ``rows`` (all of its calls, or some),
        labelled and with the series' ``attrs`` (not ``fetch_stats``)."""
        frame = wide_frame(rows, group_by=self.by, model=self.endpoints[part].model)
        if self.by is not None:  # without a directory (no permission), each group is its label
            frame = (self.directory or Directory()).label(frame)
        frame.attrs.update(
            {"freq": self.freq, "tz": self.tz, "group_by": self.by, ENDPOINT_ATTR: self.names[part]}
        )
        frame.attrs.update({"now": self.now, "cut_after_now": self.cut})
        return frame


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


def plan_series(
    client: MetricsSource,
    endpoints: Sequence[Endpoint[Any]],
    start: TimeLike,
    end: TimeLike,
    freq: FreqLike,
    *,
    tz: str,
    by: str | None,
    wanted: dict[str, list[str]],
    directory: Directory | None,
    allow_unknown_ids: bool,
) -> SeriesPlan:
    """Check everything and plan the calls of several endpoints over the same buckets and
    groups, before any metrics request (the directory may be read).

    Parameters as :func:`~metrics_toolkit.fetch.fetch_series` takes them (``wanted``: the
    filters and ``ids`` given, by name, each a list, as :func:`listed` checks them).

    Raises
    ------
    InvalidParameterError, ScopeError
        For what the endpoints or the client's scope cannot serve, or a name or id that is
        not in the directory.
    """
    _check_breakdown(by, wanted)
    wanted = dict(wanted)
    asked: list[tuple[Endpoint[Any], str | None, str | None]] = []
    org_id = None
    for endpoint in endpoints:
        series = metric_name(endpoint)
        group_param = None
        if series == "usage" and by == KINDS["org"].name:  # each organization's own usage
            endpoint, group_param = ORG_USAGE, ORG_USAGE.placeholders[0]
        else:
            _check_filters(endpoint, by, [name for name in wanted if name != "ids"])
        org_id = _check_scope(client, endpoint, by, wanted, group_param)
        asked.append((endpoint, group_param, series))
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
    return SeriesPlan(
        endpoints=[ep for ep, _, _ in asked],
        group_params=[param for _, param, _ in asked],
        names=[series for _, _, series in asked],
        buckets=buckets,
        filters=filters,
        groups=groups,
        by=by,
        directory=directory,
        freq=freq,
        tz=tz,
        now=now,
        cut=cut,
    )


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


def listed(value: Any, name: str) -> list[str]:
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
