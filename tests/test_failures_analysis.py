"""Failures from the tidy CSV (``tracing.failures``, ``replay analyze --what failures``) and utilization under power
states, speed profiles and off periods, derived by hand.

The run is the README's example, ``traces/failures.trace`` on ``traces/platforms/failures.xml`` (LV08: a
lone transfer gets 0.97 x 100 MB/s, shared with its 5 % of reverse traffic on the same links, so the links carry
97 MB/s in all):

* 0 s: w0 in v0 (on pm0) and w1 on pm1 compute on one core each (1 Gf/s); s on ctl sends 1e9 B to r on pm1
  over the uplink and the lan.
* 1 s: admin turns the uplink off: the transfer fails, s and r end ``failed``. ops starts migrating v1 (1 GiB,
  idle) from pm1 to pm2 over the lan.
* 2 s: admin turns pm0 off: v0 is lost, w0 killed (computing since 0).
* 3 s: pm2's maintenance (its state profile) turns it off: the migration, still in stage 1, aborts (0 bytes
  counted: no stage completed); v1 stays on pm1.
* 4 s: pm1 at half speed (its speed profile): w1 has done 4e9 of its 6e9 flops and does the rest at 500 Mf/s,
  done at 8 s.
* 5 s pm0 back on, 6 s the uplink, 7 s pm2; 10 s: admin's last sleep ends the run.

Availability: pm0 off 3 s of 10 (0.7), pm2 4 s (0.6), the uplink 5 s (0.5).

Utilization, the time a resource was off left out:

* pm0 (2 cores of 1 Gf/s) computes 1e9 flop/s for 2 s and is up 7 s: mean 2e9 / 7 flop/s, fraction
  0.5 x 2 / 7 = 1/7.
* pm1: 1e9 flop/s of 2e9 for 4 s, then 5e8 of 1e9 (its capacity halved) for 4 s, idle 2 s: 0.5 x 8 / 10 = 0.4
  (with its capacity of the start, 0.3); its mean capacity (2e9 x 4 + 1e9 x 6) / 10 = 1.4e9. v1 (1 core) follows
  its PM: (1e9 x 4 + 5e8 x 6) / 10 = 7e8.
* pm2: up 6 s. The uplink: 97 MB/s for 1 s of its 5 s up: 19.4 MB/s, 0.194. The lan: 97 MB/s for 3 s (the
  transfer, then the migration) of 10: 0.291.
* h1 of the energy example (2 cores of 1 Gf/s; power state 1, 500 Mf/s, from 3 s): loads 0.5, 1, 0, 0, then
  5e8 of 1e9 from 4 to 5 s: (0.5 + 1 + 0.5) / 5 = 0.4 (with state 0's capacity, 25 % from 4 to 5 s: 0.35).
"""

from __future__ import annotations

import io
import json

import polars as pl
import pytest
from typer.testing import CliRunner

from replay.cli import app
from tests.helpers import REPO
from tracing import analysis
from tracing.failures import NO_FAILURES, failures, lost, outages

T = pytest.approx
TRACE = REPO / "traces" / "failures.trace"
PLATFORM = REPO / "traces" / "platforms" / "failures.xml"
runner = CliRunner()


def replay_run(folder, *options: str):
    csv = folder / "failures.csv"
    result = runner.invoke(app, ["run", str(TRACE), "--platform", str(PLATFORM), "--csv", str(csv), *options, "-q"])
    assert result.exit_code == 0, result.output
    return csv


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """The README's run: actors traced, the migrations CSV beside the tidy one."""
    folder = tmp_path_factory.mktemp("failures")
    return replay_run(folder, "--actors", "--migrations", str(folder / "failures.migrations.csv"))


def analyze(*args) -> object:
    return runner.invoke(app, ["analyze", *(str(a) for a in args)], terminal_width=80)


# -- the numbers ---------------------------------------------------------------------------------------------------
def test_availability_by_hand(run):
    frame = failures(run)
    assert frame.columns == ["kind", "name", "outages", "down_time", "availability"]
    assert frame.rows() == [("host", "pm0", 1, 3.0, 0.7), ("host", "pm2", 1, 4.0, 0.6), ("link", "uplink", 1, 5.0, 0.5)]


def test_outages_by_hand(run):
    assert outages(run).rows() == [
        ("link", "uplink", 1.0, 6.0, 5.0, "link 'uplink' went off at t=1 s (link_off by admin)"),
        ("host", "pm0", 2.0, 5.0, 3.0, "host 'pm0' went off at t=2 s (host_off by admin)"),
        ("host", "pm2", 3.0, 7.0, 4.0, "host 'pm2' went off at t=3 s (its state profile)"),
    ]


