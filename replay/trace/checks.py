"""Static checks of a trace against a platform, without simulating (``replay validate``, and before ``run``).

Syntax is checked by the parser; this adds what needs the whole trace and the platform. Each action says what
it needs in its own ``check(walk)`` (:mod:`replay.trace.records`), through the questions of :class:`TraceCheck`:
every peer of a ``send``/``recv`` is an actor of the trace, every host named is a host of the platform or a VM
the trace creates, every VM operation names a VM created earlier, and, with ``vm_order``, the VM operations are
legal one after the other in the order they appear in the trace (line order in a shared trace, file after file
in split mode). That order is exact for a VM driven by one actor; between actors only the run can tell, and the
run checks again.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from replay.errors import LookupFailure, StateError
from replay.lifecycle import TRANSITIONS, VmOperation, VmState
from replay.platform import Platform


class Checked(Protocol):
    """An action as the walk sees it: where it was read, and what it checks."""

    keyword: str
    path: str
    line: int

    def check(self, walk: TraceCheck) -> None: ...


class TraceCheck:
    """One walk over a trace's actions, in order; the questions actions ask in their ``check``."""

    def __init__(self, actors: Iterable[str], platform: Platform, *, vm_order: bool = True) -> None:
        self.actors = set(actors)
        self.hosts = platform.hosts
        self.vm_order = vm_order
        #: the state each VM created so far is in at this point of the trace
        self.vms: dict[str, VmState] = {}
        #: (action, name, what it must be) for names that a later line may still create
        self._later: list[tuple[Checked, str, str]] = []

    def run(self, actions: Iterable[Checked]) -> int:
        """Raise the first problem found (with its ``file:line``); return the number of actions checked."""
        count = 0
        for action in actions:
            count += 1
            action.check(self)
        for action, name, what in self._later:
            if name not in self.vms:
                raise LookupFailure(f"{_place(action)}'{action.keyword}' expects {what}, found {name!r}")
        return count

    # -- the questions -------------------------------------------------------------------------------------------
    def peer(self, action: Checked, role: str, name: str) -> None:
        """``name`` is an actor of the trace (the other end of a communication)."""
        if name not in self.actors:
            raise LookupFailure(f"{_place(action)}'{action.keyword}' expects an actor of the trace as <{role}>, "
                                f"found {name!r}")

    def host_or_vm(self, action: Checked, name: str) -> None:
        """``name`` is a host of the platform or a VM that the trace creates (maybe later)."""
        if name not in self.hosts:
            self._later.append((action, name, "a host of the platform or a VM the trace creates"))

    def platform_host(self, action: Checked, name: str, role: str) -> None:
        """``name`` is a host of the platform."""
        if name not in self.hosts:
            raise LookupFailure(f"{_place(action)}'{action.keyword}' expects a host of the platform as <{role}>, "
                                f"found {name!r}")

    def created(self, action: Checked, vm: str) -> None:
        """A VM called ``vm`` is created here: its name must be new."""
        if vm in self.hosts or (self.vm_order and self.vms.get(vm, VmState.DESTROYED) is not VmState.DESTROYED):
            raise StateError(f"{_place(action)}'{action.keyword}' expects a new name, found {vm!r}, already a host "
                             "or VM")
        self.vms[vm] = VmState.CREATED

    def vm(self, action: Checked, vm: str, operations: Iterable[VmOperation] = ()) -> None:
        """``vm`` was created earlier; with ``vm_order``, ``operations`` are legal for it at this point."""
        if vm not in self.vms:
            if self.vm_order:
                raise LookupFailure(f"{_place(action)}'{action.keyword}' expects a VM created earlier in the trace, "
                                    f"found {vm!r}")
            self._later.append((action, vm, "a VM the trace creates"))
            return
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


def _place(action: Checked) -> str:
    return f"{action.path}:{action.line}: "
