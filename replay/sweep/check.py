"""Everything a sweep can check before running: its platforms, the variables its files use, and one
validation of each distinct combination of files, platform, policy and variable names.

A platform that does not load, a variable a file uses that a point does not set, or a grid or point key that
is neither a run option nor a variable of the files (a misspelt name would otherwise run the same point again
and again) stops the sweep with one line. The validation (:func:`replay.session.validate`, the static checks of
``replay validate`` with the point's values) runs for the first point of each combination: it depends on the
values, so a point that fails it is that point's error row, as any point failing at run time is.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replay.energy import metered
from replay.errors import ReplayError, did_you_mean
from replay.platform import default_platform, load_deployment, load_platform
from replay.session import trace_of, validate
from replay.sweep.options import OPTIONS, Task
from replay.sweep.spec import Point, Spec
from replay.sweep.table import columns
from replay.sweep.worker import failure, one_line
from replay.variables import references

__all__ = ["Plan", "prepare"]


@dataclass
class Plan:
    """A checked sweep ready to run: its table's columns, and the outcome of each point that failed validation."""

    spec: Spec
    columns: dict[str, str]
    invalid: dict[int, dict[str, Any]] = field(default_factory=dict)
    #: the points validated: the first of each combination (those that failed are also in ``invalid``)
    validated: list[int] = field(default_factory=list)


def prepare(spec: Spec) -> Plan:
    """Check ``spec`` as far as can be known without running it (see the module docstring)."""
    energy = False
    for name in dict.fromkeys(point.options.get("platform") for point in spec.points):
        platform = default_platform() if name is None else load_platform(spec.path(name))
        energy = energy or metered(platform)
    plan = Plan(spec, columns(spec, energy))
    files = _Files(spec)
    used: dict[str, set[int]] = {}
    combinations: dict[tuple[object, ...], Point] = {}
    read = []
    for point in spec.points:
        paths, uses = files.of(point)
        read.append((point, uses))
        for name in uses:
            used.setdefault(name, set()).add(point.number)
        key = (paths, point.options.get("platform"), point.options.get("policy"), frozenset(point.variables))
        combinations.setdefault(key, point)
    for name in spec.variables:
        if name not in used:
            uses = sorted({f"${used_name}" for used_name in used})
            shown = f"the variables the files use ({', '.join(uses)})" if uses else "a variable the files use (none)"
            raise ReplayError(f"{spec.places.get(name, spec.source)}: expected a run option ({', '.join(OPTIONS)}) or "
                              f"{shown}, found neither{did_you_mean(name, [*OPTIONS, *used])}")
    for point, uses in read:
        for name, (path, line) in uses.items():
            if name not in point.variables:
                raise ReplayError(_missing(spec, point, name, path, line))
    for point in combinations.values():
        start = time.perf_counter()
        try:
            _validate(spec.task(point))
        except Exception as error:  # the point's, as at run time
            outcome = failure(point.number, one_line(error))
            outcome["wall_time"] = time.perf_counter() - start
            plan.invalid[point.number] = outcome
        plan.validated.append(point.number)
    return plan


def _validate(task: Task) -> None:
    validate(task.traces, platform=task.platform, deploy=task.deploy, policy=task.policy,
             variables=dict(task.variables))


def _missing(spec: Spec, point: Point, name: str, path: str, line: int) -> str:
    if name in OPTIONS:
        return (f"{path}:{line}: expected a variable that is not a run option, found ${name} (a sweep's {name} key "
                f"sets the option)")
    return (f"{spec.source}: expected {point.label()} to set ${name}, which {path}:{line} uses, found it unset (set "
            f"it in [grid] or in the point's [[points]] table)")


class _Files:
    """The files a point reads that may use variables, and the variables they use (read once per file)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._uses: dict[str, dict[str, int]] = {}
        self._named: dict[tuple[object, ...], tuple[str, ...]] = {}
        files = [*spec.traces, *(p.options["deploy"] for p in spec.points if p.options.get("deploy"))]
        self._names = {os.path.abspath(spec.path(name)): str(spec.path(name)) for name in files}

    def of(self, point: Point) -> tuple[tuple[str, ...], dict[str, tuple[str, int]]]:
        """The point's files (absolute), and each variable they use with the first file and line using it."""
        task = self.spec.task(point)
        paths: list[str] = list(task.traces)
        if task.deploy is not None:
            paths.append(task.deploy)
            if not task.traces:
                paths.extend(self._named_by(task.deploy, point))
        uses: dict[str, tuple[str, int]] = {}
        for path in paths:
            for name, line in self._read(path, comments=None if path == task.deploy else "#").items():
                uses.setdefault(name, (self._shown(path), line))
        return tuple(paths), uses

    def _named_by(self, deploy: str, point: Point) -> Iterable[str]:
        """The trace files the deployment's actors name with this point's values (none if it does not load:
        the point's validation says why)."""
        names = self._read(deploy, comments=None)
        key = (deploy, tuple(point.variables.get(name) for name in names))
        if key not in self._named:
            try:
                actors = load_deployment(deploy, variables=point.variables)
                self._named[key] = tuple(str(trace_of(actor, deploy)) for actor in actors)
            except (ReplayError, OSError):
                self._named[key] = ()
        return self._named[key]

    def _read(self, path: str, comments: str | None) -> dict[str, int]:
        if path not in self._uses:
            try:
                text = Path(path).read_bytes().decode("utf-8", errors="surrogateescape")
            except OSError:
                text = ""  # the validation, or the run, says why
            self._uses[path] = references(text, comments=comments)
        return self._uses[path]

    def _shown(self, path: str) -> str:
        """A file as the sweep file names it, relative to where the sweep runs (absolute if not named there)."""
        return self._names.get(path, path)