def test_what_was_lost_by_hand(run):
    frame = lost(run)
    assert frame.columns == ["what", "name", "on", "time", "status", "outage", "doing", "since", "bytes_sent", "cause"]
    assert frame.drop("cause").rows() == [
        ("actor", "r", "pm1", 1.0, "failed", "link uplink", "receive", 0.0, None),
        ("actor", "s", "ctl", 1.0, "failed", "link uplink", "send", 0.0, None),
        ("vm", "v0", "pm0", 2.0, "lost", "host pm0", "start", 0.0, None),
        ("actor", "w0", "v0", 2.0, "killed", "host pm0", "task_execute", 0.0, None),
        ("migration", "v1", "pm1", 3.0, "aborted", "host pm2", "migrate", 1.0, 0),
    ]
    assert [cause.replace(f"{REPO}/", "") for cause in frame["cause"]] == [
        "traces/failures.trace:41: transfer on mailbox 's_r' failed: link 'uplink' went off at t=1 s (link_off by "
        "admin)",
        "traces/failures.trace:38: transfer on mailbox 's_r' failed: link 'uplink' went off at t=1 s (link_off by "
        "admin)",
        "host 'pm0' went off at t=2 s (host_off by admin)",
        "VM 'v0' was lost: host 'pm0' went off at t=2 s (host_off by admin)",
        "VM 'v1' stays on 'pm1': stage 1 failed: host 'pm2' went off at t=3 s (its state profile)",
    ]


def test_without_actors_nor_migrations_csv_less_is_known(tmp_path):
    """No ``--actors``: no actor in the trace; no migrations CSV: the migration is derived, cause unknown."""
    frame = lost(replay_run(tmp_path))
    assert frame.select("what", "name", "time", "status", "outage", "bytes_sent", "cause").rows() == [
        ("vm", "v0", 2.0, "lost", "host pm0", None, "host 'pm0' went off at t=2 s (host_off by admin)"),
        ("migration", "v1", 3.0, "aborted", None, None, None),
    ]


def test_utilization_leaves_the_time_off_out_and_follows_the_speed(run):
    cores = analysis.vm_cores(TRACE)
    means = analysis.mean_utilization(run, capacities=PLATFORM, vm_cores=cores)
    rows = {row["name"]: row for row in means.rows(named=True)}
    assert (rows["pm0"]["time"], rows["pm0"]["mean"], rows["pm0"]["fraction"]) == (7.0, T(2e9 / 7), T(1 / 7))
    assert (rows["pm1"]["time"], rows["pm1"]["fraction"], rows["pm1"]["capacity"]) == (10.0, T(0.4), T(1.4e9))
    assert rows["pm2"]["time"] == 6.0
    assert (rows["v1"]["capacity"], rows["v0"]["fraction"]) == (T(7e8), T(1.0))
    assert (rows["uplink"]["time"], rows["uplink"]["mean"], rows["uplink"]["fraction"]) == (5.0, T(1.94e7), T(0.194))
    assert rows["lan"]["fraction"] == T(0.291)
    # the step functions: pm0 off from 2 to 5 s has no capacity and no fraction; pm1's capacity halves at 4 s
    series = analysis.utilization(run, kind="host", capacities=PLATFORM).collect()
    pm0 = series.filter(pl.col("name") == "pm0").select("start", "end", "value", "capacity", "fraction")
    assert pm0.rows() == [(0.0, 2.0, 1e9, 2e9, 0.5), (2.0, 5.0, 0.0, 0.0, None), (5.0, 10.0, 0.0, 2e9, 0.0)]
    pm1 = series.filter((pl.col("name") == "pm1") & (pl.col("duration") > 0))
    assert pm1.select("start", "end", "capacity", "fraction").rows() == [
        (0.0, 4.0, 2e9, 0.5), (4.0, 8.0, 1e9, 0.5), (8.0, 10.0, 1e9, 0.0)]


