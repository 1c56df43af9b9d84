"""Live migration: SimGrid's oracle, hand-derived stages, the stall policy, the seed's options, and endings."""

from __future__ import annotations

import math

import pytest

from replay import events
from replay.errors import SimulationError, StateError
from replay.lifecycle import VmState
from replay.migration import SEED_OPTIONS, MigrationOptions
from replay.platform import load_platform
from replay.simulation import Simulation
from tests.helpers import SHARED_SIMGRID, platform

# Two 1-core PMs of 1 Gf/s joined by one FATPIPE link of 125 MBps and 100 us. Under LV08 a transfer waits
# 13.01 x 1e-4 = 1.301e-3 s, then runs at 0.97 x 1.25e8 = 1.2125e8 B/s (FATPIPE: no cross-traffic penalty),
# or at mig_speed if that is lower.
PAIR = platform(
    '<host id="A" speed="1Gf"/><host id="B" speed="1Gf"/><host id="A2" speed="1Gf" core="2"/>'
    '<host id="B2" speed="1Gf" core="2"/>'
    '<link id="L" bandwidth="125MBps" latency="100us" sharing_policy="FATPIPE"/>'
    '<route src="A" dst="B"><link_ctn id="L"/></route><route src="A2" dst="B2"><link_ctn id="L"/></route>'
)
WAIT = 13.01 * 1e-4
LINK = 0.97 * 1.25e8


def migrate(params=None, *, ram=1e9, busy=0, options=None, src="A", dst="B", cores=1, plat=PAIR):
    """Migrate a VM from src to dst at t=0 (issued from src), with ``busy`` endless tasks inside."""
    sim = Simulation(plat, migration=options)
    vm = sim.create_vm("vm", src, ramsize=ram, cores=cores, **(params or {}))
    vm.start()
    for i in range(busy):
        sim.add_actor(f"task{i}", vm, lambda actor: (yield actor.execute(1e15)))
    records = []
    sim.engine.subscribe(records.append)
    result = {}

    def admin(actor):
        try:
            report = yield sim.migrate_vm(vm, dst, actor)
            result["report"] = report
        except SimulationError as error:
            result["error"] = error
        result["end"] = actor.now

    sim.add_actor("admin", src, admin)
    sim.run(until=1e6)
    return sim, vm, result, records


def test_idle_vm():
    # Stage 1: 1e9 bytes (WAIT + 1e9 / LINK). Nothing dirtied: stage 2 is skipped, stage 3 sends 0 bytes
    # (WAIT), then the 0-byte acknowledgement from B to the issuer on A (WAIT).
    _, vm, result, _ = migrate()
    report = result["report"]
    assert report.end == pytest.approx(3 * WAIT + 1e9 / LINK, rel=1e-12)
    assert report.downtime == pytest.approx(WAIT, rel=1e-12)
    assert report.bytes == {"stage1": 10**9, "stage2": 0, "stage3": 0}
    assert (report.rounds, report.converged) == (0, True)
    assert (vm.pm.name, vm.state) == ("B", VmState.RUNNING)


def busy_rounds(ram, mig_speed, dp_intensity, threshold_rate=None):
    """The stage-2 recurrence written out for one endless task on a 1-core 1 Gf/s PM (F = 1e9 flop/s):
    a transfer of U bytes lasts T = WAIT + U / mig_speed; the task dirties min(int(F T dp_rate), ws) bytes
    meanwhile, dp_rate = mig_speed dp_intensity / 1e9; the threshold is int(U / T x 0.03)."""
    dp_rate = mig_speed * dp_intensity / 1e9
    ws = int(0.9 * ram)
    t = WAIT + ram / mig_speed
    clock, sent2, rounds = t, 0, 0
    threshold = int(ram / t * 0.03) if threshold_rate is None else int(threshold_rate * 0.03)
    updated = min(int(1e9 * t * dp_rate), ws)
    while threshold < updated:
        t = WAIT + updated / mig_speed
        clock += t
        sent2 += updated
        rounds += 1
        if threshold_rate is None:
            threshold = int(updated / t * 0.03)
        updated = min(int(1e9 * t * dp_rate), ws)
    return clock, sent2, rounds, updated


