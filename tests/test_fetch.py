"""Series: one call per (group, bucket), concurrent, cached, resumable; numbers that add up."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import cli
from metrics_toolkit.demo import (
    DEMO_API_KEY,
    DEMO_KEY_WITHOUT_PERMISSIONS,
    DemoAPI,
    DemoEnterprise,
    DemoServer,
    FaultPlan,
)
from metrics_toolkit.demo.simulator import ALL_PERMISSIONS

from .conftest import NOW

RANGE_START = dt.datetime(2026, 8, 3, tzinfo=dt.timezone.utc)  # a Monday
RANGE_END = dt.datetime(2026, 11, 2, tzinfo=dt.timezone.utc)  # a Monday, 13 weeks later
COUNT = "sessions_created_count"


def metric_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame without run-dependent attrs, for equality checks."""
    copy = frame.copy()
    copy.attrs = {}
    return copy


def client_for(server: DemoServer, cache_dir: Path | None, **settings: Any) -> mt.MetricsClient:
    settings.setdefault("backoff", 0.0)
    return mt.MetricsClient(
        DEMO_API_KEY,
        base_url=server.url,
        cache=cache_dir is not None,
        cache_dir=cache_dir,
        now=NOW,
        **settings,
    )


def random_filters(enterprise: DemoEnterprise, rng: random.Random) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    if rng.random() < 0.5:
        filters["org_ids"] = [o.org_id for o in rng.sample(list(enterprise.organizations), 2)]
    if rng.random() < 0.4:
        filters["user_ids"] = [u.user_id for u in rng.sample(list(enterprise.users), 15)]
    if rng.random() < 0.3:
        filters["playbook_id"] = rng.choice(list(enterprise.playbooks)).playbook_id
    return filters


# -- numbers that add up --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_daily_counts_add_up_to_one_call_over_the_range(
    demo_client: mt.MetricsClient, enterprise: DemoEnterprise, seed: int
) -> None:
    rng = random.Random(seed)
    filters = random_filters(enterprise, rng)
    start = RANGE_START + dt.timedelta(days=rng.randrange(0, 30), hours=rng.randrange(24))
    end = start + dt.timedelta(days=rng.randrange(5, 60))
    daily = mt.fetch_series(demo_client, start, end, "day", progress=False, **filters)
    whole = demo_client.session_metrics(start, end, **filters)
    for column, expected in mt.frames.flatten(whole).items():
        if column == "avg_acus_per_session":
            combined = mt.rollup(daily, None)
            if whole.sessions_created_count:
                assert combined[column].iloc[0] == pytest.approx(expected, rel=1e-9)
        else:
            assert int(daily[column].sum()) == expected, column


@pytest.mark.parametrize(
    ("fine", "coarse", "tz"),
    [
        ("day", "week", "UTC"),
        ("day", "month", "Europe/Berlin"),
        ("day", "month", "America/New_York"),
        ("week", "quarter", "UTC"),
        ("6h", "day", "UTC"),
    ],
)
def test_rollup_equals_the_coarse_fetch(
    demo_client: mt.MetricsClient, fine: str, coarse: str, tz: str
) -> None:
    start, end = "2026-03-02", "2026-11-02"  # Mondays, whole months and quarters
    if fine == "6h":
        start, end = "2026-10-01", "2026-10-21"
    if fine == "week":
        start, end = "2026-03-30", "2026-09-28"  # 26 weeks: Q2 and Q3 exactly? no: clipped
    fine_frame = mt.fetch_series(demo_client, start, end, fine, tz=tz, progress=False)
    coarse_frame = mt.fetch_series(demo_client, start, end, coarse, tz=tz, progress=False)
    if fine == "week":
        with pytest.raises(mt.InvalidParameterError, match="nest"):
            mt.rollup(fine_frame, coarse)
        return
    rolled = mt.rollup(fine_frame, coarse)
    pd.testing.assert_index_equal(rolled.index, coarse_frame.index)
    columns = [c for c in coarse_frame.columns if c not in ("avg_acus_per_session",)]
    pd.testing.assert_frame_equal(
        metric_frame(rolled[columns]), metric_frame(coarse_frame[columns]), check_exact=False
    )
    has_sessions = coarse_frame[COUNT] > 0
    assert rolled.loc[has_sessions, "avg_acus_per_session"].to_numpy() == pytest.approx(
        coarse_frame.loc[has_sessions, "avg_acus_per_session"].to_numpy(), rel=1e-9
    )


