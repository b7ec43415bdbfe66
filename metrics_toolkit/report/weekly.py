"""One week's data and everything the report shows of it: :class:`WeeklyReport` (pure).

:func:`~metrics_toolkit.report.load_weekly_report` fetches the frames; the methods here turn
them into the notebook's tables, lists and sentences. Every value that will still change (a
merged-PR rate or ACU amount of a week that ended less than the settle period before the data
was read) is followed by ``†``, with the same footnote under the KPI table, under "what
changed" and among the notes (:func:`~metrics_toolkit.labels.provisional_note`).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd

from .._constants import DEFAULT_SETTLE_PERIOD, MIN_SESSIONS
from .._vocabulary import KINDS
from ..errors import InvalidParameterError
from ..labels import and_join, provisional_note
from .changes import NOTEWORTHY_RULE, what_changed
from .display import (
    HTMLBlock,
    bullet_list,
    changes_html,
    format_kpis,
    format_ranking,
    paragraph,
    style_table,
)
from .family import FamilyReport
from .kpis import BASELINE_WEEKS, weekly_kpis
from .prose import (
    later_weeks_sentence,
    merge_rate_sentence,
    provisional_weeks,
    ranking_sentence,
    size_sentence,
)
from .ranking import group_ranking, top_and_bottom
from .totals import group_column
from .weeks import moment_label, shift_week, week_bounds, week_title

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = ["WeeklyReport"]

#: The scope of a report over every organization (:attr:`WeeklyReport.scope`).
ALL_ORGS = "All organizations"
#: Why sizes are compared, said before the ranking (a method, not a claim about the data).
SIZE_ADJUSTED = (
    "The size-adjusted rate is a group's merged-PR rate per size, weighted by the week's size "
    "mix over all groups shown: it compares groups as if they ran the same mix of sizes."
)


@dataclass
class WeeklyReport:
    """One week's data and the tables derived from it (see
    :func:`~metrics_toolkit.report.load_weekly_report`)."""

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
    """Where the numbers come from (:func:`~metrics_toolkit.report.banner`)."""
    family: FamilyReport | None = field(default=None, repr=False)
    """Active users, PRs, consumption and categories of the same weeks, when fetched."""

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
        """:func:`~metrics_toolkit.report.weekly_kpis` of the scope, provisional values
        flagged; then active users, PRs merged and ACUs consumed when :attr:`family` is set
        (:meth:`~metrics_toolkit.report.FamilyReport.kpis`)."""
        table = weekly_kpis(self.weekly, self.week, now=self.now, settle_period=self.settle_period)
        if self.family is None:
            return table
        combined = pd.concat([table, self.family.kpis()[table.columns]])
        combined.attrs = dict(table.attrs)
        return combined

    def kpi_table(self) -> Styler:
        """The KPI table, formatted for display (``†`` on provisional values, explained
        under the table)."""
        return style_table(format_kpis(self.kpis()))

    def changes(self) -> list[str]:
        """:func:`~metrics_toolkit.report.what_changed` of the scope, with per-group sentences."""
        groups = [self.by_org] if self.by_playbook is None else [self.by_org, self.by_playbook]
        return what_changed(
            self.weekly,
            self.week,
            groups=groups,
            now=self.now,
            settle_period=self.settle_period,
            extra=() if self.family is None else self.family.moves(),
        )

    def changes_list(self) -> HTMLBlock:
        """:meth:`changes` as an HTML list, after the rule that picks them."""
        intro = f"The largest moves against {shift_week(self.week, -1)}: {NOTEWORTHY_RULE}."
        return changes_html(self.changes(), intro=intro, settle_period=self.settle_period)

    def sizes_text(self) -> HTMLBlock:
        """Which size merges most and least often over the charted weeks, from the numbers."""
        return paragraph(size_sentence(self.history))

    def merge_rate_text(self) -> HTMLBlock:
        """Which charted weeks' merged-PR rates are still provisional, by name."""
        return paragraph(
            merge_rate_sentence(self.history, now=self.now, settle_period=self.settle_period)
        )

    def _breakdown(self, kind: str) -> pd.DataFrame | None:
        if kind not in ("org", "playbook"):
            raise InvalidParameterError("kind", f"got {kind!r}; expected 'org' or 'playbook'")
        return self.by_org if kind == "org" else self.by_playbook

    def group_names(self, kind: str = "org") -> list[str]:
        """The organizations (``"org"``) or playbooks (``"playbook"``) in scope, by name."""
        frame = self._breakdown(kind)
        if frame is None:
            return []
        group = group_column(frame) or ""
        names = frame.get(KINDS[kind].name_column, frame[group])
        return list(dict.fromkeys(names.astype(str)))

    def heading(self, kind: str = "playbook") -> HTMLBlock:
        """A section's heading naming its groups when they were chosen: ``"Playbooks:
        “Fix a flaky test” and “Migrate an endpoint”"``; ``"Organizations"`` for all of them."""
        names = self.group_names(kind)
        chosen = kind == "playbook" or self.scope != ALL_ORGS
        listed = and_join([f"“{name}”" for name in names])
        text = f"{KINDS[kind].plural}: {listed}" if chosen and names else KINDS[kind].plural
        return HTMLBlock(f"<h2>{html.escape(text)}</h2>", text)

    def ranking(self, kind: str = "org") -> pd.DataFrame:
        """:func:`~metrics_toolkit.report.group_ranking` of the organizations (``"org"``) or
        playbooks (``"playbook"``)."""
        frame = self._breakdown(kind)
        if frame is None:
            raise InvalidParameterError("kind", f"no {kind} breakdown in this report")
        return group_ranking(frame, self.week)

    def ranking_intro(self, kind: str = "org") -> HTMLBlock:
        """What the ranking shows, and whose rank the size adjustment moves most; nothing
        when there is one group or none (:meth:`ranking_table` says so)."""
        if len(self.group_names(kind)) < 2:
            return HTMLBlock("")
        text = (
            f"Merged-PR rate of the week by {KINDS[kind].label}, highest first. "
            f"{SIZE_ADJUSTED} {ranking_sentence(self.ranking(kind))}"
        )
        return paragraph(text)

    def ranking_table(self, kind: str = "org") -> Styler | HTMLBlock:
        """The top and bottom groups of the week, formatted for display."""
        names = self.group_names(kind)
        if len(names) < 2:
            which = f" ({names[0]})" if names else ""
            return paragraph(
                f"Only one {KINDS[kind].label}{which} in scope: nothing to rank or compare."
            )
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
            SIZE_ADJUSTED,
        ]
        if self.family is not None:
            items.extend(self.family.notes())
        if provisional_weeks(self.weekly, now=self.now, settle_period=self.settle_period):
            items.append(provisional_note(self.settle_period))
        items.append(later_weeks_sentence(self.week, self.now, self.tz))
        return bullet_list(items, "report-notes")


def _tail(frame: pd.DataFrame, weeks: int) -> pd.DataFrame:
    starts = frame.index.unique().sort_values()[-weeks:]
    result = frame[frame.index.isin(starts)]
    result.attrs = dict(frame.attrs)
    return result
