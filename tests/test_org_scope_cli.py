"""The family on the command line: ``fetch --metric`` and ``--org-scope``, and the demo client
scoped to an organization with the demo's organization key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import cli
from metrics_toolkit.demo import DEMO_API_KEY, DEMO_ORG_API_KEY, DemoAPI, generate_enterprise
from metrics_toolkit.demo.simulator import DemoResponse

NOW = "2026-11-30"


class RecordingAPI(DemoAPI):
    """The demo API, noting the bearer token of every request."""

    tokens_seen: list[str]

    def handle(
        self, method: str, path: str, query: str, headers: Mapping[str, str], **kw: object
    ) -> DemoResponse:
        seen = self.__dict__.setdefault("tokens_seen", [])
        seen.append(headers.get("Authorization", headers.get("authorization", "")).split()[-1])
        return super().handle(method, path, query, headers, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def enterprise() -> object:
    return generate_enterprise(end=pd.Timestamp(NOW, tz="UTC").to_pydatetime())


def test_the_demo_scoped_to_its_first_organization_holds_the_organization_key(
    enterprise: object,
) -> None:
    api = RecordingAPI(enterprise)  # type: ignore[arg-type]
    first = api.enterprise.organizations[0].org_id
    client = mt.MetricsClient.demo(api=api, org_id=first)
    assert client.scope == "organization"
    assert client.session_metrics("2026-11-02", "2026-11-09").sessions_created_count > 0
    assert set(api.tokens_seen) == {DEMO_ORG_API_KEY}


def test_the_demo_scoped_to_another_organization_holds_the_enterprise_key(
    enterprise: object,
) -> None:
    api = RecordingAPI(enterprise)  # type: ignore[arg-type]
    second = api.enterprise.organizations[1].org_id
    client = mt.MetricsClient.demo(api=api, org_id=second)
    client.session_metrics("2026-11-02", "2026-11-09")
    assert set(api.tokens_seen) == {DEMO_API_KEY}


def fetch_args(tmp_path: Path, out: str, *extra: str) -> list[str]:
    return [
        "fetch",
        "--demo",
        "--start",
        "2026-10-05",
        "--end",
        "2026-10-19",
        "--quiet",
        "--cache-dir",
        str(tmp_path / "cache"),
        "--out",
        out,
        *extra,
    ]


def test_fetch_metric_prs_writes_the_pr_counts_per_bucket(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "prs.csv"
    assert cli.main(fetch_args(tmp_path, str(out), "--metric", "prs")) == 0
    table = pd.read_csv(out)
    assert len(table) == 2
    states = table["prs_opened_count"] + table["prs_merged_count"] + table["prs_closed_count"]
    assert (table["prs_created_count"] == states).all()
    client = mt.MetricsClient.demo()
    first = client.pr_metrics("2026-10-05", "2026-10-12")
    assert table["prs_created_count"].iloc[0] == first.prs_created_count


def test_fetch_metric_consumption_writes_billing_days(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "acus.csv"
    assert cli.main(fetch_args(tmp_path, str(out), "--metric", "consumption")) == 0
    table = pd.read_csv(out)
    days = pd.to_datetime(table["date"], utc=True)
    assert (days.dt.hour == 8).all()  # billing days begin at 08:00 UTC
    products = table.filter(like="acus_by_product.").sum(axis=1)
    assert products.round(6).tolist() == table["acus"].round(6).tolist()


def test_a_mistyped_metric_gets_a_did_you_mean_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(fetch_args(tmp_path, "-", "--metric", "activeusers")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "did you mean 'active-users'?" in err


def test_org_scope_fetches_the_organization_and_refuses_what_is_enterprise_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = mt.MetricsClient.demo()
    platform = client.directory().organizations[0]
    out = tmp_path / "org.csv"
    # by name: resolved through the directory, then every call at the organization's paths
    assert cli.main(fetch_args(tmp_path, str(out), "--org-scope", platform.name)) == 0
    table = pd.read_csv(out)
    alone = client.session_metrics("2026-10-05", "2026-10-12", org_ids=[platform.org_id])
    assert table["sessions_created_count"].iloc[0] == alone.sessions_created_count
    capsys.readouterr()
    for extra in (["--metric", "categories"], ["--metric", "cycles"], ["--by", "org"]):
        argv = fetch_args(tmp_path, "-", "--org-scope", platform.org_id, *extra)
        assert cli.main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "only at enterprise scope" in err, err
