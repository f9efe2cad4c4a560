"""The rendering family (jupyter_exp/render/): text, Markdown and CSV, DVC's JSON
shapes, DataFrames, each read from records built here; and, side by side with real
DVC, a missing value rendered as DVC renders it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_command, git

import jupyter_exp
from jupyter_exp.experiments.collect import ExpData, ExpRow
from jupyter_exp.experiments.columns import ERROR, MISSING, columns, value
from jupyter_exp.experiments.diff import ExpDiff
from jupyter_exp.render import frame, text
from jupyter_exp.render import json as render_json
from jupyter_exp.values import DiffRow, ErrorInfo, FileValues

BASE = "a" * 40
EXP = "b" * 40


def _rows() -> list[ExpRow]:
    params = {"params.yaml": FileValues({"lr": 0.1, "opt": None, "model": {"depth": 4}})}
    metrics = {"metrics.json": FileValues({"acc": 0.123456789}), "eval/m.json": FileValues.missing("eval/m.json")}
    return [
        ExpRow("workspace", "workspace", ExpData(params, metrics)),
        ExpRow(BASE, "baseline", ExpData(params, metrics), name="main", baseline=BASE, created=0),
        ExpRow(
            EXP,
            "experiment",
            ExpData(
                {"params.yaml": FileValues({"lr": 0.2, "opt": "adam"})},
                {"metrics.json": FileValues(error=ErrorInfo("YAMLFileError", "bad"))},
            ),
            name="e1",
            baseline=BASE,
            state="queued",
            created=0,
            parent=BASE,
        ),
    ]


# -- one format_value -----------------------------------------------------------------
def test_format_value_renders_a_missing_value_as_dvc_does():
    assert text.format_value(None) == "-" == MISSING
    assert text.format_value(0.123456789, 5) == "0.12346"  # significant digits (exp show)
    assert text.format_value(12.3456789, 2, round_digits=True) == "12.35"  # digits after the point (metrics)
    assert text.format_value(1.5) == "1.5" and text.format_value(True, 3) == "True"
    assert text.format_value(3, 2) == "3" and text.format_value([1, 2]) == "[1, 2]"


def test_the_table_view_uses_the_same_format_value():
    from jupyter_exp.table import view

    assert view.format_value is text.format_value
    assert view._display(None, "params.opt") == "-"


# -- layouts --------------------------------------------------------------------------
def test_table_is_tabulates_plain_and_github_layout():
    assert text.table(["Path", "x"], [["a.json", "1"]]) == "Path    x\na.json  1\n"
    assert text.table(["Path", "x"], [["a.json", "1"]], markdown=True) == (
        "| Path   | x   |\n|--------|-----|\n| a.json | 1   |\n\n"
    )


def test_exp_show_layouts():
    assert text.ruled(["Experiment", "a"], [["workspace", "1"]]) == ("Experiment  a\n─────────────\nworkspace   1\n")
    assert text.pipe_markdown(["E", "x"], [["w", "a|b"]]) == "| E | x |\n|---|---|\n| w | a\\|b |\n"
    assert text.csv_text(["E", "x"], [["w", "1,2"]]) == 'E,x\r\nw,"1,2"\r\n'


def test_exp_show_cells_missing_and_error_values():
    rows = _rows()
    cols = columns(rows)
    assert [c.label for c in cols] == ["acc", "lr", "opt", "model.depth"]
    assert value(rows[2], cols[0]) == ERROR and value(rows[2], cols[3]) == MISSING
    headers, body = text.table_rows(rows, cols, 5, sha=False)
    assert headers == ["Experiment", "Created", "State", "acc", "lr", "opt", "model.depth"]
    assert body[0][3:] == ["0.12346", "0.1", "-", "4"]  # None: DVC's fill value, not "None"
    assert body[2][0].endswith("[e1]") and body[2][2:] == ["Queued", "!", "0.2", "adam", "-"]
    headers, body = text.table_rows(rows, cols, None, sha=False, csv_mode=True)
    assert headers[:7] == ["Experiment", "rev", "typ", "Created", "parent", "State", "Executor"]
    assert body[0][7:] == ["0.123456789", "0.1", "", "4"]  # CSV: empty, as DVC's --csv
    assert body[2][:3] == ["e1", EXP[:7], "branch_base"] and body[2][5:7] == ["Queued", "Dvc-task"]


# -- diffs and metrics ------------------------------------------------------------------
DIFF = [DiffRow("params.yaml", "lr", 0.1, 0.2, 0.1), DiffRow("params.yaml", "opt", None, "adam")]


def test_diff_text_json_and_frame():
    assert text.diff_table(DIFF, "HEAD", "workspace", with_change=False) == (
        "Path         Param    HEAD    workspace\n"
        "params.yaml  lr       0.1     0.2\n"
        "params.yaml  opt      -       adam\n"
    )
    assert json.loads(render_json.diff_json(DIFF)) == {
        "params.yaml": {"lr": {"old": 0.1, "new": 0.2, "diff": 0.1}, "opt": {"old": None, "new": "adam"}}
    }
    assert render_json.diff_json(DIFF, tty=True).startswith('{\n  "params.yaml"')
    assert frame.diff(DIFF)["old"].tolist()[0] == 0.1


def test_exp_diff_renders_both_tables_as_dvc():
    result = ExpDiff("HEAD", "e1", params=(DIFF[0],), metrics=(DiffRow("m.json", "acc", 0.5, 0.75, 0.25),))
    assert (
        result.to_text()
        == text.exp_diff(result)
        == (
            "Path    Metric    HEAD    e1    Change\nm.json  acc       0.5     0.75  0.25\n\n"
            "Path         Param    HEAD    e1    Change\nparams.yaml  lr       0.1     0.2   0.1\n"
        )
    )
    assert json.loads(result.to_json()) == {
        "metrics": {"m.json": {"acc": {"old": 0.5, "new": 0.75, "diff": 0.25}}},
        "params": {"params.yaml": {"lr": {"old": 0.1, "new": 0.2, "diff": 0.1}}},
    }
    assert ExpDiff("a", "b", (), ()).to_text() == ""


def test_metrics_show_from_records():
    shown = {
        "": {"m.json": FileValues({"acc": 0.123456, "nested": {"n": 2}}), "gone.json": FileValues.missing("gone.json")}
    }
    headers, body = text.metrics_cells(shown, precision=3)
    assert headers == ["Path", "acc", "nested.n"]
    assert body == [["m.json", "0.123", "2"], ["gone.json", "-", "-"]]
    assert render_json.metrics_show(shown) == {
        "": {
            "data": {
                "m.json": {"data": {"acc": 0.123456, "nested": {"n": 2}}},
                "gone.json": {
                    "error": {"type": "FileNotFoundError", "msg": "[Errno 2] No such file or directory: 'gone.json'"}
                },
            }
        }
    }
    assert frame.metrics(shown)["metric"].tolist() == ["acc", "nested.n"]


# -- records --------------------------------------------------------------------------
def test_file_values_round_trip_dvcs_shape():
    for values in (FileValues({"a": {"b": 1}}), FileValues.missing("m.json"), FileValues(error=ErrorInfo("E", "m"))):
        assert FileValues.from_dvc(values.to_dvc()) == values
    assert FileValues({"a": {"b": 1}}).flat == {"a.b": 1}
    assert FileValues.missing("m.json").absent and not FileValues(error=ErrorInfo("NotInCache", "x")).absent
    for bad in ({"data": 1}, {"data": {}, "error": {}}, {"error": {"type": 1, "msg": "x"}}, [], None):
        with pytest.raises(ValueError):
            FileValues.from_dvc(bad)


def test_a_file_absent_from_a_commit_is_not_an_error_worth_reading_again():
    assert not ExpData(metrics={"m.json": FileValues.missing("m.json")}).has_errors
    assert ExpData(metrics={"m.json": FileValues(error=ErrorInfo("NotInCache", "pull it"))}).has_errors


def test_exp_show_json_shape():
    rows = _rows()
    data = render_json.exp_show(rows)
    assert [d["rev"] for d in data] == ["workspace", BASE]
    assert data[0]["experiments"] is None
    (exp,) = data[1]["experiments"]
    assert exp["name"] == "e1" and exp["executor"]["state"] == "queued"
    state = exp["revs"][0]
    assert state["data"]["metrics"] == {"metrics.json": {"error": {"type": "YAMLFileError", "msg": "bad"}}}
    assert data[1]["data"]["params"]["params.yaml"] == {"data": {"lr": 0.1, "opt": None, "model": {"depth": 4}}}
    # A baseline with no experiments: null, as DVC writes it (not an empty list).
    assert render_json.exp_show(rows[:2])[1]["experiments"] is None


def test_experiments_frame_keeps_types():
    rows = _rows()
    df = frame.experiments(rows, columns(rows))
    assert list(df["experiment"]) == ["workspace", "main", "e1"]
    assert str(df["params.model.depth"].dtype) == "Int64" and df["params.model.depth"].isna().tolist() == [
        False,
        False,
        True,
    ]
    assert df["metrics.acc"].isna().tolist() == [False, False, True]  # "!" is a missing value in a frame


# -- side by side with DVC ------------------------------------------------------------
@pytest.fixture
def nulls(project: Path) -> Path:
    """A pipeline whose params hold nulls: one at the baseline, set in the workspace."""
    (project / "params.yaml").write_text("lr: 0.1\nopt: null\nnested:\n  a: ~\n")
    (project / "t.py").write_text('open("m.json", "w").write(\'{"acc": 0.5}\')\n')
    (project / "dvc.yaml").write_text(
        f"stages:\n  train:\n    cmd: {sys.executable} t.py\n    deps: [t.py]\n"
        "    params: [lr, opt, nested.a]\n    metrics: [{m.json: {cache: false}}]\n"
    )
    jupyter_exp.repro()
    git(project, "add", "-A")
    git(project, "commit", "-qm", "nulls")
    (project / "params.yaml").write_text("lr: 0.2\nopt: 1\nnested:\n  a: ~\n")
    return project


def test_null_params_render_as_dvcs(nulls, dvc_exe):
    env = dict(os.environ, DVC_NO_ANALYTICS="1")

    def both(*args: str) -> tuple[bytes, bytes]:
        ours = subprocess.run([*cli_command(), *args], capture_output=True, check=True).stdout
        theirs = subprocess.run([str(dvc_exe), "exp", *args], capture_output=True, check=True, env=env).stdout
        return ours, theirs

    ours, theirs = both("show", "--csv")
    assert ours == theirs
    assert b",0.1,,," in ours  # the baseline's null opt and nested.a: empty, not None
    ours, theirs = both("show", "--json")
    assert json.loads(ours) == json.loads(theirs)
    assert json.loads(ours)[1]["experiments"] is None
    md = subprocess.run([*cli_command(), "show", "--md"], capture_output=True, text=True, check=True).stdout
    assert "None" not in md and md.splitlines()[3].endswith("| 0.1 | - | - |")
    from jupyter_exp.params_metrics import params_diff
    from jupyter_exp.project import Project

    theirs_diff = subprocess.run(
        [str(dvc_exe), "params", "diff", "--all"], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert text.diff_table(params_diff(Project(nulls), all=True), "HEAD", "workspace", False) == theirs_diff