def test_busy_vm_converges_through_stage2_rounds():
    # mig_speed 1e8 B/s (below the link's 1.2125e8) and dp_intensity 0.5: dp_rate = 0.05 B/flop; each round
    # sends what the task dirtied during the previous one: U' = int(1e9 x (WAIT + U / 1e8) x 0.05), halving
    # until it fits 0.03 s of the measured throughput. Stage 1 alone: U1 = int(1e9 x 10.001301 x 0.05).
    clock, sent2, rounds, last = busy_rounds(1e9, 1e8, 0.5)
    _, _, result, _ = migrate(dict(mig_speed=1e8, dp_intensity=0.5), busy=1)
    report = result["report"]
    assert report.bytes["stage2"] == sent2 and report.rounds == rounds > 3
    assert report.bytes["stage3"] == last
    # stage 3 (WAIT + last / 1e8) and the acknowledgement (WAIT) come after the rounds
    assert report.end == pytest.approx(clock + WAIT + last / 1e8 + WAIT, rel=1e-9)
    assert report.converged


def test_non_converging_migration_is_forced_after_stalled_rounds():
    # dp_intensity 1: the task dirties 1e9 x 10.0013 x 0.1 > the 9e8-byte working set during stage 1, and again
    # during every round of 9e8 bytes (9 s): the remaining bytes stay at 9e8, never a new minimum. After 10
    # stalled rounds the migration goes to stop-and-copy, with converged = False.
    _, vm, result, _ = migrate(dict(mig_speed=1e8, dp_intensity=1.0), busy=1)
    report = result["report"]
    assert (report.rounds, report.converged) == (10, False)
    assert report.bytes == {"stage1": 10**9, "stage2": 10 * 9 * 10**8, "stage3": 9 * 10**8}
    stage1 = WAIT + 10.0
    stage_round = WAIT + 9.0
    assert report.end == pytest.approx(stage1 + 11 * stage_round + WAIT, rel=1e-9)
    assert vm.pm.name == "B"


def test_simgrid_policy_times_out_with_an_error():
    # With on_stall="simgrid" the rounds go on until the timeout (here 100 s after the start): the migration
    # fails for the issuer at 100 s, and the VM keeps running on its source.
    options = MigrationOptions(on_stall="simgrid", timeout=100.0)
    _, vm, result, _ = migrate(dict(mig_speed=1e8, dp_intensity=1.0), busy=1, options=options)
    assert "timed out" in str(result["error"])
    assert result["end"] == pytest.approx(100.0)
    assert (vm.pm.name, vm.state, vm.frozen) == ("A", VmState.RUNNING, False)


def test_devsize_goes_with_stop_and_copy():
    # 1e8 bytes of device state are sent in stage 3: downtime WAIT + 1e8 / LINK.
    _, _, result, _ = migrate(dict(devsize=1e8))
    report = result["report"]
    assert report.bytes["stage3"] == 10**8
    assert report.downtime == pytest.approx(WAIT + 1e8 / LINK, rel=1e-12)
    assert report.end == pytest.approx(3 * WAIT + 1.1e9 / LINK, rel=1e-12)


def test_skip_both_stages_is_a_cold_migration():
    # No pre-copy: the whole RAM is sent while the VM is frozen: downtime = WAIT + 1e9 / LINK.
    _, _, result, _ = migrate(dict(skip_stage1=True, skip_stage2=True))
    report = result["report"]
    assert report.bytes == {"stage1": 0, "stage2": 0, "stage3": 10**9}
    assert report.downtime == pytest.approx(WAIT + 1e9 / LINK, rel=1e-12)


def test_skip_stage2_sends_the_pages_dirtied_during_stage1_at_stop_and_copy():
    # Stage 1 at mig_speed 1e8 lasts WAIT + 10 s; the task dirties int(1e9 x that x 0.05) bytes (dp_rate =
    # 1e8 x 0.5 / 1e9), all sent in stage 3.
    _, _, result, _ = migrate(dict(mig_speed=1e8, dp_intensity=0.5, skip_stage2=True), busy=1)
    dirtied = int(1e9 * (WAIT + 10.0) * 0.05)
    assert result["report"].bytes == {"stage1": 10**9, "stage2": 0, "stage3": dirtied}


