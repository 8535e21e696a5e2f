"""The survival suite from count tables built inside the engine (Ibis).

With whole-day durations and categorical groupings every estimate here depends on the
data only through invoice counts per (group, duration, outcome) (see
:mod:`collections_lab.survival.aggregated`). :func:`engine_counts` builds those counts
from the payment-times expression of a :class:`~collections_lab.data.warehouse.Warehouse`
in the engine (DuckDB, Spark, a warehouse) and :func:`survival_suite` fits Kaplan–Meier,
the log-rank test, RMST and a Cox model on categorical covariates from them, with
``weight_col="n"``: a few thousand rows come back, whatever the number of invoices, and
the estimates equal the row-level ones.

Clustered (per-customer) standard errors need the rows; the count-table estimates use
the invoice-level variance, as :mod:`~collections_lab.survival.aggregated` says.

Example
-------
>>> import pathlib, tempfile
>>> from collections_lab.data.warehouse import connect
>>> lake = pathlib.Path(tempfile.mkdtemp())
>>> _ = portfolio.save(lake, "parquet")
>>> suite = survival_suite(connect(lake), as_of="2025-09-30", by="arm", tau=60,
...                        covariates=["arm", "segment"], reference={"arm": "control"})
>>> int(suite["counts"]["n"].sum()) == len(pt)
True
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from ..data.warehouse import Warehouse, fetch_count_table
from .aggregated import COUNT_COL
from .curves import kaplan_meier, logrank
from .regression import fit_cox_counts
from .rmst import rmst

__all__ = ["engine_counts", "survival_suite"]


def engine_counts(warehouse: Warehouse, columns: Sequence[str], as_of=None,
                  experiment_id: str | None = None, frame=None) -> pd.DataFrame:
    """Invoices per combination of ``columns`` of the payment-times frame, counted in the
    engine (equal to :func:`~collections_lab.survival.aggregated.count_table` on the
    pandas frame). ``frame``: a payment-times expression already built (else one is)."""
    expr = frame if frame is not None else warehouse.payment_times(as_of, experiment_id)
    return fetch_count_table(warehouse, expr, columns, COUNT_COL)


def survival_suite(warehouse: Warehouse, as_of=None, by: str = "arm", tau: int = 90,
                   covariates: Sequence[str] = ("arm", "segment", "channel"),
                   strata: str | None = "segment", reference: dict | None = None,
                   experiment_id: str | None = None) -> dict:
    """KM by ``by``, log-rank (stratified by ``strata``), RMST up to ``tau`` and a Cox
    model on ``covariates``, all from one engine count table.

    Returns a dict: ``counts`` (the count table), ``km``, ``logrank``, ``rmst``, ``cox``.
    """
    columns = list(dict.fromkeys([by, *covariates, *([strata] if strata else []),
                                  "duration", "event"]))
    counts = engine_counts(warehouse, columns, as_of, experiment_id)
    return {
        "counts": counts,
        "km": kaplan_meier(counts, by=by, weight_col=COUNT_COL),
        "logrank": logrank(counts, by, strata=strata, weight_col=COUNT_COL),
        "rmst": rmst(counts, tau, by=by, weight_col=COUNT_COL),
        "cox": fit_cox_counts(counts, list(covariates), weight_col=COUNT_COL,
                              reference=reference),
    }
