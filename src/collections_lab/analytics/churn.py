"""Churn risk: probability that a customer places no new invoice in the next 90 days.

A customer is *active* at a cutoff date ``c`` when it was invoiced in the
``active_days`` before ``c``. For every active customer, payment-behaviour features are
computed from what was known on ``c`` (the payment-times frame censored at ``c``), and
the label is ``1`` when no invoice is issued in ``(c, c + horizon_days]``.

Snapshots are taken at month ends. Validation is **time-based**: the model is trained on
cutoffs whose labels were known by ``split_date`` (``c + horizon ≤ split``) and tested on
cutoffs on or after ``split_date`` — never on the future to predict the past. Reported:
ROC AUC (scikit-learn ``roc_auc_score``), Brier score, log loss, calibration-in-the-large
(mean predicted vs observed churn rate) and a reliability table
(``sklearn.calibration.calibration_curve``, quantile bins), before and after recalibration.

**Recalibration.** Churn drifts over time (the base rate of later months differs from the
average of the training months), so a model fitted on all training cutoffs is off on
average in the months it is used. After the fit, the predicted log-odds are re-mapped on
the *most recent* labelled cutoffs only (the last ``recalibration_months`` month ends
whose labels are known by the training date: no label from the future is used):
``"intercept"`` (default) re-fits the intercept with the model's log-odds as an offset
(maximum likelihood: the mean prediction on that window equals its observed rate),
``"platt"`` fits intercept and slope (Platt scaling, a logistic regression on the
log-odds), ``None`` keeps the raw model. Both maps are increasing, so the ranking and the
AUC do not change.

Features (per customer at ``c``): invoices in the last 90 and 180 days, days since the last
invoice, tenure (capped at :data:`TENURE_CAP_DAYS`), on-time rate, mean / SD / trend of days late, days late of the last three
assessable invoices minus the customer's mean, open overdue invoices and the longest
current overdue, escalated invoices, reminders and firm/final reminders in the last 90
days, the log ratio of recent to earlier invoice amounts.

Example
-------
>>> from collections_lab.model.simulation import simulate
>>> from collections_lab.model.strategies import example_strategies
>>> sim = simulate(400, example_strategies()["nudge_then_firm"], seed=3,
...                start="2024-01-01", end="2024-12-31")
>>> v = churn_validation(sim.portfolio, split_date="2024-08-31", as_of="2024-12-31")
>>> 0.5 < v.auc <= 1.0
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit, logit
from sklearn.calibration import calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..data.dates import parse_date, resolve_as_of
from ..i18n import ResultMixin, format_number, format_pct, resolve, t
from .discipline import payment_discipline

__all__ = ["FEATURES", "MIN_CHURN_EVENTS", "ChurnModel", "ChurnValidation", "TooFewChurnEvents",
           "all_snapshots", "churn_features", "churn_snapshots", "churn_validation"]

FEATURES = (
    "n_invoices_90", "n_invoices_180", "days_since_last_invoice", "tenure_days",
    "on_time_rate", "mean_days_late", "std_days_late", "trend_days_per_month",
    "recent_minus_mean_days_late", "n_open_overdue", "max_days_overdue", "n_escalated",
    "n_reminders_90", "n_firm_reminders_90", "log_amount_ratio",
)


#: Fewest churned (and fewest retained) customer-months the test period needs before
#: the validation is shown. With 20 of each, the AUC's standard error is still about 0.06
#: (Hanley & McNeil 1982); with fewer it swings wildly: a 60-customer export had 4 churned
#: customer-months and printed "AUC 0.20", which meant nothing.
MIN_CHURN_EVENTS = 20


class TooFewChurnEvents(ValueError):
    """The test period holds too few churned or retained customer-months to validate."""

    def __init__(self, churned: int, retained: int, minimum: int):
        self.churned, self.retained, self.minimum = churned, retained, minimum
        super().__init__(f"the test period holds {churned} churned and {retained} retained "
                         f"customer-months; at least {minimum} of each are needed for an "
                         "AUC or a calibration that means something")


#: Tenure is capped (days): uncapped, it grows with calendar time, so a model trained on
#: earlier months extrapolates it into the test months. On simulated portfolios (5,000
#: customers, seeds 5 and 7) uncapped tenure made the mean prediction 0.010 and 0.005
#: below the observed churn rate; capped at a year, within 0.002 (AUC unchanged).
TENURE_CAP_DAYS = 365


def _day(value, name: str = "date") -> pd.Timestamp:
    return parse_date(value, name)


def churn_features(portfolio, cutoff, active_days: int = 90) -> pd.DataFrame:
    """Features of the customers active at ``cutoff`` (one row each, see module docstring).

    Only data dated on or before ``cutoff`` is used. Columns: customer_id, cutoff, and
    :data:`FEATURES` (NaN where a customer has too little history, e.g. the SD of a
    single invoice).
    """
    c = _day(cutoff, "cutoff")
    inv = portfolio.invoices
    issued = inv.loc[inv["issue_date"] <= c]
    recent = issued.loc[issued["issue_date"] > c - pd.Timedelta(days=active_days)]
    active = pd.Index(recent["customer_id"].unique(), name="customer_id")
    if len(active) == 0:
        return pd.DataFrame(columns=["customer_id", "cutoff", *FEATURES])
    issued = issued.loc[issued["customer_id"].isin(active)]
    g = issued.groupby("customer_id", sort=False)
    age = (c - issued["issue_date"]).dt.days
    out = pd.DataFrame(index=active)
    out["n_invoices_90"] = (age < 90).groupby(issued["customer_id"]).sum()
    out["n_invoices_180"] = (age < 180).groupby(issued["customer_id"]).sum()
    out["days_since_last_invoice"] = (c - g["issue_date"].max()).dt.days
    out["tenure_days"] = (c - g["issue_date"].min()).dt.days.clip(upper=TENURE_CAP_DAYS)
    log_amt = np.log(issued["amount"].clip(lower=1e-9))
    recent_amt = log_amt.where(age < 90).groupby(issued["customer_id"]).mean()
    older_amt = log_amt.where(age >= 90).groupby(issued["customer_id"]).mean()
    out["log_amount_ratio"] = recent_amt - older_amt

    sub = type(portfolio)(portfolio.customers, issued, portfolio.reminders, portfolio.payments)
    pt = sub.payment_times(as_of=c)
    disc = payment_discipline(pt, as_of=c).to_frame().set_index("customer_id")
    for col in ("on_time_rate", "mean_days_late", "std_days_late", "trend_days_per_month",
                "n_open_overdue"):
        out[col] = disc[col]
    assess = pt.loc[(pt["due_date"] <= c) | pt["event"]].sort_values("due_date")
    last3 = assess.groupby("customer_id", sort=False).tail(3)
    out["recent_minus_mean_days_late"] = (last3.groupby("customer_id")["days_late"].mean()
                                          - out["mean_days_late"])
    overdue = pt.loc[(pt["outcome"] == "open") & (pt["due_date"] < c)]
    out["max_days_overdue"] = (c - overdue.groupby("customer_id")["due_date"].min()).dt.days
    out["max_days_overdue"] = out["max_days_overdue"].fillna(0)
    out["n_escalated"] = (pt["outcome"] == "escalated").groupby(pt["customer_id"]).sum()
    rem = portfolio.reminders
    out["n_reminders_90"] = 0.0
    out["n_firm_reminders_90"] = 0.0
    if rem is not None and len(rem):
        window = rem.loc[(rem["sent_at"] <= c) & (rem["sent_at"] > c - pd.Timedelta(days=90))]
        who = window["invoice_id"].map(issued.set_index("invoice_id")["customer_id"])
        out["n_reminders_90"] = who.value_counts()
        if "tone" in window:
            firm = window["tone"].isin(["firm", "final"])
            out["n_firm_reminders_90"] = who[firm].value_counts()
    out[["n_reminders_90", "n_firm_reminders_90", "n_escalated"]] = out[
        ["n_reminders_90", "n_firm_reminders_90", "n_escalated"]].fillna(0)
    out = out.reset_index()
    out.insert(1, "cutoff", c)
    return out[["customer_id", "cutoff", *FEATURES]]


def churn_snapshots(portfolio, cutoffs: Sequence, horizon_days: int = 90,
                    active_days: int = 90) -> pd.DataFrame:
    """Features at each cutoff plus the label ``churned`` (no invoice in the next horizon).

    Labels are only meaningful when ``cutoff + horizon_days`` is within the data; the
    caller chooses cutoffs accordingly (see :func:`churn_validation`).
    """
    inv = portfolio.invoices[["customer_id", "issue_date"]]
    frames = []
    for cutoff in cutoffs:
        c = _day(cutoff, "cutoff")
        feats = churn_features(portfolio, c, active_days)
        future = inv.loc[(inv["issue_date"] > c)
                         & (inv["issue_date"] <= c + pd.Timedelta(days=horizon_days))]
        feats["churned"] = ~feats["customer_id"].isin(future["customer_id"].unique())
        frames.append(feats)
    if not frames:
        raise ValueError("no cutoff dates given")
    return pd.concat(frames, ignore_index=True)


def label_end(portfolio, as_of) -> pd.Timestamp:
    """Last day a "no new invoice" label can be trusted: ``as_of`` or the last issue date.

    An export taken weeks after the last invoicing run would otherwise make every
    customer look churned in its final weeks.
    """
    last_issue = portfolio.invoices["issue_date"].max()
    return min(as_of, pd.Timestamp(last_issue).normalize())


def _month_ends(first, last) -> list[pd.Timestamp]:
    return list(pd.date_range(_day(first), _day(last), freq="ME"))


def _estimator(kind: str, random_state: int):
    if kind == "gbm":
        return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05,
                                              max_leaf_nodes=15, min_samples_leaf=40,
                                              l2_regularization=1.0,
                                              random_state=random_state)
    if kind == "logistic":
        return make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                             StandardScaler(), LogisticRegression(max_iter=1000))
    raise ValueError(f"model must be 'gbm' or 'logistic', got {kind!r}")


RECALIBRATIONS = ("intercept", "platt", None)


def _recalibration_map(score: np.ndarray, y: np.ndarray, method: str | None
                       ) -> tuple[float, float]:
    """Intercept ``a`` and slope ``b`` of the map ``logit p' = a + b · logit p`` fitted on
    ``(score, y)`` (probabilities and 0/1 labels of the recalibration window).

    ``"intercept"``: ``b = 1``, ``a`` the maximum-likelihood intercept with the log-odds
    as offset, i.e. the root of ``Σ expit(logit p + a) = Σ y`` (one equation, solved
    with scipy's ``brentq``); ``"platt"``: both by an unpenalised logistic regression on
    the log-odds (scikit-learn). Example: ``_recalibration_map(p, y, "intercept")``.
    """
    if method is None:
        return 0.0, 1.0
    lo = logit(np.clip(score, 1e-6, 1 - 1e-6))
    if method == "intercept":
        a = brentq(lambda a: expit(lo + a).sum() - y.sum(), -20.0, 20.0)
        return float(a), 1.0
    fit = LogisticRegression(C=np.inf).fit(lo[:, None], y)
    slope = float(fit.coef_[0, 0])
    if slope <= 0:
        raise ValueError(f"Platt recalibration found a non-positive slope ({slope:.3g}) on "
                         "the recalibration window: the model does not rank churn there; "
                         "use recalibrate='intercept' or None")
    return float(fit.intercept_[0]), slope


@dataclass
class ChurnModel:
    """Churn-risk classifier (scikit-learn) on payment-behaviour features.

    ``fit(portfolio, as_of)`` trains on month-end snapshots whose labels are known by
    ``as_of``; ``predict(portfolio, as_of)`` scores the customers active at ``as_of``.
    ``model`` is ``"logistic"`` (median imputation with missing-value indicators, scaling,
    LogisticRegression: fast and well calibrated, the default) or ``"gbm"``
    (HistGradientBoostingClassifier; on simulated portfolios it gained under 0.01 AUC and
    is much slower on small data). ``recalibrate`` (``"intercept"``, ``"platt"`` or
    ``None``) re-maps the log-odds on the last ``recalibration_months`` labelled cutoffs
    (see the module docstring); fitted: ``recalibration_`` (intercept, slope),
    ``recalibration_window_`` (first cutoff of the window), ``window_rate_`` (its churn
    rate), ``tenure_max_`` (longest tenure in training: longer tenures are scored as it),
    ``recalibration_note_`` (why the model was left as fitted, e.g. a window without any
    churn; empty otherwise).
    Example: ``ChurnModel(recalibrate="platt").fit(portfolio, as_of="2025-12-31")``.
    """

    horizon_days: int = 90
    active_days: int = 90
    model: str = "logistic"
    random_state: int = 0
    recalibrate: str | None = "intercept"
    recalibration_months: int = 3
    estimator_: object = field(default=None, repr=False)
    n_train_: int = 0
    base_rate_: float = float("nan")
    recalibration_: tuple[float, float] = (0.0, 1.0)
    recalibration_window_: pd.Timestamp | None = None
    window_rate_: float = float("nan")
    tenure_max_: float = float("inf")
    recalibration_note_: str = ""

    def fit(self, portfolio, as_of=None, start=None, snapshots: pd.DataFrame | None = None
            ) -> ChurnModel:
        """Train on snapshots with labels known by ``as_of`` (month ends from ``start``)."""
        if snapshots is None:
            snapshots = all_snapshots(portfolio, as_of, self.horizon_days, self.active_days)
            if start is not None:
                snapshots = snapshots.loc[snapshots["cutoff"] >= _day(start, "start")]
        if self.recalibrate not in RECALIBRATIONS:
            raise ValueError(f"recalibrate must be one of {RECALIBRATIONS}, got "
                             f"{self.recalibrate!r}")
        if self.recalibration_months < 1:
            raise ValueError("recalibration_months must be at least 1, got "
                             f"{self.recalibration_months}")
        y = snapshots["churned"].to_numpy(dtype=int)
        if len(np.unique(y)) < 2:
            raise ValueError("training snapshots hold a single class (nobody or everybody "
                             "churned): cannot learn churn risk")
        self.estimator_ = _estimator(self.model, self.random_state)
        self.estimator_.fit(snapshots[list(FEATURES)].to_numpy(dtype=float), y)
        self.tenure_max_ = float(snapshots["tenure_days"].max())
        self.n_train_ = len(y)
        self.base_rate_ = float(y.mean())
        # the most recent labelled cutoffs: their labels are known by the training date
        cutoffs = np.sort(snapshots["cutoff"].unique())
        start = pd.Timestamp(cutoffs[max(len(cutoffs) - self.recalibration_months, 0)])
        window = snapshots.loc[snapshots["cutoff"] >= start]
        y_win = window["churned"].to_numpy(dtype=int)
        self.recalibration_window_ = start
        self.window_rate_ = float(y_win.mean())
        self.recalibration_ = (0.0, 1.0)
        self.recalibration_note_ = ""
        if self.recalibrate is not None:
            if len(np.unique(y_win)) < 2:
                # too few customer-months to recalibrate on: keep the fitted model, say so
                self.recalibration_note_ = (
                    f"not recalibrated: the last {self.recalibration_months} training "
                    f"cutoffs (from {start.date()}, {len(y_win)} customer-months) hold a "
                    "single class")
            else:
                self.recalibration_ = _recalibration_map(self.raw_proba(window), y_win,
                                                         self.recalibrate)
        return self

    def raw_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Churn probability of the fitted classifier before recalibration."""
        if self.estimator_ is None:
            raise RuntimeError("ChurnModel is not fitted: call fit() first")
        # tenure beyond the longest seen in training is scored as that longest: tenure
        # moves with calendar time, and a linear model would extrapolate it
        x = features[list(FEATURES)].assign(
            tenure_days=features["tenure_days"].clip(upper=self.tenure_max_))
        return self.estimator_.predict_proba(x.to_numpy(dtype=float))[:, 1]

    def predict_proba(self, features: pd.DataFrame) -> np.ndarray:
        """Churn probability for rows of :func:`churn_features` (recalibrated)."""
        raw = self.raw_proba(features)
        a, b = self.recalibration_
        if (a, b) == (0.0, 1.0):
            return raw
        return expit(a + b * logit(np.clip(raw, 1e-6, 1 - 1e-6)))

    def predict(self, portfolio, as_of=None) -> pd.DataFrame:
        """Customers active at ``as_of`` with ``churn_probability`` and their features."""
        as_of = resolve_as_of(portfolio, as_of)
        feats = churn_features(portfolio, as_of, self.active_days)
        feats.insert(2, "churn_probability", self.predict_proba(feats) if len(feats) else [])
        return feats.sort_values("churn_probability", ascending=False).reset_index(drop=True)


@dataclass
class ChurnValidation(ResultMixin):
    """Time-split validation of the churn model: AUC, Brier, log loss, calibration.

    Scores are those of the recalibrated model (``recalibration``; ``None`` = raw); the
    ``*_raw`` fields are the same model before recalibration. ``mean_predicted`` vs
    ``base_rate_test`` is calibration-in-the-large (``calibration_in_the_large`` =
    observed − mean predicted, a share); ``calibration`` / ``calibration_raw`` the
    reliability tables (quantile bins: mean predicted, observed share), and
    :meth:`reliability` both side by side. ``recalibration_note`` says why the model was
    not recalibrated, if it was not.
    """

    auc: float
    brier: float
    log_loss: float
    base_rate_train: float
    base_rate_test: float
    n_train: int
    n_test: int
    split_date: pd.Timestamp
    calibration: pd.DataFrame
    test: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    recalibration: str | None = None
    mean_predicted: float = float("nan")
    mean_predicted_raw: float = float("nan")
    brier_raw: float = float("nan")
    log_loss_raw: float = float("nan")
    base_rate_window: float = float("nan")
    calibration_raw: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    recalibration_note: str = ""
    title = "Churn model, time-based validation"

    @property
    def calibration_in_the_large(self) -> float:
        """Observed churn rate minus mean predicted probability on the test period."""
        return self.base_rate_test - self.mean_predicted

    def reliability(self, n_bins: int = 10) -> pd.DataFrame:
        """Reliability table by quantile bin of the raw score, before and after.

        Columns: bin, n, predicted_raw, predicted (recalibrated), observed (shares).
        Both maps are increasing, so the bins hold the same customer-months.
        """
        t = self.test
        ranks = t["churn_probability_raw"].rank(method="first")
        bins = pd.qcut(ranks, n_bins, labels=False)
        out = t.groupby(bins).agg(n=("churned", "size"),
                                  predicted_raw=("churn_probability_raw", "mean"),
                                  predicted=("churn_probability", "mean"),
                                  observed=("churned", "mean"))
        return out.rename_axis("bin").reset_index()

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "auc": self.auc, "brier": self.brier, "brier_raw": self.brier_raw,
            "log_loss": self.log_loss, "log_loss_raw": self.log_loss_raw,
            "base_rate_train": self.base_rate_train,
            "base_rate_window": self.base_rate_window, "base_rate_test": self.base_rate_test,
            "mean_predicted_raw": self.mean_predicted_raw,
            "mean_predicted": self.mean_predicted, "recalibration": self.recalibration,
            "n_train": self.n_train, "n_test": self.n_test,
            "split_date": self.split_date.date()}])

    def summary(self, lang: str | None = None) -> str:
        lang, _ = resolve(lang)
        auc, brier = format_number(self.auc, 2, lang), format_number(self.brier, 3, lang)
        return t("churn.summary", lang, date=self.split_date.date(), auc=auc, brier=brier,
                 observed=format_pct(self.base_rate_test, 1, lang),
                 predicted=format_pct(self.mean_predicted, 1, lang))


