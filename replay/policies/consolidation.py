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
from functools import cached_property
from typing import ClassVar

import numpy as np

from replay.policies import detectors
from replay.policies.api import HISTORY_LENGTH, Decision, Migrate, Policy, View, VmRequest, VmTable
from replay.policies.options import Option, bandwidth, choice, duration, flag, level, positive
from replay.policies.placement import COMMON_OPTIONS, free_cores

_TIE = 1e-9  # watts: rises closer than this are equal


class Plan:
    """The data center as this tick's decisions change it: the VMs of each host (rows of the view's VM table),
    the room left and what the hosts request; a VM migrating somewhere counts there already."""

    def __init__(self, view: View, overcommit: float = 1.0) -> None:
        hosts = view.host_table
        self.view = view
        self.names = hosts.names
        self.index = {name: rank for rank, name in enumerate(hosts.names)}
        self.capacity = hosts.capacity.astype(float)
        self.free_cores = free_cores(hosts, overcommit).astype(float)
        self.free_ram = hosts.ram - hosts.used_ram
        self.on = hosts.on
        self.awake = hosts.on | hosts.booting
        self.idle, self.epsilon, self.all_cores = hosts.idle, hosts.epsilon, hosts.all_cores
        self.off_watts = hosts.wattage_off
        self.requested = hosts.requested + hosts.arriving
        #: how many VMs each host holds (arriving ones included)
        self.count = hosts.vm_count.copy()
        self._members: list[list[int]] | None = None
        self._load = np.zeros(0)

    @cached_property
    def vms(self) -> VmTable:
        return self.view.vm_table

    @property
    def members(self) -> list[list[int]]:
        """The VMs of each host, rows of the VM table (made when first needed: a placement seldom needs them)."""
        if self._members is None:
            vms = self.vms
            self._members = [[] for _ in self.names]
            for row, host in enumerate(vms.host.tolist()):
                self._members[host].append(row)
            self._load = np.zeros((len(self.names), HISTORY_LENGTH))  # flop/s at the last ticks
            np.add.at(self._load, vms.host, vms.history)
            for row in np.flatnonzero(vms.migrating_to >= 0).tolist():
                rank = int(vms.migrating_to[row])
                self._members[rank].append(row)
                self._load[rank] += vms.history[row]
        return self._members

    @property
    def load(self) -> np.ndarray:
        """Each host's requested flop/s at the last ticks (its VMs' histories summed)."""
        self.members  # noqa: B018 - made with them
        return self._load

    def utilization(self, rank: int) -> float:
        capacity = self.capacity[rank]
        return float(self.requested[rank] / capacity) if capacity > 0 else math.inf

    def utilizations(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.capacity > 0, self.requested / self.capacity, np.inf)

    def history(self, rank: int) -> np.ndarray:
        """The host's utilization at the last ticks, oldest first: its VMs' histories, summed, over its capacity."""
        capacity = self.capacity[rank]
        return self.load[rank] / capacity if capacity > 0 else self.load[rank]

    def histories(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.capacity[:, None] > 0, self.load / self.capacity[:, None], self.load)

    def own(self, rank: int) -> list[int]:
        """The VMs on host ``rank`` that may leave it: its own, not migrating."""
        vms = self.vms
        return [row for row in self.members[rank] if vms.host[row] == rank and vms.migrating_to[row] < 0]

    def move(self, row: int, src: int | None, dst: int | None) -> None:
        if src is not None:
            self._remove(row, src)
        if dst is not None:
            self._add(row, dst)

    def _add(self, row: int, rank: int, *, room: bool = True) -> None:
        vms = self.vms
        self.members[rank].append(row)
        self.count[rank] += 1
        self.requested[rank] += vms.requested[row]
        self.load[rank] += vms.history[row]
        if room:
            self.free_cores[rank] -= vms.cores[row]
            self.free_ram[rank] -= vms.ram[row]

    def _remove(self, row: int, rank: int) -> None:
        vms = self.vms
        self.members[rank].remove(row)
        self.count[rank] -= 1
        self.requested[rank] -= vms.requested[row]
        self.load[rank] -= vms.history[row]
        self.free_cores[rank] += vms.cores[row]
        self.free_ram[rank] += vms.ram[row]

    def power(self, ranks: np.ndarray, utilization: np.ndarray) -> np.ndarray:
        """Watts of the hosts ``ranks`` on at ``utilization`` (SimGrid's host model, clamped to 1)."""
        load = np.clip(utilization, 0.0, 1.0)
        epsilon, all_cores = self.epsilon[ranks], self.all_cores[ranks]
        return np.where(load > 0, epsilon + load * (all_cores - epsilon), self.idle[ranks])


