"""Figures for the survival toolkit: one consistent style, labels in English or Spanish.

Every function takes a result object and ``lang`` ("en"/"es"), draws with matplotlib and
seaborn (colour-blind palette, white grid, set for the figure only: the session's
matplotlib settings are untouched), and returns the ``Figure``, closed to pyplot so a
notebook shows it once. The main ones take ``ax=`` to draw on an existing Axes; results
plot themselves with ``.plot(ax=None)`` (returns the Axes).

Example
-------
>>> from collections_lab.survival import kaplan_meier
>>> fig = plot_survival(kaplan_meier(pt, by="arm"), lang="es")
>>> fig.axes[0].get_ylabel()
'...'
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..i18n import column_label, format_axis, format_number, resolve, styled, t, value_label
from .competing import CumulativeIncidence
from .cure import DAY_OFFSET, CureFractionResult
from .curves import SurvivalCurves
from .prediction import CalibrationResult, PaymentPredictions
from .regression import AFTResult, CoxResult, term_label
from .rmst import RMSTDifference, RMSTResult

PALETTE = "colorblind"


def _figure(ncols: int = 1, width: float = 7.0, height: float = 4.2, ax=None):
    """A new figure with ``ncols`` panels, or the given ``ax`` (one panel) and its figure."""
    if ax is not None:
        if ncols != 1:
            raise ValueError(f"this figure has {ncols} panels: draw it without ax= "
                             "(or choose one panel, e.g. outcomes=['paid'])")
        return ax.figure, [ax]
    fig, axes = plt.subplots(1, ncols, figsize=(width * (ncols if ncols > 1 else 1) * (0.75 if ncols > 1 else 1), height),
                             squeeze=False)
    return fig, axes[0]


def _colors(n: int):
    """``n`` curve colours: the colour-blind palette with its pink fourth, because its own
    fourth (vermilion) read as the second (orange) on page 02's four segment curves."""
    base = sns.color_palette(PALETTE, 10)
    order = [0, 1, 2, 4, 3, 5, 6, 7, 8, 9]
    return [base[order[i % 10]] for i in range(max(n, 1))]



def _group(g, lang: str) -> str:
    """A curve's group in words: "all", a segment (``small``) from the catalogue."""
    return t("surv_all", lang) if g == "all" else str(value_label(g, "group", lang))


@styled
def plot_survival(curves: SurvivalCurves, lang: str = "en", bands: bool = True, max_day: int | None = None, ax=None):
    """Kaplan–Meier "share still unpaid" curves by group with confidence bands."""
    fig, (ax,) = _figure(ax=ax)
    frame = curves.to_frame()
    for color, g in zip(_colors(len(curves.groups_)), curves.groups_, strict=True):
        c = frame[frame["group"] == g]
        if max_day is not None:
            c = c[c["day"] <= max_day]
        days = np.concatenate([[c["day"].iloc[0] - 1], c["day"].to_numpy()])
        surv = np.concatenate([[1.0], c["survival"].to_numpy()])
        label = _group(g, lang)
        ax.step(days, surv, where="post", color=color, label=label, lw=1.8)
        if bands:
            ax.fill_between(c["day"], c["ci_low"], c["ci_high"], step="post", color=color, alpha=0.2)
    if curves.axis == "due":
        ax.axvline(0, color="grey", ls=":", lw=1)
    ax.set_xlabel(t("days_since_issue" if curves.axis == "issue" else "days_relative_to_due", lang))
    ax.set_ylabel(t("surv_unpaid", lang))
    ax.set_ylim(0, 1.02)
    format_axis(ax, "y", "share", lang=lang)  # a share of invoices: 40 %, not 0,4
    ax.set_title(t("surv_km", lang))
    if len(curves.groups_) > 1:
        ax.legend(title=", ".join(column_label(b, lang) for b in curves.by) or None,
                  frameon=False)
    fig.tight_layout()
    return fig


@styled
def plot_cumulative_incidence(ci: CumulativeIncidence, lang: str = "en", outcomes=None, ax=None):
    """Cumulative incidence of each outcome (one panel per outcome), groups as colours."""
    frame = ci.to_frame()
    outcomes = list(outcomes or frame["outcome"].unique())
    fig, axes = _figure(len(outcomes), ax=ax)
    colors = _colors(len(ci.groups_))
    for ax, o in zip(axes, outcomes, strict=True):
        for color, g in zip(colors, ci.groups_, strict=True):
            c = frame[(frame["group"] == g) & (frame["outcome"] == o)]
            ax.step(c["day"], c["incidence"], where="post", color=color,
                    label=_group(g, lang))
            ax.fill_between(c["day"], c["ci_low"], c["ci_high"], step="post", color=color, alpha=0.2)
        ax.set_title(t(o, lang).capitalize())
        ax.set_xlabel(t("days_since_issue", lang))
        ax.set_ylim(0, 1.02 if o == "paid" else None)
    axes[0].set_ylabel(t("cumulative_incidence", lang))
    if len(ci.groups_) > 1:
        axes[-1].legend(frameon=False)
    fig.tight_layout()
    return fig


