"""The outputs of a run: never over an input nor twice the same file, strict JSON, signals that unwind."""

from __future__ import annotations

import json
import math
import os
import signal
import time

import pytest

from tracing.outputs import Interrupted, check_outputs, summary_json, unwind_on_signals
from tracing.sink import OutputError


@pytest.fixture
def trace(tmp_path, monkeypatch):
    """``in/t.trace`` with a folder ``in/sub`` beside it, the current directory being ``tmp_path``."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in" / "sub").mkdir(parents=True)
    path = tmp_path / "in" / "t.trace"
    path.write_text("p0 compute 1\n")
    return path


def spellings(tmp_path):
    """Names of in/t.trace other than its own: relative, ./, .., absolute, a link, a link to the folder, a hard
    link."""
    (tmp_path / "link.trace").symlink_to("in/t.trace")
    (tmp_path / "folder").symlink_to("in")
    os.link(tmp_path / "in" / "t.trace", tmp_path / "hard.trace")
    return ["in/t.trace", "./in/t.trace", "in/sub/../t.trace", str(tmp_path / "in" / "t.trace"), "link.trace",
            "folder/t.trace", "hard.trace"]


def test_an_output_over_an_input_is_refused_whatever_its_spelling(trace, tmp_path):
    for name in spellings(tmp_path):
        with pytest.raises(OutputError) as caught:
            check_outputs({"--csv": name}, [("trace file", "in/t.trace")])
        assert str(caught.value) == (
            f"{name}: expected an output (--csv) that is not an input, found the trace file in/t.trace"
        )
    assert trace.read_text() == "p0 compute 1\n"


def test_every_kind_of_input_is_protected(trace, tmp_path):
    # The platform and the deployment are inputs too, as are the traces a deployment names.
    (tmp_path / "p.xml").write_text("<platform/>")
    (tmp_path / "d.xml").write_text("<platform/>")
    inputs = [("trace file", "in/t.trace"), ("platform file", "p.xml"), ("deployment file", "d.xml")]
    for option, name, what in [("--paje", "p.xml", "platform file"), ("--summary", "./d.xml", "deployment file"),
                               ("--migrations", "in/../in/t.trace", "trace file")]:
        with pytest.raises(OutputError, match=f"expected an output \\({option}\\) that is not an input, found the "
                                              f"{what}"):
            check_outputs({option: name}, inputs)


def test_two_outputs_cannot_be_one_file(trace, tmp_path):
    # Two new names for one file (one through ".."), an existing file and its hard link, a file and a link to it.
    (tmp_path / "old.csv").write_text("old")
    os.link(tmp_path / "old.csv", tmp_path / "hard.csv")
    (tmp_path / "soft.csv").symlink_to("old.csv")
    for first, second in [("a.csv", "in/../a.csv"), ("old.csv", "hard.csv"), ("soft.csv", "old.csv")]:
        with pytest.raises(OutputError) as caught:
            check_outputs({"--csv": first, "--paje": second}, [("trace file", "in/t.trace")])
        assert str(caught.value) == (
            f"{second}: expected a different file for each output, found the same one twice (--csv and --paje)"
        )


def test_a_device_may_take_several_outputs_and_new_folders_are_made(trace):
    found = check_outputs({"--csv": "/dev/null", "--paje": "/dev/null", "--summary": "out/deep/s.json",
                           "--migrations": None}, [("trace file", "in/t.trace")])
    assert sorted(found) == ["--csv", "--paje", "--summary"]
    assert found["--csv"].through and not found["--summary"].through
    assert os.path.isdir("out/deep") and not os.path.exists("out/deep/s.json")


def test_an_output_whose_folder_cannot_be_made_is_one_line(trace, tmp_path):
    # Through a file: refused as a name; through a dangling link: the folder cannot be made.
    (tmp_path / "dangling").symlink_to("nowhere")
    for name, message in [
        ("in/t.trace/x/run.csv", "in/t.trace/x/run.csv: expected an output file, found a path through a file that "
                                 "is not a folder"),
        ("dangling/run.csv", "dangling: expected a folder for dangling/run.csv, found an error: File exists"),
    ]:
        with pytest.raises(OutputError) as caught:
            check_outputs({"--csv": name}, [])
        assert str(caught.value) == message


@pytest.mark.parametrize("bad, where", [
    ({"simulated_time": math.inf}, "simulated_time"),
    ({"simulated_time": 1.0, "migrations": [{"downtime": 0.1}, {"downtime": math.nan}]}, "migrations[1].downtime"),
    ({"actors": {"p0": {"end": -math.inf}}}, "actors.p0.end"),
])
def test_the_summary_is_strict_json(bad, where):
    value = next(v for v in _numbers(bad) if not math.isfinite(v))
    with pytest.raises(OutputError) as caught:
        summary_json(bad, "s.json")
    assert str(caught.value) == f"s.json: expected finite numbers in the JSON summary, found {value} at {where}"


def test_a_finite_summary_reads_back():
    data = {"simulated_time": 2.5, "actors": {"p0": {"end": 2.5}}, "migrations": [], "counts": {"actions": 3}}
    text = summary_json(data, "s.json")
    assert json.loads(text) == data and text.endswith("}\n")


def _numbers(data):
    if isinstance(data, float):
        yield data
    elif isinstance(data, dict):
        for value in data.values():
            yield from _numbers(value)
    elif isinstance(data, list):
        for value in data:
            yield from _numbers(value)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_unwinds_and_the_handler_comes_back(signum):
    before = signal.getsignal(signum)
    unwound = []
    with pytest.raises(Interrupted) as caught, unwind_on_signals():
        try:
            os.kill(os.getpid(), signum)
            time.sleep(5)  # interrupted by the exception
        finally:
            unwound.append("finally")  # what a context manager's __exit__ would do
    assert caught.value.signum == signum and isinstance(caught.value, KeyboardInterrupt)
    assert unwound == ["finally"] and signal.getsignal(signum) is before


def test_an_ignored_signal_stays_ignored():
    # Under nohup, SIGHUP is ignored: the run must go on, not unwind.
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        with unwind_on_signals():
            os.kill(os.getpid(), signal.SIGHUP)
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, previous)
