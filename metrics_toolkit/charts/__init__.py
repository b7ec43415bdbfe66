"""Matplotlib: a wide frame in, an Axes out; one function per question.

Every chart takes a wide frame (see :mod:`metrics_toolkit.frames`) and ``ax=None``, draws on
``ax`` (or on a new figure from :func:`matplotlib.pyplot.subplots`) and returns the Axes. No
chart fetches data or changes pyplot state beyond creating that figure.

=====================  ==================================================================
chart                  question
=====================  ==================================================================
sessions_over_time     how many sessions per bucket (per group: top N and "other")?
origin_mix             where were they started (stacked counts or shares)?
size_mix               how big were they, XS to XL (stacked counts or shares)?
merge_rate             what share of them got a merged PR (overall or per size)?
acus                   how many ACUs in total, and per session?
kpi_summary            the last finished bucket against the one before (:func:`kpi_table`)
=====================  ==================================================================

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

A breakdown frame (with an ``org_id``, ``user_id``, ``service_user_id`` or ``playbook_id``
column) is summed over its groups by every chart but :func:`sessions_over_time`; rates and
averages are then recomputed as ratios of sums.

The package: this module holds the charts; ``_axis.py`` the bucket x axis
(:class:`~metrics_toolkit.charts._axis.BucketAxis`), its ticks, title and notes; ``_draw.py``
the colours and the drawing (lines, bars, hatches, bands, legend). The tables under the charts
(:func:`top_groups`, :func:`kpi_table`) live in :mod:`metrics_toolkit.summaries`, the date and
number labels in :mod:`metrics_toolkit.labels`. The two tables are re-exported here.
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
from ..frames import combine_groups, group_column
from ..labels import arrow, bucket_unit, period, signed
from ..summaries import (
    CARD_KPIS,
    KPI_LABELS,
    check_wide_frame,
    floats,
    kpi_table,
    kpi_text,
    top_groups,
)
from ._axis import BucketAxis, date_axis, note, notes, title
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
    Floats,
    bars,
    category_color,
    group_colors,
    legend,
    line,
    new_axes,
    shade_buckets,
    style,
)

__all__ = [
    "FALLBACK_COLORS",
    "GROUP_PALETTE",
    "KPI_METRICS",
    "ORIGIN_COLORS",
    "OTHER_COLOR",
    "SIZE_COLORS",
    "acus",
    "category_color",
    "group_colors",
    "kpi_summary",
    "kpi_table",
    "merge_rate",
    "origin_mix",
    "sessions_over_time",
    "size_mix",
    "top_groups",
]

#: The KPIs of :func:`kpi_summary` (:func:`kpi_table`), in order, with their labels.
KPI_METRICS: dict[str, str] = {metric: KPI_LABELS[metric] for metric in CARD_KPIS}


# -- per-bucket tables -----------------------------------------------------------------------


def _bucket_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket, sorted: the frame itself, or its groups combined
    (:func:`~metrics_toolkit.frames.combine_groups`)."""
    check_wide_frame(frame)
    return combine_groups(frame).sort_index(kind="stable")


def _floats(values: pd.Series) -> Floats:
    """A column as float64 with NaN for NA."""
    return floats(values).to_numpy(dtype=np.float64, copy=True)


def _column(table: pd.DataFrame, name: str) -> Floats:
    """``table[name]`` as float64, all NaN when absent (a frame whose every call failed)."""
    if name not in table.columns:
        return np.full(len(table), np.nan)
    return _floats(table[name])


def _category_columns(table: pd.DataFrame, field: str, order: Sequence[str]) -> list[str]:
    """``<field>.<category>`` columns: documented ones in ``order``, then added ones by name.

    A category that is zero (or NA) in every bucket is left out.
    """
    prefix = field + "."
    present = [c.removeprefix(prefix) for c in table.columns if c.startswith(prefix)]
    ordered = [c for c in order if c in present] + sorted(c for c in present if c not in order)
    return [
        f"{prefix}{category}"
        for category in ordered
        if np.nansum(_floats(table[f"{prefix}{category}"])) > 0
    ]


