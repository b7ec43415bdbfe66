"""Connecting, saying where the numbers come from, and loading one week's data (I/O).

:func:`connect` gives a client (the synthetic demo unless ``DEVIN_API_KEY`` is set),
:func:`banner` says which, and :func:`load_weekly_report` fetches what the report shows into
a :class:`WeeklyReport`, whose methods return the notebook's tables, sentences and notes.
Every request goes through :class:`~metrics_toolkit.MetricsClient`.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pandas as pd

from .._constants import (
    DEFAULT_SETTLE_PERIOD,
    DEFAULT_WEEKS,
    ENV_API_KEY,
    MAX_WEEKS,
    MIN_SESSIONS,
)
from .._vocabulary import KINDS
from ..client import MetricsClient
from ..errors import InvalidParameterError
from ..params import check_names, check_positive_int, check_timezone
from .changes import what_changed
from .display import (
    HTMLBlock,
    bullet_list,
    changes_html,
    format_kpis,
    format_ranking,
    style_table,
)
from .kpis import BASELINE_WEEKS, weekly_kpis
from .ranking import group_ranking, top_and_bottom
from .totals import group_column
from .weeks import (
    check_complete_week,
    last_complete_week,
    moment_label,
    shift_week,
    week_bounds,
    week_of,
    week_title,
)

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

    from ..directory import Directory

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

BANNER_STYLE = "padding: 0.6em 1em; margin: 0.5em 0 1em; border-radius: 4px; border-left: 6px solid"


def connect(
    *,
    demo: bool | None = None,
    base_url: str | None = None,
    cache: bool = True,
    cache_dir: str | Path | None = None,
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
        memory: its enterprise is generated anew every hour.

    Raises
    ------
    InvalidParameterError
        ``demo=False`` without ``DEVIN_API_KEY``.
    """
    if demo is not None and not isinstance(demo, bool):
        raise InvalidParameterError("demo", f"got {demo!r}; expected True, False or None")
    has_key = bool(os.environ.get(ENV_API_KEY))
    if demo is None:
        demo = not has_key
    if demo:
        return MetricsClient.demo(cache=cache)
    if not has_key:
        raise InvalidParameterError(
            ENV_API_KEY,
            "is not set: set it to a service-user token (cog_...) for your enterprise's data, "
            "or use the synthetic demo (demo=True, --demo)",
        )
    return MetricsClient(base_url=base_url, cache=cache, cache_dir=cache_dir)


def is_demo(client: MetricsClient) -> bool:
    """Whether the client answers from the synthetic demo enterprise."""
    from ..demo import DEMO_BASE_URL

    return client.base_url == DEMO_BASE_URL.rstrip("/")


def banner(client: MetricsClient) -> HTMLBlock:
    """Where the numbers come from, shown at the top of every notebook.

    For the demo a conspicuous warning that the data is synthetic; otherwise a quiet line
    naming the API's host.
    """
    if is_demo(client):
        text = (
            "Synthetic demo data. DEVIN_API_KEY is not set, so every number here comes from a "
            "generated enterprise, not from your account. Set DEVIN_API_KEY to a service-user "
            "token (cog_...) and run again for real data."
        )
        markup = (
            f'<div class="report-banner demo" style="{BANNER_STYLE} #d97706; '
            'background: #fff4e5;"><strong>Synthetic demo data.</strong> '
            "<code>DEVIN_API_KEY</code> is not set, so every number here comes from a generated "
            "enterprise, not from your account. Set <code>DEVIN_API_KEY</code> to a service-user "
            "token (<code>cog_...</code>) and run again for real data.</div>"
        )
        return HTMLBlock(markup, text)
    host = urlsplit(client.base_url).hostname or client.base_url
    text = f"Data from the Devin API at {host}."
    markup = (
        f'<div class="report-banner live" style="{BANNER_STYLE} #2e7d32; '
        f'background: #e6f4ea;">Data from the Devin API at <code>{html.escape(host)}</code>.</div>'
    )
    return HTMLBlock(markup, text)


