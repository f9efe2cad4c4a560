"""%exp and %%stage in a real IPython shell that raises instead of printing."""

import json
import os
from pathlib import Path

import pytest
from conftest import git, wait_for_command
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import jupyter_exp
from jupyter_exp.cli import UsageError
from jupyter_exp.display import DiffTable, ExpDiffView, ExperimentTable
from jupyter_exp.errors import JupyterExpError
from jupyter_exp.pipeline.stage_add import StageExistsError


class TestingShell(InteractiveShell):
    """Like jupysql's: a failing cell raises, so a test sees the error it caused."""

    def run_cell(self, *args, **kwargs):
        result = super().run_cell(*args, **kwargs)
        result.raise_error()
        return result


@pytest.fixture(scope="module")
def shell():
    config = Config()
    config.HistoryAccessor.enabled = False
    ip = TestingShell.instance(config=config)
    ip.run_line_magic("load_ext", "jupyter_exp")
    return ip


def test_load_ext_registers_both_magics(shell):
    assert "exp" in shell.magics_manager.magics["line"]
    assert "stage" in shell.magics_manager.magics["cell"]


@pytest.fixture
def calls(monkeypatch):
    seen = {}

    def record(name):
        def fake(*args, **kwargs):
            seen[name] = (args, kwargs)
            return []

        return fake

    # The CLI's handlers call the api's modules by noun (not the package root).
    from jupyter_exp.api import experiments, pipeline, sharing

    for module, name in (
        (experiments, "run_with"),
        (experiments, "apply"),
        (experiments, "branch"),
        (experiments, "remove"),
        (pipeline, "reproduce"),
        (sharing, "push"),
    ):
        monkeypatch.setattr(module, name, record(name))
    return seen


def test_what_exp_passes_to_the_api(shell, calls):
    shell.user_ns["lr"] = 0.5
    shell.run_cell("%exp run -S 'model.name=resnet 50' -S train.lr={lr} -n fast --downstream train")
    (targets, options), kwargs = calls["run_with"]  # the flags passed whole, as one ReproOptions
    assert targets == ["train"]
    assert kwargs["set_params"] == ["model.name=resnet 50", "train.lr=0.5"]
    assert kwargs["name"] == "fast" and options.downstream is True and options.force is False
    shell.run_cell("%exp apply fast")
    assert calls["apply"] == (("fast",), {"best": False})
    shell.run_cell("%exp branch fast my-branch")
    assert calls["branch"] == (("fast", "my-branch"), {})
    shell.run_cell("%exp remove a b --keep")
    assert calls["remove"][0] == (["a", "b"],) and calls["remove"][1]["keep"] is True
    shell.run_cell("%exp repro -f -s train")
    (targets, options), _ = calls["reproduce"]  # the flags passed whole, as one ReproOptions
    assert targets == ["train"] and options.force and options.single_item
    shell.run_cell("%exp push origin fast -f")
    assert calls["push"][0] == ("origin", ["fast"]) and calls["push"][1]["force"] is True


def test_bad_flags_and_unknown_verbs_are_one_line(shell):
    with pytest.raises(UsageError) as err:
        shell.run_cell("%exp bogus")
    assert str(err.value).startswith("%exp: argument VERB: invalid choice: 'bogus'")
    with pytest.raises(UsageError, match=r"^%exp: unrecognized arguments: --bogus; see `%exp --help`.$"):
        shell.run_cell("%exp show --bogus")
    with pytest.raises(UsageError, match=r"^%%stage: the following arguments are required: name"):
        shell.run_cell("%%stage\nprint(1)\n")
    assert err.value._render_traceback_() == [f"ERROR: {err.value}"]


def test_user_errors_print_one_line_as_ipython_shows_them(make_project, shell, capsys):
    make_project("two_stage")
    try:
        shell.run_line_magic("exp", "apply nope")
    except JupyterExpError:
        shell.showtraceback()  # what IPython does with an error a cell raised
    out = capsys.readouterr()
    text = (out.out + out.err).strip()
    assert text == "ERROR: Unknown experiment 'nope'; list them with `jupyter exp list`."


