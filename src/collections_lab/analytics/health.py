"""Portfolio health in one call: every analytics result the health report shows.

:func:`portfolio_health` runs the KPIs, payment discipline, payer tiers and clusters,
behaviour-change alerts, churn risk and the engagement lists at one ``as_of`` date, and
:meth:`PortfolioHealth.executive_summary` turns them into plain sentences (en/es). The
report notebook ``notebooks/01_portfolio_health.ipynb`` only calls this and the plots.

Example
-------
>>> from collections_lab.model.simulation import simulate
>>> from collections_lab.model.strategies import example_strategies
>>> sim = simulate(300, example_strategies()["nudge_then_firm"], seed=3,
...                start="2024-01-01", end="2024-12-31")
>>> h = portfolio_health(sim.portfolio, as_of="2024-12-31", churn=False)
>>> len(h.executive_summary("es")) >= 5
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..data.dates import accepts_allow_future, resolve_as_of
from ..data.portfolio import Portfolio, restrict_currency
from ..i18n import (
    ResultMixin,
    column_label,
    format_frame,
    format_number,
    format_pct,
    has,
    resolve,
    t,
)
from .alerts import Alerts, behaviour_alerts
from .churn import (
    ChurnModel,
    ChurnValidation,
    TooFewChurnEvents,
    all_snapshots,
    churn_validation,
)
from .discipline import Discipline, discipline_over_time, payment_discipline
from .engagement import EngagementList, call_list, open_balances, thank_list
from .figures import SharedFigures, shared_figures
from .kpis import KPITable, kpi_report, kpi_snapshot
from .segments import Clusters, Tiers, payer_clusters, payer_tiers

__all__ = ["PortfolioHealth", "portfolio_health"]


@dataclass
class PortfolioHealth(ResultMixin):
    """All portfolio-health results at one date (see :func:`portfolio_health`)."""

    as_of: pd.Timestamp
    kpis: dict[str, KPITable]
    by_group: KPITable | None
    discipline: Discipline
    discipline_trend: pd.DataFrame
    tiers: Tiers
    clusters: Clusters | None
    alerts: Alerts
    churn_validation: ChurnValidation | None
    churn_scores: pd.DataFrame | None
    thank: EngagementList
    call: EngagementList
    #: Cautions as ``(catalogue key, detail)``: the detail is an error message or a
    #: model's note, shown after the key's sentence, or a dict of the key's fields.
    notes: list[tuple[str, str]] = field(default_factory=list)
    #: Open invoices, aging, DSO and churn as every page shows them (analytics.figures).
    figures: SharedFigures | None = None
    title = "Portfolio health"

    def to_frame(self) -> pd.DataFrame:
        return self.kpis["snapshot"].to_frame()

    def executive_summary(self, lang: str | None = None) -> list[str]:
        """Plain sentences for the report's summary box, from the results above."""
        lang, _ = resolve(lang)
        items = [self.kpis["snapshot"].summary(lang), self.kpis["aging"].summary(lang),
                 *([self.figures.summary(lang)] if self.figures is not None else []),
                 self.discipline.summary(lang), self.tiers.summary(lang),
                 self.alerts.summary(lang)]
        if self.churn_validation is not None and self.churn_scores is not None:
            high = int((self.churn_scores["churn_probability"] >= 0.3).sum())
            n = format_number(high, 0, lang)
            items.append(self.churn_validation.summary(lang))
            items.append(t("health.churn_risk_count", lang, n=n,
                           threshold=format_pct(0.3, 0, lang)))
        if self.figures is not None:
            items.append(self.figures.health_note(lang))
        items += [self.thank.summary(lang), self.call.summary(lang)]
        return items + [t(key, lang, **detail) if isinstance(detail, dict)
                        else t(key, lang, detail=detail) for key, detail in self.notes]

    def summary(self, lang: str | None = None) -> str:
        return " ".join(self.executive_summary(lang))

    TABLES = ("snapshot", "by_group", "tiers", "tiers_by_segment", "clusters", "alerts",
              "thank", "call")

    def table(self, name: str, lang: str | None = None, rows: int | None = None,
              formatted: bool = True) -> pd.DataFrame:
        """A report table with headers in ``lang`` (one of :attr:`TABLES`), or empty.

        ``rows`` keeps the first rows only (engagement lists can be long);
        ``formatted`` writes numbers as text in the language's style (percentages,
        thousands separators) for the report; ``False`` keeps them numeric.
        """
        lang, _ = resolve(lang)
        if name not in self.TABLES:
            raise ValueError(f"unknown table {name!r}; choose one of {self.TABLES}")
        if name == "snapshot":
            frame = self.kpis["snapshot"].to_frame()
        elif name == "by_group":
            frame = self.by_group.to_frame() if self.by_group is not None else pd.DataFrame()
        elif name == "tiers":
            frame = self.tiers.counts(lang)
        elif name == "tiers_by_segment":
            frame = (self.tiers.by_segment(lang=lang) if "segment" in self.tiers.frame
                     else pd.DataFrame())
        elif name == "clusters":
            frame = pd.DataFrame() if self.clusters is None else self.clusters.to_frame(lang)[
                ["cluster", "customers", "tier", "label", "treatment"]]
        elif name == "alerts":
            frame = self.alerts.to_frame()
        else:
            frame = getattr(self, name).to_frame(lang)
        if rows is not None:
            frame = frame.head(rows)
        for col in ("tier", "dominant_tier"):  # tier codes (on_time, ...) in words
            if col in frame and frame[col].dtype == object:
                frame = frame.assign(**{col: frame[col].map(lambda v: tier_label(v, lang))})
        if formatted:  # the reports' one table renderer (numbers, dates, headers)
            return format_frame(frame, lang)
        return frame.rename(columns=lambda c: column_label(c, lang))