class Consolidation(Policy):
    """The base of the consolidation policies; a subclass gives the detector (:meth:`overloaded`) and a quick
    screen of the hosts that may be overloaded (:meth:`suspects`)."""

    OPTIONS: ClassVar[dict[str, Option]] = {
        **COMMON_OPTIONS,
        "interval": Option(duration, 300.0, "seconds between two consolidations"),
        "select": Option(choice("mmt", "mu"), "mmt", "which VM an overloaded host sheds first"),
        "lower": Option(level, 0.35, "utilization under which a host is evacuated"),
        "switch_off": Option(flag, True, "switch off the hosts left empty, on those needed"),
    }

    def __init__(self, *, interval: float = 300.0, select: str = "mmt", lower: float = 0.35,
                 switch_off: bool = True, overcommit: float = 1.0) -> None:
        self.overcommit = overcommit
        self.interval = interval
        self.select = select
        self.lower = lower
        self.switch_off = switch_off

    def overloaded(self, plan: Plan, rank: int) -> bool:
        raise NotImplementedError

    def suspects(self, plan: Plan) -> np.ndarray:
        """A mask of the hosts that may be overloaded (a superset of them: each is then asked for certain)."""
        return np.ones(len(plan.names), dtype=bool)

    # -- placement -------------------------------------------------------------------------------------------
    def place(self, view: View, vm: VmRequest) -> str | None:
        plan = Plan(view, self.overcommit)
        rank = self._destination(plan, _Arrival(vm.cores, vm.ram), np.zeros(len(plan.names), dtype=bool),
                                 allow_off=True)
        return None if rank is None else plan.names[rank]

    # -- the tick --------------------------------------------------------------------------------------------
    def tick(self, view: View) -> Iterable[Decision]:
        plan = Plan(view, self.overcommit)
        loaded = plan.on & (plan.count > 0)
        overloaded = [rank for rank in np.flatnonzero(loaded & self.suspects(plan)).tolist()
                      if self.overloaded(plan, rank)]
        excluded = np.zeros(len(plan.names), dtype=bool)
        excluded[overloaded] = True
        leaving: list[tuple[int, int]] = []
        for rank in overloaded:
            while (row := self._shed(plan, rank)) is not None:
                plan.move(row, rank, None)
                leaving.append((row, rank))
                if not self.overloaded(plan, rank):
                    break
        decisions: list[Decision] = []
        destinations: list[int] = []
        vms = plan.vms
        for row, src in sorted(leaving, key=lambda pair: -vms.requested[pair[0]]):
            dst = self._destination(plan, _Leaving(plan, row), excluded, allow_off=True)
            if dst is None:
                plan.move(row, None, src)
                continue
            plan.move(row, None, dst)
            destinations.append(dst)
            decisions.append(Migrate(vms.names[row], plan.names[dst], "overload"))
        decisions += self._consolidate(plan, excluded, destinations)
        return decisions

    def _shed(self, plan: Plan, rank: int) -> int | None:
        """The VM the overloaded host gives up next."""
        rows = plan.own(rank)
        if not rows:
            return None
        vms = plan.vms
        if self.select == "mmt":
            return min(rows, key=lambda row: vms.ram[row])
        return min(rows, key=lambda row: vms.requested[row] / (vms.cores[row] * vms.core_speed[row]))

    def _consolidate(self, plan: Plan, excluded: np.ndarray, destinations: list[int]) -> list[Decision]:
        """Evacuate the underloaded hosts, least utilized first (see the module docstring)."""
        decisions: list[Decision] = []
        tried = excluded.copy()
        tried[destinations] = True
        evacuated = excluded.copy()
        vms = plan.vms
        utilization = plan.utilizations()
        order = np.lexsort((np.arange(len(plan.names)), utilization))
        candidates = [rank for rank in order.tolist() if plan.on[rank] and plan.count[rank]
                      and 0 < utilization[rank] < self.lower]
        room = _Room(plan, evacuated)
        for rank in candidates:
            if tried[rank] or any(vms.migrating_to[row] >= 0 or vms.host[row] != rank for row in plan.members[rank]):
                continue
            tried[rank] = True
            rows = sorted(plan.members[rank], key=lambda row: -vms.requested[row])
            if not room.may_take(rows, rank):  # no host could take even its smallest VM: no search
                continue
            evacuated[rank] = True
            moves: list[tuple[int, int]] = []
            for row in rows:
                dst = self._destination(plan, _Leaving(plan, row), evacuated, allow_off=False)
                if dst is None:
                    break
                plan.move(row, rank, dst)
                moves.append((row, dst))
            if len(moves) < len(rows):  # not all fit: the host stays as it is
                for row, dst in reversed(moves):
                    plan.move(row, dst, rank)
                evacuated[rank] = False
                continue
            room = _Room(plan, evacuated)
            for row, dst in moves:
                tried[dst] = True
                decisions.append(Migrate(vms.names[row], plan.names[dst], "underload"))
        return decisions

    def _destination(self, plan: Plan, vm: _Arrival | _Leaving, excluded: np.ndarray, *,
                     allow_off: bool) -> int | None:
        """PABFD: the host where ``vm`` fits, not overloaded by it, whose power rises least (see the module)."""
        fits = (plan.free_cores >= vm.cores) & (plan.free_ram >= vm.ram) & ~excluded
        if not allow_off:  # evacuating onto an empty host would save nothing (CloudSim counts those as off)
            fits &= plan.awake & (plan.count > 0)
        if vm.host >= 0:
            fits[vm.host] = False
        ranks = np.flatnonzero(fits)
        if not len(ranks):
            return None
        capacity = plan.capacity[ranks]
        with np.errstate(divide="ignore", invalid="ignore"):
            before = np.where(capacity > 0, plan.requested[ranks] / capacity, 0.0)
            after = np.where(capacity > 0, (plan.requested[ranks] + vm.requested) / capacity, np.inf)
        awake = plan.awake[ranks]
        rise = plan.power(ranks, after) - np.where(awake, plan.power(ranks, before), plan.off_watts[ranks])
        rise = np.round(rise / _TIE) * _TIE
        for position in np.lexsort((ranks, ~awake, rise)).tolist():
            rank = int(ranks[position])
            if plan.requested[rank] > 0 and vm.overloads(self, plan, rank):
                continue
            return rank
        return None


