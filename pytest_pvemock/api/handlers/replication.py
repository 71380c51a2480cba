"""``/nodes/{node}/replication/{id}/log``: the log of a replication job's last run on the node.

pve-manager 14a22df3 ``PVE/API2/Replication.pm`` ``read_job_log`` 320-394: the job must be in replication.cfg (``no
such replication job``), the caller needs ``VM.Audit`` on its guest or ``Sys.Audit`` on the node, and the log file
``/var/log/pve/replicate/<id>`` is paged by ``dump_logfile``. The fake runs no replication, so no job has a log
file yet: ``dump_logfile``'s one line for a file it cannot open (pve-common f665029e ``src/PVE/Tools.pm`` 801-807).
"""

from __future__ import annotations

from pytest_pvemock.api.handler import HandlerContext, Result, handles
from pytest_pvemock.api.permissions import PermissionChecker
from pytest_pvemock.errors import PermissionDenied, PVEError
from pytest_pvemock.model.config_store import config_store_of

REPLICATION_JOBS = "/cluster/replication"


@handles("GET", "/nodes/{node}/replication/{id}/log")
def replication_job_log(ctx: HandlerContext) -> Result:
    node = ctx.cluster.require_node_reachable(str(ctx.params["node"])).name
    jobid = str(ctx.params["id"])
    job = config_store_of(ctx.cluster).section(REPLICATION_JOBS).records.get(jobid)
    if job is None:
        raise PVEError(f"no such replication job '{jobid}'")
    vmid = job.get("guest", jobid.split("-", 1)[0])
    checker = PermissionChecker(ctx.cluster)
    authid = ctx.principal.authid
    if not (checker.check(authid, f"/vms/{vmid}", ["VM.Audit"], noerr=True)
            or checker.check(authid, f"/nodes/{node}", ["Sys.Audit"], noerr=True)):  # fmt: skip
        raise PermissionDenied()
    return Result([{"n": 1, "t": "unable to open file - No such file or directory"}], extra={"total": 1})
