"""Experiments as data and deterministic, customer-level random assignment.

Customers, not invoices, are randomised: all invoices of a customer share one arm. The arm
comes from a salted SHA-256 hash of ``experiment_id`` and the customer id, so re-running
gives the same assignment on any machine, and a customer's arm never depends on the order
of the file.

- Without stratification each customer's hash is mapped to an arm through the cumulative
  weights: adding customers later never changes an existing customer's arm.
- With ``stratify_by`` (default ``"segment"``), customers of each stratum are ordered by
  their hash and dealt to arms so that each stratum's split matches the weights to within
  one customer (balance at the price of stability when customers are added later).

Example
-------
>>> import pandas as pd
>>> from collections_lab.model.strategies import Strategy
>>> exp = Experiment("tone-2025", {"control": Strategy("a"), "firm": Strategy("b")})
>>> customers = pd.DataFrame({"customer_id": [f"C{i}" for i in range(100)],
...                           "segment": ["small"] * 100})
>>> a = assign(customers, exp, assigned_at="2025-01-01")
>>> a["arm"].value_counts().to_dict()
{'control': 50, 'firm': 50}
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.dates import parse_date
from ..i18n import t
from .strategies import Strategy, StrategyError


@dataclass(frozen=True)
class Experiment:
    """A set of strategies (arms) tested against each other on customers.

    ``weights`` default to equal; ``control`` defaults to the first arm. ``factors`` maps
    each arm to its factor levels for factorial designs, e.g.
    ``{"friendly-1-none": {"tone": "friendly", "count": "1", "discount": "none"}}``.

    Example:
        >>> s = cl.example_strategies()
        >>> exp = cl.Experiment("tone", {"a": s["one_friendly_after_due"], "b": s["nudge_then_firm"]},
        ...                     control="a")
        >>> exp.arm_names, exp.control_arm
        (['a', 'b'], 'a')
    """

    experiment_id: str
    arms: dict[str, Strategy]
    weights: dict[str, float] | None = None
    control: str | None = None
    stratify_by: str | None = "segment"
    salt: str = "collections-lab"
    factors: dict[str, dict[str, str]] = field(default_factory=dict)

    def headline(self, lang: str | None = None) -> str:
        """The design in one sentence: arms, control, stratification."""
        strat = (t("experiment.card_strat", lang, column=self.stratify_by)
                 if self.stratify_by else "")
        return t("experiment.card", lang, id=self.experiment_id, n=len(self.arms),
                 control=self.control_arm, strat=strat)

    def _repr_html_(self) -> str:
        """A card: the headline, one row per arm (weight, description)."""
        from ..i18n import card_html

        weights = self.weights or {}
        table = pd.DataFrame([{"arm": a, "weight": weights.get(a, 1.0),
                               "description": s.description or "—"}
                              for a, s in self.arms.items()])
        return card_html(self.headline(), None, [("", table)])

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython's text view: short
        printer.text(f"<Experiment {self.headline()}>")

    def __post_init__(self):
        if not self.arms:
            raise StrategyError(f"experiment {self.experiment_id!r} has no arms")
        if self.control is not None and self.control not in self.arms:
            raise StrategyError(
                f"experiment {self.experiment_id!r}: control arm {self.control!r} "
                f"is not one of {list(self.arms)}"
            )
        if self.weights is not None:
            unknown = set(self.weights) - set(self.arms)
            missing = set(self.arms) - set(self.weights)
            if unknown or missing:
                raise StrategyError(
                    f"experiment {self.experiment_id!r}: weights must name every arm once "
                    f"(unknown {sorted(unknown)}, missing {sorted(missing)})"
                )
            if any(w <= 0 for w in self.weights.values()):
                raise StrategyError(f"experiment {self.experiment_id!r}: weights must be > 0")

    @property
    def arm_names(self) -> list[str]:
        return list(self.arms)

    @property
    def control_arm(self) -> str:
        return self.control or self.arm_names[0]

    @property
    def normalised_weights(self) -> np.ndarray:
        w = np.array([(self.weights or {}).get(a, 1.0) for a in self.arm_names], dtype=float)
        return w / w.sum()


def hash_uniform(ids, salt: str) -> np.ndarray:
    """Map ids to uniform numbers in [0, 1) with a salted SHA-256 (stable across runs)."""
    out = np.empty(len(ids))
    prefix = salt.encode()
    for i, value in enumerate(ids):
        digest = hashlib.sha256(prefix + b":" + str(value).encode()).digest()
        out[i] = int.from_bytes(digest[:8], "big") / 2.0**64
    return out


def assign(customers: pd.DataFrame, experiment: Experiment, assigned_at) -> pd.DataFrame:
    """Assign every customer to an arm; returns the assignments table.

    Args:
        customers: Customers table (needs ``customer_id``; and the ``stratify_by`` column if set).
        experiment: The :class:`Experiment`.
        assigned_at: Date of assignment (str or Timestamp), written to every row.

    Example:
        >>> s = cl.example_strategies()
        >>> exp = cl.Experiment("tone", {"a": s["one_friendly_after_due"], "b": s["nudge_then_firm"]},
        ...                     control="a")
        >>> table = cl.assign(cl.generate_customers(100, seed=1), exp, "2025-03-01")
        >>> table.columns.tolist(), table["arm"].value_counts().sort_index().tolist()
        (['experiment_id', 'customer_id', 'arm', 'assigned_at'], [48, 52])
    """
    ids = customers["customer_id"].astype(str).to_numpy()
    if len(set(ids)) != len(ids):
        raise ValueError("customers table has duplicate customer_id: assign each customer once")
    u = hash_uniform(ids, f"{experiment.salt}:{experiment.experiment_id}")
    cum = np.cumsum(experiment.normalised_weights)
    cum[-1] = 1.0
    strat = experiment.stratify_by
    if strat is None:
        arm_idx = np.searchsorted(cum, u, side="right")
    else:
        if strat not in customers:
            raise ValueError(f"cannot stratify by {strat!r}: customers table has no such column")
        arm_idx = np.empty(len(ids), dtype=int)
        strata = customers[strat].astype(str).to_numpy()
        for value in np.unique(strata):
            members = np.flatnonzero(strata == value)
            ranked = members[np.argsort(u[members], kind="stable")]
            # position of each ranked customer, as a quantile of its stratum, dealt by weight
            quantile = (np.arange(len(ranked)) + 0.5) / len(ranked)
            arm_idx[ranked] = np.searchsorted(cum, quantile, side="right")
    arm_idx = np.minimum(arm_idx, len(cum) - 1)
    return pd.DataFrame(
        {
            "experiment_id": experiment.experiment_id,
            "customer_id": ids,
            "arm": np.array(experiment.arm_names, dtype=object)[arm_idx],
            "assigned_at": parse_date(assigned_at, "assigned_at"),
        }
    )
