"""The trace writer of the importers: one actor per VM, loads merged, gaps slept, everything cut to the VM's life."""

from __future__ import annotations

import io
import math

import pytest

from replay.workloads import ImportReport, VmInfo, Window
from replay.workloads.model import select
from replay.workloads.writer import TraceWriter, comment_text, number, size


def vm(index: int = 0, start: float = 0.0, end: float = 900.0, *, cores: int = 1, ram: float = 2**30) -> VmInfo:
    placed = VmInfo(index, f"id-{index}", start, end, cores, ram, name=f"vm-{index}")
    placed.pm = placed.host = "pm-0"
    return placed


EVERYTHING = Window()


def written(window: Window = EVERYTHING, *samples, vms=None) -> tuple[list[str], ImportReport]:
    """Write ``samples`` (vm, date, fraction, duration) then close every VM; the body's lines."""
    report = ImportReport("test")
    stream = io.StringIO()
    writer = TraceWriter(stream, window, report)
    for sample in samples:
        writer.sample(*sample)
    for one in vms or sorted({id(s[0]): s[0] for s in samples}.values(), key=lambda v: v.index):
        writer.close(one)
    return stream.getvalue().splitlines(), report


CREATE = ["d-vm-0 vm_create vm-0 pm-0 cores=1 ram=1GiB", "d-vm-0 vm_start vm-0", "d-vm-0 init vm-0"]
DESTROY = ["d-vm-0 init pm-0", "d-vm-0 vm_shutdown vm-0", "d-vm-0 vm_destroy vm-0"]


def test_numbers_are_integers_without_a_dot_else_the_shortest_exact_text():
    assert [number(300.0), number(0.47), number(47 / 100), number(1.0), number(0.0), number(1e-05)] == [
        "300", "0.47", "0.47", "1", "0", "1e-05"]
    assert float(number(0.1 * 2500 / 1860)) == 0.1 * 2500 / 1860  # round-trips
    assert number(1e20) == "1e+20"  # too large for an exact integer text: still exact as a double


def test_sizes_take_the_largest_binary_unit_that_divides_them():
    assert [size(4 * 2**30), size(870 * 2**20), size(0.75 * 2**30), size(3 * 1024), size(1000), size(1.5)] == [
        "4GiB", "870MiB", "768MiB", "3KiB", "1000B", "1.5B"]


def test_comment_text_escapes_what_would_break_a_line():
    assert comment_text("plain id+/=") == "plain id+/="
    assert comment_text("two\nlines\x00") == "two\\nlines\\x00"
    assert comment_text("bad\udcff") == "bad\\udcff"  # a file name that is not UTF-8 (surrogateescape)


def test_equal_samples_that_touch_are_one_load_and_a_change_starts_another():
    one = vm()
    lines, report = written(Window(), (one, 0, 0.47, 300), (one, 300, 0.47, 300), (one, 600, 0.5, 300))
    # [0, 600) at 0.47 (two samples), [600, 900) at 0.5: the VM's life is [0, 900)
    assert lines == [*CREATE, "d-vm-0 load 0.47 600", "d-vm-0 load 0.5 300", *DESTROY]
    assert (report.samples, report.loads) == (3, 2)


def test_a_gap_between_samples_is_a_sleep_and_so_is_the_end_of_life_without_samples():
    one = vm(end=1500)
    lines, _ = written(Window(), (one, 0, 0.2, 300), (one, 600, 0.2, 300))
    # [0, 300) 0.2, [300, 600) no sample, [600, 900) 0.2 (not merged: they do not touch), [900, 1500) nothing
    assert lines == [*CREATE, "d-vm-0 load 0.2 300", "d-vm-0 sleep 300", "d-vm-0 load 0.2 300",
                     "d-vm-0 sleep 600", *DESTROY]


def test_a_sample_lasts_until_the_next_one_when_it_comes_early():
    one = vm()
    lines, _ = written(Window(), (one, 0, 0.1, 300), (one, 200, 0.3, 300))
    # 0.1 over [0, 200) (the next sample comes at 200), 0.3 over [200, 500), nothing over [500, 900)
    assert lines == [*CREATE, "d-vm-0 load 0.1 200", "d-vm-0 load 0.3 300", "d-vm-0 sleep 400", *DESTROY]


