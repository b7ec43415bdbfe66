"""Matplotlib: a wide frame in, an Axes out; one function per question.

Every chart takes a wide frame (see :mod:`metrics_toolkit.frames`) and ``ax=None``, draws on
``ax`` (or on a new figure from :func:`matplotlib.pyplot.subplots`) and returns the Axes. No
chart fetches data or changes pyplot state beyond creating that figure.

=======================  ================================================================
chart                    question
=======================  ================================================================
sessions_over_time       how many sessions per bucket (per group: top N and "other")?
origin_mix               where were they started (stacked counts or shares)?
size_mix                 how big were they, XS to XL (stacked counts or shares)?
merge_rate               what share of them got a merged PR (overall or per size)?
acus                     how many ACUs in total, and per session?
kpi_summary              the last finished bucket against the one before (:func:`kpi_table`)
active_users             how many people used Devin (per group; with monthly, DAU/MAU)?
pr_outcomes              what became of the PRs created (merged, closed, open; share merged)?
consumption_by_product   ACUs per billing day (08:00 UTC) by product or group
cycle_burn               the billing cycle's ACUs so far against the cycles before, projected
categories               what were the sessions for (category, subcategory)?
=======================  ================================================================

Conventions shared by every chart:

- one position per bucket on the x axis, labelled in the frame's time zone with a format
  chosen from ``frame.attrs["freq"]`` (or the buckets' lengths): a day ``"Mon 3 Nov"``, a
  week ``"3 Nov"``, a month ``"Nov 2026"``, a quarter ``"2026 Q4"``;
- a title that states the window and the time zone;
- an *incomplete* bucket (``partial``: it reaches past "now", so its numbers still grow; or
  ``clipped``: the requested range cuts it) is hatched (bars) or reached by a dashed segment
  (lines), with a note under the axis, so that an unfinished week never reads as a drop;
- a *failed* bucket (no answer) is a shaded gap marked "no data", never a zero;
- one fixed colour per origin (:data:`ORIGIN_COLORS`) and per size (:data:`SIZE_COLORS`)
  in every chart, a deterministic fallback for categories the server adds
  (:func:`category_color`), and per-group colours that depend only on the set of groups
  (:func:`group_colors`).

- a rate or share over fewer than :data:`~metrics_toolkit._constants.MIN_SESSIONS` sessions
  (the threshold the weekly report ranks by) is a hollow point or a hollow bar, and the note
  says so: hollow means only that.
- an axis of rates or shares runs from 0 % to at most 100 %.

A breakdown frame (``org_id``, ``user_id``, ``service_user_id`` or ``playbook_id`` column) is
drawn group by group where that reads well: :func:`sessions_over_time` and :func:`merge_rate`
draw a line per group (the ``top`` groups by sessions, then "other" for the rest), each group's
numbers combined exactly by :func:`~metrics_toolkit.combine.combine_groups`. The other charts
combine the groups, and their title says so (``"..., Platform and Growth combined, ..."``).
The title of a chart of one group names it (``"... for organization “Platform”"``).

The package: this module holds the session charts; ``_family.py`` and ``_billing.py`` the
family's (distinct counts never summed, billing days never relabelled); ``_axis.py`` the
bucket x axis (:class:`~metrics_toolkit.charts._axis.BucketAxis`), ticks, title and notes;
``_draw.py`` colours and drawing; ``_tables.py`` the per-bucket tables drawn. The tables
:func:`top_groups` and :func:`kpi_table` (re-exported here) live in
:mod:`metrics_toolkit.summaries`, the date and number labels in :mod:`metrics_toolkit.labels`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from .._constants import FIGSIZE as FIGSIZE  # re-exported: the size of a new chart
from .._constants import KPI_FIGSIZE
from .._vocabulary import (
    ACUS_TOTAL,
    AVERAGE,
    MERGE_RATE,
    ORIGIN_FIELD,
    ORIGINS,
    SESSIONS,
    SIZE_FIELD,
    SIZES,
    origin_label,
    size_label,
)
from .._vocabulary import OTHER_LABEL as OTHER_LABEL  # re-exported: the rest's label
from ..buckets import parse_freq
from ..combine import group_column
from ..labels import (
    PROVISIONAL_MARK,
    bucket_unit,
    change_label,
    period,
    points_text,
    provisional_note,
    provisional_value,
)
from ..summaries import CARD_KPIS, KPI_LABELS, KPIS, RATE_KPIS, kpi_table, kpi_text, top_groups
from ._axis import BucketAxis, date_axis, fitted, note, notes, title
from ._billing import consumption_by_product, cycle_burn
from ._draw import (
    ACUS_COLOR,
    ACUS_LABEL_COLOR,
    AVG_ACUS_COLOR,
    CHANGE_COLOR,
    FALLBACK_COLORS,
    GROUP_PALETTE,
    MERGE_RATE_COLOR,
    NOTE_COLOR,
    ORIGIN_COLORS,
    OTHER_COLOR,
    SESSIONS_COLOR,
    SIZE_COLORS,
    bars,
    category_color,
    group_colors,
    legend,
    line,
    new_axes,
    shade_buckets,
    style,
)
from ._family import active_users, categories, pr_outcomes
from ._tables import (
    bucket_table,
    category_columns,
    column,
    group_series,
    scope_text,
    shares,
    to_floats,
    too_few,
)

__all__ = [
    "FALLBACK_COLORS",
    "GROUP_PALETTE",
    "KPI_METRICS",
    "ORIGIN_COLORS",
    "OTHER_COLOR",
    "SIZE_COLORS",
    "active_users",
    "acus",
    "categories",
    "category_color",
    "consumption_by_product",
    "cycle_burn",
    "group_colors",
    "kpi_summary",
    "kpi_table",
    "merge_rate",
    "origin_mix",
    "pr_outcomes",
    "sessions_over_time",
    "size_mix",
    "top_groups",
]

#: The KPIs of :func:`kpi_summary` (:func:`kpi_table`), in order, with their labels.
KPI_METRICS: dict[str, str] = {metric: KPI_LABELS[metric] for metric in CARD_KPIS}


# -- shared parts ----------------------------------------------------------------------------


def _finish(
    ax: Axes,
    buckets: BucketAxis,
    *,
    marker: str,
    extra: Sequence[str] = (),
    reverse: bool = False,
    hollow: bool = False,
) -> Axes:
    """The parts every time chart shares: date axis, failed bands, legend and notes."""
    date_axis(ax, buckets)
    shade_buckets(ax, buckets)
    legend(ax, reverse=reverse)
    note(ax, notes(buckets, marker=marker, extra=extra, hollow=hollow))
    return ax


def _group_lines(
    ax: Axes, buckets: BucketAxis, frame: pd.DataFrame, top: int, value: str, *, rate: bool
) -> bool:
    """One line of ``value`` per group (top N, then "other"); True when a point is hollow.

    ``rate``: ``value`` is over the group's sessions, so a point over too few is hollow.
    """
    any_hollow = False
    for series in group_series(frame, top, buckets.starts):
        hollow = too_few(column(series.table, SESSIONS)) if rate else None
        values = column(series.table, value)
        line(ax, buckets, values, color=series.color, label=series.label, hollow=hollow)
        any_hollow = any_hollow or bool(hollow is not None and hollow.any())
    return any_hollow


# -- charts ----------------------------------------------------------------------------------


def sessions_over_time(frame: pd.DataFrame, *, top: int = 5, ax: Axes | None = None) -> Axes:
    """Sessions created per bucket: one line, or one per group (top N and "other").

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame; with a group column (``org_id``, ``user_id``, ``service_user_id``,
        ``playbook_id``), one line per group for the ``top`` groups by total sessions and an
        "other" line summing the rest (see :func:`top_groups`), labelled by the
        ``<kind>_name`` column when there is one.
    top : int, default 5
        Groups drawn on their own line, 1 or more.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Titled ``"Sessions created per week, ..."`` for a total frame, ``"... per week by
        organization, ..."`` for several groups, ``"... per week for organization “Platform”,
        ..."`` for one.

    Examples
    --------
    >>> import metrics_toolkit as mt
    >>> from metrics_toolkit import charts
    >>> by_org = mt.MetricsClient.demo(now="2026-11-25").session_metrics_frame(
    ...     "2026-06-01", "2026-11-23", by="org", progress=False)
    >>> ax = charts.sessions_over_time(by_org, top=3)
    >>> len(ax.get_lines()) >= 3
    True
    """
    ax = new_axes(ax)
    table = bucket_table(frame)
    buckets = BucketAxis.of(table)
    if group_column(frame) is None:
        line(ax, buckets, column(table, SESSIONS), color=SESSIONS_COLOR, label="all")
    else:
        _group_lines(ax, buckets, frame, top, SESSIONS, rate=False)
    style(ax, ylabel="sessions")
    title(ax, "Sessions created", buckets, scope_text(frame, combined=False))
    return _finish(ax, buckets, marker="dashed")


def origin_mix(frame: pd.DataFrame, *, share: bool = False, ax: Axes | None = None) -> Axes:
    """Sessions created per bucket by origin, as stacked bars (counts or shares).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame. A breakdown frame is combined over its groups, and the title says so
        (``"..., Platform and Growth combined, ..."``).
    share : bool, default False
        Draw each origin's share of the bucket's total (0-100 %, the axis capped at 100 %)
        instead of counts; a bucket of fewer than ``MIN_SESSIONS`` sessions is drawn hollow.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per origin, labelled as people name it (``"Web app"``, see
        :func:`~metrics_toolkit._vocabulary.origin_label`): the documented ones in the API's
        order with their :data:`ORIGIN_COLORS`, then any the server added.
    """
    return _mix(frame, ORIGIN_FIELD, ORIGINS, ORIGIN_COLORS, "origin", share=share, ax=ax)


def size_mix(frame: pd.DataFrame, *, share: bool = False, ax: Axes | None = None) -> Axes:
    """Sessions created per bucket by size, XS at the bottom to XL, as stacked bars.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame. A breakdown frame is combined over its groups, and the title says so.
    share : bool, default False
        Draw each size's share of the bucket's total (0-100 %, the axis capped at 100 %)
        instead of counts; a bucket of fewer than ``MIN_SESSIONS`` sessions is drawn hollow.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per size, labelled ``"XS"`` ... ``"XL"`` (then any size the server
        added, upper case), coloured by :data:`SIZE_COLORS`.
    """
    return _mix(frame, SIZE_FIELD, SIZES, SIZE_COLORS, "size", share=share, ax=ax)


def _mix(
    frame: pd.DataFrame,
    field: str,
    order: Sequence[str],
    palette: Mapping[str, str],
    kind: str,
    *,
    share: bool,
    ax: Axes | None,
) -> Axes:
    """Stacked bars of the ``<field>.<category>`` columns (origin_mix, size_mix)."""
    ax = new_axes(ax)
    table = bucket_table(frame)
    buckets = BucketAxis.of(table)
    columns = category_columns(table, field, order)
    categories = [c.removeprefix(field + ".") for c in columns]
    names = [size_label(c) if kind == "size" else origin_label(c) for c in categories]
    values = pd.DataFrame(
        {name: to_floats(table[source]) for name, source in zip(names, columns, strict=True)},
        index=table.index,
    )
    hollow = None
    if share:
        hollow = too_few(values.sum(axis=1, skipna=False).to_numpy(dtype=np.float64))
        values = shares(values)
    colors = {
        name: category_color(category, palette)
        for name, category in zip(names, categories, strict=True)
    }
    bars(ax, buckets, values, colors, hollow=hollow)
    style(ax, ylabel="share of sessions" if share else "sessions", percent=share)
    what = f"Share of sessions by {kind}" if share else f"Sessions created by {kind}"
    title(ax, what, buckets, scope_text(frame, combined=True))
    any_hollow = hollow is not None and bool(hollow.any())
    return _finish(ax, buckets, marker="hatched", reverse=True, hollow=any_hollow)


def merge_rate(
    frame: pd.DataFrame, *, by_size: bool = False, top: int = 5, ax: Axes | None = None
) -> Axes:
    """Share of sessions created in each bucket that have a merged PR, on a percent axis.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame. A breakdown frame gets one line per group for the ``top`` groups by
        sessions and an "other" line for the rest, each rate a ratio of sums over the
        group's rows (:func:`~metrics_toolkit.combine.combine_groups`); with ``by_size``
        its groups are combined instead, and the title says so.
    by_size : bool, default False
        One line per size (``merged_pr_rate.<size>``) instead of the overall rate.
    top : int, default 5
        Groups drawn on their own line, 1 or more.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Lines with the rate as a fraction (the axis shows 0-100 %, never more); a bucket
        without sessions (NaN rate) or failed is a gap, not a zero. A rate over fewer than
        ``MIN_SESSIONS`` sessions (of that size, or group) is a hollow point, and the note
        says so. The note also reminds that recent buckets still rise as PRs get merged.
    """
    ax = new_axes(ax)
    table = bucket_table(frame)
    buckets = BucketAxis.of(table)
    any_hollow = False
    if by_size:
        prefix = MERGE_RATE + "."
        sizes = [c.removeprefix(prefix) for c in table.columns if c.startswith(prefix)]
        ordered = [s for s in SIZES if s in sizes] + sorted(s for s in sizes if s not in SIZES)
        for size in ordered:
            hollow = too_few(column(table, f"{SIZE_FIELD}.{size}"))
            color = category_color(size, SIZE_COLORS)
            values = column(table, prefix + size)
            line(ax, buckets, values, color=color, label=size_label(size), hollow=hollow)
            any_hollow = any_hollow or bool(hollow.any())
    elif group_column(frame) is not None:
        any_hollow = _group_lines(ax, buckets, frame, top, MERGE_RATE, rate=True)
    else:
        hollow = too_few(column(table, SESSIONS))
        values = column(table, MERGE_RATE)
        line(ax, buckets, values, color=MERGE_RATE_COLOR, label="all sizes", hollow=hollow)
        any_hollow = bool(hollow.any())
    style(ax, ylabel="sessions with a merged PR", percent=True)
    what = "Merged-PR rate by size" if by_size else "Merged-PR rate"
    title(ax, what, buckets, scope_text(frame, combined=by_size))
    caveat = "recent buckets still rise as PRs get merged"
    return _finish(ax, buckets, marker="dashed", extra=[caveat], hollow=any_hollow)


def acus(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """ACUs per bucket: the total as bars, the average per session as a line (right axis).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame. A breakdown frame is combined over its groups (the average re-weighted
        by sessions), and the title says so (``"ACUs per week, Platform and Growth combined,
        ..."``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The left (total) axis. The right axis, with ``avg_acus_per_session``, is
        ``ax.right_ax`` (as pandas names it). The average is a gap, not the API's 0.0, for
        a bucket without sessions, and a hollow point over fewer than ``MIN_SESSIONS``.
    """
    ax = new_axes(ax)
    table = bucket_table(frame)
    buckets = BucketAxis.of(table)
    totals = pd.DataFrame({"ACUs total": column(table, ACUS_TOTAL)}, index=table.index)
    bars(ax, buckets, totals, {"ACUs total": ACUS_COLOR})
    sessions = column(table, SESSIONS)
    average = column(table, AVERAGE)
    average[~(sessions > 0)] = np.nan
    hollow = too_few(sessions)
    right = ax.twinx()
    line(right, buckets, average, color=AVG_ACUS_COLOR, label="ACUs per session", hollow=hollow)
    style(ax, ylabel="ACUs total (bars)")
    style(right, ylabel="ACUs per session (line)")
    right.spines["right"].set_visible(True)
    right.grid(False)
    right.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.1f}"))
    ax.yaxis.label.set_color(ACUS_LABEL_COLOR)
    right.yaxis.label.set_color(AVG_ACUS_COLOR)
    setattr(ax, "right_ax", right)  # noqa: B010 - pandas' name for the secondary axis
    title(ax, "ACUs", buckets, scope_text(frame, combined=True))
    marker = "hatched bar, dashed line"
    return _finish(ax, buckets, marker=marker, hollow=bool(hollow.any()))


def kpi_summary(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The last complete bucket's KPIs, each with its change against the bucket before.

    Draws :func:`kpi_table` as four cards: sessions created, merged-PR rate, ACUs total and
    ACUs per session, each with its change written as the weekly report writes it
    (:mod:`metrics_toolkit.labels`): percentage points for the rate (``"▼ −3.7 pp"``), the
    absolute and the relative change for the others (``"▼ −96 (−8.2%)"``), a fall with the
    minus sign U+2212. A value that may still change (its bucket ended less than the settle
    period before the data was read: the rate and the ACUs) is followed by ``†``, and so is a
    change that compares one; the footnote that says why is under the cards
    (:func:`~metrics_toolkit.labels.provisional_note`).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame. A breakdown frame is combined over its groups, and the title says so
        (``"Last complete week, Platform and Growth combined, ..."``).
    ax : matplotlib.axes.Axes, optional
        Where to draw (its axis lines are hidden); default a new, short figure.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = new_axes(ax, KPI_FIGSIZE)
    table = kpi_table(frame)
    ax.set_axis_off()
    unit = bucket_unit(parse_freq(table.attrs["freq"]))
    start, end, zone = table.attrs["bucket_start"], table.attrs["bucket_end"], table.attrs["tz"]
    scope = scope_text(frame, combined=True)
    if start is None:
        ax.set_title(f"No complete {unit} in the frame{scope} ({zone})", loc="left")
        return ax
    when = period(start, end, unit)
    if table.attrs["failed"]:
        ax.set_title(
            f"Last {unit}{scope}, {when}, has no data: a call failed or a group is missing "
            f"({zone})",
            loc="left",
        )
    else:
        against = "against the one before"
        if table.attrs["previous_start"] is None:
            against = f"no complete {unit} before it to compare"
        ax.set_title(f"Last complete {unit}{scope}, {when}, {against} ({zone})", loc="left")
    drawn = []
    for position, (metric, row) in enumerate(table.iterrows()):
        x = (position + 0.5) / len(table)
        ax.text(x, 0.85, str(row["label"]), ha="center", va="center", color=NOTE_COLOR)
        value = kpi_text(str(metric), float(row["current"]))
        value = provisional_value(value, bool(row["current_provisional"]))
        ax.text(x, 0.5, value, ha="center", va="center", fontsize="xx-large", weight="bold")
        change, color = _change_text(str(metric), row)
        ax.text(x, 0.15, change, ha="center", va="center", color=color)
        drawn += [value, change]
    if any(PROVISIONAL_MARK in text for text in drawn):
        footnote = fitted(ax, provisional_note(table.attrs["settle_period"], unit))
        ax.text(0, -0.05, footnote, ha="left", va="top", fontsize="small", color=NOTE_COLOR)
    return ax


def _change_text(metric: str, row: pd.Series) -> tuple[str, str]:
    """The change as the report writes it, and its colour (neutral: more ACUs is not "good").

    ``"▲ +3.1 pp"`` for a rate (:func:`~metrics_toolkit.labels.points_text`), else
    ``"▼ −96 (−8.2%)"`` (:func:`~metrics_toolkit.labels.change_label`); followed by ``†``
    when either value compared is provisional.
    """
    change = float(row["change"])
    if np.isnan(change):
        return "no comparison", NOTE_COLOR
    if metric in RATE_KPIS:
        text = points_text(change)
    else:
        decimals = 2 if KPIS[metric].style == "average" else 0
        text = change_label(change, decimals, percent=float(row["change_pct"]))
    moving = bool(row["current_provisional"] or row["previous_provisional"])
    return provisional_value(text, moving), CHANGE_COLOR
