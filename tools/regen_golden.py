"""Regenerate the SimGrid golden files of the fidelity suite.

Builds the reference replayer (tools/simgrid_ref/build.sh), runs it on every scenario of
tools/simgrid_ref/scenarios.toml (and the manifests it includes) and stores each output as
tests/golden/simgrid/<name>.csv, plus <name>.migrations.csv when the scenario live-migrates VMs and <name>.loads.csv
when it runs `load` actions (the demand and served flops of each), replacing a file only once its new content is
complete (temporary file, then rename). It reports which files were added, which
changed (with the largest relative difference of their dates) and which are unchanged.

A scenario marked ``converges = false`` has a migration that SimGrid never completes (stage 2 loops until the
plugin's 1e7 s timeout, where SimGrid 3.32 aborts): it gets no golden file. Regeneration probes it instead, with a
wall-clock limit (--probe-timeout), and fails if it does converge. --check skips the probes unless --probe.
A scenario whose inputs live outside the repository (``shared:`` paths) is skipped when they are absent.
A scenario marked ``energy = true`` runs with ``--energy`` (SimGrid's host and link energy plugins): its golden file
ends with one row of joules per powered host and link, after the simulated_time row.

    python tools/regen_golden.py                        # regenerate everything
    python tools/regen_golden.py net_fatpipe units      # only these scenarios
    python tools/regen_golden.py --check                # write nothing; exit 1 if a file is missing/differs
    python tools/regen_golden.py --check --allow-missing  # the same, but exit 0 when SimGrid is not installed

Exit status: 0 on success, 1 when a scenario fails or (with --check) a golden file is out of date, 2 on a
usage error. Pure standard library; building needs SimGrid 3.32's headers and library (libsimgrid-dev). The manifest
is read by tests/fidelity_scenarios.py, the same reader the fidelity tests use.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Run as a script, only tools/ is on sys.path; the manifest reader lives in the tests package at the repository root.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.fidelity_scenarios import (  # noqa: E402
    ENERGY_ACTOR,
    GOLDEN_DIR,
    GOLDEN_HEADER,
    MANIFEST,
    ManifestError,
    Scenario,
    load_manifest,
)
from tests.fidelity_scenarios import LOADS_HEADER as LOADS_COLUMNS  # noqa: E402
from tests.fidelity_scenarios import MIGRATIONS_HEADER as MIGRATIONS_COLUMNS  # noqa: E402

REF_DIR = REPO / "tools" / "simgrid_ref"
BUILD_SCRIPT = REF_DIR / "build.sh"
REF_BINARY = REF_DIR / "build" / "replay_ref"
HEADER = ",".join(GOLDEN_HEADER)
MIGRATIONS_HEADER = ",".join(MIGRATIONS_COLUMNS)
LOADS_HEADER = ",".join(LOADS_COLUMNS)
SIMULATED_TIME_PREFIX = "*,-1,simulated_time,"
ENERGY_PREFIX = f"{ENERGY_ACTOR},-1,"
TIMEOUT = 600.0  # seconds of wall time for one scenario
PROBE_TIMEOUT = 60.0  # seconds of wall time after which a converges = false scenario counts as not converging


class RegenError(Exception):
    """A problem with the build or one scenario's run."""


def simgrid_headers_present() -> bool:
    prefix = Path(os.environ.get("SIMGRID_PREFIX", "/usr"))
    return (prefix / "include" / "simgrid" / "s4u.hpp").is_file()


def build_reference() -> Path:
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], check=False)
    if result.returncode != 0 or not REF_BINARY.is_file():
        raise RegenError(f"building the reference failed ({BUILD_SCRIPT} exited {result.returncode})")
    return REF_BINARY


def reference_command(binary: Path, scenario: Scenario, migrations: Path, loads: Path | None = None) -> list[str]:
    command = [str(binary), str(scenario.platform), str(scenario.deploy)]
    if scenario.trace is not None:
        command.append(str(scenario.trace))
    command.append(f"--migrations={migrations}")
    if loads is not None:
        command.append(f"--loads={loads}")
    if scenario.energy:
        command.append("--energy")
    command += [f"--cfg={item}" for item in scenario.cfg]
    return command


