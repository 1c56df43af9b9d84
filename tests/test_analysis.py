"""Post-analysis (``tracing.analysis`` and ``replay analyze``): what the CSVs say, checked against the run's own
summary and against dates derived by hand on small runs built with the API.

The consolidation example is replayed once per module with actors traced (``CsvWriter(..., actors=True)``) and
its migrations CSV written beside the tidy CSV as ``run.migrations.csv``; a copy of the tidy CSV alone in
another directory exercises the derivation of migrations from the tidy table. The summary is the
``RunResult.summary()`` that ``replay run --summary`` writes.
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import shutil
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from replay.cli import app
from replay.errors import ReplayError
from replay.session import ReplaySession
from replay.simulation import Simulation
from tests.helpers import REPO, platform
from tests.test_cli import assert_one_line_error
from tests.test_migration import PAIR, WAIT
from tests.test_tracing_scenarios import COMM, LIFE, comm_sim, lifecycle_sim, trace
from tracing import analysis
from tracing.analysis import AnalysisError
from tracing.csv_writer import CSV_COLUMNS, MIGRATION_COLUMNS, CsvWriter, MigrationsCsvWriter
from tracing.energy import energy as tracing_energy
from tracing.paje_types import VM_STATE_VALUES

T = pytest.approx
CONSOLIDATION = REPO / "traces" / "consolidation.trace"
runner = CliRunner()


# -- the consolidation run --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The consolidation example: tidy CSV (with actors) and migrations CSV beside it, the summary, and a copy
    of the tidy CSV alone."""
    folder = tmp_path_factory.mktemp("consolidation")
    csv, migrations_csv = folder / "run.csv", folder / "run.migrations.csv"
    session = ReplaySession.open([CONSOLIDATION])
    with CsvWriter(csv, session.platform, actors=True) as table, MigrationsCsvWriter(migrations_csv) as rows:
        session.sim.engine.subscribe(table.emit)
        session.sim.engine.subscribe(rows.emit)
        summary = session.run().summary()
    alone = tmp_path_factory.mktemp("alone") / "run.csv"
    shutil.copy(csv, alone)
    return {"csv": csv, "migrations": migrations_csv, "alone": alone, "summary": summary}


def test_the_explicit_schemas_are_what_polars_would_guess(run):
    assert tuple(analysis.TIDY_SCHEMA.names()) == CSV_COLUMNS
    assert tuple(analysis.MIGRATIONS_SCHEMA.names()) == MIGRATION_COLUMNS
    assert pl.read_csv(run["csv"]).schema == analysis.TIDY_SCHEMA
    guessed = pl.read_csv(run["migrations"]).schema
    assert {name: guessed[name] for name in ("vm", "src", "dst", "start", "end", "rounds", "converged")} == {
        name: analysis.MIGRATIONS_SCHEMA[name] for name in ("vm", "src", "dst", "start", "end", "rounds", "converged")
    }
    assert analysis.scan_trace(run["csv"]).collect().equals(pl.read_csv(run["csv"]))


def test_simulated_time_is_the_summary_s(run):
    assert analysis.simulated_time(run["csv"]) == run["summary"]["simulated_time"]
    assert analysis.simulated_time(analysis.load_trace(run["csv"])) == run["summary"]["simulated_time"]


def test_migrations_from_the_migrations_csv_are_the_summary_s(run):
    table = analysis.migrations(run["csv"])  # run.migrations.csv is found beside run.csv
    expected = sorted(run["summary"]["migrations"], key=lambda m: (m["start"], m["vm"]))
    assert table.height == len(expected) == 4
    for row, mig in zip(table.iter_rows(named=True), expected, strict=True):
        assert (row["vm"], row["src"], row["dst"]) == (mig["vm"], mig["src"], mig["dst"])
        for name in ("start", "end", "duration", "downtime"):
            assert row[name] == mig[name], name
        assert [row[f"bytes_stage{n}"] for n in (1, 2, 3)] == [mig["bytes"][f"stage{n}"] for n in (1, 2, 3)]
        assert (row["rounds"], row["converged"], row["error"]) == (mig["rounds"], mig["converged"], None)
    assert table.schema["bytes_stage2"] == pl.Int64 and table.schema["converged"] == pl.Boolean


def test_migrations_derived_from_the_tidy_csv_alone(run):
    """Without a migrations CSV: start, downtime, rounds, src, dst and converged are the summary's; the end is
    the move, before the 0-byte acknowledgement from the destination to the issuer ends the migration."""
    table = analysis.migrations(run["alone"])
    assert analysis.find_migrations_csv(run["alone"]) is None
    expected = sorted(run["summary"]["migrations"], key=lambda m: (m["start"], m["vm"]))
    for row, mig in zip(table.iter_rows(named=True), expected, strict=True):
        assert (row["vm"], row["src"], row["dst"]) == (mig["vm"], mig["src"], mig["dst"])
        assert row["start"] == mig["start"]
        assert row["downtime"] == T(mig["downtime"], abs=1e-12)
        assert row["rounds"] == mig["rounds"]
        ack = mig["end"] - row["end"]
        assert 0 < ack < 0.01  # the acknowledgement: latencies over the rack, a few ms
        assert row["duration"] == T(mig["duration"] - ack, abs=1e-12)
        assert row["bytes_stage1"] is None and row["error"] is None
        assert row["converged"] is mig["converged"] is True  # no migration of the example is forced
    # the same rows with the CSV beside it ignored on purpose
    assert analysis.migrations(run["csv"], migrations_csv=False).drop("end", "duration").equals(
        table.drop("end", "duration"))


