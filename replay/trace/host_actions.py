"""The actions on the platform's hosts and links: power states, and turning them off and on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Self

from replay.trace.checks import TraceCheck
from replay.trace.grammar import Place
from replay.trace.records import Action, Registry, ReplayContext

#: The actions of this module.
ACTIONS = Registry()


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class SetPstate(Action):
    """Switch host ``host`` to its power state ``pstate`` (SimGrid's ``Host::set_pstate``): the speed of its cores,
    for everything running on it and in its VMs, and the watts it draws."""

    keyword: ClassVar[str] = "set_pstate"
    usage: ClassVar[str] = "<host> <pstate>"
    host: str
    pstate: int

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], p.index(args[1], "pstate"), **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.pm(self.host).set_pstate(self.pstate)

    def check(self, walk: TraceCheck) -> None:
        walk.power_state(self, self.host, self.pstate)

    def _args(self) -> tuple[str, ...]:
        return (self.host, str(self.pstate))


@dataclass(frozen=True, slots=True)
class _Switch(Action):
    """Turn a host or a link off or on; takes no simulated time."""

    usage: ClassVar[str] = "<name>"
    name: str

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], **p.origin)  # type: ignore[arg-type]

    def _args(self) -> tuple[str, ...]:
        return (self.name,)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class HostOff(_Switch):
    """Turn the physical host ``name`` off (SimGrid's ``Host::turn_off``): the actors on it and in its VMs are
    killed, its VMs lost, the transfers from or to it fail, a migration to it aborts (its VM stays on the
    source). The actor issuing it may be one of those killed."""

    keyword: ClassVar[str] = "host_off"
    usage: ClassVar[str] = "<host>"

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.host_off(self.name, f"{self.keyword} by {ctx.actor.name}")

    def check(self, walk: TraceCheck) -> None:
        walk.platform_host(self, self.name, "host")


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class HostOn(_Switch):
    """Turn the physical host ``name`` back on (SimGrid's ``Host::turn_on``): empty, but for the actors of the
    deployment marked ``on_failure="RESTART"``, which start again."""

    keyword: ClassVar[str] = "host_on"
    usage: ClassVar[str] = "<host>"

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.host_on(self.name)

    def check(self, walk: TraceCheck) -> None:
        walk.platform_host(self, self.name, "host")


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class LinkOff(_Switch):
    """Turn the link ``name`` off (both halves of a SPLITDUPLEX link): the transfers using it fail."""

    keyword: ClassVar[str] = "link_off"
    usage: ClassVar[str] = "<link>"

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.link_off(self.name, f"{self.keyword} by {ctx.actor.name}")

    def check(self, walk: TraceCheck) -> None:
        walk.platform_link(self, self.name)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class LinkOn(_Switch):
    """Turn the link ``name`` back on."""

    keyword: ClassVar[str] = "link_on"
    usage: ClassVar[str] = "<link>"

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.link_on(self.name)

    def check(self, walk: TraceCheck) -> None:
        walk.platform_link(self, self.name)
