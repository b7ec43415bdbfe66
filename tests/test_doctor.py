"""``metrics-toolkit doctor`` against the demo server on 127.0.0.1: every check passes with the
enterprise key; the list format the server reads is found in each strict mode; a key lacking
permissions names them; an organization's key is found to be one."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from metrics_toolkit import cli
from metrics_toolkit.cli import _doctor
from metrics_toolkit.demo import (
    DEMO_API_KEY,
    DEMO_ORG_API_KEY,
    DemoAPI,
    DemoEnterprise,
    DemoServer,
    generate_enterprise,
)

END = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
PARTIAL_KEY = "cog_metrics_only"


@pytest.fixture(scope="module")
def enterprise() -> DemoEnterprise:
    return generate_enterprise(end=END)


@pytest.fixture
def serve(
    enterprise: DemoEnterprise, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[object]:
    """Start a demo server with these DemoAPI settings; DEVIN_API_KEY is set to ``key``."""
    servers: list[DemoServer] = []

    def start(key: str = DEMO_API_KEY, **settings: object) -> list[str]:
        server = DemoServer(DemoAPI(enterprise, **settings))  # type: ignore[arg-type]
        server.start()
        servers.append(server)
        monkeypatch.setenv("DEVIN_API_KEY", key)
        monkeypatch.delenv("DEVIN_ORG_ID", raising=False)
        return ["doctor", "--base-url", server.url, "--cache-dir", str(tmp_path / "cache")]

    yield start
    for server in servers:
        server.stop()


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    """The exit status, and each line's status and detail by the check's name."""
    status = cli.main(argv)
    out = capsys.readouterr().out
    lines = {}
    for line in out.splitlines():
        mark, rest = line.split(maxsplit=1)
        name, detail = rest.split(": ", 1)
        lines[name] = f"{mark} {detail}"
    assert DEMO_API_KEY not in out and DEMO_ORG_API_KEY not in out and PARTIAL_KEY not in out
    return status, lines


def test_every_check_passes_with_the_enterprise_key(
    serve: object, capsys: pytest.CaptureFixture[str]
) -> None:
    status, lines = run(serve(), capsys)  # type: ignore[operator]
    assert status == 0, lines
    assert list(lines) == [
        "key",
        "scope",
        *_doctor.FAMILY.values(),
        "list format",
        "clock",
        "cache",
    ]
    assert all(line.startswith("ok ") for line in lines.values()), lines
    assert "enterprise" in lines["scope"]
    assert "both formats" in lines["list format"]


@pytest.mark.parametrize("strict", ["repeat", "comma"])
def test_the_list_format_the_server_reads_is_found(
    strict: str, serve: object, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = serve(list_format=strict)  # type: ignore[operator]
    other = "comma" if strict == "repeat" else "repeat"
    status, lines = run([*argv, "--list-format", strict], capsys)
    assert status == 0, lines
    assert lines["list format"].startswith(f"ok {strict}:")
    assert "both" not in lines["list format"]
    status, lines = run([*argv, "--list-format", other], capsys)
    assert status == 1
    assert lines["list format"].startswith(f"FAIL the server reads {strict}, not {other}")
    assert f"--list-format {strict}" in lines["list format"]


def test_a_key_lacking_permissions_names_every_candidate_and_fails(
    serve: object, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = serve(  # type: ignore[operator]
        PARTIAL_KEY, tokens={PARTIAL_KEY: frozenset({"ViewAccountMetrics"})}
    )
    status, lines = run(argv, capsys)
    assert status == 1
    assert lines["sessions"].startswith("ok ")
    for family in ("consumption", "billing cycles"):
        assert lines[family].startswith("FAIL 403"), lines[family]
        assert "ManageBilling" in lines[family] and "ViewAccountConsumption" in lines[family]
    assert lines["list format"].startswith("warn ")  # the directory cannot be read


def test_an_organization_key_is_found_to_be_one(
    enterprise: DemoEnterprise, serve: object, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = serve(DEMO_ORG_API_KEY)  # type: ignore[operator]
    org = enterprise.organizations[0].org_id
    status, lines = run([*argv, "--org-scope", org], capsys)
    assert status == 0, lines
    assert lines["scope"].startswith(f"ok organization {org}: 403 at /v3/enterprise/")
    assert lines["sessions"] == f"ok /v3/organizations/{org}/metrics/sessions answers"
    assert lines["categories"].startswith("warn ")  # enterprise scope only
    status, lines = run(argv, capsys)  # without the organization: said, and a failure
    assert status == 1
    assert lines["scope"].startswith("FAIL 403") and "--org-scope" in lines["scope"]


def test_a_missing_or_malformed_key_fails_and_is_never_printed(
    serve: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = serve()  # type: ignore[operator]
    monkeypatch.delenv("DEVIN_API_KEY")
    status, lines = run(argv, capsys)
    assert status == 1 and lines["key"].startswith("FAIL DEVIN_API_KEY is not set")
    assert list(lines) == ["key", "cache"]
    monkeypatch.setenv("DEVIN_API_KEY", DEMO_API_KEY + "\n")
    status, lines = run(argv, capsys)
    assert status == 1 and "whitespace" in lines["key"]
    monkeypatch.setenv("DEVIN_API_KEY", "cog_unknown")
    status, lines = run(argv, capsys)
    assert status == 1 and lines["key"].startswith("FAIL the server refuses it (401)")


def test_clock_skew_above_a_minute_is_a_warning(
    serve: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = serve()  # type: ignore[operator]
    real = time.time  # the doctor's clock an hour ahead, the server's as it is
    monkeypatch.setattr(_doctor, "time", SimpleNamespace(time=lambda: real() + 3600))
    status, lines = run(argv, capsys)
    # the server's Date has whole seconds: the hour reads 3600 or 3601 s
    assert re.match(r"warn this machine is 360[01] s ahead of the server's Date", lines["clock"])
    assert status == 0


def test_the_demo_in_process(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, lines = run(["doctor", "--demo", "--cache-dir", str(tmp_path)], capsys)
    assert status == 0, lines
    assert "cache" in lines and str(tmp_path) in lines["cache"]
