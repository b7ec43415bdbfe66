"""The benchmarks at tiny sizes: every scenario runs and measures the right thing.

These tests check correctness, never timing: the toolkit's frame is the plain loop's and the
thread pool's frame, a warm cache sends no request (in the same process or a new one), the big
fetch's sessions add up, the tables and the JSON have every target. The numbers themselves come
from ``python -m benchmarks`` (``make bench``) on a quiet machine.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from benchmarks.__main__ import main
from benchmarks.common import MADE_UP_IDS, breakdown_queries
from benchmarks.harness import Measurement, ScenarioResult, Target, format_report
from benchmarks.imports import import_seconds
from benchmarks.probe import PYCACHE, child_env, resident_bytes
from benchmarks.scenarios import (
    END,
    QUICK,
    RUNNERS,
    SEED,
    answer_rows,
    breakdown_ids,
    expected_frame,
    frames_equal,
    frames_scenario,
    plain_loop,
    simulator_scenario,
    simulator_variants,
    thread_pool_frame,
    thread_pool_loop,
)
from benchmarks.server_process import REPOSITORY, ServerProcess
from metrics_toolkit import MetricsClient, fetch_series, long_frame, time_buckets, wide_frame
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, DemoServer, generate_enterprise
from metrics_toolkit.demo.simulator import SESSION_METRICS_PATH
from metrics_toolkit.directory import Directory


@pytest.fixture(scope="module")
def api() -> DemoAPI:
    return DemoAPI(generate_enterprise(seed=SEED, end=END))


@pytest.fixture(scope="module")
def server(api: DemoAPI) -> Iterator[DemoServer]:
    with DemoServer(api) as running:
        yield running


def client_for(server: DemoServer, cache_dir: Path | None) -> MetricsClient:
    if cache_dir is None:
        return MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False, now=END)
    return MetricsClient(DEMO_API_KEY, base_url=server.url, cache_dir=cache_dir, now=END)


# -- the pieces the scenarios are made of ------------------------------------------------------


def test_cold_warm_and_reopened_runs_give_the_plain_loops_frame(
    server: DemoServer, tmp_path: Path
) -> None:
    start = END - dt.timedelta(days=10)
    buckets = time_buckets(start, END, "day", now=END)
    queries = [{"time_after": b.time_after, "time_before": b.time_before} for b in buckets]
    with requests.Session() as session:
        answers = plain_loop(session, server.url + SESSION_METRICS_PATH, queries)
    expected = expected_frame(buckets, answers)
    assert len(expected) == 10

    with client_for(server, tmp_path) as client:
        before = server.request_count
        cold = fetch_series(client, start, END, "day", workers=8, progress=False)
        assert server.request_count - before == len(buckets)
        before = server.request_count
        warm = fetch_series(client, start, END, "day", workers=8, progress=False)
        assert server.request_count == before
    with client_for(server, tmp_path) as client:
        reopened = fetch_series(client, start, END, "day", workers=8, progress=False)
        assert server.request_count == before
    assert frames_equal(cold, expected)
    assert frames_equal(warm, expected)
    assert frames_equal(reopened, expected)
    assert warm.attrs["fetch_stats"].from_cache == len(buckets)


@pytest.mark.parametrize("cached", [False, True], ids=["cache-off", "cache-on"])
def test_breakdown_gives_the_plain_loops_frame(
    server: DemoServer, api: DemoAPI, tmp_path: Path, cached: bool
) -> None:
    ids = [*breakdown_ids(api.enterprise, 4), "user-bench-made-up"]
    start = END - dt.timedelta(weeks=3)
    buckets = time_buckets(start, END, "week", now=END)
    queries = [
        {"time_after": b.time_after, "time_before": b.time_before, "user_ids": [user_id]}
        for user_id in ids
        for b in buckets
    ]
    with requests.Session() as session:
        answers = plain_loop(session, server.url + SESSION_METRICS_PATH, queries)
    expected = expected_frame(buckets, answers, ids=ids)
    with client_for(server, tmp_path if cached else None) as client:
        before = server.request_count
        frame = fetch_series(
            client,
            start,
            END,
            "week",
            by="user",
            ids=ids,
            workers=8,
            progress=False,
            directory=Directory(),
            allow_unknown_ids=True,  # made-up ids, sent as given
        )
        assert server.request_count - before == len(queries)
    assert frames_equal(frame, expected)
    assert frame.loc[frame["user_id"] == "user-bench-made-up", "sessions_created_count"].eq(0).all()


@pytest.mark.parametrize("kind", ["user", "org"])
def test_thread_pool_gives_the_plain_loops_and_the_toolkits_frame(
    server: DemoServer, api: DemoAPI, kind: str
) -> None:
    ids = [*breakdown_ids(api.enterprise, 3, kind), MADE_UP_IDS[kind].format(99)]
    start = END - dt.timedelta(weeks=3)
    buckets = time_buckets(start, END, "week", now=END)
    queries = breakdown_queries(buckets, ids, kind)
    url = server.url + SESSION_METRICS_PATH
    with requests.Session() as session:
        answers = plain_loop(session, url, queries)
    assert thread_pool_loop(url, queries, workers=4) == answers
    before = server.request_count
    frame = thread_pool_frame(url, buckets, queries, 8, ids=ids, kind=kind)
    assert server.request_count - before == len(queries)
    assert frames_equal(frame, expected_frame(buckets, answers, ids=ids, kind=kind))
    with client_for(server, None) as client:
        toolkit = fetch_series(
            client,
            start,
            END,
            "week",
            by=kind,
            ids=ids,
            progress=False,
            directory=Directory(),
            allow_unknown_ids=True,  # made-up ids, sent as given
        )
    assert frames_equal(frame, toolkit)
    assert frame[f"{kind}_id"].iloc[-1] == ids[-1] and "bench" in ids[-1]


def test_thread_pool_raises_the_servers_error(server: DemoServer) -> None:
    query = {"time_after": int(END.timestamp()) - 86400, "time_before": int(END.timestamp())}
    with pytest.raises(requests.HTTPError, match="404"):
        thread_pool_loop(server.url + "/no/such/path", [query], workers=2)


def test_breakdown_ids_pad_the_directory_with_made_up_users(api: DemoAPI) -> None:
    users = len(api.enterprise.users)
    ids = breakdown_ids(api.enterprise, users + 3)
    assert ids[:users] == [user.user_id for user in api.enterprise.users]
    assert ids[users:] == ["user-bench-0000", "user-bench-0001", "user-bench-0002"]
    assert len(set(ids)) == len(ids)
    assert breakdown_ids(api.enterprise, 2) == ids[:2]
    orgs = breakdown_ids(api.enterprise, 20, "org")
    known = [org.org_id for org in api.enterprise.organizations]
    assert orgs[: len(known)] == known and orgs[len(known)] == "org-bench-0000"
    assert len(set(orgs)) == 20
    with pytest.raises(ValueError, match="kind"):
        breakdown_ids(api.enterprise, 2, "playbook")


def test_frames_from_answers(api: DemoAPI) -> None:
    rows = answer_rows(api, groups=3, weeks=4)
    wide = wide_frame(rows, group_by="user")
    tidy = long_frame(wide)
    assert len(wide) == 12
    assert tidy.groupby(["user_id", "bucket_start"]).size().nunique() == 1
    assert set(tidy["category"]) >= {"all", "slack", "xl"}


def test_simulator_variants_filter_the_whole_log(api: DemoAPI) -> None:
    window = (api.enterprise.start, api.enterprise.end)
    total = api.session_metrics(*window)["sessions_created_count"]
    assert total == len(api.enterprise.sessions)
    for filters in simulator_variants(api.enterprise).values():
        count = api.session_metrics(*window, **filters)["sessions_created_count"]
        assert 0 <= count <= total
    assert next(iter(simulator_variants(api.enterprise))) == "no filter"


def test_server_process_counts_requests() -> None:
    with ServerProcess(end=END, seed=SEED) as child:
        assert child.url.startswith("http://127.0.0.1:")
        assert child.request_count == 0
        response = requests.get(
            child.url + SESSION_METRICS_PATH,
            params={
                "time_after": int(END.timestamp()) - 86400,
                "time_before": int(END.timestamp()),
            },
            headers={"Authorization": f"Bearer {DEMO_API_KEY}"},
            timeout=10,
        )
        assert response.status_code == 200
        assert child.request_count == 1
    with pytest.raises(RuntimeError, match="not running"):
        _ = child.request_count


def test_probe_reads_this_processs_memory_and_imports_in_a_new_one() -> None:
    resident = resident_bytes()
    assert math.isnan(resident) or resident > 2**20
    imported = import_seconds("json")
    assert 0 <= imported.seconds < 5 and not imported.brings_pandas
    assert imported.file.name == "__init__.py" and imported.file.parent.name == "json"


def test_children_keep_bytecode_outside_the_tree(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    kept = child_env(bytecode_cache=True)
    assert "PYTHONDONTWRITEBYTECODE" not in kept
    assert kept["PYTHONPYCACHEPREFIX"] == str(PYCACHE)
    assert not PYCACHE.is_relative_to(REPOSITORY)
    assert child_env(bytecode_cache=False)["PYTHONDONTWRITEBYTECODE"] == "1"


# -- each scenario at quick sizes ------------------------------------------------------------

#: The scenarios that mostly wait on child processes and sleeping servers: run side by side,
#: which keeps this file at a few seconds (their numbers are not looked at).
CONCURRENT = (1, 2, 5, 6, 7, 8)


@pytest.fixture(scope="module")
def quick(api: DemoAPI) -> dict[int, ScenarioResult]:
    with ThreadPoolExecutor(max_workers=len(CONCURRENT)) as pool:
        futures = {number: pool.submit(RUNNERS[number], QUICK, api) for number in CONCURRENT}
        return {number: future.result() for number, future in futures.items()}


def assert_complete(result: ScenarioResult, targets: set[str]) -> None:
    assert result.checks, "a scenario checks what it measures"
    failed = [name for name, ok in result.checks.items() if not ok]
    assert not failed
    assert {target.key for target in result.targets} == targets
    assert all(measurement.values for measurement in result.measurements)


def test_latency_scenario_quick(quick: dict[int, ScenarioResult]) -> None:
    result = quick[1]
    assert_complete(
        result,
        {
            "s1.cold_over_pool",
            "s1.cold_over_floor",
            "s1.plain_over_cold",
            "s1.cold_over_warm",
            "s1.warm_requests",
            "s1.process_ms",
        },
    )
    assert "warm runs send no request" in result.checks
    assert "thread pool frame == plain loop's frame" in result.checks
    assert "new-process frame == plain loop's frame" in result.checks
    assert "new process: no request, every bucket from the cache" in result.checks
    warm_requests = next(m for m in result.measurements if m.key == "s1.warm_requests")
    assert warm_requests.values == [0] * (QUICK.runs * QUICK.warm_repeats)
    assert next(t for t in result.targets if t.key == "s1.warm_requests").passed
    process = next(m for m in result.measurements if m.key == "s1.process_seconds")
    assert len(process.values) == QUICK.runs * QUICK.new_process_repeats


def test_breakdown_scenario_quick(quick: dict[int, ScenarioResult]) -> None:
    result = quick[2]
    assert not [name for name, ok in result.checks.items() if not ok]
    assert [t.key for t in result.targets] == [
        "s2.toolkit_over_plain",
        "s2.cached_cpu_over_uncached",
    ]
    if result.notes:  # the server stalls each response: the scenario is skipped, and says why
        assert "skipped" in result.notes[0]
        assert all(math.isnan(target.value) for target in result.targets)
        assert not any(target.passed for target in result.targets)
    else:
        assert len([name for name in result.checks if "frame" in name]) == 4
        assert result.checks["thread pool frame == plain loop's frame"]
        assert result.checks["every run sends one request per call"]
        cpu = {m.key for m in result.measurements if m.unit == "µs"}
        assert {"s2.pool_cpu_per_call", "s2.toolkit_cached_cpu_per_call"} <= cpu


def test_frames_scenario_quick(api: DemoAPI) -> None:
    result = frames_scenario(QUICK, api)
    assert_complete(result, {"s3.wide_seconds", "s3.long_seconds"})


def test_simulator_scenario_quick(api: DemoAPI) -> None:
    result = simulator_scenario(QUICK, api)
    assert_complete(result, {"s4.no_ms", "s4.org_ms", "s4.user_ms"})
    times = next(m for m in result.measurements if m.key == "s4.no_ms")
    assert len(times.values) == QUICK.simulator_calls


def test_orgs_scenario_quick(quick: dict[int, ScenarioResult], api: DemoAPI) -> None:
    result = quick[5]
    assert_complete(result, {"s5.cold_over_floor"})
    assert QUICK.orgs > len(api.enterprise.organizations), "quick sizes pad with made-up orgs"
    assert set(result.checks) == {
        "toolkit frame == thread pool's frame",
        "made-up orgs answer zeros",
        "every run sends one request per call",
    }
    keys = {m.key for m in result.measurements}
    assert {"s5.pool_over_floor", "s5.floor_seconds", "s5.pool_seconds"} <= keys


def test_overview_scenario_quick(quick: dict[int, ScenarioResult]) -> None:
    result = quick[8]
    assert_complete(result, {"s8.cold_over_floor"})
    assert set(result.checks) == {
        "rows equal the single-endpoint answers",
        "one row per org and week, none failed",
        "every run sends one request per call",
    }


def test_memory_scenario_quick(quick: dict[int, ScenarioResult]) -> None:
    result = quick[6]
    assert_complete(result, {"s6.kept_mib"})
    assert len(result.checks) == 2
    kept = next(m for m in result.measurements if m.key == "s6.kept_mib")
    assert len(kept.values) == 1 and not math.isnan(kept.median)


def test_import_scenario_quick(quick: dict[int, ScenarioResult]) -> None:
    result = quick[7]
    assert_complete(result, {"s7.toolkit_minus_pandas"})
    assert "metrics_toolkit imported from this tree" in result.checks
    for measurement in result.measurements:
        assert len(measurement.values) == QUICK.import_runs


def test_every_scenario_is_tested_here() -> None:
    assert sorted(RUNNERS) == sorted([*CONCURRENT, 3, 4, 9])  # 9: test_store_scale_bench.py


# -- the report ----------------------------------------------------------------------------------


def test_report_says_pass_or_miss_and_lists_failed_checks() -> None:
    result = ScenarioResult(9, "demo", "setup")
    result.measurements.append(Measurement("s9.x", "x", "s", [3.0, 1.0, 2.0]))
    result.targets += [
        Target("s9.ok", "ok", 2.0, 1.0, True),
        Target("s9.no", "no", 2.0, 1.0, False),
    ]
    result.checks["fine"] = True
    result.checks["broken"] = False
    result.notes.append("something skipped")
    assert result.measurements[0].median == 2.0
    text = format_report([result])
    assert "| PASS" in text and "| MISS" in text
    assert "1 of 2 passed" in text and "FAILED 9: broken" in text
    assert "note (9): something skipped" in text


def test_main_quick_writes_the_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    output = tmp_path / "results.json"
    assert main(["--quick", "--scenarios", "3,4", "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert "| target" in printed and "correctness checks" in printed
    payload = json.loads(output.read_text())
    assert payload["machine"]["nproc"] >= 1
    assert payload["settings"] == {
        **dataclasses.asdict(QUICK),
        "quick": True,
        "end": END.isoformat(),
    }
    assert [s["number"] for s in payload["scenarios"]] == [3, 4]
    targets = [t for s in payload["scenarios"] for t in s["targets"]]
    assert all({"label", "value", "bound", "passed"} <= set(t) for t in targets)


def test_main_refuses_an_unknown_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--scenarios", "99"]) == 2
    assert "unknown scenario" in capsys.readouterr().err
