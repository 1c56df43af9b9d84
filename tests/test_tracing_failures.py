"""Failures in the Paje and CSV traces: hosts and links off, their causes, speeds and bandwidths that change,
actors that end badly; types defined at their first use, and none of it in a run where nothing fails.

The run is ``failures_sim`` of ``test_tracing_scenarios``, whose dates (``FAIL``) are derived there by hand;
``test_tracing_csv`` checks that its CSV says what pj_dump says of its Paje trace, row for row.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.platform import load_platform
from replay.simulation import Simulation
from tests.helpers import PLATFORMS, REPO
from tests.test_tracing_scenarios import (
    FAIL,
    comm_sim,
    failures_sim,
    lifecycle_sim,
    needs_pj_dump,
    pj_dump,
    trace,
)
from tracing.csv_writer import CsvWriter
from tracing.paje import PajeWriter, format_operation
from tracing.paje_types import Container, NewEvent, PajeType
from tracing.schema import AVAILABILITY_VARIABLES, FAILURE_TYPES

runner = CliRunner()
LATE = {*FAILURE_TYPES, *AVAILABILITY_VARIABLES}


def write(build, path: Path, **options) -> Path:
    trace(build, PajeWriter(path, build([]).platform, **options))
    return path


def table(build, path: Path, **options) -> pl.DataFrame:
    trace(build, CsvWriter(path, build([]).platform, **options))
    return pl.read_csv(path)


@needs_pj_dump
def test_pj_dump_sees_what_went_off_when_and_why(tmp_path):
    dump = pj_dump(write(failures_sim, tmp_path / "f.paje", actors=True))
    off = sorted((s.container, s.type, s.start, s.end, s.depth, s.value) for s in dump.states
                 if s.type in ("HOST_STATE", "LINK_STATE"))
    assert off == [
        ("L", "LINK_STATE", FAIL["L_off"], FAIL["L_on"], 0, "off"),
        ("h2", "HOST_STATE", FAIL["h2_off"], FAIL["h2_on"], 0, "off"),
        ("h3", "HOST_STATE", 0.0, FAIL["h3_on"], 0, "off"),  # its profile's value at date 0
    ]
    causes = sorted((e.container, e.type, e.time, e.value) for e in dump.events if e.type in ("HOST_OFF", "LINK_OFF"))
    assert causes == [
        ("L", "LINK_OFF", FAIL["L_off"], "link 'L' went off at t=2 s (test)"),
        ("h2", "HOST_OFF", FAIL["h2_off"], "host 'h2' went off at t=1 s (test)"),
        ("h3", "HOST_OFF", 0.0, "host 'h3' went off at t=0 s (its state profile)"),
    ]
    # v was lost with h2: its container ends as h2 goes off
    [vm] = [c for c in dump.containers if c.name == "v"]
    assert (vm.parent, vm.end) == ("h2", FAIL["h2_off"])


@needs_pj_dump
def test_pj_dump_sees_the_capacities_change(tmp_path):
    dump = pj_dump(write(failures_sim, tmp_path / "f.paje"))
    variables = sorted((x.container, x.type, x.start, x.end, x.value) for x in dump.variables
                       if x.type in AVAILABILITY_VARIABLES)
    assert variables == [
        # L's bandwidth profile: from date 0, then its change at 1 s; its latency never changed: no variable
        ("L", "bandwidth", 0.0, FAIL["bandwidth"], 1e8), ("L", "bandwidth", FAIL["bandwidth"], FAIL["end"], 5e7),
        # h1 (2 cores): 2 x 1 Gf/s, at half speed 2 x 500 Mf/s, in power state 1 2 x 500 Mf/s x 0.5
        ("h1", "speed", 0.0, FAIL["half"], 2e9), ("h1", "speed", FAIL["half"], FAIL["pstate"], 1e9),
        ("h1", "speed", FAIL["pstate"], FAIL["end"], 5e8),
    ]


@needs_pj_dump
def test_an_actor_that_did_not_end_done_says_how_and_why(tmp_path):
    dump = pj_dump(write(failures_sim, tmp_path / "f.paje", actors=True))
    ends = sorted((e.container, e.time, e.value) for e in dump.events if e.type == "MSG_PROCESS_END")
    failed = "failed: transfer on mailbox 'm' failed: link 'L' went off at t=2 s (test)"
    assert ends == [("r", FAIL["L_off"], failed), ("s", FAIL["L_off"], failed),
                    ("w", FAIL["h2_off"], "killed: VM 'v' was lost: host 'h2' went off at t=1 s (test)")]
    # a kill that is no failure is said too: the lifecycle's worker, killed when its VM shuts down
    life = pj_dump(write(lifecycle_sim, tmp_path / "life.paje", actors=True))
    [(container, value)] = [(e.container, e.value) for e in life.events if e.type == "MSG_PROCESS_END"]
    assert container == "worker" and value.startswith("killed: ")


def test_types_are_defined_once_just_before_their_first_use(tmp_path):
    lines = write(failures_sim, tmp_path / "f.paje", actors=True).read_text().splitlines()
    header = max(index for index, line in enumerate(lines) if line.startswith("%"))
    definitions: dict[str, tuple[int, str, str]] = {}  # alias -> (line, name, parent)
    first_use: dict[str, int] = {}
    for index, line in enumerate(lines[header + 1:], header + 1):
        fields = line.split()
        code = int(fields[0])
        if code <= 5:
            assert fields[1] not in definitions, f"alias {fields[1]} defined twice"
            definitions[fields[1]] = (index, fields[5] if code == 4 else fields[3], fields[2])
        elif code in (8, 12, 13, 17):  # SetVariable, PushState, PopState, NewEvent: <code> <time> <type> ...
            first_use.setdefault(fields[2], index)
            if code == 12:
                first_use.setdefault(fields[4], index)  # the value
    late = {alias: found for alias, found in definitions.items() if found[1] in LATE | {"off"}}
    names = sorted(name for _, name, _ in late.values())
    # MSG_PROCESS_END twice: under the actors of hosts (s, r) and of VMs (w)
    assert names == sorted(["HOST_STATE", "off", "HOST_OFF", "LINK_STATE", "off", "LINK_OFF", "speed", "bandwidth",
                            "MSG_PROCESS_END", "MSG_PROCESS_END"])
    first_event = min(index for index, line in enumerate(lines) if line.startswith("6 "))
    for alias, (index, name, _) in late.items():
        assert first_event < index < first_use[alias], f"{name} ({alias}) is not defined just before its use"
    assert len({(name, parent) for _, name, parent in late.values()}) == len(late)


@pytest.mark.parametrize("build", [lifecycle_sim, comm_sim], ids=["lifecycle", "comm"])
def test_a_run_where_nothing_fails_has_none_of_it(tmp_path, build):
    """(The golden files say it byte for byte of the lifecycle run.)"""
    paje = write(build, tmp_path / "t.paje", actors=build is comm_sim).read_text()
    assert not re.search(r"\b(HOST_STATE|LINK_STATE|HOST_OFF|LINK_OFF|MSG_PROCESS_END|speed|bandwidth|latency)\b",
                         paje)
    rows = table(build, tmp_path / "t.csv", actors=True)
    assert not set(rows["type"]) & LATE - ({"MSG_PROCESS_END"} if build is lifecycle_sim else set())


def test_the_csv_rows_of_a_failure_run(tmp_path):
    rows = table(failures_sim, tmp_path / "f.csv", actors=True)
    off = rows.filter(pl.col("type").is_in(["HOST_STATE", "LINK_STATE"])).sort("container")
    assert off.select("kind", "container", "start", "end", "duration", "label", "depth").rows() == [
        ("state", "L", 2.0, 3.0, 1.0, "off", 0), ("state", "h2", 1.0, 3.0, 2.0, "off", 0),
        ("state", "h3", 0.0, 4.0, 4.0, "off", 0)]
    causes = rows.filter(pl.col("type") == "HOST_OFF").sort("start")
    assert causes.select("kind", "container", "start", "end", "label").rows() == [
        ("event", "h3", 0.0, 0.0, "host 'h3' went off at t=0 s (its state profile)"),
        ("event", "h2", 1.0, 1.0, "host 'h2' went off at t=1 s (test)")]
    speed = rows.filter(pl.col("type") == "speed")
    assert speed.select("container", "start", "end", "value").rows() == [
        ("h1", 0.0, 2.0, 2e9), ("h1", 2.0, 3.0, 1e9), ("h1", 3.0, 5.0, 5e8)]


def test_each_half_of_a_splitduplex_link_goes_off(tmp_path):
    def build(listeners=()):
        sim = Simulation(load_platform(PLATFORMS / "splitduplex.xml"), network_model="raw")
        for listener in listeners:
            sim.engine.subscribe(listener)

        def admin(actor):
            yield actor.sleep(1.0)
            sim.link_off("trunk", "cut")
            yield actor.sleep(1.0)
            sim.link_on("trunk")

        sim.add_actor("admin", "west", admin)
        return sim

    rows = table(build, tmp_path / "d.csv")
    off = rows.filter(pl.col("type") == "LINK_STATE").sort("container")
    assert off.select("container", "start", "end", "label").rows() == [
        ("trunk_DOWN", 1.0, 2.0, "off"), ("trunk_UP", 1.0, 2.0, "off")]
    assert rows.filter(pl.col("type") == "LINK_OFF").sort("container")["label"].to_list() == [
        "link 'trunk' went off at t=1 s (cut)"] * 2


def test_an_event_value_with_blanks_is_quoted():
    event = PajeType(7, "event", "HOST_OFF", None)
    host = Container(3, "pm0", PajeType(2, "container", "HOST", None), None, 1)
    assert format_operation(NewEvent(1.5, host, event, "host 'pm0' went off at t=1.5 s (x)")) == (
        "17 1.500000 7 3 \"host 'pm0' went off at t=1.5 s (x)\"")
    assert format_operation(NewEvent(1.5, host, event, "stage1")) == "17 1.500000 7 3 stage1"  # as ever


@needs_pj_dump
def test_random_failures_give_the_same_traces_again(tmp_path):
    """``replay run --fail-hosts``: the same seed, the same bytes; pj_dump reads the trace, and the CSV has one
    off state per host going off."""
    outputs = []
    for run in ("a", "b"):
        paje, csv = tmp_path / f"{run}.paje", tmp_path / f"{run}.csv"
        result = runner.invoke(app, ["run", str(REPO / "traces" / "consolidation.trace"), "--fail-hosts", "30,5",
                                     "--seed", "3", "--actors", "--paje", str(paje), "--csv", str(csv), "-q"])
        assert result.exit_code == 0, result.output
        outputs.append((paje.read_bytes(), csv.read_bytes()))
    assert outputs[0] == outputs[1]
    dump = pj_dump(tmp_path / "a.paje")
    rows = pl.read_csv(tmp_path / "a.csv")
    assert len([s for s in dump.states if s.type == "HOST_STATE"]) == rows.filter(
        pl.col("type") == "HOST_STATE").height > 0
