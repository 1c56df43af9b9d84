"""The CSV writers: what polars reads, the same facts as pj_dump's view of the Paje trace, the migrations table.

Golden files ``tests/golden/tracing/lifecycle.csv`` and ``lifecycle_migrations.csv`` hold the lifecycle run's
tables; regenerate them after a deliberate change with
``UPDATE_GOLDEN=1 python -m pytest tests/test_tracing_paje.py tests/test_tracing_csv.py``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from replay.errors import StateError
from tests.helpers import assert_golden
from tests.test_tracing_scenarios import (
    GOLDEN,
    LIFE,
    MIG,
    PjDump,
    _simulation,
    comm_sim,
    failures_sim,
    lifecycle_sim,
    migrations_sim,
    needs_pj_dump,
    nested_sim,
    pj_dump,
    trace,
)
from tracing.csv_writer import CSV_COLUMNS, MIGRATION_COLUMNS, CsvWriter, MigrationsCsvWriter
from tracing.paje import PajeWriter

T = pytest.approx


def write_csv(build, path: Path, **options) -> Path:
    trace(build, CsvWriter(path, build([]).platform, **options))
    return path


def both(build, tmp_path: Path, **options) -> tuple[pl.DataFrame, PjDump]:
    """The CSV table and pj_dump's view of the Paje trace of the same run (written together)."""
    platform = build([]).platform
    csv, paje = tmp_path / "t.csv", tmp_path / "t.paje"
    trace(build, CsvWriter(csv, platform, **options), PajeWriter(paje, platform, **options))
    return pl.read_csv(csv), pj_dump(paje)


def test_polars_reads_it_with_no_options(tmp_path):
    table = pl.read_csv(write_csv(lifecycle_sim, tmp_path / "t.csv"))
    assert tuple(table.columns) == CSV_COLUMNS
    assert CSV_COLUMNS[:12] == (
        "kind", "container", "type", "start", "end", "duration", "value", "label", "parent", "start_container",
        "end_container", "key",
    )
    assert table.schema == pl.Schema({
        "kind": pl.String, "container": pl.String, "type": pl.String, "start": pl.Float64, "end": pl.Float64,
        "duration": pl.Float64, "value": pl.Float64, "label": pl.String, "parent": pl.String,
        "start_container": pl.String, "end_container": pl.String, "key": pl.String, "depth": pl.Int64,
    })
    assert set(table["kind"]) == {"container", "state", "variable", "link", "event"}
    # value only for variables, label for states, links and events
    assert table.filter(pl.col("kind") != "variable")["value"].null_count() == table.filter(
        pl.col("kind") != "variable").height
    assert table.filter(pl.col("kind").is_in(["state", "link", "event"]))["label"].null_count() == 0


def test_rows_are_ordered_by_start_and_durations_add_up(tmp_path):
    table = pl.read_csv(write_csv(comm_sim, tmp_path / "t.csv", actors=True))
    assert table["start"].to_list() == sorted(table["start"].to_list())
    assert (table["end"] - table["start"] - table["duration"]).abs().max() < 1e-12
    # The first row is the root (the platform's root zone), depth 0, no parent; its children name it.
    root = table.row(0, named=True)
    assert (root["kind"], root["container"], root["type"], root["parent"], root["depth"]) == (
        "container", "net", "0", None, 0
    )
    assert table.filter(pl.col("container") == "A").row(0, named=True)["parent"] == "net"


