"""Energy from the tidy CSV (``tracing.energy``, ``replay analyze --what energy``): joules, mean power and the idle
and busy split derived by hand on a run of ``traces/platforms/energy.xml``, the run summary's energy to 1e-9,
the same bits from the same CSV, and an empty report on a platform without wattages.

The run (``traces/energy.trace``, 5 s; SimGrid's host model: Idle at load 0, else Epsilon + load x
(AllCores - Epsilon), load = rate used / (cores x speed of the power state)):

* h1, 2 cores, states 0 (1 Gf/s, 100:120:200 W) and 1 (500 Mf/s, 80:90:130 W). p computes 2e9 flops on one core
  from 0 to 2 s, p2 1e9 flops on the other from 1 to 2 s; p sleeps 2 s, switching to state 1 at 3 s, then
  computes 5e8 flops at 500 Mf/s from 4 to 5 s. Power: 0-1 s load 0.5, 120 + 0.5 x 80 = 160 W; 1-2 s load 1,
  200 W; 2-3 s idle, 100 W; 3-4 s idle in state 1, 80 W; 4-5 s load 0.5, 90 + 0.5 x 40 = 110 W.
  Joules 160 + 200 + 100 + 80 + 110 = 650; busy (power_used > 0) 0-2 and 4-5 s: 470 J over 3 s; idle 2-4 s:
  180 J over 2 s (two powers in one idle stretch: the split cuts at the change of state).
* h2, 1 core of 1 Gf/s, 50:60:100 W. q sleeps 1 s, sends 97e6 bytes to r on h1 (1 to 2.05 s: LV08 gives the
  one flow 0.97 x 100 MB/s shared with 5 % of reverse traffic on the same link, 1.05 s), then computes 5e8
  flops at load 1 (2.05 to 2.55 s, 100 W). Idle 50 W for 2.05 + 2.45 s: 225 J over 4.5 s; busy 50 J over
  0.5 s; 275 J.
* l1, 10:30 W: 30 W while the transfer uses all of it (1 to 2.05 s, 31.5 J), 10 W otherwise (3.95 s, 39.5 J):
  71 J. h3 and l2 have no wattages: no row.

Total 650 + 275 + 71 = 996 J over 5 s, 199.2 W on average.
"""

from __future__ import annotations

import io
import json
import random

import polars as pl
import pytest
from typer.testing import CliRunner

from replay.cli import app
from tests.helpers import REPO, unpowered_default
from tracing import analysis
from tracing.energy import NO_WATTAGES, energy, human_energy, human_power, power, pstates
from tracing.schema import ENERGY_VARIABLES, VARIABLES

T = pytest.approx
DATA = REPO / "tests" / "data" / "energy"
ENERGY_XML = REPO / "traces" / "platforms" / "energy.xml"
runner = CliRunner()


def replay_run(folder, name: str, platform: str) -> tuple:
    """``replay run <name>.trace --platform <platform>.xml --csv --summary``: the CSV and the summary. The
    ``energy`` run is the README's example, in ``traces/``; the others are in ``tests/data/energy/``."""
    csv, summary = folder / f"{name}.csv", folder / f"{name}.json"
    trace = REPO / "traces" / "energy.trace" if name == "energy" else DATA / f"{name}.trace"
    plat = ENERGY_XML if platform == "energy" else DATA / f"{platform}.xml"
    result = runner.invoke(app, ["run", str(trace), "--platform", str(plat),
                                 "--csv", str(csv), "--summary", str(summary), "--quiet"])
    assert result.exit_code == 0, result.output
    return csv, json.loads(summary.read_text())


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return replay_run(tmp_path_factory.mktemp("energy"), "energy", "energy")


def analyze(*args) -> object:
    return runner.invoke(app, ["analyze", *(str(a) for a in args)])


# -- the numbers ---------------------------------------------------------------------------------------------------
def test_joules_and_mean_power_by_hand(run):
    csv, _ = run
    frame = energy(csv)
    assert frame.columns == ["kind", "name", "time", "joules", "mean_watts", "idle_time", "idle_joules",
                             "busy_time", "busy_joules"]
    rows = {(kind, name): row for kind, name, *row in frame.rows()}
    assert list(rows) == [("host", "h1"), ("host", "h2"), ("link", "l1"), ("total", None)]  # h3, l2: no wattages
    # (time, joules, mean_watts): see the module docstring
    assert [tuple(rows[key][:3]) for key in rows] == [
        (5.0, T(650.0), T(130.0)), (5.0, T(275.0), T(55.0)), (5.0, T(71.0), T(14.2)), (5.0, T(996.0), T(199.2))]


