"""Does a recommendation survive the priors it rests on? Re-run the pick with each of them
halved and doubled, and say so in plain words.

:func:`~collections_lab.lab.recommend.recommend` lists, per segment, the parameters its pick
rests on that the history cannot identify (:func:`~collections_lab.lab.priors.relied_priors`)
and calls :func:`prior_sensitivity`, which re-evaluates a few candidates on the twin with
each of those priors × 0.5 and × 2 (:data:`~collections_lab.lab.priors.FACTORS`), on
fewer replicates than the search but the same ones for every run (common random
numbers), and records whether the pick changes and what keeping it would cost.
:func:`sensitivity_summary` and :func:`priors_sentence` turn that into a table and a
sentence of the executive summary (en / es).

Example
-------
>>> import numpy as np
>>> from collections_lab.lab.compare import METRICS
>>> mean = np.zeros((3, 1, len(METRICS)))  # strategies × segments × metrics
>>> mean[:, 0, METRICS.index("net_value")] = [10.0, 12.0, 15.0]
>>> mean[:, 0, METRICS.index("churn")] = [0.01, 0.012, 0.05]  # the third churns too much
>>> pick_within_churn(mean, 0, max_churn_increase=0.005)
1
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..i18n import format_money, format_number, resolve, t, value_label
from .calibrate import parameter_key
from .compare import METRICS, simulate_metrics
from .priors import (
    FACTORS,
    FIXED_IN_TWIN,
    prior_label,
    prior_labels,
    prior_value,
    relied_priors,
    scaled_prior,
    twin_with_prior,
)

NV = METRICS.index("net_value")
CHURN = METRICS.index("churn")

#: Strategies per segment (the pick and its runners-up) re-run in the sensitivity check.
RIVALS = 3
#: Columns of :attr:`~collections_lab.lab.recommend.Recommendation.sensitivity`.
SENSITIVITY_COLUMNS = ["segment", "parameter", "prior", "factor", "value", "recommended",
                       "pick", "pick_unchanged_prior", "changed", "cost_if_kept"]


def pick_within_churn(mean: np.ndarray, g: int, max_churn_increase: float,
                      first: int = 0) -> int | None:
    """Position of the highest mean net value in segment ``g`` among strategies (from
    position ``first``) whose churn exceeds the current strategy's (position 0) by at most
    ``max_churn_increase``; None if there is none. ``mean``: strategies × segments ×
    :data:`~collections_lab.lab.compare.METRICS`."""
    dchurn = mean[:, g, CHURN] - mean[0, g, CHURN]
    feasible = np.flatnonzero(dchurn <= max_churn_increase)
    feasible = feasible[feasible >= first]
    return int(feasible[np.argmax(mean[feasible, g, NV])]) if len(feasible) else None


def prior_sensitivity(twin, screened, nv, near, final_pos, stage2, pick_pos, relied,
                      seg_pos, max_churn_increase, economics, first, replicates, n_jobs
                      ) -> pd.DataFrame:
    """Re-run each segment's pick with each prior it relies on × 0.5 and × 2.

    ``screened``: the strategies of the screen (position 0 the current one), ``nv`` their
    screen means (strategies × segments) and ``near`` whether each was near the churn
    limit; ``final_pos``: screen positions of the stage-2 strategies, ``stage2`` their
    means; ``pick_pos``: segment → screen position of its pick; ``relied``: segment →
    relied-on priors; ``seg_pos``: segment → segment code; ``first``: 1 if the current
    strategy may not be picked.

    Candidates, per segment: the pick and its :data:`RIVALS` − 1 runners-up (stage 2, then
    the screen), and for each relied-on prior the best strategy that does not use it (so
    "drop the installment offer" is always an option when uptake is halved); the current
    strategy is the churn baseline. All runs share the same replicates (common random
    numbers), including one with the priors unchanged: a pick counts as changed when it
    differs from the recommendation and from that run's pick — the prior's doing, not
    luck. ``cost_if_kept``: net value lost (currency) by keeping the recommendation if the
    prior were that far off.
    """
    names = sorted(n for n in set().union(*relied.values())
                   if parameter_key(n)[0] not in FIXED_IN_TWIN)
    if not names or replicates <= 0:
        return pd.DataFrame(columns=SENSITIVITY_COLUMNS)
    pos = {0}
    for seg, g in seg_pos.items():
        dchurn = stage2[:, g, CHURN] - stage2[0, g, CHURN]
        order = [final_pos[i] for i in np.argsort(-stage2[:, g, NV])
                 if i >= first and dchurn[i] <= max_churn_increase]
        order += [int(i) for i in np.argsort(-nv[:, g]) if near[i, g] and i not in order]
        pos.update(order[:RIVALS])
        for name in relied[seg]:
            alt = next((i for i in order
                        if name not in relied_priors(screened[i], seg, twin.priors)), None)
            if alt is not None:
                pos.add(alt)
    pos = sorted(pos)
    pool = [screened[i] for i in pos]
    at = {p: k for k, p in enumerate(pos)}

    def picks_on(t):
        mean = simulate_metrics(t, pool, economics, replicates, n_jobs,
                                first_replicate=40_000).mean(axis=0)
        return mean, {seg: pick_within_churn(mean, g, max_churn_increase, first)
                      for seg, g in seg_pos.items()}

    _, base = picks_on(twin)
    rows = []
    for name in names:
        for factor in FACTORS:
            mean, picks = picks_on(twin_with_prior(twin, name, factor))
            for seg, g in seg_pos.items():
                if name not in relied[seg]:
                    continue
                rec, new = at[pick_pos[seg]], picks[seg]
                rows.append(dict(
                    segment=seg, parameter=name, prior=prior_value(twin.model, name),
                    factor=factor, value=prior_value(scaled_prior(twin.model, name, factor),
                                                     name),
                    recommended=pool[rec].name,
                    pick=pool[new].name if new is not None else None,
                    pick_unchanged_prior=pool[base[seg]].name if base[seg] is not None
                    else None,
                    # changed by the prior, not by the few replicates' luck: different
                    # from the recommendation and from the pick with the prior unchanged
                    changed=new != rec and new != base[seg],
                    cost_if_kept=float(mean[new, g, NV] - mean[rec, g, NV])
                    if new is not None else float("nan")))
    return pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)


def sensitivity_summary(sensitivity: pd.DataFrame) -> pd.DataFrame:
    """Per relied-on prior and factor: the segments whose pick rests on it, those where the
    pick changes, and the largest net value lost by keeping the recommendation."""
    if sensitivity is None or not len(sensitivity):
        return pd.DataFrame(columns=["parameter", "prior", "factor", "value", "segments",
                                     "pick_changes_in", "max_cost_if_kept"])
    rows = []
    for (name, factor), g in sensitivity.groupby(["parameter", "factor"], sort=False):
        rows.append(dict(parameter=name, prior=g["prior"].iloc[0], factor=factor,
                         value=g["value"].iloc[0], segments=", ".join(g["segment"]),
                         pick_changes_in=", ".join(g.loc[g["changed"].astype(bool),
                                                         "segment"]),
                         max_cost_if_kept=float(g["cost_if_kept"].max())))
    return pd.DataFrame(rows)


def priors_sentence(table: pd.DataFrame, sensitivity: pd.DataFrame, currency: str,
                    lang: str | None = None) -> str:
    """What the picks of a recommendation ``table`` rest on that the history cannot
    identify, and whether halving or doubling it changes them (plain words, en / es;
    starts with a space, to follow the recommendation's sentence)."""
    from .recommend import strategy_name_label  # (recommend imports this module)

    lang, _ = resolve(lang)

    def segments(names) -> str:
        return ", ".join(str(value_label(s, "segment", lang)) for s in names)

    picks = table.loc[table["segment"] != "all"]
    if "relies_on_priors" not in picks:
        return ""
    relied = {row.segment: [n for n in str(row.relies_on_priors).split(", ") if n]
              for row in picks.itertuples()}
    relying = [seg for seg, names in relied.items() if names]
    if not relying:
        return t("lab.priors_none", lang)
    names = list(dict.fromkeys(n for seg in relying for n in relied[seg]))
    labels = prior_labels(names, lang)
    segs = segments(relying)
    head = t("lab.priors_head", lang, segments=segs, labels=labels)
    fixed = [n for n in names if parameter_key(n)[0] in FIXED_IN_TWIN]
    if fixed:
        fixed_labels = prior_labels(fixed, lang)
        head += t("lab.priors_fixed", lang, labels=fixed_labels)
        if len(fixed) == len(names):
            return head
    if sensitivity is None or not len(sensitivity):
        return head + t("lab.priors_unchecked", lang)
    changed = sensitivity.loc[sensitivity["changed"].astype(bool)].sort_values(
        "cost_if_kept", ascending=False)
    if changed.empty:
        return head + t("lab.priors_stable", lang)
    items = []
    # one item per prior and factor: the segments whose pick changes, the costliest
    for (name, factor), rows in changed.groupby(["parameter", "factor"], sort=False):
        worst = rows.iloc[0]
        f = format_number(factor, 1 if factor < 1 else 0, lang)
        where = segments(rows["segment"])
        label = prior_label(name, lang)
        if worst["pick"] is None:
            items.append(t("lab.priors_no_strategy", lang, label=label, factor=f, where=where))
            continue
        cost = format_money(worst["cost_if_kept"], currency, lang)
        items.append(t("lab.priors_changes", lang, label=label, factor=f, where=where,
                       pick=strategy_name_label(worst["pick"], lang), cost=cost))
    more = t("lab.priors_more", lang) if len(items) > 3 else ""
    return head + t("lab.priors_changed", lang, items="; ".join(items[:3]), more=more)


__all__ = ["RIVALS", "SENSITIVITY_COLUMNS", "pick_within_churn", "prior_sensitivity",
           "priors_sentence", "sensitivity_summary"]
