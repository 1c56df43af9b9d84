"""Clusters: the ``<cluster>`` element, expanded into a star zone of hosts and links, and routing="Cluster" zones.

A ``<cluster>`` with the flat topology (SimGrid 3.32's ``sg_platf_new_cluster``) becomes a zone with routing
Cluster holding, for each radical, a node ``prefix + radical + suffix`` with its private link
``<id>_link_<radical>`` (halves ``_UP``/``_DOWN`` when SPLITDUPLEX, the default), optionally a limiter link
``<id>_link_<radical>_limiter`` and a loopback ``<id>_link_<radical>_loopback`` (FATPIPE); an optional backbone
``<id>_backbone``; and a router ``router_id`` or ``prefix + id + "_router" + suffix``. The route between two
nodes is limiter, up link, backbone, down link, limiter, with no link twice. The cluster's ``<prop>`` go to the zone
and to every node, typed host properties included (:mod:`replay.platform.properties`).

A ``<zone routing="Cluster">`` written by hand holds ``<host>``, ``<link>``, ``<host_link>`` (a host's up and down
links), ``<cabinet>`` (a row of hosts with their own links) and one ``<backbone>``; SimGrid connects them when the
zone ends, which :func:`populate_star` does. Both declare through the :class:`~replay.platform.builder.PlatformBuilder`
and refuse bad values with a :class:`~replay.errors.PlatformError` naming file:line.
"""

from __future__ import annotations

from collections.abc import Callable

from replay.errors import PlatformError
from replay.platform.attribute_values import parse_cores, parse_quantity, parse_speeds, parse_whole, sharing_policy
from replay.platform.builder import Pending, PlatformBuilder, ZoneFrame
from replay.platform.elements import Host, Link
from replay.platform.routing import NetPoint
from replay.platform.xml_reader import MAX_HOSTS, suggest
from replay.units import parse_bandwidth, parse_speed, parse_time

__all__ = ["add_backbone", "add_cabinet", "add_host_link", "expand_cluster", "populate_star", "radicals"]


