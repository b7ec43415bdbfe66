"""Connecting, saying where the numbers come from, and loading one week's data (I/O).

:func:`connect` gives a client (the synthetic demo unless ``DEVIN_API_KEY`` is set),
:func:`banner` says which, and :func:`load_weekly_report` fetches what the report shows into
a :class:`~metrics_toolkit.report.WeeklyReport` (:mod:`~metrics_toolkit.report.weekly`), whose
methods return the notebook's tables, sentences and notes. Every request goes through
:class:`~metrics_toolkit.MetricsClient`; with ``store=`` the frames are read from a local
history store instead, with no request (:mod:`~metrics_toolkit.report.source`).
"""

from __future__ import annotations

import html
import numbers
import os
import re
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .._constants import DEFAULT_WEEKS, ENV_API_KEY, MAX_WEEKS
from .._vocabulary import ACUS_TOTAL
from ..client import MetricsClient
from ..errors import InvalidParameterError
from ..params import check_names, check_timezone
from ..summaries import bucket_totals
from .display import HTMLBlock
from .family import check_acu_price, load_family
from .kpis import BASELINE_WEEKS
from .source import ApiSource, StoreSource, open_source, store_banner
from .weekly import ALL_ORGS, WeeklyReport
from .weeks import check_complete_week, last_complete_week, shift_week, week_bounds

if TYPE_CHECKING:
    from ..directory import Directory
    from ..store import Store

__all__ = [
    "DEFAULT_WEEKS",
    "MAX_WEEKS",
    "WeeklyReport",
    "banner",
    "check_weeks",
    "connect",
    "is_demo",
    "load_weekly_report",
]

#: Demo clients :func:`connect` made because the demo was asked for (``demo=True``, ``--demo``).
_REQUESTED_DEMOS: weakref.WeakSet[MetricsClient] = weakref.WeakSet()

BANNER_STYLE = "padding: 0.6em 1em; margin: 0.5em 0 1em; border-radius: 4px; border-left: 6px solid"


def connect(
    *,
    demo: bool | None = None,
    base_url: str | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    org_id: str | None = None,
) -> MetricsClient:
    """A client: the real API when ``DEVIN_API_KEY`` is set, else the synthetic demo.

    Parameters
    ----------
    demo : bool, optional
        True: the demo enterprise, in-process, whatever the environment. False: the real
        API (``DEVIN_API_KEY`` must be set). None (default): the demo unless the key is set.
    base_url : str, optional
        The API's base URL (default ``DEVIN_API_BASE_URL``, then ``https://api.devin.ai``);
        ignored by the demo.
    cache : bool, default True
        Keep answers in the answer cache.
    cache_dir : str or pathlib.Path, optional
        Where the cache lives (default the user's cache directory). The demo's cache stays in
        memory: its enterprise is generated in the process, up to the current hour.
    org_id : str, optional
        Scope the client to this organization (a key of an organization-level service user):
        the report then covers it alone and leaves out what exists only at enterprise scope.

    Raises
    ------
    InvalidParameterError
        ``demo=False`` without ``DEVIN_API_KEY``.
    """
    if demo is not None and not isinstance(demo, bool):
        raise InvalidParameterError("demo", f"got {demo!r}; expected True, False or None")
    has_key = bool(os.environ.get(ENV_API_KEY))
    requested = demo is True
    if demo is None:
        demo = not has_key
    if demo:
        client = MetricsClient.demo(cache=cache, org_id=org_id)
        if requested:
            _REQUESTED_DEMOS.add(client)
        return client
    if not has_key:
        raise InvalidParameterError(
            ENV_API_KEY,
            "is not set: set it to a service-user token (cog_...) for your enterprise's data, "
            "or use the synthetic demo (demo=True, --demo)",
        )
    return MetricsClient(base_url=base_url, cache=cache, cache_dir=cache_dir, org_id=org_id)


def is_demo(client: MetricsClient) -> bool:
    """Whether the client answers from the synthetic demo enterprise."""
    from ..demo import DEMO_BASE_URL

    return client.base_url == DEMO_BASE_URL.rstrip("/")


