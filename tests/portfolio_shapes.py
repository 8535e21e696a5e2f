"""Portfolios of the shapes real data comes in, for the reports' property test (issue 16).

A :class:`Shape` says how a small simulated portfolio differs from the bundled sample:
one segment or none, one currency, nothing open or everything open, no reminders, no
discounts, no experiment, a handful of customers. :func:`write_portfolio` simulates it
(``collections_lab.model.simulation``: a two-arm experiment with a business-as-usual
pre-period, as the sample has) and then edits the exported tables to the shape, writing a
data folder the reports read like the sample's. :data:`FLAT_EXPORTS` are the real
flat-export fixtures of ``tests/fixtures/exports`` (file and mapping).

:func:`shapes` is the hypothesis strategy drawing either.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
from hypothesis import strategies as st

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
#: name -> (data file, mapping): one flat file per export, one row per invoice.
FLAT_EXPORTS = {
    "flat_settled": (EXPORTS / "flat_settled" / "export.csv",
                     EXPORTS / "flat_settled" / "mapping.yml"),
    "b2b_ledger": (EXPORTS / "b2b_ledger" / "ledger.csv", EXPORTS / "b2b_ledger" / "mapping.yml"),
}
START, END, EXPERIMENT_START, EXPORT_DATE = "2025-01-01", "2025-08-31", "2025-05-01", "2025-09-30"


@dataclass(frozen=True)
class Shape:
    """How a simulated portfolio departs from the sample's shape (defaults: it does not)."""

    customers: int = 40
    segments: str = "several"  # "several", "one" (everyone "small") or "none" (no column)
    one_currency: bool = False
    settled: str = "mixed"  # "mixed", "nothing_open" or "everything_open"
    reminders: bool = True
    discounts: bool = True
    experiment: bool = True
    seed: int = 1

    def __str__(self) -> str:
        default = Shape(seed=self.seed)
        changed = {k: v for k, v in asdict(self).items() if v != getattr(default, k)}
        return "sim(" + ", ".join(f"{k}={v}" for k, v in changed.items()) + ")"


@dataclass(frozen=True)
class FlatExport:
    """One of the flat-export fixtures."""

    name: str

    def __str__(self) -> str:
        return f"flat({self.name})"


def _experiment(discounts: bool):
    from collections_lab.model.plans import Experiment
    from collections_lab.model.strategies import example_strategies

    catalogue = example_strategies()
    treatment = catalogue["discount_2_10_net_30" if discounts else "nudge_then_firm"]
    return Experiment("shapes-test", {"control": catalogue["one_friendly_after_due"],
                                      "treatment": treatment},
                      control="control", stratify_by="segment")


def write_portfolio(shape: Shape, folder: Path) -> dict:
    """Simulate ``shape`` into ``folder`` (CSV tables and ``strategies.yml``); returns the
    report parameters that read it (``data``)."""
    from collections_lab.model.sample_data import BUSINESS_AS_USUAL
    from collections_lab.model.simulation import simulate
    from collections_lab.model.strategies import save_strategies

    experiment = _experiment(shape.discounts)
    sim = simulate(shape.customers, experiment, seed=shape.seed, start=START, end=END,
                   assigned_at=EXPERIMENT_START, before=BUSINESS_AS_USUAL, progress=False)
    portfolio = sim.snapshot(EXPORT_DATE)
    folder.mkdir(parents=True, exist_ok=True)
    portfolio.save(folder, "csv")
    tables = {name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
              for name in ("customers", "invoices", "reminders", "payments", "assignments")}
    customers, invoices = tables["customers"], tables["invoices"]
    if shape.segments == "one":
        customers["segment"] = "small"
    elif shape.segments == "none":
        tables["customers"] = customers = customers.drop(columns="segment")
    if shape.one_currency:
        customers["currency"] = "USD"
        invoices["currency"] = "USD"
    if shape.settled == "everything_open":
        tables["payments"] = tables["payments"].iloc[0:0]
        for column in ("escalated_at", "written_off_at"):
            invoices[column] = ""
    elif shape.settled == "nothing_open":  # keep the invoices paid in full by the export
        paid = tables["payments"].assign(amount=lambda f: f["amount"].astype(float))
        received = paid.groupby("invoice_id")["amount"].sum()
        due = invoices.set_index("invoice_id")["amount"].astype(float)
        settled = received.reindex(due.index).fillna(0) >= due * 0.98 - 0.01
        keep = set(settled[settled].index)
        tables["invoices"] = invoices = invoices[invoices["invoice_id"].isin(keep)]
        for name in ("reminders", "payments"):
            tables[name] = tables[name][tables[name]["invoice_id"].isin(keep)]
    if not shape.reminders:
        tables["reminders"] = tables["reminders"].iloc[0:0]
    strategies = {"business_as_usual": BUSINESS_AS_USUAL}
    if shape.experiment:
        strategies.update(experiment.arms)
    else:
        tables["assignments"] = tables["assignments"].iloc[0:0]
    for name, frame in tables.items():
        frame.to_csv(folder / f"{name}.csv", index=False)
    save_strategies(strategies, folder / "strategies.yml")
    (folder / "shape.json").write_text(json.dumps(asdict(shape)) + "\n")
    return {"data": str(folder)}


def report_parameters(shape: Shape | FlatExport, folder: Path) -> dict:
    """Write the portfolio of ``shape`` (a flat export is read where it is) and return the
    parameters every report is given for it."""
    if isinstance(shape, FlatExport):
        data, mapping = FLAT_EXPORTS[shape.name]
        return {"data": str(data), "mapping": str(mapping)}
    return write_portfolio(shape, folder)


def shapes(max_customers: int = 40) -> st.SearchStrategy:
    """Simulated portfolios of any combination of the shapes, or a flat export."""
    simulated = st.builds(
        Shape,
        customers=st.sampled_from(sorted({6, max_customers // 2, max_customers})),
        segments=st.sampled_from(["several", "one", "none"]),
        one_currency=st.booleans(),
        settled=st.sampled_from(["mixed", "nothing_open", "everything_open"]),
        reminders=st.booleans(),
        discounts=st.booleans(),
        experiment=st.booleans(),
        seed=st.integers(1, 1000),
    )
    return st.one_of(simulated, st.builds(FlatExport, st.sampled_from(sorted(FLAT_EXPORTS))))
