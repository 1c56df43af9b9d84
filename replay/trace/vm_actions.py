"""The actions on VMs: their lifecycle, live migration and CPU cap.

``vm_create`` options, each at most once, are the fields of :class:`~replay.vm.VmConfig` (which holds their
defaults): ``cores`` integer >= 1; ``ram`` size (the config's ``ramsize``); ``dp_intensity`` fraction in [0, 1];
``working_set`` size <= ram; ``mig_speed`` bandwidth, ``125MBps`` or ``1Gbps``; ``max_downtime`` time > 0;
``bound`` speed (0 = no bound, as SimGrid's solver treats a non-positive bound); ``devsize`` size;
``skip_stage1``, ``skip_stage2`` yes/no/true/false/1/0; ``xfer_cpu_overhead``, ``dpt_cpu_overhead`` flops per
byte >= 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from replay.errors import StateError, did_you_mean
from replay.lifecycle import VmOperation
from replay.process import Steps
from replay.trace.checks import TraceCheck
from replay.trace.grammar import Place, number_text, shown
from replay.trace.records import Action, Registry, ReplayContext
from replay.units import FlopsPerSecond
from replay.vm import VmConfig

Op = VmOperation

#: The actions of this module.
ACTIONS = Registry()


@dataclass(frozen=True, slots=True)
class VmAction(Action):
    """Base of the actions on one VM; ``operations`` are the state changes it makes, in a static walk."""

    usage: ClassVar[str] = "<vm>"
    operations: ClassVar[tuple[VmOperation, ...]] = ()
    vm: str

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], **p.origin)  # type: ignore[arg-type]

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)

    def _args(self) -> tuple[str, ...]:
        return (self.vm,)


def _vm_options() -> dict[str, tuple[str, Callable[[Place, str, str], Any]]]:
    """``vm_create`` option -> (the :class:`VmConfig` field it sets, the reader of its value)."""

    def size(p: Place, key: str, text: str) -> float:
        return p.quantity(text, "size", key)

    def downtime(p: Place, key: str, text: str) -> float:
        value = p.quantity(text, "time", key)
        return p.checked(value, value > 0, key, "a duration > 0", text)

    def fraction(p: Place, key: str, text: str) -> float:
        value = p.number(text, key)
        return p.checked(value, 0.0 <= value <= 1.0, key, "a fraction in [0, 1]", text)

    def overhead(p: Place, key: str, text: str) -> float:
        value = p.number(text, key)
        return p.checked(value, value >= 0, key, "flops per byte >= 0", text)

    return {
        "cores": ("cores", lambda p, key, text: p.count(text, key)),
        "ram": ("ramsize", size),
        "dp_intensity": ("dp_intensity", fraction),
        "working_set": ("working_set", size),
        "mig_speed": ("mig_speed", lambda p, key, text: p.quantity(text, "bandwidth", key)),
        "max_downtime": ("max_downtime", downtime),
        "bound": ("bound", lambda p, key, text: p.quantity(text, "speed", key) or math.inf),
        "devsize": ("devsize", size),
        "skip_stage1": ("skip_stage1", lambda p, key, text: p.boolean(text, key)),
        "skip_stage2": ("skip_stage2", lambda p, key, text: p.boolean(text, key)),
        "xfer_cpu_overhead": ("xfer_cpu_overhead", overhead),
        "dpt_cpu_overhead": ("dpt_cpu_overhead", overhead),
    }


_VM_OPTIONS = _vm_options()
_DEFAULT_CONFIG = VmConfig()

#: the configs made so far, by their fields: the VMs of a trace mostly share a few (a frozen config per VM would
#: cost 128 bytes each); bounded, so that a trace of all-different VMs keeps only the latest few
_CONFIGS: dict[str, VmConfig] = {}
_MAX_CONFIGS = 4096


def _shared_config(values: dict[str, Any]) -> VmConfig:
    """The config of ``values``, the same object for the same values (``repr`` tells 0.0 from -0.0)."""
    key = repr(sorted(values.items()))
    config = _CONFIGS.get(key)
    if config is None:
        config = VmConfig(**values)
        if len(_CONFIGS) >= _MAX_CONFIGS:
            _CONFIGS.clear()
        _CONFIGS[key] = config
    return config


#: The PM of a ``vm_create`` that leaves the choice to the placement policy of the run (``replay run --policy``;
#: ``replay import --place auto`` writes it). A platform host called ``auto`` is that host.
AUTO = "auto"


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmCreate(VmAction):
    """Create VM ``vm`` on PM ``pm`` (not started), made as ``config`` says."""

    keyword: ClassVar[str] = "vm_create"
    usage: ClassVar[str] = "<vm> <pm> [key=value ...]"
    pm: str
    config: VmConfig = _DEFAULT_CONFIG

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        vm, pm, *pairs = args
        names = ", ".join(_VM_OPTIONS)
        given: dict[str, str] = {}
        values: dict[str, Any] = {}
        for pair in pairs:
            key, eq, text = pair.partition("=")
            if not eq or not key:
                raise p.error(f"expected a vm_create option key=value with key one of {names}, found {shown(pair)}")
            option = _VM_OPTIONS.get(key)
            if option is None:
                raise p.error(f"unknown vm_create option {shown(key)}; expected one of {names}"
                              f"{did_you_mean(key, list(_VM_OPTIONS))}")
            if key in given:
                raise p.error(f"expected each vm_create option at most once, found {shown(pair)} after "
                              f"{shown(given[key])}")
            given[key] = pair
            name, read = option
            values[name] = read(p, key, text)
        ram = values.get("ramsize", _DEFAULT_CONFIG.ramsize)
        working_set = values.get("working_set")
        if working_set is not None and working_set > ram:
            raise p.error(
                f"bad working_set in 'vm_create': expected at most ram ({number_text(ram)} bytes), "
                f"found {shown(given['working_set'].partition('=')[2])} ({number_text(working_set)} bytes)"
            )
        try:
            config = _shared_config(values) if values else _DEFAULT_CONFIG
        except ValueError as error:
            raise p.error(f"bad options in 'vm_create': {error}") from None
        return cls(vm, pm, config, **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Steps | None:
        if self.pm == AUTO and AUTO not in ctx.sim.platform.hosts:
            return self._placed(ctx)
        ctx.sim.create_vm(self.vm, self.pm, self.config)
        return None

    def _placed(self, ctx: ReplayContext) -> Steps:
        yield ctx.sim.place_vm(self.vm, self.config)

    def check(self, walk: TraceCheck) -> None:
        if self.pm == AUTO and AUTO not in walk.hosts:
            if not walk.placement:
                raise StateError(f"{self.path}:{self.line}: 'vm_create {self.vm} auto' asks a placement policy to "
                                 "choose the PM: run with --policy (e.g. --policy first-fit), or name a PM of the "
                                 "platform")
        else:
            walk.platform_host(self, self.pm, "pm")
        walk.created(self, self.vm, self.pm)

    def _args(self) -> tuple[str, ...]:
        options = []
        for key, (name, _) in _VM_OPTIONS.items():
            value = getattr(self.config, name)
            if value is None or value == getattr(_DEFAULT_CONFIG, name):
                continue
            if isinstance(value, bool):
                options.append(f"{key}=yes")
            elif isinstance(value, int):
                options.append(f"{key}={value}")
            else:
                options.append(f"{key}={number_text(value)}")
        return (self.vm, self.pm, *options)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmStart(VmAction):
    """Start a created VM on its PM."""

    keyword: ClassVar[str] = "vm_start"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.START,)

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).start()


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmSuspend(VmAction):
    """Suspend a running VM: its activities keep their remaining work and take no share."""

    keyword: ClassVar[str] = "vm_suspend"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.SUSPEND,)

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)
        walk.from_outside(self, self.vm, "suspend")

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).suspend(ctx.actor)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmResume(VmAction):
    """Resume a suspended VM."""

    keyword: ClassVar[str] = "vm_resume"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.RESUME,)

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).resume()


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmSave(VmAction):
    """Save a running VM's state (2013 API); blocks the actor until the RAM is written."""

    keyword: ClassVar[str] = "vm_save"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.SAVE, Op.SAVE_DONE)

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)
        walk.from_outside(self, self.vm, "save")

    def run(self, ctx: ReplayContext) -> Steps:
        yield ctx.sim.vm(self.vm).save(ctx.actor)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmRestore(VmAction):
    """Restore a saved VM (2013 API); blocks the actor until the RAM is read back."""

    keyword: ClassVar[str] = "vm_restore"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.RESTORE, Op.RESTORE_DONE)

    def run(self, ctx: ReplayContext) -> Steps:
        yield ctx.sim.vm(self.vm).restore()


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmShutdown(VmAction):
    """Shut a VM down, killing its actors."""

    keyword: ClassVar[str] = "vm_shutdown"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.SHUTDOWN,)

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)
        walk.from_outside(self, self.vm, "shut down")

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).shutdown(ctx.actor)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmDestroy(VmAction):
    """Destroy a VM."""

    keyword: ClassVar[str] = "vm_destroy"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.DESTROY,)

    def check(self, walk: TraceCheck) -> None:
        walk.vm(self, self.vm, self.operations)
        walk.from_outside(self, self.vm, "destroy")

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).destroy(ctx.actor)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmMigrate(VmAction):
    """Live-migrate ``vm`` to PM ``dst``; blocks the actor until the migration ends."""

    keyword: ClassVar[str] = "vm_migrate"
    usage: ClassVar[str] = "<vm> <dst_pm>"
    operations: ClassVar[tuple[VmOperation, ...]] = (Op.MIGRATE, Op.MIGRATE_DONE)
    dst: str

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], args[1], **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> Steps:
        yield ctx.sim.migrate_vm(ctx.sim.vm(self.vm), self.dst, ctx.actor)

    def check(self, walk: TraceCheck) -> None:
        walk.platform_host(self, self.dst, "dst_pm")
        walk.vm(self, self.vm, self.operations)
        walk.moved(self, self.vm, self.dst)

    def _args(self) -> tuple[str, ...]:
        return (self.vm, self.dst)


@ACTIONS.declare
@dataclass(frozen=True, slots=True)
class VmSetBound(VmAction):
    """Cap the VM's CPU rate at ``bound`` flop/s; None (written 0) removes the cap."""

    keyword: ClassVar[str] = "vm_set_bound"
    usage: ClassVar[str] = "<vm> <flops/s>"
    bound: FlopsPerSecond | None

    @classmethod
    def parse(cls, p: Place, args: list[str]) -> Self:
        return cls(args[0], p.quantity(args[1], "speed", "bound") or None, **p.origin)  # type: ignore[arg-type]

    def run(self, ctx: ReplayContext) -> None:
        ctx.sim.vm(self.vm).set_bound(self.bound if self.bound else math.inf)

    def _args(self) -> tuple[str, ...]:
        return (self.vm, "0" if self.bound is None else number_text(self.bound))
