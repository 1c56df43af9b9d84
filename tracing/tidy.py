"""The CSVs of a run as polars frames: reading them with their schemas, collecting queries over them, and the
building blocks every query over the tidy table shares (containers, the run's end, sums in date order).

Files are read with :func:`polars.scan_csv` and the schemas of :mod:`tracing.schema`: nothing is type-guessed,
and a file that is not ours is refused with one line naming it (:class:`tracing.errors.AnalysisError`), as is a
row that does not parse, when the query is collected (:func:`collect_all`). A *trace* is the path of a tidy CSV
or a frame of its rows (lazy or not); :func:`as_lazy` makes any of them a lazy frame.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from tracing.errors import AnalysisError
from tracing.schema import MIGRATIONS, TIDY, CsvTable

__all__ = [
    "MIGRATIONS_SCHEMA",
    "TIDY_SCHEMA",
    "PathArg",
    "Trace",
    "as_lazy",
    "collect",
    "collect_all",
    "containers",
    "run_end",
    "scan_migrations",
    "scan_trace",
    "simulated_time",
    "sum_in_order",
    "trace_name",
]

PathArg = str | os.PathLike[str]
#: a tidy trace: its path, or its rows (lazy or not)
Trace = PathArg | pl.LazyFrame | pl.DataFrame

#: The tidy CSV's columns and types (:data:`tracing.schema.TIDY`).
TIDY_SCHEMA = TIDY.polars_schema()
#: The migrations CSV's columns and types (:data:`tracing.schema.MIGRATIONS`); bytes are read as floats and
#: given as whole numbers (Int64) by the queries.
MIGRATIONS_SCHEMA = MIGRATIONS.polars_schema()


# -- reading ----------------------------------------------------------------------------------------------------
def _check_header(path: PathArg, table: CsvTable) -> Path:
    path = Path(path)
    columns, what, option = table.columns, table.what, table.option
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
        if header == ",".join(MIGRATIONS.columns) and table is TIDY:
            hint = " (this is a migrations CSV: give the tidy CSV, and this one with --migrations)"
        elif header == ",".join(TIDY.columns) and table is MIGRATIONS:
            hint = " (this is the tidy CSV, not the migrations CSV)"
        raise AnalysisError(f"{path}:1: expected the header of {what} ({columns[0]},{columns[1]},...), "
                            f"found {found}{hint}")
    return path


def scan_trace(path: PathArg) -> pl.LazyFrame:
    """The tidy CSV at ``path`` as a lazy frame with :data:`TIDY_SCHEMA` (its header is checked now)."""
    return pl.scan_csv(_check_header(path, TIDY), schema=TIDY_SCHEMA)


def scan_migrations(path: PathArg) -> pl.LazyFrame:
    """The migrations CSV at ``path`` as a lazy frame with :data:`MIGRATIONS_SCHEMA` (header checked now)."""
    return pl.scan_csv(_check_header(path, MIGRATIONS), schema=MIGRATIONS_SCHEMA)


def as_lazy(trace: Trace) -> pl.LazyFrame:
    """The rows of ``trace`` as a lazy frame (a path is scanned)."""
    if isinstance(trace, pl.LazyFrame):
        return trace
    if isinstance(trace, pl.DataFrame):
        return trace.lazy()
    return scan_trace(trace)


def trace_name(trace: Trace | None) -> str:
    """How a message names ``trace``: its path, or ``trace`` for rows."""
    return str(trace) if isinstance(trace, str | os.PathLike) else "trace"


def collect(frame: pl.LazyFrame, trace: Trace | None = None) -> pl.DataFrame:
    """Collect ``frame`` (a query over ``trace``): see :func:`collect_all`."""
    return collect_all([frame], trace)[0]


def collect_all(frames: list[pl.LazyFrame], trace: Trace | None = None) -> list[pl.DataFrame]:
    """Collect ``frames`` together; a polars error (a row that does not parse) becomes an :class:`AnalysisError`."""
    try:
        return pl.collect_all(frames)
    except pl.exceptions.PolarsError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        where = trace_name(trace)
        raise AnalysisError(f"{where}: expected rows of a tidy trace CSV, cannot read them: {first}") from None


def sum_in_order(values: pl.Expr, by: str) -> pl.Expr:
    """The sum of ``values`` (in an aggregation), added in the order of ``by``: the same CSV gives the same
    float to the last bit (a plain ``sum`` adds in whatever order the threads deliver the rows)."""
    return values.sort_by(by).cum_sum().last().fill_null(0.0)


# -- containers, simulated time ---------------------------------------------------------------------------------
def containers(lf: pl.LazyFrame, paje_type: str, key: str) -> pl.LazyFrame:
    """The containers of ``paje_type``: key (their name), host (their parent), c_start, c_end; by start."""
    return (
        lf.filter((pl.col("kind") == "container") & (pl.col("type") == paje_type))
        .select(pl.col("container").alias(key), pl.col("parent").alias("host"), pl.col("start").alias("c_start"),
                pl.col("end").alias("c_end"))
        .sort("c_start", key)
    )


def run_end(lf: pl.LazyFrame) -> pl.LazyFrame:
    """One row, ``simulated_time``: the end of the root container (the run's last date)."""
    root = lf.filter((pl.col("kind") == "container") & (pl.col("depth") == 0))
    return root.select(pl.col("end").max().fill_null(0.0).alias("simulated_time"))


def simulated_time(trace: Trace) -> float:
    """The run's length in seconds: the end of the root container (the summary's ``simulated_time``)."""
    return float(collect(run_end(as_lazy(trace)), trace).item())
