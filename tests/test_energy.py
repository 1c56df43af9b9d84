"""Energy (replay/energy.py): SimGrid's host and link models, integrated exactly; every number derived by hand.

Platform: host a (4 cores; 1, 0.5 and 0.25 Gf/s in its power states 0, 1, 2; Idle:Epsilon:AllCores 100:120:200,
93:110:170, 90:105:150 W), host b (2 cores of 1 Gf/s; ``50:150``, the two-value form: Epsilon = Idle = 50 W),
host c (no wattages), link l (100 MBps, no latency, 10 W idle, 30 W busy) between a and b, FATPIPE link f
(100 MBps, 100 ms, 5:25 W) between a and c. A host draws Idle at load 0, else Epsilon + load x (AllCores -
Epsilon), load = rate used / (cores x speed of its power state); a link Idle + (Busy - Idle) x usage / capacity.
"""

from __future__ import annotations

import json

import pytest

from replay import events
from replay.errors import PlatformError
from replay.simulation import Simulation
from tests.helpers import platform

BODY = (
    '<host id="a" speed="1Gf,500Mf,250Mf" core="4"><prop id="wattage_per_state" '
    'value="100:120:200,93:110:170,90:105:150"/><prop id="wattage_off" value="10"/></host>'
    '<host id="b" speed="1Gf" core="2"><prop id="wattage_per_state" value="50:150"/></host>'
    '<host id="c" speed="1Gf"/>'
    '<link id="l" bandwidth="100MBps" latency="0"><prop id="wattage_range" value="10:30"/></link>'
    '<link id="f" bandwidth="100MBps" latency="100ms" sharing_policy="FATPIPE">'
    '<prop id="wattage_range" value="5W:0.025kW"/></link>'
    '<route src="a" dst="b"><link_ctn id="l"/></route><route src="a" dst="c"><link_ctn id="f"/></route>'
)
PLAT = platform(BODY)


def compute(actor, flops):
    yield actor.execute(flops)


def energy(sim):
    return sim.energy.report(sim.engine.now)


def test_idle_hosts_and_links_draw_their_idle_watts():
    # 10 s of nothing: a 100 W, b 50 W, links 10 W and 5 W; c has no wattages and no account.
    sim = Simulation(PLAT)
    sim.add_actor("s", "c", lambda actor: (yield actor.sleep(10)))
    sim.run()
    assert energy(sim) == {"total": 1650.0, "hosts": {"a": 1000.0, "b": 500.0}, "links": {"l": 100.0, "f": 50.0}}


@pytest.mark.parametrize(("tasks", "joules"), [(1, 140.0), (2, 160.0), (4, 200.0), (6, 300.0)])
def test_the_load_of_a_multicore_host(tasks, joules):
    # k tasks of 1 Gflop on a's 4 cores of 1 Gf/s: up to 4, each has a core for 1 s at load k/4, so 120 + 20 k W;
    # 6 tasks share the 4 cores (4/6 Gf/s each) for 1.5 s at load 1: 200 W x 1.5 s = 300 J.
    sim = Simulation(PLAT)
    for i in range(tasks):
        sim.add_actor(f"t{i}", "a", compute, 1e9)
    sim.run()
    assert energy(sim)["hosts"]["a"] == pytest.approx(joules, rel=1e-12)


def test_staggered_tasks_and_the_two_value_form():
    # a: 2 Gflop from 0 and 1 Gflop from 1 s: load 1/4 until 1 s (140 W), 2/4 until both end at 2 s (160 W).
    # b: 1 Gflop on one of its 2 cores: load 1/2, 50 + 0.5 x (150 - 50) = 100 W for 1 s, then idle 50 W until 2 s.
    sim = Simulation(PLAT)
    sim.add_actor("t1", "a", compute, 2e9)
    sim.add_actor("t2", "a", compute, 1e9, start_time=1.0)
    sim.add_actor("t3", "b", compute, 1e9)
    sim.run()
    hosts = energy(sim)["hosts"]
    assert hosts == {"a": pytest.approx(300.0), "b": pytest.approx(150.0)}


