"""Actors: rendezvous semantics, asynchronous requests, sleeps and deadlock reports."""

from __future__ import annotations

import pytest

from replay.errors import DeadlockError
from replay.simulation import Simulation
from tests.helpers import two_hosts

# A FATPIPE link of 100 MBps and 10 ms: a message of S bytes posted on both sides at t takes
# 13.01 x 0.01 + S / 0.97e8 s (LV08, no cross-traffic penalty on a FATPIPE).
PLAT = two_hosts("100MBps", "10ms", "FATPIPE")
WAIT = 13.01 * 0.01


def duration(size: float) -> float:
    return WAIT + size / 0.97e8


def test_send_waits_for_the_receiver():
    # The sender posts at 0, the receiver only at 2 s: the transfer starts at 2 s and both sides end together.
    sim = Simulation(PLAT)
    ends = {}

    def sender(actor):
        yield actor.send("m", 1e8)
        ends["send"] = actor.now

    def receiver(actor):
        yield actor.sleep(2.0)
        value = yield actor.recv("m")
        ends["recv"] = actor.now
        ends["value"] = value

    sim.add_actor("s", "A", sender)
    sim.add_actor("r", "B", receiver)
    sim.run()
    assert ends["send"] == ends["recv"] == pytest.approx(2.0 + duration(1e8), rel=1e-9)
    assert ends["value"] == 1e8  # no payload: a receive gives the size


def test_receive_waits_for_the_sender_and_gets_the_payload():
    sim = Simulation(PLAT)
    got = {}

    def sender(actor):
        yield actor.sleep(1.0)
        yield actor.send("m", 0.0, payload={"task": 7})

    def receiver(actor):
        got["payload"] = yield actor.recv("m")
        got["at"] = actor.now

    sim.add_actor("s", "A", sender)
    sim.add_actor("r", "B", receiver)
    sim.run()
    assert got == {"payload": {"task": 7}, "at": pytest.approx(1.0 + WAIT, rel=1e-9)}


def test_messages_match_in_posting_order():
    # Two senders post on one mailbox at 0 (s1 first); the receiver takes two messages one after the other:
    # the first it gets is s1's 1e6-byte one, then s2's 2e6-byte one.
    sim = Simulation(PLAT)
    got = []

    def sender(actor, size):
        yield actor.send("m", size)

    def receiver(actor):
        for _ in range(2):
            got.append((yield actor.recv("m")))

    sim.add_actor("s1", "A", sender, 1e6)
    sim.add_actor("s2", "A", sender, 2e6)
    sim.add_actor("r", "B", receiver)
    sim.run()
    assert got == [1e6, 2e6]


def test_isend_lets_the_sender_compute_meanwhile():
    # isend, then 1 Gflop on a 1 Gf/s host (1 s), then wait: the transfer of 1e8 bytes takes
    # 0.1301 + 1.0309 = 1.161 s, so the wait ends at 1.161 s, not 1 + 1.161 s.
    sim = Simulation(PLAT)
    ends = {}

    def sender(actor):
        comm = actor.isend("m", 1e8)
        yield actor.execute(1e9)
        ends["computed"] = actor.now
        yield actor.wait(comm)
        ends["sent"] = actor.now

    def receiver(actor):
        yield actor.irecv("m")

    sim.add_actor("s", "A", sender)
    sim.add_actor("r", "B", receiver)
    sim.run()
    assert ends["computed"] == pytest.approx(1.0, rel=1e-9)
    assert ends["sent"] == pytest.approx(duration(1e8), rel=1e-9)


def test_wait_all_and_wait_any():
    sim = Simulation(PLAT)
    seen = {}

    def worker(actor):
        short, long = actor.sleep(1.0), actor.sleep(3.0)
        seen["first"] = yield actor.wait_any([long, short])
        seen["any_at"] = actor.now
        yield actor.wait_all([short, long])
        seen["all_at"] = actor.now

    sim.add_actor("w", "A", worker)
    sim.run()
    assert seen == {"first": 1, "any_at": 1.0, "all_at": 3.0}


def test_sleep_until_and_delayed_start():
    sim = Simulation(PLAT)
    seen = {}

    def late(actor):
        seen["start"] = actor.now
        yield actor.sleep_until(5.0)
        seen["woke"] = actor.now

    sim.add_actor("late", "A", late, start_time=2.0)
    assert sim.run() == 5.0
    assert seen == {"start": 2.0, "woke": 5.0}


def test_deadlock_names_every_blocked_actor_and_what_it_waits_on():
    sim = Simulation(PLAT)

    def lonely_receiver(actor):
        yield actor.recv("nobody_sends_here")

    def lonely_sender(actor):
        yield actor.sleep(1.0)
        yield actor.send("nobody_listens", 10.0)

    sim.add_actor("r", "A", lonely_receiver)
    sim.add_actor("s", "B", lonely_sender)
    with pytest.raises(DeadlockError) as error:
        sim.run()
    message = str(error.value)
    assert "t=1.000000" in message
    assert "r on A waits on recv on mailbox 'nobody_sends_here': no sender" in message
    assert "s on B waits on send(10 B) on mailbox 'nobody_listens': no receiver" in message


def test_chain_of_rendezvous():
    # p0 -> p1 -> p0: each hop of 1e8 bytes on the FATPIPE takes duration(1e8); the second hop starts when p1
    # has received the first, so p0 ends at 2 x duration(1e8).
    sim = Simulation(PLAT)

    def p0(actor):
        yield actor.send("there", 1e8)
        yield actor.recv("back")

    def p1(actor):
        yield actor.recv("there")
        yield actor.send("back", 1e8)

    sim.add_actor("p0", "A", p0)
    sim.add_actor("p1", "B", p1)
    assert sim.run() == pytest.approx(2 * duration(1e8), rel=1e-9)
