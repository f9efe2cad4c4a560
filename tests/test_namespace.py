"""The command namespace (issue 17): ``jupyter dvc ARGS`` is ``dvc ARGS``, ``jupyter exp ARGS``
is ``dvc exp ARGS``; no verb means two things; old pipeline spellings under ``exp`` fail
with one line naming the new one; ``%dvc`` works in a real kernel."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from safety import Snapshot

from jupyter_exp.cli import COMMANDS, build_parser, verbs_of

# A DVC user's day-one command lines: each runs as `jupyter dvc` + the same words.
DVC_LINES = [
    "init",
    "add data.csv",
    "checkout",
    "repro",
    "status",
    "status --json",
    "status -c",
    "dag",
    "dag --mermaid",
    "dag --md",
    "dag --dot",
    "dag -o",
    "stage add -n train -d data.csv -o model.pkl python train.py",
    "config core.remote store",
    "config -l",
    "doctor",
    "remote add -d store /tmp/store",
    "remote list",
    "push",
    "pull",
    "fetch",
    "gc -w -f",
    "params diff",
    "metrics show",
    "metrics diff",
    "plots show",
    "queue status",
    "exp run -S train.lr=0.1",
    "exp show",
    "exp diff",
    "exp apply e1",
    "exp push origin",
    "exp pull origin",
    "exp remove e1",
    "exp list",
    "exp branch e1 b",
    "exp rename e1 e2",
    "exp save -n s",
]


def _subparsers(parser) -> dict:
    return parser._subparsers._group_actions[0].choices


def _parse(space: str, words: list[str]):
    """The handler ``words`` reach in ``space`` (``exp`` under ``dvc`` opens the exp parser)."""
    if space == "dvc" and words[0] == "exp":
        return _parse("exp", words[1:])
    args = build_parser(space=space, only=words[0]).parse_args(words)
    return args.func


@functools.cache
def _real_verbs(dvc_exe: Path, *group: str) -> frozenset[str]:
    """The sub-commands (and their aliases) real DVC lists in ``dvc [GROUP] --help``."""
    import subprocess

    out = subprocess.run([str(dvc_exe), *group, "--help"], capture_output=True, text=True, check=True).stdout
    marker = "Available Commands:" if "Available Commands:" in out else "positional arguments:"
    listing = out.split(marker, 1)[1].split("\n\n", 1)[0]
    found = set()
    for match in re.finditer(r"^ {2,6}([a-z][a-z-]*)(?: \(([a-z, -]+)\))?(?: {2,}|$)", listing, re.M):
        found.add(match.group(1))
        found.update(a.strip() for a in (match.group(2) or "").split(",") if a.strip())
    assert len(found) > 8, out
    return frozenset(found)


@pytest.mark.parametrize("line", DVC_LINES)
def test_every_dvc_line_maps_by_substitution(line, dvc_exe):
    words = line.split()
    real = _real_verbs(dvc_exe, *(["exp"] if words[0] == "exp" else []))
    verb = words[1] if words[0] == "exp" else words[0]
    assert verb in real, f"`dvc {line}` is not a DVC command line"
    assert callable(_parse("dvc", words))
    if words[0] == "exp":  # and `jupyter exp` is the shortcut of `jupyter dvc exp`
        assert _parse("exp", words[1:]) is _parse("dvc", words)


@pytest.mark.parametrize("line", DVC_LINES)
def test_dvcs_global_quiet_and_verbose_flags_are_taken_by_every_line(line, dvc_exe):
    """``dvc -q push``, ``dvc push -q``, ``dvc push -v``: DVC takes its global flags on every
    command line, so the substitution holds with them too (each checked with real DVC's help)."""
    words = line.split()
    verb = words[:2] if words[0] in ("exp", "stage", "remote", "params", "metrics", "plots", "queue") else words[:1]
    import subprocess

    real = subprocess.run([str(dvc_exe), *verb, "--help"], capture_output=True, text=True, check=True).stdout
    assert "-q, --quiet" in real and "-v, --verbose" in real, real
    for flags in (["-q"], ["-v"], ["--quiet"]):
        at = len(verb)
        assert callable(_parse("dvc", [*words[:at], *flags, *words[at:]]))


def test_no_verb_means_two_things(dvc_exe):
    """Walk both parsers: a verb in both namespaces reaches the same handler, unless DVC
    itself has the pair (`dvc push` is data, `dvc exp push` experiments; `gc` as DVC 2's
    `dvc exp gc`); every `exp` verb is a `dvc exp` verb or a documented alias that no
    `dvc exp` verb shadows."""
    dvc_parser, exp_parser = build_parser(space="dvc"), build_parser(space="exp")
    dvc_verbs, exp_verbs = _subparsers(dvc_parser), _subparsers(exp_parser)
    assert set(dvc_verbs) == verbs_of("dvc") and set(exp_verbs) == verbs_of("exp")
    real_top, real_exp = _real_verbs(dvc_exe), _real_verbs(dvc_exe, "exp")
    aliases = set(exp_verbs) - real_exp
    assert aliases == {"repro", "params", "metrics", "plots", "queue", "note", "gc"}, aliases
    for verb in sorted(set(exp_verbs) & set(dvc_verbs)):
        same = exp_verbs[verb].get_default("func") is dvc_verbs[verb].get_default("func")
        if verb in real_top and (verb in real_exp or verb == "gc"):  # DVC's own pairs: push, pull, gc
            assert not same, verb
        else:
            assert same or exp_verbs[verb]._subparsers is not None, verb
    for verb in ("push", "pull"):
        assert verb in real_top and verb in real_exp
    # Every top-level `jupyter dvc` verb is a DVC command (the one-substitution rule).
    assert set(dvc_verbs) - {"exp"} <= real_top, set(dvc_verbs) - real_top
    # The registration is one table: each (namespace, verb) has one row.
    rows = [(space, verb) for space, _, verbs in COMMANDS for verb in verbs]
    assert len(rows) == len(set(rows))


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["add", "data.csv"], "ERROR: `add` is a pipeline verb: `jupyter dvc add data.csv`"),
        (["checkout", "-f"], "ERROR: `checkout` is a pipeline verb: `jupyter dvc checkout -f`"),
        (["init"], "ERROR: `init` is a pipeline verb: `jupyter dvc init`"),
        (["remote", "add", "s", "/x y"], "ERROR: `remote` is a data remote verb: `jupyter dvc remote add s '/x y'`"),
        (["data", "push", "-r", "s"], "ERROR: `data push` is a data verb: `jupyter dvc push -r s`"),
        (["fetch"], "ERROR: `fetch` is a data verb: `jupyter dvc fetch`"),
        (["status"], "ERROR: `status` is a pipeline verb: `jupyter dvc status`"),
        (["dag", "--md"], "ERROR: `dag` is a pipeline verb: `jupyter dvc dag --md`"),
        (["config", "-l"], "ERROR: `config` is a DVC verb: `jupyter dvc config -l`"),
    ],
)
def test_an_old_spelling_under_exp_is_one_line_naming_the_new_one(project, cli, tmp_path, args, line):
    (project / "data.csv").write_text("1\n")
    before = Snapshot.take(project, outside=[tmp_path / "x"])
    proc = cli(*args, check=False)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", line + "\n")
    before.assert_unchanged()


