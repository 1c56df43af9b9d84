"""SimGrid units: the values of SimGrid 3.32's unit tables, its case rules, bare numbers, and bad input.

Every expected value is derived by hand in the comment or the parameter next to it, from the unit tables of
SimGrid's src/xbt/xbt_parse_units.cpp: decimal prefixes k M G T P E Z Y multiply by 1000 each, binary prefixes
Ki Mi Gi ... by 1024 each, and a bit is 1/8 byte.
"""

from __future__ import annotations

import math
import warnings

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replay.errors import ReplayError, UnitError
from replay.units import (
    UnitWarning,
    parse_bandwidth,
    parse_quantity,
    parse_size,
    parse_speed,
    parse_time,
    unit_table,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("98.095Mf", 98.095e6),  # M = 1e6
        ("76.296Mf", 76.296e6),
        ("1f", 1.0),
        ("2kf", 2e3),
        ("1Gf", 1e9),
        ("1.5Tf", 1.5e12),
        ("1Pf", 1e15),
        ("1Ef", 1e18),
        ("1Zf", 1e21),
        ("1Yf", 1e24),
        ("3flops", 3.0),
        ("1kiloflops", 1e3),
        ("1megaflops", 1e6),
        ("1gigaflops", 1e9),
        ("1teraflops", 1e12),
        ("1zetaflops", 1e21),  # SimGrid spells zetta with one t
        ("0", 0.0),  # zero needs no unit
        ("1e9f", 1e9),
        (".5Gf", 0.5e9),
        ("+2Mf", 2e6),
    ],
)
def test_speed_values(text: str, expected: float) -> None:
    assert parse_speed(text) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("41.279125MBps", 41.279125e6),  # MBps = 1e6 B/s
        ("125MBps", 125e6),
        ("1.25GBps", 1.25e9),
        ("1kBps", 1e3),  # the SI kilo is a lower-case k
        ("1KiBps", 1024.0),
        ("1MiBps", 1024.0**2),
        ("1GiBps", 1024.0**3),  # 1073741824 B/s
        ("8bps", 1.0),  # 8 bits = 1 byte
        ("8kbps", 1e3),  # 8e3 bits/s = 1e3 B/s
        ("10Gbps", 1.25e9),  # 10e9 / 8
        ("100Mbps", 12.5e6),  # 100e6 / 8
        ("1Kibps", 128.0),  # 1024 / 8
        ("1Gibps", 1024.0**3 / 8),
        ("2TBps", 2e12),
        ("1EiBps", 1024.0**6),
    ],
)
def test_bandwidth_values(text: str, expected: float) -> None:
    assert parse_bandwidth(text) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("59.904us", 59.904e-6),  # us = 1e-6 s
        ("514.433us", 514.433e-6),
        ("1.461517ms", 1.461517e-3),
        ("29.5890617ms", 29.5890617e-3),
        ("3s", 3.0),
        ("2m", 120.0),  # m is the minute, not milli
        ("2h", 7200.0),
        ("1d", 86400.0),
        ("1w", 604800.0),  # 7 x 86400
        ("5ns", 5e-9),
        ("7ps", 7e-12),
        ("0s", 0.0),
    ],
)
def test_time_values(text: str, expected: float) -> None:
    assert parse_time(text) == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1B", 1.0),
        ("1kB", 1e3),
        ("1MB", 1e6),
        ("1GB", 1e9),
        ("1KiB", 1024.0),
        ("1MiB", 1024.0**2),
        ("1GiB", 1024.0**3),  # 1073741824 bytes
        ("2TiB", 2 * 1024.0**4),
        ("8b", 1.0),  # 8 bits
        ("1kb", 125.0),  # 1000 bits / 8
        ("1Mib", 1024.0**2 / 8),
    ],
)
def test_size_values(text: str, expected: float) -> None:
    assert parse_size(text) == pytest.approx(expected, rel=1e-15)


def test_exact_values_match_simgrid_tables() -> None:
    # SimGrid builds its tables by repeated multiplication and multiplies the number once: bit-exact here too.
    assert parse_bandwidth("41.279125MBps") == 41.279125 * 1e6
    assert parse_time("59.904us") == 59.904 * 1e-6
    assert parse_speed("98.095Mf") == 98.095 * 1e6
    assert unit_table("bandwidth")["Gbps"] == 0.125 * 1000 * 1000 * 1000


