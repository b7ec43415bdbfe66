"""The panel over a local history store shows the frames the panel over the API shows, for the
same query, and says clearly what a store cannot give."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit.errors import InvalidParameterError
from metrics_toolkit.widgets import MetricsPanel, PanelQuery

NOW = "2026-11-20T12:00:00Z"
RANGE = {"start": "2026-10-05", "end": "2026-11-19"}


@pytest.fixture(scope="module")
def client() -> mt.MetricsClient:
    return mt.MetricsClient.demo(now=NOW)


@pytest.fixture(scope="module")
def store_path(client: mt.MetricsClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "history.duckdb"
    for by in (None, "org"):
        mt.sync(client, path, "2026-10-01", by=by, progress=False)
    return path


@pytest.fixture(scope="module")
def panels(client: mt.MetricsClient, store_path: Path) -> tuple[MetricsPanel, MetricsPanel]:
    return MetricsPanel(client), MetricsPanel(mt.Store(store_path, now=NOW))


def shown(panel: MetricsPanel, **choices: Any) -> pd.DataFrame:
    panel.query = PanelQuery(**RANGE, **choices)
    frame = panel.apply()
    assert frame is not None, panel.problem_text
    return frame


@pytest.mark.parametrize(
    "choices",
    [
        {"metric": "sessions", "freq": "week"},
        {"metric": "sessions", "freq": "week", "org_ids": ("Data", "Growth")},
        {"metric": "prs", "freq": "month", "by": "org"},
        {"metric": "active_users", "freq": "day", "org_ids": ("Platform",)},
        {"metric": "consumption", "freq": "day", "by": "org"},
        {"metric": "categories", "freq": "week"},
    ],
    ids=lambda choices: "-".join(str(value) for value in choices.values()),
)
def test_the_store_shows_the_frame_the_api_shows(
    panels: tuple[MetricsPanel, MetricsPanel], choices: dict[str, Any]
) -> None:
    fetched, kept = (shown(panel, **choices) for panel in panels)
    pd.testing.assert_frame_equal(kept, fetched)
    ours = {k: v for k, v in kept.attrs.items() if k != "fetch_stats"}
    assert ours == {k: v for k, v in fetched.attrs.items() if k != "fetch_stats"}
    assert panels[1].status_text.startswith(panels[0].status_text.split(" · ")[0])


def test_active_users_of_a_bucket_cut_by_the_range_are_not_read_from_a_whole_one(
    panels: tuple[MetricsPanel, MetricsPanel],
) -> None:
    choices = {"metric": "active_users", "freq": "week", "by": "org"}
    fetched, kept = (shown(panel, **choices) for panel in panels)
    cut = fetched["clipped"].to_numpy()  # the last week, cut by the range's end
    assert cut.any() and (kept["clipped"].to_numpy() == cut).all()
    assert kept["active_users"][cut].isna().all() and fetched["active_users"][cut].notna().all()
    pd.testing.assert_frame_equal(kept[~cut], fetched[~cut])
    columns = [c for c in kept.columns if c != "active_users"]
    pd.testing.assert_frame_equal(kept[columns], fetched[columns])


def test_the_panel_takes_a_store_by_keyword_or_path(
    store_path: Path, panels: tuple[MetricsPanel, MetricsPanel]
) -> None:
    by_path = MetricsPanel(store=str(store_path))  # read as of its last sync
    assert by_path.client is None and panels[1].client is None
    assert by_path.source.now() == pd.Timestamp(NOW)
    assert by_path.query.end == pd.Timestamp(NOW).date()  # the default range ends there
    assert by_path.directory.ids("org") == panels[0].directory.ids("org")
    pd.testing.assert_frame_equal(shown(by_path, freq="week"), shown(panels[0], freq="week"))
    with pytest.raises(InvalidParameterError, match=r"^client: give a client, or a store"):
        MetricsPanel()


@pytest.mark.parametrize(
    ("choices", "message"),
    [
        (
            {"metric": "sessions", "by": "user"},
            r"no 'sessions_by_user' table: fill it with "
            r"mt\.sync\(client, '.*history\.duckdb', start, by='user'\)",
        ),
        ({"metric": "active_users", "org_ids": ("Data", "Growth")}, r"distinct counts"),
        ({"metric": "sessions", "by": "org", "user_ids": ("user-1",)}, r"each breakdown"),
    ],
    ids=["missing table", "distinct counts", "filter and breakdown"],
)
def test_what_a_store_cannot_give_is_said_in_the_panel(
    panels: tuple[MetricsPanel, MetricsPanel], choices: dict[str, Any], message: str
) -> None:
    kept = panels[1]
    kept.query = PanelQuery(**RANGE, **choices)
    assert kept.apply() is None
    assert isinstance(kept.error, InvalidParameterError)
    assert pd.Series([str(kept.error)]).str.contains(message).all(), str(kept.error)
    assert "Nothing fetched" in kept.status_text