def test_the_idle_and_busy_split_by_hand(run):
    csv, _ = run
    split = energy(csv).select("name", "idle_time", "idle_joules", "busy_time", "busy_joules").rows()
    assert split == [
        ("h1", T(2.0), T(180.0), T(3.0), T(470.0)),     # idle 2-3 s at 100 W, 3-4 s at 80 W (state 1)
        ("h2", T(4.5), T(225.0), T(0.5), T(50.0)),      # busy 2.05-2.55 s at 100 W
        ("l1", T(3.95), T(39.5), T(1.05), T(31.5)),     # busy 1-2.05 s at 30 W
        (None, None, T(444.5), None, T(551.5)),         # total: 180 + 225 + 39.5 and 470 + 50 + 31.5
    ]
    frame = energy(csv)
    assert (frame["idle_joules"] + frame["busy_joules"]).to_list() == T(frame["joules"].to_list(), rel=1e-12)


def test_the_step_functions(run):
    csv, _ = run
    h1 = power(csv).filter(pl.col("name") == "h1").collect()
    assert h1.columns == ["kind", "name", "start", "end", "duration", "watts"]
    # the four values of the docstring, and the 80 W h1 draws idle in state 1 at the run's last date (0 s long)
    assert h1.select("start", "end", "watts").rows() == [
        (0.0, 1.0, 160.0), (1.0, 2.0, 200.0), (2.0, 3.0, 100.0), (3.0, 4.0, 80.0), (4.0, 5.0, 110.0), (5.0, 5.0, 80.0)]
    assert set(power(csv).collect()["name"]) == {"h1", "h2", "l1"}
    # every host has a power state once one has several; h1 goes to state 1 at 3 s
    assert pstates(csv).collect().select("host", "start", "end", "pstate").rows() == [
        ("h1", 0.0, 3.0, 0), ("h1", 3.0, 5.0, 1), ("h2", 0.0, 5.0, 0), ("h3", 0.0, 5.0, 0)]


@pytest.mark.parametrize(("name", "expected"), [
    ("energy", {"h1": 650.0, "h2": 275.0, "l1": 71.0}),
    ("set_pstate", {"a": 365.0, "b": 150.0, "l": 51.0}),  # see set_pstate.xml
])
def test_the_run_summary_s_energy(tmp_path, name, expected):
    csv, summary = replay_run(tmp_path, name, name)
    frame = energy(csv)
    joules = dict(zip(frame["name"], frame["joules"], strict=True))
    meter = {**summary["energy"]["hosts"], **summary["energy"]["links"]}
    assert {key: joules[key] for key in meter} == T(meter, rel=1e-9)
    assert meter == T(expected)
    # in fact the same bits: the meter adds the same watts x duration in the same order
    assert {key: joules[key] for key in meter} == meter
    assert joules[None] == T(summary["energy"]["total"], rel=1e-9)


def test_the_same_csv_gives_the_same_bits_whatever_the_row_order(run, tmp_path):
    csv, _ = run
    header, *lines = csv.read_text().splitlines(keepends=True)
    random.Random(7).shuffle(lines)
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text(header + "".join(lines))
    assert energy(shuffled).equals(energy(csv))
    assert energy(csv).equals(energy(csv))


def test_the_report_is_the_queries(run):
    csv, _ = run
    frames = analysis.report(csv, what="energy")
    assert list(frames) == ["run", "energy", "power", "pstates"]
    assert frames["energy"].equals(energy(csv))
    assert frames["power"].equals(power(csv).collect())
    assert frames["pstates"].equals(pstates(csv).collect())
    # with every other report, the same frames
    every = analysis.report(csv)
    assert all(every[name].equals(frames[name]) for name in ("energy", "power", "pstates"))


def test_the_variables_are_those_the_writer_writes(run):
    csv, _ = run
    types = set(pl.read_csv(csv).filter(pl.col("kind") == "variable")["type"])
    assert types == {*ENERGY_VARIABLES, "power_used", "bandwidth_used"}
    assert not set(ENERGY_VARIABLES) & set(VARIABLES)  # not usages: utilization does not read them


def test_a_run_of_no_time_draws_no_energy(tmp_path):
    """Nothing runs: 0 J, and the mean power is the power at the only date, every resource idle in its first
    state: h1 100 W, h2 50 W, l1 10 W, 160 W in all."""
    (tmp_path / "idle.trace").write_text("p init h1\n")
    result = runner.invoke(app, ["run", str(tmp_path / "idle.trace"), "--platform", str(ENERGY_XML), "--csv",
                                 str(tmp_path / "idle.csv"), "--quiet"])
    assert result.exit_code == 0, result.output
    frame = energy(tmp_path / "idle.csv")
    assert frame.select("name", "time", "joules", "mean_watts").rows() == [
        ("h1", 0.0, 0.0, 100.0), ("h2", 0.0, 0.0, 50.0), ("l1", 0.0, 0.0, 10.0), (None, 0.0, 0.0, 160.0)]