def _forest(ax, table: pd.DataFrame, value: str, ref_line: float = 1.0, lang: str = "en"):
    y = np.arange(len(table))[::-1]
    v, lo, hi = (table[c].to_numpy(dtype=float) for c in (value, "ci_low", "ci_high"))
    ax.errorbar(v, y, xerr=np.vstack([v - lo, hi - v]), fmt="o", color=_colors(1)[0], capsize=3)
    ax.axvline(ref_line, color="grey", ls=":")
    ax.set_yticks(y)
    ax.set_yticklabels([term_label(c, lang) for c in table["covariate"]])
    ax.set_xscale("log")
    # plain ratios (0.5, 1, 2) in the report's locale, never 10^0 or 4×10^-1
    from matplotlib.ticker import FuncFormatter, LogLocator

    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_minor_locator(LogLocator(base=10, subs=(0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.5, 3.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: format_number(x, 2 if x < 1 else 1, lang)
                                               .rstrip("0").rstrip(".,")))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda x, _: ""))


@styled
def plot_hazard_ratios(result: CoxResult, lang: str = "en", ax=None):
    """Forest plot of Cox hazard ratios (>1 = paid sooner) with confidence intervals."""
    fig, (ax,) = _figure(height=0.5 * len(result.table) + 1.8, ax=ax)
    _forest(ax, result.table, "hazard_ratio", lang=lang)
    ax.set_xlabel(t("surv_hazard_ratio", lang))
    fig.tight_layout()
    return fig


@styled
def plot_time_ratios(result: AFTResult, lang: str = "en", ax=None):
    """Forest plot of AFT time ratios (<1 = paid sooner) with confidence intervals."""
    fig, (ax,) = _figure(height=0.5 * len(result.table) + 1.8, ax=ax)
    _forest(ax, result.table, "time_ratio", lang=lang)
    ax.set_xlabel(t("surv_time_ratio_axis", lang))
    fig.tight_layout()
    return fig


@styled
def plot_rmst(result: RMSTResult, lang: str = "en", ax=None):
    """Restricted mean days outstanding per group with confidence intervals."""
    fig, (ax,) = _figure(height=0.5 * len(result.table) + 1.8, ax=ax)
    tab = result.table
    y = np.arange(len(tab))[::-1]
    v, lo, hi = (tab[c].to_numpy(dtype=float) for c in ("rmst", "ci_low", "ci_high"))
    ax.errorbar(v, y, xerr=np.vstack([v - lo, hi - v]), fmt="o", color=_colors(1)[0], capsize=3)
    ax.set_yticks(y)
    ax.set_yticklabels([_group(g, lang) for g in tab["group"]])
    ax.set_xlabel(f"{t('surv_days_outstanding', lang)} (τ = {result.tau} {t('days', lang)})")
    fig.tight_layout()
    return fig


@styled
def plot_cure(result: CureFractionResult, curves: SurvivalCurves, lang: str = "en"):
    """Kaplan–Meier curves with the fitted cure model and its never-paid plateau."""
    fig = plot_survival(curves, lang, bands=False)
    ax = fig.axes[0]
    for color, g in zip(_colors(len(curves.groups_)), curves.groups_, strict=True):
        fitter = result.fitters_.get(g)
        if fitter is None:
            continue
        grid = np.linspace(0, curves.to_frame()["day"].max(), 200)
        ax.plot(grid, fitter.survival_function_at_times(grid + DAY_OFFSET).to_numpy(),
                color=color, ls="--", lw=1.2)
        ax.axhline(float(fitter.cured_fraction_), color=color, ls=":", lw=1)
    ax.set_title(f"{t('surv_km', lang)} vs {t('surv_cure_model', lang).lower()} (--); "
                 f"{t('surv_never_paid', lang).lower()} (···)", fontsize=9)
    return fig


@styled
def plot_predictions(predictions: PaymentPredictions, lang: str = "en", max_invoices: int = 30):
    """Predicted payment day with its interval for (a sample of) open invoices."""
    tab = predictions.table
    if "predicted_day" not in tab:  # no open invoice (e.g. a settled-only export): no rows
        tab = pd.DataFrame(columns=["invoice_id", "predicted_day", "low_day", "high_day",
                                    "age_days"], dtype=float)  # fmt: skip
    tab = tab.dropna(subset=["predicted_day"]).sort_values("predicted_day")
    if len(tab) > max_invoices:
        tab = tab.iloc[np.linspace(0, len(tab) - 1, max_invoices).astype(int)]
    fig, (ax,) = _figure(height=0.18 * len(tab) + 1.8)
    y = np.arange(len(tab))
    finite = tab["high_day"][np.isfinite(tab["high_day"])]
    cap = float(finite.max()) if len(finite) else float(tab["predicted_day"].max() if len(tab) else 1) + 30
    high = np.where(np.isfinite(tab["high_day"]), tab["high_day"], cap)  # open-ended: drawn to the cap
    color = _colors(1)[0]
    ax.hlines(y, tab["low_day"], high, color=color, alpha=0.6)
    ax.plot(tab["predicted_day"], y, "o", color=color, ms=4)
    ax.plot(tab["age_days"], y, "|", color="black", ms=6)
    ax.set_yticks(y)
    ax.set_yticklabels(tab["invoice_id"], fontsize=6)
    ax.set_xlabel(t("surv_predicted_day", lang))
    fig.tight_layout()
    return fig


