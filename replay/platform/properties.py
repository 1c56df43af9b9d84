"""The properties the model uses, read once at load time into typed fields of hosts and links.

A host's or link's ``<prop>`` children (and, for a cluster node, its cluster's) stay in ``properties`` as text.
The few that the simulation itself reads are also parsed here, when the platform is loaded, so that a malformed
value is a :class:`~replay.errors.PlatformError` naming the ``<prop>``'s file:line rather than a failure in the
middle of a run, and so that the model reads numbers, not strings:

=====================  ====  =====================  ===================================================================
property               on    field                  value
=====================  ====  =====================  ===================================================================
``ramsize``            host  ``ramsize``            bytes, a SimGrid size (``16GiB``), positive
``disk_bandwidth``     host  ``disk_bandwidth``     bytes/s, a SimGrid bandwidth (``100MBps``), positive
``overcommit``         host  ``overcommit``         ``true``/``yes``/``1`` or ``false``/``no``/``0``, any case
``wattage_per_state``  host  ``wattages``           one ``Idle:Epsilon:AllCores`` (or ``Idle:AllCores``, Epsilon = Idle)
                                                    per power state, comma-separated, in watts (SimGrid's host energy
                                                    plugin); as many as the host has speeds
``wattage_off``        host  ``wattage_off``        watts drawn when the host is off
``boot_delay``         host  ``boot_delay``         seconds, a SimGrid time (``150s``, ``2m``), >= 0: how long the host
                                                    takes to boot when a policy switches it on (our extension)
``wattage_boot``       host  ``wattage_boot``       watts drawn while it boots (our extension; default: its idle watts)
``wattage_range``      link  ``wattage_range``      ``Idle:Busy`` watts (SimGrid's link energy plugin; its old name
                                                    ``watt_range`` is read too)
``wattage_off``        link  ``wattage_off``        watts drawn when the link is off
=====================  ====  =====================  ===================================================================

Wattages are plain numbers of watts as SimGrid reads them, or quantities with a unit (``120W``, ``1.2kW``); they
must be finite and non-negative. A property that is absent leaves the field at its default (None, an empty
tuple, 0 or False). Adding a typed property is adding a row to a table below and the field to the element.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, NamedTuple

from replay.errors import PlatformError, UnitError
from replay.platform.attribute_values import parse_flag, parse_quantity
from replay.platform.elements import PowerRange
from replay.units import Watts, parse_bandwidth, parse_power, parse_size, parse_time

__all__ = ["HOST_PROPERTIES", "LINK_PROPERTIES", "Property", "read_host_properties", "read_link_properties"]


class Property(NamedTuple):
    """How one property becomes one field: ``parse(text, what, at)`` returns the value or raises a PlatformError."""

    field: str
    parse: Callable[[str, str, str], Any]


def _watts(text: str, what: str, at: str) -> Watts:
    try:
        value = parse_power(text.strip(), f"{at}{what}: ")
    except UnitError as error:
        raise PlatformError(str(error)) from None
    return value


def _delay(text: str, what: str, at: str) -> float:
    value = parse_quantity(parse_time, text, what, at, positive=False)
    if not 0 <= value < math.inf:
        raise PlatformError(f"{at}{what}: expected a finite duration >= 0, found '{text}'")
    return value


def _levels(text: str, what: str, at: str, counts: Sequence[int], names: str) -> list[tuple[Watts, ...]]:
    """Comma-separated groups of ``:``-separated wattages, each group of one of ``counts`` values."""
    groups = []
    for index, group in enumerate(text.split(",")):
        values = group.split(":")
        if len(values) not in counts:
            raise PlatformError(f"{at}{what}: expected {names} in each comma-separated part, found '{group}' "
                                f"(part {index + 1})")
        groups.append(tuple(_watts(value, what, at) for value in values))
    return groups


def _wattage_per_state(text: str, what: str, at: str) -> tuple[PowerRange, ...]:
    ranges = []
    for values in _levels(text, what, at, (2, 3), "Idle:Epsilon:AllCores or Idle:AllCores watts"):
        idle, epsilon, all_cores = (values[0], values[0], values[1]) if len(values) == 2 else values
        ranges.append(PowerRange(idle, epsilon, all_cores))
    return tuple(ranges)


def _wattage_range(text: str, what: str, at: str) -> tuple[Watts, Watts]:
    groups = _levels(text, what, at, (2,), "Idle:Busy watts")
    if len(groups) != 1:
        raise PlatformError(f"{at}{what}: expected one Idle:Busy pair, found {len(groups)}")
    idle, busy = groups[0]
    return idle, busy


HOST_PROPERTIES: dict[str, Property] = {
    "ramsize": Property("ramsize", partial(parse_quantity, parse_size, positive=True)),
    "disk_bandwidth": Property("disk_bandwidth", partial(parse_quantity, parse_bandwidth, positive=True)),
    "overcommit": Property("overcommit", parse_flag),
    "wattage_per_state": Property("wattages", _wattage_per_state),
    "wattage_off": Property("wattage_off", _watts),
    "boot_delay": Property("boot_delay", _delay),
    "wattage_boot": Property("wattage_boot", _watts),
}
"""Host property name -> the ``Host`` field it fills and its parser."""

LINK_PROPERTIES: dict[str, Property] = {
    "wattage_range": Property("wattage_range", _wattage_range),
    "watt_range": Property("wattage_range", _wattage_range),
    "wattage_off": Property("wattage_off", _watts),
}
"""Link property name -> the ``Link`` field it fills and its parser."""


def _read(
    table: Mapping[str, Property], properties: Mapping[str, str], owner: str, at: Callable[[str], str]
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, (field, parse) in table.items():
        text = properties.get(name)
        if text is not None and field not in fields:
            fields[field] = parse(text, f"property '{name}' of {owner}", at(name))
    return fields


def read_host_properties(
    properties: Mapping[str, str], owner: str, at: Callable[[str], str], speeds: Sequence[float] = ()
) -> dict[str, Any]:
    """Return the typed ``Host`` fields given by ``properties``, as keyword arguments for ``Host``.

    ``owner`` names the element that holds them in messages (``"host 'a'"``, ``"cluster 'c'"``); ``at(name)``
    is the ``file:line: `` prefix of the ``<prop>`` called ``name``; ``speeds`` are the host's power states, which
    ``wattage_per_state`` must match one for one, as SimGrid requires.
    """
    fields = _read(HOST_PROPERTIES, properties, owner, at)
    wattages = fields.get("wattages")
    if wattages is not None and speeds and len(wattages) != len(speeds):
        raise PlatformError(
            f"{at('wattage_per_state')}property 'wattage_per_state' of {owner} gives {len(wattages)} power "
            f"range(s) for {len(speeds)} power state(s) (speeds): expected one per power state"
        )
    return fields


def read_link_properties(properties: Mapping[str, str], owner: str, at: Callable[[str], str]) -> dict[str, Any]:
    """Return the typed ``Link`` fields given by ``properties`` (see :func:`read_host_properties`)."""
    return _read(LINK_PROPERTIES, properties, owner, at)
