"""The example notebooks run top to bottom in a real kernel (nbclient) in a fresh project."""

import subprocess
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def _text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def _html(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.get("outputs", []))


def test_quickstart_runs_in_a_fresh_project(tmp_path: Path, monkeypatch):
    project = tmp_path / "quickstart"
    monkeypatch.setenv("JUPYTER_EXP_QUICKSTART_DIR", str(project))
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    out = [_text(c) for c in code]
    assert f"project: {project}" in out[0] and "Initialized jupyter_exp" in out[0]
    assert "git add data/.gitignore data/points.csv.dvc" in out[1]
    assert "Running stage 'prepare':" in out[3] and "160 training points, 40 test points" in out[3]
    assert "Running stage 'train':" in out[4] and "mse=" in out[4]
    assert "Reproduced experiment(s): fast-lr" in out[6]
    assert out[7].split() == [
        "train:",
        "lr:",
        "0.1",
        "epochs:",
        "20",
    ]  # the story: params.yaml back at the baseline's before slow-lr
    assert "Reproduced experiment(s): slow-lr" in out[8]
    assert "Queued experiment 'sweep-1' for future execution." in out[9] and "sweep-3" in out[9]
    # The cell's status line was updated in place as the experiments finished.
    assert "Queue (-j 2): 0 running, 0 queued" in out[10] and "3 done" in out[10]
    assert "Success" in out[11] and "sweep-3" in out[11] and "Queued" not in out[11]
    table = {line.split()[2].strip("[]"): line.split() for line in out[12].splitlines() if "[" in line}
    assert sorted(table) == ["fast-lr", "slow-lr", "sweep-1", "sweep-2", "sweep-3"]
    assert table["fast-lr"][-1] == "40" and all(table[n][-1] == "20" for n in table if n != "fast-lr")  # epochs
    assert "<table" in _html(code[12])
    assert "train.lr" in out[13] and "mse" in out[13] and "Change" in out[13]
    assert "slow-lr (reference)" in out[14] and "Δ sweep-3" in out[14]
    assert "Δ fast-lr" in out[15] and "params.train.lr" in out[15]
    assert "application/vnd.vegalite.v5+json" in code[16]["outputs"][0]["data"]
    assert "Tags: candidate" in out[17] and "candidate" in out[18]
    # The Experiments tab: a button that opens it when a Jupyter server's root holds the
    # project, else the line saying how to get there.
    button = 'data-commandlinker-command="jupyter-exp:open"'
    assert button in _html(code[19]) or out[19].startswith(f"The project ({project}) is under no running Jupyter")
    assert "best: " in out[20] and "have been applied" in out[20]
    best = out[20].split("best: ")[1].split()[0]
    assert "best-model" in subprocess.run(["git", "branch"], cwd=project, capture_output=True, text=True).stdout
    assert "Path          mse" in out[22] and "metrics.json  " in out[22]  # DVC's metrics show table
    assert best in ("fast-lr", "sweep-2", "sweep-3")
    assert "lr:" in (project / "params.yaml").read_text()


def test_checkpoints_notebook_interrupts_and_resumes(tmp_path: Path, monkeypatch):
    project = tmp_path / "checkpoints"
    monkeypatch.setenv("JUPYTER_EXP_CHECKPOINTS_DIR", str(project))
    nb = nbformat.read(NOTEBOOKS / "checkpoints.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    out = [_text(c) for c in code]
    assert "Starting checkpoint experiment 'long'." in out[4]
    assert "] 2/6 loss=" in out[4]
    assert "Kept 2 checkpoint(s) of 'long'; `exp run` resumes from step 1." in out[4]
    assert any(o.get("ename") == "StageFailedError" for o in code[4]["outputs"])
    assert "[long] (step 1)" in out[5] and "Interrupted" in out[5]
    assert "Resuming checkpoint experiment 'long' from step 1." in out[6] and "6/6" in out[6]
    assert "trained to epoch 6" in out[6]
    assert "checkpoint" in out[7] and "6" in out[7]
    assert '"epoch": 3' in out[8]
