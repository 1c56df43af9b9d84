"""The platform as the simulation sees it: hosts, links, the zone tree, and routes between hosts.

Everything here is immutable once loaded, except the route caches: :meth:`Platform.route` is called for every
transfer, so each (source, destination) answer is computed once, the way SimGrid computes it (see
:mod:`replay.platform.routing`), and kept. The records it holds (:class:`Host`, :class:`Link`, :class:`Zone`, the
loopback constants) are defined in :mod:`replay.platform.elements` and exported from here too.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from replay.errors import LookupFailure
from replay.platform.elements import LOOPBACK_BANDWIDTH, LOOPBACK_LATENCY, LOOPBACK_NAME, Host, Link, Zone
from replay.platform.routing import NoRoute
from replay.units import Seconds

if TYPE_CHECKING:
    from replay.platform.routing import Network

__all__ = ["LOOPBACK_BANDWIDTH", "LOOPBACK_LATENCY", "LOOPBACK_NAME", "Host", "Link", "Platform", "Zone"]


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

    def links_named(self, name: str) -> tuple[Link, ...]:
        """The link called ``name``, or both halves of the SPLITDUPLEX link ``name`` (``name_UP``, ``name_DOWN``),
        as SimGrid's ``Link::by_name`` finds them."""
        if name in self.links:
            return (self.links[name],)
        if name == self.loopback.name:
            return (self.loopback,)
        halves = tuple(self.links[f"{name}_{half}"] for half in ("UP", "DOWN") if f"{name}_{half}" in self.links)
        if halves:
            return halves
        raise LookupFailure(self._unknown("link", name, self.links))

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
