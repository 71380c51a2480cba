"""Storage replication (``pvesr``): the jobs of ``replication.cfg``, their state on each node and their runs.

Sources read: pve-guest-common (4a8f6cb) ``src/PVE/ReplicationConfig.pm`` (the job id, the options, one job per
guest and target), ``src/PVE/ReplicationState.pm`` (the state file, ``job_status``, the back-off, ``schedule_job_now``),
``src/PVE/Replication.pm`` (``run_replication``, ``replicate``, ``prepare``); pve-manager (14a22df3)
``PVE/API2/ReplicationConfig.pm`` (create/update/delete and their checks), ``PVE/API2/Replication.pm`` (``run_jobs``,
the node's status, log and ``schedule_now``), ``PVE/CLI/pvesr.pm`` (``prepare-local-job`` on the target: only
``zfspool`` storages replicate), ``PVE/Service/pvescheduler.pm`` (``run_jobs`` forked every minute on every node);
qemu-server (e6352be6) ``src/PVE/QemuConfig.pm`` and pve-container (94f55852) ``src/PVE/LXC/Config.pm``
``get_replicatable_volumes``; pve-storage (0c56bad8) ``Storage.pm`` ``storage_migrate`` and ``ZFSPoolPlugin.pm``
``volume_export`` (``zfs send -RpvU``); pve-cluster ``src/PVE/SSHInfo.pm`` (the ssh command, per-node known hosts
since 1f3febd, PVE 8.2).

The model runs each node's ``pvescheduler`` on the cluster clock: at every minute the clock passes, each online node
runs the jobs of its guests that are due (``next_sync``), one after the other. A run takes no time on the clock (its
``duration`` is figured from what it sends); it snapshots the guest's volumes (``__replicate_<job>_<start>__``),
sends them to the same storage on the target, where they show in the storage's content, and records ``last_sync``,
``last_try``, ``duration``, ``fail_count`` and ``error`` as the state file does, and the run's log as
``/var/log/pve/replicate/<job>`` holds it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.calendar_event import CalendarEvent
from pytest_pvemock.model.config_store import config_store_of
from pytest_pvemock.model.guest_config import drive_options, lxc_volumes, parse_size, unused_volumes
from pytest_pvemock.model.storage import Volume
from pytest_pvemock.model.storage_content import check_enabled
from pytest_pvemock.model.storage_features import volume_has_feature
from pytest_pvemock.model.volumes import parse_volid

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest

JOBS = "/cluster/replication"
DEFAULT_SCHEDULE = "*/15"
#: ReplicationConfig.pm 330-340, the ``local`` type's options: (optional, fixed)
OPTIONS = {"target": (False, True), "disable": (True, False), "comment": (True, False), "rate": (True, False),
           "schedule": (True, False), "remove_job": (True, False), "source": (True, False)}  # fmt: skip
#: pvesr.pm 29-31: "fixme: get from plugin??"
REPLICATABLE_TYPES = frozenset({"zfspool"})
_JOB_ID = re.compile(r"^(\d+)-(\d+)$")
_SCHEDULER_PERIOD = 60  # pvescheduler.pm 126-140: run_jobs forked every minute, near the minute boundary
_QEMU_DRIVE = re.compile(r"^(?:ide|sata|scsi|virtio|efidisk|tpmstate)\d+$")


def parse_job_id(jobid: str) -> tuple[int, int, str]:
    """``parse_replication_job_id`` (ReplicationConfig.pm 27-42): (guest, job number, the id of the parsed ints)."""
    message = f"invalid replication job id '{jobid}'"
    match = _JOB_ID.match(jobid)
    if match is None:
        raise PVEError(message)
    guest, jobnum = int(match[1]), int(match[2])
    if guest < 100:
        raise PVEError(f"{message} (guest IDs < 100 are reserved)")
    return guest, jobnum, f"{guest}-{jobnum}"


def _records(cluster: FakeCluster) -> dict[str, dict[str, Any]]:
    return config_store_of(cluster).section(JOBS).records


def job_ids(cluster: FakeCluster) -> list[str]:
    """The jobs of ``replication.cfg``, sorted as PVE walks them (``sort keys``: as strings)."""
    return sorted(_records(cluster))


def job(cluster: FakeCluster, jobid: str) -> dict[str, Any] | None:
    """The job as ``parse_config`` reads it (ReplicationConfig.pm 131-164): its options with ``type``, ``guest``,
    ``jobnum`` and ``id``; ``None`` when there is none."""
    record = _records(cluster).get(jobid)
    if record is None:
        return None
    guest, jobnum, _ = parse_job_id(jobid)
    return {"type": record.get("type", "local"), **_options(record), "guest": guest, "jobnum": jobnum, "id": jobid}


def _options(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: record[key] for key in sorted(record) if key in OPTIONS and record[key] is not None}


def config_text(cluster: FakeCluster) -> str:
    """``replication.cfg`` as ``write_config`` writes it (a SectionConfig: ``local: 100-0`` and its options)."""
    sections = []
    for jobid in job_ids(cluster):
        record = _records(cluster)[jobid]
        lines = [f"{record.get('type', 'local')}: {jobid}"]
        lines.extend(f"\t{key} {_cfg_value(value)}" for key, value in _options(record).items())
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def _cfg_value(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\n", "%0A")


def digest(cluster: FakeCluster) -> str:
    """The SHA-1 of ``replication.cfg``, the ``digest`` a job's read answers and an update may give."""
    return hashlib.sha1(config_text(cluster).encode()).hexdigest()


