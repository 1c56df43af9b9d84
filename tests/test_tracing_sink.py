"""Sinks: the protocol, MemorySink, atomic file writing, and tracing off costing nothing."""

from __future__ import annotations

import ast
import errno
import gc
import os
import signal
import socket
import stat
import threading
from pathlib import Path

import pytest

from replay import events
from replay.engine import Engine
from replay.lifecycle import VmOperation
from replay.platform import load_platform
from tests.test_tracing_scenarios import DATA, lifecycle_sim, trace
from tracing.csv_writer import CsvWriter, MigrationsCsvWriter
from tracing.paje import PajeWriter
from tracing.sink import (
    AtomicTextFile,
    CommitGroup,
    FileSink,
    MemorySink,
    OutputError,
    TraceSink,
    atomic_path,
    atomic_write_text,
    destination,
)

REPLAY = Path(__file__).resolve().parents[1] / "replay"
PLATFORM = load_platform(DATA / "lifecycle.xml")


class Boom(Exception):
    pass


def writers(tmp_path: Path) -> list:
    return [
        PajeWriter(tmp_path / "t.paje", PLATFORM),
        CsvWriter(tmp_path / "t.csv", PLATFORM),
        MigrationsCsvWriter(tmp_path / "m.csv"),
    ]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_every_writer_is_a_trace_sink(tmp_path):
    for sink in [MemorySink(), *writers(tmp_path)]:
        assert isinstance(sink, TraceSink)


def test_memory_sink_keeps_the_records_of_a_run():
    sink = MemorySink()
    sim = trace(lifecycle_sim, sink)
    assert sink.state == "closed"
    assert sink.records[-1] == events.RunEnded(sim.engine.now)
    operations = [r.operation for r in sink.of_type(events.VmStateChanged)][:3]
    assert operations == [VmOperation.START, VmOperation.SUSPEND, VmOperation.RESUME]


def test_the_context_manager_aborts_on_an_exception_and_lets_it_through():
    sink = MemorySink()
    with pytest.raises(Boom), sink:
        raise Boom
    assert sink.state == "aborted"


@pytest.mark.parametrize("error", [Boom, KeyboardInterrupt])
def test_an_exception_inside_the_block_leaves_no_file(tmp_path, error):
    sinks = writers(tmp_path)
    with pytest.raises(error):
        trace(lambda listeners: _failing(listeners, error), *sinks)
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert [sink.state for sink in sinks] == ["aborted"] * 3


def _failing(listeners, error):
    sim = lifecycle_sim(listeners)
    sim.run(until=3.0)  # records flow into the sinks, then the run breaks
    raise error


