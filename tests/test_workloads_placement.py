"""Placement of imported VMs: round-robin, first-fit (cores and ramsize, room freed after the end), auto."""

from __future__ import annotations

import pytest

from replay.errors import WorkloadError
from replay.platform import default_platform
from replay.workloads import VmInfo
from replay.workloads.placement import place, platform_pms
from tests.workload_helpers import DATA, body, hosts, imported

GIB = 2**30


def vms(*specs: tuple[float, float, int, float]) -> list[VmInfo]:
    """VMs ``(start, end, cores, ram)``, named vm-0, vm-1 ..."""
    return [VmInfo(rank, f"id-{rank}", start, end, cores, ram, name=f"vm-{rank}")
            for rank, (start, end, cores, ram) in enumerate(specs)]


def test_the_pms_are_the_hosts_matching_the_glob_in_platform_order():
    platform = default_platform()
    assert [host.name for host in platform_pms(platform, "pm-*")] == [f"pm-{rank}" for rank in range(8)]
    assert [host.name for host in platform_pms(platform, "*")][-2:] == ["controller", "storage"]
    with pytest.raises(WorkloadError, match=r"--pms: expected hosts of platform .* matching 'rack-\*', found none "
                                            r"\(its hosts: pm-0, pm-1, pm-2, pm-3, pm-4 \.\.\.\)"):
        platform_pms(platform, "rack-*")


def test_round_robin_cycles_over_the_pms_in_dataset_order_without_checking_room():
    pms = platform_pms(hosts("a:1:1Gf:1GiB", "b:1:2Gf:1GiB"), "*")
    placed = vms((0, 10, 4, 8 * GIB), (0, 10, 1, GIB), (5, 10, 1, GIB))
    assert place(placed, pms, "round-robin", 0.0) == 2
    assert [(v.pm, v.host, v.pm_speed) for v in placed] == [("a", "a", 1e9), ("b", "b", 2e9), ("a", "a", 1e9)]


def test_first_fit_takes_the_first_pm_with_the_cores_and_ram_free_at_the_start():
    pms = platform_pms(hosts("a:2:1Gf:4GiB", "b:4:1Gf:16GiB", "c:4:1Gf"), "*")
    placed = vms(
        (0, 100, 2, GIB),        # a: the first PM, 2 cores free          -> a full (0 cores left)
        (10, 200, 1, GIB),       # a has no core left                     -> b (3 cores, 15 GiB left)
        (20, 300, 2, 8 * GIB),   # a: no core; b: 3 cores, 15 GiB         -> b (1 core, 7 GiB left)
        (30, 300, 1, 8 * GIB),   # a: no core; b: 1 core but 7 GiB < 8    -> c (no ramsize: RAM without limit)
        (101, 300, 2, 4 * GIB),  # vm-0 ended at 100 < 101: a is free again, 4 GiB fit its 4 GiB -> a
    )
    assert place(placed, pms, "first-fit", 0.0) == 3
    assert [v.pm for v in placed] == ["a", "b", "b", "c", "a"]


def test_first_fit_goes_by_start_date_and_frees_room_only_after_the_end():
    pms = platform_pms(hosts("a:2:1Gf", "b:2:1Gf"), "*")
    # dataset order differs from start order: vm-2 (start 0) is placed first, then vm-0 (start 100, the date
    # vm-2 ends: its room is not free yet, so b), then vm-1 (start 101: a is free again)
    placed = vms((100, 200, 2, GIB), (101, 200, 2, GIB), (0, 100, 2, GIB))
    place(placed, pms, "first-fit", 0.0)
    assert [v.pm for v in placed] == ["b", "a", "a"]


def test_first_fit_says_which_vm_and_when_when_no_pm_fits():
    pms = platform_pms(hosts("a:2:1Gf:4GiB", "b:2:1Gf:4GiB"), "*")
    placed = vms((0, 100, 2, GIB), (0, 100, 1, 2 * GIB), (50, 100, 1, 4 * GIB))
    # vm-0 fills a's cores; vm-1 takes b (1 core, 2 GiB left); vm-2 needs 4 GiB: a has no core, b 2 GiB only
    with pytest.raises(WorkloadError) as caught:
        place(placed, pms, "first-fit", 20.0)
    assert str(caught.value) == (
        "first-fit: no PM can take vm-2 (1 core, 4GiB; id-2) at date 30 s: none of the 2 PMs has that many free "
        "cores and that much free RAM then; use a larger platform, fewer VMs (--vms) or --place round-robin")


def test_auto_leaves_the_pm_to_the_run_and_keeps_the_actors_on_the_first_pm():
    text, report = imported("swf", [DATA / "swf" / "small.swf"], place="auto")
    assert report.pms_used == 0
    assert "d-vm-1 init pm-0\nd-vm-1 sleep 50\n" in text
    assert "d-vm-1 vm_create vm-1 auto cores=4 ram=8MiB\n" in text
    assert "d-vm-1 init pm-0\nd-vm-1 vm_shutdown vm-1\n" in text  # out of the VM, onto the first PM


def test_first_fit_from_an_import_and_its_error_as_the_command_shows_it():
    platform = hosts("a:2:1Gf:16MiB", "b:4:1Gf:16MiB")
    # small.swf: vm-0 = job 1 (2 cores, 2 MiB, [0, 100)), vm-1 = job 2 (4 cores, 8 MiB, [50, 350)),
    # vm-2 = job 4 (1 core, --ram, [120, 320))
    text, _ = imported("swf", [DATA / "swf" / "small.swf"], platform=platform, place="first-fit", ram=4 * 2**20)
    # vm-0 -> a (full); vm-1 at 50 -> b; vm-2 at 120: vm-0 ended at 100, a has 2 cores and 14 MiB -> a
    assert [line.split()[3] for line in body(text).splitlines() if " vm_create " in line] == ["a", "b", "a"]
    with pytest.raises(WorkloadError, match=r"no PM can take vm-2 \(1 core, 1GiB; job 4\) at date 120 s"):
        imported("swf", [DATA / "swf" / "small.swf"], platform=platform, place="first-fit")  # 1 GiB > 16 MiB
