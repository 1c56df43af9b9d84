"""Network models (LV08, CM02, raw): hand-derived transfer dates and rates."""

from __future__ import annotations

import pytest

from replay.simulation import Simulation
from tests.helpers import SHARED_SIMGRID, platform, transfer_time, two_hosts


def test_single_flow_on_a_shared_link_pays_cross_traffic():
    # LV08 on one SHARED link of 100 MBps, 10 ms, crossed both ways by the route and its reverse:
    # wait 13.01 x 0.01 = 0.1301 s; the flow uses 1 (route) + 0.05 (reverse route) per byte of a link of
    # capacity 0.97 x 1e8, so it gets 0.97e8 / 1.05 B/s; 1e8 bytes take 1.05 / 0.97 s.
    expected = 13.01 * 0.01 + 1e8 * 1.05 / 0.97e8
    assert transfer_time(two_hosts("100MBps", "10ms"), 1e8) == pytest.approx(expected, rel=1e-9)


def test_single_flow_on_a_fatpipe_has_no_cross_traffic_penalty():
    # On a FATPIPE the weights of route and reverse route do not add (the largest, 1, counts): 0.97 x bw.
    expected = 13.01 * 0.01 + 1e8 / 0.97e8
    assert transfer_time(two_hosts("100MBps", "10ms", "FATPIPE"), 1e8) == pytest.approx(expected, rel=1e-9)


def test_cm02_and_raw_have_no_factors():
    # CM02: latency and bandwidth factors 1, cross-traffic on: 0.01 + 1e8 x 1.05 / 1e8.
    # raw: no cross-traffic either: 0.01 + 1.
    plat = two_hosts("100MBps", "10ms")
    assert transfer_time(plat, 1e8, model="CM02") == pytest.approx(0.01 + 1.05, rel=1e-9)
    assert transfer_time(plat, 1e8, model="raw") == pytest.approx(0.01 + 1.0, rel=1e-9)


def test_tcp_gamma_bounds_long_fat_pipes():
    # 1 GBps FATPIPE, 50 ms: TCP-gamma bound 4194304 / (2 x 0.05) = 41943040 B/s, scaled by 0.97 like every
    # rate of LV08 (SimGrid bounds the LMM value, then multiplies by the bandwidth factor): 40684748.8 B/s,
    # far below 0.97 GB/s. 1e8 bytes: 13.01 x 0.05 + 1e8 / 40684748.8 s.
    expected = 13.01 * 0.05 + 1e8 / (0.97 * 4194304 / 0.1)
    assert transfer_time(two_hosts("1GBps", "50ms", "FATPIPE"), 1e8) == pytest.approx(expected, rel=1e-9)


def test_zero_byte_message_pays_latency_only():
    assert transfer_time(two_hosts("100MBps", "10ms"), 0.0) == pytest.approx(13.01 * 0.01, rel=1e-9)


def test_two_flows_with_different_latencies_share_by_weight():
    # Flows A->C over [la, L] and B->C over [lb, L], L shared (100 MBps, 1 ms), la and lb FATPIPE (1 GBps,
    # 9 ms and 0 ms). Penalties (LV08): w = sum(lat) + sum(20537 / bw):
    #   w1 = 0.010 + 20537/1e9 + 20537/1e8,  w2 = 0.001 + 20537/1e9 + 20537/1e8.
    # Both use 1.05 of L per byte (route + reverse route), so once both run: x1 / x2 = w2 / w1 and
    # 1.05 (x1 + x2) = 0.97e8.
    plat = platform(
        '<host id="A" speed="1Gf"/><host id="B" speed="1Gf"/><host id="C" speed="1Gf"/>'
        '<link id="la" bandwidth="1GBps" latency="9ms" sharing_policy="FATPIPE"/>'
        '<link id="lb" bandwidth="1GBps" latency="0ms" sharing_policy="FATPIPE"/>'
        '<link id="L" bandwidth="100MBps" latency="1ms"/>'
        '<route src="A" dst="C"><link_ctn id="la"/><link_ctn id="L"/></route>'
        '<route src="B" dst="C"><link_ctn id="lb"/><link_ctn id="L"/></route>'
    )
    sim = Simulation(plat)
    comms = {}

    def sender(actor, box):
        comms[box] = actor.send(box, 1e9)
        yield comms[box]

    def receiver(actor, box):
        yield actor.recv(box)

    for src, box in (("A", "m1"), ("B", "m2")):
        sim.add_actor(f"s{box}", src, sender, box)
        sim.add_actor(f"r{box}", "C", receiver, box)
    sim.run(until=1.0)  # both latencies (0.1301 s and 0.01301 s) are paid by then
    w1 = 0.010 + 20537 / 1e9 + 20537 / 1e8
    w2 = 0.001 + 20537 / 1e9 + 20537 / 1e8
    x1, x2 = comms["m1"].activity.rate, comms["m2"].activity.rate
    assert x1 / x2 == pytest.approx(w2 / w1, rel=1e-9)
    assert 1.05 * (x1 + x2) == pytest.approx(0.97e8, rel=1e-9)


def test_opposite_flows_on_a_shared_link_slow_each_other():
    # A->B and B->A on one SHARED link: each uses 1 + 0.05 per byte and both have the same penalty, so
    # 2 x 1.05 x x = 0.97e8: x = 0.97e8 / 2.1 each.
    plat = two_hosts("100MBps", "10ms")
    sim = Simulation(plat)
    comms = []

    def sender(actor, box):
        comms.append(actor.send(box, 1e9))
        yield comms[-1]

    def receiver(actor, box):
        yield actor.recv(box)

    sim.add_actor("s1", "A", sender, "ab")
    sim.add_actor("r1", "B", receiver, "ab")
    sim.add_actor("s2", "B", sender, "ba")
    sim.add_actor("r2", "A", receiver, "ba")
    sim.run(until=1.0)
    assert [c.activity.rate for c in comms] == pytest.approx([0.97e8 / 2.1] * 2, rel=1e-9)


def test_simgrid_replay_example_on_fatpipe_platform():
    # SimGrid's replay-comm example (its tesh file): p1 on Ruby sends 1e10 bytes to p0 on Tremblay over one
    # FATPIPE link (498 MBps, 150 us), then both compute 1e9 flops at 98.095 Mf/s.
    # Transfer: 13.01 x 150e-6 + 1e10 / (0.97 x 498e6) = 20.703314 s; then 1e9 / 98.095e6 = 10.194199 s more:
    # 30.897513 s.
    path = SHARED_SIMGRID / "small_platform_fatpipe.xml"
    if not path.exists():
        pytest.skip(f"SimGrid's example platform is not there ({path}); it comes with ../shared")
    from replay.platform import load_platform

    sim = Simulation(load_platform(path))
    dates = {}

    def p0(actor):
        yield actor.recv("p1_p0")
        dates["transfer"] = actor.now
        yield actor.execute(1e9)

    def p1(actor):
        yield actor.send("p1_p0", 1e10)
        yield actor.execute(1e9)

    sim.add_actor("p0", "Tremblay", p0)
    sim.add_actor("p1", "Ruby", p1)
    end = sim.run()
    assert dates["transfer"] == pytest.approx(20.703314, rel=1e-6)
    assert end == pytest.approx(30.897513, rel=1e-6)
    assert sim.actors["p0"].end_time == sim.actors["p1"].end_time == end
