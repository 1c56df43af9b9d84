"""The SLA of a run with a policy in the loop, from its tidy CSV (``tracing.sla``, ``replay analyze --what sla``):
SLATAH, PDM and what they are made of derived by hand on the runs of :mod:`tests.policy_runs`, the run summary's
``sla`` to 1e-9, the decisions and the hosts on over time, and an empty report for a run without a policy.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from typer.testing import CliRunner

from replay.cli import app
from tests.helpers import REPO
from tests.policy_runs import LOST_V2, T1, T2, policy_run
from tracing import analysis
from tracing.decisions import decisions, hosts_on
from tracing.sla import NO_POLICY

T = pytest.approx
runner = CliRunner()
#: the summary's ``sla`` entries the CSV gives again (``unserved_fraction``, of the load demand, is not in it)
COMPARED = ("slatah", "pdm", "slav", "energy_kwh", "esv", "migrations", "migrations_aborted", "downtime_total",
            "downtime_mean", "downtime_max", "placements", "power_ons", "power_offs")


@pytest.fixture(scope="module")
def threshold(tmp_path_factory):
    return policy_run(tmp_path_factory.mktemp("threshold"), "threshold")


def sla(run, **options) -> dict[str, pl.DataFrame]:
    return analysis.report(run["csv"], what="sla", platform=run["platform"], **options)


@pytest.mark.parametrize("name", ["boot", "saturated", "threshold"])
@pytest.mark.parametrize("migrations_csv", [None, False], ids=["migrations-csv", "tidy-csv-alone"])
def test_the_csv_gives_the_summary_sla_again(request, name, migrations_csv):
    # With the migrations CSV the windows end with the migrations; from the tidy CSV alone, at the moves: the
    # acknowledgements lose nothing here (their destinations are not saturated).
    run = request.getfixturevalue(name)
    [row] = sla(run, migrations_csv=migrations_csv)["sla"].rows(named=True)
    expected = run["summary"]["sla"]
    assert {key: row[key] for key in COMPARED} == {key: T(expected[key], rel=1e-9, abs=1e-15) for key in COMPARED}


def test_a_saturated_host_and_a_busy_vm_migrating_by_hand(saturated):
    frames = sla(saturated)
    [row] = frames["sla"].rows(named=True)
    # pm0 saturated all run (3e9, then 2e9, of 2e9), pm1 never (1e9 of 2e9): SLATAH = (1 + 0) / 2
    assert row["slatah"] == 0.5
    # v2 lost LOST_V2 of its 3e10 requested flops, v0 and v1 nothing
    assert row["pdm"] == T(LOST_V2 / 3e10 / 3, rel=1e-12)
    assert row["slav"] == T(0.5 * LOST_V2 / 3e10 / 3, rel=1e-12)
    joules = 200 * 30 + 100 * T2 + 160 * (30 - T2)
    assert row["energy_kwh"] == T(joules / 3.6e6, rel=1e-12)
    assert row["esv"] == T(joules / 3.6e6 * row["slav"], rel=1e-12)
    assert (row["migrations"], row["migrations_aborted"], row["active_hosts"], row["vms"]) == (1, 0, 2, 3)
    assert row["downtime_total"] == row["downtime_max"] == T(T2 - T1, rel=1e-9)
    assert frames["sla_hosts"].rows() == [
        ("pm0", 30.0, 30.0, 1.0, 0.0, 0, 0, 0.0), ("pm1", T(30 - T2, rel=1e-12), 0.0, 0.0, 0.0, 0, 0, 0.0)]
    vms = {vm: rest for vm, *rest in frames["sla_vms"].rows()}
    assert vms["v0"] == vms["v1"] == [3e10, 0, 0.0, 0.0, 0.0]
    assert vms["v2"] == [3e10, 1, T(T2 - 10, rel=1e-12), T(LOST_V2, rel=1e-9), T(LOST_V2 / 3e10, rel=1e-9)]
    assert frames["sla_decisions"].rows() == [("migrate", "overload", 1)]


def test_boots_switch_offs_and_placements_by_hand(boot):
    frames = sla(boot)
    [row] = frames["sla"].rows(named=True)
    # pm0 asked 5e8 of 2e9 from 15 to 35 s: active, never saturated; v0 asked 5e8 for 20 s and never migrated
    assert (row["slatah"], row["pdm"], row["slav"], row["esv"]) == (0.0, 0.0, 0.0, 0.0)
    assert row["energy_kwh"] == T(5650 / 3.6e6, rel=1e-12)
    assert (row["placements"], row["power_ons"], row["power_offs"], row["active_hosts"], row["vms"]) == (1, 1, 3, 1, 1)
    # pm0: off 0-15 s (booting 5-15 s) and at 40 s for no time, switched off twice; pm1 off all run
    assert frames["sla_hosts"].rows() == [("pm0", 20.0, 0.0, 0.0, 15.0, 2, 1, 10.0),
                                          ("pm1", 0.0, 0.0, None, 40.0, 1, 0, 0.0)]
    assert frames["sla_vms"].rows() == [("v0", 1e10, 0, 0.0, 0.0, 0.0)]
    assert frames["sla_decisions"].rows() == [("place", "placement", 1), ("power_off", "empty", 3),
                                              ("power_on", "needed", 1)]


def test_the_decisions_and_the_hosts_on(boot, saturated):
    assert decisions(boot["csv"]).select("time", "host", "action", "vm", "dst", "reason").rows() == [
        (0.0, "pm0", "power_off", None, None, "empty"), (0.0, "pm1", "power_off", None, None, "empty"),
        (5.0, "pm0", "place", "v0", None, "placement"), (5.0, "pm0", "power_on", None, None, "needed"),
        (40.0, "pm0", "power_off", None, None, "empty"),
    ]
    assert decisions(saturated["csv"]).select("host", "action", "vm", "dst", "reason").rows() == [
        ("pm0", "migrate", "v2", "pm1", "overload")]
    # ctl alone until 5 s, pm0 booting (off) from 5 to 15 s, then on; pm0 off again at 40 s, the run's end
    assert hosts_on(boot["csv"]).rows() == [(0.0, 5.0, 1, 0, 3), (5.0, 15.0, 1, 1, 3), (15.0, 40.0, 2, 0, 3)]
    assert hosts_on(saturated["csv"]).rows() == [(0.0, 30.0, 3, 0, 3)]


def test_a_policy_switch_off_is_an_outage_that_loses_nothing(boot):
    # v0 is destroyed at 40 s, and pm0, left empty, switched off after the events of that date: not a loss
    frames = analysis.report(boot["csv"], what="failures")
    assert frames["lost"].is_empty()
    assert frames["outages"].select("name", "down", "up", "cause").rows() == [
        ("pm0", 0.0, 15.0, "switched off by policy first-fit (empty)"),
        ("pm1", 0.0, None, "switched off by policy first-fit (empty)"),
        ("pm0", 40.0, None, "switched off by policy first-fit (empty)"),
    ]


def test_without_the_platform_saturation_is_unknown(saturated):
    frames = analysis.report(saturated["csv"], what="sla")  # not the embedded platform: no capacities
    [row] = frames["sla"].rows(named=True)
    assert row["slatah"] is None and row["slav"] is None and row["pdm"] == T(LOST_V2 / 3e10 / 3, rel=1e-12)
    assert frames["sla_hosts"]["saturated_time"].to_list() == [None, None]


def test_replay_analyze_what_sla(saturated):
    args = ["analyze", str(saturated["csv"]), "--what", "sla", "--platform", str(saturated["platform"])]
    table = runner.invoke(app, args, terminal_width=200)
    assert table.exit_code == 0, table.output
    lines = [line.split() for line in table.stdout.splitlines()]
    assert ["SLATAH", "50.0000%"] in lines and ["migrate", "overload", "1"] in lines
    assert ["migrations", "1", "done,", "0", "aborted"] in lines
    data = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    assert list(data) == ["simulated_time", "sla", "sla_hosts", "sla_vms", "sla_decisions"]
    assert data["sla"][0]["slatah"] == 0.5 and [h["host"] for h in data["sla_hosts"]] == ["pm0", "pm1"]


def test_a_run_without_a_policy_has_an_empty_report_that_all_leaves_out():
    lifecycle = REPO / "tests" / "golden" / "tracing" / "lifecycle.csv"
    frames = analysis.report(lifecycle, what="sla")
    assert all(frames[name].is_empty() for name in ("sla", "sla_hosts", "sla_vms", "sla_decisions", "decisions"))
    assert frames["hosts_on"].rows() == [(0.0, 13.8003, 3, 0, 3)]  # pm0, pm1, ctl, on all run
    alone = runner.invoke(app, ["analyze", str(lifecycle), "--what", "sla"], terminal_width=200)
    assert NO_POLICY in " ".join(alone.stdout.split())  # rich wraps it
    assert "SLA" not in runner.invoke(app, ["analyze", str(lifecycle)], terminal_width=200).stdout
