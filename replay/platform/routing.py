"""Routes inside a zone and across the zone tree, computed the way SimGrid 3.32 computes them.

A platform is a tree of zones. Every host, router and sub-zone is a *net point* of exactly one zone (its englobing
zone), numbered in the order it was declared there. Each zone answers only *local* questions: which links join two
of its own net points, and, between two of its sub-zones, through which gateways (``gw_src`` inside the source
sub-zone, ``gw_dst`` inside the destination one). :meth:`Network.route` composes the answers as SimGrid's
``NetZoneImpl::get_global_route`` does:

1. find the common ancestor zone of the two end points, and its two children leading to them;
2. if the ancestor holds a bypass route for that pair (or for a pair of zones on the way), take it;
3. if both end points sit in the same zone, ask that zone;
4. otherwise ask the ancestor for the route between the two children, then recurse from the source to ``gw_src``
   and from ``gw_dst`` to the destination: route = [src..gw_src] + [ancestor's links] + [gw_dst..dst].

Local routing per zone kind:

* Full: the declared table. A symmetrical route is stored backwards too, in reverse order, with each
  SPLITDUPLEX link taken in the other direction (UP becomes DOWN). A leaf zone (no sub-zones) gives every net
  point the model's loopback link when no route to itself was declared.
* Floyd: shortest paths counted in number of links (Floyd-Warshall over the declaration order, strict
  improvements only, so ties go to the earliest intermediate point), same loopback rule.
* Dijkstra / DijkstraCache: shortest paths counted in number of links (priority on (cost, graph index), graph
  nodes numbered by first appearance in a route). SimGrid 3.32 assembles this route from the last hop back,
  inserting each hop's links *reversed* at the *front* of the route built so far: the hops come in order but the
  links of each hop are reversed (a hop declared ``a, b`` is walked ``b, a``), and in a multi-zone route these
  links land before the ones already collected. We reproduce that, since the order is what SimGrid reports.
* Cluster (SimGrid's star zone, used by ``<cluster>``): each net point has links "up" to the centre and "down"
  from it; a route is the source's up links then the destination's down links, without repeating a link (the
  backbone appears once), unless the net point has a loopback and routes to itself.
* None: no local routes at all.

Latencies are summed in SimGrid's order of accumulation (the ancestor's links first, then the source leg, then
the destination leg), so that a route's latency is bit for bit SimGrid's.

This module is internal to :mod:`replay.platform`; the loader builds it and :class:`~replay.platform.Platform`
queries it (and caches every answer).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy as np

    from replay.platform.elements import Link

__all__ = ["NetPoint", "Network", "NoRoute", "RouteError", "ZoneRouting", "make_routing"]


class RouteError(Exception):
    """A route declaration that SimGrid refuses; the loader adds the file and line."""


class NoRoute(Exception):
    """Two net points that no declared route joins; :class:`~replay.platform.Platform` reports it."""


@dataclass(eq=False, slots=True)
class NetPoint:
    """A host, a router or a zone, as a vertex of its englobing zone (``zone``; None for the root zone)."""

    name: str
    kind: Literal["host", "router", "zone"]
    zone: ZoneRouting | None
    index: int = -1

    def __repr__(self) -> str:
        return f"NetPoint({self.kind} {self.name!r})"


@dataclass(frozen=True, slots=True)
class ZoneRoute:
    """A stored route: its links and, between sub-zones, the gateways it leaves and enters by."""

    links: tuple[Link, ...]
    gw_src: NetPoint | None = None
    gw_dst: NetPoint | None = None


@dataclass(slots=True)
class Path:
    """A route under construction: its links and its latency accumulated in SimGrid's order."""

    links: list[Link] = field(default_factory=list)
    latency: float = 0.0

    def append(self, links: Sequence[Link]) -> None:
        self.links.extend(links)
        for link in links:
            self.latency += link.latency

    def prepend_reversed(self, links: Sequence[Link]) -> None:
        """Insert ``links`` in reverse order at the front (SimGrid's ``insert_link_latency``)."""
        self.links[0:0] = links[::-1]
        for link in links:
            self.latency += link.latency


