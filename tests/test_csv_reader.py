"""The CSV reader: pyarrow speed with the csv module's line numbers and rules (issue 14).

Random malformed files (hypothesis) check that the fast path and the csv module agree
cell for cell, line for line, and that loading never fails with anything but the
workbench's own errors, counting every physical data line.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collections_lab.data import csv_reader
from collections_lab.data.loading import load_portfolio, load_table
from collections_lab.data.mapping import ColumnMapping, MappingError
from collections_lab.data.validation import ValidationError

FAST = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip


def _read_both(path, table="payments", mapping=None):
    """The raw table by the fast path and by the csv module alone, as comparable values."""
    mapping = ColumnMapping.coerce(mapping)
    fast = csv_reader.read_csv(path, table, mapping)
    original = csv_reader._fast_path_possible
    csv_reader._fast_path_possible = lambda *a: False
    try:
        slow = csv_reader.read_csv(path, table, mapping)
    finally:
        csv_reader._fast_path_possible = original
    return [(r.frame.astype(object).to_dict("list"), r.rows.tolist(), [str(i) for i in r.issues],
             r.notes) for r in (fast, slow)]  # fmt: skip


# ----------------------------------------------------------------- specific cases
def test_rows_keep_their_lines_with_blank_lines_quotes_and_crlf(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_bytes(b'invoice_id,paid_at,amount\r\n\r\nF1,2025-01-02,"1,5"\r\n'
                     b'F2,"2025-01-03",7\r\n,,\r\nF3,x\r\n"F""4",2025-01-04,"a\r\nb"\r\n')
    fast, slow = _read_both(path)
    assert fast == slow
    frame, rows, issues, notes = fast
    assert frame["invoice_id"] == ["F1", "F2", 'F"4']
    assert rows == [3, 4, 7]
    assert issues[0].endswith("line 6: expected 3 fields (as in the header), found 2 with "
                              "separator ','")  # fmt: skip
    assert "2 blank line(s) skipped (lines 2, 5)" in notes
    assert any("were read as one row each (lines 7-8; 1 continuation line(s))" in n
               for n in notes)  # fmt: skip


def test_stray_quote_in_a_large_file_names_the_line_it_opened_and_the_lines_it_swallowed(
        tmp_path):  # fmt: skip
    lines = ["invoice_id,paid_at,amount"]
    lines += [f"INV{i:06d},2025-01-02,{i}.5" for i in range(1, 3001)]
    lines[2000] = "INV002000,\"C"  # the quote swallows lines up to the next quote
    lines[2054] = 'INV002054,"2025-01-02",7'
    path = tmp_path / "payments.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame, report = load_table(path, "payments")
    t = report.tables["payments"]
    assert t.rows_read == 3000 == t.rows_used + t.rows_rejected  # physical data lines
    assert t.rejected_rows == list(range(2001, 2056))
    first = str(report.issues[0])
    assert "payments.csv, line 2001: a quote opened on line 2001 (value starting 'C')" in first
    assert "is not closed until line 2055: lines 2001-2055 were read as one value" in first
    assert str(report.issues[1]).endswith(
        "line 2002: swallowed by the unclosed quote opened on line 2001")
    assert len(frame) == 3000 - 55


def test_quote_never_closed_fails_the_file_at_the_line_it_opened(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text('invoice_id,paid_at,amount\nF0,2025-01-01,1\n"F1' + "x" * 140_000 + "\n")
    with pytest.raises(ValidationError, match=r"payments\.csv, line 3: cannot parse the CSV"):
        load_table(path, "payments")


def test_duplicate_header_names_are_numbered_noted_and_addressable(tmp_path):
    path = tmp_path / "invoices.csv"
    path.write_text("invoice_id,customer_id,document_create_date,due_date,amount,currency,"
                    "document_create_date\n"
                    "F1,C1,2019-02-20,2019-03-22,10,USD,2019-02-21\n", encoding="utf-8")  # fmt: skip
    mapping = {"invoices": {"columns": {"document_create_date.2": "issue_date"}}}
    frame, report = load_table(path, "invoices", mapping=mapping)
    assert frame.loc[0, "issue_date"] == pd.Timestamp("2019-02-21")
    notes = " | ".join(report.notes)
    assert ("column 'document_create_date' appears twice in the header (line 1, columns 3 "
            "and 7): the second is read as 'document_create_date.2'") in notes  # fmt: skip
    # without a mapping for it, the second column is an extra column, noted as ignored
    _, report = load_table(path, "invoices", mapping={"invoices": {"columns": {
        "document_create_date": "issue_date"}}})  # fmt: skip
    assert "columns not in the schema ignored: document_create_date.2" in " ".join(report.notes)


def test_a_wrong_explicit_separator_is_named_not_taken_for_a_title_line(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text("invoice_id;paid_at;amount\nF1;2025-01-02;1,5\nF2;2025-01-03;2,5\n",
                    encoding="utf-8")  # fmt: skip
    with pytest.raises(ValidationError, match=(
            r"payments\.csv: the separator ',' set in the mapping looks wrong: with it the "
            r"header line \('invoice_id;paid_at;amount'\) is a single column, while ';' "
            r"splits it into 3 columns")):  # fmt: skip
        load_table(path, "payments", separator=",")
    frame, _ = load_table(path, "payments", separator=";")
    assert frame["amount"].tolist() == [1.5, 2.5]


def test_invoices_with_only_a_header_is_a_clear_error(tmp_path):
    (tmp_path / "invoices.csv").write_text("invoice_id,customer_id,issue_date,due_date,"
                                           "amount,currency\n")  # fmt: skip
    (tmp_path / "payments.csv").write_text("invoice_id,paid_at,amount\n")
    with pytest.raises(ValidationError, match=r"invoices\.csv: the invoices table has a "
                                              r"header but no data rows"):  # fmt: skip
        load_portfolio(tmp_path)


def test_a_big_clean_file_reads_through_pyarrow(tmp_path, monkeypatch):
    rows = "".join(f"F{i},2025-01-{i % 28 + 1:02d},{i}.25\n" for i in range(5000))
    path = tmp_path / "payments.csv"
    path.write_text("invoice_id,paid_at,amount\n" + rows, encoding="utf-8")

    def refuse(*args, **kwargs):
        raise AssertionError("the slow path was used for a plain file")

    monkeypatch.setattr(csv_reader, "_read_slow", refuse)
    frame, report = load_table(path, "payments", strict=True)
    assert report.rows_read == 5000 and frame["amount"].iloc[-1] == 4999.25


# --------------------------------------------------------------- property tests
_CELLS = st.sampled_from([
    "F1", "F2", "", " ", "x y", "2025-01-31", "31/01/2025", "01/31/2025", "2025-01-31 10:30",
    "20250131", "1.234,56", "1,234.56", "410.514", "12", "-3", "(4,50)", "1e3", "abc", "€5",
    "Peña", "Ã±", '"q"', '"a,b"', '"a;b"', '"x\ny"', '"', 'a"b', '""', '"""', "sí", "no",
    "\t", "COP", "EUR", "=1+1",
])  # fmt: skip