def test_samples_are_cut_to_the_life_and_those_outside_it_are_not_counted():
    one = vm(start=450, end=1050)  # a window [450, 1050) cut it
    lines, report = written(Window(450, 1050), (one, 0, 0.9, 300), (one, 300, 0.1, 300), (one, 600, 0.2, 300),
                            (one, 900, 0.3, 300), (one, 1200, 0.4, 300))
    # 0 -> [0, 300): before the life, ignored; 300 -> [450, 600); 600 -> [600, 900); 900 -> [900, 1050); 1200: after
    assert lines == [*CREATE, "d-vm-0 load 0.1 150", "d-vm-0 load 0.2 300", "d-vm-0 load 0.3 150", *DESTROY]
    assert report.samples == 3


def test_fractions_above_one_are_capped_and_counted():
    one = vm(end=600)
    lines, report = written(Window(), (one, 0, 1.25, 300), (one, 300, 1.0, 300))
    assert lines == [*CREATE, "d-vm-0 load 1 600", *DESTROY]  # 1.25 -> 1, then merged with the 1 that follows
    assert report.capped == 1


def test_a_vm_without_samples_lives_idle():
    lines, report = written(Window(), vms=[vm(end=600)])
    assert lines == [*CREATE, "d-vm-0 sleep 600", *DESTROY]
    assert report.loads == 0


def test_flush_writes_the_merged_loads_and_keeps_the_sample_whose_end_is_unknown():
    one = vm(end=1200)
    stream = io.StringIO()
    writer = TraceWriter(stream, Window(), ImportReport("test"))
    for date in (0, 300, 600):
        writer.sample(one, date, 0.5, 300)
    writer.flush()
    assert stream.getvalue().splitlines() == [*CREATE, "d-vm-0 load 0.5 600"]  # [600, 900) may still merge
    writer.sample(one, 900, 0.5, 300)
    writer.close(one)
    # after the flush, [600, 1200) is one more load: the first one is already written
    assert stream.getvalue().splitlines()[4:] == ["d-vm-0 load 0.5 600", *DESTROY]


def test_the_header_places_each_actor_and_sleeps_until_its_vm_starts():
    report = ImportReport("swf")
    stream = io.StringIO()
    early, late = vm(0, 100, 400), vm(1, 250, 400)
    TraceWriter(stream, Window(100, math.inf), report).header([early, late], 8, "round-robin", inputs="x.swf")
    assert stream.getvalue().splitlines()[3:] == [
        "# vm-0: id-0", "d-vm-0 init pm-0",  # starts at the window's start: no sleep
        "# vm-1: id-1", "d-vm-1 init pm-0", "d-vm-1 sleep 150",  # 250 - 100
    ]
    assert report.end == 300  # 400 - 100


def test_select_keeps_the_first_n_or_a_seeded_sample_in_dataset_order():
    vms = [vm(index) for index in range(10)]
    report = ImportReport("test")
    assert [v.index for v in select(iter(vms), 3, None, report)] == [0, 1, 2]
    assert report.vms_seen is None  # it stopped reading after the third
    sampled = [v.index for v in select(iter(vms), 3, 7, report)]
    assert sampled == sorted(sampled) and len(set(sampled)) == 3 and report.vms_seen == 10
    assert sampled == [v.index for v in select(iter(vms), 3, 7, ImportReport("test"))]  # same seed, same VMs
    assert [v.index for v in select(iter(vms[:2]), 3, 7, report)] == [0, 1]


@pytest.mark.parametrize("fraction", [0.0, 0.333, 1.0])
def test_every_written_load_reads_back_as_a_trace_number(fraction):
    from replay.trace.grammar import Place

    one = vm(end=300)
    lines, _ = written(Window(), (one, 0, fraction, 300))
    load = next(line for line in lines if " load " in line).split()
    assert Place("t", 1, "d-vm-0", "load").number(load[2], "fraction") == fraction
