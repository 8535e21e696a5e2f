"""Customer-level assignment: deterministic, weighted, stratified, stable."""

import numpy as np
import pandas as pd
import pytest

from collections_lab import Experiment, Strategy, StrategyError, assign

ARMS = {"control": Strategy("c"), "treat": Strategy("t")}


def customers(n, segments=("small", "large")):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(n)],
                         "segment": rng.choice(segments, size=n)})


def test_rerunning_gives_the_same_assignment_in_any_row_order():
    exp = Experiment("e", ARMS)
    cust = customers(500)
    a = assign(cust, exp, "2025-01-01")
    b = assign(cust.sample(frac=1, random_state=3), exp, "2025-01-01")
    pd.testing.assert_series_equal(a.set_index("customer_id")["arm"].sort_index(),
                                   b.set_index("customer_id")["arm"].sort_index())


def test_stratified_split_matches_weights_within_one_customer_per_stratum():
    exp = Experiment("e", ARMS, weights={"control": 1, "treat": 3})
    cust = customers(1001)
    a = assign(cust, exp, "2025-01-01").merge(cust, on="customer_id")
    for _, group in a.groupby("segment"):
        expected = len(group) * 0.75
        assert abs((group["arm"] == "treat").sum() - expected) <= 1


def test_unstratified_assignment_is_stable_when_customers_are_added():
    exp = Experiment("e", ARMS, stratify_by=None)
    small = assign(customers(300), exp, "2025-01-01").set_index("customer_id")["arm"]
    large = assign(customers(900), exp, "2025-01-01").set_index("customer_id")["arm"]
    assert (large.loc[small.index] == small).all()
    share = (large == "treat").mean()
    assert 0.44 < share < 0.56


def test_salt_and_experiment_id_change_the_draw():
    cust = customers(400)
    base = assign(cust, Experiment("e", ARMS, stratify_by=None), "2025-01-01")["arm"]
    other = assign(cust, Experiment("f", ARMS, stratify_by=None), "2025-01-01")["arm"]
    salted = assign(cust, Experiment("e", ARMS, stratify_by=None, salt="x"), "2025-01-01")["arm"]
    assert (base != other).mean() > 0.3 and (base != salted).mean() > 0.3


def test_assignment_rows_and_errors():
    exp = Experiment("e", ARMS)
    a = assign(customers(10), exp, "2025-03-01")
    assert list(a.columns) == ["experiment_id", "customer_id", "arm", "assigned_at"]
    assert (a["assigned_at"] == pd.Timestamp("2025-03-01")).all()
    dup = pd.DataFrame({"customer_id": ["a", "a"], "segment": ["s", "s"]})
    with pytest.raises(ValueError, match="duplicate customer_id"):
        assign(dup, exp, "2025-01-01")
    with pytest.raises(ValueError, match="cannot stratify by 'region'"):
        assign(customers(5), Experiment("e", ARMS, stratify_by="region"), "2025-01-01")
    with pytest.raises(StrategyError, match="control arm 'x'"):
        Experiment("e", ARMS, control="x")
    with pytest.raises(StrategyError, match="weights must name every arm"):
        Experiment("e", ARMS, weights={"control": 1})
