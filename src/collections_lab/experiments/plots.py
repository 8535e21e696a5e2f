"""Figures for experiment design and readouts (matplotlib; labels in English or Spanish).

Every function returns the ``Figure`` and never shows it.

Example
-------
>>> from collections_lab.experiments.synthetic import synthetic_payment_times
>>> from collections_lab.experiments.readout import analyze_experiment
>>> r = analyze_experiment(synthetic_payment_times(600, seed=1), start="2025-03-01",
...                        segments=False, metrics=["paid_by_due_d"])
>>> type(plot_effects(r, "paid_by_due_d")).__name__
'Figure'
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..i18n import format_axis, styled, t
from .design import PowerCurve
from .metric_registry import metric_label
from .readout import ExperimentReadout
from .sequential import SequentialResult

#: How each metric is shown on a forest plot: (scale factor, unit label key).
DISPLAY = {"paid_by_due_d": (100, "xpp_points"), "cash_by_due_d": (100, "xpp_points"),
           "escalation_rate": (100, "xpp_points"), "churn": (100, "xpp_points"),
           "rmst_days": (1, "xpp_days"), "median_days": (1, "xpp_days")}


def _figure(width=7.0, height=4.0):
    return plt.subplots(figsize=(width, height))


@styled
def plot_effects(readout: ExperimentReadout, metric: str = "paid_by_due_d", lang: str = "en",
                 ax=None):
    """Forest plot: each arm's effect on ``metric`` versus control with its 95% interval."""
    table = readout.to_frame()
    rows = table[table["metric"] == metric]
    if rows.empty:
        raise ValueError(f"the readout has no metric {metric!r}")
    scale, unit = DISPLAY.get(metric, (1, None))
    fig, ax = _figure(height=1.2 + 0.45 * len(rows)) if ax is None else (ax.figure, ax)
    y = np.arange(len(rows))[::-1]
    eff = rows["effect"].to_numpy() * scale
    lo = rows["ci_low"].to_numpy() * scale
    hi = rows["ci_high"].to_numpy() * scale
    ax.errorbar(eff, y, xerr=[eff - lo, hi - eff], fmt="o", capsize=4, color="C0")
    ref = 1.0 if metric == "hazard_ratio" else 0.0
    ax.axvline(ref, color="grey", ls=":", lw=1)
    ax.set_yticks(y, rows["arm"].tolist())
    label = metric_label(metric, lang, readout.config.due_plus_days)
    ax.set_title(f"{label} — {t('xpp_effect_vs_control', lang)}")
    if unit:
        ax.set_xlabel(t(unit, lang))
    fig.tight_layout()
    return fig


@styled
def plot_sequential(result: SequentialResult, lang: str = "en"):
    """|z| at each weekly look against the alpha-spending boundary and the naive 1.96."""
    looks = result.looks
    fig, ax = _figure()
    ax.plot(looks["look"], np.abs(looks["z"]), "o-", label="|z|", color="C0")
    ax.plot(looks["look"], looks["boundary"], "--", color="C3", label=t("xpp_boundary", lang))
    ax.axhline(1.96, color="grey", ls=":", lw=1, label=t("xpp_naive", lang))
    upper = np.nanmax(np.r_[np.abs(looks["z"]), 4.0])
    ax.set_ylim(0, min(upper * 1.15, 8.0))
    ax.set_xlabel(t("xpp_look", lang))
    ax.set_ylabel(t("xpp_z", lang))
    # below the axes, in one row: inside them it covered the boundary where |z| nears it
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    fig.tight_layout()
    return fig


@styled
def plot_power_curve(curve: PowerCurve, lang: str = "en", predicted=None):
    """Simulated power by sample size (±2 Monte-Carlo SE), optionally with a prediction."""
    table = curve.to_frame()
    fig, ax = _figure()
    ax.errorbar(table["size"], table["power"], yerr=2 * table["mc_se"], fmt="o-", capsize=3,
                label=t("xpp_simulation", lang))
    if predicted is not None:
        ax.plot(table["size"], predicted, "--", label=t("xpp_formula", lang))
    ax.axhline(0.8, color="grey", ls=":", lw=1, label=t("xpp_target", lang))
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(t("xpp_size", lang))
    ax.set_ylabel(t("xpp_power", lang))
    format_axis(ax, "y", "share", lang=lang)  # power in percent, as the table says it
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
