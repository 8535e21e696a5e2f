"""Notebook helpers: experiment design from history, loading designs, plots."""

import json
from dataclasses import replace

import matplotlib
import pytest

from collections_lab.experiments.plots import plot_effects, plot_power_curve, plot_sequential
from collections_lab.experiments.workflow import (
    design_experiment,
    experiment_readout,
    load_experiment,
    load_strategy_set,
    simulated_power_curve,
)
from collections_lab.model.plans import Experiment
from collections_lab.model.simulation import simulate
from collections_lab.model.strategies import example_strategies, save_strategies

matplotlib.use("Agg")
S = example_strategies()


@pytest.fixture(scope="module")
def sim():
    exp = Experiment("rem-2025", {"control": S["one_friendly_after_due"],
                                  "firm": S["nudge_then_firm"]}, control="control")
    return simulate(800, exp, seed=5, start="2025-01-01", end="2025-09-30",
                    assigned_at="2025-05-01", before=S["one_friendly_after_due"],
                    progress=False)


def test_design_from_history(sim):
    design = design_experiment(sim.portfolio, mdes=(0.03, 0.05))
    plans = design.to_frame()
    assert set(plans["metric"]) == {"paid_by_due_d", "rmst_days", "hazard_ratio",
                                    "cash_by_due_d"}
    paid = plans[plans["metric"] == "paid_by_due_d"].set_index("effect")
    assert paid.loc[0.03, "invoices_per_arm"] > paid.loc[0.05, "invoices_per_arm"]
    assert (plans["weeks"] > 0).all()
    base = design.baseline.set_index("quantity")["value"]
    assert base["design_effect"] > 1.0 and 0 < base["p_paid_by_due_d"] < 1
    assert "invoices per arm" in design.summary()
    assert "facturas por brazo" in design.summary("es")


def test_readout_helper_and_plots(sim):
    exp = load_experiment(None, sim.portfolio)
    assert exp.control_arm == "control" and exp.arm_names == ["control", "firm"]
    r = experiment_readout(sim.portfolio, exp, as_of="2025-10-31", planned_events=5000)
    assert r.sequential is not None
    for fig in (plot_effects(r, "paid_by_due_d", "es"), plot_effects(r, "hazard_ratio"),
                plot_sequential(r.sequential)):
        assert fig.axes
    with pytest.raises(ValueError, match="no metric"):
        plot_effects(r, "speed")


def test_load_experiment_from_design_file(tmp_path):
    design = {"experiment_id": "x", "control": "b", "arms": ["a", "b"],
              "factors": {"a": {"tone": "firm"}, "b": {"tone": "friendly"}},
              "stratify_by": "segment"}
    (tmp_path / "experiment.json").write_text(json.dumps(design))
    save_strategies({"a": replace(S["nudge_then_firm"], name="a")}, tmp_path / "strategies.yml")
    exp = load_experiment(tmp_path)
    assert exp.control_arm == "b" and exp.factors["a"] == {"tone": "firm"}
    assert exp.arms["a"].reminders == S["nudge_then_firm"].reminders
    assert "a" in load_strategy_set(None, tmp_path)
    assert load_experiment(tmp_path, experiment_id="other") is None


def test_simulated_power_curve_and_plot():
    curve = simulated_power_curve(S["one_friendly_after_due"], S["nudge_then_firm"],
                                  [100, 400], n_sims=3, months=3)
    assert list(curve.to_frame()["size"]) == [100, 400]
    assert plot_power_curve(curve).axes