def banner(client: MetricsClient) -> HTMLBlock:
    """Where the numbers come from, shown at the top of every notebook.

    For the demo a conspicuous warning that the data is synthetic, with advice that fits
    where it is read: a demo asked for (:func:`connect` with ``demo=True``, as
    ``metrics-toolkit report --demo`` does) says to run again without ``--demo``; any other
    demo client (a notebook's ``MetricsClient.demo()``) says to set ``DEVIN_API_KEY`` and run
    again, or, when it is set, to connect with ``MetricsClient()``. Otherwise a quiet line
    naming the API's host.
    """
    if is_demo(client):
        if client in _REQUESTED_DEMOS:
            advice = (
                f"set {ENV_API_KEY} to a service-user token (cog_...) and run again without --demo"
            )
        elif os.environ.get(ENV_API_KEY):
            advice = f"connect with mt.MetricsClient(), which reads {ENV_API_KEY}"
        else:
            advice = f"set {ENV_API_KEY} to a service-user token (cog_...) and run again"
        lead = "Every number here comes from a generated enterprise, not from your account."
        text = f"Synthetic demo data. {lead} For real data, {advice}."
        words = rf"({re.escape(ENV_API_KEY)}|cog_\.\.\.|--demo|mt\.MetricsClient\(\))"
        code = re.sub(words, r"<code>\1</code>", html.escape(advice))
        markup = (
            f'<div class="report-banner demo" style="{BANNER_STYLE} #d97706; '
            f'background: #fff4e5;"><strong>Synthetic demo data.</strong> {lead} For real data, '
            f"{code}.</div>"
        )
        return HTMLBlock(markup, text)
    host = urlsplit(client.base_url).hostname or client.base_url
    text = f"Data from the Devin API at {host}."
    markup = (
        f'<div class="report-banner live" style="{BANNER_STYLE} #2e7d32; '
        f'background: #e6f4ea;">Data from the Devin API at <code>{html.escape(host)}</code>.</div>'
    )
    return HTMLBlock(markup, text)


def check_weeks(weeks: Any) -> int:
    """Weeks of history, checked: an int from 1 to :data:`MAX_WEEKS`.

    Raises
    ------
    InvalidParameterError
        Naming ``weeks``, for anything else.
    """
    is_int = isinstance(weeks, numbers.Integral) and not isinstance(weeks, bool)
    if not (is_int and 1 <= weeks <= MAX_WEEKS):
        raise InvalidParameterError(
            "weeks", f"got {weeks!r}; expected an int from 1 to {MAX_WEEKS}"
        )
    return int(weeks)


