"""Page 05's tables in the reader's words (reporting.lab_tables), without running the lab."""

import re

import pandas as pd

from collections_lab.i18n import table_html
from collections_lab.reporting.lab_tables import calibration_note, labelled_codes
from collections_lab.reporting.page import compact_money, full_table_html

SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def test_lab_codes_become_words_in_both_languages():
    recommendation = pd.DataFrame({
        "segment": ["small", "all"], "current": ["business_as_usual"] * 2,
        "recommended": ["d+3,+14,+28 friendly sms plan@2", "(by segment)"],
        "churn_change": [-0.0129, -0.0096],
        "relies_on_priors": ["channel_effect[sms], installment_accept_payer", None]})
    es = table_html(labelled_codes(recommendation, "es"), "es")
    assert "pequeñas" in es and "todos" in es and "(por segmento)" in es
    assert "d+3,+14,+28 amable SMS plan@2" in es and "friendly" not in es
    assert "−1,3 pp" in es  # a change in a share, in points
    assert "channel_effect" not in es and "installment_accept_payer" not in es
    en = table_html(labelled_codes(recommendation, "en"), "en")
    assert "d+3,+14,+28 friendly sms plan@2" in en and "channel_effect" not in en
    # the strategies file's own names stay as written (they are the arms' ids)
    assert "business_as_usual" in en and "business_as_usual" in es


def test_twin_rates_and_proposal_show_shares_as_percentages():
    rates = pd.DataFrame({"segment": ["all"], "metric": ["paid_by_due_30"],
                          "observed": [0.9233], "simulated": [0.9226],
                          "difference": [-0.0007], "invoices": [23679]})
    page = table_html(labelled_codes(rates, "es"), "es")
    assert "92,3 %" in page and "−0,1 pp" in page and "Pagadas al vencimiento + 30" in page
    proposal = pd.DataFrame({"segment": ["public"], "metric": ["paid_by_due_15"],
                             "control_value": [0.7849], "treatment_value": [0.8235],
                             "predicted_effect": [0.0386], "weeks": [326.6]})
    page = table_html(labelled_codes(proposal, "en"), "en")
    assert "78.5%" in page and "+3.9 pp" in page and "327" in page
    assert not SNAKE.search(re.sub(r"<[^>]+>", " ", page))


def test_calibration_reasons_are_translated():
    assert calibration_note("tone never used (or reached fewer than 20 invoices)", "es") \
        == "tono nunca usado (o con menos de 20 facturas)"
    note = ("no reminder in the history stated a payment deadline (the reminders table has "
            "no deadline_days, or strategies of the history without deadlines)")
    assert not SNAKE.search(calibration_note(note, "en"))
    assert "en un límite" in calibration_note(
        "not identified: at a bound (moved 3.2 from its prior on the transformed scale)", "es")
    assert calibration_note("a reason nobody wrote down", "es") == "a reason nobody wrote down"


def test_a_wide_appendix_table_is_split_to_fit_the_page():
    frame = pd.DataFrame({"strategy": ["a", "b"], **{f"c{i}": [i, i] for i in range(15)}})
    page = full_table_html(frame, "en", max_columns=8)
    tables = page.split("<table>")[1:]
    assert len(tables) == 3
    assert all(t.count("<th>") <= 8 and "<th>Strategy</th>" in t for t in tables)


def test_spanish_compact_money_is_grouped():
    assert compact_money(6_356_627_450, "COP", "es") == "COP 6.357 M"
    # one unit for thousands of millions: a tile row showed "12,5 mil M" beside "6.357 M"
    assert compact_money(12_542_457_000, "COP", "es") == "COP 12.542 M"
    assert compact_money(6_356_627_450, "COP", "en") == "COP 6.4B"
