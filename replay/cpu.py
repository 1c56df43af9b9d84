"""CPU model (SimGrid's Cas01): a host is one shared resource; an execution is one variable on it.

A host of ``cores`` cores at ``speed`` flop/s per core offers ``cores x speed`` flop/s in all. An execution of
priority ``p`` is a variable of sharing penalty ``1 / p`` bounded by one core's speed (and by the caller's bound),
so on a 4-core host two executions each get a full core, and six share the four cores equally (4/6 of a core
each); an execution of priority 2 next to one of priority 1 on a single core gets 2/3 of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from replay.engine import Activity, Resource
from replay.events import ResourceKind
from replay.units import Flops, FlopsPerSecond


def cpu_resource(name: str, speed: FlopsPerSecond, cores: int, *, layer: int = 0) -> Resource:
    """The shared resource standing for all the cores of a host (or of a VM, on layer 1)."""
    return Resource(name, speed * cores, shared=True, layer=layer, kind=ResourceKind.VM if layer else ResourceKind.HOST)


def on_cpu(cpu: Resource) -> tuple[tuple[Resource, float]]:
    """What an execution (or a VM's share) on ``cpu`` uses: the CPU, at weight 1. A host makes it once and
    gives it to every activity on it, rather than two tuples (104 bytes) per activity."""
    return ((cpu, 1.0),)


def execution(
    name: str,
    uses: tuple[tuple[Resource, float]],
    core_speed: FlopsPerSecond,
    flops: Flops,
    *,
    priority: float = 1.0,
    bound: FlopsPerSecond = math.inf,
    on_done: Callable[[Activity], None] | None = None,
) -> Activity:
    """An activity computing ``flops`` on a host's CPU (``uses``: :func:`on_cpu` of it), one core at most,
    weighted by ``priority``."""
    if priority <= 0:
        raise ValueError(f"an execution's priority must be positive, got {priority!r}")
    return Activity(
        name,
        flops,
        uses,
        penalty=1.0 if priority == 1.0 else 1.0 / priority,  # no new float for the common priority
        bound=min(core_speed, bound),
        on_done=on_done,
    )
