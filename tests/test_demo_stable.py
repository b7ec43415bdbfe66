"""The demo's past is stable: a day reads the same whatever "now" is, and now only adds.

Each day's sessions and searches are a function of the seed and that day's date alone; the
history begins on `FIRST_DAY` and ends at "now". These tests build the enterprise at several
"now"s (hours and days apart) and compare what the API answers.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
import pytest

import metrics_toolkit as mt
from metrics_toolkit.demo import (
    FIRST_DAY,
    DemoAPI,
    DemoEnterprise,
    generate_enterprise,
)
from metrics_toolkit.demo.enterprise import (
    FIRST_DAY_START,
    MAX_DURATION_SECONDS,
    MAX_MERGE_LAG_DAYS,
    MIDYEAR_PLAYBOOK_TITLE,
    YEARLY_GROWTH,
    YEARS_OF_GROWTH,
)
from metrics_toolkit.demo.rhythm import growth
from metrics_toolkit.demo.simulator import LOGGER_NAME

from .conftest import NOW

DAY = 86400
HOUR = 3600
#: "now"s an hour, a few hours, a day and nine days after the tests' now.
LATER = (
    NOW + timedelta(hours=1),
    NOW + timedelta(hours=7),
    NOW + timedelta(days=1),
    NOW + timedelta(days=9, hours=5),
)
#: Older than any merge lag and session length at the tests' now: nothing of them moves.
SETTLED = int(NOW.timestamp()) - (MAX_MERGE_LAG_DAYS * DAY + MAX_DURATION_SECONDS)


def _at(moment: str) -> int:
    return int(datetime.fromisoformat(moment).replace(tzinfo=timezone.utc).timestamp())


#: Past windows: days, the closed weeks of the newcomer's report, a month, and the whole past.
PAST_WINDOWS = (
    (_at("2025-12-01"), _at("2025-12-02")),
    (_at("2026-02-14"), _at("2026-02-15")),
    (_at("2026-06-03T09:00"), _at("2026-06-03T17:30")),
    (_at("2026-09-28"), _at("2026-10-05")),
    (_at("2026-11-02"), _at("2026-11-09")),
    (_at("2026-10-01"), _at("2026-11-01")),
    (FIRST_DAY_START, SETTLED),
)


@pytest.fixture(scope="module")
def enterprises() -> dict[datetime, DemoEnterprise]:
    """The enterprise as generated at the tests' now and at each later now."""
    return {now: generate_enterprise(end=now) for now in (NOW, *LATER)}


def _answers(api: DemoAPI, time_after: int, time_before: int) -> list[dict[str, Any]]:
    """Every aggregate of a window: whole, per organization, per playbook, and searches."""
    enterprise = api.enterprise
    answers = [
        api.session_metrics(time_after, time_before),
        api.search_metrics(time_after, time_before),
    ]
    for organization in enterprise.organizations:
        answers.append(api.session_metrics(time_after, time_before, org_ids=[organization.org_id]))
        answers.append(api.search_metrics(time_after, time_before, org_ids=[organization.org_id]))
    for playbook in enterprise.playbooks:
        answers.append(
            api.session_metrics(time_after, time_before, playbook_id=playbook.playbook_id)
        )
    for user in enterprise.users[::15]:
        answers.append(api.session_metrics(time_after, time_before, user_ids=[user.user_id]))
    return answers


# -- the past does not move ------------------------------------------------------------------


def test_the_newcomers_closed_weeks_read_the_same_at_every_now() -> None:
    """The report's reproduction: two closed weeks at 03:00, at 04:00 and a day later."""
    counts = set()
    for now in ("2026-12-02T03:00", "2026-12-02T04:00", "2026-12-03T03:00"):
        with mt.MetricsClient.demo(now=now) as client:
            counts.add(
                (
                    client.session_metrics("2026-09-28", "2026-10-05").sessions_created_count,
                    client.session_metrics("2026-11-23", "2026-11-30").sessions_created_count,
                )
            )
    assert len(counts) == 1
    (september, november) = counts.pop()
    assert september > 0 and november > 0


def test_every_aggregate_of_a_past_window_is_identical_at_every_now(
    enterprises: dict[datetime, DemoEnterprise],
) -> None:
    reference = _answers(DemoAPI(enterprises[NOW]), *PAST_WINDOWS[0])
    assert reference[0]["sessions_created_count"] > 0
    for time_after, time_before in PAST_WINDOWS:
        expected = _answers(DemoAPI(enterprises[NOW]), time_after, time_before)
        assert expected[0]["sessions_created_count"] > 0
        for now in LATER:
            assert _answers(DemoAPI(enterprises[now]), time_after, time_before) == expected, (
                now,
                time_after,
            )


def test_the_directory_is_the_same_at_every_now(
    enterprises: dict[datetime, DemoEnterprise],
) -> None:
    first = enterprises[NOW]
    for enterprise in enterprises.values():
        assert enterprise.start == first.start == FIRST_DAY_START
        assert enterprise.organizations == first.organizations
        assert enterprise.users == first.users
        assert enterprise.service_users == first.service_users
        assert enterprise.playbooks == first.playbooks


