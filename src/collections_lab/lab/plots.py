"""Figures of the strategy lab (matplotlib; each function returns the Figure, en / es).

Example
-------
>>> import matplotlib
>>> matplotlib.use("Agg")
>>> import pandas as pd
>>> table = pd.DataFrame({"estimate": [1.0], "ci_low": [0.8], "ci_high": [1.2],
...                       "true": [1.1]}, index=["tone_effect[firm]"])
>>> plot_recovery(table).axes[0].get_xlabel()
'Estimate (95% interval) and true value'
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from ..i18n import format_axis, styled, t, value_label
from .recommend import strategy_name_label


def _segment(name, lang: str) -> str:
    return str(value_label(name, "segment", lang))


@styled
def plot_twin_check(check, lang: str = "en"):
    """Kaplan–Meier curves (history solid, twin dashed) by segment, paid-by-due rates, the
    lateness mix and the aging of open receivables by segment at the export date, side by
    side: the twin's goodness of fit."""
    fig, grid = plt.subplots(2, 2, figsize=(15, 9))
    axes = grid.ravel()
    ax = axes[0]
    colors = plt.get_cmap("tab10")
    for i, (seg, c) in enumerate(check.curves.groupby("segment", sort=False)):
        seg = _segment(seg, lang)
        ax.plot(c["day"], c["observed"], color=colors(i), label=f"{seg} ({t('lab_observed', lang)})")
        ax.plot(c["day"], c["simulated"], color=colors(i), ls="--",
                label=f"{seg} ({t('lab_simulated', lang)})")
    ax.set_xlabel(t("days_since_issue", lang))
    ax.set_ylabel(t("share_unpaid", lang))
    format_axis(ax, "y", "share", lang=lang)
    ax.set_title(t("lab_twin_curves", lang))
    ax.legend(fontsize=7, ncol=2)
    _paired_bars(axes[1], check.rates, "metric", lang)
    axes[1].set_title(t("lab_paid_by", lang))
    late = check.lateness.loc[check.lateness["segment"] == "all"]
    _paired_bars(axes[2], late.assign(segment=late["bucket"]), None, lang)
    axes[2].set_title(t("lab_lateness", lang))
    axes[2].set_ylabel(t("lab_share_invoices", lang))
    aging = getattr(check, "aging", None)
    if aging is not None and len(aging):
        from ..analytics.kpis import bucket_label

        bars = aging.assign(observed=aging["observed_share"], simulated=aging["simulated_share"],
                            bucket=aging["bucket"].map(lambda b: bucket_label(b, lang)))
        _paired_bars(axes[3], bars, "bucket", lang)
        when = f" ({check.as_of.date()})" if getattr(check, "as_of", None) is not None else ""
        axes[3].set_title(t("lab_aging", lang) + when)
        axes[3].set_ylabel(t("lab_share_open_amount", lang))
    else:
        axes[3].set_visible(False)
    fig.tight_layout()
    return fig


def _paired_bars(ax, frame: pd.DataFrame, split: str | None, lang: str) -> None:
    if split is not None:
        frame = frame.assign(segment=frame["segment"].map(lambda s: _segment(s, lang))
                             + "\n" + frame[split].str.replace(
            "paid_by_due", "d+0").str.replace("d+0_", "d+"))
    x = np.arange(len(frame))
    ax.bar(x - 0.2, frame["observed"], 0.4, label=t("lab_observed", lang), color="#4c72b0")
    ax.bar(x + 0.2, frame["simulated"], 0.4, label=t("lab_simulated", lang), color="#dd8452")
    ax.set_xticks(x, frame["segment"], rotation=90, fontsize=7)
    ax.legend(fontsize=8)


@styled
def plot_comparison(comparison, segment: str = "all", lang: str = "en"):
    """Gain in net value over the reference with its common-random-numbers interval, and
    the change in churn, per strategy."""
    tab = comparison.summary_table(segment)
    nv = tab.loc[tab["metric"] == "net_value"].sort_values("diff")
    ch = tab.loc[tab["metric"] == "churn"].set_index("strategy").loc[nv["strategy"]]
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.35 * len(nv) + 2), sharey=True)
    y = np.arange(len(nv))
    for ax, frame, label in ((axes[0], nv, f"{t('lab_gain', lang)} ({comparison.currency})"),
                             (axes[1], ch.reset_index(), t("lab_churn_change", lang))):
        err = np.vstack([frame["diff"] - frame["diff_low"], frame["diff_high"] - frame["diff"]])
        ax.errorbar(frame["diff"], y, xerr=np.abs(err), fmt="o", color="#4c72b0")
        ax.axvline(0, color="grey", lw=0.8)
        ax.set_xlabel(label)
    format_axis(axes[0], "x", "money", comparison.currency, lang)
    format_axis(axes[1], "x", "share", lang=lang)  # churn change in percent, like the table
    axes[0].xaxis.set_major_locator(MaxNLocator(4))  # money ticks are wide: fewer of them
    axes[0].set_yticks(y, [strategy_name_label(s, lang) for s in nv["strategy"]], fontsize=8)
    axes[0].set_ylabel(t("lab_strategy", lang))
    fig.tight_layout()
    return fig


@styled
def plot_recommendation(recommendation, lang: str = "en"):
    """Expected gain of the recommended strategy over the current one, per segment, with
    its 95 % interval (fresh replicates)."""
    tab = recommendation.table
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(tab) + 1.8))
    y = np.arange(len(tab))
    err = np.vstack([tab["gain"] - tab["gain_low"], tab["gain_high"] - tab["gain"]])
    ax.errorbar(tab["gain"], y, xerr=np.abs(err), fmt="s", color="#55a868")
    ax.axvline(0, color="grey", lw=0.8)
    names = [t("lab.by_segment", lang) if r == "(by segment)" else strategy_name_label(r, lang)
             for r in tab["recommended"]]
    ax.set_yticks(y, [f"{_segment(s, lang)}\n{r}" for s, r in zip(tab["segment"], names,
                                                                 strict=True)], fontsize=8)
    ax.set_xlabel(f"{t('lab_gain_segment', lang)} ({recommendation.currency})")
    format_axis(ax, "x", "money", recommendation.currency, lang)
    ax.xaxis.set_major_locator(MaxNLocator(4))  # money ticks are wide: fewer of them
    fig.tight_layout()
    return fig


@styled
def plot_recovery(table: pd.DataFrame, lang: str = "en"):
    """Calibrated estimates with 95 % intervals against the true values (simulated
    history), one row per parameter (a :func:`~collections_lab.lab.calibrate.recovery_table`)."""
    fig, ax = plt.subplots(figsize=(7, 0.3 * len(table) + 1.5))
    y = np.arange(len(table))
    err = np.vstack([table["estimate"] - table["ci_low"], table["ci_high"] - table["estimate"]])
    ax.errorbar(table["estimate"], y, xerr=np.abs(err), fmt="o", color="#4c72b0")
    ax.plot(table["true"], y, "x", color="#c44e52", label=t("lab_true", lang))
    ax.set_yticks(y, table.index, fontsize=7)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlabel(t("lab_recovery", lang))
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
