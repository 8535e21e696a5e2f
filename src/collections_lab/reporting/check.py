"""Check an export before any report runs: what was read, what was derived, what can be shown.

:func:`check_data` loads the data with its mapping and says, in a few lines, rows read /
used / rejected per table with the top reasons, what was derived (customers from invoices,
payments from settlement dates), the date range, currencies, payment terms, open vs settled
invoices, and for each of the five reports whether it can run and, if not, the one thing it
needs. ``collections-lab check DATA -p mapping FILE`` prints it (exit 1 when no report can
run), and every report's provenance block starts with the same lines.

Example
-------
>>> check = check_data("data/sample")
>>> check.can_run["04_experiment_readout"]
True
>>> print(check.lines()[0])
Data: data/sample
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..data.schema import SEGMENTS

#: Fewest customers an experiment can be designed on (the design report's pilot split).
MIN_CUSTOMERS_FOR_DESIGN = 20
#: Fewest paid invoices the survival models and the lab's calibration need.
MIN_PAID_FOR_MODELS = 10


@dataclass
class DataCheck:
    """What an export holds and which reports it can feed (see the module docstring)."""

    source: str
    mapping: str | None
    summary: list[str]
    can_run: dict[str, bool]
    needs: dict[str, str]
    notes: list[str] = field(default_factory=list)

    @property
    def any_report(self) -> bool:
        """True when at least one report can run."""
        return any(self.can_run.values())

    def lines(self) -> list[str]:
        """The check as plain lines (what the CLI prints and reports show first)."""
        out = list(self.summary)
        out.append("Reports:")
        for name, ok in self.can_run.items():
            out.append(f"  {name:<24} " + ("can run" if ok else f"cannot run: {self.needs[name]}"))
        out += [f"Note: {n}" for n in self.notes]
        return out

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape("\n".join(self.lines())) + "</pre>"

    def to_frame(self) -> pd.DataFrame:
        """One row per report: whether it can run and what it needs."""
        return pd.DataFrame({"report": list(self.can_run), "can_run": list(self.can_run.values()),
                             "needs": [self.needs.get(r, "") for r in self.can_run]})


def check_data(data, mapping=None, as_of=None) -> DataCheck:
    """Load ``data`` (a folder, flat file, DuckDB file or URL) with ``mapping`` and check
    what it holds and which reports it can feed. A load that fails outright is not raised:
    the check says so and no report can run."""
    from ..data.loading import load_portfolio
    from ..data.validation import ValidationError

    source = str(data)
    summary = [f"Data: {source}" + (f" (mapping: {mapping})" if mapping else "")]
    try:
        portfolio = load_portfolio(data, mapping=mapping)
    except (ValidationError, ValueError, OSError) as exc:
        text = str(exc).splitlines() or [type(exc).__name__]
        summary.append(f"Cannot load: {text[0]}")
        summary += [f"  {line.strip()}" for line in text[1:6] if line.strip()]
        reports = _report_names()
        return DataCheck(source, _name(mapping), summary, dict.fromkeys(reports, False),
                         dict.fromkeys(reports, "data that loads (see above)"))
    return check_portfolio(portfolio, source, mapping, as_of)


def check_portfolio(portfolio, source: str = "", mapping=None, as_of=None) -> DataCheck:
    """:func:`check_data` for a portfolio already loaded (reports show it in their
    provenance block without loading the data twice)."""
    summary = [f"Data: {source}" + (f" (mapping: {mapping})" if mapping else "")]
    summary += _load_lines(portfolio)
    summary += _content_lines(portfolio, as_of)
    sample = str(source) in ("", "None") or Path(str(source)).resolve() == _sample_dir()
    can_run, needs = _readiness(portfolio, sample)
    return DataCheck(source, _name(mapping), summary, can_run, needs)


def _sample_dir() -> Path:
    from .paths import sample_data_dir

    return Path(sample_data_dir()).resolve()


def _name(mapping) -> str | None:
    return None if mapping is None else str(getattr(mapping, "name", mapping))


def _report_names() -> list[str]:
    return ["01_portfolio_health", "02_time_to_payment", "03_experiment_design",
            "04_experiment_readout", "05_strategy_lab"]


def _load_lines(portfolio) -> list[str]:
    report = portfolio.load_report
    if report is None:
        return []
    lines = ["Tables:"]
    for name, table in report.tables.items():
        if table.status == "absent":
            lines.append(f"  {name}: absent (declared in the mapping)")
            continue
        if not table.rows_read and name in ("reminders", "assignments"):
            lines.append(f"  {name}: none")
            continue
        text = (f"  {name}: {table.rows_read:,} read, {table.rows_used:,} used, "
                f"{table.rows_rejected:,} rejected")
        if table.status == "derived":
            text += f", derived from {Path(str(table.source)).name}"
        reasons = sorted(table.reasons().items(), key=lambda kv: -kv[1])[:3]
        if reasons:
            text += " (" + "; ".join(f"{r}: {n:,}" for r, n in reasons) + ")"
        lines.append(text)
    own = [n for n in report.notes if "the workbench's own file" not in n]
    lines += [f"  note: {n}" for n in own[:6]]
    if len(own) > 6:
        lines.append(f"  ... and {len(own) - 6} more notes")
    return lines


def _content_lines(portfolio, as_of) -> list[str]:
    inv, pay = portfolio.invoices, portfolio.payments
    if not len(inv):
        return ["No invoices."]
    lines = [f"Invoices issued {inv['issue_date'].min().date()} to "
             f"{inv['issue_date'].max().date()}; {inv['customer_id'].nunique():,} customers"]
    by_currency = inv.groupby("currency")["amount"].agg(["size", "sum"])
    lines.append("Currencies: " + ", ".join(
        f"{c} ({int(r['size']):,} invoices)" for c, r in by_currency.iterrows()))
    terms = (inv["due_date"] - inv["issue_date"]).dt.days
    common = terms.value_counts(normalize=True).head(4)
    lines.append("Payment terms: " + ", ".join(f"{int(d)} days ({s:.0%})"
                                                for d, s in common.items())
                 + (f" and {terms.nunique() - len(common)} more" if terms.nunique() > 4 else ""))
    paid = pay.groupby("invoice_id")["amount"].sum() if len(pay) else pd.Series(dtype=float)
    settled = inv["invoice_id"].map(paid).fillna(0.0).to_numpy() >= 0.995 * inv["amount"].to_numpy()
    lines.append(f"Settled {int(settled.sum()):,}, open {int((~settled).sum()):,} "
                 f"(paid in full or not in the data)")
    lines.append(f"Segments: {', '.join(map(str, sorted(portfolio.customers['segment'].unique())))}"
                 if "segment" in portfolio.customers and len(portfolio.customers) else
                 "Segments: none")
    lines.append(f"Reminders: {len(portfolio.reminders):,}; "
                 f"experiment assignments: {len(portfolio.assignments):,}")
    return lines


def _readiness(portfolio, portfolio_is_sample: bool = False) -> tuple[dict[str, bool],
                                                                     dict[str, str]]:
    """Which reports can run with their default parameters (the sample's strategy lab
    converts its four currencies with the simulator's own rates)."""
    inv, pay = portfolio.invoices, portfolio.payments
    n_customers = inv["customer_id"].nunique() if len(inv) else 0
    n_paid = pay["invoice_id"].nunique() if len(pay) else 0
    needs: dict[str, str | None] = {}
    needs["01_portfolio_health"] = None if len(inv) else "invoices"
    needs["02_time_to_payment"] = (None if n_paid >= MIN_PAID_FOR_MODELS else
                                   f"at least {MIN_PAID_FOR_MODELS} paid invoices "
                                   f"(has {n_paid})")
    needs["03_experiment_design"] = (
        needs["02_time_to_payment"] or (None if n_customers >= MIN_CUSTOMERS_FOR_DESIGN else
                                        f"at least {MIN_CUSTOMERS_FOR_DESIGN} customers "
                                        f"(has {n_customers})"))
    needs["04_experiment_readout"] = (
        None if len(portfolio.assignments) else
        "experiment assignments; the design report writes them "
        "(reports/03_experiment_design/assignments.csv): add it to the data as assignments")
    segments = set(portfolio.customers["segment"]) if len(portfolio.customers) else set()
    unknown = sorted(map(str, segments - set(SEGMENTS)))
    currencies = sorted(map(str, inv["currency"].unique())) if len(inv) else []
    needs["05_strategy_lab"] = needs["02_time_to_payment"] or (
        f"segments the behaviour model knows ({', '.join(SEGMENTS)}); the data has "
        f"{', '.join(unknown[:4])}: map them with values: {{segment: {{...}}}} under "
        "customers in the mapping" if unknown else
        f"one currency: the data has {', '.join(currencies)}; run it with -p currency "
        f"{currencies[0]} (or -p fx_rates with units per USD of each)"
        if len(currencies) > 1 and not portfolio_is_sample else None)
    return ({k: v is None for k, v in needs.items()},
            {k: v for k, v in needs.items() if v is not None})
