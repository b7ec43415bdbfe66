"""Charts of consumption: ACUs by product in billing days, and the billing cycle's burn.

Consumption comes in billing days, 08:00 UTC to 08:00 UTC (midnight PST), and stays in them:
the x axis is labelled by the date each billing day (or billing week, Monday 08:00 UTC) starts
in UTC, and says so; a frame moved to another zone is refused, never relabelled. An amount of
money is drawn only when the caller gives a price per ACU; the toolkit never invents one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from .._vocabulary import (
    ACUS,
    ACUS_BY_PRODUCT,
    BILLING_CALENDAR,
    BILLING_DAY,
    BILLING_DAY_START,
    PRODUCT_LABELS,
    product_label,
)
from ..combine import group_column
from ..errors import InvalidParameterError
from ..labels import date_span, day_month
from ..summaries import check_wide_frame, floats, top_groups
from ._axis import BucketAxis, date_axis, fitted, note, notes
from ._draw import (
    FALLBACK_COLORS,
    bars,
    category_color,
    group_colors,
    new_axes,
    shade_buckets,
    style,
)
from ._family import axis_table
from ._tables import bucket_table, category_columns, scope_text, to_floats

__all__ = ["PRODUCT_COLORS", "PROJECTION_LABEL", "consumption_by_product", "cycle_burn"]

#: One colour per documented product, the same in every chart.
PRODUCT_COLORS: dict[str, str] = {
    "devin": "#1f77b4",
    "cascade": "#ff7f0e",
    "terminal": "#2ca02c",
    "review": "#9467bd",
}
#: The label of the dashed line that extends the current cycle to its end.
PROJECTION_LABEL = "projection"
CURRENT_COLOR = "#d62728"
#: Previous cycles, the most recent darkest.
PREVIOUS_GREYS = ("#525252", "#8c8c8c", "#b5b5b5", "#d0d0d0")
_UTC = "UTC"


def _check_billing(frame: pd.DataFrame) -> None:
    """Refuse a frame that is not consumption in UTC billing days (or their rollups)."""
    check_wide_frame(frame)
    if ACUS not in frame.columns:
        raise InvalidParameterError("frame", "expected consumption: fetch_consumption(...)")
    starts = pd.DatetimeIndex(frame.index)
    if frame.attrs.get("calendar") != BILLING_CALENDAR or str(starts.tz) != _UTC:
        raise InvalidParameterError(
            "frame",
            f"consumption is drawn in {BILLING_CALENDAR} only, never relabelled to another "
            "zone: pass fetch_consumption(...) (or its rollup) as it comes",
        )
    seconds = (starts - starts.normalize()).total_seconds()
    clipped = frame["clipped"].to_numpy(dtype=bool)
    if np.any((seconds != BILLING_DAY_START) & ~clipped):
        raise InvalidParameterError("frame", f"a bucket does not start a {BILLING_CALENDAR}")


def _billing_finish(ax: Axes, buckets: BucketAxis) -> Axes:
    """The date axis labelled as billing days, the bands and notes."""
    date_axis(ax, buckets)
    ax.set_xlabel(f"{BILLING_CALENDAR}: each labelled by the UTC date it starts")
    shade_buckets(ax, buckets)
    extra = ["a clipped billing day holds the whole day's ACUs"] if buckets.clipped.any() else []
    note(ax, [fitted(ax, "  ·  ".join(notes(buckets, marker="hatched", extra=extra)))])
    return ax


def consumption_by_product(frame: pd.DataFrame, *, top: int = 5, ax: Axes | None = None) -> Axes:
    """ACUs per billing day (or billing week, month) as stacked bars, by product.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`~metrics_toolkit.periods.fetch_consumption`, or its
        :func:`~metrics_toolkit.frames.rollup` (billing weeks start Monday 08:00 UTC). A
        frame by organization, user or service user stacks its groups instead: the ``top``
        by ACUs, then "other" (their sum); an organization's days hold only Devin's ACUs.
    top : int, default 5
        Groups stacked on their own, 1 or more.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One bar container per product (``"Devin"``, ``"Cascade"``, ...; colours
        :data:`PRODUCT_COLORS`) or group, heights in ACUs; the x axis labelled by each
        billing day's UTC start date and titled ``"ACUs by product per day, ... (billing days
        (08:00 UTC))"``.

    Raises
    ------
    InvalidParameterError
        For a frame that is not consumption in UTC billing days.
    """
    _check_billing(frame)
    ax = new_axes(ax)
    if group_column(frame) is None:
        table = bucket_table(frame)
        columns = category_columns(table, ACUS_BY_PRODUCT, tuple(PRODUCT_LABELS))
        products = [c.removeprefix(ACUS_BY_PRODUCT + ".") for c in columns]
        values = pd.DataFrame(
            {product_label(p): to_floats(table[c]) for p, c in zip(products, columns, strict=True)},
            index=table.index,
        )
        colors = {product_label(p): category_color(p, PRODUCT_COLORS) for p in products}
        what, scope = "ACUs by product", ""
    else:
        table = axis_table(frame)
        ranked = top_groups(frame, top=top, column=ACUS).reindex(table.index)
        values = ranked.rename(columns=str)
        ids: dict[str, str] = ranked.attrs["group_ids"]
        by_id = group_colors(frame[str(group_column(frame))].astype(str))
        colors = {
            label: by_id[ids[label]] if label in ids else FALLBACK_COLORS[-1]
            for label in values.columns
        }
        what, scope = "ACUs", scope_text(frame, combined=False)
    buckets = BucketAxis.of(table)
    bars(ax, buckets, values, colors)
    style(ax, ylabel="ACUs")
    # plain swatches: a container's first bar may be hatched (a clipped day), not its colour
    handles = [Patch(facecolor=colors[label], label=label) for label in values.columns[::-1]]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False,
              fontsize="small")  # fmt: skip
    ax.set_title(
        f"{what} per billing {buckets.unit}{scope}, {_billing_window(buckets)}; {BILLING_CALENDAR}",
        loc="left",
    )
    return _billing_finish(ax, buckets)


def _billing_window(buckets: BucketAxis) -> str:
    """The billing days drawn, by their UTC start dates: ``"31 Oct – 25 Nov 2026"``."""
    last_start = buckets.ends[-1] - pd.Timedelta(seconds=BILLING_DAY_START)
    return date_span(buckets.starts[0].normalize(), last_start)


# -- the billing cycle -------------------------------------------------------------------------


def _span(cycle: Any) -> tuple[int, int]:
    """A cycle's ``[after, before)`` in Unix seconds: a ``ConsumptionCycle`` or a pair."""
    if hasattr(cycle, "after") and hasattr(cycle, "before"):
        return int(cycle.after), int(cycle.before)
    after, before = cycle
    return int(after), int(before)


