"""Communications between actors: SimGrid's rendezvous on mailboxes, carried by the network model.

A send and a receive posted on the same mailbox match in the order they were posted; the transfer starts only
when both are there, between the PMs of the sender's and the receiver's hosts (an actor in a VM communicates
from its VM's PM). Both parties share one :class:`Comm` request, whose value is the payload (the size when none
was given). A transfer is frozen while either party is suspended; a killed party, or a failure of the route or
of a party's host, fails it for the other(s) with :class:`~replay.errors.ActivityFailed`.

Parties are whatever has a name, a host and a ``suspended`` flag (the :class:`Party` protocol): the actors of
:mod:`replay.actors`, which this module does not import.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any, Protocol

from replay import events
from replay.engine import Activity, Engine
from replay.errors import ActivityFailed, ActivityTimeout
from replay.hosts import ComputeHost
from replay.network import Network
from replay.process import Request
from replay.units import Bytes, BytesPerSecond


class Party(Protocol):
    """One end of a communication (``cause``: why it was killed, empty while it was not; ``posted``: its
    communications not done yet, which end with it)."""

    name: str
    host: ComputeHost
    suspended: bool
    cause: str
    posted: dict[Comm, None]

    @property
    def status(self) -> str: ...


class Comm(Request):
    """One message on a mailbox, shared by the send and the receive that match; value: the payload."""

    __slots__ = ("activity", "box", "engine", "payload", "rate", "receiver", "sender", "size")

    def __init__(self, box: Mailbox, engine: Engine, size: Bytes, payload: Any, rate: BytesPerSecond) -> None:
        super().__init__()
        self.box = box
        self.engine = engine
        self.size = size
        self.payload = payload
        self.rate = rate
        self.sender: Party | None = None
        self.receiver: Party | None = None
        self.activity: Activity | None = None

    def expire(self, timeout: float) -> None:
        """A party's timeout came first: the transfer stops, and both parties get an :class:`ActivityTimeout`."""
        self._stop(ActivityTimeout(f"transfer on mailbox {self.mailbox!r} timed out after {timeout:g} s"))

    @property
    def mailbox(self) -> str:
        return self.box.name

    def describe(self) -> str:
        if self.receiver is None:
            return f"send({self.size:g} B) on mailbox {self.mailbox!r}: no receiver"
        if self.sender is None:
            return f"recv on mailbox {self.mailbox!r}: no sender"
        return f"transfer of {self.size:g} B on mailbox {self.mailbox!r}"

    def pause(self, waiter: Any) -> None:
        if self.activity is not None and not self.done:
            self.engine.suspend(self.activity)

    def unpause(self, waiter: Any) -> None:
        """The transfer goes on only when neither party is suspended any more."""
        if self.activity is not None and not self.done:
            others = (self.sender, self.receiver)
            if not any(other is not None and other is not waiter and other.suspended for other in others):
                self.engine.resume(self.activity)

    def cancel(self) -> None:
        """A party was killed while waiting on it: the transfer stops and the peer gets an
        :class:`ActivityFailed`."""
        killed = next((p for p in (self.sender, self.receiver) if p is not None and p.cause), None)
        who = f"its peer {killed.name!r} was killed ({killed.cause})" if killed is not None else "its peer was killed"
        self._stop(self._failed(who))

    def abandon(self, party: Party) -> None:
        """``party`` ended without waiting for it (SimGrid cancels an ending actor's communications)."""
        status = party.status
        how = (f"was killed ({party.cause})" if status == "killed" else f"failed ({party.cause})" if status == "failed"
               else "ended without waiting for it")
        self._stop(self._failed(f"its peer {party.name!r} {how}"))

    def lost(self, cause: str) -> None:
        """The transfer failed (a link of its route, or the host of a party, went off)."""
        self._stop(self._failed(cause))

    def release(self) -> None:
        """The communication is over for its parties."""
        for party in (self.sender, self.receiver):
            if party is not None:
                party.posted.pop(self, None)

    def _failed(self, why: str) -> ActivityFailed:
        return ActivityFailed(f"transfer on mailbox {self.mailbox!r} failed: {why}")

    def _stop(self, error: ActivityFailed) -> None:
        """Stop the transfer (or take the post back from its mailbox) and fail it with ``error``."""
        if self.done:
            return
        if self.activity is not None:
            self.engine.cancel(self.activity)
        for queue in (self.box.sends, self.box.receives):
            if self in queue:
                queue.remove(self)
        self.release()
        self.fail(error)


