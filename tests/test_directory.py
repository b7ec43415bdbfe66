"""The directory: every page walked, names both ways, labelled breakdowns, unknown ids kept
when meant."""

from __future__ import annotations

import math
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit.client import ORGANIZATIONS, PLAYBOOKS, SERVICE_USERS, USERS
from metrics_toolkit.demo import (
    DEMO_API_KEY,
    DEMO_KEY_WITHOUT_PERMISSIONS,
    DemoEnterprise,
    DemoServer,
)
from metrics_toolkit.directory import Directory

from .conftest import NOW


def requests_to(server: DemoServer, path: str) -> list[dict[str, list[str]]]:
    return [
        parse_qs(urlsplit(target).query)
        for target in server.requests
        if urlsplit(target).path == path
    ]


@pytest.mark.parametrize("page_size", [7, 50, 200])
def test_every_page_is_walked_with_exactly_ceil_n_over_size_requests(
    http_client: mt.MetricsClient, server: DemoServer, enterprise: DemoEnterprise, page_size: int
) -> None:
    lists = [
        (ORGANIZATIONS, {}, len(enterprise.organizations)),
        (USERS, {}, len(enterprise.users)),
        (SERVICE_USERS, {"include_inactive": "true"}, len(enterprise.service_users)),
        (PLAYBOOKS, {}, len(enterprise.playbooks)),
    ]
    for endpoint, params, expected in lists:
        items = http_client.list_all(endpoint, params, page_size=page_size, refresh=True)
        assert len(items) == expected
        sent = requests_to(server, endpoint.path)
        assert len(sent) == math.ceil(expected / page_size), endpoint.path
        assert all(query["first"] == [str(page_size)] for query in sent)
        assert "after" not in sent[0] and all("after" in query for query in sent[1:])
        server._requests.clear()


def test_users_span_several_pages_by_default(
    http_client: mt.MetricsClient, server: DemoServer, enterprise: DemoEnterprise
) -> None:
    users = http_client.users()
    assert len(users) == len(enterprise.users) > 100
    assert len({u.user_id for u in users}) == len(users)
    assert len(requests_to(server, USERS.path)) == math.ceil(len(users) / 200)


def test_inactive_service_users_on_request(
    http_client: mt.MetricsClient, enterprise: DemoEnterprise
) -> None:
    active = http_client.service_users()
    everyone = http_client.service_users(include_inactive=True)
    assert len(active) < len(everyone) == len(enterprise.service_users)
    with pytest.raises(mt.InvalidParameterError, match="include_inactive"):
        http_client.service_users(include_inactive="yes")  # type: ignore[arg-type]


def test_a_user_by_email(http_client: mt.MetricsClient, enterprise: DemoEnterprise) -> None:
    user = enterprise.users[17]
    found = http_client.users(email=user.email)
    assert [u.user_id for u in found] == [user.user_id]


def test_names_resolve_both_ways(demo_client: mt.MetricsClient, enterprise: DemoEnterprise) -> None:
    directory = demo_client.directory()
    org = enterprise.organizations[0]
    user = enterprise.users[3]
    playbook = enterprise.playbooks[2]
    assert directory.name("org", org.org_id) == org.name
    assert directory.id("org", org.name) == org.org_id
    assert directory.id("org", org.name.upper()) == org.org_id
    assert directory.id("user", user.email) == user.user_id
    assert directory.id("user", user.user_id) == user.user_id
    assert directory.name("user", user.user_id) == user.name
    assert directory.id("playbook", playbook.title) == playbook.playbook_id
    with pytest.raises(mt.InvalidParameterError, match="did you mean") as caught:
        directory.id("org", org.name[:-1] + "x")
    assert caught.value.parameter == "org"
    with pytest.raises(mt.InvalidParameterError, match="kind"):
        directory.ids("team")
    users = directory.frame("user")
    assert users.index.name == "user_id" and len(users) == len(enterprise.users)
    assert "email" in users.columns
    orgs = directory.frame("org")
    assert isinstance(orgs["created_at"].dtype, pd.DatetimeTZDtype)


def test_a_name_two_entries_share_is_refused_with_their_ids() -> None:
    users = [
        mt.models.User(user_id="user-1", name="Alex Smith", email="alex.1@corp.example"),
        mt.models.User(user_id="user-2", name="Alex Smith", email="alex.2@corp.example"),
    ]
    directory = Directory(users=users)
    with pytest.raises(mt.InvalidParameterError, match="user-1, user-2") as caught:
        directory.id("user", "alex smith")
    assert caught.value.parameter == "user"
    assert directory.id("user", "alex.2@corp.example") == "user-2"


def test_a_page_size_beyond_the_api_is_refused_before_any_request(
    http_client: mt.MetricsClient, server: DemoServer
) -> None:
    for size in (0, 201):
        with pytest.raises(mt.InvalidParameterError, match="page_size"):
            http_client.list_all(USERS, {}, page_size=size)
    assert server.request_count == 0


def test_a_breakdown_is_labelled_and_unknown_ids_are_kept_when_meant(
    demo_client: mt.MetricsClient, enterprise: DemoEnterprise
) -> None:
    directory = demo_client.directory()
    known = [u.user_id for u in enterprise.users[:2]]
    deleted = "user-deleted0000"
    frame = mt.fetch_series(
        demo_client,
        "2026-10-01",
        "2026-11-01",
        "month",
        by="user",
        ids=[*known, deleted],
        directory=directory,
        allow_unknown_ids=True,
        progress=False,
    )
    assert list(frame["user_id"]) == [*known, deleted]
    assert list(frame["user_name"]) == [enterprise.users[0].name, enterprise.users[1].name, deleted]
    assert frame.columns.get_loc("user_name") == frame.columns.get_loc("user_id") + 1
    assert frame.loc[frame["user_id"] == deleted, "sessions_created_count"].iloc[0] == 0
    assert not frame["failed"].any()


def test_labelling_makes_no_call(http_client: mt.MetricsClient, server: DemoServer) -> None:
    directory = http_client.directory()
    frame = mt.fetch_series(
        http_client, "2026-10-01", "2026-11-01", "month", by="org", ids=directory.ids("org")
    )
    assert server.request_count == 4 + 5
    before = server.request_count
    labelled = directory.label(frame)
    assert server.request_count == before
    assert set(labelled["org_name"]) == {o.name for o in directory.organizations}


def test_the_directory_is_kept_and_refreshed_on_request(server: DemoServer, tmp_path: Path) -> None:
    client = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache_dir=tmp_path, now=NOW)
    client.directory()
    first = server.request_count
    assert first == 4  # one page each
    client.directory()
    assert server.request_count == first
    fresh = mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache_dir=tmp_path, now=NOW)
    fresh.directory()
    assert server.request_count == first  # from the HTTP cache
    fresh.directory(refresh=True)
    assert server.request_count == 2 * first


def test_list_errors_name_their_permission(server: DemoServer) -> None:
    client = mt.MetricsClient(DEMO_KEY_WITHOUT_PERMISSIONS, base_url=server.url, cache=False)
    for call, permission in (
        (client.organizations, "ViewOrganizations"),
        (client.users, "ViewAccountMembership"),
        (client.service_users, "ViewAccountMembership"),
        (client.playbooks, "ViewPlaybooks"),
    ):
        with pytest.raises(mt.PermissionDeniedError) as caught:
            call()
        assert caught.value.permission == permission
        assert permission in str(caught.value)
    with pytest.raises(mt.RequestValidationError, match=r"query\.first"):
        mt.MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False).request(
            USERS, {"first": 500}
        )
