"""Issue 13, items 6 and 9: checkpoints resume, reset and label steps as the seeds
describe them; ``-S`` rewrites only the overridden value of a params file."""

from __future__ import annotations

import io
import json
import math
import shutil
from pathlib import Path

import pytest
from conftest import git
from helpers import exp_chain
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import jupyter_exp
from jupyter_exp.overrides import overridden_texts

# -- item 9: -S keeps every untouched byte ----------------------------------------------

YAML_SPELLINGS = [
    "0.20",
    "1.0e-3",
    "1_000",
    ".5",
    "+1",
    "0x10",
    "1e3",
    '"quoted"',
    "'single'",
    "~",
    "null",
    "yes",
    "no",
    "on",
    "off",
    "True",
    "-0.0",
    ".inf",
    "-.inf",
    ".nan",
    "0o17",
    "017",
    "1:30",
    "plain words",
    "2.50",
    "-3",
    "0",
    "'0.1'",
    "false",
    "NULL",
]
TOML_SPELLINGS = [
    "0.20",
    "1.0e-3",
    "1_000",
    "+1",
    "0x10",
    "1e3",
    '"quoted"',
    "'literal'",
    "true",
    "false",
    "0o17",
    "-0.0",
    "inf",
    "nan",
    "2.50",
    "-3",
    "0",
    '"0.1"',
    "[1, 2]",
]
new_values = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64).filter(lambda f: abs(f) < 1e15),
    st.booleans(),
    st.sampled_from(["hello", "relu", "adam_w", "x1"]),
)


def override_text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


def dvc_yaml_scalar(value) -> str:
    """What DVC's ruamel round-trip dump writes for ``value`` after a key."""
    from ruamel.yaml import YAML

    buf = io.StringIO()
    YAML().dump({"k": value}, buf)
    return buf.getvalue()[3:-1]


def read_bytes_text(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fobj:
        return fobj.read()


@st.composite
def params_files(draw, fmt: str):
    """(lines without ends, line end, final newline, candidates [(line index, key path)])."""
    spellings = YAML_SPELLINGS if fmt == "yaml" else TOML_SPELLINGS
    lines: list[str] = []
    candidates = []
    for s in range(draw(st.integers(1, 3))):
        section = f"sec{s}"
        lines.append(f"{section}:" if fmt == "yaml" else f"[{section}]")
        indent = draw(st.sampled_from(["  ", "    "])) if fmt == "yaml" else ""
        for k in range(draw(st.integers(1, 6))):
            spelling = draw(st.sampled_from(spellings))
            comment = draw(st.sampled_from(["", "  # why", " # note: 0.20"]))
            trailing = draw(st.sampled_from(["", " ", "  "]))
            sep = ": " if fmt == "yaml" else " = "
            lines.append(f"{indent}k{k}{sep}{spelling}{comment}{trailing}")
            if not spelling.startswith("["):
                candidates.append((len(lines) - 1, f"{section}.k{k}", spelling))
        if draw(st.booleans()):
            lines.append("# a comment line  ")
    return lines, draw(st.sampled_from(["\n", "\r\n"])), draw(st.booleans()), candidates


def _check_only_target_changed(fmt: str, case, pick: int, value, tmp_path: Path) -> None:
    lines, end, final, candidates = case
    assume(candidates)  # a file of lists only has no scalar to override
    index, key, spelling = candidates[pick % len(candidates)]
    text = end.join(lines) + (end if final else "")
    name = "params.yaml" if fmt == "yaml" else "params.toml"
    root = tmp_path / "p"
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    with open(root / name, "w", encoding="utf-8", newline="") as fobj:
        fobj.write(text)
    new = overridden_texts(root, {name: [f"{key}={override_text(value)}"]})[name]
    old_lines, new_lines = text.split(end), new.split(end)
    assert len(new_lines) == len(old_lines)
    for i, (a, b) in enumerate(zip(old_lines, new_lines)):
        if i != index:
            assert a == b, (i, a, b)
    from jupyter_exp.params import parse_params

    old_value = parse_params(text, name)[key.split(".")[0]][key.split(".")[1]]
    same = type(old_value) is type(value) and (old_value == value or (old_value != old_value and value != value))
    if same:
        assert new == text
        return
    sep = ": " if fmt == "yaml" else " = "
    head = lines[index].split(sep, 1)[0] + sep
    if fmt == "yaml":
        expected = dvc_yaml_scalar(value)
    else:
        import tomlkit

        expected = tomlkit.item(value).as_string()
    assert new_lines[index].startswith(head + expected)
    rest = new_lines[index][len(head + expected) :]
    old_rest = lines[index][len(head + spelling) :]
    assert rest.strip() == old_rest.strip()  # the comment (and only it) follows
    data = parse_params(new, name)[key.split(".")[0]][key.split(".")[1]]
    assert data == value or (isinstance(value, float) and math.isclose(data, value))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=params_files("yaml"), pick=st.integers(0, 100), value=new_values)
