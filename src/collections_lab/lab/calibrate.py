"""Calibrate the behaviour model to a portfolio's history, with standard errors and priors.

The fitted model is exactly the simulator's (:mod:`collections_lab.model.behaviour`): for
invoice ``i`` of customer ``c`` under the reminders it received,

    P(paid on day t | not before) = 1 - exp(-m_i λ(t)),  λ(t) = λ0(t - D) Π pulses · discount · fee
    m_i = exp(β·x_i + u_c),   u_c ~ Normal(μ_segment, σ_segment)      (frailty)
    never paid with probability π_i = expit(a_segment - b·u_c + d·disputed)

and discount takers (a customer trait, share by segment) respond to discounts. The
likelihood of a customer's invoices is integrated over the frailty (Gauss–Hermite) and the
taker trait, and maximised over all parameters at once by BHHH steps (Newton with the outer
product of the per-customer scores as the information; L-BFGS only polishes if they stall,
see :func:`_maximise`). The hazard curves in the likelihood are computed by the
simulator's own ``hazard_curve``, so the calibrated model is the one the twin simulates.

Why not a Poisson / cloglog GLM on person-day counts (the textbook discrete-time hazard)?
Three features of collections data bias it, measured on simulated history with known
truth: the reminder pulse ``1 + a·exp(-s/κ)`` is not log-linear, the never-payers look like
a low hazard tail, and ignoring customer frailty attenuates every covariate (selection of
the reliable payers out of the risk set). Day-relative-to-due bins also cannot separate a
reminder everybody gets on the same day (say due + 3) from the baseline on that day, so
the baseline keeps the model's smooth shape (pre-due rise, peak at due, decaying tail: six
parameters). statsmodels' GLM is used where it fits the model exactly: the churn rate per
invoice (Poisson, log link, customer-clustered errors).

Standard errors: outer product of per-customer scores (BHHH) of the integrated likelihood,
customers being independent; intervals on the transformed (log / logit) scale, mapped back.

Identifiability: a parameter needs data that moves it: a tone, channel or segment response
never used, personalisation never varied, one reminder per invoice (no diminishing-returns
information), no reminder stating a payment deadline (the reminders table's optional
``deadline_days``, or the strategies of the history), no discount or late fee offered (strategies of the history unknown or
without them), no disputed invoice... Those parameters keep their documented prior
(:class:`~collections_lab.model.behaviour.BehaviourModel` defaults, or your own ``prior``) and
are listed as such in :attr:`Calibration.params_` with the reason.

Example
-------
>>> from collections_lab.model.simulation import simulate
>>> from collections_lab.model.strategies import example_strategies
>>> s = example_strategies()["nudge_then_firm"]
>>> sim = simulate(300, s, seed=3, start="2025-01-01", end="2025-08-31", progress=False)
>>> cal = Calibration().fit(sim.portfolio, default=s)
>>> cal.params_.loc["tone_effect[final]", "source"]
'prior'
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit, logsumexp

from ..data.portfolio import Portfolio
from ..data.schema import INVOICE_CHANNELS, REMINDER_CHANNELS, TONES
from ..i18n import ResultMixin, format_number, t
from ..model.behaviour import SEGMENTS, BehaviourModel
from ..model.simulation import FIRM_TONES, hazard_curve
from ..model.strategies import Strategy
from .history import InvoiceStrategies, invoice_strategies

#: Smallest history the calibration accepts.
MIN_PAID_INVOICES = 150
MIN_CUSTOMERS = 10
MIN_HISTORY_DAYS = 60
#: Invoices that must have received a reminder stating a payment deadline before the
#: deadline effect is estimated (else it keeps its documented prior).
MIN_DEADLINE_INVOICES = 100

#: Identification from the information matrix (see :func:`identification`). A parameter's
#: documented prior is believed within a factor of about ``exp(PRIOR_SD)`` (transformed
#: scale: log, logit, log1p or the value itself); the history identifies it when its
#: profile log-likelihood falls by more than ``PROFILE_DROP`` (the 95 % chi-square cut,
#: 3.84 / 2) within ``PLAUSIBLE_SPAN`` of the estimate, when its direction is outside the
#: near-null eigenspace of the information (eigenvalues of the correlation-scaled matrix
#: below ``MAX_CONDITION``⁻¹ times the largest) and when the optimiser left it inside
#: ``BOUND_SPAN`` of its prior.
PRIOR_SD = 0.5
PLAUSIBLE_SPAN = math.log(10.0)
PROFILE_DROP = 1.92
MAX_CONDITION = 1e8
BOUND_SPAN = 6.0


class CalibrationError(ValueError):
    """The history cannot be calibrated; the message says what is missing.

    Example:
        >>> few = cl.simulate(20, cl.example_strategies()["nudge_then_firm"], seed=1,
        ...                   end="2025-02-28", progress=False)
        >>> cl.Calibration().fit(few.snapshot("2025-04-30"))
        Traceback (most recent call last):
            ...
        collections_lab.lab.calibrate.CalibrationError: history too short to calibrate: 32
        paid ...
    """


@dataclass(frozen=True)
class _Param:
    name: str  # e.g. "tone_effect[firm]"
    field: str  # BehaviourModel field
    key: str | None  # dict key, or None for a scalar
    transform: str  # "log", "logit", "log1p" (log(1 + x)) or "id"


def _forward(value: float, transform: str) -> float:
    if transform == "log":
        return math.log(value)
    if transform == "logit":
        return math.log(value / (1 - value))
    if transform == "log1p":
        return math.log1p(value)
    return float(value)


def _backward(theta, transform: str):
    theta = np.asarray(theta, dtype=float)
    with np.errstate(over="ignore"):  # a trial step far out is rejected by its likelihood
        if transform == "log":
            return np.exp(theta)
        if transform == "logit":
            return expit(theta)
        if transform == "log1p":
            return np.expm1(theta)
    return theta


def model_with(prior: BehaviourModel, params: list[_Param], theta) -> BehaviourModel:
    """``prior`` with ``params`` set from transformed values ``theta``."""
    changes: dict = {}
    for p, v in zip(params, theta, strict=True):
        value = float(_backward(v, p.transform))
        if p.key is None:
            changes[p.field] = value
        else:
            d = changes.setdefault(p.field, dict(getattr(prior, p.field)))
            d[p.key] = value
    return prior.with_params(**changes)


# ----------------------------------------------------------------------------- data
@dataclass
class HistoryData:
    """The history in the form the likelihood and the twin need (one row per invoice,
    sorted by customer)."""

    frame: pd.DataFrame  # payment-times rows, sorted by customer
    strategies: InvoiceStrategies
    cust: np.ndarray  # customer code per invoice (0..C-1, sorted)
    customer_ids: np.ndarray
    seg: np.ndarray  # segment code per invoice
    terms: np.ndarray
    x: np.ndarray  # invoice covariates (n × k), see COVARIATES
    disputed: np.ndarray
    paid: np.ndarray
    day: np.ndarray  # payment day (paid) or last day survived (censored, -1..h-1)
    amount_reference: dict  # currency -> reference amount for log(amount / ref)


COVARIATES = ("log_amount", "disputed", "payment_link") + tuple(
    f"channel[{c}]" for c in INVOICE_CHANNELS[1:])


def invoice_covariates(frame: pd.DataFrame, amount_reference: dict) -> np.ndarray:
    """The invoice covariate matrix (columns :data:`COVARIATES`).

    Amounts enter as ``log(amount / reference of its currency)``: the median invoice of
    each currency, so amounts in different currencies are never compared directly.
    """
    ref = frame["currency"].map(amount_reference).to_numpy(dtype=float)
    amount = np.maximum(frame["amount"].to_numpy(dtype=float), 1e-9)
    chan = frame["channel"].astype(str).to_numpy()
    cols = [np.log(amount / ref), frame["disputed"].to_numpy(dtype=float),
            frame["payment_link"].to_numpy(dtype=float)]
    cols += [(chan == c).astype(float) for c in INVOICE_CHANNELS[1:]]
    return np.column_stack(cols)


def linear_predictor(model: BehaviourModel, x: np.ndarray) -> np.ndarray:
    """β·x for covariates from :func:`invoice_covariates` (log hazard multiplier, no frailty)."""
    beta = np.array([model.beta_log_amount, model.beta_disputed, model.beta_payment_link]
                    + [model.beta_invoice_channel[c] for c in INVOICE_CHANNELS[1:]])
    return x @ beta


def prepare_history(portfolio: Portfolio, as_of=None, arms: dict | None = None,
                    default: Strategy | None = None, horizon_days: int = 180,
                    amount_reference: dict | None = None,
                    reminders: str = "recorded") -> HistoryData:
    """Payment times of ``portfolio`` plus each invoice's strategy, checked for size.

    ``amount_reference`` (currency → amount) centres ``log(amount)``; default the median
    invoice of each currency."""
    frame = portfolio.payment_times(as_of=as_of)
    unknown = sorted(set(frame["segment"]) - set(SEGMENTS))
    if unknown:
        raise CalibrationError(
            f"the behaviour model knows segments {list(SEGMENTS)}; the customers table has "
            f"{unknown}: map your segments onto these before calibrating")
    span = (frame["issue_date"].max() - frame["issue_date"].min()).days
    n_paid = int(frame["event"].sum())
    n_cust = frame["customer_id"].nunique()
    if n_paid < MIN_PAID_INVOICES or n_cust < MIN_CUSTOMERS or span < MIN_HISTORY_DAYS:
        raise CalibrationError(
            f"history too short to calibrate: {n_paid} paid invoices, {n_cust} customers, "
            f"{span} days of issue dates; need at least {MIN_PAID_INVOICES} paid invoices, "
            f"{MIN_CUSTOMERS} customers and {MIN_HISTORY_DAYS} days")
    strategies = invoice_strategies(portfolio, frame, arms, default, reminders)
    order = np.argsort(frame["customer_id"].to_numpy(), kind="stable")
    frame = frame.iloc[order].reset_index(drop=True)
    strategies = InvoiceStrategies(strategies.code[order], strategies.strategies,
                                   strategies.source)
    cust, customer_ids = pd.factorize(frame["customer_id"])
    reference = frame.groupby("currency")["amount"].median().to_dict()
    if amount_reference is not None:
        missing = sorted(set(reference) - set(amount_reference))
        if missing:
            raise CalibrationError(f"amount_reference lacks currency(ies) {missing}")
        reference = {k: float(amount_reference[k]) for k in reference}
    h = horizon_days
    paid = frame["event"].to_numpy(dtype=bool) & (frame["duration"].to_numpy() < h)
    dur = frame["duration"].to_numpy(dtype=np.int64)
    outcome = frame["outcome"].to_numpy()
    # censored: survived through the day before escalation / write-off, through as_of if open
    survived = np.where(outcome == "open", dur, dur - 1)
    day = np.where(paid, dur, np.clip(survived, -1, h - 1))
    seg = pd.Index(SEGMENTS).get_indexer(frame["segment"])
    return HistoryData(frame=frame, strategies=strategies, cust=cust.astype(np.int64),
                       customer_ids=np.asarray(customer_ids), seg=seg.astype(np.int64),
                       terms=frame["terms_days"].to_numpy(dtype=np.int64),
                       x=invoice_covariates(frame, reference),
                       disputed=frame["disputed"].to_numpy(dtype=bool), paid=paid,
                       day=day.astype(np.int64), amount_reference=reference)


def subset_history(data: HistoryData, keep: np.ndarray) -> HistoryData:
    """The rows ``keep`` (boolean mask) of a prepared history, customer codes renumbered."""
    from dataclasses import replace

    frame = data.frame.loc[keep].reset_index(drop=True)
    frame.attrs = dict(data.frame.attrs)
    used, cust = np.unique(data.cust[keep], return_inverse=True)
    return replace(data, frame=frame,
                   strategies=InvoiceStrategies(data.strategies.code[keep],
                                                data.strategies.strategies,
                                                data.strategies.source),
                   cust=cust.astype(np.int64), customer_ids=data.customer_ids[used],
                   seg=data.seg[keep], terms=data.terms[keep], x=data.x[keep],
                   disputed=data.disputed[keep], paid=data.paid[keep], day=data.day[keep])


def experiment_identified(data: HistoryData, portfolio: Portfolio, prior: BehaviourModel,
                          estimated: list[str]) -> dict[str, str]:
    """Which of the ``estimated`` parameters only the experiment in the history identifies.

    The invoices issued from each assigned customer's assignment date (the experiment's,
    :func:`~collections_lab.lab.history.experiment_groups`) are set aside and the same
    identification rules (:func:`_identifiable`; for the churn model: whether any
    pre-period invoice received a firm reminder) are applied to the rest: a parameter
    estimable with the experiment but not without it is identified by the randomised
    assignment (name → the arms that moved it). Empty without an experiment.
    """
    from .history import experiment_groups

    groups = experiment_groups(portfolio, data.frame)
    inside = groups != ""
    if not inside.any():
        return {}
    arms = sorted(set(groups[inside]))
    pre = ~inside
    if pre.sum() == 0:
        without: set[str] = set()
    else:
        est, _ = _identifiable(subset_history(data, pre), prior, None)
        without = {p.name for p in est}
        s = data.strategies
        pre_codes = np.unique(s.code[pre])
        if any(r.tone in FIRM_TONES for c in pre_codes for r in s.strategies[c].reminders):
            without.add("churn_firm_reminder")
        without |= {n for n in estimated if n.startswith("churn_base[")
                    or n == "churn_escalated"}
    label = ", ".join(arms[:3]) + (f" (+{len(arms) - 3})" if len(arms) > 3 else "")
    return {n: label for n in estimated if n not in without}


# ----------------------------------------------------------------------------- likelihood
BASELINE_FIELDS = {"pre_due_level", "pre_due_scale_days", "due_peak", "due_peak_width_days",
                   "post_due_level", "post_due_decay_days"}
#: Fields whose parameters act through the hazard curves (differentiated numerically).
CURVE_FIELDS = {"pre_due_level", "pre_due_scale_days", "due_peak", "due_peak_width_days",
                "post_due_level", "post_due_decay_days", "tone_effect", "channel_effect",
                "segment_response", "personalisation_lift", "later_reminder_decay",
                "pulse_decay_days", "deadline_effect", "discount_boost_per_point",
                "fee_sensitivity"}


def _seg_array(model: BehaviourModel, field: str) -> np.ndarray:
    values = getattr(model, field)
    return np.array([values[s] for s in SEGMENTS], dtype=float)


class _Likelihood:
    """Integrated log-likelihood per customer and its gradient.

    The gradient is analytic in everything but the hazard curves, whose derivatives are
    forward differences of the (few) curves — a few curve evaluations instead of one full
    likelihood per parameter (about 20× faster than finite differences of the whole)."""

    def __init__(self, data: HistoryData, prior: BehaviourModel, params: list[_Param],
                 nodes: int):
        self.data, self.prior, self.params = data, prior, params
        h = prior.horizon_days
        z, w = np.polynomial.hermite_e.hermegauss(nodes)
        self.z, self.logw = z, np.log(w / w.sum())
        s = data.strategies
        offers_discount = np.array([st.discount is not None for st in s.strategies])
        self.disc = offers_discount[s.code]
        terms = np.minimum(data.terms, h - 1)
        key0 = pd.MultiIndex.from_arrays([s.code, data.seg, terms, np.zeros(len(terms), bool)])
        key1 = pd.MultiIndex.from_arrays([s.code, data.seg, terms, self.disc])
        allkeys = key0.append(key1).unique()
        self.patterns = list(allkeys)
        self.pat0 = allkeys.get_indexer(key0)
        self.pat1 = allkeys.get_indexer(key1)
        self.cust_start = np.r_[0, np.flatnonzero(np.diff(data.cust)) + 1]
        self.n_cust = len(self.cust_start)
        self.cust_seg = data.seg[self.cust_start]
        self.disc_rows = np.flatnonzero(self.disc)
        dcust = data.cust[self.disc_rows]
        self.disc_start = np.r_[0, np.flatnonzero(np.diff(dcust)) + 1] if len(dcust) else \
            np.zeros(0, dtype=np.int64)
        self.disc_cust = dcust[self.disc_start] if len(dcust) else np.zeros(0, dtype=np.int64)
        self.paid = data.paid
        self.day = data.day
        self.idx_a = np.where(data.paid, data.day, data.day + 1)
        self.idx_b = np.minimum(data.day + 1, h)
        self.curve_params = [j for j, p in enumerate(params) if p.field in CURVE_FIELDS]
        self._affected_cache: dict = {}

    def model(self, theta) -> BehaviourModel:
        return model_with(self.prior, self.params, theta)

    def hazards(self, model: BehaviourModel, only=None) -> np.ndarray:
        """Daily hazard λ (without the invoice multiplier) per pattern (or for the pattern
        positions ``only``), from the simulator's own ``hazard_curve``."""
        h = model.horizon_days
        strategies = self.data.strategies.strategies
        which = range(len(self.patterns)) if only is None else only
        out = np.empty((len(which), h))
        for row, i in enumerate(which):
            code, seg, terms, taker = self.patterns[i]
            out[row] = hazard_curve(model, strategies[code], SEGMENTS[seg], int(terms),
                                     bool(taker))
        return out

    def baselines(self, model: BehaviourModel) -> np.ndarray:
        """λ0 per pattern (depends on the pattern's terms only)."""
        t = np.arange(model.horizon_days, dtype=float)
        terms = np.array([p[2] for p in self.patterns])
        uniq, inv = np.unique(terms, return_inverse=True)
        return np.vstack([model.baseline(t, int(d)) for d in uniq])[inv]

    @staticmethod
    def cumulate(lam: np.ndarray) -> np.ndarray:
        """Cumulative hazard with a leading zero: ``G[p, t + 1] = G_p(t)``."""
        out = np.zeros((lam.shape[0], lam.shape[1] + 1))
        np.cumsum(lam, axis=1, out=out[:, 1:])
        return out

    def curves(self, model: BehaviourModel) -> np.ndarray:
        return self.cumulate(self.hazards(model))

    def _affected(self, j: int) -> np.ndarray:
        """Patterns whose hazard moves with curve parameter ``j`` (found once, by
        perturbing it), so its derivative recomputes only those."""
        if j not in self._affected_cache:
            theta = np.array([_forward(_value(self.prior, p), p.transform)
                              for p in self.params])
            base = self.hazards(self.prior)
            theta[j] += 0.5
            moved = self.hazards(self.model(theta))
            self._affected_cache[j] = np.flatnonzero(np.any(moved != base, axis=1))
        return self._affected_cache[j]

    def _invoice_terms(self, model, G, pat, rows, grad: bool):
        """Per invoice × frailty node: log-likelihood and, with ``grad``, its derivatives
        with respect to the linear predictor, the never-pay logit and the cumulative
        hazards ``a`` (survived) and ``b`` (hazard of the payment day)."""
        d = self.data
        paid = self.paid[rows]
        p = pat[rows]
        seg = d.seg[rows]
        u = (_seg_array(model, "frailty_mean")[seg][:, None]
             + _seg_array(model, "frailty_sd")[seg][:, None] * self.z[None, :])
        eta = linear_predictor(model, d.x[rows])
        m = np.exp(eta[:, None] + u)
        npl = (_seg_array(model, "never_pay_logit")[seg]
               + model.never_pay_disputed * d.disputed[rows])
        npl = npl[:, None] - model.never_pay_frailty_effect * u
        a = G[p, self.idx_a[rows]]
        b = np.where(paid, G[p, self.idx_b[rows]] - a, 0.0)
        ll = np.empty_like(m)
        pi_ = np.flatnonzero(paid)
        ci = np.flatnonzero(~paid)
        mp = m[pi_]
        mb = np.maximum(mp * b[pi_, None], 1e-300)
        em1 = np.expm1(mb)
        ll[pi_] = -np.logaddexp(0.0, npl[pi_]) - mp * a[pi_, None] + np.log(-np.expm1(-mb))
        mc = m[ci]
        log_payer_surv = -np.logaddexp(0.0, npl[ci]) - mc * a[ci, None]
        log_never = -np.logaddexp(0.0, -npl[ci])
        ll[ci] = np.logaddexp(log_never, log_payer_surv)
        if not grad:
            return ll, None
        pi_never = expit(npl)
        d_eta = np.empty_like(m)
        d_npl = np.empty_like(m)
        d_a = np.empty_like(m)
        d_b = np.zeros_like(m)
        d_npl[pi_] = -pi_never[pi_]
        d_eta[pi_] = mp * (-a[pi_, None] + b[pi_, None] / em1)
        d_a[pi_] = -mp
        d_b[pi_] = mp / em1
        # censored: ll = log(pi + (1 - pi) S); share of the payer branch r
        r = np.exp(log_payer_surv - ll[ci])
        pc = pi_never[ci]
        S = np.exp(-mc * a[ci, None])
        d_npl[ci] = pc * (1 - pc) * (1 - S) / np.exp(ll[ci])
        d_eta[ci] = -r * mc * a[ci, None]
        d_a[ci] = -r * mc
        return ll, dict(u=u, eta=d_eta, npl=d_npl, a=d_a, b=d_b)

    def evaluate(self, theta, grad: bool = False, posterior: bool = False):
        """Per-customer log-likelihood; with ``grad`` also the per-customer scores
        (customers × parameters); with ``posterior`` the frailty posterior mean / sd and
        the taker probability per customer."""
        model = self.model(theta)
        lam = self.hazards(model)
        G = self.cumulate(lam)
        n = len(self.paid)
        allrows = np.arange(n)
        ll0, d0 = self._invoice_terms(model, G, self.pat0, allrows, grad)
        S0 = np.add.reduceat(ll0, self.cust_start, axis=0)
        L0 = self.logw[None, :] + S0
        total0 = logsumexp(L0, axis=1)
        total = total0.copy()
        post0 = np.exp(L0 - total0[:, None])  # customer × node
        w1 = np.zeros(self.n_cust)
        has_disc = len(self.disc_rows) > 0
        if has_disc:
            rows = self.disc_rows
            ll1, d1 = self._invoice_terms(model, G, self.pat1, rows, grad)
            S1 = S0[self.disc_cust] + np.add.reduceat(ll1 - ll0[rows], self.disc_start, axis=0)
            L1 = self.logw[None, :] + S1
            t1 = logsumexp(L1, axis=1)
            q = _seg_array(model, "discount_taker_share")[self.cust_seg[self.disc_cust]]
            a1 = np.log(q) + t1
            a0 = np.log1p(-q) + total0[self.disc_cust]
            mix = np.logaddexp(a1, a0)
            total[self.disc_cust] = mix
            w1[self.disc_cust] = np.exp(a1 - mix)
            post1 = np.exp(L1 - t1[:, None])
        out = [total]
        if grad:
            out.append(self._scores(theta, model, lam, G, d0, d1 if has_disc else None, post0,
                                    post1 if has_disc else None, w1,
                                    q if has_disc else None))
        if posterior:
            seg = self.cust_seg
            u = (_seg_array(model, "frailty_mean")[seg][:, None]
                 + _seg_array(model, "frailty_sd")[seg][:, None] * self.z[None, :])
            w = post0.copy()
            taker_p = _seg_array(model, "discount_taker_share")[seg]
            if has_disc:
                dc = self.disc_cust
                w[dc] = (1 - w1[dc])[:, None] * post0[dc] + w1[dc][:, None] * post1
                taker_p = taker_p.copy()
                taker_p[dc] = w1[dc]
            mean = (w * u).sum(axis=1)
            var = np.maximum((w * u**2).sum(axis=1) - mean**2, 0.0)
            out += [mean, np.sqrt(var), taker_p]
        return out[0] if len(out) == 1 else tuple(out)

    def per_customer(self, theta):
        return self.evaluate(theta)

    def _scores(self, theta, model, lam, G, d0, d1, post0, post1, w1, q) -> np.ndarray:
        """Per-customer derivatives of the log-likelihood (customers × parameters)."""
        data = self.data
        n = len(self.paid)
        cust = data.cust
        # weight of each invoice × node term in its customer's log-likelihood
        W0 = post0[cust]
        if d1 is not None:
            dc = self.disc_cust
            mixw = np.ones(self.n_cust)
            mixw[dc] = 1 - w1[dc]
            W0 = W0 * mixw[cust][:, None]
            extra = np.zeros((self.n_cust, post0.shape[1]))
            extra[dc] = w1[dc][:, None] * post1
            rows = self.disc_rows
            nondisc = np.ones(n, dtype=bool)
            nondisc[rows] = False
            W0 = W0 + np.where(nondisc[:, None], extra[cust], 0.0)
            W1 = extra[cust[rows]]
        p = len(self.params)
        J = np.zeros((n, p))
        seg = data.seg
        sd = _seg_array(model, "frailty_sd")

        def fold(d, W):
            g = {k: (W * d[k]).sum(axis=1) for k in ("eta", "npl", "a", "b")}
            du = W * (d["eta"] - model.never_pay_frailty_effect * d["npl"])
            g["u"] = du.sum(axis=1)
            g["uz"] = (du * self.z[None, :]).sum(axis=1)
            g["nplu"] = -(W * d["npl"] * d["u"]).sum(axis=1)
            return g

        g0 = fold(d0, W0)
        g1 = fold(d1, W1) if d1 is not None else None

        def add(j, values0, values1=None):
            J[:, j] += values0
            if values1 is not None:
                J[self.disc_rows, j] += values1

        x = data.x
        beta_cols = {"beta_log_amount": 0, "beta_disputed": 1, "beta_payment_link": 2}
        for k, c in enumerate(INVOICE_CHANNELS[1:], start=3):
            beta_cols[f"beta_invoice_channel[{c}]"] = k
        rows1 = self.disc_rows
        for j, prm in enumerate(self.params):
            name = prm.name
            if name in beta_cols:
                k = beta_cols[name]
                add(j, g0["eta"] * x[:, k], g1["eta"] * x[rows1, k] if g1 else None)
            elif prm.field == "frailty_mean":
                s = SEGMENTS.index(prm.key)
                add(j, g0["u"] * (seg == s), g1["u"] * (seg[rows1] == s) if g1 else None)
            elif prm.field == "frailty_sd":
                s = SEGMENTS.index(prm.key)
                add(j, g0["uz"] * sd[s] * (seg == s),
                    g1["uz"] * sd[s] * (seg[rows1] == s) if g1 else None)
            elif prm.field == "never_pay_logit":
                s = SEGMENTS.index(prm.key)
                add(j, g0["npl"] * (seg == s), g1["npl"] * (seg[rows1] == s) if g1 else None)
            elif name == "never_pay_disputed":
                add(j, g0["npl"] * data.disputed,
                    g1["npl"] * data.disputed[rows1] if g1 else None)
            elif name == "never_pay_frailty_effect":
                add(j, g0["nplu"], g1["nplu"] if g1 else None)
        # hazard-curve parameters: forward differences of the curves
        base0 = None
        for j in self.curve_params:
            step = 1e-6
            up = np.array(theta, dtype=float)
            up[j] += step
            moved = self.model(up)
            if self.params[j].field in BASELINE_FIELDS:
                # every factor but λ0 is unchanged: rescale instead of recomputing
                if base0 is None:
                    base0 = self.baselines(model)
                lam_up = lam * (self.baselines(moved) / base0)
                dG = (self.cumulate(lam_up) - G) / step
            else:
                which = self._affected(j)
                dG = np.zeros_like(G)
                if len(which):
                    dG[which] = (self.cumulate(self.hazards(moved, which)) - G[which]) / step
            dA = dG[self.pat0, self.idx_a]
            dB = np.where(self.paid, dG[self.pat0, self.idx_b] - dA, 0.0)
            J[:, j] += g0["a"] * dA + g0["b"] * dB
            if g1 is not None:
                dA1 = dG[self.pat1[rows1], self.idx_a[rows1]]
                dB1 = np.where(self.paid[rows1], dG[self.pat1[rows1], self.idx_b[rows1]] - dA1,
                               0.0)
                J[rows1, j] += g1["a"] * dA1 + g1["b"] * dB1
        C = np.add.reduceat(J, self.cust_start, axis=0)
        if q is not None:
            for j, prm in enumerate(self.params):
                if prm.field == "discount_taker_share":
                    s = SEGMENTS.index(prm.key)
                    dc = self.disc_cust
                    sel = self.cust_seg[dc] == s
                    C[dc[sel], j] += w1[dc[sel]] - q[sel]
        return C


