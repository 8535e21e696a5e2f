"""Notebook helpers: escaped summaries, stable pseudonyms, data location and as-of."""

from dataclasses import dataclass

import pandas as pd
import pytest

from collections_lab.data.portfolio import Portfolio
from collections_lab.reporting import notebook as nbh

XSS = "<script>alert(1)</script>"


@dataclass
class _Result:
    def summary(self, lang="en"):
        return {"en": f"Customer {XSS} pays late.", "es": f"El cliente {XSS} paga tarde."}[lang]


def test_summary_escapes_sentences_and_results():
    page = nbh.summary_html(["Plain & simple", _Result()], lang="es")
    assert "Resumen ejecutivo" in page
    assert "Plain &amp; simple" in page
    assert "El cliente &lt;script&gt;alert(1)&lt;/script&gt; paga tarde." in page
    assert XSS not in page


@dataclass
class _Readout:
    def summary_lines(self, lang="en"):
        return ["Arm A: 2 more in 100.", f"Arm {XSS}: unchanged."]

    def summary(self, lang="en"):
        return " ".join(self.summary_lines(lang))


def test_a_result_with_summary_lines_gives_one_bullet_per_line():
    page = nbh.summary_html(["First.", _Readout()], lang="en")
    assert page.count("<li>") == 3
    assert "<li>Arm A: 2 more in 100.</li>" in page
    assert XSS not in page and "Arm &lt;script&gt;" in page


def test_summary_markdown_keeps_formatting_but_not_html():
    page = nbh.summary_html(f"**Cash** is up.\n\n- {XSS}\n- [x](javascript:alert(1))")
    assert "<strong>Cash</strong>" in page and "<li>" in page
    assert XSS not in page and "javascript:" not in page


def test_summary_rejects_other_types():
    with pytest.raises(TypeError, match="markdown string or a list"):
        nbh.summary_html(42)


def test_show_summary_displays_html_and_plain_text(monkeypatch):
    shown = []
    monkeypatch.setattr(nbh, "display_html", lambda h, p, m=None: shown.append((h, p)))
    nbh.show_summary(["a <b>"], lang="en")
    assert "a &lt;b&gt;" in shown[0][0] and shown[0][1] == "- a <b>"


def test_pseudonyms_are_stable_salted_and_keep_missing():
    frame = pd.DataFrame({"customer_id": ["C1", "C2", "C1", None], "x": [1, 2, 3, 4]})
    a = nbh.pseudonymise(frame, "customer_id", salt="s1")
    b = nbh.pseudonymise(frame, "customer_id", salt="s1")
    c = nbh.pseudonymise(frame, "customer_id", salt="s2")
    assert a.equals(b)
    assert a["customer_id"][0] == a["customer_id"][2] != a["customer_id"][1]
    assert a["customer_id"][0] != c["customer_id"][0]
    assert a["customer_id"][0].startswith("C-") and len(a["customer_id"][0]) == 14
    assert pd.isna(a["customer_id"][3])
    assert frame["customer_id"][0] == "C1"  # input untouched
    with pytest.raises(KeyError, match="no column 'client'"):
        nbh.pseudonymise(frame, "client")


def test_pseudonym_salt_from_environment(monkeypatch):
    monkeypatch.setenv(nbh.SECRET_ENV, "secret")
    assert nbh.pseudonym("C1") == nbh.pseudonym("C1", salt="secret")


def test_pseudonymise_portfolio_replaces_ids_everywhere():
    customers = pd.DataFrame({"customer_id": ["C1", "C2"], "name": ["Ana", XSS]})
    invoices = pd.DataFrame({"invoice_id": ["I1", "I2"], "customer_id": ["C2", "C1"]})
    out = nbh.pseudonymise_portfolio(Portfolio(customers, invoices), salt="s")
    assert set(out.invoices["customer_id"]) == set(out.customers["customer_id"])
    assert not set(out.customers["customer_id"]) & {"C1", "C2"}
    assert list(out.customers["name"]) == list(out.customers["customer_id"])
    assert customers["name"][0] == "Ana"


def test_resolve_as_of():
    class P:
        last_date = pd.Timestamp("2025-03-04 13:00")

    assert nbh.resolve_as_of(P(), None) == pd.Timestamp("2025-03-04")
    assert nbh.resolve_as_of(P(), "2025-01-31") == pd.Timestamp("2025-01-31")
    with pytest.raises(ValueError, match="ISO date"):
        nbh.resolve_as_of(P(), "last tuesday")


def test_resolve_data(tmp_path, monkeypatch):
    assert nbh.resolve_data("postgresql://host/db") == "postgresql://host/db"
    with pytest.raises(FileNotFoundError, match="data not found: .*missing.csv"):
        nbh.resolve_data(tmp_path / "missing.csv")
    # the bundled sample is found from the project root, and named when absent
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "pyproject.toml").write_text("")
    monkeypatch.setenv("COLLECTIONS_LAB_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="collections-lab sample-data"):
        nbh.resolve_data(None)
    (tmp_path / "data" / "sample").mkdir(parents=True)
    (tmp_path / "data" / "sample" / "invoices.csv").write_text("x\n")
    assert nbh.resolve_data(None) == str(tmp_path / "data" / "sample")


def test_figure_alt_text():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    assert nbh.figure_alt_text(fig) == "Figure"
    ax.set_title("Days late")
    fig.suptitle("Cash")
    assert nbh.figure_alt_text(fig) == "Cash; Days late"
    plt.close(fig)
