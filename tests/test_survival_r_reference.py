"""The survival engine against R (``survival`` 3.5, ``cmprsk`` 2.2) on data nobody here tuned.

One R process per module: the fixture writes data sets of several shapes (heavy ties of
whole days, three arms, strata, customers as clusters, delayed entry on the due axis,
time-varying reminders, a counts table) to a temporary directory, runs one ``Rscript``
that writes every reference as CSV, and each test compares one estimator. Tolerances:
estimates 1e-8 absolute, standard errors 1e-6 relative. Without R these tests skip with
the install command; under CI (``CI=true``) a missing R fails them (see ``.ci/run``).
"""

import numpy as np
import pandas as pd
import pytest
from r_reference import read_r, require_rscript, run_r

from collections_lab.survival import (
    count_table,
    cumulative_incidence,
    fit_cox,
    fit_cox_counts,
    fit_time_varying_cox,
    gray_test,
    kaplan_meier,
    logrank,
    reminder_intervals,
    rmst,
)

EST, SE = 1e-8, 1e-6
DAYS = list(range(0, 61, 4))
DUE_DAYS = list(range(-40, 31, 5))
ARM_LEVELS = ["control", "call", "email"]


def invoices(n=900, n_customers=160, seed=20261206) -> pd.DataFrame:
    """Heavily tied whole days (multiples of 3 for most invoices), three arms by customer,
    segments, payment terms 15/30/60, competing outcomes and censoring."""
    rng = np.random.default_rng(seed)
    cust = rng.integers(0, n_customers, n)
    arm = np.array(ARM_LEVELS)[rng.integers(0, 3, n_customers)][cust]
    frail = rng.gamma(2.0, 0.5, n_customers)[cust]
    seg = rng.choice(["large", "public", "small"], n)
    amount = np.round(rng.lognormal(6, 1, n), 2)
    terms = rng.choice([15, 30, 60], n, p=[0.5, 0.3, 0.2])
    rate = 0.03 * frail * np.where(arm == "call", 1.5, np.where(arm == "email", 1.2, 1.0)) \
        * np.where(seg == "large", 0.7, 1.0)
    t = rng.exponential(1 / rate)
    t = np.where(rng.random(n) < 0.7, 3 * np.floor(t / 3), np.floor(t)).astype(int)
    cens = rng.integers(40, 120, n)
    end = np.minimum(t, cens)
    cause = rng.choice([1, 1, 1, 1, 1, 2, 3], n)
    outcome = np.where(t <= cens, cause, 0)
    return pd.DataFrame({
        "invoice_id": [f"i{k}" for k in range(n)], "customer_id": [f"c{k}" for k in cust],
        "issue_date": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 60, n), unit="D"),
        "arm": arm, "segment": seg, "amount": amount, "log_amount": np.log(amount),
        "terms_days": terms, "duration": end, "outcome_code": outcome, "event": outcome == 1,
    })