# ----------------------------------------------------------------------------- parameters
def _identifiable(data: HistoryData, prior: BehaviourModel, events_by_strategy):
    """Split the model's parameters into estimable ones and priors (with reasons)."""
    est: list[_Param] = []
    priors: dict[str, str] = {}
    s = data.strategies
    seg_names = sorted({SEGMENTS[i] for i in np.unique(data.seg)}, key=SEGMENTS.index)
    for f in ("pre_due_level", "pre_due_scale_days", "due_peak", "due_peak_width_days",
              "post_due_level", "post_due_decay_days"):
        est.append(_Param(f, f, None, "log"))
    x = data.x
    if np.std(x[:, 0]) > 1e-9:
        est.append(_Param("beta_log_amount", "beta_log_amount", None, "id"))
    else:
        priors["beta_log_amount"] = "every invoice has the same amount"
    for j, name in ((1, "beta_disputed"), (2, "beta_payment_link")):
        if 0 < x[:, j].sum() < len(x):
            est.append(_Param(name, name, None, "id"))
        else:
            priors[name] = "never varies in the history"
    chan = data.frame["channel"].astype(str)
    for c in INVOICE_CHANNELS[1:]:
        name = f"beta_invoice_channel[{c}]"
        if (chan == c).sum() >= 20 and (chan == "email").sum() >= 20:
            est.append(_Param(name, "beta_invoice_channel", c, "id"))
        else:
            priors[name] = "invoice channel (or the email reference) too rare in the history"
    ref_seg = "medium" if "medium" in seg_names else seg_names[0]
    for sg in SEGMENTS:
        if sg not in seg_names:
            for f in ("frailty_mean", "frailty_sd", "never_pay_logit"):
                priors[f"{f}[{sg}]"] = "no customer of this segment in the history"
            continue
        if sg != ref_seg:
            est.append(_Param(f"frailty_mean[{sg}]", "frailty_mean", sg, "id"))
        else:
            priors[f"frailty_mean[{sg}]"] = "reference segment (the baseline absorbs its level)"
        est.append(_Param(f"frailty_sd[{sg}]", "frailty_sd", sg, "log"))
        est.append(_Param(f"never_pay_logit[{sg}]", "never_pay_logit", sg, "id"))
    est.append(_Param("never_pay_frailty_effect", "never_pay_frailty_effect", None, "id"))
    if data.disputed.sum() >= 20:
        est.append(_Param("never_pay_disputed", "never_pay_disputed", None, "id"))
    else:
        priors["never_pay_disputed"] = "fewer than 20 disputed invoices"

    # reminders actually in force before each invoice's end: (tone, channel, pers, k)
    combos: set = set()
    used_segments: set = set()
    with_deadline = 0  # invoices still open when a reminder stating a deadline went out
    for code, st in enumerate(s.strategies):
        rows = s.code == code
        if not rows.any() or not st.reminders:
            continue
        ends = data.day[rows]
        due = data.terms[rows]
        for k, r in enumerate(st.reminders, start=1):
            reached = np.maximum(1, due + r.day) <= ends
            if reached.sum() < 20:
                continue
            if r.deadline_days is not None:
                with_deadline += int(reached.sum())
            combos.add((r.tone, r.channel, bool(r.personalised), k))
            used_segments |= {SEGMENTS[i] for i in np.unique(data.seg[rows][reached])}
    tones = {c[0] for c in combos}
    channels = {c[1] for c in combos}
    ref_chan = "email" if "email" in channels else (sorted(channels)[0] if channels else "email")
    # The amplitude of a reminder is tone × channel × (1 + lift)^pers × decay^(k-1): on the
    # log scale a linear model in indicator columns. A column joins the estimated set only
    # if it adds rank to the columns of the (tone, channel, pers, k) combinations used;
    # otherwise the history confounds it with others (e.g. the only personalised reminder
    # is also the only friendly one) and it keeps its prior.
    candidates = [(f"tone_effect[{t}]", "tone_effect", t, "log",
                   lambda c, t=t: float(c[0] == t)) for t in TONES if t in tones]
    candidates += [(f"channel_effect[{ch}]", "channel_effect", ch, "log",
                    lambda c, ch=ch: float(c[1] == ch))
                   for ch in REMINDER_CHANNELS if ch in channels and ch != ref_chan]
    candidates += [("later_reminder_decay", "later_reminder_decay", None, "log",
                    lambda c: float(c[3] - 1)),
                   ("personalisation_lift", "personalisation_lift", None, "log1p",
                    lambda c: float(c[2]))]
    rows_c = sorted(combos)
    kept: list = []
    for name, field, key, tr, col in candidates:
        trial = np.array([[f(c) for f in [k[4] for k in kept] + [col]] for c in rows_c])
        if len(rows_c) and np.linalg.matrix_rank(trial) > len(kept):
            kept.append((name, field, key, tr, col))
            est.append(_Param(name, field, key, tr))
        elif field == "tone_effect":
            priors[name] = "confounded with other reminder features in the history"
        elif field == "channel_effect":
            priors[name] = "confounded with other reminder features in the history"
        elif field == "later_reminder_decay":
            priors[name] = ("no invoice received a second reminder" if
                            all(c[3] == 1 for c in combos) else
                            "reminder order is confounded with tone / channel in the history")
        else:
            priors[name] = ("personalisation never varied" if
                            len({c[2] for c in combos}) < 2 else
                            "personalisation is confounded with tone / channel in the history")
    for tone in TONES:
        if tone not in tones:
            priors[f"tone_effect[{tone}]"] = "tone never used (or reached fewer than 20 invoices)"
    for ch in REMINDER_CHANNELS:
        name = f"channel_effect[{ch}]"
        if ch == ref_chan:
            priors[name] = "reference channel (tone effects are relative to it)"
        elif ch not in channels:
            priors[name] = "reminder channel never used"
    if not combos:
        priors["later_reminder_decay"] = "no reminders in the history"
        priors["personalisation_lift"] = "no reminders in the history"
    ref_resp = "medium" if "medium" in used_segments else (
        sorted(used_segments)[0] if used_segments else "medium")
    for sg in SEGMENTS:
        name = f"segment_response[{sg}]"
        if sg in used_segments and sg != ref_resp:
            est.append(_Param(name, "segment_response", sg, "log"))
        elif sg == ref_resp:
            priors[name] = "reference segment for reminder response"
        else:
            priors[name] = "segment never received reminders"
    if combos:
        est.append(_Param("pulse_decay_days", "pulse_decay_days", None, "log"))
    else:
        priors["pulse_decay_days"] = "no reminders in the history"
    if with_deadline >= MIN_DEADLINE_INVOICES:
        est.append(_Param("deadline_effect", "deadline_effect", None, "log"))
    else:
        priors["deadline_effect"] = (
            "no reminder in the history stated a payment deadline (the reminders table has "
            "no deadline_days, or strategies of the history without deadlines)"
            if with_deadline == 0 else
            f"only {with_deadline} invoices received a reminder stating a payment deadline "
            f"(need {MIN_DEADLINE_INVOICES})")
    for f in ("deadline_rise_days", "deadline_fade_days"):
        priors[f] = "the shape of a deadline's effect is not estimated (assumption)"
    disc_segs = {SEGMENTS[i] for i in np.unique(data.seg[
        np.array([st.discount is not None for st in s.strategies])[s.code]])}
    if disc_segs:
        est.append(_Param("discount_boost_per_point", "discount_boost_per_point", None, "log"))
    else:
        priors["discount_boost_per_point"] = "no discount offered in the history (or offers " \
            "unknown: pass the strategies of the history)"
    for sg in SEGMENTS:
        name = f"discount_taker_share[{sg}]"
        if sg in disc_segs:
            est.append(_Param(name, "discount_taker_share", sg, "logit"))
        else:
            priors[name] = "no discount offered to this segment in the history"
    if any(st.late_fee_rate for st in s.strategies):
        est.append(_Param("fee_sensitivity", "fee_sensitivity", None, "log"))
    else:
        priors["fee_sensitivity"] = "no late fee charged in the history"
    for f, why in (("installment_accept_defaulter", "installment uptake is not estimated"),
                   ("installment_accept_payer", "installment uptake is not estimated"),
                   ("installment_first_delay_days", "installment timing is not estimated"),
                   ("split_payment_share", "partial payments do not change time to full "
                    "payment"),
                   ("churn_unneeded_reminder", "needs each invoice's counterfactual "
                    "payment day, never observed"),
                   ("unneeded_window_days", "definition, not estimated"),
                   ("distress_share", "distress episodes are not modelled by the twin"),
                   ("distress_frailty_shift", "distress episodes are not modelled by the twin"),
                   ("distress_never_pay_shift", "distress episodes are not modelled by the "
                    "twin"),
                   ("distress_churn_multiplier", "distress episodes are not modelled by the "
                    "twin")):
        priors[f] = why
    return est, priors


