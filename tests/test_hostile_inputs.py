"""Hostile inputs, class by class: a run ends or stops with one line naming the place, never hangs, never leaves
a traceback. Each class has at least two inputs of its own; the random sweep over every number is in
``tests/test_hostile_numbers.py``."""

from __future__ import annotations

import os
import subprocess
import sys

import polars as pl
import pytest

from replay.errors import ClockError, PlatformError, ReplayError, TraceSyntaxError
from replay.platform import load_deployment_string, load_platform, load_platform_string, xml_reader
from replay.session import ReplaySession
from tests.helpers import REPO, platform

PLATFORM = '<?xml version="1.0"?><platform version="4.1"><zone id="z" routing="Full">{}</zone></platform>'


def run(tmp_path, text, *, deploy=None):
    trace = tmp_path / "t.trace"
    trace.write_text(text)
    path = None
    if deploy is not None:
        path = tmp_path / "d.xml"
        path.write_text(PLATFORM.format("").replace('<zone id="z" routing="Full"></zone>', deploy))
    return ReplaySession.open([trace], deploy=path).run()


# -- 7: the clock never stops -------------------------------------------------------------------------------------
def test_work_below_the_clocks_resolution_completes_at_that_date(tmp_path):
    # At 1e16 s a double's resolution is 2 s: 1e3 flops at 2e9 flop/s (5e-7 s) cannot move the clock, so the
    # computation completes at 1e16 (the documented rule), where the engine used to loop forever.
    result = run(tmp_path, "p0 sleep 1e16\np0 compute 1e3\n")
    assert result.actors["p0"]["end"] == 1e16
    # The same from a deployment's start time of 1e308.
    result = run(tmp_path, "p0 compute 1e9\n", deploy='<actor host="pm-0" function="p0" start_time="1e308"/>')
    assert result.actors["p0"]["end"] == 1e308


def test_a_date_past_the_largest_double_is_an_error_at_its_line(tmp_path):
    with pytest.raises(ClockError, match=r"t.trace:2: cannot wait 1e\+308 s from t=1e\+308"):
        run(tmp_path, "p0 sleep 1e308\np0 sleep 1e308\n")
    # 1e200 flops in a VM capped at 1e-200 flop/s end past the largest double: named by the line that waits
    with pytest.raises(ClockError, match=r"t.trace:4: activity 'w' would end past the largest date"):
        run(tmp_path, "a vm_create v pm-0 bound=1e-200\na vm_start v\nw init v\nw compute 1e200\n")


def test_extreme_priorities_give_finite_dates(tmp_path):
    # A priority of 1e-300 alone on a 2 Gf/s core: its share level overflows, its bound (one core) holds: 0.5 s.
    assert run(tmp_path, "p0 compute 1e9 1e-300\n").simulated_time == 0.5
    # Next to four actors of priority 1 on a 4-core PM, it gets (nearly) nothing until they end at 0.5 s, then a
    # whole core: 0.5 + 0.5 = 1 s. A priority of 1e300 takes its core at once: 0.5 s.
    lines = "".join(f"q{i} init pm-0\nq{i} compute 1e9\n" for i in range(4))
    assert run(tmp_path, "p0 init pm-0\np0 compute 1e9 1e-300\n" + lines).actors["p0"]["end"] == 1.0
    assert run(tmp_path, "p0 init pm-0\np0 compute 1e9 1e300\n" + lines).actors["p0"]["end"] == 0.5


# -- 8: reads are bounded -----------------------------------------------------------------------------------------
def test_devices_and_pipes_are_refused_as_platforms_and_deployments(tmp_path):
    fifo = tmp_path / "fifo.xml"
    os.mkfifo(fifo)
    for path in ("/dev/zero", fifo):
        with pytest.raises(PlatformError, match="expected a regular file, found a pipe, a socket or a device"):
            load_platform(path)
    trace = tmp_path / "t.trace"
    trace.write_text("p0 compute 1\n")
    with pytest.raises(PlatformError, match="/dev/zero: expected a regular file"):
        ReplaySession.open([trace], deploy="/dev/zero")


def test_sizes_have_limits(tmp_path, monkeypatch):
    cluster = '<cluster id="c" prefix="h" suffix="" radical="{}" speed="1Gf" bw="1GBps" lat="1us"/>'
    for radical, count in (("0-99999999", "100,000,000"), ("0-600000,0-600000", "1,200,002")):
        with pytest.raises(PlatformError, match=f"names {count} nodes; expected at most 1,000,000 hosts"):
            load_platform_string(PLATFORM.format(cluster.format(radical)))
    monkeypatch.setattr(xml_reader, "MAX_XML_BYTES", 100)
    big = tmp_path / "big.xml"
    big.write_text(PLATFORM.format('<host id="a" speed="1Gf"/>' * 10))
    with pytest.raises(PlatformError, match=r"big.xml: expected a file of at most 0 MiB"):
        load_platform(big)


