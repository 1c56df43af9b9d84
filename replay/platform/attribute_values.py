"""Read the values of platform attributes and properties: whole numbers, quantities, speed lists, policies, flags.

Every reader takes the text, what it is (``"bandwidth of link 'l'"``, ``"property 'ramsize' of host 'a'"``) and
the ``file:line: `` prefix of the element it comes from, and either returns a typed value or raises a one-line
:class:`~replay.errors.PlatformError` that names the place, the value's role, what was expected and what was
found. Quantities go through :mod:`replay.units`, so they take SimGrid 3.32's units and refuse negative and
non-finite numbers; a :class:`~replay.errors.UnitError` becomes a ``PlatformError`` here.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable

from replay.errors import PlatformError, UnitError
from replay.units import parse_speed

__all__ = [
    "PlatformWarning",
    "parse_cores",
    "parse_flag",
    "parse_quantity",
    "parse_speeds",
    "parse_whole",
    "sharing_policy",
]


class PlatformWarning(UserWarning):
    """Something SimGrid accepts with a deprecation warning (the platform still loads)."""


_WHOLE = re.compile(r"\s*[+-]?[0-9]+(?:\.0*)?\s*")

_FLAGS = {"true": True, "yes": True, "1": True, "false": False, "no": False, "0": False}


def parse_whole(text: str, what: str, at: str) -> int:
    """Read a whole number the way SimGrid's ``stoi`` reads its attributes (``"0.0"`` is 0)."""
    if not _WHOLE.fullmatch(text):
        raise PlatformError(f"{at}{what} '{text}' is not a whole number")
    return int(text.strip().split(".")[0])


def parse_quantity(parse: Callable[[str, str], float], text: str, what: str, at: str, *, positive: bool) -> float:
    """Read a quantity with one of the :mod:`replay.units` parsers; with ``positive``, zero is refused too."""
    try:
        value = parse(text, f"{at}{what}: ")
    except UnitError as exc:
        raise PlatformError(str(exc)) from None
    if positive and value <= 0:
        raise PlatformError(f"{at}{what} must be positive, found '{text}'")
    return value


def parse_speeds(text: str, what: str, at: str) -> tuple[float, ...]:
    """Read SimGrid's comma-separated list of speeds, one per power state, in flop/s."""
    values = []
    for piece in text.split(","):
        try:
            values.append(parse_speed(piece.strip(), f"{at}{what}: "))
        except UnitError as exc:
            raise PlatformError(str(exc)) from None
    return tuple(values)


MAX_CORES = 2**31 - 1
"""SimGrid reads a core count with ``std::stoi``: no more than a C ``int`` holds."""


def parse_cores(text: str, name: str, at: str, speeds: tuple[float, ...] = ()) -> int:
    """Read the core count of host (or cluster) ``name``: a whole number from 1 to :data:`MAX_CORES`, such that
    every speed of ``speeds`` times it (the host's capacity) is a finite number."""
    cores = parse_whole(text, f"core count of '{name}'", at)
    if cores < 1:
        raise PlatformError(f"{at}core count of '{name}' must be at least 1, found '{text}'")
    if cores > MAX_CORES:
        raise PlatformError(f"{at}core count of '{name}' must be at most {MAX_CORES}, found '{text}'")
    if speeds and not max(speeds) * cores < math.inf:
        raise PlatformError(f"{at}core count {cores} of '{name}' times its speed {max(speeds):g} overflows")
    return cores


def parse_flag(text: str, what: str, at: str) -> bool:
    """Read a yes/no property: ``true``, ``yes``, ``1`` or ``false``, ``no``, ``0``, in any case."""
    value = _FLAGS.get(text.lower())
    if value is None:
        raise PlatformError(f"{at}{what} must be true or false (or yes/no, 1/0), found '{text}'")
    return value


def sharing_policy(text: str, owner: str, at: str) -> str:
    """Read the ``sharing_policy`` of ``owner`` (``"link 'l'"``, ``"cluster 'c'"``): SHARED, FATPIPE or SPLITDUPLEX.

    FULLDUPLEX is SimGrid's deprecated name for SPLITDUPLEX: accepted with a :class:`PlatformWarning`.
    """
    if text == "FULLDUPLEX":
        warnings.warn(
            f"{at}FULLDUPLEX ({owner}) is deprecated: SimGrid reads it as SPLITDUPLEX", PlatformWarning, stacklevel=3
        )
        return "SPLITDUPLEX"
    if text not in ("SHARED", "FATPIPE", "SPLITDUPLEX"):
        raise PlatformError(f"{at}sharing_policy of {owner} must be SHARED, FATPIPE or SPLITDUPLEX, found '{text}'")
    return text
