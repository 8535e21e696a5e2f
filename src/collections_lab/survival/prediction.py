"""When will each open invoice be paid? Conditional payment-day distributions and cash.

For an invoice open for ``a`` days, the chance it is paid by day ``u`` since issue is
P(paid by u | still open at a) = (F(u) - F(a)) / S(a), where F is the Aalen–Johansen
cumulative incidence of payment (escalation and write-off compete, so they are never
"paid") and S the share with no outcome yet, both estimated on the history of its group.
From that distribution come a point prediction (conditional median) and an interval
(central ``level``: 80% by default); when the distribution never reaches the upper
quantile within the history's horizon the upper end is "not within the horizon" (inf).

:func:`calibrate_predictions` checks those intervals on held-back history: the data is
cut at an earlier date, predictions are made for the invoices open then, and compared with
what happened afterwards (share paid inside the 80% interval should be about 80%).
:func:`expected_cash` turns the distributions into expected collections per week and
currency (never summed across currencies).

Example
-------
>>> model = PaymentDatePredictor(by="segment").fit(pt)
>>> preds = model.predict(pt[pt["outcome"] == "open"])
>>> len(preds.table) == int((pt["outcome"] == "open").sum())
True
>>> round(calibrate_predictions(pt, cutoff="2025-05-31").coverage, 1)   # of an 80% interval
0.8
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.dates import parse_date
from ..i18n import format_money, format_pct, t
from ..i18n.display import card_html, value_label
from ._common import (
    NotedResult,
    SurvivalInputError,
    as_list,
    caution,
    group_labels,
    note_groups_without_events,
    prepare_groups,
    require_columns,
)
from .competing import aalen_johansen

PAID = 1


def censor_at(frame: pd.DataFrame, cutoff) -> pd.DataFrame:
    """The payment-times frame as it looked on ``cutoff`` (held-back history).

    Invoices issued after ``cutoff`` are left out (they did not exist yet); those whose
    story ended after ``cutoff`` become open, censored at ``cutoff``.
    """
    require_columns(frame, ["issue_date", "end_date", "duration", "event", "outcome",
                            "outcome_code"], "censor_at")
    cutoff = parse_date(cutoff, "cutoff")
    out = frame[frame["issue_date"] <= cutoff].copy()
    if out.empty:
        raise SurvivalInputError(f"censor_at: no invoice was issued on or before {cutoff.date()}")
    later = out["end_date"] > cutoff
    out.loc[later, "end_date"] = cutoff
    out.loc[later, "duration"] = (cutoff - out.loc[later, "issue_date"]).dt.days
    out.loc[later, "event"] = False
    out.loc[later, "outcome"] = "open"
    out.loc[later, "outcome_code"] = 0
    return out


@dataclass
class PaymentPredictions(NotedResult):
    """Predicted payment day per open invoice: median and central interval (days since issue).

    ``p_paid_horizon``: probability of being paid within the history's horizon at all.
    Infinite bounds (and NaT dates) mean "not within the horizon".
    """

    table: pd.DataFrame
    level: float
    cdf_: dict = field(default_factory=dict, repr=False)  # (group, age) -> P(paid by age+k)
    notes: list = field(default_factory=list)
    by: tuple = ()  # the predictor's grouping columns (``cdf_``'s group labels come from them)
    title = "Payment-date predictions"

    def to_frame(self) -> pd.DataFrame:
        return self.table

    def summary(self, lang: str | None = None) -> str:
        tab = self.table
        within = np.isfinite(tab["predicted_day"]).mean() if len(tab) else np.nan
        return (t("surv_predictions_summary", lang, n=len(tab), within=format_pct(within, 0, lang),
                  level=format_pct(self.level, 0, lang))
                + self.notes_text(lang))


class PaymentDatePredictor:
    """Conditional payment-day distributions by group, fitted on history.

    Args:
        by: grouping column(s) (e.g. ``"segment"``); None = one curve for all.
        level: central probability of the prediction interval (0.8 = 10th–90th pct).

    Example:
        >>> preds = PaymentDatePredictor(by="segment").fit(pt).predict(open_pt)
        >>> preds.table[["invoice_id", "predicted_date", "low_date", "high_date"]].shape
        (25, 4)
    """

    def __init__(self, by=None, level: float = 0.8):
        if not 0 < level < 1:
            raise SurvivalInputError(f"PaymentDatePredictor: level must be in (0, 1), got {level}")
        self.by = as_list(by)
        self.level = level

    def fit(self, history: pd.DataFrame, weight_col: str | None = None) -> PaymentDatePredictor:
        """Estimate F (payment incidence) and S (no outcome yet) per group on ``history``.

        A group whose history has no payment gets a warning: its open invoices are
        predicted "not within the horizon" (inf), which is all that history can say.
        """
        self.level_notes_: list = []
        data, names = prepare_groups(history, self.by, "PaymentDatePredictor.fit", "duration",
                                     None, "outcome_code", weight_col, notes=self.level_notes_)
        self.notes_ = list(self.level_notes_)
        self.unpaid_groups_ = note_groups_without_events(
            data, "PaymentDatePredictor.fit", "note.consequence_predictor", self.notes_,
            cause=PAID)
        self.curves_ = {}
        for g in names:
            tab = data[g].table(n_causes=3, lo=0)
            f, _ = aalen_johansen(tab, PAID)
            self.curves_[g] = (tab.days, f, tab.survival(), tab.at_risk)
        self.groups_ = names
        return self

    def _repr_html_(self) -> str:
        """The notebook card: what the predictor was fitted on, headline first."""
        by = ", ".join(self.by) or value_label("all", "segment")
        if not hasattr(self, "curves_"):
            return card_html(t("predictor.unfitted", by=by, level=format_pct(self.level)),
                             "PaymentDatePredictor")
        rows = [{"group": g, "invoices": int(round(n[0])) if len(n) else 0,
                 "paid_share": float(f[-1]) if len(f) else float("nan")}
                for g, (_, f, _, n) in self.curves_.items()]
        headline = t("predictor.fitted", by=by, groups=len(rows),
                     level=format_pct(self.level))
        return card_html(headline, "PaymentDatePredictor",
                         tables=[("", pd.DataFrame(rows).set_index("group"))],
                         notes=[n.text() for n in self.notes_])

    def conditional_cdf(self, group: str, age: int) -> np.ndarray | None:
        """P(paid by day age+k | open at day age) for k = 0, 1, ... up to the horizon."""
        days, f, s, n = self.curves_[group]
        if age >= len(days) - 1 or s[age] <= 0:
            return None
        return (f[age:] - f[age]) / s[age]

    def predict(self, open_invoices: pd.DataFrame) -> PaymentPredictions:
        """Median and interval of the payment day of each open invoice (``duration`` = age)."""
        if not hasattr(self, "curves_"):
            raise SurvivalInputError("PaymentDatePredictor: call fit(history) first")
        cols = ["invoice_id", "duration", *self.by]
        require_columns(open_invoices, cols, "PaymentDatePredictor.predict")
        labels = group_labels(open_invoices, self.by, "predict").to_numpy()
        unknown = sorted(set(labels) - set(self.groups_))
        if unknown:
            raise SurvivalInputError(f"predict: group(s) {unknown} have no history to learn from")
        lo_q, hi_q = (1 - self.level) / 2, 1 - (1 - self.level) / 2
        ages = open_invoices["duration"].to_numpy(dtype=np.int64)
        cdfs, rows = {}, []
        for g, age in set(zip(labels, ages, strict=True)):
            cdf = self.conditional_cdf(g, int(age))
            cdfs[(g, int(age))] = cdf
        for g, age in zip(labels, ages, strict=True):
            cdf = cdfs[(g, int(age))]
            if cdf is None:
                rows.append((np.nan, np.nan, np.nan, np.nan))
                continue
            q = [_quantile(cdf, p) for p in (0.5, lo_q, hi_q)]
            rows.append((cdf[-1], *[int(age) + x for x in q]))
        # a grouping column that is also a kept column (by="currency") is kept once
        out = open_invoices[[c for c in dict.fromkeys(["invoice_id", "customer_id", "currency",
                                                       "amount", "balance", "issue_date",
                                                       *self.by])
                             if c in open_invoices]].copy()
        out["age_days"] = ages
        arr = np.array(rows, dtype=float).reshape(-1, 4)
        out["p_paid_horizon"] = arr[:, 0]
        out["predicted_day"], out["low_day"], out["high_day"] = arr[:, 1], arr[:, 2], arr[:, 3]
        out["no_history"] = np.isnan(arr[:, 0])
        if "issue_date" in out:
            for c, name in (("predicted_day", "predicted_date"), ("low_day", "low_date"),
                            ("high_day", "high_date")):
                days = out[c].where(np.isfinite(out[c]))
                out[name] = out["issue_date"] + pd.to_timedelta(days, unit="D")
        notes = list(self.level_notes_)
        blind = sorted(set(labels) & set(self.unpaid_groups_))
        if blind:
            caution(notes, "note.predict_no_date", n=int(np.isin(labels, blind).sum()),
                    groups=blind)
        return PaymentPredictions(out.reset_index(drop=True), self.level,
                                  {k: v for k, v in cdfs.items() if v is not None}, notes,
                                  tuple(self.by))


def _quantile(cdf: np.ndarray, p: float) -> float:
    """Days after the age at which the conditional CDF first reaches ``p`` (inf if never)."""
    hit = np.nonzero(cdf >= p - 1e-12)[0]
    return float(hit[0]) if len(hit) else np.inf


@dataclass
class CalibrationResult(NotedResult):
    """How often invoices were actually paid inside their prediction interval.

    Attributes:
        coverage: share of evaluated invoices whose outcome fell inside the interval (a
            payment day inside it, or "not paid within the horizon" when the upper end is
            inf); should be near ``level``.
        coverage_paid: among the evaluated invoices that were actually paid, the share
            paid inside their interval (the issue's "what share of invoices actually paid
            inside their 80% interval"). It is *not* expected to equal ``level``: being
            paid within the data's follow-up favours early payments. Its reference is
            ``expected_coverage_paid``, the share the fitted distributions predict for
            the invoices paid within each one's follow-up (sum over invoices of P(paid
            inside the interval and within follow-up) / sum of P(paid within follow-up)).
    """

    coverage: float
    level: float
    n_evaluated: int
    n_unknown: int
    by_group: pd.DataFrame
    details: pd.DataFrame = field(repr=False, default=None)
    coverage_paid: float = np.nan
    expected_coverage_paid: float = np.nan
    n_paid: int = 0
    notes: list = field(default_factory=list)
    title = "Calibration of payment-date intervals"

    def to_frame(self) -> pd.DataFrame:
        return self.by_group

    def summary(self, lang: str | None = None) -> str:
        return (t("surv_calibration_summary", lang, coverage=format_pct(self.coverage, 1, lang),
                  n=self.n_evaluated, level=format_pct(self.level, 0, lang), unknown=self.n_unknown,
                  paid=self.n_paid, coverage_paid=format_pct(self.coverage_paid, 1, lang),
                  expected=format_pct(self.expected_coverage_paid, 1, lang))
                + self.notes_text(lang))


def calibrate_predictions(frame: pd.DataFrame, cutoff, by=None, level: float = 0.8) -> CalibrationResult:
    """Check prediction intervals on held-back history.

    The frame is cut at ``cutoff`` (:func:`censor_at`), the predictor is fitted on that
    past, and each invoice open at ``cutoff`` is compared with its real outcome in
    ``frame``. An infinite upper bound covers "never paid within the horizon". Invoices
    whose fate relative to the interval is still unknown (censored inside it) are counted
    separately, never as hits or misses. Coverage among the invoices actually paid is
    reported too, next to what the model expects for them (see :class:`CalibrationResult`).

    Example:
        >>> res = calibrate_predictions(pt, cutoff="2025-05-31", by="segment")
        >>> round(res.coverage, 2), round(res.coverage_paid, 2), round(res.expected_coverage_paid, 2)
        (0.79, 0.84, 0.88)
    """
    past = censor_at(frame, cutoff)
    model = PaymentDatePredictor(by, level).fit(past)
    targets = past[past["outcome"] == "open"]
    if targets.empty:
        raise SurvivalInputError("calibrate_predictions: no invoice was open at the cutoff")
    preds = model.predict(targets).table
    actual = frame.set_index("invoice_id").loc[preds["invoice_id"]]
    day = actual["duration"].to_numpy(dtype=float)
    paid = actual["event"].to_numpy(dtype=bool)
    ended_unpaid = actual["outcome"].isin(["escalated", "written_off"]).to_numpy()
    lo, hi = preds["low_day"].to_numpy(), preds["high_day"].to_numpy()
    inside = np.where(paid, (day >= lo) & (day <= hi), np.isinf(hi))
    # still open in the full frame: known only if the interval is already decided
    open_now = ~paid & ~ended_unpaid
    known = ~open_now | (day > hi) | (np.isinf(hi) & (day >= lo))
    inside = np.where(open_now & (day > hi), False, inside)
    inside = np.where(open_now & np.isinf(hi) & (day >= lo), True, inside)
    ok = known & ~preds["no_history"].to_numpy()
    details = preds.assign(actual_day=day, paid=paid, inside=inside, known=ok)
    groups = details["invoice_id"].map(lambda _: "all") if not model.by else \
        group_labels(details, model.by, "calibrate")
    paid_ok = ok & paid
    expected = _expected_paid_inside(preds, model, frame, lo, hi)
    details = details.assign(p_paid_followup=expected[0], p_paid_inside=expected[1])
    by_group = (details[ok].assign(group=groups[ok]).groupby("group")
                .agg(coverage=("inside", "mean"), invoices=("inside", "size")).reset_index())
    paid_cov = (details[paid_ok].assign(group=groups[paid_ok]).groupby("group")
                .agg(coverage_paid=("inside", "mean"), paid=("inside", "size")))
    by_group = by_group.join(paid_cov, on="group")
    return CalibrationResult(
        float(inside[ok].mean()) if ok.any() else np.nan, level, int(ok.sum()), int((~ok).sum()),
        by_group, details,
        coverage_paid=float(inside[paid_ok].mean()) if paid_ok.any() else np.nan,
        expected_coverage_paid=float(expected[1].sum() / expected[0].sum()) if expected[0].sum() > 0 else np.nan,
        n_paid=int(paid_ok.sum()), notes=list(model.notes_))


def _expected_paid_inside(preds: pd.DataFrame, model: PaymentDatePredictor, frame: pd.DataFrame,
                          lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per target: model P(paid within its follow-up) and P(paid inside [lo, hi] and within it).

    Follow-up of an invoice runs to the full frame's last ``end_date`` (its as-of date).
    Days beyond the history's horizon use the last value of the conditional CDF.
    """
    as_of = pd.Timestamp(frame["end_date"].max()).normalize()
    follow = (as_of - pd.to_datetime(preds["issue_date"])).dt.days.to_numpy()
    labels = (group_labels(preds, model.by, "calibrate").to_numpy() if model.by
              else np.array(["all"] * len(preds)))
    p_follow, p_inside = np.zeros(len(preds)), np.zeros(len(preds))
    for i, (g, age) in enumerate(zip(labels, preds["age_days"].to_numpy(), strict=True)):
        cdf = model.conditional_cdf(g, int(age)) if g in model.curves_ else None
        if cdf is None or not np.isfinite(lo[i]):
            continue

        def by_day(day, cdf=cdf, age=age):  # P(paid by day `day` since issue | open at age)
            k = int(min(day - age, len(cdf) - 1))
            return float(cdf[k]) if k >= 0 else 0.0

        end = follow[i] if np.isinf(hi[i]) else min(hi[i], follow[i])
        p_follow[i] = by_day(follow[i])
        p_inside[i] = max(0.0, by_day(end) - by_day(lo[i] - 1)) if end >= lo[i] else 0.0
    return p_follow, p_inside


