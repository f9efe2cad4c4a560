"""exp show: records, DataFrame, text tree, JSON, CSV, Markdown and their flags."""

import json
import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from conftest import cli_command, git

import jupyter_exp
from jupyter_exp.errors import JupyterExpError


@pytest.fixture
def three(make_project, monkeypatch):
    root = make_project("two_stage")
    # Distinct committer times, so that "newest first" has one answer.
    for minute, (params, name) in enumerate(
        [
            ({"train.lr": 0.5}, "mid"),
            ({"train.lr": 0.1, "train.epochs": 9}, "long"),
            ({"train.lr": 0.01}, "base-like"),
        ]
    ):
        monkeypatch.setenv("GIT_COMMITTER_DATE", f"2026-11-24T10:0{minute}:00Z")
        jupyter_exp.run(params=params, name=name)
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    return root


def test_dataframe_rows_columns_and_types(three):
    df = jupyter_exp.show()
    assert list(df.columns[:7]) == ["experiment", "rev", "baseline", "kind", "state", "created", "parent"]
    assert list(df["kind"]) == ["workspace", "baseline", "experiment", "experiment", "experiment"]
    assert list(df["experiment"]) == ["workspace", "main", "base-like", "long", "mid"]
    assert str(df["created"].dt.tz) == "UTC"
    assert pd.isna(df["created"][0]) and not pd.isna(df["created"][1])
    exp = df.set_index("experiment")
    assert exp.loc["long", "params.train.epochs"] == 9
    assert exp.loc["long", "metrics.score"] == 18.0
    assert str(df["params.train.epochs"].dtype) == "Int64"
    assert str(df["metrics.score"].dtype) == "Float64"
    assert set(df.loc[df.kind == "experiment", "state"]) == {"success"}
    head = git(three, "rev-parse", "HEAD").strip()
    assert set(df.loc[df.kind == "experiment", "baseline"]) == {head}
    assert set(df.loc[df.kind == "experiment", "parent"]) == {head}


def test_sort_filter_and_column_flags(three, cli):
    df = jupyter_exp.show(sort_by="train.lr", sort_order="desc")
    assert list(df["experiment"])[2:] == ["mid", "long", "base-like"]
    df = jupyter_exp.show(only_changed=True, hide_workspace=True)
    assert "params.prepare.scale" not in df.columns and "params.train.lr" in df.columns
    df = jupyter_exp.show(drop=["train\\..*"], keep=["train.lr"])
    assert [c for c in df.columns if c.startswith("params.")] == ["params.prepare.scale", "params.train.lr"]
    with pytest.raises(JupyterExpError, match="Unknown column 'nope' for sort_by"):  # the api's words
        jupyter_exp.show(sort_by="nope")
    proc = cli("show", "--sort-by", "nope", check=False)  # the command line's
    assert proc.stderr.startswith("ERROR: Unknown column 'nope' for --sort-by;")


def test_text_json_csv_md(three, cli):
    text = cli("show").stdout.splitlines()
    assert text[0].split()[:3] == ["Experiment", "Created", "score"]
    assert text[2].startswith("workspace") and text[3].startswith("main")
    assert text[4].startswith("├── ") and "[base-like]" in text[4]
    assert text[6].startswith("└── ") and "[mid]" in text[6]
    data = json.loads(cli("show", "--json").stdout)
    assert data[0]["rev"] == "workspace" and data[0]["name"] is None
    assert data[1]["name"] == "main" and [e["name"] for e in data[1]["experiments"]] == ["base-like", "long", "mid"]
    long = data[1]["experiments"][1]
    assert long["executor"] is None
    state = long["revs"][0]
    assert state["data"]["params"]["params.yaml"]["data"]["train"]["epochs"] == 9
    assert state["data"]["metrics"]["metrics.json"]["data"]["score"] == 18.0
    assert state["data"]["outs"]["model.bin"]["use_cache"] is True
    assert state["data"]["deps"]["train.py"]["hash"]
    csv_text = cli("show", "--csv").stdout.splitlines()
    assert csv_text[0].startswith("Experiment,rev,typ,Created,parent,score,nested.loss,")  # no State: all done
    md = cli("show", "--md", "--precision", "2").stdout.splitlines()
    assert md[0].startswith("| Experiment | Created | score |")
    assert cli("show", "--sha").stdout.splitlines()[3].startswith(git(three, "rev-parse", "--short=7", "HEAD").strip())


