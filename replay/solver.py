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
* a variable reaches its bound first (``b_i p_i < min_j rho_j``): it is fixed at ``b_i``.

Fixed variables release their part of the remaining capacity, and the filling goes on until every variable is
fixed. A variable with penalty 0 takes no share (rate 0). A variable on no constraint runs at its bound
(``inf`` when unbounded). The result is the unique weighted max-min fair allocation: each variable is either at
its bound or on a saturated constraint where its ``p_i x_i`` is the largest.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Relative tolerance of the solver: a remaining capacity below ``EPSILON x C_j`` is taken as saturated, and
#: levels within ``EPSILON`` of the minimum are ties fixed in the same round.
EPSILON = 1e-9

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]


def solve(
    capacity: FloatArray,
    shared: BoolArray,
    elem_var: IntArray,
    elem_cnst: IntArray,
    elem_weight: FloatArray,
    penalty: FloatArray,
    bound: FloatArray,
) -> FloatArray:
    """Return the rate of every variable.

    ``capacity[j]`` and ``shared[j]`` describe constraint ``j``; element ``k`` says that variable
    ``elem_var[k]`` uses ``elem_weight[k]`` of constraint ``elem_cnst[k]`` per unit of rate; ``penalty[i]``
    (0: no share) and ``bound[i]`` (``inf``: none) describe variable ``i``. Nothing is modified in place.
    """
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
        if min_bound < min_level:
            newly[~fixed & (bound_level <= min_bound * (1 + EPSILON))] = True
            rate[newly] = bound[newly]
        else:
            saturated = level <= min_level * (1 + EPSILON)
            newly[ev[saturated[ec]]] = True
            rate[newly] = min_level * inv_penalty[newly]
        fixed |= newly

        spent = newly[ev] & ~fat[ec]
        remaining -= np.bincount(ec[spent], weights=ew[spent] * rate[ev[spent]], minlength=m)
        remaining[remaining < floor] = 0.0
