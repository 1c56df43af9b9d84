"""The host properties the model uses, read once at load time into typed fields of :class:`~replay.platform.Host`.

A host's ``<prop>`` children (and, for a cluster node, its cluster's) stay in ``Host.properties`` as text. The
few that the simulation itself reads are also parsed here, when the platform is loaded, so that a malformed value
is a :class:`~replay.errors.PlatformError` naming the ``<prop>``'s file:line rather than a failure in the middle of
a run, and so that the model reads numbers, not strings:

=================  =====================  ==========================================================
property           ``Host`` field         value
=================  =====================  ==========================================================
``ramsize``        ``ramsize``            bytes, a SimGrid size (``16GiB``), positive
``disk_bandwidth`` ``disk_bandwidth``     bytes/s, a SimGrid bandwidth (``100MBps``), positive
``overcommit``     ``overcommit``         ``true``/``yes``/``1`` or ``false``/``no``/``0``, any case
=================  =====================  ==========================================================

A property that is absent leaves the field at its default (None, or False). Adding a typed property is adding a
row to :data:`HOST_PROPERTIES` and the field to ``Host``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Any, NamedTuple

from replay.platform.attribute_values import parse_flag, parse_quantity
from replay.units import parse_bandwidth, parse_size

__all__ = ["HOST_PROPERTIES", "HostProperty", "read_host_properties"]


class HostProperty(NamedTuple):
    """How one property becomes one field: ``parse(text, what, at)`` returns the value or raises a PlatformError."""

    field: str
    parse: Callable[[str, str, str], Any]


HOST_PROPERTIES: dict[str, HostProperty] = {
    "ramsize": HostProperty("ramsize", partial(parse_quantity, parse_size, positive=True)),
    "disk_bandwidth": HostProperty("disk_bandwidth", partial(parse_quantity, parse_bandwidth, positive=True)),
    "overcommit": HostProperty("overcommit", parse_flag),
}
"""Property name -> the ``Host`` field it fills and its parser."""


def read_host_properties(properties: Mapping[str, str], owner: str, at: Callable[[str], str]) -> dict[str, Any]:
    """Return the typed ``Host`` fields given by ``properties``, as keyword arguments for ``Host``.

    ``owner`` names the element that holds them in messages (``"host 'a'"``, ``"cluster 'c'"``); ``at(name)``
    is the ``file:line: `` prefix of the ``<prop>`` called ``name``.
    """
    fields: dict[str, Any] = {}
    for name, (field, parse) in HOST_PROPERTIES.items():
        text = properties.get(name)
        if text is not None:
            fields[field] = parse(text, f"property '{name}' of {owner}", at(name))
    return fields
