"""Packaging stays in step: pyproject is the single source of dependencies."""

import json
import re
import subprocess
import sys
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


def declared_floors() -> dict[str, str]:
    """Each runtime and dev dependency's ``>=`` bound, read with ``packaging``."""
    from packaging.requirements import Requirement

    floors = {}
    for text in project()["dependencies"] + project()["optional-dependencies"]["dev"]:
        req = Requirement(text)
        low = [s.version for s in req.specifier if s.operator == ">="]
        assert len(low) == 1, f"pyproject.toml: {text!r} needs exactly one '>=' lower bound"
        floors[req.name.lower()] = low[0]
    return floors


def test_lower_bound_script_pins_exactly_pyprojects_floors():
    """scripts/check_lower_bounds.sh installs every runtime and dev floor, nothing else."""
    script = (ROOT / "scripts" / "check_lower_bounds.sh").read_text(encoding="utf-8")
    block = script.split("# BEGIN constraints", 1)[1].split("# END constraints", 1)[0]
    code = block.split("<<'PY'\n", 1)[1].split("\nPY\n", 1)[0]
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True).stdout
    pins = dict(line.lower().split("==") for line in out.split())
    assert pins == declared_floors()
    assert "-c .venv-min/minimums.txt -e '.[dev]'" in script  # the dev extra at its floors


def readme_columns() -> dict[str, list[str]]:
    """The columns data/sample/README.md lists per file (backticked names outside
    parentheses, in the table's last cell)."""
    text = (ROOT / "data" / "sample" / "README.md").read_text(encoding="utf-8")
    listed = {}
    for row in re.findall(r"^\| `([\w.]+)` \|.*\| (.*) \|$", text, flags=re.M):
        name, cell = row
        outside = re.sub(r"\([^()]*\)", "", cell)
        listed[name] = re.findall(r"`(\w+)`", outside)
    return listed


def test_sample_readme_lists_exactly_each_files_columns():
    listed = readme_columns()
    folder = ROOT / "data" / "sample"
    csvs = sorted(p.name for p in folder.glob("*.csv"))
    assert sorted(n for n in listed if n.endswith(".csv")) == csvs
    for name in csvs:
        header = (folder / name).read_text(encoding="utf-8").split("\n", 1)[0].split(",")
        assert listed[name] == header, name
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    described = set(re.findall(r"`(\w+)`", readme_text_of("truth.json")))
    assert set(truth) | set(truth["arm_effects"][0]) - {"arm"} <= described


def readme_text_of(file_name: str) -> str:
    text = (ROOT / "data" / "sample" / "README.md").read_text(encoding="utf-8")
    return next(line for line in text.splitlines() if line.startswith(f"| `{file_name}`"))


def test_sample_readme_names_every_payment_method_the_simulator_writes():
    """A run with splits, an installment offer and escalation writes every method the
    simulator knows; the README describes each of them."""
    from collections_lab import InstallmentOffer, Reminder, Strategy, simulate

    s = Strategy("all", reminders=(Reminder(3), Reminder(17)), escalation_day=40,
                 installment=InstallmentOffer(at_reminder=2, n_installments=2))
    written = set(simulate(1000, s, seed=1, start="2025-01-01", end="2025-12-31",
                           progress=False).payments["method"])
    assert written == {"transfer", "card", "direct_debit", "installment", "agency"}
    described = readme_text_of("payments.csv")
    assert all(re.search(rf"\b{m}\b", described) for m in written)
