"""Platform loading and routing, checked against values derived by hand from SimGrid 3.32's rules.

The rules (src/surf/sg_platf.cpp, src/kernel/routing/*.cpp): a SPLITDUPLEX link L is two links L_UP and L_DOWN;
a symmetrical route is walked back in reverse order with UP and DOWN swapped; a flat cluster <id> has private
links <id>_link_<n> (halves _UP/_DOWN), a backbone <id>_backbone, and routes up-link, backbone, down-link; a route
across zones is [src .. gw_src] + the zoneRoute's links + [gw_dst .. dst]; a host of a Full/Floyd/Dijkstra zone
routes to itself through __loopback__ (10 GB/s, 0 s, FATPIPE) unless a route says otherwise. Every route below
was also compared with SimGrid 3.32 itself (s4u Host::route_to) when written; the tests do not need SimGrid.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import MISSING
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.errors import LookupFailure, PlatformError, ReplayError, UnitError
from replay.platform import Host, Link, Platform, Zone, default_platform, load_platform, load_platform_string
from replay.platform.loader import PlatformWarning
from replay.platform.properties import HOST_PROPERTIES

REPO = Path(__file__).resolve().parents[1]
PLATFORMS = REPO / "traces" / "platforms"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "simgrid"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"SimGrid's example platforms are not beside the repository ({SHARED})"
)

HEAD = '<?xml version="1.0"?>\n<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">\n<platform version="4.1">\n'


def us(n: float) -> float:
    """n microseconds as the unit parser computes them: n x 1e-6 (50us is 4.9999999999999996e-05, not 5e-05)."""
    return n * 1e-6


def ms(n: float) -> float:
    return n * 1e-3


def names(links: tuple[Link, ...]) -> list[str]:
    return [link.name for link in links]


def load(body: str, source: str = "t.xml") -> Platform:
    """A platform from the body of <platform>; line 1 is the XML declaration, so the body starts on line 4."""
    return load_platform_string(HEAD + body + "\n</platform>\n", source=source)


def zone(body: str, routing: str = "Full") -> Platform:
    """A platform of one zone; the zone's children start on line 5."""
    return load(f'<zone id="z" routing="{routing}">\n{body}\n</zone>')


def route(platform: Platform, src: str, dst: str) -> list[str]:
    return names(platform.route(src, dst))


# -- project platforms --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small() -> Platform:
    return load_platform(PLATFORMS / "small.xml")


def test_small_hosts(small: Platform) -> None:
    assert list(small.hosts) == ["alpha", "beta", "gamma", "delta", "epsilon"]  # document order
    alpha = small.host("alpha")
    assert (alpha.speed, alpha.cores, alpha.zone, alpha.pstate_speeds) == (1e9, 4, "small", (1e9,))
    assert alpha.properties == {"rack": "r1"}
    # gamma: speed="2Gf,1Gf,500Mf" pstate="1": three power states, starting in the second one (1e9 flop/s).
    gamma = small.host("gamma")
    assert gamma.pstate_speeds == (2e9, 1e9, 5e8)
    assert (gamma.pstate, gamma.speed, gamma.cores) == (1, 1e9, 2)
    assert small.root == Zone("small", "Full", hosts=tuple(small.hosts), links=small.root.links)
    assert small.root.properties == {"site": "lab"}


def test_small_links(small: Platform) -> None:
    assert small.link("l-beta").bandwidth == 12.5e6  # 100Mbps = 100e6 bits/s / 8
    assert small.link("l-gamma").bandwidth == 1024.0**3  # 1GiBps
    assert small.link("l-gamma").policy == "FATPIPE"
    assert small.link("l-delta") == Link("l-delta", 62.5e6, ms(1), "SHARED")
    assert small.link("l-delta").properties == {"cable": "copper"}
    assert small.link("alpha-lo").latency == pytest.approx(1e-6)
    assert list(small.links)[-1] == "__loopback__"  # declared links first, in order, then the model's loopback


def test_small_routes(small: Platform) -> None:
    assert route(small, "alpha", "beta") == ["l-alpha", "fabric", "l-beta"]
    # symmetrical by default: the way back is the same links in reverse order
    assert route(small, "beta", "alpha") == ["l-beta", "fabric", "l-alpha"]
    # two one-way routes
    assert route(small, "beta", "epsilon") == ["l-beta", "wan"]
    assert route(small, "epsilon", "beta") == ["wan", "fabric", "l-beta"]
    # alpha declares its own loopback; the others use the model's
    assert route(small, "alpha", "alpha") == ["alpha-lo"]
    assert small.route("beta", "beta") == (Link("__loopback__", 10e9, 0.0, "FATPIPE"),)


def test_small_latency_is_summed_in_route_order(small: Platform) -> None:
    # alpha -> beta: 50us + 500us + 100us; beta -> alpha adds them the other way round (one ulp apart).
    assert small.route_latency("alpha", "beta") == (us(50) + us(500)) + us(100)
    assert small.route_latency("beta", "alpha") == (us(100) + us(500)) + us(50)
    assert small.route_latency("alpha", "beta") != small.route_latency("beta", "alpha")
    assert small.route_latency("beta", "beta") == 0.0


def test_cluster_expansion() -> None:
    plat = load_platform(PLATFORMS / "cluster.xml")
    assert list(plat.hosts) == [f"pm-{i}" for i in range(16)]
    node = plat.host("pm-3")
    assert (node.speed, node.cores, node.zone, node.properties) == (2e9, 4, "rack", {"role": "compute"})
    # backbone first, then each node's SPLITDUPLEX link as its two halves
    assert list(plat.links)[:5] == [
        "rack_backbone",
        "rack_link_0_UP",
        "rack_link_0_DOWN",
        "rack_link_1_UP",
        "rack_link_1_DOWN",
    ]
    assert plat.link("rack_link_7_UP") == Link("rack_link_7_UP", 1.25e9, us(50), "SHARED")
    assert plat.link("rack_backbone") == Link("rack_backbone", 10e9, us(100), "SHARED")
    assert route(plat, "pm-0", "pm-2") == ["rack_link_0_UP", "rack_backbone", "rack_link_2_DOWN"]
    assert route(plat, "pm-2", "pm-0") == ["rack_link_2_UP", "rack_backbone", "rack_link_0_DOWN"]
    # no loopback in a cluster without loopback_bw: a node reaches itself through the backbone
    assert route(plat, "pm-5", "pm-5") == ["rack_link_5_UP", "rack_backbone", "rack_link_5_DOWN"]
    assert plat.route_latency("pm-0", "pm-2") == (us(50) + us(100)) + us(50)
    assert plat.routers == ("pm-rack_router",)  # prefix + id + "_router" + suffix
    assert plat.root.routing == "Cluster" and plat.root.properties == {"role": "compute"}


