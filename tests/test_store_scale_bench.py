"""Scenario 9 of the benchmarks (the store at scale) at tiny sizes: it runs and checks itself.

Correctness only, never timing: the sync makes one call per (user, day), the store holds the
simulator's sessions, the next day's re-sync asks for the provisional days and the new day
only, the thread pool's sessions add up. The numbers come from ``python -m benchmarks
--scenarios 9``.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

import metrics_toolkit as mt
from benchmarks.scenarios import END, QUICK, RUNNERS, SEED
from benchmarks.server_process import REPOSITORY, ServerProcess
from benchmarks.store_probe import sync_options
from benchmarks.store_scale import expected_resync_calls, store_scale_scenario
from metrics_toolkit._constants import DEFAULT_SETTLE_PERIOD
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, generate_enterprise

pytest.importorskip("duckdb")

#: Bytes a parent holds while its child reads its own peak (more than the child's imports).
BIG_PARENT = 600 * 2**20


def test_the_scale_case_is_scenario_9() -> None:
    assert RUNNERS[9] is store_scale_scenario


def test_the_scale_case_at_quick_sizes_passes_its_checks() -> None:
    result = store_scale_scenario(QUICK, DemoAPI(generate_enterprise(seed=SEED, end=END)))
    assert len(result.checks) == 5
    assert all(result.checks.values()), result.checks
    assert {target.key for target in result.targets} == {"s9.sync_over_pool", "s9.memory_bounded"}
    assert all(measurement.values for measurement in result.measurements)
    calls = {m.key: m.values[0] for m in result.measurements if m.unit == "calls"}
    assert calls == {
        "s9.resync_calls": expected_resync_calls(
            QUICK.scale_users, END - dt.timedelta(days=QUICK.scale_days), END
        )
    }
    assert any("2,000 users" in note for note in result.notes)


@pytest.mark.parametrize("days", [3, 30])
def test_the_resync_asks_the_provisional_days_and_the_new_one(days: int) -> None:
    first = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
    provisional = min(days, DEFAULT_SETTLE_PERIOD.days)
    assert expected_resync_calls(7, first - dt.timedelta(days=days), first) == 7 * (provisional + 1)


def test_the_server_process_serves_an_enterprise_of_the_size_asked() -> None:
    with ServerProcess(end=END, seed=SEED, users=40, keep_answers=False) as server:
        client = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False, now=END)
        with client:
            ids = client.directory().ids("user")
    assert len(ids) == 40


def test_a_childs_peak_memory_is_its_own_not_its_parents() -> None:
    parent = bytearray(BIG_PARENT)  # touched: resident in this process
    code = "from benchmarks.store_probe import peak_bytes; print(peak_bytes())"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, check=True
    )
    assert len(parent) == BIG_PARENT
    assert 0 < float(done.stdout) < BIG_PARENT


def _without_workers(client: Any, db_path: Any, start: Any, *, by: Any = None) -> Any:
    """A sync that takes no worker count."""


def _with_workers(
    client: Any, db_path: Any, start: Any, *, workers: int = 8, progress: bool | None = None
) -> Any:
    """A sync that takes a worker count and a progress switch."""


@pytest.mark.parametrize(
    ("sync", "expected"),
    [(_without_workers, {}), (_with_workers, {"workers": 3, "progress": False})],
)
def test_workers_are_passed_only_to_a_sync_that_takes_them(
    monkeypatch: pytest.MonkeyPatch, sync: Callable[..., Any], expected: dict[str, Any]
) -> None:
    monkeypatch.setattr(mt, "sync", sync)
    assert sync_options(3) == expected