def test_rates_are_ratios_of_sums_and_nan_without_sessions(
    demo_client: mt.MetricsClient, enterprise: DemoEnterprise
) -> None:
    playbook = enterprise.playbooks[-1]  # launched mid-year: early weeks have no sessions
    frame = mt.fetch_series(
        demo_client,
        "2026-01-05",
        "2026-11-02",
        "week",
        playbook_id=playbook.playbook_id,
        progress=False,
    )
    empty = frame[COUNT] == 0
    assert empty.any() and (~empty).any()
    assert frame.loc[empty, "merged_pr_rate"].isna().all()
    assert frame.loc[empty, "search_share"].isna().all()
    full = frame.loc[~empty]
    expected = full["sessions_with_merged_prs_count"] / full[COUNT]
    assert full["merged_pr_rate"].to_numpy() == pytest.approx(expected.astype(float).to_numpy())
    # no session: no ACU total either, as after a rollup (the average has no weight)
    assert frame.loc[empty, "acus_total"].isna().all()
    assert mt.rollup(frame.loc[empty].iloc[:1], None)["acus_total"].isna().all()
    assert (frame.loc[~empty, "acus_total"] > 0).all()
    eight_weeks = mt.rollup(frame.iloc[-8:], None)
    sums = frame.iloc[-8:][["sessions_with_merged_prs_count", COUNT]].sum()
    assert eight_weeks["merged_pr_rate"].iloc[0] == pytest.approx(sums.iloc[0] / sums.iloc[1])
    assert eight_weeks["merged_pr_rate"].iloc[0] != pytest.approx(
        frame.iloc[-8:]["merged_pr_rate"].mean()
    )


# -- concurrency -------------------------------------------------------------------------------


def test_every_group_and_bucket_exactly_once_in_order(
    http_client: mt.MetricsClient, server: DemoServer, enterprise: DemoEnterprise
) -> None:
    orgs = [o.org_id for o in enterprise.organizations]
    frame = mt.fetch_series(
        http_client, RANGE_START, RANGE_END, "week", by="org", ids=orgs, workers=8, progress=False
    )
    assert len(frame) == len(orgs) * 13
    assert list(frame["org_id"]) == [org for org in orgs for _ in range(13)]
    for org in orgs:
        assert frame.loc[frame["org_id"] == org].index.is_monotonic_increasing
    sent = Counter()
    for target in server.requests:
        if "/metrics/" not in urlsplit(target).path:
            continue  # the directory, read to check the ids and label them
        query = parse_qs(urlsplit(target).query)
        sent[(query["org_ids"][0], int(query["time_after"][0]))] += 1
    assert len(sent) == len(orgs) * 13 and set(sent.values()) == {1}
    for org in orgs[:2]:
        expected = http_client.session_metrics(RANGE_START, RANGE_END, org_ids=[org])
        assert frame.loc[frame["org_id"] == org, COUNT].sum() == expected.sessions_created_count


def test_breakdown_by_playbook_and_user_pass_the_right_filter(
    demo_client: mt.MetricsClient, enterprise: DemoEnterprise
) -> None:
    playbooks = [p.playbook_id for p in enterprise.playbooks[:3]]
    frame = mt.fetch_series(
        demo_client, RANGE_START, RANGE_END, "month", by="playbook", ids=playbooks, progress=False
    )
    for playbook in playbooks:
        expected = demo_client.session_metrics(RANGE_START, RANGE_END, playbook_id=playbook)
        got = frame.loc[frame["playbook_id"] == playbook, COUNT].sum()
        assert got == expected.sessions_created_count


