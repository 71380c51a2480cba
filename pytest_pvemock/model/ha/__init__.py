"""High availability that behaves like pve-ha-manager: CRM, LRM, fencing and recovery on a virtual clock.

Modules:

- :mod:`.environment`: :class:`HAHost`, the Protocol a cluster implements to host the HA stack, and
  :class:`DaemonEnv`, one daemon's view of it.
- :mod:`.ha_files`: :class:`HAFiles`, the ``/etc/pve/ha`` state (manager/LRM status, ``resources.cfg``,
  rules, CRM commands, locks, watchdogs). A host inherits it and adds the world part.
- :mod:`.stack`: :class:`HAStack`, every node's CRM and LRM and the loop that runs them.
- :mod:`.crm`, :mod:`.lrm`, :mod:`.manager`, :mod:`.node_status`, :mod:`.rules`, :mod:`.usage`,
  :mod:`.guests`: the daemons, the master's state machine, node tracking, placement rules, schedulers and
  resource agents.
- :mod:`.status`, :mod:`.provider`: what the API shows (``hastate``, ``/cluster/ha/status/*``, the guest's
  ``ha`` object, "is this guest primary on this node"). :mod:`.service_requests`: what the API asks.
- :mod:`.simulator`, :mod:`.case_files`: pve-ha-manager's regression-case simulator (``pvemock ha-sim``).
- The FakeCluster's host (``cluster.ha``) is :class:`pytest_pvemock.model.cluster_ha.ClusterHA`, beside the
  cluster rather than in this package (the one adapter that knows both): built as described below.

Hosting the stack (what the FakeCluster does):

1. Subclass :class:`.ha_files.HAFiles` and implement the world part of :class:`.environment.HAHost`:
   ``now``, ``write_log``, ``node_membership``, ``cluster_fs_ok``, ``node_shutdown_request``,
   ``node_version``, ``static_node_stats``, ``guest_running``, ``set_guest_running``, ``forget_guest``,
   ``guest_lock``, ``remove_guest_lock``; override ``change_service_location`` to also move the guest's
   config in the model (then call the base method). ``service_config`` holds ``resources.cfg``
   (``{sid: {node, state?, max_restart?, ...}}``, ``node`` = where the guest config lives).
2. Create ``HAStack(host, nodes, node_command, seconds_per_round=0)``; call ``start_daemons(node)`` when a
   node boots and ``kill_daemons(node)`` when it loses power (and stop its guests). ``node_command`` receives
   ``power <node> off|on`` and ``crm <node> stop`` when the watchdog fires or a shutdown completes.
3. Every 10 s of cluster time (PVE's daemon period): ``stack.sync_clocks()`` then ``stack.run_loop()``.
4. Answer the model's questions with ``HAStatusProvider(host)`` and route guest actions through
   :mod:`.service_requests`.
"""
