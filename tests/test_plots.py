"""Pictures of a run (``tracing.plots`` and ``replay plot``): valid PNGs of the expected size, the same bytes on
every run, the rows, colours and arrows the Gantt chart promises, and one clear line when matplotlib is missing.

matplotlib is an optional extra: the tests that draw skip without it (the ``mpl`` fixture); those about its
absence simulate it and always run.
"""

from __future__ import annotations

import itertools
import struct
import sys
import zlib
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from replay.cli import app
from tests.helpers import REPO, unpowered_default
from tests.test_cli import assert_one_line_error
from tests.test_tracing_scenarios import lifecycle_sim, trace
from tracing import plots
from tracing.analysis import AnalysisError, PlotUnavailable, report
from tracing.csv_writer import CsvWriter
from tracing.paje_types import VM_STATE_VALUES
from tracing.power_plot import power_stack

runner = CliRunner()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def mpl():
    return pytest.importorskip("matplotlib", reason="matplotlib is an optional extra: pip install '.[plot]'",
                               exc_type=ImportError)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """``replay run traces/consolidation.trace --csv run.csv --migrations migrations.csv`` (the README's)."""
    out = tmp_path_factory.mktemp("out")
    result = runner.invoke(app, ["run", str(REPO / "traces" / "consolidation.trace"), "--csv", str(out / "run.csv"),
                                 "--migrations", str(out / "migrations.csv"), "--quiet"])
    assert result.exit_code == 0, result.output
    return out / "run.csv"


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of a PNG file, checking the signature and every CRC."""
    assert data[:8] == PNG_SIGNATURE
    chunks, offset = [], 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset:offset + 4])
        kind = data[offset + 4:offset + 8]
        body = data[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length:offset + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        offset += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    return chunks


def png_size(path: Path) -> tuple[int, int]:
    header = png_chunks(path.read_bytes())[0][1]
    width, height = struct.unpack(">II", header[:8])
    return width, height


@pytest.mark.parametrize(("what", "size"), [("gantt", (1200, 600)), ("utilization", (1200, 600)),
                                            ("all", (1200, 1100))])
def test_a_valid_png_of_the_expected_size_and_the_same_bytes_again(mpl, run, tmp_path, what, size):
    first, second = tmp_path / "a.png", tmp_path / "b.png"
    assert plots.plot(run, first, what=what) == first
    plots.plot(run, second, what=what)
    assert png_size(first) == size == (round(plots.SIZES[what][0] * plots.DPI), round(plots.SIZES[what][1] * plots.DPI))
    assert first.read_bytes() == second.read_bytes()
    kinds = [kind for kind, _ in png_chunks(first.read_bytes())]
    assert b"tIME" not in kinds  # no date
    texts = b"".join(body for kind, body in png_chunks(first.read_bytes()) if kind in (b"tEXt", b"iTXt", b"zTXt"))
    assert b"Software" not in texts and b"matplotlib" not in texts.lower()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png", "b.png"]  # no temporary file left


def test_the_cli_draws_the_same_picture(mpl, run, tmp_path):
    result = runner.invoke(app, ["plot", str(run), "-o", str(tmp_path / "cli.png"), "--what", "gantt"])
    assert result.exit_code == 0, result.output
    assert f"wrote {tmp_path / 'cli.png'}" in result.stdout
    assert (tmp_path / "cli.png").read_bytes() == plots.plot(run, tmp_path / "api.png", what="gantt").read_bytes()
    default = runner.invoke(app, ["plot", str(run), "--output", str(tmp_path / "all.png")])
    assert default.exit_code == 0 and png_size(tmp_path / "all.png") == (1200, 1100)


def test_the_gantt_chart_rows_colours_and_arrows(mpl, run):
    """One row per (PM, VM): pm-0 holds front, then batch and db as they arrive; pm-2 and pm-3 hold the VMs
    that leave them. Four moves, four arrows, each labelled with its VM; bars in the Paje colours."""
    fig = plots.figure(run, what="gantt")
    ax = fig.axes[0]
    assert [label.get_text() for label in ax.get_yticklabels()] == [
        "front", "batch", "db", "app1", "cache", "app2", "app2", "cache", "batch", "db"]
    assert [label.get_text() for label in ax.get_yticklabels(minor=True)] == ["pm-0", "pm-1", "pm-2", "pm-3"]
    arrows = [a for a in ax.texts if getattr(a, "arrow_patch", None) is not None]
    assert len(arrows) == 4
    labels = sorted(a.get_text() for a in ax.texts if a.get_text())
    assert labels == ["app2", "batch", "cache", "db"]
    # every arrow goes from the VM's row under its source PM up to its row under the destination, at the move
    moves = report(run, what="moves")["moves"]
    ticks = dict(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()], strict=True))
    for arrow, (vm, _, _, time) in zip(arrows, moves.select("vm", "src", "dst", "time").rows(), strict=True):
        (x0, y0), (x1, y1) = arrow.xyann, arrow.xy
        assert x0 == x1 == time and ticks[y0] == ticks[y1] == vm and y1 < y0  # pm-0/pm-1 are drawn above
    bars = {tuple(round(float(c), 6) for c in coll.get_facecolor()[0][:3]) for coll in ax.collections}
    assert bars == {tuple(float(v) for v in VM_STATE_VALUES[s].split()) for s in ("start", "migrate", "stop-and-copy")}
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["start (running)", "migrate (pre-copy)", "stop-and-copy", "move (migration)"]


def test_utilization_panels_are_the_busy_hosts(mpl, run):
    fig = plots.figure(run, what="utilization")
    names = [ax.get_ylabel() for ax in fig.axes]
    assert names == ["pm-0", "pm-1", "pm-2", "pm-3"]  # the others never computed
    assert all(ax.get_ylim() == (0.0, 1.05) for ax in fig.axes)  # fractions: the embedded platform is known
    notes = [t.get_text() for t in fig.texts]
    assert notes == ["idle all run: controller, pm-4, pm-5, pm-6, pm-7, storage"]
    means = [t.get_text() for ax in fig.axes for t in ax.texts if t.get_text().startswith("mean")]
    assert means == ["mean 18.4%", "mean 14.5%", "mean 6.4%", "mean 17.4%"]


def test_without_the_platform_utilization_is_in_gflops(mpl, tmp_path):
    """The lifecycle run's platform is not the embedded one: no capacities, so Gflop/s; with it, fractions."""
    csv = tmp_path / "life.csv"
    trace(lifecycle_sim, CsvWriter(csv, lifecycle_sim([]).platform))
    fig = plots.figure(csv, what="utilization")
    assert "Gflop/s" in fig.axes[0].get_title(loc="left")
    assert [ax.get_ylabel() for ax in fig.axes] == ["pm0", "pm1"]
    with_platform = plots.figure(csv, what="utilization", platform=REPO / "tests" / "data" / "tracing" /
                                 "lifecycle.xml")
    assert "fraction" in with_platform.axes[0].get_title(loc="left")
    plots.save_png(fig, tmp_path / "life.png")
    assert png_size(tmp_path / "life.png") == (1200, 600)


