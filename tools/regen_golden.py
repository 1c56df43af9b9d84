"""Regenerate the SimGrid golden files of the fidelity suite.

Builds the reference replayer (tools/simgrid_ref/build.sh), runs it on every scenario of
tools/simgrid_ref/scenarios.toml and stores each output as tests/golden/simgrid/<name>.csv, replacing a file
only once its new content is complete (temporary file, then rename). It reports which files were added, which
changed (with the largest relative difference of their dates) and which are unchanged.

    python tools/regen_golden.py                        # regenerate everything
    python tools/regen_golden.py net_fatpipe units      # only these scenarios
    python tools/regen_golden.py --check                # write nothing; exit 1 if a file is missing/differs
    python tools/regen_golden.py --check --allow-missing  # the same, but exit 0 when SimGrid is not installed

Exit status: 0 on success, 1 when a scenario fails or (with --check) a golden file is out of date, 2 on a
usage error. Pure standard library; building needs SimGrid 3.32's headers and library (libsimgrid-dev).
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REF_DIR = REPO / "tools" / "simgrid_ref"
MANIFEST = REF_DIR / "scenarios.toml"
BUILD_SCRIPT = REF_DIR / "build.sh"
REF_BINARY = REF_DIR / "build" / "replay_ref"
GOLDEN_DIR = REPO / "tests" / "golden" / "simgrid"
HEADER = "actor,seq,action,start,end"
TIMEOUT = 600.0  # seconds of wall time for one scenario

REQUIRED = ("name", "group", "platform", "deploy", "description")
OPTIONAL = ("trace", "cfg")


class RegenError(Exception):
    """A problem with the manifest, the build, or one scenario's run."""


@dataclass(frozen=True)
class Scenario:
    name: str
    platform: Path
    deploy: Path
    trace: Path | None
    cfg: tuple[str, ...]


def load_manifest(path: Path = MANIFEST) -> list[Scenario]:
    """Read and check the manifest: known keys only, unique names, existing input files."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    tables = data.get("scenario")
    if not isinstance(tables, list) or not tables:
        raise RegenError(f"{path}: expected [[scenario]] tables, found none")
    scenarios: list[Scenario] = []
    seen: set[str] = set()
    for index, table in enumerate(tables, start=1):
        where = f"{path}: scenario #{index}"
        missing = [key for key in REQUIRED if key not in table]
        unknown = sorted(set(table) - set(REQUIRED) - set(OPTIONAL))
        if missing or unknown:
            raise RegenError(f"{where}: missing keys {missing}, unknown keys {unknown}")
        name = table["name"]
        if name in seen:
            raise RegenError(f"{where}: duplicate name {name!r}")
        seen.add(name)
        cfg = table.get("cfg", [])
        if not isinstance(cfg, list) or not all(isinstance(item, str) for item in cfg):
            raise RegenError(f"{where} ({name}): cfg must be a list of strings, found {cfg!r}")
        files = {key: REPO / table[key] for key in ("platform", "deploy", "trace") if key in table}
        for key, file in files.items():
            if not file.is_file():
                raise RegenError(f"{where} ({name}): {key} file {file} does not exist")
        scenarios.append(
            Scenario(
                name=name,
                platform=files["platform"],
                deploy=files["deploy"],
                trace=files.get("trace"),
                cfg=tuple(cfg),
            )
        )
    return scenarios


def simgrid_headers_present() -> bool:
    prefix = Path(os.environ.get("SIMGRID_PREFIX", "/usr"))
    return (prefix / "include" / "simgrid" / "s4u.hpp").is_file()


def build_reference() -> Path:
    result = subprocess.run(["bash", str(BUILD_SCRIPT)], check=False)
    if result.returncode != 0 or not REF_BINARY.is_file():
        raise RegenError(f"building the reference failed ({BUILD_SCRIPT} exited {result.returncode})")
    return REF_BINARY


def run_scenario(binary: Path, scenario: Scenario) -> str:
    """Run the reference on one scenario and return its CSV output.

    The reference runs from the deployment's folder, so that trace names given in the deployment resolve as
    SimGrid itself resolves them (relative to the current directory).
    """
    command = [str(binary), str(scenario.platform), str(scenario.deploy)]
    if scenario.trace is not None:
        command.append(str(scenario.trace))
    command += [f"--cfg={item}" for item in scenario.cfg]
    try:
        result = subprocess.run(
            command,
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
    lines = result.stdout.splitlines()
    if not lines or lines[0] != HEADER or not lines[-1].startswith("*,-1,simulated_time,"):
        raise RegenError(f"{scenario.name}: unexpected output from the reference: {result.stdout[:200]!r}")
    return result.stdout


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
        scenarios = load_manifest()
    except (RegenError, OSError, tomllib.TOMLDecodeError) as exc:
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

    counts = {"added": 0, "changed": 0, "unchanged": 0, "failed": 0}
    out_of_date = False
    for scenario in scenarios:
        target = GOLDEN_DIR / f"{scenario.name}.csv"
        try:
            new = run_scenario(binary, scenario)
        except RegenError as exc:
            counts["failed"] += 1
            print(f"FAILED     {scenario.name}: {exc}")
            continue
        old = target.read_text(encoding="utf-8") if target.is_file() else None
        if old is None:
            status, detail = "added", ""
            out_of_date = True
        elif old == new:
            status, detail = "unchanged", ""
        else:
            worst = compare(old, new)
            status = "changed"
            if worst is None:
                detail = " (rows differ)"
                out_of_date = True
            else:
                detail = f" (max relative difference {worst:.3g})"
                if worst > args.rtol:
                    out_of_date = True
                else:
                    status = "unchanged"
                    detail = f" (within --rtol: {worst:.3g})"
        counts[status] += 1
        simulated = new.splitlines()[-1].split(",")[-1]
        print(f"{status:<10} {scenario.name}: simulated time {simulated}{detail}")
        if not args.check and status != "unchanged":
            write_atomically(target, new)

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
