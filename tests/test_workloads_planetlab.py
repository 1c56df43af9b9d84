"""The PlanetLab importer on tests/data/workloads/planetlab/day, a folder of three VM files:

* ``alpha.example.org_slice1``: 10 10 20 0      (samples at 0, 300, 600, 900 s)
* ``beta_slice2``:              50 50 " 50" 100 100  (a blank before a value is allowed)
* ``gamma``:                    0 7, no newline at the end

sorted by name, they are vm-0, vm-1 and vm-2.
"""

from __future__ import annotations

import pytest

from replay.errors import WorkloadError
from replay.workloads import VmType
from tests.workload_helpers import DATA, body, hosts, imported

DAY = DATA / "planetlab" / "day"
MIB = 2**20

EXPECTED = """\
# vm-0: alpha.example.org_slice1
d-vm-0 init pm-0
# vm-1: beta_slice2
d-vm-1 init pm-1
# vm-2: gamma
d-vm-2 init pm-2
d-vm-0 vm_create vm-0 pm-0 cores=1 ram=1GiB
d-vm-0 vm_start vm-0
d-vm-0 init vm-0
d-vm-0 load 0.1 600
d-vm-0 load 0.2 300
d-vm-0 load 0 300
d-vm-0 init pm-0
d-vm-0 vm_shutdown vm-0
d-vm-0 vm_destroy vm-0
d-vm-1 vm_create vm-1 pm-1 cores=1 ram=1GiB
d-vm-1 vm_start vm-1
d-vm-1 init vm-1
d-vm-1 load 0.5 900
d-vm-1 load 1 600
d-vm-1 init pm-1
d-vm-1 vm_shutdown vm-1
d-vm-1 vm_destroy vm-1
d-vm-2 vm_create vm-2 pm-2 cores=1 ram=1GiB
d-vm-2 vm_start vm-2
d-vm-2 init vm-2
d-vm-2 load 0 300
d-vm-2 load 0.07 300
d-vm-2 init pm-2
d-vm-2 vm_shutdown vm-2
d-vm-2 vm_destroy vm-2
"""


def test_the_day_as_a_trace():
    # vm-0: 10 % twice -> 0.1 over [0, 600); 20 % -> 0.2 over [600, 900); 0 % -> 0 over [900, 1200)
    # vm-1: 50 % three times -> 0.5 for 900 s; 100 % twice -> 1 for 600 s
    # vm-2: 0 % then 7 % -> 0.07 (7 / 100); every VM: 1 core and the default 1 GiB, round-robin on pm-0, pm-1, pm-2
    text, report = imported("planetlab", [DAY])
    assert body(text) == EXPECTED
    assert text.splitlines()[1] == "# 3 VMs on 8 PMs (round-robin); window [0, end) s of the dataset is dates 0 on here"
    assert (report.vms, report.samples, report.loads, report.end) == (3, 11, 7, 1500)


def test_files_name_the_vms_as_the_folder_does():
    text, _ = imported("planetlab", [DAY / "gamma", DAY / "alpha.example.org_slice1"])
    assert body(text).startswith("# vm-0: gamma\nd-vm-0 init pm-0\n# vm-1: alpha.example.org_slice1\n")


def test_a_window_cuts_every_vm_and_becomes_date_0():
    text, report = imported("planetlab", [DAY], start=450, duration=600)
    lines = body(text).splitlines()
    # window [450, 1050): every VM starts at 450, date 0 of the trace, so no first sleep
    assert not [line for line in lines if " sleep " in line]
    assert [line for line in lines if " load " in line] == [
        "d-vm-0 load 0.1 150",   # the sample at 300 covers [450, 600) of the window
        "d-vm-0 load 0.2 300",   # 600 -> [600, 900)
        "d-vm-0 load 0 150",     # 900 -> [900, 1050), cut by the window's end
        "d-vm-1 load 0.5 450",   # 300 -> [450, 600) and 600 -> [600, 900), merged
        "d-vm-1 load 1 150",     # 900 -> [900, 1050)
        "d-vm-2 load 0.07 150",  # gamma lives [0, 600): its sample at 300 gives [450, 600)
    ]
    assert report.end == 600  # 1050 - 450


def test_a_window_after_a_vm_drops_it():
    text, report = imported("planetlab", [DAY], start=1200)
    # only beta_slice2 (5 samples: [0, 1500)) has something after 1200: it is vm-0, living [1200, 1500)
    assert body(text).splitlines()[:2] == ["# vm-0: beta_slice2", "d-vm-0 init pm-0"]
    assert "d-vm-0 load 1 300\n" in text and report.vms == report.vms_seen == 1


def test_vms_keeps_the_first_n_and_a_seed_draws_them():
    text, _ = imported("planetlab", [DAY], vms=2)
    assert "# vm-1: beta_slice2" in text and "gamma" not in text
    # reservoir sampling with random.Random(1): alpha and beta fill the reservoir, then gamma draws
    # randrange(3) == 0 and replaces alpha; the kept VMs are renamed in dataset order
    text, report = imported("planetlab", [DAY], vms=2, seed=1)
    assert body(text).startswith("# vm-0: beta_slice2\nd-vm-0 init pm-0\n# vm-1: gamma\n")
    assert report.vms_seen == 3


