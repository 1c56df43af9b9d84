"""One replay from files: resolve the platform, the deployment and the trace, check them, run, summarize.

This is what ``replay run`` and ``replay validate`` call; it knows files and paths, the replayer does not.
Trace files named by a deployment's ``<argument value=...>`` are looked up as SimGrid does (from the current
directory), then beside the deployment file.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from replay.engine import fewer_collections
from replay.errors import PlatformError, PolicyError
from replay.platform import ActorSpec, Platform, default_platform, load_deployment, load_platform, pms_glob
from replay.trace import BUILTIN, Registry, TraceCheck, TraceSource, open_trace
from replay.trace.sources import Check

# The simulation and the policies are imported when a session opens or a policy is named: ``validate`` (and
# ``replay validate``) loads neither the simulation nor, unless one is named, the policies.
if TYPE_CHECKING:
    from replay.actors import Actor
    from replay.availability import RandomFailures
    from replay.migration import MigrationOptions
    from replay.network import NetworkModel
    from replay.policies import Policy
    from replay.policies.loop import PolicyLoop
    from replay.replayer import ActionDone, Replayer
    from replay.simulation import Simulation
    from replay.vm import VirtualMachine

PathArg = str | os.PathLike[str]


@dataclass
class RunResult:
    """What a run produced, as the JSON summary shows it, and how long it took (``wall_time``, not in the summary:
    the same inputs give the same summary, byte for byte)."""

    simulated_time: float
    actors: dict[str, dict[str, Any]]
    vms: dict[str, dict[str, Any]]
    migrations: list[dict[str, Any]]
    counts: dict[str, int]
    wall_time: float

    energy: dict[str, Any] | None = None
    demand: dict[str, float] | None = None
    sla: dict[str, Any] | None = None

    def summary(self) -> dict[str, Any]:
        """``actors``: each actor's host, end date, status (``done``, ``killed``, ``failed``, ``blocked``) and
        ``cause``; ``vms``: each VM's final state and host (and, in a run with ``load`` actions, its
        ``demand_flops`` and ``served_flops``); ``migrations``: the reports; ``energy`` (joules: ``total``,
        ``hosts``, ``links``) when the platform has wattages; ``demand`` (``flops``, ``served``,
        ``unserved_fraction``) in a run with ``load`` actions; ``sla`` (:mod:`replay.policies.metrics`) in a
        run with a policy; ``counts``."""
        summary = {
            "simulated_time": self.simulated_time,
            "actors": self.actors,
            "vms": self.vms,
            "migrations": self.migrations,
        }
        if self.energy is not None:
            summary["energy"] = self.energy
        if self.demand is not None:
            summary["demand"] = self.demand
        if self.sla is not None:
            summary["sla"] = self.sla
        summary["counts"] = self.counts
        return summary


@dataclass
class ReplaySession:
    """A replay ready to run: ``ReplaySession.open(...)``, subscribe tracers to ``sim.engine``, then ``run()``."""

    platform: Platform
    deployment: list[ActorSpec]
    source: TraceSource
    sim: Simulation
    replayer: Replayer
    listeners: list[Callable[[ActionDone], None]] = field(default_factory=list)
    policy: PolicyLoop | None = None

    @classmethod
    @fewer_collections()
    def open(
        cls,
        traces: Sequence[PathArg] = (),
        *,
        platform: PathArg | None = None,
        deploy: PathArg | None = None,
        network_model: str | NetworkModel = "LV08",
        migration: MigrationOptions | None = None,
        random_failures: RandomFailures | None = None,
        registry: Registry = BUILTIN,
        policy: str | Policy | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> ReplaySession:
        """Load the platform, the deployment and the trace (actions of ``registry``), check them, and set up
        (with a policy in the loop: ``policy`` names it, ``NAME[:key=value,...]`` or ``module:Class``, or is one,
        which then manages every host, ``pm-*`` on the embedded platform). ``variables`` are the values of the
        ``$name`` variables of the trace and the deployment (``--set``)."""
        from replay.network import MODELS
        from replay.replayer import Replayer
        from replay.simulation import Simulation

        plat = load_platform(platform) if platform is not None else default_platform()
        chosen = _chosen(policy)
        registry = registry.with_variables(variables) if variables else registry
        deployment = load_deployment(deploy, platform=plat, variables=variables) if deploy is not None else []
        walk = TraceCheck(plat, vm_order=False, placement=chosen is not None and _places(chosen[0]))
        source = open_source(traces, deployment, deploy, registry, walk.walk)
        walk.finish(source.actors())
        model = MODELS[network_model] if isinstance(network_model, str) else network_model
        sim = Simulation(plat, network_model=model, migration=migration, random_failures=random_failures)
        replayer = Replayer(sim, source, deployment=deployment)
        loop = None
        if chosen is not None:
            from replay.policies.loop import PolicyLoop

            made, label, pattern = chosen
            loop = PolicyLoop(sim, made, label, managed_hosts(plat, pms_glob(pattern, platform is not None), label))
        return cls(plat, deployment, source, sim, replayer, policy=loop)

    @fewer_collections()
    def run(self) -> RunResult:
        """Replay the whole trace; raises the project's errors (a deadlock included) with their file:line."""
        start = time.perf_counter()
        self.replayer.start()
        end = self.sim.run()
        wall = time.perf_counter() - start
        actors = {name: _actor_summary(actor) for name, actor in self.sim.actors.items()}
        demand = self.sim.demand()
        vms = {name: _vm_summary(vm, demand is not None) for name, vm in self.sim.vms.items()}
        migrations = [report.as_dict() for report in self.sim.migrations]
        counts = {
            "actions": self.replayer.actions_done,
            "events": self.sim.engine.events_processed,
            "actors": len(self.sim.actors),
            "vms": len(self.sim.vms),
            "migrations": len(migrations),
        }
        energy = self.sim.energy.report(end) if self.sim.energy is not None else None
        sla = None
        if self.policy is not None:
            from replay.policies.metrics import sla_report

            self.policy.monitor.finish(end)
            sla = sla_report(self.policy.monitor, self.sim.migrations, energy["total"] if energy else None,
                             demand["unserved_fraction"] if demand else 0.0, self.policy.counts)
        return RunResult(end, actors, vms, migrations, counts, wall, energy, demand, sla)


