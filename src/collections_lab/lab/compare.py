"""Compare strategies on the twin by Monte Carlo with common random numbers.

Per strategy and replicate, on the twin's invoices (and by segment):

- ``dso``: days sales outstanding as the amount-weighted mean days from issue until the
  invoice leaves the books (paid, escalated or written off) — in a steady state equal to
  receivables / daily sales;
- ``paid_by_due_15``: share of invoices paid in full by due + 15 days;
- ``cash_pv``: cash collected, present value at issue (discounts given reduce it, late
  fees add to it, installment plans count each installment on its day, escalated invoices
  bring the agency's net recovery later);
- ``discount_cost``, ``fee_income``, ``reminder_cost`` (per channel costs), ``reminders``
  (number sent), ``escalations`` (share escalated);
- ``churn``: expected share of customers lost (per invoice the model's churn probability
  from firm reminders, reminders to customers about to pay anyway and escalation; per
  customer ``1 - Π(1 - p)``), and ``relationship_cost`` = Σ P(lost) × lifetime value;
- ``net_value`` = cash_pv − reminder_cost − relationship_cost.

Every replicate uses the same random inputs for every strategy (:meth:`Twin.draw`), so a
difference between two strategies is measured on the same customers and the same luck:
its interval is far narrower than the difference of two independent intervals.
Replicates run in parallel processes (``n_jobs``; the twin is shared by fork, not copied).

Example
-------
>>> from collections_lab.model.simulation import simulate
>>> from collections_lab.model.strategies import example_strategies
>>> s = example_strategies()
>>> sim = simulate(150, s["one_friendly_after_due"], seed=1, start="2025-01-01",
...                end="2025-04-30")
>>> twin = Twin.from_simulation(sim, currency="COP")
>>> econ = Economics().in_currency("COP", 4000.0)
>>> res = compare_strategies(twin, [s["no_reminders"], s["nudge_then_firm"]], econ,
...                          replicates=4, n_jobs=1)
>>> list(res.summary_table()["strategy"].unique())
['no_reminders', 'nudge_then_firm']
"""

from __future__ import annotations

import multiprocessing as mp
import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from ..i18n import ResultMixin, format_money, format_pct, t
from ..model.behaviour import SEGMENTS
from ..model.economics import Economics
from ..model.simulation.progress import interactive
from ..model.strategies import Strategy
from .twin import Twin, TwinError, reminders_sent

METRICS = ("dso", "paid_by_due_15", "cash_pv", "discount_cost", "fee_income",
           "reminder_cost", "reminders", "escalations", "churn", "relationship_cost",
           "net_value")


def strategy_metrics(twin: Twin, strategy: Strategy, o, economics: Economics,
                     model=None) -> dict[str, np.ndarray]:
    """Metric sums per segment (arrays of length ``len(SEGMENTS)``) for one simulated
    story ``o`` of the twin's invoices under ``strategy``; divide by the counts in
    :func:`_totals` for means. Money in ``economics.currency``."""
    model = model or twin.model
    h = model.horizon_days
    nseg = len(SEGMENTS)
    seg = twin.seg
    amount = twin.amount
    terms = twin.terms
    paid = o.outcome == 1
    plan = o.installment & paid
    normal = paid & ~plan
    end = o.end_day

    def by_seg(values) -> np.ndarray:
        return np.bincount(seg, weights=values, minlength=nseg)

    # present-value factors by whole day, looked up instead of computed per invoice
    table = economics.discount_factor(np.arange(h + economics.agency_recovery_days + 1))

    def factor(days):
        return table[np.clip(days, 0, len(table) - 1)]

    discount = discounts_given(strategy, amount, o)
    late = np.maximum(end - terms, 0)
    fee = np.where(normal & (late > 0),
                   amount * strategy.late_fee_rate * np.ceil(late / 30), 0.0)
    cash = np.where(normal, (amount - discount + fee) * factor(end), 0.0)
    if plan.any():
        offer = strategy.installment
        k = np.arange(offer.n_installments)
        when = (o.offer_day[plan, None] + model.installment_first_delay_days
                + k[None, :] * offer.interval_days)
        cash[plan] = (amount[plan, None] / offer.n_installments
                      * economics.discount_factor(when)).sum(axis=1)
    escalated = o.outcome == 2
    cash = cash + np.where(escalated, economics.agency_net_recovery(amount) * factor(end), 0.0)
    cost = np.zeros(len(amount))
    for r, sent in reminders_sent(strategy, terms, o, h):
        cost += sent * economics.reminder_cost[r.channel]
    churn_p = churn_probability(model, seg, o)
    stay = np.bincount(twin.cust, weights=np.log1p(-churn_p), minlength=twin.n_customers)
    lost = -np.expm1(stay)
    cseg = twin.customer_seg
    clv = economics.lifetime_value(twin.monthly_billing)
    return {
        "dso": by_seg(amount * end),
        "paid_by_due_15": by_seg((paid & (end <= terms + 15)).astype(float)),
        "cash_pv": by_seg(cash),
        "discount_cost": by_seg(discount),
        "fee_income": by_seg(fee),
        "reminder_cost": by_seg(cost),
        "reminders": by_seg(o.n_sent.astype(float)),
        "escalations": by_seg(escalated.astype(float)),
        "churn": np.bincount(cseg, weights=lost, minlength=nseg),
        "relationship_cost": np.bincount(cseg, weights=lost * clv, minlength=nseg),
    }


