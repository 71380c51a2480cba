"""OpenID Connect login without a reachable provider, as PVE answers it: pve-access-control src/PVE/API2/OpenId.pm
at 5ccd07d9 (``$lookup_openid_auth`` 16-39, auth_url, login 221-226) over proxmox-openid's discovery."""

from __future__ import annotations

from support.clients import refused


def test_auth_url_checks_the_realm_then_fails_discovery(pve_api):
    openid = pve_api.access.openid
    redirect = "https://pve1.pvemock.lan:8006"
    error = refused(openid("auth-url").post, realm="sso", **{"redirect-url": redirect})
    assert (error.status_code, error.content) == (500, "authentication domain 'sso' does not exist")
    error = refused(openid("auth-url").post, realm="pve", **{"redirect-url": redirect})
    assert error.content == "wrong realm type (pve != openid)"
    pve_api.access.domains.post(realm="sso", type="openid", **{"issuer-url": "https://idp.pvemock.lan/realms/pve",
                                                                "client-id": "pve"})  # fmt: skip
    # the provider's /.well-known/openid-configuration cannot be fetched: openidconnect's DiscoveryError::Request
    error = refused(openid("auth-url").post, realm="sso", **{"redirect-url": redirect})
    assert (error.status_code, error.content) == (500, "Request failed")


def test_login_without_a_stored_state_is_an_authentication_failure(pve_api):
    error = refused(pve_api.access.openid.login.post, state='{"csrf_token":"x","realm":"sso"}', code="abc",
                    **{"redirect-url": "https://pve1.pvemock.lan:8006"})  # fmt: skip
    assert (error.status_code, error.content) == (401, "authentication failure")
