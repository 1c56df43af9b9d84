"""The immutable records of a platform: hosts, links, zones, and the model's implicit loopback link.

These are the leaves of :mod:`replay.platform`: plain frozen dataclasses that import nothing from the package but
the :class:`~replay.platform.profiles.Profile` record (itself a leaf), so
that the routing (:mod:`replay.platform.routing`), the loader and the :class:`~replay.platform.Platform` that
answers routes can all use them without importing one another. They carry what the platform file says, read and
checked once by the loader; nothing here parses text or changes during a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from replay.platform.profiles import Profile
from replay.units import Bytes, BytesPerSecond, FlopsPerSecond, Seconds, Watts

__all__ = ["LOOPBACK_BANDWIDTH", "LOOPBACK_LATENCY", "LOOPBACK_NAME", "Host", "Link", "PowerRange", "Zone"]

LOOPBACK_NAME = "__loopback__"
"""Name of the network model's implicit loopback link (SimGrid's, for LV08 and CM02)."""

LOOPBACK_BANDWIDTH: BytesPerSecond = 10e9
"""Bandwidth of the implicit loopback: SimGrid 3.32's ``network/loopback-bw`` default, 10 GB/s."""

LOOPBACK_LATENCY: Seconds = 0.0
"""Latency of the implicit loopback: SimGrid 3.32's ``network/loopback-lat`` default."""


@dataclass(frozen=True, slots=True)
class PowerRange:
    """The watts a host draws in one power state: ``idle`` with nothing to do, ``epsilon`` as soon as it computes
    at all, ``all_cores`` at full load (SimGrid's ``Idle:Epsilon:AllCores``)."""

    idle: Watts
    epsilon: Watts
    all_cores: Watts

    def at(self, load: float) -> Watts:
        """The power at ``load`` (0 to 1): idle at 0, else epsilon + load x (all_cores - epsilon)."""
        return self.epsilon + load * (self.all_cores - self.epsilon) if load > 0 else self.idle


@dataclass(frozen=True, slots=True)
class Host:
    """A physical machine.

    ``speed`` is the flop/s of *one* core in the initial power state (``pstate``, 0 unless the platform says
    otherwise); the host computes at most ``cores x speed`` flop/s in total. ``pstate_speeds`` lists the speed of
    one core in every power state (SimGrid's comma-separated ``speed`` attribute). ``zone`` is the id of the zone
    that declares the host. ``properties`` are the ``<prop>`` children (and, for a cluster node, its cluster's).

    ``ramsize`` (bytes, the memory VMs may use), ``disk_bandwidth`` (bytes/s, for saving and restoring VMs),
    ``overcommit`` (whether VMs may ask for more than ``ramsize``), ``wattages`` (one :class:`PowerRange` per power
    state; empty: no energy profile), ``wattage_off``, ``boot_delay`` (seconds a host switched on by a policy takes
    to boot; 0: at once) and ``wattage_boot`` (watts drawn while booting; None: the idle watts of its power state)
    are the typed values of the properties of the same names,
    read once by the loader (:mod:`replay.platform.properties`). Like ``properties``, they take no part in
    equality and hashing.

    ``speed_profile`` (values: ratios of the peak speed of the current power state) and ``state_profile``
    (values: 0 turns the host off, anything else on) are its availability and state profiles
    (:class:`~replay.platform.profiles.Profile`, ``docs/profiles.md``), from ``speed_file`` (or the deprecated
    ``availability_file``), ``state_file`` or a ``<trace_connect>``; None: the host keeps its speed and stays on.
    """

    name: str
    speed: FlopsPerSecond
    cores: int = 1
    properties: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    zone: str = ""
    pstate_speeds: tuple[FlopsPerSecond, ...] = ()
    pstate: int = 0
    ramsize: Bytes | None = field(default=None, compare=False)
    disk_bandwidth: BytesPerSecond | None = field(default=None, compare=False)
    overcommit: bool = field(default=False, compare=False)
    wattages: tuple[PowerRange, ...] = field(default=(), compare=False)
    wattage_off: Watts = field(default=0.0, compare=False)
    boot_delay: Seconds = field(default=0.0, compare=False)
    wattage_boot: Watts | None = field(default=None, compare=False)
    speed_profile: Profile | None = field(default=None, compare=False)
    state_profile: Profile | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Link:
    """A network link: ``bandwidth`` in bytes/s, ``latency`` in seconds.

    ``policy`` is ``"SHARED"`` (flows share the bandwidth) or ``"FATPIPE"`` (each flow may use all of it). A
    SPLITDUPLEX link of the platform file is two SHARED links here, ``<id>_UP`` and ``<id>_DOWN``.
    ``wattage_range`` (idle and busy watts; None: no energy profile) and ``wattage_off`` are typed properties
    (:mod:`replay.platform.properties`).

    ``bandwidth_profile`` (values: bytes/s, replacing ``bandwidth``), ``latency_profile`` (values: seconds,
    replacing ``latency``) and ``state_profile`` (0 off, anything else on) come from ``bandwidth_file``,
    ``latency_file`` and ``state_file`` (:class:`~replay.platform.profiles.Profile`, ``docs/profiles.md``). The
    two halves of a SPLITDUPLEX link share the link's profiles, as in SimGrid. None: the value never changes.
    """

    name: str
    bandwidth: BytesPerSecond
    latency: Seconds = 0.0
    policy: Literal["SHARED", "FATPIPE"] = "SHARED"
    properties: dict[str, str] = field(default_factory=dict, compare=False, hash=False)
    wattage_range: tuple[Watts, Watts] | None = field(default=None, compare=False)
    wattage_off: Watts = field(default=0.0, compare=False)
    bandwidth_profile: Profile | None = field(default=None, compare=False)
    latency_profile: Profile | None = field(default=None, compare=False)
    state_profile: Profile | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Zone:
    """A zone (SimGrid's netzone): its routing kind, its sub-zones, and the hosts, links, routers it declares.

    ``routing`` is one of Full, Floyd, Dijkstra, DijkstraCache, None, or Cluster (for a ``<cluster>``).
    ``parent`` is the id of the englobing zone (None for the root). Host, link and router names are those
    declared directly in this zone, in document order.
    """

    id: str
    routing: str
    parent: str | None = None
    children: tuple[Zone, ...] = ()
    hosts: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    routers: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def walk(self) -> list[Zone]:
        """This zone and all its sub-zones, depth first, in document order."""
        result = [self]
        for child in self.children:
            result.extend(child.walk())
        return result