def _check_price(acu_price: float | None) -> float | None:
    """A price per ACU: a finite number above 0, or None."""
    if acu_price is None:
        return None
    if isinstance(acu_price, bool) or not isinstance(acu_price, int | float):
        raise InvalidParameterError("acu_price", f"expected a number, got {acu_price!r}")
    if not math.isfinite(acu_price) or acu_price <= 0:
        raise InvalidParameterError("acu_price", f"expected a price above 0, got {acu_price!r}")
    return float(acu_price)


def _cumulative(frame: pd.DataFrame, after: int, before: int) -> tuple[Any, Any, Any]:
    """A cycle's days: x (billing days since its start, at each day's end), cumulative ACUs
    (NaN from a failed day on) and whether each day is partial."""
    seconds = np.asarray(pd.DatetimeIndex(frame.index).as_unit("s").asi8)
    inside = (seconds >= after) & (seconds < before)
    days = frame[inside].sort_index()
    acus = floats(days[ACUS]).where(~days["failed"].to_numpy(dtype=bool))
    x = (seconds[inside][np.argsort(seconds[inside])] - after) / BILLING_DAY + 1
    return x, np.cumsum(acus.to_numpy(dtype=np.float64)), days["partial"].to_numpy(dtype=bool)


def cycle_burn(
    frame: pd.DataFrame,
    cycles: Sequence[Any],
    *,
    previous: int = 3,
    acu_price: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Cumulative ACUs of the current billing cycle against the cycles before, with a projection.

    Parameters
    ----------
    frame : pandas.DataFrame
        :func:`~metrics_toolkit.periods.fetch_consumption` of the whole scope (not by group),
        in billing days, covering the cycles to draw; ``attrs["now"]`` (when the data was
        read) picks the current cycle.
    cycles : sequence
        The billing cycles (``client.billing_cycles()``: objects with ``after`` and
        ``before``, or ``(after, before)`` pairs; Unix seconds, half-open).
    previous : int, default 3
        Cycles before the current one drawn, 0 or more; a cycle the frame does not cover is
        left out, and the title counts those drawn.
    acu_price : float, optional
        A price per ACU, above 0: the axis shows cumulative cost (ACUs x price) in the
        price's unit. Without it, ACUs only; no amount of money is ever assumed.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        x: billing days since the cycle's start (a point at each day's end); y: the
        cumulative sum. The current cycle in red (its partial day dashed), each previous one
        in grey labelled by its dates, and a dashed ``"projection"`` line from the last
        complete day to the cycle's end at the mean rate of the cycle's complete days, its
        value written at the end.

    Raises
    ------
    InvalidParameterError
        For a frame that is not consumption in billing days, a grouped frame, no cycle
        holding ``attrs["now"]``, ``previous`` below 0 or a price that is not above 0.
    Examples
    --------
    >>> import metrics_toolkit as mt
    >>> from metrics_toolkit import charts
    >>> from metrics_toolkit.periods import fetch_consumption
    >>> client = mt.MetricsClient.demo(now="2026-11-25T10:00")
    >>> days = fetch_consumption(client, "2026-08-01", "2026-11-25T10:00")
    >>> ax = charts.cycle_burn(days, client.billing_cycles(), acu_price=2.25)
    >>> ax.get_ylabel()
    'cumulative cost at 2.25 per ACU'
    """
    _check_billing(frame)
    if group_column(frame) is not None:
        raise InvalidParameterError("frame", "the cycle's burn is of one scope: fetch without by=")
    price = _check_price(acu_price)
    if isinstance(previous, bool) or not isinstance(previous, int) or previous < 0:
        raise InvalidParameterError("previous", f"expected 0 or more, got {previous!r}")
    now_attr = frame.attrs.get("now")
    now = pd.Timestamp(now_attr) if now_attr is not None else pd.Timestamp.now(tz=_UTC)
    moment = int(now.timestamp())
    spans = sorted(_span(cycle) for cycle in cycles)
    current = next(((a, b) for a, b in spans if a <= moment < b), None)
    if current is None:
        raise InvalidParameterError("cycles", f"no cycle holds now ({now.isoformat()})")
    earlier = [(a, b) for a, b in spans if b <= current[0]][-previous:] if previous else []
    scale = price or 1.0
    ax = new_axes(ax)
    drawn = 0
    for rank, (after, before) in enumerate(reversed(earlier)):
        x, total, _ = _cumulative(frame, after, before)
        if len(x):
            drawn += 1
            label = f"cycle {_cycle_text(after, before)}"
            color = PREVIOUS_GREYS[min(rank, len(PREVIOUS_GREYS) - 1)]
            ax.plot([0, *x], [0, *(total * scale)], color=color, linewidth=1.4, label=label)
    after, before = current
    x, total, partial = _cumulative(frame, after, before)
    done = ~partial
    label = f"current cycle {_cycle_text(after, before)}"
    ax.plot([0, *x[done]], [0, *(total[done] * scale)], color=CURRENT_COLOR, linewidth=2.2,
            label=label, marker="o", markersize=2.5)  # fmt: skip
    last_x, last_y = (float(x[done][-1]), float(total[done][-1])) if done.any() else (0.0, 0.0)
    if partial.any():
        tail_x, tail_y = [last_x, *x[partial]], [last_y * scale, *(total[partial] * scale)]
        ax.plot(
            tail_x, tail_y, color=CURRENT_COLOR, linewidth=2.2, linestyle="--", label="_partial"
        )
    length = (before - after) / BILLING_DAY
    if done.any() and not math.isnan(last_y):
        end_value = last_y + last_y / last_x * (length - last_x)
        ax.plot([last_x, length], [last_y * scale, end_value * scale], color=CURRENT_COLOR,
                linestyle="--", linewidth=1.2, label=PROJECTION_LABEL)  # fmt: skip
        unit = f" at {price:,.2f} per ACU" if price else " ACUs"
        ax.annotate(f"{PROJECTION_LABEL}: {end_value * scale:,.0f}{unit}",
                    (length, end_value * scale), xytext=(-4, 6), textcoords="offset points",
                    ha="right", fontsize="small", color=CURRENT_COLOR)  # fmt: skip
    ax.set_xlim(0, length)
    ax.set_xlabel(f"{BILLING_CALENDAR} since the cycle's start")
    ylabel = f"cumulative cost at {price:,.2f} per ACU" if price else "cumulative ACUs"
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, ax.get_ylim()[1] * 1.08)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.grid(axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize="small")
    what = "Cost" if price else "ACUs"
    ax.set_title(
        f"{what} of the billing cycle {_cycle_text(after, before)} against the "
        f"{drawn} before; {BILLING_CALENDAR}",
        loc="left",
    )
    return ax


def _cycle_text(after: int, before: int) -> str:
    """A cycle's days: ``"1 Nov – 30 Nov 2026"`` (billing days, by their UTC start)."""
    start = pd.Timestamp(after, unit="s", tz=_UTC)
    end = pd.Timestamp(before, unit="s", tz=_UTC)
    return date_span(start.normalize(), end.normalize()) if end > start else day_month(start)
