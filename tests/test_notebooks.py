"""The example notebooks run top to bottom in a real kernel (nbclient) in a fresh project."""

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


def test_quickstart_runs_in_a_fresh_project(tmp_path: Path, monkeypatch):
    project = tmp_path / "quickstart"
    monkeypatch.setenv("JUPYTER_EXP_QUICKSTART_DIR", str(project))
    nb = nbformat.read(NOTEBOOKS / "quickstart.ipynb", as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = [_text(c) for c in code]
    assert f"project: {project}" in outputs[0]
    assert "Running stage 'prepare':" in outputs[3] and "160 training points, 40 test points" in outputs[3]
    assert "[('prepare', 'ran'), ('train', 'ran')]" in outputs[3]
    assert "metrics.json  mse" in outputs[4]
    assert "[('prepare', 'skipped'), ('train', 'ran')]" in outputs[6]
    assert "params.yaml  train.lr" in outputs[7] and "params.yaml  train.epochs" in outputs[7]
    assert "('mse'," in outputs[8]
    assert "[('prepare', 'skipped'), ('train', 'restored')]" in outputs[9]
    assert (project / "dvc.lock").exists() and (project / "data" / "points.csv.dvc").exists()
