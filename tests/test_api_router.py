"""The route table: who answers each method of a release, declared once, overridable per test, printed by the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pytest_pvemock.api.handler import HANDLERS
from pytest_pvemock.api.router import DuplicateRoute, Router, declared_routes, route_table
from pytest_pvemock.cli import main
from pytest_pvemock.cli.routes import README_VERSIONS, summary_table
from pytest_pvemock.errors import PVEError
from pytest_pvemock.model.cluster import FakeCluster
from pytest_pvemock.schema.registry import get_registry

proxmoxer = pytest.importorskip("proxmoxer")

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("version", README_VERSIONS)
def test_every_documented_method_has_exactly_one_route(version):
    routes = route_table(version)
    documented = sorted(get_registry(version).endpoints())
    assert sorted((route.method, route.template) for route in routes) == documented
    assert sum(routes.counts().values()) == len(documented)


def test_a_method_declared_twice_refuses_to_build(monkeypatch):
    declared_routes()  # loads the handler modules
    monkeypatch.setitem(HANDLERS, ("GET", "/cluster/backup"), lambda ctx: [])
    with pytest.raises(DuplicateRoute, match=r"GET /cluster/backup is declared twice: .*Keyed\('/cluster/backup'"):
        declared_routes()


def test_explain_names_the_function_that_answers():
    router = Router(FakeCluster.default())
    assert router.explain("POST", "/nodes/pve1/qemu/100/status/start") == (
        "POST /nodes/{node}/qemu/{vmid}/status/start -> endpoint pytest_pvemock.api.handlers.guests.start_guest"
    )
    assert router.explain("get", "/access/domains").startswith("GET /access/domains -> collection Keyed(")
    assert router.explain("GET", "/nodes/pve1/disks").endswith("index pytest_pvemock.api.fallback.index_listing")
    assert router.explain("GET", "/nodes/pve1/nope") == (
        "GET /nodes/pve1/nope -> not documented in PVE 9.1.5: 501 not implemented"
    )


def test_a_created_realm_is_listed(pve_api):
    # PVE's GET /access/domains lists domains.cfg (pve-access-control src/PVE/API2/Domains.pm, index), so a realm
    # written by POST /access/domains is there; a hand-written static list used to shadow it.
    pve_api.access.domains.post(realm="corp", type="ldap", server1="ldap.corp.test", base_dn="dc=corp", user_attr="uid")
    realms = {entry["realm"]: entry["type"] for entry in pve_api.access.domains.get()}
    assert realms == {"pam": "pam", "pve": "pve", "corp": "ldap"}
    assert pve_api.access.domains("corp").get()["server1"] == "ldap.corp.test"


def test_override_answers_one_method_through_proxmoxer(pve_cluster, pve_api):
    def version(ctx):
        return {"version": "7.4-3", "release": "7.4", "repoid": ctx.cluster.repoid}

    pve_cluster.api_override("GET", "/version", version)
    assert pve_api.version.get() == {"version": "7.4-3", "release": "7.4", "repoid": pve_cluster.repoid}
    pve_cluster.remove_api_override("GET", "/version")
    assert pve_api.version.get()["release"] == "9.1"


def test_override_of_a_concrete_path_leaves_the_others_alone(pve_cluster, pve_api):
    def failing(ctx):
        raise PVEError(f"unable to read status of {ctx.params['node']}", code=500)

    pve_cluster.api_override("GET", "/nodes/pve2/status", failing)
    with pytest.raises(proxmoxer.ResourceException) as raised:
        pve_api.nodes("pve2").status.get()
    assert (raised.value.status_code, raised.value.content) == (500, "unable to read status of pve2")
    assert pve_api.nodes("pve1").status.get()["uptime"] > 0
    assert (
        Router(pve_cluster)
        .explain("GET", "/nodes/pve2/status")
        .startswith("GET /nodes/{node}/status -> override test_api_router.")
    )


def test_override_keeps_parameter_checks(pve_cluster, pve_api):
    pve_cluster.api_override("GET", "/nodes/{node}/qemu", lambda ctx: [])
    with pytest.raises(proxmoxer.ResourceException) as raised:
        pve_api.nodes("pve1").qemu.get(full="maybe")
    assert raised.value.status_code == 400
    assert pve_api.nodes("pve1").qemu.get() == []


def test_override_of_an_undocumented_method_is_refused(pve_cluster):
    with pytest.raises(ValueError, match=r"PVE 9.1.5 has no method PATCH /version"):
        pve_cluster.api_override("PATCH", "/version", lambda ctx: None)


def test_override_from_a_fixture_in_a_conftest(pytester):
    pytester.makeconftest(
        """
        import pytest

        OLD = {"version": "8.0.3", "release": "8.0", "repoid": "2a5fa54a"}

        @pytest.fixture
        def old_release(pve_cluster):
            pve_cluster.api_override("GET", "/version", lambda ctx: OLD)
        """
    )
    pytester.makepyfile(
        """
        def test_sees_the_override(pve_api, old_release):
            assert pve_api.version.get()["release"] == "8.0"

        def test_next_test_has_its_own_answer(pve_api):
            assert pve_api.version.get()["release"] == "9.1"
        """
    )
    pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:asyncio").assert_outcomes(passed=2)


def test_routes_command_lists_every_method(capsys):
    assert main(["routes", "--pve-version", "8.4", "--format", "json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert len(answer["routes"]) == len(get_registry("8.4").endpoints()) == answer["counts"]["total"]
    assert {
        "method": "PUT",
        "path": "/nodes/{node}/qemu/{vmid}/config",
        "kind": "endpoint",
        "answered_by": "pytest_pvemock.api.handlers.guests.update_guest_config",
    } in answer["routes"]


def test_routes_command_text_and_explain(capsys):
    assert main(["routes"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"GET\s+/cluster/backup\s+collection\s+Keyed\('/cluster/backup', 'id'\): keyed_list", out)
    assert out.rstrip().splitlines()[-1].startswith("PVE 9.1: ")
    assert main(["routes", "--explain", "DELETE /cluster/backup/job1"]) == 0
    assert capsys.readouterr().out.startswith("DELETE /cluster/backup/{id} -> collection Keyed('/cluster/backup'")
    # any release, also one the model does not answer as (8.2 has no bulk actions yet: not documented there)
    assert main(["routes", "--pve-version", "8.2", "--explain", "POST /cluster/bulk-action/guest/start"]) == 0
    assert capsys.readouterr().out == (
        "POST /cluster/bulk-action/guest/start -> not documented in PVE 8.2: 501 not implemented\n"
    )


def test_readme_summary_is_generated():
    readme = README.read_text(encoding="utf-8")
    block = re.search(r"<!-- routes-summary:[^\n]*-->\n(.*?)\n<!-- routes-summary end -->", readme, re.S)
    assert block is not None
    assert block.group(1) == summary_table(), "README's route summary is stale: paste `pvemock routes --summary`"


def test_access_control_writes_need_quorum_and_reads_do_not(pve_cluster, pve_api):
    # user.cfg lives in pmxcfs, read-only without quorum (pve-access-control lock_user_config -> cfs_lock_file)
    pve_cluster.set_quorum(False)
    with pytest.raises(proxmoxer.ResourceException) as raised:
        pve_api.access.groups.post(groupid="ops")
    assert raised.value.status_code == 500
    assert [group["groupid"] for group in pve_api.access.groups.get()] == []
    pve_cluster.set_quorum(None)
    pve_api.access.groups.post(groupid="ops")
    assert [group["groupid"] for group in pve_api.access.groups.get()] == ["ops"]