def test_a_breakdown_without_ids_uses_the_directory(demo_client: mt.MetricsClient) -> None:
    frame = mt.fetch_series(demo_client, "2026-10-01", "2026-11-01", "month", by="org")
    directory = demo_client.directory()
    assert list(frame["org_id"]) == directory.ids("org")
    assert list(frame["org_name"]) == [o.name for o in directory.organizations]


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"freq": "fortnight"}, "freq"),
        ({"tz": "Europe/Berlinn"}, "tz"),
        ({"by": "team", "ids": ["x"]}, "by"),
        ({"ids": ["org-1"]}, "ids"),
        ({"by": "org", "ids": []}, "ids"),
        ({"by": "org", "ids": ["org-1"], "org_ids": ["org-2"]}, "ids"),
        ({"by": "playbook", "ids": ["playbook-1"], "playbook_id": "playbook-2"}, "ids"),
        ({"tz": ["UTC"]}, "tz"),
        ({"workers": 0}, "workers"),
        ({"workers": -3}, "workers"),
        ({"workers": 1000}, "workers"),
        ({"on_error": "ignore"}, "on_error"),
        ({"org_ids": []}, "org_ids"),
        ({"user_ids": [42]}, "user_ids"),
        ({"start": "2026-11-01", "end": "2026-10-01"}, "start"),
        ({"start": 1_760_000_000_000}, "start"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    http_client: mt.MetricsClient, server: DemoServer, kwargs: dict[str, Any], parameter: str
) -> None:
    arguments: dict[str, Any] = {"start": "2026-09-01", "end": "2026-10-01", "freq": "week"}
    arguments.update(kwargs)
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.fetch_series(http_client, progress=False, **arguments)
    assert caught.value.parameter in (parameter, "end") if parameter == "start" else True
    if parameter != "start":
        assert caught.value.parameter == parameter
    assert server.request_count == 0


def test_a_429_pauses_every_worker(enterprise: DemoEnterprise) -> None:
    arrivals: list[float] = []

    class TimedAPI(DemoAPI):
        def handle(self, *args: Any, **kwargs: Any) -> Any:
            arrivals.append(time.monotonic())
            return super().handle(*args, **kwargs)

    plan = next(
        p
        for p in (FaultPlan(seed=s, rate_limit=0.02, retry_after="1") for s in range(20000))
        if p.decide(0) is not None and all(p.decide(n) is None for n in range(1, 60))
    )
    with DemoServer(TimedAPI(enterprise, now=NOW), faults=plan) as server:
        client = client_for(server, None)
        limited = time.monotonic()
        frame = mt.fetch_series(
            client, "2026-09-01", "2026-10-11", "day", workers=4, progress=False
        )
    assert len(frame) == 40 and not frame["failed"].any()
    early = [t for t in arrivals if t < limited + 0.95]
    # Without a shared pause all 39 other calls would land within that second; with it, only
    # those sent before the 429 reached the client (a few per worker at most) do.
    assert len(early) <= 2 * 4


# -- failures ------------------------------------------------------------------------------------


def test_a_permanently_failing_bucket_is_named_and_nothing_else_is_lost(
    demo_api: DemoAPI, tmp_path: Path
) -> None:
    buckets = mt.time_buckets("2026-09-01", "2026-10-01", "day", now=NOW)
    failing = {buckets[3].time_after, buckets[17].time_after}
    with DemoServer(demo_api) as server:
        reference = mt.fetch_series(client_for(server, None), "2026-09-01", "2026-10-01", "day")
        server.faults = FaultPlan(seed=2, failing_time_after=frozenset(failing))
        client = client_for(server, tmp_path / "cache", max_retries=2)
        with pytest.raises(mt.FetchError) as caught:
            mt.fetch_series(client, "2026-09-01", "2026-10-01", "day", progress=False)
        error = caught.value
        assert {f.bucket.time_after for f in error.failures} == failing
        assert all(isinstance(f.error, mt.ServerError) for f in error.failures)
        assert "2026-09-04T00:00:00+00:00" in str(error) and "2026-09-18" in str(error)
        assert len(error.frame) == 28 and not error.frame[COUNT].isna().any()
        # the marked form keeps every row, failed ones NA (never 0), and warns
        with pytest.warns(mt.PartialFetchWarning, match="2 of 30"):
            marked = mt.fetch_series(
                client, "2026-09-01", "2026-10-01", "day", on_error="mark", progress=False
            )
        assert marked["failed"].sum() == 2
        assert marked.loc[marked["failed"], COUNT].isna().all()
        assert marked.loc[marked["failed"], "error"].str.contains("ServerError").all()
        # faults stop: a re-run asks for exactly the failed buckets
        server.faults = None
        before = server.request_count
        healed = mt.fetch_series(client, "2026-09-01", "2026-10-01", "day", progress=False)
        asked = server.requests[before:]
        assert sorted(int(parse_qs(urlsplit(t).query)["time_after"][0]) for t in asked) == sorted(
            failing
        )
    pd.testing.assert_frame_equal(metric_frame(healed), metric_frame(reference))


