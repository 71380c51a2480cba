"""Ticket signing keys and API token secrets are random per cluster (a PVE node makes its ``authkey.key`` at
installation): a ticket or token of one fake cluster or server is refused by every other, and a ticket forged
offline with the key every instance used to share (drawn from seed 0) is refused too. A test that asks for a
seed gets the same keys in every run."""

from __future__ import annotations

import pytest
import requests

from pytest_pvemock import FakeCluster
from pytest_pvemock.api.auth import TicketSigner
from pytest_pvemock.model.access.users import AccessStore
from pytest_pvemock.transports.server import PveServer


def login(server: PveServer) -> str:
    answer = requests.post(
        f"{server.url}/api2/json/access/ticket",
        data={"username": server.user, "password": server.password},
        verify=str(server.ca_file),
        timeout=30,
    )
    answer.raise_for_status()
    return str(answer.json()["data"]["ticket"])


def get_version(server: PveServer, **headers: str) -> requests.Response:
    return requests.get(f"{server.url}/api2/json/version", headers=headers, verify=str(server.ca_file), timeout=30)


def test_a_ticket_of_one_server_is_refused_by_another_of_the_same_scenario():
    with PveServer(FakeCluster.default()) as first, PveServer(FakeCluster.default()) as second:
        ticket = login(first)
        assert get_version(first, Cookie=f"PVEAuthCookie={ticket}").status_code == 200
        refused = get_version(second, Cookie=f"PVEAuthCookie={ticket}")
        assert (refused.status_code, refused.reason) == (401, "Authentication failed!")


def test_a_ticket_forged_offline_with_the_old_shared_key_is_refused():
    cluster = FakeCluster.default()
    forged = TicketSigner(AccessStore(0).ticket_secret, cluster.clock.now).ticket("root@pam")
    with PveServer(cluster) as server:
        refused = get_version(server, Cookie=f"PVEAuthCookie={forged}")
        assert (refused.status_code, refused.reason) == (401, "Authentication failed!")


def test_token_secrets_differ_between_identical_clusters_and_do_not_cross():
    first, second = FakeCluster.default(), FakeCluster.default()
    secret = first.access.add_token("root@pam", "ci", privsep=False)
    other = second.access.add_token("root@pam", "ci", privsep=False)
    assert secret != other
    with PveServer(second) as server:
        refused = get_version(server, Authorization=f"PVEAPIToken=root@pam!ci={secret}")
        assert refused.status_code == 401
        assert get_version(server, Authorization=f"PVEAPIToken=root@pam!ci={other}").status_code == 200


@pytest.mark.parametrize("seed", [0, "ci"])
def test_a_seed_the_test_asks_for_gives_the_same_keys_in_every_run(seed):
    first, second = FakeCluster.default(seed=seed), FakeCluster.default(seed=seed)
    assert first.access.ticket_secret == second.access.ticket_secret
    assert first.access.add_token("root@pam", "ci") == second.access.add_token("root@pam", "ci")
    assert FakeCluster.default().access.ticket_secret != first.access.ticket_secret
