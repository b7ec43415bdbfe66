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
kpi_summary            the last complete bucket against the one before (:func:`kpi_table`)
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
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.colors import to_rgb
from matplotlib.container import BarContainer
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.textpath import TextToPath
from matplotlib.ticker import FuncFormatter, PercentFormatter
from matplotlib.transforms import Bbox

from .buckets import Frequency, parse_freq
from .errors import InvalidParameterError
from .frames import AVERAGE_COLUMN, combine_groups, group_column
from .models import ORIGINS, SIZES
from .params import check_positive_int

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
#: Label of the line that sums the groups beyond the top N.
OTHER_LABEL = "other"

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

#: Size of a new figure, inches.
FIGSIZE = (10.0, 4.8)
KPI_FIGSIZE = (10.0, 2.4)
BAR_WIDTH = 0.8
#: Room above the data, as a factor of the autoscaled top, for the band labels.
HEADROOM = 1.1
INCOMPLETE_HATCH = "////"
#: How much an incomplete bar's face is blended towards white (its hatch keeps the colour).
INCOMPLETE_LIGHTEN = 0.6
#: Most labelled ticks on the date axis; fewer when they would not fit side by side.
MAX_DATE_LABELS = 13
#: Least gap between two tick labels, in em.
LABEL_GAP_EM = 1.5
#: Share of the axes' width left for the plot once a legend on the right takes its room.
PLOT_SHARE = 0.85
#: Failed buckets named in the note before "...".
MAX_NAMED_FAILURES = 3

# -- names -----------------------------------------------------------------------------------

SESSIONS_COLUMN = "sessions_created_count"
ORIGIN_FIELD = "sessions_created_by_origin"
SIZE_FIELD = "sessions_created_by_size"
MERGE_RATE_COLUMN = "merged_pr_rate"
ACUS_COLUMN = "acus_total"
#: The KPIs of :func:`kpi_table`, in order, with their labels.
KPI_METRICS: dict[str, str] = {
    "sessions_created_count": "Sessions created",
    "merged_pr_rate": "Merged-PR rate",
    "acus_total": "ACUs total",
    "avg_acus_per_session": "Avg ACUs per session",
}
ROW_FLAGS = ("partial", "clipped", "failed")
# English names, independent of the process locale (labels and baseline images stay stable).
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SECONDS_PER_DAY = 86_400

_TEXT_TO_PATH = TextToPath()

_Floats = npt.NDArray[np.float64]
_Flags = npt.NDArray[np.bool_]


# ============================================================================================
# Colours
# ============================================================================================


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


def _indices(flags: _Flags) -> list[int]:
    """The positions where ``flags`` is True, as ints."""
    return [int(index) for index in np.flatnonzero(flags)]


def _checksum(text: str) -> int:
    """A checksum stable across processes (``hash()`` of a str is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


def _lighten(color: str, amount: float) -> tuple[float, float, float]:
    red, green, blue = to_rgb(color)
    return (
        red + (1 - red) * amount,
        green + (1 - green) * amount,
        blue + (1 - blue) * amount,
    )


# ============================================================================================
# Frames -> per-bucket tables (pure)
# ============================================================================================


def _check_frame(frame: pd.DataFrame) -> None:
    if not isinstance(frame.index, pd.DatetimeIndex) or frame.index.tz is None:
        raise InvalidParameterError(
            "frame", "expected a wide frame indexed by a tz-aware bucket_start"
        )
    missing = [c for c in ("bucket_end", *ROW_FLAGS) if c not in frame.columns]
    if missing:
        raise InvalidParameterError("frame", f"expected a wide frame; missing {missing}")
    if frame.empty:
        raise InvalidParameterError("frame", "the frame has no bucket to draw")


def _bucket_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket, sorted: the frame itself, or its groups combined
    (:func:`~metrics_toolkit.frames.combine_groups`)."""
    _check_frame(frame)
    return combine_groups(frame).sort_index(kind="stable")


def _floats(values: pd.Series) -> _Floats:
    """A column as float64 with NaN for NA."""
    return pd.to_numeric(values).astype("Float64").to_numpy(dtype=np.float64, na_value=np.nan)


def _column(table: pd.DataFrame, name: str) -> _Floats:
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


