"""The one translation from :mod:`replay.events` records to Paje operations, shared by every trace writer.

:class:`PajeModel` is the vocabulary of our traces: which containers exist, with which parents and types, which
states are pushed and popped, which variables are set, which links start and end. :class:`tracing.paje.PajeWriter`
prints its operations as Paje lines and :class:`tracing.csv_writer.CsvWriter` turns the very same operations into
rows, so the two outputs never disagree. The model never looks at the simulation: it only reads records.

Types follow SimGrid's MSG-era tracing (``src/msg/instr_msg_vm.c`` and ``src/surf/instr_routing.c`` of SimGrid
3.10 to 3.12, with the 2013 hypervisor branch's ``TRACE_msg_vm_*`` calls):

* The platform's root zone is Paje's root container ``0`` (type ``0``); a zone at depth d is a container of type
  ``Ld`` inside its parent zone's container; hosts are ``HOST``, links ``LINK``, routers ``ROUTER`` containers
  inside the container of the zone that declares them (the model's implicit ``__loopback__`` link is left out,
  as SimGrid does). Type aliases and container aliases are integers, as SimGrid prints them: types and values
  share one counter (the root type is 0), containers another (the root container is 0). A type is defined once
  per parent type, so a platform whose hosts sit at two zone depths has two ``HOST`` types (and two ``MSG_VM``
  types, ...), all with the same name, as SimGrid does.
* A VM is a ``MSG_VM`` container inside its PM's ``HOST`` container, created at ``VmCreated`` and destroyed at
  ``VmDestroyed``. Its state type ``MSG_VM_STATE`` holds a stack that mirrors the VM's state (table below); the
  operations are the pushes and pops that turn the stack shown into the stack wanted, so a start pushes
  ``start``, a suspend pushes ``suspend`` and a resume pops it, a save pushes ``save`` as the seed's
  ``TRACE_msg_vm_*`` do, and our richer states add a level on top.
* Variables: ``power_used`` (the MSG-era name of 3.32's ``speed_used``; flop/s) on ``HOST`` and ``MSG_VM``,
  ``bandwidth_used`` (byte/s) on ``LINK``, from :class:`replay.events.ResourceUsed`; each is set to 0 when its
  container is created and set again whenever the rate changes. A PM's disk (save/restore with a
  ``disk_bandwidth`` property) is ``disk_used`` (byte/s) on the ``HOST``, defined only when some host has a disk.
* A live migration is drawn as ``TRACE_msg_vm_change_host`` draws it, at the moment the VM moves (``VmMoved``,
  the end of stop-and-copy): a ``StartLink`` of type ``MSG_VM_LINK`` on the root from the VM's old container,
  ``DestroyContainer`` of that container, ``CreateContainer`` of a new one (new alias, same name) under the
  destination PM, and the ``EndLink`` with the same key into it; then the VM's ``power_used`` and its state
  stack are set again in the new container, so that a Gantt chart shows it. The migration itself is the
  ``migrate`` state (``MigrationStarted`` to its end), with ``stop-and-copy`` on top of it during stage 3, and a
  ``MSG_VM_MIGRATION`` point event (``stage1``, ``stage2``, ``stage3``) at the end of every stage or round; one
  whose stop-and-copy was forced (it did not converge) gets a last ``forced`` event when it ends (``MigrationEnded``).
  A migration that fails leaves the VM where it was: no link, only its ``migrate`` state.
* Actors (``actors=True``; off by default) are ``MSG_PROCESS`` containers inside their host's or VM's container
  from ``ActorStarted`` to ``ActorEnded``, with ``MSG_PROCESS_STATE`` ``task_execute`` while they compute,
  ``send`` / ``receive`` while a transfer of theirs runs, and a ``MSG_PROCESS_LINK`` from the sender to the
  receiver for every communication (``CommStarted`` to ``CommEnded``).
* An actor that does not end ``done`` (``killed``, ``failed``, ``blocked``) gets a ``MSG_PROCESS_END`` point event
  on its container as it ends, valued ``<status>: <cause>``.
* A policy in the loop (``replay run --policy``) is drawn by :mod:`tracing.paje_policy`: a ``POLICY`` event per
  decision, the ``requested`` variable of hosts and VMs (``booting`` hosts are :mod:`tracing.paje_availability`'s).
* Hosts and links going off and on, and their speed, bandwidth and latency changing, are drawn by
  :mod:`tracing.paje_availability` (``HOST_STATE``/``LINK_STATE`` ``off``, ``HOST_OFF``/``LINK_OFF`` events with
  the cause, ``speed``, ``bandwidth``, ``latency`` variables). These types, and ``MSG_PROCESS_END``, are defined
  at their first use (:meth:`tracing.paje_types.Definitions.late`), so that a run without failures gives the
  trace it gave before they existed.
* ``RunEnded`` (or :meth:`PajeModel.finish`) ends the communications still open and destroys every container
  but the root, children before parents.

VM state -> ``MSG_VM_STATE`` stack (bottom first):

========== ==============================
CREATED    (empty: created, or shut down)
RUNNING    start
SUSPENDED  start, suspend
SAVING     start, save, saving
SAVED      start, save
RESTORING  start, save, restoring
MIGRATING  start, migrate (and stop-and-copy on top during stage 3)
DESTROYED  (empty; the container is destroyed)
========== ==============================

Stop-and-copy begins with its own record (:class:`replay.events.StopAndCopyStarted`); its push is written after
the other operations of that date (the rates the freeze changed come first), as SimGrid's buffer, sorted by date,
writes a state pushed last. Operations come out in time order, so writers stream them as they come.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from replay import events
from replay.events import ResourceKind
from replay.lifecycle import VmState
from replay.platform import Platform, Zone
from tracing.paje_availability import Availability
from tracing.paje_policy import PolicyTrace
from tracing.paje_types import (
    ACTOR_END,
    ACTOR_STATE_VALUES,
    COMM_LINK_VALUE,
    LOOPBACK,
    MIGRATION_FORCED_VALUE,
    MIGRATION_LINK_VALUE,
    MIGRATION_STAGE_VALUES,
    POWER_COLOR,
    PSTATE_COLOR,
    USED_COLOR,
    VM_STACKS,
    VM_STATE_VALUES,
    Container,
    CreateContainer,
    Definitions,
    DestroyContainer,
    EndLink,
    NewEvent,
    Operation,
    PajeType,
    PajeValue,
    PopState,
    PushState,
    SetVariable,
    StartLink,
    clean,
    retarget,
)

__all__ = ["PajeModel"]


@dataclass(frozen=True, slots=True)
class _HostTypes:
    """The types defined under one ``HOST`` type (one per zone depth holding hosts)."""

    host: PajeType
    power_used: PajeType
    disk_used: PajeType | None
    power: PajeType | None
    pstate: PajeType | None
    vm: PajeType
    vm_state: PajeType
    vm_power_used: PajeType
    vm_stage: PajeType
    actor: PajeType | None
    vm_actor: PajeType | None


@dataclass(eq=False, slots=True)
class _Vm:
    name: str
    pm: str
    container: Container
    state: VmState = VmState.CREATED
    power: float = 0.0
    #: the values pushed in the current container, bottom first
    stack: list[PajeValue] = field(default_factory=list)
    #: actors running inside, by name
    actors: dict[str, _Actor] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class _Actor:
    name: str
    host: str
    container: Container
    #: what it is doing, oldest first (the stack wanted)
    doing: list[str] = field(default_factory=list)
    stack: list[PajeValue] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class _Comm:
    key: str
    type: PajeType
    sender: str
    receiver: str
    end: Container


class PajeModel:
    """Turns records into Paje operations for one run on ``platform`` (see the module docstring).

    ``types`` and ``values`` list the definitions known from the platform, in the order a trace file must
    declare them, so that a writer can print them before the first event; those a run reveals (a host going
    off) come later, as :class:`~tracing.paje_types.DefineType` and ``DefineValue`` operations, just before their
    first use, and join these lists then. :meth:`start` gives the creation
    of the platform's containers at time 0, :meth:`handle` the operations of one record (in emission order,
    and in time order), :meth:`finish` those that close the trace.
    """

    def __init__(self, platform: Platform, *, actors: bool = False) -> None:
        self.platform = platform
        self.actors = actors
        self.defs = Definitions()
        #: every definition: those known from the platform, then those the run adds (:meth:`Definitions.late`)
        self.types: list[PajeType] = self.defs.types
        self.values: list[PajeValue] = self.defs.values
        self._container_ids = itertools.count()
        self.root_type = self.defs.define("container", "0", None)
        self.root = Container(next(self._container_ids), platform.root.id, self.root_type, None, 0)
        self._zone_types: list[PajeType] = [self.root_type]
        #: the types under each HOST type, by the alias of the zone type holding it
        self._host_types: dict[int, _HostTypes] = {}
        #: the same, by the alias of the HOST type and of the MSG_VM type
        self._bundles: dict[int, _HostTypes] = {}
        self._actor_states: dict[int, PajeType] = {}
        self._link_types: dict[int, tuple[PajeType, PajeType]] = {}
        self._router_types: dict[int, PajeType] = {}
        self._has_disk = any(host.disk_bandwidth is not None for host in platform.hosts.values())
        self._has_host_power = any(host.wattages for host in platform.hosts.values())
        self._has_pstates = any(len(host.pstate_speeds) > 1 for host in platform.hosts.values())
        self._has_link_power = any(link.wattage_range is not None for link in platform.links.values())
        #: the ``power`` variable type under each LINK type (when links have wattages)
        self._link_power: dict[int, PajeType] = {}
        self._define_platform_types(platform.root, 0)
        declared = {link for zone in platform.root.walk() for link in zone.links}
        #: links no zone declares (the loader puts every link in a zone; this is a safety net): under the root
        self._orphan_links = [name for name in platform.links if name != LOOPBACK and name not in declared]
        if self._orphan_links and self.root_type.alias not in self._link_types:
            self._define_link_type(self.root_type)
        self._vm_links: dict[tuple[int, int], PajeType] = {}
        self._actor_links: dict[tuple[int, int], PajeType] = {}
        self._define_link_types()
        #: platform containers (zones but the root, hosts, links, routers) by name
        self._named: dict[str, Container] = {}
        self._vms: dict[str, _Vm] = {}
        self._actors: dict[str, _Actor] = {}
        #: VMs whose stop-and-copy began, by name, with its date: pushed once the date's other operations are out
        self._stop_and_copy: dict[str, float] = {}
        self._comms: dict[tuple[Any, ...], deque[_Comm]] = {}
        self._migration_keys = itertools.count()
        self._comm_keys = itertools.count()
        self.now = 0.0
        self.started = False
        self.finished = False
        self._availability = Availability(platform, self.defs, self._named)
        self._policy = PolicyTrace(self.defs, self._named, lambda name: (vm := self._vms.get(name)) and vm.container)
        self._handlers: dict[type, Callable[[Any, list[Operation]], None]] = {
            **self._availability.handlers(),
            **self._policy.handlers(),
            events.VmCreated: self._vm_created,
            events.VmStateChanged: self._vm_state_changed,
            events.VmMoved: self._vm_moved,
            events.VmDestroyed: self._vm_destroyed,
            events.MigrationStage: self._migration_stage,
            events.StopAndCopyStarted: self._stop_and_copy_started,
            events.MigrationEnded: self._migration_ended,
            events.ResourceUsed: self._resource_used,
            events.PowerChanged: self._power_changed,
            events.PstateChanged: self._pstate_changed,
            events.RunEnded: self._run_ended,
        }
        if actors:
            self._handlers.update({
                events.ActorStarted: self._actor_started,
                events.ActorEnded: self._actor_ended,
                events.ExecStarted: self._exec_started,
                events.ExecEnded: self._exec_ended,
                events.CommStarted: self._comm_started,
                events.CommEnded: self._comm_ended,
            })

    # -- definitions ---------------------------------------------------------------------------------------------
    def _zone_type(self, depth: int) -> PajeType:
        while len(self._zone_types) <= depth:
            level = len(self._zone_types)
            self._zone_types.append(self.defs.define("container", f"L{level}", self._zone_types[-1]))
        return self._zone_types[depth]

    def _define_platform_types(self, zone: Zone, depth: int) -> None:
        zone_type = self._zone_type(depth)
        if zone.hosts and zone_type.alias not in self._host_types:
            bundle = self._host_types[zone_type.alias] = self._define_host_types(zone_type)
            self._bundles[bundle.host.alias] = self._bundles[bundle.vm.alias] = bundle
        if any(link != LOOPBACK for link in zone.links) and zone_type.alias not in self._link_types:
            self._define_link_type(zone_type)
        if zone.routers and zone_type.alias not in self._router_types:
            self._router_types[zone_type.alias] = self.defs.define("container", "ROUTER", zone_type)
        for child in zone.children:
            self._define_platform_types(child, depth + 1)

    def _define_link_type(self, parent: PajeType) -> None:
        link_type = self.defs.define("container", "LINK", parent)
        used = self.defs.define("variable", "bandwidth_used", link_type, USED_COLOR)
        self._link_types[parent.alias] = (link_type, used)
        if self._has_link_power:
            self._link_power[link_type.alias] = self.defs.define("variable", "power", link_type, POWER_COLOR)

    def _define_host_types(self, zone_type: PajeType) -> _HostTypes:
        host = self.defs.define("container", "HOST", zone_type)
        power_used = self.defs.define("variable", "power_used", host, USED_COLOR)
        disk_used = self.defs.define("variable", "disk_used", host, USED_COLOR) if self._has_disk else None
        power = self.defs.define("variable", "power", host, POWER_COLOR) if self._has_host_power else None
        pstate = self.defs.define("variable", "pstate", host, PSTATE_COLOR) if self._has_pstates else None
        vm = self.defs.define("container", "MSG_VM", host)
        vm_state = self.defs.define("state", "MSG_VM_STATE", vm)
        self.defs.define_values(vm_state, VM_STATE_VALUES)
        vm_power_used = self.defs.define("variable", "power_used", vm, USED_COLOR)
        vm_stage = self.defs.define("event", "MSG_VM_MIGRATION", vm)
        actor = vm_actor = None
        if self.actors:
            vm_actor = self._define_actor_type(vm)
            actor = self._define_actor_type(host)
        return _HostTypes(
            host, power_used, disk_used, power, pstate, vm, vm_state, vm_power_used, vm_stage, actor, vm_actor
        )

    def _define_actor_type(self, parent: PajeType) -> PajeType:
        actor = self.defs.define("container", "MSG_PROCESS", parent)
        state = self._actor_states[actor.alias] = self.defs.define("state", "MSG_PROCESS_STATE", actor)
        self.defs.define_values(state, ACTOR_STATE_VALUES)
        return actor

    def _define_link_types(self) -> None:
        vm_types = [bundle.vm for bundle in self._host_types.values()]
        for start in vm_types:
            for end in vm_types:
                self._vm_links[start.alias, end.alias] = self.defs.define(
                    "link", "MSG_VM_LINK", self.root_type, start=start, end=end
                )
        if self.actors:
            actor_types = [t for b in self._host_types.values() for t in (b.actor, b.vm_actor) if t is not None]
            for start in actor_types:
                for end in actor_types:
                    self._actor_links[start.alias, end.alias] = self.defs.define(
                        "link", "MSG_PROCESS_LINK", self.root_type, start=start, end=end
                    )

    def child_type(self, parent: PajeType, name: str) -> PajeType:
        """The type called ``name`` whose parent is ``parent`` (for containers: the kinds of children they take)."""
        for paje_type in self.types:
            if paje_type.parent is parent and paje_type.name == name:
                return paje_type
        raise KeyError(f"no type {name!r} under type {parent.name!r} ({parent.alias})")

    def value(self, paje_type: PajeType, name: str) -> PajeValue:
        return self.defs.value(paje_type, name)

    # -- the run -------------------------------------------------------------------------------------------------
    def start(self) -> list[Operation]:
        """Create the platform's containers at time 0, each ``*_used`` variable set to 0."""
        if self.started:
            raise RuntimeError("PajeModel.start() was already called")
        self.started = True
        ops: list[Operation] = []
        self._create_zone(self.platform.root, self.root, ops)
        for name in self._orphan_links:
            self._create_link(name, self.root, ops)
        self._availability.start(ops)
        return ops

    def handle(self, record: Any) -> list[Operation]:
        """The operations ``record`` causes (none for records we do not draw, or once finished)."""
        if not self.started:
            raise RuntimeError("PajeModel.start() must be called before handle()")
        handler = self._handlers.get(type(record))
        if handler is None or self.finished:
            return []
        if record.time > self.now:
            self.now = record.time
        ops: list[Operation] = []
        if self._stop_and_copy:
            for name in [name for name, began in self._stop_and_copy.items() if began < record.time]:
                self._push_stop_and_copy(name, ops)
        handler(record, ops)
        return ops

    def _run_ended(self, record: events.RunEnded, ops: list[Operation]) -> None:
        ops.extend(self.finish(record.time))

    def finish(self, time: float | None = None) -> list[Operation]:
        """End the communications still open and destroy every container but the root, at ``time`` (or now)."""
        if self.finished or not self.started:
            self.finished = True
            return []
        self.finished = True
        when = self.now if time is None else max(time, self.now)
        self.now = when
        ops: list[Operation] = []
        for name in list(self._stop_and_copy):
            self._push_stop_and_copy(name, ops)
        for queue in self._comms.values():
            for comm in queue:
                ops.append(EndLink(when, self.root, comm.type, COMM_LINK_VALUE, comm.end, comm.key))
        self._comms.clear()
        for child in list(self.root.children.values()):
            self._destroy(child, when, ops)
        return ops

    # -- containers ----------------------------------------------------------------------------------------------
    def _new_container(self, name: str, paje_type: PajeType, parent: Container, time: float,
                       ops: list[Operation]) -> Container:
        container = Container(next(self._container_ids), clean(name), paje_type, parent, parent.depth + 1)
        parent.children[container.alias] = container
        ops.append(CreateContainer(time, container))
        return container

    def _destroy(self, container: Container, time: float, ops: list[Operation]) -> None:
        """Destroy ``container`` after its children (its open states end with it, as Paje says)."""
        for child in list(container.children.values()):
            self._destroy(child, time, ops)
        ops.append(DestroyContainer(time, container))
        if container.parent is not None:
            container.parent.children.pop(container.alias, None)

    def _create_zone(self, zone: Zone, container: Container, ops: list[Operation]) -> None:
        zone_type = container.type
        for name in zone.hosts:
            types = self._host_types[zone_type.alias]
            host = self._named[name] = self._new_container(name, types.host, container, 0.0, ops)
            ops.append(SetVariable(0.0, host, types.power_used, 0.0))
            spec = self.platform.hosts[name]
            if types.power is not None and spec.wattages:  # idle in its first power state until told otherwise
                ops.append(SetVariable(0.0, host, types.power, spec.wattages[spec.pstate].idle))
            if types.pstate is not None:
                ops.append(SetVariable(0.0, host, types.pstate, float(spec.pstate)))
        for name in zone.links:
            if name != LOOPBACK:
                self._create_link(name, container, ops)
        for name in zone.routers:
            self._named[name] = self._new_container(name, self._router_types[zone_type.alias], container, 0.0, ops)
        for child in zone.children:
            child_container = self._new_container(child.id, self._zone_type(container.depth + 1), container, 0.0,
                                                  ops)
            self._named.setdefault(child.id, child_container)
            self._create_zone(child, child_container, ops)

    def _create_link(self, name: str, parent: Container, ops: list[Operation]) -> None:
        link_type, used = self._link_types[parent.type.alias]
        link = self._named[name] = self._new_container(name, link_type, parent, 0.0, ops)
        ops.append(SetVariable(0.0, link, used, 0.0))
        wattage_range = self.platform.links[name].wattage_range
        if wattage_range is not None and link_type.alias in self._link_power:
            ops.append(SetVariable(0.0, link, self._link_power[link_type.alias], wattage_range[0]))

    def _host_bundle(self, container: Container) -> _HostTypes:
        """The types of a HOST or MSG_VM container's family."""
        return self._bundles[container.type.alias]

    # -- VMs -----------------------------------------------------------------------------------------------------
    def _vm(self, name: str, pm: str, time: float, ops: list[Operation]) -> _Vm | None:
        """The VM called ``name``; one we never saw created (a sink subscribed late) is created now on ``pm``."""
        vm = self._vms.get(name)
        if vm is None:
            host = self._named.get(pm)
            if host is None or host.type.name != "HOST":
                return None
            bundle = self._host_bundle(host)
            container = self._new_container(name, bundle.vm, host, time, ops)
            ops.append(SetVariable(time, container, bundle.vm_power_used, 0.0))
            vm = self._vms[name] = _Vm(name, pm, container)
        return vm

    def _vm_created(self, record: events.VmCreated, ops: list[Operation]) -> None:
        old = self._vms.pop(record.vm, None)
        if old is not None:  # never destroyed as far as we saw: drop its container
            self._destroy(old.container, record.time, ops)
        self._vm(record.vm, record.pm, record.time, ops)

    def _vm_state_changed(self, record: events.VmStateChanged, ops: list[Operation]) -> None:
        vm = self._vm(record.vm, record.pm, record.time, ops)
        if vm is None:
            return
        vm.state = record.new
        self._show_vm_state(vm, record.time, ops, VM_STACKS.get(record.new, ()))

    def _show_vm_state(self, vm: _Vm, time: float, ops: list[Operation], wanted: Iterable[str]) -> None:
        state_type = self._host_bundle(vm.container).vm_state
        retarget(ops, time, vm.container, state_type, vm.stack, tuple(wanted), self.defs)

    def _vm_moved(self, record: events.VmMoved, ops: list[Operation]) -> None:
        time = record.time
        vm = self._vm(record.vm, record.src, time, ops)
        dst = self._named.get(record.dst)
        if vm is None or dst is None:
            return
        old = vm.container
        bundle = self._host_bundle(dst)
        link_type = self._vm_links[old.type.alias, bundle.vm.alias]
        key = f"M{next(self._migration_keys)}"
        ops.append(StartLink(time, self.root, link_type, MIGRATION_LINK_VALUE, old, key))
        self._destroy(old, time, ops)
        vm.container = self._new_container(vm.name, bundle.vm, dst, time, ops)
        vm.pm = record.dst
        vm.stack = []
        ops.append(EndLink(time, self.root, link_type, MIGRATION_LINK_VALUE, vm.container, key))
        ops.append(SetVariable(time, vm.container, bundle.vm_power_used, vm.power))
        self._policy.vm_moved(old, vm.container, time, ops)
        wanted = [name for name in VM_STACKS.get(vm.state, ()) if name != "migrate"]
        self._show_vm_state(vm, time, ops, wanted)
        for actor in vm.actors.values():
            self._place_actor(actor, vm.container, time, ops)

    def _vm_destroyed(self, record: events.VmDestroyed, ops: list[Operation]) -> None:
        vm = self._vms.pop(record.vm, None)
        if vm is not None:
            self._destroy(vm.container, record.time, ops)
            for actor in vm.actors.values():
                self._actors.pop(actor.name, None)

    # -- migrations ----------------------------------------------------------------------------------------------
    def _migration_stage(self, record: events.MigrationStage, ops: list[Operation]) -> None:
        vm = self._vms.get(record.vm)
        if vm is None:
            return
        bundle = self._host_bundle(vm.container)
        stage = f"stage{record.stage}"
        if stage in MIGRATION_STAGE_VALUES:
            ops.append(NewEvent(record.time, vm.container, bundle.vm_stage, stage))
        if record.stage == 3:
            self._push_stop_and_copy(vm.name, ops)  # a stop-and-copy that took no time is still pending
            if vm.stack and vm.stack[-1].name == "stop-and-copy":
                vm.stack.pop()
                ops.append(PopState(record.time, vm.container, bundle.vm_state))

    def _stop_and_copy_started(self, record: events.StopAndCopyStarted, ops: list[Operation]) -> None:
        self._stop_and_copy[record.vm] = record.time

    def _push_stop_and_copy(self, name: str, ops: list[Operation]) -> None:
        """Draw the pending stop-and-copy of VM ``name`` on top of its ``migrate`` state."""
        began = self._stop_and_copy.pop(name, None)
        vm = self._vms.get(name)
        if began is None or vm is None or not vm.stack or vm.stack[-1].name != "migrate":
            return  # never seen, or the migration ended (aborted) at the very date it began
        state_type = self._host_bundle(vm.container).vm_state
        value = self.value(state_type, "stop-and-copy")
        vm.stack.append(value)
        ops.append(PushState(began, vm.container, state_type, value))

    def _migration_ended(self, record: events.MigrationEnded, ops: list[Operation]) -> None:
        """A migration that did not converge is marked ``forced``: its report, at its end, is the first record
        that says so (the forcing itself, at the start of its stop-and-copy, is only logged)."""
        report = record.report
        self._stop_and_copy.pop(report.vm, None)
        vm = self._vms.get(report.vm)
        if not report.converged and vm is not None:
            stage = self._host_bundle(vm.container).vm_stage
            ops.append(NewEvent(record.time, vm.container, stage, MIGRATION_FORCED_VALUE))

    # -- resources -----------------------------------------------------------------------------------------------
    def _power_changed(self, record: events.PowerChanged, ops: list[Operation]) -> None:
        container = self._named.get(record.name)
        if container is None:
            return
        if record.kind is ResourceKind.HOST and container.type.name == "HOST":
            power = self._host_bundle(container).power
        elif record.kind is ResourceKind.LINK and container.type.name == "LINK":
            power = self._link_power.get(container.type.alias)
        else:
            return
        if power is not None:
            ops.append(SetVariable(record.time, container, power, record.watts))

    def _pstate_changed(self, record: events.PstateChanged, ops: list[Operation]) -> None:
        host = self._named.get(record.host)
        if host is not None and host.type.name == "HOST":
            pstate = self._host_bundle(host).pstate
            if pstate is not None:
                ops.append(SetVariable(record.time, host, pstate, float(record.pstate)))
        self._availability.pstate_changed(record, ops)

    def _resource_used(self, record: events.ResourceUsed, ops: list[Operation]) -> None:
        kind = record.kind
        if kind is ResourceKind.VM:
            vm = self._vms.get(record.name)
            if vm is not None:
                vm.power = record.value
                bundle = self._host_bundle(vm.container)
                ops.append(SetVariable(record.time, vm.container, bundle.vm_power_used, record.value))
        elif kind is ResourceKind.HOST:
            host = self._named.get(record.name)
            if host is not None and host.type.name == "HOST":
                bundle = self._host_bundle(host)
                ops.append(SetVariable(record.time, host, bundle.power_used, record.value))
        elif kind is ResourceKind.LINK:
            link = self._named.get(record.name)
            if link is not None and link.type.name == "LINK":
                used = self._link_types[link.type.parent.alias][1]  # type: ignore[union-attr]
                ops.append(SetVariable(record.time, link, used, record.value))
        elif kind is ResourceKind.DISK:
            host = self._named.get(record.name)
            if host is not None and host.type.name == "HOST":
                disk_used = self._host_bundle(host).disk_used
                if disk_used is not None:
                    ops.append(SetVariable(record.time, host, disk_used, record.value))

    # -- actors --------------------------------------------------------------------------------------------------
    def _actor_parent(self, host: str) -> Container | None:
        vm = self._vms.get(host)
        if vm is not None:
            return vm.container
        container = self._named.get(host)
        return container if container is not None and container.type.name == "HOST" else None

    def _actor_type(self, parent: Container) -> PajeType | None:
        bundle = self._host_bundle(parent)
        return bundle.vm_actor if parent.type is bundle.vm else bundle.actor

    def _actor_started(self, record: events.ActorStarted, ops: list[Operation]) -> None:
        parent = self._actor_parent(record.host)
        if parent is None:
            return
        old = self._actors.pop(record.actor, None)
        if old is not None:
            self._destroy(old.container, record.time, ops)
        actor_type = self._actor_type(parent)
        assert actor_type is not None
        container = self._new_container(record.actor, actor_type, parent, record.time, ops)
        actor = self._actors[record.actor] = _Actor(record.actor, record.host, container)
        vm = self._vms.get(record.host)
        if vm is not None:
            vm.actors[actor.name] = actor

    def _actor_ended(self, record: events.ActorEnded, ops: list[Operation]) -> None:
        actor = self._actors.pop(record.actor, None)
        if actor is None:
            return
        for signature, queue in list(self._comms.items()):  # a killed actor's transfers end with it
            for comm in list(queue):
                if actor.name not in (comm.sender, comm.receiver):
                    continue
                queue.remove(comm)
                ops.append(EndLink(record.time, self.root, comm.type, COMM_LINK_VALUE, comm.end, comm.key))
                if actor.name == comm.receiver:
                    self._actor_stops(comm.sender, "send", record.time, ops)
                else:
                    self._actor_stops(comm.receiver, "receive", record.time, ops)
            if not queue:
                del self._comms[signature]
        if record.killed or record.status != "done":  # how it ended, before its container goes
            end_type = self.defs.late("event", ACTOR_END, actor.container.type, record.time, ops)
            status = record.status if record.status != "done" else "killed"
            label = f"{status}: {record.cause}" if record.cause else status
            ops.append(NewEvent(record.time, actor.container, end_type, clean(label)))
        self._destroy(actor.container, record.time, ops)
        vm = self._vms.get(actor.host)
        if vm is not None:
            vm.actors.pop(actor.name, None)

    def _place_actor(self, actor: _Actor, parent: Container, time: float, ops: list[Operation]) -> None:
        """Create ``actor``'s container again in ``parent`` (its VM moved) and show what it is doing."""
        actor_type = self._actor_type(parent)
        assert actor_type is not None
        actor.container = self._new_container(actor.name, actor_type, parent, time, ops)
        actor.stack = []
        self._show_actor(actor, time, ops)

    def _show_actor(self, actor: _Actor, time: float, ops: list[Operation]) -> None:
        state_type = self._actor_states[actor.container.type.alias]
        retarget(ops, time, actor.container, state_type, actor.stack, tuple(actor.doing), self.defs)

    def _actor_does(self, name: str, what: str, time: float, ops: list[Operation]) -> None:
        actor = self._actors.get(name)
        if actor is not None:
            actor.doing.append(what)
            self._show_actor(actor, time, ops)

    def _actor_stops(self, name: str, what: str, time: float, ops: list[Operation]) -> None:
        actor = self._actors.get(name)
        if actor is not None and what in actor.doing:
            actor.doing.remove(what)
            self._show_actor(actor, time, ops)

    def _exec_started(self, record: events.ExecStarted, ops: list[Operation]) -> None:
        self._actor_does(record.actor, "task_execute", record.time, ops)

    def _exec_ended(self, record: events.ExecEnded, ops: list[Operation]) -> None:
        self._actor_stops(record.actor, "task_execute", record.time, ops)

    def _comm_started(self, record: events.CommStarted, ops: list[Operation]) -> None:
        sender, receiver = self._actors.get(record.sender), self._actors.get(record.receiver)
        if sender is None or receiver is None:
            return
        link_type = self._actor_links[sender.container.type.alias, receiver.container.type.alias]
        key = f"C{next(self._comm_keys)}"
        ops.append(StartLink(record.time, self.root, link_type, COMM_LINK_VALUE, sender.container, key))
        comm = _Comm(key, link_type, sender.name, receiver.name, receiver.container)
        self._comms.setdefault(_signature(record), deque()).append(comm)
        self._actor_does(sender.name, "send", record.time, ops)
        self._actor_does(receiver.name, "receive", record.time, ops)

    def _comm_ended(self, record: events.CommEnded, ops: list[Operation]) -> None:
        signature = _signature(record)
        queue = self._comms.get(signature)
        if not queue:
            return
        comm = queue.popleft()
        if not queue:
            del self._comms[signature]
        receiver = self._actors.get(comm.receiver)
        end = comm.end
        if receiver is not None and receiver.container.type is comm.type.end:
            end = receiver.container  # where the receiver is now (it may have moved with its VM)
        ops.append(EndLink(record.time, self.root, comm.type, COMM_LINK_VALUE, end, comm.key))
        self._actor_stops(comm.sender, "send", record.time, ops)
        self._actor_stops(comm.receiver, "receive", record.time, ops)


def _signature(record: events.CommStarted | events.CommEnded) -> tuple[Any, ...]:
    return (record.mailbox, record.src, record.dst, record.size, record.sender, record.receiver)