class ZoneRouting:
    """The routing of one zone; subclasses implement one SimGrid routing kind."""

    kind = "None"

    def __init__(self, zone_id: str, parent: ZoneRouting | None) -> None:
        self.id = zone_id
        self.parent = parent
        self.netpoint = NetPoint(zone_id, "zone", parent)
        self.children: list[ZoneRouting] = []
        self.vertices: list[NetPoint] = []
        self.bypass: dict[tuple[NetPoint, NetPoint], ZoneRoute] = {}
        if parent is not None:
            parent.children.append(self)
            parent.add_vertex(self.netpoint)

    @property
    def recursive(self) -> bool:
        """True for a zone holding sub-zones: its routes join sub-zones through gateways."""
        return bool(self.children)

    def add_vertex(self, point: NetPoint) -> None:
        point.index = len(self.vertices)
        self.vertices.append(point)

    def contains(self, point: NetPoint) -> bool:
        """True when ``point`` is a net point of this zone or of one of its sub-zones, at any depth."""
        zone = point.zone
        while zone is not None:
            if zone is self:
                return True
            zone = zone.parent
        return False

    # -- declaration ------------------------------------------------------------------------------------------

    def add_route(
        self,
        src: NetPoint | None,
        dst: NetPoint | None,
        gw_src: NetPoint | None,
        gw_dst: NetPoint | None,
        forward: Sequence[Link],
        backward: Sequence[Link],
        symmetrical: bool,
    ) -> None:
        """Declare a route; ``backward`` is the link list read as the return trip (SPLITDUPLEX UP/DOWN swapped)."""
        raise RouteError(f"zone '{self.id}' (routing {self.kind}) accepts no routes")

    def add_bypass_route(
        self, src: NetPoint, dst: NetPoint, gw_src: NetPoint | None, gw_dst: NetPoint | None, links: Sequence[Link]
    ) -> None:
        if not links:
            raise RouteError(f"the bypass route from '{src.name}' to '{dst.name}' has no link")
        if (src, dst) in self.bypass:
            raise RouteError(f"a bypass route from '{src.name}' to '{dst.name}' is already declared")
        self.bypass[(src, dst)] = ZoneRoute(tuple(links), gw_src, gw_dst)

    def seal(self, loopback: Link) -> None:
        """Finish the zone once all its content is declared (adds loopbacks, precomputes paths)."""

    # -- queries ----------------------------------------------------------------------------------------------

    def local_route(
        self, src: NetPoint, dst: NetPoint, path: Path, net: Network
    ) -> tuple[NetPoint | None, NetPoint | None]:
        """Add the links from ``src`` to ``dst`` (both vertices of this zone) to ``path``; return the gateways."""
        raise NoRoute(f"zone '{self.id}' has routing None: it routes nothing")

    def bypass_route(self, src: NetPoint, dst: NetPoint, path: Path, net: Network) -> bool:
        """Use a bypass route declared in this zone (the common ancestor) for src -> dst, if any."""
        if not self.bypass:
            return False
        if src.zone is self and dst.zone is self:
            found = self.bypass.get((src, dst))
            if found is None:
                return False
            path.append(found.links)
            return True
        src_chain = _zone_chain(src)
        dst_chain = _zone_chain(dst)
        while len(src_chain) > 1 and len(dst_chain) > 1 and src_chain[-1] is dst_chain[-1]:
            src_chain.pop()
            dst_chain.pop()

        def lookup(i: int, j: int) -> tuple[tuple[NetPoint, NetPoint], ZoneRoute] | None:
            if i < len(src_chain) and j < len(dst_chain):
                key = (src_chain[i].netpoint, dst_chain[j].netpoint)
                if key in self.bypass:
                    return key, self.bypass[key]
            return None

        hit = None
        for top in range(max(len(src_chain), len(dst_chain))):
            for i in range(top):
                hit = lookup(i, top) or lookup(top, i)
                if hit:
                    break
            if hit or (hit := lookup(top, top)):
                break
        if hit is None:
            return False
        (key_src, key_dst), found = hit
        if src is not key_src and found.gw_src is not None:
            net.extend(src, found.gw_src, path)
        path.append(found.links)
        if dst is not key_dst and found.gw_dst is not None:
            net.extend(found.gw_dst, dst, path)
        return True


