"""Shared pytest setup: ``--runslow``, and the names docstring examples may use.

Long runs are marked ``slow`` and skipped unless ``--runslow`` is given
(``scripts/test.sh --runslow``); so are the few docstring examples listed in
:data:`SLOW_EXAMPLES` (each says why).

Every docstring example runs with the test suite (see ``[tool.pytest.ini_options]`` in
pyproject.toml). Examples about an analysis start from data an analyst would have; these
are given here, built once per test process and only when a docstring example runs:

- ``portfolio``: a small simulated A/B test (300 customers, arms ``control`` and
  ``treatment``, stratified by segment), exported on 2025-09-30;
- ``pt``: its payment-times frame (``portfolio.payment_times()``), ``open_pt`` the
  invoices still open in it;
- ``SAMPLE``: the bundled sample data directory (``data/sample``), absolute;
- ``cl``: ``import collections_lab as cl`` (as the README and notebooks write it).

The pseudonym key is a temporary file for the whole run (:func:`pytest_configure`).

Each example gets fresh copies, so one example cannot change what the next one sees.
"""

import os
import tempfile
from functools import lru_cache
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem

SAMPLE = Path(__file__).resolve().parent / "data" / "sample"

#: Docstring examples that run only with ``--runslow``, with the reason.
SLOW_EXAMPLES = {
    "collections_lab.lab.report": "strategy_lab calibrates and searches: ~10 s even small",
    "collections_lab.lab.report.strategy_lab": "the same: calibration, twin check, search",
    "collections_lab.lab.calibrate.Calibration": "fits the behaviour model: ~5 s on 60 customers",
    "collections_lab.lab.twin.check_twin": "calibrates first: ~5 s on 60 customers",
}


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_configure(config):
    """Tests never touch the real pseudonym key in the user's config directory: the key
    file is a temporary one (inherited by report kernels the tests start), and a key given
    in the caller's environment is ignored. Names as in ``collections_lab.data.privacy``."""
    folder = Path(tempfile.mkdtemp(prefix="collections-lab-tests-"))
    os.environ["COLLECTIONS_LAB_SECRET_FILE"] = str(folder / "secret")
    os.environ.pop("COLLECTIONS_LAB_SECRET", None)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if isinstance(item, DoctestItem) and item.name in SLOW_EXAMPLES:
            item.add_marker(pytest.mark.slow)
    if config.getoption("--runslow"):
        return
    skip_slow = pytest.mark.skip(reason="long run: use --runslow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip_slow)


@lru_cache(maxsize=1)
def _example_data():
    import collections_lab as cl

    strategies = cl.example_strategies()
    experiment = cl.Experiment(
        "docs", {"control": strategies["one_friendly_after_due"],
                 "treatment": strategies["nudge_then_firm"]},
        control="control", stratify_by="segment")
    sim = cl.simulate(300, experiment, seed=7, start="2025-01-01", end="2025-06-30",
                      progress=False)
    portfolio = sim.snapshot("2025-09-30")
    return portfolio, portfolio.payment_times()


@pytest.fixture(autouse=True)
def _docstring_example_names(request, doctest_namespace):
    if not isinstance(request.node, DoctestItem):
        return
    import collections_lab as cl

    portfolio, pt = _example_data()
    doctest_namespace.update(
        cl=cl,
        portfolio=portfolio.__class__(**{k: (v.copy() if hasattr(v, "copy") else v)
                                         for k, v in vars(portfolio).items()}),
        pt=pt.copy(),
        open_pt=pt.loc[pt["outcome"] == "open"].copy(),
        SAMPLE=str(SAMPLE),
    )


@pytest.fixture(autouse=True)
def _english_report_context():
    """Each test and docstring example starts in the default language and locale
    (``collections_lab.options``), and leaves them so."""
    from collections_lab.i18n import options

    with options(lang="en", locale="en_US"):
        yield