def test_exp_returns_rich_objects(make_project, shell):
    make_project("two_stage")
    exp = shell.run_cell("%exp run -S train.lr=0.5 -n fast").result
    assert exp.name == "fast"
    table = shell.run_cell("%exp show").result
    assert isinstance(table, ExperimentTable)
    assert "<table" in table._repr_html_() and "[fast]" in str(table)
    assert list(table.to_dataframe()["experiment"]) == list(jupyter_exp.show()["experiment"])
    diff = shell.run_cell("%exp diff HEAD fast").result  # `exp diff fast` alone: fast vs the workspace, as DVC
    assert isinstance(diff, ExpDiffView)
    frame = diff.to_dataframe()
    assert frame.loc[frame.key == "train.lr", "new"].item() == 0.5
    params = shell.run_cell("%exp params diff").result
    assert isinstance(params, DiffTable) and params.to_dataframe()["key"].tolist() == ["train.lr"]
    metrics = shell.run_cell("%exp metrics show").result
    assert metrics.to_dataframe()["metric"].tolist() == ["score", "nested.loss"]
    as_json = shell.run_cell("%exp show --json").result
    assert json.loads(as_json)[1]["experiments"][0]["name"] == "fast"


def test_exp_run_reaches_its_ref_write_within_seven_frames(make_project, shell):
    """The path of `%exp run -S` from the magic to the git call that writes the experiment
    ref stays as short as it was before the api and option objects moved (7 frames:
    magic, CLI dispatch, verb handler, api, engine run, record, the ref write). A
    profile hook watches the real run; nothing is replaced."""
    import sys

    from jupyter_exp.git import Git
    from jupyter_exp.magics import ExpMagics

    make_project("two_stage")
    ref_write, magic = Git.update_refs.__code__, ExpMagics.exp.__code__
    paths = []

    def watch(frame, event, _arg):
        if event != "call" or frame.f_code is not ref_write:
            return
        if not any(c.startswith("update refs/exps/") for c in frame.f_locals["commands"]):
            return
        path = []
        while frame is not None:
            path.append(f"{frame.f_globals.get('__name__')}:{frame.f_code.co_name}")
            if frame.f_code is magic:
                paths.append(path[::-1])
                return
            frame = frame.f_back

    sys.setprofile(watch)
    try:
        shell.run_cell("%exp run -S train.lr=0.5 -n fast")
    finally:
        sys.setprofile(None)
    assert len(paths) == 1, paths
    assert paths[0][0] == "jupyter_exp.magics:exp" and paths[0][-1] == "jupyter_exp.git:update_refs"
    assert len(paths[0]) <= 7, paths[0]


def test_stage_cell_writes_script_and_stage_and_runs(project: Path, shell, capsys):
    (project / "data.txt").write_text("3\n4\n")
    body = (
        "values = [int(x) for x in open('data.txt')]\n"
        "open('total.txt', 'w').write(str(sum(values)))\n"
        "print('summed', len(values))\n"
    )
    shell.run_cell(f"%%stage total -d data.txt -o total.txt --desc 'add them up'\n{body}")
    assert "summed 2" in capsys.readouterr().out  # the stage's output streamed into the cell
    assert (project / "total.txt").read_text() == "7"
    script = (project / "stages" / "total.py").read_text()
    assert script.endswith(body) and script.startswith("# Written by %%stage total")
    from jupyter_exp.serialize import load_yaml

    stage = load_yaml(project / "dvc.yaml")["stages"]["total"]
    assert stage == {
        "cmd": "python stages/total.py",
        "deps": ["stages/total.py", "data.txt"],
        "outs": ["total.txt"],
        "desc": "add them up",
    }
    # Re-running the cell with a new body updates the script and reruns the stage.
    shell.run_cell(
        "%%stage total -d data.txt -o total.txt --desc 'add them up'\n"
        + body.replace("sum(values)", "sum(values) * 10")
    )
    assert (project / "total.txt").read_text() == "70"


