"""Availability: the platform's profiles played during a run, and random host failures for fault-injection studies.

A profile (:mod:`replay.platform.profiles`) is a timeline of dated values; each value is applied at its date, as
SimGrid 3.32 applies profile events: a host's ``speed_file`` sets its availability ratio, its ``state_file``
turns it off (0) or on (anything else); a link's ``bandwidth_file`` and ``latency_file`` set its bandwidth and
latency, its ``state_file`` turns it off or on. Values at date 0 are in force before anything runs (an actor
placed on a host that is off at 0 does not start). Later values are *background* timers of the engine: they do
not keep a run going by themselves, so a repeating profile ends with the rest of the run.

Random failures (``replay run --fail-hosts MTBF,MTTR --seed N``): every physical host alternates up and down
periods drawn from exponential distributions of means ``mtbf`` and ``mttr`` seconds, up first, from date 0.
Each host draws from its own generator, seeded by the seed and the host's name, so that a host's failures do
not depend on the other hosts of the platform nor on what the run does, and the same seed gives the same
failures.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from replay.engine import Engine
from replay.errors import ReplayError
from replay.hosts import PhysicalHost
from replay.network import Network
from replay.platform import Platform
from replay.platform.profiles import Profile
from replay.units import Seconds, parse_quantity


class Switchboard(Protocol):
    """What availability changes act on (the simulation facade)."""

    engine: Engine
    network: Network
    platform: Platform

    def pm(self, name: str) -> PhysicalHost: ...

    def host_off(self, name: str, cause: str = "") -> None: ...

    def host_on(self, name: str) -> None: ...

    def link_off(self, name: str, cause: str = "") -> None: ...

    def link_on(self, name: str) -> None: ...


def follow_profiles(sim: Switchboard) -> None:
    """Apply every profile of the platform: the values at date 0 now, the others at their dates."""
    for name, host in sim.platform.hosts.items():
        if host.speed_profile is not None:
            play(sim.engine, host.speed_profile, lambda v, n=name: sim.pm(n).set_ratio(v))
        if host.state_profile is not None:
            play(sim.engine, host.state_profile, lambda v, n=name: _switch_host(sim, n, v, "its state profile"))
    for name, link in sim.platform.links.items():
        if link.bandwidth_profile is not None:
            play(sim.engine, link.bandwidth_profile, lambda v, k=link: sim.network.set_bandwidth(k, v))
        if link.latency_profile is not None:
            play(sim.engine, link.latency_profile, lambda v, k=link: sim.network.set_latency(k, v))
        if link.state_profile is not None:
            play(sim.engine, link.state_profile, lambda v, n=name: _switch_link(sim, n, v))


def play(engine: Engine, profile: Profile, apply: Callable[[float], None]) -> None:
    """Call ``apply(value)`` at each date of ``profile``'s timeline (at once for date 0), one timer at a time."""
    timeline = profile.timeline()
    _advance(engine, timeline, apply)


def _advance(engine: Engine, timeline: Iterator[tuple[Seconds, float]], apply: Callable[[float], None]) -> None:
    for date, value in timeline:
        if date > engine.now:

            def fire(value: float = value) -> None:
                apply(value)
                _advance(engine, timeline, apply)

            engine.at(date, fire, background=True)
            return
        apply(value)


def _switch_host(sim: Switchboard, name: str, value: float, why: str) -> None:
    if value:
        sim.host_on(name)
    else:
        sim.host_off(name, why)


def _switch_link(sim: Switchboard, name: str, value: float) -> None:
    if value:
        sim.link_on(name)
    else:
        sim.link_off(name, "its state profile")


@dataclass(frozen=True, slots=True)
class RandomFailures:
    """Hosts that fail at random: mean up time ``mtbf`` and mean down time ``mttr`` (seconds), drawn with
    ``seed`` (see the module docstring)."""

    mtbf: Seconds
    mttr: Seconds
    seed: int = 0

    def __post_init__(self) -> None:
        for what, value in (("MTBF", self.mtbf), ("MTTR", self.mttr)):
            if not 0 < value < float("inf"):
                raise ValueError(f"{what} must be a positive number of seconds, got {value!r}")

    @classmethod
    def parse(cls, option: str, seed: int = 0, what: str = "--fail-hosts") -> RandomFailures:
        """``MTBF,MTTR``: two durations (SimGrid's time units; plain numbers are seconds), as ``--fail-hosts``
        and a sweep's ``fail_hosts`` write them; a bad one is a :class:`ReplayError` naming ``what``."""
        parts = option.split(",")
        if len(parts) != 2:
            raise ReplayError(f"{what}: expected MTBF,MTTR (two durations, e.g. 1h,10m), found {option!r}")
        try:
            mtbf, mttr = (parse_quantity(part.strip(), "time", context=f"{name}: ") for part, name in
                          zip(parts, ("MTBF", "MTTR"), strict=True))
            return cls(mtbf, mttr, seed)
        except ValueError as error:
            raise ReplayError(f"{what}: {error}") from None

    def periods(self, host: str) -> Iterator[tuple[Seconds, Seconds]]:
        """The (down, up) dates of ``host``'s failures, forever."""
        rng = random.Random(f"{self.seed}:{host}")
        date = 0.0
        while True:
            down = date + rng.expovariate(1.0 / self.mtbf)
            date = down + rng.expovariate(1.0 / self.mttr)
            yield down, date

    def inject(self, sim: Switchboard) -> None:
        """Schedule the failures of every physical host of ``sim``'s platform."""
        for name in sim.platform.hosts:
            self._next(sim, name, self.periods(name))

    def _next(self, sim: Switchboard, name: str, periods: Iterator[tuple[Seconds, Seconds]]) -> None:
        down, up = next(periods)

        def fail() -> None:
            sim.host_off(name, f"random failure, back at t={up:g} s")
            sim.engine.at(up, repair, background=True)

        def repair() -> None:
            sim.host_on(name)
            self._next(sim, name, periods)

        sim.engine.at(down, fail, background=True)
