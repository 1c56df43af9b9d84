"""Our engine against SimGrid 3.32 itself: every scenario of tools/simgrid_ref/scenarios.toml is replayed by us
and compared, action by action, with the dates SimGrid's own run wrote to tests/golden/simgrid/<name>.csv.

The golden files come from tools/regen_golden.py (our C++ replayer on Debian's libsimgrid-dev); .ci/run checks
that regenerating them with the real library gives the same bytes, so these numbers cannot drift from SimGrid.
Same model, same numbers: relative error at most 1e-6 on every start and end date (the closed forms agree to the
last few ulps; see tools/simgrid_ref/README.md), and on the flops served to every ``load`` action
(tests/golden/simgrid/<name>.loads.csv).
"""

from __future__ import annotations

import dataclasses

import pytest

from replay.network import MODELS
from replay.platform import load_deployment, load_platform
from replay.replayer import ActionDone, Replayer
from replay.simulation import Simulation
from replay.trace import open_trace
from tests.fidelity_scenarios import (
    FAILED,
    Scenario,
    actions_of,
    ending_row,
    load_golden,
    load_loads,
    load_manifest,
    simulated_time,
)

SCENARIOS = load_manifest()
RTOL = 1e-6


def replay_scenario(scenario: Scenario) -> tuple[Simulation, float, dict[str, list[ActionDone]]]:
    """Run a scenario as `replay run` would; return the end date and the actions done per actor."""
    model = MODELS[scenario.network_model]
    if not scenario.crosstraffic:
        model = dataclasses.replace(model, crosstraffic=False)
    platform = load_platform(scenario.platform)
    deployment = load_deployment(scenario.deploy, platform=platform)
    if scenario.trace is not None:
        source = open_trace([scenario.trace])
    else:  # split mode: each actor's trace is its deployment argument, beside the deployment file
        paths = [scenario.deploy.parent / spec.args[0] for spec in deployment]
        source = open_trace(paths, actors=[spec.function for spec in deployment])
    sim = Simulation(platform, network_model=model)
    replayer = Replayer(sim, source, deployment=deployment)
    done: dict[str, list[ActionDone]] = {}
    replayer.listeners.append(lambda d: done.setdefault(d.actor, []).append(d))
    replayer.start()
    return sim, sim.run(), done


def assert_close(ours: float, theirs: float, what: str) -> None:
    assert ours == pytest.approx(theirs, rel=RTOL, abs=1e-12), f"{what}: ours {ours!r}, SimGrid {theirs!r}"


# quirk_comm_suspend_penalty (see DEPARTURES): each flow's rate, the latency, and the two ends
_R = 0.97 * 1.25e8 / 2.1
_L = 13.01e-4
_W0_END = 1 + (1e8 - _R * (0.5 - _L)) / _R
_P0_END = _W0_END + (1e9 - _R * (0.5 - _L) - 2 * _R * 0.5 - _R * (_W0_END - 1)) / (2 * _R)

#: Where we depart from SimGrid on purpose, with the dates we compute instead (derived by hand).
DEPARTURES = {
    # SimGrid keeps counting the executions of the actors a shutdown killed, so the restarted VM weighs 2 on its
    # PM. We count the one execution that runs. On the 2-core pm2: 0-1 s, VM (v0) + p0 + p1 at 2/3 Gf/s each; v0
    # is killed at 1 s; 1-2 s, p0 and p1 a core each (1 2/3 Gflop done); from 2 s v2's 1 Gflop in the restarted VM
    # and p0, p1 at 2/3 Gf/s: v2 ends at 3.5 s with p0, p1 at 2 2/3 Gflop; their last 7 1/3 Gflop take 7 1/3 s.
    "vm_shutdown_stale_share": {("v2", 2): 3.5, ("p0", 0): 10 + 5 / 6, ("p1", 0): 10 + 5 / 6},
    # Same quirk on the 1-core pm1: SimGrid's powered-off VM keeps half the core. Ours: 0-1 s, VM (v0) and p0
    # at 0.5 Gf/s; 1-2 s, p0 alone (1.5 Gflop done at 2 s); from 2 s, v2 in the restarted VM and p0 at 0.5 Gf/s:
    # p0's last 0.5 Gflop end at 3 s, then v2 (0.5 Gflop left) alone until 3.5 s.
    "vm_shutdown_kills": {("p0", 0): 3.0, ("v2", 2): 3.5},
    # A speed ratio of 0 stalls the executions on the host; SimGrid's solver skips a CPU of capacity 0 and leaves
    # them at their old rates (and aborts if one starts then). sz (1 Gf/s) at ratio 0 on [1, 2): z0 alone to 0.5 s
    # (0.5e9 done), then z0 and z1 at 0.5 Gf/s to 1 s (0.75e9 and 0.25e9), nothing until 2 s; z1's last 0.75e9 at
    # 0.5 Gf/s end at 3.5 s, with z0 at 1.5e9; z0's last 0.5e9 alone end at 4 s.
    "prof_speed_zero": {("z0", 0): 4.0, ("z1", 1): 3.5},
    # SimGrid resumes a transfer of a suspended VM with the sharing penalty 1 (the base class's, which the network
    # action's own field hides), so the other flow takes nearly all of qm. Ours resumes it as it was: both flows
    # weigh 1.05 on qm (1 Gbps, 0.97 x 1.25e8 B/s) with equal penalties, r = 0.97 x 1.25e8 / 2.1 each, after the
    # latency L = 13.01 x 100 us. w0 sends r (0.5 - L) by 0.5 s, nothing while VM0 is suspended, the rest at r from
    # 1 s: it ends at 1 + (1e8 - r (0.5 - L)) / r; p0 has r (0.5 - L) + 2r x 0.5 + r (that end - 1) by then, and
    # its last bytes alone at 2r.
    "quirk_comm_suspend_penalty": {("w0", 1): _W0_END, ("r0", 0): _W0_END, ("p0", 0): _P0_END, ("r1", 0): _P0_END},
    # vm_set_bound 0 removes the user bound; SimGrid's solver reads a bound of 0 as none and drops the vCPU cap too
    # (each exec a core: 2 s). Ours: the two execs share the VM's one vCPU, 0.5 Gf/s each: 2e9 / 0.5e9 = 4 s.
    "quirk_set_bound_zero": {("v0", 1): 4.0, ("v1", 1): 4.0},
}


