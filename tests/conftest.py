"""Shared pytest options: ``--runslow`` runs the long conformance tests marked ``slow``."""

import pytest


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


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
