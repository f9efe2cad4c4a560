"""Writing the example notebooks from the cell lists in make_*.py."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_notebook


def write_notebook(cells: list, name: str) -> Path:
    """Write ``cells`` as notebooks/``name`` with the python3 kernel; return its path."""
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = Path(__file__).with_name(name)
    nbformat.write(nb, path)
    print(f"wrote {path}")
    return path
