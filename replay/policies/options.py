"""``--policy NAME[:key=value,...]`` and ``--policy module:Class[:key=value,...]``: which policy, with which options.

A built-in's options are declared in its ``OPTIONS`` (name -> :class:`Option`); each value is read and checked
here, so that a bad one is one line naming the policy, the option and what was expected. A user's class with
``OPTIONS`` gets the same; one without receives the values as strings, by keyword.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from replay.errors import PolicyError, UnitError, did_you_mean
from replay.policies.api import Policy
from replay.units import parse_bandwidth, parse_quantity


@dataclass(frozen=True, slots=True)
class Option:
    """One option: its reader (text -> value, ValueError with what was expected), its default, what it does."""

    read: Callable[[str], Any]
    default: Any
    help: str


def _number(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(what) from None


def level(text: str) -> float:
    """A utilization level: a number >= 0 (above 1 is allowed: requested CPU may exceed capacity)."""
    value = _number(text, "a utilization level >= 0")
    if not 0.0 <= value < math.inf:
        raise ValueError("a utilization level >= 0")
    return value


def at_least_one(text: str) -> float:
    value = _number(text, "a number >= 1")
    if not 1.0 <= value < math.inf:
        raise ValueError("a number >= 1")
    return value


def positive(text: str) -> float:
    value = _number(text, "a number > 0")
    if not 0.0 < value < math.inf:
        raise ValueError("a number > 0")
    return value


def duration(text: str) -> float:
    try:
        value = parse_quantity(text, "time")
    except UnitError:
        raise ValueError("a duration such as 300, 300s or 5m") from None
    if not 0.0 <= value < math.inf:
        raise ValueError("a duration >= 0")
    return value


def bandwidth(text: str) -> float:
    try:
        value = parse_bandwidth(text)
    except UnitError:
        raise ValueError("a bandwidth such as 1Gbps or 125MBps") from None
    if not 0.0 < value < math.inf:
        raise ValueError("a bandwidth > 0")
    return value


def flag(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("yes", "true", "1", "on"):
        return True
    if lowered in ("no", "false", "0", "off"):
        return False
    raise ValueError("yes or no")


def choice(*names: str) -> Callable[[str], str]:
    def read(text: str) -> str:
        if text not in names:
            raise ValueError(" or ".join(names))
        return text

    return read


def text(value: str) -> str:
    if not value:
        raise ValueError("a non-empty text")
    return value


def load_policy(spec: str, builtins: Mapping[str, type[Policy]]) -> tuple[Policy, str, str | None]:
    """The policy ``spec`` names, made with its options; with its label (for traces) and its ``hosts`` glob (None:
    not given)."""
    name, options = _split(spec, builtins)
    cls = builtins[name] if name in builtins else _import(name, builtins)
    values = _read_options(cls, name, options)
    hosts = values.pop("hosts", None)
    try:
        policy = cls(**values)
    except (TypeError, ValueError) as error:
        raise PolicyError(f"--policy {spec}: {error}") from None
    if not isinstance(policy, Policy):
        raise PolicyError(f"--policy {spec}: expected a subclass of replay.policies.Policy, found {cls!r}")
    return policy, getattr(policy, "name", name) if name in builtins else name, hosts


def _split(spec: str, builtins: Mapping[str, type[Policy]]) -> tuple[str, dict[str, str]]:
    """``name`` and its ``key=value`` options; ``module:Class`` keeps its colon."""
    head, _, rest = spec.partition(":")
    if rest and head not in builtins and "=" not in rest.split(":")[0].split(",")[0]:
        cls, _, rest = rest.partition(":")
        head = f"{head}:{cls}"
    options: dict[str, str] = {}
    for pair in filter(None, rest.split(",")):
        key, eq, value = pair.partition("=")
        if not eq or not key:
            raise PolicyError(f"--policy {spec}: expected options as key=value, found {pair!r}")
        if key in options:
            raise PolicyError(f"--policy {spec}: option {key!r} is given twice")
        options[key] = value
    if not head:
        raise PolicyError(f"--policy {spec}: expected a policy name ({', '.join(builtins)}) or module:Class")
    return head, options


def _import(name: str, builtins: Mapping[str, type[Policy]]) -> type[Policy]:
    module_name, colon, class_name = name.partition(":")
    if not colon:
        raise PolicyError(f"--policy {name}: expected one of {', '.join(builtins)} or module:Class"
                          f"{did_you_mean(name, list(builtins))}")
    try:
        module = _import_module(module_name)
    except Exception as error:  # any import failure of the user's module is one line
        raise PolicyError(f"--policy {name}: cannot import module {module_name!r}: {error}") from None
    cls = getattr(module, class_name, None)
    if not isinstance(cls, type) or not issubclass(cls, Policy):
        raise PolicyError(f"--policy {name}: expected a Policy subclass called {class_name!r} in module "
                          f"{module_name!r}, found {'nothing' if cls is None else repr(cls)}")
    return cls


def _import_module(name: str) -> ModuleType:
    """Import ``name`` as ``python -m`` would: from the current folder too (a console script's path lacks it)."""
    if "" in sys.path or os.getcwd() in sys.path:
        return importlib.import_module(name)
    sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(os.getcwd())


def _read_options(cls: type[Policy], name: str, given: dict[str, str]) -> dict[str, Any]:
    declared: Mapping[str, Any] = getattr(cls, "OPTIONS", {})
    if not declared:
        return dict(given)
    values: dict[str, Any] = {}
    for key, text_value in given.items():
        option = declared.get(key)
        if not isinstance(option, Option):
            raise PolicyError(f"--policy {name}: unknown option {key!r}; expected one of {', '.join(declared)}"
                              f"{did_you_mean(key, list(declared))}")
        try:
            values[key] = option.read(text_value)
        except ValueError as error:
            raise PolicyError(f"--policy {name}: option {key}: expected {error}, found {text_value!r}") from None
    for key, option in declared.items():
        if key not in values and isinstance(option, Option):
            values[key] = option.default
    return values
