"""Charts: what is drawn equals the frame, and three charts against baseline images.

The baselines live in ``tests/baseline/``; after an intended change of the drawing, regenerate
them (from the repository root) with::

    .venv/bin/python -m tests.test_charts --regenerate

and look at the new images before committing them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.testing import set_font_settings_for_testing, set_reproducibility_for_testing
from matplotlib.testing.compare import compare_images

from metrics_toolkit import MetricsClient, charts, combine, labels
from metrics_toolkit._constants import MIN_SESSIONS
from metrics_toolkit._vocabulary import origin_label
from metrics_toolkit.buckets import time_buckets
from metrics_toolkit.demo import DemoAPI, generate_enterprise
from metrics_toolkit.frames import Row, wide_frame
from metrics_toolkit.models import ORIGINS, SIZES, SessionMetrics
from metrics_toolkit.summaries import kpi_text

matplotlib.use("Agg")  # no display: the charts draw the same on any backend

#: The demo's fixed "now": a Wednesday, 03:00 UTC (04:00 in Berlin).
NOW = dt.datetime(2026, 11, 25, 3, tzinfo=dt.timezone.utc)
BERLIN = "Europe/Berlin"
BASELINE = Path(__file__).parent / "baseline"
#: Tolerance of the image comparison (RMS of the pixel difference, 0-255).
IMAGE_TOLERANCE = 15
IMAGE_SIZE = (8.0, 4.0)
IMAGE_DPI = 80

WEEKDAY = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun)"
MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"


# -- frames --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[MetricsClient]:
    with MetricsClient.demo(api=DemoAPI(generate_enterprise(end=NOW), now=NOW)) as demo:
        yield demo


def _fetch(
    client: MetricsClient, start: str, end: str, freq: str, **options: object
) -> pd.DataFrame:
    frame = client.session_metrics_frame(start, end, freq=freq, progress=False, **options)
    frame.attrs["now"] = pd.Timestamp(NOW)
    return frame


@pytest.fixture(scope="module")
def weekly(client: MetricsClient) -> pd.DataFrame:
    """26 whole weeks in Berlin; the last one (23-30 Nov) is partial."""
    return _fetch(client, "2026-06-01", "2026-11-30", "week", tz=BERLIN)


@pytest.fixture(scope="module")
def by_org(client: MetricsClient) -> pd.DataFrame:
    return _fetch(client, "2026-06-01", "2026-11-30", "week", tz=BERLIN, by="org")


@pytest.fixture(scope="module")
def daily(client: MetricsClient) -> pd.DataFrame:
    return _fetch(client, "2026-10-01", "2026-11-26", "day")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _metrics(rng: np.random.Generator, *, empty: bool, extra_origin: str | None) -> SessionMetrics:
    """One synthetic answer; ``empty``: a window without sessions (the API sends avg 0.0)."""
    names = [*ORIGINS, *([extra_origin] if extra_origin else [])]
    origins = {name: 0 if empty else int(rng.integers(5, 60)) for name in names}
    sessions = sum(origins.values())
    sizes = rng.multinomial(sessions, [0.25, 0.25, 0.2, 0.15, 0.15])
    merged = [
        int(rng.binomial(n, p)) for n, p in zip(sizes, (0.7, 0.6, 0.45, 0.3, 0.2), strict=True)
    ]
    return SessionMetrics.model_validate(
        {
            "sessions_created_count": sessions,
            "sessions_created_by_origin": origins,
            "sessions_created_by_size": dict(zip(SIZES, map(int, sizes), strict=True)),
            "sessions_created_with_playbook_count": sessions // 4,
            "sessions_created_with_search_count": sessions // 5,
            "sessions_with_merged_prs_count": sum(merged),
            "sessions_with_merged_prs_by_size": dict(zip(SIZES, merged, strict=True)),
            "avg_acus_per_session": 0.0 if empty else round(float(rng.uniform(5, 9)), 3),
        }
    )


def synthetic_frame(
    *,
    start: str = "2026-09-07",
    end: str = "2026-11-30",
    freq: str = "week",
    tz: str = BERLIN,
    groups: dict[str, str] | None = None,
    failed: Sequence[int] = (),
    empty: Sequence[int] = (),
    extra_origin: str | None = None,
    seed: int = 7,
) -> pd.DataFrame:
    """A wide frame of made-up answers, as a fetch returns it (``groups``: org id -> name)."""
    rng = np.random.default_rng(seed)
    buckets = time_buckets(start, end, freq, tz=tz, now=NOW)
    rows = [
        Row(bucket, group, None, "ServerError: 503")
        if index in failed
        else Row(bucket, group, _metrics(rng, empty=index in empty, extra_origin=extra_origin))
        for group in (groups or {None: None})
        for index, bucket in enumerate(buckets)
    ]
    frame = wide_frame(rows, group_by="org" if groups else None)
    if groups:
        frame.insert(1, "org_name", frame["org_id"].map(groups))
    frame.attrs.update(freq=freq, tz=tz, group_by="org" if groups else None, now=NOW)
    return frame


ORGS = {f"org-{i:03d}": name for i, name in enumerate(["Platform", "Payments", "Growth", "Data"])}


# -- helpers -------------------------------------------------------------------------------


def _solid(ax: Axes) -> dict[str, Line2D]:
    return {
        str(line.get_label()): line
        for line in ax.get_lines()
        if line.get_linestyle() == "-" and not str(line.get_label()).startswith("_")
    }


def _dashed(ax: Axes) -> list[Line2D]:
    return [line for line in ax.get_lines() if line.get_linestyle() == "--"]


def _ydata(line: Line2D) -> np.ndarray:
    return np.asarray(line.get_ydata(), dtype=float)


def _bar_containers(ax: Axes) -> dict[str, list[Rectangle]]:
    return {str(c.get_label()): list(c.patches) for c in ax.containers}


def _values(frame: pd.DataFrame, column: str) -> np.ndarray:
    return frame[column].astype("Float64").to_numpy(dtype=float, na_value=np.nan)


def _texts(ax: Axes) -> str:
    return "\n".join(text.get_text() for text in ax.texts)


def _tick_labels(ax: Axes) -> list[str]:
    ax.figure.canvas.draw()
    return [label.get_text() for label in ax.get_xticklabels()]


def _legend_labels(ax: Axes) -> list[str]:
    legend = ax.get_legend()
    assert legend is not None
    return [text.get_text() for text in legend.get_texts()]


def _hollow(ax: Axes) -> dict[str, list[float]]:
    """The hollow points (white face, no line) by colour: their x positions."""
    found: dict[str, list[float]] = {}
    for line in ax.get_lines():
        if line.get_linestyle() == "None" and to_rgba(line.get_markerfacecolor()) == to_rgba(
            "white"
        ):
            xs = np.asarray(line.get_xdata(), dtype=float).tolist()
            found.setdefault(str(line.get_markeredgecolor()), []).extend(xs)
    return found


def _with_counts(frame: pd.DataFrame, position: int, counts: dict[str, int]) -> pd.DataFrame:
    """``frame`` with some counts of one row replaced and its rates recomputed."""
    changed = frame.copy()
    for name, value in counts.items():
        changed.iloc[position, changed.columns.get_loc(name)] = value
    result = combine.add_derived(changed)
    result.attrs = dict(frame.attrs)
    return result


# -- what is drawn ---------------------------------------------------------------------------


def test_sessions_line_is_the_frame_with_the_partial_week_dashed(weekly: pd.DataFrame) -> None:
    ax = charts.sessions_over_time(weekly)
    sessions = _values(weekly, "sessions_created_count")
    (solid,) = _solid(ax).values()
    expected = sessions.copy()
    expected[-1] = np.nan  # the partial week is only on the dashed segment
    np.testing.assert_array_equal(_ydata(solid), expected)
    (dashed,) = _dashed(ax)
    np.testing.assert_array_equal(np.asarray(dashed.get_xdata(), dtype=float), [24, 25])
    np.testing.assert_array_equal(_ydata(dashed), sessions[-2:])
    assert weekly["partial"].tolist() == [False] * 25 + [True]


def test_groups_are_named_and_top_n_plus_other_sum_to_the_total(by_org: pd.DataFrame) -> None:
    ax = charts.sessions_over_time(by_org, top=3)
    labels = _legend_labels(ax)
    assert len(labels) == 4 and labels[-1] == "other"
    assert set(labels[:3]) <= set(by_org["org_name"])
    assert not any(label.startswith("org-") for label in labels)
    drawn = np.vstack([_ydata(line) for line in _solid(ax).values()])
    totals = by_org.groupby(level=0)["sessions_created_count"].sum().astype(float).to_numpy()
    np.testing.assert_allclose(drawn[:, :-1].sum(axis=0), totals[:-1])  # last: dashed


def test_top_groups_ranks_by_total_and_sums_the_rest(by_org: pd.DataFrame) -> None:
    table = charts.top_groups(by_org, top=2)
    totals = by_org.groupby("org_name")["sessions_created_count"].sum().sort_values()
    assert list(table.columns) == [*totals.index[::-1][:2], "other"]
    per_bucket = by_org.groupby(level=0)["sessions_created_count"].sum().astype(float)
    np.testing.assert_allclose(table.sum(axis=1).to_numpy(), per_bucket.to_numpy())
    assert set(table.attrs["group_ids"]) == set(table.columns) - {"other"}
    assert "other" not in charts.top_groups(by_org, top=5).columns


def test_a_shared_name_is_told_apart_by_id() -> None:
    frame = synthetic_frame(groups={"org-a": "Data", "org-b": "Data", "org-c": "Web"})
    ax = charts.sessions_over_time(frame)
    assert sorted(_legend_labels(ax)) == ["Data (org-a)", "Data (org-b)", "Web"]


def test_group_colours_do_not_depend_on_ranking_or_order(by_org: pd.DataFrame) -> None:
    def colours(ax: Axes) -> dict[str, str]:
        return {label: str(line.get_color()) for label, line in _solid(ax).items()}

    three = colours(charts.sessions_over_time(by_org, top=3))
    five = colours(charts.sessions_over_time(by_org, top=5))
    assert all(five[label] == colour for label, colour in three.items() if label != "other")
    assert len(set(five.values())) == 5
    ids = list(ORGS)
    assert charts.group_colors(ids) == charts.group_colors(ids[::-1])


def test_origin_bars_are_the_frame_and_shares_sum_to_one(weekly: pd.DataFrame) -> None:
    bars = _bar_containers(charts.origin_mix(weekly))
    assert list(bars) == [origin_label(origin) for origin in ORIGINS]  # "Web app", not webapp
    for origin in ORIGINS:
        heights = [patch.get_height() for patch in bars[origin_label(origin)]]
        np.testing.assert_array_equal(
            heights, _values(weekly, f"sessions_created_by_origin.{origin}")
        )
    shares = _bar_containers(charts.origin_mix(weekly, share=True))
    stacked = np.sum([[p.get_height() for p in patches] for patches in shares.values()], axis=0)
    np.testing.assert_allclose(stacked, 1.0)


def test_one_colour_per_origin_and_size_in_every_chart(
    weekly: pd.DataFrame, daily: pd.DataFrame
) -> None:
    def colours(ax: Axes) -> dict[str, tuple[float, ...]]:
        return {label: patches[0].get_facecolor() for label, patches in _bar_containers(ax).items()}

    first = colours(charts.origin_mix(weekly))
    assert first == colours(charts.origin_mix(daily, share=True))
    assert first == {origin_label(o): to_rgba(charts.ORIGIN_COLORS[o]) for o in ORIGINS}
    sizes = colours(charts.size_mix(daily))
    assert list(sizes) == ["XS", "S", "M", "L", "XL"]
    assert sizes == {s.upper(): to_rgba(charts.SIZE_COLORS[s]) for s in SIZES}
    lines = _solid(charts.merge_rate(daily, by_size=True))
    assert {label: line.get_color() for label, line in lines.items()} == {
        s.upper(): charts.SIZE_COLORS[s] for s in SIZES
    }


def test_an_origin_the_server_added_is_drawn_in_a_stable_colour() -> None:
    frame = synthetic_frame(extra_origin="github")
    bars = _bar_containers(charts.origin_mix(frame))
    assert list(bars)[-1] == "Github"
    colour = charts.category_color("github", charts.ORIGIN_COLORS)
    assert colour in charts.FALLBACK_COLORS
    assert bars["Github"][0].get_facecolor() == to_rgba(colour)
    heights = [patch.get_height() for patch in bars["Github"]]
    np.testing.assert_array_equal(heights, _values(frame, "sessions_created_by_origin.github"))


def test_only_the_partial_last_bucket_is_hatched_and_dashed(weekly: pd.DataFrame) -> None:
    for chart in (charts.origin_mix, charts.size_mix, charts.acus):
        ax = chart(weekly)
        for patches in _bar_containers(ax).values():
            hatched = [bool(patch.get_hatch()) for patch in patches]
            assert hatched == [False] * 25 + [True], chart.__name__
    for ax in (charts.sessions_over_time(weekly), charts.merge_rate(weekly)):
        (dashed,) = _dashed(ax)
        assert set(np.asarray(dashed.get_xdata(), dtype=float)) == {24.0, 25.0}
        assert "dashed: current week (W48) partial: data until Wed 25 Nov 04:00" in _texts(ax)
        assert "partial" in [text.get_text() for text in ax.texts]
    acus_ax = charts.acus(weekly)
    assert "hatched bar, dashed line: current week (W48) partial: data" in _texts(acus_ax)
    without_now = weekly.copy()
    del without_now.attrs["now"]
    assert "hatched: current week (W48) partial" in _texts(charts.origin_mix(without_now))


@pytest.mark.parametrize(
    ("freq", "start", "end", "current"),
    [
        ("week", "2026-09-07", "2026-11-30", "current week (W48) partial: data until Wed 25 Nov"),
        ("day", "2026-11-16", "2026-11-26", "current day (Wed 25 Nov 2026) partial: data until"),
        ("month", "2026-06-01", "2026-12-01", "current month (Nov 2026) partial: data until"),
    ],
)
def test_the_partial_bucket_is_named_the_current_one_as_the_report_says(
    freq: str, start: str, end: str, current: str
) -> None:
    frame = synthetic_frame(start=start, end=end, freq=freq)
    assert frame["partial"].tolist()[-1] and frame["partial"].sum() == 1
    for chart in (charts.sessions_over_time, charts.origin_mix, charts.merge_rate):
        text = _texts(chart(frame))
        assert current in text, text
        assert "last" not in text  # "last week" reads as the week before, complete
    last = frame.index[-1]
    assert labels.partial_note(
        last, frame["bucket_end"].iloc[-1], freq, pd.Timestamp(NOW)
    ) in _texts(charts.acus(frame))


def test_a_clipped_last_week_is_marked_as_incomplete(client: MetricsClient) -> None:
    frame = _fetch(client, "2026-06-01", "2026-11-25", "week", tz=BERLIN)  # ends on a Wednesday
    assert not frame["partial"].any() and frame["clipped"].tolist()[-1]
    ax = charts.sessions_over_time(frame)
    assert "dashed: last week covers 23–24 Nov 2026 only" in _texts(ax)
    assert _dashed(ax) and np.isnan(_ydata(_solid(ax)["all"])[-1])


def test_failed_buckets_are_gaps_with_a_note() -> None:
    frame = synthetic_frame(failed=[3])
    line = _solid(charts.sessions_over_time(frame))["all"]
    assert np.isnan(_ydata(line)[3]) and not np.isnan(_ydata(line)[2])
    ax = charts.origin_mix(frame)
    assert all(np.isnan(patches[3].get_height()) for patches in _bar_containers(ax).values())
    assert "red band: 1 week failed, no data (28 Sep)" in _texts(ax)
    assert "failed" in [text.get_text() for text in ax.texts]


def test_failed_group_makes_other_a_gap_but_not_the_rest() -> None:
    frame = synthetic_frame(groups=ORGS)
    data_rows = (frame["org_id"] == "org-003") & (frame.index == frame.index[2])
    frame.loc[data_rows, "sessions_created_count"] = pd.NA
    frame.loc[data_rows, "failed"] = True
    table = charts.top_groups(frame, top=3)
    assert np.isnan(table.iloc[2][table.columns[-1]]) == (table.columns[-1] == "other")
    assert table.iloc[2].drop("other", errors="ignore").notna().sum() >= 2


def test_merge_rate_is_a_percent_axis_with_gaps_for_empty_buckets() -> None:
    frame = synthetic_frame(empty=[4])
    ax = charts.merge_rate(frame)
    rates = _ydata(_solid(ax)["all sizes"])
    assert np.isnan(rates[4])  # no session: no rate, not 0 %
    expected = _values(frame, "merged_pr_rate")
    expected[-1] = np.nan
    np.testing.assert_allclose(rates, expected)
    assert ax.yaxis.get_major_formatter()(0.5, 0) == "50%"
    lines = _solid(charts.merge_rate(frame, by_size=True))
    assert list(lines) == ["XS", "S", "M", "L", "XL"]
    assert "recent buckets still rise as PRs get merged" in _texts(ax)


def test_acus_bars_and_average_masked_where_no_session() -> None:
    frame = synthetic_frame(empty=[4])
    assert frame["avg_acus_per_session"].iloc[4] == 0.0  # as the API sends it
    ax = charts.acus(frame)
    heights = [patch.get_height() for patch in _bar_containers(ax)["ACUs total"]]
    np.testing.assert_allclose(heights, _values(frame, "acus_total"))
    average = _ydata(_solid(ax.right_ax)["ACUs per session"])  # type: ignore[attr-defined]
    assert np.isnan(average[4])
    np.testing.assert_allclose(average[:4], frame["avg_acus_per_session"].to_numpy()[:4])


def test_a_breakdown_rate_is_one_line_per_group_as_combine_gives_it() -> None:
    frame = synthetic_frame(end="2026-11-23", groups=ORGS)  # four orgs, every week complete
    totals = frame.groupby("org_id")["sessions_created_count"].sum().sort_values(ascending=False)
    first, second, *rest = totals.index
    expected = {ORGS[first]: [first], ORGS[second]: [second], "other": rest}
    ax = charts.merge_rate(frame, top=2)
    assert _legend_labels(ax) == list(expected)  # names, largest first, then the rest
    lines = _solid(ax)
    for label, ids in expected.items():
        rows = frame[frame["org_id"].isin(ids)]
        combined = combine.combine_groups(rows)["merged_pr_rate"].to_numpy(dtype=float)
        np.testing.assert_allclose(_ydata(lines[label]), combined)
    other = _ydata(lines["other"])
    mean_of_rates = frame[frame["org_id"].isin(rest)].groupby(level=0)["merged_pr_rate"].mean()
    assert not np.allclose(other, mean_of_rates.to_numpy(dtype=float))  # a ratio of sums
    sessions = _solid(charts.sessions_over_time(frame, top=2))["other"]
    rows = frame[frame["org_id"].isin(rest)]
    np.testing.assert_array_equal(
        _ydata(sessions), combine.combine_groups(rows)["sessions_created_count"].to_numpy(float)
    )
    unnamed = frame.drop(columns="org_name")
    assert _legend_labels(charts.merge_rate(unnamed, top=2)) == [first, second, "other"]


def test_titles_tell_the_total_the_groups_and_one_group_apart() -> None:
    total = synthetic_frame()
    by_org = synthetic_frame(groups=ORGS)
    platform = by_org[by_org["org_id"] == "org-000"]
    playbook = platform.rename(columns={"org_id": "playbook_id", "org_name": "playbook_name"})
    playbook = playbook.assign(playbook_name="Fix a flaky test")
    playbook.attrs["group_by"] = "playbook"
    titles = [
        charts.sessions_over_time(frame).get_title("left")
        for frame in (total, by_org, platform, playbook)
    ]
    window = "7 Sep – 29 Nov 2026 (Europe/Berlin)"
    assert titles == [
        f"Sessions created per week, {window}",
        f"Sessions created per week by organization, {window}",
        f"Sessions created per week for organization “Platform”, {window}",
        f"Sessions created per week for playbook “Fix a flaky test”, {window}",
    ]
    assert charts.merge_rate(by_org).get_title("left") == (
        f"Merged-PR rate per week by organization, {window}"
    )
    combined = ", 4 organizations combined, "
    assert combined in charts.origin_mix(by_org).get_title("left")
    assert combined in charts.size_mix(by_org, share=True).get_title("left")
    assert combined in charts.merge_rate(by_org, by_size=True).get_title("left")
    assert combined in charts.acus(by_org).get_title("left")
    assert (
        charts.kpi_summary(by_org)
        .get_title("left")
        .startswith("Last complete week, 4 organizations combined, 16–22 Nov 2026")
    )
    two = by_org[by_org["org_id"].isin(["org-000", "org-002"])]
    assert re.search(
        r", (Platform and Growth|Growth and Platform) combined, ",
        charts.origin_mix(two).get_title("left"),
    )


def test_legends_name_origins_as_people_do() -> None:
    labels = _legend_labels(charts.origin_mix(synthetic_frame(), share=True))
    assert {"Web app", "Code scan", "API"} <= set(labels)
    assert not set(labels) & set(ORIGINS)  # no raw API key such as "webapp" or "code_scan"


def test_share_and_rate_axes_stop_at_100_percent(weekly: pd.DataFrame) -> None:
    for ax in (
        charts.origin_mix(weekly, share=True),
        charts.size_mix(weekly, share=True),
        charts.merge_rate(weekly),
        charts.merge_rate(weekly, by_size=True),
    ):
        assert 0 < ax.get_ylim()[1] <= 1.0, ax.get_title("left")
    assert charts.origin_mix(weekly, share=True).get_ylim()[1] == 1.0
    assert charts.origin_mix(weekly).get_ylim()[1] > 1.0  # counts are not capped


def test_rates_over_too_few_sessions_are_hollow_and_the_note_says_so() -> None:
    xs, merged = "sessions_created_by_size.xs", "sessions_with_merged_prs_by_size.xs"
    frame = synthetic_frame(end="2026-11-23")  # every week complete: nothing else is hollow
    frame = _with_counts(frame, 2, {xs: MIN_SESSIONS - 1, merged: MIN_SESSIONS - 1})
    frame = _with_counts(frame, 3, {xs: MIN_SESSIONS, merged: MIN_SESSIONS})
    ax = charts.merge_rate(frame, by_size=True)
    counts = _values(frame, xs)
    expected = np.flatnonzero((counts > 0) & (counts < MIN_SESSIONS)).astype(float).tolist()
    assert 2.0 in expected and 3.0 not in expected
    assert _hollow(ax) == {charts.SIZE_COLORS["xs"]: expected}
    assert _ydata(_solid(ax)["XS"])[2] == 1.0  # drawn where it is, only hollow
    assert f"hollow: fewer than {MIN_SESSIONS} sessions" in _texts(ax)
    assert "hollow" not in _texts(charts.merge_rate(frame))  # the overall rate rests on more


def test_shares_of_too_few_sessions_are_hollow_bars() -> None:
    frame = synthetic_frame(end="2026-11-23")
    origins = [f"sessions_created_by_origin.{origin}" for origin in ORIGINS]
    small = dict.fromkeys(origins, 2) | {"sessions_created_count": 2 * len(ORIGINS)}
    frame = _with_counts(frame, 4, small)
    ax = charts.origin_mix(frame, share=True)
    for label, patches in _bar_containers(ax).items():
        faces = [patch.get_facecolor() for patch in patches]
        assert faces[4] == to_rgba("white"), label
        assert all(face != to_rgba("white") for i, face in enumerate(faces) if i != 4), label
    assert f"hollow: fewer than {MIN_SESSIONS} sessions" in _texts(ax)
    counts = charts.origin_mix(frame)  # counts are not rates: drawn as they are
    assert all(patches[4].get_facecolor() != to_rgba("white") for patches in counts.containers)


def test_a_partial_point_is_dashed_not_hollow(weekly: pd.DataFrame) -> None:
    ax = charts.merge_rate(weekly)
    (dashed,) = _dashed(ax)
    assert to_rgba(dashed.get_markerfacecolor()) == to_rgba(dashed.get_color())
    assert not _hollow(ax)  # every week of the demo has enough sessions


def test_kpi_table_compares_the_last_complete_bucket_as_ratios_of_sums(
    by_org: pd.DataFrame,
) -> None:
    table = charts.kpi_table(by_org)
    sums = by_org.groupby(level=0)[
        ["sessions_created_count", "sessions_with_merged_prs_count", "acus_total"]
    ].sum()
    current, previous = sums.iloc[-2], sums.iloc[-3]  # the last week is partial
    assert table.attrs["bucket_start"] == sums.index[-2]
    assert table.loc["sessions_created_count", "current"] == current["sessions_created_count"]
    rate = current["sessions_with_merged_prs_count"] / current["sessions_created_count"]
    assert table.loc["merged_pr_rate", "current"] == pytest.approx(rate)
    average = current["acus_total"] / current["sessions_created_count"]
    assert table.loc["avg_acus_per_session", "current"] == pytest.approx(average)
    change = current["sessions_created_count"] - previous["sessions_created_count"]
    assert table.loc["sessions_created_count", "change"] == change
    percent = change / previous["sessions_created_count"] * 100
    assert table.loc["sessions_created_count", "change_pct"] == pytest.approx(percent)
    assert list(table.index) == list(charts.KPI_METRICS)


def test_kpi_table_has_no_comparison_after_a_failed_bucket() -> None:
    frame = synthetic_frame(failed=[9])
    table = charts.kpi_table(frame)  # 11 (23 Nov) is partial: 10 is the last complete week
    assert table.attrs["bucket_start"] == frame.index[10]
    assert table["previous"].isna().all() and table["current"].notna().all()
    ax = charts.kpi_summary(frame)
    assert "no complete week before it to compare" in ax.get_title("left")


def test_kpi_summary_shows_values_and_changes(weekly: pd.DataFrame) -> None:
    ax = charts.kpi_summary(weekly)
    table = charts.kpi_table(weekly)
    texts = _texts(ax)
    sessions = table.loc["sessions_created_count"]
    assert f"{sessions['current']:,.0f}" in texts
    change = labels.change_label(sessions["change"], percent=sessions["change_pct"])
    assert re.fullmatch(r"[▲▼=] [+−±][\d,]+ \([+−±]\d+\.\d%\)", change), change
    assert change in texts.splitlines()  # a count's change is never provisional
    assert re.search(r" [+−±]\d+\.\d pp†", texts)  # the rate's change, in points
    assert ax.get_title("left") == (
        "Last complete week, 16–22 Nov 2026, against the one before (Europe/Berlin)"
    )


def _card_change(metric: str, row: pd.Series) -> str:
    """A card's change as the report writes it: points for the rate, else the change and %."""
    if metric == "merged_pr_rate":
        return labels.change_label(row["change"] * 100, 1, labels.POINTS)
    decimals = 2 if metric == "avg_acus_per_session" else 0
    return labels.change_label(row["change"], decimals, percent=row["change_pct"])


