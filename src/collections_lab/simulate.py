"""Simulate a receivables portfolio under a strategy or an experiment, with known truth.

:func:`simulate` generates (or takes) customers, issues them monthly invoices, lets them
pay according to :class:`~collections_lab.behaviour.BehaviourModel` under the strategy of
their arm, and returns exactly the five tables a real export gives, plus a
:class:`Truth` record (parameters, every customer's latent traits, distress episodes,
churn dates and the true per-arm effects computed from the model itself).

How the draw works (and why it is fast): every factor of the daily hazard except the
invoice's multiplier ``m_i`` is shared by all invoices with the same arm, segment, terms
and discount-taking trait, so their cumulative hazard is ``m_i · G(t)``. The payment day is
the first ``t`` with ``m_i · G(t) >= E_i``, ``E_i ~ Exp(1)`` — exactly the day-by-day
Bernoulli process ``hazard = 1 - exp(-λ)``, found by one binary search per invoice instead
of evaluating every day of every invoice. Random numbers come in fixed blocks of
``BLOCK`` invoices, each from its own seed, so results do not depend on ``chunk_size``.

Example
-------
>>> from collections_lab.strategies import example_strategies
>>> sim = simulate(200, example_strategies()["nudge_then_firm"], seed=7,
...                start="2025-01-01", end="2025-06-30")
>>> frame = sim.portfolio.payment_times(as_of="2025-07-31")
>>> frame["outcome"].value_counts().index.tolist()
['paid', 'escalated', 'open']
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import ndtri

from .assignment import Experiment, assign
from .behaviour import SEGMENTS, BehaviourModel
from .i18n import ResultMixin
from .portfolio_model import Portfolio
from .schema import INVOICE_CHANNELS, PAYMENT_METHODS, REMINDER_CHANNELS, TONES
from .strategies import Strategy

#: Invoices per block of random numbers (results are identical for any chunk size).
BLOCK = 1 << 16
#: Uniform draws per invoice: exp. threshold, never-payer, installment, split (3), churn,
#: amount, disputed, payment link, agency recovery (2).
N_UNIFORMS = 12

COUNTRIES = {"CO": "COP", "MX": "MXN", "ES": "EUR", "US": "USD"}
COUNTRY_SHARE = {"CO": 0.35, "MX": 0.30, "ES": 0.20, "US": 0.15}
#: Local currency units per USD, to give amounts realistic magnitudes.
FX_PER_USD = {"COP": 4000.0, "MXN": 18.0, "EUR": 0.92, "USD": 1.0}
SEGMENT_SHARE = {"small": 0.5, "medium": 0.3, "large": 0.12, "public": 0.08}
#: Typical invoice amount in USD by segment (log-normal around it).
SEGMENT_AMOUNT_USD = {"small": 800.0, "medium": 4000.0, "large": 20000.0, "public": 12000.0}
TERMS_CHOICES = np.array([15, 30, 45, 60])
TERMS_PROBS = {
    "small": [0.25, 0.6, 0.1, 0.05],
    "medium": [0.1, 0.6, 0.2, 0.1],
    "large": [0.0, 0.4, 0.3, 0.3],
    "public": [0.0, 0.3, 0.3, 0.4],
}
FIRM_TONES = ("firm", "final")
#: True effects are computed on at most this many invoices of the experiment period
#: (the first ones; customers are generated at random, so they are a random sample).
TRUTH_MAX_INVOICES = 100_000


@dataclass
class Truth(ResultMixin):
    """What the simulator knows and an analysis must recover.

    Attributes
    ----------
    model : dict
        The behaviour model's parameters.
    strategies : dict
        Each arm's strategy as a dict.
    customers : DataFrame
        customer_id, segment, frailty (u), discount_taker, distress_start (NaT if none),
        churned_at (NaT if never).
    invoices : DataFrame
        invoice_id, arm, never_payer, multiplier (m_i), counterfactual_day (payment day since
        issue under no strategy at all, -1 if never).
    arm_effects : DataFrame
        Per arm, expected over the model's randomness for this population of invoices:
        ``p_paid_by_due``, ``p_paid_by_due_15``, ``p_paid_by_due_30`` (probability paid
        in full by due + d days), ``rmst_60/90/120`` (restricted mean days to payment
        since issue, unpaid counted as not yet paid), ``escalation_rate``, and ``method``
        (``analytic`` or ``monte_carlo``).
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

    def effect(self, metric: str, arm: str, control: str | None = None) -> float:
        """True difference arm − control for a metric of :attr:`arm_effects`."""
        control = control or self.control
        table = self.arm_effects.set_index("arm")
        return float(table.loc[arm, metric] - table.loc[control, metric])


@dataclass
class SimulationResult(ResultMixin):
    """The five tables of a simulated portfolio plus its :class:`Truth`."""

    customers: pd.DataFrame
    invoices: pd.DataFrame
    reminders: pd.DataFrame
    payments: pd.DataFrame
    assignments: pd.DataFrame
    truth: Truth
    experiment: Experiment | None = None
    title = "Simulated portfolio"

    @property
    def portfolio(self) -> Portfolio:
        return Portfolio(self.customers, self.invoices, self.reminders, self.payments,
                         self.assignments, source="simulation")

    def to_frame(self) -> pd.DataFrame:
        return self.portfolio.summary()

    def snapshot(self, as_of) -> Portfolio:
        """The portfolio as an export taken on ``as_of`` would show it.

        Invoices issued after ``as_of`` and payments, reminders, escalations and write-offs
        dated after it have not happened yet on that date, so they are not in the export.
        """
        as_of = pd.Timestamp(as_of).normalize()
        inv = self.invoices.loc[self.invoices["issue_date"] <= as_of].copy()
        for col in ("escalated_at", "written_off_at"):
            inv[col] = inv[col].where(inv[col] <= as_of)
        known = set(inv["invoice_id"])
        rem = self.reminders.loc[(self.reminders["sent_at"] <= as_of)
                                 & self.reminders["invoice_id"].isin(known)]
        pay = self.payments.loc[(self.payments["paid_at"] <= as_of)
                                & self.payments["invoice_id"].isin(known)]
        asg = self.assignments
        if len(asg):
            asg = asg.loc[asg["assigned_at"] <= as_of]
        return Portfolio(self.customers, inv.reset_index(drop=True), rem.reset_index(drop=True),
                         pay.reset_index(drop=True), asg.reset_index(drop=True),
                         source=f"simulation, exported {as_of.date()}")


