"""Two collection levers (issue 21): a reminder's own payment deadline and the policy of at
least N reminders before legal escalation — strategies, YAML, data, simulator, calibration,
the lab's search and the experiment design."""

import re

import numpy as np
import pandas as pd
import pytest

from collections_lab.data.loading import load_portfolio
from collections_lab.lab.calibrate import Calibration
from collections_lab.lab.history import infer_strategy
from collections_lab.lab.recommend import Constraints, StrategySpace, recommend
from collections_lab.lab.twin import Twin
from collections_lab.model.behaviour import SEGMENTS, BehaviourModel
from collections_lab.model.plans import Experiment
from collections_lab.model.simulation import (
    FX_PER_USD,
    HazardCurves,
    hazard_curve,
    simulate,
)
from collections_lab.model.strategies import (
    Reminder,
    Strategy,
    StrategyError,
    example_strategies,
    load_strategies,
    policy_problems,
    save_strategies,
)

ASKS = Strategy("asks", reminders=(Reminder(3, deadline_days=7), Reminder(17, "firm")),
                escalation_day=60)
PLAIN = Strategy("plain", reminders=(Reminder(3), Reminder(17, "firm")), escalation_day=60)


# ----------------------------------------------------------------------------- strategies
def test_deadline_round_trips_through_yaml(tmp_path):
    strategies = {**example_strategies(), "asks": ASKS}
    path = save_strategies(strategies, tmp_path / "s.yml")
    text = path.read_text(encoding="utf-8")
    assert "deadline_days: 7" in text
    # reminders without a deadline are written as before (no null field)
    assert "deadline_days: null" not in text
    loaded = load_strategies(path)
    assert loaded == strategies
    assert loaded["asks"].reminders[0].deadline_days == 7
    assert loaded["asks"].reminders[1].deadline_days is None
    assert loaded["pay_within_7_days"].has_deadlines
    assert not loaded["nudge_then_firm"].has_deadlines


@pytest.mark.parametrize("deadline, message", [
    (0, "reminder 1: deadline of 0 day(s) is outside 1..90 days after the reminder"),
    (120, "reminder 1: deadline of 120 day(s) is outside 1..90 days"),
    ("7", "reminder 1: deadline_days must be a whole number of days, got '7'"),
    (7.5, "reminder 1: deadline_days must be a whole number of days, got 7.5"),
    (True, "reminder 1: deadline_days must be a whole number of days, got True"),
    (60, "reminder 1: its deadline (due + 63) is not before escalation on due + 60"),
])
def test_deadline_validation_names_file_strategy_and_reminder(tmp_path, deadline, message):
    path = tmp_path / "s.yml"
    value = f"'{deadline}'" if isinstance(deadline, str) else str(deadline).lower()
    path.write_text("strategies:\n  - name: bad\n    escalation_day: 60\n    reminders:\n"
                    f"      - {{day: 3, deadline_days: {value}}}\n      - {{day: 17}}\n",
                    encoding="utf-8")
    with pytest.raises(StrategyError, match=re.escape(message)) as err:
        load_strategies(path)
    assert str(path) in str(err.value) and "'bad'" in str(err.value)


def test_misspelt_deadline_field_lists_the_known_ones(tmp_path):
    path = tmp_path / "s.yml"
    path.write_text("strategies:\n  - name: typo\n    reminders:\n"
                    "      - {day: 3, deadline: 7}\n", encoding="utf-8")
    with pytest.raises(StrategyError, match=r"reminder 1: unknown field\(s\) \['deadline'\];"
                                            r" known: .*'deadline_days'"):
        load_strategies(path)


def test_policy_counts_reminders_before_escalation():
    one = Strategy("one", reminders=(Reminder(3),), escalation_day=60)
    assert one.reminders_before_escalation == 1
    assert policy_problems(one) == ["escalates after 1 reminder(s), policy asks for at least 2"]
    assert policy_problems(one, 1) == [] and policy_problems(one, 0) == []
    assert policy_problems(Strategy("silent", escalation_day=60)) == [
        "escalates after 0 reminder(s), policy asks for at least 2"]
    # never escalates: not concerned
    assert policy_problems(Strategy("no legal", reminders=(Reminder(3),))) == []
    assert policy_problems(ASKS) == []
    # the bundled examples that escalate all follow the policy, the deadline ones included
    for s in example_strategies().values():
        assert policy_problems(s) == [], s.name


