"""The platform under construction: its names, zones, hosts, links and routers, and the checks on declaring them.

:class:`PlatformBuilder` holds what the loader has read so far and the rules that apply to every declaration
whatever element it comes from: a name is declared once (hosts, routers and zones share one namespace, links have
their own, ``__loopback__`` is reserved), a zone holds either hosts and routers or sub-zones and clusters, and its
routes come after everything else. The element handlers (:mod:`replay.platform.loader`, and
:mod:`replay.platform.clusters` for what expands into many hosts and links) declare through it; it turns a
closed zone into its :class:`~replay.platform.Zone` record. Errors name the file and line of the declaration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from replay.errors import PlatformError, UnitError, where
from replay.platform.elements import LOOPBACK_BANDWIDTH, LOOPBACK_LATENCY, LOOPBACK_NAME, Host, Link, Zone
from replay.platform.properties import read_host_properties, read_link_properties
from replay.platform.routing import NetPoint, ZoneRouting, make_routing
from replay.platform.xml_reader import MAX_HOSTS, ROUTE_TAGS, TRACE_TAGS
from replay.units import parse_number

__all__ = ["Pending", "PlatformBuilder", "ZoneFrame"]


@dataclass(eq=False)
class ZoneFrame:
    """A zone being read: its routing and what it declares, until its end tag."""

    id: str
    routing: ZoneRouting
    line: int
    properties: dict[str, str] = field(default_factory=dict)
    hosts: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    routers: list[str] = field(default_factory=list)
    children: list[Zone] = field(default_factory=list)
    started: bool = False  # a child other than <prop> was seen
    traces_only: bool = False  # its first child after <prop> is a <trace> or <trace_connect> (see enter)
    content: str = ""  # "leaf" (hosts, routers) or "container" (sub-zones, clusters) once known
    routes_seen: bool = False
    backbone: tuple[str, str, str, int] | None = None  # (id, bandwidth, latency, line) of a Cluster zone
    host_links: list[tuple[dict[str, str], int]] = field(default_factory=list)
    cabinets: list[tuple[dict[str, str], int]] = field(default_factory=list)


@dataclass(eq=False)
class Pending:
    """An element whose children are still coming (host, link, cluster, route, config)."""

    tag: str
    attrs: dict[str, str]
    line: int
    properties: dict[str, str] = field(default_factory=dict)
    property_lines: dict[str, int] = field(default_factory=dict)  # <prop> id -> its line
    forward: list[Link] = field(default_factory=list)
    backward: list[Link] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # character data of a <trace>, piece by piece
    text_line: int = 0  # the line where that text starts


_LEAF = frozenset({"host", "router", "host_link", "cabinet"})
_CONTAINER = frozenset({"zone", "AS", "cluster"})
_DECLARATIONS = _LEAF | _CONTAINER | {"link", "backbone"}


class PlatformBuilder:
    """Hosts, links, routers, net points and zones declared so far, with the line of each declaration."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.pending: list[Pending] = []
        self.zones: list[ZoneFrame] = []
        self.points: dict[str, NetPoint] = {}
        self.declared: dict[str, int] = {}  # net point or link name -> line of its declaration
        self.hosts: dict[str, Host] = {}
        self.links: dict[str, Link] = {}
        self.split: dict[str, tuple[Link, Link]] = {}
        self.routers: list[str] = []
        self.config: dict[str, str] = {}
        self.root_routing: ZoneRouting | None = None
        self.root: Zone | None = None
        self.loopback: Link | None = None

    def at(self, line: int) -> str:
        return where(self.source, line)

    def get_loopback(self) -> Link:
        """The model's implicit loopback link, sized by the <config> of the platform if it says so."""
        if self.loopback is None:
            bandwidth = self.config_number("network/loopback-bw", LOOPBACK_BANDWIDTH)
            latency = self.config_number("network/loopback-lat", LOOPBACK_LATENCY)
            self.loopback = Link(LOOPBACK_NAME, bandwidth, latency, "FATPIPE")
        return self.loopback

    def config_number(self, key: str, default: float) -> float:
        text = self.config.get(key)
        if text is None:
            return default
        try:
            value = parse_number(text, f"config '{key}'")
        except UnitError:
            raise PlatformError(f"{where(self.source, None)}config '{key}' = '{text}' is not a number") from None
        if not value >= 0:
            raise PlatformError(f"{where(self.source, None)}config '{key}' = '{text}' must be a finite number >= 0")
        return value

    # -- zones --------------------------------------------------------------------------------------------------

    def enter(self, tag: str, line: int) -> ZoneFrame | None:
        """Check that ``tag`` may be declared in the current zone at this point; return that zone.

        A zone whose first child (after its ``<prop>``) is a ``<trace>`` or ``<trace_connect>`` can hold nothing
        else but more of them: SimGrid 3.32's DTD reader then refuses any host, link, zone or route in it.
        """
        if not self.zones:
            return None
        frame = self.zones[-1]
        if tag in TRACE_TAGS:
            frame.traces_only = frame.traces_only or not frame.started
        elif frame.traces_only:
            raise PlatformError(
                f"{self.at(line)}<{tag}> cannot follow the <trace> or <trace_connect> that opens zone '{frame.id}': "
                "SimGrid 3.32 then takes nothing but traces in that zone; move them after the zone's first "
                "element, or into <platform>"
            )
        frame.started = True
        if tag in _DECLARATIONS and frame.routes_seen:
            raise PlatformError(f"{self.at(line)}<{tag}> must come before the routes of zone '{frame.id}'")
        kind = "leaf" if tag in _LEAF else "container" if tag in _CONTAINER else ""
        if kind:
            if frame.content and frame.content != kind:
                raise PlatformError(
                    f"{self.at(line)}zone '{frame.id}' holds "
                    + ("hosts or routers" if frame.content == "leaf" else "sub-zones or clusters")
                    + f", so it cannot also hold a <{tag}> (a zone holds either hosts and routers, or sub-zones)"
                )
            frame.content = kind
        if tag in ROUTE_TAGS:
            frame.routes_seen = True
        return frame

    def new_zone(self, zone_id: str, routing: str, line: int) -> ZoneRouting:
        self.claim_point(zone_id, "zone", line)
        if self.root_routing is not None and not self.zones:
            raise PlatformError(
                f"{self.at(line)}a second top-level zone '{zone_id}': the platform already has its root zone "
                f"'{self.root_routing.id}' (wrap both in one zone)"
            )
        parent = self.zones[-1].routing if self.zones else None
        zone = make_routing(routing, zone_id, parent)
        if self.root_routing is None:
            self.root_routing = zone
            self.get_loopback()
        self.points[zone_id] = zone.netpoint
        return zone

    def close_zone(self, frame: ZoneFrame, routing: str) -> None:
        parent = self.zones[-1] if self.zones else None
        zone = Zone(
            id=frame.id,
            routing=routing,
            parent=parent.id if parent else None,
            children=tuple(frame.children),
            hosts=tuple(frame.hosts),
            links=tuple(frame.links),
            routers=tuple(frame.routers),
            properties=frame.properties,
        )
        if parent is None:
            self.root = zone
        else:
            parent.children.append(zone)

    # -- names --------------------------------------------------------------------------------------------------

    def check_name(self, name: str, kind: str, line: int) -> None:
        """A name the traces can show: Paje writes names between double quotes, so a name cannot hold one."""
        if '"' in name or any(c in name for c in "\n\r"):
            raise PlatformError(f"{self.at(line)}id {name!r} of a {kind}: expected a name without double quotes or "
                                "line breaks (Paje traces quote names)")

    def claim_point(self, name: str, kind: str, line: int) -> None:
        self.check_name(name, kind, line)
        other = self.points.get(name)
        if other is not None:
            raise PlatformError(
                f"{self.at(line)}duplicate id '{name}' for a {kind}: a {other.kind} of that name is already "
                f"declared at {self.at(self.declared[name])}".rstrip(": ")
            )
        self.declared[name] = line

    def claim_link(self, name: str, line: int, *, origin: str = "") -> None:
        self.check_name(name, "link", line)
        if name == LOOPBACK_NAME:
            raise PlatformError(f"{self.at(line)}the link name '{LOOPBACK_NAME}' is reserved for the model's loopback")
        if name in self.links or name in self.split:
            first = self.declared.get("link:" + name)
            place = f" at {where(self.source, first)}".rstrip(": ") if first else ""
            raise PlatformError(f"{self.at(line)}duplicate link id '{name}'{origin}: already declared{place}")
        self.declared["link:" + name] = line

    def add_link(self, link: Link, line: int, frame: ZoneFrame | None, *, origin: str = "") -> Link:
        self.claim_link(link.name, line, origin=origin)
        self.links[link.name] = link
        if frame is not None:
            frame.links.append(link.name)
        return link

    def add_host(self, host: Host, frame: ZoneFrame, line: int) -> NetPoint:
        if len(self.hosts) >= MAX_HOSTS:
            raise PlatformError(f"{self.at(line)}expected at most {MAX_HOSTS:,} hosts in a platform, found more")
        self.claim_point(host.name, "host", line)
        point = NetPoint(host.name, "host", frame.routing)
        frame.routing.add_vertex(point)
        self.points[host.name] = point
        self.hosts[host.name] = host
        frame.hosts.append(host.name)
        return point

    def add_router(self, name: str, frame: ZoneFrame, line: int) -> NetPoint:
        self.claim_point(name, "router", line)
        point = NetPoint(name, "router", frame.routing)
        frame.routing.add_vertex(point)
        self.points[name] = point
        self.routers.append(name)
        frame.routers.append(name)
        return point

    def host_fields(self, item: Pending, owner: str, speeds: tuple[float, ...]) -> dict[str, Any]:
        """The typed ``Host`` fields given by the ``<prop>`` children of ``item`` (a host or a cluster)."""
        lines = item.property_lines
        return read_host_properties(
            item.properties, owner, lambda name: self.at(lines.get(name, item.line)), speeds
        )

    def link_fields(self, item: Pending, owner: str) -> dict[str, Any]:
        """The typed ``Link`` fields given by the ``<prop>`` children of ``item``."""
        lines = item.property_lines
        return read_link_properties(item.properties, owner, lambda name: self.at(lines.get(name, item.line)))