def _zone_chain(point: NetPoint) -> list[ZoneRouting]:
    chain = []
    zone = point.zone
    while zone is not None:
        chain.append(zone)
        zone = zone.parent
    return chain


class _TableRouting(ZoneRouting):
    """Checks shared by the zones that store routes between pairs (SimGrid's RoutedZone)."""

    def check_route(
        self,
        src: NetPoint | None,
        dst: NetPoint | None,
        gw_src: NetPoint | None,
        gw_dst: NetPoint | None,
        forward: Sequence[Link],
    ) -> tuple[NetPoint, NetPoint]:
        if src is None or dst is None:
            raise RouteError("a route needs both a source and a destination")
        for end, role in ((src, "source"), (dst, "destination")):
            if end.zone is not self:
                where = f"zone '{end.zone.id}'" if end.zone is not None else "no zone"
                raise RouteError(
                    f"route {role} '{end.name}' is not a direct member of zone '{self.id}' (it is in {where}); "
                    "declare the route in the zone that holds both ends"
                )
        if gw_src is None or gw_dst is None:
            if self.recursive:
                raise RouteError(
                    f"zone '{self.id}' holds sub-zones: its routes must be <zoneRoute> with gw_src and gw_dst"
                )
            if not forward:
                raise RouteError(f"the route from '{src.name}' to '{dst.name}' has no link; empty routes are refused")
            for end in (src, dst):
                if end.kind == "zone":
                    raise RouteError(f"'{end.name}' is a zone: routes between zones are declared with <zoneRoute>")
            return src, dst
        for end in (src, dst):
            if end.kind != "zone":
                raise RouteError(f"'{end.name}' is not a zone: a <zoneRoute> joins two sub-zones")
        for gw, end, role in ((gw_src, src, "gw_src"), (gw_dst, dst, "gw_dst")):
            if gw.kind == "zone":
                raise RouteError(f"{role} '{gw.name}' is a zone; a gateway must be a host or a router")
            assert end.kind == "zone"
            zone = _zone_of(self, end)
            if zone is None or not zone.contains(gw):
                owner = gw.zone.id if gw.zone is not None else "no zone"
                raise RouteError(f"{role} '{gw.name}' belongs to zone '{owner}', not to zone '{end.name}'")
        if gw_src is gw_dst:
            raise RouteError(f"a zone route cannot go from gateway '{gw_src.name}' to itself")
        if not forward:
            raise RouteError(
                f"the route from '{src.name}'@'{gw_src.name}' to '{dst.name}'@'{gw_dst.name}' has no link; "
                "empty routes are refused"
            )
        return src, dst

    def stored(self, links: Sequence[Link], gw_src: NetPoint | None, gw_dst: NetPoint | None) -> ZoneRoute:
        if self.recursive:
            return ZoneRoute(tuple(links), gw_src, gw_dst)
        return ZoneRoute(tuple(links))


def _zone_of(zone: ZoneRouting, point: NetPoint) -> ZoneRouting | None:
    for child in zone.children:
        if child.netpoint is point:
            return child
    return None


def _describe(src: NetPoint, dst: NetPoint, gw_src: NetPoint | None, gw_dst: NetPoint | None) -> str:
    if gw_src is not None and gw_dst is not None:
        return f"'{src.name}'@'{gw_src.name}' to '{dst.name}'@'{gw_dst.name}'"
    return f"'{src.name}' to '{dst.name}'"