@styled
def plot_calibration(result: CalibrationResult, lang: str = "en"):
    """Share of invoices paid inside their interval, per group, against the nominal level."""
    fig, (ax,) = _figure(height=0.45 * len(result.by_group) + 1.8)
    tab = result.by_group
    ax.barh(tab["group"], tab["coverage"], color=_colors(1)[0])
    ax.axvline(result.level, color="black", ls="--", label=t("surv_nominal", lang))
    ax.set_xlim(0, 1)
    ax.set_xlabel(t("surv_interval_coverage", lang))
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


@styled
def plot_expected_cash(cash: pd.DataFrame, lang: str = "en"):
    """Expected collections per week, one panel per currency (never summed across them)."""
    weekly = cash[cash["period"] == "week"]
    currencies = sorted(weekly["currency"].unique())
    fig, axes = _figure(max(1, len(currencies)), height=3.6)  # nothing open: one empty panel
    for ax, cur in zip(axes, currencies, strict=False):
        sub = weekly[weekly["currency"] == cur]
        x = sub["week"].astype(int).to_numpy()
        ax.bar(x, sub["expected_amount"], color=_colors(1)[0])
        if {"low", "high"} <= set(sub.columns):  # the forecast's band (expected_cash)
            y = sub["expected_amount"].to_numpy()
            ax.errorbar(x, y, yerr=[np.maximum(y - sub["low"].to_numpy(), 0),
                                    np.maximum(sub["high"].to_numpy() - y, 0)],
                        fmt="none", ecolor="#333333", capsize=2, linewidth=0.8)
        if "period_start" in sub:  # weeks by their first day, in the report's locale
            from babel.dates import format_date

            locale = resolve(lang)[1]
            ticks = x[::2]
            ax.set_xticks(ticks)
            ax.set_xticklabels([format_date(d.date(), "d MMM", locale=locale)
                                for d in sub["period_start"].iloc[::2]], rotation=45,
                               ha="right")
        ax.set_title(cur)
        ax.set_xlabel(t("cash.week_starting", lang))
        format_axis(ax, "y", "money", cur, lang)
    axes[0].set_ylabel(t("surv_expected_cash", lang))
    fig.tight_layout()
    return fig


@styled
def plot_ph_check(curves: SurvivalCurves, lang: str = "en", ax=None):
    """Proportional-hazards look: log(-log share unpaid) against log(days), per group.

    Roughly parallel curves support proportional hazards; curves that cross or converge
    mean the group's effect changes over time (see ``check_proportional_hazards``).
    """
    fig, (ax,) = _figure(ax=ax)
    frame = curves.to_frame()
    for color, g in zip(_colors(len(curves.groups_)), curves.groups_, strict=True):
        c = frame[(frame["group"] == g) & (frame["survival"] > 0) & (frame["survival"] < 1)
                  & (frame["day"] > 0)]
        ax.step(np.log(c["day"]), np.log(-np.log(c["survival"])), where="post", color=color,
                label=_group(g, lang))
    ax.set_xlabel(f"log({t('days_since_issue', lang).lower()})")
    ax.set_ylabel(f"log(-log {t('surv_unpaid', lang).lower()})")
    ax.set_title(t("surv_ph_check_title", lang))
    if len(curves.groups_) > 1:
        ax.legend(frameon=False)
    fig.tight_layout()
    return fig


@styled
def plot_rmst_difference(result: RMSTDifference, lang: str = "en", ax=None):
    """Days saved versus the reference group with confidence intervals (negative = sooner)."""
    tab = result.to_frame()
    fig, (ax,) = _figure(height=0.5 * len(tab) + 1.8, ax=ax)
    y = np.arange(len(tab))[::-1]
    v, lo, hi = (tab[c].to_numpy(dtype=float) for c in ("difference", "ci_low", "ci_high"))
    ax.errorbar(v, y, xerr=np.vstack([v - lo, hi - v]), fmt="o", color=_colors(1)[0], capsize=3)
    ax.axvline(0, color="grey", ls=":")
    ax.set_yticks(y)
    ax.set_yticklabels([_group(g, lang) for g in tab["group"]])
    ax.set_xlabel(f"{t('surv_days_outstanding', lang)} − {result.reference} "
                  f"(τ = {result.tau} {t('days', lang)})")
    fig.tight_layout()
    return fig