# -- replay analyze --------------------------------------------------------------------------------------------------
def test_analyze_prints_the_energy_for_people(run):
    csv, _ = run
    result = analyze(csv, "--what", "energy")
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["Energy", "over", "the", "run"] in lines
    assert ["host", "h1", "650", "J", "130", "W", "180", "J", "470", "J", "2", "3"] in lines
    assert ["link", "l1", "71.0", "J", "14.2", "W", "39.5", "J", "31.5", "J", "3.95", "1.05"] in lines
    assert ["total", "996", "J", "199", "W", "444", "J", "552", "J"] in lines  # 444.5 and 551.5, to 3 digits
    assert "idle: power_used 0 (hosts)" in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_analyze_csv_and_json_are_exact(run):
    csv, _ = run
    frame = energy(csv)
    table = analyze(csv, "--what", "energy", "--format", "csv")
    assert table.exit_code == 0, table.output
    assert pl.read_csv(io.StringIO(table.stdout), schema=frame.schema).equals(frame)
    data = json.loads(analyze(csv, "--what", "energy", "--format", "json").stdout)
    assert data == {"simulated_time": 5.0, "energy": frame.to_dicts()}
    assert data["energy"][2]["busy_time"] == 2.05 - 1.0  # 1.0499999999999998: exact, as the CSV has it


def test_analyze_all_and_parquet_take_the_energy(run, tmp_path):
    csv, _ = run
    data = json.loads(analyze(csv, "--format", "json").stdout)
    assert list(data)[-1] == "energy" and data["energy"] == energy(csv).to_dicts()
    result = analyze(csv, "--what", "energy", "--parquet", tmp_path / "frames")
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in (tmp_path / "frames").iterdir()) == [
        "energy.parquet", "power.parquet", "pstates.parquet"]
    assert pl.read_parquet(tmp_path / "frames" / "power.parquet").equals(power(csv).collect())


@pytest.fixture(scope="module")
def unpowered(tmp_path_factory):
    """The lifecycle example replayed on the default platform without its wattages: a run without energy."""
    folder = tmp_path_factory.mktemp("unpowered")
    csv = folder / "lifecycle.csv"
    result = runner.invoke(app, ["run", str(REPO / "traces" / "lifecycle.trace"), "--platform",
                                 str(unpowered_default(folder)), "--csv", str(csv), "--quiet"])
    assert result.exit_code == 0, result.output
    return csv


def test_without_wattages_the_report_is_empty_and_says_why(unpowered):
    LIFECYCLE = unpowered
    frame = energy(LIFECYCLE)
    assert frame.is_empty() and frame.columns[:4] == ["kind", "name", "time", "joules"]
    assert power(LIFECYCLE).collect().is_empty()  # (its PMs keep their three power states: pstates has rows)
    result = analyze(LIFECYCLE, "--what", "energy")
    assert result.exit_code == 0, result.output
    assert " ".join(result.stdout.split()).endswith(f"Energy over the run {NO_WATTAGES}")
    assert json.loads(analyze(LIFECYCLE, "--what", "energy", "-f", "json").stdout)["energy"] == []
    assert analyze(LIFECYCLE, "--what", "energy", "-f", "csv").stdout == (
        "kind,name,time,joules,mean_watts,idle_time,idle_joules,busy_time,busy_joules\n")
    # all: the run has nothing to say about energy, and prints what it printed before energy was modelled
    every = analyze(LIFECYCLE, "--format", "json")
    assert "energy" not in json.loads(every.stdout) and "Energy" not in analyze(LIFECYCLE).stdout


# -- quantities for people -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(("joules", "shown"), [
    (365.0, "365 J"),
    (50.99999999999999, "51.0 J"),      # three significant digits
    (999.6, "1.00 kJ"),                 # rounding up takes the next unit
    (12_500.0, "12.5 kJ"),
    (3.59e6, "3590 kJ"),                # kJ up to 1 kWh
    (3.6e6, "1.00 kWh"),
    (8.64e9, "2.40 MWh"),               # 1000 hosts at 100 W for a day
    (0.0, "0 J"),
    (None, None),
])
def test_energies_for_people(joules, shown):
    assert human_energy(joules) == shown


@pytest.mark.parametrize(("watts", "shown"), [
    (112.5, "112 W"), (14.2, "14.2 W"), (1250.0, "1.25 kW"), (999.9, "1.00 kW"), (3e6, "3.00 MW"), (None, None),
])
def test_powers_for_people(watts, shown):
    assert human_power(watts) == shown


def test_the_readme_s_energy_example(run):
    """The README's tutorial prints this very table (its run is this module's)."""
    csv, summary = run
    readme = (REPO / "README.md").read_text().splitlines()
    start = readme.index("  $ replay analyze out/energy.csv --what energy") + 1
    shown = [line.strip() for line in readme[start:readme.index("  ```", start)]]
    printed = runner.invoke(app, ["analyze", str(csv), "--what", "energy"], terminal_width=80).stdout
    assert shown == [line.strip() for line in printed.splitlines()]
    assert summary["energy"]["total"] == 996.0  # "the summary's energy, 996 J in all"
