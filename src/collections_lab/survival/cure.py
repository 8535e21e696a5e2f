"""Never-payers: the share of invoices that would never be paid without escalation.

A mixture cure model says S(t) = π + (1 - π) S_u(t): a share π of invoices is never paid
(the "cured" in survival jargon) and the rest are paid following S_u (Weibull here). It
is fitted with lifelines' ``MixtureCureFitter`` on whole-day counts (weights), so it is
fast however many invoices there are. Escalated and written-off invoices count as not
paid (censored at the day they were escalated or written off): the estimate is the
share that would stay unpaid if nobody escalated. The Kaplan–Meier plateau (share still
unpaid at the last payment day) is reported next to it as a model-free check.

π is only identifiable if follow-up is long enough for the curve to flatten (Maller &
Zhou 1996): with 5–15 days of follow-up a model happily reports "9.5% never pay, CI
0–100%". So each group's fit is checked: the fitted model's share of eventual payers
still unpaid at the end of follow-up, S_u(t_n), must be at most ``max_tail`` (5%), else
:func:`cure_fraction` raises saying so. Maller & Zhou's model-free test of sufficient
follow-up (payments in the window (2 t* - t_n, t*] before the last payment day t*,
p = (1 - N/n)^n) is reported next to it, ``follow_up_p``; it is conservative with whole
days (a single late payment makes the window one day long), so it informs, it does not
decide. Checked on simulations with known truth in the tests.

Example
-------
>>> res = cure_fraction(pt, by="segment")
>>> print(res.summary("es"))
Proporción estimada de facturas que nunca se pagarían sin escalar: grandes: 6,6 % (3,9
%–10,8 %); medianas: 3,2 % (1,9 %–5,4 %); sector público: 0,9 % (0,1 %–6,1 %); pequeñas:
4,4 % (3,2 %–6,2 %).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from ..i18n import ResultMixin, format_pct, t, value_label
from ._common import LifeTable, SurvivalInputError, as_list, groups_without_events, prepare_groups

#: Half a day added to whole-day durations so same-day payments are positive.
DAY_OFFSET = 0.5


def maller_zhou(tab: LifeTable, n: float) -> tuple[int, int, float, float]:
    """Maller–Zhou sufficient-follow-up quantities of one life table (whole days).

    Returns (last follow-up day t_n, last payment day t*, payments N in the window
    (2 t* - t_n, t*], p-value (1 - N/n)^n of "follow-up is insufficient"). Small p =
    evidence that the curve has flattened.
    """
    t_n, t_star = tab.last_day, int(tab.days[tab.d > 0][-1])
    window = (tab.days > 2 * t_star - t_n) & (tab.days <= t_star)
    n_window = float(tab.d[window].sum())
    p = float(np.exp(n * np.log1p(-n_window / n))) if n_window < n else 0.0
    return t_n, t_star, n_window, p


@dataclass
class CureFractionResult(ResultMixin):
    """Estimated share of never-payers per group (mixture cure model) with CIs."""

    table: pd.DataFrame
    by: list[str]
    fitters_: dict = field(default_factory=dict, repr=False)
    title = "Share never paid without escalation"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self, lang: str | None = None) -> str:
        column = self.by[0] if len(self.by) == 1 else "group"  # segment values in words
        parts = [f"{value_label(r.group, column, lang)}: {format_pct(r.never_paid, 1, lang)} "
                 f"({format_pct(r.ci_low, 1, lang)}"
                 f"–{format_pct(r.ci_high, 1, lang)})" for r in self.table.itertuples()]
        return t("surv_cure_summary", lang, parts="; ".join(parts))


def cure_fraction(
    frame: pd.DataFrame,
    by=None,
    duration_col: str = "duration",
    event_col: str = "event",
    weight_col: str | None = None,
    alpha: float = 0.05,
    max_tail: float | None = 0.05,
) -> CureFractionResult:
    """Fit a Weibull mixture cure model per group; report the never-paid share π with CI.

    The CI is built on the logit scale from lifelines' standard error (stays in 0–1).
    Raises if a group's follow-up is too short to see a plateau: the fitted model leaves
    more than ``max_tail`` (default 5%) of the eventual payers still unpaid at the last
    follow-up day, so π cannot be told apart from slow payment (``max_tail=None`` skips
    the check; the table's ``unpaid_payers_at_end`` and Maller–Zhou ``follow_up_p`` still
    say how sure the plateau is).

    Example:
        >>> cure_fraction(pt, by="segment").to_frame()[["group", "never_paid"]].round(2)
            group  never_paid
        0   large        0.07
        1  medium        0.03
        2  public        0.01
        3   small        0.04
    """
    from lifelines import MixtureCureFitter, WeibullFitter

    data, names = prepare_groups(frame, by, "cure_fraction", duration_col, event_col, None,
                                 weight_col)
    z = stats.norm.ppf(1 - alpha / 2)
    rows, fitters = [], {}
    empty = groups_without_events(data)
    if empty:
        raise SurvivalInputError(f"cure_fraction: group(s) {empty} have no payments; nothing to fit")
    for g in names:
        gd = data[g]
        # aggregate to (day, paid) counts: exact for the likelihood, fast at any size
        agg = (pd.DataFrame({"d": gd.durations, "e": gd.causes > 0, "w": gd.weights})
               .groupby(["d", "e"], as_index=False)["w"].sum())
        tab = gd.table()
        s = tab.survival()
        last_event = tab.days[tab.d > 0][-1]
        plateau = float(s[tab.days == last_event][0])
        fitter = MixtureCureFitter(base_fitter=WeibullFitter(), alpha=alpha)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fitter.fit(agg["d"] + DAY_OFFSET, agg["e"], weights=agg["w"], label=g)
        except Exception as exc:
            raise SurvivalInputError(
                f"cure_fraction: the cure model did not converge for group {g!r} "
                f"({str(exc).splitlines()[0]}); follow-up may be too short to see a plateau"
            ) from None
        pi = float(fitter.cured_fraction_)
        se = float(fitter.summary.loc["cured_fraction_", "se(coef)"])
        t_n, t_star, n_window, mz_p = maller_zhou(tab, float(gd.weights.sum()))
        s_end = float(np.asarray(fitter.survival_function_at_times(t_n + DAY_OFFSET)).ravel()[0])
        tail = (s_end - pi) / (1 - pi) if pi < 1 else 0.0
        if max_tail is not None and tail > max_tail:
            raise SurvivalInputError(
                f"cure_fraction: follow-up of group {g!r} is too short to see a plateau: the fitted "
                f"model leaves {tail:.0%} of eventual payers still unpaid at the last follow-up day "
                f"({t_n}; last payment on day {t_star}, {n_window:.0f} payment(s) in the "
                f"{t_n - t_star} day(s) before it, Maller–Zhou p = {mz_p:.2f}), so the never-paid "
                f"share ({pi:.1%}) cannot be told apart from slow payment; use a later as_of date "
                "or a longer history"
            )
        if 0 < pi < 1 and np.isfinite(se):
            logit = np.log(pi / (1 - pi))
            se_logit = se / (pi * (1 - pi))
            low, high = expit(logit - z * se_logit), expit(logit + z * se_logit)
        else:
            low = high = np.nan
        rows.append({"group": g, "never_paid": pi, "se": se, "ci_low": low, "ci_high": high,
                     "km_plateau": plateau, "last_payment_day": int(last_event),
                     "last_followup_day": t_n, "unpaid_payers_at_end": tail, "follow_up_p": mz_p,
                     "invoices": float(gd.weights.sum())})
        fitters[g] = fitter
    return CureFractionResult(pd.DataFrame(rows), as_list(by), fitters)
