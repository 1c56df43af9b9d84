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
``overcommit=R`` (vCPUs a host may hold per core, default 1: no overcommitment), ``switch_off=yes|no``
(default ``no``: switch off the hosts left empty, and on those needed).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from replay.policies.api import HostTable, Policy, View, VmRequest
from replay.policies.options import Option, at_least_one, flag, text

#: the options every built-in policy takes
COMMON_OPTIONS: dict[str, Option] = {
    "overcommit": Option(at_least_one, 1.0, "vCPUs a host may hold per core (1: none; 4: four vCPUs a core)"),
    "hosts": Option(text, None, "the hosts the policy manages, a glob of their names (default: every host; pm-* "
                                "on the embedded platform)"),
}


def free_cores(hosts: HostTable, overcommit: float) -> np.ndarray:
    """The vCPUs each host may still take: ``overcommit`` per core, less those of the VMs it holds."""
    return hosts.cores * overcommit - hosts.used_cores


def candidates(hosts: HostTable, cores: int, ram: float, overcommit: float = 1.0) -> np.ndarray:
    """The rows of the hosts where ``cores`` and ``ram`` fit: those on or booting if any, else the off ones."""
    fits = (free_cores(hosts, overcommit) >= cores) & (hosts.ram - hosts.used_ram >= ram)
    awake = fits & (hosts.on | hosts.booting)
    return np.flatnonzero(awake if awake.any() else fits)


class _Placement(Policy):
    OPTIONS: ClassVar[dict[str, Option]] = {
        **COMMON_OPTIONS,
        "switch_off": Option(flag, False, "switch off the hosts left empty, on those needed"),
    }
    interval = 0.0

    def __init__(self, *, switch_off: bool = False, overcommit: float = 1.0) -> None:
        self.switch_off = switch_off
        self.overcommit = overcommit

    def place(self, view: View, vm: VmRequest) -> str | None:
        hosts = view.host_table
        rows = candidates(hosts, vm.cores, vm.ram, self.overcommit)
        if not len(rows):
            return None
        cores_left = free_cores(hosts, self.overcommit)[rows] - vm.cores
        free_ram = (hosts.ram - hosts.used_ram)[rows] - vm.ram
        best = np.lexsort((rows, *self.keys(cores_left, free_ram)))[0]  # the last key sorts first
        return hosts.names[rows[best]]

    def keys(self, free_cores: np.ndarray, free_ram: np.ndarray) -> tuple[np.ndarray, ...]:
        """The sort keys after platform order, least significant first."""
        return ()


class FirstFit(_Placement):
    """The first host with room, in platform order."""

    name = "first-fit"


class BestFit(_Placement):
    """The host with room left with the fewest free cores, then the least free RAM."""

    name = "best-fit"

    def keys(self, free_cores: np.ndarray, free_ram: np.ndarray) -> tuple[np.ndarray, ...]:
        return (free_ram, free_cores)


class WorstFit(_Placement):
    """The host with room left with the most free cores, then the most free RAM."""

    name = "worst-fit"

    def keys(self, free_cores: np.ndarray, free_ram: np.ndarray) -> tuple[np.ndarray, ...]:
        return (-free_ram, -free_cores)
