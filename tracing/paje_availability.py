"""Availability in the Paje trace: hosts and links going off and on, and their capacity changing; a part of
:class:`tracing.paje_model.PajeModel`, which hands it the records below.

=========================== ===================================================================================
record                      operations
=========================== ===================================================================================
``HostStateChanged`` off    ``PushState`` ``HOST_STATE`` ``off`` on the host's ``HOST``, and a ``HOST_OFF`` point
                            event whose value is the cause; on: ``PopState`` (of ``booting`` too, if it booted)
``HostBooting``             ``PushState`` ``HOST_STATE`` ``booting`` on top of its ``off``: a policy switched it
                            on, and it is still off until it has booted (a ``HostStateChanged`` on)
``LinkStateChanged``        the same with ``LINK_STATE`` and ``LINK_OFF`` on the link's ``LINK`` (each half of a
                            SPLITDUPLEX link, ``<id>_UP`` and ``<id>_DOWN``, is a ``LINK`` of its own)
``HostSpeedChanged``        ``SetVariable speed``: the host's capacity, cores x the speed of one core now (its
                            power state's speed x the availability ratio), in flop/s like its ``power_used``, so
                            that ``power_used / speed`` is its load
``PstateChanged``           ``SetVariable speed`` again, for a host that has one (the ``pstate`` variable itself
                            is the model's)
``LinkChanged``             ``SetVariable bandwidth`` (byte/s, as the platform and profiles give it: LV08 carries
                            0.97 of it) and ``latency`` (s), each when it changed or already has a variable
=========================== ===================================================================================

Nothing is drawn while a resource is on: a run that never turns anything off gives the trace it gave before
failures existed, byte for byte. The types are therefore defined at their first use
(:meth:`tracing.paje_types.Definitions.late`; PajeNG and ViTE take definitions anywhere before their use, as
SimGrid itself writes them), and a variable starts at the first change, but for the hosts and links whose
profiles the platform declares: those have ``speed``, ``bandwidth`` or ``latency`` from date 0, with the
profile's value at date 0.

Values at date 0 are in force before the run starts (``replay.availability``), before any tracer can listen:
they come with no record, so :meth:`Availability.start` reads them from the platform's profiles, as the model
applies them (the last value at date 0 wins; a host or link off from the start gets the cause the model gives
a state profile).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from replay import events
from replay.platform import Host, Platform
from replay.platform.profiles import Profile
from tracing.paje_types import (
    BOOTING_VALUES,
    CAPACITY_COLOR,
    HOST_OFF,
    HOST_STATE,
    LATENCY_COLOR,
    LINK_OFF,
    LINK_STATE,
    OFF_VALUES,
    Container,
    Definitions,
    NewEvent,
    Operation,
    PopState,
    PushState,
    SetVariable,
    clean,
)

__all__ = ["Availability"]

Handler = Callable[[Any, list[Operation]], None]


class Availability:
    """The availability part of a trace of ``platform``, with the model's ``definitions`` and its platform
    containers by name (``named``, filled when the model creates them)."""

    def __init__(self, platform: Platform, definitions: Definitions, named: dict[str, Container]) -> None:
        self.platform = platform
        self.defs = definitions
        self.named = named
        #: resources off now, by container alias
        self._off: set[int] = set()
        #: hosts booting now (``booting`` pushed on top of their ``off``), by container alias
        self._booting: set[int] = set()
        #: each host's availability ratio (1 until a speed change says otherwise)
        self._ratio: dict[str, float] = {}
        #: (container alias, variable) -> the last value set
        self._shown: dict[tuple[int, str], float] = {}
        #: each link's bandwidth and latency now
        self._link_values: dict[str, dict[str, float]] = {}

    def handlers(self) -> dict[type, Handler]:
        return {
            events.HostStateChanged: self._host_state_changed,
            events.HostBooting: self._host_booting,
            events.LinkStateChanged: self._link_state_changed,
            events.HostSpeedChanged: self._host_speed_changed,
            events.LinkChanged: self._link_changed,
        }

    # -- date 0 ------------------------------------------------------------------------------------------------
    def start(self, ops: list[Operation]) -> None:
        """The profiles' values at date 0, once the platform's containers exist."""
        for name, host in self.platform.hosts.items():
            if host.speed_profile is not None:
                ratio = self._ratio[name] = _at_zero(host.speed_profile, 1.0)
                self._set(self.named.get(name), "speed", 0.0, _peak(host) * ratio * host.cores, ops)
            if host.state_profile is not None and not _at_zero(host.state_profile, 1.0):
                self._go_off(name, HOST_STATE, HOST_OFF, 0.0, f"host {name!r} went off at t=0 s (its state profile)",
                             ops)
        for name, link in self.platform.links.items():
            container = self.named.get(name)
            if container is None or container.type.name != "LINK":
                continue
            values = self._link_values[name] = {"bandwidth": link.bandwidth, "latency": link.latency}
            for variable, profile in (("bandwidth", link.bandwidth_profile), ("latency", link.latency_profile)):
                if profile is not None:
                    values[variable] = _at_zero(profile, values[variable])
                    self._set(container, variable, 0.0, values[variable], ops)
            if link.state_profile is not None and not _at_zero(link.state_profile, 1.0):
                self._go_off(name, LINK_STATE, LINK_OFF, 0.0, f"link {name!r} went off at t=0 s (its state profile)",
                             ops)

    # -- on and off --------------------------------------------------------------------------------------------
    def _host_state_changed(self, record: events.HostStateChanged, ops: list[Operation]) -> None:
        if record.on:
            self._come_on(record.host, "HOST", HOST_STATE, record.time, ops)
        else:
            self._go_off(record.host, HOST_STATE, HOST_OFF, record.time, record.cause, ops)

    def _link_state_changed(self, record: events.LinkStateChanged, ops: list[Operation]) -> None:
        if record.on:
            self._come_on(record.link, "LINK", LINK_STATE, record.time, ops)
        else:
            self._go_off(record.link, LINK_STATE, LINK_OFF, record.time, record.cause, ops)

    def _go_off(self, name: str, state: str, event: str, time: float, cause: str, ops: list[Operation]) -> None:
        container = self.named.get(name)
        if container is None or container.type.name != state.removesuffix("_STATE") or container.alias in self._off:
            return
        self._off.add(container.alias)
        state_type = self.defs.late("state", state, container.type, time, ops, values=OFF_VALUES)
        event_type = self.defs.late("event", event, container.type, time, ops)
        ops.append(PushState(time, container, state_type, self.defs.value(state_type, "off")))
        ops.append(NewEvent(time, container, event_type, clean(cause) or "off"))

    def _come_on(self, name: str, kind: str, state: str, time: float, ops: list[Operation]) -> None:
        container = self.named.get(name)
        if container is None or container.type.name != kind:
            return
        shown = [held for held in (self._booting, self._off) if container.alias in held]  # booting is on top
        if not shown:
            return
        state_type = self.defs.late("state", state, container.type, time, ops)
        for held in shown:
            held.discard(container.alias)
            ops.append(PopState(time, container, state_type))

    def _host_booting(self, record: events.HostBooting, ops: list[Operation]) -> None:
        """A host a policy switched on boots until ``record.until``, still off: ``booting`` over its ``off``."""
        container = self.named.get(record.host)
        if container is None or container.type.name != "HOST" or container.alias in self._booting:
            return
        self._booting.add(container.alias)
        state_type = self.defs.late("state", HOST_STATE, container.type, record.time, ops, values=OFF_VALUES)
        [(name, color)] = BOOTING_VALUES.items()
        value = self.defs.late_value(state_type, name, color, record.time, ops)
        ops.append(PushState(record.time, container, state_type, value))

    # -- capacities --------------------------------------------------------------------------------------------
    def _host_speed_changed(self, record: events.HostSpeedChanged, ops: list[Operation]) -> None:
        host = self.platform.hosts.get(record.host)
        if host is not None:
            self._ratio[record.host] = record.ratio
            self._set(self.named.get(record.host), "speed", record.time, record.speed * host.cores, ops)

    def pstate_changed(self, record: events.PstateChanged, ops: list[Operation]) -> None:
        """A new power state changes the ``speed`` of a host that has one (the model draws ``pstate``)."""
        container, host = self.named.get(record.host), self.platform.hosts.get(record.host)
        if container is not None and host is not None and (container.alias, "speed") in self._shown:
            speed = record.speed * self._ratio.get(record.host, 1.0) * host.cores
            self._set(container, "speed", record.time, speed, ops)

    def _link_changed(self, record: events.LinkChanged, ops: list[Operation]) -> None:
        container, link = self.named.get(record.link), self.platform.links.get(record.link)
        if container is None or link is None:
            return
        values = self._link_values.setdefault(record.link, {"bandwidth": link.bandwidth, "latency": link.latency})
        for variable, value in (("bandwidth", record.bandwidth), ("latency", record.latency)):
            if value != values[variable] or (container.alias, variable) in self._shown:
                values[variable] = value
                self._set(container, variable, record.time, value, ops)

    def _set(self, container: Container | None, variable: str, time: float, value: float,
             ops: list[Operation]) -> None:
        if container is None or container.type.name != ("HOST" if variable == "speed" else "LINK"):
            return
        color = LATENCY_COLOR if variable == "latency" else CAPACITY_COLOR
        variable_type = self.defs.late("variable", variable, container.type, time, ops, color=color)
        self._shown[container.alias, variable] = value
        ops.append(SetVariable(time, container, variable_type, value))


def _at_zero(profile: Profile, before: float) -> float:
    """The value ``profile`` gives at date 0 (the last of its date-0 values), else ``before``."""
    at_zero = [value for _, value in itertools.takewhile(lambda step: step[0] <= 0, profile.timeline())]
    return at_zero[-1] if at_zero else before


def _peak(host: Host) -> float:
    """The speed of one core in the host's initial power state, as the model computes it."""
    return host.pstate_speeds[host.pstate] if host.pstate_speeds else host.speed
