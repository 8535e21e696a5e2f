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
from collections_lab.data.portfolio import Portfolio
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


#: Customers of the bundled sample kept: ~5,000 invoices, so Spark's queries stay quick.
N_CUSTOMERS = 400


@pytest.fixture(scope="module")
def sample():
    """The bundled sample's first customers with their invoices, payments, reminders."""
    full = load_portfolio(SAMPLE)
    keep = full.customers["customer_id"].iloc[:N_CUSTOMERS]
    inv = full.invoices.loc[full.invoices["customer_id"].isin(keep)].reset_index(drop=True)

    def of_invoices(frame):
        return frame.loc[frame["invoice_id"].isin(inv["invoice_id"])].reset_index(drop=True)

    return Portfolio(
        customers=full.customers.loc[full.customers["customer_id"].isin(keep)]
        .reset_index(drop=True),
        invoices=inv, reminders=of_invoices(full.reminders),
        payments=of_invoices(full.payments),
        assignments=full.assignments.loc[full.assignments["customer_id"].isin(keep)]
        .reset_index(drop=True))


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
            assert ((a.to_numpy() == b.to_numpy()) | (a.isna() & b.isna()).to_numpy()).all(), col


@pytest.fixture(scope="module")
def lakes(sample, tmp_path_factory):
    """The sample as a CSV lake, a Parquet lake (one table partitioned) and a DuckDB file."""
    import duckdb

    root = tmp_path_factory.mktemp("lakes")
    sample.save(root / "csv")
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
    return {"csv": root / "csv", "parquet": parquet, "duckdb": db}


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
    session = spark_session("local[2]", "collections_lab-tests",
                            spark_sql_shuffle_partitions="1")  # small data: one task a stage
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


# ------------------------------------------------------------------ analyses on the engine
def check_suite(wh, reference):
    """Engine count tables equal pandas' exactly; the estimates equal the row-level ones."""
    from collections_lab.survival.aggregated import count_table
    from collections_lab.survival.curves import kaplan_meier, logrank
    from collections_lab.survival.regression import fit_cox
    from collections_lab.survival.rmst import rmst
    from collections_lab.survival.warehouse import survival_suite

    suite = survival_suite(wh, as_of=AS_OF, by="arm", tau=90,
                           covariates=["arm", "segment", "channel"], strata="segment",
                           reference={"arm": "firm-1-none"})
    cols = ["arm", "segment", "channel", "duration", "event"]
    pd.testing.assert_frame_equal(suite["counts"], count_table(reference, cols),
                                  check_dtype=False)
    km_r = kaplan_meier(reference, by="arm", cluster_col=None).to_frame()
    km_c = suite["km"].to_frame()
    np.testing.assert_allclose(km_c["survival"], km_r["survival"], rtol=RTOL)
    np.testing.assert_allclose(km_c["ci_low"], km_r["ci_low"], rtol=RTOL)
    assert suite["logrank"].statistic == pytest.approx(
        logrank(reference, "arm", strata="segment").statistic, rel=RTOL)
    r_r = rmst(reference, 90, by="arm", cluster_col=None).to_frame()
    np.testing.assert_allclose(suite["rmst"].to_frame()["rmst"], r_r["rmst"], rtol=RTOL)
    cox_r = fit_cox(reference, ["arm", "segment", "channel"], cluster_col=None,
                    reference={"arm": "firm-1-none"}).table
    np.testing.assert_allclose(suite["cox"].table["coef"], cox_r["coef"], rtol=1e-8)


def check_kpis(wh, sample, by=(None, "segment")):
    from collections_lab.analytics.kpis import aging, kpi_snapshot
    from collections_lab.analytics.warehouse import aging_engine, kpi_snapshot_engine

    for key in by:
        got = kpi_snapshot_engine(wh, AS_OF, by=key).to_frame()
        ref = kpi_snapshot(sample, AS_OF, by=key).to_frame()
        assert_frames_equal(got, ref)
    assert_frames_equal(aging_engine(wh, AS_OF).to_frame(), aging(sample, AS_OF).to_frame())


def test_duckdb_monthly_trends_equal_pandas(duck, sample):
    from collections_lab.analytics.kpis import monthly_trends
    from collections_lab.analytics.warehouse import monthly_trends_engine

    kw = {"as_of": AS_OF, "start": "2025-10-01", "by": "segment"}
    assert_frames_equal(monthly_trends_engine(duck, **kw).to_frame(),
                        monthly_trends(sample, **kw).to_frame())


