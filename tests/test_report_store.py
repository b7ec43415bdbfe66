"""The weekly report read from a local history store equals the report fetched from the API,
frame for frame, and a report from a store makes no request.

The demo enterprise is synced once (totals, by organization, by playbook) into a store; the
report of the same week is then loaded from the client and from the store. What differs, and
why, is asserted too: a store keeps no billing cycles (so consumption starts at the report's
first week, not three cycles back), and keeps whole months of active users only (a month cut
by the report's end has no count).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import report
from metrics_toolkit.errors import InvalidParameterError
from metrics_toolkit.report.source import StoreSource, open_source

NOW = "2026-11-20T12:00:00Z"
WEEK = "2026-W46"
WEEKS = 5
PLAYBOOKS = ["Fix a flaky test", "Migrate an endpoint to API v3"]


@pytest.fixture(scope="module")
def client() -> mt.MetricsClient:
    return mt.MetricsClient.demo(now=NOW)


@pytest.fixture(scope="module")
def store_path(client: mt.MetricsClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "history.duckdb"
    for by in (None, "org", "playbook"):
        mt.sync(client, path, "2026-10-01", by=by, progress=False)
    return path


@pytest.fixture(scope="module")
def totals_only(client: mt.MetricsClient, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("totals") / "history.duckdb"
    mt.sync(client, path, "2026-10-01", metrics=["sessions"], progress=False)
    return path


@pytest.fixture(scope="module")
def pair(
    client: mt.MetricsClient, store_path: Path
) -> tuple[report.WeeklyReport, report.WeeklyReport]:
    options: dict[str, Any] = {"week": WEEK, "weeks": WEEKS, "playbooks": PLAYBOOKS}
    fetched = report.load_weekly_report(client, **options)
    kept = report.load_weekly_report(store=mt.Store(store_path, now=NOW), **options)
    return fetched, kept


def test_the_session_frames_of_the_report_equal_the_fetched_ones(
    pair: tuple[report.WeeklyReport, report.WeeklyReport],
) -> None:
    fetched, kept = pair
    for name in ("weekly", "by_org", "by_playbook", "history", "org_history", "playbook_history"):
        pd.testing.assert_frame_equal(getattr(kept, name), getattr(fetched, name), obj=name)
    pd.testing.assert_frame_equal(kept.kpis(), fetched.kpis())
    pd.testing.assert_frame_equal(kept.kpi_table().data, fetched.kpi_table().data)
    for kind in ("org", "playbook"):
        pd.testing.assert_frame_equal(kept.ranking(kind), fetched.ranking(kind))
        assert kept.group_names(kind) == fetched.group_names(kind)
    assert kept.changes() == fetched.changes()
    assert (kept.scope, kept.now, kept.tz) == (fetched.scope, fetched.now, fetched.tz)


def test_the_family_frames_equal_the_fetched_ones_but_cycles_and_a_cut_month(
    pair: tuple[report.WeeklyReport, report.WeeklyReport],
) -> None:
    fetched, kept = pair[0].family, pair[1].family
    assert fetched is not None and kept is not None
    for name in ("active", "prs", "daily", "categories"):
        pd.testing.assert_frame_equal(getattr(kept, name), getattr(fetched, name), obj=name)
    assert kept.monthly is not None and fetched.monthly is not None
    whole = ~fetched.monthly["clipped"]
    pd.testing.assert_frame_equal(kept.monthly[whole], fetched.monthly[whole])
    cut = kept.monthly[~whole]
    assert len(cut) == 1 and cut["active_users"].isna().all()  # never a whole month's count
    pd.testing.assert_frame_equal(
        kept.monthly.drop(columns="active_users"), fetched.monthly.drop(columns="active_users")
    )
    # No cycles: consumption starts a week before the first reported week, not cycles back.
    assert fetched.cycles and kept.cycles is None and kept.current_cycle is None
    assert "keeps none" in kept.burn_text().text
    for name in ("consumption", "consumption_by_org"):
        ours, theirs = getattr(kept, name), getattr(fetched, name)
        assert ours.index.min() > theirs.index.min()
        same = theirs[theirs.index >= ours.index.min()]
        first = ours.index == ours.index.min()  # clipped by the shorter range, whole by theirs
        assert ours["clipped"][first].all() and not same["clipped"][first].any()
        pd.testing.assert_frame_equal(ours[~first], same[~first], obj=name)
        pd.testing.assert_frame_equal(ours.drop(columns="clipped"), same.drop(columns="clipped"))
    pd.testing.assert_frame_equal(kept.consumption_weeks(), fetched.consumption_weeks())
    pd.testing.assert_frame_equal(
        kept.consumption_weeks(by_org=True), fetched.consumption_weeks(by_org=True)
    )
    pd.testing.assert_frame_equal(kept.kpis(), fetched.kpis())
    for text in ("adoption_text", "outcomes_text", "cost_text"):
        assert getattr(kept, text)().text == getattr(fetched, text)().text


def test_the_header_says_the_numbers_come_from_the_store(
    pair: tuple[report.WeeklyReport, report.WeeklyReport], store_path: Path
) -> None:
    fetched, kept = pair
    assert "Synthetic demo data" in fetched.header().text
    assert f"local history store {store_path}" in kept.header().text
    assert "no API call" in kept.header().text
    assert "Synthetic demo data" in kept.header().text and kept.demo  # synced from the demo


def test_one_organization_from_the_store_equals_the_fetched_one(
    client: mt.MetricsClient, store_path: Path
) -> None:
    options: dict[str, Any] = {"week": WEEK, "weeks": WEEKS, "orgs": ["Data"]}
    fetched = report.load_weekly_report(client, **options)
    kept = report.load_weekly_report(store=mt.Store(store_path, now=NOW), **options)
    assert kept.scope == fetched.scope == "Data"
    pd.testing.assert_frame_equal(kept.weekly, fetched.weekly)
    pd.testing.assert_frame_equal(kept.by_org, fetched.by_org)
    assert kept.family is not None and fetched.family is not None
    for name in ("active", "prs", "daily", "categories"):
        pd.testing.assert_frame_equal(getattr(kept.family, name), getattr(fetched.family, name))
    pd.testing.assert_frame_equal(kept.kpis(), fetched.kpis())
    pd.testing.assert_frame_equal(kept.family.kpis(), fetched.family.kpis())


def test_a_store_in_another_zone_gives_its_calendar_and_no_utc_stickiness(
    client: mt.MetricsClient, tmp_path_factory: pytest.TempPathFactory
) -> None:
    path = tmp_path_factory.mktemp("berlin") / "history.duckdb"
    for by in (None, "org"):
        mt.sync(client, path, "2026-10-01", tz="Europe/Berlin", by=by, progress=False)
    options: dict[str, Any] = {"week": WEEK, "weeks": WEEKS}
    kept = report.load_weekly_report(store=mt.Store(path, now=NOW), **options)  # tz: the store's
    fetched = report.load_weekly_report(client, tz="Europe/Berlin", **options)
    assert kept.tz == "Europe/Berlin"
    pd.testing.assert_frame_equal(kept.weekly, fetched.weekly)
    pd.testing.assert_frame_equal(kept.by_org, fetched.by_org)
    assert kept.family is not None and fetched.family is not None
    for name in ("active", "prs", "categories"):
        pd.testing.assert_frame_equal(getattr(kept.family, name), getattr(fetched.family, name))
    assert kept.family.daily is None and kept.family.monthly is None  # days not UTC days
    assert "Stickiness (daily over monthly active users) is left out" in (
        kept.family.adoption_text().text
    )


def test_several_organizations_are_refused_not_summed(store_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match=r"^orgs: .*distinct counts"):
        report.load_weekly_report(
            store=mt.Store(store_path, now=NOW), week=WEEK, weeks=WEEKS, orgs=["Data", "Growth"]
        )
    source = StoreSource(mt.Store(store_path, now=NOW))
    orgs = source.directory().ids("org")[:2]
    with pytest.raises(InvalidParameterError, match=r"^org_ids: active users are distinct"):
        source.series("2026-11-02", "2026-11-16", metric="active_users", org_ids=orgs)


def test_a_frame_the_store_lacks_names_the_sync_that_fills_it(
    store_path: Path, totals_only: Path
) -> None:
    with pytest.raises(InvalidParameterError, match=r"no 'sessions_by_org' table.*by='org'\)"):
        report.load_weekly_report(store=mt.Store(totals_only, now=NOW), week=WEEK, weeks=WEEKS)
    kept = mt.Store(store_path, now=NOW)
    with pytest.raises(InvalidParameterError, match=r"^start: .*mt\.sync\(client, .*'2026-08"):
        report.load_weekly_report(store=kept, week=WEEK, weeks=12)  # before its first day
    later = mt.Store(store_path, now="2026-12-02T12:00:00Z")
    with pytest.raises(InvalidParameterError, match=r"^end: .*bring it up to date"):
        report.load_weekly_report(store=later, week="2026-W48", weeks=WEEKS)
    with pytest.raises(InvalidParameterError, match=r"^tz: this store keeps days in 'UTC'"):
        report.load_weekly_report(store=kept, week=WEEK, weeks=WEEKS, tz="Europe/Berlin")
    with pytest.raises(InvalidParameterError, match=r"^client: give a client, or a store"):
        report.load_weekly_report(week=WEEK)
    with pytest.raises(InvalidParameterError, match=r"^store: no store at"):
        open_source(store=store_path.with_name("missing.duckdb"))


def test_a_store_path_is_read_as_of_its_last_sync(store_path: Path) -> None:
    source = open_source(store=str(store_path))
    assert isinstance(source, StoreSource)
    assert source.now() == pd.Timestamp(NOW)  # the demo's clock when it was synced


@pytest.mark.notebook
@pytest.mark.slow
def test_cli_report_from_a_store_makes_no_request(store_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    env = {
        **os.environ,
        "DEVIN_API_KEY": "cog_not_a_real_token_0123456789",
        "DEVIN_API_BASE_URL": "http://127.0.0.1:9",  # nothing listens: any request fails
    }
    env.pop("DEVIN_ORG_ID", None)
    command = [sys.executable, "-m", "metrics_toolkit.cli", "report", "--store", str(store_path)]
    result = subprocess.run(
        [*command, "--week", WEEK, "--weeks", str(WEEKS), "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    body = out.read_text()
    assert "local history store" in body and "no API call" in body
    assert "2026-W46" in body and "Synthetic demo data" in body  # the store came from the demo
    assert "keeps none" in body  # the burn of a cycle is left out, and why