CONVERGING = [s for s in SCENARIOS if s.converges]


@pytest.mark.parametrize("scenario", CONVERGING, ids=[s.name for s in CONVERGING])
def test_scenario_matches_simgrid(scenario: Scenario) -> None:
    if not scenario.available:
        pytest.skip(f"{scenario.name}: its SimGrid inputs (shared:) are not on this machine")
    rows = load_golden(scenario.name)
    sim, end, done = replay_scenario(scenario)
    expected = actions_of(rows)
    departures = DEPARTURES.get(scenario.name, {})
    assert sorted(done.keys() | sim.actors.keys()) == sorted(expected), "actors differ"
    for actor, golden in expected.items():
        ours = done.get(actor, [])
        ending = ending_row(golden)
        if ending is not None:
            # SimGrid's reference writes a last row for an actor killed, or whose action failed, in action #seq
            golden = golden[:-1]
            if ending.action == FAILED:
                assert sim.actors[actor].status == FAILED, f"{actor} should have failed"
            else:
                assert sim.actors[actor].killed, f"{actor} should have been killed"
            what = ending.action
            assert len(ours) == ending.seq, f"{actor}: {what} during action #{len(ours)}, SimGrid #{ending.seq}"
            assert_close(sim.actors[actor].end_time, ending.end, f"{actor} {ending.action}")
        assert [d.action.keyword for d in ours] == [g.action for g in golden], f"{actor}: actions differ"
        for d, g in zip(ours, golden, strict=True):
            assert_close(d.start, g.start, f"{actor} #{g.seq} {g.action} start")
            if (actor, g.seq) in departures:
                assert g.end != pytest.approx(departures[(actor, g.seq)]), "SimGrid now agrees: drop the departure"
                assert_close(d.end, departures[(actor, g.seq)], f"{actor} #{g.seq} {g.action} end (departure)")
            else:
                assert_close(d.end, g.end, f"{actor} #{g.seq} {g.action} end")
    if not departures:
        assert_close(end, simulated_time(rows), "simulated time")


NON_CONVERGING = [s for s in SCENARIOS if not s.converges]


@pytest.mark.parametrize("scenario", NON_CONVERGING, ids=[s.name for s in NON_CONVERGING])
def test_non_converging_scenarios_are_forced(scenario: Scenario) -> None:
    # SimGrid loops until its 1e7 s timeout (then aborts) on these; ours forces stop-and-copy after 10 rounds
    # without a new minimum of the remaining bytes, and completes the run.
    sim, _, _ = replay_scenario(scenario)
    assert sim.migrations, "the scenario migrates a VM"
    assert all(m.error == "" for m in sim.migrations)
    assert not all(m.converged for m in sim.migrations)
    assert all(m.rounds >= 10 for m in sim.migrations if not m.converged)


LOAD_SCENARIOS = [s for s in CONVERGING if s.loads_golden.is_file()]


@pytest.mark.parametrize("scenario", LOAD_SCENARIOS, ids=[s.name for s in LOAD_SCENARIOS])
def test_load_goldens_are_consistent(scenario: Scenario) -> None:
    # Every row of <name>.loads.csv names a `load` action of the golden file, and SimGrid served at most the demand.
    actions = {(row.actor, row.seq): row.action for row in load_golden(scenario.name)}
    for row in load_loads(scenario.name):
        assert actions.get((row.actor, row.seq)) == "load", f"{row.actor} #{row.seq} is not a load action"
        assert 0 <= row.served <= row.demand * (1 + 1e-12), f"{row.actor} #{row.seq}: served {row.served!r}"


@pytest.mark.parametrize("scenario", LOAD_SCENARIOS, ids=[s.name for s in LOAD_SCENARIOS])
def test_load_served_flops_match_simgrid(scenario: Scenario) -> None:
    # The flops each `load` action was served (ActionDone.value: what its executions computed during its interval)
    # against what SimGrid's executions computed (tools/simgrid_ref/README.md, "load").
    if not scenario.available:
        pytest.skip(f"{scenario.name}: its SimGrid inputs (shared:) are not on this machine")
    expected = load_loads(scenario.name)
    _, _, done = replay_scenario(scenario)
    ours = {(d.actor, d.seq): d.value for actions in done.values() for d in actions if d.action.keyword == "load"}
    assert sorted(ours) == sorted((row.actor, row.seq) for row in expected), "load actions differ"
    for row in expected:
        assert_close(ours[(row.actor, row.seq)], row.served, f"{row.actor} #{row.seq} load served flops")