def test_the_migrations_csv_beside_the_tidy_one(tmp_path, run):
    """The rule: <stem>.migrations.csv, else migrations.csv, in the tidy CSV's directory."""
    csv = tmp_path / "x.csv"
    shutil.copy(run["alone"], csv)
    assert analysis.find_migrations_csv(csv) is None
    shutil.copy(run["migrations"], tmp_path / "migrations.csv")
    assert analysis.find_migrations_csv(csv) == tmp_path / "migrations.csv"
    assert analysis.migrations(csv)["bytes_stage1"].null_count() == 0
    shutil.copy(run["migrations"], tmp_path / "x.migrations.csv")
    assert analysis.find_migrations_csv(csv) == tmp_path / "x.migrations.csv"


def test_a_migrations_csv_of_another_run(tmp_path, run, caplog):
    """Named explicitly, a table that does not list the trace's migrations is an error; found beside the
    tidy CSV, it is ignored with a warning."""
    other = tmp_path / "other.csv"
    lines = run["migrations"].read_text().splitlines(keepends=True)
    other.write_text("".join(lines[:3]))  # two of the four migrations
    with pytest.raises(AnalysisError, match=r"other\.csv: expected the migrations of .*\(4 migrations.* found 2"):
        analysis.migrations(run["csv"], migrations_csv=other)
    csv = tmp_path / "run.csv"
    shutil.copy(run["alone"], csv)
    shutil.copy(other, tmp_path / "run.migrations.csv")
    with caplog.at_level(logging.WARNING, logger="tracing.analysis"):
        table = analysis.migrations(csv)
    assert table["bytes_stage1"].null_count() == 4
    assert "using those derived from the tidy CSV" in caplog.text


def test_actor_activity_ends_as_the_summary_says(run):
    activity = analysis.actor_activity(run["csv"])
    actors = run["summary"]["actors"]
    assert sorted(activity["actor"]) == sorted(actors)
    for row in activity.iter_rows(named=True):
        assert row["end"] == actors[row["actor"]]["end"], row["actor"]
        assert row["host"] == actors[row["actor"]]["host"]
        lifetime = row["end"] - row["start"]
        assert row["task_execute"] + row["send"] + row["receive"] + row["idle"] == T(lifetime, abs=1e-9)
    # batch computes 3e11 flops on its own VM (one core of 2 Gf/s) from 0 to the end of the run
    batch = activity.filter(pl.col("actor") == "batch").row(0, named=True)
    assert batch["task_execute"] == T(run["summary"]["simulated_time"])


def test_actor_queries_are_empty_without_actors():
    """The CLI's CSV has no actors; the queries then give empty frames with their columns."""
    states = analysis.actor_states(pl.DataFrame(schema=analysis.TIDY_SCHEMA)).collect()
    assert states.is_empty() and states.columns == ["actor", "state", "start", "end", "duration", "host"]


def test_vm_states_of_the_consolidation(run):
    states = analysis.vm_states(run["csv"]).collect()
    # every VM is visible from 0 to the end of the run, without overlap, on the PMs the summary says
    end = run["summary"]["simulated_time"]
    for (vm,), part in states.sort("start").group_by("vm"):
        assert part["start"][0] == 0.0 and part["end"][-1] == end
        assert (part["start"][1:] == part["end"][:-1]).all(), vm
    moved = {m["vm"]: m for m in run["summary"]["migrations"]}
    for vm, mig in moved.items():
        hosts = states.filter(pl.col("vm") == vm).sort("start")["host"].unique(maintain_order=True).to_list()
        assert hosts == [mig["src"], mig["dst"]]
    # the stop-and-copy lasts the downtime
    times = analysis.state_times(run["csv"])
    for vm, mig in moved.items():
        stop = times.filter((pl.col("vm") == vm) & (pl.col("state") == "stop-and-copy"))["time"].item()
        assert stop == T(mig["downtime"], abs=1e-12)
    assert times.group_by("vm").agg(pl.col("share").sum())["share"].to_list() == T([1.0] * 6)


# -- small runs, derived by hand ---------------------------------------------------------------------------------------
def _csv(tmp_path: Path, sim_builder, name: str = "t.csv", *, actors: bool = False) -> Path:
    path = tmp_path / name
    trace(sim_builder, CsvWriter(path, sim_builder([]).platform, actors=actors))
    return path


def suspended(listeners=()) -> Simulation:
    """VM v (idle) on pm0, started at 0; an admin suspends it at 2 and resumes it at 5, and ends at 6."""
    sim = Simulation(platform('<host id="pm0" speed="1Gf" core="4"/>'), network_model="raw")
    for listener in listeners:
        sim.engine.subscribe(listener)
    vm = sim.create_vm("v", "pm0", ramsize=1e8)
    vm.start()

    def admin(actor):
        yield actor.sleep(2.0)
        vm.suspend(actor)
        yield actor.sleep(3.0)
        vm.resume()
        yield actor.sleep(1.0)

    sim.add_actor("admin", "pm0", admin)
    return sim


def test_a_vm_suspended_from_2_to_5_s_spends_3_s_in_suspend(tmp_path):
    csv = _csv(tmp_path, suspended)
    visible = analysis.vm_states(csv).collect()
    assert visible.select("state", "start", "end", "host").rows() == [
        ("start", 0.0, 2.0, "pm0"), ("suspend", 2.0, 5.0, "pm0"), ("start", 5.0, 6.0, "pm0"),
    ]
    # as the trace has them: start for the whole run, suspend on top of it
    nested = analysis.vm_states(csv, nested=True).collect()
    assert nested.select("state", "start", "end", "depth").rows() == [("start", 0.0, 6.0, 0), ("suspend", 2.0, 5.0, 1)]
    times = analysis.state_times(csv)
    assert times.rows() == [("v", "start", 3.0, 0.5), ("v", "suspend", 3.0, 0.5)]