class _Room:
    """The largest free cores and free RAM among the hosts VMs may be evacuated to (on, holding VMs, not being
    evacuated), the two best of each, so that a host whose largest VM fits none of the others is not searched:
    on a packed data center, most underloaded hosts."""

    def __init__(self, plan: Plan, evacuated: np.ndarray) -> None:
        self.plan = plan
        pool = np.flatnonzero(plan.awake & ~evacuated & (plan.count > 0))
        self.cores = self._two_best(pool, plan.free_cores)
        self.ram = self._two_best(pool, plan.free_ram)

    @staticmethod
    def _two_best(pool: np.ndarray, values: np.ndarray) -> list[tuple[float, int]]:
        if not len(pool):
            return []
        order = np.argsort(-values[pool], kind="stable")[:2]
        return [(float(values[pool[i]]), int(pool[i])) for i in order]

    def may_take(self, rows: list[int], rank: int) -> bool:
        """Whether some other host of the pool has the free cores, and one the free RAM, of its largest VM (every
        VM must find a host: the largest first of all)."""
        vms = self.plan.vms
        cores = max(float(vms.cores[row]) for row in rows)
        ram = max(float(vms.ram[row]) for row in rows)
        return _best_other(self.cores, rank) >= cores and _best_other(self.ram, rank) >= ram