def test_splitduplex_directions() -> None:
    plat = load_platform(PLATFORMS / "splitduplex.xml")
    assert "trunk" not in plat.links and plat.link("trunk_UP").policy == "SHARED"
    assert plat.link("nic-north_UP").bandwidth == 125e6  # 1Gbps / 8
    assert route(plat, "west", "east") == ["nic-west_UP", "trunk_UP", "nic-east_DOWN"]
    # the symmetrical way back: reversed, UP and DOWN swapped
    assert route(plat, "east", "west") == ["nic-east_UP", "trunk_DOWN", "nic-west_DOWN"]
    assert route(plat, "east", "north") == ["nic-east_UP", "trunk_DOWN", "nic-north_DOWN"]
    assert route(plat, "north", "east") == ["nic-north_UP", "trunk_UP", "nic-east_DOWN"]
    # a plain SHARED link stays itself both ways
    assert route(plat, "south", "west") == ["nic-south_UP", "mgmt", "nic-west_DOWN"]
    # two one-way routes
    assert route(plat, "north", "south") == ["nic-north_UP", "trunk_UP", "nic-south_DOWN"]
    assert route(plat, "south", "north") == ["nic-south_UP", "mgmt", "nic-north_DOWN"]


def test_multizone_routes() -> None:
    plat = load_platform(PLATFORMS / "multizone.xml")
    assert [z.id for z in plat.root.walk()] == ["campus", "room-a", "room-b", "pod"]
    assert [z.routing for z in plat.root.walk()] == ["Full", "Full", "Floyd", "Cluster"]
    assert plat.zone("room-b").routers == ("gw-b", "switch-b") and plat.zone("pod").parent == "campus"
    # a1 -> b2: [a1 .. gw-a] + zoneRoute(room-a, room-b) + [gw-b .. b2], the last leg found by Floyd
    assert route(plat, "a1", "b2") == ["la1", "uplink-a", "core", "uplink-b", "lb-up", "lb2"]
    assert route(plat, "b2", "a1") == ["lb2", "lb-up", "uplink-b", "core", "uplink-a", "la1"]
    # into the cluster: the zoneRoute ends at its router, then the node's down link after the backbone
    assert route(plat, "a1", "node-0") == [
        "la1",
        "uplink-a",
        "core",
        "uplink-pod_DOWN",
        "pod_backbone",
        "pod_link_0_DOWN",
    ]
    assert route(plat, "node-0", "b2") == [
        "pod_link_0_UP",
        "pod_backbone",
        "uplink-pod_UP",
        "core",
        "uplink-b",
        "lb-up",
        "lb2",
    ]
    assert route(plat, "b1", "b2") == ["lb1", "lb2"]  # two Floyd hops through switch-b
    assert route(plat, "a1", "a1") == ["__loopback__"]
    # latency in SimGrid's order: the zoneRoute's links first, then the source leg, then the destination leg
    assert plat.route_latency("a1", "b2") == ((((us(100) + ms(1)) + us(100)) + us(50)) + us(10)) + us(40)


def test_multicore() -> None:
    plat = load_platform(PLATFORMS / "multicore.xml")
    assert {h.name: h.cores for h in plat.hosts.values()} == {"single": 1, "dual": 2, "quad": 4, "quad-slow": 4}
    assert plat.host("quad-slow").speed == 500e6
    assert route(plat, "dual", "quad") == ["l-dual", "switch", "l-quad"]


OURS = ["small.xml", "cluster.xml", "splitduplex.xml", "multizone.xml", "multicore.xml"]


