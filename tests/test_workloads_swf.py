"""The SWF importer on tests/data/workloads/swf/small.swf: a header of ``;`` comments and six jobs.

* job 1: submitted at 0, runs 100 s on 2 allocated processors, requests 1024 KB per processor;
* job 2: submitted at 50, runs 300 s, allocated -1 (unknown) so its 4 requested processors, requested memory -1
  so its used memory, 2048 KB per processor;
* job 3: run time -1 (it never ran: status 5, cancelled): skipped;
* job 4: submitted at 120, runs 200 s on 1 processor, both memories -1;
* job 5: ran 0 s: skipped; job 6: processors -1 allocated and requested: skipped.
"""

from __future__ import annotations

import pytest

from replay.errors import WorkloadError
from tests.workload_helpers import DATA, body, imported

SWF = DATA / "swf" / "small.swf"
JOB = "1 0 10 100 2 -1 -1 2 200 1024 1 1 1 -1 1 -1 -1 -1"

EXPECTED = """\
# vm-0: job 1
d-vm-0 init pm-0
# vm-1: job 2
d-vm-1 init pm-1
d-vm-1 sleep 50
# vm-2: job 4
d-vm-2 init pm-2
d-vm-2 sleep 120
d-vm-0 vm_create vm-0 pm-0 cores=2 ram=2MiB
d-vm-0 vm_start vm-0
d-vm-0 init vm-0
d-vm-0 load 1 100
d-vm-0 init pm-0
d-vm-0 vm_shutdown vm-0
d-vm-0 vm_destroy vm-0
d-vm-1 vm_create vm-1 pm-1 cores=4 ram=8MiB
d-vm-1 vm_start vm-1
d-vm-1 init vm-1
d-vm-1 load 1 300
d-vm-1 init pm-1
d-vm-1 vm_shutdown vm-1
d-vm-1 vm_destroy vm-1
d-vm-2 vm_create vm-2 pm-2 cores=1 ram=1GiB
d-vm-2 vm_start vm-2
d-vm-2 init vm-2
d-vm-2 load 1 200
d-vm-2 init pm-2
d-vm-2 vm_shutdown vm-2
d-vm-2 vm_destroy vm-2
"""


def test_jobs_as_vms_at_full_demand():
    # job 1: 1024 KiB x 2 processors = 2 MiB; job 2: 2048 KiB (used) x 4 = 8 MiB; job 4: the default 1 GiB.
    # Each VM starts at its job's submit time (the wait time is not replayed) and asks 1 for its run time.
    text, report = imported("swf", [SWF])
    assert body(text) == EXPECTED
    assert report.skipped == {"jobs without a run time": 2, "jobs without a processor count": 1}
    assert report.end == 350  # job 2: 50 + 300


def test_ram_is_the_memory_of_jobs_that_give_none():
    text, _ = imported("swf", [SWF], ram=512 * 2**20)
    assert "d-vm-2 vm_create vm-2 pm-2 cores=1 ram=512MiB\n" in text


def test_a_window_cuts_jobs_and_sleeps_are_relative_to_its_start():
    text, _ = imported("swf", [SWF], start=100, duration=100)
    # window [100, 200): job 1 ends at 100 (dropped), job 2 lives [100, 200), job 4 [120, 200)
    assert [line for line in body(text).splitlines() if " load " in line or " sleep " in line] == [
        "d-vm-1 sleep 20", "d-vm-0 load 1 100", "d-vm-1 load 1 80"]


@pytest.mark.parametrize(("job", "message"), [
    (JOB.rsplit(" ", 1)[0], "expected 18 fields (job number, submit time, wait time, run time, allocated "
                            "processors, average CPU time, used memory, requested processors, requested time, "
                            "requested memory, status, user, group, executable, queue, partition, preceding job, "
                            "think time), found 17"),
    (JOB.replace(" 100 ", " 1OO ", 1), "bad run time: expected a number, found '1OO'"),
    (JOB.replace("1 0 10", "1 -5 10", 1), "bad submit time: expected a number >= 0, found '-5'"),
    (JOB.replace(" 100 2 ", " 100 2.5 ", 1), "bad processors: expected a whole number, found '2.5'"),
])
def test_bad_jobs_are_errors_at_their_line(tmp_path, job, message):
    path = tmp_path / "log.swf"
    path.write_text(f"; Version: 2.2\n\n{JOB}\n{job}\n")
    with pytest.raises(WorkloadError) as caught:
        imported("swf", [path])
    assert str(caught.value) == f"{path}:4: {message}"


def test_no_job_in_the_window_is_an_error():
    with pytest.raises(WorkloadError, match=r"expected VMs living in the window \[1000, end\) s of the dataset, "
                                            "found none"):
        imported("swf", [SWF], start=1000)
