"""The pure core, data in and data out: the pipeline planner, why a stage must run, the
no-op stamp, and the experiment table's view (sort, filters, columns). No repository,
no process: each case builds its records by hand. The end-to-end suites test the same
code through real projects."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from jupyter_exp.experiments.collect import ExpData, ExpRow
from jupyter_exp.experiments.columns import columns
from jupyter_exp.options import ReproOptions, ShowOptions
from jupyter_exp.pipeline import stamp
from jupyter_exp.pipeline.graph import build_graph, plan
from jupyter_exp.pipeline.hashing import HashInfo
from jupyter_exp.pipeline.lock import why_changed
from jupyter_exp.pipeline.results import StageResult
from jupyter_exp.pipeline.stage import Dep, Out, ParamDep, Stage
from jupyter_exp.table import view
from jupyter_exp.values import FileValues


# -- plan: which stages a reproduction considers, in which order --------------------------
def _stage(name: str, deps: tuple[str, ...] = (), outs: tuple[str, ...] = (), index: int = 0) -> Stage:
    return Stage(
        name,
        f"run {name}",
        deps=tuple(Dep(p, p) for p in deps),
        outs=tuple(Out(p, p) for p in outs),
        index=index,
    )


@pytest.fixture
def graph():
    """prepare -> train -> evaluate, and report on its own; listed out of order."""
    return build_graph(
        [
            _stage("evaluate", deps=("model.pkl",), outs=("metrics.json",), index=0),
            _stage("report", outs=("report.md",), index=1),
            _stage("train", deps=("data.csv",), outs=("model.pkl",), index=2),
            _stage("prepare", outs=("data.csv",), index=3),
        ]
    )


@pytest.mark.parametrize(
    "targets, options, expected",
    [
        (None, ReproOptions(), ["report", "prepare", "train", "evaluate"]),
        (["train"], ReproOptions(), ["prepare", "train"]),
        (["train"], ReproOptions(single_item=True), ["train"]),
        (["train"], ReproOptions(downstream=True), ["train", "evaluate"]),
        (["train"], ReproOptions(pipeline=True), ["prepare", "train", "evaluate"]),
        (["train"], ReproOptions(all_pipelines=True), ["report", "prepare", "train", "evaluate"]),
        (["evaluate", "report"], ReproOptions(), ["report", "prepare", "train", "evaluate"]),
    ],
)
def test_plan_selects_and_orders_stages(graph, targets, options, expected):
    """Upstream first; among stages free to go, the order of their definition."""
    assert plan(graph, targets, options) == expected


def test_plan_reads_a_stage_address_of_another_dvc_yaml():
    sub = Stage("fit", "run fit", dvcfile="sub/dvc.yaml", deps=(Dep("x", "sub/x"),), outs=(Out("y", "sub/y"),))
    top = _stage("use", deps=("sub/y",), outs=("z",))
    graph = build_graph([sub, top], dvcfiles=("dvc.yaml", "sub/dvc.yaml"))
    assert plan(graph, ["use"]) == ["sub/dvc.yaml:fit", "use"]
    assert plan(graph, ["sub/dvc.yaml:fit"], ReproOptions(downstream=True)) == ["sub/dvc.yaml:fit", "use"]


# -- why_changed: why a stage must run, from its lock entry and the current hashes ------
TRAIN = Stage(
    "train",
    "python train.py",
    deps=(Dep("train.py", "train.py"), Dep("data.csv", "data.csv")),
    params=(ParamDep("params.yaml", "params.yaml", ("lr",)),),
    outs=(Out("model.pkl", "model.pkl"),),
)
HASHES = {"train.py": "a" * 32, "data.csv": "b" * 32, "model.pkl": "c" * 32}


def _entry(**changes) -> dict:
    """The lock entry of TRAIN as a run over HASHES with lr 0.1 writes it."""
    entry = {
        "cmd": "python train.py",
        "deps": [{"path": p, "md5": HASHES[p], "hash": "md5"} for p in ("data.csv", "train.py")],
        "params": {"params.yaml": {"lr": 0.1}},
        "outs": [{"path": "model.pkl", "md5": HASHES["model.pkl"], "hash": "md5"}],
    }
    entry.update(changes)
    return entry


def _hash_of(hashes: dict[str, str]):
    return lambda path: HashInfo(hashes[path], 1) if path in hashes else None


PARAMS = {"params.yaml": {"lr": 0.1}}


@pytest.mark.parametrize(
    "entry, hashes, params, in_cache, reason",
    [
        (_entry(), HASHES, PARAMS, True, None),
        (None, HASHES, PARAMS, True, "it has no entry in dvc.lock"),
        (_entry(cmd="python old.py"), HASHES, PARAMS, True, "its command changed"),
        (_entry(), {**HASHES, "data.csv": "d" * 32}, PARAMS, True, "dependency 'data.csv' changed"),
        (
            _entry(),
            {k: v for k, v in HASHES.items() if k != "train.py"},
            PARAMS,
            True,
            "dependency 'train.py' is missing",
        ),
        (_entry(), HASHES, {"params.yaml": {"lr": 0.2}}, True, "param 'lr' changed"),
        (_entry(), HASHES, {"params.yaml": {"lr": 0.1, "seed": 1}}, True, "param 'seed' changed"),
        (
            _entry(),
            {k: v for k, v in HASHES.items() if k != "model.pkl"},
            PARAMS,
            True,
            "output 'model.pkl' is missing",
        ),
        (_entry(), HASHES, PARAMS, False, "output 'model.pkl' is not in the cache"),
        (_entry(outs=[]), HASHES, PARAMS, True, "its outputs changed"),
    ],
)
def test_why_changed(entry, hashes, params, in_cache, reason):
    assert why_changed(TRAIN, entry, _hash_of(hashes), params, lambda info: in_cache) == reason


def test_why_changed_compares_params_as_values():
    """A tuple read from a params file equals the list the lock holds (YAML writes lists)."""
    stage = Stage("s", "cmd", params=(ParamDep("params.yaml", "params.yaml", ("sizes",)),))
    entry = {"cmd": "cmd", "params": {"params.yaml": {"sizes": [1, 2]}}}
    assert why_changed(stage, entry, _hash_of({}), {"params.yaml": {"sizes": (1, 2)}}) is None
    assert why_changed(stage, entry, _hash_of({}), {"params.yaml": {"sizes": (1, 3)}}) == "param 'sizes' changed"


def test_always_changed_and_checkpoint_stages_always_run():
    entry = {"cmd": "cmd"}
    assert why_changed(Stage("s", "cmd", always_changed=True), entry, _hash_of({}), {}) == "it is always_changed"
    ckpt = Stage("s", "cmd", outs=(Out("m", "m", checkpoint=True),))
    assert why_changed(ckpt, entry, _hash_of({"m": "a" * 32}), {}) == "it has checkpoint outputs"


# -- the no-op stamp: a reproduction that changed nothing, answered again -----------------
@pytest.fixture
def own_tmp(tmp_path: Path) -> Path:
    """A project's bookkeeping folder (``.dvc/tmp/jupyter_exp``); no repository needed."""
    folder = tmp_path / ".dvc" / "tmp" / "jupyter_exp"
    folder.mkdir(parents=True)
    return folder


