"""Which PM each imported VM is created on: round-robin, first-fit, or ``auto`` (left to the run).

* ``round-robin``: the VMs, in dataset order, go to the PMs in platform order, one each, again and again; room is
  not checked (the simulator refuses to start a VM that does not fit a PM's ``ramsize``).
* ``first-fit``: the VMs, by start date (dataset order among equal dates), each go to the first PM, in platform
  order, that has as many free cores as the VM has vCPUs and as much free RAM as its memory, given the VMs
  placed before it that are still alive at its start. A PM without a ``ramsize`` property has RAM without limit.
  A VM holds its room up to and including its end date: a VM starting at the very date another ends does not get
  its room (the run could start it before the other shuts down). When no PM fits, the import stops with an error
  naming the VM and its date: a placement that the run would refuse, or that overcommits CPUs, is not what
  first-fit promises.
* ``auto``: ``vm_create <vm> auto``, for the placement policies of the simulator; the actors live on the first PM.

The PMs are the hosts of the platform whose name matches ``--pms`` (a glob), in platform order.
"""

from __future__ import annotations

import fnmatch
import heapq
from collections.abc import Sequence

import numpy as np

from replay.errors import WorkloadError
from replay.platform import Host, Platform
from replay.trace.vm_actions import AUTO
from replay.workloads.model import Placement, VmInfo
from replay.workloads.writer import number, size


def platform_pms(platform: Platform, pattern: str) -> list[Host]:
    """The hosts of ``platform`` whose name matches the glob ``pattern``, in platform order."""
    pms = [host for name, host in platform.hosts.items() if fnmatch.fnmatchcase(name, pattern)]
    if not pms:
        names = list(platform.hosts)
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
        raise WorkloadError(f"--pms: expected hosts of platform {platform.source} matching {pattern!r}, found none "
                            f"(its hosts: {shown})")
    for host in pms:
        if any(char.isspace() for char in host.name):
            raise WorkloadError(f"{platform.source}: expected PM names that a trace can hold, found "
                                f"{host.name!r} (a blank in it)")
    return pms


def place(vms: Sequence[VmInfo], pms: Sequence[Host], how: Placement, origin: float) -> int:
    """Set every VM's ``pm``, ``host`` and ``pm_speed``; return how many PMs got VMs. ``origin`` is the date 0 of
    the trace, for messages."""
    if how == "auto":
        for vm in vms:
            vm.pm, vm.host, vm.pm_speed = AUTO, pms[0].name, None
        return 0
    chosen = _round_robin(len(vms), len(pms)) if how == "round-robin" else _first_fit(vms, pms, origin)
    for vm, rank in zip(vms, chosen, strict=True):
        host = pms[rank]
        vm.pm = vm.host = host.name
        vm.pm_speed = host.speed
    return len(set(chosen))


def _round_robin(count: int, pms: int) -> list[int]:
    return [rank % pms for rank in range(count)]


def _first_fit(vms: Sequence[VmInfo], pms: Sequence[Host], origin: float) -> list[int]:
    free_cores = np.array([host.cores for host in pms], dtype=np.int64)
    free_ram = np.array([host.ramsize if host.ramsize is not None else np.inf for host in pms], dtype=np.float64)
    alive: list[tuple[float, int, int]] = []  # (end, rank of the VM, PM)
    chosen = [0] * len(vms)
    for rank in sorted(range(len(vms)), key=lambda rank: (vms[rank].start, rank)):
        vm = vms[rank]
        while alive and alive[0][0] < vm.start:
            _, gone, pm = heapq.heappop(alive)
            free_cores[pm] += vms[gone].cores
            free_ram[pm] += vms[gone].ram
        fits = (free_cores >= vm.cores) & (free_ram >= vm.ram)
        pm = int(np.argmax(fits))
        if not fits[pm]:
            raise WorkloadError(
                f"first-fit: no PM can take {vm.name} ({vm.cores} core{'s' if vm.cores > 1 else ''}, {size(vm.ram)}; "
                f"{vm.source}) at date "
                f"{number(vm.start - origin)} s: none of the {len(pms)} PMs has that many free cores and that much "
                "free RAM then; use a larger platform, fewer VMs (--vms) or --place round-robin"
            )
        free_cores[pm] -= vm.cores
        free_ram[pm] -= vm.ram
        heapq.heappush(alive, (vm.end, rank, pm))
        chosen[rank] = pm
    return chosen