@pytest.mark.parametrize("path", [PLATFORMS / name for name in OURS], ids=OURS)
def test_project_platforms_load_cleanly(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plat = load_platform(path)
    assert plat.source == str(path)
    for src in plat.hosts:  # every pair of hosts is connected
        for dst in plat.hosts:
            assert plat.route(src, dst)


def test_default_platform() -> None:
    plat = default_platform()
    assert list(plat.hosts) == [f"pm-{i}" for i in range(8)] + ["controller", "storage"]
    assert all(plat.host(f"pm-{i}").cores == 4 and plat.host(f"pm-{i}").speed == 2e9 for i in range(8))
    assert route(plat, "pm-0", "pm-1") == ["rack_link_0_UP", "rack_backbone", "rack_link_1_DOWN"]
    assert route(plat, "pm-0", "storage") == ["rack_link_0_UP", "rack_backbone", "uplink", "ops-storage"]
    assert route(plat, "storage", "pm-0") == ["ops-storage", "uplink", "rack_backbone", "rack_link_0_DOWN"]
    assert plat.routers == ("rack-router", "ops-gw")


# -- SimGrid's example platforms ----------------------------------------------------------------------------------


@needs_shared
def test_simgrid_cluster_backbone() -> None:
    plat = load_platform(SHARED / "cluster_backbone.xml")
    assert len(plat.hosts) == 100 and "node-99.simgrid.org" in plat.hosts
    # The file's comment says "l0.UP ; backbone ; l2.DOWN"; SimGrid 3.32 names them like this:
    assert route(plat, "node-0.simgrid.org", "node-2.simgrid.org") == [
        "cluster0_link_0_UP",
        "cluster0_backbone",
        "cluster0_link_2_DOWN",
    ]
    assert plat.link("cluster0_backbone").bandwidth == 2.25e9  # 2.25GBps
    assert plat.route_latency("node-0.simgrid.org", "node-2.simgrid.org") == (us(50) + us(500)) + us(50)


@needs_shared
def test_simgrid_small_platform() -> None:
    plat = load_platform(SHARED / "small_platform.xml")
    assert plat.host("Tremblay").speed == 98.095e6
    assert plat.link("6") == Link("6", 41.279125 * 1e6, us(59.904), "SHARED")  # 41.279125MBps, 59.904us
    assert route(plat, "Tremblay", "Jupiter") == ["9"]
    assert plat.route_latency("Tremblay", "Jupiter") == ms(1.461517)
    assert route(plat, "Tremblay", "Fafard") == ["4", "3", "2", "0", "1", "8"]
    assert route(plat, "Fafard", "Tremblay") == ["8", "1", "0", "2", "3", "4"]
    assert route(plat, "Tremblay", "Tremblay") == ["loopback"]
    assert plat.link("loopback").policy == "FATPIPE"


@needs_shared
def test_simgrid_small_platform_fatpipe() -> None:
    plat = load_platform(SHARED / "small_platform_fatpipe.xml")
    assert route(plat, "Tremblay", "Ruby") == ["1"] and route(plat, "Ruby", "Tremblay") == ["1"]
    assert plat.link("1").policy == "FATPIPE"
    with pytest.raises(LookupFailure, match="no route from host 'Java' to host 'Perl'"):
        plat.route("Java", "Perl")


# -- routing kinds ------------------------------------------------------------------------------------------------

DIJKSTRA = """
<host id="h1" speed="1Gf"/><host id="h2" speed="1Gf"/><host id="h3" speed="1Gf"/><host id="h4" speed="1Gf"/>
<router id="r1"/><router id="r2"/>
<link id="a" bandwidth="1GBps" latency="1us"/><link id="b" bandwidth="1GBps" latency="2us"/>
<link id="c" bandwidth="1GBps" latency="3us"/><link id="d" bandwidth="1GBps" latency="4us"/>
<link id="e" bandwidth="1GBps" latency="5us"/>
<link id="f" bandwidth="1GBps" latency="6us" sharing_policy="SPLITDUPLEX"/>
<link id="g" bandwidth="1GBps" latency="7us"/>
<route src="h1" dst="r1"><link_ctn id="a"/><link_ctn id="b"/></route>
<route src="r1" dst="r2"><link_ctn id="c"/></route>
<route src="r2" dst="h2"><link_ctn id="d"/><link_ctn id="f" direction="UP"/></route>
<route src="r1" dst="h3"><link_ctn id="e"/></route>
<route src="h3" dst="h4" symmetrical="NO"><link_ctn id="g"/></route>
<route src="h4" dst="h4" symmetrical="NO"><link_ctn id="g"/><link_ctn id="a"/></route>
<route src="h4" dst="r2" symmetrical="NO"><link_ctn id="a"/></route>
"""


@pytest.mark.parametrize("routing", ["Dijkstra", "DijkstraCache", "dijkstra"])
def test_dijkstra_routes(routing: str) -> None:
    plat = zone(DIJKSTRA, routing)
    # Shortest path in hops h1 -> r1 -> r2 -> h2. SimGrid 3.32 builds it from the last hop back, inserting each
    # hop's links reversed at the front: the hops come in order, the links of each hop reversed.
    assert route(plat, "h1", "h2") == ["b", "a", "c", "f_UP", "d"]
    # the way back uses the reverse edges, stored reversed with UP/DOWN swapped, then reversed again per hop
    assert route(plat, "h2", "h1") == ["d", "f_DOWN", "c", "a", "b"]
    assert route(plat, "h1", "h4") == ["b", "a", "e", "g"]
    assert route(plat, "h4", "h1") == ["a", "c", "a", "b"]  # h4 -> r2 -> r1 -> h1
    assert route(plat, "h4", "h4") == ["a", "g"]  # its own (one-way) loop, reversed too
    assert route(plat, "h1", "h1") == ["__loopback__"]
    assert plat.root.routing == {"dijkstra": "Dijkstra"}.get(routing, routing)


def test_dijkstra_route_to_itself_must_be_one_way() -> None:
    # SimGrid's Dijkstra zone adds the reverse edge of a symmetrical route, which for a loop is the same edge.
    body = (
        '<host id="h" speed="1Gf"/><link id="l" bandwidth="1GBps"/>\n<route src="h" dst="h"><link_ctn id="l"/></route>'
    )
    with pytest.raises(PlatformError, match=r"t.xml:6: <route> in zone 'z': .*symmetrical=\"NO\""):
        zone(body, "Dijkstra")


FLOYD = """
<host id="h1" speed="1Gf"/><host id="h2" speed="1Gf"/><host id="h3" speed="1Gf"/>
<router id="r1"/><router id="r2"/>
<link id="a" bandwidth="1GBps" latency="1us"/><link id="b" bandwidth="1GBps" latency="2us"/>
<link id="c" bandwidth="1GBps" latency="3us"/><link id="d" bandwidth="1GBps" latency="4us"/>
<link id="e" bandwidth="1GBps" latency="5us"/><link id="x" bandwidth="1GBps" latency="8us"/>
<route src="h1" dst="r1"><link_ctn id="a"/></route>
<route src="h1" dst="r2"><link_ctn id="b"/></route>
<route src="r1" dst="h2"><link_ctn id="c"/></route>
<route src="r2" dst="h2"><link_ctn id="d"/></route>
<route src="h2" dst="h3"><link_ctn id="e"/></route>
<route src="h3" dst="h3" symmetrical="NO"><link_ctn id="x"/></route>
"""


def test_floyd_routes() -> None:
    plat = zone(FLOYD, "Floyd")
    # h1 -> h2 has two 2-link paths, through r1 (a, c) and through r2 (b, d); Floyd keeps the first found, the
    # pivot with the lower declaration index (r1 is declared before r2).
    assert route(plat, "h1", "h2") == ["a", "c"]
    assert route(plat, "h2", "h1") == ["c", "a"]
    assert route(plat, "h1", "h3") == ["a", "c", "e"]
    assert route(plat, "h3", "h1") == ["e", "c", "a"]
    assert route(plat, "h3", "h3") == ["x"]
    assert route(plat, "h2", "h2") == ["__loopback__"]


MULTI_DIJKSTRA = """
<AS id="root" routing="Dijkstra">
  <AS id="za" routing="Full">
    <host id="a1" speed="1Gf"/><router id="ga"/>
    <link id="la" bandwidth="1GBps" latency="1us"/><link id="la2" bandwidth="1GBps" latency="1us"/>
    <route src="a1" dst="ga"><link_ctn id="la"/><link_ctn id="la2"/></route>
  </AS>
  <AS id="zb" routing="Dijkstra">
    <host id="b1" speed="1Gf"/><router id="gb"/><router id="mb"/>
    <link id="lb" bandwidth="1GBps" latency="2us"/><link id="lb2" bandwidth="1GBps" latency="3us"/>
    <route src="gb" dst="mb"><link_ctn id="lb"/></route>
    <route src="mb" dst="b1"><link_ctn id="lb2"/></route>
  </AS>
  <AS id="zc" routing="Floyd">
    <host id="c1" speed="1Gf"/><router id="gc"/>
    <link id="lc" bandwidth="1GBps" latency="4us"/>
    <route src="gc" dst="c1"><link_ctn id="lc"/></route>
  </AS>
  <link id="ab" bandwidth="1GBps" latency="10us"/><link id="bc" bandwidth="1GBps" latency="20us"/>
  <ASroute src="za" dst="zb" gw_src="ga" gw_dst="gb"><link_ctn id="ab"/></ASroute>
  <ASroute src="zb" dst="zc" gw_src="gb" gw_dst="gc"><link_ctn id="bc"/></ASroute>
</AS>
"""


def test_dijkstra_inside_a_multizone_route() -> None:
    plat = load_platform_string(HEAD.replace('"4.1"', '"4"') + MULTI_DIJKSTRA + "</platform>")
    # a1 -> b1: [a1 .. ga] = la, la2; zoneRoute = ab; [gb .. b1] in Dijkstra zone zb = hops lb, lb2. SimGrid's
    # Dijkstra inserts its links at the front of the whole route collected so far: lb, lb2 come first.
    assert route(plat, "a1", "b1") == ["lb", "lb2", "la", "la2", "ab"]
    # b1 -> a1: zb's leg is first anyway (reverse edges, each one link): lb2, lb; then ab; then za: la2, la
    assert route(plat, "b1", "a1") == ["lb2", "lb", "ab", "la2", "la"]
    # the root is Dijkstra too: a1 -> c1 crosses za -> zb -> zc, two hops joined at gateway gb
    assert route(plat, "a1", "c1") == ["la", "la2", "ab", "bc", "lc"]
    assert route(plat, "c1", "b1") == ["lb", "lb2", "lc", "bc"]


def test_bypass_routes() -> None:
    body = """
<zone id="root" routing="Full">
  <zone id="za" routing="Full">
    <host id="a1" speed="1Gf"/><host id="a2" speed="1Gf"/><router id="ga"/>
    <link id="la1" bandwidth="1GBps" latency="1us"/><link id="la2" bandwidth="1GBps" latency="1us"/>
    <link id="short" bandwidth="1GBps" latency="1ns"/>
    <route src="a1" dst="ga"><link_ctn id="la1"/></route>
    <route src="a2" dst="ga"><link_ctn id="la2"/></route>
    <route src="a1" dst="a2"><link_ctn id="la1"/><link_ctn id="la2"/></route>
    <bypassRoute src="a1" dst="a2"><link_ctn id="short"/></bypassRoute>
  </zone>
  <zone id="zb" routing="Full">
    <host id="b1" speed="1Gf"/><router id="gb"/><router id="gb2"/>
    <link id="lb1" bandwidth="1GBps" latency="1us"/><link id="lb2" bandwidth="1GBps" latency="1us"/>
    <route src="b1" dst="gb"><link_ctn id="lb1"/></route>
    <route src="b1" dst="gb2"><link_ctn id="lb2"/></route>
  </zone>
  <link id="ab" bandwidth="1GBps" latency="10us"/><link id="fast" bandwidth="10GBps" latency="1us"/>
  <zoneRoute src="za" dst="zb" gw_src="ga" gw_dst="gb"><link_ctn id="ab"/></zoneRoute>
  <bypassZoneRoute src="za" dst="zb" gw_src="ga" gw_dst="gb2"><link_ctn id="fast"/></bypassZoneRoute>
</zone>"""
    plat = load(body)
    assert route(plat, "a1", "a2") == ["short"]  # the bypass replaces the declared route, one way only
    assert route(plat, "a2", "a1") == ["la2", "la1"]
    # za -> zb is bypassed through gb2: [a1 .. ga] + fast + [gb2 .. b1]
    assert route(plat, "a1", "b1") == ["la1", "fast", "lb2"]
    assert route(plat, "b1", "a1") == ["lb1", "ab", "la1"]  # bypass routes are never symmetrical


def test_none_root_and_cluster_zone_with_host_links_and_cabinets() -> None:
    body = """
<zone id="none" routing="None">
  <zone id="star" routing="Cluster">
    <prop id="kind" value="star"/>
    <host id="s1" speed="1Gf" core="8"/><host id="s2" speed="1Gf"/><host id="s3" speed="1Gf"/>
    <link id="u1" bandwidth="1GBps" latency="1us"/><link id="d1" bandwidth="1GBps" latency="2us"/>
    <link id="u2" bandwidth="1GBps" latency="3us"/><link id="d2" bandwidth="1GBps" latency="4us"/>
    <link id="lo" bandwidth="1GBps" latency="4us"/>
    <backbone id="bb" bandwidth="2GBps" latency="5us"/>
    <host_link id="s1" up="u1" down="d1"/>
    <host_link id="s2" up="u2" down="d2"/>
    <cabinet id="cab" prefix="c-" suffix=".x" radical="1-2" speed="2Gf" bw="1GBps" lat="7us"/>
    <route src="s2" dst="s2"><link_ctn id="lo"/></route>
  </zone>
</zone>"""
    plat = load(body)
    assert list(plat.hosts) == ["s1", "s2", "s3", "c-1.x", "c-2.x"]  # cabinets are made when the zone ends
    assert plat.zone("star").properties == {"kind": "star"}
    assert route(plat, "s1", "s2") == ["u1", "bb", "d2"]  # up, backbone (once), down
    assert route(plat, "s1", "s1") == ["u1", "bb", "d1"]
    assert route(plat, "s2", "s2") == ["lo"]  # a loopback route in a star zone
    assert route(plat, "s1", "s3") == ["u1", "bb"]  # s3 has no host_link: nothing on its side
    assert route(plat, "c-1.x", "s1") == ["link_c-1.x_UP", "bb", "d1"]
    assert plat.host("c-2.x").speed == 2e9
    with pytest.raises(LookupFailure, match="no link joins them"):
        plat.route("s3", "s3")


CLUSTERS = """
<config><prop id="network/loopback-bw" value="1e9"/><prop id="network/loopback-lat" value="0.000001"/></config>
<zone id="top" routing="Floyd">
  <cluster id="c1" prefix="n" radical="0-1,5,7-8" suffix=".c1" speed="1Gf,500Mf" core="2" bw="1GBps" lat="10us"
           limiter_link="2GBps" loopback_bw="5GBps" loopback_lat="1us" router_id="gw1"/>
  <cluster id="c2" prefix="m" radical="0-2" suffix="" speed="1Gf" bw="1GBps" lat="10us" sharing_policy="SHARED"
           bb_bw="3GBps" bb_lat="5us" bb_sharing_policy="FATPIPE"/>
  <cluster id="c3" prefix="f" radical="0-1" suffix="" speed="1Gf" bw="1GBps" lat="10us" sharing_policy="FATPIPE"
           limiter_link="1.5GBps"/>
  <zone id="z" routing="Full">
    <host id="zh" speed="1Gf"/><router id="zr"/>
    <link id="zl" bandwidth="1GBps" latency="1ms"/>
    <route src="zh" dst="zr"><link_ctn id="zl"/></route>
  </zone>
  <link id="t1" bandwidth="1GBps" latency="100us"/><link id="t2" bandwidth="1GBps" latency="100us"/>
  <link id="t3" bandwidth="1GBps" latency="100us"/>
  <zoneRoute src="c1" dst="c2" gw_src="gw1" gw_dst="mc2_router"><link_ctn id="t1"/></zoneRoute>
  <zoneRoute src="c2" dst="c3" gw_src="mc2_router" gw_dst="fc3_router"><link_ctn id="t2"/></zoneRoute>
  <zoneRoute src="c3" dst="z" gw_src="fc3_router" gw_dst="zr"><link_ctn id="t3"/></zoneRoute>
</zone>"""


def test_cluster_options() -> None:
    plat = load(CLUSTERS)
    # radical "0-1,5,7-8" = 0, 1, 5, 7, 8
    assert [h for h in plat.hosts if h.endswith(".c1")] == ["n0.c1", "n1.c1", "n5.c1", "n7.c1", "n8.c1"]
    assert plat.host("n5.c1").pstate_speeds == (1e9, 5e8) and plat.host("n5.c1").cores == 2
    # per node: loopback (FATPIPE), limiter, then the SPLITDUPLEX halves
    assert list(plat.zone("c1").links)[:4] == [
        "c1_link_0_loopback",
        "c1_link_0_limiter",
        "c1_link_0_UP",
        "c1_link_0_DOWN",
    ]
    assert plat.link("c1_link_5_loopback") == Link("c1_link_5_loopback", 5e9, us(1), "FATPIPE")
    assert plat.link("c1_link_5_limiter") == Link("c1_link_5_limiter", 2e9, 0.0, "SHARED")
    assert route(plat, "n5.c1", "n5.c1") == ["c1_link_5_loopback"]
    # limiter, up, (no backbone), down, limiter
    assert route(plat, "n0.c1", "n7.c1") == ["c1_link_0_limiter", "c1_link_0_UP", "c1_link_7_DOWN", "c1_link_7_limiter"]
    assert plat.routers[0] == "gw1"
    # SHARED cluster: one link per node; FATPIPE backbone
    assert route(plat, "m0", "m2") == ["c2_link_0", "c2_backbone", "c2_link_2"]
    assert route(plat, "m1", "m1") == ["c2_link_1", "c2_backbone"]  # a link is never taken twice in a star
    assert plat.link("c2_backbone").policy == "FATPIPE"
    # SimGrid 3.32 creates the private links of a FATPIPE cluster without a sharing policy, i.e. SHARED
    assert plat.link("c3_link_0").policy == "SHARED"
    assert route(plat, "f0", "f0") == ["c3_link_0_limiter", "c3_link_0"]
    # across zones (Floyd root): c3 -> c2 -> c1
    assert route(plat, "f0", "n0.c1") == [
        "c3_link_0_limiter",
        "c3_link_0",
        "t2",
        "t1",
        "c1_link_0_DOWN",
        "c1_link_0_limiter",
    ]
    assert route(plat, "zh", "m1") == ["zl", "t3", "t2", "c2_backbone", "c2_link_1"]
    # the <config> sizes the model's loopback
    assert plat.route("zh", "zh") == (Link("__loopback__", 1e9, 1e-6, "FATPIPE"),)
    assert plat.config == {"network/loopback-bw": "1e9", "network/loopback-lat": "0.000001"}


def test_fullduplex_is_splitduplex_with_a_warning() -> None:
    with pytest.warns(PlatformWarning, match="FULLDUPLEX"):
        plat = load(
            '<cluster id="k" prefix="k" radical="0-1" suffix="" speed="1Gf" bw="1GBps" lat="10us" '
            'sharing_policy="FULLDUPLEX" bb_bw="3GBps"/>'
        )
    assert route(plat, "k0", "k1") == ["k_link_0_UP", "k_backbone", "k_link_1_DOWN"]
    assert plat.link("k_backbone").latency == 0.0  # bb_lat defaults to 0s


def test_old_names_and_version_4() -> None:
    text = HEAD.replace('"4.1"', '"4"') + (
        '<AS id="z" routing="Full"><host id="a" speed="1Gf"/><host id="b" speed="1Gf"/>'
        '<link id="l" bandwidth="1GBps" latency="1ms"/>'
        '<route src="a" dst="b"><link_ctn id="l"/></route></AS></platform>'
    )
    assert route(load_platform_string(text), "b", "a") == ["l"]


def test_loopback_link_can_be_named_in_routes() -> None:
    plat = zone(
        '<host id="a" speed="1Gf"/><host id="b" speed="1Gf"/>'
        '<route src="a" dst="b"><link_ctn id="__loopback__"/></route>'
    )
    assert route(plat, "a", "b") == ["__loopback__"]


def test_link_latency_defaults_to_zero_and_bare_numbers_warn() -> None:
    plat = zone('<link id="l" bandwidth="1GBps"/>\n<host id="a" speed="1Gf"/>')
    assert plat.link("l").latency == 0.0
    with pytest.warns(UserWarning, match=r"t.xml:5: bandwidth of link 'l': bandwidth '1000' has no unit"):
        plat = zone('<link id="l" bandwidth="1000"/>\n<host id="a" speed="1Gf"/>')
    assert plat.link("l").bandwidth == 1000.0


def test_properties_and_config() -> None:
    plat = load(
        '<config id="c"><prop id="network/model" value="CM02"/><prop id="network/model" value="LV08"/></config>\n'
        '<zone id="z" routing="Full"><prop id="owner" value="me"/>\n'
        '<host id="a" speed="1Gf"><prop id="ram" value="16GiB"/><prop id="ram" value="8GiB"/></host>\n'
        '<link id="l" bandwidth="1GBps"><prop id="cable" value="fibre"/></link></zone>'
    )
    assert plat.config == {"network/model": "CM02"}  # the first value wins, as in SimGrid
    assert plat.host("a").properties == {"ram": "16GiB"}
    assert plat.link("l").properties == {"cable": "fibre"}
    assert plat.zone("z").properties == {"owner": "me"}


# -- typed host properties ----------------------------------------------------------------------------------------


def test_host_properties_are_typed_once_at_load_time() -> None:
    # 16GiB = 16 x 2^30 bytes; 100MBps = 100e6 bytes/s; "YES" is a yes in any case. The text stays in properties.
    plat = zone(
        '<host id="a" speed="1Gf"><prop id="ramsize" value="16GiB"/><prop id="disk_bandwidth" value="100MBps"/>'
        '<prop id="overcommit" value="YES"/></host>'
    )
    a = plat.host("a")
    assert (a.ramsize, a.disk_bandwidth, a.overcommit) == (16 * 2**30, 100e6, True)
    assert a.properties == {"ramsize": "16GiB", "disk_bandwidth": "100MBps", "overcommit": "YES"}
    # like properties, the typed fields take no part in equality
    assert a == Host("a", 1e9, zone="z", pstate_speeds=(1e9,))


def test_absent_host_properties_are_none_and_false() -> None:
    a = zone('<host id="a" speed="1Gf"><prop id="rack" value="r1"/></host>').host("a")
    assert (a.ramsize, a.disk_bandwidth, a.overcommit) == (None, None, False)
    assert (Host("h", 1.0).ramsize, Host("h", 1.0).disk_bandwidth, Host("h", 1.0).overcommit) == (None, None, False)


def test_cluster_properties_type_every_node() -> None:
    # The cluster's <prop> go to each of its 3 nodes, typed as a host's own: 8GiB = 8 x 2^30 bytes, 1Gbps = 1e9/8.
    plat = load(
        '<cluster id="c" prefix="n" suffix="" radical="0-2" speed="1Gf" bw="1GBps" lat="0s">'
        '<prop id="ramsize" value="8GiB"/><prop id="disk_bandwidth" value="1Gbps"/><prop id="overcommit" value="1"/>'
        "</cluster>"
    )
    assert [(h.name, h.ramsize, h.disk_bandwidth, h.overcommit) for h in plat.hosts.values()] == [
        (f"n{i}", 8 * 2**30, 1.25e8, True) for i in range(3)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("yes", True), ("1", True), ("True", True), ("false", False), ("No", False), ("0", False)],
)
def test_overcommit_values(text: str, expected: bool) -> None:
    host = zone(f'<host id="a" speed="1Gf"><prop id="overcommit" value="{text}"/></host>').host("a")
    assert host.overcommit is expected


