"""The replayer: placement rules, asynchronous requests, errors with their line, and actions of the user's."""

from __future__ import annotations

import pytest

from replay.actions import Custom, open_trace
from replay.errors import StateError
from replay.platform import load_deployment_string
from replay.replayer import Replayer
from replay.simulation import Simulation
from tests.helpers import platform

# Three 1 Gf/s hosts; a FATPIPE of 100 MBps and 10 ms between any two: a message of S bytes takes
# 13.01 x 0.01 + S / 0.97e8 s under LV08.
PLAT = platform(
    '<host id="h0" speed="1Gf"/><host id="h1" speed="1Gf"/><host id="h2" speed="1Gf"/>'
    '<link id="L" bandwidth="100MBps" latency="10ms" sharing_policy="FATPIPE"/>'
    '<route src="h0" dst="h1"><link_ctn id="L"/></route><route src="h0" dst="h2"><link_ctn id="L"/></route>'
    '<route src="h1" dst="h2"><link_ctn id="L"/></route>'
)


def replay(tmp_path, text, *, deployment="", extra=(), handlers=None):
    path = tmp_path / "t.trace"
    path.write_text(text)
    sim = Simulation(PLAT)
    specs = load_deployment_string(f'<?xml version="1.0"?><platform version="4.1">{deployment}</platform>')
    replayer = Replayer(sim, open_trace([path], extra=extra), deployment=specs)
    for keyword, handler in (handlers or {}).items():
        replayer.register(keyword, handler)
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


def test_actions_of_the_users_own(tmp_path):
    # "checkpoint <seconds>" is not SimGrid's: registered with its handler, it sleeps for its argument.
    def checkpoint(ctx, action):
        assert isinstance(action, Custom) and action.keyword == "checkpoint"
        yield ctx.actor.sleep(float(action.args[0]))

    text = "p0 compute 1e9\np0 checkpoint 2.5\np0 compute 1e9\n"
    _, end, done = replay(tmp_path, text, extra={"checkpoint"}, handlers={"checkpoint": checkpoint})
    assert end == pytest.approx(4.5)
    assert [d.action.keyword for d in done] == ["compute", "checkpoint", "compute"]
    assert done[1].action.to_line() == "p0 checkpoint 2.5"