def test_baseline_selection(three, cli):
    git(three, "tag", "v1")
    git(three, "commit", "-q", "--allow-empty", "-m", "second")
    jupyter_exp.run(name="on-second")
    assert list(jupyter_exp.show()["experiment"]) == ["workspace", "main", "on-second"]
    names = list(jupyter_exp.show(num=2)["experiment"])
    assert names == ["workspace", "main", "on-second", "v1", "base-like", "long", "mid"]
    assert list(jupyter_exp.show(revs="v1", hide_workspace=True)["experiment"]) == ["v1", "base-like", "long", "mid"]
    assert len(jupyter_exp.show(all_commits=True)) == 7
    assert len(jupyter_exp.show(all_tags=True, hide_workspace=True)) == 6


def test_key_in_two_files_gets_a_file_prefix(project: Path):
    (project / "params.yaml").write_text("lr: 1\n")
    (project / "other.yaml").write_text("lr: 2\nonly: 3\n")
    (project / "dvc.yaml").write_text(
        "stages:\n  s:\n    cmd: echo\n    params:\n    - lr\n    - other.yaml:\n      - lr\n      - only\n"
    )
    git(project, "add", "-A")
    git(project, "commit", "-qm", "p")
    cols = [c for c in jupyter_exp.show().columns if c.startswith("params.")]
    assert cols == ["params.params.yaml:lr", "params.other.yaml:lr", "params.only"]


def test_a_broken_commit_is_a_row_with_an_error(three):
    head = git(three, "rev-parse", "HEAD").strip()
    tree_text = (
        "100644 blob "
        + git(three, "hash-object", "-w", "--stdin", input_text="stages: [unclosed\n").strip()
        + "\tdvc.yaml\n"
    )
    tree = git(three, "mktree", input_text=tree_text).strip()
    commit = git(three, "commit-tree", tree, "-p", head, "-m", "broken").strip()
    git(three, "update-ref", f"refs/exps/{head[:2]}/{head[2:]}/broken", commit)
    df = jupyter_exp.show()
    assert "broken" in list(df["experiment"])
    data = json.loads(json.dumps(jupyter_exp_show_json(three)))
    broken = next(e for e in data[1]["experiments"] if e["name"] == "broken")
    assert "dvc.yaml" in broken["revs"][0]["error"]["msg"]


def jupyter_exp_show_json(root):
    from jupyter_exp.experiments import show
    from jupyter_exp.project import Project
    from jupyter_exp.render.json import exp_show

    rows, _ = show.select(Project(root))
    return exp_show(rows)


def test_show_costs_a_constant_number_of_git_processes(three, tmp_path, monkeypatch):
    def count(n_extra: int) -> int:
        trace = tmp_path / f"trace-{n_extra}"
        monkeypatch.setenv("GIT_TRACE", str(trace))
        jupyter_exp.show(force=True)
        monkeypatch.delenv("GIT_TRACE")
        return sum(1 for line in trace.read_text().splitlines() if "trace: built-in: git" in line)

    # New experiments' commit messages are read in one batch (known ones come from the
    # cache): one new experiment costs what six do.
    jupyter_exp.run(params={"train.epochs": 9}, name="one-more")
    few = count(1)
    for i in range(6):
        jupyter_exp.run(params={"train.epochs": 10 + i}, name=f"more-{i}")
    assert count(6) == few


