"""The project's structure: the public API is deliberate, and the model never imports the tracers."""

from __future__ import annotations

import ast

import replay
from tests.helpers import REPO

PUBLIC = {
    "MODELS", "SEED_OPTIONS", "Action", "ActionDone", "Activity", "Actor", "DeadlockError", "Engine",
    "LookupFailure", "MigrationOptions", "MigrationParams", "MigrationReport", "NetworkModel", "Platform",
    "PlatformError", "ReplayError", "ReplaySession", "Replayer", "Request", "Resource", "RunResult", "Simulation",
    "SimulationError", "StateError", "TraceSource", "TraceSyntaxError", "UnitError", "VirtualMachine", "VmState",
    "default_platform", "iter_actions", "load_deployment", "load_platform", "open_trace", "parse_line", "solve",
}


def test_public_api_is_pinned():
    assert set(replay.__all__) == PUBLIC
    assert all(hasattr(replay, name) for name in PUBLIC)


def imports_of(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


def test_only_the_cli_imports_tracing():
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "replay").rglob("*.py")
        if path.name != "cli.py" and any(name.split(".")[0] == "tracing" for name in imports_of(path))
    ]
    assert offenders == []


def test_events_is_a_leaf_and_the_solver_is_pure():
    assert [n for n in imports_of(REPO / "replay" / "events.py") if n.startswith("replay")] == []
    solver_imports = set(imports_of(REPO / "replay" / "solver.py"))
    assert solver_imports <= {"__future__", "math", "collections.abc", "numpy", "numpy.typing"}