def test_stage1_in_chunks_pays_one_latency_per_chunk():
    # The seed sends the RAM in 100 MiB chunks: 1e9 bytes are 9 chunks of 104857600 and one of 56281600, so
    # stage 1 takes 10 waits plus 1e9 / LINK.
    _, _, result, records = migrate(options=MigrationOptions(stage1_chunk=100 * 2**20))
    stage1 = [r for r in records if isinstance(r, events.MigrationStage) and r.stage == 1]
    assert stage1[0].duration == pytest.approx(10 * WAIT + 1e9 / LINK, rel=1e-12)
    assert result["report"].end == pytest.approx(12 * WAIT + 1e9 / LINK, rel=1e-12)


def test_seed_threshold_assumes_a_1gbps_link():
    # With SEED_OPTIONS the threshold is 125 MiB/s x 0.03 s = 3932160 bytes whatever was measured; with
    # dp_intensity 0.9 the dirtied bytes shrink by 0.9 a round and fit it after 55 rounds instead of the 60 the
    # measured threshold (about 2.8 MB at the end) needs.
    _, sent2, rounds, last = busy_rounds(1e9, 1e8, 0.9, threshold_rate=125 * 2**20)
    assert (rounds, busy_rounds(1e9, 1e8, 0.9)[2]) == (55, 60)
    options = MigrationOptions(threshold_rate=125 * 2**20)
    _, _, result, _ = migrate(dict(mig_speed=1e8, dp_intensity=0.9), busy=1, options=options)
    report = result["report"]
    # (bytes to a few units: each round truncates flops x dp_rate, and the flops carry float rounding)
    assert report.rounds == rounds
    assert (report.bytes["stage2"], report.bytes["stage3"]) == pytest.approx((sent2, last), abs=rounds)
    assert SEED_OPTIONS.threshold_rate == 125 * 2**20 and SEED_OPTIONS.stage1_chunk == 100 * 2**20


def test_transfer_overhead_runs_on_the_vm_when_data_arrives():
    # xfer_cpu_overhead = 1 flop per byte: when stage 1's 1e9 bytes arrive (T1 = WAIT + 1e9 / LINK), an
    # execution of 1e9 flops starts on the VM at priority 1. The VM is then frozen for stage 3 (WAIT), moves to
    # B and computes the 1e9 flops at 1 Gf/s: the run ends at T1 + WAIT + 1 s (after the acknowledgement).
    _, _, _, records = migrate(dict(xfer_cpu_overhead=1.0))
    t1 = WAIT + 1e9 / LINK
    overhead = [r for r in records if isinstance(r, events.ExecStarted)]
    assert [(r.time, r.flops, r.actor) for r in overhead] == [
        (pytest.approx(t1), 1e9, "__migration_xfer_overhead")
    ]
    ended = [r for r in records if isinstance(r, events.ExecEnded)]
    assert ended[0].time == pytest.approx(t1 + WAIT + 1.0, rel=1e-12)


def test_dirty_page_tracking_overhead_follows_each_round():
    # A 2-vCPU VM on 2-core PMs with one endless task: the overhead runs on the second core without slowing
    # the task. mig_speed 1e8, dp_intensity 0.5: stage 1 lasts T1 = WAIT + 10 s, round 1 sends
    # U1 = int(1e9 T1 x 0.05) bytes in T2 = WAIT + U1 / 1e8, during which the task dirties U2 = int(1e9 T2 x 0.05):
    # at T1 + T2 an execution of 2 x U2 flops (dpt_cpu_overhead = 2) starts on the VM at priority 10000.
    params = dict(mig_speed=1e8, dp_intensity=0.5, dpt_cpu_overhead=2.0)
    _, _, _, records = migrate(params, busy=1, src="A2", dst="B2", cores=2)
    t1 = WAIT + 10.0
    u1 = int(1e9 * t1 * 0.05)
    t2 = WAIT + u1 / 1e8
    u2 = int(1e9 * t2 * 0.05)
    first = next(r for r in records if isinstance(r, events.ExecStarted) and r.actor == "__migration_dpt_overhead")
    assert first.time == pytest.approx(t1 + t2, rel=1e-12)
    assert first.flops == 2.0 * u2


