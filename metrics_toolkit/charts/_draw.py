"""Drawing on an Axes: colours, lines with dashed incomplete parts, stacked bars, bands, legend.

Every function draws what it is given on the Axes it is given; the x positions come from a
:class:`~metrics_toolkit.charts._axis.BucketAxis` (one position per bucket, with its flags).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Protocol

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.container import BarContainer
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, PercentFormatter

from .._constants import FIGSIZE

__all__ = [
    "FALLBACK_COLORS",
    "GROUP_PALETTE",
    "ORIGIN_COLORS",
    "OTHER_COLOR",
    "SIZE_COLORS",
    "bars",
    "category_color",
    "group_colors",
    "indices",
    "legend",
    "line",
    "new_axes",
    "shade_buckets",
    "style",
]

Floats = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]


class BucketPositions(Protocol):
    """What drawing needs of a chart's x axis (:class:`~._axis.BucketAxis` is one)."""

    @property
    def starts(self) -> pd.DatetimeIndex: ...

    @property
    def partial(self) -> Flags: ...

    @property
    def failed(self) -> Flags: ...

    @property
    def positions(self) -> Floats: ...

    @property
    def incomplete(self) -> Flags: ...


# -- colours ---------------------------------------------------------------------------------

#: One colour per documented origin, the same in every chart.
ORIGIN_COLORS: dict[str, str] = {
    "api": "#1f77b4",
    "automation": "#ff7f0e",
    "code_scan": "#8c564b",
    "desktop": "#9467bd",
    "jira": "#17becf",
    "linear": "#bcbd22",
    "slack": "#e377c2",
    "teams": "#2ca02c",
    "webapp": "#d62728",
}
#: One colour per documented size, light (XS) to dark (XL), the same in every chart.
SIZE_COLORS: dict[str, str] = {
    "xs": "#e3b505",
    "s": "#6cc24a",
    "m": "#21918c",
    "l": "#3b528b",
    "xl": "#440154",
}
#: Colours for categories the server adds (an origin or size we do not know yet).
FALLBACK_COLORS = ("#393b79", "#637939", "#e7ba52", "#843c39", "#7b4173", "#525252")
#: Colours for groups (orgs, users, ...): tab10 without its grey, which "other" uses.
GROUP_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#bcbd22", "#17becf",
)  # fmt: skip
#: The colour of the "other" line, the groups beyond the top N.
OTHER_COLOR = "#7f7f7f"

SESSIONS_COLOR = "#1f77b4"
MERGE_RATE_COLOR = "#2ca02c"
ACUS_COLOR = "#8da0cb"
ACUS_LABEL_COLOR = "#4c5f9e"
AVG_ACUS_COLOR = "#d62728"
FAILED_COLOR = "#f4cccc"
INCOMPLETE_COLOR = "#ececec"
NOTE_COLOR = "0.35"
CHANGE_COLOR = "0.15"

# -- layout ----------------------------------------------------------------------------------

BAR_WIDTH = 0.8
#: Room above the data, as a factor of the autoscaled top, for the band labels.
HEADROOM = 1.1
INCOMPLETE_HATCH = "////"
#: How much an incomplete bar's face is blended towards white (its hatch keeps the colour).
INCOMPLETE_LIGHTEN = 0.6
#: Size of a hollow marker (a rate over too few sessions), in points; drawn over the line's own.
HOLLOW_MARKER_SIZE = 5.5
#: Width of a hollow bar's outline, in points.
HOLLOW_EDGE_WIDTH = 1.0


def category_color(category: str, colors: Mapping[str, str]) -> str:
    """The colour of an origin or size: its fixed one, or a deterministic fallback.

    Parameters
    ----------
    category : str
        The origin or size, as in the column name (``"slack"``, ``"xl"``).
    colors : mapping
        The fixed colours, :data:`ORIGIN_COLORS` or :data:`SIZE_COLORS`.

    Returns
    -------
    str
        A hex colour; for an unknown category, one of :data:`FALLBACK_COLORS` chosen from a
        checksum of its name, so it is the same in every chart and every session.

    Examples
    --------
    >>> category_color("slack", ORIGIN_COLORS)
    '#e377c2'
    >>> category_color("github", ORIGIN_COLORS) == category_color("github", ORIGIN_COLORS)
    True
    """
    if category in colors:
        return colors[category]
    return FALLBACK_COLORS[_checksum(category) % len(FALLBACK_COLORS)]


