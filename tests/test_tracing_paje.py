"""The Paje writer: SimGrid's header, PajeNG's reading of our runs against their hand-derived dates, golden files.

Every trace is read by the real ``pj_dump`` (PajeNG), which must exit 0 with nothing on stderr; its view is then
compared with what the run did (the dates are derived in ``test_tracing_scenarios``). ``pj_dump`` reads variable
values as 32-bit floats, hence the relative tolerance on values; times are written with 6 digits.

Golden files: ``tests/golden/tracing/lifecycle.paje`` is the lifecycle run's trace, byte for byte. After a
deliberate change of the output, regenerate it (and the CSV ones) with::

    UPDATE_GOLDEN=1 python -m pytest tests/test_tracing_paje.py tests/test_tracing_csv.py
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from replay.platform import default_platform
from replay.simulation import Simulation
from tests.helpers import assert_golden
from tests.test_tracing_scenarios import (
    COMM,
    GOLDEN,
    LIFE,
    MIG,
    NESTED,
    comm_sim,
    lifecycle_sim,
    migrations_sim,
    needs_pj_dump,
    nested_sim,
    pj_dump,
    trace,
)
from tracing.paje import PAJE_HEADER, PajeWriter

T = pytest.approx  # times: the file has 6 digits after the point


def t(value: float):
    return T(value, abs=2e-6)


def v(value: float):
    return T(value, rel=1e-6)


# SimGrid 3.32's header, copied from what src/instr/instr_paje_header.cpp writes in its default format.
SIMGRID_HEADER = """\
%EventDef PajeDefineContainerType 0
%       Alias string
%       Type string
%       Name string
%EndEventDef
%EventDef PajeDefineVariableType 1
%       Alias string
%       Type string
%       Name string
%       Color color
%EndEventDef
%EventDef PajeDefineStateType 2
%       Alias string
%       Type string
%       Name string
%EndEventDef
%EventDef PajeDefineEventType 3
%       Alias string
%       Type string
%       Name string
%EndEventDef
%EventDef PajeDefineLinkType 4
%       Alias string
%       Type string
%       StartContainerType string
%       EndContainerType string
%       Name string
%EndEventDef
%EventDef PajeDefineEntityValue 5
%       Alias string
%       Type string
%       Name string
%       Color color
%EndEventDef
%EventDef PajeCreateContainer 6
%       Time date
%       Alias string
%       Type string
%       Container string
%       Name string
%EndEventDef
%EventDef PajeDestroyContainer 7
%       Time date
%       Type string
%       Name string
%EndEventDef
%EventDef PajeSetVariable 8
%       Time date
%       Type string
%       Container string
%       Value double
%EndEventDef
%EventDef PajeAddVariable 9
%       Time date
%       Type string
%       Container string
%       Value double
%EndEventDef
%EventDef PajeSubVariable 10
%       Time date
%       Type string
%       Container string
%       Value double
%EndEventDef
%EventDef PajeSetState 11
%       Time date
%       Type string
%       Container string
%       Value string
%EndEventDef
%EventDef PajePushState 12
%       Time date
%       Type string
%       Container string
%       Value string
%EndEventDef
%EventDef PajePopState 13
%       Time date
%       Type string
%       Container string
%EndEventDef
%EventDef PajeResetState 14
%       Time date
%       Type string
%       Container string
%EndEventDef
%EventDef PajeStartLink 15
%       Time date
%       Type string
%       Container string
%       Value string
%       StartContainer string
%       Key string
%EndEventDef
%EventDef PajeEndLink 16
%       Time date
%       Type string
%       Container string
%       Value string
%       EndContainer string
%       Key string
%EndEventDef
%EventDef PajeNewEvent 17
%       Time date
%       Type string
%       Container string
%       Value string
%EndEventDef
"""


def write(build, path: Path, **options) -> Path:
    trace(build, PajeWriter(path, build([]).platform, **options))
    return path


def event_lines(path: Path) -> list[list[str]]:
    """The event lines (number 6 and up) of a trace, split into fields."""
    lines = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and not line.startswith("%") and int(fields[0]) >= 6:
            lines.append(fields)
    return lines


# -- the file -------------------------------------------------------------------------------------------------
def test_header_is_simgrid_3_32s_eighteen_event_definitions(tmp_path):
    assert PAJE_HEADER == SIMGRID_HEADER
    text = write(lifecycle_sim, tmp_path / "t.paje").read_text()
    assert text.startswith(SIMGRID_HEADER)
    assert re.findall(r"^%EventDef \w+ (\d+)$", text, re.M) == [str(n) for n in range(18)]


def test_types_and_containers_have_integer_aliases_in_simgrids_layout(tmp_path):
    text = write(lifecycle_sim, tmp_path / "t.paje").read_text()
    body = text.removeprefix(SIMGRID_HEADER).splitlines()
    # Type definitions: "0 <alias> <parent> <name>"; the root type 0 is Paje's and is never declared.
    assert body[:5] == [
        "0 1 0 HOST",
        '1 2 1 power_used "0.5 0.5 0.5"',
        '1 3 1 disk_used "0.5 0.5 0.5"',  # the PMs have a disk_bandwidth
        "0 4 1 MSG_VM",  # inside HOST
        "2 5 4 MSG_VM_STATE",
    ]
    # The state values, with the seed's colors for its three: start blue, suspend red, save green.
    assert body[5:8] == ['5 6 5 start "0 0 1"', '5 7 5 suspend "1 0 0"', '5 8 5 save "0 1 0"']
    assert "0 15 0 LINK" in body
    link_types = [line for line in body if line.startswith("4 ")]
    assert link_types == ["4 17 0 4 4 MSG_VM_LINK"]  # on the root type 0, from MSG_VM to MSG_VM
    # Containers: "6 <time> <alias> <type> <parent> "<name>"", numbered from 1 (the root is 0).
    assert '6 0.000000 1 1 0 "pm0"' in body
    assert '6 0.000000 4 15 0 "lan"' in body
    assert '6 0.000000 5 4 1 "vm0"' in body  # the VM in its PM's container
    assert "12 0.000000 5 5 6" in body  # start pushed


def test_timestamps_never_go_back(tmp_path):
    # A VM dirtying its memory gives stage-2 rounds, and stop-and-copy is learnt only at its end (then drawn
    # from the end of the last round): the writer must keep its buffer until then.
    path = write(_dirty_migration, tmp_path / "t.paje")
    times = [float(fields[1]) for fields in event_lines(path)]
    assert times == sorted(times)
    assert len(times) > 50


def _dirty_migration(listeners=()):
    sim = Simulation(default_platform())
    for listener in listeners:
        sim.engine.subscribe(listener)
    vm = sim.create_vm("vm0", "pm-0", ramsize=2**31, dp_intensity=0.5, mig_speed=5e8)
    vm.start()
    sim.add_actor("worker", vm, lambda actor: (yield actor.execute(1e11)))

    def admin(actor):
        yield actor.sleep(1.0)
        yield sim.migrate_vm(vm, "pm-1", actor)

    sim.add_actor("admin", "controller", admin)
    return sim


@needs_pj_dump
def test_stop_and_copy_runs_from_the_last_round_to_the_move(tmp_path):
    dump = pj_dump(write(_dirty_migration, tmp_path / "t.paje"))
    stages = sorted((e.time, e.value) for e in dump.events if e.container == "vm0")
    assert [value for _, value in stages][:2] == ["stage1", "stage2"] and stages[-1][1] == "stage3"
    assert len(stages) > 3  # several rounds
    [stop] = [s for s in dump.states_of("vm0") if s[3] == "stop-and-copy"]
    # Stage 3 starts when the last round ends and ends when the VM moves (the stage-3 event).
    assert stop[:3] == (t(stages[-2][0]), t(stages[-1][0]), 2)
    [link] = dump.links
    assert link.start == link.end == t(stages[-1][0])


@pytest.mark.parametrize("precision", [3, 9])
@needs_pj_dump
def test_precision_is_the_number_of_digits_of_times_and_values(tmp_path, precision):
    path = write(lifecycle_sim, tmp_path / "t.paje", precision=precision)
    for fields in event_lines(path):
        assert re.fullmatch(rf"\d+\.\d{{{precision}}}", fields[1]), fields
        if fields[0] == "8":
            assert re.fullmatch(rf"\d+\.\d{{{precision}}}", fields[4]), fields
    dump = pj_dump(path)
    [_, second] = dump.containers_named("vm0")
    assert second.start == T(LIFE["moved"], abs=10.0**-precision)


def test_a_precision_out_of_range_is_refused(tmp_path):
    with pytest.raises(ValueError, match="precision"):
        PajeWriter(tmp_path / "t.paje", default_platform(), precision=-1)


# -- pj_dump's view of the runs --------------------------------------------------------------------------------
@needs_pj_dump
def test_lifecycle_as_pajeng_sees_it(tmp_path):
    dump = pj_dump(write(lifecycle_sim, tmp_path / "life.paje"))
    end = LIFE["shutdown"]
    # The platform: hosts and the link in the root container "0" (the root zone), for the whole run.
    for name, kind in (("pm0", "HOST"), ("pm1", "HOST"), ("ctl", "HOST"), ("lan", "LINK")):
        [c] = dump.containers_named(name)
        assert (c.parent, c.type, c.start) == ("0", kind, 0.0) and c.end == T(end, rel=1e-5)
    # vm0 lives in pm0 until it moves at 11.8002, then in pm1 until it is destroyed at 13.8003.
    first, second = dump.containers_named("vm0")
    assert (first.parent, first.type, first.start) == ("pm0", "MSG_VM", 0.0)
    assert first.end == T(LIFE["moved"], rel=1e-5)
    assert (second.parent, second.type) == ("pm1", "MSG_VM")
    assert (second.start, second.end) == (T(LIFE["moved"], rel=1e-5), T(end, rel=1e-5))
    # States (start, end, imbrication, value): "start" from start to the move, then again in pm1 until the
    # shutdown; suspended from 2 to 5; saved from 6 to 10, writing its RAM (1e8 B at 1e8 B/s) from 6 to 7 and
    # reading it back from 9 to 10; migrating from 11 to the move, the last 1e-4 s in stop-and-copy.
    assert dump.states_of("vm0") == [
        (0.0, t(LIFE["moved"]), 0, "start"),
        (t(2.0), t(5.0), 1, "suspend"),
        (t(6.0), t(10.0), 1, "save"),
        (t(6.0), t(7.0), 2, "saving"),
        (t(9.0), t(10.0), 2, "restoring"),
        (t(11.0), t(LIFE["moved"]), 1, "migrate"),
        (t(LIFE["stage1"]), t(LIFE["moved"]), 2, "stop-and-copy"),
        (t(LIFE["moved"]), t(end), 0, "start"),
    ]
    # The migration: one MSG_VM_LINK on the root, from the old vm0 container to the new one, at the move.
    [link] = dump.links
    assert (link.container, link.type, link.value, link.start_container, link.end_container, link.key) == (
        "0", "MSG_VM_LINK", "M", "vm0", "vm0", "M0"
    )
    assert link.start == link.end == t(LIFE["moved"])
    assert [(e.time, e.value) for e in dump.events] == [(t(LIFE["stage1"]), "stage1"), (t(LIFE["moved"]), "stage3")]
    # power_used of vm0 and pm0: the worker's 1e9 flop/s whenever vm0 runs, 0 when it is frozen; then in pm1.
    busy = [(0.0, 2.0), (5.0, 6.0), (10.0, LIFE["stage1"])]
    running = [(t(a), t(b), v(1e9)) for a, b in busy]
    vm_rows = [row for row in dump.variable("vm0", "power_used") if row[2] > 0]
    assert vm_rows == [*running, (t(LIFE["moved"]), t(end), v(1e9))]
    assert [row for row in dump.variable("pm0", "power_used") if row[2] > 0] == running
    assert [row for row in dump.variable("pm1", "power_used") if row[2] > 0] == [(t(LIFE["moved"]), t(end), v(1e9))]
    # The disk: 1e8 B/s while saving and restoring; the LAN: 1.25e8 B/s during stage 1 (after its 1e-4 s).
    assert [row for row in dump.variable("pm0", "disk_used") if row[2] > 0] == [(t(6), t(7), v(1e8)),
                                                                             (t(9), t(10), v(1e8))]
    lan = [row for row in dump.variable("lan", "bandwidth_used") if row[1] > row[0] and row[2] > 0]
    assert lan == [(t(11.0001), t(LIFE["stage1"]), v(1.25e8))]


@needs_pj_dump
def test_two_concurrent_migrations_as_pajeng_sees_them(tmp_path):
    dump = pj_dump(write(migrations_sim, tmp_path / "mig.paje"))
    assert sorted((link.start_container, link.end_container, link.key) for link in dump.links) == [
        ("va", "va", "M0"), ("vb", "vb", "M1")
    ]
    for link in dump.links:
        assert (link.type, link.value, link.start, link.end) == ("MSG_VM_LINK", "M", t(MIG["moved"]), t(MIG["moved"]))
    for vm, src in (("va", "pa"), ("vb", "pb")):
        old, new = dump.containers_named(vm)
        assert (old.parent, old.start, old.end) == (src, 0.0, T(MIG["moved"], rel=1e-5))
        assert (new.parent, new.start, new.end) == ("pc", T(MIG["moved"], rel=1e-5), T(MIG["end"], rel=1e-5))
        assert dump.states_of(vm) == [
            (0.0, t(MIG["moved"]), 0, "start"),
            (t(MIG["start"]), t(MIG["moved"]), 1, "migrate"),
            (t(MIG["stage1"]), t(MIG["moved"]), 2, "stop-and-copy"),
            (t(MIG["moved"]), t(MIG["end"]), 0, "start"),
        ]
    # Both stage-1 flows share the trunk: 5e7 B/s each, 1e8 B/s in all, from 1.0001 to 3.0001.
    trunk = [row for row in dump.variable("trunk", "bandwidth_used") if row[1] > row[0] and row[2] > 0]
    assert trunk == [(t(1.0001), t(MIG["stage1"]), v(1e8))]


@needs_pj_dump
def test_communications_between_actors_as_pajeng_sees_them(tmp_path):
    dump = pj_dump(write(comm_sim, tmp_path / "comm.paje", actors=True))
    parents = {c.name: (c.parent, c.type, c.start, c.end) for c in dump.containers if c.type == "MSG_PROCESS"}
    assert parents == {
        "s": ("A", "MSG_PROCESS", 0.0, T(COMM["s_sent"], rel=1e-5)),
        "r": ("B", "MSG_PROCESS", 0.0, T(COMM["r_done"], rel=1e-5)),
        "p": ("v", "MSG_PROCESS", 0.0, T(COMM["p_sent"], rel=1e-5)),  # p runs in VM v
        "q": ("B", "MSG_PROCESS", 0.0, T(COMM["p_sent"], rel=1e-5)),
    }
    assert dump.states_of("s") == [(0.0, t(0.5), 0, "task_execute"), (t(0.5), t(COMM["s_sent"]), 0, "send")]
    assert dump.states_of("r") == [(t(0.5), t(COMM["s_sent"]), 0, "receive"),
                                   (t(COMM["s_sent"]), t(COMM["r_done"]), 0, "task_execute")]
    assert dump.states_of("p") == [(t(3.0), t(COMM["p_sent"]), 0, "send")]
    assert dump.states_of("q") == [(t(3.0), t(COMM["p_sent"]), 0, "receive")]
    links = sorted((link.start, link.end, link.value, link.start_container, link.end_container, link.key)
                   for link in dump.links)
    assert links == [(t(0.5), t(COMM["s_sent"]), "comm", "s", "r", "C0"),
                     (t(3.0), t(COMM["p_sent"]), "comm", "p", "q", "C1")]
    assert {link.type for link in dump.links} == {"MSG_PROCESS_LINK"}
    # The link carries 1e8 B/s after each transfer's 1 ms of latency: 0.501 to 1.501, and 3.001 to 3.501
    # (the second transfer is bounded by nothing else: 5e7 B in 0.5 s).
    busy = [row for row in dump.variable("L", "bandwidth_used") if row[1] > row[0] and row[2] > 0]
    assert busy == [(t(0.501), t(1.501), v(1e8)), (t(3.001), t(3.501), v(1e8))]
    assert [row for row in dump.variable("A", "power_used") if row[2] > 0] == [(0.0, t(0.5), v(1e9))]
    assert [row for row in dump.variable("B", "power_used") if row[2] > 0] == [(t(1.501), t(2.501), v(1e9))]


@needs_pj_dump
def test_actors_are_left_out_by_default(tmp_path):
    dump = pj_dump(write(comm_sim, tmp_path / "comm.paje"))
    assert not dump.links
    assert {state.type for state in dump.states} == {"MSG_VM_STATE"}  # only VM v's
    assert {c.type for c in dump.containers} == {"0", "HOST", "LINK", "MSG_VM"}
    busy = [row for row in dump.variable("L", "bandwidth_used") if row[1] > row[0] and row[2] > 0]
    assert busy == [(t(0.501), t(1.501), v(1e8)), (t(3.001), t(3.501), v(1e8))]


@needs_pj_dump
def test_migrations_between_hosts_of_different_zone_depths(tmp_path):
    # h1 is a HOST under an L1 zone, h2 under an L2 zone: two HOST types, two MSG_VM types, and a MSG_VM_LINK
    # type for each ordered pair; PajeNG checks that each link's ends have the types its type says.
    path = write(nested_sim, tmp_path / "nested.paje")
    dump = pj_dump(path)
    zones = {c.name: (c.parent, c.type) for c in dump.containers if re.fullmatch(r"L\d+", c.type)}
    assert zones == {"hall": ("0", "L1"), "wing": ("0", "L1"), "bay": ("wing", "L2")}
    hosts = {c.name: c.parent for c in dump.containers if c.type == "HOST"}
    assert hosts == {"h1": "hall", "h2": "bay"}
    assert [(c.parent, c.start) for c in dump.containers_named("v")] == [
        ("h1", 0.0), ("h2", T(NESTED["moved"], rel=1e-5)), ("h1", T(NESTED["back"], rel=1e-5))
    ]
    assert sorted((link.start, link.key) for link in dump.links) == [(t(NESTED["moved"]), "M0"),
                                                                     (t(NESTED["back"]), "M1")]
    link_types = [line for line in path.read_text().splitlines() if line.startswith("4 ")]
    assert len(link_types) == 4 and all(line.endswith(" MSG_VM_LINK") for line in link_types)


@needs_pj_dump
def test_the_embedded_default_platform_traces(tmp_path):
    dump = pj_dump(write(_dirty_migration, tmp_path / "t.paje", actors=True))
    zones = {c.name: c.type for c in dump.containers if c.parent == "0" and c.name != "0"}
    assert zones == {"rack": "L1", "ops": "L1", "uplink": "LINK"}
    assert {c.name for c in dump.containers if c.type == "ROUTER"} == {"rack-router", "ops-gw"}


# -- golden and determinism -------------------------------------------------------------------------------------
def test_golden_lifecycle_trace(tmp_path):
    produced = write(lifecycle_sim, tmp_path / "lifecycle.paje").read_bytes()
    golden = GOLDEN / "lifecycle.paje"
    assert_golden(produced, golden)


def test_the_same_run_gives_the_same_bytes(tmp_path):
    # Twice in one process: the model's own counters (migration keys ...) must not leak into the file.
    first = write(migrations_sim, tmp_path / "a.paje", actors=True).read_bytes()
    second = write(migrations_sim, tmp_path / "b.paje", actors=True).read_bytes()
    assert first == second