# ----------------------------------------------------------------------------- data
def test_reminders_table_deadline_column_is_optional(tmp_path):
    exp = Experiment("d", {"plain": PLAIN, "asks": ASKS}, control="plain")
    sim = simulate(120, exp, seed=2, start="2025-01-01", end="2025-04-30", progress=False,
                   truth_replicates=1)
    rem = sim.reminders
    assert str(rem["deadline_days"].dtype) == "Int64"
    first = rem["sequence"] == 1
    arm = rem["invoice_id"].map(sim.truth.invoices.set_index("invoice_id")["arm"])
    assert (rem.loc[first & (arm == "asks"), "deadline_days"] == 7).all()
    assert rem.loc[~first | (arm == "plain"), "deadline_days"].isna().all()
    sim.portfolio.save(tmp_path / "with")
    loaded = load_portfolio(tmp_path / "with", strict=True)
    pd.testing.assert_series_equal(loaded.reminders["deadline_days"], rem["deadline_days"],
                                   check_exact=True)
    # the history's strategy read off the reminders keeps the deadline
    only_asks = simulate(150, ASKS, seed=2, start="2025-01-01", end="2025-06-30",
                         progress=False)
    inferred = infer_strategy(only_asks.portfolio)
    assert inferred.reminders == ASKS.reminders and inferred.escalation_day == 60
    # without deadlines the simulator writes no such column, and loading does not add one
    plain = simulate(60, PLAIN, seed=2, start="2025-01-01", end="2025-03-31", progress=False)
    assert "deadline_days" not in plain.reminders
    plain.portfolio.save(tmp_path / "without")
    assert "deadline_days" not in load_portfolio(tmp_path / "without").reminders


def test_bad_deadline_in_reminders_file_is_rejected_with_its_row(tmp_path):
    sim = simulate(40, ASKS, seed=1, start="2025-01-01", end="2025-03-31", progress=False)
    sim.portfolio.save(tmp_path)
    path = tmp_path / "reminders.csv"
    rem = pd.read_csv(path, dtype=str, keep_default_na=False)
    row = int(np.flatnonzero(rem["deadline_days"] == "7")[0])
    rem.loc[row, "deadline_days"] = "0"
    rem.to_csv(path, index=False)
    loaded = load_portfolio(tmp_path)
    issues = loaded.load_report.tables["reminders"].issues
    assert any(i.row == row + 2 and i.column == "deadline_days"
               and "deadline_days must be 1 to 90 days after the reminder" in i.message
               for i in issues)


# ----------------------------------------------------------------------------- simulator
def test_no_deadline_leaves_the_hazard_curve_bit_for_bit():
    model = BehaviourModel()
    zero = model.with_params(deadline_effect=0.0)
    for terms in (15, 30):
        base = hazard_curve(model, PLAIN, "small", terms, False)
        assert np.array_equal(base, hazard_curve(model.with_params(deadline_effect=5.0), PLAIN,
                                                 "small", terms, False))
        assert np.array_equal(base, hazard_curve(zero, ASKS, "small", terms, False))
        moved = hazard_curve(model, ASKS, "small", terms, False) / base
        day = terms + 3
        assert np.all(moved[:day] == 1.0) and moved[day + 7] == pytest.approx(2.0)
        assert moved[day + 6] < moved[day + 7] and moved[day + 8] < moved[day + 7]


def _analytic_share_within_deadline(sim, model, strategy, reminder_day, window):
    """P(paid from the reminder's day to its deadline | open that morning), from the
    engine's cumulative hazard: P(paid by t) = (1 - π_i)(1 - exp(-m_i G(t)))."""
    truth = sim.truth.invoices.set_index("invoice_id")
    inv = sim.invoices.set_index("invoice_id")
    seg = inv["customer_id"].map(sim.customers.set_index("customer_id")["segment"])
    terms = (inv["due_date"] - inv["issue_date"]).dt.days.to_numpy()
    m = truth.loc[inv.index, "multiplier"].to_numpy()
    never = truth.loc[inv.index, "never_pay_probability"].to_numpy()
    curves = HazardCurves(model, [strategy, None])
    num = den = 0.0
    for i, (sg, tm) in enumerate(zip(seg.to_numpy(), terms, strict=True)):
        G = curves.cumulative(0, SEGMENTS.index(sg), int(tm), False)
        d = tm + reminder_day

        def paid_by(day, i=i, G=G):
            return (1 - never[i]) * (1 - np.exp(-m[i] * G[day]))

        den += 1 - paid_by(d - 1)
        num += paid_by(d + window) - paid_by(d - 1)
    return num / den


