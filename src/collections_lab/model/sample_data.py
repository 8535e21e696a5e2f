"""The bundled sample portfolio: a simulated business with an embedded factorial experiment.

About 2,000 customers invoiced monthly from January 2025 to April 2026 (16 months). Until
the end of August 2025 everybody gets the business-as-usual strategy (one friendly email
three days after due); from 1 September 2025 customers are randomised (stratified by
segment) into a 2×2×2 factorial experiment on

- tone: friendly / firm (every reminder of the arm),
- reminder count: 1 (due + 3) / 3 (due + 3, + 14, + 28),
- early-payment discount: none / 2 % within 10 days of issue,

with legal escalation at due + 75 in every arm. The export is taken on 2026-05-31: what
happened after that date is not in the tables (open invoices are open). The truth record
(parameters, latent traits, true per-arm effects) is written beside the tables.

Regenerate with ``collections-lab sample-data --out data/sample`` (identical bytes for the
same seed).

Example
-------
>>> exp = sample_experiment()
>>> len(exp.arms), exp.control_arm
(8, 'friendly-1-none')
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.files import atomic_write_text, write_csv
from ..data.portfolio import Portfolio
from .plans import Experiment
from .simulation import SimulationResult, simulate
from .strategies import Discount, Reminder, Strategy, example_strategies, save_strategies

SAMPLE_SEED = 20251
SAMPLE_CUSTOMERS = 2000
SAMPLE_START = "2025-01-01"
SAMPLE_END = "2026-04-30"
EXPERIMENT_START = "2025-09-01"
EXPORT_DATE = "2026-05-31"
EXPERIMENT_ID = "tone-count-discount-2025"
BUSINESS_AS_USUAL = Strategy(
    "business_as_usual",
    reminders=(Reminder(3, "friendly", "email"),),
    escalation_day=75,
    description="One friendly email three days after due; legal at due + 75.",
)


def sample_experiment() -> Experiment:
    """The 2×2×2 factorial experiment embedded in the sample data.

    Example:
        >>> exp = cl.sample_experiment()
        >>> exp.control_arm, exp.factors["firm-3-disc"]
        ('friendly-1-none', {'tone': 'firm', 'count': '3', 'discount': '2/10'})
    """
    arms: dict[str, Strategy] = {}
    factors: dict[str, dict[str, str]] = {}
    for tone in ("friendly", "firm"):
        for count in (1, 3):
            for discount in ("none", "2/10"):
                name = f"{tone}-{count}-{'none' if discount == 'none' else 'disc'}"
                days = (3,) if count == 1 else (3, 14, 28)
                arms[name] = Strategy(
                    name,
                    reminders=tuple(Reminder(d, tone, "email") for d in days),
                    discount=Discount(0.02, 10) if discount != "none" else None,
                    escalation_day=75,
                    description=f"{tone} tone, {count} reminder(s), discount {discount}",
                )
                factors[name] = {"tone": tone, "count": str(count), "discount": discount}
    return Experiment(EXPERIMENT_ID, arms, control="friendly-1-none", stratify_by="segment",
                      factors=factors)


def generate_sample(seed: int = SAMPLE_SEED, n_customers: int = SAMPLE_CUSTOMERS
                    ) -> SimulationResult:
    """Simulate the sample portfolio (all of it, before the export cut)."""
    return simulate(n_customers, sample_experiment(), seed=seed, start=SAMPLE_START,
                    end=SAMPLE_END, assigned_at=EXPERIMENT_START, before=BUSINESS_AS_USUAL,
                    progress=False)


def write_sample(out_dir: str | Path = "data/sample", seed: int = SAMPLE_SEED,
                 n_customers: int = SAMPLE_CUSTOMERS) -> list[Path]:
    """Write the sample portfolio (CSV tables as exported on EXPORT_DATE) and its truth.

    Files: ``customers.csv``, ``invoices.csv``, ``reminders.csv``, ``payments.csv``,
    ``assignments.csv``, ``strategies.yml`` (example strategies and the experiment's arms),
    ``experiment.json`` (design: arms, factors, control, dates), ``truth.json`` (model
    parameters, true per-arm effects) and ``truth_customers.csv`` (latent traits). Returns
    the paths written. Same seed, same bytes.

    Example:
        >>> import tempfile
        >>> paths = cl.write_sample(tempfile.mkdtemp(), n_customers=20)
        >>> sorted(p.name for p in paths)[:4]
        ['assignments.csv', 'customers.csv', 'experiment.json', 'invoices.csv']
    """
    out = Path(out_dir)
    sim = generate_sample(seed, n_customers)
    export = sim.snapshot(EXPORT_DATE)
    paths = export.save(out, "csv")
    exp = sample_experiment()
    strategies = {**example_strategies(), "business_as_usual": BUSINESS_AS_USUAL, **exp.arms}
    paths.append(save_strategies(strategies, out / "strategies.yml"))
    design = {
        "experiment_id": exp.experiment_id,
        "control": exp.control_arm,
        "arms": exp.arm_names,
        "factors": exp.factors,
        "stratify_by": exp.stratify_by,
        "assigned_at": EXPERIMENT_START,
        "pre_period_strategy": BUSINESS_AS_USUAL.name,
        "invoices_from": SAMPLE_START,
        "invoices_to": SAMPLE_END,
        "export_date": EXPORT_DATE,
        "seed": seed,
    }
    paths.append(_write_text(out / "experiment.json", json.dumps(design, indent=2) + "\n"))
    truth = {
        "seed": seed,
        "export_date": EXPORT_DATE,
        "model": sim.truth.model,
        "control": sim.truth.control,
        "arm_effects": json.loads(sim.truth.arm_effects.round(6).to_json(orient="records")),
    }
    paths.append(_write_text(out / "truth.json", json.dumps(truth, indent=2, sort_keys=True)
                             + "\n"))
    traits = sim.truth.customers.copy()
    for col in ("distress_start", "churned_at"):
        traits[col] = traits[col].dt.strftime("%Y-%m-%d")
    traits["frailty"] = traits["frailty"].round(6)
    paths.append(write_csv(traits, out / "truth_customers.csv"))
    return paths


def _write_text(path: Path, text: str) -> Path:
    return atomic_write_text(path, text)


def describe(portfolio: Portfolio) -> str:
    """A few lines summarising a portfolio (for the main job's console output)."""
    inv = portfolio.invoices
    pt = portfolio.payment_times()
    lines = [
        f"source: {portfolio.source or 'files'}",
        f"customers: {len(portfolio.customers):,}  invoices: {len(inv):,}  "
        f"reminders: {len(portfolio.reminders):,}  payments: {len(portfolio.payments):,}",
        f"issue dates: {inv['issue_date'].min().date()} to {inv['issue_date'].max().date()}",
        f"as of {pt.attrs['as_of'].date()}: "
        + ", ".join(f"{k} {v:,}" for k, v in pt["outcome"].value_counts().items()),
        f"paid by due: {np.mean(pt['event'] & (pt['days_late'] <= 0)):.1%} of invoices",
    ]
    for cur, amount in inv.groupby("currency")["amount"].sum().items():
        lines.append(f"invoiced in {cur}: {amount:,.0f}")
    return "\n".join(lines)


def sample_payment_times(directory: str | Path = "data/sample") -> pd.DataFrame:
    """Convenience: load the bundled sample and return its payment-times frame."""
    from ..data.loading import load_portfolio

    return load_portfolio(directory).payment_times()


def sample_dir() -> Path:
    """Where the bundled sample lives: ``<project>/data/sample`` of the checkout.

    Looked up under ``$COLLECTIONS_LAB_HOME``, the current directory and its parents, then
    the checkout this package runs from. Without a checkout (an installed package) the
    sample is generated once, identically, into ``~/.cache/collections_lab/sample``.
    """
    import os

    here = Path(__file__).resolve()
    roots = []
    if os.environ.get("COLLECTIONS_LAB_HOME"):
        roots.append(Path(os.environ["COLLECTIONS_LAB_HOME"]).expanduser())
    cwd = Path.cwd().resolve()
    roots += [cwd, *cwd.parents, *here.parents]
    for root in roots:
        if (root / "data" / "sample" / "invoices.csv").is_file():
            return root / "data" / "sample"
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "collections_lab"
    target = cache / "sample"
    if not (target / "invoices.csv").is_file():
        write_sample(target)
    return target


def load_sample() -> Portfolio:
    """The bundled sample portfolio, with its experiment and its strategies.

    The 2,000-customer simulated portfolio of ``data/sample`` (see its README):
    ``portfolio.experiment`` is the design in ``experiment.json`` (control
    ``friendly-1-none``), ``portfolio.strategies`` the strategies of
    ``strategies.yml`` (the examples, business as usual and the eight arms).

    Example:
        >>> p = load_sample()
        >>> p.experiment["control"], "business_as_usual" in p.strategies, len(p.customers)
        ('friendly-1-none', True, 2000)
    """
    from ..data.loading import load_portfolio
    from .strategies import load_strategies

    folder = sample_dir()
    portfolio = load_portfolio(folder)
    portfolio.strategies = load_strategies(folder / "strategies.yml")
    return portfolio
