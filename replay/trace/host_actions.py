"""The actions on the platform's hosts: power states."""

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
