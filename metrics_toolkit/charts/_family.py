"""Charts of the metrics family beyond sessions: active users, PR outcomes and categories.

The same conventions as every chart (see :mod:`metrics_toolkit.charts`): a frame in, ``ax=None``,
the Axes out, never fetching; one position per bucket, incomplete buckets dashed or hatched,
failed ones a red band. What these add:

- **Active users are distinct counts**: a grouped frame is one line per group (the ``top``
  groups; the rest are not drawn, because their union cannot be computed from their counts),
  and a total of the groups is refused. Monthly active users and stickiness (the mean daily
  active users of a UTC month over its monthly active users, 0 to 1) come from the native
  lists (:func:`~metrics_toolkit.periods.fetch_active_user_periods`).
- **PR outcomes add up**: a bucket's PRs created are merged + closed unmerged + still open, so
  the bars stack to the PRs created; the share of decided PRs that merged is a ratio of sums,
  merged / (merged + closed), and a bucket that ended less than the settle period before the
  data was read is marked :data:`~metrics_toolkit.labels.PROVISIONAL_MARK` (its open PRs are
  still being merged or closed).
- **Categories** are a tidy frame (:func:`~metrics_toolkit.tables.category_frame`): sessions
  add up over buckets and subcategories, drawn as horizontal bars.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from .._constants import DEFAULT_SETTLE_PERIOD, MIN_SESSIONS
from .._vocabulary import (
    ACTIVE_USERS,
    ACTIVE_USERS_LABEL,
    BUCKET_END,
    BUCKET_START,
    MERGED_OF_CLOSED_LABEL,
    OTHER_LABEL,
    PR_OUTCOME_LABELS,
    PRS_CLOSED,
    PRS_MERGED,
    PRS_TAKEN_OVER,
    ROW_FLAGS,
    STICKINESS_LABEL,
)
from ..combine import group_column
from ..errors import InvalidParameterError
from ..labels import (
    PROVISIONAL_MARK,
    date_span,
    duration_text,
    partial_note,
)
from ..summaries import check_wide_frame, floats, frame_tz, is_provisional, top_groups
from ._axis import BucketAxis, date_axis, fitted, note, notes, title
from ._draw import Flags, Floats, bars, group_colors, line, new_axes, shade_buckets, style
from ._tables import breakdown_kind, bucket_table, column, scope_text

__all__ = [
    "OUTCOME_COLORS",
    "active_users",
    "axis_table",
    "categories",
    "pair_legend",
    "pr_outcomes",
    "stickiness",
]

#: The colour of each PR outcome (the bars) and of the taken-over line.
OUTCOME_COLORS: dict[str, str] = {
    "merged": "#2ca02c",
    "closed unmerged": "#d62728",
    "still open": "#c7c7c7",
    "taken over": "#9467bd",
}
ACTIVE_COLOR = "#1f77b4"
MONTHLY_COLOR = "#ff7f0e"
STICKINESS_COLOR = "#2ca02c"
SHARE_COLOR = "#1f1f1f"
CATEGORY_COLOR = "#4c72b0"
#: The separator of a category and its subcategory in a bar's label.
SUBCATEGORY_SEPARATOR = " › "
_UTC = "UTC"


# -- shared parts ----------------------------------------------------------------------------


def axis_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per bucket of ``frame`` (its end and flags), without combining any value.

    A bucket of a grouped frame is ``failed`` when any group's row failed; its ``partial`` and
    ``clipped`` flags are the same for every group.
    """
    check_wide_frame(frame)
    rows = frame.groupby(level=0, sort=True)
    table = pd.concat([rows[BUCKET_END].first(), rows[list(ROW_FLAGS)].any()], axis=1)
    table.index.name = BUCKET_START
    table.attrs = dict(frame.attrs)
    return table


