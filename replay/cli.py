"""The ``replay`` command: run and check action traces, analyse and plot runs.

The only place that wires trace writers to a simulation. Commands are thin: they parse, check paths at the
boundary, call the library and print. Any error of the project's (bad input of every kind, an unreadable file,
an output that would overwrite an input, a deadlock) is one line on stderr, ``path: what was expected, found
what``, and exit code 1; a wrong command line is typer's usage message and exit code 2. The outputs of a run are
committed together (:class:`tracing.sink.CommitGroup`): a failed or interrupted run (Ctrl-C, SIGTERM, SIGHUP:
exit code 128 + the signal) leaves every output as it was, and no temporary file. Devices and FIFOs
(``/dev/null``, ``/dev/stdout``, a named pipe) are written through, never replaced; a link's target is written.
A standard output that cannot take the result table (closed, full) is one line on stderr and exit code 1, after
the outputs are written.
"""

from __future__ import annotations

import enum
import signal
import sys
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from replay.cli_params import Command, Group
from replay.console import err, out
from replay.console import fail as _fail
from replay.console import frame_table as _frame_table
from replay.console import print_out as _print
from replay.errors import ReplayError, unreadable
from replay.sweep.cli import analyze_results, plot_results, sweep
from replay.variables import settings

if TYPE_CHECKING:
    from rich.table import Table

    from replay.session import ReplaySession, RunResult

# What a command needs beyond the command line (the simulation, numpy, rich's tables and progress bars, polars,
# the policies, the importers, the tracers) is imported in the command: a small run starts in a fraction of the
# time, and ``--help`` imports none of it.
app = typer.Typer(
    cls=Group,
    add_completion=False,
    no_args_is_help=True,
    # typer's rich help gives every flag a value it does not take (``--quiet <bool>``); click's plain help shows
    # flags as flags
    rich_markup_mode=None,
)


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
    typer.Argument(metavar="TRACE", help="Action trace(s): one shared file, or one file per actor.",
                   show_default=False),
]
PlatformOpt = Annotated[
    Path | None,
    typer.Option("--platform", "-p", metavar="FILE", help="SimGrid platform XML (default: the embedded platform)."),
]
DeployOpt = Annotated[Path | None, typer.Option("--deploy", "-d", metavar="FILE", help="SimGrid deployment XML.")]
SetOpt = Annotated[
    list[str] | None,
    typer.Option("--set", metavar="NAME=VALUE", help="Give the trace's (and deployment's) $NAME variable this value "
                                                      "(repeatable)."),
]
PolicyOpt = Annotated[
    str | None,
    typer.Option(metavar="NAME[:key=value,...]",
                 help="A policy in the loop: none, first-fit, best-fit, worst-fit, threshold, mad, iqr, lr, lrr, or a "
                      "module:Class of your own (docs/policies.md)."),
]


def _version(asked: bool) -> None:
    if asked:
        from importlib import metadata

        _print(f"vmreplay {metadata.version('vmreplay')}", "the version")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", is_eager=True, callback=_version, help="Print the version and exit.")
    ] = False,
) -> None:
    """Replay VM and actor action traces on a SimGrid platform; trace them as Paje and CSV."""


