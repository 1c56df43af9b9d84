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
* ``<prop>`` of hosts, links, zones and clusters (a cluster's go to every node too), ``<config>`` properties;
  a host's ``ramsize``, ``disk_bandwidth`` and ``overcommit`` are also read into typed fields of
  :class:`~replay.platform.Host` (:mod:`replay.platform.properties`).
* Quantities with SimGrid's units (:mod:`replay.units`); a number without unit is accepted with a warning, as
  SimGrid 3.32 does.
* Availability and state profiles (``docs/profiles.md``): a host's ``speed_file`` (or ``availability_file``) and
  ``state_file``, a link's ``bandwidth_file``, ``latency_file`` and ``state_file``, ``<trace>`` and
  ``<trace_connect>``, into the ``*_profile`` fields of hosts and links (:mod:`replay.platform.profile_book`).

Refused with a :class:`~replay.errors.PlatformError`: malformed XML, a missing or unknown attribute, an unknown
or misplaced element, a duplicate name, a route through an unknown link or between unknown points, a bad value,
what SimGrid 3.32 aborts on (a ``<trace_connect>`` to a link, a state profile on a SPLITDUPLEX link, a profile
file loaded twice), and what this simulator does not model: stochastic profiles, ``<peer>``, ``<disk>``, WIFI
links, Vivaldi and Wifi zones, and the FAT_TREE, TORUS and DRAGONFLY cluster topologies. ``<actor>``/``<process>``
elements are deployment, skipped here (see :mod:`replay.platform.deployment`).

This module holds the entry points and one handler per element. The rest of the work is shared out:
:mod:`~replay.platform.xml_reader` reads the file and checks each element and its attributes against the DTD,
:mod:`~replay.platform.attribute_values` reads numbers, quantities and policies,
:mod:`~replay.platform.properties` types the host and link properties the model uses,
:mod:`~replay.platform.profile_book` reads the profiles and connects them (:mod:`~replay.platform.profiles`),
:mod:`~replay.platform.builder` holds the platform under construction and the rules on declaring names, and
:mod:`~replay.platform.clusters` expands ``<cluster>`` elements and fills routing="Cluster" zones.
"""

from __future__ import annotations

import os
import re

from replay.errors import PlatformError, UnitError, where
from replay.platform.attribute_values import (
    PlatformWarning,
    parse_cores,
    parse_quantity,
    parse_speeds,
    parse_whole,
    sharing_policy,
)
from replay.platform.builder import Pending, PlatformBuilder, ZoneFrame
from replay.platform.clusters import add_backbone, add_cabinet, add_host_link, expand_cluster, populate_star
from replay.platform.elements import LOOPBACK_NAME, Host, Link
from replay.platform.model import Platform
from replay.platform.profile_book import ProfileBook
from replay.platform.routing import NetPoint, Network, RouteError, routing_names
from replay.platform.xml_reader import check_element, parse_xml, read_xml, suggest
from replay.units import parse_bandwidth, parse_number, parse_time

__all__ = ["PlatformWarning", "load_platform", "load_platform_string"]


def load_platform(path: str | os.PathLike[str]) -> Platform:
    """Load the SimGrid platform file at ``path``; any problem is a :class:`PlatformError` naming file:line."""
    label = os.fspath(path)
    return _ElementReader(label).build(read_xml(label))


def load_platform_string(text: str, source: str = "<string>") -> Platform:
    """Load a platform from XML text; ``source`` names it in messages and in :attr:`Platform.source`."""
    return _ElementReader(source).build(text.encode("utf-8"))


_ROUTING_NAMES = "Full, Floyd, Dijkstra, DijkstraCache, None, Cluster"


class _ElementReader(PlatformBuilder):
    """The expat handlers, one ``start_<tag>`` / ``end_<tag>`` method per element that does something."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.stack: list[str] = []
        self.skip = 0  # depth inside an <actor>, skipped
        self.book = ProfileBook(source)

    # -- driver -------------------------------------------------------------------------------------------------

    def build(self, data: bytes) -> Platform:
        parse_xml(data, self.source, self.start, self.end, self.text)
        if self.root is None or self.root_routing is None:
            raise PlatformError(f"{where(self.source, None)}the platform declares no <zone> and no <cluster>")
        self.book.connect(self.hosts, self.links, self.split, {n: p.kind for n, p in self.points.items()})
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

    def text(self, data: str, line: int) -> None:
        if self.skip or not self.stack or self.stack[-1] != "trace":
            return
        item = self.pending[-1]
        if not item.text:
            item.text_line = line
        item.text.append(data)

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
            number = parse_number(text, "platform version")
            version = round(100 * number) if abs(number) < 1e6 else -1
        except UnitError:  # "x", "4_1", or "inf" / "1e400" / "nan"
            raise PlatformError(f"{self.at(line)}platform version '{text}' is not a number") from None
        if not 400 <= version <= 410:
            found = "no version attribute" if "version" not in attrs else f"version '{text}'"
            advice = " (SimGrid's simgrid_update_xml converts older files)" if version < 400 else ""
            raise PlatformError(f'{self.at(line)}expected <platform version="4.1"> (or 4), found {found}{advice}')

    def start_config(self, attrs: dict[str, str], line: int) -> None:
        if self.root_routing is not None or self.book.traces:
            raise PlatformError(f"{self.at(line)}<config> must come before any zone, cluster or trace of the platform")
        self.pending.append(Pending("config", attrs, line))

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
            item = self.pending[-1]
            item.properties.setdefault(attrs["id"], attrs["value"])
            item.property_lines.setdefault(attrs["id"], line)

    def start_actor(self, attrs: dict[str, str], line: int) -> None:
        self.skip = 1  # the actor stays on the stack; its children are skipped

    start_process = start_actor

    # -- zones --------------------------------------------------------------------------------------------------

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
        self.zones.append(ZoneFrame(zone_id, zone, line))

    start_AS = start_zone

    def end_zone(self) -> None:
        frame = self.zones[-1]
        if frame.routing.kind == "Cluster":
            populate_star(self, frame)
        frame.routing.seal(self.get_loopback())
        self.zones.pop()
        self.close_zone(frame, frame.routing.kind)

    end_AS = end_zone

    # -- hosts, routers, links ----------------------------------------------------------------------------------

    def start_host(self, attrs: dict[str, str], line: int) -> None:
        self.enter("host", line)
        self.pending.append(Pending("host", attrs, line))

    def end_host(self) -> None:
        item = self.pending.pop()
        attrs, at = item.attrs, self.at(item.line)
        name = attrs["id"]
        speeds = parse_speeds(attrs["speed"], f"speed of host '{name}'", at)
        cores = parse_cores(attrs.get("core", "1"), name, at, speeds)
        pstate = parse_whole(attrs.get("pstate", "0"), f"pstate of host '{name}'", at)
        if not 0 <= pstate < len(speeds):
            raise PlatformError(
                f"{at}pstate {pstate} of host '{name}' does not exist: its speed lists {len(speeds)} power "
                f"state(s), numbered from 0"
            )
        if speeds[pstate] <= 0:
            raise PlatformError(f"{at}speed of host '{name}' in its initial pstate must be positive")
        fields = self.host_fields(item, f"host '{name}'", speeds)
        fields.update(self.book.host_profiles(attrs, name, item.line))
        frame = self.zones[-1]
        host = Host(name, speeds[pstate], cores, item.properties, frame.id, speeds, pstate, **fields)
        self.add_host(host, frame, item.line)

    def start_router(self, attrs: dict[str, str], line: int) -> None:
        frame = self.enter("router", line)
        assert frame is not None
        self.add_router(attrs["id"], frame, line)

    def start_link(self, attrs: dict[str, str], line: int) -> None:
        self.enter("link", line)
        self.pending.append(Pending("link", attrs, line))

    def end_link(self) -> None:
        item = self.pending.pop()
        attrs, at = item.attrs, self.at(item.line)
        name = attrs["id"]
        policy = attrs.get("sharing_policy", "SHARED")
        if policy == "WIFI":
            raise PlatformError(f"{at}sharing_policy=\"WIFI\" of link '{name}' is not supported (no wifi model)")
        policy = sharing_policy(policy, f"link '{name}'", at)
        bandwidths = re.split("[;,]", attrs["bandwidth"])
        if len(bandwidths) > 1:
            raise PlatformError(
                f"{at}link '{name}' lists {len(bandwidths)} bandwidths; only WIFI links take "
                "several, and they are not supported"
            )
        bandwidth = parse_quantity(parse_bandwidth, bandwidths[0], f"bandwidth of link '{name}'", at, positive=True)
        latency = parse_quantity(parse_time, attrs.get("latency", "0"), f"latency of link '{name}'", at, positive=False)
        frame = self.zones[-1]
        fields = self.link_fields(item, f"link '{name}'")
        fields.update(self.book.link_profiles(attrs, name, item.line, policy == "SPLITDUPLEX"))
        if policy == "SPLITDUPLEX":
            self.claim_link(name, item.line)
            up = Link(f"{name}_UP", bandwidth, latency, "SHARED", item.properties, **fields)
            down = Link(f"{name}_DOWN", bandwidth, latency, "SHARED", item.properties, **fields)
            origin = f" (made by SPLITDUPLEX link '{name}')"
            self.add_link(up, item.line, frame, origin=origin)
            self.add_link(down, item.line, frame, origin=origin)
            self.split[name] = (up, down)
        else:
            self.add_link(Link(name, bandwidth, latency, policy, item.properties, **fields), item.line, frame)  # type: ignore[arg-type]

    # -- profiles (replay.platform.profile_book) ----------------------------------------------------------------

    def start_trace(self, attrs: dict[str, str], line: int) -> None:
        self.enter("trace", line)
        self.pending.append(Pending("trace", attrs, line))

    def end_trace(self) -> None:
        item = self.pending.pop()
        self.book.add_trace(item.attrs, item.line, "".join(item.text), item.text_line or item.line)

    def start_trace_connect(self, attrs: dict[str, str], line: int) -> None:
        self.enter("trace_connect", line)
        self.book.add_connection(attrs, line)

    # -- routes -------------------------------------------------------------------------------------------------

    def point(self, name: str, role: str, tag: str, line: int) -> NetPoint:
        found = self.points.get(name)
        if found is None:
            raise PlatformError(
                f"{self.at(line)}{role}='{name}' of <{tag}> names no host, router or zone declared before it"
                + suggest(name, self.points)
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
        self.pending.append(Pending(tag, attrs, line))

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
                raise PlatformError(f"{at}unknown link '{name}' in <{item.tag}>" + suggest(name, self.links))
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
                + suggest(name, self.split)
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

    # -- clusters and routing="Cluster" zones (replay.platform.clusters) ----------------------------------------

    def start_cluster(self, attrs: dict[str, str], line: int) -> None:
        self.enter("cluster", line)
        self.pending.append(Pending("cluster", attrs, line))

    def end_cluster(self) -> None:
        expand_cluster(self, self.pending.pop())

    def start_backbone(self, attrs: dict[str, str], line: int) -> None:
        add_backbone(self, attrs, line)

    def start_host_link(self, attrs: dict[str, str], line: int) -> None:
        add_host_link(self, attrs, line)

    def start_cabinet(self, attrs: dict[str, str], line: int) -> None:
        add_cabinet(self, attrs, line)