class FullRouting(_TableRouting):
    """Every route declared explicitly (SimGrid's FullZone)."""

    kind = "Full"

    def __init__(self, zone_id: str, parent: ZoneRouting | None) -> None:
        super().__init__(zone_id, parent)
        self.table: dict[tuple[int, int], ZoneRoute] = {}

    def add_route(self, src, dst, gw_src, gw_dst, forward, backward, symmetrical) -> None:  # type: ignore[override]
        src, dst = self.check_route(src, dst, gw_src, gw_dst, forward)
        key = (src.index, dst.index)
        if key in self.table:
            raise RouteError(
                f"the route from {_describe(src, dst, gw_src, gw_dst)} is already declared "
                '(routes are symmetrical unless symmetrical="NO")'
            )
        self.table[key] = self.stored(forward, gw_src, gw_dst)
        if symmetrical and src is not dst:
            back = (dst.index, src.index)
            if back in self.table:
                raise RouteError(
                    f"the route from {_describe(dst, src, gw_dst, gw_src)} is already declared: the route from "
                    f'{_describe(src, dst, gw_src, gw_dst)} cannot also be symmetrical (add symmetrical="NO")'
                )
            self.table[back] = self.stored(backward[::-1], gw_dst, gw_src)

    def seal(self, loopback: Link) -> None:
        if not self.recursive:
            for point in self.vertices:
                self.table.setdefault((point.index, point.index), ZoneRoute((loopback,)))

    def local_route(self, src, dst, path, net):  # type: ignore[override]
        found = self.table.get((src.index, dst.index))
        if found is None:
            raise NoRoute(f"zone '{self.id}' declares no route from '{src.name}' to '{dst.name}'")
        path.append(found.links)
        return found.gw_src, found.gw_dst


class FloydRouting(_TableRouting):
    """Shortest paths in number of links over the declared routes (SimGrid's FloydZone)."""

    kind = "Floyd"

    def __init__(self, zone_id: str, parent: ZoneRouting | None) -> None:
        super().__init__(zone_id, parent)
        self.table: dict[tuple[int, int], ZoneRoute] = {}
        self.pred: np.ndarray  # set by seal(), which imports numpy: only platforms with Floyd zones need it

    def add_route(self, src, dst, gw_src, gw_dst, forward, backward, symmetrical) -> None:  # type: ignore[override]
        src, dst = self.check_route(src, dst, gw_src, gw_dst, forward)
        key = (src.index, dst.index)
        if key in self.table:
            raise RouteError(
                f"the route from {_describe(src, dst, gw_src, gw_dst)} is already declared "
                '(routes are symmetrical unless symmetrical="NO")'
            )
        self.table[key] = self.stored(forward, gw_src, gw_dst)
        if symmetrical:
            back = (dst.index, src.index)
            if back in self.table:
                raise RouteError(
                    f"the route from {_describe(dst, src, gw_dst, gw_src)} is already declared: the route from "
                    f'{_describe(src, dst, gw_src, gw_dst)} cannot also be symmetrical (add symmetrical="NO")'
                )
            self.table[back] = self.stored(backward[::-1], gw_dst, gw_src)

    def seal(self, loopback: Link) -> None:
        import numpy as np

        n = len(self.vertices)
        if not self.recursive:
            for i in range(n):
                self.table.setdefault((i, i), ZoneRoute((loopback,)))
        infinity = np.iinfo(np.int64).max // 4
        cost = np.full((n, n), infinity, dtype=np.int64)
        pred = np.full((n, n), -1, dtype=np.int64)
        for (i, j), route in self.table.items():
            cost[i, j] = len(route.links)
            pred[i, j] = i
        # Floyd-Warshall; within one pivot c, row and column c cannot change (costs are >= 1), so one
        # vectorised update per pivot equals SimGrid's triple loop, ties included (strict improvement only).
        # `infinity` is a quarter of the int64 range: a sum through an unreachable point stays >= infinity.
        for c in range(n):
            via = cost[:, c : c + 1] + cost[c : c + 1, :]
            better = via < cost
            np.copyto(cost, via, where=better)
            np.copyto(pred, np.broadcast_to(pred[c : c + 1, :], pred.shape), where=better)
        self.pred = pred

    def local_route(self, src, dst, path, net):  # type: ignore[override]
        stack: list[ZoneRoute] = []
        current = dst.index
        while True:
            previous = int(self.pred[src.index, current])
            if previous == -1:
                raise NoRoute(f"zone '{self.id}' has no path from '{src.name}' to '{dst.name}'")
            stack.append(self.table[(previous, current)])
            current = previous
            if current == src.index:
                break
        gw_src = gw_dst = None
        if self.recursive:
            gw_src, gw_dst = stack[-1].gw_src, stack[0].gw_dst
        previous_gw: NetPoint | None = None
        for hop in reversed(stack):
            if (
                self.recursive
                and previous_gw is not None
                and hop.gw_src is not None
                and previous_gw.name != hop.gw_src.name
            ):
                net.extend(previous_gw, hop.gw_src, path)
            path.append(hop.links)
            previous_gw = hop.gw_dst
        return gw_src, gw_dst


