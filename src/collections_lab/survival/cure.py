"""Never-payers: the share of invoices that would never be paid without escalation.

A mixture cure model says S(t) = π + (1 - π) S_u(t): a share π of invoices is never paid
(the "cured" in survival jargon) and the rest are paid following S_u (Weibull here). It
is fitted with lifelines' ``MixtureCureFitter`` on whole-day counts (weights), so it is
fast however many invoices there are. Escalated and written-off invoices count as not
paid (censored at the day they were escalated or written off): the estimate is the
share that would stay unpaid if nobody escalated. The Kaplan–Meier plateau (share still
unpaid at the last payment day) is reported next to it as a model-free check.

Example
-------
>>> res = cure_fraction(pt, by="segment")              # doctest: +SKIP
>>> res.summary("es")                                  # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import expit

from ..i18n import format_pct
from ..results import ResultMixin
from ._common import SurvivalInputError, as_list, prepare_groups

#: Half a day added to whole-day durations so same-day payments are positive.
DAY_OFFSET = 0.5


@dataclass
class CureFractionResult(ResultMixin):
    """Estimated share of never-payers per group (mixture cure model) with CIs."""

    table: pd.DataFrame
    by: list[str]
    fitters_: dict = field(default_factory=dict, repr=False)
    title = "Share never paid without escalation"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self, lang: str = "en") -> str:
        parts = [f"{r.group}: {format_pct(r.never_paid, 1, lang)} ({format_pct(r.ci_low, 1, lang)}"
                 f"–{format_pct(r.ci_high, 1, lang)})" for r in self.table.itertuples()]
        head = ("Proporción estimada de facturas que nunca se pagarían sin escalar"
                if lang == "es" else "Estimated share of invoices never paid without escalation")
        return f"{head}: " + "; ".join(parts) + "."


def cure_fraction(
    frame: pd.DataFrame,
    by=None,
    duration_col: str = "duration",
    event_col: str = "event",
    weight_col: str | None = None,
    alpha: float = 0.05,
) -> CureFractionResult:
    """Fit a Weibull mixture cure model per group; report the never-paid share π with CI.

    The CI is built on the logit scale from lifelines' standard error (stays in 0–1).
    Raises if a group has no follow-up long enough to see a plateau (the last invoice
    leaves the risk set with a payment): π is then not identifiable.
    """
    from lifelines import MixtureCureFitter, WeibullFitter

    data, names = prepare_groups(frame, by, "cure_fraction", duration_col, event_col, None,
                                 weight_col)
    z = stats.norm.ppf(1 - alpha / 2)
    rows, fitters = [], {}
    for g in names:
        gd = data[g]
        if not (gd.causes > 0).any():
            raise SurvivalInputError(f"cure_fraction: group {g!r} has no payments; nothing to fit")
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
        if 0 < pi < 1 and np.isfinite(se):
            logit = np.log(pi / (1 - pi))
            se_logit = se / (pi * (1 - pi))
            low, high = expit(logit - z * se_logit), expit(logit + z * se_logit)
        else:
            low = high = np.nan
        rows.append({"group": g, "never_paid": pi, "se": se, "ci_low": low, "ci_high": high,
                     "km_plateau": plateau, "last_payment_day": int(last_event),
                     "invoices": float(gd.weights.sum())})
        fitters[g] = fitter
    return CureFractionResult(pd.DataFrame(rows), as_list(by), fitters)