def _shares(values: pd.DataFrame) -> pd.DataFrame:
    """Each row divided by its total (NaN for a row whose total is 0 or NA)."""
    totals = values.sum(axis=1, skipna=False)
    return values.div(totals.where(totals > 0), axis=0)


def _finish(
    ax: Axes, buckets: BucketAxis, *, marker: str, extra: Sequence[str] = (), reverse: bool = False
) -> Axes:
    """The parts every time chart shares: date axis, failed bands, legend and notes."""
    date_axis(ax, buckets)
    shade_buckets(ax, buckets)
    legend(ax, reverse=reverse)
    note(ax, notes(buckets, marker=marker, extra=extra))
    return ax


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
        Groups drawn on their own line.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes

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
    table = _bucket_table(frame)
    buckets = BucketAxis.of(table)
    group = group_column(frame)
    if group is None:
        line(ax, buckets, _column(table, SESSIONS), color=SESSIONS_COLOR, label="all")
    else:
        per_group = top_groups(frame, top=top, column=SESSIONS).reindex(buckets.starts)
        group_ids: Mapping[str, str] = per_group.attrs["group_ids"]
        colors = group_colors(frame[group].astype(str))
        for label in per_group.columns:
            group_id = group_ids.get(label)
            color = OTHER_COLOR if group_id is None else colors[group_id]
            values = per_group[label].to_numpy(dtype=np.float64)
            line(ax, buckets, values, color=color, label=label)
    style(ax, ylabel="sessions")
    title(ax, "Sessions created", buckets)
    return _finish(ax, buckets, marker="dashed")