class DijkstraRouting(_TableRouting):
    """Shortest paths in number of links, found on demand (SimGrid's DijkstraZone, cached or not)."""

    kind = "Dijkstra"

    def __init__(self, zone_id: str, parent: ZoneRouting | None, *, cached: bool = False) -> None:
        super().__init__(zone_id, parent)
        if cached:
            self.kind = "DijkstraCache"
        self.node_of: dict[int, int] = {}  # vertex index -> graph node index (order of first use in a route)
        self.out_edges: list[list[tuple[int, ZoneRoute]]] = []
        self.edges: dict[tuple[int, int], ZoneRoute] = {}
        self.preds: dict[int, tuple[list[int], list[float]]] = {}

    def _node(self, point: NetPoint) -> int:
        node = self.node_of.get(point.index)
        if node is None:
            node = self.node_of[point.index] = len(self.out_edges)
            self.out_edges.append([])
        return node

    def _edge(self, src: NetPoint, dst: NetPoint, route: ZoneRoute, label: str) -> None:
        u, v = self._node(src), self._node(dst)
        if (u, v) in self.edges:
            raise RouteError(
                f"the route from {label} is already declared (routes are symmetrical unless "
                'symmetrical="NO"; in a Dijkstra zone a route to itself must say symmetrical="NO")'
            )
        self.edges[(u, v)] = route
        self.out_edges[u].append((v, route))

    def add_route(self, src, dst, gw_src, gw_dst, forward, backward, symmetrical) -> None:  # type: ignore[override]
        src, dst = self.check_route(src, dst, gw_src, gw_dst, forward)
        self._edge(src, dst, self.stored(forward, gw_src, gw_dst), _describe(src, dst, gw_src, gw_dst))
        if symmetrical:
            self._edge(dst, src, self.stored(backward[::-1], gw_dst, gw_src), _describe(dst, src, gw_dst, gw_src))

    def seal(self, loopback: Link) -> None:
        if not self.recursive:
            for node, edges in enumerate(self.out_edges):
                if (node, node) not in self.edges:
                    route = ZoneRoute((loopback,))
                    self.edges[(node, node)] = route
                    edges.append((node, route))

    def _shortest(self, source: int) -> tuple[list[int], list[float]]:
        found = self.preds.get(source)
        if found is not None:
            return found
        n = len(self.out_edges)
        cost = [float("inf")] * n
        pred = [0] * n
        cost[source] = 0.0
        queue = [(cost[i], i) for i in range(n)]
        heapq.heapify(queue)
        while queue:
            _, v = heapq.heappop(queue)
            if cost[v] == float("inf"):
                continue
            for u, route in self.out_edges[v]:
                candidate = cost[v] + len(route.links)
                if candidate < cost[u]:
                    pred[u] = v
                    cost[u] = candidate
                    heapq.heappush(queue, (candidate, u))
        self.preds[source] = (pred, cost)
        return pred, cost

    def local_route(self, src, dst, path, net):  # type: ignore[override]
        s = self.node_of.get(src.index)
        d = self.node_of.get(dst.index)
        if s is None or d is None:
            lonely = src if s is None else dst
            raise NoRoute(f"no route of zone '{self.id}' involves '{lonely.name}'")
        if s == d:
            self_route = self.edges.get((s, s))
            if self_route is None:
                raise NoRoute(f"zone '{self.id}' declares no route from '{src.name}' to itself")
            path.prepend_reversed(self_route.links)
        pred, cost = self._shortest(s)
        if cost[d] == float("inf"):
            raise NoRoute(f"zone '{self.id}' has no path from '{src.name}' to '{dst.name}'")
        gw_src: NetPoint | None = None
        first_gw: NetPoint | None = None
        v = d
        while v != s:
            hop = self.edges[(pred[v], v)]
            previous_gw_src = gw_src
            gw_src = hop.gw_src
            if v == d:
                first_gw = hop.gw_dst
            if (
                self.recursive
                and v != d
                and hop.gw_dst is not None
                and previous_gw_src is not None
                and hop.gw_dst.name != previous_gw_src.name
            ):
                # SimGrid 3.32 crashes here (it asks for a route between null points); we join the gateways.
                between = Path(latency=path.latency)
                net.extend(hop.gw_dst, previous_gw_src, between)
                path.links[0:0] = between.links
                path.latency = between.latency
            path.prepend_reversed(hop.links)
            v = pred[v]
        if self.recursive:
            return gw_src, first_gw
        return None, None


