"""The experiment readout object: effects, SRM warning, summary in English and Spanish."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.experiments.readout import SequentialPlan, analyze_experiment
from collections_lab.experiments.synthetic import synthetic_payment_times
from collections_lab.model.plans import Experiment


@pytest.fixture(scope="module")
def frame():
    return synthetic_payment_times(2500, seed=21, arm_hr={"control": 1.0, "treatment": 1.35},
                                   discount_rate={"treatment": 0.02})


@pytest.fixture(scope="module")
def readout(frame):
    return analyze_experiment(frame, start="2025-03-01",
                              sequential=SequentialPlan(planned_events=9000))


def test_frame_has_every_metric_with_ci_and_adjusted_p(readout):
    table = readout.to_frame()
    assert {"effect", "ci_low", "ci_high", "p_value", "p_holm", "p_bh",
            "ci_narrowing"} <= set(table.columns)
    assert len(table) == 9
    row = readout.effect("treatment", "paid_by_due_d")
    assert row["ci_low"] < row["effect"] < row["ci_high"]
    assert row["adjusted"]


def test_summary_in_english_and_spanish(readout):
    en = readout.summary()
    assert en.startswith("treatment: ")
    assert "more invoices in 100 paid by due + 15 days (95% CI" in en
    assert "days sooner on average" in en
    assert "churn" in en
    es = readout.summary("es")
    assert "facturas más de cada 100 pagadas al vencimiento + 15 días (IC 95%" in es
    assert "días antes en promedio" in es
    lines = readout.summary_lines()
    assert lines[0] == readout.arm_sentence("treatment", "en")  # one sentence per arm first
    assert readout.sequential.summary() in lines
    assert " ".join(lines) == en


def test_sequential_decision_is_reported(readout):
    seq = readout.sequential
    assert seq is not None and len(seq.looks) >= 10
    assert seq.decision in ("stop_efficacy", "continue", "final_no_effect")
    assert seq.summary() in readout.summary()


def test_html_shows_tables_and_escapes(readout):
    html = readout._repr_html_()
    assert "<table" in html and "Sequential" in html


def test_srm_warning_is_loud(frame):
    skewed = frame[~((frame["arm"] == "control")
                     & (frame["customer_id"].str[-1].isin(["1", "2", "3"])))]
    r = analyze_experiment(skewed, start="2025-03-01", segments=False, adjust=False,
                           metrics=["paid_by_due_d"])
    assert r.srm.mismatch
    assert r.summary().startswith("WARNING")
    assert "border:3px solid" in r._repr_html_()


def test_segments_have_bh_and_caveat(readout):
    seg = readout.segments
    assert set(seg["segment"]) == {"small", "large"}
    assert "p_bh" in seg
    assert "exploratory" in readout.summary()


def test_several_arms_get_holm_note():
    f = synthetic_payment_times(1500, seed=3, arm_hr={"control": 1.0, "a": 1.2, "b": 1.0})
    r = analyze_experiment(f, start="2025-03-01", segments=False,
                           metrics=["paid_by_due_d", "rmst_days"])
    assert set(r.to_frame()["arm"]) == {"a", "b"}
    assert "Holm" in r.summary()
    holm = r.to_frame().groupby("metric")["p_holm"].apply(list)
    assert all(np.all(np.array(v) <= 1) for v in holm)


def test_portfolio_input_with_experiment(tmp_path):
    from collections_lab.model.simulation import simulate
    from collections_lab.model.strategies import example_strategies

    s = example_strategies()
    exp = Experiment("tone-test", {"control": s["one_friendly_after_due"],
                                   "firm": s["nudge_then_firm"]}, control="control")
    sim = simulate(600, exp, seed=3, start="2025-01-01", end="2025-08-31",
                   assigned_at="2025-04-01", before=s["one_friendly_after_due"],
                   progress=False)
    r = analyze_experiment(sim.portfolio, exp, as_of="2025-09-30", segments=False)
    assert r.experiment_id == "tone-test"
    assert r.as_of == pd.Timestamp("2025-09-30")
    assert not r.srm.mismatch
    assert r.effect("firm", "paid_by_due_d")["n_customers"] > 300
    assert "firm: " in r.summary()


def test_bad_source_is_a_clear_error():
    with pytest.raises(TypeError, match="Portfolio or a payment-times DataFrame"):
        analyze_experiment([1, 2, 3])


def test_srm_on_the_analysed_data_catches_a_pipeline_that_loses_one_arm():
    # stratified dealing keeps the assignments table balanced in every segment, so only the
    # customers actually seen in the analysed invoices can show the loss
    from dataclasses import replace

    from collections_lab.model.simulation import simulate
    from collections_lab.model.strategies import example_strategies

    s = example_strategies()
    exp = Experiment("lossy", {"control": s["one_friendly_after_due"],
                               "firm": s["nudge_then_firm"]}, control="control")
    sim = simulate(1500, exp, seed=5, start="2025-01-01", end="2025-07-31",
                   assigned_at="2025-04-01", before=s["one_friendly_after_due"],
                   progress=False)
    full = analyze_experiment(sim.portfolio, exp, segments=False, adjust=False,
                              metrics=["paid_by_due_d"])
    assert not full.srm.mismatch and not full.srm_data.mismatch
    assert full.srm_data.population == "data"

    pf = sim.portfolio
    firm = pf.assignments.loc[pf.assignments["arm"] == "firm", "customer_id"]
    segment = pf.customers.set_index("customer_id")["segment"]
    target = segment.value_counts().index[0]
    in_target = firm[firm.map(segment) == target]
    lost = set(in_target.iloc[::3])  # the pipeline drops a third of them
    lossy = replace(pf, invoices=pf.invoices[~(
        pf.invoices["customer_id"].isin(lost)
        & (pf.invoices["issue_date"] >= pd.Timestamp("2025-04-01")))])
    r = analyze_experiment(lossy, exp, segments=False, adjust=False, metrics=["paid_by_due_d"])
    assert not r.srm.mismatch  # the assignments table is still balanced
    assert r.srm_data.mismatch
    assert target in r.srm_data.mismatched_segments
    assert r.summary().startswith("WARNING")
    assert "analysed data" in r.summary()
    assert "datos analizados" in r.summary("es")
    assert "analysed data" in r._repr_html_()
