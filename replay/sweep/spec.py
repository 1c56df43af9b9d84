"""Sweep files (TOML): what to run, the fixed options, and the points, in their one deterministic order.

::

    trace = "study.trace"            # or a list: one file per actor; paths are relative to the sweep file
    platform = "rack.xml"            # optional; so is deploy
    [options]                        # fixed run options (replay.sweep.options.OPTIONS)
    network_model = "CM02"
    [grid]                           # the cartesian product of these lists
    dt = ["10ms", "30ms"]
    dpi = [0.1, 0.5]
    [[points]]                       # explicit points, after the grid's
    dt = "1s"
    dpi = 0.9

A grid or point key naming a run option sets it; any other key is a variable of the trace (a string, an
integer, a float or a boolean, given to the trace as text: ``0.5``, ``true``). Points are numbered from 0: the
grid's first, in the order of :func:`itertools.product` over the keys as written (the last key varies fastest),
then the ``[[points]]`` in order. Every mistake is found here, before anything runs, and is one line
``file:line: where: expected ..., found ...`` (the line where the file tells it).
"""

from __future__ import annotations

import itertools
import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replay.errors import ReplayError, did_you_mean, where
from replay.sweep.options import FILE_OPTIONS, OPTIONS, Task, Value, describe, read_option, readable, task
from replay.variables import NAME

__all__ = ["Point", "Spec", "load", "parse", "text_of"]

TOP_LEVEL = ("trace", "platform", "deploy", "options", "grid", "points")


@dataclass(frozen=True)
class Point:
    """One run of the sweep: ``values`` are its columns as the table holds them (typed by column, options as
    read), ``variables`` the text the trace gets, ``options`` every run option it sets (the fixed ones too)."""

    number: int
    values: dict[str, Value]
    variables: dict[str, str]
    options: dict[str, Any]

    def label(self) -> str:
        """``point 3 (dt=10ms, dpi=0.5)``: for messages."""
        return f"point {self.number} ({_shown(self.values)})" if self.values else f"point {self.number}"


@dataclass(frozen=True)
class Spec:
    """A checked sweep: its files, its columns (name -> kind, in table order) and its points."""

    source: str
    folder: Path
    traces: tuple[str, ...]
    columns: dict[str, str]
    variables: tuple[str, ...]
    points: tuple[Point, ...]
    #: where each grid and point key is written (``sweep.toml:7: grid.dt``), for the checks that come later
    places: dict[str, str] = field(default_factory=dict)

    def task(self, point: Point) -> Task:
        """What a worker gets to run ``point``."""
        return task(point.number, point.options, point.variables, self.traces, self.folder)

    def path(self, name: str) -> Path:
        """A file of the sweep (a trace, a platform ...) as the run opens it: relative to the sweep file."""
        return self.folder / name


def text_of(value: Value) -> str:
    """A value as a variable's text: strings as they are, ``true``/``false``, integers and floats as Python
    writes them (``0.5``, ``1e-05``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def load(path: str | os.PathLike[str]) -> Spec:
    """Read and check the sweep file at ``path``."""
    source = os.fspath(path)
    readable(Path(source), "sweep file", source)
    try:
        text = Path(source).read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReplayError(f"{source}: expected UTF-8 text, found byte {error.object[error.start]:#04x} at offset "
                          f"{error.start}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ReplayError(_toml_error(source, text, str(error))) from None
    return parse(data, folder=Path(source).parent, source=source, text=text)


def _toml_error(source: str, text: str, message: str) -> str:
    """tomllib's ``Invalid value (at line 3, column 7)`` as ``file:3: expected valid TOML, found ...``."""
    match = re.search(r" \(at line (\d+), column (\d+)\)$|\(at end of document\)$", message)
    reason = message[:match.start()].strip() if match else message
    reason = reason[:1].lower() + reason[1:]
    if match and match.group(1):
        return f"{source}:{match.group(1)}: expected valid TOML, found {reason} at column {match.group(2)}"
    if match:
        return f"{source}:{text.count(chr(10)) + 1}: expected valid TOML, found {reason} at the end of the file"
    return f"{source}: expected valid TOML, found {reason}"


def parse(data: Mapping[str, Any], *, folder: str | os.PathLike[str] = ".", source: str = "<sweep>",
          text: str | None = None) -> Spec:
    """Check a sweep given as the mapping its TOML reads as; ``folder`` is where its paths start, ``source`` and
    ``text`` name it and find lines in messages."""
    return _Reader(data, Path(folder), source, text).spec()


