"""Simulate portfolios too large for memory: each chunk is written to Parquet as it is drawn."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...data.files import PARQUET_OPTIONS, write_parquet
from ..behaviour import BehaviourModel
from ..plans import Experiment
from ..strategies import Strategy
from .engine import BLOCK
from .run import Chunk, prepare
from .truth import Truth


def simulate_to_parquet(
    out_dir,
    customers: pd.DataFrame | int,
    plan: Strategy | Experiment,
    model: BehaviourModel | None = None,
    start="2025-01-01",
    end="2025-12-31",
    seed: int = 0,
    invoices_per_month: float = 1.0,
    assigned_at=None,
    before: Strategy | None = None,
    chunk_size: int = 4 * BLOCK,
    progress: bool | None = None,
    truth_replicates: int = 20,
    population_seed: int | None = None,
) -> Truth:
    """Like :func:`simulate`, but stream the tables to ``out_dir/<table>.parquet``.

    Each chunk is written as it is drawn, so memory stays bounded by ``chunk_size`` (plus
    per-customer traits) whatever the portfolio size. The same seeds give the same rows as
    :func:`simulate`. Returns the :class:`Truth` (its per-invoice table is not kept).
    """

    import pyarrow as pa
    import pyarrow.parquet as pq

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    setup, experiment, assignments = prepare(customers, plan, model, start, end, seed,
                                              invoices_per_month, assigned_at, before,
                                              population_seed)
    writers: dict[str, pq.ParquetWriter] = {}

    def write(chunk: Chunk) -> None:
        for name in ("invoices", "reminders", "payments"):
            table = pa.Table.from_pandas(pd.DataFrame(chunk.tables[name]),
                                         preserve_index=False)
            if name not in writers:
                writers[name] = pq.ParquetWriter(out / f"{name}.parquet.tmp", table.schema,
                                                 **PARQUET_OPTIONS)
            writers[name].write_table(table.cast(writers[name].schema))

    try:
        churned_at, truth_inputs = setup.run(chunk_size, progress, write)
    finally:
        for w in writers.values():
            w.close()
    for name in writers:
        (out / f"{name}.parquet.tmp").replace(out / f"{name}.parquet")
    for name, frame in (("customers", setup.customers), ("assignments", assignments)):
        write_parquet(frame, out / f"{name}.parquet")
    return setup.truth(churned_at, pd.DataFrame(), truth_inputs, truth_replicates, experiment)
