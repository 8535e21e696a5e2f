"""Competing outcomes: paid vs escalated vs written off (Aalen–Johansen cumulative incidence).

An invoice that is escalated to legal collection or written off can no longer be "paid
by us"; treating those as censored would overstate payment. The Aalen–Johansen estimator
gives each outcome's cumulative incidence F_k(t) = P(outcome k by day t), and the shares
add up with the invoices still open.

Written here on the whole-day life table rather than with lifelines'
``AalenJohansenFitter`` because that one breaks ties by adding random jitter to the
durations, and with whole days almost every duration is tied (the data would be changed at
random); this version is exact on ties and on counts tables (``weight_col="n"``). The
variance is the delta-method one (Marubini & Valsecchi), which is what per-invoice
influence values give; the tests check both against lifelines on untied data.

Example
-------
>>> import pandas as pd
>>> pt = pd.DataFrame({"duration": [3, 5, 5, 9], "outcome_code": [1, 2, 1, 0]})
>>> ci = cumulative_incidence(pt)
>>> ci.at(5).set_index("outcome")["incidence"].round(2).to_dict()
{'paid': 0.5, 'escalated': 0.25, 'written_off': 0.0}
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..i18n import format_pct, t
from ..schema import OUTCOMES
from ._common import LifeTable, NotedResult, SurvivalInputError, as_list, prepare_groups, value_at
from .curves import _loglog_band

CAUSES = {code: name for name, code in OUTCOMES.items() if code > 0}


def aalen_johansen(tab: LifeTable, cause: int) -> tuple[np.ndarray, np.ndarray]:
    """Cumulative incidence of ``cause`` (1-based) on each table day, and its variance."""
    n, d = tab.at_risk, tab.d
    dk = tab.events[:, cause - 1]
    s = tab.survival()
    s_before = np.concatenate([[1.0], s[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        hk = np.where(n > 0, dk / n, 0.0)
        g = np.where((n > 0) & (n > d), d / (n * (n - d)), 0.0)
        a = np.where(n > 0, s_before**2 * dk * (n - dk) / n**3, 0.0)
        b = np.where(n > 0, s_before * dk / n**2, 0.0)
    f = np.cumsum(s_before * hk)
    c0, c1, c2 = np.cumsum(g), np.cumsum(f * g), np.cumsum(f * f * g)
    c3, c4, c5 = np.cumsum(a), np.cumsum(b), np.cumsum(f * b)
    var = f * f * c0 - 2 * f * c1 + c2 + c3 - 2 * f * c4 + 2 * c5
    return f, np.maximum(var, 0.0)


@dataclass
class CumulativeIncidence(NotedResult):
    """Cumulative incidence of each outcome (paid, escalated, written off) by group."""

    curves: pd.DataFrame
    groups_: list[str]
    by: list[str]
    alpha: float
    notes: list = field(default_factory=list)
    title = "Cumulative incidence of outcomes"

    def to_frame(self) -> pd.DataFrame:
        return self.curves

    def last_day(self) -> pd.Series:
        """Each group's last day with an observation (outcome or censoring)."""
        return self.curves.groupby("group", sort=False)["day"].max()

    def at(self, day: int) -> pd.DataFrame:
        """Incidence of each outcome by ``day`` per group (with CIs).

        Raises if ``day`` is beyond a group's last observation: the curve is not known
        there (carrying the last value forward would pretend nothing happens later).
        """
        last = self.last_day()
        beyond = last[last < day]
        if len(beyond):
            raise SurvivalInputError(
                f"cumulative_incidence.at: day {day} is beyond the last observation of group(s) "
                + ", ".join(f"{g!r} (day {int(d)})" for g, d in beyond.items())
                + f"; choose a day <= {int(last.min())}"
            )
        rows = []
        for (g, o), c in self.curves.groupby(["group", "outcome"], sort=False):
            days = c["day"].to_numpy()
            rows.append({"group": g, "outcome": o, "day": day,
                         "incidence": value_at(days, c["incidence"].to_numpy(), day, 0.0),
                         "ci_low": value_at(days, c["ci_low"].to_numpy(), day, 0.0),
                         "ci_high": value_at(days, c["ci_high"].to_numpy(), day, 0.0)})
        return pd.DataFrame(rows)

    def summary(self, lang: str | None = None, day: int | None = None) -> str:
        day = int(self.last_day().min()) if day is None else day
        res = self.at(day)
        parts = []
        for g, sub in res.groupby("group", sort=False):
            shares = ", ".join(f"{t(o, lang)} {format_pct(v, 1, lang)}"
                               for o, v in zip(sub["outcome"], sub["incidence"], strict=True))
            parts.append(f"{g}: {shares}")
        head = t("surv_by_day", lang, day=day)
        return f"{head}: " + "; ".join(parts) + "." + self.notes_text(lang)


def cumulative_incidence(
    frame: pd.DataFrame,
    by=None,
    outcome_col: str = "outcome_code",
    duration_col: str = "duration",
    weight_col: str | None = None,
    alpha: float = 0.05,
    groups=None,
) -> CumulativeIncidence:
    """Aalen–Johansen cumulative incidence of paid / escalated / written off, by group.

    Args:
        frame: payment-times frame (``outcome_code``: 0 open, 1 paid, 2 escalated,
            3 written off) or a counts table with ``weight_col="n"``.
        by: grouping column(s).

    Example:
        >>> cumulative_incidence(pt, by="arm").at(60)          # doctest: +SKIP
    """
    notes: list = []
    data, names = prepare_groups(frame, by, "cumulative_incidence", duration_col, None,
                                 outcome_col, weight_col, groups=groups, notes=notes)
    codes = np.concatenate([d.causes for d in data.values()])
    unknown = sorted(set(np.unique(codes).tolist()) - set(CAUSES) - {0})
    if unknown:
        raise SurvivalInputError(
            f"cumulative_incidence: unknown outcome code(s) {unknown} in {outcome_col!r}; "
            f"expected {dict(OUTCOMES)}"
        )
    k = max(CAUSES)
    frames = []
    for g in names:
        tab = data[g].table(n_causes=k)
        keep = (tab.d + tab.censored) > 0
        for code, name in CAUSES.items():
            f, var = aalen_johansen(tab, code)
            with np.errstate(divide="ignore", invalid="ignore"):
                var_log = np.where(f > 0, var / f**2, 0.0)
            # band for F via the log(-log) transform applied to F itself
            low, high = _loglog_band(f, var_log, alpha)
            frames.append(pd.DataFrame({
                "group": g, "outcome": name, "day": tab.days[keep], "at_risk": tab.at_risk[keep],
                "events": tab.events[keep, code - 1], "incidence": f[keep],
                "se": np.sqrt(var[keep]), "ci_low": low[keep], "ci_high": high[keep],
            }))
    return CumulativeIncidence(pd.concat(frames, ignore_index=True), names, as_list(by), alpha, notes)