def reminders(frame: pd.DataFrame, seed=7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sent = frame.sample(frac=0.6, random_state=seed)
    return pd.DataFrame({"invoice_id": sent["invoice_id"],
                         "sent_at": sent["issue_date"] + pd.to_timedelta(rng.integers(1, 40, len(sent)), unit="D")})


R_SCRIPT = r"""
suppressPackageStartupMessages({library(survival); library(cmprsk)})
out <- function(x, name) write.csv(x, paste0(name, ".csv"), row.names = FALSE)
ctl <- coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 100)
inv <- read.csv("invoices.csv")
inv$arm <- factor(inv$arm, levels = c("control", "call", "email"))
days <- as.numeric(strsplit(readLines("days.txt")[1], ",")[[1]])
due_days <- as.numeric(strsplit(readLines("days.txt")[2], ",")[[1]])

km_table <- function(fit, times) {
  s <- summary(fit, times = times, extend = FALSE)
  data.frame(group = sub("arm=", "", as.character(s$strata)), day = s$time,
             surv = s$surv, se = s$std.err)
}
out(km_table(survfit(Surv(duration, event) ~ arm, data = inv), days), "km_issue")
out(km_table(survfit(Surv(-terms_days - 1, duration - terms_days, event) ~ arm, data = inv),
             due_days), "km_due")
counts <- read.csv("counts.csv")
out(km_table(survfit(Surv(duration, event) ~ arm, data = counts, weights = n), days), "km_counts")

out(data.frame(
  test = c("plain", "stratified"),
  chisq = c(survdiff(Surv(duration, event) ~ arm, data = inv)$chisq,
            survdiff(Surv(duration, event) ~ arm + strata(segment), data = inv)$chisq)),
  "logrank")

tab <- summary(survfit(Surv(duration, event) ~ arm, data = inv), rmean = 60)$table
out(data.frame(group = sub("arm=", "", rownames(tab)), rmst = tab[, "rmean"],
               se = tab[, "se(rmean)"]), "rmst")

cox_rows <- function(fit, model, ties) {
  data.frame(model = model, ties = ties, term = names(coef(fit)), coef = unname(coef(fit)),
             se_model = sqrt(diag(fit$naive.var %||% fit$var)),
             se_robust = if (is.null(fit$naive.var)) NA else sqrt(diag(fit$var)))
}
`%||%` <- function(a, b) if (is.null(a)) b else a
long <- read.csv("intervals.csv")
cox <- NULL
for (ties in c("efron", "breslow")) {
  cox <- rbind(cox,
    cox_rows(coxph(Surv(duration, event) ~ arm + segment + log_amount, data = inv,
                   ties = ties, cluster = customer_id, control = ctl), "rows", ties),
    cox_rows(coxph(Surv(duration, event) ~ arm + log_amount + strata(segment), data = inv,
                   ties = ties, cluster = customer_id, control = ctl), "strata", ties),
    cox_rows(coxph(Surv(start, stop, event) ~ reminded, data = long, ties = ties,
                   cluster = customer_id, control = ctl), "time_varying", ties),
    cox_rows(coxph(Surv(duration, event) ~ arm + segment, data = inv, ties = ties,
                   control = ctl), "counts", ties))
}
out(cox, "cox")

inv$state <- factor(inv$outcome_code, 0:3, c("open", "paid", "escalated", "written_off"))
ajfit <- survfit(Surv(duration, state) ~ arm, data = inv)
aj <- summary(ajfit, times = days, extend = FALSE)
states <- ajfit$states
ci <- NULL
for (k in 2:4) ci <- rbind(ci, data.frame(group = sub("arm=", "", as.character(aj$strata)),
  outcome = states[k], day = aj$time, incidence = aj$pstate[, k], se = aj$std.err[, k]))
out(ci, "cif")

cr <- NULL
tp <- timepoints(cuminc(inv$duration, inv$outcome_code, inv$arm, cencode = 0), days)
for (key in rownames(tp$est)) {
  parts <- strsplit(key, " ")[[1]]
  cr <- rbind(cr, data.frame(group = parts[1], code = as.integer(parts[2]), day = days,
                             incidence = tp$est[key, ], var = tp$var[key, ]))
}
out(cr[!is.na(cr$var), ], "cuminc")
gray <- function(fit, test) data.frame(test = test, code = as.integer(rownames(fit$Tests)),
                                       stat = fit$Tests[, "stat"], df = fit$Tests[, "df"])
out(rbind(
  gray(cuminc(inv$duration, inv$outcome_code, inv$arm, cencode = 0), "plain"),
  gray(cuminc(inv$duration, inv$outcome_code, inv$arm, strata = inv$segment, cencode = 0), "stratified"),
  gray(cuminc(inv$duration, inv$outcome_code, inv$segment, cencode = 0, rho = 1), "rho1")), "gray")
"""


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    require_rscript()
    work = tmp_path_factory.mktemp("r_reference")
    inv = invoices()
    long = reminder_intervals(inv, reminders(inv))
    counts = count_table(inv, ["arm", "segment", "duration", "event"])
    inv.assign(event=inv["event"].astype(int)).to_csv(work / "invoices.csv", index=False)
    long.assign(event=long["event"].astype(int)).to_csv(work / "intervals.csv", index=False)
    counts.assign(event=counts["event"].astype(int)).to_csv(work / "counts.csv", index=False)
    (work / "days.txt").write_text(",".join(map(str, DAYS)) + "\n" + ",".join(map(str, DUE_DAYS)) + "\n")
    run_r(R_SCRIPT, work)
    return {"dir": work, "inv": inv, "long": long, "counts": counts}


def _km_check(ours, theirs):
    merged = theirs.merge(ours.prob_paid_by(sorted(theirs["day"].unique())), on=["group", "day"],
                          suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(theirs)
    np.testing.assert_allclose(1 - merged["prob_paid"], merged["surv"], atol=EST)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=SE)


def test_kaplan_meier_and_greenwood_se_with_heavy_ties(ref):
    _km_check(kaplan_meier(ref["inv"], by="arm", cluster_col=None), read_r(ref["dir"], "km_issue"))


def test_kaplan_meier_on_the_due_axis_with_delayed_entry(ref):
    _km_check(kaplan_meier(ref["inv"], by="arm", axis="due", cluster_col=None), read_r(ref["dir"], "km_due"))


def test_kaplan_meier_on_a_counts_table(ref):
    _km_check(kaplan_meier(ref["counts"], by="arm", weight_col="n"), read_r(ref["dir"], "km_counts"))


def test_logrank_plain_and_stratified(ref):
    theirs = read_r(ref["dir"], "logrank").set_index("test")["chisq"]
    assert logrank(ref["inv"], "arm").statistic == pytest.approx(theirs["plain"], rel=EST)
    assert logrank(ref["inv"], "arm", strata="segment").statistic == pytest.approx(
        theirs["stratified"], rel=EST)


def test_rmst_and_its_se(ref):
    theirs = read_r(ref["dir"], "rmst")
    ours = rmst(ref["inv"], 60, by="arm", cluster_col=None).to_frame()
    merged = theirs.merge(ours, on="group", suffixes=("_r", ""))
    assert len(merged) == 3
    np.testing.assert_allclose(merged["rmst"], merged["rmst_r"], atol=EST)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=SE)