def test_the_lifecycle_run_state_by_state(tmp_path):
    """The tracing tests' lifecycle run (dates in tests/test_tracing_scenarios.LIFE)."""
    csv = _csv(tmp_path, lifecycle_sim)
    rows = analysis.vm_states(csv).collect().select("state", "start", "end", "host").rows()
    assert rows == [
        ("start", 0.0, T(LIFE["suspend"]), "pm0"),
        ("suspend", T(LIFE["suspend"]), T(LIFE["resume"]), "pm0"),
        ("start", T(LIFE["resume"]), T(LIFE["save"]), "pm0"),
        ("saving", T(LIFE["save"]), T(LIFE["saved"]), "pm0"),        # RAM written to disk
        ("save", T(LIFE["saved"]), T(LIFE["restore"]), "pm0"),       # saved
        ("restoring", T(LIFE["restore"]), T(LIFE["restored"]), "pm0"),
        ("start", T(LIFE["restored"]), T(LIFE["migrate"]), "pm0"),
        ("migrate", T(LIFE["migrate"]), T(LIFE["stage1"]), "pm0"),
        ("stop-and-copy", T(LIFE["stage1"]), T(LIFE["moved"]), "pm0"),
        ("start", T(LIFE["moved"]), T(LIFE["shutdown"]), "pm1"),
    ]
    move = analysis.moves(csv).collect()
    assert move.select("vm", "src", "dst").row(0) == ("vm0", "pm0", "pm1") and move["time"][0] == T(LIFE["moved"])
    derived = analysis.migrations(csv).row(0, named=True)
    assert (derived["src"], derived["dst"], derived["rounds"]) == ("pm0", "pm1", 0)
    assert (derived["start"], derived["end"], derived["downtime"]) == (
        T(LIFE["migrate"]), T(LIFE["moved"]), T(LIFE["moved"] - LIFE["stage1"]))
    # with the migrations CSV, the end is the acknowledgement's
    migrations_csv = tmp_path / "m.csv"
    trace(lifecycle_sim, MigrationsCsvWriter(migrations_csv))
    full = analysis.migrations(csv, migrations_csv=migrations_csv).row(0, named=True)
    assert full["end"] == T(LIFE["migrated"]) and full["bytes_stage1"] == 100_000_000


def forced(listeners=()) -> Simulation:
    """test_migration's PAIR (LV08): VM hot (1e9 B, mig_speed 1e8, dp_intensity 1, one task of 2e11 flops)
    migrates A -> B at 0 and cannot converge: the task dirties the whole 9e8-byte working set during every round
    of 9e8 bytes, so after 10 stalled rounds its stop-and-copy is forced (test_migration derives the dates:
    stage 1 = WAIT + 10 s, each round and stop-and-copy WAIT + 9 s, then the acknowledgement). VM idle (1e8 B,
    nothing dirtied) then migrates A -> B and converges at once."""
    sim = Simulation(PAIR)
    for listener in listeners:
        sim.engine.subscribe(listener)
    hot = sim.create_vm("hot", "A", ramsize=1e9, mig_speed=1e8, dp_intensity=1.0)
    idle = sim.create_vm("idle", "A", ramsize=1e8)
    hot.start()
    idle.start()
    sim.add_actor("task", hot, lambda actor: (yield actor.execute(2e11)))

    def admin(actor):
        yield sim.migrate_vm(hot, "B", actor)
        yield sim.migrate_vm(idle, "B", actor)

    sim.add_actor("admin", "A", admin)
    return sim


def test_a_forced_stop_and_copy_is_in_the_tidy_csv_and_says_not_converged(tmp_path):
    csv, migrations_csv = tmp_path / "f.csv", tmp_path / "m.csv"
    trace(forced, CsvWriter(csv, PAIR), MigrationsCsvWriter(migrations_csv))
    hot_end = WAIT + 10.0 + 11 * (WAIT + 9.0) + WAIT  # stage 1, 10 rounds, stop-and-copy, acknowledgement
    # the mark: one "forced" event of hot, when its migration ends (after the move, with the report)
    events = pl.read_csv(csv).filter(pl.col("kind") == "event", pl.col("label") == "forced")
    assert events.select("container", "type").rows() == [("hot", "MSG_VM_MIGRATION")]
    assert events["start"].item() == T(hot_end, rel=1e-9)
    derived = analysis.migrations(csv, migrations_csv=False)
    assert derived.select("vm", "src", "dst", "rounds", "converged").rows() == [
        ("hot", "A", "B", 10, False), ("idle", "A", "B", 0, True)]
    assert derived["start"].to_list() == [0.0, T(hot_end, rel=1e-9)]  # idle goes once hot's has ended
    # the same as the migrations CSV says, which the run's reports give
    table = analysis.migrations(csv, migrations_csv=migrations_csv)
    assert table["converged"].to_list() == derived["converged"].to_list() == [False, True]
    (tmp_path / "alone").mkdir()
    shutil.copy(csv, tmp_path / "alone" / "f.csv")
    text = analyze(tmp_path / "alone" / "f.csv", "--what", "migrations").stdout
    assert "derived from the tidy CSV" in text
    assert [line.split()[-1] for line in text.splitlines() if line.startswith(("hot", "idle"))] == ["false", "true"]


