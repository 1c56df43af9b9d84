"""The built-in policies on hand-built cases: each decision derived by hand (tests/policy_helpers.py's platform:
h0 .. h3 managed, 4 cores of 1 Gf/s and 4 GiB each, 100 W idle to 200 W busy, 10 W off; actors on h4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.errors import PolicyError, StateError
from replay.events import PolicyDecision
from replay.session import ReplaySession
from tests.policy_helpers import open_session, run


def _creations(specs: list[tuple[str, int]]) -> str:
    """One actor per VM, all at date 0 in this order: create it on ``auto``, start it, idle 10 s."""
    lines = []
    for name, cores in specs:
        lines += [f"a{name} init h4", f"a{name} vm_create {name} auto cores={cores} ram=512MiB",
                  f"a{name} vm_start {name}", f"a{name} sleep 10"]
    return "\n".join(lines) + "\n"


def _hosts(summary: dict) -> dict[str, str]:
    return {name: vm["host"] for name, vm in summary["vms"].items()}


def test_first_fit_fills_hosts_in_platform_order(tmp_path: Path) -> None:
    # 2-vCPU VMs on 4-core hosts: two per host, h0 first, then h1
    summary, _ = run(tmp_path, _creations([("v0", 2), ("v1", 2), ("v2", 2), ("v3", 1)]), "first-fit")
    assert _hosts(summary) == {"v0": "h0", "v1": "h0", "v2": "h1", "v3": "h1"}
    assert summary["sla"]["placements"] == 4


def test_best_fit_packs_and_worst_fit_spreads(tmp_path: Path) -> None:
    specs = [("a", 1), ("b", 3), ("c", 2), ("d", 1)]
    # best-fit, fewest free cores left: a -> h0 (all 4 free: tie, platform order); b (3) -> h0 (3 free -> 0
    # left); c (2) -> h1 (h0 full; h1..h3 tie at 4 free); d (1) -> h1 (2 free -> 1 left, the others 3)
    summary, _ = run(tmp_path, _creations(specs), "best-fit")
    assert _hosts(summary) == {"a": "h0", "b": "h0", "c": "h1", "d": "h1"}
    # worst-fit, most free cores left: a -> h0; b -> h1 (4 free); c -> h2 (4); d -> h3 (4, the others less)
    summary, _ = run(tmp_path, _creations(specs), "worst-fit")
    assert _hosts(summary) == {"a": "h0", "b": "h1", "c": "h2", "d": "h3"}


def test_overcommit_lets_a_host_take_more_vcpus_than_cores(tmp_path: Path) -> None:
    # overcommit=2: 8 vCPUs per 4-core host, so four 2-vCPU VMs fit on h0
    summary, _ = run(tmp_path, _creations([(f"v{i}", 2) for i in range(5)]), "first-fit:overcommit=2")
    assert _hosts(summary) == {"v0": "h0", "v1": "h0", "v2": "h0", "v3": "h0", "v4": "h1"}


def test_no_room_fails_the_actor_with_a_clear_cause(tmp_path: Path) -> None:
    # 5 cores fit on no 4-core host: the creating actor fails, the run goes on
    summary, _ = run(tmp_path, _creations([("big", 5), ("v", 1)]), "first-fit")
    assert summary["actors"]["abig"]["status"] == "failed"
    assert "found no PM with room for VM 'big' (5 core(s)" in summary["actors"]["abig"]["cause"]
    assert _hosts(summary) == {"v": "h0"}


def _loaded(vms: list[tuple[str, str, str, float]], end: int = 1000) -> str:
    """VMs (name, PM, RAM, load fraction) created at 0 on their PM, each with one vCPU loaded until ``end``."""
    lines = []
    for name, pm, ram, load in vms:
        lines += [f"a{name} init h4", f"a{name} vm_create {name} {pm} ram={ram}", f"a{name} vm_start {name}",
                  f"a{name} init {name}", f"a{name} load {load} {end}"]
    return "\n".join(lines) + "\n"


def _decisions(session: ReplaySession) -> list[PolicyDecision]:
    seen: list[PolicyDecision] = []
    session.sim.engine.subscribe(lambda record: seen.append(record) if isinstance(record, PolicyDecision) else None)
    return seen


def test_threshold_sheds_the_vm_mmt_picks_to_the_power_aware_best_fit(tmp_path: Path) -> None:
    # h0: four 1-vCPU VMs at 0.9 -> 3.6 Gf/s of 4 = 0.9 > 0.8: overloaded at the first tick (300 s). MMT sheds
    # the smallest RAM, v2 (256 MiB): 2.7/4 = 0.675 <= 0.8, done. h1 holds w (0.5: 0.125). h2 and h3 are empty
    # and were switched off at date 0. PABFD for v2 (0.9 Gf/s): h1 rises from 0.125 to 0.35 of its range,
    # 100 x 0.225 = 22.5 W; an off host from its 10 W to 100 + 22.5 W = 112.5 W: h1.
    trace = _loaded([("v0", "h0", "1GiB", 0.9), ("v1", "h0", "1GiB", 0.9), ("v2", "h0", "256MiB", 0.9),
                     ("v3", "h0", "512MiB", 0.9), ("w", "h1", "1GiB", 0.5)])
    session = open_session(tmp_path, trace, "threshold")
    seen = _decisions(session)
    summary = session.run().summary()
    moves = [(d.time, d.action, d.vm, d.host, d.dst, d.reason) for d in seen]
    assert moves == [
        (0.0, "power_off", "", "h2", "", "empty"),
        (0.0, "power_off", "", "h3", "", "empty"),
        (300.0, "migrate", "v2", "h0", "h1", "overload"),
    ]
    assert [(m["vm"], m["src"], m["dst"], m["start"]) for m in summary["migrations"]] == [("v2", "h0", "h1", 300.0)]
    # after the move h0 asks 0.675 and h1 0.35 of their capacity: neither over 0.8, neither under 0.35 (strict)
    assert summary["sla"]["migrations"] == 1 and summary["sla"]["power_offs"] == 2
    assert summary["simulated_time"] == 1000.0


def test_mu_selection_sheds_the_least_utilized_vm(tmp_path: Path) -> None:
    # h0: 0.95 + 0.95 + 0.9 + 0.5 = 3.3 of 4 = 0.825 > 0.8. MU sheds the least utilized VM, v3 (0.5):
    # 2.8/4 = 0.7, done (MMT would shed v0, the smallest RAM).
    trace = _loaded([("v0", "h0", "256MiB", 0.95), ("v1", "h0", "1GiB", 0.95), ("v2", "h0", "1GiB", 0.9),
                     ("v3", "h0", "1GiB", 0.5)], end=400)
    summary, _ = run(tmp_path, trace, "threshold:select=mu")
    assert [(m["vm"], m["src"], m["start"]) for m in summary["migrations"]] == [("v3", "h0", 300.0)]
    summary, _ = run(tmp_path, trace, "threshold:select=mmt")
    assert [(m["vm"], m["src"], m["start"]) for m in summary["migrations"]] == [("v0", "h0", 300.0)]


def test_an_underloaded_host_is_evacuated_then_switched_off(tmp_path: Path) -> None:
    # at 300 s: h0 holds a (0.2 -> 0.05), h1 holds b and c (0.5 each -> 0.25); both under 0.35. The least
    # utilized, h0, is evacuated: a goes to the host on that holds VMs, h1 (0.25 -> 0.3, not overloaded). h1,
    # a destination, is not evacuated in turn. When a's migration ends, h0 is empty: switched off.
    trace = _loaded([("a", "h0", "1GiB", 0.2), ("b", "h1", "1GiB", 0.5), ("c", "h1", "1GiB", 0.5)])
    session = open_session(tmp_path, trace, "threshold")
    seen = _decisions(session)
    summary = session.run().summary()
    migration = summary["migrations"][0]
    assert [(d.time, d.action, d.vm, d.host, d.dst, d.reason) for d in seen] == [
        (0.0, "power_off", "", "h2", "", "empty"),
        (0.0, "power_off", "", "h3", "", "empty"),
        (300.0, "migrate", "a", "h0", "h1", "underload"),
        (migration["end"], "power_off", "", "h0", "", "empty"),
    ]
    assert summary["vms"]["a"]["host"] == "h1"
    # 1 GiB over a 125 MB/s route (LV08: 0.97 of it) takes about 8.9 s
    assert 8.5 < migration["duration"] < 9.5


def test_a_placement_on_an_off_host_waits_for_its_boot(tmp_path: Path) -> None:
    # boot_delay 20 s at 150 W. v0 (2 vCPUs) goes to h0 at 0; h1..h3, empty, are switched off at 0. At 100 s
    # v1 (4 vCPUs) fits no host on: the first off host that fits, h1, is switched on; v1 is created when h1
    # is on, at 120 s, and its actor goes on from there: its 80 s sleep ends at 200 s.
    # h1 draws 10 W off for 100 s, 150 W for 20 s, then 100 W idle (v1 computes nothing) until 200 s:
    # 1000 + 3000 + 8000 = 12000 J. h2 stays off: 10 W x 200 s = 2000 J.
    extra = '\n    <prop id="boot_delay" value="20s"/>\n    <prop id="wattage_boot" value="150"/>'
    trace = ("a0 init h4\na0 vm_create v0 auto cores=2\na0 vm_start v0\na0 sleep 200\n"
             "a1 init h4\na1 sleep 100\na1 vm_create v1 auto cores=4\na1 vm_start v1\na1 sleep 80\n")
    summary, _ = run(tmp_path, trace, "first-fit:switch_off=yes", extra=extra)
    assert _hosts(summary) == {"v0": "h0", "v1": "h1"}
    assert summary["actors"]["a1"]["end"] == pytest.approx(200.0)
    assert summary["energy"]["hosts"]["h1"] == pytest.approx(12000.0)
    assert summary["energy"]["hosts"]["h2"] == pytest.approx(2000.0)
    assert summary["sla"]["power_ons"] == 1 and summary["sla"]["power_offs"] == 3


def test_slatah_counts_the_saturated_share_of_active_time(tmp_path: Path) -> None:
    # policy none: no decision, the metrics only. v (4 vCPUs) on h0 asks all 4 Gf/s for 100 s, then half for
    # 100 s: h0 is active 200 s, saturated 100 s; no other host is ever active. SLATAH = 100 / 200.
    trace = ("a init h4\na vm_create v h0 cores=4\na vm_start v\na init v\na load 1 100\na load 0.5 100\n")
    summary, _ = run(tmp_path, trace, "none")
    assert summary["sla"]["slatah"] == pytest.approx(0.5, rel=1e-12)
    assert summary["sla"]["pdm"] == 0.0 and summary["sla"]["slav"] == 0.0
    # energy: h0 draws 200 W for 200 s, its load then half is its VM's share, which SimGrid's VM model keeps at
    # min(4 tasks, 4 cores) x 1 Gf/s whatever the tasks use; the four other hosts idle at 100 W for 200 s
    assert summary["sla"]["energy_kwh"] == pytest.approx((200 * 200 + 4 * 100 * 200) / 3.6e6)


def test_pdm_is_the_demand_lost_while_migrating(tmp_path: Path) -> None:
    # v (1 vCPU) asks a full core (1 Gf/s) for 1000 s; a controller migrates it from h0 to h1 at 100 s; it
    # dirties pages, so the stop-and-copy sends some. It is served all it asks while its RAM is copied (its PM
    # has cores to spare), and nothing while it is frozen for the stop-and-copy:
    # PDM = 1 Gf/s x downtime / (1 Gf/s x 1000 s).
    trace = ("a init h4\na vm_create v h0 dp_intensity=0.5 mig_speed=100MBps\na vm_start v\na init v\n"
             "a load 1 1000\n"
             "c init h4\nc sleep 100\nc vm_migrate v h1\n")
    summary, _ = run(tmp_path, trace, "none")
    (migration,) = summary["migrations"]
    assert migration["downtime"] > 0
    assert summary["sla"]["pdm"] == pytest.approx(migration["downtime"] / 1000.0, rel=1e-9)
    assert summary["sla"]["downtime_total"] == migration["downtime"]
    assert summary["sla"]["migrations"] == 1


def test_placement_needs_a_policy_that_places(tmp_path: Path) -> None:
    with pytest.raises(StateError, match="asks a placement policy to choose the PM: run with --policy"):
        run(tmp_path, _creations([("v", 1)]), "none")


@pytest.mark.parametrize(("spec", "message"), [
    ("threshold:upper=-1", "option upper: expected a utilization level >= 0, found '-1'"),
    ("threshold:uper=1", "unknown option 'uper'; expected one of"),
    ("threshold:upper", "expected options as key=value, found 'upper'"),
    ("mad:safety=0", "option safety: expected a number > 0"),
    ("lr:interval=5parsecs", "option interval: expected a duration"),
    ("first-fit:overcommit=0.5", "option overcommit: expected a number >= 1"),
    ("thresold", "did you mean 'threshold'"),
    ("no_such_module_x:Policy", "cannot import module 'no_such_module_x'"),
])
def test_bad_policy_specs_are_one_line_errors(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(PolicyError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run(tmp_path, _creations([("v", 1)]), spec)


def test_a_booted_host_left_empty_is_switched_off_again(tmp_path: Path) -> None:
    # v (4 vCPUs) does not fit h0, which holds w (2 vCPUs): at 1 s h1 is switched on and boots for 20 s; v is
    # created at 21 s, its actor sleeps 9 s and destroys it at 30 s; h1, empty again, is switched off at 30 s,
    # not left on until the end (100 s).
    extra = '\n    <prop id="boot_delay" value="20s"/>'
    trace = ("a init h4\na vm_create w auto cores=2\na vm_start w\na sleep 100\n"
             "b init h4\nb sleep 1\nb vm_create v auto cores=4\nb sleep 9\nb vm_destroy v\n")
    session = open_session(tmp_path, trace, "first-fit:switch_off=yes", extra)
    seen = _decisions(session)
    session.run()
    assert [(d.time, d.action, d.host) for d in seen if d.host == "h1"] == [
        (0.0, "power_off", "h1"), (1.0, "place", "h1"), (1.0, "power_on", "h1"), (30.0, "power_off", "h1")]


def test_slatah_follows_a_vm_that_migrates(tmp_path: Path) -> None:
    # h0 holds u (3 vCPUs) and v (1 vCPU), each asking all its cores: 4 Gf/s of 4, saturated. At 100 s a
    # controller moves v to h1: from then on h0 asks 3 of 4 and h1 1 of 4, neither saturated, until the loads
    # end at 1000 s. h0 is active 1000 s, saturated until v leaves it (the end of the stop-and-copy, a few
    # seconds after 100 s, just before the migration's end, which only adds the acknowledgement); h1 is active
    # from then on, never saturated. SLATAH = mean(moved / 1000, 0) = moved / 2000.
    trace = ("a init h4\na vm_create u h0 cores=3\na vm_start u\na init u\na load 1 1000\n"
             "b init h4\nb vm_create v h0\nb vm_start v\nb init v\nb load 1 1000\n"
             "c init h4\nc sleep 100\nc vm_migrate v h1\n")
    summary, _ = run(tmp_path, trace, "none")
    (migration,) = summary["migrations"]
    moved = migration["end"]  # the acknowledgement takes no measurable time here (no latency, a tiny message)
    assert summary["sla"]["slatah"] == pytest.approx(moved / 2000, rel=1e-6)
