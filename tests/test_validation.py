"""Malformed input: every kind of problem is named with its file, row, column and reason.

Each case writes a small portfolio (valid except for one problem) as CSV files, loads it,
and asserts the message a user would read. Line numbers are the file's own (header = 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from collections_lab.data.loading import load_portfolio, load_table
from collections_lab.data.portfolio import Portfolio
from collections_lab.data.validation import (
    LoadReport,
    TableReport,
    ValidationError,
    ValidationIssue,
    derive_customers,
    validate_portfolio,
)

CUSTOMERS = "customer_id,segment,currency\nC1,sme,EUR\nC2,large,EUR\n"
INVOICES = (
    "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
    "F1,C1,2025-01-01,2025-01-31,100.50,EUR\n"
    "F2,C2,2025-01-05,2025-02-04,250,EUR\n"
    "F3,C1,2025-02-01,2025-03-03,75.25,EUR\n"
)
PAYMENTS = "invoice_id,paid_at,amount\nF1,2025-01-20,100.50\nF2,2025-02-10,250\n"
REMINDERS = "invoice_id,sent_at,tone,channel\nF2,2025-02-07,friendly,email\n"
VALID = {
    "customers.csv": CUSTOMERS,
    "invoices.csv": INVOICES,
    "payments.csv": PAYMENTS,
    "reminders.csv": REMINDERS,
}


@dataclass
class Case:
    """One malformed input: files to change and the issue the user must see."""

    id: str
    files: dict[str, str | bytes]
    file: str
    row: int | None
    column: str | None
    text: str
    raises: bool = False  # a problem with the whole file: ValidationError even when lenient
    mapping: dict | str | None = None
    extra: dict = field(default_factory=dict)


def _replace(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


CASES = [
    Case("missing_column", {"invoices.csv": _replace(INVOICES, ",due_date", "")
                            .replace(",2025-01-31", "").replace(",2025-02-04", "")
                            .replace(",2025-03-03", "")},
         "invoices.csv", None, "due_date",
         "missing required column 'due_date' of invoices; columns found: 'invoice_id'",
         raises=True),
    Case("wrong_type_amount", {"invoices.csv": _replace(INVOICES, "250,EUR", "abc,EUR")},
         "invoices.csv", 3, "amount", "'abc' is not a number"),
    Case("zero_amount", {"invoices.csv": _replace(INVOICES, "75.25", "0")},
         "invoices.csv", 4, "amount", "amount must be greater than 0, got 0"),
    Case("zero_payment", {"payments.csv": _replace(PAYMENTS, "250\n", "0\n")},
         "payments.csv", 3, "amount", "amount must be greater than 0, got 0"),
    Case("duplicate_id", {"invoices.csv": INVOICES + "F2,C1,2025-02-01,2025-03-03,10,EUR\n"},
         "invoices.csv", 5, "invoice_id", "duplicate invoice_id 'F2': line 3 has it too"),
    Case("payment_before_issue",
         {"payments.csv": _replace(PAYMENTS, "F2,2025-02-10", "F2,2025-01-02")},
         "payments.csv", 3, "paid_at",
         "paid_at 2025-01-02 is before the invoice's issue_date 2025-01-05"),
    Case("unknown_currency", {"invoices.csv": _replace(INVOICES, "75.25,EUR", "75.25,XYZ")},
         "invoices.csv", 4, "currency", "unknown currency 'XYZ' (known: USD, EUR"),
    Case("empty_file", {"invoices.csv": ""}, "invoices.csv", None, None,
         "the file is empty", raises=True),
    Case("whitespace_only_file", {"payments.csv": "\n  \n"}, "payments.csv", None, None,
         "the file is empty", raises=True),
    Case("bom_with_bad_row", {"invoices.csv": b"\xef\xbb\xbf" + _replace(
        INVOICES, "100.50,EUR", "100.50,eur").replace("F3,C1", "F3,").encode()},
         "invoices.csv", 4, "customer_id", "missing value (customer_id is required)"),
    Case("mixed_date_formats",
         {"invoices.csv": _replace(INVOICES, "F3,C1,2025-02-01", "F3,C1,01/02/2025")},
         "invoices.csv", 4, "issue_date",
         "date '01/02/2025' is written as DD/MM/YYYY while the column uses YYYY-MM-DD "
         "(mixed date formats"),
    Case("impossible_date", {"invoices.csv": _replace(INVOICES, "2025-03-03", "2025-02-30")},
         "invoices.csv", 4, "due_date", "cannot read '2025-02-30' as a date"),
    Case("due_before_issue", {"invoices.csv": _replace(INVOICES, "2025-02-04", "2024-12-31")},
         "invoices.csv", 3, "due_date",
         "due_date 2024-12-31 is before issue_date 2025-01-05"),
    Case("wrong_field_count", {"invoices.csv": INVOICES + "F4,C1,2025-02-01,2025-03-03,1,EUR,x\n"},
         "invoices.csv", 5, None, "expected 6 fields (as in the header), found 7"),
    Case("bad_boolean", {"invoices.csv": _replace(INVOICES, "currency\n", "currency,disputed\n")
                         .replace("EUR\n", "EUR,no\n", 2).replace("75.25,EUR\n", "75.25,EUR,maybe\n")},
         "invoices.csv", 4, "disputed", "cannot read 'maybe' as true/false"),
    Case("unknown_invoice_channel",
         {"invoices.csv": _replace(INVOICES, "currency\n", "currency,channel\n")
          .replace("EUR\n", "EUR,email\n", 2).replace("75.25,EUR\n", "75.25,EUR,fax\n")},
         "invoices.csv", 4, "channel", "unknown channel 'fax' (known: email, portal, mail, edi)"),
    Case("unknown_tone", {"reminders.csv": _replace(REMINDERS, "friendly", "amable")},
         "reminders.csv", 2, "tone",
         "unknown tone 'amable' (known: friendly, neutral, firm, final); map other words "
         "in the mapping, e.g. values: {tone: {'amable': 'friendly'}}"),
    Case("payment_unknown_invoice", {"payments.csv": PAYMENTS + "F9,2025-02-10,5\n"},
         "payments.csv", 4, "invoice_id", "invoice_id 'F9' is not in invoices"),
    Case("invoice_unknown_customer",
         {"invoices.csv": _replace(INVOICES, "F3,C1", "F3,C7")},
         "invoices.csv", 4, "customer_id", "customer_id 'C7' is not in customers"),
    Case("reminder_unknown_invoice", {"reminders.csv": REMINDERS + "F8,2025-02-07,firm,sms\n"},
         "reminders.csv", 3, "invoice_id", "invoice_id 'F8' is not in invoices"),
    Case("payment_of_rejected_invoice",
         {"invoices.csv": _replace(INVOICES, "100.50,EUR", "0,EUR")},
         "payments.csv", 2, "invoice_id",
         "invoice_id 'F1' was rejected (", extra={"also": "invoices.csv, line 2)"}),
    # A repeated header name no longer makes the file unreadable (issue 14: it is read as
    # 'segment.2' with a note); two columns the loader would both use still do.
    Case("two_columns_for_one_field",
         {"customers.csv": "customer_id,segment,Segment\nC1,a,b\nC2,a,b\n"},
         "customers.csv", None, "segment", "columns 'segment', 'Segment' all map to 'segment'",
         raises=True),
    Case("stray_quote_swallows_lines",
         {"payments.csv": 'invoice_id,paid_at,amount\nF1,"2025-01-20,100.50\n'
                          'F2,2025-02-10,250\nF2,2025-02-11,"3"\n'},
         "payments.csv", 2, None, "a quote opened on line 2 (value starting '2025-01-20,100.50')"
         " is not closed until line 4: lines 2-4 were read as one value"),
    Case("latin1_file_bad_value", {"customers.csv": "customer_id,segment,currency,name\n"
                                   "C1,sme,EUR,Peña\nC2,large,€UR,Muñoz\n".encode("cp1252")},
         "customers.csv", 3, "currency", "unknown currency '€UR'"),
    Case("negative_discount", {"payments.csv": "invoice_id,paid_at,amount,discount\n"
                               "F1,2025-01-20,100.50,-3\n"},
         "payments.csv", 2, "discount", "discount must be 0 or more, got -3"),
    Case("sequence_not_whole", {"reminders.csv": "invoice_id,sent_at,sequence\nF2,2025-02-07,1.5\n"},
         "reminders.csv", 2, "sequence", "'1.5' is not a whole number"),
    Case("duplicate_reminder_sequence",
         {"reminders.csv": "invoice_id,sent_at,sequence\nF2,2025-02-07,1\nF2,2025-02-09,1\n"},
         "reminders.csv", 3, "sequence",
         "duplicate invoice_id + sequence ('F2', 1): line 2 has it too"),
    Case("escalated_before_issue",
         {"invoices.csv": _replace(INVOICES, "currency\n", "currency,escalated_at\n")
          .replace("EUR\n", "EUR,\n", 2).replace("75.25,EUR\n", "75.25,EUR,2025-01-15\n")},
         "invoices.csv", 4, "escalated_at", "escalated_at 2025-01-15 is before issue_date"),
    Case("two_columns_one_name", {"invoices.csv": _replace(INVOICES, "currency\n", "currency,Importe\n")
                                  .replace("EUR\n", "EUR,1\n")},
         "invoices.csv", None, "amount", "columns 'amount', 'Importe' all map to 'amount'",
         raises=True, mapping={"invoices": {"Importe": "amount"}}),
    Case("mapped_name_in_message",
         {"facturas.csv": "Nº Factura;Cliente;Fecha emisión;Fecha vencimiento;Importe;Moneda\n"
                          "F1;C1;01/01/2025;31/01/2025;100,50;EUR\n"
                          "F2;C2;05/01/2025;04/02/2025;doscientos;EUR\n"
                          "F3;C1;01/02/2025;03/03/2025;75,25;EUR\n",
          "invoices.csv": None},
         "facturas.csv", 3, "Importe", "'doscientos' is not a number (decimal mark ',')",
         mapping="es_contable"),
    Case("no_invoices_file", {"invoices.csv": None}, "", None, None,
         "no file for table 'invoices'", raises=True),
    Case("row_after_blank_lines",
         {"payments.csv": "invoice_id,paid_at,amount\n\nF1,2025-01-20,100.50\n\n\nF2,x,250\n"},
         "payments.csv", 6, "paid_at", "cannot read 'x' as a date"),
    Case("line_after_multiline_field",
         {"customers.csv": 'customer_id,name,currency\nC1,"Line one\nline two",EUR\nC2,B,EURO\n'},
         "customers.csv", 4, "currency", "unknown currency 'EURO'"),
]


def _write(folder, files):
    merged = {**VALID, **files}
    for name, content in merged.items():
        if content is None:
            continue
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _assert_issue(issues, case: Case):
    """Some issue names the case's file, row, column and reason, in its printed form."""
    texts = [str(i) for i in issues]
    for issue, text in zip(issues, texts, strict=True):
        if case.text not in text or case.file not in issue.file:
            continue
        if case.row is not None and (issue.row != case.row
                                     or f"{issue.unit} {case.row}" not in text):
            continue
        if case.column is not None and f"column {case.column!r}" not in text:
            continue
        if "also" in case.extra:
            assert case.extra["also"] in text
        return issue
    pytest.fail(f"no issue like {case!r} among:\n" + "\n".join(texts))


