"""``/access/openid/auth-url`` and ``/login``: pve-access-control src/PVE/API2/OpenId.pm (commit 5ccd07d9) over
proxmox-openid (proxmox-rs proxmox-openid/src/lib.rs ``OpenIdAuthenticator::discover``).

``auth-url`` looks the realm up (``$lookup_openid_auth``, lines 16-39: "authentication domain 'X' does not exist",
"wrong realm type (T != openid)") and then discovers the provider at its ``issuer-url``: the fake's world has no
OpenID provider to answer ``/.well-known/openid-configuration``, so discovery fails as openidconnect's
``DiscoveryError::Request`` displays ("Request failed"), a 500 as on a node that cannot reach its IdP. ``login``
checks the state ``auth-url`` stored first (``verify_public_auth_state``); as no state was ever stored, and every
error of that method is turned into the same 401 ``authentication failure`` (lines 221-226), it answers that."""

from __future__ import annotations

from pytest_pvemock.api.collections import realm_records
from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError


@handles("POST", "/access/openid/auth-url")
def openid_auth_url(ctx: HandlerContext) -> str:
    realm = str(ctx.params["realm"])
    config = realm_records(ctx).get(realm)
    if config is None:
        raise PVEError(f"authentication domain '{realm}' does not exist\n")
    if config.get("type") != "openid":
        raise PVEError(f"wrong realm type ({config.get('type')} != openid)\n")
    raise PVEError("Request failed\n")  # CoreProviderMetadata::discover: no provider answers at the issuer URL


@handles("POST", "/access/openid/login")
def openid_login(ctx: HandlerContext) -> None:
    raise PVEError("authentication failure\n", 401)  # verify_public_auth_state: no state was stored