def test_the_lifecycle_table(tmp_path):
    table = pl.read_csv(write_csv(lifecycle_sim, tmp_path / "t.csv"))
    states = table.filter(pl.col("kind") == "state").sort("start", "depth")
    assert states.select("container", "label", "depth").rows() == [
        ("vm0", "start", 0), ("vm0", "suspend", 1), ("vm0", "save", 1), ("vm0", "saving", 2),
        ("vm0", "restoring", 2), ("vm0", "migrate", 1), ("vm0", "stop-and-copy", 2), ("vm0", "start", 0),
    ]
    assert states["start"].to_list() == T([0, 2, 6, 6, 9, 11, LIFE["stage1"], LIFE["moved"]], abs=1e-9)
    assert states["end"].to_list() == T(
        [LIFE["moved"], 5, 10, 7, 10, LIFE["moved"], LIFE["moved"], LIFE["shutdown"]], abs=1e-9
    )
    [link] = table.filter(pl.col("kind") == "link").rows(named=True)
    assert (link["container"], link["type"], link["label"], link["start_container"], link["end_container"],
            link["key"]) == ("dc", "MSG_VM_LINK", "M", "vm0", "vm0", "M0")
    vms = table.filter((pl.col("kind") == "container") & (pl.col("type") == "MSG_VM"))
    assert vms.select("container", "parent", "depth").rows() == [("vm0", "pm0", 2), ("vm0", "pm1", 2)]


@pytest.mark.parametrize(
    ("build", "options"),
    [(lifecycle_sim, {}), (migrations_sim, {}), (comm_sim, {"actors": True}), (nested_sim, {"actors": True}),
     (failures_sim, {"actors": True}), (failures_sim, {})],
    ids=["lifecycle", "migrations", "comm", "nested", "failures", "failures-no-actors"],
)
@needs_pj_dump
def test_the_csv_says_what_pj_dump_says(tmp_path, build, options):
    # Both come from the same operations: every row of pj_dump's five kinds has its CSV row, and back. The Paje
    # file has 6 digits of time, so CSV times are rounded the same way; pj_dump's values are 32-bit floats.
    table, dump = both(build, tmp_path, **options)
    root = table.row(0, named=True)["container"]

    def time(x: float) -> float:
        return round(x, 6)

    def name(x: str | None) -> str:
        return "0" if x == root else x

    rows = {kind: table.filter(pl.col("kind") == kind).rows(named=True) for kind in ("container", "state",
                                                                                      "variable", "link", "event")}
    assert Counter((name(r["parent"] or root), r["type"], name(r["container"])) for r in rows["container"]) == Counter(
        (c.parent, c.type, name(c.name)) for c in dump.containers
    )
    for c in dump.containers:  # pj_dump prints container dates with 6 significant digits
        [match] = [r for r in rows["container"] if name(r["container"]) == c.name and r["start"] == T(c.start, rel=1e-5)
                   and name(r["parent"] or root) == c.parent]
        assert match["end"] == T(c.end, rel=1e-5)
    assert Counter((r["container"], r["type"], time(r["start"]), time(r["end"]), r["depth"], r["label"])
                   for r in rows["state"]) == Counter(
        (s.container, s.type, time(s.start), time(s.end), s.depth, s.value) for s in dump.states
    )
    csv_variables = sorted((r["container"], r["type"], time(r["start"]), time(r["end"]), r["value"])
                           for r in rows["variable"])
    paje_variables = sorted((x.container, x.type, time(x.start), time(x.end), x.value) for x in dump.variables)
    assert [row[:4] for row in csv_variables] == [row[:4] for row in paje_variables]
    assert [row[4] for row in csv_variables] == T([row[4] for row in paje_variables], rel=1e-6)
    assert Counter((name(r["container"]), r["type"], time(r["start"]), time(r["end"]), r["label"],
                    r["start_container"], r["end_container"], r["key"]) for r in rows["link"]) == Counter(
        (x.container, x.type, time(x.start), time(x.end), x.value, x.start_container, x.end_container, x.key)
        for x in dump.links
    )
    assert Counter((r["container"], r["type"], time(r["start"]), r["label"]) for r in rows["event"]) == Counter(
        (e.container, e.type, time(e.time), e.value) for e in dump.events
    )


# -- migrations -------------------------------------------------------------------------------------------------
def write_migrations(build, path: Path) -> pl.DataFrame:
    trace(build, MigrationsCsvWriter(path))
    return pl.read_csv(path)


