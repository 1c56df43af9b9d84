"""The Bitbrains (GWA-T-12) importer on tests/data/workloads/bitbrains/rnd: two VM files, ``;``+tab separated,
with the dataset's header, timestamps labelled ms that are epoch seconds.

* ``1.csv`` (vm-0): 4 cores, 11704 MHz, 64 GiB (67108864 KB); usage 2926, 2926, 5852, 0 MHz at 1376314846 (the
  earliest timestamp: date 0), +300, +600 and +1200 (no row at +900);
* ``2.csv`` (vm-1): 2 cores, 5200 MHz; usage 1300 then 6500 MHz (125 %: above its capacity) at +300 and +600;
  memory provisioned 4194304 then 8388608 KB.
"""

from __future__ import annotations

import pytest

from replay.errors import WorkloadError
from tests.workload_helpers import DATA, body, hosts, imported

RND = DATA / "bitbrains" / "rnd"
HEADER = (RND / "1.csv").read_text().splitlines()[0]
ROW = ("1376314846;\t4;\t11704.000000;\t2926.000000;\t25.000000;\t67108864.000000;\t6129274.133333;\t0.0;\t2.6;"
       "\t0.0;\t0.0")

EXPECTED = """\
# vm-0: 1.csv
d-vm-0 init pm-0
# vm-1: 2.csv
d-vm-1 init pm-1
d-vm-1 sleep 300
d-vm-0 vm_create vm-0 pm-0 cores=4 ram=64GiB
d-vm-0 vm_start vm-0
d-vm-0 init vm-0
d-vm-0 load 0.25 600
d-vm-0 load 0.5 300
d-vm-0 sleep 300
d-vm-0 load 0 300
d-vm-0 init pm-0
d-vm-0 vm_shutdown vm-0
d-vm-0 vm_destroy vm-0
d-vm-1 vm_create vm-1 pm-1 cores=2 ram=8GiB
d-vm-1 vm_start vm-1
d-vm-1 init vm-1
d-vm-1 load 0.25 300
d-vm-1 load 1 300
d-vm-1 init pm-1
d-vm-1 vm_shutdown vm-1
d-vm-1 vm_destroy vm-1
"""


def test_the_two_vms_as_a_trace():
    # vm-0: 2926 / 11704 = 0.25 over [0, 300) and [300, 600): one load; 0.5 over [600, 900); no row until 1200:
    # a row lasts at most 300 s, so [900, 1200) is a sleep; 0 over [1200, 1500), the last row's 300 s
    # vm-1: starts at +300 (its first sleep); 0.25, then 6500 / 5200 = 1.25 capped at 1; memory: the largest of
    # its rows, 8388608 KiB = 8 GiB
    text, report = imported("bitbrains", [RND])
    assert body(text) == EXPECTED
    assert text.splitlines()[1].endswith("window [1376314846, end) s of the dataset is dates 0 on here")
    assert (report.samples, report.loads, report.capped, report.end) == (6, 5, 1, 1500)


def test_start_counts_from_the_earliest_timestamp_of_all_files():
    text, _ = imported("bitbrains", [RND], start=600, duration=300)
    # window [origin + 600, origin + 900): vm-0 reads 0.5, vm-1 is capped at 1
    assert [line for line in body(text).splitlines() if " load " in line] == [
        "d-vm-0 load 0.5 300", "d-vm-1 load 1 300"]


def test_speed_turns_mhz_into_a_fraction_of_the_vcpus_on_the_pm():
    platform = hosts("a:8:3Gf", "b:8:1Gf")
    text, report = imported("bitbrains", [RND], platform=platform, speed=1e6)
    # vm-0 on a: 2926 MHz x 1 Mf/MHz / (4 vCPUs x 3 Gf/s); vm-1 on b: 1300e6 / (2 x 1e9) = 0.65, 6500e6 / 2e9 capped
    assert [line for line in body(text).splitlines() if " load " in line] == [
        f"d-vm-0 load {2926e6 / 12e9!r} 600", f"d-vm-0 load {5852e6 / 12e9!r} 300", "d-vm-0 load 0 300",
        "d-vm-1 load 0.65 300", "d-vm-1 load 1 300"]
    assert report.capped == 1


def test_speed_with_auto_placement_writes_rates_capped_at_the_provisioned_capacity():
    text, report = imported("bitbrains", [RND], speed=1e6, place="auto")
    # the usage in MHz x 1 Mf/MHz, in flop/s for the whole VM; vm-1's 6500 MHz is above its 5200 MHz provisioned:
    # written 5200e6 and counted
    assert [line for line in body(text).splitlines() if " load " in line] == [
        "d-vm-0 load 2926000000f 600", "d-vm-0 load 5852000000f 300", "d-vm-0 load 0f 300",
        "d-vm-1 load 1300000000f 300", "d-vm-1 load 5200000000f 300"]
    assert (report.capped, report.rates) == (1, True)


@pytest.mark.parametrize(("rows", "message"), [
    ([ROW, ROW], ":3: expected a timestamp after 1376314846 (the row before), found 1376314846"),
    ([ROW.replace(";\t4;", ";\tfour;")], ":2: bad CPU cores: expected an integer >= 1, found 'four'"),
    ([ROW.replace("11704.000000", "0")], ":2: bad CPU capacity provisioned [MHZ]: expected a number > 0, found '0'"),
    ([ROW.replace("2926.000000", "-1")], ":2: bad CPU usage [MHZ]: expected a number >= 0, found '-1'"),
    ([ROW.replace(";\t0.0;\t0.0", "")], ":2: expected 11 fields (Timestamp [ms]; CPU cores; CPU capacity "
                                        "provisioned [MHZ]; CPU usage [MHZ]; CPU usage [%]; Memory capacity "
                                        "provisioned [KB]; Memory usage [KB]; Disk read throughput [KB/s]; Disk "
                                        "write throughput [KB/s]; Network received throughput [KB/s]; Network "
                                        "transmitted throughput [KB/s]), found 9"),
    ([ROW.replace("1376314846", "1376314846.5")],
     ":2: bad timestamp (epoch seconds): expected an integer >= 0, found '1376314846.5'"),
    ([], ": expected rows after the header, found none"),
])
def test_bad_rows_are_errors_at_their_line(tmp_path, rows, message):
    path = tmp_path / "7.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    with pytest.raises(WorkloadError) as caught:
        imported("bitbrains", [tmp_path])
    assert str(caught.value) == f"{path}{message}"


def test_the_header_is_checked_but_not_its_spacing(tmp_path):
    path = tmp_path / "1.csv"
    path.write_text(HEADER.replace(";\t", ";").upper() + "\n" + ROW + "\n")
    assert imported("bitbrains", [tmp_path])[1].vms == 1
    path.write_text(ROW + "\n")
    with pytest.raises(WorkloadError) as caught:
        imported("bitbrains", [tmp_path])
    assert str(caught.value).startswith(f"{path}:1: expected the GWA-T-12 header (Timestamp [ms]; CPU cores; ")
    assert str(caught.value).endswith("found '1376314846;\\t4;\\t11704.000000;\\t2926.000000;\\t25.000000;"
                                      "\\t67108864.000000;\\t6129274.13'")  # its first 80 characters
