"""Weighted max-min fair sharing with bounds: the fluid model's only mathematics, as a pure function.

The problem (SimGrid's LMM, ``src/kernel/lmm``). Variables ``i`` (activities) have a sharing penalty
``p_i > 0`` and an optional upper bound ``b_i``; constraints ``j`` (resources) have a capacity ``C_j``; an
element ``(i, j, a_ij)`` says that variable ``i`` uses ``a_ij`` units of ``j`` per unit of rate. A *shared*
constraint requires ``sum_i a_ij x_i <= C_j``; a *non-shared* (FATPIPE) one only ``max_i a_ij x_i <= C_j``.

The allocation is found by progressive filling on a common level ``rho``: every variable not yet fixed runs at
``x_i = rho / p_i``, so a variable of penalty 1/2 gets twice the rate of one of penalty 1. ``rho`` rises until

* a constraint saturates: for a shared one, ``rho_j = remaining_j / sum_i (a_ij / p_i)`` over its unfixed
  variables; for a FATPIPE one, ``rho_j = C_j / max_i (a_ij / p_i)``. Every unfixed variable of the first
  saturated constraint(s) is fixed at ``rho_j / p_i`` (as SimGrid does, also on a FATPIPE, where a variable with a
  smaller ``a_ij / p_i`` is then fixed below what the link alone would allow); or
* a variable reaches its bound first (``b_i p_i < min_j rho_j``, by more than the tolerance): it is fixed at
  ``b_i``. A bound within the tolerance of the lowest level is a tie, as in exact arithmetic the constraint
  saturates there: its variables are fixed at ``min(rho_j / p_i, b_i)``, so that rounding cannot decide
  whether the constraint's other variables are fixed now or later.

Fixed variables release their part of the remaining capacity, and the filling goes on until every variable is
fixed. A variable with penalty 0 takes no share (rate 0). A variable on no constraint runs at its bound
(``inf`` when unbounded). The result is the unique weighted max-min fair allocation: each variable is either at
its bound or on a saturated constraint where its ``p_i x_i`` is the largest.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:  # numpy costs a small run a third of its time: imported by the first large problem
    import numpy as np
    from numpy.typing import NDArray

#: Relative tolerance of the solver: a remaining capacity below ``EPSILON x C_j`` is taken as saturated, and
#: levels within ``EPSILON`` of the minimum are ties fixed in the same round.
EPSILON = 1e-9

FloatArray: TypeAlias = "NDArray[np.float64]"
IntArray: TypeAlias = "NDArray[np.intp]"
BoolArray: TypeAlias = "NDArray[np.bool_]"


#: Problems with at most this many elements are solved by the same algorithm in plain Python: numpy's per-call
#: overhead would dominate (most re-solves touch one host with a few executions).
SMALL = 48


def solve(
    capacity: Sequence[float] | FloatArray,
    shared: Sequence[bool] | BoolArray,
    elem_var: Sequence[int] | IntArray,
    elem_cnst: Sequence[int] | IntArray,
    elem_weight: Sequence[float] | FloatArray,
    penalty: Sequence[float] | FloatArray,
    bound: Sequence[float] | FloatArray,
) -> FloatArray:
    """Return the rate of every variable.

    ``capacity[j]`` and ``shared[j]`` describe constraint ``j``; element ``k`` says that variable
    ``elem_var[k]`` uses ``elem_weight[k]`` of constraint ``elem_cnst[k]`` per unit of rate; ``penalty[i]``
    (0: no share) and ``bound[i]`` (``inf``: none) describe variable ``i``. Lists or arrays; nothing is
    modified in place. Small problems take :func:`solve_small`, the others :func:`solve_arrays`: both compute
    the same floats, in the same order.
    """
    import numpy as np

    if len(elem_var) <= SMALL:
        return np.array(solve_small(capacity, shared, elem_var, elem_cnst, elem_weight, penalty, bound), dtype=float)
    return solve_arrays(
        np.asarray(capacity, dtype=float),
        np.asarray(shared, dtype=bool),
        np.asarray(elem_var, dtype=np.intp),
        np.asarray(elem_cnst, dtype=np.intp),
        np.asarray(elem_weight, dtype=float),
        np.asarray(penalty, dtype=float),
        np.asarray(bound, dtype=float),
    )


def solve_small(
    capacity: Sequence[float],
    shared: Sequence[bool],
    elem_var: Sequence[int],
    elem_cnst: Sequence[int],
    elem_weight: Sequence[float],
    penalty: Sequence[float],
    bound: Sequence[float],
) -> list[float]:
    """:func:`solve_arrays` on plain lists, step for step (sums in element order, then one subtraction)."""
    n = len(penalty)
    m = len(capacity)
    rate = [0.0] * n
    fixed = [p <= 0.0 for p in penalty]
    inv_penalty = [0.0 if f else 1.0 / p for f, p in zip(fixed, penalty, strict=True)]
    bound_level = [
        b * p if (not f and math.isfinite(b)) else math.inf for f, p, b in zip(fixed, penalty, bound, strict=True)
    ]
    elems = [
        (v, c, w) for v, c, w in zip(elem_var, elem_cnst, elem_weight, strict=True) if w > 0 and not fixed[v]
    ]
    on_constraint = {v for v, _, _ in elems}
    for i in range(n):
        if not fixed[i] and i not in on_constraint:
            rate[i] = bound[i]
            fixed[i] = True
    remaining = [float(c) for c in capacity]
    floor = [EPSILON * r for r in remaining]
    while True:
        elems = [e for e in elems if not fixed[e[0]]]
        if not elems:
            return rate
        usage = [0.0] * m
        for v, c, w in elems:
            demand = w * inv_penalty[v]
            if shared[c]:
                usage[c] += demand
            elif demand > usage[c]:
                usage[c] = demand
        level = [remaining[j] / usage[j] if usage[j] > 0 else math.inf for j in range(m)]
        min_level = min(level)
        min_bound = min((bound_level[i] for i in range(n) if not fixed[i]), default=math.inf)
        newly: list[int] = []
        if min_bound < min_level * (1 - EPSILON):
            cut = min_bound * (1 + EPSILON)
            newly = [i for i in range(n) if not fixed[i] and bound_level[i] <= cut]
            for i in newly:
                rate[i] = bound[i]
        else:
            cut = min_level * (1 + EPSILON)
            newly = sorted({v for v, c, _ in elems if level[c] <= cut})
            for i in newly:
                share = min_level * inv_penalty[i]
                rate[i] = share if share <= bound[i] else bound[i]
        for i in newly:
            fixed[i] = True
        chosen = set(newly)
        spent = [0.0] * m
        for v, c, w in elems:
            if v in chosen and shared[c]:
                spent[c] += w * rate[v]
        for j in range(m):
            remaining[j] -= spent[j]
            if remaining[j] < floor[j]:
                remaining[j] = 0.0


def solve_arrays(
    capacity: FloatArray,
    shared: BoolArray,
    elem_var: IntArray,
    elem_cnst: IntArray,
    elem_weight: FloatArray,
    penalty: FloatArray,
    bound: FloatArray,
) -> FloatArray:
    """The algorithm over numpy arrays, for large problems (see :func:`solve`)."""
    import numpy as np

    n = len(penalty)
    m = len(capacity)
    rate = np.zeros(n)
    fixed = penalty <= 0.0
    inv_penalty = np.zeros(n)
    np.divide(1.0, penalty, out=inv_penalty, where=~fixed)
    bound_level = np.full(n, np.inf)
    limited = np.isfinite(bound) & ~fixed
    bound_level[limited] = bound[limited] * penalty[limited]

    keep = (elem_weight > 0) & ~fixed[elem_var]
    ev, ec, ew = elem_var[keep], elem_cnst[keep], elem_weight[keep]

    on_constraint = np.zeros(n, dtype=bool)
    on_constraint[ev] = True
    free = ~fixed & ~on_constraint
    rate[free] = bound[free]
    fixed |= free

    remaining = np.asarray(capacity, dtype=float).copy()
    floor = EPSILON * remaining
    fat = ~np.asarray(shared, dtype=bool)
    while True:
        live = ~fixed[ev]
        if not live.any():
            return rate
        ev, ec, ew = ev[live], ec[live], ew[live]
        demand = ew * inv_penalty[ev]
        usage = np.bincount(ec, weights=demand, minlength=m)
        if fat.any():
            on_fat = fat[ec]
            peak = np.zeros(m)
            np.maximum.at(peak, ec[on_fat], demand[on_fat])
            usage = np.where(fat, peak, usage)
        level = np.full(m, np.inf)
        busy = usage > 0
        level[busy] = remaining[busy] / usage[busy]
        min_level = level.min()
        min_bound = bound_level[~fixed].min()

        newly = np.zeros(n, dtype=bool)
        if min_bound < min_level * (1 - EPSILON):
            newly[~fixed & (bound_level <= min_bound * (1 + EPSILON))] = True
            rate[newly] = bound[newly]
        else:
            saturated = level <= min_level * (1 + EPSILON)
            newly[ev[saturated[ec]]] = True
            rate[newly] = np.minimum(min_level * inv_penalty[newly], bound[newly])
        fixed |= newly

        spent = newly[ev] & ~fat[ec]
        remaining -= np.bincount(ec[spent], weights=ew[spent] * rate[ev[spent]], minlength=m)
        remaining[remaining < floor] = 0.0
