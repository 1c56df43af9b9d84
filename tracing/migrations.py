"""Migrations from the CSVs of a run: the VMs' moves in the tidy table, one row per migration from the
migrations CSV or derived from the tidy table, and the ``migrations`` and ``moves`` reports
(:mod:`tracing.reports`).

A move is a ``MSG_VM_LINK`` link from the VM's old container to its new one, at the end of stop-and-copy.
Migrations come from the migrations CSV when there is one that lists the tidy table's migrations, else are
derived from the tidy table (see :func:`migrations` for the rule and for what a derivation cannot know).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import polars as pl

from tracing.errors import AnalysisError
from tracing.paje_types import MIGRATION_FORCED_VALUE
from tracing.reports import Inputs, Plan, Shown, human
from tracing.states import state_rows
from tracing.tidy import PathArg, Trace, as_lazy, collect_all, containers, scan_migrations, trace_name

__all__ = ["DATE_TOLERANCE", "find_migrations_csv", "migrations", "moves"]

#: the analysis's logger (the name ``tracing.analysis`` is the one users configure)
log = logging.getLogger("tracing.analysis")

#: Two dates closer than this (seconds) are the same date when matching a migrations CSV with a tidy CSV.
DATE_TOLERANCE = 1e-6


def _moves(lf: pl.LazyFrame) -> pl.LazyFrame:
    links = (
        lf.filter((pl.col("kind") == "link") & (pl.col("type") == "MSG_VM_LINK"))
        .select(pl.col("start_container").alias("vm"), pl.col("start").alias("time"), "key")
        .sort("time", "vm")
    )
    vms = containers(lf, "MSG_VM", "vm").select("vm", "host", "c_start")
    src = links.join_asof(vms, left_on="time", right_on="c_start", by="vm", strategy="backward",
                          allow_exact_matches=False, check_sortedness=False)
    both = src.rename({"host": "src"}).drop("c_start").join_asof(
        vms, left_on="time", right_on="c_start", by="vm", strategy="forward", check_sortedness=False,
    )
    return both.select("vm", "src", pl.col("host").alias("dst"), "time", "key").sort("time", "vm")


def moves(trace: Trace) -> pl.LazyFrame:
    """The VMs' moves (the end of a migration's stop-and-copy): ``vm, src, dst, time, key`` (the link's key)."""
    return _moves(as_lazy(trace))


def _derived_migrations(lf: pl.LazyFrame) -> pl.LazyFrame:
    rows = state_rows(lf, "MSG_VM", "MSG_VM_STATE", "vm")
    migrate = rows.filter(pl.col("state") == "migrate").select("vm", "start", "end", pl.col("host").alias("src"))
    migrate = migrate.sort("end", "vm")
    moved = _moves(lf).select("vm", pl.col("time").alias("m_time"), "dst").sort("m_time", "vm")
    stop = (
        rows.filter(pl.col("state") == "stop-and-copy")
        .select("vm", pl.col("end").alias("s_end"), pl.col("duration").alias("downtime"))
        .sort("s_end", "vm")
    )
    starts = migrate.select("vm", pl.col("start").alias("m_start"), pl.col("end").alias("m_end")).sort("m_start", "vm")

    def per_migration(label: str) -> pl.LazyFrame:
        """The ``MSG_VM_MIGRATION`` events ``label`` of each VM, each with the start of the migration it is
        part of (the last one of its VM begun before it): t, vm, m_start, m_end."""
        marks = (
            lf.filter((pl.col("kind") == "event") & (pl.col("type") == "MSG_VM_MIGRATION")
                      & (pl.col("label") == label))
            .select(pl.col("container").alias("vm"), pl.col("start").alias("t"))
            .sort("t", "vm")
        )
        return marks.join_asof(starts, left_on="t", right_on="m_start", by="vm", strategy="backward",
                               check_sortedness=False).filter(pl.col("m_start").is_not_null())

    rounds = (
        per_migration("stage2").filter(pl.col("t") <= pl.col("m_end") + DATE_TOLERANCE)
        .group_by("vm", "m_start").agg(pl.len().cast(pl.Int64).alias("rounds"))
    )
    # the mark comes with the report, at the migration's end: after the move, before the next migration
    forced = per_migration(MIGRATION_FORCED_VALUE).select("vm", "m_start", pl.lit(True).alias("forced")).unique()
    joined = (
        migrate.join_asof(moved, left_on="end", right_on="m_time", by="vm", strategy="nearest",
                          tolerance=DATE_TOLERANCE, check_sortedness=False)
        .join_asof(stop, left_on="end", right_on="s_end", by="vm", strategy="nearest", tolerance=DATE_TOLERANCE,
                   check_sortedness=False)
        .join(rounds, left_on=["vm", "start"], right_on=["vm", "m_start"], how="left")
        .join(forced, left_on=["vm", "start"], right_on=["vm", "m_start"], how="left")
    )
    missing = pl.lit(None, dtype=pl.Int64)
    return joined.select(
        "vm", "src", "dst", "start", "end", (pl.col("end") - pl.col("start")).alias("duration"), "downtime",
        missing.alias("bytes_stage1"), missing.alias("bytes_stage2"), missing.alias("bytes_stage3"),
        pl.col("rounds").fill_null(0), pl.col("forced").is_null().alias("converged"),
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
    message = (f"{path}: expected the migrations of {trace_name(trace)} ({derived.height} migrations, those of "
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
    ``MSG_VM_LINK`` leads to (null when it never moved: a failed migration), ``converged`` false when the
    migration has a ``forced`` event (its stop-and-copy was forced), true otherwise; bytes and ``error`` are
    null. (Traces written before ``forced`` events existed mark no migration: all read as converged.)
    """
    plan = _plan(as_lazy(trace), trace, migrations_csv)
    collected = collect_all(list(plan.queries.values()), trace)
    return plan.finish(dict(zip(plan.queries, collected, strict=True)))["migrations"]


def _plan(lf: pl.LazyFrame, trace: Trace, migrations_csv: PathArg | bool | None) -> Plan:
    """The migrations derived from the rows ``lf`` of ``trace`` and, when there is one (see :func:`migrations`),
    the migrations CSV's; finished by choosing between them."""
    path, explicit = _migrations_source(trace, migrations_csv)
    queries = {"migrations": _derived_migrations(lf)}
    if path is not None:
        queries["migrations_csv"] = _csv_migrations(scan_migrations(path))

    def finish(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        table = frames.get("migrations_csv")
        return {"migrations": _choose_migrations(frames["migrations"], table, path, explicit, trace)}

    return Plan(queries, finish)


# -- the reports ----------------------------------------------------------------------------------------------------
def migrations_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``migrations`` report: :func:`migrations` of the tidy CSV and of the migrations CSV asked for."""
    return _plan(trace, inputs.trace_csv, inputs.migrations_csv)


def migrations_table(frame: pl.DataFrame) -> Shown:
    """``migrations`` for a person: the move as ``src -> dst``, total bytes sent (``bytes``, when known, in
    binary units: ``20.61 GiB``), and ``converged`` and ``error`` only when known."""
    sent = frame.select(pl.sum_horizontal("bytes_stage1", "bytes_stage2", "bytes_stage3"))
    table = frame.select(
        "vm",
        pl.concat_str(pl.col("src").fill_null("?"), pl.lit(" -> "), pl.col("dst").fill_null("(no move)"))
        .alias("move"),
        "start", "duration", "downtime",
        pl.Series("bytes", [human(size, "bytes") for size in sent.to_series()], dtype=pl.String),
        "rounds", "converged", "error",
    )
    note = "bytes: sent in all stages; end and bytes per stage: --format csv"
    if frame.height and frame["bytes_stage1"].null_count() == frame.height:
        table = table.drop("bytes")
        note = "derived from the tidy CSV (no migrations CSV): durations end at the move, bytes unknown"
    empty = [name for name in ("converged", "error") if table[name].null_count() == table.height]
    return table.drop(empty), note


def moves_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    """The ``moves`` frame (for the plots): :func:`moves`."""
    return Plan({"moves": moves(trace)})


