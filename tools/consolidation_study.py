"""The consolidation study of docs/consolidation.md: one PlanetLab day, CloudSim's VM types, the policies in the loop.

Imports the day of 3 March 2011 (1,052 VMs) with ``--place auto`` (each VM placed by the run's policy) and
CloudSim's four VM types as absolute rates (``--speed 1Mf``: one MIPS is 1 Mf/s) onto
``traces/platforms/planetlab-two-types.xml`` (400 G4 and 400 G5 hosts), twice: with ``--vm-options
dp_intensity=0`` (a migration costs its RAM over the network, as CloudSim charges it) and with a dirty-page
setting (``dp_intensity=0.3,mig_speed=1Gbps``: a VM computing a full core dirties 30 % of 1 Gbps). Then runs
each policy of ``RUNS`` as a child process (``python -m replay run ... --policy ... --summary``), one after the
other so that the wall times compare, and writes into ``--out`` (default ``docs/``):

* ``consolidation-study.csv``: one row per run, every figure of the summary's ``sla`` and the migrations';
* ``consolidation-study.md``: the tables of docs/consolidation.md, as markdown;
* ``consolidation-energy-sla.png``: energy, SLAV and unserved demand per policy;
* ``consolidation-precopy.png``: migration durations and downtimes without and with dirty pages.

    python tools/consolidation_study.py [--day DIR] [--out docs] [--keep DIR] [--generated] [--duration T]

The day is read from ``--day`` (default: ``../shared/workloads/planetlab/20110303`` beside the repository);
without it (or with ``--generated``) a day of the same shape is generated (``tools/planetlab_day.py``, seeded)
and the outputs say so. ``--duration 6h`` imports the first hours only, for a quicker look. About 3 minutes on
2 CPUs for the day.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from planetlab_day import generated_day

REPO = Path(__file__).resolve().parents[1]
DAY = REPO.parent / "shared" / "workloads" / "planetlab" / "20110303"
PLATFORM = REPO / "traces" / "platforms" / "planetlab-two-types.xml"
VM_TYPES = "2500:870MiB,2000:1740MiB,1000:1740MiB,500:613MiB"
#: vCPUs per core: the smallest VM type has 613 MiB, so a 4 GiB host holds at most 6 VMs (6 x 613 MiB = 3678
#: MiB): with 3 vCPUs a core (6 on 2 cores) the vCPU limit never binds before the RAM does, as in CloudSim,
#: which packs by RAM and requested MIPS
OVERCOMMIT = 3
TRACES = {  # name -> --vm-options
    "dp0": "dp_intensity=0",
    "dirty": "dp_intensity=0.3,mig_speed=1Gbps",
}


@dataclass(frozen=True)
class Run:
    label: str
    trace: str
    policy: str


RUNS = [
    Run("first-fit (all on)", "dp0", f"first-fit:overcommit={OVERCOMMIT}"),
    Run("first-fit, switch_off", "dp0", f"first-fit:overcommit={OVERCOMMIT},switch_off=yes"),
    Run("threshold mmt", "dp0", f"threshold:overcommit={OVERCOMMIT},select=mmt"),
    Run("threshold mu", "dp0", f"threshold:overcommit={OVERCOMMIT},select=mu"),
    Run("mad mmt", "dp0", f"mad:overcommit={OVERCOMMIT},select=mmt"),
    Run("iqr mmt", "dp0", f"iqr:overcommit={OVERCOMMIT},select=mmt"),
    Run("lr mmt", "dp0", f"lr:overcommit={OVERCOMMIT},select=mmt"),
]
#: the consolidating runs again, on the trace with dirty pages
DIRTY_RUNS = [Run(run.label, "dirty", run.policy) for run in RUNS[2:]]

COLUMNS = ["label", "trace", "policy", "energy_kwh", "slatah", "pdm", "slav", "esv", "migrations",
           "migrations_aborted", "downtime_mean", "downtime_max", "unserved_fraction", "power_ons", "power_offs",
           "duration_mean", "duration_max", "rounds_mean", "gib_per_migration", "not_converged", "wall_s"]


def child(command: list[str]) -> float:
    """Run ``command`` from the repository; its wall time in seconds (an error stops the study)."""
    began = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[2:5])}...: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    return time.perf_counter() - began


def row(run: Run, summary: dict, wall: float) -> dict[str, object]:
    """The CSV row of one run: the summary's ``sla`` and what its migrations say."""
    done = [m for m in summary["migrations"] if m["status"] == "done"]
    durations = [m["duration"] for m in done]
    sent = [sum(m["bytes"].values()) / 2**30 for m in done]
    return {"label": run.label, "trace": run.trace, "policy": run.policy, **summary["sla"],
            "duration_mean": statistics.fmean(durations) if done else 0.0,
            "duration_max": max(durations, default=0.0),
            "rounds_mean": statistics.fmean(m["rounds"] for m in done) if done else 0.0,
            "gib_per_migration": statistics.fmean(sent) if done else 0.0,
            "not_converged": sum(not m["converged"] for m in done), "wall_s": wall}