# ----------------------------------------------------------------------------- churn
def _fit_churn(data: HistoryData, portfolio: Portfolio, gap_days: int,
               prior: BehaviourModel):
    """Churn per invoice, ``p = base[segment] · exp(b_firm · firm reminders + b_esc ·
    escalated)``, as a Poisson GLM with log link (statsmodels), errors clustered by customer.

    A customer with no invoice in the last ``gap_days`` before the history's last issue
    date stopped buying. The model's churn happens when an invoice ends, so the churning
    invoice is one that ended between the customer's last issue date and the next monthly
    invoice it did not get; when several did, the event is shared among them in proportion
    to their fitted churn probability (a few EM steps). Invoices too recent to tell are
    left out. Returns ``(estimates, priors)``: name → (value, se, transform, coef, coef se)
    and name → reason."""
    import statsmodels.api as sm

    f = data.frame
    cutoff = f["issue_date"].max() - pd.Timedelta(days=gap_days)
    last_issue = f.groupby("customer_id")["issue_date"].transform("max")
    stopped = (last_issue <= cutoff).to_numpy()
    end = f["end_date"]
    candidate = (stopped & (end >= last_issue) & (end <= last_issue + pd.Timedelta(days=31))
                 ).to_numpy()
    is_last = (f["issue_date"] == last_issue).to_numpy()
    cust = f["customer_id"].to_numpy()
    has_candidate = pd.Series(candidate).groupby(cust).transform("any").to_numpy()
    candidate |= stopped & is_last & ~has_candidate
    known = (end <= cutoff + pd.Timedelta(days=31)).to_numpy() | candidate
    rem = portfolio.reminders
    n_firm = np.zeros(len(f))
    if rem is not None and len(rem):
        pos = pd.Index(f["invoice_id"]).get_indexer(rem["invoice_id"])
        ok = (pos >= 0) & rem["tone"].isin(FIRM_TONES).to_numpy()
        ok &= rem["sent_at"].to_numpy() < end.to_numpy()[np.maximum(pos, 0)]
        n_firm = np.bincount(pos[ok], minlength=len(f)).astype(float)
    seg = f["segment"].to_numpy()
    cols = {f"churn_base[{s}]": (seg == s).astype(float) for s in SEGMENTS if (seg == s).any()}
    cols["churn_firm_reminder"] = n_firm
    cols["churn_escalated"] = (f["outcome"] == "escalated").to_numpy(dtype=float)
    X = pd.DataFrame(cols).loc[known].reset_index(drop=True)
    estimates, priors = {}, {}
    n_events = int(stopped[is_last].sum())
    if n_events < 10:
        for c in cols:
            priors[c] = f"only {n_events} customers stopped buying in the history"
        return estimates, priors
    # a segment with few customers who stopped keeps its prior base rate (as an offset)
    seg_known = seg[known]
    stopped_seg = pd.Series(stopped[is_last], index=seg[is_last]).groupby(level=0).sum()
    offset = np.zeros(len(X))
    prior_base = prior.churn_base
    for s_ in SEGMENTS:
        c = f"churn_base[{s_}]"
        if c in X and stopped_seg.get(s_, 0) < 5:
            priors[c] = f"only {int(stopped_seg.get(s_, 0))} customers of this segment " \
                "stopped buying"
            offset[seg_known == s_] = np.log(prior_base[s_])
            X = X.drop(columns=c)
    keep = [c for c in X if c.startswith("churn_base[") or X[c].std() > 0]
    for c in X:
        if c not in keep:
            priors[c] = "does not vary in the history"
    X = X[keep]
    cand = candidate[known]
    groups = pd.factorize(cust[known])[0]
    share = np.where(cand, 1.0, 0.0)
    share = share / np.maximum(pd.Series(share).groupby(groups).transform("sum").to_numpy(),
                               1.0)
    y = share
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(4):
            res = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit()
            p = np.where(cand, np.asarray(res.fittedvalues), 0.0)
            tot = pd.Series(p).groupby(groups).transform("sum").to_numpy()
            y = np.where(cand, p / np.where(tot > 0, tot, 1.0), 0.0)
        res = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(
            cov_type="cluster", cov_kwds={"groups": groups})
    for name, b, se in zip(X.columns, res.params, res.bse, strict=True):
        if name.startswith("churn_base["):
            estimates[name] = (float(np.exp(b)), float(np.exp(b) * se), "log", b, se)
        else:
            estimates[name] = (float(b), float(se), "id", b, se)
    return estimates, priors


