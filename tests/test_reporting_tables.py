"""Stakeholder tables (reporting.tables): numbers, dates, missing values, headers and
escaping in English and Spanish, row caps, result objects and the IPython formatter."""

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from collections_lab import i18n
from collections_lab.i18n import ResultMixin
from collections_lab.reporting.index import render_index
from collections_lab.reporting.tables import (
    MISSING,
    format_frame,
    format_value,
    result_html,
    table_html,
    use_report_tables,
)

XSS = "<script>alert(1)</script>"


def _cells(page: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    return [re.findall(r"<t[hd]>(.*?)</t[hd]>", row, re.S) for row in rows]


@pytest.fixture
def kpis():
    return pd.DataFrame({
        "currency": ["COP", "EUR"],
        "open_invoices": [310.0, 190.0],  # integer values stored as floats
        "receivables": [12542456982.0, 1629637.5],
        "overdue_share": [0.507, np.nan],
        "dso": [39.7123, 43.25],
        "at_risk_month": pd.to_datetime(["2026-02-01", None]),
        "customer_id": [XSS, "C2"],
    })


def test_english_numbers_dates_missing_and_headers(kpis):
    # days to one decimal (DSO 39.7123 read 39.71 beside a best possible DSO of 0.8724)
    header, first, second = _cells(table_html(kpis, "en"))
    assert header == ["Currency", "Open invoices", "Receivables", "Share overdue", "DSO",
                      "At-risk month", "Customer"]
    # no 0..N index column, integers without decimals, amounts without the code the
    # currency column already gives (it made page 01's call list wider than the page)
    assert first[:6] == ["COP", "310", "12,542,456,982", "50.7%", "39.7", "Feb 2026"]
    assert second[:6] == ["EUR", "190", "1,629,638", MISSING, "43.2", MISSING]


def test_spanish_uses_decimal_comma_and_spanish_headers(kpis):
    header, first, second = _cells(table_html(kpis, "es"))
    assert header[:4] == ["Moneda", "Facturas abiertas", "Cartera", "Proporción vencida"]
    assert first[1:5] == ["310", "12.542.456.982", "50,7 %", "39,7"]
    assert second[2] == "1.629.638"
    small = table_html(pd.DataFrame({"currency": ["EUR"], "receivables": [637.5]}), "es")
    assert "<td>637,50</td>" in small  # the currency's cents below 1.000
    assert "NaN" not in table_html(kpis, "es") and "00:00:00" not in table_html(kpis, "es")


def test_every_cell_and_header_is_escaped(kpis):
    frame = kpis.rename(columns={"dso": "<b>dso</b>"})
    page = table_html(frame, "en")
    assert XSS not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;dso&lt;/b&gt;" in page


def test_unknown_columns_fall_back_to_their_name_and_nothing_is_dropped():
    frame = pd.DataFrame({"my_odd_column": [1], "valor": [2.5]})
    assert _cells(table_html(frame, "es"))[0] == ["My odd column", "Valor"]
    assert list(format_frame(frame).columns) == ["My odd column", "Valor"]
    assert i18n.column_label("p-value") == "p-value"  # a symbol keeps its case


def test_meaningful_index_is_kept_and_currency_columns_get_their_decimals():
    cash = pd.DataFrame({"COP": [1.666724e9, 2.0e9], "EUR": [316465.0, 0.5]},
                        index=pd.Index([1.0, 2.0], name="week"))
    cash.columns.name = "currency"
    header, first, second = _cells(table_html(cash, "es"))
    assert header == ["Semana", "COP", "EUR"]
    # cents only where a value has any (a forecast rounded to units shows none)
    assert first == ["1", "1.666.724.000", "316.465"] and second[2] == "0,50"


def test_values_keep_four_significant_digits_and_small_p_values_are_bounded():
    assert format_value(57.617976) == "57.62"
    assert format_value(0.606544, lang="es") == "0,6065"
    assert format_value(-0.00291) == "-0.0029"
    assert format_value(0.02) == "0.02" and format_value(43.2, lang="es") == "43,2"
    assert format_value(3.7e-05) == "3.7e-5"  # never rounded to 0
    assert format_value(1e-12, "p") == "< 0.0001"
    assert format_value(True, lang="es") == "sí"
    assert format_value(pd.Timestamp("2026-05-31 14:30")) == "2026-05-31 14:30"
    assert format_value("–") == MISSING  # a pre-formatted missing value


def test_an_interval_is_a_share_when_its_estimate_is():
    outcomes = pd.DataFrame({"outcome": ["paid"], "incidence": [0.953533],
                             "ci_low": [0.945491], "ci_high": [0.960413]})
    # (the outcome code in words: outcome values are catalogue keys)
    assert _cells(table_html(outcomes, "es"))[1] == ["pagada", "95,4 %", "94,5 %", "96,0 %"]
    rmst = pd.DataFrame({"rmst": [57.617976], "ci_low": [56.429171]})
    assert _cells(table_html(rmst))[1] == ["57.62", "56.43"]


def test_a_capped_table_says_how_many_rows_it_leaves_out():
    frame = pd.DataFrame({"invoice_id": [f"I{i}" for i in range(1234)]})
    page = table_html(frame, "en", max_rows=20)
    assert len(_cells(page)) == 21  # header + 20 rows
    assert "first 20 of 1,234 rows" in page
    assert "primeras 20 de 1.234 filas" in table_html(frame, "es", max_rows=20)
    assert "rows" not in table_html(frame.head(20), "en", max_rows=20)


def test_series_and_bad_input():
    assert _cells(table_html(pd.Series([0.25, 0.5], name="share"), "es"))[1:] == [
        ["25,0 %"], ["50,0 %"]]
    with pytest.raises(TypeError, match="DataFrame or Series"):
        table_html([1, 2, 3])
    with pytest.raises(ValueError, match="unsupported report language"):
        table_html(pd.DataFrame({"a": [1]}), "fr")


@dataclass
class _Result(ResultMixin):
    frame: pd.DataFrame
    title = "Strategy comparison on the twin"

    def to_frame(self):
        return self.frame

    def report_tables(self):
        return super().report_tables() + [("Second", self.frame.head(1))]


def test_result_objects_show_every_table_with_a_translated_title():
    result = _Result(pd.DataFrame({"net_value": [152567523.4, 1.5]}))
    page = result_html(result, "es")
    assert "Comparación de estrategias en el gemelo" in page and "Second" in page
    assert page.count("<table>") == 2 and "152.567.523" in page
    # the notebook repr (JupyterLab, no report formatter) shows the same two tables
    assert result._repr_html_().count("<table") == 2


def test_use_report_tables_registers_html_only():
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        assert use_report_tables("es", max_rows=5)
        frame = pd.DataFrame({"receivables": [25254.0] * 8})
        data, _ = shell.display_formatter.format(frame)
        assert "25.254" in data["text/html"] and "primeras 5 de 8 filas" in data["text/html"]
        assert data["text/plain"] == repr(frame)  # the plain text repr is pandas' own
    finally:
        formatter = shell.display_formatter.formatters["text/html"]
        for kind in (pd.DataFrame, pd.Series, ResultMixin):
            formatter.pop(kind, None)
        InteractiveShell.clear_instance()


def test_column_labels_exist_in_both_languages():
    columns = {k for k in i18n.messages("en") if k.startswith("column.")}
    assert columns == {k for k in i18n.messages("es") if k.startswith("column.")}
    assert i18n.column_label("customer_id", "es") == "Cliente"


def test_index_lists_only_the_parameters_a_run_set():
    run = {"report": "r", "status": "ok", "html": "r/r.html", "duration_s": 1.0,
           "parameters": {"lang": "es", "data": None, "as_of": None}}
    page = render_index([run], lang="es")
    assert "as_of" not in page  # unset: the "Data as of" column shows the date used
    assert "<code>data=</code><br>" not in page and "<code>data=</code></td>" not in page
    assert "<code>lang=es</code>" in page
    assert '<code>data=</code><span class="muted">muestra incluida</span>' in page
    english = render_index([{**run, "parameters": {"as_of": None}}], lang="en")
    assert "as_of" not in english and "defaults" in english