def group_colors(group_ids: Iterable[str]) -> dict[str, str]:
    """A colour per group (org, user, ...) that depends only on the set of groups.

    Each id takes the :data:`GROUP_PALETTE` slot its checksum points at, or the next free one
    (ids handled in sorted order), so two charts over the same groups colour each group the
    same, whatever their ranking, and the first nine groups never share a colour.

    Parameters
    ----------
    group_ids : iterable of str
        Every group of the breakdown (not only those drawn).

    Returns
    -------
    dict
        id -> hex colour.

    Examples
    --------
    >>> colors = group_colors(["org-b", "org-a"])
    >>> colors == group_colors(["org-a", "org-b"]), colors["org-a"] != colors["org-b"]
    (True, True)
    """
    taken: set[int] = set()
    colors: dict[str, str] = {}
    size = len(GROUP_PALETTE)
    for group_id in sorted(set(group_ids)):
        slot = _checksum(group_id) % size
        for step in range(size):
            if (slot + step) % size not in taken:
                slot = (slot + step) % size
                break
        taken.add(slot)
        colors[group_id] = GROUP_PALETTE[slot]
    return colors


def indices(flags: Flags) -> list[int]:
    """The positions where ``flags`` is True, as ints."""
    return [int(index) for index in np.flatnonzero(flags)]


