"""Writes notebooks/quickstart.ipynb (kept in git; rerun this after editing the cells)."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CELLS = [
    new_markdown_cell(
        "# jupyter_exp quick start\n\n"
        "A small real pipeline, reproduced from the notebook: generate data, prepare it, train a "
        "linear model, change a param, compare. The project lives in a fresh git repository "
        "(a temporary folder unless `JUPYTER_EXP_QUICKSTART_DIR` names one), so this notebook "
        "never touches the repository it ships in. Everything here is plain DVC 3 format: `dvc "
        "repro` and `dvc exp show` work on the same project."
    ),
    new_code_cell(
        "import os, subprocess, tempfile\n"
        "from pathlib import Path\n\n"
        "import jupyter_exp\n\n"
        "project = Path(os.environ.get('JUPYTER_EXP_QUICKSTART_DIR') or tempfile.mkdtemp(prefix='jupyter-exp-quickstart-'))\n"
        "project.mkdir(parents=True, exist_ok=True)\n"
        "os.chdir(project)\n"
        "subprocess.run(['git', 'init', '-q'], check=True)\n"
        "if not subprocess.run(['git', 'config', 'user.email'], capture_output=True).stdout:\n"
        "    subprocess.run(['git', 'config', 'user.email', 'quickstart@example.com'], check=True)\n"
        "    subprocess.run(['git', 'config', 'user.name', 'Quick Start'], check=True)\n"
        "jupyter_exp.init()\n"
        "print('project:', project)"
    ),
    new_markdown_cell("## Data, params and stages\n\nA synthetic regression data set (`y = 3x + 2 + noise`), tracked in the cache like `dvc add`."),
    new_code_cell(
        "import random\n\n"
        "rng = random.Random(0)\n"
        "Path('data').mkdir(exist_ok=True)\n"
        "with open('data/points.csv', 'w') as f:\n"
        "    f.write('x,y\\n')\n"
        "    for _ in range(200):\n"
        "        x = rng.uniform(-1, 1)\n"
        "        f.write(f'{x:.5f},{3 * x + 2 + rng.gauss(0, 0.1):.5f}\\n')\n"
        "jupyter_exp.add('data/points.csv')"
    ),
    new_code_cell(
        "Path('params.yaml').write_text('''# Parameters of the quick-start pipeline\n"
        "prepare:\n"
        "  split: 0.8   # share of points used for training\n"
        "train:\n"
        "  lr: 0.1\n"
        "  epochs: 20\n"
        "''')\n\n"
        "Path('prepare.py').write_text('''import csv, json, yaml\n"
        "split = yaml.safe_load(open(\"params.yaml\"))[\"prepare\"][\"split\"]\n"
        "rows = [(float(r[\"x\"]), float(r[\"y\"])) for r in csv.DictReader(open(\"data/points.csv\"))]\n"
        "cut = int(len(rows) * split)\n"
        "json.dump({\"train\": rows[:cut], \"test\": rows[cut:]}, open(\"split.json\", \"w\"))\n"
        "print(f\"{cut} training points, {len(rows) - cut} test points\")\n"
        "''')\n\n"
        "Path('train.py').write_text('''import json, yaml\n"
        "p = yaml.safe_load(open(\"params.yaml\"))[\"train\"]\n"
        "data = json.load(open(\"split.json\"))\n"
        "w = b = 0.0\n"
        "for epoch in range(p[\"epochs\"]):\n"
        "    gw = sum((w * x + b - y) * x for x, y in data[\"train\"]) / len(data[\"train\"])\n"
        "    gb = sum((w * x + b - y) for x, y in data[\"train\"]) / len(data[\"train\"])\n"
        "    w, b = w - p[\"lr\"] * gw, b - p[\"lr\"] * gb\n"
        "mse = sum((w * x + b - y) ** 2 for x, y in data[\"test\"]) / len(data[\"test\"])\n"
        "json.dump({\"w\": w, \"b\": b}, open(\"model.json\", \"w\"))\n"
        "json.dump({\"mse\": round(mse, 6)}, open(\"metrics.json\", \"w\"))\n"
        "print(f\"w={w:.3f} b={b:.3f} mse={mse:.4f}\")\n"
        "''')\n\n"
        "Path('dvc.yaml').write_text('''stages:\n"
        "  prepare:\n"
        "    cmd: python prepare.py\n"
        "    deps: [data/points.csv, prepare.py]\n"
        "    params: [prepare]\n"
        "    outs: [split.json]\n"
        "  train:\n"
        "    cmd: python train.py\n"
        "    deps: [split.json, train.py]\n"
        "    params: [train]\n"
        "    outs: [model.json]\n"
        "    metrics:\n"
        "    - metrics.json:\n"
        "        cache: false\n"
        "''')"
    ),
    new_markdown_cell("## Reproduce\n\nStage output streams into the cell; `dvc.lock` is written in DVC 3's format."),
    new_code_cell("results = jupyter_exp.repro()\n[(r.stage, r.status) for r in results]"),
    new_code_cell("!jupyter exp metrics show"),
    new_code_cell("!git add -A && git commit -q -m 'baseline pipeline' && echo committed"),
    new_markdown_cell("## Change a param: only what depends on it runs"),
    new_code_cell(
        "jupyter_exp.apply_params(['train.lr=0.3', 'train.epochs=40'])\n"
        "[(r.stage, r.status) for r in jupyter_exp.repro()]"
    ),
    new_code_cell("!jupyter exp params diff"),
    new_code_cell("[(r.key, r.old, r.new, r.change) for r in jupyter_exp.metrics_diff()]"),
    new_markdown_cell("## Back to the old params: the run-cache restores instead of training again"),
    new_code_cell(
        "jupyter_exp.apply_params(['train.lr=0.1', 'train.epochs=20'])\n"
        "[(r.stage, r.status) for r in jupyter_exp.repro()]"
    ),
]


def main() -> None:
    nb = new_notebook(cells=CELLS)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = Path(__file__).with_name("quickstart.ipynb")
    nbformat.write(nb, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
