"""A policy in the loop in the Paje and CSV traces: ``POLICY`` events (why a VM was placed or moved, why a host was
switched), ``booting`` over a host's ``off``, the ``requested`` variable of hosts and VMs; read back by the real
pj_dump, with the dates derived by hand in :mod:`tests.policy_runs`, and by the CSV writer, which must say what
pj_dump says. A run without a policy has none of it (its traces are byte for byte the golden ones:
``test_tracing_paje``, ``test_tracing_csv``).
"""

from __future__ import annotations

from collections import Counter

import polars as pl
import pytest

from replay import events
from replay.events import ResourceKind
from tests.helpers import platform
from tests.policy_runs import T2, policy_run
from tests.test_tracing_scenarios import GOLDEN, PjDump, needs_pj_dump, pj_dump
from tracing.paje_model import PajeModel
from tracing.paje_policy import decision_label
from tracing.paje_types import BOOTING_VALUES, DefineType, DefineValue, NewEvent, PopState, PushState, SetVariable

T = pytest.approx


def events_of(dump: PjDump, paje_type: str) -> list[tuple[str, float, str]]:
    return sorted((e.container, e.time, e.value) for e in dump.events if e.type == paje_type)


@needs_pj_dump
def test_pj_dump_reads_why_hosts_were_switched_and_booted(boot):
    dump = pj_dump(boot["paje"])
    assert events_of(dump, "POLICY") == [
        ("pm0", 0.0, "power_off pm0 (empty)"), ("pm0", 5.0, "place v0 on pm0 (placement)"),
        ("pm0", 5.0, "power_on pm0 (needed)"), ("pm0", 40.0, "power_off pm0 (empty)"),
        ("pm1", 0.0, "power_off pm1 (empty)"),
    ]
    # off from 0 to the end of its boot, booting on top of it from 5 to 15 s; off again at 40, for no time
    assert [s for s in dump.states_of("pm0") if s[3] in ("off", "booting")] == [
        (0.0, 15.0, 0, "off"), (5.0, 15.0, 1, "booting"), (40.0, 40.0, 0, "off")]
    assert dump.states_of("pm1") == [(0.0, 40.0, 0, "off")]
    # w asks 0.5 x 1 core x 1 Gf/s from 15 to 35 s, on v0 and so on pm0
    assert dump.variable("pm0", "requested") == [(15.0, 35.0, 5e8), (35.0, 40.0, 0.0)]
    assert dump.variable("v0", "requested") == [(15.0, 35.0, 5e8), (35.0, 40.0, 0.0)]
    assert dump.variable("pm1", "requested") == [] and dump.variable("ctl", "requested") == []
    assert dump.variable("pm0", "power") == [(0.0, 5.0, 10.0), (5.0, 15.0, 150.0), (15.0, 35.0, 160.0),
                                             (35.0, 40.0, 100.0), (40.0, 40.0, 10.0)]


@needs_pj_dump
def test_pj_dump_reads_why_a_busy_vm_moved_and_what_the_hosts_asked(saturated):
    dump = pj_dump(saturated["paje"])
    assert events_of(dump, "POLICY") == [("pm0", 10.0, "migrate v2 pm0 -> pm1 (overload)")]
    t2 = round(T2, 6)  # the Paje file has 6 digits (T2 = 10.868581381...)
    # three VMs asking a core each on pm0 until v2 moves at T2, two after; v2's requested follows it to pm1
    assert dump.variable("pm0", "requested") == [(0.0, t2, 3e9), (t2, 30.0, 2e9), (30.0, 30.0, 0.0)]
    assert dump.variable("pm1", "requested") == [(t2, 30.0, 1e9), (30.0, 30.0, 0.0)]
    assert dump.variable("v2", "requested") == [(0.0, t2, 1e9), (t2, 30.0, 1e9), (30.0, 30.0, 0.0)]
    assert [c.parent for c in dump.containers_named("v2")] == ["pm0", "pm1"]
    assert not [s for s in dump.states if s.type == "HOST_STATE"]


