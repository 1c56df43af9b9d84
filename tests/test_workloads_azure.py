"""The Azure V2 importer on tests/data/workloads/azure: a vmtable.csv without header, of three VMs

* vm-0 ``Gv0Z...``: created 0, deleted 600, avgcpu 12.5 %, buckets 2 cores and 4 GB;
* vm-1 ``q9Lr...``: created and deleted at 300 (a VM shorter than one reading), 5 %, the open buckets ``>24``
  cores and ``>64`` GB;
* vm-2 ``Zk3P...``: created 600, deleted 1500, 25 %, 4 cores and 0.75 GB;

and two readings files, sorted by timestamp across both: vm-0 reads 10 % at 0 and 300 (and 20 % at 600, its
deletion), vm-1 4 % at 300, vm-2 30.5 % at 600 and 900 (and 3 % at 1500, its deletion), a VM that is not in the
table reads at 0.
"""

from __future__ import annotations

import pytest

from replay.errors import WorkloadError
from tests.workload_helpers import DATA, body, imported

TABLE = DATA / "azure" / "vmtable.csv"
READINGS = [DATA / "azure" / f"vm_cpu_readings-file-{n}-of-2.csv" for n in (1, 2)]
FIRST_ROW = "Gv0ZtF+8zpJEk/Q3s6N0aCA=,sub/A1==,dep+A1==,0,600,90.5,12.5,80.0,Interactive,2,4"

HEADER = """\
# vm-0: Gv0ZtF+8zpJEk/Q3s6N0aCA=
d-vm-0 init pm-0
# vm-1: q9Lr+2mW/xTzHk1YbB7c0aQ=
d-vm-1 init pm-1
d-vm-1 sleep 300
# vm-2: Zk3PqS/7uVnM+eR2wL9dT0g=
d-vm-2 init pm-2
d-vm-2 sleep 600
"""


def lifecycle(vm: str, pm: str, create: str, *loads: str) -> str:
    actor = f"d-{vm}"
    return "".join(f"{actor} {line}\n" for line in (
        f"vm_create {vm} {pm} {create}", f"vm_start {vm}", f"init {vm}", *loads, f"init {pm}",
        f"vm_shutdown {vm}", f"vm_destroy {vm}"))


def test_the_table_alone_is_a_constant_avgcpu_over_each_life():
    text, report = imported("azure", [TABLE])
    assert body(text) == HEADER + (
        # 2 cores, 4 GB -> 4GiB; 12.5 % for its life [0, 600)
        lifecycle("vm-0", "pm-0", "cores=2 ram=4GiB", "load 0.125 600")
        # >24 -> 30 cores, >64 -> 70 GiB; created = deleted = 300: 300 s, as the dataset's analysis counts it
        + lifecycle("vm-1", "pm-1", "cores=30 ram=70GiB", "load 0.05 300")
        # 0.75 GB -> 768 MiB; 25 % over [600, 1500)
        + lifecycle("vm-2", "pm-2", "cores=4 ram=768MiB", "load 0.25 900")
    )
    assert (report.vms, report.samples, report.end) == (3, 3, 1500)


def test_readings_give_the_demand_and_the_life_comes_from_the_table():
    text, report = imported("azure", [TABLE], readings=READINGS)
    assert body(text) == HEADER + (
        # 10 % at 0 and 300 -> 0.1 over [0, 600); the reading at 600 is at its deletion: outside its life
        lifecycle("vm-0", "pm-0", "cores=2 ram=4GiB", "load 0.1 600")
        + lifecycle("vm-1", "pm-1", "cores=30 ram=70GiB", "load 0.04 300")
        # 30.5 % at 600 and 900 -> [600, 1200); no reading at 1200: idle until its deletion at 1500
        + lifecycle("vm-2", "pm-2", "cores=4 ram=768MiB", "load 0.305 600", "sleep 300")
    )
    assert report.samples == 5  # 0 and 300 of vm-0, 300 of vm-1, 600 and 900 of vm-2


def test_the_vms_are_closed_in_time_order_as_the_readings_pass_their_deletion(tmp_path):
    text, _ = imported("azure", [TABLE], readings=READINGS)
    creates = [line.split()[2] for line in body(text).splitlines() if " vm_create " in line]
    destroys = [line.split()[2] for line in body(text).splitlines() if " vm_destroy " in line]
    assert creates == destroys == ["vm-0", "vm-1", "vm-2"]


def test_a_window_cuts_lives_and_stops_reading_at_its_end(tmp_path):
    late = tmp_path / "late.csv"
    late.write_text("1200,Zk3PqS/7uVnM+eR2wL9dT0g=,1,2,50\nnot a reading\n")  # never read: after the window
    text, report = imported("azure", [TABLE], readings=[*READINGS, late], start=300, duration=600)
    # window [300, 900): vm-0 [300, 600), vm-1 [300, 600), vm-2 [600, 900)
    assert [line for line in body(text).splitlines() if " load " in line or " sleep " in line] == [
        "d-vm-2 sleep 300", "d-vm-0 load 0.1 300", "d-vm-1 load 0.04 300", "d-vm-2 load 0.305 300"]
    assert report.end == 600


