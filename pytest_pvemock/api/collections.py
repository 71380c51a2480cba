"""Stateful answers for PVE's simple config-like collections: what a client writes, it reads back.

Three shapes cover them, each declared once in :data:`COLLECTIONS`:

- :class:`Keyed`: records by id (``/cluster/backup`` and ``/cluster/backup/{id}``): list, create, read, update
  (with ``delete`` and ``digest``), remove;
- :class:`Rules`: firewall rules by position (``/cluster/firewall/rules`` and ``.../{pos}``), with ``pos`` on
  create and ``moveto`` on update;
- :class:`Options`: one set of options (``/cluster/options``), read and updated in place.

Records are stored in the model's :class:`~pytest_pvemock.model.config_store.ConfigStore`; answers are shaped to
the method's ``returns`` schema (missing required fields synthesised, unknown ones left out). ``/access/groups``,
``/access/roles`` and ``/access/acl`` live in the model's access control instead (``api/handlers/access_control.py``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pytest_pvemock.api.permissions import PermissionChecker, fill_template
from pytest_pvemock.api.synthesis import cluster_facts
from pytest_pvemock.errors import ParameterError, PVEError
from pytest_pvemock.model import figures, replication
from pytest_pvemock.model.config_store import (
    ConfigStore,
    KeyedSection,
    RuleList,
    config_store_of,
    digest_of,
    store_name_of_path,
)
from pytest_pvemock.model.nodes.files import resolv_conf
from pytest_pvemock.model.sdn import sdn_view
from pytest_pvemock.model.sdn_ipam import ipam_db
from pytest_pvemock.schema.property_string import PropertyStringError, parse_property_string
from pytest_pvemock.schema.synthesis import Facts, synthesize, value_fits

if TYPE_CHECKING:
    from pytest_pvemock.api.handler import HandlerContext
    from pytest_pvemock.model.cluster import FakeCluster

__all__ = ["COLLECTIONS", "collection_routes", "config_store", "endpoint_records", "realm_records", "shape"]

# Parameters that steer a write and are never stored.
_META = {"delete", "digest", "moveto", "lock-token", "revert", "append"}
_LIST_SPLIT = re.compile(r"[,;\s]+")


@dataclass(frozen=True)
class Keyed:
    """Records by ``key`` under the list ``base``; ``create_on_item``: created by POST on the item path."""

    base: str
    key: str
    noun: str
    create_on_item: bool = False
    builtin: Callable[[HandlerContext], list[tuple[str, dict[str, Any]]]] | None = None
    # PVE lists only the records the caller has any of these privileges on (path filled from the record)
    visible_with: tuple[str, tuple[str, ...]] | None = None
    # The item path is another collection's list (a security group's rules, an IP set's entries): that
    # collection answers GET on it
    nested: bool = False
    # settings PVE keeps out of the record (in /etc/pve/priv) and never returns: accepted, never stored here
    private: tuple[str, ...] = ()
    # the list shows only these settings of a record (``None``: all of them)
    listed: Callable[[str, Mapping[str, Any]], dict[str, Any]] | None = None
    # PVE's own wording, by action: message(action, key, values) answers the text of an existing record
    # ("exists") or of a missing one ("read", "update", "delete"), and raises PVE's refusal of a new one ("create")
    messages: Callable[[str, str, Mapping[str, Any]], str] | None = None
    # settings written as property strings that PVE answers as objects (a backup job's ``prune-backups``)
    objects: tuple[str, ...] = ()
    # the record PVE writes for a create (its own id and derived settings): made(ctx, key, values) -> (key, values)
    made: Callable[[HandlerContext, str, dict[str, Any]], tuple[str, dict[str, Any]]] | None = None
    # the records a GET answers instead of the written ones, without a digest (SDN's ``running`` and ``pending``
    # views): view(ctx) -> records by key, or ``None`` for the written ones
    view: Callable[[HandlerContext], dict[str, dict[str, Any]] | None] | None = None
    # PVE's refusals of a delete, after the record was found: deleting(ctx, key, record) raises them
    deleting: Callable[[HandlerContext, str, dict[str, Any]], None] | None = None
    # how PVE answers a stored record (a subnet's DHCP ranges parsed into objects): answered(record) -> record
    answered: Callable[[dict[str, Any]], dict[str, Any]] | None = None

    @property
    def item(self) -> str:
        return f"{self.base}/{{{self.key}}}"


@dataclass(frozen=True)
class Rules:
    base: str

    @property
    def item(self) -> str:
        return f"{self.base}/{{pos}}"


@dataclass(frozen=True)
class Options:
    template: str
    # what the node holds before any write (otherwise values synthesised from the schema)
    defaults: Callable[[HandlerContext], dict[str, Any]] | None = None


_GUESTS = ("/nodes/{node}/qemu/{vmid}", "/nodes/{node}/lxc/{vmid}")
_SDN_READ = ("SDN.Audit", "SDN.Allocate")


def _node_resolv_conf(ctx: HandlerContext) -> dict[str, Any]:
    return resolv_conf(ctx.cluster, ctx.cluster.require_node_reachable(ctx.params["node"]))


def _realms(ctx: HandlerContext) -> list[tuple[str, dict[str, Any]]]:
    return [
        ("pam", {"realm": "pam", "type": "pam", "comment": "Linux PAM standard authentication"}),
        ("pve", {"realm": "pve", "type": "pve", "comment": "Proxmox VE authentication server"}),
    ]


def _realm_entry(realm: str, record: Mapping[str, Any]) -> dict[str, Any]:
    """A realm as the world-readable list shows it: realm, type, comment, default and the TFA type only
    (pve-access-control src/PVE/API2/Domains.pm index, at 5ccd07d9), never its servers, bind user or keys."""
    entry: dict[str, Any] = {"realm": realm, "type": record.get("type")}
    for name in ("comment", "default"):
        if record.get(name):
            entry[name] = record[name]
    tfa = str(record.get("tfa") or "")
    tfa_type = next((part.partition("=")[2] for part in tfa.split(",") if part.startswith("type=")), "")
    if tfa_type:
        entry["tfa"] = tfa_type
    return entry


def _realm_messages(action: str, realm: str, values: Mapping[str, Any]) -> str:
    """pve-access-control src/PVE/API2/Domains.pm (5ccd07d9): create 152-159, update 240, read 318, delete 357,
    the writes inside ``lock_domain_config`` with their failure prefix."""
    if action == "create":
        if values.get("type") in ("pam", "pve"):
            raise PVEError(f"add auth server failed: unable to create builtin type '{values['type']}'")
        return ""
    if action == "exists":
        return f"add auth server failed: domain '{realm}' already exists"
    if action == "delete":
        return f"delete auth server failed: authentication domain '{realm}' does not exist"
    prefix = "update auth server failed: " if action == "update" else ""
    return f"{prefix}domain '{realm}' does not exist"


def _node_interfaces(ctx: HandlerContext) -> list[tuple[str, dict[str, Any]]]:
    """A node's ``/etc/network/interfaces`` as the installer writes it: the NIC and the bridge with the node's IP."""
    node = ctx.cluster.find_node(str(ctx.params.get("node", "")))
    address = getattr(node, "ip", "192.0.2.11")
    gateway = address.rsplit(".", 1)[0] + ".1"
    common = {"families": ["inet"], "method6": "manual", "active": 1}
    return [
        ("eno1", {"iface": "eno1", "type": "eth", "method": "manual", "exists": 1, "priority": 1, **common}),
        (
            "vmbr0",
            {
                "iface": "vmbr0",
                "type": "bridge",
                "method": "static",
                "address": address,
                "netmask": "24",
                "cidr": f"{address}/24",
                "gateway": gateway,
                "bridge_ports": "eno1",
                "bridge_stp": "off",
                "bridge_fd": "0",
                "autostart": 1,
                "priority": 2,
                **common,
            },
        ),
    ]


def _backup_job_messages(action: str, jobid: str, values: Mapping[str, Any]) -> str:
    if action == "read":
        raise ParameterError({"id": f"No such job '{jobid}'"})
    if action == "exists":
        return f"backup job '{jobid}' already exists"
    return f"backup job '{jobid}' does not exist"


def _notification_builtins(kind: str) -> Callable[[HandlerContext], list[tuple[str, dict[str, Any]]]]:
    """PVE's built-in notification target and matcher (``mail-to-root``, ``default-matcher``)."""

    def builtin(ctx: HandlerContext) -> list[tuple[str, dict[str, Any]]]:
        if kind == "sendmail":
            record = {"mailto-user": ["root@pam"], "comment": "Send mails to root@pam's email address"}
            return [("mail-to-root", {"name": "mail-to-root", "origin": "builtin", **record})]
        if kind == "matchers":
            record = {"target": ["mail-to-root"], "comment": "Route all notifications to mail-to-root"}
            return [("default-matcher", {"name": "default-matcher", "origin": "builtin", **record})]
        return []

    return builtin


