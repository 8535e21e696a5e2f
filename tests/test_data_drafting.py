"""Drafted mappings load real-shaped exports with no edit but the marked defaults (issue 20)."""

from pathlib import Path

import pytest

from collections_lab.data.drafting import draft_mapping
from collections_lab.data.loading import load_portfolio
from collections_lab.data.mapping import ColumnMapping

EXPORTS = Path(__file__).parent / "fixtures" / "exports"

#: fixture -> (invoices, customers, payments, defaults the draft must mark CONFIRM)
CASES = {
    "flat_settled/export.csv": (60, 12, 60, {"currency", "segment"}),
    "b2b_ledger/ledger.csv": (49, 5, 36, {"segment"}),
    "es_cartera/cartera.csv": (301, 37, 270, set()),
    "es_contable": (6, 4, 6, set()),
}


@pytest.mark.parametrize("name", CASES)
def test_draft_loads_without_edits(name, tmp_path):
    invoices, customers, payments, confirm = CASES[name]
    draft = draft_mapping(EXPORTS / name)
    path = draft.write(tmp_path / "mapping.yml")
    text = path.read_text()
    for key in confirm:  # guesses the data cannot support are marked for a person
        assert any(key in line and "CONFIRM" in line for line in text.splitlines()), key
    portfolio = load_portfolio(EXPORTS / name, mapping=ColumnMapping.from_yaml(path),
                               strict=True)
    assert len(portfolio.invoices) == invoices
    assert portfolio.invoices["customer_id"].nunique() == customers
    assert len(portfolio.payments) == payments
    assert portfolio.load_report.rows_rejected == 0


def test_draft_reads_values_not_only_names():
    es = draft_mapping(EXPORTS / "es_cartera" / "cartera.csv").mapping
    assert es["dayfirst"] is True and es["decimal"] == ","
    assert es["columns"]["NIT Cliente"] == "customer_id"  # a name that contains 'cliente'
    flat = draft_mapping(EXPORTS / "flat_settled" / "export.csv").mapping
    assert flat["dayfirst"] is False  # 12/19/2013: month first
    assert flat["tables"]["invoices"]["values"]["channel"] == {"Electronic": "email",
                                                                "Paper": "mail"}
    ledger = draft_mapping(EXPORTS / "b2b_ledger" / "ledger.csv").mapping
    assert ledger["normalise_ids"] is True  # 0200744019 beside 200744019
    assert ledger["tables"]["payments"]["columns"] == {"clear_date": "paid_at"}


def test_every_column_is_explained(tmp_path):
    draft = draft_mapping(EXPORTS / "b2b_ledger" / "ledger.csv")
    text = draft.to_yaml()
    header = (EXPORTS / "b2b_ledger" / "ledger.csv").read_text().splitlines()[0].split(",")
    for column in header:
        assert column in text, column


def test_unknown_words_are_left_for_a_person(tmp_path):
    path = tmp_path / "export.csv"
    path.write_text("invoice,customer,invoice date,due date,amount,currency,channel,paid date\n"
                    "A1,C1,2025-01-02,2025-02-01,10.5,EUR,pigeon,2025-02-03\n"
                    "A2,C1,2025-01-05,2025-02-04,11,EUR,email,\n")
    draft = draft_mapping(path)
    assert any("pigeon" in c for c in draft.confirm)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        draft_mapping(tmp_path / "nope.csv")


def test_slash_dates_that_never_pass_12_are_left_for_a_person(tmp_path):
    """03/04/2026 reads two ways: the draft must ask, not pick an order."""
    path = tmp_path / "export.csv"
    path.write_text("invoice,customer,invoice date,due date,amount,currency\n"
                    "F1,C1,03/04/2026,05/06/2026,100,USD\n"
                    "F2,C2,01/02/2026,11/12/2026,200,USD\n")
    draft = draft_mapping(path)
    assert "dayfirst" not in draft.mapping
    assert any("dayfirst" in c for c in draft.confirm)
    assert "# CONFIRM: dayfirst" in draft.to_yaml()
