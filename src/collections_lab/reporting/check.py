"""Check an export before any report runs: what was read, what was derived, what can be shown.

:func:`check_data` loads the data with its mapping and says, in a few lines, rows read /
used / rejected per table with the top reasons, what was derived (customers from invoices,
payments from settlement dates), the date range, currencies, payment terms, paid, open
and escalated invoices (from the payment-times frame, as every report counts them), and
for each of the five reports whether it can run and, if not, the one thing it needs. ``collections-lab check DATA -p mapping FILE`` prints it (exit 1 when no report can
run), and every report's provenance block carries the same lines (:func:`check_portfolio`
on the portfolio the report loaded). The check holds facts and codes; its words come from
the catalogue in the language asked for.

Example
-------
>>> check = check_data("data/sample")
>>> check.can_run["04_experiment_readout"]
True
>>> print(check.lines()[0])
Data: data/sample
>>> check.lines("es")[-1]
'  05_strategy_lab          se puede generar'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.schema import SEGMENTS
from ..i18n import format_number, format_pct, t

#: The five reports, in the order a reader meets them.
REPORTS = ("01_portfolio_health", "02_time_to_payment", "03_experiment_design",
           "04_experiment_readout", "05_strategy_lab")
#: Fewest customers an experiment can be designed on (the design report's pilot split).
MIN_CUSTOMERS_FOR_DESIGN = 20
#: Fewest paid invoices the survival models and the lab's calibration need.
MIN_PAID_FOR_MODELS = 10


@dataclass
class DataCheck:
    """What an export holds and which reports it can feed (see the module docstring).

    ``facts`` holds numbers and codes (tables, dates, currencies, terms, segments);
    ``needs`` maps each report that cannot run to ``(code, fields)`` for the catalogue.
    """

    source: str
    mapping: str | None
    facts: dict
    can_run: dict[str, bool]
    needs: dict[str, tuple[str, dict]] = field(default_factory=dict)

    @property
    def any_report(self) -> bool:
        """True when at least one report can run."""
        return any(self.can_run.values())

    def need(self, report: str, lang: str | None = None) -> str:
        """The one thing ``report`` needs, in words (empty when it can run)."""
        if report not in self.needs:
            return ""
        code, fields = self.needs[report]
        return t(f"check.need.{code}", lang, **fields)

    def lines(self, lang: str | None = None) -> list[str]:
        """The check as plain lines (what the CLI prints and reports show)."""
        return _lines(self, lang)

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape("\n".join(self.lines())) + "</pre>"

    def to_frame(self) -> pd.DataFrame:
        """One row per report: whether it can run and what it needs."""
        return pd.DataFrame({"report": list(self.can_run),
                             "can_run": list(self.can_run.values()),
                             "needs": [self.need(r) for r in self.can_run]})


def check_data(data, mapping=None, as_of=None) -> DataCheck:
    """Load ``data`` (a folder, flat file, DuckDB file or URL) with ``mapping`` and check
    what it holds and which reports it can feed. A load that fails outright is not raised:
    the check says so and no report can run."""
    from ..data.loading import load_portfolio
    from ..data.validation import ValidationError

    try:
        portfolio = load_portfolio(data, mapping=mapping)
    except (ValidationError, ValueError, OSError) as exc:
        text = [line.strip() for line in str(exc).splitlines() if line.strip()]
        facts = {"error": text[:6] or [type(exc).__name__]}
        return DataCheck(str(data), _name(mapping), facts, dict.fromkeys(REPORTS, False),
                         dict.fromkeys(REPORTS, ("loadable", {})))
    return check_portfolio(portfolio, str(data), mapping, as_of)


def check_portfolio(portfolio, source: str = "", mapping=None, as_of=None) -> DataCheck:
    """:func:`check_data` for a portfolio already loaded (reports show it in their
    provenance block without loading the data twice)."""
    facts = {"tables": _table_facts(portfolio), **_content_facts(portfolio, as_of)}
    sample = source in ("", "None") or Path(source).resolve() == _sample_dir()
    can_run, needs = _readiness(portfolio, sample)
    return DataCheck(source, _name(mapping), facts, can_run, needs)


def _name(mapping) -> str | None:
    return None if mapping is None else str(getattr(mapping, "name", mapping))


def _sample_dir() -> Path:
    from .paths import sample_data_dir

    return Path(sample_data_dir()).resolve()


def _table_facts(portfolio) -> list[dict]:
    report = portfolio.load_report
    if report is None:
        return []
    rows = []
    for name, table in report.tables.items():
        reasons = sorted(table.reasons().items(), key=lambda kv: -kv[1])[:3]
        rows.append({"table": name, "status": table.status, "read": table.rows_read,
                     "used": table.rows_used, "rejected": table.rows_rejected,
                     "source": Path(str(table.source)).name, "reasons": reasons})
    return rows


def _outcome_facts(portfolio, as_of) -> dict:
    """Paid / open / escalated-or-written-off counts from the payment-times frame, the one
    definition of "paid in full" (discounts and partial payments included) every report
    uses; a date or table problem is reported instead."""
    from ..data.dates import DateError
    from ..data.payment_times import PaymentTimesError

    try:
        outcome = portfolio.payment_times(as_of=as_of)["outcome"].value_counts()
    except (DateError, PaymentTimesError) as exc:
        return {"outcomes_error": str(exc).splitlines()[0]}
    from ..analytics.figures import open_counts

    facts = {"settled": int(outcome.get("paid", 0)), "open": int(outcome.get("open", 0)),
             "ended": int(outcome.get("escalated", 0) + outcome.get("written_off", 0))}
    # escalated invoices not yet paid stay receivable: the portfolio page's open count
    try:
        owed = open_counts(portfolio, as_of)
    except ValueError:  # the counts above already say what the data holds
        return facts
    facts["still_owed"] = int(owed["at_legal_collection"].sum())
    facts["open_owed"] = int(owed["open_invoices"].sum())
    return facts


def _content_facts(portfolio, as_of=None) -> dict:
    inv = portfolio.invoices
    if not len(inv):
        return {"invoices": 0}
    terms = (inv["due_date"] - inv["issue_date"]).dt.days
    customers = portfolio.customers
    return {
        "invoices": len(inv),
        "first": inv["issue_date"].min().date().isoformat(),
        "last": inv["issue_date"].max().date().isoformat(),
        "customers": int(inv["customer_id"].nunique()),
        "currencies": inv["currency"].value_counts().sort_index().to_dict(),
        "terms": terms.value_counts(normalize=True).head(4).to_dict(),
        "other_terms": max(0, int(terms.nunique()) - 4),
        **_outcome_facts(portfolio, as_of),
        "segments": (sorted(map(str, customers["segment"].unique()))
                     if "segment" in customers and len(customers) else []),
        "reminders": len(portfolio.reminders), "assignments": len(portfolio.assignments),
    }


def _readiness(portfolio, is_sample: bool = False):
    """Which reports can run with their default parameters (the sample's strategy lab
    converts its four currencies with the simulator's own rates)."""
    inv, pay = portfolio.invoices, portfolio.payments
    n_customers = int(inv["customer_id"].nunique()) if len(inv) else 0
    n_paid = int(pay["invoice_id"].nunique()) if len(pay) else 0
    needs: dict[str, tuple[str, dict]] = {}
    if not len(inv):
        needs["01_portfolio_health"] = ("invoices", {})
    models = (None if n_paid >= MIN_PAID_FOR_MODELS else
              ("paid_invoices", {"min": MIN_PAID_FOR_MODELS, "has": n_paid}))
    design = models or (None if n_customers >= MIN_CUSTOMERS_FOR_DESIGN else
                        ("customers", {"min": MIN_CUSTOMERS_FOR_DESIGN, "has": n_customers}))
    segments = set(portfolio.customers["segment"]) if len(portfolio.customers) else set()
    unknown = sorted(map(str, segments - set(SEGMENTS)))
    currencies = sorted(map(str, inv["currency"].unique())) if len(inv) else []
    from ..lab.calibrate import MIN_PAID_INVOICES as MIN_PAID_FOR_LAB

    # the lab calibrates its behaviour model on the paid history: it needs more of it
    lab = design or (None if n_paid >= MIN_PAID_FOR_LAB else
                     ("paid_invoices", {"min": MIN_PAID_FOR_LAB, "has": n_paid})) or (
        ("segments", {"known": ", ".join(SEGMENTS), "found": ", ".join(unknown[:4])})
        if unknown else
        ("one_currency", {"found": ", ".join(currencies), "first": currencies[0]})
        if len(currencies) > 1 and not is_sample else None)
    for report, need in (("02_time_to_payment", models), ("03_experiment_design", design),
                         ("05_strategy_lab", lab)):
        if need is not None:
            needs[report] = need
    if not len(portfolio.assignments):
        needs["04_experiment_readout"] = ("assignments", {})
    return {r: r not in needs for r in REPORTS}, needs


def _lines(check: DataCheck, lang: str | None) -> list[str]:
    def n(x) -> str:
        return format_number(x, 0, lang)

    f = check.facts
    out = [t("check.data", lang, source=check.source)
           + (t("check.with_mapping", lang, mapping=check.mapping) if check.mapping else "")]
    if "error" in f:
        out.append(t("check.cannot_load", lang, error=f["error"][0]))
        out += [f"  {line}" for line in f["error"][1:]]
    if f.get("tables"):
        out.append(t("check.tables", lang))
    for row in f.get("tables", []):
        if row["status"] == "absent":
            out.append("  " + t("check.table_absent", lang, table=row["table"]))
            continue
        if not row["read"] and row["table"] in ("reminders", "assignments"):
            out.append("  " + t("check.table_none", lang, table=row["table"]))
            continue
        text = "  " + t("check.table_counts", lang, table=row["table"], read=n(row["read"]),
                        used=n(row["used"]), rejected=n(row["rejected"]))
        if row["status"] == "derived":
            text += t("check.table_derived", lang, source=row["source"])
        if row["reasons"]:
            text += " (" + "; ".join(f"{r}: {n(k)}" for r, k in row["reasons"]) + ")"
        out.append(text)
    if f.get("invoices"):
        out.append(t("check.dates", lang, first=f["first"], last=f["last"],
                     customers=n(f["customers"])))
        out.append(t("check.currencies", lang) + ", ".join(
            f"{c} ({n(k)})" for c, k in f["currencies"].items()))
        terms = ", ".join(t("check.term", lang, days=n(d), share=format_pct(s, 0, lang))
                          for d, s in f["terms"].items())
        if f["other_terms"]:
            terms += t("check.more_terms", lang, n=n(f["other_terms"]))
        out.append(t("check.terms", lang) + terms)
        if "outcomes_error" in f:
            out.append(t("check.outcomes_error", lang, error=f["outcomes_error"]))
        else:
            line = t("check.settled", lang, settled=n(f["settled"]), open=n(f["open"]),
                     ended=n(f["ended"]))
            if f.get("still_owed"):
                line += t("check.still_owed", lang, owed=n(f["still_owed"]),
                          total=n(f["open_owed"]))
            out.append(line)
        out.append(t("check.segments", lang) + (", ".join(f["segments"]) or "–"))
        out.append(t("check.events", lang, reminders=n(f["reminders"]),
                     assignments=n(f["assignments"])))
    elif "error" not in f:
        out.append(t("check.no_invoices", lang))
    out.append(t("check.reports", lang))
    for report, ok in check.can_run.items():
        out.append(f"  {report:<24} " + (t("check.can_run", lang) if ok else
                                         t("check.cannot_run", lang,
                                           need=check.need(report, lang))))
    return out
