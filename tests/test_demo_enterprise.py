"""The synthetic enterprise: deterministic, sized like a real company, with its trends."""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from metrics_toolkit.demo import (
    NEVER_MERGED,
    NO_INDEX,
    ORIGINS,
    SIMPSON_ORG_A,
    SIMPSON_ORG_B,
    SIZES,
    DemoEnterprise,
    generate_enterprise,
)
from metrics_toolkit.demo.enterprise import MAX_MERGE_LAG_DAYS, MIDYEAR_PLAYBOOK_TITLE

#: A Monday inside the demo's history (it begins on 1 December 2025).
END = datetime(2026, 11, 30, tzinfo=timezone.utc)
DAY = 86400


@pytest.fixture(scope="module")
def enterprise() -> DemoEnterprise:
    return generate_enterprise(end=END)


@pytest.fixture(scope="module")
def sessions(enterprise: DemoEnterprise) -> pd.DataFrame:
    """The session log as a DataFrame, with readable columns."""
    log = enterprise.sessions
    frame = pd.DataFrame({f.name: getattr(log, f.name) for f in dataclasses.fields(log)})
    frame["created"] = pd.to_datetime(frame["created_at"], unit="s", utc=True)
    frame["org"] = [enterprise.organizations[i].name for i in frame["org_index"]]
    frame["size"] = np.array(SIZES)[frame["size_code"]]
    frame["origin"] = np.array(ORIGINS)[frame["origin_code"]]
    frame["merged"] = frame["merged_at"] != NEVER_MERGED
    frame["quarter"] = (
        (frame["created_at"] - enterprise.start) * 4 // (enterprise.end - enterprise.start)
    )
    return frame


def _arrays(enterprise: DemoEnterprise) -> dict[str, np.ndarray]:
    log = enterprise.sessions
    return {f.name: getattr(log, f.name) for f in dataclasses.fields(log)}


def test_same_seed_gives_identical_enterprise(enterprise: DemoEnterprise) -> None:
    again = generate_enterprise(end=END)
    for name, values in _arrays(enterprise).items():
        np.testing.assert_array_equal(values, _arrays(again)[name], err_msg=name)
    assert again.organizations == enterprise.organizations
    assert again.users == enterprise.users
    assert again.service_users == enterprise.service_users
    assert again.playbooks == enterprise.playbooks


def test_another_seed_gives_another_enterprise(enterprise: DemoEnterprise) -> None:
    other = generate_enterprise(seed=enterprise.seed + 1, end=END)
    assert other.organizations[0].org_id != enterprise.organizations[0].org_id
    assert len(other.sessions) != len(enterprise.sessions)


def test_generation_is_fast_and_sized_like_a_company(enterprise: DemoEnterprise) -> None:
    started = time.perf_counter()
    generate_enterprise(end=END)
    elapsed = time.perf_counter() - started
    print(f"\ngenerate_enterprise: {elapsed * 1000:.1f} ms, {len(enterprise.sessions)} sessions")
    assert 20_000 <= len(enterprise.sessions) <= 100_000


def test_default_end_is_the_current_hour() -> None:
    enterprise = generate_enterprise(days=2)
    now = datetime.now(timezone.utc).timestamp()
    assert enterprise.end % 3600 == 0
    assert now - 3600 - 5 <= enterprise.end <= now
    assert enterprise.start == enterprise.end - 2 * DAY


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        generate_enterprise(end=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="days"):
        generate_enterprise(days=0)


def test_log_is_sorted_and_inside_the_window(enterprise: DemoEnterprise) -> None:
    created_at = enterprise.sessions.created_at
    assert created_at.dtype == np.int64
    assert np.all(np.diff(created_at) >= 0)
    assert created_at[0] >= enterprise.start
    assert created_at[-1] < enterprise.end
    assert not created_at.flags.writeable


def test_columns_are_consistent(enterprise: DemoEnterprise, sessions: pd.DataFrame) -> None:
    by_user = sessions["user_index"] != NO_INDEX
    by_service = sessions["service_user_index"] != NO_INDEX
    assert (by_user ^ by_service).all()
    user_org = np.array([user.org_index for user in enterprise.users])
    np.testing.assert_array_equal(
        sessions.loc[by_user, "org_index"], user_org[sessions.loc[by_user, "user_index"]]
    )
    assert sessions["origin_code"].between(0, len(ORIGINS) - 1).all()
    assert sessions["size_code"].between(0, len(SIZES) - 1).all()
    assert (sessions["acus"] > 0).all()
    assert (sessions["acus_done_at"] > sessions["created_at"]).all()
    merged = sessions[sessions["merged"]]
    lag = merged["merged_at"] - merged["created_at"]
    assert lag.between(0, MAX_MERGE_LAG_DAYS * DAY).all()


def test_directory_looks_like_an_enterprise(enterprise: DemoEnterprise) -> None:
    names = [organization.name for organization in enterprise.organizations]
    assert names == ["Platform", "Payments", "Growth", "Mobile", "Data"]
    assert all(re.fullmatch(r"org-[0-9a-f]{12}", o.org_id) for o in enterprise.organizations)
    assert all(o.created_at <= o.updated_at <= enterprise.end for o in enterprise.organizations)
    assert len(enterprise.users) == 150
    assert len({user.user_id for user in enterprise.users}) == 150
    assert len({user.email for user in enterprise.users}) == 150
    for user in enterprise.users:
        assert user.user_id.startswith("user-")
        first, last = user.name.lower().split()
        assert user.email == f"{first}.{last}@acme-corp.example"
    assert 4 <= len(enterprise.service_users) <= 6
    assert all(su.service_user_id.startswith("service-user-") for su in enterprise.service_users)
    inactive = [su for su in enterprise.service_users if not su.is_active(enterprise.end)]
    assert len(inactive) == 1
    assert 8 <= len(enterprise.playbooks) <= 12
    assert any(playbook.org_id is None for playbook in enterprise.playbooks)
    assert all(p.playbook_id.startswith("playbook-") for p in enterprise.playbooks)


