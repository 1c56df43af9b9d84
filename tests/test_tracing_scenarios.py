"""The runs the tracing tests trace, with their dates derived by hand, and a reader of PajeNG's ``pj_dump``.

The other ``test_tracing_*`` modules import the builders and :func:`pj_dump` from here; the tests below check the
hand derivations against the simulation's own records, so that a tracing test failing means the tracing is wrong.

Each builder takes the listeners to subscribe before anything happens (the VMs are created at once), and
:func:`trace` opens the sinks, builds, runs and closes them as the CLI does. All runs use the ``raw`` network
model (no bandwidth factor, latency as declared, no TCP window, no cross-traffic) so that every date is a short
sum: a transfer of S bytes over a route of latency l and bottleneck bandwidth b, alone, takes l + S / b.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from replay import events
from replay.platform import load_platform
from replay.simulation import Simulation
from tracing.sink import MemorySink, TraceSink

DATA = Path(__file__).resolve().parent / "data" / "tracing"
GOLDEN = Path(__file__).resolve().parent / "golden" / "tracing"

PJ_DUMP = shutil.which("pj_dump")
needs_pj_dump = pytest.mark.skipif(PJ_DUMP is None, reason="PajeNG's pj_dump is not installed (Debian package pajeng)")


# -- the runs ---------------------------------------------------------------------------------------------------
# Lifecycle (tests/data/tracing/lifecycle.xml, raw model): VM vm0 (1 core, 1e8 bytes of RAM, no dirty pages) on
# pm0 (2 cores of 1 Gf/s, disk of 1e8 B/s); admin on ctl; worker in vm0 computing 1e10 flops at 1e9 flop/s.
#   0         create, start
#   2         suspend                  5   resume
#   6         save: writes 1e8 B at 1e8 B/s -> SAVED at 7
#   9         restore: reads 1e8 B -> RUNNING at 10
#   11        migrate to pm1: stage 1 sends 1e8 B over lan (1e-4 s, 1.25e8 B/s): ends 11 + 1e-4 + 0.8 = 11.8001;
#             nothing dirtied, so no stage 2; stage 3 sends 0 B: ends (and the VM moves) at 11.8002; the 0-byte
#             acknowledgement pm1 -> ctl ends the migration at 11.8003
#   13.8003   shutdown (the worker is killed), destroy; the run ends
# The worker computes during [0, 2), [5, 6), [10, 11.8001) and [11.8002, 13.8003): 6.8002e9 flops of its 1e10.
LIFE = {
    "suspend": 2.0, "resume": 5.0, "save": 6.0, "saved": 7.0, "restore": 9.0, "restored": 10.0,
    "migrate": 11.0, "stage1": 11.8001, "moved": 11.8002, "migrated": 11.8003, "shutdown": 13.8003,
}


def lifecycle_sim(listeners: Iterable[Callable] = ()) -> Simulation:
    sim = _simulation("lifecycle.xml", listeners)
    vm = sim.create_vm("vm0", "pm0", cores=1, ramsize=1e8)
    vm.start()

    def admin(actor):
        yield actor.sleep(2.0)
        vm.suspend(actor)
        yield actor.sleep(3.0)
        vm.resume()
        yield actor.sleep(1.0)
        yield vm.save(actor)
        yield actor.sleep(2.0)
        yield vm.restore()
        yield actor.sleep(1.0)
        yield sim.migrate_vm(vm, "pm1", actor)
        yield actor.sleep(2.0)
        vm.shutdown(actor)
        vm.destroy(actor)

    def worker(actor):
        yield actor.execute(1e10)

    sim.add_actor("admin", "ctl", admin)
    sim.add_actor("worker", vm, worker)
    return sim


# Two concurrent migrations (tests/data/tracing/migrations.xml, raw model): idle VMs va on pa and vb on pb, 1e8
# bytes each, both sent to pc at t=1 by actors on their source PMs. Both stage-1 flows start after the trunk's
# 1e-4 s and share its 1e8 B/s: 5e7 B/s each, 2 s: stage 1 ends at 3.0001 for both; stage 3 (0 B) moves both VMs
# at 3.0002; the acknowledgements end both migrations at 3.0003, which ends the run.
MIG = {"start": 1.0, "stage1": 3.0001, "moved": 3.0002, "end": 3.0003}


def migrations_sim(listeners: Iterable[Callable] = ()) -> Simulation:
    sim = _simulation("migrations.xml", listeners)
    for name, pm in (("va", "pa"), ("vb", "pb")):
        vm = sim.create_vm(name, pm, ramsize=1e8)
        vm.start()

        def admin(actor, vm=vm):
            yield actor.sleep(1.0)
            yield sim.migrate_vm(vm, "pc", actor)

        sim.add_actor(f"m{name[1]}", pm, admin)
    return sim


# Communications (tests/data/tracing/comm.xml, raw model: link L of 1e8 B/s and 1e-3 s between A and B):
#   s on A computes 5e8 flops (0 to 0.5), then sends 1e8 B to r on mailbox m: the transfer matches at 0.5
#     (r has been waiting since 0), waits 1e-3 s, runs at 1e8 B/s for 1 s: it ends at 1.501, and so does s.
#   r on B receives (0.5 to 1.501), then computes 1e9 flops: 1.501 to 2.501.
#   p in VM v (on A, started at 0) sleeps 3 s, then sends 5e7 B to q on B: 3 to 3 + 1e-3 + 0.5 = 3.501.
#   q on B receives on mailbox n from 0; the transfer starts at 3 and ends at 3.501, which ends the run.
COMM = {"s_exec": 0.5, "s_sent": 1.501, "r_done": 2.501, "p_send": 3.0, "p_sent": 3.501}


def comm_sim(listeners: Iterable[Callable] = ()) -> Simulation:
    sim = _simulation("comm.xml", listeners)
    vm = sim.create_vm("v", "A")
    vm.start()

    def s(actor):
        yield actor.execute(5e8)
        yield actor.send("m", 1e8)

    def r(actor):
        yield actor.recv("m")
        yield actor.execute(1e9)

    def p(actor):
        yield actor.sleep(3.0)
        yield actor.send("n", 5e7)

    def q(actor):
        yield actor.recv("n")

    sim.add_actor("s", "A", s)
    sim.add_actor("r", "B", r)
    sim.add_actor("p", vm, p)
    sim.add_actor("q", "B", q)
    return sim


# Hosts at two zone depths (tests/data/tracing/nested.xml, raw): VM v (1e8 B) on h1 (zone hall, L1) migrates to
# h2 (zone bay, L2) at 0 and back at once; route h1 - h2: la, trunk, lb (1e-4 s each, 1e8 B/s).
# First migration: stage 1 ends at 3e-4 + 1 = 1.0003, stage 3 (0 B) moves v at 1.0006, the acknowledgement
# (h2 -> h1) ends it at 1.0009. The second one, issued then, moves v back at 1.0009 + 1.0006 = 2.0015, and its
# acknowledgement from h1 to the issuer on h1 goes through the loopback (no latency): the run ends at 2.0015.
NESTED = {"moved": 1.0006, "back": 2.0015, "end": 2.0015}


def nested_sim(listeners: Iterable[Callable] = ()) -> Simulation:
    sim = _simulation("nested.xml", listeners)
    vm = sim.create_vm("v", "h1", ramsize=1e8)
    vm.start()

    def admin(actor):
        yield sim.migrate_vm(vm, "h2", actor)
        yield sim.migrate_vm(vm, "h1", actor)

    sim.add_actor("admin", "h1", admin)
    return sim


# Failures (tests/data/tracing/failures.xml, raw model): h1 has 2 cores and power states of 1 Gf/s and 500 Mf/s,
# and a speed profile halving it from 2 s on; h3 is off from the start (its state profile's value at date 0) to
# 4 s; link L (h1 - h4) carries 1e8 B/s, 5e7 B/s from 1 s on (its bandwidth profile). VM v runs on h2.
#   0   c on h1 computes 3e9 flops on one core at 1e9 flop/s; w in v computes 1e10; s on h1 sends 2e8 B to r on
#       h4 over L at 1e8 B/s
#   1   L drops to 5e7 B/s (1e8 B sent); admin turns h2 off: v is lost, w killed (1e9 flops done)
#   2   h1 at half speed: c at 5e8 flop/s (2e9 done); admin turns L off: the transfer (1.5e8 B sent) fails, s
#       and r with it
#   3   admin puts h1 in power state 1: c at 500 Mf/s x 0.5 = 2.5e8 flop/s (2.5e9 done); h2 and L back on
#   4   h3 comes back on (its profile)
#   5   c has computed its last 5e8 flops (2 s at 2.5e8): the run ends
# h1's speed (all cores): 2e9 from 0, 1e9 from 2, 5e8 from 3 (2 cores x 500 Mf/s x 0.5).
FAIL = {"bandwidth": 1.0, "h2_off": 1.0, "L_off": 2.0, "half": 2.0, "pstate": 3.0, "h2_on": 3.0, "L_on": 3.0,
        "h3_on": 4.0, "end": 5.0}


def failures_sim(listeners: Iterable[Callable] = ()) -> Simulation:
    sim = _simulation("failures.xml", listeners)
    vm = sim.create_vm("v", "h2")
    vm.start()

    def admin(actor):
        yield actor.sleep(1.0)
        sim.host_off("h2", "test")
        yield actor.sleep(1.0)
        sim.link_off("L", "test")
        yield actor.sleep(1.0)
        sim.pm("h1").set_pstate(1)
        sim.host_on("h2")
        sim.link_on("L")

    def c(actor):
        yield actor.execute(3e9)

    def w(actor):
        yield actor.execute(1e10)

    def s(actor):
        yield actor.send("m", 2e8)

    def r(actor):
        yield actor.recv("m")

    sim.add_actor("admin", "h1", admin)
    sim.add_actor("c", "h1", c)
    sim.add_actor("w", vm, w)
    sim.add_actor("s", "h1", s)
    sim.add_actor("r", "h4", r)
    return sim


def _simulation(platform: str, listeners: Iterable[Callable]) -> Simulation:
    sim = Simulation(load_platform(DATA / platform), network_model="raw")
    for listener in listeners:
        sim.engine.subscribe(listener)
    return sim


def trace(build: Callable[..., Simulation], *sinks: TraceSink) -> Simulation:
    """Open ``sinks``, build the run with them subscribed, run it, close them (abort them on an exception)."""
    with ExitStack() as stack:
        for sink in sinks:
            stack.enter_context(sink)
        sim = build([sink.emit for sink in sinks])
        sim.run()
    return sim


# -- pj_dump ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PjContainer:
    parent: str
    type: str
    start: float
    end: float
    name: str


@dataclass(frozen=True)
class PjState:
    container: str
    type: str
    start: float
    end: float
    depth: int
    value: str


@dataclass(frozen=True)
class PjVariable:
    container: str
    type: str
    start: float
    end: float
    value: float


@dataclass(frozen=True)
class PjLink:
    container: str
    type: str
    start: float
    end: float
    value: str
    start_container: str
    end_container: str
    key: str


@dataclass(frozen=True)
class PjEvent:
    container: str
    type: str
    time: float
    value: str


@dataclass
class PjDump:
    """What ``pj_dump`` printed, by kind, in its order."""

    containers: list[PjContainer] = field(default_factory=list)
    states: list[PjState] = field(default_factory=list)
    variables: list[PjVariable] = field(default_factory=list)
    links: list[PjLink] = field(default_factory=list)
    events: list[PjEvent] = field(default_factory=list)

    def containers_named(self, name: str) -> list[PjContainer]:
        return sorted((c for c in self.containers if c.name == name), key=lambda c: c.start)

    def states_of(self, container: str) -> list[tuple[float, float, int, str]]:
        """(start, end, depth, value) of the states of every container called ``container``, by start then depth."""
        states = [(s.start, s.end, s.depth, s.value) for s in self.states if s.container == container]
        return sorted(states, key=lambda state: (state[0], state[2]))

    def variable(self, container: str, name: str) -> list[tuple[float, float, float]]:
        """(start, end, value) of a variable of every container called ``container``, sorted."""
        return sorted((v.start, v.end, v.value) for v in self.variables if v.container == container and v.type == name)


def pj_dump(path: Path) -> PjDump:
    """Run the real ``pj_dump`` (9 digits) on ``path``; it must exit 0 and print nothing on stderr."""
    assert PJ_DUMP is not None
    done = subprocess.run([PJ_DUMP, "-l", "9", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"pj_dump failed ({done.returncode}): {done.stderr}{done.stdout[-2000:]}"
    assert done.stderr == "", f"pj_dump complained: {done.stderr}"
    dump = PjDump()
    for line in done.stdout.splitlines():
        kind, *fields = [field.strip() for field in line.split(",")]
        if kind == "Event":  # its value may hold commas (a cause: "random failure, back at t=5 s")
            fields = [field.strip() for field in line.split(",", 4)[1:]]
        if kind == "Container":
            parent, type_, start, end, _, name = fields
            dump.containers.append(PjContainer(parent, type_, float(start), float(end), name))
        elif kind == "State":
            container, type_, start, end, _, depth, value = fields
            dump.states.append(PjState(container, type_, float(start), float(end), round(float(depth)), value))
        elif kind == "Variable":
            container, type_, start, end, _, value = fields
            dump.variables.append(PjVariable(container, type_, float(start), float(end), float(value)))
        elif kind == "Link":
            container, type_, start, end, _, value, start_c, end_c, key = fields
            dump.links.append(PjLink(container, type_, float(start), float(end), value, start_c, end_c, key))
        elif kind == "Event":
            container, type_, time, value = fields
            dump.events.append(PjEvent(container, type_, float(time), value))
        else:
            raise AssertionError(f"unexpected pj_dump line: {line!r}")
    return dump


# -- the derivations hold ---------------------------------------------------------------------------------------
def _records(build: Callable[..., Simulation]) -> MemorySink:
    sink = MemorySink()
    trace(build, sink)
    return sink


def test_failures_dates_are_those_derived_above():
    sink = _records(failures_sim)
    states = [(r.time, r.host, r.on) for r in sink.of_type(events.HostStateChanged)]
    # h3's off at date 0 has no record: it is in force before anyone listens (the tracers read the profile)
    assert states == [(FAIL["h2_off"], "h2", False), (FAIL["h2_on"], "h2", True), (FAIL["h3_on"], "h3", True)]
    assert [(r.time, r.link, r.on) for r in sink.of_type(events.LinkStateChanged)] == [
        (FAIL["L_off"], "L", False), (FAIL["L_on"], "L", True)]
    assert [(r.time, r.bandwidth) for r in sink.of_type(events.LinkChanged)] == [(FAIL["bandwidth"], 5e7)]
    assert [(r.time, r.speed) for r in sink.of_type(events.HostSpeedChanged)] == [(FAIL["half"], 5e8)]
    ends = {r.actor: (r.time, r.status) for r in sink.of_type(events.ActorEnded)}
    assert ends == {"w": (FAIL["h2_off"], "killed"), "s": (FAIL["L_off"], "failed"), "r": (FAIL["L_off"], "failed"),
                    "admin": (FAIL["pstate"], "done"), "c": (FAIL["end"], "done")}
    assert [(r.time, r.vm) for r in sink.of_type(events.VmDestroyed)] == [(FAIL["h2_off"], "v")]
    assert sink.records[-1] == events.RunEnded(FAIL["end"])


def test_lifecycle_dates_are_those_derived_above():
    sink = _records(lifecycle_sim)
    changes = [(r.time, r.operation.name.lower()) for r in sink.of_type(events.VmStateChanged)]
    expected = [
        (0.0, "start"), (LIFE["suspend"], "suspend"), (LIFE["resume"], "resume"), (LIFE["save"], "save"),
        (LIFE["saved"], "save_done"), (LIFE["restore"], "restore"), (LIFE["restored"], "restore_done"),
        (LIFE["migrate"], "migrate"), (LIFE["moved"], "migrate_done"), (LIFE["shutdown"], "shutdown"),
        (LIFE["shutdown"], "destroy"),
    ]
    assert [operation for _, operation in changes] == [operation for _, operation in expected]
    assert [time for time, _ in changes] == pytest.approx([time for time, _ in expected], abs=1e-9)
    [moved] = sink.of_type(events.VmMoved)
    assert (moved.time, moved.src, moved.dst) == (pytest.approx(LIFE["moved"], abs=1e-9), "pm0", "pm1")
    [ended] = sink.of_type(events.MigrationEnded)
    assert ended.time == pytest.approx(LIFE["migrated"], abs=1e-9)
    stages = [(r.stage, r.time) for r in sink.of_type(events.MigrationStage)]
    assert stages == [(1, pytest.approx(LIFE["stage1"], abs=1e-9)), (3, pytest.approx(LIFE["moved"], abs=1e-9))]
    # stop-and-copy begins as stage 1 ends (nothing was dirtied: no stage 2)
    [stop] = sink.of_type(events.StopAndCopyStarted)
    assert stop.time == pytest.approx(LIFE["stage1"], abs=1e-9)
    [worker_end] = [r for r in sink.of_type(events.ActorEnded) if r.actor == "worker"]
    assert worker_end.killed and worker_end.time == pytest.approx(LIFE["shutdown"], abs=1e-9)
    assert sink.records[-1] == events.RunEnded(pytest.approx(LIFE["shutdown"], abs=1e-9))


def test_concurrent_migration_dates_are_those_derived_above():
    sink = _records(migrations_sim)
    moved = sorted((r.vm, r.time) for r in sink.of_type(events.VmMoved))
    assert moved == [("va", pytest.approx(MIG["moved"], abs=1e-9)), ("vb", pytest.approx(MIG["moved"], abs=1e-9))]
    for ended in sink.of_type(events.MigrationEnded):
        report = ended.report
        assert (report.start, ended.time, report.error) == (MIG["start"], pytest.approx(MIG["end"], abs=1e-9), "")
        assert report.end == ended.time
    trunk = [(r.time, r.value) for r in sink.of_type(events.ResourceUsed) if r.name == "trunk"]
    # 1e8 B/s in all from 1.0001 to the end of stage 1 (then only 0-byte transfers, each done the instant it starts)
    assert trunk[:2] == [(pytest.approx(1.0001, abs=1e-9), pytest.approx(1e8)), (pytest.approx(MIG["stage1"]), 0.0)]


def test_communication_dates_are_those_derived_above():
    sink = MemorySink()
    sim = trace(comm_sim, sink)
    comms = [(r.sender, r.receiver, r.time) for r in sink.of_type(events.CommStarted)]
    assert comms == [("s", "r", COMM["s_exec"]), ("p", "q", COMM["p_send"])]
    ends = [(r.sender, r.time) for r in sink.of_type(events.CommEnded)]
    assert ends == [("s", pytest.approx(COMM["s_sent"], abs=1e-9)), ("p", pytest.approx(COMM["p_sent"], abs=1e-9))]
    assert sim.actors["r"].end_time == pytest.approx(COMM["r_done"], abs=1e-9)


def test_nested_migration_dates_are_those_derived_above():
    sink = _records(nested_sim)
    moved = [(r.src, r.dst, r.time) for r in sink.of_type(events.VmMoved)]
    assert moved == [("h1", "h2", pytest.approx(NESTED["moved"], abs=1e-9)),
                     ("h2", "h1", pytest.approx(NESTED["back"], abs=1e-9))]
    assert sink.records[-1].time == pytest.approx(NESTED["end"], abs=1e-9)
