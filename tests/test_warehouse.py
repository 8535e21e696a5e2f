"""The engine path (data/warehouse.py and its analyses) equals the pandas path.

The same small portfolio (the bundled sample) goes through pandas, DuckDB (a CSV lake, a
Parquet lake, a DuckDB file) and Spark local mode (``local[2]``); the payment-times frame,
the survival count tables and estimates, the KPI aggregates and the experiment's
customer-level table agree to 1e-10 (relative). Spark needs Java 17: without it the Spark
tests skip with the install command, except under CI (``CI=true``), where they must run.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pandas as pd
import pytest

from collections_lab.data.loading import load_portfolio
from collections_lab.data.payment_times import payment_times
from collections_lab.data.warehouse import (
    JAVA_INSTALL,
    WarehouseError,
    connect,
    fetch_count_table,
    spark_session,
)

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "data", "sample")
AS_OF = "2026-03-31"
RTOL = 1e-10


@pytest.fixture(scope="module")
def sample():
    return load_portfolio(SAMPLE)


@pytest.fixture(scope="module")
def reference(sample):
    frame = payment_times(sample.invoices, sample.payments, sample.customers, sample.reminders,
                          as_of=AS_OF, assignments=sample.assignments)
    return frame.sort_values("invoice_id", kind="stable").reset_index(drop=True)


def assert_frames_equal(got: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Same columns and dtypes; floats to 1e-10 relative, everything else exactly."""
    assert list(got.columns) == list(ref.columns)
    assert len(got) == len(ref)
    for col in ref.columns:
        a, b = got[col], ref[col]
        assert a.dtype == b.dtype, (col, a.dtype, b.dtype)
        if a.dtype.kind == "f":
            np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=RTOL, atol=0,
                                       err_msg=col)
        else:
            assert (a.to_numpy() == b.to_numpy()).all(), col


@pytest.fixture(scope="module")
def lakes(sample, tmp_path_factory):
    """The sample as a CSV lake, a Parquet lake (one table partitioned) and a DuckDB file."""
    import duckdb

    root = tmp_path_factory.mktemp("lakes")
    parquet = root / "parquet"
    parquet.mkdir()
    for name in ("customers", "invoices", "reminders", "assignments"):
        getattr(sample, name).to_parquet(parquet / f"{name}.parquet", index=False)
    pay = sample.payments.assign(month=sample.payments["paid_at"].dt.strftime("%Y-%m"))
    pay.to_parquet(parquet / "payments", partition_cols=["month"], index=False)
    db = root / "ar.duckdb"
    con = duckdb.connect(str(db))
    for name in ("customers", "invoices", "reminders", "payments", "assignments"):
        frame = getattr(sample, name)  # noqa: F841 - read by DuckDB's replacement scan
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM frame")
    con.close()
    return {"csv": SAMPLE, "parquet": parquet, "duckdb": db}


@pytest.mark.parametrize("kind", ["csv", "parquet", "duckdb"])
def test_duckdb_payment_times_equal_the_pandas_frame(lakes, reference, kind):
    got = connect(lakes[kind]).payment_times_frame(as_of=AS_OF)
    assert_frames_equal(got, reference)
    assert got.attrs["not_yet_issued"] == reference.attrs["not_yet_issued"]
    assert got.attrs["experiment_id"] == reference.attrs["experiment_id"]
    assert got.attrs["start"] == reference.attrs["start"]


