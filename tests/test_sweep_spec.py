"""Sweep files: the points and their order, the values the trace gets, and every mistake as one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.errors import ReplayError
from replay.sweep import load, parse, prepare
from tests.sweep_helpers import MIGRATION_TRACE, migration_sweep


def write(folder: Path, text: str) -> Path:
    (folder / "migration.trace").write_text(MIGRATION_TRACE)
    path = folder / "s.toml"
    path.write_text(text)
    return path


def test_points_come_in_grid_order_then_the_explicit_ones(tmp_path: Path) -> None:
    # 3 x 2 grid points, the last key fastest (itertools.product), then the two [[points]]: 8 points, 0 to 7
    spec = load(write(tmp_path, 'trace = "migration.trace"\n[grid]\ndt = ["10ms", "30ms", "100ms"]\n'
                                'dpi = [0.5, 1]\n[[points]]\ndt = "1s"\ndpi = 0\n[[points]]\ndpi = 0.25\ndt = "2s"\n'
                                'network_model = "cm02"\n'))
    assert [(p.number, p.values["dt"], p.values["dpi"]) for p in spec.points] == [
        (0, "10ms", 0.5), (1, "10ms", 1.0), (2, "30ms", 0.5), (3, "30ms", 1.0), (4, "100ms", 0.5), (5, "100ms", 1.0),
        (6, "1s", 0.0), (7, "2s", 0.25)]
    # columns: the grid's keys as written, then what only [[points]] set; dpi mixes integers and floats: float
    assert spec.columns == {"dt": "str", "dpi": "float", "network_model": "str"}
    assert spec.variables == ("dt", "dpi")
    # the trace gets the values as written (1, not 1.0); the option is read (its canonical name) and not a variable
    assert spec.points[1].variables == {"dt": "10ms", "dpi": "1"}
    assert spec.points[7].variables == {"dt": "2s", "dpi": "0.25"}
    assert spec.points[7].options == {"network_model": "CM02"} and spec.points[7].values["network_model"] == "CM02"
    assert "network_model" not in spec.points[0].values


def test_points_alone_are_numbered_from_0(tmp_path: Path) -> None:
    spec = load(write(tmp_path, 'trace = "migration.trace"\n[[points]]\ndt = "1s"\ndpi = 0\n[[points]]\n'
                                'dt = "2s"\ndpi = 1\nseed = 3\n'))
    assert [(p.number, p.values) for p in spec.points] == [(0, {"dt": "1s", "dpi": 0}),
                                                           (1, {"dt": "2s", "dpi": 1, "seed": 3})]


def test_values_are_given_to_the_trace_as_text(tmp_path: Path) -> None:
    spec = parse({"trace": "migration.trace", "grid": {"a": [True, False], "b": [1e-05, 2], "c": ["x y"]}},
                 folder=write(tmp_path, "").parent)
    assert [p.variables for p in spec.points[:2]] == [{"a": "true", "b": "1e-05", "c": "x y"},
                                                      {"a": "true", "b": "2", "c": "x y"}]
    assert spec.columns == {"a": "bool", "b": "float", "c": "str"}


def test_fixed_options_are_columns_of_every_point(tmp_path: Path) -> None:
    (tmp_path / "rack.xml").write_text("<platform/>")
    spec = load(write(tmp_path, 'trace = "migration.trace"\nplatform = "rack.xml"\n[options]\nseed = 7\n'
                                'on_stall = "SimGrid"\n[grid]\ndt = ["1s"]\ndpi = [0]\n'))
    assert spec.columns == {"dt": "str", "dpi": "int", "platform": "str", "seed": "int", "on_stall": "str"}
    assert spec.points[0].options == {"platform": "rack.xml", "seed": 7, "on_stall": "simgrid"}
    task = spec.task(spec.points[0])
    assert task.platform == str((tmp_path / "rack.xml").resolve()) and task.seed == 7 and task.policy is None


@pytest.mark.parametrize(("text", "message"), [
    ('trace = "migration.trace"\nbogus = 1\n[grid]\ndt = ["1s"]',
     r"s.toml:2: bogus: expected one of trace, platform, deploy, options, grid, points, found an unknown key"),
    ('trace = "migration.trace"\n[grid]\ndt = []',
     r"s.toml:3: grid.dt: expected a non-empty list of values, found an empty list"),
    ('trace = "migration.trace"\n[grid]\ndt = "1s"',
     r"s.toml:3: grid.dt: expected a non-empty list of values, found '1s'"),
    ('trace = "migration.trace"\n[options]\nnetwork = "LV08"\n[grid]\ndt = ["1s"]',
     r"s.toml:3: options.network: expected a run option \(network_model, .*\), found an unknown one; did you mean "
     r"'network_model'\?"),
    ('trace = "migration.trace"\n[options]\nnetwork_model = "LV09"\n[grid]\ndt = ["1s"]',
     r"s.toml:3: options.network_model: expected a network model \(LV08, CM02, raw, any case\), found 'LV09'"),
    ('trace = "migration.trace"\n[grid]\npolicy = ["first-fit", "threshhold"]\ndt = ["1s"]',
     r"s.toml:3: grid.policy: --policy threshhold: expected one of .*; did you mean 'threshold'\?"),
    ('trace = "migration.trace"\n[grid]\nseed = [1.5]',
     r"s.toml:3: grid.seed: expected an integer seed, found 1.5"),
    ('trace = "migration.trace"\n[grid]\nfail_hosts = ["1h"]',
     r"s.toml:3: grid.fail_hosts: expected MTBF,MTTR \(two durations, e.g. 1h,10m\), found '1h'"),
    ('trace = "migration.trace"\n[grid]\nplatform = ["nope.xml"]',
     r"s.toml:3: grid.platform: expected a readable platform file, found no such file at .*nope.xml"),
    ('trace = "nope.trace"\n[grid]\ndt = ["1s"]', r"s.toml:1: trace: expected a readable trace file, found no such "
                                                 r"file at .*nope.trace"),
    ('[grid]\ndt = ["1s"]', r"s.toml: expected trace = FILE \(or a list of files, one per actor\), or a deploy "),
    ('trace = "migration.trace"', r"s.toml: expected a \[grid\] of values or \[\[points\]\], found neither"),
    ('trace = "migration.trace"\n[grid]\ndt = ["1s", "1s"]', r"s.toml:3: grid.dt: expected distinct values, found "
                                                             r"'1s' twice"),
    ('trace = "migration.trace"\n[grid]\ndt = ["1s"]\ndpi = [1]\n[[points]]\ndt = "1s"\ndpi = 1.0',
     r"s.toml: expected distinct points, found points 0 and 1 both dt=1s, dpi=1.0"),
    ('trace = "migration.trace"\n[grid]\ndt = [{a = 1}]', r"s.toml:3: grid.dt: expected a string, a number or a "
                                                          r"boolean, found a table"),
    ('trace = "migration.trace"\n[grid]\ndt = [nan]', r"s.toml:3: grid.dt: expected a finite number, found nan"),
    ('trace = "migration.trace"\n[[points]]\ndt = "1s"\n[[points]]\ndt = ["1s"]',
     r"s.toml:5: points\[1\].dt: expected one value \(lists of values go in \[grid\]\), found a list"),
    ('trace = "migration.trace"\n[options]\nseed = 1\n[grid]\nseed = [2]',
     r"s.toml:5: grid.seed: expected an option set either in \[options\] or per point, found it in both"),
    ('trace = "migration.trace"\n[grid]\n"a-b" = [1]', r"s.toml:3: grid.a-b: expected a run option or a variable "
                                                      r"name \(letters, digits and _, not first\), found neither"),
    ('trace = "migration.trace"\n[grid]\ndt = ["1s"\n', r"s.toml:4: expected valid TOML, found unclosed array"),
    ('trace = "migration.trace"\ntrace = "x"\n', r"s.toml:2: expected valid TOML, found cannot overwrite a value"),
])
def test_mistakes_in_the_file_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ReplayError) as caught:
        load(path)
    assert re.fullmatch(f"{re.escape(str(tmp_path))}/{message}.*", str(caught.value)), str(caught.value)
    assert "\n" not in str(caught.value)


def test_a_sweep_file_that_cannot_be_read(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match=r"nope.toml: expected a readable sweep file, found no such file"):
        load(tmp_path / "nope.toml")
    (tmp_path / "bin.toml").write_bytes(b"trace = '\xff'\n")
    with pytest.raises(ReplayError, match=r"bin.toml: expected UTF-8 text, found byte 0xff at offset 9"):
        load(tmp_path / "bin.toml")


def test_variables_are_checked_against_the_files(tmp_path: Path) -> None:
    # the trace uses $dt and $dpi (line 3): a misspelt key is no variable of it, a missing one is unset
    path = write(tmp_path, 'trace = "migration.trace"\n[grid]\ndt = ["1s"]\ndpii = [1]\n')
    with pytest.raises(ReplayError, match=r"s.toml:4: grid.dpii: expected a run option \(.*\) or the variables the "
                                          r"files use \(\$dpi, \$dt\), found neither; did you mean 'dpi'\?"):
        prepare(load(path))
    path.write_text('trace = "migration.trace"\n[grid]\ndt = ["1s"]\ndpi = [1]\n[[points]]\ndt = "2s"\n')
    with pytest.raises(ReplayError, match=r"s.toml: expected point 1 \(dt=2s\) to set \$dpi, which .*migration.trace:3 "
                                          r"uses, found it unset"):
        prepare(load(path))


def test_each_combination_is_validated_once_and_a_bad_value_is_the_points_error(tmp_path: Path) -> None:
    # no policy (points 0 and 1) or first-fit (point 2): two combinations (a policy may allow vm_create auto); the
    # first point of each is validated, with its values: dt = "oops" is not a time, point 0's error before anything
    # runs; point 1 is not validated (its combination was), point 2 is, and passes
    path = write(tmp_path, 'trace = "migration.trace"\n[grid]\ndt = ["oops", "1s"]\ndpi = [0]\n[[points]]\n'
                           'policy = "first-fit"\ndt = "1s"\ndpi = 0\n')
    plan = prepare(load(path))
    assert plan.validated == [0, 2]
    assert list(plan.invalid) == [0]
    assert plan.invalid[0]["status"] == "error"
    assert re.fullmatch(r".*migration.trace:3: bad max_downtime 'oops' in 'vm_create': cannot read time 'oops'.*",
                        plan.invalid[0]["error"])
    # the table has the SLA columns (a policy runs) and the energy column (the default platform has wattages)
    assert "sla_slav" in plan.columns and "energy_j" in plan.columns


def test_dry_run_lists_the_points(tmp_path: Path) -> None:
    path = migration_sweep(tmp_path)
    result = CliRunner().invoke(app, ["sweep", str(path), "--dry-run"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["point", "dt", "dpi", "validation"]
    assert lines[1].split() == ["0", "10ms", "0", "ok"]
    assert lines[9].split() == ["8", "100ms", "0.5"]
    assert lines[10] == ("9 points, 1 validated (the first of each combination of files, platform, policy and "
                         "variable names), 0 failed; nothing ran (--dry-run)")


def test_command_line_mistakes_are_one_line(tmp_path: Path) -> None:
    path = migration_sweep(tmp_path)
    runner = CliRunner()
    for arguments, message in (
        ([], "--output: expected the results file (-o RESULTS.parquet), found none (--dry-run runs nothing)"),
        (["-o", str(tmp_path / "r.csv")], f"{tmp_path / 'r.csv'}: expected a .parquet file name for the results, "
                                          f"found '.csv'"),
        (["-o", str(tmp_path / "r.parquet"), "--jobs", "2", "--dask", "local"],
         "--jobs 2 --dask local: expected one backend, found both (a Dask cluster has its own number of workers)"),
        (["-o", str(path.parent / "migration.trace")], f"{path.parent / 'migration.trace'}: expected a .parquet file "
                                                       f"name for the results, found '.trace'"),
    ):
        result = runner.invoke(app, ["sweep", str(path), *arguments])
        assert (result.exit_code, result.output.strip()) == (1, message)
    trace_as_output = path.parent / "t.parquet"
    trace_as_output.symlink_to(path.parent / "migration.trace")
    result = runner.invoke(app, ["sweep", str(path), "-o", str(trace_as_output)])
    assert result.exit_code == 1
    assert "expected an output (--output) that is not an input, found the trace file" in result.output
