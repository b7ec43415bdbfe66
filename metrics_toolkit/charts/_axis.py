"""The x axis of a time chart: one position per bucket, its tick labels, the title and notes.

:class:`BucketAxis` reads a per-bucket table (its starts, ends, flags, frequency and time
zone); the functions here label the axis with a readable subset of buckets, state the window
in the title and explain incomplete and failed buckets in a note under the axis. Every date is
written by :mod:`metrics_toolkit.labels`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import numpy.typing as npt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backend_bases import RendererBase
from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath
from matplotlib.transforms import Bbox

from .._constants import MIN_SESSIONS
from .._vocabulary import BUCKET_END
from ..buckets import Frequency
from ..labels import (
    bucket_label,
    bucket_unit,
    date_span,
    day_month,
    moment_label,
    partial_note,
)
from ..summaries import frame_frequency, frame_tz
from ._draw import NOTE_COLOR, Flags, indices

__all__ = ["HOLLOW_NOTE", "BucketAxis", "date_axis", "fitted", "note", "notes", "title"]

#: Most labelled ticks on the date axis; fewer when they would not fit side by side.
MAX_DATE_LABELS = 13
#: Least gap between two tick labels, in em.
LABEL_GAP_EM = 1.5
#: Share of the axes' width left for the plot once a legend on the right takes its room.
PLOT_SHARE = 0.85
#: Failed buckets named in the note before "...".
MAX_NAMED_FAILURES = 3
#: The note of a chart with hollow points or bars: rates or shares over too few sessions.
HOLLOW_NOTE = f"hollow: fewer than {MIN_SESSIONS} sessions, too few to read"

_TEXT_TO_PATH = TextToPath()


@dataclass(frozen=True)
class BucketAxis:
    """The x axis of a chart: one position per bucket, with its flags."""

    starts: pd.DatetimeIndex
    """Each bucket's start, tz-aware."""
    ends: pd.DatetimeIndex
    """Each bucket's end (excluded)."""
    partial: Flags
    """The bucket reaches past "now": its numbers still grow."""
    clipped: Flags
    """The requested range cuts the bucket."""
    failed: Flags
    """The bucket has no answer (or a group's row is missing)."""
    freq: Frequency
    """The buckets' frequency, from ``attrs["freq"]`` or their lengths."""
    tz: str
    """The calendar's time zone."""
    now: pd.Timestamp | None
    """When the data was read (``attrs["now"]``), for the partial note."""

    @classmethod
    def of(cls, table: pd.DataFrame) -> BucketAxis:
        """The buckets of a per-bucket table (one row per bucket, sorted)."""
        now = table.attrs.get("now")
        return cls(
            starts=pd.DatetimeIndex(table.index),
            ends=pd.DatetimeIndex(table[BUCKET_END]),
            partial=table["partial"].to_numpy(dtype=bool),
            clipped=table["clipped"].to_numpy(dtype=bool),
            failed=table["failed"].to_numpy(dtype=bool),
            freq=frame_frequency(table),
            tz=frame_tz(table),
            now=None if now is None else pd.Timestamp(now),
        )

    @property
    def positions(self) -> npt.NDArray[np.float64]:
        """The x position of each bucket: 0, 1, 2, ..."""
        return np.arange(len(self.starts), dtype=np.float64)

    @property
    def incomplete(self) -> Flags:
        """Partial or clipped: drawn hatched or dashed."""
        return self.partial | self.clipped

    @property
    def unit(self) -> str:
        """A bucket in words: ``"week"``, ``"hour"``, ``"6h"``."""
        return bucket_unit(self.freq)

    @property
    def window(self) -> str:
        """The dates the buckets cover, inclusive: ``"1 Jun – 24 Nov 2026"``."""
        return date_span(self.starts[0], self.ends[-1])


def _label_positions(buckets: BucketAxis, most: int) -> list[int]:
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


def _labels_that_fit(ax: Axes, buckets: BucketAxis) -> int:
    """How many tick labels fit side by side across ``ax`` (at most MAX_DATE_LABELS).

    The widest label is measured at the tick font; the axes' width is its current one, less
    the room a legend on the right will take.
    """
    font = FontProperties(size=plt.rcParams["xtick.labelsize"])
    widest = max(
        _TEXT_TO_PATH.get_text_width_height_descent(text, font, ismath=False)[0]
        for stamp in buckets.starts
        for text in bucket_label(stamp, buckets.freq, None).splitlines()
    )
    width = ax.bbox.width * 72 / ax.figure.dpi * PLOT_SHARE  # points
    per_label = widest + LABEL_GAP_EM * font.get_size_in_points()
    return min(MAX_DATE_LABELS, max(2, math.floor(width / per_label)))