#: Monte Carlo draws behind the cash forecast's band (see :func:`expected_cash`).
CASH_DRAWS = 1000


def expected_cash(predictions: PaymentPredictions, as_of, weeks: int = 12,
                  level: float = 0.8, draws: int = CASH_DRAWS, seed: int = 0) -> pd.DataFrame:
    """Expected collections of open invoices per week after ``as_of``, per currency,
    with a ``level`` (80%) band.

    Each invoice contributes its open balance (column ``balance`` when the predictions
    carry it, else ``amount``) × P(paid in that week | open now). The last row per
    currency, ``period = "later/never"``, holds what is not expected within ``weeks``.

    **The band** comes from the model's predictive distribution by simulation: in each of
    ``draws`` draws every open invoice is paid in one week (or not within ``weeks``) with
    the probabilities above (``draws``: 1,000, fewer — at least 200 — beyond 20,000 open
    invoices), and the weekly sums per currency are kept; ``low`` /
    ``high`` are their central ``level`` quantiles. Invoices of one customer share one
    random number (a customer that pays late pays all its invoices late: the
    conservative, wider choice); customers are independent. The band covers who pays
    when, not the error of the payment curves themselves. ``cumulative``,
    ``cumulative_low`` and ``cumulative_high`` are the expected total up to each week and
    its band (the last week's is the forecast's total). ``seed`` makes the band
    reproducible.

    Example:
        >>> predictor = cl.PaymentDatePredictor().fit(pt)
        >>> cash = cl.expected_cash(predictor.predict(open_pt), "2025-09-30", weeks=4)
        >>> cash.columns.tolist()[:5]
        ['currency', 'week', 'period_start', 'period_end', 'expected_amount']
    """
    tab = predictions.table
    require_columns(tab, ["amount", "currency", "age_days"], "expected_cash")
    if not 0 < level < 1:
        raise SurvivalInputError(f"expected_cash: level must be in (0, 1), got {level}")
    as_of = parse_date(as_of, "as_of")
    horizon = 7 * weeks
    rows = []
    fixed = {"invoice_id", "customer_id", "currency", "amount", "balance", "issue_date",
             "age_days", "p_paid_horizon", "predicted_day", "low_day", "high_day",
             "no_history", "predicted_date", "low_date", "high_date"}
    by = list(predictions.by) or [c for c in tab.columns if c not in fixed]
    labels = group_labels(tab, by, "expected_cash").to_numpy() if by else np.array(["all"] * len(tab))
    probs = np.zeros((len(tab), weeks))
    for i, (g, age) in enumerate(zip(labels, tab["age_days"].to_numpy(), strict=True)):
        cdf = predictions.cdf_.get((g, int(age)))
        if cdf is None:
            continue
        grid = np.concatenate([cdf, np.full(max(0, horizon + 1 - len(cdf)), cdf[-1])])[: horizon + 1]
        probs[i] = np.diff(grid[:: 7])[:weeks]
    amounts = tab["balance" if "balance" in tab else "amount"].to_numpy(dtype=float)
    # large books: fewer draws (at least 200) keep the band's cost near 20M invoice-draws
    draws = int(min(draws, max(200, 20_000_000 // max(len(tab), 1))))
    sims = _simulated_weeks(probs, amounts, tab, draws, seed)
    q = ((1 - level) / 2, 1 - (1 - level) / 2)
    for cur in sorted(tab["currency"].unique()):
        m = (tab["currency"] == cur).to_numpy()
        expected = (probs[m] * amounts[m, None]).sum(0)
        weekly = sims[cur]  # draws x weeks
        low, high = np.quantile(weekly, q, axis=0)
        cum_low, cum_high = np.quantile(weekly.cumsum(axis=1), q, axis=0)
        cum = expected.cumsum()
        for k in range(weeks):
            rows.append({"currency": cur, "week": k + 1,
                         "period_start": as_of + pd.Timedelta(days=7 * k + 1),
                         "period_end": as_of + pd.Timedelta(days=7 * (k + 1)),
                         "expected_amount": expected[k], "low": low[k], "high": high[k],
                         "cumulative": cum[k], "cumulative_low": cum_low[k],
                         "cumulative_high": cum_high[k]})
        rest = amounts[m].sum() - expected.sum()
        rest_low, rest_high = np.quantile(amounts[m].sum() - weekly.sum(axis=1), q)
        rows.append({"currency": cur, "week": np.nan, "period_start": pd.NaT, "period_end": pd.NaT,
                     "expected_amount": rest, "low": rest_low, "high": rest_high,
                     "period": "later/never"})
    out = pd.DataFrame(rows)
    out["period"] = out.get("period", pd.Series(index=out.index, dtype=object)).fillna("week")
    out["open_amount"] = out["currency"].map(
        pd.Series(amounts, index=tab.index).groupby(tab["currency"]).sum())
    out.attrs["level"] = level
    out.attrs["draws"] = draws
    return out


def _simulated_weeks(probs: np.ndarray, amounts: np.ndarray, tab: pd.DataFrame, draws: int,
                     seed: int) -> dict:
    """Per currency, ``draws`` × weeks simulated collections (see :func:`expected_cash`).

    Each invoice's week is found by inverse CDF: its row of cumulative probabilities is
    offset by twice the row number so that one ``searchsorted`` over all rows places every
    invoice's draw at once (O(n log n) a draw, not O(n × weeks))."""
    n, weeks = probs.shape
    codes, currencies = pd.factorize(tab["currency"])
    out = {cur: np.zeros((draws, weeks)) for cur in currencies}
    if n == 0:
        return out
    cum = np.minimum(np.cumsum(probs, axis=1), 1.0)  # P(paid by the end of week k)
    offset = 2.0 * np.arange(n)
    flat = (cum + offset[:, None]).ravel()  # increasing: rows never overlap
    cust = (pd.factorize(tab["customer_id"])[0] if "customer_id" in tab
            else np.arange(n))
    n_cust = int(cust.max()) + 1
    n_cur = len(currencies)
    rng = np.random.default_rng(seed)
    chunk = max(1, 4_000_000 // n)
    for start in range(0, draws, chunk):
        k = min(chunk, draws - start)
        u = rng.random((k, n_cust))[:, cust]  # one number per customer and draw
        # index of the first cumulative probability above u, within the invoice's row
        week = np.searchsorted(flat, u + offset, side="right") - np.arange(n) * weeks
        inside = week < weeks  # == weeks: not paid within the forecast
        row = np.broadcast_to(np.arange(k)[:, None], week.shape)
        cell = (row * n_cur + codes[None, :]) * weeks + week
        sums = np.bincount(cell[inside], weights=np.broadcast_to(amounts, week.shape)[inside],
                           minlength=k * n_cur * weeks).reshape(k, n_cur, weeks)
        for c, cur in enumerate(currencies):
            out[cur][start:start + k] = sums[:, c, :]
    return out


def format_cash(frame: pd.DataFrame, lang: str = "en") -> list[str]:
    """Readable totals of :func:`expected_cash` per currency (for summaries)."""
    lines = []
    for cur, sub in frame[frame["period"] == "week"].groupby("currency"):
        lines.append(f"{format_money(sub['expected_amount'].sum(), cur, lang)}")
    return lines