def test_weekdays_and_working_hours_are_busier(sessions: pd.DataFrame) -> None:
    people = sessions[sessions["user_index"] != NO_INDEX]
    daily = people.set_index("created").resample("D").size()
    weekday = daily[daily.index.day_of_week < 5].mean()
    weekend = daily[daily.index.day_of_week >= 5].mean()
    assert weekday > 3 * weekend
    hour = people["created"].dt.hour
    assert (hour.between(9, 17)).mean() > 0.6


def test_activity_grows_and_dips_over_the_holidays(sessions: pd.DataFrame) -> None:
    per_quarter = sessions.groupby("quarter").size()
    assert per_quarter[3] > 1.4 * per_quarter[0]
    daily = sessions.set_index("created").resample("D").size()
    weekdays = daily[daily.index.day_of_week < 5]
    holidays = weekdays["2025-12-24":"2026-01-01"].mean()
    around = pd.concat([weekdays["2025-12-08":"2025-12-19"], weekdays["2026-01-05":"2026-01-16"]])
    assert holidays < 0.6 * around.mean()


def test_slack_rises_and_the_web_app_falls(sessions: pd.DataFrame) -> None:
    share = pd.crosstab(sessions["quarter"], sessions["origin"], normalize="index")
    assert share.loc[3, "slack"] > share.loc[0, "slack"] + 0.05
    assert share.loc[3, "webapp"] < share.loc[0, "webapp"] - 0.05


def test_service_users_start_sessions_from_the_api(
    enterprise: DemoEnterprise, sessions: pd.DataFrame
) -> None:
    machines = sessions[sessions["service_user_index"] != NO_INDEX]
    assert len(machines) > 1000
    assert machines["origin"].isin(["api", "automation"]).mean() > 0.85
    for index, service_user in enumerate(enterprise.service_users):
        if service_user.deleted_at is not None:
            created = machines.loc[machines["service_user_index"] == index, "created_at"]
            assert len(created) > 0
            assert created.max() < service_user.deleted_at


def test_playbook_launched_mid_year(enterprise: DemoEnterprise, sessions: pd.DataFrame) -> None:
    launched = enterprise.playbook_titled(MIDYEAR_PLAYBOOK_TITLE)
    assert enterprise.start + 90 * DAY < launched.created_at < enterprise.end - 90 * DAY
    index = enterprise.playbooks.index(launched)
    created = sessions.loc[sessions["playbook_index"] == index, "created_at"]
    assert len(created) > 500
    assert created.min() >= launched.created_at
    # And no session uses a playbook before it exists or from another organization.
    with_playbook = sessions[sessions["playbook_index"] != NO_INDEX]
    playbooks = [enterprise.playbooks[i] for i in with_playbook["playbook_index"]]
    org_ids = [enterprise.organizations[i].org_id for i in with_playbook["org_index"]]
    for playbook, created_at, org_id in zip(
        playbooks, with_playbook["created_at"], org_ids, strict=True
    ):
        assert playbook.created_at <= created_at
        assert playbook.org_id in (None, org_id)


def test_large_sessions_cost_more_and_merge_less(sessions: pd.DataFrame) -> None:
    by_size = sessions.groupby("size").agg(acus=("acus", "median"), merged=("merged", "mean"))
    by_size = by_size.loc[list(SIZES)]
    assert by_size["acus"].is_monotonic_increasing
    assert by_size["merged"].is_monotonic_decreasing


def _simpson_holds(frame: pd.DataFrame) -> bool:
    pair = frame[frame["org"].isin([SIMPSON_ORG_A, SIMPSON_ORG_B])]
    within = pair.pivot_table(index="size", columns="org", values="merged", aggfunc="mean")
    overall = pair.groupby("org")["merged"].mean()
    a_wins_every_size = bool((within[SIMPSON_ORG_A] > within[SIMPSON_ORG_B]).all())
    return (
        len(within) == len(SIZES)
        and a_wins_every_size
        and (overall[SIMPSON_ORG_A] < overall[SIMPSON_ORG_B])
    )


def test_simpsons_paradox_holds_over_the_year_and_each_quarter(sessions: pd.DataFrame) -> None:
    assert _simpson_holds(sessions)
    for quarter in range(4):
        assert _simpson_holds(sessions[sessions["quarter"] == quarter]), quarter


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_simpsons_paradox_holds_for_other_seeds(seed: int) -> None:
    enterprise = generate_enterprise(seed=seed, end=END - timedelta(days=seed))
    log = enterprise.sessions
    frame = pd.DataFrame(
        {
            "org": np.array([o.name for o in enterprise.organizations])[log.org_index],
            "size": np.array(SIZES)[log.size_code],
            "merged": log.merged_at != NEVER_MERGED,
        }
    )
    assert _simpson_holds(frame)
