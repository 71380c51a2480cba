"""A ``vzdump`` run: the worker of ``POST /nodes/{node}/vzdump`` (and of a backup job), guest after guest.

What the worker does and logs, in PVE's order:

- pve-manager 14a22df35955d97dfc1af21e117dc894a29df0c9 ``PVE/VZDump.pm``: ``new`` 589-725 (defaults, the storage's
  checks: enabled, on this node, ``backup`` content; its ``prune-backups``), ``exec_backup`` 1391-1494 (the job's
  lines, ``VM.Backup`` per guest, ``job errors``), ``exec_backup_task`` 892-1389 (the HA check of stop mode, the
  backup limit, the archive's name, the mode, notes, protection, pruning, the guest restarted or resumed),
  ``$generate_notes`` 119-146;
- pve-guest-common 4a8f6cbf ``src/PVE/VZDump/Plugin.pm`` ``debugmsg``: ``INFO: ``/``ERROR: `` before each line,
  ``WARN: `` counted as the task's warnings;
- qemu-server e6352be6 ``src/PVE/VZDump/QemuServer.pm``: ``prepare`` 64-172 (VM name, included and excluded disks),
  ``archive_vma``/``archive_pbs`` (QMP backup job, ``resuming VM again``), ``$query_backup_status_loop`` 376-470
  (the progress lines), ``enforce_vm_running_for_backup`` 1167-1186 and ``restore_vm_power_state`` 1205-1222;
- pve-container 94f55852 ``src/PVE/VZDump/LXC.pm``: ``prepare`` 124-224 (mount points), ``snapshot`` 238-274,
  ``cleanup`` 565-600 (the ``vzdump`` snapshot removed), GNU tar's ``--totals`` line.

The archive is a :class:`~pytest_pvemock.model.storage.Volume` made by :func:`backups.add_backup` with the run's
compression, notes and protection; pruning removes what :func:`backups.prune_selection` marks ``remove``.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import PVEError
from pytest_pvemock.model import figures
from pytest_pvemock.model.backup_jobs import backup_volumes
from pytest_pvemock.model.backups import KEEP_OPTIONS, add_backup, parse_keep, prune_selection, remove_backups
from pytest_pvemock.model.corosync import is_cluster
from pytest_pvemock.model.guest_config import drive_options, parse_size
from pytest_pvemock.model.guest_config import format_size as schema_format_size
from pytest_pvemock.model.storage_features import volume_has_feature

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster
    from pytest_pvemock.model.guests import Guest
    from pytest_pvemock.model.storage import Storage, Volume
    from pytest_pvemock.model.tasks import Task

MIB = 1024 * 1024
#: What a backup reads per second from a local disk in the fake (PVE logs a few hundred MiB/s on SSDs).
READ_MIB_PER_SECOND = 400
#: Seconds a guest's backup takes outside the copy (config, QMP job, notes, cleanup).
OVERHEAD = 2
#: Archive size per byte of guest data by compression (``compressor_info``: none, lzo, gzip, zstd).
RATIO = {"0": 1.0, "lzo": 0.62, "1": 0.62, "gzip": 0.48, "zstd": 0.45}
EXTENSION = {"lzo": "lzo", "1": "lzo", "gzip": "gz", "zstd": "zst"}
#: ``read_vzdump_defaults`` of a node whose /etc/vzdump.conf is all comments (the schema's defaults).
DEFAULTS: dict[str, Any] = {"mode": "snapshot", "compress": "0", "remove": 1, "ionice": 7, "stopwait": 10}


@dataclass
class VzdumpRun:
    """One run's options as ``PVE::VZDump->new`` settles them, and what it learned running."""

    node: str
    authid: str
    cmdline: str
    vmids: list[int]
    skiplist: list[int]
    options: dict[str, Any]
    storage: Storage | None = None
    keep: dict[str, int] = field(default_factory=lambda: {"keep-all": 1})
    errors: int = 0
    #: ``rpcenv->check(..., /vms/<vmid>, VM.Backup, $all)``: raises, or False to skip the guest silently.
    may_back_up: Callable[[int], bool] = lambda vmid: True
    #: ``get_max_protected_backups``: the storage's ``max-protected-backups``, -1 or 5 by Datastore.Allocate.
    max_protected: int = 5

    @property
    def mode(self) -> str:
        return str(self.options.get("mode") or DEFAULTS["mode"])

    @property
    def compress(self) -> str:
        return str(self.options.get("compress", DEFAULTS["compress"]))

    @property
    def remove(self) -> bool:
        return bool(int(self.options.get("remove", DEFAULTS["remove"]))) and not self.keep.get("keep-all")


