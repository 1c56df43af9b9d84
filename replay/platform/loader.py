"""Read SimGrid platform files (versions 4 and 4.1) into a :class:`~replay.platform.Platform`.

The file is read with expat, element by element, so that every error names the file and the line of the element
at fault, says what was expected and what was found. What is read, and how, follows SimGrid 3.32
(``src/surf/xml/surfxml_sax_cb.cpp``, ``src/surf/sg_platf.cpp``, the DTD ``simgrid.dtd``):

* ``<zone>`` (old name ``<AS>``) with routing Full, Floyd, Dijkstra, DijkstraCache, None, or Cluster (a star zone
  filled with ``<host_link>``, ``<cabinet>`` and one ``<backbone>``). A zone holds either hosts and routers, or
  sub-zones and clusters; its routes come after everything else; its ``<prop>`` children come first.
* ``<host>`` (speed with a comma-separated list of power states, ``core``, ``pstate``), ``<router>``, ``<link>``
  (latency 0 by default; SHARED, FATPIPE, or SPLITDUPLEX which makes two SHARED links ``<id>_UP`` and
  ``<id>_DOWN``; FULLDUPLEX is SimGrid's deprecated name for SPLITDUPLEX).
* ``<route>``, ``<zoneRoute>``/``<ASroute>`` (gateways ``gw_src``/``gw_dst``), ``<bypassRoute>``,
  ``<bypassZoneRoute>``/``<bypassASroute>``, each a list of ``<link_ctn>``; a SPLITDUPLEX link is named with
  ``direction="UP"`` or ``"DOWN"``. Routes are symmetrical unless ``symmetrical="NO"``: the way back takes the
  links in reverse order, each SPLITDUPLEX link in the other direction.
* ``<cluster>`` with the flat topology: nodes ``prefix + radical + suffix``, one private link per node named
  ``<id>_link_<radical>`` (``_UP``/``_DOWN`` when SPLITDUPLEX, the default), an optional backbone
  ``<id>_backbone``, limiter links ``<id>_link_<radical>_limiter``, loopbacks ``<id>_link_<radical>_loopback``
  (FATPIPE), and a router named ``router_id`` or ``prefix + id + "_router" + suffix``. The route between two
  nodes is limiter, up link, backbone, down link, limiter, with no link twice.
* ``<prop>`` of hosts, links, zones and clusters (a cluster's go to every node too), ``<config>`` properties.
* Quantities with SimGrid's units (:mod:`replay.units`); a number without unit is accepted with a warning, as
  SimGrid 3.32 does.

Refused with a :class:`~replay.errors.PlatformError`: malformed XML, a missing or unknown attribute, an unknown
or misplaced element, a duplicate name, a route through an unknown link or between unknown points, a bad value,
and what this simulator does not model: availability, state and bandwidth/latency profiles (``*_file``),
``<trace>``, ``<peer>``, ``<disk>``, WIFI links, Vivaldi and Wifi zones, and the FAT_TREE, TORUS and DRAGONFLY
cluster topologies. ``<actor>``/``<process>`` elements are deployment, skipped here (see
:mod:`replay.platform.deployment`).
"""

from __future__ import annotations

import difflib
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from replay.errors import PlatformError, UnitError, where
from replay.platform.model import LOOPBACK_BANDWIDTH, LOOPBACK_LATENCY, LOOPBACK_NAME, Host, Link, Platform, Zone
from replay.platform.routing import NetPoint, Network, RouteError, ZoneRouting, make_routing, routing_names
from replay.units import parse_bandwidth, parse_speed, parse_time

__all__ = ["PlatformWarning", "load_platform", "load_platform_string", "read_xml"]


class PlatformWarning(UserWarning):
    """Something SimGrid accepts with a deprecation warning (the platform still loads)."""


def load_platform(path: str | os.PathLike[str]) -> Platform:
    """Load the SimGrid platform file at ``path``; any problem is a :class:`PlatformError` naming file:line."""
    label = os.fspath(path)
    return _Builder(label).build(read_xml(label))


def load_platform_string(text: str, source: str = "<string>") -> Platform:
    """Load a platform from XML text; ``source`` names it in messages and in :attr:`Platform.source`."""
    return _Builder(source).build(text.encode("utf-8"))


