"""N-way compare (issue 16, item 4): ``exp diff a b c ...``, ``%exp diff a b c``,
``jupyter_exp.compare([...])`` and the table's Compare, on real repositories; the
two-sided ``exp diff`` stays DVC's, byte for byte, on the same repository."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest
from conftest import git
from traitlets.config import Config

import jupyter_exp
from jupyter_exp.errors import JupyterExpError
from jupyter_exp.experiments.collect import ExpData
from jupyter_exp.experiments.comparison import Comparison, compare_data
from jupyter_exp.project import Project
from jupyter_exp.table import TableController
from jupyter_exp.values import FileValues


@pytest.mark.dvc
def test_two_sided_diff_stays_dvcs_byte_for_byte(exps, cli, dvc):
    jupyter_exp.apply_params(["train.model.act=tanh"])  # a change that is not a number
    for args in (("e1", "e2"), ("e1", "e2", "--md"), ("e3", "e1", "--all"), ("e2",)):
        theirs = dvc("exp", "diff", *args).stdout
        ours = cli("diff", *args).stdout
        assert ours == theirs, f"exp diff {' '.join(args)}:\n--- dvc\n{theirs}--- ours\n{ours}"
    # DVC's JSON orders a file's keys as a Python set iterates (it varies with the hash
    # seed between runs): equal as data.
    for args in (("e1", "e2", "--json"), ("e3", "e1", "--all", "--json")):
        assert json.loads(cli("diff", *args).stdout) == json.loads(dvc("exp", "diff", *args).stdout)


def test_three_way_text_is_exp_diffs_layout_with_a_column_per_experiment(exps, cli):
    out = cli("diff", "e1", "e2", "e3").stdout
    assert out == (
        "Path          Metric       e1 (reference)    e2        Δ e2       e3        Δ e3\n"
        "metrics.json  nested.loss  0.14286           0.076923  -0.065934  0.052632  -0.090225\n"
        "metrics.json  score        6                 12        6          18        12\n"
        "\n"
        "Path         Param     e1 (reference)    e2    Δ e2    e3    Δ e3\n"
        "params.yaml  train.lr  0.1               0.2   0.1     0.3   0.2\n"
    )
    # Another reference: the differences are taken from it, and it comes first.
    out = cli("diff", "e1", "e2", "e3", "--reference", "e3").stdout.splitlines()
    assert out[0].split() == ["Path", "Metric", "e3", "(reference)", "e1", "Δ", "e1", "e2", "Δ", "e2"]
    assert out[-1].split() == ["params.yaml", "train.lr", "0.3", "0.1", "-0.2", "0.2", "-0.1"]


def test_three_way_json_csv_and_markdown(exps, cli):
    data = json.loads(cli("diff", "e1", "e2", "e3", "--json").stdout)
    assert data["reference"] == "e1" and data["experiments"] == ["e1", "e2", "e3"]
    assert data["params"] == {
        "params.yaml": {"train.lr": {"values": {"e1": 0.1, "e2": 0.2, "e3": 0.3}, "diff": {"e2": 0.1, "e3": 0.2}}}
    }
    assert data["metrics"]["metrics.json"]["score"] == {
        "values": {"e1": 6.0, "e2": 12.0, "e3": 18.0},
        "diff": {"e2": 6.0, "e3": 12.0},
    }
    rows = list(csv.reader(io.StringIO(cli("diff", "e1", "e2", "e3", "--csv").stdout)))
    assert rows[0] == ["Type", "Path", "Key", "e1 (reference)", "e2", "Δ e2", "e3", "Δ e3"]
    assert rows[-1] == ["param", "params.yaml", "train.lr", "0.1", "0.2", "0.1", "0.3", "0.2"]  # full precision
    assert [
        "metric",
        "metrics.json",
        "nested.loss",
        "0.142857",
        "0.076923",
        "-0.065934",
        "0.052632",
        "-0.090225",
    ] in rows
    md = cli("diff", "e1", "e2", "e3", "--md").stdout
    assert md.startswith("| Path         | Metric      | e1 (reference)   |")
    assert "| params.yaml | train.lr | 0.1              | 0.2  | 0.1    | 0.3  | 0.2    |" in md
    # --csv on two: the comparison's layout (ours), not DVC's
    assert cli("diff", "e1", "e2", "--csv").stdout.splitlines()[0] == "Type,Path,Key,e1 (reference),e2,Δ e2"


def test_workspace_and_revisions_compare_with_experiments(exps, cli):
    jupyter_exp.apply_params(["train.lr=0.25"])
    out = cli("diff", "main", "workspace", "e1", "--all").stdout.splitlines()
    assert out[-6].split() == ["Path", "Param", "main", "(reference)", "workspace", "Δ", "workspace", "e1", "Δ", "e1"]
    assert ["params.yaml", "train.epochs", "3", "3", "0", "3", "0"] in [line.split() for line in out]
    assert ["params.yaml", "train.lr", "0.01", "0.25", "0.24", "0.1", "0.09"] in [line.split() for line in out]
    assert ["params.yaml", "train.model.act", "relu", "relu", "-", "relu", "-"] in [line.split() for line in out]


def test_compare_returns_a_dataframe_of_what_differs(exps):
    assert callable(jupyter_exp.compare)
    df = jupyter_exp.compare(["e1", "e2", "e3"], reference="e2")
    assert list(df.index) == ["metrics.nested.loss", "metrics.score", "params.train.lr"]
    assert list(df.columns) == ["e1", "e2", "e3", "Δ e1", "Δ e3"]
    assert df.attrs["reference"] == "e2"
    assert df.loc["params.train.lr"].tolist() == [0.1, 0.2, 0.3, -0.1, 0.1]
    assert df.loc["metrics.score", "Δ e3"] == 6.0
    everything = jupyter_exp.compare(["e1", "e2"], all=True)
    assert {"params.train.epochs", "params.prepare.scale"} <= set(everything.index)
    assert pd.isna(everything.loc["params.train.model.act", "Δ e2"])  # not numbers: no difference
    view = jupyter_exp.comparison(["e1", "e2", "e3"])
    assert isinstance(view, Comparison) and [r.key for r in view.group("params")] == ["train.lr"]
    assert "<table" in view._repr_html_() and "Δ e3" in view._repr_html_()


@pytest.mark.parametrize(
    ("names", "reference", "line"),
    [
        (["e1"], None, "Compare needs two experiments or more; name them, e.g. `exp diff a b c`."),
        (["e1", "e2", "e1"], None, "'e1' is named twice; name each experiment once."),
        (["e1", "e2"], "e3", "Reference 'e3' is not among the compared (e1, e2); name one of them."),
        (["e1", "nope"], None, "Unknown experiment or revision 'nope'; list experiments with `jupyter exp list`."),
        (["e1", "--upload-pack=x"], None, "Unknown experiment or revision '--upload-pack=x'"),
    ],
)
def test_compare_refuses_with_one_line(exps, names, reference, line):
    with pytest.raises(JupyterExpError) as caught:
        jupyter_exp.compare(names, reference=reference)
    assert str(caught.value).startswith(line) and "\n" not in str(caught.value)


def test_a_key_in_two_files_is_named_by_file(tmp_path):
    def data(a: float, b: float) -> ExpData:
        return ExpData(params={"params.yaml": FileValues({"lr": a}), "other.yaml": FileValues({"lr": b})})

    result = compare_data(["x", "y"], [data(1, 2), data(1, 3)])
    assert [r.column for r in result.rows] == ["params.other.yaml:lr"]  # params.yaml's is equal
    assert result.rows[0].deltas == (None, 1)


def test_percent_exp_diff_takes_any_number(exps):
    from test_magics import TestingShell  # a failing cell raises (imported here: pytest would collect it)

    config = Config()
    config.HistoryAccessor.enabled = False
    shell = TestingShell.instance(config=config)
    shell.run_line_magic("load_ext", "jupyter_exp")
    result = shell.run_cell("%exp diff e1 e2 e3 --reference e2").result
    assert isinstance(result, Comparison) and result.reference_name == "e2"
    assert "Δ e3" in result._repr_html_()
    two = shell.run_cell("%exp diff e1 e2").result  # two: DVC's diff, as before
    assert str(two).splitlines()[0].split() == ["Path", "Metric", "e1", "e2", "Change"]
    text = shell.run_cell("%exp diff e1 e2 e3 --json").result
    assert json.loads(text)["experiments"] == ["e1", "e2", "e3"]


def test_the_tables_compare_message(exps):
    table = TableController(Project(exps))
    try:
        rows = {r["cells"][0]: r["key"] for r in table.state["table"]["rows"]}
        keys = [rows["e1"], rows["e2"], rows["e3"]]
        assert table.handle({"type": "action", "action": "compare", "keys": keys, "arg": rows["e2"]}) == {"ok": True}
        panel = table.state["panel"]
        assert panel["kind"] == "compare" and panel["reference"] == rows["e2"]
        assert panel["title"] == "Compare e1, e2, e3 (reference e2)"
        assert [c["label"] for c in panel["columns"]] == ["Param / metric", "e2", "e1", "Δ e1", "e3", "Δ e3"]
        assert [c["kind"] for c in panel["columns"]] == ["name", "value", "value", "delta", "value", "delta"]
        lr = next(r for r in panel["rows"] if r["id"] == "params.train.lr")
        assert lr["cells"] == ["train.lr", "0.2", "0.1", "-0.1", "0.3", "0.1"]
        assert lr["values"] == ["train.lr", 0.2, 0.1, -0.1, 0.3, 0.1]
        assert json.loads(json.dumps(panel)) == panel and "<table" in panel["html"]
        # With the workspace and the baseline too: any number of rows.
        everything = [r["key"] for r in table.state["table"]["rows"]]
        assert table.handle({"type": "action", "action": "compare", "keys": everything})["ok"]
        assert len(table.state["panel"]["columns"]) == 1 + 2 * len(everything) - 1
        reply = table.handle({"type": "action", "action": "compare", "keys": keys[:2], "arg": rows["e3"]})
        assert reply == {
            "ok": False,
            "error": "The reference row must be one of the selected rows; pick one of them.",
        }
        reply = table.handle({"type": "action", "action": "compare", "keys": keys[:1]})
        assert reply == {"ok": False, "error": "Compare takes two rows or more; select them."}
    finally:
        table.close()


def test_compare_of_ten_reads_each_commit_once(exps, monkeypatch):
    for i in range(7):
        jupyter_exp.run(params={"train.lr": 0.4 + i / 10}, name=f"more{i}")
    git(exps, "checkout", "-q", "--", ".")
    names = ["e1", "e2", "e3", *(f"more{i}" for i in range(7))]
    df = jupyter_exp.compare(names)
    assert list(df.columns[:10]) == names and df.loc["params.train.lr", "more6"] == pytest.approx(1.0)
