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
from scipy import stats

from ..data.schema import OUTCOMES
from ..i18n import format_number, format_pct, p_text, result_axes, t
from ._common import (
    LifeTable,
    NotedResult,
    SurvivalInputError,
    as_list,
    check_groups,
    group_labels,
    prepare_groups,
    value_at,
    weights_of,
)
from .curves import loglog_band
from .influence import AalenJohansen

CAUSES = {code: name for name, code in OUTCOMES.items() if code > 0}


#: Variances of the cumulative incidence: ``"delta"`` (per-invoice influence values, as R
#: ``survfit`` reports) or ``"aalen"`` (Gray's Aalen-type estimator, as R ``cmprsk::cuminc``).
VARIANCES = ("delta", "aalen")


def aalen_johansen(tab: LifeTable, cause: int, variance: str = "delta") -> tuple[np.ndarray, np.ndarray]:
    """Cumulative incidence of ``cause`` (1-based) on each table day, and its variance.

    ``variance="delta"``: the delta-method (Marubini & Valsecchi) variance, the sum of
    squared per-invoice influence values (R ``survfit`` on a multi-state outcome).
    ``variance="aalen"``: Gray's Aalen-type variance (R ``cmprsk::cuminc``), which
    discounts d tied events on a day by 1 − (d − 1)/(n − 1); as ``cuminc`` reports it, the
    variance changes only on days with an event of this cause.
    """
    if variance not in VARIANCES:
        raise SurvivalInputError(f"cumulative_incidence: variance must be one of {VARIANCES}, got {variance!r}")
    n, d = tab.at_risk, tab.d
    dk = tab.events[:, cause - 1]
    # the curves are the survival engine's (one Aalen-Johansen); the variances below are
    # closed forms on the life table (unclustered), which the engine's IFs equal
    aj = AalenJohansen.from_table(int(tab.days[0]), n, d, dk)
    s, s_before, f = aj.survival_, aj.survival_before_, aj.cif_
    if variance == "aalen":
        return f, _aalen_type_variance(n, dk, d - dk, s_before, s, f)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = np.where((n > 0) & (n > d), d / (n * (n - d)), 0.0)
        a = np.where(n > 0, s_before**2 * dk * (n - dk) / n**3, 0.0)
        b = np.where(n > 0, s_before * dk / n**2, 0.0)
    c0, c1, c2 = np.cumsum(g), np.cumsum(f * g), np.cumsum(f * f * g)
    c3, c4, c5 = np.cumsum(a), np.cumsum(b), np.cumsum(f * b)
    var = f * f * c0 - 2 * f * c1 + c2 + c3 - 2 * f * c4 + 2 * c5
    return f, np.maximum(var, 0.0)


def _tie_factor(events: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Gray's discount 1 − (d − 1)/(n − 1) for d tied events among n at risk (1 when d <= 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(events > 1, 1 - (events - 1) / np.where(n > 1, n - 1, 1.0), 1.0)


def _aalen_type_variance(n, d_cause, d_other, s_before, s_after, f) -> np.ndarray:
    """Gray's Aalen-type variance of the cumulative incidence on each day (see above).

    V(t) = v1 + F(t)² v3 − 2 F(t) v2 with v1, v2, v3 running sums over event days of
    (u², u/S, 1/S²)·S(t−)²·k·e/n² for e events of a kind: u = 1 + F/S for this cause and
    u = F/S for the others (S, F just after the day; k the tie factor).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(s_after > 0, 1.0 / s_after, 0.0)
        base = np.where(n > 0, s_before**2 / n**2, 0.0)
    w_other = np.where((d_other > 0) & (s_after > 0), base * _tie_factor(d_other, n) * d_other, 0.0)
    w_cause = np.where(d_cause > 0, base * _tie_factor(d_cause, n) * d_cause, 0.0)
    u_other, u_cause = f * inv_s, 1 + f * inv_s
    v1 = np.cumsum(u_other**2 * w_other + u_cause**2 * w_cause)
    v2 = np.cumsum(inv_s * (u_other * w_other + u_cause * w_cause))
    v3 = np.cumsum(inv_s**2 * (w_other + w_cause))
    raw = v1 + f * f * v3 - 2 * f * v2
    # as cuminc reports it: updated on days with an event of this cause, carried otherwise
    last = np.maximum.accumulate(np.where(d_cause > 0, np.arange(len(n)), -1))
    return np.where(last >= 0, np.maximum(raw[np.maximum(last, 0)], 0.0), 0.0)


@dataclass
class CumulativeIncidence(NotedResult):
    """Cumulative incidence of each outcome (paid, escalated, written off) by group.

    Example:
        >>> outcomes = cl.cumulative_incidence(pt, by="arm")
        >>> outcomes.at(90)[["group", "outcome"]].head(3).values.tolist()
        [['control', 'paid'], ['control', 'escalated'], ['control', 'written_off']]
    """

    curves: pd.DataFrame
    groups_: list[str]
    by: list[str]
    alpha: float
    notes: list = field(default_factory=list)
    title = "Cumulative incidence of outcomes"

    def to_frame(self) -> pd.DataFrame:
        return self.curves


    def plot(self, ax=None, outcome: str = "paid", lang: str = "en"):
        """Draw one outcome's cumulative incidence by group on ``ax`` (default a new
        figure); returns the matplotlib Axes."""
        from .plots import plot_cumulative_incidence

        return result_axes(
            lambda ax: plot_cumulative_incidence(self, lang, outcomes=[outcome], ax=ax), ax)

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
    variance: str = "delta",
) -> CumulativeIncidence:
    """Aalen–Johansen cumulative incidence of paid / escalated / written off, by group.

    Args:
        frame: payment-times frame (``outcome_code``: 0 open, 1 paid, 2 escalated,
            3 written off) or a counts table with ``weight_col="n"``.
        by: grouping column(s).
        variance: ``"delta"`` (default; R ``survfit``) or ``"aalen"`` (R ``cmprsk::cuminc``),
            see :func:`aalen_johansen`.

    Example:
        >>> cif = cumulative_incidence(pt, by="arm").at(60)
        >>> cif.loc[cif["outcome"] == "paid", ["group", "incidence"]].round(2)
               group  incidence
        0    control       0.90
        3  treatment       0.96
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
            f, var = aalen_johansen(tab, code, variance)
            with np.errstate(divide="ignore", invalid="ignore"):
                var_log = np.where(f > 0, var / f**2, 0.0)
            # band for F via the log(-log) transform applied to F itself
            low, high = loglog_band(f, var_log, alpha)
            frames.append(pd.DataFrame({
                "group": g, "outcome": name, "day": tab.days[keep], "at_risk": tab.at_risk[keep],
                "events": tab.events[keep, code - 1], "incidence": f[keep],
                "se": np.sqrt(var[keep]), "ci_low": low[keep], "ci_high": high[keep],
            }))
    return CumulativeIncidence(pd.concat(frames, ignore_index=True), names, as_list(by), alpha, notes)