def test_stamp_selection_keys_what_was_asked():
    plain = stamp.selection(["b", "a"], ReproOptions(), "sub")
    assert plain == {
        "targets": ["a", "b"],
        "single_item": False,
        "downstream": False,
        "pipeline": False,
        "all_pipelines": False,
        "cwd": "sub",
        "recursive": False,
    }
    # Flags that do not change the selection (force, keep_going ...) share its stamp.
    assert stamp.selection(["a", "b"], ReproOptions(keep_going=True), "sub") == plain
    assert stamp.selection(["a", "b"], ReproOptions(downstream=True), "sub") != plain


def test_stamp_answers_until_a_file_it_read_moves(own_tmp: Path, tmp_path: Path):
    data = tmp_path / "data"
    data.mkdir()
    (data / "a.csv").write_text("1\n")
    params = tmp_path / "params.yaml"
    params.write_text("lr: 0.1\n")
    selected = stamp.selection(None, ReproOptions())
    results = [StageResult("train", "skipped"), StageResult("old", "frozen")]
    stamp.record(own_tmp, selected, results, [params, data])
    said: list[str] = []
    assert stamp.check(own_tmp, selected, said.append) == results
    assert said == [
        "Stage 'train' didn't change, skipping\n",
        "Stage 'old' is frozen, skipping\n",
        "Data and pipelines are up to date.\n",
    ]
    assert stamp.check(own_tmp, stamp.selection(["train"], ReproOptions()), said.append) is None  # another one
    (data / "b.csv").write_text("2\n")  # a file appears inside a directory it read
    assert stamp.check(own_tmp, selected, said.append) is None


