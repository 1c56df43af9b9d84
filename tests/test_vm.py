"""Virtual machines: the transition table, the lifecycle through the API, and two-level CPU sharing (VM_HL13)."""

from __future__ import annotations

import itertools

import pytest

from replay.errors import DeadlockError, StateError
from replay.lifecycle import TRANSITIONS, VmOperation, VmState
from replay.simulation import Simulation
from replay.vm import VmConfig
from tests.helpers import platform

PMS = platform(
    '<host id="pm1" speed="1Gf" core="1"/>'
    '<host id="pm2" speed="1Gf" core="2"/>'
    '<host id="pm4" speed="1Gf" core="4"/>'
    '<host id="disk" speed="1Gf" core="1"><prop id="disk_bandwidth" value="100MBps"/>'
    '<prop id="ramsize" value="3GiB"/></host>'
)


def compute(actor, flops):
    yield actor.execute(flops)


def running_vm_with_task(flops, *, pm="pm1", name="t", **vm_options):
    """A simulation with a running VM "vm0" on ``pm`` and an actor computing ``flops`` in it."""
    sim = Simulation(PMS)
    vm = sim.create_vm("vm0", pm, **vm_options)
    vm.start()
    return sim, vm, sim.add_actor(name, vm, compute, flops)


# -- the transition table -------------------------------------------------------------------------------------

Op = VmOperation
LEGAL = {
    (Op.START, VmState.CREATED): VmState.RUNNING,
    (Op.SUSPEND, VmState.RUNNING): VmState.SUSPENDED,
    (Op.RESUME, VmState.SUSPENDED): VmState.RUNNING,
    (Op.SAVE, VmState.RUNNING): VmState.SAVING,
    (Op.SAVE_DONE, VmState.SAVING): VmState.SAVED,
    (Op.RESTORE, VmState.SAVED): VmState.RESTORING,
    (Op.RESTORE_DONE, VmState.RESTORING): VmState.RUNNING,
    (Op.MIGRATE, VmState.RUNNING): VmState.MIGRATING,
    (Op.MIGRATE_DONE, VmState.MIGRATING): VmState.RUNNING,
    **{(Op.SHUTDOWN, s): VmState.CREATED for s in VmState if s not in (VmState.CREATED, VmState.DESTROYED)},
    **{(Op.DESTROY, s): VmState.DESTROYED for s in VmState if s is not VmState.DESTROYED},
}


@pytest.mark.parametrize(("operation", "state"), list(itertools.product(TRANSITIONS, VmState)))
def test_every_operation_in_every_state(operation, state):
    # The table above is the lifecycle written out by hand (the 2013 model: shutdown powers off to CREATED,
    # destroy works from any living state); the module's table must say exactly the same.
    vm = Simulation(PMS).create_vm("vm0", "pm1")
    vm.state = state
    if (operation, state) in LEGAL:
        assert vm.check(operation) is LEGAL[(operation, state)]
    else:
        with pytest.raises(StateError) as error:
            vm.check(operation)
        message = str(error.value)
        assert "'vm0'" in message and operation.value in message and state.value in message


def test_illegal_operations_through_the_api_name_vm_operation_and_state():
    sim = Simulation(PMS)
    vm = sim.create_vm("vm0", "pm1")
    with pytest.raises(StateError, match=r"VM 'vm0': cannot suspend in state CREATED"):
        vm.suspend()
    vm.start()
    with pytest.raises(StateError, match=r"VM 'vm0': cannot start in state RUNNING"):
        vm.start()
    with pytest.raises(StateError, match=r"VM 'vm0': cannot restore in state RUNNING"):
        vm.restore()
    vm.destroy()
    with pytest.raises(StateError, match=r"VM 'vm0': cannot resume in state DESTROYED"):
        vm.resume()


def test_names_are_unique_among_hosts_and_vms():
    sim = Simulation(PMS)
    sim.create_vm("vm0", "pm1")
    with pytest.raises(StateError, match="a host or VM of that name already exists"):
        sim.create_vm("vm0", "pm2")
    with pytest.raises(StateError, match="a host or VM of that name already exists"):
        sim.create_vm("pm2", "pm1")
    sim.vm("vm0").destroy()
    assert sim.create_vm("vm0", "pm2").pm.name == "pm2"  # a destroyed VM's name is free again