# ----------------------------------------------------------------------------- optimiser
def _maximise(lik: _Likelihood, theta0: np.ndarray, maxiter: int) -> optimize.OptimizeResult:
    """Maximise the log-likelihood by BHHH steps (Newton with the outer product of the
    per-customer scores as the information, with step halving), then polish with L-BFGS
    if BHHH stalls. BHHH needs one likelihood-and-score evaluation per step and, from the
    documented defaults, converges in a few tens of steps where L-BFGS needs hundreds."""
    n = lik.n_cust

    def ev(theta):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            ll, scores = lik.evaluate(theta, grad=True)
        total = float(ll.sum())
        return (total if np.isfinite(total) else -np.inf), scores

    theta = theta0.copy()
    ll, scores = ev(theta)
    nfev, converged, it = 1, False, 0
    while it < maxiter:
        it += 1
        g = scores.sum(axis=0)
        info = scores.T @ scores
        ridge = 1e-8 * np.trace(info) / len(theta)
        step = np.linalg.solve(info + ridge * np.eye(len(theta)), g)
        decrement = float(g @ step)
        if decrement < 1e-7 * n:
            converged = True
            break
        t = 1.0
        while t > 1e-4:
            cand = theta + t * np.clip(step, -2.0, 2.0)
            ll_new, sc_new = ev(cand)
            nfev += 1
            if ll_new > ll:
                break
            t /= 2
        if t <= 1e-4:
            break
        theta, ll, scores = cand, ll_new, sc_new
    if not converged:

        def objective(x):
            v, sc = ev(x)
            if not np.isfinite(v):
                return 1e10, np.zeros_like(x)
            return -v / n, -sc.sum(axis=0) / n

        res = optimize.minimize(objective, theta, jac=True, method="L-BFGS-B",
                                options={"maxiter": maxiter})
        res.nfev += nfev
        res.nit += it
        return res
    return optimize.OptimizeResult(x=theta, fun=-ll / n, nit=it, nfev=nfev, success=True,
                                   message="BHHH converged (Newton decrement below 1e-7 "
                                           "per customer)")


