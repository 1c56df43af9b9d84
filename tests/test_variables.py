"""``$name`` variables in traces and deployments, set with ``--set``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from replay.cli import app
from replay.errors import ReplayError, TraceSyntaxError
from replay.variables import settings, substitute


@pytest.mark.parametrize(("text", "expected"), [
    ("a sleep $t", "a sleep 30"),
    ("a sleep ${t}0", "a sleep 300"),          # braces end the name
    ("a sleep $t0", None),                     # the longest name: t0, undefined
    ("price $$5 and $$$t", "price $5 and $30"),
    ("no variable here", "no variable here"),
])
def test_substitution(text: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(TraceSyntaxError, match=r"f.trace:3: undefined variable \$t0; expected it set with "
                                                    r"--set t0=VALUE \(set: t\); did you mean 't'\?"):
            substitute(text, {"t": "30"}, "f.trace", 3)
    else:
        assert substitute(text, {"t": "30"}, "f.trace", 3) == expected


@pytest.mark.parametrize("text", ["a sleep $", "a sleep $1", "a sleep ${t", "a sleep ${}"])
def test_a_dollar_must_start_a_variable(text: str) -> None:
    with pytest.raises(TraceSyntaxError, match=r"f.trace:1: expected a variable \(\$name or \$\{name\}\) or \$\$"):
        substitute(text, {"t": "1"}, "f.trace", 1)


def test_settings_are_checked() -> None:
    assert settings(["a=1", "b_2=x=y", "a=1"]) == {"a": "1", "b_2": "x=y"}
    for bad, message in (("1a=2", "expected name=value"), ("a", "expected name=value"),
                         ("a=1\n", "on one line")):
        with pytest.raises(ReplayError, match=message):
            settings([bad])
    with pytest.raises(ReplayError, match="'a' is set twice"):
        settings(["a=1", "a=2"])


def test_run_substitutes_before_parsing(tmp_path: Path) -> None:
    # the VM's max_downtime and the migration's destination come from --set; comments keep their $
    trace = tmp_path / "t.trace"
    trace.write_text("# costs $$ and $nothing\n"
                     "a vm_create v pm-0 ram=${ram} max_downtime=$dt\na vm_start v\na vm_migrate v $dst\n")
    out = tmp_path / "s.json"
    result = CliRunner().invoke(app, ["run", str(trace), "--set", "ram=256MiB", "--set", "dt=10ms",
                                      "--set", "dst=pm-1", "--summary", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    (migration,) = json.loads(out.read_text())["migrations"]
    assert migration["dst"] == "pm-1"
    assert migration["bytes"]["stage1"] == 256 * 2**20


def test_an_undefined_variable_is_a_file_line_error(tmp_path: Path) -> None:
    trace = tmp_path / "t.trace"
    trace.write_text("a sleep 1\na sleep $t\n")
    for command in ("run", "validate"):
        result = CliRunner().invoke(app, [command, str(trace)])
        assert result.exit_code == 1
        assert result.output.strip() == f"{trace}:2: undefined variable $t; expected it set with --set t=VALUE"


def test_deployments_take_variables(tmp_path: Path) -> None:
    # the deployment's host and the actor's trace file come from --set; a wrong name says its line
    (tmp_path / "w.trace").write_text("w sleep 2\n")
    deploy = tmp_path / "d.xml"
    deploy.write_text('<?xml version="1.0"?>\n<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">\n'
                      '<platform version="4.1">\n  <actor host="$host" function="w">\n'
                      '    <argument value="${file}"/>\n  </actor>\n</platform>\n')
    out = tmp_path / "s.json"
    result = CliRunner().invoke(app, ["run", "--deploy", str(deploy), "--set", "host=pm-3", "--set",
                                      f"file={tmp_path / 'w.trace'}", "--summary", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    summary = json.loads(out.read_text())
    assert summary["actors"]["w"] == {"host": "pm-3", "end": 2.0, "status": "done"}
    result = CliRunner().invoke(app, ["validate", "--deploy", str(deploy), "--set", "host=pm-3"])
    assert result.exit_code == 1
    assert result.output.startswith(f"{deploy}:5: undefined variable $file")
