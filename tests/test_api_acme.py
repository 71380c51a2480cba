"""ACME accounts, directories, meta and plugins as PVE answers them (pve-manager PVE/API2/ACMEAccount.pm and
PVE/API2/ACMEPlugin.pm at 14a22df35955d97dfc1af21e117dc894a29df0c9; proxmox-acme src/PVE/ACME*.pm)."""

from __future__ import annotations

import pytest
from support.clients import refused, task_log, wait

from pytest_pvemock.schema.registry import get_registry

LE = "https://acme-v02.api.letsencrypt.org/directory"
LE_STAGING = "https://acme-staging-v02.api.letsencrypt.org/directory"
TOS = "https://letsencrypt.org/documents/LE-SA-v1.5-February-24-2025.pdf"


def test_a_fresh_cluster_has_no_account_and_knows_the_two_lets_encrypt_directories(pve_api):
    acme = pve_api.cluster.acme
    assert acme.account.get() == []  # list_acme_accounts of an absent priv/acme (CertHelpers.pm 136-153)
    # $acme_directories (ACMEAccount.pm 23-32)
    assert acme.directories.get() == [
        {"name": "Let's Encrypt V2", "url": LE},
        {"name": "Let's Encrypt V2 Staging", "url": LE_STAGING},
    ]


def test_meta_and_tos_answer_what_the_directory_publishes(pve_api):
    # get_meta / get_tos (ACMEAccount.pm 357-452): the directory's meta, its termsOfService
    meta = pve_api.cluster.acme.meta.get()
    assert meta["termsOfService"] == TOS and meta["caaIdentities"] == ["letsencrypt.org"]
    assert pve_api.cluster.acme.tos.get() == TOS
    staging = pve_api.cluster.acme.meta.get(directory=LE_STAGING)
    assert staging["website"] == "https://letsencrypt.org/docs/staging-environment/"
    # a CA the node cannot reach: PVE::ACME::do's "Error: GET to <url>" (the fake never goes online)
    error = refused(pve_api.cluster.acme.meta.get, directory="https://ca.internal/acme/directory")
    assert error.status_code == 500 and "GET to https://ca.internal/acme/directory" in error.content


def test_the_challenge_schema_lists_the_releases_dns_plugins_with_their_fields(pve_api, pve_cluster):
    rows = pve_api.cluster.acme("challenge-schema").get()
    by_id = {row["id"]: row for row in rows}
    # every DNS plugin of the release (the api enum of POST /cluster/acme/plugins), sorted, type dns
    enum = get_registry(pve_cluster.version).endpoint("POST", "/cluster/acme/plugins").parameters_schema
    assert [row["id"] for row in rows] == sorted(enum["properties"]["api"]["enum"])
    assert {row["type"] for row in rows} == {"dns"}
    assert by_id["cf"]["name"] == "Cloudflare Managed DNS"
    assert set(by_id["cf"]["schema"]["fields"]) == {"CF_Account_ID", "CF_Email", "CF_Key", "CF_Token", "CF_Zone_ID"}
    # a plugin without a schema: name falls back to the id (ACMEAccount.pm 531-536)
    assert by_id["1984hosting"] == {"id": "1984hosting", "name": "1984hosting", "type": "dns", "schema": {}}


@pytest.mark.pve_cluster(versions=["7.4", "9.1"])
def test_newer_releases_know_more_dns_plugins(pve_api, pve_cluster):
    ids = {row["id"] for row in pve_api.cluster.acme("challenge-schema").get()}
    assert ("hetznercloud" in ids) == pve_cluster.version.startswith("9")  # proxmox-acme added it for PVE 9