def churn_probability(model, seg: np.ndarray, o) -> np.ndarray:
    """Per invoice, the probability that its customer stops buying when the simulated
    story ``o`` ends (the behaviour model's churn: segment base rate × firm reminders,
    reminders to a customer about to pay anyway, escalation; at most 0.95)."""
    return np.minimum(
        np.array([model.churn_base[s] for s in SEGMENTS])[seg]
        * np.exp(model.churn_firm_reminder * o.n_firm
                 + model.churn_unneeded_reminder * o.n_unneeded
                 + model.churn_escalated * (o.outcome == 2)), 0.95)


def discounts_given(strategy: Strategy, amount: np.ndarray, o) -> np.ndarray:
    """Early-payment discount per invoice (currency) of one simulated story ``o``: the rate
    of ``strategy``'s discount on invoices paid in full, not through a plan, within its
    window (the simulator's rule)."""
    disc = strategy.discount
    if disc is None:
        return np.zeros(len(amount))
    normal = (o.outcome == 1) & ~o.installment
    return np.where(normal & (o.end_day <= disc.within_days), amount * disc.rate, 0.0)


def _totals(twin: Twin) -> dict[str, np.ndarray]:
    """Denominators per segment: invoices, amount, customers."""
    nseg = len(SEGMENTS)
    return {"invoices": np.bincount(twin.seg, minlength=nseg).astype(float),
            "amount": np.bincount(twin.seg, weights=twin.amount, minlength=nseg),
            "customers": np.bincount(twin.customer_seg, minlength=nseg).astype(float)}


def _finish(sums: dict[str, np.ndarray], totals: dict[str, np.ndarray]) -> dict:
    """Per segment (and "all") metric values from sums: means and totals."""
    out = {}
    for key, values in sums.items():
        full = np.append(values, values.sum())
        if key == "dso":
            den = np.append(totals["amount"], totals["amount"].sum())
        elif key in ("paid_by_due_15", "escalations", "reminders"):
            den = np.append(totals["invoices"], totals["invoices"].sum())
        elif key == "churn":
            den = np.append(totals["customers"], totals["customers"].sum())
        else:
            den = None
        out[key] = full / np.where(den > 0, den, np.nan) if den is not None else full
    out["net_value"] = out["cash_pv"] - out["reminder_cost"] - out["relationship_cost"]
    return out


# ----------------------------------------------------------------------------- workers
_SHARED: dict = {}


def _run_replicates(replicates: list[int]) -> list[np.ndarray]:
    """Worker: metric arrays (strategies × segments+1 × metrics) for some replicates."""
    twin, strategies, economics = _SHARED["twin"], _SHARED["strategies"], _SHARED["econ"]
    totals = _totals(twin)
    out = []
    for r in replicates:
        draw = twin.draw(r)
        stories = twin.outcomes(strategies, draw=draw)
        block = np.empty((len(strategies), len(SEGMENTS) + 1, len(METRICS)))
        for i, (s, o) in enumerate(zip(strategies, stories, strict=True)):
            values = _finish(strategy_metrics(twin, s, o, economics, draw.model), totals)
            block[i] = np.column_stack([values[m] for m in METRICS])
        out.append(block)
    return out


def progress_bar(progress: bool | None, total: int, desc: str, unit: str = "replicate"):
    """A tqdm.auto bar (a widget in JupyterLab) or ``None``: ``progress=None`` shows it
    only when a person watches (:func:`~collections_lab.model.simulation.progress.interactive`:
    never in report kernels)."""
    if progress is None:
        progress = interactive()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit)