def load_weekly_report(
    client: MetricsClient | None = None,
    *,
    store: Store | str | Path | None = None,
    week: str | None = None,
    tz: str | None = None,
    orgs: Sequence[str] | str | None = None,
    playbooks: Sequence[str] | str | None = None,
    weeks: int = DEFAULT_WEEKS,
    acu_price: float | None = None,
) -> WeeklyReport:
    """Fetch what the weekly report shows: the scope by week, by organization, by playbook.

    Parameters
    ----------
    client : MetricsClient, optional
        Where the numbers come from; optional when ``store`` is given.
    store : Store, str or pathlib.Path, optional
        Read every frame from this local history store instead (no request): a
        :class:`~metrics_toolkit.Store` as it is, or its path, read as of its last sync. It
        must be synced with its totals and ``by="org"`` (and ``by="playbook"`` for
        ``playbooks``); it keeps no billing cycles, and the report of several organizations
        is refused (their active users, distinct counts, cannot be combined).
    week : str, optional
        The ISO week to report, complete in ``tz``; default the last complete week.
    tz : str, optional
        IANA time zone of the calendar: default UTC, or the store's zone (another is
        refused).
    orgs : list of str, optional
        Organizations (ids or names) the report covers; default all.
    playbooks : list of str, optional
        Playbooks (ids or titles) to rank and chart; default none.
    weeks : int, default 12
        Weeks of history in the charts, 1 to 104 (at least 5 are fetched, for the
        4-week average).
    acu_price : float, optional
        A price per ACU, above 0, in the user's currency: the cost section shows amounts of
        money at it. Without it, ACUs only; no price is ever assumed.

    Raises
    ------
    InvalidParameterError
        For a malformed parameter, an unknown name, or a week that is not complete.
    """
    source = open_source(client, store)
    if tz is None:
        tz = (source.tz if isinstance(source, StoreSource) else None) or "UTC"
    zone = check_timezone(tz)
    weeks = check_weeks(weeks)
    price = check_acu_price(acu_price)
    org_names = check_names(orgs, "orgs")
    playbook_names = check_names(playbooks, "playbooks")
    if isinstance(source, StoreSource) and org_names is not None and len(org_names) > 1:
        raise InvalidParameterError(
            "orgs",
            f"a store cannot give the report of {len(org_names)} organizations: their active "
            "users are distinct counts, never added up (a person active in two counts once); "
            "report one organization or all of them, or fetch from the API",
        )
    now = source.now()
    if week is None:
        week = last_complete_week(now, zone)
    check_complete_week(week, zone, now)
    fetched = max(weeks, BASELINE_WEEKS + 1)
    start = week_bounds(shift_week(week, -(fetched - 1)), zone)[0]
    end = week_bounds(week, zone)[1]
    common: dict[str, Any] = {"freq": "week", "tz": zone, "progress": False}
    if isinstance(source, ApiSource) and source.org_id is not None:
        client = source.client
        weekly, by_org, by_playbook = _organization_frames(
            client, start, end, org_names, playbook_names, common
        )
        org_ids = None
        scope = f"Organization {client.org_id}"
    else:
        directory = source.directory()
        org_ids = _resolve(directory, "org", org_names)
        playbook_ids = _resolve(directory, "playbook", playbook_names)
        weekly = source.series(start, end, org_ids=org_ids, **common)
        by_org = source.series(
            start,
            end,
            by="org",
            ids=org_ids or directory.ids("org"),
            directory=directory,
            **common,
        )
        by_playbook = None
        if playbook_ids:
            by_playbook = source.series(
                start,
                end,
                by="playbook",
                ids=playbook_ids,
                org_ids=org_ids,
                directory=directory,
                **common,
            )
        scope = (
            ALL_ORGS
            if org_ids is None
            else ", ".join(directory.name("org", org_id) for org_id in org_ids)
        )
    family = load_family(
        source,
        week=week,
        tz=zone,
        weeks=weeks,
        session_acus=bucket_totals(weekly)[ACUS_TOTAL],
        org_ids=org_ids,
        acu_price=price,
    )
    return WeeklyReport(
        week=week,
        tz=zone,
        now=now,
        weeks=weeks,
        weekly=weekly,
        by_org=by_org,
        by_playbook=by_playbook,
        scope=scope,
        demo=is_demo(source.client) if isinstance(source, ApiSource) else source.store.is_demo,
        settle_period=source.settle_period,
        source=banner(source.client) if isinstance(source, ApiSource) else _store_banner(source),
        family=family,
    )


def _organization_frames(
    client: MetricsClient,
    start: Any,
    end: Any,
    orgs: list[str] | None,
    playbooks: list[str] | None,
    common: dict[str, Any],
) -> tuple[Any, Any, Any]:
    """The frames of a client scoped to one organization: its weeks, the same as its one
    group (labelled by its id: the directory exists only at enterprise scope), and the
    playbooks given by id."""
    if orgs is not None:
        raise InvalidParameterError(
            "orgs",
            f"this client is scoped to organization {client.org_id}: the report covers it alone",
        )
    weekly = client.session_metrics_frame(start, end, **common)
    by_org = weekly.copy()
    by_org.insert(0, "org_name", client.org_id)
    by_org.insert(0, "org_id", client.org_id)
    by_org.attrs = {**weekly.attrs, "group_by": "org_id"}
    by_playbook = None
    if playbooks:
        by_playbook = client.session_metrics_frame(
            start, end, by="playbook", ids=playbooks, **common
        )
    return weekly, by_org, by_playbook


def _store_banner(source: StoreSource) -> HTMLBlock:
    """Where a store's numbers come from: its file, and the time it is read as of."""
    markup, text = store_banner(source)
    style = f"{BANNER_STYLE} #1565c0; background: #e8f0fe;"
    return HTMLBlock(f'<div class="report-banner store" style="{style}">{markup}</div>', text)


def _resolve(directory: Directory, kind: str, values: list[str] | None) -> list[str] | None:
    """Names and ids as ids; a name that matches nothing, or an id the directory does not
    list, is refused with the closest ones."""
    if values is None:
        return None
    return directory.resolve_names(kind, values)