def one_exec(listeners=()) -> Simulation:
    """Host h, 4 cores of 1 Gf/s: one actor computes 1e10 flops on one core, from 0 to 10 s."""
    sim = Simulation(platform('<host id="h" speed="1Gf" core="4"/><host id="idle" speed="2Gf"/>'))
    for listener in listeners:
        sim.engine.subscribe(listener)

    def worker(actor):
        yield actor.execute(1e10)

    sim.add_actor("worker", "h", worker)
    return sim


def test_one_exec_on_one_of_four_cores_is_a_quarter_of_the_host(tmp_path):
    csv = _csv(tmp_path, one_exec)
    plat = one_exec([]).platform
    caps = analysis.capacities(plat)
    assert caps.filter(pl.col("kind") == "host").select("name", "capacity").rows() == [("h", 4e9), ("idle", 2e9)]
    means = analysis.mean_utilization(csv, capacities=plat)
    h = means.filter(pl.col("name") == "h").row(0, named=True)
    assert (h["kind"], h["unit"], h["time"], h["mean"], h["peak"]) == ("host", "flop/s", 10.0, 1e9, 1e9)
    assert (h["capacity"], h["fraction"], h["peak_fraction"]) == (4e9, 0.25, 0.25)
    assert means.filter(pl.col("name") == "idle").select("mean", "fraction").row(0) == (0.0, 0.0)
    series = analysis.utilization(csv, kind="host", capacities=caps).collect().filter(pl.col("name") == "h")
    assert series.filter(pl.col("duration") > 0).select("start", "end", "value", "fraction").rows() == [
        (0.0, 10.0, 1e9, 0.25)
    ]
    # without capacities: values, no fraction
    assert analysis.mean_utilization(csv).filter(pl.col("name") == "h")["fraction"].to_list() == [None]


def test_capacities_for_a_trace(run, tmp_path):
    """The embedded platform's capacities apply to a trace made on it; other traces need their platform."""
    caps = analysis.capacities_for(run["csv"])
    assert caps is not None
    assert caps.filter(pl.col("name") == "pm-0")["capacity"].item() == 4 * 2e9  # 4 cores of 2 Gf/s
    assert caps.filter(pl.col("name") == "rack_link_0_UP")["capacity"].item() == 1.25e9
    other = _csv(tmp_path, one_exec)
    assert analysis.capacities_for(other) is None
    assert analysis.capacities_for(other, platform=one_exec([]).platform) is not None
    frames = analysis.report(run["csv"], what="utilization")
    assert frames["mean_utilization"].filter(pl.col("name") == "pm-0")["fraction"].item() == T(
        frames["mean_utilization"].filter(pl.col("name") == "pm-0")["mean"].item() / 8e9)


# A (2 cores of 1 Gf/s) and B (4 cores of 2 Gf/s), link L (1e8 B/s, 1e-4 s) between them, raw model: VM v of 2
# cores and 1e8 B on A runs a task that computes 1e9 flops (one core: 1e9 flop/s, 0 to 1 s), sleeps 2 s, then
# computes 4e9 flops. At 1 s v migrates to B: stage 1 sends 1e8 B, 1 + 1e-4 + 1 = 2.0001; nothing dirtied, so
# stop-and-copy (0 B) moves v at 2.0002; the acknowledgement B -> A ends the migration at 2.0003. The second
# computation starts at 3 on B, where a core does 2e9 flop/s: 3 to 5, the end of the run. v's capacity is
# 2 cores x 1e9 on A, then 2 x 2e9 on B: half of it used in both computations.
MOVED = {"moved": 2.0002, "end": 5.0}
SPEEDS = ('<host id="A" speed="1Gf" core="2"/><host id="B" speed="2Gf" core="4"/>'
          '<link id="L" bandwidth="1e8Bps" latency="1e-4s"/><route src="A" dst="B"><link_ctn id="L"/></route>')


def moved_to_a_faster_pm(listeners=()) -> Simulation:
    sim = Simulation(platform(SPEEDS), network_model="raw")
    for listener in listeners:
        sim.engine.subscribe(listener)
    vm = sim.create_vm("v", "A", cores=2, ramsize=1e8)
    vm.start()

    def task(actor):
        yield actor.execute(1e9)
        yield actor.sleep(2.0)
        yield actor.execute(4e9)

    def admin(actor):
        yield actor.sleep(1.0)
        yield sim.migrate_vm(vm, "B", actor)

    sim.add_actor("task", vm, task)
    sim.add_actor("admin", "A", admin)
    return sim