def all_snapshots(portfolio, as_of=None, horizon_days: int = 90,
                  active_days: int = 90) -> pd.DataFrame:
    """Snapshots at every month end whose label is known by ``as_of`` (for reuse)."""
    as_of = resolve_as_of(portfolio, as_of)
    first = portfolio.invoices["issue_date"].min() + pd.Timedelta(days=active_days)
    end = label_end(portfolio, as_of)
    cutoffs = [c for c in _month_ends(first, as_of)
               if c + pd.Timedelta(days=horizon_days) <= end]
    if not cutoffs:
        raise ValueError(f"not enough history: no cutoff has its {horizon_days}-day label "
                         f"known by {as_of.date()}")
    return churn_snapshots(portfolio, cutoffs, horizon_days, active_days)


def churn_validation(portfolio, split_date, as_of=None, model: str = "logistic",
                     horizon_days: int = 90, active_days: int = 90, n_bins: int = 10,
                     random_state: int = 0, snapshots: pd.DataFrame | None = None,
                     recalibrate: str | None = "intercept", recalibration_months: int = 3,
                     min_events: int | None = None) -> ChurnValidation:
    """Train on cutoffs with labels known by ``split_date``; test on cutoffs from it on.

    Training cutoffs are month ends ``c`` with ``c + horizon ≤ split_date``; test cutoffs
    are month ends ``c ≥ split_date`` with ``c + horizon ≤ as_of`` (and ≤ the last issue
    date in the data, see :func:`label_end`). Raises a ValueError
    naming the dates when either side is empty or holds a single class. ``snapshots``
    (from :func:`all_snapshots`) avoids recomputing features already built.
    ``recalibrate`` / ``recalibration_months`` as in :class:`ChurnModel`: the window is
    the last training cutoffs, so its labels too are known by ``split_date``.
    Below ``min_events`` (default :data:`MIN_CHURN_EVENTS`) churned or retained
    customer-months in the test period it raises :class:`TooFewChurnEvents` instead of
    scoring: the AUC and calibration of a handful of events are noise.
    """
    min_events = MIN_CHURN_EVENTS if min_events is None else min_events
    split = _day(split_date, "split_date")
    as_of = resolve_as_of(portfolio, as_of)
    first = portfolio.invoices["issue_date"].min() + pd.Timedelta(days=active_days)
    horizon = pd.Timedelta(days=horizon_days)
    train_c = [c for c in _month_ends(first, split) if c + horizon <= split]
    test_c = [c for c in _month_ends(split, as_of) if c + horizon <= label_end(portfolio, as_of)]
    if not train_c or not test_c:
        raise ValueError(
            f"time split impossible: {len(train_c)} training and {len(test_c)} test cutoffs "
            f"(split {split.date()}, as_of {as_of.date()}, horizon {horizon_days} days); "
            "move split_date or as_of"
        )
    if snapshots is None:
        train = churn_snapshots(portfolio, train_c, horizon_days, active_days)
        test = churn_snapshots(portfolio, test_c, horizon_days, active_days)
    else:
        train = snapshots.loc[snapshots["cutoff"].isin(train_c)]
        test = snapshots.loc[snapshots["cutoff"].isin(test_c)]
        if train.empty or test.empty:
            raise ValueError("the given snapshots do not cover the training and test cutoffs")
    m = ChurnModel(horizon_days, active_days, model, random_state, recalibrate,
                   recalibration_months).fit(portfolio, snapshots=train)
    y = test["churned"].to_numpy(dtype=int)
    if len(np.unique(y)) < 2:
        raise ValueError("the test period holds a single class: AUC is undefined")
    if min(y.sum(), len(y) - y.sum()) < min_events:
        raise TooFewChurnEvents(int(y.sum()), int(len(y) - y.sum()), min_events)
    raw = m.raw_proba(test)
    prob = m.predict_proba(test)

    def reliability(p):
        frac, mean_pred = calibration_curve(y, p, n_bins=n_bins, strategy="quantile")
        return pd.DataFrame({"mean_predicted": mean_pred, "observed_share": frac})

    def loss(p):
        return float(log_loss(y, np.clip(p, 1e-6, 1 - 1e-6)))

    return ChurnValidation(
        auc=float(roc_auc_score(y, prob)),
        brier=float(brier_score_loss(y, prob)),
        log_loss=loss(prob),
        base_rate_train=m.base_rate_,
        base_rate_test=float(y.mean()),
        n_train=m.n_train_,
        n_test=len(y),
        split_date=split,
        calibration=reliability(prob),
        test=test.assign(churn_probability=prob, churn_probability_raw=raw),
        recalibration=recalibrate if not m.recalibration_note_ else None,
        recalibration_note=m.recalibration_note_,
        mean_predicted=float(prob.mean()),
        mean_predicted_raw=float(raw.mean()),
        brier_raw=float(brier_score_loss(y, raw)),
        log_loss_raw=loss(raw),
        base_rate_window=m.window_rate_,
        calibration_raw=reliability(raw),
    )