def test_kpi_summary_writes_numbers_as_the_report_does() -> None:
    frame = synthetic_frame(seed=3)
    table = charts.kpi_table(frame)
    assert (table["change"] < 0).any() and table["change_pct"].notna().all()  # a fall, with %
    lines = _texts(charts.kpi_summary(frame)).splitlines()
    assert not any(re.search(r"-\d", line) for line in lines), lines  # no ASCII minus
    for metric, row in table.iterrows():
        marked = bool(row["current_provisional"] or row["previous_provisional"])
        assert labels.provisional_value(_card_change(str(metric), row), marked) in lines, lines
    falls = [line for line in lines if line.startswith("▼")]
    assert falls and all(f"▼ {labels.MINUS}" in line for line in falls)


@pytest.mark.parametrize(
    ("days", "current", "previous"),
    [(3, True, True), (10, True, False), (30, False, False)],
    ids=["both weeks recent", "the week before settled", "both settled"],
)
def test_kpi_summary_marks_provisional_values_and_says_why(
    days: int, current: bool, previous: bool
) -> None:
    frame = synthetic_frame(seed=3)
    end = frame["bucket_end"].iloc[-2]  # the last complete week's end (the last is partial)
    frame.attrs["now"] = end + pd.Timedelta(days=days)
    table = charts.kpi_table(frame)
    assert bool(table.loc["acus_total", "current_provisional"]) is current
    assert bool(table.loc["acus_total", "previous_provisional"]) is previous
    ax = charts.kpi_summary(frame)
    lines = _texts(ax).splitlines()
    for metric, row in table.iterrows():
        settles = metric != "sessions_created_count"
        value = kpi_text(str(metric), row["current"])
        assert labels.provisional_value(value, settles and current) in lines, lines
        change = _card_change(str(metric), row)
        assert labels.provisional_value(change, settles and (current or previous)) in lines
    marks = sum(line.endswith(labels.PROVISIONAL_MARK) for line in lines)
    assert marks == 3 * current + 3 * (current or previous)
    note = labels.provisional_note(table.attrs["settle_period"], "week")
    assert (note in " ".join(_texts(ax).split())) is (current or previous)


