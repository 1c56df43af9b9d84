"""Sinks: the protocol, MemorySink, atomic file writing, and tracing off costing nothing."""

from __future__ import annotations

import ast
import gc
import os
import stat
from pathlib import Path

import pytest

from replay import events
from replay.engine import Engine
from replay.lifecycle import VmOperation
from replay.platform import load_platform
from tests.test_tracing_scenarios import DATA, lifecycle_sim, trace
from tracing.csv_writer import CsvWriter, MigrationsCsvWriter
from tracing.paje import PajeWriter
from tracing.sink import AtomicTextFile, MemorySink, TraceSink, atomic_path, atomic_write_text

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