def read_xml(path: str) -> bytes:
    """Return the bytes of an XML file known to be UTF-8 text, or raise a PlatformError naming the file."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise PlatformError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise PlatformError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise PlatformError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise PlatformError(
            f"{where(path, line)}not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        ) from None
    return data


def parse_xml(
    data: bytes,
    source: str,
    start: Callable[[str, dict[str, str], int], None],
    end: Callable[[str], None],
) -> None:
    """Run expat over ``data``, calling ``start(tag, attrs, line)`` and ``end(tag)``; XML errors get file:line."""
    parser = expat.ParserCreate(encoding="UTF-8")
    parser.StartElementHandler = lambda tag, attrs: start(tag, attrs, parser.CurrentLineNumber)
    parser.EndElementHandler = end
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.errors.messages.get(exc.code, str(exc))
        raise PlatformError(f"{where(source, exc.lineno)}malformed XML: {message} (column {exc.offset + 1})") from None


# -- grammar ------------------------------------------------------------------------------------------------------

_UNSUPPORTED = {
    "random": "random number generators",
    "include": "<include> (removed from SimGrid in 3.18)",
    "trace": "availability and state profiles",
    "trace_connect": "availability and state profiles",
    "peer": "Vivaldi peers",
    "disk": "disks",
    "storage": "storages (removed from SimGrid in 3.27)",
    "storage_type": "storages (removed from SimGrid in 3.27)",
    "mount": "storages (removed from SimGrid in 3.27)",
    "model_prop": "<model_prop> (deprecated in SimGrid)",
}

_ROUTES = ("route", "zoneRoute", "ASroute", "bypassRoute", "bypassZoneRoute", "bypassASroute")
_ZONE_CHILDREN = frozenset(
    {"prop", "zone", "AS", "cluster", "link", "backbone", "host", "router", "host_link", "cabinet", *_ROUTES}
)
_CHILDREN: dict[str | None, frozenset[str]] = {
    None: frozenset({"platform"}),
    "platform": frozenset({"config", "zone", "AS", "cluster", "actor", "process"}),
    "zone": _ZONE_CHILDREN,
    "AS": _ZONE_CHILDREN,
    "config": frozenset({"prop"}),
    "host": frozenset({"prop"}),
    "link": frozenset({"prop"}),
    "cluster": frozenset({"prop"}),
    **{r: frozenset({"link_ctn"}) for r in _ROUTES},
}

_CLUSTER_ATTRS = (
    "id",
    "prefix",
    "suffix",
    "radical",
    "speed",
    "core",
    "bw",
    "lat",
    "sharing_policy",
    "topology",
    "topo_parameters",
    "bb_bw",
    "bb_lat",
    "bb_sharing_policy",
    "router_id",
    "limiter_link",
    "loopback_bw",
    "loopback_lat",
)
# element: (every allowed attribute, the required ones)
_ATTRS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "platform": (("version",), ()),
    "config": (("id",), ()),
    "prop": (("id", "value"), ("id", "value")),
    "zone": (("id", "routing"), ("id", "routing")),
    "AS": (("id", "routing"), ("id", "routing")),
    "host": (
        ("id", "speed", "core", "pstate", "coordinates", "speed_file", "availability_file", "state_file"),
        ("id", "speed"),
    ),
    "link": (
        ("id", "bandwidth", "latency", "sharing_policy", "bandwidth_file", "latency_file", "state_file"),
        ("id", "bandwidth"),
    ),
    "router": (("id", "coordinates"), ("id",)),
    "backbone": (("id", "bandwidth", "latency"), ("id", "bandwidth", "latency")),
    "host_link": (("id", "up", "down"), ("id", "up", "down")),
    "cabinet": (
        ("id", "prefix", "suffix", "radical", "speed", "bw", "lat"),
        ("id", "prefix", "suffix", "radical", "speed", "bw", "lat"),
    ),
    "cluster": (_CLUSTER_ATTRS, ("id", "prefix", "suffix", "radical", "speed", "bw", "lat")),
    "route": (("src", "dst", "symmetrical"), ("src", "dst")),
    "zoneRoute": (("src", "dst", "gw_src", "gw_dst", "symmetrical"), ("src", "dst", "gw_src", "gw_dst")),
    "ASroute": (("src", "dst", "gw_src", "gw_dst", "symmetrical"), ("src", "dst", "gw_src", "gw_dst")),
    "bypassRoute": (("src", "dst"), ("src", "dst")),
    "bypassZoneRoute": (("src", "dst", "gw_src", "gw_dst"), ("src", "dst", "gw_src", "gw_dst")),
    "bypassASroute": (("src", "dst", "gw_src", "gw_dst"), ("src", "dst", "gw_src", "gw_dst")),
    "link_ctn": (("id", "direction"), ("id",)),
    "actor": (("host", "function", "start_time", "kill_time", "on_failure"), ("host", "function")),
    "process": (("host", "function", "start_time", "kill_time", "on_failure"), ("host", "function")),
    "argument": (("value",), ("value",)),
}

_WHOLE = re.compile(r"\s*[+-]?[0-9]+(?:\.0*)?\s*")
_ROUTING_NAMES = "Full, Floyd, Dijkstra, DijkstraCache, None, Cluster"


def check_element(source: str, tag: str, parent: str | None, attrs: dict[str, str], line: int) -> None:
    """Refuse an unknown, unsupported or misplaced element, and unknown or missing attributes."""
    at = where(source, line)
    if tag in _UNSUPPORTED:
        raise PlatformError(f"{at}<{tag}> is not supported by this simulator (it does not model {_UNSUPPORTED[tag]})")
    allowed = _CHILDREN.get(parent, frozenset())
    if tag not in allowed:
        if parent is None:
            raise PlatformError(f"{at}expected the root element <platform>, found <{tag}>")
        if tag not in _ATTRS:
            raise PlatformError(f"{at}unknown element <{tag}>" + _suggest(tag, _ATTRS))
        inside = ", ".join(f"<{t}>" for t in sorted(allowed)) or "nothing"
        raise PlatformError(f"{at}<{tag}> is not allowed inside <{parent}>; <{parent}> may contain {inside}")
    names, required = _ATTRS[tag]
    for name in attrs:
        if name not in names:
            raise PlatformError(
                f"{at}unknown attribute '{name}' in <{tag}>"
                + _suggest(name, names)
                + f"; <{tag}> takes {', '.join(names)}"
            )
    for name in required:
        if name not in attrs:
            raise PlatformError(f"{at}<{tag}> needs the attribute '{name}'")


def _suggest(word: str, known) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def parse_whole(text: str, what: str, at: str) -> int:
    """Read a whole number the way SimGrid's ``stoi`` reads its attributes (``"0.0"`` is 0)."""
    if not _WHOLE.fullmatch(text):
        raise PlatformError(f"{at}{what} '{text}' is not a whole number")
    return int(float(text))


