"""R as an outside reference: find ``Rscript``, run one script, read the CSVs it writes.

Used by ``test_survival_r_reference.py``. A missing R (or a missing R package) fails under
CI (``CI=true``, where ``.ci/run`` installs it) and skips elsewhere, with the install
command, as the browser tests do.
"""

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

R_PACKAGES = ("survival", "cmprsk")
INSTALL_HINT = ("install it with: sudo apt-get install -y --no-install-recommends "
                "r-base-core r-cran-survival r-cran-cmprsk (Debian/Ubuntu)")


def _missing(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} under CI; {INSTALL_HINT}")
    pytest.skip(f"{reason}; {INSTALL_HINT}")


@functools.cache
def _find_rscript() -> tuple[str | None, str]:
    """(path, problem): the path when R and its packages are usable, else the reason."""
    path = os.environ.get("RSCRIPT") or shutil.which("Rscript")
    if path is None:
        return None, "Rscript (R) not found"
    check = subprocess.run(
        [path, "-e", "for (p in commandArgs(TRUE)) if (!requireNamespace(p, quietly = TRUE)) "
         "cat('missing:', p, '\\n')", *R_PACKAGES],
        capture_output=True, text=True, timeout=120)
    if check.returncode != 0 or "missing:" in check.stdout:
        return None, f"R packages missing ({check.stdout.strip() or check.stderr.strip()[-300:]})"
    return path, ""


def require_rscript() -> str:
    """Path of ``Rscript`` with the survival and cmprsk packages (else skip, or fail in CI)."""
    path, problem = _find_rscript()
    if path is None:
        _missing(problem)
    return path


def run_r(script: str, workdir: Path, timeout: int = 300) -> None:
    """Run ``script`` with ``Rscript`` in ``workdir``; raise with R's error text on failure."""
    rscript = require_rscript()
    path = workdir / "reference.R"
    path.write_text(script)
    proc = subprocess.run([rscript, "--vanilla", str(path)], cwd=workdir, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed:\n{proc.stderr[-3000:]}")


def read_r(workdir: Path, name: str) -> pd.DataFrame:
    """A CSV the R script wrote with ``write.csv(..., row.names = FALSE)``."""
    return pd.read_csv(workdir / f"{name}.csv")
