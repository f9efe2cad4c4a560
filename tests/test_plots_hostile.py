"""Hostile inputs to ``plots``: each is one line (a refusal, or the plot skipped with
its error, as DVC skips a file it cannot read), and nothing in the project or around
it changes (tests/safety.py's Snapshot). The secret beside the project never shows
in any output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import git, make_repo
from safety import Snapshot

import jupyter_exp
from jupyter_exp.errors import JupyterExpError, PathError
from jupyter_exp.plots.display import static_svg
from jupyter_exp.plots.templates import TemplateError

SECRET = "s3cr3t-value"
TEMPLATE = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": "<DVC_METRIC_DATA>"},
    "mark": "line",
    "encoding": {"x": {"field": "<DVC_METRIC_X>"}, "y": {"field": "<DVC_METRIC_Y>"}},
}


@pytest.fixture
def hostile(tmp_path: Path, monkeypatch) -> Path:
    """A project with one good plot; beside it, a secret TSV and a valid template."""
    (tmp_path / "secret.tsv").write_text(f"step\tvalue\n0\t{SECRET}\n")
    (tmp_path / "outside.json").write_text(json.dumps(TEMPLATE))
    root = make_repo(
        tmp_path / "p",
        {"loss.tsv": "step\tloss\n0\t1\n1\t0.5\n", "dvc.yaml": "plots:\n- loss.tsv\n"},
    )
    monkeypatch.chdir(root)
    return root


def one_line(text: str) -> str:
    assert text and "\n" not in text.strip(), text
    return text.strip()


def refused(cli, *args: str) -> str:
    """The CLI's one error line for a refused command (exit 1)."""
    out = cli(*args, check=False)
    assert out.returncode == 1 and out.stdout == "", (out.stdout, out.stderr)
    return one_line(out.stderr)


def use_template(root: Path, name: str) -> None:
    (root / "dvc.yaml").write_text(f"plots:\n- loss.tsv:\n    template: {name}\n")
    git(root, "commit", "-qam", f"template {name}")


@pytest.mark.parametrize(
    "name, problem",
    [
        ("../outside.json", "is outside the project"),  # from the current directory
        ("../../../outside.json", "is outside the project"),  # from .dvc/plots
        ("../../../outside", "is outside the project"),  # .json added, as DVC adds it
        ("../config", "leaves .dvc/plots/"),  # .dvc/config: inside the project, not a template
    ],
)
def test_a_template_outside_the_project_is_refused(hostile, tmp_path, cli, name, problem):
    (hostile / ".dvc" / "plots").mkdir()  # the project's templates, where names are looked up first
    (hostile / ".dvc" / "plots" / "mine.json").write_text(json.dumps(TEMPLATE))
    git(hostile, "add", "-A")
    git(hostile, "commit", "-qm", "a template of its own")
    before = Snapshot.take(hostile, outside=[tmp_path])
    line = refused(cli, "plots", "show", "--json", "-t", name)
    assert line.startswith(f"ERROR: Template '{name}'") and problem in line
    before.assert_unchanged()
    use_template(hostile, name)  # the same name from dvc.yaml
    before = Snapshot.take(hostile, outside=[tmp_path])
    with pytest.raises(TemplateError, match=problem):
        jupyter_exp.plots_show().to_json()
    assert problem in refused(cli, "plots", "show")
    before.assert_unchanged()


@pytest.mark.parametrize(
    "content, problem",
    [
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        (json.dumps({"mark": "line", "data": {"values": []}}), "does not use the <DVC_METRIC_DATA> anchor"),
        ("[" * 100_000 + "]" * 100_000, "is not valid JSON"),
        (b"\xff\xfe{}", "is not UTF-8"),
        (json.dumps({"<DVC_METRIC_DATA>": 1, "mark": "line"}), "fix the template"),  # the anchor, but as a key
    ],
    ids=["not-json", "a-list", "no-anchor", "deep", "not-utf8", "anchor-as-key"],
)
def test_a_crafted_project_template_is_one_line(hostile, tmp_path, cli, content, problem):
    plots = hostile / ".dvc" / "plots"
    plots.mkdir()
    (plots / "evil.json").write_bytes(content if isinstance(content, bytes) else content.encode())
    use_template(hostile, "evil")
    before = Snapshot.take(hostile, outside=[tmp_path])
    line = refused(cli, "plots", "show", "--json")
    assert line.startswith("ERROR:") and problem in line
    with pytest.raises(TemplateError, match=problem):
        jupyter_exp.plots_show().specs  # noqa: B018
    before.assert_unchanged()