def date_axis(ax: Axes, buckets: BucketAxis) -> None:
    """One position per bucket, a minor tick on each, labels on a readable subset."""
    positions = _label_positions(buckets, _labels_that_fit(ax, buckets))
    tick_labels: list[str] = []
    previous: pd.Timestamp | None = None
    for position in positions:
        stamp = buckets.starts[position]
        tick_labels.append(bucket_label(stamp, buckets.freq, previous))
        previous = stamp
    ax.set_xticks(positions, tick_labels)
    ax.set_xticks(buckets.positions, minor=True)
    ax.set_xlim(-0.6, len(buckets.starts) - 0.4)


def title(ax: Axes, what: str, buckets: BucketAxis, scope: str = "") -> None:
    """``"<what> per week<scope>, 1 Jun – 24 Nov 2026 (Europe/Berlin)"``, left-aligned.

    ``scope`` says whose numbers these are, for a breakdown frame: ``" by organization"``,
    ``", Platform and Growth combined"`` (see :func:`~._tables.scope_text`).
    """
    ax.set_title(f"{what} per {buckets.unit}{scope}, {buckets.window} ({buckets.tz})", loc="left")


def notes(
    buckets: BucketAxis, *, marker: str, extra: Sequence[str] = (), hollow: bool = False
) -> list[str]:
    """What the reader must know: incomplete and failed buckets, chart-specific caveats.

    ``marker`` names how incomplete buckets are drawn (``"dashed"``, ``"hatched"``);
    ``hollow`` adds :data:`HOLLOW_NOTE` (some point or bar rests on too few sessions). A
    partial last bucket is the current one, as the report names it
    (:func:`~metrics_toolkit.labels.partial_note`): ``"dashed: current week (W48) partial:
    data until Wed 25 Nov 04:00"``.
    """
    found = []
    unit = buckets.unit
    partial = indices(buckets.partial)
    if len(partial) == 1 and partial[0] == len(buckets.starts) - 1:
        start, end = buckets.starts[-1], buckets.ends[-1]
        found.append(f"{marker}: {partial_note(start, end, unit, buckets.now)}")
    elif len(partial):
        until = "" if buckets.now is None else f": data until {_now_label(buckets)}"
        found.append(f"{marker}: {len(partial)} {unit}s partial or in the future{until}")
    for index in indices(buckets.clipped & ~buckets.partial):
        which = "first" if index == 0 else "last"
        span = date_span(buckets.starts[index], buckets.ends[index])
        found.append(f"{marker}: {which} {unit} covers {span} only")
    failed = indices(buckets.failed)
    if len(failed):
        named = ", ".join(day_month(buckets.starts[i]) for i in failed[:MAX_NAMED_FAILURES])
        more = ", ..." if len(failed) > MAX_NAMED_FAILURES else ""
        plural = "s" if len(failed) > 1 else ""
        found.append(f"red band: {len(failed)} {unit}{plural} failed, no data ({named}{more})")
    if hollow:
        found.append(HOLLOW_NOTE)
    return [*found, *extra]


def _now_label(buckets: BucketAxis) -> str:
    """The data's "now" in the axis' time zone, without the year: ``"Wed 25 Nov 04:00"``."""
    assert buckets.now is not None
    now = buckets.now.tz_convert(buckets.tz) if buckets.now.tzinfo else buckets.now
    return moment_label(now, year=False)


def fitted(ax: Axes, text: str, fontsize: str = "small") -> str:
    """``text`` broken into lines (at spaces) that fit across ``ax`` at ``fontsize``.

    The width is the axes' current one (constrained layout only widens it later); a word
    longer than the width keeps a line to itself.
    """
    font = FontProperties(size=fontsize)
    width = ax.bbox.width * 72 / ax.figure.dpi  # points

    def measure(line: str) -> float:
        return float(_TEXT_TO_PATH.get_text_width_height_descent(line, font, ismath=False)[0])

    lines: list[str] = []
    for word in text.split():
        if lines and measure(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return "\n".join(lines)


def note(ax: Axes, lines: Sequence[str]) -> None:
    """The notes in small grey text just under the x tick labels, left-aligned."""
    if not lines:
        return

    def under_ticks(renderer: RendererBase) -> Bbox:
        axis = ax.xaxis.get_tightbbox(renderer) or ax.bbox
        return Bbox.from_extents(ax.bbox.x0, axis.y0, ax.bbox.x1, axis.y1)

    ax.annotate(
        "  ·  ".join(lines),
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
