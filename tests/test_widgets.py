"""The filter panel, driven without a kernel: set widget values, click, read outputs and state."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.figure import Figure

import metrics_toolkit as mt
from metrics_toolkit import charts, combine
from metrics_toolkit._constants import FIGSIZE
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, DemoServer, FaultPlan
from metrics_toolkit.demo.simulator import SESSION_METRICS_PATH
from metrics_toolkit.labels import rate_text
from metrics_toolkit.widgets import (
    CHARTS,
    FREQUENCY_WORDS,
    MetricsPanel,
    PanelQuery,
    draw_chart,
)
from metrics_toolkit.widgets._charts import CHART_DPI

from .conftest import NOW

#: The default range at NOW (Wednesday 25 Nov 2026): Monday 31 Aug through Wednesday 25 Nov.
FIRST_DAY = dt.date(2026, 8, 31)
LAST_DAY = dt.date(2026, 11, 25)
WEEKS = 13
COUNT = "sessions_created_count"


def metrics_calls(server: DemoServer) -> int:
    return sum(target.startswith(SESSION_METRICS_PATH) for target in server.requests)


def option_value(control: Any, label: str) -> Any:
    """The value behind a menu label, as a user picks it."""
    matches = [value for text, value in control.options if text == label]
    assert matches, f"no option {label!r} in {[text for text, _ in control.options][:10]}"
    return matches[0]


def output_data(output: Any) -> dict[str, Any]:
    assert len(output.outputs) == 1, output.outputs
    data: dict[str, Any] = output.outputs[0]["data"]
    return data


def http_client(server: DemoServer, **settings: Any) -> mt.MetricsClient:
    settings.setdefault("backoff", 0.0)
    return mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False, now=NOW, **settings)


@pytest.fixture
def panel(demo_client: mt.MetricsClient, tmp_path: Path) -> MetricsPanel:
    return MetricsPanel(demo_client, export_dir=tmp_path)


@pytest.fixture
def directory(demo_client: mt.MetricsClient) -> mt.directory.Directory:
    return demo_client.directory()


@pytest.fixture
def no_new_figures() -> Iterator[None]:
    before = set(plt.get_fignums())
    yield
    assert set(plt.get_fignums()) == before, "the panel left pyplot figures open"


# -- nothing before Apply, then everything --------------------------------------------------------


def test_nothing_is_fetched_while_choosing(demo_api: DemoAPI) -> None:
    with DemoServer(demo_api) as server, http_client(server) as client:
        panel = MetricsPanel(client)
        directory_calls = len(server.requests)
        assert metrics_calls(server) == 0
        panel.freq_buttons.value = "month"
        panel.tz_box.value = "Europe/Berlin"
        panel.breakdown.value = "org"
        panel.selectors["org_ids"].value = (option_value(panel.selectors["org_ids"], "Mobile"),)
        panel.typed["user_ids"].value = "user-0123456789abcdef"
        panel.playbook_menu.value = option_value(panel.playbook_menu, "Fix a flaky test")
        panel.chart_menu.value = "merge_rate"
        assert len(server.requests) == directory_calls
        assert metrics_calls(server) == 0
        assert panel.frame is None
        assert panel.chart_output.outputs == ()
        assert "press Apply" in panel.status_text

        panel.apply_button.click()

        assert panel.error is None, panel.problem_text
        assert metrics_calls(server) == panel.frame.attrs["fetch_stats"].calls > 0


def test_apply_shows_progress_chart_table_and_status(
    panel: MetricsPanel, no_new_figures: None
) -> None:
    panel.apply_button.click()

    frame = panel.frame
    assert frame is not None and panel.error is None, panel.problem_text
    assert len(frame) == WEEKS
    stats = frame.attrs["fetch_stats"]
    assert (
        (panel.progress.value, panel.progress.max) == (stats.calls, stats.calls) == (WEEKS, WEEKS)
    )
    assert panel.progress.bar_style == "success"
    png = base64.b64decode(output_data(panel.chart_output)["image/png"])
    assert png.startswith(b"\x89PNG")
    table = output_data(panel.table_output)["text/html"]
    assert table.count("<tr") == WEEKS + 1  # the heading row, then one per bucket
    assert f"<td>{FIRST_DAY.isoformat()}</td>" in table
    assert f"{int(frame[COUNT].iloc[0]):,}" in table
    assert "partial" in table  # the current week is marked
    status = panel.status_text
    assert f"{WEEKS} weekly buckets" in status
    assert f"0 from cache, {WEEKS} fetched, 0 failed in" in status
    assert re.search(r"in \d+\.\d s", status)
    assert panel.problem_text == ""
    assert not panel.export_button.disabled


def test_the_status_counts_answers_from_the_cache(panel: MetricsPanel) -> None:
    panel.apply()
    panel.apply()
    # the current week is still open, so it is asked again; the finished ones are not
    assert f"{WEEKS - 1} from cache, 1 fetched, 0 failed" in panel.status_text


def test_query_reflects_the_controls(panel: MetricsPanel, directory: Any) -> None:
    assert panel.query == PanelQuery(start=FIRST_DAY, end=LAST_DAY)
    platform = directory.id("org", "Platform")
    playbook = directory.id("playbook", "Fix a flaky test")
    panel.start_picker.value = dt.date(2026, 10, 1)
    panel.end_picker.value = dt.date(2026, 10, 31)
    panel.freq_buttons.value = "day"
    panel.tz_box.value = "America/New_York"
    panel.breakdown.value = option_value(panel.breakdown, "service user")
    panel.selectors["org_ids"].value = (option_value(panel.selectors["org_ids"], "Platform"),)
    panel.playbook_menu.value = option_value(panel.playbook_menu, "Fix a flaky test")
    panel.chart_menu.value = option_value(panel.chart_menu, "Sizes (shares)")

    assert panel.query == PanelQuery(
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 10, 31),
        freq="day",
        tz="America/New_York",
        by="service_user",
        org_ids=(platform,),
        playbook_id=playbook,
        chart="size_share",
    )
    assert panel.query.fetch_options()["end"] == "2026-11-01"  # the last day is included


@pytest.mark.parametrize(
    ("freq", "buckets", "second"),
    [
        ("day", 87, "2026-09-01"),
        ("week", WEEKS, "2026-09-07"),
        ("month", 4, "2026-09-01"),  # [31 Aug, 1 Sep) is a clipped first bucket
        ("quarter", 2, "2026-10-01"),
    ],
)
def test_frequency_reaches_the_frame(
    panel: MetricsPanel, freq: str, buckets: int, second: str
) -> None:
    panel.freq_buttons.value = freq
    frame = panel.apply()

    assert panel.query.freq == freq
    assert frame is not None, panel.problem_text
    assert frame.attrs["freq"] == freq
    assert len(frame) == buckets
    assert frame.index[0] == pd.Timestamp(FIRST_DAY, tz="UTC")
    assert frame.index[1] == pd.Timestamp(second, tz="UTC")
    assert f"{buckets} {FREQUENCY_WORDS[freq]} buckets" in panel.status_text


def test_time_zone_reaches_the_frame(panel: MetricsPanel) -> None:
    panel.tz_box.value = "Asia/Tokyo"
    frame = panel.apply()

    assert frame is not None, panel.problem_text
    assert str(frame.index.tz) == "Asia/Tokyo"
    assert frame.index[0] == pd.Timestamp("2026-08-31", tz="Asia/Tokyo")


def test_breakdown_by_org_labels_every_org(
    panel: MetricsPanel, demo_client: mt.MetricsClient, directory: Any
) -> None:
    panel.breakdown.value = "org"
    frame = panel.apply()

    assert frame is not None, panel.problem_text
    assert set(frame["org_id"]) == set(directory.ids("org"))
    assert set(frame["org_name"]) == set(directory.names("org").values())
    assert f"{WEEKS} weekly buckets x 5 organizations" in panel.status_text
    total = demo_client.session_metrics_frame(
        FIRST_DAY.isoformat(), "2026-11-26", "week", progress=False
    )
    by_bucket = frame.groupby(level=0)[COUNT].sum()
    assert by_bucket.tolist() == total[COUNT].tolist()


def test_filters_chosen_by_name_are_ids_in_the_query_and_the_frame(
    panel: MetricsPanel, demo_client: mt.MetricsClient, directory: Any
) -> None:
    growth, mobile = directory.id("org", "Growth"), directory.id("org", "Mobile")
    bot = directory.id("service_user", "ci-bot")
    orgs = panel.selectors["org_ids"]
    orgs.value = (option_value(orgs, "Growth"), option_value(orgs, "Mobile"))
    panel.selectors["service_user_ids"].value = (bot,)
    frame = panel.apply()

    assert panel.query.org_ids == (growth, mobile)
    assert panel.query.service_user_ids == (bot,)
    assert frame is not None, panel.problem_text
    expected = demo_client.session_metrics_frame(
        FIRST_DAY.isoformat(),
        "2026-11-26",
        "week",
        org_ids=[growth, mobile],
        service_user_ids=[bot],
        progress=False,
    )
    assert frame[COUNT].tolist() == expected[COUNT].tolist()
    unfiltered = demo_client.session_metrics_frame(
        FIRST_DAY.isoformat(), "2026-11-26", "week", progress=False
    )
    assert frame[COUNT].sum() < unfiltered[COUNT].sum()


def test_playbook_is_chosen_by_title(panel: MetricsPanel, directory: Any) -> None:
    labels = [label for label, _ in panel.playbook_menu.options]
    assert labels[0] == "any"
    assert "Fix a flaky test" in labels
    panel.playbook_menu.value = option_value(panel.playbook_menu, "Fix a flaky test")
    frame = panel.apply()

    assert panel.query.playbook_id == directory.id("playbook", "Fix a flaky test")
    assert frame is not None, panel.problem_text
    assert (frame["sessions_created_with_playbook_count"] == frame[COUNT]).all()


def test_typed_ids_names_and_emails_are_accepted(panel: MetricsPanel, directory: Any) -> None:
    user = directory.users[0]
    unknown = "user-00000000deadbeef"  # not in the directory (a deleted user): kept as typed
    panel.typed["user_ids"].value = f"{user.user_id}, {user.email}; {unknown}"
    panel.typed["org_ids"].value = "platform"

    query = panel.query
    assert query.user_ids == (user.user_id, unknown)
    assert query.org_ids == (directory.id("org", "Platform"),)

    frame = panel.apply()
    assert frame is not None, panel.problem_text
    assert panel.error is None


def test_a_typed_id_is_combined_with_the_selection(panel: MetricsPanel, directory: Any) -> None:
    growth, data = directory.id("org", "Growth"), directory.id("org", "Data")
    panel.selectors["org_ids"].value = (growth,)
    panel.typed["org_ids"].value = data
    assert panel.query.org_ids == (growth, data)


def test_a_mistyped_name_is_shown_with_suggestions(panel: MetricsPanel) -> None:
    panel.typed["org_ids"].value = "Platfrom"
    panel.apply_button.click()  # raises nothing

    assert isinstance(panel.error, mt.InvalidParameterError)
    assert panel.error.parameter == "org_ids"
    assert "org_ids: no org named 'Platfrom'; did you mean 'Platform'?" in panel.problem_text
    assert panel.frame is None
    assert "a choice is invalid" in panel.status_text


def test_a_breakdown_takes_its_groups_from_the_matching_filter(
    panel: MetricsPanel, directory: Any
) -> None:
    chosen = [directory.id("org", "Growth"), directory.id("org", "Data")]
    panel.breakdown.value = "org"
    panel.selectors["org_ids"].value = tuple(chosen)
    frame = panel.apply()

    assert frame is not None, panel.problem_text
    assert set(frame["org_id"]) == set(chosen)
    assert "x 2 organizations" in panel.status_text


def test_a_breakdown_table_is_pivoted_buckets_by_groups(panel: MetricsPanel) -> None:
    panel.breakdown.value = "org"
    frame = panel.apply()

    assert frame is not None, panel.problem_text
    table = output_data(panel.table_output)["text/html"]
    assert table.count("<tr") == 2 + WEEKS  # two heading rows, then one per bucket (not 5 x 13)
    ranked = frame.groupby("org_name")[COUNT].sum().sort_values(ascending=False).index.tolist()
    headings = [table.index(f'colspan="2">{name}</th>') for name in ranked]
    assert headings == sorted(headings)  # largest first, as the charts rank them
    first = frame.loc[frame.index[0]].set_index("org_name")
    cells = [FIRST_DAY.isoformat()]
    for name in ranked:
        cells += [f"{int(first.loc[name, COUNT]):,}", rate_text(first.loc[name, "merged_pr_rate"])]
    cells.append("")  # the first week is complete
    assert "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>" in table
    assert table.count("<td>partial") == 1  # the current week, once for all its groups
    assert "sessions" in output_data(panel.table_output)["text/plain"].splitlines()[1]


def test_breakdown_groups_set_in_code(panel: MetricsPanel, directory: Any) -> None:
    playbooks = tuple(directory.ids("playbook")[:2])
    panel.query = PanelQuery(
        start=dt.date(2026, 11, 2), end=dt.date(2026, 11, 15), by="playbook", ids=playbooks
    )
    assert panel.query.ids == playbooks
    frame = panel.apply()

    assert frame is not None, panel.problem_text
    assert tuple(dict.fromkeys(frame["playbook_id"])) == playbooks
    assert len(frame) == 2 * 2
    panel.breakdown.value = "org"  # a breakdown chosen in the panel forgets them
    assert panel.query.ids is None


# -- errors are shown, never raised ---------------------------------------------------------------


def test_an_invalid_time_zone_is_named_in_the_panel(panel: MetricsPanel) -> None:
    panel.tz_box.value = "Mars/Olympus"
    assert "not an IANA time zone" in panel.tz_hint.value
    panel.apply_button.click()

    assert isinstance(panel.error, mt.InvalidParameterError)
    assert panel.error.parameter == "tz"
    assert "tz: 'Mars/Olympus' is not an IANA time zone name" in panel.problem_text
    assert panel.frame is None
    assert not panel.apply_button.disabled

    panel.tz_box.value = "Europe/Berlin"
    assert panel.tz_hint.value == ""
    assert panel.apply() is not None
    assert panel.problem_text == ""


@pytest.mark.parametrize(
    ("control", "value", "parameter", "message"),
    [
        ("start_picker", None, "start", "no date chosen"),
        ("end_picker", dt.date(2026, 8, 1), "end", "is before the first day"),
    ],
)
def test_invalid_dates_are_named_in_the_panel(
    panel: MetricsPanel, control: str, value: Any, parameter: str, message: str
) -> None:
    getattr(panel, control).value = value
    assert panel.apply() is None
    assert isinstance(panel.error, mt.InvalidParameterError)
    assert panel.error.parameter == parameter
    assert f"{parameter}: " in panel.problem_text and message in panel.problem_text


def test_a_server_that_always_fails_is_shown(demo_api: DemoAPI) -> None:
    faults = FaultPlan(server_error=1.0)
    with DemoServer(demo_api, faults=faults) as server, http_client(server, max_retries=0) as c:
        panel = MetricsPanel(c)  # the directory fails too: the panel still opens
        assert isinstance(panel.error, mt.ServerError)
        assert "directory could not be loaded" in panel.problem_text
        assert "HTTP 5" in panel.problem_text
        assert panel.selectors["org_ids"].options == ()

        panel.apply_button.click()  # raises nothing

        assert panel.frame is not None and panel.frame["failed"].all()
        assert f"{WEEKS} failed" in panel.status_text
        problems = panel.problem_text
        assert f"{WEEKS} of {WEEKS} calls failed" in problems
        assert f"{FIRST_DAY} to 2026-09-07" in problems and "and 5 more buckets" in problems
        assert re.search(r"\d+ x ServerError: HTTP 5\d\d", problems)
        assert panel.progress.bar_style == "warning"


def test_a_partial_failure_names_the_missing_buckets(demo_api: DemoAPI) -> None:
    broken = int(pd.Timestamp("2026-09-14", tz="UTC").timestamp())
    faults = FaultPlan(failing_time_after=frozenset({broken}))
    with DemoServer(demo_api, faults=faults) as server, http_client(server, max_retries=0) as c:
        panel = MetricsPanel(c)
        panel.apply_button.click()

        frame = panel.frame
        assert frame is not None and panel.error is None
        assert frame["failed"].sum() == 1
        assert frame.loc[pd.Timestamp("2026-09-14", tz="UTC"), COUNT] is pd.NA
        assert frame[COUNT].drop(pd.Timestamp("2026-09-14", tz="UTC")).notna().all()
        assert f"{WEEKS - 1} fetched, 1 failed" in panel.status_text
        problems = panel.problem_text
        assert f"1 of {WEEKS} calls failed" in problems
        assert "Missing: 2026-09-14 to 2026-09-21 Because of:" in problems
        assert "1 x ServerError: HTTP 500" in problems
        assert output_data(panel.chart_output)["image/png"]  # the rest is still drawn
        assert "failed" in output_data(panel.table_output)["text/html"]

        panel.breakdown.value = "org"
        panel.apply_button.click()
        assert "5 of 65 calls failed" in panel.problem_text
        assert (
            "2026-09-14 to 2026-09-21 — organizations Data, Growth, Mobile, Payments, Platform"
            in panel.problem_text
        )
        assert "5 x ServerError: HTTP 500" in panel.problem_text
        table = output_data(panel.table_output)["text/html"]
        assert "<td>failed: Data, Growth, Mobile, Payments, Platform</td>" in table


def test_an_unexpected_exception_is_shown_with_its_traceback(
    panel: MetricsPanel, demo_client: mt.MetricsClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the wires are crossed")

    monkeypatch.setattr(demo_client, "request", broken)
    panel.apply_button.click()  # raises nothing

    assert isinstance(panel.error, RuntimeError)
    assert "The fetch failed (RuntimeError): the wires are crossed" in panel.problem_text
    assert "traceback" in panel.problems.value and "Traceback (most recent call last)" in (
        panel.problems.value
    )
    assert not panel.apply_button.disabled


def test_a_previous_result_stays_after_a_failed_apply(panel: MetricsPanel) -> None:
    first = panel.apply()
    panel.tz_box.value = "Nowhere/Special"
    assert panel.apply() is None
    assert panel.frame is first
    assert "still show the previous result" in panel.status_text


def test_a_chart_that_cannot_be_drawn_is_shown(
    panel: MetricsPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(frame: pd.DataFrame, *, ax: Any = None) -> Any:
        raise ValueError("no ink")

    monkeypatch.setitem(CHARTS, "acus", dataclasses.replace(CHARTS["acus"], function=broken))
    panel.apply()
    panel.chart_menu.value = "acus"
    assert "The chart 'ACUs' could not be drawn (ValueError): no ink" in panel.problem_text
    assert panel.chart_output.outputs == ()
    panel.chart_menu.value = "merge_rate"
    assert output_data(panel.chart_output)["image/png"]


# -- charts ---------------------------------------------------------------------------------------


def test_every_chart_of_the_menu_exists_in_the_charts_module() -> None:
    for key, spec in CHARTS.items():
        assert getattr(charts, spec.function.__name__, None) is spec.function, (key, spec.function)


def test_the_chart_menu_redraws_without_fetching(demo_api: DemoAPI, no_new_figures: None) -> None:
    with DemoServer(demo_api) as server, http_client(server) as client:
        panel = MetricsPanel(client)
        panel.breakdown.value = "org"
        panel.apply()
        calls = len(server.requests)
        images = set()
        for key in CHARTS:
            panel.chart_menu.value = key
            assert panel.problem_text == "", (key, panel.problem_text)
            images.add(output_data(panel.chart_output)["image/png"])
        assert len(images) == len(CHARTS)
        assert len(server.requests) == calls
        assert "Choices changed" not in panel.pending_hint.value


@pytest.mark.parametrize("chart", list(CHARTS))
def test_draw_chart_returns_a_figure_outside_pyplot(
    demo_client: mt.MetricsClient, chart: str, no_new_figures: None
) -> None:
    frame = demo_client.session_metrics_frame("2026-09-07", "2026-11-02", "week", progress=False)
    figure = draw_chart(frame, chart)
    assert figure.axes and figure.get_size_inches().tolist() == list(CHARTS[chart].figsize)


def test_a_breakdown_is_drawn_per_group_or_said_to_be_combined(
    demo_client: mt.MetricsClient, no_new_figures: None
) -> None:
    frame = demo_client.session_metrics_frame(
        "2026-09-07", "2026-11-02", "week", by="org", progress=False
    )
    ranked = frame.groupby("org_name")[COUNT].sum().sort_values(ascending=False).index.tolist()
    for chart in ("sessions_over_time", "merge_rate"):
        ax = draw_chart(frame, chart).axes[0]
        legend = ax.get_legend()
        assert legend is not None and [t.get_text() for t in legend.get_texts()] == ranked
        assert " per week by organization, " in ax.get_title("left")
    rates = draw_chart(frame, "merge_rate").axes[0]
    for line in rates.get_lines():
        if line.get_linestyle() == "-":
            rows = frame[frame["org_name"] == line.get_label()]
            expected = combine.combine_groups(rows)["merged_pr_rate"].to_numpy(dtype=float)
            assert list(line.get_ydata()) == pytest.approx(list(expected), nan_ok=True)
    for chart in set(CHARTS) - {"sessions_over_time", "merge_rate"}:
        title = draw_chart(frame, chart).axes[0].get_title("left")
        assert ", 5 organizations combined" in title, (chart, title)


def test_draw_chart_refuses_an_unknown_chart(demo_client: mt.MetricsClient) -> None:
    with pytest.raises(mt.InvalidParameterError, match="chart: got 'pie'"):
        draw_chart(pd.DataFrame(), "pie")


def test_changing_a_choice_after_a_result_asks_for_apply(panel: MetricsPanel) -> None:
    panel.freq_buttons.value = "month"
    assert panel.pending_hint.value == ""  # nothing to compare with yet
    panel.apply()
    panel.freq_buttons.value = "week"
    assert "press Apply" in panel.pending_hint.value
    panel.apply()
    assert panel.pending_hint.value == ""


# -- export ---------------------------------------------------------------------------------------


def read_back(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, index_col="bucket_start")
    table.index = pd.to_datetime(table.index, utc=True)
    return table


def comparable(frame: pd.DataFrame) -> pd.DataFrame:
    table = frame.copy()
    table.attrs = {}
    table.index = table.index.tz_convert("UTC")
    table["bucket_end"] = pd.to_datetime(table["bucket_end"], utc=True)
    return table


@pytest.mark.parametrize("by", [None, "org"])
def test_export_writes_a_csv_equal_to_the_frame(
    panel: MetricsPanel, tmp_path: Path, by: str | None
) -> None:
    panel.breakdown.value = by or ""
    panel.tz_box.value = "Europe/Berlin"
    frame = panel.apply()
    assert frame is not None, panel.problem_text

    panel.export_button.click()

    path = panel.last_export
    assert path is not None and path.parent == tmp_path
    expected_name = f"metrics_week_{FIRST_DAY}_{LAST_DAY}{'_by-org' if by else ''}.csv"
    assert path.name == expected_name
    table = read_back(path)
    table["bucket_end"] = pd.to_datetime(table["bucket_end"], utc=True)
    pd.testing.assert_frame_equal(table, comparable(frame), check_dtype=False)
    assert f"CSV written to {path} ({len(frame)} rows)" in panel.status_text
    link = panel.download_link.value
    payload = re.search(r'href="data:text/csv;base64,([^"]+)"', link)
    assert payload is not None
    assert base64.b64decode(payload.group(1)).decode("utf-8") == path.read_text("utf-8")
    assert f'download="{expected_name}"' in link


def test_export_defaults_to_the_working_directory(
    demo_client: mt.MetricsClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    panel = MetricsPanel(demo_client)
    panel.apply()
    written = panel.export_csv()
    assert written == tmp_path / f"metrics_week_{FIRST_DAY}_{LAST_DAY}.csv"
    assert written.exists()
    assert f"CSV written to {written} ({WEEKS} rows)" in panel.status_text
    panel.export_csv()
    assert panel.status_text.count("CSV written") == 1


def test_export_before_apply_is_refused(panel: MetricsPanel) -> None:
    assert panel.export_button.disabled
    with pytest.raises(mt.InvalidParameterError, match="press Apply first"):
        panel.export_csv()


# -- programmatic access --------------------------------------------------------------------------


def test_on_result_callbacks_fire_on_every_new_result(panel: MetricsPanel) -> None:
    seen: list[pd.DataFrame] = []
    also: list[int] = []

    def keep(frame: pd.DataFrame) -> None:
        seen.append(frame)

    assert panel.on_result(keep) is keep
    panel.on_result(lambda frame: also.append(len(frame)))

    first = panel.apply()
    panel.freq_buttons.value = "month"
    panel.apply_button.click()
    assert [id(f) for f in seen] == [id(first), id(panel.frame)]
    assert also == [WEEKS, 4]

    panel.tz_box.value = "Atlantis/Capital"
    panel.apply()  # a failure is not a result
    assert len(seen) == 2

    panel.on_result(keep, remove=True)
    panel.tz_box.value = "UTC"
    panel.apply()
    assert len(seen) == 2 and len(also) == 3


def test_a_failing_callback_is_shown_and_the_result_stays(panel: MetricsPanel) -> None:
    def fussy(frame: pd.DataFrame) -> None:
        raise KeyError("no such column")

    panel.on_result(fussy)
    frame = panel.apply()
    assert frame is not None and panel.frame is frame
    assert "The on_result callback" in panel.problem_text and "fussy" in panel.problem_text
    assert "KeyError" in panel.problem_text


def test_setting_the_query_moves_the_controls(panel: MetricsPanel, directory: Any) -> None:
    platform = directory.id("org", "Platform")
    user = directory.ids("user")[3]
    deleted = "user-00000000deadbeef"
    playbook = directory.id("playbook", "Fix a flaky test")
    query = PanelQuery(
        start=dt.date(2026, 9, 1),
        end=dt.date(2026, 9, 30),
        freq="day",
        tz="Europe/Berlin",
        by="user",
        org_ids=[platform],
        user_ids=[user, deleted],
        playbook_id=playbook,
        chart="acus",
    )
    panel.query = query

    assert panel.query == query
    assert panel.freq_buttons.value == "day"
    assert panel.selectors["org_ids"].value == (platform,)
    assert panel.selectors["user_ids"].value == (user,)
    assert panel.typed["user_ids"].value == deleted
    assert panel.playbook_menu.value == playbook
    assert panel.frame is None  # setting the query fetches nothing


@pytest.mark.parametrize(
    ("freq", "first_day"),
    [
        ("day", dt.date(2026, 10, 29)),
        ("week", FIRST_DAY),
        ("month", dt.date(2026, 6, 1)),
        ("quarter", dt.date(2026, 1, 1)),
    ],
)
def test_the_default_range_starts_with_a_whole_bucket(
    demo_client: mt.MetricsClient, freq: str, first_day: dt.date
) -> None:
    query = MetricsPanel(demo_client, freq=freq).query
    assert (query.start, query.end) == (first_day, LAST_DAY)
    frame = MetricsPanel(demo_client, freq=freq).apply()
    assert frame is not None and not frame["clipped"].iloc[0]


def test_the_constructor_takes_initial_choices(demo_client: mt.MetricsClient) -> None:
    panel = MetricsPanel(
        demo_client,
        start="2026-10-01",
        end=dt.datetime(2026, 10, 31, 12),
        freq="month",
        tz="Asia/Kolkata",
        by="org",
        chart="kpi_summary",
    )
    assert panel.query == PanelQuery(
        start=dt.date(2026, 10, 1),
        end=dt.date(2026, 10, 31),
        freq="month",
        tz="Asia/Kolkata",
        by="org",
        chart="kpi_summary",
    )


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"freq": "fortnight"}, "freq"),
        ({"tz": "Europe/Berlni"}, "tz"),
        ({"by": "team"}, "by"),
        ({"chart": "pie"}, "chart"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-09-01junk"}, "start"),
        ({"end": "1.9.2026"}, "end"),
        ({"start": "2026-11-01", "end": "2026-10-01"}, "end"),
    ],
)
def test_the_constructor_refuses_bad_choices(
    demo_client: mt.MetricsClient, options: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(mt.InvalidParameterError) as raised:
        MetricsPanel(demo_client, **options)
    assert raised.value.parameter == parameter


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("2026-09-01junk", "is not an ISO 8601 date (YYYY-MM-DD)"),
        ("1.9.2026", "(write 2026-09-01 or 2026-01-09)"),
        ("2026-09-01 junk", "is not an ISO 8601 date (YYYY-MM-DD)"),
        ("2026-09-31", "day is out of range"),
    ],
)
def test_the_panel_refuses_the_dates_the_api_refuses(
    demo_client: mt.MetricsClient, text: str, hint: str
) -> None:
    with pytest.raises(mt.InvalidParameterError) as api:
        demo_client.session_metrics_frame(text, "2026-10-01", progress=False)
    assert hint in str(api.value)
    with pytest.raises(mt.InvalidParameterError) as panel:
        MetricsPanel(demo_client, start=text, end="2026-10-01")
    assert panel.value.parameter == "start"
    assert f"start: {text!r} is not an ISO 8601 date" in str(panel.value)
    assert hint in str(panel.value)
    with pytest.raises(mt.InvalidParameterError) as end:
        MetricsPanel(demo_client, start="2026-09-01", end=text)
    assert end.value.parameter == "end" and hint in str(end.value)
    with pytest.raises(ValueError, match="is not an ISO 8601 date") as query:
        PanelQuery(start=text, end="2026-10-01")
    assert hint in str(query.value)


def test_the_panel_takes_the_dates_the_api_takes(demo_client: mt.MetricsClient) -> None:
    panel = MetricsPanel(demo_client, start="2026-09-01", end="2026-09-30T23:00", tz="UTC")
    assert (panel.query.start, panel.query.end) == (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    frame = panel.apply()
    assert frame is not None and panel.error is None
    assert frame.index[0] <= pd.Timestamp("2026-09-01", tz="UTC") < frame["bucket_end"].iloc[0]
    late = PanelQuery(start="2026-09-01T22:30:00-05:00", end="2026-09-02", tz="Europe/Berlin")
    assert late.start == dt.date(2026, 9, 2)  # 05:30 on 2 Sep in Berlin, the query's calendar
    utc = MetricsPanel(demo_client, start="2026-08-31", end="2026-09-02T00:30+05:00", tz="UTC")
    assert utc.query.end == dt.date(2026, 9, 1)  # 19:30 on 1 Sep in UTC
    assert PanelQuery(start=dt.datetime(2026, 9, 1, 12), end="2026-09-02").start == dt.date(
        2026, 9, 1
    )


def test_a_given_directory_is_used_without_any_call(demo_api: DemoAPI, directory: Any) -> None:
    with DemoServer(demo_api) as server, http_client(server) as client:
        panel = MetricsPanel(client, directory=directory)
        assert server.requests == ()
        assert len(panel.selectors["user_ids"].options) == len(directory.ids("user"))


def test_the_panel_displays_as_its_widget(panel: MetricsPanel) -> None:
    bundle = panel._repr_mimebundle_()
    view = bundle["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == panel.widget.model_id


def test_panel_query_validates_and_names_fields() -> None:
    query = PanelQuery(start="2026-11-02", end="2026-11-08", org_ids=[], playbook_id="")
    assert query.org_ids is None and query.playbook_id is None
    assert query.fetch_options() == {
        "start": "2026-11-02",
        "end": "2026-11-09",
        "freq": "week",
        "tz": "UTC",
        "by": None,
        "ids": None,
        "org_ids": None,
        "user_ids": None,
        "service_user_ids": None,
        "playbook_id": None,
    }
    with pytest.raises(ValueError, match="ids are the groups of a breakdown"):
        PanelQuery(start="2026-11-02", end="2026-11-08", ids=["org-1"])
    with pytest.raises(ValueError, match="user_ids"):
        PanelQuery(start="2026-11-02", end="2026-11-08", user_ids=[""])


# -- the notebook ---------------------------------------------------------------------------------

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "explore.ipynb"


def test_the_notebook_is_committed_without_outputs() -> None:
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]


@pytest.mark.notebook
def test_the_notebook_runs_over_the_demo(tmp_path: Path) -> None:
    import nbclient
    import nbformat

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    texts = [
        str(output.get("data", {}).get("text/html", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    ]
    assert any("demo data" in text.lower() for text in texts), texts
    views = [
        output["data"]["application/vnd.jupyter.widget-view+json"]
        for output in notebook.cells[-1].outputs
        if "application/vnd.jupyter.widget-view+json" in output.get("data", {})
    ]
    assert len(views) == 1, notebook.cells[-1].outputs


def test_the_last_day_field_says_it_is_included(panel: MetricsPanel) -> None:
    """The panel's end is a last day, included; the command line's --end is the next day."""
    assert panel.end_picker.description == "Last day"
    assert panel.end_picker.tooltip.startswith("included: data to the end of this day")
    assert "--end is the next day" in panel.end_picker.tooltip
    panel.start_picker.value = dt.date(2026, 10, 26)
    panel.end_picker.value = dt.date(2026, 10, 31)
    panel.freq_buttons.value = "day"
    panel.apply()
    assert panel.frame is not None
    assert panel.frame["bucket_end"].iloc[-1] == pd.Timestamp("2026-11-01", tz="UTC")


# -- the metric chooser ------------------------------------------------------------------------


def calls_to(server: DemoServer, tail: str) -> int:
    """Requests whose path holds ``tail`` (``"/metrics/prs"``, ``"/consumption/daily"``)."""
    return sum(tail in target.split("?")[0] for target in server.requests)


def chart_png(panel: MetricsPanel) -> bytes:
    return base64.b64decode(output_data(panel.chart_output)["image/png"])


def family_png(frame: pd.DataFrame, chart: Any) -> bytes:
    """``chart`` of :mod:`metrics_toolkit.charts` drawn as the panel draws its charts."""
    figure = Figure(figsize=FIGSIZE, layout="constrained")
    chart(frame, ax=figure.subplots())
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=CHART_DPI)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("metric", "tail", "column", "chart"),
    [
        ("prs", "/metrics/prs", "prs_created_count", charts.pr_outcomes),
        ("active_users", "/metrics/active-users", "active_users", charts.active_users),
        ("consumption", "/consumption/daily", "acus", charts.consumption_by_product),
        ("categories", "/metrics/sessions-by-category", "sessions_count", charts.categories),
    ],
)
def test_switching_the_metric_fetches_it_on_apply_only(
    demo_api: DemoAPI, metric: str, tail: str, column: str, chart: Any, no_new_figures: None
) -> None:
    with DemoServer(demo_api) as server, http_client(server) as client:
        panel = MetricsPanel(client)
        panel.apply()
        sessions_chart, sessions_table = chart_png(panel), output_data(panel.table_output)
        sessions_status = panel.status_text

        panel.metric_menu.value = metric
        assert calls_to(server, tail) == 0  # choosing fetches nothing
        assert panel.pending_hint.value  # and asks for Apply
        panel.apply_button.click()

        assert panel.error is None, panel.problem_text
        assert calls_to(server, tail) > 0
        frame = panel.frame
        assert frame is not None and panel.query.metric == metric
        assert frame.attrs["endpoint"] == metric
        assert column in frame.columns
        label = mt.widgets.METRIC_CHOICES[metric].label
        assert panel.status_text.startswith(f"{label} · ") and panel.status_text != sessions_status
        assert chart_png(panel) != sessions_chart
        assert chart_png(panel) == family_png(frame, chart)  # the family's own chart

        table = output_data(panel.table_output)
        assert table != sessions_table
        first = frame[column].dropna().iloc[0]
        shown = f"{first:,.1f}" if isinstance(first, float) else f"{int(first):,}"
        assert f"<td>{shown}</td>" in table["text/html"]


def test_filters_an_endpoint_does_not_take_are_disabled_with_the_reason(
    panel: MetricsPanel,
) -> None:
    for control in (*panel.selectors.values(), *panel.typed.values(), panel.playbook_menu):
        assert not control.disabled and control.tooltip is None

    panel.metric_menu.value = "consumption"
    for control in (*panel.selectors.values(), *panel.typed.values(), panel.playbook_menu):
        assert control.disabled
        assert control.tooltip.startswith("consumption takes no filter: ")
    assert panel.tz_box.disabled and "billing day" in panel.tz_box.tooltip
    assert panel.chart_menu.disabled and panel.chart_menu.tooltip

    panel.metric_menu.value = "active_users"
    assert not panel.selectors["org_ids"].disabled and panel.selectors["org_ids"].tooltip is None
    for name in ("user_ids", "service_user_ids"):
        assert panel.selectors[name].disabled
        assert panel.selectors[name].tooltip.startswith(
            "active users take only the filter of organizations: "
        )
    assert panel.playbook_menu.disabled and not panel.tz_box.disabled

    panel.metric_menu.value = "prs"  # the PR metrics take every filter of the sessions
    for control in (*panel.selectors.values(), *panel.typed.values(), panel.playbook_menu):
        assert not control.disabled and control.tooltip is None


def test_the_tooltips_are_read_from_the_declarations() -> None:
    from metrics_toolkit._endpoints import METRICS
    from metrics_toolkit.widgets._metrics import filter_reason

    for key, choice in mt.widgets.METRIC_CHOICES.items():
        endpoint = METRICS[choice.metric].enterprise
        for kind in mt._vocabulary.KINDS.values():
            taken = kind.filter_param in endpoint.filters
            assert (filter_reason(key, kind.filter_param) is None) == taken, (key, kind.name)


def test_a_disabled_filter_is_not_sent_and_comes_back_with_its_metric(
    demo_api: DemoAPI, directory: Any
) -> None:
    with DemoServer(demo_api) as server, http_client(server) as client:
        panel = MetricsPanel(client, directory=directory)
        user = next(iter(directory.names("user")))
        panel.typed["user_ids"].value = user
        panel.metric_menu.value = "active_users"
        assert panel.query.user_ids is None  # off: the endpoint does not take it
        panel.apply()
        assert panel.error is None, panel.problem_text
        assert not any("user_ids" in target for target in server.requests)
        panel.metric_menu.value = "sessions"
        assert panel.query.user_ids == (user,)


def test_breakdowns_an_endpoint_does_not_take_are_left_out_with_the_reason(
    panel: MetricsPanel,
) -> None:
    assert [value for _, value in panel.breakdown.options] == [
        "",
        "org",
        "user",
        "service_user",
        "playbook",
    ]
    panel.breakdown.value = "playbook"
    panel.metric_menu.value = "active_users"
    assert [value for _, value in panel.breakdown.options] == ["", "org"]
    assert panel.breakdown.value == ""  # the playbook breakdown is gone with its option
    assert panel.breakdown.tooltip == (
        "Active users can be broken down by organization only, not by user, service user "
        "and playbook"
    )
    panel.metric_menu.value = "categories"
    assert panel.breakdown.disabled
    assert panel.breakdown.tooltip == "sessions by category cannot be broken down"
    panel.metric_menu.value = "sessions"
    assert not panel.breakdown.disabled and panel.breakdown.tooltip is None


def test_a_query_with_a_filter_its_metric_does_not_take_is_refused() -> None:
    with pytest.raises(ValueError, match="org_ids: consumption takes no filter"):
        PanelQuery(start=FIRST_DAY, end=LAST_DAY, metric="consumption", org_ids=["org-1"])
    with pytest.raises(ValueError, match="by: sessions by category cannot be broken down"):
        PanelQuery(start=FIRST_DAY, end=LAST_DAY, metric="categories", by="org")
    with pytest.raises(ValueError, match="metric: got 'weather'"):
        PanelQuery(start=FIRST_DAY, end=LAST_DAY, metric="weather")


def test_consumption_by_organization_is_named_and_listed_per_group(panel: MetricsPanel) -> None:
    panel.query = PanelQuery(start=FIRST_DAY, end=LAST_DAY, metric="consumption", by="org")
    frame = panel.apply()
    assert frame is not None and panel.error is None, panel.problem_text
    names = set(frame["org_name"])
    assert len(names) == frame["org_id"].nunique() > 1
    table = output_data(panel.table_output)["text/html"]
    assert f"<td>{frame['org_name'].iloc[0]}</td>" in table  # named, not only an id
    assert "billing day buckets x" in panel.status_text