def simulate_metrics(twin: Twin, strategies: list[Strategy], economics: Economics,
                     replicates: int = 50, n_jobs: int | None = None,
                     first_replicate: int = 0, bar=None) -> np.ndarray:
    """Array replicates × strategies × (segments + all) × metrics (see :data:`METRICS`).

    ``n_jobs`` processes (default: all cores) share the twin by fork; results do not
    depend on ``n_jobs``. ``bar``: a progress bar advanced by one per replicate.
    """
    if economics.currency != twin.currency:
        raise TwinError(
            f"economics are in {economics.currency} but the twin's amounts are in "
            f"{twin.currency}: use Economics(...).in_currency({twin.currency!r}, units_per_usd)")
    names = [s.name for s in strategies]
    if len(set(names)) != len(names):
        raise TwinError(f"strategy names must be unique, got {names}")
    reps = list(range(first_replicate, first_replicate + replicates))
    n_jobs = n_jobs or os.cpu_count() or 1
    _SHARED.update(twin=twin, strategies=list(strategies), econ=economics)
    try:
        if n_jobs <= 1 or replicates < 2 or "fork" not in mp.get_all_start_methods():
            blocks = []
            for r in reps:
                blocks += _run_replicates([r])
                if bar is not None:
                    bar.update(1)
        else:
            chunks = [reps[i::n_jobs] for i in range(n_jobs) if reps[i::n_jobs]]
            with ProcessPoolExecutor(len(chunks), mp_context=mp.get_context("fork")) as ex:
                futures = [ex.submit(_run_replicates, c) for c in chunks]
                if bar is not None:
                    for done in as_completed(futures):
                        bar.update(len(done.result()))
                parts = [f.result() for f in futures]
            order = {r: (i, j) for i, c in enumerate(chunks) for j, r in enumerate(c)}
            blocks = [parts[order[r][0]][order[r][1]] for r in reps]
    finally:
        _SHARED.clear()
    return np.stack(blocks)


# ----------------------------------------------------------------------------- result
@dataclass
class StrategyComparison(ResultMixin):
    """Monte Carlo comparison of strategies on a twin (see module docstring).

    ``values``: replicates × strategies × (segments + "all") × metrics. Intervals are the
    2.5 and 97.5 percentiles across replicates; differences against ``reference`` are
    taken replicate by replicate (common random numbers).

    Example:
        >>> s = cl.example_strategies()
        >>> sim = cl.simulate(100, s["nudge_then_firm"], seed=1, end="2025-03-31", progress=False)
        >>> twin = cl.Twin.from_simulation(sim, currency="EUR")
        >>> comparison = cl.compare_strategies(twin, {"now": s["nudge_then_firm"],
        ...     "quiet": s["no_reminders"]}, reference="now", replicates=2, n_jobs=1)
        >>> comparison.summary_table()["strategy"].tolist()
        ['now', 'now', 'now', 'now', 'now', 'now', 'now', 'now', 'now', 'now', 'now',
        'quiet', 'quiet', 'quiet', 'quiet', 'quiet', 'quiet', 'quiet', 'quiet', 'quiet',
        'quiet', 'quiet']
    """

    strategies: list[Strategy]
    values: np.ndarray
    currency: str
    reference: str
    segments: tuple = tuple(SEGMENTS) + ("all",)
    title = "Strategy comparison on the twin"

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.strategies]

    def long(self) -> pd.DataFrame:
        """Every replicate's value: replicate, strategy, segment, metric columns."""
        r, s, g, m = self.values.shape
        idx = pd.MultiIndex.from_product([range(r), self.names, self.segments],
                                         names=["replicate", "strategy", "segment"])
        return pd.DataFrame(self.values.reshape(r * s * g, m), index=idx,
                            columns=list(METRICS)).reset_index()

    def summary_table(self, segment: str = "all") -> pd.DataFrame:
        """Per strategy and metric: mean, 95 % interval across replicates, and the
        difference from the reference with its CRN interval."""
        g = self.segments.index(segment)
        ref = self.names.index(self.reference)
        rows = []
        for i, name in enumerate(self.names):
            for k, metric in enumerate(METRICS):
                v = self.values[:, i, g, k]
                d = v - self.values[:, ref, g, k]
                rows.append(dict(strategy=name, segment=segment, metric=metric,
                                 mean=np.nanmean(v), low=np.nanpercentile(v, 2.5),
                                 high=np.nanpercentile(v, 97.5), diff=np.nanmean(d),
                                 diff_low=np.nanpercentile(d, 2.5),
                                 diff_high=np.nanpercentile(d, 97.5),
                                 diff_se=np.nanstd(d, ddof=1) / np.sqrt(len(d))
                                 if len(d) > 1 else np.nan))
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        t = self.summary_table()
        wide = t.pivot(index="strategy", columns="metric", values="mean")[list(METRICS)]
        nv = t.loc[t["metric"] == "net_value"].set_index("strategy")
        wide["net_value_low"] = nv["low"]
        wide["net_value_high"] = nv["high"]
        wide["gain_vs_reference"] = nv["diff"]
        wide["gain_low"] = nv["diff_low"]
        wide["gain_high"] = nv["diff_high"]
        return wide.loc[self.names]

    def best(self, segment: str = "all") -> str:
        t = self.summary_table(segment)
        nv = t.loc[t["metric"] == "net_value"].set_index("strategy")["mean"]
        return str(nv.idxmax())

    def summary(self, lang: str | None = None) -> str:
        table = self.summary_table()
        nv = table.loc[table["metric"] == "net_value"].set_index("strategy")
        best = str(nv["mean"].idxmax())
        gain = nv.loc[best]
        money = format_money(gain["diff"], self.currency, lang)
        lo = format_money(gain["diff_low"], self.currency, lang)
        hi = format_money(gain["diff_high"], self.currency, lang)
        pb = table.loc[(table["metric"] == "paid_by_due_15") & (table["strategy"] == best),
                       "mean"]
        share = format_pct(float(pb.iloc[0]), 1, lang)
        return t("lab.compare_summary", lang, n=self.values.shape[0], best=best, money=money,
                 reference=self.reference, lo=lo, hi=hi, share=share)


