"""apps/tour.ipynb runs top to bottom in a fresh kernel, as a workshop participant would run it."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "apps" / "tour.ipynb"


@pytest.mark.slow
def test_tour_notebook_executes(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("data", {}).get("text/plain", "")) + o.get("text", "") for o in outputs)
    for word in ("goof-off", "average_speed", "lookup", "median C*"):
        assert word in text
