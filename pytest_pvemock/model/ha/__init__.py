"""High availability that behaves like pve-ha-manager: CRM, LRM, fencing and recovery on a virtual clock.

- :mod:`.environment`: :class:`HAHost`, the Protocol a cluster implements to host the HA stack.
- :mod:`.crm`, :mod:`.lrm`, :mod:`.manager`: the daemons and the master's state machine.
- :mod:`.simulator`: pve-ha-manager's regression-case simulator (``pvemock ha-sim``).
- :mod:`.status`: what the API shows (``hastate``, ``/cluster/ha/status/*``, "is this guest primary here").
"""