# ----------------------------------------------------------------------------- identification
#: Reason prefixes of the parameters the information check keeps at their prior.
NOT_IDENTIFIED = "not identified"
AT_BOUND = "not identified: at a bound"


def identification(info: np.ndarray, theta, theta0, names) -> dict[int, str]:
    """Parameters (positions) the history does not identify, with the reason, from the
    information matrix ``info`` (transformed scale) at the estimate ``theta``.

    In order: a parameter the optimiser moved more than :data:`BOUND_SPAN` from its prior
    ``theta0`` (or to a non-finite value) is at a bound; one with no information (a zero
    diagonal) or whose direction lies in the near-null eigenspace of the correlation-scaled
    information (eigenvalues below the largest / :data:`MAX_CONDITION`: the history only
    moves a combination of parameters) is confounded; and one whose profile log-likelihood
    (quadratic approximation, the others re-maximised) falls by less than
    :data:`PROFILE_DROP` within :data:`PLAUSIBLE_SPAN` is flat.

    Parameters ``a`` and ``b`` below only move together (the history identifies ``2a + b``,
    so one of them keeps its prior and the other is then identified), and ``c`` carries
    almost no information:

    >>> info = np.array([[4.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1e-3]])
    >>> for j, why in identification(info, [0.0, 0.1, 0.2], [0.0] * 3, list("abc")).items():
    ...     print(j, why[:40])
    0 not identified: confounded (near-null di
    2 not identified: flat profile (log-likeli
    >>> identification(np.diag([50.0, 80.0]), [0.3, 9.0], [0.0, 0.0], ["a", "b"])
    {1: 'not identified: at a bound (moved 9.0 from its prior on the transformed scale)'}
    """
    theta = np.asarray(theta, dtype=float)
    theta0 = np.asarray(theta0, dtype=float)
    info = np.asarray(info, dtype=float)
    out: dict[int, str] = {}
    for j in range(len(theta)):
        moved = theta[j] - theta0[j]
        if not np.isfinite(moved) or abs(moved) > BOUND_SPAN:
            out[j] = f"{AT_BOUND} (moved {abs(moved):.1f} from its prior on the transformed " \
                "scale)" if np.isfinite(moved) else f"{AT_BOUND} (non-finite estimate)"
    if not np.all(np.isfinite(info)):
        bad = ~np.isfinite(info).all(axis=0)
        for j in np.flatnonzero(bad):
            out.setdefault(int(j), f"{NOT_IDENTIFIED}: non-finite information")
    diag = np.where(np.isfinite(np.diag(info)), np.diag(info), 0.0)
    scale = max(float(diag.max(initial=0.0)), 1e-300)
    for j in np.flatnonzero(diag <= 1e-10 * scale):
        out.setdefault(int(j), f"{NOT_IDENTIFIED}: the history holds no information on it")
    keep = [j for j in range(len(theta)) if j not in out]
    while keep:
        sub = info[np.ix_(keep, keep)]
        d = 1.0 / np.sqrt(np.diag(sub))
        vals, vecs = np.linalg.eigh(sub * d[:, None] * d[None, :])
        near = vals < vals.max() / MAX_CONDITION
        if not near.any():
            break
        v = vecs[:, np.flatnonzero(near)[0]]
        load = v**2
        worst = int(np.argmax(load))
        partners = [names[keep[i]] for i in np.argsort(-load) if i != worst and load[i] > 0.05]
        out[keep[worst]] = (f"{NOT_IDENTIFIED}: confounded (near-null direction of the "
                            "information)" + (f" with {', '.join(partners[:3])}" if partners
                                              else ""))
        keep.remove(keep[worst])
    if keep:
        sub = info[np.ix_(keep, keep)]
        try:
            var = np.diag(np.linalg.inv(sub))
        except np.linalg.LinAlgError:
            var = np.diag(np.linalg.pinv(sub))
        for i, j in enumerate(keep):
            if not var[i] > 0 or PLAUSIBLE_SPAN**2 / (2 * var[i]) < PROFILE_DROP:
                out[j] = (f"{NOT_IDENTIFIED}: flat profile (log-likelihood moves less than "
                          f"{PROFILE_DROP} over a factor of {math.exp(PLAUSIBLE_SPAN):.0f})")
    return dict(sorted(out.items()))