def test_stage_cell_flags(project: Path, shell):
    (project / "params.yaml").write_text("train:\n  lr: 0.1\n  epochs: 2\n")
    shell.run_cell(
        "%%stage train -p train.lr,train.epochs -M metrics.json -O log.txt -c model.ckpt --plots loss.tsv --no-run\n"
        "pass\n"
    )
    from jupyter_exp.serialize import load_yaml

    stage = load_yaml(project / "dvc.yaml")["stages"]["train"]
    assert stage["params"] == ["train.lr", "train.epochs"]
    assert stage["outs"] == [{"log.txt": {"cache": False}}, {"model.ckpt": {"checkpoint": True}}]
    assert stage["metrics"] == [{"metrics.json": {"cache": False}}]
    assert stage["plots"] == ["loss.tsv"]
    assert not (project / "dvc.lock").exists()  # --no-run


def test_stage_cell_guards(project: Path, shell):
    (project / "dvc.yaml").write_text("# my pipeline\nstages:\n  train:\n    cmd: python train.py\n")
    with pytest.raises(
        StageExistsError, match="Stage 'train' already exists and runs 'python train.py'; rerun with -f"
    ):
        shell.run_cell("%%stage train --no-run\nprint(1)\n")
    shell.run_cell("%%stage train -f --no-run\nprint(1)\n")
    text = (project / "dvc.yaml").read_text()
    assert text.startswith("# my pipeline\n") and "python stages/train.py" in text
    with pytest.raises(
        JupyterExpError, match="^%%stage outs: '../escape.txt' leaves the project; use a path inside it.$"
    ):
        shell.run_cell("%%stage bad -o ../escape.txt --no-run\nprint(1)\n")
    with pytest.raises(JupyterExpError, match="Invalid stage name 'a/b'"):
        shell.run_cell("%%stage a/b --no-run\nprint(1)\n")


def test_every_verb_of_the_parser_is_known_to_the_fast_path():
    from jupyter_exp.cli import VERBS, build_parser

    parser = build_parser()
    choices = set(parser._subparsers._group_actions[0].choices)
    assert choices == VERBS


def test_a_kernel_interrupt_stops_a_foreground_run_and_loses_nothing(ran):
    """A real kernel (jupyter_client): Kernel > Interrupt during `%exp run` stops the
    stage's processes, records nothing, releases the project, and the kernel goes on."""
    import time

    from jupyter_client.manager import start_new_kernel

    (ran / "train.py").write_text("import time\ntime.sleep(60)\n" + (ran / "train.py").read_text())
    git(ran, "commit", "-qam", "a long training")
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ran))
    try:
        kc.execute_interactive("%load_ext jupyter_exp", timeout=60)
        msg_id = kc.execute("%exp run -S train.lr=0.9 -n cut")
        record = ran / ".dvc/tmp/jupyter_exp/running-stage"
        deadline = time.monotonic() + 60
        while not record.exists():  # train's command started (prepare is up to date)
            assert time.monotonic() < deadline, "the stage never started"
            time.sleep(0.05)
        wait_for_command(ran, "train.py")  # the stage's python runs, inside the group recorded
        pgid = int(record.read_text().split()[0])
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=60)
        while reply["parent_header"].get("msg_id") != msg_id:
            reply = kc.get_shell_msg(timeout=60)
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        with pytest.raises(ProcessLookupError):
            os.killpg(pgid, 0)  # the stage's process group was stopped with the kernel's run
        assert git(ran, "for-each-ref", "refs/exps") == ""  # nothing half recorded
        (ran / "train.py").write_text((ran / "train.py").read_text().replace("time.sleep(60)", "time.sleep(0)"))
        out = kc.execute_interactive("%exp run -S train.lr=0.9 -n after", timeout=120)
        assert out["content"]["status"] == "ok"  # the project lock was released
        assert "after" in git(ran, "for-each-ref", "--format=%(refname)", "refs/exps")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
