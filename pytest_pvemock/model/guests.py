"""QEMU virtual machines and LXC containers: state, configuration, usage figures and the actions on them.

Actions follow PVE's API: checks that PVE makes before it forks a worker raise :class:`PVEError` at once (with
PVE's wording); the rest runs inside a task, so a failure shows up as the task's exit status, and the effect
(running, stopped, moved, cloned) happens when the task completes on the clock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import figures, replication
from pytest_pvemock.model.cloudinit_pending import is_cloudinit_option, is_tracked, record_change, regenerate_drive
from pytest_pvemock.model.guest_config import (
    MIB,
    NET_KEYS,
    QEMU_DISK_KEYS,
    config_text,
    digest_of,
    lxc_volumes,
    memory_mib,
    parse_size,
    qemu_disks,
    unused_volumes,
    volume_id,
    volume_storage,
    with_new_identity,
)
from pytest_pvemock.model.guest_disks import (
    check_base_volumes_unused,
    check_clone,
    clone_source,
    clone_volumes,
    detach_removed_volumes,
    free_guest_volumes,
)
from pytest_pvemock.model.guest_migration import log_stamp, migration_plan, schedule_lines
from pytest_pvemock.model.provisioning import fill_in_options
from pytest_pvemock.model.revision import TrackedDict, Watched
from pytest_pvemock.model.start_stop_all import resume_from_disk
from pytest_pvemock.model.tasks import Task
from pytest_pvemock.schema.formats.checks import split_list

if TYPE_CHECKING:
    from pytest_pvemock.model.cluster import FakeCluster

RUN_STATES = ("running", "stopped", "paused", "suspended")  # suspended: a VM whose guest is in ACPI S3

# Options QEMU applies to a running VM at once (PVE's fast-plug options plus the default hotplug set
# "network,disk,usb"); anything else changed on a running VM waits in the pending section until it stops.
QEMU_LIVE_OPTIONS = frozenset(
    {"lock", "name", "onboot", "shares", "startup", "description", "protection", "vmstatestorage", "hookscript", "tags"}
)


def _qemu_option_is_live(key: str) -> bool:
    # cloud-init options are 'fast plug' options: written at once (qemu-server src/PVE/QemuServer.pm 4609-4611)
    live = key in QEMU_LIVE_OPTIONS or is_cloudinit_option(key)
    return live or bool(NET_KEYS.match(key) or QEMU_DISK_KEYS.match(key)) or key.startswith("usb")


#: What ``GET .../config`` and ``.../pending`` show for a set ``cipassword``: PVE stores a crypt hash and never
#: returns it (qemu-server src/PVE/API2/Qemu.pm vm_config line 1851, vm_pending 1913-1915, cloudinit_pending
#: 1976-1977, at e6352be6).
CIPASSWORD_MASK = "**********"


def masked_config(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` (a copy PVE would answer with) with a set cloud-init password masked as PVE masks it."""
    if config.get("cipassword"):
        config["cipassword"] = CIPASSWORD_MASK
    return config