def test_a_vm_s_capacity_is_its_cores_times_the_core_speed_of_its_pm_at_each_date(tmp_path):
    csv = _csv(tmp_path, moved_to_a_faster_pm)
    caps = analysis.capacities(platform(SPEEDS))
    assert caps.filter(pl.col("kind") == "host").select("name", "capacity", "core_speed").rows() == [
        ("A", 2e9, 1e9), ("B", 8e9, 2e9)]
    series = analysis.utilization(csv, kind="vm", capacities=caps, vm_cores={"v": 2}).collect()
    timed = series.filter(pl.col("duration") > 0)
    assert timed.filter(pl.col("value") > 0).select("start", "end", "value", "capacity", "fraction").rows() == [
        (0.0, 1.0, 1e9, 2e9, 0.5), (3.0, 5.0, 2e9, 4e9, 0.5)]
    moved = MOVED["moved"] + 1e-9
    assert {row["capacity"] for row in timed.rows(named=True) if row["end"] <= moved} == {2e9}  # on A
    assert {row["capacity"] for row in timed.rows(named=True) if row["start"] >= moved - 2e-9} == {4e9}  # on B
    [v] = analysis.mean_utilization(csv, capacities=caps, vm_cores={"v": 2}).filter(pl.col("kind") == "vm").rows(
        named=True)
    assert (v["time"], v["mean"], v["peak"]) == (5.0, T(5e9 / 5.0), 2e9)  # 1e9 + 4e9 flops over 5 s
    assert v["fraction"] == T((0.5 * 1.0 + 0.5 * 2.0) / 5.0)  # 0.3; mean / one capacity would say 0.5 or 0.25
    assert v["peak_fraction"] == 0.5
    assert v["capacity"] == T((2e9 * MOVED["moved"] + 4e9 * (5.0 - MOVED["moved"])) / 5.0)  # time-weighted mean
    # without the cores (or the core speeds) the VM has no capacity; the hosts keep theirs
    unknown = analysis.mean_utilization(csv, capacities=caps.drop("core_speed"), vm_cores={"v": 2})
    assert unknown.filter(pl.col("kind") == "vm").select("capacity", "fraction", "peak_fraction").row(0) == (
        None, None, None)
    assert analysis.mean_utilization(csv, capacities=caps).filter(pl.col("name") == "B")["fraction"].item() == T(
        0.25 * 2.0 / 5.0)
    # a capacity of the VM's own, given by name, holds for its whole life
    mine = pl.concat([caps, pl.DataFrame([("vm", "v", 1e10, None)], schema=caps.schema, orient="row")])
    fixed = analysis.utilization(csv, kind="vm", capacities=mine, vm_cores={"v": 2}).collect()
    assert set(fixed["capacity"]) == {1e10}


def test_vm_cores_come_from_the_action_trace(tmp_path, caplog):
    trace_file = tmp_path / "t.trace"
    trace_file.write_text("a init A\na vm_create v A cores=2 ram=1e8\na vm_create w B\n"
                          "a vm_create x A cores=2\na vm_destroy x\na vm_create x A cores=3\n")
    with caplog.at_level(logging.WARNING, logger="tracing.analysis"):
        assert analysis.vm_cores(trace_file) == {"v": 2, "w": 1}  # w: vm_create's default
    assert "t.trace:6: VM 'x' is created with 3 cores, and with 2 at" in caplog.text  # which x is which?
    other = tmp_path / "u.trace"
    other.write_text("b vm_create y B cores=4\n")
    assert analysis.vm_cores([trace_file, other]) == {"v": 2, "w": 1, "y": 4}