def top_groups(frame: pd.DataFrame, *, top: int = 5, column: str = SESSIONS_COLUMN) -> pd.DataFrame:
    """One column per group for the ``top`` groups by total, plus one summing the rest.

    Parameters
    ----------
    frame : pandas.DataFrame
        A breakdown frame (with a group column such as ``org_id``).
    top : int, default 5
        How many groups to keep; ranked by their total of ``column`` over the frame (ties by
        label).
    column : str, default "sessions_created_count"
        An additive count column.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``bucket_start``, float64 columns named by the groups' labels (the
        ``<kind>_name`` column when there is one; ``"name (id)"`` when two groups share a
        name), largest first, then ``"other"`` when there are more than ``top`` groups.
        NaN where a group's bucket failed; "other" is NaN where any of its groups failed.
        ``attrs["group_ids"]`` maps each label to its group id.

    Raises
    ------
    InvalidParameterError
        For a frame without a group column, or ``top`` below 1.
    """
    per_group, labels = _top_group_table(frame, top=top, column=column)
    table = per_group.rename(columns=labels)
    table.attrs["group_ids"] = {labels[g]: g for g in per_group.columns if g != OTHER_LABEL}
    return table


def _top_group_table(
    frame: pd.DataFrame, *, top: int, column: str
) -> tuple[pd.DataFrame, dict[str, str]]:
    """:func:`top_groups` with id columns, and id -> label."""
    top = check_positive_int(top, "top")
    _check_frame(frame)
    group = group_column(frame)
    if group is None:
        raise InvalidParameterError("frame", "expected a breakdown frame (with a group column)")
    values = pd.DataFrame(
        {"bucket_start": frame.index, "group": frame[group].astype(str).to_numpy()}
    )
    values["value"] = _floats(frame[column])
    wide = values.pivot(index="bucket_start", columns="group", values="value").sort_index()
    wide.columns.name = None
    labels = _group_labels(frame, group)
    totals = wide.sum(axis=0, skipna=True)
    ranking = sorted(wide.columns, key=lambda g: (-totals[g], labels[g]))
    kept, rest = ranking[:top], ranking[top:]
    table = wide[kept].copy()
    if rest:
        table[OTHER_LABEL] = wide[rest].sum(axis=1, skipna=False)
    labels[OTHER_LABEL] = OTHER_LABEL
    return table, labels


def _group_labels(frame: pd.DataFrame, group: str) -> dict[str, str]:
    """id -> the name from the ``<kind>_name`` column (the id when unknown or absent)."""
    name_column = group.removesuffix("_id") + "_name"
    ids = frame[group].astype(str)
    if name_column in frame.columns:
        names = frame[name_column].astype(str).where(frame[name_column].notna(), ids)
        labels = dict(zip(ids, names, strict=True))
    else:
        labels = {group_id: group_id for group_id in ids}
    counts = pd.Series(list(labels.values())).value_counts()
    return {
        group_id: f"{label} ({group_id})" if counts[label] > 1 and label != group_id else label
        for group_id, label in labels.items()
    }


# ============================================================================================
# KPIs (pure)
# ============================================================================================