def check_customers(wh, reference):
    from collections_lab.experiments.warehouse import (
        arm_statistics,
        customer_table,
        engine_arm_statistics,
        ratio_estimates,
    )

    table = customer_table(wh, as_of=AS_OF, due_plus=15)
    start = reference.attrs["start"]
    rows = reference.loc[reference["issue_date"] >= start]
    day = pd.Timestamp(AS_OF)
    followed = rows["due_date"] + pd.Timedelta(days=15) <= day
    expect = rows.assign(n_followed=followed.astype("int64"),
                         n_paid_by=(followed & rows["event"] & (rows["days_late"] <= 15))
                         .astype("int64"))
    expect = expect.groupby(["customer_id", "arm", "segment"], sort=True).agg(
        n_invoices=("invoice_id", "size"), n_followed=("n_followed", "sum"),
        n_paid_by=("n_paid_by", "sum"), amount=("amount", "sum"),
        paid_amount=("paid_amount", "sum"), discount_amount=("discount_amount", "sum"),
    ).reset_index()
    assert_frames_equal(table, expect)
    stats = arm_statistics(table)
    in_engine = engine_arm_statistics(wh, as_of=AS_OF, due_plus=15)
    assert list(in_engine.columns) == list(stats.columns)
    assert_frames_equal(in_engine, stats)
    est = ratio_estimates(stats, "n_paid_by", "n_followed")
    for _, row in est.iterrows():  # the clustered SE from sums equals the one from rows
        c = table.loc[table["arm"] == row["arm"]]
        r = c["n_paid_by"].sum() / c["n_followed"].sum()
        m = len(c)
        se = np.sqrt(((c["n_paid_by"] - r * c["n_followed"]) ** 2).sum()
                     / c["n_followed"].sum() ** 2 * m / (m - 1))
        assert row["estimate"] == pytest.approx(r, rel=RTOL)
        assert row["se"] == pytest.approx(se, rel=1e-8)


@pytest.fixture(scope="module")
def duck(lakes):
    return connect(lakes["parquet"])


def test_duckdb_survival_suite_equals_row_level(duck, reference):
    check_suite(duck, reference)


def test_duckdb_kpis_equal_the_pandas_kpis(duck, sample):
    check_kpis(duck, sample)


def test_duckdb_customer_table_and_arm_sums(duck, reference):
    check_customers(duck, reference)


def test_readout_from_the_engine_frame_equals_pandas(duck, reference, sample):
    from collections_lab.experiments.readout import analyze_experiment
    from collections_lab.experiments.warehouse import experiment_frame

    frame = experiment_frame(duck, as_of=AS_OF)
    kw = {"control": "firm-1-none", "segments": False,
          "metrics": ["paid_by_due_d", "rmst_days", "hazard_ratio", "cash_by_due_d",
                      "discount_cost"]}
    got = analyze_experiment(frame, **kw).to_frame()
    ref = analyze_experiment(reference, **kw).to_frame()
    num = got.select_dtypes("number").columns
    np.testing.assert_allclose(got[num].to_numpy(float), ref[num].to_numpy(float), rtol=RTOL,
                               equal_nan=True)


def test_spark_analyses_equal_pandas(spark_wh, reference, sample):
    check_suite(spark_wh, reference)
    check_kpis(spark_wh, sample, by=("segment",))
    check_customers(spark_wh, reference)


# ------------------------------------------------------------------ the report's loader
def check_loaded(loaded, sample):
    """The loader's tables from an engine equal the sample's (rows in invoice order)."""
    for name in ("invoices", "payments", "customers"):
        got, ref = getattr(loaded, name), getattr(sample, name)
        key = ["invoice_id", "paid_at", "amount"] if name == "payments" else [ref.columns[0]]
        got = got.sort_values(key, kind="stable").reset_index(drop=True)
        ref = ref.sort_values(key, kind="stable").reset_index(drop=True)
        pd.testing.assert_frame_equal(got[ref.columns], ref, check_dtype=False)
    assert loaded.load_report.rows_rejected == 0


