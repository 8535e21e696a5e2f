"""The lab on history shapes a real export has (issue 18): never reminded, one reminder
channel, no discounts, everything paid on time, a handful of customers, one segment.

Each must calibrate to finite, plausible projections -- the current strategy's projected
paid-by-due + 15 on the twin inside the history's own 95 % interval -- decide what it could
not learn from the information matrix (not from a fixed SE threshold), keep those
parameters at their prior (never drawing from a degenerate estimate) and say so in the
summary, without overflow or divide-by-zero warnings.
"""

from __future__ import annotations

import numpy as np
import pytest

from collections_lab.lab.calibrate import AT_BOUND, Calibration, identification
from collections_lab.lab.compare import compare_strategies
from collections_lab.lab.priors import relied_priors
from collections_lab.lab.twin import Twin
from collections_lab.model.behaviour import SEGMENTS, BehaviourModel
from collections_lab.model.simulation import simulate
from collections_lab.model.simulation.population import generate_customers
from collections_lab.model.strategies import Reminder, Strategy, example_strategies

S = example_strategies()
ON_TIME = BehaviourModel(never_pay_logit={k: -12.0 for k in SEGMENTS}, pre_due_level=0.3,
                         due_peak=3.0, post_due_level=0.5)
SMS_ONLY = Strategy("sms_only", reminders=(Reminder(-3, "friendly", "sms"),
                                           Reminder(7, "firm", "sms")))


def _shape(name):
    """(customers, strategy, model, months) of each history shape."""
    if name == "never_reminded":
        return 80, S["no_reminders"], None, 8
    if name == "one_channel_no_discounts":
        return 80, SMS_ONLY, None, 8
    if name == "all_paid_on_time":
        return 80, S["no_reminders"], ON_TIME, 8
    if name == "handful_of_customers":
        return 12, S["one_friendly_after_due"], None, 24
    if name == "one_segment":
        customers = generate_customers(80, seed=2)
        customers["segment"] = "small"
        return customers, S["nudge_then_firm"], None, 8
    raise KeyError(name)


SHAPES = ("never_reminded", "one_channel_no_discounts", "all_paid_on_time",
          "handful_of_customers", "one_segment")
#: The two slowest shapes (about 20 s each) run with ``--runslow``.
SLOW = {"never_reminded", "one_channel_no_discounts"}


def _history_paid_by_due_15(cal):
    """Observed share paid by due + 15 and its 95 % interval (customer-clustered)."""
    f = cal.history_.frame
    seen = (f["duration"] >= f["terms_days"] + 15) | f["event"].astype(bool)
    follow_ok = seen.to_numpy()
    paid = (f["event"].astype(bool) & (f["days_late"] <= 15)).to_numpy()[follow_ok]
    cust = f["customer_id"].to_numpy()[follow_ok]
    share = paid.mean()
    # cluster-robust (by customer) variance of a mean
    resid = paid - share
    by = np.bincount(np.unique(cust, return_inverse=True)[1], weights=resid)
    se = np.sqrt((by**2).sum()) / len(paid)
    se = max(se, np.sqrt(0.25 / len(paid)) / 10)  # a share of 0 or 1 still has an interval
    return share, share - 1.96 * se - 0.5 / len(paid), share + 1.96 * se + 0.5 / len(paid)


@pytest.fixture(scope="module", params=[
    pytest.param(s, marks=pytest.mark.slow) if s in SLOW else s for s in SHAPES])
def shape(request):
    customers, strategy, model, months = _shape(request.param)
    end = f"{2025 + (months - 1) // 12}-{(months - 1) % 12 + 1:02d}-28"
    sim = simulate(customers, strategy, model=model, seed=5, start="2025-01-01", end=end,
                   progress=False)
    with _no_runtime_warnings():  # no overflow / divide-by-zero on any shape
        cal = Calibration().fit(sim.portfolio, default=strategy)
    return request.param, sim, strategy, cal