def kpi_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The last complete bucket's KPIs against the bucket before it.

    A complete bucket is neither partial, nor clipped, nor failed. A breakdown frame is
    summed over its groups first; the merged-PR rate and the ACUs per session are ratios of
    sums (merged / created, ACUs / sessions), never means of ratios.

    Parameters
    ----------
    frame : pandas.DataFrame
        A wide frame.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``metric`` (the keys of :data:`KPI_METRICS`), columns ``label``,
        ``current`` and ``previous`` (float64; the rate as a fraction 0-1), ``change``
        (``current - previous``, so percentage points / 100 for the rate) and ``change_pct``
        (``change / previous`` in percent; NaN when ``previous`` is 0 or NaN). ``previous``
        is NaN when the bucket before is missing, clipped or failed, and every value is NaN
        when the frame has no complete bucket. ``attrs`` holds ``bucket_start``,
        ``bucket_end``, ``previous_start`` (Timestamps or None), ``freq`` and ``tz``.

    Examples
    --------
    >>> import metrics_toolkit as mt
    >>> weekly = mt.MetricsClient.demo().session_metrics_frame(  # doctest: +SKIP
    ...     "2026-09-07", "2026-11-23", progress=False)
    >>> kpi_table(weekly).loc["sessions_created_count", "change_pct"]  # doctest: +SKIP
    """
    table = _bucket_table(frame)
    complete = ~(table["partial"] | table["clipped"] | table["failed"]).to_numpy(dtype=bool)
    positions = _indices(complete)
    values = _kpi_values(table)
    current = values.iloc[positions[-1]] if len(positions) else None
    previous = None
    if current is not None and positions[-1] > 0:
        before = positions[-1] - 1
        previous = values.iloc[before] if complete[before] else None
    nan = pd.Series(np.nan, index=list(KPI_METRICS))
    result = pd.DataFrame(
        {
            "label": pd.Series(KPI_METRICS),
            "current": nan if current is None else current,
            "previous": nan if previous is None else previous,
        }
    )
    result.index.name = "metric"
    result["change"] = result["current"] - result["previous"]
    denominator = result["previous"].where(result["previous"] != 0)
    result["change_pct"] = result["change"] / denominator * 100
    index = pd.DatetimeIndex(table.index)
    result.attrs = {
        "bucket_start": None if current is None else index[positions[-1]],
        "bucket_end": None if current is None else table["bucket_end"].iloc[positions[-1]],
        "previous_start": None if previous is None else index[positions[-1] - 1],
        "freq": _frequency(table).name,
        "tz": _timezone(table),
    }
    return result


def _kpi_values(table: pd.DataFrame) -> pd.DataFrame:
    """The KPI columns of a per-bucket table, float64, the average recomputed from sums."""
    values = pd.DataFrame(index=table.index)
    for metric in KPI_METRICS:
        values[metric] = _column(table, metric)
    with np.errstate(divide="ignore", invalid="ignore"):
        sessions = values[SESSIONS_COLUMN]
        values[AVERAGE_COLUMN] = (values[ACUS_COLUMN] / sessions).where(sessions > 0)
    return values


# ============================================================================================
# Buckets, labels and titles
# ============================================================================================


@dataclass(frozen=True)
class _Buckets:
    """The x axis of a chart: one position per bucket, with its flags."""

    starts: pd.DatetimeIndex
    ends: pd.DatetimeIndex
    partial: _Flags
    clipped: _Flags
    failed: _Flags
    freq: Frequency
    tz: str
    now: pd.Timestamp | None

    @classmethod
    def of(cls, table: pd.DataFrame) -> _Buckets:
        """The buckets of a per-bucket table (from :func:`_bucket_table`)."""
        now = table.attrs.get("now")
        return cls(
            starts=pd.DatetimeIndex(table.index),
            ends=pd.DatetimeIndex(table["bucket_end"]),
            partial=table["partial"].to_numpy(dtype=bool),
            clipped=table["clipped"].to_numpy(dtype=bool),
            failed=table["failed"].to_numpy(dtype=bool),
            freq=_frequency(table),
            tz=_timezone(table),
            now=None if now is None else pd.Timestamp(now),
        )

    @property
    def positions(self) -> npt.NDArray[np.float64]:
        return np.arange(len(self.starts), dtype=np.float64)

    @property
    def incomplete(self) -> _Flags:
        """Partial or clipped: drawn hatched or dashed."""
        return self.partial | self.clipped


def _timezone(frame: pd.DataFrame) -> str:
    zone = frame.attrs.get("tz")
    if zone:
        return str(zone)
    return str(pd.DatetimeIndex(frame.index).tz or "UTC")


def _frequency(frame: pd.DataFrame) -> Frequency:
    """``attrs["freq"]`` parsed, else inferred from the lengths of unclipped buckets."""
    freq = frame.attrs.get("freq")
    if freq is not None:
        try:
            return parse_freq(freq)
        except InvalidParameterError:
            pass
    lengths = pd.DatetimeIndex(frame["bucket_end"]) - pd.DatetimeIndex(frame.index)
    whole = lengths[~frame["clipped"].to_numpy(dtype=bool)]
    seconds = float((whole if len(whole) else lengths).median().total_seconds())
    days = seconds / SECONDS_PER_DAY
    for label, low, high in (
        ("day", 0.95, 1.05),
        ("week", 6.9, 7.1),
        ("month", 27.9, 31.1),
        ("quarter", 88.9, 92.1),
        ("year", 364.9, 366.1),
    ):
        if low <= days <= high:
            return Frequency(label)
    return Frequency("fixed", seconds=max(1, round(seconds)))


def _day_month(stamp: pd.Timestamp) -> str:
    return f"{stamp.day} {MONTH_NAMES[stamp.month - 1]}"


def _weekday_day_month(stamp: pd.Timestamp) -> str:
    return f"{WEEKDAY_NAMES[stamp.weekday()]} {_day_month(stamp)}"


def _bucket_label(stamp: pd.Timestamp, freq: Frequency, previous: pd.Timestamp | None) -> str:
    """A tick label for a bucket starting at ``stamp``; ``previous`` is the last labelled one.

    A day ``"Mon 3 Nov"``, a week ``"3 Nov"`` (with the year when it changes), a month
    ``"Nov 2026"``, a quarter ``"2026 Q4"``, a year ``"2026"``; hours ``"06:00"``, with the
    day on the first label of each day.
    """
    label = freq.label
    if label == "week":
        new_year = previous is not None and previous.year != stamp.year
        return _day_month(stamp) + (f" {stamp.year}" if new_year else "")
    if label == "month":
        return f"{MONTH_NAMES[stamp.month - 1]} {stamp.year}"
    if label == "quarter":
        return f"{stamp.year} Q{stamp.quarter}"
    if label == "year":
        return str(stamp.year)
    if freq.seconds is not None and freq.seconds < SECONDS_PER_DAY:
        time = f"{stamp.hour:02d}:{stamp.minute:02d}"
        if previous is None or previous.date() != stamp.date():
            return f"{time}\n{_weekday_day_month(stamp)}"
        return time
    return _weekday_day_month(stamp)


def _label_positions(buckets: _Buckets, most: int) -> list[int]:
    """Which buckets get a tick label: all of them, or every k-th (days: Mondays, weekly)."""
    count = len(buckets.starts)
    step = math.ceil(count / max(1, most))
    if step <= 1:
        return list(range(count))
    first = 0
    if buckets.freq.label == "day":
        step = 7 * math.ceil(step / 7)
        mondays = [i for i, start in enumerate(buckets.starts) if start.weekday() == 0]
        first = mondays[0] if mondays else 0
    return list(range(first, count, step))


def _labels_that_fit(ax: Axes, buckets: _Buckets) -> int:
    """How many tick labels fit side by side across ``ax`` (at most MAX_DATE_LABELS).

    The widest label is measured at the tick font; the axes' width is its current one, less
    the room a legend on the right will take.
    """
    font = FontProperties(size=plt.rcParams["xtick.labelsize"])
    widest = max(
        _TEXT_TO_PATH.get_text_width_height_descent(line, font, ismath=False)[0]
        for stamp in buckets.starts
        for line in _bucket_label(stamp, buckets.freq, None).splitlines()
    )
    width = ax.bbox.width * 72 / ax.figure.dpi * PLOT_SHARE  # points
    per_label = widest + LABEL_GAP_EM * font.get_size_in_points()
    return min(MAX_DATE_LABELS, max(2, math.floor(width / per_label)))


def _window(buckets: _Buckets) -> str:
    """The dates the buckets cover, inclusive: ``"1 Jun – 24 Nov 2026"``."""
    return _date_span(buckets.starts[0], buckets.ends[-1])


def _date_span(start: pd.Timestamp, end: pd.Timestamp) -> str:
    """The dates of ``[start, end)``, inclusive: ``"16 – 22 Nov 2026"``, ``"3 Nov 2026"``."""
    last = end - pd.Timedelta(seconds=1)
    if start.date() == last.date():
        return f"{_day_month(start)} {start.year}"
    if start.year != last.year:
        return f"{_day_month(start)} {start.year} – {_day_month(last)} {last.year}"
    if start.month == last.month:
        return f"{start.day} – {_day_month(last)} {last.year}"
    return f"{_day_month(start)} – {_day_month(last)} {last.year}"


def _unit(freq: Frequency) -> str:
    """The bucket in words: ``"week"``, ``"month"``, ``"hour"``, ``"6h"``."""
    if freq.seconds is None:
        return freq.label
    return "hour" if freq.seconds == 3600 else freq.name


def _title(ax: Axes, what: str, buckets: _Buckets) -> None:
    """``"<what> per week, 1 Jun – 24 Nov 2026 (Europe/Berlin)"``, left-aligned."""
    ax.set_title(f"{what} per {_unit(buckets.freq)}, {_window(buckets)} ({buckets.tz})", loc="left")


# ============================================================================================
# Drawing helpers
# ============================================================================================


def _new_axes(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    """``ax``, or the Axes of a new figure (constrained layout: nothing clipped)."""
    if ax is not None:
        return ax
    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _date_axis(ax: Axes, buckets: _Buckets) -> None:
    """One position per bucket, a minor tick on each, labels on a readable subset."""
    positions = _label_positions(buckets, _labels_that_fit(ax, buckets))
    labels: list[str] = []
    previous: pd.Timestamp | None = None
    for position in positions:
        stamp = buckets.starts[position]
        labels.append(_bucket_label(stamp, buckets.freq, previous))
        previous = stamp
    ax.set_xticks(positions, labels)
    ax.set_xticks(buckets.positions, minor=True)
    ax.set_xlim(-0.6, len(buckets.starts) - 0.4)


def _style(ax: Axes, *, ylabel: str, percent: bool = False) -> None:
    """Y axis from 0 with headroom (for the band labels), light grid, formatted ticks."""
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, ax.get_ylim()[1] * HEADROOM)
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    if percent:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    else:
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def _legend(ax: Axes, *, reverse: bool = False) -> None:
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


def _line(
    ax: Axes, buckets: _Buckets, values: _Floats, *, color: str, label: str
) -> tuple[Line2D, Line2D | None]:
    """A series as a solid line over complete buckets and a dashed one into incomplete ones.

    NaN values (failed buckets, undefined rates) are gaps. Returns the solid line (NaN at
    incomplete buckets, labelled) and the dashed one (segments into and out of each
    incomplete bucket, NaN-separated, a hollow marker on the incomplete bucket itself), or
    None when every bucket is complete.
    """
    incomplete = buckets.incomplete
    x = buckets.positions
    solid_values = np.where(incomplete, np.nan, values)
    (solid,) = ax.plot(
        x, solid_values, color=color, label=label, linewidth=1.8, marker="o", markersize=3
    )
    if not incomplete.any():
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
        markerfacecolor="white",
        markevery=marked,
    )
    return solid, dashed


def _dashed_path(
    x: _Floats, values: _Floats, incomplete: _Flags
) -> tuple[_Floats, _Floats, list[int]]:
    """The segments touching incomplete buckets as one NaN-separated path.

    Returns the path's x and y and the indices in the path of the incomplete points.
    """
    count = len(x)
    pairs = sorted(
        {
            (low, low + 1)
            for index in _indices(incomplete)
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
        runs = [[index] for index in _indices(incomplete)]
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


def _bars(
    ax: Axes, buckets: _Buckets, table: pd.DataFrame, colors: Mapping[str, str]
) -> list[BarContainer]:
    """Stacked bars, one container per column (labelled by the column), bottom first."""
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
        containers.append(container)
        bottom = bottom + np.nan_to_num(heights)
    return containers


def _hatch_incomplete(container: BarContainer, buckets: _Buckets, color: str) -> None:
    """Incomplete buckets' bars: a lightened face with hatching in the bar's colour."""
    for index in _indices(buckets.incomplete):
        patch = container.patches[index]
        patch.set_facecolor(_lighten(color, INCOMPLETE_LIGHTEN))
        patch.set_edgecolor(color)  # the hatch takes the edge colour
        patch.set_hatch(INCOMPLETE_HATCH)


def _shade_buckets(ax: Axes, buckets: _Buckets) -> None:
    """A labelled band behind each failed ("failed") and incomplete ("partial") bucket."""
    bands = [(i, FAILED_COLOR, "failed") for i in _indices(buckets.failed)]
    bands += [
        (i, INCOMPLETE_COLOR, "partial" if buckets.partial[i] else "clipped")
        for i in _indices(buckets.incomplete & ~buckets.failed)
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
        )


def _notes(buckets: _Buckets, *, marker: str, extra: Sequence[str] = ()) -> list[str]:
    """What the reader must know: incomplete and failed buckets, chart-specific caveats."""
    notes = []
    unit = _unit(buckets.freq)
    partial = _indices(buckets.partial)
    if len(partial):
        until = "" if buckets.now is None else f" (until {_format_now(buckets)})"
        if len(partial) == 1 and partial[0] == len(buckets.starts) - 1:
            notes.append(f"{marker}: last {unit} partial{until}")
        else:
            notes.append(f"{marker}: {len(partial)} {unit}s partial or in the future{until}")
    for index in _indices(buckets.clipped & ~buckets.partial):
        which = "first" if index == 0 else "last"
        span = _date_span(buckets.starts[index], buckets.ends[index])
        notes.append(f"{marker}: {which} {unit} covers {span} only")
    failed = _indices(buckets.failed)
    if len(failed):
        named = ", ".join(_day_month(buckets.starts[i]) for i in failed[:MAX_NAMED_FAILURES])
        more = ", ..." if len(failed) > MAX_NAMED_FAILURES else ""
        plural = "s" if len(failed) > 1 else ""
        notes.append(f"red band: {len(failed)} {unit}{plural} failed, no data ({named}{more})")
    return [*notes, *extra]


def _format_now(buckets: _Buckets) -> str:
    assert buckets.now is not None
    now = buckets.now.tz_convert(buckets.tz) if buckets.now.tzinfo else buckets.now
    return f"{_weekday_day_month(now)} {now.hour:02d}:{now.minute:02d}"


def _note(ax: Axes, notes: Sequence[str]) -> None:
    """The notes in small grey text just under the x tick labels, left-aligned."""
    if not notes:
        return

    def under_ticks(renderer: RendererBase) -> Bbox:
        axis = ax.xaxis.get_tightbbox(renderer) or ax.bbox
        return Bbox.from_extents(ax.bbox.x0, axis.y0, ax.bbox.x1, axis.y1)

    ax.annotate(
        "  ·  ".join(notes),
        xy=(0, 0),
        xycoords=under_ticks,
        xytext=(0, -4),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize="small",
        color=NOTE_COLOR,
        annotation_clip=False,
    )


def _finish(
    ax: Axes, buckets: _Buckets, *, marker: str, extra: Sequence[str] = (), reverse: bool = False
) -> Axes:
    """The parts every time chart shares: date axis, failed bands, legend and notes."""
    _date_axis(ax, buckets)
    _shade_buckets(ax, buckets)
    _legend(ax, reverse=reverse)
    _note(ax, _notes(buckets, marker=marker, extra=extra))
    return ax


# ============================================================================================
# Charts
# ============================================================================================


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
    >>> by_org = mt.MetricsClient.demo().session_metrics_frame(  # doctest: +SKIP
    ...     "2026-06-01", "2026-11-25", by="org", progress=False)
    >>> ax = charts.sessions_over_time(by_org, top=3)  # doctest: +SKIP
    """
    ax = _new_axes(ax)
    table = _bucket_table(frame)
    buckets = _Buckets.of(table)
    group = group_column(frame)
    if group is None:
        _line(ax, buckets, _column(table, SESSIONS_COLUMN), color=SESSIONS_COLOR, label="all")
    else:
        per_group, labels = _top_group_table(frame, top=top, column=SESSIONS_COLUMN)
        per_group = per_group.reindex(buckets.starts)
        colors = group_colors(frame[group].astype(str))
        colors[OTHER_LABEL] = OTHER_COLOR
        for group_id in per_group.columns:
            values = per_group[group_id].to_numpy(dtype=np.float64)
            _line(ax, buckets, values, color=colors[group_id], label=labels[group_id])
    _style(ax, ylabel="sessions")
    _title(ax, "Sessions created", buckets)
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
        One bar container per origin, labelled by the origin: the documented ones in the
        API's order with their :data:`ORIGIN_COLORS`, then any the server added.
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
    ax = _new_axes(ax)
    table = _bucket_table(frame)
    buckets = _Buckets.of(table)
    columns = _category_columns(table, field, order)
    categories = [c.removeprefix(field + ".") for c in columns]
    names = [c.upper() if kind == "size" else c for c in categories]
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
    _bars(ax, buckets, values, colors)
    _style(ax, ylabel="share of sessions" if share else "sessions", percent=share)
    what = f"Share of sessions by {kind}" if share else f"Sessions created by {kind}"
    _title(ax, what, buckets)
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
    ax = _new_axes(ax)
    table = _bucket_table(frame)
    buckets = _Buckets.of(table)
    if by_size:
        prefix = MERGE_RATE_COLUMN + "."
        sizes = [c.removeprefix(prefix) for c in table.columns if c.startswith(prefix)]
        ordered = [s for s in SIZES if s in sizes] + sorted(s for s in sizes if s not in SIZES)
        for size in ordered:
            color = category_color(size, SIZE_COLORS)
            values = _floats(table[prefix + size])
            _line(ax, buckets, values, color=color, label=size.upper())
    else:
        values = _column(table, MERGE_RATE_COLUMN)
        _line(ax, buckets, values, color=MERGE_RATE_COLOR, label="all sizes")
    _style(ax, ylabel="sessions with a merged PR", percent=True)
    what = "Merged-PR rate by size" if by_size else "Merged-PR rate"
    _title(ax, what, buckets)
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
    ax = _new_axes(ax)
    table = _bucket_table(frame)
    buckets = _Buckets.of(table)
    totals = pd.DataFrame({"ACUs total": _column(table, ACUS_COLUMN)}, index=table.index)
    _bars(ax, buckets, totals, {"ACUs total": ACUS_COLOR})
    average = _column(table, AVERAGE_COLUMN)
    average[~(_column(table, SESSIONS_COLUMN) > 0)] = np.nan
    right = ax.twinx()
    _line(right, buckets, average, color=AVG_ACUS_COLOR, label="ACUs per session")
    _style(ax, ylabel="ACUs total (bars)")
    _style(right, ylabel="ACUs per session (line)")
    right.spines["right"].set_visible(True)
    right.grid(False)
    right.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.1f}"))
    ax.yaxis.label.set_color(ACUS_LABEL_COLOR)
    right.yaxis.label.set_color(AVG_ACUS_COLOR)
    setattr(ax, "right_ax", right)  # noqa: B010 - pandas' name for the secondary axis
    _title(ax, "ACUs", buckets)
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
    ax = _new_axes(ax, KPI_FIGSIZE)
    table = kpi_table(frame)
    ax.set_axis_off()
    unit = _unit(parse_freq(table.attrs["freq"]))
    start, end, zone = table.attrs["bucket_start"], table.attrs["bucket_end"], table.attrs["tz"]
    if start is None:
        ax.set_title(f"No complete {unit} in the frame ({zone})", loc="left")
        return ax
    against = "against the one before"
    if table.attrs["previous_start"] is None:
        against = f"no complete {unit} before it to compare"
    ax.set_title(
        f"Last complete {unit}, {_period(start, end, unit)}, {against} ({zone})", loc="left"
    )
    for position, (metric, row) in enumerate(table.iterrows()):
        x = (position + 0.5) / len(table)
        ax.text(x, 0.85, str(row["label"]), ha="center", va="center", color=NOTE_COLOR)
        value = _format_kpi(str(metric), float(row["current"]))
        ax.text(x, 0.5, value, ha="center", va="center", fontsize="xx-large", weight="bold")
        change, color = _format_change(str(metric), row)
        ax.text(x, 0.15, change, ha="center", va="center", color=color)
    return ax