def test_a_later_log_seen_at_an_earlier_now_is_the_earlier_log(
    enterprises: dict[datetime, DemoEnterprise],
) -> None:
    """`now` only hides what has not happened yet: the log of a later now, asked at an earlier
    one, answers exactly what the log of that earlier now answers, for any window (open weeks
    with their provisional merges and ACUs included)."""
    earlier = DemoAPI(enterprises[NOW])
    now = int(NOW.timestamp())
    windows = [
        (now - 3 * HOUR, now + 3 * HOUR),
        (now - DAY, now),
        (now - 9 * DAY, now + 5 * DAY),
        (_at("2026-11-23"), _at("2026-11-30")),
        (_at("2026-11-16"), _at("2026-11-23")),
        (FIRST_DAY_START, now),
    ]
    for later_now in LATER:
        later = DemoAPI(enterprises[later_now], now=NOW)
        for window in windows:
            assert _answers(later, *window) == _answers(earlier, *window), (later_now, window)
    # The logs themselves: the earlier one is the later one cut at the earlier now.
    short = enterprises[NOW].sessions
    for later_now in LATER:
        long = enterprises[later_now].sessions
        assert int((long.created_at < now).sum()) == len(short)
        for field in dataclasses.fields(short):
            column = getattr(long, field.name)[: len(short)]
            np.testing.assert_array_equal(column, getattr(short, field.name), err_msg=field.name)


def test_moving_now_forward_only_adds() -> None:
    """Around now: sessions, merges, ACUs, searches never go down as now moves on.

    Each step builds the demo at its own now, as ``MetricsClient.demo(now=...)`` does.
    """
    now = int(NOW.timestamp())
    window = (now - 10 * DAY, now + 10 * DAY)
    steps = [now + hours * HOUR for hours in (0, 1, 2, 5, 11, 24, 30, 72, 150, 221)]
    answers = []
    for step in steps:
        api = DemoAPI(generate_enterprise(end=datetime.fromtimestamp(step, tz=timezone.utc)))
        answer = api.session_metrics(*window)
        answer["searches_created_count"] = api.search_metrics(*window)["searches_created_count"]
        answer["acus"] = answer.pop("avg_acus_per_session") * answer["sessions_created_count"]
        answers.append(answer)
    for earlier, later in itertools.pairwise(answers):
        for name, value in later.items():
            if isinstance(value, dict):
                assert all(value[key] >= earlier[name][key] for key in value), name
            else:
                assert value >= earlier[name] - 1e-9, name
    assert answers[-1]["sessions_created_count"] > answers[0]["sessions_created_count"]
    assert (
        answers[-1]["sessions_with_merged_prs_count"] > answers[0]["sessions_with_merged_prs_count"]
    )
    assert answers[-1]["acus"] > answers[0]["acus"]


def test_a_shorter_history_holds_the_same_days() -> None:
    full = generate_enterprise(end=NOW)
    short = generate_enterprise(end=NOW, days=30)
    assert short.start == full.end - 30 * DAY
    kept = full.sessions.created_at >= short.start
    for field in dataclasses.fields(short.sessions):
        column = getattr(full.sessions, field.name)[kept]
        np.testing.assert_array_equal(getattr(short.sessions, field.name), column)
    searched = full.searches.created_at >= short.start
    np.testing.assert_array_equal(short.searches.created_at, full.searches.created_at[searched])
    np.testing.assert_array_equal(short.searches.user_index, full.searches.user_index[searched])


# -- the first day ---------------------------------------------------------------------------


def test_the_history_begins_on_the_first_day(
    enterprises: dict[datetime, DemoEnterprise],
) -> None:
    # A Monday at 00:00 UTC, so its first week and month are whole.
    assert FIRST_DAY.weekday() == 0 and FIRST_DAY.day == 1
    assert _at(FIRST_DAY.isoformat()) == FIRST_DAY_START
    for enterprise in enterprises.values():
        assert enterprise.sessions.created_at[0] >= FIRST_DAY_START
        assert enterprise.searches.created_at[0] >= FIRST_DAY_START
        # The first week is a whole, ordinary week, not a half-filled one.
        first_week = DemoAPI(enterprise).session_metrics(FIRST_DAY_START, FIRST_DAY_START + 7 * DAY)
        next_week = DemoAPI(enterprise).session_metrics(
            FIRST_DAY_START + 7 * DAY, FIRST_DAY_START + 14 * DAY
        )
        ratio = first_week["sessions_created_count"] / next_week["sessions_created_count"]
        assert 0.75 < ratio < 1.3


def test_an_end_before_the_first_day_is_refused() -> None:
    with pytest.raises(ValueError, match="2025-12-01"):
        generate_enterprise(end=datetime(2025, 6, 1, tzinfo=timezone.utc))
    with pytest.raises(ValueError, match="first day"):
        generate_enterprise(end=datetime(2025, 12, 1, tzinfo=timezone.utc))