def _r_cox(ref, model, ties):
    cox = read_r(ref["dir"], "cox")
    return cox[(cox["model"] == model) & (cox["ties"] == ties)].reset_index(drop=True)


REF = {"arm": "control"}


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_coefficients_model_and_robust_se(ref, ties):
    theirs = _r_cox(ref, "rows", ties)
    covs = ["arm", "segment", "log_amount"]
    robust = fit_cox(ref["inv"], covs, reference=REF, ties=ties).table
    model = fit_cox(ref["inv"], covs, reference=REF, ties=ties, cluster_col=None).table
    assert robust["covariate"].tolist() == ["arm=call", "arm=email", "segment=public", "segment=small",
                                            "log_amount"]
    np.testing.assert_allclose(robust["coef"], theirs["coef"], atol=EST)
    np.testing.assert_allclose(model["se"], theirs["se_model"], rtol=SE)
    np.testing.assert_allclose(robust["se"], theirs["se_robust"], rtol=SE)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_stratified_cox_with_robust_se(ref, ties):
    theirs = _r_cox(ref, "strata", ties)
    ours = fit_cox(ref["inv"], ["arm", "log_amount"], strata="segment", reference=REF, ties=ties).table
    np.testing.assert_allclose(ours["coef"], theirs["coef"], atol=EST)
    np.testing.assert_allclose(ours["se"], theirs["se_robust"], rtol=SE)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_time_varying_cox_with_delayed_entry_and_robust_se(ref, ties):
    theirs = _r_cox(ref, "time_varying", ties)
    ours = fit_time_varying_cox(ref["long"], ["reminded"], ties=ties).table
    np.testing.assert_allclose(ours["coef"], theirs["coef"], atol=EST)
    np.testing.assert_allclose(ours["se"], theirs["se_robust"], rtol=SE)


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_cox_on_a_counts_table_equals_r_on_the_invoices(ref, ties):
    theirs = _r_cox(ref, "counts", ties)
    ours = fit_cox_counts(ref["counts"], ["arm", "segment"], reference=REF, ties=ties).table
    np.testing.assert_allclose(ours["coef"], theirs["coef"], atol=EST)
    np.testing.assert_allclose(ours["se"], theirs["se_model"], rtol=SE)