def test_an_existing_file_is_untouched_until_a_clean_close(tmp_path):
    target = tmp_path / "t.paje"
    target.write_text("old trace\n")
    os.chmod(target, 0o640)
    writer = PajeWriter(target, PLATFORM)
    writer.open()
    sim = lifecycle_sim([writer.emit])
    sim.run()
    assert target.read_text() == "old trace\n"  # everything so far went to the temporary file beside it
    [temporary] = leftovers(tmp_path)
    assert temporary.startswith(".t.paje.")
    writer.close()
    assert target.read_text().startswith("%EventDef PajeDefineContainerType 0\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file's mode is kept
    assert leftovers(tmp_path) == []


def test_an_aborted_run_keeps_the_old_file(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old table\n")
    with pytest.raises(Boom):
        trace(lambda listeners: _failing(listeners, Boom), CsvWriter(target, PLATFORM))
    assert target.read_text() == "old table\n"
    assert leftovers(tmp_path) == []


def test_a_writer_dropped_unclosed_removes_its_temporary_file(tmp_path):
    # An interrupted run that never reaches close() or abort(): the temporary file goes with the writer.
    writer = PajeWriter(tmp_path / "t.paje", PLATFORM)
    writer.open()
    assert len(leftovers(tmp_path)) == 1
    del writer
    gc.collect()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_writers_refuse_records_when_not_open(tmp_path):
    writer = MigrationsCsvWriter(tmp_path / "m.csv")
    with pytest.raises(RuntimeError, match="while new"):
        writer.emit(events.RunEnded(0.0))
    writer.open()
    with pytest.raises(RuntimeError, match="twice"):
        writer.open()
    writer.close()
    writer.close()  # again: nothing happens
    writer.abort()  # after a close: the file stays
    assert (tmp_path / "m.csv").exists()
    with pytest.raises(RuntimeError, match="while closed"):
        writer.emit(events.RunEnded(0.0))


def test_atomic_write_text(tmp_path):
    target = tmp_path / "summary.json"
    atomic_write_text(target, "{}\n")
    assert target.read_text() == "{}\n"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    with pytest.raises(Boom), AtomicTextFile(target) as stream:
        stream.write("half")
        raise Boom
    assert target.read_text() == "{}\n"
    assert leftovers(tmp_path) == []


def test_atomic_path_for_a_file_written_by_name(tmp_path):
    # A library writing by path (Parquet, PNG) writes beside the target; the rules are AtomicTextFile's.
    target = tmp_path / "frame.parquet"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary.name.startswith(".frame.parquet.")
        temporary.write_bytes(b"new")
        assert not target.exists()
    assert target.read_bytes() == b"new" and leftovers(tmp_path) == []
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask  # a new file: the umask's mode
    os.chmod(target, 0o640)
    with pytest.raises(Boom), atomic_path(target) as temporary:
        temporary.write_bytes(b"half")
        raise Boom
    assert target.read_bytes() == b"new" and leftovers(tmp_path) == []  # an error: the old file, no temporary
    with atomic_path(target) as temporary:
        temporary.write_bytes(b"newer")
    assert target.read_bytes() == b"newer"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640  # the replaced file's mode is kept


def test_a_run_without_tracers_emits_nothing(monkeypatch):
    # Models build a record only when somebody listens (engine.traced): count every emission of a whole run.
    emitted = []
    monkeypatch.setattr(Engine, "emit", lambda self, record: emitted.append(record))
    sim = lifecycle_sim()
    assert sim.engine.traced is False
    sim.run()
    assert emitted == []
    assert sim.engine.now > 13  # the run did happen (see test_tracing_scenarios)


def test_the_model_never_imports_tracing():
    # Only the CLI wires writers to a run (and imports them lazily); the rest of replay/ never names tracing.
    for path in sorted(REPLAY.rglob("*.py")):
        if path.name == "cli.py":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n == "tracing" or n.startswith("tracing.") for n in names), f"{path} imports {names}"


# -- where the bytes go: links, devices, FIFOs, descriptors ----------------------------------------------------

def test_a_link_is_written_at_its_target_and_stays_a_link(tmp_path):
    # A link to an existing file, a chain of two links, and a dangling link into an existing folder: each time
    # the file at the end of the links gets the text (atomically beside it), and every link is still a link.
    (tmp_path / "real").mkdir()
    old = tmp_path / "real" / "old.json"
    old.write_text("old\n")
    os.chmod(old, 0o640)
    (tmp_path / "to-old.json").symlink_to("real/old.json")
    (tmp_path / "chain.json").symlink_to("to-old.json")
    (tmp_path / "to-new.json").symlink_to(tmp_path / "real" / "new.json")
    for link, target in [("to-old.json", old), ("chain.json", old), ("to-new.json", tmp_path / "real" / "new.json")]:
        atomic_write_text(tmp_path / link, f"via {link}\n")
        assert (tmp_path / link).is_symlink()
        assert target.read_text() == f"via {link}\n"
    assert stat.S_IMODE(old.stat().st_mode) == 0o640  # the target's mode is kept, not the link's
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["new.json", "old.json"]  # no temporary file


@pytest.mark.parametrize("make, found", [
    (lambda d: (d / "a").symlink_to("b") or (d / "b").symlink_to("a"), "found a symbolic link loop"),
    (lambda d: (d / "a").symlink_to(d / "missing" / "x.json"), "found a link to"),
    (lambda d: (d / "a").mkdir(), "found a folder"),
    (lambda d: socket.socket(socket.AF_UNIX).bind(str(d / "a")), "found a socket"),
])
def test_names_that_cannot_take_an_output_are_one_line_errors(tmp_path, make, found):
    make(tmp_path)
    with pytest.raises(OutputError) as caught:
        atomic_write_text(tmp_path / "a", "text")
    message = str(caught.value)
    assert message.startswith(f"{tmp_path / 'a'}: expected ") and found in message and "\n" not in message
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="making a device node needs root")
def test_a_block_device_is_refused(tmp_path):
    os.mknod(tmp_path / "disk", 0o600 | stat.S_IFBLK, os.makedev(7, 200))
    with pytest.raises(OutputError, match="found a block device"):
        atomic_write_text(tmp_path / "disk", "text")
    assert stat.S_ISBLK((tmp_path / "disk").lstat().st_mode)