def test_a_bare_ramsize_is_taken_in_bytes_with_a_warning() -> None:
    with pytest.warns(UserWarning, match=r"t.xml:5: property 'ramsize' of host 'a': size '1000' has no unit"):
        plat = zone('<host id="a" speed="1Gf"><prop id="ramsize" value="1000"/></host>')
    assert plat.host("a").ramsize == 1000.0


BAD_HOST_PROPERTIES = [
    # (name, property, value, expected message); the <prop> stands on line 6, its <host> on line 5
    ("no number", "ramsize", "lots", r"t.xml:6: property 'ramsize' of host 'a': cannot read size 'lots': expected"),
    ("bandwidth unit", "ramsize", "1GBps", r"t.xml:6: property 'ramsize' of host 'a': unknown unit 'GBps' in size"),
    ("zero ramsize", "ramsize", "0GiB", r"t.xml:6: property 'ramsize' of host 'a' must be positive, found '0GiB'"),
    ("negative ramsize", "ramsize", "-1GiB", r"t.xml:6: property 'ramsize' of host 'a': size '-1GiB' is negative"),
    ("infinite ramsize", "ramsize", "inf", r"t.xml:6: property 'ramsize' of host 'a': size 'inf' is not a finite"),
    (
        "size unit",
        "disk_bandwidth",
        "100MB",
        r"t.xml:6: property 'disk_bandwidth' of host 'a': unknown unit 'MB' in bandwidth '100MB'",
    ),
    (
        "zero disk bandwidth",
        "disk_bandwidth",
        "0Bps",
        r"t.xml:6: property 'disk_bandwidth' of host 'a' must be positive, found '0Bps'",
    ),
    (
        "not a flag",
        "overcommit",
        "maybe",
        r"t.xml:6: property 'overcommit' of host 'a' must be true or false \(or yes/no, 1/0\), found 'maybe'",
    ),
    ("empty flag", "overcommit", "", r"t.xml:6: property 'overcommit' of host 'a' must be true or false .*found ''"),
]


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [(k, v, m) for _, k, v, m in BAD_HOST_PROPERTIES],
    ids=[n for n, _, _, _ in BAD_HOST_PROPERTIES],
)
def test_bad_host_properties(key: str, value: str, message: str) -> None:
    with pytest.raises(PlatformError, match=message) as info:
        zone(f'<host id="a" speed="1Gf">\n<prop id="{key}" value="{value}"/></host>')
    assert "\n" not in str(info.value)


