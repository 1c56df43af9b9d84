"""Running sweeps on local processes: the rows against direct runs, the same rows whatever the number of workers,
failed points and dead workers as rows, the results file, resuming."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from replay import sweep
from replay.cli import app
from replay.sweep.table import SLA
from tests.helpers import REPO
from tests.sweep_helpers import migration_sweep, slow_sweep, without_wall_time
from tracing.sweep_results import ResultsFile, read_results

#: LV08 makes a transfer wait 13.01 x its route's latency first; pm-0 -> pm-1 crosses rack_link_0_UP (50 us),
#: the backbone (100 us) and rack_link_1_DOWN (50 us): 13.01 x 200 us = 2.602 ms. With dp_intensity 0 no page is
#: dirtied, so the stop-and-copy sends 0 bytes and lasts just that.
EMPTY_STOP_AND_COPY = 13.01 * 200e-6


@pytest.fixture(scope="module")
def migration(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    """The 9-point migration study (dt x dpi), run on two local workers."""
    path = migration_sweep(tmp_path_factory.mktemp("migration"))
    return path, sweep.run(path, jobs=2)


def test_rows_are_those_of_direct_runs(migration: tuple[Path, pl.DataFrame], tmp_path: Path) -> None:
    path, table = migration
    assert table["point"].to_list() == list(range(9))
    assert table.columns[:3] == ["point", "dt", "dpi"]
    assert table["status"].to_list() == ["ok"] * 9 and table["error"].null_count() == 9
    runner = CliRunner()
    for row in table.iter_rows(named=True):
        out = tmp_path / "s.json"
        result = runner.invoke(app, ["run", str(path.parent / "migration.trace"), "--set", f"dt={row['dt']}",
                                     "--set", f"dpi={row['dpi']:g}", "--summary", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
        summary = json.loads(out.read_text())
        (migration_report,) = summary["migrations"]
        assert row["simulated_time"] == summary["simulated_time"]
        assert row["downtime_total"] == row["downtime_max"] == migration_report["downtime"]
        assert row["energy_j"] == summary["energy"]["total"]
        assert row["migrations"] == 1
        assert json.loads(row["summary"]) == summary
        # vm0's 20 Gf on its own 2 Gf/s core take 10 s, delayed by the stop-and-copy that freezes it
        assert row["simulated_time"] == pytest.approx(10 + row["downtime_total"], abs=1e-9)
    empty = table.filter(pl.col("dpi") == 0)
    assert empty["downtime_max"].to_list() == pytest.approx([EMPTY_STOP_AND_COPY] * 3, rel=1e-9)
    # more dirty pages, a longer stop-and-copy for a given max_downtime; at most max_downtime when it converges
    assert table.filter(pl.col("dt") == "100ms")["downtime_max"].is_sorted()


def test_the_same_rows_with_one_worker_or_two(migration: tuple[Path, pl.DataFrame]) -> None:
    path, two = migration
    one = sweep.run(path, jobs=1)
    assert without_wall_time(one).equals(without_wall_time(two))
    assert one.schema == two.schema
    assert one["wall_time"].min() > 0


def test_a_failed_point_is_a_row(tmp_path: Path) -> None:
    # point 1 cannot read its max_downtime (not validated: point 0 was, for their combination; the run says where);
    # the others run, point 2 with its own option
    path = migration_sweep(tmp_path, 'trace = "migration.trace"\n[grid]\ndt = ["10ms", "oops"]\ndpi = [0]\n'
                                     '[[points]]\ndt = "10ms"\ndpi = 0\nnetwork_model = "CM02"\n')
    table = sweep.run(path, jobs=2)
    assert table["status"].to_list() == ["ok", "error", "ok"]
    error = table.row(1, named=True)
    assert error["error"].startswith(f"{(path.parent / 'migration.trace').resolve()}:3: bad max_downtime 'oops'")
    assert [error[name] for name in ("simulated_time", "migrations", "downtime_max", "summary")] == [None] * 4
    assert table["network_model"].to_list() == [None, None, "CM02"]


def test_a_run_time_error_is_a_row(tmp_path: Path) -> None:
    # the VM migrates to $dst: to pm-0, where it is, the run fails at line 7 (the static check cannot know)
    trace = tmp_path / "t.trace"
    trace.write_text("ctl init controller\nctl vm_create v pm-0 ram=64MiB\nctl vm_start v\n"
                     "ctl vm_migrate v $dst\nctl vm_migrate v $back\n")
    (tmp_path / "s.toml").write_text('trace = "t.trace"\n[grid]\ndst = ["pm-1", "pm-0"]\nback = ["pm-0"]\n')
    table = sweep.run(tmp_path / "s.toml", jobs=1)
    assert table["status"].to_list() == ["ok", "error"]
    assert table["migrations"].to_list() == [2, None]
    assert "t.trace:4" in table["error"][1] or "t.trace:5" in table["error"][1]


def test_a_policy_grid_gives_the_sla_columns(tmp_path: Path) -> None:
    trace = tmp_path / "t.trace"
    trace.write_text("ctl init controller\nctl vm_create a auto cores=2 ram=1GiB\nctl vm_create b auto cores=2 "
                     "ram=1GiB\nctl vm_start a\nctl vm_start b\nctl sleep $t\n")
    (tmp_path / "s.toml").write_text('trace = "t.trace"\n[grid]\npolicy = ["first-fit", "worst-fit"]\nt = [60]\n')
    table = sweep.run(tmp_path / "s.toml", jobs=2)
    assert table["status"].to_list() == ["ok", "ok"]
    assert [name for name in table.columns if name.startswith("sla_")] == [f"sla_{name}" for name in SLA]
    for row in table.iter_rows(named=True):
        summary = json.loads(row["summary"])
        assert set(summary["sla"]) == set(SLA)
        assert {f"sla_{name}": value for name, value in summary["sla"].items()} == {
            name: row[name] for name in table.columns if name.startswith("sla_")}
        assert row["simulated_time"] == 60.0
    # first-fit puts both VMs on pm-0, worst-fit spreads them: two PMs busy, more energy
    placements = [sorted({vm["host"] for vm in json.loads(s)["vms"].values()}) for s in table["summary"]]
    assert placements == [["pm-0"], ["pm-0", "pm-1"]]


def test_a_killed_worker_makes_its_point_an_error_row(tmp_path: Path) -> None:
    # 4 points of ~0.6 s each on two workers; the worker starting point 1 is killed at once: point 1 is an error
    # row, a new worker runs the points left, and every other row is a normal one
    path = slow_sweep(tmp_path, points=4, actions=15_000)

    def kill(point: int, pid: int | None) -> None:
        if point == 1 and pid is not None:
            os.kill(pid, signal.SIGKILL)

    table = sweep.run(path, jobs=2, on_start=kill)
    assert table["status"].to_list() == ["ok", "error", "ok", "ok"]
    assert table["error"][1] == "its worker process died (killed by SIGKILL); the point did not finish"
    assert table["simulated_time"].to_list()[::2] == pytest.approx([15_000 * 1e6 / 2e9, 15_000 * 3e6 / 2e9])


def test_results_are_written_in_batches_and_at_the_end(tmp_path: Path, migration, monkeypatch) -> None:
    _, table = migration
    kinds = sweep.prepare(sweep.load(migration[0])).columns
    target = tmp_path / "r.parquet"
    rows = table.to_dicts()
    clock = [100.0]
    monkeypatch.setattr("tracing.sweep_results.time.monotonic", lambda: clock[0])
    results = ResultsFile(target, kinds, interval=1.0)  # created at 100 s: the first write at 101 s at the soonest
    written = []
    for at, row in zip((100.2, 100.9, 101.0, 101.5, 101.9, 102.0, 102.1, 102.2, 103.5), reversed(rows), strict=True):
        clock[0] = at
        results.add(row)
        written.append(read_results(target)["point"].to_list() if target.exists() else None)
    # rows 8 and 7 wait; at 101.0 (1 s after the start) the three are written, sorted by point; then at 102.0 and
    # at 103.5 (a write takes no time on this clock: the interval stays 1 s)
    assert written == [None, None, [6, 7, 8], [6, 7, 8], [6, 7, 8], [3, 4, 5, 6, 7, 8], [3, 4, 5, 6, 7, 8],
                       [3, 4, 5, 6, 7, 8], list(range(9))]
    results.flush()
    assert read_results(target).equals(table)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]  # no temporary file left


def test_resume_keeps_the_rows_of_the_file(tmp_path: Path, migration) -> None:
    path, table = migration
    done = table.filter(pl.col("point").is_in([0, 4, 8]))
    started: list[int] = []
    resumed = sweep.run(path, jobs=2, done=done, on_start=lambda point, pid: started.append(point))
    assert sorted(started) == [1, 2, 3, 5, 6, 7]
    assert without_wall_time(resumed).equals(without_wall_time(table))
    assert resumed.filter(pl.col("point").is_in([0, 4, 8])).equals(done)  # wall times too: not run again


def test_resume_refuses_the_results_of_another_sweep(tmp_path: Path, migration) -> None:
    path, table = migration
    target = tmp_path / "r.parquet"
    runner = CliRunner()
    for changed, message in (
        (table.rename({"dpi": "dp"}), "expected the columns of this sweep's results, found missing dpi; extra dp"),
        (table.with_columns(pl.col("dpi").cast(pl.String)), "found other types: dpi (String, not Float64)"),
        (table.with_columns(pl.when(pl.col("point") == 4).then(pl.lit("1s")).otherwise(pl.col("dt")).alias("dt")),
         "expected point 4 to be dt=30ms, dpi=0.2 as in the sweep file, found dt=1s, dpi=0.2 (the sweep file changed"),
        (pl.concat([table, table.tail(1)]), "expected each point once, found point 8 twice"),
    ):
        changed.write_parquet(target)
        result = runner.invoke(app, ["sweep", str(path), "-o", str(target), "--resume"])
        assert result.exit_code == 1
        assert result.output.startswith(f"{target}: ") and message in result.output, result.output
        assert "\n" not in result.output.strip()
    target.write_text("not parquet")
    result = runner.invoke(app, ["sweep", str(path), "-o", str(target), "--resume"])
    assert result.exit_code == 1 and result.output.startswith(f"{target}: expected a sweep's results (a Parquet file)")


def test_an_interrupted_sweep_resumes_where_it_stopped(tmp_path: Path) -> None:
    # 6 points of ~0.3 s on one worker; SIGINT once the file holds a row: what was done is in the file, exit code
    # 130; --resume runs only the other points, and the table is a clean run's (wall times aside)
    path = slow_sweep(tmp_path, points=6, actions=7_000)
    target = tmp_path / "r.parquet"
    command = [sys.executable, "-m", "replay", "sweep", str(path), "-o", str(target), "--jobs", "1"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not target.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    first = read_results(target)
    assert 1 <= first.height < 6
    points = f"{first.height} point" + ("s" if first.height > 1 else "")
    assert stderr.strip() == f"interrupted by SIGINT: {target} holds {points}; --resume runs the others"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet", "slow.toml", "slow.trace"]
    result = CliRunner().invoke(app, ["sweep", str(path), "-o", str(target), "--resume", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("6 points: 6 ok, 0 errors, wall time ")
    assert f"({first.height} kept from the earlier run); results in {target}" in result.output
    final = read_results(target)
    assert final.filter(pl.col("point") < first.height).equals(first)  # kept, wall times included
    clean = sweep.run(path, jobs=2)
    assert without_wall_time(final).equals(without_wall_time(clean))


def test_analyze_and_plot_read_the_results(tmp_path: Path, migration) -> None:
    path, table = migration
    target = tmp_path / "r.parquet"
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(path), "-o", str(target), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["analyze", str(target)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["point", "dt", "dpi", "status", "simulated_time", "migrations",  # no error, no warning
                                "downtime_total", "downtime_max", "energy_j", "wall_time"]
    assert lines[1].split()[:4] == ["0", "10ms", "0", "ok"]
    assert lines[-1] == f"{target}: 9 points, 9 ok, 0 errors"
    result = runner.invoke(app, ["analyze", str(target), "--format", "csv"])
    assert pl.read_csv(result.output.encode()).drop("wall_time").equals(
        table.drop("wall_time").with_columns(pl.col("error").cast(pl.String)))
    picture = tmp_path / "d.png"
    result = runner.invoke(app, ["plot", str(target), "--x", "dt", "--y", "downtime_max", "--hue", "dpi", "-o",
                                 str(picture)])
    assert (result.exit_code, result.output.strip()) == (0, f"wrote {picture}")
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for arguments, message in (
        (["--x", "dtt", "--y", "downtime_max"], "--x: expected a column of"),
        (["--x", "dt", "--y", "status"], "--y status: expected a column of numbers"),
        (["--x", "dt"], "--y: expected a column of"),
        (["--x", "dt", "--y", "downtime_max", "--what", "gantt"], "--what: expected with the CSV of a run"),
    ):
        result = runner.invoke(app, ["plot", str(target), "-o", str(picture), *arguments])
        assert result.exit_code == 1 and result.output.startswith(message), result.output


def test_warnings_are_a_column_of_every_point_that_warns(tmp_path: Path, capfd) -> None:
    # dp_intensity 0.5 dirties web's memory faster than the link sends it: both points force the stop-and-copy
    # (the model warns); one worker runs both, and each row has the warning. The platform's unit-less speed is
    # a warning of every run on it (and of the check before the sweep, printed once by the parent).
    platform = tmp_path / "p.xml"
    platform.write_text((REPO / "replay" / "platform" / "data" / "default.xml").read_text().replace(
        'id="controller" speed="1Gf"', 'id="controller" speed="1000000000"'))
    path = tmp_path / "s.toml"
    path.write_text(f'trace = "{REPO / "traces" / "sweep" / "migration.trace"}"\nplatform = "p.xml"\n[grid]\n'
                    f'max_downtime = ["10ms", "30ms"]\ndp_intensity = [0.5]\n')
    table = sweep.run(path, jobs=1)
    assert table["status"].to_list() == ["ok", "ok"]
    for warned in table["warnings"]:
        unit, forced = warned.split(" | ")  # in the order they came: loading the platform, then the run
        assert unit == (f"{platform}:26: speed of host 'controller': speed '1000000000' has no unit; append 'f' to "
                        f"get flop/s (taken as '1000000000f')")
        assert forced == ("VM web: migration to pm-1 forced to stop-and-copy: the remaining 1932735283 bytes did not "
                          "shrink for 10 rounds")
    assert "forced to stop-and-copy" not in capfd.readouterr().err  # the workers print nothing


def test_a_sweep_whose_every_point_fails_exits_1_and_errors_can_be_retried(tmp_path: Path) -> None:
    path = migration_sweep(tmp_path, 'trace = "migration.trace"\n[grid]\ndt = ["oops", "1s"]\ndpi = [0]\n')
    target = tmp_path / "r.parquet"
    runner = CliRunner()
    result = runner.invoke(app, ["sweep", str(path), "-o", str(target), "--jobs", "1"])
    assert result.exit_code == 0  # one point failed, the other ran: error rows are results
    assert result.output.startswith("2 points: 1 ok, 1 error, wall time ")
    assert "first error: point 0 (dt=oops, dpi=0): " in result.output
    first = read_results(target)
    # --retry-errors runs point 0 again (and keeps point 1: its row, wall time included, is the file's)
    result = runner.invoke(app, ["sweep", str(path), "-o", str(target), "--resume", "--retry-errors", "--jobs", "1"])
    assert result.exit_code == 0 and "(1 kept from the earlier run)" in result.output, result.output
    again = read_results(target)
    assert again.row(1) == first.row(1) and again["status"].to_list() == ["error", "ok"]
    path.write_text('trace = "migration.trace"\n[grid]\ndt = ["oops"]\ndpi = [0]\n')
    result = runner.invoke(app, ["sweep", str(path), "-o", str(tmp_path / "all.parquet"), "--jobs", "1"])
    assert result.exit_code == 1 and result.output.startswith("1 point: 0 ok, 1 error, wall time ")
    assert read_results(tmp_path / "all.parquet")["status"].to_list() == ["error"]