class _Reader:
    """One pass over a sweep's mapping, with what it takes to say where a mistake is."""

    def __init__(self, data: Mapping[str, Any], folder: Path, source: str, text: str | None) -> None:
        self.data = data
        self.folder = folder
        self.source = source
        self.lines = text.split("\n") if text is not None else []
        self.places: dict[str, str] = {}
        self._read: dict[tuple[str, object], Any] = {}

    # -- where --------------------------------------------------------------------------------------------------
    def place(self, table: str | None, key: str | None, index: int | None = None) -> str:
        """``sweep.toml:7: grid.dt``: the file, the line that writes it (when found), and the key's TOML path."""
        path = ".".join(part for part in (table, None if index is None else f"[{index}]", key) if part)
        path = path.replace(".[", "[")
        return f"{where(self.source, self._line(table, key, index))}{path}"

    def _line(self, table: str | None, key: str | None, index: int | None) -> int | None:
        """The line writing ``key`` of ``[table]`` (the ``index``-th ``[[table]]``), or the table's header."""
        current: tuple[str | None, int | None] = (None, None)
        counts: dict[str, int] = {}
        pattern = re.compile(rf"""(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""") if key else None
        for number, line in enumerate(self.lines, 1):
            stripped = line.strip()
            if (match := re.match(r"\[\[\s*([\w.-]+)\s*\]\]", stripped)) is not None:
                name = match.group(1)
                current = (name, counts.get(name, 0))
                counts[name] = current[1] + 1
            elif (match := re.match(r"\[\s*([\w.-]+)\s*\]", stripped)) is not None:
                current = (match.group(1), None)
            else:
                if current == (table, index) and pattern is not None and pattern.match(stripped):
                    return number
                continue
            if key is None and current == (table, index):
                return number
        return None

    def fail(self, table: str | None, key: str | None, message: str, index: int | None = None) -> ReplayError:
        return ReplayError(f"{self.place(table, key, index)}: {message}")

    # -- the file -----------------------------------------------------------------------------------------------
    def spec(self) -> Spec:
        for key in self.data:
            if key not in TOP_LEVEL:
                raise self.fail(None, key, f"expected one of {', '.join(TOP_LEVEL)}, found an unknown key"
                                           f"{did_you_mean(key, list(TOP_LEVEL))}")
        fixed = self.fixed_options()
        traces = self.traces()
        grid = self.grid(fixed)
        tables = self.point_tables(fixed)
        if not grid and not tables:
            raise ReplayError(f"{self.source}: expected a [grid] of values or [[points]], found neither")
        points = [*self.grid_points(grid), *tables]
        if not traces and "deploy" not in fixed and any("deploy" not in options for _, options in points):
            raise ReplayError(f"{self.source}: expected trace = FILE (or a list of files, one per actor), or a "
                              f"deploy option whose actors name their trace files, found neither")
        columns = list(grid)
        for values, _ in tables:
            columns.extend(key for key in values if key not in columns)
        variables = tuple(key for key in columns if key not in OPTIONS)
        columns.extend(key for key in fixed if key not in columns)
        kinds = {key: self.kind(key, [values[key] for values, _ in points if key in values]) for key in columns}
        made = []
        seen: dict[tuple[object, ...], int] = {}
        for number, (values, options) in enumerate(points):
            typed = {key: _typed(values[key], kinds[key]) for key in columns if key in values}
            typed.update({key: _typed(value, kinds[key]) for key, value in fixed.items()})
            identity = tuple((key, typed.get(key)) for key in columns)
            if identity in seen:
                raise ReplayError(f"{self.source}: expected distinct points, found points {seen[identity]} and "
                                  f"{number} both {_shown(typed)}")
            seen[identity] = number
            made.append(Point(number, typed,
                              {key: text_of(value) for key, value in values.items() if key not in OPTIONS},
                              {**fixed, **options}))
        return Spec(self.source, self.folder, traces, kinds, variables, tuple(made), self.places)

    def fixed_options(self) -> dict[str, Any]:
        """``[options]``, with the top-level ``platform`` and ``deploy``."""
        table = self.data.get("options", {})
        if not isinstance(table, dict):
            raise self.fail(None, "options", f"expected a table of run options, found {describe(table)}")
        fixed: dict[str, Any] = {}
        for key in FILE_OPTIONS:
            if key in self.data:
                if key in table:
                    raise self.fail("options", key, f"expected {key} once, found it also at the top of the file")
                fixed[key] = self.option(None, key, self.data[key])
        for key, value in table.items():
            if key not in OPTIONS:
                raise self.fail("options", key, f"expected a run option ({', '.join(OPTIONS)}), found an unknown "
                                                f"one{did_you_mean(key, list(OPTIONS))}")
            fixed[key] = self.option("options", key, value)
        return fixed

    def option(self, table: str | None, key: str, value: Any, index: int | None = None) -> Any:
        """An option's value as read (once per distinct value: a policy module is imported once)."""
        cache = (key, (type(value), value) if isinstance(value, Value) else id(value))
        if cache not in self._read:
            self._read[cache] = read_option(key, value, self.place(table, key, index), self.folder)
        return self._read[cache]

    def traces(self) -> tuple[str, ...]:
        value = self.data.get("trace")
        if value is None:
            return ()
        files = [value] if isinstance(value, str) else value
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            raise self.fail(None, "trace", f"expected a trace file or a non-empty list of them, found "
                                           f"{describe(value)}")
        for name in files:
            readable(self.folder / name, "trace file", self.place(None, "trace"))
        return tuple(files)

    def grid(self, fixed: Mapping[str, Any]) -> dict[str, list[tuple[Value, Any]]]:
        """Each grid key's values, each with the option value it gives (None for a variable)."""
        table = self.data.get("grid", {})
        if not isinstance(table, dict):
            raise self.fail(None, "grid", f"expected a table of lists of values, found {describe(table)}")
        grid: dict[str, list[tuple[Value, Any]]] = {}
        for key, values in table.items():
            self.check_key("grid", key, fixed)
            if not isinstance(values, list) or not values:
                raise self.fail("grid", key, f"expected a non-empty list of values, found {describe(values)}")
            read = []
            for value in values:
                self.check_value("grid", key, value)
                read.append((value, self.option("grid", key, value) if key in OPTIONS else None))
            texts = [_identity(value) for value, _ in read]
            if len(set(texts)) < len(texts):
                twice = next(value for value, _ in read if texts.count(_identity(value)) > 1)
                raise self.fail("grid", key, f"expected distinct values, found {describe(twice)} twice")
            grid[key] = read
        return grid

    def grid_points(self, grid: Mapping[str, list[tuple[Value, Any]]]) -> list[tuple[dict[str, Value], dict]]:
        keys = list(grid)
        points: list[tuple[dict[str, Value], dict]] = []
        if not keys:  # the product of no list is one empty combination: no grid is no point
            return points
        for combination in itertools.product(*(grid[key] for key in keys)):
            values = {key: read if key in OPTIONS else value for key, (value, read) in zip(keys, combination,
                                                                                           strict=True)}
            options = {key: read for key, (_, read) in zip(keys, combination, strict=True) if key in OPTIONS}
            points.append((values, options))
        return points

    def point_tables(self, fixed: Mapping[str, Any]) -> list[tuple[dict[str, Value], dict]]:
        tables = self.data.get("points", [])
        if not isinstance(tables, list) or not all(isinstance(table, dict) for table in tables):
            raise self.fail(None, "points", f"expected [[points]] tables, found {describe(tables)}")
        points = []
        for index, table in enumerate(tables):
            if not table:
                raise self.fail("points", None, "expected keys setting variables or options, found an empty table",
                                index)
            options = {}
            for key, value in table.items():
                self.check_key("points", key, fixed, index)
                self.check_value("points", key, value, index)
                if key in OPTIONS:
                    options[key] = self.option("points", key, value, index)
            points.append(({**table, **options}, options))
        return points

    def check_key(self, table: str, key: str, fixed: Mapping[str, Any], index: int | None = None) -> None:
        if key in fixed:
            raise self.fail(table, key, "expected an option set either in [options] or per point, found it in "
                                        "both", index)
        if key not in OPTIONS and not NAME.fullmatch(key):
            raise self.fail(table, key, "expected a run option or a variable name (letters, digits and _, not "
                                        "first), found neither", index)
        self.places.setdefault(key, self.place(table, key, index))

    def check_value(self, table: str, key: str, value: Any, index: int | None = None) -> None:
        if isinstance(value, list) and table == "points":
            raise self.fail(table, key, "expected one value (lists of values go in [grid]), found a list", index)
        if not isinstance(value, Value):
            raise self.fail(table, key, f"expected a string, a number or a boolean, found {describe(value)}", index)
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(table, key, f"expected a finite number, found {value}", index)
        if isinstance(value, str) and ("\n" in value or "\r" in value):
            raise self.fail(table, key, "expected a value on one line, found a line break", index)

    def kind(self, key: str, values: list[Value]) -> str:
        """A column's type: an option's own; a variable's from all its values (integers and floats: float)."""
        if key in OPTIONS:
            return "int" if key == "seed" else "str"
        if all(isinstance(value, bool) for value in values):
            return "bool"
        if any(isinstance(value, bool | str) for value in values):
            return "str"
        return "int" if all(isinstance(value, int) for value in values) else "float"


def _shown(values: Mapping[str, Value]) -> str:
    return ", ".join(f"{key}={text_of(value)}" for key, value in values.items())


def _typed(value: Value, kind: str) -> Value:
    """A value as its column holds it."""
    if kind == "str":
        return text_of(value)
    if kind == "float":
        return float(value)
    return value


def _identity(value: Value) -> tuple[str, str]:
    """What makes two values of a list the same: the same type of value and the same text."""
    return ("bool" if isinstance(value, bool) else "number" if isinstance(value, int | float) else "str",
            text_of(float(value) if isinstance(value, int) and not isinstance(value, bool) else value))
