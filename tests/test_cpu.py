"""CPU sharing (Cas01): hand-derived completion dates on multi-core hosts."""

from __future__ import annotations

import pytest

from replay.simulation import Simulation
from tests.helpers import platform

FOUR_CORES = platform('<host id="H" speed="1Gf" core="4"/>')
ONE_CORE = platform('<host id="H" speed="1Gf"/>')


def compute(actor, flops, priority):
    yield actor.execute(flops, priority)


def run_execs(plat, jobs):
    """Start one actor per ``(flops, priority)`` at 0 on host H; return their end dates."""
    sim = Simulation(plat)
    for i, (flops, priority) in enumerate(jobs):
        sim.add_actor(f"a{i}", "H", compute, flops, priority)
    sim.run()
    return [sim.actors[f"a{i}"].end_time for i in range(len(jobs))]


def test_fewer_execs_than_cores_get_one_core_each():
    # 2 execs on 4 cores of 1 Gf/s: each is bounded by one core, 1e9 / 1e9 = 1 s and 2e9 / 1e9 = 2 s.
    assert run_execs(FOUR_CORES, [(1e9, 1), (2e9, 1)]) == pytest.approx([1.0, 2.0], rel=1e-9)


def test_more_execs_than_cores_share_all_cores():
    # 6 equal execs on 4 cores: 4e9 / 6 flop/s each, so 1e9 flops take 1.5 s.
    assert run_execs(FOUR_CORES, [(1e9, 1)] * 6) == pytest.approx([1.5] * 6, rel=1e-9)


def test_share_grows_as_execs_end():
    # 5 execs of 1..5 Gflop on 4 cores: 0.8 Gf/s each until the first ends at 1 / 0.8 = 1.25 s, having
    # computed 1 Gflop each. The 4 left get a core each: remaining 1, 2, 3, 4 Gflop end at 2.25 ... 5.25 s.
    ends = run_execs(FOUR_CORES, [(k * 1e9, 1) for k in range(1, 6)])
    assert ends == pytest.approx([1.25, 2.25, 3.25, 4.25, 5.25], rel=1e-9)


def test_priority_is_a_share_weight():
    # One core of 1 Gf/s; priority 2 gets twice the share of priority 1: 2/3 and 1/3 Gf/s. The first ends at
    # 1e9 / (2/3 e9) = 1.5 s, when the second has done 0.5 Gflop; its last 0.5 Gflop at full speed end at 2.0 s.
    assert run_execs(ONE_CORE, [(1e9, 2), (1e9, 1)]) == pytest.approx([1.5, 2.0], rel=1e-9)


def test_zero_flops_ends_at_once():
    assert run_execs(ONE_CORE, [(0.0, 1)]) == [0.0]
