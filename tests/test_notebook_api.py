"""What an analyst meets in a notebook (issue 17): each silent trap found there is a test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import collections_lab as cl
from collections_lab.experiments import ExperimentDataError
from collections_lab.lab import Twin, TwinError, compare_strategies
from collections_lab.model.economics import Economics
from collections_lab.survival import SurvivalInputError

TABLES = ("customers", "invoices", "payments", "reminders", "assignments")
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
FAST = {"metrics": ["paid_by_due_d"], "segments": False, "adjust": False}


@pytest.fixture(scope="module")
def sample():
    return cl.load_sample()


def test_the_loaded_portfolio_carries_its_experiment(sample):
    design = sample.experiment
    assert design["control"] == "friendly-1-none"
    assert design["source"].endswith("experiment.json")
    assert len(design["arms"]) == 8 and design["stratify_by"] == "segment"


def test_the_readout_takes_the_control_from_the_portfolio_not_the_first_arm(sample):
    readout = cl.analyse_experiment(sample, **FAST)
    assert readout.control == "friendly-1-none"  # "firm-1-disc" sorts first
    assert "friendly-1-none" not in set(readout.to_frame()["arm"])


def test_a_payment_times_frame_excludes_the_pre_period_and_says_so(sample):
    frame = sample.payment_times()
    assert frame.attrs["start"] == pd.Timestamp("2025-09-01")
    assert frame.attrs["control"] == "friendly-1-none"
    from_frame = cl.analyse_experiment(frame, **FAST)
    from_portfolio = cl.analyse_experiment(sample, **FAST)
    assert from_frame.control == "friendly-1-none"
    used = from_frame.invoices
    assert used["start"] == pd.Timestamp("2025-09-01")
    assert used["pre_period"] > 10_000  # the 13k invoices issued before assignment
    assert used["n_invoices"] == from_portfolio.invoices["n_invoices"]
    assert used["n_invoices"] + used["pre_period"] + used["without_arm"] \
        + used["after_as_of"] == len(frame)
    assert "pre-period" in from_frame.notes[0] and "2025-09-01" in from_frame.notes[0]
    effect = from_frame.effect("firm-1-none", "paid_by_due_d")["effect"]
    assert effect == pytest.approx(
        from_portfolio.effect("firm-1-none", "paid_by_due_d")["effect"], abs=0.01)


@pytest.fixture(scope="module")
def unnamed(tmp_path_factory):
    """The sample's tables without experiment.json: the arms come from the assignments."""
    folder = tmp_path_factory.mktemp("no_design")
    for name in TABLES:
        shutil.copy(SAMPLE / f"{name}.csv", folder)
    return cl.load_portfolio(folder)


def test_without_a_design_file_the_control_must_be_named(unnamed):
    assert unnamed.experiment["source"] == "assignments"
    assert unnamed.experiment["control"] is None
    assert unnamed.experiment["assigned_at"] == "2025-09-01"
    with pytest.raises(ExperimentDataError, match=r"control=.*friendly-1-none"):
        cl.analyse_experiment(unnamed, **FAST)
    readout = cl.analyse_experiment(unnamed, control="friendly-1-none", **FAST)
    assert readout.control == "friendly-1-none"


def test_a_broken_design_file_is_an_error_naming_it(tmp_path):
    for name in TABLES:
        shutil.copy(SAMPLE / f"{name}.csv", tmp_path)
    (tmp_path / "experiment.json").write_text('{"experiment_id": "x", "arms": ["a", "b"], '
                                              '"control": "c"}')
    with pytest.raises(ValueError, match=r"experiment\.json.*control 'c'"):
        cl.load_portfolio(tmp_path)


@pytest.fixture(scope="module")
def eur_twin():
    sim = cl.simulate(200, cl.example_strategies()["one_friendly_after_due"], seed=3,
                      start="2025-01-01", end="2025-04-30")
    return Twin.from_simulation(sim, currency="EUR")


def test_compare_strategies_keeps_the_dict_keys_and_the_portfolio_currency(eur_twin):
    ex = cl.example_strategies()
    result = compare_strategies(eur_twin, {"bau": ex["one_friendly_after_due"],
                                           "quiet": ex["no_reminders"]},
                                reference="bau", replicates=2, n_jobs=1)
    assert list(result.to_frame().index) == ["bau", "quiet"]
    assert result.currency == "EUR"


