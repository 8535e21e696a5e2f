"""Recommend a strategy per segment: search a strategy space on the twin under constraints.

The space is a grid (:class:`StrategySpace`): reminder schedules (days relative to due),
tone pattern, channel, personalisation, early-payment discount (rate, window), installment
offer, escalation day, and optionally a payment deadline stated in the first reminder.
Constraints (:class:`Constraints`): a maximum churn increase over the current strategy, a
maximum number of reminders in any 7 days, no discount above a rate, at least N reminders
before legal escalation (collection policy, default 2). The search:

1. drops strategies that break the static constraints (reminders per week, discount,
   reminders before escalation); the
   current strategy is always simulated as the baseline of the gains, but it can be
   recommended only if it satisfies them too;
2. screens every remaining strategy with a few replicates (common random numbers) and
   keeps, per segment, the best few by net value;
3. evaluates the survivors and the current strategy with more replicates and picks, per
   segment, the highest mean net value among those within the churn limit;
4. lists, per pick, the parameters its value rests on that the history could not identify
   (documented priors, :mod:`.priors`: installment uptake, a tone or channel never used...)
   and re-runs the pick with each of them halved and doubled (fewer replicates, common
   random numbers), saying whether the pick changes and what keeping it would cost;
5. re-estimates each pick's gain over the current strategy on **fresh** replicates, so the
   luck that made it win does not inflate its reported gain.

:func:`regret` measures, on a twin with known truth, how far the recommendation's true net
value falls short of the best strategy of the searched space.

Example
-------
>>> space = StrategySpace(schedules=((3,), (-3, 7)), tones=("friendly",),
...                       channels=("email",), personalised=(False,), discounts=(None,),
...                       installments=(None,))
>>> [s.name for s in space.strategies()]
['d+3 friendly email', 'd-3,+7 friendly email']
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..i18n import ResultMixin, format_money, format_pct, has, resolve, t, value_label
from ..i18n.display import SettingsCard
from ..model.behaviour import SEGMENTS
from ..model.economics import Economics
from ..model.strategies import (
    MIN_REMINDERS_BEFORE_ESCALATION,
    Discount,
    InstallmentOffer,
    Reminder,
    Strategy,
    StrategyError,
    policy_problems,
)
from .compare import (
    METRICS,
    default_economics,
    named_strategies,
    progress_bar,
    simulate_metrics,
)
from .priors import relied_priors
from .sensitivity import (
    SENSITIVITY_COLUMNS,
    pick_within_churn,
    prior_sensitivity,
    priors_sentence,
    sensitivity_summary,
)
from .twin import Twin

NV = METRICS.index("net_value")
CHURN = METRICS.index("churn")


class ConstraintError(ValueError):
    """No strategy satisfies the constraints; the message says which and by how much.

    Example:
        >>> s = cl.example_strategies()
        >>> sim = cl.simulate(50, s["nudge_then_firm"], seed=1, end="2025-02-28", progress=False)
        >>> twin = cl.Twin.from_simulation(sim, currency="EUR")
        >>> cl.recommend(twin, s["nudge_then_firm"], [s["discount_2_10_net_30"]],
        ...              cl.Constraints(max_discount_rate=0.0), replicates=2, n_jobs=1)
        Traceback (most recent call last):
            ...
        collections_lab.lab.recommend.ConstraintError: no strategy of the 1 searched satisfies ...
    """


TONE_PATTERNS = {
    "friendly": lambda k, n: "friendly",
    "neutral": lambda k, n: "neutral",
    "firm": lambda k, n: "firm",
    "escalating": lambda k, n: "friendly" if k == 0 else ("firm" if k < n - 1 or n == 2
                                                          else "final"),
}


@dataclass(frozen=True)
class StrategySpace(SettingsCard):
    """A grid of strategies to search.

    ``schedules``: reminder days relative to due; ``tones``: tone patterns (``friendly``,
    ``neutral``, ``firm``, or ``escalating``: friendly, then firm, the last one final);
    ``channels``: one channel for all reminders of a strategy; ``personalised``: whether
    reminders address the person by name; ``discounts``: ``None`` or ``(rate, within_days)``;
    ``installments``: ``None`` or the reminder (1-based) that offers a 3-part plan;
    ``escalation_day``: days past due (``None``: never); ``deadlines``: ``None`` or the
    payment deadline (days after the reminder) the first reminder states.

    Example:
        >>> space = cl.StrategySpace(schedules=((3,), (3, 14)), tones=("friendly",),
        ...                          channels=("email",), personalised=(False,), discounts=(None,))
        >>> [s.name for s in space.strategies()][:2]
        ['d+3 friendly email', 'd+3,+14 friendly email']
    """

    schedules: tuple = ((3,), (-3, 7), (3, 14, 28), (-3, 7, 21))
    tones: tuple = ("friendly", "firm", "escalating")
    channels: tuple = ("email", "sms")
    personalised: tuple = (False, True)
    discounts: tuple = (None, (0.01, 10), (0.02, 10))
    installments: tuple = (None, 2)
    escalation_day: int | None = 75
    deadlines: tuple = (None,)

    def strategies(self) -> list[Strategy]:
        """Every strategy of the grid (an installment offer at a reminder a schedule does not
        have is skipped). A grid that builds an invalid strategy (e.g. a reminder after the
        escalation day, a negative discount) raises :class:`StrategyError` naming it."""
        out = []
        for days, tone, chan, pers, disc, inst, ask in itertools.product(
                self.schedules, self.tones, self.channels, self.personalised, self.discounts,
                self.installments, self.deadlines):
            if inst is not None and inst > len(days):
                continue
            if tone not in TONE_PATTERNS:
                raise StrategyError(f"unknown tone pattern {tone!r}; known: {list(TONE_PATTERNS)}")
            n = len(days)
            rems = tuple(Reminder(int(d), TONE_PATTERNS[tone](k, n), chan, bool(pers),
                                  int(ask) if ask is not None and k == 0 else None)
                         for k, d in enumerate(days))
            parts = ["d" + ",".join(f"{d:+d}" for d in days), tone, chan]
            if pers:
                parts.append("named")
            if ask is not None:
                parts.append(f"pay-in-{int(ask)}")
            if disc is not None:
                parts.append(f"{disc[0]:.0%}/{disc[1]}")
            if inst is not None:
                parts.append(f"plan@{inst}")
            out.append(Strategy(
                " ".join(parts), reminders=rems,
                discount=Discount(float(disc[0]), int(disc[1])) if disc else None,
                installment=InstallmentOffer(inst) if inst else None,
                escalation_day=self.escalation_day))
        return out


def strategy_name_label(name: str, lang: str | None = None) -> str:
    """A strategy name in ``lang``: a name :class:`StrategySpace` made (``"d+3,+14,+28
    friendly sms plan@2"``) with its words from the catalogue (``"d+3,+14,+28 amable SMS
    plan@2"``); any other name (one a strategies file gave) as it is.

    >>> strategy_name_label("d-3,+7 escalating email named pay-in-7 2%/10", "es")
    'd-3,+7 escalonado correo personalizado pago-en-7 2%/10'
    >>> strategy_name_label("d-3,+7 escalating email named pay-in-7 2%/10", "en")
    'd-3,+7 escalating email named pay-in-7 2%/10'
    >>> strategy_name_label("one_friendly_after_due", "es")
    'one_friendly_after_due'
    """
    lang, _ = resolve(lang)
    words = str(name).split(" ")
    if len(words) < 3 or not words[0].startswith("d") or words[1] not in TONE_PATTERNS:
        return str(name)
    out = [words[0]]
    for word in words[1:]:
        if word.startswith("pay-in-"):
            out.append(t("lab.name_pay_in", lang, n=word.removeprefix("pay-in-")))
        else:
            out.append(t(f"lab.name[{word}]", lang) if has(f"lab.name[{word}]") else word)
    return " ".join(out)


@dataclass(frozen=True)
class Constraints(SettingsCard):
    """Limits a recommendation must respect.

    ``max_churn_increase``: churn (share of customers lost over the period) may exceed the
    current strategy's by at most this much (0.005 = half a percentage point);
    ``max_reminders_per_week``: reminders in any 7 consecutive days; ``max_discount_rate``:
    no discount above this rate (0 forbids discounts); ``min_reminders_before_escalation``:
    a strategy that escalates to legal collection sends at least this many reminders first
    (collection policy, :func:`~collections_lab.model.strategies.policy_problems`; 0 lifts
    the rule; strategies that never escalate are not concerned).

    Example:
        >>> from collections_lab.model.strategies import Reminder, Strategy
        >>> Constraints().problems(Strategy("one", reminders=(Reminder(3),), escalation_day=60))
        ['escalates after 1 reminder(s), policy asks for at least 2']
    """

    max_churn_increase: float = 0.005
    max_reminders_per_week: int = 2
    max_discount_rate: float = 0.02
    min_reminders_before_escalation: int = MIN_REMINDERS_BEFORE_ESCALATION

    def problems(self, strategy: Strategy, lang: str = "en") -> list[str]:
        """The static constraints ``strategy`` breaks (empty if none), in ``lang``."""
        out = []
        days = sorted(strategy.reminder_days)
        worst = max((sum(1 for e in days if d <= e < d + 7) for d in days), default=0)
        if worst > self.max_reminders_per_week:
            out.append(t("constraint_per_week", lang).format(
                n=worst, max=self.max_reminders_per_week))
        if strategy.discount is not None and strategy.discount.rate > self.max_discount_rate:
            out.append(t("constraint_discount", lang).format(
                rate=format_pct(strategy.discount.rate, 1, lang),
                max=format_pct(self.max_discount_rate, 1, lang)))
        out += policy_problems(strategy, self.min_reminders_before_escalation, lang)
        return out


@dataclass
class Recommendation(ResultMixin):
    """Recommended strategy per segment with its expected gain over the current strategy.

    ``table``: per segment — current and recommended strategy, their mean net value, the
    gain with its 95 % interval (fresh replicates, common random numbers), and changes in
    churn, paid by due + 15 and DSO, ``relies_on_priors`` (the prior-only parameters the
    pick's value rests on) and ``pick_changes_with_priors`` (whether halving or doubling
    one of them changes the pick; None if it relies on none). ``strategies``: segment →
    recommended Strategy. ``candidates``: stage-2 means per strategy and segment.
    ``current_problems``: the static constraints the current strategy breaks (then it is
    only the baseline of the gains, never recommended). ``sensitivity``: one row per
    segment, relied-on prior and factor (× 0.5, × 2) — the pick with the prior changed, the
    pick on the same replicates with it unchanged, ``changed`` and ``cost_if_kept`` (net
    value lost by keeping the recommendation if the prior were that far off, currency).

    Example:
        >>> s = cl.example_strategies()
        >>> sim = cl.simulate(100, s["nudge_then_firm"], seed=1, end="2025-03-31", progress=False)
        >>> twin = cl.Twin.from_simulation(sim, currency="EUR")
        >>> pick = cl.recommend(twin, s["nudge_then_firm"], [s["nudge_then_firm"], s["no_reminders"]],
        ...                     replicates=2, screen_replicates=1, sensitivity_replicates=0, n_jobs=1)
        >>> sorted(pick.table.columns)[:3]
        ['churn_change', 'current', 'dso_change']
    """

    table: pd.DataFrame
    strategies: dict
    current: Strategy
    candidates: pd.DataFrame
    constraints: Constraints
    currency: str
    n_searched: int
    replicates: int
    current_problems: list = field(default_factory=list)
    sensitivity: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=SENSITIVITY_COLUMNS))
    title = "Recommended strategy per segment"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def sensitivity_summary(self) -> pd.DataFrame:
        """Per relied-on prior and factor: the segments whose pick rests on it, those where
        the pick changes, and the largest net value lost by keeping the recommendation."""
        return sensitivity_summary(self.sensitivity)

    def report_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The recommendation, then (if any pick rests on priors) its sensitivity."""
        tables = super().report_tables()
        sens = self.sensitivity_summary()
        if len(sens):
            tables.append(("Sensitivity of the picks to the priors they rest on (each "
                           "halved and doubled)", sens))
        return tables

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        table = self.table.set_index("segment")
        total = table.loc["all"] if "all" in table.index else None
        parts = [t("lab.segment_pick", lang, segment=value_label(seg, "segment", lang),
                   strategy=strategy_name_label(row["recommended"], lang))
                 for seg, row in table.drop(index="all", errors="ignore").iterrows()]
        baseline_only = ""
        if self.current_problems:
            why = "; ".join(self.constraints.problems(self.current, lang))
            baseline_only = t("lab.current_breaks", lang, why=why)
        baseline_only += priors_sentence(self.table, self.sensitivity, self.currency, lang)
        if total is None:
            return "; ".join(parts) + baseline_only
        gain = format_money(total["gain"], self.currency, lang)
        lo = format_money(total["gain_low"], self.currency, lang)
        hi = format_money(total["gain_high"], self.currency, lang)
        churn = format_pct(total["churn_change"], 2, lang)
        return t("lab.recommend_summary", lang, n=self.n_searched, parts="; ".join(parts),
                 current=self.current.name, gain=gain, lo=lo, hi=hi, churn=churn) + baseline_only

def recommend(twin: Twin, current: Strategy, space: StrategySpace | list | None = None,
              constraints: Constraints | None = None, economics: Economics | None = None,
              screen_replicates: int = 4, replicates: int = 30, keep: int = 6,
              n_jobs: int | None = None, sensitivity_replicates: int | None = None,
              progress: bool | None = None) -> Recommendation:
    """Search ``space`` (a :class:`StrategySpace` or a list of strategies) on ``twin`` for
    the highest net value per segment within ``constraints`` (see module docstring).

    ``sensitivity_replicates``: replicates of each re-run of the pick with a relied-on
    prior halved or doubled (default ``max(3, replicates // 4)``; 0 skips the check).

    ``progress``: a bar of the simulated replicates (default: when a person watches,
    never in report kernels).

    Raises :class:`ConstraintError` when no strategy satisfies the constraints (naming the
    constraint and the closest strategy).

    Example:
        >>> s = cl.example_strategies()
        >>> sim = cl.simulate(100, s["nudge_then_firm"], seed=1, end="2025-03-31", progress=False)
        >>> twin = cl.Twin.from_simulation(sim, currency="EUR")
        >>> pick = cl.recommend(twin, s["nudge_then_firm"], [s["nudge_then_firm"], s["no_reminders"]],
        ...                     replicates=2, screen_replicates=1, sensitivity_replicates=0, n_jobs=1)
        >>> pick.n_searched, pick.currency
        (2, 'EUR')
    """
    space = space or StrategySpace()
    constraints = constraints or Constraints()
    economics = economics or default_economics(twin)
    pool = space.strategies() if isinstance(space, StrategySpace) else named_strategies(space)
    if not pool:
        raise ConstraintError("the strategy space is empty")
    allowed, refused = [], []
    for s in pool:
        why = constraints.problems(s)
        (refused if why else allowed).append((s, why))
    if not allowed:
        example = refused[0]
        raise ConstraintError(
            f"no strategy of the {len(pool)} searched satisfies the constraints "
            f"(max {constraints.max_reminders_per_week} reminders a week, discount at most "
            f"{constraints.max_discount_rate:.1%}, at least "
            f"{constraints.min_reminders_before_escalation} reminders before escalation); "
            f"e.g. {example[0].name!r}: "
            + "; ".join(example[1]))
    cands = [s for s, _ in allowed if s.name != current.name]
    current_problems = constraints.problems(current)
    if current_problems and not cands:
        raise ConstraintError(
            f"the current strategy {current.name!r} breaks the constraints ("
            + "; ".join(current_problems) + f") and no other of the {len(pool)} strategies "
            "searched satisfies them")
    # index 0 (the current strategy) stays the baseline; it may be picked only if allowed
    first = 1 if current_problems else 0
    # 2. screen (1. the static constraints, above)
    screened = [current] + cands
    bar = progress_bar(progress, screen_replicates + 2 * replicates, "recommend: screening")
    try:
        return _search(twin, current, screened, constraints, economics, screen_replicates,
                       replicates, keep, n_jobs, sensitivity_replicates, first, bar,
                       len(allowed), current_problems)
    finally:
        if bar is not None:
            bar.close()


def _search(twin, current, screened, constraints, economics, screen_replicates, replicates,
            keep, n_jobs, sensitivity_replicates, first, bar, n_allowed,
            current_problems) -> Recommendation:
    """Steps 2-5 of :func:`recommend` (screen, evaluate, priors, gain)."""
    segs = [SEGMENTS[i] for i in np.unique(twin.seg)]
    seg_pos = [SEGMENTS.index(s) for s in segs]
    screen = simulate_metrics(twin, screened, economics, screen_replicates, n_jobs, bar=bar)
    nv = screen[:, :, :, NV].mean(axis=0)  # strategies × segments
    churn = screen[:, :, :, CHURN].mean(axis=0)
    # a lenient churn limit: the screen's few replicates must not drop a borderline strategy
    near = churn - churn[0] <= constraints.max_churn_increase + 0.5 * abs(
        constraints.max_churn_increase) + 1e-3
    near[:first] = False
    survivors = {0}
    for g in seg_pos:
        order = [i for i in np.argsort(-nv[:, g]) if near[i, g]]
        if not order and len(nv) > first:
            # nothing near the churn limit: keep the least churning one for the message
            order = [first + int(np.argmin(churn[first:, g]))]
        survivors.update(order[:keep])
    final_pos = sorted(survivors)  # positions in ``screened``; 0 is the current strategy
    finals = [screened[i] for i in final_pos]
    # 3. evaluate survivors and pick
    if bar is not None:
        bar.set_description("recommend: evaluating")
    vals = simulate_metrics(twin, finals, economics, replicates, n_jobs,
                            first_replicate=10_000, bar=bar)
    mean = vals.mean(axis=0)
    picks = {}
    for seg, g in zip(segs, seg_pos, strict=True):
        pick = pick_within_churn(mean, g, constraints.max_churn_increase, first)
        if pick is None:
            dchurn = mean[:, g, CHURN] - mean[0, g, CHURN]
            closest = first + int(np.argmin(dchurn[first:]))
            raise ConstraintError(
                f"segment {seg!r}: no strategy keeps churn within "
                f"+{constraints.max_churn_increase:.2%} of the current strategy "
                f"(the closest, {finals[closest].name!r}, adds {dchurn[closest]:.2%})")
        picks[seg] = pick
    # 4. the priors each pick rests on, and the pick with each halved and doubled
    relied = {seg: relied_priors(finals[picks[seg]], seg, twin.priors) for seg in segs}
    if sensitivity_replicates is None:
        sensitivity_replicates = max(3, replicates // 4)
    if bar is not None:
        bar.set_description("recommend: checking priors")
    sensitivity = prior_sensitivity(
        twin, screened, nv, near, final_pos, mean,
        {seg: final_pos[i] for seg, i in picks.items()},
        relied, dict(zip(segs, seg_pos, strict=True)), constraints.max_churn_increase,
        economics, first, sensitivity_replicates, n_jobs)
    # 5. fresh replicates for the gain of each pick over the current strategy
    chosen = sorted(set(picks.values()) | {0})
    if bar is not None:
        bar.set_description("recommend: gains")
    fresh = simulate_metrics(twin, [finals[i] for i in chosen], economics, replicates, n_jobs,
                             first_replicate=20_000, bar=bar)
    pos = {i: k for k, i in enumerate(chosen)}
    rows = []
    j = {m: i for i, m in enumerate(METRICS)}
    inv = np.bincount(twin.seg, minlength=len(SEGMENTS)).astype(float)
    amt = np.bincount(twin.seg, weights=twin.amount, minlength=len(SEGMENTS))
    cust_seg = np.bincount(twin.customer_seg, minlength=len(SEGMENTS)).astype(float)
    # the portfolio under "each segment its pick": sums and weighted means of segments
    weights = {"net_value": None, "churn": cust_seg, "paid_by_due_15": inv, "dso": amt}
    combined = {k: [np.zeros(fresh.shape[0]), np.zeros(fresh.shape[0])] for k in weights}
    for seg, g in zip(segs, seg_pos, strict=True):
        k, c = pos[picks[seg]], pos[0]
        rec_v, cur_v = fresh[:, k, g, :], fresh[:, c, g, :]
        rows.append(_row(seg, current.name, finals[picks[seg]].name, cur_v, rec_v,
                         rec_v - cur_v))
        rows[-1]["relies_on_priors"] = ", ".join(relied[seg])
        own = sensitivity.loc[sensitivity["segment"] == seg] if len(sensitivity) else None
        rows[-1]["pick_changes_with_priors"] = (
            bool(own["changed"].any()) if own is not None and len(own) else None)
        for metric, w in weights.items():
            wt = 1.0 if w is None else w[g] / w[seg_pos].sum()
            combined[metric][0] += wt * rec_v[:, j[metric]]
            combined[metric][1] += wt * cur_v[:, j[metric]]
    nv_rec, nv_cur = combined["net_value"]
    dall = nv_rec - nv_cur
    rows.append(dict(segment="all", current=current.name, recommended="(by segment)",
                     net_value_current=nv_cur.mean(), net_value_recommended=nv_rec.mean(),
                     gain=dall.mean(), gain_low=np.percentile(dall, 2.5),
                     gain_high=np.percentile(dall, 97.5),
                     **{f"{m}_change": float(np.mean(combined[m][0] - combined[m][1]))
                        for m in ("churn", "paid_by_due_15", "dso")}))
    cand_rows = []
    for i, s in enumerate(finals):
        for seg, g in zip(segs, seg_pos, strict=True):
            cand_rows.append(dict(strategy=s.name, segment=seg,
                                  **{m: mean[i, g, j] for j, m in enumerate(METRICS)}))
    return Recommendation(pd.DataFrame(rows), {seg: finals[i] for seg, i in picks.items()},
                          current, pd.DataFrame(cand_rows), constraints, twin.currency,
                          n_allowed, replicates, current_problems, sensitivity)


def _row(seg, current, recommended, cur_v, rec_v, d) -> dict:
    j = {m: i for i, m in enumerate(METRICS)}
    return dict(segment=seg, current=current, recommended=recommended,
                net_value_current=cur_v[:, NV].mean(), net_value_recommended=rec_v[:, NV].mean(),
                gain=d[:, NV].mean(), gain_low=np.percentile(d[:, NV], 2.5),
                gain_high=np.percentile(d[:, NV], 97.5), churn_change=d[:, CHURN].mean(),
                paid_by_due_15_change=d[:, j["paid_by_due_15"]].mean(),
                dso_change=d[:, j["dso"]].mean())


# ----------------------------------------------------------------------------- regret
@dataclass
class Regret(ResultMixin):
    """How far a recommendation falls short of the best searched strategy, in truth.

    Per segment: the true net value of the recommended strategy, of the true best strategy
    of the space, of the current one; ``regret`` = best − recommended (currency),
    ``regret_share`` = regret / |best| and ``regret_of_gain`` = regret / (best − current)
    (the share of the attainable improvement missed).
    """

    table: pd.DataFrame
    currency: str
    title = "Regret of the recommendation (true net values)"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self, lang: str | None = None) -> str:
        r = self.table.set_index("segment").loc["all"]
        share = format_pct(r["regret_share"], 2, lang)
        gain = format_pct(r["regret_of_gain"], 1, lang)
        return t("lab.regret_summary", lang, share=share, gain=gain)


def regret(recommendation: Recommendation, true_twin: Twin, space: StrategySpace | list,
           economics: Economics | None = None, replicates: int = 30,
           n_jobs: int | None = None) -> Regret:
    """True net value of ``recommendation`` against the best strategy of ``space``, on a
    twin with the true model and traits (:meth:`Twin.from_simulation`), with common random
    numbers across all strategies. The current strategy is the baseline of the attainable
    gain; it competes for "best" only if it satisfies the static constraints (as in
    :func:`recommend`).

    Example:
        >>> s = cl.example_strategies()
        >>> space = [s["nudge_then_firm"], s["no_reminders"]]
        >>> sim = cl.simulate(100, s["nudge_then_firm"], seed=1, end="2025-03-31", progress=False)
        >>> twin = cl.Twin.from_simulation(sim, currency="EUR")
        >>> pick = cl.recommend(twin, s["nudge_then_firm"], space, replicates=2,
        ...                     screen_replicates=1, sensitivity_replicates=0, n_jobs=1)
        >>> type(cl.regret(pick, twin, space, replicates=2)).__name__
        'Regret'
    """
    economics = economics or default_economics(true_twin)
    pool = space.strategies() if isinstance(space, StrategySpace) else named_strategies(space)
    pool = [s for s in pool if not recommendation.constraints.problems(s)]
    current = recommendation.current
    current_allowed = not recommendation.constraints.problems(current)
    names = [s.name for s in pool]
    if current.name not in names:
        pool = [current] + pool
        names = [s.name for s in pool]
    vals = simulate_metrics(true_twin, pool, economics, replicates, n_jobs,
                            first_replicate=30_000).mean(axis=0)
    cur = names.index(current.name)
    rows = []
    tot = dict(rec=0.0, best=0.0, cur=0.0)
    for seg, strat in recommendation.strategies.items():
        g = SEGMENTS.index(seg)
        feasible = np.flatnonzero(vals[:, g, CHURN] - vals[cur, g, CHURN]
                                  <= recommendation.constraints.max_churn_increase)
        if not current_allowed:
            feasible = feasible[feasible != cur]
        if not len(feasible):
            raise ConstraintError(f"segment {seg!r}: in truth no allowed strategy keeps churn "
                                  f"within +{recommendation.constraints.max_churn_increase:.2%}"
                                  " of the current strategy")
        best = int(feasible[np.argmax(vals[feasible, g, NV])])
        rec = names.index(strat.name)
        r = dict(segment=seg, recommended=strat.name, best=names[best],
                 true_recommended=vals[rec, g, NV], true_best=vals[best, g, NV],
                 true_current=vals[cur, g, NV])
        for k, key in (("rec", "true_recommended"), ("best", "true_best"),
                       ("cur", "true_current")):
            tot[k] += r[key]
        rows.append(r)
    rows.append(dict(segment="all", recommended="(by segment)", best="(by segment)",
                     true_recommended=tot["rec"], true_best=tot["best"],
                     true_current=tot["cur"]))
    t = pd.DataFrame(rows)
    t["regret"] = t["true_best"] - t["true_recommended"]
    t["regret_share"] = t["regret"] / t["true_best"].abs()
    attainable = t["true_best"] - t["true_current"]
    t["regret_of_gain"] = np.where(attainable > 0, t["regret"] / attainable.where(
        attainable > 0, 1.0), 0.0)
    return Regret(t, true_twin.currency)


__all__ = ["ConstraintError", "Constraints", "Recommendation", "Regret", "StrategySpace",
           "recommend", "regret", "strategy_name_label"]
