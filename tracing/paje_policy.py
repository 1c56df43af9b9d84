"""A policy in the loop in the Paje trace (``replay run --policy``): why VMs moved and hosts switched, and what
was asked of each CPU; a part of :class:`tracing.paje_model.PajeModel`, which hands it the records below.

==================== ===========================================================================================
record               operations
==================== ===========================================================================================
``PolicyDecision``   a ``POLICY`` point event on the ``HOST`` concerned (a migration's source), valued with what
                     was decided and why (:func:`decision_label`): ``place vm3 on pm-2 (placement)``,
                     ``migrate vm3 pm-0 -> pm-5 (overload)``, ``power_off pm-4 (empty)``, ``power_on pm-4
                     (needed)``, so that a ViTE user sees why a VM moved
``DemandChanged``    ``SetVariable requested`` (flop/s) on the ``HOST`` or the VM's ``MSG_VM``: what its
                     executions ask, beside ``power_used``, what they get (a saturated host gets less)
``VmMoved``          ``requested`` set again on the VM's new container, as ``power_used`` is
==================== ===========================================================================================

Only a run with a policy emits these records, and the types are defined at their first use
(:meth:`tracing.paje_types.Definitions.late`), so a run without a policy gives the trace it gave before they
existed, byte for byte. ``booting`` (``HostBooting``) is drawn with the other host states, by
:mod:`tracing.paje_availability`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from replay import events
from replay.events import ResourceKind
from tracing.paje_types import (
    POLICY,
    REQUESTED,
    REQUESTED_COLOR,
    Container,
    Definitions,
    NewEvent,
    Operation,
    SetVariable,
    clean,
)

__all__ = ["PolicyTrace", "decision_label"]

Handler = Callable[[Any, list[Operation]], None]


def decision_label(record: events.PolicyDecision) -> str:
    """What a ``POLICY`` event says: the action, its subject, then the reason in parentheses (the analysis reads
    the action as the first word and the reason as the text after the first `` (``)."""
    if record.action == "place":
        what = f"place {record.vm} on {record.host}"
    elif record.action == "migrate":
        what = f"migrate {record.vm} {record.host} -> {record.dst}"
    elif record.action in ("power_off", "power_on"):
        what = f"{record.action} {record.host}"
    else:  # a policy's own action: whatever it names
        what = " ".join(part for part in (record.action, record.vm, record.host, record.dst) if part)
    return clean(f"{what} ({record.reason})" if record.reason else what)


class PolicyTrace:
    """The policy part of a trace: the model's ``definitions``, its platform containers by name (``named``) and
    ``vm_container``, which gives a VM's container now (None when it has none)."""

    def __init__(self, definitions: Definitions, named: dict[str, Container],
                 vm_container: Callable[[str], Container | None]) -> None:
        self.defs = definitions
        self.named = named
        self.vm_container = vm_container
        #: the last ``requested`` set on each VM container, by alias (carried to its next container when it moves)
        self._requested: dict[int, float] = {}

    def handlers(self) -> dict[type, Handler]:
        return {events.PolicyDecision: self._decision, events.DemandChanged: self._demand_changed}

    def _host(self, name: str) -> Container | None:
        container = self.named.get(name)
        return container if container is not None and container.type.name == "HOST" else None

    def _decision(self, record: events.PolicyDecision, ops: list[Operation]) -> None:
        host = self._host(record.host)
        if host is None:
            return
        event_type = self.defs.late("event", POLICY, host.type, record.time, ops)
        ops.append(NewEvent(record.time, host, event_type, decision_label(record)))

    def _demand_changed(self, record: events.DemandChanged, ops: list[Operation]) -> None:
        if record.kind is ResourceKind.HOST:
            container = self._host(record.name)
        elif record.kind is ResourceKind.VM:
            container = self.vm_container(record.name)
            if container is not None:
                self._requested[container.alias] = record.requested
        else:
            return
        if container is not None:
            self._set(container, record.time, record.requested, ops)

    def vm_moved(self, old: Container, new: Container, time: float, ops: list[Operation]) -> None:
        """The VM of container ``old`` is now ``new``: its ``requested`` goes with it (once it has one)."""
        requested = self._requested.pop(old.alias, None)
        if requested is not None:
            self._requested[new.alias] = requested
            self._set(new, time, requested, ops)

    def _set(self, container: Container, time: float, value: float, ops: list[Operation]) -> None:
        variable = self.defs.late("variable", REQUESTED, container.type, time, ops, color=REQUESTED_COLOR)
        ops.append(SetVariable(time, container, variable, value))
