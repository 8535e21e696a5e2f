"""Counts tables (pandas and DuckDB from Parquet/CSV) give the row-level estimates to 1e-8."""

import numpy as np
import pandas as pd
import pytest

from collections_lab.survival import (
    SurvivalInputError,
    count_table,
    count_table_duckdb,
    cumulative_incidence,
    fit_cox,
    fit_cox_counts,
    kaplan_meier,
    logrank,
    rmst,
)


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(11)
    n = 3000
    arm = rng.choice(["control", "t1", "t2"], n)
    seg = rng.choice(["small", "large"], n)
    ch = rng.choice(["email", "portal", "edi"], n)
    rate = 0.04 * np.exp(0.3 * (arm == "t1") + 0.15 * (arm == "t2") - 0.3 * (seg == "large")
                         + 0.1 * (ch == "edi"))
    t = np.floor(rng.exponential(1 / rate)).astype(int)
    c = rng.integers(20, 150, n)
    event = t <= c
    code = np.where(event, 1, np.where(rng.random(n) < 0.3, 2, 0))
    return pd.DataFrame({"duration": np.minimum(t, c), "event": event, "outcome_code": code,
                         "arm": arm, "segment": seg, "channel": ch,
                         "terms_days": rng.choice([30, 45], n)})


@pytest.fixture(scope="module")
def files(frame, tmp_path_factory):
    d = tmp_path_factory.mktemp("pt")
    frame.to_parquet(d / "pt.parquet")
    frame.to_csv(d / "pt.csv", index=False)
    return d


COLS = ["arm", "segment", "channel", "duration", "event"]


@pytest.mark.parametrize("source", ["pandas", "parquet", "csv"])
def test_counts_equal_row_level(frame, files, source):
    if source == "pandas":
        counts = count_table(frame, COLS)
    else:
        counts = count_table_duckdb(files / f"pt.{source}", COLS)
    assert counts["n"].sum() == len(frame)
    km_r = kaplan_meier(frame, by="arm").to_frame()
    km_c = kaplan_meier(counts, by="arm", weight_col="n").to_frame()
    np.testing.assert_allclose(km_c["survival"], km_r["survival"], atol=1e-12)
    np.testing.assert_allclose(km_c["ci_low"], km_r["ci_low"], atol=1e-10)
    lr_r, lr_c = logrank(frame, "arm", strata="segment"), logrank(counts, "arm", strata="segment",
                                                                  weight_col="n")
    assert lr_c.statistic == pytest.approx(lr_r.statistic, abs=1e-8)
    d_r = rmst(frame, 90, by="arm").difference("control")
    d_c = rmst(counts, 90, by="arm", weight_col="n").difference("control")
    np.testing.assert_allclose(d_c[["difference", "se"]], d_r[["difference", "se"]], atol=1e-8)
    ref = {"arm": "control"}
    cox_r = fit_cox(frame, ["arm", "segment", "channel"], cluster_col=None, reference=ref).table
    cox_c = fit_cox_counts(counts, ["arm", "segment", "channel"], reference=ref).table
    np.testing.assert_allclose(cox_c["coef"], cox_r["coef"], atol=1e-8)
    np.testing.assert_allclose(cox_c["se"], cox_r["se"], atol=1e-8)


def test_competing_and_due_axis_on_counts(frame, files):
    counts = count_table_duckdb(str(files / "pt.parquet"), ["arm", "terms_days", "duration",
                                                            "outcome_code", "event"])
    a = cumulative_incidence(frame, by="arm").to_frame()
    b = cumulative_incidence(counts, by="arm", weight_col="n").to_frame()
    np.testing.assert_allclose(b["incidence"], a["incidence"], atol=1e-12)
    np.testing.assert_allclose(b["se"], a["se"], atol=1e-12)
    k1 = kaplan_meier(frame, axis="due").prob_paid_by([0, 15])
    k2 = kaplan_meier(counts, axis="due", weight_col="n").prob_paid_by([0, 15])
    np.testing.assert_allclose(k2[["prob_paid", "se"]], k1[["prob_paid", "se"]], atol=1e-10)


def test_duckdb_where_and_errors(frame, files):
    sub = count_table_duckdb(files / "pt.parquet", ["duration", "event"], where="arm = 'control'")
    assert sub["n"].sum() == (frame["arm"] == "control").sum()
    with pytest.raises(SurvivalInputError, match="lacks column"):
        count_table_duckdb(files / "pt.parquet", ["nope", "duration"])
    with pytest.raises(SurvivalInputError, match="cannot read"):
        count_table_duckdb(files / "missing.parquet", ["duration"])
    with pytest.raises(SurvivalInputError, match="cannot read"):
        count_table_duckdb("a file.xlsx", ["duration"])
    with pytest.raises(SurvivalInputError, match="no rows"):
        count_table_duckdb(files / "pt.parquet", ["duration"], where="arm = 'zzz'")
    bad = frame.head(5).assign(arm=[None, "a", "b", "a", "b"])
    with pytest.raises(SurvivalInputError, match="missing"):
        count_table(bad, ["arm", "duration", "event"])
    with pytest.raises(SurvivalInputError, match="whole counts"):
        kaplan_meier(frame.head(5).assign(n=0.5), weight_col="n")
