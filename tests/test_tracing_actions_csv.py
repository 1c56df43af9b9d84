"""The actions CSV: one row per replayed action, with its place in the trace and its dates, read by polars as is."""

from __future__ import annotations

import polars as pl

from replay.session import ReplaySession
from tracing.actions_csv import ACTION_COLUMNS, ActionsCsvWriter


def test_one_row_per_action_in_the_order_they_end(tmp_path):
    # Default platform: cores of 2 Gf/s. p0 computes 2e9 flops on pm-0 (0 to 1 s), then sleeps 0.5 s (1 to 1.5);
    # p1 is placed on pm-1 by its init (done at its launch, 0), then computes 4e9 flops (0 to 2 s).
    trace = tmp_path / "t.trace"
    trace.write_text("p0 compute 2e9\np1 init pm-1\np0 sleep 0.5\np1 compute 4e9\n")
    session = ReplaySession.open([trace])
    with ActionsCsvWriter(tmp_path / "actions.csv") as writer:
        session.replayer.listeners.append(writer.emit)
        session.run()
    frame = pl.read_csv(tmp_path / "actions.csv")
    assert frame.columns == list(ACTION_COLUMNS)
    assert frame.dtypes == [pl.String, pl.String, pl.Int64, pl.String, pl.Float64, pl.Float64]
    assert frame.drop("file").rows() == [
        ("p1", 2, "init", 0.0, 0.0),
        ("p0", 1, "compute", 0.0, 1.0),
        ("p0", 3, "sleep", 1.0, 1.5),
        ("p1", 4, "compute", 0.0, 2.0),
    ]
    assert set(frame["file"]) == {str(trace)}
