"""Writes notebooks/quickstart.ipynb (kept in git; rerun this after editing the cells)."""

from nbformat.v4 import new_code_cell, new_markdown_cell
from notebook_files import write_notebook

PREPARE = """import csv, json, yaml
split = yaml.safe_load(open("params.yaml"))["prepare"]["split"]
rows = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(open("data/points.csv"))]
cut = int(len(rows) * split)
json.dump({"train": rows[:cut], "test": rows[cut:]}, open("split.json", "w"))
print(f"{cut} training points, {len(rows) - cut} test points")"""

TRAIN = """import json, yaml
p = yaml.safe_load(open("params.yaml"))["train"]
data = json.load(open("split.json"))
w = b = 0.0
curve = ["epoch,loss"]
for epoch in range(p["epochs"]):
    gw = sum((w * x + b - y) * x for x, y in data["train"]) / len(data["train"])
    gb = sum((w * x + b - y) for x, y in data["train"]) / len(data["train"])
    w, b = w - p["lr"] * gw, b - p["lr"] * gb
    loss = sum((w * x + b - y) ** 2 for x, y in data["train"]) / len(data["train"])
    curve.append(f"{epoch},{loss:.6f}")
open("loss.csv", "w").write("\\n".join(curve) + "\\n")
mse = sum((w * x + b - y) ** 2 for x, y in data["test"]) / len(data["test"])
json.dump({"w": w, "b": b}, open("model.json", "w"))
json.dump({"mse": round(mse, 6)}, open("metrics.json", "w"))
print(f"w={w:.3f} b={b:.3f} mse={mse:.4f}")"""