# --------------------------------------------------------------------------- population
def generate_customers(n: int, seed: int = 0, start="2025-01-01") -> pd.DataFrame:
    """A customers table of ``n`` synthetic customers (segments, countries, currencies).

    >>> generate_customers(3, seed=1).columns.tolist()
    ['customer_id', 'segment', 'country', 'currency', 'created_at', 'name']
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    segs = rng.choice(list(SEGMENT_SHARE), size=n, p=list(SEGMENT_SHARE.values()))
    countries = rng.choice(list(COUNTRY_SHARE), size=n, p=list(COUNTRY_SHARE.values()))
    created = pd.Timestamp(start) - pd.to_timedelta(rng.integers(30, 3000, size=n), unit="D")
    ids = _ids("C", n, width=max(5, len(str(n))))
    return pd.DataFrame(
        {
            "customer_id": ids,
            "segment": segs.astype(object),
            "country": countries.astype(object),
            "currency": pd.Series(countries).map(COUNTRIES).to_numpy(dtype=object),
            "created_at": created.normalize(),
            "name": np.char.add("Cliente ", ids.astype(str)).astype(object),
        }
    )


# --------------------------------------------------------------------------- randomness
def _uniforms(seed: int, lo: int, hi: int) -> np.ndarray:
    """Uniform draws (N_UNIFORMS × (hi-lo)) for invoices lo..hi-1, chunk-independent."""
    out = np.empty((N_UNIFORMS, hi - lo))
    b0, b1 = lo // BLOCK, (hi - 1) // BLOCK
    for b in range(b0, b1 + 1):
        block = np.random.default_rng(np.random.SeedSequence([seed, 2, b])).random(
            (N_UNIFORMS, BLOCK)
        )
        s, e = max(lo, b * BLOCK), min(hi, (b + 1) * BLOCK)
        out[:, s - lo : e - lo] = block[:, s - b * BLOCK : e - b * BLOCK]
    return out


# --------------------------------------------------------------------------- hazard curves
def _reminder_days(strategy: Strategy, terms: int, horizon: int) -> list[tuple[int, object]]:
    """(day since issue, reminder) for reminders that fall inside [1, horizon)."""
    out = []
    for r in strategy.reminders:
        day = max(1, terms + r.day)
        if day < horizon and all(day != d for d, _ in out):
            out.append((day, r))
    return out


def _escalation_day(strategy: Strategy, terms: int, horizon: int) -> int:
    if strategy.escalation_day is None:
        return horizon
    return min(horizon, terms + strategy.escalation_day)


def _hazard_curve(model: BehaviourModel, strategy: Strategy | None, segment: str, terms: int,
                  taker: bool) -> np.ndarray:
    """Daily λ (without the invoice multiplier) for days 0..horizon-1."""
    h = model.horizon_days
    t = np.arange(h, dtype=float)
    lam = model.baseline(t, terms)
    if strategy is None:
        return lam
    for k, (day, r) in enumerate(_reminder_days(strategy, terms, h), start=1):
        a = model.pulse_amplitude(r.tone, r.channel, segment, r.personalised, k)
        after = t >= day
        lam = lam * np.where(after, 1 + a * np.exp(-(t - day) / model.pulse_decay_days), 1.0)
    if strategy.discount is not None and taker:
        lam = lam * np.where(t <= strategy.discount.within_days,
                             model.discount_multiplier(strategy.discount.rate), 1.0)
    if strategy.late_fee_rate:
        lam = lam * np.where(t > terms, model.fee_multiplier(strategy.late_fee_rate), 1.0)
    return lam


@dataclass
class _Curves:
    """Cumulative hazard curves for each (arm, segment, terms, taker) group, concatenated
    with offsets so one ``searchsorted`` serves all groups."""

    model: BehaviourModel
    strategies: list[Strategy | None]
    cache: dict = field(default_factory=dict)

    def cumulative(self, arm: int, seg: int, terms: int, taker: bool) -> np.ndarray:
        key = (arm, seg, terms, taker)
        if key not in self.cache:
            lam = _hazard_curve(self.model, self.strategies[arm], SEGMENTS[seg], terms, taker)
            self.cache[key] = np.cumsum(lam)
        return self.cache[key]

    def first_day(self, arm, seg, terms, taker, threshold) -> np.ndarray:
        """First day t with G(t) >= threshold, per invoice (horizon if never)."""
        h = self.model.horizon_days
        key = ((arm.astype(np.int64) * len(SEGMENTS) + seg) * 1000 + terms) * 2 + taker
        uniq, inverse = _dense_codes(key)
        curves = []
        for k in uniq:
            k = int(k)
            tk, k = k % 2, k // 2
            tm, k = k % 1000, k // 1000
            sg, ar = k % len(SEGMENTS), k // len(SEGMENTS)
            curves.append(self.cumulative(ar, sg, tm, bool(tk)))
        curves = np.vstack(curves)
        top = curves[:, -1].max() + 1.0
        offset = np.arange(len(uniq))[:, None] * (top + 1.0)
        flat = (curves + offset).ravel()
        query = np.minimum(threshold, top) + offset[inverse, 0]
        pos = np.searchsorted(flat, query, side="left") - inverse * h
        return np.minimum(pos, h)


def _dense_codes(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(key, return_inverse=True)`` for small non-negative integer keys, in O(n)
    with a lookup table instead of a sort (the keys of a draw span a few thousand values;
    the sort was a tenth of the simulation's time)."""
    present = np.zeros(int(key.max()) + 1 if len(key) else 1, dtype=bool)
    present[key] = True
    uniq = np.flatnonzero(present)
    lookup = np.zeros(len(present), dtype=np.int64)
    lookup[uniq] = np.arange(len(uniq))
    return uniq, lookup[key]