def markdown(rows: list[dict[str, object]], day: str) -> str:
    """The two tables of docs/consolidation.md."""
    lines = [f"Day: {day}; platform {PLATFORM.relative_to(REPO)}; overcommit={OVERCOMMIT}.", "",
             "| policy | energy kWh | SLATAH % | PDM % | SLAV | ESV | migrations | mean downtime ms | unserved % "
             "| wall s |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        if r["trace"] == "dp0":
            lines.append(f"| {r['label']} | {r['energy_kwh']:.1f} | {100 * r['slatah']:.4f} | {100 * r['pdm']:.5f} "
                         f"| {r['slav']:.2e} | {r['esv']:.2e} | {r['migrations']} | {1e3 * r['downtime_mean']:.2f} "
                         f"| {100 * r['unserved_fraction']:.2f} | {r['wall_s']:.1f} |")
    lines += ["", "| policy | dirty pages | migrations | mean duration s | max duration s | mean downtime ms "
              "| max downtime ms | mean rounds | GiB sent per migration | PDM % | unserved % |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    order = list(TRACES)
    for r in sorted((r for r in rows if not str(r["label"]).startswith("first-fit")),
                    key=lambda r: (str(r["label"]), order.index(str(r["trace"])))):
        lines.append(f"| {r['label']} | {TRACES[str(r['trace'])]} | {r['migrations']} | {r['duration_mean']:.2f} "
                     f"| {r['duration_max']:.2f} | {1e3 * r['downtime_mean']:.2f} | {1e3 * r['downtime_max']:.2f} "
                     f"| {r['rounds_mean']:.2f} | {r['gib_per_migration']:.3f} | {100 * r['pdm']:.5f} "
                     f"| {100 * r['unserved_fraction']:.2f} |")
    return "\n".join(lines) + "\n"


def draw(rows: list[dict[str, object]], migrations: dict[str, list[dict]], out: Path, day: str) -> None:
    """The two pictures (small PNGs: 100 dpi, few colours)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = [r for r in rows if r["trace"] == "dp0"]
    labels = [str(r["label"]).replace(", ", ",\n").replace(" (", "\n(") for r in base]
    fig, axes = plt.subplots(1, 4, figsize=(12, 3.6), dpi=100)
    panels = [("energy (kWh)", [r["energy_kwh"] for r in base], "#4c72b0"),
              ("migrations", [r["migrations"] for r in base], "#8172b3"),
              ("SLAV = SLATAH x PDM", [r["slav"] for r in base], "#dd8452"),
              ("unserved demand (%)", [100 * r["unserved_fraction"] for r in base], "#55a868")]
    for ax, (title, values, colour) in zip(axes, panels, strict=True):
        ax.barh(range(len(values)), values, color=colour)
        ax.set_yticks(range(len(values)), labels if ax is axes[0] else [""] * len(values), fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title, fontsize=9)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(f"PlanetLab {day}, 1,052 VMs on 400 G4 + 400 G5 hosts, overcommit={OVERCOMMIT}", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "consolidation-energy-sla.png")
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), dpi=100)
    for trace, colour in (("dp0", "#4c72b0"), ("dirty", "#c44e52")):
        done = [m for m in migrations[trace] if m["status"] == "done"]
        name = TRACES[trace]
        axes[0].hist([m["duration"] for m in done], bins=range(0, 61, 2), histtype="step", lw=1.6, color=colour,
                     label=name)
        rounds = [m["rounds"] for m in done]
        axes[1].hist(rounds, bins=[r - 0.5 for r in range(max(rounds, default=0) + 2)], histtype="step", lw=1.6,
                     color=colour, label=name)
        downtimes = sorted(1e3 * m["downtime"] for m in done)
        axes[2].step(downtimes, [(k + 1) / len(downtimes) for k in range(len(downtimes))], where="post",
                     color=colour, lw=1.6, label=name)
    axes[0].set(xlabel="migration duration (s)", ylabel="migrations")
    axes[1].set(xlabel="pre-copy rounds (stage 2)", ylabel="migrations", yscale="log")
    axes[2].set(xlabel="downtime (ms)", ylabel="share of migrations (CDF)")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.tick_params(labelsize=8)
    axes[2].legend(fontsize=7, loc="lower right")
    fig.suptitle(f"Pre-copy without and with dirty pages: the {len(migrations['dp0'])} migrations of the "
                 "consolidating runs, each way", fontsize=10)
    fig.tight_layout()
    fig.savefig(out / "consolidation-precopy.png")
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs", help="where the CSV, markdown and PNGs go")
    parser.add_argument("--keep", type=Path, help="keep the traces and summaries here")
    parser.add_argument("--day", type=Path, default=DAY, help="the folder of the PlanetLab day 20110303 (default: "
                                                              "../shared/workloads/planetlab/20110303)")
    parser.add_argument("--generated", action="store_true", help="use a generated day even if the real one is there")
    parser.add_argument("--duration", help="import only the first part of the day (e.g. 6h)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = args.keep or Path(scratch)
        work.mkdir(parents=True, exist_ok=True)
        real = args.day.is_dir() and not args.generated
        if not real:
            why = "--generated" if args.generated else f"the PlanetLab day is not at {args.day}"
            print(f"{why} -> a generated day of the same shape (tools/planetlab_day.py, seed 2011)", file=sys.stderr)
        day = args.day if real else generated_day(Path(scratch) / "day")
        name = "20110303" + (f" (first {args.duration})" if args.duration else "") if real else "generated"
        python = [sys.executable, "-m", "replay"]
        for trace, options in TRACES.items():
            window = ["--duration", args.duration] if args.duration else []
            wall = child([*python, "import", "planetlab", str(day), "-o", str(work / f"{trace}.trace"), "--platform",
                          str(PLATFORM), "--place", "auto", "--vm-types", VM_TYPES, "--speed", "1Mf",
                          "--vm-options", options, "--quiet", *window])
            print(f"import {trace:<6} {wall:6.1f} s", flush=True)
        rows: list[dict[str, object]] = []
        migrations: dict[str, list[dict]] = {trace: [] for trace in TRACES}
        for number, run in enumerate(RUNS + DIRTY_RUNS):
            summary_path = work / f"run-{number}.json"
            wall = child([*python, "run", str(work / f"{run.trace}.trace"), "--platform", str(PLATFORM),
                          "--policy", run.policy, "--summary", str(summary_path), "--quiet"])
            summary = json.loads(summary_path.read_text())
            rows.append(row(run, summary, wall))
            migrations[run.trace] += summary["migrations"] if not run.label.startswith("first-fit") else []
            sla = summary["sla"]
            print(f"{run.trace:<6} {run.policy:<40} {wall:6.1f} s  {sla['energy_kwh']:8.1f} kWh  "
                  f"{sla['migrations']:5} migrations  unserved {100 * sla['unserved_fraction']:.2f} %", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "consolidation-study.csv").open("w", newline="") as stream:
        writer = csv.DictWriter(stream, COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    table = markdown(rows, name)
    (args.out / "consolidation-study.md").write_text(table)
    draw(rows, migrations, args.out, name)
    print(table)


if __name__ == "__main__":
    main()
