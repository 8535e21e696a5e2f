"""Figures for the portfolio analytics (seaborn), labelled in English or Spanish.

Every function takes a result of this package and ``lang`` ("en" or "es"), and returns a
``matplotlib.figure.Figure`` (never shows it). Amounts are plotted per currency, one
panel each, never summed across currencies.

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> from collections_lab.data.portfolio import Portfolio
>>> from collections_lab.analytics.kpis import aging
>>> inv = pd.DataFrame({"invoice_id": ["a"], "customer_id": ["c"],
...     "issue_date": pd.to_datetime(["2025-01-01"]), "due_date": pd.to_datetime(["2025-01-31"]),
...     "amount": [100.0], "currency": ["EUR"]})
>>> fig = plot_aging(aging(Portfolio(pd.DataFrame({"customer_id": ["c"]}), inv), "2025-02-01"),
...                  lang="es")
>>> fig.axes[0].get_xlabel()
'Tramo de antigüedad'
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ..i18n import check_language, format_axis, format_number, styled, t
from .kpis import BUCKETS, bucket_label

__all__ = [
    "plot_aging", "plot_alert", "plot_alert_tradeoff", "plot_churn_calibration",
    "plot_clusters", "plot_discipline", "plot_discipline_trend", "plot_engagement", "plot_tiers", "plot_trends",
]


def _frame(result) -> pd.DataFrame:
    return result.to_frame() if hasattr(result, "to_frame") else result


def _panels(n: int, width: float = 4.5, height: float = 3.4):
    fig, axes = plt.subplots(1, max(n, 1), figsize=(width * max(n, 1), height), squeeze=False)
    return fig, axes[0]


@styled
def plot_aging(aging, lang: str = "en") -> Figure:
    """Open amount per aging bucket, one panel per currency (and group)."""
    check_language(lang)
    frame = _frame(aging)
    keys = [k for k in frame.columns if k not in ("bucket", "count", "amount", "share")]
    groups = list(frame.groupby(keys, sort=True)) if keys else [((), frame)]
    fig, axes = _panels(len(groups))
    order = [bucket_label(b, lang) for b, _, _ in BUCKETS]
    for ax, (key, part) in zip(axes, groups, strict=False):
        part = part.assign(label=[bucket_label(b, lang) for b in part["bucket"]])
        sns.barplot(data=part, x="label", y="amount", order=order, ax=ax,
                    color=sns.color_palette()[0])
        currency = part["currency"].iloc[0] if "currency" in part else ""
        ax.set_xlabel(t("aging_bucket", lang))
        ax.set_ylabel(f"{t('open_amount', lang)} ({currency})")
        if currency:
            format_axis(ax, "y", "money", currency, lang)
        ax.set_title(" / ".join(map(str, key if isinstance(key, tuple) else (key,))))
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig


@styled
def plot_trends(trends, metrics=("dso", "dso_countback", "add", "cei", "at_risk_rate"),
                lang: str = "en") -> Figure:
    """Monthly KPI lines (one panel per metric, one line per currency / group)."""
    check_language(lang)
    frame = _frame(trends)
    keys = [k for k in ("currency", "segment", "country") if k in frame]
    frame = frame.assign(group=frame[keys].astype(str).agg(" / ".join, axis=1))
    names = {"dso": "dso_standard", "dso_countback": "dso_countback", "add": "add",
             "cei": "cei", "at_risk_rate": "at_risk_rate", "overdue_share": "overdue_share",
             "receivables": "receivables"}
    fig, axes = _panels(len(metrics), width=4.2)
    for ax, metric in zip(axes, metrics, strict=False):
        sns.lineplot(data=frame, x="month", y=metric, hue="group", marker="o", ax=ax)
        ax.set_title(t(names.get(metric, metric), lang))
        ax.set_xlabel(t("month", lang))
        ax.set_ylabel("")
        ax.tick_params(axis="x", rotation=45)
        if ax.get_legend() is not None:
            ax.get_legend().set_title("")
    fig.tight_layout()
    return fig


@styled
def plot_discipline(discipline, lang: str = "en") -> Figure:
    """Distribution of on-time rates and of mean days late across customers."""
    check_language(lang)
    frame = _frame(discipline)
    fig, axes = _panels(2)
    sns.histplot(frame["on_time_rate"].dropna(), bins=20, ax=axes[0])
    axes[0].set_xlabel(t("on_time_rate", lang))
    format_axis(axes[0], "x", "share", lang=lang)
    axes[0].set_ylabel(t("customers", lang))
    sns.histplot(frame["mean_days_late"].dropna(), bins=40, ax=axes[1])
    axes[1].set_xlabel(t("mean_days_late", lang))
    axes[1].set_ylabel(t("customers", lang))
    fig.tight_layout()
    return fig


@styled
def plot_discipline_trend(over_time: pd.DataFrame, lang: str = "en") -> Figure:
    """Portfolio on-time rate and mean days late per due period.

    ``over_time`` is ``discipline_over_time(..., by_customer=False)``; periods not yet
    ``mature`` are drawn hollow on a dotted line.
    """
    check_language(lang)
    fig, axes = _panels(2)
    mature = (over_time["mature"].to_numpy(dtype=bool) if "mature" in over_time
              else np.ones(len(over_time), bool))
    # settled periods as lines; the latest ones, whose lateness is still growing, as
    # hollow markers on a dotted line (they hold mostly the early payers so far)
    young = ~mature
    if young.any() and mature.any():
        young[np.flatnonzero(mature)[-1]] = True  # the dotted part starts at the last settled
    done, later, fresh = over_time[mature], over_time[young], over_time[~mature]
    axes[0].plot(done["period"], done["on_time_rate"], marker="o", color="C0")
    axes[0].plot(later["period"], later["on_time_rate"], ls=":", color="C0")
    axes[0].plot(fresh["period"], fresh["on_time_rate"], "o", color="C0", mfc="white")
    axes[0].set_ylabel(t("on_time_rate", lang))
    axes[0].set_ylim(0, 1)
    format_axis(axes[0], "y", "share", lang=lang)
    axes[1].plot(done["period"], done["mean_days_late"], marker="o",
                 color="tab:orange", label=t("mean_days_late", lang))
    axes[1].plot(done["period"], done["weighted_mean_days_late"], marker=".",
                 ls="--", color="tab:red", label=t("weighted_mean_days_late", lang))
    if young.any():
        axes[1].plot(later["period"], later["mean_days_late"], ls=":", color="tab:orange")
        axes[1].plot(later["period"], later["weighted_mean_days_late"], ls=":",
                     color="tab:red")
        axes[1].plot(fresh["period"], fresh["mean_days_late"], "o:", color="tab:orange",
                     mfc="white", label=t("discipline.maturing", lang))
        axes[1].plot(fresh["period"], fresh["weighted_mean_days_late"], ".", color="tab:red",
                     mfc="white")
    axes[1].set_ylabel(t("mean_days_late", lang))
    axes[1].legend(fontsize=8)
    for ax in axes:
        ax.set_xlabel(t("due_date", lang))
        ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    return fig


@styled
def plot_tiers(tiers, lang: str = "en") -> Figure:
    """Customers per payer tier (rule-based)."""
    counts = tiers.counts(lang)
    fig, axes = _panels(1, width=6.5)
    sns.barplot(data=counts, y="label", x="customers", ax=axes[0], color=sns.color_palette()[1])
    axes[0].set_ylabel(t("tier", lang))
    axes[0].set_xlabel(t("customers", lang))
    fig.tight_layout()
    return fig


@styled
def plot_clusters(clusters, discipline, lang: str = "en") -> Figure:
    """Customers by on-time rate and mean days overdue, coloured by k-means cluster."""
    check_language(lang)
    frame = _frame(discipline).merge(clusters.frame, on="customer_id")
    fig, axes = _panels(1, width=6.5, height=4.5)
    sample = frame.sample(min(len(frame), 5000), random_state=0)
    sns.scatterplot(data=sample, x="on_time_rate", y="mean_days_overdue", hue="cluster",
                    palette="deep", s=12, alpha=0.6, ax=axes[0])
    axes[0].set_xlabel(t("on_time_rate", lang))
    axes[0].set_ylabel(t("mean_days_late", lang))
    if axes[0].get_legend() is not None:
        axes[0].get_legend().set_title(t("cluster", lang))
    fig.tight_layout()
    return fig


@styled
def plot_alert(alerts, customer_id: str, lang: str = "en") -> Figure:
    """One customer's days late over time with its baseline and the alert (the evidence).

    Needs ``behaviour_alerts(..., keep_chart=True)``.
    """
    check_language(lang)
    if alerts.chart is None:
        raise ValueError("alerts were computed without keep_chart=True: no chart to plot")
    obs = alerts.chart.loc[alerts.chart["customer_id"] == customer_id]
    if obs.empty:
        raise ValueError(f"customer {customer_id!r} has no observations in the chart")
    fig, axes = _panels(1, width=7.5, height=3.8)
    ax = axes[0]
    ax.plot(obs["due_date"], obs["x"], marker="o", color="0.3", label=t("days_late", lang))
    row = alerts.frame.loc[alerts.frame["customer_id"] == customer_id]
    if len(row):
        r = row.iloc[0]
        ax.axhline(r["before_mean"], color="tab:green", ls="--",
                   label=f"{t('before', lang)}: {r['before_mean']:.1f}")
        ax.axhline(r["after_mean"], color="tab:red", ls="--",
                   label=f"{t('after', lang)}: {r['after_mean']:.1f}")
        ax.axvline(r["change_date"], color="tab:orange", ls=":")
        ax.axvline(r["alert_date"], color="tab:red", lw=2, label=t("alert", lang))
    ax.set_xlabel(t("due_date", lang))
    cap = alerts.params.cap_days
    ax.set_ylabel(f"{t('days_late', lang)} (≤ {cap})")
    ax.set_title(f"{t('customer', lang)} {customer_id}")
    ax.legend(loc="upper left", fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig


@styled
def plot_alert_tradeoff(curve: pd.DataFrame, lang: str = "en") -> Figure:
    """Precision and recall against the CUSUM threshold, and median lead time."""
    check_language(lang)
    fig, axes = _panels(2)
    axes[0].plot(curve["recall"], curve["precision"], marker="o")
    for _, r in curve.iterrows():
        axes[0].annotate(f"h={r['h']:g}", (r["recall"], r["precision"]), fontsize=7)
    axes[0].set_xlabel(t("recall", lang))
    axes[0].set_ylabel(t("precision", lang))
    axes[0].set_xlim(0, 1)
    axes[0].set_ylim(0, 1)
    axes[1].plot(curve["h"], curve["median_lead_days"], marker="o", color="tab:purple")
    axes[1].axhline(30, color="0.6", ls="--")
    axes[1].set_xlabel(t("threshold", lang))
    axes[1].set_ylabel(t("lead_days", lang))
    fig.tight_layout()
    return fig


@styled
def plot_churn_calibration(validation, lang: str = "en") -> Figure:
    """Reliability diagram and ROC curve of the churn model on the test period."""
    from sklearn.metrics import roc_curve

    check_language(lang)
    fig, axes = _panels(2)
    cal = validation.calibration
    axes[0].plot([0, 1], [0, 1], color="0.6", ls="--")
    raw = getattr(validation, "calibration_raw", None)
    if raw is not None and len(raw) and validation.recalibration is not None:
        axes[0].plot(raw["mean_predicted"], raw["observed_share"], marker="o", color="0.6",
                     label=t("before_recalibration", lang))
    axes[0].plot(cal["mean_predicted"], cal["observed_share"], marker="o",
                 label=t("after_recalibration", lang))
    if raw is not None and len(raw) and validation.recalibration is not None:
        axes[0].legend(loc="upper left")
    top = float(max(cal["mean_predicted"].max(), cal["observed_share"].max(), 0.05)) * 1.1
    axes[0].set_xlim(0, min(1, top))
    axes[0].set_ylim(0, min(1, top))
    axes[0].set_xlabel(t("predicted_probability", lang))
    axes[0].set_ylabel(t("observed_share", lang))
    test = validation.test
    fpr, tpr, _ = roc_curve(test["churned"].astype(int), test["churn_probability"])
    axes[1].plot(fpr, tpr)
    axes[1].plot([0, 1], [0, 1], color="0.6", ls="--")
    axes[1].set_xlabel(t("false_positive_rate", lang))
    axes[1].set_ylabel(t("true_positive_rate", lang))
    axes[1].set_title(f"AUC {format_number(validation.auc, 2, lang)}")
    fig.tight_layout()
    return fig


@styled
def plot_engagement(thank, call, top: int = 15, lang: str = "en") -> Figure:
    """The two engagement lists at a glance: on-time rate of the top customers of each."""
    check_language(lang)
    fig, axes = _panels(2, width=5.5, height=4.2)
    for ax, lst, key, colour in ((axes[0], thank, "thank_list", "tab:green"),
                                 (axes[1], call, "call_list", "tab:red")):
        frame = _frame(lst).head(top)
        if frame.empty:
            ax.text(0.5, 0.5, "–", ha="center", va="center")
        else:
            ax.barh(frame["customer_id"].astype(str)[::-1],
                    np.asarray(frame["on_time_rate"], dtype=float)[::-1], color=colour)
        ax.set_title(t(key, lang))
        ax.set_xlabel(t("on_time_rate", lang))
        ax.set_xlim(0, 1)
    fig.tight_layout()
    return fig
