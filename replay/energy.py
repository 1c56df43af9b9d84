"""Energy: SimGrid 3.32's host and link energy models, integrated exactly over the piecewise-constant power.

A host with wattages (``wattage_per_state``: one ``Idle:Epsilon:AllCores`` range per power state) draws, in its
current power state, ``Idle`` when its load is 0 and ``Epsilon + load x (AllCores - Epsilon)`` otherwise, where
the load is the rate used on its CPU over the capacity of that state (cores x the state's speed, whatever its
availability profile says), clamped to 1, as SimGrid's host energy plugin computes it; ``wattage_off`` while
off, and ``wattage_boot`` (default: ``Idle``) while it boots after a policy switched it on. A VM has no energy
of its own: its share of its PM is one of the rates on the PM's CPU, so its load counts
there, and goes with it when it migrates. A link with a ``wattage_range``
(``Idle:Busy``) draws ``Idle + (Busy - Idle) x usage / bandwidth``, the usage being SimGrid's (the sum of weight x
rate over its flows, or the largest on a FATPIPE link), as the link energy plugin computes it; ``wattage_off``
while off (SimGrid's plugin has no off state for links: an off link draws Idle there).

The power only changes when the sharing problem is re-solved, so it is constant in between: the meter is told of
every re-solve of the resources it watches (:meth:`replay.engine.Engine.meter`; a power-state change re-solves its
host), and adds ``power x duration`` each time the power changes. The energy is that integral, exact, never a
sample.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from replay import events
from replay.engine import Engine, Resource
from replay.events import ResourceKind
from replay.hosts import PhysicalHost
from replay.platform import Link, Platform
from replay.units import Joules, Seconds, Watts


@dataclass(slots=True)
class Account:
    """The energy of one host or link: what it has drawn until ``since``, and its power since then."""

    name: str
    kind: ResourceKind
    power: Watts
    since: Seconds
    energy: Joules = 0.0
    #: energy drawn while idle (load 0), to split idle and busy consumption
    idle_energy: Joules = 0.0
    idle: bool = field(default=True)

    def consumed(self, now: Seconds) -> Joules:
        """The energy drawn until ``now``."""
        return self.energy + self.power * (now - self.since)


class EnergyMeter:
    """Keeps the energy account of every host and link it watches (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.hosts: dict[str, Account] = {}
        self.links: dict[str, Account] = {}

    def watch_host(self, host: PhysicalHost) -> None:
        """Account for ``host``, which has wattages, from now on."""
        account = Account(host.name, ResourceKind.HOST, self._host_power(host), self.engine.now)
        self.hosts[host.name] = account

        def changed(_: object) -> None:
            self._update(account, self._host_power(host), host.cpu.usage() <= 0.0)

        self.engine.meter(host.cpu, changed)
        self._announce(account)

    def watch_link(self, link: Link, resource: Resource, is_on: Callable[[], bool] = lambda: True) -> None:
        """Account for ``link`` (its resource in the network model), which has a wattage range, from now on;
        ``is_on()`` says whether it is on (off, it draws its ``wattage_off``)."""
        assert link.wattage_range is not None
        idle, busy = link.wattage_range

        def power() -> Watts:
            if not is_on():
                return link.wattage_off
            return idle + (busy - idle) * (resource.usage() / resource.capacity)

        account = Account(link.name, ResourceKind.LINK, power(), self.engine.now)
        self.links[link.name] = account
        self.engine.meter(resource, lambda _: self._update(account, power(), resource.usage() <= 0.0))
        self._announce(account)

    def report(self, now: Seconds) -> dict[str, Any]:
        """The summary's ``energy``: joules in all, per host and, when a link has wattages, per link."""
        hosts = {name: account.consumed(now) for name, account in self.hosts.items()}
        links = {name: account.consumed(now) for name, account in self.links.items()}
        report: dict[str, Any] = {"total": sum(hosts.values()) + sum(links.values()), "hosts": hosts}
        if links:
            report["links"] = links
        return report

    # -- the integral ------------------------------------------------------------------------------------------
    @staticmethod
    def _host_power(host: PhysicalHost) -> Watts:
        ranges = host.spec.wattages
        if not ranges:
            return 0.0
        if not host.on:
            if host.booting:
                boot = host.spec.wattage_boot
                return boot if boot is not None else ranges[host.pstate].idle
            return host.spec.wattage_off
        # the load is over the power state's full speed, availability (speed profile) aside, as SimGrid's
        # plugin divides by Host::get_speed(); a state of speed 0 counts as fully loaded, as there
        capacity = host.cores * host.peak_speed
        load = min(host.cpu.usage() / capacity, 1.0) if capacity > 0 else 1.0
        return ranges[host.pstate].at(load)

    def _update(self, account: Account, power: Watts, idle: bool) -> None:
        now = self.engine.now
        if power == account.power and idle == account.idle:
            return
        spent = account.power * (now - account.since)
        account.energy += spent
        if account.idle:
            account.idle_energy += spent
        account.since = now
        account.power = power
        account.idle = idle
        self._announce(account)

    def _announce(self, account: Account) -> None:
        engine = self.engine
        if engine.traced:
            engine.emit(events.PowerChanged(engine.now, account.kind, account.name, account.power))


def metered(platform: Platform) -> bool:
    """Whether a run on ``platform`` accounts energy: some host or link has wattages (a sweep knows from this,
    before running, whether its table has an energy column)."""
    return any(h.wattages for h in platform.hosts.values()) or any(
        link.wattage_range is not None for link in platform.links.values()
    )
