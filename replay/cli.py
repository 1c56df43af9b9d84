"""The ``replay`` command: run and check action traces, analyse and plot runs.

The only place that wires trace writers to a simulation. Commands are thin: they parse, check paths at the
boundary, call the library and print. Any error of the project's (bad input of every kind, a deadlock) is one
line on stderr and exit code 1; usage errors are typer's, exit code 2. Output files are written atomically, so a
failed run leaves none of them behind, half-written or not.
"""

from __future__ import annotations

import enum
import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from replay.errors import ReplayError
from replay.migration import MigrationOptions
from replay.session import ReplaySession, RunResult, validate

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Replay VM and actor action traces on a SimGrid platform; trace them as Paje and CSV.",
)
err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

#: a run with at least this many actions shows a progress bar
PROGRESS_MIN_ACTIONS = 20_000


class NetworkModelName(enum.StrEnum):
    LV08 = "LV08"
    CM02 = "CM02"
    raw = "raw"


class StallPolicy(enum.StrEnum):
    force = "force"
    simgrid = "simgrid"


TraceArgs = Annotated[
    list[Path] | None,
    typer.Argument(help="Action trace(s): one shared file, or one file per actor.", show_default=False),
]
PlatformOpt = Annotated[
    Path | None, typer.Option("--platform", "-p", help="SimGrid platform XML (default: the embedded platform).")
]
DeployOpt = Annotated[Path | None, typer.Option("--deploy", "-d", help="SimGrid deployment XML.")]


def _fail(error: ReplayError) -> typer.Exit:
    err.print(str(error), markup=False, soft_wrap=True)
    return typer.Exit(1)