def _best_other(best: list[tuple[float, int]], rank: int) -> float:
    for value, where in best:
        if where != rank:
            return value
    return -math.inf


class _Arrival:
    """A VM to place: it requests nothing yet and has no history."""

    host = -1
    requested = 0.0

    def __init__(self, cores: int, ram: float) -> None:
        self.cores, self.ram = cores, ram

    def overloads(self, policy: Consolidation, plan: Plan, rank: int) -> bool:
        return policy.overloaded(plan, rank)


class _Leaving:
    """A VM of the plan looking for a destination (taken off its host for now)."""

    def __init__(self, plan: Plan, row: int) -> None:
        vms = plan.vms
        self.row = row
        self.host = int(vms.host[row])
        self.cores, self.ram, self.requested = int(vms.cores[row]), float(vms.ram[row]), float(vms.requested[row])

    def overloads(self, policy: Consolidation, plan: Plan, rank: int) -> bool:
        plan.move(self.row, None, rank)
        try:
            return policy.overloaded(plan, rank)
        finally:
            plan.move(self.row, rank, None)


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

    def suspects(self, plan: Plan) -> np.ndarray:
        return plan.utilizations() > self.upper


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

    def suspects(self, plan: Plan) -> np.ndarray:
        """MAD and IQR are at most the range of the history (zeros included), so the threshold is at least
        ``1 - safety x range``; with a short history it is the fallback."""
        history = plan.histories()
        spread = history.max(axis=1) - history.min(axis=1)
        return plan.utilizations() > np.minimum(self.fallback, 1 - self.safety * spread) - 1e-9


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

    def _ahead(self, largest: float) -> int:
        return detectors.migration_intervals(largest, self.bandwidth, self.interval or 300.0)

    robust: ClassVar[bool] = False

    def overloaded(self, plan: Plan, rank: int) -> bool:
        largest = max((float(plan.vms.ram[row]) for row in plan.members[rank]), default=0.0)
        return detectors.local_regression(plan.history(rank), self.safety, self._ahead(largest), self.fallback,
                                          self.robust, utilization=plan.utilization(rank)).overloaded

    def suspects(self, plan: Plan) -> np.ndarray:
        """The fallback's verdict, or the least-squares line through the last 10 values (the same line as
        CloudSim's, to rounding) predicting an overload, with a margin for that rounding."""
        y = plan.histories()[:, -detectors.LR_LENGTH:]
        x = np.arange(1.0, detectors.LR_LENGTH + 1)
        slope = ((x - x.mean()) * (y - y.mean(axis=1, keepdims=True))).sum(axis=1) / ((x - x.mean()) ** 2).sum()
        intercept = y.mean(axis=1) - slope * x.mean()
        largest = np.zeros(len(plan.names))
        vms = plan.vms
        np.maximum.at(largest, vms.host, vms.ram)
        ahead = np.array([self._ahead(ram) for ram in largest.tolist()])
        predicted = intercept + slope * (detectors.LR_LENGTH + ahead)
        return (plan.utilizations() > self.fallback - 1e-9) | (predicted * self.safety >= 1 - 1e-6)


class RobustLocalRegression(LocalRegression):
    """CloudSim's LRR: local regression refitted with bisquare weights (the same line as LR unless many points lie
    exactly on it: see :mod:`replay.policies.detectors`)."""

    name = "lrr"
    robust = True