def test_5xx_bursts_and_429s_are_survived(demo_api: DemoAPI) -> None:
    plan = FaultPlan(
        seed=9,
        server_error=0.1,
        rate_limit=0.05,
        rate_limit_without_retry_after=0.05,
        retry_after="0",
    )
    with DemoServer(demo_api) as server:
        reference = mt.fetch_series(client_for(server, None), "2026-06-01", "2026-09-01", "day")
        server.faults = plan
        faulty = mt.fetch_series(
            client_for(server, None, max_retries=8, backoff=0.001),
            "2026-06-01",
            "2026-09-01",
            "day",
            progress=False,
        )
    pd.testing.assert_frame_equal(metric_frame(faulty), metric_frame(reference))


# -- the cache ----------------------------------------------------------------------------------


def test_a_settled_range_is_served_from_cache_with_zero_requests(
    server: DemoServer, tmp_path: Path
) -> None:
    first = mt.fetch_series(client_for(server, tmp_path), RANGE_START, RANGE_END, "week")
    assert server.request_count == 13
    again = mt.fetch_series(client_for(server, tmp_path), RANGE_START, RANGE_END, "week")
    assert server.request_count == 13
    assert again.attrs["fetch_stats"].from_cache == 13
    pd.testing.assert_frame_equal(metric_frame(first), metric_frame(again))
    mt.fetch_series(client_for(server, tmp_path), RANGE_START, RANGE_END, "week", refresh=True)
    assert server.request_count == 26


def test_provisional_windows_expire_and_windows_past_now_are_never_cached(
    server: DemoServer, tmp_path: Path
) -> None:
    policy = mt.CachePolicy(
        settle_period=dt.timedelta(days=14), provisional_ttl=dt.timedelta(seconds=1)
    )
    client = client_for(server, tmp_path, cache_policy=policy)
    # three days: settled (ended 20 days before now), provisional (ended 2 days ago), and today
    settled = ("2026-11-04", "2026-11-05")
    provisional = ("2026-11-22", "2026-11-23")
    today = ("2026-11-25", "2026-11-26")
    for window in (settled, provisional, today):
        client.session_metrics(*window)
    assert server.request_count == 3
    for window in (settled, provisional, today):
        client.session_metrics(*window)
    assert server.request_count == 4  # only today asked again
    time.sleep(1.1)
    for window in (settled, provisional, today):
        client.session_metrics(*window)
    assert server.request_count == 6  # provisional expired, today never cached
    frame = mt.fetch_series(client, "2026-11-23", "2026-11-26", "day", progress=False)
    assert list(frame["partial"]) == [False, False, True]


def test_an_open_window_is_never_stored_so_it_is_fresh_once_it_closes(
    enterprise: DemoEnterprise, tmp_path: Path
) -> None:
    api = DemoAPI(enterprise, now=NOW)
    window = (NOW - dt.timedelta(days=2), NOW + dt.timedelta(hours=2))
    with DemoServer(api) as server:
        client = mt.MetricsClient(
            DEMO_API_KEY, base_url=server.url, cache_dir=tmp_path, now=lambda: api.now
        )
        open_answer = client.session_metrics(*window)
        api.set_now(NOW + dt.timedelta(hours=3))  # the window has closed since
        closed_answer = client.session_metrics(*window)
        assert server.request_count == 2
        fresh = mt.MetricsClient(
            DEMO_API_KEY, base_url=server.url, cache_dir=tmp_path, now=lambda: api.now
        )
        assert fresh.session_metrics(*window) == closed_answer
        assert server.request_count == 2  # the closed window is cached now
    assert closed_answer.sessions_created_count >= open_answer.sessions_created_count
    assert closed_answer != open_answer


