"""Behaviour-change alerts: hand-built histories (exact) and simulated truth (statistical)."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.analytics.alerts import (
    AlertParams,
    alert_tradeoff,
    behaviour_alerts,
    evaluate_alerts,
    observations,
)
from collections_lab.model.simulation import simulate
from collections_lab.model.strategies import example_strategies


def history(customer, late, start="2025-01-31", outcome=None):
    due = pd.date_range(start, periods=len(late), freq="30D")
    outcome = ["paid"] * len(late) if outcome is None else outcome
    frame = pd.DataFrame({"customer_id": customer,
                          "invoice_id": [f"{customer}-{k}" for k in range(len(late))],
                          "due_date": due, "days_late": late,
                          "event": [o == "paid" for o in outcome], "outcome": outcome})
    frame["end_date"] = frame["due_date"] + pd.to_timedelta(frame["days_late"], unit="D")
    return frame


def frame_of(*parts, as_of="2026-12-31"):
    pt = pd.concat(parts, ignore_index=True)
    pt.attrs["as_of"] = pd.Timestamp(as_of)
    return pt


DUE = pd.date_range("2025-01-31", periods=10, freq="30D")
# hand-made frames below carry lateness only (no amounts, no payments): one signal feeds
# the chart, so they use the lateness-only threshold of the previous chart
H1 = 5.0


def test_shift_is_flagged_with_before_after_evidence_and_dates():
    pt = frame_of(history("shift", [0, 1, -1, 0, 0, 1, 25, 30, 28, 30]),
                  history("steady", [0, 1, -1, 0, 0, 1, 0, -1, 1, 0]))
    res = behaviour_alerts(pt, keep_chart=True, h=H1)
    alerts = res.to_frame()
    assert alerts["customer_id"].tolist() == ["shift"]
    a = alerts.iloc[0]
    # the third late invoice (due DUE[7], paid 30 days late) triggers the alert when it is
    # 10 days overdue and still unpaid, before it is paid: evidence from an open invoice
    assert a["invoice_id"] == "shift-7"
    assert a["alert_date"] == DUE[7] + pd.Timedelta(days=10)
    assert a["change_date"] == DUE[5]  # the run starts at the 1-day-late invoice
    assert a["before_mean"] == 0.0
    # after: 1 and 25 days late, and the trigger 10 days overdue so far
    assert a["n_after"] == 3 and a["after_mean"] == pytest.approx((1 + 25 + 10) / 3)
    assert a["shift_days"] == pytest.approx(a["after_mean"] - a["before_mean"])
    chart = res.chart
    assert set(chart["customer_id"]) == {"shift", "steady"}
    assert chart.loc[chart["customer_id"] == "steady", "S"].max() < res.params.h


def test_one_bad_invoice_even_escalated_is_not_a_change():
    one = history("one", [0, 0, 0, 0, 0, 60, 0, 0, 0, 0],
                  outcome=["paid"] * 5 + ["escalated"] + ["paid"] * 4)
    two = history("two", [0, 0, 0, 0, 0, 60, 0, 0, 45, 0],
                  outcome=["paid"] * 5 + ["escalated"] + ["paid"] * 4)
    assert behaviour_alerts(frame_of(one, two), h=H1).to_frame().empty
    # persistence: three late invoices in a row do alert
    three = history("three", [0, 0, 0, 0, 0, 60, 20, 30, 0, 0],
                    outcome=["paid"] * 5 + ["escalated"] + ["paid"] * 4)
    assert behaviour_alerts(frame_of(one, three), h=H1).to_frame()["customer_id"].tolist() == [
        "three"]


def test_open_overdue_invoices_raise_the_alert_before_they_are_paid():
    h = history("open", [0, -1, 0, 1, 0, 0, 0, 0])
    # the last three are unpaid at as_of: 75, 45 and 15 days overdue
    as_of = DUE[7] + pd.Timedelta(days=15)
    for k, late in zip((5, 6, 7), (75, 45, 15), strict=True):
        h.loc[k, ["event", "outcome", "days_late"]] = [False, "open", late]
        h.loc[k, "end_date"] = as_of
    pt = frame_of(h, as_of=str(as_of.date()))
    obs = observations(pt)
    assert obs["x"].tolist()[-3:] == [60, 45, 15]  # capped at cap_days, else lateness so far
    assert obs["final"].tolist()[-3:] == [True, False, False]
    a = behaviour_alerts(pt, h=H1).to_frame()
    assert len(a) == 1
    assert a["alert_date"].iloc[0] <= as_of
    assert a["invoice_id"].iloc[0] in {"open-6", "open-7"}


def test_open_invoice_not_yet_overdue_says_nothing():
    h = history("open", [0, 0, 0, 0, 5])
    as_of = h["due_date"].iloc[4] - pd.Timedelta(days=3)
    h.loc[4, ["event", "outcome", "days_late"]] = [False, "open", -3]
    obs = observations(frame_of(h, as_of=str(as_of.date())))
    assert len(obs) == 4


NOISE = np.array([0, 1, -1, 0.5, -0.5, 0.2, -0.2, 0.8, -0.8, 0.3, -0.3, 0])


def with_amounts(frame, drop_from=None, factor=0.45):
    amount = 1000 * np.exp(0.1 * NOISE[:len(frame)])
    if drop_from is not None:
        amount[drop_from:] *= factor
    return frame.assign(amount=amount, issue_date=frame["due_date"] - pd.Timedelta(days=30))


def test_smaller_orders_alert_at_issue_before_any_payment_is_due():
    pt = frame_of(with_amounts(history("shrink", [0] * 12), drop_from=7),
                  with_amounts(history("steady", [0] * 12)),
                  with_amounts(history("steady2", [1, 0, 2, 0, 1, 0, 1, 2, 0, 0, 1, 0])))
    a = behaviour_alerts(pt).to_frame()
    assert a["customer_id"].tolist() == ["shrink"]
    row = a.iloc[0]
    assert row["trigger"] == "amount"
    issued = pt.set_index("invoice_id").loc[row["invoice_id"]]
    # raised the day the third small invoice was issued, a month before it is due
    assert row["invoice_id"] == "shrink-9"
    assert row["alert_date"] == issued["issue_date"] < issued["due_date"]
    assert row["before_amount"] == pytest.approx(1000, rel=0.05)
    assert row["after_amount"] == pytest.approx(450, rel=0.05)
    assert row["shift_days"] == 0.0  # lateness did not move: the evidence says so


def test_part_payments_alert_on_the_first_partial_payment():
    pt = frame_of(history("parts", [0] * 12), history("single", [0] * 12))
    pay = pd.DataFrame({"invoice_id": pt["invoice_id"], "paid_at": pt["end_date"]})
    split = pt.loc[(pt["customer_id"] == "parts") & (pt.index % 12 >= 6)]
    first = pd.DataFrame({"invoice_id": split["invoice_id"],
                          "paid_at": split["due_date"] - pd.Timedelta(days=20)})
    pay = pd.concat([pay, first], ignore_index=True)
    # one signal only (no amounts): the lower threshold of a single-signal chart
    a = behaviour_alerts(pt, payments=pay, h=6).to_frame()
    assert a["customer_id"].tolist() == ["parts"]
    row = a.iloc[0]
    assert row["trigger"] == "partial"
    assert row["alert_date"] in set(first["paid_at"])  # 20 days before that invoice is due
    assert row["before_partial_share"] < 0.1 and row["after_partial_share"] == 1.0
    assert np.isnan(row["before_amount"])  # no amounts given: no amount evidence
    # without the payments table the same frame has nothing to say
    assert behaviour_alerts(pt, h=6).to_frame().empty
    with pytest.raises(ValueError, match="paid_at"):
        behaviour_alerts(pt, payments=pay.drop(columns="paid_at"))


def test_short_histories_are_counted_not_judged():
    pt = frame_of(history("single", [3]), history("steady", [0, 1, -1, 0, 0, 1, 0]))
    res = behaviour_alerts(pt)
    assert res.n_monitored == 1 and res.n_unmonitored == 1
    assert "1 customers have too little history" in res.summary("en")
    assert "muy poco historial" in res.summary("es")


def test_nobody_monitored_gives_an_empty_result_not_an_error():
    pt = frame_of(history("a", [0, 1]), history("b", [3]))
    res = behaviour_alerts(pt)
    assert res.to_frame().empty and res.n_monitored == 0 and res.n_unmonitored == 2


def test_bad_parameters_fail_with_a_clear_message():
    with pytest.raises(ValueError, match="baseline_n"):
        AlertParams(baseline_n=0)
    with pytest.raises(ValueError, match="checkpoints_days"):
        behaviour_alerts(frame_of(history("a", [0, 1])), checkpoints_days=(0, 10))


@pytest.fixture(scope="module")
def simulated():
    # the default behaviour model (distress ramps up over 150 days); the defaults of
    # AlertParams were tuned on seed 3, this is another seed
    sim = simulate(2500, example_strategies()["nudge_then_firm"], seed=11,
                   start="2025-01-01", end="2026-06-30")
    return sim, "2026-08-31"


def test_alerts_recover_simulated_distress(simulated):
    assert AlertParams().h == 9.0  # the curve test below reads the default at index 1
    sim, as_of = simulated
    alerts = behaviour_alerts(sim.portfolio, as_of=as_of)
    ev = evaluate_alerts(alerts, sim.truth, sim.portfolio)
    prevalence = ev.n_positives / ev.n_eligible
    assert prevalence < 0.1
    # figures reached at the default h = 9 (lateness + order size + part payments;
    # benchmarks/RESULTS.md, 5,000 customers, held-out seeds 11/12/21): see RESULTS;
    # here (2,500 customers) precision 0.75, recall 0.51, median lead 50 days. The
    # issue's recall 0.8 at precision 0.7 is not reached; the 30-day lead is.
    assert ev.precision > 0.65 and ev.precision > 8 * prevalence
    assert ev.recall > 0.42
    assert ev.median_lead_days > 35
    true = ev.detail.loc[ev.detail["true_alert"]]
    assert (true["alert_date"] >= true["distress_start"]).all()
    assert (alerts.frame["alert_date"] <= pd.Timestamp(as_of)).all()


def test_young_episodes_are_left_out_not_counted_as_negatives(simulated):
    sim, as_of = simulated
    alerts = behaviour_alerts(sim.portfolio, as_of=as_of)
    all_ = evaluate_alerts(alerts, sim.truth, sim.portfolio, min_episode_days=0)
    old = evaluate_alerts(alerts, sim.truth, sim.portfolio, min_episode_days=120)
    dropped = all_.n_positives - old.n_positives
    assert dropped > 0
    assert all_.n_eligible - old.n_eligible == dropped
    # episodes younger than 120 days are hard to see: leaving them out raises recall
    assert old.recall > all_.recall


def test_tradeoff_recall_falls_and_precision_rises_with_threshold(simulated):
    sim, as_of = simulated
    curve = alert_tradeoff(sim.portfolio, sim.truth, as_of=as_of, thresholds=(5.0, 9.0, 12.0))
    assert np.all(np.diff(curve["recall"]) <= 0)
    assert np.all(np.diff(curve["n_alerts"]) <= 0)
    assert np.all(np.diff(curve["precision"]) > 0)
    # lower thresholds alert earlier: longer lead before churn / default
    assert curve["median_lead_days"].iloc[0] > curve["median_lead_days"].iloc[-1]
    single = evaluate_alerts(behaviour_alerts(sim.portfolio, as_of=as_of), sim.truth,
                             sim.portfolio)
    assert single.to_frame()["n_alerts"].iloc[0] == curve.loc[1, "n_alerts"]
    assert curve.loc[1, "precision"] == pytest.approx(single.precision)
    assert curve.loc[1, "recall"] == pytest.approx(single.recall)
