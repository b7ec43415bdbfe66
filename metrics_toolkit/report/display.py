"""The report's numbers as text and HTML for a notebook to display (pure).

:func:`format_kpis` and :func:`format_ranking` turn the tables of
:func:`~metrics_toolkit.report.weekly_kpis` and :func:`~metrics_toolkit.report.group_ranking`
into text cells (values, and changes with arrows: ``▲ +3.1 pp``, ``▼ −12.0 %``),
:func:`style_table` gives such a table a compact look, and :class:`HTMLBlock` is a piece of
markup a notebook shows as HTML and prints as plain text.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from .._constants import MIN_SESSIONS
from .._vocabulary import KINDS
from ..labels import MISSING, change_label, points_text, rate_text
from ..summaries import KPIS, RATE_KPIS, kpi_text

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

__all__ = [
    "GROUP_NOUNS",
    "HTMLBlock",
    "bullet_list",
    "changes_html",
    "format_kpis",
    "format_ranking",
    "plain_text",
    "style_table",
]

#: What a ranking's group column is headed, by kind of group (each kind's noun).
GROUP_NOUNS = {name: kind.noun for name, kind in KINDS.items()}


def plain_text(markup: str) -> str:
    """``markup`` without its tags, entities decoded.

    Examples
    --------
    >>> plain_text("<b>Hi</b> &amp; bye")
    'Hi & bye'
    """
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


@dataclass(frozen=True, repr=False)
class HTMLBlock:
    """A piece of HTML that a notebook displays as such (and prints as its text)."""

    html: str
    """The markup."""
    text: str = ""
    """The same as plain text; default the markup without its tags."""

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.text or plain_text(self.html)

    __repr__ = __str__


def bullet_list(items: Sequence[str], css_class: str) -> HTMLBlock:
    """Plain-text ``items`` as an HTML list of class ``css_class`` (one item per line as text)."""
    markup = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    return HTMLBlock(f'<ul class="{css_class}">{markup}</ul>', "\n".join(items))


def changes_html(sentences: Sequence[str]) -> HTMLBlock:
    """The sentences of :func:`~metrics_toolkit.report.what_changed` as an HTML list."""
    return bullet_list(sentences, "report-changes")


def _format_change(metric: str, change: float, percent: float) -> str:
    """A KPI's change: percentage points for a rate, else percent (absolute without a base)."""
    if metric in RATE_KPIS:
        return points_text(change)
    if math.isnan(percent):
        decimals = 2 if metric in KPIS and KPIS[metric].style == "average" else 0
        return change_label(change, decimals)
    return change_label(percent, 1, " %")


def format_kpis(kpis: pd.DataFrame) -> pd.DataFrame:
    """:func:`~metrics_toolkit.report.weekly_kpis` as text for display: values, and changes
    with arrows.

    Counts and ACUs change in percent, rates in percentage points (``pp``).

    Returns
    -------
    pandas.DataFrame
        Indexed by the KPI labels; columns the week, ``Previous week``, ``Change``,
        ``4-week average`` and ``Change vs average`` (all str).
    """
    rows = {}
    for metric, row in kpis.iterrows():
        name = str(metric)
        rows[str(row["label"])] = {
            str(kpis.attrs.get("week", "This week")): kpi_text(name, row["this_week"]),
            "Previous week": kpi_text(name, row["previous_week"]),
            "Change": _format_change(name, row["change"], row["change_pct"]),
            "4-week average": kpi_text(name, row["four_week_average"]),
            "Change vs average": _format_change(
                name, row["change_vs_average"], row["change_vs_average_pct"]
            ),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    return table


def format_ranking(ranking: pd.DataFrame) -> pd.DataFrame:
    """A ranking (:func:`~metrics_toolkit.report.group_ranking` or
    :func:`~metrics_toolkit.report.top_and_bottom`) as text for display."""
    kind = str(ranking.attrs.get("kind", "group"))
    minimum = int(ranking.attrs.get("min_sessions", MIN_SESSIONS))
    records = []
    for _, row in ranking.iterrows():
        few = bool(row["few_sessions"])
        low, high = float(row["rate_low"]), float(row["rate_high"])
        adjusted = float(row["size_adjusted_rate"])
        rank = row["adjusted_rank"]
        adjusted_rank = "" if math.isnan(adjusted) or pd.isna(rank) else f" (#{rank})"
        records.append(
            {
                "#": "" if pd.isna(row["rank"]) else str(row["rank"]),
                _noun(kind): str(row["name"]),
                "Sessions": f"{row['sessions']:,.0f}",
                "Merged-PR rate": rate_text(float(row["merged_pr_rate"])),
                "95% range": MISSING if math.isnan(low) else f"{low:.0%}–{high:.0%}",
                "Size-adjusted": rate_text(adjusted) + adjusted_rank,
                "vs previous week": points_text(float(row["change"])),
                "Note": f"fewer than {minimum} sessions" if few else "",
            }
        )
    return pd.DataFrame.from_records(records)


def _noun(kind: str) -> str:
    """What a ranking's group column is headed: ``"Organization"``."""
    return KINDS[kind].noun if kind in KINDS else kind.capitalize()


def style_table(table: pd.DataFrame, *, index: bool = True, left: Sequence[str] = ()) -> Styler:
    """A text table as a compact Styler.

    Parameters
    ----------
    table : pandas.DataFrame
        Text cells, as :func:`format_kpis` and :func:`format_ranking` return them.
    index : bool, default True
        Show the index (the row labels, left-aligned); False hides it.
    left : sequence of str
        Columns of words, left-aligned; the others (numbers) are right-aligned.
    """
    styler = table.style.set_table_attributes('class="report-table"').set_table_styles(
        [
            {"selector": "th", "props": "text-align: right; padding: 4px 10px;"},
            {"selector": "th.row_heading", "props": "text-align: left;"},
            {"selector": "td", "props": "text-align: right; padding: 4px 10px;"},
            {"selector": "th, td", "props": "white-space: nowrap;"},
        ]
    )
    words = [column for column in left if column in table.columns]
    if words:  # per column: more specific than the table-wide rules above
        styler = styler.set_table_styles(
            {column: [{"selector": "th, td", "props": "text-align: left;"}] for column in words},
            overwrite=False,
        )
    if not index:
        styler = styler.hide(axis="index")
    return styler
