"""The replayer: placement rules, asynchronous requests, errors with their line, and actions of the user's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from replay.errors import DeadlockError, StateError
from replay.lifecycle import VmOperation
from replay.platform import load_deployment_string
from replay.replayer import Replayer
from replay.session import ReplaySession, validate
from replay.simulation import Simulation
from replay.trace import BUILTIN, Registry, open_trace
from replay.trace.vm_actions import VmAction
from tests.helpers import REPO, platform

# Three 1 Gf/s hosts; a FATPIPE of 100 MBps and 10 ms between any two: a message of S bytes takes
# 13.01 x 0.01 + S / 0.97e8 s under LV08.
BODY = (
    '<host id="h0" speed="1Gf"/><host id="h1" speed="1Gf"/><host id="h2" speed="1Gf"/>'
    '<link id="L" bandwidth="100MBps" latency="10ms" sharing_policy="FATPIPE"/>'
    '<route src="h0" dst="h1"><link_ctn id="L"/></route><route src="h0" dst="h2"><link_ctn id="L"/></route>'
    '<route src="h1" dst="h2"><link_ctn id="L"/></route>'
)
PLAT = platform(BODY)
PLAT_XML = f'<?xml version="1.0"?><platform version="4.1"><zone id="z" routing="Full">{BODY}</zone></platform>\n'


def replay(tmp_path, text, *, deployment="", registry=BUILTIN):
    path = tmp_path / "t.trace"
    path.write_text(text)
    sim = Simulation(PLAT)
    specs = load_deployment_string(f'<?xml version="1.0"?><platform version="4.1">{deployment}</platform>')
    replayer = Replayer(sim, open_trace([path], registry=registry), deployment=specs)
    done = []
    replayer.listeners.append(done.append)
    replayer.start()
    return sim, sim.run(), done


def test_placement_init_then_deployment_then_platform_order(tmp_path):
    # a: no init, not deployed: the platform's first host (first actor to appear); b: deployed on h2; c: its
    # init says h1, which wins over its deployment on h0.
    text = "a compute 1\nb compute 1\nc init h1\nc compute 1\n"
    deployment = '<actor host="h2" function="b"/><actor host="h0" function="c"/>'
    sim, _, _ = replay(tmp_path, text, deployment=deployment)
    assert {name: actor.host.name for name, actor in sim.actors.items()} == {"a": "h0", "b": "h2", "c": "h1"}


def test_wait_completes_the_oldest_request_first(tmp_path):
    # p0 posts two isends (1e8 then 1e6 bytes) to p1, which receives them one after the other: the first wait
    # returns when the 1e8-byte message is received (0.1301 + 1e8 / 0.97e8 s); p1 only then posts its second
    # recv, so the 1e6-byte message takes 0.1301 + 1e6 / 0.97e8 s more.
    text = "p0 init h0\np0 isend p1 1e8\np0 isend p1 1e6\np0 wait\np0 wait\np1 init h1\np1 recv p0\np1 recv p0\n"
    _, _, done = replay(tmp_path, text)
    waits = [d for d in done if d.actor == "p0" and d.action.keyword == "wait"]
    assert waits[0].end == pytest.approx(0.1301 + 1e8 / 0.97e8, rel=1e-9)
    assert waits[1].start == waits[0].end
    assert waits[1].end == pytest.approx(waits[0].end + 0.1301 + 1e6 / 0.97e8, rel=1e-9)


def test_wait_without_a_pending_request_names_the_line(tmp_path):
    with pytest.raises(StateError, match=r"t.trace:2: 'wait' expects a pending isend or irecv, found none"):
        replay(tmp_path, "p0 compute 1\np0 wait\n")


def test_init_later_in_a_trace_moves_the_actor(tmp_path):
    # p0 computes 1 Gflop on h0 (1 s), moves to h2, computes 1 Gflop there beside q (which computes 2 Gflop on
    # h2 from 0): from 1 s both share h2's core, 0.5 Gf/s each, so p0 ends at 3 s.
    text = "p0 init h0\np0 compute 1e9\np0 init h2\np0 compute 1e9\nq init h2\nq compute 2e9\n"
    sim, _, _ = replay(tmp_path, text)
    assert sim.actors["p0"].host.name == "h2"
    assert sim.actors["p0"].end_time == pytest.approx(3.0)


def checkpoint_registry() -> Registry:
    """The built-in actions and one of the user's, declared once: ``checkpoint <vm> <seconds>`` saves the VM,
    keeps it saved for that long, then restores it (grammar, record, handler and static check in one class)."""
    registry = BUILTIN.copy()

    @registry.declare
    @dataclass(frozen=True, slots=True)
    class Checkpoint(VmAction):
        keyword: ClassVar[str] = "checkpoint"
        usage: ClassVar[str] = "<vm> <seconds>"
        operations: ClassVar[tuple[VmOperation, ...]] = (
            VmOperation.SAVE, VmOperation.SAVE_DONE, VmOperation.RESTORE, VmOperation.RESTORE_DONE,
        )
        duration: float

        @classmethod
        def parse(cls, p, args):
            return cls(args[0], p.quantity(args[1], "time", "duration"), **p.origin)

        def run(self, ctx):
            vm = ctx.sim.vm(self.vm)
            yield vm.save(ctx.actor)
            yield ctx.actor.sleep(self.duration)
            yield vm.restore()

        def _args(self):
            return (self.vm, repr(self.duration))

    return registry


CHECKPOINTED = (
    "adm init h0\nadm vm_create vm0 h1\nadm vm_start vm0\nadm checkpoint vm0 2500ms\n"
    "w init vm0\nw compute 2e9\n"
)


def test_a_new_action_is_one_declaration(tmp_path):
    # The worker in vm0 (h1, 1 Gf/s, alone) needs 2 s for 2 Gflop; the checkpoint freezes vm0 at t = 0 before
    # the worker can start (saves and restores take no time without a disk bandwidth) and thaws it at 2.5 s:
    # the worker computes from 2.5 s to 4.5 s.
    registry = checkpoint_registry()
    sim, end, done = replay(tmp_path, CHECKPOINTED, registry=registry)
    assert end == pytest.approx(4.5)
    assert [d.action.keyword for d in done if d.actor == "adm"] == ["init", "vm_create", "vm_start", "checkpoint"]
    assert next(d.action for d in done if d.action.keyword == "checkpoint").to_line() == "adm checkpoint vm0 2.5"
    assert sim.actors["w"].end_time == pytest.approx(4.5)
    # The same declaration is known to validation, whose static walk uses its check: checkpointing a VM that
    # was never started is refused at that line, as vm_save would be.
    plat = tmp_path / "plat.xml"
    plat.write_text(PLAT_XML)
    assert validate([path_of(tmp_path, CHECKPOINTED)], platform=plat, registry=registry) == (2, 6)
    early = path_of(tmp_path, "adm init h0\nadm vm_create vm0 h1\nadm checkpoint vm0 1\n")
    message = r"t.trace:3: 'checkpoint' expects VM 'vm0' in state RUNNING, found it CREATED"
    with pytest.raises(StateError, match=message):
        validate([early], platform=plat, registry=registry)
    # And to a whole session from files.
    result = ReplaySession.open([path_of(tmp_path, CHECKPOINTED)], platform=plat, registry=registry).run()
    assert result.simulated_time == pytest.approx(4.5)


def path_of(tmp_path, text):
    path = tmp_path / "t.trace"
    path.write_text(text)
    return path


def test_kill_time_kills_the_actor_at_that_date_with_its_cause(tmp_path):
    # a computes 2e9 flops at 1 Gf/s (2 s) but its deployment kills it at 1.5 s; b's kill_time of 5 s comes
    # after its end (1 s): it ends normally. c starts at 2 s with a kill_time of 1 s, before its start: ignored,
    # as SimGrid does. A killed actor's status says so, with the cause.
    text = "a compute 2e9\nb compute 1e9\nc compute 1e9\n"
    deployment = ('<actor host="h0" function="a" kill_time="1.5"/><actor host="h1" function="b" kill_time="5"/>'
                  '<actor host="h2" function="c" start_time="2" kill_time="1"/>')
    sim, end, done = replay(tmp_path, text, deployment=deployment)
    a, b, c = (sim.actors[name] for name in "abc")
    assert (a.status, a.end_time, a.cause) == ("killed", 1.5, "its kill_time (1.5 s) came")
    assert (b.status, b.end_time, c.status, c.end_time) == ("done", 1.0, "done", 3.0)
    assert [d.actor for d in done] == ["b", "c"]  # a's action never completed
    assert end == 3.0


def test_a_deadlock_names_the_line_and_what_is_true(tmp_path):
    # w is placed (by its first line) on VM v, created by the API and never started: the report says so, at w's
    # first line, rather than claiming the VM was never created.
    path = tmp_path / "t.trace"
    path.write_text("w init v\nw compute 1\n")
    sim = Simulation(PLAT)
    replayer = Replayer(sim, open_trace([path]))
    replayer.start()
    sim.create_vm("v", "h1")
    with pytest.raises(DeadlockError, match=r"t.trace:1: w on v waits on the start of VM 'v' \(state CREATED\)"):
        sim.run()


def test_the_summary_says_who_was_killed_when_and_why():
    # traces/lifecycle.trace shuts vm0 down while its worker computes: the worker is killed at that date.
    result = ReplaySession.open([REPO / "traces" / "lifecycle.trace"]).run()
    worker = result.actors["worker"]
    assert (worker["status"], worker["cause"], worker["end"]) == ("killed", "VM 'vm0' was shut down",
                                                                  result.simulated_time)
    assert result.actors["admin"]["status"] == "done" and "cause" not in result.actors["admin"]
    assert result.vms == {"vm0": {"state": "DESTROYED", "host": "pm-1"}}


def test_an_actor_waiting_for_a_vm_destroyed_before_it_ran_is_killed():
    sim = Simulation(PLAT)
    vm = sim.create_vm("v", "h1")
    waiter = sim.add_actor("w", "v", lambda actor: (yield actor.execute(1.0)))

    def admin(actor):
        yield actor.sleep(2.0)
        vm.destroy(actor)

    sim.add_actor("a", "h0", admin)
    assert sim.run() == 2.0
    assert (waiter.status, waiter.end_time, waiter.cause) == (
        "killed", 2.0, "VM 'v' was destroyed before the actor could run in it")
