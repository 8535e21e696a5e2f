"""The one-call portfolio health used by the report notebook."""

import pandas as pd
import pytest

from collections_lab.analytics.health import portfolio_health
from collections_lab.data.portfolio import restrict_currency
from collections_lab.model.simulation import simulate
from collections_lab.model.strategies import example_strategies


@pytest.fixture(scope="module")
def sim():
    return simulate(500, example_strategies()["nudge_then_firm"], seed=8,
                    start="2024-01-01", end="2025-03-31")


def test_health_collects_every_result_and_summarises_in_both_languages(sim):
    h = portfolio_health(sim.portfolio, as_of="2025-03-31")
    assert set(h.kpis) == {"snapshot", "aging", "at_risk", "trends"}
    assert set(h.by_group.to_frame()["segment"]) <= {"small", "medium", "large", "public"}
    assert h.churn_validation is not None and 0.5 < h.churn_validation.auc <= 1
    assert h.churn_scores["churn_probability"].between(0, 1).all()
    en, es = h.executive_summary("en"), h.executive_summary("es")
    assert len(en) == len(es) >= 8
    assert any("DSO" in s and "days" in s for s in en)
    assert any("días" in s for s in es)
    # the thank list never holds a customer of the call list for an alert
    alerted = set(h.alerts.frame["customer_id"])
    assert not alerted & set(h.thank.frame["customer_id"])


def test_health_without_enough_history_for_churn_keeps_a_note(sim):
    h = portfolio_health(sim.portfolio, as_of="2024-06-30")
    assert h.churn_validation is None
    assert any("Churn model not evaluated" in n for n in h.executive_summary("en"))


def test_restrict_currency_keeps_only_that_currency(sim):
    one = restrict_currency(sim.portfolio, "EUR")
    assert set(one.invoices["currency"]) == {"EUR"}
    assert one.payments["invoice_id"].isin(one.invoices["invoice_id"]).all()
    h = portfolio_health(sim.portfolio, as_of="2025-03-31", currency="EUR", churn=False)
    assert h.kpis["snapshot"].to_frame()["currency"].tolist() == ["EUR"]
    with pytest.raises(ValueError, match="no invoice in 'XXX'"):
        restrict_currency(sim.portfolio, "XXX")
    assert isinstance(h.as_of, pd.Timestamp)


def test_report_tables_have_translated_headers(sim):
    h = portfolio_health(sim.portfolio, as_of="2025-03-31", churn=False)
    snap = h.table("snapshot", "es")
    assert {"Moneda", "Cartera", "DSO por recuento", "CEI (%)"} <= set(snap.columns)
    assert "Receivables" in h.table("snapshot", "en").columns
    assert len(h.table("call", "es", rows=3)) <= 3
    assert "Acción" in h.table("call", "es").columns
    for name in h.TABLES:
        h.table(name, "es")
    with pytest.raises(ValueError, match="unknown table"):
        h.table("nope")


def test_formatted_tables_use_the_language_number_style(sim):
    h = portfolio_health(sim.portfolio, as_of="2025-03-31", churn=False)
    raw = h.table("snapshot", "es", formatted=False)
    shown = h.table("snapshot", "es")
    share = raw["Proporción vencida"].iloc[0]
    assert shown["Proporción vencida"].iloc[0] == f"{100 * share:.1f} %".replace(".", ",")
    assert "." in shown["Cartera"].iloc[0] or len(shown["Cartera"].iloc[0]) <= 3


def test_health_alerts_use_all_three_signals(sim):
    from collections_lab.analytics.alerts import behaviour_alerts

    h = portfolio_health(sim.portfolio, as_of="2025-03-31", churn=False)
    # the same alerts as from the whole portfolio (lateness, order size, part payments)
    full = behaviour_alerts(sim.portfolio, as_of="2025-03-31").to_frame()
    pd.testing.assert_frame_equal(h.alerts.to_frame(), full)
    assert h.alerts.to_frame()["before_partial_share"].notna().all()
    # without the payments table the part-payment evidence is missing and the chart
    # grows more slowly: fewer alerts
    pt = sim.portfolio.payment_times(as_of="2025-03-31")
    partial = behaviour_alerts(pt, as_of="2025-03-31").to_frame()
    assert partial["before_partial_share"].isna().all()
    assert len(partial) < len(full)
