"""Firewall answers taken from pve-firewall (commit 6f1311f3) and the node's log.

- ``/cluster/firewall/macros``: ``get_macros`` over ``$pve_fw_macros`` and ``$pve_ipv6fw_macros``
  (src/PVE/Firewall.pm lines 212-583, 870-909; src/PVE/API2/Firewall/Cluster.pm lines 175-212).
- ``.../firewall/refs``: ``collect_refs`` per file, IP sets (``+name``) before aliases, the cluster's (``dc``) then
  the guest's (``guest``) (src/PVE/Firewall/Helpers.pm lines 156-191; src/PVE/API2/Firewall/VM.pm ``refs``).
- ``.../firewall/log``: ``dump_fw_logfile`` (Helpers.pm lines 77-150) over what ``pvefw-logger`` writes
  (src/pvefw-logger.c lines 184-194, 1144, 1175) and logrotate keeps (debian/pve-firewall.logrotate).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOGGER_LINE = re.compile(r"^0 5 - \d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4} (starting|stopping) pvefw logger$")


@pytest.fixture
def pve(pve_cluster, pve_api):
    return pve_cluster, pve_api


def test_macros_are_pve_firewalls_own_with_their_descriptions(pve):
    _, client = pve
    macros = {row["macro"]: row["descr"] for row in client.cluster.firewall.macros.get()}
    assert len(macros) == 86
    assert macros["SSH"] == "Secure shell traffic"
    assert macros["Ceph"] == "Ceph Storage Cluster traffic (Ceph Monitors, OSD & MDS Daemons)"
    # IPv6-only macros join the list; where both tables have a macro the IPv4 description wins
    assert macros["NeighborDiscovery"] == "IPv6 neighbor solicitation, neighbor and router advertisement"
    assert macros["Ping"] == "ICMP echo request"


def test_the_macro_table_is_what_the_extraction_script_makes():
    script = ROOT / "scripts" / "extract_firewall_macros.py"
    sys.path.insert(0, str(script.parent))
    try:
        import extract_firewall_macros
    finally:
        sys.path.remove(str(script.parent))
    sample = (
        "my $pve_ipv6fw_macros = {\n    'Ping' => [\n        { action => 'PARAM' },\n    ],\n"
        "    'Only6' => [\n        \"Six only\",\n        { action => 'PARAM' },\n    ],\n};\n"
        "my $pve_fw_macros = {\n    'Ping' => [\n        \"ICMP echo request\",\n"
        "        { action => 'PARAM' },\n    ],\n"
        "    'Bare' => [\n        'ipv4only',\n        # a comment\n        { action => 'PARAM' },\n    ],\n};\n"
    )
    assert extract_firewall_macros.extract(sample) == {"Bare": "Bare", "Only6": "Six only", "Ping": "ICMP echo request"}
    stored = json.loads((ROOT / "third_party" / "pve-firewall" / "macros.json").read_text())
    assert stored["source"].startswith("pve-firewall src/PVE/Firewall.pm @")
    assert list(stored["macros"]) == sorted(stored["macros"])


def test_refs_list_ip_sets_before_aliases_and_the_guests_own_after_the_clusters(pve):
    _, client = pve
    client.cluster.firewall.aliases.post(name="gateway", cidr="192.0.2.1", comment="the router")
    client.cluster.firewall.ipset.post(name="admins")
    guest = client.nodes("pve1").qemu(100).firewall
    guest.ipset.post(name="clients", comment="web clients")
    assert client.cluster.firewall.refs.get() == [
        {"type": "ipset", "name": "admins", "ref": "+admins", "scope": "dc"},
        {"type": "alias", "name": "gateway", "ref": "gateway", "scope": "dc", "comment": "the router"},
    ]
    refs = guest.refs.get()
    assert [(row["scope"], row["ref"]) for row in refs] == [("dc", "+admins"), ("dc", "gateway"), ("guest", "+clients")]
    assert guest.refs.get(type="alias") == [refs[1]]


def test_the_node_log_holds_the_loggers_start_since_the_last_rotation(pve):
    _, client = pve
    answer = client.nodes("pve1").firewall.log.get()
    assert len(answer) == 1 and LOGGER_LINE.match(answer[0]["t"]) and answer[0]["n"] == 1
    assert answer[0]["t"].endswith("starting pvefw logger")


def test_a_period_reads_the_rotated_files_too_and_limit_zero_reads_to_the_end(pve):
    cluster, client = pve
    now = cluster.clock.now()
    week = client.nodes("pve1").firewall.log.get(since=now - 8 * 86400, limit=0)
    texts = [row["t"] for row in week]
    assert all(LOGGER_LINE.match(text) for text in texts)
    # a stop and a start at every daily rotation of the last week (the node has been up longer than that)
    assert sum(text.endswith("stopping pvefw logger") for text in texts) == 7
    assert sum(text.endswith("starting pvefw logger") for text in texts) == 7
    assert [row["n"] for row in week] == list(range(1, 15))
    assert len(client.nodes("pve1").firewall.log.get(since=now - 8 * 86400, limit=3)) == 3


def test_a_guests_log_has_no_lines_and_says_so(pve):
    _, client = pve
    assert client.nodes("pve1").qemu(100).firewall.log.get() == [{"n": 1, "t": "no content"}]