# -- the builder --------------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _ZoneFrame:
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
    content: str = ""  # "leaf" (hosts, routers) or "container" (sub-zones, clusters) once known
    routes_seen: bool = False
    backbone: tuple[str, str, str, int] | None = None  # (id, bandwidth, latency, line) of a Cluster zone
    host_links: list[tuple[dict[str, str], int]] = field(default_factory=list)
    cabinets: list[tuple[dict[str, str], int]] = field(default_factory=list)


@dataclass(eq=False)
class _Pending:
    """An element whose children are still coming (host, link, cluster, route, config)."""

    tag: str
    attrs: dict[str, str]
    line: int
    properties: dict[str, str] = field(default_factory=dict)
    forward: list[Link] = field(default_factory=list)
    backward: list[Link] = field(default_factory=list)


_LEAF = frozenset({"host", "router", "host_link", "cabinet"})
_CONTAINER = frozenset({"zone", "AS", "cluster"})
_DECLARATIONS = _LEAF | _CONTAINER | {"link", "backbone"}


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.stack: list[str] = []
        self.pending: list[_Pending] = []
        self.zones: list[_ZoneFrame] = []
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
        self.skip = 0  # depth inside an <actor>, skipped

    # -- driver -------------------------------------------------------------------------------------------------

    def build(self, data: bytes) -> Platform:
        parse_xml(data, self.source, self.start, self.end)
        if self.root is None or self.root_routing is None:
            raise PlatformError(f"{where(self.source, None)}the platform declares no <zone> and no <cluster>")
        links = dict(self.links)
        links[LOOPBACK_NAME] = self.get_loopback()
        return Platform(
            hosts=self.hosts,
            links=links,
            root=self.root,
            source=self.source,
            config=self.config,
            routers=tuple(self.routers),
            loopback=self.get_loopback(),
            network=Network(self.root_routing, self.points),
        )

    def at(self, line: int) -> str:
        return where(self.source, line)

    def start(self, tag: str, attrs: dict[str, str], line: int) -> None:
        if self.skip:
            self.skip += 1
            return
        parent = self.stack[-1] if self.stack else None
        check_element(self.source, tag, parent, attrs, line)
        self.stack.append(tag)
        handler = getattr(self, f"start_{tag}", None)
        if handler is not None:
            handler(attrs, line)

    def end(self, tag: str) -> None:
        if self.skip:
            self.skip -= 1
            if self.skip:
                return
        self.stack.pop()
        handler = getattr(self, f"end_{tag}", None)
        if handler is not None:
            handler()

    # -- platform and config ------------------------------------------------------------------------------------

    def start_platform(self, attrs: dict[str, str], line: int) -> None:
        text = attrs.get("version", "0.0")
        try:
            version = round(100 * float(text))
        except (ValueError, OverflowError):  # "x", or "inf" / "1e400" / "nan"
            raise PlatformError(f"{self.at(line)}platform version '{text}' is not a number") from None
        if not 400 <= version <= 410:
            found = "no version attribute" if "version" not in attrs else f"version '{text}'"
            advice = " (SimGrid's simgrid_update_xml converts older files)" if version < 400 else ""
            raise PlatformError(f'{self.at(line)}expected <platform version="4.1"> (or 4), found {found}{advice}')

    def start_config(self, attrs: dict[str, str], line: int) -> None:
        if self.root_routing is not None:
            raise PlatformError(f"{self.at(line)}<config> must come before any zone or cluster of the platform")
        self.pending.append(_Pending("config", attrs, line))

    def end_config(self) -> None:
        for key, value in self.pending.pop().properties.items():
            self.config.setdefault(key, value)

    def start_prop(self, attrs: dict[str, str], line: int) -> None:
        parent = self.stack[-2]
        if parent in ("zone", "AS"):
            frame = self.zones[-1]
            if frame.started:
                raise PlatformError(f"{self.at(line)}the <prop> of zone '{frame.id}' must come before its content")
            frame.properties.setdefault(attrs["id"], attrs["value"])
        else:
            self.pending[-1].properties.setdefault(attrs["id"], attrs["value"])

    def start_actor(self, attrs: dict[str, str], line: int) -> None:
        self.skip = 1  # the actor stays on the stack; its children are skipped

    start_process = start_actor

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
            value = float(text)
        except ValueError:
            raise PlatformError(f"{where(self.source, None)}config '{key}' = '{text}' is not a number") from None
        if not value >= 0 or value == float("inf"):
            raise PlatformError(f"{where(self.source, None)}config '{key}' = '{text}' must be a finite number >= 0")
        return value

    # -- zones --------------------------------------------------------------------------------------------------

    def enter(self, tag: str, line: int) -> _ZoneFrame | None:
        """Check that ``tag`` may be declared in the current zone at this point; return that zone."""
        if not self.zones:
            return None
        frame = self.zones[-1]
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
        if tag in _ROUTES:
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

    def start_zone(self, attrs: dict[str, str], line: int) -> None:
        self.enter("zone", line)
        zone_id, routing = attrs["id"], attrs["routing"]
        if routing.lower() in ("vivaldi", "wifi"):
            raise PlatformError(
                f"{self.at(line)}routing=\"{routing}\" of zone '{zone_id}' is not supported "
                f"by this simulator; use one of {_ROUTING_NAMES}"
            )
        if routing.lower() not in {name.lower() for name in routing_names()}:
            raise PlatformError(
                f"{self.at(line)}unknown routing=\"{routing}\" for zone '{zone_id}'; expected one of {_ROUTING_NAMES}"
            )
        zone = self.new_zone(zone_id, routing, line)
        self.zones.append(_ZoneFrame(zone_id, zone, line))

    start_AS = start_zone

    def end_zone(self) -> None:
        frame = self.zones[-1]
        if frame.routing.kind == "Cluster":
            self.populate_star(frame)
        frame.routing.seal(self.get_loopback())
        self.zones.pop()
        self.close_zone(frame, frame.routing.kind)

    end_AS = end_zone

    def close_zone(self, frame: _ZoneFrame, routing: str) -> None:
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

    def claim_point(self, name: str, kind: str, line: int) -> None:
        other = self.points.get(name)
        if other is not None:
            raise PlatformError(
                f"{self.at(line)}duplicate id '{name}' for a {kind}: a {other.kind} of that name is already "
                f"declared at {self.at(self.declared[name])}".rstrip(": ")
            )
        self.declared[name] = line

    def claim_link(self, name: str, line: int, *, origin: str = "") -> None:
        if name == LOOPBACK_NAME:
            raise PlatformError(f"{self.at(line)}the link name '{LOOPBACK_NAME}' is reserved for the model's loopback")
        if name in self.links or name in self.split:
            first = self.declared.get("link:" + name)
            place = f" at {where(self.source, first)}".rstrip(": ") if first else ""
            raise PlatformError(f"{self.at(line)}duplicate link id '{name}'{origin}: already declared{place}")
        self.declared["link:" + name] = line

    def add_link(self, link: Link, line: int, frame: _ZoneFrame | None, *, origin: str = "") -> Link:
        self.claim_link(link.name, line, origin=origin)
        self.links[link.name] = link
        if frame is not None:
            frame.links.append(link.name)
        return link

    def add_host(self, host: Host, zone: ZoneRouting, frame: _ZoneFrame | None, line: int) -> NetPoint:
        self.claim_point(host.name, "host", line)
        point = NetPoint(host.name, "host", zone)
        zone.add_vertex(point)
        self.points[host.name] = point
        self.hosts[host.name] = host
        if frame is not None:
            frame.hosts.append(host.name)
        return point

    # -- hosts, routers, links ----------------------------------------------------------------------------------

    def start_host(self, attrs: dict[str, str], line: int) -> None:
        self.enter("host", line)
        at = self.at(line)
        for profile in ("speed_file", "availability_file", "state_file"):
            if attrs.get(profile):
                raise PlatformError(f"{at}{profile} of host '{attrs['id']}' is not supported (no profiles here)")
        self.pending.append(_Pending("host", attrs, line))

    def end_host(self) -> None:
        item = self.pending.pop()
        attrs, at = item.attrs, self.at(item.line)
        name = attrs["id"]
        speeds = self.speeds(attrs["speed"], f"speed of host '{name}'", at)
        cores = self.cores(attrs.get("core", "1"), name, at)
        pstate = parse_whole(attrs.get("pstate", "0"), f"pstate of host '{name}'", at)
        if not 0 <= pstate < len(speeds):
            raise PlatformError(
                f"{at}pstate {pstate} of host '{name}' does not exist: its speed lists {len(speeds)} power "
                f"state(s), numbered from 0"
            )
        if speeds[pstate] <= 0:
            raise PlatformError(f"{at}speed of host '{name}' in its initial pstate must be positive")
        frame = self.zones[-1]
        host = Host(name, speeds[pstate], cores, item.properties, frame.id, speeds, pstate)
        self.add_host(host, frame.routing, frame, item.line)

    def speeds(self, text: str, what: str, at: str) -> tuple[float, ...]:
        values = []
        for piece in text.split(","):
            try:
                values.append(parse_speed(piece.strip(), f"{at}{what}: "))
            except UnitError as exc:
                raise PlatformError(str(exc)) from None
        return tuple(values)

    def cores(self, text: str, name: str, at: str) -> int:
        cores = parse_whole(text, f"core count of '{name}'", at)
        if cores < 1:
            raise PlatformError(f"{at}core count of '{name}' must be at least 1, found '{text}'")
        return cores

    def quantity(self, parse: Callable[[str, str], float], text: str, what: str, at: str, *, positive: bool) -> float:
        try:
            value = parse(text, f"{at}{what}: ")
        except UnitError as exc:
            raise PlatformError(str(exc)) from None
        if positive and value <= 0:
            raise PlatformError(f"{at}{what} must be positive, found '{text}'")
        return value

    def start_router(self, attrs: dict[str, str], line: int) -> None:
        frame = self.enter("router", line)
        assert frame is not None
        name = attrs["id"]
        self.claim_point(name, "router", line)
        point = NetPoint(name, "router", frame.routing)
        frame.routing.add_vertex(point)
        self.points[name] = point
        self.routers.append(name)
        frame.routers.append(name)

    def start_link(self, attrs: dict[str, str], line: int) -> None:
        self.enter("link", line)
        at = self.at(line)
        for profile in ("bandwidth_file", "latency_file", "state_file"):
            if attrs.get(profile):
                raise PlatformError(f"{at}{profile} of link '{attrs['id']}' is not supported (no profiles here)")
        self.pending.append(_Pending("link", attrs, line))

    def end_link(self) -> None:
        item = self.pending.pop()
        attrs, at = item.attrs, self.at(item.line)
        name = attrs["id"]
        policy = attrs.get("sharing_policy", "SHARED")
        if policy == "WIFI":
            raise PlatformError(f"{at}sharing_policy=\"WIFI\" of link '{name}' is not supported (no wifi model)")
        if policy == "FULLDUPLEX":
            warnings.warn(
                f"{at}FULLDUPLEX (link '{name}') is deprecated: SimGrid reads it as SPLITDUPLEX",
                PlatformWarning,
                stacklevel=2,
            )
            policy = "SPLITDUPLEX"
        if policy not in ("SHARED", "FATPIPE", "SPLITDUPLEX"):
            raise PlatformError(
                f"{at}sharing_policy of link '{name}' must be SHARED, FATPIPE or SPLITDUPLEX, found '{policy}'"
            )
        bandwidths = re.split("[;,]", attrs["bandwidth"])
        if len(bandwidths) > 1:
            raise PlatformError(
                f"{at}link '{name}' lists {len(bandwidths)} bandwidths; only WIFI links take "
                "several, and they are not supported"
            )
        bandwidth = self.quantity(parse_bandwidth, bandwidths[0], f"bandwidth of link '{name}'", at, positive=True)
        latency = self.quantity(parse_time, attrs.get("latency", "0"), f"latency of link '{name}'", at, positive=False)
        frame = self.zones[-1]
        if policy == "SPLITDUPLEX":
            self.claim_link(name, item.line)
            up = Link(f"{name}_UP", bandwidth, latency, "SHARED", item.properties)
            down = Link(f"{name}_DOWN", bandwidth, latency, "SHARED", item.properties)
            origin = f" (made by SPLITDUPLEX link '{name}')"
            self.add_link(up, item.line, frame, origin=origin)
            self.add_link(down, item.line, frame, origin=origin)
            self.split[name] = (up, down)
        else:
            self.add_link(Link(name, bandwidth, latency, policy, item.properties), item.line, frame)  # type: ignore[arg-type]

    # -- routes -------------------------------------------------------------------------------------------------

    def point(self, name: str, role: str, tag: str, line: int) -> NetPoint:
        found = self.points.get(name)
        if found is None:
            raise PlatformError(
                f"{self.at(line)}{role}='{name}' of <{tag}> names no host, router or zone declared before it"
                + _suggest(name, self.points)
            )
        return found

    def start_route(self, attrs: dict[str, str], line: int) -> None:
        self.enter("route", line)
        tag = self.stack[-1]
        for role in ("src", "dst", "gw_src", "gw_dst"):
            if role in attrs:
                self.point(attrs[role], role, tag, line)
        symmetrical = attrs.get("symmetrical", "YES")
        if symmetrical not in ("YES", "NO", "yes", "no"):
            raise PlatformError(f"{self.at(line)}symmetrical of <{tag}> must be YES or NO, found '{symmetrical}'")
        self.pending.append(_Pending(tag, attrs, line))

    start_zoneRoute = start_ASroute = start_bypassRoute = start_bypassZoneRoute = start_bypassASroute = start_route

    def start_link_ctn(self, attrs: dict[str, str], line: int) -> None:
        item = self.pending[-1]
        at = self.at(line)
        name = attrs["id"]
        direction = attrs.get("direction", "NONE")
        if direction not in ("UP", "DOWN", "NONE"):
            raise PlatformError(f"{at}direction of link_ctn '{name}' must be UP, DOWN or NONE, found '{direction}'")
        if direction == "NONE":
            if name in self.split:
                raise PlatformError(
                    f'{at}link \'{name}\' is SPLITDUPLEX: its <link_ctn> needs direction="UP" or "DOWN"'
                )
            link = self.links.get(name) or (self.get_loopback() if name == LOOPBACK_NAME else None)
            if link is None:
                raise PlatformError(f"{at}unknown link '{name}' in <{item.tag}>" + _suggest(name, self.links))
            item.forward.append(link)
            item.backward.append(link)
            return
        pair = self.split.get(name)
        if pair is None:
            if name in self.links:
                raise PlatformError(
                    f"{at}link '{name}' is not SPLITDUPLEX: direction=\"{direction}\" only applies to SPLITDUPLEX links"
                )
            raise PlatformError(
                f"{at}unknown SPLITDUPLEX link '{name}' (direction {direction}) in <{item.tag}>"
                + _suggest(name, self.split)
            )
        up, down = pair
        item.forward.append(up if direction == "UP" else down)
        item.backward.append(down if direction == "UP" else up)

    def end_route(self) -> None:
        item = self.pending.pop()
        attrs = item.attrs
        frame = self.zones[-1]
        points = {role: self.points[attrs[role]] for role in ("src", "dst", "gw_src", "gw_dst") if role in attrs}
        try:
            if item.tag.startswith("bypass"):
                frame.routing.add_bypass_route(
                    points["src"], points["dst"], points.get("gw_src"), points.get("gw_dst"), item.forward
                )
            else:
                frame.routing.add_route(
                    points["src"],
                    points["dst"],
                    points.get("gw_src"),
                    points.get("gw_dst"),
                    item.forward,
                    item.backward,
                    attrs.get("symmetrical", "YES").upper() == "YES",
                )
        except RouteError as exc:
            raise PlatformError(f"{self.at(item.line)}<{item.tag}> in zone '{frame.id}': {exc}") from None

    end_zoneRoute = end_ASroute = end_bypassRoute = end_bypassZoneRoute = end_bypassASroute = end_route

    # -- clusters -----------------------------------------------------------------------------------------------

    def start_cluster(self, attrs: dict[str, str], line: int) -> None:
        self.enter("cluster", line)
        self.pending.append(_Pending("cluster", attrs, line))

    def end_cluster(self) -> None:
        item = self.pending.pop()
        attrs, line, at = item.attrs, item.line, self.at(item.line)
        cid = attrs["id"]
        topology = attrs.get("topology", "FLAT")
        if topology in ("FAT_TREE", "TORUS", "DRAGONFLY"):
            raise PlatformError(f"{at}topology=\"{topology}\" of cluster '{cid}' is unsupported: only FLAT clusters")
        if topology != "FLAT":
            raise PlatformError(f"{at}topology of cluster '{cid}' must be FLAT, found '{topology}'")
        policy = attrs.get("sharing_policy", "SPLITDUPLEX")
        if policy == "FULLDUPLEX":
            warnings.warn(
                f"{at}FULLDUPLEX (cluster '{cid}') is deprecated: SimGrid reads it as SPLITDUPLEX",
                PlatformWarning,
                stacklevel=2,
            )
            policy = "SPLITDUPLEX"
        if policy not in ("SHARED", "FATPIPE", "SPLITDUPLEX"):
            raise PlatformError(
                f"{at}sharing_policy of cluster '{cid}' must be SHARED, FATPIPE or SPLITDUPLEX, found '{policy}'"
            )
        bb_policy = attrs.get("bb_sharing_policy", "SHARED")
        if bb_policy not in ("SHARED", "FATPIPE"):
            raise PlatformError(
                f"{at}bb_sharing_policy of cluster '{cid}' must be SHARED or FATPIPE, found '{bb_policy}'"
            )
        radicals = self.radicals(attrs["radical"], cid, at)
        speeds = self.speeds(attrs["speed"], f"speed of cluster '{cid}'", at)
        if speeds[0] <= 0:
            raise PlatformError(f"{at}speed of cluster '{cid}' must be positive")
        cores = self.cores(attrs.get("core", "1"), f"cluster {cid}", at)
        bw = self.quantity(parse_bandwidth, attrs["bw"], f"bw of cluster '{cid}'", at, positive=True)
        lat = self.quantity(parse_time, attrs["lat"], f"lat of cluster '{cid}'", at, positive=False)

        def optional(key: str, parse: Callable[[str, str], float], default: str = "") -> float:
            text = attrs.get(key, default)
            if text == "":
                return 0.0
            return self.quantity(parse, text, f"{key} of cluster '{cid}'", at, positive=False)

        bb_bw = optional("bb_bw", parse_bandwidth)
        bb_lat = optional("bb_lat", parse_time, "0s")
        limiter_bw = optional("limiter_link", parse_bandwidth)
        loopback_bw = optional("loopback_bw", parse_bandwidth)
        loopback_lat = optional("loopback_lat", parse_time)
        for key, bandwidth, latency in (("bb_bw", bb_bw, bb_lat), ("loopback_bw", loopback_bw, loopback_lat)):
            if latency > 0 and bandwidth <= 0:
                raise PlatformError(
                    f"{at}cluster '{cid}' gives a latency but no {key}: that link would have no bandwidth"
                )

        zone = self.new_zone(cid, "Cluster", line)
        frame = _ZoneFrame(cid, zone, line, properties=dict(item.properties))
        backbone = None
        if bb_bw > 0 or bb_lat > 0:
            backbone = self.add_link(Link(f"{cid}_backbone", bb_bw, bb_lat, bb_policy), line, frame)  # type: ignore[arg-type]
        prefix, suffix = attrs["prefix"], attrs["suffix"]
        for radical in radicals:
            host = Host(f"{prefix}{radical}{suffix}", speeds[0], cores, dict(item.properties), cid, speeds, 0)
            point = self.add_host(host, zone, frame, line)
            link_id = f"{cid}_link_{radical}"
            if loopback_bw > 0 or loopback_lat > 0:
                loop = self.add_link(Link(f"{link_id}_loopback", loopback_bw, loopback_lat, "FATPIPE"), line, frame)
                zone.add_route(point, point, None, None, [loop], [loop], True)
            limiter = None
            if limiter_bw > 0:
                limiter = self.add_link(Link(f"{link_id}_limiter", limiter_bw, 0.0, "SHARED"), line, frame)
            if policy == "SPLITDUPLEX":
                self.claim_link(link_id, line)
                up = self.add_link(Link(f"{link_id}_UP", bw, lat, "SHARED"), line, frame)
                down = self.add_link(Link(f"{link_id}_DOWN", bw, lat, "SHARED"), line, frame)
                self.split[link_id] = (up, down)
            else:
                # SimGrid 3.32 gives a non-SPLITDUPLEX cluster link no sharing policy: it is SHARED even
                # when the cluster says FATPIPE.
                up = down = self.add_link(Link(link_id, bw, lat, "SHARED"), line, frame)
            head = [limiter] if limiter else []
            tail = [backbone] if backbone else []
            zone.add_route(point, None, None, None, [*head, up, *tail], [*head, down, *tail], True)
        router = attrs.get("router_id") or f"{prefix}{cid}_router{suffix}"
        self.claim_point(router, "router", line)
        router_point = NetPoint(router, "router", zone)
        zone.add_vertex(router_point)
        self.points[router] = router_point
        self.routers.append(router)
        frame.routers.append(router)
        zone.add_route(router_point, None, None, None, [], [], True)
        zone.seal(self.get_loopback())
        self.close_zone(frame, "Cluster")

    def radicals(self, text: str, cid: str, at: str) -> list[int]:
        """Expand a radical such as ``0-3,8,10-11`` into the list of numbers it names, in order."""
        result: list[int] = []
        for group in text.split(","):
            ends = group.split("-")
            if len(ends) > 2:
                raise PlatformError(f"{at}malformed radical '{group}' in cluster '{cid}': expected N or N-M")
            numbers = [parse_whole(end, f"radical '{group}' of cluster '{cid}'", at) for end in ends]
            if any("." in end for end in ends):
                raise PlatformError(f"{at}radical '{group}' of cluster '{cid}' is not a whole number")
            result.extend(range(numbers[0], numbers[-1] + 1))
        if not result:
            raise PlatformError(f"{at}radical '{text}' of cluster '{cid}' names no node")
        return result

    # -- routing="Cluster" zones --------------------------------------------------------------------------------

    def start_backbone(self, attrs: dict[str, str], line: int) -> None:
        frame = self.enter("backbone", line)
        assert frame is not None
        if frame.routing.kind != "Cluster":
            raise PlatformError(
                f'{self.at(line)}<backbone> is only meaningful in a zone with routing="Cluster" '
                f"(zone '{frame.id}' has routing {frame.routing.kind})"
            )
        if frame.backbone is not None:
            raise PlatformError(
                f"{self.at(line)}zone '{frame.id}' already has a backbone, declared at "
                f"{self.at(frame.backbone[3])}".rstrip(": ")
            )
        frame.backbone = (attrs["id"], attrs["bandwidth"], attrs["latency"], line)

    def start_host_link(self, attrs: dict[str, str], line: int) -> None:
        frame = self.enter("host_link", line)
        assert frame is not None
        if frame.routing.kind != "Cluster":
            raise PlatformError(
                f'{self.at(line)}<host_link> is only meaningful in a zone with routing="Cluster" '
                f"(zone '{frame.id}' has routing {frame.routing.kind})"
            )
        frame.host_links.append((attrs, line))

    def start_cabinet(self, attrs: dict[str, str], line: int) -> None:
        frame = self.enter("cabinet", line)
        assert frame is not None
        if frame.routing.kind != "Cluster":
            raise PlatformError(
                f'{self.at(line)}<cabinet> is only meaningful in a zone with routing="Cluster" '
                f"(zone '{frame.id}' has routing {frame.routing.kind})"
            )
        frame.cabinets.append((attrs, line))

    def populate_star(self, frame: _ZoneFrame) -> None:
        """Create a Cluster zone's backbone, host links and cabinets, as SimGrid does when the zone ends."""
        zone = frame.routing
        backbone = None
        if frame.backbone is not None:
            name, bw_text, lat_text, line = frame.backbone
            at = self.at(line)
            bandwidth = self.quantity(parse_bandwidth, bw_text, f"bandwidth of backbone '{name}'", at, positive=True)
            latency = self.quantity(parse_time, lat_text, f"latency of backbone '{name}'", at, positive=False)
            backbone = self.add_link(Link(name, bandwidth, latency, "SHARED"), line, frame)
        tail = [backbone] if backbone else []

        def connect(point: NetPoint, up: Link, down: Link) -> None:
            zone.add_route(point, None, None, None, [up, *tail], [up, *tail], False)
            zone.add_route(None, point, None, None, [*tail, down], [*tail, down], False)

        for attrs, line in frame.host_links:
            at = self.at(line)
            point = self.points.get(attrs["id"])
            if point is None or point.kind != "host" or point.zone is not zone:
                raise PlatformError(f"{at}<host_link> id='{attrs['id']}' names no host of zone '{frame.id}'")
            ends = []
            for role in ("up", "down"):
                link = self.links.get(attrs[role])
                if link is None:
                    raise PlatformError(
                        f"{at}unknown link '{attrs[role]}' ({role} of <host_link> '{attrs['id']}')"
                        + _suggest(attrs[role], self.links)
                    )
                ends.append(link)
            connect(point, ends[0], ends[1])
        for attrs, line in frame.cabinets:
            at = self.at(line)
            cab = attrs["id"]
            speed = self.quantity(parse_speed, attrs["speed"], f"speed of cabinet '{cab}'", at, positive=True)
            bw = self.quantity(parse_bandwidth, attrs["bw"], f"bw of cabinet '{cab}'", at, positive=True)
            lat = self.quantity(parse_time, attrs["lat"], f"lat of cabinet '{cab}'", at, positive=False)
            for radical in self.radicals(attrs["radical"], cab, at):
                name = f"{attrs['prefix']}{radical}{attrs['suffix']}"
                point = self.add_host(Host(name, speed, 1, {}, frame.id, (speed,), 0), zone, frame, line)
                up = self.add_link(Link(f"link_{name}_UP", bw, lat, "SHARED"), line, frame)
                down = self.add_link(Link(f"link_{name}_DOWN", bw, lat, "SHARED"), line, frame)
                connect(point, up, down)
