"""Bad input, everywhere: one clear error naming the parameter and what is accepted, and no
request sent (the demo server counts 0). The CLI prints that one line, no traceback, exit 2.

Complements the bad-input tables of test_client.py, test_fetch.py and test_buckets.py: the
cases here are the ones those do not reach (other entry points, other types, the CLI).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit.cli import main
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, DemoServer
from metrics_toolkit.directory import Directory

from .conftest import NOW

MS = 1_763_000_000_000  # 2025-11-13 in milliseconds: a classic mistake for seconds


def refused(call: Callable[[], Any], parameter: str, *words: str) -> mt.InvalidParameterError:
    """``call`` raises one InvalidParameterError naming ``parameter``, with ``words`` in it."""
    with pytest.raises(mt.InvalidParameterError) as caught:
        call()
    error = caught.value
    message = str(error)
    assert isinstance(error, ValueError) and isinstance(error, mt.MetricsError)
    assert error.parameter == parameter, message
    assert message.startswith(f"{parameter}: "), message
    for word in words:
        assert word in message, (word, message)
    return error


# -- MetricsClient(...) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "parameter", "words"),
    [
        ({"api_key": 123}, "api_key", ["token string"]),
        ({"api_key": "   "}, "api_key", ["non-empty"]),
        ({"api_key": "cog_abc\n"}, "api_key", ["whitespace"]),  # a token read from a file
        ({"timeout": float("inf")}, "timeout", ["finite", "> 0"]),
        ({"timeout": float("nan")}, "timeout", ["> 0"]),
        ({"timeout": True}, "timeout", ["seconds"]),
        ({"max_retries": 2.5}, "max_retries", ["int >= 0"]),
        ({"max_retries": True}, "max_retries", ["int >= 0"]),
        ({"backoff": "fast"}, "backoff", ["seconds >= 0"]),
        ({"max_requests_per_second": -1}, "max_requests_per_second", ["> 0"]),
        ({"cache": "no"}, "cache", ["True or False"]),
        ({"allow_insecure_http": "false"}, "allow_insecure_http", ["True or False"]),
        ({"cache_dir": 123}, "cache_dir", ["directory"]),
        ({"cache_policy": {"settle_period": 3}}, "cache_policy", ["CachePolicy"]),
        ({"directory_ttl": 3600}, "directory_ttl", ["timedelta"]),
        ({"directory_ttl": -dt.timedelta(hours=1)}, "directory_ttl", ["timedelta >= 0"]),
        ({"base_url": 8765}, "base_url", ["URL"]),
        ({"base_url": "https://api.devin.ai/?x=1"}, "base_url", ["query"]),
        ({"now": MS}, "now", ["milliseconds"]),
    ],
)
def test_client_settings(
    server: DemoServer, tmp_path: Path, settings: dict[str, Any], parameter: str, words: list[str]
) -> None:
    arguments: dict[str, Any] = {
        "api_key": DEMO_API_KEY,
        "base_url": server.url,
        "cache_dir": tmp_path,
        **settings,
    }
    api_key = arguments.pop("api_key")
    refused(lambda: mt.MetricsClient(api_key, **arguments), parameter, *words)
    assert server.request_count == 0


def test_an_unwritable_cache_directory_names_it_and_the_way_out(
    server: DemoServer, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    error = refused(
        lambda: mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache_dir=blocker / "cache"),
        "cache_dir",
        "cannot be written",
        "cache=False",
    )
    assert str(blocker / "cache") in str(error)
    assert server.request_count == 0


# -- session_metrics ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "parameter", "words"),
    [
        ({"time_after": np.int64(MS)}, "time_after", ["milliseconds", "1763000000"]),
        ({"time_after": pd.Timestamp(MS, unit="ms").value}, "time_after", ["nanoseconds"]),
        ({"time_before": None}, "time_before", ["NoneType", "Unix epoch seconds"]),
        ({"time_after": pd.NaT}, "time_after", ["NaT"]),
        ({"time_after": "2026-02-30"}, "time_after", ["ISO 8601"]),
        ({"time_after": "2026-11-09", "time_before": "2026-11-02"}, "time_before", ["later"]),
        ({"user_ids": ""}, "user_ids", ["non-empty string"]),
        ({"org_ids": ("org-1", None)}, "org_ids", ["non-empty string", "NoneType"]),
        ({"service_user_ids": 7}, "service_user_ids", ["list of id strings"]),
        ({"playbook_id": 12}, "playbook_id", ["playbook id string"]),
    ],
)
def test_session_metrics(
    http_client: mt.MetricsClient,
    server: DemoServer,
    change: dict[str, Any],
    parameter: str,
    words: list[str],
) -> None:
    arguments: dict[str, Any] = {"time_after": "2026-11-02", "time_before": "2026-11-09"}
    arguments.update(change)
    refused(lambda: http_client.session_metrics(**arguments), parameter, *words)
    assert server.request_count == 0


# -- session_metrics_frame / fetch_series -------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "parameter", "words"),
    [
        ({"start": MS}, "start", ["milliseconds"]),
        ({"start": "2026-11-01", "end": "2026-10-01"}, "start", ["must be before end"]),
        ({"freq": "fortnight"}, "freq", ["Accepted", "'week'"]),
        ({"freq": 7}, "freq", ["accepted"]),
        ({"tz": "Europe/Berlinn"}, "tz", ["IANA", "Did you mean 'Europe/Berlin'"]),
        ({"tz": None}, "tz", ["IANA time zone name"]),
        ({"by": "team", "ids": ["x"]}, "by", ["'org'", "'playbook'"]),
        ({"by": "org", "ids": []}, "ids", ["empty list"]),
        ({"by": "org", "ids": ["org-1", 42]}, "ids", ["non-empty string"]),
        ({"by": "org", "directory": Directory()}, "ids", ["needs ids"]),
        ({"ids": ["org-1"]}, "ids", ["pass by="]),
        ({"workers": -3}, "workers", ["int >= 1"]),
        ({"workers": 2.0}, "workers", ["int >= 1"]),
        ({"workers": "8"}, "workers", ["int >= 1"]),
        ({"on_error": "skip"}, "on_error", ["'raise', 'mark'"]),
        ({"on_progress": 5}, "on_progress", ["callable"]),
        ({"by": "org", "directory": "names.csv"}, "directory", ["Directory"]),
        ({"org_ids": []}, "org_ids", ["empty list"]),
    ],
)
def test_session_metrics_frame(
    http_client: mt.MetricsClient,
    server: DemoServer,
    options: dict[str, Any],
    parameter: str,
    words: list[str],
) -> None:
    arguments: dict[str, Any] = {"start": "2026-09-01", "end": "2026-10-01", "freq": "week"}
    arguments.update(options)
    refused(lambda: http_client.session_metrics_frame(**arguments), parameter, *words)
    assert server.request_count == 0


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"freq": "fortnight"}, "freq"),
        ({"tz": "Europe/Berlinn"}, "tz"),
        ({"start": "2026-11-01", "end": "2026-10-01"}, "start"),
        ({"end": MS}, "end"),
    ],
)
def test_a_breakdown_over_the_whole_directory_checks_its_range_before_loading_it(
    http_client: mt.MetricsClient, server: DemoServer, options: dict[str, Any], parameter: str
) -> None:
    """``by=`` without ids loads the directory (4 lists); a bad range must not cost those calls."""
    arguments: dict[str, Any] = {"start": "2026-09-01", "end": "2026-10-01", "freq": "week"}
    arguments.update(options)
    refused(lambda: mt.fetch_series(http_client, by="org", **arguments), parameter)
    assert server.request_count == 0


# -- time_buckets, rollup, Directory.id ---------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "parameter", "words"),
    [
        ({"start": MS}, "start", ["milliseconds"]),
        ({"end": np.int64(MS)}, "end", ["milliseconds"]),
        ({"now": "whenever"}, "now", ["ISO 8601"]),
        ({"freq": "7D", "origin": [2026]}, "origin", ["list"]),
        ({"max_buckets": 0}, "max_buckets", ["int >= 1"]),
        ({"max_buckets": True}, "max_buckets", ["int >= 1"]),
        ({"tz": "UTC+2"}, "tz", ["IANA"]),
    ],
)
def test_time_buckets(arguments: dict[str, Any], parameter: str, words: list[str]) -> None:
    call: dict[str, Any] = {"start": "2026-09-01", "end": "2026-10-01", "freq": "day"}
    call.update(arguments)
    refused(lambda: mt.time_buckets(**call), parameter, *words)


@pytest.fixture(scope="module")
def daily() -> pd.DataFrame:
    with mt.MetricsClient.demo(now=NOW) as client:
        return mt.fetch_series(client, "2026-09-01", "2026-10-15", "day", progress=False)


@pytest.mark.parametrize(
    ("frame", "arguments", "parameter", "words"),
    [
        (None, {"freq": "week"}, "frame", ["wide frame"]),
        ({"bucket_start": []}, {"freq": "week"}, "frame", ["wide frame"]),
        ("daily", {"freq": "fortnight"}, "freq", ["Accepted"]),
        ("daily", {"freq": "week", "tz": "Europe/Berlinn"}, "tz", ["Did you mean"]),
        ("daily", {"freq": "week", "now": MS}, "now", ["milliseconds"]),
        ("weekly", {"freq": "month"}, "freq", ["do not nest", "'day'"]),
    ],
)
def test_rollup(
    daily: pd.DataFrame, frame: Any, arguments: dict[str, Any], parameter: str, words: list[str]
) -> None:
    if frame == "daily":
        frame = daily
    elif frame == "weekly":
        frame = mt.rollup(daily.loc["2026-09-07":"2026-10-11"], "week")  # 28 Sep - 5 Oct
    refused(lambda: mt.rollup(frame, **arguments), parameter, *words)


@pytest.fixture(scope="module")
def directory(enterprise: Any) -> Directory:
    with mt.MetricsClient.demo(api=DemoAPI(enterprise, now=NOW)) as client:
        return client.directory()


@pytest.mark.parametrize(
    ("kind", "name", "parameter", "words"),
    [
        ("team", "Platform", "kind", ["'org', 'user', 'service_user', 'playbook'"]),
        ("org", "No Such Org", "org", ["no org named 'No Such Org'"]),
        ("org", None, "org", ["no org named None"]),
        ("user", 42, "user", ["no user named 42"]),
        ("org", ["Platform"], "org", ["no org named ['Platform']", "string"]),
    ],
)
def test_directory_id(
    directory: Directory, kind: str, name: Any, parameter: str, words: list[str]
) -> None:
    refused(lambda: directory.id(kind, name), parameter, *words)


# -- the command line ---------------------------------------------------------------------------


@pytest.fixture
def cli_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVIN_API_KEY", DEMO_API_KEY)


def fetch_args(server: DemoServer, tmp_path: Path, *extra: str) -> list[str]:
    args = ["fetch", "--start", "2026-09-01", "--end", "2026-10-01", "--freq", "week"]
    args += ["--base-url", server.url, "--cache-dir", str(tmp_path / "cache")]
    args += ["--out", str(tmp_path / "out.csv"), "--quiet"]
    return [*args, *extra]


@pytest.mark.parametrize(
    ("extra", "parameter", "words"),
    [
        (["--start", str(MS)], "start", ["milliseconds", "1763000000"]),
        (["--end", "2026-08-01"], "start", ["must be before end"]),
        (["--by", "org", "--ids", ""], "ids", ["empty list"]),
        (["--ids", "org-1"], "ids", ["pass by="]),
        (["--org", ","], "org_ids", ["empty list"]),
        (["--workers", "0"], "workers", ["int >= 1"]),
        (["--base-url", "ftp://api.devin.ai"], "base_url", ["http(s) URL"]),
        (["--cache-dir", "/dev/null/cache"], "cache_dir", ["cannot be written"]),
    ],
)
def test_cli_fetch_prints_one_line_and_exits_2(
    server: DemoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cli_environment: None,
    extra: list[str],
    parameter: str,
    words: list[str],
) -> None:
    status = main(fetch_args(server, tmp_path, *extra))
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.startswith(f"metrics-toolkit: error: {parameter}: "), err
    assert err.count("\n") == 1 and "Traceback" not in err
    for word in words:
        assert word in err, (word, err)
    assert server.request_count == 0
    assert not (tmp_path / "out.csv").exists()


def test_cli_refuses_plain_http_to_another_host_as_bad_input(
    server: DemoServer, tmp_path: Path, capsys: pytest.CaptureFixture[str], cli_environment: None
) -> None:
    status = main(fetch_args(server, tmp_path, "--base-url", "http://api.example.com"))
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.startswith("metrics-toolkit: error: ") and "plain http" in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize(
    "extra",
    [["--workers", "many"], ["--by", "team"], ["--on-error", "ignore"], ["--frequency", "day"]],
)
def test_cli_argument_errors_are_usage_errors_without_a_traceback(
    server: DemoServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    cli_environment: None,
    extra: list[str],
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(fetch_args(server, tmp_path, *extra))
    out, err = capsys.readouterr()
    assert caught.value.code == 2
    assert err.startswith("metrics-toolkit") and ": error: " in err, err
    assert err.count("\n") == 1 and err.endswith(" --help)\n"), err  # one line, not the usage
    assert "Traceback" not in out + err
    assert server.request_count == 0


@pytest.mark.parametrize(
    ("args", "parameter"),
    [
        (["serve-demo", "--fault-rate", "1.5"], "--fault-rate"),
        (["serve-demo", "--latency-ms", "-1"], "--latency-ms"),
    ],
)
def test_cli_serve_demo_checks_its_options(
    capsys: pytest.CaptureFixture[str], args: list[str], parameter: str
) -> None:
    assert main(args) == 2
    _, err = capsys.readouterr()
    assert err.startswith(f"metrics-toolkit: error: {parameter}: got ")
    assert "expected" in err and err.count("\n") == 1


def test_the_installed_script_reports_bad_input_in_one_line(
    server: DemoServer, tmp_path: Path
) -> None:
    script = Path(sys.executable).with_name("metrics-toolkit")
    environment = {
        **os.environ,
        "DEVIN_API_KEY": DEMO_API_KEY,
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
    }
    completed = subprocess.run(
        [str(script), *fetch_args(server, tmp_path, "--freq", "fortnight")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr.startswith("metrics-toolkit: error: freq: 'fortnight' is not a bucket")
    assert completed.stderr.count("\n") == 1 and "Traceback" not in completed.stderr
    assert server.request_count == 0
