"""Post-analysis of a run in polars: migrations, VM states, utilization and actor activity from the CSV traces.

The inputs are the two CSV files ``replay run`` writes (:mod:`tracing.csv_writer`): the tidy table (``--csv``,
one row per container, state, variable value, link and event, as ``pj_dump`` lists a Paje trace) and, when it
was asked for, the migrations table (``--migrations``). Both are read with :func:`polars.scan_csv` and an
explicit schema (:data:`TIDY_SCHEMA`, :data:`MIGRATIONS_SCHEMA`): nothing is type-guessed, and a file that is
not ours is refused with one line naming it (:class:`AnalysisError`).

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
``disk_bandwidth`` property), or a frame of your own with columns ``kind, name, capacity``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import polars as pl

from replay.errors import ReplayError
from replay.platform import Platform, default_platform, load_platform
from replay.units import parse_bandwidth
from tracing.csv_writer import CSV_COLUMNS, MIGRATION_COLUMNS
from tracing.paje_types import ACTOR_STATE_VALUES, VM_STATE_VALUES

__all__ = [
    "MIGRATIONS_SCHEMA",
    "REPORTS",
    "SUMMARY_TABLES",
    "TIDY_SCHEMA",
    "AnalysisError",
    "PlotUnavailable",
    "actor_activity",
    "actor_states",
    "atomic_path",
    "capacities",
    "capacities_for",
    "display_tables",
    "find_migrations_csv",
    "load_trace",
    "mean_utilization",
    "migrations",
    "moves",
    "natural_key",
    "report",
    "scan_migrations",
    "scan_trace",
    "simulated_time",
    "state_times",
    "to_parquet",
    "utilization",
    "vm_states",
    "write_parquet",
]

log = logging.getLogger(__name__)

PathArg = str | os.PathLike[str]
#: a tidy trace: its path, or its rows (lazy or not)
Trace = PathArg | pl.LazyFrame | pl.DataFrame

#: The tidy CSV's columns and types (:mod:`tracing.csv_writer`).
TIDY_SCHEMA = pl.Schema({
    "kind": pl.String, "container": pl.String, "type": pl.String, "start": pl.Float64, "end": pl.Float64,
    "duration": pl.Float64, "value": pl.Float64, "label": pl.String, "parent": pl.String,
    "start_container": pl.String, "end_container": pl.String, "key": pl.String, "depth": pl.Int64,
})

#: The migrations CSV's columns and types; bytes are read as floats and given as whole numbers (Int64).
MIGRATIONS_SCHEMA = pl.Schema({
    "vm": pl.String, "src": pl.String, "dst": pl.String, "start": pl.Float64, "end": pl.Float64,
    "duration": pl.Float64, "downtime": pl.Float64, "bytes_stage1": pl.Float64, "bytes_stage2": pl.Float64,
    "bytes_stage3": pl.Float64, "rounds": pl.Int64, "converged": pl.Boolean, "error": pl.String,
})

assert tuple(TIDY_SCHEMA.names()) == CSV_COLUMNS and tuple(MIGRATIONS_SCHEMA.names()) == MIGRATION_COLUMNS

#: What :func:`report` can compute, and the frames each gives (the first of each is its summary table).
REPORTS: dict[str, tuple[str, ...]] = {
    "migrations": ("migrations",),
    "states": ("state_times", "vm_states"),
    "utilization": ("mean_utilization", "utilization"),
    "actors": ("actor_activity", "actor_states"),
}
#: The frames of :func:`report` that summarize (``replay analyze`` prints these).
SUMMARY_TABLES = tuple(frames[0] for frames in REPORTS.values())

#: Two dates closer than this (seconds) are the same date when matching a migrations CSV with a tidy CSV.
DATE_TOLERANCE = 1e-6

_VARIABLES = ("power_used", "bandwidth_used", "disk_used")
_UNITS = {"host": "flop/s", "vm": "flop/s", "link": "byte/s", "disk": "byte/s"}
_KIND_ORDER = ("host", "vm", "link", "disk")
#: the tidy rows each report needs (by type; the root container is always kept)
_NEEDS: dict[str, tuple[str, ...]] = {
    "migrations": ("MSG_VM", "MSG_VM_STATE", "MSG_VM_LINK", "MSG_VM_MIGRATION"),
    "states": ("MSG_VM", "MSG_VM_STATE"),
    "utilization": ("HOST", *_VARIABLES),
    "actors": ("MSG_PROCESS", "MSG_PROCESS_STATE"),
    "moves": ("MSG_VM", "MSG_VM_LINK"),
}


class AnalysisError(ReplayError, ValueError):
    """A file that is not the CSV asked for (missing, another table, unreadable rows), or inconsistent inputs."""


class PlotUnavailable(ReplayError, ImportError):
    """Plotting was asked for and matplotlib, an optional extra, is not installed."""


# -- reading ----------------------------------------------------------------------------------------------------
def _check_header(path: PathArg, columns: tuple[str, ...], what: str, option: str) -> Path:
    path = Path(path)
    if not path.exists():
        raise AnalysisError(f"{path}: expected {what} ({option}), found no such file")
    if not path.is_file():
        raise AnalysisError(f"{path}: expected {what} ({option}), found a directory")
    try:
        with path.open(encoding="utf-8", newline="") as stream:
            header = stream.readline().rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as error:
        raise AnalysisError(f"{path}: expected {what} ({option}), cannot read it: {error}") from None
    if header != ",".join(columns):
        found = repr(header[:60] + ("..." if len(header) > 60 else "")) if header else "an empty first line"
        hint = ""
        if header == ",".join(MIGRATION_COLUMNS) and columns == CSV_COLUMNS:
            hint = " (this is a migrations CSV: give the tidy CSV, and this one with --migrations)"
        elif header == ",".join(CSV_COLUMNS) and columns == MIGRATION_COLUMNS:
            hint = " (this is the tidy CSV, not the migrations CSV)"
        raise AnalysisError(f"{path}:1: expected the header of {what} ({columns[0]},{columns[1]},...), "
                            f"found {found}{hint}")
    return path


def scan_trace(path: PathArg) -> pl.LazyFrame:
    """The tidy CSV at ``path`` as a lazy frame with :data:`TIDY_SCHEMA` (its header is checked now)."""
    checked = _check_header(path, CSV_COLUMNS, "a tidy trace CSV", "replay run --csv")
    return pl.scan_csv(checked, schema=TIDY_SCHEMA)


def scan_migrations(path: PathArg) -> pl.LazyFrame:
    """The migrations CSV at ``path`` as a lazy frame with :data:`MIGRATIONS_SCHEMA` (header checked now)."""
    checked = _check_header(path, MIGRATION_COLUMNS, "a migrations CSV", "replay run --migrations")
    return pl.scan_csv(checked, schema=MIGRATIONS_SCHEMA)


def load_trace(path: PathArg, *, what: Iterable[str] = REPORTS) -> pl.DataFrame:
    """Read the tidy CSV at ``path`` once, keeping only the rows the reports ``what`` need (all by default).

    One pass over the file with the explicit schema; pass the frame to as many queries as you like. ``what``
    names reports of :data:`REPORTS` (and ``"moves"``); the root container (the run's length) is always kept.
    """
    types = sorted({name for report_name in what for name in _needs(report_name)})
    keep = pl.col("type").is_in(types) | ((pl.col("kind") == "container") & (pl.col("depth") == 0))
    return _collect(scan_trace(path).filter(keep), path)


def _needs(name: str) -> tuple[str, ...]:
    if name not in _NEEDS:
        raise ValueError(f"unknown report {name!r}: expected one of {', '.join(_NEEDS)}")
    return _NEEDS[name]


def _lazy(trace: Trace) -> pl.LazyFrame:
    if isinstance(trace, pl.LazyFrame):
        return trace
    if isinstance(trace, pl.DataFrame):
        return trace.lazy()
    return scan_trace(trace)


def _where(trace: Trace | None) -> str:
    return str(trace) if isinstance(trace, str | os.PathLike) else "trace"


def _collect(frame: pl.LazyFrame, trace: Trace | None = None) -> pl.DataFrame:
    return _collect_all([frame], trace)[0]


def _collect_all(frames: list[pl.LazyFrame], trace: Trace | None = None) -> list[pl.DataFrame]:
    """Collect ``frames`` together; a polars error (a row that does not parse) becomes an :class:`AnalysisError`."""
    try:
        return pl.collect_all(frames)
    except pl.exceptions.PolarsError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise AnalysisError(f"{_where(trace)}: expected rows of a tidy trace CSV, cannot read them: {first}") from None


def _sum_in_order(values: pl.Expr, by: str) -> pl.Expr:
    """The sum of ``values`` (in an aggregation), added in the order of ``by``: the same CSV gives the same
    float to the last bit (a plain ``sum`` adds in whatever order the threads deliver the rows)."""
    return values.sort_by(by).cum_sum().last().fill_null(0.0)


# -- containers, simulated time ---------------------------------------------------------------------------------
def _containers(lf: pl.LazyFrame, paje_type: str, key: str) -> pl.LazyFrame:
    """The containers of ``paje_type``: key (their name), host (their parent), c_start, c_end; by start."""
    return (
        lf.filter((pl.col("kind") == "container") & (pl.col("type") == paje_type))
        .select(pl.col("container").alias(key), pl.col("parent").alias("host"), pl.col("start").alias("c_start"),
                pl.col("end").alias("c_end"))
        .sort("c_start", key)
    )


def _run_end(lf: pl.LazyFrame) -> pl.LazyFrame:
    """One row, ``simulated_time``: the end of the root container (the run's last date)."""
    root = lf.filter((pl.col("kind") == "container") & (pl.col("depth") == 0))
    return root.select(pl.col("end").max().fill_null(0.0).alias("simulated_time"))


def simulated_time(trace: Trace) -> float:
    """The run's length in seconds: the end of the root container (the summary's ``simulated_time``)."""
    return float(_collect(_run_end(_lazy(trace)), trace).item())


# -- states: stacks and what is visible ---------------------------------------------------------------------------
def _state_rows(lf: pl.LazyFrame, container_type: str, state_type: str, key: str) -> pl.LazyFrame:
    """The state rows of ``state_type``, each with the host its container was in: key, state, start, end,
    duration, host, depth (sorted by start)."""
    rows = (
        lf.filter((pl.col("kind") == "state") & (pl.col("type") == state_type))
        .select(pl.col("container").alias(key), pl.col("label").alias("state"), "start", "end", "depth")
        .sort("start", key, "depth")
    )
    placed = rows.join_asof(
        _containers(lf, container_type, key).select(key, "host", "c_start"),
        left_on="start", right_on="c_start", by=key, strategy="backward", check_sortedness=False,
    )
    return placed.select(key, "state", "start", "end", (pl.col("end") - pl.col("start")).alias("duration"),
                         "host", "depth")


def _visible(rows: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """The top of each state stack: non-overlapping intervals (key, state, start, end, duration, host).

    A row at depth d is visible where none of its children (rows at depth d + 1 pushed while it was on top)
    is: its interval minus theirs. The parent of a child is the last row one level down, of the same key,
    pushed at or before it (of two pushed at the same date, the longer, which was pushed last). Consecutive
    pieces of one state on one host are merged.
    """
    rows = rows.sort("start", "end", key).with_row_index("id")
    parents = rows.select(key, pl.col("depth").alias("p_depth"), pl.col("id").alias("pid"),
                          pl.col("start").alias("p_start"))
    children = (
        rows.filter(pl.col("depth") > 0)
        .with_columns((pl.col("depth") - 1).alias("p_depth"))
        .join_asof(parents, left_on="start", right_on="p_start", by=[key, "p_depth"], strategy="backward",
                   check_sortedness=False)
        .filter(pl.col("pid").is_not_null())
        .select("pid", pl.col("start").alias("k_start"), pl.col("end").alias("k_end"))
        .sort("pid", "k_start")
        .with_columns(pl.col("k_end").shift(1).over("pid").alias("k_prev_end"))
    )
    owner = rows.select(pl.col("id").alias("pid"), key, "state", "host", "start", "end")
    # gaps before each child, and after the last one
    before = children.join(owner, on="pid").select(
        key, "state", "host", pl.coalesce("k_prev_end", "start").alias("start"), pl.col("k_start").alias("end"),
    )
    last = children.group_by("pid").agg(pl.col("k_end").max().alias("k_last"))
    after = last.join(owner, on="pid").select(key, "state", "host", pl.col("k_last").alias("start"), "end")
    alone = owner.join(last, on="pid", how="anti").select(key, "state", "host", "start", "end")
    pieces = (
        pl.concat([before, after, alone])
        .filter(pl.col("end") > pl.col("start"))
        .sort(key, "start")
    )
    same = (
        (pl.col("state") == pl.col("state").shift(1).over(key))
        & (pl.col("host").eq_missing(pl.col("host").shift(1).over(key)))
        & (pl.col("start") == pl.col("end").shift(1).over(key))
    )
    merged = (
        pieces.with_columns((~same.fill_null(False)).cast(pl.UInt32).cum_sum().over(key).alias("run"))
        .group_by(key, "run")
        .agg(pl.col("state").first(), pl.col("start").min(), pl.col("end").max(), pl.col("host").first())
    )
    return merged.select(key, "state", "start", "end", (pl.col("end") - pl.col("start")).alias("duration"),
                         "host").sort("start", key)


def vm_states(trace: Trace, *, nested: bool = False) -> pl.LazyFrame:
    """VM state intervals: ``vm, state, start, end, duration, host`` (the PM the VM was on), by start.

    By default the visible state (the top of the ``MSG_VM_STATE`` stack): intervals of one VM never overlap.
    ``nested=True`` gives the stack's rows as the trace has them, with their ``depth`` (a ``start`` row then
    covers the ``suspend`` or ``migrate`` pushed on top of it).
    """
    rows = _state_rows(_lazy(trace), "MSG_VM", "MSG_VM_STATE", "vm")
    return rows if nested else _visible(rows, "vm")


def _state_times(lf: pl.LazyFrame) -> pl.LazyFrame:
    lifetime = (
        _containers(lf, "MSG_VM", "vm").group_by("vm")
        .agg(_sum_in_order(pl.col("c_end") - pl.col("c_start"), "c_start").alias("lifetime"))
    )
    order = pl.DataFrame({"state": list(VM_STATE_VALUES), "order": range(len(VM_STATE_VALUES))}).lazy()
    return (
        _visible(_state_rows(lf, "MSG_VM", "MSG_VM_STATE", "vm"), "vm")
        .group_by("vm", "state").agg(_sum_in_order(pl.col("duration"), "start").alias("time"))
        .join(lifetime, on="vm", how="left")
        .with_columns((pl.col("time") / pl.col("lifetime")).alias("share"))
        .join(order, on="state", how="left")
        .sort("vm", "order", "state")
        .select("vm", "state", "time", "share")
    )


def state_times(trace: Trace) -> pl.DataFrame:
    """Time spent per visible state per VM: ``vm, state, time, share`` (share of the VM's lifetime, from its
    creation to its destruction or the end of the run; the rest is time in no state: created, or shut down)."""
    return _collect(_state_times(_lazy(trace)), trace)


# -- moves and migrations -------------------------------------------------------------------------------------------
def _moves(lf: pl.LazyFrame) -> pl.LazyFrame:
    links = (
        lf.filter((pl.col("kind") == "link") & (pl.col("type") == "MSG_VM_LINK"))
        .select(pl.col("start_container").alias("vm"), pl.col("start").alias("time"), "key")
        .sort("time", "vm")
    )
    containers = _containers(lf, "MSG_VM", "vm").select("vm", "host", "c_start")
    src = links.join_asof(containers, left_on="time", right_on="c_start", by="vm", strategy="backward",
                          allow_exact_matches=False, check_sortedness=False)
    both = src.rename({"host": "src"}).drop("c_start").join_asof(
        containers, left_on="time", right_on="c_start", by="vm", strategy="forward", check_sortedness=False,
    )
    return both.select("vm", "src", pl.col("host").alias("dst"), "time", "key").sort("time", "vm")


def moves(trace: Trace) -> pl.LazyFrame:
    """The VMs' moves (the end of a migration's stop-and-copy): ``vm, src, dst, time, key`` (the link's key)."""
    return _moves(_lazy(trace))


def _derived_migrations(lf: pl.LazyFrame) -> pl.LazyFrame:
    rows = _state_rows(lf, "MSG_VM", "MSG_VM_STATE", "vm")
    migrate = rows.filter(pl.col("state") == "migrate").select("vm", "start", "end", pl.col("host").alias("src"))
    migrate = migrate.sort("end", "vm")
    moved = _moves(lf).select("vm", pl.col("time").alias("m_time"), "dst").sort("m_time", "vm")
    stop = (
        rows.filter(pl.col("state") == "stop-and-copy")
        .select("vm", pl.col("end").alias("s_end"), pl.col("duration").alias("downtime"))
        .sort("s_end", "vm")
    )
    stage2 = (
        lf.filter((pl.col("kind") == "event") & (pl.col("type") == "MSG_VM_MIGRATION")
                  & (pl.col("label") == "stage2"))
        .select(pl.col("container").alias("vm"), pl.col("start").alias("t"))
        .sort("t", "vm")
    )
    rounds = (
        stage2.join_asof(migrate.select("vm", pl.col("start").alias("m_start"), pl.col("end").alias("m_end"))
                         .sort("m_start", "vm"),
                         left_on="t", right_on="m_start", by="vm", strategy="backward", check_sortedness=False)
        .filter(pl.col("m_start").is_not_null() & (pl.col("t") <= pl.col("m_end") + DATE_TOLERANCE))
        .group_by("vm", "m_start").agg(pl.len().cast(pl.Int64).alias("rounds"))
    )
    joined = (
        migrate.join_asof(moved, left_on="end", right_on="m_time", by="vm", strategy="nearest",
                          tolerance=DATE_TOLERANCE, check_sortedness=False)
        .join_asof(stop, left_on="end", right_on="s_end", by="vm", strategy="nearest", tolerance=DATE_TOLERANCE,
                   check_sortedness=False)
        .join(rounds, left_on=["vm", "start"], right_on=["vm", "m_start"], how="left")
    )
    missing = pl.lit(None, dtype=pl.Int64)
    return joined.select(
        "vm", "src", "dst", "start", "end", (pl.col("end") - pl.col("start")).alias("duration"), "downtime",
        missing.alias("bytes_stage1"), missing.alias("bytes_stage2"), missing.alias("bytes_stage3"),
        pl.col("rounds").fill_null(0), pl.lit(None, dtype=pl.Boolean).alias("converged"),
        pl.lit(None, dtype=pl.String).alias("error"),
    ).sort("start", "vm")


def _csv_migrations(lf: pl.LazyFrame) -> pl.LazyFrame:
    return lf.select(
        "vm", "src", "dst", "start", "end", "duration", "downtime",
        *(pl.col(f"bytes_stage{n}").cast(pl.Int64) for n in (1, 2, 3)), "rounds", "converged", "error",
    ).sort("start", "vm")


def find_migrations_csv(trace_csv: PathArg) -> Path | None:
    """The migrations CSV that goes with the tidy CSV ``trace_csv``, if one is beside it.

    The rule: ``<stem>.migrations.csv`` in the same directory (``out/run.csv`` -> ``out/run.migrations.csv``),
    else ``migrations.csv`` in the same directory; ``None`` if neither exists.
    """
    path = Path(trace_csv)
    for candidate in (path.with_name(f"{path.stem}.migrations.csv"), path.with_name("migrations.csv")):
        if candidate.is_file() and candidate != path:
            return candidate
    return None


def _matches(derived: pl.DataFrame, table: pl.DataFrame) -> bool:
    """Whether a migrations table lists the migrations of the tidy trace (same VMs, same start dates)."""
    if derived.height != table.height:
        return False
    if derived["vm"].to_list() != table["vm"].to_list():
        return False
    return bool(((derived["start"] - table["start"]).abs() <= DATE_TOLERANCE).all())


def _migrations_source(trace: Trace, migrations_csv: PathArg | bool | None) -> tuple[Path | None, bool]:
    """The migrations CSV to read (or None) and whether the user named it."""
    if migrations_csv is False:
        return None, False
    if migrations_csv is not None and migrations_csv is not True:
        return Path(migrations_csv), True
    if isinstance(trace, str | os.PathLike):
        return find_migrations_csv(trace), False
    return None, False


def _choose_migrations(derived: pl.DataFrame, table: pl.DataFrame | None, path: Path | None, explicit: bool,
                       trace: Trace) -> pl.DataFrame:
    if table is None:
        return derived
    if _matches(derived, table):
        return table
    message = (f"{path}: expected the migrations of {_where(trace)} ({derived.height} migrations, those of "
               f"its 'migrate' states), found {table.height} that do not match")
    if explicit:
        raise AnalysisError(message)
    log.warning("%s; using those derived from the tidy CSV", message)
    return derived


def migrations(trace: Trace, *, migrations_csv: PathArg | bool | None = None) -> pl.DataFrame:
    """One row per migration: ``vm, src, dst, start, end, duration, downtime, bytes_stage1, bytes_stage2,
    bytes_stage3, rounds, converged, error``, by start date.

    From the migrations CSV when there is one: ``migrations_csv`` if given (``False``: never), else the file
    :func:`find_migrations_csv` finds beside the tidy CSV (only when ``trace`` is a path). The table is used
    only if it lists the migrations of the tidy trace (same VMs, same start dates to 1e-6 s); a file named
    explicitly that does not is an :class:`AnalysisError`, one found beside it is ignored with a warning.

    Otherwise the rows are derived from the tidy CSV alone: ``start`` and ``end`` are those of the VM's
    ``migrate`` state (the end is the move: the migration's acknowledgement, a few ms on a LAN, comes after it
    and is missing from ``end`` and ``duration``), ``downtime`` is the ``stop-and-copy`` state's duration,
    ``rounds`` the number of stage-2 events, ``src`` the PM the VM was on, ``dst`` the one its
    ``MSG_VM_LINK`` leads to (null when it never moved: a failed migration); bytes, ``converged`` and
    ``error`` are null.
    """
    lf = _lazy(trace)
    path, explicit = _migrations_source(trace, migrations_csv)
    frames = [_derived_migrations(lf)]
    if path is not None:
        frames.append(_csv_migrations(scan_migrations(path)))
    collected = _collect_all(frames, trace)
    return _choose_migrations(collected[0], collected[1] if path is not None else None, path, explicit, trace)


# -- utilization ----------------------------------------------------------------------------------------------------
def capacities(platform: Platform | PathArg | None = None) -> pl.DataFrame:
    """The capacities of a platform's resources: ``kind, name, capacity``.

    ``host``: cores x core speed (flop/s, initial power state); ``link``: bandwidth (byte/s; under LV08 a link
    carries at most 0.97 of it); ``disk``: a host's ``disk_bandwidth`` property (byte/s), for hosts that have
    one. ``platform`` is a loaded platform, a platform file, or ``None`` for the embedded default platform.
    VMs are not in the platform: append rows ``("vm", name, vcpus x PM core speed)`` for them if you like.
    """
    if platform is None:
        platform = default_platform()
    elif not isinstance(platform, Platform):
        platform = load_platform(platform)
    rows: list[tuple[str, str, float]] = []
    for host in platform.hosts.values():
        rows.append(("host", host.name, host.cores * host.speed))
    for link in platform.links.values():
        if link is not platform.loopback and link.name != "__loopback__":
            rows.append(("link", link.name, link.bandwidth))
    for host in platform.hosts.values():
        disk = host.properties.get("disk_bandwidth")
        if disk is not None:
            rows.append(("disk", host.name, parse_bandwidth(disk, context=f"host {host.name!r} disk_bandwidth: ")))
    return pl.DataFrame(rows, schema={"kind": pl.String, "name": pl.String, "capacity": pl.Float64}, orient="row")


def _fingerprint(lf: pl.LazyFrame) -> pl.LazyFrame:
    """The root container's name and the hosts of the trace (to tell which platform it was made on)."""
    return lf.filter(
        (pl.col("kind") == "container") & ((pl.col("depth") == 0) | (pl.col("type") == "HOST"))
    ).select("container", "depth").unique().sort("depth", "container")


def _platform_capacities(fingerprint: pl.DataFrame, platform: Platform | PathArg | None) -> pl.DataFrame | None:
    if platform is not None:
        return capacities(platform)
    default = default_platform()
    roots = fingerprint.filter(pl.col("depth") == 0)["container"].to_list()
    hosts = set(fingerprint.filter(pl.col("depth") > 0)["container"].to_list())
    if roots == [default.root.id] and hosts and hosts <= set(default.hosts):
        return capacities(default)
    return None


def capacities_for(trace: Trace, platform: Platform | PathArg | None = None) -> pl.DataFrame | None:
    """The capacities to use for ``trace``: those of ``platform`` when given; else those of the embedded
    default platform if the trace was made on it (its root container is the default platform's root zone and
    all its hosts are the default platform's), else ``None`` (utilization then has no fraction)."""
    return _platform_capacities(_collect(_fingerprint(_lazy(trace)), trace), platform)


def _capacity_frame(caps: pl.DataFrame | Platform | PathArg | None) -> pl.DataFrame | None:
    if caps is None or isinstance(caps, pl.DataFrame):
        return caps
    return capacities(caps)


def _utilization(lf: pl.LazyFrame) -> pl.LazyFrame:
    hosts = (
        lf.filter((pl.col("kind") == "container") & (pl.col("type") == "HOST"))
        .select(pl.col("container"), pl.lit(True).alias("is_host")).unique()
    )
    variables = lf.filter((pl.col("kind") == "variable") & pl.col("type").is_in(_VARIABLES))
    kind = (
        pl.when(pl.col("type") == "bandwidth_used").then(pl.lit("link"))
        .when(pl.col("type") == "disk_used").then(pl.lit("disk"))
        .when(pl.col("is_host")).then(pl.lit("host"))
        .otherwise(pl.lit("vm"))
    )
    return (
        variables.join(hosts, on="container", how="left")
        .select(kind.alias("kind"), pl.col("container").alias("name"), "start", "end", "duration", "value")
    )


def _with_capacity(frame: pl.LazyFrame | pl.DataFrame, caps: pl.DataFrame | None, columns: Mapping[str, str]):
    """Join ``caps`` on (kind, name) and add ``fraction`` columns (value / capacity) as ``columns`` says."""
    lazy = frame.lazy() if isinstance(frame, pl.DataFrame) else frame
    if caps is None:
        caps = pl.DataFrame(schema={"kind": pl.String, "name": pl.String, "capacity": pl.Float64})
    caps = caps.select("kind", "name", pl.col("capacity").cast(pl.Float64)).unique(["kind", "name"], keep="last")
    joined = lazy.join(caps.lazy(), on=["kind", "name"], how="left", maintain_order="left").with_columns(
        (pl.col(source) / pl.col("capacity")).alias(target) for target, source in columns.items()
    )
    return joined.collect() if isinstance(frame, pl.DataFrame) else joined


def utilization(trace: Trace, *, kind: str | Iterable[str] | None = None,
                capacities: pl.DataFrame | Platform | PathArg | None = None) -> pl.LazyFrame:
    """Resource usage over time, as step functions: ``kind, name, start, end, duration, value, capacity,
    fraction``, one row per value held from ``start`` to ``end``, by kind, name and start.

    ``kind``: ``host`` and ``vm`` (``power_used``, flop/s), ``link`` (``bandwidth_used``), ``disk``
    (``disk_used``, byte/s); all by default. ``capacities``: a frame ``kind, name, capacity`` (see
    :func:`capacities`) or a platform (or its file); ``fraction`` = value / capacity, null where the capacity
    is unknown (no ``capacities``: all null).
    """
    frame = _utilization(_lazy(trace))
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        frame = frame.filter(pl.col("kind").is_in(kinds))
    frame = _with_capacity(frame, _capacity_frame(capacities), {"fraction": "value"})
    return _sort_kinds(frame, "name", "start", "end").select(
        "kind", "name", "start", "end", "duration", "value", "capacity", "fraction"
    )


def _sort_kinds(frame: pl.LazyFrame, *by: str) -> pl.LazyFrame:
    order = pl.DataFrame({"kind": list(_KIND_ORDER), "k_order": range(len(_KIND_ORDER))}).lazy()
    return frame.join(order, on="kind", how="left").sort("k_order", *by, maintain_order=True).drop("k_order")


def _mean_utilization(lf: pl.LazyFrame) -> pl.LazyFrame:
    means = (
        _utilization(lf).group_by("kind", "name")
        .agg(
            _sum_in_order(pl.col("duration"), "start").alias("lived"),
            _sum_in_order(pl.col("value") * pl.col("duration"), "start").alias("integral"),
            pl.col("value").filter(pl.col("duration") > 0).max().fill_null(0.0).alias("peak"),
        )
        .join(_run_end(lf), how="cross")
        .with_columns(
            # a VM exists from its creation to its destruction; the platform's resources for the whole run (a
            # disk's variable is only set at its first use: 0 before)
            pl.when(pl.col("kind") == "vm").then(pl.col("lived")).otherwise(pl.col("simulated_time")).alias("time")
        )
        .with_columns(
            pl.when(pl.col("time") > 0).then(pl.col("integral") / pl.col("time")).otherwise(0.0).alias("mean"),
            pl.col("kind").replace_strict(_UNITS, default=None).alias("unit"),
        )
    )
    return _sort_kinds(means, "name").select("kind", "name", "unit", "time", "mean", "peak")


def mean_utilization(trace: Trace, *, capacities: pl.DataFrame | Platform | PathArg | None = None) -> pl.DataFrame:
    """Time-weighted usage of every host, VM, link and disk: ``kind, name, unit, time, mean, peak, capacity,
    fraction, peak_fraction``.

    ``mean`` = (sum of value x duration) / ``time``, where ``time`` is how long the resource existed (the
    whole run for hosts and links, from creation to destruction for a VM); ``peak`` is the highest value held
    for a positive time; ``fraction`` and ``peak_fraction`` divide them by the capacity (null when unknown:
    see :func:`utilization`). A host computing on one of its 4 cores for the whole run has fraction 0.25.
    """
    frame = _collect(_mean_utilization(_lazy(trace)), trace)
    return _with_capacity(frame, _capacity_frame(capacities), {"fraction": "mean", "peak_fraction": "peak"})


# -- actors ------------------------------------------------------------------------------------------------------------
def actor_states(trace: Trace, *, nested: bool = False) -> pl.LazyFrame:
    """Actor state intervals: ``actor, state, start, end, duration, host`` (the host or VM it runs on).

    States are ``task_execute``, ``send`` and ``receive``; visible ones (the top of the stack) by default, the
    trace's rows with their ``depth`` with ``nested=True``. Empty for a trace written without actors.
    """
    rows = _state_rows(_lazy(trace), "MSG_PROCESS", "MSG_PROCESS_STATE", "actor")
    return rows if nested else _visible(rows, "actor")


def _actor_activity(lf: pl.LazyFrame) -> pl.LazyFrame:
    lives = (
        _containers(lf, "MSG_PROCESS", "actor").sort("actor", "c_start").group_by("actor", maintain_order=True)
        .agg(pl.col("host").first(), pl.col("c_start").min().alias("start"), pl.col("c_end").max().alias("end"),
             _sum_in_order(pl.col("c_end") - pl.col("c_start"), "c_start").alias("lifetime"))
    )
    busy = _visible(_state_rows(lf, "MSG_PROCESS", "MSG_PROCESS_STATE", "actor"), "actor").group_by("actor").agg(
        _sum_in_order(pl.when(pl.col("state") == state).then(pl.col("duration")).otherwise(0.0), "start")
        .alias(state) for state in ACTOR_STATE_VALUES
    )
    states = list(ACTOR_STATE_VALUES)
    return (
        lives.join(busy, on="actor", how="left")
        .with_columns(pl.col(states).fill_null(0.0))
        .with_columns((pl.col("lifetime") - pl.sum_horizontal(states)).clip(lower_bound=0.0).alias("idle"))
        .sort("start", "actor")
        .select("actor", "host", "start", "end", *states, "idle")
    )


def actor_activity(trace: Trace) -> pl.DataFrame:
    """One row per actor: ``actor, host, start, end, task_execute, send, receive, idle`` (seconds; the states'
    visible time, and the rest of its life). ``end`` is the summary's per-actor ``end``. Empty for a trace
    written without actors."""
    return _collect(_actor_activity(_lazy(trace)), trace)


# -- everything at once ----------------------------------------------------------------------------------------------
def report(trace_csv: PathArg, *, what: str | Iterable[str] = "all", migrations_csv: PathArg | bool | None = None,
           platform: Platform | PathArg | None = None) -> dict[str, pl.DataFrame]:
    """The frames of the reports ``what`` (names of :data:`REPORTS`, or ``"all"`` for all of them; ``"moves"``
    too), reading the tidy CSV once (:func:`load_trace`) and computing them together.

    Returns ``run`` (one row: ``simulated_time``), then for each report asked its frames of :data:`REPORTS`:
    ``migrations`` (see :func:`migrations`), ``state_times`` and ``vm_states``, ``mean_utilization`` and
    ``utilization`` (capacities from :func:`capacities_for` with ``platform``), ``actor_activity`` and
    ``actor_states``, and ``moves``.
    """
    names = list(REPORTS) if what == "all" else [what] if isinstance(what, str) else list(what)
    for name in names:
        if name not in REPORTS and name != "moves":
            raise ValueError(f"unknown report {name!r}: expected all, moves or one of {', '.join(REPORTS)}")
    trace = load_trace(trace_csv, what=names).lazy()
    queries: dict[str, pl.LazyFrame] = {"run": _run_end(trace)}
    path, explicit = _migrations_source(trace_csv, migrations_csv)
    if "migrations" in names:
        queries["migrations"] = _derived_migrations(trace)
        if path is not None:
            queries["migrations_csv"] = _csv_migrations(scan_migrations(path))
    if "states" in names:
        queries["state_times"] = _state_times(trace)
        queries["vm_states"] = _visible(_state_rows(trace, "MSG_VM", "MSG_VM_STATE", "vm"), "vm")
    if "utilization" in names:
        queries["mean_utilization"] = _mean_utilization(trace)
        queries["utilization"] = _sort_kinds(_utilization(trace), "name", "start", "end")
        queries["fingerprint"] = _fingerprint(trace)
    if "actors" in names:
        queries["actor_activity"] = _actor_activity(trace)
        queries["actor_states"] = _visible(_state_rows(trace, "MSG_PROCESS", "MSG_PROCESS_STATE", "actor"), "actor")
    if "moves" in names:
        queries["moves"] = _moves(trace)
    frames = dict(zip(queries, _collect_all(list(queries.values()), trace_csv), strict=True))
    if "migrations" in names:
        table = frames.pop("migrations_csv", None)
        frames["migrations"] = _choose_migrations(frames["migrations"], table, path, explicit, trace_csv)
    if "utilization" in names:
        caps = _platform_capacities(frames.pop("fingerprint"), platform)
        frames["mean_utilization"] = _with_capacity(frames["mean_utilization"], caps,
                                                    {"fraction": "mean", "peak_fraction": "peak"})
        frames["utilization"] = _with_capacity(frames["utilization"], caps, {"fraction": "value"}).select(
            "kind", "name", "start", "end", "duration", "value", "capacity", "fraction")
    order = ["run", *(frame for name in names for frame in REPORTS.get(name, (name,)))]
    return {name: frames[name] for name in order}


def display_tables(frames: Mapping[str, pl.DataFrame]) -> dict[str, tuple[pl.DataFrame, str]]:
    """The summary frames of ``frames`` reshaped for a person reading a terminal (``replay analyze``'s table
    format), each with a note on what was left out; the other formats give the frames as they are.

    ``migrations``: the move as ``src -> dst``, total bytes sent (``bytes``, when known), and ``converged`` and
    ``error`` only when known; ``state_times``: one row per VM, one column per state (seconds);
    ``mean_utilization``: the resources used at some point, with fractions in percent; ``actor_activity``: as
    is.
    """
    tables: dict[str, tuple[pl.DataFrame, str]] = {}
    if "migrations" in frames:
        frame = frames["migrations"]
        table = frame.select(
            "vm",
            pl.concat_str(pl.col("src").fill_null("?"), pl.lit(" -> "), pl.col("dst").fill_null("(no move)"))
            .alias("move"),
            "start", "duration", "downtime",
            pl.sum_horizontal("bytes_stage1", "bytes_stage2", "bytes_stage3").alias("bytes"),
            "rounds", "converged", "error",
        )
        note = "bytes: sent in all stages; end and bytes per stage: --format csv"
        if frame.height and frame["bytes_stage1"].null_count() == frame.height:
            table = table.drop("bytes")
            note = "derived from the tidy CSV (no migrations CSV): durations end at the move, bytes unknown"
        empty = [name for name in ("converged", "error") if table[name].null_count() == table.height]
        tables["migrations"] = (table.drop(empty), note)
    if "state_times" in frames:
        frame = frames["state_times"]
        states = [state for state in (*VM_STATE_VALUES, *sorted(set(frame["state"]) - set(VM_STATE_VALUES)))
                  if state in set(frame["state"])]
        vms = frame.select("vm").unique(maintain_order=True)
        table = vms.with_columns(
            *(pl.lit(None, dtype=pl.Float64).alias(state) for state in states)
        ) if frame.is_empty() else frame.pivot(on="state", index="vm", values="time").select("vm", *states)
        tables["state_times"] = (table.fill_null(0.0), "seconds in each visible state")
    if "mean_utilization" in frames:
        frame = frames["mean_utilization"]
        used = frame.filter(pl.col("peak") > 0)
        table = used.select(
            "kind", "name", "mean", "peak", "unit", (pl.col("fraction") * 100).alias("mean %"),
            (pl.col("peak_fraction") * 100).alias("peak %"),
        )
        if table["mean %"].null_count() == table.height:
            table = table.drop("mean %", "peak %")
        idle = frame.height - used.height
        tables["mean_utilization"] = (table, f"{idle} resources idle all run left out" if idle else "")
    if "actor_activity" in frames:
        tables["actor_activity"] = (frames["actor_activity"], "seconds")
    return tables


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


# -- output ------------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def atomic_path(path: PathArg) -> Iterator[Path]:
    """A temporary path beside ``path`` to write a file at, renamed onto ``path`` when the block ends cleanly
    (deleted on an exception: an existing file is then left as it was)."""
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_parquet(frame: pl.DataFrame | pl.LazyFrame, path: PathArg) -> Path:
    """Write ``frame`` as Parquet at ``path``, atomically (:func:`atomic_path`); a lazy frame is streamed
    (``sink_parquet``), so a query over a big trace need not fit in memory."""
    target = Path(path)
    with atomic_path(target) as temporary:
        if isinstance(frame, pl.LazyFrame):
            frame.sink_parquet(temporary)
        else:
            frame.write_parquet(temporary)
    return target


def natural_key(name: str) -> tuple:
    """A sort key putting ``pm-2`` before ``pm-10``."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name) if part)