def _sdn_subnet(ctx: HandlerContext, cidr: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A subnet is kept as ``<zone>-<network>-<mask>`` (pve-network src/PVE/API2/Network/SDN/Subnets.pm create
    219-226) and read with its id, CIDR, zone, network and mask (src/PVE/Network/SDN/Subnets.pm 19-38, ecf98c5d)."""
    if "/" in cidr:
        vnet = str(ctx.params.get("vnet", ""))
        zone = str((config_store(ctx.cluster).section("/cluster/sdn/vnets").get(vnet) or {}).get("zone", ""))
        network, _, mask = cidr.partition("/")
        key = f"{zone}-{network}-{mask}"
    else:  # already an id
        key = cidr
        zone, _, rest = cidr.partition("-")
        network, _, mask = rest.rpartition("-")
    record = {**values, "subnet": key, "id": key, "cidr": f"{network}/{mask}", "zone": zone}
    if ctx.params.get("vnet"):  # subnets.cfg keeps each subnet's vnet, and PVE answers it
        record["vnet"] = str(ctx.params["vnet"])
    record.update({"network": network, "mask": mask})
    record.setdefault("dhcp-range", [])
    return key, record


def _sdn_subnet_answer(record: dict[str, Any]) -> dict[str, Any]:
    """A subnet as Subnets.pm answers it: ``dhcp-range`` as objects (``get_dhcp_ranges``, src/PVE/Network/SDN/
    Subnets.pm 40-60, ecf98c5d: each property string parsed, one that does not parse left out); in a pending view
    the written ranges under ``pending`` stay as written."""
    ranges = record.get("dhcp-range")
    parsed = []
    for text in ranges if isinstance(ranges, list) else []:
        fields = (
            dict(part.split("=", 1) for part in str(text).split(",") if "=" in part) if isinstance(text, str) else text
        )
        if isinstance(fields, dict) and fields.get("start-address") and fields.get("end-address"):
            parsed.append({"start-address": fields["start-address"], "end-address": fields["end-address"]})
    return {**record, "dhcp-range": parsed}


def _sdn_zone(ctx: HandlerContext, zone: str, values: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A new zone as Zones.pm create (405-447, ecf98c5d) checks it after the exists check: its DNS servers and IPAM
    must exist; then the EVPN plugin's on_update_hook (Zones/EvpnPlugin.pm 349-376): an EVPN controller, a
    ``vrf-vxlan`` no other zone has, and a MAC drawn in the datacenter's prefix when none is given. A
    raise_param_exc dies through lock_sdn_config as text (pve-common PVE/Exception.pm stringify 98-123)."""
    store = config_store(ctx.cluster)
    zones = store.section("/cluster/sdn/zones").records
    if zone in zones:
        return zone, values  # the exists check answers
    failure = "create sdn zone object failed"

    def refuse(name: str, text: str) -> PVEError:
        return PVEError(f"{failure}: 400 Parameter verification failed.\n{name}: {text}")

    dns = store.section("/cluster/sdn/dns").records
    for name in ("dns", "reversedns"):
        if values.get(name) and str(values[name]) not in dns:
            raise refuse(name, f"{values[name]} don't exist")
    if values.get("dnszone") and not values.get("dns"):
        raise refuse("dnszone", "missing dns server")
    ipam = values.get("ipam")
    if ipam and str(ipam) != "pve" and str(ipam) not in store.section("/cluster/sdn/ipams").records:
        raise refuse("ipam", f"{ipam} not existing")
    if values.get("type") == "evpn":
        where = "/usr/share/perl5/PVE/Network/SDN/Zones/EvpnPlugin.pm"
        controller = str(values.get("controller") or "")
        found = store.section("/cluster/sdn/controllers").get(controller)
        if found is None:
            raise PVEError(f"{failure}: controller {controller} don't exist at {where} line 354.")
        if found.get("type") != "evpn":
            raise PVEError(f"{failure}: {controller} is not a evpn controller type at {where} line 356.")
        for other, record in zones.items():
            if record.get("vrf-vxlan") is not None and str(record.get("vrf-vxlan")) == str(values.get("vrf-vxlan")):
                vni = values.get("vrf-vxlan")
                raise PVEError(f"{failure}: vrf-vxlan {vni} is already declared in {other} at {where} line 366.")
        if not values.get("mac"):
            draw = figures.seeded(ctx.cluster.seed, "sdn-zone-mac", zone, len(zones))
            values = {**values, "mac": figures.mac_address(draw)}
    return zone, values


def _sdn_vnet_deleting(ctx: HandlerContext, vnet: str, record: dict[str, Any]) -> None:
    """VnetPlugin.pm on_delete_hook (99-105, ecf98c5d): not while the vnet has subnets; its raise_param_exc dies
    through lock_sdn_config as text (pve-common PVE/Exception.pm stringify 98-123)."""
    if config_store(ctx.cluster).section(f"/cluster/sdn/vnets/{vnet}/subnets").records:
        raise PVEError(
            "delete sdn vnet object failed: 400 Parameter verification failed.\n"
            "vnet: Can't delete vnet if subnets exists"
        )


def _sdn_subnet_deleting(ctx: HandlerContext, subnet: str, record: dict[str, Any]) -> None:
    """Subnets.pm del_subnet -> Ipams/PVEPlugin.pm del_subnet (80-110): a subnet of the PVE IPAM only while no
    address but its gateway is registered."""
    zone = str(record.get("zone") or "")
    cidr = str(record.get("cidr") or "")
    ips = ipam_db(ctx.cluster)["zones"].get(zone, {}).get("subnets", {}).get(cidr, {}).get("ips", {})
    if ips and not (len(ips) == 1 and next(iter(ips.values())).get("gateway") == 1):
        raise PVEError(f"delete sdn subnet object failed: cannot delete subnet '{cidr}', not empty")


def _sdn_view(kind: str) -> Callable[[HandlerContext], dict[str, dict[str, Any]] | None]:
    """The ``running`` and ``pending`` views of an SDN list and its reads (pve-network src/PVE/API2/Network/SDN/
    {Zones,Vnets,Subnets,Controllers}.pm index and read, commit ecf98c5d): the running config's objects, or
    ``pending_config`` of the running and the written ones (a subnet list: the vnet's). PVE sets their ``digest``
    from a config that has none (null); the fake leaves it out."""

    def view(ctx: HandlerContext) -> dict[str, dict[str, Any]] | None:
        pending, running = int(ctx.params.get("pending") or 0), int(ctx.params.get("running") or 0)
        if not pending and not running:
            return None
        return sdn_view(ctx.cluster, kind, bool(pending), ctx.params.get("vnet") if kind == "subnets" else None)

    return view


def _sdn_messages(kind: str) -> Callable[[str, str, Mapping[str, Any]], str]:
    """pve-network's wording (commit ecf98c5d): ``sdn_<kind>s_config`` dies ``sdn '<id>' does not exist`` (vnets and
    subnets name themselves: src/PVE/Network/SDN/{Zones,Vnets,Subnets,Controllers,Ipams,Dns}.pm), the writes run in
    ``lock_sdn_config`` with their failure prefix (``create sdn zone object failed``, src/PVE/API2/Network/SDN/*.pm;
    Ipams.pm line 282 says ``delete sdn zone object failed`` when deleting an IPAM)."""

    def messages(action: str, key: str, values: Mapping[str, Any]) -> str:
        gone = f"sdn {kind} '{key}' does not exist" if kind in ("vnet", "subnet") else f"sdn '{key}' does not exist"
        if action == "create":
            return ""
        if action == "exists":
            return f"create sdn {kind} object failed: sdn {kind} object ID '{key}' already defined"
        if action == "read":
            return gone
        noun = "zone" if (kind, action) == ("ipam", "delete") else kind
        return f"{action} sdn {noun} object failed: {gone}"

    return messages


_NOTIFICATION_PRIVATE = {"gotify": ("token",), "smtp": ("password",), "webhook": ("secret",)}

COLLECTIONS: tuple[Keyed | Rules | Options, ...] = (
    # firewall (a security group's own path is its rule list, an IP set's its entries: see ``nested``)
    Rules("/cluster/firewall/rules"),
    Rules("/cluster/firewall/groups/{group}"),
    Rules("/nodes/{node}/firewall/rules"),
    Rules("/cluster/sdn/vnets/{vnet}/firewall/rules"),
    *(Rules(f"{guest}/firewall/rules") for guest in _GUESTS),
    Keyed("/cluster/firewall/groups", "group", "security group", nested=True),
    Keyed("/cluster/firewall/aliases", "name", "alias"),
    Keyed("/cluster/firewall/ipset/{name}", "cidr", "IP set entry"),
    Keyed("/cluster/firewall/ipset", "name", "IP set", nested=True),
    *(Keyed(f"{guest}/firewall/aliases", "name", "alias") for guest in _GUESTS),
    *(Keyed(f"{guest}/firewall/ipset/{{name}}", "cidr", "IP set entry") for guest in _GUESTS),
    *(Keyed(f"{guest}/firewall/ipset", "name", "IP set", nested=True) for guest in _GUESTS),
    Options("/cluster/firewall/options"),
    Options("/nodes/{node}/firewall/options"),
    Options("/cluster/sdn/vnets/{vnet}/firewall/options"),
    *(Options(f"{guest}/firewall/options") for guest in _GUESTS),
    # jobs
    # pve-manager PVE/API2/Backup.pm (14a22df3): 'fleecing', 'prune-backups' and 'performance' are property strings
    # in POST and PUT "but proper objects when they are returned from the API" (158-180); read_job of a missing job
    # raise_param_exc({id => "No such job '$id'"}) (407)
    Keyed(
        "/cluster/backup",
        "id",
        "backup job",
        messages=_backup_job_messages,
        objects=("prune-backups", "fleecing", "performance"),
    ),
    # SDN
    Keyed(
        "/cluster/sdn/zones",
        "zone",
        "sdn zone",
        view=_sdn_view("zones"),
        made=_sdn_zone,
        visible_with=("/sdn/zones/{zone}", _SDN_READ),
        messages=_sdn_messages("zone"),
    ),
    Keyed(
        "/cluster/sdn/vnets/{vnet}/subnets",
        "subnet",
        "sdn subnet",
        view=_sdn_view("subnets"),
        messages=_sdn_messages("subnet"),
        made=_sdn_subnet,
        deleting=_sdn_subnet_deleting,
        answered=_sdn_subnet_answer,
    ),
    Keyed(
        "/cluster/sdn/vnets",
        "vnet",
        "sdn vnet",
        view=_sdn_view("vnets"),
        deleting=_sdn_vnet_deleting,
        visible_with=("/sdn/zones/{zone}/{vnet}", _SDN_READ),
        messages=_sdn_messages("vnet"),
    ),
    Keyed(
        "/cluster/sdn/controllers",
        "controller",
        "sdn controller",
        view=_sdn_view("controllers"),
        visible_with=("/sdn/controllers/{controller}", _SDN_READ),
        messages=_sdn_messages("controller"),
    ),
    Keyed(
        "/cluster/sdn/ipams",
        "ipam",
        "sdn ipam",
        # pve-network src/PVE/Network/SDN/Ipams.pm config (101-106, ecf98c5d): the built-in PVE IPAM is always there
        builtin=lambda ctx: [("pve", {"type": "pve"})],
        visible_with=("/sdn/ipams/{ipam}", _SDN_READ),
        messages=_sdn_messages("ipam"),
    ),
    Keyed(
        "/cluster/sdn/dns", "dns", "sdn dns", visible_with=("/sdn/dns/{dns}", _SDN_READ), messages=_sdn_messages("dns")
    ),
    # notifications, metrics (resource mappings: api/handlers/mappings.py; ACME plugins: api/handlers/acme.py)
    # pve-manager PVE/API2/Cluster/Notifications.pm (14a22df3) answers without the gotify token (line 702, 749)
    # and the SMTP password (1016, 1061); proxmox-notify keeps webhook secrets in priv/notifications.cfg and "for
    # any API endpoints returning the endpoint config, only the secret name but not the value will be returned"
    # (proxmox-notify src/endpoints/webhook.rs, WebhookConfig.secret)
    *(
        Keyed(
            f"/cluster/notifications/endpoints/{kind}",
            "name",
            "endpoint",
            builtin=_notification_builtins(kind),
            private=_NOTIFICATION_PRIVATE.get(kind, ()),
        )
        for kind in ("sendmail", "gotify", "smtp", "webhook")
    ),
    Keyed("/cluster/notifications/matchers", "name", "matcher", builtin=_notification_builtins("matchers")),
    # the InfluxDB token goes to /etc/pve/priv/metricserver (PVE/API2/Cluster/MetricServer.pm 161, 217)
    Keyed("/cluster/metrics/server", "id", "Metric server", create_on_item=True, private=("token",)),
    # access (groups, roles and ACLs live in the model's AccessControl: api/handlers/access_control.py)
    # an LDAP/AD bind password goes to /etc/pve/priv/realm/<realm>.pw (pve-access-control src/PVE/API2/Domains.pm
    # 140-185, 225-276 at 5ccd07d9); an OpenID client-key stays in domains.cfg and is returned, as on PVE
    Keyed(
        "/access/domains",
        "realm",
        "realm",
        builtin=_realms,
        private=("password",),
        listed=_realm_entry,
        messages=_realm_messages,
    ),
    # node network interfaces
    Keyed("/nodes/{node}/network", "iface", "interface", builtin=_node_interfaces),
    # options
    Options("/cluster/options"),
    Options("/nodes/{node}/dns", defaults=_node_resolv_conf),
    Options("/nodes/{node}/config"),
)


def config_store(cluster: FakeCluster) -> ConfigStore:
    """The cluster's config store (created on first use)."""
    return config_store_of(cluster)


CollectionAction = Callable[["HandlerContext", Any], Any]


def collection_routes() -> list[tuple[str, str, str, CollectionAction]]:
    """Every method the collections answer: ``(method, template, description, action(ctx, endpoint))``.

    Each method is declared once; the route table refuses a method declared twice (here or elsewhere).
    """
    routes: list[tuple[str, str, str, CollectionAction]] = []

    def add(method: str, template: str, action: str, spec: Keyed | Rules | Options) -> None:
        routes.append((method, template, f"{_spec_name(spec)}: {action}", _SpecAction(_ACTIONS[action], spec)))

    for spec in COLLECTIONS:
        if isinstance(spec, Rules):
            add("GET", spec.base, "rules_list", spec)
            add("POST", spec.base, "rules_create", spec)
            add("GET", spec.item, "rules_read", spec)
            add("PUT", spec.item, "rules_update", spec)
            add("DELETE", spec.item, "rules_delete", spec)
        elif isinstance(spec, Keyed):
            add("GET", spec.base, "keyed_list", spec)
            add("POST", spec.item if spec.create_on_item else spec.base, "keyed_create", spec)
            if not spec.nested:
                add("GET", spec.item, "keyed_read", spec)
            add("PUT", spec.item, "keyed_update", spec)
            add("DELETE", spec.item, "keyed_delete", spec)
        else:
            add("GET", spec.template, "options_read", spec)
            add("PUT", spec.template, "options_update", spec)
    for (method, template), special in _SPECIAL_ACTIONS.items():
        routes.append((method, template, f"{special.__module__}.{special.__name__}", special))
    return routes


def _spec_name(spec: Keyed | Rules | Options) -> str:
    if isinstance(spec, Keyed):
        return f"Keyed({spec.base!r}, {spec.key!r})"
    if isinstance(spec, Rules):
        return f"Rules({spec.base!r})"
    return f"Options({spec.template!r})"


@dataclass(frozen=True)
class _SpecAction:
    """A collection action bound to its collection."""

    run: Callable[[HandlerContext, Any, Any], Any]
    spec: Keyed | Rules | Options

    def __call__(self, ctx: HandlerContext, endpoint: Any) -> Any:
        return self.run(ctx, endpoint, self.spec)


_PARENTS = {spec.item: spec for spec in COLLECTIONS if isinstance(spec, Keyed)}


# -- shaping answers to the returns schema --------------------------------------------------------------------------
def facts_for(ctx: HandlerContext) -> Facts:
    return cluster_facts(ctx.cluster, ctx.params)


def shape(record: Mapping[str, Any], schema: Mapping[str, Any] | None, facts: Facts) -> dict[str, Any]:
    """``record`` as an object valid under ``schema``: fitting values kept, required ones filled in."""
    schema = schema or {}
    properties = schema.get("properties") or {}
    if not properties:
        return dict(record)
    required = set(schema.get("required") or ())
    result: dict[str, Any] = {}
    for key, sub in properties.items():
        if key in record and value_fits(record[key], sub):
            result[key] = record[key]
        elif key in record and value_fits(str(record[key]), sub):
            result[key] = str(record[key])
        elif key in required:
            result[key] = synthesize(sub, facts, key)
    if schema.get("additionalProperties", True) is not False:
        result.update({key: value for key, value in record.items() if key not in properties})
    return result


def _items_schema(endpoint: Any) -> Mapping[str, Any]:
    returns = _returns(endpoint)
    items = returns.get("items")
    return items if isinstance(items, Mapping) else {}


def _returns(endpoint: Any) -> Mapping[str, Any]:
    returns = getattr(endpoint, "returns_schema", None)
    return returns if isinstance(returns, Mapping) else {}


def _stored_values(ctx: HandlerContext, key: str | None = None) -> dict[str, Any]:
    """The request's parameters worth storing: no write controls, no path parameters except the record's key."""
    path_params = set(re.findall(r"\{([^}]+)\}", ctx.template))
    return {
        name: value
        for name, value in ctx.params.items()
        if name not in _META and name != "pos" and (name not in path_params or name == key)
    }


def _deleted(ctx: HandlerContext) -> list[str]:
    """The settings named by ``delete`` (a ``pve-configid-list``)."""
    value = ctx.params.get("delete")
    return [name for name in _LIST_SPLIT.split(value) if name] if isinstance(value, str) else []


def _check_digest(ctx: HandlerContext, current: str) -> None:
    wanted = ctx.params.get("digest")
    if wanted and wanted != current:
        raise PVEError("detected modified configuration - file changed by other user? Try again.")


# -- keyed records ---------------------------------------------------------------------------------------------------
_GUEST_PREFIX = re.compile(r"^/nodes/[^/]+/(?:qemu|lxc)/(\d+)(?=/|$)")


def store_name(template: str, params: Mapping[str, Any]) -> str:
    """Where a collection is stored: its concrete path, with a guest's path reduced to ``/guests/<vmid>``.

    A guest's firewall lives in ``/etc/pve/firewall/<vmid>.fw``, whatever node the guest runs on, so its rules
    follow it through a migration.
    """
    return store_name_of_path(fill_template(template, params))


def _section_name(ctx: HandlerContext, spec: Keyed) -> str:
    return store_name(spec.base, ctx.params)


def _require_parent(ctx: HandlerContext, base_template: str) -> None:
    # the record's own path (an IP set's entries), or the one above it (a vnet's subnets: pve-network's
    # check_vnet_access, src/PVE/API2/Network/SDN/Subnets.pm 47-56, names the vnet first)
    parent = _PARENTS.get(base_template) or _PARENTS.get(base_template.rsplit("/", 1)[0])
    if parent is None:
        return
    section = _section(ctx, parent)
    key = str(ctx.params.get(parent.key, ""))
    if section.get(key) is None:
        raise PVEError(f"{parent.noun} '{key}' does not exist")


def _section(ctx: HandlerContext, spec: Keyed) -> KeyedSection:
    section = config_store(ctx.cluster).section(_section_name(ctx, spec))
    if spec.builtin is not None and not section.seeded:
        section.seed(spec.builtin(ctx))
    return section


def _keyed_list(ctx: HandlerContext, endpoint: Any, spec: Keyed) -> list[dict[str, Any]]:
    _require_parent(ctx, spec.base)
    section = _section(ctx, spec)
    facts = facts_for(ctx)
    items = _items_schema(endpoint)
    digest = section.digest
    viewed = spec.view(ctx) if spec.view is not None else None
    answer = []
    # pve-network's SDN lists answer only the records of the 'type' asked for (API2/Network/SDN/Zones.pm index 295,
    # Controllers.pm 186, Ipams.pm 86, Dns.pm 81, ecf98c5d)
    wanted_type = ctx.params.get("type") if spec.base.startswith("/cluster/sdn/") else None
    for key, record in (viewed if viewed is not None else section.records).items():
        if spec.visible_with and not _record_visible(ctx, spec, key, {**(record.get("pending") or {}), **record}):
            continue
        if wanted_type and record.get("type") != wanted_type:
            continue
        if viewed is not None:
            answer.append(shape(_answered(spec, {**record, spec.key: key}), items, facts))
            continue
        full = spec.listed(key, record) if spec.listed else {spec.key: key, "digest": digest, **record}
        answer.append(shape(_answered(spec, _as_objects(spec, full, items)), items, facts))
    return answer


def _record_visible(ctx: HandlerContext, spec: Keyed, key: str, record: Mapping[str, Any]) -> bool:
    assert spec.visible_with is not None
    template, privs = spec.visible_with
    values = {**record, spec.key: key, "guest": key.split("-", 1)[0]}
    return _may(ctx, fill_template(template, values), list(privs))


def _keyed_create(ctx: HandlerContext, endpoint: Any, spec: Keyed) -> Any:
    _require_parent(ctx, spec.base)
    section = _section(ctx, spec)
    key = ctx.params.get(spec.key)
    if key in (None, ""):  # PVE makes up an id when the client gives none (backup jobs: backup-<uuid part>)
        prefix = spec.base.rsplit("/", 1)[1]
        key = f"{prefix}-{digest_of([prefix, len(section.records), ctx.cluster.clock.now()])[:8]}-0000"
    key = str(key)
    values = {**_public_values(spec, _stored_values(ctx, spec.key)), spec.key: key}
    if spec.made is not None:
        key, values = spec.made(ctx, key, values)
    if spec.base.startswith("/cluster/notifications/"):
        values["origin"] = "user-created"
        _ensure_unique_notification_entity(ctx, key)
    exists = f"{spec.noun} '{key}' already exists"
    if spec.messages:
        exists = spec.messages("exists", key, values)
        if section.get(key) is None:
            spec.messages("create", key, values)  # PVE's refusals of a new record, after the exists check
    section.create(key, values, exists)
    return _write_answer(ctx, endpoint)


def _ensure_unique_notification_entity(ctx: HandlerContext, name: str) -> None:
    """proxmox-notify src/api/mod.rs ``ensure_unique``: targets and matchers share notifications.cfg, one name
    space (built-ins included), 400 for a name any of them has."""
    bases = [f"/cluster/notifications/endpoints/{kind}" for kind in ("sendmail", "gotify", "smtp", "webhook")]
    if any(name in _stored_records(ctx, base) for base in [*bases, "/cluster/notifications/matchers"]):
        raise PVEError(f"Cannot create '{name}', an entity with the same name already exists", 400)


def _public_values(spec: Keyed, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` without the settings PVE keeps private; webhook secrets keep their names, never their values."""
    public = {name: value for name, value in values.items() if name not in spec.private or name == "secret"}
    if "secret" in spec.private and "secret" in values:
        names = [_secret_name(entry) for entry in _as_list(values["secret"])]
        public["secret"] = [f"name={name}" for name in names if name]
    return public


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _secret_name(entry: Any) -> str:
    """The ``name`` of a webhook secret property string (``name=<name>,value=<base64>``)."""
    for part in str(entry).split(","):
        key, _, value = part.partition("=")
        if key.strip() == "name":
            return value.strip()
    return ""


def _keyed_record(ctx: HandlerContext, spec: Keyed, action: str = "read") -> tuple[KeyedSection, str, dict[str, Any]]:
    _require_parent(ctx, spec.base)
    section = _section(ctx, spec)
    key = str(ctx.params.get(spec.key, ""))
    record = section.get(key)
    if record is None:
        raise PVEError(spec.messages(action, key, {}) if spec.messages else f"{spec.noun} '{key}' does not exist")
    return section, key, record


def _keyed_read(ctx: HandlerContext, endpoint: Any, spec: Keyed) -> dict[str, Any]:
    viewed = spec.view(ctx) if spec.view is not None else None
    if viewed is not None:
        _require_parent(ctx, spec.base)
        key = str(ctx.params.get(spec.key, ""))
        if key not in viewed:
            raise PVEError(spec.messages("read", key, {}) if spec.messages else f"{spec.noun} '{key}' does not exist")
        return shape(_answered(spec, {**viewed[key], spec.key: key}), _returns(endpoint), facts_for(ctx))
    section, key, record = _keyed_record(ctx, spec)
    full = _answered(spec, _as_objects(spec, {spec.key: key, "digest": section.digest, **record}, _returns(endpoint)))
    return shape(full, _returns(endpoint), facts_for(ctx))


def _answered(spec: Keyed, record: dict[str, Any]) -> dict[str, Any]:
    return spec.answered(record) if spec.answered is not None else record


def _as_objects(spec: Keyed, record: dict[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    """``record`` with the property strings PVE answers as objects parsed (numbers and booleans as numbers)."""
    if not spec.objects:
        return record
    properties = schema.get("properties") or {}
    result = dict(record)
    for name in spec.objects:
        text, sub = record.get(name), properties.get(name) or {}
        if not isinstance(text, str) or sub.get("type") != "object":
            continue
        try:
            parsed = parse_property_string(text, dict(sub))
        except PropertyStringError:
            continue
        keys = sub.get("properties") or {}
        result[name] = {
            key: int(value)
            if (keys.get(key) or {}).get("x-pve-type") in ("integer", "boolean") and str(value).lstrip("-").isdigit()
            else value
            for key, value in parsed.items()
        }
    return result


def _keyed_update(ctx: HandlerContext, endpoint: Any, spec: Keyed) -> Any:
    section, key, _record = _keyed_record(ctx, spec, "update")
    _check_digest(ctx, section.digest)
    values = _public_values(spec, {k: v for k, v in _stored_values(ctx).items() if k != spec.key})
    section.update(key, values, _deleted(ctx))
    if section.records[key].get("origin") == "builtin":
        section.records[key]["origin"] = "modified-builtin"
    return _write_answer(ctx, endpoint)


def _keyed_delete(ctx: HandlerContext, endpoint: Any, spec: Keyed) -> Any:
    section, key, record = _keyed_record(ctx, spec, "delete")
    if spec.deleting is not None:
        spec.deleting(ctx, key, record)
    section.remove(key)
    config_store(ctx.cluster).drop(store_name(spec.item, {**ctx.params, spec.key: key}))
    return _write_answer(ctx, endpoint)


# -- firewall rules ----------------------------------------------------------------------------------------------------
def _rules(ctx: HandlerContext, spec: Rules) -> RuleList:
    _require_parent(ctx, spec.base)
    return config_store(ctx.cluster).rules(store_name(spec.base, ctx.params))


def _pos(ctx: HandlerContext) -> int:
    value = ctx.params.get("pos")
    if value is None:
        raise ParameterError({"pos": "property is missing and it is not optional"})
    return int(value)


def _rules_list(ctx: HandlerContext, endpoint: Any, spec: Rules) -> list[dict[str, Any]]:
    rules = _rules(ctx, spec)
    facts = facts_for(ctx)
    items = _items_schema(endpoint)
    return [shape({**rule, "digest": rules.digest}, items, facts) for rule in rules.numbered()]


def _rules_create(ctx: HandlerContext, endpoint: Any, spec: Rules) -> Any:
    rules = _rules(ctx, spec)
    _check_digest(ctx, rules.digest)
    pos = ctx.params.get("pos")
    values = _stored_values(ctx)
    values.setdefault("enable", 0)
    rules.insert(values, None if pos is None else int(pos))
    return _write_answer(ctx, endpoint)


def _rules_read(ctx: HandlerContext, endpoint: Any, spec: Rules) -> dict[str, Any]:
    rules = _rules(ctx, spec)
    return shape(rules.get(_pos(ctx)), _returns(endpoint), facts_for(ctx))


def _rules_update(ctx: HandlerContext, endpoint: Any, spec: Rules) -> Any:
    rules = _rules(ctx, spec)
    _check_digest(ctx, rules.digest)
    moveto = ctx.params.get("moveto")
    rules.update(_pos(ctx), _stored_values(ctx), _deleted(ctx), None if moveto is None else int(moveto))
    return _write_answer(ctx, endpoint)


def _rules_delete(ctx: HandlerContext, endpoint: Any, spec: Rules) -> Any:
    rules = _rules(ctx, spec)
    _check_digest(ctx, rules.digest)
    rules.remove(_pos(ctx))
    return _write_answer(ctx, endpoint)


# -- option sets ---------------------------------------------------------------------------------------------------
def _options_name(ctx: HandlerContext, spec: Options) -> str:
    return store_name(spec.template, ctx.params)


def _options_read(ctx: HandlerContext, endpoint: Any, spec: Options) -> dict[str, Any]:
    stored = config_store(ctx.cluster).option_set(_options_name(ctx, spec))
    returns = _returns(endpoint)
    facts = facts_for(ctx)
    if not returns.get("properties"):
        return dict(stored)
    base = spec.defaults(ctx) if spec.defaults is not None else (synthesize(returns, facts) or {})
    return shape({**base, **stored, "digest": digest_of(stored)}, returns, facts)


def _options_update(ctx: HandlerContext, endpoint: Any, spec: Options) -> Any:
    stored = config_store(ctx.cluster).option_set(_options_name(ctx, spec))
    _check_digest(ctx, digest_of(stored))
    stored.update(_stored_values(ctx))
    for name in _deleted(ctx):
        stored.pop(name, None)
    return _write_answer(ctx, endpoint)


def _write_answer(ctx: HandlerContext, endpoint: Any) -> Any:
    """What a write returns: usually ``null``; a few return a string or object, synthesised from the schema."""
    returns = _returns(endpoint)
    if returns.get("type") in (None, "null"):
        return None
    return synthesize(returns, facts_for(ctx))


_ACTIONS: dict[str, Callable[[HandlerContext, Any, Any], Any]] = {
    "keyed_list": _keyed_list,
    "keyed_create": _keyed_create,
    "keyed_read": _keyed_read,
    "keyed_update": _keyed_update,
    "keyed_delete": _keyed_delete,
    "rules_list": _rules_list,
    "rules_create": _rules_create,
    "rules_read": _rules_read,
    "rules_update": _rules_update,
    "rules_delete": _rules_delete,
    "options_read": _options_read,
    "options_update": _options_update,
}


# -- permission filter of lists ---------------------------------------------------------------------------------
def _may(ctx: HandlerContext, path: str, privs: list[str]) -> bool:
    """Whether the caller has any of ``privs`` on ``path`` (for lists PVE filters in the method's code)."""
    return PermissionChecker(ctx.cluster).check(ctx.principal.authid, path, privs, any_of=True, noerr=True)


# -- lists derived from stored collections --------------------------------------------------------------------------
def _stored_records(ctx: HandlerContext, base: str) -> dict[str, dict[str, Any]]:
    spec = next(spec for spec in COLLECTIONS if isinstance(spec, Keyed) and spec.base == base)
    return _section(ctx, spec).records


def realm_records(ctx: HandlerContext) -> dict[str, dict[str, Any]]:
    """The realms of ``domains.cfg`` by name, the built-in ``pam`` and ``pve`` among them."""
    return _stored_records(ctx, "/access/domains")


def endpoint_records(ctx: HandlerContext, kind: str) -> dict[str, dict[str, Any]]:
    """The notification endpoints of one type (``sendmail``, ``gotify``, ``smtp``, ``webhook``) by name, the
    built-in ``mail-to-root`` among them."""
    return _stored_records(ctx, f"/cluster/notifications/endpoints/{kind}")


def _notification_targets(ctx: HandlerContext, endpoint: Any) -> list[dict[str, Any]]:
    targets = []
    for kind in ("sendmail", "gotify", "smtp", "webhook"):
        for name, record in _stored_records(ctx, f"/cluster/notifications/endpoints/{kind}").items():
            entry = {"name": name, "type": kind, "origin": record.get("origin", "user-created")}
            entry.update({key: record[key] for key in ("comment", "disable") if key in record})
            targets.append(entry)
    return targets


# pve-manager PVE/API2/Cluster/Notifications.pm lines 90-228 (commit 14a22df3): "until there is a registry"
_NOTIFICATION_TYPES = ("package-updates", "fencing", "replication", "vzdump", "system-mail")


def _matcher_fields(ctx: HandlerContext, endpoint: Any) -> list[dict[str, Any]]:
    """The metadata fields a matcher can match on: a fixed list in PVE."""
    return [{"name": "type"}, {"name": "hostname"}, {"name": "job-id"}]


def _matcher_field_values(ctx: HandlerContext, endpoint: Any) -> list[dict[str, Any]]:
    """The known values: notification types, backup job ids (with ``Sys.Audit`` on ``/``), the replication jobs
    the caller may see, the cluster's node names. PVE writes a job's missing comment as JSON null; the fake leaves
    the key out, as the schema describes it."""
    values: list[dict[str, Any]] = [{"value": kind, "field": "type"} for kind in _NOTIFICATION_TYPES]
    jobs: list[tuple[str, dict[str, Any]]] = []
    if _may(ctx, "/", ["Sys.Audit"]):
        jobs.extend(_stored_records(ctx, "/cluster/backup").items())
    for jobid in replication.job_ids(ctx.cluster):  # the jobs the caller may audit (model/replication.py)
        job = replication.job(ctx.cluster, jobid)
        if job is not None and _may(ctx, f"/vms/{job['guest']}", ["VM.Audit"]):
            jobs.append((jobid, job))
    for jobid, record in jobs:
        values.append({"value": jobid, **_comment(record), "field": "job-id"})
    values.extend({"value": node.name, "field": "hostname"} for node in ctx.cluster.nodes)
    return values


def _firewall_refs(ctx: HandlerContext, endpoint: Any) -> list[dict[str, Any]]:
    """``collect_refs`` of the cluster's firewall (scope ``dc``), and on a guest's path of the guest's own
    (scope ``guest``) after it: each file's IP sets (``+name``) before its aliases (pve-firewall
    src/PVE/Firewall/Helpers.pm lines 156-191, src/PVE/API2/Firewall/VM.pm ``refs``; commit 6f1311f3). The SDN
    scope (IP sets PVE's SDN makes for vnets with subnets) is not modelled."""
    scopes = [("dc", "/cluster/firewall")]
    guest = _GUEST_PREFIX.match(ctx.path)
    if guest is not None:
        scopes.append(("guest", guest[0] + "/firewall"))
    wanted = ctx.params.get("type")
    refs = []
    for scope, base in scopes:
        if wanted in (None, "ipset"):
            for name, record in _stored_at(ctx, base, "ipset").items():
                refs.append({"type": "ipset", "name": name, "ref": f"+{name}", "scope": scope, **_comment(record)})
        if wanted in (None, "alias"):
            for name, record in _stored_at(ctx, base, "aliases").items():
                refs.append({"type": "alias", "name": name, "ref": name, "scope": scope, **_comment(record)})
    return refs


def _stored_at(ctx: HandlerContext, base: str, kind: str) -> dict[str, dict[str, Any]]:
    return config_store(ctx.cluster).section(store_name(f"{base}/{kind}", ctx.params)).records


def _comment(record: Mapping[str, Any]) -> dict[str, Any]:
    return {"comment": record["comment"]} if record.get("comment") else {}


_SPECIAL_ACTIONS: dict[tuple[str, str], Callable[[HandlerContext, Any], Any]] = {
    ("GET", "/cluster/notifications/targets"): _notification_targets,
    ("GET", "/cluster/firewall/refs"): _firewall_refs,
    ("GET", "/cluster/notifications/matcher-fields"): _matcher_fields,
    ("GET", "/cluster/notifications/matcher-field-values"): _matcher_field_values,
    **{("GET", f"{guest}/firewall/refs"): _firewall_refs for guest in _GUESTS},
}
