import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import git
from hypothesis import given, settings
from hypothesis import strategies as st

import jupyter_exp
from jupyter_exp.errors import OverrideSyntaxError, ParamsError, YAMLFileError
from jupyter_exp.overrides import apply_overrides, expand_sweeps, group_by_file
from jupyter_exp.params import read_params

YAML_TEXT = """# top comment
train:
  lr: 0.01  # learning rate
  epochs: 3
  layers: [1, 2]
name: base
"""


def test_file_prefix_only_before_the_first_equals():
    assert group_by_file(["a=1", "other.yaml:b=2", "c=http://x", "p.toml:d.e=1", "other.yaml:f=3"]) == {
        "params.yaml": ["a=1", "c=http://x"],
        "other.yaml": ["b=2", "f=3"],
        "p.toml": ["d.e=1"],
    }


def test_set_add_force_add_delete_keep_yaml_comments(tmp_path: Path):
    (tmp_path / "params.yaml").write_text(YAML_TEXT)
    apply_overrides(
        tmp_path,
        group_by_file(
            [
                "train.lr=0.1",
                "+train.seed=7",
                "++name=exp",
                "~train.layers",
                "+model={depth: 2, act: relu}",
                "+tags=[a,b]",
            ]
        ),
    )
    text = (tmp_path / "params.yaml").read_text()
    # ruamel keeps the comment in its column, as DVC's rewrite does.
    assert text.startswith("# top comment\ntrain:\n  lr: 0.1   # learning rate\n  epochs: 3\n")
    assert read_params(tmp_path / "params.yaml") == {
        "train": {"lr": 0.1, "epochs": 3, "seed": 7},
        "name": "exp",
        "model": {"depth": 2, "act": "relu"},
        "tags": ["a", "b"],
    }


def test_typed_values_and_quoted_strings(tmp_path: Path):
    (tmp_path / "params.yaml").write_text("a: 1\nb: x\nc: 1\nd: 1\n")
    apply_overrides(tmp_path, group_by_file(["a=true", "b='resnet 50'", "c=null", "d=1e-3"]))
    assert read_params(tmp_path / "params.yaml") == {"a": True, "b": "resnet 50", "c": None, "d": 0.001}


def test_unknown_key_hints_plus(tmp_path: Path):
    (tmp_path / "params.yaml").write_text(YAML_TEXT)
    with pytest.raises(
        ParamsError,
        match=r"^Unknown param 'train.momentum' in params.yaml; use set_params=\['\+train.momentum=VALUE'\] to add it",
    ):
        apply_overrides(tmp_path, group_by_file(["train.lr=0.5", "train.momentum=0.9"]))
    assert (tmp_path / "params.yaml").read_text() == YAML_TEXT  # nothing written


def test_adding_an_existing_key_hints_double_plus(tmp_path: Path):
    (tmp_path / "params.yaml").write_text(YAML_TEXT)
    with pytest.raises(
        ParamsError,
        match=r"Param 'name' already exists in params.yaml; use set_params=\['name=VALUE'\] or \+\+name=VALUE",
    ):
        apply_overrides(tmp_path, group_by_file(["+name=x"]))


def test_bad_override_syntax(tmp_path: Path):
    (tmp_path / "params.yaml").write_text(YAML_TEXT)
    with pytest.raises(OverrideSyntaxError, match=r"^Bad override 'train.layers=\[1': .*Hydra syntax"):
        apply_overrides(tmp_path, group_by_file(["train.lr=1", "train.layers=[1"]))
    assert (tmp_path / "params.yaml").read_text() == YAML_TEXT


def test_sweep_without_queue_is_refused(tmp_path: Path):
    (tmp_path / "params.yaml").write_text(YAML_TEXT)
    with pytest.raises(OverrideSyntaxError, match=r"needs the queue; queue it with queue\(\) or give one value\.$"):
        apply_overrides(tmp_path, group_by_file(["train.lr=0.1,0.2"]))


