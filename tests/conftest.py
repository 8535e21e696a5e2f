"""Shared pytest options: ``--runslow`` runs the long conformance tests marked ``slow``.

Tests never touch the real pseudonym key in the user's config directory: the key file is
pointed at a temporary directory (inherited by report kernels the tests start), and a
key given in the caller's environment is ignored.
"""

import os
import tempfile
from pathlib import Path

import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_configure(config):
    # Set before any test imports collections_lab; names as in collections_lab.data.privacy.
    folder = Path(tempfile.mkdtemp(prefix="collections-lab-tests-"))
    os.environ["COLLECTIONS_LAB_SECRET_FILE"] = str(folder / "secret")
    os.environ.pop("COLLECTIONS_LAB_SECRET", None)


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="long run: use --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@pytest.fixture(autouse=True)
def _english_report_context():
    """Each test starts in the default language and locale, and leaves them so."""
    from collections_lab.i18n import options

    with options(lang="en", locale="en_US"):
        yield
