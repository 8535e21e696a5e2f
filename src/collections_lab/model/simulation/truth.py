"""What the simulator knows and an analysis must recover: the :class:`Truth` record and the
true per-arm effects computed from the behaviour model itself."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ...i18n import ResultMixin, format_number, resolve, t
from ..behaviour import BehaviourModel
from ..strategies import Strategy
from .engine import N_UNIFORMS, HazardCurves, draw_outcomes, escalation_day

#: True effects are computed on at most this many invoices of the experiment period
#: (the first ones; customers are generated at random, so they are a random sample).
TRUTH_MAX_INVOICES = 100_000


@dataclass
class Truth(ResultMixin):
    """What the simulator knows and an analysis must recover.

    Attributes:
        model (dict): The behaviour model's parameters.
        strategies (dict): Each arm's strategy as a dict.
        customers (DataFrame): customer_id, segment, frailty (u), discount_taker, distress_start (NaT if none),
            churned_at (NaT if never).
        invoices (DataFrame): invoice_id, arm, never_payer, multiplier (m_i), counterfactual_day (payment day since
            issue under no strategy at all, -1 if never).
        arm_effects (DataFrame): Per arm, expected over the model's randomness for this population of invoices:
            ``p_paid_by_due``, ``p_paid_by_due_15``, ``p_paid_by_due_30`` (probability paid
            in full by due + d days), ``rmst_60/90/120`` (restricted mean days to payment
            since issue, unpaid counted as not yet paid), ``escalation_rate``, and ``method``
            (``analytic`` or ``monte_carlo``).

    Example:
        >>> sim = cl.simulate(100, cl.example_strategies()["nudge_then_firm"], seed=1,
        ...                   end="2025-03-31", progress=False)
        >>> sim.truth.arm_effects["method"].tolist(), round(float(sim.truth.arm_effects["p_paid_by_due"].iloc[0]), 2)
        (['analytic'], 0.84)
    """

    model: dict
    strategies: dict
    seed: int
    customers: pd.DataFrame
    invoices: pd.DataFrame
    arm_effects: pd.DataFrame
    control: str | None = None
    population_seed: int | None = None  # seed of customers, traits and schedule
    title = "Simulation truth"

    def to_frame(self) -> pd.DataFrame:
        return self.arm_effects

    def headline(self, lang: str | None = None) -> str:
        """How many arms, customers and invoices the truth covers, and how it was computed."""
        lang, locale = resolve(lang)
        methods = ", ".join(sorted(set(self.arm_effects.get("method", pd.Series(dtype=str))
                                       .astype(str)))) or "—"
        return t("truth.headline", lang, arms=len(self.arm_effects), method=methods,
                 customers=format_number(len(self.customers), 0, lang, locale),
                 invoices=format_number(len(self.invoices), 0, lang, locale), seed=self.seed)

    def __repr__(self) -> str:
        return f"<Truth: {self.headline()}>"

    def effect(self, metric: str, arm: str, control: str | None = None) -> float:
        """True difference arm − control for a metric of :attr:`arm_effects`."""
        control = control or self.control
        table = self.arm_effects.set_index("arm")
        return float(table.loc[arm, metric] - table.loc[control, metric])


def true_arm_effects(model: BehaviourModel, strategies: list[Strategy], arm_names: list[str],
                     inv: dict, seed: int, replicates: int = 20,
                     max_invoices: int = TRUTH_MAX_INVOICES) -> pd.DataFrame:
    """Expected outcome metrics of every arm applied to the same invoices (counterfactual).

    For strategies without installment offers the expectation over the model's randomness
    is analytic: ``P(paid by t) = (1 - π_i) (1 - exp(-m_i G(t)))`` for ``t`` before
    escalation. With installment offers it is a Monte Carlo mean over ``replicates`` draws.
    ``inv`` holds per-invoice arrays ``seg, terms, taker, mult, never_p``. Populations
    larger than ``max_invoices`` are summarised on a seeded random sample of that size
    (the sampling error is then far below any experiment's), in chunks of bounded memory.
    """
    n_all = len(inv["mult"])
    if n_all > max_invoices:
        pick = np.sort(np.random.default_rng(np.random.SeedSequence([seed, 8])).choice(
            n_all, max_invoices, replace=False))
        inv = {k: v[pick] for k, v in inv.items()}
    rows = []
    for a, (name, strategy) in enumerate(zip(arm_names, strategies, strict=True)):
        sums = _arm_metric_sums(model, strategies, a, inv, seed, replicates)
        n = len(inv["mult"])
        row = {"arm": name, "method": "analytic" if strategy.installment is None
               else "monte_carlo"}
        row.update({k: v / n for k, v in sums.items()})
        rows.append(row)
    return pd.DataFrame(rows)


TRUTH_DAYS = (0, 15, 30)
TRUTH_TAUS = (60, 90, 120)


def _arm_metric_sums(model, strategies, a, inv, seed, replicates, chunk=25_000) -> dict:
    """Sums over invoices of the true metrics of arm ``a`` (divide by n for means)."""
    h = model.horizon_days
    strategy = strategies[a]
    curves = HazardCurves(model, list(strategies) + [None])
    n = len(inv["mult"])
    keys = [f"p_paid_by_due{'' if d == 0 else f'_{d}'}" for d in TRUTH_DAYS]
    keys += [f"rmst_{tau}" for tau in TRUTH_TAUS] + ["escalation_rate"]
    sums = dict.fromkeys(keys, 0.0)
    days = np.arange(h)
    for lo in range(0, n, chunk):
        sl = slice(lo, min(n, lo + chunk))
        part = {k: v[sl] for k, v in inv.items()}
        m = len(part["mult"])
        if strategy.installment is None:
            paid = np.empty((m, h))
            escalated = np.zeros(m)
            for tm in np.unique(part["terms"]):
                for sg in np.unique(part["seg"]):
                    for tk in (False, True):
                        gi = np.flatnonzero((part["terms"] == tm) & (part["seg"] == sg)
                                            & (part["taker"] == tk))
                        if not len(gi):
                            continue
                        g = curves.cumulative(a, int(sg), int(tm), tk)
                        p = (1 - part["never_p"][gi, None]) * (
                            1 - np.exp(-part["mult"][gi, None] * g))
                        esc = escalation_day(strategy, int(tm), h)
                        if esc < h:
                            p[:, esc:] = p[:, [esc - 1]]
                            escalated[gi] = 1 - p[:, esc - 1]
                        paid[gi] = p
        else:
            paid = np.zeros((m, h))
            escalated = np.zeros(m)
            for r in range(replicates):
                u = np.random.default_rng(np.random.SeedSequence([seed, 9, a, r, lo])).random(
                    (N_UNIFORMS, m))
                o = draw_outcomes(model, curves, np.full(m, a), part["seg"], part["terms"],
                          part["taker"], part["mult"], part["never_p"], u)
                paid_day = np.where(o.outcome == 1, o.end_day, 10**6)
                paid += paid_day[:, None] <= days[None, :]
                escalated += o.outcome == 2
            paid /= replicates
            escalated /= replicates
        for d, key in zip(TRUTH_DAYS, keys, strict=False):
            t = np.minimum(part["terms"] + d, h - 1)
            sums[key] += paid[np.arange(m), t].sum()
        for tau in TRUTH_TAUS:
            sums[f"rmst_{tau}"] += (1 - paid[:, :tau]).sum()
        sums["escalation_rate"] += escalated.sum()
    return sums