# -- two-level sharing -------------------------------------------------------------------------------------------

def shares(layout):
    """Start ``layout``: a PM name, VMs as (cores, n_tasks, bound), and tasks on the PM, every task computing
    1e8 flops from 0; return the rate each task gets at first (read just after the start)."""
    pm, vms, pm_tasks = layout
    sim = Simulation(PMS)
    names = []
    for v, (cores, tasks, bound) in enumerate(vms):
        vm = sim.create_vm(f"vm{v}", pm, cores=cores, bound=bound)
        vm.start()
        for t in range(tasks):
            names.append(sim.add_actor(f"vm{v}.t{t}", vm, compute, 1e8).name)
    for t in range(pm_tasks):
        names.append(sim.add_actor(f"pm.t{t}", pm, compute, 1e8).name)
    sim.run(until=1e-3)
    return {name: sim.actors[name].waiting.activity.rate for name in names}


INF = float("inf")


@pytest.mark.parametrize(
    ("layout", "expected"),
    [
        # A task in a 1-vCPU VM on a 1-core PM: the VM gets the core, the task all of it.
        (("pm1", [(1, 1, INF)], 0), {"vm0.t0": 1e9}),
        # Two tasks in it: the VM is bounded by min(2, 1) core = 1 Gf/s, shared by the two: 0.5 Gf/s each.
        (("pm1", [(1, 2, INF)], 0), {"vm0.t0": 5e8, "vm0.t1": 5e8}),
        # An idle VM takes no share: the task on the PM gets the whole core.
        (("pm1", [(1, 0, INF)], 1), {"pm.t0": 1e9}),
        # A VM task next to a PM task: both variables have penalty 1 on the 1 Gf/s core: 0.5 Gf/s each.
        (("pm1", [(1, 1, INF)], 1), {"vm0.t0": 5e8, "pm.t0": 5e8}),
        # Two tasks in the VM do not give it a bigger share on a 1-core PM with a 1-vCPU VM: still 1/2, so 1/4
        # per VM task.
        (("pm1", [(1, 2, INF)], 1), {"vm0.t0": 2.5e8, "vm0.t1": 2.5e8, "pm.t0": 5e8}),
        # A 2-vCPU VM with 2 tasks and a PM task on a 4-core PM: the VM's penalty is 1/2 (bound 2 Gf/s), the task's
        # 1 (bound 1 Gf/s). Filling 4 Gf/s: VM 2 rho, task rho; both bounds are hit first (rho = 1e9):
        # VM 2 Gf/s (1 per task), PM task 1 Gf/s.
        (("pm4", [(2, 2, INF)], 1), {"vm0.t0": 1e9, "vm0.t1": 1e9, "pm.t0": 1e9}),
        # A 2-vCPU VM with 3 tasks on a 1-core PM: n = min(3, 2) = 2, bound 2 Gf/s but the PM has 1 Gf/s; the
        # three tasks share 1 Gf/s: 1/3 each.
        (("pm1", [(2, 3, INF)], 0), {f"vm0.t{i}": 1e9 / 3 for i in range(3)}),
        # A 2-vCPU VM (2 tasks, penalty 1/2) and a 1-vCPU VM (1 task, penalty 1) on a 2-core PM: 2 rho + rho = 2e9,
        # rho = 2/3 e9 < both bound levels (2e9 x 1/2 = 1e9 and 1e9): VM0 4/3 Gf/s (2/3 per task), VM1 2/3 Gf/s.
        (("pm2", [(2, 2, INF), (1, 1, INF)], 0), {"vm0.t0": 2e9 / 3, "vm0.t1": 2e9 / 3, "vm1.t0": 2e9 / 3}),
        # A VM bounded at 0.3 Gf/s with one task on a 1-core PM: the task gets 0.3 Gf/s.
        (("pm1", [(1, 1, 3e8)], 0), {"vm0.t0": 3e8}),
        # Same bound with a PM task beside: VM 0.3 Gf/s (bound), the PM task the remaining 0.7 Gf/s.
        (("pm1", [(1, 1, 3e8)], 1), {"vm0.t0": 3e8, "pm.t0": 7e8}),
    ],
)
def test_two_level_sharing(layout, expected):
    got = shares(layout)
    assert got == pytest.approx(expected, rel=1e-9)


