"""Dynamic consolidation as Beloglazov and Buyya define it and CloudSim's power package runs it, every tick:

1. **Overloaded hosts**: each host on whose detector says so (``threshold``: utilization > ``upper``; ``mad``,
   ``iqr``, ``lr``: CloudSim's adaptive detectors, :mod:`replay.policies.detectors`) sheds VMs, one at a time,
   chosen by ``select`` (``mmt``: the smallest RAM, the quickest to migrate; ``mu``: the lowest utilization),
   until the detector no longer says so.
2. Those VMs, by decreasing requested CPU, each go to the **power-aware best fit** (PABFD): the host, other than
   the overloaded ones, where it fits (cores, RAM) and which it does not overload (the detector asked with the VM
   added; not asked for a host with no load, as in CloudSim), whose power rises least; ties go to a host on,
   then to platform order. An off host costs its whole rise from ``wattage_off`` (so hosts on are preferred) and
   is switched on. A VM that fits nowhere stays.
3. **Underloaded hosts**: while some host on, not overloaded, not a destination of this tick, with VMs none of
   which migrates, has a utilization above 0 and below ``lower``, the least utilized one (platform order among
   equals) is evacuated if all its VMs find a destination by the same rule among the hosts on that hold VMs
   (not the overloaded ones, not those already evacuated: CloudSim counts idle hosts as off); otherwise it is
   left as it is.
4. A host left empty is switched off (``switch_off``, on by default), by the loop, when its last VM has left.

Each built-in also places ``vm_create <vm> auto`` by the same rule (the VM's request is 0 at creation, so PABFD
then chooses the host whose idle-to-busy slope is the gentlest, hosts on first).

Defaults. ``upper=0.8``: Beloglazov and Buyya's reference static threshold (THR-MMT-0.8 in CloudSim's examples),
so runs compare with published results; CloudSim Plus's 0.9 is an option away. ``lower=0.35``: CloudSim Plus's
under-utilization threshold (CloudSim's original evacuates the least utilized host whatever its utilization:
``lower=inf`` does that). ``safety``: 2.5 (MAD), 1.5 (IQR), 1.2 (LR), the values of CloudSim's examples, as is
the static fallback 0.7 for short histories. ``bandwidth=1Gbps`` is the host bandwidth of CloudSim's examples,
for LR's look-ahead (the largest VM's RAM over half of it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import ClassVar

import numpy as np

from replay.policies import detectors
from replay.policies.api import Decision, Migrate, Policy, View, VmRequest, VmView
from replay.policies.options import Option, bandwidth, choice, duration, flag, level, positive
from replay.policies.placement import COMMON_OPTIONS

_TIE = 1e-9  # watts: rises closer than this are equal


class Plan:
    """The data center as this tick's decisions change it: the VMs of each host and what the hosts request."""

    def __init__(self, view: View) -> None:
        self.view = view
        self.names = list(view.hosts)
        self.index = {name: rank for rank, name in enumerate(self.names)}
        hosts = list(view.hosts.values())
        self.capacity = np.array([h.capacity for h in hosts])
        self.requested = np.array([h.requested for h in hosts])
        self.free_cores = np.array([h.free_cores for h in hosts], dtype=float)
        self.free_ram = np.array([h.free_ram for h in hosts])
        self.on = np.array([h.on for h in hosts])
        self.awake = np.array([h.on or h.booting for h in hosts])
        self.members: list[list[VmView]] = [[] for _ in hosts]
        for vm in view.vms.values():
            self.members[self.index[vm.host]].append(vm)
            if vm.migrating_to in self.index:  # it will be there: its load counts now
                rank = self.index[vm.migrating_to]
                self.members[rank].append(vm)
                self.requested[rank] += vm.requested
        powered = [h.power_range for h in hosts]
        self.idle = np.array([p.idle if p else 0.0 for p in powered])
        self.epsilon = np.array([p.epsilon if p else 0.0 for p in powered])
        self.all_cores = np.array([p.all_cores if p else 0.0 for p in powered])
        self.off_watts = np.array([h.wattage_off if h.power_range else 0.0 for h in hosts])

    def utilization(self, rank: int) -> float:
        capacity = self.capacity[rank]
        return float(self.requested[rank] / capacity) if capacity > 0 else math.inf

    def history(self, rank: int) -> np.ndarray:
        """The host's history now: the sum of its VMs' histories (the latest values aligned), over its capacity."""
        vms = self.members[rank]
        longest = max((len(vm.history) for vm in vms), default=0)
        total = np.zeros(longest)
        for vm in vms:
            total[longest - len(vm.history):] += vm.history
        capacity = self.capacity[rank]
        return total / capacity if capacity > 0 else total

    def move(self, vm: VmView, src: int | None, dst: int | None) -> None:
        if src is not None:
            self.members[src].remove(vm)
            self.requested[src] -= vm.requested
            self.free_cores[src] += vm.cores
            self.free_ram[src] += vm.ram
        if dst is not None:
            self.members[dst].append(vm)
            self.requested[dst] += vm.requested
            self.free_cores[dst] -= vm.cores
            self.free_ram[dst] -= vm.ram


