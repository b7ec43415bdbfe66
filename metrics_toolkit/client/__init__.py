"""The client facade: a typed method per endpoint, over the base client's generic path.

Every method is a few lines over one generic path (:mod:`metrics_toolkit._request_path`):
the parameters are checked, the endpoint's declaration (:mod:`metrics_toolkit._endpoints`)
says what to call, and the answer comes from the store or the transport. Series of calls
(one per bucket and group) are :func:`metrics_toolkit.fetch_series`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

import pandas as pd

# The `name as name` imports keep names importable from here, as before the client was split.
from .._constants import DEFAULT_BASE_URL as DEFAULT_BASE_URL
from .._constants import DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES
from .._constants import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from .._constants import (
    DEFAULT_WORKERS,
)
from .._endpoints import ORGANIZATIONS as ORGANIZATIONS
from .._endpoints import PLAYBOOKS as PLAYBOOKS
from .._endpoints import SEARCH_METRICS, SESSION_METRICS
from .._endpoints import SERVICE_USERS as SERVICE_USERS
from .._endpoints import USERS as USERS
from .._endpoints import Answer as Answer
from .._endpoints import Endpoint as Endpoint
from .._vocabulary import KINDS
from ..buckets import FreqLike
from ..directory import Directory
from ..errors import ScopeError
from ..errors import TokenFormatWarning as TokenFormatWarning
from ..fetch import fetch_series
from ..models import APIModel, SearchMetrics, SessionMetrics
from ..params import (
    TimeLike,
    session_metrics_params,
    window_params,
)
from ._family import FamilyClient

__all__ = ["MetricsClient"]

ModelT = TypeVar("ModelT", bound=APIModel)
ItemT = TypeVar("ItemT", bound=APIModel)


class MetricsClient(FamilyClient):
    """Client for the Devin v3 metrics API, for an enterprise or one organization.

    Parameters
    ----------
    api_key : str, optional
        A service-user token (``cog_...``). Default: the ``DEVIN_API_KEY`` environment variable.
    base_url : str, optional
        Default: ``DEVIN_API_BASE_URL``, then ``https://api.devin.ai``.
    timeout : float, default 30
        Seconds an attempt may take in all: the connection, the answer and its whole body.
    max_retries : int, default 4
        Further attempts after a connection error, timeout, 429, 5xx or a broken body.
    backoff : float, default 0.5
        First wait in seconds between attempts; doubled each time (with jitter), at most 30.
    max_requests_per_second : float, optional
        Cap on requests started per second over all threads. None: no cap.
    cache : bool, default True
        Keep answers in a persistent store (see :mod:`metrics_toolkit.cache`).
    cache_dir : str or pathlib.Path, optional
        Where the store lives. Default: the user's cache directory.
    cache_policy : CachePolicy, optional
        How long windows stay provisional and how long provisional answers are kept.
    now : datetime or callable, optional
        The current time for cache finality and partial buckets. Default: the wall clock.
    allow_insecure_http : bool, default False
        Allow sending the token over plain ``http://`` to a host that is not loopback.
    directory_ttl : datetime.timedelta, default 1 day
        How long the directory lists (organizations, users, ...) are reused.
    max_window : datetime.timedelta, optional
        The longest window asked in one call; a longer one is split into consecutive calls and
        combined exactly (counts summed, averages re-weighted). None: no limit (the API
        publishes none). Endpoints whose answers are distinct counts are never split.
    transport : requests.adapters.BaseAdapter, optional
        Send every request through this adapter instead of the network (an in-process server,
        a test double).
    org_id : str, optional
        Scope the client to this organization (for a token of an organization-level service
        user): every call goes to the organization's paths (``/v3/organizations/{org_id}/...``)
        and :attr:`scope` is ``"organization"``. What exists only at enterprise scope (billing
        cycles, sessions by category, the directory, ``org_ids`` filters, a breakdown by
        organization) is refused before any request with a :class:`~metrics_toolkit.errors.
        ScopeError`. None (default): enterprise scope.
    list_format : {"repeat", "comma"}, default "repeat"
        How list parameters go on the wire: repeated keys (``user_ids=a&user_ids=b``, OpenAPI's
        default) or comma-joined (``user_ids=a,b``, as Cognition's own SDK sends). The docs do
        not say which the API reads: with the wrong one, two ids may count as one unknown id.

    Raises
    ------
    InvalidParameterError
        For a malformed setting, before any request.
    InsecureTransportError
        When the token would travel over plain http to another machine.

    Examples
    --------
    >>> client = MetricsClient.demo(now="2026-11-30")
    >>> client.session_metrics("2026-11-02", "2026-11-09").sessions_created_count > 0
    True
    >>> client.scope
    'enterprise'
    """

    def session_metrics(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        user_ids: list[str] | None = None,
        service_user_ids: list[str] | None = None,
        org_ids: list[str] | None = None,
        playbook_id: str | None = None,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> SessionMetrics:
        """Session totals over the half-open window ``[time_after, time_before)``.

        Parameters
        ----------
        time_after, time_before : datetime, date, str, pandas.Timestamp or int
            Window bounds; naive values are UTC, ints are Unix epoch seconds.
        user_ids, service_user_ids, org_ids : list of str, optional
            Keep sessions of any of these ids (or names; users' emails too); filters combine
            with AND.
        playbook_id : str, optional
            Keep sessions created with this playbook (its id or title).
        refresh : bool, default False
            Ask the server even when the store holds an answer.
        allow_unknown_ids : bool, default False
            Send an id the directory does not list (a deleted user still has history) instead
            of refusing it.

        Returns
        -------
        SessionMetrics

        Raises
        ------
        InvalidParameterError
            Before any request, for a malformed parameter.
        MetricsError
            A subclass per failure; see :mod:`metrics_toolkit.errors`.
        """
        filters = self._ids(
            allow_unknown_ids,
            user_ids=user_ids,
            service_user_ids=service_user_ids,
            org_ids=org_ids,
            playbook_id=playbook_id,
        )
        params = session_metrics_params(time_after, time_before, **filters)
        return self.request(SESSION_METRICS, params, refresh=refresh).data

    def search_metrics(
        self,
        time_after: TimeLike,
        time_before: TimeLike,
        *,
        org_ids: list[str] | None = None,
        refresh: bool = False,
        allow_unknown_ids: bool = False,
    ) -> SearchMetrics:
        """Searches (Ask Devin queries) over the half-open window ``[time_after, time_before)``.

        Parameters
        ----------
        time_after, time_before : datetime, date, str, pandas.Timestamp or int
            Window bounds; naive values are UTC, ints are Unix epoch seconds.
        org_ids : list of str, optional
            Keep searches made in any of these organizations (ids or names).
        refresh : bool, default False
            Ask the server even when the store holds an answer.
        allow_unknown_ids : bool, default False
            Send an id the directory does not list instead of refusing it.

        Returns
        -------
        SearchMetrics
        """
        filters = self._ids(allow_unknown_ids, org_ids=org_ids)
        params = window_params(time_after, time_before, allowed=SEARCH_METRICS.filters, **filters)
        return self.request(SEARCH_METRICS, params, refresh=refresh).data

    def session_metrics_frame(
        self,
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
    ) -> pd.DataFrame:
        """Session metrics per bucket (and group) as a wide DataFrame: one call per bucket.

        :func:`metrics_toolkit.fetch_series` with this client; see it for every parameter.
        Filters and ``ids`` take names (titles for playbooks, emails for users) as well as
        ids; an id the directory does not list is refused before any metrics request unless
        ``allow_unknown_ids=True`` (a deleted user still has history).

        Examples
        --------
        >>> client = MetricsClient.demo(now="2026-11-30")
        >>> frame = client.session_metrics_frame(
        ...     "2026-09-07", "2026-11-02", freq="week", tz="Europe/Berlin", by="org"
        ... )
        >>> frame.index.name, "org_id" in frame.columns
        ('bucket_start', True)
        """
        if self.org_id is not None and (by == KINDS["org"].name or org_ids is not None):
            raise ScopeError(
                "by" if org_ids is None else "org_ids",
                "a breakdown or filter by organization exists only at enterprise scope; this "
                f"client is scoped to organization {self.org_id}",
            )
        return fetch_series(
            self,
            start,
            end,
            freq,
            tz=tz,
            by=by,
            ids=ids,
            user_ids=user_ids,
            service_user_ids=service_user_ids,
            org_ids=org_ids,
            playbook_id=playbook_id,
            workers=workers,
            progress=progress,
            on_progress=on_progress,
            on_error=on_error,
            refresh=refresh,
            directory=directory,
            allow_unknown_ids=allow_unknown_ids,
        )