def test_dev_null_is_written_through_and_stays_a_device():
    # The rename of an atomic write would have made /dev/null a regular file (as root): it is written directly.
    for write in (lambda: atomic_write_text("/dev/null", "text"), lambda: _atomic_path_write("/dev/null")):
        write()
        assert stat.S_ISCHR(os.lstat("/dev/null").st_mode)


def _atomic_path_write(path):
    with atomic_path(path) as temporary:
        temporary.write_bytes(b"bytes")


def test_a_fifo_is_written_through_to_its_reader(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for write, expected in [(lambda: atomic_write_text(fifo, "line\n"), b"line\n"),
                            (lambda: _atomic_path_write(fifo), b"bytes")]:
        received: list[bytes] = []
        reader = _reader(fifo, received)
        write()
        reader.join(timeout=10)
        assert received == [expected]
        assert stat.S_ISFIFO(fifo.lstat().st_mode) and leftovers(tmp_path) == []


def _reader(fifo: Path, received: list[bytes]) -> threading.Thread:
    """A thread that opens ``fifo``, reads it to its end into ``received``."""
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    return reader


@pytest.mark.parametrize("name", ["/dev/fd/{}", "/proc/self/fd/{}"])
def test_own_descriptors_are_written_through_a_copy_of_the_descriptor(name):
    # A pipe's write end named as /dev/fd/N or /proc/self/fd/N: the text goes into the pipe, where the descriptor
    # stands, and the descriptor is still open afterwards (a copy of it was written and closed).
    read_end, write_end = os.pipe()
    try:
        path = name.format(write_end)
        assert destination(path).descriptor == write_end
        atomic_write_text(path, "through\n")
        os.write(write_end, b"after\n")
        assert os.read(read_end, 100) == b"through\nafter\n"
    finally:
        os.close(read_end)
        os.close(write_end)
    assert destination("/dev/stdout").descriptor == 1 and destination("/dev/stderr").descriptor == 2


@pytest.mark.parametrize("name", ["x" * 246 + ".csv", "é" * 125 + ".json"])
def test_a_long_valid_name_gets_a_temporary_name_that_is_valid_too(tmp_path, name):
    # 250 characters, and 255 bytes of UTF-8 (NAME_MAX): ".<name>.<random>.tmp" would be too long, so the name
    # part is shortened; the temporary file still starts with "." and ends with ".tmp", within 255 bytes.
    writer = AtomicTextFile(tmp_path / name)
    writer.open().write("text")
    [temporary] = leftovers(tmp_path)
    assert len(os.fsencode(temporary)) <= 255 and temporary.startswith(".")
    writer.commit()
    assert (tmp_path / name).read_text() == "text" and leftovers(tmp_path) == []


# -- outputs committed together ---------------------------------------------------------------------------------

def olds(tmp_path: Path, *names: str) -> list[Path]:
    paths = [tmp_path / name for name in names]
    for path in paths:
        path.write_text(f"old {path.name}\n")
    return paths


def test_a_group_commits_every_file_or_none(tmp_path):
    a, b, c = olds(tmp_path, "a.csv", "b.paje", "c.json")
    with pytest.raises(Boom), CommitGroup() as group:
        for path in (a, b, c):
            group.write_text(path, "new\n")
        raise Boom  # after all three are complete, before the commit
    assert [p.read_text() for p in (a, b, c)] == ["old a.csv\n", "old b.paje\n", "old c.json\n"]
    assert leftovers(tmp_path) == [] and group.state == "discarded"
    with CommitGroup() as group:
        for path in (a, b, c):
            group.write_text(path, "new\n")
        assert a.read_text() == "old a.csv\n"  # nothing is in place before the commit
    assert [p.read_text() for p in (a, b, c)] == ["new\n"] * 3 and group.state == "committed"


def test_a_full_disk_on_the_second_file_leaves_every_old_file(tmp_path, monkeypatch):
    # The second fsync fails as a full disk would: the first file is complete, the third not yet written. No
    # file is renamed; the error names the user's path, not the temporary file.
    a, b, c = olds(tmp_path, "a.csv", "b.paje", "c.json")
    calls = []
    real_fsync = os.fsync

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OutputError) as caught, CommitGroup() as group:
        for path in (a, b, c):
            group.write_text(path, "new\n")
    assert str(caught.value) == f"{b}: expected a writable output file, found an error: No space left on device"
    assert [p.read_text() for p in (a, b, c)] == ["old a.csv\n", "old b.paje\n", "old c.json\n"]
    assert leftovers(tmp_path) == []