def test_a_vm_counts_on_its_pm():
    # A 2-vCPU VM on a: one task takes one core (load 1/4, 140 W for 1 s), two take two (160 W); a VM capped at
    # 0.5 Gf/s runs its task for 2 s at load 1/8: 120 + 10 = 130 W, 260 J.
    for tasks, cap, joules in ((1, None, 140.0), (2, None, 160.0), (1, 5e8, 260.0)):
        sim = Simulation(PLAT)
        vm = sim.create_vm("v", "a", cores=2, **({"bound": cap} if cap else {}))
        vm.start()
        for i in range(tasks):
            sim.add_actor(f"t{i}", vm, compute, 1e9)
        sim.run()
        assert energy(sim)["hosts"]["a"] == pytest.approx(joules, rel=1e-12)


def test_a_suspended_vm_leaves_its_pm_idle():
    # 2 Gflop in a VM on a, suspended from 1 s to 3 s: 140 W, 100 W idle for 2 s, 140 W: 480 J over 4 s.
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "a")
    vm.start()
    sim.add_actor("t", vm, compute, 2e9)

    def admin(actor):
        yield actor.sleep(1)
        vm.suspend(actor)
        yield actor.sleep(2)
        vm.resume()

    sim.add_actor("admin", "c", admin)
    assert sim.run() == 4.0
    assert energy(sim)["hosts"]["a"] == pytest.approx(480.0, rel=1e-12)


def test_the_load_moves_with_a_migrating_vm():
    # A VM of 1e5 bytes computing 2 Gflop migrates from a to b at 0 over l (no latency, 97e6 B/s after LV08's
    # 0.97, and 1.05 B of l per byte with the reverse-route cross-traffic): stage 1 takes t1 = 1e5 x 1.05 /
    # 97e6 s, nothing is dirtied, stop-and-copy sends nothing: the VM computes on a until t1, then on b (both
    # 1 Gf/s) until 2 s. a: 140 W then idle 100 W; b: idle 50 W then 100 W (one of 2 cores); l: 30 W (saturated)
    # during stage 1, else 10 W.
    t1 = 1e5 * 1.05 / 97e6
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "a", ramsize=1e5)
    vm.start()
    sim.add_actor("t", vm, compute, 2e9)
    sim.add_actor("admin", "a", lambda actor: (yield sim.migrate_vm(vm, "b", actor)))
    assert sim.run() == pytest.approx(2.0, rel=1e-12)
    report = energy(sim)
    assert report["hosts"]["a"] == pytest.approx(140 * t1 + 100 * (2 - t1), rel=1e-12)
    assert report["hosts"]["b"] == pytest.approx(50 * t1 + 100 * (2 - t1), rel=1e-12)
    assert report["links"]["l"] == pytest.approx(30 * t1 + 10 * (2 - t1), rel=1e-12)


def test_a_power_state_changes_speed_and_watts():
    # 2 Gflop on a: 1 s at 1 Gf/s, load 1/4, 140 W; at 1 s a switches to its state 2 (0.25 Gf/s): the last Gflop
    # takes 4 s at load 1/4 of the slower cores, 105 + 0.25 x (150 - 105) = 116.25 W: 140 + 465 = 605 J.
    sim = Simulation(PLAT)
    sink = []
    sim.engine.subscribe(sink.append)
    task = sim.add_actor("t", "a", compute, 2e9)

    def admin(actor):
        yield actor.sleep(1)
        sim.pm("a").set_pstate(2)

    sim.add_actor("admin", "c", admin)
    assert sim.run() == 5.0 and task.end_time == 5.0
    assert energy(sim)["hosts"]["a"] == pytest.approx(605.0, rel=1e-12)
    assert [r for r in sink if isinstance(r, events.PstateChanged)] == [events.PstateChanged(1.0, "a", 2, 2.5e8)]
    watts = [(r.time, r.watts) for r in sink if isinstance(r, events.PowerChanged) and r.name == "a"]
    assert watts == [(0.0, 140.0), (1.0, 116.25), (5.0, 90.0)]
    with pytest.raises(ValueError, match="host 'a' has no power state 3: it has 3, numbered from 0"):
        sim.pm("a").set_pstate(3)


