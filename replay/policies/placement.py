"""The placement policies: where a ``vm_create <vm> auto`` goes, by free cores, then free RAM.

The candidates are the managed hosts where the VM fits (as many free cores as it has vCPUs, as much free RAM as
its memory, a host without ``ramsize`` having RAM without limit), those on (or booting) first: an off host is
only chosen, and switched on, when no host on has room.

* ``first-fit``: the first candidate in platform order;
* ``best-fit``: the one left with the fewest free cores, then the least free RAM, then the first in platform
  order (it packs);
* ``worst-fit``: the one left with the most free cores, then the most free RAM, then the first in platform order
  (it spreads).

Options: ``hosts=GLOB`` (the managed hosts, default every host; ``pm-*`` on the embedded platform),
``switch_off=yes|no`` (default ``no``: switch
off the hosts left empty, and on those needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from replay.policies.api import HostView, Policy, View, VmRequest
from replay.policies.options import Option, flag, text

#: the options every built-in policy takes
COMMON_OPTIONS: dict[str, Option] = {
    "hosts": Option(text, None, "the hosts the policy manages, a glob of their names (default: every host; pm-* "
                                "on the embedded platform)"),
}


def candidates(view: View, cores: int, ram: float, exclude: Sequence[str] = ()) -> list[HostView]:
    """The hosts where ``cores`` and ``ram`` fit: those on or booting if any, else the off ones."""
    fitting = [host for host in view.hosts.values() if host.name not in exclude and host.fits(cores, ram)]
    awake = [host for host in fitting if host.on or host.booting]
    return awake or fitting


class _Placement(Policy):
    OPTIONS: ClassVar[dict[str, Option]] = {
        **COMMON_OPTIONS,
        "switch_off": Option(flag, False, "switch off the hosts left empty, on those needed"),
    }
    interval = 0.0

    def __init__(self, *, switch_off: bool = False) -> None:
        self.switch_off = switch_off

    def place(self, view: View, vm: VmRequest) -> str | None:
        hosts = candidates(view, vm.cores, vm.ram)
        if not hosts:
            return None
        return min(enumerate(hosts), key=lambda pair: (*self.rank(pair[1], vm), pair[0]))[1].name

    def rank(self, host: HostView, vm: VmRequest) -> tuple[float, float]:
        return (0.0, 0.0)


class FirstFit(_Placement):
    """The first host with room, in platform order."""

    name = "first-fit"


class BestFit(_Placement):
    """The host with room left with the fewest free cores, then the least free RAM."""

    name = "best-fit"

    def rank(self, host: HostView, vm: VmRequest) -> tuple[float, float]:
        return (host.free_cores - vm.cores, host.free_ram - vm.ram)


class WorstFit(_Placement):
    """The host with room left with the most free cores, then the most free RAM."""

    name = "worst-fit"

    def rank(self, host: HostView, vm: VmRequest) -> tuple[float, float]:
        return (-(host.free_cores - vm.cores), -(host.free_ram - vm.ram))