class Consolidation(Policy):
    """The base of the consolidation policies; a subclass gives the detector (:meth:`overloaded`)."""

    OPTIONS: ClassVar[dict[str, Option]] = {
        **COMMON_OPTIONS,
        "interval": Option(duration, 300.0, "seconds between two consolidations"),
        "select": Option(choice("mmt", "mu"), "mmt", "which VM an overloaded host sheds first"),
        "lower": Option(level, 0.35, "utilization under which a host is evacuated"),
        "switch_off": Option(flag, True, "switch off the hosts left empty, on those needed"),
    }

    def __init__(self, *, interval: float = 300.0, select: str = "mmt", lower: float = 0.35,
                 switch_off: bool = True) -> None:
        self.interval = interval
        self.select = select
        self.lower = lower
        self.switch_off = switch_off

    def overloaded(self, plan: Plan, rank: int) -> bool:
        raise NotImplementedError

    # -- placement -------------------------------------------------------------------------------------------
    def place(self, view: View, vm: VmRequest) -> str | None:
        plan = Plan(view)
        arriving = VmView(vm.name, "", "created", vm.cores, vm.ram, 0.0, 0.0, np.zeros(0))
        rank = self._destination(plan, arriving, None, np.zeros(len(plan.names), dtype=bool), allow_off=True)
        return None if rank is None else plan.names[rank]

    # -- the tick --------------------------------------------------------------------------------------------
    def tick(self, view: View) -> Iterable[Decision]:
        plan = Plan(view)
        count = len(plan.names)
        overloaded = [rank for rank in range(count) if plan.on[rank] and plan.members[rank]
                      and self.overloaded(plan, rank)]
        excluded = np.zeros(count, dtype=bool)
        excluded[overloaded] = True
        decisions: list[Decision] = []
        leaving: list[tuple[VmView, int]] = []
        for rank in overloaded:
            while (vm := self._shed(plan, rank)) is not None:
                plan.move(vm, rank, None)
                leaving.append((vm, rank))
                if not self.overloaded(plan, rank):
                    break
        destinations: set[int] = set()
        for vm, src in sorted(leaving, key=lambda pair: -pair[0].requested):
            dst = self._destination(plan, vm, None, excluded, allow_off=True)
            if dst is None:
                plan.move(vm, None, src)
                continue
            plan.move(vm, None, dst)
            destinations.add(dst)
            decisions.append(Migrate(vm.name, plan.names[dst], "overload"))
        decisions += self._consolidate(plan, excluded, destinations)
        return decisions

    def _shed(self, plan: Plan, rank: int) -> VmView | None:
        """The VM the overloaded host gives up next: one of its own, not migrating."""
        name = plan.names[rank]
        movable = [vm for vm in plan.members[rank] if vm.host == name and not vm.migrating]
        if not movable:
            return None
        if self.select == "mmt":
            return min(movable, key=lambda vm: vm.ram)
        return min(movable, key=lambda vm: vm.utilization)

    def _consolidate(self, plan: Plan, excluded: np.ndarray, destinations: set[int]) -> list[Decision]:
        decisions: list[Decision] = []
        tried = excluded.copy()
        tried[list(destinations)] = True
        evacuated = excluded.copy()
        while True:
            rank = self._underloaded(plan, tried)
            if rank is None:
                return decisions
            tried[rank] = True
            evacuated[rank] = True
            vms = sorted(plan.members[rank], key=lambda vm: -vm.requested)
            moves: list[tuple[VmView, int]] = []
            for vm in vms:
                dst = self._destination(plan, vm, rank, evacuated, allow_off=False)
                if dst is None:
                    break
                plan.move(vm, rank, dst)
                moves.append((vm, dst))
            if len(moves) < len(vms):  # not all fit: the host stays as it is
                for vm, dst in reversed(moves):
                    plan.move(vm, dst, rank)
                evacuated[rank] = False
                continue
            for vm, dst in moves:
                tried[dst] = True
                decisions.append(Migrate(vm.name, plan.names[dst], "underload"))

    def _underloaded(self, plan: Plan, tried: np.ndarray) -> int | None:
        best: int | None = None
        best_utilization = math.inf
        for rank, vms in enumerate(plan.members):
            if tried[rank] or not plan.on[rank] or not vms:
                continue
            name = plan.names[rank]
            if any(vm.migrating or vm.host != name for vm in vms):
                continue
            utilization = plan.utilization(rank)
            if 0 < utilization < self.lower and utilization < best_utilization:
                best, best_utilization = rank, utilization
        return best

    def _destination(self, plan: Plan, vm: VmView, src: int | None, excluded: np.ndarray, *,
                     allow_off: bool) -> int | None:
        """PABFD: the host where ``vm`` fits, not overloaded by it, whose power rises least (see the module)."""
        fits = (plan.free_cores >= vm.cores) & (plan.free_ram >= vm.ram) & ~excluded
        if not allow_off:  # evacuating onto an empty host would save nothing (CloudSim counts those as off)
            fits &= plan.awake & np.array([bool(vms) for vms in plan.members])
        if src is not None:
            fits[src] = False
        here = plan.index.get(vm.host)
        if here is not None:
            fits[here] = False
        ranks = np.flatnonzero(fits)
        if not len(ranks):
            return None
        capacity = plan.capacity[ranks]
        with np.errstate(divide="ignore", invalid="ignore"):
            before = np.where(capacity > 0, plan.requested[ranks] / capacity, 0.0)
            after = np.where(capacity > 0, (plan.requested[ranks] + vm.requested) / capacity, np.inf)
        power_before = np.where(plan.awake[ranks], _power(plan, ranks, before), plan.off_watts[ranks])
        rise = _power(plan, ranks, after) - power_before
        rise = np.round(rise / _TIE) * _TIE
        order = np.lexsort((ranks, ~plan.awake[ranks], rise))
        for position in order:
            rank = int(ranks[position])
            if plan.requested[rank] > 0 and self._overloaded_with(plan, rank, vm):
                continue
            return rank
        return None

    def _overloaded_with(self, plan: Plan, rank: int, vm: VmView) -> bool:
        plan.move(vm, None, rank)
        try:
            return self.overloaded(plan, rank)
        finally:
            plan.move(vm, rank, None)