def test_set_bound_mid_run():
    # 1e9 flops in a VM on a 1 Gf/s core; at t = 0.5 s (0.5e9 done) the VM is bounded at 0.25 Gf/s: the
    # remaining 0.5e9 take 2 s more, so the task ends at 2.5 s.
    sim, vm, task = running_vm_with_task(1e9)

    def admin(actor):
        yield actor.sleep(0.5)
        vm.set_bound(2.5e8)

    sim.add_actor("admin", "pm2", admin)
    sim.run()
    assert task.end_time == pytest.approx(2.5, rel=1e-9)


# -- lifecycle ---------------------------------------------------------------------------------------------------

def test_suspend_freezes_tasks_and_resume_continues_them():
    # 1e9 flops at 1 Gf/s would end at 1 s; suspended from 0.4 s to 1.0 s, the task ends 0.6 s later: 1.6 s.
    sim, vm, task = running_vm_with_task(1e9)

    def admin(actor):
        yield actor.sleep(0.4)
        vm.suspend(actor)
        assert vm.state is VmState.SUSPENDED
        yield actor.sleep(0.6)
        vm.resume()

    sim.add_actor("admin", "pm2", admin)
    sim.run()
    assert task.end_time == pytest.approx(1.6, rel=1e-9)


def test_actor_on_a_vm_waits_for_it_to_start():
    # The VM is started at 3 s: the task placed on it starts then, and ends 1e9 / 1e9 = 1 s later.
    sim = Simulation(PMS)
    vm = sim.create_vm("vm0", "pm1")
    task = sim.add_actor("t", vm, compute, 1e9)

    def admin(actor):
        yield actor.sleep(3.0)
        vm.start()

    sim.add_actor("admin", "pm2", admin)
    sim.run()
    assert (task.start_time, task.end_time) == (3.0, pytest.approx(4.0))


def test_an_actor_cannot_suspend_its_own_vm():
    sim = Simulation(PMS)
    vm = sim.create_vm("vm0", "pm1")
    vm.start()

    def selfish(actor):
        vm.suspend(actor)
        yield actor.sleep(1)

    sim.add_actor("x", vm, selfish)
    with pytest.raises(StateError, match="actor 'x' cannot suspend the VM it runs in"):
        sim.run()


def test_shutdown_kills_the_actors_and_the_vm_can_start_again():
    # A task of 10 Gflop in the VM is killed by the shutdown at 1 s; the VM is CREATED again and a new task
    # started after a restart at 2 s computes 1 Gflop alone: it ends at 3 s.
    sim, vm, doomed = running_vm_with_task(1e10, name="doomed")

    def admin(actor):
        yield actor.sleep(1.0)
        vm.shutdown(actor)
        assert vm.state is VmState.CREATED
        yield actor.sleep(1.0)
        vm.start()
        sim.add_actor("fresh", vm, compute, 1e9)

    sim.add_actor("admin", "pm2", admin)
    sim.run()
    assert doomed.killed and doomed.end_time == 1.0
    assert sim.actors["fresh"].end_time == pytest.approx(3.0)


