from pathlib import Path

import pytest
from conftest import git

import jupyter_exp
from jupyter_exp.errors import NotAGitRepoError, NotAProjectError


def test_init_creates_dvc_layout_and_stages_it(git_repo: Path):
    jupyter_exp.init()
    assert (git_repo / ".dvc" / "config").read_text() == ""
    assert (git_repo / ".dvc" / ".gitignore").read_text() == "/config.local\n/tmp\n/cache\n"
    assert (git_repo / ".dvcignore").exists()
    staged = git(git_repo, "diff", "--cached", "--name-only").split()
    assert staged == [".dvc/.gitignore", ".dvc/config", ".dvcignore"]


def test_init_twice_is_harmless(git_repo: Path):
    jupyter_exp.init()
    (git_repo / ".dvc" / "config").write_text("[core]\n    remote = x\n")
    jupyter_exp.init()
    assert (git_repo / ".dvc" / "config").read_text() == "[core]\n    remote = x\n"


def test_init_outside_git_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cli, jdvc):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotAGitRepoError, match="not inside a git repository; run `git init`"):
        jupyter_exp.init()
    proc = jdvc("init", check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert "not inside a git repository" in proc.stderr
    assert not (tmp_path / ".dvc").exists()


def test_commands_outside_a_project_say_init(git_repo: Path, cli):
    with pytest.raises(NotAProjectError, match="run `jupyter dvc init`"):
        jupyter_exp.repro()
    proc = cli("repro", check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("ERROR: ") and proc.stderr.count("\n") == 1


def test_cli_is_a_jupyter_subcommand(project: Path):
    import shutil
    import subprocess

    jupyter = shutil.which("jupyter")
    assert jupyter, "jupyter_core provides the `jupyter` command"
    out = subprocess.run([jupyter, "exp", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"jupyter_exp {jupyter_exp.__version__}"


def test_import_is_cheap_and_light():
    import subprocess
    import sys

    code = (
        "import sys, jupyter_exp; "
        "heavy = [m for m in ('IPython', 'pandas', 'git', 'ruamel', 'hydra', 'ipywidgets') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_public_surface_is_pinned():
    # What the package offers is pinned by name (a rename or a loss fails here) ...
    assert {
        "JupyterExpError",
        "__version__",
        "add",
        "add_stage",
        "apply",
        "apply_params",
        "branch",
        "checkout",
        "diff",
        "expand_sweeps",
        "gc",
        "init",
        "live",
        "ls",
        "make_checkpoint",
        "metrics_diff",
        "metrics_show",
        "params_diff",
        "pull",
        "push",
        "queue_kill",
        "queue_logs",
        "queue_remove",
        "queue_retry",
        "queue_start",
        "queue_status",
        "queue_stop",
        "queue_wait",
        "remove",
        "rename",
        "repro",
        "run",
        "save",
        "show",
        "show_table",
    } <= set(jupyter_exp.__all__)
    for name in jupyter_exp.__all__:
        assert hasattr(jupyter_exp, name), name
    assert len(set(jupyter_exp.__all__)) == len(jupyter_exp.__all__)


def _api_modules():
    import importlib
    import pkgutil

    import jupyter_exp.api

    return [
        importlib.import_module(f"jupyter_exp.api.{m.name}") for m in pkgutil.iter_modules(jupyter_exp.api.__path__)
    ]


def test_all_is_the_api_modules_own_public_names():
    """``__all__`` is checked against what the api modules define, not a hand-typed list:
    each api module's ``__all__`` is exactly its public functions, every one is exported
    by the package under the same name, and is that very function."""
    import inspect

    exported = set(jupyter_exp.__all__)
    for module in _api_modules():
        own = {
            name
            for name, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
        }
        assert set(module.__all__) == own, module.__name__
        assert own <= exported, (module.__name__, own - exported)
        for name in own:
            assert getattr(jupyter_exp, name) is getattr(module, name), name
    # Nothing is exported that neither an api module, the package, nor the list of
    # result and error types below accounts for.
    accounted = set().union(*(set(m.__all__) for m in _api_modules()))
    extra = {n for n in exported - accounted if not isinstance(getattr(jupyter_exp, n), type)}
    assert extra == {"__version__", "live", "make_checkpoint", "load_ipython_extension"}, extra


def test_result_and_error_types_a_user_receives_are_exported():
    """Every class an api function is annotated to return (or take), and every
    user-facing error of the engine, can be named from the package."""
    import typing

    import pandas

    from jupyter_exp.errors import JupyterExpError
    from jupyter_exp.experiments import exceptions
    from jupyter_exp.widgets.table import ExperimentTableWidget

    exported = set(jupyter_exp.__all__)
    # Annotations are resolved from the package's exports alone (plus typing, pandas and
    # the widget): one that names a type the package does not export cannot resolve.
    names = vars(typing) | {"pandas": pandas, "ExperimentTableWidget": ExperimentTableWidget}
    names |= {name: getattr(jupyter_exp, name) for name in exported}
    returned = set()
    for module in _api_modules():
        for name in module.__all__:
            try:
                hints = typing.get_type_hints(getattr(module, name), names)
            except NameError as exc:
                raise AssertionError(f"{module.__name__}.{name}: {exc} (export it from jupyter_exp)") from None
            for hint in hints.values():
                for arg in typing.get_args(hint) or (hint,):
                    for inner in typing.get_args(arg) or (arg,):
                        if isinstance(inner, type) and inner.__module__.startswith("jupyter_exp"):
                            returned.add(inner)
    assert returned, "no annotated result types found"
    for cls in returned:
        if cls.__name__ == "ExperimentTableWidget":
            continue  # a widget: what show_table returns, displayed rather than named
        assert cls.__name__ in exported and getattr(jupyter_exp, cls.__name__) is cls, cls
    # Every error the engine defines (whichever module holds it) can be caught by name;
    # the front ends' own (the CLI's usage errors, the table's filter errors) stay theirs.
    import importlib
    import pkgutil

    front_ends = ("jupyter_exp.cli", "jupyter_exp.table", "jupyter_exp.widgets", "jupyter_exp.server")
    # Narrow kinds callers catch by their exported base: a revision's output missing from the
    # cache (a row's error), a plot field missing from a file, a remote lacking an object, no
    # DVC remote configured, a config name DVC does not know.
    internal = {
        "NotInCache": "CacheError",
        "FieldNotFoundError": "PlotDataError",
        "ObjectMissing": "DataRemoteError",
        "NoRemoteError": "RemoteConfigError",
        "ConfigNameError": "ConfigError",  # `dvc config` of a section or option DVC does not have
        "ChangedError": "JupyterExpError",  # `status -q`'s exit status 1: a signal, no message
    }
    for info in pkgutil.walk_packages(jupyter_exp.__path__, "jupyter_exp."):
        if info.name.startswith(front_ends) or info.name in ("jupyter_exp.magics", "jupyter_exp.display"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, type) and issubclass(value, JupyterExpError) and value.__module__ == module.__name__:
                if name in internal:
                    assert issubclass(value, getattr(jupyter_exp, internal[name])), name
                    continue
                assert name in exported and getattr(jupyter_exp, name) is value, (module.__name__, name)
    assert exceptions.ExperimentExistsError is jupyter_exp.ExperimentExistsError


def test_one_function_per_run_mode(make_project):
    """run / run_temp / queue / run_all each return their own type; the old mode keywords
    of run() still dispatch to them; api errors name keywords, not the CLI's flags."""
    from jupyter_exp.errors import JupyterExpError

    root = make_project("two_stage")
    exp = jupyter_exp.run_temp(params={"train.lr": 0.7}, name="t1", root=str(root))
    assert isinstance(exp, jupyter_exp.Experiment) and exp.name == "t1"
    entries = jupyter_exp.queue(set_params=["train.lr=0.1,0.2"], name="sw", root=str(root))
    assert [type(e) for e in entries] == [jupyter_exp.QueueEntry] * 2
    outcomes = jupyter_exp.run_all(1, root=str(root))
    assert len(outcomes) == 2 and all(isinstance(o, jupyter_exp.Outcome) for o in outcomes)
    assert isinstance(jupyter_exp.run(name="w1", root=str(root)), jupyter_exp.Experiment)
    # The deprecated keywords: the same functions behind them.
    (entry,) = jupyter_exp.run(queue=True, name="q1", root=str(root))
    assert isinstance(entry, jupyter_exp.QueueEntry) and entry.name == "q1"
    for kwargs, words in (
        ({"rev": "t1"}, "rev resumes a checkpoint in a queued or temporary run"),
        ({"executor": "dask"}, "executor applies to run_all()"),
        ({"dry": True, "queue": True}, "dry=True shows what a workspace run would do"),
    ):
        with pytest.raises(JupyterExpError) as err:
            jupyter_exp.run(root=str(root), **kwargs)
        assert str(err.value).startswith(words) and "--" not in str(err.value)
    with pytest.raises(JupyterExpError, match=r"^jobs must be a whole number of 1 or more, got 0; pass 1 or more\.$"):
        jupyter_exp.run_all(0, root=str(root))


def test_params_diff_takes_an_experiment_name(make_project):
    """As DVC's ``params diff``: an experiment name stands for its commit."""
    root = make_project("two_stage")
    jupyter_exp.run(params={"train.lr": 0.5}, name="fast", root=str(root))
    rows = jupyter_exp.params_diff("HEAD", "fast", root=str(root))
    assert [(r.key, r.new) for r in rows] == [("train.lr", 0.5)]


def test_show_text_is_answered_from_the_show_cache(make_project, monkeypatch):
    """The exp show output cache lives below the CLI: a Python caller of show_text gets it."""
    from jupyter_exp.experiments import show

    root = make_project("two_stage")
    jupyter_exp.run(params={"train.lr": 0.5}, name="fast", root=str(root))
    options = jupyter_exp.ShowOptions()
    first = jupyter_exp.show_text(options, "json", root=str(root))
    assert '"name": "fast"' in first or '"name":"fast"' in first.replace(" ", "")

    def no_collect(*args, **kwargs):
        raise AssertionError("collected again although nothing moved")

    monkeypatch.setattr(show, "select", no_collect)
    assert jupyter_exp.show_text(options, "json", root=str(root)) == first
    with pytest.raises(AssertionError, match="collected again"):
        jupyter_exp.show_text(options._replace(force=True), "json", root=str(root))