# ----------------------------------------------------------------------------- estimator
class Calibration(ResultMixin):
    """Fit the behaviour model to a portfolio's history (see module docstring).

    Args:
        prior (BehaviourModel): Documented defaults used as starting values and for every parameter the history
            cannot identify.
        nodes (int): Gauss–Hermite nodes for the frailty integral.
        amount_reference (dict, optional): Currency → reference amount: amounts enter as ``log(amount / reference)``. Default
            the median invoice of each currency (the baseline level then refers to it). The
            simulator's parametrisation is ``1000 USD`` converted to each currency.
        churn_gap_days (int): A customer without any invoice in the last ``churn_gap_days`` before ``as_of``
            counts as having stopped buying (for the churn fit).

    Fitted attributes:
        model_ (BehaviourModel): Prior with every identifiable parameter replaced by its estimate.
        params_ (DataFrame): Per parameter: estimate, se, ci_low, ci_high, prior, source ("estimated" or
            "prior"), note (why a prior is used). A prior's interval is the prior's own
            (:data:`PRIOR_SD`) when the information check demoted it, else empty.
        not_identified_ (dict): Parameters the information matrix at the estimate did not identify
            (:func:`identification`), name → reason; kept at their prior (or, pushed to a
            bound, at the edge of their plausible range) and listed in :attr:`priors_`.
        experiment_identified_ (dict): Estimated parameters that only the experiment in the
            history identifies (the arms' randomised tones, reminder counts and discounts),
            name → arms; the ``identified_by`` column of :attr:`params_` says
            ``"experiment"`` for them, ``"history"`` for the other estimates
            (:func:`experiment_identified`).
        customers_ (DataFrame): Per customer: posterior frailty mean and sd, probability of being a discount taker.
        history_ (HistoryData): The prepared history (for the twin and its check).
        current_strategy_ (Strategy): Business as usual: ``default`` if given, else inferred from the reminders.

    Example:
        >>> sim = cl.simulate(60, cl.example_strategies()["nudge_then_firm"], seed=1,
        ...                   end="2025-04-30", progress=False)
        >>> calibration = cl.Calibration(nodes=4, maxiter=30).fit(sim.snapshot("2025-07-31"))
        >>> calibration.params_.loc[calibration.params_["source"] == "estimated"].shape[0] > 5
        True
    """

    title = "Behaviour model calibration"

    def __init__(self, prior: BehaviourModel | None = None, nodes: int = 12,
                 churn_gap_days: int = 62, maxiter: int = 200,
                 amount_reference: dict | None = None):
        self.prior = prior or BehaviourModel()
        self.nodes = nodes
        self.churn_gap_days = churn_gap_days
        self.maxiter = maxiter
        self.amount_reference = amount_reference

    def fit(self, portfolio: Portfolio, as_of=None, arms: dict[str, Strategy] | None = None,
            default: Strategy | None = None, reminders: str = "recorded") -> Calibration:
        """Calibrate on ``portfolio`` as of ``as_of``.

        ``arms`` (experiment arm name → Strategy) and ``default`` (the strategy of every
        other invoice) say what each invoice was under; without them the reminders say
        it (``reminders="recorded"``: each invoice's own; ``"inferred"``: each experiment
        arm's schedule, see :func:`~collections_lab.lab.history.invoice_strategies`) and
        discounts / fees are unknown (kept at priors).
        """
        data = prepare_history(portfolio, as_of, arms, default, self.prior.horizon_days,
                               self.amount_reference, reminders)
        params, priors = _identifiable(data, self.prior, None)
        n = len(data.paid)
        # Fit, then keep at their prior the parameters the information matrix at the
        # estimate does not identify, and refit the rest (a few rounds at most: each
        # round conditions on the previous round's priors).
        base = self.prior
        self.not_identified_ = {}
        self._demoted: dict[str, _Param] = {}
        for _round in range(4):
            lik = _Likelihood(data, base, params, self.nodes)
            theta0 = np.array([_forward(_value(self.prior, p), p.transform) for p in params])
            res = _maximise(lik, theta0, self.maxiter)
            theta = res.x
            info = self._information(lik, theta)
            bad = identification(info, theta, theta0, [p.name for p in params])
            if not bad or _round == 3:
                break
            edges = []
            for j, why in bad.items():
                priors[params[j].name] = why
                self.not_identified_[params[j].name] = why
                self._demoted[params[j].name] = params[j]
                if why.startswith(AT_BOUND) and np.isfinite(theta[j]):
                    # the history pushes it out of its plausible range: keep it at the
                    # range's edge on that side rather than at a value the data reject
                    edges.append((params[j], theta0[j] + math.copysign(BOUND_SPAN,
                                                                       theta[j] - theta0[j])))
            if edges:
                base = model_with(base, [e[0] for e in edges], [e[1] for e in edges])
            params = [p for j, p in enumerate(params) if j not in bad]
        self.base_model_ = base
        cov = _inverse(info)
        loglik, u_mean, u_sd, taker = lik.evaluate(theta, posterior=True)
        self.history_ = data
        self.inputs_ = dict(arms=arms, default=default, reminders=reminders)
        if default is not None:
            self.current_strategy_ = default
        else:
            from .history import infer_strategy

            self.current_strategy_ = infer_strategy(portfolio)
        self.optimizer_ = res
        self.loglik_ = float(loglik.sum())
        self.theta_ = theta
        self.cov_ = cov
        self.estimated_ = params
        model = lik.model(theta)
        churn_est, churn_priors = _fit_churn(data, portfolio, self.churn_gap_days,
                                                 self.prior)
        changes = {}
        for name, (value, *_rest) in churn_est.items():
            if name.startswith("churn_base["):
                changes.setdefault("churn_base", dict(model.churn_base))[name[11:-1]] = value
            else:
                changes[name] = value
        self.model_ = model.with_params(**changes) if changes else model
        self.churn_ = churn_est
        priors.update(churn_priors)
        self.priors_ = priors
        self.params_ = self._table(params, theta, cov, churn_est, priors)
        estimated = list(self.params_.index[self.params_["source"] == "estimated"])
        self.experiment_identified_ = experiment_identified(data, portfolio, self.prior,
                                                            estimated)
        self.params_["identified_by"] = [
            "experiment" if name in self.experiment_identified_ else
            ("history" if source == "estimated" else "")
            for name, source in zip(self.params_.index, self.params_["source"], strict=True)]
        self.customers_ = pd.DataFrame({
            "customer_id": data.customer_ids,
            "segment": np.array(SEGMENTS, dtype=object)[lik.cust_seg],
            "frailty_mean": u_mean, "frailty_sd": u_sd, "taker_probability": taker,
            "n_invoices": np.diff(np.r_[lik.cust_start, n]),
        })
        return self

    @staticmethod
    def _information(lik: _Likelihood, theta) -> np.ndarray:
        """BHHH information: the sum of outer products of per-customer scores."""
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            _, scores = lik.evaluate(theta, grad=True)
        return scores.T @ scores

    def _table(self, params, theta, cov, churn_est, priors) -> pd.DataFrame:
        rows = []
        z = 1.959963984540054
        se_t = np.sqrt(np.maximum(np.diag(cov), 0.0))
        for p, th, s in zip(params, theta, se_t, strict=True):
            value = float(_backward(th, p.transform))
            d = float(_derivative(th, p.transform))
            lo, hi = (float(_backward(th - z * s, p.transform)),
                      float(_backward(th + z * s, p.transform)))
            rows.append(dict(parameter=p.name, estimate=value, se=abs(d) * s, ci_low=lo,
                             ci_high=hi, prior=_value(self.prior, p), source="estimated",
                             note=""))
        for name, (value, se, tr, b, sb) in churn_est.items():
            lo, hi = (np.exp(b - z * sb), np.exp(b + z * sb)) if tr == "log" else \
                (b - z * sb, b + z * sb)
            field, key = parameter_key(name)
            prior = getattr(self.prior, field)
            rows.append(dict(parameter=name, estimate=value, se=se, ci_low=float(lo),
                             ci_high=float(hi), prior=prior[key] if key else prior,
                             source="estimated", note="churn GLM"))
        spread = self._prior_spread()
        for name, why in priors.items():
            field, key = parameter_key(name)
            prior = getattr(self.prior, field)
            value = prior[key] if key else prior
            used = getattr(self.base_model_, field)
            used = used[key] if key else used
            se = lo = hi = np.nan
            if name in spread:  # uncertainty from the prior, never from the estimate
                p, t0 = spread[name]
                lo, hi = (float(_backward(t0 - z * PRIOR_SD, p.transform)),
                          float(_backward(t0 + z * PRIOR_SD, p.transform)))
                se = abs(float(_derivative(t0, p.transform))) * PRIOR_SD
            rows.append(dict(parameter=name, estimate=used, se=se, ci_low=lo,
                             ci_high=hi, prior=value, source="prior", note=why))
        return pd.DataFrame(rows).set_index("parameter")

    # ------------------------------------------------------------------ results
    def to_frame(self) -> pd.DataFrame:
        return self.params_

    def sample_models(self, n: int, seed: int = 0) -> list[BehaviourModel]:
        """``n`` models with the estimated parameters drawn from their asymptotic normal
        distribution (transformed scale): parameter uncertainty for the twin."""
        rng = np.random.default_rng(np.random.SeedSequence([seed, 31]))
        cov = (self.cov_ + self.cov_.T) / 2
        vals, vecs = np.linalg.eigh(cov)
        root = vecs * np.sqrt(np.maximum(vals, 0.0))
        spread = self._prior_spread()
        prior_params = [p for p, _ in spread.values()]
        prior_theta = np.array([t0 for _, t0 in spread.values()])
        prior_rng = np.random.default_rng(np.random.SeedSequence([seed, 37]))
        out = []
        for _ in range(n):
            theta = self.theta_ + root @ rng.standard_normal(len(self.theta_))
            model = model_with(self.model_, self.estimated_, theta)
            if prior_params:
                drawn = prior_theta + PRIOR_SD * prior_rng.standard_normal(len(prior_theta))
                model = model_with(model, prior_params, drawn)
            out.append(model)
        return out

    def _prior_spread(self) -> dict:
        """Parameters the information check kept at their prior (not those at a bound):
        name → (parameter, prior on the transformed scale); their draws come from
        ``Normal(prior, PRIOR_SD)`` on that scale."""
        out = {}
        for name, why in getattr(self, "not_identified_", {}).items():
            if why.startswith(AT_BOUND):
                continue
            p = self._demoted[name]
            out[name] = (p, _forward(_value(self.prior, p), p.transform))
        return out

    def unidentified(self) -> pd.DataFrame:
        """Parameters kept at their prior, with the reason."""
        p = self.params_
        return p.loc[p["source"] == "prior", ["estimate", "note"]]

    def not_learned(self) -> list[str]:
        """Parameters of the behaviour model that the history did not teach (kept at their
        documented prior, or at the edge of their range when the history pushes them
        there), in table order: every prior but normalisations, definitions and the
        parts of the model the twin does not use. The calibration's and the
        recommendation's statements about what could not be learned come from this list
        (via :attr:`priors_`)."""
        from .priors import NOT_ASSUMPTIONS, NOT_TWIN

        return [name for name, why in self.priors_.items()
                if not str(why).startswith(NOT_ASSUMPTIONS)
                and parameter_key(name)[0] not in NOT_TWIN]

    def summary(self, lang: str | None = None) -> str:
        from .priors import prior_labels as labels

        p = self.params_
        n_est = int((p["source"] == "estimated").sum())
        n_prior = int((p["source"] == "prior").sum())
        info = list(self.not_identified_)
        n = len(self.history_.paid)

        missing = [x for x in self.not_learned() if x not in info]
        text = t("lab.calibration_summary", lang, n=format_number(n, 0, lang), estimated=n_est,
                 prior=n_prior)
        if info:
            text += t("lab.calibration_unidentified", lang, k=len(info), labels=labels(info, lang))
        if missing:
            text += t("lab.calibration_not_learned", lang, labels=labels(missing, lang))
        by_experiment = list(getattr(self, "experiment_identified_", {}))
        if by_experiment:
            text += t("lab.calibration_experiment", lang, k=len(by_experiment),
                      labels=labels(by_experiment, lang))
        return text