def test_tasks_go_on_at_the_destination():
    # A task of 20 Gflop in the VM runs at 1 Gf/s on A during stages 1-2, stops during stop-and-copy (WAIT:
    # 0 dirtied bytes, since mig_speed 0 gives dp_rate 0), then goes on alone on B: it ends at 20 s + WAIT.
    sim = Simulation(PAIR)
    vm = sim.create_vm("vm", "A", ramsize=1e9)
    vm.start()
    task = sim.add_actor("task", vm, lambda actor: (yield actor.execute(2e10)))
    sim.add_actor("admin", "A", lambda actor: (yield sim.migrate_vm(vm, "B", actor)))
    sim.run()
    assert task.end_time == pytest.approx(20.0 + WAIT, rel=1e-12)
    assert vm.pm.name == "B"


def test_destroying_a_migrating_vm_fails_the_migration():
    sim = Simulation(PAIR)
    vm = sim.create_vm("vm", "A", ramsize=1e9)
    vm.start()
    seen = {}

    def admin(actor):
        try:
            yield sim.migrate_vm(vm, "B", actor)
        except StateError as error:
            seen["error"] = (actor.now, str(error))

    def killer(actor):
        yield actor.sleep(2.0)
        vm.destroy(actor)

    sim.add_actor("admin", "A", admin)
    sim.add_actor("killer", "B", killer)
    sim.run()
    assert seen["error"] == (2.0, "VM 'vm' was shut down during its migration")
    assert vm.state is VmState.DESTROYED
    assert [m.error for m in sim.migrations] == ["VM 'vm' was shut down during its migration"]


def test_migration_preconditions():
    sim = Simulation(PAIR)
    vm = sim.create_vm("vm", "A")
    with pytest.raises(StateError, match="cannot migrate in state CREATED"):
        sim.migrate_vm(vm, "B")
    vm.start()
    with pytest.raises(StateError, match="already there"):
        sim.migrate_vm(vm, "A")
    sim.migrate_vm(vm, "B")
    with pytest.raises(StateError, match="already migrating"):
        sim.migrate_vm(vm, "B")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("one 1e9-byte VM", [132.765801]),
        ("one 1e8-byte VM", [13.345992]),
        ("two VMs to Tremblay", [265.454, 265.454]),
        ("to Tremblay and Bourassa", [265.436, 216.509]),
    ],
)
def test_simgrid_cloud_migration_oracle(case, expected):
    # SimGrid's examples/cpp/cloud-migration (its tesh file), LV08 on small_platform.xml, idle VMs with the
    # default parameters, migrated from Fafard; durations as SimGrid prints them.
    path = SHARED_SIMGRID / "small_platform.xml"
    if not path.exists():
        pytest.skip(f"SimGrid's example platform is not there ({path}); it comes with ../shared")
    sim = Simulation(load_platform(path))
    plan = {
        "one 1e9-byte VM": [("VM0", 1e9, "Tremblay")],
        "one 1e8-byte VM": [("VM0", 1e8, "Tremblay")],
        "two VMs to Tremblay": [("VM0", 1e9, "Tremblay"), ("VM1", 1e9, "Tremblay")],
        "to Tremblay and Bourassa": [("VM0", 1e9, "Tremblay"), ("VM1", 1e9, "Bourassa")],
    }[case]
    durations = {}

    def worker(actor, name, ram, dst):
        vm = sim.create_vm(name, "Fafard", ramsize=ram)
        vm.start()
        yield sim.migrate_vm(vm, dst, actor)
        durations[name] = actor.now

    for name, ram, dst in plan:
        sim.add_actor(f"mig_{name}", "Fafard", worker, name, ram, dst)
    sim.run()
    got = [durations[name] for name, _, _ in plan]
    digits = 6 if len(plan) == 1 else 3  # SimGrid prints these with %g
    assert [round(g, digits) for g in got] == pytest.approx(expected, abs=10**-digits)
    assert not math.isnan(sum(got))