def test_a_device_that_refuses_the_bytes_leaves_every_old_file(tmp_path):
    # /dev/full is written through before any rename: its failure stops the commit, the files keep their text.
    a, c = olds(tmp_path, "a.csv", "c.json")
    with pytest.raises(OutputError, match=r"^/dev/full: .*No space left on device$"), CommitGroup() as group:
        for path in (a, "/dev/full", c):
            group.write_text(path, "new\n")
    assert [p.read_text() for p in (a, c)] == ["old a.csv\n", "old c.json\n"] and leftovers(tmp_path) == []


def test_signals_wait_for_the_last_rename(tmp_path, monkeypatch):
    # A SIGHUP sent during the first rename is delivered after the last one: all files are new, then it raises.
    paths = olds(tmp_path, "a", "b", "c")
    real_replace = os.replace

    def replace(src, dst):
        if dst == paths[0]:
            os.kill(os.getpid(), signal.SIGHUP)
        real_replace(src, dst)

    def hangup(signum, frame):
        raise Boom

    monkeypatch.setattr(os, "replace", replace)
    previous = signal.signal(signal.SIGHUP, hangup)
    try:
        with pytest.raises(Boom), CommitGroup() as group:
            for path in paths:
                group.write_text(path, "new\n")
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert [p.read_text() for p in paths] == ["new\n"] * 3 and group.state == "committed"


def test_writers_in_a_group_are_installed_by_the_group(tmp_path):
    target = tmp_path / "m.csv"
    group = CommitGroup()
    writer = MigrationsCsvWriter(target)
    writer.join(group)
    with writer:
        writer.emit(events.RunEnded(0.0))
    assert writer.state == "closed" and not target.exists()  # complete, waiting for the group
    group.commit()
    assert target.read_text().startswith("vm,src,dst,")
    with pytest.raises(RuntimeError, match="after being opened"):
        writer.join(group)


class _FailingSink(FileSink):
    def _record(self, record):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_error_during_a_run_names_the_output(tmp_path):
    sink = _FailingSink(tmp_path / "run.csv")
    with pytest.raises(OutputError, match=f"^{tmp_path / 'run.csv'}: .*No space left on device$"), sink:
        sink.emit(events.RunEnded(0.0))
    assert sink.state == "aborted" and sorted(tmp_path.iterdir()) == []