def test_results_are_cached_by_commit(three):
    jupyter_exp.show()
    cache = three / ".dvc/tmp/jupyter_exp/show-cache.json"
    assert cache.exists()
    before = cache.stat().st_mtime_ns
    jupyter_exp.show()
    assert cache.stat().st_mtime_ns == before  # nothing new to derive


def test_a_repeated_show_is_served_until_something_moves(three, cli, monkeypatch):
    first = cli("show", "--json").stdout
    assert list((three / ".dvc/tmp/jupyter_exp/show-output").glob("*.out"))
    assert cli("show", "--json").stdout == first
    # a new experiment (a ref moved)
    jupyter_exp.run(params={"train.lr": 0.7}, name="newer")
    assert "newer" in cli("show", "--json").stdout
    # a workspace params edit (a file the workspace row read)
    jupyter_exp.apply_params(["train.epochs=77"])
    assert json.loads(cli("show", "--json").stdout)[0]["data"]["params"]["params.yaml"]["data"]["train"]["epochs"] == 77
    # another branch checked out at the same commit changes the baseline's name
    git(three, "checkout", "-q", "-b", "feature")
    assert json.loads(cli("show", "--json").stdout)[1]["name"] == "feature"
    # -f always recomputes, and the CSV/Markdown outputs are kept apart from JSON
    assert cli("show", "--csv").stdout.startswith("Experiment,rev,typ")
    assert json.loads(cli("show", "--json", "-f").stdout)[1]["name"] == "feature"


@pytest.mark.dvc
def test_a_ref_that_moves_while_show_collects_is_not_stamped_as_seen(three):
    """The output is recorded under the refs read before its rows were collected: an
    experiment removed meanwhile (`exp remove` beside `exp show`) makes the next show
    recompute instead of printing the table that still lists it."""
    from jupyter_exp.experiments import show_stamp
    from jupyter_exp.project import Project

    project = Project(three)
    options = {"json": True}
    assert show_stamp.lookup(project, options) is None  # nothing recorded: collect now
    stale = "rows that list 'mid'\n"
    jupyter_exp.remove(["mid"])  # lands while the rows are being collected
    show_stamp.record(project, options, stale, {})
    assert show_stamp.lookup(project, options) is None
    # Nothing moved since the lookup: the recorded output answers.
    show_stamp.record(project, options, "current\n", {})
    assert show_stamp.lookup(project, options) == "current\n"


def test_csv_is_dvcs_byte_for_byte(ran, dvc_exe, cli, monkeypatch):
    """`exp show --csv` as `dvc exp show --csv` writes it on the same repository: the
    workspace and baseline rows, typ, no parent, sorted deps, \\r\\n line ends."""
    for i, lr in enumerate((0.1, 0.2, 0.4)):  # a second apart: both order them by time
        monkeypatch.setenv("GIT_COMMITTER_DATE", f"2026-01-0{i + 1}T10:00:00+00:00")
        jupyter_exp.run(params={"train.lr": lr}, name=f"e{i + 1}")  # the workspace: e3's
    monkeypatch.delenv("GIT_COMMITTER_DATE")
    ours = subprocess.run([*cli_command(), "show", "--csv"], capture_output=True, check=True).stdout
    theirs = subprocess.run(
        [str(dvc_exe), "exp", "show", "--csv"],
        capture_output=True,
        check=True,
        env=dict(os.environ, DVC_NO_ANALYTICS="1"),
    ).stdout
    assert ours == theirs
    queued = jupyter_exp.run(queue=True, params={"train.lr": 0.5}, name="later")[0]
    rows = cli("show", "--csv").stdout.splitlines()
    assert rows[0].startswith("Experiment,rev,typ,Created,parent,State,Executor,")
    (row,) = [r for r in rows if r.startswith("later,")]
    assert row.startswith(f"later,{queued.rev[:7]},branch_") and ",Queued,Dvc-task," in row
