"""Start-up benchmark: the wall time of small commands, each in a fresh process, and where their imports go.

A sweep or a script starts a new interpreter per point, so what a small run costs is mostly start-up: importing
the package, the command line and their dependencies. For each command this runs it ``--runs`` times (after one
warm-up run that also compiles the bytecode), prints the median, min and max wall time, then runs it under
``python -X importtime`` and prints the total of its imports and those of largest own (``self``) time, with
their cumulative time: the median over ``--import-runs`` runs, as one run is noisy (``-X importtime`` itself
slows the imports down: compare its figures with each other, not with the wall times).

Commands (``--only`` to choose): ``run`` (``python -m replay run TRACE``), ``help`` (``python -m replay --help``),
``validate`` (``python -m replay validate TRACE``), ``session`` (``ReplaySession.open([TRACE]).run()`` from
Python), ``import-cli`` (``import replay.cli``) and ``python`` (``python -c pass``: the interpreter's own floor,
``site`` and its ``.pth`` files included).

``--against DIR`` runs each command in another checkout too (``git worktree add /tmp/base main``), alternately
with this one so that both see the same machine, and prints its median and the median ratio of the pairs.

``PYTHONDONTWRITEBYTECODE`` is removed from the commands' environment: without cached bytecode every import
compiles its module, which measures the compiler rather than the start-up. Run from the repository's root:

    python tools/bench_startup.py [--runs 10] [--only run,help] [--top 15] [--against DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def commands(python: str, trace: str) -> dict[str, list[str]]:
    """Every command measured, by name."""
    session = f"from replay.session import ReplaySession; ReplaySession.open([{trace!r}]).run()"
    return {
        "run": [python, "-m", "replay", "run", trace],
        "help": [python, "-m", "replay", "--help"],
        "validate": [python, "-m", "replay", "validate", trace],
        "session": [python, "-c", session],
        "import-cli": [python, "-c", "import replay.cli"],
        "python": [python, "-c", "pass"],
    }


def environment() -> dict[str, str]:
    """This environment, with bytecode caching on (see the module docstring)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_once(argv: list[str], env: dict[str, str], extra: list[str] | None = None, cwd: Path = REPO
             ) -> tuple[float, str]:
    """Wall seconds of one run in ``cwd``, and its standard error; a failing command stops the benchmark."""
    argv = [argv[0], *(extra or []), *argv[1:]]
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{cwd}: {' '.join(argv)}: exit code {done.returncode}\n{done.stderr[-2000:]}")
    return wall, done.stderr


def import_times(stderr: str) -> dict[str, tuple[int, int]]:
    """``-X importtime``'s lines as module -> (self, cumulative) microseconds."""
    found = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        own, cumulative, name = line.removeprefix("import time:").split("|", 2)
        found[name.strip()] = (int(own), int(cumulative))
    return found


def top_imports(samples: list[dict[str, tuple[int, int]]], top: int) -> list[tuple[str, float, float]]:
    """The ``top`` modules of largest median self time: (name, self ms, cumulative ms)."""
    names = set().union(*samples)
    rows = []
    for name in names:
        own = statistics.median(sample.get(name, (0, 0))[0] for sample in samples)
        cumulative = statistics.median(sample.get(name, (0, 0))[1] for sample in samples)
        rows.append((name, own / 1000, cumulative / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


def bench(name: str, argv: list[str], runs: int, import_runs: int, top: int, against: Path | None) -> None:
    env = environment()
    run_once(argv, env)  # warm-up: writes the bytecode caches
    if against is not None:
        run_once(argv, env, cwd=against)
    walls, others = [], []
    for _ in range(runs):
        walls.append(run_once(argv, env)[0])
        if against is not None:
            others.append(run_once(argv, env, cwd=against)[0])
    samples = [import_times(run_once(argv, env, ["-X", "importtime"])[1]) for _ in range(import_runs)]
    total = statistics.median(sum(own for own, _ in sample.values()) for sample in samples) / 1000
    print(f"{name}: median {statistics.median(walls):.3f} s (min {min(walls):.3f}, max {max(walls):.3f}, "
          f"{runs} runs); imports {total:.0f} ms")
    if others:
        ratio = statistics.median(mine / other for mine, other in zip(walls, others, strict=True))
        print(f"  {against}: median {statistics.median(others):.3f} s (min {min(others):.3f}, max {max(others):.3f});"
              f" ratio {ratio:.2f}")
    print(f"  {' '.join(argv[1:])}")
    for module, own, cumulative in top_imports(samples, top):
        print(f"  {own:7.1f} ms self {cumulative:7.1f} ms cumulative  {module}")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", "-n", type=int, default=10, help="Timed runs of each command (default: 10).")
    parser.add_argument("--import-runs", type=int, default=3,
                        help="Runs under -X importtime, whose median is shown (default: 3).")
    parser.add_argument("--top", type=int, default=15, help="How many imports to show (default: 15; 0: none).")
    parser.add_argument("--only", default="", help="Comma-separated command names (default: all).")
    parser.add_argument("--trace", default="traces/consolidation.trace", help="The trace of run, validate, session.")
    parser.add_argument("--python", default=sys.executable, help="The interpreter (default: this one).")
    parser.add_argument("--against", type=Path, metavar="DIR",
                        help="Another checkout to run each command in too, alternately (its median and the ratio).")
    args = parser.parse_args()
    chosen = commands(args.python, args.trace)
    names = [name for name in args.only.split(",") if name] or list(chosen)
    unknown = [name for name in names if name not in chosen]
    if unknown:
        parser.error(f"--only: unknown command(s) {', '.join(unknown)}; expected some of {', '.join(chosen)}")
    for name in names:
        bench(name, chosen[name], max(args.runs, 1), max(args.import_runs, 1), args.top, args.against)


if __name__ == "__main__":
    main()
