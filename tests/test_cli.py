"""The command line: results, and one clear line on stderr with exit code 1 for every kind of bad input."""

from __future__ import annotations

import json
import math
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.session import RunResult
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
    # no wall time: reproducible; the embedded platform has wattages, so energy is there
    assert set(data) == {"simulated_time", "actors", "vms", "migrations", "energy", "counts"}
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


# -- outputs never destroy what they should not -------------------------------------------------------------------

PINGPONG = REPO / "traces" / "comm" / "pingpong.trace"
DEPLOYED = (
    '<?xml version="1.0"?>\n<platform version="4.1">\n'
    '  <actor host="pm-0" function="p0"><argument value="p0.trace"/></actor>\n</platform>\n'
)


def leftovers(*folders: Path) -> list[str]:
    return sorted(p.name for folder in folders for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def inputs(tmp_path, monkeypatch):
    """t.trace, p.xml (the default platform's hosts), d.xml naming p0.trace, links to t.trace; cwd is tmp_path."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "t.trace", "p0 compute 2e9\n")
    write(tmp_path, "p0.trace", "p0 compute 2e9\n")
    (tmp_path / "p.xml").write_bytes((REPO / "replay" / "platform" / "data" / "default.xml").read_bytes())
    write(tmp_path, "d.xml", DEPLOYED)
    (tmp_path / "sub").mkdir()
    (tmp_path / "link.trace").symlink_to("t.trace")
    os.link(tmp_path / "t.trace", tmp_path / "hard.trace")
    return tmp_path


OVER_AN_INPUT = {
    # option, its path, the command's inputs, the input it names
    "csv over the trace": ("--csv", "t.trace", ["t.trace"], "trace file t.trace"),
    "paje over the platform, with ./": ("--paje", "./p.xml", ["t.trace", "-p", "p.xml"], "platform file p.xml"),
    "summary over the deployment, with ..": ("--summary", "sub/../d.xml", ["-d", "d.xml"], "deployment file d.xml"),
    "migrations over a trace the deployment names": ("--migrations", "p0.trace", ["-d", "d.xml"], "trace file"),
    "actions over a link to the trace": ("--actions", "link.trace", ["t.trace"], "trace file t.trace"),
    "csv over a hard link to the trace": ("--csv", "hard.trace", ["t.trace"], "trace file t.trace"),
    "csv over the trace, absolute": ("--csv", "ABS/t.trace", ["t.trace"], "trace file t.trace"),
}


@pytest.mark.parametrize("case", list(OVER_AN_INPUT))
def test_an_output_over_an_input_is_refused_before_running(inputs, case):
    option, path, command, named = OVER_AN_INPUT[case]
    path = path.replace("ABS", str(inputs))
    before = {p.name: p.read_bytes() for p in inputs.iterdir() if p.is_file()}
    result = invoke("run", *command, option, path, "--summary" if option != "--summary" else "--csv", "new.out")
    shown = Path(path)  # as typer gives it: pathlib drops a leading ./
    assert_one_line_error(result, f"{shown}: expected an output ({option}) that is not an input, found the {named}")
    assert {p.name: p.read_bytes() for p in inputs.iterdir() if p.is_file()} == before  # nothing new, nothing lost


def test_two_outputs_that_are_one_file_are_refused(inputs):
    (inputs / "old.csv").write_text("old\n")
    (inputs / "soft.csv").symlink_to("old.csv")
    for csv, paje in [("a.csv", "sub/../a.csv"), ("old.csv", "soft.csv")]:
        result = invoke("run", "t.trace", "--csv", csv, "--paje", paje)
        assert_one_line_error(result, f"{csv}: expected a different file for each output, found the same one twice")
    assert (inputs / "old.csv").read_text() == "old\n" and not (inputs / "a.csv").exists()


def test_a_link_output_writes_its_target_and_stays_a_link(inputs):
    # A link to an old summary, and a dangling link to a new one: the targets get the summaries.
    (inputs / "sub" / "old.json").write_text("old\n")
    (inputs / "s.json").symlink_to("sub/old.json")
    (inputs / "n.json").symlink_to("sub/new.json")
    for link, target in [("s.json", "sub/old.json"), ("n.json", "sub/new.json")]:
        assert invoke("run", "t.trace", "--summary", link, "-q").exit_code == 0
        assert (inputs / link).is_symlink()
        assert json.loads((inputs / target).read_text())["simulated_time"] == 1.0  # 2e9 flops at 2 Gf/s


def test_outputs_that_cannot_be_files_are_one_line_errors(inputs):
    (inputs / "loop").symlink_to("loop")
    (inputs / "far").symlink_to("missing/x.json")
    for option, path, found in [("--summary", "loop", "found a symbolic link loop"),
                                ("--csv", "far", "found a link to"), ("--paje", "sub", "found a folder")]:
        assert_one_line_error(invoke("run", "t.trace", option, path), f"{path}: expected ", found)


def test_dev_null_takes_several_outputs_and_stays_a_device(inputs):
    result = invoke("run", "t.trace", "--csv", "/dev/null", "--paje", "/dev/null", "--summary", "/dev/null", "-q")
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.lstat("/dev/null").st_mode) and leftovers(inputs, Path(tempfile.gettempdir())) == []


def run_replay(*args, stdout=subprocess.PIPE, **kwargs) -> subprocess.CompletedProcess:
    """``python -m replay ARGS`` in a subprocess, from the repository (so that it runs this checkout)."""
    return subprocess.run([sys.executable, "-m", "replay", *map(str, args)], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, cwd=REPO, check=False, **kwargs)


def test_dev_stdout_gets_the_output_before_the_table(tmp_path):
    # The summary and the migrations CSV both go to stdout, through the process's own descriptor; then the table.
    proc = run_replay("run", PINGPONG, "--summary", "/dev/stdout", "--migrations", "/dev/stdout")
    assert proc.returncode == 0, proc.stderr
    header, rest = proc.stdout.split("\n", 1)
    assert header.startswith("vm,src,dst,start,end,")
    summary, table = rest.split("\n}\n", 1)
    assert json.loads(summary + "}")["counts"]["actions"] == 16
    assert table.startswith("simulated time")


def test_dev_stdout_goes_where_sys_stdout_goes():
    # In-process (typer's runner replaces sys.stdout), the summary still comes before the table, and /dev/stdout is
    # still the link to the process's descriptor it was.
    before = os.readlink("/dev/stdout")
    result = invoke("run", PINGPONG, "--summary", "/dev/stdout")
    assert result.exit_code == 0, result.stderr
    summary, table = result.stdout.split("\n}\n", 1)
    assert json.loads(summary + "}")["counts"]["actors"] == 2 and table.startswith("simulated time")
    assert os.readlink("/dev/stdout") == before


# -- a run's outputs commit together --------------------------------------------------------------------------

def olds(folder: Path, *names: str) -> dict[str, str]:
    for name in names:
        (folder / name).write_text(f"old {name}\n")
    return {name: f"old {name}\n" for name in names}


def test_a_failure_on_the_summary_leaves_the_old_traces(inputs, monkeypatch):
    # The summary is written last; its failure (a non-finite number) must not leave the new CSV and Paje in place.
    old = olds(inputs, "run.csv", "run.paje", "s.json")
    monkeypatch.setattr(RunResult, "summary", lambda self: {"simulated_time": math.nan})
    result = invoke("run", "t.trace", "--csv", "run.csv", "--paje", "run.paje", "--summary", "s.json")
    assert_one_line_error(result, "s.json: expected finite numbers in the JSON summary, found nan at simulated_time")
    assert {name: (inputs / name).read_text() for name in old} == old and leftovers(inputs) == []


def test_a_device_that_refuses_its_output_leaves_the_old_files(inputs):
    # /dev/full as the second of three outputs: it takes nothing, so the other two keep their old text.
    old = olds(inputs, "run.csv", "s.json")
    result = invoke("run", "t.trace", "--csv", "run.csv", "--paje", "/dev/full", "--summary", "s.json")
    assert_one_line_error(result, "/dev/full: expected a writable output file, found an error: No space left")
    assert {name: (inputs / name).read_text() for name in old} == old and leftovers(inputs) == []


def test_a_deadlock_leaves_every_output_as_it_was(inputs):
    old = olds(inputs, "run.csv", "a.csv")
    write(inputs, "dead.trace", "p0 compute 1e9\np0 recv p1\np0 send p1 1\np1 recv p0\np1 send p0 1\n")
    result = invoke("run", "dead.trace", "--csv", "run.csv", "--actions", "a.csv", "--migrations", "m.csv")
    assert_one_line_error(result, "deadlock")
    assert {name: (inputs / name).read_text() for name in old} == old
    assert not (inputs / "m.csv").exists() and leftovers(inputs) == []


def test_a_date_past_the_clock_writes_no_summary(inputs):
    # Two sleeps of 1e308 s would take the clock to infinity, which JSON cannot hold: the run stops at the second
    # sleep's line, and the old summary stays (the strict JSON writer itself is tested in test_tracing_outputs).
    write(inputs, "long.trace", "p0 sleep 1e308\np0 sleep 1e308\n")
    old = olds(inputs, "s.json")
    result = invoke("run", "long.trace", "--summary", "s.json", "-q")
    assert_one_line_error(result, "long.trace:2: cannot wait 1e+308 s from t=1e+308")
    assert (inputs / "s.json").read_text() == old["s.json"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_a_run_cleans_up(tmp_path, signum):
    # 100,000 actions take seconds; the signal comes once the temporary files exist (the writers are open).
    trace = tmp_path / "long.trace"
    trace.write_text("".join(f"p{i % 2} compute 1e6\n" for i in range(100_000)))
    old = olds(tmp_path, "run.csv", "run.paje")
    proc = subprocess.Popen(
        [sys.executable, "-m", "replay", "run", str(trace), "--csv", str(tmp_path / "run.csv"), "--paje",
         str(tmp_path / "run.paje"), "--summary", str(tmp_path / "s.json")],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while len(leftovers(tmp_path)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, stderr
    assert stderr == f"interrupted by {signal.Signals(signum).name}: no output was written\n" and stdout == ""
    assert {name: (tmp_path / name).read_text() for name in old} == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.trace", "run.csv", "run.paje"]


def test_the_signal_handlers_come_back_after_a_run(inputs):
    before = [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)]
    assert invoke("run", "t.trace", "--csv", "run.csv", "-q").exit_code == 0
    assert [signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)] == before


@pytest.mark.parametrize("how", ["full", "closed", "broken pipe"])
def test_a_stdout_that_cannot_take_the_table_is_one_line(tmp_path, how):
    summary = tmp_path / "s.json"
    if how == "full":
        with open("/dev/full", "w") as full:
            proc = run_replay("run", PINGPONG, "--summary", summary, stdout=full)
    elif how == "closed":
        proc = subprocess.run(["sh", "-c", 'exec "$0" "$@" >&-', sys.executable, "-m", "replay", "run", str(PINGPONG),
                               "--summary", str(summary)], capture_output=True, text=True, cwd=REPO, check=False)
    else:
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            proc = run_replay("run", PINGPONG, "--summary", summary, stdout=write_end)
        finally:
            os.close(write_end)
    found = {"full": "no space left on device", "closed": "it is closed", "broken pipe": "broken pipe"}[how]
    assert proc.returncode == 1
    assert proc.stderr == f"<stdout>: expected to take the result table, found {found}\n"
    assert json.loads(summary.read_text())["counts"]["actions"] == 16  # the outputs are written


@pytest.mark.parametrize("name", ["x" * 246 + ".csv", "é" * 125 + ".json"])
def test_a_long_output_name_is_written(tmp_path, name):
    # 250 characters; 255 bytes (NAME_MAX): the temporary name must not be what makes the write fail.
    result = invoke("run", PINGPONG, "--csv" if name.endswith(".csv") else "--summary", tmp_path / name, "-q")
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


# -- inputs that cannot be read -------------------------------------------------------------------------------

@pytest.mark.parametrize("option, what", [(None, "trace file"), ("-p", "platform file"), ("-d", "deployment file")])
@pytest.mark.parametrize("make, found", [
    (lambda d: (d / "x").mkdir(), "a directory"),
    (lambda d: None, "no such file"),
    (lambda d: (d / "x").symlink_to("x"), "a symbolic link loop"),
])
def test_an_input_that_cannot_be_read_is_one_line(inputs, option, what, make, found):
    make(inputs)
    for command in ("run", "validate"):
        args = ["x"] if option is None else ["t.trace", option, "x"]
        assert_one_line_error(invoke(command, *args), f"x: expected a readable {what}, found {found}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without read permission")
@pytest.mark.parametrize("option, what", [(None, "trace file"), ("-p", "platform file"), ("-d", "deployment file")])
def test_an_input_without_read_permission_is_one_line(inputs, option, what):
    os.chmod(inputs / "p.xml", 0)
    args = ["p.xml"] if option is None else ["t.trace", option, "p.xml"]
    assert_one_line_error(invoke("run", *args), f"p.xml: expected a readable {what}, found no read permission")


# -- a newcomer's first hour ------------------------------------------------------------------------------------

@pytest.mark.parametrize("trace, actors", [
    (PINGPONG, ["ping", "pong"]),
    # the worker runs on vm0, which migrates once: its container is destroyed and made again under pm-1
    (REPO / "traces" / "lifecycle.trace", ["admin", "worker", "worker"]),
])
def test_actors_are_traced_when_asked(tmp_path, trace, actors):
    def process_containers(path: Path) -> list[str]:
        rows = path.read_text().splitlines()
        return sorted(row.split(",")[1] for row in rows if row.startswith("container,") and ",MSG_PROCESS," in row)

    assert invoke("run", trace, "--csv", tmp_path / "plain.csv", "--paje", tmp_path / "plain.paje", "-q").exit_code == 0
    assert invoke("run", trace, "--csv", tmp_path / "a.csv", "--paje", tmp_path / "a.paje", "--actors", "-q",
                  ).exit_code == 0
    assert process_containers(tmp_path / "plain.csv") == [] and process_containers(tmp_path / "a.csv") == actors
    assert "MSG_PROCESS" not in (tmp_path / "plain.paje").read_text()
    assert all(f'"{actor}"' in (tmp_path / "a.paje").read_text() for actor in actors)


def test_actions_csv_gives_every_action_its_dates(tmp_path):
    # p0: 2e9 flops on a 2 Gf/s core (0 to 1 s), then sleeps 0.25 s; p1 sleeps 2 s. Rows in the order actions end.
    trace = write(tmp_path, "t.trace", "p0 compute 2e9\np1 sleep 2\np0 sleep 0.25\n")
    assert invoke("run", trace, "--actions", tmp_path / "a.csv", "-q").exit_code == 0
    frame = pl.read_csv(tmp_path / "a.csv")
    assert frame.columns == ["actor", "file", "line", "action", "start", "end"]
    assert frame.drop("file").rows() == [("p0", 1, "compute", 0.0, 1.0), ("p0", 3, "sleep", 1.0, 1.25),
                                         ("p1", 2, "sleep", 0.0, 2.0)]
    # the pingpong trace: 16 actions, each actor's in file order, the last one ending with the run
    assert invoke("run", PINGPONG, "--actions", tmp_path / "p.csv", "--summary", tmp_path / "s.json", "-q",
                  ).exit_code == 0
    frame = pl.read_csv(tmp_path / "p.csv")
    assert frame.height == 16 and frame["end"].max() == json.loads((tmp_path / "s.json").read_text())["simulated_time"]
    for lines in frame.group_by("actor", maintain_order=True).agg("line")["line"]:
        assert lines.to_list() == sorted(lines)


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout == f"vmreplay {metadata.version('vmreplay')}\n"


@pytest.mark.parametrize("command", [[], ["run"], ["validate"]])
def test_help_shows_flags_as_flags(command):
    text = runner.invoke(app, [*command, "--help"], terminal_width=200).stdout
    assert "<bool>" not in text
    flags = {"": ["--version", "--help"], "run": ["-q, --quiet", "--actors", "--help"], "validate": ["--help"]}
    for flag in flags["".join(command)]:
        [line] = [line for line in text.splitlines() if line.strip().startswith(flag)]
        assert line.split()[len(flag.split())].isalpha() or line.strip() == flag  # followed by help text, no value


WRONG_COMMAND_LINES = {
    "unknown option": ["run", PINGPONG, "--bogus"],
    "missing value": ["run", PINGPONG, "--summary"],
    "bad choice": ["run", PINGPONG, "--network-model", "LV09"],
    "value to a flag": ["run", PINGPONG, "--quiet=yes"],
    "out of range": ["run", PINGPONG, "--precision", "0"],
    "unknown command": ["replay"],
}


@pytest.mark.parametrize("case", list(WRONG_COMMAND_LINES))
def test_a_wrong_command_line_exits_2(case):
    args = WRONG_COMMAND_LINES[case]
    assert invoke(*args).exit_code == 2
    assert run_replay(*args).returncode == 2


def test_model_names_are_case_insensitive(tmp_path):
    # One 1e8-byte message alpha -> beta: every spelling of a model gives that model's date, and CM02 (no latency
    # nor bandwidth factor) is earlier than LV08, raw no later than CM02.
    trace = write(tmp_path, "t.trace", "a init alpha\na send b 1e8\nb init beta\nb recv a\n")
    times = {}
    for model in ("LV08", "lv08", "Lv08", "CM02", "cm02", "raw", "RAW"):
        summary = tmp_path / f"{model}.json"
        result = invoke("run", trace, "--platform", PLATFORMS / "small.xml", "--network-model", model,
                        "--on-stall", "SimGrid", "--summary", summary, "-q")
        assert result.exit_code == 0, result.stderr
        times[model] = json.loads(summary.read_text())["simulated_time"]
    assert times["LV08"] == times["lv08"] == times["Lv08"] and times["CM02"] == times["cm02"]
    assert times["raw"] == times["RAW"] <= times["CM02"] < times["LV08"]


FORCED = (
    "admin vm_create {vm} pm-{src} ram=1GB mig_speed=100MBps dp_intensity={dirty}\n"
    "admin vm_start {vm}\n"
    "{vm}-worker init {vm}\n"
    "{vm}-worker compute 1e12\n"
)


@pytest.mark.parametrize("dirty, forced", [([0], 0), ([1], 1), ([1, 0, 1], 2)])
def test_the_table_counts_migrations_forced_to_stop_and_copy(tmp_path, dirty, forced):
    # A VM whose task dirties its memory (dp_intensity 1) faster than 100 MBps can send it never converges and is
    # forced to stop-and-copy (converged false in the summary); an idle one (0) converges.
    text = "".join(FORCED.format(vm=f"vm{i}", src=i, dirty=d) for i, d in enumerate(dirty))
    text += "admin sleep 1\n" + "".join(f"admin vm_migrate vm{i} pm-{i + 4}\n" for i in range(len(dirty)))
    trace = write(tmp_path, "t.trace", text)
    result = invoke("run", trace, "--summary", tmp_path / "s.json")
    assert result.exit_code == 0, result.stderr
    migrations = json.loads((tmp_path / "s.json").read_text())["migrations"]
    assert sum(not m["converged"] for m in migrations) == forced
    rows = dict(line.rsplit(None, 1) for line in result.stdout.splitlines() if line.strip() and "time" not in line)
    rows = {key.strip(): value for key, value in rows.items()}
    assert rows["migrations"] == str(len(dirty))
    assert rows.get("forced stop-and-copy") == (str(forced) if forced else None)