@app.command(cls=Command)
def run(
    traces: TraceArgs = None,
    platform: PlatformOpt = None,
    deploy: DeployOpt = None,
    summary: Annotated[
        Path | None, typer.Option(metavar="FILE.json", help="Write a JSON summary of the run here.")
    ] = None,
    paje: Annotated[Path | None, typer.Option(metavar="FILE", help="Write a Paje trace (ViTE, PajeNG) here.")] = None,
    csv: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Write the trace as one tidy CSV (polars) here.")
    ] = None,
    migrations: Annotated[
        Path | None, typer.Option(metavar="FILE.csv", help="Write one CSV row per migration here.")
    ] = None,
    actions: Annotated[
        Path | None,
        typer.Option(metavar="FILE.csv", help="Write one CSV row per action here: actor, file, line, action, "
                                              "start, end."),
    ] = None,
    actors: Annotated[
        bool,
        typer.Option("--actors", help="Also trace the actors (their states and communications) in the Paje trace "
                                      "and the CSV."),
    ] = False,
    precision: Annotated[int, typer.Option(min=1, max=17, help="Digits of the times in the Paje trace.")] = 6,
    network_model: Annotated[
        NetworkModelName, typer.Option(case_sensitive=False, help="Network model (any case).")
    ] = NetworkModelName.LV08,
    on_stall: Annotated[
        StallPolicy,
        typer.Option(case_sensitive=False, help="Non-converging migrations: force stop-and-copy, or loop like "
                                                "SimGrid."),
    ] = StallPolicy.force,
    fail_hosts: Annotated[
        str | None,
        typer.Option(metavar="MTBF,MTTR", help="Random host failures: every host goes down after an exponential up "
                                               "time of mean MTBF s, and back up after one of mean MTTR s."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of --fail-hosts (the same seed, the same failures).")] = 0,
    policy: PolicyOpt = None,
    set_: SetOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Replay a trace and print a short result table."""
    from replay.availability import RandomFailures
    from replay.migration import MigrationOptions
    from replay.session import ReplaySession
    from tracing.outputs import check_outputs, summary_json, unwind_on_signals
    from tracing.sink import CommitGroup

    outputs = {"--summary": summary, "--paje": paje, "--csv": csv, "--migrations": migrations, "--actions": actions}
    group = CommitGroup()
    try:
        with unwind_on_signals():
            _check_inputs(traces, platform, deploy)
            session = ReplaySession.open(
                traces or [],
                platform=platform,
                deploy=deploy,
                network_model=network_model.value,
                migration=MigrationOptions(on_stall=on_stall.value),
                random_failures=RandomFailures.parse(fail_hosts, seed) if fail_hosts is not None else None,
                policy=policy,
                variables=settings(set_ or []),
            )
            check_outputs(outputs, _inputs(session, platform, deploy))
            with group:
                with ExitStack() as stack:
                    for sink, subscribe in _sinks(session, outputs, precision=precision, actors=actors):
                        sink.join(group)
                        stack.enter_context(sink)
                        subscribe(sink.emit)
                    result = _run_with_progress(session, quiet)
                if summary is not None:
                    group.write_text(summary, summary_json(result.summary(), summary))
    except KeyboardInterrupt as interrupt:  # Ctrl-C, and SIGTERM or SIGHUP (tracing.outputs.Interrupted)
        signum = getattr(interrupt, "signum", signal.SIGINT)
        written = "the outputs were written" if group.state == "committed" else "no output was written"
        err.print(f"interrupted by {signal.Signals(signum).name}: {written}", markup=False, soft_wrap=True)
        raise typer.Exit(128 + signum) from None
    except ReplayError as error:
        raise _fail(error) from None
    except OSError as error:  # not one of the outputs (they raise OutputError): say what the system said
        raise _fail(ReplayError(f"{error.filename or 'replay run'}: {error.strerror or error}")) from None
    if not quiet:
        _print(_result_table(result), "the result table")


def _check_inputs(traces: list[Path] | None, platform: Path | None, deploy: Path | None) -> None:
    """Refuse an input file that cannot be read, in the project's one-line form, before loading anything."""
    for path, what in [*((trace, "trace file") for trace in traces or []), (platform, "platform file"),
                       (deploy, "deployment file")]:
        if path is not None:
            _readable(path, what)


def _readable(path: Path, what: str) -> None:
    from tracing.sink import describe

    found = unreadable(path, special=True, describe=describe)  # a pipe may feed a trace
    if found:
        raise ReplayError(f"{path}: expected a readable {what}, found {found}")


def _inputs(session: ReplaySession, platform: Path | None, deploy: Path | None) -> list[tuple[str, Any]]:
    """Every file the run reads: the traces (given, or named by the deployment), the platform, the deployment."""
    from importlib import resources

    from replay.platform import DEFAULT_PLATFORM_NAME

    embedded = resources.files("replay.platform") / "data" / DEFAULT_PLATFORM_NAME
    found: list[tuple[str, Any]] = [("trace file", path) for path in session.source.paths]
    found.append(("platform file", platform if platform is not None else str(embedded)))
    if deploy is not None:
        found.append(("deployment file", deploy))
    return found


def _sinks(session: ReplaySession, outputs: dict[str, Path | None], *, precision: int, actors: bool):
    """The writers asked for, each with where it subscribes (imported only when asked: tracing off costs
    nothing): the trace writers to the engine's records, the actions writer to the replayer's."""
    sinks = []
    if (path := outputs["--paje"]) is not None:
        from tracing.paje import PajeWriter

        sinks.append((PajeWriter(path, session.platform, precision=precision, actors=actors),
                      session.sim.engine.subscribe))
    if (path := outputs["--csv"]) is not None:
        from tracing.csv_writer import CsvWriter

        sinks.append((CsvWriter(path, session.platform, actors=actors), session.sim.engine.subscribe))
    if (path := outputs["--migrations"]) is not None:
        from tracing.csv_writer import MigrationsCsvWriter

        sinks.append((MigrationsCsvWriter(path), session.sim.engine.subscribe))
    if (path := outputs["--actions"]) is not None:
        from tracing.actions_csv import ActionsCsvWriter

        sinks.append((ActionsCsvWriter(path), session.replayer.listeners.append))
    return sinks


def _run_with_progress(session: ReplaySession, quiet: bool) -> RunResult:
    total = session.source.total_actions
    if quiet or total < PROGRESS_MIN_ACTIONS or not sys.stderr.isatty():
        return session.run()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("replay", total=total)
        step = max(total // 200, 1)

        def advance(done) -> None:
            if session.replayer.actions_done % step == 0:
                progress.update(task, completed=session.replayer.actions_done)

        session.replayer.listeners.append(advance)
        return session.run()


def _result_table(result: RunResult) -> Table:
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    counts = result.counts
    rate = counts["events"] / result.wall_time if result.wall_time > 0 else float("inf")
    forced = sum(1 for migration in result.migrations if not migration["converged"])
    end = result.simulated_time
    table.add_row("simulated time", f"{end:.6f} s" if end < 1e15 else f"{end:.9g} s")  # no 300-digit dates
    table.add_row("actors", str(counts["actors"]) + _outcomes(a["status"] for a in result.actors.values()))
    table.add_row("VMs", str(counts["vms"]) + _outcomes("lost" for v in result.vms.values() if v["state"] == "DESTROYED"
                                                         and v.get("lost")))
    table.add_row("migrations", str(counts["migrations"]) + _outcomes(m["status"] for m in result.migrations))
    if forced:
        table.add_row("forced stop-and-copy", str(forced))
    table.add_row("actions", str(counts["actions"]))
    if result.energy is not None:
        table.add_row("energy", _joules(result.energy["total"]))
    if result.sla is not None:
        table.add_row("SLATAH, PDM", f"{result.sla['slatah']:.4%}, {result.sla['pdm']:.4%}")
        table.add_row("SLAV", f"{result.sla['slav']:.3g}")
    table.add_row("wall time", f"{result.wall_time:.3f} s")
    table.add_row("events per second", f"{rate:,.0f}")
    return table


def _outcomes(statuses: Iterable[str]) -> str:
    """`` (2 killed, 1 failed)``: how many ended otherwise than done, in a fixed order; empty if none did."""
    counts = Counter(statuses)
    shown = [f"{counts[s]} {s}" for s in ("killed", "failed", "blocked", "aborted", "lost") if counts[s]]
    return f" ({', '.join(shown)})" if shown else ""


def _joules(value: float) -> str:
    """Joules for a person: J, kJ, MJ or GJ, three significant digits."""
    for unit, scale in (("GJ", 1e9), ("MJ", 1e6), ("kJ", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g} J"


@app.command("validate", cls=Command)
def validate_cmd(traces: TraceArgs = None, platform: PlatformOpt = None, deploy: DeployOpt = None,
                 policy: PolicyOpt = None, set_: SetOpt = None) -> None:
    """Check a trace without running it: syntax, names, messages that can never match, VM operation order."""
    from replay.session import validate

    try:
        _check_inputs(traces, platform, deploy)
        actors, actions = validate(traces or [], platform=platform, deploy=deploy, policy=policy,
                                   variables=settings(set_ or []))
    except ReplayError as error:
        raise _fail(error) from None
    _print(f"ok: {actions} actions of {actors} actors", "the result")


# -- import a public workload dataset (replay.workloads) ---------------------------------------------------------------
class ImportFormat(enum.StrEnum):
    planetlab = "planetlab"
    azure = "azure"
    bitbrains = "bitbrains"
    swf = "swf"


class PlaceChoice(enum.StrEnum):
    round_robin = "round-robin"
    first_fit = "first-fit"
    auto = "auto"


@app.command("import", cls=Command)
def import_cmd(
    fmt: Annotated[ImportFormat, typer.Argument(metavar="FORMAT", help="planetlab, azure, bitbrains or swf.",
                                                show_default=False)],
    inputs: Annotated[list[Path], typer.Argument(
        metavar="INPUT...", show_default=False,
        help="planetlab, bitbrains: a folder of VM files (or the files); azure: vmtable.csv (then readings files, "
             "with --readings); swf: the log.")],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="OUT.trace", show_default=False,
                                         help="The action trace to write (atomically: a failed import leaves none).")],
    readings: Annotated[list[Path] | None, typer.Option(
        metavar="FILE...", help="azure: the vm_cpu_readings files, in time order (the INPUTs after vmtable.csv "
                                "join them).")] = None,
    platform: PlatformOpt = None,
    pms: Annotated[str | None, typer.Option(metavar="GLOB", help="The hosts that are PMs (default: every host; pm-* "
                                                                 "on the embedded platform).")] = None,
    place: Annotated[PlaceChoice, typer.Option(help="How VMs get PMs (see docs/workloads.md).")] = (
        PlaceChoice.round_robin),
    vms: Annotated[int | None, typer.Option(min=1, metavar="N", help="Keep the first N VMs (dataset order).")] = None,
    seed: Annotated[int | None, typer.Option(help="With --vms: a uniform sample of N VMs, drawn with this seed.")] = (
        None),
    start: Annotated[str, typer.Option(metavar="T", help="Start of the window: seconds (or 2h, 1d) from the "
                                                         "dataset's origin; it becomes date 0.")] = "0",
    duration: Annotated[str | None, typer.Option(metavar="T", help="Length of the window (default: to the end).",
                                                 show_default=False)] = None,
    speed: Annotated[str | None, typer.Option(
        metavar="FLOPS", help="The flop/s of one MHz (bitbrains) or MIPS (--vm-types): demands become absolute.",
        show_default=False)] = None,
    ram: Annotated[str, typer.Option(metavar="SIZE", help="Memory of a VM whose dataset gives none.")] = "1GiB",
    vm_types: Annotated[str | None, typer.Option(
        metavar="MIPS:RAM,...", help="planetlab: VM types given round-robin, e.g. 2500:870MiB,500:613MiB (with "
                                     "--speed).", show_default=False)] = None,
    vm_options: Annotated[str | None, typer.Option(
        metavar="KEY=VALUE,...", help="vm_create options for every VM, e.g. dp_intensity=0.3,mig_speed=1Gbps.",
        show_default=False)] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Turn a public workload dataset into an action trace: one actor per VM, a load per sample."""
    from replay.platform import default_platform, load_platform, pms_glob
    from replay.workloads import import_workload, open_dataset
    from replay.workloads.options import parse_options, report_rows
    from tracing.outputs import check_outputs, unwind_on_signals
    from tracing.sink import AtomicTextFile

    try:
        with unwind_on_signals():
            _check_inputs(None, platform, None)
            options = parse_options(place=place.value, vms=vms, seed=seed, start=start, duration=duration, speed=speed,
                                    ram=ram, vm_types=vm_types, pms=pms_glob(pms, platform is not None),
                                    vm_options=vm_options)
            extra = inputs[1:] if fmt is ImportFormat.azure and readings else []  # --readings r1 r2 ...
            dataset = open_dataset(fmt.value, inputs[:1] if extra else inputs, options,
                                   readings=[*(readings or []), *extra])
            plat = load_platform(platform) if platform is not None else default_platform()
            read = [("dataset file", path) for path in dataset.files()]
            check_outputs({"--output": output}, [*read, *([("platform file", platform)] if platform else [])])
            with AtomicTextFile(output) as stream:
                report = import_workload(dataset, stream, plat)
    except KeyboardInterrupt as interrupt:
        signum = getattr(interrupt, "signum", signal.SIGINT)
        err.print(f"interrupted by {signal.Signals(signum).name}: no output was written", markup=False, soft_wrap=True)
        raise typer.Exit(128 + signum) from None
    except ReplayError as error:
        raise _fail(error) from None
    except OSError as error:
        raise _fail(ReplayError(f"{error.filename or 'replay import'}: {error.strerror or error}")) from None
    if not quiet:
        from rich.table import Table

        table = Table(show_header=False, box=None, pad_edge=False)
        table.add_column(style="bold")
        table.add_column(justify="right")
        for row in report_rows(report):
            table.add_row(*row)
        _print(table, "the result table")


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
    power = "power"
    hosts = "hosts"
    all = "all"


#: The reports ``--what all`` leaves out when their summary is empty: energy, on a platform without wattages (the
#: runs of most platforms), failures, for a run where nothing went off, and sla, for a run without a policy, so
#: that ``all`` prints for them what it printed before energy, failures and policies were modelled; asked by name
#: (``--what energy``), an empty report still says why it is empty.
ALL_SKIPS_EMPTY = ("energy", "failures", "sla")


TidyCsvArg = Annotated[
    Path, typer.Argument(metavar="OUT.csv", help="The tidy CSV of a run (replay run --csv), or a sweep's results "
                                                 "(replay sweep -o RESULTS.parquet).", show_default=False)
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

@app.command(cls=Command)
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
    """Summarize a run from its CSV: migrations, time per VM state, mean utilization, actor activity, energy,
    failures, the SLA of a policy in the loop. Print a sweep's results (RESULTS.parquet) as a table."""
    from tracing import analysis, reports

    if csv.suffix.lower() == ".parquet":  # a sweep's results
        _runs_only(csv, {"--what": what != "all", "--migrations": migrations, "--platform": platform,
                         "--trace": trace, "--parquet": parquet})
        return analyze_results(csv, output_format.value)

    try:
        cores = analysis.vm_cores(trace) if trace else None
        frames = analysis.report(csv, what=str(what), migrations_csv=migrations, platform=platform, vm_cores=cores)
        if str(what) == "all":
            frames = _skip_empty(frames)
        written = analysis.write_parquet(frames, parquet) if parquet is not None else []
    except ReplayError as error:
        raise _fail(error) from None
    shown = reports.tables(frames)
    if output_format is OutputFormat.json:
        import json

        data = {"simulated_time": frames["run"]["simulated_time"].item()}
        data.update({name: frame.to_dicts() for name, _, frame, _ in shown})
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    elif output_format is OutputFormat.csv:
        for name, _, frame, _ in shown:
            if len(shown) > 1:
                sys.stdout.write(f"# {name}\n")
            sys.stdout.write(frame.write_csv())
            if len(shown) > 1:
                sys.stdout.write("\n")
    else:
        out.print(f"simulated time {frames['run']['simulated_time'].item():.6f} s")
        for _, title, frame, shape in shown:
            table, note = shape(frame)
            out.print()
            out.print(_frame_table(title, table, note))
    for path in written:
        err.print(f"wrote {path}", markup=False, soft_wrap=True)


def _skip_empty(frames: dict[str, Any]) -> dict[str, Any]:
    """``frames`` without those of the reports of :data:`ALL_SKIPS_EMPTY` whose summary is empty."""
    from tracing.reports import REPORTS

    skipped: set[str] = set()
    for name in ALL_SKIPS_EMPTY:
        report = REPORTS.get(name)
        if report is not None and report.summary in frames and frames[report.summary].is_empty():
            skipped.update(report.frames)
    return {name: frame for name, frame in frames.items() if name not in skipped}


@app.command(cls=Command)
def plot(
    csv: TidyCsvArg,
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FILE", help="The picture to write: .png, .svg or .pdf.",
                     show_default=False),
    ],
    what: Annotated[
        PlotWhat,
        typer.Option(help="Gantt chart of VM states, host utilization, power (platforms with wattages), hosts on and "
                          "total power with a policy's switches, or all: the first two, and the stacked power when "
                          "the run has some."),
    ] = PlotWhat.all,
    migrations: MigrationsOpt = None,
    platform: CapacityPlatformOpt = None,
    width: Annotated[
        float | None, typer.Option(min=1.0, max=200.0, help="Width in inches (default: 12).", show_default=False)
    ] = None,
    height: Annotated[
        float | None,
        typer.Option(min=1.0, max=200.0, help="Height in inches (default: 6, 8 for power, 11 for all; taller shows "
                                              "more VMs).", show_default=False),
    ] = None,
    dpi: Annotated[int, typer.Option(min=10, max=1200, help="Dots per inch (the pixels of a PNG).")] = 100,
    x: Annotated[str | None, typer.Option("--x", metavar="COLUMN", show_default=False,
                                          help="Sweep results: the variable or option along x.")] = None,
    y: Annotated[str | None, typer.Option("--y", metavar="METRIC", show_default=False,
                                          help="Sweep results: the metric along y (downtime_max ...).")] = None,
    hue: Annotated[str | None, typer.Option("--hue", metavar="COLUMN", show_default=False,
                                            help="Sweep results: one line per value of this column.")] = None,
) -> None:
    """Draw a run from its CSV: VM states per PM with the migrations, host utilization, power over time, hosts on.
    Draw a metric of a sweep's results (RESULTS.parquet) against a variable: --x, --y, --hue."""
    if csv.suffix.lower() == ".parquet":  # a sweep's results
        _runs_only(csv, {"--what": what is not PlotWhat.all, "--migrations": migrations, "--platform": platform})
        return plot_results(csv, output, x=x, y=y, hue=hue, size=(width or 8.0, height or 5.0), dpi=dpi)
    for option, value in (("--x", x), ("--y", y), ("--hue", hue)):
        if value is not None:
            raise _fail(ReplayError(f"{option}: expected with a sweep's results (RESULTS.parquet), found the CSV of "
                                    f"a run ({csv})"))
    try:
        from tracing.plots import SIZES
        from tracing.plots import plot as draw

        default_width, default_height = SIZES[what.value]
        size = (width or default_width, height or default_height)
        path = draw(csv, output, what=what.value, migrations_csv=migrations, platform=platform, size=size, dpi=dpi)
    except ReplayError as error:
        raise _fail(error) from None
    out.print(f"wrote {path}", markup=False, soft_wrap=True)


def _runs_only(path: Path, given: dict[str, Any]) -> None:
    """Refuse the options of a run's CSV given with a sweep's results."""
    for option, value in given.items():
        if value not in (None, False):
            raise _fail(ReplayError(f"{option}: expected with the CSV of a run, found a sweep's results ({path})"))


app.command("sweep", cls=Command)(sweep)