@pytest.mark.parametrize(
    ("parse", "text"),
    [
        (parse_speed, "1GF"),  # unit letters are case-sensitive
        (parse_speed, "1Mflops"),  # 'flops' only takes spelled-out prefixes
        (parse_speed, "1gf"),
        (parse_speed, "1zettaflops"),  # SimGrid's table says 'zeta'
        (parse_bandwidth, "1KBps"),  # upper-case K is not a decimal prefix
        (parse_bandwidth, "1kiBps"),
        (parse_bandwidth, "1MBPS"),
        (parse_bandwidth, "1Mbit"),
        (parse_size, "1KB"),
        (parse_size, "1kiB"),
        (parse_time, "1sec"),
        (parse_time, "1S"),
        (parse_time, "1min"),
        (parse_time, "1kms"),  # no prefixes on time
    ],
)
def test_unknown_units_are_refused(parse, text: str) -> None:
    with pytest.raises(UnitError, match="unknown unit"):
        parse(text)


def test_error_message_quotes_value_lists_units_and_has_context() -> None:
    with pytest.raises(UnitError) as info:
        parse_bandwidth("1KBps", "platform.xml:12: ")
    message = str(info.value)
    assert message.startswith("platform.xml:12: ")
    assert "'1KBps'" in message and "'KBps'" in message
    assert "kBps" in message and "KiBps" in message and "Mbps" in message  # the allowed units


def test_no_number() -> None:
    with pytest.raises(UnitError, match=r"cannot read speed 'Gf': expected a number"):
        parse_speed("Gf")
    with pytest.raises(UnitError, match="cannot read time ''"):
        parse_time("")


def test_blanks_follow_strtod() -> None:
    # strtod skips leading blanks; the unit is the rest of the text, so a blank before or after it is unknown.
    assert parse_time("  2ms") == pytest.approx(2e-3)
    with pytest.raises(UnitError, match="unknown unit ' Gf'"):
        parse_speed("1 Gf")
    with pytest.raises(UnitError, match="unknown unit 'Gf '"):
        parse_speed("1Gf ")


def test_hexadecimal_numbers_as_strtod() -> None:
    assert parse_time("0x10s") == 16.0  # 0x10 = 16
    assert parse_time("0x1.8p1s") == 3.0  # 1.5 x 2^1


@pytest.mark.parametrize("text", ["-1f", "-0.5Gf"])
def test_negative_values_are_refused(text: str) -> None:
    with pytest.raises(UnitError, match="negative"):
        parse_speed(text)


@pytest.mark.parametrize("text", ["inff", "nanf", "INFINITYf", "-inff", "nan(1)f"])
def test_non_finite_values_are_refused(text: str) -> None:
    with pytest.raises(UnitError, match="not a finite number"):
        parse_speed(text)


@pytest.mark.parametrize("text", ["1e400s", "1e-400s", "1e300Yf"])
def test_out_of_range(text: str) -> None:
    parse = parse_speed if text.endswith("f") else parse_time
    with pytest.raises(UnitError, match="out of the range"):
        parse(text)


def test_minus_zero_is_zero() -> None:
    value = parse_time("-0s")
    assert value == 0.0 and math.copysign(1.0, value) == 1.0


def test_bare_number_in_platform_parsers_warns_and_takes_the_base_unit() -> None:
    # SimGrid 3.32: "Deprecated unit-less value" warning, then the default unit (f, Bps, B, s).
    with pytest.warns(UnitWarning, match=r"host.xml:3: speed '5' has no unit.*taken as '5f'"):
        assert parse_speed("5", "host.xml:3: ") == 5.0
    with pytest.warns(UnitWarning, match="Bps"):
        assert parse_bandwidth("1e6") == 1e6
    with pytest.warns(UnitWarning):
        assert parse_time("2") == 2.0
    with pytest.warns(UnitWarning):
        assert parse_size("10") == 10.0