class Guest(Watched):
    """What QEMU VMs and LXC containers share. ``kind`` is ``qemu`` or ``lxc``."""

    # _usage is not watched: it changes with run_state (reported), or is filled in when first read (no change)
    WATCHED = frozenset({"node", "run_state", "started_at", "pid", "config", "_runs"})

    kind = ""
    task_prefix = ""
    noun = ""  # "VM" or "CT", as PVE's messages call them
    config_dir = ""

    def __init__(
        self,
        cluster: FakeCluster,
        vmid: int,
        node: str,
        config: dict[str, Any],
        status: str = "stopped",
    ) -> None:
        if status not in RUN_STATES:
            raise ValueError(f"guest status must be one of {', '.join(RUN_STATES)}, not {status!r}")
        # A guest being built is no change to report (registering it moves the revision): _on_change stays None
        # until the guest is complete.
        self._on_change: Callable[[], None] | None = None
        self._cluster: FakeCluster = cluster
        self.vmid: int = int(vmid)
        self.node: str = node
        self._config_serial: int = 0  # moves with every change of the config: the key of the caches below
        self.config = TrackedDict(config)
        self.pending: dict[str, Any] = {}
        self.pending_delete: list[str] = []
        self.snapshots: dict[str, dict[str, Any]] = {}
        #: qemu-server's ``[special:cloudinit]`` section: what the cloud-init drive was generated from, for the
        #: options changed since (see :mod:`.cloudinit_pending`)
        self.cloudinit_section: dict[str, str] = {}
        self.run_state: str = "stopped"
        self.started_at: int = 0
        self.pid: int | None = None
        self._runs: int = 0
        self._usage: dict[str, float] | None = {}  # None: drawn when first read (see _usage_figures)
        self._volume_cache: tuple[int, tuple[dict[str, str], list[tuple[str, str, int]]]] | None = None
        self._usage_cache: tuple[tuple[Any, ...], dict[str, Any]] | None = None
        self._figures_cache: tuple[int, tuple[str, int, int, int]] | None = None
        if status != "stopped":
            self._set_running(self._seeded_uptime(), status)
        self._on_change = cluster.revision.touch

    # ---- identity and configuration -------------------------------------------------------------------------

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.vmid} {self.name!r} on {self.node}: {self.status}>"

    @property
    def config(self) -> TrackedDict:
        """The guest's configuration: a dict whose every change is tracked (a dict assigned as a whole, too)."""
        return self._config

    @config.setter
    def config(self, value: dict[str, Any]) -> None:
        self._config = TrackedDict(value, on_change=self._config_changed)
        self._config_serial += 1

    def _config_changed(self) -> None:
        """Every change of the config: it moves the guest's config serial (its caches' key) and the revision."""
        self._config_serial += 1
        self._cluster.revision.touch()

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.vmid}"

    @property
    def name(self) -> str:
        raise NotImplementedError

    @property
    def config_path(self) -> str:
        return f"nodes/{self.node}/{self.config_dir}/{self.vmid}.conf"

    @property
    def template(self) -> bool:
        return bool(self.config.get("template"))

    @property
    def lock(self) -> str | None:
        return self.config.get("lock")

    @property
    def tags(self) -> list[str]:
        text = str(self.config.get("tags", ""))
        return [tag for tag in text.replace(",", ";").replace(" ", ";").split(";") if tag]

    @property
    def pool(self) -> str | None:
        return self._cluster.pool_of(self.vmid)

    def volumes(self) -> dict[str, str]:
        """Config keys that hold a volume (disks, rootfs, mount points), parsed once per config state."""
        return self._parsed_volumes()[0]

    def volume_list(self) -> list[tuple[str, str, int]]:
        """(storage, volid, size in bytes) of each volume of the guest."""
        return self._parsed_volumes()[1]

    def _parsed_volumes(self) -> tuple[dict[str, str], list[tuple[str, str, int]]]:
        cached = self._volume_cache
        if cached is None or cached[0] != self._config_serial:
            found = qemu_disks(self.config) if self.kind == "qemu" else lxc_volumes(self.config)
            listed = [
                (storage, volume_id(value), parse_size(value))
                for value in (*found.values(), *unused_volumes(self.config).values())
                if (storage := volume_storage(value)) is not None
            ]
            cached = self._volume_cache = (self._config_serial, (found, listed))
        return cached[1]

    @property
    def digest(self) -> str:
        return digest_of(config_text(self.config, self.snapshots))

    def config_view(self, current: bool = False) -> dict[str, Any]:
        """The config as ``GET .../config`` returns it: pending changes applied unless ``current``, the
        cloud-init password masked."""
        view = dict(self.config)
        if not current:
            view.update(self.pending)
            for key in self.pending_delete:
                view.pop(key, None)
        view["digest"] = self.digest
        return masked_config(view)

    def pending_view(self) -> list[dict[str, Any]]:
        """``GET .../pending``: every option with its current value, its pending value, or its pending delete.

        Values are strings here, as the schema of this endpoint declares them.
        """
        rows: list[dict[str, Any]] = []
        for key in sorted(set(self.config) | set(self.pending)):
            row: dict[str, Any] = {"key": key}
            if key in self.config:
                row["value"] = CIPASSWORD_MASK if key == "cipassword" else str(self.config[key])
            if key in self.pending:
                # qemu-server vm_pending masks a pending cloud-init password with a trailing blank (sic)
                row["pending"] = CIPASSWORD_MASK + " " if key == "cipassword" else str(self.pending[key])
            if key in self.pending_delete:
                row["delete"] = 1
            rows.append(row)
        return rows

    # ---- state and figures -----------------------------------------------------------------------------------

    @property
    def status(self) -> str:
        """``running`` or ``stopped`` as PVE lists it (a paused VM is ``running`` with qmpstatus ``paused``)."""
        return "stopped" if self.run_state == "stopped" else "running"

    @property
    def running(self) -> bool:
        return self.run_state != "stopped"

    @property
    def hastate(self) -> str | None:
        provider = self._cluster.ha_provider
        return provider.guest_hastate(self) if provider is not None else None

    def ha_status(self) -> dict[str, Any]:
        provider = self._cluster.ha_provider
        status = provider.guest_ha_status(self) if provider is not None else None
        return status if status is not None else {"managed": 0}

    def uptime(self) -> int:
        return max(self._cluster.clock.now() - self.started_at, 0) if self.running else 0

    @property
    def maxmem(self) -> int:
        return memory_mib(self.config.get("memory", 512)) * MIB

    @property
    def maxcpu(self) -> int:
        raise NotImplementedError

    @property
    def maxdisk(self) -> int:
        raise NotImplementedError

    def _seeded_uptime(self) -> int:
        return figures.seeded(self._cluster.seed, "uptime", self.vmid).randrange(3_000, 2_500_000)

    def _boot(self, uptime: int = 0) -> None:
        self._set_running(uptime, "running")
        self._cluster.revision.touch()

    def _set_running(self, uptime: int, run_state: str) -> None:
        """What a boot sets, or a scenario's guest that was already running (or paused) when it begins. The usage
        figures are drawn when first read (:meth:`_usage_figures`)."""
        now = self._cluster.clock.now()
        node = self._cluster.find_node(self.node)
        self.run_state = run_state
        self.started_at = now - uptime
        self.pid = node.next_process(now)[0] if node is not None else 4242
        self._runs += 1
        self._usage = None

    def _usage_figures(self) -> dict[str, float]:
        """This run's usage figures, drawn from a generator seeded by the guest and its run number, so they do
        not depend on when or in which order they are first read."""
        use = self._usage
        if use is None:
            use = self._draw_usage(figures.seeded(self._cluster.seed, "run", self.vmid, self._runs))
            self._usage = use  # filling in figures fixed at boot: no change to report (not watched)
        return use

    def _halt(self) -> None:
        self.run_state = "stopped"
        self.started_at = 0
        self.pid = None
        self._usage = {}
        self._apply_pending()
        self._cluster.consoles.guest_stopped(self.vmid)

    def _apply_pending(self) -> None:
        self.config.update(self.pending)
        for key in self.pending_delete:
            self.config.pop(key, None)
        self.pending.clear()
        self.pending_delete.clear()

    def _draw_usage(self, rng: Any) -> dict[str, float]:
        return {
            "cpu": figures.cpu_fraction(rng, 0.002, 0.09),
            "mem": rng.uniform(0.2, 0.65),
            "netin": rng.uniform(400, 9_000),
            "netout": rng.uniform(50, 2_000),
            "diskread": rng.uniform(800, 40_000),
            "diskwrite": rng.uniform(300, 25_000),
            "disk": rng.uniform(0.08, 0.45),
            "base": rng.randrange(1_000_000, 90_000_000),
        }

    def usage(self) -> dict[str, Any]:
        """The counters that follow the status: zeros while stopped, growing with uptime while running.

        Kept until the clock, the run or the config moves: several views read them for the same moment.
        """
        if not self.running:
            return {"cpu": 0, "mem": 0, "disk": 0, "netin": 0, "netout": 0, "diskread": 0, "diskwrite": 0}
        use = self._usage_figures()
        key = (self._cluster.clock.now(), self.run_state, self.started_at, self._runs, self._config_serial, use)
        cached = self._usage_cache
        if cached is None or cached[0] != key:
            cached = self._usage_cache = (key, self._running_usage(use))
        return dict(cached[1])

    def usage_rates(self) -> dict[str, float]:
        """Bytes per second of this run (``netin``, ``netout``, ``diskread``, ``diskwrite``) and the CPU fraction:
        what the counters of :meth:`usage` grow by, and what ``rrddata`` averages; empty while stopped."""
        if not self.running:
            return {}
        use = self._usage_figures()
        rates = {key: use[key] for key in ("netin", "netout", "diskread", "diskwrite")}
        rates["cpu"] = use["cpu"] if self.run_state == "running" else 0.0
        return rates

    def _running_usage(self, use: dict[str, float]) -> dict[str, Any]:
        uptime = self.uptime()
        usage: dict[str, Any] = {
            "cpu": use["cpu"] if self.run_state == "running" else 0,
            "mem": int(self.config_figures()[2] * use["mem"]) + int(use["base"]) % 4093,
            "disk": self._disk_used(),
        }
        for key, start, rate in self.usage_counters():
            usage[key] = start + int(rate * uptime)
        return usage

    def usage_counters(self) -> tuple[tuple[str, int, float], ...]:
        """The counters of :meth:`usage` that grow with the uptime while the guest runs, as (key, value at boot,
        bytes per second): each reads ``start + int(rate * uptime)``. Empty while stopped; every other figure of
        :meth:`usage` stays the same for the whole run (until the config or the run state changes)."""
        if not self.running:
            return ()
        use = self._usage_figures()
        base = int(use["base"])
        return (
            ("netin", base // 7, use["netin"]),
            ("netout", base // 31, use["netout"]),
            ("diskread", base, use["diskread"]),
            ("diskwrite", base // 3, use["diskwrite"]),
        )

    def _disk_used(self) -> int:
        return 0

    def memhost(self, mem: int) -> int:
        """Host memory the guest's process uses (PVE 9's ``memhost``) when the guest uses ``mem``; 0 unless a
        running VM."""
        return 0

    def current_figures(self) -> dict[str, Any]:
        """``maxcpu``, ``maxmem``, ``maxdisk`` and :meth:`usage` now: the figures ``/cluster/resources`` shows."""
        return {"maxcpu": self.maxcpu, "maxmem": self.maxmem, "maxdisk": self.maxdisk, **self.usage()}

    def run_figures(self) -> dict[str, float]:
        """This run's drawn usage figures (rates, fractions, ``base``); empty while stopped."""
        return self._usage_figures()

    def state_key(self) -> tuple[Any, ...]:
        """What the guest's own facts are at: node, run state, start, run number and config serial. Equal keys
        of the same guest mean equal facts (its usage still moves with the clock while it runs)."""
        return (self.node, self.run_state, self.started_at, self._runs, self._config_serial)

    def config_figures(self) -> tuple[str, int, int, int]:
        """(name, template as 0/1, maxmem, maxdisk): what the config alone decides, kept per config state."""
        cached = self._figures_cache
        if cached is None or cached[0] != self._config_serial:
            figures_now = (self.name, int(self.template), self.maxmem, self.maxdisk)
            cached = self._figures_cache = (self._config_serial, figures_now)
        return cached[1]

    # ---- checks ------------------------------------------------------------------------------------------------

    def _not_running_error(self) -> PVEError:
        return PVEError(f"{self.noun} {self.vmid} not running")

    def check_lock(self, allowed: Iterable[str] = ()) -> None:
        lock = self.lock
        if lock and lock not in allowed:
            raise PVEError(f"{self.noun} is locked ({lock})")

    def _prepare_write(self) -> None:
        self._cluster.require_quorum()
        self._cluster.require_node_reachable(self.node)

    def _start_task(self, action: str, authid: str, work: Any = None, duration: int | None = None) -> Task:
        task_type = "qmigrate" if (self.kind, action) == ("qemu", "migrate") else self.task_prefix + action
        return self._cluster.tasks.start(self.node, task_type, self.vmid, authid, duration=duration, work=work)

    # ---- actions -----------------------------------------------------------------------------------------------

    def start(self, authid: str = "root@pam", skiplock: bool = False) -> Task:
        self._prepare_write()
        ha_task = self._ha_request("started", authid)
        if ha_task is not None:
            return ha_task
        return self._start_task("start", authid, work=lambda task: self._do_start(task, skiplock))

    def _ha_request(self, state: str, authid: str, timeout: int | None = None) -> Task | None:
        """An HA-managed guest's start/stop goes through the HA manager (an ``hastart``/``hastop`` task);
        ``timeout`` is a shutdown's (PVE asks HA to ``stop <sid> <timeout>``; a stop is ``stop <sid> 0``)."""
        provider = self._cluster.ha_provider
        request = getattr(provider, "request_guest_state", None)
        if request is None:
            return None
        task: Task | None = (
            request(self, state, authid) if timeout is None else request(self, state, authid, timeout=timeout)
        )
        return task

    def _do_start(self, task: Task, skiplock: bool) -> None:
        raise NotImplementedError

    def stop(self, authid: str = "root@pam", skiplock: bool = False) -> Task:
        self._prepare_write()
        ha_task = self._ha_request("stopped", authid)
        if ha_task is not None:
            return ha_task
        return self._start_task("stop", authid, work=lambda task: self._do_stop(skiplock))

    def _do_stop(self, skiplock: bool) -> None:
        if not self.running:
            return
        if not skiplock:
            self.check_lock()
        self._halt()

    def shutdown(
        self, authid: str = "root@pam", skiplock: bool = False, force_stop: bool = False, timeout: int | None = None
    ) -> Task:
        self._prepare_write()
        ha_task = self._ha_request("stopped", authid, timeout=60 if timeout is None else timeout)
        if ha_task is not None:
            return ha_task
        return self._start_task("shutdown", authid, work=lambda task: self._do_stop(skiplock))

    def reboot(self, authid: str = "root@pam") -> Task:
        self._prepare_write()
        if not self.running:
            raise PVEError(f"VM {self.vmid} not running")
        return self._start_task("reboot", authid, work=lambda task: self._do_reboot())

    def _do_reboot(self) -> None:
        self.check_lock()
        self._halt()
        self._boot()

    def suspend(self, authid: str = "root@pam", skiplock: bool = False) -> Task:
        return self._pause_task("suspend", "paused", authid, skiplock)

    def resume(self, authid: str = "root@pam", skiplock: bool = False) -> Task:
        return self._pause_task("resume", "running", authid, skiplock)

    def _pause_task(self, action: str, run_state: str, authid: str, skiplock: bool) -> Task:
        """``suspend`` (to ``paused``) or ``resume`` (to ``running``) of a running guest, in a task."""
        self._prepare_write()
        if not self.running:
            raise self._not_running_error()
        return self._start_task(action, authid, work=lambda task: self._set_paused_state(run_state, skiplock))

    def _set_paused_state(self, run_state: str, skiplock: bool) -> None:
        if not skiplock:
            self.check_lock()
        if self.running:
            self.run_state = run_state

    def migrate(
        self,
        target: str,
        online: bool = False,
        authid: str = "root@pam",
        restart: bool = False,
        with_local_disks: bool = False,
        ha_worker: bool = False,
    ) -> Task:
        """Move to ``target``: the guest holds the ``migrate`` lock while the task runs, and moves when it ends.

        The task takes what copying the running VM's memory and the local volumes takes (:mod:`.guest_migration`)
        and writes PVE's log lines as it goes. ``ha_worker``: the HA LRM's own call (``$rpcenv->{type} eq 'ha'``),
        which is not turned into an HA request again."""
        self._cluster.require_quorum()
        if target == self.node:
            raise ParameterError({"target": "target is local node."})
        if self._cluster.find_node(target) is None:
            raise ParameterError({"target": f"no such cluster node '{target}'"})
        self._cluster.require_node_reachable(self.node)
        if self.kind == "qemu":
            self.check_lock()  # qemu-server Qemu.pm migrate_vm 5592: before the worker
        if self.running and not (online or restart):
            raise PVEError(self._offline_migration_error())
        request = None if ha_worker else getattr(self._cluster.ha_provider, "request_guest_migration", None)
        ha_task: Task | None = request(self, target, authid) if request is not None else None
        if ha_task is not None:
            return ha_task
        if not self._cluster.node(target).online:
            raise PVEError(f"target node '{target}' is not online")
        source = self.node
        was_running = self.running
        locked = self.lock
        problem = self._migration_problem(locked, was_running, with_local_disks)
        if problem is not None:
            # pve-guest-common AbstractMigrate.pm migrate 236-242: prepare/phase1 fail at once, the task ends aborted
            def aborted(task: Task) -> None:
                task.log.append(f"ERROR: migration aborted (duration 00:00:00): {problem}")
                raise PVEError("migration aborted")

            return self._start_task("migrate", authid, work=aborted, duration=0)
        self.config["lock"] = "migrate"
        plan = migration_plan(
            self,
            target,
            self._cluster.node(target).ip,
            online=was_running and self.kind == "qemu",
            restart=was_running and self.kind == "lxc",
            local_volumes=self._local_volumes(),
        )

        def migration(task: Task) -> None:
            self._finish_migration(task, source, target, was_running)
            task.log.append(f"{log_stamp(self._cluster.clock.now(), self._cluster.tzinfo)} {plan.lines[-1][1]}")

        if was_running and self.kind == "lxc":
            self._halt()  # a restart migration: LXC/Migrate.pm prepare 168 shuts the CT down, phase3 starts it
        task = self._start_task("migrate", authid, work=migration, duration=plan.seconds)
        if task.running:

            def write(line: str) -> None:
                if task.running:
                    task.log.append(line)

            schedule_lines(plan, task.starttime, self._cluster.tzinfo, self._cluster.clock.call_at, write)
        return task

    def _local_volumes(self) -> list[tuple[str, int]]:
        """(volid, bytes) of the volumes a migration copies: those on storage that is not shared."""
        volumes = []
        for storage, volid, size in self.volume_list():
            definition = self._cluster.storage(storage)
            if definition is not None and not definition.shared:
                volumes.append((volid, size))
        return volumes

    def _migration_problem(self, locked: str | None, was_running: bool, with_local_disks: bool) -> str | None:
        """What the migration's prepare/phase1 refuses inside the worker: a locked CT (pve-container
        LXC/Migrate.pm prepare 48), a running VM's local disks without ``with-local-disks`` (qemu-server
        QemuMigrate.pm 540-544)."""
        if locked is not None:
            return f"{self.noun} is locked ({locked})"
        if self.kind == "qemu" and was_running and not with_local_disks and self._local_volumes():
            return "can't live migrate attached local disks without with-local-disks option"
        return None

    def _offline_migration_error(self) -> str:
        raise NotImplementedError

    def _finish_migration(self, task: Task, source: str, target: str, was_running: bool) -> None:
        if self.node != source:
            # HA recovered the guest elsewhere meanwhile (its config was stolen from the fenced source)
            raise PVEError("migration aborted")
        self.config.pop("lock", None)
        for node in (source, target):
            if not self._cluster.node(node).online:
                # the tunnel broke, or the node left the quorate partition: /etc/pve is read-only for phase 3
                raise PVEError(f"migration aborted: node '{node}' is not online")
        self.node = target
        if was_running:
            self._halt()
            self._boot()

    def clone(
        self,
        newid: int,
        name: str | None = None,
        target: str | None = None,
        full: bool | None = None,
        pool: str | None = None,
        description: str | None = None,
        authid: str = "root@pam",
        storage: str | None = None,
        snapname: str | None = None,
        format: str | None = None,
    ) -> Task:
        """Copy this guest (or its snapshot ``snapname``) to ``newid``: full copies (on ``storage`` and in ``format``
        if given) or, by default for templates, linked clones of the ``base-`` volumes. The copy exists (locked
        ``clone``) at once and is usable when the task ends."""
        self._prepare_write()
        newid = int(newid)
        if self._cluster.find_guest(newid) is not None:
            raise PVEError(f"unable to create {self.noun} {newid}: config file already exists")
        target = target or self.node
        target_node = self._cluster.find_node(target)
        if target_node is None:
            raise ParameterError({"target": f"no such cluster node '{target}'"})
        self.check_lock()
        source = clone_source(self, snapname)
        full = (not self.template) if full is None else full
        check_clone(self, full, storage, target if target != self.node else None, format, source if snapname else None)
        rng = figures.seeded(self._cluster.seed, "clone", self.vmid, newid)
        config = with_new_identity(source, self.vmid, newid, rng)
        for key in [key for key in config if key.startswith("unused")]:
            del config[key]  # Qemu.pm clone_vm 4521: unused volumes are not copied
        warnings: list[str] = []
        config.update(clone_volumes(self, newid, full, storage, format, source, warnings))
        self._name_clone(config, name)
        if description is not None:
            config["description"] = description
        config["lock"] = "clone"
        copy_guest = type(self)(self._cluster, newid, target, config)
        self._cluster.register_guest(copy_guest, pool=pool)

        def finish(task: Task) -> None:
            for warning in warnings:
                task.log.append(f"WARN: {warning}")
                task.warnings += 1
            copy_guest.config.pop("lock", None)

        return self._start_task("clone", authid, work=finish)

    def _name_clone(self, config: dict[str, Any], name: str | None) -> None:
        raise NotImplementedError

    def delete(
        self, authid: str = "root@pam", purge: bool = False, skiplock: bool = False, destroy_unreferenced: bool = False
    ) -> Task:
        """Destroy the guest (it must be stopped and unlocked); it disappears when the task completes, with its
        volumes (and with ``destroy_unreferenced`` the images of its VMID no config names)."""
        self._prepare_write()
        if self.config.get("protection"):
            # AbstractConfig.pm check_protection 389-395, called first by both destroy handlers
            raise PVEError(f"can't remove {self.noun} {self.vmid} - protection mode enabled")
        if self.kind == "lxc":
            self.check_lock()  # pve-container LXC.pm destroy_vm 860: before the worker
        ha = self._cluster.ha
        sid = ha.sid(self)
        if sid in ha.service_config and not purge:
            raise PVEError(
                f"unable to remove {self.noun} {self.vmid} - used in HA resources and purge parameter not set."
            )
        if not purge:
            replication.check_for_existing_jobs(self._cluster, self.vmid)
        if self.running:
            raise PVEError(self._running_destroy_error())

        def destroy(task: Task) -> None:
            if self.kind == "qemu" and not skiplock and self.lock != "suspended":
                self.check_lock()  # qemu-server QemuServer.pm destroy_vm 1847-1848: inside the worker
            if self.kind == "qemu" and self.template:
                check_base_volumes_unused(self)  # QemuServer.pm destroy_vm 1851-1871
            free_guest_volumes(self, destroy_unreferenced)
            self._cluster.unregister_guest(self.vmid)
            if purge:
                task.log.append(f"purging {self.noun} {self.vmid} from related configurations..")
                replication.remove_vmid_jobs(self._cluster, self.vmid)
            if sid in ha.service_config:
                ha.remove_resource(sid)
                task.log.append(f"NOTE: removed {self.noun} {self.vmid} from HA resource configuration.")

        return self._start_task("destroy", authid, work=destroy)

    def _running_destroy_error(self) -> str:
        raise NotImplementedError

    def set_lock(self, reason: str) -> None:
        """Lock the config as a long-running operation would (``backup``, ``migrate``, ``snapshot``, ...)."""
        self.config["lock"] = reason

    def unlock(self) -> None:
        self.config.pop("lock", None)

    def set_config(
        self,
        changes: dict[str, Any] | None = None,
        delete: Iterable[str] | str = (),
        digest: str | None = None,
        skiplock: bool = False,
        force: bool = False,
        **options: Any,
    ) -> None:
        """Change the config as ``PUT .../config`` does: ``changes``/``options`` set keys, ``delete`` removes them.

        A disk given as ``STORAGE:SIZE`` gets a new volume and a NIC without MAC gets one, as PVE fills them in."""
        self._prepare_write()
        updates = {**(changes or {}), **options}
        removals = [key for key in (split_list(delete) if isinstance(delete, str) else delete) if key]
        if not updates and not removals:
            # qemu-server Qemu.pm update_vm 2110, pve-container LXC.pm update_vm 2364 (API2/LXC/Config.pm)
            raise PVEError("no options specified")
        if digest and digest != self.digest:
            raise PVEError(self._digest_mismatch_error())
        if not skiplock:
            self.check_lock()
        for key in removals:
            if key in updates:
                raise ParameterError({key: f"unable to delete '{key}' - option is also set"})
        updates, _log = fill_in_options(self._cluster, self.kind, self.vmid, updates, template=self.template)
        detach_removed_volumes(self, removals, force)
        self._apply_config(updates, removals)

    def set_config_task(
        self,
        changes: dict[str, Any],
        delete: Iterable[str] | str = (),
        digest: str | None = None,
        authid: str = "root@pam",
    ) -> Task:
        """``POST .../config``: the same checks, the change made by a ``qmconfig`` task."""
        self._prepare_write()
        if digest and digest != self.digest:
            raise PVEError(self._digest_mismatch_error())
        self.check_lock()
        return self._start_task("config", authid, work=lambda task: self.set_config(changes, delete=delete))

    def _digest_mismatch_error(self) -> str:
        raise NotImplementedError

    def _apply_config(self, updates: dict[str, Any], removals: list[str]) -> None:
        for key in removals:
            self.config.pop(key, None)
        self.config.update(updates)

    def snapshot(self, snapname: str, description: str = "", vmstate: bool = False, authid: str = "root@pam") -> Task:
        self._prepare_write()
        # qemu-server Qemu.pm snapshot 6212-6216, pve-container API2/LXC/Snapshot.pm 152-155: before the worker;
        # the rest in pve-guest-common AbstractConfig.pm __snapshot_prepare 739-751, inside the worker
        reserved = ("current", "pending") if self.kind == "qemu" else ("current", "vzdump")
        if snapname in reserved or (self.kind == "qemu" and snapname.lower() == "pending"):
            raise PVEError(f"unable to use snapshot name '{snapname}' (reserved name)")

        def take(task: Task) -> None:
            if self.template:
                raise PVEError("you can't take a snapshot if it's a template")
            self.check_lock()
            if snapname in self.snapshots:
                raise PVEError(f"snapshot name '{snapname}' already used")
            self._take_snapshot(snapname, description, vmstate)

        return self._start_task("snapshot", authid, work=take)

    def _take_snapshot(self, snapname: str, description: str, vmstate: bool) -> None:
        snap = {key: value for key, value in self.config.items() if key not in ("lock", "parent")}
        if self.config.get("parent"):
            snap["parent"] = self.config["parent"]
        snap["snaptime"] = self._cluster.clock.now()
        if description:
            snap["description"] = description
        if vmstate and self.running and self.kind == "qemu":
            snap["vmstate"] = 1
        self.snapshots[snapname] = snap
        self.config["parent"] = snapname

    def delete_snapshot(self, snapname: str, authid: str = "root@pam") -> Task:
        self._prepare_write()

        def drop(task: Task) -> None:  # AbstractConfig.pm snapshot_delete 930-937: inside the worker
            if snapname not in self.snapshots:
                raise PVEError(f"snapshot '{snapname}' does not exist")
            self.check_lock()
            self._drop_snapshot(snapname)

        return self._start_task("delsnapshot", authid, work=drop)

    def _drop_snapshot(self, snapname: str) -> None:
        removed = self.snapshots.pop(snapname)
        parent = removed.get("parent")
        for snap in self.snapshots.values():
            if snap.get("parent") == snapname:
                _set_or_drop(snap, "parent", parent)
        if self.config.get("parent") == snapname:
            _set_or_drop(self.config, "parent", parent)

    def rollback(self, snapname: str, authid: str = "root@pam") -> Task:
        self._prepare_write()

        def roll(task: Task) -> None:  # AbstractConfig.pm snapshot_rollback 1134-1168: inside the worker
            if self.template:
                raise PVEError("you can't rollback if vm is a template")
            if snapname not in self.snapshots:
                raise PVEError(f"snapshot '{snapname}' does not exist")
            self.check_lock()
            self._roll_back(snapname)

        return self._start_task("rollback", authid, work=roll)

    def _roll_back(self, snapname: str) -> None:
        snap = self.snapshots[snapname]
        if self.running:
            self._halt()
        restored = {key: value for key, value in snap.items() if key not in ("snaptime", "vmstate", "parent")}
        restored["parent"] = snapname
        self.config = TrackedDict(copy.deepcopy(restored))
        if snap.get("vmstate"):
            self._boot()

    def snapshot_list(self) -> list[dict[str, Any]]:
        """``GET .../snapshot``: every snapshot, then the ``current`` pseudo-entry (QUIRKS §2.4)."""
        rows: list[dict[str, Any]] = []
        for name, snap in self.snapshots.items():
            row: dict[str, Any] = {"name": name, "description": snap.get("description", "")}
            row["snaptime"] = snap["snaptime"]
            if self.kind == "qemu":
                row["vmstate"] = int(bool(snap.get("vmstate")))
            if snap.get("parent"):
                row["parent"] = snap["parent"]
            rows.append(row)
        current: dict[str, Any] = {"name": "current", "description": "You are here!", "digest": self.digest}
        current["running"] = int(self.running)
        if self.config.get("parent"):
            current["parent"] = self.config["parent"]
        rows.append(current)
        return rows


def _set_or_drop(mapping: dict[str, Any], key: str, value: Any) -> None:
    if value:
        mapping[key] = value
    else:
        mapping.pop(key, None)


class QemuVM(Guest):
    kind = "qemu"
    task_prefix = "qm"
    noun = "VM"
    config_dir = "qemu-server"

    @property
    def name(self) -> str:
        return str(self.config.get("name") or f"VM {self.vmid}")

    @property
    def maxcpu(self) -> int:
        if self.config.get("vcpus"):
            return int(self.config["vcpus"])
        return int(self.config.get("cores", 1)) * int(self.config.get("sockets", 1))

    @property
    def maxdisk(self) -> int:
        disks = self.volumes()
        boot = str(self.config.get("boot", ""))
        for key in boot.removeprefix("order=").split(";"):
            if key in disks:
                return parse_size(disks[key])
        return parse_size(next(iter(disks.values()))) if disks else 0

    @property
    def qmpstatus(self) -> str:
        return self.run_state

    def memhost(self, mem: int) -> int:
        return mem + int(self._usage_figures().get("base", 0)) % 50_000_000 if self.running else 0

    def _do_start(self, task: Task, skiplock: bool) -> None:
        if self.template:
            raise PVEError("you can't start a vm if it's a template")
        if not skiplock:
            self.check_lock(allowed=("suspended",))
        if self.running:
            raise PVEError(f"VM {self.vmid} already running")
        self._boot()
        if self.lock == "suspended":  # hibernated (suspend to disk): resumed from its state volume
            resume_from_disk(self._cluster, self)

    def shutdown(
        self, authid: str = "root@pam", skiplock: bool = False, force_stop: bool = False, timeout: int | None = None
    ) -> Task:
        if self.run_state == "paused" and not force_stop:
            raise PVEError("VM is paused - cannot shutdown")
        return super().shutdown(authid, skiplock, force_stop, timeout)

    def reboot(self, authid: str = "root@pam") -> Task:
        if self.run_state == "paused":
            raise PVEError("VM is paused - cannot shutdown")
        return super().reboot(authid)

    def guest_power_off(self) -> None:
        """The guest OS powered the VM off from inside (a shutdown, the end of a hibernation): QEMU exits."""
        if self.running:
            self._halt()
            self._cluster.revision.touch()

    def guest_reset(self) -> None:
        """A system reset (QEMU's ``system_reset``): the guest boots again."""
        if self.running:
            self._halt()
            self._boot()

    def guest_suspend_to_ram(self) -> None:
        """The guest entered ACPI S3: QEMU's run state is ``suspended`` until a ``system_wakeup`` (a resume)."""
        if self.running:
            self.run_state = "suspended"
            self._cluster.revision.touch()

    def reset(self, authid: str = "root@pam", skiplock: bool = False) -> Task:
        self._prepare_write()
        if not self.running:
            raise self._not_running_error()
        return self._start_task("reset", authid, work=lambda task: self._do_reboot())

    def _offline_migration_error(self) -> str:
        return "can't migrate running VM without --online"

    def _name_clone(self, config: dict[str, Any], name: str | None) -> None:
        config["name"] = name or f"Copy-of-VM-{self.name}"

    def _running_destroy_error(self) -> str:
        return f"VM {self.vmid} is running - destroy failed"

    def _digest_mismatch_error(self) -> str:
        return "checksum mismatch (file change by other user?)"

    def _boot(self, uptime: int = 0) -> None:
        super()._boot(uptime)
        regenerate_drive(self.cloudinit_section)  # vm_start_nolock generates the drive (QemuServer.pm 5604-5611)

    def _apply_pending(self) -> None:
        before = {key: self.config.get(key) for key in (*self.pending, *self.pending_delete) if is_tracked(key)}
        super()._apply_pending()
        self._record_cloudinit_changes(before)

    def _record_cloudinit_changes(self, before: dict[str, Any]) -> None:
        for key, old in before.items():
            new = self.config.get(key)
            if new != old:
                record_change(self.cloudinit_section, key, old, new)

    def _apply_config(self, updates: dict[str, Any], removals: list[str]) -> None:
        before = {key: self.config.get(key) for key in (*removals, *updates) if is_tracked(key)}
        self._apply_config_now_or_pending(updates, removals)
        self._record_cloudinit_changes(before)

    def _apply_config_now_or_pending(self, updates: dict[str, Any], removals: list[str]) -> None:
        if not self.running:
            super()._apply_config(updates, removals)
            return
        for key in removals:
            if _qemu_option_is_live(key):
                self.config.pop(key, None)
            elif key not in self.pending_delete:
                self.pending_delete.append(key)
        for key, value in updates.items():
            if _qemu_option_is_live(key):
                self.config[key] = value
            else:
                self.pending[key] = value


class Container(Guest):
    kind = "lxc"
    task_prefix = "vz"
    noun = "CT"
    config_dir = "lxc"

    @property
    def name(self) -> str:
        return str(self.config.get("hostname") or f"CT{self.vmid}")

    @property
    def maxcpu(self) -> int:
        if self.config.get("cores"):
            return int(self.config["cores"])
        node = self._cluster.find_node(self.node)
        return node.maxcpu if node is not None else 1

    @property
    def maxdisk(self) -> int:
        return parse_size(self.volumes().get("rootfs", ""))

    @property
    def maxswap(self) -> int:
        return int(self.config.get("swap", 512)) * MIB

    def _disk_used(self) -> int:
        use = self._usage_figures()
        return int(self.maxdisk * use.get("disk", 0.1)) + int(use.get("base", 0)) % 65_521

    def _draw_usage(self, rng: Any) -> dict[str, float]:
        usage = super()._draw_usage(rng)
        usage["mem"] = rng.uniform(0.03, 0.3)
        usage["cpu"] = 0 if rng.random() < 0.3 else figures.cpu_fraction(rng, 0.0001, 0.02)
        return usage

    def start(self, authid: str = "root@pam", skiplock: bool = False) -> Task:
        self._prepare_write()
        if self.running:
            raise PVEError(f"CT {self.vmid} already running")
        return super().start(authid, skiplock)

    def _do_start(self, task: Task, skiplock: bool) -> None:
        if self.template:
            raise PVEError("you can't start a CT if it's a template")
        if not skiplock:
            self.check_lock()
        self._boot()

    def stop(self, authid: str = "root@pam", skiplock: bool = False) -> Task:
        self._prepare_write()
        if not self.running:
            raise self._not_running_error()
        return super().stop(authid, skiplock)

    def shutdown(
        self, authid: str = "root@pam", skiplock: bool = False, force_stop: bool = False, timeout: int | None = None
    ) -> Task:
        self._prepare_write()
        if not self.running:
            raise self._not_running_error()
        return super().shutdown(authid, skiplock, force_stop, timeout)

    def _offline_migration_error(self) -> str:
        return "can't migrate running container without --online or --restart"

    def _name_clone(self, config: dict[str, Any], name: str | None) -> None:
        config["hostname"] = name or f"Copy-of-CT-{self.name}"

    def _running_destroy_error(self) -> str:
        return f"unable to destroy CT {self.vmid} - container is running"

    def _digest_mismatch_error(self) -> str:
        return "detected modified configuration - file changed by other user? Try again."

    def swap_used(self) -> int:
        """Swap the container uses now (bytes)."""
        return 0
