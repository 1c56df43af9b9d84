"""A simulator of virtualized data centers in the SimGrid tradition.

Replay time-independent action traces of actors and VM operations on a SimGrid platform, with SimGrid's fluid
models (max-min sharing of CPUs and links, LV08 network, VM_HL13 two-level CPU sharing, pre-copy live
migration), and trace what happened as Paje (ViTE, PajeNG) and CSV (polars). See README.md and
docs/architecture.md.

    from replay import Simulation, load_platform

    sim = Simulation(load_platform("platform.xml"))
    vm = sim.create_vm("VM0", "Fafard", ramsize=1e9)
    vm.start()

    def admin(actor):
        yield sim.migrate_vm(vm, "Tremblay", actor)

    sim.add_actor("admin", "Fafard", admin)
    sim.run()
"""

from replay.actors import Actor
from replay.engine import Activity, Engine, Resource
from replay.errors import (
    DeadlockError,
    LookupFailure,
    PlatformError,
    ReplayError,
    SimulationError,
    StateError,
    TraceSyntaxError,
    UnitError,
)
from replay.events import MigrationReport
from replay.lifecycle import VmOperation, VmState
from replay.migration import SEED_OPTIONS, MigrationOptions
from replay.network import MODELS, NetworkModel
from replay.platform import Platform, default_platform, load_deployment, load_platform
from replay.process import Process, Request
from replay.replayer import ActionDone, Replayer
from replay.session import ReplaySession, RunResult
from replay.simulation import Simulation
from replay.solver import solve
from replay.trace import BUILTIN, Action, Registry, TraceSource, iter_actions, open_trace, parse_line
from replay.vm import VirtualMachine, VmConfig

__all__ = [
    "BUILTIN",
    "MODELS",
    "SEED_OPTIONS",
    "Action",
    "ActionDone",
    "Activity",
    "Actor",
    "DeadlockError",
    "Engine",
    "LookupFailure",
    "MigrationOptions",
    "MigrationReport",
    "NetworkModel",
    "Platform",
    "PlatformError",
    "Process",
    "Registry",
    "ReplayError",
    "ReplaySession",
    "Replayer",
    "Request",
    "Resource",
    "RunResult",
    "Simulation",
    "SimulationError",
    "StateError",
    "TraceSource",
    "TraceSyntaxError",
    "UnitError",
    "VirtualMachine",
    "VmConfig",
    "VmOperation",
    "VmState",
    "default_platform",
    "iter_actions",
    "load_deployment",
    "load_platform",
    "open_trace",
    "parse_line",
    "solve",
]
