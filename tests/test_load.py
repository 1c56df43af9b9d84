"""Demand-driven ``load``: what a VM (or host) asks and what it gets, derived by hand.

A load of fraction f for d seconds on a host of n vCPUs (or cores) of core speed s is n executions, each bounded
by f x s, for d seconds: demand f x n x s x d, served what they compute. Under SimGrid's VM model a VM running k
executions is one variable of its PM of penalty 1 / min(k, vCPUs) and bound min(k, vCPUs) x s, whatever bounds
its executions have: a lightly loaded VM keeps its fair share of the PM, even the part it does not use.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.simulation import Simulation
from tests.helpers import platform

# one 1-core and one 4-core PM of 1 Gf/s, a link between them
PLAT = platform(
    '<host id="one" speed="1Gf"/><host id="four" speed="1Gf" core="4"/>'
    '<link id="l" bandwidth="1GBps" latency="0"/><route src="one" dst="four"><link_ctn id="l"/></route>'
)


def loads(sim, host: str, *steps: tuple[float, float], name: str = "w", absolute: bool = False):
    """An actor on ``host`` doing the ``load`` steps (fractions, or flop/s when ``absolute``); returns the list
    its served flops go to."""
    served: list[float] = []

    def body(actor):
        load = actor.load_rate if absolute else actor.load
        for amount, duration in steps:
            served.append((yield load(amount, duration)))

    sim.add_actor(name, host, body)
    return served


def test_a_load_alone_on_a_pm_is_served_in_full():
    sim = Simulation(PLAT)
    served = loads(sim, "four", (0.5, 10.0))
    assert sim.run() == 10.0  # it lasts its duration, whatever it gets
    # 4 executions at 0.5 Gf/s for 10 s
    assert served == [pytest.approx(2e10)]
    assert (sim.pm("four").demand_flops, sim.pm("four").served_flops) == (pytest.approx(2e10), pytest.approx(2e10))


def test_an_overcommitted_pm_serves_each_vm_its_share():
    sim = Simulation(PLAT)
    for vm in ("a", "b"):
        sim.create_vm(vm, "one", cores=1).start()
    got_a = loads(sim, "a", (0.3, 10.0), name="wa")
    got_b = loads(sim, "b", (1.0, 10.0), name="wb")
    sim.run()
    # one core, two VMs of one running execution each: penalty 1 each, 0.5 Gf/s each. a asks 0.3 Gf/s and gets it
    # (the other 0.2 of its share stay unused: SimGrid's VM model); b asks 1 Gf/s and gets 0.5
    assert got_a == [pytest.approx(3e9)] and got_b == [pytest.approx(5e9)]
    demand = sim.demand()
    assert demand["flops"] == pytest.approx(3e9 + 1e10) and demand["served"] == pytest.approx(8e9)
    assert demand["unserved_fraction"] == pytest.approx(1 - 8e9 / 1.3e10)


def test_a_multi_vcpu_vm_spreads_its_load_over_its_vcpus_next_to_a_computation():
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "four", cores=2)
    vm.start()
    served = loads(sim, "v", (0.5, 10.0))
    ends = []

    def compute(actor):
        yield actor.execute(1e10)
        ends.append(actor.now)

    sim.add_actor("c", "v", compute)
    sim.run()
    # three executions in a 2-vCPU VM: its share is bounded by 2 cores (2 Gf/s), penalty 1/2, alone on the PM:
    # 2 Gf/s. Inside, max-min: the two load executions take their 0.5 Gf/s bound, the computation the other
    # 1 Gf/s (one core): the load is served in full (1e10), the 1e10 flops end at 10 s
    assert served == [pytest.approx(1e10)] and ends == [pytest.approx(10.0)]
    assert (vm.demand_flops, vm.served_flops) == (pytest.approx(1e10), pytest.approx(1e10))


def test_a_suspended_vm_is_served_nothing():
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "one", cores=1)
    vm.start()
    served = loads(sim, "v", (1.0, 10.0))

    def admin(actor):
        yield actor.sleep(2.0)
        vm.suspend(actor)
        yield actor.sleep(3.0)
        vm.resume()

    sim.add_actor("admin", "four", admin)
    sim.run()
    # 1 Gf/s from 0 to 2 s and from 5 to 10 s: 7e9 of the 1e10 asked
    assert served == [pytest.approx(7e9)]
    assert sim.demand()["unserved_fraction"] == pytest.approx(0.3)


def test_stop_and_copy_is_unserved():
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "one", cores=1, ramsize=1e8, dp_intensity=0.5, mig_speed=1e8)
    vm.start()
    served = loads(sim, "v", (1.0, 10.0))
    reports = []

    def admin(actor):
        reports.append((yield sim.migrate_vm(vm, "four", actor)))

    sim.add_actor("admin", "four", admin)
    sim.run()
    # v is alone wherever it runs (1 Gf/s on one, one core of four), frozen only during its stop-and-copy
    (report,) = reports
    assert 0 < report.downtime < 1 and report.status == "done"
    assert served == [pytest.approx(1e9 * (10.0 - report.downtime), rel=1e-9)]


def test_consecutive_loads_and_a_zero_one():
    sim = Simulation(PLAT)
    served = loads(sim, "one", (0.25, 4.0), (0.0, 2.0), (1.0, 4.0))
    assert sim.run() == 10.0
    # 0.25 Gf/s for 4 s, nothing asked for 2 s (no execution), 1 Gf/s for 4 s
    assert served == [pytest.approx(1e9), 0.0, pytest.approx(4e9)]
    assert sim.pm("one").demand_flops == pytest.approx(5e9)


def test_consecutive_loads_cost_one_resolve_each(monkeypatch):
    sim = Simulation(PLAT)
    solves = []
    original = sim.engine._solve
    monkeypatch.setattr(sim.engine, "_solve", lambda *args: (solves.append(sim.engine.now), original(*args))[1])
    loads(sim, "four", *[(0.1 * (k % 10), 1.0) for k in range(50)])
    sim.run()
    # one re-share at each date where a load ends and the next begins (date 0 included), none in between
    assert len(solves) <= 50 and len(set(solves)) == len(solves)


def test_a_load_cut_short_counts_the_time_it_lasted():
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "one", cores=1)
    vm.start()
    loads(sim, "v", (0.5, 10.0))

    def admin(actor):
        yield actor.sleep(4.0)
        vm.shutdown(actor)

    sim.add_actor("admin", "four", admin)
    sim.run()
    # killed at 4 s: 0.5 Gf/s asked and served for 4 s
    assert (vm.demand_flops, vm.served_flops) == (pytest.approx(2e9), pytest.approx(2e9))


def test_load_bounds_are_checked():
    sim = Simulation(PLAT)
    with pytest.raises(ValueError, match=r"a load is a fraction of the capacity, from 0 to 1, got 1\.5"):
        sim.pm("one").load(1.5, 1.0)
    with pytest.raises(ValueError, match=r"a load's rate must be a finite number of flop/s >= 0, got -1\.0"):
        sim.pm("one").load_rate(-1.0, 1.0)


def rated(sim, host: str, *steps: tuple[float, float], name: str = "w"):
    """An actor on ``host`` doing absolute ``load`` steps (flop/s, seconds); returns the list its served flops go
    to."""
    return loads(sim, host, *steps, name=name, absolute=True)


def test_an_absolute_load_is_spread_over_the_vcpus_and_capped_by_a_core():
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "four", cores=2)
    vm.start()
    served = rated(sim, "v", (1.5e9, 10.0), (3e9, 10.0))
    sim.run()
    # 2 vCPUs of 1 Gf/s: 1.5 Gf/s is 0.75 Gf/s per vCPU, served in full (1.5e10); 3 Gf/s would be 1.5 Gf/s per
    # vCPU, but an execution gets one core at most: 2 x 1 Gf/s x 10 s = 2e10 of the 3e10 asked
    assert served == [pytest.approx(1.5e10), pytest.approx(2e10)]
    assert (vm.demand_flops, vm.served_flops) == (pytest.approx(4.5e10), pytest.approx(3.5e10))


def test_an_absolute_rate_keeps_its_bound_when_the_core_speed_changes():
    sim = Simulation(platform('<host id="h" speed="1Gf,2Gf" pstate="0"/>'))
    fraction = loads(sim, "h", (0.5, 10.0), name="f")
    rate = rated(sim, "h", (0.6e9, 10.0), name="r")

    def admin(actor):
        yield actor.sleep(5.0)
        sim.pm("h").set_pstate(1)

    sim.add_actor("admin", "h", admin)
    sim.run()
    # one core: until 5 s, 1 Gf/s for bounds of 0.5 and 0.6 Gf/s, max-min gives 0.5 each (the fraction is
    # 0.5 x 1 Gf/s, fixed at its start); from 5 s, 2 Gf/s: each gets its bound, 0.5 and 0.6 Gf/s (a speed change
    # keeps an execution's bound, as SimGrid does). Fraction: 0.5e9 x 10 = 5e9, all its demand; rate:
    # 0.5e9 x 5 + 0.6e9 x 5 = 5.5e9 of the 6e9 asked
    assert fraction == [pytest.approx(5e9)] and rate == [pytest.approx(5.5e9)]
    assert sim.pm("h").demand_flops == pytest.approx(5e9 + 6e9)


def test_an_absolute_load_on_a_slow_pm_is_partly_unserved(tmp_path):
    plat = tmp_path / "p.xml"
    plat.write_text(
        "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        '<platform version="4.1"><zone id="z" routing="Full">'
        '<host id="slow" speed="1860Mf" core="2"/><host id="fast" speed="2660Mf" core="2"/>'
        '<link id="l" bandwidth="1Gbps" latency="0"/><route src="slow" dst="fast"><link_ctn id="l"/></route>'
        "</zone></platform>\n")
    trace = tmp_path / "t.trace"
    trace.write_text("a vm_create va slow\na vm_start va\na init va\na load 2500Mf 300\n"
                     "b vm_create vb fast\nb vm_start vb\nb init vb\nb load 2500Mf 300\n")
    out = tmp_path / "s.json"
    result = CliRunner().invoke(app, ["run", str(trace), "--platform", str(plat), "--summary", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    vms = json.loads(out.read_text())["vms"]
    # a CloudSim 2500-MIPS VM (one vCPU) at 100 % asks 2.5e9 x 300 = 7.5e11 flops wherever it runs; on a core of
    # 1.86 Gf/s it gets 1.86e9 x 300 = 5.58e11, on one of 2.66 Gf/s all of it
    assert (vms["va"]["demand_flops"], vms["va"]["served_flops"]) == (pytest.approx(7.5e11), pytest.approx(5.58e11))
    assert (vms["vb"]["demand_flops"], vms["vb"]["served_flops"]) == (pytest.approx(7.5e11), pytest.approx(7.5e11))
    # unserved: (7.5e11 - 5.58e11) / 1.5e12 = 0.128
    assert json.loads(out.read_text())["demand"]["unserved_fraction"] == pytest.approx(0.128)


def test_the_summary_reports_demand_per_vm_and_in_all(tmp_path):
    trace = tmp_path / "t.trace"
    trace.write_text("ctl vm_create v pm-0 cores=2 ram=1GiB\nctl vm_start v\nw init v\nw load 0.5 10\nw load 1 10\n")
    out = tmp_path / "s.json"
    result = CliRunner().invoke(app, ["run", str(trace), "--summary", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())
    # the embedded platform's PMs: 4 cores of 2 Gf/s; v's 2 vCPUs ask 0.5 x 2 x 2e9 x 10 + 1 x 2 x 2e9 x 10
    assert summary["vms"]["v"]["demand_flops"] == pytest.approx(6e10)
    assert summary["vms"]["v"]["served_flops"] == pytest.approx(6e10)
    assert summary["demand"] == {"flops": pytest.approx(6e10), "served": pytest.approx(6e10),
                                 "unserved_fraction": pytest.approx(0.0, abs=1e-12)}


def test_vm_create_auto_waits_for_a_placement_policy(tmp_path):
    trace = tmp_path / "t.trace"
    trace.write_text("ctl vm_create v auto\n")
    result = CliRunner().invoke(app, ["run", str(trace), "--quiet"])
    assert result.exit_code == 1
    assert f"{trace}:1: 'vm_create v auto' asks a placement policy to choose the PM" in result.output