@dataclass(slots=True)
class _StarEntry:
    up: tuple[Link, ...] = ()
    down: tuple[Link, ...] = ()
    up_set: bool = False
    down_set: bool = False
    gateway: NetPoint | None = None
    loopback: tuple[Link, ...] | None = None


class StarRouting(ZoneRouting):
    """Every net point linked to one centre (SimGrid's StarZone, behind ``<cluster>`` and routing="Cluster")."""

    kind = "Cluster"

    def __init__(self, zone_id: str, parent: ZoneRouting | None) -> None:
        super().__init__(zone_id, parent)
        self.entries: dict[int, _StarEntry] = {}

    def add_route(self, src, dst, gw_src, gw_dst, forward, backward, symmetrical) -> None:  # type: ignore[override]
        if (src is None and dst is None) or (src is not None and dst is not None and src is not dst):
            raise RouteError(
                f"zone '{self.id}' is a cluster (star) zone: a route either goes from one net point to every other, "
                "or from a net point to itself (a loopback)"
            )
        if symmetrical and src is None:
            raise RouteError(f"zone '{self.id}': a symmetrical star route must start from its net point")
        for point, gw, role in ((src, gw_src, "gw_src"), (dst, gw_dst, "gw_dst")):
            if point is not None and point.kind == "zone":
                zone = _zone_of(self, point)
                if gw is None or gw.kind == "zone" or zone is None or not zone.contains(gw):
                    raise RouteError(f"the route of sub-zone '{point.name}' needs a {role} inside it")
        if src is not None and src is dst:
            self.entries.setdefault(src.index, _StarEntry()).loopback = tuple(forward)
            return
        if src is not None:
            entry = self.entries.setdefault(src.index, _StarEntry())
            entry.up, entry.up_set, entry.gateway = tuple(forward), True, gw_src
            if symmetrical:
                entry.down, entry.down_set = tuple(backward[::-1]), True
        if dst is not None:
            entry = self.entries.setdefault(dst.index, _StarEntry())
            entry.down, entry.down_set, entry.gateway = tuple(forward), True, gw_dst

    def seal(self, loopback: Link) -> None:
        for point in self.vertices:
            if point.index not in self.entries:
                self.entries[point.index] = _StarEntry(up_set=True, down_set=True)

    def local_route(self, src, dst, path, net):  # type: ignore[override]
        src_entry = self.entries[src.index]
        dst_entry = self.entries[dst.index]
        seen: set[str] = set()

        def add(links: tuple[Link, ...]) -> None:
            for link in links:
                if link.name not in seen:
                    seen.add(link.name)
                    path.append((link,))

        if src is dst and src_entry.loopback is not None:
            add(src_entry.loopback)
            return None, None
        if not src_entry.up_set:
            raise NoRoute(f"cluster zone '{self.id}' has no link up from '{src.name}'")
        if not dst_entry.down_set:
            raise NoRoute(f"cluster zone '{self.id}' has no link down to '{dst.name}'")
        add(src_entry.up)
        add(dst_entry.down)
        return src_entry.gateway, dst_entry.gateway