def test_at_least_twenty_kinds_of_malformed_input():
    assert len({c.id for c in CASES}) == len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_malformed_input_is_named_by_file_row_and_column(tmp_path, case):
    _write(tmp_path, case.files)
    if case.raises:
        with pytest.raises(ValidationError) as info:
            load_portfolio(tmp_path, mapping=case.mapping)
        _assert_issue(info.value.issues, case)
        assert case.text in str(info.value)
        return
    portfolio = load_portfolio(tmp_path, mapping=case.mapping)
    report = portfolio.load_report
    issue = _assert_issue(report.issues, case)
    table = report.tables[issue.table]
    assert issue.row in table.rejected_rows
    for t in report.tables.values():
        assert t.rows_read == t.rows_used + t.rows_rejected
        assert len(portfolio.table(t.table)) == t.rows_used
    # strict mode refuses the same input, with the same message among its issues
    with pytest.raises(ValidationError) as info:
        load_portfolio(tmp_path, mapping=case.mapping, strict=True)
    _assert_issue(info.value.issues, case)
    assert info.value.report is not None


def test_valid_portfolio_has_no_rejects_and_strict_passes(tmp_path):
    _write(tmp_path, {})
    portfolio = load_portfolio(tmp_path, strict=True)
    assert portfolio.load_report.ok
    assert portfolio.load_report.rows_read == 2 + 3 + 2 + 1
    assert list(portfolio.invoices["invoice_id"]) == ["F1", "F2", "F3"]


