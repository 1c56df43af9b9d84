"""User policies for tests/test_policy_api.py, loaded as ``--policy tests.custom_policy:Class``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from replay.policies import Decision, HostView, Migrate, Policy, PowerOff, View, VmView


class Recorder(Policy):
    """Records what it is shown, and moves every VM that starts on h0 to h1, and the VMs of an overloaded host
    to h2."""

    interval = 100.0
    overload = 0.5
    seen: ClassVar[list[tuple[str, float, str]]] = []

    def __init__(self, **options: str) -> None:
        self.options = options

    def tick(self, view: View) -> Iterable[Decision]:
        Recorder.seen.append(("tick", view.now, ",".join(f"{h.name}={h.utilization:g}" for h in view.hosts.values())))
        return ()

    def vm_started(self, view: View, vm: VmView) -> Iterable[Decision]:
        Recorder.seen.append(("vm_started", view.now, vm.name))
        return [Migrate(vm.name, "h1", "mine")] if vm.host == "h0" else []

    def host_overloaded(self, view: View, host: HostView) -> Iterable[Decision]:
        Recorder.seen.append(("overloaded", view.now, host.name))
        return [Migrate(name, "h2", "hot") for name in host.vms if not view.vms[name].migrating]


class Stubborn(Policy):
    """Switches off a host that holds a VM: refused."""

    interval = 100.0

    def tick(self, view: View) -> Iterable[Decision]:
        return [PowerOff("h0", "why not")]
