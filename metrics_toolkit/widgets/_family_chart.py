"""A plain chart of the metric chooser's other metrics: their main columns over time.

One line per main column (or, for a breakdown, one per group of the first main column: the
top :data:`TOP_GROUPS` and "other", combined by :func:`~metrics_toolkit.summaries.top_groups`;
never "other" for a distinct count), provisional buckets hollow and dashed, a footnote saying
why; categories as bars of the range's sessions per category.
"""

from __future__ import annotations

import io
import textwrap

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .._constants import DEFAULT_SETTLE_PERIOD, FIGSIZE
from .._vocabulary import ACTIVE_USERS, OTHER_LABEL
from ..combine import group_column
from ..labels import PROVISIONAL_MARK, provisional_note
from ..summaries import is_provisional, top_groups
from ._charts import CHART_DPI
from ._metrics import METRIC_CHOICES, main_columns

__all__ = ["TOP_GROUPS", "family_chart", "family_chart_png", "provisional_flags"]

#: Groups of a breakdown drawn on their own line; the rest are one "other" line.
TOP_GROUPS = 5
#: Columns that are distinct counts: the groups outside the top are never summed into "other".
DISTINCT_COLUMNS = (ACTIVE_USERS,)
#: Characters per line of a chart's footnote.
NOTE_WIDTH = 150
#: Most date labels on the x axis; more buckets get every k-th.
MAX_TICK_LABELS = 16
#: Sessions of a category, the bars of the categories chart.
CATEGORY_SESSIONS = "sessions_count"


def provisional_flags(frame: pd.DataFrame, starts: pd.DatetimeIndex) -> np.ndarray:
    """Per bucket start: whether its window may still change (partial, or ended less than the
    settle period before the data was read)."""
    now = frame.attrs.get("now")
    ends = frame.groupby(level=0)["bucket_end"].first().reindex(starts)
    partial = frame.groupby(level=0)["partial"].any().reindex(starts).fillna(False)
    flags = [
        bool(part) or (now is not None and is_provisional(end, now))
        for end, part in zip(ends, partial, strict=True)
    ]
    return np.array(flags, dtype=bool)


def _series(frame: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, str, list[str]]:
    """The lines to draw (a column each, indexed by bucket start), the y label, and notes."""
    columns = main_columns(frame, metric)
    first = next(iter(columns))
    if group_column(frame) is None:
        table = frame[list(columns)].astype(float).rename(columns=columns)
        return table, METRIC_CHOICES[metric].label, []
    table = top_groups(frame, top=TOP_GROUPS, column=first)
    notes = []
    if first in DISTINCT_COLUMNS and OTHER_LABEL in table.columns:
        table = table.drop(columns=[OTHER_LABEL])
        notes.append(
            f"only the top {TOP_GROUPS} groups: {columns[first]} are distinct, never summed"
        )
    return table, columns[first], notes


def family_chart(frame: pd.DataFrame, metric: str, *, ax: Axes) -> Axes:
    """Draw a metric of the chooser (not "sessions") on ``ax``.

    Parameters
    ----------
    frame : pandas.DataFrame
        As :func:`~._metrics.fetch_metric` returns it.
    metric : str
        A key of :data:`~._metrics.METRIC_CHOICES`.
    ax : matplotlib.axes.Axes

    Returns
    -------
    matplotlib.axes.Axes
        Lines over the buckets (bars by category for ``"categories"``); a footnote names the
        provisional buckets' mark.
    """
    if metric == "categories":
        return _categories(frame, ax)
    table, ylabel, notes = _series(frame, metric)
    starts = pd.DatetimeIndex(table.index)
    provisional = provisional_flags(frame, starts)
    x = np.arange(len(starts), dtype=float)
    for name in table.columns:
        values = table[name].to_numpy(dtype=float)
        solid = np.where(provisional, np.nan, values)
        (drawn,) = ax.plot(x, solid, marker="o", markersize=3, label=str(name))
        if provisional.any():
            ax.plot(x, values, linestyle="--", color=drawn.get_color(), label=f"_{name}")
            ax.plot(
                x[provisional],
                values[provisional],
                linestyle="none",
                marker="o",
                markerfacecolor="white",
                color=drawn.get_color(),
                label=f"_{name} (provisional)",
            )
    step = max(1, -(-len(starts) // MAX_TICK_LABELS))
    ax.set_xticks(x[::step], [f"{start:%Y-%m-%d}" for start in starts[::step]], rotation=30)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.set_title(f"{METRIC_CHOICES[metric].label} per {frame.attrs.get('freq', 'bucket')}")
    ax.legend(loc="upper left", fontsize="small")
    if provisional.any():
        unit = str(frame.attrs.get("freq", "bucket"))
        notes.append(f"hollow, dashed: {provisional_note(DEFAULT_SETTLE_PERIOD, unit)}")
    _footnote(ax, notes)
    return ax


def _categories(frame: pd.DataFrame, ax: Axes) -> Axes:
    """Sessions per category over the range, largest on top; failed buckets named."""
    rows = frame[frame["category"].notna()]
    sessions = rows.groupby("category")[CATEGORY_SESSIONS].sum().astype(float).sort_values()
    ax.barh([str(name) for name in sessions.index], sessions.to_numpy(), color="#4c72b0")
    ax.set_title("Sessions by category, over the whole range")
    notes = []
    if frame["failed"].any():
        notes.append("some buckets failed: their sessions are missing")
    if frame["partial"].any() or frame["clipped"].any():
        notes.append(f"{PROVISIONAL_MARK} the range ends in a partial bucket: counts still grow")
    _footnote(ax, notes)
    return ax


def _footnote(ax: Axes, notes: list[str]) -> None:
    """The notes under the chart, wrapped (the layout makes room for them)."""
    if notes:
        text = "\n".join(textwrap.fill(note, NOTE_WIDTH) for note in notes)
        ax.set_xlabel(text, fontsize="x-small", loc="left")


def family_chart_png(frame: pd.DataFrame, metric: str) -> bytes:
    """:func:`family_chart` on a new figure, as PNG bytes at ``CHART_DPI``."""
    figure = Figure(figsize=FIGSIZE, layout="constrained")
    family_chart(frame, metric, ax=figure.subplots())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()
