"""SimGrid's physical quantities: the unit aliases used across the project and the parsers of unit strings.

Platform files and action traces write quantities as a number glued to a unit: ``98.095Mf`` (flop/s),
``41.279125MBps`` (bytes per second), ``59.904us`` (seconds), ``1GiB`` (bytes). The accepted units are exactly
those of SimGrid 3.32 (``src/xbt/xbt_parse_units.cpp``), with the same case rules, because a file that loads here
must load in SimGrid too and mean the same thing:

* speed and amounts of work: ``f`` with a decimal prefix ``k M G T P E Z Y`` (``Gf`` = 1e9), or ``flops`` with a
  spelled-out prefix ``kilo mega giga tera peta exa zeta yotta`` (``gigaflops``; SimGrid spells 1e21 ``zeta``).
  ``Mflops`` or ``GF`` are *not* units.
* bandwidth: ``Bps`` with a decimal prefix (``kBps``, ``MBps``, ...; the kilo is a lower-case ``k``) or a binary
  one (``KiBps`` = 1024 Bps, ``MiBps``, ...), and the same in bits, worth 1/8 byte: ``bps``, ``kbps``, ``Mbps``,
  ``Gbps``, ``Kibps``, ``Mibps``, ...
* size: ``B`` and ``b`` (bit, 1/8 byte) with the same prefixes: ``kB``, ``MB``, ``KiB``, ``GiB``, ``kb``, ``Mib``.
* time: ``w d h m s ms us ns ps``, no other prefix.

The number is read as C's ``strtod`` reads it (leading blanks, sign, decimal or hexadecimal notation, exponent);
the unit is the rest of the text, matched exactly (a trailing blank makes the unit unknown, as in SimGrid).

A number without unit: SimGrid 3.32 accepts it in platform files with a "deprecated unit-less value" warning and
takes the base unit (f, Bps, B, s); zero is silent. :func:`parse_speed` and its siblings do the same and emit a
:class:`UnitWarning`. Action traces accept bare numbers as a matter of course (``compute 1e9``), which
:func:`parse_quantity` does by default.

Two deliberate departures, both errors rather than silent nonsense: a negative value, and a value that is not
finite (``inf``, ``nan``) or that overflows. SimGrid parses these and fails later or computes garbage.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Literal, TypeAlias

from replay.errors import UnitError

__all__ = [
    "Bytes",
    "BytesPerSecond",
    "Flops",
    "FlopsPerSecond",
    "Joules",
    "QuantityKind",
    "Seconds",
    "UnitWarning",
    "Watts",
    "parse_bandwidth",
    "parse_energy",
    "parse_number",
    "parse_power",
    "parse_quantity",
    "parse_size",
    "parse_speed",
    "parse_time",
    "unit_table",
]

Seconds: TypeAlias = float
"""A duration or a date of simulated time, in seconds."""

Flops: TypeAlias = float
"""An amount of computation, in floating-point operations."""

FlopsPerSecond: TypeAlias = float
"""A computing speed, in floating-point operations per second (flop/s)."""

Bytes: TypeAlias = float
"""An amount of data, in bytes (a float: SimGrid's sizes are doubles)."""

BytesPerSecond: TypeAlias = float
"""A bandwidth, in bytes per second."""

Watts: TypeAlias = float
"""A power, in watts."""

Joules: TypeAlias = float
"""An energy, in joules."""

QuantityKind = Literal["speed", "flops", "bandwidth", "size", "time", "power", "energy"]
"""What a quantity measures; ``flops`` (an amount of work) uses the same units as ``speed``."""


class UnitWarning(UserWarning):
    """A quantity written without a unit where SimGrid expects one (it still loads, in the base unit)."""


_DECIMAL = ("k", "M", "G", "T", "P", "E", "Z", "Y")
_DECIMAL_WORDS = ("kilo", "mega", "giga", "tera", "peta", "exa", "zeta", "yotta")
_BINARY = ("Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi")


def _family(table: dict[str, float], unit: str, value: float, prefixes: tuple[str, ...], factor: float) -> None:
    """Add ``unit`` and its prefixed forms; an entry already present keeps its value (as SimGrid's tables do).

    Each prefix multiplies the previous value by ``factor``, the way SimGrid computes its tables, so the
    floating-point values are bit for bit SimGrid's.
    """
    table.setdefault(unit, value)
    for prefix in prefixes:
        value *= factor
        table.setdefault(prefix + unit, value)


def _build_tables() -> dict[str, dict[str, float]]:
    speed: dict[str, float] = {}
    _family(speed, "f", 1.0, _DECIMAL, 1000.0)
    _family(speed, "flops", 1.0, _DECIMAL_WORDS, 1000.0)
    bandwidth: dict[str, float] = {}
    _family(bandwidth, "bps", 0.125, _BINARY, 1024.0)
    _family(bandwidth, "bps", 0.125, _DECIMAL, 1000.0)
    _family(bandwidth, "Bps", 1.0, _BINARY, 1024.0)
    _family(bandwidth, "Bps", 1.0, _DECIMAL, 1000.0)
    size: dict[str, float] = {}
    _family(size, "b", 0.125, _BINARY, 1024.0)
    _family(size, "b", 0.125, _DECIMAL, 1000.0)
    _family(size, "B", 1.0, _BINARY, 1024.0)
    _family(size, "B", 1.0, _DECIMAL, 1000.0)
    time = {
        "w": 7.0 * 24 * 60 * 60,
        "d": 24.0 * 60 * 60,
        "h": 60.0 * 60,
        "m": 60.0,
        "s": 1.0,
        "ms": 1e-3,
        "us": 1e-6,
        "ns": 1e-9,
        "ps": 1e-12,
    }
    power = {"mW": 1e-3, "W": 1.0, "kW": 1e3, "MW": 1e6, "GW": 1e9}
    energy = {"mJ": 1e-3, "J": 1.0, "kJ": 1e3, "MJ": 1e6, "GJ": 1e9, "Wh": 3600.0, "kWh": 3.6e6, "MWh": 3.6e9}
    return {
        "speed": speed, "flops": speed, "bandwidth": bandwidth, "size": size, "time": time, "power": power,
        "energy": energy,
    }


_TABLES = _build_tables()
_DEFAULT_UNIT = {"speed": "f", "flops": "f", "bandwidth": "Bps", "size": "B", "time": "s", "power": "W",
                 "energy": "J"}
_ALLOWED = {
    "speed": "'f' with a decimal prefix (f, kf, Mf, Gf, Tf, Pf, Ef, Zf, Yf) or 'flops' with a spelled-out one "
    "(flops, kiloflops, megaflops, gigaflops, teraflops, petaflops, exaflops, zetaflops, yottaflops)",
    "bandwidth": "'Bps' with a decimal prefix (Bps, kBps, MBps, GBps, TBps, ...) or a binary one (KiBps, MiBps, "
    "GiBps, ...), or the same in bits (bps, kbps, Mbps, Gbps, ..., Kibps, Mibps, Gibps, ...)",
    "size": "'B' with a decimal prefix (B, kB, MB, GB, TB, ...) or a binary one (KiB, MiB, GiB, ...), or the same "
    "in bits (b, kb, Mb, ..., Kib, Mib, ...)",
    "time": "w, d, h, m, s, ms, us, ns, ps",
    "power": "mW, W, kW, MW, GW",
    "energy": "mJ, J, kJ, MJ, GJ, Wh, kWh, MWh",
}
_ALLOWED["flops"] = _ALLOWED["speed"]
_HINT = {
    "speed": "append 'f' to get flop/s",
    "flops": "append 'f' to get flops",
    "bandwidth": "append 'Bps' to get bytes per second (or 'bps' for bits: 1Bps = 8bps)",
    "size": "append 'B' to get bytes (or 'b' for bits: 1B = 8b)",
    "time": "append 's' to get seconds",
    "power": "append 'W' to get watts",
    "energy": "append 'J' to get joules",
}

# What strtod reads, in this order: hexadecimal, decimal, and the non-finite words (rejected below).
_BLANKS = " \t\n\v\f\r"
_HEX = re.compile(r"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?")
_DEC = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_NONFINITE = re.compile(r"[+-]?(?:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)", re.IGNORECASE)


def unit_table(kind: QuantityKind) -> dict[str, float]:
    """Return a copy of the units accepted for ``kind``, each with its value in the base unit (f, Bps, B, s)."""
    return dict(_TABLES[_check_kind(kind)])


def _check_kind(kind: str) -> str:
    if kind not in _TABLES:
        raise ValueError(f"unknown quantity kind {kind!r}; expected one of {', '.join(_TABLES)}")
    return kind


def _split(text: str) -> tuple[float, str, bool] | None:
    """Split ``text`` into the number that strtod would read and the rest; None when there is no number.

    The flag tells a written ``inf`` or ``nan`` apart from a number too large for a double.
    """
    start = len(text) - len(text.lstrip(_BLANKS))
    if m := _HEX.match(text, start):
        body = m.group()
        sign = -1.0 if body[0] == "-" else 1.0
        digits = body.lstrip("+-")
        if "p" not in digits.lower():
            digits += "p0"
        try:
            number = float.fromhex(digits)
        except OverflowError:  # beyond the largest double, as strtod says with HUGE_VAL
            number = math.inf
        return sign * number, text[m.end() :], False
    if m := _DEC.match(text, start):
        return float(m.group()), text[m.end() :], False
    if m := _NONFINITE.match(text, start):
        return float(m.group().split("(")[0]), text[m.end() :], True
    return None


def _parse(text: str, kind: str, context: str, bare: Literal["warn", "accept", "error"]) -> float:
    if not isinstance(text, str):
        raise UnitError(f"{context}{kind} must be a string such as '1{_DEFAULT_UNIT[kind]}', got {text!r}")
    split = _split(text)
    if split is None:
        raise UnitError(
            f"{context}cannot read {kind} '{text}': expected a number followed by a unit, one of {_ALLOWED[kind]}"
        )
    number, unit, word = split
    if word:
        raise UnitError(f"{context}{kind} '{text}' is not a finite number")
    if unit == "":
        if number != 0 and bare != "accept":
            message = f"{context}{kind} '{text}' has no unit; {_HINT[kind]}"
            if bare == "error":
                raise UnitError(f"{message}. Allowed units: {_ALLOWED[kind]}")
            warnings.warn(f"{message} (taken as '{text}{_DEFAULT_UNIT[kind]}')", UnitWarning, stacklevel=3)
        unit = _DEFAULT_UNIT[kind]
    scale = _TABLES[kind].get(unit)
    if scale is None:
        raise UnitError(f"{context}unknown unit '{unit}' in {kind} '{text}'; allowed units: {_ALLOWED[kind]}")
    value = number * scale
    if math.isinf(value) or (number == 0.0 and _nonzero_mantissa(text)):
        raise UnitError(f"{context}{kind} '{text}' is out of the range of a double")
    if value < 0:
        raise UnitError(f"{context}{kind} '{text}' is negative; expected a value >= 0")
    return value + 0.0  # turns -0.0 into 0.0


def _nonzero_mantissa(text: str) -> bool:
    """True when the written number has a non-zero digit, i.e. a zero result is an underflow."""
    head = text.lstrip(_BLANKS).lstrip("+-")
    if head[:2].lower() == "0x":
        return any(c not in "0." for c in re.split(r"[pP]", head[2:])[0])
    return any(c in "123456789" for c in re.split(r"[eE]", head)[0])


def parse_number(text: str, what: str, context: str = "") -> float:
    """Read a plain number as SimGrid's ``xbt_str_parse_double`` does (strtod over the whole text: decimal or
    hexadecimal, no unit, no ``_`` separators), refusing what is not finite. Negative numbers are returned."""
    split = _split(text) if isinstance(text, str) else None
    if split is None or split[1] != "":
        raise UnitError(f"{context}{what} '{text}' is not a number")
    number, _, word = split
    if word or not math.isfinite(number):
        raise UnitError(f"{context}{what} '{text}' is not a finite number")
    return number + 0.0


def parse_speed(text: str, context: str = "") -> FlopsPerSecond:
    """Read a computing speed such as ``98.095Mf`` or ``1gigaflops`` and return it in flop/s.

    ``context`` is put before the message of any error or warning (for instance ``"platform.xml:12: "``).
    A number without unit is taken in ``f`` with a :class:`UnitWarning`, as SimGrid does in platform files.
    """
    return _parse(text, "speed", context, "warn")


def parse_bandwidth(text: str, context: str = "") -> BytesPerSecond:
    """Read a bandwidth such as ``41.279125MBps``, ``1.25GiBps`` or ``10Gbps`` and return it in bytes/s.

    Bit units count 1/8 byte: ``10Gbps`` is 1.25e9 B/s. A bare number is taken in Bps with a :class:`UnitWarning`.
    """
    return _parse(text, "bandwidth", context, "warn")


def parse_time(text: str, context: str = "") -> Seconds:
    """Read a duration such as ``59.904us``, ``30ms`` or ``2h`` and return it in seconds.

    A bare number is taken in seconds with a :class:`UnitWarning`.
    """
    return _parse(text, "time", context, "warn")


def parse_size(text: str, context: str = "") -> Bytes:
    """Read an amount of data such as ``1GiB``, ``500kB`` or ``8Mb`` (bits) and return it in bytes.

    A bare number is taken in bytes with a :class:`UnitWarning`.
    """
    return _parse(text, "size", context, "warn")


def parse_power(text: str, context: str = "") -> Watts:
    """Read a power such as ``100``, ``120.5W`` or ``1.2kW`` and return it in watts (our units; SimGrid reads bare
    numbers, which are watts and raise no warning here)."""
    return _parse(text, "power", context, "accept")


def parse_energy(text: str, context: str = "") -> Joules:
    """Read an energy such as ``3600``, ``3.6kJ`` or ``1kWh`` and return it in joules (bare numbers: joules)."""
    return _parse(text, "energy", context, "accept")


def parse_quantity(text: str, kind: QuantityKind, *, default_unit_ok: bool = True, context: str = "") -> float:
    """Read a quantity of the given kind and return it in the base unit (f, flops, Bps, B or s).

    With ``default_unit_ok`` (the default, for action traces) a bare number such as ``1e9`` is taken in the base
    unit silently; without it, a bare non-zero number is a :class:`UnitError`.
    """
    return _parse(text, _check_kind(kind), context, "accept" if default_unit_ok else "error")
