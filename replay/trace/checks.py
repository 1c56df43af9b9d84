"""Static checks of a trace against a platform, without simulating (``replay validate``, and before ``run``).

Syntax is checked by the parser; this adds what needs the whole trace and the platform: whatever can be known
without simulating is reported before the run starts, with the ``file:line`` of the action at fault. Each action
says what it needs in its own ``check(walk)`` (:mod:`replay.trace.actor_actions` and its siblings), through the
questions of :class:`TraceCheck`, which sees the actions one at a time, as the trace is read (one pass), and
concludes at :meth:`TraceCheck.finish`:

* every peer of a ``send``/``recv`` is an actor of the trace, and a blocking ``send`` or ``recv`` has a match
  (a mailbox that gets more blocking receives than sends would leave one waiting forever);
* a ``wait`` has a pending ``isend`` or ``irecv`` of its actor;
* every host named is a host of the platform or a VM the trace creates, every VM operation names a VM created
  earlier, and a VM that an actor is placed on is started somewhere in the trace;
* with ``vm_order`` (``replay validate``), the VM operations are legal one after the other in the order they
  appear in the trace (line order in a shared trace, file after file in split mode), a VM is not migrated to the
  PM it is on, and no actor suspends, saves or shuts down the VM it runs in. That order is exact for a VM driven
  by one actor; between actors only the run can tell, and the run checks again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from replay.errors import LookupFailure, StateError
from replay.lifecycle import TRANSITIONS, VmOperation, VmState
from replay.platform import Platform


class Checked(Protocol):
    """An action as the walk sees it: whose it is, where it was read, and what it checks."""

    keyword: str
    actor: str
    path: str
    line: int

    def check(self, walk: TraceCheck) -> None: ...


@dataclass(slots=True)
class _Mailbox:
    """The messages posted on one mailbox, counted, and the last blocking post of each side."""

    sends: int = 0
    receives: int = 0
    blocking_send: tuple[int, Checked] | None = None  # (its rank among the sends, the action)
    blocking_receive: tuple[int, Checked] | None = None


class TraceCheck:
    """One walk over a trace's actions, in order: :meth:`walk` each action, then :meth:`finish`."""

    def __init__(self, platform: Platform, *, vm_order: bool = True, placement: bool = False) -> None:
        self.platform = platform
        #: whether a placement policy runs (``vm_create <vm> auto`` is then allowed)
        self.placement = placement
        self.hosts = platform.hosts
        self.vm_order = vm_order
        self.count = 0
        #: the state and PM of each VM created so far, at this point of the trace (the PM and the state as it
        #: changes: with ``vm_order`` only; the walk keeps no more than its questions need, a few per VM)
        self.vms: dict[str, VmState] = {}
        self.vm_pm: dict[str, str] = {}
        self._started: set[str] = set()
        #: where each actor is (its last ``init``), as far as the trace says (with ``vm_order`` only)
        self._placed: dict[str, str] = {}
        self._pending: dict[str, int] = {}
        self._mailboxes: dict[str, _Mailbox] = {}
        #: (action, name, what it must be) for names not created yet, which a later line may still create
        self._later: list[tuple[Checked, str, str]] = []
        #: the first action naming each peer, checked against the actors at the end
        self._peers: dict[str, tuple[Checked, str]] = {}
        #: the first action placing an actor on each VM not started yet at that point
        self._placements: dict[str, Checked] = {}

    def walk(self, action: Checked) -> None:
        """Check one more action (raising the first problem, with its ``file:line``)."""
        self.count += 1
        action.check(self)

    def run(self, actions: Iterable[Checked], actors: Iterable[str]) -> int:
        """Walk every action, then finish; return the number of actions checked."""
        for action in actions:
            self.walk(action)
        self.finish(actors)
        return self.count

    def finish(self, actors: Iterable[str]) -> None:
        """What only the whole trace tells: names created later, peers, matches, VMs never started."""
        names = set(actors)
        for action, name, what in self._later:
            if name not in self.vms:
                raise LookupFailure(f"{_place(action)}'{action.keyword}' expects {what}, found {name!r}")
        for name, (action, role) in self._peers.items():
            if name not in names:
                raise LookupFailure(f"{_place(action)}'{action.keyword}' expects an actor of the trace as <{role}>, "
                                    f"found {name!r}")
        for vm, action in self._placements.items():
            if vm in self.vms and vm not in self._started:
                raise StateError(f"{_place(action)}'{action.keyword}' places actor {action.actor!r} on VM {vm!r}, "
                                 "which the trace never starts: the actor would wait forever")
        for name, box in self._mailboxes.items():
            for last, mine, theirs, what, other in (
                (box.blocking_receive, box.receives, box.sends, "receive", "send"),
                (box.blocking_send, box.sends, box.receives, "send", "receive"),
            ):
                if last is not None and last[0] >= theirs:
                    action = last[1]
                    raise StateError(
                        f"{_place(action)}'{action.keyword}' expects a matching {other} on mailbox {name!r}, found "
                        f"none ({_count(mine, what)}, {_count(theirs, other)}): it would wait forever"
                    )

    # -- the questions -------------------------------------------------------------------------------------------
    def peer(self, action: Checked, role: str, name: str) -> None:
        """``name`` is an actor of the trace (the other end of a communication)."""
        self._peers.setdefault(name, (action, role))

    def message(self, action: Checked, mailbox: str, *, send: bool, blocking: bool) -> None:
        """``action`` posts a send or a receive on ``mailbox`` (``blocking``: its actor waits for the match)."""
        box = self._mailboxes.get(mailbox)
        if box is None:
            box = self._mailboxes[mailbox] = _Mailbox()
        if send:
            if blocking:
                box.blocking_send = (box.sends, action)
            box.sends += 1
        else:
            if blocking:
                box.blocking_receive = (box.receives, action)
            box.receives += 1
        if not blocking:
            self._pending[action.actor] = self._pending.get(action.actor, 0) + 1

    def wait(self, action: Checked, *, every: bool) -> None:
        """``action`` completes its actor's oldest pending request (``every``: all of them)."""
        pending = self._pending.get(action.actor, 0)
        if every:
            self._pending[action.actor] = 0
        elif pending == 0:
            raise StateError(f"{_place(action)}'{action.keyword}' expects a pending isend or irecv, found none")
        else:
            self._pending[action.actor] = pending - 1

    def place(self, action: Checked, host: str) -> None:
        """``action`` places its actor on ``host``: a host of the platform or a VM the trace creates and starts."""
        if host not in self.hosts:
            if host not in self.vms:
                self._later.append((action, host, "a host of the platform or a VM the trace creates"))
            if host not in self._started:
                self._placements.setdefault(host, action)
        if self.vm_order:
            self._placed[action.actor] = host

    def platform_host(self, action: Checked, name: str, role: str) -> None:
        """``name`` is a host of the platform."""
        if name not in self.hosts:
            raise LookupFailure(f"{_place(action)}'{action.keyword}' expects a host of the platform as <{role}>, "
                                f"found {name!r}")

    def platform_link(self, action: Checked, name: str) -> None:
        """``name`` is a link of the platform (or a SPLITDUPLEX link, both of whose halves it names)."""
        try:
            self.platform.links_named(name)
        except LookupFailure:
            raise LookupFailure(f"{_place(action)}'{action.keyword}' expects a link of the platform as <link>, "
                                f"found {name!r}") from None

    def power_state(self, action: Checked, host: str, pstate: int) -> None:
        """``host``, a host of the platform, has a power state ``pstate``."""
        self.platform_host(action, host, "host")
        count = max(len(self.hosts[host].pstate_speeds), 1)
        if pstate >= count:
            raise LookupFailure(f"{_place(action)}'{action.keyword}' expects a power state of host {host!r} (0 to "
                                f"{count - 1}), found {pstate}")

    def created(self, action: Checked, vm: str, pm: str) -> None:
        """A VM called ``vm`` is created here on ``pm``: its name must be new."""
        if vm in self.hosts or (self.vm_order and self.vms.get(vm, VmState.DESTROYED) is not VmState.DESTROYED):
            raise StateError(f"{_place(action)}'{action.keyword}' expects a new name, found {vm!r}, already a host "
                             "or VM")
        self.vms[vm] = VmState.CREATED
        if self.vm_order:
            self.vm_pm[vm] = pm

    def vm(self, action: Checked, vm: str, operations: Iterable[VmOperation] = ()) -> None:
        """``vm`` was created earlier; with ``vm_order``, ``operations`` are legal for it at this point."""
        if vm not in self.vms:
            if self.vm_order:
                raise LookupFailure(f"{_place(action)}'{action.keyword}' expects a VM created earlier in the trace, "
                                    f"found {vm!r}")
            self._later.append((action, vm, "a VM the trace creates"))
            return
        operations = tuple(operations)
        if VmOperation.START in operations or VmOperation.RESTORE_DONE in operations:
            self._started.add(vm)
        if not self.vm_order:
            return
        state = self.vms[vm]
        for operation in operations:
            legal, target = TRANSITIONS[operation]
            if state not in legal:
                raise StateError(
                    f"{_place(action)}'{action.keyword}' expects VM {vm!r} in state "
                    f"{' or '.join(sorted(s.value for s in legal))}, found it {state.value} at this point of the trace"
                )
            state = target
        self.vms[vm] = state

    def moved(self, action: Checked, vm: str, dst: str) -> None:
        """With ``vm_order``, ``vm`` goes to ``dst``, which is not where it is."""
        if self.vm_order and vm in self.vm_pm:
            if self.vm_pm[vm] == dst:
                raise StateError(f"{_place(action)}'{action.keyword}' expects a PM other than the one VM {vm!r} is "
                                 f"on at this point of the trace, found {dst!r}")
            self.vm_pm[vm] = dst

    def from_outside(self, action: Checked, vm: str, what: str) -> None:
        """With ``vm_order``, the actor of ``action`` does not run in ``vm`` (it cannot ``what`` it)."""
        if self.vm_order and self._placed.get(action.actor) == vm:
            raise StateError(f"{_place(action)}'{action.keyword}': actor {action.actor!r} cannot {what} the VM it "
                             f"runs in ({vm!r})")


def _place(action: Checked) -> str:
    return f"{action.path}:{action.line}: "


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