def test_a_series_splits_buckets_longer_than_max_window(server: DemoServer, tmp_path: Path) -> None:
    whole = mt.fetch_series(client_for(server, None), "2026-01-01", "2026-07-01", "quarter")
    before = server.request_count
    split_client = client_for(server, tmp_path, max_window=dt.timedelta(days=30))
    split = mt.fetch_series(split_client, "2026-01-01", "2026-07-01", "quarter")
    assert server.request_count - before == 7  # 90 and 91 days: 4 windows each, minus one
    columns = [c for c in whole.columns if c != "avg_acus_per_session"]
    pd.testing.assert_frame_equal(metric_frame(split[columns]), metric_frame(whole[columns]))
    again = mt.fetch_series(split_client, "2026-01-01", "2026-07-01", "quarter")
    assert server.request_count - before == 7  # the parts are cached
    assert again.attrs["fetch_stats"].from_cache == 2


def test_demo_enterprises_never_share_cache_entries(tmp_path: Path) -> None:
    old = mt.MetricsClient.demo(now=NOW - dt.timedelta(days=1), cache_dir=tmp_path)
    new = mt.MetricsClient.demo(now=NOW, cache_dir=tmp_path)
    other = mt.MetricsClient.demo(seed=1, now=NOW, cache_dir=tmp_path)
    assert len({c.account_fingerprint for c in (old, new, other)}) == 3
    week = ("2026-10-05", "2026-10-12")  # settled at both nows, so cached
    # The same enterprise a day apart: its past reads the same. Another seed is another
    # enterprise: it answers for itself, not from the entries cached for the first.
    assert old.session_metrics(*week) == new.session_metrics(*week)
    assert other.session_metrics(*week) != new.session_metrics(*week)


def test_two_tokens_never_share_cache_entries(enterprise: DemoEnterprise, tmp_path: Path) -> None:
    api = DemoAPI(
        enterprise, now=NOW, tokens={"cog_team_a": ALL_PERMISSIONS, "cog_team_b": ALL_PERMISSIONS}
    )
    with DemoServer(api) as server:
        for token in ("cog_team_a", "cog_team_b", "cog_team_a"):
            client = mt.MetricsClient(token, base_url=server.url, cache_dir=tmp_path, now=NOW)
            client.session_metrics("2026-09-01", "2026-09-08")
        assert server.request_count == 2


def test_the_token_is_not_in_the_cache_files(server: DemoServer, tmp_path: Path) -> None:
    client = client_for(server, tmp_path)
    mt.fetch_series(client, RANGE_START, RANGE_END, "week", progress=False)
    client.directory()
    client.close()
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files
    for file in files:
        data = file.read_bytes()
        assert DEMO_API_KEY.encode() not in data, file
        assert file.stat().st_mode & 0o077 == 0, f"{file} is readable by others"
    assert tmp_path.stat().st_mode & 0o077 == 0, "the cache directory is readable by others"


def test_an_interrupted_fetch_resumes_with_only_the_missing_buckets(
    demo_api: DemoAPI, tmp_path: Path
) -> None:
    # Progress is reported a few times a second, so the calls take long enough (43 calls on 4
    # workers at 50 ms: about 0.55 s) for an interrupt at half of them to leave some unsent.
    with DemoServer(demo_api, latency=0.05) as server:
        client = client_for(server, tmp_path)

        def interrupt(done: int, total: int) -> None:
            if done == total // 2:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            mt.fetch_series(
                client, "2026-01-05", "2026-11-02", "week", workers=4, on_progress=interrupt
            )
        first = server.request_count
        assert 0 < first < 43
        resumed = client_for(server, tmp_path)
        frame = mt.fetch_series(resumed, "2026-01-05", "2026-11-02", "week")
        assert server.request_count == 43
    assert frame.attrs["fetch_stats"].from_cache == first
    assert len(frame) == 43 and not frame["failed"].any()


