"""The results table of a sweep: its columns, its rows, and which rows of an earlier table a resumed sweep keeps.

Columns, in order: ``point``; the point's variables and options (grid keys as written, then the keys that only
``[[points]]`` set, then the fixed options; null where a point does not set one); ``status`` (``ok`` or
``error``), ``error`` (null when ok); ``warnings`` (what the run warned, a forced stop-and-copy ...; null when
nothing); :data:`replay.sweep.worker.METRICS` (``energy_j`` only when a platform of
the sweep has wattages); :data:`SLA` prefixed ``sla_`` when a point sets a policy; ``wall_time``; ``summary`` (the
run's JSON summary, compact). The columns and their types depend only on the sweep file and its platforms,
never on what the points give: the table of a sweep is the same on every backend, but ``wall_time``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from replay.errors import ReplayError
from replay.sweep.spec import Point, Spec, text_of
from replay.sweep.worker import METRICS

if TYPE_CHECKING:
    import polars as pl

__all__ = ["SLA", "columns", "frame", "kept", "row", "schema"]

#: the summary's ``sla`` entries (replay.policies.metrics.sla_report), with their column kinds
SLA = {"energy_kwh": "float", "slatah": "float", "pdm": "float", "slav": "float", "esv": "float", "migrations": "int",
       "migrations_aborted": "int", "downtime_total": "float", "downtime_mean": "float", "downtime_max": "float",
       "unserved_fraction": "float", "placements": "int", "power_ons": "int", "power_offs": "int"}


def columns(spec: Spec, energy: bool) -> dict[str, str]:
    """The columns of ``spec``'s table and their kinds (``int``, ``float``, ``bool``, ``str``), in order."""
    made = {"point": "int", **spec.columns, "status": "str", "error": "str", "warnings": "str"}
    made.update((name, kind) for name, kind in METRICS.items() if energy or name != "energy_j")
    if "policy" in spec.columns:
        made.update((f"sla_{name}", kind) for name, kind in SLA.items())
    made["wall_time"] = "float"
    made["summary"] = "str"
    return made


def schema(kinds: Mapping[str, str]) -> dict[str, Any]:
    """Polars types of the columns."""
    import polars as pl

    types = {"int": pl.Int64, "float": pl.Float64, "bool": pl.Boolean, "str": pl.String}
    return {name: types[kind] for name, kind in kinds.items()}


def row(point: Point, outcome: Mapping[str, Any], kinds: Mapping[str, str]) -> dict[str, Any]:
    """The row of ``point`` from its worker's ``outcome`` (:func:`replay.sweep.worker.run_point`)."""
    values: dict[str, Any] = {"point": point.number, **point.values}
    values.update((name, outcome.get(name)) for name in ("status", "error", "warnings", *METRICS, "wall_time",
                                                         "summary"))
    for name, value in (outcome.get("sla") or {}).items():
        values[f"sla_{name}"] = value
    made = {}
    for name, kind in kinds.items():
        value = values.get(name)
        made[name] = None if value is None else float(value) if kind == "float" else value
    return made


def frame(rows: Iterable[Mapping[str, Any]], kinds: Mapping[str, str]) -> pl.DataFrame:
    """The rows as a table of the given columns, sorted by point."""
    import polars as pl

    rows = list(rows)
    data = {name: [one[name] for one in rows] for name in kinds}
    return pl.DataFrame(data, schema=schema(kinds)).sort("point")


def kept(done: pl.DataFrame, spec: Spec, kinds: Mapping[str, str]) -> set[int]:
    """The points of ``done`` (an earlier table of this sweep) that a resumed sweep keeps: all of them, once
    checked to be this sweep's. Rows are matched by their number *and* their values: a table whose columns or
    types differ, or a row whose values are not those of the point of its number, is refused (the sweep file
    changed since), with a :class:`ReplayError` saying what differs."""
    expected = schema(kinds)
    found = dict(done.schema)
    if found != expected:
        missing = [name for name in expected if name not in found]
        extra = [name for name in found if name not in expected]
        retyped = [f"{name} ({found[name]}, not {expected[name]})" for name in expected
                   if name in found and found[name] != expected[name]]
        parts = [f"missing {', '.join(missing)}" if missing else "", f"extra {', '.join(extra)}" if extra else "",
                 f"other types: {', '.join(retyped)}" if retyped else ""]
        shown = "; ".join(part for part in parts if part) or "the same columns in another order"
        raise ReplayError(f"expected the columns of this sweep's results, found {shown} (the sweep file or its "
                          f"platforms changed; run without --resume to start over)")
    keys = [name for name in spec.columns]
    numbers: set[int] = set()
    for values in done.select("point", *keys).iter_rows(named=True):
        number = values.pop("point")
        if number is None or not 0 <= number < len(spec.points):
            raise ReplayError(f"expected points 0 to {len(spec.points) - 1}, found point {number} (the sweep file "
                              f"changed; run without --resume to start over)")
        if number in numbers:
            raise ReplayError(f"expected each point once, found point {number} twice")
        point = spec.points[number]
        wanted = {name: point.values.get(name) for name in keys}
        if values != wanted:
            raise ReplayError(f"expected point {number} to be {_shown(wanted)} as in the sweep file, found "
                              f"{_shown(values)} (the sweep file changed; run without --resume to start over)")
        numbers.add(number)
    return numbers


def _shown(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{name}={'null' if value is None else text_of(value)}" for name, value in values.items())