def test_utilization_follows_the_power_state(tmp_path):
    csv = tmp_path / "energy.csv"
    result = runner.invoke(app, ["run", str(REPO / "traces" / "energy.trace"), "--platform",
                                 str(REPO / "traces" / "platforms" / "energy.xml"), "--csv", str(csv), "-q"])
    assert result.exit_code == 0, result.output
    platform = REPO / "traces" / "platforms" / "energy.xml"
    [h1] = analysis.mean_utilization(csv, capacities=platform).filter(pl.col("name") == "h1").rows(named=True)
    assert (h1["fraction"], h1["capacity"]) == (T(0.4), T((2e9 * 3 + 1e9 * 2) / 5))
    series = analysis.utilization(csv, kind="host", capacities=platform).collect().filter(pl.col("name") == "h1")
    # h1 idle from 2 to 4 s: the row is cut where the power state changes
    assert series.filter(pl.col("value") == 0).select("start", "end", "capacity").rows()[:2] == [
        (2.0, 3.0, 2e9), (3.0, 4.0, 1e9)]
    # a frame of capacities (no platform) knows no power state: the capacity of the start
    caps = analysis.capacities(platform)
    [static] = analysis.mean_utilization(csv, capacities=caps).filter(pl.col("name") == "h1").rows(named=True)
    assert static["fraction"] == T(0.35)


# -- replay analyze ------------------------------------------------------------------------------------------------
def test_analyze_prints_the_failures_for_people(run):
    result = analyze(run, "--what", "failures")
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in result.stdout.splitlines()]
    assert ["host", "pm0", "1", "3", "70.0"] in lines
    assert ["link", "uplink", "1", "6", "5", "link_off", "by", "admin"] in lines
    assert ["3", "migration", "v1", "pm1", "aborted", "host", "pm2", "migrate", "1", "0", "B"] in lines
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_analyze_csv_and_json_are_exact(run):
    data = json.loads(analyze(run, "--what", "failures", "--format", "json").stdout)
    assert list(data) == ["simulated_time", "failures", "outages", "lost"]
    assert data["lost"] == lost(run).to_dicts() and data["outages"] == outages(run).to_dicts()
    text = analyze(run, "--what", "failures", "--format", "csv").stdout
    sections = text.split("\n\n")
    assert [section.splitlines()[0] for section in sections if section] == ["# failures", "# outages", "# lost"]
    body = sections[0].split("\n", 1)[1]
    assert pl.read_csv(io.StringIO(body)).equals(failures(run))


def test_analyze_all_and_parquet_take_the_failures(run, tmp_path):
    data = json.loads(analyze(run, "--format", "json").stdout)
    assert list(data)[-3:] == ["failures", "outages", "lost"]
    result = analyze(run, "--what", "failures", "--parquet", tmp_path / "frames")
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in (tmp_path / "frames").iterdir()) == [
        "failures.parquet", "lost.parquet", "outages.parquet"]
    assert pl.read_parquet(tmp_path / "frames" / "lost.parquet").equals(lost(run))


def test_without_failures_the_report_is_empty_and_says_so(tmp_path):
    csv = tmp_path / "lifecycle.csv"
    result = runner.invoke(app, ["run", str(REPO / "traces" / "lifecycle.trace"), "--csv", str(csv), "--actors", "-q"])
    assert result.exit_code == 0, result.output
    assert failures(csv).is_empty() and outages(csv).is_empty() and lost(csv).is_empty()
    printed = analyze(csv, "--what", "failures")
    assert " ".join(printed.stdout.split()).endswith(f"Hosts and links that went off {NO_FAILURES}")
    data = json.loads(analyze(csv, "--what", "failures", "-f", "json").stdout)
    assert list(data) == ["simulated_time", "failures"] and data["failures"] == []  # no details of an empty summary
    # all: nothing went off, and it prints what it printed before failures were traced
    assert "failures" not in json.loads(analyze(csv, "--format", "json").stdout)
    assert "went off" not in analyze(csv).stdout


def test_the_pictures_hatch_the_time_off(run):
    pytest.importorskip("matplotlib")
    from tracing import plots

    fig = plots.figure(run, what="all", platform=PLATFORM)
    gantt = fig.axes[0]
    assert "PM off" in [text.get_text() for text in gantt.get_legend().get_texts()]
    assert [patch.get_hatch() for patch in gantt.collections if patch.get_hatch()] == ["////"]  # pm0, 2 to 5 s
    labels = [text.get_text() for ax in fig.axes for text in ax.texts if text.get_text().startswith("mean")]
    assert labels == ["mean 14.3%\noff 3 s", "mean 40.0%"]  # pm0 and pm1, the hosts that computed


def test_the_readme_s_failures_example(run):
    """The README prints this very output (its run is this module's)."""
    readme = (REPO / "README.md").read_text().splitlines()
    start = readme.index("  $ replay analyze out/failures.csv --what failures") + 1
    shown = [line.strip() for line in readme[start:readme.index("  ```", start)]]
    printed = analyze(run, "--what", "failures").stdout
    assert shown == [line.strip() for line in printed.splitlines()]