@pytest.mark.parametrize("name", ["boot", "saturated"])
@needs_pj_dump
def test_the_csv_says_what_pj_dump_says(request, name):
    run = request.getfixturevalue(name)
    dump, table = pj_dump(run["paje"]), pl.read_csv(run["csv"])

    def rows(kind: str, *columns: str) -> list[tuple]:
        return table.filter(pl.col("kind") == kind).select(*columns).rows()

    def time(x: float) -> float:
        return round(x, 6)

    assert Counter((c, t, time(s), v) for c, t, s, v in rows("event", "container", "type", "start", "label")) == \
        Counter((e.container, e.type, time(e.time), e.value) for e in dump.events)
    assert Counter((c, t, time(s), time(e), d, v)
                   for c, t, s, e, d, v in rows("state", "container", "type", "start", "end", "depth", "label")) == \
        Counter((s.container, s.type, time(s.start), time(s.end), s.depth, s.value) for s in dump.states)
    csv_variables = sorted((c, t, time(s), time(e), v)
                           for c, t, s, e, v in rows("variable", "container", "type", "start", "end", "value"))
    paje_variables = sorted((v.container, v.type, time(v.start), time(v.end), v.value) for v in dump.variables)
    assert [row[:4] for row in csv_variables] == [row[:4] for row in paje_variables]
    assert [row[4] for row in csv_variables] == T([row[4] for row in paje_variables], rel=1e-6)


def test_the_same_run_gives_the_same_bytes(boot, tmp_path):
    again = policy_run(tmp_path, "boot")
    for kind in ("paje", "csv"):
        assert again[kind].read_bytes() == boot[kind].read_bytes()


def test_a_run_without_a_policy_has_none_of_it():
    text = (GOLDEN / "lifecycle.paje").read_text()
    assert all(word not in text for word in ("POLICY", "requested", "booting"))


# -- the model's operations ------------------------------------------------------------------------------------------
def model() -> PajeModel:
    paje = PajeModel(platform('<host id="h" speed="1Gf" core="2"/>'))
    paje.start()
    return paje


def test_booting_sits_on_off_and_both_end_when_the_host_is_on():
    paje = model()
    off = paje.handle(events.HostStateChanged(1.0, "h", False, "switched off by policy p (empty)"))
    booting = paje.handle(events.HostBooting(2.0, "h", 5.0))
    on = paje.handle(events.HostStateChanged(5.0, "h", True))
    assert [type(op) for op in off] == [DefineType, DefineValue, DefineType, PushState, NewEvent]
    # the booting value is defined once, late, after the HOST_STATE type the switch-off defined
    [define] = [op for op in booting if isinstance(op, DefineValue)]
    assert (define.value.name, define.value.color) == ("booting", BOOTING_VALUES["booting"])
    assert [(type(op), op.value.name) for op in booting if isinstance(op, PushState)] == [(PushState, "booting")]
    assert [(type(op), op.time) for op in on] == [(PopState, 5.0), (PopState, 5.0)]
    # a second boot reuses the value
    paje.handle(events.HostStateChanged(6.0, "h", False, "again"))
    assert not [op for op in paje.handle(events.HostBooting(7.0, "h", 9.0)) if isinstance(op, DefineValue)]
    assert len([op for op in paje.handle(events.HostStateChanged(9.0, "h", True)) if isinstance(op, PopState)]) == 2


def test_a_host_that_comes_back_from_a_failure_pops_its_off_only():
    paje = model()
    paje.handle(events.HostStateChanged(1.0, "h", False, "failure"))
    assert [type(op) for op in paje.handle(events.HostStateChanged(2.0, "h", True))] == [PopState]


def test_requested_is_defined_at_its_first_use_and_follows_the_vm():
    paje = model()
    paje.handle(events.VmCreated(0.0, "v", "h", 1, 1e8))
    first = paje.handle(events.DemandChanged(1.0, ResourceKind.HOST, "h", 2e9))
    assert [type(op) for op in first] == [DefineType, SetVariable]
    assert (first[0].type.name, first[0].type.parent.name, first[1].value) == ("requested", "HOST", 2e9)
    assert [type(op) for op in paje.handle(events.DemandChanged(2.0, ResourceKind.HOST, "h", 1e9))] == [SetVariable]
    vm = paje.handle(events.DemandChanged(2.0, ResourceKind.VM, "v", 5e8))
    assert (vm[0].type.parent.name, vm[1].value) == ("MSG_VM", 5e8)
    assert paje.handle(events.DemandChanged(2.0, ResourceKind.LINK, "h", 1.0)) == []


@pytest.mark.parametrize(("action", "vm", "host", "dst", "reason", "label"), [
    ("place", "vm3", "pm-2", "", "placement", "place vm3 on pm-2 (placement)"),
    ("migrate", "vm3", "pm-0", "pm-5", "overload", "migrate vm3 pm-0 -> pm-5 (overload)"),
    ("power_off", "", "pm-4", "", "empty", "power_off pm-4 (empty)"),
    ("power_on", "", "pm-4", "", "needed", "power_on pm-4 (needed)"),
    ("drain", "", "pm-4", "", 'user "quota"', "drain pm-4 (user 'quota')"),  # a policy's own; no double quote
])
def test_decision_labels(action, vm, host, dst, reason, label):
    assert decision_label(events.PolicyDecision(0.0, "p", action, vm, host, dst, reason)) == label