def run_scenario(binary: Path, scenario: Scenario) -> tuple[str, str | None, str | None]:
    """Run the reference on one scenario; return its CSV output, its migrations table (None if it migrates no VM)
    and its loads table (None if it runs no ``load`` action).

    The reference runs from the deployment's folder, so that trace names given in the deployment resolve as
    SimGrid itself resolves them (relative to the current directory).
    """
    with tempfile.TemporaryDirectory(prefix="regen_golden.") as scratch:
        migrations_file = Path(scratch) / "migrations.csv"
        loads_file = Path(scratch) / "loads.csv"
        try:
            result = subprocess.run(
                reference_command(binary, scenario, migrations_file, loads_file),
                cwd=scenario.deploy.parent,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise RegenError(f"{scenario.name}: the reference ran longer than {TIMEOUT:.0f} s") from exc
        if result.returncode != 0:
            detail = result.stderr.strip().splitlines()[-5:]
            raise RegenError(f"{scenario.name}: the reference exited {result.returncode}: " + " | ".join(detail))
        check_output(scenario, result.stdout)
        migrations = migrations_file.read_text(encoding="utf-8") if migrations_file.is_file() else ""
        loads = loads_file.read_text(encoding="utf-8") if loads_file.is_file() else ""
    migration_lines = migrations.splitlines()
    if not migration_lines or migration_lines[0] != MIGRATIONS_HEADER:
        raise RegenError(f"{scenario.name}: unexpected migrations table from the reference: {migrations[:200]!r}")
    load_lines = loads.splitlines()
    if not load_lines or load_lines[0] != LOADS_HEADER:
        raise RegenError(f"{scenario.name}: unexpected loads table from the reference: {loads[:200]!r}")
    return (
        result.stdout,
        (migrations if len(migration_lines) > 1 else None),
        (loads if len(load_lines) > 1 else None),
    )


def simulated_time_row(text: str) -> int | None:
    """The index of the ``*,-1,simulated_time,...`` line of a reference output; None when there is none."""
    for index, line in enumerate(text.splitlines()):
        if line.startswith(SIMULATED_TIME_PREFIX):
            return index
    return None


def simulated_time_text(text: str) -> str:
    """The end of the simulation as the reference printed it, or ``?``."""
    index = simulated_time_row(text)
    return "?" if index is None else text.splitlines()[index].split(",")[-1]


def check_output(scenario: Scenario, text: str) -> None:
    """Raise RegenError unless ``text`` is the header, action rows, the simulated_time row, then (only with
    ``energy = true``, and then at least one) the energy rows."""
    lines = text.splitlines()
    end = simulated_time_row(text)
    if not lines or lines[0] != HEADER or end is None:
        raise RegenError(f"{scenario.name}: unexpected output from the reference: {text[:200]!r}")
    energy = lines[end + 1 :]
    if not all(line.startswith(ENERGY_PREFIX) and line.count(",") == 4 for line in energy):
        raise RegenError(f"{scenario.name}: unexpected rows after simulated_time: {energy[:3]!r}")
    if scenario.energy and not energy:
        raise RegenError(
            f"{scenario.name}: energy = true, but its platform has no host with wattage_per_state nor link with "
            "wattage_range"
        )
    if not scenario.energy and energy:
        raise RegenError(f"{scenario.name}: energy rows without energy = true")


def probe_non_converging(binary: Path, scenario: Scenario, wall_limit: float) -> str:
    """Check that a ``converges = false`` scenario indeed does not converge in SimGrid; return how it showed.

    Two outcomes count: SimGrid aborts with the TimeoutException its migration receiver gets when stage 2 reaches
    the plugin's 1e7 s timeout, or the run is still going after ``wall_limit`` seconds of wall time (short rounds
    take hours to reach that timeout). A run that ends normally raises RegenError.
    """
    with tempfile.TemporaryDirectory(prefix="regen_golden.") as scratch:
        command = reference_command(binary, scenario, Path(scratch) / "migrations.csv")
        try:
            result = subprocess.run(
                command,
                cwd=scenario.deploy.parent,
                capture_output=True,
                text=True,
                timeout=wall_limit,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"still migrating after {wall_limit:.0f} s of wall time"
    if result.returncode != 0 and "TimeoutException" in result.stderr:
        return "SimGrid aborted at the plugin's 1e7 s migration timeout (uncaught TimeoutException)"
    if result.returncode == 0:
        simulated = simulated_time_text(result.stdout)
        raise RegenError(
            f"{scenario.name}: marked converges = false but SimGrid completed it (simulated time {simulated}); "
            "remove the flag and regenerate"
        )
    detail = result.stderr.strip().splitlines()[-3:]
    raise RegenError(f"{scenario.name}: the reference exited {result.returncode}: " + " | ".join(detail))


def parse_rows(text: str) -> list[tuple[str, str, str, float, float]]:
    rows = []
    for line in text.splitlines()[1:]:
        actor, seq, action, start, end = line.split(",")
        rows.append((actor, seq, action, float(start), float(end)))
    return rows


def relative_difference(a: float, b: float) -> float:
    if a == b:
        return 0.0
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else math.inf


def compare(old: str, new: str) -> float | None:
    """Largest relative difference between the dates of two outputs; None when their rows do not match."""
    old_rows, new_rows = parse_rows(old), parse_rows(new)
    if len(old_rows) != len(new_rows):
        return None
    worst = 0.0
    for before, after in zip(old_rows, new_rows, strict=True):
        if before[:3] != after[:3]:
            return None
        worst = max(worst, relative_difference(before[3], after[3]), relative_difference(before[4], after[4]))
    return worst


def compare_table(old: str, new: str, key_columns: int) -> float | None:
    """Largest relative difference between the numbers of two CSV tables whose first ``key_columns`` columns name the
    row (the rest are numbers); None when their headers or keys do not match."""
    old_rows = [line.split(",") for line in old.splitlines()[1:]]
    new_rows = [line.split(",") for line in new.splitlines()[1:]]
    if old.splitlines()[:1] != new.splitlines()[:1] or len(old_rows) != len(new_rows):
        return None
    worst = 0.0
    for before, after in zip(old_rows, new_rows, strict=True):
        if len(before) != len(after) or before[:key_columns] != after[:key_columns]:
            return None
        for a, b in zip(before[key_columns:], after[key_columns:], strict=True):
            worst = max(worst, relative_difference(float(a), float(b)))
    return worst


def compare_migrations(old: str, new: str) -> float | None:
    """Largest relative difference between the numbers of two migrations tables; None when rows do not match."""
    return compare_table(old, new, 3)


def compare_loads(old: str, new: str) -> float | None:
    """Largest relative difference between the demands and served flops of two loads tables; None when rows do not
    match (actor and seq)."""
    return compare_table(old, new, 2)


def classify(old: str | None, new: str | None, rtol: float, comparer) -> tuple[str, str, bool]:
    """(status, detail, out of date) for one golden file: added, removed, changed or unchanged."""
    if old is None and new is None:
        return "unchanged", "", False
    if old is None:
        return "added", "", True
    if new is None:
        return "removed", "", True
    if old == new:
        return "unchanged", "", False
    worst = comparer(old, new)
    if worst is None:
        return "changed", " (rows differ)", True
    if worst > rtol:
        return "changed", f" (max relative difference {worst:.3g})", True
    return "unchanged", f" (within --rtol: {worst:.3g})", False


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="only these scenarios (default: all)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a golden file differs")
    parser.add_argument(
        "--allow-missing", action="store_true", help="exit 0 with a message when SimGrid is not installed"
    )
    parser.add_argument(
        "--rtol",
        type=float,
        default=0.0,
        help="with --check, accept dates that differ by at most this relative amount (default: exact text)",
    )
    parser.add_argument("--probe", action="store_true", help="with --check, also probe the converges = false scenarios")
    parser.add_argument(
        "--probe-timeout",
        type=float,
        default=PROBE_TIMEOUT,
        help=f"wall seconds after which a converges = false scenario counts as stuck (default {PROBE_TIMEOUT:.0f})",
    )
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="scenarios run at once (default: one per CPU)"
    )
    args = parser.parse_args(argv)

    if not simgrid_headers_present():
        if args.allow_missing:
            print("regen_golden: SimGrid not installed (no simgrid/s4u.hpp), skipping", file=sys.stderr)
            return 0
        print(
            "regen_golden: SimGrid not installed (no simgrid/s4u.hpp); apt-get install libsimgrid-dev",
            file=sys.stderr,
        )
        return 1

    try:
        scenarios = load_manifest(MANIFEST)
    except (ManifestError, OSError, tomllib.TOMLDecodeError) as exc:
        print(f"regen_golden: {exc}", file=sys.stderr)
        return 1
    if args.names:
        known = {scenario.name for scenario in scenarios}
        unknown = [name for name in args.names if name not in known]
        if unknown:
            print(f"regen_golden: unknown scenario(s): {', '.join(unknown)}", file=sys.stderr)
            return 2
        scenarios = [scenario for scenario in scenarios if scenario.name in args.names]

    try:
        binary = build_reference()
    except RegenError as exc:
        print(f"regen_golden: {exc}", file=sys.stderr)
        return 1

    probing = not args.check or args.probe

    def work(scenario: Scenario) -> tuple[str, object]:
        """Run one scenario; ("skip", reason), ("probe", how) or ("golden", outputs), or ("failed", message)."""
        try:
            if scenario.missing_shared:
                return "skip", "shared input absent: " + ", ".join(str(path) for path in scenario.missing_shared)
            if not scenario.converges:
                if not probing:
                    return "skip", "converges = false, not probed (--probe to run it)"
                return "probe", probe_non_converging(binary, scenario, args.probe_timeout)
            return "golden", run_scenario(binary, scenario)
        except RegenError as exc:
            return "failed", str(exc)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(work, scenarios))

    counts = {"added": 0, "changed": 0, "removed": 0, "unchanged": 0, "non-converging": 0, "skipped": 0, "failed": 0}
    out_of_date = False
    for scenario, (kind, payload) in zip(scenarios, results, strict=True):
        if kind == "failed":
            counts["failed"] += 1
            print(f"FAILED     {scenario.name}: {payload}")
            continue
        if kind == "skip" or kind == "probe":
            # No golden file may exist for a scenario that does not converge.
            companions = (scenario.golden, scenario.migrations_golden, scenario.loads_golden)
            stale = [path for path in companions if path.is_file()]
            if not scenario.converges and stale:
                out_of_date = True
                counts["removed"] += 1
                print(f"{'removed':<10} {scenario.name}: converges = false, so no golden file")
                if not args.check:
                    for path in stale:
                        path.unlink()
                continue
            status = "skipped" if kind == "skip" else "non-converging"
            counts[status] += 1
            print(f"{status:<10} {scenario.name}: {payload}")
            continue
        new, new_migrations, new_loads = payload  # type: ignore[misc]
        old = scenario.golden.read_text(encoding="utf-8") if scenario.golden.is_file() else None
        old_migrations = (
            scenario.migrations_golden.read_text(encoding="utf-8") if scenario.migrations_golden.is_file() else None
        )
        old_loads = scenario.loads_golden.read_text(encoding="utf-8") if scenario.loads_golden.is_file() else None
        status, detail, stale_main = classify(old, new, args.rtol, compare)
        mig_status, mig_detail, stale_mig = classify(old_migrations, new_migrations, args.rtol, compare_migrations)
        load_status, load_detail, stale_loads = classify(old_loads, new_loads, args.rtol, compare_loads)
        if status == "unchanged" and (mig_status != "unchanged" or load_status != "unchanged"):
            status = "changed"
        if mig_status != "unchanged":
            detail += f"; migrations {mig_status}{mig_detail}"
        if load_status != "unchanged":
            detail += f"; loads {load_status}{load_detail}"
        out_of_date = out_of_date or stale_main or stale_mig or stale_loads
        counts[status] += 1
        simulated = simulated_time_text(new)
        print(f"{status:<10} {scenario.name}: simulated time {simulated}{detail}")
        if not args.check:
            if stale_main:
                write_atomically(scenario.golden, new)
            if stale_mig:
                if new_migrations is None:
                    scenario.migrations_golden.unlink()
                else:
                    write_atomically(scenario.migrations_golden, new_migrations)
            if stale_loads:
                if new_loads is None:
                    scenario.loads_golden.unlink()
                else:
                    write_atomically(scenario.loads_golden, new_loads)

    summary = ", ".join(f"{count} {status}" for status, count in counts.items())
    verb = "checked" if args.check else "regenerated"
    print(f"{verb} {len(scenarios)} scenario(s) into {GOLDEN_DIR.relative_to(REPO)}: {summary}")
    if counts["failed"]:
        return 1
    if args.check and out_of_date:
        print("regen_golden: golden files are out of date; run python tools/regen_golden.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