def command_line(params: dict[str, Any]) -> str:
    """pve-guest-common ``PVE::VZDump::Common::command_line``: ``vzdump`` with the VMIDs, then ``--key value``."""
    words = ["vzdump"]
    if params.get("vmid"):
        words.extend(part for part in str(params["vmid"]).replace(";", ",").replace(" ", ",").split(",") if part)
    for key, value in params.items():
        if key in ("id", "vmid", "starttime", "dow", "stdout", "enabled", "job-id") or value in (None, ""):
            continue
        words.append(f"--{key} {_shellquote(str(value))}")
    return " ".join(words)


def _shellquote(text: str) -> str:
    """PVE::Tools::shellquote: bare when safe, else in single quotes."""
    if text and all(char.isalnum() or char in "-_./:=,@+%" for char in text):
        return text
    return "'" + text.replace("'", "'\"'\"'") + "'"


def verify_notes_template(template: str) -> None:
    """VZDump.pm ``$verify_notes_template`` 100-117: no line feed, known escapes and ``{{variables}}`` only."""
    import re

    if "\n" in template:
        raise PVEError("contains a line feed")
    problems = [
        f"escape sequence '\\{match[1]}' at char {match.end() - 2}"
        for match in re.finditer(r"\\(.)", template)
        if match[1] not in ("n", "\\")
    ]
    problems += [
        f"variable '{match[1]}' at char {match.end() - len(match[1])}"
        for match in re.finditer(r"\{\{([^\s{}]+)\}\}", template)
        if match[1] not in ("cluster", "guestname", "node", "vmid")
    ]
    if problems:
        raise PVEError("found unknown: " + ", ".join(problems))


def generate_notes(cluster: FakeCluster, template: str, guest: Guest, node: str) -> str:
    """VZDump.pm ``$generate_notes``: ``\\n`` and ``\\\\`` unescaped, then the four variables expanded."""
    import re

    verify_notes_template(template)
    hostname = guest.config.get("hostname") or f"CT{guest.vmid}" if guest.kind == "lxc" else guest.config.get("name")
    info = {
        "cluster": cluster.name if is_cluster(cluster) else "standalone node",
        "guestname": str(hostname or f"VM {guest.vmid}"),
        "node": node,
        "vmid": str(guest.vmid),
    }
    text = re.sub(r"\\(.)", lambda match: "\\" if match[1] == "\\" else "\n", template)
    return re.sub(r"\{\{(cluster|guestname|node|vmid)\}\}", lambda match: info[match[1]], text)


def render_bytes(value: float, precision: int = 2) -> str:
    """pve-common ``PVE::Format::render_bytes``."""
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
    unit = 0
    if value > 1023:
        unit = min(int(math.log(value) / math.log(1024)), len(units) - 1)
        value /= 1024**unit
    return f"{value:.{precision}f} {units[unit]}"


def render_duration(seconds: int) -> str:
    """pve-common ``PVE::Format::render_duration`` (``1m 5s``)."""
    if not seconds:
        return "0s"
    parts = []
    for unit, length in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds // length:
            parts.append(f"{seconds // length}{unit}")
            seconds %= length
    return " ".join(parts)


def format_size(size: int) -> str:
    """VZDump.pm ``format_size`` 225-244: ``512KB``, ``300MB``, ``1.20GB``."""
    kib = size / 1024
    if kib < 1024:
        return f"{int(kib)}KB"
    mib = size / MIB
    if mib < 1024:
        return f"{int(mib)}MB"
    gib = mib / 1024
    return f"{gib:.2f}GB" if gib < 1024 else f"{gib / 1024:.2f}TB"


