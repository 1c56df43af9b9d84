"""The shared translation (tracing.paje_model): types from the platform, records to Paje operations."""

from __future__ import annotations

import pytest

from replay import events
from replay.events import ResourceKind
from replay.lifecycle import VmOperation, VmState
from replay.platform import default_platform, load_platform
from tests.test_tracing_scenarios import DATA, _simulation, needs_pj_dump, pj_dump, trace
from tracing.paje import PajeWriter
from tracing.paje_model import PajeModel
from tracing.paje_types import (
    VM_STACKS,
    CreateContainer,
    DestroyContainer,
    EndLink,
    NewEvent,
    PopState,
    PushState,
    SetVariable,
    StartLink,
)

LIFE_PLATFORM = load_platform(DATA / "lifecycle.xml")
VM, LINK = ResourceKind.VM, ResourceKind.LINK


def started(platform=LIFE_PLATFORM, **options) -> PajeModel:
    model = PajeModel(platform, **options)
    model.start()
    return model


def states(ops) -> list[tuple[str, ...]]:
    """The state operations as (push, value) / (pop,), for reading."""
    out = []
    for op in ops:
        if isinstance(op, PushState):
            out.append(("push", op.value.name))
        elif isinstance(op, PopState):
            out.append(("pop",))
    return out


def change(model, time, old, new, operation, vm="vm0", pm="pm0"):
    record = events.VmStateChanged(time, vm, pm, VmState[old], VmState[new], VmOperation[operation.upper()])
    return model.handle(record)


def test_every_vm_state_has_a_stack():
    # A new VM state cannot be added without saying how it is drawn.
    assert set(VM_STACKS) == set(VmState)


def test_types_of_the_default_platform():
    model = PajeModel(default_platform())
    by_alias = {t.alias: t for t in model.types}
    tree = {(t.kind, t.name, t.parent.name if t.parent else None) for t in model.types}
    # datacenter (root, type 0) holds the zones rack and ops (L1) and the link uplink; the PMs are in rack.
    assert {("container", "L1", "0"), ("container", "LINK", "0"), ("container", "HOST", "L1"),
            ("container", "LINK", "L1"), ("container", "ROUTER", "L1"), ("container", "MSG_VM", "HOST"),
            ("state", "MSG_VM_STATE", "MSG_VM"), ("variable", "power_used", "HOST"),
            ("variable", "power_used", "MSG_VM"), ("variable", "bandwidth_used", "LINK"),
            ("event", "MSG_VM_MIGRATION", "MSG_VM"), ("link", "MSG_VM_LINK", "0")} <= tree
    assert not any(t.name == "MSG_PROCESS" for t in model.types)  # actors are off by default
    assert not any(t.name == "disk_used" for t in model.types)  # no host has a disk
    # Aliases are distinct integers; types and values share one counter, the root type is 0.
    aliases = [t.alias for t in model.types] + [v.alias for v in model.values]
    assert sorted(aliases) == list(range(len(aliases)))
    assert by_alias[0].name == "0" and by_alias[0].parent is None


def test_one_host_type_per_zone_depth_and_a_vm_link_type_per_pair():
    model = PajeModel(load_platform(DATA / "nested.xml"), actors=True)
    hosts = [t for t in model.types if t.name == "HOST"]
    assert [h.parent.name for h in hosts] == ["L1", "L2"]
    vm_links = [t for t in model.types if t.name == "MSG_VM_LINK"]
    assert {(link.start.parent.parent.name, link.end.parent.parent.name) for link in vm_links} == {
        ("L1", "L1"), ("L1", "L2"), ("L2", "L1"), ("L2", "L2")
    }
    actor_links = [t for t in model.types if t.name == "MSG_PROCESS_LINK"]
    assert len(actor_links) == 16  # actors on hosts and in VMs, at two depths: 4 x 4


