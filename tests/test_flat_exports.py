"""Real flat exports, end to end: one file (CSV or Excel), one row per invoice.

Two fixture shapes (``tests/fixtures/exports/``, written by ``make_flat_exports.py``):
a settled-only export with flags and no currency column, and a B2B ledger with open and
closed invoices, USD and CAD, payment-terms codes, integer and float dates, its own
``invoice_id`` beside ``doc_id``, customer numbers with and without leading zeros and
credit notes. Each loads with its mapping and no hand edit, strictly, as CSV and as
Excel, and feeds the analyses; the reports themselves run in a ``slow`` test.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from collections_lab.data.loading import load_portfolio
from collections_lab.data.validation import ValidationError

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
SETTLED = EXPORTS / "flat_settled"
LEDGER = EXPORTS / "b2b_ledger"


def _as_xlsx(csv_path: Path, target: Path, sheet: str) -> Path:
    """The CSV as a workbook the way a spreadsheet keeps it: numbers as numbers, ISO
    dates as dates, ids with a leading zero as text, a cover sheet first."""
    openpyxl = pytest.importorskip("openpyxl")
    frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    frame.columns = [c.replace(".1", ".2") for c in frame.columns]  # the loader's own naming
    book = openpyxl.Workbook()
    book.active.title = "Cover"
    book.active.append(["Accounts receivable export"])
    ws = book.create_sheet(sheet)
    ws.append(list(frame.columns))
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            if value[:1] == "0" and value[1:2].isdigit():
                cells.append(value)  # text cell: keeps its zero
            elif len(value) == 10 and value[4] == "-" and value[7] == "-":
                cells.append(pd.Timestamp(value).to_pydatetime())
            else:
                try:
                    number = float(value)
                    cells.append(int(number) if number.is_integer() and "." not in value else number)
                except ValueError:
                    cells.append(value)
        ws.append(cells)
    book.save(target)
    return target


def test_settled_only_flat_export_loads_strictly_with_its_mapping():
    portfolio = load_portfolio(SETTLED / "export.csv", mapping=SETTLED / "mapping.yml",
                               strict=True)
    report = portfolio.load_report
    assert (len(portfolio.invoices), len(portfolio.payments), len(portfolio.customers)) == (60, 60, 12)
    assert report.derived_tables == ["customers", "payments"]
    assert report.absent_tables == ["reminders", "assignments"]
    assert set(portfolio.customers["segment"]) == {"smb"}  # customers: defaults honoured
    assert set(portfolio.customers["country"]) == {"US", "CA", "MX"}
    assert set(portfolio.invoices["channel"]) == {"email", "mail"}
    assert portfolio.invoices["disputed"].sum() > 0
    first = portfolio.invoices.iloc[0]  # 11/13/2013: month first, as the mapping says
    assert (first["invoice_id"], str(first["issue_date"].date())) == ("611365", "2013-11-13")
    notes = report.tables["customers"].notes
    assert notes[0].endswith("12 customer(s), one per 'customerID' (the first row of each; "
                             "48 rows repeat a customer)")
    assert report.rows_rejected == 0  # repeated customer rows are not rejects


def test_b2b_ledger_open_and_closed_with_credit_notes_loads_strictly():
    portfolio = load_portfolio(LEDGER / "ledger.csv", mapping=LEDGER / "mapping.yml", strict=True)
    report = portfolio.load_report
    inv, pay, cust = portfolio.invoices, portfolio.payments, portfolio.customers
    assert len(inv) == 47 and len(pay) == 36 and report.rows_rejected == 0
    assert sorted(cust["customer_id"]) == ["140105686", "200726979", "200744019", "200769623",
                                           "CCU013"]  # 0200744019 and 200744019: one customer
    assert set(cust["segment"]) == {"b2b"} and set(cust["currency"]) == {"USD", "CAD"}
    assert set(inv["currency"]) == {"USD", "CAD"}
    assert inv["invoice_id"].str.fullmatch(r"\d+").all()  # 1928500000.0 -> 1928500000
    # integer (20190428) and spreadsheet-float (20190514.0) dates, clearing date with a time
    row = inv.loc[inv["invoice_id"] == "1928500000"].iloc[0]
    assert (str(row["issue_date"].date()), str(row["due_date"].date())) == ("2019-04-29", "2019-05-14")
    assert str(pay.loc[pay["invoice_id"] == "1928500000", "paid_at"].iloc[0].date()) == "2019-06-17"
    notes = " | ".join(report.notes)
    assert "36 row(s) with a payment date ('clear_date') are payments; 12 without one are open " \
           "invoices, not payments; 2 credit-note row(s) are not payments" in notes
    assert "2 credit note(s)" in notes and "1 invoice(s) credited in full" in notes
    assert report.credit_notes_frame()["how"].tolist() == ["matched", "unmatched"]
    assert "columns dropped (mapping): invoice_id" in notes
    assert ("column 'document_create_date' appears twice in the header (line 1, columns 8 and "
            "9): the second is read as 'document_create_date.2'") in notes
    times = portfolio.payment_times()
    assert len(times) == 47 and times["event"].sum() == 36


@pytest.mark.parametrize("folder, name", [(SETTLED, "export.csv"), (LEDGER, "ledger.csv")])
def test_the_same_exports_as_excel_workbooks(tmp_path, folder, name):
    mapping = (folder / "mapping.yml").read_text(encoding="utf-8") + "sheet: Export\n"
    (tmp_path / "mapping.yml").write_text(mapping, encoding="utf-8")
    book = _as_xlsx(folder / name, tmp_path / "export.xlsx", "Export")
    from_csv = load_portfolio(folder / name, mapping=folder / "mapping.yml", strict=True)
    from_xlsx = load_portfolio(book, mapping=tmp_path / "mapping.yml", strict=True)
    for table in ("invoices", "payments", "customers"):
        pd.testing.assert_frame_equal(from_xlsx.table(table), from_csv.table(table),
                                      check_dtype=False, obj=table)


def test_currency_error_suggests_a_default():
    mapping = (SETTLED / "mapping.yml").read_text(encoding="utf-8")
    mapping = mapping.replace("    defaults: {currency: USD}   # the export has no currency column\n", "")
    with pytest.raises(ValidationError) as info:
        load_portfolio(SETTLED / "export.csv", mapping=_yaml(mapping))
    assert ("If every amount is in one currency, set it instead: tables: {invoices: "
            "{defaults: {currency: USD}}} (with your currency's code).") in str(info.value)


def _yaml(text: str):
    import yaml

    return yaml.safe_load(text)


def test_the_workbenchs_own_assignments_file_skips_the_users_mapping(tmp_path):
    shutil.copy(SETTLED / "export.csv", tmp_path / "export.csv")
    ids = pd.read_csv(SETTLED / "export.csv", dtype=str)["customerID"].unique()
    pd.DataFrame({"experiment_id": "design-2014-06-01", "customer_id": ids,
                  "arm": ["control", "nudge"] * (len(ids) // 2),
                  "assigned_at": "2014-06-01"}).to_csv(tmp_path / "assignments.csv", index=False)
    mapping = _yaml((SETTLED / "mapping.yml").read_text(encoding="utf-8"))
    mapping["date_formats"] = ["%m/%d/%Y"]  # mapping-wide: would reject ISO dates
    portfolio = load_portfolio(tmp_path / "export.csv", mapping=mapping, strict=True)
    assert len(portfolio.assignments) == len(ids)
    assert ("the workbench's own file (schema columns, ISO dates): read without the column "
            "mapping") in portfolio.load_report.tables["assignments"].notes


def test_a_readout_without_assignments_says_what_is_missing():
    from collections_lab.experiments.data import ExperimentDataError
    from collections_lab.experiments.workflow import experiment_readout

    portfolio = load_portfolio(SETTLED / "export.csv", mapping=SETTLED / "mapping.yml")
    with pytest.raises(ExperimentDataError, match="the data has no assignments, so no customer "
                                                  "is known to be in any arm.*design report "
                                                  "writes them"):
        experiment_readout(portfolio)


@pytest.mark.slow
@pytest.mark.parametrize("folder, name, group_by, report", [
    (SETTLED, "export.csv", None, "01_portfolio_health"),
    (LEDGER, "ledger.csv", None, "01_portfolio_health"),
    (SETTLED, "export.csv", "channel", "02_time_to_payment"),
])  # fmt: skip
def test_reports_run_on_flat_exports(tmp_path, folder, name, group_by, report):
    """The reports that apply (no reminders, no experiment). The settled export has one
    segment, so the time-to-payment report groups by channel; the ledger varies only by
    currency, and grouping by currency fails inside calibrate_predictions (a duplicated
    column: a survival-floor defect, reported, not fixed here)."""
    from collections_lab.reporting.runner import run_report

    params = {"data": str(folder / name), "mapping": str(folder / "mapping.yml")}
    if report == "02_time_to_payment":
        params["group_by"] = group_by
    result = run_report(report, params, reports_dir=tmp_path, timeout=300)
    assert result.ok, result.error
    page = (tmp_path / result.html).read_text()
    assert 'class="cl-load-notes"' in page and "derived from" in page
