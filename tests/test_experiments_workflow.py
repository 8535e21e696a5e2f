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


def test_a_change_the_share_cannot_make_is_skipped_and_said(sim):
    """Issue 16: 96% of a portfolio's invoices paid by due + 15 days and a 5-point change
    asked for crashed the design report (p_control + mde >= 1); now that change is left
    out of the plans and the summary says why, in the report's language."""
    design = design_experiment(sim.portfolio, mdes=(0.03, 0.99))
    paid = design.to_frame().query("metric == 'paid_by_due_d'")
    assert list(paid["effect"]) == [0.03] and design.skipped_mdes == (0.99,)
    base = design.baseline.set_index("quantity")["value"]["p_paid_by_due_d"]
    assert design.summary().endswith("A change of 99 in 100 cannot be tested here: "
                                     f"{round(base * 100)} in 100 "
                                     "invoices are already paid by due + 15 days, and the "
                                     "share cannot pass 100.")
    assert "no se puede probar" in design.summary("es")
    only = design_experiment(sim.portfolio, mdes=(0.99,))  # nothing left to size
    assert only.to_frame().query("metric == 'paid_by_due_d'").empty
    assert only.summary().startswith("A change of 99 in 100 cannot be tested here")


def test_a_share_the_history_cannot_estimate_sizes_nothing_on_it_and_says_why(tmp_path):
    """Issue 16: on 40 customers' history the 60-day terms group has 3 invoices at risk on
    its due + 15 days, the share paid by then is not estimable (NaN), and the design
    report crashed sizing it (and the cash collected by then). Now the other metrics are
    sized and the summary says why those two are not."""
    from portfolio_shapes import Shape, write_portfolio

    from collections_lab.data.loading import load_portfolio

    portfolio = load_portfolio(write_portfolio(Shape(customers=40, seed=1), tmp_path)["data"])
    design = design_experiment(portfolio, mdes=(0.03, 0.05))
    assert set(design.to_frame()["metric"]) == {"rmst_days", "hazard_ratio"}
    assert design.skipped_mdes == (0.03, 0.05)
    assert design.summary() == (
        "The share paid by due + 15 days cannot be estimated on this history yet (in some "
        "payment terms too few invoices are followed to their due + 15 days), so no test "
        "on it, or on the cash collected by then, is sized here.")


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


def test_design_baseline_reads_shares_as_percentages():
    """Page 03's baseline showed 0.902 beside the tiles' 90%: shares are percentages."""
    import collections_lab as cl
    from collections_lab.experiments.workflow import labelled

    design = cl.design_experiment(cl.load_sample(), "2026-05-31")
    shown = labelled(design.baseline, "es", 3).set_index("magnitud")["valor"]
    assert shown["proporción pagada al vencimiento + d"].endswith(" %")
    assert shown["facturas"] == "25.224"


def test_design_baseline_values_at_their_own_precision_and_d_in_days():
    """Page 03 showed 'días medios restringidos 36,301', 'facturas por semana 204,583' and
    a bare '1' for the measured design effect, under labels with an undefined 'd'."""
    import pandas as pd

    from collections_lab.experiments.workflow import labelled

    baseline = pd.DataFrame({
        "quantity": ["invoices_per_week", "rmst_days", "design_effect",
                     "rmst_variance_per_invoice", "p_paid_by_due_d", "design_effect_measured"],
        "value": [204.583, 36.301, 2.78612, 396.312, 0.901, 1.0]})
    shown = labelled(baseline, "es", 3, due_plus_days=15).set_index("magnitud")["valor"]
    assert shown.tolist() == ["205", "36,3", "2,79", "396", "90,1 %", "sí"]
    assert "proporción pagada al vencimiento + 15 días" in shown.index
    no = labelled(baseline.assign(value=[*baseline["value"][:-1], 0.0]), "en")
    assert no.iloc[-1, -1] == "no" and "+ d" in no.iloc[4, 0]  # d unknown: the old label
    plans = labelled(pd.DataFrame({"metric": ["paid_by_due_d", "cash_by_due_d"],
                                   "design_effect": [2.78612, 2.78612]}), "en",
                     due_plus_days=30)
    assert plans.iloc[:, 1].tolist() == [2.79, 2.79]  # as in the baseline
    sizing = labelled(pd.DataFrame({"metric": ["paid_by_due_d", "rmst_days", "hazard_ratio"],
                                    "effect": [0.03, 2.0, 1.15],
                                    "invoices_per_arm": [3717, 4334, 2385]}), "es")
    assert sizing["efecto"].tolist() == ["3\xa0pp", "2", "1,15"]  # each in its unit
    assert plans.iloc[:, 0].tolist() == ["Paid by due + 30 days (share)",
                                         "Cash collected by due + 30 days (share of amount)"]


