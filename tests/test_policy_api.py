"""A user's policy (``--policy module:Class``): its decision points, its view, its decisions applied and traced,
and the errors of decisions the model refuses."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.errors import PolicyError
from replay.events import PolicyDecision
from replay.session import ReplaySession
from tests.custom_policy import Recorder
from tests.policy_helpers import open_session, platform, run


def test_a_user_policy_sees_ticks_starts_and_overloads(tmp_path: Path) -> None:
    # v starts on h0 at 0: vm_started -> migrate to h1 ("mine"). At 150 s its load of 3 cores of 4 (0.75 > 0.5)
    # begins on h1: host_overloaded(h1) at 150 s -> migrate v to h2 ("hot"). Ticks every 100 s show the
    # utilizations (requested / capacity): at 100 s nothing is asked, at 200 s h2 asks 0.75.
    trace = ("a init h4\na vm_create v h0 cores=3\na vm_start v\na sleep 150\na init v\na load 1 100\n")
    Recorder.seen = []
    session = open_session(tmp_path, trace, "tests.custom_policy:Recorder")
    decisions: list[PolicyDecision] = []
    session.sim.engine.subscribe(lambda r: decisions.append(r) if isinstance(r, PolicyDecision) else None)
    summary = session.run().summary()
    assert [(d.time, d.vm, d.host, d.dst, d.reason, d.policy) for d in decisions] == [
        (0.0, "v", "h0", "h1", "mine", "tests.custom_policy:Recorder"),
        (150.0, "v", "h1", "h2", "hot", "tests.custom_policy:Recorder"),
    ]
    assert ("vm_started", 0.0, "v") in Recorder.seen
    assert ("overloaded", 150.0, "h1") in Recorder.seen
    ticks = [entry for entry in Recorder.seen if entry[0] == "tick"]
    assert ticks[0] == ("tick", 100.0, "h0=0,h1=0,h2=0,h3=0")
    assert ticks[1][1] == 200.0 and "h2=0.75" in ticks[1][2]
    assert summary["vms"]["v"]["host"] == "h2"


def test_a_refused_decision_is_a_policy_error_naming_it(tmp_path: Path) -> None:
    trace = "a init h4\na vm_create v h0\na vm_start v\na sleep 300\n"
    with pytest.raises(PolicyError, match=r"policy 'tests.custom_policy:Stubborn' at t=100 s: "
                                          r"PowerOff\(host='h0', reason='why not'\): host 'h0' is not empty"):
        run(tmp_path, trace, "tests.custom_policy:Stubborn")


def test_cli_reports_a_refused_decision_in_one_line(tmp_path: Path) -> None:
    trace = tmp_path / "t.trace"
    trace.write_text("a init h4\na vm_create v h0\na vm_start v\na sleep 300\n")
    result = CliRunner().invoke(app, ["run", str(trace), "--platform", str(platform(tmp_path)), "--policy",
                                      "tests.custom_policy:Stubborn:hosts=h[0-3]", "--quiet"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "is not empty" in result.output


def test_validate_accepts_auto_with_a_placing_policy(tmp_path: Path) -> None:
    trace = tmp_path / "t.trace"
    trace.write_text("a vm_create v auto\na vm_start v\n")
    refused = CliRunner().invoke(app, ["validate", str(trace)])
    assert refused.exit_code == 1 and "run with --policy" in refused.output
    accepted = CliRunner().invoke(app, ["validate", str(trace), "--policy", "best-fit"])
    assert accepted.exit_code == 0, accepted.output
    assert "ok: 2 actions of 1 actors" in accepted.output


@pytest.mark.parametrize("name", ["mad", "iqr", "lr", "lrr"])
def test_adaptive_detectors_fall_back_to_0_7_on_a_short_history(tmp_path: Path, name: str) -> None:
    # at the first tick the history holds one value (12 are needed for MAD and IQR, 10 for LR), so CloudSim's
    # static fallback decides: h0 asks 3 x 1 Gf/s of 4 = 0.75 > 0.7, overloaded; MMT sheds the smallest RAM
    # (v1, 256 MiB): 0.5 <= 0.7. Under the static threshold of 0.8, h0 would not be overloaded.
    lines = []
    for vm, ram in (("v0", "1GiB"), ("v1", "256MiB"), ("v2", "1GiB")):
        lines += [f"a{vm} init h4", f"a{vm} vm_create {vm} h0 ram={ram}", f"a{vm} vm_start {vm}",
                  f"a{vm} init {vm}", f"a{vm} load 1 400"]
    trace = "\n".join(lines) + "\n"
    summary, _ = run(tmp_path, trace, name)
    assert [(m["vm"], m["src"], m["start"]) for m in summary["migrations"]] == [("v1", "h0", 300.0)]
    summary, _ = run(tmp_path, trace, "threshold")
    assert summary["migrations"] == []


def test_same_inputs_same_trace_bytes(tmp_path: Path) -> None:
    trace = tmp_path / "t.trace"
    lines = []
    for i in range(6):
        lines += [f"a{i} init h4", f"a{i} vm_create v{i} auto", f"a{i} vm_start v{i}", f"a{i} init v{i}",
                  f"a{i} load 0.{i + 3} 700"]
    trace.write_text("\n".join(lines) + "\n")
    outputs = []
    for run_id in (1, 2):
        out = tmp_path / f"{run_id}.csv"
        result = CliRunner().invoke(app, ["run", str(trace), "--platform", str(platform(tmp_path)), "--policy",
                                          "threshold:hosts=h[0-3],overcommit=2", "--csv", str(out), "--quiet"])
        assert result.exit_code == 0, result.output
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_a_policy_object_from_python(tmp_path: Path) -> None:
    # the Python API takes a Policy instance too; without a hosts= option it manages every host of the
    # platform, so first-fit puts the 4-vCPU VM on the first host, h0
    from replay.policies.placement import FirstFit

    trace = tmp_path / "t.trace"
    trace.write_text("a init h4\na vm_create v auto cores=4\na vm_start v\na sleep 1\n")
    session = ReplaySession.open([trace], platform=platform(tmp_path), policy=FirstFit())
    summary = session.run().summary()
    assert summary["vms"]["v"]["host"] == "h0"
    assert summary["sla"]["placements"] == 1
