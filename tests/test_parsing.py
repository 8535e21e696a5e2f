"""Cell parsing: accounting spellings of numbers, dates and booleans, with messages."""

from __future__ import annotations

import pandas as pd

from collections_lab.data.mapping import ColumnMapping
from collections_lab.data.parsing import coerce_column, format_label, parse_amounts, sniff_decimal
from collections_lab.data.schema import TABLES


def test_parse_amounts_accepts_accounting_spellings():
    values = pd.Series(["1.234.567,89", "(12,50)", "€ 3,0", "1.2.3", "12,5,0"])
    assert parse_amounts(values, ",").tolist()[:3] == [1234567.89, -12.5, 3.0]
    assert parse_amounts(values, ",").iloc[3:].isna().all()
    assert parse_amounts(pd.Series(["1,234.5", "1e3", "nan", "inf"]), ".").tolist()[:2] == [
        1234.5, 1000.0]  # fmt: skip
    assert parse_amounts(pd.Series(["nan", "inf", "1_000"]), ".").isna().all()


def test_sniff_decimal_weighs_evidence_and_falls_back_on_the_separator():
    notes: list[str] = []
    assert sniff_decimal([pd.Series(["1.234,50", "7"])], ",", True, notes) == ","
    assert sniff_decimal([pd.Series(["1,234.50", "7"])], ";", True, notes) == "."
    assert sniff_decimal([pd.Series(["1.234", "7"])], ";", True, notes) == ","
    assert sniff_decimal([pd.Series(["1.234", "7"])], ",", True, notes) == "."
    assert "1 value(s) look decimal-comma" in notes[0]


def test_dates_with_times_and_messages():
    col = TABLES["payments"].column("paid_at")
    text = pd.Series(["2025-03-15 10:30:00", "2025-03-16T08:00:00Z", "2025-13-01", ""])
    notes: list[str] = []
    values, bad, messages = coerce_column(text, col, "payments", ColumnMapping(), ".", True,
                                          None, notes)  # fmt: skip
    assert values.iloc[:2].tolist() == [pd.Timestamp("2025-03-15"), pd.Timestamp("2025-03-16")]
    assert bad.tolist() == [False, False, True, True]
    assert messages == ["cannot read '2025-13-01' as a date (expected YYYY-MM-DD)",
                        "missing value (paid_at is required)"]  # fmt: skip
    assert format_label("%m-%d-%y") == "MM-DD-YY"


def test_optional_columns_get_defaults_and_bools_read_words():
    col = TABLES["invoices"].column("disputed")
    values, bad, _ = coerce_column(pd.Series(["Sí", "NO", "", "1", "x"]), col, "invoices",
                                   ColumnMapping(), ".", True, None, [])  # fmt: skip
    assert values.tolist() == [True, False, False, True, True]
    assert not bad.any()
