"""``replay sweep``, and ``replay analyze`` and ``replay plot`` of a sweep's results (a ``.parquet`` file).

``replay.cli`` registers the command and dispatches to the two others on the file's suffix; this module never
imports it (no circle), and imports polars, Dask and matplotlib only when a command runs. A sweep is checked
whole before any point runs (one line, exit code 1, for any mistake), its rows are written as they come
(:class:`tracing.sweep_results.ResultsFile`), and an interruption (Ctrl-C, SIGTERM, SIGHUP: exit code 128 + the
signal) stops the workers and leaves the file with every row done, for ``--resume``.
"""

from __future__ import annotations

import contextlib
import json
import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from replay.console import err, fail, frame_table, print_out
from replay.errors import ReplayError

if TYPE_CHECKING:
    import polars as pl

    from replay.sweep.check import Plan
    from replay.sweep.spec import Spec

__all__ = ["analyze_results", "plot_results", "sweep"]

#: the characters of an error or a warning the results table shows (--format csv or json: all of them)
WIDEST = 40


def sweep(
    spec_file: Annotated[Path, typer.Argument(metavar="SWEEP.toml", help="The sweep file (docs/sweeps.md).",
                                              show_default=False)],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="RESULTS.parquet", show_default=False,
        help="The results table, one row per point, written as points finish.")] = None,
    jobs: Annotated[int | None, typer.Option(
        min=1, metavar="N", help="Local worker processes (default: one per CPU).", show_default=False)] = None,
    dask: Annotated[str | None, typer.Option(
        metavar="ADDRESS", help="Run on Dask: a scheduler's address (tcp://host:8786), or local[:N] for a local "
                                "cluster of N worker processes.")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Keep the rows RESULTS.parquet holds and run only the other points.")] = False,
    retry_errors: Annotated[bool, typer.Option(
        "--retry-errors", help="With --resume: run the points of its error rows again too.")] = False,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Check the sweep and list its points; run nothing.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Run every point of a sweep file (a grid of variables and options) as its own simulation; one table out."""
    from replay.sweep import load, prepare
    from tracing.outputs import unwind_on_signals

    state: dict[str, Any] = {}  # the results file, once open: what an interruption reports
    try:
        with unwind_on_signals():
            spec = load(spec_file)
            if dry_run:
                _list_points(prepare(spec), quiet)
                return
            if output is None:
                raise ReplayError("--output: expected the results file (-o RESULTS.parquet), found none (--dry-run "
                                  "runs nothing)")
            if jobs is not None and dask is not None:
                raise ReplayError(f"--jobs {jobs} --dask {dask}: expected one backend, found both (a Dask cluster "
                                  f"has its own number of workers)")
            if retry_errors and not resume:
                raise ReplayError("--retry-errors: expected with --resume, found without")
            _run(spec_file, spec, output, jobs, dask, (resume, retry_errors), quiet, state)
    except KeyboardInterrupt as interrupt:
        signum = getattr(interrupt, "signum", signal.SIGINT)
        raise _interrupted(signum, state.get("results"), output) from None
    except ReplayError as error:
        raise fail(error) from None
    except OSError as error:
        raise fail(ReplayError(f"{error.filename or 'replay sweep'}: {error.strerror or error}")) from None


def _run(spec_file: Path, spec: Spec, output: Path, jobs: int | None, dask: str | None, resume: tuple[bool, bool],
         quiet: bool, state: dict[str, Any]) -> None:
    """Check, run and write (the results file in ``state``, for the message of an interruption)."""
    from rich.text import Text

    from replay.sweep import prepare, run
    from replay.sweep.cluster import connect
    from replay.sweep.table import kept
    from tracing.outputs import check_outputs
    from tracing.sweep_results import ResultsFile, check_output, read_results

    check_output(output)
    inputs = [("sweep file", spec_file), *(("trace file", spec.path(name)) for name in spec.traces)]
    inputs += [(f"{key} file", spec.path(point.options[key])) for point in spec.points
               for key in ("platform", "deploy") if point.options.get(key)]
    check_outputs({"--output": output}, inputs)
    plan = prepare(spec)
    done = read_results(output) if resume[0] and output.exists() else None
    if done is not None:
        try:
            kept(done, spec, plan.columns)
        except ReplayError as error:
            raise ReplayError(f"{output}: {error}") from None
        if resume[1]:
            done = done.filter(done["status"] == "ok")
    results = state["results"] = ResultsFile(output, plan.columns, done)
    start = time.perf_counter()
    errors: dict[int, str] = {}  # of the points run now: the first one (by number) is printed
    with _progress(len(spec.points), len(done) if done is not None else 0, quiet) as advance, (
            connect(dask) if dask is not None else contextlib.nullcontext()) as client:
        def on_row(row: dict[str, Any]) -> None:
            if row["status"] == "error":
                errors[row["point"]] = row["error"]
            results.add(row)
            advance(row["status"] == "error")

        table = run(plan, client, jobs=jobs, done=done, on_row=on_row)
        results.flush()
    ok = table.filter(table["status"] == "ok").height
    if not quiet:
        kept_note = f" ({len(done)} kept from the earlier run)" if done is not None else ""
        print_out(Text(f"{_count(table.height, 'point')}: {ok} ok, {_errors(table.height - ok)}, wall time "
                       f"{time.perf_counter() - start:.1f} s{kept_note}; results in {output}"), "the summary",
                  whole=True)
    if errors:
        first = min(errors)
        err.print(f"first error: {plan.spec.points[first].label()}: {errors[first]}", markup=False, soft_wrap=True)
    if table.height and not ok:
        raise typer.Exit(1)


@contextlib.contextmanager
def _progress(total: int, done: int, quiet: bool) -> Any:
    """A progress bar on a terminal's stderr (points done, failed, rate, time left); ``advance(failed)``."""
    if quiet or not sys.stderr.isatty():
        yield lambda failed: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("sweep"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[failed]} failed"),
               TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), TimeElapsedColumn())
    start = time.perf_counter()
    failures = [0, 0]  # failed, run now
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("sweep", total=total, completed=done, failed=0, rate="")

        def advance(failed: bool) -> None:
            failures[0] += failed
            failures[1] += 1
            rate = failures[1] / max(time.perf_counter() - start, 1e-9)
            progress.update(task, advance=1, failed=failures[0], rate=f"{rate:.1f} points/s")

        yield advance


