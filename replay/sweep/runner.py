"""Run a sweep: check it, skip what an earlier table holds, run the other points on a backend, one table out."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from replay.sweep.check import Plan, prepare
from replay.sweep.spec import Spec, load
from replay.sweep.table import frame, kept, row

if TYPE_CHECKING:
    import polars as pl
    from distributed import Client

__all__ = ["run"]


def run(
    spec: Spec | Plan | str | os.PathLike[str],
    client: Client | None = None,
    *,
    jobs: int | None = None,
    done: pl.DataFrame | None = None,
    on_row: Callable[[dict[str, Any]], None] | None = None,
    on_start: Callable[[int, int | None], None] | None = None,
) -> pl.DataFrame:
    """Run every point of ``spec`` (a sweep file's path, a :class:`~replay.sweep.spec.Spec`, or a prepared
    :class:`~replay.sweep.check.Plan`) and return the table, one row per point, sorted by point.

    With a Dask ``client`` the points are tasks of its scheduler; without one, ``jobs`` local worker processes
    run them (default: one per CPU). ``done``, the table of an earlier run of the same sweep, is kept as it is and
    its points are not run again (refused, with a :class:`~replay.errors.ReplayError`, if it is not this sweep's).
    ``on_row(row)`` is told each new row as it comes (in completion order); ``on_start(point, pid)`` each point a
    local worker starts, with the worker's process id. A point that fails is a row with status ``error``; the
    project's errors about the sweep itself (its file, its platforms, its variables) are raised before any point
    runs.
    """
    import polars as pl

    plan = spec if isinstance(spec, Plan) else prepare(spec if isinstance(spec, Spec) else load(spec))
    numbers = kept(done, plan.spec, plan.columns) if done is not None else set()
    points = {point.number: point for point in plan.spec.points if point.number not in numbers}
    rows = []

    def take(outcome: dict[str, Any]) -> None:
        made = row(points[outcome["point"]], outcome, plan.columns)
        rows.append(made)
        if on_row is not None:
            on_row(made)

    for number in points:
        if number in plan.invalid:
            take(plan.invalid[number])
    tasks = [plan.spec.task(point) for number, point in points.items() if number not in plan.invalid]
    if client is not None:
        from replay.sweep.cluster import results

        outcomes = results(client, tasks)
    else:
        from replay.sweep.local import results

        outcomes = results(tasks, jobs, on_start)
    with contextlib.closing(outcomes):
        for outcome in outcomes:
            take(outcome)
    table = frame(rows, plan.columns)
    return pl.concat([done, table]).sort("point") if done is not None and not done.is_empty() else table