def tier_label(tier, lang: str = "en"):
    """A payer tier code in words (``on_time`` → "On time"); other values unchanged.

    >>> tier_label("chronically_late", "en"), tier_label("all")
    ('chronically late', 'all')
    """
    if not isinstance(tier, str):
        return tier
    return t(f"tier_{tier}", lang) if has(f"tier_{tier}") else tier


@accepts_allow_future
def portfolio_health(portfolio: Portfolio, as_of=None, by: str | None = "segment",
                     currency: str | None = None, churn: bool = True,
                     churn_split_months: int = 6, n_clusters: int = 4,
                     include_escalated: bool = True, lang: str | None = None) -> PortfolioHealth:
    """Compute every portfolio-health result at ``as_of`` (default: last date in the data).

    ``kpis`` holds the KPI tables per currency (snapshot, aging, at-risk, monthly
    trends); ``by_group`` the snapshot per currency and ``by`` (e.g. segment).
    ``currency`` restricts everything to one currency; ``include_escalated=False`` takes
    balances handed to legal collection out of receivables (see
    :mod:`~collections_lab.analytics.kpis`). ``churn=False`` skips the churn model (it needs about a year of history:
    training cutoffs before ``as_of - churn_split_months`` whose 90-day labels are known
    then, tested after). When churn cannot be validated (too little history, one class),
    the reason is kept in ``notes`` instead of failing the whole report. An ``as_of``
    after the data's last date is refused unless ``allow_future=True``.

    Nothing here is translated: ``lang`` only sets the language the engagement lists and
    tiers show by default (the context's when None); summaries and tables take theirs
    when shown.

    Example:
        >>> health = cl.portfolio_health(portfolio, "2025-09-30", churn=False)
        >>> sorted(health.kpis), len(health.executive_summary()) > 5
        (['aging', 'at_risk', 'snapshot', 'trends'], True)
    """
    if currency:
        portfolio = restrict_currency(portfolio, currency)
    as_of = resolve_as_of(portfolio, as_of)
    notes: list[tuple[str, str]] = []
    kpis = kpi_report(portfolio, as_of, include_escalated=include_escalated)
    by_group = (kpi_snapshot(portfolio, as_of, by=by, include_escalated=include_escalated)
                if by else None)
    pt = portfolio.payment_times(as_of=as_of)
    disc = payment_discipline(pt, as_of=as_of)
    trend = discipline_over_time(pt, as_of=as_of, freq="M", by_customer=False)
    tiers = payer_tiers(disc, lang=lang)
    try:
        clusters = payer_clusters(disc, n_clusters=n_clusters)
    except ValueError as exc:
        clusters = None
        notes.append(("health.clusters_skipped", str(exc)))
    # the payments table gives the alerts their part-payment signal (lateness and order
    # size come from the payment-times frame)
    alerts = behaviour_alerts(pt, as_of=as_of, keep_chart=True, payments=portfolio.payments)
    validation = scores = None
    if churn:
        split = as_of - pd.DateOffset(months=churn_split_months)
        try:
            snaps = all_snapshots(portfolio, as_of)
            validation = churn_validation(portfolio, split_date=split, as_of=as_of,
                                          snapshots=snaps)
            model = ChurnModel().fit(portfolio, snapshots=snaps)
            scores = model.predict(portfolio, as_of=as_of)
            if model.recalibration_note_:
                notes.append(("health.churn_note", model.recalibration_note_))
        except TooFewChurnEvents as exc:  # said in words, in the page's language
            notes.append(("health.churn_too_few", {
                "churned": format_number(exc.churned, 0, lang),
                "retained": format_number(exc.retained, 0, lang),
                "minimum": format_number(exc.minimum, 0, lang)}))
        except ValueError as exc:
            notes.append(("health.churn_not_evaluated", str(exc)))
    balances = open_balances(portfolio, as_of)
    thank = thank_list(tiers, alerts, scores, balances, lang=lang)
    call = call_list(tiers, alerts, scores, balances, lang=lang)
    return PortfolioHealth(as_of, kpis, by_group, disc, trend, tiers, clusters, alerts, validation, scores,
                           thank, call, notes, shared_figures(portfolio, as_of))
