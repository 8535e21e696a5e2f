"""Strategies are validated data that round-trip through YAML with clear errors."""

from pathlib import Path

import pytest

from collections_lab import (
    Discount,
    InstallmentOffer,
    Reminder,
    Strategy,
    StrategyError,
    example_strategies,
    load_strategies,
    save_strategies,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "strategies.yml"


def test_yaml_round_trip(tmp_path):
    strategies = example_strategies()
    path = save_strategies(strategies, tmp_path / "s.yml")
    assert load_strategies(path) == strategies


def test_bundled_strategy_file_holds_the_examples_and_the_experiment_arms():
    loaded = load_strategies(SAMPLE)
    for name, strategy in example_strategies().items():
        assert loaded[name] == strategy
    assert "firm-3-disc" in loaded and loaded["firm-3-disc"].discount == Discount(0.02, 10)


def test_reminders_are_kept_in_day_order():
    s = Strategy("x", reminders=(Reminder(10), Reminder(-2)))
    assert s.reminder_days == (-2, 10)


def test_annualised_discount_rate_of_2_10_net_30_is_about_37_percent():
    assert Discount(0.02, 10).annualised_rate(30) == pytest.approx(0.3724, abs=1e-4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(reminders=(Reminder(70),), escalation_day=60), "at or after escalation"),
        (dict(discount=Discount(-0.02, 10)), "discount rate -0.02"),
        (dict(reminders=(Reminder(3, tone="rude"),)), "unknown tone 'rude'"),
        (dict(reminders=(Reminder(3, channel="fax"),)), "unknown channel 'fax'"),
        (dict(reminders=(Reminder(3), Reminder(3))), "same day"),
        (dict(installment=InstallmentOffer(2)), "installment offer at reminder 2"),
        (dict(late_fee_rate=-0.01), "late fee rate"),
        (dict(escalation_day=-5), "before the due date"),
    ],
)
def test_invalid_strategies_say_why(kwargs, message):
    with pytest.raises(StrategyError, match=message):
        Strategy("bad", **kwargs)


def test_strategy_file_errors_name_the_file_and_strategy(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(
        "strategies:\n"
        "  - name: ok\n"
        "  - name: late\n    reminders: [{day: 80}]\n    escalation_day: 60\n"
        "  - name: neg\n    discount: {rate: -0.01, within_days: 10}\n"
        "  - name: typo\n    remindres: []\n"
        "  - name: ok\n",
        encoding="utf-8",
    )
    with pytest.raises(StrategyError) as err:
        load_strategies(path)
    text = str(err.value)
    assert f"{path}: strategy 'late'" in text and "escalation" in text
    assert "strategy 'neg'" in text and "discount rate" in text
    assert "strategy 'typo'" in text and "remindres" in text
    assert "'ok' appears twice" in text


def test_missing_or_malformed_strategy_file(tmp_path):
    with pytest.raises(StrategyError, match="not found"):
        load_strategies(tmp_path / "nope.yml")
    (tmp_path / "x.yml").write_text("just: text\n", encoding="utf-8")
    with pytest.raises(StrategyError, match="'strategies:' list"):
        load_strategies(tmp_path / "x.yml")
    (tmp_path / "y.yml").write_text("strategies: [\n", encoding="utf-8")
    with pytest.raises(StrategyError, match="not valid YAML"):
        load_strategies(tmp_path / "y.yml")