@pytest.fixture
def history_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.INFO, logger=LOGGER_NAME)
    yield caplog


def _history_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == LOGGER_NAME]


def test_a_window_before_the_first_day_counts_nothing_and_the_server_says_so(
    demo_api: DemoAPI, history_log: pytest.LogCaptureFixture
) -> None:
    headers = {"Authorization": "Bearer cog_demo_key"}
    before = f"time_after={_at('2025-11-24')}&time_before={FIRST_DAY_START}"
    answer = demo_api.handle("GET", "/v3/enterprise/metrics/sessions", before, headers).json()
    assert answer["sessions_created_count"] == 0
    assert answer["avg_acus_per_session"] == 0.0
    searches = demo_api.handle("GET", "/v3/enterprise/metrics/searches", before, headers).json()
    assert searches == {"searches_created_count": 0}
    first, second = _history_records(history_log)
    assert first.levelno == logging.WARNING and second.levelno == logging.INFO
    assert "wholly before" in first.getMessage() and "2025-12-01 00:00" in first.getMessage()

    # A window that straddles the first day counts what lies after it, and says so.
    history_log.clear()
    straddling = f"time_after={_at('2025-11-24')}&time_before={_at('2025-12-08')}"
    partial = demo_api.handle("GET", "/v3/enterprise/metrics/sessions", straddling, headers)
    first_week = demo_api.session_metrics(FIRST_DAY_START, _at("2025-12-08"))
    assert partial.json() == first_week
    (record,) = _history_records(history_log)
    assert "begins before" in record.getMessage()

    # A window inside the history, an empty or an inverted one: nothing to say.
    history_log.clear()
    for query in (
        f"time_after={FIRST_DAY_START}&time_before={_at('2025-12-08')}",
        f"time_after={_at('2025-11-24')}&time_before={_at('2025-11-24')}",
        f"time_after={_at('2025-11-24')}&time_before={_at('2025-11-20')}",
    ):
        assert (
            demo_api.handle("GET", "/v3/enterprise/metrics/sessions", query, headers).status == 200
        )
    assert _history_records(history_log) == []


# -- the directory, as of now ----------------------------------------------------------------


def test_the_directory_shows_only_what_has_happened(enterprise: DemoEnterprise) -> None:
    launched = enterprise.playbook_titled(MIDYEAR_PLAYBOOK_TITLE)
    headers = {"Authorization": "Bearer cog_demo_key"}
    api = DemoAPI(enterprise, now=datetime.fromtimestamp(launched.created_at, tz=timezone.utc))
    before = api.handle("GET", "/v3/enterprise/playbooks", "first=200", headers).json()["items"]
    assert MIDYEAR_PLAYBOOK_TITLE not in [item["title"] for item in before]
    assert all(item["updated_at"] < launched.created_at for item in before)
    api.set_now(launched.created_at + 1)
    after = api.handle("GET", "/v3/enterprise/playbooks", "first=200", headers).json()["items"]
    assert MIDYEAR_PLAYBOOK_TITLE in [item["title"] for item in after]

    deleted = next(su for su in enterprise.service_users if su.deleted_at is not None)
    assert deleted.deleted_at is not None
    query = "include_inactive=true"
    path = "/v3/enterprise/members/service-users"
    for now, shown in ((deleted.deleted_at - 1, None), (deleted.deleted_at, deleted.deleted_at)):
        api.set_now(now)
        items = api.handle("GET", path, query, headers).json()["items"]
        (item,) = [i for i in items if i["service_user_id"] == deleted.service_user_id]
        assert item["deleted_at"] == shown


def test_an_expired_service_user_creates_no_more_sessions() -> None:
    """Years after the first day some service users have expired; their work goes elsewhere."""
    enterprise = generate_enterprise(end=datetime(2028, 3, 1, tzinfo=timezone.utc), days=120)
    log = enterprise.sessions
    expired = [
        index
        for index, su in enumerate(enterprise.service_users)
        if su.expires_at is not None and su.expires_at < enterprise.end
    ]
    assert expired
    for index in expired:
        expires_at = enterprise.service_users[index].expires_at
        assert expires_at is not None
        created = log.created_at[log.service_user_index == index]
        assert (created < expires_at).all()
    assert (log.service_user_index >= 0).sum() > 1000


def test_activity_grows_for_the_first_years_then_keeps_its_level() -> None:
    year = 365 * DAY
    levels = growth(np.array([FIRST_DAY_START + k * year for k in (0, 1, 2, 3, 5)]))
    assert levels[1] == 1.0
    assert levels[1] / levels[0] == pytest.approx(YEARLY_GROWTH)
    assert levels[2] / levels[1] == pytest.approx(YEARLY_GROWTH)
    assert YEARS_OF_GROWTH == 2.0 and levels[2] == levels[3] == levels[4]