def test_the_kept_aliases_work_under_exp_and_mean_what_they_mean_under_dvc(ran, cli, jdvc):
    assert cli("repro").stdout == jdvc("repro").stdout
    assert cli("metrics", "show").stdout == jdvc("metrics", "show").stdout
    assert cli("params", "diff").stdout == jdvc("params", "diff").stdout
    assert jdvc("exp", "list").stdout == cli("list").stdout


def test_the_data_noun_is_gone_and_its_verbs_are_dvc_verbs(project, jdvc):
    proc = jdvc("data", "push", check=False)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "invalid choice: 'data'" in proc.stderr


def test_dvc_magic_in_a_real_kernel_shows_status_and_draws_the_dag_in_mermaid(ran):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext jupyter_exp"),
        nbformat.v4.new_code_cell("%dvc status"),
        nbformat.v4.new_code_cell("%dvc dag"),
        nbformat.v4.new_code_cell("%exp add x"),
    ]
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(ran)}}
    )
    client.execute()
    status = nb.cells[1]["outputs"][0]["data"]["text/plain"]
    assert status.rstrip("\n") == "Data and pipelines are up to date."
    dag = nb.cells[2]["outputs"][0]["data"]
    assert dag["text/markdown"].startswith("```mermaid\nflowchart TD\n\tnode1[") and dag["text/markdown"].endswith(
        "```"
    )
    assert "+-" in dag["text/plain"]  # DVC's text drawing for a plain-text front end
    error = nb.cells[3]["outputs"][0]
    assert error["output_type"] == "error" and error["evalue"] == "`add` is a pipeline verb: `%dvc add x`"