def test_analyze_gives_vms_a_capacity_with_their_trace(tmp_path):
    csv = _csv(tmp_path, moved_to_a_faster_pm)
    (tmp_path / "p.xml").write_text(
        "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        f'<platform version="4.1"><zone id="z" routing="Full">{SPEEDS}</zone></platform>\n')
    (tmp_path / "t.trace").write_text("admin init A\nadmin vm_create v A cores=2 ram=1e8\n")
    args = ["--what", "utilization", "-p", tmp_path / "p.xml"]
    without = json.loads(analyze(csv, *args, "-f", "json").stdout)["mean_utilization"]
    assert [row["fraction"] for row in without if row["kind"] == "vm"] == [None]
    result = analyze(csv, *args, "-f", "json", "--trace", tmp_path / "t.trace")
    assert result.exit_code == 0, result.output
    [v] = [row for row in json.loads(result.stdout)["mean_utilization"] if row["kind"] == "vm"]
    assert (v["fraction"], v["peak_fraction"]) == (T(0.3), 0.5)  # as derived above
    table = analyze(csv, *args, "-t", tmp_path / "t.trace").stdout
    [row] = [line.split() for line in table.splitlines() if line.startswith("vm")]
    assert row[-2:] == [f"{100 * v['fraction']:.1f}", "50.0"]  # mean % and peak %
    assert_one_line_error(analyze(csv, *args, "-t", tmp_path / "missing.trace"), "missing.trace")


def test_disk_usage_and_its_capacity(tmp_path):
    """Lifecycle: the disk of pm0 (1e8 B/s) writes 1e8 B (6 to 7 s) and reads them (9 to 10 s)."""
    csv = _csv(tmp_path, lifecycle_sim)
    disk = analysis.mean_utilization(csv, capacities=lifecycle_sim([]).platform).filter(pl.col("kind") == "disk")
    row = disk.row(0, named=True)
    assert (row["name"], row["capacity"], row["peak_fraction"]) == ("pm0", 1e8, 1.0)
    assert row["mean"] * row["time"] == T(2e8)


def test_actor_states_of_the_communication_run(tmp_path):
    """The tracing tests' communication run (tests/test_tracing_scenarios.COMM)."""
    csv = _csv(tmp_path, comm_sim, actors=True)
    states = analysis.actor_states(csv).collect().sort("actor", "start")
    assert states.filter(pl.col("actor") == "s").select("state", "start", "end").rows() == [
        ("task_execute", 0.0, T(COMM["s_exec"])), ("send", T(COMM["s_exec"]), T(COMM["s_sent"])),
    ]
    assert states.filter(pl.col("actor") == "p")["host"].to_list() == ["v"]  # p runs in VM v
    activity = {row["actor"]: row for row in analysis.actor_activity(csv).iter_rows(named=True)}
    # r waits from 0 until the transfer matches at 0.5, receives until 1.501, computes until 2.501
    assert (activity["r"]["idle"], activity["r"]["receive"], activity["r"]["task_execute"]) == (
        T(0.5), T(1.001), T(1.0))
    assert activity["r"]["end"] == T(COMM["r_done"])


# -- an invariant: the visible state is the top of the stack -----------------------------------------------------------
@st.composite
def stacks(draw):
    """Tidy rows of one VM's state stack: random pushes and pops at increasing (sometimes equal) dates."""
    steps = draw(st.lists(st.tuples(st.booleans(), st.integers(0, 3), st.sampled_from(list(VM_STATE_VALUES))),
                          min_size=1,
                          max_size=30))
    time, stack, rows = 0.0, [], []
    for push, advance, name in steps:
        time += advance
        if push or not stack:
            stack.append((time, name))
        else:
            start, label = stack.pop()
            rows.append((start, time, label, len(stack)))
    time += 1
    while stack:
        start, label = stack.pop()
        rows.append((start, time, label, len(stack)))
    return rows, time


def _tidy(rows, end):
    base = {name: None for name in CSV_COLUMNS}
    records = [{**base, "kind": "container", "container": "root", "type": "0", "start": 0.0, "end": end, "depth": 0},
               {**base, "kind": "container", "container": "v", "type": "MSG_VM", "start": 0.0, "end": end,
                "parent": "pm", "depth": 1}]
    records += [{**base, "kind": "state", "container": "v", "type": "MSG_VM_STATE", "start": float(s),
                 "end": float(e), "label": label, "depth": depth} for s, e, label, depth in rows]
    return pl.DataFrame(records, schema=analysis.TIDY_SCHEMA)


@settings(max_examples=150, deadline=None)
@given(stacks())
def test_visible_states_are_the_top_of_the_stack(case):
    rows, end = case
    visible = analysis.vm_states(_tidy(rows, end)).collect().sort("start")
    # no overlap, and time advances
    assert (visible["start"][1:] >= visible["end"][:-1]).all()
    assert (visible["end"] > visible["start"]).all()
    # at the middle of every elementary interval, the visible state is the one pushed last among the open ones
    dates = sorted({t for s, e, _, _ in rows for t in (s, e)})
    for left, right in itertools.pairwise(dates):
        middle = (left + right) / 2
        open_rows = [r for r in rows if r[0] <= middle < r[1]]
        shown = visible.filter((pl.col("start") <= middle) & (pl.col("end") > middle))
        if not open_rows:
            assert shown.is_empty()
            continue
        top = max(open_rows, key=lambda r: r[3])
        assert shown["state"].to_list() == [top[2]]
    # time per state adds up to the time some state was open
    covered = sum(right - left for left, right in itertools.pairwise(dates)
                  if any(r[0] <= (left + right) / 2 < r[1] for r in rows))
    assert visible["duration"].sum() == T(covered)


# -- reading: files that are not ours ----------------------------------------------------------------------------------
def test_bad_inputs_are_analysis_errors(tmp_path, run):
    with pytest.raises(AnalysisError, match=r"nope\.csv: expected a tidy trace CSV \(replay run --csv\), found no"):
        analysis.scan_trace(tmp_path / "nope.csv")
    with pytest.raises(AnalysisError, match="found a directory"):
        analysis.scan_trace(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(AnalysisError, match=r"other\.csv:1: expected the header of a tidy trace CSV .* found 'a,b'"):
        analysis.migrations(other)
    with pytest.raises(AnalysisError, match="this is a migrations CSV"):
        analysis.report(run["migrations"])
    with pytest.raises(AnalysisError, match="this is the tidy CSV"):
        analysis.scan_migrations(run["csv"])
    broken = tmp_path / "broken.csv"
    broken.write_text(",".join(CSV_COLUMNS) + "\ncontainer,x,HOST,zero,1.0,1.0,,,,,,,1\n")
    with pytest.raises(AnalysisError, match=r"broken\.csv: expected rows of a tidy trace CSV, cannot read them"):
        analysis.report(broken)
    assert isinstance(AnalysisError("x"), ValueError) and issubclass(AnalysisError, ReplayError)


def test_load_trace_keeps_only_what_the_reports_need(run):
    full = pl.read_csv(run["csv"])
    migrations_only = analysis.load_trace(run["csv"], what=["migrations"])
    assert 0 < migrations_only.height < full.height
    assert set(migrations_only["kind"]) == {"container", "state", "link", "event"}
    assert analysis.migrations(migrations_only).drop("end", "duration").equals(
        analysis.migrations(run["alone"]).drop("end", "duration"))
    with pytest.raises(ValueError, match="unknown report 'bogus'"):
        analysis.load_trace(run["csv"], what=["bogus"])


def test_report_gives_the_queries_frames(run):
    frames = analysis.report(run["csv"])
    assert list(frames) == ["run", "migrations", "state_times", "vm_states", "mean_utilization", "utilization",
                            "actor_activity", "actor_states", "energy", "power", "pstates", "failures", "outages",
                            "lost", "sla", "sla_hosts", "sla_vms", "sla_decisions", "decisions", "hosts_on"]
    assert frames["energy"].equals(tracing_energy(run["csv"]))  # the default platform's PMs have wattages
    assert all(frames[name].is_empty() for name in ("failures", "outages", "lost"))  # nothing went off
    assert all(frames[name].is_empty() for name in ("sla", "sla_hosts", "sla_vms", "decisions"))  # no policy
    assert not frames["power"].is_empty()
    assert frames["migrations"].equals(analysis.migrations(run["csv"]))
    assert frames["state_times"].equals(analysis.state_times(run["csv"]))
    assert frames["vm_states"].equals(analysis.vm_states(run["csv"]).collect())
    assert frames["actor_activity"].equals(analysis.actor_activity(run["csv"]))
    caps = analysis.capacities_for(run["csv"])
    assert frames["mean_utilization"].equals(analysis.mean_utilization(run["csv"], capacities=caps))
    assert frames["utilization"].equals(analysis.utilization(run["csv"], capacities=caps).collect())
    only = analysis.report(run["csv"], what="states")
    assert list(only) == ["run", "state_times", "vm_states"]


def test_parquet_is_written_atomically(tmp_path, run):
    frame = analysis.migrations(run["csv"])
    target = analysis.to_parquet(frame, tmp_path / "m.parquet")
    assert pl.read_parquet(target).equals(frame)
    lazy = analysis.vm_states(run["csv"])
    assert pl.read_parquet(analysis.to_parquet(lazy, tmp_path / "s.parquet")).equals(lazy.collect())
    # a failure leaves the existing file as it was, and no temporary file
    failing = pl.LazyFrame({"a": ["x"]}).select(pl.col("a").cast(pl.Int64, strict=True))
    with pytest.raises(pl.exceptions.PolarsError):
        analysis.to_parquet(failing, target)
    assert pl.read_parquet(target).equals(frame)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.parquet", "s.parquet"]


def test_a_failed_parquet_write_leaves_no_temporary_file_even_later(tmp_path):
    # polars 2.1's sink_parquet, when it fails, may still create the file at the path it was given a few ms
    # after raising (most of the time, here): to_parquet gives it an open file instead, so nothing comes back.
    failing = pl.LazyFrame({"a": ["x"]}).select(pl.col("a").cast(pl.Int64, strict=True))
    for _ in range(5):
        with pytest.raises(pl.exceptions.PolarsError):
            analysis.to_parquet(failing, tmp_path / "f.parquet")
    time.sleep(0.2)
    assert list(tmp_path.iterdir()) == []


# -- replay analyze ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """The README's first step: replay run ... --csv out/run.csv --migrations out/migrations.csv --summary ..."""
    out = tmp_path_factory.mktemp("out")
    result = runner.invoke(app, ["run", str(CONSOLIDATION), "--csv", str(out / "run.csv"), "--migrations",
                                 str(out / "migrations.csv"), "--summary", str(out / "summary.json"), "--quiet"])
    assert result.exit_code == 0, result.output
    return out, json.loads((out / "summary.json").read_text())


def analyze(*args) -> object:
    return runner.invoke(app, ["analyze", *(str(a) for a in args)])


def test_analyze_prints_tables(cli_run):
    out, summary = cli_run
    result = analyze(out / "run.csv")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert f"simulated time {summary['simulated_time']:.6f} s" in text
    for title in ("Migrations (s)", "Time per VM state (s)", "Mean utilization over the run", "Actor activity (s)"):
        assert title in text
    assert "pm-3 -> pm-0" in text and "20.61 GiB" in text  # batch: 2 GiB + 18.59 GiB + 12.9 MiB
    assert "stop-and-copy" in text and "none in this trace" in text  # no actors in replay run's CSV
    assert all(line.rstrip() == line.rstrip()[:80] for line in text.splitlines())  # fits 80 columns


def test_analyze_tables_give_rates_in_human_units(cli_run):
    """pm-0 computes 1.47439e9 flop/s on average (json: exact); the table says 1.47 Gf/s, and rack_link_0_DOWN's
    peak of 0.97 x 1.25e9 B/s is 1.21 GB/s."""
    out, _ = cli_run
    data = json.loads(analyze(out / "run.csv", "--what", "utilization", "-f", "json").stdout)["mean_utilization"]
    rows = {row["name"]: row for row in data}
    assert rows["pm-0"]["mean"] == T(1.47439e9, rel=1e-5) and rows["rack_link_0_DOWN"]["peak"] == 0.97 * 1.25e9
    text = analyze(out / "run.csv", "--what", "utilization").stdout
    lines = {line.split()[1]: line.split() for line in text.splitlines() if line.startswith(("host ", "link "))}
    assert lines["pm-0"][:6] == ["host", "pm-0", "1.47", "Gf/s", "4.00", "Gf/s"]
    assert lines["rack_link_0_DOWN"][4:6] == ["1.21", "GB/s"]
    assert "e+0" not in text and "flop/s" not in text  # no exponent, no unit column
    table = text.splitlines()
    header = next(line for line in table if line.startswith("kind"))
    first = table[table.index(header) + 1]
    assert first.index(" Gf/s") + len(" Gf/s") == header.index("mean") + len("mean")  # right-aligned, as numbers
    csv = analyze(out / "run.csv", "--what", "utilization", "-f", "csv").stdout
    assert pl.read_csv(io.StringIO(csv))["mean"].to_list() == [row["mean"] for row in data]  # csv stays exact


def test_analyze_csv_gives_the_summary_s_numbers(cli_run):
    out, summary = cli_run
    result = analyze(out / "run.csv", "--what", "migrations", "--format", "csv")
    assert result.exit_code == 0, result.output
    table = pl.read_csv(io.StringIO(result.stdout), schema=dict(analysis.migrations(out / "run.csv").schema))
    expected = sorted(summary["migrations"], key=lambda m: (m["start"], m["vm"]))
    assert table["vm"].to_list() == [m["vm"] for m in expected]
    assert table["duration"].to_list() == [m["duration"] for m in expected]  # repr floats: exact
    assert table["downtime"].to_list() == [m["downtime"] for m in expected]
    assert table["bytes_stage2"].to_list() == [m["bytes"]["stage2"] for m in expected]
    assert table["rounds"].to_list() == [m["rounds"] for m in expected]
    # all reports: one section per summary table
    every = analyze(out / "run.csv", "--format", "csv").stdout
    assert [line for line in every.splitlines() if line.startswith("#")] == [
        "# migrations", "# state_times", "# mean_utilization", "# actor_activity", "# energy"]  # PMs have wattages


def test_analyze_json(cli_run):
    out, summary = cli_run
    result = analyze(out / "run.csv", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["simulated_time", "migrations", "state_times", "mean_utilization", "actor_activity",
                          "energy"]
    assert data["simulated_time"] == summary["simulated_time"]
    for row, mig in zip(data["migrations"], sorted(summary["migrations"], key=lambda m: m["start"]), strict=True):
        assert (row["vm"], row["end"], row["downtime"], row["rounds"], row["converged"]) == (
            mig["vm"], mig["end"], mig["downtime"], mig["rounds"], mig["converged"])
        assert [row[f"bytes_stage{n}"] for n in (1, 2, 3)] == [mig["bytes"][f"stage{n}"] for n in (1, 2, 3)]
    pm0 = next(r for r in data["mean_utilization"] if r["name"] == "pm-0")
    assert 0 < pm0["fraction"] <= pm0["peak_fraction"] <= 1
    assert data["actor_activity"] == []
    states = json.loads(analyze(out / "run.csv", "--what", "states", "-f", "json").stdout)
    assert list(states) == ["simulated_time", "state_times"]


def test_analyze_without_the_migrations_csv_derives_them(cli_run, tmp_path):
    out, _ = cli_run
    shutil.copy(out / "run.csv", tmp_path / "run.csv")
    result = analyze(tmp_path / "run.csv", "--what", "migrations")
    assert result.exit_code == 0, result.output
    assert "derived from the tidy CSV" in result.stdout and "GiB" not in result.stdout
    named = analyze(tmp_path / "run.csv", "--what", "migrations", "--migrations", out / "migrations.csv")
    assert "GiB" in named.stdout


def test_analyze_writes_parquet(cli_run, tmp_path):
    out, _ = cli_run
    folder = tmp_path / "frames"
    result = analyze(out / "run.csv", "--parquet", folder, "--format", "json")
    assert result.exit_code == 0, result.output
    names = sorted(path.stem for path in folder.iterdir())
    assert names == sorted(["migrations", "state_times", "vm_states", "mean_utilization", "utilization",
                            "actor_activity", "actor_states", "energy", "power", "pstates"])
    frames = analysis.report(out / "run.csv")
    for name in names:
        assert pl.read_parquet(folder / f"{name}.parquet").equals(frames[name]), name
    assert f"wrote {folder / 'migrations.parquet'}" in result.stderr
    json.loads(result.stdout)  # the JSON on stdout stays clean


@pytest.mark.parametrize(("case", "fragments"), [
    ("missing", ["missing.csv: expected a tidy trace CSV (replay run --csv), found no such file"]),
    ("not ours", ["notes.csv:1: expected the header of a tidy trace CSV", "'hello'"]),
    ("migrations", ["migrations.csv:1:", "this is a migrations CSV"]),
    ("stale migrations", ["stale.csv: expected the migrations of", "found 1 that do not match"]),
    ("parquet on a file", ["expected a directory for the Parquet files, found a file"]),
    ("missing platform", ["nowhere.xml"]),
])
def test_analyze_bad_input_is_one_line(cli_run, tmp_path, case, fragments):
    out, _ = cli_run
    (tmp_path / "notes.csv").write_text("hello\n")
    (tmp_path / "stale.csv").write_text("".join((out / "migrations.csv").read_text().splitlines(True)[:2]))
    args = {
        "missing": [tmp_path / "missing.csv"],
        "not ours": [tmp_path / "notes.csv"],
        "migrations": [out / "migrations.csv"],
        "stale migrations": [out / "run.csv", "--migrations", tmp_path / "stale.csv"],
        "parquet on a file": [out / "run.csv", "--parquet", tmp_path / "notes.csv"],
        "missing platform": [out / "run.csv", "--platform", tmp_path / "nowhere.xml"],
    }[case]
    assert_one_line_error(analyze(*args), *fragments)


def test_analyze_with_another_platform_has_no_fractions_for_unknown_hosts(cli_run):
    """--platform says whose capacities apply: small.xml has no pm-0, so pm-0 has no fraction."""
    out, _ = cli_run
    result = analyze(out / "run.csv", "--what", "utilization", "-f", "json", "--platform",
                     REPO / "traces" / "platforms" / "small.xml")
    assert result.exit_code == 0, result.output
    pm0 = next(r for r in json.loads(result.stdout)["mean_utilization"] if r["name"] == "pm-0")
    assert (pm0["capacity"], pm0["fraction"]) == (None, None) and pm0["mean"] > 0


def test_analyze_usage_errors_exit_2(cli_run):
    out, _ = cli_run
    assert analyze(out / "run.csv", "--what", "everything").exit_code == 2
    assert analyze(out / "run.csv", "--format", "xml").exit_code == 2


def test_analysis_does_not_need_matplotlib():
    code = "import sys, replay.cli, tracing.analysis; print('matplotlib' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "False"
