"""``replay import`` on the command line: its table, one-line errors with exit code 1, atomic output, and the
traces it writes replayed by ``replay run`` (which needs the ``load`` action)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.cli import app
from tests.workload_helpers import DATA, SHARED_WORKLOADS

runner = CliRunner()
DAY = SHARED_WORKLOADS / "planetlab" / "20110303"
INPUTS = {
    "planetlab": [DATA / "planetlab" / "day"],
    "azure": [DATA / "azure" / "vmtable.csv", "--readings", DATA / "azure" / "vm_cpu_readings-file-1-of-2.csv",
              DATA / "azure" / "vm_cpu_readings-file-2-of-2.csv"],
    "bitbrains": [DATA / "bitbrains" / "rnd"],
    "swf": [DATA / "swf" / "small.swf"],
}
#: per format: (VMs, last date of the trace), derived in tests/test_workloads_<format>.py
SHAPES = {"planetlab": (3, 1500), "azure": (3, 1500), "bitbrains": (2, 1500), "swf": (3, 350)}
CORE = 2e9  # the embedded platform's core speed; no PM is shared in these runs, so every demand is served
#: per format, the flops each VM asks: fraction x seconds x vCPUs x core speed, summed over its loads
DEMANDS = {
    "planetlab": {"vm-0": (0.1 * 600 + 0.2 * 300) * CORE, "vm-1": (0.5 * 900 + 1 * 600) * CORE,
                  "vm-2": 0.07 * 300 * CORE},
    # vm-1 has 30 vCPUs on a 4-core PM: it asks 0.04 x 30 = 1.2 cores, which the PM serves
    "azure": {"vm-0": 0.1 * 600 * 2 * CORE, "vm-1": 0.04 * 300 * 30 * CORE, "vm-2": 0.305 * 600 * 4 * CORE},
    "bitbrains": {"vm-0": (0.25 * 600 + 0.5 * 300) * 4 * CORE, "vm-1": (0.25 * 300 + 1 * 300) * 2 * CORE},
    "swf": {"vm-0": 100 * 2 * CORE, "vm-1": 300 * 4 * CORE, "vm-2": 200 * 1 * CORE},
}


def invoke(*args):
    return runner.invoke(app, [str(arg) for arg in args])


def one_line_error(result, expected: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stderr.strip() == expected, result.stderr
    assert "Traceback" not in result.output


def test_import_prints_what_it_did(tmp_path):
    out = tmp_path / "out" / "pl.trace"  # the folder is created
    result = invoke("import", "planetlab", *INPUTS["planetlab"], "-o", out)
    assert result.exit_code == 0, result.output
    rows = dict(re.split(r"\s{2,}", line.strip(), maxsplit=1) for line in result.stdout.splitlines())
    assert rows == {"format": "planetlab", "VMs": "3", "PMs used": "3", "samples": "11", "loads": "7",
                    "last date": "1500 s"}
    assert out.read_text().splitlines()[3:5] == ["# vm-0: alpha.example.org_slice1", "d-vm-0 init pm-0"]


def test_azure_readings_may_follow_the_option_as_a_list(tmp_path):
    out = tmp_path / "az.trace"
    assert invoke("import", "azure", *INPUTS["azure"], "-o", out, "-q").exit_code == 0
    assert "d-vm-2 load 0.305 600\nd-vm-2 sleep 300\n" in out.read_text()  # both files were read


def test_the_embedded_platform_gives_its_pms_and_another_platform_all_its_hosts(tmp_path):
    platform = tmp_path / "p.xml"
    platform.write_text("<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
                        '<platform version="4.1"><zone id="z" routing="Full"><host id="h1" speed="1Gf"/>'
                        '<host id="h2" speed="1Gf"/></zone></platform>\n')
    out = tmp_path / "t.trace"
    assert invoke("import", "swf", *INPUTS["swf"], "-o", out, "-p", platform, "-q").exit_code == 0
    assert [line.split()[3] for line in out.read_text().splitlines() if " vm_create " in line] == ["h1", "h2", "h1"]
    assert invoke("import", "swf", *INPUTS["swf"], "-o", out, "--pms", "h2", "-p", platform, "-q").exit_code == 0
    assert {line.split()[3] for line in out.read_text().splitlines() if " vm_create " in line} == {"h2"}


def test_a_bad_row_is_one_line_and_leaves_no_file(tmp_path):
    folder = tmp_path / "day"
    folder.mkdir()
    (folder / "a").write_text("10\n20\n")
    (folder / "b").write_text("10\nten\n")
    out = tmp_path / "t.trace"
    result = invoke("import", "planetlab", folder, "-o", out)
    one_line_error(result, f"{folder / 'b'}:2: bad CPU percentage: expected an integer from 0 to 100, found 'ten'")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["day"]  # no output, no temporary file


def test_a_failed_import_keeps_the_previous_output(tmp_path):
    out = tmp_path / "t.trace"
    out.write_text("the previous trace\n")
    result = invoke("import", "swf", *INPUTS["swf"], "-o", out, "--place", "first-fit", "--pms", "pm-0")
    one_line_error(result, "first-fit: no PM can take vm-1 (4 cores, 8MiB; job 2) at date 50 s: none of the 1 PMs "
                           "has that many free cores and that much free RAM then; use a larger platform, fewer VMs "
                           "(--vms) or --place round-robin")
    assert out.read_text() == "the previous trace\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["t.trace"]


def test_an_output_that_is_an_input_is_refused(tmp_path):
    table = tmp_path / "vmtable.csv"
    table.write_text((DATA / "azure" / "vmtable.csv").read_text())
    result = invoke("import", "azure", table, "-o", tmp_path / "." / "vmtable.csv")
    one_line_error(result, f"{tmp_path / '.' / 'vmtable.csv'}: expected an output (--output) that is not an input, "
                           f"found the dataset file {table}")
    assert table.read_text() == (DATA / "azure" / "vmtable.csv").read_text()


@pytest.mark.parametrize(("args", "message"), [
    (["swf", "nowhere.swf"], "nowhere.swf: expected a readable SWF file, found no such file"),
    (["swf", INPUTS["swf"][0], "--start", "5parsecs"],
     "--start: unknown unit 'parsecs' in time '5parsecs'; allowed units: w, d, h, m, s, ms, us, ns, ps"),
    (["planetlab", INPUTS["planetlab"][0], "--vm-types", "2500"],
     "--vm-types: expected MIPS:RAM pairs separated by commas (2500:870MiB), found '2500'"),
    (["planetlab", INPUTS["planetlab"][0], "--readings", INPUTS["swf"][0]],
     "--readings: expected only with the azure format, found it with planetlab"),
    (["bitbrains", INPUTS["bitbrains"][0], "--vms", "1", "--seed", "1", "--pms", "rack-*"],
     "--pms: expected hosts of platform <default platform default.xml> matching 'rack-*', found none (its hosts: "
     "pm-0, pm-1, pm-2, pm-3, pm-4 ...)"),
    (["swf", INPUTS["swf"][0], "--duration", "0"], "--duration: expected a duration > 0"),
])
def test_bad_options_are_one_line(tmp_path, args, message):
    result = invoke("import", *args, "-o", tmp_path / "t.trace")
    assert result.exit_code == 1, result.output
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (tmp_path / "t.trace").exists()


def test_a_wrong_format_or_count_is_a_usage_error(tmp_path):
    assert invoke("import", "google", "x", "-o", tmp_path / "t").exit_code == 2
    assert invoke("import", "swf", INPUTS["swf"][0], "--vms", "0", "-o", tmp_path / "t").exit_code == 2


def replayed(tmp_path: Path, trace: Path, *options) -> dict:
    summary = tmp_path / "summary.json"
    result = invoke("run", trace, "--summary", summary, "--quiet", *options)
    assert result.exit_code == 0, result.output
    return json.loads(summary.read_text())


@pytest.mark.parametrize("fmt", list(INPUTS))
def test_the_trace_replays(tmp_path, fmt):
    # needs the simulator's `load` action
    trace = tmp_path / f"{fmt}.trace"
    assert invoke("import", fmt, *INPUTS[fmt], "-o", trace, "-q").exit_code == 0
    summary = replayed(tmp_path, trace)
    vms, end = SHAPES[fmt]
    assert summary["simulated_time"] == end
    assert summary["counts"]["vms"] == summary["counts"]["actors"] == vms
    assert {vm["state"] for vm in summary["vms"].values()} == {"DESTROYED"}
    assert {actor["status"] for actor in summary["actors"].values()} == {"done"}
    for name, flops in DEMANDS[fmt].items():
        assert summary["vms"][name]["demand_flops"] == pytest.approx(flops, rel=1e-12)
        assert summary["vms"][name]["served_flops"] == pytest.approx(flops, rel=1e-12)


@pytest.mark.parametrize("fmt", list(INPUTS))
def test_the_trace_around_its_loads_replays_today(tmp_path, fmt):
    # The lines other than `load` (placement, VM lifecycle, moves in and out) run on the simulator as it is: a
    # load replaced by a sleep of its duration keeps every date.
    trace = tmp_path / f"{fmt}.trace"
    assert invoke("import", fmt, *INPUTS[fmt], "-o", trace, "-q").exit_code == 0
    slept = tmp_path / "slept.trace"
    slept.write_text(re.sub(r" load \S+ ", " sleep ", trace.read_text()))
    summary = replayed(tmp_path, slept)
    assert summary["simulated_time"] == SHAPES[fmt][1]
    assert {vm["state"] for vm in summary["vms"].values()} == {"DESTROYED"}


@pytest.mark.skipif(not DAY.is_dir(), reason=f"the PlanetLab day is not at {DAY} (../shared/workloads)")
def test_the_planetlab_day_end_to_end(tmp_path):
    # Every one of the 1,052 files is read and checked; two hours of each are replayed (needs `load`).
    trace = tmp_path / "day.trace"
    result = invoke("import", "planetlab", DAY, "-o", trace, "--duration", "2h")
    assert result.exit_code == 0, result.output
    assert re.search(r"VMs\s+1,052\n", result.stdout) and re.search(r"samples\s+25,248\n", result.stdout)  # x 24
    lines = trace.read_text().splitlines()
    first = sorted(path.name for path in DAY.iterdir())[0]
    values = (DAY / first).read_text().split()[:24]
    loads = [line.split() for line in lines if line.startswith("d-vm-0 load ")]
    # vm-0 is the first file by name; its first 24 percentages, merged where equal, are its loads
    assert sum(float(load[3]) for load in loads) == 7200
    assert [float(load[2]) for load in loads] == [int(v) / 100 for i, v in enumerate(values)
                                                  if i == 0 or v != values[i - 1]]
    summary = replayed(tmp_path, trace)
    assert summary["simulated_time"] == 7200
    assert summary["counts"]["vms"] == 1052
    assert {vm["state"] for vm in summary["vms"].values()} == {"DESTROYED"}
    # vm-0 asks its percentages of one 2 Gf/s core, 300 s each; 131 or 132 VMs share each 4-core PM
    assert summary["vms"]["vm-0"]["demand_flops"] == pytest.approx(sum(int(v) / 100 * 300 * 2e9 for v in values))
    assert 0 < summary["demand"]["served"] <= summary["demand"]["flops"]


def test_vm_options_end_every_vm_create(tmp_path):
    trace = tmp_path / "t.trace"
    result = invoke("import", "planetlab", *INPUTS["planetlab"], "-o", trace, "-q",
                    "--vm-options", "dp_intensity=0.3, mig_speed=1Gbps,max_downtime=100ms")
    assert result.exit_code == 0, result.output
    assert [line for line in trace.read_text().splitlines() if " vm_create " in line] == [
        f"d-vm-{n} vm_create vm-{n} pm-{n} cores=1 ram=1GiB dp_intensity=0.3 mig_speed=1Gbps max_downtime=100ms"
        for n in range(3)]
    # the trace replays, its VMs made with those options: 1 Gbps = 125e6 B/s
    summary = replayed(tmp_path, trace)
    assert {vm["state"] for vm in summary["vms"].values()} == {"DESTROYED"}


@pytest.mark.parametrize(("options", "message"), [
    ("dp_intensity=1.5",
     "--vm-options: bad dp_intensity in 'vm_create': expected a fraction in [0, 1], found '1.5'"),
    ("dp_intensty=0.3", "--vm-options: unknown vm_create option 'dp_intensty'; expected one of cores, ram, "
                        "dp_intensity, working_set, mig_speed, max_downtime, bound, devsize, skip_stage1, "
                        "skip_stage2, xfer_cpu_overhead, dpt_cpu_overhead; did you mean 'dp_intensity'?"),
    ("mig_speed=fast", "--vm-options: bad mig_speed 'fast' in 'vm_create': cannot read bandwidth 'fast'"),
    ("cores=2", "--vm-options: expected options other than cores and ram (the dataset, --ram or --vm-types give "
                "them), found 'cores=2'"),
    ("dp_intensity=0.3,,mig_speed=1Gbps", "--vm-options: expected key=value pairs separated by commas "
                                          "(dp_intensity=0.3,mig_speed=1Gbps), found ''"),
    ("max_downtime=1s,max_downtime=2s", "--vm-options: expected each vm_create option at most once, found "
                                        "'max_downtime=2s' after 'max_downtime=1s'"),
    # the VMs have the default 1 GiB: a working set must fit it
    ("working_set=2GiB", "--vm-options (a VM of 1GiB): bad working_set in 'vm_create': expected at most ram "
                         "(1073741824.0 bytes), found '2GiB' (2147483648.0 bytes)"),
])
def test_bad_vm_options_are_one_line_naming_the_option(tmp_path, options, message):
    result = invoke("import", "planetlab", *INPUTS["planetlab"], "-o", tmp_path / "t.trace", "--vm-options", options)
    assert result.exit_code == 1, result.output
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "t.trace").exists()


def test_absolute_rates_of_auto_placed_vms_replay_under_a_placement_policy(tmp_path):
    trace = tmp_path / "auto.trace"
    result = invoke("import", "planetlab", *INPUTS["planetlab"], "-o", trace, "-q", "--place", "auto",
                    "--vm-types", "2500:870MiB,500:613MiB", "--speed", "1Mf")
    assert result.exit_code == 0, result.output
    summary = replayed(tmp_path, trace, "--policy", "first-fit")
    # first-fit puts the three one-core VMs on pm-0 (4 cores of 2 Gf/s), one core each: every rate is below a
    # core's speed, so all is served. vm-0 (2500 MIPS): 10 % x 600 s + 20 % x 300 s -> 2.5e9 x (60 + 60);
    # vm-1 (500 MIPS): 50 % x 900 s + 100 % x 600 s -> 5e8 x (450 + 600);
    # vm-2 (2500 MIPS): 7 % x 300 s -> 2.5e9 x 21
    for name, flops in {"vm-0": 2.5e9 * 120, "vm-1": 5e8 * 1050, "vm-2": 2.5e9 * 21}.items():
        assert summary["vms"][name]["demand_flops"] == pytest.approx(flops, rel=1e-12)
        assert summary["vms"][name]["served_flops"] == pytest.approx(flops, rel=1e-12)
    assert {vm["host"] for vm in summary["vms"].values()} == {"pm-0"}