# ---- which volumes replicate ------------------------------------------------------------------------------------


def replicatable_volumes(cluster: FakeCluster, guest: Guest, cleanup: bool = False, noerr: bool = False) -> list[str]:
    """``get_replicatable_volumes`` of the guest's config, its snapshots and unused volumes, sorted: only volumes the
    guest owns on a local storage that has the ``replicate`` feature (ZFS), with PVE's errors for the others
    (qemu-server QemuConfig.pm 136-178, pve-container LXC/Config.pm get_replicatable_volumes)."""
    found: set[str] = set()
    configs = [guest.config, *guest.snapshots.values()]
    for config in configs:
        for value, attrs in _volumes_of(guest.kind, config):
            volid = _checked_volume(cluster, guest, value, attrs, cleanup, noerr)
            if volid is not None:
                found.add(volid)
    return sorted(found)


def _volumes_of(kind: str, config: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(volume, attributes) of each volume a config names: ``cdrom``, ``replicate`` and the mount point type."""
    found: list[tuple[str, dict[str, Any]]] = []
    if kind == "qemu":
        for key, value in config.items():
            if not (_QEMU_DRIVE.match(key) or key == "vmstate"):
                continue
            volume, options = drive_options(str(value))
            if volume in ("", "none"):
                continue
            cdrom = options.get("media") == "cdrom" or volume == "cdrom"
            found.append((volume, {"cdrom": cdrom, "replicate": options.get("replicate", "1") not in ("0", "no")}))
    else:
        for value in lxc_volumes(dict(config)).values():
            volume, options = drive_options(value, "volume")
            mptype = ("device" if volume.startswith("/dev/") else "bind") if volume.startswith("/") else "volume"
            replicate = options.get("replicate", "1") not in ("0", "no")
            found.append((volume, {"type": mptype, "replicate": replicate}))
    found.extend((str(value), {"type": "volume", "replicate": True}) for value in unused_volumes(dict(config)).values())
    return found


def _checked_volume(
    cluster: FakeCluster, guest: Guest, volume: str, attrs: dict[str, Any], cleanup: bool, noerr: bool
) -> str | None:
    if guest.kind == "qemu":
        if attrs.get("cdrom"):
            return None
        if not cleanup and not attrs["replicate"]:
            return None
        if volume.startswith("/"):
            if cleanup or noerr:
                return None
            raise PVEError(f"unable to replicate local file/device '{volume}'")
    elif attrs.get("type", "volume") != "volume":
        if not attrs["replicate"]:
            return None
        raise PVEError(f"unable to replicate mountpoint type '{attrs['type']}'")
    storeid, sep, _ = volume.partition(":")
    if not sep:
        if noerr:
            return None
        raise PVEError(f"unable to parse volume ID '{volume}'")
    storage = cluster.storage(storeid)
    if storage is None:
        raise PVEError(f"storage '{storeid}' does not exist")
    if storage.shared:
        return None
    parsed = parse_volid(volume)
    if parsed is None or parsed.vmid != guest.vmid:
        return None
    if guest.kind == "lxc" and not cleanup and not attrs["replicate"]:
        return None
    if not volume_has_feature(storage.plugintype, "replicate", volume):
        if cleanup or noerr:
            return None
        raise PVEError(f"missing replicate feature on volume '{volume}'")
    return volume


def volume_size(guest: Guest, volid: str) -> int:
    """The volume's size as its config line gives it (``size=32G``)."""
    for config in (guest.config, *guest.snapshots.values()):
        for value in config.values():
            if isinstance(value, str) and drive_options(value, "volume" if guest.kind == "lxc" else "file")[0] == volid:
                return parse_size(value)
    return 0


# ---- the jobs' configuration (PVE/API2/ReplicationConfig.pm) ------------------------------------------------------


def _members(cluster: FakeCluster) -> set[str]:
    return {node.name for node in cluster.nodes}


def create_job(cluster: FakeCluster, jobid: str, params: Mapping[str, Any]) -> None:
    """``POST /cluster/replication`` after its permission check (ReplicationConfig.pm 133-192): the guest and the
    target exist, the source is the guest's node and not the target, the guest has volumes to replicate; then, in the
    lock, a taken id, the options (``check_config``) and one job per guest and target (``write_config`` 166-188)."""
    guest_id, _, parsed_id = parse_job_id(jobid)
    values = {key: value for key, value in params.items() if key not in ("id", "type")}
    guest = cluster.find_guest(guest_id)
    if guest is None:
        raise PVEError(f"Guest '{guest_id}' does not exist.")
    target = str(values.get("target"))
    if target not in _members(cluster):
        raise PVEError(f"Target '{target}' does not exist.")
    source = guest.node
    if values.get("source") is not None and values["source"] != source:
        raise PVEError(f"Source '{values['source']}' does not match current node of guest '{guest_id}' ({source})")
    values.setdefault("source", source)
    if target == source:
        raise PVEError("Source and target must not be identical")
    if not replicatable_volumes(cluster, guest):
        raise PVEError("No replicatable volumes found")
    records = _records(cluster)
    if jobid in records:
        raise PVEError(f"replication job '{jobid}' already exists")
    _check_schedule(values)
    _unique_target(cluster, parsed_id, guest_id, target)
    records[parsed_id] = {"type": str(params.get("type") or "local"), **_stored(values)}
    cluster.revision.touch()
    cluster.replication.start_scheduler()


def _stored(values: Mapping[str, Any]) -> dict[str, Any]:
    stored: dict[str, Any] = {}
    for key, value in values.items():
        if key not in OPTIONS:
            raise PVEError(f"unexpected property '{key}'")
        if key == "rate" and isinstance(value, float) and value.is_integer():
            value = int(value)
        stored[key] = value
    return stored


def _check_schedule(values: Mapping[str, Any]) -> None:
    if values.get("schedule") is not None:
        try:
            CalendarEvent.parse(str(values["schedule"]))
        except PVEError as error:
            raise ParameterError({"schedule": str(error)}) from error


def _unique_target(cluster: FakeCluster, jobid: str, guest: int, target: str) -> None:
    for other, record in _records(cluster).items():
        if other != jobid and parse_job_id(other)[0] == guest and record.get("target") == target:
            raise PVEError(f"replication job for guest '{guest}' to target 'local/{target}' already exists")


def update_job(
    cluster: FakeCluster, jobid: str, params: Mapping[str, Any], delete: str | None, given_digest: str | None
) -> None:
    """``PUT /cluster/replication/{id}`` (ReplicationConfig.pm 207-254): the digest, the job, ``check_config``
    (a fixed option cannot change), then ``delete``'s options."""
    if given_digest and given_digest != digest(cluster):
        raise PVEError("detected modified configuration - file changed by other user? Try again.")
    record = _records(cluster).get(jobid)
    if record is None:
        raise PVEError(f"no such job '{jobid}'")
    values = {key: value for key, value in params.items() if key not in ("id", "digest", "delete")}
    for key in values:
        if key in OPTIONS and OPTIONS[key][1]:
            raise PVEError(f"can't change value of fixed parameter '{key}'")
    _check_schedule(values)
    record.update(_stored(values))
    for key in [key for key in re.split(r"[,;\s]+", delete or "") if key]:
        if key not in OPTIONS:
            raise PVEError(f"no such option '{key}'")
        optional, fixed = OPTIONS[key]
        if not optional:
            raise PVEError(f"unable to delete required option '{key}'")
        if fixed:
            raise PVEError(f"unable to delete fixed option '{key}'")
        record.pop(key, None)
    cluster.revision.touch()


def delete_job(cluster: FakeCluster, jobid: str, keep: bool, force: bool) -> None:
    """``DELETE /cluster/replication/{id}`` (ReplicationConfig.pm 286-324): ``force`` drops the entry and cleans
    nothing; otherwise the job is marked for removal (``remove_job=full``, ``local`` with ``keep``), which the source
    node's next run carries out."""
    records = _records(cluster)
    if force:
        if keep:
            raise ParameterError({"keep": "conflicts with parameter 'force'"})
        records.pop(jobid, None)
    else:
        record = records.get(jobid)
        if record is None:
            raise PVEError(f"no such job '{jobid}'")
        record["remove_job"] = "full" if not keep and record.get("type", "local") == "local" else "local"
    cluster.revision.touch()


def check_for_existing_jobs(cluster: FakeCluster, vmid: int) -> None:
    """``check_for_existing_jobs`` (ReplicationConfig.pm 216-230): a guest with a job is not destroyed without
    ``purge`` (qemu-server API2/Qemu.pm 2837-2840, pve-container API2/LXC.pm 869-872)."""
    for jobid in job_ids(cluster):
        if parse_job_id(jobid)[0] == vmid:
            raise PVEError(f"There is a replication job '{jobid}' for guest '{vmid}' - Please remove that first.")


def remove_vmid_jobs(cluster: FakeCluster, vmid: int) -> None:
    """``remove_vmid_jobs`` (ReplicationConfig.pm 298-310): a purged guest's jobs go, nothing is cleaned up."""
    records = _records(cluster)
    for jobid in [jobid for jobid in records if parse_job_id(jobid)[0] == vmid]:
        del records[jobid]
    cluster.revision.touch()


# ---- state, runs and logs -----------------------------------------------------------------------------------------


@dataclass
class ReplicationState:
    """What the nodes keep outside ``replication.cfg``: each node's state file (``pve-replication-state.json``:
    guest -> ``local/<target>`` -> state), each node's job logs and the ZFS snapshots of the volumes involved."""

    cluster: FakeCluster
    #: node -> guest -> target id -> state (``last_sync``, ``last_try``, ``fail_count``, ``error``, ``duration`` ...)
    states: dict[str, dict[int, dict[str, dict[str, Any]]]] = field(default_factory=dict)
    #: (node, job id) -> the lines of ``/var/log/pve/replicate/<job>`` on that node (the last run's)
    logs: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    #: (node, volid) -> snapshot name -> ``volume_snapshot_info`` (``id``: the GUID, ``timestamp``)
    snapshots: dict[tuple[str, str], dict[str, dict[str, Any]]] = field(default_factory=dict)
    _ticking: bool = False

    def __post_init__(self) -> None:
        self.start_scheduler()

    def start_scheduler(self) -> None:
        """Run each node's pvescheduler at every minute the clock passes (once there is a job to run)."""
        if not self._ticking:
            self._ticking = True
            self.cluster.clock.every(_SCHEDULER_PERIOD, self._tick, busy=self._due)

    def _tick(self, moment: int) -> None:
        for node in self.cluster.nodes:
            if node.online:
                self.run_jobs(node.name, moment)

    def _due(self) -> bool:
        now = self.cluster.clock.now()
        return any(
            node.online and any(0 < job["next_sync"] <= now for job in self.job_status(node.name).values())
            for node in self.cluster.nodes
        )

    def job_state(self, node: str, jobcfg: Mapping[str, Any]) -> dict[str, Any]:
        """``extract_job_state`` (ReplicationState.pm 46-63): the job's state on ``node`` with its defaults."""
        state = self.states.get(node, {}).get(int(jobcfg["guest"]), {}).get(f"local/{jobcfg['target']}")
        state = dict(state or {})
        for key in ("last_iteration", "last_try", "last_sync", "fail_count"):
            state.setdefault(key, 0)
        return state

    def _write_state(self, node: str, jobcfg: Mapping[str, Any], state: dict[str, Any] | None) -> None:
        guest, tid = int(jobcfg["guest"]), f"local/{jobcfg['target']}"
        per_guest = self.states.setdefault(node, {}).setdefault(guest, {})
        if state is None:
            per_guest.pop(tid, None)
            if not per_guest:
                del self.states[node][guest]
        else:
            per_guest[tid] = state
        self.cluster.revision.touch()

    def job_status(self, node: str, get_disabled: bool = False) -> dict[str, dict[str, Any]]:
        """``job_status`` (ReplicationState.pm 238-314): the jobs of the guests on ``node`` with their state and
        ``next_sync``; a job whose guest came to the node from elsewhere gets the node as source (and the old source
        as target where the node was the target), as after a migration or an HA recovery."""
        cluster = self.cluster
        jobs: dict[str, dict[str, Any]] = {}
        for jobid in job_ids(cluster):
            record = _records(cluster).get(jobid)
            if record is None:
                continue
            guest = cluster.find_guest(parse_job_id(jobid)[0])
            if guest is None or guest.node != node:
                continue
            if record.get("source") is None:
                record["source"] = node
            if record["source"] != node:
                self._switch_target(guest, node, str(record["source"]))
            jobcfg = job(cluster, jobid)
            assert jobcfg is not None
            target = jobcfg["target"]
            if not jobcfg.get("remove_job") and target == node:
                continue
            if not jobcfg.get("remove_job") and not get_disabled and _truthy(jobcfg.get("disable")):
                continue
            state = self.job_state(node, jobcfg)
            jobcfg["state"] = state
            jobcfg["vmtype"] = guest.kind
            jobcfg["next_sync"] = self._next_sync(jobcfg, state)
            jobs[jobid] = jobcfg
        return jobs

    def _next_sync(self, jobcfg: Mapping[str, Any], state: Mapping[str, Any]) -> int:
        if jobcfg.get("remove_job"):
            return 1  # "lowest possible value"
        fail_count = int(state["fail_count"])
        if fail_count:
            target = self.cluster.find_node(str(jobcfg["target"]))
            if target is not None and target.online:
                return int(state["last_try"]) + 60 * (5 * fail_count if fail_count <= 3 else 30)
            return 0
        schedule = str(jobcfg.get("schedule") or DEFAULT_SCHEDULE)
        return CalendarEvent.parse(schedule).next_after(int(state["last_try"]), self.cluster.tzinfo) or 0

    def _switch_target(self, guest: Guest, node: str, old_source: str) -> None:
        """``switch_replication_job_target_nolock`` (ReplicationConfig.pm 263-274) for a guest now on ``node``; the
        volumes the guest left on the old source stay there as the copies the reversed job sends to, and the copies
        the node held are the guest's own disks now."""
        for jobid, record in _records(self.cluster).items():
            if parse_job_id(jobid)[0] != guest.vmid or record.get("type", "local") != "local":
                continue
            if record.get("target") == node:
                record["target"] = old_source
                self._swap_copies(guest, node, old_source)
            record["source"] = node
        # extract_vmid_tranfer_state: the state moves along with the guest
        moved = self.states.get(old_source, {}).pop(guest.vmid, None)
        if moved is not None:
            moved = {(f"local/{old_source}" if tid == f"local/{node}" else tid): state for tid, state in moved.items()}
            self.states.setdefault(node, {})[guest.vmid] = moved
        self.cluster.revision.touch()

    def _swap_copies(self, guest: Guest, node: str, old_source: str) -> None:
        for storage in self.cluster.storages:
            for volume in [v for v in storage.volumes if v.node == node and v.vmid == guest.vmid]:
                storage.volumes.remove(volume)
                if storage.available_on(old_source):  # each side keeps its ZFS snapshots (keyed by node)
                    storage.volumes.append(Volume(volume.volid, volume.content, volume.size, volume.format,
                                                  volume.ctime, vmid=guest.vmid, node=old_source))  # fmt: skip

    def schedule_now(self, node: str, jobid: str) -> None:
        """``schedule_job_now`` (ReplicationState.pm 344-370): a job with a state is tried again at once
        (``last_try`` 0); one that never ran is due anyway."""
        jobcfg = job(self.cluster, jobid)
        if jobcfg is None:
            raise PVEError(f"no such replication job '{jobid}'")
        stored = self.states.get(node, {}).get(int(jobcfg["guest"]), {}).get(f"local/{jobcfg['target']}")
        if stored is None:
            return
        state = self.job_state(node, jobcfg)
        state["last_try"] = 0
        self._write_state(node, jobcfg, state)
        self.start_scheduler()

    def run_jobs(self, node: str, now: int) -> None:
        """``run_jobs`` (API2/Replication.pm 140-168): the node's due jobs one by one, each once this round,
        ordered by ``get_next_job`` (ReplicationState.pm 316-342); a failed run is the job's error, not the round's."""
        self._purge_old_states(node)
        while True:
            jobs = self.job_status(node)
            due = [
                jobcfg for jobcfg in jobs.values()
                if jobcfg["state"]["last_iteration"] < now and jobcfg["next_sync"] and now >= jobcfg["next_sync"]
            ]  # fmt: skip
            if not due:
                return
            due.sort(key=lambda j: (j["state"]["last_iteration"], j["next_sync"], j["guest"], j["id"]))
            _Run(self, node, due[0], now).run()

    def _purge_old_states(self, node: str) -> None:
        """``purge_old_states``: forget the state of jobs no longer configured for guests on the node."""
        used: set[tuple[int, str]] = set()
        for jobid in job_ids(self.cluster):
            record = _records(self.cluster)[jobid]
            guest = self.cluster.find_guest(parse_job_id(jobid)[0])
            if guest is not None and guest.node == node:
                used.add((guest.vmid, f"local/{record.get('target')}"))
        states = self.states.get(node, {})
        for vmid in list(states):
            for tid in [tid for tid in states[vmid] if (vmid, tid) not in used]:
                del states[vmid][tid]
            if not states[vmid]:
                del states[vmid]

    def log_lines(self, node: str, jobid: str) -> list[str] | None:
        """The job's log file on ``node``, ``None`` when it has none (the job never ran there)."""
        return self.logs.get((node, jobid))

    def status_entry(self, jobcfg: dict[str, Any]) -> dict[str, Any]:
        """``$extract_job_status`` (API2/Replication.pm 170-190): the job with its state's figures."""
        data = {key: value for key, value in jobcfg.items() if key != "state"}
        state = jobcfg.get("state") or {}
        for key in ("last_sync", "last_try", "fail_count", "error", "duration"):
            if state.get(key) is not None:
                data[key] = state[key]
        return data


def _truthy(value: Any) -> bool:
    return str(value).strip() not in ("", "0", "None", "false", "no", "off")


class _ReplicationError(Exception):
    """A run's error, as ``die`` leaves it (the text goes into the state's ``error`` and the log)."""


class _Run:
    """One ``run_replication`` of a job on its source node (Replication.pm 479-535, ``replicate`` 273-477)."""

    def __init__(self, owner: ReplicationState, node: str, jobcfg: dict[str, Any], start: int) -> None:
        self.owner = owner
        self.cluster = owner.cluster
        self.node = node
        self.jobcfg = jobcfg
        self.jobid = str(jobcfg["id"])
        self.start = start
        self.elapsed = 0.0
        self.lines: list[str] = []
        self.rng = figures.seeded(self.cluster.seed, "replication", self.jobid, start)

    def log(self, message: str) -> None:
        moment = datetime.fromtimestamp(self.start + int(self.elapsed), tz=self.cluster.tzinfo)
        self.lines.append(f"{moment:%Y-%m-%d %H:%M:%S} {self.jobid}: {message}")

    def run(self) -> None:
        state = self.owner.job_state(self.node, self.jobcfg)
        # record_job_start (ReplicationState.pm 137-148)
        state.update(last_node=self.node, last_try=self.start, last_iteration=self.start)
        state.setdefault("storeid_list", [])
        self.owner._write_state(self.node, self.jobcfg, state)
        self.log("start replication job")
        error = None
        try:
            self.replicate(state)
        except (_ReplicationError, PVEError) as failure:
            error = str(failure).rstrip("\n")
        self.elapsed += 0.1 + self.rng.random() / 3
        if error is not None:
            self.log(f"end replication job with error: {error}")
        else:
            self.log("end replication job")
        # record_job_end (ReplicationState.pm 169-191)
        state["duration"] = round(self.elapsed, 6)
        if error is not None:
            state["fail_count"] = int(state["fail_count"]) + 1
            state["error"] = error
            self.owner._write_state(self.node, self.jobcfg, state)
        elif self.jobcfg.get("remove_job"):
            self.owner._write_state(self.node, self.jobcfg, None)
        else:
            state.update(last_sync=self.start, fail_count=0)
            state.pop("error", None)
            self.owner._write_state(self.node, self.jobcfg, state)
        self.owner.logs[(self.node, self.jobid)] = self.lines

    # ---- replicate ----

    def replicate(self, state: dict[str, Any]) -> None:
        cluster, jobcfg, jobid = self.cluster, self.jobcfg, self.jobid
        last_sync = int(state["last_sync"])
        if self.start <= last_sync:
            raise _ReplicationError(f"start time before last sync ({self.start} <= {last_sync}) - abort sync")
        guest = cluster.guest(int(jobcfg["guest"]))
        running = guest.running
        freeze = running and (guest.kind == "lxc" or _agent_freezes(guest.config.get("agent")))
        volumes = replicatable_volumes(cluster, guest, cleanup=jobcfg.get("remove_job") is not None)
        shown = (guest.pid or 1) if guest.kind == "qemu" and running else int(running)
        self.log(f"guest => {'VM' if guest.kind == 'qemu' else 'CT'} {guest.vmid}, running => {shown}")
        self.log("volumes => " + ",".join(volumes))
        state["storeid_list"] = [sid for sid in state.get("storeid_list", []) if cluster.storage(sid) is not None]
        target = str(jobcfg["target"])
        if jobcfg.get("remove_job"):
            self.remove(state, volumes, target)
            return
        base = self.find_common_snapshot(volumes, state, last_sync, target)
        state["storeid_list"] = sorted({volid.split(":", 1)[0] for volid in volumes})
        if freeze:
            self.log("freeze guest filesystem")
        sync_snap = f"__replicate_{jobid}_{self.start}__"
        for volid in volumes:
            self.log(f"create snapshot '{sync_snap}' on {volid}")
            self._snapshot(self.node, volid, sync_snap)
        if freeze:
            self.log("thaw guest filesystem")
        rate = jobcfg.get("rate")
        self.log(f"using secure transmission, rate limit: {f'{_number(rate)} MByte/s' if rate else 'none'}")
        for volid in volumes:
            if volid in base:
                self.log(f"incremental sync '{volid}' ({base[volid]} => {sync_snap})")
            else:
                self.log(f"full sync '{volid}' ({sync_snap})")
            self.send(guest, volid, base.get(volid), sync_snap, rate, last_sync)
        # record_sync_end, then the previous snapshots go on both sides
        state["last_sync"] = self.start
        self.owner._write_state(self.node, jobcfg, state)
        previous = f"__replicate_{jobid}_{last_sync}__"
        for volid in volumes:
            if self.owner.snapshots.get((self.node, volid), {}).pop(previous, None) is not None:
                self.log(f"delete previous replication snapshot '{previous}' on {volid}")
        for volid in volumes:
            for snap in self._stale(target, volid, sync_snap):
                del self.owner.snapshots[(target, volid)][snap]
                self.log(f"(remote_finalize_local_job) delete stale replication snapshot '{snap}' on {volid}")

    def _snapshot(self, node: str, volid: str, name: str) -> None:
        guid = int(hashlib.sha1(f"{node}:{volid}@{name}".encode()).hexdigest()[:16], 16)
        self.owner.snapshots.setdefault((node, volid), {})[name] = {"id": str(guid), "timestamp": self.start}

    def _stale(self, node: str, volid: str, keep: str | None) -> list[str]:
        """The job's replication snapshots of ``volid`` on ``node`` other than ``keep`` (``prepare``'s stale ones)."""
        prefix = f"__replicate_{self.jobid}_"
        return [s for s in self.owner.snapshots.get((node, volid), {}) if s.startswith(prefix) and s != keep]

    def ssh_command(self, target: str, args: list[str]) -> str:
        """``ssh_info_to_command`` (pve-cluster SSHInfo.pm) as ``run_command`` names it in its error."""
        node = self.cluster.node(target)
        options = ["-e", "none", "-o", "'BatchMode=yes'", "-o", f"'HostKeyAlias={target}'"]
        if self.cluster.release.at_least("8.2"):
            options += ["-o", f"'UserKnownHostsFile=/etc/pve/nodes/{target}/ssh_known_hosts'",
                        "-o", "'GlobalKnownHostsFile=none'"]  # fmt: skip
        return " ".join(["/usr/bin/ssh", *options, f"root@{node.ip}", "--", *args])

    def remote_prepare(
        self, target: str, volumes: list[str], scan: list[str], last_sync: int, force: bool
    ) -> dict[str, dict[str, dict[str, Any]]]:
        """``remote_prepare_local_job``: ``pvesr prepare-local-job`` on the target over ssh (pvesr.pm 89-170)."""
        args = ["pvesr", "prepare-local-job", self.jobid]
        if scan:
            args += ["--scan", ",".join(scan)]
        args += [*volumes, "--last_sync", str(last_sync)]
        if force:
            args.append("--force")
        command = self.ssh_command(target, args)
        node = self.cluster.find_node(target)
        if node is None or not node.online:
            ip = node.ip if node is not None else target
            self.log(f"(remote_prepare_local_job) ssh: connect to host {ip} port 22: No route to host")
            raise _ReplicationError(f"command '{command}' failed: exit code 255")
        try:
            return self._prepare_on_target(target, volumes, scan, last_sync)
        except PVEError as error:
            self.log(f"(remote_prepare_local_job) {str(error).rstrip()}")
            raise _ReplicationError(f"command '{command}' failed: exit code 255") from error

    def _prepare_on_target(
        self, target: str, volumes: list[str], scan: list[str], last_sync: int
    ) -> dict[str, dict[str, dict[str, Any]]]:
        vmid = int(self.jobcfg["guest"])
        guest = self.cluster.find_guest(vmid)
        if guest is not None and guest.node == target:
            raise PVEError(f"guest '{vmid}' is on local node")
        storeids: set[str] = set()
        for storeid in scan:
            storage = self.cluster.storage(storeid)
            if storage is None or not storage.enabled or not storage.available_on(target):
                continue
            if storage.plugintype not in REPLICATABLE_TYPES:
                raise PVEError(f"storage '{storeid}' is not replicatable")
            storeids.add(storeid)
        for volid in volumes:
            storeid = volid.split(":", 1)[0]
            storage = check_enabled(self.cluster, storeid, target)
            if storage.plugintype not in REPLICATABLE_TYPES:
                raise PVEError(f"storage '{storeid}' is not replicatable")
            storeids.add(storeid)
        keep = f"__replicate_{self.jobid}_{last_sync}__"
        found: dict[str, dict[str, dict[str, Any]]] = {}
        for storeid in sorted(storeids):
            storage = self.cluster.storage(storeid)
            assert storage is not None
            for copy in [v for v in storage.volumes if v.node == target and v.vmid == vmid]:
                snaps = self.owner.snapshots.setdefault((target, copy.volid), {})
                removal_ok = last_sync == 1 or (last_sync != 0 and keep in snaps)
                cleaned = False
                for snap in self._stale(target, copy.volid, None if last_sync == 1 else keep):
                    if removal_ok:
                        del snaps[snap]
                        cleaned = True
                        self.log(f"(remote_prepare_local_job) delete stale replication snapshot '{snap}' on "
                                 f"{copy.volid}")  # fmt: skip
                stale = cleaned or any(s.startswith(f"__replicate_{self.jobid}_") for s in snaps)
                if copy.volid not in volumes and stale:
                    self.log(f"(remote_prepare_local_job) {self.jobid}: delete stale volume '{copy.volid}'")
                    storage.volumes.remove(copy)
                    self.owner.snapshots.pop((target, copy.volid), None)
                    self.cluster.revision.touch()
                    continue
                found[copy.volid] = dict(snaps)
        return found

    def find_common_snapshot(
        self, volumes: list[str], state: dict[str, Any], last_sync: int, target: str
    ) -> dict[str, str]:
        """``find_common_replication_snapshot`` (Replication.pm 29-117): the local stale snapshots go, the target
        prepares, and each volume the target has needs a snapshot both sides share."""
        keep = f"__replicate_{self.jobid}_{last_sync}__"
        for volid in volumes:
            snaps = self.owner.snapshots.get((self.node, volid), {})
            stale = self._stale(self.node, volid, keep)
            removal_ok = last_sync != 0 and keep in snaps
            if not removal_ok and last_sync > 1 and stale:
                self.log(f"expected snapshot {keep} not present for {volid}, not removing others")
            for snap in stale if removal_ok else []:
                self.log(f"delete stale replication snapshot '{snap}' on {volid}")
                del snaps[snap]
        remote = self.remote_prepare(target, volumes, list(state.get("storeid_list", [])), last_sync, False)
        base: dict[str, str] = {}
        missing = []
        for volid in volumes:
            local, there = self.owner.snapshots.get((self.node, volid), {}), remote.get(volid)
            if there is None:
                continue
            common = [s for s in local if s in there and local[s]["id"] == there[s]["id"]]
            if keep in common:
                base[volid] = keep
            elif common:
                base[volid] = max(common, key=lambda s: int(local[s]["timestamp"]))
            else:
                missing.append(volid)
        if missing:
            raise _ReplicationError(
                f"No common base snapshot on volume(s) {','.join(missing)}\nPlease remove the problematic volume(s) "
                f"from the replication target or delete and re-create the whole job {self.jobid}"
            )
        return base

    def send(self, guest: Guest, volid: str, base: str | None, snap: str, rate: Any, last_sync: int) -> None:
        """``storage_migrate`` of one volume (ZFSPoolPlugin ``volume_export``: ``zfs send -RpvU``; the target's
        ``pvesm import`` answers ``successfully imported``): the copy on the target storage, with the snapshot."""
        storage = self.cluster.storage(volid.split(":", 1)[0])
        assert storage is not None
        size = volume_size(guest, volid)
        written = size // 3 + guest.vmid  # what a sparse zvol holds (as the storage's content lists it)
        if base is None:
            amount = max(written, 1)
            self.log(f"full send of {_dataset(storage.options, volid)}@{snap} estimated size is {_nicenum(amount)}")
        else:
            rate_of_change = self.rng.randrange(2_000, 60_000) if guest.running else 0
            amount = 624 + rate_of_change * max(self.start - last_sync, 0)
            self.log(f"send from @{base} to {_dataset(storage.options, volid)}@{snap} estimated size is "
                     f"{_nicenum(amount)}")  # fmt: skip
        self.log(f"total estimated size is {_nicenum(amount)}")
        speed = min(self.rng.randrange(180, 420) * 1024**2, int(float(rate) * 1_000_000) if rate else 1 << 62)
        self.elapsed += 0.5 + amount / speed
        self.log(f"successfully imported '{volid}'")
        target = str(self.jobcfg["target"])
        content = "images" if guest.kind == "qemu" else "rootdir"
        parsed = parse_volid(volid)
        fmt = parsed.format if parsed is not None else "raw"
        if not any(v.volid == volid and v.node == target for v in storage.volumes):
            storage.volumes.append(Volume(volid, content, size, fmt, self.start, vmid=guest.vmid, node=target))
        sent = self.owner.snapshots[(self.node, volid)][snap]
        self.owner.snapshots.setdefault((target, volid), {})[snap] = dict(sent)
        self.cluster.revision.touch()

    def remove(self, state: dict[str, Any], volumes: list[str], target: str) -> None:
        """The ``remove_job`` branch of ``replicate`` (Replication.pm 322-354)."""
        mode = str(self.jobcfg["remove_job"])
        self.log(f"start job removal - mode '{mode}'")
        if mode == "full" and target != self.node:
            stores = sorted({volid.split(":", 1)[0] for volid in volumes} | set(state.get("storeid_list", [])))
            self.remote_prepare(target, [], stores, 1, True)
        for volid in volumes:
            for snap in self._stale(self.node, volid, None):
                self.log(f"delete stale replication snapshot '{snap}' on {volid}")
                del self.owner.snapshots[(self.node, volid)][snap]
        _records(self.cluster).pop(self.jobid, None)
        self.cluster.revision.touch()
        self.log("job removed")


def _agent_freezes(agent: Any) -> bool:
    """``guest_fs_freeze_applicable`` for a running VM: the agent is enabled and freezing not turned off."""
    if agent is None:
        return False
    head, _, rest = str(agent).partition(",")
    options = dict(item.partition("=")[::2] for item in rest.split(",") if item)
    enabled = options.get("enabled", head if "=" not in head else "0")
    freeze = options.get("freeze-fs", options.get("freeze-fs-on-backup", "1"))
    return _truthy(enabled) and _truthy(freeze)


def _dataset(options: Mapping[str, Any], volid: str) -> str:
    return f"{options.get('pool', 'rpool/data')}/{volid.split(':', 1)[1]}"


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)


def _nicenum(size: int) -> str:
    """ZFS's ``zfs_nicenum``: 1024-based, three significant digits at most (``3.03G``, ``624B``)."""
    units = "BKMGTPE"
    index = 0
    value = float(size)
    while value >= 1024 and index < len(units) - 1:
        value /= 1024
        index += 1
    if index == 0:
        return f"{size}B"
    for decimals in (2, 1, 0):
        text = f"{value:.{decimals}f}"
        if len(text.replace(".", "")) <= 3 or decimals == 0:
            return f"{text}{units[index]}"
    return f"{value:.0f}{units[index]}"
