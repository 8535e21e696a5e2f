"""The getting-started notebook runs end to end, shows each figure once, and is no report."""

import os
from pathlib import Path

import nbformat
import pytest

from collections_lab.reporting.runner import (
    ReportError,
    find_notebook,
    kernel_manager_class,
    list_notebooks,
)

ROOT = Path(__file__).parents[1]
NOTEBOOK = ROOT / "notebooks" / "00_getting_started.ipynb"


def test_stored_clean_with_parameters_first_and_marked_as_no_report():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["collections_lab"]["report"] is False


def test_the_runner_neither_lists_nor_runs_it():
    assert "00_getting_started" not in set(list_notebooks(ROOT / "notebooks")["notebook"])
    with pytest.raises(ReportError, match="tutorial, not a report"):
        find_notebook("00_getting_started", ROOT / "notebooks")


def test_it_runs_and_shows_every_figure_once(tmp_path):
    import papermill

    # The reports' kernel (this interpreter, inline figures, a private socket: over TCP a
    # port taken by a parallel test worker killed the kernel at start), as an analyst's
    # notebook: not marked as a report, so progress bars behave as in JupyterLab.
    path = str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")
    papermill.execute_notebook(
        str(NOTEBOOK), str(tmp_path / "out.ipynb"), kernel_name="python3",
        kernel_manager_class=kernel_manager_class({"PYTHONPATH": path}, report=False),
        parameters={"simulated_customers": 150, "replicates": 2}, cwd=str(ROOT),
        progress_bar=False)
    nb = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in code)
    for cell in code:
        images = [o for o in cell.outputs if "image/png" in o.get("data", {})]
        assert len(images) == (1 if ".plot(" in cell.source else 0), cell.source
    text = "".join(o.get("data", {}).get("text/plain", "") for c in code for o in c.outputs)
    assert "friendly-1-none" in text and "pre-period" in text