@dataclass
class GrayTestResult(NotedResult):
    """Gray's test that one outcome's cumulative incidence is equal across groups.

    ``table``: one row per outcome tested with ``statistic`` (χ² on ``dof`` = groups − 1)
    and ``p_value``.
    """

    table: pd.DataFrame
    groups_: list[str]
    strata: list[str]
    notes: list = field(default_factory=list)
    title = "Gray's test of cumulative incidence"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self, lang: str | None = None) -> str:
        parts = [t("surv_gray_part", lang, outcome=t(r.outcome, lang),
                   chi2=format_number(r.statistic, 2, lang), dof=r.dof,
                   p=p_text(r.p_value, lang))
                 for r in self.table.itertuples()]
        return t("surv_gray_summary", lang, parts="; ".join(parts)) + self.notes_text(lang)


def _gray_score(n, d1, d2, rho: float):
    """Gray's (1988) score and variance of one stratum, vectorised over event days.

    ``n``, ``d1``, ``d2``: (days, groups) at risk, events of the tested cause and of the
    others. Returns the score of the first G − 1 groups and its (G−1)×(G−1) variance.
    """
    n_days, k = n.shape
    live = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(live, (d1 + d2) / n, 0.0)
        s_after = np.cumprod(1 - h, axis=0)
        s_before = np.vstack([np.ones((1, k)), s_after[:-1]])
        f_after = np.cumsum(np.where(live, s_before * d1 / n, 0.0), axis=0)
        f_before = np.vstack([np.zeros((1, k)), f_after[:-1]])
        t1 = np.where(live, n / s_before, 0.0)                 # R_k / S_k(t−)
        tr = t1.sum(1)
        tq = np.where(live, n * (1 - f_before) / s_before, 0.0).sum(1)
    nd1 = d1.sum(1)
    step = np.where(tr > 0, nd1 / np.where(tr > 0, tr, 1.0), 0.0)
    f_pool = np.cumsum(step)                                   # pooled F(t)
    fm = f_pool - step                                         # pooled F(t−)
    fb = (1 - fm) ** rho
    with np.errstate(divide="ignore", invalid="ignore"):
        a = fb[:, None, None] * (np.einsum("tk,kl->tkl", t1, np.eye(k))
                                 - t1[:, :, None] * t1[:, None, :] / np.where(tr > 0, tr, 1.0)[:, None, None])
        c_step = np.where(nd1 > 0, nd1 / (tr * (1 - fm)), 0.0)
        score = (fb[:, None] * np.where(live, d1 - nd1[:, None] * n * (1 - f_before)
                                        / (s_before * np.where(tq > 0, tq, 1.0)[:, None]), 0.0)).sum(0)
    c = np.cumsum(a * c_step[:, None, None], axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # events of the tested cause
        t4 = np.where(s_after > 0, 1 - (1 - f_pool[:, None]) / s_after, 1.0)
        t5 = np.where(nd1[:, None] > 1, 1 - (nd1[:, None] - 1) / (tr[:, None] * s_before - 1), 1.0)
        t3 = np.where(live & (nd1[:, None] > 0), t5 * s_before * nd1[:, None] / (tr[:, None] * n), 0.0)
        # events of the other causes
        u4 = np.where(s_after > 0, (1 - f_pool[:, None]) / s_after, 0.0)
        u3 = np.where((s_after > 0) & (d2 > 0) & live,
                      _tie_factor(d2, n) * s_before**2 * d2 / n**2, 0.0)
    b = a - t4[:, None, :] * c                                 # (day, i, k)
    o = u4[:, None, :] * c
    v3 = (t4**2 * t3 + u4**2 * u3).sum(0)
    v2 = (b * (t4 * t3)[:, None, :] - o * (u4 * u3)[:, None, :]).sum(0)
    var = np.einsum("tik,tjk,tk->ij", b, b, t3) + np.einsum("tik,tjk,tk->ij", o, o, u3)
    cf = c[-1]
    var = var + np.einsum("ik,jk,k->ij", cf, cf, v3) + cf @ v2.T + v2 @ cf.T
    return score[: k - 1], var[: k - 1, : k - 1]


def gray_test(
    frame: pd.DataFrame,
    group,
    strata=None,
    outcomes=None,
    outcome_col: str = "outcome_code",
    duration_col: str = "duration",
    weight_col: str | None = None,
    rho: float = 0.0,
    groups=None,
) -> GrayTestResult:
    """Gray's test of equal cumulative incidence of each outcome across groups.

    The competing-risks counterpart of the log-rank test: it compares the subdistribution
    hazards of one outcome (paid, escalated, written off) with the others competing,
    optionally stratified. ``rho`` is the power of the weight (1 − F(t−))^ρ (0 gives
    log-rank-type weights). Equal to R ``cmprsk::cuminc(...)$Tests`` (tested), on
    row-level frames and counts tables (``weight_col="n"``).

    Example:
        >>> import pandas as pd
        >>> pt = pd.DataFrame({"duration": [2, 3, 3, 5, 6, 8, 9, 12],
        ...                    "outcome_code": [1, 1, 2, 1, 0, 2, 1, 0],
        ...                    "arm": ["a", "b"] * 4})
        >>> res = gray_test(pt, "arm", outcomes=["paid"])
        >>> res.to_frame()[["outcome", "dof"]].values.tolist()
        [['paid', 1]]
    """
    group, strata = as_list(group), as_list(strata)
    if not group:
        raise SurvivalInputError("gray_test: give the group column(s) to compare")
    notes: list = []
    data, _ = prepare_groups(frame, group + strata, "gray_test", duration_col, None, outcome_col,
                             weight_col, notes=notes)
    labels = group_labels(frame, group, "gray_test")
    w = weights_of(frame, weight_col, "gray_test")
    names = check_groups(labels, w, "gray_test", groups)
    if len(names) < 2:
        raise SurvivalInputError(f"gray_test: need at least two groups, found {names}")
    s_labels = sorted(pd.unique(group_labels(frame, strata, "gray_test")[w > 0]).tolist()) if strata else ["all"]
    wanted = list(CAUSES.values()) if outcomes is None else list(outcomes)
    unknown = [o for o in wanted if o not in CAUSES.values()]
    if unknown:
        raise SurvivalInputError(f"gray_test: unknown outcome(s) {unknown}; choose from {list(CAUSES.values())}")
    k_max = max(CAUSES)
    rows = []
    for outcome in wanted:
        code = next(c for c, nm in CAUSES.items() if nm == outcome)
        u, v = np.zeros(len(names) - 1), np.zeros((len(names) - 1, len(names) - 1))
        for s_lab in s_labels:
            keys = [_gray_key(g, s_lab, group, strata) for g in names]
            present = [data[key] for key in keys if key in data]
            lo = min(int(d.durations.min()) for d in present)
            hi = max(int(d.durations.max()) for d in present)
            n = np.zeros((hi - lo + 1, len(names)))
            d1, d2 = np.zeros_like(n), np.zeros_like(n)
            for j, key in enumerate(keys):
                if key in data:
                    tab = data[key].table(n_causes=k_max, lo=lo, hi=hi)
                    n[:, j], d1[:, j] = tab.at_risk, tab.events[:, code - 1]
                    d2[:, j] = tab.d - d1[:, j]
            busy = (d1 + d2).sum(1) > 0
            su, sv = _gray_score(n[busy], d1[busy], d2[busy], rho)
            u, v = u + su, v + sv
        stat = float(u @ np.linalg.pinv(v) @ u)
        dof = len(names) - 1
        rows.append({"outcome": outcome, "statistic": stat, "dof": dof,
                     "p_value": float(stats.chi2.sf(stat, dof))})
    return GrayTestResult(pd.DataFrame(rows), names, strata, notes)


def _gray_key(g: str, s: str, group: list[str], strata: list[str]) -> str:
    """The :func:`prepare_groups` label of group ``g`` within stratum ``s``."""
    return " / ".join([g, s]) if strata else g
