"""Weighted max-min sharing: hand-derived cases, then invariants checked on random systems with hypothesis."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from replay.solver import solve, solve_arrays, solve_small

INF = math.inf


def run(capacity, shared, elements, penalty, bound=None):
    """Solve from a readable element list ``[(var, cnst, weight), ...]``."""
    n = len(penalty)
    ev = np.array([e[0] for e in elements], dtype=np.intp)
    ec = np.array([e[1] for e in elements], dtype=np.intp)
    ew = np.array([e[2] for e in elements], dtype=float)
    b = np.full(n, INF) if bound is None else np.array(bound, dtype=float)
    return solve(np.array(capacity, float), np.array(shared, bool), ev, ec, ew, np.array(penalty, float), b)


def test_penalty_weights_the_share():
    # x1 + x2 = 10 on one shared constraint; penalties 1 and 2 give p1 x1 = p2 x2, so x1 = 2 x2:
    # x2 = 10/3, x1 = 20/3.
    x = run([10.0], [True], [(0, 0, 1.0), (1, 0, 1.0)], [1.0, 2.0])
    assert x == pytest.approx([20 / 3, 10 / 3], rel=1e-12)


def test_bound_releases_capacity_to_others():
    # Equal penalties would give 5 and 5; variable 0 is bounded by 2, so variable 1 takes the rest: 8.
    x = run([10.0], [True], [(0, 0, 1.0), (1, 0, 1.0)], [1.0, 1.0], [2.0, INF])
    assert x == pytest.approx([2.0, 8.0], rel=1e-12)


def test_first_saturated_constraint_fixes_its_variables():
    # f0, f1 on A (cap 1); f1, f2 on B (cap 2). Levels: A 1/2, B 2/2 = 1: A saturates first, f0 = f1 = 0.5;
    # B keeps 2 - 0.5 = 1.5 for f2 alone.
    x = run([1.0, 2.0], [True, True], [(0, 0, 1), (1, 0, 1), (1, 1, 1), (2, 1, 1)], [1, 1, 1])
    assert x == pytest.approx([0.5, 0.5, 1.5], rel=1e-12)


def test_weights_count_per_unit_of_rate():
    # One variable using 1.05 per unit of one constraint of capacity 10 (cross-traffic on the same link):
    # 1.05 x = 10, x = 9.5238...
    x = run([10.0], [True], [(0, 0, 1.05)], [1.0])
    assert x == pytest.approx([10 / 1.05], rel=1e-12)


def test_fatpipe_bounds_each_variable_alone():
    # A FATPIPE of capacity 10 only requires max_i x_i <= 10: three variables of equal penalty get 10 each.
    x = run([10.0], [False], [(0, 0, 1), (1, 0, 1), (2, 0, 1)], [1, 1, 1])
    assert x == pytest.approx([10, 10, 10], rel=1e-12)


def test_fatpipe_fixes_every_variable_at_the_same_level_as_simgrid():
    # SimGrid fixes all the variables of a saturated FATPIPE at one level: usage = max(1/1, 1/2) = 1, level
    # = 10 / 1 = 10, so x0 = 10 / 1 = 10 and x1 = 10 / 2 = 5 (not 10, although the pipe alone would allow it).
    x = run([10.0], [False], [(0, 0, 1), (1, 0, 1)], [1.0, 2.0])
    assert x == pytest.approx([10, 5], rel=1e-12)


@pytest.mark.parametrize("scale", [1.0, 0.01])
def test_a_bound_tied_with_a_level_counts_as_the_constraint_saturating(scale):
    # FATPIPE c0 (4 s) holds x0, x1, x2; FATPIPE c1 (s) holds x0 (weight 0.05) and x3 (penalty 3, bound s).
    # c1's level is s / max(0.05, 1/3) = 3 s, x3's bound level is 3 s: a tie. In exact arithmetic c1 saturates
    # there (x3 at its bound fills it), so x0 is fixed with it at 3 s and x3 at s; c0 then gives x1 = x2 = 4 s.
    # At s = 0.01 the two levels differ by a rounding (0.01 / (1/3) is 0.030000000000000002): still a tie.
    x = run([4.0 * scale, scale], [False, False], [(0, 0, 1.0), (0, 1, 0.05), (1, 0, 1.0), (2, 0, 1.0),
                                                   (3, 1, 1.0)], [1.0, 1.0, 1.0, 3.0], [INF, INF, INF, scale])
    assert x == pytest.approx([3 * scale, 4 * scale, 4 * scale, scale], rel=1e-12)
    assert x[3] <= scale  # never above its bound


def test_zero_penalty_and_free_variables():
    # Penalty 0 takes no share, so variable 1 gets the whole capacity; variable 2 is on no constraint and runs
    # at its bound 7; variable 3, on no constraint and unbounded, is infinite.
    x = run([10.0], [True], [(0, 0, 1), (1, 0, 1)], [0.0, 1.0, 1.0, 1.0], [INF, INF, 7.0, INF])
    assert x[0] == 0 and x[1] == pytest.approx(10) and x[2] == 7 and math.isinf(x[3])


def test_inputs_are_not_modified():
    capacity = np.array([10.0])
    run_args = (capacity, np.array([True]), np.array([0]), np.array([0]), np.array([1.0]), np.array([1.0]))
    solve(*run_args, np.array([INF]))
    assert capacity[0] == 10.0


# -- invariants -------------------------------------------------------------------------------------------------

@st.composite
def systems(draw):
    m = draw(st.integers(1, 5))
    n = draw(st.integers(1, 8))
    capacity = [draw(st.floats(0.5, 100.0)) for _ in range(m)]
    shared = [draw(st.booleans()) for _ in range(m)]
    elements = []
    for i in range(n):
        cnsts = draw(st.lists(st.integers(0, m - 1), min_size=1, max_size=m, unique=True))
        for j in cnsts:
            elements.append((i, j, draw(st.sampled_from([1.0, 0.05, 2.0, 0.5]))))
    penalty = [draw(st.sampled_from([1.0, 0.5, 2.0, 3.0, 0.1])) for _ in range(n)]
    bound = [draw(st.one_of(st.just(INF), st.floats(0.1, 50.0))) for _ in range(n)]
    return capacity, shared, elements, penalty, bound


TOL = 1e-7


@settings(max_examples=300, deadline=None)
@given(systems())
def test_allocation_is_feasible(system):
    capacity, shared, elements, _, bound = system
    x = run(*system)
    assert np.all(x <= np.array(bound) * (1 + TOL))
    for j, cap in enumerate(capacity):
        uses = [w * x[i] for i, c, w in elements if c == j]
        total = sum(uses) if shared[j] else max(uses, default=0.0)
        assert total <= cap * (1 + TOL)


@settings(max_examples=300, deadline=None)
@given(systems())
def test_every_variable_is_bound_limited_or_on_a_saturated_constraint_where_it_leads(system):
    # Max-min optimality: a variable is either at its bound, or on a saturated constraint on which its
    # penalty-weighted rate p_i x_i is the largest of all the variables there.
    capacity, shared, elements, penalty, bound = system
    x = run(*system)
    for i in range(len(penalty)):
        if x[i] >= bound[i] * (1 - TOL):
            continue
        ok = False
        for j, cap in enumerate(capacity):
            on_j = [(k, w) for k, c, w in elements if c == j]
            if i not in [k for k, _ in on_j]:
                continue
            uses = [w * x[k] for k, w in on_j]
            total = sum(uses) if shared[j] else max(uses)
            leads = all(penalty[i] * x[i] >= penalty[k] * x[k] * (1 - TOL) for k, _ in on_j)
            if total >= cap * (1 - TOL) and leads:
                ok = True
        assert ok, f"variable {i} (rate {x[i]}) is neither bound-limited nor leading a saturated constraint"


@settings(max_examples=200, deadline=None)
@given(systems(), st.floats(0.01, 100.0))
def test_scale_invariance(system, scale):
    # Scaling every capacity and bound by s scales every rate by s; scaling every penalty by s changes nothing.
    capacity, shared, elements, penalty, bound = system
    x = run(*system)
    scaled = run([c * scale for c in capacity], shared, elements, penalty, [b * scale for b in bound])
    assert scaled == pytest.approx(x * scale, rel=1e-6)
    reweighted = run(capacity, shared, elements, [p * scale for p in penalty], bound)
    assert reweighted == pytest.approx(x, rel=1e-6)



@settings(max_examples=300, deadline=None)
@given(systems())
def test_the_plain_python_path_computes_the_same_floats(system):
    # Small problems are solved on lists, large ones on arrays: the two must agree bit for bit, so that the
    # size of a component never changes a date.
    capacity, shared, elements, penalty, bound = system
    args = (
        capacity, shared, [e[0] for e in elements], [e[1] for e in elements], [e[2] for e in elements], penalty, bound
    )
    small = solve_small(*args)
    arrays = solve_arrays(*(np.asarray(a) for a in args[:2]), *(np.asarray(a) for a in args[2:]))
    assert small == arrays.tolist()
