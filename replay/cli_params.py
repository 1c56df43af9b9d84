"""Command-line values coerced without pydantic: typer's command classes, starting a command faster.

typer (from 0.2x) coerces the value of every parameter through a pydantic ``TypeAdapter``: importing pydantic and
building one adapter per parameter cost about 0.1 s in each process, more than a small run itself. The parameters
of this project's commands are paths, strings, whole numbers, decimals and choices: :class:`Command` and
:class:`Group` coerce their well-formed values here, to the very objects typer's adapters give
(``tests/test_cli_params.py`` compares the two). Anything else (a malformed or out-of-range value, another type,
a custom parser) goes to typer's own coercion, so that every error message stays typer's. With a typer that does
not coerce this way (no ``typer._coercion``), they are typer's plain classes.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any, get_args, get_origin

from typer.core import TyperCommand, TyperGroup

try:
    from typer._coercion import RuntimeParam, build_runtime_param
    from typer._param_types import coerce_cli_choice, coerce_cli_path
except ImportError:  # a typer that coerces through click's types: nothing to speed up
    RuntimeParam = None  # type: ignore[assignment,misc]

__all__ = ["Command", "Group", "fast_value"]

#: The strings taken as they are: what pydantic reads as the same int or float (its other readings, ``1_000``,
#: `` 6``, ``1e3``, go to typer).
_INT = re.compile(r"[+-]?[0-9]{1,18}")
_FLOAT = re.compile(r"[+-]?[0-9]{1,15}(\.[0-9]{1,15})?")

#: What :func:`fast_value` returns when it leaves the value to typer.
GIVE_UP: Any = object()


def fast_value(annotation: Any, info: Any, value: Any, param: Any = None, ctx: Any = None) -> Any:
    """``value`` coerced to ``annotation`` as typer would (``info``: the parameter's ``ParameterInfo``), or
    :data:`GIVE_UP`."""
    if info.parser is not None:
        return GIVE_UP
    if get_origin(annotation) is list:
        items = value if isinstance(value, list | tuple) else [value]
        (item_type,) = get_args(annotation)
        coerced = [fast_value(item_type, info, item, param, ctx) for item in items]
        return GIVE_UP if any(item is GIVE_UP for item in coerced) else coerced
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return coerce_cli_choice(value, choices=list(annotation), case_sensitive=info.case_sensitive, ctx=ctx)
    if annotation is str:
        return value if isinstance(value, str) else GIVE_UP
    if annotation is int or annotation is float:
        return _number(annotation, info, value)
    if annotation is Path and info.path_type is None and isinstance(value, str | Path):
        return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)
    return GIVE_UP


def _number(kind: type, info: Any, value: Any) -> Any:
    if info.clamp:
        return GIVE_UP
    plain = (_INT if kind is int else _FLOAT).fullmatch(value) if isinstance(value, str) else None
    if not plain and type(value) is not kind and not (kind is float and type(value) is int):
        return GIVE_UP
    number = kind(value)
    if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
        return GIVE_UP
    return number


if RuntimeParam is not None:

    class _FastParam(RuntimeParam):  # a frozen dataclass, as its base
        """A parameter's coercion: :func:`fast_value`, else typer's (built on first need)."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                result = fast_value(self.annotation, self.parameter_info, value, param, ctx)
            except Exception:  # a wrong value: typer's coercion says why, in its words
                result = GIVE_UP
            if result is GIVE_UP:
                return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)
            return result

    class _FastParse:
        """Gives the parameters of a command (its help option too) :class:`_FastParam` before parsing."""

        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            for param in self.get_params(ctx):  # type: ignore[attr-defined]
                descriptor = getattr(param, "type_descriptor", None)
                unset = getattr(param, "_runtime_param", 0) is None  # not yet built by typer (0: not typer's)
                if unset and descriptor is not None and descriptor.file_annotation is None:
                    param._runtime_param = _FastParam(parameter_info=descriptor.parameter_info,
                                                      annotation=descriptor.annotation)
            return super().parse_args(ctx, args)  # type: ignore[misc]

    class Command(_FastParse, TyperCommand):
        """typer's command, whose parameters coerce their values with :class:`_FastParam`."""

    class Group(_FastParse, TyperGroup):
        """typer's group of commands, whose own options coerce their values with :class:`_FastParam`."""

else:
    Command = TyperCommand  # type: ignore[assignment,misc]
    Group = TyperGroup  # type: ignore[assignment,misc]