class Mailbox:
    """A rendezvous point: pending sends and pending receives, matched first come, first served."""

    __slots__ = ("name", "receives", "sends")

    def __init__(self, name: str) -> None:
        self.name = name
        self.sends: deque[Comm] = deque()
        self.receives: deque[Comm] = deque()


class Mailboxes:
    """Every mailbox of a run, created on first use, and the transfers of the messages that match."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.engine = network.engine
        self.boxes: dict[str, Mailbox] = {}

    def box(self, name: str) -> Mailbox:
        found = self.boxes.get(name)
        if found is None:
            found = self.boxes[name] = Mailbox(name)
        return found

    def send(
        self, party: Party, mailbox: str, size: Bytes, payload: Any, rate: BytesPerSecond, timeout: float = math.inf
    ) -> Comm:
        """Post ``size`` bytes on ``mailbox``; the transfer starts when a receive matches. Not done ``timeout``
        seconds from now, it is cancelled and fails with :class:`ActivityTimeout` (SimGrid's ``put`` timeout)."""
        box = self.box(mailbox)
        if box.receives:
            comm = box.receives.popleft()
            comm.size, comm.payload, comm.rate = size, payload, rate
        else:
            comm = Comm(box, self.engine, size, payload, rate)
            box.sends.append(comm)
        comm.sender = party
        party.posted[comm] = None
        self._arm(comm, timeout)
        if comm.receiver is not None:
            self._start(comm)
        return comm

    def recv(self, party: Party, mailbox: str, timeout: float = math.inf) -> Comm:
        """Post a receive on ``mailbox``; the transfer starts when a send matches (``timeout``: as :meth:`send`)."""
        box = self.box(mailbox)
        comm = box.sends.popleft() if box.sends else None
        if comm is None:
            comm = Comm(box, self.engine, 0.0, None, math.inf)
            box.receives.append(comm)
        comm.receiver = party
        party.posted[comm] = None
        self._arm(comm, timeout)
        if comm.sender is not None:
            self._start(comm)
        return comm

    def _arm(self, comm: Comm, timeout: float) -> None:
        if timeout < math.inf:
            if not timeout >= 0:
                raise ValueError(f"a timeout must be a number of seconds >= 0, got {timeout!r}")
            timer = self.engine.schedule(timeout, lambda: comm.expire(timeout))
            comm.then(lambda _: timer.cancel())  # done first: the timeout is void

    def _start(self, comm: Comm) -> None:
        sender, receiver = comm.sender, comm.receiver
        assert sender is not None and receiver is not None
        src, dst = sender.host.pm.name, receiver.host.pm.name
        value = comm.payload if comm.payload is not None else comm.size
        engine = self.engine
        record = None
        if engine.traced:
            record = (comm.mailbox, src, dst, comm.size, sender.name, receiver.name)
            engine.emit(events.CommStarted(engine.now, *record))

        def done(_: Activity) -> None:
            if record is not None:
                engine.emit(events.CommEnded(engine.now, *record))
            comm.release()
            comm.finish(value)

        comm.activity = self.network.transfer(
            src, dst, comm.size, rate=comm.rate, name=comm.mailbox, on_done=done, on_fail=comm.lost
        )
        if sender.suspended or receiver.suspended:
            engine.suspend(comm.activity)