def test_registering_an_account_creates_it_and_the_gets_show_it_without_its_key(pve_api):
    acme = pve_api.cluster.acme
    upid = acme.account.post(name="prod", contact="admin@corp.test,ops@corp.test", tos_url=TOS)
    assert ":acmeregister::root@pam:" in upid  # fork_worker('acmeregister', undef, ...) (ACMEAccount.pm 192)
    assert wait(pve_api, upid)["exitstatus"] == "OK"
    log = task_log(pve_api, upid)
    assert log[:2] == ["Generating ACME account key..", "Registering ACME account.."]
    assert acme.account.get() == [{"name": "prod"}]
    account = acme.account("prod").get()
    assert log[2] == f"Registration successful, account URL: '{account['location']}'"
    assert account["location"].startswith("https://acme-v02.api.letsencrypt.org/acme/acct/")
    assert account["directory"] == LE and account["tos"] == TOS
    assert account["account"]["contact"] == ["mailto:admin@corp.test", "mailto:ops@corp.test"]
    assert account["account"]["status"] == "valid"
    assert "key" not in account and "PRIVATE" not in str(account)  # the account key stays in priv/acme
    # the same name again: raise_param_exc before the worker (ACMEAccount.pm 152-154)
    error = refused(acme.account.post, name="prod", contact="a@corp.test", tos_url=TOS)
    assert error.status_code == 400 and error.errors == {"name": "ACME account config file 'prod' already exists."}


def test_without_agreeing_to_the_terms_the_ca_refuses_and_the_task_fails(pve_api):
    upid = pve_api.cluster.acme.account.post(contact="admin@corp.test")
    status = wait(pve_api, upid)["exitstatus"]
    # the worker's die (ACMEAccount.pm 180-185), one line as fork_worker writes it; Boulder's malformed problem
    assert status.startswith("Registration failed: Error: POST to https://acme-v02.api.letsencrypt.org/acme/new-acct")
    assert "must agree to terms of service" in status and "\n" not in status
    assert pve_api.cluster.acme.account.get() == []


def test_update_and_deactivation_go_through_workers_and_the_list_drops_a_deactivated_account(pve_api):
    acme = pve_api.cluster.acme
    wait(pve_api, acme.account.post(contact="admin@corp.test", tos_url=TOS, directory=LE_STAGING))
    upid = acme.account("default").put(contact="new@corp.test")
    assert ":acmeupdate::" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    assert acme.account("default").get()["account"]["contact"] == ["mailto:new@corp.test"]
    assert ":acmerefresh::" in acme.account("default").put()  # no contact: a refresh (ACMEAccount.pm 268-273)
    upid = acme.account("default").delete()
    assert ":acmedeactivate::" in upid and wait(pve_api, upid)["exitstatus"] == "OK"
    # renamed to _deactivated_default_0 (ACMEAccount.pm 219-237), which is no config id and so not listed
    assert "_deactivated_default_0" in task_log(pve_api, upid)[0]
    assert acme.account.get() == []
    error = refused(acme.account("default").get)
    assert error.status_code == 400 and error.errors == {"name": "ACME account config file 'default' does not exist."}


def test_the_standalone_plugin_is_always_there_and_dns_plugins_are_stored_as_written(pve_api):
    plugins = pve_api.cluster.acme.plugins
    # Challenge.pm parse_config adds standalone when missing; $modify_cfg_for_api adds plugin and digest
    (standalone,) = plugins.get()
    assert standalone["plugin"] == "standalone" and standalone["type"] == "standalone"
    assert plugins("standalone").get()["type"] == "standalone"
    plugins.post(id="cloudflare", type="dns", api="cf", data="CF_Token=abc")
    assert plugins("cloudflare").get()["api"] == "cf"
    assert [row["plugin"] for row in plugins.get(type="dns")] == ["cloudflare"]
    plugins("cloudflare").put(**{"validation-delay": 60})
    assert plugins("cloudflare").get()["validation-delay"] == 60
    # PVE's refusals: an existing id, an option the type does not take, a required option deleted, unknown ids
    assert refused(plugins.post, id="cloudflare", type="dns", api="cf").content.endswith("already exists")
    assert "unexpected property 'api'" in refused(plugins.post, id="web", type="standalone", api="cf").content
    assert "missing value for required option 'api'" in refused(plugins.post, id="dns2", type="dns").content
    assert "unable to delete required option 'api'" in refused(plugins("cloudflare").put, delete="api").content
    assert "ACME plugin 'nope' not defined" in refused(plugins("nope").get).content
    plugins("standalone").delete()
    assert {row["plugin"] for row in plugins.get()} == {"standalone", "cloudflare"}
