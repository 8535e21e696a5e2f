"""Run a simulation: :func:`simulate` in memory, chunk by chunk, seeded and reproducible.

:func:`prepare` validates the inputs and builds the population and assignment;
:class:`Setup` draws the invoices chunk by chunk (customers never split across chunks, so
churn resolves within a chunk) and hands each :class:`Chunk` to a sink: kept in memory by
:func:`simulate`, written to Parquet by :func:`~collections_lab.model.simulation.streaming.simulate_to_parquet`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtri

from ...data.dates import parse_date
from ...data.portfolio import Portfolio
from ...data.schema import INVOICE_CHANNELS
from ...i18n import ResultMixin
from ..behaviour import BehaviourModel
from ..plans import Experiment, assign
from ..strategies import Strategy
from .engine import BLOCK, HazardCurves, draw_outcomes, uniforms
from .population import by_segment, customer_traits, generate_customers, invoice_grid, make_ids
from .progress import progress_bar
from .tables import build_tables, concat_columns
from .truth import TRUTH_MAX_INVOICES, Truth, true_arm_effects


@dataclass
class SimulationResult(ResultMixin):
    """The five tables of a simulated portfolio plus its :class:`Truth`.

    Example:
        >>> sim = cl.simulate(100, cl.example_strategies()["nudge_then_firm"], seed=1,
        ...                   end="2025-03-31", progress=False)
        >>> sim.to_frame()
                 table  rows
        0    customers   100
        1     invoices   241
        2    reminders   213
        3     payments   247
        4  assignments     0
        >>> export = sim.snapshot("2025-04-30")
        >>> bool(export.payments["paid_at"].max() <= pd.Timestamp("2025-04-30"))
        True
    """

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
                         self.assignments, source="simulation",
                         observed_until=pd.Timestamp.max,  # holds every outcome
                         **self._carried())

    def _carried(self) -> dict:
        """The experiment's design and arms, which the portfolio carries along."""
        exp = self.experiment
        if exp is None or not len(self.assignments):
            return {}
        design = {"experiment_id": exp.experiment_id, "arms": exp.arm_names,
                  "control": exp.control_arm, "factors": exp.factors,
                  "weights": exp.weights, "stratify_by": exp.stratify_by,
                  "source": "simulation"}
        design["assigned_at"] = pd.Timestamp(
            self.assignments["assigned_at"].min()).date().isoformat()
        return {"experiment": design, "strategies": dict(exp.arms)}

    def to_frame(self) -> pd.DataFrame:
        """Rows per table (see :meth:`Portfolio.to_frame`)."""
        return self.portfolio.to_frame()

    def headline(self, lang: str | None = None) -> str:
        """The simulated portfolio's size, dates and currencies, and its strategy or
        experiment."""
        return self.portfolio.headline(lang)

    def summary(self, lang: str | None = None) -> str:
        """The simulated portfolio in one paragraph (see :meth:`headline`)."""
        return self.headline(lang)

    def card_details(self) -> list:
        return [(self.truth._title(), self.truth.to_frame())]

    def __repr__(self) -> str:
        return f"<SimulationResult: {self.headline()}>"

    def snapshot(self, as_of) -> Portfolio:
        """The portfolio as an export taken on ``as_of`` would show it.

        Invoices issued after ``as_of`` and payments, reminders, escalations and write-offs
        dated after it have not happened yet on that date, so they are not in the export.
        """
        as_of = parse_date(as_of, "as_of")
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
                         source=f"simulation, exported {as_of.date()}", observed_until=as_of,
                         **self._carried())


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

    Args:
        customers: A customers table, or a number of customers to generate.
        plan: One :class:`Strategy` for everybody, or an :class:`Experiment` (customers are
            assigned to arms by :func:`collections_lab.model.plans.assign` on ``assigned_at``,
            default ``start``).
        before: With an experiment: the business-as-usual strategy for invoices issued before
            ``assigned_at`` (a pre-period, e.g. for covariate adjustment). True arm effects
            are computed on the invoices issued from ``assigned_at`` on.
        model: The :class:`BehaviourModel` (defaults documented there).
        start, end: Invoice issue dates range (inclusive). Payments may fall after ``end``: the story
            of every invoice is followed to its end (payment, escalation or write-off at
            ``model.horizon_days``); use ``as_of`` in the payment-times frame to censor.
        seed: Same seed, same output, byte for byte, whatever ``chunk_size``.
        chunk_size: About this many invoices are drawn together (chunks never split a customer); bounds
            the working memory of the draw. For portfolios too large to hold in memory use
            :func:`simulate_to_parquet`, which writes each chunk as it is drawn.
        progress: tqdm progress bar; by default on for runs of more than 655,360 potential invoices
            when someone is watching (a terminal or JupyterLab), off in scheduled reports
            (the report runner's kernels) and in other non-interactive runs.
        truth_replicates: Monte Carlo replicates for true effects of arms with installment offers (other
            arms' effects are computed analytically).
        population_seed: Seed of the population only: the generated customers, their traits (frailty,
            discount takers, distress episodes, typical amounts, terms, channels) and the
            invoice schedule. Default ``seed``. Keep it fixed and vary ``seed`` to redraw
            the assignment's randomness and every invoice's behaviour over **the same
            customers**, e.g. to measure power for one portfolio, whose true effects are
            then fixed.

    Example:
        >>> sim = cl.simulate(100, cl.example_strategies()["nudge_then_firm"], seed=1,
        ...                   start="2025-01-01", end="2025-03-31", progress=False)
        >>> print(sim.summary())
        100 customers, 241 invoices issued 2025-01-01 to 2025-03-28 in COP, EUR, MXN, USD.
    """
    setup, experiment, assignments = prepare(customers, plan, model, start, end, seed,
                                              invoices_per_month, assigned_at, before,
                                              population_seed)
    customers = setup.customers
    parts: dict[str, list] = {"invoices": [], "reminders": [], "payments": [], "truth": []}

    def keep(chunk: Chunk) -> None:
        for name in ("invoices", "reminders", "payments"):
            parts[name].append(chunk.tables[name])
        parts["truth"].append(chunk.truth_invoices)

    churned_at, truth_inputs = setup.run(chunk_size, progress, keep)
    tables = {k: concat_columns(v) for k, v in parts.items()}
    if "deadline_days" in tables["reminders"]:
        tables["reminders"]["deadline_days"] = tables["reminders"]["deadline_days"].astype(
            "Int64")
    truth = setup.truth(churned_at, tables.pop("truth"), truth_inputs, truth_replicates,
                        experiment)
    return SimulationResult(customers=customers, invoices=tables["invoices"],
                            reminders=tables["reminders"], payments=tables["payments"],
                            assignments=assignments, truth=truth, experiment=experiment)


def prepare(customers, plan, model, start, end, seed, invoices_per_month, assigned_at, before,
             population_seed=None):
    """Validate inputs, build the population and assignment: the part before the draw."""
    population_seed = seed if population_seed is None else int(population_seed)
    model = model or BehaviourModel()
    start, end = parse_date(start, "start"), parse_date(end, "end")
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
    assign_day = parse_date(assigned_at or start, "assigned_at").to_datetime64()

    setup = Setup(model=model, customers=customers, strategies=strategies,
                   arm_names=arm_names, n_arms=n_arms, cust_arm=cust_arm,
                   assign_day=assign_day, seed=seed, start=start, end=end,
                   invoices_per_month=invoices_per_month, population_seed=population_seed)
    return setup, experiment, assignments


@dataclass
class Chunk:
    """What one customer-aligned chunk of the simulation produced."""

    customers: np.ndarray  # customer positions covered
    churned_at: np.ndarray
    tables: dict
    truth_invoices: dict  # column arrays of the truth record's invoice table
    truth_inputs: dict  # per-invoice arrays (experiment period) for true effects


@dataclass
class Setup:
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
        self.traits = customer_traits(self.customers, self.model, self.population_seed,
                                       self.start, self.end)
        grid = invoice_grid(self.customers, self.start, self.end, self.population_seed,
                             self.invoices_per_month)
        self.c = grid["cust"].to_numpy()
        self.issue = grid["issue"].to_numpy()
        self.curves = HazardCurves(self.model, self.strategies + [None])
        self.id_width = max(6, len(str(len(self.c))))

    @property
    def names_all(self) -> np.ndarray:
        extra = ["pre-period"] if len(self.strategies) > self.n_arms else []
        return np.array(self.arm_names + extra, dtype=object)

    def chunks(self, chunk_size: int, progress: bool | None):
        """Yield :class:`Chunk` s of about ``chunk_size`` potential invoices, never
        splitting a customer (churn is resolved within a customer's invoices)."""
        n = len(self.c)
        size = max(1, int(chunk_size))
        targets = np.arange(size, n, size)
        bounds = np.unique(np.r_[0, np.searchsorted(self.c, self.c[targets], "left"), n])
        bar = progress_bar(progress, n)
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
        u = uniforms(self.seed, lo, hi)
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
        never_logit = (by_segment(model.never_pay_logit)[seg]
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

    def _draw(self, lo: int, hi: int, id_offset: int) -> Chunk:
        model = self.model
        x = self.invoice_inputs(lo, hi)
        c, issue, u, seg, terms, arm = x["c"], x["issue"], x["u"], x["seg"], x["terms"], x["arm"]
        mult, never_p, taker, severity = x["mult"], x["never_p"], x["taker"], x["severity"]
        o = draw_outcomes(model, self.curves, arm, seg, terms, taker, mult, never_p, u)

        end_date = issue + o.end_day * np.timedelta64(1, "D")
        # churn after each invoice, at its end date; later invoices are never issued
        churn_p = (by_segment(model.churn_base)[seg]
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

        inv_ids = make_ids("INV", len(idx), id_offset, self.id_width)
        channel = np.array(INVOICE_CHANNELS, dtype=object)[x["chan_code"]]
        tables = build_tables(self.customers, self.strategies, model, idx, c, arm, issue,
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
        return Chunk(customers, churned_at, tables, truth_invoices, truth_inputs)

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