# --------------------------------------------------------------------------- core
@dataclass
class _Outcomes:
    end_day: np.ndarray  # day since issue the story ends
    outcome: np.ndarray  # 1 paid, 2 escalated, 3 written off
    installment: np.ndarray  # bool, paid through a plan
    offer_day: np.ndarray
    n_sent: np.ndarray
    n_firm: np.ndarray
    n_unneeded: np.ndarray
    counterfactual: np.ndarray


def _core(model: BehaviourModel, curves: _Curves, arm, seg, terms, taker, mult, never_p,
          u) -> _Outcomes:
    """Draw each invoice's story. All arrays are per invoice; ``u`` is N_UNIFORMS × n."""
    h = model.horizon_days
    n = len(arm)
    threshold = -np.log1p(-u[0]) / mult
    never = u[1] < never_p
    pay_day = curves.first_day(arm, seg, terms, taker, threshold)
    pay_day = np.where(never, h, pay_day)
    # counterfactual day under no strategy, same randomness (for "unneeded" reminders)
    none_arm = np.full(n, len(curves.strategies) - 1)
    counter = curves.first_day(none_arm, seg, terms, np.zeros(n, dtype=bool), threshold)
    counter = np.where(never, h, counter)

    end = pay_day.copy()
    outcome = np.ones(n, dtype=np.int8)
    installment = np.zeros(n, dtype=bool)
    offer_day = np.full(n, -1)
    n_sent = np.zeros(n, dtype=np.int16)
    n_firm = np.zeros(n, dtype=np.int16)
    n_unneeded = np.zeros(n, dtype=np.int16)
    for a, strategy in enumerate(curves.strategies[:-1]):
        in_arm = arm == a
        if not in_arm.any():
            continue
        for tm in np.unique(terms[in_arm]):
            idx = np.flatnonzero(in_arm & (terms == tm))
            esc = _escalation_day(strategy, int(tm), h)
            t = pay_day[idx]
            unpaid = t >= esc
            out = np.where(unpaid, 2 if esc < h else 3, 1)
            # a reminder is sent on day d if the invoice is still open that morning: before
            # escalation, and on or before the payment day (its pulse acts that same day)
            stop = np.where(unpaid, esc, t + 1)
            plan = np.zeros(len(idx), dtype=bool)
            rdays = _reminder_days(strategy, int(tm), h)
            offer = strategy.installment
            if offer is not None and offer.at_reminder <= len(rdays):
                od = rdays[offer.at_reminder - 1][0]
                open_at_offer = t >= od
                p = np.where(unpaid, model.installment_accept_defaulter,
                             model.installment_accept_payer)
                plan = open_at_offer & (od < esc) & (u[2, idx] < p)
                last = od + model.installment_first_delay_days + (
                    offer.n_installments - 1) * offer.interval_days
                end[idx[plan]] = last
                out = np.where(plan, 1, out)
                offer_day[idx[plan]] = od
                stop = np.where(plan, od + 1, stop)
            installment[idx] = plan
            end[idx[~plan]] = np.where(unpaid[~plan], esc, t[~plan])
            outcome[idx] = out
            for day, r in rdays:
                sent = (day < stop) & (day < esc)
                n_sent[idx] += sent
                if r.tone in FIRM_TONES:
                    n_firm[idx] += sent
                n_unneeded[idx] += sent & (counter[idx] <= day + model.unneeded_window_days)
    return _Outcomes(end, outcome, installment, offer_day, n_sent, n_firm, n_unneeded, counter)


