"""The command line against the demo: files written, the demo served over HTTP, clean errors."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import cli, demo, report
from metrics_toolkit.demo import DEMO_API_KEY, DemoServer
from metrics_toolkit.errors import FetchError, status_error
from metrics_toolkit.fetch import BucketFailure


def test_fetch_writes_csv_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv_path = tmp_path / "weekly.csv"
    status = cli.main(
        [
            "fetch",
            "--start",
            "2026-09-07",
            "--end",
            "2026-10-05",
            "--freq",
            "week",
            "--demo",
            "--quiet",
            "--by",
            "org",
            "--out",
            str(csv_path),
        ]
    )
    assert status == 0
    assert "wrote 20 rows" in capsys.readouterr().out
    assert csv_path.stat().st_mode & 0o777 == 0o600  # account data: the owner's only
    table = pd.read_csv(csv_path)
    assert len(table) == 20 and {"org_id", "org_name", "sessions_created_count"} <= set(table)
    json_path = tmp_path / "weekly.json"
    assert (
        cli.main(
            [
                "fetch",
                "--start",
                "2026-09-07",
                "--end",
                "2026-10-05",
                "--demo",
                "--quiet",
                "--org",
                "Platform",
                "--out",
                str(json_path),
            ]
        )
        == 0
    )
    records = json.loads(json_path.read_text())
    assert len(records) == 4 and records[0]["bucket_start"].startswith("2026-09-07T00:00:00")
    client = mt.MetricsClient.demo()
    platform = client.directory().id("org", "Platform")
    expected = client.session_metrics("2026-09-07", "2026-09-14", org_ids=[platform])
    assert records[0]["sessions_created_count"] == expected.sessions_created_count


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        (["--freq", "fortnightly"], "freq"),
        (["--tz", "Mars/Olympus"], "tz"),
        (["--out", "x.txt"], "--out"),
        (["--out", "x"], "--out"),
        (["--workers", "-2"], "workers"),
        (["--org", "Nonexistent Org"], "org"),
        (["--start", "2026-13-45"], "start"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], parameter: str
) -> None:
    base = {"--start": "2026-09-01", "--end": "2026-10-01", "--out": str(tmp_path / "o.csv")}
    for flag, value in zip(arguments[::2], arguments[1::2], strict=True):
        base[flag] = value
    argv = ["fetch", "--demo", "--quiet", *[part for pair in base.items() for part in pair]]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"error: {parameter}" in err


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_demo_answers_like_the_in_process_demo(tmp_path: Path) -> None:
    port = free_port()
    script = Path(sys.executable).with_name("metrics-toolkit")
    env = {k: v for k, v in os.environ.items() if k != "DEVIN_API_KEY"}
    process = subprocess.Popen(
        [str(script), "serve-demo", "--port", str(port), "--now", "2026-11-25T03:00:00Z"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "serve-demo did not start"
                time.sleep(0.1)
        over_http = mt.MetricsClient(
            DEMO_API_KEY, base_url=f"http://127.0.0.1:{port}", cache=False
        ).session_metrics("2026-11-02", "2026-11-09")
        in_process = mt.MetricsClient.demo(
            now=pd.Timestamp("2026-11-25T03:00:00Z").to_pydatetime()
        ).session_metrics("2026-11-02", "2026-11-09")
        assert over_http == in_process
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert f"http://127.0.0.1:{port}" in output


def test_an_unknown_id_is_kept_alongside_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.csv"
    argv = [
        "fetch",
        "--demo",
        "--quiet",
        "--start",
        "2026-10-05",
        "--end",
        "2026-10-12",
        "--org",
        "Platform",
        "--user",
        "user-0000dead",
        "--out",
        str(out),
    ]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert pd.read_csv(out)["sessions_created_count"].tolist() == [0]  # that user has none


# -- the first hour: a key, the version, stdout, Excel, typos, errors in one line -------------


def window_args(tmp_path: Path, out: str, *extra: str) -> list[str]:
    """``fetch`` of four weeks of the demo (``--demo`` unless ``extra`` names a server)."""
    args = ["fetch", "--start", "2026-10-19", "--end", "2026-11-16", "--quiet", "--out", out]
    return [*args, "--cache-dir", str(tmp_path / "cache"), *(extra or ["--demo"])]


def test_fetch_without_a_key_is_refused_in_one_line_before_any_request(
    server: DemoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("DEVIN_API_KEY", raising=False)
    out = tmp_path / "o.csv"
    assert cli.main(window_args(tmp_path, str(out), "--base-url", server.url)) == 2
    stdout, err = capsys.readouterr()
    assert stdout == "" and err.count("\n") == 1
    assert err.startswith("metrics-toolkit: error: DEVIN_API_KEY: is not set: ")
    assert "--demo" in err
    assert server.request_count == 0 and not out.exists()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"metrics-toolkit {mt.__version__}\n"


def test_out_dash_writes_the_csv_alone_to_stdout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*window_args(tmp_path, "-"), "--tz", "Europe/Berlin"]) == 0
    stdout, err = capsys.readouterr()
    assert err.splitlines()[-1].startswith("wrote 4 rows to stdout (")  # the summary: stderr
    path = tmp_path / "same.csv"
    assert cli.main([*window_args(tmp_path, str(path)), "--tz", "Europe/Berlin"]) == 0
    assert stdout == path.read_text()  # exactly the file's CSV, nothing else
    table = pd.read_csv(io.StringIO(stdout))
    assert table["bucket_start"].tolist()[0] == "2026-10-19T00:00:00+02:00"


def test_out_dash_into_a_reader_that_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``fetch --out - | head``: a pipe closed by its reader ends the command quietly."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone
    with open(write_end, "w") as closed_pipe:
        monkeypatch.setattr(sys, "stdout", closed_pipe)
        assert cli.main(window_args(tmp_path, "-")) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_out_xlsx_writes_local_wall_times_and_the_zone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import openpyxl

    path = tmp_path / "weekly.xlsx"
    assert cli.main([*window_args(tmp_path, str(path)), "--tz", "Europe/Berlin"]) == 0
    assert f"wrote 4 rows to {path}" in capsys.readouterr().out
    assert path.stat().st_mode & 0o777 == 0o600  # account data: the owner's only
    book = openpyxl.load_workbook(path)
    assert len(book.worksheets) == 1
    header, *rows = (list(row) for row in book.worksheets[0].iter_rows(values_only=True))
    column = {name: [row[header.index(name)] for row in rows] for name in header}
    csv_path = tmp_path / "weekly.csv"
    assert cli.main([*window_args(tmp_path, str(csv_path)), "--tz", "Europe/Berlin"]) == 0
    table = pd.read_csv(csv_path)
    berlin = [pd.Timestamp(text).tz_convert("Europe/Berlin") for text in table["bucket_start"]]
    assert column["bucket_start"] == [stamp.tz_localize(None).to_pydatetime() for stamp in berlin]
    assert {stamp.hour for stamp in column["bucket_start"]} == {0}  # Monday midnights in Berlin
    assert column["time_zone"] == ["Europe/Berlin"] * 4
    assert column["sessions_created_count"] == table["sessions_created_count"].tolist()


def test_a_mistyped_freq_gets_a_short_line_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main([*window_args(tmp_path, str(tmp_path / "o.csv")), "--freq", "wek"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("metrics-toolkit: error: freq: 'wek' is not a bucket frequency")
    assert "did you mean 'week'?" in err
    assert err.count("\n") == 1 and len(err) < 300
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.time_buckets("2026-10-19", "2026-11-16", "wek")
    assert isinstance(caught.value, ValueError)


def test_a_usage_error_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["fetch", "--start", "2026-10-19", "--end", "2026-11-16", "--demo"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err == (
        "metrics-toolkit fetch: error: the following arguments are required: --out "
        "(see metrics-toolkit fetch --help)\n"
    )


def test_a_wrong_token_is_one_line(
    server: DemoServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DEVIN_API_KEY", "cog_wrong")
    out = tmp_path / "o.csv"
    assert cli.main(window_args(tmp_path, str(out), "--base-url", server.url)) == 1
    stdout, err = capsys.readouterr()
    assert stdout == "" and err.count("\n") == 1, err
    assert err.startswith("metrics-toolkit: ") and "AuthenticationError: HTTP 401" in err
    assert "cog_wrong" not in err and not out.exists()


def test_failed_calls_are_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    weeks = mt.time_buckets("2026-10-19", "2026-11-09", "week", now="2026-12-01")
    failures = [
        BucketFailure(
            bucket,
            None,
            status_error(503, url="http://127.0.0.1/v3/enterprise/metrics/sessions", body="busy"),
        )
        for bucket in weeks
    ]

    def fail(*args: object, **kwargs: object) -> pd.DataFrame:
        raise FetchError(failures, pd.DataFrame())

    monkeypatch.setattr(mt.MetricsClient, "session_metrics_frame", fail)
    assert cli.main(window_args(tmp_path, str(tmp_path / "o.csv"))) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith(
        f"metrics-toolkit: 3 call(s) failed; the first: [{weeks[0].start.isoformat()}"
    )
    assert "ServerError: HTTP 503" in err and "(and 2 more)" in err and "--on-error mark" in err


def test_the_demo_banner_does_not_claim_the_key_is_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``report --demo`` with ``DEVIN_API_KEY`` set: the demo was asked for."""
    monkeypatch.setenv("DEVIN_API_KEY", DEMO_API_KEY)
    with report.connect(demo=True) as client:  # as the report's notebook does for --demo
        shown = report.banner(client)
    for text in (str(shown), shown.html):
        assert "Synthetic demo data" in text and "--demo" in text
        assert "not set" not in text


def test_serve_demo_before_the_first_day_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def serve(**options: object) -> None:
        raise AssertionError(f"served with {options}")

    monkeypatch.setattr(demo, "serve_forever", serve)
    assert cli.main(["serve-demo", "--port", "0", "--now", "2025-06-01"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("metrics-toolkit: error: --now: 2025-06-01 00:00 UTC is not after")
    assert "Monday 1 December 2025" in err


def test_report_weeks_out_of_range_says_1_to_max(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--demo", "--weeks", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.rstrip().endswith(f"weeks: got 0; expected an int from 1 to {report.MAX_WEEKS}")