# -- 9: overflowing numbers are one-line errors --------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("p0 compute 0x1p2000\n", r"t.trace:1: bad number of flops '0x1p2000'.*out of the range of a double"),
        ("p0 sleep -0x1p5000\n", r"t.trace:1: bad duration '-0x1p5000'.*out of the range of a double"),
        ("a vm_create v pm-0 xfer_cpu_overhead=1e300\n", r"t.trace:1: bad options in 'vm_create': xfer_cpu_overhead"),
        ("a vm_create v pm-0 dpt_cpu_overhead=1e300 ram=1e300\n", r"t.trace:1: bad options.*dpt_cpu_overhead"),
    ],
)
def test_overflowing_trace_numbers(tmp_path, text, message):
    with pytest.raises(TraceSyntaxError, match=message):
        run(tmp_path, text)


def test_overflowing_platform_numbers():
    for attribute in ('speed="0x1p2000f"', 'speed="1Gf" core="9999999999999999999999999999999999999999"',
                      'speed="1e308f" core="10"'):
        with pytest.raises(PlatformError) as error:
            load_platform_string(PLATFORM.format(f'<host id="a" {attribute}/>'))
        assert "\n" not in str(error.value) and "<string>" in str(error.value)


def test_a_downtime_that_allows_anything_skips_stage_2(tmp_path):
    # max_downtime of 1e300 s makes the threshold overflow: it is infinite, so whatever is dirtied fits and the
    # migration goes to stop-and-copy right after stage 1 (it used to crash converting infinity to bytes).
    text = ("a vm_create v pm-0 ram=100GiB max_downtime=1e300s dp_intensity=1 mig_speed=1GBps\na vm_start v\n"
            "w init v\nw compute 1e12\na vm_migrate v pm-1\n")
    [migration] = run(tmp_path, text).migrations
    assert (migration["rounds"], migration["bytes"]["stage2"], migration["converged"]) == (0, 0, True)
    assert migration["bytes"]["stage3"] > 0  # the pages dirtied during stage 1


# -- 12: deployment numbers through SimGrid's parser, and kill_time --------------------------------------------------
@pytest.mark.parametrize(("value", "ok"), [("1_0", False), ("10 s", False), ("0x1p3", True), ("inf", False)])
def test_deployment_times_are_read_as_simgrid_reads_them(value, ok):
    xml = PLATFORM.format("").replace('<zone id="z" routing="Full"></zone>',
                                      f'<actor host="pm-0" function="p" start_time="{value}"/>')
    if ok:
        assert load_deployment_string(xml)[0].start_time == 8.0
    else:
        with pytest.raises(PlatformError, match=f"<string>:1: start_time '{value}' is not a"):
            load_deployment_string(xml)


# -- 13, 14: what a name can hold ---------------------------------------------------------------------------------
def test_a_byte_order_mark_only_starts_a_file(tmp_path):
    bom = "\ufeff"
    one, two = tmp_path / "a.trace", tmp_path / "b.trace"
    one.write_text(f"{bom}p0 compute 1\n")
    two.write_text(f"{bom}p1 compute 1\n")
    assert ReplaySession.open([one, two]).run().counts["actors"] == 2  # each file may start with one
    (tmp_path / "t.trace").write_text(one.read_text() + two.read_text())  # cat a.trace b.trace
    with pytest.raises(TraceSyntaxError, match=r"t.trace:2: .*found a byte-order mark \(U\+FEFF\) at column 1"):
        ReplaySession.open([tmp_path / "t.trace"])
    with pytest.raises(TraceSyntaxError, match=r"t.trace:1: .*byte-order mark"):
        run(tmp_path, f"p0 compute{bom} 1\n")


def test_names_cannot_hold_double_quotes(tmp_path):
    for text in ('a vm_create x"y pm-0\n', 'p"0 compute 1\n'):
        with pytest.raises(TraceSyntaxError, match=r"found a double quote at column \d+: no name may hold one"):
            run(tmp_path, text)
    for body in ('<host id="a&quot;b" speed="1Gf"/>', '<link id="l&quot;" bandwidth="1GBps"/>'):
        with pytest.raises(PlatformError, match="expected a name without double quotes"):
            platform(body)


@pytest.mark.skipif(not os.path.exists("/usr/bin/pj_dump"), reason="PajeNG's pj_dump is not installed")
def test_names_with_commas_survive_csv_and_paje(tmp_path):
    trace = tmp_path / "t.trace"
    trace.write_text("a vm_create x,y pm-0\na vm_start x,y\nw,1 init x,y\nw,1 compute 1e9\n")
    csv, paje = tmp_path / "t.csv", tmp_path / "t.paje"
    proc = subprocess.run([sys.executable, "-m", "replay", "run", str(trace), "--csv", str(csv), "--paje", str(paje),
                           "--quiet"], cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    vms = pl.read_csv(csv).filter(pl.col("type") == "MSG_VM")["container"].to_list()
    assert vms == ["x,y"]
    dump = subprocess.run(["pj_dump", str(paje)], capture_output=True, text=True, check=False)
    assert dump.returncode == 0 and "x,y" in dump.stdout


def test_every_error_of_this_module_is_one_line(tmp_path):
    for text in ("p0 sleep 1e308\np0 sleep 1e308\n", "p0 compute 0x1p2000\n"):
        with pytest.raises(ReplayError) as error:
            run(tmp_path, text)
        assert "\n" not in str(error.value)