def test_reports_load_a_partitioned_lake_and_an_ibis_url(lakes, sample):
    from collections_lab.data.warehouse import is_engine_source
    from collections_lab.reporting.notebook import load_report_data

    assert is_engine_source(lakes["parquet"]) and not is_engine_source(lakes["csv"])
    check_loaded(load_report_data(str(lakes["parquet"]), show=False), sample)
    check_loaded(load_portfolio(f"duckdb://{lakes['duckdb']}?read_only=True"), sample)
    assert not is_engine_source("postgresql://u:secret@db/ar")  # SQLAlchemy's, as before
    assert is_engine_source("sc://spark:15002") and is_engine_source("ibis+postgres://db/ar")


def test_spark_reads_a_lake_the_workbench_wrote(spark, sample, reference, tmp_path):
    """Portfolio.save (and simulate_to_parquet) write microsecond timestamps: Spark refuses
    Parquet nanoseconds, pandas' default. The saved lake read by Spark's own Parquet
    reader gives the pandas payment-times frame."""
    sample.save(tmp_path, fmt="parquet")
    session = spark.newSession()  # its own temporary views, the same JVM
    for name in ("customers", "invoices", "reminders", "payments", "assignments"):
        session.read.parquet(str(tmp_path / f"{name}.parquet")).createOrReplaceTempView(name)
    assert_frames_equal(connect(session).payment_times_frame(as_of=AS_OF), reference)


def test_reports_load_from_a_spark_session(spark, sample):
    check_loaded(load_portfolio(spark), sample)


def test_edge_kpis_and_trends_equal_pandas(tmp_path):
    """Balances from per-invoice segments (partial payments, a payment before the due
    date and after it, escalation, write-off, an invoice issued late) equal the pandas
    ledger at every month end; a payment on an unknown invoice is refused."""
    from collections_lab.analytics.kpis import kpi_snapshot, monthly_trends
    from collections_lab.analytics.warehouse import kpi_snapshot_engine, monthly_trends_engine

    inv = pd.DataFrame({
        "invoice_id": ["a", "b", "c", "d", "e", "f"],
        "customer_id": ["x", "x", "y", "y", "z", "z"],
        "issue_date": pd.to_datetime(["2025-01-01"] * 5 + ["2025-03-10"]),
        "due_date": pd.to_datetime(["2025-01-31"] * 5 + ["2025-04-09"]),
        "amount": [100.0, 50.0, 80.0, 10.0, 99.0, 5.0],
        "currency": ["EUR"] * 5 + ["USD"],
        "escalated_at": pd.to_datetime([None, "2025-03-01", None, "2025-02-01", None, None]),
        "written_off_at": pd.to_datetime([None, "2025-03-01", "2025-04-15", None, None,
                                          None]),
    })
    pay = pd.DataFrame({
        "invoice_id": ["a", "a", "a", "c", "d", "e", "f"],
        "paid_at": pd.to_datetime(["2025-01-20", "2025-02-05", "2025-02-05", "2025-02-01",
                                   "2025-02-01", "2025-04-20", "2025-05-02"]),
        "amount": [40.0, 30.0, 29.9999999, 79.0, 10.0, 98.0, 2.0],
        "discount": [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0],
        "fee": [0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0],
    })
    from collections_lab.data.portfolio import empty_table

    portfolio = Portfolio(customers=empty_table("customers"), invoices=inv, payments=pay)
    for name, frame in (("invoices", inv), ("payments", pay)):
        frame.to_parquet(tmp_path / f"{name}.parquet", index=False)
    wh = connect(tmp_path)
    for as_of in ("2025-02-15", "2025-05-31"):
        for escalated in (True, False):
            assert_frames_equal(
                kpi_snapshot_engine(wh, as_of, include_escalated=escalated).to_frame(),
                kpi_snapshot(portfolio, as_of, include_escalated=escalated).to_frame())
    assert_frames_equal(monthly_trends_engine(wh, "2025-05-31").to_frame(),
                        monthly_trends(portfolio, "2025-05-31").to_frame())
    pay.assign(invoice_id=["a", "a", "a", "c", "d", "e", "zz"]).to_parquet(
        tmp_path / "payments.parquet", index=False)
    with pytest.raises(WarehouseError, match="1 payment"):
        kpi_snapshot_engine(connect(tmp_path), "2025-05-31")


