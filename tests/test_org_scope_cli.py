"""The family on the command line: ``fetch --metric`` and ``--org-scope``, and the demo client
scoped to an organization with the demo's organization key."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pytest

import metrics_toolkit as mt
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