def _interrupted(signum: int, results: Any, output: Path | None) -> typer.Exit:
    if results is not None:
        with contextlib.suppress(ReplayError, OSError):
            results.flush()
    written = (f"{output} holds {_count(results.written, 'point')}; --resume runs the others"
               if results is not None else "no point had run")
    err.print(f"interrupted by {signal.Signals(signum).name}: {written}", markup=False, soft_wrap=True)
    return typer.Exit(128 + signum)


def _list_points(plan: Plan, quiet: bool) -> None:
    """``--dry-run``: the points, and what the validation of each combination found."""
    import polars as pl
    from rich.text import Text

    from replay.sweep.table import schema

    spec = plan.spec
    data: dict[str, list[Any]] = {"point": [point.number for point in spec.points]}
    data.update({name: [point.values.get(name) for point in spec.points] for name in spec.columns})
    validated = set(plan.validated)
    data["validation"] = [plan.invalid[p.number]["error"] if p.number in plan.invalid else
                          "ok" if p.number in validated else "" for p in spec.points]
    table = pl.DataFrame(data, schema={**schema({"point": "int", **spec.columns}), "validation": pl.String})
    count = len(plan.validated)
    note = (f"{_count(len(spec.points), 'point')}, {count} validated (the first of each combination of files, "
            f"platform, policy and variable names), {len(plan.invalid)} failed; nothing ran (--dry-run)")
    if not quiet:
        print_out(frame_table("", table, ""), "the points", whole=True)
        print_out(Text(note), "the points", whole=True)


# -- replay analyze / replay plot RESULTS.parquet ----------------------------------------------------------------------
def analyze_results(path: Path, output_format: str) -> None:
    """Print a sweep's results: a table (without the summaries, nor an error or warnings column that is empty), or
    every column as CSV or JSON."""
    from tracing.sweep_results import read_results

    try:
        table = read_results(path)
    except ReplayError as error:
        raise fail(error) from None
    if output_format == "csv":
        print_out_raw(table.write_csv())
    elif output_format == "json":
        print_out_raw(json.dumps(table.to_dicts(), indent=2) + "\n")
    else:
        print_out(_results_table(path, table), "the results", whole=True)


def _results_table(path: Path, table: pl.DataFrame) -> Any:
    import polars as pl
    from rich.console import Group
    from rich.text import Text

    ok = table.filter(pl.col("status") == "ok").height
    present = [name for name in ("error", "warnings") if name in table.columns]
    texts = [name for name in present if table[name].null_count() < table.height]
    empty = [name for name in present if name not in texts]
    shown = table.drop("summary", *empty, strict=False).with_columns(
        pl.col(name).str.slice(0, WIDEST) + pl.when(pl.col(name).str.len_chars() > WIDEST).then(pl.lit("…"))
        .otherwise(pl.lit("")) for name in texts)
    note = Text(f"{path}: {_count(table.height, 'point')}, {ok} ok, {_errors(table.height - ok)}")
    return Group(frame_table("", shown, ""), note)


def print_out_raw(text: str) -> None:
    """Machine-readable output (CSV, JSON): written as it is, a broken stdout one line."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as error:
        raise fail(ReplayError(f"<stdout>: expected to take the results, found {error.strerror or error}")) from None


def plot_results(path: Path, output: Path, *, x: str | None, y: str | None, hue: str | None,
                 size: tuple[float, float], dpi: int) -> None:
    """Draw a metric of a sweep against a variable (``replay plot RESULTS.parquet --x VAR --y METRIC``)."""
    try:
        if x is None or y is None:
            raise ReplayError(f"--{'x' if x is None else 'y'}: expected a column of {path} to plot "
                              f"({'a variable or option' if x is None else 'a metric'}), found none")
        from tracing.sweep_plot import plot_results as draw

        written = draw(path, output, x=x, y=y, hue=hue, size=size, dpi=dpi)
    except ReplayError as error:
        raise fail(error) from None
    print_out(f"wrote {written}", "the result")


def _errors(count: int) -> str:
    return _count(count, "error")


def _count(count: int, what: str) -> str:
    return f"{count} {what}" if count == 1 else f"{count} {what}s"
