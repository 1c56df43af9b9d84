"""The run options a sweep sets, fixed (``[options]``) or point by point (a ``[grid]`` or ``[[points]]`` key):
each one's reader, and what a point's options make of a run (:class:`Task`).

A key of a grid or a point that names one of :data:`OPTIONS` sets that option, any other key a variable of the
trace; the options are those of ``replay run`` (``--network-model``, ``--on-stall``, ``--policy``, ``--seed``,
``--fail-hosts``, ``--platform``, ``--deploy``), spelled with underscores. A reader checks a value where the
sweep file is read, so that a misspelt model or policy stops the sweep before anything runs, and gives the value
the table keeps (the model's canonical name: ``lv08`` and ``LV08`` are one point).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from replay.availability import RandomFailures
from replay.errors import PolicyError, ReplayError, did_you_mean, unreadable
from replay.network import MODELS
from replay.policies import BUILTINS, load_policy

#: a value of a sweep file: what a variable or an option can be set to
Value = str | int | float | bool

__all__ = ["DEFAULTS", "FILE_OPTIONS", "OPTIONS", "Task", "Value", "describe", "read_option", "readable", "task"]


@dataclass(frozen=True, slots=True)
class Task:
    """One point as a worker runs it: absolute paths (the worker may run elsewhere) and text variables.

    Small and picklable: it is what a process pool or a Dask scheduler sends to a worker.
    """

    point: int
    traces: tuple[str, ...]
    platform: str | None
    deploy: str | None
    network_model: str
    on_stall: str
    policy: str | None
    fail_hosts: str | None
    seed: int
    variables: tuple[tuple[str, str], ...]


#: the option values of a run that sets none (those of ``replay run``)
DEFAULTS: dict[str, Any] = {"network_model": "LV08", "on_stall": "force", "policy": None, "seed": 0,
                            "fail_hosts": None, "platform": None, "deploy": None}
#: options whose value is a file, relative to the sweep file
FILE_OPTIONS = ("platform", "deploy")


def describe(value: object) -> str:
    """A value of a TOML file, for the ``found ...`` half of a message."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return repr(value)
    if isinstance(value, list):
        return "a list" if value else "an empty list"
    if isinstance(value, dict):
        return "a table"
    return f"a {type(value).__name__}"


def _text(value: Value, place: str, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ReplayError(f"{place}: expected {what}, found {describe(value)}")
    return value


def _network_model(value: Value, place: str, folder: Path) -> str:
    text = _text(value, place, f"a network model ({', '.join(MODELS)})")
    for name in MODELS:
        if name.casefold() == text.casefold():
            return name
    raise ReplayError(f"{place}: expected a network model ({', '.join(MODELS)}, any case), found {text!r}"
                      f"{did_you_mean(text, list(MODELS))}")


def _on_stall(value: Value, place: str, folder: Path) -> str:
    text = _text(value, place, "force or simgrid").lower()
    if text not in ("force", "simgrid"):
        raise ReplayError(f"{place}: expected force or simgrid, found {value!r}")
    return text


def _policy(value: Value, place: str, folder: Path) -> str:
    text = _text(value, place, "a policy, NAME[:key=value,...] or module:Class")
    try:
        load_policy(text, BUILTINS)
    except PolicyError as error:
        raise ReplayError(f"{place}: {error}") from None
    return text


def _seed(value: Value, place: str, folder: Path) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ReplayError(f"{place}: expected an integer seed, found {describe(value)}")
    return value


def _fail_hosts(value: Value, place: str, folder: Path) -> str:
    RandomFailures.parse(_text(value, place, "MTBF,MTTR (two durations, e.g. 1h,10m)"), 0, what=place)
    return str(value)


def _file(what: str) -> Callable[[Value, str, Path], str]:
    def read(value: Value, place: str, folder: Path) -> str:
        text = _text(value, place, f"the path of a {what}")
        readable(folder / text, what, place)
        return text

    return read


#: every run option a sweep can set, with its reader: (value, place for messages, the sweep file's folder) ->
#: the value the table keeps
OPTIONS: dict[str, Callable[[Value, str, Path], Any]] = {
    "network_model": _network_model,
    "on_stall": _on_stall,
    "policy": _policy,
    "seed": _seed,
    "fail_hosts": _fail_hosts,
    "platform": _file("platform file"),
    "deploy": _file("deployment file"),
}


def read_option(name: str, value: Value, place: str, folder: Path) -> Any:
    """The value of option ``name`` as the table keeps it; a bad one is one line naming ``place``."""
    return OPTIONS[name](value, place, folder)


def readable(path: Path, what: str, place: str) -> None:
    """Refuse a file that cannot be read, naming the sweep file's ``place`` and the path looked at."""
    found = unreadable(path, special=False, describe=lambda error: f"an error: {error.strerror or error}")
    if found:
        raise ReplayError(f"{place}: expected a readable {what}, found {found} at {path}")


def task(point: int, options: Mapping[str, Any], variables: Mapping[str, str], traces: tuple[str, ...],
         folder: Path) -> Task:
    """The :class:`Task` of a point: its options over the defaults, its files made absolute."""
    values = {**DEFAULTS, **options}

    def absolute(name: str | None) -> str | None:
        return None if name is None else os.path.abspath(folder / name)

    return Task(
        point=point,
        traces=tuple(os.path.abspath(folder / trace) for trace in traces),
        platform=absolute(values["platform"]),
        deploy=absolute(values["deploy"]),
        network_model=values["network_model"],
        on_stall=values["on_stall"],
        policy=values["policy"],
        fail_hosts=values["fail_hosts"],
        seed=values["seed"],
        variables=tuple(variables.items()),
    )