def test_platform_containers_are_created_at_zero_with_their_usage_at_zero():
    model = PajeModel(default_platform())
    ops = model.start()
    created = [op.container for op in ops if isinstance(op, CreateContainer)]
    assert all(op.time == 0.0 for op in ops)
    names = [c.name for c in created]
    assert "__loopback__" not in names  # SimGrid leaves the model's loopback out too
    assert {"rack", "ops", "pm-0", "controller", "uplink", "rack_backbone", "rack-router"} <= set(names)
    assert [c.alias for c in created] == list(range(1, len(created) + 1))  # the root container is 0
    variables = {(op.container.name, op.type.name) for op in ops if isinstance(op, SetVariable)}
    assert ("pm-0", "power_used") in variables and ("uplink", "bandwidth_used") in variables
    # usages start at 0; the power of each PM starts at its idle watts (100 W), its power state at 0
    assert all(op.value == 0.0 for op in ops if isinstance(op, SetVariable) and op.type.name.endswith("_used"))
    assert {op.value for op in ops if isinstance(op, SetVariable) and op.type.name == "power"} == {100.0}
    assert {op.value for op in ops if isinstance(op, SetVariable) and op.type.name == "pstate"} == {0.0}
    pm0 = next(c for c in created if c.name == "pm-0")
    assert (pm0.parent.name, pm0.depth) == ("rack", 2)


def test_vm_states_are_pushed_and_popped_as_the_stack_wants():
    model = started()
    [create, zero] = model.handle(events.VmCreated(0.0, "vm0", "pm0", 1, 1e9))
    assert isinstance(create, CreateContainer) and create.container.parent.name == "pm0"
    assert (zero.type.name, zero.value) == ("power_used", 0.0)
    assert states(change(model, 0, "CREATED", "RUNNING", "start")) == [("push", "start")]
    assert states(change(model, 1, "RUNNING", "SUSPENDED", "suspend")) == [("push", "suspend")]
    assert states(change(model, 2, "SUSPENDED", "RUNNING", "resume")) == [("pop",)]
    assert states(change(model, 3, "RUNNING", "SAVING", "save")) == [("push", "save"), ("push", "saving")]
    assert states(change(model, 4, "SAVING", "SAVED", "save_done")) == [("pop",)]
    assert states(change(model, 5, "SAVED", "RESTORING", "restore")) == [("push", "restoring")]
    assert states(change(model, 6, "RESTORING", "RUNNING", "restore_done")) == [("pop",), ("pop",)]
    assert states(change(model, 7, "RUNNING", "SUSPENDED", "suspend")) == [("push", "suspend")]
    assert states(change(model, 8, "SUSPENDED", "CREATED", "shutdown")) == [("pop",), ("pop",)]
    assert states(change(model, 9, "CREATED", "DESTROYED", "destroy")) == []
    [destroy] = model.handle(events.VmDestroyed(9.0, "vm0", "pm0"))
    assert isinstance(destroy, DestroyContainer) and destroy.container is create.container


def test_a_vm_first_seen_in_a_state_change_is_created_then():
    # A sink subscribed after the VM was created: its container appears when the VM is first heard of.
    model = started()
    ops = change(model, 4.0, "RUNNING", "SUSPENDED", "suspend")
    assert isinstance(ops[0], CreateContainer) and ops[0].time == 4.0
    assert states(ops) == [("push", "start"), ("push", "suspend")]


def test_a_move_redraws_the_vm_in_its_new_pm():
    model = started()
    model.handle(events.VmCreated(0.0, "vm0", "pm0", 1, 1e9))
    change(model, 0, "CREATED", "RUNNING", "start")
    model.handle(events.ResourceUsed(0.0, VM, "vm0", 5e8))
    model.handle(events.MigrationStarted(1.0, "vm0", "pm0", "pm1", "k"))
    assert states(change(model, 1, "RUNNING", "MIGRATING", "migrate")) == [("push", "migrate")]
    ops = model.handle(events.VmMoved(2.0, "vm0", "pm0", "pm1"))
    kinds = [type(op).__name__ for op in ops]
    assert kinds == ["StartLink", "DestroyContainer", "CreateContainer", "EndLink", "SetVariable", "PushState"]
    start, destroy, create, end, power, push = ops
    assert start.start is destroy.container and end.end is create.container
    assert start.key == end.key == "M0" and start.type is end.type and start.value == "M"
    assert create.container.name == "vm0" and create.container.alias != destroy.container.alias
    assert create.container.parent.name == "pm1"
    assert power.value == 5e8  # the VM's last rate, set again in its new container
    assert push.value.name == "start"  # the stack without "migrate", which ends at once
    assert states(change(model, 2, "MIGRATING", "RUNNING", "migrate_done", pm="pm1")) == []