def test_titles_state_the_window_and_the_time_zone(
    weekly: pd.DataFrame, daily: pd.DataFrame
) -> None:
    title = charts.sessions_over_time(weekly).get_title("left")
    assert title == "Sessions created per week, 1 Jun – 29 Nov 2026 (Europe/Berlin)"
    assert charts.origin_mix(daily, share=True).get_title("left") == (
        "Share of sessions by origin per day, 1 Oct – 25 Nov 2026 (UTC)"
    )


@pytest.mark.parametrize(
    ("freq", "start", "end", "pattern", "first"),
    [
        ("day", "2026-10-01", "2026-11-26", rf"{WEEKDAY} \d{{1,2}} {MONTH}", "Mon 5 Oct"),
        ("week", "2026-06-01", "2026-11-30", rf"\d{{1,2}} {MONTH}", "1 Jun"),
        ("month", "2026-01-01", "2026-12-01", rf"{MONTH} 2026", "Jan 2026"),
        ("quarter", "2026-01-01", "2027-01-01", r"2026 Q[1-4]", "2026 Q1"),
    ],
)
def test_date_labels_follow_the_frequency(
    client: MetricsClient, freq: str, start: str, end: str, pattern: str, first: str
) -> None:
    frame = _fetch(client, start, end, freq)
    labels = _tick_labels(charts.sessions_over_time(frame))
    assert labels[0] == first
    assert all(re.fullmatch(pattern, label) for label in labels), labels
    assert 3 <= len(labels) <= 13
    inferred = frame.copy()
    inferred.attrs = {}  # no freq: inferred from the bucket lengths
    assert _tick_labels(charts.sessions_over_time(inferred)) == labels


