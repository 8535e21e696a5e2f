"""Parameters are typed like YAML and checked against the notebook before any run."""

import pytest

from collections_lab.reporting.parameters import (
    ParameterError,
    check_parameters,
    declared_parameters,
    parse_value,
)

DECLARED = {"data": {}, "lang": {}, "as_of": {}, "mapping": {}, "pseudonymise": {}}


def test_parse_value_types():
    assert parse_value("12") == 12 and parse_value("1.5") == 1.5
    assert parse_value("true") is True and parse_value("null") is None
    assert parse_value("2025-06-30") == "2025-06-30"  # a date stays ISO text
    assert parse_value("[a, 2]") == ["a", 2]
    assert parse_value("es") == "es" and parse_value("a: [") == "a: ["


def test_unknown_parameter_is_refused_with_a_hint():
    with pytest.raises(ParameterError, match=r"unknown parameter 'lagn' \(did you mean 'lang'\?\)"):
        check_parameters({"lagn": "es"}, DECLARED, "01.ipynb")


def test_path_parameters_are_made_absolute_and_checked(tmp_path):
    (tmp_path / "export.csv").write_text("x\n")
    out = check_parameters({"data": "export.csv", "mapping": "sage", "lang": "es"},
                           DECLARED, "01.ipynb", base_dir=tmp_path)
    assert out["data"] == str((tmp_path / "export.csv").resolve())
    assert out["mapping"] == "sage"  # a preset name, not a path
    assert check_parameters({"data": "sqlite:///x.db"}, DECLARED, "n")["data"] == "sqlite:///x.db"
    with pytest.raises(ParameterError, match="'mapping': file not found"):
        check_parameters({"mapping": "maps/mine.yml"}, DECLARED, "n", base_dir=tmp_path)


def test_standard_values_are_checked_before_running():
    with pytest.raises(ParameterError, match="'lang' must be one of"):
        check_parameters({"lang": "fr"}, DECLARED, "n")
    with pytest.raises(ParameterError, match="n: parameter as_of: '31/12/2025' is not written YYYY-MM-DD"):
        check_parameters({"as_of": "31/12/2025"}, DECLARED, "n")
    assert check_parameters({"as_of": "2025-12-31", "lang": "es"}, DECLARED, "n") == {
        "as_of": "2025-12-31", "lang": "es"}


def test_declared_parameters_survive_comments_papermill_cannot_parse(tmp_path):
    import nbformat

    cell = nbformat.v4.new_code_cell(
        'data = None  # None = bundled sample; a path otherwise\n'
        'colour = "#ff0000"  # hex\n'
        'weights: list = [1, 2]\n'
        'import math\n'
        'n = math.floor(2.5)\n'
    )
    cell.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), cell]
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    declared = declared_parameters(path)
    assert list(declared) == ["data", "colour", "weights", "n"]
    assert declared["data"]["help"] == "None = bundled sample; a path otherwise"
    assert declared["colour"]["default"] == '"#ff0000"' and declared["colour"]["help"] == "hex"
    assert declared["weights"]["inferred_type_name"] == "list"
    assert check_parameters({"data": None, "n": 3}, declared, "n.ipynb") == {"data": None, "n": 3}
