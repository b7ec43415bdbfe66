"""A demo enterprise of another size: ``generate_enterprise(users=...)``.

The usual enterprise (150 people) is unchanged; a bigger one keeps the organizations, shares
its people between them in proportion to the usual headcounts, gives everyone a distinct name,
and its sessions and searches point at its own people, whose directory the server lists.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from metrics_toolkit import MetricsClient
from metrics_toolkit.demo import DEMO_API_KEY, DemoAPI, DemoServer, generate_enterprise
from metrics_toolkit.demo.directory import MAX_USERS, ORGANIZATIONS, headcounts
from metrics_toolkit.demo.enterprise import DemoEnterprise

END = dt.datetime(2026, 11, 30, tzinfo=dt.timezone.utc)
DAYS = 21


def same_enterprise(left: DemoEnterprise, right: DemoEnterprise) -> bool:
    directory = ("seed", "start", "end", "organizations", "users", "service_users", "playbooks")
    if any(getattr(left, name) != getattr(right, name) for name in directory):
        return False
    for log in ("sessions", "searches"):
        for field in dataclasses.fields(getattr(left, log)):
            a, b = getattr(getattr(left, log), field.name), getattr(getattr(right, log), field.name)
            if not np.array_equal(np.asarray(a), np.asarray(b)):
                return False
    return True


def test_the_usual_headcount_gives_the_usual_enterprise() -> None:
    usual = generate_enterprise(end=END, days=DAYS)
    assert len(usual.users) == sum(headcounts())
    assert same_enterprise(usual, generate_enterprise(end=END, days=DAYS, users=len(usual.users)))


@pytest.mark.parametrize("total", [5, 151, 500, MAX_USERS])
def test_headcounts_add_up_in_proportion(total: int) -> None:
    counts = headcounts(total)
    usual = [headcount for _, headcount, _, _ in ORGANIZATIONS]
    assert sum(counts) == total
    assert min(counts) >= 1
    for count, headcount in zip(counts, usual, strict=True):
        assert abs(count - headcount * total / sum(usual)) < 1


@pytest.mark.parametrize("total", [len(ORGANIZATIONS) - 1, MAX_USERS + 1])
def test_a_headcount_out_of_bounds_is_refused(total: int) -> None:
    with pytest.raises(ValueError, match="users must be from"):
        generate_enterprise(end=END, days=DAYS, users=total)


def test_a_bigger_enterprise_has_its_own_people_everywhere() -> None:
    big = generate_enterprise(end=END, days=DAYS, users=500)
    usual = generate_enterprise(end=END, days=DAYS)
    assert len(big.users) == 500
    assert len({user.user_id for user in big.users}) == 500
    assert len({user.name for user in big.users}) == 500
    assert len({user.email for user in big.users}) == 500
    assert big.organizations == usual.organizations
    per_org = np.bincount([user.org_index for user in big.users], minlength=len(ORGANIZATIONS))
    assert per_org.tolist() == headcounts(500)

    sessions = big.sessions
    human = sessions.user_index >= 0
    assert human.any()
    assert sessions.user_index.max() < 500
    org_of_user = np.array([user.org_index for user in big.users])
    assert np.array_equal(sessions.org_index[human], org_of_user[sessions.user_index[human]])
    assert len(np.unique(sessions.user_index[human])) > len(usual.users)  # beyond the usual 150
    assert big.searches.user_index.max() < 500


def test_the_server_lists_every_person_of_a_bigger_enterprise() -> None:
    big = generate_enterprise(end=END, days=DAYS, users=320)
    with DemoServer(DemoAPI(big)) as server:
        client = MetricsClient(DEMO_API_KEY, base_url=server.url, cache=False, now=END)
        try:
            ids = client.directory().ids("user")
        finally:
            client.close()
    assert sorted(ids) == sorted(user.user_id for user in big.users)