class EmptyRouting(ZoneRouting):
    """A zone without routing (routing="None"), e.g. a root holding a single sub-zone."""

    kind = "None"


_KINDS = {
    "full": "Full",
    "floyd": "Floyd",
    "dijkstra": "Dijkstra",
    "dijkstracache": "DijkstraCache",
    "none": "None",
    "cluster": "Cluster",
}


def make_routing(routing: str, zone_id: str, parent: ZoneRouting | None) -> ZoneRouting:
    """Create the routing of a zone from its ``routing`` attribute (case-insensitive, as SimGrid reads it)."""
    kind = _KINDS.get(routing.lower())
    if kind == "Full":
        return FullRouting(zone_id, parent)
    if kind == "Floyd":
        return FloydRouting(zone_id, parent)
    if kind in ("Dijkstra", "DijkstraCache"):
        return DijkstraRouting(zone_id, parent, cached=kind == "DijkstraCache")
    if kind == "Cluster":
        return StarRouting(zone_id, parent)
    if kind == "None":
        return EmptyRouting(zone_id, parent)
    raise ValueError(routing)


def routing_names() -> tuple[str, ...]:
    """The routing kinds :func:`make_routing` understands, as written in SimGrid's documentation."""
    return tuple(_KINDS.values())


class Network:
    """The zone tree with its net points; answers global routes (uncached: the platform caches)."""

    def __init__(self, root: ZoneRouting, points: dict[str, NetPoint]) -> None:
        self.root = root
        self.points = points

    def route(self, src: NetPoint, dst: NetPoint) -> Path:
        path = Path()
        self.extend(src, dst, path)
        return path

    def extend(self, src: NetPoint, dst: NetPoint, path: Path) -> None:
        """Add the route from ``src`` to ``dst`` to ``path`` (SimGrid's get_global_route)."""
        common, src_side, dst_side = _common_ancestors(src, dst)
        if common.bypass_route(src, dst, path, self):
            return
        if src_side is dst_side:
            common.local_route(src, dst, path, self)
            return
        between = Path(latency=path.latency)
        gw_src, gw_dst = common.local_route(src_side.netpoint, dst_side.netpoint, between, self)
        if gw_src is None or gw_dst is None:
            raise NoRoute(
                f"zone '{common.id}' gives no gateways between its sub-zones '{src_side.id}' and '{dst_side.id}'"
            )
        path.latency = between.latency
        if src is not gw_src:
            self.extend(src, gw_src, path)
        path.links.extend(between.links)
        if gw_dst is not dst:
            self.extend(gw_dst, dst, path)


def _common_ancestors(src: NetPoint, dst: NetPoint) -> tuple[ZoneRouting, ZoneRouting, ZoneRouting]:
    if src.zone is dst.zone:
        assert src.zone is not None
        return src.zone, src.zone, src.zone
    src_chain = _zone_chain(src)
    dst_chain = _zone_chain(dst)
    parent: ZoneRouting | None = None
    while len(src_chain) > 1 and len(dst_chain) > 1 and src_chain[-1] is dst_chain[-1]:
        parent = src_chain.pop()
        dst_chain.pop()
    src_side, dst_side = src_chain[-1], dst_chain[-1]
    if src_side is dst_side:
        return src_side, src_side, dst_side
    assert parent is not None
    return parent, src_side, dst_side
