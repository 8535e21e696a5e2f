"""Payment discipline and payer segments on a hand-built portfolio with known values."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.analytics.discipline import discipline_over_time, payment_discipline
from collections_lab.analytics.segments import payer_clusters, payer_tiers
from collections_lab.data.portfolio import Portfolio
from collections_lab.i18n import t

D = pd.to_datetime
AS_OF = "2025-06-30"


def hand_portfolio() -> Portfolio:
    """Customer A: four invoices paid 0, 10, -2, 20 days late (amounts 100, 100, 200, 100),
    due 30 days apart. B: one invoice due 06-10 still open on 06-30 (20 days late).
    C: one invoice not yet due (ignored) and one paid 41 days before its 07-31 due date."""
    due_a = D(["2025-01-31", "2025-03-02", "2025-04-01", "2025-05-01"])
    late_a = [0, 10, -2, 20]
    inv = pd.DataFrame({
        "invoice_id": ["a1", "a2", "a3", "a4", "b1", "c1", "c2"],
        "customer_id": ["A"] * 4 + ["B", "C", "C"],
        "issue_date": list(due_a - pd.Timedelta(days=30)) + list(D(["2025-05-11",
                                                                     "2025-06-15",
                                                                     "2025-06-01"])),
        "due_date": list(due_a) + list(D(["2025-06-10", "2025-07-15", "2025-07-31"])),
        "amount": [100.0, 100.0, 200.0, 100.0, 50.0, 70.0, 80.0],
        "currency": ["EUR"] * 4 + ["USD", "MXN", "MXN"],
    })
    pay = pd.DataFrame({
        "invoice_id": ["a1", "a2", "a3", "a4", "c2"],
        "paid_at": list(due_a + pd.to_timedelta(late_a, unit="D")) + [D("2025-06-20")],
        "amount": [100.0, 100.0, 200.0, 100.0, 80.0],
    })
    cust = pd.DataFrame({"customer_id": ["A", "B", "C"], "segment": ["smb", "smb", "large"]})
    return Portfolio(cust, inv, payments=pay)


def test_discipline_hand_computed():
    d = payment_discipline(hand_portfolio(), as_of=AS_OF).to_frame().set_index("customer_id")
    a = d.loc["A"]
    assert a["n_due"] == 4 and a["n_on_time"] == 2
    assert a["on_time_rate"] == 0.5
    assert a["mean_days_late"] == 7.0
    assert a["std_days_late"] == pytest.approx(np.std([0, 10, -2, 20], ddof=1))
    q1, q3 = np.percentile([0, 10, -2, 20], [25, 75])  # -0.5, 12.5
    assert a["iqr_days_late"] == pytest.approx(q3 - q1)
    assert a["mean_days_overdue"] == 7.5
    # weights = amount / 125 -> on-time weight (0.8 + 1.6) / 4.0
    assert a["weighted_on_time_rate"] == pytest.approx(0.6)
    assert a["weighted_mean_days_late"] == pytest.approx((8 - 3.2 + 16) / 4)
    w, x = np.array([0.8, 0.8, 1.6, 0.8]), np.array([0, 10, -2, 20])
    mu = (w * x).sum() / w.sum()
    assert a["weighted_std_days_late"] == pytest.approx(np.sqrt((w * (x - mu) ** 2).sum()
                                                                / w.sum()))
    slope = np.polyfit([0, 30, 60, 90], [0, 10, -2, 20], 1)[0]
    assert a["trend_days_per_month"] == pytest.approx(slope * 30)
    b = d.loc["B"]  # single open invoice, 20 days overdue: a lower bound
    assert b["n_due"] == 1 and b["on_time_rate"] == 0.0 and b["mean_days_late"] == 20
    assert b["n_open_overdue"] == 1
    assert np.isnan(b["std_days_late"]) and np.isnan(b["trend_days_per_month"])
    c = d.loc["C"]  # the not-yet-due invoice is not assessable; the early payment is
    assert c["n_due"] == 1 and c["on_time_rate"] == 1.0 and c["mean_days_late"] == -41
    assert d.loc["A", "segment"] == "smb"


def test_discipline_over_time_by_quarter():
    frame = discipline_over_time(hand_portfolio(), as_of=AS_OF, freq="Q")
    a = frame.loc[frame["customer_id"] == "A"].set_index("period")
    assert a.loc["2025-01-01", "n_due"] == 2  # due 01-31 and 03-02
    assert a.loc["2025-01-01", "mean_days_late"] == 5.0
    assert a.loc["2025-04-01", "mean_days_late"] == 9.0
    overall = discipline_over_time(hand_portfolio(), as_of=AS_OF, freq="Q", by_customer=False)
    assert overall["n_due"].sum() == 5  # C2 (due 07-31, paid early) is not due yet


def test_discipline_before_anything_is_due_is_a_clear_error():
    p = hand_portfolio()
    unpaid = Portfolio(p.customers, p.invoices)  # on 01-05 nothing is paid or due yet
    with pytest.raises(ValueError, match="no invoice is due or paid"):
        payment_discipline(unpaid, as_of="2025-01-05")


def test_tiers_rules_and_parameters():
    disc = payment_discipline(hand_portfolio(), as_of=AS_OF)

    def tier(**rules):
        return payer_tiers(disc, **rules).to_frame().set_index("customer_id")

    # A: 50% on time, IQR of days late 12.5 - (-0.5) = 13, SD 10.1
    assert tier().loc["A", "tier"] == "irregular"  # IQR 13 > 10 days
    assert tier(irregular_days=14).loc["A", "tier"] == "chronically_late"  # rate 0.5 < 0.6
    assert tier(irregular_days=14, occasional_rate=0.5).loc["A", "tier"] == "occasionally_late"
    assert tier(spread="sd", irregular_days=10).loc["A", "tier"] == "irregular"  # SD 10.1
    assert tier(spread="sd", irregular_days=11).loc["A", "tier"] == "chronically_late"
    assert tier().loc["B", "tier"] == "insufficient_history"  # a single invoice
    assert tier().loc["A", "treatment"] == t("treatment.irregular", "en")
    assert payer_tiers(disc, min_invoices=1, lang="es").to_frame().set_index(
        "customer_id").loc["C", "treatment"] == t("treatment.on_time", "es")
    with pytest.raises(ValueError, match="spread must be"):
        tier(spread="range")


def test_tiers_by_segment_and_counts():
    disc = payment_discipline(hand_portfolio(), as_of=AS_OF)
    tiers = payer_tiers(disc, min_invoices=1)
    by_seg = tiers.by_segment(lang="es").set_index("segment")
    assert by_seg.loc["large", "dominant_tier"] == "on_time"
    counts = tiers.counts("es").set_index("tier")
    assert counts.loc["on_time", "label"] == "puntual"
    assert counts["customers"].sum() == 3
    assert "puntual" in tiers.summary("es")


def test_clusters_recover_obvious_groups_and_describe_them():
    rng = np.random.default_rng(0)
    n = 60
    groups = {  # on-time rate, mean days overdue, SD
        "punctual": (0.97, 0.3, 2.0), "late": (0.2, 25.0, 5.0), "erratic": (0.6, 12.0, 30.0)}
    rows = []
    for name, (rate, over, sd) in groups.items():
        for i in range(n):
            rows.append({"customer_id": f"{name}{i}", "n_due": 12,
                         "on_time_rate": np.clip(rate + rng.normal(0, 0.02), 0, 1),
                         "mean_days_overdue": max(0.0, over + rng.normal(0, 1)),
                         "iqr_days_late": sd + rng.normal(0, 1),
                         "trend_days_per_month": rng.normal(0, 0.2), "truth": name})
    frame = pd.DataFrame(rows)
    cl = payer_clusters(frame, n_clusters=3)
    members = cl.frame.merge(frame[["customer_id", "truth"]], on="customer_id")
    purity = members.groupby("cluster")["truth"].agg(lambda s: s.value_counts().iloc[0] / len(s))
    assert (purity == 1.0).all()
    centres = cl.to_frame()
    assert centres["tier"].tolist() == ["on_time", "irregular", "chronically_late"]
    assert centres["customers"].tolist() == [n, n, n]
    assert "on time 97%" in cl.to_frame("en")["label"].iloc[0]
    assert "Grupo 0" in cl.summary("es")


def test_clusters_leave_out_short_histories():
    disc = payment_discipline(hand_portfolio(), as_of=AS_OF)
    with pytest.raises(ValueError, match="too few"):
        payer_clusters(disc, n_clusters=2)


def test_discipline_over_time_leaves_out_invoices_not_yet_due():
    # C's invoice due 07-31 was paid early (06-20): it counts for C's discipline but not in
    # a July period, which would otherwise hold only early payers
    frame = discipline_over_time(hand_portfolio(), as_of=AS_OF, freq="M", by_customer=False)
    assert frame["period"].max() == pd.Timestamp("2025-06-01")


def test_recent_due_months_are_marked_not_yet_mature():
    """Page 01's trend fell to -1 day late in the data's last due month: those invoices
    had days, not months, to be late. Months ending < MATURITY_DAYS before as_of are
    marked, and on the sample they are the ones that read as sudden improvement."""
    import collections_lab as cl
    from collections_lab.analytics.discipline import MATURITY_DAYS

    trend = discipline_over_time(cl.load_sample(), as_of="2026-05-31", freq="M",
                                 by_customer=False)
    young = trend[~trend["mature"]]
    assert young["period"].dt.strftime("%Y-%m").tolist() == ["2026-04", "2026-05"]
    assert MATURITY_DAYS == 60
    settled = trend.loc[trend["mature"], "mean_days_late"]
    assert young["mean_days_late"].iloc[-1] < settled.min()  # the artefact the flag marks
