"""One story across pages (issue 16): each figure several pages show is computed from
every page's own data and must be equal across pages.

The pages call package functions; this test calls the same functions on the bundled
sample (no notebook is rendered), so it is fast. Figures and where they appear:

- open invoices (still owed, at legal collection, in reminders): page 01's KPI table and
  tiles, the data check heading every page, page 02's cash forecast, page 05's twin aging;
- over 90 days and DSO: page 01 (aging, tiles, index brief), page 02's tiles, page 05's
  pointer to page 01;
- churn: page 01's summary and page 05's pointer (page 05's own churn is a simulation,
  and both pages say so);
- the experiment's arms and customers per arm: page 04's arms and sample-ratio tables,
  the assignments, page 05's comparison.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from collections_lab.analytics.figures import shared_figures
from collections_lab.analytics.health import portfolio_health
from collections_lab.analytics.kpis import kpi_report
from collections_lab.data.loading import load_portfolio
from collections_lab.i18n import column_label, format_number, format_pct
from collections_lab.reporting.cash import cash_forecast_table, cash_remainder
from collections_lab.reporting.check import check_portfolio
from collections_lab.reporting.page import health_page

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.fixture(scope="module")
def sample():
    return load_portfolio(SAMPLE)


@pytest.fixture(scope="module")
def as_of(sample):
    return sample.payment_times().attrs["as_of"]


@pytest.fixture(scope="module")
def figures(sample, as_of):
    return shared_figures(sample, as_of)


@pytest.fixture(scope="module")
def health(sample, as_of):
    # page 01's computation, as its notebook calls it (churn on: its note is a shared figure)
    return portfolio_health(sample, as_of=as_of, n_clusters=4)


def test_open_invoices_are_one_count_split_the_same_way_everywhere(sample, as_of, figures,
                                                                   health):
    f = figures.frame.set_index("currency")
    # page 01: its KPI table counts what is still owed, escalated balances included
    snap = health.kpis["snapshot"].frame.set_index("currency")
    assert snap["open_invoices"].to_dict() == f["open_invoices"].to_dict()
    assert (f["open_invoices"] == f["at_legal_collection"] + f["in_reminders"]).all()
    assert (f["at_legal_collection"] > 0).all()  # the sample has escalated balances
    # the data check: its "open" is the payment-times frame's, i.e. in reminders
    pt = sample.payment_times(as_of=as_of)
    assert pt[pt["outcome"] == "open"].groupby("currency").size().to_dict() == \
        f["in_reminders"].to_dict()
    facts = check_portfolio(sample, as_of=as_of).facts
    assert facts["open"] == f["in_reminders"].sum()
    assert facts["open_owed"] == f["open_invoices"].sum()
    assert facts["still_owed"] == f["at_legal_collection"].sum()
    # page 05: the twin compares the invoices in reminders (its story ends at escalation)
    from collections_lab.lab.twin import _aging_by_segment

    reference = {c: 1.0 for c in f.index}
    twin_aging = _aging_by_segment(pt, pt["end_date"], pt["outcome"].to_numpy(), reference,
                                   as_of)
    assert int(twin_aging["count"].sum()) == int(f["in_reminders"].sum())
    # and both pages say why their counts differ
    assert "01" in health.figures.health_note("en") or "05" in health.figures.health_note("en")
    summary = " ".join(str(s) for s in health.executive_summary("en"))
    assert format_number(int(f["open_invoices"].sum()), 0, "en") in summary
    assert format_number(int(f["at_legal_collection"].sum()), 0, "en") in summary


def test_aging_and_dso_are_page_01s_on_every_page(sample, as_of, figures, health):
    f = figures.frame.set_index("currency")
    aging = health.kpis["aging"].frame
    over90 = aging[aging["bucket"] == "90+"].set_index("currency")["amount"]
    np.testing.assert_allclose(over90.reindex(f.index), f["over_90"])
    snap = health.kpis["snapshot"].frame.set_index("currency")
    np.testing.assert_allclose(snap["dso"].reindex(f.index), f["dso"])
    # page 01's tiles and the index brief (the facts the page records)
    facts = health_page(health, "en").facts
    for cur in f.index:
        assert facts["over90"][cur] == pytest.approx(f.loc[cur, "over_90"], abs=0.01)
        assert facts["dso"][cur] == pytest.approx(f.loc[cur, "dso"], abs=0.01)
        assert facts["open"][cur] == pytest.approx(f.loc[cur, "receivables"], abs=0.01)
    # page 01's own KPI report at the same date gives the same (no second computation)
    again = kpi_report(sample, as_of)["snapshot"].frame.set_index("currency")
    np.testing.assert_allclose(again["receivables"], snap["receivables"])
    # page 05 quotes page 01's DSO and churn, formatted as page 01 shows them
    note = figures.lab_note("en")
    for cur in f.index:
        assert f"{cur} {format_number(f.loc[cur, 'dso'], 0, 'en')}" in note
    assert format_pct(figures.churn_90, 1, "en") in note
    assert figures.churn_90 == pytest.approx(0.0477, abs=0.01)


def test_the_cash_forecast_adds_up_to_page_01s_receivables(sample, as_of, figures):
    from collections_lab.survival.report import open_invoice_forecast

    frame = sample.payment_times(as_of=as_of)
    preds, cash = open_invoice_forecast(frame, as_of, by="segment", weeks=12)
    f = figures.frame.set_index("currency")
    for cur, sub in cash.groupby("currency"):
        covered = sub["expected_amount"].sum()  # 12 weeks + later/never
        # what the forecast covers plus what is at legal collection is page 01's receivables
        assert covered + f.loc[cur, "at_legal_amount"] == pytest.approx(
            f.loc[cur, "receivables"], rel=1e-9)
        weekly = sub[sub["period"] == "week"]
        assert (weekly["low"] <= weekly["high"]).all()
        # where most cash is expected the band brackets it (a late week's band may be
        # 0 – 0: in most outcomes nothing comes then, though the mean is above 0)
        first = weekly.head(4)
        assert ((first["low"] < first["expected_amount"])
                & (first["expected_amount"] < first["high"])).all()
        last = weekly.iloc[-1]
        assert last["cumulative_low"] < last["cumulative"] < last["cumulative_high"]
        assert last["cumulative"] == pytest.approx(weekly["expected_amount"].sum())
        assert (weekly["period_start"].diff().dropna() == pd.Timedelta(days=7)).all()
        assert weekly["period_start"].iloc[0] == as_of + pd.Timedelta(days=1)
    # page 02's tiles: open receivables and DSO are page 01's (the same figures object)
    from types import SimpleNamespace

    from collections_lab.reporting.page import compact_money, payment_page

    top = payment_page(SimpleNamespace(cash=cash, as_of=as_of), sample, "en")
    tiles = {tile.label: tile.value for tile in top.tiles}
    assert tiles["Open receivables"] == "\n".join(
        compact_money(v, c, "en") for c, v in f["receivables"].items())
    assert tiles["DSO (days)"] == "\n".join(
        f"{c} {format_number(v, 0, 'en')}" for c, v in f["dso"].items())
    sentences = cash_remainder(cash, figures, "en")
    assert len(sentences) == len(f) and all("legal collection" in s for s in sentences)
    table = cash_forecast_table(cash, "es")
    assert table.iloc[0, 0].startswith("1 jun")  # a dated week, in the locale
    assert table.iloc[-2, 0].startswith("Total")


def test_the_band_is_a_predictive_distribution_not_a_fixed_margin(sample, as_of):
    """The simulated band's mean matches the expected amounts, and a tighter level gives
    a narrower band."""
    from collections_lab.survival.prediction import expected_cash
    from collections_lab.survival.report import open_invoice_forecast

    frame = sample.payment_times(as_of=as_of)
    preds, wide = open_invoice_forecast(frame, as_of, weeks=6)
    narrow = expected_cash(preds, as_of, weeks=6, level=0.5)
    w = wide[wide["period"] == "week"]
    n = narrow[narrow["period"] == "week"]
    assert ((n["high"] - n["low"]).to_numpy() <= (w["high"] - w["low"]).to_numpy() + 1e-6).all()
    again = expected_cash(preds, as_of, weeks=6)
    pd.testing.assert_frame_equal(again, wide)  # seeded: the page does not flicker


def test_the_experiments_arms_and_customers_per_arm_agree(sample):
    import collections_lab as cl
    from collections_lab.experiments.workflow import readout_table

    asg = sample.assignments
    per_arm = asg.groupby("arm")["customer_id"].nunique()
    assert set(per_arm.index) == set(sample.experiment["arms"])
    # page 04: the readout's arms and its sample-ratio table count the same customers
    readout = cl.analyse_experiment(sample, metrics=["paid_by_due_d"], segments=False,
                                    adjust=False)
    assert set(readout.arms) == set(per_arm.index)
    srm = readout.srm.table
    counts = srm[srm["segment"] == "all"].set_index("arm")["customers"]
    assert counts.to_dict() == per_arm.to_dict()
    # its effects table counts arm + control customers, and says so in the header
    table = readout_table(readout, "en")
    assert column_label("customers_arm_control", "en") == "Customers (arm + control)"
    both = per_arm + per_arm[readout.control]
    for _, row in table.iterrows():
        assert row["customers_arm_control"] <= both[row["arm"]]


def test_the_design_leaves_customers_of_the_running_experiment_alone(sample, as_of):
    from collections_lab.experiments.workflow import outside_running_experiment

    free, running = outside_running_experiment(sample, as_of=as_of)
    assert running.experiment_id == sample.experiment["experiment_id"]
    assert running.customers == sample.assignments["customer_id"].nunique() == 2000
    assert free.customers.empty and running.free == 0
    assert "-p overlap true" in running.summary("en")
    kept, asked = outside_running_experiment(sample, as_of=as_of, include_running=True)
    assert len(kept.customers) == 2000 and asked.included
    assert "overlap" in asked.summary("es")


def test_an_arm_the_lab_predicts_to_lose_money_is_flagged(tmp_path):
    import json

    from collections_lab.reporting.story import losing_arm_warnings

    run = {"report": "05_strategy_lab", "status": "ok", "parameters": {"data": None},
           "as_of": "2026-05-31", "started_at": "2026-12-06T13:55:00+00:00",
           "page": {"facts": {"reference": "business_as_usual", "lab_currency": "USD",
                              "losing": {"nudge_then_firm": [-3.4e6, -4.1e6, -2.6e6]}}}}
    (tmp_path / "runs.json").write_text(json.dumps({"version": 1, "runs": [run]}))
    arms = ["one_friendly_after_due", "nudge_then_firm"]
    found = losing_arm_warnings(arms, "en", None, "2026-05-31", reports_dir=tmp_path)
    assert len(found) == 1 and "nudge_then_firm" in found[0] and "USD" in found[0]
    assert "05" in found[0]
    es = losing_arm_warnings(arms, "es", None, "2026-05-31", reports_dir=tmp_path)
    assert "pierda dinero" in es[0]
    # another date or other data: the lab did not look at this portfolio, nothing claimed
    assert losing_arm_warnings(arms, "en", None, "2026-04-30", reports_dir=tmp_path) == []
    assert losing_arm_warnings(arms, "en", "/other/data", "2026-05-31",
                               reports_dir=tmp_path) == []


def test_converted_amounts_say_their_exchange_rates():
    from collections_lab.lab.report import SAMPLE_FX
    from collections_lab.reporting.story import fx_sentence

    text = fx_sentence(SAMPLE_FX, ["COP", "EUR", "MXN", "USD"], "en")
    assert "COP 4,000" in text and "EUR 0.92" in text and "MXN 18.00" in text
    assert "COP 4.000" in fx_sentence(SAMPLE_FX, ["COP"], "es")
    assert fx_sentence({}, ["COP"], "en") == ""  # one currency: nothing converted


def test_churn_validation_on_a_handful_of_events_says_why_it_is_not_shown():
    import inspect

    from collections_lab.analytics.churn import (
        MIN_CHURN_EVENTS,
        TooFewChurnEvents,
        churn_validation,
    )
    from collections_lab.model.simulation import simulate
    from collections_lab.model.strategies import example_strategies

    sim = simulate(60, example_strategies()["nudge_then_firm"], seed=3, start="2024-01-01",
                   end="2024-12-31", progress=False)
    # the split portfolio_health validates on (its default months before as_of)
    months = inspect.signature(portfolio_health).parameters["churn_split_months"].default
    split = pd.Timestamp("2024-12-31") - pd.DateOffset(months=months)
    with pytest.raises(TooFewChurnEvents) as err:
        churn_validation(sim.portfolio, split_date=split, as_of="2024-12-31")
    assert min(err.value.churned, err.value.retained) < MIN_CHURN_EVENTS
    health = portfolio_health(sim.portfolio, as_of="2024-12-31")
    assert health.churn_validation is None
    for lang, word in (("en", "not shown"), ("es", "no mostrado")):
        text = " ".join(str(s) for s in health.executive_summary(lang))
        assert word in text
        assert f"{err.value.churned} " in text  # the counts behind the refusal are said


def test_the_design_page_says_to_wait_when_every_customer_is_in_the_running_test(sample,
                                                                                 as_of):
    from types import SimpleNamespace

    from collections_lab.experiments.workflow import outside_running_experiment
    from collections_lab.reporting.page import design_page

    design = SimpleNamespace(
        plans=pd.DataFrame({"metric": ["paid_by_due_d"], "customers_per_arm": [295],
                            "invoices_per_arm": [3717], "weeks": [43.0], "effect": [0.03],
                            "alpha": [0.05]}),
        config=SimpleNamespace(due_plus_days=15), power=0.8, weights=(1.0, 1.0),
        equal_arms=True, baseline=pd.DataFrame({"quantity": ["p_paid_by_due_d"], "value": [0.9]}))
    free, running = outside_running_experiment(sample, as_of=as_of)
    warning = "«nudge_then_firm» is predicted to lose money"
    top = design_page(design, None, free, as_of, "en", running=running, notes=[warning])
    assert top.decision.action.startswith("Do not start a new test now")
    assert warning in top.decision.stake
    assert top.decision.stake.count("running experiment") == 0  # said once, in the action
    assert top.facts["decision"] == "wait_for_running"
    assert {t.label: t.value for t in top.tiles}["Customers available"] == "0"
    # asked to overlap: the usual sizing decision, and the overlap is said
    kept, asked = outside_running_experiment(sample, as_of=as_of, include_running=True)
    top = design_page(design, None, kept, as_of, "en", running=asked)
    assert not top.decision.action.startswith("Do not start")
    assert "assigned again" in top.decision.stake
