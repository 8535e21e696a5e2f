"""The page grammar (reporting.page) and the index brief built from what pages record."""

from collections_lab.reporting.export import add_navigation
from collections_lab.reporting.index import render_index
from collections_lab.reporting.page import Decision, Tile, format_p, page_top_html


def _run(report, page, title):
    return {"report": report, "status": "ok", "title": title, "html": f"{report}/{report}.html",
            "as_of": "2026-05-31", "started_at": "2026-12-06T10:00:00+00:00",
            "parameters": {"lang": "en"}, "page": page}


def test_index_opens_with_headline_figures_and_current_decisions():
    runs = [
        _run("01_portfolio_health", {"decision": "Call 3 customers.", "facts": {
            "open": {"EUR": 1_629_637.0}, "overdue": {"EUR": 818_610.0},
            "over90": {"EUR": 314_023.0}, "dso": {"EUR": 43.2}, "dso_before": {"EUR": 56.1},
            "month_before": "Apr 2026"}}, "Portfolio health"),
        _run("02_time_to_payment", {"decision": "Plan on cash.",
                                    "facts": {"cash_4w": {"EUR": 820_500.0}}}, "Time to payment"),
        _run("04_experiment_readout", {"decision": "Keep the <b>experiment</b> running.",
                                       "facts": {"decision": "keep_running"}}, "Readout"),
    ]
    page = render_index(runs)
    brief = page.split("s brief</h2>", 1)[1].split("<table>", 1)[0]
    for figure in ("EUR 1.6M", "EUR 818.6K", "EUR 314K", "EUR 43 (Apr 2026: 56)", "EUR 820.5K"):
        assert figure in brief, figure
    assert "Keep the &lt;b&gt;experiment&lt;/b&gt; running." in brief  # escaped
    assert "Call 3 customers." not in brief  # decisions come from the readout and the lab
    assert "6 months before this run" in page  # each report's freshness
    assert "brief</h2>" not in render_index([_run("x", None, "X")])  # nothing recorded: no brief


def test_page_top_and_navigation():
    top = page_top_html(Decision("Do <x>.", "Sure.", "EUR 1M."),
                        [Tile("Open", "EUR 1M", "+3.0%", "Apr 2026")], "2026-05-31", "es",
                        today="2026-05-31")
    assert "Do &lt;x&gt;." in top and "al día en esta ejecución" in top
    assert "frente a Apr 2026:\n+3.0%" in top
    body = add_navigation(f'<main><h1 id="T">T</h1>{top}<h2 id="A">A<a class="anchor-link" '
                          'href="#A">¶</a></h2></main>', "es")
    assert '<a href="../index.html">← Todos los informes</a>' in body
    assert body.index("cl-toc") > body.index("cl-tiles")  # the contents follow the page top
    assert '<li><a href="#A">A</a></li>' in body and "¶</a></li>" not in body
    assert format_p(0.0004) == "< 0.001" and format_p(0.2) == "= 0.200"


def test_segment_table_shows_estimates_and_says_why_the_rest_are_missing(monkeypatch):
    """Page 04's segment table was 21 rows of dashes among 28, with no word on why."""
    from types import SimpleNamespace

    import numpy as np
    import pandas as pd

    from collections_lab.experiments.metrics import MetricConfig
    from collections_lab.reporting import notebook, page

    shown = []
    monkeypatch.setattr(notebook, "display_html", lambda html, plain, *a: shown.append(html))
    seg = pd.DataFrame({"segment": ["large", "large", "small"], "arm": ["a", "b", "a"],
                        "metric": "paid_by_due_d", "effect": [0.0378, np.nan, 0.0621],
                        "ci_low": [-0.0577, np.nan, 0.0203], "ci_high": [0.1334, np.nan, 0.1038],
                        "p_value": [0.43, np.nan, 0.004], "n_customers": [62, 61, 223],
                        "p_bh": [0.43, np.nan, 0.01]})
    readout = SimpleNamespace(segments=seg, config=MetricConfig(due_plus_days=15))
    page.show_segments(readout, "es")
    html = shown[0]
    first = html.split("<details")[0]
    assert "3,8" in first and "6,2" in first and "grandes" in first  # points, Spanish
    assert first.count("<tr") == 3  # header + the two estimable rows
    assert "No se muestran 1 de las 3 filas" in html and "+ 15 días" in html
    assert html.count("<tr") == 3 + 4  # and all three rows folded below
    assert seg["effect"].iloc[0] == 0.0378  # the readout's table is untouched
