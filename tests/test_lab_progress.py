"""Long lab calls show progress when a person watches, never in report kernels."""

import pytest

import collections_lab as cl
from collections_lab.lab import Twin, compare_strategies, recommend
from collections_lab.lab.compare import progress_bar
from collections_lab.model.simulation.progress import REPORT_ENV


@pytest.fixture(scope="module")
def twin():
    sim = cl.simulate(150, cl.example_strategies()["one_friendly_after_due"], seed=2,
                      start="2025-01-01", end="2025-03-31")
    return Twin.from_simulation(sim, currency="EUR")


def test_report_kernels_get_no_bar(monkeypatch):
    monkeypatch.setenv(REPORT_ENV, "1")
    assert progress_bar(None, 10, "x") is None
    assert progress_bar(False, 10, "x") is None


def test_compare_strategies_and_recommend_advance_a_bar(twin, capsys):
    ex = cl.example_strategies()
    compare_strategies(twin, [ex["one_friendly_after_due"], ex["no_reminders"]],
                       replicates=3, n_jobs=1, progress=True)
    err = capsys.readouterr().err
    assert "comparing strategies" in err and "3/3" in err
    recommend(twin, ex["one_friendly_after_due"], [ex["no_reminders"], ex["nudge_then_firm"]],
              screen_replicates=2, replicates=2, n_jobs=1, sensitivity_replicates=0,
              progress=True)
    err = capsys.readouterr().err
    assert "recommend" in err and "6/6" in err