def _inverse(info: np.ndarray) -> np.ndarray:
    """Covariance from an information matrix (pseudo-inverse if singular)."""
    if not info.size:
        return info.copy()
    try:
        return np.linalg.inv(info)
    except np.linalg.LinAlgError:
        return np.linalg.pinv(info)


def _value(model: BehaviourModel, p: _Param) -> float:
    v = getattr(model, p.field)
    return float(v[p.key] if p.key is not None else v)


def _derivative(theta: float, transform: str) -> float:
    if transform in ("log", "log1p"):
        return math.exp(theta)
    if transform == "logit":
        e = expit(theta)
        return e * (1 - e)
    return 1.0


def parameter_key(name: str) -> tuple[str, str | None]:
    """Split a calibration parameter's name ``field[key]`` into ``(field, key)``.

    >>> parameter_key("frailty_mean[small]")
    ('frailty_mean', 'small')
    >>> parameter_key("pulse_decay_days")
    ('pulse_decay_days', None)
    """
    if "[" in name:
        field, key = name[:-1].split("[", 1)
        return field, key
    return name, None


def recovery_table(calibration: Calibration, truth: BehaviourModel) -> pd.DataFrame:
    """Estimated parameters beside the true ones (simulated history): ``covered`` says
    whether the 95 % interval holds the truth, ``z`` the error in standard errors."""
    p = calibration.params_
    p = p.loc[p["source"] == "estimated"].copy()
    true = []
    for name in p.index:
        field, key = parameter_key(name)
        v = getattr(truth, field)
        true.append(float(v[key] if key else v))
    p["true"] = true
    p["covered"] = (p["ci_low"] <= p["true"]) & (p["true"] <= p["ci_high"])
    p["z"] = (p["estimate"] - p["true"]) / p["se"]
    return p[["estimate", "se", "ci_low", "ci_high", "true", "covered", "z", "note"]]


__all__ = ["Calibration", "CalibrationError", "experiment_identified", "prepare_history",
           "recovery_table", "invoice_covariates", "linear_predictor", "subset_history"]
