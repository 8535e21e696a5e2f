"""Everything the "time to payment" report shows, computed in one call (keeps the notebook thin).

:func:`time_to_payment_report` takes a :class:`~collections_lab.data.portfolio.Portfolio`
and an as-of date and returns a :class:`TimeToPaymentReport` holding the survival curves,
log-rank test, RMST, drivers (Cox with customer-clustered errors, PH check, AFT, reminder
effect as a time-varying exposure), competing outcomes, never-payer share, payment-date
predictions for open invoices with their calibration on held-back history, and the
expected cash per week and currency. ``executive_summary(lang)`` gives the sentences of
the report's summary box, in English or Spanish.

Example
-------
>>> rep = time_to_payment_report(portfolio, as_of="2025-09-30")
>>> len(rep.executive_summary("es")) > 0
True
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..data.dates import accepts_allow_future, resolve_as_of
from ..i18n import ResultMixin, Summary, format_money, format_number, format_pct, resolve, t
from ._common import SurvivalInputError
from .competing import CumulativeIncidence, cumulative_incidence
from .cure import CureFractionResult, cure_fraction
from .curves import LogRankResult, SurvivalCurves, kaplan_meier, logrank, prob_paid_by_due
from .prediction import (
    CalibrationResult,
    PaymentDatePredictor,
    PaymentPredictions,
    calibrate_predictions,
    expected_cash,
)
from .regression import (
    AFTResult,
    CoxResult,
    PHCheck,
    check_proportional_hazards,
    concordance,
    fit_aft,
    fit_cox,
    fit_time_varying_cox,
    reminder_intervals,
)
from .rmst import RMSTResult, rmst

#: Invoice and customer covariates used for the drivers when present and not constant.
DRIVERS = ("segment", "disputed", "payment_link", "channel")


@dataclass
class TimeToPaymentReport(ResultMixin):
    """All results of the time-to-payment report (see module docstring)."""

    as_of: pd.Timestamp
    by: str
    horizon: int
    frame: pd.DataFrame
    curves: SurvivalCurves
    curves_due: SurvivalCurves
    logrank: LogRankResult | None
    rmst: RMSTResult
    cox: CoxResult | None
    ph_check: PHCheck | None
    aft: AFTResult | None
    reminders: CoxResult | None
    outcomes: CumulativeIncidence
    never_paid: CureFractionResult | None
    predictions: PaymentPredictions
    calibration: CalibrationResult | None
    cash: pd.DataFrame
    notes: list
    concordance: float | None = None
    title = "Time to payment"

    def to_frame(self) -> pd.DataFrame:
        med = self.curves.median().set_index("group")
        out = med[["median_days"]].join(self.rmst.table.set_index("group")[["rmst"]])
        # per payment-terms group, averaged: the due-axis curve is biased with mixed terms
        paid = prob_paid_by_due(self.frame, [15], by=self.by, cluster_col=None)
        return out.join(paid.set_index("group")["prob_paid"].rename("p_paid_by_due_15")).reset_index()

    def headline(self, lang: str | None = None) -> str:
        """The share paid by due and by due + 15 days at ``as_of``: what a card starts with."""
        return str(self.executive_summary(lang)[0])

    def summary(self, lang: str | None = None) -> str:
        """The executive summary as one paragraph (each item's sentence)."""
        lang, _ = resolve(lang)
        items = [str(i.summary(lang)) if hasattr(i, "summary") else str(i)
                 for i in self.executive_summary(lang)]
        return Summary(" ".join(items), items=items)

    def card_details(self) -> list:
        parts = [self.logrank, self.rmst, self.cox, self.outcomes]
        return [(r._title(), r.to_frame()) for r in parts if r is not None]

    def executive_summary(self, lang: str | None = None) -> list:
        """Sentences (and result objects) for the report's summary box."""
        lang, _ = resolve(lang)
        # point estimates per payment-terms group, averaged (unbiased with mixed terms)
        p15 = prob_paid_by_due(self.frame, [0, 15], cluster_col=None).set_index("day")
        items = [
            t("ttp.as_of_paid", lang, date=self.as_of.date(),
              p0=format_pct(p15.loc[0, "prob_paid"], 0, lang),
              p15=format_pct(p15.loc[15, "prob_paid"], 0, lang)),
            self.curves,
            self.rmst,
        ]
        if self.cox is not None:
            items.append(self.cox)
        if self.concordance is not None:
            c = format_number(self.concordance, 2, lang)
            items.append(t("ttp.concordance", lang, c=c, chance=format_number(0.5, 1, lang)))
        if self.reminders is not None:
            row = self.reminders.table.iloc[0]
            change = row["hazard_ratio"] - 1
            items.append(t("ttp.reminders", lang, change=format_pct(change, 0, lang),
                           hr=format_number(row["hazard_ratio"], 2, lang),
                           lo=format_number(row["ci_low"], 2, lang),
                           hi=format_number(row["ci_high"], 2, lang)))
        items.append(self.outcomes.summary(lang, day=self.horizon))
        if self.never_paid is not None:
            items.append(self.never_paid)
        if self.calibration is not None:
            items.append(self.calibration)
        weekly = self.cash[self.cash["period"] == "week"]
        first4 = weekly[weekly["week"] <= 4].groupby("currency")["expected_amount"].sum()
        if len(first4):
            money = ", ".join(format_money(v, c, lang) for c, v in first4.items())
            items.append(t("ttp.expected_cash", lang, money=money))
        items.extend(self.notes)
        return items


def _usable(frame: pd.DataFrame, cols) -> list[str]:
    return [c for c in cols if c in frame.columns and frame[c].nunique() > 1]


def open_invoice_forecast(frame: pd.DataFrame, as_of, by="segment", weeks: int = 12
                          ) -> tuple[PaymentPredictions, pd.DataFrame]:
    """Payment-day predictions of the open invoices of a payment-times ``frame`` and the
    weekly cash forecast of their open balances (:func:`expected_cash`, with its band).

    The forecast is of what is still owed: an invoice paid in part contributes its
    balance. Escalated invoices are not open here (their story ended at escalation):
    what they still owe is at legal collection, outside the forecast.
    """
    predictor = PaymentDatePredictor(by=by).fit(frame)
    open_ = frame[frame["outcome"] == "open"]
    if {"paid_amount", "fee_amount", "discount_amount"} <= set(open_.columns):
        open_ = open_.assign(balance=open_["amount"] - (open_["paid_amount"]
                             - open_["fee_amount"] + open_["discount_amount"]))
    if not len(open_):
        return PaymentPredictions(open_.head(0), 0.8), pd.DataFrame(
            columns=["currency", "week", "period", "expected_amount"])
    preds = predictor.predict(open_)
    return preds, expected_cash(preds, as_of, weeks=weeks)


@accepts_allow_future
def time_to_payment_report(
    portfolio,
    as_of=None,
    by: str = "segment",
    horizon: int = 90,
    currency: str | None = None,
    calibration_days: int = 90,
    forecast_weeks: int = 12,
    experiment_id: str | None = None,
) -> TimeToPaymentReport:
    """Compute every result of the time-to-payment report for a portfolio.

    Args:
        portfolio: the five tables (:class:`~collections_lab.data.portfolio.Portfolio`).
        as_of: report date (default: last date in the data); open invoices censored there.
        by: grouping column for curves, RMST, outcomes and predictions (e.g. "segment",
            "arm", "channel").
        horizon: τ for RMST and outcome shares, in days (shortened to the data if needed).
        currency: analyse only invoices in this currency (None = all; amounts are never
            summed across currencies).
        calibration_days: predictions are checked on invoices open this many days before
            ``as_of``.
        forecast_weeks: weeks of expected cash.

    Steps that cannot be estimated on the data (e.g. no reminders, a constant covariate)
    are left out with a note in the summary instead of failing the report.

    Example:
        >>> report = cl.time_to_payment_report(portfolio, "2025-09-30")
        >>> print(report.headline())
        As of 2025-09-30: 70% of invoices are paid by their due date and 92% within 15
        days after it (open invoices count as partial information, not dropped).
    """
    as_of = resolve_as_of(portfolio, as_of)
    frame = portfolio.payment_times(as_of=as_of, experiment_id=experiment_id)
    if currency:
        frame = frame[frame["currency"] == currency]
        if frame.empty:
            raise SurvivalInputError(f"time_to_payment_report: no invoice in currency {currency!r}")
    notes: list[str] = []
    curves = kaplan_meier(frame, by=by, cluster_col="customer_id")
    curves_due = kaplan_meier(frame, by=by, axis="due", cluster_col="customer_id")
    # one group (a portfolio without segments): nothing to compare, the rest still runs
    lr = logrank(frame, by) if by and frame[by].nunique() > 1 else None
    last = int(min(curves.to_frame().groupby("group")["day"].max()))
    tau = min(horizon, last)
    if tau < horizon:
        notes.append(f"RMST horizon shortened to {tau} days (the shortest follow-up of a group).")
    rm = rmst(frame, tau, by=by, cluster_col="customer_id")
    cox = ph = aft = conc = None
    drivers = _usable(frame, DRIVERS)
    if drivers:
        try:
            cox = fit_cox(frame, drivers, cluster_col="customer_id")
            ph = check_proportional_hazards(cox)
            conc = concordance(cox, max_rows=20_000)
            aft = fit_aft(frame, drivers, distribution="weibull")
        except SurvivalInputError as exc:
            notes.append(f"Drivers model skipped: {exc}")
    rem = None
    if len(portfolio.reminders):
        try:
            rem = fit_time_varying_cox(reminder_intervals(frame, portfolio.reminders), ["reminded"])
        except SurvivalInputError as exc:
            notes.append(f"Reminder effect skipped: {exc}")
    outcomes = cumulative_incidence(frame, by=by)
    try:
        never = cure_fraction(frame, by=by)
    except SurvivalInputError as exc:
        never = None
        notes.append(f"Never-payer share skipped: {exc}")
    preds, cash = open_invoice_forecast(frame, as_of, by, forecast_weeks)
    try:
        cal = calibrate_predictions(frame, as_of - pd.Timedelta(days=calibration_days), by=by)
    except SurvivalInputError as exc:
        cal = None
        notes.append(f"Calibration skipped: {exc}")
    return TimeToPaymentReport(as_of, by, tau, frame, curves, curves_due, lr, rm, cox, ph, aft, rem,
                               outcomes, never, preds, cal, cash, notes, conc)