def test_toml_keeps_comments_json_is_compact_py_is_patched(tmp_path: Path):
    (tmp_path / "p.toml").write_text("# settings\n[train]\nlr = 0.1 # rate\nepochs = 2\n")
    (tmp_path / "p.json").write_text('{\n  "a": 1,\n  "b": {"c": 5}\n}\n')
    (tmp_path / "p.py").write_text("LR = 0.1  # rate\n\nclass Model:\n    depth = 2\n    act = 'relu'\n")
    apply_overrides(
        tmp_path, group_by_file(["p.toml:train.lr=0.5", "p.json:b.c=6", "p.py:Model.depth=4", "p.py:LR=0.2"])
    )
    assert (tmp_path / "p.toml").read_text() == "# settings\n[train]\nlr = 0.5 # rate\nepochs = 2\n"
    assert (tmp_path / "p.json").read_text() == '{"a": 1, "b": {"c": 6}}'
    assert (tmp_path / "p.py").read_text() == "LR = 0.2  # rate\n\nclass Model:\n    depth = 4\n    act = 'relu'\n"
    assert read_params(tmp_path / "p.py") == {"LR": 0.2, "Model": {"depth": 4, "act": "relu"}}
    with pytest.raises(ParamsError, match="only existing literal values can be changed"):
        apply_overrides(tmp_path, group_by_file(["p.py:+NEW=1"]))


def test_sweeps_expand_to_the_product_across_keys_and_files():
    sets = expand_sweeps(["lr=choice(0.1,0.2)", "epochs=range(1,10,4)", "other.yaml:seed=1,2"])
    assert len(sets) == 12
    assert sets[0] == {"params.yaml": ["lr=0.1", "epochs=1"], "other.yaml": ["seed=1"]}
    assert sets[1] == {"params.yaml": ["lr=0.1", "epochs=1"], "other.yaml": ["seed=2"]}
    assert sets[-1] == {"params.yaml": ["lr=0.2", "epochs=9"], "other.yaml": ["seed=2"]}
    assert expand_sweeps(["a=1"]) == [{"params.yaml": ["a=1"]}]
    assert jupyter_exp.expand_sweeps("a=1,2") == [{"params.yaml": ["a=1"]}, {"params.yaml": ["a=2"]}]


def test_malformed_params_yaml_names_the_line(tmp_path: Path):
    (tmp_path / "params.yaml").write_text("a: 1\nb: [1, 2\n")
    with pytest.raises(YAMLFileError, match=r"params.yaml, line \d+: .*fix the YAML syntax"):
        read_params(tmp_path / "params.yaml")


scalars = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32).filter(lambda f: abs(f) < 1e6),
    st.booleans(),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8),
)


@settings(max_examples=40, deadline=None)
@given(value=scalars)
def test_any_scalar_survives_the_round_trip(tmp_path_factory, value):
    root = tmp_path_factory.mktemp("rt")
    (root / "params.yaml").write_text("# keep me\nx: 0  # and me\ny: 1\n")
    (root / "p.toml").write_text("# keep me\nx = 0 # and me\n")
    literal = json.dumps(value) if not isinstance(value, str) else f"'{value}'"
    if isinstance(value, bool):
        literal = "true" if value else "false"
    apply_overrides(root, group_by_file([f"x={literal}", f"p.toml:x={literal}"]))
    assert read_params(root / "params.yaml")["x"] == value
    assert read_params(root / "p.toml")["x"] == value
    assert "# keep me" in (root / "params.yaml").read_text() and "# and me" in (root / "params.yaml").read_text()
    assert "# keep me" in (root / "p.toml").read_text() and "# and me" in (root / "p.toml").read_text()


