"""KPIs on a hand-built portfolio where every figure is computed by hand (see comments)."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.analytics.kpis import (
    MixedCurrencyError,
    NoInvoicesError,
    aging,
    at_risk_rate,
    cei,
    dso,
    kpi_report,
    kpi_snapshot,
    monthly_trends,
)
from collections_lab.data.portfolio import Portfolio

D = pd.to_datetime


def hand_portfolio(extra_usd: bool = False) -> Portfolio:
    """Seven EUR invoices; on 2025-03-31:

    a 100 issued 01-01 due 01-31, paid 01-20                  -> closed
    b 200 issued 01-15 due 02-14, 50 paid 03-01               -> 150 open, 45 dpd (31-60)
    c 300 issued 02-10 due 03-12                              -> 300 open, 19 dpd (1-30)
    d 400 issued 03-05 due 04-04 (200 paid 05-01, later)      -> 400 current
    e  50 issued 2024-11-01 due 2024-12-01                    -> 50, 120 dpd (90+)
    f  80 issued 2024-12-01 due 12-31, written off 2025-03-01 -> not a receivable
    g  60 issued 2024-12-20 due 2025-01-01                    -> 60, 89 dpd (61-90)
    """
    inv = pd.DataFrame({
        "invoice_id": list("abcdefg"),
        "customer_id": ["c1", "c1", "c2", "c2", "c3", "c3", "c3"],
        "issue_date": D(["2025-01-01", "2025-01-15", "2025-02-10", "2025-03-05",
                         "2024-11-01", "2024-12-01", "2024-12-20"]),
        "due_date": D(["2025-01-31", "2025-02-14", "2025-03-12", "2025-04-04",
                       "2024-12-01", "2024-12-31", "2025-01-01"]),
        "amount": [100.0, 200, 300, 400, 50, 80, 60],
        "currency": ["EUR"] * 7,
        "written_off_at": D([None, None, None, None, None, "2025-03-01", None]),
    })
    pay = pd.DataFrame({
        "invoice_id": ["a", "b", "d"],
        "paid_at": D(["2025-01-20", "2025-03-01", "2025-05-01"]),
        "amount": [100.0, 50.0, 200.0],
    })
    cust = pd.DataFrame({"customer_id": ["c1", "c2", "c3"],
                         "segment": ["smb", "smb", "enterprise"]})
    if extra_usd:
        inv = pd.concat([inv, pd.DataFrame({
            "invoice_id": ["h"], "customer_id": ["c4"], "issue_date": D(["2025-03-01"]),
            "due_date": D(["2025-03-31"]), "amount": [1000.0], "currency": ["USD"],
            "written_off_at": D([None])})], ignore_index=True)
        cust = pd.concat([cust, pd.DataFrame({"customer_id": ["c4"], "segment": ["smb"]})])
    return Portfolio(cust, inv, payments=pay)


AS_OF = "2025-03-31"


def test_aging_buckets_count_and_amount():
    frame = aging(hand_portfolio(), AS_OF).to_frame()
    assert frame["bucket"].tolist() == ["current", "1-30", "31-60", "61-90", "90+"]
    assert frame["count"].tolist() == [1, 1, 1, 1, 1]
    assert frame["amount"].tolist() == [400.0, 300.0, 150.0, 60.0, 50.0]
    assert frame["share"].sum() == pytest.approx(1.0)


def test_aging_as_of_earlier_date_ignores_later_payments_and_writeoffs():
    # On 2025-02-20: a paid; b 200 (6 dpd); c 300 current; e 50 (81 dpd); f 80 (51 dpd,
    # write-off is later); g 60 (50 dpd); d not issued yet.
    frame = aging(hand_portfolio(), "2025-02-20").to_frame().set_index("bucket")
    assert frame.loc["current", "amount"] == 300.0
    assert frame.loc["1-30", "amount"] == 200.0
    assert frame.loc["31-60", "amount"] == 140.0
    assert frame.loc["61-90", "amount"] == 50.0
    assert frame.loc["90+", "count"] == 0


def test_dso_standard_countback_bpdso_add():
    row = dso(hand_portfolio(), AS_OF).to_frame().iloc[0]
    # AR 960, sales in (2024-12-31, 2025-03-31] = 1000
    assert row["receivables"] == 960.0
    assert row["sales_period"] == 1000.0
    assert row["dso"] == pytest.approx(960 / 1000 * 90)  # 86.4
    # countback: March 400 (31 d), February 300 (28 d), January 260 of 300 (31 d)
    assert row["dso_countback"] == pytest.approx(31 + 28 + 31 * 260 / 300)
    assert row["bpdso"] == pytest.approx(400 / 1000 * 90)
    assert row["add"] == pytest.approx(86.4 - 36.0)


def test_countback_mid_month_uses_days_elapsed():
    # On 2025-03-10: AR = b 150 + c 300 + d 400 + e 50 + g 60 = 960 (f written off 03-01);
    # March so far (10 days) 400 -> 10 d; February 300 -> 28 d; January 260 of 300
    row = dso(hand_portfolio(), "2025-03-10").to_frame().iloc[0]
    assert row["receivables"] == 960.0
    assert row["dso_countback"] == pytest.approx(10 + 28 + 31 * 260 / 300)
    # with 1 month of history only, AR cannot be absorbed: countback undefined
    short = dso(hand_portfolio(), "2025-03-10", max_months=1).to_frame().iloc[0]
    assert np.isnan(short["dso_countback"])


def test_cei_hand_computed():
    row = cei(hand_portfolio(), "2024-12-31", AS_OF).to_frame().iloc[0]
    # B = e 50 + f 80 + g 60 = 190; S = 1000; E = 960; E_current = 400
    assert row["begin_ar"] == 190.0
    assert row["end_current_ar"] == 400.0
    assert row["cei"] == pytest.approx(100 * (190 + 1000 - 960) / (190 + 1000 - 400))


def test_snapshot_weighted_days_past_due_and_at_risk():
    snap = kpi_snapshot(hand_portfolio(), AS_OF).to_frame().iloc[0]
    expected = (150 * 45 + 300 * 19 + 50 * 120 + 60 * 89) / 560
    assert snap["weighted_days_past_due"] == pytest.approx(expected)
    assert snap["cei"] == pytest.approx(100 * 230 / 790)
    # latest complete month on 03-31 with a 90-day horizon: December 2024 (12-31 + 90
    # = 03-31): f 80 (written off = unpaid) + g 60 unpaid -> rate 1
    assert snap["at_risk_month"] == pd.Timestamp("2024-12-01")
    assert snap["at_risk_rate"] == 1.0


def test_at_risk_rate_by_issue_month():
    # the hand portfolio's last event is 2025-05-01: 06-30 is asked for explicitly
    frame = at_risk_rate(hand_portfolio(), "2025-06-30",
                         allow_future=True).to_frame().set_index("month")
    # January: a paid day 19; b 150 unpaid on 04-15 -> 150/300
    assert frame.loc["2025-01-01", "at_risk_rate"] == pytest.approx(0.5)
    assert frame.loc["2025-02-01", "at_risk_rate"] == 1.0
    # March: d 400, 200 paid 05-01 (before 06-03) -> 0.5; complete since 06-29 <= 06-30
    assert frame.loc["2025-03-01", "at_risk_rate"] == pytest.approx(0.5)
    early = at_risk_rate(hand_portfolio(), "2025-06-28",
                         allow_future=True).to_frame().set_index("month")
    assert not early.loc["2025-03-01", "complete"]
    assert np.isnan(early.loc["2025-03-01", "at_risk_rate"])


def test_monthly_trends_points_and_flows():
    frame = monthly_trends(hand_portfolio(), as_of=AS_OF, start="2025-01-01").to_frame()
    assert frame["date"].dt.strftime("%m-%d").tolist() == ["01-31", "02-28", "03-31"]
    jan, feb, mar = (frame.iloc[i] for i in range(3))
    assert jan["receivables"] == 50 + 80 + 60 + 200  # a paid, b open
    assert feb["invoiced"] == 300.0 and feb["collected"] == 0.0
    assert mar["collected"] == 50.0 and mar["invoiced"] == 400.0
    assert mar["dso"] == pytest.approx(86.4)
    assert mar["amount_90+"] == 50.0


def test_monthly_trends_cei_and_countback_by_hand():
    frame = monthly_trends(hand_portfolio(), as_of=AS_OF, start="2025-01-01").to_frame()
    jan, feb, mar = (frame.iloc[i] for i in range(3))
    # month-end AR: 12-31 e 50 + f 80 + g 60 = 190; 01-31 + b 200 = 390 (a paid);
    # 02-28 + c 300 = 690; 03-31 b 150 + c 300 + d 400 + e 50 + g 60 = 960 (f written
    # off 03-01). Not yet due at the month end: b 200, c 300, d 400. Sales: 300, 300, 400.
    # CEI = (B + S - E) / (B + S - E_current)
    assert jan["cei"] == pytest.approx(100 * (190 + 300 - 390) / (190 + 300 - 200))
    assert feb["cei"] == pytest.approx(0.0)  # nothing collected or written off in February
    assert mar["cei"] == pytest.approx(100 * (690 + 400 - 960) / (690 + 400 - 400))
    # countback: Dec 2024 sales f 80 + g 60 = 140 (31 days)
    assert jan["dso_countback"] == pytest.approx(31 + 31 * 90 / 140)  # 390 - Jan 300
    assert feb["dso_countback"] == pytest.approx(28 + 31 + 31 * 90 / 140)  # 690 - 300 - 300
    assert mar["dso_countback"] == pytest.approx(31 + 28 + 31 * 260 / 300)


def test_by_segment_splits_groups():
    frame = kpi_snapshot(hand_portfolio(), AS_OF, by="segment").to_frame().set_index("segment")
    assert frame.loc["smb", "receivables"] == 150 + 300 + 400
    assert frame.loc["enterprise", "receivables"] == 110.0


def test_mixed_currencies_per_currency_error_or_conversion():
    p = hand_portfolio(extra_usd=True)
    frame = aging(p, AS_OF).to_frame()
    assert set(frame["currency"]) == {"EUR", "USD"}
    usd = frame.loc[frame["currency"] == "USD"].set_index("bucket")
    assert usd.loc["current", "amount"] == 1000.0  # due on as_of: current; never added to the EUR amounts
    with pytest.raises(MixedCurrencyError, match="conversion"):
        kpi_snapshot(p, AS_OF, total=True)
    conv = kpi_snapshot(p, AS_OF, conversion={"EUR": 1.0, "USD": 0.5}).to_frame()
    assert len(conv) == 1 and conv["currency"].iloc[0] == "EUR"
    assert conv["receivables"].iloc[0] == pytest.approx(960 + 500)
    with pytest.raises(ValueError, match="no rate for"):
        kpi_snapshot(p, AS_OF, conversion={"EUR": 1.0})


def test_date_range_without_invoices_is_a_clear_error():
    with pytest.raises(NoInvoicesError, match="first invoice is dated 2024-11-01"):
        kpi_snapshot(hand_portfolio(), "2024-01-01")
    with pytest.raises(NoInvoicesError):
        monthly_trends(hand_portfolio(), as_of="2024-06-30", start="2024-01-01")


def test_summary_in_both_languages():
    res = kpi_snapshot(hand_portfolio(), AS_OF)
    assert "DSO 86.4 days" in res.summary("en")
    assert "DSO 86,4 días" in res.summary("es")
    assert "<table" in res._repr_html_()


def test_kpi_report_matches_the_single_calls():
    p = hand_portfolio()
    report = kpi_report(p, AS_OF, by="segment", start="2025-01-01")
    pd.testing.assert_frame_equal(report["snapshot"].to_frame(),
                                  kpi_snapshot(p, AS_OF, by="segment").to_frame())
    pd.testing.assert_frame_equal(report["trends"].to_frame(),
                                  monthly_trends(p, as_of=AS_OF, start="2025-01-01",
                                                 by="segment").to_frame())
    assert set(report) == {"snapshot", "aging", "at_risk", "trends"}


def test_escalated_balances_stay_receivable_unless_excluded():
    p = hand_portfolio()
    p.invoices["escalated_at"] = pd.NaT
    p.invoices.loc[p.invoices["invoice_id"] == "g", "escalated_at"] = pd.Timestamp("2025-03-01")
    kept = aging(p, AS_OF).to_frame().set_index("bucket")
    assert kept.loc["61-90", "amount"] == 60.0  # still owed, an agency is chasing it
    out = aging(p, AS_OF, include_escalated=False).to_frame().set_index("bucket")
    assert out.loc["61-90", "amount"] == 0.0
    assert out["amount"].sum() == 960.0 - 60.0


def test_at_risk_of_incomplete_month_uses_nothing_after_as_of():
    # on 2025-04-30 the March invoice d (400) is unpaid: its 200 payment of 05-01 is later
    frame = at_risk_rate(hand_portfolio(), "2025-04-30").to_frame().set_index("month")
    assert frame.loc["2025-03-01", "unpaid_after"] == 400.0
    assert not frame.loc["2025-03-01", "complete"]