def test_a_materialized_frame_gives_the_same_analyses(lakes, reference, sample, tmp_path):
    """DuckDB settings (two threads, a memory limit, a spill folder) and the frame stored
    once as a temporary table: the survival suite and the experiment sums still equal
    pandas, and they read the stored table (not the lake) once it exists."""
    wh = connect(lakes["parquet"]).configure(
        threads=2, memory_limit="1GB", preserve_insertion_order=False,
        temp_directory=str(tmp_path / "spill"))
    assert wh.con.con.execute("SELECT current_setting('threads')").fetchall()[0][0] == 2
    table = wh.materialize(AS_OF)
    assert wh.payment_times(AS_OF) is table
    assert "cl_kept_" in wh.con.compile(wh.payment_times(AS_OF).count())
    check_suite(wh, reference)
    check_customers(wh, reference)
    check_kpis(wh, sample)  # the KPI balance segments are kept and reused too
    assert any(isinstance(k, tuple) and k[0] == "kpi_segments" for k in wh._cache)
    with pytest.raises(WarehouseError, match="setting name"):
        wh.configure(**{"threads; DROP TABLE x": 1})
    import ibis

    small = ibis.memtable(pd.DataFrame({"day": [1, 2, 3]}))
    kept = wh.keep("small", small.mutate(twice=small.day * 2))
    assert sorted(wh.fetch(kept)["twice"].tolist()) == [2, 4, 6]
    assert wh.keep("small", None) is kept


# ------------------------------------------------------------------ the readout in the engine
#: What the engine readout must reproduce of every Effect (1e-10 relative, NaN where NaN).
EFFECT_FIELDS = ("estimate", "control_estimate", "difference", "se", "df", "p_value",
                 "log_ratio_se", "n_customers", "n_invoices")


def assert_effects_equal(got, ref):
    """Same metrics and arms; every figure (and each customer's IF) equal to 1e-10."""
    assert [(e.metric, e.arm) for e in got] == [(e.metric, e.arm) for e in ref]
    for a, b in zip(got, ref, strict=True):
        for name in EFFECT_FIELDS:
            x, y = float(getattr(a, name)), float(getattr(b, name))
            assert (np.isnan(x) and np.isnan(y)) or x == pytest.approx(y, rel=RTOL, abs=0), (
                a.metric, a.arm, name, x, y)
        lo, hi = a.ci(0.9)
        np.testing.assert_allclose([lo, hi], b.ci(0.9), rtol=RTOL, equal_nan=True)
        for name in ("cluster_weight", "psi"):  # None for the median
            x, y = getattr(a, name), getattr(b, name)
            assert (x is None) == (y is None), (a.metric, name)
            if y is not None:
                np.testing.assert_allclose(x, y, rtol=1e-8, atol=1e-14, equal_nan=True)


def pandas_effects(frame, control, cfg, metrics, stratified_by, sample):
    from collections_lab.experiments.data import ExperimentData, assigned_units
    from collections_lab.experiments.metrics import compare_arms

    units = assigned_units(sample.assignments, sample.customers, {"segment"})
    data = ExperimentData.from_frame(frame, control=control, stratified_by=stratified_by,
                                     assignments=units if stratified_by else None)
    return compare_arms(data, cfg, metrics=metrics)


@pytest.fixture(scope="module")
def full_sample():
    """The whole bundled sample (2,000 customers, 25k invoices: enough per terms group that
    paid by due + d is estimable in most arms) without the invoices of its first 60
    customers: assigned, never invoiced, they count in the stratified variance."""
    full = load_portfolio(SAMPLE)
    gone = full.customers["customer_id"].iloc[:60]
    inv = full.invoices.loc[~full.invoices["customer_id"].isin(gone)].reset_index(drop=True)

    def of_invoices(frame):
        return frame.loc[frame["invoice_id"].isin(inv["invoice_id"])].reset_index(drop=True)

    return Portfolio(customers=full.customers, invoices=inv, assignments=full.assignments,
                     reminders=of_invoices(full.reminders), payments=of_invoices(full.payments))


@pytest.fixture(scope="module")
def full_lake(full_sample, tmp_path_factory):
    root = tmp_path_factory.mktemp("full")
    for name in ("customers", "invoices", "reminders", "payments", "assignments"):
        getattr(full_sample, name).to_parquet(root / f"{name}.parquet", index=False)
    return root