def _checksum(text: str) -> int:
    """A checksum stable across processes (``hash()`` of a str is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


def _lighten(color: str, amount: float) -> tuple[float, float, float]:
    """``color`` blended towards white by ``amount`` (0: unchanged, 1: white)."""
    red, green, blue = to_rgb(color)
    return (
        red + (1 - red) * amount,
        green + (1 - green) * amount,
        blue + (1 - blue) * amount,
    )


# -- axes, style, legend ---------------------------------------------------------------------


def new_axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    """``ax``, or the Axes of a new figure of ``figsize`` inches (constrained layout)."""
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def style(ax: Axes, *, ylabel: str, percent: bool = False) -> None:
    """Y axis from 0 with headroom (for the band labels), light grid, formatted ticks.

    A ``percent`` axis holds fractions 0-1 (shown as 0-100 %) and never runs past 100 %.
    """
    ax.set_ylabel(ylabel)
    top = ax.get_ylim()[1] * HEADROOM
    ax.set_ylim(0, min(top, 1.0) if percent else top)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def legend(ax: Axes, *, reverse: bool = False) -> None:
    """Outside the axes on the right, so it never covers data; none for a single series."""
    handles, labels = ax.get_legend_handles_labels()
    if len(handles) < 2:
        return
    if reverse:  # stacked bars: the top of the stack first
        handles, labels = handles[::-1], labels[::-1]
    ax.legend(
        handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
        fontsize="small",
    )  # fmt: skip


# -- series ----------------------------------------------------------------------------------


def line(
    ax: Axes,
    buckets: BucketPositions,
    values: Floats,
    *,
    color: str,
    label: str,
    hollow: Flags | None = None,
) -> tuple[Line2D, Line2D | None]:
    """A series as a solid line over complete buckets and a dashed one into incomplete ones.

    NaN values (failed buckets, undefined rates) are gaps. Returns the solid line (NaN at
    incomplete buckets, labelled) and the dashed one (segments into and out of each
    incomplete bucket, NaN-separated, a marker on the incomplete bucket itself), or None
    when every bucket is complete. Where ``hollow`` is True (a rate over too few sessions to
    read) the point is drawn as a hollow marker over the line, and nowhere else: hollow means
    only that.
    """
    incomplete = buckets.incomplete
    x = buckets.positions
    solid_values = np.where(incomplete, np.nan, values)
    (solid,) = ax.plot(
        x, solid_values, color=color, label=label, linewidth=1.8, marker="o", markersize=3
    )
    if not incomplete.any():
        _hollow_points(ax, buckets, values, hollow, color=color, label=label)
        return solid, None
    dashed_x, dashed_y, marked = _dashed_path(x, values, incomplete)
    (dashed,) = ax.plot(
        dashed_x,
        dashed_y,
        color=color,
        label=f"_{label} (incomplete)",
        linewidth=1.8,
        linestyle="--",
        marker="o",
        markersize=4,
        markevery=marked,
    )
    _hollow_points(ax, buckets, values, hollow, color=color, label=label)
    return solid, dashed


def _hollow_points(
    ax: Axes,
    buckets: BucketPositions,
    values: Floats,
    hollow: Flags | None,
    *,
    color: str,
    label: str,
) -> Line2D | None:
    """Hollow markers (white face, edge in ``color``) on the points flagged ``hollow``."""
    if hollow is None or not hollow.any():
        return None
    (points,) = ax.plot(
        buckets.positions[hollow],
        values[hollow],
        linestyle="none",
        marker="o",
        markersize=HOLLOW_MARKER_SIZE,
        markerfacecolor="white",
        markeredgecolor=color,
        markeredgewidth=1.2,
        label=f"_{label} (few sessions)",
    )
    return points


def _dashed_path(x: Floats, values: Floats, incomplete: Flags) -> tuple[Floats, Floats, list[int]]:
    """The segments touching incomplete buckets as one NaN-separated path.

    Returns the path's x and y and the indices in the path of the incomplete points.
    """
    count = len(x)
    pairs = sorted(
        {
            (low, low + 1)
            for index in indices(incomplete)
            for low in (index - 1, index)
            if low >= 0 and low + 1 < count
        }
    )
    runs: list[list[int]] = []
    for low, high in pairs:
        if runs and runs[-1][-1] == low:
            runs[-1].append(high)
        else:
            runs.append([low, high])
    if not runs:  # a lone bucket
        runs = [[index] for index in indices(incomplete)]
    path: list[int | None] = []
    for run in runs:
        path.extend([*run, None])
    path = path[:-1]
    path_x = np.array([np.nan if i is None else x[i] for i in path], dtype=np.float64)
    path_y = np.array([np.nan if i is None else values[i] for i in path], dtype=np.float64)
    seen: set[int] = set()
    marked = []
    for position, index in enumerate(path):
        if index is not None and incomplete[index] and index not in seen:
            seen.add(index)
            marked.append(position)
    return path_x, path_y, marked


def bars(
    ax: Axes,
    buckets: BucketPositions,
    table: pd.DataFrame,
    colors: Mapping[str, str],
    *,
    hollow: Flags | None = None,
) -> list[BarContainer]:
    """Stacked bars, one container per column (labelled by the column), bottom first.

    Where ``hollow`` is True (shares of too few sessions to read) the bucket's bars are
    outlines in their colour on a white face.
    """
    bottom = np.zeros(len(buckets.starts))
    containers = []
    for column in table.columns:
        heights = table[column].to_numpy(dtype=np.float64, na_value=np.nan)
        container = ax.bar(
            buckets.positions,
            heights,
            bottom=bottom,
            width=BAR_WIDTH,
            color=colors[column],
            label=str(column),
            linewidth=0,
        )
        _hatch_incomplete(container, buckets, colors[column])
        if hollow is not None:
            for index in indices(hollow):
                patch = container.patches[index]
                patch.set_facecolor("white")
                patch.set_edgecolor(colors[column])
                patch.set_linewidth(HOLLOW_EDGE_WIDTH)
        containers.append(container)
        bottom = bottom + np.nan_to_num(heights)
    return containers


def _hatch_incomplete(container: BarContainer, buckets: BucketPositions, color: str) -> None:
    """Incomplete buckets' bars: a lightened face with hatching in the bar's colour."""
    for index in indices(buckets.incomplete):
        patch = container.patches[index]
        patch.set_facecolor(_lighten(color, INCOMPLETE_LIGHTEN))
        patch.set_edgecolor(color)  # the hatch takes the edge colour
        patch.set_hatch(INCOMPLETE_HATCH)


def shade_buckets(ax: Axes, buckets: BucketPositions) -> None:
    """A labelled band behind each failed ("failed") and incomplete ("partial") bucket."""
    bands = [(i, FAILED_COLOR, "failed") for i in indices(buckets.failed)]
    bands += [
        (i, INCOMPLETE_COLOR, "partial" if buckets.partial[i] else "clipped")
        for i in indices(buckets.incomplete & ~buckets.failed)
    ]
    for index, color, word in bands:
        ax.axvspan(index - 0.5, index + 0.5, color=color, zorder=0, linewidth=0)
        ax.text(
            index,
            0.98,
            word,
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="center",
            va="top",
            fontsize="x-small",
            color=NOTE_COLOR,
            bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0, "pad": 1},
        )
