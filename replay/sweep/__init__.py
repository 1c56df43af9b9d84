"""Parameter sweeps: many independent runs of one study, on local processes or a Dask cluster, one table out.

A sweep file (:mod:`replay.sweep.spec`) names a trace, fixed run options and points (a grid of variable and
option values, explicit points, or both); :func:`run` checks it (:mod:`replay.sweep.check`), runs every point
as its own simulation (:mod:`replay.sweep.worker`) on local processes (:mod:`replay.sweep.local`) or Dask
(:mod:`replay.sweep.cluster`), and returns one polars table, one row per point, sorted by point
(:mod:`replay.sweep.table`). ``replay sweep`` is the command (:mod:`replay.sweep.cli`). Nothing here imports
polars or Dask until it is used: a worker process starts with the model alone. The names below are imported on
first use (PEP 562), so that ``replay.cli``, which registers ``replay sweep``, does not load the sweep's checks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from replay.lazy import exports

if TYPE_CHECKING:
    from replay.sweep.check import Plan, prepare
    from replay.sweep.runner import run
    from replay.sweep.spec import Point, Spec, load, parse

__all__ = ["Plan", "Point", "Spec", "load", "parse", "prepare", "run"]

#: Where each public name is defined.
_HOMES = {
    "Plan": "replay.sweep.check",
    "prepare": "replay.sweep.check",
    "run": "replay.sweep.runner",
    "Point": "replay.sweep.spec",
    "Spec": "replay.sweep.spec",
    "load": "replay.sweep.spec",
    "parse": "replay.sweep.spec",
}


__getattr__, __dir__ = exports(__name__, _HOMES)
