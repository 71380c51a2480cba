"""``/nodes/{node}/query-oci-repo-tags`` (PVE 9.1): the tags of an OCI repository, as ``skopeo list-tags`` reads them
from its registry.

pve-manager 14a22df3 ``PVE/API2/Nodes.pm`` ``query_oci_repo_tags`` 1847-1887: skopeo (recommended by pve-manager,
so installed) asks the registry; the fake never goes online, so the registry does not answer and ``run_command``
dies with the command line (pve-common f665029e ``src/PVE/Cmd.pm`` 317-324).
"""

from __future__ import annotations

from pytest_pvemock.api.handler import HandlerContext, handles
from pytest_pvemock.errors import PVEError


@handles("GET", "/nodes/{node}/query-oci-repo-tags")
def query_oci_repo_tags(ctx: HandlerContext) -> list[str]:
    ctx.cluster.require_node_reachable(str(ctx.params["node"]))
    raise PVEError(f"command 'skopeo list-tags docker://{ctx.params['reference']}' failed: exit code 1")
