"""``replay plot --what hosts`` (``tracing.hosts_plot``): the hosts on over time, with a policy's switches, above
the total power; drawn from :func:`tracing.decisions.hosts_on`, whose rows are derived by hand on the boot run of
:mod:`tests.policy_runs`.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from replay.cli import app
from tests.helpers import REPO
from tests.policy_runs import policy_run
from tests.test_plots import png_size
from tracing import plots
from tracing.decisions import hosts_on

runner = CliRunner()
LIFECYCLE = REPO / "tests" / "golden" / "tracing" / "lifecycle.csv"


@pytest.fixture
def mpl():
    return pytest.importorskip("matplotlib", reason="matplotlib is an optional extra: pip install '.[plot]'",
                               exc_type=ImportError)


@pytest.fixture(scope="module")
def boot(tmp_path_factory):
    return policy_run(tmp_path_factory.mktemp("boot"), "boot", migrations=False)


def test_the_hosts_on_by_hand(boot):
    # ctl alone on until 5 s (pm0 and pm1 switched off at 0), pm0 booting from 5 to 15 s, on from 15 s; pm0 off
    # again at 40 s, the run's end (nothing after it)
    assert hosts_on(boot["csv"]).rows() == [(0.0, 5.0, 1, 0, 3), (5.0, 15.0, 1, 1, 3), (15.0, 40.0, 2, 0, 3)]


def test_the_figure_draws_those_rows_and_the_switches(mpl, boot):
    fig = plots.figure(boot["csv"], what="hosts", platform=boot["platform"])
    hosts_ax, power_ax = fig.axes
    lines = {line.get_label(): line for line in hosts_ax.get_lines()}
    on = lines["hosts on"]
    assert list(on.get_xdata()) == [0.0, 5.0, 15.0, 40.0] and list(on.get_ydata()) == [1, 1, 2, 2]
    # switched off at 0 (pm0, pm1) and 40 s (pm0): on the line then; switched on at 5 s, while 1 host is on
    off = lines["switched off (policy): 3"]
    assert list(off.get_xdata()) == [0.0, 0.0, 40.0] and list(off.get_ydata()) == [1, 1, 2]
    power_on = lines["switched on (policy): 1"]
    assert list(power_on.get_xdata()) == [5.0] and list(power_on.get_ydata()) == [1]
    assert lines["3 hosts"].get_ydata()[0] == 3
    assert "Power drawn, stacked: 5.65 kJ" in power_ax.get_title(loc="left")  # 5650 J (tests.policy_runs)


def test_a_png_the_same_bytes_again_and_from_the_cli(mpl, boot, tmp_path):
    first = plots.plot(boot["csv"], tmp_path / "a.png", what="hosts", platform=boot["platform"])
    result = runner.invoke(app, ["plot", str(boot["csv"]), "--what", "hosts", "-o", str(tmp_path / "b.png"),
                                 "--platform", str(boot["platform"])])
    assert result.exit_code == 0, result.output
    assert plots.SIZES["hosts"] == (12.0, 6.0) and png_size(first) == (1200, 600)  # 12 x 6 in at 100 dpi
    assert first.read_bytes() == (tmp_path / "b.png").read_bytes()


def test_a_run_without_a_policy_or_power_has_one_panel_and_no_marks(mpl):
    fig = plots.figure(LIFECYCLE, what="hosts")
    [ax] = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == ["hosts on", "3 hosts"]
