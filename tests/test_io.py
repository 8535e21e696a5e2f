"""Loading from CSV dialects, Parquet, DuckDB and SQLAlchemy; lossless round trips."""

from __future__ import annotations

import gzip
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from collections_lab.data.loading import load_portfolio, load_table
from collections_lab.data.portfolio import Portfolio
from collections_lab.data.schema import TABLES
from collections_lab.data.validation import ValidationError

FIXTURES = Path(__file__).parent / "fixtures" / "exports"


def _portfolio() -> Portfolio:
    """A small portfolio using every column, nulls, leading-zero ids and odd amounts."""
    d = pd.to_datetime
    customers = pd.DataFrame({
        "customer_id": ["007", "C-2", "10"], "segment": ["sme", "large", "all"],
        "country": ["CO", "MX", ""], "currency": ["COP", None, "MXN"],
        "created_at": d(["2023-01-05", None, "2024-02-29"]),
        "name": ["Peña & Cía", 'Say "hi", Ltd', ""],
    })  # fmt: skip
    invoices = pd.DataFrame({
        "invoice_id": ["0001", "2", "F-3"], "customer_id": ["007", "C-2", "10"],
        "issue_date": d(["2025-01-01", "2025-01-15", "2025-02-01"]),
        "due_date": d(["2025-01-31", "2025-02-14", "2025-03-03"]),
        "amount": [1234567.89, 0.1 + 0.2, 1e-3], "currency": ["COP", "EUR", "MXN"],
        "disputed": [False, True, False], "channel": ["email", "portal", "edi"],
        "payment_link": [True, False, False],
        "escalated_at": d([None, "2025-04-01", None]),
        "written_off_at": d([None, None, "2025-12-31"]),
    })  # fmt: skip
    reminders = pd.DataFrame({
        "invoice_id": ["0001", "0001", "2"], "sent_at": d(["2025-02-03", "2025-02-17", "2025-02-17"]),
        "sequence": np.array([1, 2, 1], dtype="int64"), "tone": ["friendly", "firm", "final"],
        "channel": ["email", "sms", "letter"], "personalised": [True, False, True],
    })  # fmt: skip
    payments = pd.DataFrame({
        "invoice_id": ["0001", "0001", "2"], "paid_at": d(["2025-02-10", "2025-02-20", "2025-01-16"]),
        "amount": [1000000.0, 234567.89, 0.30000000000000004], "method": ["transfer", "cash", "card"],
        "discount": [0.0, 0.0, 0.01], "fee": [0.0, 12.5, 0.0],
    })  # fmt: skip
    assignments = pd.DataFrame({
        "experiment_id": ["exp-1", "exp-1"], "customer_id": ["007", "10"],
        "arm": ["control", "firm"], "assigned_at": d(["2025-01-01", "2025-01-01"]),
    })  # fmt: skip
    return Portfolio(customers, invoices, reminders, payments, assignments, source="test")


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_round_trip_of_portfolio_save_is_lossless(tmp_path, fmt):
    original = _portfolio()
    original.save(tmp_path, fmt=fmt)
    loaded = load_portfolio(tmp_path, strict=True)
    for name in TABLES:
        pd.testing.assert_frame_equal(loaded.table(name), original.table(name), check_exact=True)
    assert loaded.invoices["invoice_id"].tolist() == ["0001", "2", "F-3"]
    assert loaded.invoices["issue_date"].dtype == "datetime64[ns]"
    assert loaded.invoices["disputed"].dtype == bool
    assert loaded.load_report.rows_read == sum(len(original.table(n)) for n in TABLES)


def test_round_trip_of_a_simulated_portfolio(tmp_path):
    from collections_lab.model.simulation import simulate
    from collections_lab.model.strategies import example_strategies

    sim = simulate(40, example_strategies()["one_friendly_after_due"], seed=3,
                   start="2025-01-01", end="2025-03-31")  # fmt: skip
    sim.portfolio.save(tmp_path / "csv", fmt="csv")
    sim.portfolio.save(tmp_path / "pq", fmt="parquet")
    for folder in ("csv", "pq"):
        loaded = load_portfolio(tmp_path / folder, strict=True)
        for name in ("customers", "invoices", "reminders", "payments"):
            pd.testing.assert_frame_equal(loaded.table(name), sim.portfolio.table(name))