def test_unequal_weights_size_control_the_smaller_arm_and_the_whole_test(sim):
    """Report 03 assigns with `weights` (e.g. 2:1) and with more than two arms; the sizing
    planned 50/50 for two arms, so its weeks and "customers per arm" contradicted the
    assignment printed below them on the same page."""
    from collections_lab.experiments.design import sample_size_proportion

    even = design_experiment(sim.portfolio, mdes=(0.05,))
    assert even.to_frame().equals(design_experiment(sim.portfolio, mdes=(0.05,),
                                                    weights=[3, 3]).to_frame())
    base = even.baseline.set_index("quantity")["value"]
    follow = even.to_frame()["weeks"] - 2 * even.to_frame()["invoices_per_arm"] / base[
        "invoices_per_week"]

    two_to_one = design_experiment(sim.portfolio, mdes=(0.05,), weights=[2, 1])
    plans = two_to_one.to_frame()
    assert "invoices_per_arm" not in plans and two_to_one.summary().count("control") == 1
    paid = plans.query("metric == 'paid_by_due_d'").iloc[0]
    ref = sample_size_proportion(base["p_paid_by_due_d"], 0.05,
                                 design_effect=base["design_effect"],
                                 invoices_per_customer=base["invoices_per_customer"],
                                 allocation=1 / 3)
    control, treated = ref.invoices_by_arm
    assert paid["invoices_treatment"] == treated
    assert control <= paid["invoices_control"] <= control + 2  # exactly twice the treatment
    assert paid["invoices_control"] == 2 * paid["invoices_treatment"]
    assert paid["invoices_total"] == paid["invoices_control"] + paid["invoices_treatment"]
    # closed form (Schoenfeld: events ∝ 1/(a·(1 − a))): a 2:1 split needs 9/8 the invoices
    # of an even one; for shares the arms' variances differ, so only the reference above
    hr = plans.query("metric == 'hazard_ratio'")["invoices_total"].to_numpy()
    hr_even = 2 * even.to_frame().query("metric == 'hazard_ratio'")["invoices_per_arm"]
    assert hr / hr_even.to_numpy() == pytest.approx(9 / 8, rel=0.002)
    # weeks count every invoice of the test, at the history's invoicing rate
    assert plans["weeks"].to_numpy() == pytest.approx(
        (plans["invoices_total"] / base["invoices_per_week"] + follow).to_numpy(), abs=0.11)

    # three arms: two comparisons with control, each at alpha / 2 (the readout's Holm)
    three_arms = design_experiment(sim.portfolio, mdes=(0.05,), weights=[1, 1, 1])
    three = three_arms.to_frame()
    at_half = design_experiment(sim.portfolio, mdes=(0.05,), alpha=0.025).to_frame()
    assert (three["alpha"] == 0.025).all()
    assert (three["invoices_per_arm"] == at_half["invoices_per_arm"]).all()
    assert (three["invoices_per_arm"] > even.to_frame()["invoices_per_arm"]).all()
    assert "each of the 2 comparisons with control is sized at 2.5% significance" in \
        three_arms.summary()
    assert (three["invoices_total"] == 3 * three["invoices_per_arm"]).all()
    assert three["weeks"].to_numpy() == pytest.approx(
        (3 * three["invoices_per_arm"] / base["invoices_per_week"] + follow).to_numpy(),
        abs=0.11)
    with pytest.raises(ValueError, match="positive number, control first"):
        design_experiment(sim.portfolio, weights=[1])


def test_the_design_page_reads_unequal_arms_as_totals(sim):
    from collections_lab.reporting.page import design_page

    design = design_experiment(sim.portfolio, mdes=(0.03, 0.05), weights=[2, 1])
    row = design.to_frame().query("metric == 'paid_by_due_d'").iloc[1]
    top = design_page(design, portfolio=sim.portfolio, lang="es")
    total = f"{int(row['customers_total']):,}".replace(",", ".")
    assert top.decision.action.startswith(f"Una prueba necesita {total} clientes en total") \
        or "demasiado pequeña" in top.decision.action
    assert top.tiles[0].label == "Clientes necesarios" and top.facts["customers_total"] > 0
    even = design_page(design_experiment(sim.portfolio, mdes=(0.03, 0.05)), lang="en")
    assert "customers per arm" in even.decision.action and "customers_per_arm" in even.facts
    assert "at 5% significance on" in even.decision.confidence
    three = design_page(design_experiment(sim.portfolio, mdes=(0.03,), weights=[1, 1, 1]))
    assert "at 2.5% significance per comparison with control" in three.decision.confidence


def test_a_design_date_after_the_invoicing_stopped_keeps_the_invoicing_pace(sim):
    """The design's example planned '3,150 weeks': its portfolio stopped invoicing three
    months before the design date, so the last 12 weeks held no invoice and a floor of one
    invoice a week took over. The pace is now that of the 12 weeks up to the last invoice."""
    import pandas as pd

    issued = pd.to_datetime(sim.portfolio.invoices["issue_date"])
    last = issued.max()
    pace = (issued > last - pd.Timedelta(days=84)).sum() / 12
    late = design_experiment(sim.portfolio, last + pd.DateOffset(months=6), mdes=(0.05,))
    base = late.baseline.set_index("quantity")["value"]
    assert base["invoices_per_week"] == pytest.approx(pace)
    paid = late.to_frame().query("metric == 'paid_by_due_d'").iloc[0]
    assert paid["weeks"] < 60  # 2 × invoices per arm at that pace, plus the follow-up
    assert "about" in late.summary() and "weeks of invoicing" in late.summary()