def test_a_corrupt_cache_entry_is_refetched_with_a_warning(
    server: DemoServer, tmp_path: Path
) -> None:
    import sqlite3

    client_for(server, tmp_path).session_metrics("2026-09-01", "2026-09-08")
    database = sqlite3.connect(tmp_path / mt.cache.CACHE_FILE_NAME)
    database.execute("UPDATE responses SET value = ?", (b"\x80\x04garbage",))
    database.commit()
    database.close()
    with pytest.warns(mt.cache.CacheWarning, match="fetching it again"):
        metrics = client_for(server, tmp_path).session_metrics("2026-09-01", "2026-09-08")
    assert metrics.sessions_created_count > 0
    assert server.request_count == 2


def test_an_unwritable_cache_directory_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.MetricsClient(DEMO_API_KEY, base_url="https://x.invalid", cache_dir=blocker / "sub")
    assert caught.value.parameter == "cache_dir"


def test_clear_cache(server: DemoServer, tmp_path: Path) -> None:
    client_for(server, tmp_path).session_metrics("2026-09-01", "2026-09-08")
    assert mt.clear_cache(tmp_path) >= 1
    client_for(server, tmp_path).session_metrics("2026-09-01", "2026-09-08")
    assert server.request_count == 2


# -- time zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "start", "end", "hours"),
    [
        ("Europe/Berlin", "2026-03-23", "2026-04-06", [167, 168]),  # DST starts 29 March
        ("Europe/Berlin", "2026-10-19", "2026-11-02", [169, 168]),  # DST ends 25 October
        ("America/New_York", "2026-03-02", "2026-03-16", [167, 168]),  # DST starts 8 March
        ("America/New_York", "2026-10-26", "2026-11-09", [169, 168]),  # DST ends 1 November
    ],
)
def test_dst_weeks_are_sent_as_local_calendar_weeks(
    http_client: mt.MetricsClient,
    server: DemoServer,
    tz: str,
    start: str,
    end: str,
    hours: list[int],
) -> None:
    frame = mt.fetch_series(http_client, start, end, "week", tz=tz, progress=False)
    lengths = [
        (e - s) / pd.Timedelta(hours=1)
        for s, e in zip(frame.index, frame["bucket_end"], strict=True)
    ]
    assert lengths == hours
    assert all(stamp.hour == 0 and stamp.weekday() == 0 for stamp in frame.index)
    sent = sorted(int(parse_qs(urlsplit(t).query)["time_after"][0]) for t in server.requests)
    assert sent == [int(stamp.timestamp()) for stamp in frame.index]


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York"])
def test_dst_months_add_up(demo_client: mt.MetricsClient, tz: str) -> None:
    months = mt.fetch_series(demo_client, "2026-02-01", "2026-05-01", "month", tz=tz)
    days = mt.fetch_series(demo_client, "2026-02-01", "2026-05-01", "day", tz=tz)
    assert list(months[COUNT]) == list(mt.rollup(days, "month")[COUNT])
    assert months.index[1] == pd.Timestamp("2026-03-01", tz=tz)


def test_threads_share_one_client_safely(demo_client: mt.MetricsClient) -> None:
    results: list[pd.DataFrame] = []

    def work() -> None:
        results.append(mt.fetch_series(demo_client, RANGE_START, RANGE_END, "week", progress=False))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for frame in results[1:]:
        pd.testing.assert_frame_equal(metric_frame(frame), metric_frame(results[0]))


def test_combining_every_org_gives_the_enterprise_total(demo_client: mt.MetricsClient) -> None:
    by_org = mt.fetch_series(demo_client, RANGE_START, RANGE_END, "week", by="org")
    total = mt.fetch_series(demo_client, RANGE_START, RANGE_END, "week")
    combined = mt.frames.combine_groups(by_org)
    columns = [c for c in total.columns if c != "avg_acus_per_session"]
    pd.testing.assert_frame_equal(
        metric_frame(combined[columns]), metric_frame(total[columns]), check_exact=False
    )
    assert combined["avg_acus_per_session"].to_numpy() == pytest.approx(
        total["avg_acus_per_session"].to_numpy()
    )
    one_missing = mt.frames.combine_groups(by_org.iloc[1:])  # the first org misses week 1
    assert pd.isna(one_missing[COUNT].iloc[0]) and bool(one_missing["failed"].iloc[0])
    assert one_missing[COUNT].iloc[1] == total[COUNT].iloc[1]