@pytest.mark.parametrize(("row", "message"), [
    (FIRST_ROW.replace(",4", ",4,x"), "expected 11 fields (vmid, subscriptionid, deploymentid, vmcreated, vmdeleted, "
                                      "maxcpu, avgcpu, p95maxcpu, vmcategory, vmcorecountbucket, vmmemorybucket), "
                                      "found 12"),
    ("," + FIRST_ROW.partition(",")[2], "bad vmid: expected an id, found nothing"),
    (FIRST_ROW.replace(",0,600,", ",0,-5,"), "bad vmdeleted: expected an integer >= 0, found '-5'"),
    (FIRST_ROW.replace(",0,600,", ",700,600,"), "bad vmdeleted: expected an integer >= 700, found '600'"),
    (FIRST_ROW.replace(",12.5,", ",112.5,"), "bad avgcpu: expected a number from 0 to 100, found '112.5'"),
    (FIRST_ROW.replace(",2,4", ",>32,4"), "bad vmcorecountbucket: expected an integer > 0 or >24, found '>32'"),
    (FIRST_ROW.replace(",2,4", ",2.5,4"), "bad vmcorecountbucket: expected an integer > 0 or >24, found '2.5'"),
    (FIRST_ROW.replace(",2,4", ",2,0"), "bad vmmemorybucket (GB): expected a number > 0 or >64, found '0'"),
    (FIRST_ROW.replace(",2,4", ",2,big"), "bad vmmemorybucket (GB): expected a number > 0 or >64, found 'big'"),
])
def test_bad_table_rows_are_errors_at_their_line(tmp_path, row, message):
    table = tmp_path / "vmtable.csv"
    table.write_text(f"{FIRST_ROW}\n{row}\n")
    with pytest.raises(WorkloadError) as caught:
        imported("azure", [table])
    assert str(caught.value) == f"{table}:2: {message}"


@pytest.mark.parametrize(("rows", "message"), [
    ("300,Gv0ZtF+8zpJEk/Q3s6N0aCA=,1,2,3\n0,Gv0ZtF+8zpJEk/Q3s6N0aCA=,1,2,3\n",
     ":2: expected readings sorted by timestamp across the files, found 0 after 300"),
    ("0,Gv0ZtF+8zpJEk/Q3s6N0aCA=,1,2,3\n0,Gv0ZtF+8zpJEk/Q3s6N0aCA=,1,2,4\n",
     ":2: expected one reading per VM and timestamp, found a second one of 'Gv0ZtF+8zpJEk/Q3s6N0aCA=' at 0"),
    ("0,Gv0ZtF+8zpJEk/Q3s6N0aCA=,1,2\n", ":1: expected 5 fields (timestamp, vmid, min, max, avg CPU), found 4"),
    ("0,Gv0ZtF+8zpJEk/Q3s6N0aCA=,1,2,-3\n", ":1: bad avg CPU: expected a number from 0 to 100, found '-3'"),
    ("1e3,Gv0ZtF+8zpJEk/Q3s6N0aCA=,1,2,3\n", ":1: bad timestamp: expected an integer >= 0, found '1e3'"),
])
def test_bad_readings_are_errors_at_their_line(tmp_path, rows, message):
    readings = tmp_path / "readings.csv"
    readings.write_text(rows)
    with pytest.raises(WorkloadError) as caught:
        imported("azure", [TABLE], readings=[readings])
    assert str(caught.value) == f"{readings}{message}"


def test_the_order_holds_across_files():
    with pytest.raises(WorkloadError) as caught:
        imported("azure", [TABLE], readings=list(reversed(READINGS)))
    assert str(caught.value) == (f"{READINGS[0]}:1: expected readings sorted by timestamp across the files, found "
                                 "0 after 1500")


def test_a_vmid_twice_in_the_table_is_an_error_with_readings(tmp_path):
    table = tmp_path / "vmtable.csv"
    table.write_text(f"{FIRST_ROW}\n{FIRST_ROW}\n")
    with pytest.raises(WorkloadError) as caught:
        imported("azure", [table], readings=READINGS)
    assert str(caught.value) == (f"{table}:2: expected each vmid once, found 'Gv0ZtF+8zpJEk/Q3s6N0aCA=' again "
                                 "(first at line 1)")


def test_the_table_is_streamed_and_rows_after_the_last_vm_kept_are_not_read(tmp_path):
    from replay.workloads import ImportOptions, ImportReport, Window
    from replay.workloads.azure import Azure

    table = tmp_path / "vmtable.csv"
    table.write_text(f"{FIRST_ROW}\n{FIRST_ROW}\nthis row is broken\n")
    vms = Azure([table], ImportOptions(), ImportReport("azure")).scan(Window())
    assert next(vms).source == "Gv0ZtF+8zpJEk/Q3s6N0aCA="  # the broken row 3 is not read yet
    with pytest.raises(WorkloadError, match=":3: expected 11 fields"):
        list(vms)
    _, report = imported("azure", [table], vms=2)
    assert report.vms == 2 and report.vms_seen is None


def test_options_that_do_not_fit_azure():
    with pytest.raises(WorkloadError, match=r"--speed: expected only with bitbrains .* azure gives CPU as a fraction"):
        imported("azure", [TABLE], speed=1e6)
    with pytest.raises(WorkloadError, match=r"expected one vmtable\.csv for azure, found 2 inputs"):
        imported("azure", [TABLE, TABLE])
