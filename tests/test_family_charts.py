"""Charts of the family: what is drawn equals the frames' numbers, computed here independently.

Frames come from the demo enterprise, in-process, at a fixed "now" (a Wednesday, 10:00 UTC):
active users (per bucket, per organization, the native DAU/MAU lists), PRs, consumption in
billing days and sessions by category.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

import metrics_toolkit as mt
from metrics_toolkit import charts
from metrics_toolkit.errors import InvalidParameterError
from metrics_toolkit.frames import rollup
from metrics_toolkit.periods import fetch_active_user_periods, fetch_consumption
from metrics_toolkit.summaries import is_provisional
from metrics_toolkit.tables import category_frame

matplotlib.use("Agg")

NOW = "2026-11-25T10:00:00+00:00"
DAY = 86400


@pytest.fixture(scope="module")
def client() -> Iterator[mt.MetricsClient]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with mt.MetricsClient.demo(now=NOW) as demo:
            yield demo


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _series(client: mt.MetricsClient, metric: str, **options: object) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mt.fetch_series(
            client, "2026-08-31", "2026-11-30", "week", metric=metric, progress=False, **options
        )


def _line(ax: Axes, label: str) -> Line2D:
    (found,) = [line for line in ax.get_lines() if line.get_label() == label]
    return found


def _solid(frame: pd.DataFrame, values: np.ndarray) -> np.ndarray:
    """What a solid line holds: the values, NaN at incomplete buckets."""
    incomplete = frame["partial"].to_numpy(dtype=bool) | frame["clipped"].to_numpy(dtype=bool)
    return np.where(incomplete, np.nan, values)


def _note(ax: Axes) -> str:
    return " ".join(text.get_text() for text in ax.texts).replace("\n", " ")


# -- active users ----------------------------------------------------------------------------


def test_active_users_draws_the_frames_counts(client: mt.MetricsClient) -> None:
    frame = _series(client, "active_users")
    ax = charts.active_users(frame)
    drawn = _line(ax, "active users per week").get_ydata()
    expected = _solid(frame, frame["active_users"].to_numpy(dtype=float))
    np.testing.assert_array_equal(np.asarray(drawn, dtype=float), expected)
    assert ax.get_title(loc="left").startswith("Active users per week, ")


def test_a_grouped_frame_is_one_line_per_group_and_never_a_total(
    client: mt.MetricsClient,
) -> None:
    frame = _series(client, "active_users", by="org")
    ax = charts.active_users(frame, top=2)
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    names = frame.groupby("org_name")["active_users"].sum().sort_values(ascending=False)
    assert labels == list(names.index[:2])
    for name in labels:
        rows = frame[frame["org_name"] == name]
        drawn = np.asarray(_line(ax, name).get_ydata(), dtype=float)
        np.testing.assert_array_equal(drawn, _solid(rows, rows["active_users"].to_numpy(float)))
    assert mt.charts.OTHER_LABEL not in labels
    rest = frame["org_id"].nunique() - 2
    assert f"{rest} more organizations not drawn" in _note(ax)
    assert " by organization, " in ax.get_title(loc="left")
    with pytest.raises(InvalidParameterError, match="distinct counts"):
        charts.active_users(frame, total=True)


def test_stickiness_is_the_months_mean_dau_over_its_mau(client: mt.MetricsClient) -> None:
    weekly = fetch_active_user_periods(client, "2026-08-03", "2026-11-30", "week")
    daily = fetch_active_user_periods(client, "2026-08-01", "2026-11-30", "day")
    monthly = fetch_active_user_periods(client, "2026-08-01", "2026-11-30", "month")
    ratios = charts._family.stickiness(daily, monthly)
    for start, mau in monthly["active_users"].items():
        month = daily[(daily.index.month == start.month) & (daily.index.year == start.year)]
        assert ratios[start] == pytest.approx(month["active_users"].astype(float).mean() / mau)
    ax = charts.active_users(weekly, monthly=monthly, daily=daily)
    by_month = {(s.year, s.month): v for s, v in monthly["active_users"].items()}
    expected = np.array([by_month[(s.year, s.month)] for s in weekly.index], dtype=float)
    drawn = _line(ax, "monthly active users (UTC month)").get_ydata()
    np.testing.assert_array_equal(np.asarray(drawn, dtype=float), _solid(weekly, expected))
    right: Axes = ax.right_ax  # type: ignore[attr-defined]
    sticky = {(s.year, s.month): v for s, v in ratios.items()}
    expected = np.array([sticky[(s.year, s.month)] for s in weekly.index], dtype=float)
    drawn = _line(right, "stickiness (DAU/MAU)").get_ydata()
    np.testing.assert_allclose(np.asarray(drawn, dtype=float), _solid(weekly, expected))
    assert right.get_ylim() == (0.0, 1.0)
    with pytest.raises(InvalidParameterError, match="monthly"):
        charts.active_users(weekly, daily=daily)


# -- PR outcomes -----------------------------------------------------------------------------


def test_pr_outcomes_stack_to_the_prs_created(client: mt.MetricsClient) -> None:
    frame = _series(client, "prs")
    ax = charts.pr_outcomes(frame)
    containers = {c.get_label(): c for c in ax.containers}
    assert list(containers) == ["merged", "closed unmerged", "still open"]
    heights = {k: np.array([p.get_height() for p in c.patches]) for k, c in containers.items()}
    np.testing.assert_array_equal(heights["merged"], frame["prs_merged_count"].to_numpy(float))
    np.testing.assert_array_equal(
        heights["closed unmerged"], frame["prs_closed_count"].to_numpy(float)
    )
    np.testing.assert_array_equal(sum(heights.values()), frame["prs_created_count"].to_numpy(float))
    taken = np.asarray(_line(ax, "taken over").get_ydata(), dtype=float)
    np.testing.assert_array_equal(
        taken, _solid(frame, frame["prs_taken_over_count"].to_numpy(float))
    )
    merged = frame["prs_merged_count"].to_numpy(float)
    share = merged / (merged + frame["prs_closed_count"].to_numpy(float))
    right: Axes = ax.right_ax  # type: ignore[attr-defined]
    drawn = np.asarray(_line(right, "merged of decided PRs").get_ydata(), dtype=float)
    np.testing.assert_allclose(drawn, _solid(frame, share))
    assert right.get_ylim()[1] <= 1.0


def test_pr_outcomes_mark_the_provisional_buckets(client: mt.MetricsClient) -> None:
    frame = _series(client, "prs")
    ax = charts.pr_outcomes(frame)
    right: Axes = ax.right_ax  # type: ignore[attr-defined]
    marked = sorted(round(t.xy[0]) for t in right.texts if t.get_text() == "†")
    expected = [
        i
        for i, (end, partial) in enumerate(zip(frame["bucket_end"], frame["partial"], strict=True))
        if is_provisional(end, NOW) and not partial
    ]
    assert marked == expected and expected  # the two weeks before the current one
    assert "provisional" in _note(ax)
    without = frame.drop(columns=[c for c in frame.columns if "taken_over" in c])
    labels = [line.get_label() for line in charts.pr_outcomes(without).get_lines()]
    assert "taken over" not in labels


def test_pr_outcomes_of_groups_is_a_ratio_of_sums(client: mt.MetricsClient) -> None:
    frame = _series(client, "prs", by="org")
    ax = charts.pr_outcomes(frame)
    sums = frame.groupby(level=0)[["prs_merged_count", "prs_closed_count"]].sum()
    share = sums["prs_merged_count"] / sums.sum(axis=1)
    totals = frame.groupby(level=0)[["partial", "clipped"]].first()
    right: Axes = ax.right_ax  # type: ignore[attr-defined]
    drawn = np.asarray(_line(right, "merged of decided PRs").get_ydata(), dtype=float)
    np.testing.assert_allclose(drawn, _solid(totals, share.to_numpy(float)))
    assert " combined, " in ax.get_title(loc="left")


# -- consumption -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def consumption(client: mt.MetricsClient) -> pd.DataFrame:
    return fetch_consumption(client, "2026-07-01", "2026-11-25T10:00")


def test_consumption_by_product_in_billing_days(consumption: pd.DataFrame) -> None:
    days = consumption.loc["2026-11-01":]
    ax = charts.consumption_by_product(days)
    containers = {c.get_label(): c for c in ax.containers}
    assert list(containers) == ["Devin", "Cascade", "Terminal", "Review"]
    for product, container in containers.items():
        heights = np.array([p.get_height() for p in container.patches])
        np.testing.assert_allclose(heights, days[f"acus_by_product.{product.lower()}"])
    assert "08:00 UTC" in ax.get_xlabel() and "08:00 UTC" in ax.get_title(loc="left")
    ticks = {
        round(t): label.get_text()
        for t, label in zip(ax.get_xticks(), ax.get_xticklabels(), strict=True)
    }
    for position, text in ticks.items():
        start = days.index[position]
        assert start.hour == 8 and f"{start.day} {start.strftime('%b')}" in text
    moved = days.copy()
    moved.index = moved.index.tz_convert("Europe/Berlin")
    with pytest.raises(InvalidParameterError, match="never relabelled"):
        charts.consumption_by_product(moved)
    weeks = rollup(days, "week")
    heights = [p.get_height() for p in charts.consumption_by_product(weeks).containers[0]]
    np.testing.assert_allclose(heights, weeks["acus_by_product.devin"])


def test_consumption_by_organization_is_top_n_and_the_rest(client: mt.MetricsClient) -> None:
    orgs = [org.org_id for org in client.directory().organizations]
    frame = fetch_consumption(client, "2026-11-16", "2026-11-23", by="org", ids=orgs)
    ax = charts.consumption_by_product(frame, top=2)
    heights = {c.get_label(): np.array([p.get_height() for p in c]) for c in ax.containers}
    totals = frame.groupby("org_id")["acus"].sum().sort_values(ascending=False)
    assert list(heights) == [*totals.index[:2], "other"]
    rest = frame[frame["org_id"].isin(totals.index[2:])].groupby(level=0)["acus"].sum()
    np.testing.assert_allclose(heights["other"], rest.to_numpy())
    assert " by organization, " in ax.get_title(loc="left")


def test_cycle_burn_against_the_cycles_before(
    client: mt.MetricsClient, consumption: pd.DataFrame
) -> None:
    cycles = client.billing_cycles()
    ax = charts.cycle_burn(consumption, cycles, previous=2)
    now = int(pd.Timestamp(NOW).timestamp())
    (current,) = [c for c in cycles if c.after <= now < c.before]
    seconds = consumption.index.as_unit("s").asi8
    days = consumption[(seconds >= current.after) & (seconds < current.before)]
    complete = days[~days["partial"]]
    expected = np.cumsum(complete["acus"].to_numpy(float))
    line = next(ln for ln in ax.get_lines() if str(ln.get_label()).startswith("current cycle"))
    np.testing.assert_allclose(np.asarray(line.get_ydata(), dtype=float), [0, *expected])
    projection = _line(ax, "projection")
    assert projection.get_linestyle() == "--"
    length = (current.before - current.after) / DAY
    cycle_start = pd.Timestamp(current.after, unit="s", tz="UTC")
    elapsed = (complete.index[-1] + pd.Timedelta(days=1) - cycle_start) / pd.Timedelta(days=1)
    rate = expected[-1] / elapsed
    assert projection.get_ydata()[-1] == pytest.approx(expected[-1] + rate * (length - elapsed))
    assert projection.get_xdata()[-1] == length
    previous = [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("cycle ")]
    assert len(previous) == 2
    text = " ".join([ax.get_title(loc="left"), ax.get_ylabel(), *(t.get_text() for t in ax.texts)])
    assert "price" not in text and "$" not in text and "Cost" not in text
    assert any(t.get_text().startswith("projection: ") for t in ax.texts)


def test_cycle_burn_shows_money_only_at_a_given_price(
    client: mt.MetricsClient, consumption: pd.DataFrame
) -> None:
    cycles = client.billing_cycles()
    acus = charts.cycle_burn(consumption, cycles)
    money = charts.cycle_burn(consumption, cycles, acu_price=2.25)
    for plain, priced in zip(acus.get_lines(), money.get_lines(), strict=True):
        np.testing.assert_allclose(
            np.asarray(priced.get_ydata(), float), np.asarray(plain.get_ydata(), float) * 2.25
        )
    assert "2.25 per ACU" in money.get_ylabel()
    for price in (0, -1.0, math.nan, "2"):
        with pytest.raises(InvalidParameterError, match="acu_price"):
            charts.cycle_burn(consumption, cycles, acu_price=price)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="no cycle"):
        charts.cycle_burn(consumption, [(0, DAY)])


# -- categories ------------------------------------------------------------------------------


@pytest.mark.parametrize("subcategories", [False, True])
def test_categories_are_the_frames_sums(client: mt.MetricsClient, subcategories: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = category_frame(client, "2026-11-02", "2026-11-30", "week", progress=False)
    ax = charts.categories(frame, subcategories=subcategories)
    keys = frame["category"]
    if subcategories:
        keys = keys + " › " + frame["subcategory"]
    expected = frame.groupby(keys)["sessions_count"].sum().astype(float)
    drawn = {
        label.get_text(): patch.get_width()
        for label, patch in zip(ax.get_yticklabels(), ax.patches, strict=True)
    }
    assert drawn == expected.to_dict()
    widths = list(drawn.values())
    assert widths == sorted(widths)  # the largest at the top
    assert ax.get_title(loc="left").startswith(
        "Sessions by category and subcategory, " if subcategories else "Sessions by category, "
    )
    assert "partial" in _note(ax)


def test_the_charts_are_exported() -> None:
    for name in (
        "active_users",
        "pr_outcomes",
        "consumption_by_product",
        "cycle_burn",
        "categories",
    ):
        assert name in charts.__all__ and callable(getattr(charts, name))


def test_a_share_over_few_decided_prs_is_hollow(client: mt.MetricsClient) -> None:
    frame = _series(client, "prs").copy()
    frame.iloc[2, frame.columns.get_loc("prs_merged_count")] = 4
    frame.iloc[2, frame.columns.get_loc("prs_closed_count")] = 3
    right: Axes = charts.pr_outcomes(frame).right_ax  # type: ignore[attr-defined]
    (hollow,) = [ln for ln in right.get_lines() if str(ln.get_label()).endswith("(few sessions)")]
    assert list(hollow.get_xdata()) == [2.0]
    assert list(hollow.get_ydata()) == pytest.approx([4 / 7])
    assert f"fewer than {mt._constants.MIN_SESSIONS} decided PRs" in _note(right.figure.axes[0])


def test_the_product_legend_shows_each_colour_even_on_a_clipped_day(
    consumption: pd.DataFrame,
) -> None:
    days = consumption.loc["2026-10-31":]
    ax = charts.consumption_by_product(_clipped_first(days))
    legend = ax.get_legend()
    assert legend is not None
    for handle, container in zip(legend.legend_handles, ax.containers[::-1], strict=True):
        assert handle.get_hatch() is None
        assert handle.get_facecolor() == container.patches[1].get_facecolor()


def _clipped_first(days: pd.DataFrame) -> pd.DataFrame:
    """The days with the first one marked clipped, as a range starting inside it gives it."""
    cut = days.copy()
    cut.iloc[0, cut.columns.get_loc("clipped")] = True
    return cut


def test_the_cycle_title_counts_only_the_cycles_drawn(
    client: mt.MetricsClient, consumption: pd.DataFrame
) -> None:
    recent = consumption.loc["2026-10-15":]  # half of October, nothing before
    ax = charts.cycle_burn(recent, client.billing_cycles(), previous=3)
    previous = [ln for ln in ax.get_lines() if str(ln.get_label()).startswith("cycle ")]
    assert len(previous) == 1
    assert " against the 1 before" in ax.get_title(loc="left")


@pytest.mark.parametrize("metric", ["prs", "active_users"])
def test_a_chart_of_one_group_names_it_whatever_the_metric(
    client: mt.MetricsClient, metric: str
) -> None:
    frame = _series(client, metric, by="org", ids=["Platform"])
    chart = charts.pr_outcomes if metric == "prs" else charts.active_users
    ax = chart(frame)
    assert "for organization “Platform”" in ax.get_title(loc="left")
