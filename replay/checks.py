"""Static checks of a trace against a platform, without simulating (``replay validate``, and before ``run``).

Syntax is checked by the parser; this adds what needs the whole trace and the platform: every peer of a
``send``/``recv`` is an actor of the trace, every host named (``init``, ``vm_create``, ``vm_migrate``) is a host
of the platform or a VM the trace creates, every VM operation names a VM created earlier, and, with
``vm_order``, the VM operations are legal one after the other in the order they appear in the trace (line order
in a shared trace, file after file in split mode). That order is exact for a VM driven by one actor; between
actors only the run can tell, and the run checks again.
"""

from __future__ import annotations

from collections.abc import Iterable

from replay import actions as act
from replay.errors import LookupFailure, StateError
from replay.platform import Platform
from replay.vm import TRANSITIONS, VmState

#: the operation each VM action applies, and the internal one that completes it at once in a static walk
_OPERATIONS: dict[type[act.VmAction], tuple[str, ...]] = {
    act.VmStart: ("start",),
    act.VmSuspend: ("suspend",),
    act.VmResume: ("resume",),
    act.VmSave: ("save", "save_done"),
    act.VmRestore: ("restore", "restore_done"),
    act.VmShutdown: ("shutdown",),
    act.VmDestroy: ("destroy",),
    act.VmMigrate: ("migrate", "migrate_done"),
}


def check_trace(
    actions: Iterable[act.Action], actors: Iterable[str], platform: Platform, *, vm_order: bool = True
) -> int:
    """Raise the first problem found (with its ``file:line``); return the number of actions checked."""
    actor_names = set(actors)
    hosts = platform.hosts
    vms: dict[str, VmState] = {}
    later: list[act.Init | act.VmAction] = []  # names that a later line may still create
    count = 0
    for action in actions:
        count += 1
        place = f"{action.path}:{action.line}: "
        if isinstance(action, act.Send | act.Isend) and action.dst not in actor_names:
            raise _unknown_peer(place, action.keyword, "dst", action.dst)
        if isinstance(action, act.Recv | act.Irecv) and action.src not in actor_names:
            raise _unknown_peer(place, action.keyword, "src", action.src)
        if isinstance(action, act.Init) and action.host is not None and action.host not in hosts:
            later.append(action)
        elif isinstance(action, act.VmCreate):
            if action.pm not in hosts:
                raise LookupFailure(f"{place}'vm_create' expects a host of the platform as <pm>, found {action.pm!r}")
            if action.vm in hosts or (vm_order and vms.get(action.vm, VmState.DESTROYED) is not VmState.DESTROYED):
                raise StateError(f"{place}'vm_create' expects a new name, found {action.vm!r}, already a host or VM")
            vms[action.vm] = VmState.CREATED
        elif isinstance(action, act.VmAction):
            if isinstance(action, act.VmMigrate) and action.dst not in hosts:
                raise LookupFailure(
                    f"{place}'vm_migrate' expects a host of the platform as <dst_pm>, found {action.dst!r}"
                )
            if action.vm not in vms:
                if vm_order:
                    raise LookupFailure(
                        f"{place}'{action.keyword}' expects a VM created earlier in the trace, found {action.vm!r}"
                    )
                later.append(action)
            elif vm_order and type(action) in _OPERATIONS:
                vms[action.vm] = _walk(vms[action.vm], _OPERATIONS[type(action)], action, place)
    for action in later:
        name = action.host if isinstance(action, act.Init) else action.vm
        if name not in vms:
            what = "a host of the platform or a VM the trace creates" if isinstance(action, act.Init) else (
                "a VM the trace creates"
            )
            raise LookupFailure(f"{action.path}:{action.line}: '{action.keyword}' expects {what}, found {name!r}")
    return count


def _unknown_peer(place: str, keyword: str, role: str, name: str) -> LookupFailure:
    return LookupFailure(f"{place}'{keyword}' expects an actor of the trace as <{role}>, found {name!r}")


def _walk(state: VmState, operations: tuple[str, ...], action: act.VmAction, place: str) -> VmState:
    for operation in operations:
        legal, target = TRANSITIONS[operation]
        if state not in legal:
            raise StateError(
                f"{place}'{action.keyword}' expects VM {action.vm!r} in state "
                f"{' or '.join(sorted(s.value for s in legal))}, found it {state.value} at this point of the trace"
            )
        state = target
    return state