def _time(seconds: int) -> str:
    """VZDump.pm ``format_time``: ``00:01:05``."""
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _local(cluster: FakeCluster, moment: int) -> str:
    return dt.datetime.fromtimestamp(moment, cluster.tzinfo).strftime("%Y-%m-%d %H:%M:%S")


def guest_data(cluster: FakeCluster, guest: Guest) -> tuple[int, int]:
    """(bytes of the included disks, bytes of data on them): a container's used root file system, a VM's disks
    filled to a fraction drawn once per guest."""
    total = sum(parse_size(str(value)) for _key, value, included, _r in _included(guest) if included)
    if guest.kind == "lxc":
        used = int(guest.current_figures().get("disk") or 0) if guest.running else 0
        used = used or int(total * figures.seeded(cluster.seed, "backup-fill", guest.vmid).uniform(0.08, 0.3))
        return total, min(used, total) if total else used
    return total, int(total * figures.seeded(cluster.seed, "backup-fill", guest.vmid).uniform(0.12, 0.45))


def _included(guest: Guest) -> list[tuple[str, str, bool, str]]:
    """:func:`backup_volumes` with the drive's whole property string (its ``size=``)."""
    return [
        (key, str(guest.config.get(key, "")), included, reason) for key, _v, included, reason in backup_volumes(guest)
    ]