def origin_mix(frame: pd.DataFrame, *, share: bool = False, ax: Axes | None = None) -> Axes:
    """Sessions created per bucket by origin, as stacked bars (counts or shares).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame (a breakdown frame is summed over its groups).
    share : bool, default False
        Draw each origin's share of the bucket's total (0-100 %) instead of counts.
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
        A wide frame (a breakdown frame is summed over its groups).
    share : bool, default False
        Draw each size's share of the bucket's total (0-100 %) instead of counts.
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
    table = _bucket_table(frame)
    buckets = BucketAxis.of(table)
    columns = _category_columns(table, field, order)
    categories = [c.removeprefix(field + ".") for c in columns]
    names = [size_label(c) if kind == "size" else origin_label(c) for c in categories]
    values = pd.DataFrame(
        {name: _floats(table[column]) for name, column in zip(names, columns, strict=True)},
        index=table.index,
    )
    if share:
        values = _shares(values)
    colors = {
        name: category_color(category, palette)
        for name, category in zip(names, categories, strict=True)
    }
    bars(ax, buckets, values, colors)
    style(ax, ylabel="share of sessions" if share else "sessions", percent=share)
    what = f"Share of sessions by {kind}" if share else f"Sessions created by {kind}"
    title(ax, what, buckets)
    return _finish(ax, buckets, marker="hatched", reverse=True)


def merge_rate(frame: pd.DataFrame, *, by_size: bool = False, ax: Axes | None = None) -> Axes:
    """Share of sessions created in each bucket that have a merged PR, on a percent axis.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame (a breakdown frame is summed over its groups; the rate is then
        recomputed as merged / created).
    by_size : bool, default False
        One line per size (``merged_pr_rate.<size>``) instead of the overall rate.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Lines with the rate as a fraction (the axis shows percent); a bucket without
        sessions (NaN rate) or failed is a gap, not a zero. The note reminds that recent
        buckets still rise as PRs get merged.
    """
    ax = new_axes(ax)
    table = _bucket_table(frame)
    buckets = BucketAxis.of(table)
    if by_size:
        prefix = MERGE_RATE + "."
        sizes = [c.removeprefix(prefix) for c in table.columns if c.startswith(prefix)]
        ordered = [s for s in SIZES if s in sizes] + sorted(s for s in sizes if s not in SIZES)
        for size in ordered:
            color = category_color(size, SIZE_COLORS)
            values = _floats(table[prefix + size])
            line(ax, buckets, values, color=color, label=size_label(size))
    else:
        values = _column(table, MERGE_RATE)
        line(ax, buckets, values, color=MERGE_RATE_COLOR, label="all sizes")
    style(ax, ylabel="sessions with a merged PR", percent=True)
    what = "Merged-PR rate by size" if by_size else "Merged-PR rate"
    title(ax, what, buckets)
    caveat = "recent buckets still rise as PRs get merged"
    return _finish(ax, buckets, marker="dashed", extra=[caveat])


def acus(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """ACUs per bucket: the total as bars, the average per session as a line (right axis).

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame (a breakdown frame is summed over its groups; the average is then
        re-weighted by sessions).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        The left (total) axis. The right axis, with ``avg_acus_per_session``, is
        ``ax.right_ax`` (as pandas names it). The average is a gap, not the API's 0.0, for
        a bucket without sessions.
    """
    ax = new_axes(ax)
    table = _bucket_table(frame)
    buckets = BucketAxis.of(table)
    totals = pd.DataFrame({"ACUs total": _column(table, ACUS_TOTAL)}, index=table.index)
    bars(ax, buckets, totals, {"ACUs total": ACUS_COLOR})
    average = _column(table, AVERAGE)
    average[~(_column(table, SESSIONS) > 0)] = np.nan
    right = ax.twinx()
    line(right, buckets, average, color=AVG_ACUS_COLOR, label="ACUs per session")
    style(ax, ylabel="ACUs total (bars)")
    style(right, ylabel="ACUs per session (line)")
    right.spines["right"].set_visible(True)
    right.grid(False)
    right.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.1f}"))
    ax.yaxis.label.set_color(ACUS_LABEL_COLOR)
    right.yaxis.label.set_color(AVG_ACUS_COLOR)
    setattr(ax, "right_ax", right)  # noqa: B010 - pandas' name for the secondary axis
    title(ax, "ACUs", buckets)
    return _finish(ax, buckets, marker="hatched bar, dashed line")


def kpi_summary(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """The last complete bucket's KPIs, each with its change against the bucket before.

    Draws :func:`kpi_table` as four cards: sessions created, merged-PR rate, ACUs total and
    ACUs per session, each with the absolute change (percentage points for the rate) and
    the relative change.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame (a breakdown frame is summed over its groups).
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
    if start is None:
        ax.set_title(f"No complete {unit} in the frame ({zone})", loc="left")
        return ax
    when = period(start, end, unit)
    if table.attrs["failed"]:
        ax.set_title(
            f"Last {unit}, {when}, has no data: a call failed or a group is missing ({zone})",
            loc="left",
        )
    else:
        against = "against the one before"
        if table.attrs["previous_start"] is None:
            against = f"no complete {unit} before it to compare"
        ax.set_title(f"Last complete {unit}, {when}, {against} ({zone})", loc="left")
    for position, (metric, row) in enumerate(table.iterrows()):
        x = (position + 0.5) / len(table)
        ax.text(x, 0.85, str(row["label"]), ha="center", va="center", color=NOTE_COLOR)
        value = kpi_text(str(metric), float(row["current"]))
        ax.text(x, 0.5, value, ha="center", va="center", fontsize="xx-large", weight="bold")
        change, color = _change_text(str(metric), row)
        ax.text(x, 0.15, change, ha="center", va="center", color=color)
    return ax


def _change_text(metric: str, row: pd.Series) -> tuple[str, str]:
    """``"▲ +139 (+13.1%)"`` (points for the rate) and its colour (neutral: more ACUs is not
    "good")."""
    change = float(row["change"])
    if np.isnan(change):
        return "no comparison", NOTE_COLOR
    if metric == MERGE_RATE:
        absolute = signed(change * 100, 1, " pp", ascii_minus=True)
    else:
        absolute = signed(change, 2 if metric == AVERAGE else 0, ascii_minus=True)
    percent = float(row["change_pct"])
    relative = "" if np.isnan(percent) else f" ({signed(percent, 1, '%', ascii_minus=True)})"
    return f"{arrow(change)} {absolute}{relative}", CHANGE_COLOR