def test_many_problems_are_reported_together(tmp_path):
    bad = (
        "invoice_id,customer_id,issue_date,due_date,amount,currency\n"
        "F1,C1,2025-01-01,2025-01-31,0,EUR\n"
        "F2,C2,2025-13-45,2025-02-04,250,XXX\n"
        "F2,C1,2025-02-01,2025-01-03,abc,EUR\n"
    )
    _write(tmp_path, {"invoices.csv": bad})
    with pytest.raises(ValidationError) as info:
        load_portfolio(tmp_path, strict=True)
    text = str(info.value)
    for expected in ("line 2, column 'amount'", "line 3, column 'issue_date'",
                     "line 3, column 'currency'", "line 4, column 'invoice_id'",
                     "line 4, column 'amount'", "payments.csv, line 2",
                     "reminders.csv, line 2"):  # fmt: skip
        assert expected in text
    assert "duplicate invoice_id 'F2': line 3 has it too and is rejected too" in text
    # every invoice was rejected, so its payments and reminders go too, with the reason
    assert "invoice_id 'F2' was rejected (" in text


def test_missing_columns_of_several_files_are_listed_together(tmp_path):
    _write(tmp_path, {"payments.csv": "invoice_id,amount\nF1,1\n",
                      "reminders.csv": "invoice,sent_at\nF1,2025-01-01\n"})  # fmt: skip
    with pytest.raises(ValidationError) as info:
        load_portfolio(tmp_path)
    text = str(info.value)
    assert "payments.csv, column 'paid_at': missing required column 'paid_at'" in text
    assert "reminders.csv, column 'invoice_id': missing required column" in text
    assert "Did you mean 'invoice'?" in text
    assert "mapping={'reminders': {'<your column>': 'invoice_id'}}" in text