def _simulated_share_within_deadline(sim, reminder_day, window):
    pt = sim.portfolio.payment_times(as_of="2027-01-01")
    since = pt["duration"] - pt["terms_days"] - reminder_day  # days from the reminder
    paid = (pt["outcome"] == "paid").to_numpy()
    open_then = ~(paid & (since < 0))
    within = paid & (since >= 0) & (since <= window)
    return within[open_then].mean(), int(open_then.sum())


def test_share_paid_within_the_deadline_rises_as_the_model_says():
    strategy = Strategy("asks", reminders=(Reminder(3, deadline_days=7),))
    shares, expected = [], []
    for effect in (0.0, 1.0, 3.0):
        model = BehaviourModel(deadline_effect=effect)
        sim = simulate(1500, strategy, model=model, seed=21, start="2025-01-01",
                       end="2025-06-30", progress=False)
        share, n = _simulated_share_within_deadline(sim, 3, 7)
        want = _analytic_share_within_deadline(sim, model, strategy, 3, 7)
        se = np.sqrt(want * (1 - want) / n)
        assert abs(share - want) < 4 * se, (effect, share, want, se)
        shares.append(share)
        expected.append(want)
    assert expected[0] < expected[1] < expected[2]
    assert shares[0] < shares[1] < shares[2]
    assert expected[2] - expected[0] > 0.1  # a visible effect, far beyond the noise


def test_twin_draws_the_deadline():
    sim = simulate(200, PLAIN, seed=4, start="2025-01-01", end="2025-06-30", progress=False)
    twin = Twin.from_simulation(sim, fx=FX_PER_USD)
    strong = Twin.from_simulation(sim, fx=FX_PER_USD)
    strong.model = strong.model.with_params(deadline_effect=4.0)
    base = twin.outcomes([PLAIN, ASKS], replicate=0)
    assert np.array_equal(base[0].end_day, strong.outcomes([PLAIN], replicate=0)[0].end_day)
    faster = strong.outcomes([ASKS], replicate=0)[0]
    # common random numbers: a stronger deadline only ever brings payments earlier
    assert (faster.end_day <= base[1].end_day).all() and (faster.end_day < base[1].end_day).any()
    assert (base[1].end_day <= base[0].end_day).all()


def test_deadline_can_be_an_experiment_arm():
    exp = Experiment("deadline-test", {"plain": PLAIN, "asks": ASKS}, control="plain")
    sim = simulate(400, exp, seed=3, start="2025-01-01", end="2025-06-30", progress=False)
    effects = sim.truth.arm_effects.set_index("arm")
    assert effects.loc["asks", "p_paid_by_due_15"] > effects.loc["plain", "p_paid_by_due_15"]
    assert sim.truth.strategies["asks"]["reminders"][0]["deadline_days"] == 7


# ----------------------------------------------------------------------------- calibration
def _deadline_history(effect, deadline=True, seed=5):
    asks = ASKS if deadline else Strategy("asks", reminders=PLAIN.reminders, escalation_day=60)
    exp = Experiment("d", {"plain": PLAIN, "asks": asks}, control="plain")
    return simulate(600, exp, model=BehaviourModel(deadline_effect=effect), seed=seed,
                    start="2025-01-01", end="2025-08-31", progress=False, truth_replicates=1)


def test_calibration_recovers_a_known_deadline_effect(tmp_path):
    sim = _deadline_history(2.5)
    sim.portfolio.save(tmp_path)  # through the files: the reminders table's column
    cal = Calibration().fit(load_portfolio(tmp_path))  # recorded reminders, no strategies
    row = cal.params_.loc["deadline_effect"]
    assert row["source"] == "estimated"
    assert row["ci_low"] <= 2.5 <= row["ci_high"]
    assert row["ci_low"] > BehaviourModel().deadline_effect  # told apart from the prior
    assert "deadline_effect" not in cal.priors_
    assert cal.params_.loc["deadline_fade_days", "source"] == "prior"


def test_history_without_deadlines_keeps_the_prior_and_flags_it():
    sim = _deadline_history(2.5, deadline=False)
    cal = Calibration().fit(sim.portfolio)
    row = cal.params_.loc["deadline_effect"]
    assert row["source"] == "prior" and row["estimate"] == BehaviourModel().deadline_effect
    assert "no reminder in the history stated a payment deadline" in row["note"]
    assert "deadline_effect" in cal.unidentified().index
    from collections_lab.lab.priors import prior_label, relied_priors

    assert relied_priors(ASKS, "small", cal.priors_)[:1] == ["deadline_effect"]
    assert "deadline_effect" not in relied_priors(PLAIN, "small", cal.priors_)
    assert prior_label("deadline_effect", "es").startswith("respuesta a un plazo")


