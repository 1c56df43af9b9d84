"""The replayer: placement rules, asynchronous requests, errors with their line, and actions of the user's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest

from replay.errors import StateError
from replay.lifecycle import VmOperation
from replay.platform import load_deployment_string
from replay.replayer import Replayer
from replay.session import ReplaySession, validate
from replay.simulation import Simulation
from replay.trace import BUILTIN, Registry, open_trace
from replay.trace.records import VmAction
from tests.helpers import platform

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
