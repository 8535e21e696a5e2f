"""Where the project's notebooks, reports and bundled sample data live.

The runner is called from cron jobs, Airflow tasks and shells whose working directory is
anywhere, so every default is resolved from a fixed anchor, in this order:

1. the ``COLLECTIONS_LAB_HOME`` environment variable (a project checkout);
2. the nearest parent of the current directory holding ``notebooks/`` and ``pyproject.toml``;
3. the checkout this package was installed from (``src/collections_lab/..`` in an
   editable install).

Example
-------
>>> root = project_root()
>>> (root / "pyproject.toml").exists()
True
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "COLLECTIONS_LAB_HOME"
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def _is_project(path: Path) -> bool:
    return (path / "pyproject.toml").is_file() and (path / "notebooks").is_dir()


def project_root() -> Path:
    """The project checkout (see the module docstring for how it is found).

    Raises FileNotFoundError naming what was tried when no checkout is found (for example
    a non-editable install run outside the checkout: pass explicit directories then).
    """
    env = os.environ.get(ENV_HOME)
    if env:
        path = Path(env).expanduser().resolve()
        if not path.is_dir():
            raise FileNotFoundError(f"{ENV_HOME}={env!r} is not a directory")
        return path
    cwd = Path.cwd().resolve()
    for candidate in (cwd, *cwd.parents):
        if _is_project(candidate):
            return candidate
    for candidate in _PACKAGE_DIR.parents:
        if _is_project(candidate):
            return candidate
    raise FileNotFoundError(
        "cannot find the collections_lab project (a directory with pyproject.toml and "
        f"notebooks/) above {cwd} or {_PACKAGE_DIR}; set {ENV_HOME} or pass the "
        "notebooks/reports directories explicitly"
    )


def notebooks_dir() -> Path:
    """The report notebooks: ``<project>/notebooks``."""
    return project_root() / "notebooks"


def reports_dir() -> Path:
    """Where reports land: ``<project>/reports``."""
    return project_root() / "reports"


def sample_data_dir() -> Path:
    """The bundled simulated portfolio: ``<project>/data/sample``."""
    return project_root() / "data" / "sample"