def test_a_bad_cluster_property_names_the_cluster_and_its_prop() -> None:
    # line 4: <cluster>; line 5: its <prop>, given to every node, so the cluster is named, once.
    with pytest.raises(PlatformError, match=r"^t.xml:5: property 'ramsize' of cluster 'c' must be positive") as info:
        load(
            '<cluster id="c" prefix="n" suffix="" radical="0-99" speed="1Gf" bw="1GBps" lat="0s">\n'
            '<prop id="ramsize" value="0B"/></cluster>'
        )
    assert "\n" not in str(info.value)


def test_every_typed_property_names_a_host_field() -> None:
    fields = Host.__dataclass_fields__
    for name, row in HOST_PROPERTIES.items():
        assert row.field in fields, name
        assert fields[row.field].default is not MISSING  # absent property -> the field's default


def test_actors_in_a_platform_file_are_skipped() -> None:
    plat = load(
        '<zone id="z" routing="Full"><host id="a" speed="1Gf"/></zone>\n'
        '<actor host="a" function="f"><argument value="1"/></actor>'
    )
    assert list(plat.hosts) == ["a"]


# -- lookups and caching ------------------------------------------------------------------------------------------


def test_routes_are_cached(small: Platform) -> None:
    first = small.route("alpha", "gamma")
    assert small.route("alpha", "gamma") is first


