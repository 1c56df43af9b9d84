"""A sweep's results file (Parquet): written as rows come, read back to resume or to analyse.

:class:`ResultsFile` keeps every row and rewrites the whole file, sorted by point, through a temporary file
renamed over it (:func:`tracing.sink.atomic_path`): a reader, or an interruption at any moment (Ctrl-C, SIGTERM,
a killed process), finds the previous complete file or the new one, never a half-written one, so what was done
is never lost. It writes at most once per ``interval`` (1 s; stretched to ten times the last write's duration,
so that rewriting a very large table never costs more than a tenth of the sweep) and when it is closed. A device
or a FIFO (``/dev/null``) is written once, at the end.

:func:`read_results` reads a results file and refuses, in one line, anything else; :func:`numeric` reads a column
of numbers written with SimGrid's units (``30ms``, ``1GBps``) as their values, so that tables and plots sort and
place them by value.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from replay.sweep.table import frame
from replay.units import parse_quantity
from tracing.errors import AnalysisError
from tracing.sink import OutputError, atomic_path, destination

__all__ = ["ResultsFile", "check_output", "numeric", "read_results"]

#: the kinds of quantities :func:`numeric` tries, in order (a bare number is any of them)
UNIT_KINDS = ("time", "size", "bandwidth", "speed", "flops", "power", "energy")


class ResultsFile:
    """The results file at ``path``: ``done`` (an earlier table kept by a resumed sweep) and the rows added."""

    def __init__(self, path: str | os.PathLike[str], kinds: Mapping[str, str], done: pl.DataFrame | None = None,
                 interval: float = 1.0) -> None:
        self.path = Path(path)
        self.kinds = dict(kinds)
        self.through = destination(self.path).through
        self.table = done if done is not None else frame([], self.kinds)
        self.pending: list[dict[str, Any]] = []
        self.base = self.interval = interval
        self.last = time.monotonic()
        #: rows in the file as last written
        self.written = len(self.table) if done is not None else 0

    def add(self, row: Mapping[str, Any]) -> None:
        """Keep ``row``; rewrite the file if the last write is ``interval`` old."""
        self.pending.append(dict(row))
        if not self.through and time.monotonic() - self.last >= self.interval:
            self.flush()

    def flush(self) -> None:
        """Write the file now if rows came since it was last written (or if it was never written)."""
        if self.pending:
            self.table = pl.concat([self.table, frame(self.pending, self.kinds)]).sort("point")
            self.pending = []
        elif self.written == len(self.table) and self.path.exists():
            return
        start = time.monotonic()
        with atomic_path(self.path) as temporary:
            self.table.write_parquet(temporary)
        self.written = len(self.table)
        self.last = time.monotonic()
        self.interval = max(self.base, 10 * (self.last - start))


def read_results(path: str | os.PathLike[str]) -> pl.DataFrame:
    """The table of a results file; anything else is a one-line error naming ``path``."""
    try:
        table = pl.read_parquet(path)
    except FileNotFoundError:
        raise AnalysisError(f"{path}: expected a sweep's results (replay sweep -o FILE.parquet), found no such "
                            f"file") from None
    except (OSError, pl.exceptions.PolarsError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise AnalysisError(f"{path}: expected a sweep's results (a Parquet file), found {reason}") from None
    missing = [name for name in ("point", "status", "error") if name not in table.columns]
    if missing:
        raise AnalysisError(f"{path}: expected a sweep's results (columns point, status, error ...), found a table "
                            f"without {', '.join(missing)}")
    return table


def numeric(column: pl.Series) -> tuple[list[float | None], str | None]:
    """A column's values as numbers, and the kind of quantity they are (None: plain numbers); a column of text
    that is not all quantities of one kind (host names ...) raises :class:`ValueError`."""
    if column.dtype.is_numeric() or column.dtype == pl.Boolean:
        return [None if value is None else float(value) for value in column.to_list()], None
    values = column.to_list()
    for kind in UNIT_KINDS:
        try:
            parsed = [None if value is None else parse_quantity(value, kind) for value in values]
        except ValueError:
            continue
        return parsed, kind
    raise ValueError(f"{column.name} holds text that is not numbers (with SimGrid units)")


def check_output(path: str | os.PathLike[str]) -> None:
    """Refuse a results path that cannot take a Parquet file, before any point runs: a folder, a socket ..., or a
    file name without the ``.parquet`` that ``replay analyze`` and ``replay plot`` know it by."""
    target = Path(path)
    if target.suffix.lower() != ".parquet" and not destination(target).through:
        raise OutputError(f"{target}: expected a .parquet file name for the results, found "
                          f"{target.suffix or 'no suffix'!r}")
    destination(target)