def test_link_energy_follows_its_usage_exactly():
    # 1e7 bytes from a to c over the FATPIPE f (100 ms): the flow waits 13.01 x 0.1 = 1.301 s taking nothing (5 W),
    # then runs at TCP-gamma's bound 0.97 x 4194304 / 0.2 B/s, a fraction u = that / 97e6 of f: 5 + 20 u W.
    rate = 0.97 * 4194304 / 0.2
    busy = 1e7 / rate
    sim = Simulation(PLAT)
    sim.add_actor("s", "a", lambda actor: (yield actor.send("m", 1e7)))
    sim.add_actor("r", "c", lambda actor: (yield actor.recv("m")))
    assert sim.run() == pytest.approx(1.301 + busy, rel=1e-12)
    assert energy(sim)["links"]["f"] == pytest.approx(5 * 1.301 + (5 + 20 * rate / 97e6) * busy, rel=1e-12)


@pytest.mark.parametrize(
    ("prop", "message"),
    [
        ('<prop id="wattage_per_state" value="100:200"/>', r"gives 1 power range\(s\) for 3 power state\(s\)"),
        ('<prop id="wattage_per_state" value="1:2:3:4,1:2,1:2"/>', "expected Idle:Epsilon:AllCores or Idle:AllCores"),
        ('<prop id="wattage_per_state" value="x:2,1:2,1:2"/>', "cannot read power 'x'"),
        ('<prop id="wattage_per_state" value="-1:2,1:2,1:2"/>', "is negative"),
        ('<prop id="wattage_off" value="inf"/>', "is not a finite number"),
    ],
)
def test_malformed_wattages_are_one_line_errors_at_their_prop(prop, message):
    with pytest.raises(PlatformError, match=r"<test>:\d+: property '.*' of host 'h'.*" + message):
        platform(f'<host id="h" speed="1Gf,500Mf,250Mf">{prop}</host>')


def test_link_wattages_and_units():
    plat = platform('<link id="x" bandwidth="1GBps"><prop id="watt_range" value="1.5kW:2kW"/></link>'
                    '<link id="y" bandwidth="1GBps"><prop id="wattage_range" value="1:2,3:4"/></link>'
                    .replace('<link id="y" bandwidth="1GBps"><prop id="wattage_range" value="1:2,3:4"/></link>', ""))
    assert plat.links["x"].wattage_range == (1500.0, 2000.0)  # SimGrid's old name, with our units
    with pytest.raises(PlatformError, match="expected one Idle:Busy pair, found 2"):
        platform('<link id="y" bandwidth="1GBps"><prop id="wattage_range" value="1:2,3:4"/></link>')


def test_the_summary_has_energy_only_with_wattages(tmp_path):
    from replay.session import ReplaySession

    trace = tmp_path / "t.trace"
    trace.write_text("p init a\np compute 1e9\n")
    xml = tmp_path / "p.xml"
    xml.write_text('<?xml version="1.0"?><platform version="4.1"><zone id="z" routing="Full">'
                   f"{BODY}</zone></platform>")
    summary = ReplaySession.open([trace], platform=xml).run().summary()
    assert summary["energy"]["hosts"] == {"a": 140.0, "b": 50.0}  # 1 s
    assert json.loads(json.dumps(summary)) == summary
    plain = tmp_path / "q.xml"
    plain.write_text('<?xml version="1.0"?><platform version="4.1"><zone id="z" routing="Full">'
                     '<host id="a" speed="1Gf"/></zone></platform>')
    assert "energy" not in ReplaySession.open([trace], platform=plain).run().summary()