def test_unknown_host(small: Platform) -> None:
    with pytest.raises(LookupFailure, match=r"unknown host 'alpah' .*\(5 hosts\); did you mean 'alpha'\?"):
        small.host("alpah")
    with pytest.raises(LookupFailure, match="unknown host 'zeta'"):
        small.route("alpha", "zeta")
    with pytest.raises(KeyError):  # LookupFailure is a KeyError too
        small.link("nope")
    with pytest.raises(LookupFailure, match="unknown zone"):
        small.zone("nope")


def test_route_to_a_zone_name_is_refused(small: Platform) -> None:
    with pytest.raises(LookupFailure, match="unknown host 'small'"):
        small.route("alpha", "small")


def test_no_route_names_both_hosts() -> None:
    plat = zone('<host id="a" speed="1Gf"/><host id="b" speed="1Gf"/>')
    with pytest.raises(LookupFailure, match=r"no route from host 'a' to host 'b' in t.xml: zone 'z' declares no"):
        plat.route("a", "b")


def test_large_cluster_loads_and_routes() -> None:
    plat = load(
        '<cluster id="big" prefix="pm-" radical="0-999" suffix="" speed="1Gf" core="4" bw="1.25GBps" '
        'lat="50us" bb_bw="10GBps" bb_lat="100us"/>'
    )
    assert len(plat.hosts) == 1000 and len(plat.links) == 1 + 2 * 1000 + 1  # backbone, halves, __loopback__
    assert route(plat, "pm-998", "pm-3") == ["big_link_998_UP", "big_backbone", "big_link_3_DOWN"]


def test_model_objects_are_frozen_and_hashable(small: Platform) -> None:
    alpha = small.host("alpha")
    with pytest.raises(AttributeError):
        alpha.speed = 2.0  # type: ignore[misc]
    assert {alpha, small.host("alpha")} == {alpha}
    assert len({small.link("wan"), small.link("wan")}) == 1
    assert isinstance(alpha, Host) and hash(small.root) == hash(small.root)


# -- errors -------------------------------------------------------------------------------------------------------

HOSTS_AB = '<host id="a" speed="1Gf"/><host id="b" speed="1Gf"/>'

