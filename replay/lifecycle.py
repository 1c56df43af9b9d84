"""The VM state machine: its states, the operations that move between them, and the one table that says which.

A leaf module, so that the VM model, the static checks of a trace and the tracers share one definition. The
table follows the 2013 hypervisor model: ``SHUTDOWN`` powers the VM off back to ``CREATED`` (it may be started
again), ``DESTROY`` removes it for good. Operations ending in ``_DONE`` complete a step that takes time (a save,
a restore, a migration); the model applies them itself.
"""

from __future__ import annotations

import enum

from replay.errors import StateError


class VmState(enum.Enum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    MIGRATING = "MIGRATING"
    SUSPENDED = "SUSPENDED"
    SAVING = "SAVING"
    SAVED = "SAVED"
    RESTORING = "RESTORING"
    DESTROYED = "DESTROYED"


class VmOperation(enum.Enum):
    """What changes a VM's state; the value is how a message names it (``cannot <value> in state ...``)."""

    START = "start"
    SUSPEND = "suspend"
    RESUME = "resume"
    SAVE = "save"
    SAVE_DONE = "save done"
    RESTORE = "restore"
    RESTORE_DONE = "restore done"
    MIGRATE = "migrate"
    MIGRATE_DONE = "migrate done"
    SHUTDOWN = "shutdown"
    DESTROY = "destroy"


S = VmState
Op = VmOperation
_ALIVE = frozenset(s for s in VmState if s is not S.DESTROYED)

#: operation -> (states it is legal in, state it leads to)
TRANSITIONS: dict[VmOperation, tuple[frozenset[VmState], VmState]] = {
    Op.START: (frozenset({S.CREATED}), S.RUNNING),
    Op.SUSPEND: (frozenset({S.RUNNING}), S.SUSPENDED),
    Op.RESUME: (frozenset({S.SUSPENDED}), S.RUNNING),
    Op.SAVE: (frozenset({S.RUNNING}), S.SAVING),
    Op.SAVE_DONE: (frozenset({S.SAVING}), S.SAVED),
    Op.RESTORE: (frozenset({S.SAVED}), S.RESTORING),
    Op.RESTORE_DONE: (frozenset({S.RESTORING}), S.RUNNING),
    Op.MIGRATE: (frozenset({S.RUNNING}), S.MIGRATING),
    Op.MIGRATE_DONE: (frozenset({S.MIGRATING}), S.RUNNING),
    Op.SHUTDOWN: (_ALIVE - {S.CREATED}, S.CREATED),
    Op.DESTROY: (_ALIVE, S.DESTROYED),
}

#: states in which the VM holds memory on its PM
RESIDENT = frozenset({S.RUNNING, S.MIGRATING, S.SUSPENDED, S.SAVING, S.RESTORING})


def next_state(name: str, state: VmState, operation: VmOperation) -> VmState:
    """The state ``operation`` leads to from ``state``; a StateError naming the VM ``name`` if it is illegal."""
    legal, target = TRANSITIONS[operation]
    if state not in legal:
        allowed = ", ".join(sorted(s.value for s in legal))
        raise StateError(f"VM {name!r}: cannot {operation.value} in state {state.value} (allowed in {allowed})")
    return target
