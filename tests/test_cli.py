"""The command line against the demo: files written, the demo served over HTTP, clean errors."""

from __future__ import annotations

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
from metrics_toolkit import cli
from metrics_toolkit.demo import DEMO_API_KEY


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
        (["--out", "x.xlsx"], "--out"),
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
