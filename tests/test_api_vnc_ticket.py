"""``POST /access/vncticket`` checks a ticket a console call made (pve-access-control src/PVE/API2/AccessControl.pm
``verify_vnc_ticket`` 328-400 and src/PVE/AccessControl.pm 566-575 at 5ccd07d9): signed for the authid, path and
port, 40 seconds at most, and every privilege asked on the path; any failure is the same 401."""

from __future__ import annotations

from support.clients import proxmoxer_client, refused


def test_a_console_ticket_verifies_for_its_user_path_port_and_privileges(pve_api, pve_cluster):
    proxy = pve_api.nodes("pve1").qemu(100).vncproxy.post(websocket=1)
    ticket, port = proxy["ticket"], int(proxy["port"])
    verify = pve_api.access.vncticket.post
    assert verify(authid="root@pam", vncticket=ticket, path="/vms/100", privs="VM.Console", port=port) is None
    # the websocket ticket's password part is dropped; a path written with extra slashes is normalized
    assert verify(authid="root@pam", vncticket=ticket.split(":", 1)[1], path="//vms/100/", privs="VM.Console",
                  port=port) is None  # fmt: skip
    for wrong in (
        {"authid": "prometheus@pve"},  # signed for another user
        {"path": "/vms/101"},  # another guest
        {"port": port + 1},  # another proxy
        {"vncticket": ticket.replace("PVEVNC:", "PVEVNC:0")},  # not the signed text
    ):
        params = {"authid": "root@pam", "vncticket": ticket, "path": "/vms/100", "privs": "VM.Console", "port": port}
        error = refused(verify, **{**params, **wrong})
        assert (error.status_code, error.content) == (401, "authentication failure")
    pve_cluster.clock.advance(41)  # $verify_short_lived_ticket: -20 to 40 seconds
    error = refused(verify, authid="root@pam", vncticket=ticket, path="/vms/100", privs="VM.Console", port=port)
    assert error.status_code == 401


def test_the_privileges_are_the_ticket_users_own(pve_api, pve_cluster):
    pve_api.access.users.post(userid="viewer@pve", password="viewer-password")
    pve_api.access.acl.put(path="/vms/100", roles="PVEVMUser", users="viewer@pve")
    viewer = proxmoxer_client(pve_cluster, user="viewer@pve", password="viewer-password")
    proxy = viewer.nodes("pve1").qemu(100).vncproxy.post()
    params = {"authid": "viewer@pve", "vncticket": proxy["ticket"], "path": "/vms/100", "port": int(proxy["port"])}
    assert pve_api.access.vncticket.post(**params, privs="VM.Console") is None
    # every privilege asked must be the user's on the path (PVEVMUser has no VM.Allocate)
    error = refused(pve_api.access.vncticket.post, **params, privs="VM.Console,VM.Allocate")
    assert (error.status_code, error.content) == (401, "authentication failure")