def test_day_labels_fall_on_mondays(daily: pd.DataFrame) -> None:
    labels = _tick_labels(charts.size_mix(daily))
    assert all(label.startswith("Mon ") for label in labels)


def test_draws_on_the_given_axes_without_new_figures(weekly: pd.DataFrame) -> None:
    figure, axes = plt.subplots(2, 3)
    before = plt.get_fignums()
    drawn = [
        charts.sessions_over_time(weekly, ax=axes[0, 0]),
        charts.origin_mix(weekly, ax=axes[0, 1]),
        charts.size_mix(weekly, ax=axes[0, 2]),
        charts.merge_rate(weekly, ax=axes[1, 0]),
        charts.acus(weekly, ax=axes[1, 1]),
        charts.kpi_summary(weekly, ax=axes[1, 2]),
    ]
    assert drawn == list(axes.flat)
    assert plt.get_fignums() == before
    assert all(ax.figure is figure for ax in drawn)


def test_a_frame_that_is_not_a_wide_frame_is_refused() -> None:
    with pytest.raises(ValueError, match="wide frame"):
        charts.sessions_over_time(pd.DataFrame({"sessions_created_count": [1, 2]}))
    with pytest.raises(ValueError, match="breakdown"):
        charts.top_groups(synthetic_frame())


