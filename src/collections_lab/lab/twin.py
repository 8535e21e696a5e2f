"""The digital twin: a portfolio's own invoices and customers, simulated under any strategy.

A :class:`Twin` holds, per invoice, what the behaviour model needs (segment, terms, amount,
the covariate part of the log hazard multiplier and of the never-pay logit) and, per
customer, a distribution of the frailty (the calibration's posterior: mean and sd) and the
probability of being a discount taker. :meth:`Twin.draw` turns a replicate number into
one set of random inputs (frailty, taker trait, the simulator's uniforms and, optionally,
one draw of the calibrated parameters); :meth:`Twin.outcomes` runs the simulator's own
draw (``simulate.draw_outcomes`` on ``simulate.HazardCurves``) for any strategy on those inputs. The same
replicate gives the same inputs whatever the strategy: **common random numbers**, so
differences between strategies are not swamped by noise.

The twin holds the history's invoices fixed: it answers "what would these invoices and
customers have done under strategy S", with churn counted as a cost (expected customers
lost), not as invoices removed.

:func:`check_twin` replays history on the twin (each invoice under the strategy it had,
censored at the export date) and compares Kaplan–Meier curves, paid-by-due rates, the
lateness mix and the aging of open receivables at the export date
(:func:`collections_lab.analytics.kpis.aging`) by segment with what was observed.

Example
-------
>>> from collections_lab.model.simulation import simulate
>>> from collections_lab.model.strategies import example_strategies
>>> s = example_strategies()
>>> sim = simulate(200, s["one_friendly_after_due"], seed=1, start="2025-01-01",
...                end="2025-06-30")
>>> twin = Twin.from_simulation(sim, currency="COP")
>>> o = twin.outcomes([s["no_reminders"], s["nudge_then_firm"]], replicate=0)
>>> len(o) == 2 and len(o[0].end_day) == twin.n_invoices
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from ..i18n import ResultMixin, format_pct, t
from ..model.behaviour import SEGMENTS, BehaviourModel
from ..model.simulation import (
    HazardCurves,
    Outcomes,
    SimulationResult,
    draw_outcomes,
    reminder_days,
    reminder_stop_day,
    uniforms,
)
from ..model.strategies import Strategy
from .calibrate import Calibration, linear_predictor, subset_history


class TwinError(ValueError):
    """The twin cannot be built or used as asked; the message says why.

    Example:
        >>> sim = cl.simulate(50, cl.example_strategies()["nudge_then_firm"], seed=1,
        ...                   end="2025-02-28", progress=False)
        >>> cl.Twin.from_simulation(sim)
        Traceback (most recent call last):
            ...
        collections_lab.lab.twin.TwinError: the simulation has invoices in ['COP', 'EUR',
        'MXN', ...
    """


@dataclass
class Draw:
    """Random inputs of one replicate (shared by every strategy: common random numbers)."""

    model: BehaviourModel
    mult: np.ndarray
    never_p: np.ndarray
    taker: np.ndarray
    u: np.ndarray


class _CRNCurves(HazardCurves):
    """The simulator's curves, remembering the no-strategy counterfactual payment days of
    the current replicate: ``draw_outcomes`` computes them for every strategy, but under common
    random numbers they are the same for all (same thresholds, same groups), so each
    replicate computes them once (about a quarter of the draw's time)."""

    def start_replicate(self) -> None:
        self.__dict__["_memo"] = None

    def first_day(self, arm, seg, terms, taker, threshold):
        none = len(self.strategies) - 1
        if arm[0] == none and not taker.any() and np.all(arm == none):
            memo = self.__dict__.get("_memo")
            if memo is None:
                memo = super().first_day(arm, seg, terms, taker, threshold)
                self.__dict__["_memo"] = memo
            return memo
        return super().first_day(arm, seg, terms, taker, threshold)


@dataclass
class Twin:
    """A portfolio's invoices and customers ready to simulate (see module docstring).

    Per invoice: ``cust`` (customer position), ``seg`` (segment code), ``terms`` (days),
    ``amount`` (in ``currency``), ``eta`` (log hazard multiplier without frailty),
    ``never_logit`` (never-pay logit without the frailty term). Per customer:
    ``customer_ids``, ``customer_seg``, ``frailty_mean``, ``frailty_sd``,
    ``taker_probability``, ``monthly_billing`` (currency a month, for lifetime values).
    ``models``: optional parameter draws, one used per replicate (calibration uncertainty).
    ``priors``: parameters the calibration kept at their documented prior (name → reason;
    empty for a twin with the simulation's true parameters), see :mod:`.priors`.

    Example:
        >>> sim = cl.simulate(50, cl.example_strategies()["nudge_then_firm"], seed=1,
        ...                   end="2025-02-28", progress=False)
        >>> twin = cl.Twin.from_simulation(sim, currency="EUR")
        >>> twin.currency, len(twin.amount) == (sim.invoices["currency"] == "EUR").sum()
        ('EUR', np.True_)
    """

    model: BehaviourModel
    cust: np.ndarray
    seg: np.ndarray
    terms: np.ndarray
    amount: np.ndarray
    eta: np.ndarray
    never_logit: np.ndarray
    customer_ids: np.ndarray
    customer_seg: np.ndarray
    frailty_mean: np.ndarray
    frailty_sd: np.ndarray
    taker_probability: np.ndarray
    monthly_billing: np.ndarray
    currency: str = "USD"
    seed: int = 0
    models: list = field(default_factory=list)
    source: str = ""
    priors: dict = field(default_factory=dict)

    @property
    def n_invoices(self) -> int:
        return len(self.cust)

    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    # ------------------------------------------------------------------ builders
    def headline(self, lang: str | None = None) -> str:
        """What the twin simulates: invoices, customers, currency, parameter draws."""
        draws = t("twin.card_draws", lang, n=len(self.models)) if self.models else ""
        return t("twin.card", lang, invoices=f"{len(self.amount):,}",
                 customers=f"{len(self.customer_ids):,}", currency=self.currency,
                 draws=draws)

    def _repr_html_(self) -> str:
        """A card: the headline, the parameters kept at their prior folded."""
        from ..i18n import card_html

        priors = pd.DataFrame({"parameter": list(self.priors),
                               "reason": [str(v) for v in self.priors.values()]})
        return card_html(self.headline(), "twin.title",
                         details=[("", priors)] if len(priors) else [])

    def __repr__(self) -> str:
        return f"<Twin: {self.headline()}>"

    @classmethod
    def from_calibration(cls, calibration: Calibration, currency: str | None = None,
                         fx: dict | None = None, parameter_draws: int = 0,
                         seed: int = 0) -> Twin:
        """The calibrated portfolio's own invoices and customers.

        ``currency``: keep only invoices in this currency. ``fx``: currency → units per
        one unit of the reporting currency (``currency``, default USD) to convert every
        amount; without either, a portfolio in several currencies is refused (amounts are
        never summed across currencies silently). ``parameter_draws`` > 0 draws that many
        parameter sets from the calibration's sampling distribution, one per replicate
        (cycled), so intervals include the calibration's uncertainty.
        """
        data = calibration.history_
        frame = data.frame
        model = calibration.model_
        currencies = sorted(frame["currency"].astype(str).unique())
        keep = np.ones(len(frame), dtype=bool)
        if fx is not None:
            missing = sorted(set(currencies) - set(fx))
            if missing:
                raise TwinError(f"fx lacks rates for currency(ies) {missing}")
            rate = frame["currency"].map(fx).to_numpy(dtype=float)
            amount = frame["amount"].to_numpy(dtype=float) / rate
            currency = currency or "USD"
        else:
            if currency is None:
                if len(currencies) > 1:
                    raise TwinError(
                        f"the history has invoices in {currencies}: pass currency= to keep one "
                        "of them or fx= (units per reporting currency) to convert amounts")
                currency = currencies[0]
            keep = (frame["currency"] == currency).to_numpy()
            if not keep.any():
                raise TwinError(f"no invoice in currency {currency!r} (found {currencies})")
            amount = frame["amount"].to_numpy(dtype=float)
        eta = linear_predictor(model, data.x)
        npl = (np.array([model.never_pay_logit[s] for s in SEGMENTS])[data.seg]
               + model.never_pay_disputed * data.disputed)
        cust_all = data.cust
        post = calibration.customers_
        twin = cls._assemble(model, cust_all[keep], data.seg[keep], data.terms[keep],
                             amount[keep], eta[keep], npl[keep], data.customer_ids,
                             post["frailty_mean"].to_numpy(), post["frailty_sd"].to_numpy(),
                             post["taker_probability"].to_numpy(),
                             frame["issue_date"].to_numpy()[keep], currency, seed,
                             source="calibrated history")
        if parameter_draws:
            twin.models = calibration.sample_models(parameter_draws, seed)
        twin.priors = dict(calibration.priors_)
        return twin

    @classmethod
    def from_simulation(cls, sim: SimulationResult, currency: str | None = None,
                        fx: dict | None = None, seed: int = 0) -> Twin:
        """The twin with the simulator's **true** parameters and latent traits (known
        truth): for checking calibrated twins and measuring regret.

        Invoices, frailties and taker traits are the simulation's own; the model is the
        one that generated them. Currency handling as in :meth:`from_calibration`.
        """
        model = BehaviourModel(**{k: v for k, v in sim.truth.model.items()})
        inv = sim.invoices.reset_index(drop=True)
        tr = sim.truth.invoices.set_index("invoice_id").loc[inv["invoice_id"]]
        cust_tr = sim.truth.customers.set_index("customer_id")
        customer_ids, cust = np.unique(inv["customer_id"].to_numpy(), return_inverse=True)
        frailty = cust_tr.loc[customer_ids, "frailty"].to_numpy(dtype=float)
        taker = cust_tr.loc[customer_ids, "discount_taker"].to_numpy(dtype=float)
        seg = pd.Index(SEGMENTS).get_indexer(cust_tr.loc[customer_ids, "segment"])[cust]
        mult = tr["multiplier"].to_numpy(dtype=float)
        never_p = np.clip(tr["never_pay_probability"].to_numpy(dtype=float), 1e-12, 1 - 1e-12)
        u = frailty[cust]
        eta = np.log(mult) - u
        npl = logit(never_p) + model.never_pay_frailty_effect * u
        terms = ((inv["due_date"] - inv["issue_date"]).dt.days).to_numpy(dtype=np.int64)
        currencies = sorted(inv["currency"].astype(str).unique())
        keep = np.ones(len(inv), dtype=bool)
        amount = inv["amount"].to_numpy(dtype=float)
        if fx is not None:
            amount = amount / inv["currency"].map(fx).to_numpy(dtype=float)
            currency = currency or "USD"
        else:
            if currency is None:
                if len(currencies) > 1:
                    raise TwinError(
                        f"the simulation has invoices in {currencies}: pass currency= or fx=")
                currency = currencies[0]
            keep = (inv["currency"] == currency).to_numpy()
        return cls._assemble(model, cust[keep], seg[keep], terms[keep], amount[keep], eta[keep],
                             npl[keep], customer_ids, frailty, np.zeros(len(customer_ids)),
                             taker, inv["issue_date"].to_numpy()[keep], currency, seed,
                             source="simulation truth")

    @classmethod
    def _assemble(cls, model, cust, seg, terms, amount, eta, npl, customer_ids, fmean, fsd,
                  taker_p, issue, currency, seed, source) -> Twin:
        used, cust = np.unique(cust, return_inverse=True)
        n_c = len(used)
        customer_seg = np.zeros(n_c, dtype=np.int64)
        customer_seg[cust] = seg
        issue = pd.to_datetime(issue)
        months = max(1.0, (issue.max() - issue.min()).days / 30.44 + 1.0)
        billing = np.bincount(cust, weights=amount, minlength=n_c) / months
        terms = np.minimum(np.asarray(terms, dtype=np.int64), model.horizon_days - 1)
        return cls(model=model, cust=cust, seg=np.asarray(seg, dtype=np.int64), terms=terms,
                   amount=np.asarray(amount, dtype=float), eta=np.asarray(eta, dtype=float),
                   never_logit=np.asarray(npl, dtype=float),
                   customer_ids=np.asarray(customer_ids)[used], customer_seg=customer_seg,
                   frailty_mean=np.asarray(fmean, dtype=float)[used],
                   frailty_sd=np.asarray(fsd, dtype=float)[used],
                   taker_probability=np.asarray(taker_p, dtype=float)[used],
                   monthly_billing=billing, currency=currency, seed=seed, source=source)

    # ------------------------------------------------------------------ simulation
    def draw(self, replicate: int) -> Draw:
        """The random inputs of ``replicate`` (same for every strategy)."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed, 41, replicate]))
        model = self.models[replicate % len(self.models)] if self.models else self.model
        z = rng.standard_normal(self.n_customers)
        frailty = self.frailty_mean + self.frailty_sd * z
        taker = rng.random(self.n_customers) < self.taker_probability
        u = frailty[self.cust]
        eta = self.eta
        npl = self.never_logit
        if model is not self.model:
            # a parameter draw moves the segment-level parts; covariate effects are kept
            shift = (np.array([model.frailty_mean[s] - self.model.frailty_mean[s]
                               for s in SEGMENTS])[self.seg])
            u = u + shift
            npl = npl + np.array([model.never_pay_logit[s] - self.model.never_pay_logit[s]
                                  for s in SEGMENTS])[self.seg]
        mult = np.exp(eta + u)
        never_p = expit(npl - model.never_pay_frailty_effect * u)
        u_draws = uniforms(int(np.random.SeedSequence([self.seed, 43, replicate])
                                .generate_state(1)[0]), 0, self.n_invoices)
        return Draw(model, mult, never_p, taker[self.cust], u_draws)

    def outcomes(self, strategies: list[Strategy], replicate: int = 0,
                 draw: Draw | None = None) -> list[Outcomes]:
        """Each strategy's simulated story of every invoice on replicate ``replicate``."""
        draw = draw or self.draw(replicate)
        curves = self._curves(draw.model, strategies)
        curves.start_replicate()
        out = []
        for a in range(len(strategies)):
            arm = np.full(self.n_invoices, a, dtype=np.int64)
            out.append(draw_outcomes(draw.model, curves, arm, self.seg, self.terms, draw.taker,
                             draw.mult, draw.never_p, draw.u))
        return out

    def _curves(self, model: BehaviourModel, strategies: list[Strategy]) -> _CRNCurves:
        """The simulator's hazard curves, kept while the model and strategies are the same
        (every replicate without parameter draws reuses them)."""
        key = (id(model), tuple(id(s) for s in strategies))
        cache = self.__dict__.setdefault("_curve_cache", {})
        if key not in cache:
            cache.clear()
            cache[key] = (_CRNCurves(model, list(strategies) + [None]), model,
                          list(strategies))
        return cache[key][0]

    def outcomes_by_invoice(self, strategies: list[Strategy], code: np.ndarray,
                            replicate: int = 0) -> Outcomes:
        """One story per invoice, invoice ``i`` under ``strategies[code[i]]`` (replaying
        history with the strategy each invoice had)."""
        draw = self.draw(replicate)
        curves = HazardCurves(draw.model, list(strategies) + [None])
        return draw_outcomes(draw.model, curves, np.asarray(code, dtype=np.int64), self.seg,
                     self.terms, draw.taker, draw.mult, draw.never_p, draw.u)


def reminders_sent(strategy: Strategy, terms: np.ndarray, o: Outcomes,
                   horizon: int) -> list[tuple[object, np.ndarray]]:
    """(reminder, sent mask per invoice) for each reminder of ``strategy``, by the
    simulator's rule: a reminder goes out while the invoice is open and not escalated, and a
    payment plan pauses the rest (the same rule as the simulator's reminders table)."""
    stop = reminder_stop_day(o.outcome, o.end_day, o.offer_day, o.installment)
    uniq = np.unique(terms)
    schedule = {int(tm): reminder_days(strategy, int(tm), horizon) for tm in uniq}
    out = []
    for r in strategy.reminders:
        day = np.full(len(terms), 10**6)
        for tm, pairs in schedule.items():
            for d, rem in pairs:
                if rem is r:
                    day[terms == tm] = d
        out.append((r, day < stop))
    return out


# ----------------------------------------------------------------------------- check
@dataclass
class TwinCheck(ResultMixin):
    """Simulated against observed history, by segment: Kaplan–Meier curves, paid-by-due
    rates, lateness mix and aging at the export date, with a goodness-of-fit summary.

    ``rates`` gives each difference in units of the observed share's binomial standard
    error (``z``; invoices treated as independent, so |z| up to ~3 is still a good fit for
    clustered invoices); ``max_curve_gap`` is the largest vertical distance between the
    observed and simulated Kaplan–Meier curves (a Kolmogorov-type distance). ``aging``: per
    segment (and ``all``) and aging bucket (current, 1-30, 31-60, 61-90, 90+ days past
    due), the open invoices and the bucket's share of the open amount at ``as_of``,
    observed and simulated (mean over replicates). In-sample by default (the customers'
    frailties come from the same history); see :func:`check_twin` for the out-of-sample
    version."""

    curves: pd.DataFrame  # segment, day, observed, simulated (share still unpaid)
    rates: pd.DataFrame  # segment, metric, observed, simulated, difference, invoices, se, z
    lateness: pd.DataFrame  # segment, bucket, observed, simulated (shares)
    max_curve_gap: float
    # segment, bucket, {observed,simulated}_{invoices,share}, difference (of the shares)
    aging: pd.DataFrame = field(default_factory=pd.DataFrame)
    as_of: pd.Timestamp | None = None
    title = "Twin check: simulated vs observed history"

    def to_frame(self) -> pd.DataFrame:
        return self.rates

    def report_tables(self) -> list[tuple[str, pd.DataFrame]]:
        """The rates compared, then the aging of open receivables at the export date."""
        tables = super().report_tables()
        if len(self.aging):  # a catalogue key: the report shows it in its language
            tables.append(("lab.twin_aging_title", self.aging))
        return tables

    def note_texts(self, lang: str | None = None) -> list[str]:
        """Why the aging here is not page 01's: escalated invoices are left out."""
        return [t("lab.twin_aging_note", lang)] if len(self.aging) else []

    def summary(self, lang: str | None = None) -> str:
        gap = format_pct(self.max_curve_gap, 1, lang)
        r = self.rates.loc[self.rates["segment"] == "all"].set_index("metric")
        obs = format_pct(float(r.loc["paid_by_due", "observed"]), 1, lang)
        sim = format_pct(float(r.loc["paid_by_due", "simulated"]), 1, lang)
        aged = self.overdue_share(30)
        text = t("lab.twin_summary", lang, simulated=sim, observed=obs, gap=gap)
        if aged is not None:
            text += t("lab.twin_aged", lang, simulated=format_pct(aged[1], 1, lang),
                      observed=format_pct(aged[0], 1, lang))
        return text

    def overdue_share(self, days: int = 30, segment: str = "all") -> tuple | None:
        """(observed, simulated) share of the open amount more than ``days`` (30, 60 or 90)
        past due at the export date, from :attr:`aging`; None without aging."""
        if not len(self.aging):
            return None
        beyond = {30: ("31-60", "61-90", "90+"), 60: ("61-90", "90+"), 90: ("90+",)}[days]
        a = self.aging.loc[(self.aging["segment"] == segment)
                           & self.aging["bucket"].isin(beyond)]
        return float(a["observed_share"].sum()), float(a["simulated_share"].sum())


LATENESS = (("on time", -(10**9), 0), ("1-15", 1, 15), ("16-45", 16, 45), ("46-90", 46, 90),
            ("90+", 91, 10**9))


def check_twin(calibration: Calibration, replicates: int = 5, seed: int = 0,
               max_day: int = 120, holdout=None) -> TwinCheck:
    """Replay history on the twin and compare with what was observed.

    Each invoice is simulated under the strategy it had (known strategies, or the
    reminders' inferred schedule), ``replicates`` times, and censored at its own follow-up
    (export date − issue date), exactly as the observed data are.

    By default the check is in-sample: the calibrated invoices themselves. With
    ``holdout=(portfolio, as_of)`` — typically the calibration fitted with an earlier
    ``as_of`` — the invoices issued after the calibration's date are predicted instead:
    customers seen in the calibration keep their posterior frailty, new customers get
    their segment's distribution. An out-of-sample test of the twin.

    Example:
        >>> sim = cl.simulate(60, cl.example_strategies()["nudge_then_firm"], seed=1,
        ...                   end="2025-04-30", progress=False)
        >>> calibration = cl.Calibration(nodes=4, maxiter=30).fit(sim.snapshot("2025-07-31"))
        >>> check = cl.check_twin(calibration, replicates=1)
        >>> type(check).__name__, "observed" in check.to_frame().to_string().lower()
        ('TwinCheck', True)
    """
    from ..survival.curves import kaplan_meier
    from .calibrate import prepare_history

    model = calibration.model_
    post = calibration.customers_.set_index("customer_id")
    if holdout is None:
        data = calibration.history_
    else:
        portfolio, as_of = holdout
        cut = calibration.history_.frame["issue_date"].max()
        full = prepare_history(portfolio, as_of, calibration.inputs_["arms"],
                               calibration.inputs_["default"], model.horizon_days,
                               calibration.history_.amount_reference,
                               calibration.inputs_["reminders"])
        keep = (full.frame["issue_date"] > cut).to_numpy()
        if not keep.any():
            raise TwinError(f"no invoice issued after {cut.date()} to hold out")
        data = subset_history(full, keep)
    frame = data.frame
    ids = data.customer_ids
    known = pd.Index(post.index).get_indexer(ids)
    cseg = np.zeros(len(ids), dtype=np.int64)
    cseg[data.cust] = data.seg
    seg_names = np.array(SEGMENTS, dtype=object)[cseg]
    fmean = np.where(known >= 0, post["frailty_mean"].to_numpy()[np.maximum(known, 0)],
                     [model.frailty_mean[s] for s in seg_names])
    fsd = np.where(known >= 0, post["frailty_sd"].to_numpy()[np.maximum(known, 0)],
                   [model.frailty_sd[s] for s in seg_names])
    taker = np.where(known >= 0, post["taker_probability"].to_numpy()[np.maximum(known, 0)],
                     [model.discount_taker_share[s] for s in seg_names])
    twin = Twin._assemble(
        model, data.cust, data.seg, data.terms, frame["amount"].to_numpy(dtype=float),
        linear_predictor(model, data.x),
        np.array([model.never_pay_logit[s] for s in SEGMENTS])[data.seg]
        + model.never_pay_disputed * data.disputed,
        ids, fmean, fsd, taker, frame["issue_date"].to_numpy(), "mixed", seed, "check")
    if data.strategies.source in ("known", "inferred"):
        strategies, code = data.strategies.strategies, data.strategies.code
    else:
        strategies, code = [calibration.current_strategy_], np.zeros(len(frame), np.int64)
    as_of = frame.attrs.get("as_of") or frame["end_date"].max()
    follow = ((pd.Timestamp(as_of) - frame["issue_date"]).dt.days).to_numpy()
    h = calibration.model_.horizon_days
    obs = pd.DataFrame({"segment": frame["segment"].to_numpy(),
                        "duration": np.minimum(frame["duration"].to_numpy(), h),
                        "event": data.paid, "days_late": frame["days_late"].to_numpy(),
                        "terms": data.terms, "follow": follow})
    reference = data.amount_reference
    aging_obs = _aging_by_segment(frame, frame["end_date"], frame["outcome"].to_numpy(),
                                  reference, as_of)
    sims, aging_sim = [], []
    for r in range(replicates):
        o = twin.outcomes_by_invoice(strategies, code, replicate=r)
        end = np.minimum(o.end_day, follow)
        paid = (o.outcome == 1) & (o.end_day <= follow)
        sims.append(pd.DataFrame({"segment": obs["segment"], "duration": end, "event": paid,
                                  "days_late": o.end_day - data.terms, "terms": data.terms,
                                  "follow": follow, "replicate": r}))
        ended = frame["issue_date"] + pd.to_timedelta(o.end_day, unit="D")
        aging_sim.append(_aging_by_segment(frame, ended, SIM_OUTCOMES[o.outcome], reference,
                                           as_of))
    sim = pd.concat(sims, ignore_index=True)

    def km(f):
        return kaplan_meier(f.assign(all="all"), by="all", cluster_col=None).curves

    curve_rows = []
    days = np.arange(0, max_day + 1)
    gap = 0.0
    for seg in ["all"] + [s for s in SEGMENTS if (obs["segment"] == s).any()]:
        fo = obs if seg == "all" else obs.loc[obs["segment"] == seg]
        fs = sim if seg == "all" else sim.loc[sim["segment"] == seg]
        so = _step(km(fo), days)
        ss = _step(km(fs), days)
        gap = max(gap, float(np.max(np.abs(so - ss))))
        curve_rows.append(pd.DataFrame({"segment": seg, "day": days, "observed": so,
                                        "simulated": ss}))
    curves = pd.concat(curve_rows, ignore_index=True)
    rate_rows, late_rows = [], []
    for seg in ["all"] + [s for s in SEGMENTS if (obs["segment"] == s).any()]:
        fo = obs if seg == "all" else obs.loc[obs["segment"] == seg]
        fs = sim if seg == "all" else sim.loc[sim["segment"] == seg]
        for name, d in (("paid_by_due", 0), ("paid_by_due_15", 15), ("paid_by_due_30", 30)):
            ro = _paid_by(fo, d)
            rs = _paid_by(fs, d)
            n = int((fo["follow"] >= fo["terms"] + d).sum())
            # binomial se of the observed share (invoices as independent: a lower bound)
            se = float(np.sqrt(ro * (1 - ro) / n)) if n else float("nan")
            rate_rows.append(dict(segment=seg, metric=name, observed=ro, simulated=rs,
                                  difference=rs - ro, invoices=n, se=se,
                                  z=(rs - ro) / se if se > 0 else float("nan")))
        for label, share_o, share_s in _lateness(fo, fs):
            late_rows.append(dict(segment=seg, bucket=label, observed=share_o,
                                  simulated=share_s))
    return TwinCheck(curves, pd.DataFrame(rate_rows), pd.DataFrame(late_rows), gap,
                     _aging_comparison(aging_obs, aging_sim), pd.Timestamp(as_of))


#: The simulator's outcome codes (1 paid, 2 escalated, 3 written off) as the payment-times
#: frame's outcome names.
SIM_OUTCOMES = np.array(["open", "paid", "escalated", "written_off"], dtype=object)


def _aging_by_segment(frame: pd.DataFrame, ended, outcome: np.ndarray, reference: dict,
                      as_of) -> pd.DataFrame:
    """Aging at ``as_of`` by segment (:func:`collections_lab.analytics.kpis.aging`) of the
    invoices of ``frame`` whose stories end on dates ``ended`` with ``outcome`` ("paid",
    "escalated", "written_off"; anything else stays open).

    Both sides of the check are built alike: an invoice is open in full until it is paid
    in full (the twin does not split payments), an escalated one leaves receivables on its
    escalation date (``include_escalated=False``: the twin's story ends there), and
    amounts are in units of each currency's reference invoice (the calibration's
    ``amount_reference``) so that currencies add up.
    """
    from ..analytics.kpis import aging
    from ..data.portfolio import Portfolio

    ended = pd.Series(pd.to_datetime(np.asarray(ended)), index=frame.index)
    amount = (frame["amount"].to_numpy(dtype=float)
              / frame["currency"].map(reference).to_numpy(dtype=float))
    outcome = np.asarray(outcome)
    invoices = pd.DataFrame({
        "invoice_id": frame["invoice_id"].to_numpy(),
        "customer_id": frame["customer_id"].to_numpy(),
        "issue_date": frame["issue_date"].to_numpy(), "due_date": frame["due_date"].to_numpy(),
        "amount": amount, "currency": "reference invoices",
        "segment": frame["segment"].to_numpy(),
        "escalated_at": ended.where(outcome == "escalated").to_numpy(),
        "written_off_at": ended.where(outcome == "written_off").to_numpy()})
    paid = outcome == "paid"
    payments = pd.DataFrame({"invoice_id": invoices["invoice_id"].to_numpy()[paid],
                             "paid_at": ended.to_numpy()[paid], "amount": amount[paid]})
    customers = pd.DataFrame({"customer_id": pd.unique(invoices["customer_id"])})
    observed = Portfolio(customers, invoices, payments=payments,
                         observed_until=pd.Timestamp(as_of).normalize())
    table = aging(observed, as_of, by="segment",
                  include_escalated=False).frame
    return table[["segment", "bucket", "count", "amount"]]


def _aging_comparison(observed: pd.DataFrame, simulated: list[pd.DataFrame]) -> pd.DataFrame:
    """Observed vs simulated aging per segment (and all): open invoices by bucket and each
    bucket's share of the segment's open amount (simulated: mean over replicates)."""
    keys = ["segment", "bucket"]
    sim = pd.concat(simulated).groupby(keys, sort=False)[["count", "amount"]].sum() / len(
        simulated)
    both = observed.set_index(keys)[["count", "amount"]].join(
        sim, lsuffix="_observed", rsuffix="_simulated", how="outer").fillna(0.0)
    total = both.groupby(level="bucket", sort=False).sum()
    total.index = pd.MultiIndex.from_product([["all"], total.index], names=keys)
    both = pd.concat([total, both]).reset_index()
    out = both[keys].copy()
    for side in ("observed", "simulated"):
        amount = both[f"amount_{side}"]
        open_amount = amount.groupby(both["segment"]).transform("sum")
        out[f"{side}_invoices"] = both[f"count_{side}"]
        out[f"{side}_share"] = amount / open_amount.where(open_amount > 0)
    out["difference"] = out["simulated_share"] - out["observed_share"]
    from ..analytics.kpis import BUCKETS

    order = {name: i for i, name in enumerate(("all",) + tuple(SEGMENTS))}
    order.update({label: i for i, (label, _, _) in enumerate(BUCKETS)})
    return out.sort_values(keys, key=lambda c: c.map(order), kind="stable").reset_index(
        drop=True)


def _step(curve: pd.DataFrame, days: np.ndarray) -> np.ndarray:
    """Survival step function of a kaplan_meier frame evaluated on ``days``."""
    d = curve["day"].to_numpy()
    s = curve["survival"].to_numpy()
    pos = np.searchsorted(d, days, side="right") - 1
    return np.where(pos >= 0, s[np.maximum(pos, 0)], 1.0)


def _paid_by(f: pd.DataFrame, d: int) -> float:
    """Share paid by due + d among invoices followed at least that long."""
    seen = f["follow"] >= f["terms"] + d
    if not seen.any():
        return float("nan")
    g = f.loc[seen]
    return float((g["event"] & (g["days_late"] <= d)).mean())


def _lateness(fo: pd.DataFrame, fs: pd.DataFrame):
    """Shares of invoices (followed 120+ days) by days late at payment, and unpaid."""
    out = []
    parts = []
    for f in (fo, fs):
        g = f.loc[f["follow"] >= f["terms"] + 120]
        paid = g["event"].to_numpy()
        late = g["days_late"].to_numpy()
        shares = [float(np.mean(paid & (late >= lo) & (late <= hi))) if len(g) else np.nan
                  for _, lo, hi in LATENESS]
        shares.append(float(np.mean(~paid)) if len(g) else np.nan)
        parts.append(shares)
    for i, label in enumerate([b[0] for b in LATENESS] + ["unpaid"]):
        out.append((label, parts[0][i], parts[1][i]))
    return out
