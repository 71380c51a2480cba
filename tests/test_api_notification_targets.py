"""Gotify and webhook notification targets and the test notification, as PVE answers them: pve-manager
PVE/API2/Cluster/Notifications.pm at 14a22df3 (test_target 324-360, gotify 684-900) over proxmox-notify
(proxmox-rs proxmox-notify/src/lib.rs ``Bus::test_target``, src/api/mod.rs ``test_target`` and ``ensure_unique``)
and pve-manager templates/default/test-{subject,body}.txt.hbs."""

from __future__ import annotations

import pytest
from support.clients import refused

from pytest_pvemock.model.builders.clusters import build_from_text
from pytest_pvemock.model.builders.scenario_dump import scenario_yaml
from pytest_pvemock.model.cluster import FakeCluster

pytestmark = pytest.mark.pve_cluster("production", validate=True)

GOTIFY_TOKEN = "AJ3k0dT9vxQb2Lm"  # production.yaml's
NTFY_TOKEN_B64 = "dGtfMHY4cGgybXgxcWFjbDd5NHJ6OW5iM3M1dzY="


def test_the_on_call_targets_answer_without_their_secrets(pve_api):
    endpoints = pve_api.cluster.notifications.endpoints
    gotify = endpoints.gotify("oncall-gotify").get()
    assert gotify["server"] == "https://gotify.pvemock.lan" and "token" not in gotify  # Notifications.pm 749
    ntfy = endpoints.webhook("oncall-ntfy").get()
    assert ntfy["secret"] == ["name=token"]  # webhook.rs: the secret's name, never its value
    assert (ntfy["method"], ntfy["url"]) == ("post", "https://ntfy.pvemock.lan/pve-alerts")
    answers = (
        str(endpoints.gotify.get()) + str(endpoints.webhook.get()) + str(pve_api.cluster.notifications.targets.get())
    )
    assert GOTIFY_TOKEN not in answers and NTFY_TOKEN_B64 not in answers
    types = {row["name"]: row["type"] for row in pve_api.cluster.notifications.targets.get()}
    assert types == {
        "mail-to-root": "sendmail",
        "ops-mail": "smtp",
        "oncall-gotify": "gotify",
        "oncall-ntfy": "webhook",
    }


def test_a_dump_keeps_the_targets_but_not_their_secrets(pve_api, pve_cluster):
    dumped = scenario_yaml(pve_cluster)
    assert "oncall-gotify" in dumped and "oncall-ntfy" in dumped and "name=token" in dumped
    assert GOTIFY_TOKEN not in dumped and NTFY_TOKEN_B64 not in dumped
    # before its setup is answered, a dump writes the setup requests: the webhook's secret by name, the Gotify
    # token not at all; loaded, the target gets a new token (docs/scenarios.md, Secrets)
    fresh = scenario_yaml(FakeCluster.from_scenario("production"))
    assert "oncall-gotify" in fresh and "name=token" in fresh
    assert GOTIFY_TOKEN not in fresh and NTFY_TOKEN_B64 not in fresh
    loaded = build_from_text(fresh, "dump.yaml")
    assert loaded.configs is not None and "oncall-gotify" in scenario_yaml(loaded)


def test_a_test_notification_reaches_the_target_and_is_logged(pve_api, pve_cluster):
    targets = pve_api.cluster.notifications.targets
    assert targets("oncall-gotify").test.post() is None
    targets("oncall-ntfy").test.post()
    targets("ops-mail").test.post()
    sent = {entry.target: entry for entry in pve_cluster.notifications.sent}
    message = "This is a test of the notification target 'oncall-gotify'."  # test-body.txt.hbs
    gotify = sent["oncall-gotify"]
    assert (gotify.type, gotify.severity, gotify.title, gotify.message) == (
        "gotify",
        "info",
        "Test notification",
        message,
    )
    assert gotify.destination == "POST https://gotify.pvemock.lan/message" and gotify.details == {"priority": 1}
    assert gotify.time == pve_cluster.clock.now()
    # the webhook's templates rendered; its secret stays a placeholder in the log
    ntfy = sent["oncall-ntfy"]
    assert ntfy.destination == "POST https://ntfy.pvemock.lan/pve-alerts"
    assert ntfy.details["headers"] == {"Title": "Test notification", "Authorization": "Bearer {{ secrets.token }}"}
    assert ntfy.details["body"] == "This is a test of the notification target 'oncall-ntfy'."
    assert (sent["ops-mail"].destination, sent["ops-mail"].details["server"]) == (
        "ops@pvemock.lan",
        "smtp.pvemock.lan:587",
    )
    assert GOTIFY_TOKEN not in str(pve_cluster.notifications.sent)


def test_test_notifications_fail_as_proxmox_notify_does(pve_api, pve_cluster):
    targets = pve_api.cluster.notifications.targets
    # api/mod.rs test_target: TargetDoesNotExist -> 404
    error = refused(targets("nowhere").test.post)
    assert (error.status_code, "endpoint 'nowhere' does not exist" in error.content) == (404, True)
    # mail-to-root mails root@pam's address: without one, proxmox-sendmail has no recipient
    error = refused(targets("mail-to-root").test.post)
    assert error.status_code == 500
    assert (
        "Could not test target: could not notify via endpoint(s): mail-to-root: "
        "no recipients provided for the mail, cannot send it." in error.content
    )
    pve_api.access.users("root@pam").put(email="root@pvemock.lan")
    targets("mail-to-root").test.post()
    assert pve_cluster.notifications.to("mail-to-root")[0].destination == "root@pvemock.lan"
    # a disabled target is still tested (Bus::test_target does not look at 'disable')
    pve_api.cluster.notifications.endpoints.gotify("oncall-gotify").put(disable=1)
    targets("oncall-gotify").test.post()
    assert len(pve_cluster.notifications.to("oncall-gotify")) == 1


def test_targets_and_matchers_share_one_name_space(pve_api):
    # api/mod.rs ensure_unique: 400 for a name any entity of notifications.cfg has
    error = refused(pve_api.cluster.notifications.endpoints.gotify.post, name="ops-mail", server="https://x.lan",
                    token="t")  # fmt: skip
    assert error.status_code == 400
    assert "Cannot create 'ops-mail', an entity with the same name already exists" in error.content
    error = refused(pve_api.cluster.notifications.matchers.post, name="oncall-ntfy", target="ops-mail")
    assert "Cannot create 'oncall-ntfy', an entity with the same name already exists" in error.content
