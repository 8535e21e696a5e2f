"""Experiment data prepared once as arrays: the input of every experiment estimator.

:class:`ExperimentData` takes the payment-times frame (see
:func:`collections_lab.data.payment_times.payment_times`, with its ``arm`` column) and turns it
into integer-day numpy arrays, customer codes (the clusters) and arm codes. Invoices issued
before the experiment ``start`` are kept apart as the **pre-period** (used for covariate
adjustment); invoices of customers outside the experiment are counted, never silently lost.

Example
-------
>>> from collections_lab.experiments.synthetic import synthetic_payment_times
>>> frame = synthetic_payment_times(n_customers=200, seed=1)
>>> data = ExperimentData.from_frame(frame, control="control", start="2025-03-01")
>>> data.arm_names
['control', 'treatment']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.dates import parse_date

REQUIRED = ("customer_id", "issue_date", "due_date", "duration", "outcome_code", "amount")
EPOCH = np.datetime64("1970-01-01", "D")
NO_DAY = np.iinfo(np.int64).min // 2


class ExperimentDataError(ValueError):
    """The frame cannot be analysed as an experiment; the message says why."""


def _days(values) -> np.ndarray:
    return (np.asarray(values, dtype="datetime64[D]") - EPOCH).astype(np.int64)


@dataclass
class ExperimentData:
    """Arrays for one experiment (invoices issued from ``start`` to ``as_of``).

    Attributes (one entry per experiment invoice unless said otherwise): ``customer``
    (codes 0..n_customers-1), ``issue_day`` (days since 1970-01-01), ``terms``,
    ``duration`` (days issue→end), ``cause`` (0 open, 1 paid, 2 escalated, 3 written off),
    ``amount``, ``weight`` (amount divided by its currency's mean amount, so amount-weighted
    metrics never add up different currencies), ``cost`` (discount + reminder cost, in the
    invoice currency), ``discount``, ``n_reminders``. Per customer: ``customer_ids``,
    ``customer_arm`` (arm code), ``customer_segment``, ``pre_last_issue_day`` (last
    pre-period issue day), ``pre`` (pre-period covariates, a DataFrame).
    """

    arm_names: list[str]
    control: str
    as_of_day: int
    start_day: int
    customer: np.ndarray
    issue_day: np.ndarray
    terms: np.ndarray
    duration: np.ndarray
    cause: np.ndarray
    amount: np.ndarray
    weight: np.ndarray
    discount: np.ndarray
    n_reminders: np.ndarray
    customer_ids: np.ndarray
    customer_arm: np.ndarray
    customer_segment: np.ndarray
    pre_last_issue_day: np.ndarray
    pre: pd.DataFrame
    currency: np.ndarray
    excluded: dict = field(default_factory=dict)
    customer_stratum: np.ndarray | None = None
    #: (stratum, arm code) -> assigned customers with no invoice at all in the frame
    #: (from the assignments table): part of the stratified randomisation all the same.
    unseen_assigned: dict = field(default_factory=dict)

    # -- construction ---------------------------------------------------------------
    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        control: str | None = None,
        start=None,
        as_of=None,
        arm_col: str = "arm",
        pre_period_due_plus: int = 15,
        stratified_by: str | None = None,
        assignments: pd.DataFrame | None = None,
    ) -> ExperimentData:
        """Prepare a payment-times frame for analysis.

        Parameters
        ----------
        frame
            Payment-times frame with an ``arm`` column (rows with no arm are customers
            outside the experiment; they are excluded and counted in ``excluded``).
        control
            Control arm name (default: ``frame.attrs["control"]``, which
            :meth:`Portfolio.payment_times` sets from the portfolio's experiment, else
            an arm named ``"control"``; otherwise it must be named).
        start
            Experiment start date; invoices issued before it form the pre-period used for
            covariate adjustment. Default: ``frame.attrs["start"]`` (the first assignment
            date, set by ``payment_times(..., assignments=...)``), else the first issue
            date (no pre-period).
        as_of
            Analysis date; default ``frame.attrs["as_of"]`` or the last end date.
        pre_period_due_plus
            ``d`` for the pre-period covariate "share paid by due + d".
        stratified_by
            Column the randomisation was stratified by (e.g. ``"segment"``, the default of
            :class:`~collections_lab.model.plans.Experiment`). Variances are then computed
            within strata, as the design requires; ``None`` assumes simple randomisation
            (conservative if the assignment was in fact stratified).
        assignments
            With ``stratified_by``: every randomised customer (``customer_id``, ``arm`` and
            the ``stratified_by`` column), e.g. the assignments table joined to the
            customers' segments. The stratified dealing balanced all of them, including
            customers with no invoice yet at an early readout; the within-stratum variance
            counts those (they contribute nothing to the estimate) instead of
            understating the variance by treating only the invoiced customers as balanced.
        """
        missing = [c for c in (*REQUIRED, arm_col) if c not in frame]
        if missing:
            raise ExperimentDataError(
                f"payment-times frame lacks column(s) {missing}; build it with "
                "payment_times(..., assignments=...) so it carries the arm"
            )
        if len(frame) == 0:
            raise ExperimentDataError("payment-times frame is empty")
        as_of = as_of if as_of is not None else frame.attrs.get("as_of")
        if as_of is not None:
            as_of_day = int(_days([parse_date(as_of, "as_of")])[0])
        elif "end_date" in frame:
            as_of_day = int(_days(frame["end_date"]).max())
        else:
            as_of_day = int((_days(frame["issue_date"]) + frame["duration"].to_numpy()).max())
        in_exp = frame[arm_col].notna().to_numpy()
        excluded = {"invoices_without_arm": int((~in_exp).sum())}
        f = frame.loc[in_exp]
        if len(f) == 0:
            raise ExperimentDataError(f"no invoice has an {arm_col!r}: no experiment to analyse")
        issue_all = _days(f["issue_date"])
        if start is None:
            start = frame.attrs.get("start")
        start_day = int(issue_all.min()) if start is None else int(_days([start])[0])
        after_as_of = issue_all > as_of_day
        excluded["invoices_after_as_of"] = int(after_as_of.sum())

        cust_codes, cust_ids = pd.factorize(f["customer_id"].astype(str), sort=True)
        cust_ids = np.asarray(cust_ids, dtype=object)
        cust_codes = cust_codes.astype(np.int64)
        arms = f[arm_col].astype(str).to_numpy()
        arm_names = sorted(set(arms))
        if control is None:
            control = frame.attrs.get("control")
        control = choose_control(arm_names, control)
        arm_names = [control] + [a for a in arm_names if a != control]
        arm_code = pd.Index(arm_names).get_indexer(arms)
        # one arm per customer (customers are randomised, not invoices)
        first_arm = np.full(len(cust_ids), -1)
        first_arm[cust_codes] = arm_code
        mixed = first_arm[cust_codes] != arm_code
        if mixed.any():
            bad = cust_ids[cust_codes[mixed][0]]
            raise ExperimentDataError(
                f"customer {bad!r} has invoices in more than one arm; assignment must be by "
                "customer"
            )
        seg_col = f["segment"].astype(str).to_numpy() if "segment" in f else np.full(len(f), "all")
        customer_segment = np.empty(len(cust_ids), dtype=object)
        customer_segment[cust_codes] = seg_col
        customer_stratum = None
        if stratified_by is not None:
            if stratified_by not in f:
                raise ExperimentDataError(
                    f"stratified_by={stratified_by!r} is not a column of the frame")
            customer_stratum = np.empty(len(cust_ids), dtype=object)
            customer_stratum[cust_codes] = f[stratified_by].astype(str).to_numpy()
        unseen = _unseen_assigned(assignments, stratified_by, cust_ids, arm_names)

        duration_all = f["duration"].to_numpy()
        if np.any(pd.isna(duration_all)):
            raise ExperimentDataError("column 'duration' has missing values")
        terms_all = (_days(f["due_date"]) - issue_all)
        cause_all = f["outcome_code"].to_numpy().astype(np.int64)
        amount_all = f["amount"].to_numpy(dtype=float)
        if np.any(~(amount_all > 0)):
            raise ExperimentDataError("invoice amounts must be > 0 (found zero, negative or NaN)")
        pre_mask = (issue_all < start_day) & ~after_as_of
        pre_last = np.full(len(cust_ids), NO_DAY)
        np.maximum.at(pre_last, cust_codes[pre_mask], issue_all[pre_mask])
        pre = _pre_period_covariates(
            cust_codes[pre_mask], len(cust_ids), terms_all[pre_mask],
            duration_all[pre_mask], cause_all[pre_mask], issue_all[pre_mask], start_day,
            pre_period_due_plus,
        )
        keep = (issue_all >= start_day) & ~after_as_of
        excluded["pre_period_invoices"] = int(pre_mask.sum())
        currency = f["currency"].astype(str).to_numpy() if "currency" in f else np.full(
            len(f), "")
        cur_k = currency[keep]
        amt_k = amount_all[keep]
        weight = np.empty(keep.sum())
        for cur in np.unique(cur_k):
            m = cur_k == cur
            weight[m] = amt_k[m] / amt_k[m].mean()
        discount = (f["discount_amount"].to_numpy(dtype=float)[keep]
                    if "discount_amount" in f else np.zeros(keep.sum()))
        n_rem = (f["n_reminders"].to_numpy()[keep].astype(np.int64)
                 if "n_reminders" in f else np.zeros(keep.sum(), np.int64))
        if keep.sum() == 0:
            raise ExperimentDataError("no invoice issued between the experiment start and as_of")
        return cls(
            arm_names=arm_names,
            control=control,
            as_of_day=as_of_day,
            start_day=start_day,
            customer=cust_codes[keep],
            issue_day=issue_all[keep],
            terms=terms_all[keep].astype(np.int64),
            duration=duration_all[keep].astype(np.int64),
            cause=cause_all[keep],
            amount=amt_k,
            weight=weight,
            discount=np.nan_to_num(discount),
            n_reminders=n_rem,
            customer_ids=cust_ids,
            customer_arm=first_arm,
            customer_segment=customer_segment,
            pre_last_issue_day=pre_last,
            pre=pre,
            currency=cur_k,
            excluded=excluded,
            customer_stratum=customer_stratum,
            unseen_assigned=unseen,
        )

    # -- views ------------------------------------------------------------------------
    @property
    def n_customers(self) -> int:
        return len(self.customer_ids)

    @property
    def invoice_arm(self) -> np.ndarray:
        return self.customer_arm[self.customer]

    @property
    def days_late(self) -> np.ndarray:
        return self.duration - self.terms

    @property
    def last_issue_day(self) -> np.ndarray:
        """Per customer, the last day it was issued an invoice (pre-period included)."""
        last = self.pre_last_issue_day.copy()
        np.maximum.at(last, self.customer, self.issue_day)
        return last

    def arm_invoices(self) -> np.ndarray:
        """Experiment invoices per arm code."""
        return np.bincount(self.invoice_arm, minlength=len(self.arm_names))

    def arm_weights(self) -> np.ndarray:
        """Sum of :attr:`weight` (currency-scaled amounts) per arm code."""
        arms = self.invoice_arm
        return np.array([self.weight[arms == a].sum() for a in range(len(self.arm_names))])

    def customers_in(self, arm: int) -> np.ndarray:
        """Boolean mask over customers of arm code ``arm`` that have experiment invoices."""
        has = np.bincount(self.customer, minlength=self.n_customers) > 0
        return has & (self.customer_arm == arm)

    def at(self, look_day: int) -> ExperimentData:
        """The data as it was on ``look_day`` (days since 1970-01-01): an earlier readout.

        Invoices issued later disappear; invoices that ended later are open (censored) at
        ``look_day``. Used by sequential analysis and to replay weekly readouts.
        """
        look_day = int(look_day)
        keep = self.issue_day <= look_day
        end = self.issue_day + self.duration
        ended = end <= look_day
        new = _subset(self, keep)
        new.duration = np.where(ended, self.duration, look_day - self.issue_day)[keep]
        new.cause = np.where(ended, self.cause, 0)[keep]
        new.discount = np.where(ended, self.discount, 0.0)[keep]
        new.as_of_day = look_day
        return new

    def subset_customers(self, customer_mask: np.ndarray) -> ExperimentData:
        """Only the invoices of customers in ``customer_mask`` (e.g. one segment)."""
        return _subset(self, customer_mask[self.customer])


def _subset(data: ExperimentData, keep: np.ndarray) -> ExperimentData:
    fields = ("customer", "issue_day", "terms", "duration", "cause", "amount", "weight",
              "discount", "n_reminders", "currency")
    kwargs = {name: getattr(data, name)[keep] for name in fields}
    return ExperimentData(
        arm_names=data.arm_names, control=data.control, as_of_day=data.as_of_day,
        start_day=data.start_day, customer_ids=data.customer_ids,
        customer_arm=data.customer_arm, customer_segment=data.customer_segment,
        pre_last_issue_day=data.pre_last_issue_day, pre=data.pre, excluded=dict(data.excluded),
        customer_stratum=data.customer_stratum, unseen_assigned=data.unseen_assigned,
        **kwargs,
    )


def choose_control(arm_names: list[str], control: str | None) -> str:
    """The control arm: ``control`` when given (it must be one of ``arm_names``), else an
    arm named ``"control"``; never a guess (the alphabetically first arm is rarely it)."""
    if control is None and "control" in arm_names:
        control = "control"
    if control is None:
        raise ExperimentDataError(
            f"which arm is the control? Name it: control=... (arms: {arm_names}); "
            "a portfolio loaded with its experiment.json carries it")
    if control not in arm_names:
        raise ExperimentDataError(f"control arm {control!r} not among arms {arm_names}")
    return control


def assigned_units(assignments: pd.DataFrame, customers: pd.DataFrame | None,
                   columns) -> pd.DataFrame:
    """The randomised units: ``customer_id`` and ``arm`` of every assignment, with the
    customers' ``columns`` (e.g. ``segment``, the stratum) joined on; a customer missing
    from ``customers`` gets ``"unknown"``. Used by the SRM check and the stratified
    variance, which both count every assigned customer, invoiced or not.
    """
    units = assignments[["customer_id", "arm"]].copy()
    for col in sorted(set(columns) - {None}):
        if customers is not None and col in customers:
            by_id = customers.set_index("customer_id")[col]
            units[col] = units["customer_id"].map(by_id).fillna("unknown")
    return units


def _unseen_assigned(assignments, stratified_by, known_ids, arm_names) -> dict:
    """Count, per (stratum, arm code), assigned customers absent from the frame."""
    if assignments is None or stratified_by is None or len(assignments) == 0:
        return {}
    missing = [c for c in ("customer_id", "arm", stratified_by) if c not in assignments]
    if missing:
        raise ExperimentDataError(
            f"assignments lack column(s) {missing}: give customer_id, arm and the "
            f"stratification column {stratified_by!r} of every assigned customer")
    ids = assignments["customer_id"].astype(str)
    unseen = assignments.loc[~ids.isin(set(known_ids))]
    unseen = unseen[unseen["arm"].astype(str).isin(arm_names)]
    codes = {name: i for i, name in enumerate(arm_names)}
    counts = unseen.groupby([unseen[stratified_by].astype(str),
                             unseen["arm"].astype(str)]).size()
    return {(stratum, codes[arm]): int(n) for (stratum, arm), n in counts.items()}


def _pre_period_covariates(cust, n_customers, terms, duration, cause, issue, start_day, d):
    """Per-customer pre-experiment payment behaviour (covariates for adjustment).

    Only what was known at the experiment start counts: an invoice's status at ``start``
    (open invoices are censored there). Covariates: ``pre_paid_by_due_d`` (share of
    pre-period invoices whose due+d day had passed at start that were paid by due+d),
    ``pre_days_late`` (mean days late of those paid, capped at 90), ``pre_log_invoices``
    and ``pre_has_history`` (0/1; customers without history get arm-neutral zeros).
    """
    end = issue + duration
    ended = end < start_day
    cause_at = np.where(ended, cause, 0)
    late = np.clip(np.where(ended, duration, start_day - issue) - terms, -60, 90)
    resolvable = issue + terms + d < start_day
    paid_by = (cause_at == 1) & (late <= d)
    n_res = np.bincount(cust[resolvable], minlength=n_customers)
    share = np.bincount(cust[resolvable], paid_by[resolvable], minlength=n_customers)
    paid = cause_at == 1
    n_paid = np.bincount(cust[paid], minlength=n_customers)
    late_sum = np.bincount(cust[paid], late[paid], minlength=n_customers)
    n_all = np.bincount(cust, minlength=n_customers)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n_res > 0, share / np.maximum(n_res, 1), np.nan)
        mean_late = np.where(n_paid > 0, late_sum / np.maximum(n_paid, 1), np.nan)
    has = n_all > 0
    pre = pd.DataFrame({
        "pre_paid_by_due_d": share,
        "pre_days_late": mean_late,
        "pre_log_invoices": np.log1p(n_all),
        "pre_has_history": has.astype(float),
    })
    # Missing covariates get the overall mean (a constant, so it cannot favour an arm).
    for col in ("pre_paid_by_due_d", "pre_days_late"):
        fill = np.nanmean(pre[col]) if np.isfinite(pre[col]).any() else 0.0
        pre[col] = pre[col].fillna(fill)
    return pre