def test_spanish_export_loads_with_the_preset():
    portfolio = load_portfolio(FIXTURES / "es_contable", mapping="es_contable", strict=True)
    inv = portfolio.invoices.set_index("invoice_id")
    assert inv.loc["FV-1002", "amount"] == 3480500.50
    assert inv.loc["FV-1004", "currency"] == "USD"
    assert inv.loc["FV-1004", "channel"] == "edi"
    assert inv.loc["FV-1001", "issue_date"] == pd.Timestamp("2025-01-02")
    assert inv.loc["FV-1003", "disputed"] and not inv.loc["FV-1006", "disputed"]
    rem = portfolio.reminders
    assert rem["tone"].tolist() == ["friendly", "firm", "friendly", "firm", "final", "neutral"]
    assert rem["sequence"].tolist() == [1, 2, 1, 2, 3, 1]
    assert portfolio.payments["method"].tolist()[:2] == ["transfer", "direct_debit"]
    assert portfolio.payments["discount"].iloc[-1] == 42000.0
    assert portfolio.customers["created_at"].isna().sum() == 1
    report = portfolio.load_report
    assert report.tables["invoices"].source.endswith("facturas.csv")
    assert report.rows_read == report.rows_used == 4 + 6 + 6 + 6


def test_semicolon_file_without_mapping_sniffs_dialect(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text("invoice_id;paid_at;amount\nF1;03/04/2025;1.234,5\nF2;15/04/2025;7\n",
                    encoding="utf-8")  # fmt: skip
    frame, report = load_table(path, "payments")
    assert frame["amount"].tolist() == [1234.5, 7.0]
    assert frame["paid_at"].tolist() == [pd.Timestamp("2025-04-03"), pd.Timestamp("2025-04-15")]
    notes = " | ".join(report.notes)
    assert "separator ';' sniffed" in notes
    assert "decimal mark ','" in notes
    assert "paid_at: dates read as DD/MM/YYYY" in notes


def test_ambiguous_day_month_is_day_first_and_says_so(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text("invoice_id,paid_at,amount\nF1,03/04/2025,1\n", encoding="utf-8")
    frame, report = load_table(path, "payments")
    assert frame.loc[0, "paid_at"] == pd.Timestamp("2025-04-03")
    assert "ambiguous day/month order" in " ".join(report.notes)
    frame, _ = load_table(path, "payments", dayfirst=False)
    assert frame.loc[0, "paid_at"] == pd.Timestamp("2025-03-04")


def test_explicit_date_formats_accept_several(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text("invoice_id,paid_at,amount\nF1,2025-04-03,1\nF2,05.04.2025 10:30,2\n",
                    encoding="utf-8")  # fmt: skip
    frame, report = load_table(path, "payments", date_formats=["%Y-%m-%d", "%d.%m.%Y"])
    assert report.ok
    assert frame["paid_at"].tolist() == [pd.Timestamp("2025-04-03"), pd.Timestamp("2025-04-05")]


def test_thousands_dot_in_semicolon_file(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text("invoice_id;paid_at;amount\nF1;2025-01-02;1.234\nF2;2025-01-02;12.000.000\n",
                    encoding="utf-8")  # fmt: skip
    frame, _ = load_table(path, "payments")
    assert frame["amount"].tolist() == [1234.0, 12_000_000.0]


def test_bom_latin1_and_mojibake_are_repaired_and_reported(tmp_path):
    text = "customer_id,name\nC1,Peña\n"
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.encode())
    (tmp_path / "latin.csv").write_bytes(text.encode("latin-1"))
    (tmp_path / "moji.csv").write_text(text.encode().decode("latin-1"), encoding="utf-8")
    (tmp_path / "utf16.txt").write_bytes(text.replace(",", "\t").encode("utf-16"))
    expected = {"bom.csv": "UTF-8 byte-order mark (BOM) removed",
                "latin.csv": "not valid UTF-8 (first bad byte on line 2); repaired by reading",
                "moji.csv": "'Ã³' for 'ó'); repaired",
                "utf16.txt": "UTF-16 byte-order mark"}  # fmt: skip
    for name, note in expected.items():
        frame, report = load_table(tmp_path / name, "customers", strict=True)
        assert frame.loc[0, "name"] == "Peña", name
        assert note in " ".join(report.notes), name


def test_gzip_blank_lines_and_trailing_separators(tmp_path):
    text = "invoice_id;paid_at;amount;\n\nF1;2025-01-02;5;\n;;;\nF2;2025-01-03;6\n"
    path = tmp_path / "pagos.csv.gz"
    path.write_bytes(gzip.compress(text.encode()))
    frame, report = load_table(path, "payments")
    assert frame["amount"].tolist() == [5.0, 6.0]
    assert "2 blank line(s) skipped (lines 2, 4)" in " ".join(report.notes)


def test_empty_and_header_only_files(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ValidationError, match=r"empty\.csv: the file is empty"):
        load_table(tmp_path / "empty.csv", "payments")
    (tmp_path / "header.csv").write_text("invoice_id,paid_at,amount\n", encoding="utf-8")
    frame, report = load_table(tmp_path / "header.csv", "payments")
    assert len(frame) == 0 and frame["paid_at"].dtype == "datetime64[ns]"
    assert "header but no data rows" in " ".join(report.notes)


def test_extra_columns_are_reported_and_optionally_kept(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id,sales_rep\nC1,Ana\n", encoding="utf-8")
    frame, report = load_table(path, "customers")
    assert "sales_rep" not in frame
    assert "columns not in the schema ignored: sales_rep" in report.tables["customers"].notes
    frame, _ = load_table(path, "customers", keep_extra=True)
    assert frame.loc[0, "sales_rep"] == "Ana"


def test_mapping_defaults_fill_a_column_the_export_lacks(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text("invoice_id,customer_id,issue_date,due_date,amount\n"
                    "F1,C1,2025-01-01,2025-01-31,10\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError, match="missing required column 'currency'"):
        load_table(path, "invoices")
    frame, report = load_table(path, "invoices",
                               mapping={"invoices": {"defaults": {"currency": "COP"}}})
    assert frame.loc[0, "currency"] == "COP"
    assert "currency: not in the source, set to 'COP' (mapping)" in report.tables["invoices"].notes


def test_parquet_with_typed_columns(tmp_path):
    frame = pd.DataFrame({
        "invoice_id": [1, 2, 3], "customer_id": [10, 20, 30],
        "issue_date": pd.to_datetime(["2025-01-01 23:00", "2025-01-02 00:00", "2025-01-03 00:00"], utc=True),
        "due_date": pd.to_datetime(["2025-01-31", "2025-02-01", "2025-02-02"]),
        "amount": [10.0, 0.0, 3.0], "currency": ["EUR", "EUR", "EUR"],
        "disputed": [True, False, False],
    })  # fmt: skip
    frame.to_parquet(tmp_path / "inv.parquet")
    loaded, report = load_table(tmp_path / "inv.parquet", "invoices")
    assert loaded["invoice_id"].tolist() == ["1", "3"]
    assert loaded["issue_date"].tolist()[0] == pd.Timestamp("2025-01-01")  # wall date kept
    assert loaded["issue_date"].dtype == "datetime64[ns]"
    assert str(report.issues[0]).endswith(
        "inv.parquet, row 2, column 'amount': amount must be greater than 0, got 0")


def test_duckdb_file_with_table_renames(tmp_path):
    path = tmp_path / "ar.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE facturas (num VARCHAR, cliente VARCHAR, emitida DATE, "
                    "vence DATE, importe DECIMAL(12,2), moneda VARCHAR)")  # fmt: skip
        con.execute("INSERT INTO facturas VALUES ('F1','C1','2025-01-01','2025-01-31',10.5,'EUR'),"
                    "('F2','C1','2025-01-02','2025-01-01',3,'EUR')")  # fmt: skip
        con.execute("CREATE TABLE payments (invoice_id VARCHAR, paid_at TIMESTAMP, amount DOUBLE)")
        con.execute("INSERT INTO payments VALUES ('F1','2025-01-10 09:00',10.5)")
    mapping = {"invoices": {"source": "facturas", "columns": {
        "num": "invoice_id", "cliente": "customer_id", "emitida": "issue_date",
        "vence": "due_date", "importe": "amount", "moneda": "currency"}}}  # fmt: skip
    portfolio = load_portfolio(path, mapping=mapping)
    assert portfolio.invoices["amount"].tolist() == [10.5]
    assert portfolio.payments["paid_at"].tolist() == [pd.Timestamp("2025-01-10")]
    issue = portfolio.load_report.issues[0]
    assert str(issue) == (f"{path}:facturas, row 2, column 'vence': due_date 2025-01-01 is before "
                          "issue_date 2025-01-02")  # fmt: skip
    with pytest.raises(ValidationError, match="no table 'invoices' for invoices; tables found"):
        load_portfolio(path)


def test_sqlalchemy_url_with_sqlite(tmp_path):
    db = tmp_path / "ar.sqlite"
    url = f"sqlite:///{db}"
    original = _portfolio()
    engine = sa.create_engine(url)
    for name in TABLES:
        original.table(name).to_sql(name, engine, index=False)
    engine.dispose()
    loaded = load_portfolio(url, strict=True)
    for name in TABLES:
        pd.testing.assert_frame_equal(loaded.table(name), original.table(name))
    frame, report = load_table(url, "invoices", mapping={"invoices": {
        "query": "SELECT * FROM invoices WHERE currency = 'COP'"}})  # fmt: skip
    assert frame["invoice_id"].tolist() == ["0001"]
    assert report.tables["invoices"].source.endswith(":query for invoices")
    # the same file found by its content, not its name
    assert len(load_portfolio(db).invoices) == 3


def test_bad_sources_name_what_is_wrong(tmp_path):
    with pytest.raises(ValidationError, match="nowhere.csv: file or directory not found"):
        load_table(tmp_path / "nowhere.csv", "invoices")
    with pytest.raises(ValidationError, match="cannot open database URL"):
        load_table("nosuchdialect://x/y", "invoices")
    (tmp_path / "x.parquet").write_text("not parquet")
    with pytest.raises(ValidationError, match=r"x\.parquet: cannot read as Parquet"):
        load_table(tmp_path / "x.parquet", "invoices")
    (tmp_path / "huge.csv").write_text('invoice_id,paid_at,amount\nF0,2025-01-01,1\n"F1'
                                       + "x" * 140_000 + "\n")  # fmt: skip
    with pytest.raises(ValidationError, match=r"huge\.csv, line 3: cannot parse the CSV here"):
        load_table(tmp_path / "huge.csv", "payments")
    (tmp_path / "invoices.csv").write_text("invoice_id\nF1\n")
    with pytest.raises(ValidationError, match="load one table file with load_table"):
        load_portfolio(tmp_path / "invoices.csv")
    with pytest.raises(ValueError, match="unknown table 'bills'"):
        load_table(tmp_path, "bills")


def test_directory_prefers_parquet_and_notes_it(tmp_path):
    p = _portfolio()
    p.save(tmp_path, fmt="csv")
    p.save(tmp_path, fmt="parquet")
    _, report = load_table(tmp_path, "invoices")
    assert report.tables["invoices"].source.endswith("invoices.parquet")
    assert "read invoices.parquet" in report.notes[0]


def test_messy_windows_export_is_read_and_every_problem_reported():
    path = FIXTURES / "facturas_con_errores.csv"
    frame, report = load_table(path, "invoices", mapping="es_contable")
    assert frame["invoice_id"].tolist() == ["FV-2001"]
    assert frame.loc[0, "amount"] == 1_250_000.0
    notes = " ".join(report.notes)
    assert "repaired by reading it as cp1252" in notes
    assert "1 blank line(s) skipped (lines 8)" in notes
    t = report.tables["invoices"]
    assert (t.rows_read, t.rows_used, t.rows_rejected) == (7, 2, 5)  # line 3: a credit note
    assert "1 credit note(s)" in notes and "1 match no invoice" in notes and "(lines 3)" in notes
    assert report.credit_notes_frame()[["row", "amount", "how"]].values.tolist() == [
        [3, 3480.5, "unmatched"]]
    found = {(i.row, i.column): i.message for i in report.issues}
    assert found[(4, "Fecha vencimiento")] == "cannot read '31/02/2025' as a date (expected DD/MM/YYYY or DD-MM-YYYY or DD/MM/YY)"
    assert found[(5, "Moneda")].startswith("unknown currency 'US$'")
    assert found[(6, "Nº Factura")] == "duplicate invoice_id 'FV-2001': line 2 has it too and is kept"
    assert found[(7, "En disputa")].startswith("cannot read 'quizás' as true/false")
    assert found[(9, "Cliente")] == "missing value (customer_id is required)"
    with pytest.raises(ValidationError, match=r"facturas_con_errores\.csv, line 9, column 'Fecha emisión'"):
        load_table(path, "invoices", mapping="es_contable", strict=True)


def test_title_lines_before_the_header_are_skipped_and_lines_still_count(tmp_path):
    path = tmp_path / "pagos.csv"
    path.write_text("Reporte de pagos;;\nGenerado el 31/12/2025;;\n;;\n"
                    "invoice_id;paid_at;amount\nF1;02/01/2025;10\nF2;xx;5\n",
                    encoding="utf-8")  # fmt: skip
    frame, report = load_table(path, "payments")
    assert frame["invoice_id"].tolist() == ["F1"]
    assert str(report.issues[0]).endswith("pagos.csv, line 6, column 'paid_at': cannot read "
                                          "'xx' as a date (expected DD/MM/YYYY)")  # fmt: skip
    assert "3 line(s) before the header skipped (titles: 'Reporte de pagos', " in report.notes[1]


def test_skip_rows_for_titles_with_several_cells(tmp_path):
    path = tmp_path / "pagos.csv"
    path.write_text("Empresa:,ACME S.A.\nNIT:,900.123\ninvoice_id,paid_at,amount\n"
                    "F1,2025-01-02,10\n", encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError, match="columns found: 'Empresa:', 'ACME S.A.'"):
        load_table(path, "payments")
    frame, _ = load_table(path, "payments", mapping={"skip_rows": 2})
    assert frame["amount"].tolist() == [10.0]


def test_single_column_file_keeps_its_header(tmp_path):
    path = tmp_path / "customers.csv"
    path.write_text("customer_id\nC1\nC2\n", encoding="utf-8")
    frame, report = load_table(path, "customers", strict=True)
    assert frame["customer_id"].tolist() == ["C1", "C2"]