def test_stamp_of_a_copied_project_does_not_answer(own_tmp: Path, tmp_path: Path):
    import shutil

    selected = stamp.selection(None, ReproOptions())
    stamp.record(own_tmp, selected, [StageResult("s", "skipped")], [])
    copy = tmp_path / "copy"
    shutil.copytree(tmp_path / ".dvc", copy / ".dvc")
    assert stamp.check(own_tmp, selected, lambda _text: None) is not None
    assert stamp.check(copy / ".dvc" / "tmp" / "jupyter_exp", selected, lambda _text: None) is None


# -- the table's view: rows and columns in, what the front end draws out -----------------
BASE = "b" * 40


def _exp(name: str, lr: float, acc: float | None, created: int, state: str = "success") -> ExpRow:
    metrics = {"metrics.json": FileValues({"acc": acc})} if acc is not None else {}
    return ExpRow(
        name[0] * 40,
        "experiment",
        ExpData({"params.yaml": FileValues({"lr": lr, "opt": "adam"})}, metrics),
        name=name,
        baseline=BASE,
        state=state,  # type: ignore[arg-type]
        created=created,
    )


@pytest.fixture
def rows() -> list[ExpRow]:
    base = ExpData({"params.yaml": FileValues({"lr": 0.1, "opt": "adam"})}, {"metrics.json": FileValues({"acc": 0.5})})
    return [
        ExpRow("workspace", "workspace", base),
        ExpRow(BASE, "baseline", base, name="main", baseline=BASE, created=1000),
        _exp("fast", 0.3, 0.7, 1003),
        _exp("slow", 0.01, 0.9, 1001),
        _exp("queued", 0.2, None, 1002, state="queued"),
    ]


def _names(table: dict) -> list[str]:
    return [r["cells"][0] for r in table["rows"]]


def test_view_sorts_experiments_within_their_baseline(rows):
    cols = columns(rows)
    state = view.toggle_sort(view.TableState(), "metrics.acc", add=False)
    assert state.sort == (("metrics.acc", "asc"),)
    assert _names(view.build(rows, cols, state)) == ["workspace", "main", "fast", "slow", "queued"]
    state = view.toggle_sort(state, "metrics.acc", add=False)  # asc, then desc
    # A missing value sorts last, whichever the direction.
    assert _names(view.build(rows, cols, state)) == ["workspace", "main", "slow", "fast", "queued"]
    assert view.toggle_sort(state, "metrics.acc", add=False).sort == ()  # then unsorted


def test_view_filters_and_counts(rows):
    cols = columns(rows)
    kinds = {"params.lr": "number", "metrics.acc": "number", "params.opt": "text"}
    state = view.add_filter(view.TableState(), view.Filter("params.lr", ">=", "0.2"), kinds)
    table = view.build(rows, cols, state)
    assert _names(table) == ["workspace", "main", "fast", "queued"]
    assert table["counts"] == {"queued": 1, "running": 0, "failed": 0, "success": 2, "experiments": 3, "shown": 2}
    state = view.add_filter(state, view.Filter("metrics.acc", "empty"), kinds)
    assert _names(view.build(rows, cols, state)) == ["workspace", "main", "queued"]
    with pytest.raises(view.FilterError, match="^Unknown column 'nope' for a filter"):
        view.add_filter(state, view.Filter("nope", "=", "1"), kinds)
    with pytest.raises(view.FilterError, match="is not a number"):
        view.add_filter(state, view.Filter("params.lr", "<", "fast"), kinds)


@pytest.mark.parametrize(
    "op, operand, value, kind, passes",
    [
        ("=", "0.1", 0.1, "number", True),
        ("!=", "0.1", None, "number", True),  # a missing value passes only != and empty
        ("<", "0.1", None, "number", False),
        ("contains", "ADA", "adam", "text", True),
        ("=", "adam", "adam", "text", True),
        (">", "b", "adam", "text", False),  # text compares as text
        ("before", "2001-01-01", 946684800, "date", True),  # 2000-01-01 UTC
        ("after", "2001-01-01", 946684800, "date", False),
    ],
)
def test_filter_matches(op, operand, value, kind, passes):
    assert view.matches(view.Filter("c", op, operand), value, kind) is passes