@app.command()
def run(
    traces: TraceArgs = None,
    platform: PlatformOpt = None,
    deploy: DeployOpt = None,
    summary: Annotated[Path | None, typer.Option(help="Write a JSON summary of the run here.")] = None,
    paje: Annotated[Path | None, typer.Option(help="Write a Paje trace (ViTE, PajeNG) here.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the trace as one tidy CSV (polars) here.")] = None,
    migrations: Annotated[Path | None, typer.Option(help="Write one CSV row per migration here.")] = None,
    precision: Annotated[int, typer.Option(min=1, max=17, help="Digits of the times in the Paje trace.")] = 6,
    network_model: Annotated[NetworkModelName, typer.Option(help="Network model.")] = NetworkModelName.LV08,
    on_stall: Annotated[
        StallPolicy, typer.Option(help="Non-converging migrations: force stop-and-copy, or loop like SimGrid.")
    ] = StallPolicy.force,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Replay a trace and print a short result table."""
    try:
        _prepare_outputs(summary, paje, csv, migrations)
        session = ReplaySession.open(
            traces or [],
            platform=platform,
            deploy=deploy,
            network_model=network_model.value,
            migration=MigrationOptions(on_stall=on_stall.value),
        )
        with ExitStack() as stack:
            for sink in _sinks(session, paje=paje, csv=csv, migrations=migrations, precision=precision):
                stack.enter_context(sink)
                session.sim.engine.subscribe(sink.emit)
            result = _run_with_progress(session, quiet)
        if summary is not None:
            _write_json(summary, result.summary())
    except ReplayError as error:
        raise _fail(error) from None
    except OSError as error:  # an output that cannot be written: nothing is left under its name
        raise _fail(ReplayError(f"{error.filename or ''}: cannot write: {error.strerror or error}")) from None
    if not quiet:
        _print_result(result)


def _prepare_outputs(*paths: Path | None) -> None:
    """Create the folders of the output files; refuse an output that is a folder or the same file twice."""
    chosen = [path for path in paths if path is not None]
    if len({path.resolve() for path in chosen}) != len(chosen):
        raise ReplayError("expected a different file for each output, found the same one twice")
    for path in chosen:
        if path.is_dir():
            raise ReplayError(f"{path}: expected an output file, found a folder")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ReplayError(f"{path.parent}: cannot create the output folder: {error.strerror or error}") from None


def _sinks(session: ReplaySession, *, paje: Path | None, csv: Path | None, migrations: Path | None, precision: int):
    """The trace writers asked for (imported only when asked: tracing off costs nothing)."""
    sinks = []
    if paje is not None:
        from tracing.paje import PajeWriter

        sinks.append(PajeWriter(paje, session.platform, precision=precision))
    if csv is not None:
        from tracing.csv_writer import CsvWriter

        sinks.append(CsvWriter(csv, session.platform))
    if migrations is not None:
        from tracing.csv_writer import MigrationsCsvWriter

        sinks.append(MigrationsCsvWriter(migrations))
    return sinks


def _run_with_progress(session: ReplaySession, quiet: bool) -> RunResult:
    total = session.source.total_actions
    if quiet or total < PROGRESS_MIN_ACTIONS or not sys.stderr.isatty():
        return session.run()
    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("replay", total=total)
        step = max(total // 200, 1)

        def advance(done) -> None:
            if session.replayer.actions_done % step == 0:
                progress.update(task, completed=session.replayer.actions_done)

        session.replayer.listeners.append(advance)
        return session.run()


def _print_result(result: RunResult) -> None:
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    counts = result.counts
    rate = counts["events"] / result.wall_time if result.wall_time > 0 else float("inf")
    table.add_row("simulated time", f"{result.simulated_time:.6f} s")
    table.add_row("actors", str(counts["actors"]))
    table.add_row("VMs", str(counts["vms"]))
    table.add_row("migrations", str(counts["migrations"]))
    table.add_row("actions", str(counts["actions"]))
    table.add_row("wall time", f"{result.wall_time:.3f} s")
    table.add_row("events per second", f"{rate:,.0f}")
    out.print(table)


def _write_json(path: Path, data: dict) -> None:
    from tracing.sink import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False) + "\n")


@app.command("validate")
def validate_cmd(traces: TraceArgs = None, platform: PlatformOpt = None, deploy: DeployOpt = None) -> None:
    """Check a trace (syntax, actor and host names, VM operation order) without running it."""
    try:
        actors, actions = validate(traces or [], platform=platform, deploy=deploy)
    except ReplayError as error:
        raise _fail(error) from None
    out.print(f"ok: {actions} actions of {actors} actors")


def main() -> None:  # pragma: no cover - the console script
    app()


# -- analyse and plot a run (tracing.analysis, tracing.plots) ----------------------------------------------------------
def analyze_what() -> type[enum.StrEnum]:
    """The ``--what`` choices of ``replay analyze``: the reports of :mod:`tracing.reports`, then ``all``.

    Called in ``analyze``'s annotation, which typer evaluates whenever it builds the command, so a report
    registered at any time is offered. Listing the registry does not import polars: ``replay run`` starts as
    fast as before.
    """
    from tracing.reports import listed

    return enum.StrEnum("AnalyzeWhat", [(name, name) for name in (*(report.name for report in listed()), "all")])


class OutputFormat(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class PlotWhat(enum.StrEnum):
    gantt = "gantt"
    utilization = "utilization"
    all = "all"


TidyCsvArg = Annotated[
    Path, typer.Argument(metavar="OUT.csv", help="The tidy CSV of a run (replay run --csv).", show_default=False)
]
MigrationsOpt = Annotated[
    Path | None,
    typer.Option(metavar="FILE", help="The run's migrations CSV (default: <stem>.migrations.csv or migrations.csv "
                                      "beside the CSV)."),
]
CapacityPlatformOpt = Annotated[
    Path | None,
    typer.Option("--platform", "-p", metavar="FILE", help="Platform of the run, for capacities (default: the "
                                                          "embedded one if the run used it)."),
]
ActionTraceOpt = Annotated[
    list[Path] | None,
    typer.Option("--trace", "-t", metavar="FILE", help="The action trace(s) the run replayed: the cores of its "
                                                       "VMs, for their capacities (repeat for one file per actor)."),
]

@app.command()
def analyze(
    csv: TidyCsvArg,
    what: Annotated[analyze_what(), typer.Option(help="What to summarize.")] = "all",
    output_format: Annotated[OutputFormat, typer.Option("--format", "-f", help="How to print it.")] = (
        OutputFormat.table
    ),
    migrations: MigrationsOpt = None,
    platform: CapacityPlatformOpt = None,
    trace: ActionTraceOpt = None,
    parquet: Annotated[
        Path | None,
        typer.Option(metavar="DIR", help="Also write every frame (summaries and details) as DIR/<name>.parquet."),
    ] = None,
) -> None:
    """Summarize a run from its CSV: migrations, time per VM state, mean utilization, actor activity."""
    from tracing import analysis, reports

    try:
        cores = analysis.vm_cores(trace) if trace else None
        frames = analysis.report(csv, what=str(what), migrations_csv=migrations, platform=platform, vm_cores=cores)
        written = analysis.write_parquet(frames, parquet) if parquet is not None else []
    except ReplayError as error:
        raise _fail(error) from None
    summaries = reports.summaries(frames)
    if output_format is OutputFormat.json:
        data = {"simulated_time": frames["run"]["simulated_time"].item()}
        data.update({report.summary: frame.to_dicts() for report, frame in summaries})
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        for report, frame in summaries:
            if len(summaries) > 1:
                sys.stdout.write(f"# {report.summary}\n")
            sys.stdout.write(frame.write_csv())
            if len(summaries) > 1:
                sys.stdout.write("\n")
    else:
        out.print(f"simulated time {frames['run']['simulated_time'].item():.6f} s")
        for report, frame in summaries:
            shown, note = report.shown(frame)
            out.print()
            out.print(_frame_table(report.title or report.summary, shown, note))
    for path in written:
        err.print(f"wrote {path}", markup=False, soft_wrap=True)


def _frame_table(title: str, frame, note: str) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", box=None, pad_edge=False,
                  caption=note or None, caption_justify="left")
    for name, dtype in frame.schema.items():
        values = frame[name].drop_nulls().to_list()
        numbers = dtype.is_numeric() or (bool(values) and all(_is_quantity(value) for value in values))
        table.add_column(name, justify="right" if numbers else "left")
    for row in frame.iter_rows(named=True):
        table.add_row(*(_cell(name, value) for name, value in row.items()))
    if frame.is_empty():
        table.caption = "none in this trace"
    return table


def _is_quantity(value: object) -> bool:
    """Whether ``value`` is a quantity a table function wrote for people (``1.47 Gf/s``): right-aligned."""
    if not isinstance(value, str):
        return False
    number, _, unit = value.partition(" ")
    try:
        float(number)
    except ValueError:
        return False
    return " " not in unit and not unit[:1].isdigit()


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if name.endswith("%"):
        return f"{value:.1f}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


@app.command()
def plot(
    csv: TidyCsvArg,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FILE", help="The picture to write: .png, .svg or .pdf.",
                     show_default=False),
    ],
    what: Annotated[PlotWhat, typer.Option(help="Gantt chart of VM states, host utilization, or both.")] = (
        PlotWhat.all
    ),
    migrations: MigrationsOpt = None,
    platform: CapacityPlatformOpt = None,
    width: Annotated[
        float | None, typer.Option(min=1.0, max=200.0, help="Width in inches (default: 12).", show_default=False)
    ] = None,
    height: Annotated[
        float | None,
        typer.Option(min=1.0, max=200.0, help="Height in inches (default: 6, 11 for all; taller shows more VMs).",
                     show_default=False),
    ] = None,
    dpi: Annotated[int, typer.Option(min=10, max=1200, help="Dots per inch (the pixels of a PNG).")] = 100,
) -> None:
    """Draw a run from its CSV: VM states per PM with the migrations, host utilization over time."""
    try:
        from tracing.plots import SIZES
        from tracing.plots import plot as draw

        default_width, default_height = SIZES[what.value]
        size = (width or default_width, height or default_height)
        path = draw(csv, output, what=what.value, migrations_csv=migrations, platform=platform, size=size, dpi=dpi)
    except ReplayError as error:
        raise _fail(error) from None
    out.print(f"wrote {path}", markup=False, soft_wrap=True)
