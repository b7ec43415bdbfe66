"""Names and ids, one resolver for the Python API, the command line, the panel and the report.

A name (a playbook's title, a user's email) becomes its id; an id the directory does not list is
refused before any metrics request, with the closest entries, unless the caller says it is
meant; a directory that cannot be read is said once per client, and the values go as given.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

import metrics_toolkit as mt
from metrics_toolkit import cli
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, DemoEnterprise, DemoServer
from metrics_toolkit.demo.simulator import ALL_PERMISSIONS, SESSION_METRICS_PATH
from metrics_toolkit.directory import Directory
from metrics_toolkit.models import Organization, User
from metrics_toolkit.report.data import load_weekly_report

from .conftest import NOW

MONTH = ("2026-10-01", "2026-11-01")
COUNT = "sessions_created_count"
#: A token that may read the metrics but not the directory lists.
METRICS_ONLY = "cog_metrics_only"


def metrics_requests(server: DemoServer) -> list[dict[str, list[str]]]:
    """The query of every metrics request the server received (directory lists left out)."""
    return [
        parse_qs(urlsplit(target).query)
        for target in server.requests
        if urlsplit(target).path == SESSION_METRICS_PATH
    ]


def counts(frame: pd.DataFrame) -> list[int]:
    return [int(value) for value in frame[COUNT]]


@pytest.fixture
def directory(demo_client: mt.MetricsClient) -> Directory:
    return demo_client.directory()


@pytest.fixture
def metrics_only_server(enterprise: DemoEnterprise) -> Iterator[DemoServer]:
    tokens = {DEMO_API_KEY: ALL_PERMISSIONS, METRICS_ONLY: frozenset({"ViewAccountMetrics"})}
    with DemoServer(DemoAPI(enterprise, now=NOW, tokens=tokens)) as server:
        yield server


# -- names become ids ---------------------------------------------------------------------------


def test_filters_take_names_titles_and_emails_as_their_ids(
    demo_client: mt.MetricsClient, directory: Directory, enterprise: DemoEnterprise
) -> None:
    platform = directory.id("org", "Platform")
    playbook = enterprise.playbooks[0]
    user = enterprise.users[5]
    by_id = demo_client.session_metrics_frame(*MONTH, "week", org_ids=[platform], progress=False)
    by_name = demo_client.session_metrics_frame(*MONTH, "week", org_ids=["Platform"])
    assert counts(by_name) == counts(by_id) and sum(counts(by_id)) > 0
    by_title = mt.fetch_series(demo_client, *MONTH, "month", playbook_id=playbook.title)
    expected = demo_client.session_metrics(*MONTH, playbook_id=playbook.playbook_id)
    assert counts(by_title) == [expected.sessions_created_count] != [0]
    by_email = mt.fetch_series(demo_client, *MONTH, "month", user_ids=[user.email.upper()])
    expected = demo_client.session_metrics(*MONTH, user_ids=[user.user_id])
    assert counts(by_email) == [expected.sessions_created_count]


def test_a_breakdown_takes_names_and_keeps_its_name_column(
    demo_client: mt.MetricsClient, directory: Directory
) -> None:
    frame = demo_client.session_metrics_frame(*MONTH, "month", by="org", ids=["Platform", "growth"])
    assert list(frame["org_id"]) == [directory.id("org", "Platform"), directory.id("org", "Growth")]
    assert list(frame["org_name"]) == ["Platform", "Growth"]
    assert (frame[COUNT] > 0).all()
    # real ids, no directory passed: the names are there too (they were dropped before)
    by_ids = demo_client.session_metrics_frame(*MONTH, "month", by="org", ids=list(frame["org_id"]))
    assert list(by_ids["org_name"]) == ["Platform", "Growth"]
    assert by_ids.columns.get_loc("org_name") == by_ids.columns.get_loc("org_id") + 1


def test_a_name_and_its_id_are_one_group(
    demo_client: mt.MetricsClient, directory: Directory
) -> None:
    platform = directory.id("org", "Platform")
    frame = mt.fetch_series(demo_client, *MONTH, "month", by="org", ids=["Platform", platform])
    assert list(frame["org_id"]) == [platform]


# -- unknown ids are refused, unless meant -----------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"org_ids": ["Platfrom"]}, "org_ids"),
        ({"org_ids": ["org-doesnotexist"]}, "org_ids"),
        ({"user_ids": ["user-0000dead"]}, "user_ids"),
        ({"playbook_id": "playbook-nope"}, "playbook_id"),
        ({"by": "org", "ids": ["Platform", "Growht"]}, "ids"),
        ({"by": "user", "ids": ["user-0000dead"]}, "ids"),
    ],
)
def test_what_the_directory_does_not_list_is_refused_before_any_metrics_request(
    http_client: mt.MetricsClient,
    server: DemoServer,
    arguments: dict[str, object],
    parameter: str,
) -> None:
    with pytest.raises(mt.InvalidParameterError) as caught:
        http_client.session_metrics_frame(*MONTH, "week", **arguments)  # type: ignore[arg-type]
    assert caught.value.parameter == parameter
    assert metrics_requests(server) == []


def test_the_refusal_names_the_kind_and_the_closest_entries(
    demo_client: mt.MetricsClient, directory: Directory
) -> None:
    platform = directory.id("org", "Platform")
    typo = platform[:-1] + ("0" if platform[-1] != "0" else "1")
    with pytest.raises(mt.InvalidParameterError) as caught:
        mt.fetch_series(demo_client, *MONTH, org_ids=[typo])
    message = str(caught.value)
    assert f"no org with the id {typo!r}" in message
    assert f"did you mean {platform!r} (Platform)?" in message
    assert "allow_unknown_ids=True" in message
    with pytest.raises(mt.InvalidParameterError, match=r"no org named 'Platfrom'; did you mean"):
        mt.fetch_series(demo_client, *MONTH, org_ids=["Platfrom"])
    with pytest.raises(mt.InvalidParameterError, match="no playbook named"):
        mt.fetch_series(demo_client, *MONTH, playbook_id="Fix a flaky tset-")


def test_an_id_the_directory_does_not_list_is_sent_when_meant(
    http_client: mt.MetricsClient, server: DemoServer, directory: Directory
) -> None:
    deleted = "user-00000000deadbeef"  # a deleted user still has history
    known = directory.ids("user")[0]
    frame = http_client.session_metrics_frame(
        *MONTH, "month", by="user", ids=[known, deleted], allow_unknown_ids=True
    )
    assert list(frame["user_id"]) == [known, deleted]
    assert list(frame["user_name"]) == [directory.name("user", known), deleted]
    sent = metrics_requests(server)
    assert [query["user_ids"] for query in sent].count([deleted]) == 1
    filtered = mt.fetch_series(
        http_client, *MONTH, "month", user_ids=[deleted], allow_unknown_ids=True
    )
    assert counts(filtered) == [0]
    with pytest.raises(mt.InvalidParameterError, match="no user named 'Nobody Known'"):
        mt.fetch_series(http_client, *MONTH, user_ids=["Nobody Known"], allow_unknown_ids=True)


def test_one_call_takes_names_and_refuses_an_unlisted_id_before_its_request(
    http_client: mt.MetricsClient, server: DemoServer, directory: Directory
) -> None:
    platform = directory.id("org", "Platform")
    by_name = http_client.session_metrics(*MONTH, org_ids=["Platform"])
    by_id = http_client.session_metrics(*MONTH, org_ids=[platform])
    assert by_name.sessions_created_count == by_id.sessions_created_count > 0
    assert metrics_requests(server)[0]["org_ids"] == [platform]  # the name went out as its id
    searches = http_client.search_metrics(*MONTH, org_ids=["Platform"])
    assert searches == http_client.search_metrics(*MONTH, org_ids=[platform])
    sent = len(metrics_requests(server))
    for call, arguments in [
        (http_client.session_metrics, {"org_ids": ["Platfrom"]}),
        (http_client.session_metrics, {"user_ids": ["user-0000dead"]}),
        (http_client.session_metrics, {"playbook_id": "playbook-nope"}),
        (http_client.search_metrics, {"org_ids": [platform[:-1] + "x"]}),
    ]:
        with pytest.raises(mt.InvalidParameterError, match=r"did you mean|no "):
            call(*MONTH, **arguments)  # type: ignore[operator]
    assert len(metrics_requests(server)) == sent
    deleted = http_client.session_metrics(
        *MONTH, user_ids=["user-00000000deadbeef"], allow_unknown_ids=True
    )
    assert deleted.sessions_created_count == 0
    assert metrics_requests(server)[-1]["user_ids"] == ["user-00000000deadbeef"]


def test_one_call_takes_a_name_with_a_space_and_still_refuses_such_an_id(
    demo_client: mt.MetricsClient, enterprise: DemoEnterprise
) -> None:
    user = next(u for u in enterprise.users if " " in u.name)
    by_name = demo_client.session_metrics(*MONTH, user_ids=[user.name])
    by_id = demo_client.session_metrics(*MONTH, user_ids=[user.user_id])
    assert by_name.sessions_created_count == by_id.sessions_created_count > 0
    prs = demo_client.pr_metrics(*MONTH, user_ids=[user.name])
    assert prs == demo_client.pr_metrics(*MONTH, user_ids=[user.user_id])
    with pytest.raises(mt.InvalidParameterError, match="no user named 'user 1'"):
        demo_client.session_metrics(*MONTH, user_ids=["user 1"], allow_unknown_ids=True)


# -- a directory that cannot be read -----------------------------------------------------------


def test_an_unreadable_directory_is_said_once_and_the_values_go_as_given(
    metrics_only_server: DemoServer, tmp_path: Path, enterprise: DemoEnterprise
) -> None:
    org = enterprise.organizations[0]
    client = mt.MetricsClient(
        METRICS_ONLY, base_url=metrics_only_server.url, cache=False, now=NOW, backoff=0.0
    )
    with pytest.warns(mt.DirectoryWarning, match="cannot be read") as told:
        frame = mt.fetch_series(client, *MONTH, "month", org_ids=[org.org_id])
    assert len(told) == 1
    expected = client.session_metrics(*MONTH, org_ids=[org.org_id])
    assert counts(frame) == [expected.sessions_created_count]
    with warnings.catch_warnings():
        warnings.simplefilter("error", mt.DirectoryWarning)  # said once per client
        by_org = mt.fetch_series(client, *MONTH, "month", by="org", ids=[org.org_id])
    assert list(by_org["org_name"]) == [org.org_id]  # labelled with its id
    other = mt.MetricsClient(METRICS_ONLY, base_url=metrics_only_server.url, cache=False, now=NOW)
    with pytest.warns(mt.DirectoryWarning):  # another client is told too
        mt.fetch_series(other, *MONTH, "month", org_ids=[org.org_id])
    with pytest.raises(mt.PermissionDeniedError):  # the groups themselves need the directory
        mt.fetch_series(client, *MONTH, "month", by="org")


# -- the command line, the panel and the report share the resolver ------------------------------


def test_the_report_refuses_an_org_id_the_directory_does_not_list(
    demo_client: mt.MetricsClient, directory: Directory
) -> None:
    platform = directory.id("org", "Platform")
    with pytest.raises(mt.InvalidParameterError, match="did you mean") as caught:
        load_weekly_report(demo_client, week="2026-W46", orgs=["Platform", platform[:-1] + "x"])
    assert caught.value.parameter == "org"


def test_the_command_line_resolves_names_and_keeps_a_typed_unknown_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "o.csv"
    argv = ["fetch", "--demo", "--quiet", "--start", "2026-10-05", "--end", "2026-10-12"]
    argv += ["--by", "org", "--ids", "Platform,Growth", "--out", str(out)]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert list(pd.read_csv(out)["org_name"]) == ["Platform", "Growth"]
    argv[-3:] = ["org-0000dead", "--out", str(out)]
    assert cli.main(argv) == 0, capsys.readouterr().err
    assert list(pd.read_csv(out)["org_id"]) == ["org-0000dead"]
    assert cli.main([*argv[:-4], "--org", "Platfrom", "--out", str(out)]) == 2
    assert (
        "error: org: no org named 'Platfrom'; did you mean 'Platform'?" in capsys.readouterr().err
    )


# -- the resolver itself ------------------------------------------------------------------------


def test_resolve_names_takes_ids_names_and_emails_mixed() -> None:
    directory = Directory(
        organizations=[Organization(org_id="org-1", name="Platform", created_at=0, updated_at=0)],
        users=[User(user_id="user-1", name="Alex Smith", email="alex@corp.example")],
    )
    assert directory.resolve_names("org", ["platform", "org-1", "PLATFORM"]) == ["org-1"]
    assert directory.resolve_names("user", ["Alex@Corp.Example", "alex smith"]) == ["user-1"]
    assert directory.resolve_names("user", ["user-2"], allow_unknown_ids=True) == ["user-2"]
    with pytest.raises(mt.InvalidParameterError, match="no user named 'Alex'") as caught:
        directory.resolve_names("user", ["Alex"], allow_unknown_ids=True, parameter="user_ids")
    assert caught.value.parameter == "user_ids"
    with pytest.raises(mt.InvalidParameterError, match="lists no org with the id 'org-2'"):
        directory.resolve_names("org", ["org-2"])
    # the older spelling keeps its meaning: an unknown id is kept unless told otherwise
    assert directory.resolve("org", ["Platform", "org-9"]) == ["org-1", "org-9"]
    with pytest.raises(mt.InvalidParameterError):
        directory.resolve("org", ["org-9"], keep_unknown_ids=False)


# -- what a notebook shows ----------------------------------------------------------------------


def test_the_directory_shows_counts_not_its_whole_content(
    directory: Directory, enterprise: DemoEnterprise
) -> None:
    text = repr(directory)
    assert len(text) < 200
    assert text == (
        f"Directory({len(enterprise.organizations)} organizations, {len(enterprise.users)} "
        f"users, {len(enterprise.service_users)} service users, "
        f"{len(enterprise.playbooks)} playbooks)"
    )
    markup = directory._repr_html_()
    assert len(markup) < 3000
    assert f"<td>{len(enterprise.users)}</td>" in markup
    assert enterprise.organizations[0].name in markup
    assert enterprise.users[0].name in markup and enterprise.users[-1].name not in markup
    assert f"({len(enterprise.users) - 5} more)" in markup


def test_the_directory_html_escapes_names() -> None:
    org = Organization(org_id="org-1", name="<b>R&D</b>", created_at=0, updated_at=0)
    directory = Directory(organizations=[org])
    assert repr(directory) == "Directory(1 organization, 0 users, 0 service users, 0 playbooks)"
    markup = directory._repr_html_()
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in markup and "<b>R" not in markup