def test_view_columns_only_changed_hidden_and_ordered(rows):
    cols = columns(rows)
    table = view.build(rows, cols, view.TableState(only_changed=True))
    ids = [c["id"] for c in table["columns"]]
    assert ids == ["experiment", "state", "created", "metrics.acc", "params.lr"]  # opt is adam everywhere
    state = view.TableState(hidden=("state",), order=("params.lr", "experiment"))
    ids = [c["id"] for c in view.build(rows, cols, state)["columns"]]
    assert ids == ["params.lr", "experiment", "created", "metrics.acc", "params.opt"]
    moved = view.move_column(state, [c["id"] for c in view.build(rows, cols, state)["all_columns"]], "params.lr", 1)
    assert moved.order[:2] == ("experiment", "params.lr")


def test_view_leaves_out_saved_filters_that_no_longer_fit(rows):
    state = view.TableState(filters=(view.Filter("metrics.gone", ">", "1"), view.Filter("params.lr", ">", "0.1")))
    table = view.build(rows, columns(rows), state)
    assert table["inactive_filters"] == [0]
    assert _names(table) == ["workspace", "main", "fast", "queued"]


def test_table_state_survives_its_json(rows):
    state = view.TableState(
        sort=(("metrics.acc", "desc"),),
        filters=(view.Filter("params.lr", ">", "0.1"),),
        starred=("bbbbbbb/fast",),
        colours=(("fast", "#123456"),),
    )
    assert view.TableState.from_json(state.to_json()) == state
    starred = view.build(rows, columns(rows), dataclasses.replace(state, starred_only=True))
    assert _names(starred) == ["workspace", "main", "fast"]


def test_show_options_take_lists_or_one_string():
    assert ShowOptions.of("HEAD").revs == ("HEAD",)
    assert ShowOptions.of(["a", "b"], keep=["lr"], num=2) == ShowOptions(revs=("a", "b"), keep=("lr",), num=2)
    assert ShowOptions.from_keywords({"revs": None, "num": 3, "root": "ignored"}) == ShowOptions(num=3)
    assert ReproOptions.from_keywords({"force": 1, "quiet": True}) == ReproOptions(force=True)


def test_repro_options_round_trip_a_queue_record():
    options = ReproOptions(force=True, downstream=True, pull=True, interactive=True)
    record = options.record()
    assert record == {
        "force": True,
        "single_item": False,
        "downstream": True,
        "pipeline": False,
        "all_pipelines": False,
        "force_downstream": False,
        "keep_going": False,
        "ignore_errors": False,
        "pull": True,
    }
    assert ReproOptions.from_record({**record, "force_name": True}) == options._replace(interactive=False)


def test_row_keys_are_unique_with_failed_runs_of_a_recorded_name():
    """A run that failed, was queued again under its name and recorded, another failed
    run and a queued one of that name, and two checkpoint chains sharing a commit: one
    key each, the recorded experiments' stable."""
    base = "b" * 40
    data = ExpData()
    rows = [
        ExpRow("workspace", "workspace", data),
        ExpRow(base, "baseline", data, name="main", baseline=base),
        ExpRow("1" * 40, "experiment", data, name="x", baseline=base, state="success"),
        ExpRow("2" * 40, "experiment", data, name="x", baseline=base, state="failed"),
        ExpRow("3" * 40, "experiment", data, name="x", baseline=base, state="failed"),
        ExpRow("4" * 40, "experiment", data, name="x", baseline=base, state="queued"),
        ExpRow("5" * 40, "experiment", data, name="ck", baseline=base, state="success"),
        ExpRow("6" * 40, "checkpoint", data, name="ck", baseline=base, step=0),
        ExpRow("7" * 40, "experiment", data, name="more", baseline=base, state="success"),
        ExpRow("6" * 40, "checkpoint", data, name="more", baseline=base, step=0),  # (its chain goes through ck's)
    ]
    state = view.TableState(expanded=("bbbbbbb/ck", "bbbbbbb/more"))
    keys = [r["key"] for r in view.build(rows, [], state)["rows"]]
    assert keys == [
        "workspace",
        base,
        "bbbbbbb/x",
        "bbbbbbb/x@222222222222",
        "bbbbbbb/x@333333333333",
        "bbbbbbb/x@444444444444",
        "bbbbbbb/ck",
        f"bbbbbbb/ck:{'6' * 40}",
        "bbbbbbb/more",
        f"bbbbbbb/more:{'6' * 40}",
    ]