def test_yaml_override_changes_only_the_overridden_scalar(case, pick, value, tmp_path):
    _check_only_target_changed("yaml", case, pick, value, tmp_path)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=params_files("toml"), pick=st.integers(0, 100), value=new_values)
def test_toml_override_changes_only_the_overridden_scalar(case, pick, value, tmp_path):
    _check_only_target_changed("toml", case, pick, value, tmp_path)


def test_yaml_spellings_named_in_the_issue_survive(tmp_path):
    text = (
        "train:\r\n  lr: 0.020  # rate\r\n  split: 0.20\r\n  wd: 1.0e-3\r\n  n: 1_000\r\n  h: .5\r\n"
        '  p: +1\r\n  x: 0x10\r\n  e: 1e3\r\n  s: "str"\r\n  t: ~\r\n  y: yes\r\n  z: null '
    )
    (tmp_path / "params.yaml").write_bytes(text.encode())
    new = overridden_texts(tmp_path, {"params.yaml": ["train.lr=0.010"]})["params.yaml"]
    assert new == text.replace("lr: 0.020  # rate", "lr: 0.01   # rate")


def test_a_list_item_in_flow_style_stays_in_flow_style(tmp_path):
    # DVC rewrites the list in block style here; only the item changes in ours.
    (tmp_path / "params.yaml").write_text("layers: [1, 2.50]  # sizes\nact: relu\n")
    new = overridden_texts(tmp_path, {"params.yaml": ["layers.0=3"]})["params.yaml"]
    assert new == "layers: [3, 2.50]  # sizes\nact: relu\n"


# Cases where DVC 3.67.1 itself keeps the rest of the file: our bytes must equal its bytes.
DVC_TWIN_CASES = [
    (
        "params.yaml",
        "train:\n  lr: 0.020  # rate\n  split: 0.20\n  wd: 1.0e-3\n  n: 1_000\n  h: .5\n"
        "  x: 0x10\n  e: 1e3\n  y: yes\n",
        ["train.lr=0.010"],
    ),
    ("params.yaml", "train:\n  lr: 0.1  # rate\n  b: 2\n  wd: 1.0e-3\n", ["train.lr=0.0001234", "train.b=1e-3"]),
    (
        "params.yaml",
        "train:\n  lr: 0.1\n  act: relu\n  flag: false\n",
        ["train.lr=true", "train.act=tanh", "train.flag=true"],
    ),
    ("params.yaml", "train: {lr: 0.1, act: relu}\nepochs: 5\n", ["train.act='a,b'"]),
    (
        "params.toml",
        '[train]\nlr = 0.1  # rate\nb = 2\nc = "s"\nd = 1.0e-3\n',
        ["train.lr=0.0001234", "train.b=1e-3", "train.c=yes"],
    ),
]


@pytest.mark.parametrize("name,text,overrides", DVC_TWIN_CASES)
def test_override_bytes_equal_dvc_exp_run(name, text, overrides, tmp_path, monkeypatch, dvc, cli):
    results = []
    for tool in ("dvc", "ours"):
        root = tmp_path / tool
        root.mkdir()
        monkeypatch.chdir(root)
        git(root, "init", "-q")
        git(root, "config", "user.email", "t@example.com")
        git(root, "config", "user.name", "T")
        dvc("init", "-q")
        (root / name).write_text(text)
        key = overrides[0].split(".")[0]
        params = f"[{key}]" if name == "params.yaml" else f"[{{{name}: [{key}]}}]"
        (root / "dvc.yaml").write_text(
            f"stages:\n  s:\n    cmd: cat {name} > out.txt\n    params: {params}\n    outs: [out.txt]\n"
        )
        git(root, "add", "-A")
        git(root, "commit", "-qm", "init")
        args = [arg for o in overrides for arg in ("-S", f"{name}:{o}" if name != "params.yaml" else o)]
        if tool == "dvc":
            dvc("exp", "run", "-q", *args)
        else:
            cli("run", *args)
        results.append((root / name).read_bytes())
    assert results[0] == results[1]
    assert results[1] != text.encode()