# --------------------------------------------------------------------------- invoices
def _invoice_grid(customers: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp, seed: int,
                  invoices_per_month: float) -> pd.DataFrame:
    """Potential invoices: each customer bills about monthly on its own day of the month."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    n = len(customers)
    months = pd.date_range(start.to_period("M").to_timestamp(), end, freq="MS")
    billing_day = rng.integers(0, 28, size=n)
    p_active = min(1.0, 0.85 * invoices_per_month)
    active = rng.random((n, len(months))) < p_active
    cust_idx, month_idx = np.nonzero(active)
    jitter = rng.integers(-2, 3, size=len(cust_idx))
    issue = (months.values[month_idx] + ((billing_day[cust_idx] + jitter).clip(0, 27)
                                         * np.timedelta64(1, "D")))
    keep = (issue >= start.to_datetime64()) & (issue <= end.to_datetime64())
    cust_idx, issue = cust_idx[keep], issue[keep]
    created = customers["created_at"].to_numpy(dtype="datetime64[ns]")
    ok = np.isnat(created[cust_idx]) | (issue >= created[cust_idx])
    cust_idx, issue = cust_idx[ok], issue[ok]
    # np.nonzero walks customers then months, and a customer's billing day moves by at
    # most a few days, so the rows are almost always in (customer, issue) order already
    if not _is_sorted_by(cust_idx, issue):
        order = np.lexsort((issue, cust_idx))
        cust_idx, issue = cust_idx[order], issue[order]
    return pd.DataFrame({"cust": cust_idx, "issue": issue})


def _is_sorted_by(major: np.ndarray, minor: np.ndarray) -> bool:
    """Whether rows are in ascending (major, minor) order."""
    step_major = np.diff(major)
    return bool(np.all((step_major > 0) | ((step_major == 0) & (np.diff(minor) >= 0))))


def _customer_traits(customers: pd.DataFrame, model: BehaviourModel, seed: int, start, end):
    rng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
    n = len(customers)
    seg = customers["segment"].map({s: i for i, s in enumerate(SEGMENTS)})
    if seg.isna().any():
        bad = customers.loc[seg.isna(), "segment"].unique()[:5]
        raise ValueError(f"the behaviour model knows segments {SEGMENTS}; got {list(bad)}")
    seg = seg.to_numpy(dtype=np.int64)
    mean = _by_segment(model.frailty_mean)[seg]
    sd = _by_segment(model.frailty_sd)[seg]
    frailty = mean + sd * rng.standard_normal(n)
    taker = rng.random(n) < _by_segment(model.discount_taker_share)[seg]
    distressed = rng.random(n) < model.distress_share
    span = max(1, (end - start).days - 90)
    distress_start = np.where(
        distressed,
        (start + pd.Timedelta(days=60)).to_datetime64()
        + rng.integers(0, span, size=n) * np.timedelta64(1, "D"),
        np.datetime64("NaT"),
    ).astype("datetime64[ns]")
    currency = customers.get("currency", pd.Series("USD", index=customers.index)).fillna("USD")
    fx = currency.map(FX_PER_USD).fillna(1.0).to_numpy(dtype=float)
    typical_usd = _by_segment(SEGMENT_AMOUNT_USD)[seg] * rng.lognormal(
        0, 0.6, size=n)
    terms = np.array([rng.choice(TERMS_CHOICES, p=TERMS_PROBS[s]) for s in SEGMENTS])
    terms = np.where(rng.random(n) < 0.9, terms[seg], rng.choice(TERMS_CHOICES, size=n))
    channel_code = rng.choice(len(INVOICE_CHANNELS), size=n, p=[0.6, 0.25, 0.1, 0.05])
    link_share = rng.random(n)
    return dict(seg=seg, frailty=frailty, taker=taker, distress_start=distress_start, fx=fx,
                typical_usd=typical_usd, terms=terms, channel_code=channel_code,
                link_share=link_share)


def _by_segment(values: dict) -> np.ndarray:
    """A per-segment parameter dict as an array indexed by segment code."""
    return np.array([values[s] for s in SEGMENTS], dtype=float)


def _ids(prefix: str, n: int, offset: int = 0, width: int = 6) -> np.ndarray:
    """``n`` ids ``<prefix>000001``, ... numbered from ``offset + 1``, zero-padded to
    ``width`` digits (longer numbers keep all their digits).

    >>> _ids("INV", 2, offset=9, width=3).tolist()
    ['INV010', 'INV011']
    """
    if len(str(offset + n)) > width:  # some numbers wider than the padding: rare, slow path
        numbers = np.arange(offset + 1, offset + n + 1).astype(str)
        return np.char.add(prefix, np.char.zfill(numbers, width)).astype(object)
    # the characters as UCS-4 code points, digits by arithmetic: 4x faster than np.char
    numbers = np.arange(offset + 1, offset + n + 1, dtype=np.int64)
    codes = np.empty((n, len(prefix) + width), dtype=np.uint32)
    codes[:, : len(prefix)] = [ord(ch) for ch in prefix]
    for k in range(width):
        codes[:, len(prefix) + width - 1 - k] = 48 + (numbers // 10**k) % 10
    return codes.view(f"<U{len(prefix) + width}").ravel().astype(object)


def simulate(
    customers: pd.DataFrame | int,
    plan: Strategy | Experiment,
    model: BehaviourModel | None = None,
    start="2025-01-01",
    end="2025-12-31",
    seed: int = 0,
    invoices_per_month: float = 1.0,
    assigned_at=None,
    before: Strategy | None = None,
    chunk_size: int = 4 * BLOCK,
    progress: bool | None = None,
    truth_replicates: int = 20,
    population_seed: int | None = None,
) -> SimulationResult:
    """Simulate a portfolio: monthly invoices from ``start`` to ``end`` and their payment.

    Parameters
    ----------
    customers
        A customers table, or a number of customers to generate.
    plan
        One :class:`Strategy` for everybody, or an :class:`Experiment` (customers are
        assigned to arms by :func:`collections_lab.assignment.assign` on ``assigned_at``,
        default ``start``).
    before
        With an experiment: the business-as-usual strategy for invoices issued before
        ``assigned_at`` (a pre-period, e.g. for covariate adjustment). True arm effects
        are computed on the invoices issued from ``assigned_at`` on.
    model
        The :class:`BehaviourModel` (defaults documented there).
    start, end
        Invoice issue dates range (inclusive). Payments may fall after ``end``: the story
        of every invoice is followed to its end (payment, escalation or write-off at
        ``model.horizon_days``); use ``as_of`` in the payment-times frame to censor.
    seed
        Same seed, same output, byte for byte, whatever ``chunk_size``.
    chunk_size
        About this many invoices are drawn together (chunks never split a customer); bounds
        the working memory of the draw. For portfolios too large to hold in memory use
        :func:`simulate_to_parquet`, which writes each chunk as it is drawn.
    progress
        tqdm progress bar; by default on for runs of more than 655,360 potential invoices
        when someone is watching (a terminal or JupyterLab), off in scheduled reports
        (the report runner's kernels) and in other non-interactive runs.
    truth_replicates
        Monte Carlo replicates for true effects of arms with installment offers (other
        arms' effects are computed analytically).
    population_seed
        Seed of the population only: the generated customers, their traits (frailty,
        discount takers, distress episodes, typical amounts, terms, channels) and the
        invoice schedule. Default ``seed``. Keep it fixed and vary ``seed`` to redraw
        the assignment's randomness and every invoice's behaviour over **the same
        customers**, e.g. to measure power for one portfolio, whose true effects are
        then fixed.
    """
    setup, experiment, assignments = _prepare(customers, plan, model, start, end, seed,
                                              invoices_per_month, assigned_at, before,
                                              population_seed)
    customers = setup.customers
    parts: dict[str, list] = {"invoices": [], "reminders": [], "payments": [], "truth": []}

    def keep(chunk: _Chunk) -> None:
        for name in ("invoices", "reminders", "payments"):
            parts[name].append(chunk.tables[name])
        parts["truth"].append(chunk.truth_invoices)

    churned_at, truth_inputs = setup.run(chunk_size, progress, keep)
    tables = {k: _concat_columns(v) for k, v in parts.items()}
    truth = setup.truth(churned_at, tables.pop("truth"), truth_inputs, truth_replicates,
                        experiment)
    return SimulationResult(customers=customers, invoices=tables["invoices"],
                            reminders=tables["reminders"], payments=tables["payments"],
                            assignments=assignments, truth=truth, experiment=experiment)


def simulate_to_parquet(
    out_dir,
    customers: pd.DataFrame | int,
    plan: Strategy | Experiment,
    model: BehaviourModel | None = None,
    start="2025-01-01",
    end="2025-12-31",
    seed: int = 0,
    invoices_per_month: float = 1.0,
    assigned_at=None,
    before: Strategy | None = None,
    chunk_size: int = 4 * BLOCK,
    progress: bool | None = None,
    truth_replicates: int = 20,
    population_seed: int | None = None,
) -> Truth:
    """Like :func:`simulate`, but stream the tables to ``out_dir/<table>.parquet``.

    Each chunk is written as it is drawn, so memory stays bounded by ``chunk_size`` (plus
    per-customer traits) whatever the portfolio size. The same seeds give the same rows as
    :func:`simulate`. Returns the :class:`Truth` (its per-invoice table is not kept).
    """
    from pathlib import Path

    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    setup, experiment, assignments = _prepare(customers, plan, model, start, end, seed,
                                              invoices_per_month, assigned_at, before,
                                              population_seed)
    writers: dict[str, pq.ParquetWriter] = {}

    def write(chunk: _Chunk) -> None:
        for name in ("invoices", "reminders", "payments"):
            table = pa.Table.from_pandas(pd.DataFrame(chunk.tables[name]),
                                         preserve_index=False)
            if name not in writers:
                writers[name] = pq.ParquetWriter(out / f"{name}.parquet.tmp", table.schema)
            writers[name].write_table(table.cast(writers[name].schema))

    try:
        churned_at, truth_inputs = setup.run(chunk_size, progress, write)
    finally:
        for w in writers.values():
            w.close()
    for name in writers:
        (out / f"{name}.parquet.tmp").replace(out / f"{name}.parquet")
    for name, frame in (("customers", setup.customers), ("assignments", assignments)):
        frame.to_parquet(out / f"{name}.parquet.tmp", index=False)
        (out / f"{name}.parquet.tmp").replace(out / f"{name}.parquet")
    return setup.truth(churned_at, pd.DataFrame(), truth_inputs, truth_replicates, experiment)


def _prepare(customers, plan, model, start, end, seed, invoices_per_month, assigned_at, before,
             population_seed=None):
    """Validate inputs, build the population and assignment: the part before the draw."""
    population_seed = seed if population_seed is None else int(population_seed)
    model = model or BehaviourModel()
    start, end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    if end < start:
        raise ValueError(f"end {end.date()} is before start {start.date()}")
    if isinstance(customers, int | np.integer):
        customers = generate_customers(int(customers), seed=population_seed, start=start)
    customers = customers.reset_index(drop=True)
    if isinstance(plan, Strategy):
        experiment = None
        arm_names, strategies = [plan.name], [plan]
        assignments = pd.DataFrame(columns=["experiment_id", "customer_id", "arm", "assigned_at"])
        cust_arm = np.zeros(len(customers), dtype=np.int64)
    elif isinstance(plan, Experiment):
        experiment = plan
        arm_names, strategies = plan.arm_names, list(plan.arms.values())
        assignments = assign(customers, plan, assigned_at or start)
        cust_arm = pd.Series(range(len(arm_names)), index=arm_names).loc[
            assignments["arm"]].to_numpy()
    else:
        raise TypeError(f"plan must be a Strategy or an Experiment, got {type(plan).__name__}")
    n_arms = len(strategies)
    if before is not None:
        if experiment is None:
            raise ValueError("`before` needs an Experiment plan (a pre-period before assignment)")
        strategies = strategies + [before]
    assign_day = pd.Timestamp(assigned_at or start).normalize().to_datetime64()

    setup = _Setup(model=model, customers=customers, strategies=strategies,
                   arm_names=arm_names, n_arms=n_arms, cust_arm=cust_arm,
                   assign_day=assign_day, seed=seed, start=start, end=end,
                   invoices_per_month=invoices_per_month, population_seed=population_seed)
    return setup, experiment, assignments


@dataclass
class _Chunk:
    """What one customer-aligned chunk of the simulation produced."""

    customers: np.ndarray  # customer positions covered
    churned_at: np.ndarray
    tables: dict
    truth_invoices: dict  # column arrays of the truth record's invoice table
    truth_inputs: dict  # per-invoice arrays (experiment period) for true effects


@dataclass
class _Setup:
    """Everything fixed before the chunked draw: population, arms, invoice schedule."""

    model: BehaviourModel
    customers: pd.DataFrame
    strategies: list
    arm_names: list
    n_arms: int
    cust_arm: np.ndarray
    assign_day: np.datetime64
    seed: int
    start: pd.Timestamp
    end: pd.Timestamp
    invoices_per_month: float
    population_seed: int

    def __post_init__(self):
        self.traits = _customer_traits(self.customers, self.model, self.population_seed,
                                       self.start, self.end)
        grid = _invoice_grid(self.customers, self.start, self.end, self.population_seed,
                             self.invoices_per_month)
        self.c = grid["cust"].to_numpy()
        self.issue = grid["issue"].to_numpy()
        self.curves = _Curves(self.model, self.strategies + [None])
        self.id_width = max(6, len(str(len(self.c))))

    @property
    def names_all(self) -> np.ndarray:
        extra = ["pre-period"] if len(self.strategies) > self.n_arms else []
        return np.array(self.arm_names + extra, dtype=object)

    def chunks(self, chunk_size: int, progress: bool | None):
        """Yield :class:`_Chunk` s of about ``chunk_size`` potential invoices, never
        splitting a customer (churn is resolved within a customer's invoices)."""
        n = len(self.c)
        size = max(1, int(chunk_size))
        targets = np.arange(size, n, size)
        bounds = np.unique(np.r_[0, np.searchsorted(self.c, self.c[targets], "left"), n])
        bar = _progress(progress, n)
        id_offset = 0
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            chunk = self._draw(int(lo), int(hi), id_offset)
            id_offset += len(chunk.tables["invoices"]["invoice_id"])
            if bar is not None:
                bar.update(int(hi - lo))
            yield chunk
        if bar is not None:
            bar.close()

    def invoice_inputs(self, lo: int, hi: int) -> dict:
        """Per-invoice inputs of the draw for potential invoices ``lo..hi-1``: customer
        position ``c``, ``issue``, uniforms ``u``, amounts, covariates, the hazard
        multiplier ``mult``, never-pay probability ``never_p``, ``arm``, ``seg``, ``terms``,
        ``taker`` and the distress ``severity`` (0 to 1)."""
        model, tr = self.model, self.traits
        c = self.c[lo:hi]
        issue = self.issue[lo:hi]
        u = _uniforms(self.seed, lo, hi)
        distress = tr["distress_start"][c]
        in_distress = ~np.isnat(distress) & (issue >= distress)
        # severity ramps from 0 at the episode's start to 1 after distress_ramp_days
        days_in = np.where(in_distress, (issue - np.where(in_distress, distress, issue))
                           / np.timedelta64(1, "D"), 0.0)
        severity = np.where(in_distress, np.clip((days_in + 1) / model.distress_ramp_days,
                                                 0.0, 1.0), 0.0)
        amount_usd = tr["typical_usd"][c] * np.exp(0.35 * ndtri(u[7])
                                                   + severity * model.distress_amount_shift)
        disputed = u[8] < 0.03
        link = u[9] < tr["link_share"][c]
        chan_code = tr["channel_code"][c]
        seg = tr["seg"][c]
        chan_beta = np.array([model.beta_invoice_channel[ch] for ch in INVOICE_CHANNELS])
        log_m = (model.beta_log_amount * np.log(amount_usd / 1000.0)
                 + model.beta_disputed * disputed + model.beta_payment_link * link
                 + chan_beta[chan_code] + tr["frailty"][c]
                 + severity * model.distress_frailty_shift)
        never_logit = (_by_segment(model.never_pay_logit)[seg]
                       - model.never_pay_frailty_effect * tr["frailty"][c]
                       + model.never_pay_disputed * disputed
                       + severity**2 * model.distress_never_pay_shift)
        arm = self.cust_arm[c]
        if len(self.strategies) > self.n_arms:
            arm = np.where(issue < self.assign_day, self.n_arms, arm)
        return dict(c=c, issue=issue, u=u, amount=np.round(amount_usd * tr["fx"][c], 2),
                    disputed=disputed, link=link, chan_code=chan_code, seg=seg,
                    terms=tr["terms"][c].astype(np.int64), severity=severity,
                    mult=np.exp(log_m), never_p=1.0 / (1.0 + np.exp(-never_logit)), arm=arm,
                    taker=tr["taker"][c])

    def run(self, chunk_size: int, progress: bool | None, sink) -> tuple[np.ndarray, list]:
        """Draw every chunk and hand it to ``sink``; returns each customer's churn date and
        the per-invoice inputs for the true effects (only the first ``TRUTH_MAX_INVOICES``
        of the experiment period are kept, so memory stays bounded)."""
        churned_at = np.full(len(self.customers), np.datetime64("NaT"), dtype="datetime64[ns]")
        truth_inputs: list[dict] = []
        kept = 0
        for chunk in self.chunks(chunk_size, progress):
            sink(chunk)
            churned_at[chunk.customers] = chunk.churned_at
            if kept < TRUTH_MAX_INVOICES:
                truth_inputs.append(chunk.truth_inputs)
                kept += len(chunk.truth_inputs["mult"])
        return churned_at, truth_inputs

    def _draw(self, lo: int, hi: int, id_offset: int) -> _Chunk:
        model = self.model
        x = self.invoice_inputs(lo, hi)
        c, issue, u, seg, terms, arm = x["c"], x["issue"], x["u"], x["seg"], x["terms"], x["arm"]
        mult, never_p, taker, severity = x["mult"], x["never_p"], x["taker"], x["severity"]
        o = _core(model, self.curves, arm, seg, terms, taker, mult, never_p, u)

        end_date = issue + o.end_day * np.timedelta64(1, "D")
        # churn after each invoice, at its end date; later invoices are never issued
        churn_p = (_by_segment(model.churn_base)[seg]
                   * np.exp(model.churn_firm_reminder * o.n_firm
                            + model.churn_unneeded_reminder * o.n_unneeded
                            + model.churn_escalated * (o.outcome == 2))
                   * (1.0 + severity * (model.distress_churn_multiplier - 1.0)))
        hit = u[6] < np.minimum(churn_p, 0.95)
        customers = np.unique(c)
        churned = pd.Series(pd.NaT, index=customers, dtype="datetime64[ns]")
        if hit.any():
            first = pd.Series(end_date[hit]).groupby(c[hit]).min()
            churned.loc[first.index] = first.to_numpy()
        churned_at = churned.to_numpy(dtype="datetime64[ns]")
        cut = churned.loc[c].to_numpy(dtype="datetime64[ns]")
        idx = np.flatnonzero(np.isnat(cut) | (issue <= cut))

        inv_ids = _ids("INV", len(idx), id_offset, self.id_width)
        channel = np.array(INVOICE_CHANNELS, dtype=object)[x["chan_code"]]
        tables = _build_tables(self.customers, self.strategies, model, idx, c, arm, issue,
                               terms, x["amount"], x["disputed"], channel, x["link"], o, u,
                               end_date, inv_ids, severity)
        truth_invoices = {
            "invoice_id": inv_ids,
            "arm": self.names_all[arm[idx]],
            "never_payer": u[1, idx] < never_p[idx],
            "never_pay_probability": never_p[idx],
            "multiplier": mult[idx],
            "counterfactual_day": np.where(o.counterfactual[idx] >= model.horizon_days, -1,
                                           o.counterfactual[idx]),
        }
        test = idx[arm[idx] < self.n_arms]
        truth_inputs = dict(seg=seg[test], terms=terms[test], taker=taker[test],
                            mult=mult[test], never_p=never_p[test])
        return _Chunk(customers, churned_at, tables, truth_invoices, truth_inputs)

    def truth(self, churned_at, truth_invoices, truth_inputs, replicates, experiment,
              max_invoices: int | None = None) -> Truth:
        """The truth record; true effects use the first ``max_invoices`` invoices of the
        experiment period (customers are generated at random, so these are a random
        sample of the population; exact for smaller portfolios)."""
        max_invoices = max_invoices or TRUTH_MAX_INVOICES
        keys = ("seg", "terms", "taker", "mult", "never_p")
        sub = {k: np.concatenate([t[k] for t in truth_inputs])[:max_invoices] for k in keys}
        effects = true_arm_effects(self.model, self.strategies[: self.n_arms], self.arm_names,
                                   sub, self.seed, replicates)
        tr = self.traits
        customers = pd.DataFrame({
            "customer_id": self.customers["customer_id"].to_numpy(),
            "segment": self.customers["segment"].to_numpy(),
            "arm": np.array(self.arm_names, dtype=object)[self.cust_arm],
            "frailty": tr["frailty"],
            "discount_taker": tr["taker"],
            "distress_start": tr["distress_start"],
            "churned_at": churned_at,
        })
        return Truth(model=self.model.to_dict(),
                     strategies={a: s.to_dict() for a, s in
                                 zip(self.names_all, self.strategies, strict=True)},
                     seed=self.seed, customers=customers, invoices=truth_invoices,
                     arm_effects=effects,
                     control=experiment.control_arm if experiment else self.arm_names[0],
                     population_seed=self.population_seed)


REPORT_ENV = "COLLECTIONS_LAB_REPORT"  # set by the report runner for its kernels


def _interactive() -> bool:
    """A person is watching: a terminal, or a Jupyter kernel that is not a scheduled
    report run (the report runner sets ``COLLECTIONS_LAB_REPORT`` for its kernels, so
    reports and cron logs stay free of progress bars)."""
    if os.environ.get(REPORT_ENV):
        return False
    return sys.stderr.isatty() or "ipykernel" in sys.modules


def _progress(progress: bool | None, total: int):
    """A tqdm bar for long runs (``progress=None``: only when :func:`_interactive`)."""
    if progress is None:
        progress = total > 10 * BLOCK and _interactive()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="invoice", desc="simulating")


def reminder_stop_day(outcome, end_day, offer_day, installment) -> np.ndarray:
    """First day (since issue) on which no more reminders go out, per invoice.

    A reminder is sent on day ``d`` if the invoice is still open that morning: up to and
    including the payment day (its pulse acts that day), before escalation or write-off,
    and up to the day a payment plan is offered (a plan pauses reminders). Reminders are
    sent on days ``d < stop`` (and before the strategy's escalation day).
    """
    return np.where(installment, offer_day + 1,
                    np.where(outcome == 1, end_day + 1, end_day))


def _build_tables(customers, strategies, model, idx, c, arm, issue, terms, amount, disputed,
                  channel, link, o, u, end_date, inv_ids, severity) -> dict[str, dict]:
    """Turn the drawn stories of the issued invoices (positions ``idx``) into tables."""
    day = np.timedelta64(1, "D")
    m = len(idx)
    cust_ids = customers["customer_id"].to_numpy()[c[idx]]
    issue_i, terms_i, amount_i = issue[idx], terms[idx], amount[idx]
    outcome = o.outcome[idx]
    end_i = end_date[idx]
    recovered = (outcome == 2) & (u[10, idx] < model.agency_recovery_share)
    escalated_lost = (outcome == 2) & ~recovered
    currency = customers["currency"].fillna("USD").to_numpy()[c[idx]] if "currency" in \
        customers else np.full(m, "USD", dtype=object)
    invoices = {
        "invoice_id": inv_ids,
        "customer_id": cust_ids,
        "issue_date": issue_i,
        "due_date": issue_i + terms_i * day,
        "amount": amount_i,
        "currency": currency,
        "disputed": disputed[idx],
        "channel": channel[idx].astype(object),
        "payment_link": link[idx],
        "escalated_at": np.where(outcome == 2, end_i, np.datetime64("NaT")).astype(
            "datetime64[ns]"),
        "written_off_at": np.where(
            outcome == 3, end_i,
            np.where(escalated_lost, end_i + model.write_off_after_escalation_days * day,
                     np.datetime64("NaT"))).astype("datetime64[ns]"),
    }

    # reminders: for each arm and reminder, the invoices that were still open that day
    arm_i = arm[idx]
    rem_parts = []
    for a, strategy in enumerate(strategies):
        in_arm = np.flatnonzero(arm_i == a)
        if not len(in_arm) or not strategy.reminders:
            continue
        for tm in np.unique(terms_i[in_arm]):
            sel = in_arm[terms_i[in_arm] == tm]
            esc = _escalation_day(strategy, int(tm), model.horizon_days)
            od = o.offer_day[idx[sel]]
            # reminders go out while the invoice is open; a payment plan pauses them
            stop = reminder_stop_day(o.outcome[idx[sel]], o.end_day[idx[sel]], od,
                                     o.installment[idx[sel]])
            for seq, (d, r) in enumerate(_reminder_days(strategy, int(tm), model.horizon_days),
                                         start=1):
                sent = sel[(d < stop) & (d < esc)]
                if not len(sent):
                    continue
                k = len(sent)
                rem_parts.append({
                    "invoice_id": sent, "sent_at": issue_i[sent] + d * day,
                    "sequence": np.full(k, seq), "tone": np.full(k, TONES.index(r.tone)),
                    "channel": np.full(k, REMINDER_CHANNELS.index(r.channel)),
                    "personalised": np.full(k, r.personalised),
                })
    reminders = _sorted_columns(rem_parts, "sent_at", inv_ids, REMINDER_DTYPES)

    payments = _payments(strategies, arm_i, model, idx, inv_ids, issue_i, terms_i, amount_i,
                         outcome, o, u, recovered, severity[idx])
    return {"invoices": invoices, "reminders": reminders, "payments": payments}


def _payments(strategies, arm_i, model, idx, inv_ids, issue_i, terms_i, amount_i, outcome, o,
              u, recovered, severity) -> dict[str, np.ndarray]:
    day = np.timedelta64(1, "D")
    paid = outcome == 1
    plan = o.installment[idx] & paid
    normal = paid & ~plan
    end_day = o.end_day[idx]
    disc_rate = np.array([s.discount.rate if s.discount else 0.0 for s in strategies])[arm_i]
    disc_window = np.array([s.discount.within_days if s.discount else -1 for s in strategies])[
        arm_i]
    fee_rate = np.array([s.late_fee_rate for s in strategies])[arm_i]
    discount = np.where(normal & (end_day <= disc_window), np.round(amount_i * disc_rate, 2), 0.0)
    late = np.maximum(end_day - terms_i, 0)
    fee = np.where(normal & (late > 0), np.round(amount_i * fee_rate * np.ceil(late / 30), 2), 0.0)
    split_share = model.split_payment_share + severity * model.distress_split_share
    split = normal & (u[3, idx] < split_share) & (end_day >= 2)
    first_share = 0.3 + 0.4 * u[4, idx]
    first_day = np.floor(u[5, idx] * end_day).astype(int)
    first_amount = np.round(amount_i * first_share, 2)
    parts = []
    s = np.flatnonzero(split)
    zeros = np.zeros(len(s))
    parts.append({"invoice_id": s, "paid_at": issue_i[s] + first_day[s] * day,
                  "amount": first_amount[s], "method": np.full(len(s), _METHOD["transfer"]),
                  "discount": zeros, "fee": zeros})
    nm = np.flatnonzero(normal)
    final = amount_i[nm] - discount[nm] + fee[nm] - np.where(split[nm], first_amount[nm], 0.0)
    methods = np.array([_METHOD[m] for m in ("transfer", "card", "direct_debit")])
    method = methods[np.searchsorted([0.7, 0.85], u[4, idx[nm]], side="right")]
    parts.append({"invoice_id": nm, "paid_at": issue_i[nm] + end_day[nm] * day,
                  "amount": np.round(final, 2), "method": method,
                  "discount": discount[nm], "fee": fee[nm]})
    pl = np.flatnonzero(plan)
    if len(pl):
        offers = [s.installment for s in strategies]
        n_inst = np.array([of.n_installments if of else 1 for of in offers])[arm_i[pl]]
        gap = np.array([of.interval_days if of else 0 for of in offers])[arm_i[pl]]
        od = o.offer_day[idx[pl]]
        rows_inv = np.repeat(pl, n_inst)
        j = np.concatenate([np.arange(k) for k in n_inst])
        when = od.repeat(n_inst) + model.installment_first_delay_days + j * gap.repeat(n_inst)
        share = np.round(amount_i[rows_inv] / n_inst.repeat(n_inst), 2)
        last = j == n_inst.repeat(n_inst) - 1
        share = np.where(last, amount_i[rows_inv] - share * (n_inst.repeat(n_inst) - 1), share)
        zeros = np.zeros(len(rows_inv))
        parts.append({"invoice_id": rows_inv, "paid_at": issue_i[rows_inv] + when * day,
                      "amount": np.round(share, 2),
                      "method": np.full(len(rows_inv), _METHOD["installment"]),
                      "discount": zeros, "fee": zeros})
    rc = np.flatnonzero(recovered)
    if len(rc):
        span = model.agency_recovery_max_days - model.agency_recovery_min_days
        delay = model.agency_recovery_min_days + np.floor(u[11, idx[rc]] * (span + 1))
        zeros = np.zeros(len(rc))
        parts.append({"invoice_id": rc,
                      "paid_at": issue_i[rc] + (end_day[rc] + delay.astype(int)) * day,
                      "amount": amount_i[rc], "method": np.full(len(rc), _METHOD["agency"]),
                      "discount": zeros, "fee": zeros})
    return _sorted_columns(parts, "paid_at", inv_ids, PAYMENT_DTYPES)


REMINDER_DTYPES = {"invoice_id": object, "sent_at": "datetime64[ns]", "sequence": np.int64,
                   "tone": TONES, "channel": REMINDER_CHANNELS, "personalised": bool}
PAYMENT_DTYPES = {"invoice_id": object, "paid_at": "datetime64[ns]", "amount": float,
                  "method": PAYMENT_METHODS, "discount": float, "fee": float}
_METHOD = {m: i for i, m in enumerate(PAYMENT_METHODS)}
DAY_NS = 86_400 * 10**9


def _sorted_columns(parts: list[dict], date_column: str, inv_ids: np.ndarray,
                    dtypes: dict) -> dict[str, np.ndarray]:
    """Concatenate column arrays and sort rows by invoice then date.

    In ``parts`` the ``invoice_id`` column holds integer positions into ``inv_ids`` and a
    text column (a tuple of its values in ``dtypes``) holds integer codes into that tuple:
    the strings are only looked up once, after sorting (object arrays are slow to fill,
    concatenate and permute). Invoices are in global order, so the row order does not
    depend on chunking. Dates are whole days, so (invoice, date) order is one stable sort
    of ``position × span + day``; each part is already in invoice order, which the stable
    sort (timsort) merges in near-linear time.
    """
    if not parts:
        return {k: np.array([], dtype=object if isinstance(v, tuple) else v)
                for k, v in dtypes.items()}
    cols = {k: np.concatenate([p[k] for p in parts]) for k in dtypes}
    pos = cols["invoice_id"].astype(np.int64)
    day = cols[date_column].astype("datetime64[ns]", copy=False).view(np.int64) // DAY_NS
    day -= day.min()
    order = np.argsort(pos * (int(day.max()) + 1) + day, kind="stable")
    out = {}
    for k, kind in dtypes.items():
        if k == "invoice_id":
            out[k] = inv_ids[pos[order]]
        elif isinstance(kind, tuple):
            out[k] = np.array(kind, dtype=object)[cols[k][order]]
        else:
            out[k] = cols[k][order].astype(kind, copy=False)
    return out


def _concat_columns(parts: list[dict]) -> pd.DataFrame:
    """One frame from the chunks' column dicts, with one copy per column: building a frame
    per chunk and then ``pd.concat`` copied every column twice, and pandas' consolidation
    of same-dtype columns into 2-D blocks (``copy=False`` skips it; the arrays are fresh)
    cost more than the whole draw for the object columns."""
    return pd.DataFrame({k: np.concatenate([p[k] for p in parts]) for k in parts[0]},
                        copy=False)


# --------------------------------------------------------------------------- truth
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
    curves = _Curves(model, list(strategies) + [None])
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
                        esc = _escalation_day(strategy, int(tm), h)
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
                o = _core(model, curves, np.full(m, a), part["seg"], part["terms"],
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