def test_default_economics_follow_the_currency_and_unknown_ones_are_clear():
    assert Economics.for_currency("EUR").currency == "EUR"
    assert Economics.for_currency("USD") == Economics()
    with pytest.raises(ValueError, match="in_currency"):
        Economics.for_currency("XTS")
    twin = Twin.__new__(Twin)
    twin.currency = "XTS"
    from collections_lab.lab.compare import default_economics
    with pytest.raises(TwinError, match="XTS"):
        default_economics(twin)


def test_example_strategies_are_what_their_docstring_says(sample):
    examples = cl.example_strategies()
    assert "no file" in cl.example_strategies.__doc__
    assert len(sample.strategies) == len(examples) + 1 + 8  # business as usual, 8 arms
    for name, strategy in examples.items():
        assert sample.strategies[name] == strategy, name
    assert set(sample.experiment["arms"]) <= set(sample.strategies)


@pytest.fixture(scope="module")
def small_frame():
    from collections_lab.experiments.synthetic import synthetic_payment_times
    return synthetic_payment_times(300, seed=5)


def test_fit_cox_names_an_unknown_reference_column(small_frame):
    with pytest.raises(SurvivalInputError, match=r"'tonee'.*not among the covariates"):
        cl.fit_cox(small_frame, ["arm"], reference={"tonee": "x"})


@pytest.mark.parametrize("tau", ["90", None, float("nan"), True])
def test_rmst_horizon_must_be_a_number(small_frame, tau):
    with pytest.raises(SurvivalInputError, match="tau"):
        cl.rmst(small_frame, tau=tau)


def test_rejected_rows_give_real_reasons(tmp_path):
    for name in TABLES:
        shutil.copy(SAMPLE / f"{name}.csv", tmp_path)
    inv = pd.read_csv(tmp_path / "invoices.csv", dtype=str)
    inv.loc[0:3, "customer_id"] = "NOPE"
    inv.to_csv(tmp_path / "invoices.csv", index=False)
    report = cl.load_portfolio(tmp_path).load_report
    table = report.to_frame().set_index("table")
    assert table.loc["invoices", "rows_rejected"] == 4
    assert table.loc["payments", "rows_rejected"] == 4
    for reason in table["reasons"]:
        assert "…" not in reason
    assert "'NOPE'" in table.loc["invoices", "reasons"]
    assert "lines 3, 4, 5" in table.loc["invoices", "reasons"]


def test_one_grouping_keyword_and_a_result_object(small_frame):
    assert cl.logrank(small_frame, by="arm").statistic >= 0
    diff = cl.rmst_difference(small_frame, 60, by="arm", reference="control")
    assert isinstance(diff, cl.RMSTDifference)
    assert list(diff.to_frame()["group"]) == ["treatment"]
    assert "versus control" in diff.summary()


def test_cluster_by_customer_is_the_default_everywhere(small_frame):
    km = cl.kaplan_meier(small_frame, by="arm")
    assert km.cluster_col == "customer_id"
    assert cl.rmst(small_frame, 60, by="arm").cluster_col == "customer_id"
    assert "cluster-robust by customer_id" in cl.fit_cox(small_frame, ["arm"]).method
    # a frame without customers: model-based, no error
    no_customers = small_frame.drop(columns="customer_id")
    assert cl.kaplan_meier(no_customers, by="arm").cluster_col is None


def test_load_experiment_never_guesses_the_control(unnamed, sample):
    from collections_lab.experiments.workflow import load_experiment

    with pytest.raises(ValueError, match="which arm is the control"):
        load_experiment(None, unnamed)
    found = load_experiment(None, sample)
    assert found.control_arm == "friendly-1-none" and found.factors
    assert found.arms["firm-3-disc"].discount is not None  # what the arm does, from the yml


def test_the_readout_plots_itself(sample):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    readout = cl.analyse_experiment(sample, metrics=["hazard_ratio"], segments=False)
    ax = readout.plot("hazard_ratio")
    assert isinstance(ax, matplotlib.axes.Axes) and ax.lines
    plt.close("all")
