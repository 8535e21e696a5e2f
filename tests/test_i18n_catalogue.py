"""The one vocabulary: both catalogue files hold the same keys, no user-visible text is
chosen by language outside the catalogue, and babel writes numbers, money and percentages
in real locales (tables and chart axes alike)."""

import ast
import re
import string
from pathlib import Path

import pandas as pd
import pytest

import collections_lab as cl
from collections_lab import i18n
from collections_lab.i18n import (
    format_money,
    format_number,
    format_pct,
    messages,
    options,
    t,
    table_html,
    tick_formatter,
)

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "collections_lab"


def test_every_key_exists_in_both_languages():
    en, es = set(messages("en")), set(messages("es"))
    assert sorted(en - es) == [] and sorted(es - en) == []


def test_both_languages_use_the_same_fields():
    def fields(text):
        return {name for _, name, _, _ in string.Formatter().parse(text) if name}

    es = messages("es")
    differ = {k: (fields(v), fields(es[k])) for k, v in messages("en").items()
              if fields(v) != fields(es[k])}
    assert differ == {}


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "i18n" not in path.relative_to(PACKAGE).parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def test_no_language_branches_outside_the_catalogue():
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                    isinstance(c, ast.Constant) and c.value in ("en", "es")
                    for c in node.comparators):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == [], "text chosen by language outside i18n/: use the catalogue"


def test_no_label_dictionaries_outside_the_catalogue():
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict) and {"en", "es"} <= {
                    k.value for k in node.keys if isinstance(k, ast.Constant)}:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert found == [], "label dictionaries keyed by language belong in i18n/messages/"


def test_no_register_calls_or_language_suffixed_columns():
    text = "\n".join(p.read_text(encoding="utf-8") for p, _ in _sources())
    assert not re.search(r"\bregister\(\s*\{", text)
    assert "description_{lang}" not in text and '_{lang}"' not in text


def test_babel_formats_in_real_locales():
    assert format_money(12542457, "COP", locale="es_CO") == "COP 12.542.457"
    assert format_money(41846701.11, "MXN", locale="es_MX") == "MXN 41,846,701.11"
    assert format_money(1234.5, "EUR", locale="es_ES") == "EUR 1.234,50"
    assert format_money(1234.5, "USD", locale="en_US") == "USD 1,234.50"
    assert format_number(1234.5, 1, locale="es_MX") == "1,234.5"
    assert format_number(1234.5, 1, locale="es_CO") == "1.234,5"
    assert format_pct(0.507, 1, locale="es_ES") == "50,7 %"
    assert format_pct(0.507, 1, locale="en_US") == "50.7%"


def test_rounding_does_not_depend_on_the_locale():
    # babel rounds half-even on the decimal text; Python's round on the binary value
    for value in (0.015, 2.675, 1.005, 12542456.5, -0.125):
        assert format_number(value, 2, locale="es_MX") == f"{round(value, 2):,.2f}"


def test_options_is_a_setter_and_a_context_manager():
    with cl.options(lang="es", locale="es_CO"):
        assert (cl.current_lang(), cl.current_locale()) == ("es", "es_CO")
        assert t("paid") == "pagada" and format_money(12542457, "COP") == "COP 12.542.457"
        with options(locale="es_MX"):
            assert format_money(41846701.11, "MXN") == "MXN 41,846,701.11"
        assert cl.current_locale() == "es_CO"
    assert (cl.current_lang(), cl.current_locale()) == ("en", "en_US")
    with options(lang="es", currency="COP"):
        assert cl.current_locale() == "es_CO"
    with pytest.raises(ValueError, match="unknown locale"):
        options(locale="xx_YY")
    with pytest.raises(ValueError, match="unsupported report language"):
        options(lang="fr")


def test_tables_use_the_report_locale():
    frame = pd.DataFrame({"currency": ["COP", "MXN"], "receivables": [12542457.0, 41846701.11],
                          "overdue_share": [0.5071, 0.25]})
    with options(lang="es", locale="es_CO"):
        colombia = table_html(frame)
    with options(lang="es", locale="es_MX"):
        mexico = table_html(frame)
    assert "<td>12.542.457</td>" in colombia and "Cartera" in colombia
    assert "<td>41,846,701</td>" in mexico and "Cartera" in mexico


def test_chart_ticks_use_the_report_locale_without_offsets():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with options(lang="es", locale="es_CO"):
        fig, ax = plt.subplots()
        ax.plot([0, 1], [12_000_000, 14_000_000])
        i18n.format_axis(ax, "y", "money", "COP")
        fig.canvas.draw()
        labels = [x.get_text() for x in ax.get_yticklabels() if x.get_text()]
        plt.close(fig)
    assert "COP 12.000.000" in labels and ax.yaxis.get_offset_text().get_text() == ""
    assert tick_formatter("money", "MXN", locale="es_MX")(41846701.11) == "MXN 41,846,701.11"
    assert tick_formatter("share", locale="en_US")(0.25) == "25%"


def test_the_figure_check_sees_offsets_and_powers_of_ten():
    # show_figure records i18n.axis_multipliers for every report figure, and the sample
    # page test fails on any: the check itself must catch what a reader cannot decode.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2)
    a.plot([0, 1], [12_000_000_000, 12_000_100_000])  # offset and 1e9-style multiplier
    b.plot([0.3, 3], [1, 2])
    b.set_xscale("log")  # 10^0 ticks
    found = " | ".join(i18n.axis_multipliers(fig))
    assert "y axis" in found and "x axis ticks" in found
    # the locale's plain numbers replace the offset; a log axis needs its own formatter
    after = " | ".join(i18n.axis_multipliers(i18n.localize_figure(fig)))
    assert "y axis" not in after and "x axis ticks" in after
    plt.close(fig)


def test_a_report_kernel_sets_the_locale_from_its_parameters():
    from collections_lab.reporting.parameters import ParameterError, check_parameters
    from collections_lab.reporting.tables import use_report_tables

    frame = pd.DataFrame({"currency": ["COP"], "receivables": [12542457.0]})
    use_report_tables("es", currency="COP")  # no IPython here: sets the context only
    assert cl.current_locale() == "es_CO" and "12.542.457" in table_html(frame)
    use_report_tables("es", locale="es_MX", currency="COP")
    assert "12,542,457" in table_html(frame)
    use_report_tables("en")
    assert cl.current_locale() == "en_US"
    declared = {"lang": None, "locale": None}
    assert check_parameters({"locale": "es_CO"}, declared, "r")["locale"] == "es_CO"
    with pytest.raises(ParameterError, match="parameter 'locale'"):
        check_parameters({"locale": "es_XX"}, declared, "r")


def test_summaries_follow_the_context_language_when_none_is_given():
    from collections_lab.model.economics import discount_cost

    cost = discount_cost(cl.example_strategies()["discount_2_10_net_30"])
    assert "a year" in cost.summary()
    with options(lang="es"):
        assert "anual" in cost.summary() and "37,2 %" in cost.summary()
    assert "anual" in cost.summary("es")