def test_missing_column_suggests_a_matching_preset(tmp_path):
    path = tmp_path / "facturas.csv"
    path.write_text("Nº Factura;Cliente;Fecha emisión;Fecha vencimiento;Importe;Moneda\n"
                    "F1;C1;01/01/2025;31/01/2025;1,5;EUR\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError, match="pass mapping='es_contable'") as info:
        load_table(path, "invoices")
    assert "facturas.csv" in str(info.value)
    frame, _ = load_table(path, "invoices", mapping="es_contable")
    assert frame.loc[0, "amount"] == 1.5


def test_lenient_load_rejects_only_bad_rows(tmp_path):
    _write(tmp_path, {"invoices.csv": _replace(INVOICES, "75.25", "0")})
    portfolio = load_portfolio(tmp_path)
    assert list(portfolio.invoices["invoice_id"]) == ["F1", "F2"]
    frame = portfolio.load_report.to_frame().set_index("table")
    assert frame.loc["invoices", "rows_read"] == 3
    assert frame.loc["invoices", "rows_rejected"] == 1
    assert "amount must be greater than 0" in frame.loc["invoices", "reasons"]
    issues = portfolio.load_report.issues_frame()
    assert issues.loc[0, ["table", "row", "column"]].tolist() == ["invoices", 4, "amount"]


def test_report_summary_in_both_languages():
    report = LoadReport({"invoices": TableReport("invoices", "f.csv", 1200, 1190,
                                                 list(range(10)))})  # fmt: skip
    assert report.summary() == "Read 1,200 rows from 1 table: 1,190 used, 10 rejected."
    assert report.summary("es") == ("Se leyeron 1.200 filas de 1 tabla: 1.190 usadas, "
                                    "10 rechazadas.")  # fmt: skip
    assert "<table" in report._repr_html_()


def test_validation_error_lists_all_issues_but_prints_a_bounded_message():
    issues = [ValidationIssue("f.csv", i, "amount", "bad") for i in range(2, 80)]
    err = ValidationError(issues)
    assert len(err.issues) == 78
    assert "78 problems in f.csv" in str(err)
    assert "... and 28 more" in str(err)
    assert err.to_frame().shape == (78, 6)


def test_validate_portfolio_checks_in_memory_frames():
    customers = pd.DataFrame({"customer_id": ["C1"]})
    invoices = pd.DataFrame({
        "invoice_id": ["F1", "F2"], "customer_id": ["C1", "C2"],
        "issue_date": pd.to_datetime(["2025-01-01", "2025-01-01"]),
        "due_date": pd.to_datetime(["2025-01-31", "2025-01-31"]),
        "amount": [10.0, 20.0], "currency": ["EUR", "EUR"],
    })  # fmt: skip
    clean, report = validate_portfolio(Portfolio(customers, invoices))
    assert list(clean.invoices["invoice_id"]) == ["F1"]
    assert str(report.issues[0]) == (
        "invoices, row 2, column 'customer_id': customer_id 'C2' is not in customers (customers)"
    )


def test_sequence_is_derived_per_invoice_by_sent_at():
    reminders = pd.DataFrame({
        "invoice_id": ["A", "B", "A", "A"],
        "sent_at": ["2025-03-01", "2025-01-01", "2025-01-15", "2025-02-01"],
    })  # fmt: skip
    frame, report = load_table(reminders, "reminders")
    assert frame["sequence"].tolist() == [3, 1, 1, 2]
    assert frame["sequence"].dtype == np.int64
    assert "sequence derived from sent_at order for 2 invoice(s)" in report.notes[-1]


def test_customers_are_derived_when_the_source_has_none(tmp_path):
    _write(tmp_path, {"customers.csv": None})
    portfolio = load_portfolio(tmp_path)
    assert sorted(portfolio.customers["customer_id"]) == ["C1", "C2"]
    assert set(portfolio.customers["currency"]) == {"EUR"}
    assert "derived from the invoices" in portfolio.load_report.notes[0]
    direct = derive_customers(portfolio.invoices)
    assert direct["segment"].tolist() == ["all", "all"]


def test_overpaid_invoices_are_kept_with_a_note(tmp_path):
    _write(tmp_path, {"payments.csv": PAYMENTS + "F1,2025-01-25,50\n"})
    portfolio = load_portfolio(tmp_path, strict=True)
    assert len(portfolio.payments) == 3
    assert ("payments: 1 invoice(s) received more than their amount (payments + discounts - "
            "fees), e.g. 'F1'") in " ".join(portfolio.load_report.notes)  # fmt: skip
