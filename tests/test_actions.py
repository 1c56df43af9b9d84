"""Tests of replay/trace/: the action-trace grammar, its error messages, and the streaming trace sources.

Expected records are written out by hand from the grammar table of the module docstring; expected messages are
the exact one-liners a user sees (``path:line: what was expected, found what``), except for the part that
:mod:`replay.units` words, which only has to name the offending text.
"""

from __future__ import annotations

import contextlib
import math
import os
import stat
import tempfile
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replay.errors import LookupFailure, TraceSyntaxError
from replay.trace import SharedTrace, SplitTrace, iter_actions, open_trace, parse_line
from replay.trace.actor_actions import (
    Compute,
    Finalize,
    Init,
    Irecv,
    Isend,
    Load,
    Recv,
    Send,
    Sleep,
    Wait,
    WaitAll,
)
from replay.trace.builtin import BUILTIN
from replay.trace.host_actions import HostOff, HostOn, LinkOff, LinkOn, SetPstate
from replay.trace.records import Action
from replay.trace.vm_actions import (
    VmAction,
    VmCreate,
    VmDestroy,
    VmMigrate,
    VmRestore,
    VmResume,
    VmSave,
    VmSetBound,
    VmShutdown,
    VmStart,
    VmSuspend,
)
from replay.vm import VmConfig

REPO = Path(__file__).resolve().parents[1]
SHARED_SIMGRID = Path(__file__).resolve().parents[2] / "shared" / "simgrid"
REPLAY_COMM = SHARED_SIMGRID / "replay-comm"
FIDELITY = REPO / "traces" / "fidelity"

GIB = float(1 << 30)
ACTION_TYPES = {cls.keyword: cls for cls in BUILTIN}
DEFAULTS = VmConfig()


def write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, str):
        text = text.encode()
    path.write_bytes(text)
    return path


def error_of(text: str, path: str = "trace.txt", line: int = 3) -> str:
    with pytest.raises(TraceSyntaxError) as info:
        parse_line(text, path, line)
    return str(info.value)


# ------------------------------------------------------------------------------------------- one line, valid