def test_save_and_restore_cost_a_disk_write_and_read_of_the_ram():
    # PM "disk" has a 100 MBps disk: saving a 1e9-byte VM writes its RAM in 1e9 / 1e8 = 10 s, restoring reads
    # it in 10 s more. The VM's task of 2e9 flops at 1 Gf/s has done 1e9 when the save starts at 1 s; it is
    # frozen while SAVING, SAVED and RESTORING (1 s to 21 s), then computes its last 1e9 flops: it ends at 22 s.
    sim, vm, task = running_vm_with_task(2e9, pm="disk", ramsize=1e9)
    dates = {}

    def admin(actor):
        yield actor.sleep(1.0)
        yield vm.save(actor)
        dates["saved"] = (actor.now, vm.state)
        yield vm.restore()
        dates["restored"] = (actor.now, vm.state)

    sim.add_actor("admin", "pm2", admin)
    sim.run()
    assert dates == {
        "saved": (pytest.approx(11.0), VmState.SAVED),
        "restored": (pytest.approx(21.0), VmState.RUNNING),
    }
    assert task.end_time == pytest.approx(22.0)


def test_save_is_instant_without_disk_bandwidth():
    sim = Simulation(PMS)
    vm = sim.create_vm("vm0", "pm1")
    vm.start()

    def admin(actor):
        yield vm.save(actor)
        assert (actor.now, vm.state) == (0.0, VmState.SAVED)

    sim.add_actor("admin", "pm2", admin)
    sim.run()


def test_memory_overcommit_is_refused_when_the_pm_has_a_ramsize():
    # PM "disk" has ramsize 3 GiB: two 1 GiB VMs fit, a third of 1.5 GiB does not (3.5 GiB > 3 GiB).
    sim = Simulation(PMS)
    for name in ("a", "b"):
        sim.create_vm(name, "disk", ramsize=2**30).start()
    big = sim.create_vm("c", "disk", ramsize=1.5 * 2**30)
    with pytest.raises(StateError, match="memory shortage"):
        big.start()
    # A VM that is only CREATED holds no memory: after shutting "a" down, "c" fits.
    sim.vm("a").shutdown()
    big.start()
    assert big.state is VmState.RUNNING


def test_actor_on_a_vm_never_started_is_reported():
    sim = Simulation(PMS)
    vm = sim.create_vm("vm0", "pm1")
    sim.add_actor("t", vm, compute, 1e9)
    with pytest.raises(DeadlockError, match=r"t on vm0 waits on the start of VM 'vm0' \(state CREATED\)"):
        sim.run()


# -- the VM's configuration ----------------------------------------------------------------------------------------

def test_vm_config_defaults_are_defined_once():
    # 1 GiB of RAM, 30 ms of tolerated downtime, a working set of 90 % of the RAM (SimGrid's plugin), no cap.
    config = VmConfig()
    assert (config.cores, config.ramsize, config.max_downtime, config.bound) == (1, 2.0**30, 0.03, float("inf"))
    assert config.dirty_cap == 0.9 * 2.0**30 and VmConfig(working_set=1e6).dirty_cap == 1e6


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"cores": 0}, "a VM needs at least one core, got 0"),
        ({"bound": 0.0}, "a bound must be positive, got 0.0"),
        ({"max_downtime": 0.0}, "max_downtime must be positive, got 0.0"),
        ({"dp_intensity": 1.5}, r"dp_intensity must be in \[0, 1\], got 1.5"),
        ({"ramsize": float("nan")}, "ramsize must be finite and non-negative, got nan"),
        ({"mig_speed": -1.0}, "mig_speed must be finite and non-negative, got -1.0"),
        ({"ramsize": 1e6, "working_set": 2e6}, "working_set must be between 0 and ramsize, got 2000000.0"),
    ],
)
def test_vm_config_refuses_what_no_vm_can_be(fields, message):
    with pytest.raises(ValueError, match=message):
        VmConfig(**fields)
    with pytest.raises(ValueError, match=f"VM 'v': {message}"):  # through the API, naming the VM
        Simulation(PMS).create_vm("v", "pm1", **fields)


def test_a_vm_is_made_of_its_config_with_fields_changed():
    sim = Simulation(PMS)
    base = VmConfig(cores=2, ramsize=2e9)
    vm = sim.create_vm("v", "pm2", base, dp_intensity=0.5)
    assert vm.config == VmConfig(cores=2, ramsize=2e9, dp_intensity=0.5) and vm.cores == 2 and vm.ramsize == 2e9
