"""The weekly report: ISO weeks, KPIs, rankings and "what changed", rendered to one HTML file.

:func:`render_weekly_report` executes the report notebook shipped in the package
(``metrics_toolkit/notebooks/weekly_report.ipynb``) in a fresh kernel with papermill, then exports
it with nbconvert as a single self-contained HTML file: no code, charts as embedded PNG images,
nothing loaded from the internet when it is opened.

The notebook's cells stay short because the work is here, in functions that can be tested. The
modules, each importing only those above it::

    weeks.py    ISO weeks: parse_week, week_bounds, week_of, shift_week, last_complete_week,
                check_complete_week, week_title
    totals.py   a weekly wide frame's columns and its totals per week (pure)
    kpis.py     weekly_kpis: the week against the week before and the 4-week average (pure)
    ranking.py  group_ranking, top_and_bottom, wilson_interval, size_adjusted_rate (pure)
    changes.py  what_changed: the largest moves as sentences (pure)
    display.py  format_kpis, format_ranking, style_table, changes_html, HTMLBlock (pure)
    prose.py    the sentences read from the data: sizes, provisional weeks, ranks (pure)
    family.py   FamilyReport, load_family: active users, PRs, consumption, cycles and
                categories of the same weeks (adoption, outcomes, cost, use; KPI rows and
                "what changed" moves); money only at a price per ACU given (acu_price=)
    weekly.py   WeeklyReport: one week's frames and what the notebook shows of them (pure)
    source.py   where the frames come from: ApiSource (the API through a client) or
                StoreSource (a local history store, no request), open_source
    data.py     I/O through a source: connect (the demo unless DEVIN_API_KEY is set),
                is_demo, banner, load_weekly_report -> WeeklyReport
    render.py   render_weekly_report: papermill, nbconvert, the file written owner-only

Every rate and average is a ratio of sums (merged / created, ACUs / sessions) over the weeks or
groups it covers, never a mean of ratios. A week is reported only when it is complete: it ended
before "now" in the report's time zone. A value that will still change, because its week ended
less than the settle period before the data was read and merged PRs and ACUs still arrive, is
followed by ``†`` in every table and sentence, with one footnote that says so.
"""

from __future__ import annotations

from .._constants import DEFAULT_WEEKS, MAX_WEEKS, MIN_SESSIONS
from .changes import what_changed
from .data import banner, connect, is_demo, load_weekly_report
from .display import HTMLBlock, changes_html, format_kpis, format_ranking, style_table
from .kpis import BASELINE_WEEKS, KPI_LABELS, weekly_kpis
from .ranking import group_ranking, size_adjusted_rate, top_and_bottom, wilson_interval
from .render import REPORT_NOTEBOOK, ReportExecutionError, render_weekly_report
from .weekly import WeeklyReport
from .weeks import (
    check_complete_week,
    last_complete_week,
    parse_week,
    shift_week,
    week_bounds,
    week_of,
    week_title,
)

__all__ = [
    "BASELINE_WEEKS",
    "DEFAULT_WEEKS",
    "KPI_LABELS",
    "MAX_WEEKS",
    "MIN_SESSIONS",
    "REPORT_NOTEBOOK",
    "HTMLBlock",
    "ReportExecutionError",
    "WeeklyReport",
    "banner",
    "changes_html",
    "check_complete_week",
    "connect",
    "format_kpis",
    "format_ranking",
    "group_ranking",
    "is_demo",
    "last_complete_week",
    "load_weekly_report",
    "parse_week",
    "render_weekly_report",
    "shift_week",
    "size_adjusted_rate",
    "style_table",
    "top_and_bottom",
    "week_bounds",
    "week_of",
    "week_title",
    "weekly_kpis",
    "what_changed",
    "wilson_interval",
]
