"""Memory per VM (issue 18): the VM benchmark's scenario (``tools/bench_vms.py``) holds few bytes per VM.

Not a timing, and not the resident size (which depends on the allocator): tracemalloc's count of the bytes Python
holds, the same from one run to the next on the same Python. ``tools/bench_memory.py`` measures the same at any
size, with the resident size and the lines of code that hold the most.
"""

from __future__ import annotations

import importlib.util
import tracemalloc
from pathlib import Path
from types import ModuleType

from replay.session import ReplaySession

TOOLS = Path(__file__).resolve().parents[1] / "tools"

VMS = 2_000

#: Bytes per VM held when every VM runs its task. A VM with one task held 8,070 bytes before issue 18 and 2,450
#: after it (CPython 3.11): the VM (208) and its CPU (a resource, 110, its dict of activities, 260, what its
#: executions use, 110), the VM's share of its PM and its task (two activities of 160, their floats and heap
#: entry, ~250), the task's request (80), the actor (240) and its script (110), the action it runs (~110), its
#: deployment entry (~200), the VM's and the actor's names (~120) and the platform's share (~170: a PM per 10 VMs).
#: 4,000 leaves room for other Pythons and small changes, and still fails for what the issue removed: a deque per
#: actor (760 bytes) or a generator frame per actor (350) each nearly take the margin.
BOUND = 4_000


def _bench_vms() -> ModuleType:
    """``tools/bench_vms.py``, which writes the scenario (tools/ is no package)."""
    spec = importlib.util.spec_from_file_location("bench_vms", TOOLS / "bench_vms.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _held_per_vm(folder: Path, vms: int, *, traced: bool) -> float:
    """Replay the scenario of ``folder``; the bytes per VM tracemalloc counts at t = 0.5 s (0 if not ``traced``)."""
    platform, deploy, trace = _bench_vms().write_scenario(folder, vms)
    held: list[int] = []
    if traced:
        tracemalloc.start()
    try:
        session = ReplaySession.open([trace], platform=platform, deploy=deploy)
        if traced:
            session.sim.engine.at(0.5, lambda: held.append(tracemalloc.get_traced_memory()[0]))
        result = session.run()
    finally:
        tracemalloc.stop()
    assert result.counts["vms"] == vms
    return held[0] / vms if traced else 0.0


def test_a_vm_with_one_task_holds_few_bytes(tmp_path: Path) -> None:
    # the same scenario, smaller, first: what a first run imports (numpy, by the first problem of more than a few
    # dozen activities) or caches is not what a VM costs
    (tmp_path / "warm").mkdir()
    _held_per_vm(tmp_path / "warm", 200, traced=False)
    (tmp_path / "run").mkdir()
    per_vm = _held_per_vm(tmp_path / "run", VMS, traced=True)
    assert per_vm < BOUND, f"{per_vm:.0f} bytes per VM, expected under {BOUND}"
