"""The platform as the simulation sees it: hosts, links, the zone tree, and routes between hosts.

Everything here is immutable once loaded, except the route caches: :meth:`Platform.route` is called for every
transfer, so each (source, destination) answer is computed once, the way SimGrid computes it (see
:mod:`replay.platform.routing`), and kept.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from replay.errors import LookupFailure
from replay.platform.routing import NoRoute
from replay.units import BytesPerSecond, FlopsPerSecond, Seconds

if TYPE_CHECKING:
    from replay.platform.routing import Network

__all__ = ["LOOPBACK_BANDWIDTH", "LOOPBACK_LATENCY", "LOOPBACK_NAME", "Host", "Link", "Platform", "Zone"]

LOOPBACK_NAME = "__loopback__"
"""Name of the network model's implicit loopback link (SimGrid's, for LV08 and CM02)."""

LOOPBACK_BANDWIDTH: BytesPerSecond = 10e9
"""Bandwidth of the implicit loopback: SimGrid 3.32's ``network/loopback-bw`` default, 10 GB/s."""

LOOPBACK_LATENCY: Seconds = 0.0
"""Latency of the implicit loopback: SimGrid 3.32's ``network/loopback-lat`` default."""


@dataclass(frozen=True, slots=True)
class Host:
    """A physical machine.

    ``speed`` is the flop/s of *one* core in the initial power state (``pstate``, 0 unless the platform says
    otherwise); the host computes at most ``cores x speed`` flop/s in total. ``pstate_speeds`` lists the speed of
    one core in every power state (SimGrid's comma-separated ``speed`` attribute). ``zone`` is the id of the zone
    that declares the host. ``properties`` are the ``<prop>`` children (and, for a cluster node, its cluster's).
    """

    name: str
    speed: FlopsPerSecond
    cores: int = 1
    properties: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    zone: str = ""
    pstate_speeds: tuple[FlopsPerSecond, ...] = ()
    pstate: int = 0


@dataclass(frozen=True, slots=True)
class Link:
    """A network link: ``bandwidth`` in bytes/s, ``latency`` in seconds.

    ``policy`` is ``"SHARED"`` (flows share the bandwidth) or ``"FATPIPE"`` (each flow may use all of it). A
    SPLITDUPLEX link of the platform file is two SHARED links here, ``<id>_UP`` and ``<id>_DOWN``.
    """

    name: str
    bandwidth: BytesPerSecond
    latency: Seconds = 0.0
    policy: Literal["SHARED", "FATPIPE"] = "SHARED"
    properties: dict[str, str] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Zone:
    """A zone (SimGrid's netzone): its routing kind, its sub-zones, and the hosts, links, routers it declares.

    ``routing`` is one of Full, Floyd, Dijkstra, DijkstraCache, None, or Cluster (for a ``<cluster>``).
    ``parent`` is the id of the englobing zone (None for the root). Host, link and router names are those
    declared directly in this zone, in document order.
    """

    id: str
    routing: str
    parent: str | None = None
    children: tuple[Zone, ...] = ()
    hosts: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    routers: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def walk(self) -> list[Zone]:
        """This zone and all its sub-zones, depth first, in document order."""
        result = [self]
        for child in self.children:
            result.extend(child.walk())
        return result


class Platform:
    """A loaded platform: hosts and links by name, the zone tree, the ``<config>`` properties, and routes.

    ``hosts`` keeps document order (cluster nodes in radical order). ``links`` keeps document order too and
    ends with the model's implicit ``__loopback__`` link, which routes a host to itself in Full, Floyd and
    Dijkstra zones when no route says otherwise. ``source`` is the file the platform came from (or a label).
    """

    __slots__ = (
        "_latencies",
        "_network",
        "_routes",
        "config",
        "hosts",
        "links",
        "loopback",
        "root",
        "routers",
        "source",
    )

    def __init__(
        self,
        *,
        hosts: dict[str, Host],
        links: dict[str, Link],
        root: Zone,
        source: str,
        config: dict[str, str],
        routers: tuple[str, ...],
        loopback: Link,
        network: Network,
    ) -> None:
        self.hosts = hosts
        self.links = links
        self.root = root
        self.source = source
        self.config = config
        self.routers = routers
        self.loopback = loopback
        self._network = network
        self._routes: dict[tuple[str, str], tuple[Link, ...]] = {}
        self._latencies: dict[tuple[str, str], Seconds] = {}

    def __repr__(self) -> str:
        return f"<Platform {self.source}: {len(self.hosts)} hosts, {len(self.links)} links>"

    def host(self, name: str) -> Host:
        """Return the host called ``name``; a :class:`LookupFailure` names the close matches if there is none."""
        try:
            return self.hosts[name]
        except KeyError:
            raise LookupFailure(self._unknown("host", name, self.hosts)) from None

    def link(self, name: str) -> Link:
        """Return the link called ``name`` (``L_UP``/``L_DOWN`` for the halves of a SPLITDUPLEX link ``L``)."""
        try:
            return self.links[name]
        except KeyError:
            raise LookupFailure(self._unknown("link", name, self.links)) from None

    def zone(self, zone_id: str) -> Zone:
        """Return the zone with this id (clusters are zones too)."""
        for zone in self.root.walk():
            if zone.id == zone_id:
                return zone
        raise LookupFailure(self._unknown("zone", zone_id, {z.id: z for z in self.root.walk()}))

    def route(self, src: str, dst: str) -> tuple[Link, ...]:
        """Return the links from host ``src`` to host ``dst``, in SimGrid's order.

        A host to itself goes through its declared loopback route if any, else (Full, Floyd, Dijkstra zones)
        the implicit ``__loopback__`` link; in a cluster, through its up link, the backbone and its down link.
        Routers may be given as ends too. Unknown names and unconnected pairs raise :class:`LookupFailure`.
        """
        key = (src, dst)
        found = self._routes.get(key)
        if found is None:
            found = self._compute(key)
        return found

    def route_latency(self, src: str, dst: str) -> Seconds:
        """Return the sum of the latencies along :meth:`route`, summed in SimGrid's order (bit-identical)."""
        key = (src, dst)
        if key not in self._latencies:
            self._compute(key)
        return self._latencies[key]

    def _compute(self, key: tuple[str, str]) -> tuple[Link, ...]:
        src, dst = key
        points = self._network.points
        for name in key:
            point = points.get(name)
            if point is None or point.kind == "zone":
                raise LookupFailure(self._unknown("host", name, self.hosts))
        try:
            path = self._network.route(points[src], points[dst])
        except NoRoute as exc:
            raise LookupFailure(f"no route from host '{src}' to host '{dst}' in {self.source}: {exc}") from None
        if not path.links:  # SimGrid refuses to communicate over an empty route ("no connecting path")
            raise LookupFailure(f"no route from host '{src}' to host '{dst}' in {self.source}: no link joins them")
        links = tuple(path.links)
        self._routes[key] = links
        self._latencies[key] = path.latency
        return links

    def _unknown(self, what: str, name: str, known: dict[str, object]) -> str:
        message = f"unknown {what} '{name}' in platform {self.source} ({len(known)} {what}s)"
        close = difflib.get_close_matches(name, list(known)[:10000], n=3)
        if close:
            message += "; did you mean " + ", ".join(f"'{c}'" for c in close) + "?"
        return message