ERRORS = [
    # (name, zone body starting on line 5, expected message)
    ("unknown element", '<hots id="a" speed="1Gf"/>', r"t.xml:5: unknown element <hots> \(did you mean 'host'\?\)"),
    (
        "unknown attribute",
        '<link id="l" bandwith="1GBps"/>',
        r"t.xml:5: unknown attribute 'bandwith' in <link> \(did you mean 'bandwidth'\?\); <link> takes id, bandwidth",
    ),
    ("missing attribute", '<host id="a"/>', r"t.xml:5: <host> needs the attribute 'speed'"),
    (
        "bad unit",
        '<host id="a" speed="1GF"/>',
        r"t.xml:5: speed of host 'a': unknown unit 'GF' in speed '1GF'; allowed units: 'f'",
    ),
    (
        "bad latency",
        '<link id="l" bandwidth="1GBps" latency="5 ms"/>',
        r"t.xml:5: latency of link 'l': unknown unit ' ms'",
    ),
    ("negative", '<link id="l" bandwidth="-1GBps"/>', r"t.xml:5: bandwidth of link 'l': .*negative"),
    ("zero bandwidth", '<link id="l" bandwidth="0Bps"/>', r"t.xml:5: bandwidth of link 'l' must be positive"),
    (
        "duplicate host",
        '<host id="a" speed="1Gf"/>\n<host id="a" speed="1Gf"/>',
        r"t.xml:6: duplicate id 'a' for a host: a host of that name is already declared at t.xml:5",
    ),
    ("host named like the zone", '<host id="z" speed="1Gf"/>', r"t.xml:5: duplicate id 'z' for a host: a zone"),
    (
        "duplicate link",
        '<link id="l" bandwidth="1GBps"/>\n<link id="l" bandwidth="1GBps"/>',
        r"t.xml:6: duplicate link id 'l': already declared at t.xml:5",
    ),
    (
        "split duplex name clash",
        '<link id="l" bandwidth="1GBps" sharing_policy="SPLITDUPLEX"/>\n<link id="l_UP" bandwidth="1GBps"/>',
        r"t.xml:6: duplicate link id 'l_UP'",
    ),
    ("reserved link name", '<link id="__loopback__" bandwidth="1GBps"/>', r"t.xml:5: the link name '__loopback__'"),
    (
        "unknown link in route",
        HOSTS_AB + '\n<route src="a" dst="b"><link_ctn id="nope"/></route>',
        r"t.xml:6: unknown link 'nope' in <route>",
    ),
    (
        "unknown host in route",
        HOSTS_AB + '<link id="l" bandwidth="1GBps"/>\n<route src="a" dst="bb"><link_ctn id="l"/></route>',
        r"t.xml:6: dst='bb' of <route> names no host, router or zone declared before it \(did you mean 'b'\?\)",
    ),
    (
        "split duplex without direction",
        HOSTS_AB + '<link id="l" bandwidth="1GBps" sharing_policy="SPLITDUPLEX"/>\n'
        '<route src="a" dst="b"><link_ctn id="l"/></route>',
        r"t.xml:6: link 'l' is SPLITDUPLEX: its <link_ctn> needs direction=\"UP\" or \"DOWN\"",
    ),
    (
        "direction on a plain link",
        HOSTS_AB + '<link id="l" bandwidth="1GBps"/>\n<route src="a" dst="b"><link_ctn id="l" direction="UP"/></route>',
        r"t.xml:6: link 'l' is not SPLITDUPLEX: direction=\"UP\"",
    ),
    (
        "duplicate route",
        HOSTS_AB + '<link id="l" bandwidth="1GBps"/>\n<route src="a" dst="b"><link_ctn id="l"/>'
        '</route>\n<route src="b" dst="a"><link_ctn id="l"/></route>',
        r"t.xml:7: <route> in zone 'z': the route from 'b' to 'a' is already declared \(routes are symmetrical",
    ),
    ("empty route", HOSTS_AB + '\n<route src="a" dst="b"></route>', r"t.xml:6: .*has no link; empty routes"),
    (
        "bad symmetrical",
        HOSTS_AB + '<link id="l" bandwidth="1GBps"/>\n'
        '<route src="a" dst="b" symmetrical="maybe"><link_ctn id="l"/></route>',
        r"t.xml:6: symmetrical of <route> must be YES or NO, found 'maybe'",
    ),
    (
        "bad policy",
        '<link id="l" bandwidth="1GBps" sharing_policy="shared"/>',
        r"t.xml:5: sharing_policy of link 'l' must be SHARED, FATPIPE or SPLITDUPLEX, found 'shared'",
    ),
    ("wifi", '<link id="l" bandwidth="1GBps" sharing_policy="WIFI"/>', r"t.xml:5: .*WIFI.* not supported"),
    ("several bandwidths", '<link id="l" bandwidth="1GBps,2GBps"/>', r"t.xml:5: link 'l' lists 2 bandwidths"),
    (  # profiles are read (tests/test_profiles.py); a missing file names the attribute's line
        "speed file missing",
        '<host id="a" speed="1Gf" speed_file="no-such-profile.txt"/>',
        r"t.xml:5: cannot read speed_file of host 'a': no file 'no-such-profile.txt'",
    ),
    (
        "state file of a SPLITDUPLEX link",
        '<link id="l" bandwidth="1GBps" sharing_policy="SPLITDUPLEX" state_file="s.txt"/>',
        r"t.xml:5: state_file of SPLITDUPLEX link 'l' is refused: SimGrid 3.32 aborts",
    ),
    (
        "disk",
        '<host id="a" speed="1Gf">\n<disk id="d" read_bw="1MBps" write_bw="1MBps"/></host>',
        r"t.xml:6: <disk> is not supported by this simulator",
    ),
    (
        "pstate out of range",
        '<host id="a" speed="1Gf,2Gf" pstate="2"/>',
        r"t.xml:5: pstate 2 of host 'a' does not exist: its speed lists 2 power state",
    ),
    ("core not a number", '<host id="a" speed="1Gf" core="four"/>', r"t.xml:5: core count of 'a' 'four' is not a"),
    ("zero cores", '<host id="a" speed="1Gf" core="0"/>', r"t.xml:5: core count of 'a' must be at least 1"),
    (
        "hosts and zones mixed",
        '<host id="a" speed="1Gf"/>\n<zone id="y" routing="Full"/>',
        r"t.xml:6: zone 'z' holds hosts or routers, so it cannot also hold a <zone>",
    ),
    (
        "link after routes",
        HOSTS_AB + '<link id="l" bandwidth="1GBps"/>\n'
        '<route src="a" dst="b"><link_ctn id="l"/></route>\n<link id="m" bandwidth="1GBps"/>',
        r"t.xml:7: <link> must come before the routes of zone 'z'",
    ),
    (
        "prop after content",
        '<host id="a" speed="1Gf"/>\n<prop id="k" value="v"/>',
        r"t.xml:6: the <prop> of zone 'z' must come before its content",
    ),
    (
        "misplaced element",
        '<host id="a" speed="1Gf"><link_ctn id="l"/></host>',
        r"t.xml:5: <link_ctn> is not allowed inside <host>; <host> may contain <prop>",
    ),
    (
        "route outside the zone",
        '<zone id="y" routing="Full"><host id="a" speed="1Gf"/></zone>'
        '<zone id="x" routing="Full"><host id="b" speed="1Gf"/></zone><link id="l" bandwidth="1GBps"/>\n'
        '<route src="a" dst="b"><link_ctn id="l"/></route>',
        r"t.xml:6: <route> in zone 'z': route source 'a' is not a direct member of zone 'z' \(it is in zone 'y'\)",
    ),
    (
        "zone route with a foreign gateway",
        '<zone id="y" routing="Full"><host id="a" speed="1Gf"/></zone>'
        '<zone id="x" routing="Full"><host id="b" speed="1Gf"/></zone><link id="l" bandwidth="1GBps"/>\n'
        '<zoneRoute src="y" dst="x" gw_src="b" gw_dst="a"><link_ctn id="l"/></zoneRoute>',
        r"t.xml:6: <zoneRoute> in zone 'z': gw_src 'b' belongs to zone 'x', not to zone 'y'",
    ),
    (
        "backbone outside a Cluster zone",
        '<backbone id="bb" bandwidth="1GBps" latency="1us"/>',
        r"t.xml:5: <backbone> is only meaningful in a zone with routing=\"Cluster\"",
    ),
]


@pytest.mark.parametrize(("body", "message"), [(b, m) for _, b, m in ERRORS], ids=[n for n, _, _ in ERRORS])
def test_zone_errors(body: str, message: str) -> None:
    with pytest.raises(PlatformError, match=message):
        zone(body)