# -- images ----------------------------------------------------------------------------------


def _image_sessions_by_org() -> Axes:
    frame = synthetic_frame(groups=ORGS, failed=[5])
    return charts.sessions_over_time(frame, top=3, ax=_image_axes())


def _image_origin_share() -> Axes:
    frame = synthetic_frame(extra_origin="github", failed=[5])
    return charts.origin_mix(frame, share=True, ax=_image_axes())


def _image_acus() -> Axes:
    frame = synthetic_frame(start="2026-10-26", end="2026-11-26", freq="day", empty=[6])
    return charts.acus(frame, ax=_image_axes())


IMAGES: dict[str, Callable[[], Axes]] = {
    "sessions_by_org": _image_sessions_by_org,
    "origin_share": _image_origin_share,
    "acus_daily": _image_acus,
}


def _image_axes() -> Axes:
    _, ax = plt.subplots(figsize=IMAGE_SIZE, layout="constrained")
    return ax


def render(name: str, path: Path) -> None:
    """Draw image ``name`` to ``path`` under matplotlib's test settings (fixed font, rc)."""
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        set_font_settings_for_testing()
        set_reproducibility_for_testing()
        ax = IMAGES[name]()
        ax.figure.savefig(path, dpi=IMAGE_DPI)
        plt.close(ax.figure)


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_matches_the_baseline_image(name: str, tmp_path: Path) -> None:
    expected = BASELINE / f"{name}.png"
    actual = tmp_path / f"{name}.png"
    render(name, actual)
    difference = compare_images(str(expected), str(actual), tol=IMAGE_TOLERANCE)
    assert difference is None, (
        f"{difference}\nIf the change is intended: .venv/bin/python -m tests.test_charts "
        "--regenerate"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--regenerate", action="store_true", help="rewrite tests/baseline/*.png")
    if not parser.parse_args().regenerate:
        parser.error("nothing to do: pass --regenerate")
    BASELINE.mkdir(exist_ok=True)
    for name in sorted(IMAGES):
        render(name, BASELINE / f"{name}.png")
        print(BASELINE / f"{name}.png")


if __name__ == "__main__":
    main()