def pair_legend(ax: Axes, right: Axes) -> None:
    """One legend for an Axes and its twin, outside on the right, past the twin's ticks."""
    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = right.get_legend_handles_labels()
    ax.legend(
        [*handles, *more_handles], [*labels, *more_labels], loc="upper left",
        bbox_to_anchor=(1.09, 1.0), frameon=False, fontsize="small",
    )  # fmt: skip


def _twin(ax: Axes, *, ylabel: str) -> Axes:
    """A right axis of fractions 0-1 (shown as percent), its spine visible, no grid."""
    right = ax.twinx()
    style(right, ylabel=ylabel, percent=True)
    right.set_ylim(0, 1.0)
    right.spines["right"].set_visible(True)
    right.grid(False)
    return right


def _finish(ax: Axes, buckets: BucketAxis, *, marker: str, extra: list[str]) -> Axes:
    """Date axis, failed and incomplete bands, and the notes under the axis."""
    date_axis(ax, buckets)
    shade_buckets(ax, buckets)
    note(ax, [fitted(ax, "  ·  ".join(notes(buckets, marker=marker, extra=extra)))])
    return ax


def _need(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    """Refuse a frame without ``columns``, naming the call that gives them."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidParameterError("frame", f"missing {missing}; expected {source}")


def _utc_months(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The start of the UTC month each stamp falls in (naive, for matching)."""
    naive = index.tz_convert(_UTC).tz_localize(None)
    return pd.DatetimeIndex(naive.to_period("M").to_timestamp())


# -- active users ----------------------------------------------------------------------------


def stickiness(daily: pd.DataFrame, monthly: pd.DataFrame) -> pd.Series:
    """Stickiness per UTC month: the mean daily active users of the month over its monthly ones.

    Parameters
    ----------
    daily : pandas.DataFrame
        Active users per UTC day (:func:`~metrics_toolkit.periods.fetch_active_user_periods`
        with ``freq="day"``). Failed days are left out of the mean; a month's mean is over the
        days the frame holds of it.
    monthly : pandas.DataFrame
        Active users per UTC month (``freq="month"``).

    Returns
    -------
    pandas.Series
        Indexed like ``monthly``, a fraction 0 to 1 (DAU/MAU); NaN for a month without a day
        in ``daily`` or without monthly active users. Never a sum of distinct counts.

    Raises
    ------
    InvalidParameterError
        For frames that are not active users per UTC day and per UTC month.
    """
    for frame, freq, name in ((daily, "day", "daily"), (monthly, "month", "monthly")):
        check_wide_frame(frame)
        _need(frame, (ACTIVE_USERS,), "fetch_active_user_periods(...)")
        if frame.attrs.get("freq") != freq or frame_tz(frame) != _UTC:
            raise InvalidParameterError(
                name, f"expected active users per UTC {freq}: fetch_active_user_periods(...)"
            )
    days = floats(daily[ACTIVE_USERS]).where(~daily["failed"].to_numpy(dtype=bool))
    mean = days.groupby(_utc_months(pd.DatetimeIndex(daily.index))).mean()
    mau = floats(monthly[ACTIVE_USERS])
    mau = mau.where(mau > 0)
    ratio = mean.reindex(_utc_months(pd.DatetimeIndex(monthly.index))).to_numpy() / mau
    return pd.Series(ratio.to_numpy(dtype=np.float64), index=monthly.index, name=STICKINESS_LABEL)


def _by_month(values: pd.Series, starts: pd.DatetimeIndex) -> Floats:
    """Each bucket's value of the UTC month its start falls in (NaN where none)."""
    months = pd.Series(floats(values).to_numpy(), index=_utc_months(pd.DatetimeIndex(values.index)))
    months = months[~months.index.duplicated()]
    return months.reindex(_utc_months(starts)).to_numpy(dtype=np.float64, na_value=np.nan)


def active_users(
    frame: pd.DataFrame,
    *,
    monthly: pd.DataFrame | None = None,
    daily: pd.DataFrame | None = None,
    top: int = 5,
    total: bool = False,
    ax: Axes | None = None,
) -> Axes:
    """Distinct active users per bucket: one line, or one per group; with monthly ones beside.

    Parameters
    ----------
    frame : pandas.DataFrame
        Active users per bucket: ``fetch_series(..., metric="active_users")`` (any calendar)
        or :func:`~metrics_toolkit.periods.fetch_active_user_periods` (UTC). A grouped frame
        (``by="org"``) draws one line per group for the ``top`` groups (ranked by their
        active users over the frame); the others are not drawn and the note says so: a
        group's users may be active in another, so distinct counts never add up.
    monthly : pandas.DataFrame, optional
        Active users per UTC month (``fetch_active_user_periods(..., "month")``), drawn as a
        second line: each bucket at the value of the month its start falls in.
    daily : pandas.DataFrame, optional
        Active users per UTC day; with ``monthly``, the stickiness of each month
        (:func:`stickiness`, DAU/MAU, 0-100 %) is drawn on a right axis (``ax.right_ax``).
    top : int, default 5
        Groups drawn, 1 or more.
    total : bool, default False
        Ask for one line of every group together; refused for a grouped frame.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Titled ``"Active users per week, ..."`` (``"... by organization, ..."``).

    Raises
    ------
    InvalidParameterError
        For ``total=True`` (or ``monthly``/``daily``) with a grouped frame, ``daily`` without
        ``monthly``, or a frame without ``active_users``.
    Examples
    --------
    >>> import metrics_toolkit as mt
    >>> from metrics_toolkit import charts
    >>> client = mt.MetricsClient.demo(now="2026-11-25")
    >>> by_org = mt.fetch_series(client, "2026-09-07", "2026-11-23", "week",
    ...                          metric="active_users", by="org", progress=False)
    >>> ax = charts.active_users(by_org, top=2)
    >>> charts.active_users(by_org, total=True)
    Traceback (most recent call last):
    ...
    metrics_toolkit.errors.InvalidParameterError: total: active users are distinct counts: ...
    """
    check_wide_frame(frame)
    _need(frame, (ACTIVE_USERS,), "fetch_series(..., metric='active_users')")
    grouped = group_column(frame) is not None
    if grouped and (total or monthly is not None or daily is not None):
        raise InvalidParameterError(
            "total" if total else "monthly",
            "active users are distinct counts: a user active in two groups counts once in "
            "their union, so the groups are never added up. Fetch the union instead: "
            "fetch_series(..., metric='active_users') without by=, with the groups as a "
            "filter (org_ids=[...])",
        )
    if daily is not None and monthly is None:
        raise InvalidParameterError("daily", "stickiness (DAU/MAU) needs monthly= as well")
    ax = new_axes(ax)
    table = axis_table(frame)
    buckets = BucketAxis.of(table)
    extra: list[str] = []
    if grouped:
        extra += _active_group_lines(ax, buckets, frame, top)
    else:
        values = column(frame.sort_index(kind="stable"), ACTIVE_USERS)
        line(
            ax,
            buckets,
            values,
            color=ACTIVE_COLOR,
            label=f"{ACTIVE_USERS_LABEL} per {buckets.unit}",
        )
    if monthly is not None:
        mau = _by_month(monthly[ACTIVE_USERS], buckets.starts)
        line(ax, buckets, mau, color=MONTHLY_COLOR, label="monthly active users (UTC month)")
    style(ax, ylabel=ACTIVE_USERS_LABEL)
    if daily is not None and monthly is not None:
        right = _twin(ax, ylabel=STICKINESS_LABEL)
        ratios = _by_month(stickiness(daily, monthly), buckets.starts)
        line(right, buckets, ratios, color=STICKINESS_COLOR, label=STICKINESS_LABEL)
        setattr(ax, "right_ax", right)  # noqa: B010 - pandas' name for the secondary axis
        pair_legend(ax, right)
        extra.append("stickiness: mean daily over monthly active users of the UTC month")
    elif len(ax.get_lines()) > 1:
        handles, labels = ax.get_legend_handles_labels()
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    title(ax, "Active users", buckets, scope_text(frame, combined=False))
    return _finish(ax, buckets, marker="dashed", extra=extra)


def _active_group_lines(ax: Axes, buckets: BucketAxis, frame: pd.DataFrame, top: int) -> list[str]:
    """One line per group of the ``top``; the note on the groups left out."""
    group = group_column(frame)
    assert group is not None
    ranked = top_groups(frame, top=top, column=ACTIVE_USERS)
    ids_by_label: dict[str, str] = ranked.attrs["group_ids"]
    ids = frame[group].astype(str)
    colors = group_colors(ids)
    for label in ranked.columns:
        if label == OTHER_LABEL:
            continue
        group_id = ids_by_label[str(label)]
        rows = frame[(ids == group_id).to_numpy()].sort_index(kind="stable")
        values = floats(rows[ACTIVE_USERS]).reindex(buckets.starts)
        line(
            ax, buckets, values.to_numpy(dtype=np.float64), color=colors[group_id], label=str(label)
        )
    left_out = int(ids.nunique()) - len(ids_by_label)
    if left_out <= 0:
        return []
    kind = breakdown_kind(frame)
    plural = kind.plural.lower() if kind is not None else "groups"
    return [f"{left_out} more {plural} not drawn: distinct counts do not add up to an “other”"]


# -- PR outcomes -----------------------------------------------------------------------------


def _provisional(buckets: BucketAxis, settle_period: dt.timedelta) -> Flags:
    """Complete buckets that ended less than ``settle_period`` before the data was read."""
    if buckets.now is None:
        return np.zeros(len(buckets.starts), dtype=bool)
    moving = [is_provisional(end, buckets.now, settle_period) for end in buckets.ends]
    return np.asarray(moving, dtype=bool) & ~buckets.incomplete & ~buckets.failed


def pr_outcomes(frame: pd.DataFrame, *, ax: Axes | None = None) -> Axes:
    """PRs created per bucket by what became of them, and the share of decided PRs that merged.

    Parameters
    ----------
    frame : pandas.DataFrame
        ``fetch_series(..., metric="prs")``. A grouped frame is combined over its groups
        (PRs add up), and the title says so (``"..., Platform and Growth combined, ..."``).
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Stacked bars, one container per outcome (``"merged"``, ``"closed unmerged"``,
        ``"still open"``; a bar's height is the bucket's PRs created), a ``"taken over"`` line
        when the frame has ``prs_taken_over_count``, and on the right axis (``ax.right_ax``,
        0-100 %) the share merged / (merged + closed) of each bucket, a ratio of sums; NaN
        (a gap) without a decided PR, a hollow point under ``MIN_SESSIONS`` decided PRs. A
        complete bucket that ended less than the settle period (``attrs["settle_period"]``,
        default 14 days) before the data was read is marked ``†``: its still-open PRs are
        being merged or closed, so its bars and share still move.
    """
    check_wide_frame(frame)
    _need(frame, tuple(PR_OUTCOME_LABELS), "fetch_series(..., metric='prs')")
    ax = new_axes(ax)
    table = bucket_table(frame)
    buckets = BucketAxis.of(table)
    outcomes = pd.DataFrame(
        {label: column(table, name) for name, label in PR_OUTCOME_LABELS.items()},
        index=table.index,
    )
    bars(ax, buckets, outcomes, OUTCOME_COLORS)
    if PRS_TAKEN_OVER in table.columns:
        taken = column(table, PRS_TAKEN_OVER)
        line(ax, buckets, taken, color=OUTCOME_COLORS["taken over"], label="taken over")
    style(ax, ylabel="PRs created (bars)")
    merged, closed = column(table, PRS_MERGED), column(table, PRS_CLOSED)
    decided = merged + closed
    share = np.divide(merged, decided, out=np.full(len(decided), np.nan), where=decided > 0)
    hollow = (decided > 0) & (decided < MIN_SESSIONS)
    right = _twin(ax, ylabel=f"{MERGED_OF_CLOSED_LABEL} (line)")
    line(right, buckets, share, color=SHARE_COLOR, label=MERGED_OF_CLOSED_LABEL, hollow=hollow)
    setattr(ax, "right_ax", right)  # noqa: B010 - pandas' name for the secondary axis
    pair_legend(ax, right)
    settle = table.attrs.get("settle_period", DEFAULT_SETTLE_PERIOD)
    moving = _provisional(buckets, settle)
    for index in np.flatnonzero(moving):
        right.annotate(
            PROVISIONAL_MARK,
            (float(index), float(share[index])),
            xytext=(4, 4),
            textcoords="offset points",
            color=SHARE_COLOR,
        )
    extra = []
    if moving.any():
        extra.append(
            f"{PROVISIONAL_MARK} provisional: ended less than {duration_text(settle)} before "
            "the data was read; its open PRs are still being merged or closed"
        )
    if hollow.any():
        extra.append(f"hollow: fewer than {MIN_SESSIONS} decided PRs, too few to read")
    title(ax, "PRs created and what became of them", buckets, scope_text(frame, combined=True))
    return _finish(ax, buckets, marker="hatched bar, dashed line", extra=extra)


# -- categories ------------------------------------------------------------------------------


def categories(frame: pd.DataFrame, *, subcategories: bool = False, ax: Axes | None = None) -> Axes:
    """Sessions by category (or subcategory) over the frame's buckets, as horizontal bars.

    Parameters
    ----------
    frame : pandas.DataFrame
        The tidy frame of :func:`~metrics_toolkit.tables.category_frame`: sessions add up over
        its buckets and a category's subcategories. Failed buckets are left out and the note
        says so; a partial bucket counts what happened so far.
    subcategories : bool, default False
        One bar per subcategory, labelled ``"Bug fix › Regression"``, instead of per category.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        One bar per category, the largest at the top, its width the sessions (each bar's
        number written at its end); titled ``"Sessions by category, 2 – 29 Nov 2026 (UTC)"``.
    """
    needed = (BUCKET_START, BUCKET_END, "failed", "partial", "category", "subcategory")
    _need(frame, (*needed, "sessions_count"), "category_frame(...)")
    ax = new_axes(ax)
    answered = frame[~frame["failed"].to_numpy(dtype=bool) & frame["category"].notna().to_numpy()]
    keys = answered["category"].astype(str)
    if subcategories:
        subs = answered["subcategory"]
        keys = keys.where(subs.isna(), keys + SUBCATEGORY_SEPARATOR + subs.astype(str))
    totals = floats(answered["sessions_count"]).groupby(keys.to_numpy(), sort=False).sum()
    totals = totals.sort_values(ascending=True, kind="stable")
    container = ax.barh(list(totals.index), totals.to_numpy(), color=CATEGORY_COLOR)
    ax.bar_label(container, labels=[f"{v:,.0f}" for v in totals], padding=3, fontsize="small")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    ax.set_xlabel("sessions")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    starts = pd.DatetimeIndex(frame[BUCKET_START])
    ends = pd.DatetimeIndex(frame[BUCKET_END])
    zone = frame.attrs.get("tz") or str(starts.tz)
    what = "Sessions by category and subcategory" if subcategories else "Sessions by category"
    ax.set_title(f"{what}, {date_span(starts.min(), ends.max())} ({zone})", loc="left")
    extra = []
    failed = frame.loc[frame["failed"].to_numpy(dtype=bool), BUCKET_START].nunique()
    if failed:
        extra.append(f"{failed} bucket(s) failed, not counted")
    partial = frame[frame["partial"].to_numpy(dtype=bool)]
    if len(partial):
        start, end = partial[BUCKET_START].max(), partial[BUCKET_END].max()
        unit = str(frame.attrs.get("freq", "bucket"))
        now = frame.attrs.get("now")
        when = partial_note(start, end, unit, None if now is None else pd.Timestamp(now))
        extra.append(f"{when}: counted so far")
    note(ax, extra)
    return ax
