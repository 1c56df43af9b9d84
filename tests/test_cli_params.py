"""Start-up: the command line coerces its values as typer does, without pydantic, and commands import only what
they use (the package's names, the simulation, numpy are loaded on first use)."""

from __future__ import annotations

import enum
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args, get_origin

import pytest

import replay
from replay.cli import app
from replay.cli_params import GIVE_UP, fast_value
from tests.helpers import REPO

typer_coercion = pytest.importorskip("typer._coercion", reason="a typer that coerces through click's types")

from typer._click import Context  # noqa: E402 - only with that typer
from typer.main import get_command  # noqa: E402

TRACE = "traces/consolidation.trace"

#: Values of each kind, well-formed or not: the fast path must give typer's object or give up.
SAMPLES: dict[Any, list[Any]] = {
    str: ["x", "", "a b", " x ", "$HOME", "-"],
    int: ["6", "007", "+6", "-5", "0", "1", "17", "18", "999999999999999999", "1_0", " 6", "6.0", "1e2", "abc", "",
          "٣", 6, 0, True, 6.5],
    float: ["1", "1.5", "200", "200.5", "5.", ".5", "+1.5", "-0", "0.000001", "007.50", "1e2", "inf", "nan", "x", "",
            3, 2.5, True],
    Path: ["a", "", " x ", TRACE, "-", "~/x", "a/../b", "/", Path("x")],
}


def samples(annotation: Any) -> list[Any]:
    if get_origin(annotation) is list:
        items = samples(get_args(annotation)[0])
        return [(), tuple(items[:2]), tuple(items), items[0]]
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        members = list(annotation)
        return [*members, *(str(m.value) for m in members), *(str(m.value).upper() for m in members), "bogus", ""]
    return SAMPLES.get(annotation, ["x"])


def parameters():
    """(command name, click context, parameter) of every parameter of every command, help options included."""
    group = get_command(app)
    found = [("replay", Context(group), param) for param in group.get_params(Context(group))]
    for name, command in group.commands.items():
        ctx = Context(command, info_name=name)
        found += [(name, ctx, param) for param in command.get_params(ctx)]
    return found


def same(a: Any, b: Any) -> bool:
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(("command", "ctx", "param"), parameters(), ids=lambda x: getattr(x, "name", None) or "")
def test_the_fast_path_gives_typers_object_or_gives_up(command, ctx, param):
    descriptor = param.type_descriptor
    typer_param = typer_coercion.build_runtime_param(descriptor)
    for value in samples(descriptor.annotation):
        try:
            fast = fast_value(descriptor.annotation, descriptor.parameter_info, value, param, ctx)
        except Exception:
            fast = GIVE_UP  # as the command class does: typer says why
        if fast is GIVE_UP:
            continue
        expected = typer_param._coerce_value(value, param=param, ctx=ctx)
        assert same(fast, expected), (command, param.name, value, fast, expected)


def test_well_formed_values_take_the_fast_path():
    # The fast path is not a formality: the values of a usual command line are all taken there.
    by_name = {param.name: (ctx, param) for _, ctx, param in parameters()}
    cases = [("traces", [TRACE]), ("precision", "6"), ("network_model", "lv08"), ("seed", "-3"), ("policy", "mad"),
             ("width", "12.5"), ("output", "out.png")]
    for name, value in cases:
        ctx, param = by_name[name]
        descriptor = param.type_descriptor
        assert fast_value(descriptor.annotation, descriptor.parameter_info, value, param, ctx) is not GIVE_UP, name


def imported(code: str) -> list[str]:
    """Which of a few heavy modules ``code`` imports, in a fresh interpreter."""
    heavy = ("pydantic", "numpy", "polars", "replay.engine", "replay.simulation", "replay.policies", "rich.progress",
             "tracing.paje")
    probe = f"{code}\nimport sys; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    return eval(result.stdout.strip().splitlines()[-1])


def test_a_small_run_imports_neither_pydantic_nor_polars_nor_the_policies():
    # nor numpy: its problems are all small enough for the solver's plain-list path
    code = f"from replay.cli import app\ntry: app(['run', {TRACE!r}, '-q'])\nexcept SystemExit: pass"
    assert imported(code) == ["replay.engine", "replay.simulation"]


def test_help_and_validate_import_no_simulation():
    assert imported("from replay.cli import app\ntry: app(['--help'])\nexcept SystemExit: pass") == []
    # validate parses vm_create's options into replay.vm's VmConfig, whose module imports the engine
    code = f"from replay.cli import app\ntry: app(['validate', {TRACE!r}])\nexcept SystemExit: pass"
    assert imported(code) == ["replay.engine"]


def test_the_package_resolves_its_names_on_first_use():
    assert imported("import replay") == []
    assert imported("from replay import ReplayError, VmState") == []
    assert sorted(dir(replay)) == sorted(set(dir(replay)))
    assert set(replay.__all__) <= set(dir(replay))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        replay.nothing  # noqa: B018
