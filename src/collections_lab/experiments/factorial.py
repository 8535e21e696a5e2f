"""Factorial experiments (tone × count × discount): main effects and interactions at once.

Each arm is a combination of factor levels (``Experiment.factors``). One regression on all
invoices estimates every main effect and interaction:

- a Cox model of time to payment (hazard ratios; the survival engine's Cox fit with Efron
  ties, as :func:`~collections_lab.survival.fit_cox`, cluster-robust SEs by customer), and
- a linear probability model of "paid by due + d" on the invoices whose due + d day has
  passed at the readout (unbiased: whether an invoice is resolvable depends on its issue
  date only, not on the arm), OLS with customer-clustered SEs (statsmodels).

Factors are coded as **centred dummies** (a two-level factor becomes −½/+½ in a balanced
design), so a main effect is the effect averaged over the other factors' levels and an
interaction is a difference of differences — the usual factorial reading.

Example
-------
>>> levels = {"a": {"tone": "friendly"}, "b": {"tone": "firm"}}
>>> design_matrix(["a", "b", "b"], levels).columns.tolist()
['tone[firm]']
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from ..i18n import ResultMixin
from .data import ExperimentData


def design_matrix(arms, factors: dict[str, dict[str, str]], interactions: int = 3,
                  reference: dict[str, str] | None = None) -> pd.DataFrame:
    """Centred factor dummies and their interactions (up to ``interactions``-way) per row.

    ``arms`` gives each row's arm; ``factors`` maps arm → {factor: level}. The reference
    level of each factor is ``reference[factor]`` or the level of the first arm listed.
    """
    arms = pd.Series(list(arms), dtype=object)
    unknown = sorted(set(arms) - set(factors))
    if unknown:
        raise ValueError(f"arm(s) {unknown} have no factor levels in `factors`")
    names = list(next(iter(factors.values())))
    for arm, lv in factors.items():
        if list(lv) != names:
            raise ValueError(f"arm {arm!r} has factors {list(lv)}, expected {names}")
    reference = dict(reference or {})
    first = next(iter(factors.values()))
    mains: dict[str, list[str]] = {}
    cols = {}
    for f in names:
        level = arms.map(lambda a, f=f: factors[a][f])
        ref = reference.get(f, first[f])
        others = sorted(set(lv[f] for lv in factors.values()) - {ref})
        mains[f] = []
        for lev in others:
            dummy = (level == lev).astype(float)
            name = f"{f}[{lev}]"
            cols[name] = dummy - dummy.mean()
            mains[f].append(name)
    for k in range(2, interactions + 1):
        for combo in combinations(names, k):
            for parts in _product([mains[f] for f in combo]):
                prod = np.prod([cols[p] for p in parts], axis=0)
                cols[":".join(parts)] = prod - prod.mean()
    return pd.DataFrame(cols, index=arms.index)


def _product(lists):
    if not lists:
        yield ()
        return
    for head in lists[0]:
        for tail in _product(lists[1:]):
            yield (head, *tail)


@dataclass
class FactorialResult(ResultMixin):
    """Main effects and interactions: hazard ratios and points of P(paid by due + d)."""

    table: pd.DataFrame
    due_plus_days: int
    title = "Factorial analysis (main effects and interactions)"

    def to_frame(self) -> pd.DataFrame:
        return self.table


def factorial_analysis(data: ExperimentData, factors: dict[str, dict[str, str]],
                       due_plus_days: int = 15, interactions: int = 3,
                       reference: dict[str, str] | None = None, alpha: float = 0.05,
                       cox: bool = True) -> FactorialResult:
    """Fit the factorial regressions on experiment invoices (see module docstring).

    Returns one row per term with ``model`` ("cox": ``estimate`` is a hazard ratio;
    "paid_by_due_d": ``estimate`` in points per 100 invoices), CI and p-value.
    """
    arms = np.asarray(data.arm_names, dtype=object)[data.invoice_arm]
    x = design_matrix(arms, factors, interactions, reference)
    rows = []
    q = stats.norm.ppf(1 - alpha / 2)
    if cox:
        # the survival engine's Cox fit (Efron ties, as fit_cox) on counts of identical
        # rows (the design depends on the arm only), then the customer-clustered sandwich
        from ..survival.regression import cluster_robust_cox_covariance, cox_fit_arrays

        paid = data.cause == 1
        span = int(data.duration.max()) + 1
        key = (data.invoice_arm.astype(np.int64) * 2 + paid) * span + data.duration
        uniq, first, counts = np.unique(key, return_index=True, return_counts=True)
        xs = x.to_numpy(dtype=float)
        beta, cov, _ = cox_fit_arrays(xs[first], uniq % span, (uniq // span) % 2 == 1,
                                      weights=counts, where="factorial_analysis")
        robust = cluster_robust_cox_covariance(xs, data.duration, paid, beta, cov, data.customer)
        for i, term in enumerate(x.columns):
            b, se = float(beta[i]), float(np.sqrt(robust[i, i]))
            rows.append({"model": "cox", "term": term, "estimate": np.exp(b),
                         "ci_low": np.exp(b - q * se), "ci_high": np.exp(b + q * se),
                         "p_value": 2 * stats.norm.sf(abs(b / se))})
    resolvable = data.issue_day + data.terms + due_plus_days <= data.as_of_day
    if resolvable.sum() > x.shape[1] + 1:
        y = ((data.cause == 1) & (data.days_late <= due_plus_days))[resolvable].astype(float)
        design = sm.add_constant(x.loc[resolvable].to_numpy())
        ols = sm.OLS(y, design).fit(cov_type="cluster",
                                    cov_kwds={"groups": data.customer[resolvable]})
        for i, term in enumerate(x.columns, start=1):
            b, se = float(ols.params[i]) * 100, float(ols.bse[i]) * 100
            rows.append({"model": "paid_by_due_d", "term": term, "estimate": b,
                         "ci_low": b - q * se, "ci_high": b + q * se,
                         "p_value": float(ols.pvalues[i])})
    return FactorialResult(pd.DataFrame(rows), due_plus_days)