def test_a_project_template_that_links_out_is_refused(hostile, tmp_path, cli):
    plots = hostile / ".dvc" / "plots"
    plots.mkdir()
    (plots / "evil.json").symlink_to(tmp_path / "outside.json")
    use_template(hostile, "evil")
    before = Snapshot.take(hostile, outside=[tmp_path])
    assert "is outside the project" in refused(cli, "plots", "show", "--json")
    before.assert_unchanged()


def test_a_template_that_fetches_data_draws_without_it(hostile, tmp_path):
    """A template may name data by URL (DVC passes it on, and so do we: it is the
    user's browser that fetches); the static PNG/SVG we draw fetches nothing."""
    fetching = dict(TEMPLATE, layer=[{"data": {"url": f"file://{tmp_path}/secret.json"}, "mark": "text"}])
    (tmp_path / "secret.json").write_text(json.dumps([{"v": SECRET}]))
    fetching["layer"][0]["encoding"] = {"text": {"field": "v"}}
    (hostile / ".dvc" / "plots").mkdir()
    (hostile / ".dvc" / "plots" / "fetch.json").write_text(json.dumps(fetching))
    use_template(hostile, "fetch")
    spec = jupyter_exp.plots_show().specs["loss.tsv"]
    assert spec["layer"][0]["data"]["url"].endswith("secret.json")
    assert SECRET not in (static_svg(spec) or "")


def test_a_plot_file_that_links_out_is_skipped_in_one_line(hostile, tmp_path, cli):
    (hostile / "leak.tsv").symlink_to(tmp_path / "secret.tsv")
    (hostile / "dvc.yaml").write_text("plots:\n- loss.tsv\n- leak.tsv\n")
    git(hostile, "add", "-A")
    git(hostile, "commit", "-qm", "a link out")
    before = Snapshot.take(hostile, outside=[tmp_path])
    out = cli("plots", "show", "--json")
    shown = json.loads(out.stdout)
    assert shown["data"]["leak.tsv"] == [] and shown["data"]["loss.tsv"]
    (error,) = shown["errors"]
    assert error["type"] == "PathError" and "outside the project" in one_line(error["msg"])
    assert SECRET not in out.stdout + out.stderr
    out = cli("plots", "show", "-o", str(tmp_path / "page"))
    assert one_line(out.stderr).startswith("WARNING: leak.tsv skipped (leak.tsv at workspace)")
    assert SECRET not in (tmp_path / "page" / "index.html").read_text()
    # At a commit git holds the link itself, never what it points to.
    assert SECRET not in cli("plots", "diff", "HEAD", "--json").stdout
    (tmp_path / "page" / "index.html").unlink()
    (tmp_path / "page").rmdir()
    before.assert_unchanged()


@pytest.mark.parametrize("path", ["../secret.tsv", "/{tmp}/secret.tsv", ".git/config", ".dvc/config"])
def test_plot_paths_outside_the_project_or_in_its_machinery_are_skipped(hostile, tmp_path, cli, path):
    path = path.format(tmp=str(tmp_path).lstrip("/"))
    (hostile / "dvc.yaml").write_text(f"plots:\n- loss.tsv\n- {path}\n")
    before = Snapshot.take(hostile, outside=[tmp_path])
    out = cli("plots", "show", "--json")
    (error,) = json.loads(out.stdout)["errors"]
    assert error["type"] == "PathError" and one_line(error["msg"])
    assert SECRET not in out.stdout and "[core]" not in out.stdout
    before.assert_unchanged()


def test_a_target_outside_the_project_is_refused(hostile, tmp_path, cli):
    before = Snapshot.take(hostile, outside=[tmp_path])
    line = refused(cli, "plots", "show", "../secret.tsv")
    assert line == "ERROR: Plots target '../secret.tsv' is outside the project; name a file inside it."
    with pytest.raises(PathError):
        jupyter_exp.plots_diff("HEAD", targets=[str(tmp_path / "secret.tsv")])
    before.assert_unchanged()