def _chosen(policy: str | Policy | None) -> tuple[Policy, str, str | None] | None:
    """The policy, its label and its hosts glob (None: not given)."""
    if policy is None:
        return None
    from replay.policies import BUILTINS, Policy, load_policy

    if isinstance(policy, Policy):
        return policy, type(policy).__name__, None
    return load_policy(policy, BUILTINS)


def _places(policy: Policy) -> bool:
    from replay.policies import Policy

    return type(policy).place is not Policy.place


def managed_hosts(platform: Platform, pattern: str, spec: str) -> list[str]:
    """The hosts of ``platform`` a policy manages: those whose name matches the glob ``pattern``."""
    names = [name for name in platform.hosts if fnmatch.fnmatchcase(name, pattern)]
    if not names:
        raise PolicyError(f"--policy {spec}: option hosts: expected a glob matching hosts of {platform.source}, "
                          f"found none matching {pattern!r}")
    return names


def _vm_summary(vm: VirtualMachine, loads: bool) -> dict[str, Any]:
    summary: dict[str, Any] = {"state": vm.state.value, "host": vm.pm.name}
    if loads:
        summary["demand_flops"] = vm.demand_flops
        summary["served_flops"] = vm.served_flops
    if vm.lost:
        summary["lost"] = vm.lost.removeprefix("it was lost: ")
    return summary


def _actor_summary(actor: Actor) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "host": actor.host.name if actor.host is not None else actor.placement,
        "end": actor.end_time,
        "status": actor.status,
    }
    if actor.cause:
        summary["cause"] = actor.cause
    if actor.restarts:
        summary["restarts"] = actor.restarts
    return summary


def open_source(
    traces: Sequence[PathArg],
    deployment: list[ActorSpec],
    deploy: PathArg | None,
    registry: Registry = BUILTIN,
    check: Check | None = None,
) -> TraceSource:
    """The trace given on the command line, or the per-actor files of the deployment; ``check`` sees every action
    as it is first read."""
    if traces:
        return open_trace(list(traces), registry=registry, check=check, names=[spec.function for spec in deployment])
    if not deployment:
        raise PlatformError(
            "expected a trace file, or a deployment whose actors name their trace files, found neither"
        )
    paths = [trace_of(spec, deploy) for spec in deployment]
    return open_trace(paths, actors=[spec.function for spec in deployment], registry=registry, check=check)


def trace_of(spec: ActorSpec, deploy: PathArg | None) -> Path:
    """The trace file of a deployment's actor: its first argument, from the current directory or the file's."""
    place = f"{spec.path}:{spec.line}: "
    if not spec.args:
        raise PlatformError(f"{place}actor {spec.function!r} expects its trace file as first <argument>, found none")
    name = Path(spec.args[0])
    candidates = [name] if name.is_absolute() else [name, Path(deploy).parent / name if deploy else name]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    looked = " and ".join(str(c) for c in dict.fromkeys(candidates))
    raise PlatformError(f"{place}actor {spec.function!r} expects an existing trace file, found none at {looked}")


def validate(
    traces: Sequence[PathArg] = (),
    *,
    platform: PathArg | None = None,
    deploy: PathArg | None = None,
    registry: Registry = BUILTIN,
    policy: str | Policy | None = None,
    variables: Mapping[str, str] | None = None,
) -> tuple[int, int]:
    """Check a trace without running it (VM operation order included); return (actors, actions). With a
    ``policy`` that places VMs, ``vm_create <vm> auto`` is allowed."""
    plat = load_platform(platform) if platform is not None else default_platform()
    chosen = _chosen(policy)
    if chosen is not None:
        managed_hosts(plat, pms_glob(chosen[2], platform is not None), chosen[1])
    registry = registry.with_variables(variables) if variables else registry
    deployment = load_deployment(deploy, platform=plat, variables=variables) if deploy is not None else []
    walk = TraceCheck(plat, vm_order=True, placement=chosen is not None and _places(chosen[0]))
    source = open_source(traces, deployment, deploy, registry, walk.walk)
    walk.finish(source.actors())
    return len(source.actors()), walk.count