def _power(plan: Plan, ranks: np.ndarray, utilization: np.ndarray) -> np.ndarray:
    """Watts of the hosts ``ranks`` on at ``utilization`` (SimGrid's host model, clamped to 1)."""
    load = np.clip(utilization, 0.0, 1.0)
    epsilon, all_cores = plan.epsilon[ranks], plan.all_cores[ranks]
    return np.where(load > 0, epsilon + load * (all_cores - epsilon), plan.idle[ranks])


class Threshold(Consolidation):
    """Static threshold: a host is overloaded when its utilization is above ``upper``."""

    name = "threshold"
    OPTIONS: ClassVar[dict[str, Option]] = {
        **Consolidation.OPTIONS, "upper": Option(level, 0.8, "utilization above which a host is overloaded"),
    }

    def __init__(self, *, upper: float = 0.8, **common: object) -> None:
        super().__init__(**common)  # type: ignore[arg-type]
        self.upper = upper

    def overloaded(self, plan: Plan, rank: int) -> bool:
        return detectors.static_threshold(plan.utilization(rank), self.upper).overloaded


class _Adaptive(Consolidation):
    SAFETY: ClassVar[float] = 1.0
    OPTIONS: ClassVar[dict[str, Option]] = {
        **Consolidation.OPTIONS,
        "fallback": Option(level, 0.7, "the static threshold while the history is too short"),
    }

    def __init__(self, *, safety: float | None = None, fallback: float = 0.7, **common: object) -> None:
        super().__init__(**common)  # type: ignore[arg-type]
        self.safety = self.SAFETY if safety is None else safety
        self.fallback = fallback


class Mad(_Adaptive):
    """Median absolute deviation: overloaded above 1 - safety x MAD of the host's history."""

    name = "mad"
    SAFETY = 2.5
    OPTIONS: ClassVar[dict[str, Option]] = {
        **_Adaptive.OPTIONS, "safety": Option(positive, 2.5, "how many MADs below 1 the threshold is"),
    }

    def overloaded(self, plan: Plan, rank: int) -> bool:
        return detectors.mad(plan.history(rank), plan.utilization(rank), self.safety, self.fallback).overloaded


class Iqr(_Adaptive):
    """Interquartile range: overloaded above 1 - safety x IQR of the host's history."""

    name = "iqr"
    SAFETY = 1.5
    OPTIONS: ClassVar[dict[str, Option]] = {
        **_Adaptive.OPTIONS, "safety": Option(positive, 1.5, "how many IQRs below 1 the threshold is"),
    }

    def overloaded(self, plan: Plan, rank: int) -> bool:
        return detectors.iqr(plan.history(rank), plan.utilization(rank), self.safety, self.fallback).overloaded


class LocalRegression(_Adaptive):
    """Local regression: overloaded when safety x the utilization predicted past the next migrations is >= 1."""

    name = "lr"
    SAFETY = 1.2
    OPTIONS: ClassVar[dict[str, Option]] = {
        **_Adaptive.OPTIONS,
        "safety": Option(positive, 1.2, "the factor of the predicted utilization"),
        "bandwidth": Option(bandwidth, 125e6, "the host bandwidth of LR's look-ahead (half of it per migration)"),
    }

    def __init__(self, *, bandwidth: float = 125e6, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.bandwidth = bandwidth

    def overloaded(self, plan: Plan, rank: int) -> bool:
        largest = max((vm.ram for vm in plan.members[rank]), default=0.0)
        ahead = detectors.migration_intervals(largest, self.bandwidth, self.interval or 300.0)
        return detectors.local_regression(plan.history(rank), self.safety, ahead, self.fallback,
                                          utilization=plan.utilization(rank)).overloaded