def guest_seconds(cluster: FakeCluster, guest: Guest) -> int:
    """Virtual seconds one guest's backup takes: its data read at :data:`READ_MIB_PER_SECOND`, plus overhead."""
    _total, data = guest_data(cluster, guest)
    return OVERHEAD + max(1, data // (READ_MIB_PER_SECOND * MIB))


@dataclass
class _GuestRun:
    """One guest's backup between its start and its end (what ``exec_backup_task`` keeps in ``$task``)."""

    vmid: int
    guest: Guest | None
    start: int
    seconds: int
    mode: str = ""
    running: bool = False
    stopped: bool = False
    suspended: bool = False
    failed: str | None = None
    target: str = ""
    locked: bool = False


def start_run(cluster: FakeCluster, run: VzdumpRun, task_id: str) -> Task:
    """Start the ``vzdump`` worker: ``new``'s checks, then each guest in VMID order (at once in instant mode, one
    after the other on the clock in manual mode); the task fails with ``job errors`` if a guest's backup failed."""
    clock, tasks = cluster.clock, cluster.tasks
    task = tasks.begin(run.node, "vzdump", task_id, run.authid)
    try:
        _settle_options(cluster, run)
        task.log.append(f"INFO: starting new backup job: {run.cmdline}")
        if run.skiplist:
            task.log.append("INFO: skip external VMs: " + ", ".join(str(vmid) for vmid in sorted(run.skiplist)))
        # exec_backup 1412-1426: VM.Backup on each existing guest (skipped silently with 'all') before any backup
        guests = [item for item in _planned(cluster, run) if item.guest is None or run.may_back_up(item.vmid)]
    except PVEError as error:  # fork_worker: the message, its newlines made blanks, is the exit status
        tasks.end(task, error.message.rstrip("\n").replace("\n", " "))
        return task
    if clock.instant:
        for item in guests:
            _begin_guest(cluster, run, task, item)
            _end_guest(cluster, run, task, item)
        tasks.end(task, _closing(run, task))
        return task
    offset = task.starttime
    for item in guests:
        item.start = offset
        clock.call_at(offset, functools.partial(_begin_guest, cluster, run, task, item))
        clock.call_at(offset + item.seconds - 1, functools.partial(_end_guest, cluster, run, task, item))
        offset += item.seconds
    clock.call_at(offset, lambda: tasks.end(task, _closing(run, task)))
    return task


def _planned(cluster: FakeCluster, run: VzdumpRun) -> list[_GuestRun]:
    planned = []
    for vmid in sorted(run.vmids):
        guest = cluster.find_guest(vmid)
        seconds = 0 if cluster.clock.instant or guest is None else guest_seconds(cluster, guest)
        planned.append(_GuestRun(vmid, guest, cluster.clock.now(), seconds))
    return planned


def _settle_options(cluster: FakeCluster, run: VzdumpRun) -> None:
    """``new``: the storage activated (enabled, on this node) and fit for backups, its retention taken."""
    options = run.options
    if options.get("dumpdir") is not None and options.get("storage") is not None:
        raise PVEError("cannot use options 'storage' and 'dumpdir' at the same time")
    if options.get("dumpdir") is not None:
        raise PVEError(f"dumpdir '{options['dumpdir']}' does not exist")
    storeid = str(options.get("storage") or "local")
    errors = []
    storage = cluster.storage(storeid)
    if storage is None:
        errors.append(f"could not activate storage '{storeid}': storage '{storeid}' does not exist")
        errors.append(f"could not get storage information for '{storeid}': storage '{storeid}' does not exist")
    else:
        if not storage.enabled:  # Storage.pm storage_check_enabled 280-290, storage_check_node 264-278
            errors.append(f"could not activate storage '{storeid}': storage '{storeid}' is disabled")
        elif not storage.available_on(run.node):
            errors.append(
                f"could not activate storage '{storeid}': storage '{storeid}' is not available on node '{run.node}'"
            )
        if "backup" not in storage.content:  # storage_info 195-223
            errors.append(
                f"could not get storage information for '{storeid}': "
                f"can't use storage '{storeid}' for backups - wrong content type"
            )
    if errors:
        raise PVEError("\n".join(errors))
    assert storage is not None
    run.storage = storage
    given = options.get("prune-backups")
    configured = storage.cfg_properties().get("prune-backups")
    if given:
        run.keep = parse_keep(str(given))
    elif configured:
        run.keep = parse_keep(str(configured))
    maximum = storage.cfg_properties().get("max-protected-backups")
    if maximum is not None:
        run.max_protected = int(maximum)


def _log(task: Task, line: str) -> None:
    task.log.append(f"INFO: {line}")


def _warn(task: Task, line: str) -> None:
    task.log.append(f"WARN: {line}")
    task.warnings += 1


def _begin_guest(cluster: FakeCluster, run: VzdumpRun, task: Task, item: _GuestRun) -> None:
    """``exec_backup_task`` up to the archive: the checks, the lock, the mode and the guest stopped or suspended."""
    now = cluster.clock.now()
    guest = item.guest if item.guest is not None and cluster.find_guest(item.vmid) is item.guest else None
    if not task.running:
        item.failed = "skip"
        return
    try:
        if guest is None:
            raise PVEError(f"unable to find VM '{item.vmid}'")
        _check_guest(cluster, run, guest)
        _log(task, f"Starting Backup of VM {item.vmid} ({guest.kind})")
        _log(task, f"Backup started at {_local(cluster, now)}")
        item.running = guest.running
        _log(task, f"status = {'running' if guest.running else 'stopped'}")
        guest.check_lock()  # AbstractConfig.pm set_lock: check_lock, then lock=backup
        guest.set_lock("backup")
        item.locked = True
        _begin_mode(cluster, run, task, item, guest)
    except PVEError as error:
        item.failed = error.message.rstrip("\n")


def _check_guest(cluster: FakeCluster, run: VzdumpRun, guest: Guest) -> None:
    """The checks ``exec_backup_task`` makes before it logs the guest's start (923-982)."""
    ha = guest.ha_status()
    if run.mode == "stop" and ha.get("managed") and ha.get("state") in ("started", "starting"):
        raise PVEError(
            "Cannot execute a backup with stop mode on a HA managed and enabled Service. "
            "Use snapshot mode or disable the Service."
        )
    limit = 0 if run.keep.get("keep-all") else sum(run.keep.values())
    protected = bool(int(run.options.get("protected") or 0))
    if (limit and not run.remove) or protected:
        assert run.storage is not None
        own = [
            volume
            for volume in run.storage.volumes
            if volume.content == "backup" and volume.vmid == guest.vmid and volume.node in (None, run.node)
            and volume.volid not in run.storage.freed and _subtype(volume) in (None, guest.kind)
        ]  # fmt: skip
        unprotected = sum(1 for volume in own if not volume.protected)
        if protected:
            if run.max_protected > -1 and len(own) - unprotected >= run.max_protected:
                raise PVEError(
                    f"The number of protected backups per guest is limited to {run.max_protected} on storage "
                    f"'{run.storage.storage}'"
                )
        elif unprotected >= limit:
            raise PVEError(
                f"There is a max backup limit of {limit} enforced by the target storage or the vzdump parameters. "
                "Either increase the limit or delete old backups."
            )


def _subtype(volume: Volume) -> str | None:
    entry = volume.content_entry()
    subtype = entry.get("subtype")
    return str(subtype) if subtype is not None else None


def _begin_mode(cluster: FakeCluster, run: VzdumpRun, task: Task, item: _GuestRun, guest: Guest) -> None:
    """The mode (``stop`` for a guest that is not running; LXC snapshot falls back to suspend), the guest stopped
    or suspended, and for a VM the QMP backup job started (which lets the VM run on at once)."""
    mode = run.mode if item.running else "stop"
    if mode == "snapshot":
        _prepare(task, guest)
        if guest.kind == "lxc" and not _snapshots_possible(cluster, guest):
            _log(task, "mode failure - some volumes do not support snapshots")
            _log(task, "trying 'suspend' mode instead")
            mode = "suspend"
    item.mode = mode
    _log(task, f"backup mode: {mode}")
    if run.options.get("bwlimit"):
        _log(task, f"bandwidth limit: {run.options['bwlimit']} KiB/s")
    _log(task, f"ionice priority: {run.options.get('ionice', DEFAULTS['ionice'])}")
    if mode == "stop":
        _prepare(task, guest)
        if item.running:
            _log(task, "stopping virtual guest")
            guest._halt()
            item.stopped = True
    elif mode == "suspend":
        _prepare(task, guest)
        tmp = f"{_dumpdir(run)}/{_basename(cluster, item, guest)}.tmp"
        if guest.kind == "lxc":  # LXC.pm rsync_vm 26-78, copy_data_phase1/2
            seconds = max(item.seconds - OVERHEAD, 1)
            _log(task, f"starting first sync /proc/{guest.pid}/root/ to {tmp}")
            _log(task, f"first sync finished - transferred {render_bytes(guest_data(cluster, guest)[1])} in {seconds}s")
        _log(task, "suspending guest")
        guest.run_state = "paused"
        item.suspended = True
        if guest.kind == "lxc":
            _log(task, f"starting final sync /proc/{guest.pid}/root/ to {tmp}")
            _log(task, "final sync finished - transferred 0.00 B in 1s")
            _log(task, "resuming guest")
            guest.run_state = "running"
            item.suspended = False
            _log(task, "guest is online again after 1 seconds")
    elif guest.kind == "lxc":
        _log(task, "create storage snapshot 'vzdump'")
    _start_archive(cluster, run, task, item, guest)
    cluster.revision.touch()


def _start_archive(cluster: FakeCluster, run: VzdumpRun, task: Task, item: _GuestRun, guest: Guest) -> None:
    """``creating ... archive``; a VM's QEMU (started paused if need be) takes the QMP backup job and runs on."""
    storage = run.storage
    assert storage is not None
    if storage.plugintype == "pbs":
        group = f"{'vm' if guest.kind == 'qemu' else 'ct'}/{guest.vmid}"
        stamp = dt.datetime.fromtimestamp(item.start, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        item.target = f"{group}/{stamp}"
        _log(task, f"creating Proxmox Backup Server archive '{item.target}'")
    else:
        ext = ("vma" if guest.kind == "qemu" else "tar") + (
            f".{EXTENSION[run.compress]}" if run.compress in EXTENSION else ""
        )
        item.target = f"{_dumpdir(run)}/{_basename(cluster, item, guest)}.{ext}"
        _log(task, f"creating vzdump archive '{item.target}'")
    if guest.kind != "qemu":
        return
    if not guest.running:  # enforce_vm_running_for_backup
        _log(task, "starting kvm to execute backup task")
    if str(guest.config.get("agent", "0")).split(",")[0] in ("1", "enabled=1") and item.mode != "stop":
        _log(task, "issuing guest-agent 'fs-freeze' command")  # qga_fs_freeze 1094-1118
        _log(task, "issuing guest-agent 'fs-thaw' command")
    job = uuid.UUID(int=figures.seeded(task.upid, "backup-job", guest.vmid).getrandbits(128), version=4)
    _log(task, f"started backup task '{job}'")
    if item.running:  # resume_vm_after_job_start 1189-1203
        if item.stopped or item.suspended:
            _log(task, "resuming VM again after 1 seconds")
        else:
            _log(task, "resuming VM again")
        if not guest.running:
            guest._boot()
        guest.run_state = "running"
        item.stopped = False


def _prepare(task: Task, guest: Guest) -> None:
    """The guest plugin's ``prepare``: its name, then each volume included or left out."""
    if guest.kind == "qemu":
        if guest.config.get("name") is not None:
            _log(task, f"VM Name: {guest.config['name']}")
        for key, value, included, reason in _included(guest):
            volume, _options = drive_options(value)
            if not included:
                _log(task, f"exclude disk '{key}' '{volume}' ({reason})")
                continue
            size = parse_size(value)
            _log(task, f"include disk '{key}' '{volume}'" + (f" {format_disk(size)}" if size else ""))
        return
    if guest.config.get("hostname") is not None:
        _log(task, f"CT Name: {guest.config['hostname']}")
    for key, value, included, reason in _included(guest):
        _volume, options = drive_options(value, "volume")
        mount = "/" if key == "rootfs" else options.get("mp", "")
        if not mount:
            continue
        if not included:
            kind = "bind" if _volume.startswith("/") else "volume"
            _log(task, f"excluding {kind} mount point {key} ('{mount}') from backup ({reason})")
            continue
        _log(task, f"including mount point {key} ('{mount}') in backup")


def format_disk(size: int) -> str:
    """pve-common JSONSchema.pm ``format_size``: ``32G``."""
    return schema_format_size(size)


def _snapshots_possible(cluster: FakeCluster, guest: Guest) -> bool:
    """LXC ``prepare`` in snapshot mode: ``has_feature('snapshot')`` for every included volume."""
    for _key, value, included, _reason in _included(guest):
        volume, _options = drive_options(value, "volume")
        storage = cluster.storage(volume.split(":", 1)[0])
        if included and (storage is None or not volume_has_feature(storage.plugintype, "snapshot", volume)):
            return False
    return True


def _dumpdir(run: VzdumpRun) -> str:
    storage = run.storage
    if storage is None:
        return "/var/lib/vz/dump"
    return f"{storage.path or '/mnt/pve/' + storage.storage}/dump"


def _basename(cluster: FakeCluster, item: _GuestRun, guest: Guest) -> str:
    local = dt.datetime.fromtimestamp(item.start, cluster.tzinfo)
    return f"vzdump-{guest.kind}-{guest.vmid}-{local:%Y_%m_%d-%H_%M_%S}"


def _end_guest(cluster: FakeCluster, run: VzdumpRun, task: Task, item: _GuestRun) -> None:
    """The archive written, notes and protection set, older backups pruned, the guest unlocked and back up."""
    if item.failed == "skip":
        return
    if not task.running and item.failed is None:  # SIGTERM (stop_running_backups): die in the eval, then cleanup
        item.failed = "interrupted by signal"
    guest = item.guest
    if item.failed is None and guest is not None:
        try:
            _archive(cluster, run, task, item, guest)
        except PVEError as error:
            item.failed = error.message.rstrip("\n")
    if guest is not None:
        _cleanup(cluster, task, item, guest)
    now = cluster.clock.now()
    if item.failed is not None:
        run.errors += 1
        task.log.append(f"ERROR: Backup of VM {item.vmid} failed - {item.failed}")
        _log(task, f"Failed at {_local(cluster, now)}")
        return
    _log(task, f"Finished Backup of VM {item.vmid} ({_time(now - item.start + (1 if item.seconds else 0))})")
    _log(task, f"Backup finished at {_local(cluster, now + (1 if item.seconds else 0))}")


def _archive(cluster: FakeCluster, run: VzdumpRun, task: Task, item: _GuestRun, guest: Guest) -> None:
    storage = run.storage
    assert storage is not None
    pbs = storage.plugintype == "pbs"
    total, data = guest_data(cluster, guest)
    ratio = RATIO.get(run.compress, 0.45)
    size = max(int(data * ratio) if guest.kind == "qemu" or run.compress != "0" else data, 4096)
    seconds = max(item.seconds - OVERHEAD, 1) if item.seconds else 0
    if guest.kind == "qemu":
        _qemu_copy(task, item, guest, total, data, seconds)
    else:
        rate = render_bytes(data / max(seconds, 1), 0).replace(" ", "")
        task.log.append(f"INFO: Total bytes written: {data} ({render_bytes(data, 1).replace(' ', '')}, {rate}/s)")
    volume = add_backup(cluster, storage.storage, guest.vmid, ctime=item.start, compress=run.compress, size=size)
    where = volume.node
    storage.volumes = [v for v in storage.volumes if v is volume or not (v.volid == volume.volid and v.node == where)]
    if not pbs:
        _log(task, f"archive file size: {format_size(size)}")
    template = run.options.get("notes-template")
    if template:
        _log(task, "adding notes to backup")
        try:
            volume.notes = generate_notes(cluster, str(template), guest, run.node)
        except PVEError as error:
            _warn(task, f"unable to add notes - {error.message.rstrip()}")
    if int(run.options.get("protected") or 0):
        _log(task, "marking backup as protected")
        volume.protected = True
    if run.remove:
        keep = ", ".join(f"{key}={run.keep[key]}" for key in sorted(run.keep))
        _log(task, f"prune older backups with retention: {keep}")
        marked = prune_selection(cluster, storage, run.node, run.keep, guest.vmid, guest.kind)
        removed = [entry["volid"] for entry in marked if entry.get("mark") == "remove"]
        for volid in removed:
            _log(task, f"removing backup '{volid}'")
        remove_backups(cluster, storage, run.node, removed)
        extra = " not covered by keep-retention policy" if removed else ""
        _log(task, f"pruned {len(removed)} backup(s){extra}")
    cluster.revision.touch()


def _qemu_copy(task: Task, item: _GuestRun, guest: Guest, total: int, data: int, seconds: int) -> None:
    """The progress lines of ``$query_backup_status_loop``, the sparse and transferred totals."""
    steps = max(1, min(10, seconds // 3))
    zero = total - data
    for step in range(1, steps + 1):
        done = total * step // steps
        elapsed = seconds * step // steps
        rate = data / max(seconds, 1)
        percent = 100 * step // steps
        task.log.append(
            f"INFO: {percent:3d}% ({render_bytes(done, 1)} of {render_bytes(total, 1)}) in {render_duration(elapsed)}, "
            f"read: {render_bytes(done / max(elapsed, 1), 1)}/s, write: {render_bytes(rate, 1)}/s"
        )
    if zero:
        _log(task, f"backup is sparse: {render_bytes(zero)} ({zero * 100 // total if total else 0}%) total zero data")
    if seconds:
        _log(task, f"transferred {render_bytes(total)} in {seconds} seconds ({render_bytes(total / seconds, 1)}/s)")
    else:
        _log(task, f"transferred {render_bytes(total)} in <1 seconds")
    if not item.running:
        _log(task, "stopping kvm after backup task")


def _cleanup(cluster: FakeCluster, task: Task, item: _GuestRun, guest: Guest) -> None:
    """After the archive (or a failure): unlock, the LXC snapshot removed, the guest resumed or restarted."""
    if item.locked:
        guest.unlock()
        item.locked = False
    if guest.kind == "lxc" and item.mode == "snapshot":
        _log(task, "cleanup temporary 'vzdump' snapshot")
    if item.suspended:  # cleanup->{resume}: set when suspended, even after QEMU's job let the VM run on
        _log(task, "resume vm")
        guest.run_state = "running"
        item.suspended = False
    elif item.stopped:
        if not guest.running:
            _log(task, "restarting vm")
            guest._boot()
        _log(task, f"guest is online again after {max(item.seconds, 1)} seconds")
        item.stopped = False
    cluster.revision.touch()


def _closing(run: VzdumpRun, task: Task) -> str:
    """``exec_backup``'s closing line; the exit status: ``job errors`` when a guest failed, else OK or warnings."""
    if run.errors:
        _log(task, "Backup job finished with errors")
        return "job errors"
    _log(task, "Backup job finished successfully")
    return f"WARNINGS: {task.warnings}" if task.warnings else "OK"


__all__ = ["KEEP_OPTIONS", "VzdumpRun", "command_line", "start_run", "verify_notes_template"]