CELLS = [
    new_markdown_cell(
        "# jupyter_exp quick start\n\n"
        "A small real pipeline, built and iterated from this notebook: generate data, make two "
        "`%%stage` cells, run experiments, compare them, apply the best and keep it on a branch. "
        "The project lives in a fresh git repository (a temporary folder unless "
        "`JUPYTER_EXP_QUICKSTART_DIR` names one), so the notebook never touches the repository it "
        "ships in. It is plain DVC 3: `dvc repro` and `dvc exp show` work on the same project."
    ),
    new_code_cell(
        "import os, subprocess, tempfile\n"
        "from pathlib import Path\n\n"
        "project = Path(os.environ.get('JUPYTER_EXP_QUICKSTART_DIR') "
        "or tempfile.mkdtemp(prefix='jupyter-exp-quickstart-'))\n"
        "project.mkdir(parents=True, exist_ok=True)\n"
        "os.chdir(project)\n"
        "subprocess.run(['git', 'init', '-q'], check=True)\n"
        "if not subprocess.run(['git', 'config', 'user.email'], capture_output=True).stdout:\n"
        "    subprocess.run(['git', 'config', 'user.email', 'quickstart@example.com'], check=True)\n"
        "    subprocess.run(['git', 'config', 'user.name', 'Quick Start'], check=True)\n"
        "print('project:', project)\n\n"
        "%load_ext jupyter_exp\n"
        "%dvc init"
    ),
    new_markdown_cell(
        "## Data and params\n\nA synthetic regression data set (`y = 3x + 2 + noise`), "
        "tracked in the cache like `dvc add`."
    ),
    new_code_cell(
        "import random\n\n"
        "rng = random.Random(0)\n"
        "Path('data').mkdir(exist_ok=True)\n"
        "with open('data/points.csv', 'w') as f:\n"
        "    f.write('x,y\\n')\n"
        "    for _ in range(200):\n"
        "        x = rng.uniform(-1, 1)\n"
        "        f.write(f'{x:.5f},{3 * x + 2 + rng.gauss(0, 0.1):.5f}\\n')\n"
        "%dvc add data/points.csv"
    ),
    new_code_cell(
        "%%writefile params.yaml\n"
        "# Parameters of the quick-start pipeline\n"
        "prepare:\n"
        "  split: 0.8   # share of points used for training\n"
        "train:\n"
        "  lr: 0.1\n"
        "  epochs: 20\n"
    ),
    new_markdown_cell(
        "## Stages\n\nEach `%%stage` cell becomes a script (`stages/NAME.py`) and a stage in "
        "`dvc.yaml`, and runs right away, its output streaming here. Re-run a cell after editing it "
        "and the stage is updated."
    ),
    new_code_cell(f"%%stage prepare -d data/points.csv -p prepare -o split.json\n{PREPARE}"),
    new_code_cell(
        f"%%stage train -d split.json -p train -o model.json -M metrics.json --plots-no-cache loss.csv\n{TRAIN}"
    ),
    new_code_cell("!git add -A && git commit -q -m 'baseline pipeline' && echo committed"),
    new_markdown_cell(
        "## Experiments\n\nEach run is a commit under `refs/exps/`; HEAD does not move. `-S` changes a param "
        "for the run by editing `params.yaml` in the workspace, exactly as `dvc exp run -S` does, and the run's "
        "results stay in the workspace too."
    ),
    new_code_cell("%exp run -S train.lr=0.3 -S train.epochs=40 -n fast-lr"),
    new_markdown_cell(
        "`params.yaml` now says `lr: 0.3` and `epochs: 40`: the workspace holds `fast-lr`. A next run starts from "
        "there, so without a word every later experiment would also train 40 epochs. Put the baseline's params "
        "back first (or give every param that matters with `-S`):"
    ),
    new_code_cell("!git checkout -- params.yaml && grep -A2 '^train:' params.yaml"),
    new_code_cell("import jupyter_exp\n\nlr = 0.05\n%exp run -S train.lr={lr} -n slow-lr"),
    new_markdown_cell(
        "## A sweep in the background\n\nQueued experiments are snapshots of the workspace as it is now "
        "(`slow-lr`'s params: 20 epochs), each with its own `lr`; `%exp queue start -j 2` runs them two at a "
        "time in a background thread, each in a directory of its own, while this notebook stays usable."
    ),
    new_code_cell("%exp run --queue -S 'train.lr=0.01,0.2,0.5' -n sweep"),
    new_code_cell("%exp queue start -j 2"),
    new_code_cell("jupyter_exp.queue_wait(timeout=300)"),
    new_markdown_cell(
        "## The experiment table\n\n"
        "Click a header to sort (shift+click adds a second key), add filters, star rows, "
        "pick the columns. Select rows for **Diff**, **Compare** or **Plot**; **Apply**, **Branch…**, "
        "**Rename…**, **Remove**, **Push** and **Queue again…** act on them. Your choices are "
        "kept for this project. The table follows running experiments by itself: queue more "
        "and start the queue again, and watch them come in."
    ),
    new_code_cell("%exp show"),
    new_markdown_cell(
        "## Compare\n\n`%exp diff` with two experiments is DVC's `exp diff`; with more it shows only the "
        "params and metrics that differ, each with its difference (Δ) from the first (or `--reference`)."
    ),
    new_code_cell("%exp diff slow-lr fast-lr"),
    new_code_cell("%exp diff slow-lr fast-lr sweep-1 sweep-2 sweep-3"),
    new_code_cell('jupyter_exp.compare(["slow-lr", "fast-lr", "sweep-3"], reference="slow-lr")'),
    new_markdown_cell(
        "## Plots\n\nThe training curve `loss.csv` is a DVC plot (`%%stage ... --plots-no-cache loss.csv`); "
        "`%exp plots diff` overlays it for any experiments, drawn with DVC's own templates."
    ),
    new_code_cell("%exp plots diff slow-lr fast-lr sweep-3"),
    new_markdown_cell(
        "## Notes and tags\n\nA note and tags on an experiment are kept in git (`refs/notes/jupyter-exp`), "
        "travel with `%exp push` / `%exp pull`, and show as columns of the table and of `exp show`."
    ),
    new_code_cell('%exp note fast-lr "lr 0.3 for 40 epochs: the longest run" --tag candidate'),
    new_code_cell(
        'df = jupyter_exp.show()\ndf[df.kind == "experiment"][["experiment", "note", "tags", "metrics.mse"]]'
    ),
    new_markdown_cell(
        "## In JupyterLab\n\nThe same table lives in JupyterLab's **Experiments** tab: open it from the "
        "command palette with **Open experiments**."
    ),
    new_markdown_cell("## Keep the best"),
    new_code_cell(
        "df = jupyter_exp.show()\n"
        "best = df[df.kind == 'experiment'].sort_values('metrics.mse').iloc[0]['experiment']\n"
        "print('best:', best)\n"
        "%exp apply {best}"
    ),
    new_code_cell("%exp branch {best} best-model"),
    new_code_cell("%exp metrics show"),
]


def main() -> None:
    write_notebook(CELLS, "quickstart.ipynb")


if __name__ == "__main__":
    main()
