"""Post-analysis of a run in polars: migrations, VM states, utilization and actor activity from the CSV traces.

The inputs are the two CSV files ``replay run`` writes (:mod:`tracing.csv_writer`): the tidy table (``--csv``,
one row per container, state, variable value, link and event, as ``pj_dump`` lists a Paje trace) and, when it
was asked for, the migrations table (``--migrations``). Both are read with :func:`polars.scan_csv` and an
explicit schema (:data:`TIDY_SCHEMA`, :data:`MIGRATIONS_SCHEMA`, from :mod:`tracing.schema`): nothing is
type-guessed, and a file that is not ours is refused with one line naming it (:class:`AnalysisError`).

Every query takes a *trace*: the path of a tidy CSV, or a frame of its rows (a :class:`polars.LazyFrame` from
:func:`scan_trace`, a :class:`polars.DataFrame` from :func:`load_trace`). Given a path, a query scans the file
itself; to run several queries over a trace of millions of rows, read it once with :func:`load_trace` (one
pass, keeping only the rows the queries need) and pass the frame, as :func:`report` does. Queries whose result
may be as large as the trace (:func:`vm_states`, :func:`utilization`, :func:`actor_states`, :func:`moves`)
return lazy frames; summaries (:func:`migrations`, :func:`state_times`, :func:`mean_utilization`,
:func:`actor_activity`) return data frames. Times are in seconds, CPU rates in flop/s, network and disk rates
in byte/s. Sums are taken in date order, so the same CSV gives the same numbers to the last bit.

What the tidy table says, and how the queries read it:

* A VM is a ``MSG_VM`` container inside its PM's ``HOST`` container; a migration destroys it and creates it
  again (same name) under the destination PM, so the PM a VM is on at time t is the ``parent`` of its container
  alive at t.
* Its ``MSG_VM_STATE`` is a *stack* (``start``; ``start, suspend``; ``start, migrate, stop-and-copy`` ...): a
  state row lasts from its push to its pop, with its ``depth`` in the stack. :func:`vm_states` gives by
  default the *visible* state, the top of the stack: intervals that never overlap, whose durations add up to
  the time the VM was running, suspended, saved, migrating..., so that a VM suspended from 2 s to 5 s spends
  3 s in ``suspend`` and not a second less in ``start``. ``nested=True`` gives the rows as they are.
* The ``power_used`` variable of hosts and VMs (flop/s), ``bandwidth_used`` of links and ``disk_used`` of
  hosts with a disk (byte/s) are step functions: each row is a value held from ``start`` to ``end``.
* A move is a ``MSG_VM_LINK`` link from the VM's old container to its new one, at the end of stop-and-copy.
* Actors appear only in traces written with ``actors=True`` (``CsvWriter(path, platform, actors=True)``):
  ``MSG_PROCESS`` containers in their host's or VM's container, with ``MSG_PROCESS_STATE`` stacks
  (``task_execute``, ``send``, ``receive``). ``replay run`` does not trace actors, so actor queries give empty
  frames on its output.

Migrations come from the migrations CSV when there is one, else are derived from the tidy table (see
:func:`migrations` for the rule and for what a derivation cannot know). Capacities (for utilization as a
fraction) come from a platform: :func:`capacities` (host: cores x core speed, link: bandwidth, disk: the
``disk_bandwidth`` property), or a frame of your own with columns ``kind, name, capacity``; a VM's is its cores
(not in the tidy CSV: :func:`vm_cores` reads them from the action trace) x the core speed of the PM it is on
at each date.

This module is the analysis's one entry point. The work lives in modules of one concept each, whose public
names it hands on: :mod:`tracing.tidy` (reading, collecting, containers, the run's end), :mod:`tracing.states`
(VM and actor states), :mod:`tracing.migrations` (moves, migrations), :mod:`tracing.utilization` (usage,
capacities), :mod:`tracing.reports` (the registry of reports, :data:`REPORTS`); it adds :func:`load_trace` and
:func:`report`, which read once and compute every report asked for, and the Parquet output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl

from replay.platform import Platform
from tracing.errors import AnalysisError, PlotUnavailable
from tracing.migrations import find_migrations_csv, migrations, moves
from tracing.reports import REPORTS, Inputs, Report, chosen, listed, register
from tracing.sink import atomic_path
from tracing.states import actor_activity, actor_states, state_times, vm_states
from tracing.tidy import (
    MIGRATIONS_SCHEMA,
    TIDY_SCHEMA,
    PathArg,
    collect,
    collect_all,
    run_end,
    scan_migrations,
    scan_trace,
    simulated_time,
)
from tracing.utilization import capacities, capacities_for, mean_utilization, utilization, vm_cores

__all__ = [
    "MIGRATIONS_SCHEMA",
    "REPORTS",
    "TIDY_SCHEMA",
    "AnalysisError",
    "PlotUnavailable",
    "Report",
    "actor_activity",
    "actor_states",
    "capacities",
    "capacities_for",
    "find_migrations_csv",
    "load_trace",
    "mean_utilization",
    "migrations",
    "moves",
    "register",
    "report",
    "scan_migrations",
    "scan_trace",
    "simulated_time",
    "state_times",
    "to_parquet",
    "utilization",
    "vm_cores",
    "vm_states",
    "write_parquet",
]


def load_trace(path: PathArg, *, what: str | Iterable[str] = "all") -> pl.DataFrame:
    """Read the tidy CSV at ``path`` once, keeping only the rows the reports ``what`` need (all by default).

    One pass over the file with the explicit schema; pass the frame to as many queries as you like. ``what``
    names reports of :data:`REPORTS` (``"moves"`` too), or is ``"all"``; the root container (the run's length)
    is always kept.
    """
    names = [report.name for report in listed()] if what == "all" else what
    types = sorted({name for report_name in names for name in _needs(report_name)})
    keep = pl.col("type").is_in(types) | ((pl.col("kind") == "container") & (pl.col("depth") == 0))
    return collect(scan_trace(path).filter(keep), path)


def _needs(name: str) -> tuple[str, ...]:
    if name not in REPORTS:
        raise ValueError(f"unknown report {name!r}: expected one of {', '.join(REPORTS)}")
    return REPORTS[name].needs


def report(trace_csv: PathArg, *, what: str | Iterable[str] = "all", migrations_csv: PathArg | bool | None = None,
           platform: Platform | PathArg | None = None,
           vm_cores: Mapping[str, int] | None = None) -> dict[str, pl.DataFrame]:
    """The frames of the reports ``what`` (names of :data:`REPORTS`, or ``"all"`` for all those ``replay
    analyze`` prints), reading the tidy CSV once (:func:`load_trace`) and computing them together.

    Returns ``run`` (one row: ``simulated_time``), then for each report asked, in the order asked, its frames
    (:attr:`Report.frames`): ``migrations`` (see :func:`migrations`), ``state_times`` and ``vm_states``,
    ``mean_utilization`` and ``utilization`` (capacities from :func:`capacities_for` with ``platform``, and
    for VMs from ``vm_cores``, their cores by name: see :func:`vm_cores`),
    ``actor_activity`` and ``actor_states``, ``energy``, ``power`` and ``pstates``, ``failures``, ``outages`` and
    ``lost`` (:mod:`tracing.failures`), ``sla``, ``sla_hosts``, ``sla_vms``, ``sla_decisions``, ``decisions`` and
    ``hosts_on`` (:mod:`tracing.sla`), and ``moves``. The reports are planned and finished in the
    registry's order, whatever the order asked.
    """
    asked = chosen(what)
    trace = load_trace(trace_csv, what=[report.name for report in asked]).lazy()
    inputs = Inputs(trace_csv, migrations_csv, platform, vm_cores)
    names = {report.name for report in asked}
    plans = {report.name: report.plan(trace, inputs) for report in REPORTS.values() if report.name in names}
    queries = [run_end(trace), *(query for plan in plans.values() for query in plan.queries.values())]
    collected = iter(collect_all(queries, trace_csv))
    frames = {"run": next(collected)}
    done: dict[str, pl.DataFrame] = {}
    for plan in plans.values():
        results = {name: next(collected) for name in plan.queries}
        done.update(plan.finish(results) if plan.finish is not None else results)
    frames.update((name, done[name]) for report in asked for name in report.frames)
    return frames


def write_parquet(frames: Mapping[str, pl.DataFrame], directory: PathArg) -> list[Path]:
    """Write each frame of ``frames`` (as :func:`report` returns them; ``run`` is left out) as
    ``<directory>/<name>.parquet`` with :func:`to_parquet`; the directory is created if needed."""
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise AnalysisError(f"{folder}: expected a directory for the Parquet files, found a file")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise AnalysisError(f"{folder}: expected a directory for the Parquet files, cannot create it: "
                            f"{error.strerror}") from None
    return [to_parquet(frame, folder / f"{name}.parquet") for name, frame in frames.items() if name != "run"]


def to_parquet(frame: pl.DataFrame | pl.LazyFrame, path: PathArg) -> Path:
    """Write ``frame`` as Parquet at ``path``, atomically (:func:`tracing.sink.atomic_path`); a lazy frame is streamed
    (``sink_parquet``), so a query over a big trace need not fit in memory."""
    target = Path(path)
    # Through an open file, not its path: a sink that fails may still create the file at a path it was given
    # after it has raised (polars 2.1), bringing back the temporary file just removed.
    with atomic_path(target) as temporary, temporary.open("wb") as stream:
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(stream)
        else:
            frame.write_parquet(stream)
    return target
