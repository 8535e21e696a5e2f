"""Load rules of issue 14: inputs that used to turn into silently wrong numbers.

Each case writes a small export, loads it, and asserts the message a user reads: a
missing table, a far-future date, an amount whose decimal mark is ambiguous, dates two
formats read differently, ids in several spellings, credit notes, Excel workbooks.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from test_validation import CUSTOMERS, INVOICES, PAYMENTS, REMINDERS  # the valid portfolio

from collections_lab.data.loading import load_portfolio, load_table
from collections_lab.data.mapping import ColumnMapping, MappingError
from collections_lab.data.validation import ValidationError


def _folder(tmp_path, **files):
    tables = {"customers.csv": CUSTOMERS, "invoices.csv": INVOICES,
              "payments.csv": PAYMENTS, "reminders.csv": REMINDERS}  # fmt: skip
    tables.update({k.replace("_csv", ".csv"): v for k, v in files.items()})
    for name, text in tables.items():
        if text is not None:
            (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


# ------------------------------------------------------------------ 1. missing tables
def test_misnamed_payments_file_is_an_error_not_an_empty_table(tmp_path):
    _folder(tmp_path, payments_csv=None)
    (tmp_path / "payments_2026-05.csv").write_text(PAYMENTS, encoding="utf-8")
    for strict in (False, True):
        with pytest.raises(ValidationError) as info:
            load_portfolio(tmp_path, strict=strict)
        text = str(info.value)
        assert "no file for table 'payments'" in text
        assert "payments_2026-05.csv" in text and "absent: [payments]" in text
    portfolio = load_portfolio(tmp_path, mapping={"tables": {"payments": {"source": "payments_2026-05"}}})
    assert len(portfolio.payments) == 2


def test_a_misnamed_optional_table_is_an_error_too(tmp_path):
    _folder(tmp_path, reminders_csv=None)
    (tmp_path / "reminders (1).csv").write_text(REMINDERS, encoding="utf-8")
    with pytest.raises(ValidationError, match=r"reminders \(1\)\.csv looks like the reminders "
                                              r"table: rename it"):
        load_portfolio(tmp_path)


def test_a_table_declared_absent_loads_and_every_report_can_say_so(tmp_path):
    _folder(tmp_path, payments_csv=None)
    portfolio = load_portfolio(tmp_path, mapping={"absent": ["payments"]}, strict=True)
    report = portfolio.load_report
    assert len(portfolio.payments) == 0
    assert report.absent_tables == ["payments", "assignments"]
    assert report.tables["payments"].notes == [
        "declared absent in the mapping: analyses see no payments"]
    provenance = report.provenance()
    assert provenance["absent"] == ["payments", "assignments"]
    assert {t["table"]: t["status"] for t in provenance["tables"]}["invoices"] == "read"
    with pytest.raises(MappingError, match="the invoices table cannot be absent"):
        ColumnMapping.from_dict({"absent": ["invoices"]})


def test_misnamed_duckdb_table_is_an_error(tmp_path):
    path = tmp_path / "ar.duckdb"
    with duckdb.connect(str(path)) as con:
        for name, text in (("invoices", INVOICES), ("pagos_mayo", PAYMENTS)):
            (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM read_csv_auto('{tmp_path / name}.csv', all_varchar=true)")
    with pytest.raises(ValidationError, match=r"no table 'payments' for payments; tables found: "
                                              r"invoices, pagos_mayo.*absent: \[payments\]"):
        load_portfolio(path)


# ------------------------------------------------------------- 2. far-future dates
def test_one_far_future_payment_date_is_rejected_and_does_not_move_as_of(tmp_path):
    _folder(tmp_path, payments_csv=PAYMENTS + "F3,2099-02-25,75.25\n")
    portfolio = load_portfolio(tmp_path)
    issue = portfolio.load_report.issues[0]
    assert str(issue).endswith(
        "payments.csv, line 4, column 'paid_at': paid_at 2099-02-25 is after the export date: "
        "the data's dates run to 2025-02-10 (derived from the bulk of the data; declare "
        "export_date: in the mapping if that is wrong)")
    assert portfolio.last_date == pd.Timestamp("2025-02-10")
    with pytest.raises(ValidationError):
        load_portfolio(tmp_path, strict=True)


def test_declared_export_date_rejects_later_event_dates_but_not_due_dates(tmp_path):
    _folder(tmp_path)
    portfolio = load_portfolio(tmp_path, mapping={"export_date": "2025-01-31"})
    found = [str(i) for i in portfolio.load_report.issues]
    assert any(t.endswith("payments.csv, line 3, column 'paid_at': paid_at 2025-02-10 is after "
                          "the export date 2025-01-31 (mapping: export_date)") for t in found)
    assert any("invoices.csv, line 4, column 'issue_date': issue_date 2025-02-01 is after" in t
               for t in found)
    assert "F2" in set(portfolio.invoices["invoice_id"])  # due 2025-02-04 < export: kept
    with pytest.raises(MappingError, match="export_date must be an ISO date"):
        ColumnMapping.from_dict({"export_date": "31/05/2026"})


# -------------------------------------------------------- 3. thousands separators
def _one_invoice(tmp_path, amounts: list[str], currency: str = "COP"):
    lines = "".join(f"F{i},C1,2025-01-01,2025-01-31,\"{a}\",{currency}\n"
                    for i, a in enumerate(amounts))  # fmt: skip
    path = tmp_path / "invoices.csv"
    path.write_text("invoice_id,customer_id,issue_date,due_date,amount,currency\n" + lines,
                    encoding="utf-8")  # fmt: skip
    return load_table(path, "invoices")


def test_cop_thousands_dot_in_comma_file_is_read_by_its_minor_units(tmp_path):
    frame, report = _one_invoice(tmp_path, ["410.514", "98.000"])
    assert frame["amount"].tolist() == [410_514.0, 98_000.0]
    assert ("amount: 2 value(s) like '410.514' read as whole amounts (COP has no minor units, "
            "so the separator groups thousands)") in " | ".join(report.notes)


def test_ambiguous_amount_without_evidence_is_rejected_asking_for_decimal(tmp_path):
    frame, report = _one_invoice(tmp_path, ["410.514", "12"], currency="USD")
    assert frame["amount"].tolist() == [12.0]
    assert str(report.issues[0]).endswith(
        "line 2, column 'amount': '410.514' is ambiguous: 410.514 if '.' is the decimal mark, "
        "410514 if it separates thousands (nothing else in the column shows which mark is the "
        "decimal one); set decimal: in the mapping ('.' or ',')")
    frame, report = _one_invoice(tmp_path, ["410.514", "12"], currency="USD")
    mapped, report = load_table(tmp_path / "invoices.csv", "invoices", decimal=",")
    assert report.ok and mapped["amount"].tolist() == [410_514.0, 12.0]


def test_evidence_in_the_same_column_decides(tmp_path):
    frame, report = _one_invoice(tmp_path, ["410.514", "1.250.000"], currency="USD")
    assert frame["amount"].tolist() == [410_514.0, 1_250_000.0]
    assert "as '1.250.000' in the same column shows" in " ".join(report.notes)
    frame, _ = _one_invoice(tmp_path, ["410.514", "12.50"], currency="COP")
    assert frame["amount"].tolist() == [410.514, 12.5]


# ------------------------------------------------------------------ 4. swapped dates
SWAPPED = ("invoice_id,paid_at,amount\nF1,03/04/2025,1\nF2,25/04/2025,1\nF3,04/25/2025,1\n"
           "F4,05/05/2025,1\n")


@pytest.mark.parametrize("formats", [None, ["%d/%m/%Y", "%m/%d/%Y"], ["%d/%m/%Y"]])
def test_dates_two_orders_read_differently_are_never_accepted(tmp_path, formats):
    path = tmp_path / "payments.csv"
    path.write_text(SWAPPED, encoding="utf-8")
    frame, report = load_table(path, "payments", date_formats=formats)
    accepted = dict(zip(frame["invoice_id"], frame["paid_at"].dt.strftime("%Y-%m-%d"), strict=True))
    assert "F1" not in accepted  # 3 April or 4 March: rejected, never guessed
    assert accepted["F2"] == "2025-04-25" and accepted["F4"] == "2025-05-05"
    messages = {i.row: i.message for i in report.issues}
    assert messages[2] == (
        "date '03/04/2025' reads as 2025-04-03 (DD/MM/YYYY) or 2025-03-04 (MM/DD/YYYY), and "
        "the column holds dates in both orders: which one is meant cannot be told, so the row "
        "is rejected (correct it, or export the column as YYYY-MM-DD)")
    if formats == ["%d/%m/%Y", "%m/%d/%Y"]:  # the advice followed: the rest read correctly
        assert accepted["F3"] == "2025-04-25"
    else:
        assert messages[4].startswith("date '04/25/2025' is written as MM/DD/YYYY while the "
                                      "column uses DD/MM/YYYY: the column mixes day-first and "
                                      "month-first dates. List both formats")


# ------------------------------------------------- 6. dates as numbers and with times
def test_integer_and_float_dates_and_an_explicit_format_with_time(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text("invoice_id,paid_at,amount\nF1,20190220,1\nF2,20190307.0,1\n", encoding="utf-8")
    frame, report = load_table(path, "payments", strict=True)
    assert frame["paid_at"].dt.strftime("%Y-%m-%d").tolist() == ["2019-02-20", "2019-03-07"]
    path.write_text("invoice_id,paid_at,amount\nF1,2019-03-07 00:00:00,1\nF2,2019-03-08,1\n",
                    encoding="utf-8")  # fmt: skip
    frame, report = load_table(path, "payments", date_formats=["%Y-%m-%d %H:%M:%S"])
    assert frame["paid_at"].tolist() == [pd.Timestamp("2019-03-07")]
    assert str(report.issues[0]).endswith(
        "line 3, column 'paid_at': cannot read '2019-03-08' as a date (expected "
        "YYYY-MM-DD %H:%M:%S)")


def test_a_mapping_can_drop_a_source_column_that_clashes(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text("doc_id,invoice_id,customer_id,issue_date,due_date,amount,currency\n"
                    "D1,X,C1,2025-01-01,2025-01-31,10,USD\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError, match=r"columns 'doc_id', 'invoice_id' all map to "
                                              r"'invoice_id'.*drop: \['invoice_id'\]"):
        load_table(path, "invoices", mapping={"columns": {"doc_id": "invoice_id"}})
    frame, report = load_table(path, "invoices", mapping={"columns": {"doc_id": "invoice_id"},
                                                          "drop": ["invoice_id"]})
    assert frame["invoice_id"].tolist() == ["D1"]
    assert "columns dropped (mapping): invoice_id" in report.tables["invoices"].notes


def test_ids_differing_only_by_leading_zeros_are_flagged_and_normalisable(tmp_path):
    _folder(tmp_path,
            customers_csv="customer_id,currency\n0200744019,EUR\n200744019.0,EUR\n",
            invoices_csv="invoice_id,customer_id,issue_date,due_date,amount,currency\n"
                         "F1,200744019,2025-01-01,2025-01-31,10,EUR\n",
            payments_csv="invoice_id,paid_at,amount\nF1,2025-01-20,10\n",
            reminders_csv=None)  # fmt: skip
    portfolio = load_portfolio(tmp_path)
    notes = " | ".join(portfolio.load_report.notes)
    assert ("customers: customer_id: 1 id(s) appear in forms that differ only by leading "
            "zeros or a trailing '.0' (e.g. '0200744019' and '200744019.0'); read as different "
            "ids. If they are the same, set normalise_ids: true in the mapping") in notes
    assert str(portfolio.load_report.issues[0]).endswith(
        "customer_id '200744019' is not in customers (" + str(tmp_path / "customers.csv")
        + "); '0200744019' is, which differs only by leading zeros or a '.0': set "
        "normalise_ids: true in the mapping if they are the same")
    portfolio = load_portfolio(tmp_path, mapping={"normalise_ids": True})
    assert portfolio.load_report.rows_rejected == 1  # the two spellings are now one id twice
    assert portfolio.customers["customer_id"].tolist() == ["200744019"]
    assert portfolio.invoices["customer_id"].tolist() == ["200744019"]


# -------------------------------------------------------------------- credit notes
def test_credit_notes_are_applied_to_invoices_and_reported(tmp_path):
    invoices = INVOICES + ("CN1,C1,2025-02-10,2025-02-10,-75.25,EUR,F3\n"
                           "CN2,C2,2025-02-11,2025-02-11,-50,EUR,F2\n"
                           "CN3,C2,2025-02-12,2025-02-12,-5,EUR,\n")
    invoices = invoices.replace("currency\n", "currency,credits\n", 1).replace("EUR\n", "EUR,\n", 3)
    _folder(tmp_path, invoices_csv=invoices)
    portfolio = load_portfolio(tmp_path, mapping={"invoices": {"credit_notes": {"credits": "credits"}}},
                               strict=True)
    report = portfolio.load_report
    amounts = dict(zip(portfolio.invoices["invoice_id"], portfolio.invoices["amount"], strict=True))
    assert amounts == {"F1": 100.5, "F2": 200.0}  # F3 credited in full, F2 by 50
    t = report.tables["invoices"]
    assert (t.rows_read, t.rows_used, t.rows_rejected) == (6, 6, 0)
    assert report.credit_notes_frame()[["invoice_id", "applied_to", "how"]].values.tolist() == [
        ["CN1", "F3", "named"], ["CN2", "F2", "named"], ["CN3", None, "unmatched"]]
    assert ("3 credit note(s) (negative amounts or credit-note rows) are not invoices: applied "
            "2 to the invoice they name; 1 invoice(s) credited in full left the receivables; "
            "1 match no invoice and are kept out of the receivables (lines 7)") in t.notes


def test_credit_notes_by_document_type(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text("invoice_id,customer_id,issue_date,due_date,amount,currency,doc\n"
                    "F1,C1,2025-01-01,2025-01-31,80,USD,RV\n"
                    "N1,C1,2025-01-09,2025-01-09,80,USD,Nota crédito\n", encoding="utf-8")  # fmt: skip
    frame, report = load_table(path, "invoices", mapping={"invoices": {"credit_notes": {
        "column": "doc", "values": ["nota crédito"]}}})  # fmt: skip
    assert frame.empty and report.ok
    assert report.credit_notes_frame()[["applied_to", "how"]].values.tolist() == [["F1", "matched"]]


# ------------------------------------------------------------------------------ Excel
def test_xlsx_is_read_directly_with_row_and_column_in_messages(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    import datetime as dt

    book = openpyxl.Workbook()
    book.active.title = "Resumen"
    book.active.append(["nothing here"])
    sheet = book.create_sheet("Ledger")
    sheet.append(["Cartera al 31/03/2019"])
    sheet.append(["invoice_id", "customer_id", "issue_date", "due_date", "amount", "currency"])
    sheet.append(["F1", 200744019, dt.datetime(2019, 2, 20), 20190322, 100.5, "USD"])
    sheet.append(["F2", "C2", dt.datetime(2019, 2, 21), 20190323.0, "abc", "USD"])
    sheet.append([])
    sheet.append(["F3", "C2", "21/02/2019", "23/03/2019", 7, "USD"])
    book.save(tmp_path / "export.xlsx")
    with pytest.raises(ValidationError, match="no sheet 'Hoja1' in the workbook; sheets: "
                                              "Resumen, Ledger"):
        load_table(tmp_path / "export.xlsx", "invoices", mapping={"sheet": "Hoja1"})
    frame, report = load_table(tmp_path / "export.xlsx", "invoices", mapping={"sheet": "ledger"})
    assert frame["invoice_id"].tolist() == ["F1"]
    assert frame["customer_id"].tolist() == ["200744019"]
    assert frame["due_date"].dt.strftime("%Y-%m-%d").tolist() == ["2019-03-22"]
    assert frame["amount"].tolist() == [100.5]
    where = str(tmp_path / "export.xlsx") + " [Ledger]"
    found = [str(i) for i in report.issues]
    assert found[0] == where + ", row 4, column 'amount': 'abc' is not a number (decimal mark '.')"
    assert found[1].startswith(where + ", row 6, column 'issue_date': date '21/02/2019' is "
                               "written as DD/MM/YYYY while the column uses YYYY-MM-DD")
    notes = " | ".join(report.notes)
    assert "1 row(s) before the header skipped" in notes and "blank row(s) skipped (rows 5)" in notes
