"""Writes notebooks/checkpoints.ipynb (kept in git; rerun this after editing the cells)."""

from nbformat.v4 import new_code_cell, new_markdown_cell
from notebook_files import write_notebook

TRAIN = """import json, os, sys, time
import yaml
from jupyter_exp import live

params = yaml.safe_load(open("params.yaml"))["train"]
state = json.load(open("model.json")) if os.path.exists("model.json") else {"epoch": 0, "w": 0.0}
stop_at = int(os.environ.get("STOP_AT_EPOCH", "0"))   # to show an interruption
for epoch in range(state["epoch"], params["epochs"]):
    if epoch + 1 == stop_at:
        sys.exit(f"stopped at epoch {epoch + 1}")
    state = {"epoch": epoch + 1, "w": state["w"] + params["lr"] * (3 - state["w"])}
    json.dump(state, open("model.json", "w"))        # the checkpoint output
    live.log_metric("loss", round((3 - state["w"]) ** 2, 6))
    live.next_step(total=params["epochs"])            # metrics written, a commit made
print("trained to epoch", state["epoch"])"""

CELLS = [
    new_markdown_cell(
        "# Checkpoint experiments\n\n"
        "A training loop that records a checkpoint per epoch: each `live.next_step()` writes "
        "DVCLive-style metrics and makes a commit on the experiment's ref. Interrupt it, and the "
        "next `%exp run` resumes from the last step. (A fresh git repository in a temporary "
        "folder, or `JUPYTER_EXP_CHECKPOINTS_DIR`.)"
    ),
    new_code_cell(
        "import os, subprocess, tempfile\n"
        "from pathlib import Path\n\n"
        "project = Path(os.environ.get('JUPYTER_EXP_CHECKPOINTS_DIR') "
        "or tempfile.mkdtemp(prefix='jupyter-exp-checkpoints-'))\n"
        "project.mkdir(parents=True, exist_ok=True)\n"
        "os.chdir(project)\n"
        "subprocess.run(['git', 'init', '-q'], check=True)\n"
        "if not subprocess.run(['git', 'config', 'user.email'], capture_output=True).stdout:\n"
        "    subprocess.run(['git', 'config', 'user.email', 'checkpoints@example.com'], check=True)\n"
        "    subprocess.run(['git', 'config', 'user.name', 'Checkpoints'], check=True)\n"
        "%load_ext jupyter_exp\n"
        "%dvc init"
    ),
    new_code_cell("%%writefile params.yaml\ntrain:\n  lr: 0.5\n  epochs: 6\n"),
    new_code_cell(
        "%%stage train -p train -c model.json -M dvclive/metrics.json --plots-no-cache dvclive/plots --no-run\n" + TRAIN
    ),
    new_code_cell("!git add -A && git commit -q -m 'checkpoint pipeline' && echo committed"),
    new_markdown_cell("## A run that stops after two epochs\n\nThe two committed steps are kept."),
    new_code_cell("os.environ['STOP_AT_EPOCH'] = '3'\n%exp run -n long", metadata={"tags": ["raises-exception"]}),
    new_code_cell("%exp show"),
    new_markdown_cell("## Resume: the next run goes on from step 2"),
    new_code_cell("del os.environ['STOP_AT_EPOCH']\n%exp run"),
    new_code_cell(
        "import jupyter_exp\n\n"
        "df = jupyter_exp.show()\n"
        "df[df.experiment == 'long'][['experiment', 'kind', 'step', 'metrics.loss']]"
    ),
    new_markdown_cell("## Any step can be applied (or branched)"),
    new_code_cell(
        "step3 = df[(df.experiment == 'long') & (df.step == 3)].rev.item()\n"
        "%exp apply {step3[:10]}\n"
        "print(open('model.json').read())"
    ),
]


def main() -> None:
    write_notebook(CELLS, "checkpoints.ipynb")


if __name__ == "__main__":
    main()
