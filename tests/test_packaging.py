"""Packaging stays in step: pyproject is the single source of dependencies."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {"jupyterlab", "pandas", "statsmodels", "scikit-learn", "lifelines", "scipy",
            "seaborn", "papermill", "nbconvert", "ipykernel", "duckdb", "pyarrow", "numpy",
            "matplotlib"}


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def names(requirements):
    return {re.split(r"[<>=!\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}


def test_pyproject_lists_the_field_dependencies_with_lower_bounds():
    deps = project()["dependencies"]
    assert REQUIRED <= names(deps)
    assert all(">=" in d for d in deps), "every dependency needs a tested lower bound"
    assert "pytest" in names(project()["optional-dependencies"]["dev"])
    assert project()["scripts"]["collections-lab"] == "collections_lab.cli:main"


def test_environment_yml_installs_the_project_and_nothing_else():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    deps = env["dependencies"]
    conda = [d for d in deps if isinstance(d, str)]
    pip = next(d["pip"] for d in deps if isinstance(d, dict))
    python = next(d for d in conda if d.startswith("python"))
    minimum = project()["requires-python"].removeprefix(">=")
    assert python.split("=")[-1].startswith(minimum)
    assert set(conda) == {python, "pip"}, "conda packages would duplicate pyproject"
    assert pip == ['-e ".[dev]"'], "the pip section installs the project with its dev extra"