@st.composite
def _csv_bytes(draw):
    """A payments-like file: a header, random cells, separators, truncation, encodings."""
    sep = draw(st.sampled_from([",", ";", "\t", "|"]))
    header = draw(st.sampled_from([["invoice_id", "paid_at", "amount"],
                                   ["invoice_id", "paid_at", "amount", "method"],
                                   ["invoice_id", "paid_at", "amount", ""]]))  # fmt: skip
    titles = draw(st.sampled_from([[], [""], ["Reporte de pagos"], ["Empresa: ACME", ""]]))
    lines = titles + [sep.join(header)]
    for i in range(draw(st.integers(0, 8))):
        if draw(st.booleans()):  # a plausible row, in one of the date and number styles
            cells = [f"F{i}", draw(st.sampled_from(["2025-01-31", "31/01/2025", "20250131"])),
                     draw(st.sampled_from(["12", "1.234,56", "1,234.56", "7.5", "410.514"]))]
            cells += ["transfer"] * (len(header) - 3)
        else:
            cells = draw(st.lists(_CELLS, min_size=1, max_size=len(header) + 1))
        line = sep.join(cells)
        if draw(st.booleans()) and line:  # a truncated line
            line = line[: draw(st.integers(0, len(line)))]
        lines.append(line)
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join(lines) + draw(st.sampled_from(["", end]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    return text.encode(encoding, errors="replace")


def _physical_data_lines(raw: bytes) -> int | None:
    """Lines after the header, as an editor shows them (a final line end ends a line)."""
    text = raw.decode("utf-8", errors="replace")
    if not text.strip():
        return None
    return len(re.split(r"\r\n|\n", re.sub(r"(\r\n|\n)$", "", text))) - 1


@FAST
@given(_csv_bytes(), st.sampled_from([None, {"skip_rows": 1}, {"separator": ";"},
                                      {"encoding": "cp1252"}]))  # fmt: skip
def test_fast_path_and_csv_module_agree(tmp_path_factory, raw, mapping):
    path = tmp_path_factory.mktemp("csv") / "payments.csv"
    path.write_bytes(raw)
    try:
        fast, slow = _read_both(path, mapping=mapping)
    except ValidationError:
        return
    assert fast == slow


@FAST
@given(_csv_bytes(), st.sampled_from([None, "es_contable", {"decimal": ","},
                                      {"date_formats": ["%d/%m/%Y"]}, {"payments": 7}]))  # fmt: skip
def test_loading_random_files_fails_only_with_workbench_errors_and_counts_every_line(
        tmp_path_factory, raw, mapping):  # fmt: skip
    path = tmp_path_factory.mktemp("csv") / "payments.csv"
    path.write_bytes(raw)
    try:
        _, report = load_table(path, "payments", mapping=mapping)
    except (ValidationError, MappingError):
        return
    t = report.tables["payments"]
    assert t.rows_read == t.rows_used + t.rows_rejected
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return  # UTF-16: physical lines are counted on the decoded text only
    notes = " ".join(t.notes)
    blank = sum(len(range(int(a), int(b or a) + 1)) for a, b in
                re.findall(r"(\d+)(?:-(\d+))?", _between(notes, "blank line(s) skipped (lines ", ")")))  # fmt: skip
    continued = sum(int(n) for n in re.findall(r"(\d+) continuation line", notes))
    skipped = sum(int(n) for n in re.findall(r"(\d+) (?:blank )?line\(s\) before the header", notes))
    lines = _physical_data_lines(raw)
    if lines is not None and not _between(notes, "blank line(s) skipped (lines ", ")").endswith("..."):
        assert t.rows_read + blank + continued + skipped == lines, notes


def _between(text: str, start: str, end: str) -> str:
    if start not in text:
        return ""
    return text.split(start, 1)[1].split(end, 1)[0]