@settings(max_examples=30, deadline=None)
@given(
    path=st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True), min_size=1, max_size=3, unique=True),
    value=scalars,
)
def test_adding_then_deleting_a_key_gives_the_file_back(tmp_path_factory, path, value):
    root = tmp_path_factory.mktemp("grammar")
    original = "# settings\nkeep: 1  # a comment\n"
    (root / "params.yaml").write_text(original)
    key = "zz_" + ".".join(path)
    literal = (
        f"'{value}'"
        if isinstance(value, str)
        else ("true" if value is True else "false" if value is False else json.dumps(value))
    )
    apply_overrides(root, group_by_file([f"+{key}={literal}"]))
    node = read_params(root / "params.yaml")
    for part in key.split("."):
        node = node[part]
    assert node == value
    with pytest.raises(ParamsError):
        apply_overrides(root, group_by_file([f"+{key}={literal}"]))  # + refuses an existing key
    apply_overrides(root, group_by_file([f"~{key.split('.')[0]}"]))
    assert (root / "params.yaml").read_text() == original


simple_values = st.one_of(
    st.integers(-(10**9), 10**9).map(str),
    st.from_regex(r"[+-]?(\d{1,4}\.\d{0,4}|\.\d{1,4})([eE][+-]?\d{1,2})?", fullmatch=True),
    st.from_regex(r"[+-]?\d{1,3}[eE][+-]?\d{1,2}", fullmatch=True),
    st.sampled_from(
        [
            "true",
            "false",
            "True",
            "FALSE",
            "null",
            "NULL",
            "inf",
            "nan",
            "-inf",
            "relu",
            "adam_w",
            "_x",
            "a1",
            "00",
            "1_000",
            "0x10",
            "1.2.3",
            "'quoted'",
            "a b",
            "[1,2]",
            "1,2",
            "${x}",
            "",
        ]
    ),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True),
)


@settings(max_examples=1500, deadline=None)
@given(
    key=st.sampled_from(["lr", "model.depth", "model.act", "model", "missing", "model.missing", "lst"]),
    text=simple_values,
)
def test_plain_overrides_read_without_hydra_agree_with_hydra(key, text):
    from jupyter_exp.errors import JupyterExpError
    from jupyter_exp.overrides import _apply_simple, _apply_with_hydra

    data = {"lr": 0.1, "model": {"depth": 2, "act": "relu"}, "lst": [1, 2]}
    override = f"{key}={text}"
    fast = _apply_simple(data, [override])
    if fast is None:
        return  # not a plain override: Hydra reads it
    assert data == {"lr": 0.1, "model": {"depth": 2, "act": "relu"}, "lst": [1, 2]}  # not modified in place
    try:
        slow = _apply_with_hydra(data, [override], "params.yaml")
    except JupyterExpError as exc:
        raise AssertionError(f"{override}: Hydra refuses ({exc}) what the fast path took") from None
    assert repr(fast) == repr(slow), override  # repr: 1 and 1.0 and True must differ


@pytest.mark.parametrize(
    "override",
    [
        "lr=0.01",
        "lr=1e-3",
        "lr=-2",
        "lr=.5",
        "lr=5.",
        "lr=null",
        "model.act=tanh",
        "model.depth=TRUE",
        "model.depth=+7",
    ],
)
def test_common_overrides_take_the_fast_path_and_read_as_hydra_reads_them(override):
    from jupyter_exp.overrides import _apply_simple, _apply_with_hydra

    data = {"lr": 0.1, "model": {"depth": 2, "act": "relu"}}
    fast = _apply_simple(data, [override])
    assert fast is not None
    assert repr(fast) == repr(_apply_with_hydra(data, [override], "params.yaml"))


def test_an_experiment_with_plain_overrides_does_not_import_hydra(make_project):
    root = make_project("two_stage")
    code = (
        "import sys, jupyter_exp\n"
        "jupyter_exp.run(set_params=['train.lr=0.02', 'train.model.act=tanh'], name='fast')\n"
        "assert not any(m == 'hydra' or m.startswith('hydra.') for m in sys.modules), 'hydra imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, capture_output=True)
    head = git(root, "rev-parse", "HEAD").strip()
    params = git(root, "show", f"refs/exps/{head[:2]}/{head[2:]}/fast:params.yaml")
    assert "lr: 0.02" in params and "act: tanh" in params and "# multiply every value" in params