def named_strategies(strategies) -> list[Strategy]:
    """A list of strategies; a dict's keys become their names (``{"bau": s}`` -> ``bau``)."""
    if isinstance(strategies, dict):
        return [s if s.name == key else replace(s, name=str(key))
                for key, s in strategies.items()]
    if isinstance(strategies, Strategy):
        return [strategies]
    return list(strategies)


def default_economics(twin: Twin) -> Economics:
    """The default economics in the twin's currency (a clear error if it has no default)."""
    try:
        return Economics.for_currency(twin.currency)
    except ValueError as exc:
        raise TwinError(str(exc)) from None


def compare_strategies(twin: Twin, strategies, economics: Economics | None = None,
                       replicates: int = 50, reference: str | None = None,
                       n_jobs: int | None = None, progress: bool | None = None
                       ) -> StrategyComparison:
    """Compare ``strategies`` (list or dict of :class:`Strategy`) on ``twin``.

    A dict's keys are the strategies' names in the result (``{"bau": s}`` is ``"bau"``).
    ``reference`` (default the first strategy, e.g. the current one) is the baseline of the
    differences. Without ``economics`` the default costs are put into the twin's currency
    (:meth:`Economics.for_currency`). ``progress``: a bar of replicates (default: when a
    person watches, never in report kernels). See the module docstring for the metrics.

    Example:
        >>> s = cl.example_strategies()
        >>> sim = cl.simulate(100, s["nudge_then_firm"], seed=1, end="2025-03-31", progress=False)
        >>> twin = cl.Twin.from_simulation(sim, currency="EUR")
        >>> comparison = cl.compare_strategies(twin, {"now": s["nudge_then_firm"],
        ...     "quiet": s["no_reminders"]}, reference="now", replicates=2, n_jobs=1)
        >>> comparison.reference, comparison.currency
        ('now', 'EUR')
    """
    strategies = named_strategies(strategies)
    if not strategies:
        raise TwinError("no strategies to compare")
    economics = economics or default_economics(twin)
    reference = reference or strategies[0].name
    if reference not in [s.name for s in strategies]:
        raise TwinError(f"reference {reference!r} is not one of the strategies "
                        f"{[s.name for s in strategies]}")
    bar = progress_bar(progress, replicates, "comparing strategies")
    try:
        values = simulate_metrics(twin, strategies, economics, replicates, n_jobs, bar=bar)
    finally:
        if bar is not None:
            bar.close()
    return StrategyComparison(strategies, values, twin.currency, reference)


__all__ = ["METRICS", "StrategyComparison", "churn_probability", "compare_strategies",
           "discounts_given",
           "progress_bar",
           "simulate_metrics", "strategy_metrics"]