@dataclass
class WeeklyReport:
    """One week's data and the tables derived from it (see :func:`load_weekly_report`)."""

    week: str
    """The ISO week reported, complete."""
    tz: str
    """The calendar's time zone."""
    now: pd.Timestamp
    """When the data was read (the client's "now")."""
    weeks: int
    """Weeks of history in the charts."""
    weekly: pd.DataFrame
    """The scope's weekly frame, the report's week last (at least 5 weeks)."""
    by_org: pd.DataFrame
    """The same weeks by organization (labelled)."""
    by_playbook: pd.DataFrame | None
    """The same weeks by the chosen playbooks, when any were chosen."""
    scope: str
    """The scope in words: ``"All organizations"``, ``"Platform, Growth"``."""
    demo: bool
    """Whether the numbers are synthetic."""
    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD
    """How long after a week ends its numbers keep changing."""
    source: HTMLBlock | None = field(default=None, repr=False)
    """Where the numbers come from (:func:`banner`)."""

    @property
    def title(self) -> str:
        """``"Weekly report — 2026-W47 (16–22 Nov 2026, Europe/Berlin)"``."""
        return week_title(self.week, self.tz)

    @property
    def history(self) -> pd.DataFrame:
        """The last ``weeks`` weeks of :attr:`weekly` (the charts' frame)."""
        return _tail(self.weekly, self.weeks)

    @property
    def org_history(self) -> pd.DataFrame:
        """The last ``weeks`` weeks of :attr:`by_org`."""
        return _tail(self.by_org, self.weeks)

    @property
    def playbook_history(self) -> pd.DataFrame | None:
        """The last ``weeks`` weeks of :attr:`by_playbook`."""
        return None if self.by_playbook is None else _tail(self.by_playbook, self.weeks)

    @property
    def provisional(self) -> bool:
        """Whether the week ended less than the settle period ago (merged PRs still come)."""
        end = week_bounds(self.week, self.tz)[1]
        return bool(self.now - end < pd.Timedelta(self.settle_period))

    def header(self) -> HTMLBlock:
        """The title, the scope and the data's source (the demo banner when synthetic)."""
        start, end = week_bounds(self.week, self.tz)
        now = self.now.tz_convert(self.tz)
        meta = (
            f"{html.escape(self.scope)} · {moment_label(start)} to {moment_label(end)} "
            f"({self.tz}) · data as of {moment_label(now)}"
        )
        source = self.source or HTMLBlock("")
        markup = (
            f'<h1 class="report-title">{html.escape(self.title)}</h1>'
            f'<p class="report-meta" style="color: #555;">{meta}</p>{source.html}'
        )
        return HTMLBlock(markup, f"{self.title}\n{meta}\n{source}")

    def kpis(self) -> pd.DataFrame:
        """:func:`~metrics_toolkit.report.weekly_kpis` of the scope."""
        return weekly_kpis(self.weekly, self.week)

    def kpi_table(self) -> Styler:
        """The KPI table, formatted for display."""
        return style_table(format_kpis(self.kpis()))

    def changes(self) -> list[str]:
        """:func:`~metrics_toolkit.report.what_changed` of the scope, with per-group sentences."""
        groups = [self.by_org] if self.by_playbook is None else [self.by_org, self.by_playbook]
        return what_changed(self.weekly, self.week, groups=groups, provisional=self.provisional)

    def changes_list(self) -> HTMLBlock:
        """:meth:`changes` as an HTML list."""
        return changes_html(self.changes())

    def _breakdown(self, kind: str) -> pd.DataFrame | None:
        if kind not in ("org", "playbook"):
            raise InvalidParameterError("kind", f"got {kind!r}; expected 'org' or 'playbook'")
        return self.by_org if kind == "org" else self.by_playbook

    def ranking(self, kind: str = "org") -> pd.DataFrame:
        """:func:`~metrics_toolkit.report.group_ranking` of the organizations (``"org"``) or
        playbooks (``"playbook"``)."""
        frame = self._breakdown(kind)
        if frame is None:
            raise InvalidParameterError("kind", f"no {kind} breakdown in this report")
        return group_ranking(frame, self.week)

    def ranking_table(self, kind: str = "org") -> Styler | HTMLBlock:
        """The top and bottom groups of the week, formatted for display."""
        frame = self._breakdown(kind)
        if frame is None or frame[group_column(frame) or ""].nunique() < 2:
            return HTMLBlock(f"<p>Only one {KINDS[kind].label} in scope: nothing to rank.</p>")
        table = format_ranking(top_and_bottom(self.ranking(kind)))
        return style_table(table, index=False, left=[table.columns[1], "Note"])

    def notes(self) -> HTMLBlock:
        """How to read the numbers: what is provisional, what is left out."""
        items = [
            "Rates and averages are ratios of sums over the sessions they cover (merged / "
            "created, ACUs / sessions), never averages of weekly or per-group rates.",
            f"The 4-week average covers {shift_week(self.week, -BASELINE_WEEKS)} to "
            f"{shift_week(self.week, -1)}; counts and ACUs are per week.",
            f"Rates over fewer than {MIN_SESSIONS} sessions are not ranked; the 95% range is "
            "the Wilson interval of the rate.",
            "The size-adjusted rate is a group's merged-PR rate per size, weighted by the "
            "week's size mix over all groups shown: it compares groups as if they ran the same "
            "mix of sizes (large sessions merge less often everywhere).",
        ]
        if self.provisional:
            items.append(
                f"Merged-PR rates of weeks that ended less than {self.settle_period.days} days "
                "ago are provisional: PRs of their sessions are still being merged, so the "
                "latest weeks read lower than they will end up."
            )
        current = week_of(self.now, self.tz)
        if current != self.week:
            items.append(
                f"The current week, {current}, is not complete and is not part of this report."
            )
        return bullet_list(items, "report-notes")