def test_an_edge_portfolio_equals_pandas(tmp_path):
    """Partial payments on one day, discounts, fees, escalation and write-off ties,
    events after as_of, an invoice not yet issued, payments on an unknown invoice."""
    inv = pd.DataFrame({
        "invoice_id": ["a", "b", "c", "d", "e", "f"],
        "customer_id": ["x", "x", "y", "y", "z", "z"],
        "issue_date": pd.to_datetime(["2025-01-01"] * 5 + ["2025-06-01"]),
        "due_date": pd.to_datetime(["2025-01-31"] * 5 + ["2025-07-01"]),
        "amount": [100.0, 50.0, 80.0, 10.0, 99.0, 5.0],
        "currency": ["EUR"] * 6,
        "escalated_at": pd.to_datetime([None, "2025-03-01", None, "2025-02-01", None, None]),
        "written_off_at": pd.to_datetime([None, "2025-03-01", "2025-04-15", None, None,
                                          None]),
    })
    pay = pd.DataFrame({
        "invoice_id": ["a", "a", "a", "c", "d", "e", "zz"],
        "paid_at": pd.to_datetime(["2025-01-20", "2025-02-05", "2025-02-05", "2025-02-01",
                                   "2025-02-01", "2025-04-20", "2025-01-05"]),
        "amount": [40.0, 30.0, 30.0, 79.0, 10.0, 98.0, 1.0],
        "discount": [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        "fee": [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0],
    })
    for name, frame in (("invoices", inv), ("payments", pay)):
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    ref = payment_times(inv, pay, as_of="2025-04-16").sort_values("invoice_id")
    got = connect(tmp_path).payment_times_frame(as_of="2025-04-16")
    assert_frames_equal(got, ref.reset_index(drop=True))
    assert got["outcome"].tolist() == ["paid", "escalated", "paid", "paid", "open"]


def test_the_mapping_renames_columns_in_the_engine(sample, tmp_path, reference):
    import duckdb

    db = tmp_path / "erp.duckdb"
    con = duckdb.connect(str(db))
    facturas = sample.invoices.rename(columns={"invoice_id": "factura", "amount": "importe"})  # noqa: F841
    pagos = sample.payments.rename(columns={"invoice_id": "factura"})  # noqa: F841
    con.execute("CREATE TABLE facturas AS SELECT * FROM facturas")
    con.execute("CREATE TABLE pagos AS SELECT * FROM pagos")
    con.close()
    mapping = {"columns": {"factura": "invoice_id"},
               "tables": {"invoices": {"source": "facturas", "columns": {"importe": "amount"}},
                          "payments": {"source": "pagos"}}}
    wh = connect(db, mapping=mapping)
    assert sorted(wh.tables) == ["invoices", "payments"]
    got = wh.payment_times_frame(as_of=AS_OF)
    ref = payment_times(sample.invoices, sample.payments, as_of=AS_OF)
    assert_frames_equal(got, ref.sort_values("invoice_id").reset_index(drop=True))


def test_a_missing_table_or_column_is_named(tmp_path, sample):
    sample.invoices.drop(columns="amount").to_parquet(tmp_path / "invoices.parquet")
    sample.payments.to_parquet(tmp_path / "payments.parquet")
    with pytest.raises(WarehouseError, match=r"lacks column\(s\) \['amount'\]"):
        connect(tmp_path)
    sample.invoices.to_parquet(tmp_path / "invoices.parquet")
    with pytest.raises(WarehouseError, match="no 'cobros' table"):
        connect(tmp_path, mapping={"tables": {"payments": {"source": "cobros"}}})
    with pytest.raises(WarehouseError, match="data not found"):
        connect(tmp_path / "nowhere")


def test_count_tables_refuse_missing_values(lakes):
    wh = connect(lakes["parquet"])
    frame = wh.payment_times(as_of=AS_OF)
    with pytest.raises(WarehouseError, match="missing values"):
        fetch_count_table(wh, frame.mutate(arm=frame.arm.nullif("firm-1-disc")),
                          ["arm", "duration", "event"])


# ------------------------------------------------------------------ Spark local mode
def _spark_or_skip():
    if shutil.which("java") is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the Spark tests: Java 17 is missing ({JAVA_INSTALL})")
        pytest.skip(f"Spark needs Java 17: {JAVA_INSTALL}")
    pytest.importorskip("pyspark", reason="pip install 'collections_lab[spark]'")


@pytest.fixture(scope="module")
def spark(sample):
    """One local[2] session for the module, the sample's tables as temporary views."""
    _spark_or_skip()
    session = spark_session("local[2]", "collections_lab-tests")
    for name in ("customers", "invoices", "reminders", "payments", "assignments"):
        session.createDataFrame(getattr(sample, name)).createOrReplaceTempView(name)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def spark_wh(spark):
    return connect(spark)


def test_spark_payment_times_equal_the_pandas_frame(spark_wh, reference):
    got = spark_wh.payment_times_frame(as_of=AS_OF)
    assert_frames_equal(got, reference)
