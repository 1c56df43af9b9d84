"""The registry of reports (``tracing.reports``): a report declared once is computed by ``report()`` and offered,
printed and exported by ``replay analyze``; listing the reports, as every command of the CLI does, never imports
polars.

The report declared here lists the hosts of the golden lifecycle run (``tests/golden/tracing/lifecycle.csv``):
pm0, pm1 and ctl, whose ``HOST`` containers last the whole run, 13.8003 s, as its root container does.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import polars as pl
import pytest
from typer.testing import CliRunner

from replay.cli import app
from tests.helpers import REPO
from tracing import analysis
from tracing.reports import REPORTS, Inputs, Lazy, Plan, Report, chosen, human, register

LIFECYCLE = REPO / "tests" / "golden" / "tracing" / "lifecycle.csv"
runner = CliRunner()


def hosts_plan(trace: pl.LazyFrame, inputs: Inputs) -> Plan:
    hosts = trace.filter((pl.col("kind") == "container") & (pl.col("type") == "HOST"))
    return Plan({"hosts": hosts.select(pl.col("container").alias("host"), "duration").sort("host")})


def hosts_table(frame: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    return frame.rename({"duration": "alive"}), "seconds"


@pytest.fixture
def hosts():
    """A report declared once, in the registry for the test only."""
    report = register(Report(name="hosts", needs=("HOST",), frames=("hosts",), plan=hosts_plan,
                             title="Hosts (s)", table=hosts_table))
    yield report
    del REPORTS[report.name]


def analyze(*args: object):
    return runner.invoke(app, ["analyze", str(LIFECYCLE), *(str(a) for a in args)])


def test_a_report_declared_once_is_computed_by_report(hosts):
    frames = analysis.report(LIFECYCLE, what="hosts")
    assert list(frames) == ["run", "hosts"]
    assert frames["hosts"].rows() == [("ctl", 13.8003), ("pm0", 13.8003), ("pm1", 13.8003)]
    assert list(analysis.report(LIFECYCLE))[-1] == "hosts"  # "all" takes it, after the others
    assert set(analysis.load_trace(LIFECYCLE, what=["hosts"])["type"]) == {"0", "HOST"}  # root + its needs


def test_a_report_declared_once_is_offered_by_replay_analyze(hosts):
    table = analyze("--what", "hosts")
    assert table.exit_code == 0, table.output
    assert [line.split() for line in table.stdout.splitlines()] == [
        ["simulated", "time", "13.800300", "s"], [], ["Hosts", "(s)"], ["host", "alive"], ["ctl", "13.8003"],
        ["pm0", "13.8003"], ["pm1", "13.8003"], ["seconds"]]
    rows = [{"host": host, "duration": 13.8003} for host in ("ctl", "pm0", "pm1")]
    assert json.loads(analyze("--what", "hosts", "--format", "json").stdout) == {"simulated_time": 13.8003,
                                                                                  "hosts": rows}
    csv = analyze("--what", "hosts", "--format", "csv").stdout
    assert csv == "host,duration\nctl,13.8003\npm0,13.8003\npm1,13.8003\n"
    assert "hosts" in runner.invoke(app, ["analyze", "--help"], terminal_width=200).stdout


def test_a_report_removed_is_no_longer_offered(hosts):
    del REPORTS["hosts"]
    try:
        assert analyze("--what", "hosts").exit_code == 2
        expected = "unknown report 'hosts': expected all, moves, off_periods or one of migrations,"
        with pytest.raises(ValueError, match=expected):
            analysis.report(LIFECYCLE, what="hosts")
    finally:
        REPORTS["hosts"] = hosts


def test_a_name_is_declared_once(hosts):
    with pytest.raises(ValueError, match="'hosts' is taken"):
        register(hosts)
    with pytest.raises(ValueError, match="'all' is taken"):
        register(Report(name="all", needs=(), frames=("x",), plan=hosts_plan))
    assert [report.name for report in chosen(["states", "hosts", "states"])] == ["states", "hosts"]


def test_the_reports_functions_exist():
    # The built-in reports name their functions as strings (to be listed without polars): each must resolve.
    for report in REPORTS.values():
        for function in (report.plan, report.table, *(detail.table for detail in report.details)):
            if isinstance(function, Lazy):
                module, _, name = function.target.partition(":")
                assert callable(getattr(importlib.import_module(module), name)), function.target


def test_listing_the_reports_and_writing_csv_never_import_polars():
    code = ("import sys; from typer.main import get_command; from replay.cli import app; get_command(app); "
            "import tracing.csv_writer, tracing.reports; print('polars' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(("value", "unit", "shown"), [
    (1.47439e9, "flop/s", "1.47 Gf/s"),    # three significant digits, a decimal prefix
    (1.25e8, "byte/s", "125 MB/s"),
    (6.0625e8, "byte/s", "606 MB/s"),
    (9.996e6, "byte/s", "10.0 MB/s"),      # rounding up adds no fourth digit
    (999.6, "flop/s", "1.00 kf/s"),        # ... and may take the next prefix
    (0.5, "flop/s", "0.500 f/s"),
    (0.0, "byte/s", "0 B/s"),
    (2**30, "bytes", "1.00 GiB"),          # sizes: binary prefixes, two decimals, as before
    (20.61 * 2**30, "bytes", "20.61 GiB"),
    (512, "bytes", "512 B"),
    (None, "flop/s", None),                # unknown stays unknown
])
def test_quantities_for_people(value, unit, shown):
    assert human(value, unit) == shown


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError, match="unknown unit 'W'"):
        human(1.0, "W")