def _tail(frame: pd.DataFrame, weeks: int) -> pd.DataFrame:
    starts = frame.index.unique().sort_values()[-weeks:]
    result = frame[frame.index.isin(starts)]
    result.attrs = dict(frame.attrs)
    return result


def check_weeks(weeks: Any) -> int:
    """Weeks of history, checked: an int from 1 to :data:`MAX_WEEKS`.

    Raises
    ------
    InvalidParameterError
        Naming ``weeks``, for anything else.
    """
    weeks = check_positive_int(weeks, "weeks")
    if weeks > MAX_WEEKS:
        raise InvalidParameterError("weeks", f"got {weeks}; expected 1 to {MAX_WEEKS}")
    return weeks


def load_weekly_report(
    client: MetricsClient,
    *,
    week: str | None = None,
    tz: str = "UTC",
    orgs: Sequence[str] | str | None = None,
    playbooks: Sequence[str] | str | None = None,
    weeks: int = DEFAULT_WEEKS,
) -> WeeklyReport:
    """Fetch what the weekly report shows: the scope by week, by organization, by playbook.

    Parameters
    ----------
    client : MetricsClient
    week : str, optional
        The ISO week to report, complete in ``tz``; default the last complete week.
    tz : str, default "UTC"
        IANA time zone of the calendar.
    orgs : list of str, optional
        Organizations (ids or names) the report covers; default all.
    playbooks : list of str, optional
        Playbooks (ids or titles) to rank and chart; default none.
    weeks : int, default 12
        Weeks of history in the charts, 1 to 104 (at least 5 are fetched, for the
        4-week average).

    Raises
    ------
    InvalidParameterError
        For a malformed parameter, an unknown name, or a week that is not complete.
    """
    zone = check_timezone(tz)
    weeks = check_weeks(weeks)
    org_names = check_names(orgs, "orgs")
    playbook_names = check_names(playbooks, "playbooks")
    now = client.now()
    if week is None:
        week = last_complete_week(now, zone)
    check_complete_week(week, zone, now)
    directory = client.directory()
    org_ids = _resolve(directory, "org", org_names)
    playbook_ids = _resolve(directory, "playbook", playbook_names)
    fetched = max(weeks, BASELINE_WEEKS + 1)
    start = week_bounds(shift_week(week, -(fetched - 1)), zone)[0]
    end = week_bounds(week, zone)[1]
    common: dict[str, Any] = {"freq": "week", "tz": zone, "progress": False}
    weekly = client.session_metrics_frame(start, end, org_ids=org_ids, **common)
    by_org = client.session_metrics_frame(
        start,
        end,
        by="org",
        ids=org_ids or directory.ids("org"),
        directory=directory,
        **common,
    )
    by_playbook = None
    if playbook_ids:
        by_playbook = client.session_metrics_frame(
            start,
            end,
            by="playbook",
            ids=playbook_ids,
            org_ids=org_ids,
            directory=directory,
            **common,
        )
    scope = (
        "All organizations"
        if org_ids is None
        else ", ".join(directory.name("org", org_id) for org_id in org_ids)
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
        demo=is_demo(client),
        settle_period=client.cache_policy.settle_period,
        source=banner(client),
    )


def _resolve(directory: Directory, kind: str, values: list[str] | None) -> list[str] | None:
    if values is None:
        return None
    return list(dict.fromkeys(directory.resolve(kind, values)))