def _period(start: pd.Timestamp, end: pd.Timestamp, unit: str) -> str:
    """A bucket in words: ``"Oct 2026"``, ``"2026 Q3"``, ``"16 – 22 Nov 2026"``."""
    if unit == "month":
        return f"{MONTH_NAMES[start.month - 1]} {start.year}"
    if unit == "quarter":
        return f"{start.year} Q{start.quarter}"
    if unit == "year":
        return str(start.year)
    if unit == "day":
        return f"{_weekday_day_month(start)} {start.year}"
    return _date_span(start, end)


def _format_kpi(metric: str, value: float) -> str:
    if math.isnan(value):
        return "–"
    if metric == MERGE_RATE_COLUMN:
        return f"{value:.1%}"
    if metric == AVERAGE_COLUMN:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def _format_change(metric: str, row: pd.Series) -> tuple[str, str]:
    """``"▲ +139 (+13.1%)"`` and its colour (neutral: more ACUs is not "good")."""
    change = float(row["change"])
    if math.isnan(change):
        return "no comparison", NOTE_COLOR
    arrow = "▲" if change > 0 else "▼" if change < 0 else "="
    if metric == MERGE_RATE_COLUMN:
        absolute = f"{change * 100:+.1f} pp"
    elif metric == AVERAGE_COLUMN:
        absolute = f"{change:+,.2f}"
    else:
        absolute = f"{change:+,.0f}"
    percent = float(row["change_pct"])
    relative = "" if math.isnan(percent) else f" ({percent:+.1f}%)"
    return f"{arrow} {absolute}{relative}", CHANGE_COLOR