def migrating(model):
    """vm0 running on pm0 from 0, migrating to pm1 from 1 s, its stage 1 over at 3 s."""
    model.handle(events.VmCreated(0.0, "vm0", "pm0", 1, 1e9))
    change(model, 0, "CREATED", "RUNNING", "start")
    model.handle(events.MigrationStarted(1.0, "vm0", "pm0", "pm1", "k"))
    change(model, 1, "RUNNING", "MIGRATING", "migrate")
    model.handle(events.MigrationStage(3.0, "vm0", "k", 1, 0, 1e9, 2.0))
    return model


def test_stop_and_copy_is_pushed_after_the_other_operations_of_its_date():
    # Stop-and-copy begins at 3 s (its record); the rates its freeze changes come at 3 s too, and the push is
    # written after them, when the first record of a later date arrives; the stage-3 record pops it.
    model = migrating(started())
    assert model.handle(events.StopAndCopyStarted(3.0, "vm0", "k")) == []
    [rate] = model.handle(events.ResourceUsed(3.0, VM, "vm0", 0.0))
    assert (rate.time, rate.type.name) == (3.0, "power_used")
    push, link = model.handle(events.ResourceUsed(3.2, LINK, "lan", 1e8))
    assert isinstance(push, PushState) and (push.time, push.value.name) == (3.0, "stop-and-copy")
    assert isinstance(link, SetVariable) and link.time == 3.2
    ops = model.handle(events.MigrationStage(3.5, "vm0", "k", 3, 0, 1e7, 0.5))
    assert [(op.time, op.value) for op in ops if op.type.name == "MSG_VM_MIGRATION"] == [(3.5, "stage3")]
    assert [op.time for op in ops if isinstance(op, PopState)] == [3.5]
    assert not any(isinstance(op, PushState) for op in ops)


def test_a_stop_and_copy_that_takes_no_time_is_pushed_and_popped_at_its_date():
    model = migrating(started())
    model.handle(events.StopAndCopyStarted(3.0, "vm0", "k"))
    ops = model.handle(events.MigrationStage(3.0, "vm0", "k", 3, 0, 0, 0.0))
    assert [type(op).__name__ for op in ops] == ["NewEvent", "PushState", "PopState"]
    assert all(op.time == 3.0 for op in ops)


def test_a_migration_aborted_as_its_stop_and_copy_begins_draws_none():
    # The VM is shut down at the very date its stop-and-copy began: the stack is gone, nothing is pushed.
    model = migrating(started())
    model.handle(events.StopAndCopyStarted(3.0, "vm0", "k"))
    assert states(change(model, 3.0, "MIGRATING", "CREATED", "shutdown")) == [("pop",), ("pop",)]
    assert states(model.handle(events.ResourceUsed(4.0, LINK, "lan", 0.0))) == []


def _report(converged: bool, end: float = 5.0) -> events.MigrationReport:
    return events.MigrationReport("vm0", "pm0", "pm1", "k", 1.0, end, 0.5, 10**9, 0, 0, 3, converged)


def test_a_forced_migration_is_marked_when_it_ends():
    # The report is the first record to say the stop-and-copy was forced: a "forced" MSG_VM_MIGRATION event
    # on the VM where it now is (pm1), at the migration's end; a converged migration adds nothing.
    model = migrating(started())
    model.handle(events.VmMoved(4.0, "vm0", "pm0", "pm1"))
    [mark] = model.handle(events.MigrationEnded(5.0, _report(converged=False)))
    assert isinstance(mark, NewEvent) and (mark.time, mark.type.name, mark.value) == (5.0, "MSG_VM_MIGRATION",
                                                                                       "forced")
    assert (mark.container.name, mark.container.parent.name) == ("vm0", "pm1")
    other = migrating(started())
    assert other.handle(events.MigrationEnded(5.0, _report(converged=True))) == []