class _no_runtime_warnings:
    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("error", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def test_projection_is_finite_and_inside_the_history_interval(shape):
    name, sim, strategy, cal = shape
    p = cal.params_
    assert np.isfinite(p["estimate"]).all(), p.loc[~np.isfinite(p["estimate"])]
    est = p.loc[p["source"] == "estimated"]
    # nothing the history does not pin down is left among the estimates
    assert (est["ci_high"] / est["ci_low"]).replace(np.inf, np.nan).dropna().lt(1e6).all()
    with _no_runtime_warnings():
        twin = Twin.from_calibration(cal, fx={c: 1.0 for c in cal.history_.frame[
            "currency"].unique()}, parameter_draws=8, seed=1)
        comp = compare_strategies(twin, [strategy], replicates=8, progress=False)
    t = comp.summary_table().set_index("metric")
    assert np.isfinite(t[["mean", "low", "high"]].to_numpy()).all()
    assert 0 < t.loc["dso", "mean"] < 120
    share, lo, hi = _history_paid_by_due_15(cal)
    projected = t.loc["paid_by_due_15", "mean"]
    assert lo <= projected <= hi, (name, share, lo, hi, projected)
    # the projection's own interval is not the degenerate 0-100 % of issue 18
    assert t.loc["paid_by_due_15", "high"] - t.loc["paid_by_due_15", "low"] < 0.5


def test_what_could_not_be_learned_is_listed_and_said(shape):
    name, _sim, strategy, cal = shape
    p = cal.params_
    for param, why in cal.not_identified_.items():
        assert p.loc[param, "source"] == "prior" and p.loc[param, "note"] == why
        assert param in cal.priors_
    text = cal.summary()
    if cal.not_learned():
        assert "Not learned from this history" in text or "does not pin down" in text
    if name == "never_reminded":
        assert p.loc["pulse_decay_days", "source"] == "prior"
        assert "reminders" in text
    if name == "all_paid_on_time":
        bound = [k for k, v in cal.not_identified_.items() if v.startswith(AT_BOUND)]
        assert any(k.startswith("never_pay_logit[") for k in bound), cal.not_identified_
        assert "never-paid" in text
    if name == "one_segment":
        assert p.loc["frailty_mean[public]", "source"] == "prior"
    # the recommendation's statement about priors is computed from the same list
    segs = sorted(set(cal.history_.frame["segment"]))
    relied = {n for seg in segs for n in relied_priors(strategy, seg, cal.priors_)}
    every = [n for n in cal.not_identified_
             if not n.startswith(("tone_effect", "channel_effect", "discount", "segment_resp"))]
    assert set(every) <= relied | {n for n in every if "[" in n and n.split("[")[1][:-1]
                                   not in segs}


def test_uncertainty_of_a_demoted_parameter_comes_from_the_prior(shape):
    _name, _sim, _strategy, cal = shape
    spread = {k for k, v in cal.not_identified_.items() if not v.startswith(AT_BOUND)}
    models = cal.sample_models(30, seed=2)
    for param in spread:
        field, key = (param[:-1].split("[") if "[" in param else (param, None))
        values = np.array([getattr(m, field)[key] if key else getattr(m, field)
                           for m in models])
        prior = cal.params_.loc[param, "prior"]
        assert np.all(np.isfinite(values))
        if cal._demoted[param].transform == "log":
            assert np.all(np.abs(np.log(values / prior)) < 3), (param, values)


def test_identification_flags_bounds_flat_profiles_and_confounding():
    info = np.array([[4.0, 2.0, 0.0, 0.0], [2.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1e-3, 0.0],
                     [0.0, 0.0, 0.0, 50.0]])
    out = identification(info, [0.0, 0.1, 0.2, 0.3], [0.0] * 4, list("abcd"))
    assert set(out) == {0, 2}
    assert "confounded" in out[0] and "with b" in out[0]
    assert "flat profile" in out[2]
    out = identification(np.diag([50.0, 80.0]), [0.3, -9.0], [0.0, 0.0], ["a", "b"])
    assert list(out) == [1] and out[1].startswith(AT_BOUND)
    # a well-conditioned, informative matrix identifies everything
    assert identification(np.diag([50.0, 80.0]), [0.3, 1.0], [0.0, 0.0], ["a", "b"]) == {}


def test_the_recommendation_sentence_names_unidentified_baseline_priors():
    import pandas as pd

    from collections_lab.lab.sensitivity import priors_sentence

    table = pd.DataFrame({"segment": ["small", "all"],
                          "relies_on_priors": ["never_pay_logit[small], post_due_level", ""]})
    text = priors_sentence(table, None, "USD")
    assert "rests on parameters the history cannot identify" in text
    assert "share of never-paid invoices in segment small" in text
    assert "payments after the due date" in text
    assert "not checked (the twin fixes them per invoice)" in text
    es = priors_sentence(table, None, "USD", "es")
    assert "no identifica" in es and "nunca pagadas" in es
    none = pd.DataFrame({"segment": ["small"], "relies_on_priors": [""]})
    assert "No recommendation rests" in priors_sentence(none, None, "USD")


def test_a_real_export_never_reminded_without_discounts(tmp_path):
    """A real single-file export (tests/fixtures/exports/es_cartera: 301 invoices, 37
    customers, no reminders, no discounts) with its drafted mapping, as a new user runs it."""
    from pathlib import Path

    from collections_lab.data.drafting import draft_mapping
    from collections_lab.data.loading import load_portfolio
    from collections_lab.data.mapping import ColumnMapping

    export = Path(__file__).parent / "fixtures" / "exports" / "es_cartera" / "cartera.csv"
    mapping = draft_mapping(export).write(tmp_path / "mapping.yml")
    portfolio = load_portfolio(export, mapping=ColumnMapping.from_yaml(mapping), strict=True)
    with _no_runtime_warnings():
        cal = Calibration().fit(portfolio)
        twin = Twin.from_calibration(cal, parameter_draws=8, seed=1)
        comp = compare_strategies(twin, [cal.current_strategy_], replicates=8,
                                  progress=False)
    t = comp.summary_table().set_index("metric")
    assert np.isfinite(t[["mean", "low", "high"]].to_numpy()).all()
    _share, lo, hi = _history_paid_by_due_15(cal)
    assert lo <= t.loc["paid_by_due_15", "mean"] <= hi
    assert cal.params_.loc["pulse_decay_days", "source"] == "prior"
    assert "Not learned from this history" in cal.summary()