PLATFORM_ERRORS = [
    (
        "malformed XML",
        '<zone id="z" routing="Full">\n<host id="a" speed="1Gf">\n</zone>',
        r"t.xml:6: malformed XML: mismatched tag \(column 3\)",
    ),
    (
        "unknown routing",
        '<zone id="z" routing="Fulll"/>',
        r"t.xml:4: unknown routing=\"Fulll\" for zone 'z'; expected one of Full, Floyd, Dijkstra",
    ),
    ("vivaldi", '<zone id="z" routing="Vivaldi"/>', r"t.xml:4: routing=\"Vivaldi\" of zone 'z' is not supported"),
    (
        "torus",
        '<cluster id="c" prefix="" suffix="" radical="0-1" speed="1Gf" bw="1GBps" lat="0s" topology="TORUS" '
        'topo_parameters="2,2"/>',
        r"t.xml:4: topology=\"TORUS\" of cluster 'c' is unsupported: only FLAT",
    ),
    (
        "fat tree",
        '<cluster id="c" prefix="" suffix="" radical="0-1" speed="1Gf" bw="1GBps" lat="0s" '
        'topology="FAT_TREE" topo_parameters="2;4,4;1,2;1,2"/>',
        r"t.xml:4: topology=\"FAT_TREE\" .*unsupported",
    ),
    (
        "malformed radical",
        '<cluster id="c" prefix="" suffix="" radical="0-1-2" speed="1Gf" bw="1GBps" lat="0s"/>',
        r"t.xml:4: malformed radical '0-1-2' in cluster 'c': expected N or N-M",
    ),
    (
        "radical not a number",
        '<cluster id="c" prefix="" suffix="" radical="a-b" speed="1Gf" bw="1GBps" lat="0s"/>',
        r"t.xml:4: radical 'a-b' of cluster 'c' 'a' is not a whole number",
    ),
    (
        "duplicate radical",
        '<cluster id="c" prefix="n" suffix="" radical="0-2,1" speed="1Gf" bw="1GBps" lat="0s"/>',
        r"t.xml:4: duplicate id 'n1' for a host",
    ),
    (
        "cluster without lat",
        '<cluster id="c" prefix="" suffix="" radical="0" speed="1Gf" bw="1GBps"/>',
        r"t.xml:4: <cluster> needs the attribute 'lat'",
    ),
    (
        "backbone latency without bandwidth",
        '<cluster id="c" prefix="" suffix="" radical="0" speed="1Gf" bw="1GBps" lat="0s" bb_lat="1ms"/>',
        r"t.xml:4: cluster 'c' gives a latency but no bb_bw",
    ),
    (
        "config after zones",
        '<zone id="z" routing="Full"/>\n<config><prop id="a" value="b"/></config>',
        r"t.xml:5: <config> must come before any zone, cluster or trace",
    ),
    (
        "two roots",
        '<zone id="z" routing="Full"/>\n<zone id="y" routing="Full"/>',
        r"t.xml:5: a second top-level zone 'y': the platform already has its root zone 'z'",
    ),
    ("no zone", "", r"t.xml: the platform declares no <zone> and no <cluster>"),
    ("include", '<include file="other.xml"/>', r"t.xml:4: <include> is not supported"),
]


@pytest.mark.parametrize(
    ("body", "message"), [(b, m) for _, b, m in PLATFORM_ERRORS], ids=[n for n, _, _ in PLATFORM_ERRORS]
)
def test_platform_errors(body: str, message: str) -> None:
    with pytest.raises(PlatformError, match=message):
        load(body)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '<?xml version="1.0"?>\n<platform version="3">\n</platform>',
            r"t.xml:2: expected <platform version=\"4.1\"> \(or 4\), found version '3' \(SimGrid's simgrid_update_xml",
        ),
        ('<?xml version="1.0"?>\n<platform version="4.2">\n</platform>', r"t.xml:2: .*found version '4.2'"),
        ('<?xml version="1.0"?>\n<platform>\n</platform>', r"t.xml:2: .*found no version attribute"),
        ('<?xml version="1.0"?>\n<zone id="z" routing="Full"/>', r"t.xml:2: expected the root element <platform>"),
        ("", r"t.xml:1: malformed XML: no element found"),
    ],
)
def test_document_errors(text: str, message: str) -> None:
    with pytest.raises(PlatformError, match=message):
        load_platform_string(text, source="t.xml")


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(PlatformError, match=r"missing.xml: no such file"):
        load_platform(tmp_path / "missing.xml")
    with pytest.raises(PlatformError, match="is a directory"):
        load_platform(tmp_path)
    latin = tmp_path / "latin1.xml"
    latin.write_bytes(b'<?xml version="1.0"?>\n<platform version="4.1">\n<zone id="caf\xe9" routing="Full"/>\n')
    with pytest.raises(PlatformError, match=r"latin1.xml:3: not UTF-8 text \(byte 0xe9\)"):
        load_platform(latin)


def test_errors_are_value_errors_not_unit_errors() -> None:
    with pytest.raises(ValueError) as info:
        zone('<host id="a" speed="fast"/>')
    assert isinstance(info.value, PlatformError) and not isinstance(info.value, UnitError)


@pytest.mark.parametrize("version", ["nan", "inf", "1e400"])
def test_a_version_that_is_not_a_finite_number(version):
    with pytest.raises(PlatformError, match=f"platform version '{version}' is not a number"):
        load_platform_string(f'<?xml version="1.0"?><platform version="{version}"></platform>', source="v.xml")


_MUTABLE = (Path(__file__).resolve().parents[1] / "traces" / "platforms" / "splitduplex.xml").read_text()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_MUTABLE) - 1), st.integers(0, 40), st.text(max_size=8)), max_size=4))
def test_mangled_platform_files_only_raise_platform_errors(edits):
    # Cut and splice a real platform file at random places: loading it, and routing between its hosts, either
    # works or raises one of the project's errors (never a KeyError, OverflowError, ... of Python's).
    text = _MUTABLE
    for position, cut, insert in edits:
        text = text[:position] + insert + text[position + cut :]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            plat = load_platform_string(text, source="mangled.xml")
            hosts = list(plat.hosts)
            for src in hosts:
                for dst in hosts:
                    with contextlib.suppress(ReplayError):
                        plat.route(src, dst)
        except ReplayError:
            pass


def test_the_consolidation_study_platform():
    """traces/platforms/planetlab-two-types.xml (docs/consolidation.md): CloudSim's 400 G4 and 400 G5 hosts."""
    plat = load_platform(PLATFORMS / "planetlab-two-types.xml")
    assert len(plat.hosts) == 800
    names = list(plat.hosts)
    assert names[:2] == ["g4-0", "g4-1"] and names[400:402] == ["g5-0", "g5-1"]  # platform order: G4s, then G5s
    g4, g5 = plat.hosts["g4-399"], plat.hosts["g5-0"]
    assert (g4.speed, g4.cores, g4.ramsize, g4.wattage_off, g4.boot_delay) == (1.86e9, 2, 4 * 2**30, 0.0, 0.0)
    assert (g5.speed, g5.cores, g5.ramsize) == (2.66e9, 2, 4 * 2**30)
    assert (g4.wattages[0].idle, g4.wattages[0].all_cores, g5.wattages[0].idle, g5.wattages[0].all_cores) == (
        86.0, 117.0, 93.7, 135.0)
    # within a type: up link, backbone, down link (3 x 50 us); across: the core link and the other backbone too
    for src, dst, hops in [("g4-0", "g4-399", 3), ("g4-0", "g5-0", 5), ("g5-7", "g4-3", 5), ("g5-1", "g5-2", 3)]:
        links = plat.route(src, dst)
        assert len(links) == hops
        assert plat.route_latency(src, dst) == pytest.approx(hops * 50e-6)
        assert min(link.bandwidth for link in links) == 125e6  # 1 Gbps private links; 10 Gbps elsewhere
    assert [link.name for link in plat.route("g4-0", "g5-0")][1:4] == ["g4_backbone", "core", "g5_backbone"]
