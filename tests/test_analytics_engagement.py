"""Engagement lists and analytics plots (en/es) on small known inputs."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from collections_lab.analytics import plots  # noqa: E402
from collections_lab.analytics.alerts import alert_tradeoff, behaviour_alerts  # noqa: E402
from collections_lab.analytics.churn import churn_validation  # noqa: E402
from collections_lab.analytics.discipline import (  # noqa: E402
    discipline_over_time,
    payment_discipline,
)
from collections_lab.analytics.engagement import (  # noqa: E402
    call_list,
    open_balances,
    thank_list,
)
from collections_lab.analytics.kpis import aging, monthly_trends  # noqa: E402
from collections_lab.analytics.segments import payer_clusters, payer_tiers  # noqa: E402
from collections_lab.model.simulation import simulate  # noqa: E402
from collections_lab.model.strategies import example_strategies  # noqa: E402

TIERS = pd.DataFrame({
    "customer_id": ["loyal", "new", "late", "shifted", "quiet"],
    "segment": ["smb"] * 5,
    "tier": ["on_time", "on_time", "chronically_late", "on_time", "on_time"],
    "n_due": [12, 3, 12, 12, 12],
    "on_time_rate": [1.0, 1.0, 0.1, 0.95, 1.0],
    "mean_days_late": [-3.0, -2.0, 25.0, 1.0, -1.0],
    "n_open_overdue": [0, 0, 2, 0, 0],
})
ALERTS = pd.DataFrame({"customer_id": ["shifted"], "alert_date": pd.to_datetime(["2025-05-01"]),
                       "before_mean": [-1.0], "after_mean": [20.0]})
CHURN = pd.DataFrame({"customer_id": ["loyal", "new", "late", "shifted", "quiet"],
                      "churn_probability": [0.02, 0.05, 0.1, 0.2, 0.5]})


def test_thank_list_excludes_short_history_alerts_overdue_and_churn_risk(tmp_path):
    lst = thank_list(TIERS, alerts=ALERTS, churn=CHURN)
    assert lst.to_frame()["customer_id"].tolist() == ["loyal"]
    path = lst.to_csv(tmp_path / "thanks.csv")
    back = pd.read_csv(path)
    assert back["customer_id"].tolist() == ["loyal"] and "action" in back
    assert "upsell" in lst.summary("en") and "agradecer" in lst.summary("es")


def test_call_list_priorities_and_reasons():
    lst = call_list(TIERS, alerts=ALERTS, churn=CHURN, churn_threshold=0.3, lang="es")
    frame = lst.to_frame()
    assert frame["customer_id"].tolist() == ["shifted", "late", "quiet"]
    assert frame["priority"].tolist() == [2, 1, 1]
    assert frame.iloc[0]["reason"] == "cambió su comportamiento de pago"
    assert (frame["action"] == "llamar").all()


def test_open_balances_per_customer_and_currency():
    inv = pd.DataFrame({"invoice_id": ["a", "b", "c"], "customer_id": ["x", "x", "y"],
                        "issue_date": pd.to_datetime(["2025-01-01"] * 3),
                        "due_date": pd.to_datetime(["2025-01-31", "2025-03-31", "2025-01-31"]),
                        "amount": [100.0, 50.0, 10.0], "currency": ["EUR", "EUR", "COP"]})
    from collections_lab.data.portfolio import Portfolio

    bal = open_balances(Portfolio(pd.DataFrame({"customer_id": ["x", "y"]}), inv), "2025-02-15")
    bal = bal.set_index("customer_id")
    assert bal.loc["x", "open_amount"] == 150.0 and bal.loc["x", "overdue_amount"] == 100.0
    assert bal.loc["y", "currency"] == "COP"


@pytest.fixture(scope="module")
def results():
    sim = simulate(600, example_strategies()["nudge_then_firm"], seed=2,
                   start="2024-01-01", end="2025-06-30")
    p = sim.portfolio
    as_of = "2025-06-30"
    disc = payment_discipline(p, as_of=as_of)
    tiers = payer_tiers(disc)
    alerts = behaviour_alerts(p, as_of=as_of, keep_chart=True)
    return dict(
        aging=aging(p, as_of),
        trends=monthly_trends(p, as_of=as_of, start="2025-01-01"),
        disc=disc, tiers=tiers,
        trend=discipline_over_time(p, as_of=as_of, freq="M", by_customer=False), clusters=payer_clusters(disc), alerts=alerts,
        curve=alert_tradeoff(p, sim.truth, as_of=as_of, thresholds=(1.0, 3.0)),
        val=churn_validation(p, split_date="2024-12-31", as_of=as_of),
        thank=thank_list(tiers), call=call_list(tiers, alerts),
    )


@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_plot_draws_with_translated_labels(results, lang):
    r = results
    alerts = r["alerts"]
    who = alerts.frame["customer_id"].iloc[0] if len(alerts.frame) else \
        alerts.chart["customer_id"].iloc[0]
    figs = [
        plots.plot_aging(r["aging"], lang),
        plots.plot_trends(r["trends"], lang=lang),
        plots.plot_discipline(r["disc"], lang),
        plots.plot_discipline_trend(r["trend"], lang),
        plots.plot_tiers(r["tiers"], lang),
        plots.plot_clusters(r["clusters"], r["disc"], lang),
        plots.plot_alert(alerts, who, lang),
        plots.plot_alert_tradeoff(r["curve"], lang),
        plots.plot_churn_calibration(r["val"], lang),
        plots.plot_engagement(r["thank"], r["call"], lang=lang),
    ]
    labels = " ".join(ax.get_xlabel() + ax.get_ylabel() + ax.get_title()
                      for f in figs for ax in f.axes)
    if lang == "es":
        assert "Tramo de antigüedad" in labels and "Tasa de pago puntual" in labels
        assert "Precisión" in labels
    else:
        assert "Aging bucket" in labels and "On-time rate" in labels
    assert all(isinstance(f, matplotlib.figure.Figure) for f in figs)
    assert np.isfinite(r["val"].auc)
    for f in figs:
        plt.close(f)
