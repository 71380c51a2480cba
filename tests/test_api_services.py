"""``/nodes/{node}/services``: the units PVE's Services.pm knows on that release, with their systemd state.

pve-manager PVE/API2/Services.pm: the list (master 14a22df3 lines 19-43; stable-8 2606ac85), sorted by id, each
with ``systemctl show``'s Description, SubState, UnitFileState and ActiveState; PVE 8 reads postfix's state from
``postfix@-`` (``$unit_extra_names``).
"""

from __future__ import annotations

import pytest
from support.clients import proxmoxer_client

from pytest_pvemock.schema.registry import get_registry


def client(pve_cluster_factory, version):
    cluster = pve_cluster_factory(version=version, validate=True)
    return proxmoxer_client(cluster)


@pytest.mark.parametrize("version", ["9.1", "8.4"])
def test_the_list_is_the_releases_own(pve_cluster_factory, version):
    rows = client(pve_cluster_factory, version).nodes("pve1").services.get()
    schema = get_registry(version).endpoint("GET", "/nodes/{node}/services/{service}/state").parameters_schema
    assert [row["service"] for row in rows] == sorted(schema["properties"]["service"]["enum"])
    by_id = {row["service"]: row for row in rows}
    assert by_id["pveproxy"] == {
        "service": "pveproxy",
        "name": "pveproxy",
        "desc": "PVE API Proxy Server",
        "state": "running",
        "unit-state": "enabled",
        "active-state": "active",
    }
    assert (by_id["syslog"]["unit-state"], by_id["syslog"]["active-state"]) == ("not-found", "inactive")


def test_pve8_reads_postfix_from_its_instance(pve_cluster_factory):
    pve8 = client(pve_cluster_factory, "8.4").nodes("pve1").services("postfix").state.get()
    pve9 = client(pve_cluster_factory, "9.1").nodes("pve1").services("postfix").state.get()
    assert (pve8["desc"], pve8["state"]) == ("Postfix Mail Transport Agent (instance -)", "running")
    assert (pve9["desc"], pve9["state"]) == ("Postfix Mail Transport Agent", "exited")