# -- item 6: checkpoints ---------------------------------------------------------------


def model_at(root: Path, rev: str) -> dict:
    """The model a checkpoint commit's dvc.lock names, read from the cache."""
    from jupyter_exp.serialize import parse_yaml

    lock = parse_yaml(git(root, "show", f"{rev}:dvc.lock"), "dvc.lock")
    md5 = next(o["md5"] for o in lock["stages"]["train"]["outs"] if o["path"] == "model.json")
    return json.loads((root / ".dvc/cache/files/md5" / md5[:2] / md5[2:]).read_text())


def test_a_queued_checkpoint_run_starts_afresh_unless_given_a_rev(make_project):
    root = make_project("checkpoints")
    jupyter_exp.run(name="ck")  # the workspace now holds a model trained to epoch 4
    jupyter_exp.run(queue=True, name="queued")
    jupyter_exp.run(run_all=True)
    steps = exp_chain(root, "queued")
    assert len(steps) == 4 and set(steps).isdisjoint(exp_chain(root, "ck"))
    assert [model_at(root, rev)["epoch"] for rev in reversed(steps)] == [1, 2, 3, 4]
    # -r/--rev still resumes that checkpoint
    second = exp_chain(root, "ck")[2]
    jupyter_exp.run(queue=True, rev=second, set_params=["train.epochs=5"], name="resumed")
    jupyter_exp.run(run_all=True)
    resumed = exp_chain(root, "resumed")
    assert len(resumed) == 5 and resumed[3] == second
    assert model_at(root, resumed[0]) == {"epoch": 5, "w": 2.5}


def test_apply_an_earlier_step_then_run_branches_from_it(make_project, cli):
    root = make_project("checkpoints")
    jupyter_exp.run(name="ck")
    ck = exp_chain(root, "ck")
    step1 = ck[2]  # the second commit: step 1 as DVCLive counts
    jupyter_exp.apply(step1[:10])
    out = cli("run", "-n", "again").stdout
    assert f"Checkpoint experiment 'again' will go on from step 1 of 'ck' ({step1[:7]})." in out
    assert "step 6" not in out and "5/4" not in out
    again = exp_chain(root, "again")
    assert len(again) == 4 and again[2:] == ck[2:]  # two new steps after step 1
    assert exp_chain(root, "ck") == ck  # the old chain is untouched
    assert json.loads((root / "model.json").read_text()) == {"epoch": 4, "w": 2.0}
    # each new step's model and metrics go on from step 1
    assert [model_at(root, rev)["epoch"] for rev in reversed(again)] == [1, 2, 3, 4]
    # a row's step label and the step metric DVCLive's layout records agree, on both chains
    df = jupyter_exp.show()
    for name in ("ck", "again"):
        rows = df[df.experiment == name]
        for rev, step in zip(rows["rev"], rows["step"]):
            assert json.loads(git(root, "show", f"{rev}:dvclive/metrics.json"))["step"] == step
        assert list(rows["step"]) == [3, 2, 1, 0]
    # the next run resumes the new experiment's tip
    assert "Resuming checkpoint experiment 'again' from step 3." in cli("run").stdout


def test_force_regenerates_a_checkpoint_experiment_from_scratch(make_project, cli):
    root = make_project("checkpoints")
    jupyter_exp.run(name="ck")
    out = cli("run", "-f", "-n", "fresh").stdout
    assert "Reset: starting checkpoint experiment 'fresh'." in out
    fresh = exp_chain(root, "fresh")
    assert len(fresh) == 4 and set(fresh).isdisjoint(exp_chain(root, "ck"))
    assert [model_at(root, rev)["epoch"] for rev in reversed(fresh)] == [1, 2, 3, 4]
