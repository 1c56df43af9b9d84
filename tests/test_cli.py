"""The command line: results, and one clear line on stderr with exit code 1 for every kind of bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.cli import app
from tests.helpers import PLATFORMS, REPO, SHARED_SIMGRID

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def assert_one_line_error(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


# -- every kind of bad input ----------------------------------------------------------------------------------

BAD_TRACES = {
    "unknown action": ("p0 compue 1e9\n", ["t.trace:1:", "unknown action 'compue'"]),
    "missing argument": ("p0 send p1\np1 recv p0\n", ["t.trace:1:", "'send' expects 2 argument"]),
    "extra argument": ("p0 recv p1 p2\np1 send p0 1\n", ["t.trace:1:", "'recv'"]),
    "bad unit": ("p0 compute 12XB\n", ["t.trace:1:", "12XB"]),
    "unknown host": ("p0 init nowhere\np0 compute 1\n", ["t.trace:1:", "'init' expects", "'nowhere'"]),
    "unknown VM": ("p0 vm_start ghost\n", ["t.trace:1:", "'vm_start' expects a VM", "'ghost'"]),
    "unknown actor": ("p0 send p9 10\n", ["t.trace:1:", "expects an actor of the trace", "'p9'"]),
    "illegal VM operation": (
        "p0 vm_create v pm-0\np0 vm_resume v\n",
        ["t.trace:2:", "VM 'v'", "cannot resume in state CREATED"],
    ),
    "unmatched receive": (
        "p0 recv p1\np1 compute 1e9\n",
        ["t.trace:1:", "'recv' expects a matching send on mailbox 'p1_p0', found none", "wait forever"],
    ),
    "deadlock": (  # every receive has its send, but each actor receives first: only the run can tell
        "p0 recv p1\np0 send p1 1\np1 recv p0\np1 send p0 1\n",
        ["deadlock", "t.trace:1: p0 on pm-0 waits on recv on mailbox 'p1_p0': no sender"],
    ),
}


@pytest.mark.parametrize("kind", list(BAD_TRACES))
def test_bad_trace(kind, tmp_path):
    text, fragments = BAD_TRACES[kind]
    trace = write(tmp_path, "t.trace", text)
    summary = tmp_path / "summary.json"
    result = invoke("run", trace, "--summary", summary)
    assert_one_line_error(result, *fragments)
    assert not summary.exists()


def test_illegal_vm_operation_is_also_found_by_validate(tmp_path):
    trace = write(tmp_path, "t.trace", "p0 vm_create v pm-0\np0 vm_resume v\n")
    assert_one_line_error(invoke("validate", trace), "t.trace:2:", "'vm_resume' expects VM 'v' in state SUSPENDED")


def test_missing_file(tmp_path):
    assert_one_line_error(invoke("run", tmp_path / "nope.trace"), "nope.trace", "no such file")


def test_unreadable_file_a_directory(tmp_path):
    assert_one_line_error(invoke("run", tmp_path), str(tmp_path))


def test_not_utf8(tmp_path):
    trace = write(tmp_path, "t.trace", b"p0 compute 1e9\np0 compute \xff\xfe\n")
    assert_one_line_error(invoke("run", trace), "t.trace:2:", "UTF-8")


def test_empty_trace(tmp_path):
    trace = write(tmp_path, "t.trace", "# only a comment\n\n")
    assert_one_line_error(invoke("run", trace), "t.trace", "empty trace")


def test_deployment_naming_a_missing_trace(tmp_path):
    deploy = write(
        tmp_path,
        "d.xml",
        '<?xml version="1.0"?>\n<platform version="4.1">\n'
        '  <actor host="pm-0" function="p0"><argument value="missing.txt"/></actor>\n</platform>\n',
    )
    assert_one_line_error(invoke("run", "--deploy", deploy), "d.xml:3:", "actor 'p0'", "missing.txt")


def test_bad_platform_file(tmp_path):
    plat = write(tmp_path, "p.xml", '<?xml version="1.0"?>\n<platform version="4.1">\n<host id="a" speed="fast"/>\n')
    trace = write(tmp_path, "t.trace", "p0 compute 1\n")
    assert_one_line_error(invoke("run", trace, "--platform", plat), "p.xml:")


def test_usage_error_is_exit_2(tmp_path):
    result = invoke("run", "--network-model", "nope")
    assert result.exit_code == 2


def test_a_real_subprocess_prints_one_line_and_exits_1(tmp_path):
    trace = write(tmp_path, "t.trace", "p0 compue 1e9\n")
    proc = subprocess.run(
        [sys.executable, "-m", "replay", "run", str(trace)], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "t.trace:1:" in proc.stderr and "Traceback" not in proc.stderr


# -- runs ----------------------------------------------------------------------------------------------------

def test_run_prints_a_result_table_and_writes_a_summary(tmp_path):
    summary = tmp_path / "out" / "summary.json"
    summary.parent.mkdir()
    result = invoke("run", REPO / "traces" / "comm" / "pingpong.trace", "--summary", summary)
    assert result.exit_code == 0, result.output
    assert "simulated time" in result.stdout and "events per second" in result.stdout
    data = json.loads(summary.read_text())
    assert set(data) == {"simulated_time", "actors", "vms", "migrations", "counts"}  # no wall time: reproducible
    assert data["actors"]["ping"]["host"] == "pm-0"
    assert data["actors"]["ping"]["end"] <= data["simulated_time"]
    assert data["actors"]["ping"]["status"] == "done" and "cause" not in data["actors"]["ping"]
    assert data["counts"]["actions"] == 16
    again = tmp_path / "again.json"
    assert invoke("run", REPO / "traces" / "comm" / "pingpong.trace", "--summary", again).exit_code == 0
    assert again.read_bytes() == summary.read_bytes()


def test_summary_of_the_simgrid_replay_example(tmp_path):
    # SimGrid's replay-comm example, shared and split forms: 30.897513 s both ways (its tesh file).
    folder = SHARED_SIMGRID / "replay-comm"
    if not folder.exists():
        pytest.skip(f"SimGrid's replay example is not there ({folder}); it comes with ../shared")
    platform = SHARED_SIMGRID / "small_platform_fatpipe.xml"
    shared = tmp_path / "shared.json"
    split = tmp_path / "split.json"
    assert invoke(
        "run", folder / "s4u-replay-comm.txt", "--platform", platform,
        "--deploy", folder / "s4u-replay-comm_d.xml", "--summary", shared, "-q",
    ).exit_code == 0
    assert invoke(
        "run", "--platform", platform, "--deploy", folder / "s4u-replay-comm-split_d.xml", "--summary", split, "-q"
    ).exit_code == 0
    for path in (shared, split):
        data = json.loads(path.read_text())
        assert data["simulated_time"] == pytest.approx(30.897513, rel=1e-6)
        assert {a: d["host"] for a, d in data["actors"].items()} == {"p0": "Tremblay", "p1": "Ruby"}


def test_validate_counts_actions():
    result = invoke("validate", REPO / "traces" / "consolidation.trace")
    assert result.exit_code == 0 and "ok: 57 actions of 9 actors" in result.stdout


def test_network_model_option(tmp_path):
    # One 1e8-byte message alpha -> beta of traces/platforms/small.xml: CM02 has no latency factor (1 instead
    # of 13.01) and no bandwidth factor (1 instead of 0.97), so the same message arrives earlier than with LV08.
    trace = write(tmp_path, "t.trace", "a init alpha\na send b 1e8\nb init beta\nb recv a\n")
    times = {}
    for model in ("LV08", "CM02"):
        summary = tmp_path / f"{model}.json"
        result = invoke("run", trace, "--platform", PLATFORMS / "small.xml", "--network-model", model,
                        "--summary", summary, "-q")
        assert result.exit_code == 0, result.stderr
        times[model] = json.loads(summary.read_text())["simulated_time"]
    assert times["CM02"] < times["LV08"]


def test_output_folders_are_created_and_a_folder_is_not_a_file(tmp_path):
    trace = REPO / "traces" / "comm" / "pingpong.trace"
    nested = tmp_path / "a" / "b" / "summary.json"
    assert invoke("run", trace, "--summary", nested, "-q").exit_code == 0
    assert json.loads(nested.read_text())["counts"]["actors"] == 2
    assert_one_line_error(invoke("run", trace, "--summary", tmp_path, "-q"), "expected an output file, found a folder")
    same = tmp_path / "same.out"
    assert_one_line_error(invoke("run", trace, "--csv", same, "--paje", same, "-q"), "the same one twice")


def test_a_failed_run_leaves_no_trace_file(tmp_path):
    # The run deadlocks after having traced a few events: neither the Paje nor the CSV file may exist after.
    trace = write(tmp_path, "t.trace", "p0 compute 1e9\np0 recv p1\np0 send p1 1\np1 recv p0\np1 send p0 1\n")
    paje, csv = tmp_path / "run.paje", tmp_path / "run.csv"
    assert_one_line_error(invoke("run", trace, "--paje", paje, "--csv", csv), "deadlock")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.trace"]