# -- buckets after now ---------------------------------------------------------------------------


def test_buckets_that_start_after_now_are_cut_and_named(
    http_client: mt.MetricsClient, server: DemoServer
) -> None:
    # now is Wed 25 Nov 03:00: the 25th straddles it (kept, partial), the 26th and 27th are cut
    with pytest.warns(
        mt.FutureBucketsWarning, match=r"2 bucket\(s\) from 2026-11-26T00:00"
    ) as told:
        frame = mt.fetch_series(http_client, "2026-11-23", "2026-11-28", "day", progress=False)
    assert len(told) == 1
    assert [stamp.day for stamp in frame.index] == [23, 24, 25]
    assert list(frame["partial"]) == [False, False, True]
    cut = frame.attrs["cut_after_now"]
    assert [bucket.start.day for bucket in cut] == [26, 27]
    assert len(server.requests) == 3  # nothing asked for the cut days
    with pytest.warns(mt.FutureBucketsWarning, match="from 2026-11-30"):
        by_org = mt.fetch_series(http_client, "2026-11-16", "2026-12-14", "week", by="org")
    assert len(by_org.attrs["cut_after_now"]) == 2  # weeks of 30 Nov and 7 Dec, every org
    assert by_org.index.max() == pd.Timestamp("2026-11-23", tz="UTC")


def test_a_range_wholly_after_now_asks_nothing(
    http_client: mt.MetricsClient, server: DemoServer
) -> None:
    with pytest.warns(mt.FutureBucketsWarning, match="5 bucket"):
        frame = mt.fetch_series(http_client, "2027-01-01", "2027-02-01", "week", progress=False)
    assert frame.empty and "sessions_created_count" in frame.columns
    assert server.request_count == 0
    with warnings.catch_warnings():  # a range that ends before now is not cut
        warnings.simplefilter("error", mt.FutureBucketsWarning)
        whole = mt.fetch_series(http_client, "2026-11-02", "2026-11-25", "week", progress=False)
    assert whole.attrs["cut_after_now"] == ()


# -- a 401 or 403 stops the whole series -----------------------------------------------------


@pytest.mark.parametrize(
    ("token", "error"),
    [
        ("cog_wrong_token", mt.AuthenticationError),
        (DEMO_KEY_WITHOUT_PERMISSIONS, mt.PermissionDeniedError),
    ],
)
@pytest.mark.parametrize("workers", [1, 4])
def test_a_401_or_403_stops_the_whole_series_at_once(
    server: DemoServer, token: str, error: type[mt.APIStatusError], workers: int
) -> None:
    client = mt.MetricsClient(token, base_url=server.url, cache=False, now=NOW, max_retries=4)
    for on_error in ("raise", "mark"):
        before = server.request_count
        with pytest.raises(error):
            mt.fetch_series(
                client, "2026-09-01", "2026-10-01", "day", workers=workers, on_error=on_error
            )
        # never retried, and no worker starts another call after the first refusal
        assert 1 <= server.request_count - before <= workers


def test_the_command_line_stops_at_a_wrong_token_with_one_line(
    server: DemoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DEVIN_API_KEY", "cog_wrong_token")
    out = tmp_path / "c.csv"
    argv = ["fetch", "--start", "2026-09-01", "--end", "2026-11-01", "--freq", "day"]
    argv += ["--base-url", server.url, "--no-cache", "--quiet", "--out", str(out)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("metrics-toolkit: AuthenticationError: HTTP 401")
    assert "after retries" not in err and ".frame" not in err
    assert server.request_count <= mt.fetch.DEFAULT_WORKERS  # not one per day (61)
    assert not out.exists()