VALID = [
    ("p0 init", Init(actor="p0")),
    ("p0 init Tremblay", Init("Tremblay", actor="p0")),
    ("p0 compute 1e9", Compute(1e9, actor="p0")),
    ("p0 compute 1Gf", Compute(1e9, actor="p0")),
    ("p0 compute 2.5kf 3", Compute(2500.0, 3.0, actor="p0")),
    ("p0 compute 0", Compute(0.0, actor="p0")),
    ("p0 compute 1gigaflops 0.5", Compute(1e9, 0.5, actor="p0")),
    ("p1 send p0 1e10", Send("p0", 1e10, actor="p1")),
    ("p1 send p0 1MB", Send("p0", 1e6, actor="p1")),
    ("p1 send p0 1GiB", Send("p0", GIB, actor="p1")),
    ("p1 send p0 8b", Send("p0", 1.0, actor="p1")),  # 8 bits are one byte
    ("p1 isend p0 2kB", Isend("p0", 2000.0, actor="p1")),
    ("p0 recv p1", Recv("p1", actor="p0")),
    ("p0 irecv p1", Irecv("p1", actor="p0")),
    ("p0 wait", Wait(actor="p0")),
    ("p0 waitall", WaitAll(actor="p0")),
    ("p0 sleep 1.5", Sleep(1.5, actor="p0")),
    ("p0 sleep 30ms", Sleep(0.03, actor="p0")),
    ("p0 sleep 2h", Sleep(7200.0, actor="p0")),
    ("p0 load 0.3 300", Load(0.3, 300.0, actor="p0")),
    ("p0 load 1 5m", Load(1.0, 300.0, actor="p0")),
    ("p0 load 1175Mf 300", Load(0.0, 300.0, 1.175e9, actor="p0")),  # an absolute rate: flop/s for the whole VM
    ("p0 load 0f 1", Load(0.0, 1.0, 0.0, actor="p0")),
    ("p0 finalize", Finalize(actor="p0")),
    ("p0 set_pstate Fafard 2", SetPstate("Fafard", 2, actor="p0")),
    ("p0 set_pstate Fafard 0", SetPstate("Fafard", 0, actor="p0")),
    ("p0 host_off Fafard", HostOff("Fafard", actor="p0")),
    ("p0 host_on Fafard", HostOn("Fafard", actor="p0")),
    ("p0 link_off L1", LinkOff("L1", actor="p0")),
    ("p0 link_on L1", LinkOn("L1", actor="p0")),
    ("adm vm_create VM0 Fafard", VmCreate("VM0", "Fafard", actor="adm")),
    ("adm vm_start VM0", VmStart("VM0", actor="adm")),
    ("adm vm_suspend VM0", VmSuspend("VM0", actor="adm")),
    ("adm vm_resume VM0", VmResume("VM0", actor="adm")),
    ("adm vm_save VM0", VmSave("VM0", actor="adm")),
    ("adm vm_restore VM0", VmRestore("VM0", actor="adm")),
    ("adm vm_shutdown VM0", VmShutdown("VM0", actor="adm")),
    ("adm vm_destroy VM0", VmDestroy("VM0", actor="adm")),
    ("adm vm_migrate VM0 Tremblay", VmMigrate("VM0", "Tremblay", actor="adm")),
    ("adm vm_set_bound VM0 2Gf", VmSetBound("VM0", 2e9, actor="adm")),
    ("adm vm_set_bound VM0 5e8", VmSetBound("VM0", 5e8, actor="adm")),
    ("adm vm_set_bound VM0 0", VmSetBound("VM0", None, actor="adm")),  # a bound <= 0 is no bound in SimGrid
    # Blanks: runs of spaces and tabs separate tokens; both ends are trimmed (C isspace, as boost::trim).
    ("  p0\t\tcompute   1e9 \t\r\n", Compute(1e9, actor="p0")),
    ("\vp0 wait\f", Wait(actor="p0")),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_each_action_parses_with_its_units(text: str, expected: Action) -> None:
    action = parse_line(text, "trace.txt", 7)
    assert action == expected
    assert type(action) is type(expected)
    assert (action.path, action.line) == ("trace.txt", 7)


def test_every_keyword_is_covered() -> None:
    assert {type(expected).keyword for _, expected in VALID} == set(ACTION_TYPES)


def test_every_vm_action_names_its_vm() -> None:
    vm_types = {cls for cls in ACTION_TYPES.values() if issubclass(cls, VmAction)}
    assert {cls.keyword for cls in vm_types} == {k for k in ACTION_TYPES if k.startswith("vm_")}


def test_records_are_frozen_slotted_and_compare_without_their_place() -> None:
    a = parse_line("p0 compute 1e9", "a.txt", 1)
    b = parse_line("p0  compute  1Gf", "b.txt", 9)
    assert a == b and hash(a) == hash(b)  # same request, different places
    assert (a.path, a.line) != (b.path, b.line)
    with pytest.raises(AttributeError):
        a.flops = 2.0  # type: ignore[misc]
    assert not hasattr(a, "__dict__")


def test_bare_numbers_raise_no_unit_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert parse_line("p0 sleep 2", "t", 1) == Sleep(2.0, actor="p0")
        assert parse_line("p0 send p1 100", "t", 1) == Send("p1", 100.0, actor="p0")


def test_vm_create_defaults() -> None:
    vm = parse_line("adm vm_create VM0 Fafard", "t", 1)
    assert isinstance(vm, VmCreate)
    assert (vm.vm, vm.pm, vm.config) == ("VM0", "Fafard", DEFAULTS)
    c = vm.config
    assert (c.cores, c.ramsize, c.dp_intensity) == (1, GIB, 0.0)
    assert (c.working_set, c.mig_speed, c.max_downtime, c.bound, c.devsize) == (None, 0.0, 0.03, math.inf, 0.0)
    assert (c.skip_stage1, c.skip_stage2, c.xfer_cpu_overhead, c.dpt_cpu_overhead) == (False, False, 0.0, 0.0)
    # The working set defaults to 90 % of the RAM, as SimGrid's sg_vm_create_migratable assumes.
    assert c.dirty_cap == pytest.approx(0.9 * GIB)


def test_vm_create_every_option_with_units() -> None:
    line = (
        "adm vm_create VM1 Bourassa cores=4 ram=2GiB dp_intensity=0.25 working_set=1GiB mig_speed=1Gbps "
        "max_downtime=30ms bound=2Gf devsize=100MB skip_stage1=yes skip_stage2=False xfer_cpu_overhead=1.5 "
        "dpt_cpu_overhead=0"
    )
    vm = parse_line(line, "t", 1)
    # 1Gbps is 1e9 bits/s = 1.25e8 B/s; 30ms = 0.03 s; 2Gf = 2e9 flop/s; 100MB = 1e8 B.
    assert vm == VmCreate(
        "VM1",
        "Bourassa",
        VmConfig(
            cores=4,
            ramsize=2 * GIB,
            dp_intensity=0.25,
            working_set=GIB,
            mig_speed=1.25e8,
            max_downtime=0.03,
            bound=2e9,
            devsize=1e8,
            skip_stage1=True,
            skip_stage2=False,
            xfer_cpu_overhead=1.5,
            dpt_cpu_overhead=0.0,
        ),
        actor="adm",
    )
    assert isinstance(vm, VmCreate) and vm.config.dirty_cap == GIB


@pytest.mark.parametrize(
    ("text", "value"),
    [("yes", True), ("true", True), ("1", True), ("YES", True), ("no", False), ("false", False), ("0", False)],
)
def test_vm_create_booleans(text: str, value: bool) -> None:
    vm = parse_line(f"a vm_create v h skip_stage2={text}", "t", 1)
    assert isinstance(vm, VmCreate) and vm.config.skip_stage2 is value


def test_vm_create_bound_zero_is_no_bound() -> None:
    vm = parse_line("a vm_create v h bound=0", "t", 1)
    assert isinstance(vm, VmCreate) and vm.config.bound == math.inf


# ------------------------------------------------------------------------------------------- comments, blanks


@pytest.mark.parametrize("text", ["", "   ", "\t\t", "\r\n", "# a comment", "   # indented comment", "#p0 compute 1"])
def test_blank_and_comment_lines_give_none(text: str) -> None:
    assert parse_line(text, "t", 1) is None


def test_hash_after_tokens_is_not_a_comment_as_in_simgrid() -> None:
    # SimGrid's read_and_trim_line skips only lines whose first non-blank character is '#'.
    assert error_of("p0 recv p1 # from p1") == (
        "trace.txt:3: 'recv' expects 1 argument (<src>), found 4; '#' starts a comment only at the start of a line"
    )
    assert error_of("p0 wait #done") == (
        "trace.txt:3: 'wait' expects no argument, found 1; '#' starts a comment only at the start of a line"
    )


# ------------------------------------------------------------------------------------------- one line, errors

ERRORS = [
    ("p0 load 1.5 10", "trace.txt:3: bad fraction in 'load': expected a number from 0 to 1, found '1.5'"),
    ("p0 load 12 300", "trace.txt:3: bad fraction in 'load': expected a number from 0 to 1, found '12'"),
    ("p0 load -1Mf 300", "trace.txt:3: bad rate '-1Mf' in 'load': speed '-1Mf' is negative; expected a value >= 0"),
    (
        "p0 load 1Xf 300",
        "trace.txt:3: bad rate '1Xf' in 'load': unknown unit 'Xf' in speed '1Xf'; allowed units: 'f' with a decimal "
        "prefix (f, kf, Mf, Gf, Tf, Pf, Ef, Zf, Yf) or 'flops' with a spelled-out one (flops, kiloflops, megaflops, "
        "gigaflops, teraflops, petaflops, exaflops, zetaflops, yottaflops)",
    ),
    (
        "p0 load half 300",
        "trace.txt:3: bad fraction in 'load': expected a number from 0 to 1 or a rate with a unit (1175Mf), found "
        "'half'",
    ),
    ("p0 load 0.5", "trace.txt:3: 'load' expects 2 arguments (<fraction|rate> <seconds>), found 1"),
    ("p0 set_pstate h -1", "trace.txt:3: bad pstate in 'set_pstate': expected a whole number from 0, found '-1'"),
    ("p0 set_pstate h 1.5", "trace.txt:3: bad pstate in 'set_pstate': expected a whole number from 0, found '1.5'"),
    (
        "p0 compue 1e9",
        "trace.txt:3: unknown action 'compue'; expected one of init, compute, send, recv, isend, irecv, wait, "
        "waitall, sleep, load, finalize, set_pstate, host_off, host_on, link_off, link_on, vm_create, vm_start, "
        "vm_suspend, vm_resume, vm_save, vm_restore, "
        "vm_shutdown, vm_destroy, vm_migrate, vm_set_bound; did you mean 'compute'?",
    ),
    (
        "compute 1e9",
        "trace.txt:3: unknown action '1e9'; expected one of init, compute, send, recv, isend, irecv, wait, "
        "waitall, sleep, load, finalize, set_pstate, host_off, host_on, link_off, link_on, vm_create, vm_start, "
        "vm_suspend, vm_resume, vm_save, vm_restore, "
        "vm_shutdown, vm_destroy, vm_migrate, vm_set_bound; a line starts with the actor's name: <actor> <action> "
        "[args...]",
    ),
    ("p0", "trace.txt:3: expected an action after actor 'p0' (<actor> <action> [args...]), found end of line"),
    ("p0 send p1", "trace.txt:3: 'send' expects 2 arguments (<dst> <bytes>), found 1"),
    ("p0 isend p1 1 2", "trace.txt:3: 'isend' expects 2 arguments (<dst> <bytes>), found 3"),
    ("p0 recv", "trace.txt:3: 'recv' expects 1 argument (<src>), found 0"),
    ("p0 irecv a b", "trace.txt:3: 'irecv' expects 1 argument (<src>), found 2"),
    ("p0 compute", "trace.txt:3: 'compute' expects 1 or 2 arguments (<flops> [priority]), found 0"),
    ("p0 compute 1 2 3", "trace.txt:3: 'compute' expects 1 or 2 arguments (<flops> [priority]), found 3"),
    ("p0 init a b", "trace.txt:3: 'init' expects 0 or 1 argument ([host]), found 2"),
    ("p0 wait 1", "trace.txt:3: 'wait' expects no argument, found 1"),
    ("p0 waitall x", "trace.txt:3: 'waitall' expects no argument, found 1"),
    ("p0 finalize now", "trace.txt:3: 'finalize' expects no argument, found 1"),
    ("p0 sleep", "trace.txt:3: 'sleep' expects 1 argument (<seconds>), found 0"),
    ("a vm_create VM0", "trace.txt:3: 'vm_create' expects at least 2 arguments (<vm> <pm> [key=value ...]), found 1"),
    ("a vm_start", "trace.txt:3: 'vm_start' expects 1 argument (<vm>), found 0"),
    ("a vm_destroy v w", "trace.txt:3: 'vm_destroy' expects 1 argument (<vm>), found 2"),
    ("a vm_migrate v", "trace.txt:3: 'vm_migrate' expects 2 arguments (<vm> <dst_pm>), found 1"),
    ("a vm_set_bound v", "trace.txt:3: 'vm_set_bound' expects 2 arguments (<vm> <flops/s>), found 1"),
    ("p0 compute 1e9 0", "trace.txt:3: bad priority in 'compute': expected a number > 0, found '0'"),
    ("p0 compute 1e9 -2", "trace.txt:3: bad priority in 'compute': expected a number > 0, found '-2'"),
    ("p0 compute 1e9 high", "trace.txt:3: bad priority in 'compute': expected a plain number, found 'high'"),
    ("p0 compute 1e9 1e999", "trace.txt:3: bad priority in 'compute': expected a finite number, found '1e999'"),
    (
        "a vm_create v h cores",
        "trace.txt:3: expected a vm_create option key=value with key one of cores, ram, dp_intensity, working_set, "
        "mig_speed, max_downtime, bound, devsize, skip_stage1, skip_stage2, xfer_cpu_overhead, dpt_cpu_overhead, "
        "found 'cores'",
    ),
    (
        "a vm_create v h =4",
        "trace.txt:3: expected a vm_create option key=value with key one of cores, ram, dp_intensity, working_set, "
        "mig_speed, max_downtime, bound, devsize, skip_stage1, skip_stage2, xfer_cpu_overhead, dpt_cpu_overhead, "
        "found '=4'",
    ),
    (
        "a vm_create v h rma=1GiB",
        "trace.txt:3: unknown vm_create option 'rma'; expected one of cores, ram, dp_intensity, working_set, "
        "mig_speed, max_downtime, bound, devsize, skip_stage1, skip_stage2, xfer_cpu_overhead, dpt_cpu_overhead; "
        "did you mean 'ram'?",
    ),
    (
        "a vm_create v h ram=1GiB cores=2 ram=2GiB",
        "trace.txt:3: expected each vm_create option at most once, found 'ram=2GiB' after 'ram=1GiB'",
    ),
    (
        "a vm_create v h cores=0",
        "trace.txt:3: bad cores in 'vm_create': expected an integer between 1 and 999999999, found '0'",
    ),
    (
        "a vm_create v h cores=2.5",
        "trace.txt:3: bad cores in 'vm_create': expected an integer between 1 and 999999999, found '2.5'",
    ),
    (
        "a vm_create v h dp_intensity=1.5",
        "trace.txt:3: bad dp_intensity in 'vm_create': expected a fraction in [0, 1], found '1.5'",
    ),
    (
        "a vm_create v h max_downtime=0",
        "trace.txt:3: bad max_downtime in 'vm_create': expected a duration > 0, found '0'",
    ),
    (
        "a vm_create v h skip_stage1=maybe",
        "trace.txt:3: bad skip_stage1 in 'vm_create': expected yes, no, true, false, 1 or 0, found 'maybe'",
    ),
    (
        "a vm_create v h xfer_cpu_overhead=-1",
        "trace.txt:3: bad xfer_cpu_overhead in 'vm_create': expected flops per byte >= 0, found '-1'",
    ),
    (
        "a vm_create v h ram=1GiB working_set=2GiB",
        "trace.txt:3: bad working_set in 'vm_create': expected at most ram (1073741824.0 bytes), "
        "found '2GiB' (2147483648.0 bytes)",
    ),
    (
        "p0 compute 1e9\x00",
        "trace.txt:3: expected printable text with tokens separated by spaces or tabs, "
        "found character U+0000 at column 15",
    ),
    (
        "  p0 send\u00a0p1 1",
        "trace.txt:3: expected printable text with tokens separated by spaces or tabs, "
        "found character U+00A0 at column 10",
    ),
]


@pytest.mark.parametrize(("text", "message"), ERRORS, ids=[t for t, _ in ERRORS])
def test_error_messages(text: str, message: str) -> None:
    assert error_of(text) == message


# Quantities: the place, the argument and its text are ours; the rest is replay.units' explanation.
UNIT_ERRORS = [
    ("p0 send p1 12XB", "trace.txt:3: bad number of bytes '12XB' in 'send': ", "XB"),
    ("p0 isend p1 -5", "trace.txt:3: bad number of bytes '-5' in 'isend': ", "negative"),
    ("p0 compute 1Mflops", "trace.txt:3: bad number of flops '1Mflops' in 'compute': ", "Mflops"),
    ("p0 compute -1e9", "trace.txt:3: bad number of flops '-1e9' in 'compute': ", "negative"),
    ("p0 compute nan", "trace.txt:3: bad number of flops 'nan' in 'compute': ", "finite"),
    ("p0 compute inf", "trace.txt:3: bad number of flops 'inf' in 'compute': ", "finite"),
    ("p0 compute 1e400", "trace.txt:3: bad number of flops '1e400' in 'compute': ", "range"),
    ("p0 sleep 3days", "trace.txt:3: bad duration '3days' in 'sleep': ", "days"),
    ("p0 sleep -1", "trace.txt:3: bad duration '-1' in 'sleep': ", "negative"),
    ("a vm_set_bound v 1GBps", "trace.txt:3: bad bound '1GBps' in 'vm_set_bound': ", "GBps"),
    ("a vm_create v h ram=lots", "trace.txt:3: bad ram 'lots' in 'vm_create': ", "lots"),
    ("a vm_create v h mig_speed=1Gf", "trace.txt:3: bad mig_speed '1Gf' in 'vm_create': ", "Gf"),
    ("a vm_create v h ram=", "trace.txt:3: bad ram '' in 'vm_create': ", "size"),
]


@pytest.mark.parametrize(("text", "prefix", "mention"), UNIT_ERRORS, ids=[t for t, _, _ in UNIT_ERRORS])
def test_quantity_errors_name_place_argument_and_text(text: str, prefix: str, mention: str) -> None:
    message = error_of(text)
    assert message.startswith(prefix)
    assert mention in message[len(prefix) :]
    assert "\n" not in message


def test_long_tokens_are_cut_in_messages() -> None:
    message = error_of("p0 " + "x" * 5000)
    assert "'" + "x" * 60 + "...' (5000 characters)" in message
    assert len(message) < 600


# ------------------------------------------------------------------------------------------- files


def test_iter_actions_streams_with_line_numbers(tmp_path: Path) -> None:
    trace = write(tmp_path / "t.txt", "# header\n\np0 compute 1e9\r\n   \n\tp1 send p0 1kB\np0 recv p1")
    actions = list(iter_actions(trace))
    # The last line has no newline: SimGrid's reader drops such a line (eof before it is handled); we keep it.
    assert actions == [Compute(1e9, actor="p0"), Send("p0", 1000.0, actor="p1"), Recv("p1", actor="p0")]
    assert [a.line for a in actions] == [3, 5, 6]
    assert {a.path for a in actions} == {str(trace)}


def test_a_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    trace = write(tmp_path / "t.txt", b"\xef\xbb\xbfp0 wait\n")
    assert list(iter_actions(trace)) == [Wait(actor="p0")]


def test_not_utf8_names_line_and_byte(tmp_path: Path) -> None:
    trace = write(tmp_path / "t.txt", b"p0 wait\np0 send p\xff1 10\n")
    with pytest.raises(TraceSyntaxError) as info:
        list(iter_actions(trace))
    assert str(info.value) == f"{trace}:2: not UTF-8: expected text, found byte 0xff at column 10"


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(TraceSyntaxError) as info:
        iter_actions(missing)  # raises at once, not at the first next()
    assert str(info.value) == f"{missing}: expected a trace file, found no such file"
    with pytest.raises(TraceSyntaxError, match="found no such file"):
        open_trace([missing])


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(TraceSyntaxError) as info:
        iter_actions(tmp_path)
    assert str(info.value) == f"{tmp_path}: expected a trace file, found a directory"
    with pytest.raises(TraceSyntaxError, match="found a directory"):
        open_trace([tmp_path, tmp_path])


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads files without permission")
def test_unreadable_file(tmp_path: Path) -> None:
    trace = write(tmp_path / "t.txt", "p0 wait\n")
    trace.chmod(0)
    try:
        with pytest.raises(TraceSyntaxError) as info:
            open_trace(trace)
        assert str(info.value) == f"{trace}: expected a readable trace file, found no read permission"
    finally:
        trace.chmod(stat.S_IRUSR | stat.S_IWUSR)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_sources_refuse_pipes_they_cannot_read_twice(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(TraceSyntaxError) as info:
        open_trace(fifo)
    assert str(info.value).startswith(f"{fifo}: expected a regular trace file")


def test_a_file_name_with_nul_is_a_trace_error() -> None:
    with pytest.raises(TraceSyntaxError, match="expected a trace file name"):
        open_trace("a\x00b")


def test_overlong_line(tmp_path: Path) -> None:
    trace = write(tmp_path / "t.txt", b"p0 wait\n" + b"x" * (2 << 20))
    with pytest.raises(TraceSyntaxError) as info:
        list(iter_actions(trace))
    assert str(info.value) == f"{trace}:2: expected a line of at most 1048576 bytes, found a longer one"


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n   \n#another\n"])
def test_empty_trace(tmp_path: Path, text: str) -> None:
    trace = write(tmp_path / "t.txt", text)
    assert list(iter_actions(trace)) == []
    with pytest.raises(TraceSyntaxError) as info:
        open_trace(trace)
    assert str(info.value) == f"{trace}: empty trace: no action found"
    with pytest.raises(TraceSyntaxError) as info:
        open_trace([trace], split=True)
    assert str(info.value) == f"{trace}: empty trace: no action found"


def test_a_syntax_error_anywhere_stops_the_opening(tmp_path: Path) -> None:
    trace = write(tmp_path / "t.txt", "p0 wait\n" * 1000 + "p1 sned p0 1\n")
    with pytest.raises(TraceSyntaxError, match=r":1001: unknown action 'sned'"):
        open_trace(trace)


def test_no_trace_file_at_all() -> None:
    with pytest.raises(TraceSyntaxError, match="expected at least one trace file, found none"):
        open_trace([])


# ------------------------------------------------------------------------------------------- shared and split

SHARED_TEXT = """\
# two actors interleaved, and a third appearing late
p1 send p0 1e6
p0 recv p1

p0 compute 1e9
p1 compute 2e9
p2 sleep 1
p0 wait
p1 finalize
"""
P0 = [Recv("p1", actor="p0"), Compute(1e9, actor="p0"), Wait(actor="p0")]
P1 = [Send("p0", 1e6, actor="p1"), Compute(2e9, actor="p1"), Finalize(actor="p1")]
P2 = [Sleep(1.0, actor="p2")]


def drain(source, actor: str) -> list[Action]:
    return list(source.actions_of(actor))


def test_shared_mode_order(tmp_path: Path) -> None:
    source = open_trace(write(tmp_path / "t.txt", SHARED_TEXT))
    assert isinstance(source, SharedTrace) and source.mode == "shared"
    assert source.actors() == ["p1", "p0", "p2"]  # order of first appearance
    assert (source.total_actions, source.total_lines) == (7, 9)
    assert [source.action_count(a) for a in source.actors()] == [3, 3, 1]
    # Each actor gets its own lines in file order, whatever order the actors ask in.
    assert drain(source, "p2") == P2
    assert drain(source, "p0") == P0
    assert drain(source, "p1") == P1
    assert [a.line for a in P1] == [0, 0, 0]  # the expected records carry no place...
    source = open_trace(write(tmp_path / "t.txt", SHARED_TEXT))
    assert [a.line for a in drain(source, "p1")] == [2, 6, 9]  # ...the parsed ones do
    assert source.actions_read == 3 and source.next_action("p1") is None


def test_split_mode_order(tmp_path: Path) -> None:
    files = [
        write(tmp_path / "b.txt", "# p1's file\np1 send p0 1e6\np1 compute 2e9\np1 finalize\n"),
        write(tmp_path / "a.txt", "p0 recv p1\np0 compute 1e9\n\np0 wait\n"),
        write(tmp_path / "c.txt", "p2 sleep 1"),
    ]
    source = open_trace(files)
    assert isinstance(source, SplitTrace) and source.mode == "split"
    assert source.actors() == ["p1", "p0", "p2"]  # order of the files
    assert drain(source, "p0") == P0
    assert drain(source, "p2") == P2
    assert drain(source, "p1") == P1
    assert source.next_action("p0") is None


def test_split_and_shared_give_the_same_actions(tmp_path: Path) -> None:
    shared = open_trace(write(tmp_path / "t.txt", SHARED_TEXT))
    files = []
    for actor in shared.actors():
        lines = [ln for ln in SHARED_TEXT.splitlines() if ln.startswith(actor + " ")]
        files.append(write(tmp_path / f"{actor}.txt", "\n".join(lines) + "\n"))
    split = open_trace(files)
    assert split.actors() == shared.actors()
    for actor in shared.actors():
        assert drain(split, actor) == drain(shared, actor)


def test_split_mode_refuses_a_line_of_another_actor(tmp_path: Path) -> None:
    f = write(tmp_path / "p0.txt", "p0 wait\np0 wait\np1 wait\n")
    with pytest.raises(TraceSyntaxError) as info:
        open_trace([f], split=True)
    assert str(info.value) == (
        f"{f}:3: expected actor 'p0' (named at line 1; a split trace holds one actor's actions), found 'p1'"
    )


def test_split_mode_with_deployment_names(tmp_path: Path) -> None:
    f0 = write(tmp_path / "p0.txt", "p0 wait\n")
    f1 = write(tmp_path / "p1.txt", "# nothing to do\n")
    source = open_trace([f0, f1], actors=["p0", "p1"])
    assert isinstance(source, SplitTrace)
    assert source.actors() == ["p0", "p1"]
    assert source.next_action("p1") is None  # an empty file is an actor with nothing to do
    assert drain(source, "p0") == [Wait(actor="p0")]
    with pytest.raises(TraceSyntaxError) as info:
        open_trace([f0, f1], actors=["p1", "p0"])
    assert str(info.value) == (
        f"{f0}:1: expected actor 'p1' (the actor this file is given to; a split trace holds one actor's actions), "
        "found 'p0'"
    )


def test_split_mode_all_empty_with_deployment_names(tmp_path: Path) -> None:
    f0 = write(tmp_path / "a.txt", "")
    f1 = write(tmp_path / "b.txt", "# none\n")
    with pytest.raises(TraceSyntaxError) as info:
        open_trace([f0, f1], actors=["p0", "p1"])
    assert str(info.value) == f"{f0}, {f1}: empty trace: no action found"


def test_split_mode_one_file_per_actor(tmp_path: Path) -> None:
    f0 = write(tmp_path / "a.txt", "p0 wait\n")
    f1 = write(tmp_path / "b.txt", "\np0 waitall\n")
    with pytest.raises(TraceSyntaxError) as info:
        open_trace([f0, f1])
    assert str(info.value) == (
        f"{f1}:2: expected one trace file per actor, found a second file for actor 'p0' (the first is {f0})"
    )
    with pytest.raises(TraceSyntaxError, match="a second file for actor 'p0'"):
        open_trace([f0, f1], actors=["p0", "p0"])


def test_open_trace_mode_choice(tmp_path: Path) -> None:
    f0 = write(tmp_path / "a.txt", "p0 wait\np1 wait\n")
    f1 = write(tmp_path / "b.txt", "p2 wait\np0 waitall\n")
    assert isinstance(open_trace(f0), SharedTrace)  # a single path, not in a list
    assert isinstance(open_trace([str(f0)]), SharedTrace)
    with pytest.raises(TraceSyntaxError, match="expected actor 'p0'"):
        open_trace([f0], split=True)  # one file, split mode forced: p1's line is in p0's file
    with pytest.raises(TraceSyntaxError, match=r"a\.txt:2: expected actor 'p0'"):
        open_trace([f0, f1])  # several files: split mode
    # split=False reads several files as one shared trace, in order.
    shared = open_trace([f0, f1], split=False)
    assert isinstance(shared, SharedTrace)
    assert shared.actors() == ["p0", "p1", "p2"]
    assert drain(shared, "p0") == [Wait(actor="p0"), WaitAll(actor="p0")]
    with pytest.raises(ValueError, match="split mode only"):
        open_trace([f0], split=False, actors=["p0"])
    with pytest.raises(ValueError, match="2 trace files but 1 actor names"):
        open_trace([f0, f1], actors=["p0"])


def test_unknown_actor_is_a_lookup_failure(tmp_path: Path) -> None:
    source = open_trace(write(tmp_path / "t.txt", "p0 wait\n"))
    with pytest.raises(LookupFailure, match="no actor 'p9'"):
        source.next_action("p9")


def test_a_file_changed_during_replay(tmp_path: Path) -> None:
    # Only a trace read again lazily (too large to keep its records: keep=0 here) can see the change.
    trace = write(tmp_path / "t.txt", "p0 wait\np0 wait\n")
    source = open_trace(trace, keep=0)
    write(trace, "p0 wait\n")
    assert source.next_action("p0") == Wait(actor="p0")
    with pytest.raises(TraceSyntaxError, match="expected 1 more action"):
        source.next_action("p0")
    trace2 = write(tmp_path / "u.txt", "p0 wait\np1 wait\n")
    source = open_trace(trace2, keep=0)
    write(trace2, "p0 wait\np7 wait\np1 wait\n")
    with pytest.raises(TraceSyntaxError, match=":2: expected one of the actors"):
        source.next_action("p1")


# ------------------------------------------------------------------------------------------- one read, or laziness


def test_a_trace_is_read_once_when_its_records_can_be_kept(tmp_path: Path) -> None:
    # The opening pass keeps the records (up to KEEP): replay reads nothing again, even if the file is gone.
    trace = write(tmp_path / "t.txt", "p0 compute 1e9\np1 sleep 1\np0 sleep 2\n")
    seen = []
    source = open_trace(trace, check=seen.append)
    assert [a.line for a in seen] == [1, 2, 3] and not source.rereads
    trace.unlink()
    assert source.next_action("p0") == Compute(1e9, actor="p0")
    assert source.next_action("p1") == Sleep(1.0, actor="p1")
    assert source.next_action("p0") == Sleep(2.0, actor="p0")
    assert source.lines_read == 0 and source.actions_read == 3
    # Beyond the limit, the records are dropped and the files read again (a second, lazy pass).
    big = write(tmp_path / "big.txt", "p0 wait\n" * 5)
    source = open_trace(big, keep=3)
    assert source.rereads
    assert [source.next_action("p0") for _ in range(5)] == [Wait(actor="p0")] * 5 and source.lines_read == 5


def test_shared_mode_reads_only_what_the_asking_actor_needs(tmp_path: Path) -> None:
    # p0 has two actions at the top, then 100,000 lines of p1.
    n = 100_000
    trace = tmp_path / "big.txt"
    with trace.open("w") as f:
        f.write("# big\np0 compute 1e9\np0 sleep 1\n")
        for i in range(n):
            f.write(f"p1 compute {i}\n")
    source = open_trace(trace, keep=0)
    assert isinstance(source, SharedTrace)
    assert source.total_lines == n + 3
    assert source.next_action("p0") == Compute(1e9, actor="p0")
    assert source.lines_read == 2  # the comment and p0's first line
    assert source.next_action("p0") == Sleep(1.0, actor="p0")
    assert source.lines_read == 3
    # p0 has had its two actions: the first pass counted them, so no line of p1 is read to find that out.
    assert source.next_action("p0") is None
    assert (source.lines_read, source.buffered) == (3, 0)
    assert source.next_action("p1") == Compute(0.0, actor="p1")
    assert source.next_action("p1") == Compute(1.0, actor="p1")
    assert (source.lines_read, source.buffered, source.actions_read) == (5, 0, 4)


def test_shared_mode_buffers_other_actors_only_as_far_as_needed(tmp_path: Path) -> None:
    # p0's second action comes after 1,000 lines of p1: reaching it queues exactly those for p1.
    trace = write(tmp_path / "t.txt", "p0 wait\n" + "p1 wait\n" * 1000 + "p0 waitall\n" + "p1 wait\n" * 1000)
    source = open_trace(trace, keep=0)
    source.next_action("p0")
    assert source.buffered == 0
    assert source.next_action("p0") == WaitAll(actor="p0")
    assert (source.lines_read, source.buffered) == (1002, 1000)
    assert source.next_action("p1") == Wait(actor="p1")
    assert (source.lines_read, source.buffered) == (1002, 999)  # served from p1's queue


def test_split_mode_reads_lazily_and_holds_no_descriptor(tmp_path: Path) -> None:
    files = [write(tmp_path / f"p{i}.txt", f"p{i} sleep 1\n" * 10_000) for i in range(3)]
    source = open_trace(files, keep=0)
    assert source.next_action("p1") == Sleep(1.0, actor="p1")
    assert source.lines_read == 1
    fd_dir = Path("/proc/self/fd")
    if fd_dir.is_dir():  # no trace file stays open between calls
        targets = {os.path.realpath(fd_dir / fd) for fd in os.listdir(fd_dir)}
        assert not targets & {str(f.resolve()) for f in files}


def test_iter_actions_is_a_stream(tmp_path: Path) -> None:
    trace = write(tmp_path / "t.txt", "p0 wait\n" + "p0 bad_action\n")
    actions = iter_actions(trace)
    assert next(actions) == Wait(actor="p0")  # the bad line below is not read yet
    with pytest.raises(TraceSyntaxError, match=":2: unknown action"):
        next(actions)


# ------------------------------------------------------------------------------------------- fuzzing


@settings(max_examples=400)
@given(st.text())
def test_fuzz_any_text_line_raises_only_trace_syntax_errors(text: str) -> None:
    try:
        parse_line(text, "fuzz.txt", 1)
    except TraceSyntaxError as exc:
        assert str(exc).startswith("fuzz.txt:1: ")
        assert "\n" not in str(exc)


_TOKENS = st.one_of(
    st.sampled_from(
        [*ACTION_TYPES, "p0", "#", "1e9", "-1", "1Gf", "1GiB", "30ms", "1Gbps", "0", "nan", "0x1p3", "1e999", ""]
    ),
    st.builds(
        "{}={}".format,
        st.sampled_from(["cores", "ram", "dp_intensity", "working_set", "bound", "skip_stage1", "x", ""]),
        st.sampled_from(["1", "0", "0.5", "2GiB", "yes", "-3", "", "=", "1e400", "99999999999999999999"]),
    ),
    st.text(max_size=8),
)


@settings(max_examples=400)
@given(st.lists(_TOKENS, max_size=8), st.sampled_from([" ", "\t", "  "]))
def test_fuzz_token_soup_raises_only_trace_syntax_errors(tokens: list[str], sep: str) -> None:
    try:
        parse_line(sep.join(tokens), "fuzz.txt", 2)
    except TraceSyntaxError as exc:
        assert str(exc).startswith("fuzz.txt:2: ")


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300), st.booleans())
def test_fuzz_any_bytes_in_a_file_raise_only_trace_syntax_errors(data: bytes, split: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.txt"
        path.write_bytes(data)
        with contextlib.suppress(TraceSyntaxError):
            list(iter_actions(path))
        try:
            source = open_trace([path], split=split)
            for actor in source.actors():
                drain(source, actor)
        except TraceSyntaxError:
            pass


# Round trip: a valid record written as a line parses back to itself.
_NAME = st.text(
    st.characters(blacklist_categories=("Cc", "Cs", "Cf", "Zs", "Zl", "Zp"), blacklist_characters='"'),
    min_size=1,
    max_size=6,
).filter(lambda s: not any(c.isspace() for c in s))
_ACTOR = _NAME.filter(lambda s: not s.startswith("#"))
_AMOUNT = st.floats(min_value=0, allow_nan=False, allow_infinity=False)
_POSITIVE = st.floats(min_value=0, exclude_min=True, allow_nan=False, allow_infinity=False)
_FRACTION = st.floats(min_value=0, max_value=1)
# flops per byte; VmConfig refuses an overhead whose flops for a whole RAM would overflow
_OVERHEAD = st.floats(min_value=0, max_value=1e6)


@st.composite
def _vm_create(draw: st.DrawFn) -> VmCreate:
    ram = draw(st.floats(min_value=0, max_value=1e300))
    config = VmConfig(
        cores=draw(st.integers(1, 999_999_999)),
        ramsize=ram,
        dp_intensity=draw(_FRACTION),
        working_set=draw(st.none() | st.floats(min_value=0, max_value=ram)),
        mig_speed=draw(_AMOUNT),
        max_downtime=draw(_POSITIVE),
        bound=draw(st.just(math.inf) | _POSITIVE),
        devsize=draw(st.floats(min_value=0, max_value=1e300)),
        skip_stage1=draw(st.booleans()),
        skip_stage2=draw(st.booleans()),
        xfer_cpu_overhead=draw(_OVERHEAD),
        dpt_cpu_overhead=draw(_OVERHEAD),
    )
    return VmCreate(draw(_NAME), draw(_NAME), config, actor=draw(_ACTOR))


def _vm_op(cls):
    return st.builds(cls, _NAME, actor=_ACTOR)


_ACTIONS = st.one_of(
    st.builds(Init, st.none() | _NAME, actor=_ACTOR),
    st.builds(Compute, _AMOUNT, _POSITIVE, actor=_ACTOR),
    st.builds(Send, _NAME, _AMOUNT, actor=_ACTOR),
    st.builds(Isend, _NAME, _AMOUNT, actor=_ACTOR),
    st.builds(Recv, _NAME, actor=_ACTOR),
    st.builds(Irecv, _NAME, actor=_ACTOR),
    st.builds(Wait, actor=_ACTOR),
    st.builds(WaitAll, actor=_ACTOR),
    st.builds(Sleep, _AMOUNT, actor=_ACTOR),
    st.builds(Finalize, actor=_ACTOR),
    st.builds(SetPstate, _NAME, st.integers(0, 999_999_999), actor=_ACTOR),
    _vm_create(),
    *(_vm_op(cls) for cls in (VmStart, VmSuspend, VmResume, VmSave, VmRestore, VmShutdown, VmDestroy)),
    st.builds(VmMigrate, _NAME, _NAME, actor=_ACTOR),
    st.builds(VmSetBound, _NAME, st.none() | _POSITIVE, actor=_ACTOR),
)


@settings(max_examples=500)
@given(_ACTIONS)
def test_round_trip_of_valid_actions(action: Action) -> None:
    line = action.to_line()
    parsed = parse_line(line, "rt.txt", 4)
    assert parsed == action
    assert type(parsed) is type(action)


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_ACTIONS, min_size=1, max_size=20))
def test_round_trip_through_a_shared_file(actions: list[Action]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rt.txt"
        path.write_text("".join(a.to_line() + "\n" for a in actions), encoding="utf-8")
        source = open_trace(path)
        assert source.actors() == list(dict.fromkeys(a.actor for a in actions))
        for actor in source.actors():
            assert drain(source, actor) == [a for a in actions if a.actor == actor]


def test_round_trip_keeps_every_float() -> None:
    for value in (0.1, 1e-300, 5e-324, 1.7976931348623157e308, 123456789.123456789):
        assert parse_line(Sleep(value, actor="p").to_line(), "t", 1) == Sleep(value, actor="p")
    assert not math.isinf(DEFAULTS.ramsize)


# ------------------------------------------------------------------------------------------- real traces


@pytest.mark.skipif(not REPLAY_COMM.is_dir(), reason=f"SimGrid's replay-comm example is not at {REPLAY_COMM}")
def test_simgrid_replay_comm_shared() -> None:
    source = open_trace(REPLAY_COMM / "s4u-replay-comm.txt")
    assert source.actors() == ["p0", "p1"]
    assert drain(source, "p0") == [Recv("p1", actor="p0"), Compute(1e9, actor="p0")]
    assert drain(source, "p1") == [Send("p0", 1e10, actor="p1"), Compute(1e9, actor="p1")]


@pytest.mark.skipif(not REPLAY_COMM.is_dir(), reason=f"SimGrid's replay-comm example is not at {REPLAY_COMM}")
def test_simgrid_replay_comm_split() -> None:
    files = [REPLAY_COMM / "s4u-replay-comm-split-p0.txt", REPLAY_COMM / "s4u-replay-comm-split-p1.txt"]
    # As the deployment file s4u-replay-comm-split_d.xml gives them: p0 on Tremblay, p1 on Ruby.
    source = open_trace(files, actors=["p0", "p1"])
    assert drain(source, "p1") == [Send("p0", 1e10, actor="p1"), Compute(1e9, actor="p1")]
    assert drain(source, "p0") == [Recv("p1", actor="p0"), Compute(1e9, actor="p0")]
    assert open_trace(files).actors() == ["p0", "p1"]


@pytest.mark.skipif(not REPLAY_COMM.is_dir(), reason=f"SimGrid's replay-comm example is not at {REPLAY_COMM}")
@pytest.mark.parametrize(
    "name", ["s4u-replay-comm.txt", "s4u-replay-comm-split-p0.txt", "s4u-replay-comm-split-p1.txt"]
)
def test_simgrid_replay_comm_files_parse(name: str) -> None:
    expected = 4 if name == "s4u-replay-comm.txt" else 2
    assert len(list(iter_actions(REPLAY_COMM / name))) == expected


def _fidelity_traces() -> list[Path]:
    return sorted(FIDELITY.glob("*.txt")) if FIDELITY.is_dir() else []


@pytest.mark.skipif(not _fidelity_traces(), reason=f"no example traces in {FIDELITY}")
def test_repository_traces_parse() -> None:
    for trace in _fidelity_traces():
        source = open_trace(trace)
        for actor in source.actors():
            assert len(drain(source, actor)) == source.action_count(actor)


@pytest.mark.parametrize("text", ["1175000000f", "0f", ".5f", "5.f", "+2f", "1e9f", "1.5e+16f", "-1f", "1e400f",
                                  "1Mf", "0x10f", "f", "1 f"])
def test_the_quick_reading_of_flop_rates_agrees_with_the_unit_parser(text: str) -> None:
    # `load <rate>f` is read without the unit machinery when it is a plain positive number and 'f' (scale 1):
    # same value, and the same error otherwise
    from replay.errors import UnitError
    from replay.trace.grammar import _parse_quantity
    from replay.units import parse_quantity

    def read(parse):
        try:
            return parse(text, "speed")
        except UnitError as error:
            return str(error)

    assert read(_parse_quantity) == read(parse_quantity)
