"""The project's structure: the public API is deliberate, the model never imports the tracers, imports run one
way (no circle, not even under ``TYPE_CHECKING``), and no module grows past 700 lines."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import replay
from tests.helpers import REPO

PUBLIC = {
    "BUILTIN", "MODELS", "SEED_OPTIONS", "Action", "ActionDone", "Activity", "Actor", "DeadlockError", "Engine",
    "LookupFailure", "MigrationOptions", "MigrationReport", "NetworkModel", "Platform", "PlatformError", "Process",
    "Registry", "ReplayError", "ReplaySession", "Replayer", "Request", "Resource", "RunResult", "Simulation",
    "SimulationError", "StateError", "TraceSource", "TraceSyntaxError", "UnitError", "VirtualMachine", "VmConfig",
    "VmOperation", "VmState", "default_platform", "iter_actions", "load_deployment", "load_platform", "open_trace",
    "parse_line", "solve",
}
PACKAGES = ("replay", "tracing")
MAX_LINES = 700


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


def module_files() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name (a package by its ``__init__``)."""
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports, ``TYPE_CHECKING`` blocks included.

    ``from p import n`` imports module ``p.n`` when there is one, else the names of ``p``'s ``__init__``.
    """
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in modules else node.module
                           for a in node.names]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle_anywhere_type_checking_included():
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_circles():
    # It must be able to fail: a -> b -> c -> a is one circle, d alone is none.
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_over_700_lines():
    long = {name: n for name, path in module_files().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_only_the_cli_imports_tracing():
    offenders = [
        str(path.relative_to(REPO))
        for path in (REPO / "replay").rglob("*.py")
        if path.name != "cli.py" and any(name.split(".")[0] == "tracing" for name in imports_of(path))
    ]
    assert offenders == []


def test_the_model_is_below_the_replay_layer():
    # The model (engine, processes, hosts, VMs, migrations, actors) never imports the trace language, the
    # replayer or the session: they are built on it, not the other way round.
    graph = import_graph()
    model = ["replay.engine", "replay.process", "replay.hosts", "replay.vm", "replay.migration", "replay.actors",
             "replay.comms", "replay.simulation"]
    upper = {name for name in graph if name.startswith(("replay.trace", "replay.replayer", "replay.session",
                                                         "replay.cli", "replay.sweep", "replay.console"))}
    assert {name: sorted(graph[name] & upper) for name in model if graph[name] & upper} == {}


def test_policies_sit_between_the_model_and_the_replay_layer():
    # Policies drive the model through its API (the facade, VMs, hosts); the model never knows them, and they
    # never know the trace language, the replayer or the session that load them.
    graph = import_graph()
    policies = {name for name in graph if name.startswith("replay.policies")}
    model = {name for name in graph if name.startswith("replay.") and not name.startswith(
        ("replay.policies", "replay.trace", "replay.replayer", "replay.session", "replay.cli", "replay.workloads",
         "replay.sweep", "replay.console", "replay.__main__"))} - {"replay"}
    upper = {name for name in graph if name.startswith(("replay.trace", "replay.replayer", "replay.session",
                                                         "replay.cli", "replay.workloads", "replay.sweep"))}
    assert policies, "the policies package was not found"
    assert {name: sorted(graph[name] & policies) for name in model if graph[name] & policies} == {}
    assert {name: sorted(graph[name] & upper) for name in policies if graph[name] & upper} == {}


def test_events_and_lifecycle_are_leaves_and_the_solver_is_pure():
    graph = import_graph()
    assert graph["replay.lifecycle"] <= {"replay.errors"}
    assert graph["replay.events"] <= {"replay.lifecycle"}
    solver_imports = set(imports_of(REPO / "replay" / "solver.py"))
    assert solver_imports <= {"__future__", "math", "collections.abc", "typing", "numpy", "numpy.typing"}


def test_a_sweep_worker_imports_the_model_alone():
    # A worker process starts with what a run needs: the sweep's worker module imports neither polars nor Dask
    # (nor the tracers), and neither does the package it is in.
    code = ("import sys, replay.sweep.worker, replay.sweep.local; "
            "print(sorted(m for m in ('polars', 'dask', 'distributed', 'tracing', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "[]"
