"""Generate the ``cloud`` family of the fidelity suite: VM CPU sharing on one physical machine, layout by layout.

Each layout places equal tasks on one physical machine (PM) of 1, 2 or 4 cores of 1 Gflop/s: some inside zero, one
or two VMs, some on the PM itself. Every task is its own actor, started at time 0, computing 1e8 flops; the golden
file of a layout then gives each task's end date. A task that ends first ran at one rate all along, so its initial
share of a core is ``1e8 / (end x 1e9)``; the later ends also show how the shares change once tasks finish.

Notation (after SimGrid's ``teshsuite/models/cloud-sharing``): ``( ... )c`` is a PM with ``c`` cores, ``[ ... ]v`` a VM
with ``v`` vCPUs inside it, ``o`` a task and ``[ ]v`` an empty VM. VMs come first, then the PM's own tasks:
``( [oo]2 o )4`` is a 4-core PM holding a 2-vCPU VM with two tasks, plus one task on the PM.

Actors: ``ctl`` creates and starts the VMs (``VM0``, ``VM1``) on the PM; the tasks of VM ``i`` are ``vm<i>_t<j>``
(their first action is ``init VM<i>``, which waits for the VM to start, at time 0), the PM's own are ``pm_t<j>``.
The PMs are ``pm1``, ``pm2`` and ``pm4`` of ``traces/platforms/fid_vm.xml``.

The enumeration (about 120 layouts), numbered in this order as ``cloud_001``, ``cloud_002``, ...:

- no VM: 1 to 3 tasks on each PM;
- one VM, for each (PM cores, vCPUs) in (1, 1), (1, 2), (2, 1), (2, 2), (2, 4), (4, 1), (4, 2), (4, 4) (the VM has
  more vCPUs than the PM has cores in (1, 2) and (2, 4)): 1, 2 or 4 tasks in the VM times 0, 1 or 3 on the PM, and
  an empty VM beside one task;
- two VMs, for each (PM cores, vCPUs, vCPUs) in (1, 1, 1), (2, 1, 1), (2, 1, 2), (2, 2, 2), (4, 1, 2), (4, 2, 2),
  (4, 2, 4), (4, 4, 4): tasks (VM0, VM1, PM) = (1, 1, 0), (2, 1, 1), (4, 2, 0), (1, 0, 2).

Writes ``traces/fidelity/cloud/cloud_<n>.deploy.xml`` and ``cloud_<n>.txt`` (shared trace) for each layout and the
manifest ``tools/simgrid_ref/cloud_layouts.toml``, which ``scenarios.toml`` includes; a file no longer generated is
removed. Then ``python tools/regen_golden.py`` runs SimGrid on them.

    python tools/simgrid_ref/cloud_layouts.py           # (re)write the inputs and the manifest
    python tools/simgrid_ref/cloud_layouts.py --check   # exit 1 if any generated file is missing or differs
    python tools/simgrid_ref/cloud_layouts.py --list    # print the layouts, numbered

Pure standard library; no SimGrid needed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT_DIR = REPO / "traces" / "fidelity" / "cloud"
MANIFEST = REPO / "tools" / "simgrid_ref" / "cloud_layouts.toml"
PLATFORM = "traces/platforms/fid_vm.xml"
GROUP = "cloud"
FLOPS = "1e8"  # per task: 0.1 s alone on a 1 Gflop/s core
PM_CORES = (1, 2, 4)

ONE_VM = ((1, 1), (1, 2), (2, 1), (2, 2), (2, 4), (4, 1), (4, 2), (4, 4))
ONE_VM_TASKS = (1, 2, 4)
ONE_VM_PM_TASKS = (0, 1, 3)
TWO_VMS = ((1, 1, 1), (2, 1, 1), (2, 1, 2), (2, 2, 2), (4, 1, 2), (4, 2, 2), (4, 2, 4), (4, 4, 4))
TWO_VM_TASKS = ((1, 1, 0), (2, 1, 1), (4, 2, 0), (1, 0, 2))


@dataclass(frozen=True)
class Vm:
    vcpus: int
    tasks: int


@dataclass(frozen=True)
class Layout:
    """A PM of ``cores`` cores holding ``vms`` and ``pm_tasks`` tasks of its own."""

    cores: int
    vms: tuple[Vm, ...]
    pm_tasks: int

    @property
    def host(self) -> str:
        return f"pm{self.cores}"

    def notation(self) -> str:
        parts = [f"[{'o' * vm.tasks or ' '}]{vm.vcpus}" for vm in self.vms]
        if self.pm_tasks:
            parts.append("o" * self.pm_tasks)
        return f"( {' '.join(parts)} )" + str(self.cores)

    def tasks(self) -> list[tuple[str, str | None]]:
        """(actor, VM name or None for the PM) for every task, in deployment order."""
        named: list[tuple[str, str | None]] = []
        for index, vm in enumerate(self.vms):
            named += [(f"vm{index}_t{j}", f"VM{index}") for j in range(vm.tasks)]
        named += [(f"pm_t{j}", None) for j in range(self.pm_tasks)]
        return named


def layouts() -> list[Layout]:
    """Every layout of the family, in numbering order (see the module docstring)."""
    found: list[Layout] = []
    for cores in PM_CORES:
        found += [Layout(cores, (), tasks) for tasks in (1, 2, 3)]
    for cores, vcpus in ONE_VM:
        for in_vm in ONE_VM_TASKS:
            found += [Layout(cores, (Vm(vcpus, in_vm),), on_pm) for on_pm in ONE_VM_PM_TASKS]
        found.append(Layout(cores, (Vm(vcpus, 0),), 1))
    for cores, vcpus0, vcpus1 in TWO_VMS:
        for tasks0, tasks1, on_pm in TWO_VM_TASKS:
            found.append(Layout(cores, (Vm(vcpus0, tasks0), Vm(vcpus1, tasks1)), on_pm))
    notations = [layout.notation() for layout in found]
    assert len(set(notations)) == len(notations), "two layouts share a notation"
    return found


def scenario_name(number: int) -> str:
    return f"cloud_{number:03d}"


def description(layout: Layout) -> str:
    return layout.notation()


def trace_text(name: str, layout: Layout) -> str:
    lines = [f"# Fidelity scenario {name} (generated by tools/simgrid_ref/cloud_layouts.py): {layout.notation()}"]
    for index, vm in enumerate(layout.vms):
        lines.append(f"ctl vm_create VM{index} {layout.host} cores={vm.vcpus}")
    lines += [f"ctl vm_start VM{index}" for index in range(len(layout.vms))]
    for actor, vm_name in layout.tasks():
        if vm_name is not None:
            lines.append(f"{actor} init {vm_name}")
        lines.append(f"{actor} compute {FLOPS}")
    return "\n".join(lines) + "\n"


def deploy_text(name: str, layout: Layout) -> str:
    actors = (["ctl"] if layout.vms else []) + [actor for actor, _ in layout.tasks()]
    lines = [
        "<?xml version='1.0'?>",
        '<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">',
        f"<!-- Fidelity scenario {name} (generated by tools/simgrid_ref/cloud_layouts.py): {layout.notation()} -->",
        '<platform version="4.1">',
    ]
    lines += [f'  <actor host="{layout.host}" function="{actor}"/>' for actor in actors]
    lines.append("</platform>")
    return "\n".join(lines) + "\n"


def manifest_text(numbered: list[tuple[str, Layout]]) -> str:
    blocks = [
        "# Generated by tools/simgrid_ref/cloud_layouts.py: do not edit by hand (rerun the generator).\n"
        "# Included by scenarios.toml. Each description is the layout in cloud-sharing notation."
    ]
    rel = OUT_DIR.relative_to(REPO).as_posix()
    for name, layout in numbered:
        blocks.append(
            "\n".join(
                [
                    "[[scenario]]",
                    f'name = "{name}"',
                    f'group = "{GROUP}"',
                    f'platform = "{PLATFORM}"',
                    f'deploy = "{rel}/{name}.deploy.xml"',
                    f'trace = "{rel}/{name}.txt"',
                    f'description = "{description(layout)}"',
                ]
            )
        )
    return "\n\n".join(blocks) + "\n"


def expected_files() -> dict[Path, str]:
    """Every generated file and its content."""
    numbered = [(scenario_name(number), layout) for number, layout in enumerate(layouts(), start=1)]
    files: dict[Path, str] = {MANIFEST: manifest_text(numbered)}
    for name, layout in numbered:
        files[OUT_DIR / f"{name}.txt"] = trace_text(name, layout)
        files[OUT_DIR / f"{name}.deploy.xml"] = deploy_text(name, layout)
    return files


def stale_files(expected: dict[Path, str]) -> list[Path]:
    if not OUT_DIR.is_dir():
        return []
    return sorted(path for path in OUT_DIR.glob("cloud_*") if path.is_file() and path not in expected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a generated file differs")
    parser.add_argument("--list", action="store_true", help="print the numbered layouts and exit")
    args = parser.parse_args(argv)

    if args.list:
        for number, layout in enumerate(layouts(), start=1):
            print(f"{scenario_name(number)}  {layout.notation()}")
        return 0

    expected = expected_files()
    differing = [path for path, text in expected.items() if not path.is_file() or path.read_text() != text]
    stale = stale_files(expected)
    if args.check:
        for path in differing:
            print(f"out of date: {path.relative_to(REPO)}")
        for path in stale:
            print(f"not generated any more: {path.relative_to(REPO)}")
        if differing or stale:
            print("cloud_layouts: run python tools/simgrid_ref/cloud_layouts.py", file=sys.stderr)
            return 1
        print(f"cloud_layouts: {len(expected)} generated files up to date")
        return 0

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for path in differing:
        path.write_text(expected[path], encoding="utf-8")
    for path in stale:
        path.unlink()
    count = len(layouts())
    print(f"cloud_layouts: {count} layouts; {len(differing)} file(s) written, {len(stale)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