@pytest.mark.parametrize("stratified_by", [None, "segment"])
def test_duckdb_engine_readout_equals_compare_arms(full_sample, full_lake, stratified_by):
    import warnings

    from collections_lab.experiments.metrics import MetricConfig, SmallSampleWarning
    from collections_lab.experiments.warehouse import (
        ENGINE_METRICS,
        compare_arms_engine,
        engine_experiment_data,
    )

    frame = payment_times(full_sample.invoices, full_sample.payments, full_sample.customers,
                          full_sample.reminders, as_of=AS_OF,
                          assignments=full_sample.assignments)
    cfg = MetricConfig(reminder_cost={"EUR": 0.4, "USD": 0.5, "COP": 1500.0, "MXN": 8.0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        ref = pandas_effects(frame, "firm-1-none", cfg, list(ENGINE_METRICS), stratified_by,
                             full_sample)
        got = compare_arms_engine(connect(full_lake), cfg, as_of=AS_OF, control="firm-1-none",
                                  stratified_by=stratified_by)
    assert_effects_equal(got, ref)
    if stratified_by:
        data = engine_experiment_data(connect(full_lake), cfg, ["rmst_days"], AS_OF,
                                      "firm-1-none", stratified_by=stratified_by)
        assert sum(data.unseen_assigned.values()) == 60
    finite = {e.metric for e in got if np.isfinite(e.se) and e.se > 0}
    assert finite == set(ENGINE_METRICS)  # every metric is compared on figures, not NaNs


def test_engine_readout_refuses_what_it_did_not_compute(duck):
    from collections_lab.experiments.metrics import MetricConfig, compare_arms
    from collections_lab.experiments.warehouse import (
        compare_arms_engine,
        engine_experiment_data,
    )

    with pytest.raises(ValueError, match=r"\['mean_days'\] are not computed from engine"):
        compare_arms_engine(duck, metrics=["mean_days"], as_of=AS_OF, control="firm-1-none")
    with pytest.raises(ValueError, match="stratifies by the customers' segment only"):
        compare_arms_engine(duck, as_of=AS_OF, control="firm-1-none", stratified_by="channel")
    data = engine_experiment_data(duck, metrics=["rmst_days"], as_of=AS_OF,
                                  control="firm-1-none")
    with pytest.raises(ValueError, match="'churn' was not computed in the engine"):
        compare_arms(data, data.cfg, metrics=["churn"])
    with pytest.raises(ValueError, match="'median_days' was not computed in the engine"):
        compare_arms(data, data.cfg, metrics=["median_days"])
    with pytest.raises(ValueError, match="computed for another MetricConfig"):
        compare_arms(data, MetricConfig(horizon_days=60), metrics=["rmst_days"])


def test_spark_engine_readout_equals_compare_arms(spark_wh, reference, sample):
    import warnings

    from collections_lab.experiments.metrics import MetricConfig, SmallSampleWarning
    from collections_lab.experiments.warehouse import ENGINE_METRICS, compare_arms_engine

    cfg = MetricConfig(reminder_cost=0.5)
    metrics = [m for m in ENGINE_METRICS if m not in ("paid_by_due_d", "cash_by_due_d")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SmallSampleWarning)
        ref = pandas_effects(reference, "firm-3-none", cfg, metrics, "segment", sample)
        got = compare_arms_engine(spark_wh, cfg, metrics, arms=["firm-1-none", "firm-3-disc"],
                                  as_of=AS_OF, control="firm-3-none", stratified_by="segment")
    keep = [e for e in ref if e.arm in ("firm-1-none", "firm-3-disc")]
    assert_effects_equal(got, keep)


def test_engine_readout_reads_a_materialised_frame(lakes):
    from collections_lab.experiments.metrics import MetricConfig
    from collections_lab.experiments.warehouse import READOUT_COLUMNS, compare_arms_engine

    kw = {"as_of": AS_OF, "control": "firm-1-none", "stratified_by": "segment",
          "metrics": ["rmst_days", "escalation_rate", "hazard_ratio", "net_value"]}
    cfg = MetricConfig(reminder_cost=0.5)
    ref = compare_arms_engine(connect(lakes["parquet"]), cfg, **kw)
    wh = connect(lakes["parquet"])
    wh.materialize(AS_OF, columns=READOUT_COLUMNS)
    assert_effects_equal(compare_arms_engine(wh, cfg, **kw), ref)
    slim = connect(lakes["parquet"])
    slim.materialize(AS_OF, columns=[c for c in READOUT_COLUMNS if c != "n_reminders"])
    compare_arms_engine(slim, **kw)  # no reminder cost: the count is not needed
    with pytest.raises(WarehouseError, match=r"lacks column\(s\) \['n_reminders'\]"):
        compare_arms_engine(slim, cfg, **kw)