@needs_pj_dump
def test_pajeng_reads_the_forced_mark(tmp_path):
    from tests.test_analysis import PAIR, forced

    path = tmp_path / "f.paje"
    trace(forced, PajeWriter(path, PAIR))
    hot = sorted((event.time, event.value) for event in pj_dump(path).events if event.container == "hot")
    idle = [event.value for event in pj_dump(path).events if event.container == "idle"]
    # stage 1, ten stage-2 rounds, stage 3 at the move, and the mark when the acknowledgement ends it
    assert [value for _, value in hot] == ["stage1", *["stage2"] * 10, "stage3", "forced"]
    assert hot[-1][0] > hot[-2][0] and sorted(idle) == ["stage1", "stage3"]


def test_finish_destroys_everything_but_the_root_children_first():
    model = started(actors=True)
    model.handle(events.VmCreated(0.0, "vm0", "pm0", 1, 1e9))
    change(model, 0, "CREATED", "RUNNING", "start")
    model.handle(events.ActorStarted(0.0, "w", "vm0"))
    ops = model.handle(events.RunEnded(7.0))
    destroyed = [op.container.name for op in ops if isinstance(op, DestroyContainer)]
    assert all(op.time == 7.0 for op in ops)
    assert destroyed.index("w") < destroyed.index("vm0") < destroyed.index("pm0")
    assert set(destroyed) == {"pm0", "pm1", "ctl", "lan", "vm0", "w"}
    assert model.root.children == {}
    assert model.finish() == [] and model.handle(events.RunEnded(8.0)) == []


def test_usage_of_unknown_resources_is_ignored_and_disks_have_their_variable():
    model = started()
    assert model.handle(events.ResourceUsed(1.0, LINK, "__loopback__", 5.0)) == []
    assert model.handle(events.ResourceUsed(1.0, VM, "ghost", 5.0)) == []
    [disk] = model.handle(events.ResourceUsed(1.0, ResourceKind.DISK, "pm0", 1e8))
    assert (disk.container.name, disk.type.name, disk.value) == ("pm0", "disk_used", 1e8)
    [link] = model.handle(events.ResourceUsed(1.0, LINK, "lan", 2e7))
    assert (link.container.name, link.type.name) == ("lan", "bandwidth_used")


def _killed_receiver(listeners=()):
    # rx runs in VM v on A and receives 1e9 B from tx on B (10 s over L); the admin shuts v down at 1 s:
    # rx is killed mid-transfer, tx's send fails, and no CommEnded ever comes.
    sim = _simulation("comm.xml", listeners)
    vm = sim.create_vm("v", "A")
    vm.start()

    def rx(actor):
        yield actor.recv("m")

    def tx(actor):
        with pytest.raises(Exception, match="killed"):
            yield actor.send("m", 1e9)

    def admin(actor):
        yield actor.sleep(1.0)
        vm.shutdown(actor)

    sim.add_actor("rx", vm, rx)
    sim.add_actor("tx", "B", tx)
    sim.add_actor("admin", "B", admin)
    return sim


@needs_pj_dump
def test_a_killed_actor_ends_its_communications(tmp_path):
    path = tmp_path / "t.paje"
    trace(_killed_receiver, PajeWriter(path, _killed_receiver().platform, actors=True))
    dump = pj_dump(path)  # PajeNG refuses a trace with a link left open
    [link] = dump.links
    assert (link.start, link.end, link.start_container, link.end_container) == (0.0, 1.0, "tx", "rx")
    assert dump.states_of("tx") == [(0.0, 1.0, 0, "send")]
    assert dump.states_of("rx") == [(0.0, 1.0, 0, "receive")]


def test_links_are_keyed_per_model_not_per_process():
    # The engine's migration keys grow across runs in one process; ours restart with every model.
    for _ in range(2):
        model = started()
        model.handle(events.VmCreated(0.0, "vm0", "pm0", 1, 1e9))
        ops = model.handle(events.VmMoved(1.0, "vm0", "pm0", "pm1"))
        assert [op.key for op in ops if isinstance(op, StartLink | EndLink)] == ["M0", "M0"]