@pytest.mark.parametrize(("args", "fragments"), [
    (["missing.csv", "-o", "x.png"], ["missing.csv: expected a tidy trace CSV (replay run --csv), found no such"]),
    (["RUN", "-o", "x.jpg"], ["x.jpg: expected a .png file name (or .svg, .pdf), found '.jpg'"]),
    (["RUN", "-o", "x.png", "--width", "100", "--dpi", "1000"], ["at most 32768 pixels a side",
                                                                 "100000 x 11000 pixels"]),
    (["RUN", "-o", "nowhere/x.png"], ["expected an existing directory for the picture"]),
])
def test_plot_bad_input_is_one_line(run, tmp_path, monkeypatch, args, fragments):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["plot", *(str(run) if a == "RUN" else a for a in args)])
    assert_one_line_error(result, *fragments)
    assert not any(tmp_path.iterdir())


def test_missing_matplotlib_is_one_clear_line(run, tmp_path, monkeypatch):
    """Without the extra (simulated: importing matplotlib fails), plotting says how to install it."""
    for name in [n for n in sys.modules if n == "matplotlib" or n.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(PlotUnavailable, match=r"install the plot extra: pip install '\.\[plot\]'"):
        plots.plot(run, tmp_path / "x.png")
    result = runner.invoke(app, ["plot", str(run), "-o", str(tmp_path / "x.png")])
    assert_one_line_error(result, "matplotlib", "install the plot extra: pip install '.[plot]'")
    assert not (tmp_path / "x.png").exists()
    assert issubclass(PlotUnavailable, ImportError)


def test_an_unknown_plot_is_a_value_error(mpl, run, tmp_path):
    with pytest.raises(ValueError, match="unknown plot 'pie'"):
        plots.figure(run, what="pie")
    with pytest.raises(AnalysisError, match=r"expected a \.png file name"):
        plots.save_png(plots.figure(run, what="gantt"), tmp_path / "x.jpg")
    assert runner.invoke(app, ["plot", str(run), "-o", str(tmp_path / "x.png"), "--what", "pie"]).exit_code == 2


def test_the_docs_pictures(mpl):
    """docs/consolidation-*.png, drawn by tools/make_docs_pngs.sh, are PNGs of the plots' sizes (their bytes
    depend on the matplotlib and FreeType versions, so they are not compared here)."""
    for what in ("gantt", "utilization"):
        path = REPO / "docs" / f"consolidation-{what}.png"
        if not path.exists():
            pytest.skip(f"{path.name} not drawn yet: tools/make_docs_pngs.sh")
        assert png_size(path) == (1200, 600)


# -- formats and sizes ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".svg", ".pdf"])
def test_svg_and_pdf_by_the_suffix_with_the_same_bytes_again(mpl, run, tmp_path, suffix):
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    plots.plot(run, first, what="gantt")
    plots.plot(run, second, what="gantt")
    data = first.read_bytes()
    assert data == second.read_bytes()  # no date, and SVG ids that do not change
    if suffix == ".svg":  # 12 x 6 inches are 864 x 432 points
        assert data.startswith(b"<?xml") and b'width="864pt" height="432pt"' in data
        assert b"<dc:date>" not in data and b"Matplotlib v" not in data
    else:
        assert data.startswith(b"%PDF") and b"/MediaBox [ 0 0 864 432 ]" in data
        assert not any(key in data for key in (b"/CreationDate", b"/Producer", b"/Creator"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"a{suffix}", f"b{suffix}"]


def test_the_cli_takes_a_size_in_inches_and_a_dpi(mpl, run, tmp_path):
    result = runner.invoke(app, ["plot", str(run), "-o", str(tmp_path / "s.png"), "--what", "gantt", "--width", "8",
                                 "--height", "5", "--dpi", "50"])
    assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "s.png") == (8 * 50, 5 * 50)
    tall = runner.invoke(app, ["plot", str(run), "-o", str(tmp_path / "t.svg"), "--height", "20"])
    assert tall.exit_code == 0 and b'width="864pt" height="1440pt"' in (tmp_path / "t.svg").read_bytes()
    for wrong in (["--dpi", "5"], ["--width", "0"], ["--height", "-3"]):
        assert runner.invoke(app, ["plot", str(run), "-o", str(tmp_path / "x.png"), *wrong]).exit_code == 2


# -- thousands of VMs ----------------------------------------------------------------------------------------------
BIG = 2000


def big_trace(vms: int) -> str:
    """``vms`` idle VMs of 1 core and 64 MiB spread over pm-0 .. pm-7 of the embedded platform (4 cores of
    2 Gf/s), all started at 0. From 1 s, ops migrates vm5 to pm-1 then vm10 to pm-3; ctl suspends vm20 from 1 to
    5 s and vm21 from 3 to 5 s; a worker in vm3 computes 2e10 flops (10 s at 2 Gf/s)."""
    lines = ["ctl init controller"]
    lines += [f"ctl vm_create vm{i} pm-{i % 8} cores=1 ram=64MiB" for i in range(vms)]
    lines += [f"ctl vm_start vm{i}" for i in range(vms)]
    lines += ["ctl sleep 1", "ctl vm_suspend vm20", "ctl sleep 2", "ctl vm_suspend vm21", "ctl sleep 2",
              "ctl vm_resume vm20", "ctl vm_resume vm21"]
    lines += ["ops init controller", "ops sleep 1", "ops vm_migrate vm5 pm-1", "ops vm_migrate vm10 pm-3"]
    lines += ["w init vm3", "w compute 2e10"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    folder = tmp_path_factory.mktemp("big")
    (folder / "big.trace").write_text(big_trace(BIG))
    result = runner.invoke(app, ["run", str(folder / "big.trace"), "--csv", str(folder / "big.csv"), "--quiet"])
    assert result.exit_code == 0, result.output
    return folder / "big.csv"


def test_thousands_of_vms_the_gantt_shows_the_rows_that_fit_the_most_eventful_first(mpl, big):
    fig = plots.figure(big, what="gantt")
    counts_ax, gantt_ax = fig.axes
    labels = [label.get_text() for label in gantt_ax.get_yticklabels()]
    height = gantt_ax.get_position().height * fig.get_figheight() * 72  # points
    assert len(labels) > 10 and len(labels) * plots.ROW_POINTS <= height  # as many rows as fit, no more
    # the two that migrated (a row under each PM), the two suspended (the longest first), then by name
    shown = set(labels)
    assert {"vm5", "vm10", "vm20", "vm21"} <= shown and labels.count("vm5") == labels.count("vm10") == 2
    rest = sorted(shown - {"vm5", "vm10", "vm20", "vm21"}, key=plots.natural_key)
    assert rest == [f"vm{i}" for i in range(BIG) if i not in (5, 10, 20, 21)][:len(rest)]
    assert gantt_ax.get_title(loc="left").startswith(f"{len(shown)} of {BIG:,} VMs: those that migrated")
    fig.canvas.draw()  # no label on top of another
    boxes = sorted((label.get_window_extent() for label in gantt_ax.get_yticklabels()), key=lambda box: box.y0)
    assert all(low.y1 <= high.y0 for low, high in itertools.pairwise(boxes))
    # the panel above counts all the VMs: 2000 running, two of them suspended for a while
    assert f"the {BIG:,} VMs in each state" in counts_ax.get_title(loc="left")
    assert counts_ax.get_ylim()[1] == pytest.approx(BIG * 1.08)
    assert [text.get_text() for text in counts_ax.get_legend().get_texts()][:2] == ["start (running)", "suspend"]
    # a taller figure shows more rows
    taller = plots.figure(big, what="gantt", size=(12.0, 12.0)).axes[1]
    assert len(taller.get_yticklabels()) > len(labels)


def test_thousands_of_vms_are_drawn_in_every_format(mpl, big, tmp_path):
    for suffix in plots.FORMATS:
        result = runner.invoke(app, ["plot", str(big), "-o", str(tmp_path / f"big{suffix}")])
        assert result.exit_code == 0, result.output
    assert png_size(tmp_path / "big.png") == (1200, 1100)


def test_state_counts_of_the_suspended_vm(tmp_path):
    """tests/test_analysis.suspended: v runs from 0, is suspended from 2 to 5 s, runs until 6."""
    from tests.test_analysis import _csv, suspended
    from tracing.analysis import vm_states

    counts = plots.state_counts(vm_states(_csv(tmp_path, suspended)).collect())
    assert counts.rows() == [(0.0, 1, 0), (2.0, 0, 1), (5.0, 1, 0), (6.0, 0, 0)]
    assert counts.columns == ["time", "start", "suspend"]


def test_the_most_eventful_vms_come_first():
    states = pl.DataFrame(
        [("d", "start", 0.0, 9.0), ("c", "start", 0.0, 1.0), ("c", "suspend", 1.0, 2.0), ("c", "start", 2.0, 3.0),
         ("c", "suspend", 3.0, 4.0), ("b", "start", 0.0, 1.0), ("b", "save", 1.0, 4.0), ("a", "start", 0.0, 9.0),
         ("e", "start", 0.0, 9.0)], schema=["vm", "state", "start", "end"], orient="row")
    moves = pl.DataFrame({"vm": ["e"], "src": ["p"], "dst": ["q"], "time": [5.0]})
    # e moved; b spent 3 s out of start, c 2 s; a and d only ran: by name
    assert plots.ranked_vms(states, moves) == ["e", "b", "c", "a", "d"]


def test_a_host_with_many_moves_counts_them(mpl):
    """h sees 7 VMs leave (more than MAX_MOVE_LABELS: counted), g 2 arrive (labelled one by one)."""
    from matplotlib.figure import Figure

    series = pl.DataFrame({"kind": ["host"] * 2, "name": ["h", "g"], "start": [0.0, 0.0], "end": [10.0, 10.0],
                           "duration": [10.0, 10.0], "value": [1.0, 1.0], "capacity": [2.0, 2.0],
                           "fraction": [0.5, 0.5]})
    moves = pl.DataFrame({"vm": [f"v{i}" for i in range(9)], "src": ["h"] * 7 + ["k", "k"],
                          "dst": ["k"] * 7 + ["g", "g"], "time": [float(i) for i in range(9)]})
    fig = Figure(figsize=(12, 4))
    axes = [fig.add_subplot(2, 1, 1), fig.add_subplot(2, 1, 2)]
    plots.draw_utilization(axes, series, moves, end=10.0, hosts=["h", "g"], fractions=True)
    labels = [[text.get_text() for text in ax.texts if not text.get_text().startswith("mean")] for ax in axes]
    assert 7 > plots.MAX_MOVE_LABELS >= 2
    assert labels == [["7 VMs \u2192"], ["\u2192 v7", "\u2192 v8"]]
    assert [len(ax.lines) for ax in axes] == [1 + 7, 1 + 2]  # the step line, and a dotted line per move


# -- power -----------------------------------------------------------------------------------------------------------
# The energy run of tests/test_energy_analysis.py (its docstring derives every watt): h1 160, 200, 100, 80 (power
# state 1 from 3 s), 110 W; h2 50 W but 100 W from 2.05 to 2.55 s; l1 10 W but 30 W from 1 to 2.05 s; 5 s in all.
@pytest.fixture(scope="module")
def energy_run(tmp_path_factory):
    from tests.test_energy_analysis import replay_run

    return replay_run(tmp_path_factory.mktemp("energy"), "energy", "energy")[0]


def test_the_power_stack_layers_by_hand(energy_run):
    power = report(energy_run, what="energy")["power"]
    stack, labels = power_stack(power, ["h1"])
    assert labels == ["h1", "1 other host", "l1"]
    # a row at each date some power changes; the values h1 and h2 take at 5 s, for no time, are not drawn
    assert stack.rows() == [(0.0, 160.0, 50.0, 10.0), (1.0, 200.0, 50.0, 30.0), (2.0, 100.0, 50.0, 30.0),
                            (2.05, 100.0, 100.0, 10.0), (2.55, 100.0, 50.0, 10.0), (3.0, 80.0, 50.0, 10.0),
                            (4.0, 110.0, 50.0, 10.0)]
    assert power_stack(power, ["h1", "h2"])[1] == ["h1", "h2", "l1"]
    assert power_stack(power.clear(), [])[1] == []


def test_the_power_figure(mpl, energy_run):
    """The stack (title: 996 J over 5 s, 199 W), then a panel per host and link with wattages (h3 and l2 have
    none), each with its mean and energy; h1's change to power state 1 at 3 s is marked."""
    fig = plots.figure(energy_run, what="power")
    stack_ax, *panels = fig.axes
    assert stack_ax.get_title(loc="left") == "Power drawn, stacked \u2014 energy.csv: 996 J, mean 199 W"
    assert [text.get_text() for text in stack_ax.get_legend().get_texts()] == ["h1", "h2", "l1", "total"]
    assert stack_ax.get_ylim()[1] == pytest.approx(280.0 * 1.1)  # the highest total: 200 + 50 + 30 W, 1 to 2 s
    assert [ax.get_ylabel() for ax in panels] == ["h1", "h2", "l1"]
    assert [ax.texts[0].get_text() for ax in panels] == ["mean 130 W\n650 J", "mean 55.0 W\n275 J",
                                                         "mean 14.2 W\n71.0 J"]
    marks = [(text.get_text(), text.xy[0]) for text in panels[0].texts[1:]]
    assert marks == [("P1", 3.0)] and all(len(ax.texts) == 1 for ax in panels[1:])
    colors = {ax.get_ylabel(): ax.lines[0].get_color() for ax in panels}
    layers = dict(zip(["h1", "h2", "l1"], stack_ax.collections[:3], strict=True))
    for host in ("h1", "h2"):  # a host's layer has its panel's colour
        assert tuple(layers[host].get_facecolor()[0][:3]) == pytest.approx(mpl.colors.to_rgb(colors[host]))
    assert fig.texts == []  # every host and link has its panel: no note


@pytest.mark.parametrize("suffix", plots.FORMATS)
def test_the_power_plot_in_every_format_with_the_same_bytes_again(mpl, energy_run, tmp_path, suffix):
    first, second = tmp_path / f"a{suffix}", tmp_path / f"b{suffix}"
    result = runner.invoke(app, ["plot", str(energy_run), "--what", "power", "-o", str(first)])
    assert result.exit_code == 0, result.output
    plots.plot(energy_run, second, what="power")
    assert first.read_bytes() == second.read_bytes()
    data = first.read_bytes()
    if suffix == ".png":
        assert png_size(first) == (1200, 800) == tuple(round(side * plots.DPI) for side in plots.SIZES["power"])
    elif suffix == ".svg":  # 12 x 8 inches are 864 x 576 points
        assert b'width="864pt" height="576pt"' in data and b"<dc:date>" not in data
    else:
        assert b"/MediaBox [ 0 0 864 576 ]" in data and b"/CreationDate" not in data


@pytest.fixture(scope="module")
def unpowered_run(tmp_path_factory):
    """The README's consolidation run on the default platform without its wattages: no power in the CSV."""
    out = tmp_path_factory.mktemp("unpowered")
    result = runner.invoke(app, ["run", str(REPO / "traces" / "consolidation.trace"), "--platform",
                                 str(unpowered_default(out)), "--csv", str(out / "run.csv"), "--quiet"])
    assert result.exit_code == 0, result.output
    return out / "run.csv"


def test_all_adds_the_power_stack_when_the_run_has_power(mpl, energy_run, unpowered_run):
    """all: the Gantt chart, the utilization panels, and under them the stack, which has the time axis; on the
    consolidation run (no wattages), the figure of before."""
    fig = plots.figure(energy_run, what="all", platform=REPO / "traces" / "platforms" / "energy.xml")
    titles = [ax.get_title(loc="left") for ax in fig.axes]
    assert titles[-1] == "Power drawn, stacked: 996 J, mean 199 W"
    assert [ax.get_ylabel() for ax in fig.axes[1:-1]] == ["h1", "h2"]  # utilization: the hosts that computed
    assert fig.axes[-1].get_xlabel() == "simulated time (s)" and fig.axes[-2].get_xlabel() == ""
    before = plots.figure(unpowered_run, what="all")
    assert not any("Power" in ax.get_title(loc="left") for ax in before.axes)
    assert before.axes[-1].get_xlabel() == "simulated time (s)"


def test_the_power_plot_without_wattages_says_so(mpl, unpowered_run):
    (ax,) = plots.figure(unpowered_run, what="power").axes
    assert [text.get_text() for text in ax.texts] == ["no power in this trace: the platform of the run has no "
                                                      "wattages"]


def many_hosts(hosts: int, links: int) -> tuple[str, str]:
    """A platform of ``hosts`` 1-core hosts of 1 Gf/s (100:120:200 W) and ``links`` links of 100 MB/s (10:30 W)
    from h0 to h1, h2 ...; a trace where host hi computes (i + 1) x 1e8 flops (at load 1, 200 W, until
    (i + 1) / 10 s, then 100 W) and h0 sends (i + 1) x 1e7 bytes over link li."""
    xml = "".join(f'<host id="h{i}" speed="1Gf"><prop id="wattage_per_state" value="100:120:200"/></host>'
                  for i in range(hosts))
    xml += "".join(f'<link id="l{i}" bandwidth="100MBps" latency="0"><prop id="wattage_range" value="10:30"/>'
                   '</link>' for i in range(links))
    xml += "".join(f'<route src="h0" dst="h{i + 1}"><link_ctn id="l{i}"/></route>' for i in range(links))
    lines = [line for i in range(hosts) for line in (f"w{i} init h{i}", f"w{i} compute {(i + 1) * 1e8}")]
    lines += [line for i in range(links) for line in (f"s{i} init h0", f"s{i} send r{i} {(i + 1) * 1e7}",
                                                      f"r{i} init h{i + 1}", f"r{i} recv s{i}")]
    platform = f'<?xml version="1.0"?><platform version="4.1"><zone id="z" routing="Full">{xml}</zone></platform>'
    return platform, "\n".join(lines) + "\n"


def test_many_hosts_the_panels_are_those_that_drew_the_most(mpl, tmp_path):
    """40 hosts and 6 links: h39 computes longest, so draws most, then h38 ...; l5 carries most. At 12 x 8 in,
    eight panels of 30 points fit (the plots' 489.6 points, 64 % of them, less the space under the stack: 285
    points, for n panels and n - 1 gaps of 0.12 panel): a quarter (2) for the links that drew most, 6 for the
    hosts; the stack holds the others in one layer, and a note names them."""
    platform, trace = many_hosts(40, 6)
    (tmp_path / "p.xml").write_text(platform)
    (tmp_path / "t.trace").write_text(trace)
    result = runner.invoke(app, ["run", str(tmp_path / "t.trace"), "--platform", str(tmp_path / "p.xml"), "--csv",
                                 str(tmp_path / "m.csv"), "--quiet"])
    assert result.exit_code == 0, result.output
    fig = plots.figure(tmp_path / "m.csv", what="power")
    stack_ax, *panels = fig.axes
    assert [ax.get_ylabel() for ax in panels] == [*(f"h{i}" for i in range(34, 40)), "l4", "l5"]
    height = panels[0].get_position().height * fig.get_figheight() * 72
    assert plots.MIN_PANEL_POINTS <= height < plots.MIN_PANEL_POINTS * 9 / 8  # as many as fit, no more
    legend = [text.get_text() for text in stack_ax.get_legend().get_texts()]
    assert legend == [*(f"h{i}" for i in range(34, 40)), "34 other hosts", "6 links", "total"]
    (note,) = [text.get_text() for text in fig.texts]
    assert note.startswith("not shown (34 hosts drawing less, in the stack): h0, h1, h2,")
    assert note.endswith("not shown (4 links drawing less): l0, l1, l2, l3")
    # every host and link is in the stack: its top at 0 s is 40 hosts at 200 W and 6 busy links at 30 W
    assert stack_ax.get_ylim()[1] == pytest.approx((40 * 200 + 6 * 30) * 1.1)
