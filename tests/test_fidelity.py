"""Our engine against SimGrid 3.32 itself: every scenario of tools/simgrid_ref/scenarios.toml is replayed by us
and compared, action by action, with the dates SimGrid's own run wrote to tests/golden/simgrid/<name>.csv.

The golden files come from tools/regen_golden.py (our C++ replayer on Debian's libsimgrid-dev); .ci/run checks
that regenerating them with the real library gives the same bytes, so these numbers cannot drift from SimGrid.
Same model, same numbers: relative error at most 1e-6 on every start and end date (the closed forms agree to the
last few ulps; see tools/simgrid_ref/README.md).
"""

from __future__ import annotations

import dataclasses

import pytest

from replay.actions import open_trace
from replay.network import MODELS
from replay.platform import load_deployment, load_platform
from replay.replayer import ActionDone, Replayer
from replay.simulation import Simulation
from tests.fidelity_scenarios import Scenario, actions_of, load_golden, load_manifest, simulated_time

SCENARIOS = load_manifest()
RTOL = 1e-6


def replay_scenario(scenario: Scenario) -> tuple[float, dict[str, list[ActionDone]]]:
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
    return sim.run(), done


def assert_close(ours: float, theirs: float, what: str) -> None:
    assert ours == pytest.approx(theirs, rel=RTOL, abs=1e-12), f"{what}: ours {ours!r}, SimGrid {theirs!r}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario_matches_simgrid(scenario: Scenario) -> None:
    rows = load_golden(scenario.name)
    end, done = replay_scenario(scenario)
    expected = actions_of(rows)
    assert sorted(done) == sorted(expected), "actors differ"
    for actor, golden in expected.items():
        ours = done[actor]
        assert [d.action.keyword for d in ours] == [g.action for g in golden], f"{actor}: actions differ"
        for d, g in zip(ours, golden, strict=True):
            assert_close(d.start, g.start, f"{actor} #{g.seq} {g.action} start")
            assert_close(d.end, g.end, f"{actor} #{g.seq} {g.action} end")
    assert_close(end, simulated_time(rows), "simulated time")