def test_the_migrations_table_of_the_lifecycle(tmp_path):
    table = write_migrations(lifecycle_sim, tmp_path / "m.csv")
    assert tuple(table.columns) == MIGRATION_COLUMNS == (
        "vm", "src", "dst", "start", "end", "duration", "downtime", "bytes_stage1", "bytes_stage2", "bytes_stage3",
        "rounds", "converged", "error",
    )
    assert table.schema["converged"] == pl.Boolean and table.schema["bytes_stage1"] == pl.Int64
    [row] = table.rows(named=True)
    # 11 to 11.8003 (see test_tracing_scenarios); stop-and-copy of 0 bytes takes the trunk's 1e-4 s.
    assert row == {
        "vm": "vm0", "src": "pm0", "dst": "pm1", "start": 11.0, "end": T(LIFE["migrated"]),
        "duration": T(LIFE["migrated"] - 11.0), "downtime": T(1e-4), "bytes_stage1": 100_000_000,
        "bytes_stage2": 0, "bytes_stage3": 0, "rounds": 0, "converged": True, "error": None,
    }


def test_two_concurrent_migrations_give_two_rows(tmp_path):
    table = write_migrations(migrations_sim, tmp_path / "m.csv")
    assert table.select("vm", "src", "dst").rows() == [("va", "pa", "pc"), ("vb", "pb", "pc")]
    assert table["start"].to_list() == [MIG["start"]] * 2
    assert table["end"].to_list() == T([MIG["end"]] * 2)


def _aborted(listeners=()):
    # VM vm0 (1e8 B) starts migrating pm0 -> pm1 at 0; at 0.5, mid stage 1, the admin on ctl shuts it down.
    sim = _simulation("lifecycle.xml", listeners)
    vm = sim.create_vm("vm0", "pm0", ramsize=1e8)
    vm.start()

    def migrator(actor):
        with pytest.raises(StateError):
            yield sim.migrate_vm(vm, "pm1", actor)

    def admin(actor):
        yield actor.sleep(0.5)
        vm.shutdown(actor)

    sim.add_actor("migrator", "ctl", migrator)
    sim.add_actor("admin", "ctl", admin)
    return sim


@needs_pj_dump
def test_a_failed_migration_has_its_error_and_no_link(tmp_path):
    table = write_migrations(_aborted, tmp_path / "m.csv")
    [row] = table.rows(named=True)
    assert (row["vm"], row["start"], row["end"]) == ("vm0", 0.0, 0.5)
    assert "shut down" in row["error"]
    dump = pj_dump(write_paje(_aborted, tmp_path / "t.paje"))
    assert not dump.links  # the VM never moved
    assert dump.states_of("vm0") == [(0.0, 0.5, 0, "start"), (0.0, 0.5, 1, "migrate")]
    [vm] = dump.containers_named("vm0")
    assert vm.parent == "pm0"


def write_paje(build, path: Path) -> Path:
    trace(build, PajeWriter(path, build([]).platform))
    return path


# -- golden and determinism -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["table", "migrations"])
def test_golden_lifecycle_tables(tmp_path, kind):
    if kind == "table":
        produced = write_csv(lifecycle_sim, tmp_path / "t.csv").read_bytes()
        golden = GOLDEN / "lifecycle.csv"
    else:
        write_migrations(lifecycle_sim, tmp_path / "m.csv")
        produced = (tmp_path / "m.csv").read_bytes()
        golden = GOLDEN / "lifecycle_migrations.csv"
    assert_golden(produced, golden)


def test_the_same_run_gives_the_same_table(tmp_path):
    first = write_csv(migrations_sim, tmp_path / "a.csv", actors=True).read_bytes()
    second = write_csv(migrations_sim, tmp_path / "b.csv", actors=True).read_bytes()
    assert first == second