# ----------------------------------------------------------------------------- the lab
@pytest.fixture(scope="module")
def twin():
    history = Strategy("history", reminders=(Reminder(3), Reminder(17)), escalation_day=75)
    sim = simulate(500, history, seed=9, start="2025-01-01", end="2025-12-31", progress=False)
    return Twin.from_simulation(sim, fx=FX_PER_USD)


def test_lab_never_recommends_escalation_after_one_reminder(twin):
    current = Strategy("current", reminders=(Reminder(3),), escalation_day=75)
    # two late reminders barely help: without the policy one reminder wins somewhere
    space = StrategySpace(schedules=((3,), (60, 70)), tones=("friendly",), channels=("email",),
                          personalised=(False,), discounts=(None,), installments=(None,),
                          deadlines=(None, 7))
    names = [s.name for s in space.strategies()]
    assert "d+60,+70 friendly email pay-in-7" in names
    kw = dict(screen_replicates=2, replicates=4, n_jobs=1, sensitivity_replicates=0)
    lifted = recommend(twin, current, space, Constraints(0.05, min_reminders_before_escalation=0),
                       **kw)
    # without the policy a one-reminder strategy wins somewhere: the rule bites
    assert any(len(s.reminders) == 1 for s in lifted.strategies.values())
    rec = recommend(twin, current, space, Constraints(0.05), **kw)
    assert rec.n_searched == 2
    assert all(s.reminders_before_escalation >= 2 for s in rec.strategies.values())
    assert rec.current_problems == ["escalates after 1 reminder(s), policy asks for at least 2"]
    assert "only the baseline" in rec.summary()
    assert "pasa a cobro judicial tras 1 recordatorio(s), la política pide al menos 2" in \
        rec.summary("es")


def test_design_refuses_an_arm_that_breaks_the_policy(tmp_path):
    from collections_lab.experiments.workflow import assign_experiment

    one = Strategy("one_then_legal", reminders=(Reminder(3),), escalation_day=60)
    save_strategies([PLAIN, one, ASKS], tmp_path / "arms.yml")
    sim = simulate(50, PLAIN, seed=1, start="2025-01-01", end="2025-02-28", progress=False)
    with pytest.raises(StrategyError, match=r"'one_then_legal' escalates after 1 reminder\(s\)"
                                            r".*min_reminders_before_escalation=1"):
        assign_experiment(sim.portfolio, ["plain", "one_then_legal"],
                          strategies=tmp_path / "arms.yml")
    plan = assign_experiment(sim.portfolio, ["plain", "one_then_legal"],
                             strategies=tmp_path / "arms.yml", min_reminders_before_escalation=1)
    assert set(plan.assignments["arm"]) == {"plain", "one_then_legal"}
    # a deadline arm is an ordinary arm, and the arms table says what it asks
    plan = assign_experiment(sim.portfolio, ["plain", "asks"], strategies=tmp_path / "arms.yml")
    assert plan.experiment.arms["asks"].reminders[0].deadline_days == 7
    from collections_lab.reporting.strategies import arms_table

    does = arms_table(plan.experiment, "es").set_index("brazo")["qué hace"]
    assert "3 días después del vencimiento, pide el pago en 7 días" in does["asks"]
    assert "pide el pago" not in does["plain"]


def test_strategy_lab_page_words_and_policy_in_both_languages():
    from collections_lab.reporting.strategies import policy_sentence, strategy_table

    s = example_strategies()
    table = strategy_table([s["pay_within_7_days"], s["deadline_then_plan"],
                            Strategy("one", reminders=(Reminder(3),), escalation_day=60)], "es")
    does = table["qué hace"].tolist()
    assert "recordatorio 1: correo en tono amable 3 días después del vencimiento, pide el pago " \
           "en 7 días" in does[0]
    assert "plan de pago en 3 cuotas ofrecido con el recordatorio 2" in does[1]
    assert table["cumple la política de cobro"].tolist() == ["sí", "sí", "no"]
    en = strategy_table([s["pay_within_7_days"]], "en")
    assert "asks for payment within 7 days" in en["what it does"].iloc[0]
    assert "at least 2 reminders" in policy_sentence(2, "en")
    assert "al menos 3 recordatorios" in policy_sentence(3, "es")
