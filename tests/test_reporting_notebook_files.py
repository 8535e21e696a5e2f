"""The stored report notebooks keep the contract of notebooks/README.md (no kernel needed).

Cheap static checks: stored without outputs, a kernelspec, the first code cell tagged
``parameters`` declaring the standard names, every declared parameter used by the code
(none silently ignored), and prose in one language per cell (tagged ``lang-en`` /
``lang-es``) so a report shows only its own language.
"""

import ast
from pathlib import Path

import nbformat
import pytest

from collections_lab.reporting.parameters import declared_parameters
from collections_lab.reporting.runner import report_notebooks

#: The report notebooks (00_getting_started is a tutorial: tests/test_getting_started.py).
NOTEBOOKS = report_notebooks(Path(__file__).parents[1] / "notebooks")
#: Every report declares these (one batch file's shared parameters fit every report).
REQUIRED = {"data", "mapping", "as_of", "lang", "locale", "pseudonymise"}
#: Standard names a report declares only where they mean something.
OPTIONAL = {"currency", "experiment_id", "strategies"}


def test_all_five_notebooks_are_there():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_portfolio_health", "02_time_to_payment", "03_experiment_design",
        "04_experiment_readout", "05_strategy_lab"]


def _names_used(nb) -> set[str]:
    used: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                used.add(node.id)
    return used


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_clean_with_kernelspec_and_parameters_first(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.metadata["kernelspec"]["language"] == "python"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code), \
        f"{path.name} is stored with outputs: jupyter nbconvert --clear-output --inplace"
    assert "parameters" in code[0].metadata.get("tags", []), \
        f"{path.name}: the first code cell must be tagged 'parameters'"
    assert sum("parameters" in c.metadata.get("tags", []) for c in code) == 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_declares_the_standard_names_and_ignores_none(path):
    nb = nbformat.read(path, as_version=4)
    declared = set(declared_parameters(path))
    used = _names_used(nb)
    assert REQUIRED <= declared, f"{path.name} lacks {sorted(REQUIRED - declared)}"
    # a standard name the code uses must be a parameter (not a stray variable) ...
    assert (used & OPTIONAL) <= declared
    # ... and every declared parameter must be used: none is silently ignored
    ignored = sorted(declared - used)
    assert ignored == [], f"{path.name} declares parameters its code never reads: {ignored}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_prose_is_in_one_language_per_cell(path):
    nb = nbformat.read(path, as_version=4)
    markdown = [c for c in nb.cells if c.cell_type == "markdown"]
    tags = [[t for t in c.metadata.get("tags", []) if t.startswith("lang-")] for c in markdown]
    assert all(len(t) == 1 for t in tags), f"{path.name}: untagged or doubly tagged prose"
    flat = [t[0] for t in tags]
    assert flat.count("lang-en") == flat.count("lang-es")  # every section in both
    for cell in markdown:
        heading = cell.source.splitlines()[0]
        assert " · " not in heading, f"{path.name}: bilingual heading {heading!r}"
