"""Any PVE release as the cluster's version: FakeCluster, the marker, the options, serve, demo and validate accept a
release, a minor (its last release), a major (its newest) or latest, and the cluster answers as that release."""

from __future__ import annotations

import pytest
import requests
from test_cli_serve import start_serve, stop

from pytest_pvemock import FakeCluster
from pytest_pvemock.cli import main
from pytest_pvemock.schema.files import release_index

proxmoxer = pytest.importorskip("proxmoxer")


def index_entry(version: str) -> dict:
    return next(entry for entry in release_index()["releases"] if entry["version"] == version)


@pytest.mark.parametrize(
    ("given", "version", "release"),
    [("8.2.5", "8.2.5", "8.2"), ("8.2", "8.2.5", "8.2"), ("8", "8.4.2", "8.4"), ("latest", "9.1.5", "9.1"),
     ("7.2-3", "7.2-3", "7.2"), ("7.0", "7.0-5", "7.0")],
)  # fmt: skip
def test_version_answers_the_release_its_series_and_its_commit(given, version, release, pve_cluster_factory):
    cluster = pve_cluster_factory("single-node", version=given, validate=True)
    api = proxmoxer.ProxmoxAPI(cluster.host, user=cluster.user, password=cluster.password, verify_ssl=False)

    answer = api.version.get()

    # repoid: the release's commit in INDEX.json (pve-docs' "bump version to X"), 16 hex digits as PVE prints it
    assert answer == {"version": version, "release": release, "repoid": index_entry(version)["commit"][:16]}
    assert cluster.version == version
    assert api.nodes(cluster.nodes[0].name).status.get()["pveversion"].startswith(f"pve-manager/{version}/")


def test_a_release_answers_its_own_methods_and_501_for_newer_ones(pve_cluster_factory):
    old = pve_cluster_factory("single-node", version="8.4")  # HA rules came with PVE 9.0
    new = pve_cluster_factory("single-node", version="9.0.9")
    old_api = proxmoxer.ProxmoxAPI(old.host, user=old.user, password=old.password, verify_ssl=False)
    new_api = proxmoxer.ProxmoxAPI(new.host, user=new.user, password=new.password, verify_ssl=False)

    with pytest.raises(proxmoxer.ResourceException) as raised:
        old_api.cluster.ha.rules.get()
    assert raised.value.status_code == 501
    assert raised.value.content == "Method 'GET /cluster/ha/rules' not implemented"
    assert new_api.cluster.ha.rules.get() == []


def test_the_marker_and_the_option_take_any_release(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.pve_cluster(version="8.1")
        def test_marker(pve_cluster, pve_api):
            assert pve_api.version.get()["version"] == "8.1.5"

        def test_option(pve_cluster):
            assert pve_cluster.version == "7.4-2"
        """
    )
    pytester.runpytest("-p", "no:randomly", "-p", "no:asyncio", "--pvemock-pve-version=7").assert_outcomes(passed=2)


def test_an_unknown_version_is_refused_naming_what_may_be_given():
    with pytest.raises(ValueError, match=r"PVE version '8\.7' is not a known release: give a release \(7\.0-1 to"):
        FakeCluster(version="8.7")


def test_demo_runs_as_an_old_release(capsys):
    assert main(["demo", "--scenario", "single-node", "--pve-version", "7.4"]) == 0
    assert "a fake Proxmox VE 7.4-2 cluster" in capsys.readouterr().out


def test_serve_answers_as_the_release_given():
    process, announced = start_serve("--pve-version", "8.0", "--scenario", "single-node")
    try:
        user, password = announced["Login"].split(" / ")
        login = requests.post(
            f"{announced['URL']}/access/ticket",
            data={"username": user, "password": password},
            verify=announced["CA file"],
            timeout=30,
        ).json()["data"]
        version = requests.get(
            f"{announced['URL']}/version",
            cookies={"PVEAuthCookie": login["ticket"]},
            verify=announced["CA file"],
            timeout=30,
        ).json()["data"]
    finally:
        stop(process)
    assert (version["version"], version["release"]) == ("8.0.5", "8.0")


def test_a_test_runs_once_per_listed_release_with_the_release_in_its_id(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.pve_cluster(versions=["7.4", "8.4", "9.1"])
        def test_upgrade_path(pve_cluster, pve_api):
            assert pve_api.version.get()["version"] == pve_cluster.version
        """
    )
    result = pytester.runpytest("-v", "-p", "no:randomly", "-p", "no:asyncio")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines_random(
        [
            "*test_upgrade_path[[]7.4-2[]] PASSED*",
            "*test_upgrade_path[[]8.4.2[]] PASSED*",
            "*test_upgrade_path[[]9.1.5[]] PASSED*",
        ]
    )


def test_a_bad_versions_list_is_blamed_on_the_marker(pytester):
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.pve_cluster(versions=["8.4", "8.9"])
        def test_it(pve_cluster):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:randomly", "-p", "no:asyncio")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*pve_cluster marker: versions: PVE version '8.9' is not a known release*"])
