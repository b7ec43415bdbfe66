"""The report's numbers as text and HTML for a notebook to display (pure).

:func:`format_kpis` and :func:`format_ranking` turn the tables of
:func:`~metrics_toolkit.report.weekly_kpis` and :func:`~metrics_toolkit.report.group_ranking`
into text cells (values, and changes with arrows: ``▲ +3.1 pp``, ``▼ −12.0%``; a value that
will still change followed by ``†``, explained under the table), :func:`style_table` gives such
a table a compact look, and :class:`HTMLBlock` is a piece of markup a notebook shows as HTML
and prints as plain text. Every number is written by :mod:`metrics_toolkit.labels`.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from .._constants import DEFAULT_SETTLE_PERIOD, MIN_SESSIONS
from .._vocabulary import KINDS
from ..labels import (
    PERCENT,
    PROVISIONAL_MARK,
    change_label,
    points_text,
    provisional_note,
    provisional_value,
    rate_range,
    rate_text,
)
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
    "paragraph",
    "plain_text",
    "style_table",
]

#: What a ranking's group column is headed, by kind of group (each kind's noun).
GROUP_NOUNS = {name: kind.noun for name, kind in KINDS.items()}
#: How a table's footnote looks: under the table, small, left-aligned.
NOTE_STYLE = "caption-side: bottom; text-align: left; font-size: 0.85em; color: #555;"


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


def paragraph(text: str, css_class: str = "report-text") -> HTMLBlock:
    """Plain ``text`` as one HTML paragraph of class ``css_class``."""
    return HTMLBlock(f'<p class="{css_class}">{html.escape(text)}</p>', text)


def bullet_list(items: Sequence[str], css_class: str, *, footnote: str = "") -> HTMLBlock:
    """Plain-text ``items`` as an HTML list of class ``css_class`` (one item per line as text),
    with a ``footnote`` paragraph under it when one is given."""
    markup = "".join(f"<li>{html.escape(item)}</li>" for item in items)
    text = "\n".join(items)
    if footnote:
        note = paragraph(footnote, "report-footnote")
        return HTMLBlock(f'<ul class="{css_class}">{markup}</ul>{note.html}', f"{text}\n{note}")
    return HTMLBlock(f'<ul class="{css_class}">{markup}</ul>', text)


def changes_html(
    sentences: Sequence[str],
    *,
    intro: str = "",
    settle_period: dt.timedelta = DEFAULT_SETTLE_PERIOD,
) -> HTMLBlock:
    """The sentences of :func:`~metrics_toolkit.report.what_changed` as an HTML list.

    Parameters
    ----------
    sentences : sequence of str
        Plain sentences.
    intro : str, optional
        A paragraph before the list (what makes a move worth a sentence).
    settle_period : datetime.timedelta, default 14 days
        For the footnote under the list, given when a sentence holds a provisional value
        (``†``): :func:`~metrics_toolkit.labels.provisional_note`.
    """
    marked = any(PROVISIONAL_MARK in sentence for sentence in sentences)
    footnote = provisional_note(settle_period) if marked else ""
    listed = bullet_list(sentences, "report-changes", footnote=footnote)
    if not intro:
        return listed
    before = paragraph(intro)
    return HTMLBlock(before.html + listed.html, f"{before}\n{listed}")


def _format_change(metric: str, change: float, percent: float) -> str:
    """A KPI's change: percentage points for a rate, else percent (absolute without a base)."""
    if metric in RATE_KPIS:
        return points_text(change)
    if math.isnan(percent):
        decimals = 2 if metric in KPIS and KPIS[metric].style == "average" else 0
        return change_label(change, decimals)
    return change_label(percent, 1, PERCENT)


def _flag(row: pd.Series, column: str) -> bool:
    """Whether ``row`` flags its ``column`` value provisional (False without the flag)."""
    return bool(row.get(f"{column}_provisional", False))


def format_kpis(kpis: pd.DataFrame) -> pd.DataFrame:
    """:func:`~metrics_toolkit.report.weekly_kpis` as text for display: values, and changes
    with arrows.

    Counts and ACUs change in percent, rates in percentage points (``pp``). A provisional
    value, and a change that compares one, is followed by ``†``
    (:data:`~metrics_toolkit.labels.PROVISIONAL_MARK`).

    Returns
    -------
    pandas.DataFrame
        Indexed by the KPI labels; columns the week, ``Previous week``, ``Change``,
        ``4-week average`` and ``Change vs average`` (all str). ``attrs["note"]`` is the
        footnote of ``†`` (:func:`~metrics_toolkit.labels.provisional_note`) when a cell holds
        one, else ``""``.
    """
    rows = {}
    for metric, row in kpis.iterrows():
        name = str(metric)
        this, before, average = (
            _flag(row, column) for column in ("this_week", "previous_week", "four_week_average")
        )
        rows[str(row["label"])] = {
            str(kpis.attrs.get("week", "This week")): provisional_value(
                kpi_text(name, row["this_week"]), this
            ),
            "Previous week": provisional_value(kpi_text(name, row["previous_week"]), before),
            "Change": provisional_value(
                _format_change(name, row["change"], row["change_pct"]), this or before
            ),
            "4-week average": provisional_value(kpi_text(name, row["four_week_average"]), average),
            "Change vs average": provisional_value(
                _format_change(name, row["change_vs_average"], row["change_vs_average_pct"]),
                this or average,
            ),
        }
    table = pd.DataFrame.from_dict(rows, orient="index")
    marked = table.map(lambda cell: PROVISIONAL_MARK in cell).to_numpy().any()
    settle_period = kpis.attrs.get("settle_period", DEFAULT_SETTLE_PERIOD)
    table.attrs["note"] = provisional_note(settle_period) if marked else ""
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
                "95% range": rate_range(low, high),
                "Size-adjusted": rate_text(adjusted) + adjusted_rank,
                "vs previous week": points_text(float(row["change"])),
                "Note": f"fewer than {minimum} sessions" if few else "",
            }
        )
    table = pd.DataFrame.from_records(records)
    if not table.empty and not table["Note"].astype(bool).any():
        table = table.drop(columns="Note")  # a column empty in every row says nothing
    return table


def _noun(kind: str) -> str:
    """What a ranking's group column is headed: ``"Organization"``."""
    return KINDS[kind].noun if kind in KINDS else kind.capitalize()


def style_table(
    table: pd.DataFrame,
    *,
    index: bool = True,
    left: Sequence[str] = (),
    note: str | None = None,
) -> Styler:
    """A text table as a compact Styler.

    Parameters
    ----------
    table : pandas.DataFrame
        Text cells, as :func:`format_kpis` and :func:`format_ranking` return them.
    index : bool, default True
        Show the index (the row labels, left-aligned); False hides it.
    left : sequence of str
        Columns of words, left-aligned; the others (numbers) are right-aligned.
    note : str, optional
        A footnote shown under the table; default ``table.attrs["note"]`` (the ``†`` note of
        :func:`format_kpis`), none when empty.
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
    note = table.attrs.get("note", "") if note is None else note
    if note:
        styler = styler.set_caption(html.escape(note)).set_table_styles(
            [{"selector": "caption", "props": NOTE_STYLE}], overwrite=False
        )
    return styler