def test_cumulative_incidence_and_delta_method_se(ref):
    theirs = read_r(ref["dir"], "cif")
    ours = cumulative_incidence(ref["inv"], by="arm")
    rows = [ours.at(d).assign(se=lambda f, d=d: _se_at(ours, f, d)) for d in DAYS]
    got = pd.concat(rows, ignore_index=True)
    merged = theirs.merge(got, on=["group", "outcome", "day"], suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(theirs) == 3 * 3 * len(DAYS)
    np.testing.assert_allclose(merged["incidence"], merged["incidence_r"], atol=EST)
    np.testing.assert_allclose(merged["se"], merged["se_r"], rtol=SE)


def _se_at(ci, frame, day):
    curves = ci.to_frame()
    out = []
    for g, o in zip(frame["group"], frame["outcome"], strict=True):
        c = curves[(curves["group"] == g) & (curves["outcome"] == o) & (curves["day"] <= day)]
        out.append(float(c["se"].iloc[-1]) if len(c) else 0.0)
    return out


CODES = {1: "paid", 2: "escalated", 3: "written_off"}


def test_cumulative_incidence_with_cmprsk_aalen_type_variance(ref):
    theirs = read_r(ref["dir"], "cuminc").assign(outcome=lambda f: f["code"].map(CODES))
    ours = cumulative_incidence(ref["inv"], by="arm", variance="aalen")
    got = pd.concat([ours.at(d).assign(se=lambda f, d=d: _se_at(ours, f, d)) for d in DAYS],
                    ignore_index=True)
    merged = theirs.merge(got, on=["group", "outcome", "day"], suffixes=("_r", ""), validate="one_to_one")
    assert len(merged) == len(theirs) > 50
    np.testing.assert_allclose(merged["incidence"], merged["incidence_r"], atol=EST)
    np.testing.assert_allclose(merged["se"] ** 2, merged["var"], rtol=2 * SE)
    # and it is a different variance from the delta method's (R survfit's)
    delta = cumulative_incidence(ref["inv"], by="arm").to_frame()["se"]
    assert not np.allclose(ours.to_frame()["se"], delta, rtol=1e-3)


@pytest.mark.parametrize("test", ["plain", "stratified", "rho1"])
def test_gray_test(ref, test):
    theirs = read_r(ref["dir"], "gray")
    theirs = theirs[theirs["test"] == test].assign(outcome=lambda f: f["code"].map(CODES))
    if test == "plain":
        ours = gray_test(ref["inv"], "arm")
    elif test == "stratified":
        ours = gray_test(ref["inv"], "arm", strata="segment")
    else:
        ours = gray_test(ref["inv"], "segment", rho=1.0)
    merged = theirs.merge(ours.to_frame(), on="outcome")
    assert len(merged) == 3
    np.testing.assert_allclose(merged["statistic"], merged["stat"], rtol=EST)
    assert (merged["dof"] == merged["df"]).all()


def test_gray_test_on_a_counts_table_equals_the_invoices(ref):
    counts = count_table(ref["inv"], ["arm", "duration", "outcome_code"])
    rows = gray_test(ref["inv"], "arm").to_frame()
    agg = gray_test(counts, "arm", weight_col="n").to_frame()
    np.testing.assert_allclose(agg["statistic"], rows["statistic"], rtol=1e-12)