def expand_cluster(builder: PlatformBuilder, item: Pending) -> None:
    """Declare the cluster zone of a ``<cluster>`` element, now that its ``<prop>`` children are known."""
    attrs, line, at = item.attrs, item.line, builder.at(item.line)
    cid = attrs["id"]
    topology = attrs.get("topology", "FLAT")
    if topology in ("FAT_TREE", "TORUS", "DRAGONFLY"):
        raise PlatformError(f"{at}topology=\"{topology}\" of cluster '{cid}' is unsupported: only FLAT clusters")
    if topology != "FLAT":
        raise PlatformError(f"{at}topology of cluster '{cid}' must be FLAT, found '{topology}'")
    policy = sharing_policy(attrs.get("sharing_policy", "SPLITDUPLEX"), f"cluster '{cid}'", at)
    bb_policy = attrs.get("bb_sharing_policy", "SHARED")
    if bb_policy not in ("SHARED", "FATPIPE"):
        raise PlatformError(f"{at}bb_sharing_policy of cluster '{cid}' must be SHARED or FATPIPE, found '{bb_policy}'")
    numbers = radicals(attrs["radical"], cid, at)
    speeds = parse_speeds(attrs["speed"], f"speed of cluster '{cid}'", at)
    if speeds[0] <= 0:
        raise PlatformError(f"{at}speed of cluster '{cid}' must be positive")
    cores = parse_cores(attrs.get("core", "1"), f"cluster {cid}", at, speeds)
    bw = parse_quantity(parse_bandwidth, attrs["bw"], f"bw of cluster '{cid}'", at, positive=True)
    lat = parse_quantity(parse_time, attrs["lat"], f"lat of cluster '{cid}'", at, positive=False)

    def optional(key: str, parse: Callable[[str, str], float], default: str = "") -> float:
        text = attrs.get(key, default)
        if text == "":
            return 0.0
        return parse_quantity(parse, text, f"{key} of cluster '{cid}'", at, positive=False)

    bb_bw = optional("bb_bw", parse_bandwidth)
    bb_lat = optional("bb_lat", parse_time, "0s")
    limiter_bw = optional("limiter_link", parse_bandwidth)
    loopback_bw = optional("loopback_bw", parse_bandwidth)
    loopback_lat = optional("loopback_lat", parse_time)
    for key, bandwidth, latency in (("bb_bw", bb_bw, bb_lat), ("loopback_bw", loopback_bw, loopback_lat)):
        if latency > 0 and bandwidth <= 0:
            raise PlatformError(f"{at}cluster '{cid}' gives a latency but no {key}: that link would have no bandwidth")
    fields = builder.host_fields(item, f"cluster '{cid}'", speeds)

    zone = builder.new_zone(cid, "Cluster", line)
    frame = ZoneFrame(cid, zone, line, properties=dict(item.properties))
    backbone = None
    if bb_bw > 0 or bb_lat > 0:
        backbone = builder.add_link(Link(f"{cid}_backbone", bb_bw, bb_lat, bb_policy), line, frame)  # type: ignore[arg-type]
    prefix, suffix = attrs["prefix"], attrs["suffix"]
    for radical in numbers:
        host = Host(f"{prefix}{radical}{suffix}", speeds[0], cores, dict(item.properties), cid, speeds, 0, **fields)
        point = builder.add_host(host, frame, line)
        link_id = f"{cid}_link_{radical}"
        if loopback_bw > 0 or loopback_lat > 0:
            loop = builder.add_link(Link(f"{link_id}_loopback", loopback_bw, loopback_lat, "FATPIPE"), line, frame)
            zone.add_route(point, point, None, None, [loop], [loop], True)
        limiter = None
        if limiter_bw > 0:
            limiter = builder.add_link(Link(f"{link_id}_limiter", limiter_bw, 0.0, "SHARED"), line, frame)
        if policy == "SPLITDUPLEX":
            builder.claim_link(link_id, line)
            up = builder.add_link(Link(f"{link_id}_UP", bw, lat, "SHARED"), line, frame)
            down = builder.add_link(Link(f"{link_id}_DOWN", bw, lat, "SHARED"), line, frame)
            builder.split[link_id] = (up, down)
        else:
            # SimGrid 3.32 gives a non-SPLITDUPLEX cluster link no sharing policy: it is SHARED even
            # when the cluster says FATPIPE.
            up = down = builder.add_link(Link(link_id, bw, lat, "SHARED"), line, frame)
        head = [limiter] if limiter else []
        tail = [backbone] if backbone else []
        zone.add_route(point, None, None, None, [*head, up, *tail], [*head, down, *tail], True)
    router = attrs.get("router_id") or f"{prefix}{cid}_router{suffix}"
    router_point = builder.add_router(router, frame, line)
    zone.add_route(router_point, None, None, None, [], [], True)
    zone.seal(builder.get_loopback())
    builder.close_zone(frame, "Cluster")


def radicals(text: str, cid: str, at: str) -> list[int]:
    """Expand a radical such as ``0-3,8,10-11`` into the list of numbers it names, in order (at most
    :data:`~replay.platform.xml_reader.MAX_HOSTS` of them, counted before anything is built)."""
    ranges: list[range] = []
    for group in text.split(","):
        ends = group.split("-")
        if len(ends) > 2:
            raise PlatformError(f"{at}malformed radical '{group}' in cluster '{cid}': expected N or N-M")
        numbers = [parse_whole(end, f"radical '{group}' of cluster '{cid}'", at) for end in ends]
        if any("." in end for end in ends):
            raise PlatformError(f"{at}radical '{group}' of cluster '{cid}' is not a whole number")
        ranges.append(range(numbers[0], numbers[-1] + 1))
    size = sum(len(r) for r in ranges)
    if size > MAX_HOSTS:
        raise PlatformError(f"{at}radical '{text}' of cluster '{cid}' names {size:,} nodes; expected at most "
                            f"{MAX_HOSTS:,} hosts in a platform")
    result = [number for r in ranges for number in r]
    if not result:
        raise PlatformError(f"{at}radical '{text}' of cluster '{cid}' names no node")
    return result