def test_a_non_utf8_tsv_is_skipped_as_dvc_skips_it(hostile, tmp_path, cli):
    (hostile / "loss.tsv").write_bytes(b"step\tloss\n0\t\xff\n")
    before = Snapshot.take(hostile, outside=[tmp_path])
    shown = json.loads(cli("plots", "show", "--json").stdout)
    assert shown["errors"] == [
        {
            "name": "loss.tsv",
            "rev": "workspace",
            "source": "loss.tsv",
            "type": "EncodingError",
            "msg": "unable to read: 'loss.tsv', is not valid utf8",
        }
    ]
    before.assert_unchanged()


@pytest.mark.parametrize(
    "dvc_yaml, problem",
    [
        ("plots: {loss.tsv: {}}\n", "must be a list"),
        ("plots:\n- loss.tsv:\n    colour: red\n", "unknown property 'colour'"),
        ("plots:\n- loss.tsv:\n    y: {loss.tsv: 3}\n", "y must be a field"),
        ("stages:\n  s:\n    cmd: echo\n    plots:\n    - ../secret.tsv\n", "leaves the project"),
        ("plots: [\n", "fix the YAML syntax"),
    ],
    ids=["not-a-list", "unknown-prop", "bad-y", "stage-plot-outside", "broken-yaml"],
)
def test_broken_definitions_fail_their_revision_in_one_line(hostile, tmp_path, cli, dvc_yaml, problem):
    (hostile / "dvc.yaml").write_text(dvc_yaml)
    before = Snapshot.take(hostile, outside=[tmp_path])
    out = cli("plots", "diff", "HEAD", "--json")
    shown = json.loads(out.stdout)
    assert [e["rev"] for e in shown["errors"]] == ["workspace"]  # HEAD's dvc.yaml is fine
    assert problem in one_line(shown["errors"][0]["msg"])
    assert shown["data"]["loss.tsv"][0]["revisions"] == ["HEAD"]
    before.assert_unchanged()


def test_unknown_revisions_templates_and_html_templates_are_one_line(hostile, tmp_path, cli):
    before = Snapshot.take(hostile, outside=[tmp_path])
    assert refused(cli, "plots", "diff", "nope").startswith("ERROR: Unknown experiment or revision 'nope'")
    assert refused(cli, "plots", "show", "-t", "nope", "--json").startswith("ERROR: Template 'nope' not found")
    with pytest.raises(JupyterExpError, match="Template 'nope' not found"):
        jupyter_exp.plots_show(template="nope").specs  # noqa: B018
    (hostile / ".dvc" / "config").write_text("[plots]\n    html_template = ../../outside.json\n")
    git(hostile, "commit", "-qam", "an html template outside")
    before = Snapshot.take(hostile, outside=[tmp_path])
    assert "is outside the project" in refused(cli, "plots", "show")
    before.assert_unchanged()


def test_the_dvc_yaml_listing_kept_per_commit_is_used_and_a_broken_one_ignored(hostile, tmp_path, cli):
    """``plots diff`` keeps each commit's dvc.yaml paths on disk (a commit never changes):
    the next command lists no tree with git; a broken or foreign file is read as empty."""
    (hostile / "sub").mkdir()
    (hostile / "sub" / "dvc.yaml").write_text("plots:\n- w.tsv\n")
    (hostile / "sub" / "w.tsv").write_text("step\tw\n0\t3\n")
    git(hostile, "add", "-A")
    git(hostile, "commit", "-qm", "a second pipeline")
    head = git(hostile, "rev-parse", "HEAD").strip()
    first = json.loads(cli("plots", "diff", "HEAD", "HEAD~1", "--json").stdout)
    assert set(first["data"]) == {"loss.tsv", "sub/w.tsv"}
    kept_file = hostile / ".dvc" / "tmp" / "jupyter_exp" / "dvcfiles.json"
    kept = json.loads(kept_file.read_text())
    assert kept[head] == ["dvc.yaml", "sub/dvc.yaml"]
    # What is kept is what is used: a listing without sub/dvc.yaml leaves its plot out.
    kept[head] = ["dvc.yaml"]
    kept_file.write_text(json.dumps(kept))
    assert set(json.loads(cli("plots", "diff", "HEAD", "HEAD~1", "--json").stdout)["data"]) == {"loss.tsv"}
    for broken in ("{not json", json.dumps({head: "dvc.yaml"}), json.dumps([1, 2])):
        kept_file.write_text(broken)
        assert json.loads(cli("plots", "diff", "HEAD", "HEAD~1", "--json").stdout) == first
        assert json.loads(kept_file.read_text())[head] == ["dvc.yaml", "sub/dvc.yaml"]  # rewritten
