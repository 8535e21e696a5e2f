"""Column mappings: dict / YAML / preset forms, loose name matching, value maps, errors."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from collections_lab.data.loading import load_table
from collections_lab.data.mapping import (
    ColumnMapping,
    MappingError,
    TableMapping,
    list_presets,
    load_preset,
    normalise_name,
)


def test_presets_are_listed_and_load():
    assert "es_contable" in list_presets()
    preset = load_preset("es_contable")
    assert (preset.separator, preset.decimal, preset.dayfirst) == (";", ",", True)
    assert preset.source_name("invoices") == "facturas"
    assert preset.value_map("reminders", "tone")["amable"] == "friendly"
    assert preset.value_map("payments", "method")["domiciliación"] == "direct_debit"
    with pytest.raises(MappingError, match="unknown mapping preset 'sap'; presets are"):
        load_preset("sap")


def test_shorthand_and_full_forms_are_the_same():
    short = ColumnMapping.from_dict({"invoices": {"Nº": "invoice_id"}, "decimal": ","})
    full = ColumnMapping.from_dict(
        {"decimal": ",", "tables": {"invoices": {"columns": {"Nº": "invoice_id"}}}}
    )
    assert short == full
    assert ColumnMapping.from_dict({"payments": "cobros"}).source_name("payments") == "cobros"
    assert ColumnMapping.from_dict(short.to_dict()) == short


def test_yaml_file_round_trip(tmp_path):
    preset = load_preset("es_contable")
    path = tmp_path / "mine.yml"
    path.write_text(yaml.safe_dump(preset.to_dict(), allow_unicode=True), encoding="utf-8")
    assert ColumnMapping.from_yaml(path) == preset
    assert ColumnMapping.coerce(str(path)) == preset
    assert ColumnMapping.coerce(path) == preset


def test_coerce_accepts_every_form_and_names_bad_ones():
    assert ColumnMapping.coerce(None) == ColumnMapping()
    assert ColumnMapping.coerce("es_contable").name == "es_contable"
    assert ColumnMapping.coerce({"decimal": ","}).decimal == ","
    with pytest.raises(MappingError, match="neither a preset"):
        ColumnMapping.coerce("no_such_thing")
    with pytest.raises(MappingError, match="cannot use int as a column mapping"):
        ColumnMapping.coerce(3)
    with pytest.raises(MappingError, match="mapping file not found"):
        ColumnMapping.from_yaml("/nonexistent/m.yml")


def test_bad_mappings_name_the_problem(tmp_path):
    with pytest.raises(MappingError, match=r"unknown key\(s\) \['separtor'\]"):
        ColumnMapping.from_dict({"separtor": ";"})
    with pytest.raises(MappingError, match="'Importe' maps to 'amont', not a column"):
        ColumnMapping.from_dict({"columns": {"Importe": "amont"}})
    with pytest.raises(MappingError, match="table 'payments': columns names 'due_date'"):
        ColumnMapping.from_dict({"payments": {"columns": {"Vence": "due_date"}}})
    with pytest.raises(MappingError, match="decimal must be '.' or ','"):
        ColumnMapping.from_dict({"decimal": ";"})
    with pytest.raises(MappingError, match="expected {column: {source value: schema value}}"):
        ColumnMapping.from_dict({"values": {"tone": "amable"}})
    bad = tmp_path / "bad.yml"
    bad.write_text("tables: [1, 2", encoding="utf-8")
    with pytest.raises(MappingError, match="not valid YAML"):
        ColumnMapping.from_yaml(bad)


def test_names_match_loosely_and_table_renames_win():
    mapping = ColumnMapping(columns={"Importe": "amount"},
                            tables={"payments": TableMapping(columns={"Importe": "fee"})})  # fmt: skip
    assert mapping.renames("invoices", [" importe "]) == {" importe ": "amount"}
    assert mapping.renames("payments", ["Importe"]) == {"Importe": "fee"}
    assert normalise_name("\ufeffNº  Factura") == normalise_name("nº factura")


def test_bool_words_can_be_overridden():
    mapping = ColumnMapping(true_values=["pagado"], false_values=["x"])
    true, false = mapping.bool_words()
    assert "pagado" in true and "sí" in true
    assert "x" in false and "x" not in true


def test_value_maps_translate_before_validation():
    frame = pd.DataFrame({
        "Factura": ["A", "A", "B"], "Enviado": ["2025-01-01", "2025-01-08", "2025-01-02"],
        "Tono": ["Amable", "FIRME", "cariñoso"], "Nominal": ["Sí", "no", "x"],
    })  # fmt: skip
    mapping = {"reminders": {
        "columns": {"Factura": "invoice_id", "Enviado": "sent_at", "Tono": "tone",
                    "Nominal": "personalised"},
        "values": {"tone": {"amable": "friendly", "firme": "firm"}},
    }}  # fmt: skip
    loaded, report = load_table(frame, "reminders", mapping=mapping)
    assert loaded["tone"].tolist() == ["friendly", "firm"]
    assert loaded["personalised"].tolist() == [True, False]
    assert str(report.issues[0]).startswith(
        "<DataFrame>, row 3, column 'Tono': unknown tone 'cariñoso'")


def test_with_options_overrides_the_dialect_only():
    preset = load_preset("es_contable")
    changed = preset.with_options(separator=",", decimal=None)
    assert changed.separator == "," and changed.decimal == ","
    assert changed.tables == preset.tables


def test_skip_rows_must_be_a_whole_number():
    assert ColumnMapping.from_dict({"skip_rows": 2}).to_dict() == {"skip_rows": 2}
    with pytest.raises(MappingError, match="skip_rows must be a whole number >= 0, got -1"):
        ColumnMapping.from_dict({"skip_rows": -1})