def _star_frame(builder: PlatformBuilder, tag: str, line: int) -> ZoneFrame:
    """The current zone, which must have routing="Cluster" to hold a ``<backbone>``, ``<host_link>``, ``<cabinet>``."""
    frame = builder.enter(tag, line)
    assert frame is not None
    if frame.routing.kind != "Cluster":
        raise PlatformError(
            f'{builder.at(line)}<{tag}> is only meaningful in a zone with routing="Cluster" '
            f"(zone '{frame.id}' has routing {frame.routing.kind})"
        )
    return frame


def add_backbone(builder: PlatformBuilder, attrs: dict[str, str], line: int) -> None:
    """Note the ``<backbone>`` of a Cluster zone; its link is made when the zone ends."""
    frame = _star_frame(builder, "backbone", line)
    if frame.backbone is not None:
        raise PlatformError(
            f"{builder.at(line)}zone '{frame.id}' already has a backbone, declared at "
            f"{builder.at(frame.backbone[3])}".rstrip(": ")
        )
    frame.backbone = (attrs["id"], attrs["bandwidth"], attrs["latency"], line)


def add_host_link(builder: PlatformBuilder, attrs: dict[str, str], line: int) -> None:
    """Note a ``<host_link>`` of a Cluster zone; it is connected when the zone ends."""
    _star_frame(builder, "host_link", line).host_links.append((attrs, line))


def add_cabinet(builder: PlatformBuilder, attrs: dict[str, str], line: int) -> None:
    """Note a ``<cabinet>`` of a Cluster zone; its hosts and links are made when the zone ends."""
    _star_frame(builder, "cabinet", line).cabinets.append((attrs, line))


def populate_star(builder: PlatformBuilder, frame: ZoneFrame) -> None:
    """Create a Cluster zone's backbone, host links and cabinets, as SimGrid does when the zone ends."""
    zone = frame.routing
    backbone = None
    if frame.backbone is not None:
        name, bw_text, lat_text, line = frame.backbone
        at = builder.at(line)
        bandwidth = parse_quantity(parse_bandwidth, bw_text, f"bandwidth of backbone '{name}'", at, positive=True)
        latency = parse_quantity(parse_time, lat_text, f"latency of backbone '{name}'", at, positive=False)
        backbone = builder.add_link(Link(name, bandwidth, latency, "SHARED"), line, frame)
    tail = [backbone] if backbone else []

    def connect(point: NetPoint, up: Link, down: Link) -> None:
        zone.add_route(point, None, None, None, [up, *tail], [up, *tail], False)
        zone.add_route(None, point, None, None, [*tail, down], [*tail, down], False)

    for attrs, line in frame.host_links:
        at = builder.at(line)
        point = builder.points.get(attrs["id"])
        if point is None or point.kind != "host" or point.zone is not zone:
            raise PlatformError(f"{at}<host_link> id='{attrs['id']}' names no host of zone '{frame.id}'")
        ends = []
        for role in ("up", "down"):
            link = builder.links.get(attrs[role])
            if link is None:
                raise PlatformError(
                    f"{at}unknown link '{attrs[role]}' ({role} of <host_link> '{attrs['id']}')"
                    + suggest(attrs[role], builder.links)
                )
            ends.append(link)
        connect(point, ends[0], ends[1])
    for attrs, line in frame.cabinets:
        at = builder.at(line)
        cab = attrs["id"]
        speed = parse_quantity(parse_speed, attrs["speed"], f"speed of cabinet '{cab}'", at, positive=True)
        bw = parse_quantity(parse_bandwidth, attrs["bw"], f"bw of cabinet '{cab}'", at, positive=True)
        lat = parse_quantity(parse_time, attrs["lat"], f"lat of cabinet '{cab}'", at, positive=False)
        for radical in radicals(attrs["radical"], cab, at):
            name = f"{attrs['prefix']}{radical}{attrs['suffix']}"
            point = builder.add_host(Host(name, speed, 1, {}, frame.id, (speed,), 0), frame, line)
            up = builder.add_link(Link(f"link_{name}_UP", bw, lat, "SHARED"), line, frame)
            down = builder.add_link(Link(f"link_{name}_DOWN", bw, lat, "SHARED"), line, frame)
            connect(point, up, down)