def test_vm_types_and_speed_make_demands_absolute_on_the_pm_they_land_on():
    platform = hosts("g4:1:1860Mf:4GiB", "g5:1:2660Mf:4GiB")
    text, _ = imported("planetlab", [DAY], platform=platform, speed=1e6,
                       vm_types=(VmType(2500, 870 * MIB), VmType(500, 613 * MIB)))
    lines = body(text).splitlines()
    assert [line for line in lines if " vm_create " in line] == [
        "d-vm-0 vm_create vm-0 g4 cores=1 ram=870MiB",  # types round-robin: 2500, 500, 2500 MIPS
        "d-vm-1 vm_create vm-1 g5 cores=1 ram=613MiB",
        "d-vm-2 vm_create vm-2 g4 cores=1 ram=870MiB",
    ]
    assert [line for line in lines if " load " in line] == [
        "d-vm-0 load 0.13440860215053763 600",  # 10 % x 2500 MIPS x 1 Mf/MIPS / 1860 Mf/s (one g4 core)
        "d-vm-0 load 0.26881720430107525 300",  # 20 % x 2500 / 1860
        "d-vm-0 load 0 300",
        "d-vm-1 load 0.09398496240601503 900",  # 50 % x 500 / 2660
        "d-vm-1 load 0.18796992481203006 600",  # 100 % x 500 / 2660
        "d-vm-2 load 0 300",
        "d-vm-2 load 0.09408602150537636 300",  # 7 % x 2500 / 1860
    ]


def test_vm_types_and_speed_with_auto_placement_write_absolute_rates():
    text, report = imported("planetlab", [DAY], speed=1e6, place="auto",
                            vm_types=(VmType(2500, 870 * MIB), VmType(500, 613 * MIB)))
    lines = body(text).splitlines()
    assert text.splitlines()[2].startswith("# each VM has an actor d-<vm>: it creates its VM, starts it, moves in, "
                                           "asks `load <flop/s of the VM>f <seconds>` per sample")
    assert [line for line in lines if " vm_create " in line] == [
        "d-vm-0 vm_create vm-0 auto cores=1 ram=870MiB",  # types round-robin: 2500, 500, 2500 MIPS
        "d-vm-1 vm_create vm-1 auto cores=1 ram=613MiB",
        "d-vm-2 vm_create vm-2 auto cores=1 ram=870MiB",
    ]
    # the PM is not known: p % of MIPS x 1 Mf/MIPS is a rate in flop/s, p x MIPS x 1e6 / 100
    assert [line for line in lines if " load " in line] == [
        "d-vm-0 load 250000000f 600",  # 10 % x 2500 MIPS, twice
        "d-vm-0 load 500000000f 300",  # 20 % x 2500
        "d-vm-0 load 0f 300",
        "d-vm-1 load 250000000f 900",  # 50 % x 500, three times
        "d-vm-1 load 500000000f 600",  # 100 % x 500 (a percentage never exceeds 100: nothing capped)
        "d-vm-2 load 0f 300",
        "d-vm-2 load 175000000f 300",  # 7 % x 2500
    ]
    assert (report.capped, report.rates, report.pms_used) == (0, True, 0)


@pytest.mark.parametrize(("content", "message"), [
    ("10\n101\n", ":2: bad CPU percentage: expected an integer from 0 to 100, found '101'"),
    ("10\n\n5\n", ":2: bad CPU percentage: expected an integer from 0 to 100, found nothing"),
    ("10\n4.5\n", ":2: bad CPU percentage: expected an integer from 0 to 100, found '4.5'"),
    ("-1\n", ":1: bad CPU percentage: expected an integer from 0 to 100, found '-1'"),
    (b"10\n\xff\n", ":2: expected UTF-8 text, found byte 0xff at column 1"),
    ("", ": expected one CPU percentage per line, found an empty file"),
])
def test_bad_lines_stop_the_import_with_their_place(tmp_path, content, message):
    path = tmp_path / "vm1"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(WorkloadError) as caught:
        imported("planetlab", [tmp_path])
    assert str(caught.value) == f"{path}{message}"


def test_a_folder_without_files_and_a_missing_input(tmp_path):
    with pytest.raises(WorkloadError, match=r"expected a folder of PlanetLab VM files, found no file in it"):
        imported("planetlab", [tmp_path])
    with pytest.raises(WorkloadError, match=r"nowhere: expected a PlanetLab VM file or a folder of them, found no "
                                            r"such file"):
        imported("planetlab", [tmp_path / "nowhere"])


def test_options_that_do_not_fit_planetlab():
    with pytest.raises(WorkloadError, match="--vm-types and --speed go together"):
        imported("planetlab", [DAY], vm_types=(VmType(2500, MIB),))
    with pytest.raises(WorkloadError, match="--seed draws a sample of --vms N VMs"):
        imported("planetlab", [DAY], seed=3)