def test_bare_zero_is_silent() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_time("0") == 0.0
        assert parse_bandwidth("0.0") == 0.0


def test_parse_quantity_accepts_bare_numbers_silently() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_quantity("1e9", "flops") == 1e9
        assert parse_quantity("125000", "bandwidth") == 125000.0
        assert parse_quantity("30", "time") == 30.0
        assert parse_quantity("1e8", "size") == 1e8
    assert parse_quantity("1Gf", "flops") == 1e9
    assert parse_quantity("1GiB", "size") == 1024.0**3
    assert parse_quantity("30ms", "time") == pytest.approx(0.03)


def test_parse_quantity_strict_mode() -> None:
    with pytest.raises(UnitError, match=r"t:1: size '100' has no unit; append 'B'"):
        parse_quantity("100", "size", default_unit_ok=False, context="t:1: ")
    assert parse_quantity("0", "size", default_unit_ok=False) == 0.0
    assert parse_quantity("100B", "size", default_unit_ok=False) == 100.0


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown quantity kind"):
        parse_quantity("1", "volts")  # type: ignore[arg-type]


def test_unit_table_is_a_copy() -> None:
    table = unit_table("speed")
    table["Gf"] = 0.0
    assert parse_speed("1Gf") == 1e9


def test_unit_errors_are_value_errors() -> None:
    with pytest.raises(ValueError):
        parse_speed("fast")
    assert issubclass(UnitError, ReplayError)


# -- properties -----------------------------------------------------------------------------------------------

KINDS = {"speed": parse_speed, "bandwidth": parse_bandwidth, "size": parse_size, "time": parse_time}
UNITS = [(kind, unit) for kind in KINDS for unit in unit_table(kind)]  # type: ignore[arg-type]
mantissas = st.floats(min_value=0.0, max_value=1e12, allow_nan=False, allow_infinity=False)


@given(st.sampled_from(UNITS), mantissas)
def test_number_with_unit_is_number_times_scale(kind_unit: tuple[str, str], mantissa: float) -> None:
    # repr() writes the shortest text that reads back as the same double, so the parser sees exactly `mantissa`.
    kind, unit = kind_unit
    assert KINDS[kind](f"{mantissa!r}{unit}") == mantissa * unit_table(kind)[unit]  # type: ignore[arg-type]


@given(st.sampled_from(UNITS), st.floats(min_value=1e-6, max_value=1e30, allow_nan=False))
def test_formatting_with_a_prefix_round_trips(kind_unit: tuple[str, str], value: float) -> None:
    # value in the base unit -> "<value / scale><unit>" -> parsed back: equal up to the two roundings.
    kind, unit = kind_unit
    scale = unit_table(kind)[unit]  # type: ignore[arg-type]
    text = f"{value / scale!r}{unit}"
    assert KINDS[kind](text) == pytest.approx(value, rel=1e-15)


@given(st.sampled_from(UNITS), st.integers(min_value=0, max_value=10**6))
def test_integers_with_units_are_exact_multiples(kind_unit: tuple[str, str], n: int) -> None:
    kind, unit = kind_unit
    assert KINDS[kind](f"{n}{unit}") == n * unit_table(kind)[unit]  # type: ignore[arg-type]


@given(st.text(max_size=30), st.sampled_from(["speed", "flops", "bandwidth", "size", "time"]), st.booleans())
def test_arbitrary_text_only_ever_raises_unit_error(text: str, kind: str, bare_ok: bool) -> None:
    try:
        value = parse_quantity(text, kind, default_unit_ok=bare_ok)  # type: ignore[arg-type]
    except UnitError:
        return
    assert math.isfinite(value) and value >= 0.0


@given(
    st.from_regex(r"\A[ +\-]?[0-9]{0,4}\.?[0-9]{0,3}([eE][+\-]?[0-9]{0,3})?[A-Za-z ]{0,6}\Z", fullmatch=True),
    st.sampled_from(list(KINDS)),
)
def test_near_miss_text_only_ever_raises_unit_error(text: str, kind: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitWarning)
        try:
            value = KINDS[kind](text)
        except UnitError:
            return
    assert math.isfinite(value) and value >= 0.0
