"""From lab to field: turn a recommendation into an experiment that tests the twin's claim.

For each segment, a two-arm customer-randomised experiment — the current strategy
(control) against the recommended one — sized to detect the change the twin predicts in
the share paid by due + 15 days, with the design effect of several invoices per customer.
Sample sizes come from the experiment engine
(:func:`collections_lab.experiments.design.sample_size_proportion`); if it is not
available the same two-proportion formula from ``statsmodels.stats.power`` is used.

The twin's prediction is what the experiment tests: its readout should fall inside the
predicted interval if the twin is right.

Example
-------
>>> plan = size_two_arm(0.85, 0.03, invoices_per_customer=6.0, icc=0.05)
>>> plan["invoices_per_arm"] > 1000
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..assignment import Experiment
from ..behaviour import SEGMENTS
from ..i18n import format_number, format_pct
from ..results import ResultMixin
from .recommend import Recommendation
from .twin import Twin

#: Smallest predicted change in the share paid by due + 15 worth sizing an experiment for.
MIN_EFFECT = 0.002


def size_two_arm(p_control: float, effect: float, invoices_per_customer: float,
                 icc: float = 0.05, alpha: float = 0.05, power: float = 0.8) -> dict:
    """Invoices and customers per arm to detect ``p_control → p_control + effect``.

    The design effect ``1 + (m - 1)·icc`` (``m`` invoices per customer) inflates the
    independent-invoices size. Returns a dict with ``invoices_per_arm``,
    ``customers_per_arm``, ``design_effect`` and ``engine`` (which code computed it).
    """
    try:
        from ..experiments.design import design_effect, sample_size_proportion
    except ImportError:  # the experiment engine is optional here
        design_effect = sample_size_proportion = None
    if sample_size_proportion is not None:
        de = design_effect(invoices_per_customer, icc)
        plan = sample_size_proportion(p_control, effect, alpha=alpha, power=power,
                                      design_effect=de,
                                      invoices_per_customer=invoices_per_customer)
        return dict(invoices_per_arm=int(plan.invoices_per_arm),
                    customers_per_arm=int(plan.customers_per_arm), design_effect=float(de),
                    engine="experiments.design.sample_size_proportion")
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    de = 1 + (invoices_per_customer - 1) * icc
    es = abs(proportion_effectsize(p_control + effect, p_control))
    n = NormalIndPower().solve_power(es, alpha=alpha, power=power, ratio=1.0)
    n = math.ceil(n * de)
    return dict(invoices_per_arm=n, customers_per_arm=math.ceil(n / invoices_per_customer),
                design_effect=de, engine="statsmodels NormalIndPower (arcsine)")


@dataclass
class ExperimentProposal(ResultMixin):
    """Experiments that would test a recommendation, one per segment.

    ``table``: per segment — control and treatment strategies, the twin's predicted share
    paid by due + 15 under each, the effect, invoices and customers per arm, customers
    available, weeks needed, and whether the segment is large enough. ``experiments``:
    segment → :class:`~collections_lab.assignment.Experiment` ready for
    :func:`~collections_lab.assignment.assign`.
    """

    table: pd.DataFrame
    experiments: dict
    alpha: float
    power: float
    title = "Experiment to test the recommendation"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self, lang: str = "en") -> str:
        t = self.table
        ok = t.loc[t["feasible"]]
        if ok.empty:
            return ("Ningún segmento tiene clientes suficientes para probar la recomendación "
                    "con esta potencia." if lang == "es" else
                    "No segment has enough customers to test the recommendation at this power.")
        r = ok.sort_values("weeks").iloc[0]
        eff = format_pct(r["predicted_effect"], 1, lang)
        n = format_number(r["customers_per_arm"], 0, lang)
        w = format_number(r["weeks"], 0, lang)
        if lang == "es":
            return (f"Para comprobar la predicción del gemelo en el segmento {r['segment']} "
                    f"({eff} más facturas pagadas a vencimiento + 15 días) basta un experimento "
                    f"de dos brazos con {n} clientes por brazo durante unas {w} semanas.")
        return (f"To test the twin's prediction in segment {r['segment']} ({eff} more invoices "
                f"paid by due + 15 days), a two-arm experiment needs {n} customers per arm for "
                f"about {w} weeks.")


def experiment_from_recommendation(recommendation: Recommendation, twin: Twin,
                                   alpha: float = 0.05, power: float = 0.8,
                                   icc: float = 0.05,
                                   experiment_id: str = "lab-recommendation"
                                   ) -> ExperimentProposal:
    """Design, per segment, the experiment current vs recommended (see module docstring).

    ``icc``: intra-customer correlation of the paid-by-due+15 outcome (a documented
    assumption; measure it on a past experiment with
    :func:`collections_lab.experiments.design.estimate_design_effect`).
    """
    cand = recommendation.candidates.set_index(["strategy", "segment"])
    current = recommendation.current
    rows, experiments = [], {}
    weeks_history = _weeks_of_history(twin)
    for seg, strat in recommendation.strategies.items():
        g = SEGMENTS.index(seg)
        p0 = float(cand.loc[(current.name, seg), "paid_by_due_15"])
        p1 = float(cand.loc[(strat.name, seg), "paid_by_due_15"])
        effect = p1 - p0
        n_inv = int((twin.seg == g).sum())
        n_cust = int((twin.customer_seg == g).sum())
        per_cust = n_inv / max(n_cust, 1)
        row = dict(segment=seg, control=current.name, treatment=strat.name,
                   p_control=p0, p_treatment=p1, predicted_effect=effect,
                   customers_available=n_cust)
        if strat.name == current.name or abs(effect) < MIN_EFFECT or not 0 < p1 < 1:
            row.update(invoices_per_arm=np.nan, customers_per_arm=np.nan, design_effect=np.nan,
                       weeks=np.nan, feasible=False, engine="",
                       note="predicted change too small to test on paid by due + 15")
        else:
            plan = size_two_arm(p0, effect, per_cust, icc, alpha, power)
            per_week = n_inv / weeks_history
            weeks = 2 * plan["invoices_per_arm"] / max(per_week, 1e-9) + (
                float(np.median(twin.terms[twin.seg == g])) + 15) / 7
            # invoices per customer are those of the whole history: a segment is large
            # enough if the experiment fits in a period as long as the history
            feasible = 2 * plan["customers_per_arm"] <= n_cust
            row.update(plan, weeks=weeks, feasible=bool(feasible),
                       note="" if feasible else
                       "needs more customers than the segment has over a period as long as "
                       "the history")
            experiments[seg] = Experiment(f"{experiment_id}-{seg}",
                                          {current.name: current, strat.name: strat},
                                          control=current.name, stratify_by="segment")
        rows.append(row)
    return ExperimentProposal(pd.DataFrame(rows), experiments, alpha, power)


def _weeks_of_history(twin: Twin) -> float:
    """Weeks of invoicing the twin covers, from the monthly billing it was built with."""
    total = float(np.sum(twin.amount))
    monthly = float(np.sum(twin.monthly_billing))
    months = total / monthly if monthly > 0 else 1.0
    return max(1.0, months * 30.44 / 7.0)
